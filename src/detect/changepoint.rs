//! When a metric started to move: offline change-point detection on one
//! series (times and values, NaN for gaps), against a robust baseline.
//!
//! # Method
//!
//! A two-sided tabular CUSUM (Page, E. S. (1954), "Continuous inspection
//! schemes", *Biometrika* 41(1/2), 100–115) run on robust residuals:
//!
//! 1. The baseline is the first half of the points in the
//!    [`LOOKBACK_MS`] before the incident starts (at least
//!    [`MIN_BASELINE_POINTS`]); its location is the median and its scale
//!    1.4826 × the median absolute deviation (the MAD is consistent for the
//!    standard deviation of normal data and unmoved by outliers: Rousseeuw &
//!    Croux (1993), "Alternatives to the median absolute deviation", *JASA*
//!    88(424), 1273–1283).
//! 2. From the end of the baseline on, each value becomes `z = (x − median) /
//!    scale` and the upper and lower sums `S⁺ = max(0, S⁺ + z − k)` and
//!    `S⁻ = max(0, S⁻ − z − k)` are accumulated, with the reference value
//!    `k` = [`CUSUM_K`] and the decision interval `h` = [`CUSUM_H`] that
//!    Montgomery recommends for detecting a one-sigma shift
//!    (*Introduction to Statistical Quality Control*, 6th ed., §9.1.3).
//! 3. A sum passing `h` raises the alarm: something changed.
//! 4. The change counts only when it is large and sustained: its peak is at
//!    least [`MIN_PEAK_Z`] scales from the median, and the median residual
//!    from just after the sum was last zero (the CUSUM's own change-point
//!    estimate, Montgomery §9.1.2) to the end of the window at least
//!    [`MIN_SUSTAINED_Z`]. Of the two sums' first alarms, the earlier one
//!    that passes counts (a restart's brief drop, then a leak that lasts).
//! 5. Where it began is fitted, not taken from the CUSUM: the points from
//!    the start of the lookback to the first peak are split into an
//!    unchanged level and a changed part on a line of its own (a ramp, a
//!    step, or a restart's drop followed by a leak), at the split that
//!    leaves the least squared residual ([`fit_change_start`]). The CUSUM's own
//!    estimate starts early when the baseline drifts by a fraction of a
//!    scale before the real change (a memory gauge creeping up for an hour
//!    before a leak doubles it in ten minutes); the fit weighs every point.
//!    A slow ramp is found where its slope begins, long before its values
//!    look extreme; a level shift gives the step itself.
//!
//! For metric-only runs, `super::departures` finds the periods in which a
//! series stays far from its baseline: the incidents of a run without
//! access logs.

use crate::timefmt::{MS_PER_HOUR, MS_PER_MINUTE, Millis};

use super::stats::median;

/// How far before the incident's start a metric change is looked for: a
/// leak that began six hours before users noticed is still its cause.
pub const LOOKBACK_MS: i64 = 6 * MS_PER_HOUR;

/// Fewest baseline points for a median and MAD worth the name.
pub const MIN_BASELINE_POINTS: usize = 8;

/// CUSUM reference value `k`, in scales: half the one-sigma shift to detect.
pub const CUSUM_K: f64 = 0.5;

/// CUSUM decision interval `h`, in scales (Montgomery: 4 or 5 for k = 0.5).
pub const CUSUM_H: f64 = 5.0;

/// Smallest peak departure, in scales, of a change worth reporting.
pub const MIN_PEAK_Z: f64 = 4.0;

/// Smallest median departure from onset to the end of the window, in scales:
/// the change lasted, it was not one spike.
pub const MIN_SUSTAINED_Z: f64 = 2.0;

/// A change whose first half of its rise takes at least this many points is
/// a ramp ("rose steadily"), else a step ("jumped").
pub const RAMP_MIN_POINTS: usize = 5;

/// The MAD times this estimates the standard deviation of normal data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// The mean absolute deviation times this estimates the standard deviation
/// of normal data (√(π/2)), used when more than half the baseline is equal.
pub const MEAN_DEVIATION_TO_SIGMA: f64 = 1.2533;

/// Scale of a baseline with no spread at all, relative to its level: a flat
/// line that moves by a thousandth has moved.
pub const FLAT_RELATIVE_SCALE: f64 = 1e-3;

/// A baseline point this many scales from the baseline's median is a
/// restart's dip or a glitch, not the level a change departs from: the fit
/// of where the change began leaves it out (three points of a restart at a
/// fifth of the level would otherwise pull the fitted level down and the
/// onset minutes early).
pub const FIT_BASELINE_MAX_Z: f64 = 5.0;

/// Where a series departed from its baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Onset {
    /// Index of the first point of the change.
    pub onset: usize,
    /// Index at which the CUSUM passed `h`.
    pub alarm: usize,
    /// Index of the largest departure in the change's direction.
    pub peak: usize,
    /// Baseline median and scale.
    pub baseline: f64,
    pub scale: f64,
    pub rising: bool,
    /// A gradual rise (leak) rather than a step.
    pub ramp: bool,
}

/// Median and robust scale of `values` (finite ones only).
pub fn robust_baseline(values: &[f64]) -> Option<(f64, f64)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let center = median(&finite)?;
    let deviations: Vec<f64> = finite.iter().map(|v| (v - center).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0) * MAD_TO_SIGMA;
    let scale = if mad > 0.0 {
        mad
    } else {
        let mean_deviation = deviations.iter().sum::<f64>() / deviations.len().max(1) as f64;
        if mean_deviation > 0.0 {
            mean_deviation * MEAN_DEVIATION_TO_SIGMA
        } else {
            (center.abs() * FLAT_RELATIVE_SCALE).max(f64::MIN_POSITIVE)
        }
    };
    Some((center, scale))
}

/// The change in `values` (at `times`, ascending) around an incident from
/// `start` to `end`, if one began between [`LOOKBACK_MS`] before `start`
/// and `end`.
pub fn find_onset(times: &[Millis], values: &[f64], start: Millis, end: Millis) -> Option<Onset> {
    let finite: Vec<usize> = (0..values.len().min(times.len()))
        .filter(|&i| values[i].is_finite())
        .collect();
    let before: Vec<usize> = finite
        .iter()
        .copied()
        .filter(|&i| times[i] >= start - LOOKBACK_MS && times[i] < start)
        .collect();
    let baseline_points = before.len() / 2;
    if baseline_points < MIN_BASELINE_POINTS {
        return None;
    }
    let baseline_values: Vec<f64> = before[..baseline_points]
        .iter()
        .map(|&i| values[i])
        .collect();
    let (center, scale) = robust_baseline(&baseline_values)?;
    let watched: Vec<usize> = finite
        .iter()
        .copied()
        .filter(|&i| i > before[baseline_points - 1] && times[i] <= end)
        .collect();
    let z = |i: usize| (values[i] - center) / scale;
    // Each direction's first alarm: (alarm position, onset position).
    let (mut upper, mut lower) = (0.0f64, 0.0f64);
    let (mut upper_zero, mut lower_zero) = (0usize, 0usize);
    let (mut upper_alarm, mut lower_alarm) = (None, None);
    for (position, &i) in watched.iter().enumerate() {
        upper = (upper + z(i) - CUSUM_K).max(0.0);
        lower = (lower - z(i) - CUSUM_K).max(0.0);
        if upper == 0.0 {
            upper_zero = position + 1;
        }
        if lower == 0.0 {
            lower_zero = position + 1;
        }
        if upper > CUSUM_H && upper_alarm.is_none() {
            upper_alarm = Some((position, upper_zero));
        }
        if lower > CUSUM_H && lower_alarm.is_none() {
            lower_alarm = Some((position, lower_zero));
        }
        if upper_alarm.is_some() && lower_alarm.is_some() {
            break;
        }
    }
    // The earlier alarm whose change is large and sustained: a restart's
    // brief drop raises the lower alarm first, the leak after it is the
    // change that lasts.
    let mut alarms: Vec<(usize, usize, bool)> = [
        upper_alarm.map(|(alarm, zero)| (alarm, zero, true)),
        lower_alarm.map(|(alarm, zero)| (alarm, zero, false)),
    ]
    .into_iter()
    .flatten()
    .collect();
    alarms.sort_by_key(|&(alarm, _, _)| alarm);
    let (alarm_position, rising, after_alarm_onset, peak, peak_z) =
        alarms
            .into_iter()
            .find_map(|(alarm_position, onset_position, rising)| {
                let direction = if rising { 1.0 } else { -1.0 };
                let after_alarm_onset = &watched[onset_position.min(alarm_position)..];
                // The first point at the largest departure: a leak that hits
                // its limit again after each restart peaks when it first gets
                // there.
                let (peak, peak_z) = after_alarm_onset
                    .iter()
                    .map(|&i| (i, direction * z(i)))
                    .fold(None, |best: Option<(usize, f64)>, point| match best {
                        Some(best) if best.1 >= point.1 => Some(best),
                        _ => Some(point),
                    })?;
                let sustained: Vec<f64> = after_alarm_onset
                    .iter()
                    .map(|&i| direction * z(i))
                    .collect();
                (peak_z >= MIN_PEAK_Z && median(&sustained).unwrap_or(0.0) >= MIN_SUSTAINED_Z)
                    .then_some((alarm_position, rising, after_alarm_onset, peak, peak_z))
            })?;
    let direction = if rising { 1.0 } else { -1.0 };
    // The CUSUM tells that a change happened; where it began is fitted, on
    // the baseline and the watched points up to the peak (the watched
    // points follow the baseline's).
    let level_points: Vec<usize> = before[..baseline_points]
        .iter()
        .copied()
        .filter(|&i| z(i).abs() <= FIT_BASELINE_MAX_Z)
        .collect();
    let fitted: Vec<usize> = level_points
        .iter()
        .chain(watched.iter().take_while(|&&i| i <= peak))
        .copied()
        .collect();
    let minutes: Vec<f64> = fitted
        .iter()
        .map(|&i| (times[i] - times[fitted[0]]) as f64 / MS_PER_MINUTE as f64)
        .collect();
    let residuals: Vec<f64> = fitted.iter().map(|&i| z(i)).collect();
    let first_candidate = level_points.len();
    let onset = fit_change_start(&minutes, &residuals, first_candidate)
        .map_or(after_alarm_onset[0], |position| fitted[position]);
    let after_onset = &watched[watched.partition_point(|&i| i < onset)..];
    let half_way = after_onset
        .iter()
        .position(|&i| direction * z(i) >= peak_z / 2.0)
        .unwrap_or(0);
    Some(Onset {
        onset,
        alarm: watched[alarm_position],
        peak,
        baseline: center,
        scale,
        rising,
        ramp: half_way + 1 >= RAMP_MIN_POINTS,
    })
}

/// Where a change that runs up to the last point began: the position `p`
/// (at least `first_candidate`) of the first changed point that best splits
/// the points into an unchanged part and a changed part, in the least
/// squares sense. The unchanged part is one level; the changed part is a
/// straight line of its own (a **broken line**: a ramp, a step, or a drop
/// followed by a ramp, as when a leaking process restarts and leaks again),
/// or, when it has fewer than [`LINE_MIN_POINTS`] points, a level.
///
/// Unlike the CUSUM's own estimate (just after its sum was last zero), the
/// fit is not pulled early by a baseline that drifts by a fraction of a
/// scale before the real change: the CUSUM starts accumulating at the
/// drift, the fit weighs every point. The sums come from prefix sums, so
/// the search is linear in the points.
fn fit_change_start(minutes: &[f64], values: &[f64], first_candidate: usize) -> Option<usize> {
    let m = minutes.len().min(values.len());
    let prefix = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut sums = Vec::with_capacity(m + 1);
        sums.push(0.0);
        for i in 0..m {
            sums.push(sums[i] + f(i));
        }
        sums
    };
    let sum_y = prefix(&|i| values[i]);
    let sum_yy = prefix(&|i| values[i] * values[i]);
    let sum_x = prefix(&|i| minutes[i]);
    let sum_xx = prefix(&|i| minutes[i] * minutes[i]);
    let sum_xy = prefix(&|i| minutes[i] * values[i]);
    // Residual sum of squares of points `from..to` about their mean, and
    // about their own least-squares line.
    let level_sse = |from: usize, to: usize| -> f64 {
        let n = (to - from) as f64;
        let sy = sum_y[to] - sum_y[from];
        (sum_yy[to] - sum_yy[from]) - sy * sy / n
    };
    let line_sse = |from: usize, to: usize| -> f64 {
        let n = (to - from) as f64;
        let (sx, sy) = (sum_x[to] - sum_x[from], sum_y[to] - sum_y[from]);
        let sxx = (sum_xx[to] - sum_xx[from]) - sx * sx / n;
        let sxy = (sum_xy[to] - sum_xy[from]) - sx * sy / n;
        let syy = (sum_yy[to] - sum_yy[from]) - sy * sy / n;
        if sxx > 0.0 {
            syy - sxy * sxy / sxx
        } else {
            syy
        }
    };
    let mut best: Option<(usize, f64)> = None;
    for first in first_candidate.max(1)..m {
        let after = if m - first >= LINE_MIN_POINTS {
            line_sse(first, m)
        } else {
            level_sse(first, m)
        };
        let sse = level_sse(0, first) + after;
        if sse.is_finite() && best.is_none_or(|(_, least)| sse < least) {
            best = Some((first, sse));
        }
    }
    best.map(|(first, _)| first)
}

/// Fewest points for the changed part of [`fit_change_start`] to be fitted
/// with a line: with two, any pair of points lies on one exactly.
const LINE_MIN_POINTS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = MS_PER_MINUTE;

    /// Deterministic noise in [-1, 1] (a fixed LCG), so tests need no RNG.
    fn noise(i: usize) -> f64 {
        let x = (i as u64)
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((x >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    }

    fn minutes(n: usize) -> Vec<Millis> {
        (0..n).map(|i| i as i64 * MINUTE).collect()
    }

    #[test]
    fn onsets_of_ramps_and_steps_are_found_where_they_began() {
        let start = 180 * MINUTE; // impact at minute 180
        let end = 200 * MINUTE;
        struct Case {
            name: &'static str,
            values: Vec<f64>,
            onset_minutes: Option<std::ops::RangeInclusive<i64>>,
            rising: bool,
            ramp: bool,
        }
        let ramp: Vec<f64> = (0..220)
            .map(|i| {
                500.0
                    + 5.0 * noise(i)
                    + if i >= 140 {
                        4.0 * (i - 140) as f64
                    } else {
                        0.0
                    }
            })
            .collect();
        let step: Vec<f64> = (0..220)
            .map(|i| 40.0 + noise(i) + if i >= 170 { 30.0 } else { 0.0 })
            .collect();
        let drop: Vec<f64> = (0..220)
            .map(|i| 1000.0 + 10.0 * noise(i) - if i >= 175 { 600.0 } else { 0.0 })
            .collect();
        // A gauge creeping up by a scale an hour, then a restart and a leak
        // twenty times faster: the creep is not the change.
        let drift_then_leak: Vec<f64> = (0..220)
            .map(|i| {
                let creep = if i >= 90 {
                    0.06 * (i.min(150) - 90) as f64
                } else {
                    0.0
                };
                let leak = if i >= 150 {
                    20.0 * (i - 150) as f64 - 8.0
                } else {
                    0.0
                };
                500.0 + 5.0 * noise(i) + creep + leak
            })
            .collect();
        // A restart frees memory (a drop of 20 scales), then the new process
        // leaks: the change is the drop, not where the leak passes the old
        // level five minutes later.
        let restart_then_leak: Vec<f64> = (0..220)
            .map(|i| {
                let leak = if i >= 160 {
                    20.0 * (i - 160) as f64 - 100.0
                } else {
                    0.0
                };
                500.0 + 5.0 * noise(i) + leak
            })
            .collect();
        let quiet: Vec<f64> = (0..220).map(|i| 40.0 + noise(i)).collect();
        let spike: Vec<f64> = (0..220)
            .map(|i| 40.0 + noise(i) + if i == 185 { 50.0 } else { 0.0 })
            .collect();
        let cases = [
            Case {
                name: "leak from minute 140",
                values: ramp,
                onset_minutes: Some(138..=146),
                rising: true,
                ramp: true,
            },
            Case {
                name: "leak from minute 150 after a creeping baseline",
                values: drift_then_leak,
                onset_minutes: Some(149..=151),
                rising: true,
                ramp: true,
            },
            Case {
                name: "restart at minute 160, then a leak",
                values: restart_then_leak,
                onset_minutes: Some(160..=160),
                rising: true,
                ramp: true,
            },
            Case {
                name: "step at minute 170",
                values: step,
                onset_minutes: Some(170..=170),
                rising: true,
                ramp: false,
            },
            // The minute before a step may already lean its way by chance: one
            // sample of uncertainty is the CUSUM's own.
            Case {
                name: "drop at minute 175",
                values: drop,
                onset_minutes: Some(174..=175),
                rising: false,
                ramp: false,
            },
            Case {
                name: "noise only",
                values: quiet,
                onset_minutes: None,
                rising: true,
                ramp: false,
            },
            Case {
                name: "one spike is not a change",
                values: spike,
                onset_minutes: None,
                rising: true,
                ramp: false,
            },
        ];
        let times = minutes(220);
        for case in cases {
            let found = find_onset(&times, &case.values, start, end);
            match (&case.onset_minutes, found) {
                (None, None) => {}
                (Some(range), Some(onset)) => {
                    let minute = times[onset.onset] / MINUTE;
                    assert!(
                        range.contains(&minute),
                        "{}: onset at minute {minute}",
                        case.name
                    );
                    assert_eq!(onset.rising, case.rising, "{}", case.name);
                    assert_eq!(onset.ramp, case.ramp, "{}", case.name);
                }
                (expected, found) => {
                    panic!("{}: expected {expected:?}, found {found:?}", case.name)
                }
            }
        }
    }

    /// Deterministic noise in [-1, 1] without the LCG's short patterns: the
    /// SplitMix64 finaliser of `i`.
    fn mixed_noise(i: usize) -> f64 {
        let mut z = (i as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    /// The shape of a generated change.
    #[derive(Clone, Copy, Debug)]
    enum Shape {
        /// Rises by `rise` scales over `points` points, then holds.
        Ramp { rise: f64, points: usize },
        /// Jumps by this many scales (negative: drops).
        Step(f64),
    }

    /// One generated series: sampled every `step_s` seconds in wall-clock
    /// time of `zone` from 06:00 local, the change at `onset_point`, the
    /// incident `impact_after` points later; noise of `noise` scales (the
    /// scale is 10), and, when `restart_at` is set, a restart in the
    /// baseline (the level falls to a fifth for three points, then is back).
    struct OnsetCase {
        name: &'static str,
        step_s: i64,
        zone: &'static str,
        shape: Shape,
        noise: f64,
        restart_at: Option<usize>,
        onset_point: usize,
        impact_after: usize,
    }

    /// The onset is dated within two sampling steps of the first changed
    /// point, whatever the sampling step, the noise, a restart in the
    /// baseline or the zone the wall-clock times were written in.
    #[test]
    fn onsets_are_dated_within_two_steps_of_the_first_change() {
        use crate::ingest::timestamps::Stamp;
        use crate::timefmt::Zone;
        let ramp = Shape::Ramp {
            rise: 30.0,
            points: 40,
        };
        let slow_ramp = Shape::Ramp {
            rise: 20.0,
            points: 60,
        };
        let case = |name, step_s, zone, shape, noise, restart_at| OnsetCase {
            name,
            step_s,
            zone,
            shape,
            noise,
            restart_at,
            onset_point: 0,
            impact_after: 0,
        };
        let mut cases = Vec::new();
        for step_s in [15, 60, 300] {
            cases.extend([
                case("ramp, quiet baseline, UTC", step_s, "UTC", ramp, 0.3, None),
                case(
                    "ramp, noisy baseline, +05:30",
                    step_s,
                    "Asia/Kolkata",
                    ramp,
                    1.0,
                    None,
                ),
                case(
                    "slow ramp, noisy, restart in the baseline, -08:00",
                    step_s,
                    "America/Los_Angeles",
                    slow_ramp,
                    1.0,
                    Some(20),
                ),
                case(
                    "step up, noisy, +13:45",
                    step_s,
                    "+13:45",
                    Shape::Step(12.0),
                    1.0,
                    None,
                ),
                case(
                    "drop, restart in the baseline, +05:30",
                    step_s,
                    "Asia/Kolkata",
                    Shape::Step(-15.0),
                    1.0,
                    Some(25),
                ),
            ]);
        }
        for mut case in cases {
            // Six hours of lookback hold 72 five-minute points; at 15 s the
            // same 72 points are 18 minutes.
            case.onset_point = 70;
            case.impact_after = match case.shape {
                Shape::Ramp { points, .. } => points / 2,
                Shape::Step(_) => 10,
            };
            let zone = Zone::parse(case.zone).expect("a zone");
            let scale = 10.0;
            let points = case.onset_point + case.impact_after + 20;
            let local_start: Millis = 1_699_768_800_000; // 2023-11-12 06:00 wall clock
            let times: Vec<Millis> = (0..points)
                .map(|i| {
                    Stamp::Local(local_start + i as i64 * case.step_s * 1000)
                        .resolve(2023, &zone, false)
                        .expect("an existing wall-clock time")
                })
                .collect();
            let values: Vec<f64> = (0..points)
                .map(|i| {
                    let level = 500.0;
                    let changed =
                        i.checked_sub(case.onset_point)
                            .map_or(0.0, |since| match case.shape {
                                Shape::Ramp { rise, points } => {
                                    rise * scale * ((since + 1).min(points) as f64 / points as f64)
                                }
                                Shape::Step(by) => by * scale,
                            });
                    let restarting = case.restart_at.is_some_and(|at| (at..at + 3).contains(&i));
                    let base = if restarting { level / 5.0 } else { level };
                    base + changed + case.noise * scale * mixed_noise(i)
                })
                .collect();
            let start = times[case.onset_point + case.impact_after];
            let end = times[points - 1];
            let step_ms = case.step_s * 1000;
            let found = find_onset(&times, &values, start, end);
            let Some(found) = found else {
                panic!("{} every {} s: no onset found", case.name, case.step_s);
            };
            let error = (times[found.onset] - times[case.onset_point]).abs();
            assert!(
                error <= 2 * step_ms,
                "{} every {} s: onset {} steps from the first change",
                case.name,
                case.step_s,
                (times[found.onset] - times[case.onset_point]) / step_ms
            );
        }
    }

    /// Values that are any f64 at all (NaN, infinities, huge and tiny),
    /// mixed with ordinary ones.
    fn any_value() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            4 => -1e3..1e3f64,
            1 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(1e300),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// Whatever the series, finding an onset never panics, and an onset
        /// found lies inside the series, no later than its peak, between the
        /// start of the lookback and the end of the incident, on a finite
        /// value.
        #[test]
        fn onsets_are_inside_the_series_whatever_the_values(
            steps in proptest::collection::vec(0..120_000i64, 1..400),
            values in proptest::collection::vec(any_value(), 1..400),
            start_at in 0.0..1.0f64,
            length in 0.0..1.0f64,
        ) {
            let mut times = Vec::with_capacity(steps.len());
            let mut now = 1_700_000_000_000i64;
            for step in steps {
                now += step;
                times.push(now);
            }
            let n = times.len().min(values.len());
            let (first, last) = (times[0], times[n - 1]);
            let start = first + ((last - first) as f64 * start_at) as i64;
            let end = start + ((last - start) as f64 * length) as i64;
            if let Some(found) = find_onset(&times[..n], &values[..n], start, end) {
                proptest::prop_assert!(found.onset < n && found.peak < n);
                proptest::prop_assert!(found.onset <= found.peak);
                proptest::prop_assert!(times[found.onset] >= start - LOOKBACK_MS);
                proptest::prop_assert!(times[found.peak] <= end);
                proptest::prop_assert!(values[found.onset].is_finite());
            }
            let _ = crate::detect::departures::departures(&times[..n], &values[..n]);
        }
    }

    #[test]
    fn gaps_are_skipped_and_flat_baselines_still_scale() {
        let times = minutes(60);
        let mut values: Vec<f64> = (0..60)
            .map(|i| if i >= 40 { 600.0 } else { 512.0 })
            .collect();
        values[41] = f64::NAN;
        let onset = find_onset(&times, &values, 45 * MINUTE, 59 * MINUTE)
            .expect("a flat line that moves has moved");
        assert_eq!(onset.onset, 40);
        assert_eq!(onset.baseline, 512.0);
        assert!(onset.scale > 0.0);
    }
}
