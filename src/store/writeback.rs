//! Early write-back of large blob files.
//!
//! A layout store makes every blob durable (`fsync`) before `index.json`
//! points at it. Left to itself, the kernel starts writing a file's pages to
//! disk only when they have aged or memory is short, so the final `fsync`
//! of a large blob waits for all of it at once, after the reading and
//! hashing are done. [`Writeback`] asks the kernel to start writing each
//! step of [`WRITEBACK_STEP`] bytes as soon as it has been written
//! (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux, which does not wait),
//! so the disk works while the next bytes are read and hashed and the final
//! `fsync` finds little left to do. On other systems it only forwards writes.

use std::fs::File;
use std::io::{self, Write};

/// Bytes written between two write-back requests.
pub(crate) const WRITEBACK_STEP: u64 = 8 << 20;

/// A writer over a file that starts write-back of what it has written, step by step.
pub(crate) struct Writeback<'a> {
    file: &'a File,
    written: u64,
    requested: u64,
}

impl<'a> Writeback<'a> {
    /// Writes to `file` from its current position, which must be its start.
    pub(crate) fn new(file: &'a File) -> Self {
        Writeback {
            file,
            written: 0,
            requested: 0,
        }
    }

    fn request(&mut self) {
        if self.written - self.requested >= WRITEBACK_STEP {
            start_writeback(self.file, self.requested, self.written - self.requested);
            self.requested = self.written;
        }
    }
}

impl Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        self.request();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks the kernel to start writing `len` bytes of `file` from `offset`.
/// Best effort: the `fsync` that follows is what makes the bytes durable,
/// so a failure here changes nothing but timing.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor belongs to `file`, borrowed for the call;
    // sync_file_range reads no memory of this process.
    let _ = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek};

    #[test]
    fn forwards_every_byte() {
        let mut file = tempfile::tempfile().expect("temp file");
        let step = WRITEBACK_STEP as usize;
        let data: Vec<u8> = (0..(step * 2 + step / 2))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut w = Writeback::new(&file);
        for piece in data.chunks(1 << 20) {
            w.write_all(piece).expect("write");
        }
        // A request after each full step; the last partial step is left to fsync.
        assert_eq!(w.written, data.len() as u64);
        assert_eq!(w.requested, 2 * WRITEBACK_STEP);
        file.rewind().expect("rewind");
        let mut back = Vec::new();
        file.read_to_end(&mut back).expect("read");
        assert_eq!(back, data);
    }
}
