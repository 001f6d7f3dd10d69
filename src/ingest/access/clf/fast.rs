//! The hand-written fast path of the CLF-family parser: well-formed lines
//! (single spaces between fields, the fixed timestamp) are read by direct
//! byte scanning, without the nom combinators and their error plumbing.
//! Anything unusual (two spaces, a missing field, a bad digit) returns
//! `None`, and the family's nom parser (the parent module, which calls this
//! one) reads the line: it accepts what it accepts and names what was
//! expected otherwise. On every line the fast path accepts, it gives exactly
//! the record the nom parser gives (a property test beside the nom parser
//! checks this on mutated lines).

use super::layout::{ClfLayout, DurationField};
use crate::ingest::record::{
    AccessRecord, MICROS_PER_SECOND, closing_quote, leading_digits, optional,
};
use crate::ingest::timestamps::parse_clf_time;
use crate::scan::find_byte_near;

/// Length of `10/Oct/2000:13:55:36 -0700`.
const CLF_TIME_LEN: usize = 26;

/// Digits a `u64` always holds without overflow (its maximum has 20).
const MAX_EXACT_DIGITS: usize = 19;

#[cfg(test)]
thread_local! {
    /// Turns the fast path off so tests can compare it with the nom parser.
    pub(super) static DISABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A byte cursor over one line.
struct Cursor<'a> {
    line: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn rest(&self) -> &'a [u8] {
        &self.line[self.at.min(self.line.len())..]
    }

    /// Exactly one space (two or more are for the nom parser).
    #[inline]
    fn space(&mut self) -> Option<()> {
        match self.rest() {
            [b' ', next, ..] if *next != b' ' => {
                self.at += 1;
                Some(())
            }
            _ => None,
        }
    }

    /// A non-empty run of bytes up to the next space or the end.
    #[inline]
    fn token(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest();
        let len = match rest {
            // `-` (ident, user) is by far the most common token.
            [b'-', b' ', ..] => 1,
            // The client address and the other tokens are short, too short
            // for `memchr` to pay off: a word at a time.
            _ => find_byte_near(b' ', rest).unwrap_or(rest.len()),
        };
        if len == 0 {
            return None;
        }
        self.at += len;
        Some(&rest[..len])
    }

    /// `"..."` where a quote preceded by an odd number of backslashes stays
    /// inside (Apache's `\"`).
    #[inline]
    fn quoted(&mut self) -> Option<&'a [u8]> {
        // `"-"` (no referer, no agent) is common enough to skip the search.
        if let [b'"', dash @ b'-', b'"', ..] = self.rest() {
            self.at += 3;
            return Some(std::slice::from_ref(dash));
        }
        let body = self.rest().strip_prefix(b"\"")?;
        let end = closing_quote(body)?;
        self.at += end + 2;
        Some(&body[..end])
    }

    /// Digits as an integer, saturating, at least one digit.
    #[inline]
    fn integer(&mut self) -> Option<u64> {
        let rest = self.rest();
        let (mut value, digits) = leading_digits(rest);
        if digits == 0 {
            return None;
        }
        if digits > MAX_EXACT_DIGITS {
            value = rest[..digits].iter().fold(0u64, |acc, &b| {
                acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            });
        }
        self.at += digits;
        Some(value)
    }

    /// `-` as `None`, or what `value` reads.
    #[inline]
    fn dash_or(&mut self, value: impl FnOnce(&mut Self) -> Option<u64>) -> Option<Option<u64>> {
        if self.rest().first() == Some(&b'-') {
            self.at += 1;
            return Some(None);
        }
        value(self).map(Some)
    }

    /// Seconds with an optional fraction, to microseconds (digits past the
    /// sixth are dropped, as the nom parser does).
    #[inline]
    fn seconds_as_micros(&mut self) -> Option<u64> {
        let whole = self.integer()?;
        if self.rest().first() != Some(&b'.') {
            return Some(whole.saturating_mul(1_000_000));
        }
        self.at += 1;
        let after_point = self.rest();
        let digits = after_point
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let mut fraction = 0u64;
        let mut scale = 100_000u64;
        for &b in &after_point[..digits.min(6)] {
            fraction += u64::from(b - b'0') * scale;
            scale /= 10;
        }
        self.at += digits;
        Some(whole.saturating_mul(1_000_000).saturating_add(fraction))
    }
}

/// Reads a well-formed line of `layout`; `None` leaves the line to the nom
/// parser. Returns the record and what follows the last field, in the
/// order [`super::parse_clf`] returns them, so the record is built where
/// the caller keeps it rather than copied between tuples.
#[inline]
pub fn parse<'a>(line: &'a [u8], layout: &ClfLayout) -> Option<(AccessRecord<'a>, &'a [u8])> {
    #[cfg(test)]
    if DISABLED.with(std::cell::Cell::get) {
        return None;
    }
    let mut cursor = Cursor { line, at: 0 };
    let mut host = None;
    if layout.vhost {
        host = optional(cursor.token()?);
        cursor.space()?;
    }
    let client = cursor.token()?;
    cursor.space()?;
    cursor.token()?;
    cursor.space()?;
    let remote_user = cursor.token()?;
    cursor.space()?;
    let stamp = cursor.rest();
    if stamp.first() != Some(&b'[') || stamp.get(CLF_TIME_LEN + 1) != Some(&b']') {
        return None;
    }
    let (logged_at, offset_seconds) = parse_clf_time(&stamp[1..=CLF_TIME_LEN])?;
    cursor.at += CLF_TIME_LEN + 2;
    cursor.space()?;
    let request = cursor.quoted()?;
    cursor.space()?;
    let status = match cursor.rest() {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..]
            if rest.first().is_none_or(|&b| b == b' ') =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return None,
    };
    cursor.at += 3;
    cursor.space()?;
    let bytes = cursor.dash_or(Cursor::integer)?;
    let (mut referer, mut user_agent, mut forwarded_for) = (None, None, None);
    if layout.referer_agent {
        cursor.space()?;
        referer = optional(cursor.quoted()?);
        cursor.space()?;
        user_agent = optional(cursor.quoted()?);
        if layout.forwarded_for {
            cursor.space()?;
            forwarded_for = optional(cursor.quoted()?);
        }
    }
    let duration_us = match layout.duration {
        DurationField::None => None,
        DurationField::Seconds => {
            cursor.space()?;
            cursor.dash_or(Cursor::seconds_as_micros)?
        }
        DurationField::Micros => {
            cursor.space()?;
            cursor.dash_or(Cursor::integer)?
        }
        DurationField::WholeSeconds => {
            cursor.space()?;
            cursor
                .dash_or(Cursor::integer)?
                .map(|seconds| seconds.saturating_mul(MICROS_PER_SECOND))
        }
    };
    Some((
        AccessRecord {
            client,
            remote_user,
            request,
            bytes,
            referer,
            user_agent,
            duration_us,
            logged_at_completion: layout.logs_completion(),
            host,
            forwarded_for,
            // The CLF family has no upstream fields.
            ..AccessRecord::new(logged_at, offset_seconds, status)
        },
        cursor.rest(),
    ))
}
