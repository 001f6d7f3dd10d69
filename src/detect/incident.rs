//! From anomalous buckets to incidents: runs of anomalous buckets merged
//! across short recoveries, edges widened to buckets that are still clearly
//! elevated, and start and end refined from the bucket to the first and last
//! bad request, as the contract defines them.

use crate::series::{Bucket, LineRef, SeriesSet};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::baseline::BucketCounts;
use super::refine::{SlotCounts, end_slot, onset_slot, reference_rate};
use super::stats::binomial_upper_tail;

/// Anomalous runs separated by less than this are one incident: a service
/// that recovers for a few minutes between crashes has not recovered.
pub const MERGE_GAP_MS: i64 = 10 * MS_PER_MINUTE;

/// Fewest anomalous buckets for an incident ("long enough to matter")...
pub const MIN_ANOMALOUS_BUCKETS: usize = 2;

/// ...unless a single bucket is this bad (half the requests, and at least
/// [`SINGLE_BUCKET_MIN_BAD`] of them).
pub const SINGLE_BUCKET_MIN_RATE: f64 = 0.5;
pub const SINGLE_BUCKET_MIN_BAD: u64 = 10;

/// A bucket next to an incident joins it when its bad count is this
/// improbable under the baseline (looser than the anomaly test: the edges
/// of an incident are partial buckets).
pub const EDGE_ALPHA: f64 = 1e-3;

/// Fewest bad requests for an edge bucket to join.
pub const EDGE_MIN_BAD: u64 = 2;

/// At most this many buckets are added at each edge.
pub const EDGE_MAX_BUCKETS: usize = 3;

/// How an incident hurt: every request failing, some failing, or slow only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Outage,
    PartialOutage,
    Degradation,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Outage => "outage",
            Severity::PartialOutage => "partial-outage",
            Severity::Degradation => "degradation",
        }
    }
}

/// Share of failed requests above which an incident is an outage:
/// "nearly every request failed".
pub const OUTAGE_FAILED_SHARE: f64 = 0.9;

/// An incident is a degradation (latency only) when failures rose by less
/// than this share of its requests over the baseline.
pub const DEGRADATION_MAX_EXTRA_FAILED_SHARE: f64 = 0.005;

/// What made the incident stand out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cause {
    /// Bad requests (failed or slow) above the baseline.
    BadRequests,
    /// Requests fell below a fifth of what the time of day brings.
    TrafficDrop {
        expected_per_bucket: f64,
        lowest_per_bucket: u64,
    },
}

/// An incident found in the series.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub cause: Cause,
    /// The first bad request (its arrival).
    pub start: Millis,
    /// The last bad request.
    pub end: Millis,
    pub start_line: Option<LineRef>,
    pub end_line: Option<LineRef>,
    pub first_bucket: usize,
    pub last_bucket: usize,
    pub severity: Severity,
}

/// First and last bad request of a bucket at `threshold_us`, relative ms and
/// line (the line is known for failures and ingest-level slowness).
fn bad_edges(series: &SeriesSet, bucket: &Bucket, threshold_us: u64) -> Option<(u32, u32)> {
    if threshold_us == series.ingest_slow_us {
        let first = Bucket::rel(bucket.first_bad)?;
        return Some((first, bucket.last_bad));
    }
    let tail = bucket.slow_tail.above(threshold_us);
    let firsts = [
        Bucket::rel(bucket.first_failed),
        (tail.count > 0).then_some(tail.first),
    ];
    let first = firsts.into_iter().flatten().min()?;
    let last_failed = Bucket::rel(bucket.first_failed).map(|_| bucket.last_failed);
    let last_slow = (tail.count > 0).then_some(tail.last);
    let last = [last_failed, last_slow].into_iter().flatten().max()?;
    Some((first, last))
}

/// Turns anomalous buckets into incidents, sorted by start.
pub fn find_incidents(
    series: &SeriesSet,
    counts: &[BucketCounts],
    anomalous: &[bool],
    expected: &[f64],
    baseline_rate: f64,
    threshold_us: u64,
) -> Vec<Incident> {
    let merge_gap_buckets = (MERGE_GAP_MS / series.bucket_ms).max(1) as usize;
    let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // first, last, anomalous count
    for (index, _) in anomalous.iter().enumerate().filter(|(_, a)| **a) {
        match runs.last_mut() {
            Some((_, last, count)) if index - *last <= merge_gap_buckets => {
                *last = index;
                *count += 1;
            }
            _ => runs.push((index, index, 1)),
        }
    }
    let edge_joins = |index: usize| {
        let c = &counts[index];
        c.bad() >= EDGE_MIN_BAD
            && binomial_upper_tail(c.bad(), c.requests, expected[index]) < EDGE_ALPHA
    };
    let mut incidents = Vec::new();
    for (first, last, anomalous_count) in runs {
        let single_is_enough = anomalous_count == 1 && {
            let c = &counts[first];
            c.bad_rate() >= SINGLE_BUCKET_MIN_RATE && c.bad() >= SINGLE_BUCKET_MIN_BAD
        };
        if anomalous_count < MIN_ANOMALOUS_BUCKETS && !single_is_enough {
            continue;
        }
        let mut first = first;
        let mut last = last;
        for _ in 0..EDGE_MAX_BUCKETS {
            if first > 0 && edge_joins(first - 1) {
                first -= 1;
            } else {
                break;
            }
        }
        for _ in 0..EDGE_MAX_BUCKETS {
            if last + 1 < counts.len() && edge_joins(last + 1) {
                last += 1;
            } else {
                break;
            }
        }
        let Some((first_rel, _)) = bad_edges(series, &series.buckets[first], threshold_us) else {
            continue;
        };
        let Some((_, last_rel)) = bad_edges(series, &series.buckets[last], threshold_us) else {
            continue;
        };
        let exact_lines = threshold_us == series.ingest_slow_us;
        let mut edges = Edges {
            start: series.absolute(first, first_rel),
            end: series.absolute(last, last_rel),
            start_line: exact_lines
                .then(|| series.buckets[first].first_bad_line.get())
                .flatten(),
            end_line: exact_lines
                .then(|| series.buckets[last].last_bad_line.get())
                .flatten(),
        };
        if exact_lines {
            let incident_rate = pooled_bad_rate(&counts[first..=last]);
            let reference = reference_rate(baseline_rate, incident_rate);
            refine_edges(series, first, last, reference, &mut edges);
        }
        incidents.push(Incident {
            cause: Cause::BadRequests,
            start: edges.start,
            end: edges.end,
            start_line: edges.start_line,
            end_line: edges.end_line,
            first_bucket: first,
            last_bucket: last,
            severity: severity(&counts[first..=last], baseline_rate),
        });
    }
    // Widened edges can make neighbours touch: fold overlapping incidents.
    let mut folded: Vec<Incident> = Vec::with_capacity(incidents.len());
    for incident in incidents {
        match folded.last_mut() {
            Some(previous) if incident.first_bucket <= previous.last_bucket + 1 => {
                previous.end = incident.end;
                previous.end_line = incident.end_line;
                previous.last_bucket = incident.last_bucket;
                previous.severity = severity(
                    &counts[previous.first_bucket..=previous.last_bucket],
                    baseline_rate,
                );
            }
            _ => folded.push(incident),
        }
    }
    folded
}

/// The start and end of an incident with the lines that show them.
struct Edges {
    start: Millis,
    end: Millis,
    start_line: Option<LineRef>,
    end_line: Option<LineRef>,
}

fn pooled_bad_rate(counts: &[BucketCounts]) -> f64 {
    let requests: u64 = counts.iter().map(|c| c.requests).sum();
    let bad: u64 = counts.iter().map(|c| c.bad()).sum();
    if requests == 0 {
        0.0
    } else {
        bad as f64 / requests as f64
    }
}

/// Moves the start to the CUSUM onset over the slots of the bucket before
/// the first and the first, and the end likewise over the last and the
/// bucket after it (see [`super::refine`]). A bucket's first (last) bad
/// request is kept, with its line, when it lies in the onset (end) slot;
/// otherwise the edge is the slot's boundary, within a slot of the truth.
fn refine_edges(series: &SeriesSet, first: usize, last: usize, reference: f64, edges: &mut Edges) {
    let slot_ms = series.slot_ms();
    let slots_of = |range: std::ops::RangeInclusive<usize>| -> Vec<(usize, usize, SlotCounts)> {
        range
            .flat_map(|bucket| {
                series.buckets[bucket]
                    .slots
                    .iter()
                    .enumerate()
                    .map(move |(slot, counts)| {
                        let counts = SlotCounts {
                            requests: u64::from(counts.requests),
                            bad: u64::from(counts.bad),
                        };
                        (bucket, slot, counts)
                    })
            })
            .collect()
    };
    let slot_of = |rel: u32| (i64::from(rel) / slot_ms) as usize;

    let before = slots_of(first.saturating_sub(1)..=first);
    let counts: Vec<SlotCounts> = before.iter().map(|(_, _, c)| *c).collect();
    if let Some(&(bucket, slot, _)) = onset_slot(&counts, reference).map(|i| &before[i]) {
        let data = &series.buckets[bucket];
        match Bucket::rel(data.first_bad) {
            Some(rel) if slot_of(rel) == slot => {
                edges.start = series.absolute(bucket, rel);
                edges.start_line = data.first_bad_line.get();
            }
            _ => {
                edges.start = series.bucket_start(bucket) + slot as i64 * slot_ms;
                edges.start_line = None;
            }
        }
    }

    let after = slots_of(last..=(last + 1).min(series.buckets.len() - 1));
    let counts: Vec<SlotCounts> = after.iter().map(|(_, _, c)| *c).collect();
    if let Some(&(bucket, slot, _)) = end_slot(&counts, reference).map(|i| &after[i]) {
        let data = &series.buckets[bucket];
        if Bucket::rel(data.first_bad).is_some() && slot_of(data.last_bad) == slot {
            edges.end = series.absolute(bucket, data.last_bad);
            edges.end_line = data.last_bad_line.get();
        } else {
            edges.end = series.bucket_start(bucket) + (slot as i64 + 1) * slot_ms - 1;
            edges.end_line = None;
        }
    }
}

/// Severity from the counts over the incident's buckets.
pub fn severity(counts: &[BucketCounts], baseline_rate: f64) -> Severity {
    let requests: u64 = counts.iter().map(|c| c.requests).sum();
    let failed: u64 = counts.iter().map(|c| c.failed).sum();
    if requests == 0 {
        return Severity::Outage;
    }
    let failed_share = failed as f64 / requests as f64;
    if failed_share >= OUTAGE_FAILED_SHARE {
        Severity::Outage
    } else if failed_share <= baseline_rate + DEGRADATION_MAX_EXTRA_FAILED_SHARE {
        Severity::Degradation
    } else {
        Severity::PartialOutage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_the_failed_share() {
        let table = |failed, slow| {
            vec![
                BucketCounts {
                    requests: 1000,
                    failed,
                    slow
                };
                3
            ]
        };
        let cases = [
            ("every request fails", table(990, 0), Severity::Outage),
            ("a third fails", table(330, 50), Severity::PartialOutage),
            ("slow only", table(2, 300), Severity::Degradation),
        ];
        for (name, counts, expected) in cases {
            assert_eq!(severity(&counts, 0.002), expected, "{name}");
        }
    }
}
