//! Calendar arithmetic and the timestamp layouts the generated logs use.
//!
//! The generator never reads the clock or the local zone: every instant is a
//! count of milliseconds (or microseconds) since the Unix epoch, and every
//! rendering takes an explicit fixed [`Zone`]. The conversions are written by
//! hand (civil-from-days) so the benchmark writer can render millions of
//! timestamps without allocating, and so the output cannot depend on a
//! library's locale or formatting choices.

use std::io::Write;

/// Milliseconds in one second.
pub const MS_PER_SECOND: i64 = 1_000;
/// Microseconds in one millisecond.
pub const US_PER_MS: u64 = 1_000;
/// Microseconds in one second.
pub const US_PER_SECOND: u64 = 1_000_000;
/// Milliseconds in one minute.
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
/// Milliseconds in one hour.
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
/// Seconds in one day.
const SECONDS_PER_DAY: i64 = 86_400;

/// English month abbreviations, as CLF, RFC 3164 and Apache print them.
const MONTH_ABBREVIATIONS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// English weekday abbreviations starting on Monday (ISO order).
const WEEKDAY_ABBREVIATIONS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A fixed offset from UTC, as the logs of one machine carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    offset_seconds: i32,
}

impl Zone {
    /// UTC (`+0000`).
    pub const UTC: Zone = Zone { offset_seconds: 0 };

    /// A zone `hours` (may be negative) and `minutes` east of UTC.
    pub const fn from_hours_minutes(hours: i32, minutes: i32) -> Zone {
        let sign = if hours < 0 { -1 } else { 1 };
        Zone {
            offset_seconds: hours * 3600 + sign * minutes * 60,
        }
    }

    /// Seconds east of UTC.
    pub const fn offset_seconds(self) -> i32 {
        self.offset_seconds
    }

    /// `+0100` (CLF and `%z`).
    pub fn clf_suffix(self) -> String {
        let (sign, hours, minutes) = self.parts();
        format!("{sign}{hours:02}{minutes:02}")
    }

    /// `+01:00` (RFC 3339).
    pub fn rfc3339_suffix(self) -> String {
        let (sign, hours, minutes) = self.parts();
        format!("{sign}{hours:02}:{minutes:02}")
    }

    fn parts(self) -> (char, i32, i32) {
        let sign = if self.offset_seconds < 0 { '-' } else { '+' };
        let magnitude = self.offset_seconds.abs();
        (sign, magnitude / 3600, (magnitude % 3600) / 60)
    }
}

/// A wall-clock reading in some zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
}

impl WallClock {
    /// Seconds since local midnight.
    pub fn seconds_of_day(&self) -> u32 {
        self.hour * 3600 + self.minute * 60 + self.second
    }

    /// `Nov` for November.
    pub fn month_abbreviation(&self) -> &'static str {
        MONTH_ABBREVIATIONS[(self.month - 1) as usize]
    }

    /// `Sun` for Sunday.
    pub fn weekday_abbreviation(&self) -> &'static str {
        WEEKDAY_ABBREVIATIONS[self.weekday as usize]
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// The instant (ms since the epoch) of a wall-clock time in `zone`.
pub fn epoch_ms(zone: Zone, date: (i32, u32, u32), time: (u32, u32, u32)) -> i64 {
    let (year, month, day) = date;
    let (hour, minute, second) = time;
    let local_seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second);
    (local_seconds - i64::from(zone.offset_seconds)) * MS_PER_SECOND
}

/// The wall clock in `zone` at `epoch_seconds`.
pub fn wall_clock(epoch_seconds: i64, zone: Zone) -> WallClock {
    let local = epoch_seconds + i64::from(zone.offset_seconds);
    let days = local.div_euclid(SECONDS_PER_DAY);
    let seconds_of_day = local.rem_euclid(SECONDS_PER_DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    WallClock {
        year,
        month,
        day,
        hour: seconds_of_day / 3600,
        minute: (seconds_of_day / 60) % 60,
        second: seconds_of_day % 60,
        // 1970-01-01 was a Thursday (index 3 counting from Monday).
        weekday: (days + 3).rem_euclid(7) as u32,
    }
}

/// `12/Nov/2023:14:00:03 +0000`, the CLF `[$time_local]` / `%t` body.
pub fn write_clf(out: &mut Vec<u8>, epoch_seconds: i64, zone: Zone) {
    let wall = wall_clock(epoch_seconds, zone);
    let (sign, hours, minutes) = zone.parts();
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{:02}/{}/{}:{:02}:{:02}:{:02} {sign}{hours:02}{minutes:02}",
        wall.day,
        wall.month_abbreviation(),
        wall.year,
        wall.hour,
        wall.minute,
        wall.second
    );
}

/// `Nov 12 14:00:03` (RFC 3164; the day is space-padded).
pub fn rfc3164(epoch_seconds: i64, zone: Zone) -> String {
    let wall = wall_clock(epoch_seconds, zone);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        wall.month_abbreviation(),
        wall.day,
        wall.hour,
        wall.minute,
        wall.second
    )
}

/// `2024-05-07T14:40:03+01:00` (nginx `$time_iso8601`).
pub fn write_iso8601_local(out: &mut Vec<u8>, epoch_seconds: i64, zone: Zone) {
    let wall = wall_clock(epoch_seconds, zone);
    let (sign, hours, minutes) = zone.parts();
    let _ = write!(
        out,
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{hours:02}:{minutes:02}",
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
    );
}

/// `2022-03-27T15:29:41.512345+01:00` (rsyslog high-precision, RFC 5424).
pub fn rfc3339_local_micros(epoch_us: i64, zone: Zone) -> String {
    let seconds = epoch_us.div_euclid(US_PER_SECOND as i64);
    let micros = epoch_us.rem_euclid(US_PER_SECOND as i64);
    let wall = wall_clock(seconds, zone);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}{}",
        wall.year,
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        zone.rfc3339_suffix()
    )
}

/// `2024-03-05T10:41:07+0000` (`journalctl -o short-iso`).
pub fn short_iso(epoch_seconds: i64, zone: Zone) -> String {
    let wall = wall_clock(epoch_seconds, zone);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        wall.year,
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        zone.clf_suffix()
    )
}

/// `Sun Mar 27 15:30:02.123456 2022` (Apache 2.4 `error_log`, local time).
pub fn apache_error_time(epoch_us: i64, zone: Zone) -> String {
    let seconds = epoch_us.div_euclid(US_PER_SECOND as i64);
    let micros = epoch_us.rem_euclid(US_PER_SECOND as i64);
    let wall = wall_clock(seconds, zone);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02}.{micros:06} {}",
        wall.weekday_abbreviation(),
        wall.month_abbreviation(),
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        wall.year
    )
}

/// `2023/08/17 09:12:03` (nginx `error.log`, local time).
pub fn nginx_error_time(epoch_seconds: i64, zone: Zone) -> String {
    let wall = wall_clock(epoch_seconds, zone);
    format!(
        "{}/{:02}/{:02} {:02}:{:02}:{:02}",
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
    )
}

/// `2023-11-12 14:00:15` (local time, as Grafana CSV exports print it).
pub fn plain_local(epoch_seconds: i64, zone: Zone) -> String {
    let wall = wall_clock(epoch_seconds, zone);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
    )
}

/// `2023-11-12T14:00:03Z`, or `2023-11-12T14:00:03.517Z` when the
/// milliseconds are not zero: the form the ground truth uses.
pub fn rfc3339_utc(epoch_ms: i64) -> String {
    let seconds = epoch_ms.div_euclid(MS_PER_SECOND);
    let millis = epoch_ms.rem_euclid(MS_PER_SECOND);
    let wall = wall_clock(seconds, Zone::UTC);
    let base = format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}",
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
    );
    if millis == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{millis:03}Z")
    }
}

/// `14:00:03` in `zone` (for README tables).
pub fn local_hms(epoch_ms: i64, zone: Zone) -> String {
    let wall = wall_clock(epoch_ms.div_euclid(MS_PER_SECOND), zone);
    format!("{:02}:{:02}:{:02}", wall.hour, wall.minute, wall.second)
}
