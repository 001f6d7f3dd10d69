//! Access-log records and the nom parsers of the NCSA/Apache/nginx family
//! (`common`, `combined`, each optionally followed by a request time).
//!
//! Parsers borrow: an [`AccessRecord`] points into the line it came from and
//! nothing is allocated per line. A line that does not fit the layout yields a
//! [`LineError`] naming what was expected where, which ingest counts and
//! samples; it is never fatal.

use memchr::memchr;
use nom::bytes::complete::{tag, take_while1};
use nom::error::{ContextError, ErrorKind, ParseError, context};
use nom::{IResult, Parser};

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
}

/// A layout of the CLF family: which fields follow the common core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClfLayout {
    /// `"referer" "user agent"` after the byte count (combined).
    pub referer_agent: bool,
    pub duration: DurationField,
}

impl ClfLayout {
    /// Whether the logged time is when the request completed (nginx, which is
    /// what a fractional-seconds request time reveals) rather than when it
    /// arrived (Apache's `%t`).
    pub fn logs_completion(&self) -> bool {
        self.duration == DurationField::Seconds
    }
}

/// One access-log request, borrowing from its line.
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
}

impl AccessRecord<'_> {
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
    }
}

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
    let (rest, client) = context("expected the client address", token).parse(line)?;
    let (rest, _) = spaces(rest)?;
    let (rest, _ident) = context("expected the ident field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, remote_user) = context("expected the user field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, (logged_at, offset_seconds)) = clf_time(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, request) = context("expected the quoted request", quoted).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, status) = status(rest)?;
    let (rest, _) = spaces(rest)?;
    let (mut rest, bytes) = byte_count(rest)?;
    let (mut referer, mut user_agent) = (None, None);
    if layout.referer_agent {
        let (r, _) = spaces(rest)?;
        let (r, referer_field) = context("expected the quoted referer", quoted).parse(r)?;
        let (r, _) = spaces(r)?;
        let (r, agent_field) = context("expected the quoted user agent", quoted).parse(r)?;
        referer = optional(referer_field);
        user_agent = optional(agent_field);
        rest = r;
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
        },
    ))
}

/// A compiled access-log parser: what ingest calls for every line. New
/// formats (templates, JSON lines) are new variants here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessParser {
    Clf(ClfLayout),
}

impl AccessParser {
    /// Parses one line (without its line ending), ignoring fields that
    /// follow the last one the format defines.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<AccessRecord<'a>, LineError> {
        match self {
            AccessParser::Clf(layout) => parse_clf(line, layout).map(|(record, _)| record),
        }
    }

    /// Like [`AccessParser::parse`], and whether the whole line was used
    /// (nothing but white space left over): sniffing prefers formats that
    /// explain the whole line.
    pub fn parse_exact<'a>(&self, line: &'a [u8]) -> Result<(AccessRecord<'a>, bool), LineError> {
        match self {
            AccessParser::Clf(layout) => parse_clf(line, layout)
                .map(|(record, rest)| (record, rest.iter().all(u8::is_ascii_whitespace))),
        }
    }

    /// Whether records carry a request time and a user agent.
    pub fn has_request_time(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.duration != DurationField::None,
        }
    }

    pub fn has_user_agent(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.referer_agent,
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

    const COMBINED: ClfLayout = ClfLayout {
        referer_agent: true,
        duration: DurationField::None,
    };
    const COMMON: ClfLayout = ClfLayout {
        referer_agent: false,
        duration: DurationField::None,
    };
    const NGINX_TIMED: ClfLayout = ClfLayout {
        referer_agent: true,
        duration: DurationField::Seconds,
    };
    const APACHE_MICROS: ClfLayout = ClfLayout {
        referer_agent: true,
        duration: DurationField::Micros,
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
            line: &'static str,
            layout: ClfLayout,
            client: &'static str,
            status: u16,
            bytes: Option<u64>,
            agent: Option<&'static str>,
            duration_us: Option<u64>,
            arrival: Millis,
        }
        let cases = [
            Case {
                name: "apache common",
                line: r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                layout: COMMON,
                client: "127.0.0.1",
                status: 200,
                bytes: Some(2326),
                agent: None,
                duration_us: None,
                arrival: 971_211_336_000,
            },
            Case {
                name: "combined with dash bytes",
                line: r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 304 - "-" "curl/8.0""#,
                layout: COMBINED,
                client: "10.0.0.1",
                status: 304,
                bytes: None,
                agent: Some("curl/8.0"),
                duration_us: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "nginx request time is subtracted",
                line: r#"2001:db8::1 - - [12/Nov/2023:14:00:03 +0000] "GET /api HTTP/2.0" 504 167 "https://example.com/" "Mozilla/5.0 (X11)" 60.001"#,
                layout: NGINX_TIMED,
                client: "2001:db8::1",
                status: 504,
                bytes: Some(167),
                agent: Some("Mozilla/5.0 (X11)"),
                duration_us: Some(60_001_000),
                arrival: 1_699_797_603_000 - 60_001,
            },
            Case {
                name: "apache microseconds keep the arrival",
                line: r#"10.0.0.2 - - [27/Mar/2022:15:30:02 +0100] "POST /cart HTTP/1.1" 500 512 "-" "Mozilla/5.0" 123456"#,
                layout: APACHE_MICROS,
                client: "10.0.0.2",
                status: 500,
                bytes: Some(512),
                agent: Some("Mozilla/5.0"),
                duration_us: Some(123_456),
                arrival: 1_648_391_402_000,
            },
            Case {
                name: "escaped quote inside the request",
                line: r#"10.0.0.3 - - [12/Nov/2023:14:00:03 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "ua\"x""#,
                layout: COMBINED,
                client: "10.0.0.3",
                status: 200,
                bytes: Some(1),
                agent: Some(r#"ua\"x"#),
                duration_us: None,
                arrival: 1_699_797_603_000,
            },
        ];
        for case in cases {
            let (record, _) = parse_clf(case.line.as_bytes(), &case.layout)
                .unwrap_or_else(|e| panic!("{}: {}", case.name, e.reason));
            assert_eq!(record.client, case.client.as_bytes(), "{}", case.name);
            assert_eq!(record.status, case.status, "{}", case.name);
            assert_eq!(record.bytes, case.bytes, "{}", case.name);
            assert_eq!(
                record.user_agent,
                case.agent.map(str::as_bytes),
                "{}",
                case.name
            );
            assert_eq!(record.duration_us, case.duration_us, "{}", case.name);
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
