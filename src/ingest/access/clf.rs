//! Access-log records, the [`AccessParser`] ingest calls for every line, and
//! the nom parsers of the NCSA/Apache/nginx family (`common`, `combined`,
//! `vcombined`, nginx `main`, each optionally followed by a request time).
//! Templates (`--log-format`, ingress-nginx) live in [`super::logformat`],
//! JSON lines in [`super::jsonlines`].
//!
//! Parsers borrow: an [`AccessRecord`] points into the line it came from and
//! nothing is allocated per line. A line that does not fit the layout yields a
//! [`LineError`] naming what was expected where, which ingest counts and
//! samples; it is never fatal.

use std::sync::Arc;

use memchr::memchr;
use nom::bytes::complete::{tag, take_while1};
use nom::error::{ContextError, ErrorKind, ParseError, context};
use nom::{IResult, Parser};

use super::jsonlines;
use super::logformat::Template;

use crate::timefmt::{MS_PER_SECOND, Millis, days_from_civil, days_in_month, month_from_abbrev};

/// Why a line did not parse: a static description of what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineError {
    pub reason: &'static str,
    /// Raised by a nom combinator with no description of its own: a
    /// surrounding `context` replaces it; a specific reason is kept.
    generic: bool,
}

impl LineError {
    pub const fn new(reason: &'static str) -> Self {
        LineError {
            reason,
            generic: false,
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

type ParseResult<'a, T> = IResult<&'a [u8], T, LineError>;

fn fail<T>(reason: &'static str) -> ParseResult<'static, T> {
    Err(nom::Err::Error(LineError::new(reason)))
}

fn flatten(error: nom::Err<LineError>) -> LineError {
    match error {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => LineError::new("line ended early"),
    }
}

/// The request-time field that may follow a layout, and its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationField {
    None,
    /// nginx `$request_time`: seconds with a millisecond fraction.
    Seconds,
    /// Apache `%D`: whole microseconds.
    Micros,
    /// Apache `%T`: whole seconds.
    WholeSeconds,
}

impl DurationField {
    /// Whether the field is a bare integer whose unit (`%D` or `%T`) must be
    /// told from the magnitude of the values (see `sniff`).
    pub fn is_integer(self) -> bool {
        matches!(self, DurationField::Micros | DurationField::WholeSeconds)
    }
}

/// A layout of the CLF family: which fields surround the common core
/// `%h %l %u %t "%r" %>s %b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClfLayout {
    /// A virtual host (`%v` or `%v:%p`) before the client (Apache
    /// `vhost_combined`).
    pub vhost: bool,
    /// `"referer" "user agent"` after the byte count (combined).
    pub referer_agent: bool,
    /// `"$http_x_forwarded_for"` after the user agent (nginx `main`).
    pub forwarded_for: bool,
    pub duration: DurationField,
}

impl ClfLayout {
    /// `common`: the core alone.
    pub const COMMON: ClfLayout = ClfLayout {
        vhost: false,
        referer_agent: false,
        forwarded_for: false,
        duration: DurationField::None,
    };

    /// `combined`: the core, referer and user agent.
    pub const COMBINED: ClfLayout = ClfLayout {
        referer_agent: true,
        ..ClfLayout::COMMON
    };

    /// This layout followed by a request time.
    pub const fn with_duration(self, duration: DurationField) -> ClfLayout {
        ClfLayout { duration, ..self }
    }
}

impl ClfLayout {
    /// Whether the logged time is when the request completed (nginx, which is
    /// what a fractional-seconds request time reveals) rather than when it
    /// arrived (Apache's `%t`).
    pub fn logs_completion(&self) -> bool {
        self.duration == DurationField::Seconds
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
            upstream_addr: None,
            upstream_status: None,
            upstream_time: None,
            forwarded_for: None,
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

/// A non-empty run of bytes up to the next space.
fn token(input: &[u8]) -> ParseResult<'_, &[u8]> {
    let end = memchr(b' ', input).unwrap_or(input.len());
    if end == 0 {
        return Err(nom::Err::Error(LineError::from_error_kind(
            input,
            ErrorKind::TakeWhile1,
        )));
    }
    Ok((&input[end..], &input[..end]))
}

fn spaces(input: &[u8]) -> ParseResult<'_, &[u8]> {
    context(
        "expected a space between fields",
        take_while1(|b| b == b' '),
    )
    .parse(input)
}

/// A `"..."` field; backslash-escaped quotes (Apache's `\"`) stay inside.
/// Returns the raw content between the quotes.
fn quoted(input: &[u8]) -> ParseResult<'_, &[u8]> {
    let (body, _) = tag(&b"\""[..]).parse(input)?;
    let mut from = 0;
    while let Some(found) = memchr(b'"', &body[from..]) {
        let at = from + found;
        let backslashes = body[..at].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Ok((&body[at + 1..], &body[..at]));
        }
        from = at + 1;
    }
    fail("unterminated quoted field")
}

#[inline]
fn two_digits(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

/// Length of the date part `10/Oct/2000` of a CLF timestamp.
const CLF_DATE_LEN: usize = 11;

thread_local! {
    /// The last date part parsed on this thread and its day number: nearly
    /// every line of a log repeats the date of the line before, so the date
    /// is parsed and validated once per day of log, not once per line. It
    /// starts with a valid date (day 0), so a hit is always a valid date.
    static LAST_CLF_DATE: std::cell::Cell<([u8; CLF_DATE_LEN], i64)> =
        const { std::cell::Cell::new((*b"01/Jan/1970", 0)) };
}

/// Days since 1970-01-01 of a CLF date `10/Oct/2000`, validated.
fn clf_date_days(date: &[u8; CLF_DATE_LEN]) -> Option<i64> {
    let (cached, days) = LAST_CLF_DATE.with(std::cell::Cell::get);
    if cached == *date {
        return Some(days);
    }
    if date[2] != b'/' || date[6] != b'/' {
        return None;
    }
    let day = two_digits(&date[0..2])?;
    let month = month_from_abbrev(&date[3..6])?;
    let year = i64::from(two_digits(&date[7..9])? * 100 + two_digits(&date[9..11])?);
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    LAST_CLF_DATE.with(|last| last.set((*date, days)));
    Some(days)
}

/// Length of a whole CLF timestamp `10/Oct/2000:13:55:36 -0700`.
const CLF_TIME_LEN: usize = 26;

thread_local! {
    /// The last whole timestamp parsed on this thread and its value: a busy
    /// log writes many lines per second, so most lines repeat the stamp of
    /// the line before. It starts with a valid stamp, so a hit is valid.
    static LAST_CLF_TIME: std::cell::Cell<([u8; CLF_TIME_LEN], Millis, i32)> =
        const { std::cell::Cell::new((*b"01/Jan/1970:00:00:00 +0000", 0, 0)) };
}

/// Parses the fixed CLF timestamp `10/Oct/2000:13:55:36 -0700` by hand.
/// Returns the UTC instant and the offset in seconds east of UTC.
pub fn parse_clf_time(text: &[u8]) -> Option<(Millis, i32)> {
    let stamp = <&[u8; CLF_TIME_LEN]>::try_from(text).ok()?;
    let (last, at, offset) = LAST_CLF_TIME.with(std::cell::Cell::get);
    if last == *stamp {
        return Some((at, offset));
    }
    let parsed = parse_clf_time_uncached(stamp)?;
    LAST_CLF_TIME.with(|last| last.set((*stamp, parsed.0, parsed.1)));
    Some(parsed)
}

fn parse_clf_time_uncached(text: &[u8; CLF_TIME_LEN]) -> Option<(Millis, i32)> {
    let (Ok(date), Some(clock)) = (
        <&[u8; CLF_DATE_LEN]>::try_from(&text[..CLF_DATE_LEN]),
        text.get(CLF_DATE_LEN..),
    ) else {
        return None;
    };
    if clock[0] != b':' || clock[3] != b':' || clock[6] != b':' || clock[9] != b' ' {
        return None;
    }
    let days = clf_date_days(date)?;
    let hour = two_digits(&clock[1..3])?;
    let minute = two_digits(&clock[4..6])?;
    let second = two_digits(&clock[7..9])?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let sign = match clock[10] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_hours = two_digits(&clock[11..13])?;
    let offset_minutes = two_digits(&clock[13..15])?;
    if offset_hours > 18 || offset_minutes > 59 {
        return None;
    }
    let offset = sign * (offset_hours * 3600 + offset_minutes * 60) as i32;
    let local_seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(((local_seconds - i64::from(offset)) * MS_PER_SECOND, offset))
}

/// Digits as an unsigned number, `None` when empty, not all digits or too
/// long for `u64`.
#[inline]
fn all_digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 18 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')),
    )
}

/// The first three digits of a decimal fraction as milliseconds (`5` is
/// 500 ms, `123456789` is 123 ms); `None` when not all digits.
fn fraction_millis(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(3)
            .fold(0i64, |acc, &b| acc * 10 + i64::from(b - b'0')),
    )
}

/// Parses an ISO 8601 / RFC 3339 time as nginx's `$time_iso8601`, Traefik
/// and most JSON logs write it: `2023-11-12T14:00:03+01:00`, with `Z`,
/// `+0100` or `+01`, a fraction of any length, or a space instead of the `T`.
/// A time without a zone is taken as UTC. Returns the UTC instant and the
/// offset in seconds east of UTC.
pub fn parse_iso8601(text: &[u8]) -> Option<(Millis, i32)> {
    if text.len() < 19
        || text[4] != b'-'
        || text[7] != b'-'
        || !matches!(text[10], b'T' | b't' | b' ')
        || text[13] != b':'
        || text[16] != b':'
    {
        return None;
    }
    let year = i64::from(two_digits(&text[0..2])? * 100 + two_digits(&text[2..4])?);
    let month = two_digits(&text[5..7])?;
    let day = two_digits(&text[8..10])?;
    let hour = two_digits(&text[11..13])?;
    let minute = two_digits(&text[14..16])?;
    let second = two_digits(&text[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(after_point) = rest.strip_prefix(b".").or_else(|| rest.strip_prefix(b",")) {
        let digits = after_point
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        millis = fraction_millis(&after_point[..digits])?;
        rest = &after_point[digits..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let (hours, minutes) = match zone {
                [h1, h2] => (two_digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (two_digits(&[*h1, *h2])?, two_digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if hours > 18 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 3600 + minutes * 60) as i32;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let local_seconds =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some((
        (local_seconds - i64::from(offset)) * MS_PER_SECOND + millis,
        offset,
    ))
}

/// Parses seconds since the epoch with an optional fraction, as nginx's
/// `$msec` (`1699797603.123`) and Caddy's `ts` (`1699797603.1234567`) write
/// them, to milliseconds. Exponent forms (`1.6997976e9`) go through `f64`.
pub fn parse_epoch_seconds(text: &[u8]) -> Option<Millis> {
    let (whole, fraction) = match memchr(b'.', text) {
        Some(point) => (&text[..point], &text[point + 1..]),
        None => (text, &b""[..]),
    };
    let millis = if fraction.is_empty() {
        Some(0)
    } else {
        fraction_millis(fraction)
    };
    if let (Some(seconds), Some(millis)) = (all_digits(whole), millis) {
        return i64::try_from(seconds)
            .ok()?
            .checked_mul(MS_PER_SECOND)?
            .checked_add(millis)
            .and_then(crate::timefmt::writable);
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (value.is_finite() && value.abs() < 1e14)
        .then(|| (value * 1000.0).round() as Millis)
        .and_then(crate::timefmt::writable)
}

fn clf_time(input: &[u8]) -> ParseResult<'_, (Millis, i32)> {
    let (rest, _) = context("expected '[' before the timestamp", tag(&b"["[..])).parse(input)?;
    let end = match memchr(b']', rest) {
        Some(end) => end,
        None => return fail("expected ']' after the timestamp"),
    };
    match parse_clf_time(&rest[..end]) {
        Some(time) => Ok((&rest[end + 1..], time)),
        None => fail("expected a timestamp like 10/Oct/2000:13:55:36 -0700"),
    }
}

fn status(input: &[u8]) -> ParseResult<'_, u16> {
    match input {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..]
            if rest.first().is_none_or(|&b| b == b' ') =>
        {
            let value = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            Ok((rest, value))
        }
        _ => fail("expected a three-digit status"),
    }
}

/// Digits as an integer (saturating), at least one digit.
fn integer(input: &[u8]) -> ParseResult<'_, u64> {
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return fail("expected a number");
    }
    let value = input[..digits].iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Ok((&input[digits..], value))
}

fn byte_count(input: &[u8]) -> ParseResult<'_, Option<u64>> {
    if let Some(rest) = input.strip_prefix(b"-") {
        return Ok((rest, None));
    }
    context("expected a byte count or '-'", generic(integer))
        .parse(input)
        .map(|(rest, n)| (rest, Some(n)))
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

fn duration(input: &[u8], field: DurationField) -> ParseResult<'_, Option<u64>> {
    match field {
        DurationField::None => Ok((input, None)),
        DurationField::Seconds => {
            let (rest, _) = spaces(input)?;
            if let Some(rest) = rest.strip_prefix(b"-") {
                return Ok((rest, None));
            }
            context(
                "expected a request time in seconds",
                generic(seconds_as_micros),
            )
            .parse(rest)
            .map(|(rest, us)| (rest, Some(us)))
        }
        DurationField::Micros => {
            let (rest, _) = spaces(input)?;
            if let Some(rest) = rest.strip_prefix(b"-") {
                return Ok((rest, None));
            }
            context("expected a request time in microseconds", generic(integer))
                .parse(rest)
                .map(|(rest, us)| (rest, Some(us)))
        }
        DurationField::WholeSeconds => {
            let (rest, _) = spaces(input)?;
            if let Some(rest) = rest.strip_prefix(b"-") {
                return Ok((rest, None));
            }
            context("expected a request time in whole seconds", generic(integer))
                .parse(rest)
                .map(|(rest, seconds)| (rest, Some(seconds.saturating_mul(MICROS_PER_SECOND))))
        }
    }
}

/// Microseconds in a second.
pub const MICROS_PER_SECOND: u64 = 1_000_000;

/// Marks the errors of `parser` as generic, so the surrounding `context`
/// names what was expected.
fn generic<'a, O>(
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

fn optional(field: &[u8]) -> Option<&[u8]> {
    (!field.is_empty() && field != b"-").then_some(field)
}

fn parse_clf_inner<'a>(line: &'a [u8], layout: &ClfLayout) -> ParseResult<'a, AccessRecord<'a>> {
    // Well-formed lines take the hand-written path; the combinators below
    // read the rest and name what was expected.
    if let Some(parsed) = super::clf_fast::parse(line, layout) {
        return Ok(parsed);
    }
    let (mut rest, mut host) = (line, None);
    if layout.vhost {
        let (r, vhost) = context("expected the virtual host", token).parse(rest)?;
        let (r, _) = spaces(r)?;
        host = optional(vhost);
        rest = r;
    }
    let (rest, client) = context("expected the client address", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, ident) = context("expected the ident field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, remote_user) = context("expected the user field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, (logged_at, offset_seconds)) = clf_time(rest).map_err(|error| {
        // A line without the ident and user fields reads the timestamp as
        // them: say what is missing rather than where the '[' is.
        if ident.starts_with(b"[") {
            nom::Err::Error(LineError::new(
                "expected the ident and user fields ('-' when absent) before the timestamp",
            ))
        } else {
            error
        }
    })?;
    let (rest, _) = spaces(rest)?;
    let (rest, request) = context("expected the quoted request", quoted).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, status) = status(rest)?;
    let (rest, _) = spaces(rest)?;
    let (mut rest, bytes) = byte_count(rest)?;
    let (mut referer, mut user_agent, mut forwarded_for) = (None, None, None);
    if layout.referer_agent {
        let (r, _) = spaces(rest)?;
        let (r, referer_field) = context("expected the quoted referer", quoted).parse(r)?;
        let (r, _) = spaces(r)?;
        let (r, agent_field) = context("expected the quoted user agent", quoted).parse(r)?;
        referer = optional(referer_field);
        user_agent = optional(agent_field);
        rest = r;
        if layout.forwarded_for {
            let (r, _) = spaces(rest)?;
            let (r, forwarded_field) =
                context("expected the quoted X-Forwarded-For", quoted).parse(r)?;
            forwarded_for = optional(forwarded_field);
            rest = r;
        }
    }
    let (rest, duration_us) = duration(rest, layout.duration)?;
    Ok((
        rest,
        AccessRecord {
            client,
            remote_user,
            logged_at,
            offset_seconds,
            request,
            status,
            bytes,
            referer,
            user_agent,
            duration_us,
            logged_at_completion: layout.logs_completion(),
            host,
            upstream_addr: None,
            upstream_status: None,
            upstream_time: None,
            forwarded_for,
        },
    ))
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
        let end = item
            .iter()
            .position(|&b| b == b',' || b == b' ')
            .unwrap_or(item.len());
        rest = &item[end..];
        Some(&item[..end])
    })
}

/// A compiled access-log parser: what ingest calls for every line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessParser {
    /// The hand-tuned nom parser of the CLF family: the hot path.
    Clf(ClfLayout),
    /// An nginx `log_format` or Apache `LogFormat` compiled once.
    Template(Arc<Template>),
    /// One JSON object per line (nginx `escape=json`, Caddy, Traefik).
    Json,
}

impl AccessParser {
    /// Parses one line (without its line ending), ignoring fields that
    /// follow the last one the format defines.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<AccessRecord<'a>, LineError> {
        match self {
            AccessParser::Clf(layout) => parse_clf(line, layout).map(|(record, _)| record),
            AccessParser::Template(template) => template.parse(line).map(|(record, _)| record),
            AccessParser::Json => jsonlines::parse(line).map(|(record, _)| record),
        }
    }

    /// Like [`AccessParser::parse`], and whether the whole line was used
    /// (nothing but white space left over): sniffing prefers formats that
    /// explain the whole line, and the per-line fallback only takes those.
    pub fn parse_exact<'a>(&self, line: &'a [u8]) -> Result<(AccessRecord<'a>, bool), LineError> {
        let (record, rest) = match self {
            AccessParser::Clf(layout) => parse_clf(line, layout)?,
            AccessParser::Template(template) => template.parse(line)?,
            AccessParser::Json => jsonlines::parse(line)?,
        };
        Ok((record, rest.iter().all(u8::is_ascii_whitespace)))
    }

    /// Whether the format has a request-time field.
    pub fn has_request_time(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.duration != DurationField::None,
            AccessParser::Template(template) => template.has_request_time(),
            AccessParser::Json => true,
        }
    }

    /// Whether the format has a user-agent field.
    pub fn has_user_agent(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.referer_agent,
            AccessParser::Template(template) => template.has_user_agent(),
            AccessParser::Json => true,
        }
    }
}

/// Parses one line (without its line ending) in `layout`. Returns the record
/// and whatever follows the last field of the layout (extra fields some
/// configurations append), which the caller may ignore.
pub fn parse_clf<'a>(
    line: &'a [u8],
    layout: &ClfLayout,
) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
    parse_clf_inner(line, layout)
        .map(|(rest, record)| (record, rest))
        .map_err(flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: ClfLayout = ClfLayout::COMBINED;
    const COMMON: ClfLayout = ClfLayout::COMMON;
    const NGINX_TIMED: ClfLayout = ClfLayout::COMBINED.with_duration(DurationField::Seconds);
    const APACHE_MICROS: ClfLayout = ClfLayout::COMBINED.with_duration(DurationField::Micros);
    const APACHE_SECONDS: ClfLayout =
        ClfLayout::COMBINED.with_duration(DurationField::WholeSeconds);
    const VCOMBINED_MICROS: ClfLayout = ClfLayout {
        vhost: true,
        ..APACHE_MICROS
    };
    const NGINX_MAIN: ClfLayout = ClfLayout {
        forwarded_for: true,
        ..ClfLayout::COMBINED
    };

    #[test]
    fn clf_timestamps_parse_to_utc() {
        let cases = [
            (
                "apache docs example",
                "10/Oct/2000:13:55:36 -0700",
                Some((971_211_336_000, -25_200)),
            ),
            (
                "seed 003 start",
                "12/Nov/2023:14:00:03 +0000",
                Some((1_699_797_603_000, 0)),
            ),
            (
                "half-hour zone",
                "01/Jan/2020:00:00:00 +0530",
                Some((1_577_817_000_000, 19_800)),
            ),
            (
                "leap day",
                "29/Feb/2024:12:00:00 +0000",
                Some((1_709_208_000_000, 0)),
            ),
            ("not a leap day", "29/Feb/2023:12:00:00 +0000", None),
            ("bad month", "10/Foo/2000:13:55:36 -0700", None),
            ("no zone", "10/Oct/2000:13:55:36", None),
            ("hour 24", "10/Oct/2000:24:00:00 +0000", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse_clf_time(text.as_bytes()), expected, "{name}");
        }
    }

    #[test]
    fn lines_parse_into_fields() {
        struct Case {
            name: &'static str,
            line: &'static [u8],
            layout: ClfLayout,
            client: &'static str,
            status: u16,
            bytes: Option<u64>,
            agent: Option<&'static [u8]>,
            host: Option<&'static str>,
            forwarded_for: Option<&'static str>,
            duration_us: Option<u64>,
            arrival: Millis,
        }
        let cases = [
            Case {
                name: "apache common",
                line: br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                layout: COMMON,
                client: "127.0.0.1",
                status: 200,
                bytes: Some(2326),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 971_211_336_000,
            },
            Case {
                name: "combined with dash bytes",
                line: br#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 304 - "-" "curl/8.0""#,
                layout: COMBINED,
                client: "10.0.0.1",
                status: 304,
                bytes: None,
                agent: Some(b"curl/8.0"),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "nginx request time is subtracted",
                line: br#"2001:db8::1 - - [12/Nov/2023:14:00:03 +0000] "GET /api HTTP/2.0" 504 167 "https://example.com/" "Mozilla/5.0 (X11)" 60.001"#,
                layout: NGINX_TIMED,
                client: "2001:db8::1",
                status: 504,
                bytes: Some(167),
                agent: Some(b"Mozilla/5.0 (X11)"),
                duration_us: Some(60_001_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000 - 60_001,
            },
            Case {
                name: "apache microseconds keep the arrival",
                line: br#"10.0.0.2 - - [27/Mar/2022:15:30:02 +0100] "POST /cart HTTP/1.1" 500 512 "-" "Mozilla/5.0" 123456"#,
                layout: APACHE_MICROS,
                client: "10.0.0.2",
                status: 500,
                bytes: Some(512),
                agent: Some(b"Mozilla/5.0"),
                duration_us: Some(123_456),
                host: None,
                forwarded_for: None,
                arrival: 1_648_391_402_000,
            },
            Case {
                name: "escaped quote inside the request",
                line: br#"10.0.0.3 - - [12/Nov/2023:14:00:03 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "ua\"x""#,
                layout: COMBINED,
                client: "10.0.0.3",
                status: 200,
                bytes: Some(1),
                agent: Some(br#"ua\"x"#),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "lnav vhost:port with ident, user, HTTP/2.0 and %D",
                line: br#"localhost:443 178.20.184.42 1j0vhgd jsmith [26/Jul/2023:00:01:26 -0700] "GET /secure/RapidBoard.jspa?rapidView=1295 HTTP/2.0" 200 17163 "-" "Mozilla/5.0" 116075"#,
                layout: VCOMBINED_MICROS,
                client: "178.20.184.42",
                status: 200,
                bytes: Some(17163),
                agent: Some(b"Mozilla/5.0"),
                duration_us: Some(116_075),
                host: Some("localhost:443"),
                forwarded_for: None,
                arrival: 1_690_354_886_000,
            },
            Case {
                name: "nginx main with a forwarded-for list",
                line: br#"10.0.0.4 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 3 "-" "curl/8" "203.0.113.5, 10.0.0.9""#,
                layout: NGINX_MAIN,
                client: "10.0.0.4",
                status: 200,
                bytes: Some(3),
                agent: Some(b"curl/8"),
                duration_us: None,
                host: None,
                forwarded_for: Some("203.0.113.5, 10.0.0.9"),
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "apache %T in whole seconds",
                line: br#"10.0.0.5 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 503 0 "-" "ua" 31"#,
                layout: APACHE_SECONDS,
                client: "10.0.0.5",
                status: 503,
                bytes: Some(0),
                agent: Some(b"ua"),
                duration_us: Some(31_000_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "request '-' with status 400 (lnav)",
                line: br#"10.112.81.15 - - [15/Feb/2013:06:00:31 +0000] "-" 400 0 "-" "-""#,
                layout: COMBINED,
                client: "10.112.81.15",
                status: 400,
                bytes: Some(0),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_360_908_031_000,
            },
            Case {
                name: "scanner garbage with nginx \\x escapes in the request",
                line: br#"192.0.2.7 - - [12/Nov/2023:14:00:03 +0000] "\x16\x03\x01\x00\xA5\x01" 400 157 "-" "-""#,
                layout: COMBINED,
                client: "192.0.2.7",
                status: 400,
                bytes: Some(157),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "nginx \\x22 inside the user agent, HTTP/3",
                line: br#"2001:db8:85a3::8a2e:370:7334 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/3" 200 1 "-" "say \x22hi\x22" 0.001"#,
                layout: NGINX_TIMED,
                client: "2001:db8:85a3::8a2e:370:7334",
                status: 200,
                bytes: Some(1),
                agent: Some(br#"say \x22hi\x22"#),
                duration_us: Some(1_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000 - 1,
            },
            Case {
                name: "raw bytes that are not UTF-8",
                line: b"10.0.0.6 - - [12/Nov/2023:14:00:03 +0000] \"GET /\xff\xfe HTTP/1.1\" 200 1 \"-\" \"bot \xc3\x28\"",
                layout: COMBINED,
                client: "10.0.0.6",
                status: 200,
                bytes: Some(1),
                agent: Some(b"bot \xc3\x28"),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
        ];
        for case in cases {
            let (record, _) = parse_clf(case.line, &case.layout)
                .unwrap_or_else(|e| panic!("{}: {}", case.name, e.reason));
            assert_eq!(record.client, case.client.as_bytes(), "{}", case.name);
            assert_eq!(record.status, case.status, "{}", case.name);
            assert_eq!(record.bytes, case.bytes, "{}", case.name);
            assert_eq!(record.user_agent, case.agent, "{}", case.name);
            assert_eq!(record.duration_us, case.duration_us, "{}", case.name);
            assert_eq!(record.host, case.host.map(str::as_bytes), "{}", case.name);
            assert_eq!(
                record.forwarded_for,
                case.forwarded_for.map(str::as_bytes),
                "{}",
                case.name
            );
            assert_eq!(record.arrival(), case.arrival, "{}", case.name);
        }
    }

    #[test]
    fn malformed_lines_name_what_was_expected() {
        let cases = [
            ("empty", "", COMBINED, "expected the client address"),
            (
                "no bracket",
                "1.2.3.4 - - 10/Oct/2000:13:55:36 -0700 \"GET /\" 200 1",
                COMMON,
                "expected '[' before the timestamp",
            ),
            (
                "ident and user missing (lnav bad access log)",
                "1.2.3.4 [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
                COMMON,
                "expected the ident and user fields ('-' when absent) before the timestamp",
            ),
            (
                "bad time",
                "1.2.3.4 - - [10/Oct/2000:13:55 -0700] \"GET /\" 200 1",
                COMMON,
                "expected a timestamp like 10/Oct/2000:13:55:36 -0700",
            ),
            (
                "unterminated request",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / 200 1",
                COMMON,
                "unterminated quoted field",
            ),
            (
                "bad status",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" OK 1",
                COMMON,
                "expected a three-digit status",
            ),
            (
                "missing agent",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\"",
                COMBINED,
                "expected a space between fields",
            ),
            (
                "missing request time",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\" \"ua\" x",
                NGINX_TIMED,
                "expected a request time in seconds",
            ),
        ];
        for (name, line, layout, reason) in cases {
            let error = parse_clf(line.as_bytes(), &layout).expect_err(name);
            assert_eq!(error.reason, reason, "{name}");
        }
    }

    #[test]
    fn iso8601_times_parse_to_utc() {
        let cases = [
            (
                "nginx $time_iso8601",
                "2023-11-12T15:00:03+01:00",
                Some((1_699_797_603_000, 3600)),
            ),
            (
                "traefik nanoseconds with Z",
                "2023-11-12T14:00:03.123456789Z",
                Some((1_699_797_603_123, 0)),
            ),
            (
                "compact offset and space",
                "2023-11-12 08:30:03.5-0530",
                Some((1_699_797_603_500, -19_800)),
            ),
            (
                "hour-only offset",
                "2023-11-12T16:00:03+02",
                Some((1_699_797_603_000, 7200)),
            ),
            (
                "no zone is UTC",
                "2023-11-12T14:00:03",
                Some((1_699_797_603_000, 0)),
            ),
            ("bad day", "2023-02-30T14:00:03Z", None),
            ("garbage after the zone", "2023-11-12T14:00:03Zjunk", None),
            ("too short", "2023-11-12T14:00", None),
            ("CLF is not ISO", "12/Nov/2023:14:00:03 +0000", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse_iso8601(text.as_bytes()), expected, "{name}");
        }
    }

    #[test]
    fn epoch_seconds_parse_to_millis() {
        let cases = [
            ("nginx $msec", "1699797603.123", Some(1_699_797_603_123)),
            ("caddy ts", "1699797603.1234567", Some(1_699_797_603_123)),
            ("whole", "1699797603", Some(1_699_797_603_000)),
            ("exponent", "1.6997976035e9", Some(1_699_797_603_500)),
            ("text", "soon", None),
            ("empty fraction digits", "1699797603.x", None),
            (
                "last second of 9999",
                "253402300799.999",
                Some(253_402_300_799_999),
            ),
            ("year 10000", "253402300800", None),
            ("exponent beyond 9999", "9.9e13", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse_epoch_seconds(text.as_bytes()), expected, "{name}");
        }
    }

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
