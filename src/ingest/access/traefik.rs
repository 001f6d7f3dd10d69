//! Traefik's common log format (`accessLog.format: common`, the default):
//! the `combined` fields, then three of Traefik's own and the request time:
//!
//! ```text
//! <client> - <user> [<start>] "<request>" <status> <size> "<referer>" "<user agent>"
//!     <requests since start> "<router>" "<service URL>" <duration>ms
//! ```
//!
//! The time in brackets is when the request started (Traefik's
//! `StartUTC`/`StartLocal`), so it is the arrival; the duration is in
//! milliseconds. The request count is a counter since Traefik started and
//! the router a name: neither is a request time (read as `combined`, the
//! count passed for Apache's `%D`). The service URL is the upstream.

use super::clf::{ClfLayout, parse_clf};
use crate::ingest::record::{AccessRecord, LineError, closing_quote, optional};

/// What the `traefik` preset reads.
pub const DEFINITION: &str = r#"<client> - <user> [<start time>] "<request>" <status> <size> "<referer>" "<user agent>" <request count> "<router>" "<service URL>" <duration>ms (Traefik's common log format)"#;

const EXPECTED_TAIL: LineError = LineError::new(
    "expected Traefik's request count, \"router\", \"service URL\" and duration in ms (like 3ms) after the user agent",
);

/// A quoted field at the start of `input` and what follows it.
fn quoted(input: &[u8]) -> Result<(&[u8], &[u8]), LineError> {
    let inner = input.strip_prefix(b"\"").ok_or(EXPECTED_TAIL)?;
    let end = closing_quote(inner).ok_or(EXPECTED_TAIL)?;
    Ok((&inner[..end], &inner[end + 1..]))
}

/// Digits at the start of `input`, at least one, and what follows them.
fn digits(input: &[u8]) -> Result<(u64, &[u8]), LineError> {
    let count = input.iter().take_while(|b| b.is_ascii_digit()).count();
    if count == 0 {
        return Err(EXPECTED_TAIL);
    }
    let value = input[..count].iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Ok((value, &input[count..]))
}

/// Reads one line of Traefik's common log format; returns the record and
/// what follows the duration.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let (mut record, rest) = parse_clf(line, &ClfLayout::COMBINED)?;
    let rest = rest.strip_prefix(b" ").ok_or(EXPECTED_TAIL)?;
    let (_request_count, rest) = digits(rest)?;
    let rest = rest.strip_prefix(b" ").ok_or(EXPECTED_TAIL)?;
    let (router, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(b" ").ok_or(EXPECTED_TAIL)?;
    let (service, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(b" ").ok_or(EXPECTED_TAIL)?;
    let (millis, rest) = digits(rest)?;
    let rest = rest.strip_prefix(b"ms").ok_or(EXPECTED_TAIL)?;
    record.duration_us = Some(millis.saturating_mul(1000));
    record.logged_at_completion = false;
    record.upstream_addr = optional(service).or(optional(router));
    Ok((record, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example line of Traefik's access-log documentation (CLF).
    const TRAEFIK_DOC_EXAMPLE: &str = r#"192.168.1.1 - - [10/Oct/2020:13:55:36 +0000] "GET /whoami HTTP/1.1" 200 24 "-" "curl/7.64.1" 1 "whoami@docker" "http://172.18.0.2:80" 3ms"#;

    #[test]
    fn documented_example_reads_every_field() {
        let (record, rest) = parse(TRAEFIK_DOC_EXAMPLE.as_bytes()).expect("parses");
        assert_eq!(record.client, b"192.168.1.1");
        assert_eq!(record.remote_user, b"-");
        assert_eq!(record.logged_at, 1_602_338_136_000);
        assert_eq!(record.offset_seconds, 0);
        assert!(
            !record.logged_at_completion,
            "the bracketed time is the start"
        );
        assert_eq!(record.arrival(), 1_602_338_136_000);
        assert_eq!(record.request, b"GET /whoami HTTP/1.1");
        assert_eq!(record.status, 200);
        assert_eq!(record.bytes, Some(24));
        assert_eq!(record.referer, None);
        assert_eq!(record.user_agent, Some(&b"curl/7.64.1"[..]));
        assert_eq!(
            record.duration_us,
            Some(3_000),
            "the duration, not the request count"
        );
        assert_eq!(record.upstream_addr, Some(&b"http://172.18.0.2:80"[..]));
        assert!(rest.is_empty());
    }

    #[test]
    fn tails_that_are_not_traefik_are_refused() {
        let head =
            r#"192.168.1.1 - - [10/Oct/2020:13:55:36 +0000] "GET / HTTP/1.1" 502 0 "-" "curl/7""#;
        let cases = [
            ("plain combined", head.to_string()),
            ("Apache %D after combined", format!("{head} 3000")),
            (
                "duration without unit",
                format!(r#"{head} 7 "r@file" "http://a:80" 3"#),
            ),
            (
                "router unquoted",
                format!(r#"{head} 7 r@file "http://a:80" 3ms"#),
            ),
        ];
        for (name, line) in cases {
            let error = parse(line.as_bytes()).expect_err(name);
            assert_eq!(error, EXPECTED_TAIL, "{name}");
        }
        let no_service = format!(r#"{head} 7 "r@file" "-" 0ms"#);
        let (record, _) = parse(no_service.as_bytes()).expect("no service");
        assert_eq!(
            record.upstream_addr,
            Some(&b"r@file"[..]),
            "the router when no service was chosen"
        );
        assert_eq!(record.status, 502);
    }
}
