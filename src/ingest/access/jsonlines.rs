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

use crate::ingest::record::{AccessRecord, LineError, MICROS_PER_SECOND, seconds_as_micros};
use crate::ingest::timestamps::{parse_clf_time, parse_epoch_seconds, parse_iso8601};
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

/// Which server's access log the keys look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Nginx,
    Caddy,
    Traefik,
}

impl Flavor {
    pub fn format_name(self) -> &'static str {
        match self {
            Flavor::Nginx => "nginx-json",
            Flavor::Caddy => "caddy-json",
            Flavor::Traefik => "traefik-json",
        }
    }
}

/// A scalar as written: a string's raw contents (escapes kept) or the text
/// of a number, `true`, `false` or `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar<'a> {
    Str(&'a [u8]),
    Bare(&'a [u8]),
}

impl<'a> Scalar<'a> {
    /// The text, `None` for `null`, an empty string or `-`.
    fn text(self) -> Option<&'a [u8]> {
        let text = match self {
            Scalar::Str(text) | Scalar::Bare(text) => text,
        };
        (!text.is_empty() && text != b"-" && text != b"null").then_some(text)
    }
}

/// How a time field relates to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeKind {
    /// When the request arrived (Traefik's `StartUTC`).
    Arrival,
    /// When the log line was written, at completion (nginx, Caddy).
    Completion,
}

/// A value with the preference of the key it came from (higher wins; the
/// first of equal preference stays).
#[derive(Clone, Copy, Debug)]
struct Slot<T> {
    value: Option<T>,
    rank: u8,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: None,
            rank: 0,
        }
    }
}

impl<T> Slot<T> {
    #[inline]
    fn offer(&mut self, rank: u8, value: Option<T>) {
        if let Some(value) = value
            && rank > self.rank
        {
            self.value = Some(value);
            self.rank = rank;
        }
    }
}

/// What the scan found in one object.
#[derive(Default)]
struct Found<'a> {
    time: Slot<(&'a [u8], TimeKind, bool)>,
    status: Slot<&'a [u8]>,
    duration_us: Slot<Result<u64, ()>>,
    client: Slot<&'a [u8]>,
    user_agent: Slot<&'a [u8]>,
    remote_user: Slot<&'a [u8]>,
    request: Slot<&'a [u8]>,
    host: Slot<&'a [u8]>,
    upstream_addr: Slot<&'a [u8]>,
    upstream_status: Slot<&'a [u8]>,
    upstream_time: Slot<&'a [u8]>,
    forwarded_for: Slot<&'a [u8]>,
    referer: Slot<&'a [u8]>,
    bytes: Slot<&'a [u8]>,
    traefik: bool,
    caddy_ts: bool,
    caddy_request: bool,
}

impl<'a> Found<'a> {
    /// Offers a time field: `rank` orders the fields that carry the time,
    /// `kind` says which end of the request it marks, and `is_number`
    /// whether it may be read as an epoch number.
    #[inline]
    fn offer_time(&mut self, rank: u8, text: Option<&'a [u8]>, kind: TimeKind, is_number: bool) {
        self.time.offer(rank, text.map(|t| (t, kind, is_number)));
    }

    /// Files one scalar under its path.
    #[inline]
    fn visit(&mut self, path: &[&[u8]], scalar: Scalar<'a>) {
        let text = scalar.text();
        let is_number = matches!(scalar, Scalar::Bare(_));
        match path {
            [b"StartLocal"] => {
                self.traefik = true;
                self.offer_time(11, text, TimeKind::Arrival, false);
            }
            [b"StartUTC"] => {
                self.traefik = true;
                self.offer_time(10, text, TimeKind::Arrival, false);
            }
            [b"msec"] => self.offer_time(9, text, TimeKind::Completion, true),
            [b"ts"] => {
                self.caddy_ts = true;
                self.offer_time(8, text, TimeKind::Completion, is_number);
            }
            [b"time_iso8601"] => self.offer_time(7, text, TimeKind::Completion, false),
            [b"time_local"] => self.offer_time(6, text, TimeKind::Completion, false),
            [b"@timestamp"] | [b"timestamp"] | [b"time"] => {
                self.offer_time(5, text, TimeKind::Completion, is_number)
            }
            [b"DownstreamStatus"] => {
                self.traefik = true;
                self.status.offer(3, text);
            }
            [b"status"] => self.status.offer(2, text),
            [b"status_code"] => self.status.offer(1, text),
            [b"request_time"] => self.duration_us.offer(3, text.map(seconds_micros)),
            [b"duration"] => self.duration_us.offer(2, text.map(seconds_micros)),
            [b"Duration"] => self.duration_us.offer(1, text.map(nanos_micros)),
            [b"request", b"client_ip"] => self.client.offer(5, text),
            [b"remote_addr"] | [b"ClientHost"] | [b"client_ip"] => self.client.offer(4, text),
            [b"request", b"remote_ip"] | [b"remote_ip"] => self.client.offer(3, text),
            [b"http_user_agent"] | [b"user_agent"] => self.user_agent.offer(3, text),
            [b"request", b"headers", b"User-Agent"] | [b"request_User-Agent"] => {
                self.user_agent.offer(2, text)
            }
            [b"remote_user"] | [b"user_id"] | [b"ClientUsername"] => {
                self.remote_user.offer(1, text)
            }
            [b"request"] => self.request.offer(3, text),
            [b"request_uri"] | [b"uri"] | [b"RequestPath"] | [b"request", b"uri"] => {
                self.request.offer(2, text)
            }
            [b"host"]
            | [b"http_host"]
            | [b"server_name"]
            | [b"request", b"host"]
            | [b"RequestHost"] => self.host.offer(1, text),
            [b"upstream_addr"] | [b"upstream"] | [b"ServiceAddr"] => {
                self.upstream_addr.offer(1, text)
            }
            [b"upstream_status"] | [b"OriginStatus"] => self.upstream_status.offer(1, text),
            [b"upstream_response_time"] => self.upstream_time.offer(1, text),
            [b"http_x_forwarded_for"] | [b"request_X-Forwarded-For"] => {
                self.forwarded_for.offer(1, text)
            }
            [b"http_referer"]
            | [b"http_referrer"]
            | [b"request_Referer"]
            | [b"request", b"headers", b"Referer"] => self.referer.offer(1, text),
            [b"body_bytes_sent"] | [b"bytes_sent"] | [b"size"] | [b"DownstreamContentSize"] => {
                self.bytes.offer(1, text)
            }
            _ => {}
        }
        if let [b"request", _, ..] = path {
            self.caddy_request = true;
        }
    }

    fn flavor(&self) -> Flavor {
        if self.traefik {
            Flavor::Traefik
        } else if self.caddy_ts && self.caddy_request {
            Flavor::Caddy
        } else {
            Flavor::Nginx
        }
    }
}

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

#[inline]
fn status_value(text: &[u8]) -> Option<u16> {
    match text {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// Reads one JSON line. Returns the record and what follows the object.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    parse_with_flavor(line).map(|(record, rest, _)| (record, rest))
}

/// [`parse`], and which server's field names the object uses.
pub fn parse_with_flavor(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8], Flavor), LineError> {
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
    let (time_text, kind, is_number) = found.time.value.ok_or(LineError::new(
        "expected a time in the JSON object (time_local, time_iso8601, msec, ts, StartUTC, time or timestamp)",
    ))?;
    let (logged_at, offset_seconds) = time_value(time_text, is_number).ok_or(LineError::new(
        "expected the JSON time field to hold a time (ISO 8601, CLF, or a number since the epoch up to the year 9999)",
    ))?;
    let status_text = found.status.value.ok_or(LineError::new(
        "expected a status in the JSON object (status or DownstreamStatus)",
    ))?;
    let status =
        status_value(status_text).ok_or(LineError::new("expected a three-digit status"))?;
    let mut record = AccessRecord::new(logged_at, offset_seconds, status);
    record.logged_at_completion = kind == TimeKind::Completion;
    record.duration_us = match found.duration_us.value {
        Some(Ok(us)) => Some(us),
        Some(Err(())) => return Err(LineError::new("expected a request time in seconds")),
        None => None,
    };
    if let Some(client) = found.client.value {
        record.client = client;
    }
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
    record.bytes = found.bytes.value.and_then(|text| {
        text.iter().all(u8::is_ascii_digit).then(|| {
            text.iter().fold(0u64, |acc, &b| {
                acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            })
        })
    });
    Ok((record, &line[end..], found.flavor()))
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
