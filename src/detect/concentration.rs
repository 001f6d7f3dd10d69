//! Where an incident's bad requests concentrate: one upstream of three, one
//! host of several, one URL path. A judgement on the merged series
//! ([`crate::series::dims`], [`crate::series::paths`]), made per incident;
//! a value is named only when it holds most bad requests while carrying a
//! minority of the traffic. Also the value whose share moved against its
//! baseline share, whatever its size ([`share_shift`]), and how one
//! upstream's failed requests ended, when the proxy says
//! ([`termination_concentration`]).

use std::ops::RangeInclusive;

use crate::series::dims::{DimensionCounts, DimensionSeries, OTHER_LABEL};
use crate::series::heavy::ByteKey;
use crate::series::paths::{PathBuilder, PathSummary};
use crate::series::termination::TerminationCause;
use crate::timefmt::Millis;

/// A value must carry less than this share of the requests ...
pub const CONCENTRATION_MAX_TRAFFIC_SHARE: f64 = 0.5;
/// ... and at least this share of the bad ones to be named in a hint.
pub const CONCENTRATION_MIN_BAD_SHARE: f64 = 0.5;
/// Fewest bad requests in the range for a concentration to mean anything.
pub const CONCENTRATION_MIN_BAD: u64 = 10;

/// The value of a dimension that holds most bad requests of `range` while
/// carrying a minority of its traffic, as (label, traffic share, bad share).
pub fn dimension_concentration(
    series: &DimensionSeries,
    range: RangeInclusive<usize>,
) -> Option<(String, f64, f64)> {
    let totals = series.totals(range);
    let named = totals
        .iter()
        .filter(|(label, c)| *label != OTHER_LABEL && c.requests > 0);
    if named.clone().count() < 2 {
        return None;
    }
    let requests: u64 = totals.iter().map(|(_, c)| c.requests).sum();
    let bad: u64 = totals.iter().map(|(_, c)| c.bad()).sum();
    if bad < CONCENTRATION_MIN_BAD || requests == 0 {
        return None;
    }
    let (label, worst) = named.max_by_key(|(label, c)| (c.bad(), std::cmp::Reverse(*label)))?;
    let traffic_share = worst.requests as f64 / requests as f64;
    let bad_share = worst.bad() as f64 / bad as f64;
    (traffic_share < CONCENTRATION_MAX_TRAFFIC_SHARE && bad_share >= CONCENTRATION_MIN_BAD_SHARE)
        .then(|| (label.to_string(), traffic_share, bad_share))
}

/// A share must sit at least this many standard errors from its baseline
/// share (a two-proportion z-test, pooled) to have moved. Five, not the
/// usual two or three: every incident tests every value of every dimension
/// twice, and a lead from noise costs a responder more than a missed one.
pub const SHARE_SHIFT_MIN_Z: f64 = 5.0;

/// ... and move by at least this much (20 percentage points): with tens of
/// thousands of requests a shift of a point is "significant" and means
/// nothing to a responder.
pub const SHARE_SHIFT_MIN_MOVE: f64 = 0.2;

/// Fewest requests in the baseline window for its shares to be a reference.
pub const SHARE_SHIFT_MIN_BASELINE_REQUESTS: u64 = 100;

/// Where the baseline shares of a [`ShareShift`] were measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineWindow {
    /// The buckets before the incident.
    Before,
    /// The buckets after it (the log starts inside the incident).
    After,
}

/// One value of a dimension whose share of the requests, or of the bad
/// requests, moved against its share of the requests in the baseline window.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareShift {
    pub label: String,
    pub window: BaselineWindow,
    /// Its share of the requests in the baseline window (0..=1).
    pub baseline_share: f64,
    /// Its requests, and all requests, over the incident's buckets.
    pub requests: u64,
    pub requests_total: u64,
    /// Its bad requests, and all bad requests, over the incident's buckets.
    pub bad: u64,
    pub bad_total: u64,
    /// Whether its share of the requests moved (either way).
    pub traffic_moved: bool,
    /// Whether its share of the bad requests rose above its baseline share.
    pub bad_moved: bool,
}

impl ShareShift {
    /// Its share of the incident's requests (0..=1).
    pub fn traffic_share(&self) -> f64 {
        self.requests as f64 / self.requests_total.max(1) as f64
    }

    /// Its share of the incident's bad requests (0..=1).
    pub fn bad_share(&self) -> f64 {
        self.bad as f64 / self.bad_total.max(1) as f64
    }
}

/// The two-proportion z statistic of `x1/n1` against `x0/n0` (pooled);
/// 0 when either side is empty or the pooled share is 0 or 1.
pub fn two_proportion_z(x1: u64, n1: u64, x0: u64, n0: u64) -> f64 {
    if n1 == 0 || n0 == 0 {
        return 0.0;
    }
    let (p1, p0) = (x1 as f64 / n1 as f64, x0 as f64 / n0 as f64);
    let pooled = (x1 + x0) as f64 / (n1 + n0) as f64;
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n0 as f64);
    if variance <= 0.0 {
        return 0.0;
    }
    (p1 - p0) / variance.sqrt()
}

/// Whether `x1/n1` moved away from `x0/n0` by both tests
/// ([`SHARE_SHIFT_MIN_Z`], [`SHARE_SHIFT_MIN_MOVE`]); `upward_only` for a
/// share that matters only when it rises.
fn moved(x1: u64, n1: u64, x0: u64, n0: u64, upward_only: bool) -> bool {
    let z = two_proportion_z(x1, n1, x0, n0);
    let change = x1 as f64 / n1.max(1) as f64 - x0 as f64 / n0.max(1) as f64;
    let (z, change) = if upward_only {
        (z, change)
    } else {
        (z.abs(), change.abs())
    };
    z >= SHARE_SHIFT_MIN_Z && change >= SHARE_SHIFT_MIN_MOVE
}

/// The value of a dimension whose share moved most over `incident` against
/// the buckets before it (after it, when fewer than
/// [`SHARE_SHIFT_MIN_BASELINE_REQUESTS`] came before): its share of the
/// requests moved either way, or its share of the bad requests (at least
/// [`CONCENTRATION_MIN_BAD`] of them) rose above its baseline share of the
/// requests, which is what it would take if failures hit every request
/// alike. Of several, the one with the most bad requests, then the largest
/// move.
pub fn share_shift(
    series: &DimensionSeries,
    incident: RangeInclusive<usize>,
) -> Option<ShareShift> {
    let (first, last) = (*incident.start(), *incident.end());
    let buckets = series.buckets.len();
    let window_totals = |range: Option<RangeInclusive<usize>>| {
        let totals = range.map(|r| series.totals(r)).unwrap_or_default();
        let requests: u64 = totals.iter().map(|(_, c)| c.requests).sum();
        (totals, requests)
    };
    let before = window_totals(first.checked_sub(1).map(|end| 0..=end));
    let after = window_totals((last + 1 < buckets).then(|| last + 1..=buckets - 1));
    let ((base, base_requests), window) = if before.1 >= SHARE_SHIFT_MIN_BASELINE_REQUESTS {
        (before, BaselineWindow::Before)
    } else if after.1 >= SHARE_SHIFT_MIN_BASELINE_REQUESTS {
        (after, BaselineWindow::After)
    } else {
        return None;
    };
    let during = series.totals(incident);
    let requests_total: u64 = during.iter().map(|(_, c)| c.requests).sum();
    let bad_total: u64 = during.iter().map(|(_, c)| c.bad()).sum();
    let named = |totals: &[(&str, DimensionCounts)]| {
        totals
            .iter()
            .filter(|(label, c)| *label != OTHER_LABEL && c.requests > 0)
            .count()
    };
    if requests_total == 0 || named(&during).max(named(&base)) < 2 {
        return None;
    }
    during
        .iter()
        .zip(&base)
        .filter(|((label, _), _)| *label != OTHER_LABEL)
        .filter_map(|((label, now), (_, then))| {
            let traffic_moved = moved(
                now.requests,
                requests_total,
                then.requests,
                base_requests,
                false,
            );
            let bad_moved = bad_total >= CONCENTRATION_MIN_BAD
                && moved(now.bad(), bad_total, then.requests, base_requests, true);
            (traffic_moved || bad_moved).then(|| ShareShift {
                label: label.to_string(),
                window,
                baseline_share: then.requests as f64 / base_requests as f64,
                requests: now.requests,
                requests_total,
                bad: now.bad(),
                bad_total,
                traffic_moved,
                bad_moved,
            })
        })
        .max_by(|a, b| {
            let change = |s: &ShareShift| (s.traffic_share() - s.baseline_share).abs();
            a.bad
                .cmp(&b.bad)
                .then_with(|| change(a).total_cmp(&change(b)))
                .then_with(|| b.label.cmp(&a.label))
        })
}

/// One cause must hold at least this share of a value's failed requests to
/// be named: then it is how that upstream fails, not one way among several.
pub const TERMINATION_MIN_SHARE: f64 = 0.5;

/// A value must hold at least this share of all failed requests of the
/// range for its causes to be named: the upstreams that matter.
pub const TERMINATION_MIN_FAILED_SHARE: f64 = 0.2;

/// Most values whose termination causes are named per incident.
pub const MAX_TERMINATION_VALUES: usize = 2;

/// How the failed requests of one value of a dimension mostly ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminationConcentration {
    pub label: String,
    pub cause: TerminationCause,
    pub code: String,
    /// The cause's share of the value's failed requests.
    pub share: f64,
    /// The value's failed requests in the range.
    pub failed: u64,
}

/// The values of `series` with at least [`CONCENTRATION_MIN_BAD`] failed
/// requests in `range` and at least [`TERMINATION_MIN_FAILED_SHARE`] of all
/// of them, whose failures mostly ([`TERMINATION_MIN_SHARE`]) ended with
/// one termination cause; the most failed first, at most
/// [`MAX_TERMINATION_VALUES`].
pub fn termination_concentration(
    series: &DimensionSeries,
    range: RangeInclusive<usize>,
) -> Vec<TerminationConcentration> {
    let totals = series.totals(range);
    let all_failed: u64 = totals.iter().map(|(_, c)| c.failed).sum();
    let mut found: Vec<TerminationConcentration> = totals
        .iter()
        .filter(|(_, c)| {
            c.failed >= CONCENTRATION_MIN_BAD
                && c.failed as f64 >= TERMINATION_MIN_FAILED_SHARE * all_failed as f64
        })
        .filter_map(|(label, counts)| {
            let (cause, count, code) = counts.causes.dominant()?;
            let share = count as f64 / counts.failed as f64;
            (share >= TERMINATION_MIN_SHARE).then(|| TerminationConcentration {
                label: label.to_string(),
                cause,
                code: code.text(),
                share,
                failed: counts.failed,
            })
        })
        .collect();
    found.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.label.cmp(&b.label)));
    found.truncate(MAX_TERMINATION_VALUES);
    found
}

/// The path most bad requests in `[from, to]` (whole buckets) went to,
/// when it drew at least [`CONCENTRATION_MIN_BAD_SHARE`] of them while
/// carrying under [`CONCENTRATION_MAX_TRAFFIC_SHARE`] of all requests.
pub fn path_concentration(
    paths: &PathBuilder,
    from: Millis,
    to: Millis,
) -> Option<PathConcentration> {
    let bucket_ms = paths.bucket_ms();
    let (first, last) = (from.div_euclid(bucket_ms), to.div_euclid(bucket_ms));
    let in_range: Vec<&PathSummary> = paths
        .sorted()
        .into_iter()
        .filter(|(index, _)| (first..=last).contains(index))
        .map(|(_, summary)| summary)
        .collect();
    let mut bad_by_path: Vec<(ByteKey, u64)> = Vec::new();
    for summary in &in_range {
        for counter in summary.bad().live() {
            match bad_by_path.iter_mut().find(|(key, _)| *key == counter.key) {
                Some((_, count)) => *count += counter.count,
                None => bad_by_path.push((counter.key, counter.count)),
            }
        }
    }
    let bad_total: u64 = in_range.iter().map(|s| s.bad().total()).sum();
    let all_total: u64 = in_range.iter().map(|s| s.all().total()).sum();
    let (path, bad) = bad_by_path
        .into_iter()
        .max_by_key(|(key, count)| (*count, std::cmp::Reverse(key.text())))?;
    let hash = path.hash64();
    let traffic_upper: u64 = in_range.iter().map(|s| s.all().upper_bound(hash)).sum();
    let bad_share = bad as f64 / bad_total.max(1) as f64;
    let traffic_share = traffic_upper as f64 / all_total.max(1) as f64;
    (bad_total >= CONCENTRATION_MIN_BAD
        && bad_share >= CONCENTRATION_MIN_BAD_SHARE
        && traffic_share < CONCENTRATION_MAX_TRAFFIC_SHARE)
        .then(|| PathConcentration {
            path: path.text(),
            bad_share,
            traffic_share_at_most: traffic_share,
        })
}

/// The path whose share of the bad requests in `[from, to]` (whole
/// buckets) rose against its share of the requests in the baseline window
/// (the buckets before, else after; at least
/// [`SHARE_SHIFT_MIN_BASELINE_REQUESTS`]), by the thresholds of
/// [`share_shift`], whatever its share of the traffic: a path that carries
/// most requests and took every bad one is a lead the concentration test
/// (a minority of the traffic) never names.
///
/// Only paths the series tracks are candidates: those of the bad-request
/// summaries ([`crate::series::paths`]), so the cost is bounded by their
/// counters, not by a site's paths. A path's requests are known only as
/// the upper bound of its cell of the traffic sketch, which leans the test
/// toward no lead: its bad count is a lower bound, its baseline share an
/// upper one. Whether its share of the *requests* moved is not tested: two
/// upper bounds cannot tell a path's move from its cell's.
pub fn path_share_shift(paths: &PathBuilder, from: Millis, to: Millis) -> Option<ShareShift> {
    let bucket_ms = paths.bucket_ms();
    let (first, last) = (from.div_euclid(bucket_ms), to.div_euclid(bucket_ms));
    let sorted = paths.sorted();
    let during: Vec<&PathSummary> = sorted
        .iter()
        .filter(|(index, _)| (first..=last).contains(index))
        .map(|(_, summary)| *summary)
        .collect();
    let window = |keep: &dyn Fn(i64) -> bool| -> Vec<&PathSummary> {
        sorted
            .iter()
            .filter(|(index, _)| keep(*index))
            .map(|(_, summary)| *summary)
            .collect()
    };
    let total = |summaries: &[&PathSummary]| summaries.iter().map(|s| s.all().total()).sum::<u64>();
    let before = window(&|index| index < first);
    let after = window(&|index| index > last);
    let (base, window) = if total(&before) >= SHARE_SHIFT_MIN_BASELINE_REQUESTS {
        (before, BaselineWindow::Before)
    } else if total(&after) >= SHARE_SHIFT_MIN_BASELINE_REQUESTS {
        (after, BaselineWindow::After)
    } else {
        return None;
    };
    let base_requests = total(&base);
    let requests_total = total(&during);
    let bad_total: u64 = during.iter().map(|s| s.bad().total()).sum();
    if bad_total < CONCENTRATION_MIN_BAD || requests_total == 0 {
        return None;
    }
    let mut bad_by_path: Vec<(ByteKey, u64)> = Vec::new();
    for summary in &during {
        for counter in summary.bad().live() {
            match bad_by_path.iter_mut().find(|(key, _)| *key == counter.key) {
                Some((_, count)) => *count += counter.count,
                None => bad_by_path.push((counter.key, counter.count)),
            }
        }
    }
    let upper = |summaries: &[&PathSummary], hash: u64| -> u64 {
        summaries.iter().map(|s| s.all().upper_bound(hash)).sum()
    };
    bad_by_path
        .into_iter()
        .filter_map(|(path, bad)| {
            let hash = path.hash64();
            let base_upper = upper(&base, hash).min(base_requests);
            moved(bad, bad_total, base_upper, base_requests, true).then(|| ShareShift {
                label: path.text(),
                window,
                baseline_share: base_upper as f64 / base_requests as f64,
                requests: upper(&during, hash).min(requests_total),
                requests_total,
                bad,
                bad_total,
                traffic_moved: false,
                bad_moved: true,
            })
        })
        .max_by(|a, b| {
            a.bad
                .cmp(&b.bad)
                .then_with(|| {
                    (a.bad_share() - a.baseline_share)
                        .total_cmp(&(b.bad_share() - b.baseline_share))
                })
                .then_with(|| b.label.cmp(&a.label))
        })
}

/// A path holding most of an incident's bad requests.
#[derive(Clone, Debug, PartialEq)]
pub struct PathConcentration {
    pub path: String,
    /// Its share of the bad requests (a lower bound).
    pub bad_share: f64,
    /// Its share of all requests, at most.
    pub traffic_share_at_most: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::dims::{DimensionBuilder, DimensionKind, Outcome};
    use crate::series::heavy::hash_bytes;
    use crate::series::paths::TrafficCells;

    const MINUTE: i64 = 60_000;
    const SLOW_US: u64 = 1_000_000;

    #[test]
    fn one_bad_upstream_of_three_is_named() {
        struct Case {
            name: &'static str,
            /// Requests and bad ones per upstream.
            traffic: [(u64, u64); 3],
            named: Option<&'static str>,
        }
        let cases = [
            Case {
                name: "one of three carries the failures",
                traffic: [(100, 1), (100, 0), (100, 40)],
                named: Some("c:80"),
            },
            Case {
                name: "failures spread evenly",
                traffic: [(100, 14), (100, 13), (100, 14)],
                named: None,
            },
            Case {
                name: "the bad upstream carries most traffic",
                traffic: [(20, 1), (20, 0), (260, 40)],
                named: None,
            },
            Case {
                name: "too few bad requests to say",
                traffic: [(100, 0), (100, 0), (100, 5)],
                named: None,
            },
        ];
        for case in cases {
            let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
            for ((requests, bad), label) in case.traffic.iter().zip(["a:80", "b:80", "c:80"]) {
                for i in 0..*requests {
                    let status = if i < *bad { 503 } else { 200 };
                    let outcome = Outcome::of(status, Some(5_000));
                    builder.record(i as i64, label.as_bytes(), outcome);
                }
            }
            let series = builder.finish(0, 1);
            let found = dimension_concentration(&series, 0..=0).map(|(label, _, _)| label);
            assert_eq!(found.as_deref(), case.named, "{}", case.name);
            let hints = crate::detect::hints::concentration_hints(&[series], 0..=0);
            assert_eq!(
                hints.len(),
                usize::from(case.named.is_some()),
                "{}",
                case.name
            );
        }
    }

    /// Requests and bad requests per bucket for upstreams a, b and c.
    type Mix = [(u64, u64); 3];

    /// `before` buckets of `baseline`, then `during` buckets of `incident`,
    /// then `after` buckets of `baseline` again.
    fn phased(
        baseline: Mix,
        incident: Mix,
        (before, during, after): (usize, usize, usize),
    ) -> DimensionSeries {
        let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        let plan = std::iter::repeat_n(baseline, before)
            .chain(std::iter::repeat_n(incident, during))
            .chain(std::iter::repeat_n(baseline, after));
        for (bucket, mix) in plan.enumerate() {
            for ((requests, bad), label) in mix.iter().zip(["a:80", "b:80", "c:80"]) {
                for i in 0..*requests {
                    let status = if i < *bad { 503 } else { 200 };
                    let at = bucket as i64 * MINUTE + i as i64;
                    builder.record(at, label.as_bytes(), Outcome::of(status, Some(5_000)));
                }
            }
        }
        builder.finish(0, before + during + after)
    }

    #[test]
    fn a_share_that_moved_is_named_whatever_its_size() {
        struct Case {
            name: &'static str,
            baseline: Mix,
            incident: Mix,
            /// Buckets before, during and after the incident.
            phases: (usize, usize, usize),
            /// (label, window, baseline share, requests, bad, traffic moved, bad moved)
            expected: Option<(&'static str, BaselineWindow, f64, u64, u64, bool, bool)>,
        }
        let even = [(100, 0), (100, 0), (100, 0)];
        let cases = [
            Case {
                name: "traffic moved to one upstream, which failed (uneven-lb)",
                baseline: even,
                incident: [(5, 0), (5, 0), (90, 10)],
                phases: (5, 5, 0),
                expected: Some((
                    "c:80",
                    BaselineWindow::Before,
                    1.0 / 3.0,
                    450,
                    50,
                    true,
                    true,
                )),
            },
            Case {
                name: "majority upstream, share unchanged, failures spread alike",
                baseline: [(60, 0), (20, 0), (20, 0)],
                incident: [(60, 6), (20, 2), (20, 2)],
                phases: (5, 5, 0),
                expected: None,
            },
            Case {
                name: "majority upstream, share unchanged, every bad request its own",
                baseline: [(60, 0), (20, 0), (20, 0)],
                incident: [(60, 10), (20, 0), (20, 0)],
                phases: (5, 5, 0),
                expected: Some(("a:80", BaselineWindow::Before, 0.6, 300, 50, false, true)),
            },
            Case {
                name: "noise: a third becomes 38%",
                baseline: even,
                incident: [(38, 3), (31, 2), (31, 3)],
                phases: (5, 5, 0),
                expected: None,
            },
            Case {
                name: "traffic moved away without failures",
                baseline: even,
                incident: [(5, 0), (95, 0), (100, 0)],
                phases: (5, 5, 0),
                expected: Some((
                    "a:80",
                    BaselineWindow::Before,
                    1.0 / 3.0,
                    25,
                    0,
                    true,
                    false,
                )),
            },
            Case {
                name: "the log starts inside the incident: the buckets after",
                baseline: even,
                incident: [(5, 0), (5, 0), (90, 10)],
                phases: (0, 5, 5),
                expected: Some((
                    "c:80",
                    BaselineWindow::After,
                    1.0 / 3.0,
                    450,
                    50,
                    true,
                    true,
                )),
            },
            Case {
                name: "no baseline window with enough requests",
                baseline: [(10, 0), (10, 0), (10, 0)],
                incident: [(5, 0), (5, 0), (90, 10)],
                phases: (1, 5, 1),
                expected: None,
            },
        ];
        for case in cases {
            let (before, during, _) = case.phases;
            let series = phased(case.baseline, case.incident, case.phases);
            let found = share_shift(&series, before..=before + during - 1);
            let got = found.as_ref().map(|s| {
                (
                    s.label.as_str(),
                    s.window,
                    s.baseline_share,
                    s.requests,
                    s.bad,
                    s.traffic_moved,
                    s.bad_moved,
                )
            });
            assert_eq!(got, case.expected, "{}", case.name);
        }
    }

    #[test]
    fn two_proportion_z_matches_a_worked_example() {
        // 60 of 100 against 40 of 100: pooled 0.5, standard error
        // sqrt(0.25 * 0.02) = 0.0707..., z = 0.2 / 0.0707... = 2.828...
        let z = two_proportion_z(60, 100, 40, 100);
        assert!((z - 2.828_427).abs() < 1e-6, "{z}");
        assert_eq!(two_proportion_z(0, 0, 5, 10), 0.0, "an empty side");
        assert_eq!(two_proportion_z(10, 10, 5, 5), 0.0, "pooled share 1");
    }

    /// Ten minutes, 100 requests a minute over 20 paths; `/checkout` gets
    /// a twentieth of them, and during minutes 3..=6 `bad_checkout` of its
    /// requests fail besides `bad_elsewhere` a minute on other paths.
    fn builder(bad_checkout: u64, bad_elsewhere: u64) -> PathBuilder {
        let mut builder = PathBuilder::new(MINUTE);
        for minute in 0..10i64 {
            for i in 0..100u64 {
                let at = minute * MINUTE + i as i64 * 600;
                let path = if i % 20 == 0 {
                    "/checkout".to_string()
                } else {
                    format!("/page/{}", i % 20)
                };
                let incident = (3..=6).contains(&minute);
                let bad = incident
                    && if path == "/checkout" {
                        i / 20 < bad_checkout
                    } else {
                        i < bad_elsewhere * 20 / 19 && i % 20 != 0
                    };
                builder.record(at, path.as_bytes(), bad);
            }
        }
        builder
    }

    /// Ten minutes, 100 requests a minute; `/api` gets three in five of
    /// them, `/page/3`, `/page/4`, `/page/8` and `/page/9` ten each; during
    /// minutes 3..=6,
    /// `api_bad` of `/api`'s and `page_bad` of the pages' requests a minute
    /// fail.
    fn busy_api(api_bad: u64, page_bad: u64) -> PathBuilder {
        let mut builder = PathBuilder::new(MINUTE);
        for minute in 0..10i64 {
            let (mut api_seen, mut page_seen) = (0, 0);
            for i in 0..100u64 {
                let at = minute * MINUTE + i as i64 * 600;
                let incident = (3..=6).contains(&minute);
                let (path, bad) = if i % 5 < 3 {
                    api_seen += 1;
                    ("/api".to_string(), incident && api_seen <= api_bad)
                } else {
                    page_seen += 1;
                    (
                        format!("/page/{}", i % 10),
                        incident && page_seen <= page_bad,
                    )
                };
                builder.record(at, path.as_bytes(), bad);
            }
        }
        builder
    }

    #[test]
    fn a_busy_path_that_took_every_bad_request_is_a_moved_share() {
        let (from, to) = (3 * MINUTE, 6 * MINUTE + 59_999);
        let paths = busy_api(30, 0);
        // The majority path is no concentration...
        assert_eq!(path_concentration(&paths, from, to), None);
        // ... but its share of the bad requests moved: all of them, against
        // at most its cell's share of the requests before.
        let cell = |path: &str| TrafficCells::cell(hash_bytes(path.as_bytes()));
        let sharing = [3, 4, 8, 9]
            .iter()
            .filter(|i| cell(&format!("/page/{i}")) == cell("/api"))
            .count() as f64;
        let base_share = (180.0 + sharing * 10.0 * 3.0) / 300.0;
        let expected = ShareShift {
            label: "/api".to_string(),
            window: BaselineWindow::Before,
            baseline_share: base_share,
            requests: (240.0 + sharing * 40.0) as u64,
            requests_total: 400,
            bad: 120,
            bad_total: 120,
            traffic_moved: false,
            bad_moved: true,
        };
        assert_eq!(path_share_shift(&paths, from, to), Some(expected));
        let cases = [
            ("failures in proportion to the traffic", busy_api(6, 4)),
            ("too few bad requests", busy_api(1, 0)),
        ];
        for (name, paths) in cases {
            assert_eq!(path_share_shift(&paths, from, to), None, "{name}");
        }
    }

    #[test]
    fn one_broken_path_is_named_and_a_general_failure_is_not() {
        let (from, to) = (3 * MINUTE, 6 * MINUTE + 59_999);
        let broken = path_concentration(&builder(5, 0), from, to).expect("a concentration");
        assert_eq!(broken.path, "/checkout");
        assert_eq!(broken.bad_share, 1.0);
        // Every path has 5 of 100 requests a minute; the bound is the
        // share of all the paths in /checkout's cell, itself included.
        let cell = |path: &str| TrafficCells::cell(hash_bytes(path.as_bytes()));
        let sharing = (1..20)
            .filter(|i| cell(&format!("/page/{i}")) == cell("/checkout"))
            .count();
        assert_eq!(
            broken.traffic_share_at_most,
            0.05 * (1 + sharing) as f64,
            "{broken:?}"
        );
        assert_eq!((broken.path.as_str(), broken.bad_share), ("/checkout", 1.0));

        let cases = [
            ("spread over every path", builder(1, 19)),
            ("too few bad requests", builder(0, 0)),
        ];
        for (name, paths) in cases {
            assert_eq!(path_concentration(&paths, from, to), None, "{name}");
        }
    }
}
