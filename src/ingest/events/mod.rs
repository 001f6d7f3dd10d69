//! Events: what syslog and web-server error logs say around an incident.
//! One module per layout family ([`syslog`], [`errorlog`]), the table that
//! classifies a message ([`classify`]), and here the reading of such an
//! input: sniffing its layout, joining continuation lines, counting repeats,
//! tracking New Year and DST folds, and keeping only the messages the
//! classifier calls alerts, recoveries, changes or notable events, so a big
//! syslog costs what it says, not what it weighs. Times stay [`Stamp`]s
//! until `ingest::evidence` knows the run's year and zone.

pub mod classify;
pub mod commands;
pub mod errorlog;
pub mod level;
pub mod syslog;

pub use classify::{Classifier, Event, EventKind};

use errorlog::{ErrorLine, ErrorLogLayout};
use syslog::{SyslogLayout, SyslogLine};

use crate::ingest::reader::marked_line_reason;
use crate::ingest::record::LineError;
use crate::ingest::sniff::MIN_SNIFF_SHARE;
use crate::ingest::stats::{InputStats, MAX_SKIPPED_EXAMPLES, SkippedLine};
use crate::ingest::timestamps::{Stamp, StampSpan};
use crate::series::LineRef;
use crate::timefmt::{MS_PER_SECOND, Millis, Zone};

/// A kept line whose time is not yet placed.
#[derive(Clone, Debug)]
pub struct RawEvent {
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

impl RawEvent {
    /// How many lines the event stands for (repeats folded into it).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The event of input `input` with its times placed by `place` (a stamp
    /// and whether it is the second pass of a DST fold); `None` when its
    /// time has no place.
    pub fn place(self, input: u32, place: impl Fn(Stamp, bool) -> Option<Millis>) -> Option<Event> {
        let at = place(self.stamp, self.second_of_fold)?;
        let last_at = place(self.last_stamp, self.second_of_fold)
            .unwrap_or(at)
            .max(at);
        Some(Event {
            at,
            last_at,
            kind: self.kind,
            rule: self.rule,
            severity: self.severity,
            host: self.host,
            program: self.program,
            text: self.text,
            line: LineRef {
                input,
                line: self.line,
            },
            count: self.count,
        })
    }
}

/// The longest message kept per event (bytes): enough for any alert or
/// kernel line, short enough that a runaway line cannot bloat the report.
const MAX_MESSAGE_BYTES: usize = 2048;

/// Characters of an event's text that reach the report.
pub const MAX_EVENT_TEXT_CHARS: usize = 300;

/// Repeats of one line fold into one event while they come within this
/// long of its first line: a syslog time's own resolution (one second), so
/// no step of the incident (its start, detection or end) falls inside a
/// folded event more than inside one line's second. A longer chain of
/// repeats would carry the event's `last_at` past a step, and the timeline
/// folds never across one.
const FOLD_SPAN_MS: i64 = MS_PER_SECOND;

/// A year to order yearless times of one file by before the real year is
/// known: a leap year, so 29 February has a place.
pub const ORDERING_YEAR: i32 = 2000;

/// A month number this far below the previous line's is the next year
/// (December, then January); smaller steps back are clock noise.
const NEW_YEAR_MONTH_DROP: u8 = 6;

/// The syslog layout of most sampled message lines (continuations and
/// journal markers left out), when at least [`MIN_SNIFF_SHARE`] of them are
/// syslog records.
pub fn sniff_syslog(lines: &[&[u8]]) -> Option<SyslogLayout> {
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
        return Some(*layout);
    }
    None
}

/// The error-log layout of most sampled lines (continuations left out), when
/// at least [`MIN_SNIFF_SHARE`] of them are nginx or Apache error-log
/// records.
pub fn sniff_error_log(lines: &[&[u8]]) -> Option<ErrorLogLayout> {
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
        return Some(layout);
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

impl<'a> Header<'a> {
    fn new(
        stamp: Stamp,
        severity: Option<u8>,
        host: Option<&'a [u8]>,
        program: Option<&'a [u8]>,
        message: &'a [u8],
    ) -> Self {
        Header {
            stamp,
            severity,
            host,
            program,
            message,
        }
    }
}

/// A line of a syslog or an error log, as either family's parser reads it.
enum MessageLine<'a> {
    Message(Header<'a>),
    /// The next line of a message that spans several.
    Continuation(&'a [u8]),
    /// `last message repeated N times`: the previous message, N more times.
    Repeated(u64),
    /// A line journalctl writes between messages (`-- Boot 1a2b... --`).
    Marker,
}

/// A syslog line as a [`MessageLine`].
fn syslog_message(line: &[u8]) -> Result<MessageLine<'_>, LineError> {
    Ok(match syslog::parse_line(line)? {
        SyslogLine::JournalMarker => MessageLine::Marker,
        SyslogLine::Record(r) => {
            let severity = r.priority.map(|p| p.severity);
            MessageLine::Message(Header::new(r.stamp, severity, r.host, r.program, r.message))
        }
        SyslogLine::Continuation(text) => MessageLine::Continuation(text),
        SyslogLine::Repeated(count) => MessageLine::Repeated(count),
    })
}

/// An nginx or Apache error-log line as a [`MessageLine`]: no host, the
/// server as the program.
fn error_log_message(line: &[u8]) -> Result<MessageLine<'_>, LineError> {
    Ok(match errorlog::parse_line(line)? {
        ErrorLine::Record(r) => {
            let program = Some(r.layout.program());
            MessageLine::Message(Header::new(r.stamp, r.severity, None, program, r.message))
        }
        ErrorLine::Continuation(text) => MessageLine::Continuation(text),
    })
}

/// Turns message lines into kept events: joins continuations, counts
/// repeats, tracks New Year and DST folds, classifies each whole message.
pub struct EventReader<'a> {
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
    pub fn new(classifier: &'a Classifier, stats: &'a mut InputStats) -> Self {
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

    /// Counts line `number`; whether it is one to parse (not a line the
    /// reader did not keep, not empty, which are counted as skipped).
    fn has_message(&mut self, number: u64, line: &[u8]) -> bool {
        self.stats.lines += 1;
        if self.marked_line(number, line) {
            return false;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            self.skip(number, "empty line");
            return false;
        }
        true
    }

    /// Reads line `number` of a syslog.
    pub fn syslog_line(&mut self, number: u64, line: &[u8]) {
        self.message_line(number, line, syslog_message);
    }

    /// Reads line `number` of an nginx or Apache error log.
    pub fn error_line(&mut self, number: u64, line: &[u8]) {
        self.message_line(number, line, error_log_message);
    }

    /// Reads line `number` with the family's `parse` and keeps what it holds.
    fn message_line(
        &mut self,
        number: u64,
        line: &[u8],
        parse: fn(&[u8]) -> Result<MessageLine<'_>, LineError>,
    ) {
        if !self.has_message(number, line) {
            return;
        }
        match parse(line) {
            Ok(MessageLine::Message(header)) => self.record(number, header),
            Ok(MessageLine::Continuation(text)) => self.continuation(number, text),
            Ok(MessageLine::Repeated(count)) => {
                self.stats.parsed += 1;
                if self.pending.active {
                    self.pending.count = self.pending.count.saturating_add(count);
                }
            }
            Ok(MessageLine::Marker) => self.stats.parsed += 1,
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
        // A line without `<PRI>` or an error-log level may name its level
        // in its text (`[WARNING]` of php-fpm).
        let severity = pending
            .severity
            .or_else(|| level::severity_in_text(&pending.message));
        let Some(classified) = self.classifier.classify(&self.haystack, severity) else {
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
            && let (Some(now), Some(latest), Some(first)) = (
                stamp.ordering_ms(ORDERING_YEAR),
                last.last_stamp.ordering_ms(ORDERING_YEAR),
                last.stamp.ordering_ms(ORDERING_YEAR),
            )
            && now >= latest
            && now - first <= FOLD_SPAN_MS
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
            severity,
            host,
            program,
            text,
            line: pending.line,
            count: pending.count,
        });
    }

    /// The kept events and the span of every time read.
    pub fn finish(mut self) -> (Vec<RawEvent>, StampSpan) {
        self.flush();
        (self.events, self.span)
    }
}

/// The first `max` characters of `text`, with `…` when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
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

    /// The events of a syslog text, read line by line as ingest reads them,
    /// and the input's statistics.
    fn read_syslog(text: &[u8]) -> (Vec<RawEvent>, InputStats) {
        let mut stats = InputStats::new("syslog".to_string());
        let classifier = Classifier::default();
        let mut reader = EventReader::new(&classifier, &mut stats);
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            if !line.is_empty() {
                reader.syslog_line(index as u64 + 1, line);
            }
        }
        let (events, _) = reader.finish();
        (events, stats)
    }

    #[test]
    fn repeats_fold_only_within_a_second_so_no_step_falls_inside() {
        // One OOM line every 20 s for a minute: before, the chain folded
        // into one event whose last time passed any step between.
        let text = b"Nov 12 14:00:01 web01 kernel: Out of memory: Killed process 42 (java)\n\
Nov 12 14:00:01 web01 kernel: Out of memory: Killed process 42 (java)\n\
Nov 12 14:00:21 web01 kernel: Out of memory: Killed process 42 (java)\n\
Nov 12 14:00:41 web01 kernel: Out of memory: Killed process 42 (java)\n";
        let (events, _) = read_syslog(text);
        let got: Vec<(u64, u64)> = events.iter().map(|e| (e.line, e.count)).collect();
        assert_eq!(
            got,
            vec![(1, 2), (3, 1), (4, 1)],
            "the same second folds, 20 s apart do not"
        );
        let spans: Vec<(Stamp, Stamp)> = events.iter().map(|e| (e.stamp, e.last_stamp)).collect();
        assert!(spans.iter().all(|(first, last)| first == last), "{spans:?}");
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
        let (events, stats) = read_syslog(text);
        let got: Vec<(EventKind, u64, u64)> =
            events.iter().map(|e| (e.kind, e.line, e.count)).collect();
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
