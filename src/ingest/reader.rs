//! Where bytes come from: expanding the command line's inputs into sources
//! (files, every regular file below a directory, standard input), opening
//! them with gzip and zstd detected from content, and cutting the decoded stream into
//! chunks of whole lines read into reused buffers.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use memchr::{memchr, memrchr};

use crate::config::InputSpec;
use crate::error::{Error, Result};
pub use gzip::{EntryPoints, GzipDecoder, RUN_ENTRY_POINT_BYTES, keep_within_run_budget};
pub use once::{Duplicate, DuplicateKind};

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

/// The command line's inputs as sources, each file once.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Every file to read, in the order given (a folder's files in path
    /// order), each file on disk once.
    pub sources: Vec<Source>,
    /// Entries of folders that could not be read, reported while the rest
    /// is analysed.
    pub unreadable: Vec<Unreadable>,
    /// Paths left out because another path already reads their lines (the
    /// same file, a link loop, a copy), each with the notice to give.
    pub duplicates: Vec<Duplicate>,
}

/// Expands inputs into sources, in the order given; a directory becomes every
/// regular file below it in path order, hidden files and folders skipped.
/// Each file on disk is read once however many paths reach it (a link, a
/// linked folder, a path given twice, a folder and a file in it), a link
/// back up the tree is not followed, and a file with exactly the content
/// of an earlier one (a copy) is left out; each case is listed in
/// [`Expanded::duplicates`].
/// A path that does not exist is an error; an unreadable entry inside a
/// directory is returned so it can be reported while the rest is analysed.
pub fn expand_inputs(inputs: &[InputSpec]) -> Result<Expanded> {
    let mut expanded = Expanded::default();
    let mut seen = once::Seen::default();
    for input in inputs {
        match input {
            InputSpec::Stdin => expanded.sources.push(Source::Stdin),
            InputSpec::Path(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                if let Some(first) = seen.first_path(path, &metadata) {
                    expanded.duplicates.push(Duplicate {
                        path: path.clone(),
                        read_as: first,
                        why: DuplicateKind::SameFile,
                    });
                } else if metadata.is_dir() {
                    walk_directory(path, &mut seen, &mut expanded);
                } else {
                    expanded.sources.push(Source::File(path.clone()));
                }
            }
        }
    }
    drop_copies(&mut expanded);
    Ok(expanded)
}

/// Moves the files whose content is that of an earlier file to the
/// duplicates.
fn drop_copies(expanded: &mut Expanded) {
    let files: Vec<&Path> = expanded
        .sources
        .iter()
        .filter_map(|source| match source {
            Source::File(path) => Some(path.as_path()),
            Source::Stdin => None,
        })
        .collect();
    let copies = once::copies(&files);
    if copies.is_empty() {
        return;
    }
    let copy_paths: Vec<(PathBuf, PathBuf)> = copies
        .iter()
        .map(|&(copy, original)| (files[copy].to_path_buf(), files[original].to_path_buf()))
        .collect();
    expanded.sources.retain(|source| match source {
        Source::File(path) => !copy_paths.iter().any(|(copy, _)| copy == path),
        Source::Stdin => true,
    });
    expanded
        .duplicates
        .extend(copy_paths.into_iter().map(|(path, read_as)| Duplicate {
            path,
            read_as,
            why: DuplicateKind::SameContent,
        }));
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn walk_directory(directory: &Path, seen: &mut once::Seen, expanded: &mut Expanded) {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(e) => {
            expanded.unreadable.push((directory.to_path_buf(), e));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| !is_hidden(p))
        .collect();
    // Links that lead somewhere after the real entries, so a file or folder
    // reached both ways is read, and named, by its real path (a dangling
    // link keeps its place: it is only listed as unreadable).
    paths.sort_by_cached_key(|path| {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        (is_link && path.exists(), path.clone())
    });
    for path in paths {
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(e) => {
                expanded.unreadable.push((path, e));
                continue;
            }
        };
        if metadata.is_dir()
            && let Some(ancestor) = once::link_loop_target(directory, &path)
        {
            expanded.duplicates.push(Duplicate {
                path,
                read_as: ancestor,
                why: DuplicateKind::LinkLoop,
            });
            continue;
        }
        if (metadata.is_dir() || metadata.is_file())
            && let Some(first) = seen.first_path(&path, &metadata)
        {
            expanded.duplicates.push(Duplicate {
                path,
                read_as: first,
                why: DuplicateKind::SameFile,
            });
            continue;
        }
        if metadata.is_dir() {
            walk_directory(&path, seen, expanded);
        } else if metadata.is_file() {
            expanded.sources.push(Source::File(path));
        } else {
            let what = special_file_kind(&metadata.file_type());
            expanded
                .unreadable
                .push((path, io::Error::other(not_opened_reason(what))));
        }
    }
}

/// What a directory entry that is neither a file nor a folder is.
#[cfg(unix)]
fn special_file_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// Why an entry of a folder that is not a regular file is listed but never
/// opened: reading a FIFO waits for a writer forever, a socket cannot be
/// read as a file, a device may never end.
fn not_opened_reason(what: &str) -> String {
    format!(
        "{what}, not a regular file: never opened inside a folder (reading it could wait forever); name it on the command line to read it"
    )
}

/// The bytes already read from an input, then the error that stopped
/// reading it, once: how a stream whose first chunk ended in damage is
/// handed on, so the damage is reported by whoever reads it next.
pub struct ThenError {
    head: io::Cursor<Vec<u8>>,
    error: Option<io::Error>,
}

impl ThenError {
    pub fn new(head: Vec<u8>, error: io::Error) -> Self {
        ThenError {
            head: io::Cursor::new(head),
            error: Some(error),
        }
    }
}

impl Read for ThenError {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        match self.error.take() {
            Some(error) if n == 0 && !buf.is_empty() => Err(error),
            error => {
                self.error = error;
                Ok(n)
            }
        }
    }
}

/// The two bytes every gzip member starts with (RFC 1952, ID1 ID2).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The four bytes every zstd frame starts with (RFC 8878, 0xFD2FB528 little
/// endian).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How an input's bytes are stored on disk, found by its magic bytes, never
/// by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Compressions seen in rotated logs that are not read, with their magic
/// bytes: named in the error rather than read as garbage lines.
const UNREAD_COMPRESSIONS: [(&[u8], &str, &str); 3] = [
    (b"BZh", "bzip2", "bunzip2 -k"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz", "unxz -k"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4", "lz4 -d"),
];

impl Compression {
    /// The compression whose magic bytes `head` starts with.
    pub fn of(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The error for an input compressed in a way that is not read.
fn unread_compression(head: &[u8]) -> Option<io::Error> {
    let (_, name, command) = UNREAD_COMPRESSIONS
        .iter()
        .find(|(magic, _, _)| head.starts_with(magic))?;
    Some(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "compressed with {name}, which is not read (gzip and zstd are): decompress it first ({command} FILE) and give the result"
        ),
    ))
}

/// A decoded byte stream that can move forward without handing bytes out.
pub trait DecodedStream: Read + Send {
    /// Moves `bytes` on without handing them out: read and dropped, unless
    /// the stream can start further on (a `.gz` with entry points).
    fn skip_decoded(&mut self, bytes: u64) -> io::Result<()> {
        let skipped = io::copy(&mut Read::take(&mut *self, bytes), &mut io::sink())?;
        if skipped < bytes {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the input ends before the lines to read again",
            ));
        }
        Ok(())
    }
}

impl<S: DecodedStream + ?Sized> DecodedStream for Box<S> {
    fn skip_decoded(&mut self, bytes: u64) -> io::Result<()> {
        (**self).skip_decoded(bytes)
    }
}

impl DecodedStream for &[u8] {}

/// The bytes of a file or of standard input, below any buffer or decoder.
enum RawInput {
    File(File),
    Stdin(io::Stdin),
}

impl Read for RawInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            RawInput::File(file) => file.read(buf),
            RawInput::Stdin(stdin) => stdin.read(buf),
        }
    }
}

impl Seek for RawInput {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        match self {
            RawInput::File(file) => file.seek(position),
            RawInput::Stdin(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "standard input cannot be read again",
            )),
        }
    }
}

/// An opened source: its decoded byte stream, its size on disk and a counter
/// of the bytes taken from disk so far (for progress: a compressed input
/// advances by its compressed bytes, which is what its size on disk
/// counts), with gzip and zstd recognised by their magic bytes, not a name.
pub struct Opened {
    pub reader: Box<dyn DecodedStream>,
    pub compressed: bool,
    pub compression: Compression,
    pub size_on_disk: Option<u64>,
    pub raw_bytes_read: Arc<AtomicU64>,
    /// A gzip input's entry points, filled as it is read (for a second
    /// read that starts near the lines it wants, see [`gzip`]).
    pub entry_points: Option<Arc<Mutex<EntryPoints>>>,
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

/// A second read starts at an entry point: the bytes skipped are not
/// counted as read (the second read shows no progress).
impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

type Buffered = BufReader<CountingReader<RawInput>>;

impl DecodedStream for Buffered {}
impl DecodedStream for zstd::stream::read::Decoder<'static, Buffered> {}

/// Buffer in front of a file or standard input: enough to see the gzip
/// magic and to feed the decoder, and smaller than a chunk, so that reading
/// a plain file into a chunk bypasses it (`BufReader` hands reads at least as
/// large as its buffer straight to the file) instead of copying twice.
const READ_BUFFER_BYTES: usize = 128 << 10;

/// Opens `source` from its start.
pub fn open(source: &Source) -> io::Result<Opened> {
    open_with(source, None)
}

/// Opens `source`; a gzip input starts at `entry_points` (kept by its
/// first read) when it skips ahead.
pub fn open_with(source: &Source, entry_points: Option<Arc<EntryPoints>>) -> io::Result<Opened> {
    let (raw, size) = match source {
        Source::File(path) => {
            let file = File::open(path)?;
            let size = file.metadata().ok().map(|m| m.len());
            (RawInput::File(file), size)
        }
        Source::Stdin => (RawInput::Stdin(io::stdin()), None),
    };
    let raw_bytes_read = Arc::new(AtomicU64::new(0));
    let counting = CountingReader {
        inner: raw,
        count: Arc::clone(&raw_bytes_read),
    };
    let mut buffered = BufReader::with_capacity(READ_BUFFER_BYTES, counting);
    let head = buffered.fill_buf()?;
    if let Some(error) = unread_compression(head) {
        return Err(error);
    }
    let compression = Compression::of(head);
    let mut recorded = None;
    let reader: Box<dyn DecodedStream> = match compression {
        Compression::Gzip => {
            let decoder = GzipDecoder::new(buffered)?;
            match entry_points {
                Some(points) => Box::new(decoder.with_entry_points(points)),
                None => {
                    let points = Arc::new(Mutex::new(EntryPoints::default()));
                    recorded = Some(Arc::clone(&points));
                    Box::new(decoder.recording(points))
                }
            }
        }
        // Reads every frame to the end of the file, as `zstd -d` does.
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::None => Box::new(buffered),
    };
    Ok(Opened {
        reader,
        compressed: compression != Compression::None,
        compression,
        size_on_disk: size,
        raw_bytes_read,
        entry_points: recorded,
    })
}

/// Target size of a chunk handed to one parser thread: small enough that
/// both cores stay busy to the last chunk and a handful of chunks in flight
/// cost little memory, large enough that handing one over (a channel send)
/// is noise next to parsing its ~4500 lines. Used for standard input and
/// gzip; plain files are read in `pipeline::FILE_CHUNK_BYTES`.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The longest line kept, in bytes before its newline (16 MiB). A longer
/// line is counted as one skipped line ([`OVERLONG_LINE_REASON`]) and the
/// rest of it is read and dropped without being held, so a runaway writer
/// (a 100 MB line without a newline, a binary file) costs at most this much
/// memory per buffer instead of its own size. No server writes such lines:
/// nginx refuses request lines and headers over `large_client_header_buffers`
/// (8 KiB by default) and Apache over `LimitRequestLine` (8190 bytes), so
/// even a line of logged-but-unchecked fields (a user agent, a JSON body)
/// stays far below; 16 MiB leaves room for a 10 MB field, which the
/// malformed-input suite reads as a request.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Written by the readers in place of a line longer than
/// [`MAX_LINE_BYTES`]. It starts with a NUL byte, which no log line that
/// parses starts with, and parsers never see it: [`marked_line_reason`]
/// names it first.
pub const OVERLONG_LINE_MARK: &[u8] = b"\0postmortem: a line over MAX_LINE_BYTES was here\0";

/// Written by the readers in place of the last line of an input whose
/// reading failed (a gzip file cut short, a read error) when that line has
/// no newline: the damage cut it, so whatever it holds is not the line the
/// server wrote.
pub const CUT_LINE_MARK: &[u8] = b"\0postmortem: a line cut by the damage was here\0";

/// The skip reason of a line longer than [`MAX_LINE_BYTES`] (the number is
/// pinned to the constant by a test).
pub const OVERLONG_LINE_REASON: &str = "longer than MAX_LINE_BYTES (16 MiB): no log line is that long; read to its end without being kept";

/// The skip reason of the partial last line of a damaged input.
pub const CUT_LINE_REASON: &str = "cut short by the damage that stopped reading (see the input's error): not the line the server wrote";

/// Why a line a reader wrote in place of another is skipped, or `None` for
/// a line read from the input.
#[inline]
pub fn marked_line_reason(line: &[u8]) -> Option<&'static str> {
    if line.first() != Some(&0) {
        return None;
    }
    if line == OVERLONG_LINE_MARK {
        Some(OVERLONG_LINE_REASON)
    } else if line == CUT_LINE_MARK {
        Some(CUT_LINE_REASON)
    } else {
        None
    }
}

/// Bytes read at a time while dropping the rest of a line longer than
/// [`MAX_LINE_BYTES`]: one reused buffer, as large as the read buffer in
/// front of the file.
const DISCARD_BYTES: usize = READ_BUFFER_BYTES;

/// Reads a decoded stream in chunks of whole lines: each chunk ends after a
/// newline (or at the end of the input), so no line is split across chunks.
/// The caller supplies the buffer and gets it back filled, so a few buffers
/// are reused for the whole input instead of allocating (and zeroing) one
/// per chunk.
///
/// Two lines are handed out replaced by a mark (see [`marked_line_reason`]):
/// a line longer than the cap ([`MAX_LINE_BYTES`]), whose rest is dropped
/// as it is read, and the partial last line of an input whose reading
/// failed ([`CUT_LINE_MARK`]).
pub struct ChunkReader<R> {
    reader: R,
    /// The start of a line that did not fit in the previous chunk.
    carry: Vec<u8>,
    finished: bool,
    /// The longest line kept ([`MAX_LINE_BYTES`]; smaller in tests).
    max_line: usize,
    /// Where the rest of an over-long line is read to be dropped.
    discard: Vec<u8>,
    /// Bytes read past the end of an over-long line, read before the input
    /// again (from `pending_at` on).
    pending: Vec<u8>,
    pending_at: usize,
    /// An over-long line was replaced by its mark: offsets in the chunks
    /// handed out are no longer offsets in the stream.
    marked: bool,
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
            max_line: MAX_LINE_BYTES,
            discard: Vec::new(),
            pending: Vec::new(),
            pending_at: 0,
            marked: false,
        }
    }

    /// Caps lines at `max_line` bytes instead of [`MAX_LINE_BYTES`].
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line.max(1);
        self
    }

    /// Whether the end of the input was reached.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The bytes not handed out yet, as a stream: the start of a line kept
    /// back, then the rest of the input.
    pub fn into_stream(self) -> io::Chain<io::Cursor<Vec<u8>>, R> {
        let mut unread = self.carry;
        unread.extend_from_slice(&self.pending[self.pending_at.min(self.pending.len())..]);
        io::Cursor::new(unread).chain(self.reader)
    }

    /// Reads into `destination`: first what was read past an over-long
    /// line, then the input.
    fn read_some(&mut self, destination: &mut [u8]) -> io::Result<usize> {
        let pending = self.pending.get(self.pending_at..).unwrap_or_default();
        if pending.is_empty() {
            return self.reader.read(destination);
        }
        let n = pending.len().min(destination.len());
        destination[..n].copy_from_slice(&pending[..n]);
        self.pending_at += n;
        Ok(n)
    }

    /// Fills `buffer` with the next run of whole lines, about `target` bytes
    /// (more when one line is longer: the buffer then grows, up to the line
    /// cap), or `None` at the end of the input. The buffer's length only
    /// grows; the chunk is `buffer[..len]`. Every byte is searched for a
    /// newline once, however long the line.
    pub fn fill(&mut self, buffer: &mut Vec<u8>, target: usize) -> Option<Chunk> {
        if self.finished {
            return None;
        }
        let carried = self.carry.len();
        let wanted = target
            .max((carried * 2).min(self.max_line + 1))
            .max(carried + 1);
        if buffer.len() < wanted {
            buffer.resize(wanted, 0);
        }
        buffer[..carried].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut filled = carried;
        // Where the last line not known to be whole starts (the carried
        // bytes are the start of one line), and how far newlines were
        // searched for.
        let mut line_start = 0;
        let mut searched = carried;
        let mut error = None;
        loop {
            if let Some(at) = memrchr(b'\n', &buffer[searched..filled]) {
                line_start = searched + at + 1;
            }
            searched = filled;
            if filled - line_start > self.max_line {
                filled = self.replace_overlong_line(buffer, line_start, &mut error);
                if self.finished {
                    // The input ended inside the long line: the mark is the
                    // last line, whole.
                    line_start = filled;
                    break;
                }
                // Go on after the mark's newline, as after any line.
                searched = line_start;
                continue;
            }
            if filled == buffer.len() {
                if line_start > 0 {
                    break;
                }
                // One line longer than the buffer: grow until it fits or
                // passes the cap.
                let grown = (buffer.len() * 2).min(self.max_line + 1);
                buffer.resize(grown.max(buffer.len() + 1), 0);
            }
            // Never read more of the last line than the cap and one byte.
            let read_end = buffer.len().min(line_start + self.max_line + 1);
            match self.read_some(&mut buffer[filled..read_end]) {
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
        if error.is_some() && filled > line_start {
            // The damage cut the last line: it is not the line written.
            filled = write_mark(buffer, line_start, CUT_LINE_MARK);
        }
        let len = if self.finished { filled } else { line_start };
        self.carry.extend_from_slice(&buffer[len..filled]);
        if len == 0 && error.is_none() {
            return None;
        }
        Some(Chunk { len, error })
    }

    /// Puts [`OVERLONG_LINE_MARK`] in place of the line starting at
    /// `line_start` and reads the rest of that line into a small reused
    /// buffer, dropping it, up to its newline; what followed the newline in
    /// that read is read next. Returns where the bytes in `buffer` end:
    /// after the mark's newline, or after the mark at the end of the input.
    fn replace_overlong_line(
        &mut self,
        buffer: &mut Vec<u8>,
        line_start: usize,
        error: &mut Option<io::Error>,
    ) -> usize {
        self.marked = true;
        let mark_end = write_mark(buffer, line_start, OVERLONG_LINE_MARK);
        let end_line = |buffer: &mut Vec<u8>| write_mark(buffer, mark_end, b"\n");
        let pending = self.pending.get(self.pending_at..).unwrap_or_default();
        if let Some(at) = memchr(b'\n', pending) {
            self.pending_at += at + 1;
            return end_line(buffer);
        }
        self.pending.clear();
        self.pending_at = 0;
        self.discard.resize(DISCARD_BYTES, 0);
        loop {
            match self.reader.read(&mut self.discard) {
                Ok(0) => {
                    self.finished = true;
                    return mark_end;
                }
                Ok(n) => {
                    if let Some(at) = memchr(b'\n', &self.discard[..n]) {
                        // The bytes after the newline are read next.
                        std::mem::swap(&mut self.pending, &mut self.discard);
                        self.pending.truncate(n);
                        self.pending_at = at + 1;
                        return end_line(buffer);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.finished = true;
                    *error = Some(e);
                    return mark_end;
                }
            }
        }
    }
}

impl<R: DecodedStream> ChunkReader<R> {
    /// Moves `bytes` on from the end of the last chunk without handing them
    /// out, where the next chunk must start at a line start the caller
    /// knows (a second read going to the lines it wants). `Ok(false)` when
    /// it cannot: after an over-long line's mark, chunk offsets are no
    /// longer stream offsets, and the caller reads on instead.
    pub fn skip(&mut self, bytes: u64) -> io::Result<bool> {
        let pending = self.pending_at < self.pending.len();
        if self.finished || self.marked || pending {
            return Ok(false);
        }
        let carried = self.carry.len() as u64;
        if bytes <= carried {
            // At most `carried`, which is a length in memory.
            self.carry.drain(..bytes as usize);
            return Ok(true);
        }
        self.carry.clear();
        self.reader.skip_decoded(bytes - carried)?;
        Ok(true)
    }
}

/// Writes `mark` at `at`, growing the buffer if needed; returns its end.
fn write_mark(buffer: &mut Vec<u8>, at: usize, mark: &[u8]) -> usize {
    let end = at + mark.len();
    if buffer.len() < end {
        buffer.resize(end, 0);
    }
    buffer[at..end].copy_from_slice(mark);
    end
}

// The block reader below serves the inputs that are not access logs
// (syslog, error logs, metric CSVs, see `evidence.rs`), which are read once,
// whole lines at a time, on one thread.

/// Target size of a block handed to the parsers.
pub const BLOCK_BYTES: usize = 8 << 20;

/// Target size of an input's first block; each next one doubles, up to
/// [`BLOCK_BYTES`]. A block's buffer is zeroed to its target before it is
/// read into, so a short syslog costs kilobytes, not 8 MB of zeroing.
pub const FIRST_BLOCK_BYTES: usize = 64 << 10;

/// Reads a decoded stream in blocks of about [`BLOCK_BYTES`] that end after a
/// newline (or at the end of the input), so no line is split across blocks;
/// lines are capped and damage marked as by [`ChunkReader`], which it uses.
pub struct BlockReader<R> {
    chunks: ChunkReader<R>,
    /// The next block's target size.
    next_target: usize,
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
            chunks: ChunkReader::new(reader),
            next_target: FIRST_BLOCK_BYTES,
        }
    }

    /// Caps lines at `max_line` bytes instead of [`MAX_LINE_BYTES`].
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.chunks = self.chunks.with_max_line(max_line);
        self
    }

    /// Whether the end of the input was reached.
    pub fn is_finished(&self) -> bool {
        self.chunks.is_finished()
    }

    /// The next block, or `None` at the end of the input.
    pub fn next_block(&mut self) -> Option<Block> {
        if self.chunks.is_finished() {
            return None;
        }
        let mut bytes = Vec::new();
        let target = self.next_target;
        self.next_target = (target * 2).min(BLOCK_BYTES);
        let chunk = self.chunks.fill(&mut bytes, target)?;
        bytes.truncate(chunk.len);
        Some(Block {
            bytes,
            error: chunk.error,
        })
    }
}

pub mod gzip;
pub mod once;
pub mod overlap;

#[cfg(test)]
mod tests;
