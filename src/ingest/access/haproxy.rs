//! HAProxy's access logs: the HTTP log (`option httplog`), the HTTPS log
//! (`option httpslog`, the HTTP log plus TLS fields after the request) and
//! the TCP log (`option tcplog`, one line per connection), written through
//! syslog (RFC 3164, RFC 5424, journald's short and short-iso output) or
//! to a plain file (`log stdout format raw`), with or without captured
//! headers `{...}`. HAProxy's own messages in the same file (`Proxy www
//! started.`, `Server www/app1 is DOWN`, `SSL handshake failure`) are not
//! requests: [`parse`] says so with [`MESSAGE_REASON`] and ingest hands
//! them to the syslog reader as events.
//!
//! The fields (HAProxy configuration manual, 8.2.2 and 8.2.3):
//!
//! ```text
//! HTTP: client:port [accept date] frontend backend/server TR/Tw/Tc/Tr/Ta status bytes
//!       cookie cookie termination(4) actconn/feconn/beconn/srvconn/retries
//!       srv_queue/backend_queue [{request headers}] [{response headers}] "request"
//!       [httpslog: TLS fields]
//! TCP:  client:port [accept date] frontend backend/server Tw/Tc/Tt bytes
//!       termination(2) actconn/feconn/beconn/srvconn/retries srv_queue/backend_queue
//! ```
//!
//! - The date in brackets (the accept date, or the request date of HAProxy
//!   2's `%tr`) is the request's arrival, in HAProxy's local time without
//!   an offset: it is read as UTC unless a syslog header before it carries
//!   an offset (RFC 5424, journald short-iso), which is then used.
//! - The fifth timer (`Ta` since HAProxy 2.0, `Tt` before) is the request
//!   time in milliseconds; the third timer `Tt` for TCP. `-1` means the step
//!   never happened (a request whose `Tr` is -1 got no answer from a
//!   server); a `+` prefix (`option logasap`) is dropped.
//! - `backend/server` is the upstream; `<NOSRV>` is a backend that had no
//!   server to send the request to.
//! - The termination state's first two characters become the
//!   [`Termination`] (see [`crate::series::termination`] for the table).
//! - Status `-1` (no response was sent: the client left first) is read as
//!   status 0, a request that neither failed nor was slow.
//! - A TCP connection has no status: it is counted as 200 unless its
//!   termination state says otherwise: 503 without a server (`<NOSRV>`) or
//!   when the proxy ran out of a resource or killed it (`R`, `I`, `D`, `U`,
//!   `K`), 502 when the server refused or closed it (`S`), 504 on a server
//!   timeout (`s`), 403 when the proxy denied it (`P`).

use crate::ingest::record::{AccessRecord, LineError, field_ends_at, leading_digits, optional};
use crate::ingest::timestamps::{parse_clf_time, parse_iso8601};
use crate::scan::{find_byte, rfind_byte};
use crate::series::termination::{Termination, TerminationCause};

/// What `--log-format` and the reports call this format.
pub const NAME: &str = "haproxy";

/// The format's definition as the formats table shows it.
pub const DEFINITION: &str = "HAProxy option httplog / httpslog / tcplog: %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq {%hr} {%hs} %{+Q}r, plain or after a syslog header";

/// The reason [`parse`] gives for a line that is HAProxy's own message
/// (a proxy started, a server down, a TLS handshake failure), not a
/// request: ingest reads such lines as syslog events.
pub const MESSAGE_REASON: &str =
    "not a request: an HAProxy message (kept as an event when it is one)";

/// The server name HAProxy logs when the backend had no server to use.
pub const NO_SERVER: &[u8] = b"<NOSRV>";

/// Length of `25/Feb/2019:16:19:48` before the fraction.
const DATE_SECONDS_LEN: usize = 20;

/// The shortest accept date: `25/Feb/2019:16:19:48.1`.
const MIN_DATE_LEN: usize = DATE_SECONDS_LEN + 2;

/// Milliseconds in a second (HAProxy's timers are milliseconds).
const MICROS_PER_MILLI: u64 = 1_000;

/// Whether `text` starts like an accept date, `dd/Mon/yyyy:HH:MM:SS.`.
#[inline]
fn looks_like_date(text: &[u8]) -> bool {
    text.len() >= MIN_DATE_LEN
        && text[0].is_ascii_digit()
        && text[1].is_ascii_digit()
        && text[2] == b'/'
        && text[6] == b'/'
        && text[11] == b':'
        && text[DATE_SECONDS_LEN] == b'.'
}

/// Where the HAProxy body (`client:port [date] ...`) starts: at 0 in a
/// plain file, after the syslog header otherwise. Found by its accept date:
/// the first `[` followed by a date, preceded by a space and the client
/// token. `None` when the line has no such date (an HAProxy message).
#[inline]
fn body_start(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = find_byte(b'[', &line[from..]) {
        let bracket = from + found;
        from = bracket + 1;
        if !looks_like_date(&line[bracket + 1..]) {
            continue;
        }
        let before = bracket.checked_sub(1)?;
        if line[before] != b' ' {
            return None;
        }
        let start = rfind_byte(b' ', &line[..before]).map_or(0, |space| space + 1);
        return (start < before).then_some(start);
    }
    None
}

/// The UTC offset a syslog header before the body carries (RFC 5424's
/// `<134>1 2024-03-01T10:00:00+01:00 ...`, journald's short-iso
/// `2024-03-01T10:00:00+0100 host ...`); `None` for headers without one
/// (RFC 3164) and for a plain file.
fn header_offset(header: &[u8]) -> Option<i32> {
    let mut rest = header;
    if let Some(after_pri) = rest.strip_prefix(b"<") {
        let close = after_pri.iter().position(|&b| b == b'>')?;
        rest = &after_pri[close + 1..];
        rest = rest.strip_prefix(b"1 ").unwrap_or(rest);
    }
    let end = rest.iter().position(|&b| b == b' ')?;
    let stamp = &rest[..end];
    // An ISO time with a zone: `T` at 10 and a sign or `Z` after the clock.
    if stamp.len() < 20 || stamp[10] != b'T' {
        return None;
    }
    let zone = &stamp[19..];
    let has_zone = zone.iter().any(|&b| matches!(b, b'+' | b'-' | b'Z'));
    if !has_zone {
        return None;
    }
    parse_iso8601(stamp).map(|(_, offset)| offset)
}

/// Parses one HAProxy line. The error is [`MESSAGE_REASON`] (marked as a
/// message) for HAProxy's own messages, a description of what was expected
/// for a damaged request line.
pub fn parse(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let Some(start) = body_start(line) else {
        return Err(LineError::message(MESSAGE_REASON));
    };
    let offset_seconds = if start == 0 {
        0
    } else {
        header_offset(&line[..start]).unwrap_or(0)
    };
    parse_body(&line[start..], offset_seconds)
}

/// A cursor over the single-space separated fields of the body.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The next field up to a space or the end, and the space after it.
    /// Always inlined: where the compiler called it, a change elsewhere in
    /// the crate cost ~100 instructions a line (callgrind, twelfth session).
    #[inline(always)]
    fn next(&mut self, expected: &'static str) -> Result<&'a [u8], LineError> {
        let end = find_byte(b' ', self.rest).unwrap_or(self.rest.len());
        if end == 0 {
            return Err(LineError::new(expected));
        }
        let field = &self.rest[..end];
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        Ok(field)
    }
}

/// The steps that read a field of the shape HAProxy nearly always writes
/// without searching for its end: each gives what the general step (a
/// search, then [`timer`] or [`accept_date`]) gives for that field and
/// moves past it, or `None` without moving, and the general step reads it.
impl Fields<'_> {
    /// Whether the field of `len` bytes at the start ends there.
    #[inline]
    fn ends_at(&self, len: usize) -> bool {
        field_ends_at(self.rest, len)
    }

    #[inline]
    fn skip(&mut self, len: usize) {
        self.rest = self.rest.get(len + 1..).unwrap_or_default();
    }

    /// `[dd/Mon/yyyy:HH:MM:SS.mmm]`, the accept date with milliseconds
    /// (26 bytes): read where it is. Its checked digits and names hold no
    /// space, so the field is these bytes.
    #[inline]
    fn millisecond_date(&mut self, offset_seconds: i32) -> Option<i64> {
        const LEN: usize = MIN_DATE_LEN + 4;
        let field = self.rest.get(..LEN)?;
        if field[0] != b'[' || field[LEN - 1] != b']' || !self.ends_at(LEN) {
            return None;
        }
        let at = accept_date(&field[1..LEN - 1], offset_seconds)?;
        self.skip(LEN);
        Some(at)
    }

    /// A status of three digits from 100 (what [`timer`] and the range
    /// check take), and `-1` as 0.
    #[inline]
    fn status(&mut self) -> Option<u16> {
        match self.rest {
            [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] if self.ends_at(3) => {
                let code =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                self.skip(3);
                Some(code)
            }
            [b'-', b'1', ..] if self.ends_at(2) => {
                self.skip(2);
                Some(0)
            }
            _ => None,
        }
    }

    /// A count of up to [`MAX_PLAIN_TIMER_DIGITS`] digits.
    #[inline]
    fn count(&mut self) -> Option<u64> {
        let (value, len) = leading_digits(self.rest);
        if len == 0 || len > MAX_PLAIN_TIMER_DIGITS || !self.ends_at(len) {
            return None;
        }
        self.skip(len);
        Some(value)
    }
}

/// One timer or counter: `-1` (any negative number: the step never
/// happened) is `None`; a `+` (`option logasap`) is dropped. One pass over
/// the digits: seven of these a line (callgrind).
#[inline]
fn timer(text: &[u8]) -> Result<Option<u64>, ()> {
    let unsigned = text.strip_prefix(b"+").unwrap_or(text);
    let (never, digits) = match unsigned.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, unsigned),
    };
    if digits.is_empty() {
        return Err(());
    }
    let mut value = 0u64;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(());
        }
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Ok((!never).then_some(value))
}

/// The timers `TR/Tw/Tc/Tr/Ta` (or `Tw/Tc/Tt`) in one pass over their
/// bytes, each read as [`timer`] reads it (splitting first and reading
/// each part cost ~230 instructions a line, callgrind): the values and how
/// many there were. The errors are those of reading part after part: a
/// sixth part is "too many" whatever it holds.
#[inline]
fn read_timers(text: &[u8]) -> Result<([Option<u64>; 5], usize), LineError> {
    match plain_timers(text) {
        Some(read) => Ok(read),
        None => read_timers_general(text),
    }
}

/// The timers as HAProxy writes them without `option logasap`: one to
/// five parts of digits, each perhaps after a `-` (`-1`), read by a loop
/// that knows nothing else (a third of [`read_timers_general`]'s
/// instructions, callgrind); `None` for anything else, which the general
/// reader reads and, if it must, names.
#[inline]
fn plain_timers(text: &[u8]) -> Option<([Option<u64>; 5], usize)> {
    let mut values = [None; 5];
    let mut count = 0;
    // The part being read: its value, its digits, and whether it is `-`
    // (a step that never happened).
    let (mut value, mut digits, mut never) = (0u64, 0usize, false);
    for at in 0..=text.len() {
        match text.get(at) {
            Some(&digit @ b'0'..=b'9') => {
                value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
                digits += 1;
            }
            Some(b'-') if digits == 0 && !never => never = true,
            None | Some(b'/') => {
                // A sixth part is the general reader's error.
                let slot = values.get_mut(count)?;
                if digits == 0 || digits > MAX_PLAIN_TIMER_DIGITS {
                    return None;
                }
                *slot = (!never).then_some(value);
                count += 1;
                (value, digits, never) = (0, 0, false);
            }
            Some(_) => return None,
        }
    }
    Some((values, count))
}

/// Digits a timer may have on the plain path: any more could overflow
/// without saturating arithmetic, and go to the general reader, which
/// saturates.
const MAX_PLAIN_TIMER_DIGITS: usize = 18;

/// [`read_timers`] for any text: signs where `option logasap` puts them,
/// and the error of the first part that is no timer.
fn read_timers_general(text: &[u8]) -> Result<([Option<u64>; 5], usize), LineError> {
    const TOO_MANY: &str =
        "expected five timers TR/Tw/Tc/Tr/Ta (HTTP log) or three Tw/Tc/Tt (TCP log)";
    const NOT_A_TIMER: &str =
        "expected the timers as milliseconds or -1 (TR/Tw/Tc/Tr/Ta, Tw/Tc/Tt)";
    let mut values = [None; 5];
    let mut count = 0;
    // The part being read: where it starts, its value, its digits, and
    // whether it is negative (a step that never happened).
    let (mut part_start, mut value, mut digits, mut never) = (0, 0u64, 0, false);
    for at in 0..=text.len() {
        let byte = text.get(at).copied();
        let sign_at = |offset: usize| at == part_start + offset;
        match byte {
            None | Some(b'/') => {
                let slot = values.get_mut(count).ok_or(LineError::new(TOO_MANY))?;
                if digits == 0 {
                    return Err(LineError::new(NOT_A_TIMER));
                }
                *slot = (!never).then_some(value);
                count += 1;
                (part_start, value, digits, never) = (at + 1, 0, 0, false);
            }
            Some(digit @ b'0'..=b'9') => {
                value = value
                    .saturating_mul(10)
                    .saturating_add(u64::from(digit - b'0'));
                digits += 1;
            }
            // `option logasap`'s `+` first, then the `-` of -1.
            Some(b'+') if sign_at(0) => {}
            Some(b'-') if !never && (sign_at(0) || (sign_at(1) && text[part_start] == b'+')) => {
                never = true;
            }
            Some(_) => {
                return Err(LineError::new(if count >= values.len() {
                    TOO_MANY
                } else {
                    NOT_A_TIMER
                }));
            }
        }
    }
    Ok((values, count))
}

/// The accept date `dd/Mon/yyyy:HH:MM:SS.mmm` (the fraction of any length
/// up to microseconds) as UTC milliseconds, the local time taken at
/// `offset_seconds` east of UTC.
#[inline]
fn accept_date(text: &[u8], offset_seconds: i32) -> Option<i64> {
    let seconds = text.get(..DATE_SECONDS_LEN)?;
    let fraction = text.get(DATE_SECONDS_LEN + 1..)?;
    if fraction.is_empty() || fraction.len() > 6 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // The CLF clock with a zero offset: one cached parser for both.
    let mut stamp = *b"01/Jan/1970:00:00:00 +0000";
    stamp[..DATE_SECONDS_LEN].copy_from_slice(seconds);
    let (utc_if_zero, _) = parse_clf_time(&stamp)?;
    // Milliseconds: the first three digits, missing ones as zeros.
    let millis = (0..3).fold(0i64, |acc, at| {
        acc * 10 + fraction.get(at).map_or(0, |&b| i64::from(b - b'0'))
    });
    Some(utc_if_zero + millis - i64::from(offset_seconds) * 1000)
}

/// The body after the syslog header: `client:port [date] frontend ...`.
fn parse_body(body: &[u8], offset_seconds: i32) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    let mut fields = Fields { rest: body };
    let client_port = fields.next("expected the client address:port")?;
    let client = match rfind_byte(b':', client_port) {
        Some(colon) if colon > 0 => &client_port[..colon],
        _ => client_port,
    };
    let logged_at = match fields.millisecond_date(offset_seconds) {
        Some(at) => at,
        None => {
            let date = fields.next("expected the accept date in brackets")?;
            let date = date
                .strip_prefix(b"[")
                .and_then(|d| d.strip_suffix(b"]"))
                .ok_or(LineError::new("expected the accept date in brackets"))?;
            accept_date(date, offset_seconds).ok_or(LineError::new(
                "expected an accept date such as [06/Feb/2009:12:14:14.655]",
            ))?
        }
    };
    let frontend = fields.next("expected the frontend name")?;
    // `frontend/bind: SSL handshake failure` and other connection messages
    // carry the client and date too.
    if frontend.ends_with(b":") {
        return Err(LineError::message(MESSAGE_REASON));
    }
    let upstream = fields.next("expected backend/server")?;
    let Some(slash) = upstream.iter().position(|&b| b == b'/') else {
        return Err(LineError::message(MESSAGE_REASON));
    };
    let server = &upstream[slash + 1..];
    let timers = fields.next("expected the timers TR/Tw/Tc/Tr/Ta or Tw/Tc/Tt")?;
    let (values, count) = read_timers(timers)?;
    let bad_timers = "expected five timers TR/Tw/Tc/Tr/Ta (HTTP log) or three Tw/Tc/Tt (TCP log)";
    match count {
        5 => parse_http(
            fields,
            client,
            logged_at,
            offset_seconds,
            upstream,
            server,
            values[4],
        ),
        3 => parse_tcp(
            fields,
            client,
            logged_at,
            offset_seconds,
            upstream,
            server,
            values[2],
        ),
        _ => Err(LineError::new(bad_timers)),
    }
}

/// The rest of an HTTP (or HTTPS) log line after the timers.
fn parse_http<'a>(
    mut fields: Fields<'a>,
    client: &'a [u8],
    logged_at: i64,
    offset_seconds: i32,
    upstream: &'a [u8],
    server: &'a [u8],
    active_ms: Option<u64>,
) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
    let status = match fields.status() {
        Some(code) => code,
        None => match timer(fields.next("expected the HTTP status")?) {
            Ok(Some(code)) if (100..=999).contains(&code) => code as u16,
            // No response was sent (the client went away first).
            Ok(None) => 0,
            _ => return Err(LineError::new("expected the HTTP status (3 digits or -1)")),
        },
    };
    let bytes = match fields.count() {
        Some(bytes) => Some(bytes),
        None => timer(fields.next("expected the bytes read")?)
            .map_err(|()| LineError::new("expected the bytes read as a number"))?,
    };
    // Cookies are nearly always not captured: `- `, skipped without a search.
    for expected in [
        "expected the captured request cookie",
        "expected the captured response cookie",
    ] {
        match fields.rest.strip_prefix(b"- ") {
            Some(after) => fields.rest = after,
            None => {
                fields.next(expected)?;
            }
        }
    }
    let state = fields.next("expected the termination state such as ----")?;
    if state.len() < 2 {
        return Err(LineError::new(
            "expected the termination state such as ----",
        ));
    }
    fields.next("expected the connection counts actconn/feconn/beconn/srvconn/retries")?;
    fields.next("expected the queues srv_queue/backend_queue")?;
    let mut rest = fields.rest;
    // Up to two blocks of captured headers: `{...}` (HAProxy encodes `}`
    // inside as `#7d`).
    for _ in 0..2 {
        let Some(after) = rest.strip_prefix(b"{") else {
            break;
        };
        let close = find_byte(b'}', after)
            .ok_or(LineError::new("expected '}' after the captured headers"))?;
        rest = after[close + 1..]
            .strip_prefix(b" ")
            .unwrap_or(&after[close + 1..]);
    }
    let quoted = rest
        .strip_prefix(b"\"")
        .ok_or(LineError::new("expected the request in double quotes"))?;
    // HAProxy encodes `"` inside as `#22`; a line cut by the syslog length
    // limit ends without the closing quote.
    let request = match find_byte(b'"', quoted) {
        Some(close) => &quoted[..close],
        None => quoted,
    };
    let mut record = AccessRecord::new(logged_at, offset_seconds, status);
    record.client = client;
    record.request = request;
    record.bytes = bytes;
    record.duration_us = active_ms.map(|ms| ms.saturating_mul(MICROS_PER_MILLI));
    record.upstream_addr = optional(upstream);
    record.termination = termination(state, server == NO_SERVER);
    // What follows the request is `option httpslog`'s TLS fields.
    Ok((record, &[]))
}

/// The rest of a TCP log line after the timers: a connection.
fn parse_tcp<'a>(
    mut fields: Fields<'a>,
    client: &'a [u8],
    logged_at: i64,
    offset_seconds: i32,
    upstream: &'a [u8],
    server: &'a [u8],
    total_ms: Option<u64>,
) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
    let bytes = timer(fields.next("expected the bytes read")?)
        .map_err(|()| LineError::new("expected the bytes read as a number"))?;
    let state = fields.next("expected the termination state such as --")?;
    if state.len() != 2 {
        return Err(LineError::new(
            "expected the two-character termination state such as --",
        ));
    }
    fields.next("expected the connection counts actconn/feconn/beconn/srvconn/retries")?;
    let queues = fields.next("expected the queues srv_queue/backend_queue")?;
    if !queues.contains(&b'/') {
        return Err(LineError::new(
            "expected the queues srv_queue/backend_queue",
        ));
    }
    let no_server = server == NO_SERVER;
    let mut record = AccessRecord::new(logged_at, offset_seconds, tcp_status(state, no_server));
    record.client = client;
    record.bytes = bytes;
    record.duration_us = total_ms.map(|ms| ms.saturating_mul(MICROS_PER_MILLI));
    record.upstream_addr = optional(upstream);
    record.termination = termination(state, no_server);
    Ok((record, fields.rest))
}

/// The status a TCP connection is counted with (see the module doc).
fn tcp_status(state: &[u8], no_server: bool) -> u16 {
    if no_server {
        return 503;
    }
    match state.first() {
        Some(b'S') => 502,
        Some(b's') => 504,
        Some(b'P') => 403,
        Some(b'R' | b'I' | b'D' | b'U' | b'K') => 503,
        _ => 200,
    }
}

/// The [`Termination`] of a termination state (`SC--`, `sH`): its first
/// character says who ended the session, the second in which phase; see
/// the table in [`crate::series::termination`]. `None` for a normal end
/// (`-`) and for an answer from HAProxy itself (`L`).
pub fn termination(state: &[u8], no_server: bool) -> Option<Termination> {
    let (&first, second) = (state.first()?, state.get(1).copied().unwrap_or(b'-'));
    let code = &state[..state.len().min(2)];
    let cause = match (first, second) {
        (b'S' | b's', _) if no_server => TerminationCause::NoServer,
        (b'C', _) => TerminationCause::ClientAborted,
        (b'c', _) => TerminationCause::ClientTimeout,
        (b'S' | b's', b'C') => TerminationCause::ConnectFailed,
        (b'S', _) => TerminationCause::ServerAborted,
        (b's', b'Q') => TerminationCause::Overflow,
        (b's', _) => TerminationCause::ServerTimeout,
        (b'P', _) | (_, b'T') => TerminationCause::ProxyDenied,
        (b'R', _) => TerminationCause::Overflow,
        (b'I' | b'D' | b'U' | b'K', _) => TerminationCause::ProxyKilled,
        _ => return None,
    };
    Some(Termination::new(cause, code))
}

#[cfg(test)]
mod tests;
