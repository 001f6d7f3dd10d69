//! AWS Elastic Load Balancing access logs: the Application Load Balancer
//! (ALB) and the Classic Load Balancer (ELB), in the field orders of AWS's
//! documentation ("Access log entries" of each), older shorter ALB lines
//! included (ALB has added fields at the end over the years).
//!
//! ```text
//! ALB:     type time elb client:port target:port request_processing_time
//!          target_processing_time response_processing_time elb_status_code
//!          target_status_code received_bytes sent_bytes "request" "user_agent"
//!          ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//!          "chosen_cert_arn" matched_rule_priority request_creation_time
//!          "actions_executed" "redirect_url" "error_reason" ...
//! Classic: time elb client:port backend:port request_processing_time
//!          backend_processing_time response_processing_time elb_status_code
//!          backend_status_code received_bytes sent_bytes "request"
//!          "user_agent" ssl_cipher ssl_protocol
//! ```
//!
//! - Arrival: ALB's `time` is when the load balancer *answered*; its
//!   `request_creation_time` (since 2018) is when the request arrived and is
//!   used when present, else `time` less the three processing times. The
//!   Classic `time` is the arrival.
//! - Request time: the sum of the three processing times (seconds). When
//!   the target never answered they are `-1`; the request time is then
//!   `time - request_creation_time` when the line has both, else unknown.
//! - Status: `elb_status_code`, what the client saw; `target_status_code`
//!   is `-` when the target sent no answer. A Classic TCP listener writes
//!   `-` for both: such a connection is read with status 0 (a request that
//!   neither failed nor was slow).
//! - Upstream: `target:port` (`-` when no target was chosen).
//! - Termination: when the load balancer answered itself (no target
//!   status), its status says how: 503 without a target is no server, 504 a
//!   target timeout, 502 a connection that failed (processing times `-1`) or
//!   was cut by the target, 460 a client that left; the code is the status.
//! - Network Load Balancer lines (type `tls`) and ALB connection-log lines
//!   that land in the same folder are not requests: they are skipped with a
//!   reason that names them, not read as damage.

use std::cell::Cell;

use crate::ingest::record::{AccessRecord, LineError, MICROS_PER_SECOND, optional};
use crate::ingest::timestamps::parse_iso8601;
use crate::scan::find_byte;
use crate::series::termination::{Termination, TerminationCause};
use crate::timefmt::Millis;

/// What `--log-format` and the reports call the ALB format.
pub const ALB_NAME: &str = "aws-alb";
/// ... and the Classic ELB format.
pub const ELB_NAME: &str = "aws-elb";

pub const ALB_DEFINITION: &str = "AWS Application Load Balancer: type time elb client:port target:port request_processing_time target_processing_time response_processing_time elb_status_code target_status_code received_bytes sent_bytes \"request\" \"user_agent\" ssl_cipher ssl_protocol target_group_arn \"trace_id\" ... request_creation_time ...";
pub const ELB_DEFINITION: &str = "AWS Classic Load Balancer: time elb client:port backend:port request_processing_time backend_processing_time response_processing_time elb_status_code backend_status_code received_bytes sent_bytes \"request\" \"user_agent\" ssl_cipher ssl_protocol";

/// The skip reason of a Network Load Balancer line in an ALB log folder.
pub const NLB_LINE: &str =
    "a Network Load Balancer (tls) log line, not an HTTP request: not counted";
/// The skip reason of an ALB connection-log line.
pub const CONNECTION_LOG_LINE: &str =
    "an ALB connection-log line (one TLS connection), not a request: not counted";

/// The request types an ALB writes as the first field.
const ALB_TYPES: [&[u8]; 6] = [b"http", b"https", b"h2", b"grpcs", b"ws", b"wss"];

/// Index of `request_creation_time` among the space-separated fields that
/// follow `user_agent` (`ssl_cipher` is 0).
const CREATION_TIME_AFTER_AGENT: usize = 7;

/// Length of a time as AWS writes it: `2018-07-02T22:23:00.186641Z`.
const AWS_TIME_LEN: usize = 27;
/// Its second, `2018-07-02T22:23:00`: what the lines of one second share.
const AWS_SECOND_LEN: usize = 19;

thread_local! {
    /// The last two seconds read on this thread and their milliseconds
    /// since the epoch: a line's `time` and `request_creation_time` are a
    /// request time apart, and the next line's are nearly always the same
    /// two seconds, so each second is parsed and validated once, not twice
    /// a line. Starts with zero bytes, which no time matches.
    static LAST_AWS_SECONDS: Cell<[([u8; AWS_SECOND_LEN], Millis); 2]> =
        const { Cell::new([([0; AWS_SECOND_LEN], 0); 2]) };
}

/// An AWS time (ISO 8601 UTC) as milliseconds: `parse_iso8601`'s answer,
/// with the second cached for the exact shape AWS writes (a six-digit
/// fraction and `Z`); any other shape goes to `parse_iso8601` whole.
#[inline]
fn aws_time(text: &[u8]) -> Option<Millis> {
    let fraction = text.get(AWS_SECOND_LEN + 1..AWS_TIME_LEN - 1);
    let exact = text.len() == AWS_TIME_LEN
        && text[AWS_SECOND_LEN] == b'.'
        && text[AWS_TIME_LEN - 1] == b'Z'
        && fraction.is_some_and(|digits| digits.iter().all(u8::is_ascii_digit));
    let (Some(fraction), true) = (fraction, exact) else {
        return parse_iso8601(text).map(|(at, _)| at);
    };
    let millis = fraction[..3]
        .iter()
        .fold(0, |acc, &b| acc * 10 + Millis::from(b - b'0'));
    let second = <[u8; AWS_SECOND_LEN]>::try_from(&text[..AWS_SECOND_LEN]).ok()?;
    let mut last = LAST_AWS_SECONDS.with(Cell::get);
    if let Some((_, at)) = last.iter().find(|(cached, _)| *cached == second) {
        return Some(at + millis);
    }
    // Without a fraction or zone, parse_iso8601 gives the second in UTC.
    let (at, _) = parse_iso8601(&second)?;
    last[1] = last[0];
    last[0] = (second, at);
    LAST_AWS_SECONDS.with(|cell| cell.set(last));
    Some(at + millis)
}

/// A cursor over fields separated by one space; quoted fields end at a
/// quote followed by a space or the end of the line.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    #[inline]
    fn next(&mut self, expected: &'static str) -> Result<&'a [u8], LineError> {
        let end = find_byte(b' ', self.rest).unwrap_or(self.rest.len());
        if end == 0 {
            return Err(LineError::new(expected));
        }
        let field = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        Ok(field)
    }

    #[inline]
    fn quoted(&mut self, expected: &'static str) -> Result<&'a [u8], LineError> {
        let body = self
            .rest
            .strip_prefix(b"\"")
            .ok_or(LineError::new(expected))?;
        let mut from = 0;
        while let Some(found) = find_byte(b'"', &body[from..]) {
            let at = from + found;
            match body.get(at + 1) {
                None => {
                    self.rest = &[];
                    return Ok(&body[..at]);
                }
                Some(b' ') => {
                    self.rest = &body[at + 2..];
                    return Ok(&body[..at]);
                }
                Some(_) => from = at + 1,
            }
        }
        Err(LineError::new("unterminated quoted field"))
    }
}

/// Seconds with a fraction, `-1` as `None`.
#[inline]
fn processing_time(text: &[u8]) -> Result<Option<u64>, LineError> {
    if text == b"-1" {
        return Ok(None);
    }
    whole_seconds_as_micros(text).map(Some).ok_or(LineError::new(
        "expected a processing time in seconds such as 0.001 or -1",
    ))
}

/// What [`crate::ingest::record::seconds_as_micros`] reads when it reads all of `text` (digits,
/// then optionally `.` and digits, the fraction cut at microseconds), in
/// one pass: three of these a line cost a third of the ALB parser's
/// instructions with the general reader (callgrind).
#[inline]
fn whole_seconds_as_micros(text: &[u8]) -> Option<u64> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut micros = text[..digits]
        .iter()
        .fold(0u64, |acc, &b| acc.saturating_mul(10).saturating_add(u64::from(b - b'0')))
        .saturating_mul(MICROS_PER_SECOND);
    let Some(fraction) = text[digits..].strip_prefix(b".") else {
        return (digits == text.len()).then_some(micros);
    };
    let mut scale = MICROS_PER_SECOND / 10;
    for &b in fraction {
        if !b.is_ascii_digit() {
            return None;
        }
        // Digits past the sixth have scale 0: read, not counted.
        micros = micros.saturating_add(u64::from(b - b'0') * scale);
        scale /= 10;
    }
    Some(micros)
}

/// A status code, `-` as `None`.
#[inline]
fn status_code(text: &[u8]) -> Result<Option<u16>, LineError> {
    if text == b"-" {
        return Ok(None);
    }
    match text {
        [a, b, c] if text.iter().all(u8::is_ascii_digit) => Ok(Some(
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
        )),
        _ => Err(LineError::new("expected a 3-digit status code or -")),
    }
}

/// `host:port` without the port (IPv6 addresses keep their colons).
#[inline]
fn without_port(address: &[u8]) -> &[u8] {
    match crate::scan::rfind_byte(b':', address) {
        Some(colon) if colon > 0 => &address[..colon],
        _ => address,
    }
}

/// The authority of the URL in a request line `GET http://host:80/ HTTP/1.1`.
#[inline]
fn request_host(request: &[u8]) -> Option<&[u8]> {
    let space = find_byte(b' ', request)?;
    let url = &request[space + 1..];
    let mut from = 0;
    let after_scheme = loop {
        let colon = from + find_byte(b':', &url[from..])?;
        if url[colon + 1..].starts_with(b"//") {
            break &url[colon + 3..];
        }
        from = colon + 1;
    };
    // The authority is a few bytes: a byte loop, not a vector search.
    let end = after_scheme
        .iter()
        .position(|&b| matches!(b, b'/' | b' ' | b'?'))
        .unwrap_or(after_scheme.len());
    optional(&after_scheme[..end])
}

/// Field `index` (0-based) of `text` split at single spaces, `None` when
/// the text has fewer fields: `text.split(' ').nth(index)`, one vector
/// search a field.
#[inline]
fn nth_field(text: &[u8], index: usize) -> Option<&[u8]> {
    let mut start = 0;
    for _ in 0..index {
        start += find_byte(b' ', &text[start..])? + 1;
    }
    let end = find_byte(b' ', &text[start..]).map_or(text.len(), |at| start + at);
    Some(&text[start..end])
}

/// The fields both layouts share from `client:port` to `user_agent`.
struct Common<'a> {
    client: &'a [u8],
    target: &'a [u8],
    times: [Option<u64>; 3],
    elb_status: Option<u16>,
    target_status: Option<u16>,
    sent_bytes: Option<u64>,
    request: &'a [u8],
    user_agent: &'a [u8],
}

fn common<'a>(fields: &mut Fields<'a>) -> Result<Common<'a>, LineError> {
    let client = without_port(fields.next("expected the client address:port")?);
    let target = fields.next("expected the target address:port or -")?;
    let mut times = [None; 3];
    for time in &mut times {
        *time = processing_time(fields.next("expected the three processing times")?)?;
    }
    let elb_status = status_code(fields.next("expected the load balancer's status code")?)?;
    let target_status = status_code(fields.next("expected the target's status code")?)?;
    fields.next("expected the received bytes")?;
    let sent = fields.next("expected the sent bytes")?;
    let sent_bytes = match sent {
        b"-" => None,
        digits if digits.iter().all(u8::is_ascii_digit) => {
            Some(digits.iter().fold(0u64, |acc, &b| {
                acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            }))
        }
        _ => return Err(LineError::new("expected the sent bytes as a number")),
    };
    let request = fields.quoted("expected the request in double quotes")?;
    let user_agent = fields.quoted("expected the user agent in double quotes")?;
    Ok(Common {
        client,
        target,
        times,
        elb_status,
        target_status,
        sent_bytes,
        request,
        user_agent,
    })
}

/// How the load balancer ended a request it answered itself (see the
/// module doc); `None` when the target answered.
fn termination(common: &Common<'_>) -> Option<Termination> {
    if common.target_status.is_some() {
        return None;
    }
    let status = common.elb_status?;
    let no_target = common.target == b"-";
    let never_dispatched = common.times.iter().all(Option::is_none);
    let cause = match status {
        503 if no_target => TerminationCause::NoServer,
        504 => TerminationCause::ServerTimeout,
        502 if never_dispatched => TerminationCause::ConnectFailed,
        502 => TerminationCause::ServerAborted,
        460 => TerminationCause::ClientAborted,
        _ => return None,
    };
    let code = [
        b'0' + (status / 100 % 10) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ];
    Some(Termination::new(cause, &code))
}

fn record<'a>(common: &Common<'a>, arrival: i64, duration_us: Option<u64>) -> AccessRecord<'a> {
    let mut record = AccessRecord::new(arrival, 0, common.elb_status.unwrap_or(0));
    record.client = common.client;
    record.request = common.request;
    record.bytes = common.sent_bytes;
    record.user_agent = optional(common.user_agent);
    record.duration_us = duration_us;
    record.host = request_host(common.request);
    record.upstream_addr = optional(common.target);
    record.termination = termination(common);
    record
}

/// The sum of the three processing times, when all are known.
fn total(times: &[Option<u64>; 3]) -> Option<u64> {
    times
        .iter()
        .try_fold(0u64, |sum, time| Some(sum.saturating_add((*time)?)))
}

/// Parses one ALB line.
pub fn parse_alb(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let mut fields = Fields { rest: line };
    let kind = fields.next("expected the request type (http, https, h2, grpcs, ws, wss)")?;
    if !ALB_TYPES.contains(&kind) {
        return Err(match kind {
            b"tls" | b"tcp" | b"udp" => LineError::new(NLB_LINE),
            _ if parse_iso8601(kind).is_some() && looks_like_connection_log(fields.rest) => {
                LineError::new(CONNECTION_LOG_LINE)
            }
            _ => LineError::new("expected the request type (http, https, h2, grpcs, ws, wss)"),
        });
    }
    let answered_at = aws_time(fields.next("expected the time")?)
        .ok_or(LineError::new("expected the time in ISO 8601 UTC"))?;
    fields.next("expected the load balancer's name")?;
    let common = common(&mut fields)?;
    // Older lines end here or a few fields later.
    let creation = nth_field(fields.rest, CREATION_TIME_AFTER_AGENT)
        .and_then(aws_time);
    let from_times = total(&common.times);
    let (arrival, duration_us) = match (creation, from_times) {
        (Some(created), Some(us)) => (created, Some(us)),
        (Some(created), None) => (
            created,
            u64::try_from(answered_at - created).ok().map(|ms| ms * 1000),
        ),
        (None, Some(us)) => (answered_at - (us / 1000) as i64, Some(us)),
        (None, None) => (answered_at, None),
    };
    Ok((record(&common, arrival, duration_us), &[]))
}

/// Whether the fields after a leading time look like an ALB connection-log
/// line: `client_ip client_port listener_port tls_protocol ...`.
fn looks_like_connection_log(rest: &[u8]) -> bool {
    let mut fields = rest.split(|&b| b == b' ');
    let ip = fields.next().unwrap_or_default();
    let port = fields.next().unwrap_or_default();
    !ip.is_empty()
        && !ip.contains(&b':')
        && ip.iter().all(|b| b.is_ascii_hexdigit() || *b == b'.')
        && !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
}

/// Parses one Classic ELB line.
pub fn parse_elb(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let mut fields = Fields { rest: line };
    let arrival = aws_time(fields.next("expected the time")?)
        .ok_or(LineError::new("expected the time in ISO 8601 UTC"))?;
    if looks_like_connection_log(fields.rest) {
        // `time client_ip client_port ...`: an ALB connection log.
        return Err(LineError::new(CONNECTION_LOG_LINE));
    }
    fields.next("expected the load balancer's name")?;
    let common = common(&mut fields)?;
    let mut rest = fields.rest;
    // ssl_cipher and ssl_protocol end the Classic line.
    for _ in 0..2 {
        let end = find_byte(b' ', rest).unwrap_or(rest.len());
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    Ok((record(&common, arrival, total(&common.times)), rest))
}

#[cfg(test)]
mod tests;
