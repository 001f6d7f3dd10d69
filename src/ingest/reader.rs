//! Where bytes come from: expanding the command line's inputs into sources
//! (files, every regular file below a directory, standard input), opening
//! them with gzip detected from content, and cutting the decoded stream into
//! chunks of whole lines read into reused buffers.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;
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

/// Buffer in front of a file or standard input: enough to see the gzip
/// magic and to feed the decoder, and smaller than a chunk, so that reading
/// a plain file into a chunk bypasses it (`BufReader` hands reads at least as
/// large as its buffer straight to the file) instead of copying twice.
const READ_BUFFER_BYTES: usize = 128 << 10;

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

/// Target size of a chunk handed to one parser thread: small enough that
/// both cores stay busy to the last chunk and a handful of chunks in flight
/// cost little memory, large enough that handing one over (a channel send)
/// is noise next to parsing its ~4500 lines. Used for standard input and
/// gzip; plain files are read in [`super::pipeline::FILE_CHUNK_BYTES`].
pub const CHUNK_BYTES: usize = 1 << 20;

/// Reads a decoded stream in chunks of whole lines: each chunk ends after a
/// newline (or at the end of the input), so no line is split across chunks.
/// The caller supplies the buffer and gets it back filled, so a few buffers
/// are reused for the whole input instead of allocating (and zeroing) one
/// per chunk.
pub struct ChunkReader<R> {
    reader: R,
    /// The start of a line that did not fit in the previous chunk.
    carry: Vec<u8>,
    finished: bool,
}

/// What one fill produced: the chunk is the first `len` bytes of the buffer,
/// and `error` is what ended the stream early, if anything (a truncated gzip
/// file still yields what could be read).
pub struct Chunk {
    pub len: usize,
    pub error: Option<io::Error>,
}

impl<R: Read> ChunkReader<R> {
    pub fn new(reader: R) -> Self {
        ChunkReader {
            reader,
            carry: Vec::new(),
            finished: false,
        }
    }

    /// Whether the end of the input was reached.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The bytes not handed out yet, as a stream: the start of a line kept
    /// back, then the rest of the input.
    pub fn into_stream(self) -> io::Chain<io::Cursor<Vec<u8>>, R> {
        io::Cursor::new(self.carry).chain(self.reader)
    }

    /// Fills `buffer` with the next run of whole lines, about `target` bytes
    /// (more when one line is longer: the buffer then grows), or `None` at
    /// the end of the input. The buffer's length only grows; the chunk is
    /// `buffer[..len]`.
    pub fn fill(&mut self, buffer: &mut Vec<u8>, target: usize) -> Option<Chunk> {
        if self.finished {
            return None;
        }
        let wanted = target.max(self.carry.len() * 2).max(1);
        if buffer.len() < wanted {
            buffer.resize(wanted, 0);
        }
        let mut filled = self.carry.len();
        buffer[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut error = None;
        loop {
            if filled == buffer.len() {
                if memrchr(b'\n', &buffer[..filled]).is_some() {
                    break;
                }
                // One line longer than the buffer: grow until it fits.
                buffer.resize(buffer.len() * 2, 0);
            }
            match self.reader.read(&mut buffer[filled..]) {
                Ok(0) => {
                    self.finished = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.finished = true;
                    error = Some(e);
                    break;
                }
            }
        }
        let len = if self.finished {
            filled
        } else {
            memrchr(b'\n', &buffer[..filled]).map_or(filled, |at| at + 1)
        };
        self.carry.extend_from_slice(&buffer[len..filled]);
        if len == 0 && error.is_none() {
            return None;
        }
        Some(Chunk { len, error })
    }
}

// The block reader below serves the inputs that are not access logs
// (syslog, error logs, metric CSVs, see `evidence.rs`), which are read once,
// whole lines at a time, on one thread.

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
    fn chunks_end_on_line_boundaries_and_keep_every_byte() {
        let mut text = Vec::new();
        for i in 0..400_000 {
            writeln!(text, "line number {i} with some padding to make it longer").expect("vec");
        }
        text.extend_from_slice(b"last line without newline");
        let mut reader = ChunkReader::new(&text[..]);
        let mut buffer = Vec::new();
        let mut joined = Vec::new();
        let mut chunks = 0;
        while let Some(chunk) = reader.fill(&mut buffer, CHUNK_BYTES) {
            assert!(chunk.error.is_none());
            if !reader.is_finished() {
                assert_eq!(
                    buffer[..chunk.len].last(),
                    Some(&b'\n'),
                    "chunk {chunks} ends a line"
                );
            }
            joined.extend_from_slice(&buffer[..chunk.len]);
            chunks += 1;
        }
        assert!(chunks >= 2, "the input spans several chunks");
        assert_eq!(buffer.len(), CHUNK_BYTES, "the buffer is reused, not grown");
        assert_eq!(joined, text);
    }

    #[test]
    fn a_line_longer_than_a_chunk_grows_the_buffer() {
        let long_line = vec![b'x'; 3 * 1024];
        let mut text = b"short\n".to_vec();
        text.extend_from_slice(&long_line);
        text.extend_from_slice(b"\nafter\n");
        let mut reader = ChunkReader::new(&text[..]);
        let mut buffer = Vec::new();
        let mut chunks = Vec::new();
        while let Some(chunk) = reader.fill(&mut buffer, 1024) {
            chunks.push(buffer[..chunk.len].to_vec());
        }
        assert_eq!(chunks.concat(), text);
        assert!(
            chunks
                .iter()
                .any(|c| c.windows(long_line.len()).any(|w| w == &long_line[..])),
            "the long line stays whole in one chunk"
        );
        assert!(buffer.len() >= long_line.len());
    }

    #[test]
    fn truncated_gzip_yields_what_was_readable_and_the_error() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..50_000 {
            writeln!(encoder, "line {i}").expect("vec");
        }
        let compressed = encoder.finish().expect("vec");
        let cut = &compressed[..compressed.len() / 2];
        let mut reader = ChunkReader::new(MultiGzDecoder::new(cut));
        let mut buffer = Vec::new();
        let mut bytes = 0;
        let mut saw_error = false;
        while let Some(chunk) = reader.fill(&mut buffer, CHUNK_BYTES) {
            bytes += chunk.len;
            saw_error |= chunk.error.is_some();
        }
        assert!(saw_error, "the damage is reported");
        assert!(bytes > 10_000, "the readable part is used: {bytes}");
    }
}
