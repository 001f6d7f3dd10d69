//! The evidence around the impact, tied to the incidents: the metric series
//! of CSVs (each series' change-point near an incident becomes a `metric`
//! signal; without access logs, the periods in which metrics depart from
//! their baseline are the incidents) and the events of syslog and error logs
//! (folded into timeline entries, repeated lines counted once).

use rustc_hash::FxHashMap;

use crate::ingest::InputStats;
use crate::ingest::events::{Event, EventKind};
use crate::ingest::evidence::MetricSeries;
use crate::series::LineRef;
use crate::timefmt::Millis;

use super::changepoint::{self, Onset};
use super::departures;
use super::findings::{
    MetricMovement, Signal, TimelineEntry, TimelineFact, TimelineKind, line_source,
};
use super::stats::round4;
use super::{Cause, Incident, Severity};

/// Most log entries added to one incident's timeline: every alert and
/// change first, then events in time order. A postmortem timeline is read
/// by people; hundreds of rows hide the few that matter.
pub const MAX_LOG_ENTRIES: usize = 60;

/// One onset found in one series, with the series it belongs to.
pub struct MetricOnset<'a> {
    pub series: &'a MetricSeries,
    pub onset: Onset,
}

/// The onset of every metric series near `incident`, in the order of the
/// series.
pub fn onsets<'a>(metrics: &'a [MetricSeries], incident: &Incident) -> Vec<MetricOnset<'a>> {
    metrics
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

/// The path of the input a metric series came from.
fn input_path(inputs: &[InputStats], series: &MetricSeries) -> String {
    inputs
        .get(series.input as usize)
        .map(|i| i.path.clone())
        .unwrap_or_default()
}

/// One `metric` signal per onset, by onset time, each with whether it was
/// a gradual ramp.
pub fn metric_signals(inputs: &[InputStats], onsets: &[MetricOnset<'_>]) -> Vec<(Signal, bool)> {
    let mut found: Vec<(Signal, bool)> = onsets
        .iter()
        .map(|MetricOnset { series, onset }| {
            (
                Signal {
                    kind: "metric",
                    name: series.name.clone(),
                    source: input_path(inputs, series),
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

/// One timeline entry per onset: where the series left its baseline.
pub fn onset_entries(inputs: &[InputStats], onsets: &[MetricOnset<'_>]) -> Vec<TimelineEntry> {
    onsets
        .iter()
        .map(|MetricOnset { series, onset }| {
            let line = series.lines[onset.onset];
            let path = input_path(inputs, series);
            TimelineEntry {
                at: series.times[onset.onset],
                kind: TimelineKind::Event,
                fact: TimelineFact::MetricOnset(MetricMovement {
                    metric: series.name.clone(),
                    rising: onset.rising,
                    ramp: onset.ramp,
                    baseline: round4(onset.baseline),
                    peak: round4(series.values[onset.peak]),
                    peak_at: series.times[onset.peak],
                }),
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
/// series departs from its baseline, merged across series when less than
/// [`departures::INCIDENT_MERGE_GAP_MS`] apart.
pub fn metric_incidents(metrics: &[MetricSeries]) -> Vec<Incident> {
    let mut periods: Vec<(Millis, Millis, LineRef)> = Vec::new();
    for series in metrics {
        for (first, last) in departures::departures(&series.times, &series.values) {
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
            Some(last) if period.0 <= last.1 + departures::INCIDENT_MERGE_GAP_MS => {
                last.1 = last.1.max(period.1);
            }
            _ => merged.push(period),
        }
    }
    merged
        .into_iter()
        .map(|(start, end, line)| Incident {
            cause: Cause::MetricDeparture,
            start,
            end,
            start_line: (line.line > 0).then_some(line),
            end_line: None,
            first_bucket: 0,
            last_bucket: 0,
            severity: Severity::Degradation,
        })
        .collect()
}

/// Repeated messages look alike once their numbers are masked.
pub fn template(text: &str) -> String {
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
        EventKind::Action => TimelineKind::Action,
    }
}

/// One line as a timeline entry of its own.
pub fn change_row(inputs: &[InputStats], event: &Event) -> TimelineEntry {
    TimelineEntry {
        at: event.at,
        kind: timeline_kind(event.kind),
        fact: TimelineFact::Log {
            event: event.kind,
            rule: event.rule,
            host: event.host.clone(),
            text: event.display_text(),
        },
        source: line_source(inputs, event.line),
        count: event.count,
    }
}

/// Lines fold into one timeline entry when these agree: kind, rule, host,
/// program and the text with its numbers masked.
type GroupKey<'a> = (EventKind, &'a str, Option<&'a str>, Option<&'a str>, String);

/// The events in `[from, to]` as timeline entries, repeats folded, at most
/// [`MAX_LOG_ENTRIES`] (alerts and changes kept first); `detecting`, the
/// alert shown as the detection, is left out.
pub fn log_entries(
    inputs: &[InputStats],
    events: &[Event],
    (from, to): (Millis, Millis),
    detecting: Option<&Event>,
) -> Vec<TimelineEntry> {
    let mut groups: Vec<TimelineEntry> = Vec::new();
    let mut index_of: FxHashMap<GroupKey<'_>, usize> = FxHashMap::default();
    // Actions fold per person and host instead (`super::actions`).
    for event in events
        .iter()
        .filter(|e| e.at >= from && e.at <= to && e.kind != EventKind::Action)
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
                groups.push(TimelineEntry {
                    at: event.at,
                    kind: timeline_kind(event.kind),
                    fact: TimelineFact::Log {
                        event: event.kind,
                        rule: event.rule,
                        host: event.host.clone(),
                        text: event.display_text(),
                    },
                    source: line_source(inputs, event.line),
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

    fn event(at: Millis, kind: EventKind, text: &str, line: u64) -> Event {
        Event {
            at,
            last_at: at,
            kind,
            rule: "test rule",
            severity: None,
            host: Some("web01".to_string()),
            program: None,
            text: text.to_string(),
            line: LineRef { input: 0, line },
            count: 1,
        }
    }

    #[test]
    fn repeated_lines_fold_into_one_entry() {
        let inputs = vec![InputStats::new("syslog".to_string())];
        let events = vec![
            event(1_000, EventKind::Event, "worker 1 died", 10),
            event(2_000, EventKind::Event, "worker 2 died", 11),
            event(3_000, EventKind::Change, "deploy v2", 12),
            event(9_000, EventKind::Event, "worker 3 died", 13),
        ];
        let entries = log_entries(&inputs, &events, (0, 5_000), None);
        let got: Vec<(Millis, TimelineKind, u64, Option<&str>)> = entries
            .iter()
            .map(|e| (e.at, e.kind, e.count, e.source.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1_000, TimelineKind::Event, 2, Some("syslog:10")),
                (3_000, TimelineKind::Change, 1, Some("syslog:12")),
            ]
        );
        assert_eq!(
            entries[0].fact,
            TimelineFact::Log {
                event: EventKind::Event,
                rule: "test rule",
                host: Some("web01".to_string()),
                text: "worker 1 died".to_string(),
            }
        );
    }
}
