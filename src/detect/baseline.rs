//! What normal looks like: the failure and bad-request rates of the
//! undisturbed part of the log, its latency, and the slow threshold that
//! follows from it.
//!
//! The baseline must not be dragged by the incident it is compared against,
//! so every estimate is robust: bucket screens with a binomial test against
//! the median rate, and a lower quartile of windowed p99s for latency.

use crate::series::{LatencyHistogram, MIN_DEFAULT_SLOW_US, SeriesSet, snap_threshold_us};

use super::stats::{binomial_upper_tail, median, quantile};
use super::traffic::same_time_on_other_days;

/// The smallest bad-request rate assumed normal (0.1%). A log with no errors
/// at all does not prove a perfect service, and without a floor a handful of
/// 500s would look infinitely surprising.
pub const RATE_FLOOR: f64 = 0.001;

/// The highest bad-request rate a stretch of healthy service can have: one
/// request in twenty. It is fifty times the error budget of the default
/// 99.9% objective and five times that of a 99% one, so no service people
/// keep running calls it normal; a range whose own baseline is higher holds
/// no healthy stretch to learn from (the outage fills it), and its
/// reference comes from outside the data ([`BaselineSource::Absolute`]).
pub const HEALTHY_RATE_CEILING: f64 = 0.05;

/// Where the reference rate of normal came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BaselineSource {
    /// Learned from the undisturbed part of the analysed range.
    #[default]
    Data,
    /// The range has no healthy stretch (its own baseline is above
    /// [`HEALTHY_RATE_CEILING`]): the `--slo` objective's error budget.
    Absolute,
}

impl BaselineSource {
    pub fn name(self) -> &'static str {
        match self {
            BaselineSource::Data => "data",
            BaselineSource::Absolute => "absolute",
        }
    }
}

/// The reference rate for a rate learned from the data: the learned rate
/// when a healthy service could have it, else the error budget of the
/// `slo_percent` objective (floored at [`RATE_FLOOR`]), marked absolute.
pub fn reference_or_absolute(learned_rate: f64, slo_percent: f64) -> (f64, BaselineSource) {
    if learned_rate <= HEALTHY_RATE_CEILING {
        (learned_rate, BaselineSource::Data)
    } else {
        let budget = (100.0 - slo_percent) / 100.0;
        (
            budget.clamp(RATE_FLOOR, HEALTHY_RATE_CEILING),
            BaselineSource::Absolute,
        )
    }
}

/// A bucket whose failures are this improbable under the median rate is left
/// out of the baseline (a screen, deliberately looser than the anomaly test).
pub const SCREEN_ALPHA: f64 = 1e-3;

/// A bucket whose p95 exceeds this multiple of the median p95 is left out
/// of the latency baseline.
pub const LATENCY_SCREEN_FACTOR: f64 = 2.0;

/// Fewest timed requests for a bucket's p95 to take part in the screen.
pub const MIN_TIMED_FOR_SCREEN: u64 = 10;

/// Requests a window gathers before its p99 is computed: a p99 needs a few
/// hundred values to mean anything.
pub const P99_WINDOW_MIN_REQUESTS: u64 = 200;

/// The baseline p99 is this quantile of the windowed p99s: the lower
/// quartile stays normal even when the incident covers most of the log.
pub const P99_WINDOW_QUANTILE: f64 = 0.25;

/// The contract's default slow threshold: the larger of 1 s and this many
/// times the baseline p99.
pub const SLOW_P99_MULTIPLIER: f64 = 4.0;

/// Counts of one bucket once the slow threshold is fixed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketCounts {
    pub requests: u64,
    pub failed: u64,
    /// Successful but slower than the threshold (disjoint from `failed`).
    pub slow: u64,
}

impl BucketCounts {
    /// A bucket of `requests`, `failed` of them failed and `slow` slow: the
    /// tests of every detector build their buckets with it.
    #[cfg(test)]
    pub(crate) fn of(requests: u64, failed: u64, slow: u64) -> Self {
        BucketCounts {
            requests,
            failed,
            slow,
        }
    }

    pub fn bad(&self) -> u64 {
        self.failed + self.slow
    }

    pub fn bad_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.bad() as f64 / self.requests as f64
        }
    }
}

/// Buckets disturbed by failures or latency, to be left out of baselines.
pub fn screen_disturbed(series: &SeriesSet) -> Vec<bool> {
    let failure_ratios: Vec<f64> = series
        .buckets
        .iter()
        .filter(|b| b.requests > 0)
        .map(|b| b.failed as f64 / b.requests as f64)
        .collect();
    let median_fail = median(&failure_ratios).unwrap_or(0.0).max(RATE_FLOOR);
    let p95s: Vec<f64> = series
        .buckets
        .iter()
        .filter(|b| b.latency.count() >= MIN_TIMED_FOR_SCREEN)
        .filter_map(|b| b.latency.quantile(0.95))
        .collect();
    let latency_limit = median(&p95s).map(|m| m * LATENCY_SCREEN_FACTOR);
    series
        .buckets
        .iter()
        .map(|b| {
            let failing = binomial_upper_tail(b.failed, b.requests, median_fail) < SCREEN_ALPHA;
            let slow = latency_limit.is_some_and(|limit| {
                b.latency.count() >= MIN_TIMED_FOR_SCREEN
                    && b.latency.quantile(0.95).is_some_and(|p95| p95 > limit)
            });
            failing || slow
        })
        .collect()
}

/// The baseline p99 in microseconds: the lower quartile of the p99s of
/// windows of consecutive undisturbed buckets holding at least
/// [`P99_WINDOW_MIN_REQUESTS`] timed requests each. `None` when the log has
/// no request times.
pub fn baseline_p99_us(series: &SeriesSet, disturbed: &[bool]) -> Option<f64> {
    let mut window_p99s = Vec::new();
    let mut window = LatencyHistogram::default();
    let mut fallback = LatencyHistogram::default();
    for (bucket, &is_disturbed) in series.buckets.iter().zip(disturbed) {
        fallback.merge(&bucket.latency);
        if is_disturbed {
            continue;
        }
        window.merge(&bucket.latency);
        if window.count() >= P99_WINDOW_MIN_REQUESTS {
            window_p99s.extend(window.quantile(0.99));
            window = LatencyHistogram::default();
        }
    }
    if window_p99s.is_empty() {
        // Too little traffic for windows: the p99 of everything undisturbed,
        // else of everything.
        return window.quantile(0.99).or_else(|| fallback.quantile(0.99));
    }
    quantile(&window_p99s, P99_WINDOW_QUANTILE)
}

/// The slow threshold in microseconds: `--slow` as given, else the larger
/// of 1 s and 4 × the baseline p99, rounded up to the next latency-bin floor
/// (at most 1/64 more) when above 1 s so slow counts stay exact.
pub fn slow_threshold_us(explicit: Option<u64>, baseline_p99_us: Option<f64>) -> u64 {
    if let Some(threshold) = explicit {
        return threshold;
    }
    let from_p99 = baseline_p99_us.map_or(0.0, |p99| p99 * SLOW_P99_MULTIPLIER);
    if from_p99 <= MIN_DEFAULT_SLOW_US as f64 {
        MIN_DEFAULT_SLOW_US
    } else {
        snap_threshold_us(from_p99.ceil() as u64)
    }
}

/// Below this many buckets the baseline is learned from finer pieces of
/// them ([`learning_counts`]): one or a few wide buckets (`--bucket 1h` over
/// an hour's log) each mix the healthy stretch with the outage, and their
/// rate is the outage's, although the slots inside know better. Twelve is
/// the fewest that still leaves the screen and the window quartile of
/// [`baseline_bad_rate`] a healthy majority to find when the outage is
/// under half the range.
pub const MIN_LEARNING_BUCKETS: usize = 12;

/// Pieces each bucket is cut into when there are too few buckets: a
/// minute each from one-minute buckets up (a bucket's slots are one second).
pub const LEARNING_PIECES_PER_BUCKET: usize = 60;

/// The counts the baseline is learned from: `counts` themselves, or, with
/// fewer than [`MIN_LEARNING_BUCKETS`] buckets, each bucket cut into
/// [`LEARNING_PIECES_PER_BUCKET`] pieces of its slots, judged at
/// `threshold_us` (a bin floor or the ingest threshold). The pieces hold
/// the same requests as the buckets, so only where they sit is finer.
pub fn learning_counts(
    series: &SeriesSet,
    counts: &[BucketCounts],
    threshold_us: u64,
) -> Vec<BucketCounts> {
    if counts.len() >= MIN_LEARNING_BUCKETS || series.buckets.len() != counts.len() {
        return counts.to_vec();
    }
    let slots = series.slots_per_bucket();
    let mut pieces = Vec::with_capacity(counts.len() * LEARNING_PIECES_PER_BUCKET);
    for bucket in &series.buckets {
        let mut own = [BucketCounts::default(); LEARNING_PIECES_PER_BUCKET];
        for (slot, counted) in bucket.slots.iter().enumerate() {
            let view = counted.view(threshold_us, series.ingest_slow_us);
            let piece = &mut own[slot * LEARNING_PIECES_PER_BUCKET / slots.max(1)];
            piece.requests += view.requests;
            piece.failed += view.failed;
            piece.slow += view.slow;
        }
        pieces.extend(own);
    }
    pieces
}

/// Per-bucket counts with slowness judged against `threshold_us`.
pub fn bucket_counts(series: &SeriesSet, threshold_us: u64) -> Vec<BucketCounts> {
    series
        .buckets
        .iter()
        .map(|b| BucketCounts {
            requests: b.requests,
            failed: b.failed,
            slow: if threshold_us == series.ingest_slow_us {
                b.slow_at_ingest
            } else {
                u64::from(b.slow_tail.above(threshold_us).count)
            },
        })
        .collect()
}

/// Requests a window of consecutive buckets gathers before its rate is
/// one sample of the baseline: enough that a 0.25% background shows as
/// about five events rather than zero or one.
pub const BASELINE_WINDOW_REQUESTS: u64 = 2_000;

/// The baseline rate is at most this quantile of the window rates: an
/// incident that covers half the log (a slow two-day degradation) leaves
/// the lower quartile normal.
pub const BASELINE_WINDOW_QUANTILE: f64 = 0.25;

/// Fewest windows for their quantile to be used.
pub const MIN_BASELINE_WINDOWS: usize = 4;

/// The normal bad-request rate: the lower of the rate pooled over buckets
/// that are not surprising against the median bucket rate, and the lower
/// quartile of the rates of windows of [`BASELINE_WINDOW_REQUESTS`]
/// requests; floored at [`RATE_FLOOR`]. The screen alone lets a long, thin
/// incident in (one slow request in twenty-five is not surprising in one
/// bucket); the window quartile does not.
pub fn baseline_bad_rate(counts: &[BucketCounts]) -> f64 {
    let screened = screened_bad_rate(counts);
    let mut window_rates = Vec::new();
    let (mut bad, mut requests) = (0u64, 0u64);
    for c in counts {
        bad += c.bad();
        requests += c.requests;
        if requests >= BASELINE_WINDOW_REQUESTS {
            window_rates.push(bad as f64 / requests as f64);
            (bad, requests) = (0, 0);
        }
    }
    if window_rates.len() < MIN_BASELINE_WINDOWS {
        return screened;
    }
    let lower_quartile = quantile(&window_rates, BASELINE_WINDOW_QUANTILE).unwrap_or(screened);
    screened.min(lower_quartile).max(RATE_FLOOR)
}

/// The rate pooled over buckets that are not surprising against the median
/// bucket rate, floored at [`RATE_FLOOR`].
fn screened_bad_rate(counts: &[BucketCounts]) -> f64 {
    let ratios: Vec<f64> = counts
        .iter()
        .filter(|c| c.requests > 0)
        .map(BucketCounts::bad_rate)
        .collect();
    let median_rate = median(&ratios).unwrap_or(0.0).max(RATE_FLOOR);
    let (mut bad, mut total) = (0u64, 0u64);
    for c in counts {
        if binomial_upper_tail(c.bad(), c.requests, median_rate) >= SCREEN_ALPHA {
            bad += c.bad();
            total += c.requests;
        }
    }
    if total == 0 {
        return RATE_FLOOR;
    }
    (bad as f64 / total as f64).max(RATE_FLOOR)
}

/// Days of log from which daily seasonality of the bad rate is used.
pub const SEASONAL_MIN_DAYS: usize = 2;

/// Half-width of the time-of-day window compared across days.
pub const SEASONAL_HALF_WINDOW_MS: i64 = 5 * crate::timefmt::MS_PER_MINUTE;

/// Fewest requests a day's window needs to say what that time of day is like.
pub const SEASONAL_MIN_REQUESTS: u64 = 50;

/// The bad rate each bucket is judged against: the run's baseline, raised to
/// what the same time of day shows on every other day (up to
/// [`SEASONAL_MAX_DAYS_EACH_SIDE`](super::traffic::SEASONAL_MAX_DAYS_EACH_SIDE)
/// each side) when the log spans [`SEASONAL_MIN_DAYS`] days or more. Taking the lowest of the other days
/// means only a pattern that recurs every day (a nightly batch job's 500s)
/// counts as normal; an incident on one other day does not mask this one.
pub fn expected_bad_rates(counts: &[BucketCounts], bucket_ms: i64, baseline_rate: f64) -> Vec<f64> {
    let n = counts.len();
    let day = (crate::timefmt::MS_PER_DAY / bucket_ms.max(1)) as usize;
    if day == 0 || n < SEASONAL_MIN_DAYS * day {
        return vec![baseline_rate; n];
    }
    let half = (SEASONAL_HALF_WINDOW_MS / bucket_ms.max(1)) as usize;
    let (mut requests, mut bad) = (vec![0u64; n + 1], vec![0u64; n + 1]);
    for (i, c) in counts.iter().enumerate() {
        requests[i + 1] = requests[i] + c.requests;
        bad[i + 1] = bad[i] + c.bad();
    }
    (0..n)
        .map(|i| {
            let mut lowest: Option<f64> = None;
            for other in same_time_on_other_days(i, n, day) {
                let (from, to) = (other.saturating_sub(half), (other + half + 1).min(n));
                let window_requests = requests[to] - requests[from];
                if window_requests >= SEASONAL_MIN_REQUESTS {
                    let rate = (bad[to] - bad[from]) as f64 / window_requests as f64;
                    lowest = Some(lowest.map_or(rate, |l: f64| l.min(rate)));
                }
            }
            lowest.map_or(baseline_rate, |rate| rate.max(baseline_rate))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(table: &[(u64, u64, u64)]) -> Vec<BucketCounts> {
        table
            .iter()
            .map(|&(requests, failed, slow)| BucketCounts::of(requests, failed, slow))
            .collect()
    }

    #[test]
    fn bad_rate_ignores_the_incident_and_keeps_the_floor() {
        let quiet = counts(&[(1000, 2, 1); 20]);
        let mut with_incident = quiet.clone();
        with_incident.extend(counts(&[(1000, 600, 50); 10]));
        let cases = [
            ("quiet log", quiet, 0.003),
            ("incident left out", with_incident, 0.003),
            ("no errors at all", counts(&[(100, 0, 0); 5]), RATE_FLOOR),
        ];
        for (name, table, expected) in cases {
            let rate = baseline_bad_rate(&table);
            assert!((rate - expected).abs() < 1e-9, "{name}: {rate}");
        }
    }

    #[test]
    fn a_range_without_a_healthy_stretch_gets_an_absolute_baseline() {
        let cases = [
            (
                "healthy background",
                0.003,
                99.9,
                (0.003, BaselineSource::Data),
            ),
            (
                "at the ceiling: still data",
                HEALTHY_RATE_CEILING,
                99.9,
                (HEALTHY_RATE_CEILING, BaselineSource::Data),
            ),
            (
                "every request fails: the 99.9% budget",
                1.0,
                99.9,
                (0.001, BaselineSource::Absolute),
            ),
            (
                "three quarters fail, 99% objective",
                0.75,
                99.0,
                (0.01, BaselineSource::Absolute),
            ),
            (
                "a 99.99% objective keeps the floor",
                0.5,
                99.99,
                (RATE_FLOOR, BaselineSource::Absolute),
            ),
        ];
        for (name, learned, slo, expected) in cases {
            let (rate, source) = reference_or_absolute(learned, slo);
            assert!((rate - expected.0).abs() < 1e-12, "{name}: {rate}");
            assert_eq!(source, expected.1, "{name}");
        }
        // The whole path: a 30-minute range in which every request fails.
        let all_failing = counts(&[(240, 240, 0); 30]);
        let learned = baseline_bad_rate(&all_failing);
        assert_eq!(learned, 1.0, "the data alone calls the outage normal");
        assert_eq!(
            reference_or_absolute(learned, 99.9).1,
            BaselineSource::Absolute
        );
    }

    #[test]
    fn a_nightly_pattern_is_normal_but_a_one_day_burst_is_not() {
        let minute = crate::timefmt::MS_PER_MINUTE;
        let day = 1440;
        let calm = BucketCounts::of(100, 0, 0);
        let batch = BucketCounts::of(100, 30, 0);
        let mut counts = vec![calm; 3 * day];
        for d in 0..3 {
            counts[d * day + 180..d * day + 200].fill(batch); // 03:00 every night
        }
        counts[day + 720..day + 740].fill(batch); // noon, once
        let expected = expected_bad_rates(&counts, minute, 0.001);
        assert!(
            (expected[day + 190] - 0.3).abs() < 0.05,
            "03:00 is known: {}",
            expected[day + 190]
        );
        assert_eq!(
            expected[day + 730],
            0.001,
            "noon on day two is judged against calm noons"
        );
        assert_eq!(
            expected_bad_rates(&counts[..day], minute, 0.001),
            vec![0.001; day],
            "one day: no seasonality"
        );
    }

    /// One hour bucket over an hour of log: 40 clean minutes, then 20 in
    /// which every request fails. The bucket's own rate is the outage's
    /// (a third); its one-minute pieces find the clean 40 minutes.
    #[test]
    fn one_wide_bucket_learns_from_its_slots() {
        use crate::series::{LineRef, RequestFacts, SeriesBuilder};
        const HOUR: i64 = 3_600_000;
        let cases = [
            ("one 1 h bucket", HOUR, 1),
            ("two 30 min buckets", HOUR / 2, 2),
            ("sixty 1 min buckets: the buckets themselves", 60_000, 60),
        ];
        for (name, bucket_ms, pieces_expected) in cases {
            let mut builder = SeriesBuilder::new(bucket_ms, MIN_DEFAULT_SLOW_US);
            for second in 0..3_600i64 {
                builder.record(&RequestFacts {
                    arrival: second * 1_000 + 250,
                    status: if second >= 2_400 { 502 } else { 200 },
                    duration_us: Some(30_000),
                    user: (second % 50) as u64,
                    line: LineRef::NONE,
                });
            }
            let series = builder.finish(100).expect("an hour");
            let counts = bucket_counts(&series, MIN_DEFAULT_SLOW_US);
            let learning = learning_counts(&series, &counts, MIN_DEFAULT_SLOW_US);
            assert_eq!(
                learning.len(),
                if pieces_expected >= MIN_LEARNING_BUCKETS {
                    pieces_expected
                } else {
                    pieces_expected * LEARNING_PIECES_PER_BUCKET
                },
                "{name}"
            );
            let total = |c: &[BucketCounts]| {
                c.iter()
                    .fold((0, 0), |(r, b), c| (r + c.requests, b + c.bad()))
            };
            assert_eq!(
                total(&learning),
                (3_600, 1_200),
                "{name}: the same requests"
            );
            assert_eq!(
                reference_or_absolute(baseline_bad_rate(&learning), 99.9),
                (RATE_FLOOR, BaselineSource::Data),
                "{name}: the clean 40 minutes"
            );
        }
        // The buckets alone cannot tell: the hour's rate is a third.
        let mut builder = SeriesBuilder::new(HOUR, MIN_DEFAULT_SLOW_US);
        for second in 0..3_600i64 {
            builder.record(&RequestFacts {
                arrival: second * 1_000,
                status: if second >= 2_400 { 502 } else { 200 },
                duration_us: None,
                user: 1,
                line: LineRef::NONE,
            });
        }
        let series = builder.finish(10).expect("an hour");
        let counts = bucket_counts(&series, MIN_DEFAULT_SLOW_US);
        assert_eq!(
            reference_or_absolute(baseline_bad_rate(&counts), 99.9).1,
            BaselineSource::Absolute
        );
    }

    #[test]
    fn slow_threshold_follows_the_contract() {
        let cases = [
            ("explicit wins", Some(2_500_000), Some(900_000.0), 2_500_000),
            ("fast service: 1 s floor", None, Some(40_000.0), 1_000_000),
            ("no request times: 1 s", None, None, 1_000_000),
            (
                "slow service: 4 × p99, snapped up",
                None,
                Some(500_000.0),
                snap_threshold_us(2_000_000),
            ),
        ];
        for (name, explicit, p99, expected) in cases {
            assert_eq!(slow_threshold_us(explicit, p99), expected, "{name}");
        }
        let snapped = snap_threshold_us(2_000_000);
        assert!((2_000_000..=2_000_000 + 2_000_000 / 64).contains(&snapped));
    }
}
