//! From anomalous buckets to incidents: runs of anomalous buckets (in any
//! [`Channel`]) merged while the service has not recovered in between, edges
//! widened to buckets that are still clearly elevated, and start and end
//! refined from the bucket to the first and last bad request, as the
//! contract defines them, in the channels that show the incident.

use crate::series::{Bucket, LineRef, SLOTS_PER_BUCKET, SeriesSet};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::anomaly::{Channel, ChannelState};
use super::baseline::BucketCounts;
use super::refine::{SlotCounts, end_slot, onset_slot, reference_rate};
use super::stats::{binomial_lower_tail, binomial_upper_tail};

/// Anomalous runs separated by less than this are one incident: a service
/// that recovers for a few minutes between crashes has not recovered.
pub const MERGE_GAP_MS: i64 = 10 * MS_PER_MINUTE;

/// Longer gaps join two runs unless the service has clearly recovered: the
/// gap's bad requests must be this improbable at the incident's own rate
/// (and not elevated over the baseline). At night a slow degradation's bad
/// requests are too sparse to flag buckets, but not sparse enough to prove
/// it is over.
pub const RECOVERY_ALPHA: f64 = 1e-3;

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

/// A channel shows the incident when its count over the incident lies this
/// many standard deviations above its baseline (binomial z-score).
pub const ELEVATED_Z: f64 = 4.0;

/// The onset is the start of a change to this fraction of the incident's
/// excess rate: the first bad requests of an incident that builds up come
/// sparser than its average.
pub const ONSET_RATE_FRACTION: f64 = 0.25;

/// How far before the first anomalous bucket (and after the last) the
/// onset (end) is looked for: the first bad requests of an incident that
/// grows slowly come before any bucket is anomalous on its own.
pub const EDGE_SEARCH_MS: i64 = 30 * MS_PER_MINUTE;

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

/// An incident is a degradation (latency only) when its failures are not
/// this improbable under the baseline failure rate: failures did not rise.
pub const DEGRADATION_ALPHA: f64 = 1e-3;

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
    /// A metric departed from its baseline while no access log covers the
    /// time (see [`crate::detect::evidence`]).
    MetricDeparture,
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

/// First and last bad request of a bucket at `threshold_us`, relative ms
/// (the line is known for failures and ingest-level slowness).
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

/// Sums of requests, a channel's count and its expected count over buckets.
fn channel_sums(
    counts: &[BucketCounts],
    state: &ChannelState,
    range: std::ops::Range<usize>,
) -> (u64, u64, f64) {
    let mut sums = (0u64, 0u64, 0.0f64);
    for index in range {
        let c = &counts[index];
        sums.0 += c.requests;
        sums.1 += state.channel.count(c);
        sums.2 += c.requests as f64 * state.expected[index];
    }
    sums
}

/// Whether the service recovered over `gap` after the run `run`: in every
/// channel the gap is not elevated over the baseline, and in every channel
/// elevated over the run the gap's count is clearly below the run's rate.
fn recovered(
    counts: &[BucketCounts],
    channels: &[ChannelState],
    run: std::ops::Range<usize>,
    gap: std::ops::Range<usize>,
) -> bool {
    channels.iter().all(|state| {
        let (gap_requests, gap_count, gap_expected) = channel_sums(counts, state, gap.clone());
        if gap_requests == 0 {
            return true;
        }
        let gap_baseline = gap_expected / gap_requests as f64;
        if binomial_upper_tail(gap_count, gap_requests, gap_baseline) < RECOVERY_ALPHA {
            return false;
        }
        let (run_requests, run_count, _) = channel_sums(counts, state, run.clone());
        let run_rate = if run_requests == 0 {
            0.0
        } else {
            run_count as f64 / run_requests as f64
        };
        run_rate <= gap_baseline
            || binomial_lower_tail(gap_count, gap_requests, run_rate) < RECOVERY_ALPHA
    })
}

/// The channels that show the incident over `first..=last`: failures and
/// slowness apart when elevated, else the combined bad requests.
fn elevated_channels<'a>(
    counts: &[BucketCounts],
    channels: &'a [ChannelState],
    first: usize,
    last: usize,
) -> Vec<&'a ChannelState> {
    let elevated: Vec<&ChannelState> = channels
        .iter()
        .filter(|state| state.channel != Channel::Bad)
        .filter(|state| {
            let (requests, count, expected) = channel_sums(counts, state, first..last + 1);
            if requests == 0 || expected <= 0.0 {
                return false;
            }
            let p = (expected / requests as f64).clamp(1e-9, 1.0 - 1e-9);
            let z = (count as f64 - expected) / (requests as f64 * p * (1.0 - p)).sqrt();
            z >= ELEVATED_Z
        })
        .collect();
    if elevated.is_empty() {
        channels
            .iter()
            .filter(|s| s.channel == Channel::Bad)
            .collect()
    } else {
        elevated
    }
}

/// Turns anomalous buckets (in any channel) into incidents, sorted by start.
pub fn find_incidents(
    series: &SeriesSet,
    counts: &[BucketCounts],
    channels: &[ChannelState],
    threshold_us: u64,
) -> Vec<Incident> {
    let Some(bad) = channels.iter().find(|s| s.channel == Channel::Bad) else {
        return Vec::new();
    };
    let failed_baseline = channels
        .iter()
        .find(|s| s.channel == Channel::Failed)
        .map_or(bad.baseline, |s| s.baseline);
    let anomalous: Vec<bool> = (0..counts.len())
        .map(|i| channels.iter().any(|s| s.anomalous[i]))
        .collect();
    let merge_gap_buckets = (MERGE_GAP_MS / series.bucket_ms).max(1) as usize;
    let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // first, last, anomalous count
    for (index, _) in anomalous.iter().enumerate().filter(|(_, a)| **a) {
        match runs.last_mut() {
            Some((first, last, count))
                if index - *last <= merge_gap_buckets
                    || !recovered(counts, channels, *first..*last + 1, *last + 1..index) =>
            {
                *last = index;
                *count += 1;
            }
            _ => runs.push((index, index, 1)),
        }
    }
    let edge_joins = |index: usize| {
        let c = &counts[index];
        c.bad() >= EDGE_MIN_BAD
            && binomial_upper_tail(c.bad(), c.requests, bad.expected[index]) < EDGE_ALPHA
    };
    let search_buckets = (EDGE_SEARCH_MS / series.bucket_ms).max(1) as usize;
    let mut incidents: Vec<Incident> = Vec::new();
    let mut floor = 0usize;
    for (run_index, &(first, last, anomalous_count)) in runs.iter().enumerate() {
        let single_is_enough = anomalous_count == 1 && {
            let c = &counts[first];
            c.bad_rate() >= SINGLE_BUCKET_MIN_RATE && c.bad() >= SINGLE_BUCKET_MIN_BAD
        };
        if anomalous_count < MIN_ANOMALOUS_BUCKETS && !single_is_enough {
            continue;
        }
        let ceiling = runs
            .get(run_index + 1)
            .map_or(counts.len() - 1, |next| next.0.saturating_sub(1));
        let mut first = first;
        let mut last = last;
        for _ in 0..EDGE_MAX_BUCKETS {
            if first > floor && edge_joins(first - 1) {
                first -= 1;
            } else {
                break;
            }
        }
        for _ in 0..EDGE_MAX_BUCKETS {
            if last < ceiling && edge_joins(last + 1) {
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
            let search = Search {
                from: first.saturating_sub(search_buckets).max(floor),
                first,
                last,
                to: (last + search_buckets).min(ceiling),
            };
            let refined: Vec<Edges> = elevated_channels(counts, channels, first, last)
                .into_iter()
                .filter_map(|state| refine_edges(series, counts, state, search))
                .collect();
            if let Some(earliest) = refined.iter().min_by_key(|e| e.start) {
                edges.start = earliest.start;
                edges.start_line = earliest.start_line;
            }
            if let Some(latest) = refined.iter().max_by_key(|e| e.end) {
                edges.end = latest.end;
                edges.end_line = latest.end_line;
            }
        }
        floor = last + 1;
        incidents.push(Incident {
            cause: Cause::BadRequests,
            start: edges.start,
            end: edges.end,
            start_line: edges.start_line,
            end_line: edges.end_line,
            first_bucket: first.min(series.index_of(edges.start)),
            last_bucket: last.max(series.index_of(edges.end)),
            severity: severity(&counts[first..=last], failed_baseline),
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
                    failed_baseline,
                );
            }
            _ => folded.push(incident),
        }
    }
    folded
}

/// The start and end of an incident with the lines that show them.
#[derive(Clone, Copy, Debug)]
struct Edges {
    start: Millis,
    end: Millis,
    start_line: Option<LineRef>,
    end_line: Option<LineRef>,
}

/// Buckets searched for the onset (`from..=first`) and the end (`last..=to`).
#[derive(Clone, Copy, Debug)]
struct Search {
    from: usize,
    first: usize,
    last: usize,
    to: usize,
}

/// First (or last) relative time and line of a channel's requests in a
/// bucket, where the bucket's records tell it: failures have their own
/// first and last time; a slow request is known when it is the bucket's
/// first (last) bad request and not a failure.
fn channel_edge(
    bucket: &Bucket,
    channel: Channel,
    at_start: bool,
) -> Option<(u32, Option<LineRef>)> {
    let (bad, bad_line, failed) = if at_start {
        (
            Bucket::rel(bucket.first_bad),
            bucket.first_bad_line.get(),
            Bucket::rel(bucket.first_failed),
        )
    } else {
        let any = Bucket::rel(bucket.first_bad).map(|_| bucket.last_bad);
        let failed = Bucket::rel(bucket.first_failed).map(|_| bucket.last_failed);
        (any, bucket.last_bad_line.get(), failed)
    };
    match channel {
        Channel::Bad => bad.map(|rel| (rel, bad_line)),
        Channel::Failed => {
            failed.map(|rel| (rel, (Some(rel) == bad).then_some(bad_line).flatten()))
        }
        Channel::Slow => bad
            .filter(|&rel| Some(rel) != failed)
            .map(|rel| (rel, bad_line)),
    }
}

/// The onset and end of one channel's excess, found with the CUSUM of
/// [`super::refine`] over the slots of the search range, with the reference
/// a quarter of the way from the channel's baseline to its rate over the
/// incident. Exact (with its line) when the bucket's record of that channel
/// lies in the chosen slot; the slot's boundary otherwise.
fn refine_edges(
    series: &SeriesSet,
    counts: &[BucketCounts],
    state: &ChannelState,
    search: Search,
) -> Option<Edges> {
    let channel = state.channel;
    let (requests, count, _) = channel_sums(counts, state, search.first..search.last + 1);
    let rate = if requests == 0 {
        0.0
    } else {
        count as f64 / requests as f64
    };
    // Incidents build up (load shifts, leaks grow) and stop at once (a fix,
    // a rollback): the onset is looked for as the start of a change to a
    // fraction of the incident's rate, the end as the end of the full rate.
    let onset_rate = state.baseline + (rate - state.baseline).max(0.0) * ONSET_RATE_FRACTION;
    let onset_reference = reference_rate(state.baseline, onset_rate);
    let end_reference = reference_rate(state.baseline, rate);
    let slot_ms = series.slot_ms();
    let slot_count = |slot: &crate::series::Slot| -> u64 {
        match channel {
            Channel::Bad => u64::from(slot.bad),
            Channel::Failed => u64::from(slot.failed),
            Channel::Slow => u64::from(slot.bad.saturating_sub(slot.failed)),
        }
    };
    let slots_of = |range: std::ops::RangeInclusive<usize>| -> Vec<(usize, usize, SlotCounts)> {
        range
            .flat_map(|bucket| {
                let counts_of = &series.buckets[bucket];
                (0..SLOTS_PER_BUCKET).map(move |slot| {
                    let counts = counts_of.slot(slot);
                    let counts = SlotCounts {
                        requests: u64::from(counts.requests),
                        bad: slot_count(&counts),
                    };
                    (bucket, slot, counts)
                })
            })
            .collect()
    };
    let slot_of = |rel: u32| (i64::from(rel) / slot_ms) as usize;

    let before = slots_of(search.from..=search.first);
    let before_counts: Vec<SlotCounts> = before.iter().map(|(_, _, c)| *c).collect();
    let &(bucket, slot, _) = before.get(onset_slot(&before_counts, onset_reference)?)?;
    let (start, start_line) = match channel_edge(&series.buckets[bucket], channel, true) {
        Some((rel, line)) if slot_of(rel) == slot => (series.absolute(bucket, rel), line),
        _ => (series.bucket_start(bucket) + slot as i64 * slot_ms, None),
    };

    let after = slots_of(search.last..=search.to);
    let after_counts: Vec<SlotCounts> = after.iter().map(|(_, _, c)| *c).collect();
    let &(bucket, slot, _) = after.get(end_slot(&after_counts, end_reference)?)?;
    let (end, end_line) = match channel_edge(&series.buckets[bucket], channel, false) {
        Some((rel, line)) if slot_of(rel) == slot => (series.absolute(bucket, rel), line),
        _ => (
            series.bucket_start(bucket) + (slot as i64 + 1) * slot_ms - 1,
            None,
        ),
    };
    Some(Edges {
        start,
        end,
        start_line,
        end_line,
    })
}

/// Severity from the counts over the incident, against the baseline
/// failure rate.
pub fn severity(counts: &[BucketCounts], baseline_failed_rate: f64) -> Severity {
    let requests: u64 = counts.iter().map(|c| c.requests).sum();
    let failed: u64 = counts.iter().map(|c| c.failed).sum();
    if requests == 0 {
        return Severity::Outage;
    }
    let failed_share = failed as f64 / requests as f64;
    if failed_share >= OUTAGE_FAILED_SHARE {
        Severity::Outage
    } else if binomial_upper_tail(failed, requests, baseline_failed_rate) >= DEGRADATION_ALPHA {
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
        let table = |failed, slow| vec![BucketCounts::of(1000, failed, slow); 3];
        let cases = [
            ("every request fails", table(990, 0), Severity::Outage),
            ("a third fails", table(330, 50), Severity::PartialOutage),
            ("slow only", table(2, 300), Severity::Degradation),
            (
                "slow with a few more failures",
                table(20, 300),
                Severity::PartialOutage,
            ),
        ];
        for (name, counts, expected) in cases {
            assert_eq!(severity(&counts, 0.002), expected, "{name}");
        }
    }
}
