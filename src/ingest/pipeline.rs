//! The access-log hot path's feeders: worker threads ([`ParseWorker`], in
//! [`super::worker`]) each parse chunks of whole lines into their own
//! persistent [`Partial`], merged once at the end. Two ways to feed them:
//!
//! - a plain file ([`run_file`]): every worker takes the next run of up to
//!   32 chunks of 512 KiB and parses the lines that start in each (a run,
//!   not a chunk, so that each minute of a busy log is mostly one
//!   worker's), from a window of the file mapped under a read lease
//!   ([`super::mapped`]) or, without one, read with a positional read into
//!   its own reused, aligned buffer ([`super::read_buffer`]), still in the
//!   core's cache when it parses it;
//! - standard input and gzip ([`run`]): one reader thread reads (and
//!   decodes, which is slower than parsing) into a few buffers that go round
//!   between it and the workers, so decoding overlaps parsing. A decoding
//!   reader keeps a core of its own: the last worker parses only while the
//!   reader waits for the workers ([`ReaderWaits`]), so three threads do not
//!   share two cores while the decoder, the slowest, needs one.
//!
//! Why this shape (measured, see BENCHMARKS.md): a fresh accumulator per
//! chunk and a merge per block cost hash-map growth and merging for every
//! chunk; a worker that keeps its series pays for each bucket and user once.
//! Buckets a worker is done with go to the run's total
//! ([`super::worker::HAND_OVER_AFTER_MS`]), so memory holds each bucket
//! once, not once per worker.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};

use super::IngestOptions;
use super::access::{AccessFormat, AccessParser};
use super::envelope::Envelope;
use super::mapped::Lease;
use super::read_buffer::ReadBuffer;
use super::reader::{Chunk, ChunkReader, DecodedStream, MAX_LINE_BYTES, OVERLONG_LINE_MARK};
use super::recount::{Recount, meets_ranges};
use super::worker::{ParseWorker, SourceResult, combine};
use crate::series::Partial;

/// Chunks queued for the workers, per worker: enough that a worker finishing
/// a chunk finds the next one ready, few enough to keep memory flat.
const QUEUED_CHUNKS_PER_WORKER: usize = 2;

/// The number of parsing threads for a `threads` setting: 0 is one per
/// core rayon would use (`RAYON_NUM_THREADS`, or the pool the call runs in).
pub fn worker_count(threads: usize) -> usize {
    if threads == 0 {
        rayon::current_num_threads().max(1)
    } else {
        threads
    }
}

/// What parsing one input needs, however it is read.
#[derive(Clone, Copy)]
pub struct ParseSetup<'a> {
    pub options: &'a IngestOptions,
    pub parser: &'a AccessParser,
    /// What carries the access lines; opened before parsing.
    pub envelope: Envelope,
    /// Formats tried on lines the parser cannot read.
    pub fallbacks: &'a [&'a AccessFormat],
    /// The input's index in the run (for line references).
    pub input: u32,
    /// The input's host label, when the run reads several hosts' logs.
    pub host: Option<&'a str>,
    /// Parsing threads (see [`worker_count`]).
    pub workers: usize,
    /// A second read ([`super::recount`]): what to count, and the byte
    /// ranges to read again (sorted); other chunks are not parsed.
    pub recount: Option<(&'a Recount, &'a [(u64, u64)])>,
}

impl<'a> ParseSetup<'a> {
    fn worker(&self) -> ParseWorker<'a> {
        ParseWorker::new(self.options, self.parser.clone(), self.input)
            .with_envelope(self.envelope)
            .with_fallbacks(self.fallbacks)
            .with_host(self.host)
            .with_recount(self.recount.map(|(plan, _)| plan))
    }

    /// Whether the chunk of bytes `[from, to)` is to be parsed.
    fn wants(&self, from: u64, to: u64) -> bool {
        self.recount
            .is_none_or(|(_, ranges)| meets_ranges(ranges, from, to))
    }

    /// Where the next range a second read wants starts, at or after
    /// `offset` (a line start: ranges are the first read's chunks).
    fn next_wanted_start(&self, offset: u64) -> Option<u64> {
        let (_, ranges) = self.recount?;
        ranges
            .iter()
            .find(|&&(_, end)| end > offset)
            .map(|&(start, _)| start.max(offset))
    }

    /// Where reading may stop: past the last range a second read wants.
    fn wanted_end(&self) -> Option<u64> {
        self.recount
            .map(|(_, ranges)| ranges.iter().map(|&(_, end)| end).max().unwrap_or(0))
    }

    fn empty_partial(&self) -> Partial {
        let mut partial = Partial::new(self.options.bucket_ms, self.options.ingest_slow_us);
        partial.set_exact_users_bytes(self.options.exact_users_bytes);
        partial
    }
}

/// A chunk on its way to a worker.
struct Job {
    chunk: u64,
    buffer: Vec<u8>,
    len: usize,
}

/// What the reader saw besides the chunks.
pub struct ReadOutcome {
    /// The error that ended reading early, if any.
    pub error: Option<std::io::Error>,
    /// With positional reads, later chunks may have been read before an
    /// earlier one failed: the lines before the failed chunk. `None` when
    /// reading was in order (every line read comes before the error).
    pub lines_before_error: Option<u64>,
    /// Of a stream: each chunk's offset in the decoded text and length,
    /// by chunk number (for [`super::recount`]).
    pub chunk_offsets: Vec<(u64, u64)>,
}

/// The end of a stream held back from the parsers until the stream ends,
/// so the lines it shares with another file can be left out (a compressed
/// rotation's overlap, see [`super::reader::overlap`]) without decoding
/// the file twice.
pub struct HeldTail<'a> {
    /// Bytes of whole lines held back: at least this many (the last
    /// chunks), or the whole stream when it is shorter.
    pub bytes: usize,
    /// Given the held bytes (whole lines, in order) and whether they start
    /// at the stream's start, how many of them to parse.
    pub keep: &'a dyn Fn(&[u8], bool) -> usize,
}

/// Reads the rest of an input (its first chunk already in `first`) and
/// parses it on `workers` threads. `on_chunk` is called on the reading
/// thread after each chunk is read (for progress). With `held_tail`, the
/// last chunks are parsed only once the stream has ended, and only as
/// much of them as it keeps. When the reader is `decoding` (gzip, zstd),
/// it keeps a core of its own: the last worker parses only while the
/// reader waits for the workers ([`ReaderWaits`]); reading standard input
/// is cheap, and there every worker parses all the time.
pub fn run<R: DecodedStream>(
    mut reader: ChunkReader<R>,
    first: (Vec<u8>, Chunk),
    chunk_bytes: usize,
    setup: ParseSetup<'_>,
    on_chunk: &dyn Fn(),
    held_tail: Option<HeldTail<'_>>,
    decoding: bool,
) -> (SourceResult, ReadOutcome) {
    let workers = setup.workers.max(1);
    let (job_sender, job_receiver) = mpsc::sync_channel::<Job>(workers * QUEUED_CHUNKS_PER_WORKER);
    let job_receiver = Arc::new(Mutex::new(job_receiver));
    let (free_sender, free_receiver) = mpsc::channel::<Vec<u8>>();
    // Buffers in circulation: one being filled, the queued ones, one per
    // worker being parsed.
    let max_buffers = 1 + workers * (QUEUED_CHUNKS_PER_WORKER + 1);
    let total = Mutex::new(setup.empty_partial());
    let reader_waits = ReaderWaits::default();
    let (finished, outcome) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|index| {
                let jobs = Arc::clone(&job_receiver);
                let free = free_sender.clone();
                let worker = setup.worker().with_total(&total);
                // A decoding reader takes a core of its own: the last
                // worker only helps while the reader waits for the others.
                let helper =
                    (decoding && workers > 1 && index == workers - 1).then_some(&reader_waits);
                scope.spawn(move || work(worker, &jobs, &free, helper))
            })
            .collect();
        drop(free_sender);
        let outcome = feed(
            &mut reader,
            first,
            chunk_bytes,
            (&job_sender, &free_receiver, &reader_waits),
            max_buffers,
            (on_chunk, &setup),
            held_tail.as_ref(),
        );
        reader_waits.finish();
        drop(job_sender);
        let finished: Vec<ParseWorker<'_>> = handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(worker) => worker,
                // A worker never panics on input; if one did (a bug), the
                // run fails loudly rather than report partial numbers.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect();
        (finished, outcome)
    });
    (
        combine(finished, take_total(&total, &setup), setup.input),
        outcome,
    )
}

/// The buckets the workers handed over (a poisoned lock only means a
/// worker panicked, which is re-raised before this is used).
fn take_total(total: &Mutex<Partial>, setup: &ParseSetup<'_>) -> Partial {
    let empty = setup.empty_partial();
    match total.lock() {
        Ok(mut total) => std::mem::replace(&mut *total, empty),
        Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), empty),
    }
}

/// Whether the reader is waiting for the workers (the queue is full, or
/// every buffer is out): the one time a helper worker parses. Decoding is
/// slower than parsing, and a reader that shares its core with every worker
/// runs at a fraction of it (one `.gz` of the 5 M-line log: 1.03 s with two
/// workers that always parse, BENCHMARKS.md).
#[derive(Default)]
struct ReaderWaits {
    /// (the reader waits, the reader is done).
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl ReaderWaits {
    fn set(&self, waiting: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.0 = waiting;
        }
        if waiting {
            self.changed.notify_all();
        }
    }

    /// The reader will hand out nothing more: helpers drain the queue.
    fn finish(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.changed.notify_all();
    }

    /// Blocks until the reader waits or is done.
    fn until_needed(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        while !state.0 && !state.1 {
            state = match self.changed.wait(state) {
                Ok(state) => state,
                Err(_) => return,
            };
        }
    }

    /// Sends `job`, telling helpers while the queue is full.
    fn send(&self, jobs: &SyncSender<Job>, job: Job) -> Result<(), ()> {
        match jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(()),
            Err(TrySendError::Full(job)) => {
                self.set(true);
                let sent = jobs.send(job).map_err(|_| ());
                self.set(false);
                sent
            }
        }
    }

    /// Waits for a buffer back from the workers, telling helpers.
    fn recv(&self, free: &Receiver<Vec<u8>>) -> Option<Vec<u8>> {
        self.set(true);
        let buffer = free.recv().ok();
        self.set(false);
        buffer
    }
}

/// A worker's loop: parse chunks until the reader is done, return buffers.
/// A helper takes a chunk only when the reader waits for the workers.
fn work<'a>(
    mut worker: ParseWorker<'a>,
    jobs: &Mutex<Receiver<Job>>,
    free: &mpsc::Sender<Vec<u8>>,
    helper: Option<&ReaderWaits>,
) -> ParseWorker<'a> {
    loop {
        if let Some(reader_waits) = helper {
            reader_waits.until_needed();
        }
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => break,
        };
        let Ok(job) = job else { break };
        worker.parse_chunk(job.chunk, &job.buffer[..job.len]);
        // The reader may have stopped taking buffers back; nothing to do.
        let _ = free.send(job.buffer);
    }
    worker
}

/// The reader's loop: hand out the chunk in hand, fill the next buffer.
/// With `held_tail`, chunks wait in `held` while the ones after them hold
/// at least its bytes, and the last ones are cut by it at the end.
fn feed<R: DecodedStream>(
    reader: &mut ChunkReader<R>,
    first: (Vec<u8>, Chunk),
    chunk_bytes: usize,
    (jobs, free, reader_waits): (&SyncSender<Job>, &Receiver<Vec<u8>>, &ReaderWaits),
    max_buffers: usize,
    (on_chunk, setup): (&dyn Fn(), &ParseSetup<'_>),
    held_tail: Option<&HeldTail<'_>>,
) -> ReadOutcome {
    let (mut buffer, mut chunk) = first;
    let mut buffers = 1;
    let mut number = 0u64;
    let mut held: VecDeque<Job> = VecDeque::new();
    let mut held_bytes = 0usize;
    let mut chunk_offsets: Vec<(u64, u64)> = Vec::new();
    let mut offset = 0u64;
    let wanted_end = setup.wanted_end();
    let done = |error, chunk_offsets| ReadOutcome {
        error,
        lines_before_error: None,
        chunk_offsets,
    };
    loop {
        let error = chunk.error.take();
        let job = Job {
            chunk: number,
            buffer,
            len: chunk.len,
        };
        number += 1;
        let from = offset;
        offset += job.len as u64;
        chunk_offsets.push((from, job.len as u64));
        match held_tail {
            // A second read parses only the chunks it wants, and stops
            // reading after the last (a held tail is read to its end: its
            // cut is decided there).
            None if !setup.wants(from, offset) => {
                if error.is_some() || wanted_end.is_some_and(|end| offset >= end) {
                    return done(error, chunk_offsets);
                }
                // Straight to the next wanted line: a `.gz` starts at its
                // entry point before it instead of decoding every byte.
                if let Some(start) = setup.next_wanted_start(offset).filter(|&s| s > offset) {
                    match reader.skip(start - offset) {
                        Ok(true) => offset = start,
                        Ok(false) => {}
                        Err(error) => return done(Some(error), chunk_offsets),
                    }
                }
                buffer = job.buffer;
                match reader.fill(&mut buffer, chunk_bytes) {
                    Some(next) => chunk = next,
                    None => return done(None, chunk_offsets),
                }
                on_chunk();
                continue;
            }
            None => {
                if reader_waits.send(jobs, job).is_err() || error.is_some() {
                    return done(error, chunk_offsets);
                }
            }
            Some(tail) => {
                held_bytes += job.len;
                held.push_back(job);
                while held
                    .front()
                    .is_some_and(|front| held_bytes - front.len >= tail.bytes)
                {
                    let Some(front) = held.pop_front() else { break };
                    held_bytes -= front.len;
                    if reader_waits.send(jobs, front).is_err() {
                        return done(error, chunk_offsets);
                    }
                }
                if error.is_some() {
                    // A damaged stream's end is not compared: all of it is
                    // parsed, as without a held tail.
                    for job in held.drain(..) {
                        if reader_waits.send(jobs, job).is_err() {
                            break;
                        }
                    }
                    return done(error, chunk_offsets);
                }
            }
        }
        // Buffers waiting in `held` are not in circulation: they never
        // come back before the end, so they do not count against the cap.
        buffer = match free.try_recv() {
            Ok(buffer) => buffer,
            Err(_) if buffers < max_buffers + held.len() => {
                buffers += 1;
                Vec::new()
            }
            Err(_) => match reader_waits.recv(free) {
                Some(buffer) => buffer,
                // Every worker is gone; only a bug gets here.
                None => return done(None, chunk_offsets),
            },
        };
        match reader.fill(&mut buffer, chunk_bytes) {
            Some(next) => chunk = next,
            None => {
                if let Some(tail) = held_tail {
                    release_held(held, tail, jobs, reader_waits);
                }
                return done(None, chunk_offsets);
            }
        }
        on_chunk();
    }
}

/// Hands the held chunks to the workers, cut where `tail` says: the
/// chunk holding the cut is shortened (the cut is a line start, and a
/// chunk starts at one), the ones after it are dropped.
fn release_held(
    held: VecDeque<Job>,
    tail: &HeldTail<'_>,
    jobs: &SyncSender<Job>,
    reader_waits: &ReaderWaits,
) {
    let from_start = held.front().is_some_and(|job| job.chunk == 0);
    let mut bytes = Vec::with_capacity(held.iter().map(|job| job.len).sum());
    for job in &held {
        bytes.extend_from_slice(&job.buffer[..job.len]);
    }
    let mut left = (tail.keep)(&bytes, from_start).min(bytes.len());
    for mut job in held {
        if left == 0 {
            break;
        }
        job.len = job.len.min(left);
        left -= job.len;
        if reader_waits.send(jobs, job).is_err() {
            break;
        }
    }
}

/// Bytes of a plain file each worker reads and parses at a time: small
/// enough that the copy out of the page cache is still in the core's L2
/// cache when the same core parses it (measured: see BENCHMARKS.md).
pub const FILE_CHUNK_BYTES: u64 = 512 << 10;

/// At most this many consecutive chunks go to one worker at once (16 MiB):
/// a minute of a busy log then lies (mostly) in one worker's accumulator,
/// so its users are sorted, packed and handed over once rather than once by
/// each worker (measured: 459 -> 430 ms on the 5 M-line log, BENCHMARKS.md).
const MAX_CHUNKS_PER_TAKE: u64 = 32;

/// Takes each worker gets at least, so that the last take leaves the
/// others idle for a small share of the file.
const MIN_TAKES_PER_WORKER: u64 = 8;

/// Consecutive chunks a worker takes at once, for a file of `chunks`.
fn chunks_per_take(chunks: u64, workers: u64) -> u64 {
    (chunks / (workers * MIN_TAKES_PER_WORKER)).clamp(1, MAX_CHUNKS_PER_TAKE)
}

/// Bytes read past a chunk's end to find the end of its last line; a
/// longer line is read in further steps.
const LINE_OVERREAD_BYTES: usize = 4 << 10;

// A line that fits in one positional read is never checked against the
// line cap, so a read must be shorter than the cap.
const _: () = assert!(FILE_CHUNK_BYTES as usize + LINE_OVERREAD_BYTES < MAX_LINE_BYTES);

/// Bytes read at a time while dropping the rest of a line longer than the
/// cap.
const DISCARD_BYTES: usize = 128 << 10;

/// What a plain file's chunks are read from with positional reads: the
/// file itself (and, in tests, a file with a bad stretch).
#[cfg(unix)]
pub trait ReadAt: Sync {
    /// Reads into `buffer` from `offset`; fewer bytes only at the end.
    fn read_at(&self, buffer: &mut [u8], offset: u64) -> io::Result<usize>;
}

#[cfg(unix)]
impl ReadAt for File {
    fn read_at(&self, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buffer, offset)
    }
}

/// Reads and parses a plain file of `len` bytes on `workers` threads, each
/// taking the next run of chunks ([`chunks_per_take`]) of `chunk_bytes`
/// ([`FILE_CHUNK_BYTES`]) and reading each from its mapped window while
/// `lease` holds ([`window_lines`]), else with a positional read: no
/// reader thread, no copy between threads, every core reads and parses.
/// Chunk `k` parses the lines that *start* in its byte range, reading a
/// little past the end for its last line, so each line is parsed once;
/// both ways give the same lines. `on_bytes` is called after each chunk
/// with the bytes done so far.
#[cfg(unix)]
pub fn run_file(
    file: &impl ReadAt,
    lease: Option<&Lease<'_>>,
    len: u64,
    chunk_bytes: u64,
    setup: ParseSetup<'_>,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> (SourceResult, ReadOutcome) {
    let workers = setup.workers.max(1);
    let chunk_bytes = chunk_bytes.max(1);
    let per_take = chunks_per_take(len.div_ceil(chunk_bytes), workers as u64);
    let next_take = AtomicU64::new(0);
    let done_bytes = AtomicU64::new(0);
    let reported = AtomicU64::new(0);
    // The first chunk that could not be read: no worker reads past it, and
    // every chunk before it is still read (a worker may hold a take below
    // it), so the lines before the error are all counted.
    let failed_at = AtomicU64::new(u64::MAX);
    let first_error: Mutex<Option<(u64, io::Error)>> = Mutex::new(None);
    let total = Mutex::new(setup.empty_partial());
    let finished: Vec<ParseWorker<'_>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let mut worker = setup.worker().with_total(&total);
                let (next_take, done_bytes, reported, failed_at, first_error) =
                    (&next_take, &done_bytes, &reported, &failed_at, &first_error);
                scope.spawn(move || {
                    let mut buffer = ReadBuffer::new();
                    let mut window = None;
                    let mut mapping = lease.is_some();
                    let mut taken = 0..0;
                    loop {
                        let chunk = match taken.next() {
                            Some(chunk) => chunk,
                            None => {
                                let first = next_take.fetch_add(1, Ordering::Relaxed) * per_take;
                                taken = first + 1..first + per_take;
                                first
                            }
                        };
                        // Takes only grow: nothing after this is wanted.
                        if chunk >= failed_at.load(Ordering::Relaxed) {
                            break;
                        }
                        let Some(start) = chunk.checked_mul(chunk_bytes).filter(|&s| s < len)
                        else {
                            break;
                        };
                        let end = (start + chunk_bytes).min(len);
                        if !setup.wants(start, end) {
                            continue;
                        }
                        // From the mapped window while the lease holds.
                        let mut from_window = None;
                        if let Some(lease) = lease.filter(|_| mapping) {
                            match window_lines(lease, &mut window, (start, end), len) {
                                Ok(range) => from_window = range,
                                Err(LeaseBroken) => {
                                    (window, mapping) = (None, false);
                                    lease.stop_mapping();
                                }
                            }
                        }
                        let read = match (from_window, &window) {
                            (Some(range), Some(mapped)) => Ok(&mapped.bytes[range]),
                            _ => lines_starting_in(file, (start, end), MAX_LINE_BYTES, &mut buffer)
                                .map(|range| &buffer.bytes()[range]),
                        };
                        match read {
                            Ok(lines) => worker.parse_chunk(chunk, lines),
                            Err(error) => {
                                failed_at.fetch_min(chunk, Ordering::Relaxed);
                                if let Ok(mut first) = first_error.lock()
                                    && first.as_ref().is_none_or(|(at, _)| chunk < *at)
                                {
                                    *first = Some((chunk, error));
                                }
                                worker.parse_chunk(chunk, &[]);
                                break;
                            }
                        }
                        // Chunks finish out of order: report only progress.
                        let done =
                            done_bytes.fetch_add(end - start, Ordering::Relaxed) + (end - start);
                        if reported.fetch_max(done, Ordering::Relaxed) < done {
                            on_bytes(done);
                        }
                    }
                    drop(window);
                    if let Some(lease) = lease.filter(|_| mapping) {
                        lease.stop_mapping();
                    }
                    worker
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(worker) => worker,
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    });
    let first_error = match first_error.into_inner() {
        Ok(first) => first,
        Err(poisoned) => poisoned.into_inner(),
    };
    let lines_before_error = first_error.as_ref().map(|(failed, _)| {
        finished
            .iter()
            .flat_map(|worker| worker.chunk_lines())
            .filter(|(chunk, _)| chunk < failed)
            .map(|(_, lines)| lines)
            .sum()
    });
    (
        combine(finished, take_total(&total, &setup), setup.input),
        ReadOutcome {
            error: first_error.map(|(_, error)| error),
            lines_before_error,
            chunk_offsets: Vec::new(),
        },
    )
}

/// A stretch of a plain file mapped under its lease: a few chunks of a
/// worker's take ([`Lease::window_bytes`]) and a little more for the end
/// of the last line.
struct Window {
    /// Where `bytes` start in the file.
    from: u64,
    bytes: memmap2::Mmap,
}

/// The lease on a mapped file broke: the worker maps no more.
struct LeaseBroken;

/// Where the lines that start in `[start, end)` lie in the worker's mapped
/// window, mapping the next one when the chunk is not in it; `Ok(None)`
/// when its last line runs past a fresh window (the chunk is read with
/// positional reads).
fn window_lines(
    lease: &Lease<'_>,
    window: &mut Option<Window>,
    (start, end): (u64, u64),
    len: u64,
) -> Result<Option<std::ops::Range<usize>>, LeaseBroken> {
    let from = start.saturating_sub(1);
    let lines_in = |mapped: &Window| {
        let skip = usize::try_from(from.checked_sub(mapped.from)?).ok()?;
        let bytes = mapped.bytes.get(skip..)?;
        let reaches_end = mapped.from + mapped.bytes.len() as u64 >= len;
        let range = lines_within(bytes, (start, end), reaches_end)?;
        Some(range.start + skip..range.end + skip)
    };
    if let Some(mapped) = window.as_ref() {
        if let Some(range) = lines_in(mapped) {
            return Ok(Some(range));
        }
        if mapped.from == from {
            return Ok(None);
        }
    }
    // Unmapped first: a worker holds one window at a time.
    *window = None;
    let bytes_wanted = (lease.window_bytes + lease.overread_bytes) as u64;
    let map_len = usize::try_from((len - from).min(bytes_wanted)).map_err(|_| LeaseBroken)?;
    let bytes = lease.map(from, map_len).ok_or(LeaseBroken)?;
    let mapped = window.insert(Window { from, bytes });
    Ok(lines_in(mapped))
}

/// Where the first line that starts in the chunk from `start` (`span`
/// bytes from `start - 1`, or from 0) starts in `bytes`, which hold the
/// file from there: 0 in the file's first chunk, else just past the first
/// newline before the chunk's end. `None` when `bytes` show no such newline
/// (the line running through `start` runs past the end, if `bytes` cover
/// the chunk).
fn first_line_start(bytes: &[u8], start: u64, span: usize) -> Option<usize> {
    if start == 0 {
        return Some(0);
    }
    let at = memchr::memchr(b'\n', &bytes[..span.min(bytes.len())])?;
    Some(at + 1).filter(|&first| first < span)
}

/// Where the lines that *start* in `[start, end)` of a file lie in `bytes`,
/// which hold the file from `start - 1` (from 0 when `start` is 0): the
/// lines [`lines_starting_in`] reads. `None` when `bytes` end before the
/// last of them does and are not the end of the file (`reaches_end`): the
/// chunk is then read another way.
fn lines_within(
    bytes: &[u8],
    (start, end): (u64, u64),
    reaches_end: bool,
) -> Option<std::ops::Range<usize>> {
    let span = usize::try_from(end - start.saturating_sub(1)).ok()?;
    let Some(first) = first_line_start(bytes, start, span) else {
        // No line starts in the chunk, if `bytes` cover it.
        return (bytes.len() >= span || reaches_end).then_some(0..0);
    };
    // The last line starting before `end` ends at the first newline at or
    // after `end - 1`.
    let search_from = span - 1;
    match bytes
        .get(search_from..)
        .and_then(|rest| memchr::memchr(b'\n', rest))
    {
        Some(at) => Some(first..search_from + at + 1),
        None if reaches_end => Some(first..bytes.len()),
        None => None,
    }
}

/// Reads into `buffer` the lines of `file` that start in `[start, end)`
/// (the last one whole, past `end`), and returns where they lie in it. A
/// last line running more than `max_line` bytes past what the first read
/// took is replaced by [`OVERLONG_LINE_MARK`] and the rest of it is read in
/// small steps and dropped, never held.
#[cfg(unix)]
fn lines_starting_in(
    file: &impl ReadAt,
    (start, end): (u64, u64),
    max_line: usize,
    buffer: &mut ReadBuffer,
) -> io::Result<std::ops::Range<usize>> {
    // One byte before the range tells whether a line starts at `start`.
    let from = start.saturating_sub(1);
    buffer.place_for(from);
    let span = (end - from) as usize;
    let mut filled = read_at_most(file, from, buffer, 0, span + LINE_OVERREAD_BYTES)?;
    let Some(first) = first_line_start(&buffer.bytes()[..filled], start, span) else {
        // The line running through `start` runs past `end` too.
        return Ok(0..0);
    };
    // The last line starting before `end` ends at the first newline at or
    // after `end - 1`.
    let mut search_from = span - 1;
    loop {
        if let Some(at) = memchr::memchr(b'\n', &buffer.bytes()[search_from.min(filled)..filled]) {
            return Ok(first..search_from + at + 1);
        }
        search_from = filled;
        // Where the last line starts: no newline after it was read yet.
        let last_start = memchr::memrchr(b'\n', &buffer.bytes()[first..(span - 1).min(filled)])
            .map_or(first, |at| first + at + 1);
        if filled - last_start > max_line {
            return drop_overlong_line(file, from + filled as u64, buffer, first..last_start);
        }
        // Never read more of the last line than the cap and one byte.
        let want = filled
            .max(LINE_OVERREAD_BYTES)
            .min(last_start + max_line + 1 - filled);
        let got = read_at_most(file, from + filled as u64, buffer, filled, want)?;
        if got == 0 {
            // The end of the file: the last line has no newline.
            return Ok(first..filled);
        }
        filled += got;
    }
}

/// Puts [`OVERLONG_LINE_MARK`] after the lines in `kept` (the over-long
/// line started at its end) and reads `file` from `offset` in small steps
/// until that line's newline; returns where the lines and the mark lie.
#[cfg(unix)]
fn drop_overlong_line(
    file: &impl ReadAt,
    mut offset: u64,
    buffer: &mut ReadBuffer,
    kept: std::ops::Range<usize>,
) -> io::Result<std::ops::Range<usize>> {
    let mark_end = kept.end + OVERLONG_LINE_MARK.len();
    buffer.grow(mark_end, kept.end);
    buffer.bytes_mut()[kept.end..mark_end].copy_from_slice(OVERLONG_LINE_MARK);
    loop {
        let got = read_at_most(file, offset, buffer, mark_end, DISCARD_BYTES)?;
        if got == 0 {
            return Ok(kept.start..mark_end);
        }
        if memchr::memchr(b'\n', &buffer.bytes()[mark_end..mark_end + got]).is_some() {
            buffer.bytes_mut()[mark_end] = b'\n';
            return Ok(kept.start..mark_end + 1);
        }
        offset += got as u64;
    }
}

/// Reads up to `want` bytes at `offset` into `buffer[at..]`, growing it;
/// fewer only at the end of the file. Returns the bytes read.
#[cfg(unix)]
fn read_at_most(
    file: &impl ReadAt,
    offset: u64,
    buffer: &mut ReadBuffer,
    at: usize,
    want: usize,
) -> io::Result<usize> {
    buffer.grow(at + want, at);
    let mut got = 0;
    while got < want {
        match file.read_at(
            &mut buffer.bytes_mut()[at + got..at + want],
            offset + got as u64,
        ) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::config::UserKey;
    use crate::ingest::SkippedLine;
    use crate::ingest::mapped;
    use crate::ingest::sniff;
    use crate::series::{Bucket, MIN_DEFAULT_SLOW_US};

    /// One-minute buckets.
    const BUCKET_MS: i64 = 60_000;

    fn options(threads: usize) -> IngestOptions {
        IngestOptions {
            bucket_ms: BUCKET_MS,
            ingest_slow_us: MIN_DEFAULT_SLOW_US,
            user_key: UserKey::IpUserAgent,
            forced_format: None,
            since: None,
            until: None,
            threads,
            evidence: crate::ingest::evidence::EvidenceOptions::default(),
            edge_capture: Vec::new(),
            exact_users_bytes: crate::series::user_sketch::DEFAULT_EXACT_USERS_BYTES,
        }
    }

    #[test]
    fn a_take_is_a_run_of_chunks_that_leaves_every_worker_several() {
        // (case, chunks in the file, workers, chunks per take)
        let cases = [
            ("an empty file still takes one at a time", 0, 2, 1),
            ("a file smaller than a take per worker", 10, 2, 1),
            ("exactly eight takes each", 160, 2, 10),
            (
                "the 1.1 GB benchmark log: the cap",
                2_124,
                2,
                MAX_CHUNKS_PER_TAKE,
            ),
            ("more workers, shorter takes", 160, 8, 2),
        ];
        for (case, chunks, workers, expected) in cases {
            assert_eq!(chunks_per_take(chunks, workers), expected, "{case}");
        }
    }

    /// A log with what chunk edges could get wrong: bad requests whose
    /// line numbers the series keeps, requests logged out of arrival order,
    /// skipped lines, an empty line, CRLF, a line longer than the small
    /// chunks, and no newline at the end.
    fn tricky_log() -> Vec<u8> {
        let mut text = Vec::new();
        let mut state = 12_345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        for i in 0..3_000u64 {
            let second = 600 + i / 4;
            let latency_ms = if next() % 10 == 0 {
                2_500
            } else {
                next() % 400
            };
            let status = match next() % 20 {
                0 => 503,
                1 => 499,
                2 => 404,
                _ => 200,
            };
            match i {
                100 => text.extend_from_slice(b"not an access line\n"),
                200 => text.extend_from_slice(b"\n"),
                300 => text.extend_from_slice(b"  \r\n"),
                _ => {}
            }
            let agent = if i == 400 {
                "x".repeat(5_000)
            } else {
                format!("agent {}", next() % 7)
            };
            let ending = if i % 50 == 0 { "\r\n" } else { "\n" };
            write!(
                text,
                "10.0.{}.{} - - [12/Mar/2024:{:02}:{:02}:{:02} +0100] \"GET /p/{i} HTTP/1.1\" {status} {} \"-\" \"{agent}\" {}.{:03}{ending}",
                next() % 3,
                next() % 50,
                10 + second / 3600,
                second / 60 % 60,
                second % 60,
                next() % 9_000,
                latency_ms / 1000,
                latency_ms % 1000,
            )
            .expect("vec");
        }
        text.extend_from_slice(b"10.0.0.1 - - [12/Mar/2024:10:59:59 +0100] \"GET / HTTP/1.1\" 500 1 \"-\" \"last\" 0.001");
        text
    }

    /// One input without fallbacks or host, on `options.threads` workers.
    fn setup<'a>(options: &'a IngestOptions, parser: &'a AccessParser) -> ParseSetup<'a> {
        ParseSetup {
            options,
            parser,
            envelope: Envelope::Bare,
            fallbacks: &[],
            input: 0,
            host: None,
            workers: options.threads,
            recount: None,
        }
    }

    fn parser() -> AccessParser {
        sniff::preset_by_name("combined+request_time")
            .expect("preset")
            .parser()
    }

    /// What a result says, in comparable form.
    fn summary(result: SourceResult) -> (Vec<Bucket>, Vec<u64>, Vec<SkippedLine>, Option<i32>) {
        let tally = &result.tally;
        let counts = vec![
            tally.lines,
            tally.parsed,
            tally.skipped,
            tally.out_of_range,
            tally.first as u64,
            tally.last as u64,
        ];
        let offset = result.offsets.most_common();
        let access = result.partial.finish(1_000).expect("short series");
        (access.series.buckets, counts, result.examples, offset)
    }

    fn one_pass(log: &[u8]) -> SourceResult {
        let options = options(1);
        let mut worker = ParseWorker::new(&options, parser(), 0);
        worker.parse_chunk(0, log);
        combine(
            vec![worker],
            Partial::new(BUCKET_MS, MIN_DEFAULT_SLOW_US),
            0,
        )
    }

    /// A file whose bytes from `bad_from` on cannot be read (a bad stretch
    /// of disk): a read starting there fails, one running into it stops
    /// short of it.
    struct BadFrom {
        text: Vec<u8>,
        bad_from: usize,
    }

    impl ReadAt for BadFrom {
        fn read_at(&self, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
            let offset = usize::try_from(offset).unwrap_or(usize::MAX);
            if offset >= self.bad_from {
                return Err(io::Error::other("injected read error"));
            }
            let end = offset
                .saturating_add(buffer.len())
                .min(self.bad_from)
                .min(self.text.len());
            let got = end.saturating_sub(offset);
            buffer[..got].copy_from_slice(&self.text[offset..end]);
            Ok(got)
        }
    }

    #[test]
    fn a_read_error_keeps_every_chunk_before_it_whoever_took_it() {
        let log = tricky_log();
        // A line start two thirds in: the chunk holding it is the first
        // that cannot be read.
        let bad_from = memchr::memchr(b'\n', &log[log.len() * 2 / 3..]).expect("a line")
            + log.len() * 2 / 3
            + 1;
        // (case, chunk bytes, workers)
        let cases = [
            ("takes of many chunks, two workers", 97u64, 2),
            ("takes of a few chunks, three workers", 1_024, 3),
            ("one chunk a take", 16_384, 2),
        ];
        for (case, chunk_bytes, workers) in cases {
            // The first chunk that fails is the first whose read (the chunk,
            // the byte before it and the overread for its last line) runs
            // into the bad stretch; every line that starts before it counts.
            let reaches_bad = |chunk: u64| {
                let start = chunk * chunk_bytes;
                let end = (start + chunk_bytes).min(log.len() as u64);
                end as usize + LINE_OVERREAD_BYTES > bad_from
            };
            let failed = (0..)
                .find(|&chunk| reaches_bad(chunk))
                .expect("a chunk fails");
            let boundary = (failed * chunk_bytes) as usize;
            let kept_end = match boundary {
                0 => 0,
                _ => memchr::memchr(b'\n', &log[boundary - 1..]).expect("a newline") + boundary,
            };
            let expected_lines = one_pass(&log[..kept_end]).tally.lines;
            let (options, parser) = (options(workers), parser());
            let file = BadFrom {
                text: log.clone(),
                bad_from,
            };
            let (result, outcome) = run_file(
                &file,
                None,
                log.len() as u64,
                chunk_bytes,
                setup(&options, &parser),
                &|_| {},
            );
            assert!(outcome.error.is_some(), "{case}: the error is reported");
            assert_eq!(
                outcome.lines_before_error,
                Some(expected_lines),
                "{case}: lines before it"
            );
            assert!(
                result.tally.lines >= expected_lines,
                "{case}: every line before it was read"
            );
        }
    }

    #[test]
    fn chunked_parallel_reading_equals_one_pass() {
        let log = tricky_log();
        let expected = summary(one_pass(&log));
        assert_eq!(expected.1[0], 3_004, "lines counted");
        assert_eq!(
            expected.1[2], 3,
            "skipped: the garbage, empty and blank lines"
        );
        assert_eq!(
            expected.2.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![101, 202, 303],
            "skipped lines keep their numbers"
        );
        // Leased and mapped: the file open only for reading.
        let (_path, file) = read_only_file(&log);
        for workers in [1, 2, 3] {
            for chunk_bytes in [1u64, 97, 4_096, FILE_CHUNK_BYTES] {
                // (how, the mapped window and overread, if mapped): a window
                // smaller than a chunk, windows of a few chunks with an
                // overread shorter than some lines (those chunks are read
                // positionally), the real sizes.
                let ways = [
                    ("positional reads", None),
                    ("mapped, 50-byte windows", Some((50, 4_096))),
                    (
                        "mapped, 4 KiB windows, 100-byte overread",
                        Some((4_096, 100)),
                    ),
                    (
                        "mapped",
                        Some((mapped::MAPPED_WINDOW_BYTES, mapped::MAPPED_OVERREAD_BYTES)),
                    ),
                ];
                for (how, window) in ways {
                    let (options, parser) = (options(workers), parser());
                    let setup = setup(&options, &parser);
                    let lease = window.map(|(window_bytes, overread_bytes)| {
                        let mut lease =
                            Lease::take(&file, workers).expect("a lease on our own file");
                        (lease.window_bytes, lease.overread_bytes) = (window_bytes, overread_bytes);
                        lease
                    });
                    let (result, outcome) = run_file(
                        &file,
                        lease.as_ref(),
                        log.len() as u64,
                        chunk_bytes,
                        setup,
                        &|_| {},
                    );
                    assert!(outcome.error.is_none());
                    assert!(
                        summary(result) == expected,
                        "{how}, {workers} workers, {chunk_bytes}-byte chunks"
                    );
                    if let Some(lease) = lease {
                        assert!(lease.windows_mapped() > 0, "{how}: windows were mapped");
                        assert!(
                            !lease.holds(),
                            "{how}: the lease is given up when reading ends"
                        );
                    }
                }
            }
            // A decoding reader (the last worker a helper) and standard input.
            for (chunk_bytes, decoding) in [1usize, 97, 4_096]
                .into_iter()
                .flat_map(|bytes| [(bytes, true), (bytes, false)])
            {
                let (options, parser) = (options(workers), parser());
                let setup = setup(&options, &parser);
                let mut reader = ChunkReader::new(&log[..]);
                let mut first = Vec::new();
                let chunk = reader.fill(&mut first, chunk_bytes).expect("not empty");
                let (result, outcome) = run(
                    reader,
                    (first, chunk),
                    chunk_bytes,
                    setup,
                    &|| {},
                    None,
                    decoding,
                );
                assert!(outcome.error.is_none());
                assert!(
                    summary(result) == expected,
                    "streaming, {workers} workers, decoding {decoding}, {chunk_bytes}-byte chunks"
                );
            }
        }
    }

    /// `text` in a temporary file (removed when the path is dropped), open
    /// only for reading, so that it can be leased.
    fn read_only_file(text: &[u8]) -> (tempfile::TempPath, File) {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text).expect("write");
        let path = file.into_temp_path();
        let file = File::open(&path).expect("open for reading");
        (path, file)
    }

    /// A lease that breaks (another process would truncate the file) before
    /// the workers start: no window is mapped, every chunk is read with
    /// positional reads, and the result is the same.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_broken_lease_reads_positionally() {
        let log = tricky_log();
        let expected = summary(one_pass(&log));
        let (path, file) = read_only_file(&log);
        let lease = Lease::take(&file, 2).expect("a lease on our own file");
        assert!(!mapped::truncate_elsewhere(&path), "held back by the lease");
        let (options, parser) = (options(2), parser());
        let (result, outcome) = run_file(
            &file,
            Some(&lease),
            log.len() as u64,
            4_096,
            setup(&options, &parser),
            &|_| {},
        );
        assert!(outcome.error.is_none());
        assert!(
            summary(result) == expected,
            "positional reads after the break"
        );
        assert_eq!(lease.windows_mapped(), 0);
    }

    /// The file `0123\n567\n9` in chunks of 4 bytes: each case gives the
    /// bytes handed over (from `start - 1`) and the lines expected.
    #[test]
    fn lines_within_finds_the_lines_that_start_in_a_chunk() {
        let file = b"0123\n567\n9";
        /// (case, chunk, bytes handed over, they reach the file's end,
        /// the lines expected)
        type Case<'a> = (&'a str, (u64, u64), usize, bool, Option<&'a [u8]>);
        let cases: [Case; 7] = [
            (
                "first chunk: its line ends past it",
                (0, 4),
                10,
                true,
                Some(b"0123\n"),
            ),
            (
                "first chunk, the window ends too soon",
                (0, 4),
                4,
                false,
                None,
            ),
            ("a chunk where no line starts", (1, 5), 9, true, Some(b"")),
            (
                "a line starts right after the newline",
                (4, 8),
                6,
                true,
                Some(b"567\n"),
            ),
            (
                "the last line, without a newline",
                (8, 10),
                3,
                true,
                Some(b"9"),
            ),
            (
                "the last line, more of the file unmapped",
                (8, 10),
                3,
                false,
                None,
            ),
            ("a window shorter than the chunk", (5, 9), 2, false, None),
        ];
        for (name, (start, end), len, reaches_end, expected) in cases {
            let from = start.saturating_sub(1) as usize;
            let bytes = &file[from..(from + len).min(file.len())];
            let lines = lines_within(bytes, (start, end), reaches_end).map(|range| &bytes[range]);
            assert_eq!(lines, expected, "{name}");
        }
    }

    /// Every chunk's lines of `text`, read positionally and joined.
    fn positional_lines(text: &[u8], chunk_bytes: u64, max_line: usize) -> Vec<u8> {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text).expect("write");
        let len = text.len() as u64;
        let mut joined = Vec::new();
        let mut buffer = ReadBuffer::new();
        for start in (0..len).step_by(chunk_bytes as usize) {
            let end = (start + chunk_bytes).min(len);
            let range = lines_starting_in(file.as_file(), (start, end), max_line, &mut buffer)
                .expect("read");
            joined.extend_from_slice(&buffer.bytes()[range]);
        }
        joined
    }

    #[test]
    fn positional_reads_mark_lines_over_the_cap() {
        let max_line = 10_000;
        let x = |n: usize| vec![b'x'; n];
        let mark = OVERLONG_LINE_MARK;
        let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
            (
                "a line of exactly the cap is kept",
                [b"a\n".to_vec(), x(max_line), b"\nb\n".to_vec()].concat(),
                [b"a\n".to_vec(), x(max_line), b"\nb\n".to_vec()].concat(),
            ),
            (
                "one byte over the cap is marked",
                [b"a\n".to_vec(), x(max_line + 1), b"\nb\n".to_vec()].concat(),
                [b"a\n", mark, b"\nb\n"].concat(),
            ),
            (
                "a long last line without a newline",
                [b"a\n".to_vec(), x(5 * max_line)].concat(),
                [b"a\n", mark].concat(),
            ),
            (
                "two long lines in a row",
                [
                    x(3 * max_line),
                    b"\n".to_vec(),
                    x(2 * max_line),
                    b"\nend".to_vec(),
                ]
                .concat(),
                [mark, b"\n", mark, b"\nend"].concat(),
            ),
        ];
        for (name, text, expected) in cases {
            for chunk_bytes in [7u64, 97, 1_024] {
                let joined = positional_lines(&text, chunk_bytes, max_line);
                assert!(joined == expected, "{name}, {chunk_bytes}-byte chunks");
            }
        }
    }
}
