//! Ingest: turns inputs into per-bucket series and per-input statistics.
//!
//! Each source is opened (gzip detected from content), its kind and format
//! sniffed from its first lines, then read in chunks of whole lines that
//! worker threads parse on all cores ([`pipeline`]). Every parsed request is
//! folded into a [`Partial`] ([`worker`]); the workers' partials merge at
//! the end with exact line numbers. A line that does not parse is
//! first tried with the other access-log formats (files that mix formats),
//! then counted and the first few are kept with their line number and
//! reason. Upstreams and, when several hosts' logs are read, hosts are kept
//! as dimensions ([`crate::series::dims`]).

pub mod access;
pub mod envelope;
pub mod events;
pub mod evidence;
pub mod json_document;
pub mod mapped;
pub mod metrics;
pub mod pipeline;
pub mod read_buffer;
pub mod reader;
pub mod record;
pub mod recount;
pub mod sniff;
pub mod stats;
pub mod timestamps;
pub mod worker;

use std::sync::atomic::Ordering;

use crate::config::UserKey;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::series::Partial;
use crate::timefmt::{Millis, Zone};
use access::AccessFormat;
use reader::{CHUNK_BYTES, ChunkReader, Source};
pub use stats::{AccessFields, InputKind, InputStats, MAX_SKIPPED_EXAMPLES, SkippedLine};
use worker::OffsetTally;

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
    /// Windows (inclusive ms) whose requests are also kept one by one, in
    /// or out of `[since, until]` ([`recount::EdgeRequest`]): `postmortem
    /// impact` keeps those where an incident's start row may end. Empty
    /// otherwise.
    pub edge_capture: Vec<(Millis, Millis)>,
    /// Memory the exact user spans may take before every bucket keeps
    /// sketches instead ([`crate::series::user_sketch`]).
    pub exact_users_bytes: u64,
}

/// The outcome of ingest.
#[derive(Debug)]
pub struct Ingested {
    pub inputs: Vec<InputStats>,
    /// Everything the access logs gave: buckets, dimensions, clients of
    /// 4xx responses and paths, merged over all inputs.
    pub access: Partial,
    /// The offset most access lines carry (seconds east of UTC), if any.
    pub access_offset: Option<i32>,
    /// The one change of offset the access lines show (daylight saving:
    /// `+0100` then `+0200`), as (before, after, first time written with
    /// `after`); `None` when they carry one offset, or offsets that
    /// interleave (hosts in different zones).
    pub access_offset_change: Option<(i32, i32, Millis)>,
    /// Alerts, recoveries, changes and notable events of syslog and error
    /// logs, in time order.
    pub events: Vec<events::Event>,
    /// The series of metric CSVs.
    pub metrics: Vec<evidence::MetricSeries>,
    /// Per input, the byte ranges of its chunks and their arrivals, for a
    /// second read of an incident's edges ([`recount`]); empty for inputs
    /// that are no access log, and for partials.
    pub chunk_spans: Vec<Vec<recount::ChunkSpan>>,
    /// Per input, where a gzip input's decoding can start again (for the
    /// same second read); `None` for other inputs.
    pub entry_points: Vec<Option<std::sync::Arc<reader::EntryPoints>>>,
    /// The requests of [`IngestOptions::edge_capture`]'s windows, in no
    /// particular order.
    pub edge_requests: Vec<recount::EdgeRequest>,
}

/// Reads every source into one series.
pub fn ingest(
    sources: &[Source],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Ingested> {
    let mut inputs = Vec::with_capacity(sources.len());
    let mut access = Partial::new(options.bucket_ms, options.ingest_slow_us);
    access.set_exact_users_bytes(options.exact_users_bytes);
    let mut chunk_spans = Vec::with_capacity(sources.len());
    let mut entry_points = Vec::with_capacity(sources.len());
    let mut edge_requests = Vec::new();
    let mut offsets = OffsetTally::default();
    let mut consumed_before = 0u64;
    let mut collected = evidence::Collected::default();
    let identities = identities(sources);
    // Once the run's users are sketches (its exact spans passed the
    // budget), every later input is read with sketches from its first
    // bucket: its exact spans would be turned into sketches when merged
    // anyway, and meanwhile they held up to ~40 bytes a user and bucket.
    let mut sketched_options: Option<IngestOptions> = None;
    for (input_index, source) in sources.iter().enumerate() {
        let identity = identities.identity(input_index, &inputs);
        if sketched_options.is_none() && access.buckets.users_sketched() {
            sketched_options = Some(IngestOptions {
                exact_users_bytes: 0,
                ..options.clone()
            });
        }
        let (stats, result, consumed) = ingest_source(
            source,
            identity,
            sketched_options.as_ref().unwrap_or(options),
            progress,
            consumed_before,
            &mut collected,
        )?;
        consumed_before += consumed;
        match result {
            Some(result) => {
                access.merge(result.partial);
                offsets.merge(&result.offsets);
                chunk_spans.push(result.chunk_spans);
                let has_points = result.entry_points.is_some();
                entry_points.push(result.entry_points);
                if has_points {
                    // Thinned as the run goes, so a week of rotations never
                    // holds more than the budget.
                    reader::keep_within_run_budget(
                        &mut entry_points,
                        reader::RUN_ENTRY_POINT_BYTES,
                    );
                }
                edge_requests.extend(result.edge_requests);
            }
            None => {
                chunk_spans.push(Vec::new());
                entry_points.push(None);
            }
        }
        if let Some(error) = &stats.error {
            progress.warn(&format!("{}: {error}", stats.path));
        }
        inputs.push(stats);
    }
    let access_offset = offsets.most_common();
    let access_offset_change = offsets.change();
    let resolved = evidence::finish(
        collected,
        &mut inputs,
        access_zone(access_offset, access_offset_change),
        &options.evidence,
        (options.since, options.until),
    );
    Ok(Ingested {
        inputs,
        access,
        access_offset,
        access_offset_change,
        events: resolved.events,
        metrics: resolved.metrics,
        chunk_spans,
        entry_points,
        edge_requests,
    })
}

/// What places each source in the run: the log it belongs to, its host
/// label, the rotations it overlaps; the same for the first read and the
/// second ([`recount`]).
pub(crate) struct Identities<'a> {
    sources: &'a [Source],
    logs: Vec<Option<std::path::PathBuf>>,
    overlaps: Vec<reader::overlap::Overlap>,
    host_labels: Option<Vec<String>>,
}

pub(crate) fn identities(sources: &[Source]) -> Identities<'_> {
    let overlaps = if sources.len() > 1 {
        reader::overlap::find(sources, log_identity)
    } else {
        Vec::new()
    };
    let logs = sources
        .iter()
        .map(|source| match source {
            Source::File(path) => Some(log_identity(path)),
            Source::Stdin => None,
        })
        .collect();
    Identities {
        sources,
        logs,
        overlaps,
        host_labels: host_labels(sources),
    }
}

impl<'a> Identities<'a> {
    /// Source `index`'s identity, given the statistics of the sources read
    /// before it: a compressed rotation's tail is compared with the
    /// rotations not already read short against it.
    pub(crate) fn identity(
        &'a self,
        index: usize,
        read_before: &[InputStats],
    ) -> InputIdentity<'a> {
        InputIdentity {
            index: index as u32,
            host: self
                .host_labels
                .as_ref()
                .and_then(|labels| labels.get(index))
                .map(String::as_str),
            overlap: self
                .overlaps
                .iter()
                .find(|o| o.file == index)
                .map(|o| (o, self.sources[o.other].display())),
            tail_candidates: tail_candidates(
                self.sources,
                &self.logs,
                index,
                &self.overlaps,
                read_before,
            ),
            recount: None,
            entry_points: None,
        }
    }
}

/// The zone the access lines were written in, from the offsets they carry:
/// the one change of offset they show ([`Zone::Shifting`]), else the offset
/// most lines carry, else UTC.
pub fn access_zone(
    access_offset: Option<i32>,
    access_offset_change: Option<(i32, i32, Millis)>,
) -> Zone {
    match access_offset_change {
        Some((before, after, at)) => Zone::Shifting { before, after, at },
        None => Zone::Fixed(access_offset.unwrap_or(0)),
    }
}

/// Which input a source is in the run, and its host label when several
/// hosts' logs are read.
#[derive(Clone, Debug)]
pub(crate) struct InputIdentity<'a> {
    index: u32,
    host: Option<&'a str>,
    /// Where this file's last lines are another rotation's first (and that
    /// rotation's name): it is read up to there.
    overlap: Option<(&'a reader::overlap::Overlap, String)>,
    /// The other rotations of its log whose heads a compressed file's tail
    /// is compared with as it is read (see [`reader::overlap`]).
    tail_candidates: Vec<std::path::PathBuf>,
    /// For the second read ([`recount`]): what to count and the byte
    /// ranges of the lines to read again.
    recount: Option<(&'a recount::Recount, &'a [(u64, u64)])>,
    /// For the second read of a `.gz`: where its first read found it can
    /// start decoding again.
    entry_points: Option<std::sync::Arc<reader::EntryPoints>>,
}

/// The rotations of source `index`'s log (other files with its log name)
/// whose first lines its tail may hold, leaving out each file already
/// read short against it (a pair is resolved once: both read short would
/// leave out lines neither holds any more).
fn tail_candidates(
    sources: &[Source],
    logs: &[Option<std::path::PathBuf>],
    index: usize,
    overlaps: &[reader::overlap::Overlap],
    read: &[InputStats],
) -> Vec<std::path::PathBuf> {
    let Some(Some(log)) = logs.get(index) else {
        return Vec::new();
    };
    let name = sources[index].display();
    sources
        .iter()
        .enumerate()
        .filter(|&(other, _)| other != index && logs[other].as_ref() == Some(log))
        .filter(|&(other, _)| !overlaps.iter().any(|o| o.file == other && o.other == index))
        .filter(|&(other, _)| {
            read.get(other)
                .is_none_or(|stats| stats.overlap_with.as_deref() != Some(name.as_str()))
        })
        .filter_map(|(_, source)| match source {
            Source::File(path) => Some(path.clone()),
            Source::Stdin => None,
        })
        .collect()
}

/// The one log a file of a cloud service's delivery belongs to: AWS
/// writes an ELB log as one file per node and 5 minutes,
/// `AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/<account>_elasticloadbalancing_<region>_<load balancer>_<end time>_<node ip>_<random>.log.gz`,
/// and CloudFront as `<distribution>.<yyyy-mm-dd-hh>.<random>.gz`: every
/// file of one load balancer (one distribution) is one log, not one host.
fn cloud_log_identity(path: &std::path::Path) -> Option<std::path::PathBuf> {
    let name = path.file_name()?.to_str()?;
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() >= 7 && parts[1] == "elasticloadbalancing" {
        // Above the file: the date folders `<yyyy>/<mm>/<dd>`, if any.
        let mut folder = path.parent()?.to_path_buf();
        for _ in 0..3 {
            let is_date_part = folder
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !is_date_part {
                break;
            }
            folder.pop();
        }
        return Some(folder.join(parts[..4].join("_")));
    }
    let pieces: Vec<&str> = name.split('.').collect();
    let is_cloudfront = pieces.len() >= 3
        && pieces[1].len() == 13
        && pieces[1].bytes().enumerate().all(|(i, b)| {
            if matches!(i, 4 | 7 | 10) {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    is_cloudfront.then(|| path.with_file_name(pieces[0]))
}

/// The file name of a log with rotation and compression suffixes removed,
/// so `access.log`, `access.log.1`, `access.log.2.gz` and
/// `access.log-20231112.gz` (or `.zst`) are one log (and the files of a cloud
/// service's delivery too, see [`cloud_log_identity`]).
fn log_identity(path: &std::path::Path) -> std::path::PathBuf {
    if let Some(identity) = cloud_log_identity(path) {
        return identity;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = name.as_str();
    loop {
        let before = name;
        name = name
            .strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".zst"))
            .unwrap_or(name);
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

pub(crate) fn ingest_source(
    source: &Source,
    identity: InputIdentity<'_>,
    options: &IngestOptions,
    progress: &dyn Progress,
    consumed_before: u64,
    collected: &mut evidence::Collected,
) -> Result<(InputStats, Option<worker::SourceResult>, u64)> {
    let input = identity.index;
    let mut stats = InputStats::new(source.display());
    let opened = match reader::open_with(source, identity.entry_points.clone()) {
        Ok(opened) => opened,
        Err(e) => {
            stats.error = Some(format!("cannot be read: {e}"));
            return Ok((stats, None, 0));
        }
    };
    stats.compressed = opened.compressed;
    stats.size_on_disk = opened.size_on_disk;
    let counter = opened.raw_bytes_read.clone();
    let recorded_entry_points = opened.entry_points;
    let mut chunks = ChunkReader::new(opened.reader);
    let mut first_buffer = Vec::new();
    let Some(mut first_chunk) = chunks.fill(&mut first_buffer, CHUNK_BYTES) else {
        stats.note = Some("empty".to_string());
        return Ok((stats, None, 0));
    };
    let candidates = match &options.forced_format {
        Some(forced) => std::slice::from_ref(forced),
        None => sniff::preset_formats(),
    };
    let mut detection = {
        let lines = sniff::sample_lines(&first_buffer[..first_chunk.len], chunks.is_finished());
        // Bare lines first; else the access lines inside a syslog header,
        // a container prefix or Docker's JSON wrapper (never read a file of
        // requests as a syslog that holds no request).
        sniff::detect_access_format_among(&lines, candidates)
            .or_else(|| sniff::detect_enveloped(&lines, candidates))
    };
    // Pretty-printed JSON records (a gcloud export): one object per line.
    let mut as_document = false;
    if detection.is_none()
        && first_chunk.error.is_none()
        && json_document::may_be_document(&first_buffer[..first_chunk.len])
    {
        let compacted = json_document::compact(&first_buffer[..first_chunk.len]);
        let lines = sniff::sample_lines(&compacted, chunks.is_finished());
        if let Some(found) = sniff::detect_access_format_among(&lines, candidates) {
            first_buffer.truncate(first_chunk.len);
            let head = std::io::Cursor::new(std::mem::take(&mut first_buffer));
            let stream: Box<dyn reader::DecodedStream> =
                Box::new(json_document::JsonObjectLines::new(std::io::Read::chain(
                    head,
                    chunks.into_stream(),
                )));
            chunks = ChunkReader::new(stream);
            let Some(chunk) = chunks.fill(&mut first_buffer, CHUNK_BYTES) else {
                stats.note = Some("empty".to_string());
                return Ok((stats, None, 0));
            };
            first_chunk = chunk;
            detection = Some(found);
            as_document = true;
        }
    }
    let Some(detection) = detection else {
        stats.note = Some(match &options.forced_format {
            Some(forced) => format!(
                "fewer than half of the first lines match the --log-format '{}'",
                forced.name
            ),
            None if json_document::starts_like_json(&first_buffer[..first_chunk.len]) => "not a recognised log: JSON, but its objects lack the time and status fields of the JSON access logs read (nginx, Caddy, Traefik, Envoy, Google Cloud, Azure, Cloudflare; see the README's formats table)"
                .to_string(),
            None => "not a recognised log: expected an access log (common, combined, vcombined, nginx main, ingress-nginx, Envoy, Traefik, Caddy, JSON lines; bare or behind syslog or container prefixes) or give its format with --log-format"
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
    stats.envelope = detection.format.envelope.name();
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
        envelope: detection.format.envelope,
        fallbacks: &fallbacks,
        input,
        host: identity.host.filter(|_| !parser.records_only_refusals()),
        workers: pipeline::worker_count(options.threads),
        recount: identity.recount,
    };
    if as_document {
        stats.note = Some(
            "pretty-printed JSON: each object was read as one line, so line numbers count objects"
                .to_string(),
        );
    }
    let (mut total, outcome, consumed) = match plain_file(source, opened.compressed || as_document)
    {
        // A plain file: every worker reads its own chunks.
        #[cfg(unix)]
        Some((file, len)) => {
            drop(chunks);
            let read_len = read_short(&mut stats, &identity, len, progress);
            let report = |done: u64| progress.set_position(consumed_before + done);
            let chunk_bytes = pipeline::FILE_CHUNK_BYTES;
            // Mapped, not copied, where a lease makes that safe (mapped.rs).
            let lease = (read_len >= mapped::MAPPED_FROM_BYTES)
                .then(|| mapped::Lease::take(&file, setup.workers))
                .flatten();
            let (mut total, mut outcome) =
                pipeline::run_file(&file, lease.as_ref(), read_len, chunk_bytes, setup, &report);
            drop(lease);
            if outcome.error.is_none() {
                outcome.error = shrunk_while_read(&file, read_len);
            }
            total.chunk_spans = chunk_spans(&total.chunk_arrivals, |chunk| {
                let from = chunk.saturating_mul(chunk_bytes);
                Some((from, from.saturating_add(chunk_bytes).min(read_len)))
            });
            (total, outcome, len)
        }
        // Standard input or gzip: one thread reads (and decodes).
        _ => {
            let report =
                || progress.set_position(consumed_before + counter.load(Ordering::Relaxed));
            // A compressed rotation's tail is compared with the other
            // rotations' heads as it is read (reader/overlap.rs).
            let candidates: Vec<&std::path::Path> = identity
                .tail_candidates
                .iter()
                .map(std::path::PathBuf::as_path)
                .collect();
            let found = std::cell::Cell::new(None);
            let keep = |tail: &[u8], from_start: bool| {
                let Some(overlap) = reader::overlap::overlap_in_tail(tail, &candidates) else {
                    return tail.len();
                };
                // An overlap filling the whole window may run further back.
                let fills_window = overlap.keep_bytes == 0 && !from_start;
                found.set(Some((overlap, fills_window)));
                if fills_window {
                    tail.len()
                } else {
                    overlap.keep_bytes
                }
            };
            let held_tail = (stats.compressed && !as_document && !candidates.is_empty()).then_some(
                pipeline::HeldTail {
                    bytes: reader::overlap::OVERLAP_WINDOW_BYTES,
                    keep: &keep,
                },
            );
            let (mut total, outcome) = pipeline::run(
                chunks,
                (first_buffer, first_chunk),
                CHUNK_BYTES,
                setup,
                &report,
                held_tail,
                stats.compressed,
            );
            total.chunk_spans = chunk_spans(&total.chunk_arrivals, |chunk| {
                let &(from, len) = outcome.chunk_offsets.get(usize::try_from(chunk).ok()?)?;
                Some((from, from + len))
            });
            if let Some((overlap, fills_window)) = found.get() {
                let other = candidates[overlap.other].display().to_string();
                note_overlap(&mut stats, overlap.lines, &other, fills_window, progress);
            }
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
    stats.no_response = tally.no_response;
    stats.first = (tally.first != Millis::MAX).then_some(tally.first);
    stats.last = (tally.last != Millis::MIN).then_some(tally.last);
    stats.skipped_examples = std::mem::take(&mut total.examples);
    let messages = std::mem::take(&mut total.messages);
    evidence::read_message_lines(
        &mut stats,
        source,
        input,
        &messages,
        &options.evidence,
        collected,
    );
    stats.fields = AccessFields::from_bits(total.field_bits);
    stats.has_request_time = stats.fields.request_time;
    stats.has_user_agent = stats.fields.user_agent;
    stats.other_formats = fallbacks
        .iter()
        .zip(&total.fallback_lines)
        .filter(|(_, lines)| **lines > 0)
        .map(|(format, lines)| (format.name, *lines))
        .collect();
    // Kept only where a second read could use them: a gzip access log
    // read whole (a document's lines are not the file's bytes).
    total.entry_points = recorded_entry_points
        .filter(|_| !as_document)
        .and_then(|points| {
            points
                .lock()
                .ok()
                .map(|mut points| std::mem::take(&mut *points))
        })
        .filter(|points| !points.is_empty())
        .map(std::sync::Arc::new);
    Ok((stats, Some(total), consumed))
}

/// The byte range and arrivals of every chunk that held a request, from
/// the workers' `(chunk, first, last)` and where each chunk lay.
fn chunk_spans(
    arrivals: &[(u64, Millis, Millis)],
    range_of: impl Fn(u64) -> Option<(u64, u64)>,
) -> Vec<recount::ChunkSpan> {
    arrivals
        .iter()
        .filter_map(|&(chunk, first, last)| {
            let (from_byte, to_byte) = range_of(chunk)?;
            Some(recount::ChunkSpan {
                from_byte,
                to_byte,
                first,
                last,
            })
        })
        .collect()
}

/// How much of a plain file of `len` bytes to read: up to where its overlap
/// with another rotation starts, if it has one (noted in `stats` and told
/// through `progress`), else all of it.
fn read_short(
    stats: &mut InputStats,
    identity: &InputIdentity<'_>,
    len: u64,
    progress: &dyn Progress,
) -> u64 {
    let Some((overlap, other)) = &identity.overlap else {
        return len;
    };
    note_overlap(stats, overlap.lines, other, overlap.fills_window, progress);
    if overlap.fills_window {
        return len;
    }
    overlap.keep_bytes.min(len)
}

/// Notes in `stats`, and tells through `progress`, that the last `lines`
/// lines of the input are the first of `other` and were left out; or,
/// when the overlap `fills_window`, that the file was read whole.
fn note_overlap(
    stats: &mut InputStats,
    lines: u64,
    other: &str,
    fills_window: bool,
    progress: &dyn Progress,
) {
    if fills_window {
        progress.warn(&format!(
            "{}: its last {} MiB are the first lines of '{other}' and the overlap may run further back than was compared; read whole, so lines may be counted twice: remove the copied lines or leave out one file",
            stats.path,
            reader::overlap::OVERLAP_WINDOW_BYTES >> 20
        ));
        return;
    }
    stats.overlap_lines = lines;
    stats.overlap_with = Some(other.to_string());
    progress.warn(&format!(
        "{}: its last {lines} lines are the first lines of '{other}' (rotations that overlap, as copytruncate can leave): counted once, in '{other}'",
        stats.path
    ));
}

/// The file and its length, when `source` is an uncompressed regular file
/// that can be read at any offset.
/// An error when `file` is now shorter than the `read_len` bytes its read
/// started with: it was truncated while it was read (logrotate's
/// `copytruncate`), so what lay past its new end was not read, or not all.
fn shrunk_while_read(file: &std::fs::File, read_len: u64) -> Option<std::io::Error> {
    let now = file.metadata().ok()?.len();
    (now < read_len).then(|| {
        std::io::Error::other(format!(
            "the file shrank from {read_len} to {now} bytes while it was read (truncated, as logrotate's copytruncate does), so what lay past byte {now} may not all have been read; read the copy it was rotated to (e.g. access.log.1) as well"
        ))
    })
}

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

/// The warning for a run that read no request at all (only syslog, error
/// logs or metrics): what each input was taken for and what to try, so a
/// file of requests in a format not recognised is never silently reported
/// as a quiet service.
pub fn no_requests_warning(inputs: &[InputStats]) -> Option<String> {
    if inputs
        .iter()
        .any(|i| i.kind == InputKind::Access && i.parsed > 0)
    {
        return None;
    }
    let found: Vec<String> = inputs
        .iter()
        .map(|i| {
            let what = i.format.unwrap_or_else(|| i.kind.name());
            format!(
                "{} read as {what} ({} of {} lines)",
                i.path, i.parsed, i.lines
            )
        })
        .collect();
    Some(format!(
        "0 requests were read: {}. Request counts, users and error rates need an access log; if one of these files holds requests, check its lines with `postmortem inspect` and give their format with --log-format (a preset name, an nginx log_format or an Apache LogFormat definition)",
        found.join("; ")
    ))
}

/// `Error::NothingParsed` when no input gave a single request.
pub fn ensure_something_parsed(inputs: &[InputStats]) -> Result<()> {
    if inputs.iter().any(|i| i.parsed > 0) {
        return Ok(());
    }
    // Inputs that failed for the same reason are named once, by the first
    // of them and their number, so a folder of many files of one unread kind
    // gives a short line, not one reason per file.
    let mut groups: Vec<(String, &str, usize)> = Vec::new();
    for input in inputs {
        let why = input
            .error
            .clone()
            .or_else(|| input.note.clone())
            .or_else(|| {
                input
                    .skipped_examples
                    .first()
                    .map(|e| format!("line {}: {}", e.line, e.reason))
            })
            .unwrap_or_else(|| "no lines".to_string());
        match groups.iter_mut().find(|(reason, _, _)| *reason == why) {
            Some((_, _, count)) => *count += 1,
            None => groups.push((why, input.path.as_str(), 1)),
        }
    }
    let mut details: Vec<String> = groups
        .iter()
        .map(|(why, first, count)| match count {
            1 => format!("{first}: {why}"),
            _ => format!("{first} and {} more like it: {why}", count - 1),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A file that is shorter after its read than when the read began was
    /// truncated meanwhile: named with both sizes; one that grew or kept
    /// its size was read as it was.
    #[test]
    fn a_file_that_shrank_while_it_was_read_is_an_error() {
        use std::io::Write;
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(&[b'x'; 100]).expect("write");
        let cases = [
            ("kept its size", 100, None),
            ("grew (a live log)", 60, None),
            (
                "read at 140 bytes, now 100",
                140,
                Some("shrank from 140 to 100 bytes"),
            ),
        ];
        for (case, read_len, expected) in cases {
            let error = shrunk_while_read(file.as_file(), read_len).map(|e| e.to_string());
            match expected {
                None => assert!(error.is_none(), "{case}: {error:?}"),
                Some(words) => {
                    let error = error.expect(case);
                    assert!(error.contains(words), "{case}: {error}");
                    assert!(error.contains("copytruncate"), "{case}: {error}");
                }
            }
        }
    }

    /// Once a run's users are sketches, the inputs after it are read with
    /// sketches from their first bucket: the series is the one a run
    /// sketched from the start gives, bucket by bucket.
    #[test]
    fn inputs_after_the_budget_passed_give_the_sketches_of_a_run_sketched_from_the_start() {
        use std::io::Write;
        let folder = tempfile::tempdir().expect("temporary folder");
        // Three rotations of one hour each, 30 users a minute: 1,800
        // (bucket, user) pairs each, past a budget of 1,000.
        let sources: Vec<Source> = (0..3)
            .map(|hour| {
                let path = folder.path().join(format!("access.log.{hour}"));
                let mut file = std::fs::File::create(&path).expect("create");
                for minute in 0..60 {
                    for user in 0..30 {
                        let status = if (minute + user) % 7 == 0 { 503 } else { 200 };
                        writeln!(
                            file,
                            "10.0.{hour}.{user} - - [12/Nov/2023:1{hour}:{minute:02}:{user:02} +0000] \
                             \"GET /a HTTP/1.1\" {status} 10 \"-\" \"agent\""
                        )
                        .expect("write");
                    }
                }
                Source::File(path)
            })
            .collect();
        let options_with = |exact_users_bytes| IngestOptions {
            bucket_ms: 60_000,
            ingest_slow_us: crate::series::MIN_DEFAULT_SLOW_US,
            user_key: UserKey::IpUserAgent,
            forced_format: None,
            since: None,
            until: None,
            threads: 2,
            evidence: evidence::EvidenceOptions::default(),
            edge_capture: Vec::new(),
            exact_users_bytes,
        };
        let entry = crate::series::user_sketch::USER_SPAN_ENTRY_BYTES;
        let series_of = |exact_users_bytes| {
            let ingested = ingest(
                &sources,
                &options_with(exact_users_bytes),
                &crate::progress::NoProgress,
            )
            .expect("ingest");
            ingested.access.finish(1 << 20).expect("finish").series
        };
        let first_alone = ingest(
            &sources[..1],
            &options_with(1_000 * entry),
            &crate::progress::NoProgress,
        )
        .expect("ingest");
        assert!(
            first_alone.access.buckets.users_sketched(),
            "the first input alone passes the budget"
        );
        let passed_on_the_first_input = series_of(1_000 * entry);
        let sketched_from_the_start = series_of(0);
        assert!(passed_on_the_first_input.users_sketched());
        assert_eq!(passed_on_the_first_input.buckets.len(), 180);
        assert_eq!(
            passed_on_the_first_input.buckets.len(),
            sketched_from_the_start.buckets.len()
        );
        for (index, (mine, theirs)) in passed_on_the_first_input
            .buckets
            .iter()
            .zip(&sketched_from_the_start.buckets)
            .enumerate()
        {
            let (mine, theirs) = (mine.users.sketch(), theirs.users.sketch());
            assert!(mine.is_some(), "bucket {index} is sketched");
            assert_eq!(mine, theirs, "bucket {index}");
            let estimate = mine.map(|sketch| sketch.estimate());
            assert_eq!(estimate, Some(30), "bucket {index}: 30 users");
        }
    }

    #[test]
    fn files_of_one_cloud_delivery_are_one_log() {
        let cases = [
            (
                "ALB node files of two days",
                "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/03/01/123456789012_elasticloadbalancing_us-east-2_app.shop.50dc6c495c0c9188_20240301T1005Z_10.0.1.5_2x8hx6.log.gz",
                "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2024/03/02/123456789012_elasticloadbalancing_us-east-2_app.shop.50dc6c495c0c9188_20240302T0000Z_10.0.2.9_9ab1c2.log.gz",
                true,
            ),
            (
                "two load balancers",
                "AWSLogs/1/elasticloadbalancing/eu-west-1/2024/03/01/1_elasticloadbalancing_eu-west-1_app.shop.50dc_20240301T1005Z_10.0.1.5_a.log.gz",
                "AWSLogs/1/elasticloadbalancing/eu-west-1/2024/03/01/1_elasticloadbalancing_eu-west-1_app.api.77aa_20240301T1005Z_10.0.1.5_a.log.gz",
                false,
            ),
            (
                "CloudFront hours",
                "cf/E2EXAMPLE.2019-12-04-21.d111111a.gz",
                "cf/E2EXAMPLE.2019-12-04-22.e222222b.gz",
                true,
            ),
            (
                "two hosts' access logs stay apart",
                "web01/access.log",
                "web02/access.log",
                false,
            ),
        ];
        for (name, a, b, same) in cases {
            let (a, b) = (log_identity(Path::new(a)), log_identity(Path::new(b)));
            assert_eq!(a == b, same, "{name}: {a:?} {b:?}");
        }
    }
}
