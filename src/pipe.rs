//! A bounded pipe of byte pieces from one thread to another.
//!
//! Where bytes are read on one thread and used on another (hashing while
//! validating, reading a blob while an HTTP request sends it), they go in
//! pieces through a bounded queue, and the emptied pieces come back to be
//! filled again: at most `queue` pieces wait, one is being read and one
//! filled, whatever the stream's length. The writer can wait for room with a
//! deadline ([`PieceWriter::send_timeout`]), which is how a reader that has
//! stopped taking bytes (a stalled upload) is noticed. `std::io::pipe` is a
//! kernel pipe (copies through the kernel, 64 KiB of buffer, no deadline);
//! this keeps the bytes in the process and passes read errors on as they are.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

struct State {
    queue: VecDeque<io::Result<Vec<u8>>>,
    /// Emptied pieces, for the writer to fill again.
    spare: Vec<Vec<u8>>,
    /// Pieces the reader has taken so far.
    taken: u64,
    writer_gone: bool,
    reader_gone: bool,
}

struct Shared {
    capacity: usize,
    state: Mutex<State>,
    /// Signalled when a piece is queued or the writer goes.
    readable: Condvar,
    /// Signalled when a piece is taken or the reader goes.
    writable: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writing end: fills pieces and sends them.
pub(crate) struct PieceWriter {
    shared: Arc<Shared>,
}

/// The reading end: a [`Read`] over the pieces, in order; end of stream once
/// the writer is dropped.
pub(crate) struct PieceReader {
    shared: Arc<Shared>,
    current: Vec<u8>,
    pos: usize,
}

/// Why [`PieceWriter::send_timeout`] did not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFailure {
    /// The reader is gone.
    Gone,
    /// The reader took no piece for the whole deadline.
    Stalled,
}

/// A pipe in which at most `queue` pieces wait for the reader.
pub(crate) fn pipe(queue: usize) -> (PieceWriter, PieceReader) {
    let shared = Arc::new(Shared {
        capacity: queue.max(1),
        state: Mutex::new(State {
            queue: VecDeque::new(),
            spare: Vec::new(),
            taken: 0,
            writer_gone: false,
            reader_gone: false,
        }),
        readable: Condvar::new(),
        writable: Condvar::new(),
    });
    (
        PieceWriter {
            shared: Arc::clone(&shared),
        },
        PieceReader {
            shared,
            current: Vec::new(),
            pos: 0,
        },
    )
}

impl PieceWriter {
    /// A buffer of `len` bytes for the next piece (one the reader gave back
    /// when there is one).
    pub(crate) fn buffer(&self, len: usize) -> Vec<u8> {
        let mut piece = self.shared.lock().spare.pop().unwrap_or_default();
        piece.resize(len, 0);
        piece
    }

    /// Sends a piece, waiting as long as the queue is full; `false` when the
    /// reader is gone.
    pub(crate) fn send(&self, piece: Vec<u8>) -> bool {
        self.push(Ok(piece), None).is_ok()
    }

    /// Sends a piece, waiting for room at most `stall` after the reader last
    /// took a piece.
    pub(crate) fn send_timeout(&self, piece: Vec<u8>, stall: Duration) -> Result<(), SendFailure> {
        self.push(Ok(piece), Some(stall))
    }

    /// Sends an error, which the reader returns after the pieces sent
    /// before it (send nothing more after it).
    pub(crate) fn fail(&self, error: io::Error) {
        let mut state = self.shared.lock();
        state.queue.push_back(Err(error));
        self.shared.readable.notify_one();
    }

    /// A handle that tells how the reader gets on, after the writer is gone.
    pub(crate) fn watcher(&self) -> Watcher {
        Watcher(Arc::clone(&self.shared))
    }

    fn push(&self, item: io::Result<Vec<u8>>, stall: Option<Duration>) -> Result<(), SendFailure> {
        let mut state = self.shared.lock();
        let mut deadline = stall.map(|s| (Instant::now() + s, state.taken));
        loop {
            if state.reader_gone {
                return Err(SendFailure::Gone);
            }
            if state.queue.len() < self.shared.capacity {
                state.queue.push_back(item);
                self.shared.readable.notify_one();
                return Ok(());
            }
            match deadline {
                None => {
                    state = self
                        .shared
                        .writable
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Some((at, taken_then)) => {
                    if state.taken != taken_then {
                        // The reader moves: the deadline runs from its last piece.
                        deadline = stall.map(|s| (Instant::now() + s, state.taken));
                        continue;
                    }
                    let now = Instant::now();
                    if now >= at {
                        return Err(SendFailure::Stalled);
                    }
                    state = self
                        .shared
                        .writable
                        .wait_timeout(state, at - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

/// How the reader of a pipe gets on ([`PieceWriter::watcher`]).
pub(crate) struct Watcher(Arc<Shared>);

impl Watcher {
    /// Pieces the reader has taken so far.
    pub(crate) fn taken(&self) -> u64 {
        self.0.lock().taken
    }

    /// Pieces (or an error) waiting for the reader.
    pub(crate) fn queued(&self) -> usize {
        self.0.lock().queue.len()
    }
}

impl Drop for PieceWriter {
    fn drop(&mut self) {
        self.shared.lock().writer_gone = true;
        self.shared.readable.notify_all();
    }
}

impl Drop for PieceReader {
    fn drop(&mut self) {
        self.shared.lock().reader_gone = true;
        self.shared.writable.notify_all();
    }
}

impl Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            let mut state = self.shared.lock();
            loop {
                if let Some(item) = state.queue.pop_front() {
                    state.taken += 1;
                    self.shared.writable.notify_one();
                    let next = item?;
                    let done = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    // Back to the writer for reuse (at most two kept).
                    if state.spare.len() < 2 {
                        state.spare.push(done);
                    }
                    break;
                }
                if state.writer_gone {
                    return Ok(0);
                }
                state = self
                    .shared
                    .readable
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_every_byte_in_order_then_the_error() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let (writer, mut reader) = pipe(2);
        let sent = data.clone();
        let producer = std::thread::spawn(move || {
            for chunk in sent.chunks(7_000) {
                let mut piece = writer.buffer(chunk.len());
                piece.copy_from_slice(chunk);
                assert!(writer.send(piece));
            }
            writer.fail(io::Error::other("source broke"));
        });
        let mut got = Vec::new();
        let err = reader.read_to_end(&mut got).unwrap_err();
        producer.join().unwrap();
        assert_eq!(got, data);
        assert_eq!(err.to_string(), "source broke");
    }

    #[test]
    fn a_gone_reader_is_reported_to_the_writer() {
        let (writer, reader) = pipe(1);
        drop(reader);
        assert!(!writer.send(vec![1, 2, 3]));
        assert_eq!(
            writer.send_timeout(vec![1], Duration::from_secs(5)),
            Err(SendFailure::Gone)
        );
    }

    #[test]
    fn a_reader_that_takes_nothing_is_a_stall_and_a_slow_one_is_not() {
        let (writer, mut reader) = pipe(1);
        let short = Duration::from_millis(50);
        assert_eq!(writer.send_timeout(vec![1], short), Ok(()));
        // The queue is full and nobody reads.
        assert_eq!(
            writer.send_timeout(vec![2], short),
            Err(SendFailure::Stalled)
        );
        // A reader taking a piece every 20 ms keeps a 50 ms deadline alive.
        let slow = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut byte = [0u8; 1];
            loop {
                std::thread::sleep(Duration::from_millis(20));
                match reader.read(&mut byte) {
                    Ok(0) => return got,
                    Ok(_) => got.push(byte[0]),
                    Err(e) => panic!("{e}"),
                }
            }
        });
        for b in 3..8u8 {
            assert_eq!(writer.send_timeout(vec![b], short), Ok(()));
        }
        drop(writer);
        assert_eq!(slow.join().unwrap(), vec![1, 3, 4, 5, 6, 7]);
        assert!(writer_taken_counts());
    }

    fn writer_taken_counts() -> bool {
        let (writer, mut reader) = pipe(4);
        assert!(writer.send(vec![1]));
        assert!(writer.send(vec![2]));
        let watcher = writer.watcher();
        drop(writer);
        assert_eq!(watcher.queued(), 2);
        let mut two = [0u8; 2];
        reader.read_exact(&mut two).unwrap();
        watcher.taken() == 2 && watcher.queued() == 0
    }
}
