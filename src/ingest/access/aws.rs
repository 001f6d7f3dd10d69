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

use crate::ingest::record::{
    AccessRecord, LineError, MICROS_PER_SECOND, field_ends_at, leading_digits, optional,
};
use crate::ingest::timestamps::parse_iso8601;
use crate::scan::{find_byte, find_byte_near, find_byte2};
use crate::series::paths::request_path;
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

/// A second as the cache keys it: all 19 bytes of `2018-07-02T22:23:00`
/// as three overlapping little-endian loads (bytes 0–7, 8–15, 15–18), so a
/// lookup is three integer compares, not a 19-byte `memcmp`.
type SecondKey = (u64, u64, u32);

#[inline]
fn second_key(second: &[u8; AWS_SECOND_LEN]) -> SecondKey {
    let word = |at: usize| <[u8; 8]>::try_from(&second[at..at + 8]).map_or(0, u64::from_le_bytes);
    let tail = <[u8; 4]>::try_from(&second[AWS_SECOND_LEN - 4..]).map_or(0, u32::from_le_bytes);
    (word(0), word(8), tail)
}

thread_local! {
    /// The last two seconds read on this thread and their milliseconds
    /// since the epoch: a line's `time` and `request_creation_time` are a
    /// request time apart, and the next line's are nearly always the same
    /// two seconds, so each second is parsed and validated once, not twice
    /// a line. Starts with zero bytes, which no time matches.
    static LAST_AWS_SECONDS: Cell<[(SecondKey, Millis); 2]> =
        const { Cell::new([((0, 0, 0), 0); 2]) };
}

/// An AWS time (ISO 8601 UTC) as milliseconds: `parse_iso8601`'s answer,
/// with the second cached for the exact shape AWS writes (a six-digit
/// fraction and `Z`); any other shape goes to `parse_iso8601` whole.
#[inline]
fn aws_time(text: &[u8]) -> Option<Millis> {
    match <&[u8; AWS_TIME_LEN]>::try_from(text) {
        Ok(exact) if has_aws_shape(exact) => exact_aws_time(exact),
        _ => parse_iso8601(text).map(|(at, _)| at),
    }
}

/// Whether a 27-byte time has the punctuation AWS writes and a fraction
/// of six digits (the digits of the second are checked when it is parsed).
///
/// The last eight bytes (`.186641Z`) are checked as one little-endian
/// word ([`are_digits`]). A byte loop cost ~25 instructions a time
/// (callgrind).
#[inline]
fn has_aws_shape(text: &[u8; AWS_TIME_LEN]) -> bool {
    /// The six digit bytes of the word.
    const DIGITS: u64 = 0x00ff_ffff_ffff_ff00;
    /// `.` first and `Z` last.
    const PUNCTUATION: u64 = (b'Z' as u64) << 56 | b'.' as u64;
    let Ok(tail) = <[u8; 8]>::try_from(&text[AWS_SECOND_LEN..]) else {
        return false;
    };
    let tail = u64::from_le_bytes(tail);
    tail & !DIGITS == PUNCTUATION && are_digits(tail, DIGITS)
}

/// Whether the bytes of `word` that `mask` selects (whole bytes of 0xff)
/// are all ASCII digits: a byte is a digit when its high nibble is 3 and
/// stays 3 with 6 added (no carry crosses bytes: a byte that could carry
/// has failed the first test).
#[inline(always)]
fn are_digits(word: u64, mask: u64) -> bool {
    let high_nibbles = mask & 0xf0f0_f0f0_f0f0_f0f0;
    let zeros = mask & 0x3030_3030_3030_3030;
    let sixes = mask & 0x0606_0606_0606_0606;
    let digits = word & mask;
    digits & high_nibbles == zeros && digits.wrapping_add(sixes) & high_nibbles == zeros
}

/// Length of the minute of an AWS time, `2018-07-02T22:23:`: what a
/// line's `time` and `request_creation_time` nearly always share.
const AWS_MINUTE_LEN: usize = 17;

/// The milliseconds of a time of [`has_aws_shape`] (the first three
/// digits of its fraction).
#[inline(always)]
fn aws_fraction_millis(text: &[u8; AWS_TIME_LEN]) -> Millis {
    text[AWS_SECOND_LEN + 1..AWS_SECOND_LEN + 4]
        .iter()
        .fold(0, |acc, &b| acc * 10 + Millis::from(b.wrapping_sub(b'0')))
}

/// What [`exact_aws_time`] gives for `text` when it is in the minute of
/// `known` (another time of [`has_aws_shape`], which read as `known_at`):
/// the difference of their seconds and fractions, with no calendar and no
/// cache. `None` for another minute or a second `parse_iso8601` refuses
/// (it takes 00 to 60, and within a minute its answer grows by a second a
/// second).
#[inline(always)]
fn time_in_minute_of(
    text: &[u8; AWS_TIME_LEN],
    known: &[u8; AWS_TIME_LEN],
    known_at: Millis,
) -> Option<Millis> {
    if text[..AWS_MINUTE_LEN] != known[..AWS_MINUTE_LEN] {
        return None;
    }
    let seconds = |time: &[u8; AWS_TIME_LEN]| match time[AWS_MINUTE_LEN..AWS_SECOND_LEN] {
        [tens @ b'0'..=b'6', ones @ b'0'..=b'9'] => {
            let value = Millis::from(tens - b'0') * 10 + Millis::from(ones - b'0');
            (value <= 60).then_some(value)
        }
        _ => None,
    };
    let (second, known_second) = (seconds(text)?, seconds(known)?);
    Some(
        known_at + (second - known_second) * 1000 + aws_fraction_millis(text)
            - aws_fraction_millis(known),
    )
}

/// A time of [`has_aws_shape`]: its second from the cache or parsed (and
/// then cached), plus the fraction's milliseconds.
#[inline(always)]
fn exact_aws_time(text: &[u8; AWS_TIME_LEN]) -> Option<Millis> {
    let millis = aws_fraction_millis(text);
    let second = <&[u8; AWS_SECOND_LEN]>::try_from(&text[..AWS_SECOND_LEN]).ok()?;
    let key = second_key(second);
    let mut last = LAST_AWS_SECONDS.with(Cell::get);
    if let Some((_, at)) = last.iter().find(|(cached, _)| *cached == key) {
        return Some(at + millis);
    }
    // Without a fraction or zone, parse_iso8601 gives the second in UTC.
    let (at, _) = parse_iso8601(second)?;
    last[1] = last[0];
    last[0] = (key, at);
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
        if !self.rest.starts_with(b"\"") {
            return Err(LineError::new(expected));
        }
        self.quoted_fast()
            .ok_or(LineError::new("unterminated quoted field"))
    }
}

/// The fast reader's steps (see [`parse_alb_fast`]): each gives what the
/// general step gives when the field has the shape AWS writes, and `None`
/// for anything else, without saying why.
impl<'a> Fields<'a> {
    /// Moves past a field of `len` bytes and the space after it.
    #[inline]
    fn skip(&mut self, len: usize) {
        self.rest = self.rest.get(len + 1..).unwrap_or_default();
    }

    /// A short field (the request type, the load balancer's name, the
    /// addresses, the received bytes) found a word at a time
    /// ([`find_byte_near`]): no vector searcher set up for a few bytes.
    /// What [`Fields::next`] gives. Inlined: called, its five uses cost ~50
    /// instructions a line more (callgrind, the reader alone).
    #[inline(always)]
    fn short(&mut self) -> Option<&'a [u8]> {
        let len = find_byte_near(b' ', self.rest).unwrap_or(self.rest.len());
        let field = &self.rest[..len];
        (len > 0).then(|| {
            self.skip(len);
            field
        })
    }

    /// A time of AWS's exact shape, 27 bytes, found with no search for its
    /// end: its text, read by [`exact_aws_time`] or [`time_in_minute_of`].
    #[inline]
    fn exact_time(&mut self) -> Option<&'a [u8; AWS_TIME_LEN]> {
        let text = <&[u8; AWS_TIME_LEN]>::try_from(self.rest.get(..AWS_TIME_LEN)?).ok()?;
        // `T` (not the space parse_iso8601 also takes) and the checked
        // digits leave no space inside: the field is these 27 bytes.
        if !field_ends_at(self.rest, AWS_TIME_LEN) || text[10] != b'T' || !has_aws_shape(text) {
            return None;
        }
        self.skip(AWS_TIME_LEN);
        Some(text)
    }

    /// A quoted field ([`Fields::quoted`]) without the error: the `Result` and its
    /// `LineError` came back through memory (~20 instructions a line,
    /// callgrind).
    #[inline]
    fn quoted_fast(&mut self) -> Option<&'a [u8]> {
        let body = self.rest.strip_prefix(b"\"")?;
        let mut from = 0;
        loop {
            let at = from + find_byte(b'"', &body[from..])?;
            match body.get(at + 1) {
                None => {
                    self.rest = &[];
                    return Some(&body[..at]);
                }
                Some(b' ') => {
                    self.rest = &body[at + 2..];
                    return Some(&body[..at]);
                }
                Some(_) => from = at + 1,
            }
        }
    }

    /// A processing time read in the pass that finds its end (what
    /// [`whole_seconds_as_micros`] reads, for at most
    /// [`MAX_EXACT_DIGITS`] digits a part): `-1` as `Some(None)`.
    #[inline]
    fn seconds(&mut self) -> Option<Option<u64>> {
        // The shape the ALB writes, `0.044`: read where it is.
        if let [
            whole @ b'0'..=b'9',
            b'.',
            a @ b'0'..=b'9',
            b @ b'0'..=b'9',
            c @ b'0'..=b'9',
            b' ',
            ..,
        ] = self.rest
        {
            let micros = u64::from(whole - b'0') * MICROS_PER_SECOND
                + u64::from(a - b'0') * 100_000
                + u64::from(b - b'0') * 10_000
                + u64::from(c - b'0') * 1_000;
            self.rest = &self.rest[MILLISECOND_SECONDS_LEN + 1..];
            return Some(Some(micros));
        }
        let (whole, whole_len) = leading_digits(self.rest);
        if whole_len == 0 {
            if self.rest.starts_with(b"-1") && field_ends_at(self.rest, 2) {
                self.skip(2);
                return Some(None);
            }
            return None;
        }
        // Whole seconds beyond 10^12 would saturate in micros.
        if whole_len > MAX_EXACT_DIGITS - 6 {
            return None;
        }
        let mut micros = whole * MICROS_PER_SECOND;
        let mut len = whole_len;
        if self.rest.get(len) == Some(&b'.') {
            let (fraction, fraction_len) = leading_digits(&self.rest[len + 1..]);
            if fraction_len > 6 {
                return None;
            }
            micros += fraction * 10u64.pow(6 - fraction_len as u32);
            len += 1 + fraction_len;
        }
        if !field_ends_at(self.rest, len) {
            return None;
        }
        self.skip(len);
        Some(Some(micros))
    }

    /// The three processing times and the two statuses when all have the
    /// shape an answered request has (`0.000 0.044 0.000 200 200 `), checked as
    /// four little-endian words (as [`has_aws_shape`] checks a time) and
    /// read where they are: what [`Fields::seconds`] and
    /// [`Fields::status`] give, `None` for any other text (a `-1`, a `-`,
    /// a time of another length), which they then read. The five steps,
    /// each a pattern and a cut of the rest, cost ~75 instructions a line
    /// more (callgrind, the reader alone).
    #[inline(always)]
    fn usual_times_and_statuses(&mut self) -> Option<([u64; 3], u16, u16)> {
        let words = self.rest.get(..USUAL_NUMBERS_LEN + 6)?;
        let word =
            |at: usize| <[u8; 8]>::try_from(&words[at..at + 8]).map_or(0, u64::from_le_bytes);
        let words = [word(0), word(8), word(16), word(24)];
        for (&word, (digits, punctuation, expected)) in words.iter().zip(USUAL_NUMBERS_SHAPE) {
            if word & punctuation != expected || !are_digits(word, digits) {
                return None;
            }
        }
        let digit = |at: usize| (words[at / 8] >> (8 * (at % 8))) & 0x0f;
        let seconds = |at: usize| {
            digit(at) * MICROS_PER_SECOND
                + digit(at + 2) * 100_000
                + digit(at + 3) * 10_000
                + digit(at + 4) * 1_000
        };
        let status = |at: usize| (digit(at) * 100 + digit(at + 1) * 10 + digit(at + 2)) as u16;
        self.rest = &self.rest[USUAL_NUMBERS_LEN..];
        Some((
            [seconds(0), seconds(6), seconds(12)],
            status(18),
            status(22),
        ))
    }

    /// A three-digit status, `-` as `Some(None)`.
    #[inline]
    fn status(&mut self) -> Option<Option<u16>> {
        match self.rest {
            [b'-', ..] if field_ends_at(self.rest, 1) => {
                self.skip(1);
                Some(None)
            }
            [a @ b'0'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', ..]
                if field_ends_at(self.rest, 3) =>
            {
                let code =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                self.skip(3);
                Some(Some(code))
            }
            _ => None,
        }
    }

    /// A byte count read in the pass that finds its end, `-` as
    /// `Some(None)`.
    #[inline]
    fn count(&mut self) -> Option<Option<u64>> {
        if self.rest.first() == Some(&b'-') && field_ends_at(self.rest, 1) {
            self.skip(1);
            return Some(None);
        }
        let (value, len) = leading_digits(self.rest);
        if len == 0 || len > MAX_EXACT_DIGITS || !field_ends_at(self.rest, len) {
            return None;
        }
        self.skip(len);
        Some(Some(value))
    }
}

/// Length of `0.000 0.044 0.000 200 200 `: what
/// [`Fields::usual_times_and_statuses`] reads.
const USUAL_NUMBERS_LEN: usize = 26;

/// Per word of [`Fields::usual_times_and_statuses`] (bytes 0–7, 8–15,
/// 16–23, 24–31, little-endian): the digit bytes, the punctuation bytes
/// and what the punctuation bytes must be.
const USUAL_NUMBERS_SHAPE: [(u64, u64, u64); 4] = {
    const SHAPE: &[u8; 32] = b"D.DDD D.DDD D.DDD DDD DDD ??????";
    let mut words = [(0u64, 0u64, 0u64); 4];
    let mut at = 0;
    while at < 32 {
        let shift = 8 * (at % 8) as u32;
        let (digits, punctuation, expected) = &mut words[at / 8];
        match SHAPE[at] {
            b'D' => *digits |= 0xff << shift,
            b'?' => {}
            byte => {
                *punctuation |= 0xff << shift;
                *expected |= (byte as u64) << shift;
            }
        }
        at += 1;
    }
    words
};

/// Length of a processing time in seconds with milliseconds, `0.044`.
const MILLISECOND_SECONDS_LEN: usize = 5;

/// Most digits read without saturating arithmetic: 10^18 < 2^64, so any
/// 18 digits are exact; longer numbers go to the general reader, which
/// saturates.
const MAX_EXACT_DIGITS: usize = 18;

/// Seconds with a fraction, `-1` as `None`.
#[inline]
fn processing_time(text: &[u8]) -> Result<Option<u64>, LineError> {
    if text == b"-1" {
        return Ok(None);
    }
    whole_seconds_as_micros(text)
        .map(Some)
        .ok_or(LineError::new(
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
        .fold(0u64, |acc, &b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        })
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
    // The URL's first `://`: where the scheme AWS writes is, no search.
    let after_scheme = if let Some(after) = url.strip_prefix(b"https://") {
        after
    } else if let Some(after) = url.strip_prefix(b"http://") {
        after
    } else {
        let mut from = 0;
        loop {
            let colon = from + find_byte(b':', &url[from..])?;
            if url[colon + 1..].starts_with(b"//") {
                break &url[colon + 3..];
            }
            from = colon + 1;
        }
    };
    let end = crate::scan::find_byte3(b'/', b' ', b'?', after_scheme).unwrap_or(after_scheme.len());
    optional(&after_scheme[..end])
}

/// The host ([`request_host`]) and the path ([`request_path`]) of a
/// request line, its URL read once when it is absolute, as the ALB writes
/// it (`GET https://shop.example:443/a?b HTTP/1.1`): the path ends at the
/// first space or `?` after the method, and the host, inside it, at the
/// first `/` after the scheme. Any other line is read by the two
/// functions. The path goes to the series with the record
/// ([`AccessRecord::path`]): read again from the request line by the
/// worker, it cost 61 instructions an ALB line more (callgrind).
#[inline]
fn host_and_path(request: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let apart = || (request_host(request), request_path(request));
    let Some(method_end) = find_byte(b' ', request).filter(|&end| end > 0) else {
        return apart();
    };
    let url = &request[method_end + 1..];
    let scheme_len = if url.starts_with(b"https://") {
        b"https://".len()
    } else if url.starts_with(b"http://") {
        b"http://".len()
    } else {
        return apart();
    };
    // The scheme holds no space or `?`: the path is at least the scheme.
    let path_end = find_byte2(b' ', b'?', url).unwrap_or(url.len());
    let path = &url[..path_end];
    let Some(authority) = path.get(scheme_len..) else {
        return apart();
    };
    let host_end = find_byte(b'/', authority).unwrap_or(authority.len());
    (optional(&authority[..host_end]), Some(path))
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

/// Where field `index` (1 or more) of `text` split at single spaces
/// starts: after its `index`-th space, `None` when there are fewer. What
/// [`nth_field`] finds, without a search a field: the spaces are counted
/// 128 bytes at a time, in a form the compiler turns into vector compares
/// (~40 instructions a block), and only the last few are searched for. The
/// ALB's seven fields between the user agent and `request_creation_time`
/// are ~280 bytes, and seven searches cost ~430 instructions (callgrind).
/// Blocks are counted while more than two spaces are left: the ALB's last
/// two are a few bytes apart, and counting a third block before searching
/// them cost ~40 instructions a line.
#[inline]
fn field_start(text: &[u8], index: usize) -> Option<usize> {
    const BLOCK: usize = 128;
    /// At most this many spaces left, searching is cheaper than counting
    /// the next block.
    const SEARCHED: usize = 2;
    let (mut start, mut remaining) = (0, index);
    while remaining > SEARCHED
        && let Some(Ok(block)) = text.get(start..start + BLOCK).map(<&[u8; BLOCK]>::try_from)
    {
        // A u8 sum: at most 128, no overflow.
        let found = usize::from(block.iter().map(|&b| u8::from(b == b' ')).sum::<u8>());
        if found >= remaining {
            break;
        }
        remaining -= found;
        start += BLOCK;
    }
    // The last spaces are within 64 bytes: a search each.
    for _ in 0..remaining {
        start += find_byte(b' ', &text[start..])? + 1;
    }
    Some(start)
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

/// [`common`] for fields of the shapes AWS writes; `None` for anything
/// else (see [`parse_alb_fast`]).
#[inline]
fn common_fast<'a>(fields: &mut Fields<'a>) -> Option<Common<'a>> {
    let client = without_port(fields.short()?);
    let target = fields.short()?;
    let (times, elb_status, target_status) = match fields.usual_times_and_statuses() {
        Some((times, elb, target)) => (times.map(Some), Some(elb), Some(target)),
        None => {
            let mut times = [None; 3];
            for time in &mut times {
                *time = fields.seconds()?;
            }
            (times, fields.status()?, fields.status()?)
        }
    };
    // The received bytes are not kept: any field, as the general reader
    // takes them, not read as a number.
    fields.short()?;
    let sent_bytes = fields.count()?;
    let request = fields.quoted_fast()?;
    let user_agent = fields.quoted_fast()?;
    Some(Common {
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

#[inline(always)]
fn record<'a>(common: &Common<'a>, arrival: i64, duration_us: Option<u64>) -> AccessRecord<'a> {
    let mut record = AccessRecord::new(arrival, 0, common.elb_status.unwrap_or(0));
    record.client = common.client;
    record.request = common.request;
    record.bytes = common.sent_bytes;
    record.user_agent = optional(common.user_agent);
    record.duration_us = duration_us;
    (record.host, record.path) = host_and_path(common.request);
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

/// The arrival and request time of an ALB line from its `time`,
/// `request_creation_time` (when the line has one) and processing times.
#[inline]
fn arrival_and_duration(
    answered_at: Millis,
    creation: Option<Millis>,
    times: &[Option<u64>; 3],
) -> (Millis, Option<u64>) {
    match (creation, total(times)) {
        (Some(created), Some(us)) => (created, Some(us)),
        (Some(created), None) => (
            created,
            u64::try_from(answered_at - created)
                .ok()
                .map(|ms| ms * 1000),
        ),
        (None, Some(us)) => (answered_at - (us / 1000) as i64, Some(us)),
        (None, None) => (answered_at, None),
    }
}

/// Parses one ALB line.
pub fn parse_alb(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
    // The record is built where it is returned: turning an `Option` into
    // the `Result` copied it (~50 instructions a line, callgrind).
    let mut parsed = Err(LineError::new(""));
    if !parse_alb_fast(line, &mut parsed) {
        parsed = parse_alb_general(line);
    }
    parsed
}

/// An ALB line as AWS writes it (a known request type, times of the exact
/// shape, numbers without signs but `-1`), read with fixed widths and
/// numbers read in the pass that finds their end: the record
/// [`parse_alb_general`] gives, or `None` for any other line, which the
/// general reader then reads and, if it must, names what was wrong. Half
/// the instructions of the general reader a line (callgrind, `BENCHMARKS.md`).
#[inline]
fn parse_alb_fast<'a>(
    line: &'a [u8],
    parsed: &mut Result<(AccessRecord<'a>, &'a [u8]), LineError>,
) -> bool {
    match read_alb_fast(line) {
        Some((common, arrival, duration_us)) => {
            *parsed = Ok((record(&common, arrival, duration_us), &[]));
            true
        }
        None => false,
    }
}

/// The fields of [`parse_alb_fast`]'s line, `None` for a line it leaves.
#[inline]
fn read_alb_fast(line: &[u8]) -> Option<(Common<'_>, Millis, Option<u64>)> {
    let mut fields = Fields { rest: line };
    // Most lines are `https`: one compare of six bytes, not a field. (Read
    // as a field, the reader cost 187 instructions a line more, callgrind:
    // the compiler then laid the whole reader out worse.)
    if let Some(after) = line.strip_prefix(b"https ") {
        fields.rest = after;
    } else {
        let kind = fields.short()?;
        if !matches!(kind, b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss") {
            return None;
        }
    }
    let answered = fields.exact_time()?;
    let answered_at = exact_aws_time(answered)?;
    fields.short()?;
    let common = common_fast(&mut fields)?;
    // Older lines end before request_creation_time: the general reader
    // decides what they hold.
    let start = field_start(fields.rest, CREATION_TIME_AFTER_AGENT)?;
    let mut creation = Fields {
        rest: &fields.rest[start..],
    };
    let created_text = creation.exact_time()?;
    // Nearly always the minute of `time`: read from it.
    let created = match time_in_minute_of(created_text, answered, answered_at) {
        Some(at) => at,
        None => exact_aws_time(created_text)?,
    };
    let (arrival, duration_us) = arrival_and_duration(answered_at, Some(created), &common.times);
    Some((common, arrival, duration_us))
}

/// Reads an ALB line field by field, naming the first that is not as
/// documented.
fn parse_alb_general(line: &[u8]) -> Result<(AccessRecord<'_>, &[u8]), LineError> {
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
    let creation = nth_field(fields.rest, CREATION_TIME_AFTER_AGENT).and_then(aws_time);
    let (arrival, duration_us) = arrival_and_duration(answered_at, creation, &common.times);
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
