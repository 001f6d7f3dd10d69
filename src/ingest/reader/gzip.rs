//! Gzip decoding that remembers where it can start again.
//!
//! A deflate stream can only be decoded from its start: each block may copy
//! from the 32 KiB of output before it, and blocks end at any bit. So the
//! second read of an incident's edges ([`super::super::recount`]) used to
//! inflate a `.gz` again from its first byte up to the incident, a quarter
//! of a second on a 1 GB log. While the first read inflates, this decoder
//! keeps an entry point every [`ENTRY_POINT_SPACING_BYTES`] of output, at a
//! block boundary (zlib's `zran.c` technique): the compressed offset, the
//! bits of the boundary's byte that belong to the next block, and the 32
//! KiB window before it, itself deflated (log text shrinks ~10x, so a point
//! costs a few KB). The second read starts raw inflate at the point before
//! the first line it wants ([`GzipDecoder::skip_decoded`]) instead of at the
//! file's start.
//!
//! Several members (concatenated `.gz` files, `bgzip`) are read one after
//! the other as `gzip -d` does; a member resumed in the middle has its
//! trailer skipped, not checked (its CRC covers bytes not decoded again).

use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::os::raw::{c_int, c_uint};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use libz_rs_sys as zlib;

use super::DecodedStream;

/// Decoded bytes between two entry points. The second read decodes up to
/// this much it does not want (half on average: ~3 ms at zlib-rs's ~1.7
/// GB/s); a longer file keeps them further apart ([`MAX_ENTRY_POINTS`]).
/// The cost is memory: the week of 56 rotations (140 MB each) keeps 768
/// points, 5 MB, and peaks 2-6 MB higher. Points 32 MiB apart kept a
/// quarter, but the second read of the 5 M-line `.gz` decoded more
/// (BENCHMARKS.md, "Entry points into a .gz").
pub const ENTRY_POINT_SPACING_BYTES: u64 = 8 << 20;

/// The most points one file keeps: past it every other one is dropped and
/// the spacing doubles, so a file's points take at most ~1.6 MB (~6.4 KB
/// each on nginx lines) however long it is. The 5 M-line log's 1.1 GB keep
/// 129 (820 KB); at 64 they thinned to 32 MiB apart, and its second read
/// took 27 ms instead of 15.
pub const MAX_ENTRY_POINTS: usize = 256;

/// The most memory the entry points of all the files of a run take
/// together: past it, the files' points are thinned, the densest first
/// ([`keep_within_run_budget`]). The 5 M-line `.gz` keeps its 129 points
/// (~0.8 MB) untouched; the week's 56 rotations kept 768 (4.9 MB of heap at
/// its peak) and keep ~300: one every ~24 MiB of a 150 MB rotation, whose
/// second read then decodes ~12 MiB it does not want (~7 ms) per edge.
pub const RUN_ENTRY_POINT_BYTES: usize = 2 << 20;

/// Deflate's window: the most a block may copy from behind it.
const WINDOW_BYTES: usize = 32 << 10;

/// zlib's window bits for a gzip stream (15 and 16: gzip header and
/// trailer), and for raw deflate resumed at an entry point.
const GZIP_WINDOW_BITS: c_int = 15 + 16;
const RAW_WINDOW_BITS: c_int = -15;

/// `data_type` after `inflate(Z_BLOCK)`: the stream stopped at a block
/// boundary (128), after the member's last block (64), and the number of
/// bits of the last byte read not yet used (the low three bits).
const AT_BLOCK_BOUNDARY: c_int = 128;
const AFTER_LAST_BLOCK: c_int = 64;
const UNUSED_BITS_MASK: c_int = 7;

/// The gzip trailer: CRC-32 and length, four bytes each.
const TRAILER_BYTES: u64 = 8;

/// Calls of inflate in a row allowed to take and give nothing (each stop
/// at a block boundary is one).
const MAX_STALLS: u8 = 4;

/// Scratch for decoded bytes skipped over.
const SKIP_SCRATCH_BYTES: usize = 64 << 10;

/// Where decoding may start again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryPoint {
    /// Offset in the decoded stream.
    pub decoded: u64,
    /// Offset in the file of the first byte wholly in the next block.
    pub compressed: u64,
    /// Bits at the top of the byte before `compressed` that belong to the
    /// next block (0 to 7).
    pub bits: u8,
    /// The window before `decoded`, raw deflate.
    window: Box<[u8]>,
}

/// The entry points of one gzip file, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryPoints {
    points: Vec<EntryPoint>,
}

impl EntryPoints {
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Memory the points hold (their windows), for the notes of
    /// BENCHMARKS.md.
    pub fn bytes(&self) -> usize {
        self.points
            .iter()
            .map(|point| point.window.len() + std::mem::size_of::<EntryPoint>())
            .sum()
    }

    /// Drops every other point (the first stays): the points are then
    /// twice as far apart.
    fn thin(&mut self) {
        let mut index = 0;
        self.points.retain(|_| {
            index += 1;
            index % 2 == 0
        });
    }

    /// The last point after `from` and at or before `to` (decoded offsets).
    fn best_between(&self, from: u64, to: u64) -> Option<&EntryPoint> {
        let at_or_before = self.points.partition_point(|point| point.decoded <= to);
        self.points[..at_or_before]
            .last()
            .filter(|point| point.decoded > from)
    }
}

/// Thins the entry points of a run's files (one slot per input, `None`
/// for inputs that are no gzip) until they take at most `budget_bytes`
/// together: each time, the file with the most points loses every other
/// one. Points only save decoding, so fewer of them never changes what the
/// second read counts, only how far it decodes from the point before.
pub fn keep_within_run_budget(files: &mut [Option<Arc<EntryPoints>>], budget_bytes: usize) {
    let mut total: usize = files.iter().flatten().map(|points| points.bytes()).sum();
    while total > budget_bytes {
        let densest = files
            .iter_mut()
            .flatten()
            .filter(|points| points.len() > 1)
            .max_by_key(|points| points.len());
        let Some(densest) = densest else {
            return;
        };
        let before = densest.bytes();
        // The reader that recorded the points is gone by now, so this
        // clones nothing.
        let points = Arc::make_mut(densest);
        points.thin();
        total = total - before + points.bytes();
    }
}

/// Where the stream is between calls to `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Inside a member: inflate.
    Member,
    /// A member resumed at an entry point ended: its trailer is skipped.
    Trailer {
        left: u64,
    },
    /// A member ended: another one, or the end of the file.
    BetweenMembers,
    Done,
}

/// The zlib stream, boxed because zlib's state points back at it.
struct Stream(Box<zlib::z_stream>);

impl Stream {
    fn new() -> io::Result<Stream> {
        let mut stream = Box::new(zlib::z_stream::default());
        // SAFETY: the stream is a fresh default `z_stream` (null pointers,
        // default allocator); version and size are this library's own.
        let status = unsafe {
            zlib::inflateInit2_(
                &mut *stream,
                GZIP_WINDOW_BITS,
                zlib::zlibVersion(),
                std::mem::size_of::<zlib::z_stream>() as c_int,
            )
        };
        if status != zlib::Z_OK {
            return Err(io::Error::other(format!(
                "the gzip decoder could not start (zlib status {status})"
            )));
        }
        Ok(Stream(stream))
    }

    /// Starts over with `window_bits` (a new member, or raw deflate).
    fn reset(&mut self, window_bits: c_int) -> io::Result<()> {
        // SAFETY: the stream was initialised by `inflateInit2_`.
        let status = unsafe { zlib::inflateReset2(&mut *self.0, window_bits) };
        check(status, "reset")
    }

    /// The last (up to) 32 KiB of output.
    fn window(&self, into: &mut [u8; WINDOW_BYTES]) -> io::Result<usize> {
        let mut length: c_uint = 0;
        // SAFETY: `into` holds 32 KiB, the most a window holds.
        let status =
            unsafe { zlib::inflateGetDictionary(&*self.0, into.as_mut_ptr(), &mut length) };
        check(status, "window")?;
        Ok((length as usize).min(WINDOW_BYTES))
    }

    fn set_window(&mut self, window: &[u8]) -> io::Result<()> {
        let length = c_uint::try_from(window.len()).map_err(io::Error::other)?;
        // SAFETY: `window` is readable for `length` bytes.
        let status = unsafe { zlib::inflateSetDictionary(&mut *self.0, window.as_ptr(), length) };
        check(status, "set window")
    }

    fn prime(&mut self, bits: u8, value: u8) -> io::Result<()> {
        // SAFETY: the stream was initialised by `inflateInit2_`.
        let status =
            unsafe { zlib::inflatePrime(&mut *self.0, c_int::from(bits), c_int::from(value)) };
        check(status, "prime")
    }
}

// SAFETY: the `z_stream` and the state it points to belong to this value
// alone; its input and output pointers are set for one `inflate` call and
// cleared after it, so nothing it points to is shared with another thread.
unsafe impl Send for Stream {}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised by `inflateInit2_` and is
        // ended once.
        unsafe {
            zlib::inflateEnd(&mut *self.0);
        }
    }
}

fn check(status: c_int, what: &str) -> io::Result<()> {
    if status == zlib::Z_OK {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the gzip decoder failed to {what} (zlib status {status})"
        )))
    }
}

/// A `.gz` file's decoded bytes, every member in turn, keeping entry
/// points as it goes (the first read) or starting at one (the second).
pub struct GzipDecoder<R> {
    input: R,
    stream: Stream,
    phase: Phase,
    /// Offset in the file of the next byte `input` gives.
    compressed: u64,
    /// Bytes handed out so far.
    decoded: u64,
    /// Kept while reading (the first read), shared with whoever asks for
    /// them once the read ends.
    recording: Option<Arc<Mutex<EntryPoints>>>,
    /// Decoded bytes between points ([`ENTRY_POINT_SPACING_BYTES`]).
    spacing: u64,
    /// Points kept at most ([`MAX_ENTRY_POINTS`]).
    max_points: usize,
    next_point_at: u64,
    /// Points to start at (the second read).
    known: Option<Arc<EntryPoints>>,
    /// The member being read was entered at an entry point (raw deflate).
    resumed: bool,
    /// Calls of inflate in a row that neither took nor gave a byte.
    stalls: u8,
    window_scratch: Box<[u8; WINDOW_BYTES]>,
    /// Deflates the windows of the points kept (one, reset for each).
    window_compressor: Option<(Compress, Vec<u8>)>,
}

impl<R: BufRead> GzipDecoder<R> {
    /// A decoder for `input`, whose first byte is the file's first.
    pub fn new(input: R) -> io::Result<Self> {
        Ok(GzipDecoder {
            input,
            stream: Stream::new()?,
            phase: Phase::Member,
            compressed: 0,
            decoded: 0,
            recording: None,
            spacing: ENTRY_POINT_SPACING_BYTES,
            max_points: MAX_ENTRY_POINTS,
            next_point_at: ENTRY_POINT_SPACING_BYTES,
            known: None,
            resumed: false,
            stalls: 0,
            window_scratch: Box::new([0; WINDOW_BYTES]),
            window_compressor: None,
        })
    }

    /// Keeps entry points in `into` as the stream is read.
    pub fn recording(mut self, into: Arc<Mutex<EntryPoints>>) -> Self {
        self.recording = Some(into);
        self
    }

    /// Points every `bytes` of output instead of every
    /// [`ENTRY_POINT_SPACING_BYTES`] (small inputs in tests).
    #[cfg(test)]
    pub fn with_spacing(mut self, bytes: u64) -> Self {
        self.spacing = bytes.max(1);
        self.next_point_at = self.spacing;
        self
    }

    /// Keeps at most `points` instead of [`MAX_ENTRY_POINTS`] (small inputs
    /// in tests).
    #[cfg(test)]
    pub fn with_max_points(mut self, points: usize) -> Self {
        self.max_points = points.max(2);
        self
    }

    /// Starts at `points` when [`Self::skip_decoded`] passes one.
    pub fn with_entry_points(mut self, points: Arc<EntryPoints>) -> Self {
        self.known = Some(points);
        self
    }

    /// After an `inflate(Z_BLOCK)` that stopped at a block boundary: keeps
    /// an entry point if the last one is far enough behind.
    fn record_point(&mut self) -> io::Result<()> {
        let Some(recording) = &self.recording else {
            return Ok(());
        };
        let data_type = self.stream.0.data_type;
        let at_boundary = data_type & AT_BLOCK_BOUNDARY != 0 && data_type & AFTER_LAST_BLOCK == 0;
        if !at_boundary || self.decoded < self.next_point_at {
            return Ok(());
        }
        let length = self.stream.window(&mut self.window_scratch)?;
        let (compressor, deflated) = self
            .window_compressor
            .get_or_insert_with(|| (Compress::new(Compression::fast(), false), Vec::new()));
        let window = deflate_window(compressor, &self.window_scratch[..length], deflated)?;
        let point = EntryPoint {
            decoded: self.decoded,
            compressed: self.compressed,
            bits: (data_type & UNUSED_BITS_MASK) as u8,
            window,
        };
        if let Ok(mut points) = recording.lock() {
            points.points.push(point);
            if points.points.len() > self.max_points {
                // Every other point goes, and they come half as often.
                points.thin();
                self.spacing *= 2;
            }
        }
        self.next_point_at = self.decoded + self.spacing;
        Ok(())
    }

    /// One step of inflate into `out`: the bytes it gave (maybe none, at a
    /// block boundary).
    fn inflate_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Stopping at every block boundary would cost a window update (a
        // 32 KiB copy) each ~64 KiB of output: only once a point is due,
        // and output stops where it falls due, whatever the caller's buffer.
        let (flush, out_len) = match self.recording {
            Some(_) if self.decoded >= self.next_point_at => (zlib::Z_BLOCK, out.len()),
            Some(_) => {
                let until_due =
                    usize::try_from(self.next_point_at - self.decoded).unwrap_or(usize::MAX);
                (zlib::Z_NO_FLUSH, until_due.min(out.len()))
            }
            None => (zlib::Z_NO_FLUSH, out.len()),
        };
        let out = &mut out[..out_len];
        let input = self.input.fill_buf()?;
        let at_end_of_file = input.is_empty();
        let stream = &mut self.stream.0;
        let avail_in = c_uint::try_from(input.len()).unwrap_or(c_uint::MAX);
        let avail_out = c_uint::try_from(out.len()).unwrap_or(c_uint::MAX);
        stream.next_in = input.as_ptr();
        stream.avail_in = avail_in;
        stream.next_out = out.as_mut_ptr();
        stream.avail_out = avail_out;
        // SAFETY: `next_in` and `next_out` point into live buffers of the
        // lengths given; both are cleared below before the buffers can move.
        let status = unsafe { zlib::inflate(&mut **stream, flush) };
        let consumed = (avail_in - stream.avail_in) as usize;
        let produced = (avail_out - stream.avail_out) as usize;
        let message = if stream.msg.is_null() {
            None
        } else {
            // SAFETY: zlib sets `msg` to a NUL-terminated static string.
            Some(
                unsafe { std::ffi::CStr::from_ptr(stream.msg) }
                    .to_string_lossy()
                    .into_owned(),
            )
        };
        stream.next_in = std::ptr::null();
        stream.avail_in = 0;
        stream.next_out = std::ptr::null_mut();
        stream.avail_out = 0;
        self.input.consume(consumed);
        self.compressed += consumed as u64;
        self.decoded += produced as u64;
        match status {
            zlib::Z_OK | zlib::Z_BUF_ERROR => {
                if produced == 0 && consumed == 0 {
                    if at_end_of_file {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the gzip stream is cut short: the file ends inside a member",
                        ));
                    }
                    // A stop at a block boundary takes nothing; more than
                    // a few in a row would be a loop.
                    self.stalls += 1;
                    if self.stalls > MAX_STALLS {
                        return Err(io::Error::other("the gzip decoder stopped making progress"));
                    }
                } else {
                    self.stalls = 0;
                }
                self.record_point()?;
            }
            zlib::Z_STREAM_END => {
                // zlib checks the trailer of a member read from its header;
                // one resumed at an entry point is raw deflate.
                self.phase = if self.resumed {
                    Phase::Trailer {
                        left: TRAILER_BYTES,
                    }
                } else {
                    Phase::BetweenMembers
                };
            }
            zlib::Z_NEED_DICT => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "corrupt gzip stream: it asks for a preset dictionary",
                ));
            }
            _ => {
                let why = message.unwrap_or_else(|| format!("zlib status {status}"));
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt gzip stream: {why}"),
                ));
            }
        }
        Ok(produced)
    }
}

impl<R: BufRead> Read for GzipDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.phase {
                Phase::Done => return Ok(0),
                Phase::Member => {
                    let produced = self.inflate_some(out)?;
                    if produced > 0 {
                        return Ok(produced);
                    }
                }
                Phase::Trailer { left } => {
                    let available = self.input.fill_buf()?.len() as u64;
                    if available == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the gzip stream is cut short: the file ends inside a member's trailer",
                        ));
                    }
                    let skipped = available.min(left);
                    self.input.consume(skipped as usize);
                    self.compressed += skipped;
                    self.phase = if skipped == left {
                        Phase::BetweenMembers
                    } else {
                        Phase::Trailer {
                            left: left - skipped,
                        }
                    };
                }
                Phase::BetweenMembers => {
                    if self.input.fill_buf()?.is_empty() {
                        self.phase = Phase::Done;
                        return Ok(0);
                    }
                    // Another member (concatenated files): its header must
                    // be a gzip header, as `gzip -d` requires.
                    self.stream.reset(GZIP_WINDOW_BITS)?;
                    self.resumed = false;
                    self.phase = Phase::Member;
                }
            }
        }
    }
}

impl<R: BufRead + Seek + Send> DecodedStream for GzipDecoder<R> {
    /// Moves `bytes` on in the decoded stream without handing them out:
    /// from the last entry point before the target, when one lies ahead,
    /// and decoding (and dropping) the rest.
    fn skip_decoded(&mut self, bytes: u64) -> io::Result<()> {
        let target = self.decoded.saturating_add(bytes);
        // The points are shared (an `Arc`): hold one more reference, not a
        // copy of the point's window.
        let known = self.known.clone();
        if let Some(point) = known
            .as_ref()
            .and_then(|points| points.best_between(self.decoded, target))
        {
            self.start_at(point)?;
        }
        let mut scratch = vec![0; SKIP_SCRATCH_BYTES];
        while self.decoded < target {
            let wanted = usize::try_from(target - self.decoded)
                .unwrap_or(usize::MAX)
                .min(scratch.len());
            if self.read(&mut scratch[..wanted])? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the gzip stream ends before the lines to read again",
                ));
            }
        }
        Ok(())
    }
}

impl<R: BufRead + Seek> GzipDecoder<R> {
    /// Starts raw inflate at `point`.
    fn start_at(&mut self, point: &EntryPoint) -> io::Result<()> {
        let byte_before = u64::from(point.bits > 0);
        self.input
            .seek(SeekFrom::Start(point.compressed - byte_before))?;
        self.stream.reset(RAW_WINDOW_BITS)?;
        if point.bits > 0 {
            let mut byte = [0u8];
            self.input.read_exact(&mut byte)?;
            self.stream.prime(point.bits, byte[0] >> (8 - point.bits))?;
        }
        self.stream.set_window(&inflate_window(&point.window)?)?;
        self.compressed = point.compressed;
        self.decoded = point.decoded;
        self.next_point_at = point.decoded + self.spacing;
        self.resumed = true;
        self.stalls = 0;
        self.phase = Phase::Member;
        Ok(())
    }
}

/// A window, deflated to keep (log text shrinks ~10x).
/// Deflated into `scratch` (reused) and copied out at its size: kept
/// points are allocated once each, not cut down from a window-sized buffer
/// (which left holes among the series' allocations).
fn deflate_window(
    compress: &mut Compress,
    window: &[u8],
    scratch: &mut Vec<u8>,
) -> io::Result<Box<[u8]>> {
    compress.reset();
    scratch.clear();
    // Stored blocks at worst: 5 bytes a 64 KiB block and a little more.
    scratch.reserve(window.len() + 64);
    let status = compress
        .compress_vec(window, scratch, FlushCompress::Finish)
        .map_err(io::Error::other)?;
    if status != flate2::Status::StreamEnd {
        return Err(io::Error::other("a gzip window did not fit its buffer"));
    }
    Ok(scratch.as_slice().into())
}

/// A window kept by [`deflate_window`], as it was.
fn inflate_window(deflated: &[u8]) -> io::Result<Vec<u8>> {
    let mut decompress = Decompress::new(false);
    let mut window = Vec::with_capacity(WINDOW_BYTES);
    let status = decompress
        .decompress_vec(deflated, &mut window, FlushDecompress::Finish)
        .map_err(io::Error::other)?;
    if status != flate2::Status::StreamEnd {
        return Err(io::Error::other("a kept gzip window is damaged"));
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// `lines` lines of a made-up access log, varied enough that deflate
    /// writes many blocks of each kind.
    fn log_text(lines: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..lines {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let client = format!(
                "10.{}.{}.{}",
                state % 256,
                (state >> 8) % 256,
                (state >> 16) % 256
            );
            let (minute, second) = ((i / 60) % 60, i % 60);
            let path = state % 997;
            let status = [200, 200, 200, 404, 502][(state >> 24) as usize % 5];
            let bytes = (state >> 32) % 100_000;
            let time = format!("[12/Nov/2023:14:{minute:02}:{second:02} +0000]");
            let request = format!("\"GET /p/{path} HTTP/1.1\"");
            writeln!(text, "{client} - - {time} {request} {status} {bytes} {i}").expect("vec");
        }
        text
    }

    fn gzip_member(text: &[u8], level: u32) -> Vec<u8> {
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        encoder.write_all(text).expect("vec");
        encoder.finish().expect("vec")
    }

    /// Decodes `compressed` whole, keeping points every `spacing` bytes.
    fn decode_recording(
        compressed: &[u8],
        spacing: u64,
        max_points: usize,
    ) -> (io::Result<Vec<u8>>, EntryPoints) {
        let points = Arc::new(Mutex::new(EntryPoints::default()));
        let mut decoder = GzipDecoder::new(compressed)
            .expect("decoder")
            .with_spacing(spacing)
            .with_max_points(max_points)
            .recording(Arc::clone(&points));
        let mut decoded = Vec::new();
        let result = decoder.read_to_end(&mut decoded).map(|_| decoded);
        let points = points.lock().expect("points").clone();
        (result, points)
    }

    /// A file's points: `count` of them, `spacing` decoded bytes apart,
    /// each window `window_bytes` long.
    fn points_of(count: u64, spacing: u64, window_bytes: usize) -> Option<Arc<EntryPoints>> {
        let points = (1..=count)
            .map(|n| EntryPoint {
                decoded: n * spacing,
                compressed: n * spacing / 10,
                bits: 0,
                window: vec![0; window_bytes].into_boxed_slice(),
            })
            .collect();
        Some(Arc::new(EntryPoints { points }))
    }

    #[test]
    fn a_run_over_its_budget_thins_the_densest_file_first() {
        let point = std::mem::size_of::<EntryPoint>() + 1000;
        struct Case {
            name: &'static str,
            files: Vec<u64>,
            budget_points: usize,
            kept: Vec<Option<usize>>,
        }
        let cases = [
            Case {
                name: "under the budget: untouched",
                files: vec![8, 0, 4],
                budget_points: 12,
                kept: vec![Some(8), None, Some(4)],
            },
            Case {
                name: "one over: the file with most points halves",
                files: vec![8, 0, 5],
                budget_points: 12,
                kept: vec![Some(4), None, Some(5)],
            },
            Case {
                name: "far over: every file thinned in turn",
                files: vec![16, 16, 16],
                budget_points: 12,
                kept: vec![Some(4), Some(4), Some(4)],
            },
            Case {
                name: "a budget below one point a file: each keeps one",
                files: vec![4, 3],
                budget_points: 0,
                kept: vec![Some(1), Some(1)],
            },
        ];
        for case in cases {
            let mut files: Vec<Option<Arc<EntryPoints>>> = case
                .files
                .iter()
                .map(|&count| {
                    (count > 0)
                        .then(|| points_of(count, 1 << 20, 1000))
                        .flatten()
                })
                .collect();
            keep_within_run_budget(&mut files, case.budget_points * point);
            let kept: Vec<Option<usize>> = files
                .iter()
                .map(|points| points.as_ref().map(|points| points.len()))
                .collect();
            assert_eq!(kept, case.kept, "{}", case.name);
            // Each halving keeps every other point from the second, so the
            // points stay evenly spaced, as many times further apart as
            // there are fewer of them.
            for (points, &count) in files.iter().zip(&case.files) {
                let Some(points) = points.as_ref().filter(|points| points.len() > 1) else {
                    continue;
                };
                let spacing = (count / points.len() as u64) << 20;
                for pair in points.points.windows(2) {
                    assert_eq!(pair[1].decoded - pair[0].decoded, spacing, "{}", case.name);
                }
                assert_eq!(points.points[0].decoded, spacing, "{}", case.name);
            }
        }
    }

    #[test]
    fn every_member_decodes_as_gzip_writes_it() {
        let text = log_text(30_000);
        let (first, second) = text.split_at(text.len() / 3);
        let with_name = {
            let mut encoder = flate2::GzBuilder::new()
                .filename("access.log")
                .comment("rotated")
                .extra(vec![1, 2, 3])
                .write(Vec::new(), flate2::Compression::default());
            encoder.write_all(&text).expect("vec");
            encoder.finish().expect("vec")
        };
        let cases: [(&str, Vec<u8>); 5] = [
            ("one member, fast", gzip_member(&text, 1)),
            ("one member, best", gzip_member(&text, 9)),
            ("stored blocks only", gzip_member(&text, 0)),
            (
                "three members, one of them empty",
                [
                    gzip_member(first, 6),
                    gzip_member(b"", 6),
                    gzip_member(second, 6),
                ]
                .concat(),
            ),
            (
                "a header with a name, a comment and extra fields",
                with_name,
            ),
        ];
        for (name, compressed) in cases {
            let (decoded, _) = decode_recording(&compressed, 1 << 20, MAX_ENTRY_POINTS);
            let decoded = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                decoded == text,
                "{name}: {} bytes against {}",
                decoded.len(),
                text.len()
            );
        }
    }

    /// The cap of the case that thins its points out.
    const THINNING_CAP: usize = 16;

    #[test]
    fn a_second_decoder_starts_at_the_point_before_the_bytes_it_skips_to() {
        let text = log_text(60_000);
        let (first, second) = text.split_at(text.len() / 2 + 12_345);
        let usual = 256 << 10;
        // `dense`: blocks short enough that a point falls soon after each
        // `spacing` bytes. zlib-rs's level 1 writes few, long blocks, so its
        // points are fewer (still right). Points every 16 KiB would be
        // ~40: past a cap of 16 they thin out.
        let cases: [(&str, Vec<u8>, u64, bool); 5] = [
            ("one member", gzip_member(&text, 6), usual, true),
            (
                "stored blocks (points on byte boundaries)",
                gzip_member(&text, 0),
                usual,
                true,
            ),
            (
                "two members (a skip crosses the first one's trailer)",
                [gzip_member(first, 6), gzip_member(second, 9)].concat(),
                usual,
                true,
            ),
            ("level 1: long blocks", gzip_member(&text, 1), usual, false),
            ("thinned out", gzip_member(&text, 6), 16 << 10, false),
        ];
        let last = text.len() as u64;
        for (name, compressed, spacing, dense) in cases {
            let max_points = if spacing == usual {
                MAX_ENTRY_POINTS
            } else {
                THINNING_CAP
            };
            let (decoded, points) = decode_recording(&compressed, spacing, max_points);
            assert!(decoded.expect(name) == text, "{name}: the first read");
            let most = (last / spacing).min(max_points as u64);
            let count = points.len() as u64;
            assert!(
                count <= most && (!dense || count + 2 >= most),
                "{name}: {count} points, at most {most}"
            );
            assert!(
                spacing == usual || count >= THINNING_CAP as u64 / 2,
                "{name}: thinned to half, not fewer: {count}"
            );
            assert!(
                points
                    .points
                    .windows(2)
                    .all(|w| w[1].decoded - w[0].decoded >= spacing),
                "{name}: spaced"
            );
            assert!(
                points.bytes() < points.len() * (16 << 10),
                "{name}: windows are kept deflated"
            );
            let targets = [
                0,
                1,
                spacing - 1,
                spacing,
                3 * spacing + 17,
                last / 2 + 12_345,
                last - 100,
                last,
            ];
            let points = Arc::new(points);
            for target in targets {
                let mut decoder = GzipDecoder::new(io::Cursor::new(&compressed[..]))
                    .expect("decoder")
                    .with_spacing(spacing)
                    .with_entry_points(Arc::clone(&points));
                decoder
                    .skip_decoded(target)
                    .unwrap_or_else(|e| panic!("{name}, {target}: {e}"));
                let started_at = points.best_between(0, target).map_or(0, |p| p.decoded);
                // Started at a point, or (before the first) decoded from the
                // file's start: not in the same member any more when the
                // skip crossed into the next one.
                let crossed = decoder.compressed > compressed.len() as u64 / 2 && !decoder.resumed;
                assert!(
                    decoder.resumed == (started_at > 0) || crossed,
                    "{name}, {target}: resumed"
                );
                assert!(
                    !dense || target - started_at < 2 * spacing,
                    "{name}, {target}: from {started_at}"
                );
                let mut rest = Vec::new();
                decoder
                    .read_to_end(&mut rest)
                    .unwrap_or_else(|e| panic!("{name}, {target}: {e}"));
                assert!(
                    rest == text[target as usize..],
                    "{name}: the bytes after {target}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Any byte changed, any cut: decoding gives bytes and maybe an
        /// error, never a panic or a hang, and what it gives before a
        /// change is the text's start.
        #[test]
        fn damaged_members_never_panic(
            flips in proptest::collection::vec((0usize..1_000_000, 0u8..=255), 0..4),
            cut in 0usize..1_000_000,
        ) {
            let text = log_text(3_000);
            let mut compressed = gzip_member(&text, 6);
            for &(at, byte) in &flips {
                let at = at % compressed.len();
                compressed[at] ^= byte;
            }
            compressed.truncate(cut % (compressed.len() + 1));
            let mut decoder = GzipDecoder::new(&compressed[..]).expect("decoder");
            let mut decoded = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(n) = decoder.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                decoded.extend_from_slice(&buffer[..n]);
                proptest::prop_assert!(decoded.len() <= 64 << 20, "bounded output");
            }
            if flips.is_empty() {
                proptest::prop_assert!(text.starts_with(&decoded), "a cut gives the text's start");
            }
        }
    }

    #[test]
    fn damage_is_an_error_after_the_bytes_before_it() {
        let text = log_text(20_000);
        let whole = gzip_member(&text, 6);
        let mut junk_second_member = gzip_member(&text[..5_000], 6);
        // Block type 3 does not exist.
        for byte in &mut junk_second_member[10..26] {
            *byte = 0xff;
        }
        let cases: [(&str, Vec<u8>, io::ErrorKind, &str); 4] = [
            (
                "cut mid-stream",
                whole[..whole.len() / 2].to_vec(),
                io::ErrorKind::UnexpectedEof,
                "cut short",
            ),
            (
                "cut inside the trailer",
                whole[..whole.len() - 3].to_vec(),
                io::ErrorKind::UnexpectedEof,
                "cut short",
            ),
            (
                "a corrupt second member",
                [whole.clone(), junk_second_member].concat(),
                io::ErrorKind::InvalidData,
                "corrupt gzip stream",
            ),
            (
                "bytes after the last member that are no gzip header",
                [whole.clone(), b"not gzip".to_vec()].concat(),
                io::ErrorKind::InvalidData,
                "corrupt gzip stream",
            ),
        ];
        for (name, compressed, kind, message) in cases {
            let mut decoder = GzipDecoder::new(&compressed[..]).expect("decoder");
            let mut decoded = Vec::new();
            let mut buffer = [0u8; 4096];
            let error = loop {
                match decoder.read(&mut buffer) {
                    Ok(0) => panic!("{name}: read to the end without an error"),
                    Ok(n) => decoded.extend_from_slice(&buffer[..n]),
                    Err(e) => break e,
                }
            };
            assert_eq!(error.kind(), kind, "{name}: {error}");
            assert!(error.to_string().contains(message), "{name}: {error}");
            assert!(
                text.starts_with(&decoded) || decoded.starts_with(&text),
                "{name}: what was decoded is the text's start"
            );
            assert!(
                decoded.len() > 1000,
                "{name}: the readable part is given: {}",
                decoded.len()
            );
        }
    }
}
