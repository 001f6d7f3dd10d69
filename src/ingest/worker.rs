//! One parsing thread's work on the access-log hot path: a [`ParseWorker`]
//! splits chunks into lines, parses each (trying the other formats on a
//! line its parser cannot read), and folds every request into its one
//! [`Partial`] ([`Partial::record`]); [`combine`] merges the workers of an
//! input with [`Partial::merge`]. The feeders are in [`super::pipeline`].
//!
//! Line numbers stay exact although workers see chunks out of order: a
//! worker records line `n` of chunk `s` as `s << 32 | n`, which sorts like
//! the real line number, so "the earlier line wins" comparisons while folding
//! are already right; once every chunk's line count is known the numbers are
//! translated ([`crate::series::SeriesBuilder::remap_lines`]).

use std::sync::Mutex;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::IngestOptions;
use super::access::{AccessFormat, AccessParser};
use super::envelope::Envelope;
use super::reader;
use super::record::{self, AccessRecord, upstream_items};
use super::recount::{ChunkSpan, EdgeRequest, Recount, RecountTally};
use super::stats::{MAX_SKIPPED_EXAMPLES, SkippedLine};
use crate::config::UserKey;
use crate::series::dims::Outcome;
use crate::series::paths::request_path;
use crate::series::{LineRef, Partial, Request, RequestFacts, UpstreamAttempt, is_failed_status};
use crate::timefmt::{Millis, WRITABLE_MS};

/// Bits of a provisional line number that hold the line within its chunk;
/// the chunk's sequence number sits above them. A chunk holds a few hundred
/// KiB plus one line, far below 2^32 lines (which would take 4 GiB of
/// newlines).
const LINE_BITS: u32 = 32;

/// How far (in log time) behind the latest request a worker keeps buckets
/// open before handing them to the run's total. nginx logs a request when it
/// completes, so arrivals run behind the log by up to the longest request
/// time (60 s is the usual proxy timeout); a later straggler reopens the
/// bucket in the worker and is merged in again, which is correct, only
/// slower.
pub const HAND_OVER_AFTER_MS: i64 = 5 * 60_000;

/// Most lines of the server's own messages (HAProxy's `Proxy www
/// started.`) kept per worker for the event reader: a proxy writes a few a
/// day, a flapping health check a few a minute; beyond this many the rest
/// are counted as skipped, so a file of nothing but messages stays bounded.
pub const MAX_MESSAGE_LINES: usize = 20_000;

/// The skip reason of message lines beyond [`MAX_MESSAGE_LINES`].
const TOO_MANY_MESSAGES: &str =
    "a server message beyond the first 20000 of this input: not read as an event";

/// The provisional number of line `line` (1-based) of chunk `chunk`.
#[inline]
fn provisional_line(chunk: u64, line: u64) -> u64 {
    (chunk << LINE_BITS) | line
}

/// Counts and first/last times of one run of lines; adds up.
#[derive(Clone, Debug)]
pub struct LineTally {
    pub lines: u64,
    pub parsed: u64,
    pub skipped: u64,
    /// Lines that are the server's own messages, handed to the event reader.
    pub messages: u64,
    pub out_of_range: u64,
    /// Requests with status 0 (no response was sent: the client went away).
    pub no_response: u64,
    pub first: Millis,
    pub last: Millis,
}

impl Default for LineTally {
    fn default() -> Self {
        LineTally {
            lines: 0,
            parsed: 0,
            skipped: 0,
            messages: 0,
            out_of_range: 0,
            no_response: 0,
            first: Millis::MAX,
            last: Millis::MIN,
        }
    }
}

impl LineTally {
    fn add(&mut self, other: &LineTally) {
        self.lines += other.lines;
        self.parsed += other.parsed;
        self.skipped += other.skipped;
        self.messages += other.messages;
        self.out_of_range += other.out_of_range;
        self.no_response += other.no_response;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// What one parsing thread keeps: its partial and counts for the whole
/// input, fed one chunk at a time in file order.
pub struct ParseWorker<'a> {
    options: &'a IngestOptions,
    parser: AccessParser,
    input: u32,
    /// What carries the access lines, opened before the parser sees them.
    envelope: Envelope,
    /// Where an envelope that must unescape (Docker JSON) puts the line;
    /// reused, so it stops allocating once it fits the longest line.
    scratch: Vec<u8>,
    /// Formats tried, in order, on a line the parser cannot read; only a
    /// format that reads the whole line is taken.
    fallbacks: &'a [&'a AccessFormat],
    /// The fallbacks in the order to try them: the last one that worked
    /// first, so a file mixing two formats pays one failed attempt a line.
    fallback_order: Vec<usize>,
    /// Lines read by each fallback format, aligned with `fallbacks`.
    fallback_lines: Vec<u64>,
    /// [`super::record::field_bits`] of the optional fields seen.
    field_bits: u8,
    /// The host label's id in the partial's hosts, when the run reads
    /// several hosts' logs.
    host_id: Option<u16>,
    /// The recent buckets, still being filled, and everything else this
    /// worker folded.
    partial: Partial,
    /// Where older buckets go, so memory holds each bucket once, not once
    /// per worker; `None` keeps everything here.
    total: Option<&'a Mutex<Partial>>,
    /// Buckets before this index have been handed over.
    handed_over_before: i64,
    tally: LineTally,
    offsets: OffsetTally,
    /// `(chunk, lines in it)` for every chunk this worker parsed.
    chunk_lines: Vec<(u64, u64)>,
    /// `(chunk, first arrival, last arrival)` of every chunk that held a
    /// request, for a second read of an incident's edges.
    chunk_arrivals: Vec<(u64, Millis, Millis)>,
    /// On a second read: what to count (requests are counted in
    /// `window_counts` and not folded).
    recount: Option<&'a Recount>,
    recounted: RecountTally,
    /// The requests of [`IngestOptions::edge_capture`]'s windows.
    edge_requests: Vec<EdgeRequest>,
    /// The first skipped lines this worker saw, with provisional numbers.
    examples: Vec<(u64, &'static str)>,
    /// The server's own message lines (copied: they are few), with
    /// provisional numbers.
    messages: Vec<(u64, Vec<u8>)>,
}

impl<'a> ParseWorker<'a> {
    pub fn new(options: &'a IngestOptions, parser: AccessParser, input: u32) -> Self {
        ParseWorker {
            options,
            parser,
            input,
            envelope: Envelope::Bare,
            scratch: Vec::new(),
            fallbacks: &[],
            fallback_order: Vec::new(),
            fallback_lines: Vec::new(),
            field_bits: 0,
            host_id: None,
            partial: {
                let mut partial = Partial::new(options.bucket_ms, options.ingest_slow_us);
                partial.set_exact_users_bytes(options.exact_users_bytes);
                partial
            },
            total: None,
            handed_over_before: i64::MIN,
            tally: LineTally::default(),
            offsets: OffsetTally::default(),
            chunk_lines: Vec::new(),
            chunk_arrivals: Vec::new(),
            recount: None,
            recounted: RecountTally::default(),
            edge_requests: Vec::new(),
            examples: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// Opens every line with `envelope` before parsing it.
    pub fn with_envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// Tries `fallbacks` on lines the parser cannot read.
    pub fn with_fallbacks(mut self, fallbacks: &'a [&'a AccessFormat]) -> Self {
        self.fallbacks = fallbacks;
        self.fallback_order = (0..fallbacks.len()).collect();
        self.fallback_lines = vec![0; fallbacks.len()];
        self
    }

    /// Counts every request under the host label `host` too.
    pub fn with_host(mut self, host: Option<&str>) -> Self {
        self.host_id = host.map(|label| self.partial.intern_host(label.as_bytes()));
        self
    }

    /// Counts the requests of `recount`'s windows instead of folding
    /// requests in (a second read).
    pub fn with_recount(mut self, recount: Option<&'a Recount>) -> Self {
        self.recount = recount;
        self.recounted = recount.map(RecountTally::for_plan).unwrap_or_default();
        self
    }

    /// Hands buckets older than [`HAND_OVER_AFTER_MS`] to `total` after
    /// each chunk.
    pub fn with_total(mut self, total: &'a Mutex<Partial>) -> Self {
        self.total = Some(total);
        self
    }

    fn hand_over_old_buckets(&mut self) {
        let (Some(total), Some(latest)) = (self.total, self.partial.buckets.latest_index()) else {
            return;
        };
        let bucket_ms = self.partial.bucket_ms();
        let horizon = (HAND_OVER_AFTER_MS + bucket_ms - 1) / bucket_ms + 1;
        let before = latest.saturating_sub(horizon);
        if before <= self.handed_over_before {
            return;
        }
        self.handed_over_before = before;
        let old = self.partial.buckets.take_before(before);
        if old.is_empty() {
            return;
        }
        // A poisoned lock means another worker panicked; the run is failing.
        if let Ok(mut total) = total.lock() {
            total.buckets.absorb(old);
        }
    }

    /// `(chunk, lines in it)` for every chunk this worker parsed.
    pub fn chunk_lines(&self) -> &[(u64, u64)] {
        &self.chunk_lines
    }

    fn skip(&mut self, line: u64, reason: &'static str) {
        self.tally.skipped += 1;
        if self.examples.len() < MAX_SKIPPED_EXAMPLES {
            self.examples.push((line, reason));
        }
    }

    /// Keeps a line that is the server's own message for the event reader.
    #[inline(never)]
    fn message(&mut self, line_number: u64, line: &[u8]) {
        if self.messages.len() >= MAX_MESSAGE_LINES {
            self.skip(line_number, TOO_MANY_MESSAGES);
            return;
        }
        self.tally.messages += 1;
        self.messages.push((line_number, line.to_vec()));
    }

    /// Parses chunk number `chunk` (whole lines; the last may lack its
    /// newline) and folds it in. Chunks must come in increasing order.
    pub fn parse_chunk(&mut self, chunk: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            self.chunk_lines.push((chunk, 0));
            return;
        }
        let options = self.options;
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut line_in_chunk = 0u64;
        let (mut chunk_first, mut chunk_last) = (Millis::MAX, Millis::MIN);
        let mut start = 0;
        let ends = crate::scan::newlines(bytes)
            .chain((bytes.last() != Some(&b'\n')).then_some(bytes.len()));
        for end in ends {
            let raw = &bytes[start..end];
            start = end + 1;
            line_in_chunk += 1;
            let line_number = provisional_line(chunk, line_in_chunk);
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            // A line the reader did not keep (over the cap, cut by damage).
            if line.first() == Some(&0)
                && let Some(reason) = reader::marked_line_reason(line)
            {
                self.skip(line_number, reason);
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                self.skip(line_number, "empty line");
                continue;
            }
            // Through syslog, a line that holds no request is a message of
            // the log's other programs (or the proxy's own): an event.
            let through_syslog = self.envelope == Envelope::Syslog;
            let whole_line = line;
            let line = match self.envelope {
                Envelope::Bare => line,
                envelope => match envelope.open(line, &mut scratch) {
                    Ok(inner) => inner,
                    Err(_) if through_syslog => {
                        self.message(line_number, whole_line);
                        continue;
                    }
                    Err(error) => {
                        self.skip(line_number, error.reason);
                        continue;
                    }
                },
            };
            // The record is used where the parser built it (a reference into
            // `parsed`), not moved out: it is ~300 bytes, and the move was a
            // copy on every line (callgrind).
            let parsed = self.parser.parse_with_rest(line);
            let from_fallback;
            let record = match &parsed {
                Ok((record, _)) => record,
                Err(error) if error.is_directive => {
                    self.parser.apply_directive(line);
                    self.skip(line_number, error.reason);
                    continue;
                }
                Err(error) => {
                    match parse_with_fallbacks(line, self.fallbacks, &mut self.fallback_order) {
                        Some((record, index)) => {
                            self.fallback_lines[index] += 1;
                            from_fallback = record;
                            &from_fallback
                        }
                        // The server's own message (a request of another
                        // format in the same file was taken above).
                        // Through syslog, any line without a request is an
                        // event, and the event reader reads the whole line.
                        None if error.is_message || through_syslog => {
                            self.message(
                                line_number,
                                if through_syslog { whole_line } else { line },
                            );
                            continue;
                        }
                        None => {
                            self.skip(line_number, error.reason);
                            continue;
                        }
                    }
                }
            };
            let arrival = record.arrival();
            // Status 0: no response was sent (the client went away, or no
            // upstream answered before it did). It counts as a request but
            // has no response time to call slow.
            let duration_us = record.duration_us.filter(|_| record.status != 0);
            // A request time of 10^100 s (damage) would put the arrival
            // before any date a report can write.
            if !WRITABLE_MS.contains(&arrival) {
                self.skip(
                    line_number,
                    "expected a request time that does not reach back before the year 0000",
                );
                continue;
            }
            self.tally.parsed += 1;
            self.field_bits |= record.field_mask();
            // Empty but for `postmortem impact`: one branch a line.
            if !options.edge_capture.is_empty()
                && options
                    .edge_capture
                    .iter()
                    .any(|&(from, to)| (from..=to).contains(&arrival))
            {
                self.edge_requests.push(EdgeRequest {
                    arrival,
                    failed: is_failed_status(record.status),
                    duration_us,
                });
            }
            if options.since.is_some_and(|since| arrival < since)
                || options.until.is_some_and(|until| arrival > until)
            {
                self.tally.out_of_range += 1;
                continue;
            }
            chunk_first = chunk_first.min(arrival);
            chunk_last = chunk_last.max(arrival);
            if let Some(recount) = self.recount {
                recount.add(
                    &mut self.recounted,
                    arrival,
                    record.status,
                    duration_us,
                    || user_hash(record, options.user_key),
                );
                continue;
            }
            self.offsets.add(record.offset_seconds, record.logged_at);
            self.tally.no_response += u64::from(record.status == 0);
            self.tally.first = self.tally.first.min(arrival);
            self.tally.last = self.tally.last.max(arrival);
            let request = Request {
                facts: RequestFacts {
                    arrival,
                    status: record.status,
                    duration_us,
                    user: user_hash(record, options.user_key),
                    line: LineRef {
                        input: self.input,
                        line: line_number,
                    },
                },
                client: record.client,
                path: record.path.or_else(|| request_path(record.request)),
                host: self.host_id,
            };
            self.partial
                .record(&request, upstream_attempts(record, duration_us));
        }
        self.scratch = scratch;
        self.tally.lines += line_in_chunk;
        self.chunk_lines.push((chunk, line_in_chunk));
        if chunk_first <= chunk_last {
            self.chunk_arrivals.push((chunk, chunk_first, chunk_last));
        }
        self.hand_over_old_buckets();
    }
}

/// Everything the workers of one input found, with real line numbers.
pub struct SourceResult {
    pub partial: Partial,
    pub tally: LineTally,
    pub offsets: OffsetTally,
    pub examples: Vec<SkippedLine>,
    /// [`super::record::field_bits`] of the optional fields seen.
    pub field_bits: u8,
    /// Lines read by each fallback format.
    pub fallback_lines: Vec<u64>,
    /// The server's own message lines, by line number (see
    /// [`MAX_MESSAGE_LINES`]), for the event reader.
    pub messages: Vec<(u64, Vec<u8>)>,
    /// `(chunk, first arrival, last arrival)` of the chunks that held a
    /// request, in chunk order.
    pub chunk_arrivals: Vec<(u64, Millis, Millis)>,
    /// Where those chunks lie in the input (filled by the feeder's caller,
    /// which knows the chunks' bytes).
    pub chunk_spans: Vec<ChunkSpan>,
    /// A gzip input's entry points (filled by the feeder's caller).
    pub entry_points: Option<std::sync::Arc<super::reader::EntryPoints>>,
    /// On a second read: the requests and users of each window.
    pub recounted: RecountTally,
    /// The requests of [`IngestOptions::edge_capture`]'s windows.
    pub edge_requests: Vec<EdgeRequest>,
}

/// Merges the workers' partials and `handed_over` (the buckets they handed
/// over) and turns provisional line numbers into real ones.
pub fn combine(workers: Vec<ParseWorker<'_>>, handed_over: Partial, input: u32) -> SourceResult {
    let mut chunk_lines: Vec<(u64, u64)> = Vec::new();
    let mut examples: Vec<(u64, &'static str)> = Vec::new();
    let mut messages: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut tally = LineTally::default();
    let mut offsets = OffsetTally::default();
    let mut field_bits = 0;
    let mut fallback_lines: Vec<u64> = Vec::new();
    let mut chunk_arrivals: Vec<(u64, Millis, Millis)> = Vec::new();
    let mut recounted = RecountTally::default();
    let mut edge_requests = Vec::new();
    // The first worker's partial is taken as it is and the others merged
    // into it, so a dimension keeps the first worker's values in the order
    // it met them.
    let mut merged: Option<Partial> = None;
    for mut worker in workers {
        chunk_lines.extend_from_slice(&worker.chunk_lines);
        chunk_arrivals.extend_from_slice(&worker.chunk_arrivals);
        recounted.merge(std::mem::take(&mut worker.recounted));
        edge_requests.append(&mut worker.edge_requests);
        examples.extend_from_slice(&worker.examples);
        messages.append(&mut worker.messages);
        tally.add(&worker.tally);
        offsets.merge(&worker.offsets);
        field_bits |= worker.field_bits;
        fallback_lines.resize(worker.fallback_lines.len().max(fallback_lines.len()), 0);
        for (total, lines) in fallback_lines.iter_mut().zip(&worker.fallback_lines) {
            *total += lines;
        }
        worker.partial.buckets.settle_users();
        match &mut merged {
            Some(merged) => merged.merge(worker.partial),
            None => merged = Some(worker.partial),
        }
    }
    let mut partial = match merged {
        Some(mut merged) => {
            merged.merge(handed_over);
            merged
        }
        None => handed_over,
    };
    chunk_lines.sort_unstable();
    // Lines before each chunk, indexed by chunk number (chunks are numbered
    // 0, 1, 2... by the reader).
    let mut lines_before = Vec::with_capacity(chunk_lines.len());
    let mut running = 0u64;
    for &(_, lines) in &chunk_lines {
        lines_before.push(running);
        running += lines;
    }
    let real_line = |provisional: u64| {
        let chunk = (provisional >> LINE_BITS) as usize;
        let line = provisional & ((1u64 << LINE_BITS) - 1);
        lines_before
            .get(chunk)
            .map_or(provisional, |before| before + line)
    };
    partial.buckets.remap_lines(input, real_line);
    examples.sort_unstable();
    examples.truncate(MAX_SKIPPED_EXAMPLES);
    messages.sort_unstable_by_key(|(line, _)| *line);
    for (line, _) in &mut messages {
        *line = real_line(*line);
    }
    chunk_arrivals.sort_unstable();
    SourceResult {
        messages,
        chunk_arrivals,
        chunk_spans: Vec::new(),
        entry_points: None,
        recounted,
        edge_requests,
        partial,
        tally,
        offsets,
        field_bits,
        fallback_lines,
        examples: examples
            .into_iter()
            .map(|(line, reason)| SkippedLine {
                line: real_line(line),
                reason: reason.to_string(),
            })
            .collect(),
    }
}

/// How many offsets a chunk tallies before it stops adding new ones: logs
/// carry one or two (DST), never many.
const MAX_OFFSETS_TALLIED: usize = 8;

/// The UTC offsets written in access lines: how many lines carried each,
/// and the first and last time written with it (the line's own time, to
/// which its offset belongs), so a log whose offset
/// changed once (daylight saving) is told from two hosts in two zones.
#[derive(Clone, Debug, Default)]
pub struct OffsetTally(Vec<OffsetSeen>);

/// One offset of an [`OffsetTally`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetSeen {
    /// Seconds east of UTC.
    pub offset: i32,
    pub lines: u64,
    pub first: Millis,
    pub last: Millis,
}

impl OffsetTally {
    /// Counts one line whose time `at` was written with `offset`.
    #[inline]
    pub fn add(&mut self, offset: i32, at: Millis) {
        self.add_seen(OffsetSeen {
            offset,
            lines: 1,
            first: at,
            last: at,
        });
    }

    fn add_seen(&mut self, seen: OffsetSeen) {
        if let Some(entry) = self.0.iter_mut().find(|e| e.offset == seen.offset) {
            entry.lines += seen.lines;
            entry.first = entry.first.min(seen.first);
            entry.last = entry.last.max(seen.last);
        } else if self.0.len() < MAX_OFFSETS_TALLIED {
            self.0.push(seen);
        }
    }

    pub fn merge(&mut self, other: &OffsetTally) {
        for &seen in &other.0 {
            self.add_seen(seen);
        }
    }

    pub fn most_common(&self) -> Option<i32> {
        self.0
            .iter()
            .max_by_key(|e| (e.lines, std::cmp::Reverse(e.offset)))
            .map(|e| e.offset)
    }

    /// The one change of offset the lines show, as (before, after, first
    /// time written with `after`): exactly two offsets, every line of
    /// one before every line of the other (a daylight-saving change).
    /// Two offsets whose times interleave are two zones (hosts in two
    /// places), not a change; more than two are no single change either.
    pub fn change(&self) -> Option<(i32, i32, Millis)> {
        let [a, b] = self.0.as_slice() else {
            return None;
        };
        let (earlier, later) = if a.first <= b.first { (a, b) } else { (b, a) };
        (earlier.last < later.first).then_some((earlier.offset, later.offset, later.first))
    }
}

/// Seed that keeps remote-user keys apart from address keys.
const REMOTE_USER_SEED: u64 = 0x7265_6d6f_7465_5f75;

/// The user key of a request, hashed once (see [`UserKey`]).
#[inline]
pub fn user_hash(record: &AccessRecord<'_>, key: UserKey) -> u64 {
    match key {
        UserKey::Ip => xxh3_64(record.client),
        UserKey::IpUserAgent => match record.user_agent {
            Some(agent) => xxh3_64_with_seed(agent, xxh3_64(record.client)),
            None => xxh3_64(record.client),
        },
        UserKey::RemoteUser => {
            if record.remote_user == b"-" || record.remote_user.is_empty() {
                xxh3_64(record.client)
            } else {
                xxh3_64_with_seed(record.remote_user, REMOTE_USER_SEED)
            }
        }
    }
}

/// Reads a line the input's parser could not: the first other format that
/// reads all of it, moving it to the front of `order` so a file that mixes
/// two formats pays for one failed attempt per line, not one per format.
#[inline(never)]
fn parse_with_fallbacks<'a>(
    line: &'a [u8],
    fallbacks: &[&AccessFormat],
    order: &mut Vec<usize>,
) -> Option<(AccessRecord<'a>, usize)> {
    for position in 0..order.len() {
        let index = order[position];
        if let Ok((record, true)) = fallbacks[index].parser.parse_exact(line) {
            if position > 0 {
                let found = order.remove(position);
                order.insert(0, found);
            }
            return Some((record, index));
        }
    }
    None
}

/// The attempts of a request at upstreams, for [`Partial::record`]. With
/// aligned `$upstream_status` / `$upstream_response_time` lists each
/// attempt counts with its own status and time; without them the last
/// upstream gets the request's status and time, and the ones before it
/// count as failed attempts (nginx only tries the next upstream after an
/// error or timeout, `proxy_next_upstream`). The last attempt carries the
/// proxy's termination cause, if the log has one. `duration_us` is the
/// request's time as counted (none for status 0). Lazy: a log without
/// upstreams costs one check.
#[inline]
fn upstream_attempts<'a>(
    record: &AccessRecord<'a>,
    duration_us: Option<u64>,
) -> impl Iterator<Item = UpstreamAttempt<'a>> {
    let (status, termination) = (record.status, record.termination);
    // A proxy's one upstream without the list walk (~100 instructions a
    // line, callgrind); a log without upstreams pays one check.
    let mut single = single_upstream_attempt(record, duration_us);
    let mut addresses = record
        .upstream_addr
        .filter(|_| single.is_none())
        .map(|list| upstream_items(list).peekable());
    let mut statuses = addresses
        .is_some()
        .then(|| record.upstream_status.map(upstream_items))
        .flatten();
    let mut times = addresses
        .is_some()
        .then(|| record.upstream_time.map(upstream_items))
        .flatten();
    std::iter::from_fn(move || {
        if let Some(attempt) = single.take() {
            return Some(attempt);
        }
        let addresses = addresses.as_mut()?;
        loop {
            let address = addresses.next()?;
            let is_last = addresses.peek().is_none();
            let attempt_status = statuses
                .as_mut()
                .and_then(Iterator::next)
                .and_then(|s| std::str::from_utf8(s).ok()?.parse::<u16>().ok());
            let time =
                times.as_mut().and_then(Iterator::next).and_then(
                    |t| match record::seconds_as_micros(t) {
                        Ok(([], us)) => Some(us),
                        _ => None,
                    },
                );
            if address == b"-" {
                continue;
            }
            let outcome = match (attempt_status, is_last) {
                (Some(attempt_status), _) => {
                    Outcome::of(attempt_status, time.or(duration_us.filter(|_| is_last)))
                }
                (None, true) => Outcome::of(status, time.or(duration_us)),
                (None, false) => Outcome {
                    failed: true,
                    duration_us: time,
                    termination: None,
                },
            };
            // The proxy's account is of how the request ended: the last
            // attempt's.
            let outcome = outcome.with_termination(termination.filter(|_| is_last));
            return Some((address, outcome));
        }
    })
}

/// What [`upstream_attempts`] gives when the record names one upstream
/// and no per-attempt lists (HAProxy's `backend/server`, the ALB's
/// `target:port`): that one attempt with the request's outcome and the
/// proxy's cause; `None` for every other record (no upstream, a list, `-`).
#[inline]
fn single_upstream_attempt<'a>(
    record: &AccessRecord<'a>,
    duration_us: Option<u64>,
) -> Option<UpstreamAttempt<'a>> {
    let address = record.upstream_addr?;
    if record.upstream_status.is_some() || record.upstream_time.is_some() {
        return None;
    }
    // The one item [`upstream_items`] gives: no `,` or space inside, no
    // separator first; a word at a time, the address being a few bytes (a
    // byte loop cost ~100 instructions a line, callgrind).
    let first_clean = address
        .first()
        .is_some_and(|b| !matches!(b, b',' | b' ' | b':'));
    if !first_clean || address == b"-" || crate::scan::contains_byte2(b',', b' ', address) {
        return None;
    }
    let outcome = Outcome::of(record.status, duration_us).with_termination(record.termination);
    Some((address, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::termination::{Termination, TerminationCause};

    /// One upstream (a proxy's line) and lists (nginx's retries) give the
    /// attempts the contract counts: the single-upstream path and the list
    /// walk agree where both apply.
    #[test]
    fn upstream_attempts_of_one_upstream_and_of_lists() {
        let no_server = Termination::new(TerminationCause::NoServer, b"SC");
        let ok = |us| Outcome::of(200, Some(us));
        /// Name, `$upstream_addr`, `$upstream_status`, status, the proxy's
        /// cause, the attempts expected.
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            u16,
            Option<Termination>,
            Vec<(&'a str, Outcome)>,
        );
        let cases: [Case<'_>; 7] = [
            (
                "one upstream",
                Some("www/app4"),
                None,
                200,
                None,
                vec![("www/app4", ok(44_000))],
            ),
            (
                "one upstream, the proxy's cause on it",
                Some("www/<NOSRV>"),
                None,
                503,
                Some(no_server),
                vec![(
                    "www/<NOSRV>",
                    Outcome::of(503, Some(44_000)).with_termination(Some(no_server)),
                )],
            ),
            ("no upstream", Some("-"), None, 200, None, vec![]),
            (
                "a socket path",
                Some("unix:/run/app.sock"),
                None,
                200,
                None,
                vec![("unix:/run/app.sock", ok(44_000))],
            ),
            (
                "a leading separator: the walk",
                Some(":a:1"),
                None,
                200,
                None,
                vec![("a:1", ok(44_000))],
            ),
            (
                "two tries: the first failed",
                Some("10.0.0.1:80, 10.0.0.2:80"),
                None,
                200,
                None,
                vec![
                    (
                        "10.0.0.1:80",
                        Outcome {
                            failed: true,
                            duration_us: None,
                            termination: None,
                        },
                    ),
                    ("10.0.0.2:80", ok(44_000)),
                ],
            ),
            (
                "one upstream with its status list",
                Some("10.0.0.1:80"),
                Some("502"),
                502,
                None,
                vec![("10.0.0.1:80", Outcome::of(502, Some(44_000)))],
            ),
        ];
        for (name, upstream, statuses, status, termination, expected) in cases {
            let mut record = AccessRecord::new(0, 0, status);
            record.upstream_addr = upstream.map(str::as_bytes);
            record.upstream_status = statuses.map(str::as_bytes);
            record.termination = termination;
            let attempts: Vec<(&[u8], Outcome)> =
                upstream_attempts(&record, Some(44_000)).collect();
            let expected: Vec<(&[u8], Outcome)> = expected
                .into_iter()
                .map(|(address, outcome)| (address.as_bytes(), outcome))
                .collect();
            assert_eq!(attempts, expected, "{name}");
            let single = single_upstream_attempt(&record, Some(44_000));
            let takes_single = [
                "one upstream",
                "one upstream, the proxy's cause on it",
                "a socket path",
            ];
            assert_eq!(
                single.is_some(),
                takes_single.contains(&name),
                "{name}: which path"
            );
            if let Some(single) = single {
                assert_eq!(vec![single], attempts, "{name}: the one-upstream path");
            }
        }
    }

    #[test]
    fn one_change_of_offset_is_told_from_two_zones() {
        const CHANGE: Millis = 1_711_846_800_000; // 2024-03-31T01:00:00Z
        let tally = |lines: &[(i32, Millis)]| {
            let mut tally = OffsetTally::default();
            for &(offset, at) in lines {
                tally.add(offset, at);
            }
            tally
        };
        let cases = [
            (
                "+0100 then +0200: daylight saving",
                tally(&[
                    (3600, CHANGE - 2_000),
                    (3600, CHANGE - 1_000),
                    (7200, CHANGE),
                ]),
                Some((3600, 7200, CHANGE)),
            ),
            (
                "the lines out of order: the same change",
                tally(&[
                    (7200, CHANGE + 5_000),
                    (3600, CHANGE - 1_000),
                    (7200, CHANGE),
                ]),
                Some((3600, 7200, CHANGE)),
            ),
            (
                "two hosts in two zones, interleaved: no change",
                tally(&[(3600, CHANGE), (-18_000, CHANGE + 1), (3600, CHANGE + 2)]),
                None,
            ),
            (
                "one offset: no change",
                tally(&[(0, CHANGE), (0, CHANGE + 1)]),
                None,
            ),
            (
                "three offsets: no single change",
                tally(&[(0, CHANGE), (3600, CHANGE + 1), (7200, CHANGE + 2)]),
                None,
            ),
        ];
        for (name, tally, expected) in cases {
            assert_eq!(tally.change(), expected, "{name}");
        }
        // Merged partials see the change as one pass does.
        let mut left = tally(&[(3600, CHANGE - 1_000)]);
        left.merge(&tally(&[(7200, CHANGE), (7200, CHANGE + 1_000)]));
        assert_eq!(left.change(), Some((3600, 7200, CHANGE)));
        assert_eq!(left.most_common(), Some(7200));
    }
}
