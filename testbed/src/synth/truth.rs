//! Ground truth, computed exactly as `report-contract.md` defines it, from
//! the requests as a perfect tool could reconstruct them from the log.
//!
//! A request's time is its arrival. nginx prints the completion second, so a
//! tool reconstructs arrival = printed second − `$request_time` (ms
//! resolution); Apache prints the arrival second. The truth uses those
//! reconstructed instants, never the generator's private millisecond
//! arrivals, so it is what the file itself proves.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::clock::{MS_PER_MINUTE, MS_PER_SECOND, US_PER_MS};
use super::render::{AccessFormat, TimeSemantics};

/// The slow threshold the samples are built for: the tool's default
/// max(1 s, 4 × baseline p99) is 1 s because every baseline p99 is ≤ 250 ms.
pub const SLOW_THRESHOLD_US: u64 = 1_000_000;

/// A request as a perfect tool reads it from the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedRequest<'a> {
    /// Arrival in ms since the epoch, as reconstructed from the line.
    pub arrival_ms: i64,
    pub status: u16,
    /// The logged request time in µs; `None` when the layout has none.
    pub latency_us: Option<u64>,
    pub ip: IpAddr,
    pub user_agent: &'a str,
}

impl ObservedRequest<'_> {
    /// Failed: status ≥ 500, or 499 (the client gave up waiting).
    pub fn failed(&self) -> bool {
        is_failed(self.status)
    }

    /// Slow: a logged request time above the threshold.
    pub fn slow(&self, threshold_us: u64) -> bool {
        self.latency_us
            .is_some_and(|latency| latency > threshold_us)
    }

    /// Bad: failed or slow.
    pub fn bad(&self, threshold_us: u64) -> bool {
        self.failed() || self.slow(threshold_us)
    }
}

/// Failed per the contract: status ≥ 500, or 499. Other 4xx are not.
pub fn is_failed(status: u16) -> bool {
    status >= 500 || status == 499
}

/// The arrival a tool reconstructs from an nginx line: the printed
/// completion second minus the printed `$request_time`.
pub fn nginx_reconstructed_arrival_ms(printed_second: i64, request_time_ms: u64) -> i64 {
    printed_second * MS_PER_SECOND - request_time_ms as i64
}

/// What a tool reads back from the line of a request with true `arrival_ms`
/// and `latency_us`, in `format`: reconstructed arrival and logged latency.
pub fn observe(format: AccessFormat, arrival_ms: i64, latency_us: u64) -> (i64, Option<u64>) {
    let second = format.printed_second(arrival_ms, latency_us);
    let arrival = match format.time_semantics() {
        TimeSemantics::Arrival => second * MS_PER_SECOND,
        TimeSemantics::Completion => nginx_reconstructed_arrival_ms(second, latency_us / US_PER_MS),
    };
    (arrival, format.logs_latency().then_some(latency_us))
}

/// The figures of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactTruth {
    pub start_ms: i64,
    pub end_ms: i64,
    pub requests_total: u64,
    pub requests_failed: u64,
    /// Slow requests that did not fail (so failed + slow = bad).
    pub requests_slow: u64,
    /// Distinct users (address + user agent) with any request.
    pub users_active: u64,
    /// Distinct users with at least one bad request.
    pub users_affected: u64,
    /// The same two counts with the address alone as the user key.
    pub ip_users_active: u64,
    pub ip_users_affected: u64,
}

impl ImpactTruth {
    /// 100 × affected / active, rounded to two decimals.
    pub fn affected_pct(&self) -> f64 {
        percent(self.users_affected, self.users_active)
    }

    /// The same with the address alone as the user key.
    pub fn ip_affected_pct(&self) -> f64 {
        percent(self.ip_users_affected, self.ip_users_active)
    }
}

/// 100 × part / whole rounded to two decimals (0 for an empty whole).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (10_000.0 * part as f64 / whole as f64).round() / 100.0
    }
}

/// The incident of bad requests injected in `[from_ms, to_ms]`: start = the
/// first bad request arriving in the window, end = the last; the figures are
/// counted over every request arriving in [start, end]. `None` when no bad
/// request arrived in the window.
pub fn bad_request_incident(
    requests: &[ObservedRequest<'_>],
    from_ms: i64,
    to_ms: i64,
    threshold_us: u64,
) -> Option<ImpactTruth> {
    let in_window = |request: &&ObservedRequest<'_>| {
        request.arrival_ms >= from_ms && request.arrival_ms <= to_ms && request.bad(threshold_us)
    };
    let start = requests
        .iter()
        .filter(in_window)
        .map(|r| r.arrival_ms)
        .min()?;
    let end = requests
        .iter()
        .filter(in_window)
        .map(|r| r.arrival_ms)
        .max()?;
    Some(impact_over(requests, start, end, threshold_us))
}

/// The traffic drop in `[from_ms, to_ms]`: the longest silence between two
/// consecutive arrivals that overlaps the window. start = the last request
/// before it, end = the first request after it.
pub fn traffic_gap_incident(
    requests: &[ObservedRequest<'_>],
    from_ms: i64,
    to_ms: i64,
    threshold_us: u64,
) -> Option<ImpactTruth> {
    let mut arrivals: Vec<i64> = requests.iter().map(|request| request.arrival_ms).collect();
    arrivals.sort_unstable();
    let (start, end) = arrivals
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .filter(|&(before, after)| before < to_ms && after > from_ms)
        .max_by_key(|&(before, after)| (after - before, std::cmp::Reverse(before)))?;
    Some(impact_over(requests, start, end, threshold_us))
}

/// Counts the impact over requests arriving in [start_ms, end_ms].
pub fn impact_over(
    requests: &[ObservedRequest<'_>],
    start_ms: i64,
    end_ms: i64,
    threshold_us: u64,
) -> ImpactTruth {
    let mut active: BTreeSet<(IpAddr, &str)> = BTreeSet::new();
    let mut affected: BTreeSet<(IpAddr, &str)> = BTreeSet::new();
    let mut ip_active: BTreeSet<IpAddr> = BTreeSet::new();
    let mut ip_affected: BTreeSet<IpAddr> = BTreeSet::new();
    let (mut total, mut failed, mut slow) = (0, 0, 0);
    for request in requests {
        if request.arrival_ms < start_ms || request.arrival_ms > end_ms {
            continue;
        }
        total += 1;
        active.insert((request.ip, request.user_agent));
        ip_active.insert(request.ip);
        if request.failed() {
            failed += 1;
        } else if request.slow(threshold_us) {
            slow += 1;
        } else {
            continue;
        }
        affected.insert((request.ip, request.user_agent));
        ip_affected.insert(request.ip);
    }
    ImpactTruth {
        start_ms,
        end_ms,
        requests_total: total,
        requests_failed: failed,
        requests_slow: slow,
        users_active: active.len() as u64,
        users_affected: affected.len() as u64,
        ip_users_active: ip_active.len() as u64,
        ip_users_affected: ip_affected.len() as u64,
    }
}

/// Mean distinct users (address + agent) per clock minute over the
/// `minutes` whole minutes before the minute holding `before_ms`.
pub fn users_per_minute(requests: &[ObservedRequest<'_>], before_ms: i64, minutes: i64) -> f64 {
    let last_minute = before_ms.div_euclid(MS_PER_MINUTE);
    let first_minute = last_minute - minutes;
    let mut per_minute: Vec<BTreeSet<(IpAddr, &str)>> =
        vec![BTreeSet::new(); minutes.max(0) as usize];
    for request in requests {
        let minute = request.arrival_ms.div_euclid(MS_PER_MINUTE);
        if minute >= first_minute && minute < last_minute {
            per_minute[(minute - first_minute) as usize].insert((request.ip, request.user_agent));
        }
    }
    if per_minute.is_empty() {
        return 0.0;
    }
    per_minute.iter().map(BTreeSet::len).sum::<usize>() as f64 / per_minute.len() as f64
}

/// The `q` quantile (0..=1, nearest rank) of the logged latencies of
/// requests arriving before `before_ms`, in µs.
pub fn latency_quantile_us(
    requests: &[ObservedRequest<'_>],
    before_ms: i64,
    q: f64,
) -> Option<u64> {
    let mut latencies: Vec<u64> = requests
        .iter()
        .filter(|request| request.arrival_ms < before_ms)
        .filter_map(|request| request.latency_us)
        .collect();
    if latencies.is_empty() {
        return None;
    }
    latencies.sort_unstable();
    let rank =
        ((q.clamp(0.0, 1.0) * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
    Some(latencies[rank - 1])
}

/// How bad an incident was, from its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Nearly every request failed, or traffic vanished.
    Outage,
    /// Some users or requests failed.
    PartialOutage,
    /// Slow, but (almost) nothing failed beyond the background.
    Degradation,
}

/// Share of requests in the incident that must fail for an outage.
const OUTAGE_FAILED_SHARE: f64 = 0.9;
/// At most this share of the bad requests may have failed in a degradation
/// (the background rate of server errors continues during one).
const DEGRADATION_FAILED_SHARE: f64 = 0.05;

impl Severity {
    /// The contract's name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Outage => "outage",
            Severity::PartialOutage => "partial-outage",
            Severity::Degradation => "degradation",
        }
    }

    /// The severity of a bad-request incident.
    pub fn of_bad_requests(impact: &ImpactTruth) -> Severity {
        let total = impact.requests_total.max(1) as f64;
        let bad = (impact.requests_failed + impact.requests_slow).max(1) as f64;
        if impact.requests_failed as f64 >= OUTAGE_FAILED_SHARE * total {
            Severity::Outage
        } else if impact.requests_failed as f64 <= DEGRADATION_FAILED_SHARE * bad {
            Severity::Degradation
        } else {
            Severity::PartialOutage
        }
    }
}
