//! The buffer a plain file's chunks are read into: its bytes sit at the
//! same offset within a page as the file's.
//!
//! Why (measured, BENCHMARKS.md "The read buffer's alignment"): a large
//! `Vec<u8>` comes from glibc's `mmap` path and starts 16 bytes past a page
//! boundary, and the kernel's copy out of the page cache (`pread`,
//! `_copy_to_iter`) into such a destination ran 4x slower on the project's
//! machines (AMD EPYC) than when the destination sits at the same offset in
//! a page as the source: 0.81 s against 0.21 s of system time for the 1.1 GB
//! benchmark log in 512 KiB reads. The copy was a quarter of the whole
//! report's CPU time.

/// The page size the kernel copies from: a [`ReadBuffer`]'s bytes sit at
/// the same offset in a page as the file offset they are read from.
pub const READ_ALIGN: usize = 4096;

/// A growable byte buffer for positional reads whose bytes are placed
/// ([`ReadBuffer::place_for`]) at the same offset within a page as the file
/// offset they come from, so the kernel's copy runs aligned on both sides
/// (what counts is the source and the destination agreeing modulo the cache
/// line: a page-aligned buffer filled from offset `k * 512 KiB - 1` is as
/// slow as a misaligned one). It is allocated two pages larger than asked
/// and used from the right byte of the allocation: no unsafe code, the
/// alignment is found, not requested from the allocator.
#[derive(Default)]
pub struct ReadBuffer {
    storage: Vec<u8>,
    /// The first page-aligned index of `storage`.
    start: usize,
    /// Where the bytes begin after `start` (below [`READ_ALIGN`]).
    lead: usize,
}

impl ReadBuffer {
    pub fn new() -> Self {
        ReadBuffer::default()
    }

    /// Places the bytes for a read from file offset `offset`: what was in
    /// the buffer is no longer kept.
    pub fn place_for(&mut self, offset: u64) {
        self.lead = (offset % READ_ALIGN as u64) as usize;
    }

    /// The buffer's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.storage.get(self.start + self.lead..).unwrap_or(&[])
    }

    /// The buffer's bytes, to read into.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.storage
            .get_mut(self.start + self.lead..)
            .unwrap_or(&mut [])
    }

    /// Makes the buffer at least `len` bytes long, keeping its first `keep`
    /// bytes (at most its length); the bytes after them are unspecified.
    pub fn grow(&mut self, len: usize, keep: usize) {
        let have = self.bytes().len();
        if have >= len {
            return;
        }
        let keep = keep.min(have);
        // Grown at least twofold, as a `Vec` grows, so that a long line read
        // in steps costs linear time.
        let len = len.max(have.saturating_mul(2));
        let mut storage = vec![0u8; len + 2 * READ_ALIGN];
        let start = aligned_start(&storage);
        let at = start + self.lead;
        storage[at..at + keep].copy_from_slice(&self.bytes()[..keep]);
        self.storage = storage;
        self.start = start;
    }
}

/// The index of the first [`READ_ALIGN`]-aligned byte of `storage`
/// (at most `READ_ALIGN - 1`).
fn aligned_start(storage: &[u8]) -> usize {
    let address = storage.as_ptr().addr();
    (READ_ALIGN - address % READ_ALIGN) % READ_ALIGN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_sit_where_the_file_offset_sits_in_a_page_and_survive_growth() {
        let cases = [
            ("page start", 0u64),
            ("one before a chunk", 512 * 1024 - 1),
            ("odd", 12_345),
        ];
        for (name, offset) in cases {
            let mut buffer = ReadBuffer::new();
            assert!(buffer.bytes().is_empty(), "{name}");
            buffer.place_for(offset);
            assert!(
                buffer.bytes().is_empty(),
                "{name}: placing allocates nothing"
            );
            buffer.grow(100, 0);
            let in_page = |buffer: &ReadBuffer| buffer.bytes().as_ptr().addr() % READ_ALIGN;
            let wanted = (offset % READ_ALIGN as u64) as usize;
            assert_eq!(in_page(&buffer), wanted, "{name}");
            assert!(buffer.bytes().len() >= 100, "{name}");
            buffer.bytes_mut()[..5].copy_from_slice(b"hello");
            for (len, keep) in [(150, 5), (10_000, 5), (1 << 20, 3)] {
                buffer.grow(len, keep);
                assert_eq!(in_page(&buffer), wanted, "{name}: grown to {len}");
                assert!(buffer.bytes().len() >= len, "{name}: grown to {len}");
                assert_eq!(
                    &buffer.bytes()[..keep],
                    &b"hello"[..keep],
                    "{name}: grown to {len}"
                );
            }
            // Asking for less than it holds changes nothing.
            let before = buffer.bytes().as_ptr();
            buffer.grow(10, 10);
            assert_eq!(buffer.bytes().as_ptr(), before, "{name}");
            // Placed for another offset, the same storage serves.
            buffer.place_for(offset + 1);
            assert_eq!(
                in_page(&buffer),
                ((offset + 1) % READ_ALIGN as u64) as usize,
                "{name}"
            );
            assert!(buffer.bytes().len() >= 1 << 19, "{name}");
        }
    }
}
