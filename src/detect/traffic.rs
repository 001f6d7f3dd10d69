//! Traffic drops: the uplink fails, the load balancer stops forwarding, and
//! the access log simply goes quiet. No request fails, so only the count of
//! requests against what the time of day should bring shows it.
//!
//! The expected count per bucket is the median of the same time of day
//! (± [`SEASONAL_HALF_WINDOW_MS`]) on the other days (up to
//! [`SEASONAL_MAX_DAYS_EACH_SIDE`] each side) when the series spans
//! [`SEASONAL_MIN_DAYS`] days or more, else a rolling median over
//! ± [`ROLLING_HALF_WINDOW_MS`]. A drop is a run of buckets below a fifth of
//! the expected count lasting at least five minutes: the contract's traffic
//! rule, which also gives its detection time.

use crate::series::SeriesSet;
use crate::timefmt::{MS_PER_DAY, MS_PER_MINUTE, Millis};

use super::baseline::BucketCounts;
use super::stats::poisson_lower_tail;
use super::{Cause, Incident, Severity};

/// The contract's traffic rule: requests below this share of the baseline...
pub const TRAFFIC_DROP_FRACTION: f64 = 0.2;

/// ...for this long.
pub const TRAFFIC_RULE_MS: i64 = 5 * MS_PER_MINUTE;

/// Below this many expected requests per minute a quiet bucket is normal
/// (a small site at night), not a drop.
pub const MIN_EXPECTED_PER_MINUTE: f64 = 5.0;

/// A run is a drop only when so few distinct users are this improbable
/// given the users expected over it. Users, not requests: requests come in
/// sessions, so a quiet night can go five minutes without a request by
/// chance, but not without the users of a busy hour.
pub const TRAFFIC_ALPHA: f64 = 1e-6;

/// Half-width of the rolling median for logs shorter than two days. An hour
/// each side keeps a drop of up to an hour from dragging the median down.
pub const ROLLING_HALF_WINDOW_MS: i64 = 60 * MS_PER_MINUTE;

/// Days of log from which the same time on other days is the baseline.
pub const SEASONAL_MIN_DAYS: i64 = 2;

/// Half-width of the time-of-day window compared across days.
pub const SEASONAL_HALF_WINDOW_MS: i64 = 10 * MS_PER_MINUTE;

/// Most days each side of a bucket whose same time of day feeds its
/// seasonal baseline. A week each side covers the weekly cycle; days further
/// away describe an older level of traffic, and the bound keeps the cost at
/// most `2 × 7 × 21` samples per bucket however long the log is (a sparse log
/// spanning a year has half a million one-minute buckets).
pub const SEASONAL_MAX_DAYS_EACH_SIDE: usize = 7;

/// The buckets at the same time of day as bucket `i` on the other days up
/// to [`SEASONAL_MAX_DAYS_EACH_SIDE`] each side, earliest first, in a series
/// of `n` buckets with `day` (at least one) buckets a day: the buckets the
/// seasonal baselines of traffic and of the bad-request rate compare with.
pub fn same_time_on_other_days(i: usize, n: usize, day: usize) -> impl Iterator<Item = usize> {
    let reach = SEASONAL_MAX_DAYS_EACH_SIDE * day;
    let first_day = i.saturating_sub(reach);
    // The first bucket at the same time of day at or after `first_day`.
    let first = first_day + (i - first_day) % day;
    let last = (i + reach).min(n - 1);
    (first..=last).step_by(day).filter(move |&other| other != i)
}

/// The expected value of `values` per bucket (requests, or distinct users).
pub fn expected(values: &[u64], bucket_ms: i64) -> Vec<f64> {
    let n = values.len();
    let day = (MS_PER_DAY / bucket_ms.max(1)) as usize;
    // One buffer for every bucket's samples: the median is taken in place.
    let mut samples: Vec<u64> = Vec::new();
    if day > 0 && n as i64 >= SEASONAL_MIN_DAYS * day as i64 {
        let half = (SEASONAL_HALF_WINDOW_MS / bucket_ms.max(1)) as usize;
        return (0..n)
            .map(|i| {
                samples.clear();
                for other in same_time_on_other_days(i, n, day) {
                    let from = other.saturating_sub(half);
                    let to = (other + half).min(n - 1);
                    samples.extend_from_slice(&values[from..=to]);
                }
                median_in_place(&mut samples)
            })
            .collect();
    }
    let half = (ROLLING_HALF_WINDOW_MS / bucket_ms.max(1)) as usize;
    (0..n)
        .map(|i| {
            let from = i.saturating_sub(half);
            let to = (i + half).min(n.saturating_sub(1));
            samples.clear();
            samples.extend_from_slice(&values[from..=to]);
            median_in_place(&mut samples)
        })
        .collect()
}

/// The median of `values` (the mean of the two middle ones for an even
/// count; 0 for none), reordering them: selection, not a sort, so each
/// bucket's baseline costs time linear in its samples.
fn median_in_place(values: &mut [u64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let (below, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return upper as f64;
    }
    let lower = below.iter().copied().max().unwrap_or(upper);
    (lower as f64 + upper as f64) / 2.0
}

/// Requests and distinct users per bucket, with their expected values.
#[derive(Clone, Copy, Debug)]
pub struct Traffic<'a> {
    pub requests: &'a [u64],
    pub expected_requests: &'a [f64],
    pub users: &'a [u64],
    pub expected_users: &'a [f64],
}

/// Runs of buckets (first, last) whose requests stay below
/// [`TRAFFIC_DROP_FRACTION`] of the expected count for at least
/// [`TRAFFIC_RULE_MS`], with traffic on both sides (a log that ends is not
/// a drop), and with fewer users than chance allows ([`TRAFFIC_ALPHA`]).
pub fn drops(traffic: Traffic<'_>, bucket_ms: i64) -> Vec<(usize, usize)> {
    let Traffic {
        requests,
        expected_requests: expected,
        users,
        expected_users,
    } = traffic;
    let min_expected = MIN_EXPECTED_PER_MINUTE * bucket_ms as f64 / MS_PER_MINUTE as f64;
    let min_len = ((TRAFFIC_RULE_MS + bucket_ms - 1) / bucket_ms.max(1)).max(1) as usize;
    let low = |i: usize| {
        expected[i] >= min_expected && (requests[i] as f64) < TRAFFIC_DROP_FRACTION * expected[i]
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < requests.len() {
        if !low(i) {
            i += 1;
            continue;
        }
        let first = i;
        while i < requests.len() && low(i) {
            i += 1;
        }
        let last = i - 1;
        let inside_the_log = first > 0 && last + 1 < requests.len();
        let seen: u64 = users[first..=last].iter().sum();
        let normal: f64 = expected_users[first..=last].iter().sum();
        let improbable = poisson_lower_tail(seen, normal) < TRAFFIC_ALPHA;
        if inside_the_log && last + 1 - first >= min_len && improbable {
            runs.push((first, last));
        }
    }
    runs
}

/// Incidents of traffic that vanished, outside the bad-request incidents
/// `found`: start is the last request before the drop, end the first after it.
pub fn drop_incidents(
    series: &SeriesSet,
    counts: &[BucketCounts],
    found: &[Incident],
) -> Vec<Incident> {
    let requests: Vec<u64> = counts.iter().map(|c| c.requests).collect();
    let expected_requests = expected(&requests, series.bucket_ms);
    let users = users_per_bucket(series);
    let expected_users = expected(&users, series.bucket_ms);
    let observed = Traffic {
        requests: &requests,
        expected_requests: &expected_requests,
        users: &users,
        expected_users: &expected_users,
    };
    drops(observed, series.bucket_ms)
        .into_iter()
        .filter(|&(first, last)| {
            !found
                .iter()
                .any(|i| i.first_bucket <= last + 1 && first <= i.last_bucket + 1)
        })
        .filter_map(|(first, last)| {
            let before =
                arrival_range(series, first).or_else(|| arrival_range(series, first - 1))?;
            let after = arrival_range(series, last).or_else(|| arrival_range(series, last + 1))?;
            let lowest = requests[first..=last].iter().copied().min().unwrap_or(0);
            let expected_per_bucket =
                expected_requests[first..=last].iter().sum::<f64>() / (last + 1 - first) as f64;
            Some(Incident {
                cause: Cause::TrafficDrop {
                    expected_per_bucket,
                    lowest_per_bucket: lowest,
                },
                start: before.1,
                end: after.0,
                start_line: None,
                end_line: None,
                first_bucket: first,
                last_bucket: last,
                severity: if lowest == 0 {
                    Severity::Outage
                } else {
                    Severity::PartialOutage
                },
            })
        })
        .collect()
}

/// Distinct users per bucket.
fn users_per_bucket(series: &SeriesSet) -> Vec<u64> {
    series
        .buckets
        .iter()
        .map(|b| b.users.len() as u64)
        .collect()
}

/// Earliest and latest arrival in a bucket, from its users' spans.
fn arrival_range(series: &SeriesSet, index: usize) -> Option<(Millis, Millis)> {
    let (first, last) = series.buckets[index].users.arrival_range()?;
    Some((series.absolute(index, first), series.absolute(index, last)))
}

/// Users the drop kept away: the baseline's distinct users per bucket over
/// the drop's buckets, less the `users_active` who did get through.
pub fn users_missing(series: &SeriesSet, incident: &Incident, users_active: u64) -> u64 {
    let expected_users = expected(&users_per_bucket(series), series.bucket_ms);
    let missing: f64 = expected_users[incident.first_bucket..=incident.last_bucket]
        .iter()
        .sum();
    (missing.round() as u64).saturating_sub(users_active)
}

/// Requests a minute for a count per bucket of `bucket_ms`.
pub fn per_minute(per_bucket: f64, bucket_ms: i64) -> f64 {
    per_bucket * (MS_PER_MINUTE as f64 / bucket_ms as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = MS_PER_MINUTE;

    /// Drops in `requests`, with one user per `per_user` requests.
    fn find(requests: &[u64], per_user: u64) -> Vec<(usize, usize)> {
        let users: Vec<u64> = requests.iter().map(|r| r / per_user).collect();
        let expected_requests = expected(requests, MINUTE);
        let expected_users = expected(&users, MINUTE);
        let traffic = Traffic {
            requests,
            expected_requests: &expected_requests,
            users: &users,
            expected_users: &expected_users,
        };
        drops(traffic, MINUTE)
    }

    #[test]
    fn a_twenty_minute_gap_is_one_drop() {
        let mut requests = vec![100u64; 180];
        requests[60..80].fill(0);
        assert_eq!(
            expected(&requests, MINUTE)[70],
            100.0,
            "the rolling median ignores the gap"
        );
        assert_eq!(find(&requests, 4), vec![(60, 79)]);
    }

    #[test]
    fn what_is_not_a_drop() {
        let cases: [(&str, Vec<u64>, u64); 5] = [
            (
                "four minutes is too short",
                [vec![100; 60], vec![0; 4], vec![100; 60]].concat(),
                4,
            ),
            ("a log that ends", [vec![100; 60], vec![0; 30]].concat(), 4),
            (
                "a small site at night",
                [vec![3; 60], vec![0; 10], vec![3; 60]].concat(),
                1,
            ),
            (
                "a dip to a third",
                [vec![90; 60], vec![30; 10], vec![90; 60]].concat(),
                3,
            ),
            (
                "sessions of six at night: a lull",
                [vec![6; 60], vec![0; 5], vec![6; 60]].concat(),
                6,
            ),
        ];
        for (name, requests, per_user) in cases {
            assert_eq!(find(&requests, per_user), vec![], "{name}");
        }
    }

    #[test]
    fn two_days_compare_the_same_time_of_day() {
        // Busy days, quiet nights; on day two traffic vanishes at 12:00 for
        // ninety minutes, longer than the rolling median could bridge.
        let day: Vec<u64> = (0..1440)
            .map(|m| if (480..1200).contains(&m) { 200 } else { 10 })
            .collect();
        let mut requests = [day.clone(), day].concat();
        requests[1440 + 720..1440 + 810].fill(0);
        let expected = expected(&requests, MINUTE);
        assert_eq!(expected[1440 + 760], 200.0);
        assert_eq!(expected[100], 10.0, "night stays night");
        assert_eq!(find(&requests, 5), vec![(1440 + 720, 1440 + 809)]);
    }

    #[test]
    fn medians_are_taken_in_place() {
        let cases: [(&str, Vec<u64>, f64); 4] = [
            ("none", vec![], 0.0),
            ("odd count", vec![9, 1, 5], 5.0),
            ("even count: mean of the middle two", vec![8, 2, 6, 4], 5.0),
            ("ties", vec![3, 3, 3, 7], 3.0),
        ];
        for (name, mut values, median) in cases {
            assert_eq!(median_in_place(&mut values), median, "{name}");
        }
    }

    #[test]
    fn the_seasonal_baseline_looks_a_week_each_side() {
        // Twenty days at one request a minute: days 0..=12 at 100, days
        // 13..=19 at 10. Day 19 sees days 12..=18 (one at 100, six at 10);
        // counting every other day would give 13 at 100 against 6 at 10.
        let day = 1440;
        let requests: Vec<u64> = (0..20 * day)
            .map(|i| if i / day <= 12 { 100 } else { 10 })
            .collect();
        let expected = expected(&requests, MINUTE);
        assert_eq!(expected[19 * day + 600], 10.0, "last day: recent days");
        assert_eq!(expected[600], 100.0, "first day: days 1..=7");
    }
}
