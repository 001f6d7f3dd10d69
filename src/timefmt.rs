//! Time as the pipeline carries it: milliseconds since the Unix epoch in UTC
//! ([`Millis`]), the zones logs are written in ([`Zone`]), and the text forms
//! the contract asks for (RFC 3339 UTC in JSON, `14:00:03 GMT+1` in Markdown).
//! Also the small parsers for times and durations given on the command line.
//!
//! Nothing here reads the system clock or the local zone: time comes from the
//! logs and the configuration, so every result is reproducible.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// The instants a log's time may be: 0000-01-01 to 9999-12-31 UTC, what RFC
/// 3339 (and the JSON report) can write. A number read as an epoch outside
/// it is not a time: a 90-digit "timestamp" in a damaged JSON line would
/// otherwise saturate to `i64::MAX` and put the log's last request beyond
/// any date, where the span from its first overflows.
pub const WRITABLE_MS: std::ops::RangeInclusive<Millis> = -62_167_219_200_000..=253_402_300_799_999;

/// `millis` when it lies in [`WRITABLE_MS`].
pub fn writable(millis: Millis) -> Option<Millis> {
    WRITABLE_MS.contains(&millis).then_some(millis)
}

pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), for the hand-written timestamp fast paths.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Number of days in `month` of `year` (for validating hand-parsed dates).
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// RFC 3339 in UTC with a `Z`, fractional seconds only when they are not zero
/// (`2023-11-12T14:00:03Z`, `2023-11-12T14:00:03.250Z`).
pub fn rfc3339_utc(at: Millis) -> String {
    match DateTime::<Utc>::from_timestamp_millis(at) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => format!("@{at}ms"),
    }
}

/// A zone logs are written in: a fixed offset (what access logs carry) or an
/// IANA zone given with `--tz`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i32),
    Named(chrono_tz::Tz),
    /// The offsets the logs themselves carry when they changed once (a
    /// daylight-saving change inside the log, `+0100` then `+0200`):
    /// `before` (seconds east of UTC) until the instant `at` of the first
    /// line written with `after`, `after` from then on. A log says its
    /// offset, never its zone's name, so this is what each time was
    /// written in, not a rule that goes on.
    Shifting {
        before: i32,
        after: i32,
        at: Millis,
    },
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(0)
    }
}

impl Zone {
    /// Parses `UTC`, `Z`, `GMT`, `+01:00`, `-0700`, `GMT+1` or an IANA name.
    pub fn parse(text: &str) -> Option<Zone> {
        let trimmed = text.trim();
        if matches!(trimmed, "UTC" | "utc" | "Z" | "GMT") {
            return Some(Zone::Fixed(0));
        }
        let offset_text = trimmed
            .strip_prefix("GMT")
            .or_else(|| trimmed.strip_prefix("UTC"))
            .unwrap_or(trimmed);
        if let Some(seconds) = parse_offset(offset_text) {
            return Some(Zone::Fixed(seconds));
        }
        trimmed.parse::<chrono_tz::Tz>().ok().map(Zone::Named)
    }

    /// Seconds east of UTC at the instant `at`.
    pub fn offset_at(&self, at: Millis) -> i32 {
        match self {
            Zone::Fixed(seconds) => *seconds,
            Zone::Shifting {
                before,
                after,
                at: change,
            } => {
                if at < *change {
                    *before
                } else {
                    *after
                }
            }
            Zone::Named(tz) => match DateTime::<Utc>::from_timestamp_millis(at) {
                Some(utc) => tz
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// Seconds east of UTC for a wall-clock time written in this zone (the
    /// earlier of two candidates in a DST fold, the offset after the gap in a
    /// DST gap).
    pub fn offset_for_local(&self, local: NaiveDateTime) -> i32 {
        match self {
            Zone::Fixed(seconds) => *seconds,
            Zone::Shifting { before, after, at } => shifted_offset_for_local(
                (*before, *after, *at),
                local.and_utc().timestamp_millis(),
                false,
            ),
            Zone::Named(tz) => {
                use chrono::LocalResult;
                match tz.offset_from_local_datetime(&local) {
                    LocalResult::Single(offset) | LocalResult::Ambiguous(offset, _) => {
                        offset.fix().local_minus_utc()
                    }
                    LocalResult::None => {
                        tz.offset_from_utc_datetime(&local).fix().local_minus_utc()
                    }
                }
            }
        }
    }

    /// The change of offset inside the logs, as (before, after, instant),
    /// when the zone is one.
    pub fn offset_change(&self) -> Option<(i32, i32, Millis)> {
        match *self {
            Zone::Shifting { before, after, at } => Some((before, after, at)),
            Zone::Fixed(_) | Zone::Named(_) => None,
        }
    }

    /// The zone's label at `at`, the way postmortems write it: `GMT`,
    /// `GMT+1`, `GMT-7`, `GMT+5:30`.
    pub fn label_at(&self, at: Millis) -> String {
        gmt_label(self.offset_at(at))
    }
}

/// Of a change of offset `(before, after, at)` ([`Zone::Shifting`]), the
/// offset of the wall-clock time `local_ms` (read as if UTC): `before`
/// while the instant it gives is before the change, `after` from it; in the
/// hour a change repeats, the earlier unless `second_of_fold`; in the hour
/// it skips, `after`.
pub fn shifted_offset_for_local(
    (before, after, at): (i32, i32, Millis),
    local_ms: Millis,
    second_of_fold: bool,
) -> i32 {
    let as_before = local_ms - i64::from(before) * MS_PER_SECOND;
    let as_after = local_ms - i64::from(after) * MS_PER_SECOND;
    match (as_before < at, as_after >= at) {
        (true, true) if second_of_fold => after,
        (true, _) => before,
        (false, _) => after,
    }
}

/// `+01:00`, `+0100`, `-07`, `+5:30` to seconds east of UTC.
pub fn parse_offset(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let sign = match bytes.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &text[1..];
    let (hours, minutes) = if let Some((h, m)) = rest.split_once(':') {
        (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
    } else if rest.len() == 4 {
        (
            rest[..2].parse::<i32>().ok()?,
            rest[2..].parse::<i32>().ok()?,
        )
    } else if (1..=2).contains(&rest.len()) {
        (rest.parse::<i32>().ok()?, 0)
    } else {
        return None;
    };
    if !(0..=18).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// `GMT`, `GMT+1`, `GMT-7`, `GMT+5:30` for an offset in seconds east of UTC.
pub fn gmt_label(offset_seconds: i32) -> String {
    if offset_seconds == 0 {
        return "GMT".to_string();
    }
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let total_minutes = offset_seconds.unsigned_abs() / 60;
    let (hours, minutes) = (total_minutes / 60, total_minutes % 60);
    if minutes == 0 {
        format!("GMT{sign}{hours}")
    } else {
        format!("GMT{sign}{hours}:{minutes:02}")
    }
}

/// Wall-clock time of `at` in `zone`.
pub fn local_time(at: Millis, zone: &Zone) -> NaiveDateTime {
    let shifted = at + i64::from(zone.offset_at(at)) * MS_PER_SECOND;
    DateTime::<Utc>::from_timestamp_millis(shifted)
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

/// `2023-11-12 14:00:03 GMT+1`: a time for people, in the logs' zone.
pub fn human_datetime(at: Millis, zone: &Zone) -> String {
    format!(
        "{} {}",
        local_time(at, zone).format("%Y-%m-%d %H:%M:%S"),
        zone.label_at(at)
    )
}

/// `14:00:03`: the wall-clock part only, for timeline rows.
pub fn human_time(at: Millis, zone: &Zone) -> String {
    local_time(at, zone).format("%H:%M:%S").to_string()
}

/// `3 h 0 min`, `52 s`, `8 min 36 s`: a duration for people.
pub fn human_duration(ms: i64) -> String {
    let total_seconds = (ms.max(0) + 500) / MS_PER_SECOND;
    let (hours, minutes, seconds) = (
        total_seconds / 3600,
        (total_seconds % 3600) / 60,
        total_seconds % 60,
    );
    match (hours, minutes, seconds) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// A time given on the command line: absolute when it carries a zone, or a
/// wall-clock time to be read in the logs' zone once that is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeSpec {
    Absolute(Millis),
    Local(NaiveDateTime),
}

impl TimeSpec {
    /// Accepts RFC 3339 (`2023-11-12T14:15:00Z`, `...+01:00`), and
    /// `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` without a zone.
    pub fn parse(text: &str) -> Option<TimeSpec> {
        let trimmed = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
            return Some(TimeSpec::Absolute(t.timestamp_millis()));
        }
        let normalized = trimmed.replacen('T', " ", 1);
        for layout in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
            if let Ok(local) = NaiveDateTime::parse_from_str(&normalized, layout) {
                return Some(TimeSpec::Local(local));
            }
        }
        NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(TimeSpec::Local)
    }

    /// The instant, reading a zoneless time in `zone`.
    pub fn resolve(&self, zone: &Zone) -> Millis {
        match self {
            TimeSpec::Absolute(at) => *at,
            TimeSpec::Local(local) => {
                let offset = zone.offset_for_local(*local);
                local.and_utc().timestamp_millis() - i64::from(offset) * MS_PER_SECOND
            }
        }
    }
}

/// Parses a duration with its unit (`250ms`, `1.5s`, `30s`, `1m`, `5min`,
/// `1h`, `1d`) into microseconds. A bare number is no duration: whether
/// `--slow 2000` means milliseconds or seconds is a guess, and a wrong one
/// changes every count; the command line shows the fix instead
/// ([`bare_number`]).
pub fn parse_duration_us(text: &str) -> Option<u64> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.parse().ok()?;
    let unit_us = match unit.trim() {
        "s" | "sec" | "secs" => 1e6,
        "ms" => 1e3,
        "us" | "µs" => 1.0,
        "m" | "min" | "mins" => 60e6,
        "h" | "hr" => 3600e6,
        "d" | "day" | "days" => 86_400e6,
        _ => return None,
    };
    let us = value * unit_us;
    (us.is_finite() && us > 0.0 && us < 1e15).then(|| us.round() as u64)
}

/// The number, when `text` is a bare number (`2000`, `1.5`): a duration
/// given without its unit.
pub fn bare_number(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    (!trimmed.is_empty() && trimmed.parse::<f64>().is_ok_and(f64::is_finite)).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_civil_matches_known_dates() {
        let cases = [
            ("epoch", 1970, 1, 1, 0),
            ("y2k", 2000, 3, 1, 11_017),
            ("seed 003 day", 2023, 11, 12, 19_673),
            ("before epoch", 1969, 12, 31, -1),
        ];
        for (name, y, m, d, expected) in cases {
            assert_eq!(days_from_civil(y, m, d), expected, "{name}");
        }
    }

    #[test]
    fn zones_parse_and_label() {
        let cases = [
            ("UTC", 0, "GMT"),
            ("+01:00", 3600, "GMT+1"),
            ("-0700", -25_200, "GMT-7"),
            ("+05:30", 19_800, "GMT+5:30"),
            ("GMT+1", 3600, "GMT+1"),
        ];
        for (text, offset, label) in cases {
            let zone = Zone::parse(text).expect(text);
            assert_eq!(zone.offset_at(0), offset, "{text}");
            assert_eq!(zone.label_at(0), label, "{text}");
        }
        let berlin = Zone::parse("Europe/Berlin").expect("IANA name");
        // 2023-07-01T00:00:00Z is summer time in Berlin: UTC+2.
        assert_eq!(berlin.offset_at(1_688_169_600_000), 7200);
        assert!(Zone::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn a_shifting_zone_is_each_offset_in_its_time() {
        // The log wrote +0100 until 2024-03-31T01:00:00Z, +0200 from then.
        let change = 1_711_846_800_000;
        let spring = Zone::Shifting {
            before: 3600,
            after: 7200,
            at: change,
        };
        let autumn = Zone::Shifting {
            before: 7200,
            after: 3600,
            at: change,
        };
        let local = |text: &str| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("a local time")
        };
        let cases = [
            (
                "a second before: GMT+1",
                spring,
                change - 1_000,
                3600,
                "GMT+1",
            ),
            ("at the change: GMT+2", spring, change, 7200, "GMT+2"),
        ];
        for (name, zone, at, offset, label) in cases {
            assert_eq!(zone.offset_at(at), offset, "{name}");
            assert_eq!(zone.label_at(at), label, "{name}");
        }
        assert_eq!(
            human_datetime(change - 1_000, &spring),
            "2024-03-31 01:59:59 GMT+1"
        );
        assert_eq!(human_datetime(change, &spring), "2024-03-31 03:00:00 GMT+2");
        let local_cases = [
            (
                "spring, before the gap",
                spring,
                "2024-03-31 01:30:00",
                3600,
            ),
            (
                "spring, in the skipped hour",
                spring,
                "2024-03-31 02:30:00",
                7200,
            ),
            ("spring, after", spring, "2024-03-31 03:30:00", 7200),
            (
                "autumn, the repeated hour: the earlier",
                autumn,
                "2024-03-31 02:30:00",
                7200,
            ),
            ("autumn, after", autumn, "2024-03-31 03:30:00", 3600),
        ];
        for (name, zone, text, offset) in local_cases {
            assert_eq!(zone.offset_for_local(local(text)), offset, "{name}");
        }
        assert_eq!(spring.offset_change(), Some((3600, 7200, change)));
        assert_eq!(Zone::Fixed(3600).offset_change(), None);
    }

    #[test]
    fn rfc3339_omits_zero_fraction() {
        assert_eq!(rfc3339_utc(1_699_797_603_000), "2023-11-12T14:00:03Z");
        assert_eq!(rfc3339_utc(1_699_797_603_250), "2023-11-12T14:00:03.250Z");
    }

    #[test]
    fn time_specs_resolve_in_the_logs_zone() {
        let plus_one = Zone::Fixed(3600);
        let cases = [
            ("2023-11-12T14:15:00Z", 1_699_798_500_000),
            ("2023-11-12 15:15", 1_699_798_500_000),
            ("2023-11-12T15:15:00", 1_699_798_500_000),
            ("2023-11-12T15:15:00+01:00", 1_699_798_500_000),
        ];
        for (text, expected) in cases {
            let spec = TimeSpec::parse(text).expect(text);
            assert_eq!(spec.resolve(&plus_one), expected, "{text}");
        }
        assert!(TimeSpec::parse("yesterday").is_none());
    }

    #[test]
    fn durations_parse_with_units() {
        let cases = [
            ("30s", Some(30_000_000)),
            ("1m", Some(60_000_000)),
            ("5min", Some(300_000_000)),
            ("250ms", Some(250_000)),
            ("1.5s", Some(1_500_000)),
            ("1h", Some(3_600_000_000)),
            ("1d", Some(86_400_000_000)),
            ("2", None),
            ("0s", None),
            ("fast", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration_us(text), expected, "{text}");
        }
        let bare = [
            ("2000", Some("2000")),
            (" 1.5 ", Some("1.5")),
            ("2s", None),
            ("", None),
        ];
        for (text, expected) in bare {
            assert_eq!(bare_number(text), expected, "{text:?}");
        }
    }

    #[test]
    fn human_durations_read_naturally() {
        assert_eq!(human_duration(52_000), "52 s");
        assert_eq!(human_duration(516_000), "8 min 36 s");
        assert_eq!(human_duration(10_778_000), "2 h 59 min");
    }
}
