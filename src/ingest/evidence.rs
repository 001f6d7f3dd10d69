//! Reading the inputs that are not access logs: syslog, web-server error
//! logs and metric CSVs, the evidence around an incident.
//!
//! Ingest hands over an input whose head is no access log; its kind is then
//! sniffed from content (a Prometheus API answer first, then syslog, error
//! log, CSV) and it is read line by line (a CSV or an answer whole). Syslog and error-log lines are classified as they come
//! (see [`super::events`]; metric CSVs in [`super::metrics`]); only alerts, recoveries, changes and notable
//! events are kept, so a big syslog costs what it says, not what it weighs.
//!
//! Times are placed once every input is read ([`finish`]): RFC 3164 has no
//! year and most of these layouts no zone, and both come from outside the
//! line: `--year`/`--tz`, else the access logs of the same run (their time
//! range gives the year, their offset the zone), else the file's
//! modification time for the year and UTC for the zone.
//!
//! This module is the dispatcher for an input that is not an access log:
//! it sniffs the family, hands the lines to [`events`] or the table to
//! [`metrics`], and places every time at the end.

use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr_iter;

use super::events::errorlog::ErrorLogLayout;
use super::events::syslog::SyslogLayout;
use super::events::{self, Classifier, Event, EventReader, ORDERING_YEAR, RawEvent};
use super::metrics;
/// The series of metric CSVs, placed in time (defined with their reading).
pub use super::metrics::MetricSeries;
use super::metrics::csv::{self as metrics_csv, CsvDialect, RawSeries};
use super::reader::{Block, BlockReader, Source, marked_line_reason};
use super::stats::{InputKind, InputStats, SkippedLine};
use super::timestamps::{Stamp, StampSpan, YearlessTime};
use crate::progress::Progress;
use crate::timefmt::{MS_PER_DAY, Millis, Zone};

/// Settings for the evidence inputs, resolved from the configuration.
#[derive(Clone, Debug, Default)]
pub struct EvidenceOptions {
    /// `--tz`.
    pub zone: Option<Zone>,
    /// `--year`.
    pub year: Option<i32>,
    /// The classification table plus `--alert-pattern`.
    pub classifier: Classifier,
}

/// What one evidence input gave, times not yet placed.
#[derive(Debug)]
struct EvidenceInput {
    input: u32,
    events: Vec<RawEvent>,
    series: Vec<RawSeries>,
    span: StampSpan,
    /// Modification time of the file (stdin: when it was read).
    mtime: Option<Millis>,
}

/// Every evidence input of a run, gathered while ingest reads the inputs.
#[derive(Debug, Default)]
pub struct Collected {
    inputs: Vec<EvidenceInput>,
}

/// Where progress goes while an input is read.
pub struct ProgressTap<'a> {
    pub progress: &'a dyn Progress,
    pub consumed_before: u64,
    pub raw_bytes_read: &'a AtomicU64,
}

impl ProgressTap<'_> {
    fn update(&self) {
        self.progress
            .set_position(self.consumed_before + self.raw_bytes_read.load(Ordering::Relaxed));
    }
}

/// What sniffing found an input to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sniffed {
    Events(EventLog),
    Csv(CsvDialect),
    /// A Prometheus `query`/`query_range` JSON answer.
    Prometheus,
}

/// A log of events (syslog or error log): both are read line by line the
/// same way, only the parser of a line differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventLog {
    Syslog(SyslogLayout),
    ErrorLog(ErrorLogLayout),
}

impl EventLog {
    fn kind(self) -> InputKind {
        match self {
            EventLog::Syslog(_) => InputKind::Syslog,
            EventLog::ErrorLog(_) => InputKind::ErrorLog,
        }
    }

    fn format(self) -> &'static str {
        match self {
            EventLog::Syslog(layout) => layout.name(),
            EventLog::ErrorLog(layout) => layout.name(),
        }
    }

    /// Hands line `number` to `reader`'s parser for this family.
    #[inline]
    fn read_line(self, reader: &mut EventReader<'_>, number: u64, line: &[u8]) {
        match self {
            EventLog::Syslog(_) => reader.syslog_line(number, line),
            EventLog::ErrorLog(_) => reader.error_line(number, line),
        }
    }
}

/// Syslog first, then error log, then CSV: the first family most sampled
/// lines read as (a Prometheus answer is recognised before, from the
/// head's bytes: it is one JSON document, not lines).
fn sniff(lines: &[&[u8]]) -> Option<Sniffed> {
    if let Some(layout) = events::sniff_syslog(lines) {
        return Some(Sniffed::Events(EventLog::Syslog(layout)));
    }
    if let Some(layout) = events::sniff_error_log(lines) {
        return Some(Sniffed::Events(EventLog::ErrorLog(layout)));
    }
    metrics_csv::sniff(lines).map(Sniffed::Csv)
}

/// Reads an input that is not an access log, if it is evidence: sets its
/// kind, format and counts in `stats` and keeps what it gave in `collected`.
/// `stats.note` keeps the access side's note when it is not evidence either.
pub fn read_other<R: std::io::Read>(
    stats: &mut InputStats,
    source: &Source,
    input: u32,
    (first_block, mut blocks): (Block, BlockReader<R>),
    options: &EvidenceOptions,
    collected: &mut Collected,
    tap: &ProgressTap<'_>,
) {
    let is_whole = blocks.is_finished();
    let sniffed = if metrics::prometheus::looks_like_answer(&first_block.bytes) {
        Some(Sniffed::Prometheus)
    } else {
        let mut lines = super::sniff::sample_lines(&first_block.bytes, is_whole);
        // A line the reader did not keep says nothing about the format.
        lines.retain(|line| marked_line_reason(line).is_none());
        sniff(&lines)
    };
    let Some(sniffed) = sniffed else {
        if let Some(note) = &mut stats.note
            && !super::json_document::starts_like_json(&first_block.bytes)
        {
            note.push_str("; nor a syslog, an nginx/Apache error log or a metrics CSV");
        }
        // Every line was read to say how many there were, and none is used.
        let mut counter = UnusedLines::new(stats, UNRECOGNISED_REASON);
        let error = for_each_line(first_block, &mut blocks, tap, |number, line| {
            counter.line(number, line);
        });
        report_read_error(stats, error);
        return;
    };
    let mut evidence = EvidenceInput {
        input,
        events: Vec::new(),
        series: Vec::new(),
        span: StampSpan::default(),
        mtime: modification_time(source),
    };
    stats.note = None;
    let mut error = None;
    match sniffed {
        Sniffed::Events(log) => {
            stats.kind = log.kind();
            stats.format = Some(log.format());
            let mut reader = EventReader::new(&options.classifier, stats);
            error = for_each_line(first_block, &mut blocks, tap, |number, line| {
                log.read_line(&mut reader, number, line)
            });
            (evidence.events, evidence.span) = reader.finish();
        }
        Sniffed::Csv(_) | Sniffed::Prometheus => {
            let mut bytes = first_block.bytes;
            if let Some(e) = first_block.error {
                error = Some(e);
            }
            while error.is_none()
                && let Some(block) = blocks.next_block()
            {
                bytes.extend_from_slice(&block.bytes);
                error = block.error;
                tap.update();
            }
            let read = match sniffed {
                Sniffed::Csv(dialect) => metrics::read_table(bytes, dialect, stats),
                _ => metrics::read_prometheus(&bytes, stats),
            };
            match read {
                Ok(series) => {
                    for one in &series {
                        one.stamps.iter().for_each(|s| evidence.span.add(*s));
                    }
                    evidence.series = series;
                }
                Err(why) => {
                    stats.kind = InputKind::Unknown;
                    let looks_like = match sniffed {
                        Sniffed::Prometheus => "a Prometheus answer",
                        _ => "a CSV",
                    };
                    stats.note = Some(format!(
                        "not a recognised log: looks like {looks_like} but {why}"
                    ));
                    let lines = stats.lines;
                    stats.lines = 0;
                    let mut counter = UnusedLines::new(stats, UNRECOGNISED_REASON);
                    (1..=lines).for_each(|number| counter.line(number, b""));
                    report_read_error(stats, error);
                    return;
                }
            }
        }
    }
    report_read_error(stats, error);
    collected.inputs.push(evidence);
}

/// Reads the server's own messages found among an access log's requests
/// (HAProxy's `Proxy www started.`, `Server www/app1 is DOWN`) as syslog
/// lines: those the classification table keeps become events of the same
/// input, placed with the others at the end. `lines` are `(line number,
/// line)` in order; a line that is no syslog line either is counted as
/// skipped in `stats`, with its reason.
pub fn read_message_lines(
    stats: &mut InputStats,
    source: &Source,
    input: u32,
    lines: &[(u64, Vec<u8>)],
    options: &EvidenceOptions,
    collected: &mut Collected,
) {
    if lines.is_empty() {
        return;
    }
    let mut scratch = InputStats::new(stats.path.clone());
    let mut reader = EventReader::new(&options.classifier, &mut scratch);
    for (number, line) in lines {
        reader.syslog_line(*number, line);
    }
    let (events, span) = reader.finish();
    stats.messages += scratch.parsed;
    stats.skipped += scratch.skipped;
    stats.skipped_examples.extend(scratch.skipped_examples);
    stats.skipped_examples.sort_by_key(|example| example.line);
    stats
        .skipped_examples
        .truncate(super::stats::MAX_SKIPPED_EXAMPLES);
    collected.inputs.push(EvidenceInput {
        input,
        events,
        series: Vec::new(),
        span,
        mtime: modification_time(source),
    });
}

/// The skip reason of every line of an input that is not a recognised log
/// (the input's note says what was expected).
pub const UNRECOGNISED_REASON: &str =
    "the input is not a recognised log (see its note), so no line of it is used";

/// Counts every line of an input none of whose lines is used as skipped,
/// keeping the first as the example (the reason is the same for all, so
/// more examples would only repeat it).
struct UnusedLines<'a> {
    stats: &'a mut InputStats,
    reason: &'static str,
}

impl<'a> UnusedLines<'a> {
    fn new(stats: &'a mut InputStats, reason: &'static str) -> Self {
        UnusedLines { stats, reason }
    }

    /// Counts line `number`; `line` tells a line the reader did not keep.
    fn line(&mut self, number: u64, line: &[u8]) {
        self.stats.lines += 1;
        self.stats.skipped += 1;
        if self.stats.skipped_examples.is_empty() {
            let reason = marked_line_reason(line).unwrap_or(self.reason);
            self.stats.skipped_examples.push(SkippedLine {
                line: number,
                reason: reason.to_string(),
            });
        }
    }
}

/// Records the read error that ended an input early, if any.
fn report_read_error(stats: &mut InputStats, error: Option<std::io::Error>) {
    if let Some(e) = error {
        stats.error = Some(format!(
            "reading stopped after line {}: {e}; the lines before it were used",
            stats.lines
        ));
    }
}

fn modification_time(source: &Source) -> Option<Millis> {
    let modified = match source {
        Source::File(path) => std::fs::metadata(path).ok()?.modified().ok()?,
        // A stream has no file date: it is being written now, which is what
        // a file's modification time stands for.
        Source::Stdin => std::time::SystemTime::now(),
    };
    let since_epoch = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since_epoch.as_millis()).ok()
}

/// Calls `visit` with each line (1-based number, line ending removed) of the
/// first block and the blocks after it; the read error that ended it, if any.
fn for_each_line<R: std::io::Read>(
    first_block: Block,
    blocks: &mut BlockReader<R>,
    tap: &ProgressTap<'_>,
    mut visit: impl FnMut(u64, &[u8]),
) -> Option<std::io::Error> {
    let mut number = 0u64;
    let mut pending = Some(first_block);
    while let Some(block) = pending.take() {
        let bytes = &block.bytes;
        let mut start = 0;
        let ends = memchr_iter(b'\n', bytes)
            .chain((bytes.last().is_some_and(|&b| b != b'\n')).then_some(bytes.len()));
        for end in ends {
            number += 1;
            let raw = &bytes[start..end];
            start = end + 1;
            visit(number, raw.strip_suffix(b"\r").unwrap_or(raw));
        }
        tap.update();
        if block.error.is_some() {
            return block.error;
        }
        pending = blocks.next_block();
    }
    None
}

/// The evidence of a run with times placed.
#[derive(Debug, Default)]
pub struct Resolved {
    pub events: Vec<Event>,
    pub metrics: Vec<MetricSeries>,
}

/// The year a yearless file is read in: the candidate year (around the
/// reference) that puts its span nearest the reference range, else the one
/// that ends it at or before its modification time.
fn infer_year(
    yearless: (YearlessTime, YearlessTime),
    reference: Option<(Millis, Millis)>,
    mtime: Option<Millis>,
) -> Option<i32> {
    let year_of = |at: Millis| {
        use chrono::Datelike;
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at).map(|t| t.year())
    };
    let span_in = |year: i32| Some((yearless.0.local_ms(year)?, yearless.1.local_ms(year)?));
    if let Some((first, last)) = reference {
        let base = year_of(first)?;
        return (base - 2..=base + 1)
            .filter_map(|year| {
                let (low, high) = span_in(year)?;
                let distance = if high < first {
                    first - high
                } else if low > last {
                    low - last
                } else {
                    0
                };
                Some((distance, year))
            })
            .min()
            .map(|(_, year)| year);
    }
    let mtime = mtime?;
    let base = year_of(mtime)?;
    // The last line was written before the file was last modified (a day of
    // slack for zones); of the years that allow it, the latest.
    (base - 1..=base)
        .rev()
        .find(|&year| span_in(year).is_some_and(|(_, high)| high <= mtime + MS_PER_DAY))
        .or(Some(base - 1))
}

/// Places every collected time: `options.year`/`options.zone`, else the
/// access logs' range and `access_zone` (the offsets their lines carry).
/// Updates each evidence input's `first`/`last` and `out_of_range`
/// (`since`/`until`).
pub fn finish(
    collected: Collected,
    inputs: &mut [InputStats],
    access_zone: Zone,
    options: &EvidenceOptions,
    (since, until): (Option<Millis>, Option<Millis>),
) -> Resolved {
    let zone = options.zone.unwrap_or(access_zone);
    let access_range = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Access)
        .filter_map(|i| Some((i.first?, i.last?)))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let placed_range = collected
        .inputs
        .iter()
        .flat_map(|e| [e.span.absolute, e.span.local])
        .flatten()
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let reference = access_range.or(placed_range);
    let in_range = |at: Millis| since.is_none_or(|s| at >= s) && until.is_none_or(|u| at <= u);
    let mut resolved = Resolved::default();
    for evidence in collected.inputs {
        let Some(stats) = inputs.get_mut(evidence.input as usize) else {
            continue;
        };
        let year = options
            .year
            .or_else(|| {
                evidence
                    .span
                    .yearless
                    .and_then(|span| infer_year(span, reference, evidence.mtime))
            })
            .unwrap_or(ORDERING_YEAR);
        let place = |stamp: Stamp, fold: bool| stamp.resolve(year, &zone, fold);
        let span = evidence.span;
        let ends = [
            span.absolute
                .map(|(a, b)| (Stamp::Absolute(a), Stamp::Absolute(b))),
            span.local.map(|(a, b)| (Stamp::Local(a), Stamp::Local(b))),
            span.yearless
                .map(|(a, b)| (Stamp::NoYear(a), Stamp::NoYear(b))),
        ];
        for (low, high) in ends.into_iter().flatten() {
            if let Some(low) = place(low, false) {
                stats.first = Some(stats.first.map_or(low, |f| f.min(low)));
            }
            if let Some(high) = place(high, true) {
                stats.last = Some(stats.last.map_or(high, |l| l.max(high)));
            }
        }
        for raw in evidence.events {
            let count = raw.count();
            let Some(event) = raw.place(evidence.input, place) else {
                continue;
            };
            if !in_range(event.at) {
                stats.out_of_range += count;
                continue;
            }
            resolved.events.push(event);
        }
        for raw in evidence.series {
            let metric =
                metrics::place_series(raw, evidence.input, |stamp| place(stamp, false), in_range);
            resolved.metrics.push(metric);
        }
    }
    resolved.events.sort_by_key(|e| (e.at, e.line));
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::timestamps::utc_ms;

    #[test]
    fn years_are_inferred_from_the_reference_or_the_file_date() {
        let at = |month, day| YearlessTime {
            year_delta: 0,
            month,
            day,
            ms_of_day: 0,
        };
        let new_year = YearlessTime {
            year_delta: 1,
            ..at(1, 2)
        };
        let cases = [
            (
                "access logs in the same year",
                (at(11, 12), at(11, 12)),
                Some((
                    utc_ms(2023, 11, 12, 10, 0, 0),
                    utc_ms(2023, 11, 12, 20, 0, 0),
                )),
                None,
                Some(2023),
            ),
            (
                "syslog from the December before January access logs",
                (at(12, 31), at(12, 31)),
                Some((utc_ms(2024, 1, 1, 0, 0, 0), utc_ms(2024, 1, 2, 0, 0, 0))),
                None,
                Some(2023),
            ),
            (
                "a file across New Year ends in the reference year",
                (at(12, 30), new_year),
                Some((utc_ms(2024, 1, 1, 0, 0, 0), utc_ms(2024, 1, 3, 0, 0, 0))),
                None,
                Some(2023),
            ),
            (
                "no reference: the file date's year",
                (at(3, 1), at(3, 5)),
                None,
                Some(utc_ms(2024, 3, 6, 0, 0, 0)),
                Some(2024),
            ),
            (
                "no reference: a December file modified in January",
                (at(12, 1), at(12, 31)),
                None,
                Some(utc_ms(2024, 1, 2, 0, 0, 0)),
                Some(2023),
            ),
        ];
        for (name, span, reference, mtime, expected) in cases {
            assert_eq!(infer_year(span, reference, mtime), expected, "{name}");
        }
    }
}
