//! Timestamps of the evidence inputs (syslog, error logs, metric CSVs): the
//! hand-written fast paths for their fixed layouts, and [`Stamp`], a time as
//! the line wrote it, resolved to an instant once the run's zone and year are
//! known.
//!
//! Many of these layouts carry no zone (RFC 3164, error logs, most CSVs) and
//! RFC 3164 carries no year either. The zone and year come from outside the
//! line (`--tz`, `--year`, the access logs of the same run, the file's
//! modification time), and that is only known once every input has been read,
//! so parsers return a [`Stamp`] and [`Stamp::resolve`] turns it into
//! milliseconds since the epoch afterwards.

use chrono::{DateTime, LocalResult, Offset, TimeZone, Utc};

use crate::timefmt::{MS_PER_DAY, MS_PER_SECOND, Millis, Zone, days_from_civil, days_in_month};

/// A time as a line wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// An instant: the line carried its zone (RFC 3339, RFC 5424, epochs).
    Absolute(Millis),
    /// Wall-clock time with a year but no zone, as milliseconds since
    /// 1970-01-01T00:00 of that wall clock (nginx and Apache error logs,
    /// `YYYY-MM-DD HH:MM:SS` in CSVs).
    Local(Millis),
    /// RFC 3164: month, day and time of day, no year, no zone.
    NoYear(YearlessTime),
}

/// An RFC 3164 time. `year_delta` counts the New Years the file went
/// through before this line (a December line followed by a January line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearlessTime {
    pub year_delta: u16,
    pub month: u8,
    pub day: u8,
    pub ms_of_day: u32,
}

impl YearlessTime {
    /// Wall-clock milliseconds in `year` (plus this line's delta), or `None`
    /// for 29 February of a common year and for a year so far out
    /// (`--year` takes any i32) that its milliseconds overflow.
    pub fn local_ms(&self, year: i32) -> Option<Millis> {
        let year = i64::from(year) + i64::from(self.year_delta);
        let month = u32::from(self.month);
        let day = u32::from(self.day);
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        days_from_civil(year, month, day)
            .checked_mul(MS_PER_DAY)?
            .checked_add(i64::from(self.ms_of_day))
    }
}

impl Stamp {
    /// The instant, reading wall-clock times in `zone` and yearless times in
    /// `year`. `second_of_fold` picks the later of the two instants a wall
    /// clock shows twice when DST ends (the line came after a later one in
    /// its file, so the clock had been set back). `None` for a date that does
    /// not exist (29 February of a common year).
    pub fn resolve(&self, year: i32, zone: &Zone, second_of_fold: bool) -> Option<Millis> {
        let local = match self {
            Stamp::Absolute(at) => return Some(*at),
            Stamp::Local(local) => *local,
            Stamp::NoYear(yearless) => yearless.local_ms(year)?,
        };
        let offset = offset_for_local(zone, local, second_of_fold);
        local.checked_sub(i64::from(offset) * MS_PER_SECOND)
    }

    /// Wall-clock milliseconds for ordering lines of one file, reading a
    /// yearless time in `year`; instants stay as they are.
    pub fn ordering_ms(&self, year: i32) -> Option<Millis> {
        match self {
            Stamp::Absolute(at) | Stamp::Local(at) => Some(*at),
            Stamp::NoYear(yearless) => yearless.local_ms(year),
        }
    }
}

/// Earliest and latest time of each kind of stamp seen in one input.
#[derive(Clone, Copy, Debug, Default)]
pub struct StampSpan {
    pub absolute: Option<(Millis, Millis)>,
    pub local: Option<(Millis, Millis)>,
    pub yearless: Option<(YearlessTime, YearlessTime)>,
}

fn widen<T: Ord + Copy>(span: &mut Option<(T, T)>, value: T) {
    *span = Some(match *span {
        None => (value, value),
        Some((low, high)) => (low.min(value), high.max(value)),
    });
}

impl StampSpan {
    /// Widens the span to take in `stamp`.
    pub fn add(&mut self, stamp: Stamp) {
        match stamp {
            Stamp::Absolute(at) => widen(&mut self.absolute, at),
            Stamp::Local(local) => widen(&mut self.local, local),
            Stamp::NoYear(yearless) => widen(&mut self.yearless, yearless),
        }
    }
}

/// Seconds east of UTC of a wall-clock time in `zone`: in a DST fold the
/// earlier instant unless `second_of_fold`; in a DST gap the offset after it.
pub fn offset_for_local(zone: &Zone, local_ms: Millis, second_of_fold: bool) -> i32 {
    let tz = match zone {
        Zone::Fixed(seconds) => return *seconds,
        Zone::Shifting { before, after, at } => {
            return crate::timefmt::shifted_offset_for_local(
                (*before, *after, *at),
                local_ms,
                second_of_fold,
            );
        }
        Zone::Named(tz) => tz,
    };
    let Some(naive) = DateTime::<Utc>::from_timestamp_millis(local_ms).map(|t| t.naive_utc())
    else {
        return 0;
    };
    match tz.offset_from_local_datetime(&naive) {
        LocalResult::Single(offset) => offset.fix().local_minus_utc(),
        LocalResult::Ambiguous(earlier, later) => {
            if second_of_fold {
                later.fix().local_minus_utc()
            } else {
                earlier.fix().local_minus_utc()
            }
        }
        LocalResult::None => tz.offset_from_utc_datetime(&naive).fix().local_minus_utc(),
    }
}

#[inline]
fn digits<const N: usize>(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < N {
        return None;
    }
    let mut value = 0u32;
    for &b in &bytes[..N] {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// `.123456` after the seconds: milliseconds and bytes used (0 when absent).
fn fraction_ms(bytes: &[u8]) -> (u32, usize) {
    let Some(rest) = bytes
        .strip_prefix(b".")
        .or_else(|| bytes.strip_prefix(b","))
    else {
        return (0, 0);
    };
    let count = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if count == 0 {
        return (0, 0);
    }
    let mut ms = 0u32;
    for (position, &b) in rest[..count].iter().enumerate().take(3) {
        ms += u32::from(b - b'0') * 10u32.pow(2 - position as u32);
    }
    (ms, 1 + count)
}

/// `HH:MM:SS` (a leap second 60 is allowed) as milliseconds of the day.
fn time_of_day(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits::<2>(&bytes[0..])?,
        digits::<2>(&bytes[3..])?,
        digits::<2>(&bytes[6..])?,
    );
    (hour <= 23 && minute <= 59 && second <= 60)
        .then_some((hour * 3600 + minute * 60 + second) * 1000)
}

fn civil_ms(year: u32, month: u32, day: u32) -> Option<Millis> {
    let year = i64::from(year);
    ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
        .then(|| days_from_civil(year, month, day) * MS_PER_DAY)
}

/// A zone suffix: `Z`, `+01:00`, `+0100` or `+01`; seconds east of UTC and
/// bytes used, `None` when there is no suffix.
fn zone_suffix(bytes: &[u8]) -> Option<(i32, usize)> {
    match bytes.first()? {
        b'Z' | b'z' => Some((0, 1)),
        sign @ (b'+' | b'-') => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let hours = digits::<2>(&bytes[1..])?;
            let (minutes, used) = if bytes.get(3) == Some(&b':') {
                (digits::<2>(&bytes[4..])?, 6)
            } else if let Some(minutes) = digits::<2>(&bytes[3..]) {
                (minutes, 5)
            } else {
                (0, 3)
            };
            (hours <= 18 && minutes <= 59)
                .then_some((sign * (hours * 3600 + minutes * 60) as i32, used))
        }
        _ => None,
    }
}

/// An ISO 8601 / RFC 3339 time as the fast path reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoTime {
    pub stamp: Stamp,
    /// The offset as written, when there was one.
    pub offset: Option<i32>,
    /// Whether the offset was written without a colon (`+0100`, journalctl).
    pub compact_offset: bool,
    /// Bytes of the input used.
    pub len: usize,
}

/// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM|±HHMM]` at the start of `bytes`; with
/// `allow_space`, a space may stand for the `T` (CSV exports do that).
pub fn parse_iso(bytes: &[u8], allow_space: bool) -> Option<IsoTime> {
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    match bytes[10] {
        b'T' | b't' => {}
        b' ' if allow_space => {}
        _ => return None,
    }
    let date = civil_ms(
        digits::<4>(bytes)?,
        digits::<2>(&bytes[5..])?,
        digits::<2>(&bytes[8..])?,
    )?;
    let day_ms = time_of_day(&bytes[11..])?;
    let (fraction, fraction_len) = fraction_ms(&bytes[19..]);
    let mut len = 19 + fraction_len;
    let local = date + i64::from(day_ms) + i64::from(fraction);
    match zone_suffix(&bytes[len..]) {
        Some((offset, used)) => {
            let compact = used == 5;
            len += used;
            Some(IsoTime {
                stamp: Stamp::Absolute(local - i64::from(offset) * MS_PER_SECOND),
                offset: Some(offset),
                compact_offset: compact,
                len,
            })
        }
        None => Some(IsoTime {
            stamp: Stamp::Local(local),
            offset: None,
            compact_offset: false,
            len,
        }),
    }
}

/// Month names as syslog writes them: English abbreviations in any case
/// (`Nov`, `NOV`), and the abbreviations of the French and German locales
/// (`août`, `déc.`, `Mär`, `Okt`), since a syslog daemon running under such a
/// locale writes them and a person reading the file understands them.
const MONTH_NAMES: &[(&str, u8)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    // French (glibc fr_FR `%b`).
    ("janv.", 1),
    ("févr.", 2),
    ("mars", 3),
    ("avr.", 4),
    ("mai", 5),
    ("juin", 6),
    ("juil.", 7),
    ("août", 8),
    ("sept.", 9),
    ("oct.", 10),
    ("nov.", 11),
    ("déc.", 12),
    // German (glibc de_DE `%b`).
    ("mär", 3),
    ("okt", 10),
    ("dez", 12),
];

/// The month a syslog month token names (case-insensitive).
pub fn month_from_name(token: &[u8]) -> Option<u8> {
    if token.len() == 3 && token.is_ascii() {
        let lower = [
            token[0].to_ascii_lowercase(),
            token[1].to_ascii_lowercase(),
            token[2].to_ascii_lowercase(),
        ];
        if let Some(&(_, month)) = MONTH_NAMES
            .iter()
            .find(|(name, _)| name.as_bytes() == lower)
        {
            return Some(month);
        }
    }
    let text = std::str::from_utf8(token).ok()?;
    let lower = text.to_lowercase();
    MONTH_NAMES
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|&(_, month)| month)
}

/// An RFC 3164 date as read from the start of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BsdDate {
    pub month: u8,
    pub day: u8,
    /// A year some daemons write between the day and the time (`Mar 7 2008 19:06:53`).
    pub year: Option<u32>,
    pub ms_of_day: u32,
    /// Bytes used, including a colon some daemons put after the time.
    pub len: usize,
}

/// Longest month token tried (`févr.` is six bytes in UTF-8).
const MAX_MONTH_TOKEN: usize = 8;

/// `Mmm dd hh:mm:ss` (day space- or zero-padded or not padded at all, an
/// optional year before the time, optional fraction and trailing colon).
/// The fixed English layout `Nov 12 14:00:03` takes a fast path.
pub fn parse_bsd_date(bytes: &[u8]) -> Option<BsdDate> {
    if bytes.len() >= 15
        && bytes[3] == b' '
        && bytes[6] == b' '
        && bytes[9] == b':'
        && let Some(month) = month_from_name(&bytes[..3])
    {
        let day = match (bytes[4], bytes[5]) {
            (b' ', d @ b'1'..=b'9') => u32::from(d - b'0'),
            (tens @ b'0'..=b'3', units @ b'0'..=b'9') => {
                u32::from(tens - b'0') * 10 + u32::from(units - b'0')
            }
            _ => 0,
        };
        if (1..=31).contains(&day)
            && let Some(ms) = time_of_day(&bytes[7..])
        {
            return Some(finish_bsd(bytes, month, day as u8, None, ms, 15));
        }
    }
    parse_bsd_date_lenient(bytes)
}

fn finish_bsd(
    bytes: &[u8],
    month: u8,
    day: u8,
    year: Option<u32>,
    ms: u32,
    mut len: usize,
) -> BsdDate {
    let (fraction, used) = fraction_ms(&bytes[len..]);
    len += used;
    if bytes.get(len) == Some(&b':') {
        len += 1;
    }
    BsdDate {
        month,
        day,
        year,
        ms_of_day: ms + fraction,
        len,
    }
}

fn parse_bsd_date_lenient(bytes: &[u8]) -> Option<BsdDate> {
    let month_len = bytes
        .iter()
        .take(MAX_MONTH_TOKEN + 1)
        .position(|&b| b == b' ')?;
    let month = month_from_name(&bytes[..month_len])?;
    let mut at = month_len;
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let day_len = bytes[at..]
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day = std::str::from_utf8(&bytes[at..at + day_len])
        .ok()?
        .parse::<u8>()
        .ok()?;
    if !(1..=31).contains(&day) {
        return None;
    }
    at += day_len;
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let mut year = None;
    if let Some(written) = digits::<4>(&bytes[at..])
        && bytes.get(at + 4) == Some(&b' ')
    {
        year = Some(written);
        at += 5;
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    let ms = time_of_day(bytes.get(at..)?)?;
    Some(finish_bsd(bytes, month, day, year, ms, at + 8))
}

impl BsdDate {
    /// The stamp: a wall-clock time when the line wrote a year, else yearless.
    pub fn stamp(&self, year_delta: u16) -> Stamp {
        let yearless = YearlessTime {
            year_delta,
            month: self.month,
            day: self.day,
            ms_of_day: self.ms_of_day,
        };
        match self.year.and_then(|year| yearless.local_ms(year as i32)) {
            Some(local) if year_delta == 0 => Stamp::Local(local),
            _ => Stamp::NoYear(yearless),
        }
    }
}

/// nginx `error.log`: `2023/11/12 14:00:03` (wall clock, no zone).
pub fn parse_nginx_time(bytes: &[u8]) -> Option<Millis> {
    if bytes.len() < 19 || bytes[4] != b'/' || bytes[7] != b'/' || bytes[10] != b' ' {
        return None;
    }
    let date = civil_ms(
        digits::<4>(bytes)?,
        digits::<2>(&bytes[5..])?,
        digits::<2>(&bytes[8..])?,
    )?;
    Some(date + i64::from(time_of_day(&bytes[11..])?))
}

/// Apache `error_log`: `Sun Nov 12 14:00:03.123456 2023` (2.4) or
/// `Sun Dec 04 04:47:44 2005` (2.2); wall clock, no zone.
pub fn parse_apache_time(bytes: &[u8]) -> Option<Millis> {
    if bytes.len() < 24 || bytes[3] != b' ' || bytes[7] != b' ' || bytes[10] != b' ' {
        return None;
    }
    let month = u32::from(month_from_name(&bytes[4..7])?);
    let day = match (bytes[8], bytes[9]) {
        (b' ', d) => digits::<1>(&[d])?,
        _ => digits::<2>(&bytes[8..])?,
    };
    let day_ms = time_of_day(&bytes[11..])?;
    let (fraction, used) = fraction_ms(&bytes[19..]);
    let rest = &bytes[19 + used..];
    let year = digits::<4>(rest.strip_prefix(b" ")?)?;
    Some(civil_ms(year, month, day)? + i64::from(day_ms) + i64::from(fraction))
}

/// Smallest and largest epoch in seconds taken as a time in a CSV column
/// (2001-09-09 to 2286-11-20): smaller integers are counts, not times.
pub const EPOCH_SECONDS_RANGE: std::ops::Range<f64> = 1.0e9..1.0e10;
/// The same range in milliseconds.
pub const EPOCH_MILLIS_RANGE: std::ops::Range<f64> = 1.0e12..1.0e13;

/// An epoch number in seconds or milliseconds, told apart by magnitude.
pub fn epoch_to_millis(value: f64) -> Option<Millis> {
    if EPOCH_SECONDS_RANGE.contains(&value) {
        Some((value * 1000.0).round() as Millis)
    } else if EPOCH_MILLIS_RANGE.contains(&value) {
        Some(value.round() as Millis)
    } else {
        None
    }
}

/// A time cell of a metrics CSV: RFC 3339 with or without zone, a space for
/// the `T`, `YYYY/MM/DD HH:MM:SS`, or an epoch in seconds or milliseconds.
pub fn parse_cell_time(text: &str) -> Option<Stamp> {
    let trimmed = text.trim().trim_matches('"');
    let bytes = trimmed.as_bytes();
    if let Some(iso) = parse_iso(bytes, true)
        && iso.len == bytes.len()
    {
        return Some(iso.stamp);
    }
    if bytes.len() == 19
        && let Some(local) = parse_nginx_time(bytes)
    {
        return Some(Stamp::Local(local));
    }
    if bytes.len() == 10
        && bytes[4] == b'-'
        && let Some(date) = civil_ms(
            digits::<4>(bytes)?,
            digits::<2>(&bytes[5..])?,
            digits::<2>(&bytes[8..])?,
        )
    {
        return Some(Stamp::Local(date));
    }
    if bytes.first().is_some_and(u8::is_ascii_digit) {
        let value: f64 = trimmed.parse().ok()?;
        return epoch_to_millis(value).map(Stamp::Absolute);
    }
    None
}

/// Wall-clock milliseconds of an instant in UTC (for tests and messages).
pub fn utc_ms(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Millis {
    civil_ms(year, month, day).unwrap_or(0) + i64::from((hour * 3600 + minute * 60 + second) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_699_797_603_000; // 2023-11-12T14:00:03Z

    #[test]
    fn iso_times_parse_with_and_without_zone() {
        let cases: [(&str, &str, Option<Stamp>, bool); 8] = [
            (
                "utc",
                "2023-11-12T14:00:03Z",
                Some(Stamp::Absolute(T)),
                false,
            ),
            (
                "fraction, colon offset",
                "2023-11-12T15:00:03.123456+01:00 host",
                Some(Stamp::Absolute(T + 123)),
                false,
            ),
            (
                "journalctl compact offset",
                "2023-11-12T15:00:03+0100 host",
                Some(Stamp::Absolute(T)),
                true,
            ),
            (
                "no zone is wall clock",
                "2023-11-12T14:00:03",
                Some(Stamp::Local(T)),
                false,
            ),
            (
                "space needs allow_space",
                "2023-11-12 14:00:03",
                None,
                false,
            ),
            ("bad month", "2023-13-12T14:00:03Z", None, false),
            ("bad day", "2023-02-29T14:00:03Z", None, false),
            ("too short", "2023-11-12T14:00", None, false),
        ];
        for (name, text, expected, compact) in cases {
            let parsed = parse_iso(text.as_bytes(), false);
            assert_eq!(parsed.map(|p| p.stamp), expected, "{name}");
            if let Some(parsed) = parsed {
                assert_eq!(parsed.compact_offset, compact, "{name}");
            }
        }
    }

    #[test]
    fn bsd_dates_parse_leniently() {
        let nov12 = |ms| (11, 12, None, ms);
        let at = |h: u32, m: u32, s: u32| (h * 3600 + m * 60 + s) * 1000;
        type MonthDayYearMs = (u8, u8, Option<u32>, u32);
        let cases: [(&str, &str, Option<MonthDayYearMs>); 9] = [
            (
                "fixed layout",
                "Nov 12 14:00:03 host",
                Some(nov12(at(14, 0, 3))),
            ),
            (
                "space-padded day",
                "Mar  7 19:06:53 x",
                Some((3, 7, None, at(19, 6, 53))),
            ),
            (
                "unpadded day",
                "Mar 7 19:06:53 x",
                Some((3, 7, None, at(19, 6, 53))),
            ),
            (
                "upper case",
                "AUG 10 22:18:24 host",
                Some((8, 10, None, at(22, 18, 24))),
            ),
            (
                "year before time",
                "Mar 7 2008 19:06:53: x",
                Some((3, 7, Some(2008), at(19, 6, 53))),
            ),
            (
                "french août",
                "août 19 11:08:37 nlaptop",
                Some((8, 19, None, at(11, 8, 37))),
            ),
            (
                "fraction",
                "Nov 12 14:00:03.250 host",
                Some(nov12(at(14, 0, 3) + 250)),
            ),
            ("not a month", "Foo 12 14:00:03 host", None),
            ("day 32", "Nov 32 14:00:03 host", None),
        ];
        for (name, text, expected) in cases {
            let parsed =
                parse_bsd_date(text.as_bytes()).map(|d| (d.month, d.day, d.year, d.ms_of_day));
            assert_eq!(parsed, expected, "{name}");
        }
        let with_colon = parse_bsd_date(b"Mar 7 19:06:53: example").expect("parses");
        assert_eq!(&b"Mar 7 19:06:53: example"[with_colon.len..], b" example");
    }

    #[test]
    fn error_log_times_parse() {
        assert_eq!(parse_nginx_time(b"2023/11/12 14:00:03 [error]"), Some(T));
        assert_eq!(
            parse_apache_time(b"Sun Nov 12 14:00:03.123456 2023] x"),
            Some(T + 123)
        );
        assert_eq!(
            parse_apache_time(b"Sun Dec 04 04:47:44 2005"),
            Some(utc_ms(2005, 12, 4, 4, 47, 44))
        );
        assert_eq!(parse_apache_time(b"Sun Dec 04 04:47:44 20x5"), None);
    }

    #[test]
    fn cells_parse_as_times_or_not() {
        let cases = [
            ("rfc3339", "2023-11-12T14:00:03Z", Some(Stamp::Absolute(T))),
            (
                "quoted",
                "\"2023-11-12T14:00:03Z\"",
                Some(Stamp::Absolute(T)),
            ),
            (
                "space, no zone",
                "2023-11-12 14:00:03",
                Some(Stamp::Local(T)),
            ),
            ("epoch seconds", "1699797603", Some(Stamp::Absolute(T))),
            ("epoch ms", "1699797603000", Some(Stamp::Absolute(T))),
            ("small number", "42.5", None),
            ("word", "web01", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse_cell_time(text), expected, "{name}");
        }
    }

    #[test]
    fn folds_resolve_to_the_second_instant_when_asked() {
        // 2013-11-03 01:30 in New York happened twice: EDT (05:30Z), then EST (06:30Z).
        let zone = Zone::parse("America/New_York").expect("zone");
        let stamp = Stamp::NoYear(YearlessTime {
            year_delta: 0,
            month: 11,
            day: 3,
            ms_of_day: 90 * 60_000,
        });
        assert_eq!(
            stamp.resolve(2013, &zone, false),
            Some(utc_ms(2013, 11, 3, 5, 30, 0))
        );
        assert_eq!(
            stamp.resolve(2013, &zone, true),
            Some(utc_ms(2013, 11, 3, 6, 30, 0))
        );
        let leap = Stamp::NoYear(YearlessTime {
            year_delta: 0,
            month: 2,
            day: 29,
            ms_of_day: 0,
        });
        assert_eq!(leap.resolve(2023, &Zone::Fixed(0), false), None);
        assert!(leap.resolve(2024, &Zone::Fixed(0), false).is_some());
    }

    #[test]
    fn years_whose_milliseconds_overflow_do_not_resolve() {
        // Found by the syslog_lines fuzz target: `--year` takes any i32 and
        // the year's milliseconds overflowed an i64.
        let nov12 = |year_delta| {
            Stamp::NoYear(YearlessTime {
                year_delta,
                month: 11,
                day: 12,
                ms_of_day: 50_403_000,
            })
        };
        let cases: [(&str, i32, u16, Option<Millis>); 5] = [
            ("ordinary year", 2023, 0, Some(T)),
            ("year delta added", 2022, 1, Some(T)),
            ("largest i32", i32::MAX, 0, None),
            ("largest i32 plus a delta", i32::MAX, u16::MAX, None),
            ("smallest i32", i32::MIN, 0, None),
        ];
        for (name, year, year_delta, expected) in cases {
            let stamp = nov12(year_delta);
            assert_eq!(
                stamp.resolve(year, &Zone::Fixed(0), false),
                expected,
                "{name}"
            );
            assert_eq!(stamp.ordering_ms(year), expected, "{name}");
        }
    }
}
