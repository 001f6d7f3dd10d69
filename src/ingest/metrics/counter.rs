//! Counters: series that count since their process started
//! (`http_requests_total`, `node_cpu_seconds_total`) mean nothing as levels
//! (they only grow); what moves in an incident is how fast they grow. A
//! counter is recognised by its shape (and its name), and turned into a
//! per-second rate before detection sees it, resets handled as Prometheus's
//! `rate()` handles them: any drop is a reset, and the counter counted up
//! from zero to its new value.
//!
//! # What is a counter
//!
//! Every finite value is at least zero, every drop goes to near zero
//! ([`RESET_NEAR_ZERO_SHARE`] of the value before it: a restarted process
//! counts from zero), and the series grew. That shape alone also fits a
//! noiseless gauge that only grows, so one more thing must say "counter":
//! the name ends as Prometheus's naming conventions end counters
//! ([`COUNTER_SUFFIXES`]), or the series was reset at least once and grew
//! at most of its steps ([`UNNAMED_RISING_SHARE`]: requests arrive every
//! scrape, a gauge that is flat at a level and drops to zero, such as a
//! count of healthy upstreams, does not).

use crate::timefmt::Millis;

/// Name endings of counters in Prometheus's naming conventions
/// (<https://prometheus.io/docs/practices/naming/>): `_total` for counters,
/// `_count`, `_sum` and `_bucket` for the counters of histograms and
/// summaries.
pub const COUNTER_SUFFIXES: &[&str] = &["_total", "_count", "_sum", "_bucket"];

/// A drop counts as a reset when the value after it is at most this share
/// of the value before it. A counter restarted fifteen seconds into a new
/// process holds fifteen seconds' worth; before the restart it held the
/// whole uptime's, so after a quarter hour of uptime the share is under
/// 2%. A gauge's drops (memory freed by a collection, a restart that frees
/// most but not all of a leak) leave far more.
pub const RESET_NEAR_ZERO_SHARE: f64 = 0.02;

/// Fewest finite points for a series to be judged a counter: fewer steps
/// cannot show that a series only grows.
pub const MIN_COUNTER_POINTS: usize = 8;

/// A series whose name does not say "counter" must have grown at least at
/// this share of its steps (and been reset at least once)...
pub const UNNAMED_RISING_SHARE: f64 = 0.5;

/// ...and been reset at no more than this share of its steps: a counter
/// resets when its process restarts, a few times in a series, while a 0/1
/// gauge that flaps (`up`) "resets" at every other step.
pub const UNNAMED_MAX_RESET_SHARE: f64 = 0.05;

/// Whether the name (the part before any labels or host) ends as a
/// counter's does.
pub fn name_says_counter(name: &str) -> bool {
    let base = name.split(['{', ' ']).next().unwrap_or(name);
    let base = base.strip_prefix("rate(").unwrap_or(base);
    COUNTER_SUFFIXES.iter().any(|suffix| base.ends_with(suffix))
}

/// Whether `values` (NaN for gaps) of the series `name` are a counter's.
pub fn is_counter(name: &str, values: &[f64]) -> bool {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < MIN_COUNTER_POINTS || finite.iter().any(|&v| v < 0.0) {
        return false;
    }
    let (mut rising, mut resets) = (0usize, 0usize);
    for pair in finite.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        if after > before {
            rising += 1;
        } else if after < before {
            if after > RESET_NEAR_ZERO_SHARE * before {
                return false;
            }
            resets += 1;
        }
    }
    if rising == 0 {
        return false;
    }
    let steps = (finite.len() - 1) as f64;
    name_says_counter(name)
        || (resets > 0
            && resets as f64 <= UNNAMED_MAX_RESET_SHARE * steps
            && rising as f64 >= UNNAMED_RISING_SHARE * steps)
}

/// The per-second rate of a counter at each point: the increase since the
/// previous finite point over the seconds between them, a drop read as a
/// reset (the counter counted from zero to its new value, as Prometheus's
/// `rate()` reads it). The first finite point has no rate (NaN), nor has a
/// gap; the series keeps its points so their lines stay aligned.
pub fn to_rate(times: &[Millis], values: &[f64]) -> Vec<f64> {
    let mut rates = vec![f64::NAN; values.len()];
    let mut previous: Option<(Millis, f64)> = None;
    for (i, (&at, &value)) in times.iter().zip(values).enumerate() {
        if !value.is_finite() {
            continue;
        }
        if let Some((before_at, before)) = previous
            && at > before_at
        {
            let increase = if value >= before {
                value - before
            } else {
                value
            };
            rates[i] = increase / ((at - before_at) as f64 / 1000.0);
        }
        previous = Some((at, value));
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_told_from_gauges() {
        let grow = |n: usize| (0..n).map(|i| 100.0 + 7.0 * i as f64).collect::<Vec<f64>>();
        // Grows by 7 a step, restarts at the twentieth of 40 points (one
        // reset in 39 steps, under the 5% an unnamed counter may have) and
        // counts from 1.
        let reset: Vec<f64> = (0..40)
            .map(|i| {
                if i < 20 {
                    100.0 + 7.0 * i as f64
                } else {
                    1.0 + 7.0 * (i - 20) as f64
                }
            })
            .collect();
        let mut noisy_gauge = grow(20);
        noisy_gauge[5] -= 10.0; // 125 after 128: a small drop
        let healthy_upstreams: Vec<f64> = (0..20).map(|i| if i == 9 { 0.0 } else { 4.0 }).collect();
        let mut memory_restart = grow(20);
        memory_restart[12] = 60.0; // a restart frees most of a leak, not all
        let flat: Vec<f64> = vec![5.0; 20];
        let flapping: Vec<f64> = (0..20).map(|i| (i % 2) as f64).collect();
        let cases: [(&str, &str, Vec<f64>, bool); 9] = [
            ("a 0/1 gauge that flaps", "up", flapping, false),
            ("named, only grows", "http_requests_total", grow(20), true),
            (
                "named, with a reset",
                "http_requests_total{code=\"500\"}",
                reset.clone(),
                true,
            ),
            ("unnamed, reset to zero", "web01 requests", reset, true),
            (
                "unnamed, only grows",
                "web01 memory_used_bytes",
                grow(20),
                false,
            ),
            ("a drop that is no reset", "x_total", noisy_gauge, false),
            (
                "a gauge dropping to zero",
                "nginx_upstream_healthy",
                healthy_upstreams,
                false,
            ),
            ("a leak's restart", "memory_total", memory_restart, false),
            ("flat", "errors_total", flat, false),
        ];
        for (name, series, values, expected) in cases {
            assert_eq!(is_counter(series, &values), expected, "{name}");
        }
    }

    #[test]
    fn rates_count_from_zero_after_a_reset_as_prometheus_does() {
        let times: Vec<Millis> = (0..6).map(|i| i * 15_000).collect();
        // 30 per 15 s, a reset to 6 at the fourth point, a gap, then 36.
        let values = [0.0, 30.0, 60.0, 6.0, f64::NAN, 36.0];
        let rates = to_rate(&times, &values);
        assert!(rates[0].is_nan(), "the first point has no rate");
        assert_eq!(rates[1..4], [2.0, 2.0, 0.4]);
        assert!(rates[4].is_nan(), "a gap stays a gap");
        assert_eq!(rates[5], 1.0, "30 over the 30 s since the last point");
    }
}
