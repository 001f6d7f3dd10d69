//! Ingest: turns inputs into per-bucket series and per-input statistics.
//!
//! Each source is opened (gzip detected from content), its kind and format
//! sniffed from its first lines, then read in chunks of whole lines that
//! worker threads parse on all cores ([`pipeline`]). Every parsed request is
//! folded into a [`SeriesBuilder`]; the workers' series merge at the end with
//! exact line numbers. A line that does not parse is
//! first tried with the other access-log formats (files that mix formats),
//! then counted and the first few are kept with their line number and
//! reason. Upstreams and, when several hosts' logs are read, hosts are kept
//! as dimensions ([`crate::series_dims`]).

pub mod access;
pub mod events;
pub mod evidence;
pub mod metrics;
pub mod pipeline;
pub mod reader;
pub mod record;
pub mod sniff;
pub mod stats;
pub mod timestamps;

use std::sync::atomic::Ordering;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::config::UserKey;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::series::SeriesBuilder;
use crate::series_dims::{DimensionBuilder, DimensionKind, Outcome};
use crate::timefmt::Millis;
use access::AccessFormat;
use reader::{CHUNK_BYTES, ChunkReader, Source};
use record::{AccessRecord, upstream_items};
pub use stats::{AccessFields, InputKind, InputStats, MAX_SKIPPED_EXAMPLES, SkippedLine};

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
    /// Parsing threads; 0 is one per core (see [`pipeline::worker_count`]).
    pub threads: usize,
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
    /// Bursts of 4xx responses from single clients, the largest first.
    pub client_bursts: Vec<crate::clients::ClientBurst>,
    /// Which paths the (bad) requests went to, per bucket.
    pub paths: crate::paths::PathBuilder,
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
    let mut clients = crate::clients::ClientBurstBuilder::new(bucket_ms);
    let mut paths = crate::paths::PathBuilder::new(bucket_ms);
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
            clients.merge(partial.clients);
            paths.merge(partial.paths);
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
        client_bursts: clients.bursts(),
        paths,
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

fn ingest_source(
    source: &Source,
    identity: InputIdentity<'_>,
    options: &IngestOptions,
    progress: &dyn Progress,
    consumed_before: u64,
    collected: &mut evidence::Collected,
) -> Result<(InputStats, Option<pipeline::SourceResult>, u64)> {
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
    let mut chunks = ChunkReader::new(opened.reader);
    let mut first_buffer = Vec::new();
    let Some(first_chunk) = chunks.fill(&mut first_buffer, CHUNK_BYTES) else {
        stats.note = Some("empty".to_string());
        return Ok((stats, None, 0));
    };
    let detection = {
        let lines = sniff::sample_lines(&first_buffer[..first_chunk.len], chunks.is_finished());
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
        // Hand the stream back from the start: the first chunk, then the rest
        // (or the damage that ended it).
        first_buffer.truncate(first_chunk.len);
        let stream: Box<dyn std::io::Read> = match first_chunk.error {
            Some(error) => Box::new(reader::ThenError::new(first_buffer, error)),
            None => Box::new(std::io::Read::chain(
                std::io::Cursor::new(first_buffer),
                chunks.into_stream(),
            )),
        };
        let mut blocks = reader::BlockReader::new(stream);
        let Some(first_block) = blocks.next_block() else {
            return Ok((stats, None, counter.load(Ordering::Relaxed)));
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
    let parser = detection.format.parser.clone();
    let setup = pipeline::ParseSetup {
        options,
        parser: &parser,
        fallbacks: &fallbacks,
        input,
        host: identity.host,
        workers: pipeline::worker_count(options.threads),
    };
    let (mut total, outcome, consumed) = match plain_file(source, opened.compressed) {
        // A plain file: every worker reads its own chunks.
        #[cfg(unix)]
        Some((file, len)) => {
            drop(chunks);
            let report = |done: u64| progress.set_position(consumed_before + done);
            let (total, outcome) =
                pipeline::run_file(&file, len, pipeline::FILE_CHUNK_BYTES, setup, &report);
            (total, outcome, len)
        }
        // Standard input or gzip: one thread reads (and decodes).
        _ => {
            let report =
                || progress.set_position(consumed_before + counter.load(Ordering::Relaxed));
            let (total, outcome) = pipeline::run(
                chunks,
                (first_buffer, first_chunk),
                CHUNK_BYTES,
                setup,
                &report,
            );
            (total, outcome, counter.load(Ordering::Relaxed))
        }
    };
    progress.set_position(consumed_before + consumed);
    if let Some(error) = outcome.error {
        stats.error = Some(match outcome.lines_before_error {
            None => format!(
                "reading stopped after line {}: {error}; the lines before it were used",
                total.tally.lines
            ),
            Some(line) => format!(
                "reading failed after line {line}: {error}; the lines that could be read were used"
            ),
        });
    }
    let tally = &total.tally;
    stats.lines = tally.lines;
    stats.parsed = tally.parsed;
    stats.skipped = tally.skipped;
    stats.out_of_range = tally.out_of_range;
    stats.first = (tally.first != Millis::MAX).then_some(tally.first);
    stats.last = (tally.last != Millis::MIN).then_some(tally.last);
    stats.skipped_examples = std::mem::take(&mut total.examples);
    stats.fields = AccessFields::from_bits(total.field_bits);
    stats.has_request_time = stats.fields.request_time;
    stats.has_user_agent = stats.fields.user_agent;
    stats.other_formats = fallbacks
        .iter()
        .zip(&total.fallback_lines)
        .filter(|(_, lines)| **lines > 0)
        .map(|(format, lines)| (format.name, *lines))
        .collect();
    Ok((stats, Some(total), consumed))
}

/// The file and its length, when `source` is an uncompressed regular file
/// that can be read at any offset.
fn plain_file(source: &Source, compressed: bool) -> Option<(std::fs::File, u64)> {
    if compressed {
        return None;
    }
    let Source::File(path) = source else {
        return None;
    };
    let file = std::fs::File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    let len = metadata.len();
    metadata.is_file().then_some((file, len))
}

/// How many offsets a chunk tallies before it stops adding new ones: logs
/// carry one or two (DST), never many.
const MAX_OFFSETS_TALLIED: usize = 8;

/// Counts of the UTC offsets written in access lines.
#[derive(Clone, Debug, Default)]
pub struct OffsetTally(Vec<(i32, u64)>);

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
