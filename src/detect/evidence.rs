//! The evidence around the impact, tied to the incidents: the metric series
//! of CSVs (each series' change-point near an incident becomes a `metric`
//! signal; without access logs, the periods in which metrics depart from
//! their baseline are the incidents). The events of syslog and error logs
//! are folded into timeline rows in [`super::timeline`].

use crate::ingest::InputStats;
use crate::ingest::evidence::MetricSeries;
use crate::series::LineRef;
use crate::timefmt::Millis;

use super::changepoint::{self, Onset};
use super::departures;
use super::findings::{MetricMovement, Signal, TimelineEntry, TimelineFact, TimelineKind};
use super::stats::round4;
use super::{Cause, Incident, Severity};

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
