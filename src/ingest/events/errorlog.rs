//! Web-server error logs, parsed by borrowing nom parsers with hand-written
//! timestamp fast paths:
//!
//! - nginx `error.log`: `2023/11/12 14:00:03 [error] 1234#1234: *5678 upstream
//!   timed out (110: Connection timed out) while reading response header from
//!   upstream, client: ..., server: ..., request: "GET / HTTP/1.1", upstream: "..."`
//! - Apache 2.4 `error_log`: `[Sun Nov 12 14:00:03.123456 2023] [core:error]
//!   [pid 1234] [client 1.2.3.4:5678] AH00124: ...`
//! - Apache 2.2: `[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6`
//!
//! Both write wall-clock times without a zone; the reader places them with
//! `--tz`, else the access logs' offset. Levels map onto syslog severities
//! (0 emerg .. 7 debug) so one classification table serves both.

use memchr::memchr;

use crate::ingest::record::LineError;
use crate::ingest::timestamps::{Stamp, parse_apache_time, parse_nginx_time};

/// The error-log dialects, as `inspect` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorLogLayout {
    Nginx,
    Apache,
}

impl ErrorLogLayout {
    pub fn name(self) -> &'static str {
        match self {
            ErrorLogLayout::Nginx => "nginx-error",
            ErrorLogLayout::Apache => "apache-error",
        }
    }

    /// The program name events from this log carry.
    pub fn program(self) -> &'static [u8] {
        match self {
            ErrorLogLayout::Nginx => b"nginx",
            ErrorLogLayout::Apache => b"apache",
        }
    }
}

/// One error-log line, borrowing from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecord<'a> {
    pub layout: ErrorLogLayout,
    pub stamp: Stamp,
    /// The level as written (`error`, `crit`, `warn`...).
    pub level: &'a [u8],
    /// The level as a syslog severity, when it is a known level.
    pub severity: Option<u8>,
    /// Apache's module (`core` of `[core:error]`).
    pub module: Option<&'a [u8]>,
    pub pid: Option<&'a [u8]>,
    pub client: Option<&'a [u8]>,
    pub message: &'a [u8],
}

/// What one line of an error log is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorLine<'a> {
    Record(ErrorRecord<'a>),
    /// Starts with whitespace: more text of the previous message (stack
    /// traces that modules print).
    Continuation(&'a [u8]),
}

/// A level name to a syslog severity (RFC 5424 table 2); Apache's `trace1`
/// to `trace8` are debug.
pub fn severity_of_level(level: &[u8]) -> Option<u8> {
    let severity = match level {
        b"emerg" | b"emergency" | b"panic" => 0,
        b"alert" => 1,
        b"crit" | b"critical" => 2,
        b"error" | b"err" => 3,
        b"warn" | b"warning" => 4,
        b"notice" => 5,
        b"info" => 6,
        b"debug" => 7,
        _ if level.starts_with(b"trace") => 7,
        _ => return None,
    };
    Some(severity)
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let text = &text[start..];
    let end = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    &text[..end]
}

/// Parses one line (without its line ending).
pub fn parse_line(line: &[u8]) -> Result<ErrorLine<'_>, LineError> {
    match line.first() {
        None => Err(LineError::new("empty line")),
        Some(b' ' | b'\t') => Ok(ErrorLine::Continuation(trim(line))),
        Some(b'[') => parse_apache(line).map(ErrorLine::Record),
        Some(b'0'..=b'9') => parse_nginx(line).map(ErrorLine::Record),
        Some(_) => Err(LineError::new(
            "expected an error-log timestamp like '2023/11/12 14:00:03' (nginx) or '[Sun Nov 12 14:00:03 2023]' (Apache)",
        )),
    }
}

fn parse_nginx(line: &[u8]) -> Result<ErrorRecord<'_>, LineError> {
    let local = parse_nginx_time(line).ok_or(LineError::new(
        "expected an nginx error-log timestamp like 2023/11/12 14:00:03",
    ))?;
    let rest = line[19..]
        .strip_prefix(b" [")
        .ok_or(LineError::new("expected ' [level]' after the timestamp"))?;
    let close = memchr(b']', rest).ok_or(LineError::new("expected ']' after the level"))?;
    let level = &rest[..close];
    let severity = severity_of_level(level);
    if severity.is_none() {
        return Err(LineError::new(
            "expected an nginx level (debug, info, notice, warn, error, crit, alert, emerg)",
        ));
    }
    let mut rest = trim(&rest[close + 1..]);
    // `1234#1234: ` process and thread ids, then an optional `*5678 ` connection.
    let mut pid = None;
    if let Some(hash) = memchr(b'#', rest)
        && hash > 0
        && rest[..hash].iter().all(u8::is_ascii_digit)
        && let Some(colon) = memchr(b':', rest)
    {
        pid = Some(&rest[..hash]);
        rest = trim(&rest[colon + 1..]);
    }
    if rest.first() == Some(&b'*') {
        let digits = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        rest = trim(&rest[1 + digits..]);
    }
    let client = find_field(rest, b", client: ");
    Ok(ErrorRecord {
        layout: ErrorLogLayout::Nginx,
        stamp: Stamp::Local(local),
        level,
        severity,
        module: None,
        pid,
        client,
        message: rest,
    })
}

/// The value of `, name: value,` in an nginx message.
fn find_field<'a>(message: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let at = memchr::memmem::find(message, name)? + name.len();
    let value = &message[at..];
    let end = memchr(b',', value).unwrap_or(value.len());
    Some(&value[..end])
}

/// `[...]` at the start: its content and what follows, spaces skipped.
fn bracketed(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = input.strip_prefix(b"[")?;
    let close = memchr(b']', body)?;
    Some((&body[..close], trim(&body[close + 1..])))
}

fn parse_apache(line: &[u8]) -> Result<ErrorRecord<'_>, LineError> {
    let (time, rest) = bracketed(line).ok_or(LineError::new("expected ']' after the timestamp"))?;
    let local = parse_apache_time(time).ok_or(LineError::new(
        "expected an Apache error-log timestamp like [Sun Nov 12 14:00:03.123456 2023]",
    ))?;
    let (level_field, mut rest) = bracketed(rest).ok_or(LineError::new(
        "expected '[level]' or '[module:level]' after the timestamp",
    ))?;
    let (module, level) = match memchr(b':', level_field) {
        Some(colon) => (Some(&level_field[..colon]), &level_field[colon + 1..]),
        None => (None, level_field),
    };
    let severity = severity_of_level(level);
    if severity.is_none() {
        return Err(LineError::new(
            "expected an Apache level (emerg, alert, crit, error, warn, notice, info, debug, trace1-8)",
        ));
    }
    let mut pid = None;
    let mut client = None;
    while let Some((field, after)) = bracketed(rest) {
        if let Some(value) = field.strip_prefix(b"pid ") {
            let end = memchr(b':', value).unwrap_or(value.len());
            pid = Some(&value[..end]);
        } else if let Some(value) = field
            .strip_prefix(b"client ")
            .or_else(|| field.strip_prefix(b"remote "))
        {
            client = Some(value);
        } else {
            break;
        }
        rest = after;
    }
    Ok(ErrorRecord {
        layout: ErrorLogLayout::Apache,
        stamp: Stamp::Local(local),
        level,
        severity,
        module,
        pid,
        client,
        message: trim(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::timestamps::utc_ms;

    fn record(line: &str) -> ErrorRecord<'_> {
        match parse_line(line.as_bytes()) {
            Ok(ErrorLine::Record(record)) => record,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn nginx_lines_give_level_pid_client_and_message() {
        let line = r#"2023/11/12 14:00:03 [error] 1234#1234: *5678 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9, server: shop, request: "GET / HTTP/1.1", upstream: "http://10.0.0.2:8080/""#;
        let r = record(line);
        assert_eq!(r.layout, ErrorLogLayout::Nginx);
        assert_eq!(r.stamp, Stamp::Local(utc_ms(2023, 11, 12, 14, 0, 3)));
        assert_eq!((r.level, r.severity), (&b"error"[..], Some(3)));
        assert_eq!(r.pid, Some(&b"1234"[..]));
        assert_eq!(r.client, Some(&b"10.0.0.9"[..]));
        assert!(r.message.starts_with(b"upstream timed out (110"));
        let notice = record(
            "2023/11/12 13:59:00 [notice] 1#1: signal 1 (SIGHUP) received from 42, reconfiguring",
        );
        assert_eq!(notice.severity, Some(5));
        assert_eq!(
            notice.message,
            b"signal 1 (SIGHUP) received from 42, reconfiguring"
        );
    }

    #[test]
    fn apache_lines_of_both_versions_parse() {
        let modern = record(
            "[Sun Nov 12 14:00:03.123456 2023] [proxy:error] [pid 1234:tid 99] (111)Connection refused: [client 1.2.3.4:5678] AH00957: backend down",
        );
        assert_eq!(
            modern.stamp,
            Stamp::Local(utc_ms(2023, 11, 12, 14, 0, 3) + 123)
        );
        assert_eq!(modern.module, Some(&b"proxy"[..]));
        assert_eq!(modern.pid, Some(&b"1234"[..]));
        assert!(modern.message.starts_with(b"(111)Connection refused"));
        let client_first = record(
            "[Sun Nov 12 14:00:03.123456 2023] [core:crit] [pid 7] [client 1.2.3.4:5678] AH00124: too many redirects",
        );
        assert_eq!(client_first.client, Some(&b"1.2.3.4:5678"[..]));
        assert_eq!(client_first.severity, Some(2));
        assert_eq!(client_first.message, b"AH00124: too many redirects");
        let old =
            record("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6");
        assert_eq!((old.module, old.level), (None, &b"error"[..]));
        assert_eq!(old.message, b"mod_jk child workerEnv in error state 6");
    }

    #[test]
    fn other_lines_are_refused_with_a_reason() {
        let cases: [(&str, &[u8], &str); 4] = [
            (
                "syslog",
                b"Nov 12 14:00:03 web01 kernel: x",
                "expected an error-log timestamp like '2023/11/12 14:00:03' (nginx) or '[Sun Nov 12 14:00:03 2023]' (Apache)",
            ),
            (
                "unknown level",
                b"2023/11/12 14:00:03 [loud] 1#1: x",
                "expected an nginx level (debug, info, notice, warn, error, crit, alert, emerg)",
            ),
            (
                "access log",
                b"[12/Nov/2023:14:00:03 +0000] x",
                "expected an Apache error-log timestamp like [Sun Nov 12 14:00:03.123456 2023]",
            ),
            (
                "truncated",
                b"2023/11/12 14:00:0",
                "expected an nginx error-log timestamp like 2023/11/12 14:00:03",
            ),
        ];
        for (name, line, reason) in cases {
            assert_eq!(
                parse_line(line).map(|_| ()).map_err(|e| e.reason),
                Err(reason),
                "{name}"
            );
        }
    }
}
