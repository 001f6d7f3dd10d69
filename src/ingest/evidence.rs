//! Reading the inputs that are not access logs: syslog, web-server error
//! logs and metric CSVs, the evidence around an incident.
//!
//! Ingest hands over an input whose head is no access log; its kind is then
//! sniffed from content (syslog first, then error log, then CSV) and it is
//! read line by line. Syslog and error-log lines are classified as they come
//! (see [`super::events`]); only alerts, recoveries, changes and notable
//! events are kept, so a big syslog costs what it says, not what it weighs.
//!
//! Times are placed once every input is read ([`finish`]): RFC 3164 has no
//! year and most of these layouts no zone, and both come from outside the
//! line: `--year`/`--tz`, else the access logs of the same run (their time
//! range gives the year, their offset the zone), else the file's
//! modification time for the year and UTC for the zone.

use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memchr_iter;

use super::events::errorlog::{self, ErrorLine, ErrorLogLayout};
use super::events::{Classifier, Event, EventKind};
use super::metrics::csv::{self as metrics_csv, CsvDialect, RawSeries};
use super::reader::{Block, BlockReader, Source, marked_line_reason};
use super::timestamps::{Stamp, YearlessTime};
use super::events::syslog::{self, SyslogLayout, SyslogLine};
use super::{InputKind, InputStats, MAX_SKIPPED_EXAMPLES, SkippedLine};
use crate::progress::Progress;
use crate::series::LineRef;
use crate::timefmt::{MS_PER_DAY, MS_PER_MINUTE, Millis, Zone};

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

/// One metric series, placed in time.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSeries {
    pub name: String,
    /// From the header (`memory (MB)`), else empty.
    pub unit: String,
    /// The input it came from.
    pub input: u32,
    pub times: Vec<Millis>,
    /// NaN where the CSV had an empty cell.
    pub values: Vec<f64>,
    /// 1-based line of each point; 0 when unknown.
    pub lines: Vec<u64>,
}

/// A kept line whose time is not yet placed.
#[derive(Clone, Debug)]
struct RawEvent {
    stamp: Stamp,
    last_stamp: Stamp,
    second_of_fold: bool,
    kind: EventKind,
    rule: &'static str,
    severity: Option<u8>,
    host: Option<String>,
    program: Option<String>,
    text: String,
    line: u64,
    count: u64,
}

/// Earliest and latest time of each kind of stamp seen in one input.
#[derive(Clone, Copy, Debug, Default)]
struct StampSpan {
    absolute: Option<(Millis, Millis)>,
    local: Option<(Millis, Millis)>,
    yearless: Option<(YearlessTime, YearlessTime)>,
}

fn widen<T: Ord + Copy>(span: &mut Option<(T, T)>, value: T) {
    *span = Some(match *span {
        None => (value, value),
        Some((low, high)) => (low.min(value), high.max(value)),
    });
}

impl StampSpan {
    fn add(&mut self, stamp: Stamp) {
        match stamp {
            Stamp::Absolute(at) => widen(&mut self.absolute, at),
            Stamp::Local(local) => widen(&mut self.local, local),
            Stamp::NoYear(yearless) => widen(&mut self.yearless, yearless),
        }
    }
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

/// The longest message kept per event (bytes): enough for any alert or
/// kernel line, short enough that a runaway line cannot bloat the report.
const MAX_MESSAGE_BYTES: usize = 2048;

/// Characters of an event's text that reach the report.
pub const MAX_EVENT_TEXT_CHARS: usize = 300;

/// Repeats of one line closer together than this fold into one event.
const FOLD_GAP_MS: i64 = MS_PER_MINUTE;

/// A year to order yearless times of one file by before the real year is
/// known: a leap year, so 29 February has a place.
const ORDERING_YEAR: i32 = 2000;

/// A month number this far below the previous line's is the next year
/// (December, then January); smaller steps back are clock noise.
const NEW_YEAR_MONTH_DROP: u8 = 6;

/// What sniffing found an input to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sniffed {
    Syslog(SyslogLayout),
    ErrorLog(ErrorLogLayout),
    Csv(CsvDialect),
}

/// Share of sampled message lines (continuations and journal markers left
/// out) a format must read for the input to be taken as that format.
const MIN_SNIFF_SHARE: f64 = super::sniff::MIN_SNIFF_SHARE;

fn sniff(lines: &[&[u8]]) -> Option<Sniffed> {
    let mut layouts: Vec<(SyslogLayout, usize)> = Vec::new();
    let mut considered = 0usize;
    for line in lines {
        match syslog::parse_line(line) {
            Ok(SyslogLine::Record(record)) => {
                considered += 1;
                match layouts.iter_mut().find(|(l, _)| *l == record.layout) {
                    Some(entry) => entry.1 += 1,
                    None => layouts.push((record.layout, 1)),
                }
            }
            Ok(SyslogLine::Repeated(_)) => considered += 1,
            Ok(SyslogLine::Continuation(_) | SyslogLine::JournalMarker) => {}
            Err(_) => considered += 1,
        }
    }
    let records: usize = layouts.iter().map(|(_, n)| n).sum();
    if considered > 0 && records as f64 >= MIN_SNIFF_SHARE * considered as f64 {
        let (layout, _) = layouts
            .iter()
            .max_by_key(|(layout, n)| (*n, std::cmp::Reverse(*layout)))?;
        return Some(Sniffed::Syslog(*layout));
    }
    let (mut considered, mut nginx, mut apache) = (0usize, 0usize, 0usize);
    for line in lines {
        match errorlog::parse_line(line) {
            Ok(ErrorLine::Record(record)) => {
                considered += 1;
                match record.layout {
                    ErrorLogLayout::Nginx => nginx += 1,
                    ErrorLogLayout::Apache => apache += 1,
                }
            }
            Ok(ErrorLine::Continuation(_)) => {}
            Err(_) => considered += 1,
        }
    }
    if considered > 0 && (nginx + apache) as f64 >= MIN_SNIFF_SHARE * considered as f64 {
        let layout = if nginx >= apache {
            ErrorLogLayout::Nginx
        } else {
            ErrorLogLayout::Apache
        };
        return Some(Sniffed::ErrorLog(layout));
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
    let sniffed = {
        let mut lines = super::sniff::sample_lines(&first_block.bytes, is_whole);
        // A line the reader did not keep says nothing about the format.
        lines.retain(|line| marked_line_reason(line).is_none());
        sniff(&lines)
    };
    let Some(sniffed) = sniffed else {
        if let Some(note) = &mut stats.note {
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
        Sniffed::Syslog(layout) => {
            stats.kind = InputKind::Syslog;
            stats.format = Some(layout.name());
            let mut reader = EventReader::new(&options.classifier, stats);
            error = for_each_line(first_block, &mut blocks, tap, |number, line| {
                reader.syslog_line(number, line)
            });
            reader.finish(&mut evidence);
        }
        Sniffed::ErrorLog(layout) => {
            stats.kind = InputKind::ErrorLog;
            stats.format = Some(layout.name());
            let mut reader = EventReader::new(&options.classifier, stats);
            error = for_each_line(first_block, &mut blocks, tap, |number, line| {
                reader.error_line(number, line)
            });
            reader.finish(&mut evidence);
        }
        Sniffed::Csv(dialect) => {
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
            stats.lines = memchr_iter(b'\n', &bytes).count() as u64
                + u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
            let marked = take_marked_lines(&mut bytes);
            match metrics_csv::load(&bytes, dialect) {
                Ok(loaded) => {
                    stats.kind = InputKind::Metrics;
                    stats.format = Some(loaded.layout.name());
                    stats.parsed = loaded.parsed;
                    stats.skipped = loaded.skipped + marked.len() as u64;
                    let mut examples = loaded.skipped_examples;
                    let mut series = loaded.series;
                    if !marked.is_empty() {
                        let original = |line: u64| line_before_removal(line, &marked);
                        for example in &mut examples {
                            example.line = original(example.line);
                        }
                        for one in &mut series {
                            one.lines
                                .iter_mut()
                                .for_each(|line| *line = original(*line));
                        }
                    }
                    examples.extend(marked.into_iter().map(|(line, reason)| SkippedLine {
                        line,
                        reason: reason.to_string(),
                    }));
                    examples.sort_by_key(|example| example.line);
                    examples.truncate(MAX_SKIPPED_EXAMPLES);
                    stats.skipped_examples = examples;
                    stats.note = loaded.note;
                    for one in &series {
                        one.stamps.iter().for_each(|s| evidence.span.add(*s));
                    }
                    evidence.series = series;
                }
                Err(why) => {
                    stats.kind = InputKind::Unknown;
                    stats.note = Some(format!("not a recognised log: looks like a CSV but {why}"));
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

/// Removes the lines of a CSV the reader did not keep (over the cap, cut
/// by damage), so the table is read without them (polars would read an
/// empty line as a row); returns their numbers and skip reasons.
fn take_marked_lines(bytes: &mut Vec<u8>) -> Vec<(u64, &'static str)> {
    let mut marked = Vec::new();
    if !bytes.contains(&0) {
        return marked;
    }
    let mut kept = Vec::with_capacity(bytes.len());
    for (index, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match marked_line_reason(line) {
            Some(reason) => marked.push((index as u64 + 1, reason)),
            None => kept.extend_from_slice(raw),
        }
    }
    *bytes = kept;
    marked
}

/// The line number in the whole input of line `line` of the input with the
/// lines `removed` (ascending) taken out; 0 (unknown) stays 0.
fn line_before_removal(line: u64, removed: &[(u64, &'static str)]) -> u64 {
    if line == 0 {
        return 0;
    }
    let mut original = line;
    for &(at, _) in removed {
        if at <= original {
            original += 1;
        } else {
            break;
        }
    }
    original
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

/// A message being read: its first line and its continuations, copied into
/// buffers that are reused from message to message.
#[derive(Debug, Default)]
struct Pending {
    active: bool,
    stamp: Option<Stamp>,
    second_of_fold: bool,
    severity: Option<u8>,
    host: Vec<u8>,
    has_host: bool,
    program: Vec<u8>,
    message: Vec<u8>,
    line: u64,
    count: u64,
}

/// The header fields of one message line.
struct Header<'a> {
    stamp: Stamp,
    severity: Option<u8>,
    host: Option<&'a [u8]>,
    program: Option<&'a [u8]>,
    message: &'a [u8],
}

/// Turns message lines into kept events: joins continuations, counts
/// repeats, tracks New Year and DST folds, classifies each whole message.
struct EventReader<'a> {
    classifier: &'a Classifier,
    stats: &'a mut InputStats,
    pending: Pending,
    events: Vec<RawEvent>,
    span: StampSpan,
    year_delta: u16,
    previous_month: Option<u8>,
    latest_ordering_ms: Option<Millis>,
    haystack: Vec<u8>,
}

impl<'a> EventReader<'a> {
    fn new(classifier: &'a Classifier, stats: &'a mut InputStats) -> Self {
        EventReader {
            classifier,
            stats,
            pending: Pending::default(),
            events: Vec::new(),
            span: StampSpan::default(),
            year_delta: 0,
            previous_month: None,
            latest_ordering_ms: None,
            haystack: Vec::new(),
        }
    }

    fn skip(&mut self, line: u64, reason: &str) {
        self.stats.skipped += 1;
        if self.stats.skipped_examples.len() < MAX_SKIPPED_EXAMPLES {
            self.stats.skipped_examples.push(SkippedLine {
                line,
                reason: reason.to_string(),
            });
        }
    }

    /// Counts a line the reader did not keep (over the cap, cut by
    /// damage) as skipped; whether it was one.
    fn marked_line(&mut self, number: u64, line: &[u8]) -> bool {
        match marked_line_reason(line) {
            Some(reason) => {
                self.skip(number, reason);
                true
            }
            None => false,
        }
    }

    fn syslog_line(&mut self, number: u64, line: &[u8]) {
        self.stats.lines += 1;
        if self.marked_line(number, line) {
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            self.skip(number, "empty line");
            return;
        }
        match syslog::parse_line(line) {
            Ok(SyslogLine::Record(record)) => self.record(
                number,
                Header {
                    stamp: record.stamp,
                    severity: record.priority.map(|p| p.severity),
                    host: record.host,
                    program: record.program,
                    message: record.message,
                },
            ),
            Ok(SyslogLine::Continuation(text)) => self.continuation(number, text),
            Ok(SyslogLine::Repeated(count)) => {
                self.stats.parsed += 1;
                if self.pending.active {
                    self.pending.count = self.pending.count.saturating_add(count);
                }
            }
            Ok(SyslogLine::JournalMarker) => self.stats.parsed += 1,
            Err(error) => self.skip(number, error.reason),
        }
    }

    fn error_line(&mut self, number: u64, line: &[u8]) {
        self.stats.lines += 1;
        if self.marked_line(number, line) {
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            self.skip(number, "empty line");
            return;
        }
        match errorlog::parse_line(line) {
            Ok(ErrorLine::Record(record)) => self.record(
                number,
                Header {
                    stamp: record.stamp,
                    severity: record.severity,
                    host: None,
                    program: Some(record.layout.program()),
                    message: record.message,
                },
            ),
            Ok(ErrorLine::Continuation(text)) => self.continuation(number, text),
            Err(error) => self.skip(number, error.reason),
        }
    }

    fn continuation(&mut self, number: u64, text: &[u8]) {
        if !self.pending.active {
            self.skip(number, "continuation line before any message");
            return;
        }
        self.stats.parsed += 1;
        let room = MAX_MESSAGE_BYTES.saturating_sub(self.pending.message.len());
        if room > 1 && !text.is_empty() {
            self.pending.message.push(b' ');
            self.pending
                .message
                .extend_from_slice(&text[..text.len().min(room - 1)]);
        }
    }

    fn record(&mut self, number: u64, header: Header<'_>) {
        self.flush();
        self.stats.parsed += 1;
        let mut stamp = header.stamp;
        if let Stamp::NoYear(yearless) = &mut stamp {
            if let Some(previous) = self.previous_month
                && yearless.month + NEW_YEAR_MONTH_DROP < previous
            {
                self.year_delta = self.year_delta.saturating_add(1);
            }
            self.previous_month = Some(yearless.month);
            yearless.year_delta = self.year_delta;
        }
        let ordering = stamp.ordering_ms(ORDERING_YEAR);
        let second_of_fold = match (ordering, self.latest_ordering_ms) {
            (Some(now), Some(latest)) => now < latest,
            _ => false,
        };
        if let Some(now) = ordering {
            self.latest_ordering_ms = Some(self.latest_ordering_ms.map_or(now, |l| l.max(now)));
        }
        self.span.add(stamp);
        let pending = &mut self.pending;
        pending.active = true;
        pending.stamp = Some(stamp);
        pending.second_of_fold = second_of_fold;
        pending.severity = header.severity;
        pending.has_host = header.host.is_some();
        pending.host.clear();
        pending
            .host
            .extend_from_slice(header.host.unwrap_or_default());
        pending.program.clear();
        pending
            .program
            .extend_from_slice(header.program.unwrap_or_default());
        pending.message.clear();
        pending
            .message
            .extend_from_slice(&header.message[..header.message.len().min(MAX_MESSAGE_BYTES)]);
        pending.line = number;
        pending.count = 1;
    }

    /// Classifies the pending message; keeps it when it is evidence.
    fn flush(&mut self) {
        if !self.pending.active {
            return;
        }
        self.pending.active = false;
        let pending = &self.pending;
        let Some(stamp) = pending.stamp else {
            return;
        };
        self.haystack.clear();
        if !pending.program.is_empty() {
            self.haystack.extend_from_slice(&pending.program);
            self.haystack.extend_from_slice(b": ");
        }
        self.haystack.extend_from_slice(&pending.message);
        let Some(classified) = self.classifier.classify(&self.haystack, pending.severity) else {
            return;
        };
        let text = truncate_chars(
            &String::from_utf8_lossy(&pending.message),
            MAX_EVENT_TEXT_CHARS,
        );
        let host = pending
            .has_host
            .then(|| String::from_utf8_lossy(&pending.host).into_owned());
        let program = (!pending.program.is_empty())
            .then(|| String::from_utf8_lossy(&pending.program).into_owned());
        if let Some(last) = self.events.last_mut()
            && last.kind == classified.kind
            && last.text == text
            && last.program == program
            && last.host == host
            && let (Some(now), Some(before)) = (
                stamp.ordering_ms(ORDERING_YEAR),
                last.last_stamp.ordering_ms(ORDERING_YEAR),
            )
            && (0..=FOLD_GAP_MS).contains(&(now - before))
        {
            last.count = last.count.saturating_add(pending.count);
            last.last_stamp = stamp;
            return;
        }
        self.events.push(RawEvent {
            stamp,
            last_stamp: stamp,
            second_of_fold: pending.second_of_fold,
            kind: classified.kind,
            rule: classified.rule,
            severity: pending.severity,
            host,
            program,
            text,
            line: pending.line,
            count: pending.count,
        });
    }

    fn finish(mut self, evidence: &mut EvidenceInput) {
        self.flush();
        evidence.events = self.events;
        evidence.span = self.span;
    }
}

/// The first `max` characters of `text`, with `…` when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
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
/// access logs' range and `access_offset`. Updates each evidence input's
/// `first`/`last` and `out_of_range` (`since`/`until`).
pub fn finish(
    collected: Collected,
    inputs: &mut [InputStats],
    access_offset: Option<i32>,
    options: &EvidenceOptions,
    (since, until): (Option<Millis>, Option<Millis>),
) -> Resolved {
    let zone = options
        .zone
        .unwrap_or(Zone::Fixed(access_offset.unwrap_or(0)));
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
            let Some(at) = place(raw.stamp, raw.second_of_fold) else {
                continue;
            };
            if !in_range(at) {
                stats.out_of_range += raw.count;
                continue;
            }
            let last_at = place(raw.last_stamp, raw.second_of_fold)
                .unwrap_or(at)
                .max(at);
            resolved.events.push(Event {
                at,
                last_at,
                kind: raw.kind,
                rule: raw.rule,
                severity: raw.severity,
                host: raw.host,
                program: raw.program,
                text: raw.text,
                line: LineRef {
                    input: evidence.input,
                    line: raw.line,
                },
                count: raw.count,
            });
        }
        for series in evidence.series {
            let mut metric = MetricSeries {
                name: series.name,
                unit: series.unit,
                input: evidence.input,
                times: Vec::with_capacity(series.stamps.len()),
                values: Vec::with_capacity(series.stamps.len()),
                lines: Vec::with_capacity(series.stamps.len()),
            };
            for ((stamp, value), line) in
                series.stamps.iter().zip(&series.values).zip(&series.lines)
            {
                let Some(at) = place(*stamp, false) else {
                    continue;
                };
                if !in_range(at) {
                    continue;
                }
                metric.times.push(at);
                metric.values.push(*value);
                metric.lines.push(*line);
            }
            sort_points(&mut metric);
            resolved.metrics.push(metric);
        }
    }
    resolved.events.sort_by_key(|e| (e.at, e.line));
    resolved
}

/// Orders a series by time (exports are usually ordered; merged ones not).
fn sort_points(metric: &mut MetricSeries) {
    if metric.times.is_sorted() {
        return;
    }
    let mut order: Vec<usize> = (0..metric.times.len()).collect();
    order.sort_by_key(|&i| metric.times[i]);
    metric.times = order.iter().map(|&i| metric.times[i]).collect();
    metric.values = order.iter().map(|&i| metric.values[i]).collect();
    metric.lines = order.iter().map(|&i| metric.lines[i]).collect();
}

/// One parsed syslog message, for tests and tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMessage {
    /// 1-based line of its first line.
    pub line: u64,
    pub at: Millis,
    pub host: Option<String>,
    pub program: Option<String>,
    pub pid: Option<String>,
    /// The message, continuation lines joined with a space.
    pub message: String,
}

/// Every message of a syslog text with its time placed in `year` and
/// `zone`, New Years and DST folds handled as the reader does. Repeats and
/// journal markers are left out.
pub fn parse_syslog_text(text: &[u8], year: i32, zone: &Zone) -> Vec<ParsedMessage> {
    let lossy = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let mut out: Vec<ParsedMessage> = Vec::new();
    let mut year_delta = 0u16;
    let mut previous_month = None;
    let mut latest = None;
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match syslog::parse_line(line) {
            Ok(SyslogLine::Record(record)) => {
                let mut stamp = record.stamp;
                if let Stamp::NoYear(yearless) = &mut stamp {
                    if previous_month.is_some_and(|p| yearless.month + NEW_YEAR_MONTH_DROP < p) {
                        year_delta = year_delta.saturating_add(1);
                    }
                    previous_month = Some(yearless.month);
                    yearless.year_delta = year_delta;
                }
                let ordering = stamp.ordering_ms(year);
                let fold = matches!((ordering, latest), (Some(now), Some(l)) if now < l);
                if let Some(now) = ordering {
                    latest = Some(latest.map_or(now, |l: Millis| l.max(now)));
                }
                if let Some(at) = stamp.resolve(year, zone, fold) {
                    out.push(ParsedMessage {
                        line: index as u64 + 1,
                        at,
                        host: lossy(record.host),
                        program: lossy(record.program),
                        pid: lossy(record.pid),
                        message: String::from_utf8_lossy(record.message).into_owned(),
                    });
                }
            }
            Ok(SyslogLine::Continuation(more)) => {
                if let Some(last) = out.last_mut() {
                    last.message.push(' ');
                    last.message.push_str(&String::from_utf8_lossy(more));
                }
            }
            _ => {}
        }
    }
    out
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

    #[test]
    fn csv_lines_after_removed_lines_keep_their_numbers() {
        let mut bytes = [
            &b"time,load\n1,2\n"[..],
            crate::ingest::reader::OVERLONG_LINE_MARK,
            b"\n3,4\r\n",
            crate::ingest::reader::CUT_LINE_MARK,
            b"\n5,6\n",
        ]
        .concat();
        let removed = take_marked_lines(&mut bytes);
        assert_eq!(bytes, b"time,load\n1,2\n3,4\r\n5,6\n");
        assert_eq!(
            removed.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [3, 5]
        );
        let cases = [(0, 0), (1, 1), (2, 2), (3, 4), (4, 6)];
        for (after, before) in cases {
            assert_eq!(line_before_removal(after, &removed), before, "line {after}");
        }
    }

    #[test]
    fn the_reader_joins_folds_and_classifies() {
        let text = b"Nov 12 13:59:00 web01 systemd[1]: Reloading nginx.service.\n\
Nov 12 14:00:01 web01 kernel: Out of memory: Killed process 42 (java)\n\
Nov 12 14:00:01 web01 kernel: Out of memory: Killed process 42 (java)\n\
Nov 12 14:00:02 web01 last message repeated 3 times\n\
Nov 12 14:00:05 web01 app[7]: request failed\n\
\tCaused by: java.lang.OutOfMemoryError: Java heap space\n\
Nov 12 14:00:06 web01 sshd[9]: Accepted publickey for alice\n";
        let mut stats = InputStats::new("syslog".to_string());
        let classifier = Classifier::default();
        let mut reader = EventReader::new(&classifier, &mut stats);
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            if !line.is_empty() {
                reader.syslog_line(index as u64 + 1, line);
            }
        }
        let mut evidence = EvidenceInput {
            input: 0,
            events: Vec::new(),
            series: Vec::new(),
            span: StampSpan::default(),
            mtime: None,
        };
        reader.finish(&mut evidence);
        let got: Vec<(EventKind, u64, u64)> = evidence
            .events
            .iter()
            .map(|e| (e.kind, e.line, e.count))
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::Change, 1, 1),
                (EventKind::Event, 2, 5),
                (EventKind::Event, 5, 1),
            ],
            "reload; OOM twice plus three repeats; the stack trace's OOM"
        );
        assert_eq!(stats.parsed, 7);
        assert_eq!(stats.skipped, 0);
    }
}
