//! Envoy's and Istio's default text access logs.
//!
//! Envoy's default format string ([`ENVOY_DEFINITION`]) is
//!
//! ```text
//! [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
//! %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
//! %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
//! "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
//! ```
//!
//! Istio's proxies add fields between the flags and the byte counts
//! (`%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
//! "%UPSTREAM_TRANSPORT_FAILURE_REASON%"`, or the older quoted mixer status)
//! and a tail (`%UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS%
//! %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
//! %REQUESTED_SERVER_NAME% %ROUTE_NAME%`). One parser reads both: after
//! the flags it looks for the run of three integers and one integer-or-`-`
//! (bytes received, bytes sent, duration, upstream service time) followed by
//! the five quoted header fields.
//!
//! `START_TIME` is when the request started (the arrival, UTC);
//! `DURATION` is in milliseconds. The client is the downstream remote
//! address when the line has it (Istio), else the first `X-Forwarded-For`
//! hop. The upstream is `UPSTREAM_HOST`, or the cluster when no host was
//! chosen (`UH`, `NR`). Response code `0` means the client went away before
//! a response began. Lines of TCP proxies (`"- - -"`) are connections, not
//! requests, and are skipped.

use crate::ingest::record::{AccessRecord, LineError, closing_quote, optional, strip_port};
use crate::ingest::timestamps::parse_iso8601;
use crate::series::termination::{Termination, TerminationCause};

/// Envoy's response flags and the termination cause each stands for (see
/// [`crate::series::termination`]); flags not listed (`DI` fault delay,
/// `LH`, ...) say nothing about why a request failed.
pub(crate) const RESPONSE_FLAG_CAUSES: [(&[u8], TerminationCause); 22] = [
    (b"UH", TerminationCause::NoServer),
    (b"UF", TerminationCause::ConnectFailed),
    (b"URX", TerminationCause::ConnectFailed),
    (b"DF", TerminationCause::ConnectFailed),
    (b"UT", TerminationCause::ServerTimeout),
    (b"UMSDR", TerminationCause::ServerTimeout),
    (b"UC", TerminationCause::ServerAborted),
    (b"UR", TerminationCause::ServerAborted),
    (b"UPE", TerminationCause::ServerAborted),
    (b"DC", TerminationCause::ClientAborted),
    (b"DT", TerminationCause::ClientTimeout),
    (b"NR", TerminationCause::ProxyDenied),
    (b"NC", TerminationCause::ProxyDenied),
    (b"RL", TerminationCause::ProxyDenied),
    (b"RLSE", TerminationCause::ProxyDenied),
    (b"UAEX", TerminationCause::ProxyDenied),
    (b"IH", TerminationCause::ProxyDenied),
    (b"UO", TerminationCause::Overflow),
    (b"OM", TerminationCause::Overflow),
    (b"SI", TerminationCause::ProxyKilled),
    (b"DPE", TerminationCause::ProxyKilled),
    (b"FI", TerminationCause::ProxyKilled),
];

/// The termination of a request from Envoy's `%RESPONSE_FLAGS%` (`UF,URX`,
/// or `-`): the first flag that names a cause, in the order Envoy writes
/// them (the upstream's failure before the retry limit it led to).
pub fn termination(flags: &[u8]) -> Option<Termination> {
    flags.split(|&b| b == b',').find_map(|flag| {
        RESPONSE_FLAG_CAUSES
            .iter()
            .find(|(code, _)| *code == flag)
            .map(|(code, cause)| Termination::new(*cause, code))
    })
}

/// Envoy's default access log format string.
pub const ENVOY_DEFINITION: &str = r#"[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" (Envoy's default; Istio's adds %RESPONSE_CODE_DETAILS% ... and %UPSTREAM_CLUSTER% ... %DOWNSTREAM_REMOTE_ADDRESS% ...)"#;

/// The most fields a line is split into after the request: Istio's default
/// has 19, custom additions a few more; the rest of a longer line is left
/// over (and makes the line inexact).
const MAX_TOKENS: usize = 32;

/// Quoted header fields after the numbers: X-Forwarded-For, User-Agent,
/// X-Request-Id, :authority, upstream host.
const QUOTED_AFTER_NUMBERS: usize = 5;

/// Fields of Istio's tail: cluster, upstream local, downstream local,
/// downstream remote, requested server name, route.
const ISTIO_TAIL: usize = 6;

/// One field of the line: its text (without quotes) and whether it was
/// quoted.
#[derive(Clone, Copy, Debug, Default)]
struct Token<'a> {
    text: &'a [u8],
    quoted: bool,
    /// Where the field starts in the tokenized input (its quote, if any).
    start: usize,
}

impl Token<'_> {
    fn is_integer(&self) -> bool {
        !self.quoted && !self.text.is_empty() && self.text.iter().all(u8::is_ascii_digit)
    }
}

/// Splits `input` into space-separated fields (quoted ones may hold
/// spaces); returns how many and the index into `input` after the last.
fn tokenize<'a>(
    input: &'a [u8],
    tokens: &mut [Token<'a>; MAX_TOKENS],
) -> Result<(usize, usize), LineError> {
    let mut at = 0;
    let mut count = 0;
    loop {
        while input.get(at) == Some(&b' ') {
            at += 1;
        }
        if at >= input.len() || count == MAX_TOKENS {
            return Ok((count, at));
        }
        if input[at] == b'"' {
            let close = closing_quote(&input[at + 1..])
                .ok_or(LineError::new("expected a closing quote in the Envoy line"))?;
            tokens[count] = Token {
                text: &input[at + 1..at + 1 + close],
                quoted: true,
                start: at,
            };
            at += close + 2;
        } else {
            let end = input[at..]
                .iter()
                .position(|&b| b == b' ')
                .map_or(input.len(), |p| at + p);
            tokens[count] = Token {
                text: &input[at..end],
                quoted: false,
                start: at,
            };
            at = end;
        }
        count += 1;
    }
}

/// An integer field, saturating.
fn integer_value(text: &[u8]) -> u64 {
    text.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// A response code: `0` (no response began) or a three-digit status.
fn response_code(token: &Token<'_>) -> Result<u16, LineError> {
    match token.text {
        b"0" | b"000" => Ok(0),
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] if !token.quoted => {
            Ok(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => Err(LineError::new(
            "expected the Envoy response code (three digits, or 0) after the request",
        )),
    }
}

/// The first hop of an `X-Forwarded-For` list: the client as the first
/// proxy saw it.
pub fn first_forwarded_hop(list: &[u8]) -> Option<&[u8]> {
    let first = list.split(|&b| b == b',').next()?;
    let start = first.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let first = &first[start..];
    let end = first
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    optional(&first[..end])
}

/// Reads one line of Envoy's or Istio's default access log. Returns the
/// record and what follows the last field read.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let after_bracket = line.strip_prefix(b"[").ok_or(LineError::new(
        "expected '[' and the Envoy START_TIME at the start",
    ))?;
    let close = after_bracket
        .iter()
        .position(|&b| b == b']')
        .ok_or(LineError::new("expected ']' after the Envoy START_TIME"))?;
    let (logged_at, offset_seconds) = parse_iso8601(&after_bracket[..close]).ok_or(
        LineError::new("expected an ISO 8601 START_TIME such as 2024-01-15T10:00:00.123Z"),
    )?;
    let rest = after_bracket[close + 1..]
        .strip_prefix(b" \"")
        .ok_or(LineError::new(
            "expected a space and the quoted request after START_TIME",
        ))?;
    let request_end =
        closing_quote(rest).ok_or(LineError::new("expected the request's closing quote"))?;
    let request = &rest[..request_end];
    let after_request = &rest[request_end + 1..];
    let mut tokens = [Token::default(); MAX_TOKENS];
    let (count, used) = tokenize(after_request, &mut tokens)?;
    let tokens = &tokens[..count];
    if tokens.len() < 2 + 4 + QUOTED_AFTER_NUMBERS {
        return Err(LineError::new(
            "line ended early: expected response code, flags, byte counts, duration and five quoted fields after the request",
        ));
    }
    let status = response_code(&tokens[0])?;
    if request == b"- - -" {
        return Err(LineError::new(
            "an Envoy TCP proxy connection (\"- - -\"), not an HTTP request",
        ));
    }
    let numbers = (2..=tokens.len() - 4 - QUOTED_AFTER_NUMBERS)
        .find(|&i| {
            tokens[i].is_integer()
                && tokens[i + 1].is_integer()
                && tokens[i + 2].is_integer()
                && (tokens[i + 3].is_integer() || (!tokens[i + 3].quoted && tokens[i + 3].text == b"-"))
                && tokens[i + 4..i + 4 + QUOTED_AFTER_NUMBERS].iter().all(|t| t.quoted)
        })
        .ok_or(LineError::new(
            "expected BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM-SERVICE-TIME and five quoted fields (X-Forwarded-For, User-Agent, X-Request-Id, authority, upstream host) after the response flags",
        ))?;
    let mut record = AccessRecord::new(logged_at, offset_seconds, status);
    record.request = request;
    record.termination = optional(tokens[1].text).and_then(termination);
    record.bytes = Some(integer_value(tokens[numbers + 1].text));
    record.duration_us = Some(integer_value(tokens[numbers + 2].text).saturating_mul(1000));
    let quoted = &tokens[numbers + 4..numbers + 4 + QUOTED_AFTER_NUMBERS];
    record.forwarded_for = optional(quoted[0].text);
    record.user_agent = optional(quoted[1].text);
    record.host = optional(quoted[3].text);
    record.upstream_addr = optional(quoted[4].text);
    let tail = &tokens[numbers + 4 + QUOTED_AFTER_NUMBERS..];
    let mut last = numbers + 4 + QUOTED_AFTER_NUMBERS;
    if tail.len() >= ISTIO_TAIL && tail[..ISTIO_TAIL].iter().all(|t| !t.quoted) {
        if record.upstream_addr.is_none() {
            record.upstream_addr = optional(tail[0].text);
        }
        if let Some(remote) = optional(tail[3].text) {
            record.client = strip_port(remote);
        }
        last += ISTIO_TAIL;
    }
    if record.client == b"-"
        && let Some(hop) = record.forwarded_for.and_then(first_forwarded_hop)
    {
        record.client = hop;
    }
    // Fields after the last one read are left over (the line is then not
    // read exactly, as a CLF line with extra fields).
    let left_over = match tokens.get(last) {
        Some(next) => &after_request[next.start..],
        None => &after_request[used..],
    };
    Ok((record, left_over))
}

#[cfg(test)]
mod tests;
