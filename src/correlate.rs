//! The evidence around the impact: ties the events of syslog and error logs
//! and the metric series of CSVs to the incidents found in the access logs
//! (or, without access logs, finds the incidents in the metrics).
//!
//! - **Detection**: the first alert line at or after an incident's start
//!   (and before the next incident, at most [`TIMELINE_AFTER_MS`] after its
//!   end) replaces the burn-rate rule, with source `log`; `--detected-at`
//!   still wins (applied after this by [`crate::analysis`]).
//! - **Signals and hints**: each metric series whose change-point
//!   ([`crate::detect::changepoint`]) lies near the incident becomes a
//!   `metric` signal and a hint ("memory_used rose steadily from 13:20, 40 min
//!   before impact"); the last change before impact becomes a hint too.
//! - **Timeline**: alerts, recoveries, changes and events from
//!   [`TIMELINE_BEFORE_MS`] before the earlier of the start and the first
//!   metric onset to [`TIMELINE_AFTER_MS`] after the end, repeated lines
//!   folded into one entry with a count, plus each metric's onset.

use rustc_hash::FxHashMap;

use crate::analysis::{
    Analysis, Detected, DetectionSource, IncidentReport, Signal, TimelineEntry, TimelineKind,
};
use crate::detect::changepoint::{self, Onset};
use crate::detect::impact::Impact;
use crate::detect::{Cause, Incident, Severity};
use crate::ingest::events::{Event, EventKind};
use crate::ingest::evidence::MetricSeries;
use crate::series::LineRef;
use crate::timefmt::{MS_PER_HOUR, MS_PER_MINUTE, Millis, human_duration, human_time};

/// The timeline reaches back this far before the earlier of the start and
/// the first metric onset (the contract: at least one hour).
pub const TIMELINE_BEFORE_MS: i64 = MS_PER_HOUR;

/// The timeline reaches this far past the end (the contract: at least 30 min).
pub const TIMELINE_AFTER_MS: i64 = 30 * MS_PER_MINUTE;

/// Most log entries added to one incident's timeline: every alert and
/// change first, then events in time order. A postmortem timeline is read
/// by people; hundreds of rows hide the few that matter.
pub const MAX_LOG_ENTRIES: usize = 60;

/// A metric that began to move at least this long before impact gets a hint
/// about the change before it; closer to the start, the change before the
/// impact is the same lead.
pub const LEAD_BEFORE_IMPACT_MS: i64 = 15 * MS_PER_MINUTE;

/// Most metric hints per incident.
pub const MAX_METRIC_HINTS: usize = 3;

/// Steps 1 (metric-only incidents, signals, hints, detection), run before the
/// `--detected-at` override and the timelines.
pub fn before_timelines(analysis: &mut Analysis) {
    if analysis.series.buckets.is_empty() && !analysis.metrics.is_empty() {
        analysis.incidents = metric_incidents(analysis);
    }
    let starts: Vec<Millis> = analysis
        .incidents
        .iter()
        .map(|r| r.incident.start)
        .collect();
    for index in 0..analysis.incidents.len() {
        let next_start = starts.get(index + 1).copied();
        let signals = metric_signals(analysis, &analysis.incidents[index].incident);
        let report = &analysis.incidents[index];
        let mut hints = metric_hints(analysis, report, &signals);
        hints.extend(change_hint(analysis, &report.incident));
        if let Some((first, _)) = signals.first() {
            hints.extend(change_before_onset_hint(analysis, first, &report.incident));
        }
        let detected = alert_detection(&analysis.events, &report.incident, next_start);
        let report = &mut analysis.incidents[index];
        report
            .signals
            .extend(signals.into_iter().map(|(signal, _)| signal));
        report.hints.splice(0..0, hints);
        if let Some(detected) = detected {
            report.detected = Some(detected);
        }
    }
}

/// Step 2: the log and metric entries of every timeline (and the whole
/// timeline of metric-only incidents).
pub fn extend_timelines(analysis: &mut Analysis) {
    for index in 0..analysis.incidents.len() {
        let report = &analysis.incidents[index];
        let mut entries = if report.impact_measured {
            report.timeline.clone()
        } else {
            metric_incident_entries(analysis, report)
        };
        let detecting = detecting_alert(&analysis.events, report);
        if let (Some(alert), Some(entry)) = (
            detecting,
            entries
                .iter_mut()
                .find(|e| e.kind == TimelineKind::Detected),
        ) {
            entry.source = analysis.line_source(alert.line);
        }
        entries.extend(log_entries(analysis, report, detecting));
        entries.extend(onset_entries(analysis, report));
        entries.sort_by_key(|e| (e.at, e.kind));
        analysis.incidents[index].timeline = entries;
    }
}

/// The alert that detected the incident, when detection came from the logs.
fn detecting_alert<'a>(events: &'a [Event], report: &IncidentReport) -> Option<&'a Event> {
    let detected = report.detected.as_ref()?;
    if detected.source != DetectionSource::Log {
        return None;
    }
    events
        .iter()
        .find(|e| e.kind == EventKind::Alert && e.at == detected.at)
}

fn alert_detection(
    events: &[Event],
    incident: &Incident,
    next_start: Option<Millis>,
) -> Option<Detected> {
    let limit = (incident.end + TIMELINE_AFTER_MS).min(next_start.unwrap_or(Millis::MAX));
    events
        .iter()
        .find(|e| e.kind == EventKind::Alert && e.at >= incident.start && e.at < limit)
        .map(|alert| Detected {
            at: alert.at,
            source: DetectionSource::Log,
            evidence: alert.display_text(),
        })
}

/// The window of log evidence of an incident.
fn window(report: &IncidentReport) -> (Millis, Millis) {
    let earliest = report
        .signals
        .iter()
        .filter(|s| s.kind == "metric")
        .map(|s| s.onset)
        .min()
        .unwrap_or(report.incident.start)
        .min(report.incident.start);
    (
        earliest - TIMELINE_BEFORE_MS,
        report.incident.end + TIMELINE_AFTER_MS,
    )
}

/// Repeated messages look alike once their numbers are masked.
fn template(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

fn timeline_kind(kind: EventKind) -> TimelineKind {
    match kind {
        EventKind::Alert | EventKind::Recovery => TimelineKind::Alert,
        EventKind::Change => TimelineKind::Change,
        EventKind::Event => TimelineKind::Event,
    }
}

/// Lines fold into one timeline entry when these agree: kind, rule, host,
/// program and the text with its numbers masked.
type GroupKey<'a> = (EventKind, &'a str, Option<&'a str>, Option<&'a str>, String);

fn log_entries(
    analysis: &Analysis,
    report: &IncidentReport,
    detecting: Option<&Event>,
) -> Vec<TimelineEntry> {
    let (from, to) = window(report);
    let mut groups: Vec<TimelineEntry> = Vec::new();
    let mut index_of: FxHashMap<GroupKey<'_>, usize> = FxHashMap::default();
    for event in analysis
        .events
        .iter()
        .filter(|e| e.at >= from && e.at <= to)
    {
        if detecting.is_some_and(|d| std::ptr::eq(d, event)) {
            continue;
        }
        let key = (
            event.kind,
            event.rule,
            event.host.as_deref(),
            event.program.as_deref(),
            template(&event.text),
        );
        match index_of.get(&key) {
            Some(&at) => groups[at].count += event.count,
            None => {
                index_of.insert(key, groups.len());
                let host = event
                    .host
                    .as_ref()
                    .map(|h| format!(" on {h}"))
                    .unwrap_or_default();
                let label = match event.kind {
                    EventKind::Recovery => "Recovery",
                    EventKind::Alert => "Alert",
                    EventKind::Change => "Change",
                    EventKind::Event => "Event",
                };
                groups.push(TimelineEntry {
                    at: event.at,
                    kind: timeline_kind(event.kind),
                    text: format!("{label}{host} ({}): {}", event.rule, event.display_text()),
                    source: analysis.line_source(event.line),
                    count: event.count,
                });
            }
        }
    }
    if groups.len() > MAX_LOG_ENTRIES {
        let mut ranked: Vec<(usize, TimelineEntry)> = groups.into_iter().enumerate().collect();
        ranked.sort_by_key(|(order, e)| (e.kind == TimelineKind::Event, *order));
        ranked.truncate(MAX_LOG_ENTRIES);
        ranked.sort_by_key(|(order, _)| *order);
        groups = ranked.into_iter().map(|(_, e)| e).collect();
    }
    groups
}

/// One onset found in one series, with the series it belongs to.
struct MetricOnset<'a> {
    series: &'a MetricSeries,
    onset: Onset,
}

fn onsets<'a>(analysis: &'a Analysis, incident: &Incident) -> Vec<MetricOnset<'a>> {
    analysis
        .metrics
        .iter()
        .filter_map(|series| {
            let onset = changepoint::find_onset(
                &series.times,
                &series.values,
                incident.start,
                incident.end,
            )?;
            Some(MetricOnset { series, onset })
        })
        .collect()
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn metric_signals(analysis: &Analysis, incident: &Incident) -> Vec<(Signal, bool)> {
    let mut found: Vec<(Signal, bool)> = onsets(analysis, incident)
        .into_iter()
        .map(|MetricOnset { series, onset }| {
            (
                Signal {
                    kind: "metric",
                    name: series.name.clone(),
                    source: analysis
                        .inputs
                        .get(series.input as usize)
                        .map(|i| i.path.clone())
                        .unwrap_or_default(),
                    onset: series.times[onset.onset],
                    peak_at: series.times[onset.peak],
                    peak: round4(series.values[onset.peak]),
                    baseline: round4(onset.baseline),
                    unit: series.unit.clone(),
                },
                onset.ramp,
            )
        })
        .collect();
    found.sort_by_key(|(s, _)| s.onset);
    found
}

fn metric_hints(
    analysis: &Analysis,
    report: &IncidentReport,
    signals: &[(Signal, bool)],
) -> Vec<String> {
    let start = report.incident.start;
    let zone = &analysis.zone;
    signals
        .iter()
        .take(MAX_METRIC_HINTS)
        .map(|(signal, ramp)| {
            let rising = signal.peak >= signal.baseline;
            let how = match (rising, ramp) {
                (true, true) => "rose steadily",
                (true, false) => "jumped",
                (false, true) => "fell steadily",
                (false, false) => "dropped",
            };
            let relative = if signal.onset < start {
                format!("{} before impact", human_duration(start - signal.onset))
            } else if signal.onset == start {
                "as impact began".to_string()
            } else {
                format!(
                    "{} after impact began",
                    human_duration(signal.onset - start)
                )
            };
            let unit = if signal.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", signal.unit)
            };
            format!(
                "{} {how} from {}, {relative} (baseline {}{unit}, {}{unit} at {}): alert on it",
                signal.name,
                human_time(signal.onset, zone),
                signal.baseline,
                signal.peak,
                human_time(signal.peak_at, zone)
            )
        })
        .collect()
}

/// The last change in the hour before impact, as a lead.
fn change_hint(analysis: &Analysis, incident: &Incident) -> Option<String> {
    let change = analysis
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Change)
        .filter(|e| e.at <= incident.start && e.at >= incident.start - TIMELINE_BEFORE_MS)
        .max_by_key(|e| (e.at, std::cmp::Reverse(e.line)))?;
    Some(format!(
        "the last change before impact was at {}, {} before it: {} ({})",
        human_time(change.at, &analysis.zone),
        human_duration(incident.start - change.at),
        change.display_text(),
        analysis.line_source(change.line).unwrap_or_default()
    ))
}

/// The last change in the hour before the first metric began to move, when
/// that was before the impact: the change that may have started a slow leak.
fn change_before_onset_hint(
    analysis: &Analysis,
    signal: &Signal,
    incident: &Incident,
) -> Option<String> {
    if signal.onset > incident.start - LEAD_BEFORE_IMPACT_MS {
        return None;
    }
    let change = analysis
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Change)
        .filter(|e| e.at <= signal.onset && e.at >= signal.onset - TIMELINE_BEFORE_MS)
        .max_by_key(|e| (e.at, std::cmp::Reverse(e.line)))?;
    Some(format!(
        "the last change before {} began to move was at {}, {} before it: {} ({})",
        signal.name,
        human_time(change.at, &analysis.zone),
        human_duration(signal.onset - change.at),
        change.display_text(),
        analysis.line_source(change.line).unwrap_or_default()
    ))
}

fn onset_entries(analysis: &Analysis, report: &IncidentReport) -> Vec<TimelineEntry> {
    let incident = &report.incident;
    onsets(analysis, incident)
        .into_iter()
        .map(|MetricOnset { series, onset }| {
            let verb = match (onset.rising, onset.ramp) {
                (true, true) => "starts rising",
                (true, false) => "jumps",
                (false, true) => "starts falling",
                (false, false) => "drops",
            };
            let line = series.lines[onset.onset];
            let path = analysis
                .inputs
                .get(series.input as usize)
                .map(|i| i.path.clone())
                .unwrap_or_default();
            TimelineEntry {
                at: series.times[onset.onset],
                kind: TimelineKind::Event,
                text: format!(
                    "Metric {} {verb} from its baseline {} (to {} at {})",
                    series.name,
                    round4(onset.baseline),
                    round4(series.values[onset.peak]),
                    human_time(series.times[onset.peak], &analysis.zone)
                ),
                source: Some(if line > 0 {
                    format!("{path}:{line}")
                } else {
                    path
                }),
                count: 1,
            }
        })
        .collect()
}

/// Incidents of a run without access logs: periods in which any metric
/// series departs from its baseline, merged across series.
fn metric_incidents(analysis: &Analysis) -> Vec<IncidentReport> {
    let mut periods: Vec<(Millis, Millis, LineRef)> = Vec::new();
    for series in &analysis.metrics {
        for (first, last) in changepoint::departures(&series.times, &series.values) {
            periods.push((
                series.times[first],
                series.times[last],
                LineRef {
                    input: series.input,
                    line: series.lines[first],
                },
            ));
        }
    }
    periods.sort_by_key(|p| (p.0, p.2));
    let mut merged: Vec<(Millis, Millis, LineRef)> = Vec::new();
    for period in periods {
        match merged.last_mut() {
            Some(last) if period.0 <= last.1 + changepoint::DEPARTURE_MERGE_GAP_MS => {
                last.1 = last.1.max(period.1);
            }
            _ => merged.push(period),
        }
    }
    merged
        .into_iter()
        .map(|(start, end, line)| IncidentReport {
            incident: Incident {
                cause: Cause::MetricDeparture,
                start,
                end,
                start_line: (line.line > 0).then_some(line),
                end_line: None,
                first_bucket: 0,
                last_bucket: 0,
                severity: Severity::Degradation,
            },
            impact: Impact::default(),
            impact_measured: false,
            detected: None,
            signals: Vec::new(),
            timeline: Vec::new(),
            hints: vec![
                "no access log was given: the users and requests hit are unknown; add the access logs of the same period to measure them".to_string(),
            ],
            peak_bad_rate: 0.0,
        })
        .collect()
}

/// Start, end and detection of an incident found in the metrics alone.
fn metric_incident_entries(analysis: &Analysis, report: &IncidentReport) -> Vec<TimelineEntry> {
    let incident = &report.incident;
    let first_metric = report
        .signals
        .iter()
        .find(|s| s.kind == "metric")
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "a metric".to_string());
    let mut entries = vec![
        TimelineEntry {
            at: incident.start,
            kind: TimelineKind::ImpactStart,
            text: format!("Impact starts: {first_metric} departs far from its baseline"),
            source: incident.start_line.and_then(|l| analysis.line_source(l)),
            count: 1,
        },
        TimelineEntry {
            at: incident.end,
            kind: TimelineKind::ImpactEnd,
            text: "Impact ends: the last point far from the baseline".to_string(),
            source: None,
            count: 1,
        },
    ];
    if let Some(detected) = &report.detected {
        entries.push(TimelineEntry {
            at: detected.at,
            kind: TimelineKind::Detected,
            text: format!(
                "Detected ({}): {}",
                detected.source.name(),
                detected.evidence
            ),
            source: None,
            count: 1,
        });
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_mask_numbers_only() {
        let cases = [
            (
                "pids",
                "Killed process 4242 (java)",
                "Killed process # (java)",
            ),
            (
                "addresses",
                "client: 10.0.0.9, server: shop",
                "client: #.#.#.#, server: shop",
            ),
            (
                "no numbers",
                "Reloading nginx.service.",
                "Reloading nginx.service.",
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(template(text), expected, "{name}");
        }
    }
}
