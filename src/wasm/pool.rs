//! Function bodies validated on worker threads.
//!
//! Validating the operators of function bodies is what dominates full
//! validation of a large module (`wasmparser` walks every operator; the
//! sections around them are small). `wasmparser` is designed for this split:
//! [`Validator::code_section_entry`](wasmparser::Validator::code_section_entry)
//! gives a [`FuncToValidate`] that can be sent to another thread while the
//! validator goes on with the next body.
//!
//! The framer copies bodies into batches of about [`BATCH_BYTES`] and sends
//! them over a bounded channel to `workers` threads, each with its own
//! [`FuncValidatorAllocations`]. Memory is bounded: at most
//! [`QUEUE_BATCHES`] batches wait, one more is being filled, and each worker
//! holds one; a body larger than a batch is validated by the caller instead.
//!
//! Errors are the same as in sequential validation: bodies are numbered, a
//! worker records the failing body with the lowest number and skips the
//! bodies after it, and [`BodyPool::finish`] waits for every body sent, so the
//! error returned is the one of the first invalid body.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use wasmparser::{
    BinaryReader, FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources,
    WasmFeatures,
};

use super::WasmError;

/// Target size of a batch of bodies sent to a worker.
pub(super) const BATCH_BYTES: usize = 256 << 10;
/// Batches that may wait for a worker.
const QUEUE_BATCHES: usize = 4;

/// One body of a batch: where its bytes are in the batch buffer.
struct Entry {
    func: FuncToValidate<ValidatorResources>,
    /// Sequence number of the body (order in the binary).
    seq: u64,
    /// Absolute offset of the body's first byte.
    offset: u64,
    start: usize,
    end: usize,
}

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// The first failure, by body sequence number.
#[derive(Default)]
struct Failure {
    first: Option<(u64, WasmError)>,
}

struct Shared {
    failure: Mutex<Failure>,
    failed: AtomicBool,
    features: WasmFeatures,
}

impl Shared {
    fn record(&self, seq: u64, error: WasmError) {
        let mut f = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if f.first.as_ref().is_none_or(|(s, _)| seq < *s) {
            f.first = Some((seq, error));
        }
        self.failed.store(true, Ordering::Release);
    }

    fn first_failing_seq(&self) -> Option<u64> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        let f = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        f.first.as_ref().map(|(s, _)| *s)
    }
}

/// Worker threads validating function bodies.
pub(super) struct BodyPool {
    shared: Arc<Shared>,
    sender: Option<SyncSender<Batch>>,
    recycled: Receiver<Batch>,
    workers: Vec<JoinHandle<()>>,
    current: Batch,
    next_seq: u64,
}

impl BodyPool {
    /// Starts `workers` threads (at least one).
    pub(super) fn new(workers: usize, features: WasmFeatures) -> Self {
        let shared = Arc::new(Shared {
            failure: Mutex::new(Failure::default()),
            failed: AtomicBool::new(false),
            features,
        });
        let (sender, receiver) = sync_channel::<Batch>(QUEUE_BATCHES);
        let receiver = Arc::new(Mutex::new(receiver));
        // Emptied batches come back for reuse; bounded by the batches in flight.
        let (recycle, recycled) = sync_channel::<Batch>(QUEUE_BATCHES + workers.max(1) + 1);
        let workers = (0..workers.max(1))
            .map(|_| {
                let shared = Arc::clone(&shared);
                let receiver = Arc::clone(&receiver);
                let recycle = recycle.clone();
                std::thread::spawn(move || work(&shared, &receiver, &recycle))
            })
            .collect();
        BodyPool {
            shared,
            sender: Some(sender),
            recycled,
            workers,
            current: Batch::default(),
            next_seq: 0,
        }
    }

    /// Whether a worker found an invalid body (then [`BodyPool::finish`] says which).
    pub(super) fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Queues one body (`bytes` starting at absolute `offset`), or validates
    /// it here when it is larger than a batch. An error returned here is the
    /// caller's body's own; errors of queued bodies come from `finish`.
    pub(super) fn submit(
        &mut self,
        func: FuncToValidate<ValidatorResources>,
        bytes: &[u8],
        offset: u64,
        allocs: &mut Option<FuncValidatorAllocations>,
    ) -> Result<(), WasmError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        if bytes.len() > BATCH_BYTES {
            let body = FunctionBody::new(BinaryReader::new_features(
                bytes,
                offset,
                self.shared.features,
            ));
            let mut fv = func.into_validator(allocs.take().unwrap_or_default());
            let result = fv.validate(&body);
            *allocs = Some(fv.into_allocations());
            return result.map_err(super::machine::invalid);
        }
        if self.current.bytes.len() + bytes.len() > BATCH_BYTES {
            self.flush();
        }
        let start = self.current.bytes.len();
        self.current.bytes.extend_from_slice(bytes);
        self.current.entries.push(Entry {
            func,
            seq,
            offset,
            start,
            end: start + bytes.len(),
        });
        Ok(())
    }

    /// Sends the batch being filled.
    fn flush(&mut self) {
        if self.current.entries.is_empty() {
            return;
        }
        let fresh = self.recycled.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut self.current, fresh);
        if let Some(sender) = &self.sender
            && sender.send(batch).is_err()
        {
            // Every worker is gone (a panic): nothing validates the rest.
            self.shared.record(
                u64::MAX,
                WasmError::Invalid {
                    offset: 0,
                    message: "function body validation stopped unexpectedly".into(),
                },
            );
        }
    }

    /// Waits for every queued body; the error of the first invalid one.
    pub(super) fn finish(&mut self) -> Result<(), WasmError> {
        self.flush();
        self.sender = None;
        for worker in self.workers.drain(..) {
            if worker.join().is_err() {
                self.shared.record(
                    u64::MAX,
                    WasmError::Invalid {
                        offset: 0,
                        message: "function body validation stopped unexpectedly".into(),
                    },
                );
            }
        }
        let mut f = self
            .shared
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match f.first.take() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for BodyPool {
    fn drop(&mut self) {
        // Stop the workers: they skip whatever is left once told it failed.
        self.shared.failed.store(true, Ordering::Release);
        self.shared
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first
            .get_or_insert((
                0,
                WasmError::Invalid {
                    offset: 0,
                    message: "abandoned".into(),
                },
            ));
        self.sender = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

fn work(shared: &Shared, receiver: &Mutex<Receiver<Batch>>, recycle: &SyncSender<Batch>) {
    let mut allocs = FuncValidatorAllocations::default();
    loop {
        let batch = {
            let receiver = receiver.lock().unwrap_or_else(PoisonError::into_inner);
            receiver.recv()
        };
        let Ok(mut batch) = batch else {
            return;
        };
        for entry in batch.entries.drain(..) {
            if shared
                .first_failing_seq()
                .is_some_and(|first| first < entry.seq)
            {
                continue;
            }
            let body = FunctionBody::new(BinaryReader::new_features(
                &batch.bytes[entry.start..entry.end],
                entry.offset,
                shared.features,
            ));
            let mut fv = entry.func.into_validator(allocs);
            let result = fv.validate(&body);
            allocs = fv.into_allocations();
            if let Err(e) = result {
                shared.record(entry.seq, super::machine::invalid(e));
            }
        }
        batch.bytes.clear();
        let _ = recycle.try_send(batch);
    }
}
