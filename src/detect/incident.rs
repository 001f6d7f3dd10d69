//! From anomalous buckets to incidents: runs of anomalous buckets (in any
//! [`Channel`]) merged while the service has not recovered in between, edges
//! widened to buckets that are still clearly elevated, and start and end
//! refined from the bucket to the first and last bad request, as the
//! contract defines them, in the channels that show the incident.

use crate::series::{Bucket, LineRef, SeriesSet, SlotView};
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

/// Least time anomalous buckets must cover for an incident ("long enough
/// to matter"): two one-minute buckets, and as many buckets of another
/// width as cover the same time (at least one), so the bucket width never
/// decides whether an incident exists (`--bucket 7s` needs eighteen)...
pub const MIN_ANOMALOUS_MS: i64 = 2 * MS_PER_MINUTE;

/// ...unless a shorter run is this bad (half the requests, and at least
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

/// A bad request at most this long before an incident's start is the
/// incident's first victim (the same fault, seen once before it spreads)...
pub const PRECURSOR_MAX_GAP_MS: i64 = MS_PER_MINUTE;

/// ...when no other bad request arrived in this long before it: on a clean
/// baseline a lone failure right before an outage is the outage's, while on
/// a service with background errors it is one of them (ten minutes holds
/// several background errors at any rate the anomaly test would let pass
/// as normal on a busy site).
pub const PRECURSOR_CLEAN_MS: i64 = 10 * MS_PER_MINUTE;

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

/// Turns anomalous buckets (in any channel) into incidents, sorted by start;
/// one client's burst alone is none (`one_client_only`).
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
    let min_anomalous_buckets = (MIN_ANOMALOUS_MS + series.bucket_ms - 1)
        .div_euclid(series.bucket_ms.max(1))
        .max(1) as usize;
    let mut incidents: Vec<Incident> = Vec::new();
    let mut floor = 0usize;
    for (run_index, &(first, last, anomalous_count)) in runs.iter().enumerate() {
        let sharp_is_enough = {
            let (requests, bad) = counts[first..=last]
                .iter()
                .fold((0u64, 0u64), |(r, b), c| (r + c.requests, b + c.bad()));
            bad >= SINGLE_BUCKET_MIN_BAD && bad as f64 >= SINGLE_BUCKET_MIN_RATE * requests as f64
        };
        if anomalous_count < min_anomalous_buckets && !sharp_is_enough {
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
        let mut edges = Edges {
            start: series.absolute(first, first_rel),
            end: series.absolute(last, last_rel),
            start_line: line_at(&series.buckets[first], first_rel, true),
            end_line: line_at(&series.buckets[last], last_rel, false),
        };
        let search = Search {
            from: first.saturating_sub(search_buckets).max(floor),
            first,
            last,
            to: (last + search_buckets).min(ceiling),
        };
        let refined: Vec<Edges> = elevated_channels(counts, channels, first, last)
            .into_iter()
            .filter_map(|state| refine_edges(series, counts, state, search, threshold_us))
            .collect();
        if let Some(earliest) = refined.iter().min_by_key(|e| e.start) {
            edges.start = earliest.start;
            edges.start_line = earliest.start_line;
        }
        if let Some(latest) = refined.iter().max_by_key(|e| e.end) {
            edges.end = latest.end;
            edges.end_line = latest.end_line;
        }
        let previous_end = incidents.last().map_or(Millis::MIN, |i: &Incident| i.end);
        if let Some((at, line)) = precursor(series, edges.start, previous_end, threshold_us) {
            edges.start = at;
            edges.start_line = line;
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
    folded.retain(|incident| !one_client_only(series, incident, threshold_us));
    folded
}

/// The single-client rule: bad requests from one user while others were
/// served well are that client's burst (a scanner whose probes are slow, a
/// script retrying one broken call), never an incident by itself. A
/// service only one user reached stays judged on that user.
fn one_client_only(series: &SeriesSet, incident: &Incident, threshold_us: u64) -> bool {
    let impact = super::impact::measure(series, incident.start, incident.end, threshold_us);
    impact.users_affected <= 1 && impact.users_active > impact.users_affected
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

/// The first and last arrival of a channel's requests in one slot judged at
/// `threshold_us` (relative ms in the bucket), `None` when it has none.
fn channel_span(view: &SlotView, channel: Channel) -> Option<(u32, u32)> {
    match channel {
        Channel::Bad => view.bad_span(),
        Channel::Failed => view.failed_span,
        Channel::Slow => view.slow_span,
    }
}

/// A channel's count in one slot judged at the incident's threshold.
fn channel_slot_count(view: &SlotView, channel: Channel) -> u64 {
    match channel {
        Channel::Bad => view.failed + view.slow,
        Channel::Failed => view.failed,
        Channel::Slow => view.slow,
    }
}

/// The line of a bad request at `rel` in `bucket`, when the bucket recorded
/// it (the bucket keeps the lines of its first and last bad request).
fn line_at(bucket: &Bucket, rel: u32, at_start: bool) -> Option<LineRef> {
    if at_start {
        (Bucket::rel(bucket.first_bad) == Some(rel))
            .then(|| bucket.first_bad_line.get())
            .flatten()
    } else {
        (Bucket::rel(bucket.first_bad).is_some() && bucket.last_bad == rel)
            .then(|| bucket.last_bad_line.get())
            .flatten()
    }
}

/// The onset and end of one channel's excess, found with the CUSUM of
/// [`super::refine`] over the slots of the search range, with the reference
/// a quarter of the way from the channel's baseline to its rate over the
/// incident. Both are the arrival of an actual request of the channel: the
/// first (last) one in the chosen slot, whatever the bucket width and the
/// slow threshold.
fn refine_edges(
    series: &SeriesSet,
    counts: &[BucketCounts],
    state: &ChannelState,
    search: Search,
    threshold_us: u64,
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
    let slots_of = |range: std::ops::RangeInclusive<usize>| -> Vec<(usize, SlotView)> {
        range
            .flat_map(|bucket| {
                let of = &series.buckets[bucket];
                (0..series.slots_per_bucket()).map(move |slot| {
                    (
                        bucket,
                        of.slot(slot).view(threshold_us, series.ingest_slow_us),
                    )
                })
            })
            .collect()
    };
    let cusum_counts = |slots: &[(usize, SlotView)]| -> Vec<SlotCounts> {
        slots
            .iter()
            .map(|(_, view)| SlotCounts {
                requests: view.requests,
                bad: channel_slot_count(view, channel),
            })
            .collect()
    };

    let before = slots_of(search.from..=search.first);
    let &(bucket, view) = before.get(onset_slot(&cusum_counts(&before), onset_reference)?)?;
    let (first_rel, _) = channel_span(&view, channel)?;
    let start = series.absolute(bucket, first_rel);
    let start_line = line_at(&series.buckets[bucket], first_rel, true);

    let after = slots_of(search.last..=search.to);
    let &(bucket, view) = after.get(end_slot(&cusum_counts(&after), end_reference)?)?;
    let (_, last_rel) = channel_span(&view, channel)?;
    let end = series.absolute(bucket, last_rel);
    let end_line = line_at(&series.buckets[bucket], last_rel, false);
    Some(Edges {
        start,
        end,
        start_line,
        end_line,
    })
}

/// The arrival of the last bad request (at `threshold_us`) before `at` and
/// after `after`, with its line when the bucket recorded it. In a slot with
/// bad requests on both sides of `at`, the slot's first one is given: the
/// series keeps a slot's first and last, not those in between.
fn last_bad_before(
    series: &SeriesSet,
    at: Millis,
    after: Millis,
    threshold_us: u64,
) -> Option<(Millis, Option<LineRef>)> {
    if series.buckets.is_empty() || at <= series.start {
        return None;
    }
    let lowest = series.index_of(after.max(series.start));
    for index in (lowest..=series.index_of(at)).rev() {
        let bucket = &series.buckets[index];
        if bucket.slots.is_empty() {
            continue;
        }
        for slot in (0..series.slots_per_bucket()).rev() {
            let view = bucket.slot(slot).view(threshold_us, series.ingest_slow_us);
            let Some((first, last)) = view.bad_span() else {
                continue;
            };
            for (rel, at_start) in [(last, false), (first, true)] {
                let time = series.absolute(index, rel);
                if time <= after {
                    return None;
                }
                if time < at {
                    let line = line_at(bucket, rel, at_start).or(line_at(bucket, rel, !at_start));
                    return Some((time, line));
                }
            }
        }
    }
    None
}

/// The precursor rule: the last bad request before `start` (and after the
/// previous incident's end) starts the incident when it came at most
/// [`PRECURSOR_MAX_GAP_MS`] before it and the [`PRECURSOR_CLEAN_MS`] before
/// it were free of bad requests.
fn precursor(
    series: &SeriesSet,
    start: Millis,
    previous_end: Millis,
    threshold_us: u64,
) -> Option<(Millis, Option<LineRef>)> {
    let (at, line) = last_bad_before(series, start, previous_end, threshold_us)?;
    if start - at > PRECURSOR_MAX_GAP_MS {
        return None;
    }
    let clean_from = (at - PRECURSOR_CLEAN_MS).max(previous_end);
    match last_bad_before(series, at, clean_from, threshold_us) {
        None => Some((at, line)),
        Some(_) => None,
    }
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
