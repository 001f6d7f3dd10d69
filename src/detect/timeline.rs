//! The timeline of one incident as structured entries: its own rows (impact
//! start, detection, peak, impact end, with the numbers behind them), then
//! the alerts, recoveries, changes and events of the logs from
//! [`TIMELINE_BEFORE_MS`] before the earlier of the start and the first
//! metric onset to [`TIMELINE_AFTER_MS`] after the end, and each metric's
//! onset; in time order, kinds ordered at equal times. No prose: the report
//! writes the sentences.
//!
//! Log lines are folded by template ([`super::templates`]) while they are a
//! burst: the same template on the same host, no more than
//! [`BURST_GAP_MS`] apart, and never across the incident's start, its
//! detection or its end ([`fold_logs`]); a monitor's alert and the
//! notification it sends at the same moment are one row. Which rows the
//! timeline shows is [`super::rows`]: every step, the rest by rank up to
//! [`MAX_TIMELINE_ROWS`], what a person would not write left to the
//! evidence list.

use rustc_hash::FxHashMap;

use crate::ingest::InputStats;
use crate::ingest::events::{Event, EventKind};
use crate::series::LineRef;
use crate::timefmt::{MS_PER_HOUR, MS_PER_MINUTE, Millis};

use super::describe::Context;
use super::findings::{
    Detected, OUT_OF_MEMORY_RULE, Signal, TimelineEntry, TimelineFact, TimelineKind, line_source,
};
use super::impact::Impact;
use super::patterns::LogPattern;
pub use super::rows::{evidence_around, select};
use super::templates::{TemplateId, Templates};
use super::{Cause, Incident, changes, traffic};

/// The timeline reaches back this far before the earlier of the start and
/// the first metric onset (the contract: at least one hour).
pub const TIMELINE_BEFORE_MS: i64 = MS_PER_HOUR;

/// The timeline reaches this far past the end (the contract: at least 30 min).
pub const TIMELINE_AFTER_MS: i64 = 30 * MS_PER_MINUTE;

/// The window of log evidence of an incident: from an hour before the
/// earlier of its start and its first metric onset to 30 min after its end.
pub fn evidence_window(incident: &Incident, signals: &[Signal]) -> (Millis, Millis) {
    let earliest = signals
        .iter()
        .filter(|s| s.kind == "metric")
        .map(|s| s.onset)
        .min()
        .unwrap_or(incident.start)
        .min(incident.start);
    (
        earliest - TIMELINE_BEFORE_MS,
        incident.end + TIMELINE_AFTER_MS,
    )
}

/// Lines of one template further apart than this are two bursts, two rows:
/// five minutes is the short window of the burn-rate alert, and a message
/// silent that long has stopped for a reason.
pub const BURST_GAP_MS: i64 = 5 * MS_PER_MINUTE;

/// Most rows of an incident's timeline (the seeds written by hand have 9
/// and 10). Steps are kept even past it; other rows fill what is left.
pub const MAX_TIMELINE_ROWS: usize = 25;

/// Most rows of the evidence list around the start (the Markdown's Root
/// Cause and Resolution): the same rules as the timeline.
pub const MAX_EVIDENCE_ROWS: usize = 25;

/// The evidence list around the start reaches this far back (the
/// timeline's hour)...
pub const EVIDENCE_BEFORE_MS: i64 = MS_PER_HOUR;

/// ... and this far after the start.
pub const EVIDENCE_AFTER_MS: i64 = 15 * MS_PER_MINUTE;

/// One folded burst of log lines with the template it folds.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    pub entry: TimelineEntry,
    pub template: TemplateId,
}

/// Hosts named on a row folded from several; more are counted (`+2`).
pub const MAX_HOSTS_NAMED: usize = 3;

/// A burst being folded.
struct Open<'a> {
    row: usize,
    last_at: Millis,
    segment: usize,
    /// Every host of the burst, in order of their first line.
    hosts: Vec<&'a str>,
}

impl Open<'_> {
    /// The hosts of the burst as the row's host: `web02, web03, web04 (+2)`.
    fn host_label(&self) -> Option<String> {
        if self.hosts.is_empty() {
            return None;
        }
        let named = self.hosts.len().min(MAX_HOSTS_NAMED);
        let mut label = self.hosts[..named].join(", ");
        if self.hosts.len() > named {
            label.push_str(&format!(" (+{})", self.hosts.len() - named));
        }
        Some(label)
    }
}

/// A monitor writes an alert and the notifications it sends for it within
/// this long (Nagios' `SERVICE ALERT` and `SERVICE NOTIFICATION` share a
/// second): the same alert, one row.
pub const ALERT_ECHO_MS: i64 = 2_000;

/// Whether `event` repeats the alert `shown` (at `shown_at`): the same
/// kind (alert or recovery), host and program, within [`ALERT_ECHO_MS`].
fn echoes(event: &Event, shown: &Event) -> bool {
    matches!(event.kind, EventKind::Alert | EventKind::Recovery)
        && event.kind == shown.kind
        && event.host == shown.host
        && event.program == shown.program
        && (event.at - shown.at).abs() <= ALERT_ECHO_MS
}

/// The events in `[from, to]` folded into rows: one per burst of one
/// template (lines at most [`BURST_GAP_MS`] apart, never across one of the
/// `steps`; a rollout over several hosts is one burst, its hosts named,
/// but a change repeated on a host is a row of its own), in order of their
/// first line; an alert's notification written with it joins its row.
/// `detecting`, the alert shown as the detection, is left out, and so are
/// its echoes other than the page it sent (a notification naming a
/// contact, which the Escalation section reads).
pub fn fold_logs(
    inputs: &[InputStats],
    events: &[Event],
    templates: &Templates,
    (from, to): (Millis, Millis),
    steps: &[Millis],
    detecting: Option<&Event>,
) -> Vec<LogRow> {
    let mut steps = steps.to_vec();
    steps.sort_unstable();
    let mut rows: Vec<LogRow> = Vec::new();
    let mut open: FxHashMap<TemplateId, Open<'_>> = FxHashMap::default();
    // The row of each restart or reload, by the index of its first line.
    let mut step_rows: FxHashMap<usize, (usize, usize)> = FxHashMap::default();
    // The first line of the last alert row opened, to fold its echoes.
    let mut last_alert: Option<(&Event, usize)> = None;
    let first = events.partition_point(|e| e.at < from);
    for (index, event) in events.iter().enumerate().skip(first) {
        if event.at > to {
            break;
        }
        // Actions fold per person and host instead (`super::actions`).
        if event.kind == EventKind::Action || detecting.is_some_and(|d| std::ptr::eq(d, event)) {
            continue;
        }
        // The detecting alert's echoes are the detection row, except the
        // page it sent: who was notified is the escalation's first step.
        if detecting.is_some_and(|d| echoes(event, d))
            && super::actions::contact(&event.text).is_none()
        {
            continue;
        }
        let Some(template) = templates.of(index) else {
            continue;
        };
        // A line at a step's time belongs after it.
        let segment = steps.partition_point(|&s| s <= event.at);
        // The lines one restart or reload writes (systemd's `Reloading`
        // and `Reloaded`, the server's own `graceful restart`) are one
        // change: one row, from its first line.
        let step_first =
            changes::is_service_line(event).then(|| changes::step_start(events, index));
        if let Some(&(row, row_segment)) = step_first.and_then(|first| step_rows.get(&first))
            && row_segment == segment
        {
            let entry = &mut rows[row].entry;
            entry.count = entry.count.saturating_add(event.count);
            if let TimelineFact::Log { last_at, .. } = &mut entry.fact {
                *last_at = (*last_at).max(event.last_at);
            }
            continue;
        }
        if let Some((shown, row)) = last_alert
            && !std::ptr::eq(shown, event)
            && templates.of(index) != Some(rows[row].template)
            && steps.partition_point(|&s| s <= shown.at) == segment
            && echoes(event, shown)
        {
            let entry = &mut rows[row].entry;
            entry.count = entry.count.saturating_add(event.count);
            continue;
        }
        let host = event.host.as_deref();
        if let Some(burst) = open.get_mut(&template)
            && burst.segment == segment
            && event.at - burst.last_at <= BURST_GAP_MS
            // A change again on a host of the burst, past one step's
            // lines, is a later repeat: a row of its own.
            && (event.kind != EventKind::Change
                || event.at - burst.last_at <= changes::STEP_GAP_MS
                || host.is_none_or(|h| !burst.hosts.contains(&h)))
        {
            let entry = &mut rows[burst.row].entry;
            entry.count = entry.count.saturating_add(event.count);
            burst.last_at = burst.last_at.max(event.last_at);
            if let Some(host) = host
                && !burst.hosts.contains(&host)
            {
                burst.hosts.push(host);
            }
            if let Some(first) = step_first {
                step_rows.entry(first).or_insert((burst.row, segment));
            }
            if let TimelineFact::Log {
                last_at,
                template: shown,
                text,
                host,
                ..
            } = &mut entry.fact
            {
                *last_at = burst.last_at;
                *host = burst.host_label();
                if shown.is_none() && *text != event.display_text() {
                    *shown = Some(templates.text(template).to_string());
                }
            }
            continue;
        }
        open.insert(
            template,
            Open {
                row: rows.len(),
                last_at: event.last_at,
                segment,
                hosts: host.into_iter().collect(),
            },
        );
        if let Some(first) = step_first {
            step_rows.entry(first).or_insert((rows.len(), segment));
        }
        if matches!(event.kind, EventKind::Alert | EventKind::Recovery) {
            last_alert = Some((event, rows.len()));
        }
        rows.push(LogRow {
            entry: line_row(inputs, event),
            template,
        });
    }
    rows
}

/// One line as a timeline row of its own: the first row of a burst, or a
/// change a lead names, kept even when folding or the row cap would hide it.
pub fn line_row(inputs: &[InputStats], event: &Event) -> TimelineEntry {
    TimelineEntry {
        at: event.at,
        kind: timeline_kind(event.kind),
        fact: TimelineFact::Log {
            event: event.kind,
            rule: event.rule,
            host: event.host.clone(),
            text: event.display_text(),
            template: None,
            last_at: event.last_at,
        },
        source: line_source(inputs, event.line),
        count: event.count,
    }
}

/// The timeline kind of a log line's event kind.
fn timeline_kind(kind: EventKind) -> TimelineKind {
    match kind {
        EventKind::Alert | EventKind::Recovery => TimelineKind::Alert,
        EventKind::Change => TimelineKind::Change,
        EventKind::Event => TimelineKind::Event,
        EventKind::Action => TimelineKind::Action,
    }
}

/// Out-of-memory rows on one host closer than this are one event: the
/// lines one kill writes (the kernel's `invoked oom-killer` and `Killed
/// process`, systemd's `Failed with result 'oom-kill'`) come within
/// seconds.
pub const OUT_OF_MEMORY_EVENT_GAP_MS: i64 = MS_PER_MINUTE;

/// The out-of-memory events in `[from, to]` (all of them: the capped
/// timeline may show fewer): lines the classifier put under its
/// out-of-memory rule, the lines on one host less than
/// [`OUT_OF_MEMORY_EVENT_GAP_MS`] apart counted once.
pub fn out_of_memory_events(events: &[Event], (from, to): (Millis, Millis)) -> usize {
    let mut last_on_host: FxHashMap<Option<&str>, Millis> = FxHashMap::default();
    let mut found = 0;
    let first = events.partition_point(|e| e.at < from);
    for event in events[first..].iter().take_while(|e| e.at <= to) {
        if event.kind != EventKind::Event || event.rule != OUT_OF_MEMORY_RULE {
            continue;
        }
        let previous = last_on_host.insert(event.host.as_deref(), event.last_at);
        if previous.is_none_or(|p| event.at - p > OUT_OF_MEMORY_EVENT_GAP_MS) {
            found += 1;
        }
    }
    found
}

fn entry(
    at: Millis,
    kind: TimelineKind,
    fact: TimelineFact,
    source: Option<String>,
) -> TimelineEntry {
    TimelineEntry {
        at,
        kind,
        fact,
        source,
        count: 1,
    }
}

fn detected_entry(detected: &Detected) -> TimelineEntry {
    entry(
        detected.at,
        TimelineKind::Detected,
        TimelineFact::Detected(detected.clone()),
        None,
    )
}

/// The fewest requests a bucket needs to be the incident's peak row: below
/// ten, one request moves the bucket's bad-request rate by more than ten
/// points, so "100% of 1 request bad" says more about chance than about the
/// incident. With no bucket this full (a site with a few requests a minute),
/// the timeline has no peak row rather than a meaningless one.
pub const PEAK_MIN_REQUESTS: u64 = 10;

/// The start row's rate: the requests from the first bad request on, over
/// one bucket width, doubled (up to the incident's last bucket) until it
/// holds [`PEAK_MIN_REQUESTS`]. Counted
/// from the first bad request, never from a bucket a rule picks: the
/// bucket after a lone early bad request may hold none, and a sparse
/// degradation's "0% in the first minute" beside a baseline of 0.4% says
/// nothing true about its start.
fn start_window(cx: &Context<'_>, incident: &Incident) -> TimelineFact {
    let series = cx.series;
    let last_end = series.bucket_start(incident.last_bucket + 1);
    let mut window_ms = series.bucket_ms;
    loop {
        let counted = super::impact::measure(
            series,
            incident.start,
            incident.start + window_ms - 1,
            cx.threshold_us,
        );
        if counted.requests_total >= PEAK_MIN_REQUESTS || incident.start + window_ms >= last_end {
            return TimelineFact::BadRequestsStart {
                baseline_bad_rate: cx.baseline.bad_rate,
                window_bad: counted.requests_failed + counted.requests_slow,
                window_requests: counted.requests_total,
                window_ms,
            };
        }
        window_ms *= 2;
    }
}

/// Start, detection, peak and end of an incident seen in the access logs.
pub fn request_entries(
    cx: &Context<'_>,
    incident: &Incident,
    impact: &Impact,
    detected: Option<&Detected>,
) -> Vec<TimelineEntry> {
    let series = cx.series;
    let access = super::findings::access_source(cx.inputs);
    let line_or_access = |line: Option<LineRef>| {
        line.and_then(|l| line_source(cx.inputs, l))
            .or_else(|| Some(access.clone()))
    };
    let drop = match incident.cause {
        Cause::TrafficDrop {
            expected_per_bucket,
            lowest_per_bucket,
        } => Some((expected_per_bucket, lowest_per_bucket)),
        Cause::BadRequests | Cause::MetricDeparture => None,
    };
    let start = match drop {
        Some((expected, _)) => TimelineFact::TrafficDropStart {
            expected_per_minute: traffic::per_minute(expected, series.bucket_ms),
        },
        None => start_window(cx, incident),
    };
    let mut entries = vec![entry(
        incident.start,
        TimelineKind::ImpactStart,
        start,
        line_or_access(incident.start_line),
    )];
    entries.extend(detected.map(detected_entry));
    let buckets = incident.first_bucket..=incident.last_bucket;
    if let Some((_, lowest)) = drop {
        // A drop's worst moment is its emptiest bucket, not a bad-request rate.
        let lowest_at = buckets
            .min_by_key(|&i| cx.counts[i].requests)
            .unwrap_or(incident.first_bucket);
        entries.push(entry(
            series.bucket_start(lowest_at),
            TimelineKind::Peak,
            TimelineFact::TrafficLow {
                per_minute: traffic::per_minute(lowest as f64, series.bucket_ms),
            },
            Some(access.clone()),
        ));
    } else if let Some(peak_index) = buckets
        .filter(|&i| cx.counts[i].requests >= PEAK_MIN_REQUESTS)
        .max_by(|&a, &b| cx.counts[a].bad_rate().total_cmp(&cx.counts[b].bad_rate()))
    {
        let c = &cx.counts[peak_index];
        entries.push(entry(
            series.bucket_start(peak_index),
            TimelineKind::Peak,
            TimelineFact::BadRequestPeak {
                bad_rate: c.bad_rate(),
                requests: c.requests,
                failed: c.failed,
                slow: c.slow,
                p95_us: series.buckets[peak_index].latency.quantile(0.95),
            },
            Some(access.clone()),
        ));
    }
    let end = match drop {
        Some(_) => TimelineFact::TrafficDropEnd {
            users_missing: impact.users_missing,
        },
        None => TimelineFact::BadRequestsEnd {
            users_affected: impact.users_affected,
            users_active: impact.users_active,
            users_estimated: impact.users_estimated,
        },
    };
    entries.push(entry(
        incident.end,
        TimelineKind::ImpactEnd,
        end,
        line_or_access(incident.end_line),
    ));
    entries
}

/// Start, end and detection of an incident found in the metrics alone;
/// `first_metric` is the first metric signal's name.
pub fn metric_incident_entries(
    inputs: &[InputStats],
    incident: &Incident,
    first_metric: Option<String>,
    detected: Option<&Detected>,
) -> Vec<TimelineEntry> {
    let mut entries = vec![
        entry(
            incident.start,
            TimelineKind::ImpactStart,
            TimelineFact::MetricDepartureStart {
                metric: first_metric,
            },
            incident.start_line.and_then(|l| line_source(inputs, l)),
        ),
        entry(
            incident.end,
            TimelineKind::ImpactEnd,
            TimelineFact::MetricDepartureEnd,
            None,
        ),
    ];
    entries.extend(detected.map(detected_entry));
    entries
}

/// The whole timeline: the incident's `own` rows (the detection row taking
/// the `detecting` alert's line as its source), the `logs` rows and the
/// metric `onsets`, chosen by [`select`], in time order then kind order
/// (stable: equal keys keep the order given).
pub fn assemble(
    inputs: &[InputStats],
    mut own: Vec<TimelineEntry>,
    detecting: Option<&Event>,
    logs: &[LogRow],
    onsets: Vec<TimelineEntry>,
    patterns: &[LogPattern],
) -> Vec<TimelineEntry> {
    if let (Some(alert), Some(row)) = (
        detecting,
        own.iter_mut().find(|e| e.kind == TimelineKind::Detected),
    ) {
        row.source = line_source(inputs, alert.line);
    }
    select(own, logs, onsets, patterns)
}

#[cfg(test)]
mod tests;
