//! Syslog lines in the layouts the contract lists, parsed by borrowing nom
//! parsers with hand-written fast paths for the timestamps:
//!
//! - RFC 3164 (`<PRI>` optional): `Nov 12 14:00:03 host prog[pid]: msg`, with
//!   the leniency of real daemons (upper-case or French/German months,
//!   unpadded days, a year or a colon after the date, no host).
//! - RFC 5424: `<165>1 2023-11-12T14:00:03.003Z host app pid msgid [sd] msg`,
//!   also without `<PRI>1` as some daemons write it to files.
//! - The RFC 3339 "high precision" layout of current rsyslog:
//!   `2023-11-12T14:00:03.123456+01:00 host prog[pid]: msg`.
//! - `journalctl -o short-iso`: `2023-11-12T14:00:03+0100 host prog[pid]: msg`
//!   and its `-- Logs begin at ... --` / `-- Boot ... --` lines.
//! - Nagios' own `nagios.log`: `[1699797603] SERVICE ALERT: ...`, since the
//!   alert that detected an incident is often only there.
//!
//! A line starting with a space or a tab continues the previous message, and
//! `last message repeated N times` (or rsyslog's `message repeated N times:
//! [...]`) repeats it: both are returned as such for the reader to fold.
//! The tag is split as rsyslog splits it: up to the first `:`, `[` or space.

use memchr::memchr;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::error::context;

use crate::ingest::record::{LineError, ParseResult, fail, flatten};
use crate::ingest::timestamps::{Stamp, parse_bsd_date, parse_iso};

/// The syslog layouts, as `inspect` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyslogLayout {
    Rfc3164,
    Rfc5424,
    Rfc3339,
    JournalShortIso,
    NagiosLog,
}

impl SyslogLayout {
    pub fn name(self) -> &'static str {
        match self {
            SyslogLayout::Rfc3164 => "syslog-rfc3164",
            SyslogLayout::Rfc5424 => "syslog-rfc5424",
            SyslogLayout::Rfc3339 => "syslog-rfc3339",
            SyslogLayout::JournalShortIso => "journal-short-iso",
            SyslogLayout::NagiosLog => "nagios-log",
        }
    }
}

/// `<PRI>`: facility and severity (0 emerg .. 7 debug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    pub facility: u8,
    pub severity: u8,
}

/// One syslog message header and text, borrowing from its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogRecord<'a> {
    pub layout: SyslogLayout,
    pub stamp: Stamp,
    pub priority: Option<Priority>,
    pub host: Option<&'a [u8]>,
    /// The tag's program part (`sshd` of `sshd[42]:`), RFC 5424's APP-NAME.
    pub program: Option<&'a [u8]>,
    pub pid: Option<&'a [u8]>,
    pub message: &'a [u8],
}

/// What one line of a syslog file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyslogLine<'a> {
    Record(SyslogRecord<'a>),
    /// Starts with whitespace: more text of the previous message.
    Continuation(&'a [u8]),
    /// `last message repeated N times`: the previous message, N more times.
    Repeated(u64),
    /// A line journalctl writes between messages (`-- Boot 1a2b... --`).
    JournalMarker,
}

fn priority(input: &[u8]) -> ParseResult<'_, Option<Priority>> {
    let Some(rest) = input.strip_prefix(b"<") else {
        return Ok((input, None));
    };
    let digits = rest
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=3).contains(&digits) || rest.get(digits) != Some(&b'>') {
        return fail("expected <PRI> with a number from 0 to 191");
    }
    let value: u32 = rest[..digits]
        .iter()
        .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0'));
    if value > 191 {
        return fail("expected <PRI> with a number from 0 to 191");
    }
    Ok((
        &rest[digits + 1..],
        Some(Priority {
            facility: (value / 8) as u8,
            severity: (value % 8) as u8,
        }),
    ))
}

fn skip_spaces(input: &[u8]) -> &[u8] {
    let n = input.iter().take_while(|&&b| b == b' ').count();
    &input[n..]
}

/// A run of bytes up to the next space (may be empty at the end of a line).
fn token(input: &[u8]) -> (&[u8], &[u8]) {
    let end = memchr(b' ', input).unwrap_or(input.len());
    (&input[end..], &input[..end])
}

fn trim_message(message: &[u8]) -> &[u8] {
    let start = message
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let message = &message[start..];
    let end = message
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    &message[..end]
}

/// Parses one line (without its line ending).
pub fn parse_line(line: &[u8]) -> Result<SyslogLine<'_>, LineError> {
    match line.first() {
        None => return Err(LineError::new("empty line")),
        Some(b' ' | b'\t') => return Ok(SyslogLine::Continuation(trim_message(line))),
        Some(b'-') if is_journal_marker(line) => return Ok(SyslogLine::JournalMarker),
        _ => {}
    }
    parse_record(line)
        .map(|(_, parsed)| parsed)
        .map_err(flatten)
}

fn is_journal_marker(line: &[u8]) -> bool {
    const MARKERS: [&[u8]; 5] = [
        b"-- Logs begin at ",
        b"-- Journal begins at ",
        b"-- Boot ",
        b"-- Reboot --",
        b"-- No entries --",
    ];
    MARKERS.iter().any(|marker| line.starts_with(marker))
}

fn parse_record(line: &[u8]) -> ParseResult<'_, SyslogLine<'_>> {
    let (rest, priority) = priority(line)?;
    let rest = skip_spaces(rest);
    match rest.first() {
        Some(b'0'..=b'9') => iso_record(rest, priority),
        Some(b'[') => nagios_record(rest, priority),
        _ => bsd_record(rest, priority),
    }
}

fn record<'a>(
    layout: SyslogLayout,
    stamp: Stamp,
    priority: Option<Priority>,
    host: Option<&'a [u8]>,
    (program, pid, message): (Option<&'a [u8]>, Option<&'a [u8]>, &'a [u8]),
) -> SyslogLine<'a> {
    SyslogLine::Record(SyslogRecord {
        layout,
        stamp,
        priority,
        host,
        program,
        pid,
        message,
    })
}

/// `last message repeated 3 times`, `--- last message repeated 2 times ---`.
fn repeat_count(text: &[u8]) -> Option<u64> {
    let text = text.strip_prefix(b"--- ").unwrap_or(text);
    let rest = text.strip_prefix(b"last message repeated ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let count = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    rest[digits..].starts_with(b" time").then_some(count)
}

/// rsyslog's `message repeated 5 times: [ text]`.
fn reduced_repeat_count(message: &[u8]) -> Option<u64> {
    let rest = message.strip_prefix(b"message repeated ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let count = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    rest[digits..].starts_with(b" times: [").then_some(count)
}

/// The RFC 3164 tag and message: `prog[pid]: msg`, `prog: msg`, `prog msg`.
fn tag_and_message(input: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, &[u8]) {
    let input = skip_spaces(input);
    let end = input
        .iter()
        .position(|&b| b == b':' || b == b'[' || b == b' ')
        .unwrap_or(input.len());
    let program = (end > 0).then_some(&input[..end]);
    let mut rest = &input[end..];
    let mut pid = None;
    if let Some(after) = rest.strip_prefix(b"[")
        && let Some(close) = memchr(b']', after)
    {
        pid = Some(&after[..close]);
        rest = &after[close + 1..];
    }
    if let Some(after) = rest.strip_prefix(b":") {
        rest = after;
    }
    (program, pid, trim_message(rest))
}

fn bsd_record(input: &[u8], priority: Option<Priority>) -> ParseResult<'_, SyslogLine<'_>> {
    let Some(date) = parse_bsd_date(input) else {
        return fail("expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339");
    };
    let stamp = date.stamp(0);
    let after_date = &input[date.len..];
    if !after_date.is_empty() && after_date[0] != b' ' {
        return fail("expected a space after the syslog timestamp");
    }
    let rest = skip_spaces(after_date);
    if let Some(count) = repeat_count(rest) {
        return Ok((b"", SyslogLine::Repeated(count)));
    }
    let (after_host, host) = token(rest);
    // A first word that ends like a tag is a tag: the line has no host.
    if host.ends_with(b":") || host.ends_with(b"]:") || memchr(b'[', host).is_some() {
        let parts = tag_and_message(rest);
        return Ok((
            b"",
            record(SyslogLayout::Rfc3164, stamp, priority, None, parts),
        ));
    }
    let host = (!host.is_empty()).then_some(host);
    let after_host = skip_spaces(after_host);
    if let Some(count) = repeat_count(after_host) {
        return Ok((b"", SyslogLine::Repeated(count)));
    }
    let parts = tag_and_message(after_host);
    if let Some(count) = reduced_repeat_count(parts.2) {
        return Ok((b"", SyslogLine::Repeated(count)));
    }
    Ok((
        b"",
        record(SyslogLayout::Rfc3164, stamp, priority, host, parts),
    ))
}

fn nagios_record(input: &[u8], priority: Option<Priority>) -> ParseResult<'_, SyslogLine<'_>> {
    let (rest, _) = context(
        "expected '[' before the Nagios epoch",
        nom::bytes::complete::tag(&b"["[..]),
    )
    .parse(input)?;
    let (rest, digits) = context(
        "expected the Nagios epoch in seconds",
        take_while1(|b: u8| b.is_ascii_digit()),
    )
    .parse(rest)?;
    let Some(rest) = rest.strip_prefix(b"] ") else {
        return fail("expected '] ' after the Nagios epoch");
    };
    let seconds: i64 = match std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
    {
        Some(seconds) if (0..1_i64 << 40).contains(&seconds) => seconds,
        _ => return fail("expected the Nagios epoch in seconds"),
    };
    Ok((
        b"",
        record(
            SyslogLayout::NagiosLog,
            Stamp::Absolute(seconds * 1000),
            priority,
            None,
            (Some(b"nagios"), None, trim_message(rest)),
        ),
    ))
}

fn iso_record(input: &[u8], priority: Option<Priority>) -> ParseResult<'_, SyslogLine<'_>> {
    // RFC 5424: VERSION SP TIMESTAMP.
    let version_digits = input
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let (input, versioned) = if (1..=2).contains(&version_digits)
        && input.get(version_digits) == Some(&b' ')
        && input
            .get(version_digits + 1)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'-')
    {
        (&input[version_digits + 1..], true)
    } else {
        (input, false)
    };
    let (stamp, compact_offset, rest) = if versioned && input.starts_with(b"- ") {
        return fail("expected an RFC 5424 timestamp (a nil '-' time cannot be placed)");
    } else {
        match parse_iso(input, false) {
            Some(iso) => (iso.stamp, iso.compact_offset, &input[iso.len..]),
            None => return fail("expected an RFC 3339 timestamp like 2023-11-12T14:00:03Z"),
        }
    };
    if !rest.is_empty() && rest[0] != b' ' {
        return fail("expected a space after the timestamp");
    }
    let (after_host, host) = token(skip_spaces(rest));
    let host = (!host.is_empty() && host != b"-").then_some(host);
    if versioned || looks_like_5424(after_host) {
        let (program, pid, message) = rfc5424_fields(after_host);
        return Ok((
            b"",
            record(
                SyslogLayout::Rfc5424,
                stamp,
                priority,
                host,
                (program, pid, message),
            ),
        ));
    }
    let layout = if compact_offset {
        SyslogLayout::JournalShortIso
    } else {
        SyslogLayout::Rfc3339
    };
    let parts = tag_and_message(after_host);
    if let Some(count) = reduced_repeat_count(parts.2) {
        return Ok((b"", SyslogLine::Repeated(count)));
    }
    Ok((b"", record(layout, stamp, priority, host, parts)))
}

/// After the host: `APP PROCID MSGID (-|[SD])`, none of the first three
/// ending like an RFC 3164 tag.
fn looks_like_5424(input: &[u8]) -> bool {
    let mut rest = skip_spaces(input);
    for _ in 0..3 {
        let (after, field) = token(rest);
        if field.is_empty() || field.ends_with(b":") || !after.starts_with(b" ") {
            return false;
        }
        rest = &after[1..];
    }
    rest.starts_with(b"-") || rest.starts_with(b"[")
}

fn nil(field: &[u8]) -> Option<&[u8]> {
    (!field.is_empty() && field != b"-").then_some(field)
}

/// UTF-8 byte-order mark RFC 5424 allows before the message.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn rfc5424_fields(input: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, &[u8]) {
    let (rest, app) = token(skip_spaces(input));
    let (rest, procid) = token(skip_spaces(rest));
    let (rest, _msgid) = token(skip_spaces(rest));
    let rest = skip_spaces(rest);
    let after_sd = skip_structured_data(rest);
    let message = after_sd.strip_prefix(b" ").unwrap_or(after_sd);
    let message = message.strip_prefix(BOM).unwrap_or(message);
    (nil(app), nil(procid), trim_message(message))
}

/// Skips `-` or `[id k="v" ...][...]`, honouring `\"`, `\]` and `\\` inside
/// values; an unterminated element takes the rest of the line.
fn skip_structured_data(input: &[u8]) -> &[u8] {
    if let Some(rest) = input.strip_prefix(b"-") {
        return rest;
    }
    let mut at = 0;
    while input.get(at) == Some(&b'[') {
        let mut in_quotes = false;
        at += 1;
        loop {
            match input.get(at) {
                None => return b"",
                Some(b'\\') => at += 2,
                Some(b'"') => {
                    in_quotes = !in_quotes;
                    at += 1;
                }
                Some(b']') if !in_quotes => {
                    at += 1;
                    break;
                }
                Some(_) => at += 1,
            }
        }
    }
    &input[at.min(input.len())..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::timestamps::YearlessTime;

    fn parts(line: &str) -> (Option<String>, Option<String>, Option<String>, String) {
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        match parse_line(line.as_bytes()) {
            Ok(SyslogLine::Record(r)) => (
                text(r.host),
                text(r.program),
                text(r.pid),
                String::from_utf8_lossy(r.message).into_owned(),
            ),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn layouts_are_told_apart() {
        let cases = [
            (
                "3164",
                "Nov 12 14:00:03 web01 nginx[123]: started",
                SyslogLayout::Rfc3164,
            ),
            (
                "3164 with pri",
                "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
                SyslogLayout::Rfc3164,
            ),
            (
                "5424",
                "<165>1 2023-11-12T14:00:03.003Z host app 42 ID47 [x@1 a=\"b\"] msg",
                SyslogLayout::Rfc5424,
            ),
            (
                "5424 without pri",
                "2022-08-27T17:22:01.694554+03:00 space01 CRON 20856 - -  (root) CMD (x)",
                SyslogLayout::Rfc5424,
            ),
            (
                "rsyslog high precision",
                "2023-11-12T14:00:03.123456+01:00 web01 kernel: eth0 link down",
                SyslogLayout::Rfc3339,
            ),
            (
                "journalctl short-iso",
                "2023-11-12T14:00:03+0100 web01 systemd[1]: Started nginx.service.",
                SyslogLayout::JournalShortIso,
            ),
            (
                "nagios.log",
                "[1699797603] SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;timeout",
                SyslogLayout::NagiosLog,
            ),
        ];
        for (name, line, layout) in cases {
            match parse_line(line.as_bytes()) {
                Ok(SyslogLine::Record(record)) => assert_eq!(record.layout, layout, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn fields_split_as_rsyslog_splits_them() {
        let s = |v: &str| Some(v.to_string());
        let cases = [
            (
                "tag with pid",
                "Nov 12 14:00:03 web01 sshd(pam_unix)[19939]: check pass; user unknown",
                (
                    s("web01"),
                    s("sshd(pam_unix)"),
                    s("19939"),
                    "check pass; user unknown",
                ),
            ),
            (
                "tag without colon",
                "<6>AUG 10 22:18:24 host tag This msg",
                (s("host"), s("tag"), None, "This msg"),
            ),
            (
                "mark",
                "Feb 18 16:01:59 serverX -- MARK --",
                (s("serverX"), s("--"), None, "MARK --"),
            ),
            (
                "no host",
                "Nov 12 14:00:03 kernel: Out of memory",
                (None, s("kernel"), None, "Out of memory"),
            ),
            (
                "5424 nil fields",
                "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% do-nuts.",
                (s("192.0.2.1"), s("myproc"), s("8710"), "%% do-nuts."),
            ),
            (
                "5424 escaped sd",
                r#"<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [a@1 x="q\"]"] BOMAn event"#,
                (s("h"), s("evntslog"), None, "BOMAn event"),
            ),
            (
                "journal",
                "2023-11-12T14:00:03+0100 web01 systemd[1]: Started nginx.service.",
                (s("web01"), s("systemd"), s("1"), "Started nginx.service."),
            ),
            (
                "empty message",
                "<14>Jan  6 2009 15:22:26 localhost ",
                (s("localhost"), None, None, ""),
            ),
        ];
        for (name, line, (host, program, pid, message)) in cases {
            assert_eq!(
                parts(line),
                (host, program, pid, message.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn times_and_priorities_are_read() {
        let Ok(SyslogLine::Record(record)) =
            parse_line(b"<165>1 2023-11-12T14:00:03.003Z h a - - - m")
        else {
            panic!("parses");
        };
        assert_eq!(record.stamp, Stamp::Absolute(1_699_797_603_003));
        assert_eq!(
            record.priority,
            Some(Priority {
                facility: 20,
                severity: 5
            })
        );
        let Ok(SyslogLine::Record(record)) = parse_line(b"Dec 31 23:59:59 h p: m") else {
            panic!("parses");
        };
        assert_eq!(
            record.stamp,
            Stamp::NoYear(YearlessTime {
                year_delta: 0,
                month: 12,
                day: 31,
                ms_of_day: 86_399_000
            })
        );
        assert_eq!(record.priority, None);
    }

    #[test]
    fn continuations_repeats_and_markers() {
        let cases: [(&str, &[u8], Result<SyslogLine<'_>, &str>); 7] = [
            (
                "tab continuation",
                b"\tASL Module claims",
                Ok(SyslogLine::Continuation(b"ASL Module claims")),
            ),
            (
                "old repeat",
                b"Mar 24 14:26:01 --- last message repeated 2 times ---",
                Ok(SyslogLine::Repeated(2)),
            ),
            (
                "repeat after host",
                b"Nov 12 14:00:03 web01 last message repeated 7 times",
                Ok(SyslogLine::Repeated(7)),
            ),
            (
                "rsyslog reduction",
                b"Nov 12 14:00:03 web01 kernel: message repeated 3 times: [ eth0: link down]",
                Ok(SyslogLine::Repeated(3)),
            ),
            (
                "journal boot",
                b"-- Boot 0123456789abcdef --",
                Ok(SyslogLine::JournalMarker),
            ),
            (
                "header",
                b"Header1: abc",
                Err("expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339"),
            ),
            (
                "bad pri",
                b"<999>Nov 12 14:00:03 h p: m",
                Err("expected <PRI> with a number from 0 to 191"),
            ),
        ];
        for (name, line, expected) in cases {
            assert_eq!(parse_line(line).map_err(|e| e.reason), expected, "{name}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_line(&line);
            let _ = crate::ingest::events::errorlog::parse_line(&line);
            let _ = crate::ingest::timestamps::parse_cell_time(&String::from_utf8_lossy(&line));
        }

        #[test]
        fn mangled_syslog_lines_never_panic(cut in 0usize..120, byte in proptest::prelude::any::<u8>(), at in 0usize..120) {
            let mut line = b"<165>1 2023-11-12T14:00:03.003+01:00 host app 42 ID47 [x@1 a=\"b\\\"]\"] msg".to_vec();
            let at = at.min(line.len().saturating_sub(1));
            line[at] = byte;
            line.truncate(cut);
            let _ = parse_line(&line);
            let mut bsd = b"<34>Nov 12 14:00:03.250: web01 sshd[42]: Accepted".to_vec();
            let at = at.min(bsd.len() - 1);
            bsd[at] = byte;
            bsd.truncate(cut);
            let _ = parse_line(&bsd);
        }
    }

    #[test]
    fn no_byte_sequence_panics() {
        let inputs: [&[u8]; 8] = [
            b"<",
            b"<1",
            b"<12>",
            b"<12>1 ",
            b"2023-11-12T14:00:03Z",
            b"[",
            b"[12",
            b"Nov 12 14:00:03",
        ];
        for input in inputs {
            let _ = parse_line(input);
        }
        for length in 0..40 {
            let line = "<165>1 2023-11-12T14:00:03.003Z host app 42 ID47 [x@1 a=\"b\\\"]\"] msg";
            let _ = parse_line(&line.as_bytes()[..length.min(line.len())]);
        }
    }
}
