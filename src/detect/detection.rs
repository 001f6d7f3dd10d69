//! When the incident was detected, decided here and only here, in this
//! precedence: the time the user gave (`--detected-at`), else the first
//! alert line in the logs from the incident's start (up to
//! [`ALERT_AFTER_END_MS`] after its end and before the next incident), else
//! the first moment a standard alert would have fired, replayed over the
//! series: the burn-rate rule for bad requests, the traffic rule for drops.
//!
//! The replay implements the multiwindow, multi-burn-rate alert of the
//! Google SRE Workbook (ch. 5, "Alerting on SLOs", recommendation 6): page
//! when the bad-request ratio burns the error budget 14.4 times too fast
//! over both the last hour and the last 5 minutes, or 6 times over both the
//! last 6 hours and the last 30 minutes. Windows are sums of buckets; inside
//! a bucket requests are taken as spread evenly, and the replay steps one
//! sixtieth of a bucket at a time, so the firing time is known to the second
//! with one-minute buckets.
//!
//! An alert sees a request when its line is written, at completion: the
//! replay counts each bad request in the bucket it completed in
//! ([`completion_counts`]), so a request that hangs a minute and then fails
//! cannot fire it before its line exists.

use crate::ingest::events::{Event, EventKind};
use crate::series::{SeriesSet, latency_bin, latency_bin_floor};
use crate::timefmt::{MS_PER_HOUR, MS_PER_MINUTE, Millis};

use super::baseline::BucketCounts;
use super::findings::{Detected, DetectionEvidence, DetectionSource};
use super::timeline::TIMELINE_AFTER_MS;
use super::{Incident, traffic};

/// An alert line counts as the incident's detection up to this long after
/// its end: as far as the timeline reaches.
pub const ALERT_AFTER_END_MS: i64 = TIMELINE_AFTER_MS;

/// The detection of an incident: `given` (`--detected-at`) wins, then the
/// first `alert` line, then the `rule` (only evaluated when needed).
pub fn decide(
    given: Option<Millis>,
    alert: Option<&Event>,
    rule: impl FnOnce() -> Option<Detected>,
) -> Option<Detected> {
    if let Some(at) = given {
        return Some(Detected {
            at,
            source: DetectionSource::User,
            evidence: DetectionEvidence::Given,
        });
    }
    if let Some(alert) = alert {
        return Some(Detected {
            at: alert.at,
            source: DetectionSource::Log,
            evidence: DetectionEvidence::Alert {
                text: alert.display_text(),
            },
        });
    }
    rule()
}

/// The first alert line at or after `incident`'s start, before
/// [`ALERT_AFTER_END_MS`] past its end and before `next_start`.
pub fn first_alert<'a>(
    events: &'a [Event],
    incident: &Incident,
    next_start: Option<Millis>,
) -> Option<&'a Event> {
    let limit = (incident.end + ALERT_AFTER_END_MS).min(next_start.unwrap_or(Millis::MAX));
    events
        .iter()
        .find(|e| e.kind == EventKind::Alert && e.at >= incident.start && e.at < limit)
}

/// The alert line a detection from the logs stands for.
pub fn detecting_alert<'a>(events: &'a [Event], detected: Option<&Detected>) -> Option<&'a Event> {
    let detected = detected.filter(|d| d.source == DetectionSource::Log)?;
    events
        .iter()
        .find(|e| e.kind == EventKind::Alert && e.at == detected.at)
}

/// The per-bucket counts as an alert sees them: each bad request in the
/// bucket its line was written in (completed), not the one it arrived in.
/// Failed requests are counted at completion by the series
/// ([`crate::series::Bucket::failed_completed`]); slow ones (slower than
/// `threshold_us`, a bin floor) at the earliest completion their slot and
/// latency bin allow (the slot's first arrival of the bin plus the bin's
/// floor: within a slot and 1/64 of the latency of the truth). Requests
/// that went well complete within the slow threshold of their arrival and
/// stay in their arrival's bucket.
pub fn completion_counts(
    series: &SeriesSet,
    counts: &[BucketCounts],
    threshold_us: u64,
) -> Vec<BucketCounts> {
    let mut slow_completed = vec![0u64; counts.len()];
    let from_bin = latency_bin(threshold_us);
    for (index, bucket) in series.buckets.iter().enumerate() {
        for slot in bucket.slots.iter() {
            for &(bin, tail) in slot.slow.bins() {
                if bin < from_bin {
                    continue;
                }
                let earliest =
                    series.absolute(index, tail.first) + (latency_bin_floor(bin) / 1_000) as i64;
                let completed = (earliest - series.start).div_euclid(series.bucket_ms);
                if let Some(count) = usize::try_from(completed)
                    .ok()
                    .and_then(|i| slow_completed.get_mut(i))
                {
                    *count += u64::from(tail.count);
                }
            }
        }
    }
    counts
        .iter()
        .zip(&series.buckets)
        .zip(slow_completed)
        .map(|((arrived, bucket), slow)| {
            let failed = bucket.failed_completed;
            BucketCounts {
                requests: arrived.requests.saturating_sub(arrived.bad()) + failed + slow,
                failed,
                slow,
            }
        })
        .collect()
}

/// The burn-rate rule's detection, replayed from `from` to `until` over
/// `counts` by completion ([`completion_counts`]).
pub fn burn_rate_detection(
    counts: &[BucketCounts],
    series: &SeriesSet,
    slo_percent: f64,
    history: History,
    (from, until): (Millis, Millis),
) -> Option<Detected> {
    let firing = replay_burn_rate(
        counts,
        series.start,
        series.bucket_ms,
        slo_percent,
        history,
        (from, until),
    )?;
    Some(Detected {
        at: firing.at,
        source: DetectionSource::Rule,
        evidence: DetectionEvidence::BurnRate {
            slo_percent,
            rule: firing.rule.name,
            long_burn: firing.long_burn,
            short_burn: firing.short_burn,
        },
    })
}

/// The contract's traffic rule: requests below a fifth of the baseline
/// (`expected_per_bucket`) for five minutes fire at the end of the fifth low
/// minute; a shorter drop never fires.
pub fn traffic_rule_detection(
    series: &SeriesSet,
    incident: &Incident,
    expected_per_bucket: f64,
) -> Option<Detected> {
    let rule_buckets = (traffic::TRAFFIC_RULE_MS / series.bucket_ms).max(1) as usize;
    if incident.last_bucket + 1 - incident.first_bucket < rule_buckets {
        return None;
    }
    Some(Detected {
        at: series.bucket_start(incident.first_bucket) + traffic::TRAFFIC_RULE_MS,
        source: DetectionSource::Rule,
        evidence: DetectionEvidence::TrafficRule {
            expected_per_minute: expected_per_bucket * MS_PER_MINUTE as f64
                / series.bucket_ms as f64,
        },
    })
}

/// One burn-rate condition: both windows must burn at least `burn_rate`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnRateRule {
    pub name: &'static str,
    pub long_window_ms: i64,
    pub short_window_ms: i64,
    pub burn_rate: f64,
}

/// The SRE Workbook's paging pair.
pub const MULTIWINDOW_RULES: [BurnRateRule; 2] = [
    BurnRateRule {
        name: "burn rate 14.4 over 1 h and 5 min",
        long_window_ms: MS_PER_HOUR,
        short_window_ms: 5 * MS_PER_MINUTE,
        burn_rate: 14.4,
    },
    BurnRateRule {
        name: "burn rate 6 over 6 h and 30 min",
        long_window_ms: 6 * MS_PER_HOUR,
        short_window_ms: 30 * MS_PER_MINUTE,
        burn_rate: 6.0,
    },
];

/// Steps per bucket of the replay.
pub const REPLAY_STEPS_PER_BUCKET: i64 = 60;

/// The moment a rule fired, and the burn rates it saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Firing {
    pub at: Millis,
    pub rule: &'static BurnRateRule,
    pub long_burn: f64,
    pub short_burn: f64,
}

/// What the service looked like before the log starts. A window reaching
/// back past the first bucket is filled with this, as a real alerting system
/// would have had that history; without it, the first hours of a log would
/// look hotter than they were and the 6 h rule would fire too early.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct History {
    pub requests_per_bucket: f64,
    pub bad_rate: f64,
}

impl History {
    /// The mean requests per bucket of `counts`, at a bad rate of `bad_rate`.
    pub fn from_counts(counts: &[BucketCounts], bad_rate: f64) -> Self {
        let total: u64 = counts.iter().map(|c| c.requests).sum();
        History {
            requests_per_bucket: total as f64 / counts.len().max(1) as f64,
            bad_rate,
        }
    }
}

/// Prefix sums of requests and bad requests, for window sums in O(1).
struct Prefix {
    requests: Vec<f64>,
    bad: Vec<f64>,
    history: History,
}

impl Prefix {
    fn new(counts: &[BucketCounts], history: History) -> Self {
        let mut requests = vec![0.0];
        let mut bad = vec![0.0];
        for c in counts {
            requests.push(requests.last().copied().unwrap_or(0.0) + c.requests as f64);
            bad.push(bad.last().copied().unwrap_or(0.0) + c.bad() as f64);
        }
        Prefix {
            requests,
            bad,
            history,
        }
    }

    /// Requests and bad requests in the `window` buckets ending at fraction
    /// `phase` of bucket `index`: whole buckets in between, `phase` of the
    /// current one and `1 − phase` of the one the window starts in; the part
    /// before the first bucket comes from the [`History`].
    fn window(
        &self,
        counts: &[BucketCounts],
        index: usize,
        phase: f64,
        window: usize,
    ) -> (f64, f64) {
        let whole_from = (index + 1).saturating_sub(window);
        let mut requests = self.requests[index] - self.requests[whole_from];
        let mut bad = self.bad[index] - self.bad[whole_from];
        requests += phase * counts[index].requests as f64;
        bad += phase * counts[index].bad() as f64;
        if index + 1 > window {
            let oldest = &counts[index - window];
            requests += (1.0 - phase) * oldest.requests as f64;
            bad += (1.0 - phase) * oldest.bad() as f64;
        } else {
            let missing = window as f64 - index as f64 - phase;
            let history_requests = missing * self.history.requests_per_bucket;
            requests += history_requests;
            bad += history_requests * self.history.bad_rate;
        }
        (requests, bad)
    }
}

/// Replays the rules from `from` to `until` over per-bucket counts starting
/// at `series_start`, against an objective of `slo_percent`; the first
/// firing, if any.
pub fn replay_burn_rate(
    counts: &[BucketCounts],
    series_start: Millis,
    bucket_ms: i64,
    slo_percent: f64,
    history: History,
    (from, until): (Millis, Millis),
) -> Option<Firing> {
    let budget = 1.0 - slo_percent / 100.0;
    if counts.is_empty() || budget <= 0.0 {
        return None;
    }
    let prefix = Prefix::new(counts, history);
    let windows = |ms: i64| ((ms as f64 / bucket_ms as f64).round() as usize).max(1);
    let step_ms = (bucket_ms / REPLAY_STEPS_PER_BUCKET).max(1);
    let first_index = ((from - series_start).div_euclid(bucket_ms)).max(0) as usize;
    let last_index =
        (((until - series_start).div_euclid(bucket_ms)).max(0) as usize).min(counts.len() - 1);
    for index in first_index..=last_index {
        let bucket_start = series_start + index as i64 * bucket_ms;
        for step in 1..=REPLAY_STEPS_PER_BUCKET {
            let at = bucket_start + step * step_ms;
            if at < from {
                continue;
            }
            let phase = step as f64 / REPLAY_STEPS_PER_BUCKET as f64;
            for rule in &MULTIWINDOW_RULES {
                let burn = |window_ms: i64| {
                    let (requests, bad) = prefix.window(counts, index, phase, windows(window_ms));
                    if requests <= 0.0 {
                        0.0
                    } else {
                        bad / requests / budget
                    }
                };
                let (long_burn, short_burn) =
                    (burn(rule.long_window_ms), burn(rule.short_window_ms));
                if long_burn >= rule.burn_rate && short_burn >= rule.burn_rate {
                    return Some(Firing {
                        at,
                        rule,
                        long_burn,
                        short_burn,
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = MS_PER_MINUTE;

    const CLEAN_HISTORY: History = History {
        requests_per_bucket: 1000.0,
        bad_rate: 0.0,
    };

    /// An hour of clean traffic, then a step to `bad_share` bad requests.
    fn step_to(bad_share: f64, minutes_after: usize) -> Vec<BucketCounts> {
        let mut counts = vec![BucketCounts::of(1000, 0, 0); 60];
        let failed = (1000.0 * bad_share).round() as u64;
        counts.extend(vec![BucketCounts::of(1000, failed, 0); minutes_after]);
        counts
    }

    fn alert(at: Millis) -> Event {
        Event {
            at,
            last_at: at,
            kind: EventKind::Alert,
            rule: "nagios alert",
            severity: None,
            host: None,
            program: Some("nagios".to_string()),
            text: "SERVICE ALERT: web01;HTTP;CRITICAL".to_string(),
            line: crate::series::LineRef { input: 0, line: 7 },
            count: 1,
        }
    }

    fn rule_at(at: Millis) -> Detected {
        Detected {
            at,
            source: DetectionSource::Rule,
            evidence: DetectionEvidence::TrafficRule {
                expected_per_minute: 50.0,
            },
        }
    }

    #[test]
    fn the_user_beats_the_log_which_beats_the_rule() {
        let log = alert(2 * MINUTE);
        let cases = [
            (
                "all three: the user's time",
                Some(5 * MINUTE),
                Some(&log),
                Some(rule_at(MINUTE)),
                Some((5 * MINUTE, DetectionSource::User)),
            ),
            (
                "an alert and the rule: the alert",
                None,
                Some(&log),
                Some(rule_at(MINUTE)),
                Some((2 * MINUTE, DetectionSource::Log)),
            ),
            (
                "the rule alone",
                None,
                None,
                Some(rule_at(MINUTE)),
                Some((MINUTE, DetectionSource::Rule)),
            ),
            ("nothing fired", None, None, None, None),
        ];
        for (name, given, alert, rule, expected) in cases {
            let got = decide(given, alert, || rule).map(|d| (d.at, d.source));
            assert_eq!(got, expected, "{name}");
        }
        let from_log = decide(None, Some(&log), || None).map(|d| d.evidence);
        assert_eq!(
            from_log,
            Some(DetectionEvidence::Alert {
                text: "nagios: SERVICE ALERT: web01;HTTP;CRITICAL".to_string()
            }),
            "the alert line as it names itself"
        );
    }

    #[test]
    fn an_alert_counts_from_the_start_until_the_next_incident() {
        let incident = Incident {
            cause: super::super::Cause::BadRequests,
            start: 10 * MINUTE,
            end: 20 * MINUTE,
            start_line: None,
            end_line: None,
            first_bucket: 10,
            last_bucket: 20,
            severity: super::super::Severity::Outage,
        };
        let cases = [
            ("before the start", 9 * MINUTE, None, false),
            ("at the start", 10 * MINUTE, None, true),
            ("29 min after the end", 49 * MINUTE, None, true),
            ("30 min after the end", 50 * MINUTE, None, false),
            (
                "at the next incident",
                25 * MINUTE,
                Some(25 * MINUTE),
                false,
            ),
        ];
        for (name, at, next_start, found) in cases {
            let events = [alert(at)];
            assert_eq!(
                first_alert(&events, &incident, next_start).is_some(),
                found,
                "{name}"
            );
        }
    }

    #[test]
    fn fast_page_fires_as_the_workbook_says() {
        let start = 60 * MINUTE;
        let cases = [
            ("100% errors: about 52 s", 1.0, Some(52_000)),
            ("10% errors: about 8.6 min", 0.10, Some(519_000)),
            ("1.5% errors: just above 1.44%", 0.015, Some(3_456_000)),
            ("1% errors: neither rule fires within two hours", 0.01, None),
        ];
        for (name, share, expected_delay) in cases {
            let counts = step_to(share, 120);
            let firing = replay_burn_rate(
                &counts,
                0,
                MINUTE,
                99.9,
                CLEAN_HISTORY,
                (start, 180 * MINUTE),
            );
            assert_eq!(firing.map(|f| f.at - start), expected_delay, "{name}");
        }
    }

    #[test]
    fn slow_burn_catches_what_the_fast_page_misses() {
        // 1% errors at 99.9% after six clean hours: the 6× rule's 6 h window
        // holds x minutes at 1%, 0.01·x/360 ≥ 0.006 ⇒ x = 216 min.
        let mut counts = vec![BucketCounts::of(1000, 0, 0); 360];
        counts.extend(vec![BucketCounts::of(1000, 10, 0); 300]);
        let firing = replay_burn_rate(
            &counts,
            0,
            MINUTE,
            99.9,
            CLEAN_HISTORY,
            (360 * MINUTE, 660 * MINUTE),
        )
        .expect("the 6× rule fires");
        assert_eq!(firing.rule.burn_rate, 6.0);
        assert_eq!(firing.at - 360 * MINUTE, 216 * MINUTE);
    }
}
