//! Impact: who and what was hit between an incident's start and end.
//!
//! Counted over requests whose arrival lies in `[start, end]`. Whole buckets
//! inside the range count fully. In the two edge buckets, requests are
//! counted per slot (one second from one-minute buckets up; slow requests
//! per slot at any threshold, from the slot's slow tail) and users by the
//! first and last time they were seen in the bucket, so a user seen only
//! before the start is not counted.

use rustc_hash::FxHashSet;

use crate::series::user_sketch::UsersUnion;
use crate::series::{SeriesSet, UserSpan};
use crate::timefmt::Millis;

/// The numbers of the contract's `impact`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Impact {
    pub users_active: u64,
    pub users_affected: u64,
    /// 100 × affected / active, rounded to two decimals.
    pub affected_pct: f64,
    pub requests_total: u64,
    pub requests_failed: u64,
    pub requests_slow: u64,
    pub users_missing: u64,
    /// Whether the users are estimates from the buckets' sketches (whole
    /// edge buckets, [`crate::series::user_sketch`]) rather than counted
    /// one by one.
    pub users_estimated: bool,
}

impl Impact {
    /// Sets the users active and affected, and `affected_pct` from them.
    pub fn set_users(&mut self, active: u64, affected: u64) {
        self.users_active = active;
        self.users_affected = affected;
        self.affected_pct = if active == 0 {
            0.0
        } else {
            round2(100.0 * affected as f64 / active as f64)
        };
    }
}

/// Rounds to two decimals, as percentages are reported.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Counts the impact over `[start, end]` with slowness at `threshold_us`.
pub fn measure(series: &SeriesSet, start: Millis, end: Millis, threshold_us: u64) -> Impact {
    let mut impact = Impact::default();
    if series.buckets.is_empty() || end < start {
        return impact;
    }
    let exact_slow = threshold_us == series.ingest_slow_us;
    let mut active: FxHashSet<u64> = FxHashSet::default();
    let mut affected: FxHashSet<u64> = FxHashSet::default();
    let (first, last) = (series.index_of(start), series.index_of(end));
    let sketched = series.buckets[first..=last]
        .iter()
        .any(|bucket| bucket.users.sketch().is_some());
    for index in first..=last {
        let bucket = &series.buckets[index];
        let bucket_start = series.bucket_start(index);
        // The part of this bucket inside [start, end], in relative ms.
        let from = (start - bucket_start).clamp(0, series.bucket_ms - 1) as u32;
        let to = (end - bucket_start).clamp(0, series.bucket_ms - 1) as u32;
        let whole = from == 0 && i64::from(to) == series.bucket_ms - 1;
        let slow_here = if exact_slow {
            bucket.slow_at_ingest
        } else {
            u64::from(bucket.slow_tail.above(threshold_us).count)
        };
        if whole {
            impact.requests_total += bucket.requests;
            impact.requests_failed += bucket.failed;
            impact.requests_slow += slow_here;
        } else {
            let (first_slot, last_slot) = (series.slot_of(from), series.slot_of(to));
            for index in first_slot..=last_slot {
                let view = bucket.slot(index).view(threshold_us, series.ingest_slow_us);
                impact.requests_total += view.requests;
                impact.requests_failed += view.failed;
                impact.requests_slow += view.slow;
            }
        }
        for (user, span) in &bucket.users {
            if whole || overlaps(span.first, span.last, from, to) {
                active.insert(user);
            }
            if is_affected(&span, whole, from, to, exact_slow, threshold_us) {
                affected.insert(user);
            }
        }
    }
    if sketched {
        let (active, affected) = estimate_users(series, first, last);
        impact.set_users(active, affected);
        impact.users_estimated = true;
    } else {
        impact.set_users(active.len() as u64, affected.len() as u64);
    }
    impact
}

/// The users active and affected (bad at the ingest threshold) in buckets
/// `first..=last` whole, from their sketches (a bucket still held one by
/// one adds its ids): estimates, through one union each.
fn estimate_users(series: &SeriesSet, first: usize, last: usize) -> (u64, u64) {
    let (mut active, mut affected) = (UsersUnion::new(), UsersUnion::new());
    for bucket in &series.buckets[first..=last] {
        match bucket.users.sketch() {
            Some(sketch) => {
                active.add_sketch(&sketch.all);
                affected.add_sketch(&sketch.bad);
            }
            None => {
                for (user, span) in &bucket.users {
                    active.add_user(user);
                    if span.had_bad() {
                        affected.add_user(user);
                    }
                }
            }
        }
    }
    (active.estimate(), affected.estimate())
}

/// The impact of a traffic drop, whose start is the last request of its
/// bucket before the silence and whose end the first request of its bucket
/// after it ([`super::traffic::drop_incidents`]). [`measure`] counts the edge
/// buckets per slot, which takes in the requests of the start's second that
/// came before it and of the end's second that came after it: a handful,
/// but the whole count of a drop is a handful too. Here, of the two edge
/// buckets, only the requests at the start and end instants count (one per
/// user seen last, or first, at that millisecond), and the buckets between
/// count whole. Users are exact in [`measure`] already (spans to the
/// millisecond). An edge request is failed when its user's last (first) bad
/// request is at that instant and one of the user's requests in the bucket
/// failed, slow when bad and none failed: the per-user facts the series
/// keeps.
pub fn measure_drop(series: &SeriesSet, start: Millis, end: Millis, threshold_us: u64) -> Impact {
    let mut impact = measure(series, start, end, threshold_us);
    let (first, last) = (series.index_of(start), series.index_of(end));
    if series.buckets.is_empty() || first >= last {
        return impact;
    }
    let exact_slow = threshold_us == series.ingest_slow_us;
    let (mut requests, mut failed, mut slow) = (0u64, 0u64, 0u64);
    for index in first + 1..last {
        let bucket = &series.buckets[index];
        requests += bucket.requests;
        failed += bucket.failed;
        slow += if exact_slow {
            bucket.slow_at_ingest
        } else {
            u64::from(bucket.slow_tail.above(threshold_us).count)
        };
    }
    let edges = [
        (first, (start - series.bucket_start(first)) as u32, true),
        (last, (end - series.bucket_start(last)) as u32, false),
    ];
    for (index, rel, is_start) in edges {
        for span in series.buckets[index].users.values() {
            let (seen, bad) = if is_start {
                (span.last, span.last_bad)
            } else {
                (span.first, span.first_bad)
            };
            if seen != rel {
                continue;
            }
            requests += 1;
            if span.had_bad() && bad == rel {
                if span.had_failed {
                    failed += 1;
                } else if exact_slow {
                    slow += 1;
                }
            }
        }
    }
    impact.requests_total = requests;
    impact.requests_failed = failed;
    impact.requests_slow = slow;
    impact
}

/// Whether a user seen from `first` to `last` may have had a request in
/// `[from, to]`; exact unless the user was seen on both sides of a range
/// that lies inside one bucket.
fn overlaps(first: u32, last: u32, from: u32, to: u32) -> bool {
    last >= from && first <= to
}

fn is_affected(
    span: &UserSpan,
    whole: bool,
    from: u32,
    to: u32,
    exact_slow: bool,
    threshold_us: u64,
) -> bool {
    if !span.had_bad() {
        return false;
    }
    let in_range = whole || overlaps(span.first_bad, span.last_bad, from, to);
    if exact_slow {
        in_range
    } else {
        // Above the ingest threshold only failures and the slowest success
        // are known per user.
        in_range && (span.had_failed || u64::from(span.max_ok_latency_us) > threshold_us)
    }
}
