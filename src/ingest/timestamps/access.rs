//! The times access logs write: the CLF timestamp `10/Oct/2000:13:55:36
//! -0700` (the hot path, with a per-thread cache of the last stamp and day),
//! ISO 8601 / RFC 3339 as nginx's `$time_iso8601` and JSON logs write it, and
//! seconds since the epoch (`$msec`, Caddy's `ts`). Each is parsed by hand
//! to a UTC instant and the offset it was written with.

use memchr::memchr;

use crate::timefmt::{MS_PER_SECOND, Millis, days_from_civil, days_in_month, writable};

/// English three-letter month abbreviation, as CLF writes it, to 1..=12.
pub fn month_from_abbrev(abbrev: &[u8]) -> Option<u32> {
    let month = match abbrev {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    Some(month)
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
            .and_then(writable);
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (value.is_finite() && value.abs() < 1e14)
        .then(|| (value * 1000.0).round() as Millis)
        .and_then(writable)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
