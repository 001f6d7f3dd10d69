//! Exact request counts at an incident's edges, from a second read.
//!
//! The series counts requests per slot, so [`super::impact::measure`] over
//! `[start, end]` takes in the whole second (slot) of the start and of the
//! end: the healthy requests of the start's second that came before the
//! first bad request, and of the end's second after the last one. The
//! start row's window ("1 of 13 requests in the 1 min from it") has the
//! same two edges. [`edge_windows`] names those few milliseconds outside
//! each range; the run reads the lines that may hold them again
//! ([`crate::ingest::recount`]) and [`apply`] takes what they held out of
//! the counts, and judges the severity again on the exact counts.
//!
//! Traffic drops are left as they are: their edges are single requests,
//! counted per user at the instant ([`super::impact::measure_drop`]).

use super::baseline::BucketCounts;
use super::findings::{Finding, Findings, Hint, TimelineFact};
use super::impact::Impact;
use super::incident::{self, Cause};
use crate::ingest::recount::{EdgeRequest, WindowCount, WindowUsers};
use crate::series::{SeriesSet, slot_span_at};
use crate::timefmt::Millis;

/// Which count a window's requests are taken out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgePart {
    /// Of the impact and of the start row: the start's slot before it.
    BeforeStart,
    /// Of the impact: the end's slot after it.
    AfterEnd,
    /// Of the start row: its window's last slot after the window.
    AfterStartRow,
    /// Added to a traffic drop's impact: the requests at its start or end
    /// instant, which [`super::impact::measure_drop`] counts from the
    /// users' spans, and a sketched series does not keep.
    DropEdge,
}

/// Milliseconds counted by the series but outside an incident's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeWindow {
    /// Index in [`Findings::incidents`].
    pub incident: usize,
    pub part: EdgePart,
    pub from: Millis,
    pub to: Millis,
}

/// The windows whose requests the series counted in an incident's impact
/// or start row although they lie outside its range: none when a range
/// starts and ends on slot boundaries.
pub fn edge_windows(findings: &Findings) -> Vec<EdgeWindow> {
    let series = &findings.series;
    let sketched = series.users_sketched();
    let mut windows = Vec::new();
    for (index, finding) in findings.incidents.iter().enumerate() {
        if !finding.impact_measured {
            continue;
        }
        let (start, end) = (finding.incident.start, finding.incident.end);
        if matches!(finding.incident.cause, Cause::TrafficDrop { .. }) && sketched {
            for instant in [start, end] {
                windows.push(EdgeWindow {
                    incident: index,
                    part: EdgePart::DropEdge,
                    from: instant,
                    to: instant,
                });
            }
            continue;
        }
        if finding.incident.cause != Cause::BadRequests {
            continue;
        }
        let mut push = |part, from: Millis, to: Millis| {
            if from <= to {
                windows.push(EdgeWindow {
                    incident: index,
                    part,
                    from,
                    to,
                });
            }
        };
        if inside(series, start) {
            push(EdgePart::BeforeStart, series.slot_span(start).0, start - 1);
        }
        if inside(series, end) {
            push(EdgePart::AfterEnd, end + 1, series.slot_span(end).1);
        }
        if let Some(row_end) = start_row_end(finding) {
            // The row's window may run past the series: nothing after it.
            if inside(series, row_end) {
                push(
                    EdgePart::AfterStartRow,
                    row_end + 1,
                    series.slot_span(row_end).1,
                );
            }
        }
    }
    windows
}

/// An incident inside one bucket, whose users are counted again: the
/// series keeps each user's first and last request in a bucket, so a user
/// seen before the start and after the end of such an incident, and not
/// in it, would count as active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserWindow {
    pub incident: usize,
    pub from: Millis,
    pub to: Millis,
}

/// The incidents whose users the series cannot tell exactly (see
/// [`UserWindow`]): every one whose users are estimates from sketches.
pub fn user_windows(findings: &Findings) -> Vec<UserWindow> {
    let series = &findings.series;
    findings
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, finding)| {
            finding.impact_measured
                && (finding.impact.users_estimated
                    || (finding.incident.cause == Cause::BadRequests
                        && inside(series, finding.incident.start)
                        && series.index_of(finding.incident.start)
                            == series.index_of(finding.incident.end)))
        })
        .map(|(incident, finding)| UserWindow {
            incident,
            from: finding.incident.start,
            to: finding.incident.end,
        })
        .collect()
}

/// Sets the users of the incidents of `windows` to those the second read
/// found in them.
pub fn apply_users(findings: &mut Findings, windows: &[UserWindow], users: &[WindowUsers]) {
    for (window, seen) in windows.iter().zip(users) {
        let Some(finding) = findings.incidents.get_mut(window.incident) else {
            continue;
        };
        // A drop's missing users are the users the baseline expects less
        // those who got through: the expectation stays, the active change.
        let expected = finding.impact.users_missing + finding.impact.users_active;
        finding
            .impact
            .set_users(seen.active.len() as u64, seen.affected.len() as u64);
        finding.impact.users_estimated = false;
        if matches!(finding.incident.cause, Cause::TrafficDrop { .. }) {
            finding.impact.users_missing = expected.saturating_sub(finding.impact.users_active);
        }
        let impact = finding.impact;
        for entry in &mut finding.timeline {
            match &mut entry.fact {
                TimelineFact::BadRequestsEnd {
                    users_affected,
                    users_active,
                    users_estimated,
                } => {
                    (*users_affected, *users_active, *users_estimated) =
                        (impact.users_affected, impact.users_active, false);
                }
                TimelineFact::TrafficDropEnd { users_missing } => {
                    *users_missing = impact.users_missing
                }
                _ => {}
            }
        }
    }
}

/// Marks the incidents whose counts a second read would change as not
/// exact (a report from partials: the logs are elsewhere).
pub fn mark_unread(findings: &mut Findings) {
    let incidents: Vec<usize> = edge_windows(findings)
        .iter()
        .map(|window| window.incident)
        .chain(user_windows(findings).iter().map(|window| window.incident))
        .collect();
    for index in incidents {
        if let Some(finding) = findings.incidents.get_mut(index) {
            finding.requests_exact = false;
        }
    }
}

/// Whether `at` lies in a bucket of `series` (slot spans are computed only
/// there).
fn inside(series: &SeriesSet, at: Millis) -> bool {
    let end = series.bucket_start(series.buckets.len());
    (series.start..end).contains(&at)
}

/// The last millisecond of the start row's window, if the incident has
/// that row.
fn start_row_end(finding: &Finding) -> Option<Millis> {
    finding.timeline.iter().find_map(|entry| match entry.fact {
        TimelineFact::BadRequestsStart { window_ms, .. } => {
            Some(finding.incident.start + window_ms - 1)
        }
        _ => None,
    })
}

/// Takes the requests counted in `windows` (`counted`, aligned with them)
/// out of the incidents' impacts and start rows, and judges their severity
/// again. When the lines could not all be read again, [`mark_unread`]
/// says so instead.
pub fn apply(findings: &mut Findings, windows: &[EdgeWindow], counted: &[WindowCount]) {
    let baseline_failed_rate = findings.baseline.failed_rate;
    for (window, count) in windows.iter().zip(counted) {
        let Some(finding) = findings.incidents.get_mut(window.incident) else {
            continue;
        };
        if matches!(window.part, EdgePart::BeforeStart | EdgePart::AfterEnd) {
            take_out(&mut finding.impact, count);
        }
        if window.part == EdgePart::DropEdge {
            finding.impact.requests_total += count.requests;
            finding.impact.requests_failed += count.failed;
            finding.impact.requests_slow += count.slow;
        }
        if matches!(window.part, EdgePart::BeforeStart | EdgePart::AfterStartRow) {
            take_out_of_start_row(finding, count);
        }
    }
    for finding in findings
        .incidents
        .iter_mut()
        .filter(|finding| finding.incident.cause == Cause::BadRequests && finding.impact_measured)
    {
        judge_again(finding, baseline_failed_rate);
    }
}

/// The severity (and its lead) of an incident whose counts changed.
fn judge_again(finding: &mut Finding, baseline_failed_rate: f64) {
    let inside = BucketCounts {
        requests: finding.impact.requests_total,
        failed: finding.impact.requests_failed,
        slow: finding.impact.requests_slow,
    };
    finding.incident.severity = incident::severity(&[inside], baseline_failed_rate);
    let said = super::hints::severity_hint(&finding.incident, &finding.impact);
    for hint in &mut finding.hints {
        if let (Hint::Severity { .. }, Some(said)) = (&hint, &said) {
            *hint = said.clone();
        }
    }
}

/// Where the start row of an incident over `window` may end, as
/// [`super::timeline`]'s start window grows (one bucket, doubled until it
/// holds enough requests or reaches the bucket after the incident's last):
/// for each such end, the rest of its slot after it, the milliseconds a
/// series built from partials counts in the row although they lie past
/// it. `postmortem impact` keeps the requests of these windows one by one
/// ([`EdgeRequest`]), so [`set_window_impact`] counts the row exactly.
pub fn start_row_far_edges(window: (Millis, Millis), bucket_ms: i64) -> Vec<(Millis, Millis)> {
    let (start, end) = window;
    let bucket_ms = bucket_ms.max(1);
    let last_end = (end.div_euclid(bucket_ms) + 1) * bucket_ms;
    let mut edges = Vec::new();
    let mut window_ms = bucket_ms;
    loop {
        let row_end = start + window_ms - 1;
        let slot_end = slot_span_at(row_end, bucket_ms).1;
        if row_end < slot_end {
            edges.push((row_end + 1, slot_end));
        }
        if start + window_ms >= last_end {
            return edges;
        }
        window_ms *= 2;
    }
}

/// The exact impact of the incident whose range is `window`, from
/// `window_series`: the requests of that range alone (the partials of
/// `postmortem impact`), so every slot counts whole. The start row loses
/// the requests of the start's second before it (the main series' slot
/// less the window's) and those of its last slot after its end, which
/// `edge_requests` holds one by one ([`start_row_far_edges`]; partials
/// written before they were kept leave that edge whole).
/// Returns whether an incident had that range.
pub fn set_window_impact(
    findings: &mut Findings,
    window: (Millis, Millis),
    window_series: &SeriesSet,
    edge_requests: &[EdgeRequest],
    ingest_slow_us: u64,
) -> bool {
    let threshold_us = findings.slow_threshold_us;
    let baseline_failed_rate = findings.baseline.failed_rate;
    if set_drop_window_impact(findings, window, window_series, threshold_us) {
        return true;
    }
    let main_series = &findings.series;
    // Bad-request incidents here: a traffic drop's edges are single
    // requests counted at the instant (`measure_drop`, above), and its
    // severity is judged on the drop, not on bad requests.
    let Some(finding) = findings.incidents.iter_mut().find(|finding| {
        finding.impact_measured
            && finding.incident.cause == Cause::BadRequests
            && (finding.incident.start, finding.incident.end) == window
    }) else {
        return false;
    };
    let exact = super::impact::measure(window_series, window.0, window.1, threshold_us);
    let before_start = if inside(main_series, window.0) && inside(window_series, window.0) {
        let (slot_from, slot_to) = main_series.slot_span(window.0);
        let whole = super::impact::measure(main_series, slot_from, slot_to, threshold_us);
        let kept = super::impact::measure(window_series, window.0, slot_to, threshold_us);
        WindowCount {
            requests: whole.requests_total.saturating_sub(kept.requests_total),
            failed: whole.requests_failed.saturating_sub(kept.requests_failed),
            slow: whole.requests_slow.saturating_sub(kept.requests_slow),
        }
    } else {
        WindowCount::default()
    };
    let mut out_of_row = before_start;
    if let Some(row_end) = start_row_end(finding)
        && inside(main_series, row_end)
    {
        let (from, to) = (row_end + 1, main_series.slot_span(row_end).1);
        for request in edge_requests
            .iter()
            .filter(|r| (from..=to).contains(&r.arrival))
        {
            out_of_row.add(&WindowCount {
                requests: 1,
                failed: u64::from(request.failed),
                slow: u64::from(request.is_slow(ingest_slow_us, threshold_us)),
            });
        }
    }
    finding.impact = Impact {
        users_missing: finding.impact.users_missing,
        ..exact
    };
    finding.requests_exact = true;
    // The end row states the users too: from sketched partials they were
    // estimates over whole buckets, the window's are exact.
    let impact = finding.impact;
    for entry in &mut finding.timeline {
        if let TimelineFact::BadRequestsEnd {
            users_affected,
            users_active,
            users_estimated,
        } = &mut entry.fact
        {
            (*users_affected, *users_active, *users_estimated) = (
                impact.users_affected,
                impact.users_active,
                impact.users_estimated,
            );
        }
    }
    take_out_of_start_row(finding, &out_of_row);
    judge_again(finding, baseline_failed_rate);
    true
}

/// A traffic drop over `window`, from the requests of its window alone
/// (exact users, where sketched partials estimate them over the edge
/// buckets whole): its users and its edge instants' requests as
/// `measure_drop` counts them, the users missing as [`apply_users`]
/// keeps them (the baseline's expectation less those who got through).
/// Returns whether a drop had that range.
fn set_drop_window_impact(
    findings: &mut Findings,
    window: (Millis, Millis),
    window_series: &SeriesSet,
    threshold_us: u64,
) -> bool {
    let Some(finding) = findings.incidents.iter_mut().find(|finding| {
        finding.impact_measured
            && matches!(finding.incident.cause, Cause::TrafficDrop { .. })
            && (finding.incident.start, finding.incident.end) == window
    }) else {
        return false;
    };
    let expected = finding.impact.users_missing + finding.impact.users_active;
    let exact = super::impact::measure_drop(window_series, window.0, window.1, threshold_us);
    finding.impact = Impact {
        users_missing: expected.saturating_sub(exact.users_active),
        ..exact
    };
    finding.requests_exact = true;
    let users_missing = finding.impact.users_missing;
    for entry in &mut finding.timeline {
        if let TimelineFact::TrafficDropEnd {
            users_missing: said,
        } = &mut entry.fact
        {
            *said = users_missing;
        }
    }
    true
}

/// Takes `count` out of the start row's window ("1 of 13 requests").
fn take_out_of_start_row(finding: &mut Finding, count: &WindowCount) {
    for entry in &mut finding.timeline {
        if let TimelineFact::BadRequestsStart {
            window_bad,
            window_requests,
            ..
        } = &mut entry.fact
        {
            *window_requests = window_requests.saturating_sub(count.requests);
            *window_bad = window_bad.saturating_sub(count.failed + count.slow);
        }
    }
}

fn take_out(impact: &mut Impact, count: &WindowCount) {
    impact.requests_total = impact.requests_total.saturating_sub(count.requests);
    impact.requests_failed = impact.requests_failed.saturating_sub(count.failed);
    impact.requests_slow = impact.requests_slow.saturating_sub(count.slow);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minute boundary (a multiple of 60 s since the epoch).
    const BASE: Millis = 28_333_340 * 60_000;

    /// A case: its name, the incident's `[start, end]`, the bucket width,
    /// the far edges expected.
    type EdgeCase = (&'static str, (Millis, Millis), i64, Vec<(Millis, Millis)>);

    #[test]
    fn start_row_far_edges_are_the_rest_of_each_possible_end_slot() {
        let cases: [EdgeCase; 3] = [
            (
                "mid-second start: one edge per doubling up to the bucket after the last",
                (BASE + 30_250, BASE + 130_000),
                60_000,
                vec![
                    (BASE + 90_250, BASE + 90_999),
                    (BASE + 150_250, BASE + 150_999),
                    (BASE + 270_250, BASE + 270_999),
                ],
            ),
            (
                "a start on a second: every row ends on a slot's last millisecond",
                (BASE + 30_000, BASE + 50_000),
                60_000,
                vec![],
            ),
            (
                "five-minute buckets: one-second slots, one row width",
                (BASE + 1_500, BASE + 200_000),
                300_000,
                vec![(BASE + 301_500, BASE + 301_999)],
            ),
        ];
        for (name, window, bucket_ms, expected) in cases {
            assert_eq!(start_row_far_edges(window, bucket_ms), expected, "{name}");
        }
    }
}
