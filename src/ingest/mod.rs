//! Ingest: turns inputs into per-bucket series and per-input statistics.
//!
//! Each source is opened (gzip detected from content), its kind and format
//! sniffed from its first lines, then read in large blocks that are split at
//! line boundaries and parsed on all cores. Every parsed request is folded
//! into a [`SeriesBuilder`]; partials of chunks and blocks merge in order, so
//! line numbers of skipped lines stay exact. A line that does not parse is
//! first tried with the other access-log formats (files that mix formats),
//! then counted and the first few are kept with their line number and
//! reason. Upstreams and, when several hosts' logs are read, hosts are kept
//! as dimensions ([`crate::series_dims`]).

pub mod access;
pub mod errorlog;
pub mod events;
pub mod evidence;
pub mod jsonlines;
pub mod logformat;
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
use crate::series_dims::{DimensionBuilder, DimensionKind, Outcome};
use crate::timefmt::Millis;
use access::{AccessParser, AccessRecord, field_bits, upstream_items};
use reader::{BlockReader, Source};
use sniff::AccessFormat;

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
    /// Whether the lines carry a request time and a user agent (also in
    /// `fields`).
    pub has_request_time: bool,
    pub has_user_agent: bool,
    /// Which optional fields at least one parsed line had a value for.
    pub fields: AccessFields,
    /// Lines read by another format than `format` (a file that mixes
    /// formats), per format.
    pub other_formats: Vec<(&'static str, u64)>,
}

/// The optional fields an access log carries (a value in at least one line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessFields {
    pub request_time: bool,
    pub upstream: bool,
    pub user_agent: bool,
    pub remote_user: bool,
    /// The virtual host (`%v`, `$host`, ...).
    pub host: bool,
}

impl AccessFields {
    fn from_bits(bits: u8) -> Self {
        AccessFields {
            request_time: bits & field_bits::REQUEST_TIME != 0,
            upstream: bits & field_bits::UPSTREAM != 0,
            user_agent: bits & field_bits::USER_AGENT != 0,
            remote_user: bits & field_bits::REMOTE_USER != 0,
            host: bits & field_bits::HOST != 0,
        }
    }
}

impl InputStats {
    /// The statistics of an input nothing was read from yet.
    pub fn new(path: String) -> Self {
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
            fields: AccessFields::default(),
            other_formats: Vec::new(),
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
    /// A format forced with `--log-format` (a preset or a template).
    pub forced_format: Option<AccessFormat>,
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
    /// Per-upstream and per-host counts; a dimension with fewer than two
    /// values is left out.
    pub dimensions: Vec<DimensionBuilder>,
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
    let bucket_ms = series.bucket_ms();
    let mut upstreams =
        DimensionBuilder::new(DimensionKind::Upstream, bucket_ms, options.ingest_slow_us);
    let mut hosts = DimensionBuilder::new(DimensionKind::Host, bucket_ms, options.ingest_slow_us);
    let host_labels = host_labels(sources);
    let mut offsets = OffsetTally::default();
    let mut consumed_before = 0u64;
    let mut collected = evidence::Collected::default();
    for (input_index, source) in sources.iter().enumerate() {
        let host = host_labels
            .as_ref()
            .and_then(|labels| labels.get(input_index))
            .map(String::as_str);
        let (stats, partial, consumed) = ingest_source(
            source,
            InputIdentity {
                index: input_index as u32,
                host,
            },
            options,
            progress,
            consumed_before,
            &mut collected,
        )?;
        consumed_before += consumed;
        if let Some(partial) = partial {
            series.merge(partial.series);
            upstreams.merge(partial.upstreams);
            hosts.merge(partial.hosts);
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
        dimensions: [upstreams, hosts]
            .into_iter()
            .filter(|dimension| dimension.value_count() >= 2)
            .collect(),
        events: resolved.events,
        metrics: resolved.metrics,
    })
}

/// Which input a source is in the run, and its host label when several
/// hosts' logs are read.
#[derive(Clone, Copy, Debug)]
struct InputIdentity<'a> {
    index: u32,
    host: Option<&'a str>,
}

/// The file name of a log with rotation and compression suffixes removed,
/// so `access.log`, `access.log.1`, `access.log.2.gz` and
/// `access.log-20231112.gz` are one log.
fn log_identity(path: &std::path::Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = name.as_str();
    loop {
        let before = name;
        name = name.strip_suffix(".gz").unwrap_or(name);
        if let Some((stem, suffix)) = name.rsplit_once(['.', '-', '_'])
            && !stem.is_empty()
            && !suffix.is_empty()
            && suffix.bytes().all(|b| b.is_ascii_digit())
        {
            name = stem;
        }
        if name == before {
            break;
        }
    }
    path.with_file_name(name)
}

/// A label per source naming the log it belongs to, relative to the
/// directory all sources share (`web01/access.log`), when the sources hold
/// more than one log (several hosts' logs); `None` otherwise.
fn host_labels(sources: &[Source]) -> Option<Vec<String>> {
    let identities: Vec<std::path::PathBuf> = sources
        .iter()
        .map(|source| match source {
            Source::File(path) => log_identity(path),
            Source::Stdin => std::path::PathBuf::from("-"),
        })
        .collect();
    let first = identities.first()?;
    if identities.iter().all(|identity| identity == first) {
        return None;
    }
    let mut common: Vec<std::path::Component> = first
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for identity in &identities[1..] {
        let shared = identity
            .parent()
            .map(|p| {
                p.components()
                    .zip(&common)
                    .take_while(|(a, b)| a == *b)
                    .count()
            })
            .unwrap_or(0);
        common.truncate(shared);
    }
    let prefix: std::path::PathBuf = common.iter().collect();
    Some(
        identities
            .iter()
            .map(|identity| {
                identity
                    .strip_prefix(&prefix)
                    .unwrap_or(identity)
                    .display()
                    .to_string()
            })
            .collect(),
    )
}

/// Parser settings shared by every chunk of one source.
struct ChunkContext<'a> {
    input: u32,
    /// Where the host dimension counts this input's requests.
    host: Option<&'a str>,
    parser: AccessParser,
    /// Formats tried, in order, on a line the parser cannot read; only a
    /// format that reads the whole line is taken.
    fallbacks: Vec<&'a AccessFormat>,
    options: &'a IngestOptions,
}

fn ingest_source(
    source: &Source,
    identity: InputIdentity<'_>,
    options: &IngestOptions,
    progress: &dyn Progress,
    consumed_before: u64,
    collected: &mut evidence::Collected,
) -> Result<(InputStats, Option<AccessPartial>, u64)> {
    let input = identity.index;
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
    let detection = {
        let is_whole = first_block.bytes.len() < reader::BLOCK_BYTES;
        let lines = sniff::sample_lines(&first_block.bytes, is_whole);
        match &options.forced_format {
            Some(forced) => sniff::detect_access_format_among(&lines, std::slice::from_ref(forced)),
            None => sniff::detect_access_format(&lines),
        }
    };
    let Some(detection) = detection else {
        stats.note = Some(match &options.forced_format {
            Some(forced) => format!(
                "fewer than half of the first lines match the --log-format '{}'",
                forced.name
            ),
            None => "not a recognised log: expected an access log (common, combined, vcombined, nginx main, ingress-nginx, JSON lines) or give its format with --log-format"
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
    stats.format = Some(detection.format.name);
    if detection.has_extra_fields() {
        stats.note = Some(format!(
            "most lines go on after the last field of '{}': give the server's log_format / LogFormat with --log-format to read the rest (a request time, an upstream)",
            detection.format.name
        ));
    }
    let fallbacks: Vec<&AccessFormat> = if detection.format.forced {
        Vec::new()
    } else {
        sniff::preset_formats()
            .iter()
            .filter(|f| f.parser != detection.format.parser)
            .collect()
    };
    let context = ChunkContext {
        input,
        host: identity.host,
        parser: detection.format.parser.clone(),
        fallbacks,
        options,
    };
    let mut total = AccessPartial::new(&context);
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
    stats.fields = AccessFields::from_bits(total.field_bits);
    stats.has_request_time = stats.fields.request_time;
    stats.has_user_agent = stats.fields.user_agent;
    stats.other_formats = context
        .fallbacks
        .iter()
        .zip(&total.fallback_lines)
        .filter(|(_, lines)| **lines > 0)
        .map(|(format, lines)| (format.name, *lines))
        .collect();
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
    upstreams: DimensionBuilder,
    /// This input's requests under its host label (empty when the run has
    /// one log).
    hosts: DimensionBuilder,
    /// The host label's id in `hosts`.
    host_id: Option<u16>,
    /// [`field_bits`] of the optional fields seen.
    field_bits: u8,
    /// Lines read by each fallback format, aligned with the context's.
    fallback_lines: Vec<u64>,
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
    fn new(context: &ChunkContext<'_>) -> Self {
        let options = context.options;
        let series = SeriesBuilder::new(options.bucket_ms, options.ingest_slow_us);
        let bucket_ms = series.bucket_ms();
        let mut hosts =
            DimensionBuilder::new(DimensionKind::Host, bucket_ms, options.ingest_slow_us);
        let host_id = context.host.map(|label| hosts.intern(label.as_bytes()));
        AccessPartial {
            input: context.input,
            series,
            upstreams: DimensionBuilder::new(
                DimensionKind::Upstream,
                bucket_ms,
                options.ingest_slow_us,
            ),
            hosts,
            host_id,
            field_bits: 0,
            fallback_lines: vec![0; context.fallbacks.len()],
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
        self.upstreams.merge(next.upstreams);
        self.hosts.merge(next.hosts);
        self.field_bits |= next.field_bits;
        for (mine, theirs) in self.fallback_lines.iter_mut().zip(next.fallback_lines) {
            *mine += theirs;
        }
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
            || AccessPartial::new(context),
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

/// Reads a line the input's parser could not: the first other format that
/// reads all of it, moving it to the front of `order` so a file that mixes
/// two formats pays for one failed attempt per line, not one per format.
#[inline(never)]
fn parse_with_fallbacks<'a>(
    line: &'a [u8],
    context: &ChunkContext<'_>,
    order: &mut Vec<usize>,
) -> Option<(AccessRecord<'a>, usize)> {
    for position in 0..order.len() {
        let index = order[position];
        if let Ok((record, true)) = context.fallbacks[index].parser.parse_exact(line) {
            if position > 0 {
                let found = order.remove(position);
                order.insert(0, found);
            }
            return Some((record, index));
        }
    }
    None
}

/// Counts a request under each upstream it was sent to. With aligned
/// `$upstream_status` / `$upstream_response_time` lists each attempt counts
/// with its own status and time; without them the last upstream gets the
/// request's status and time, and the ones before it count as failed
/// attempts (nginx only tries the next upstream after an error or timeout,
/// `proxy_next_upstream`).
fn record_upstreams(upstreams: &mut DimensionBuilder, arrival: Millis, record: &AccessRecord<'_>) {
    let Some(addresses) = record.upstream_addr else {
        return;
    };
    let mut statuses = record.upstream_status.map(upstream_items);
    let mut times = record.upstream_time.map(upstream_items);
    let mut addresses = upstream_items(addresses).peekable();
    while let Some(address) = addresses.next() {
        let is_last = addresses.peek().is_none();
        let status = statuses
            .as_mut()
            .and_then(Iterator::next)
            .and_then(|s| std::str::from_utf8(s).ok()?.parse::<u16>().ok());
        let time = times.as_mut().and_then(Iterator::next).and_then(|t| {
            match access::seconds_as_micros(t) {
                Ok(([], us)) => Some(us),
                _ => None,
            }
        });
        if address == b"-" {
            continue;
        }
        let outcome = match (status, is_last) {
            (Some(status), _) => {
                Outcome::of(status, time.or(record.duration_us.filter(|_| is_last)))
            }
            (None, true) => Outcome::of(record.status, time.or(record.duration_us)),
            (None, false) => Outcome {
                failed: true,
                duration_us: time,
            },
        };
        upstreams.record(arrival, address, outcome);
    }
}

fn parse_chunk(chunk: &[u8], context: &ChunkContext<'_>) -> AccessPartial {
    let options = context.options;
    let mut partial = AccessPartial::new(context);
    let mut fallback_order: Vec<usize> = (0..context.fallbacks.len()).collect();
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
            Err(error) => match parse_with_fallbacks(line, context, &mut fallback_order) {
                Some((record, index)) => {
                    partial.fallback_lines[index] += 1;
                    record
                }
                None => {
                    partial.skip(error.reason);
                    continue;
                }
            },
        };
        partial.parsed += 1;
        partial.field_bits |= record.field_mask();
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
        if record.upstream_addr.is_some() {
            record_upstreams(&mut partial.upstreams, arrival, &record);
        }
        if let Some(host_id) = partial.host_id {
            partial.hosts.record_id(
                arrival,
                host_id,
                Outcome::of(record.status, record.duration_us),
            );
        }
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
