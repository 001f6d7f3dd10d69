//! Ingest: turns inputs into per-bucket series and per-input statistics.
//!
//! Each source is opened (gzip detected from content), its kind and format
//! sniffed from its first lines, then read in large blocks that are split at
//! line boundaries and parsed on all cores. Every parsed request is folded
//! into a [`SeriesBuilder`]; partials of chunks and blocks merge in order, so
//! line numbers of skipped lines stay exact. A line that does not parse is
//! counted and the first few are kept with their line number and reason.

pub mod access;
pub mod errorlog;
pub mod events;
pub mod evidence;
pub mod metrics_csv;
pub mod reader;
pub mod sniff;
pub mod stamp;
pub mod syslog;

use std::sync::atomic::Ordering;

use memchr::memchr_iter;
use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::config::UserKey;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::series::{LineRef, RequestFacts, SeriesBuilder};
use crate::timefmt::Millis;
use access::{AccessParser, AccessRecord};
use reader::{BlockReader, Source};
use sniff::Preset;

/// How many skipped lines are kept per input as examples.
pub const MAX_SKIPPED_EXAMPLES: usize = 5;

/// What an input was found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Access,
    /// RFC 3164/5424/3339 syslog, journalctl output, nagios.log: events.
    Syslog,
    /// nginx or Apache error log: events.
    ErrorLog,
    /// A metrics CSV: series.
    Metrics,
    /// Nothing the tool reads: reported, not analysed.
    Unknown,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Access => "access",
            InputKind::Syslog => "syslog",
            InputKind::ErrorLog => "error_log",
            InputKind::Metrics => "metrics",
            InputKind::Unknown => "unknown",
        }
    }
}

/// A line that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number in the (decompressed) input.
    pub line: u64,
    pub reason: String,
}

/// What reading one input gave.
#[derive(Clone, Debug, PartialEq)]
pub struct InputStats {
    pub path: String,
    pub kind: InputKind,
    pub format: Option<&'static str>,
    pub compressed: bool,
    pub lines: u64,
    pub parsed: u64,
    pub skipped: u64,
    pub skipped_examples: Vec<SkippedLine>,
    /// Parsed lines left out by `--since`/`--until`.
    pub out_of_range: u64,
    /// Earliest and latest request arrival among parsed lines.
    pub first: Option<Millis>,
    pub last: Option<Millis>,
    /// Why reading stopped early or did not start (unreadable, damaged gzip).
    pub error: Option<String>,
    /// Why the input was not recognised, for unknown inputs.
    pub note: Option<String>,
    /// Whether the lines carry a request time and a user agent.
    pub has_request_time: bool,
    pub has_user_agent: bool,
}

impl InputStats {
    fn new(path: String) -> Self {
        InputStats {
            path,
            kind: InputKind::Unknown,
            format: None,
            compressed: false,
            lines: 0,
            parsed: 0,
            skipped: 0,
            skipped_examples: Vec::new(),
            out_of_range: 0,
            first: None,
            last: None,
            error: None,
            note: None,
            has_request_time: false,
            has_user_agent: false,
        }
    }
}

/// Settings ingest needs, already resolved.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub bucket_ms: i64,
    /// Successful requests slower than this are slow at ingest.
    pub ingest_slow_us: u64,
    pub user_key: UserKey,
    /// A preset forced with `--log-format`.
    pub forced_preset: Option<&'static Preset>,
    /// Only requests arriving in `[since, until]` are counted.
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// Zone, year and classification for syslog, error logs and metric CSVs.
    pub evidence: evidence::EvidenceOptions,
}

/// The outcome of ingest.
#[derive(Debug)]
pub struct Ingested {
    pub inputs: Vec<InputStats>,
    pub series: SeriesBuilder,
    /// The offset most access lines carry (seconds east of UTC), if any.
    pub access_offset: Option<i32>,
    /// Alerts, recoveries, changes and notable events of syslog and error
    /// logs, in time order.
    pub events: Vec<events::Event>,
    /// The series of metric CSVs.
    pub metrics: Vec<evidence::MetricSeries>,
}

/// Reads every source into one series.
pub fn ingest(
    sources: &[Source],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Ingested> {
    let mut inputs = Vec::with_capacity(sources.len());
    let mut series = SeriesBuilder::new(options.bucket_ms, options.ingest_slow_us);
    let mut offsets = OffsetTally::default();
    let mut consumed_before = 0u64;
    let mut collected = evidence::Collected::default();
    for (input_index, source) in sources.iter().enumerate() {
        let (stats, partial, consumed) = ingest_source(
            source,
            input_index as u32,
            options,
            progress,
            consumed_before,
            &mut collected,
        )?;
        consumed_before += consumed;
        if let Some(partial) = partial {
            series.merge(partial.series);
            offsets.merge(&partial.offsets);
        }
        if let Some(error) = &stats.error {
            progress.warn(&format!("{}: {error}", stats.path));
        }
        inputs.push(stats);
    }
    let access_offset = offsets.most_common();
    let resolved = evidence::finish(
        collected,
        &mut inputs,
        access_offset,
        &options.evidence,
        (options.since, options.until),
    );
    Ok(Ingested {
        inputs,
        series,
        access_offset,
        events: resolved.events,
        metrics: resolved.metrics,
    })
}

/// Parser settings shared by every chunk of one source.
struct ChunkContext<'a> {
    input: u32,
    parser: AccessParser,
    options: &'a IngestOptions,
}

fn ingest_source(
    source: &Source,
    input: u32,
    options: &IngestOptions,
    progress: &dyn Progress,
    consumed_before: u64,
    collected: &mut evidence::Collected,
) -> Result<(InputStats, Option<AccessPartial>, u64)> {
    let mut stats = InputStats::new(source.display());
    let opened = match reader::open(source) {
        Ok(opened) => opened,
        Err(e) => {
            stats.error = Some(format!("cannot be read: {e}"));
            return Ok((stats, None, 0));
        }
    };
    stats.compressed = opened.compressed;
    let counter = opened.raw_bytes_read.clone();
    let mut blocks = BlockReader::new(opened.reader);
    let Some(first_block) = blocks.next_block() else {
        stats.note = Some("empty".to_string());
        return Ok((stats, None, 0));
    };
    let preset = {
        let is_whole = first_block.bytes.len() < reader::BLOCK_BYTES;
        let lines = sniff::sample_lines(&first_block.bytes, is_whole);
        match options.forced_preset {
            Some(forced) => sniff::detect_access_preset_among(&lines, std::slice::from_ref(forced)),
            None => sniff::detect_access_preset(&lines),
        }
    };
    let Some(preset) = preset else {
        stats.note = Some(match options.forced_preset {
            Some(forced) => format!("no line matches the format '{}'", forced.name),
            None => "not a recognised log: expected an access log in the common or combined format"
                .to_string(),
        });
        // Not an access log: syslog, error log or metrics CSV? (evidence.rs)
        let tap = evidence::ProgressTap {
            progress,
            consumed_before,
            raw_bytes_read: &counter,
        };
        let blocks_from_head = (first_block, blocks);
        evidence::read_other(
            &mut stats,
            source,
            input,
            blocks_from_head,
            &options.evidence,
            collected,
            &tap,
        );
        return Ok((stats, None, counter.load(Ordering::Relaxed)));
    };
    stats.kind = InputKind::Access;
    stats.format = Some(preset.name);
    let parser = preset.parser();
    stats.has_request_time = parser.has_request_time();
    stats.has_user_agent = parser.has_user_agent();
    let context = ChunkContext {
        input,
        parser,
        options,
    };
    let mut total = AccessPartial::new(options, input);
    let mut pending = first_block;
    loop {
        let (next, partial) = rayon::join(
            || blocks.next_block(),
            || parse_block(&pending.bytes, &context),
        );
        total.append(partial);
        progress.set_position(consumed_before + counter.load(Ordering::Relaxed));
        if let Some(error) = pending.error.take() {
            stats.error = Some(format!(
                "reading stopped after line {}: {error}; the lines before it were used",
                total.lines
            ));
        }
        match next {
            Some(block) => pending = block,
            None => break,
        }
    }
    stats.lines = total.lines;
    stats.parsed = total.parsed;
    stats.skipped = total.skipped;
    stats.out_of_range = total.out_of_range;
    stats.skipped_examples = std::mem::take(&mut total.examples);
    stats.first = (total.first != Millis::MAX).then_some(total.first);
    stats.last = (total.last != Millis::MIN).then_some(total.last);
    Ok((stats, Some(total), counter.load(Ordering::Relaxed)))
}

/// How many offsets a chunk tallies before it stops adding new ones: logs
/// carry one or two (DST), never many.
const MAX_OFFSETS_TALLIED: usize = 8;

/// Counts of the UTC offsets written in access lines.
#[derive(Clone, Debug, Default)]
struct OffsetTally(Vec<(i32, u64)>);

impl OffsetTally {
    #[inline]
    fn add(&mut self, offset: i32, count: u64) {
        if let Some(entry) = self.0.iter_mut().find(|(o, _)| *o == offset) {
            entry.1 += count;
        } else if self.0.len() < MAX_OFFSETS_TALLIED {
            self.0.push((offset, count));
        }
    }

    fn merge(&mut self, other: &OffsetTally) {
        for &(offset, count) in &other.0 {
            self.add(offset, count);
        }
    }

    fn most_common(&self) -> Option<i32> {
        self.0
            .iter()
            .max_by_key(|(offset, count)| (*count, std::cmp::Reverse(*offset)))
            .map(|(offset, _)| *offset)
    }
}

/// What parsing a contiguous run of lines gave; partials of consecutive runs
/// are combined with [`AccessPartial::append`].
#[derive(Debug)]
pub struct AccessPartial {
    input: u32,
    series: SeriesBuilder,
    lines: u64,
    parsed: u64,
    skipped: u64,
    out_of_range: u64,
    /// Line numbers relative to the start of this partial.
    examples: Vec<SkippedLine>,
    first: Millis,
    last: Millis,
    offsets: OffsetTally,
}

impl AccessPartial {
    fn new(options: &IngestOptions, input: u32) -> Self {
        AccessPartial {
            input,
            series: SeriesBuilder::new(options.bucket_ms, options.ingest_slow_us),
            lines: 0,
            parsed: 0,
            skipped: 0,
            out_of_range: 0,
            examples: Vec::new(),
            first: Millis::MAX,
            last: Millis::MIN,
            offsets: OffsetTally::default(),
        }
    }

    /// Appends the partial of the lines that come right after this one's.
    fn append(&mut self, mut next: AccessPartial) {
        next.series.shift_lines(self.input, self.lines);
        let room = MAX_SKIPPED_EXAMPLES.saturating_sub(self.examples.len());
        self.examples
            .extend(next.examples.into_iter().take(room).map(|e| SkippedLine {
                line: e.line + self.lines,
                reason: e.reason,
            }));
        self.lines += next.lines;
        self.parsed += next.parsed;
        self.skipped += next.skipped;
        self.out_of_range += next.out_of_range;
        self.first = self.first.min(next.first);
        self.last = self.last.max(next.last);
        self.offsets.merge(&next.offsets);
        self.series.merge(next.series);
    }

    fn skip(&mut self, reason: &str) {
        self.skipped += 1;
        if self.examples.len() < MAX_SKIPPED_EXAMPLES {
            self.examples.push(SkippedLine {
                line: self.lines,
                reason: reason.to_string(),
            });
        }
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

/// Chunks per thread a block is cut into, so a slow chunk does not leave a
/// core idle at the end of the block.
const CHUNKS_PER_THREAD: usize = 2;

fn parse_block(block: &[u8], context: &ChunkContext<'_>) -> AccessPartial {
    let pieces = split_at_lines(block, rayon::current_num_threads() * CHUNKS_PER_THREAD);
    pieces
        .into_par_iter()
        .map(|piece| parse_chunk(piece, context))
        .reduce(
            || AccessPartial::new(context.options, context.input),
            |mut left, right| {
                left.append(right);
                left
            },
        )
}

/// Cuts `bytes` into about `pieces` runs of whole lines.
pub fn split_at_lines(bytes: &[u8], pieces: usize) -> Vec<&[u8]> {
    let target = bytes.len() / pieces.max(1) + 1;
    let mut result = Vec::with_capacity(pieces);
    let mut start = 0;
    while start < bytes.len() {
        let tentative = (start + target).min(bytes.len());
        let end = match memchr::memchr(b'\n', &bytes[tentative..]) {
            Some(offset) => tentative + offset + 1,
            None => bytes.len(),
        };
        result.push(&bytes[start..end]);
        start = end;
    }
    result
}

fn parse_chunk(chunk: &[u8], context: &ChunkContext<'_>) -> AccessPartial {
    let options = context.options;
    let mut partial = AccessPartial::new(options, context.input);
    let mut start = 0;
    let ends =
        memchr_iter(b'\n', chunk).chain((chunk.last() != Some(&b'\n')).then_some(chunk.len()));
    for end in ends {
        let raw = &chunk[start..end];
        start = end + 1;
        partial.lines += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            partial.skip("empty line");
            continue;
        }
        let record = match context.parser.parse(line) {
            Ok(record) => record,
            Err(error) => {
                partial.skip(error.reason);
                continue;
            }
        };
        partial.parsed += 1;
        let arrival = record.arrival();
        if options.since.is_some_and(|since| arrival < since)
            || options.until.is_some_and(|until| arrival > until)
        {
            partial.out_of_range += 1;
            continue;
        }
        partial.offsets.add(record.offset_seconds, 1);
        partial.first = partial.first.min(arrival);
        partial.last = partial.last.max(arrival);
        partial.series.record(&RequestFacts {
            arrival,
            status: record.status,
            duration_us: record.duration_us,
            user: user_hash(&record, options.user_key),
            line: LineRef {
                input: context.input,
                line: partial.lines,
            },
        });
    }
    partial
}

/// `Error::NothingParsed` when no input gave a single request.
pub fn ensure_something_parsed(inputs: &[InputStats]) -> Result<()> {
    if inputs.iter().any(|i| i.parsed > 0) {
        return Ok(());
    }
    let mut details: Vec<String> = inputs
        .iter()
        .map(|i| {
            let why = i
                .error
                .clone()
                .or_else(|| i.note.clone())
                .or_else(|| {
                    i.skipped_examples
                        .first()
                        .map(|e| format!("line {}: {}", e.line, e.reason))
                })
                .unwrap_or_else(|| "no lines".to_string());
            format!("{}: {why}", i.path)
        })
        .collect();
    if details.is_empty() {
        details.push("no input files were found".to_string());
    }
    Err(Error::NothingParsed(format!(
        "no line of any input could be parsed ({}); point postmortem at an access log, or give its format with --log-format",
        details.join("; ")
    )))
}
