//! The leads for the root cause of one incident, as [`Hint`] data, in the
//! order the report lists them: the metrics that moved, the log patterns
//! new at the onset, the last change before impact, the last change before the first metric moved, what the
//! severity suggests, the upstreams or hosts whose share moved or that took
//! the bad requests,
//! how the proxy says those upstreams' requests ended,
//! the 4xx bursts of single clients nearby, the path that took them (or,
//! for an incident found in metrics alone, that no access log was given).

use std::ops::RangeInclusive;

use crate::ingest::InputStats;
use rustc_hash::FxHashSet;

use crate::ingest::events::{Event, EventKind};
use crate::series::dims::{DimensionSeries, OTHER_LABEL};
use crate::series::paths::PathBuilder;
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::Incident;
use super::changes;
use super::client_bursts::ClientBurst;
use super::concentration::{
    dimension_concentration, path_concentration, path_share_shift, share_shift,
    termination_concentration,
};
use super::findings::{ChangeLead, Hint, MetricMovement, Signal, line_source};
use super::impact::Impact;
use super::patterns::LogPattern;
use super::timeline::TIMELINE_BEFORE_MS;

/// A metric that began to move at least this long before impact gets a hint
/// about the change before it; closer to the start, the change before the
/// impact is the same lead.
pub const LEAD_BEFORE_IMPACT_MS: i64 = 15 * MS_PER_MINUTE;

/// Most metric hints per incident.
pub const MAX_METRIC_HINTS: usize = 3;

/// How long before an incident's start a client's 4xx burst is still
/// named in its hints: the contract's timeline reaches back an hour.
pub const CLIENT_BURST_HINT_BEFORE_MS: i64 = 60 * MS_PER_MINUTE;

/// The hints every incident starts with: the first metrics that moved
/// (`metric_signals` by onset, each with whether it ramped) and the last
/// changes before impact and before the first metric moved.
pub fn evidence_hints(
    inputs: &[InputStats],
    events: &[Event],
    incident: &Incident,
    metric_signals: &[(Signal, bool)],
    log_patterns: &[LogPattern],
) -> Vec<Hint> {
    let mut hints: Vec<Hint> = metric_signals
        .iter()
        .take(MAX_METRIC_HINTS)
        .map(|(signal, ramp)| Hint::MetricMoved {
            movement: MetricMovement {
                metric: signal.name.clone(),
                rising: signal.peak >= signal.baseline,
                ramp: *ramp,
                baseline: signal.baseline,
                peak: signal.peak,
                peak_at: signal.peak_at,
            },
            onset: signal.onset,
            impact_start: incident.start,
            unit: signal.unit.clone(),
        })
        .collect();
    hints.extend(log_patterns.iter().map(|p| Hint::NewLogPattern {
        template: p.text.clone(),
        first_at: p.first_at,
        source: p.source.clone(),
        before: p.before,
        during: p.during,
    }));
    let affected = changes::affected_services(events, (incident.start, incident.end));
    hints.extend(last_change_before(
        inputs,
        events,
        &affected,
        ChangeLead::Impact,
        incident.start,
    ));
    if let Some((first, _)) = metric_signals.first()
        && first.onset <= incident.start - LEAD_BEFORE_IMPACT_MS
    {
        let lead = ChangeLead::MetricMoved {
            metric: first.name.clone(),
        };
        hints.extend(last_change_before(
            inputs,
            events,
            &affected,
            lead,
            first.onset,
        ));
    }
    hints
}

/// Whether the metric series `metric` is of machine `host`: the host is a
/// word of the series' name (`web02 memory_used_bytes`, `memory_used on
/// web02`, `node_memory_Active_bytes{instance="web02:9100"}`), compared
/// without case and, for names (not addresses), by their first DNS label
/// (`web02.example.com` is `web02`).
pub fn metric_is_of_host(metric: &str, host: &str) -> bool {
    let is_address = host.parse::<std::net::IpAddr>().is_ok();
    let short = |name: &str| -> String {
        let name = if is_address {
            name
        } else {
            name.split('.').next().unwrap_or(name)
        };
        name.to_ascii_lowercase()
    };
    let host_key = short(host);
    !host_key.is_empty()
        && metric
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .any(|word| !word.is_empty() && short(word) == host_key)
}

/// The last change in the hour before `reference`, as a lead: a restart or
/// reload of an affected service first, then deliberate changes, then any
/// ([`changes::CHANGE_RANKING`]); the first line of its step. For a metric
/// lead, when the metric names a machine that changes name too (web02's
/// memory, web02's deploy), only that machine's changes are leads.
fn last_change_before(
    inputs: &[InputStats],
    events: &[Event],
    affected: &FxHashSet<String>,
    lead: ChangeLead,
    reference: Millis,
) -> Option<Hint> {
    let in_window = |e: &Event| {
        e.kind == EventKind::Change && e.at <= reference && e.at >= reference - TIMELINE_BEFORE_MS
    };
    let metric_host_known = match &lead {
        ChangeLead::MetricMoved { metric } => events.iter().filter(|e| in_window(e)).any(|e| {
            e.host
                .as_deref()
                .is_some_and(|host| metric_is_of_host(metric, host))
        }),
        ChangeLead::Impact => false,
    };
    let eligible = |e: &Event| {
        in_window(e)
            && match (&lead, e.host.as_deref()) {
                (ChangeLead::MetricMoved { metric }, Some(host)) if metric_host_known => {
                    metric_is_of_host(metric, host)
                }
                (_, None) => !metric_host_known,
                _ => true,
            }
    };
    let index = changes::ranked_last_change(events, affected, eligible)?;
    let change = &events[index];
    Some(Hint::LastChangeBefore {
        lead,
        change_at: change.at,
        reference,
        change: change.display_text(),
        source: line_source(inputs, change.line).unwrap_or_default(),
    })
}

/// What the severity suggests, when any request went bad.
pub fn severity_hint(incident: &Incident, impact: &Impact) -> Option<Hint> {
    let bad = impact.requests_failed + impact.requests_slow;
    (bad > 0).then(|| Hint::Severity {
        severity: incident.severity,
        failed_share_pct: 100.0 * impact.requests_failed as f64 / bad as f64,
    })
}

/// Per upstream and host dimension, the value whose share moved against
/// its baseline share ([`share_shift`]); else the value that carried far
/// more of the bad requests than of the traffic over the incident's buckets
/// ([`dimension_concentration`]). One lead per dimension: a moved share
/// says more than a concentration, except when only the bad share moved
/// and the value is a minority, which the concentration already says in
/// fewer words.
pub fn concentration_hints(
    dimensions: &[DimensionSeries],
    buckets: RangeInclusive<usize>,
) -> Vec<Hint> {
    dimensions
        .iter()
        .filter_map(|series| {
            let concentration = dimension_concentration(series, buckets.clone());
            if let Some(shift) = share_shift(series, buckets.clone()) {
                let said_by_concentration = !shift.traffic_moved
                    && concentration
                        .as_ref()
                        .is_some_and(|(label, ..)| *label == shift.label);
                if !said_by_concentration {
                    return Some(Hint::ShareShift {
                        dimension: series.kind.name(),
                        shift,
                    });
                }
            }
            let (label, traffic_share, bad_share) = concentration?;
            Some(Hint::Concentration {
                dimension: series.kind.name(),
                label,
                traffic_share,
                bad_share,
                values_seen: series
                    .labels
                    .iter()
                    .filter(|l| l.as_str() != OTHER_LABEL)
                    .count(),
            })
        })
        .collect()
}

/// How the failed requests of the upstreams that carried them ended, when
/// the proxy's log says (HAProxy's termination state, Envoy's flags).
pub fn termination_hints(
    dimensions: &[DimensionSeries],
    buckets: RangeInclusive<usize>,
) -> Vec<Hint> {
    dimensions
        .iter()
        .flat_map(|series| {
            termination_concentration(series, buckets.clone())
                .into_iter()
                .map(|found| Hint::Termination {
                    dimension: series.kind.name(),
                    label: found.label,
                    cause: found.cause,
                    code: found.code,
                    share: found.share,
                    failed: found.failed,
                })
        })
        .collect()
}

/// Each 4xx burst from one client from [`CLIENT_BURST_HINT_BEFORE_MS`]
/// before the incident to its end: a wall of 404s on the same graph as the
/// 5xx is the first thing a responder asks about.
pub fn client_burst_hints(bursts: &[ClientBurst], incident: &Incident) -> Vec<Hint> {
    let (from, to) = (incident.start - CLIENT_BURST_HINT_BEFORE_MS, incident.end);
    bursts
        .iter()
        .filter(|burst| burst.overlaps(from, to))
        .cloned()
        .map(Hint::ClientBurst)
        .collect()
}

/// The path that took most of the incident's bad requests while carrying
/// a minority of its traffic ([`path_concentration`]), else the path whose
/// share of the bad requests rose against its share of the requests before
/// ([`path_share_shift`]), if one did.
pub fn path_hint(paths: &PathBuilder, incident: &Incident) -> Option<Hint> {
    path_concentration(paths, incident.start, incident.end)
        .map(Hint::PathConcentration)
        .or_else(|| path_share_shift(paths, incident.start, incident.end).map(Hint::PathShareShift))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Cause, Severity};
    use crate::series::LineRef;

    const MINUTE: i64 = MS_PER_MINUTE;

    fn change(at: Millis, text: &str, line: u64) -> Event {
        Event {
            at,
            last_at: at,
            kind: EventKind::Change,
            rule: "deploy",
            severity: None,
            host: None,
            program: None,
            text: text.to_string(),
            line: LineRef { input: 0, line },
            count: 1,
        }
    }

    fn metric(name: &str, onset: Millis) -> (Signal, bool) {
        (
            Signal {
                kind: "metric",
                name: name.to_string(),
                source: "metrics.csv".to_string(),
                onset,
                peak_at: onset + 10 * MINUTE,
                peak: 90.0,
                baseline: 40.0,
                unit: "%".to_string(),
            },
            true,
        )
    }

    fn incident() -> Incident {
        Incident {
            cause: Cause::BadRequests,
            start: 100 * MINUTE,
            end: 120 * MINUTE,
            start_line: None,
            end_line: None,
            first_bucket: 100,
            last_bucket: 120,
            severity: Severity::Degradation,
        }
    }

    /// The hint's variant, and what it measures from for change hints.
    fn shape(hint: &Hint) -> String {
        match hint {
            Hint::MetricMoved { movement, .. } => format!("metric {}", movement.metric),
            Hint::LastChangeBefore {
                lead: ChangeLead::Impact,
                change,
                ..
            } => format!("change before impact: {change}"),
            Hint::LastChangeBefore {
                lead: ChangeLead::MetricMoved { metric },
                change,
                ..
            } => format!("change before {metric}: {change}"),
            other => format!("{other:?}"),
        }
    }

    /// A name, the metric signals with their ramp flag, the hints expected.
    type Case = (&'static str, Vec<(Signal, bool)>, Vec<&'static str>);

    #[test]
    fn evidence_hints_come_in_the_report_order() {
        let inputs = vec![InputStats::new("syslog".to_string())];
        let events = vec![
            change(40 * MINUTE, "deploy v1", 1),
            change(90 * MINUTE, "config reload", 2),
            change(130 * MINUTE, "after the start", 3),
        ];
        let cases: [Case; 3] = [
            (
                "no metric: the change before impact only",
                vec![],
                vec!["change before impact: config reload"],
            ),
            (
                "a metric well before impact: its own change lead last",
                vec![metric("memory", 60 * MINUTE), metric("cpu", 95 * MINUTE)],
                vec![
                    "metric memory",
                    "metric cpu",
                    "change before impact: config reload",
                    "change before memory: deploy v1",
                ],
            ),
            (
                "a metric close to impact: no second change lead",
                vec![metric("cpu", 95 * MINUTE)],
                vec!["metric cpu", "change before impact: config reload"],
            ),
        ];
        for (name, signals, expected) in cases {
            let hints = evidence_hints(&inputs, &events, &incident(), &signals, &[]);
            let got: Vec<String> = hints.iter().map(shape).collect();
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_metric_of_one_machine_is_paired_with_that_machine_s_change() {
        let inputs = vec![InputStats::new("syslog".to_string())];
        let on = |host: Option<&str>, at: i64, text: &str, line: u64| Event {
            host: host.map(str::to_string),
            ..change(at * MINUTE, text, line)
        };
        let events = vec![
            on(Some("web02.example.com"), 30, "deploy v2 on web02", 1),
            on(Some("web01"), 50, "deploy v2 on web01", 2),
            on(None, 55, "feature flag on", 3),
        ];
        // (name, metric series name, the change paired with it)
        let cases = [
            (
                "host in a Prometheus label",
                r#"node_memory_Active_bytes{instance="web02:9100"}"#,
                "deploy v2 on web02",
            ),
            (
                "host as the first word",
                "web02 memory_used_bytes",
                "deploy v2 on web02",
            ),
            (
                "host after 'on'",
                "memory_used on WEB01",
                "deploy v2 on web01",
            ),
            (
                "no machine named: the last change",
                "memory_used_bytes",
                "feature flag on",
            ),
            (
                "a machine with no change: the last change",
                "web09 memory_used_bytes",
                "feature flag on",
            ),
        ];
        for (name, series, expected) in cases {
            let hints = evidence_hints(
                &inputs,
                &events,
                &incident(),
                &[metric(series, 60 * MINUTE)],
                &[],
            );
            let paired: Vec<String> = hints
                .iter()
                .filter_map(|hint| match hint {
                    Hint::LastChangeBefore {
                        lead: ChangeLead::MetricMoved { .. },
                        change,
                        ..
                    } => Some(change.clone()),
                    _ => None,
                })
                .collect();
            assert_eq!(paired, [expected], "{name}");
        }
        assert!(
            !metric_is_of_host("web021 memory", "web02"),
            "whole words only"
        );
        assert!(metric_is_of_host("db 10.0.0.5 load", "10.0.0.5"));
        assert!(!metric_is_of_host("db 10.0.0.6 load", "10.0.0.5"));
    }

    #[test]
    fn severity_hint_needs_bad_requests() {
        let cases = [
            ("none bad", 0, 0, None),
            ("a quarter failed", 25, 75, Some(25.0)),
            ("all failed", 10, 0, Some(100.0)),
        ];
        for (name, failed, slow, share) in cases {
            let impact = Impact {
                requests_failed: failed,
                requests_slow: slow,
                ..Impact::default()
            };
            let got = severity_hint(&incident(), &impact).map(|hint| match hint {
                Hint::Severity {
                    failed_share_pct, ..
                } => failed_share_pct,
                _ => f64::NAN,
            });
            assert_eq!(got, share, "{name}");
        }
    }
}
