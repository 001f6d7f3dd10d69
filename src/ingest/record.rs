//! The access-log record every access parser returns ([`AccessRecord`]),
//! why a line did not parse ([`LineError`]), and the small nom and byte
//! helpers several parsers share (quoted fields, numbers, seconds with a
//! fraction, upstream lists). Parsers depend on this module; it depends on
//! no parser.

use memchr::memchr;
use nom::IResult;
use nom::error::{ContextError, ErrorKind, ParseError};

use crate::series::termination::Termination;
use crate::timefmt::Millis;

/// Why a line did not parse: a static description of what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineError {
    pub reason: &'static str,
    /// Raised by a nom combinator with no description of its own: a
    /// surrounding `context` replaces it; a specific reason is kept.
    generic: bool,
    /// The line is the server's own message in its access log (HAProxy's
    /// `Proxy www started.`), not a damaged request: ingest reads it as a
    /// syslog event instead of counting it as skipped.
    pub is_message: bool,
    /// The line is a header directive of its format (W3C's `#Fields:`)
    /// that the parser of the input must see ([`crate::ingest::access::AccessParser::apply_directive`]),
    /// or another line of the format's own that holds no request (HTTP.sys's
    /// connection timers): skipped by name, and a sign of the format when
    /// sniffing.
    pub is_directive: bool,
}

impl LineError {
    pub const fn new(reason: &'static str) -> Self {
        LineError {
            reason,
            generic: false,
            is_message: false,
            is_directive: false,
        }
    }

    /// A line that is the server's own message, not a request (see
    /// [`LineError::is_message`]).
    pub const fn message(reason: &'static str) -> Self {
        LineError {
            reason,
            generic: false,
            is_message: true,
            is_directive: false,
        }
    }

    /// A header directive (see [`LineError::is_directive`]).
    pub const fn directive(reason: &'static str) -> Self {
        LineError {
            reason,
            generic: false,
            is_message: false,
            is_directive: true,
        }
    }
}

impl<I> ParseError<I> for LineError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        LineError {
            reason: match kind {
                ErrorKind::Tag => "unexpected text",
                ErrorKind::Eof => "line ended early",
                _ => "unexpected byte",
            },
            generic: true,
            is_message: false,
            is_directive: false,
        }
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<I> ContextError<I> for LineError {
    fn add_context(_input: I, reason: &'static str, other: Self) -> Self {
        if other.generic {
            LineError::new(reason)
        } else {
            other
        }
    }
}

/// The result of a nom parser over the bytes of one line.
pub type ParseResult<'a, T> = IResult<&'a [u8], T, LineError>;

/// Fails with `reason`.
pub(crate) fn fail<T>(reason: &'static str) -> ParseResult<'static, T> {
    Err(nom::Err::Error(LineError::new(reason)))
}

/// The [`LineError`] inside a nom error.
pub(crate) fn flatten(error: nom::Err<LineError>) -> LineError {
    match error {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => LineError::new("line ended early"),
    }
}

/// One access-log request, borrowing from its line. Text fields are the raw
/// bytes of the line (escapes such as `\"`, `\x22` or JSON's `\u0022` are
/// kept): they are hashed and compared, never shown decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccessRecord<'a> {
    pub client: &'a [u8],
    /// `%u` / `$remote_user`; `-` when absent.
    pub remote_user: &'a [u8],
    /// The time written in the line, in UTC.
    pub logged_at: Millis,
    /// The offset written with it, seconds east of UTC.
    pub offset_seconds: i32,
    pub request: &'a [u8],
    pub status: u16,
    pub bytes: Option<u64>,
    pub referer: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub duration_us: Option<u64>,
    /// `logged_at` is the completion time (nginx), not the arrival.
    pub logged_at_completion: bool,
    /// The virtual host (`%v`, `$host`, Caddy `request.host`, Traefik
    /// `RequestHost`).
    pub host: Option<&'a [u8]>,
    /// The path of `request` as [`crate::series::paths::request_path`]
    /// reads it, when the parser read it with the line (the ALB's reader
    /// reads the URL once for its host and its path); `None` leaves it to
    /// the worker, which reads it from `request`.
    pub path: Option<&'a [u8]>,
    /// `$upstream_addr` as written: one address, or several separated by
    /// `, ` (retries) and ` : ` (internal redirects); see [`upstream_items`].
    pub upstream_addr: Option<&'a [u8]>,
    /// `$upstream_status`, a list aligned with `upstream_addr`.
    pub upstream_status: Option<&'a [u8]>,
    /// `$upstream_response_time` in seconds, a list aligned with
    /// `upstream_addr`.
    pub upstream_time: Option<&'a [u8]>,
    /// `$http_x_forwarded_for`.
    pub forwarded_for: Option<&'a [u8]>,
    /// The proxy's own account of how the request ended (HAProxy's
    /// termination state, Envoy's response flags), normalised; `None` for
    /// formats without one and for a normal end.
    pub termination: Option<Termination>,
}

/// Which optional fields a record carries a value for, as bits, so ingest
/// can report the fields an input has by OR-ing one byte per line.
pub mod field_bits {
    pub const REQUEST_TIME: u8 = 1;
    pub const UPSTREAM: u8 = 1 << 1;
    pub const USER_AGENT: u8 = 1 << 2;
    pub const REMOTE_USER: u8 = 1 << 3;
    pub const HOST: u8 = 1 << 4;
}

impl<'a> AccessRecord<'a> {
    /// A record with only the required fields set, for parsers that fill
    /// the rest as they find them.
    pub fn new(logged_at: Millis, offset_seconds: i32, status: u16) -> Self {
        AccessRecord {
            client: b"-",
            remote_user: b"-",
            logged_at,
            offset_seconds,
            request: b"-",
            status,
            bytes: None,
            referer: None,
            user_agent: None,
            duration_us: None,
            logged_at_completion: false,
            host: None,
            path: None,
            upstream_addr: None,
            upstream_status: None,
            upstream_time: None,
            forwarded_for: None,
            termination: None,
        }
    }

    /// The [`field_bits`] of the optional fields that have a value.
    #[inline]
    pub fn field_mask(&self) -> u8 {
        use field_bits::*;
        let mut mask = 0;
        if self.duration_us.is_some() {
            mask |= REQUEST_TIME;
        }
        if self.upstream_addr.is_some() {
            mask |= UPSTREAM;
        }
        if self.user_agent.is_some() {
            mask |= USER_AGENT;
        }
        if !self.remote_user.is_empty() && self.remote_user != b"-" {
            mask |= REMOTE_USER;
        }
        if self.host.is_some() {
            mask |= HOST;
        }
        mask
    }

    /// When the request arrived: the contract's "a request's time". nginx
    /// logs at completion, so its request time is subtracted.
    #[inline]
    pub fn arrival(&self) -> Millis {
        match (self.logged_at_completion, self.duration_us) {
            (true, Some(us)) => self.logged_at - (us / 1000) as i64,
            _ => self.logged_at,
        }
    }
}

/// Digits as an integer (saturating), at least one digit.
pub(crate) fn integer(input: &[u8]) -> ParseResult<'_, u64> {
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return fail("expected a number");
    }
    let value = input[..digits].iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Ok((&input[digits..], value))
}

/// Seconds with an optional fraction (`0.123`, `12`) to microseconds.
pub fn seconds_as_micros(input: &[u8]) -> ParseResult<'_, u64> {
    let (rest, whole) = integer(input)?;
    let Some(after_point) = rest.strip_prefix(b".") else {
        return Ok((rest, whole.saturating_mul(1_000_000)));
    };
    let digits = after_point
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let mut fraction = 0u64;
    for (position, &b) in after_point[..digits].iter().enumerate().take(6) {
        fraction += u64::from(b - b'0') * 10u64.pow(5 - position as u32);
    }
    Ok((
        &after_point[digits..],
        whole.saturating_mul(1_000_000).saturating_add(fraction),
    ))
}

/// An address without its port: `10.0.0.1:5000` is `10.0.0.1`,
/// `[2001:db8::1]:443` is `2001:db8::1`; a bare IPv6 address (several
/// colons) or a name without a port is kept whole.
#[inline]
pub fn strip_port(address: &[u8]) -> &[u8] {
    if let Some(inner) = address.strip_prefix(b"[") {
        return match memchr(b']', inner) {
            Some(end) => &inner[..end],
            None => address,
        };
    }
    let mut colons = memchr::memchr_iter(b':', address);
    match (colons.next(), colons.next()) {
        (Some(colon), None) if address[colon + 1..].iter().all(u8::is_ascii_digit) => {
            &address[..colon]
        }
        _ => address,
    }
}

/// Microseconds in a second.
pub const MICROS_PER_SECOND: u64 = 1_000_000;

/// Marks the errors of `parser` as generic, so the surrounding `context`
/// names what was expected.
pub(crate) fn generic<'a, O>(
    mut parser: impl FnMut(&'a [u8]) -> ParseResult<'a, O>,
) -> impl FnMut(&'a [u8]) -> ParseResult<'a, O> {
    move |input| {
        parser(input).map_err(|e| {
            e.map(|mut error| {
                error.generic = true;
                error
            })
        })
    }
}

/// The value of the digits `text` starts with and how many there are. The
/// value wraps past 19 digits (a `u64` holds any 19): callers refuse longer
/// numbers or read them again saturating.
#[inline]
pub(crate) fn leading_digits(text: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    let mut len = 0;
    for &byte in text {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        len += 1;
    }
    (value, len)
}

/// Whether a field of `len` bytes at the start of `rest` ends there: a
/// space or the end of the line follows (the fast readers' check that a
/// field of a fixed shape is the whole field).
#[inline]
pub(crate) fn field_ends_at(rest: &[u8], len: usize) -> bool {
    matches!(rest.get(len), None | Some(b' '))
}

/// `-` or empty is no value, as access logs write an absent optional field.
#[inline]
pub(crate) fn optional(field: &[u8]) -> Option<&[u8]> {
    (!field.is_empty() && field != b"-").then_some(field)
}

/// The position of the first double quote not escaped by a backslash
/// (Apache writes `\"` inside a quoted field).
#[inline]
pub(crate) fn closing_quote(input: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = crate::scan::find_byte(b'"', &input[from..]) {
        let at = from + found;
        let backslashes = input[..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The items of an nginx upstream list (`$upstream_addr`, `$upstream_status`,
/// `$upstream_response_time`): one per upstream tried, separated by `, `
/// between the tries of one group and by ` : ` between groups after an
/// internal redirect. Items hold no spaces or commas; a colon only inside
/// (`10.0.0.1:80`, `unix:/run/app.sock`).
pub fn upstream_items(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    let is_separator = |b: &u8| matches!(b, b',' | b' ' | b':');
    let mut rest = list;
    std::iter::from_fn(move || {
        let start = rest.iter().position(|b| !is_separator(b))?;
        let item = &rest[start..];
        // One vector search, not a byte loop: the upstream of a proxy's
        // line (`www/app4`, `10.0.1.13:8080`) is read on every line.
        let end = crate::scan::find_byte2(b',', b' ', item).unwrap_or(item.len());
        rest = &item[end..];
        Some(&item[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_lists_split_into_items() {
        let cases: [(&str, &str, &[&str]); 4] = [
            ("one", "10.0.0.1:80", &["10.0.0.1:80"]),
            (
                "retries",
                "10.0.0.1:80, 10.0.0.2:80",
                &["10.0.0.1:80", "10.0.0.2:80"],
            ),
            (
                "internal redirect to a socket",
                "10.0.0.1:80, 10.0.0.2:80 : unix:/run/app.sock",
                &["10.0.0.1:80", "10.0.0.2:80", "unix:/run/app.sock"],
            ),
            ("statuses", "502, 504 : 200", &["502", "504", "200"]),
        ];
        for (name, list, expected) in cases {
            let items: Vec<&[u8]> = upstream_items(list.as_bytes()).collect();
            let expected: Vec<&[u8]> = expected.iter().map(|e| e.as_bytes()).collect();
            assert_eq!(items, expected, "{name}");
        }
    }

    #[test]
    fn ports_are_stripped_from_addresses() {
        let cases = [
            ("IPv4 with port", "10.0.0.1:5000", "10.0.0.1"),
            ("IPv4 alone", "10.0.0.1", "10.0.0.1"),
            (
                "IPv6 in brackets with port",
                "[2001:db8::1]:443",
                "2001:db8::1",
            ),
            ("bare IPv6", "2001:db8::1", "2001:db8::1"),
            ("name with port", "web:80", "web"),
            (
                "colon without digits kept",
                "unix:/run/a.sock",
                "unix:/run/a.sock",
            ),
        ];
        for (name, address, expected) in cases {
            assert_eq!(
                strip_port(address.as_bytes()),
                expected.as_bytes(),
                "{name}"
            );
        }
    }

    #[test]
    fn seconds_parse_with_fractions() {
        let cases = [
            ("0.123", 123_000),
            ("12", 12_000_000),
            ("1.5", 1_500_000),
            ("0.0000019", 1),
        ];
        for (text, expected) in cases {
            let (_, us) = seconds_as_micros(text.as_bytes()).expect(text);
            assert_eq!(us, expected, "{text}");
        }
    }
}
