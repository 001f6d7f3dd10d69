//! The chart's two custom axes for plotters: time on round wall-clock
//! ticks of the logs' zone, latency on a log scale with 1-2-5 ticks; and
//! the labels they and the panels write.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

use crate::timefmt::{
    MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND, Millis, Zone, local_time,
};

/// The time axis: milliseconds, with ticks on round wall-clock times of
/// the logs' zone (every 5 min, 1 h, 6 h, a day...).
#[derive(Clone, Copy, Debug)]
pub(super) struct TimeAxis {
    pub(super) start: Millis,
    pub(super) end: Millis,
    pub(super) zone: Zone,
    pub(super) multi_day: bool,
}

/// Tick spacings tried, smallest first.
const TICK_STEPS_MS: [i64; 17] = [
    MS_PER_SECOND * 10,
    MS_PER_SECOND * 30,
    MS_PER_MINUTE,
    2 * MS_PER_MINUTE,
    5 * MS_PER_MINUTE,
    10 * MS_PER_MINUTE,
    15 * MS_PER_MINUTE,
    30 * MS_PER_MINUTE,
    MS_PER_HOUR,
    2 * MS_PER_HOUR,
    3 * MS_PER_HOUR,
    6 * MS_PER_HOUR,
    12 * MS_PER_HOUR,
    MS_PER_DAY,
    2 * MS_PER_DAY,
    7 * MS_PER_DAY,
    30 * MS_PER_DAY,
];

impl TimeAxis {
    /// Round wall-clock times inside the range, at most `max` of them.
    fn ticks(&self, max: usize) -> Vec<Millis> {
        let span = (self.end - self.start).max(1);
        let max = max.max(1) as i64;
        let step = TICK_STEPS_MS
            .iter()
            .copied()
            .find(|step| span / step < max)
            .unwrap_or(TICK_STEPS_MS[TICK_STEPS_MS.len() - 1]);
        let offset_ms = i64::from(self.zone.offset_at(self.start)) * MS_PER_SECOND;
        let local_start = self.start + offset_ms;
        let mut local = local_start.div_euclid(step) * step;
        if local < local_start {
            local += step;
        }
        let mut ticks = Vec::new();
        while local - offset_ms <= self.end {
            ticks.push(local - offset_ms);
            local += step;
        }
        ticks
    }

    fn label(&self, at: Millis) -> String {
        let local = local_time(at, &self.zone);
        let midnight = local.format("%H:%M:%S").to_string() == "00:00:00";
        let with_seconds = self.end - self.start < 10 * MS_PER_MINUTE;
        if self.multi_day && midnight {
            local.format("%b %d").to_string()
        } else if with_seconds {
            local.format("%H:%M:%S").to_string()
        } else {
            local.format("%H:%M").to_string()
        }
    }
}

/// The pixel at `fraction` of the way from `limit.0` to `limit.1`.
fn pixel(fraction: f64, limit: (i32, i32)) -> i32 {
    limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
}

impl Ranged for TimeAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = Millis;

    fn map(&self, value: &Millis, limit: (i32, i32)) -> i32 {
        let span = (self.end - self.start).max(1) as f64;
        pixel((*value - self.start) as f64 / span, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<Millis> {
        self.ticks(hint.max_num_points())
    }

    fn range(&self) -> Range<Millis> {
        self.start..self.end
    }
}

impl ValueFormatter<Millis> for TimeAxis {
    fn format(value: &Millis) -> String {
        crate::timefmt::rfc3339_utc(*value)
    }

    fn format_ext(&self, value: &Millis) -> String {
        self.label(*value)
    }
}

/// The latency axis: seconds on a log scale with ticks at 1, 2 and 5 ×
/// 10^k (only the powers of ten when those would crowd it), so the
/// baseline, the slow band and timeouts stay readable together.
#[derive(Clone, Copy, Debug)]
pub(super) struct LatencyAxis {
    pub(super) low: f64,
    pub(super) high: f64,
}

impl LatencyAxis {
    fn ticks(&self, max: usize) -> Vec<f64> {
        let (low, high) = (self.low.max(f64::MIN_POSITIVE), self.high.max(self.low));
        let first_decade = low.log10().floor() as i32;
        let last_decade = high.log10().ceil() as i32;
        for steps in [&[1.0, 2.0, 5.0][..], &[1.0][..]] {
            let ticks: Vec<f64> = (first_decade..=last_decade)
                .flat_map(|decade| steps.iter().map(move |step| step * 10f64.powi(decade)))
                .filter(|tick| (low..=high).contains(tick))
                .collect();
            if ticks.len() <= max.max(2) {
                return ticks;
            }
        }
        Vec::new()
    }
}

impl Ranged for LatencyAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (low, high) = (self.low.ln(), self.high.ln());
        let span = if high > low { high - low } else { 1.0 };
        pixel((value.max(self.low).ln() - low) / span, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        self.ticks(hint.max_num_points())
    }

    fn range(&self) -> Range<f64> {
        self.low..self.high
    }
}

impl ValueFormatter<f64> for LatencyAxis {
    fn format(value: &f64) -> String {
        seconds_label(*value)
    }
}

/// `12`, `2.5`, `0.25`: a tick label without noise.
pub(super) fn compact(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub(super) fn seconds_label(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{} ms", compact(seconds * 1000.0))
    } else {
        format!("{} s", compact(seconds))
    }
}

pub(super) fn zone_text(axis: &TimeAxis) -> String {
    match axis.zone {
        Zone::Named(tz) => format!("{tz}, {}", axis.zone.label_at(axis.start)),
        Zone::Fixed(_) => axis.zone.label_at(axis.start),
        Zone::Shifting { before, after, .. } => {
            format!(
                "{} then {}",
                crate::timefmt::gmt_label(before),
                crate::timefmt::gmt_label(after)
            )
        }
    }
}

/// `, 2023-11-12` or `, 2023-11-12 to 2023-11-14`.
pub(super) fn date_text(axis: &TimeAxis) -> String {
    let first = local_time(axis.start, &axis.zone).date();
    let last = local_time(axis.end - 1, &axis.zone).date();
    if first == last {
        format!(", {first}")
    } else {
        format!(", {first} to {last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::MAX_X_LABELS;

    fn axis(start: Millis, end: Millis, offset_s: i32) -> TimeAxis {
        TimeAxis {
            start,
            end,
            zone: Zone::Fixed(offset_s),
            multi_day: false,
        }
    }

    /// 2023-11-12T11:00:00Z.
    const ELEVEN_UTC: Millis = 1_699_786_800_000;

    #[test]
    fn ticks_fall_on_round_local_times() {
        struct Case {
            name: &'static str,
            span_ms: i64,
            offset_s: i32,
            first_label: &'static str,
            step_ms: i64,
        }
        let cases = [
            Case {
                name: "six hours in GMT+1: hourly from 12:00",
                span_ms: 6 * MS_PER_HOUR,
                offset_s: 3600,
                first_label: "12:00",
                step_ms: MS_PER_HOUR,
            },
            Case {
                name: "an hour and a half in GMT+5:30: every 10 min",
                span_ms: 90 * MS_PER_MINUTE,
                offset_s: 19_800,
                first_label: "16:30",
                step_ms: 10 * MS_PER_MINUTE,
            },
            Case {
                name: "two days: every 6 h",
                span_ms: 2 * MS_PER_DAY,
                offset_s: 0,
                first_label: "12:00",
                step_ms: 6 * MS_PER_HOUR,
            },
        ];
        for case in cases {
            let axis = axis(ELEVEN_UTC, ELEVEN_UTC + case.span_ms, case.offset_s);
            let ticks = axis.ticks(MAX_X_LABELS);
            assert!(
                ticks.len() <= MAX_X_LABELS,
                "{}: {}",
                case.name,
                ticks.len()
            );
            assert_eq!(axis.label(ticks[0]), case.first_label, "{}", case.name);
            assert_eq!(ticks[1] - ticks[0], case.step_ms, "{}", case.name);
            assert!(ticks[0] >= ELEVEN_UTC, "{}", case.name);
        }
    }

    #[test]
    fn latency_ticks_are_round_on_a_log_scale() {
        let cases = [
            ("within a decade", 0.1, 2.4, vec![0.1, 0.2, 0.5, 1.0, 2.0]),
            (
                "three decades: powers of ten",
                0.05,
                120.0,
                vec![0.1, 1.0, 10.0, 100.0],
            ),
        ];
        for (name, low, high, expected) in cases {
            let ticks = LatencyAxis { low, high }.ticks(6);
            assert_eq!(ticks.len(), expected.len(), "{name}: {ticks:?}");
            for (tick, want) in ticks.iter().zip(&expected) {
                assert!((tick - want).abs() < 1e-9, "{name}: {ticks:?}");
            }
        }
    }
}
