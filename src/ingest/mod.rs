//! Ingest: turns inputs into per-bucket series and per-input statistics.
//!
//! Each source is opened (gzip detected from content), its kind and format
//! sniffed from its first lines, then read in chunks of whole lines that
//! worker threads parse on all cores ([`pipeline`]). Every parsed request is
//! folded into a [`SeriesBuilder`]; the workers' series merge at the end with
//! exact line numbers. A line that does not parse is counted and the first
//! few are kept with their line number and reason.

pub mod access;
mod clf_fast;
pub mod pipeline;
pub mod reader;
pub mod sniff;

use std::sync::atomic::Ordering;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::config::UserKey;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::series::SeriesBuilder;
use crate::timefmt::Millis;
use access::AccessRecord;
use reader::{CHUNK_BYTES, ChunkReader, Source};
use sniff::Preset;

/// How many skipped lines are kept per input as examples.
pub const MAX_SKIPPED_EXAMPLES: usize = 5;

/// What an input was found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Access,
    /// Nothing the tool reads: reported, not analysed.
    Unknown,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Access => "access",
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
    for (input_index, source) in sources.iter().enumerate() {
        let (stats, partial, consumed) = ingest_source(
            source,
            input_index as u32,
            options,
            progress,
            consumed_before,
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
    Ok(Ingested {
        inputs,
        series,
        access_offset: offsets.most_common(),
    })
}

fn ingest_source(
    source: &Source,
    input: u32,
    options: &IngestOptions,
    progress: &dyn Progress,
    consumed_before: u64,
) -> Result<(InputStats, Option<pipeline::SourceResult>, u64)> {
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
    let preset = {
        let lines = sniff::sample_lines(&first_buffer[..first_chunk.len], chunks.is_finished());
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
        return Ok((stats, None, counter.load(Ordering::Relaxed)));
    };
    stats.kind = InputKind::Access;
    stats.format = Some(preset.name);
    let parser = preset.parser();
    stats.has_request_time = parser.has_request_time();
    stats.has_user_agent = parser.has_user_agent();
    let setup = pipeline::ParseSetup {
        options,
        parser: &parser,
        input,
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
    stats.skipped_examples = std::mem::take(&mut total.examples);
    stats.first = (tally.first != Millis::MAX).then_some(tally.first);
    stats.last = (tally.last != Millis::MIN).then_some(tally.last);
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
