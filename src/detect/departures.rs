//! Incidents from metrics alone: the periods in which one series departs
//! from what it normally does, for runs without access logs.
//!
//! # Method
//!
//! What the best detectors of the Numenta Anomaly Benchmark share, kept to
//! what a postmortem needs (an incident is a lasting departure, not one odd
//! point):
//!
//! 1. **Robust seasonal baseline** (the decomposition of STL, Cleveland et
//!    al. 1990, with medians in place of LOESS, as Twitter's S-H-ESD does,
//!    Hochenbaum et al. 2017): the value each point is compared with is the
//!    median of its time of day over all days ([`DAILY_MIN_DAYS`] or more),
//!    or of its time of week over all weeks ([`WEEKLY_MIN_DAYS`] or more: a
//!    city's Saturday night is not an incident every week), plus a trend:
//!    the rolling median of what is left over a week ([`TREND_WINDOW_MS`],
//!    series of two weeks or more), so a slow drift over months (the seasons
//!    of a room's temperature) does not hide a two-day excursion from it.
//! 2. **Robust scale**: the residuals' median and 1.4826 × MAD
//!    ([`super::changepoint::robust_baseline`]).
//! 3. **Departures** begin at a point beyond [`DEPARTURE_Z`] scales that is
//!    also among the series' rarest residuals ([`RARE_TAIL_SHARE`]), and
//!    take in the neighbouring points that stay beyond [`DEPARTURE_HOLD_Z`]
//!    on the same side (hysteresis). They count when they hold
//!    [`MIN_DEPARTURE_POINTS`] rare points and last [`min_duration_ms`];
//!    or, for a departure too mild to be rare at any one point, when it
//!    stays beyond [`LASTING_Z`] for [`LASTING_MIN_POINTS`] points and
//!    [`LASTING_MIN_MS`] (HTM's anomaly likelihood makes the same point: a
//!    run of moderate surprises is itself rare); or, too short for the
//!    minimum duration, when it reaches [`EXTREME_Z`] scales over at least
//!    [`EXTREME_MIN_POINTS`] readings and [`MIN_DEPARTURE_MS`], and the
//!    series has no more than [`EXTREME_MAX_PER_SIDE`] such excursions on
//!    that side (the test of
//!    Twitter's S-H-ESD and of HTM's short window, kept to what a
//!    postmortem needs: a short excursion counts when it is extreme against
//!    the robust spread of the whole history and unprecedented in it, not
//!    when it is the series' daily habit).
//! 4. Departures less than [`INCIDENT_MERGE_GAP_MS`] apart, of one series
//!    or several, are one incident (`evidence::metric_incidents`).
//!
//! Measured on NAB and the Microsoft cloud monitoring set: README,
//! "Accuracy on real metrics" (`cargo run --release --example
//! nab_accuracy -- ../shared/datasets/nab`).

use crate::timefmt::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Millis};

use super::changepoint::robust_baseline;
use super::stats::{median, quantile};

/// Scales from the baseline beyond which a point departs.
pub const DEPARTURE_Z: f64 = 5.0;

/// Once a departure has begun, a point still belongs to it while it stays
/// this many scales out in the same direction: hysteresis (a Schmitt
/// trigger's two thresholds), so a long departure that dips back toward
/// normal for a point or two is one incident, not ten, and it starts where
/// the series first left this band, not at its first extreme point.
pub const DEPARTURE_HOLD_Z: f64 = 2.5;

/// A departure must begin at one of the rarest residuals of its series:
/// beyond this share of the series at either tail. The MAD understates the
/// spread of a series that moves between several normal levels (a fleet's
/// CPU that steps with its autoscaling group: a sixth of its points lie
/// beyond five MADs), and an incident is rare by definition. The gate
/// applies when each tail holds at least [`MIN_DEPARTURE_POINTS`] points
/// (series of 600 points or more); shorter series rely on the z-score alone.
pub const RARE_TAIL_SHARE: f64 = 0.005;

/// Fewest rare departing points in a departure.
pub const MIN_DEPARTURE_POINTS: usize = 3;

/// A departure lasts at least this long ("long enough to matter")...
pub const MIN_DEPARTURE_MS: i64 = 5 * MS_PER_MINUTE;

/// ...and at least this many sampling steps (a 20-minute burst of a
/// 5-minute series is four points: a blip an autoscaler absorbs)...
pub const MIN_DEPARTURE_STEPS: i64 = 5;

/// ...of which no more than this is asked of slowly sampled series (five
/// steps of an hourly series would be five hours).
pub const MIN_DEPARTURE_STEPS_CAP_MS: i64 = MS_PER_HOUR;

/// A departure whose points are not rare one by one still counts when this
/// many of them stay beyond [`LASTING_Z`] scales...
pub const LASTING_MIN_POINTS: usize = 24;

/// ...scales: below [`DEPARTURE_Z`], so that a machine running 4 scales
/// cold for half a day is an incident though no single reading is rare...
pub const LASTING_Z: f64 = 4.0;

/// ...over at least this long: a quarter of a day, longer than any daily
/// wobble the seasonal baseline leaves behind.
pub const LASTING_MIN_MS: i64 = 6 * MS_PER_HOUR;

/// A departure too short for [`min_duration_ms`] still counts when one of
/// its points is this many scales out (and among the rare residuals): the
/// one-reading collapse that a minimum duration would discard (a latency
/// series that drops to a third of its level for one 5-minute reading while
/// its hosts fail). Gaussian noise never reaches eight scales (p < 1e-15 per
/// point), and a heavy tail that does is held back by
/// [`EXTREME_MAX_PER_SIDE`]. Measured, not derived: on NAB and the
/// Microsoft set, 7 scales adds false incidents on realTraffic, 10 and 12
/// lose `ec2_request_latency`'s first window (docs/accuracy.md).
pub const EXTREME_Z: f64 = 8.0;

/// ...provided the series has at most this many such extreme excursions on
/// that side in all its history: what recurs is the series' habit, not an
/// incident. A daily peak the seasonal baseline misses (a nightly job
/// that starts a few minutes later each day) recurs every day, so a series
/// long enough for a daily baseline ([`DAILY_MIN_DAYS`], three days) shows
/// it at least three times and is never reported for it.
pub const EXTREME_MAX_PER_SIDE: usize = 2;

/// ...and provided the excursion spans at least this many readings: a lone
/// reading can be a glitch of the sampler (a scrape that timed out, a
/// counter read twice), two in a row are the system. It must still last
/// [`MIN_DEPARTURE_MS`]: what the minimum duration waives for an extreme
/// departure is the number of sampling steps, not the five minutes.
pub const EXTREME_MIN_POINTS: usize = 2;

/// Points of a departure further apart than this are two departures...
pub const DEPARTURE_MERGE_GAP_MS: i64 = 10 * MS_PER_MINUTE;

/// ...or further than this many sampling steps, for series sampled every
/// half hour or hour, where ten minutes is less than one step.
pub const DEPARTURE_MERGE_GAP_STEPS: i64 = 3;

/// Departures closer than this (of one series or several) are one
/// incident: an outage that flapped is one postmortem, not three.
pub const INCIDENT_MERGE_GAP_MS: i64 = 2 * MS_PER_HOUR;

/// A series spanning at least this many days is compared with its own
/// time of day (a daily cycle is not an incident every afternoon): three
/// values per time of day, so the median is not one day's reading.
pub const DAILY_MIN_DAYS: i64 = 3;

/// A series spanning at least this many days is compared with its own time
/// of week: eight values per time of week, so one bad week is an eighth of
/// the median's sample and cannot move it far.
pub const WEEKLY_MIN_DAYS: i64 = 56;

/// The trend is the rolling median of the deseasonalised series over this
/// window, centred: a week, far longer than an incident (which cannot pull
/// a median until it fills half the window) and far shorter than the
/// seasons.
pub const TREND_WINDOW_MS: i64 = 7 * MS_PER_DAY;

/// The trend is evaluated once per this many parts of its window (every
/// 10.5 hours for a week): the median moves slowly, and evaluating it at
/// every point of a month of 15-second samples would cost billions of
/// steps.
pub const TREND_BLOCKS_PER_WINDOW: i64 = 16;

/// A trend needs a series spanning at least this many windows; shorter
/// series use their overall median.
pub const TREND_MIN_WINDOWS: i64 = 2;

/// The median gap between consecutive points of `times`, in milliseconds
/// (0 for fewer than two distinct times).
pub fn sampling_step(times: &[Millis]) -> i64 {
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64)
        .filter(|g| *g > 0.0)
        .collect();
    median(&gaps).unwrap_or(0.0) as i64
}

/// The shortest departure of a series sampled every `step` ms.
pub fn min_duration_ms(step: i64) -> i64 {
    MIN_DEPARTURE_MS.max((MIN_DEPARTURE_STEPS * step).min(MIN_DEPARTURE_STEPS_CAP_MS))
}

/// The seasonal part of each value: the median of the values at the same
/// time of week (series of [`WEEKLY_MIN_DAYS`]) or of day (series of
/// [`DAILY_MIN_DAYS`]), else 0.
fn seasonal(times: &[Millis], values: &[f64], step: i64) -> Vec<f64> {
    let n = values.len().min(times.len());
    let span = if n > 1 { times[n - 1] - times[0] } else { 0 };
    let period = if span >= WEEKLY_MIN_DAYS * MS_PER_DAY {
        7 * MS_PER_DAY
    } else if span >= DAILY_MIN_DAYS * MS_PER_DAY {
        MS_PER_DAY
    } else {
        return vec![0.0; n];
    };
    let step = step.max(1);
    let slot = |t: Millis| t.rem_euclid(period) / step;
    let mut by_slot: std::collections::HashMap<i64, Vec<f64>> = std::collections::HashMap::new();
    for i in 0..n {
        if values[i].is_finite() {
            by_slot.entry(slot(times[i])).or_default().push(values[i]);
        }
    }
    let medians: std::collections::HashMap<i64, f64> = by_slot
        .into_iter()
        .filter_map(|(key, slot_values)| Some((key, median(&slot_values)?)))
        .collect();
    (0..n)
        .map(|i| medians.get(&slot(times[i])).copied().unwrap_or(f64::NAN))
        .collect()
}

/// The trend of `values` (deseasonalised): the median of the finite values
/// within half a [`TREND_WINDOW_MS`] of the middle of each point's block,
/// or the overall median for series shorter than [`TREND_MIN_WINDOWS`]
/// windows.
fn trend(times: &[Millis], values: &[f64]) -> Vec<f64> {
    let n = values.len().min(times.len());
    if n == 0 {
        return Vec::new();
    }
    let finite =
        |range: &[f64]| -> Vec<f64> { range.iter().copied().filter(|v| v.is_finite()).collect() };
    if times[n - 1] - times[0] < TREND_MIN_WINDOWS * TREND_WINDOW_MS {
        let overall = median(&finite(&values[..n])).unwrap_or(f64::NAN);
        return vec![overall; n];
    }
    let block = TREND_WINDOW_MS / TREND_BLOCKS_PER_WINDOW;
    let mut out = vec![f64::NAN; n];
    let mut i = 0;
    while i < n {
        let index = (times[i] - times[0]) / block;
        let end = i + times[i..n].partition_point(|&t| (t - times[0]) / block == index);
        let middle = times[0] + index * block + block / 2;
        let from = times[..n].partition_point(|&t| t < middle - TREND_WINDOW_MS / 2);
        let to = times[..n].partition_point(|&t| t <= middle + TREND_WINDOW_MS / 2);
        let level = median(&finite(&values[from..to])).unwrap_or(f64::NAN);
        out[i..end].iter_mut().for_each(|v| *v = level);
        i = end.max(i + 1);
    }
    out
}

/// What is left of each value once its seasonal part and the trend are
/// taken away (NaN where the value is a gap).
pub fn residuals(times: &[Millis], values: &[f64]) -> Vec<f64> {
    let n = values.len().min(times.len());
    let step = sampling_step(&times[..n]);
    let season = seasonal(&times[..n], &values[..n], step);
    let deseasonalized: Vec<f64> = (0..n).map(|i| values[i] - season[i]).collect();
    let level = trend(&times[..n], &deseasonalized);
    (0..n).map(|i| deseasonalized[i] - level[i]).collect()
}

/// A run of points on one side of the baseline, while it is gathered.
struct Run {
    first: usize,
    last: usize,
    /// Points beyond [`DEPARTURE_Z`] and rare.
    rare: usize,
    /// Points beyond [`LASTING_Z`].
    lasting: usize,
    /// Points beyond [`EXTREME_Z`] and rare.
    extreme: usize,
    /// Above the baseline (true) or below it.
    above: bool,
}

/// Periods `(first index, last index)` in which the series departs from its
/// baseline (see the module's method).
pub fn departures(times: &[Millis], values: &[f64]) -> Vec<(usize, usize)> {
    let residuals = residuals(times, values);
    let n = residuals.len();
    let Some((center, scale)) = robust_baseline(&residuals) else {
        return Vec::new();
    };
    let z: Vec<f64> = residuals.iter().map(|r| (r - center) / scale).collect();
    let finite: Vec<f64> = residuals
        .iter()
        .copied()
        .filter(|r| r.is_finite())
        .collect();
    let (low_tail, high_tail) =
        if finite.len() as f64 * RARE_TAIL_SHARE >= MIN_DEPARTURE_POINTS as f64 {
            (
                quantile(&finite, RARE_TAIL_SHARE).unwrap_or(f64::NEG_INFINITY),
                quantile(&finite, 1.0 - RARE_TAIL_SHARE).unwrap_or(f64::INFINITY),
            )
        } else {
            (f64::INFINITY, f64::NEG_INFINITY)
        };
    let rare = |i: usize| residuals[i] < low_tail || residuals[i] > high_tail;
    let step = sampling_step(&times[..n]);
    let merge_gap = DEPARTURE_MERGE_GAP_MS.max(DEPARTURE_MERGE_GAP_STEPS * step);
    let departs = |i: usize, sign: f64| sign * z[i] >= DEPARTURE_Z && rare(i);
    let lasting = |i: usize, sign: f64| sign * z[i] >= LASTING_Z.min(DEPARTURE_Z);
    let holds = |i: usize, sign: f64| sign * z[i] >= DEPARTURE_HOLD_Z;
    let extreme = |i: usize, sign: f64| sign * z[i] >= EXTREME_Z && rare(i);
    let mut runs: Vec<Run> = Vec::new();
    let mut i = 0;
    while i < n {
        let sign = if z[i] >= 0.0 { 1.0 } else { -1.0 };
        if !z[i].is_finite() || !lasting(i, sign) {
            i += 1;
            continue;
        }
        let floor = runs.last().map_or(0, |run| run.last + 1);
        let mut first = i;
        while first > floor
            && holds(first - 1, sign)
            && times[first] - times[first - 1] <= merge_gap
        {
            first -= 1;
        }
        let mut run = Run {
            first,
            last: i,
            rare: usize::from(departs(i, sign)),
            lasting: 1,
            extreme: usize::from(extreme(i, sign)),
            above: sign > 0.0,
        };
        let mut next = i + 1;
        while next < n && times[next] - times[run.last] <= merge_gap {
            if holds(next, sign) {
                run.last = next;
                run.rare += usize::from(departs(next, sign));
                run.lasting += usize::from(lasting(next, sign));
                run.extreme += usize::from(extreme(next, sign));
            }
            next += 1;
        }
        i = run.last + 1;
        runs.push(run);
    }
    let shortest = min_duration_ms(step);
    let extreme_runs = |above: bool| {
        runs.iter()
            .filter(|run| run.above == above && run.extreme > 0)
            .count()
    };
    let extreme_counts = [extreme_runs(false), extreme_runs(true)];
    runs.iter()
        .filter(|run| {
            let lasted = times[run.last] - times[run.first];
            (run.rare >= MIN_DEPARTURE_POINTS && lasted >= shortest)
                || (run.lasting >= LASTING_MIN_POINTS && lasted >= LASTING_MIN_MS)
                || (run.extreme > 0
                    && run.last + 1 - run.first >= EXTREME_MIN_POINTS
                    && lasted >= MIN_DEPARTURE_MS
                    && extreme_counts[usize::from(run.above)] <= EXTREME_MAX_PER_SIDE)
        })
        .map(|run| (run.first, run.last))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = MS_PER_MINUTE;

    /// Deterministic noise in [-1, 1]: the SplitMix64 finaliser of `i`, so
    /// tests need no RNG and points a week apart are not correlated (a bare
    /// LCG of `i` repeats a pattern every few points, which a weekly
    /// baseline then learns).
    fn noise(i: usize) -> f64 {
        let mut z = (i as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn series(
        step: i64,
        span: i64,
        value: impl Fn(usize, Millis) -> f64,
    ) -> (Vec<Millis>, Vec<f64>) {
        let times: Vec<Millis> = (0..span / step).map(|i| i * step).collect();
        let values = times
            .iter()
            .enumerate()
            .map(|(i, &t)| value(i, t))
            .collect();
        (times, values)
    }

    fn found(times: &[Millis], values: &[f64]) -> Vec<(Millis, Millis)> {
        departures(times, values)
            .into_iter()
            .map(|(a, b)| (times[a], times[b]))
            .collect()
    }

    #[test]
    fn departures_need_size_and_duration() {
        let (times, values) = series(MINUTE, 120 * MINUTE, |i, _| {
            100.0
                + noise(i)
                + if (60..75).contains(&i) || (100..102).contains(&i) {
                    50.0
                } else {
                    0.0
                }
        });
        assert_eq!(
            found(&times, &values),
            vec![(60 * MINUTE, 74 * MINUTE)],
            "the two-minute blip is not an incident"
        );
    }

    #[test]
    fn short_departures_count_when_extreme_and_unprecedented() {
        // Uniform noise in [-1, 1] has a MAD scale of 0.74: 20 below the
        // level is 27 scales, 4.5 is 6 scales (beyond DEPARTURE_Z, short of
        // EXTREME_Z).
        let step = 10 * MINUTE;
        let day = MS_PER_DAY;
        struct Case {
            name: &'static str,
            span: i64,
            /// (first reading, readings, offset)
            excursions: Vec<(i64, i64, f64)>,
            expected: Vec<(Millis, Millis)>,
        }
        let at = |day_index: i64, minutes: i64| (day_index * day + minutes * MINUTE) / step;
        let cases = [
            Case {
                name: "two readings 27 scales low",
                span: 20 * day,
                excursions: vec![(at(12, 9 * 60), 2, -20.0)],
                expected: vec![(
                    12 * day + 9 * MS_PER_HOUR,
                    12 * day + 9 * MS_PER_HOUR + step,
                )],
            },
            Case {
                name: "one reading 27 scales low: a glitch of the sampler",
                span: 20 * day,
                excursions: vec![(at(12, 9 * 60), 1, -20.0)],
                expected: vec![],
            },
            Case {
                name: "two readings 6 scales high: short and not extreme",
                span: 20 * day,
                excursions: vec![(at(12, 9 * 60), 2, 4.5)],
                expected: vec![],
            },
            Case {
                name: "a nightly job 10 minutes later each night, three nights: a habit",
                span: 20 * day,
                excursions: (0..3)
                    .map(|night| (at(10 + night, 3 * 60 + 10 * night), 2, 20.0))
                    .collect(),
                expected: vec![],
            },
            Case {
                name: "two unprecedented collapses, both reported",
                span: 20 * day,
                excursions: vec![(at(5, 9 * 60), 2, -20.0), (at(15, 14 * 60), 2, -20.0)],
                expected: vec![
                    (5 * day + 9 * MS_PER_HOUR, 5 * day + 9 * MS_PER_HOUR + step),
                    (
                        15 * day + 14 * MS_PER_HOUR,
                        15 * day + 14 * MS_PER_HOUR + step,
                    ),
                ],
            },
        ];
        for case in cases {
            let excursions = case.excursions;
            let (times, values) = series(step, case.span, |i, _| {
                let offset = excursions
                    .iter()
                    .find(|(first, readings, _)| (*first..first + readings).contains(&(i as i64)))
                    .map_or(0.0, |e| e.2);
                100.0 + noise(i) + offset
            });
            assert_eq!(found(&times, &values), case.expected, "{}", case.name);
        }
    }

    #[test]
    fn seasons_and_trends_are_not_departures_but_bumps_in_them_are() {
        let step = 10 * MINUTE;
        fn daily(t: Millis) -> f64 {
            let hour = (t % MS_PER_DAY) as f64 / MS_PER_HOUR as f64;
            if (9.0..18.0).contains(&hour) {
                80.0
            } else {
                20.0
            }
        }
        /// Busy weekdays, quiet weekends (days 2 and 3 of each week here).
        fn weekly(t: Millis) -> f64 {
            if (2..4).contains(&(t / MS_PER_DAY % 7)) {
                -30.0
            } else {
                0.0
            }
        }
        let day = MS_PER_DAY;
        struct Case {
            name: &'static str,
            span: i64,
            value: Box<dyn Fn(usize, Millis) -> f64>,
            expected: Vec<(Millis, Millis)>,
        }
        let bump = (3 * day + 14 * MS_PER_HOUR)..(3 * day + 16 * MS_PER_HOUR);
        let late_bump = (40 * day + 14 * MS_PER_HOUR)..(40 * day + 16 * MS_PER_HOUR);
        let cold_spell = (70 * day)..(70 * day + 12 * MS_PER_HOUR);
        let cases = [
            Case {
                name: "a daily cycle with a bump",
                span: 5 * day,
                value: Box::new({
                    let bump = bump.clone();
                    move |i, t| daily(t) + noise(i) + if bump.contains(&t) { 40.0 } else { 0.0 }
                }),
                expected: vec![(bump.start, bump.end - step)],
            },
            Case {
                name: "a weekly cycle with a bump",
                span: 63 * day,
                value: Box::new({
                    let late_bump = late_bump.clone();
                    move |i, t| {
                        daily(t)
                            + weekly(t)
                            + noise(i)
                            + if late_bump.contains(&t) { 40.0 } else { 0.0 }
                    }
                }),
                expected: vec![(late_bump.start, late_bump.end - step)],
            },
            Case {
                name: "a slow drift with a cold spell",
                span: 120 * day,
                value: Box::new({
                    let cold_spell = cold_spell.clone();
                    move |i, t| {
                        // Two degrees a month, a degree of noise, and half a
                        // day 6 degrees cold: never beyond the drift's range.
                        60.0 + 2.0 * t as f64 / (30.0 * day as f64) + noise(i)
                            - if cold_spell.contains(&t) { 6.0 } else { 0.0 }
                    }
                }),
                expected: vec![(cold_spell.start, cold_spell.end - step)],
            },
            Case {
                name: "noise only",
                span: 20 * day,
                value: Box::new(|i, t| daily(t) + noise(i)),
                expected: vec![],
            },
        ];
        for case in cases {
            let (times, values) = series(step, case.span, &case.value);
            assert_eq!(found(&times, &values), case.expected, "{}", case.name);
        }
    }

    #[test]
    fn the_shortest_departure_is_five_steps_within_five_minutes_and_an_hour() {
        let cases = [
            ("15 s", 15_000, 5 * MINUTE),
            ("5 min", 5 * MINUTE, 25 * MINUTE),
            ("1 h", MS_PER_HOUR, MS_PER_HOUR),
        ];
        for (name, step, expected) in cases {
            assert_eq!(min_duration_ms(step), expected, "{name}");
        }
    }
}
