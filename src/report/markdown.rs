//! The Markdown exporter: the sections of a postmortem as engineers write
//! them, prefilled with what the logs prove and a clear **TODO** wherever only
//! people know the answer. Times are in the logs' zone, with the zone named.

use std::fmt::Write;

use crate::analysis::{Analysis, DetectionSource, IncidentReport, TimelineKind};
use crate::config::UserKey;
use crate::ingest::InputKind;
use crate::timefmt::{Millis, human_datetime, human_duration, human_time, local_time, rfc3339_utc};

/// Renders the whole report.
pub fn render(analysis: &Analysis) -> String {
    let mut out = String::new();
    if analysis.incidents.is_empty() {
        render_quiet(analysis, &mut out);
    } else {
        let several = analysis.incidents.len() > 1;
        for (index, report) in analysis.incidents.iter().enumerate() {
            if several {
                let _ = writeln!(
                    out,
                    "<!-- incident {} of {} -->",
                    index + 1,
                    analysis.incidents.len()
                );
            }
            render_incident(analysis, report, &mut out);
            out.push('\n');
        }
    }
    render_appendix(analysis, &mut out);
    out
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".to_string()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn seconds_text(us: u64) -> String {
    let seconds = us as f64 / 1e6;
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds:.2} s")
    }
}

/// A time for a timeline row: the clock time, with the date when the
/// incident spans several days.
fn row_time(analysis: &Analysis, at: Millis, with_date: bool) -> String {
    if with_date {
        local_time(at, &analysis.zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    } else {
        human_time(at, &analysis.zone)
    }
}

fn render_incident(analysis: &Analysis, report: &IncidentReport, out: &mut String) {
    if !report.impact_measured {
        render_metric_incident(analysis, report, out);
        return;
    }
    let incident = &report.incident;
    let impact = &report.impact;
    let zone = &analysis.zone;
    let zone_label = zone.label_at(incident.start);
    let date = local_time(incident.start, zone)
        .format("%Y-%m-%d")
        .to_string();
    let duration = human_duration(incident.end - incident.start);
    let bad = impact.requests_failed + impact.requests_slow;
    let kind = match incident.severity.name() {
        "outage" => "Outage",
        "degradation" => "Degradation",
        _ => "Partial outage",
    };
    let _ = writeln!(
        out,
        "# Postmortem: {kind} on {date}, {}–{} {zone_label}\n",
        human_time(incident.start, zone),
        human_time(incident.end, zone)
    );
    let _ = writeln!(
        out,
        "For {duration}, from {} to {}, {} of the users active in that time ({} of {}) had failed or slow requests, and {} of {} requests went bad.\n",
        human_datetime(incident.start, zone),
        human_datetime(incident.end, zone),
        format_args!("{:.1}%", impact.affected_pct),
        thousands(impact.users_affected),
        thousands(impact.users_active),
        thousands(bad),
        thousands(impact.requests_total),
    );
    let _ = writeln!(
        out,
        "> Prefilled by {} from the logs. Numbers and times come from the logs; every **TODO** needs a person.\n",
        super::generator()
    );

    let _ = writeln!(out, "## Issue Summary\n");
    let _ = writeln!(
        out,
        "- **Duration:** {duration}, from {} to {} (times in {zone_label}, the zone of the logs).",
        human_datetime(incident.start, zone),
        human_datetime(incident.end, zone)
    );
    let _ = writeln!(
        out,
        "- **Impact:** {} of {} active users ({:.1}%) had at least one failed or slow request. Of {} requests, {} ({}) failed (5xx or 499) and {} ({}) were slow (over {}).",
        thousands(impact.users_affected),
        thousands(impact.users_active),
        impact.affected_pct,
        thousands(impact.requests_total),
        thousands(impact.requests_failed),
        percent(impact.requests_failed, impact.requests_total),
        thousands(impact.requests_slow),
        percent(impact.requests_slow, impact.requests_total),
        seconds_text(analysis.slow_threshold_us)
    );
    let _ = writeln!(
        out,
        "- **Severity:** {}.",
        incident.severity.name().replace('-', " ")
    );
    match &report.detected {
        Some(detected) => {
            let how = match detected.source {
                DetectionSource::User => "given by the responders",
                DetectionSource::Log => "an alert in the logs",
                DetectionSource::Rule => {
                    "no alert was found in the logs; this is when a standard SLO burn-rate alert would have fired"
                }
            };
            let _ = writeln!(
                out,
                "- **Detection:** {}, {} after impact started ({how}).",
                human_datetime(detected.at, zone),
                human_duration(detected.at - incident.start)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Detection:** no alert in the logs, and a standard SLO burn-rate alert would not have fired. **TODO:** when and how did someone notice?"
            );
        }
    }
    let _ = writeln!(
        out,
        "- **Root cause:** **TODO:** what changed, and why did it hurt users? Leads from the logs:"
    );
    for hint in &report.hints {
        let _ = writeln!(out, "  - {hint}");
    }
    if report.hints.is_empty() {
        let _ = writeln!(out, "  - none found");
    }
    out.push('\n');

    render_timeline(analysis, report, out);
    render_root_cause(analysis, report, out);
    render_measures(report, out);
    let _ = writeln!(out, "## Misleading Investigation Paths\n");
    let _ = writeln!(
        out,
        "**TODO:** which leads were followed and turned out wrong, and what made them look right?\n"
    );
    let _ = writeln!(out, "## Escalation\n");
    let _ = writeln!(
        out,
        "**TODO:** who was paged or pulled in, when, and why.\n"
    );
}

fn render_timeline(analysis: &Analysis, report: &IncidentReport, out: &mut String) {
    let incident = &report.incident;
    let zone = &analysis.zone;
    let first_date = local_time(incident.start, zone).date();
    let with_date = report
        .timeline
        .iter()
        .any(|e| local_time(e.at, zone).date() != first_date);
    let _ = writeln!(out, "## Timeline\n");
    let _ = writeln!(
        out,
        "Times in {} (the zone of the logs){}.\n",
        zone.label_at(incident.start),
        if with_date {
            String::new()
        } else {
            format!(", on {first_date}")
        }
    );
    let _ = writeln!(out, "| Time | What happened | Source |");
    let _ = writeln!(out, "| --- | --- | --- |");
    let change_before_impact = last_change_before(report);
    for (index, entry) in report.timeline.iter().enumerate() {
        let stand_out = matches!(
            entry.kind,
            TimelineKind::Detected | TimelineKind::ImpactStart | TimelineKind::ImpactEnd
        ) || change_before_impact == Some(index);
        let when = row_time(analysis, entry.at, with_date);
        let mut text = entry.text.replace('|', "\\|");
        if entry.count > 1 {
            let _ = write!(text, " (×{})", entry.count);
        }
        let source = entry
            .source
            .as_ref()
            .map(|s| format!("`{s}`"))
            .unwrap_or_default();
        if stand_out {
            let _ = writeln!(out, "| **{when}** | **{text}** | {source} |");
        } else {
            let _ = writeln!(out, "| {when} | {text} | {source} |");
        }
    }
    out.push('\n');
    match &report.detected {
        Some(detected) => {
            let _ = writeln!(
                out,
                "- **Time to detect:** {} (from the first bad request to detection).",
                human_duration(detected.at - incident.start)
            );
        }
        None => {
            let _ = writeln!(out, "- **Time to detect:** unknown. **TODO**");
        }
    }
    let _ = writeln!(
        out,
        "- **Impact duration:** {} (from the first to the last bad request).\n",
        human_duration(incident.end - incident.start)
    );
}

/// The index of the last change at or before the start: the first lead.
fn last_change_before(report: &IncidentReport) -> Option<usize> {
    report
        .timeline
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == TimelineKind::Change && e.at <= report.incident.start)
        .map(|(index, _)| index)
        .next_back()
}

/// How far around the start log entries are listed under the evidence.
const EVIDENCE_AROUND_START_MS: i64 = 15 * 60_000;

/// The log entries (changes, alerts, events) close to the start, as a list.
fn render_events_around_start(analysis: &Analysis, report: &IncidentReport, out: &mut String) {
    let start = report.incident.start;
    let near: Vec<_> = report
        .timeline
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                TimelineKind::Change | TimelineKind::Alert | TimelineKind::Event
            ) && (e.at - start).abs() <= EVIDENCE_AROUND_START_MS
        })
        .collect();
    if near.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Log lines within {} of the start:\n",
        human_duration(EVIDENCE_AROUND_START_MS)
    );
    for entry in near {
        let count = if entry.count > 1 {
            format!(" (×{})", entry.count)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "- {} {}{count}{}",
            human_time(entry.at, &analysis.zone),
            entry.text,
            entry
                .source
                .as_ref()
                .map(|s| format!(" (`{s}`)"))
                .unwrap_or_default()
        );
    }
    out.push('\n');
}

/// An incident found in metrics alone: no requests, so no user figures.
fn render_metric_incident(analysis: &Analysis, report: &IncidentReport, out: &mut String) {
    let incident = &report.incident;
    let zone = &analysis.zone;
    let zone_label = zone.label_at(incident.start);
    let date = local_time(incident.start, zone)
        .format("%Y-%m-%d")
        .to_string();
    let duration = human_duration(incident.end - incident.start);
    let _ = writeln!(
        out,
        "# Postmortem: Metric departure on {date}, {}–{} {zone_label}\n",
        human_time(incident.start, zone),
        human_time(incident.end, zone)
    );
    let _ = writeln!(
        out,
        "For {duration}, from {} to {}, metrics departed far from their baseline. No access log was given, so the users and requests hit are unknown.\n",
        human_datetime(incident.start, zone),
        human_datetime(incident.end, zone),
    );
    let _ = writeln!(
        out,
        "> Prefilled by {} from the logs. Numbers and times come from the logs; every **TODO** needs a person.\n",
        super::generator()
    );
    let _ = writeln!(out, "## Issue Summary\n");
    let _ = writeln!(
        out,
        "- **Duration:** {duration}, from {} to {} (times in {zone_label}).",
        human_datetime(incident.start, zone),
        human_datetime(incident.end, zone)
    );
    let _ = writeln!(
        out,
        "- **Impact:** unknown from the metrics alone. **TODO:** how many users and requests were hit (add the access logs of the period to measure it)."
    );
    match &report.detected {
        Some(detected) => {
            let _ = writeln!(
                out,
                "- **Detection:** {}, {} after the departure began ({}).",
                human_datetime(detected.at, zone),
                human_duration(detected.at - incident.start),
                detected.evidence
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Detection:** no alert in the logs. **TODO:** when and how did someone notice?"
            );
        }
    }
    let _ = writeln!(
        out,
        "- **Root cause:** **TODO:** what changed? Leads from the logs:"
    );
    for hint in &report.hints {
        let _ = writeln!(out, "  - {hint}");
    }
    out.push('\n');
    render_timeline(analysis, report, out);
    render_root_cause(analysis, report, out);
    render_measures(report, out);
}

fn render_root_cause(analysis: &Analysis, report: &IncidentReport, out: &mut String) {
    let zone = &analysis.zone;
    let _ = writeln!(out, "## Root Cause and Resolution\n");
    let _ = writeln!(out, "### Evidence\n");
    if report.signals.is_empty() {
        let _ = writeln!(
            out,
            "No signal departed from its baseline beyond the bad-request count.\n"
        );
    } else {
        let _ = writeln!(out, "| Signal | Onset | Peak | Baseline | Source |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for signal in &report.signals {
            let value = |v: f64| match signal.unit.as_str() {
                "ratio" => format!("{:.1}%", 100.0 * v),
                "s" => format!("{v:.3} s"),
                unit => format!("{v} {unit}").trim_end().to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} at {} | {} | `{}` |",
                signal.name,
                human_time(signal.onset, zone),
                value(signal.peak),
                human_time(signal.peak_at, zone),
                value(signal.baseline),
                signal.source
            );
        }
        out.push('\n');
    }
    render_events_around_start(analysis, report, out);
    let _ = writeln!(out, "### Root cause\n");
    let _ = writeln!(
        out,
        "**TODO:** the cause, in a few sentences: what changed, why it broke requests, why only these users.\n"
    );
    let _ = writeln!(out, "### Resolution\n");
    let _ = writeln!(
        out,
        "**TODO:** what ended the impact at {}, and how the service was confirmed healthy.\n",
        human_datetime(report.incident.end, zone)
    );
}

/// Detection later than this after the start earns a "detect sooner" item.
const SLOW_DETECTION_MS: i64 = 5 * 60_000;

fn render_measures(report: &IncidentReport, out: &mut String) {
    let _ = writeln!(out, "## Corrective and Preventative Measures\n");
    let _ = writeln!(
        out,
        "- [ ] **TODO:** fix the root cause so it cannot recur."
    );
    match report.detected.as_ref().map(|d| d.source) {
        Some(DetectionSource::Rule) | None => {
            let _ = writeln!(
                out,
                "- [ ] Add an SLO burn-rate alert on the bad-request ratio (5xx, 499 and slow requests): no alert was found in the logs."
            );
        }
        _ => {}
    }
    if let Some(detected) = &report.detected
        && detected.at - report.incident.start > SLOW_DETECTION_MS
    {
        let _ = writeln!(
            out,
            "- [ ] Detect sooner: it took {} to notice. Alert on the signal that moved first.",
            human_duration(detected.at - report.incident.start)
        );
    }
    if let Some(first) = report
        .signals
        .iter()
        .filter(|s| s.kind == "metric" && s.onset < report.incident.start)
        .min_by_key(|s| s.onset)
        && report
            .detected
            .as_ref()
            .is_none_or(|d| d.source != DetectionSource::Log || d.at > first.onset)
    {
        let _ = writeln!(
            out,
            "- [ ] Alert on {}: it moved {} before users were hit, and no alert fired before they were.",
            first.name,
            human_duration(report.incident.start - first.onset)
        );
    }
    if report.signals.iter().any(|s| s.kind == "latency") {
        let _ = writeln!(
            out,
            "- [ ] Alert on p95 latency, not only on errors: requests got slow before or without failing."
        );
    }
    let _ = writeln!(out, "- [ ] **TODO:** tasks with owners and dates.\n");
}

fn render_quiet(analysis: &Analysis, out: &mut String) {
    let zone = &analysis.zone;
    let (first, last) = (
        analysis.inputs.iter().filter_map(|i| i.first).min(),
        analysis.inputs.iter().filter_map(|i| i.last).max(),
    );
    let _ = writeln!(out, "# Postmortem: no incident found\n");
    if let (Some(first), Some(last)) = (first, last) {
        let _ = writeln!(
            out,
            "From {} to {}, {} requests were read and no period departed from the baseline long enough to matter.\n",
            human_datetime(first, zone),
            human_datetime(last, zone),
            thousands(analysis.series.total_requests())
        );
    }
    let baseline = &analysis.baseline;
    let _ = writeln!(
        out,
        "- Baseline bad-request rate: {:.2}% (failed: {:.2}%).",
        100.0 * baseline.bad_rate,
        100.0 * baseline.failed_rate
    );
    if let Some(p95) = baseline.p95_us {
        let _ = writeln!(
            out,
            "- Baseline latency: p95 {:.3} s, p99 {:.3} s.",
            p95 / 1e6,
            baseline.p99_us.unwrap_or(0.0) / 1e6
        );
    }
    let _ = writeln!(
        out,
        "- Slow threshold: {}.\n",
        seconds_text(analysis.slow_threshold_us)
    );
}

fn user_key_text(key: UserKey) -> &'static str {
    match key {
        UserKey::Ip => "client address",
        UserKey::IpUserAgent => "client address with its user agent",
        UserKey::RemoteUser => "authenticated user (the client address where there is none)",
    }
}

fn render_appendix(analysis: &Analysis, out: &mut String) {
    let _ = writeln!(out, "## Appendix: Inputs\n");
    let _ = writeln!(
        out,
        "| Input | Kind | Format | Lines | Parsed | Skipped | First (UTC) | Last (UTC) |"
    );
    let _ = writeln!(out, "| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
    for input in &analysis.inputs {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            input.path,
            input.kind.name(),
            input.format.unwrap_or("-"),
            thousands(input.lines),
            thousands(input.parsed),
            thousands(input.skipped),
            input.first.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
            input.last.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
        );
    }
    out.push('\n');
    for input in &analysis.inputs {
        for example in &input.skipped_examples {
            let _ = writeln!(
                out,
                "- `{}:{}` skipped: {}",
                input.path, example.line, example.reason
            );
        }
        if let Some(error) = &input.error {
            let _ = writeln!(out, "- `{}`: {error}", input.path);
        }
        if input.kind == InputKind::Unknown
            && let Some(note) = &input.note
        {
            let _ = writeln!(out, "- `{}` not analysed: {note}", input.path);
        } else if let Some(note) = &input.note {
            let _ = writeln!(out, "- `{}`: {note}", input.path);
        }
    }
    let _ = writeln!(
        out,
        "\nDefinitions: a request is *failed* when its status is 5xx or 499, *slow* when it took longer than {}, *bad* when either. A user is one {}. Times are arrivals (nginx's completion time minus the request time). Buckets of {}.",
        seconds_text(analysis.slow_threshold_us),
        user_key_text(analysis.user_key),
        human_duration(analysis.bucket_ms)
    );
}

/// `postmortem inspect`: the inputs table and what was skipped, for people.
pub fn render_inspect(analysis: &Analysis) -> String {
    let mut out = String::new();
    render_appendix(analysis, &mut out);
    out.replacen("## Appendix: Inputs", "# Inputs", 1)
}
