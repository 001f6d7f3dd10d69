//! Which buckets depart from the baseline: a binomial test of bad requests
//! against the baseline rate, with a minimum effect size so a statistically
//! clear but harmless wobble on a busy site is not an incident.
//!
//! A low-traffic site cannot show an incident in one bucket (four errors in
//! twenty requests is not proof), so the test also runs over sliding windows
//! of several buckets ([`WINDOW_SCALES_MS`]); a bucket inside an anomalous
//! window is anomalous when it supports the window on its own evidence
//! ([`SUPPORT_ALPHA`]), so quiet buckets at a window's edge stay out.

use super::baseline::{BucketCounts, baseline_bad_rate, expected_bad_rates, reference_or_absolute};
use super::stats::binomial_upper_tail;

/// A bucket is anomalous when its bad count is this improbable under the
/// baseline rate. One in a million keeps a week of one-minute buckets
/// (10,080 tests) free of false alarms from chance alone.
pub const ANOMALY_ALPHA: f64 = 1e-6;

/// Fewest bad requests for a bucket to count as anomalous.
pub const MIN_BAD_PER_BUCKET: u64 = 3;

/// Smallest excess of a bucket's bad rate over the baseline (one
/// percentage point): below it users would not notice.
pub const MIN_EXCESS_RATE: f64 = 0.01;

/// Window lengths the test runs at, besides single buckets.
pub const WINDOW_SCALES_MS: [i64; 4] = [5 * 60_000, 15 * 60_000, 60 * 60_000, 240 * 60_000];

/// A bucket inside an anomalous window counts when its own bad count is at
/// least this improbable under the baseline.
pub const SUPPORT_ALPHA: f64 = 0.01;

/// Whether one bucket departs from a baseline bad rate.
pub fn is_anomalous(counts: &BucketCounts, baseline_rate: f64) -> bool {
    counts.bad() >= MIN_BAD_PER_BUCKET
        && counts.bad_rate() >= baseline_rate + MIN_EXCESS_RATE
        && binomial_upper_tail(counts.bad(), counts.requests, baseline_rate) < ANOMALY_ALPHA
}

/// Anomalous buckets: anomalous alone, or supporting an anomalous window of
/// [`WINDOW_SCALES_MS`] (converted to whole buckets of `bucket_ms`). Each
/// bucket is judged against its own expected rate (see
/// [`super::baseline::expected_bad_rates`]); a window against the
/// request-weighted mean of its buckets' rates.
pub fn anomalous_buckets(counts: &[BucketCounts], expected: &[f64], bucket_ms: i64) -> Vec<bool> {
    let mut anomalous: Vec<bool> = counts
        .iter()
        .zip(expected)
        .map(|(c, &rate)| is_anomalous(c, rate))
        .collect();
    // Whether each bucket supports a window on its own evidence: computed
    // once per bucket, not once per window the bucket is in (a day of
    // one-minute buckets sits in up to 320 windows).
    let supports: Vec<bool> = counts
        .iter()
        .zip(expected)
        .map(|(c, &rate)| {
            c.bad_rate() >= rate + MIN_EXCESS_RATE
                && binomial_upper_tail(c.bad(), c.requests, rate) < SUPPORT_ALPHA
        })
        .collect();
    // Prefix sums make every window's totals O(1), and a difference array
    // marks the buckets covered by anomalous windows in O(1) per window:
    // the whole test is linear in the number of buckets, so a sparse log
    // spanning a year of one-minute buckets costs no more than its length.
    let prefix = |value: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let mut sums = Vec::with_capacity(counts.len() + 1);
        let mut running = 0.0;
        sums.push(running);
        for i in 0..counts.len() {
            running += value(i);
            sums.push(running);
        }
        sums
    };
    let mut requests = vec![0u64; counts.len() + 1];
    let mut bad = vec![0u64; counts.len() + 1];
    for (i, c) in counts.iter().enumerate() {
        requests[i + 1] = requests[i] + c.requests;
        bad[i + 1] = bad[i] + c.bad();
    }
    let weighted_rates = prefix(&|i| counts[i].requests as f64 * expected[i]);
    let plain_rates = prefix(&|i| expected[i]);
    let mut covered = vec![0i64; counts.len() + 1];
    for scale_ms in WINDOW_SCALES_MS {
        let width = (scale_ms / bucket_ms.max(1)) as usize;
        if width < 2 || width > counts.len() {
            continue;
        }
        for start in 0..=counts.len() - width {
            let end = start + width;
            let total = BucketCounts {
                requests: requests[end] - requests[start],
                failed: bad[end] - bad[start],
                slow: 0,
            };
            if total.failed < MIN_BAD_PER_BUCKET {
                continue;
            }
            let window_rate = if total.requests == 0 {
                (plain_rates[end] - plain_rates[start]) / width as f64
            } else {
                (weighted_rates[end] - weighted_rates[start]) / total.requests as f64
            };
            if is_anomalous(&total, window_rate) {
                covered[start] += 1;
                covered[end] -= 1;
            }
        }
    }
    let mut depth = 0i64;
    for (i, flag) in anomalous.iter_mut().enumerate() {
        depth += covered[i];
        if depth > 0 && supports[i] {
            *flag = true;
        }
    }
    anomalous
}

/// What can go wrong with a bucket's requests. Failures and slowness are
/// also tested apart: a slow-only degradation starting while background 500s
/// come and go is clear in the slow channel (normally empty) and blurred in
/// the combined one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Failed or slow.
    Bad,
    Failed,
    Slow,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Bad, Channel::Failed, Channel::Slow];

    /// This channel's count in a bucket.
    pub fn count(self, counts: &BucketCounts) -> u64 {
        match self {
            Channel::Bad => counts.bad(),
            Channel::Failed => counts.failed,
            Channel::Slow => counts.slow,
        }
    }

    /// The bucket as this channel sees it: its count in the bad position.
    pub fn view(self, counts: &BucketCounts) -> BucketCounts {
        BucketCounts {
            requests: counts.requests,
            failed: self.count(counts),
            slow: 0,
        }
    }
}

/// One channel's baseline, expected rate per bucket and anomalous buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelState {
    pub channel: Channel,
    pub baseline: f64,
    pub expected: Vec<f64>,
    pub anomalous: Vec<bool>,
}

/// Baselines and anomalies of every [`Channel`], in [`Channel::ALL`] order.
/// A channel whose learned baseline no healthy service has is judged
/// against the `slo_percent` objective instead
/// ([`super::baseline::reference_or_absolute`]): an outage that fills the
/// range is still an outage.
/// Each channel's baseline is learned from `learning` (the counts, or finer
/// pieces of them when the buckets are few: see
/// [`super::baseline::learning_counts`]).
pub fn channel_states(
    counts: &[BucketCounts],
    learning: &[BucketCounts],
    bucket_ms: i64,
    slo_percent: f64,
) -> Vec<ChannelState> {
    Channel::ALL
        .iter()
        .map(|&channel| {
            let view: Vec<BucketCounts> = counts.iter().map(|c| channel.view(c)).collect();
            let learned: Vec<BucketCounts> = learning.iter().map(|c| channel.view(c)).collect();
            let (baseline, _) = reference_or_absolute(baseline_bad_rate(&learned), slo_percent);
            let expected = expected_bad_rates(&view, bucket_ms, baseline);
            let anomalous = anomalous_buckets(&view, &expected, bucket_ms);
            ChannelState {
                channel,
                baseline,
                expected,
                anomalous,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_judged_against_the_baseline() {
        let cases = [
            ("normal background", 120, 1, 0, false),
            ("two errors is still chance", 120, 2, 0, false),
            ("memory-leak minute", 120, 40, 10, true),
            ("complete outage", 120, 120, 0, true),
            ("low traffic, all slow", 6, 0, 6, true),
            ("busy but tiny excess", 100_000, 400, 0, false),
        ];
        for (name, requests, failed, slow, expected) in cases {
            let counts = BucketCounts::of(requests, failed, slow);
            assert_eq!(is_anomalous(&counts, 0.002), expected, "{name}");
        }
    }

    #[test]
    fn windows_find_what_single_buckets_cannot() {
        let quiet = BucketCounts::of(20, 0, 0);
        let background = BucketCounts::of(20, 1, 0);
        let hit = BucketCounts::of(20, 4, 0);
        let mut counts = vec![quiet; 30];
        counts[9] = background;
        counts[10..20].fill(hit);
        assert!(
            !is_anomalous(&hit, 0.01),
            "four in twenty is not proof on its own"
        );
        let anomalous = anomalous_buckets(&counts, &[0.01; 30], 60_000);
        let flagged: Vec<usize> = (0..30).filter(|&i| anomalous[i]).collect();
        assert_eq!(
            flagged,
            (10..20).collect::<Vec<_>>(),
            "the background error next door stays out"
        );
    }
}
