//! Where bytes come from: expanding the command line's inputs into sources
//! (files, every regular file below a directory, standard input), opening
//! them with gzip detected from content, and cutting the stream into large
//! blocks that end on a line boundary.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use memchr::memrchr;

use crate::config::InputSpec;
use crate::error::{Error, Result};

/// One stream of log lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    /// The name reports use: the path as given, or `-`.
    pub fn display(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Stdin => "-".to_string(),
        }
    }
}

/// A path found inside a directory that could not be read.
pub type Unreadable = (PathBuf, io::Error);

/// Expands inputs into sources, in the order given; a directory becomes every
/// regular file below it in path order, hidden files and folders skipped.
/// A path that does not exist is an error; an unreadable entry inside a
/// directory is returned so it can be reported while the rest is analysed.
pub fn expand_inputs(inputs: &[InputSpec]) -> Result<(Vec<Source>, Vec<Unreadable>)> {
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for input in inputs {
        match input {
            InputSpec::Stdin => sources.push(Source::Stdin),
            InputSpec::Path(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                if metadata.is_dir() {
                    walk_directory(path, &mut sources, &mut unreadable);
                } else {
                    sources.push(Source::File(path.clone()));
                }
            }
        }
    }
    Ok((sources, unreadable))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn walk_directory(directory: &Path, sources: &mut Vec<Source>, unreadable: &mut Vec<Unreadable>) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(e) => {
            unreadable.push((directory.to_path_buf(), e));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| !is_hidden(p))
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk_directory(&path, sources, unreadable),
            Ok(m) if m.is_file() => sources.push(Source::File(path)),
            Ok(_) => {}
            Err(e) => unreadable.push((path, e)),
        }
    }
}

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened source: its decoded byte stream, its size on disk and a counter
/// of the bytes taken from disk so far (for progress), with gzip recognised
/// by its magic bytes, not its name.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub compressed: bool,
    pub size_on_disk: Option<u64>,
    pub raw_bytes_read: Arc<AtomicU64>,
}

/// Counts the bytes read from the underlying file, below any decoder.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Buffer size for reading files and standard input.
const READ_BUFFER_BYTES: usize = 1 << 20;

pub fn open(source: &Source) -> io::Result<Opened> {
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = match source {
        Source::File(path) => {
            let file = File::open(path)?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        }
        Source::Stdin => (Box::new(io::stdin()), None),
    };
    let raw_bytes_read = Arc::new(AtomicU64::new(0));
    let counting = CountingReader {
        inner: raw,
        count: Arc::clone(&raw_bytes_read),
    };
    let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, counting);
    let head = buffered.fill_buf()?;
    let compressed = head.starts_with(&GZIP_MAGIC);
    let reader: Box<dyn Read + Send> = if compressed {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(Opened {
        reader,
        compressed,
        size_on_disk: size,
        raw_bytes_read,
    })
}

/// Target size of a block handed to the parsers.
pub const BLOCK_BYTES: usize = 8 << 20;

/// Reads a decoded stream in blocks of about [`BLOCK_BYTES`] that end after a
/// newline (or at the end of the input), so no line is split across blocks.
pub struct BlockReader<R> {
    reader: R,
    carry: Vec<u8>,
    finished: bool,
    /// Compressed or raw bytes consumed so far are not visible through a
    /// decoder, so progress counts decoded bytes.
    pub decoded_bytes: u64,
}

/// What one read produced: a block, and the error that ended the stream
/// early, if any (a truncated gzip file still yields what could be read).
pub struct Block {
    pub bytes: Vec<u8>,
    pub error: Option<io::Error>,
}

impl<R: Read> BlockReader<R> {
    pub fn new(reader: R) -> Self {
        BlockReader {
            reader,
            carry: Vec::new(),
            finished: false,
            decoded_bytes: 0,
        }
    }

    /// The next block, or `None` at the end of the input.
    pub fn next_block(&mut self) -> Option<Block> {
        if self.finished {
            return None;
        }
        let mut buffer = std::mem::take(&mut self.carry);
        buffer.reserve(BLOCK_BYTES.saturating_sub(buffer.len()));
        let mut error = None;
        loop {
            let filled = buffer.len();
            if filled >= BLOCK_BYTES && memrchr(b'\n', &buffer).is_some() {
                break;
            }
            let want = BLOCK_BYTES.max(filled + READ_BUFFER_BYTES);
            buffer.resize(want, 0);
            match self.reader.read(&mut buffer[filled..]) {
                Ok(0) => {
                    buffer.truncate(filled);
                    self.finished = true;
                    break;
                }
                Ok(n) => {
                    buffer.truncate(filled + n);
                    self.decoded_bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => buffer.truncate(filled),
                Err(e) => {
                    buffer.truncate(filled);
                    self.finished = true;
                    error = Some(e);
                    break;
                }
            }
        }
        if !self.finished
            && let Some(last_newline) = memrchr(b'\n', &buffer)
        {
            self.carry = buffer.split_off(last_newline + 1);
        }
        if buffer.is_empty() && error.is_none() {
            return None;
        }
        Some(Block {
            bytes: buffer,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn blocks_end_on_line_boundaries_and_keep_every_byte() {
        let mut text = Vec::new();
        for i in 0..400_000 {
            writeln!(text, "line number {i} with some padding to make it longer").expect("vec");
        }
        text.extend_from_slice(b"last line without newline");
        let mut reader = BlockReader::new(&text[..]);
        let mut joined = Vec::new();
        let mut blocks = 0;
        while let Some(block) = reader.next_block() {
            assert!(block.error.is_none());
            if reader.next_is_pending() {
                assert_eq!(
                    block.bytes.last(),
                    Some(&b'\n'),
                    "block {blocks} ends a line"
                );
            }
            joined.extend_from_slice(&block.bytes);
            blocks += 1;
        }
        assert!(blocks >= 2, "the input spans several blocks");
        assert_eq!(joined, text);
    }

    #[test]
    fn truncated_gzip_yields_what_was_readable_and_the_error() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..50_000 {
            writeln!(encoder, "line {i}").expect("vec");
        }
        let compressed = encoder.finish().expect("vec");
        let cut = &compressed[..compressed.len() / 2];
        let mut reader = BlockReader::new(MultiGzDecoder::new(cut));
        let mut bytes = 0;
        let mut saw_error = false;
        while let Some(block) = reader.next_block() {
            bytes += block.bytes.len();
            saw_error |= block.error.is_some();
        }
        assert!(saw_error, "the damage is reported");
        assert!(bytes > 10_000, "the readable part is used: {bytes}");
    }

    impl<R: Read> BlockReader<R> {
        fn next_is_pending(&self) -> bool {
            !self.finished
        }
    }
}
