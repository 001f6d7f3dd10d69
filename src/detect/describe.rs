//! From the finished series and the evidence beside it to the [`Findings`],
//! in one pass and in order: baseline, incidents (bad requests, traffic
//! drops, or without access logs the metrics' departures), then for each
//! incident its impact, signals, detection, hints and timeline.

use crate::config::UserKey;
use crate::ingest::InputStats;
use crate::ingest::events::Event;
use crate::ingest::evidence::MetricSeries;
use crate::series::clients::ClientErrors;
use crate::series::dims::DimensionSeries;
use crate::series::paths::PathBuilder;
use crate::series::{Bucket, LatencyHistogram, SeriesSet};
use crate::timefmt::{Millis, Zone};

use super::baseline::{self, BaselineSource, BucketCounts};
use super::client_bursts::{self, ClientBurst};
use super::evidence::{self, MetricOnset};
use super::findings::{
    BaselineSummary, Detected, Finding, Findings, Hint, Signal, TimelineEntry, access_source,
};
use super::impact;
use super::patterns::{self, LogPattern};
use super::stats::round4;
use super::templates::Templates;
use super::{
    Cause, Incident, Severity, actions, anomaly, changes, detection, findings, first_host, hints,
    incident, resolution, runs, timeline, traffic,
};

/// What detect reads: the finished series and what ingest gathered beside it.
pub struct Observations {
    pub inputs: Vec<InputStats>,
    /// The zone times are shown in.
    pub zone: Zone,
    pub series: SeriesSet,
    /// Per-upstream / per-host counts aligned with `series`.
    pub dimensions: Vec<DimensionSeries>,
    pub events: Vec<Event>,
    pub metrics: Vec<MetricSeries>,
    /// Per-bucket summaries of who sent the 4xx.
    pub clients: ClientErrors,
    /// Which paths the (bad) requests went to, per bucket.
    pub paths: PathBuilder,
}

/// The settings detection follows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectOptions {
    /// `--slow`; else derived from the baseline's p99.
    pub slow_threshold_us: Option<u64>,
    pub user_key: UserKey,
    pub slo_percent: f64,
    /// `--detected-at`, resolved in the logs' zone.
    pub detected_at: Option<Millis>,
}

/// The series of the run and what normal looked like, for the parts of
/// detect that measure an incident against them.
pub struct Context<'a> {
    pub inputs: &'a [InputStats],
    pub series: &'a SeriesSet,
    pub counts: &'a [BucketCounts],
    pub baseline: &'a BaselineSummary,
    /// The slow threshold of the run (microseconds).
    pub threshold_us: u64,
}

/// Fewest requests for a bucket to be a peak: a bucket with two requests,
/// both failing, is not the worst moment of an outage.
const MIN_PEAK_REQUESTS: u64 = 10;

/// Everything detect finds in `observed`.
pub fn find(observed: Observations, options: &DetectOptions) -> Findings {
    let Observations {
        inputs,
        zone,
        series,
        dimensions,
        events,
        metrics,
        clients,
        paths,
    } = observed;
    let client_bursts = client_bursts::bursts(&clients);
    let disturbed = baseline::screen_disturbed(&series);
    let p99 = baseline::baseline_p99_us(&series, &disturbed);
    let threshold = baseline::slow_threshold_us(options.slow_threshold_us, p99);
    let counts = baseline::bucket_counts(&series, threshold);
    let learning = baseline::learning_counts(&series, &counts, threshold);
    let (bad_rate, baseline_source) = baseline::reference_or_absolute(
        baseline::baseline_bad_rate(&learning),
        options.slo_percent,
    );
    let channels =
        anomaly::channel_states(&counts, &learning, series.bucket_ms, options.slo_percent);
    let anomalous: Vec<bool> = (0..counts.len())
        .map(|i| channels.iter().any(|c| c.anomalous[i]))
        .collect();
    let baseline = summarize_baseline(&series, &counts, &anomalous, bad_rate, baseline_source);
    let metrics_only = series.buckets.is_empty() && !metrics.is_empty();
    let found = if metrics_only {
        evidence::metric_incidents(&metrics)
    } else {
        let mut found = incident::find_incidents(&series, &counts, &channels, threshold);
        found.extend(traffic::drop_incidents(&series, &counts, &found));
        found.sort_by_key(|i| i.start);
        found
    };
    let starts: Vec<Millis> = found.iter().map(|i| i.start).collect();
    let cx = Context {
        inputs: &inputs,
        series: &series,
        counts: &counts,
        baseline: &baseline,
        threshold_us: threshold,
    };
    // Once per run, once per distinct message: every incident's timeline,
    // evidence and log patterns read the same ids.
    let templates = Templates::mine(&events);
    let around = Around {
        events: &events,
        templates: &templates,
        metrics: &metrics,
        dimensions: &dimensions,
        client_bursts: &client_bursts,
        paths: &paths,
    };
    let incidents: Vec<Finding> = found
        .into_iter()
        .enumerate()
        .map(|(index, incident)| {
            let next_start = starts.get(index + 1).copied();
            if metrics_only {
                describe_metric_incident(&cx, &around, incident, next_start, options)
            } else {
                describe_incident(&cx, &around, incident, next_start, threshold, options)
            }
        })
        .collect();
    Findings {
        inputs,
        zone,
        bucket_ms: series.bucket_ms,
        slow_threshold_us: threshold,
        user_key: options.user_key,
        series,
        counts,
        baseline,
        incidents,
        dimensions,
        events,
        metrics,
        client_bursts,
        bucket_widened: None,
    }
}

/// The evidence beside the access-log series.
struct Around<'a> {
    events: &'a [Event],
    templates: &'a Templates,
    metrics: &'a [MetricSeries],
    dimensions: &'a [DimensionSeries],
    client_bursts: &'a [ClientBurst],
    paths: &'a PathBuilder,
}

/// An incident of bad requests or a traffic drop, measured in the series.
fn describe_incident(
    cx: &Context<'_>,
    around: &Around<'_>,
    mut incident: Incident,
    next_start: Option<Millis>,
    threshold_us: u64,
    options: &DetectOptions,
) -> Finding {
    let series = cx.series;
    let counts = &cx.counts[incident.first_bucket..=incident.last_bucket];
    let measure = match incident.cause {
        Cause::TrafficDrop { .. } => impact::measure_drop,
        Cause::BadRequests | Cause::MetricDeparture => impact::measure,
    };
    let mut impact = measure(series, incident.start, incident.end, threshold_us);
    match incident.cause {
        Cause::TrafficDrop { .. } => {
            impact.users_missing = traffic::users_missing(series, &incident, impact.users_active);
        }
        Cause::BadRequests => {
            // Judged on the requests inside [start, end], not on whole
            // buckets, whose edges hold healthy requests from before and after.
            let inside = BucketCounts {
                requests: impact.requests_total,
                failed: impact.requests_failed,
                slow: impact.requests_slow,
            };
            incident.severity = incident::severity(&[inside], cx.baseline.failed_rate);
        }
        Cause::MetricDeparture => {}
    }
    let busiest = counts.iter().map(|c| c.requests).max().unwrap_or(0);
    let peak_offset = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.requests >= MIN_PEAK_REQUESTS.min(busiest))
        .max_by(|(_, a), (_, b)| a.bad_rate().total_cmp(&b.bad_rate()))
        .map_or(0, |(offset, _)| offset);
    let peak_bad_rate = cx.counts[incident.first_bucket + peak_offset].bad_rate();
    let alert = detection::first_alert(around.events, &incident, next_start);
    let detected = detection::decide(options.detected_at, alert, || {
        rule_detection(cx, &incident, options.slo_percent, threshold_us)
    });
    let onsets = evidence::onsets(around.metrics, &incident);
    let metric_signals = evidence::metric_signals(cx.inputs, &onsets);
    let log_patterns =
        patterns::new_patterns(cx.inputs, around.events, around.templates, &incident);
    let mut hints = hints::evidence_hints(
        cx.inputs,
        around.events,
        &incident,
        &metric_signals,
        &log_patterns,
    );
    hints.extend(hints::severity_hint(&incident, &impact));
    hints.extend(hints::concentration_hints(
        around.dimensions,
        incident.first_bucket..=incident.last_bucket,
    ));
    hints.extend(hints::termination_hints(
        around.dimensions,
        incident.first_bucket..=incident.last_bucket,
    ));
    hints.extend(hints::client_burst_hints(around.client_bursts, &incident));
    hints.extend(hints::path_hint(around.paths, &incident));
    let mut signals = series_signals(cx, &incident, counts, threshold_us);
    signals.extend(metric_signals.into_iter().map(|(signal, _)| signal));
    signals.extend(log_patterns.iter().map(LogPattern::signal));
    let started_first_on = first_host::started_first_on(around.dimensions, &incident);
    let own = timeline::request_entries(cx, &incident, &impact, detected.as_ref());
    let (timeline, evidence, out_of_memory_count, resolution) = full_timeline(
        cx,
        around,
        &incident,
        own,
        &detected,
        (&signals, &onsets, &log_patterns),
        &hints,
    );
    Finding {
        incident,
        impact,
        impact_measured: true,
        requests_exact: true,
        detected,
        signals,
        timeline,
        evidence,
        out_of_memory_count,
        hints,
        resolution,
        peak_bad_rate,
        started_first_on,
    }
}

/// The rule that would have fired: the traffic rule for a drop, the
/// burn-rate rule for bad requests (replayed from the start to the end of
/// the series, each bad request counted when its line was written).
fn rule_detection(
    cx: &Context<'_>,
    incident: &Incident,
    slo_percent: f64,
    threshold_us: u64,
) -> Option<Detected> {
    let series = cx.series;
    match incident.cause {
        Cause::TrafficDrop {
            expected_per_bucket,
            ..
        } => detection::traffic_rule_detection(series, incident, expected_per_bucket),
        Cause::BadRequests | Cause::MetricDeparture => detection::burn_rate_detection(
            &detection::completion_counts(series, cx.counts, threshold_us),
            series,
            slo_percent,
            detection::History::from_counts(cx.counts, cx.baseline.bad_rate),
            (incident.start, series.bucket_start(series.buckets.len())),
        ),
    }
}

/// An incident found in the metrics alone: no request to count.
fn describe_metric_incident(
    cx: &Context<'_>,
    around: &Around<'_>,
    incident: Incident,
    next_start: Option<Millis>,
    options: &DetectOptions,
) -> Finding {
    let alert = detection::first_alert(around.events, &incident, next_start);
    let detected = detection::decide(options.detected_at, alert, || None);
    let onsets = evidence::onsets(around.metrics, &incident);
    let metric_signals = evidence::metric_signals(cx.inputs, &onsets);
    let log_patterns =
        patterns::new_patterns(cx.inputs, around.events, around.templates, &incident);
    let mut hints = hints::evidence_hints(
        cx.inputs,
        around.events,
        &incident,
        &metric_signals,
        &log_patterns,
    );
    hints.push(Hint::NoAccessLog);
    let mut signals: Vec<Signal> = metric_signals.into_iter().map(|(s, _)| s).collect();
    let first_metric = signals.first().map(|s| s.name.clone());
    signals.extend(log_patterns.iter().map(LogPattern::signal));
    let own =
        timeline::metric_incident_entries(cx.inputs, &incident, first_metric, detected.as_ref());
    let (timeline, evidence, out_of_memory_count, resolution) = full_timeline(
        cx,
        around,
        &incident,
        own,
        &detected,
        (&signals, &onsets, &log_patterns),
        &hints,
    );
    Finding {
        incident,
        impact: impact::Impact::default(),
        impact_measured: false,
        requests_exact: true,
        detected,
        signals,
        timeline,
        evidence,
        out_of_memory_count,
        hints,
        resolution,
        peak_bad_rate: 0.0,
        started_first_on: None,
    }
}

/// The change that most likely ended the impact.
fn find_resolution(
    cx: &Context<'_>,
    around: &Around<'_>,
    incident: &Incident,
) -> Option<resolution::Resolution> {
    let affected = changes::affected_services(around.events, (incident.start, incident.end));
    resolution::find(cx.inputs, around.events, incident, &affected)
}

/// The timeline, the evidence list around the start, the out-of-memory
/// count and the resolution of one incident.
type TimelineParts = (
    Vec<TimelineEntry>,
    Vec<TimelineEntry>,
    usize,
    Option<resolution::Resolution>,
);

/// The incident's timeline (its `own` rows with the folded log rows of its
/// evidence window, the people's actions, the metric onsets and the new log
/// patterns; the change the lead names and the resolution keep rows of
/// their own), its evidence list around the start and its out-of-memory
/// rows.
fn full_timeline(
    cx: &Context<'_>,
    around: &Around<'_>,
    incident: &Incident,
    mut own: Vec<TimelineEntry>,
    detected: &Option<Detected>,
    (signals, onsets, log_patterns): (&[Signal], &[MetricOnset<'_>], &[LogPattern]),
    hints: &[Hint],
) -> TimelineParts {
    let detecting = detection::detecting_alert(around.events, detected.as_ref());
    let window = timeline::evidence_window(incident, signals);
    let mut steps = vec![incident.start, incident.end];
    steps.extend(detected.as_ref().map(|d| d.at));
    let mut logs = timeline::fold_logs(
        cx.inputs,
        around.events,
        around.templates,
        window,
        &steps,
        detecting,
    );
    // Before the rows are chosen: a restart after a crash is no step.
    changes::demote_automatic_restarts(
        cx.inputs,
        around.events,
        window,
        logs.iter_mut().map(|row| &mut row.entry),
    );
    // A configuration-management run is one step before the rows are
    // counted (and stays one row in the evidence list too).
    runs::fold_run_rows(cx.inputs, around.events, window, &mut logs);
    let evidence = timeline::evidence_around(incident.start, &logs, log_patterns);
    // What people did is kept like the incident's own rows: the response's
    // record, folded per person and host (`actions`).
    own.extend(actions::action_entries(
        cx.inputs,
        around.events,
        window,
        incident,
        &steps,
    ));
    let onset_rows = evidence::onset_entries(cx.inputs, onsets);
    let mut timeline =
        timeline::assemble(cx.inputs, own, detecting, &logs, onset_rows, log_patterns);
    for hint in hints {
        if let Hint::LastChangeBefore {
            change_at, source, ..
        } = hint
            && let Some(event) = around.events.iter().find(|e| {
                e.at == *change_at
                    && findings::line_source(cx.inputs, e.line).as_deref() == Some(source.as_str())
            })
        {
            changes::keep_change_row(&mut timeline, timeline::line_row(cx.inputs, event));
        }
    }
    let resolution = find_resolution(cx, around, incident);
    if let Some(resolution) = &resolution {
        changes::keep_change_row(&mut timeline, resolution.row());
    }
    let out_of_memory = timeline::out_of_memory_events(around.events, window);
    (timeline, evidence, out_of_memory, resolution)
}

/// Failed rate and latency quantiles over the buckets that are not anomalous.
fn summarize_baseline(
    series: &SeriesSet,
    counts: &[BucketCounts],
    anomalous: &[bool],
    bad_rate: f64,
    source: BaselineSource,
) -> BaselineSummary {
    let mut latency = LatencyHistogram::default();
    let (mut failed, mut requests) = (0u64, 0u64);
    for ((bucket, c), &is_anomalous) in series.buckets.iter().zip(counts).zip(anomalous) {
        if !is_anomalous {
            latency.merge(&bucket.latency);
            failed += c.failed;
            requests += c.requests;
        }
    }
    let learned_failed_rate = if requests == 0 {
        0.0
    } else {
        failed as f64 / requests as f64
    };
    BaselineSummary {
        bad_rate,
        failed_rate: match source {
            BaselineSource::Data => learned_failed_rate,
            // The failures of an outage that fills the range are not normal.
            BaselineSource::Absolute => bad_rate.min(learned_failed_rate),
        },
        source,
        p50_us: latency.quantile(0.5),
        p95_us: latency.quantile(0.95),
        p99_us: latency.quantile(0.99),
    }
}

/// The access-log signals of an incident: the traffic of a drop, else the
/// error rate (unless only slow) and the p95 latency.
fn series_signals(
    cx: &Context<'_>,
    incident: &Incident,
    counts: &[BucketCounts],
    threshold_us: u64,
) -> Vec<Signal> {
    let series = cx.series;
    let source = access_source(cx.inputs);
    let mut signals = Vec::new();
    if let Cause::TrafficDrop {
        expected_per_bucket,
        lowest_per_bucket,
    } = incident.cause
    {
        let lowest_at = (incident.first_bucket..=incident.last_bucket)
            .min_by_key(|&i| cx.counts[i].requests)
            .unwrap_or(incident.first_bucket);
        signals.push(Signal {
            kind: "traffic",
            name: "requests per minute".to_string(),
            source,
            onset: incident.start,
            peak_at: series.bucket_start(lowest_at),
            peak: round4(traffic::per_minute(
                lowest_per_bucket as f64,
                series.bucket_ms,
            )),
            baseline: round4(traffic::per_minute(expected_per_bucket, series.bucket_ms)),
            unit: "requests/min".to_string(),
        });
        return signals;
    }
    let failed_ratio = |c: &BucketCounts| {
        if c.requests == 0 {
            0.0
        } else {
            c.failed as f64 / c.requests as f64
        }
    };
    let busy = |c: &&(usize, &BucketCounts)| c.1.requests >= MIN_PEAK_REQUESTS;
    let failed_total: u64 = counts.iter().map(|c| c.failed).sum();
    if incident.severity != Severity::Degradation && failed_total > 0 {
        let indexed: Vec<(usize, &BucketCounts)> = counts.iter().enumerate().collect();
        let peak = indexed
            .iter()
            .filter(busy)
            .max_by(|a, b| failed_ratio(a.1).total_cmp(&failed_ratio(b.1)))
            .or(indexed.first())
            .map(|&(offset, c)| (offset, failed_ratio(c)));
        if let Some((offset, peak_ratio)) = peak {
            let onset = first_failed_since(series, incident.start, incident.last_bucket)
                .unwrap_or(incident.start);
            signals.push(Signal {
                kind: "error_rate",
                name: "5xx+499 rate".to_string(),
                source: source.clone(),
                onset,
                peak_at: series.bucket_start(incident.first_bucket + offset),
                peak: round4(peak_ratio),
                baseline: round4(cx.baseline.failed_rate),
                unit: "ratio".to_string(),
            });
        }
    }
    let slow_total: u64 = counts.iter().map(|c| c.slow).sum();
    if slow_total > 0 {
        let threshold = threshold_us as f64;
        let p95_at = |index: usize| series.buckets[index].latency.quantile(0.95);
        let range = incident.first_bucket..=incident.last_bucket;
        let peak = range
            .clone()
            .filter(|&i| cx.counts[i].requests >= MIN_PEAK_REQUESTS)
            .filter_map(|i| p95_at(i).map(|p| (i, p)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let onset = range
            .clone()
            .find(|&i| cx.counts[i].slow > 0 && p95_at(i).is_some_and(|p| p > threshold))
            .or_else(|| range.clone().find(|&i| cx.counts[i].slow > 0))
            .map_or(incident.start, |i| series.bucket_start(i));
        if let Some((peak_index, peak_us)) = peak {
            signals.push(Signal {
                kind: "latency",
                name: "p95 latency".to_string(),
                source,
                onset: onset.max(incident.start),
                peak_at: series.bucket_start(peak_index),
                peak: round4(peak_us / 1e6),
                baseline: round4(cx.baseline.p95_us.unwrap_or(0.0) / 1e6),
                unit: "s".to_string(),
            });
        }
    }
    signals
}

/// The first failed request at or after `start`, up to bucket `last`. In
/// the bucket holding `start` only the bucket's first failure is known, so a
/// failure before `start` there counts as failing from `start`.
fn first_failed_since(series: &SeriesSet, start: Millis, last: usize) -> Option<Millis> {
    (series.index_of(start)..=last).find_map(|i| {
        Bucket::rel(series.buckets[i].first_failed).map(|rel| series.absolute(i, rel).max(start))
    })
}
