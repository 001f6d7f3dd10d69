//! Reading one field's value in a compiled template: where it ends (a
//! literal, a closing quote, the end of an upstream list) and what its text
//! means (absent, a number, a status, a duration, a time).

use chrono::format::Parsed;
use memchr::memchr;

use super::vars::{Field, Var};
use crate::ingest::record::{MICROS_PER_SECOND, closing_quote, seconds_as_micros};
use crate::timefmt::Millis;

/// A value nginx and Apache write for an empty field.
#[inline]
pub(super) fn is_absent(value: &[u8]) -> bool {
    value.is_empty() || value == b"-"
}

#[inline]
pub(super) fn present(value: &[u8]) -> Option<&[u8]> {
    (!is_absent(value)).then_some(value)
}

#[inline]
pub(super) fn integer(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[inline]
pub(super) fn three_digit_status(value: &[u8]) -> Option<u16> {
    match value {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

pub(super) fn duration_micros(var: &Var, value: &[u8]) -> Option<u64> {
    match var {
        Var::DurationSeconds => match seconds_as_micros(value) {
            Ok(([], us)) => Some(us),
            _ => None,
        },
        Var::DurationMicros => integer(value),
        Var::DurationMillis => integer(value).map(|ms| ms.saturating_mul(1000)),
        Var::DurationWholeSeconds => integer(value).map(|s| s.saturating_mul(MICROS_PER_SECOND)),
        _ => None,
    }
}

/// `%{sec}t`, `%{msec}t`, `%{usec}t`: an integer count since the epoch.
pub(super) fn epoch_in_units(value: &[u8], per_second: u64) -> Option<(Millis, i32)> {
    let units = integer(value)?;
    let millis = i64::try_from(units.checked_mul(1000)? / per_second.max(1)).ok()?;
    Some((crate::timefmt::writable(millis)?, 0))
}

/// The time chrono collected from the `%{...}t` fields; without a zone in
/// the layout the time is taken as UTC.
pub(super) fn strftime_time(parsed: &Parsed) -> Option<(Millis, i32)> {
    if let Ok(with_zone) = parsed.to_datetime() {
        return Some((
            with_zone.timestamp_millis(),
            with_zone.offset().local_minus_utc(),
        ));
    }
    let naive = parsed.to_naive_datetime_with_offset(0).ok()?;
    Some((naive.and_utc().timestamp_millis(), 0))
}

/// Where a field's value ends: returns the value and the rest of the line,
/// `None` when the line cannot hold the field here.
#[inline]
pub(super) fn field_extent<'a>(
    field: &Field,
    input: &'a [u8],
    next_literal: Option<&[u8]>,
) -> Option<(&'a [u8], &'a [u8])> {
    if field.quoted {
        let end = closing_quote(input)?;
        return Some((&input[..end], &input[end..]));
    }
    match &field.var {
        Var::TimeClf => {
            let value = input.get(..26)?;
            return Some((value, &input[26..]));
        }
        Var::TimeClfBracketed => {
            if input.first() != Some(&b'[') {
                return None;
            }
            let end = memchr(b']', input)? + 1;
            return Some((&input[..end], &input[end..]));
        }
        var if var.is_list() => {
            let end = list_end(input);
            return Some((&input[..end], &input[end..]));
        }
        _ => {}
    }
    let end = match next_literal {
        Some([single]) => memchr(*single, input)?,
        Some(literal) => find_literal(input, literal)?,
        None => input
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(input.len()),
    };
    Some((&input[..end], &input[end..]))
}

/// `input` after `literal`, when it starts with it. A byte loop: the
/// literals between fields are a few bytes, for which a call to `memcmp`
/// costs more than the comparison.
#[inline]
pub(super) fn strip_literal<'a>(input: &'a [u8], literal: &[u8]) -> Option<&'a [u8]> {
    if input.len() < literal.len() {
        return None;
    }
    let (head, tail) = input.split_at(literal.len());
    head.iter()
        .zip(literal)
        .all(|(a, b)| a == b)
        .then_some(tail)
}

/// The first occurrence of `literal` (at least one byte) in `input`: the
/// literals between fields are short and their first byte is rare in a
/// field's value, so checking at each occurrence of that byte is faster
/// than building a substring searcher per line.
#[inline]
pub(super) fn find_literal(input: &[u8], literal: &[u8]) -> Option<usize> {
    let (&first, rest) = literal.split_first()?;
    let mut from = 0;
    while let Some(found) = memchr(first, &input[from..]) {
        let at = from + found;
        if strip_literal(&input[at + 1..], rest).is_some() {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The end of an nginx upstream list: items without spaces or commas,
/// joined by `, ` or ` : `.
pub(super) fn list_end(input: &[u8]) -> usize {
    let item_end = |from: usize| {
        input[from..]
            .iter()
            .position(|&b| b == b' ' || b == b',')
            .map_or(input.len(), |p| from + p)
    };
    let mut end = item_end(0);
    loop {
        let rest = &input[end..];
        let separator = if rest.starts_with(b", ") {
            2
        } else if rest.starts_with(b" : ") {
            3
        } else {
            return end;
        };
        let next = end + separator;
        if next >= input.len() || matches!(input[next], b' ' | b',') {
            return end;
        }
        end = item_end(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_stay_within_writable_years() {
        let cases = [
            ("seconds", "1699797603", 1, Some(1_699_797_603_000)),
            (
                "milliseconds",
                "1699797603123",
                1_000,
                Some(1_699_797_603_123),
            ),
            (
                "microseconds",
                "1699797603123456",
                1_000_000,
                Some(1_699_797_603_123),
            ),
            ("seconds in the year 10000", "253402300800", 1, None),
            ("more than a u64", "99999999999999999999999", 1, None),
        ];
        for (name, text, per_second, expected) in cases {
            assert_eq!(
                epoch_in_units(text.as_bytes(), per_second).map(|(millis, _)| millis),
                expected,
                "{name}"
            );
        }
    }

    /// The stock nginx `main` format of nginx.conf, as written there.
    #[test]
    fn literals_are_found_at_their_first_whole_occurrence() {
        let cases = [
            ("at once", "abc - def", " - ", Some(3)),
            ("first byte repeats", "a b  - c", " - ", Some(4)),
            ("absent", "a b c", " - ", None),
            ("at the end", "abc\" ", "\" ", Some(3)),
            ("only a prefix at the end", "abc \"", "\" x", None),
        ];
        for (name, input, literal, expected) in cases {
            assert_eq!(
                find_literal(input.as_bytes(), literal.as_bytes()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn upstream_lists_end_after_their_last_item() {
        let cases = [
            ("one", "10.0.0.1:80 rest", 11),
            ("retries", "10.0.0.1:80, 10.0.0.2:80 rest", 24),
            ("redirect", "10.0.0.1:80 : 10.0.0.3:80 rest", 25),
            ("unix socket", "unix:/run/a.sock, 10.0.0.2:80", 29),
            ("dash", "- 0.001", 1),
        ];
        for (name, text, end) in cases {
            assert_eq!(list_end(text.as_bytes()), end, "{name}");
        }
    }
}
