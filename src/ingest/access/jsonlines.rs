//! JSON-lines access logs: one JSON object per line, as nginx writes them
//! with `log_format ... escape=json '{...}'`, and as Caddy and Traefik write
//! their access logs. The fields are found by their usual names (see
//! [`FIELD_NAMES`]); the flavor is told from the names present.
//!
//! A hand-written scanner walks the object once and hands each scalar to
//! the field table with the path of keys that leads to it, borrowing the raw
//! bytes of the line: nothing is allocated per line, invalid UTF-8 inside a
//! string is kept as it is, and nginx's non-JSON `\x22` escapes (a
//! `log_format` without `escape=json`) do not stop it. Strings keep their
//! escapes, which does not matter for what is read from them (times, numbers,
//! addresses; user agents are only hashed). Only an exponent in a number
//! (`1.2e-05`, as Go writes small floats) goes through `f64`.

use memchr::memchr2;

use super::envoy::{first_forwarded_hop, termination as envoy_termination};
use crate::ingest::record::{
    AccessRecord, LineError, MICROS_PER_SECOND, seconds_as_micros, strip_port,
};
use crate::ingest::timestamps::{parse_clf_time, parse_epoch_seconds, parse_iso8601};
use crate::series::termination::{Termination, cloud_cause};
use crate::timefmt::Millis;

/// What the `json` preset reads, for the README and `--help`.
pub const DEFINITION: &str = r#"log_format json escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":"$status","request_time":"$request_time","http_user_agent":"$http_user_agent"}'; or Caddy's / Traefik's JSON access log"#;

/// The keys each record field is read from, in order of preference, for the
/// README and `--help`. Paths with dots are nested objects (Caddy).
pub const FIELD_NAMES: &[(&str, &str)] = &[
    (
        "time",
        "StartLocal, StartUTC (Traefik: arrival); msec, ts (Caddy), time_iso8601, time_local, @timestamp, timestamp, time (completion)",
    ),
    ("status", "DownstreamStatus (Traefik), status, status_code"),
    (
        "request time",
        "request_time (s), duration (s, Caddy), Duration (ns, Traefik)",
    ),
    (
        "client",
        "request.client_ip, remote_addr, ClientHost, client_ip, request.remote_ip, remote_ip",
    ),
    (
        "user agent",
        "http_user_agent, user_agent, request.headers.User-Agent, request_User-Agent",
    ),
    ("remote user", "remote_user, user_id, ClientUsername"),
    (
        "host",
        "host, http_host, server_name, request.host, RequestHost",
    ),
    ("upstream", "upstream_addr, upstream, ServiceAddr"),
    ("upstream status", "upstream_status, OriginStatus"),
    ("upstream time", "upstream_response_time (s)"),
];

/// Objects nested deeper than this are refused: no real access log nests
/// more than three levels, and a bound keeps a hostile line from exhausting
/// the stack.
const MAX_DEPTH: usize = 16;

/// How many keys of a path are kept for matching (Caddy's
/// `request.headers.User-Agent` is three).
const PATH_KEYS: usize = 4;

mod fields;

pub use fields::Flavor;
use fields::{DurationUnit, Found, Scalar, TimeKind};

/// Seconds with an optional fraction or exponent, to microseconds.
fn seconds_micros(text: &[u8]) -> Result<u64, ()> {
    if let Ok((rest, micros)) = seconds_as_micros(text)
        && rest.is_empty()
    {
        return Ok(micros);
    }
    let value: f64 = std::str::from_utf8(text)
        .map_err(|_| ())?
        .parse()
        .map_err(|_| ())?;
    if value.is_finite() && value >= 0.0 {
        Ok((value * MICROS_PER_SECOND as f64).round() as u64)
    } else {
        Err(())
    }
}

/// Nanoseconds (an integer) to microseconds.
fn nanos_micros(text: &[u8]) -> Result<u64, ()> {
    match seconds_as_micros(text) {
        Ok(([], whole_times_million)) => Ok(whole_times_million / MICROS_PER_SECOND / 1000),
        _ => Err(()),
    }
}

/// Epoch numbers above this are milliseconds, not seconds (the year 5138
/// in seconds; 1973 in milliseconds).
const EPOCH_MILLIS_ABOVE: f64 = 1e11;
/// ... and above this, microseconds.
const EPOCH_MICROS_ABOVE: f64 = 1e14;
/// ... and above this, nanoseconds.
const EPOCH_NANOS_ABOVE: f64 = 1e17;
/// Digits of the nanoseconds from the epoch to the year 9999
/// (253 402 300 799 999 999 999): a longer number is not a time.
const EPOCH_MAX_DIGITS: usize = 21;

/// A time field's value: ISO 8601, CLF, or a number since the epoch
/// (seconds, or milliseconds, microseconds, nanoseconds told by magnitude).
fn time_value(text: &[u8], is_number: bool) -> Option<(Millis, i32)> {
    if !is_number && let Some(time) = parse_iso8601(text).or_else(|| parse_clf_time(text)) {
        return Some(time);
    }
    let digits_only = text.iter().all(u8::is_ascii_digit);
    if digits_only && text.len() > EPOCH_MAX_DIGITS {
        // More digits than nanoseconds to the year 9999: not a time.
        return None;
    }
    if digits_only && text.len() >= 12 {
        let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
        let millis = if value > EPOCH_NANOS_ABOVE {
            value / 1e6
        } else if value > EPOCH_MICROS_ABOVE {
            value / 1e3
        } else if value > EPOCH_MILLIS_ABOVE {
            value
        } else {
            value * 1e3
        };
        return crate::timefmt::writable(millis.round() as Millis).map(|millis| (millis, 0));
    }
    parse_epoch_seconds(text).map(|millis| (millis, 0))
}

/// A status: three digits, or `0` / `000` (no response was sent: the
/// client went away, or the proxy never got an answer to relay).
#[inline]
fn status_value(text: &[u8]) -> Option<u16> {
    match text {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        b"0" | b"000" => Some(0),
        _ => None,
    }
}

/// A request time in `unit` to microseconds.
fn duration_micros(text: &[u8], unit: DurationUnit) -> Result<u64, ()> {
    match unit {
        DurationUnit::Nanos => nanos_micros(text),
        // Milliseconds read as seconds are a thousand times the microseconds.
        DurationUnit::Millis => seconds_micros(text).map(|us| us / 1000),
        _ => seconds_micros(text),
    }
}

/// Reads one JSON line. Returns the record and what follows the object.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    parse_with_flavor(line).map(|(record, rest, _)| (record, rest))
}

/// [`parse`], and which server's field names the object uses.
pub fn parse_with_flavor(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8], Flavor), LineError> {
    parse_object(line, None)
}

/// Reads the JSON object that starts `line`; `outside_time` is the time
/// written before it on the line (Caddy's console encoder), used when the
/// object has none.
pub fn parse_object(
    line: &[u8],
    outside_time: Option<(Millis, i32)>,
) -> Result<(AccessRecord<'_>, &[u8], Flavor), LineError> {
    let start = skip_space(line, 0);
    if line.get(start) != Some(&b'{') {
        return Err(LineError::new("expected a JSON object"));
    }
    let mut found = Found::default();
    let mut path: [&[u8]; PATH_KEYS] = [b""; PATH_KEYS];
    let end = Scanner {
        line,
        open_arrays: std::cell::Cell::new(0),
    }
    .object(start, &mut path, 0, &mut found)?;
    if found.other_azure_category {
        return Err(LineError::new(
            "an Azure record of another category than access (performance, firewall or health-probe log): skipped by name",
        ));
    }
    let flavor = found.flavor();
    let ((logged_at, offset_seconds), kind) = match (found.time.value, outside_time) {
        (Some((time_text, kind, is_number)), _) => (
            time_value(time_text, is_number).ok_or(LineError::new(
                "expected the JSON time field to hold a time (ISO 8601, CLF, or a number since the epoch up to the year 9999)",
            ))?,
            kind,
        ),
        (None, Some(time)) => (time, TimeKind::Completion),
        (None, None) => {
            return Err(LineError::new(
                "expected a time in the JSON object (time_local, time_iso8601, msec, ts, StartUTC, start_time, timestamp, time or EdgeStartTimestamp)",
            ));
        }
    };
    let status_text = found.status.value.ok_or(LineError::new(
        "expected a status in the JSON object (status, DownstreamStatus, response_code, httpRequest.status, httpStatus or EdgeResponseStatus)",
    ))?;
    let status = status_value(status_text).ok_or(LineError::new(
        "expected a three-digit status (or 0: no response)",
    ))?;
    let mut record = AccessRecord::new(logged_at, offset_seconds, status);
    // Cloud Logging's entry time is when the load balancer received the
    // request (its latency runs from there).
    record.logged_at_completion = kind == TimeKind::Completion && flavor != Flavor::GoogleCloud;
    record.duration_us = match (found.duration.value, found.end_time) {
        (Some((text, written)), _) => Some(
            duration_micros(text, found.duration_unit(written, text)).map_err(|()| {
                LineError::new("expected a request time (a number, in the field's unit)")
            })?,
        ),
        (None, Some((end_text, is_number))) => {
            time_value(end_text, is_number).map(|(end, _)| (end - logged_at).max(0) as u64 * 1000)
        }
        (None, None) => None,
    };
    if let Some(user) = found.remote_user.value {
        record.remote_user = user;
    }
    if let Some(request) = found.request.value {
        record.request = request;
    }
    record.user_agent = found.user_agent.value;
    record.host = found.host.value;
    record.upstream_addr = found.upstream_addr.value;
    record.upstream_status = found.upstream_status.value;
    record.upstream_time = found.upstream_time.value;
    record.forwarded_for = found.forwarded_for.value;
    record.referer = found.referer.value;
    record.termination = found
        .response_flags
        .value
        .and_then(envoy_termination)
        .or_else(|| {
            let detail = found.cloud_detail.value?;
            cloud_cause(detail).map(|cause| Termination::new(cause, detail))
        });
    match found.client.value {
        Some(client) => record.client = strip_port(client),
        None => {
            if let Some(hop) = record.forwarded_for.and_then(first_forwarded_hop) {
                record.client = hop;
            }
        }
    }
    record.bytes = found.bytes.value.and_then(|text| {
        text.iter().all(u8::is_ascii_digit).then(|| {
            text.iter().fold(0u64, |acc, &b| {
                acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            })
        })
    });
    Ok((record, &line[end..], flavor))
}

#[inline]
fn skip_space(line: &[u8], mut at: usize) -> usize {
    while line.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

const MALFORMED: LineError = LineError::new("malformed JSON");

/// Walks a JSON text; positions are indexes into `line`.
struct Scanner<'a> {
    line: &'a [u8],
    /// Arrays open around the value being read: they add no key to the
    /// path, so they count towards [`MAX_DEPTH`] apart from it.
    open_arrays: std::cell::Cell<usize>,
}

impl<'a> Scanner<'a> {
    /// The object starting at `at` (a `{`); returns the position after it.
    fn object(
        &self,
        at: usize,
        path: &mut [&'a [u8]; PATH_KEYS],
        depth: usize,
        found: &mut Found<'a>,
    ) -> Result<usize, LineError> {
        if depth + self.open_arrays.get() >= MAX_DEPTH {
            return Err(LineError::new("JSON nested too deeply"));
        }
        let mut at = skip_space(self.line, at + 1);
        if self.line.get(at) == Some(&b'}') {
            return Ok(at + 1);
        }
        loop {
            if self.line.get(at) != Some(&b'"') {
                return Err(MALFORMED);
            }
            let key_end = self.string_end(at + 1)?;
            let key = &self.line[at + 1..key_end];
            at = skip_space(self.line, key_end + 1);
            if self.line.get(at) != Some(&b':') {
                return Err(MALFORMED);
            }
            at = skip_space(self.line, at + 1);
            if depth < PATH_KEYS {
                path[depth] = key;
            }
            at = self.value(at, path, depth + 1, found)?;
            at = skip_space(self.line, at);
            match self.line.get(at) {
                Some(b',') => at = skip_space(self.line, at + 1),
                Some(b'}') => return Ok(at + 1),
                _ => return Err(MALFORMED),
            }
        }
    }

    /// The value at `at`, whose path has `depth` keys.
    fn value(
        &self,
        at: usize,
        path: &mut [&'a [u8]; PATH_KEYS],
        depth: usize,
        found: &mut Found<'a>,
    ) -> Result<usize, LineError> {
        match self.line.get(at) {
            Some(b'{') => self.object(at, path, depth, found),
            Some(b'[') => self.array(at, path, depth, found),
            Some(b'"') => {
                let end = self.string_end(at + 1)?;
                if depth <= PATH_KEYS {
                    found.visit(&path[..depth], Scalar::Str(&self.line[at + 1..end]));
                }
                Ok(end + 1)
            }
            Some(_) => {
                let length = self.line[at..]
                    .iter()
                    .take_while(|&&b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                    .count();
                if length == 0 {
                    return Err(MALFORMED);
                }
                if depth <= PATH_KEYS {
                    found.visit(&path[..depth], Scalar::Bare(&self.line[at..at + length]));
                }
                Ok(at + length)
            }
            None => Err(LineError::new("line ended inside the JSON object")),
        }
    }

    /// The array at `at`; its elements are visited under the array's path.
    /// Nested arrays count towards the depth bound although they add no key
    /// (without that, `[[[[...` recursed until the stack overflowed; found by
    /// fuzzing).
    fn array(
        &self,
        at: usize,
        path: &mut [&'a [u8]; PATH_KEYS],
        depth: usize,
        found: &mut Found<'a>,
    ) -> Result<usize, LineError> {
        let open = self.open_arrays.get();
        if depth + open >= MAX_DEPTH {
            return Err(LineError::new("JSON nested too deeply"));
        }
        self.open_arrays.set(open + 1);
        let end = self.array_items(at, path, depth, found);
        self.open_arrays.set(open);
        end
    }

    /// The elements of the array at `at` and the position after it.
    fn array_items(
        &self,
        at: usize,
        path: &mut [&'a [u8]; PATH_KEYS],
        depth: usize,
        found: &mut Found<'a>,
    ) -> Result<usize, LineError> {
        let mut at = skip_space(self.line, at + 1);
        if self.line.get(at) == Some(&b']') {
            return Ok(at + 1);
        }
        loop {
            at = self.value(at, path, depth, found)?;
            at = skip_space(self.line, at);
            match self.line.get(at) {
                Some(b',') => at = skip_space(self.line, at + 1),
                Some(b']') => return Ok(at + 1),
                _ => return Err(MALFORMED),
            }
        }
    }

    /// The position of the quote that closes the string whose contents
    /// start at `from`; a backslash escapes the byte after it.
    fn string_end(&self, from: usize) -> Result<usize, LineError> {
        let mut at = from;
        loop {
            match memchr2(b'"', b'\\', &self.line[at.min(self.line.len())..]) {
                Some(offset) if self.line[at + offset] == b'"' => return Ok(at + offset),
                Some(offset) => at += offset + 2,
                None => return Err(LineError::new("unterminated JSON string")),
            }
        }
    }
}

#[cfg(test)]
mod tests;
