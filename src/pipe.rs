//! A bounded pipe of byte pieces from one thread to another.
//!
//! Where bytes are read on one thread and used on another (hashing while
//! validating, reading a blob while an HTTP request sends it), they go in
//! pieces through a bounded channel, and the emptied pieces come back to be
//! filled again: at most `queue + 2` pieces exist, whatever the stream's
//! length. `std::io::pipe` is a kernel pipe (copies through the kernel,
//! 64 KiB of buffer, not portable to every target); this keeps the bytes in
//! the process and passes read errors on as they are.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// The writing end: fills pieces and sends them.
pub(crate) struct PieceWriter {
    tx: SyncSender<io::Result<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
}

/// The reading end: a [`Read`] over the pieces, in order; end of stream once
/// the writer is dropped.
pub(crate) struct PieceReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

/// A pipe in which at most `queue` pieces wait for the reader.
pub(crate) fn pipe(queue: usize) -> (PieceWriter, PieceReader) {
    let (tx, rx) = sync_channel(queue);
    let (back_tx, back_rx) = sync_channel(queue + 2);
    (
        PieceWriter { tx, back: back_rx },
        PieceReader {
            rx,
            back: back_tx,
            current: Vec::new(),
            pos: 0,
        },
    )
}

impl PieceWriter {
    /// A buffer of `len` bytes for the next piece (one the reader gave back
    /// when there is one).
    pub(crate) fn buffer(&self, len: usize) -> Vec<u8> {
        let mut piece = self.back.try_recv().unwrap_or_default();
        piece.resize(len, 0);
        piece
    }

    /// Sends a piece; `false` when the reader is gone.
    pub(crate) fn send(&self, piece: Vec<u8>) -> bool {
        self.tx.send(Ok(piece)).is_ok()
    }

    /// Sends an error, which the reader returns after the pieces sent
    /// before it (send nothing more after it).
    pub(crate) fn fail(&self, error: io::Error) {
        let _ = self.tx.send(Err(error));
    }
}

impl Read for PieceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let done = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    // Back to the writer for reuse (dropped if it is gone or has enough).
                    let _ = self.back.try_send(done);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
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
    }
}
