//! Caddy's console log encoder (`log { format console }`, the default when
//! Caddy writes to a terminal): tab-separated time, level, logger and
//! message, then the access record as a JSON object without its `ts`:
//!
//! ```text
//! 2024/01/15 10:00:00.123<TAB>INFO<TAB>http.log.access.log0<TAB>handled request<TAB>{"request": {...}, "duration": 0.0012, "status": 200}
//! ```
//!
//! The time is zap's `wall_milli` layout in the server's local time with
//! no zone (taken as UTC; `inspect` shows the range read), or ISO 8601 /
//! epoch seconds when `time_format` says so. Like Caddy's JSON `ts`, it is
//! written at completion, so the arrival is it minus `duration` (seconds).
//! The object is read by the JSON-lines field table.

use super::jsonlines;
use crate::ingest::record::{AccessRecord, LineError};
use crate::ingest::timestamps::{parse_epoch_seconds, parse_iso8601};
use crate::timefmt::Millis;

/// What the `caddy-console` preset reads.
pub const DEFINITION: &str =
    "<time>\\t<LEVEL>\\t<logger>\\t<message>\\t{JSON access record} (Caddy's console encoder)";

/// The longest time column read (`2024-01-15T10:00:00.123456789+01:00`).
const MAX_TIME_LEN: usize = 40;

/// The time column: `2024/01/15 10:00:00.123` (wall_milli and its kin),
/// ISO 8601, or epoch seconds.
fn console_time(text: &[u8]) -> Option<(Millis, i32)> {
    if text.len() > MAX_TIME_LEN {
        return None;
    }
    if text.len() >= 19 && text[4] == b'/' && text[7] == b'/' {
        let mut iso = [0u8; MAX_TIME_LEN];
        iso[..text.len()].copy_from_slice(text);
        iso[4] = b'-';
        iso[7] = b'-';
        return parse_iso8601(&iso[..text.len()]);
    }
    parse_iso8601(text).or_else(|| parse_epoch_seconds(text).map(|millis| (millis, 0)))
}

/// Reads one console-encoded access line; returns the record and what
/// follows the JSON object.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let tab = memchr::memchr(b'\t', line).ok_or(LineError::new(
        "expected Caddy's console layout: time, level, logger, message and a JSON object separated by tabs",
    ))?;
    let time = console_time(&line[..tab]).ok_or(LineError::new(
        "expected a time like 2024/01/15 10:00:00.123 in the first column",
    ))?;
    let object = memchr::memchr(b'{', &line[tab..]).ok_or(LineError::new(
        "expected the access record's JSON object after the message",
    ))?;
    let json = &line[tab + object..];
    if json.first() != Some(&b'{') || line[tab..tab + object].last() != Some(&b'\t') {
        return Err(LineError::new(
            "expected the access record's JSON object in the last tab-separated column",
        ));
    }
    let (record, rest, _) = jsonlines::parse_object(json, Some(time))?;
    Ok((record, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as Caddy 2.7 writes it with `format console`.
    const CONSOLE_LINE: &str = "2024/01/15 10:00:00.123\tINFO\thttp.log.access.log0\thandled request\t{\"request\": {\"remote_ip\": \"172.19.0.1\", \"remote_port\": \"50412\", \"client_ip\": \"172.19.0.1\", \"proto\": \"HTTP/1.1\", \"method\": \"GET\", \"host\": \"localhost\", \"uri\": \"/\", \"headers\": {\"User-Agent\": [\"curl/8.4.0\"]}}, \"bytes_read\": 0, \"user_id\": \"\", \"duration\": 0.25, \"size\": 12, \"status\": 502, \"resp_headers\": {\"Server\": [\"Caddy\"]}}";

    #[test]
    fn console_line_reads_every_field() {
        let (record, rest) = parse(CONSOLE_LINE.as_bytes()).expect("parses");
        let logged = parse_iso8601(b"2024-01-15T10:00:00.123Z").expect("time").0;
        assert_eq!(record.logged_at, logged);
        assert!(record.logged_at_completion);
        assert_eq!(record.arrival(), logged - 250);
        assert_eq!(record.client, b"172.19.0.1");
        assert_eq!(record.request, b"/");
        assert_eq!(record.host, Some(&b"localhost"[..]));
        assert_eq!(record.user_agent, Some(&b"curl/8.4.0"[..]));
        assert_eq!(record.status, 502);
        assert_eq!(record.bytes, Some(12));
        assert_eq!(record.duration_us, Some(250_000));
        assert!(rest.is_empty());
    }

    #[test]
    fn times_and_damage() {
        let cases: [(&str, &[u8], Option<Millis>); 4] = [
            (
                "wall_milli",
                b"2024/01/15 10:00:00.123",
                Some(1_705_312_800_123),
            ),
            (
                "wall seconds",
                b"2024/01/15 10:00:00",
                Some(1_705_312_800_000),
            ),
            (
                "iso8601",
                b"2024-01-15T10:00:00.123Z",
                Some(1_705_312_800_123),
            ),
            ("words", b"yesterday", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(console_time(text).map(|t| t.0), expected, "{name}");
        }
        let refused = [
            ("no tabs", "2024/01/15 10:00:00.123 INFO handled request {}"),
            (
                "no object",
                "2024/01/15 10:00:00.123\tINFO\thttp.log\tstarted",
            ),
            (
                "object not a column",
                "2024/01/15 10:00:00.123\tINFO\tx {\"status\":200}",
            ),
        ];
        for (name, line) in refused {
            assert!(parse(line.as_bytes()).is_err(), "{name}");
        }
    }
}
