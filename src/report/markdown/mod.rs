//! The Markdown exporter: the sections of a postmortem as engineers write
//! them (title and summary, Issue Summary, Timeline, Misleading
//! Investigation Paths, Escalation, Root Cause and Resolution, Corrective
//! and Preventative Measures, appendices), prefilled with what the logs prove
//! and a clear **TODO** wherever only people know the answer.
//!
//! Times are wall-clock times in the logs' zone with the zone named
//! (`14:00:03 GMT+1`), truncated to the second as logs print them, so they
//! can be searched for in the logs; durations are the exact differences
//! rounded to the second, the same numbers as the JSON's. One incident gives one section set; several give an
//! overview table and then one numbered section set each; none gives a short
//! page with what was read, the baseline and what to try next.

pub mod text;

use std::fmt::Write;

use crate::detect::{
    Cause, DetectionSource, Finding, Findings, Severity, Signal, TimelineEntry, TimelineKind,
};
use crate::ingest::InputKind;
use crate::timefmt::{MS_PER_MINUTE, MS_PER_SECOND, Millis, Zone, local_time, rfc3339_utc};

use super::sentences::{detection_evidence, hint_text, timeline_cell_text, timeline_text};
use text::*;

/// What the Markdown links to besides itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// The chart's path as the Markdown should link it (relative to the
    /// Markdown file when it is written with `-o`), when `--chart` is given.
    pub chart_link: Option<String>,
}

/// Renders the whole report without a chart.
pub fn render(findings: &Findings) -> String {
    render_with(findings, &MarkdownOptions::default())
}

/// Renders the whole report.
pub fn render_with(findings: &Findings, options: &MarkdownOptions) -> String {
    let mut out = String::new();
    let page = Page { findings };
    match findings.incidents.as_slice() {
        [] => page.no_incident(&mut out),
        [only] => {
            page.title_and_summary(only, &mut out);
            page.incident_sections(only, Level(2), &mut out);
        }
        several => {
            page.overview(several, &mut out);
            for (index, report) in several.iter().enumerate() {
                page.numbered_incident(index + 1, report, &mut out);
            }
        }
    }
    page.appendix(options, &mut out);
    out
}

/// A heading depth: 2 for `##`.
#[derive(Clone, Copy)]
struct Level(usize);

impl Level {
    fn heading(self, text: &str) -> String {
        format!("{} {text}\n\n", "#".repeat(self.0))
    }

    fn below(self) -> Level {
        Level(self.0 + 1)
    }
}

/// How far before the start "the events around the start" reach: the
/// contract's timeline reaches back one hour.
const AROUND_START_BEFORE_MS: i64 = 60 * MS_PER_MINUTE;

/// How far after the start "the events around the start" reach.
const AROUND_START_AFTER_MS: i64 = 15 * MS_PER_MINUTE;

struct Page<'a> {
    findings: &'a Findings,
}

impl Page<'_> {
    fn zone(&self) -> &Zone {
        &self.findings.zone
    }

    // ---------------------------------------------------------------- title

    fn title_and_summary(&self, report: &Finding, out: &mut String) {
        let incident = &report.incident;
        let _ = writeln!(
            out,
            "# Postmortem: {} {}\n",
            severity_title(incident.severity),
            self.title_range(incident.start, incident.end)
        );
        let _ = writeln!(out, "{}\n", self.summary_sentence(report));
        self.prefilled_note(out);
    }

    /// One sentence with what happened, for whom, and when it was noticed.
    fn summary_sentence(&self, report: &Finding) -> String {
        let incident = &report.incident;
        let impact = &report.impact;
        if !report.impact_measured {
            return format!(
                "Metrics departed far from their baseline {}; no access log covers this time, so the users and requests hit are unknown.",
                self.span_phrase(incident.start, incident.end)
            );
        }
        let bad = impact.requests_failed + impact.requests_slow;
        let detection = match &report.detected {
            Some(detected) => format!(
                "; it was detected {} after it began ({})",
                self.between(incident.start, detected.at),
                match detected.source {
                    DetectionSource::Log => "by an alert in the logs",
                    DetectionSource::Rule =>
                        "when an SLO burn-rate alert would have fired; no alert was found in the logs",
                    DetectionSource::User => "as given by the responders",
                }
            ),
            None => "; no alert was found in the logs".to_string(),
        };
        if let Some(drop) = TrafficDrop::of(report) {
            return format!(
                "{} {} for {}: {}, and an estimated {} users never reached the service; {} of the {} requests that did arrive went bad{detection}.",
                self.span_phrase(incident.start, incident.end),
                severity_verb(incident.severity),
                self.between(incident.start, incident.end),
                drop.what_happened(),
                thousands(impact.users_missing),
                thousands(bad),
                thousands(impact.requests_total),
            );
        }
        format!(
            "{} {} for {}: {} of the users active at the time ({} of {}) got failed or slow responses, and {} of the requests ({} of {}) went bad{detection}.",
            self.span_phrase(incident.start, incident.end),
            severity_verb(incident.severity),
            self.between(incident.start, incident.end),
            pct_value(impact.affected_pct),
            thousands(impact.users_affected),
            thousands(impact.users_active),
            percent(bad, impact.requests_total),
            thousands(bad),
            thousands(impact.requests_total),
        )
    }

    fn prefilled_note(&self, out: &mut String) {
        let lines: u64 = self.findings.inputs.iter().map(|i| i.lines).sum();
        let inputs = self.findings.inputs.len();
        let _ = writeln!(
            out,
            "> Prefilled by {} from {} input{} ({} line{}). Times are in {}, the zone of the logs. Numbers and times come from the logs; every **TODO** needs a person.\n",
            super::generator(),
            inputs,
            plural(inputs as u64),
            thousands(lines),
            plural(lines),
            self.zone_name()
        );
    }

    // ------------------------------------------------------------- overview

    fn overview(&self, reports: &[Finding], out: &mut String) {
        let (first, last) = (
            reports.iter().map(|r| r.incident.start).min().unwrap_or(0),
            reports.iter().map(|r| r.incident.end).max().unwrap_or(0),
        );
        let _ = writeln!(
            out,
            "# Postmortem: {} incidents {}\n",
            reports.len(),
            self.title_range(first, last)
        );
        let worst = reports
            .iter()
            .max_by(|a, b| a.impact.affected_pct.total_cmp(&b.impact.affected_pct));
        if let Some(worst) = worst {
            let index = reports
                .iter()
                .position(|r| std::ptr::eq(r, worst))
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "The logs show {} separate periods in which users got failed or slow responses; the worst, incident {}, hit {} of the users active at the time ({} of {}). Each incident has its own sections below.\n",
                reports.len(),
                index + 1,
                pct_value(worst.impact.affected_pct),
                thousands(worst.impact.users_affected),
                thousands(worst.impact.users_active),
            );
        }
        self.prefilled_note(out);
        out.push_str(&Level(2).heading("Overview"));
        let _ = writeln!(
            out,
            "| # | Start | End | Duration | Severity | Users affected | Requests bad | Detected after |"
        );
        let _ = writeln!(out, "| ---: | --- | --- | ---: | --- | ---: | ---: | --- |");
        for (index, report) in reports.iter().enumerate() {
            let incident = &report.incident;
            let impact = &report.impact;
            let bad = impact.requests_failed + impact.requests_slow;
            let detected = match &report.detected {
                Some(d) => format!(
                    "{} ({})",
                    self.between(incident.start, d.at),
                    detection_source_short(d.source)
                ),
                None => "not detected".to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {} |",
                index + 1,
                self.full_time(incident.start),
                self.full_time(incident.end),
                self.between(incident.start, incident.end),
                severity_text(incident.severity),
                thousands(impact.users_affected),
                pct_value(impact.affected_pct),
                thousands(bad),
                percent(bad, impact.requests_total),
                detected
            );
        }
        out.push('\n');
    }

    fn numbered_incident(&self, number: usize, report: &Finding, out: &mut String) {
        let incident = &report.incident;
        out.push_str(&Level(2).heading(&format!(
            "Incident {number}: {} {}",
            severity_title(incident.severity),
            self.title_range(incident.start, incident.end)
        )));
        let _ = writeln!(out, "{}\n", self.summary_sentence(report));
        self.incident_sections(report, Level(3), out);
    }

    // ------------------------------------------------------------- sections

    fn incident_sections(&self, report: &Finding, level: Level, out: &mut String) {
        self.issue_summary(report, level, out);
        self.timeline(report, level, out);
        out.push_str(&level.heading("Misleading Investigation Paths"));
        let _ = writeln!(
            out,
            "**TODO:** which leads were followed and turned out wrong (a suspected attack, the database, the network), what made them look right, and how long they took.\n"
        );
        out.push_str(&level.heading("Escalation"));
        let _ = writeln!(
            out,
            "**TODO:** who was paged or pulled in, when, and why; add these to the timeline.\n"
        );
        self.root_cause(report, level, out);
        self.measures(report, level, out);
    }

    fn issue_summary(&self, report: &Finding, level: Level, out: &mut String) {
        let incident = &report.incident;
        let impact = &report.impact;
        out.push_str(&level.heading("Issue Summary"));
        let drop = TrafficDrop::of(report);
        let _ = writeln!(
            out,
            "**Duration:** The incident lasted {}, starting at {} and ending at {} ({}). {}\n",
            self.between(incident.start, incident.end),
            self.full_time(incident.start),
            if self.date(incident.start) == self.date(incident.end) {
                self.clock_zone(incident.end)
            } else {
                self.full_time(incident.end)
            },
            self.zone_phrase(incident.start),
            if drop.is_some() {
                "It starts with the last request before the traffic fell away and ends with the first after it came back."
            } else {
                "It starts with the first failed or slow request and ends with the last one."
            },
        );
        if !report.impact_measured {
            let _ = writeln!(
                out,
                "**Impact:** unknown: this incident comes from metrics alone and no access log covers it. **TODO:** how many users and requests were hit (add the access logs of the period to measure it).\n"
            );
            self.detection_and_leads(report, "what changed?", out);
            return;
        }
        let bad = impact.requests_failed + impact.requests_slow;
        if let Some(drop) = drop {
            let _ = writeln!(
                out,
                "**Impact:** {}. An estimated {} users never reached the service: the users a minute the baseline expects over those {}, less the {} who got through. {} requests arrived in that time, {} of them bad ({} failed, {} slow). Severity: {}.\n",
                upper_first(&drop.what_happened()),
                thousands(impact.users_missing),
                self.between(incident.start, incident.end),
                thousands(impact.users_active),
                thousands(impact.requests_total),
                thousands(bad),
                thousands(impact.requests_failed),
                thousands(impact.requests_slow),
                drop.severity_explained(incident.severity),
            );
        } else {
            self.request_impact(report, out);
        }
        self.detection_and_leads(report, "what changed, and why did it hurt users?", out);
    }

    /// The Issue Summary's detection and the root-cause question with the
    /// leads the logs give.
    fn detection_and_leads(&self, report: &Finding, question: &str, out: &mut String) {
        let _ = writeln!(out, "**Detection:** {}\n", self.detection_text(report));
        let _ = writeln!(
            out,
            "**Root Cause:** **TODO:** {question} Leads from the logs:\n"
        );
        for hint in &report.hints {
            let _ = writeln!(out, "- {}", inline(&hint_text(hint, self.zone())));
        }
        if report.hints.is_empty() {
            let _ = writeln!(out, "- none found");
        }
        out.push('\n');
    }

    /// The impact paragraph of an incident of failed or slow requests.
    fn request_impact(&self, report: &Finding, out: &mut String) {
        let incident = &report.incident;
        let impact = &report.impact;
        let bad = impact.requests_failed + impact.requests_slow;
        let _ = write!(
            out,
            "**Impact:** {} of the {} users active during the incident ({}) got at least one failed or slow response. Of the {} requests in that time, {} ({}) went bad: {} ({}) failed with a 5xx status or 499, and {} ({}) were slow (over {}). Severity: {}.",
            thousands(impact.users_affected),
            thousands(impact.users_active),
            pct_value(impact.affected_pct),
            thousands(impact.requests_total),
            thousands(bad),
            percent(bad, impact.requests_total),
            thousands(impact.requests_failed),
            percent(impact.requests_failed, impact.requests_total),
            thousands(impact.requests_slow),
            percent(impact.requests_slow, impact.requests_total),
            seconds_text(self.findings.slow_threshold_us),
            severity_explained(incident.severity),
        );
        out.push_str("\n\n");
    }

    fn detection_text(&self, report: &Finding) -> String {
        let start = report.incident.start;
        match &report.detected {
            Some(detected) => {
                let when = format!(
                    "{}, {} after impact started",
                    self.full_time(detected.at),
                    self.between(start, detected.at)
                );
                match detected.source {
                    DetectionSource::Log => format!(
                        "{when}, by an alert in the logs: `{}`.",
                        code_span(&detection_evidence(&detected.evidence))
                    ),
                    DetectionSource::User => {
                        format!("{when}, as given by the responders (`--detected-at`).")
                    }
                    DetectionSource::Rule => format!(
                        "{when}. No alert was found in the logs; this is when a standard alert would have fired ({}). **TODO:** when and how did people actually notice? Give it with `--detected-at`.",
                        inline(&detection_evidence(&detected.evidence))
                    ),
                }
            }
            None => "no alert was found in the logs, and a standard SLO burn-rate alert would not have fired. **TODO:** when and how did someone notice? Give it with `--detected-at`.".to_string(),
        }
    }

    // ------------------------------------------------------------- timeline

    fn timeline(&self, report: &Finding, level: Level, out: &mut String) {
        let incident = &report.incident;
        out.push_str(&level.heading("Timeline"));
        let mut entries: Vec<&TimelineEntry> = report.timeline.iter().collect();
        entries.sort_by_key(|e| (e.at, e.kind));
        // The alert that detected the incident is shown once, as the
        // detection row.
        if let Some(detected) = report
            .detected
            .as_ref()
            .filter(|d| d.source == DetectionSource::Log)
        {
            let evidence = detection_evidence(&detected.evidence);
            entries.retain(|e| {
                let text = timeline_text(e, self.zone());
                !(e.kind == TimelineKind::Alert
                    && e.at == detected.at
                    && (evidence.contains(&text) || text.contains(&evidence)))
            });
        }
        let first_date = local_time(incident.start, self.zone()).date();
        let with_date = entries
            .iter()
            .any(|e| local_time(e.at, self.zone()).date() != first_date);
        let labels_vary = entries
            .iter()
            .any(|e| self.zone().label_at(e.at) != self.zone().label_at(incident.start));
        let last_change_before = report.last_change_before();
        let recovery_change = report.recovery_change();
        let _ = writeln!(
            out,
            "Times in {}{}. Bold rows: impact start and end, detection{}.\n",
            self.zone_name(),
            if with_date {
                String::new()
            } else {
                format!(", on {}", self.date(incident.start))
            },
            if last_change_before.is_some() {
                ", and the last change before impact"
            } else {
                ""
            }
        );
        let zone_header = if labels_vary {
            "Time".to_string()
        } else {
            format!("Time ({})", self.zone().label_at(incident.start))
        };
        let _ = writeln!(out, "| {zone_header} | Event | What happened | Source |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for entry in &entries {
            let mut when = if with_date {
                local_time(entry.at, self.zone())
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            } else {
                self.clock(entry.at)
            };
            if labels_vary {
                when = format!("{when} {}", self.zone().label_at(entry.at));
            }
            let is_last_change = last_change_before.is_some_and(|c| std::ptr::eq(c, *entry));
            let is_recovery = recovery_change.is_some_and(|c| std::ptr::eq(c, *entry));
            let (label, stand_out) = match entry.kind {
                TimelineKind::ImpactStart => ("Impact starts".to_string(), true),
                TimelineKind::ImpactEnd => ("Impact ends".to_string(), true),
                TimelineKind::Detected => (
                    match &report.detected {
                        Some(d) => format!("Detected ({})", detection_source_short(d.source)),
                        None => "Detected".to_string(),
                    },
                    true,
                ),
                TimelineKind::Peak => ("Peak".to_string(), false),
                TimelineKind::Alert => ("Alert".to_string(), false),
                TimelineKind::Event => ("Event".to_string(), false),
                TimelineKind::Change if is_last_change => (
                    format!(
                        "Change, {} before impact",
                        self.between(entry.at, incident.start)
                    ),
                    true,
                ),
                TimelineKind::Change if is_recovery => (
                    format!(
                        "Change, {} before impact ended",
                        self.between(entry.at, incident.end)
                    ),
                    false,
                ),
                TimelineKind::Change if (incident.start..=incident.end).contains(&entry.at) => {
                    ("Change during impact".to_string(), false)
                }
                TimelineKind::Change => ("Change".to_string(), false),
            };
            let text = cell(&with_count(
                &timeline_cell_text(entry, self.zone()),
                entry.count,
            ));
            let source = entry.source.as_deref().map(code_cell).unwrap_or_default();
            if stand_out {
                let _ = writeln!(out, "| **{when}** | **{label}** | **{text}** | {source} |");
            } else {
                let _ = writeln!(out, "| {when} | {label} | {text} | {source} |");
            }
        }
        out.push('\n');
        let (start_is, end_is) = if TrafficDrop::of(report).is_some() {
            (
                "the last request before the traffic fell away",
                "the first after it came back",
            )
        } else {
            ("the first bad request", "the last")
        };
        match &report.detected {
            Some(detected) if detected.at >= incident.start => {
                let _ = writeln!(
                    out,
                    "- **Time to detect (TTD):** {}, from impact start ({}, {start_is}) to detection ({}).",
                    self.between(incident.start, detected.at),
                    self.clock(incident.start),
                    self.clock(detected.at)
                );
            }
            Some(detected) => {
                let _ = writeln!(
                    out,
                    "- **Time to detect (TTD):** 0 s: detection ({}) came before impact start ({}, {start_is}).",
                    self.clock(detected.at),
                    self.clock(incident.start)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- **Time to detect (TTD):** unknown: no alert in the logs and the burn-rate rule did not fire. **TODO**"
                );
            }
        }
        let _ = writeln!(
            out,
            "- **Impact duration:** {}, from {start_is} ({}) to {end_is} ({}).",
            self.between(incident.start, incident.end),
            self.clock(incident.start),
            self.clock(incident.end)
        );
        if let Some(detected) = &report.detected {
            if detected.at <= incident.end {
                let _ = writeln!(
                    out,
                    "- **Time from detection to end of impact:** {}.",
                    self.between(detected.at, incident.end)
                );
            } else {
                let _ = writeln!(
                    out,
                    "- Detection came {} after impact had already ended.",
                    self.between(incident.end, detected.at)
                );
            }
        }
        let _ = writeln!(
            out,
            "- **TODO:** add what people did (who looked at what, escalations, misleading leads, the fix) as rows above.\n"
        );
    }

    // ----------------------------------------------------------- root cause

    fn root_cause(&self, report: &Finding, level: Level, out: &mut String) {
        let incident = &report.incident;
        out.push_str(&level.heading("Root Cause and Resolution"));
        let sub = level.below();
        out.push_str(&sub.heading("What the logs show"));
        if report.signals.is_empty() {
            let _ = writeln!(
                out,
                "No signal departed from its baseline beyond the bad-request count.\n"
            );
        } else {
            let _ = writeln!(
                out,
                "| Signal | Onset | Relative to impact start | Peak | Baseline | Source |"
            );
            let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
            let mut signals: Vec<&Signal> = report.signals.iter().collect();
            signals.sort_by_key(|s| s.onset);
            for signal in &signals {
                let _ = writeln!(
                    out,
                    "| {} ({}) | {} | {} | {} at {} | {} | {} |",
                    cell(&signal.name),
                    signal_kind_text(signal.kind),
                    self.clock(signal.onset),
                    self.relative(signal.onset, incident.start),
                    format_value(signal.peak, &signal.unit),
                    self.clock(signal.peak_at),
                    format_value(signal.baseline, &signal.unit),
                    code_cell(&signal.source)
                );
            }
            out.push('\n');
            if let Some(first) = report.moved_first() {
                let _ = writeln!(
                    out,
                    "{} moved first, {} before users were hit.\n",
                    inline(&first.name),
                    self.between(first.onset, incident.start)
                );
            }
        }
        let from = incident.start - AROUND_START_BEFORE_MS;
        let to = incident.start + AROUND_START_AFTER_MS;
        let around: Vec<&TimelineEntry> = report
            .timeline
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    TimelineKind::Change | TimelineKind::Alert | TimelineKind::Event
                ) && (from..=to).contains(&e.at)
            })
            .collect();
        let _ = writeln!(
            out,
            "Changes, alerts and events around the start (from {} before to {} after {}):\n",
            self.duration_words(AROUND_START_BEFORE_MS),
            self.duration_words(AROUND_START_AFTER_MS),
            self.clock(incident.start)
        );
        if around.is_empty() {
            let only_access = self
                .findings
                .inputs
                .iter()
                .all(|i| matches!(i.kind, InputKind::Access | InputKind::Unknown));
            if only_access {
                let _ = writeln!(
                    out,
                    "- none: only access logs were read. Add syslog, the web server's error log or metric exports (CSV) to the inputs to see what changed.\n"
                );
            } else {
                let _ = writeln!(out, "- none found in the inputs.\n");
            }
        } else {
            for entry in around {
                let _ = writeln!(
                    out,
                    "- {} ({}) {}: {}{}",
                    self.clock(entry.at),
                    self.relative(entry.at, incident.start),
                    entry.kind.name(),
                    inline(&with_count(&timeline_text(entry, self.zone()), entry.count)),
                    entry
                        .source
                        .as_deref()
                        .map(|s| format!(" (`{}`)", code_span(s)))
                        .unwrap_or_default()
                );
            }
            out.push('\n');
        }
        out.push_str(&sub.heading("Root Cause"));
        let _ = writeln!(
            out,
            "**TODO:** the cause in a few sentences: what changed, why it broke requests, and why these users and not others.\n"
        );
        out.push_str(&sub.heading("Resolution"));
        if let Some(change) = report.recovery_change() {
            let _ = writeln!(
                out,
                "The last change before impact ended was at {}, {} before the last bad request: {}{}.\n",
                self.clock(change.at),
                self.between(change.at, incident.end),
                inline(&timeline_text(change, self.zone())),
                change
                    .source
                    .as_deref()
                    .map(|s| format!(" (`{}`)", code_span(s)))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "**TODO:** what ended the impact at {}, and how the service was confirmed healthy.\n",
            self.full_time(incident.end)
        );
    }

    // ------------------------------------------------------------- measures

    fn measures(&self, report: &Finding, level: Level, out: &mut String) {
        let incident = &report.incident;
        out.push_str(&level.heading("Corrective and Preventative Measures"));
        let _ = writeln!(
            out,
            "- [ ] **TODO:** fix the root cause so it cannot recur."
        );
        let first_signal = report.first_signal();
        match &report.detected {
            Some(detected) if detected.source == DetectionSource::Rule => {
                let _ = writeln!(
                    out,
                    "- [ ] Page on the bad-request ratio (5xx, 499 and slow requests) with a multiwindow SLO burn-rate alert: no alert was found in the logs, and this one would have fired at {}, {} after impact started.",
                    self.clock(detected.at),
                    self.between(incident.start, detected.at)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- [ ] Page on the bad-request ratio (5xx, 499 and slow requests): no alert was found in the logs."
                );
            }
            Some(detected) if report.slow_detection() => {
                let moved_first = first_signal
                    .map(|s| {
                        format!(
                            " {} moved at {}: alert on it.",
                            inline(&s.name),
                            self.clock(s.onset)
                        )
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- [ ] Detect sooner: it took {} to notice.{moved_first}",
                    self.between(incident.start, detected.at)
                );
            }
            Some(_) => {}
        }
        if let Some(first) = report.moved_first() {
            let _ = writeln!(
                out,
                "- [ ] Alert on {} (`{}`): it left its baseline at {}, {} before users were hit.",
                inline(&first.name),
                code_span(&first.source),
                self.clock(first.onset),
                self.between(first.onset, incident.start)
            );
        }
        if let Some(latency) = report.signals.iter().find(|s| s.kind == "latency") {
            let _ = writeln!(
                out,
                "- [ ] Alert on p95 latency as well as on errors: it rose from {} to {}.",
                format_value(latency.baseline, &latency.unit),
                format_value(latency.peak, &latency.unit)
            );
        }
        if let Some(change) = report.last_change_before() {
            let _ = writeln!(
                out,
                "- [ ] Make changes like the one at {} ({}) safer: roll them out in stages, watch the error rate right after, and make rollback one step.",
                self.clock(change.at),
                inline(&timeline_text(change, self.zone()))
            );
        }
        let out_of_memory = report.out_of_memory_events();
        if out_of_memory > 0 {
            let _ = writeln!(
                out,
                "- [ ] Alert on memory use and set memory limits: the logs show {out_of_memory} out-of-memory event{}.",
                plural(out_of_memory as u64)
            );
        }
        if report.impact.users_missing > 0 {
            let _ = writeln!(
                out,
                "- [ ] Alert when traffic falls far below normal: an estimated {} users never reached the service.",
                thousands(report.impact.users_missing)
            );
        }
        let _ = writeln!(
            out,
            "- [ ] **TODO:** an owner and a due date for each item.\n"
        );
    }

    // ---------------------------------------------------------- no incident

    fn no_incident(&self, out: &mut String) {
        let findings = self.findings;
        let (first, last) = (
            findings.inputs.iter().filter_map(|i| i.first).min(),
            findings.inputs.iter().filter_map(|i| i.last).max(),
        );
        let _ = writeln!(out, "# Postmortem: no incident found\n");
        let requests = findings.series.total_requests();
        let users = distinct_users(findings);
        match (first, last) {
            (Some(first), Some(last)) => {
                let _ = writeln!(
                    out,
                    "{}, the logs show {} request{} from {} user{}, and no period departed from the baseline long enough to matter: no incident found.\n",
                    self.span_phrase(first, last),
                    thousands(requests),
                    plural(requests),
                    thousands(users),
                    plural(users)
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "No timestamped line was read, so there is nothing to compare with a baseline: no incident found.\n"
                );
            }
        }
        self.prefilled_note(out);
        out.push_str(&Level(2).heading("Baseline"));
        let baseline = &findings.baseline;
        let (failed, bad) = findings
            .counts
            .iter()
            .fold((0u64, 0u64), |(failed, bad), c| {
                (failed + c.failed, bad + c.bad())
            });
        let minutes = (findings.series.buckets.len() as f64 * findings.bucket_ms as f64
            / MS_PER_MINUTE as f64)
            .max(1.0);
        let _ = writeln!(out, "Measured over the whole log.\n");
        let _ = writeln!(out, "| Measure | Value |");
        let _ = writeln!(out, "| --- | ---: |");
        let _ = writeln!(
            out,
            "| Requests per minute | {:.1} |",
            requests as f64 / minutes
        );
        let _ = writeln!(
            out,
            "| Failed requests (5xx, 499) | {} ({}) |",
            thousands(failed),
            percent(failed, requests)
        );
        let _ = writeln!(
            out,
            "| Bad requests (failed or slow) | {} ({}) |",
            thousands(bad),
            percent(bad, requests)
        );
        for (name, value) in [
            ("p50", baseline.p50_us),
            ("p95", baseline.p95_us),
            ("p99", baseline.p99_us),
        ] {
            if let Some(us) = value {
                let _ = writeln!(out, "| {name} latency | {} |", format_value(us / 1e6, "s"));
            }
        }
        let _ = writeln!(
            out,
            "| Slow threshold | {} |\n",
            seconds_text(findings.slow_threshold_us)
        );
        out.push_str(&Level(2).heading("If you expected an incident"));
        if let (Some(first), Some(last)) = (first, last) {
            let _ = writeln!(
                out,
                "- The logs cover {}: if the outage was outside this range, add the logs of that time (rotated files such as `access.log.1` and `access.log.2.gz`).",
                self.span_phrase(first, last)
                    .replacen("On ", "", 1)
                    .replacen("From ", "", 1)
            );
        }
        let _ = writeln!(
            out,
            "- Requests count as slow above {}: if users suffered from slower but shorter responses, lower it with `--slow 500ms`.",
            seconds_text(findings.slow_threshold_us)
        );
        let _ = writeln!(
            out,
            "- A short incident is easier to see in finer buckets (`--bucket 30s`) and a narrower range (`--since`, `--until`)."
        );
        let _ = writeln!(
            out,
            "- If only some backends or virtual hosts failed, point `postmortem` at their logs alone.\n"
        );
    }

    // ------------------------------------------------------------- appendix

    fn appendix(&self, options: &MarkdownOptions, out: &mut String) {
        if let Some(link) = &options.chart_link {
            out.push_str(&Level(2).heading("Appendix: Chart"));
            let _ = writeln!(
                out,
                "![Requests per minute, bad-request ratio and p95 latency in {}; incidents shaded, detection and changes marked]({})\n",
                self.zone_name(),
                link_destination(link)
            );
        }
        self.client_bursts(out);
        out.push_str(&Level(2).heading("Appendix: Inputs"));
        self.inputs_table(out);
    }

    /// The 4xx bursts from single clients, named as not incidents.
    fn client_bursts(&self, out: &mut String) {
        let findings = self.findings;
        if findings.client_bursts.is_empty() {
            return;
        }
        out.push_str(&Level(2).heading("Appendix: 4xx Bursts from Single Clients"));
        let _ = writeln!(
            out,
            "Not incidents: a 4xx response is the client's business (a scanner probing paths, a crawler on dead links), never a failure by itself. Named here because they stand out on a graph.\n"
        );
        let _ = writeln!(
            out,
            "| Client | From | To | 4xx responses | Share of the 4xx |"
        );
        let _ = writeln!(out, "| --- | --- | --- | ---: | ---: |");
        for burst in &findings.client_bursts {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code_cell(&burst.client),
                crate::timefmt::human_datetime(burst.first, self.zone()),
                crate::timefmt::human_time(burst.last, self.zone()),
                thousands(burst.responses_4xx),
                pct_value(100.0 * burst.share())
            );
        }
        out.push('\n');
    }

    fn inputs_table(&self, out: &mut String) {
        let findings = self.findings;
        let _ = writeln!(
            out,
            "| Input | Kind | Format | Lines | Parsed | Skipped | First (UTC) | Last (UTC) |"
        );
        let _ = writeln!(out, "| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
        for input in &findings.inputs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                code_cell(&input.path),
                input.kind.name(),
                input.format.unwrap_or("-"),
                thousands(input.lines),
                thousands(input.parsed),
                if input.lines > 0 && input.skipped > 0 {
                    format!(
                        "{} ({})",
                        thousands(input.skipped),
                        percent(input.skipped, input.lines)
                    )
                } else {
                    thousands(input.skipped)
                },
                input.first.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
                input.last.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
            );
        }
        out.push('\n');
        let mut notes = false;
        for input in &findings.inputs {
            // An input that is no log at all is explained once, by its note
            // below; its lines are all "skipped" for the same reason.
            let explained_by_note = input.kind == InputKind::Unknown && input.note.is_some();
            for example in input.skipped_examples.iter().filter(|_| !explained_by_note) {
                let _ = writeln!(
                    out,
                    "- `{}:{}` skipped: {}",
                    code_span(&input.path),
                    example.line,
                    inline(&example.reason)
                );
                notes = true;
            }
            if input.out_of_range > 0 {
                let _ = writeln!(
                    out,
                    "- `{}`: {} parsed lines outside `--since`/`--until` were left out.",
                    code_span(&input.path),
                    thousands(input.out_of_range)
                );
                notes = true;
            }
            if let Some(error) = &input.error {
                let _ = writeln!(out, "- `{}`: {}", code_span(&input.path), inline(error));
                notes = true;
            }
            if input.kind == InputKind::Unknown
                && let Some(note) = &input.note
            {
                let _ = writeln!(
                    out,
                    "- `{}` not analysed: {}",
                    code_span(&input.path),
                    inline(note)
                );
                notes = true;
            }
        }
        if notes {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Definitions: a request is *failed* when its status is 5xx or 499, *slow* when it took longer than {}, *bad* when either. A user is one {}. A request's time is its arrival (nginx's completion time minus the request time). An incident starts at its first bad request and ends at its last (a traffic drop at the last request before it and the first after it); impact counts the requests and users in between. Series buckets are {} wide.",
            seconds_text(findings.slow_threshold_us),
            user_key_text(findings.user_key),
            self.duration_words(findings.bucket_ms)
        );
    }

    // --------------------------------------------------------------- times

    /// `14:00:03`.
    fn clock(&self, at: Millis) -> String {
        local_time(at, self.zone()).format("%H:%M:%S").to_string()
    }

    /// `14:00:03 GMT+1`.
    fn clock_zone(&self, at: Millis) -> String {
        format!("{} {}", self.clock(at), self.zone().label_at(at))
    }

    /// `2023-11-12`.
    fn date(&self, at: Millis) -> String {
        local_time(at, self.zone()).format("%Y-%m-%d").to_string()
    }

    /// `2023-11-12 14:00:03 GMT+1`.
    fn full_time(&self, at: Millis) -> String {
        format!("{} {}", self.date(at), self.clock_zone(at))
    }

    /// `from 14:00:01 to 16:59:56 GMT+1` (the zone after both times when
    /// a daylight-saving change falls between them).
    fn clock_range(&self, start: Millis, end: Millis) -> String {
        if self.zone().label_at(start) == self.zone().label_at(end) {
            format!("from {} to {}", self.clock(start), self.clock_zone(end))
        } else {
            format!(
                "from {} to {}",
                self.clock_zone(start),
                self.clock_zone(end)
            )
        }
    }

    /// `On 2023-11-12 from 14:00:01 to 16:59:56 GMT+1`, as a sentence's start.
    fn span_phrase(&self, start: Millis, end: Millis) -> String {
        if self.date(start) == self.date(end) {
            format!("On {} {}", self.date(start), self.clock_range(start, end))
        } else {
            format!("From {} to {}", self.full_time(start), self.full_time(end))
        }
    }

    /// For titles: `on 2023-11-12, 14:00:01–16:59:56 GMT+1`, or
    /// `from 2023-11-12 22:00:00 GMT+1 to 2023-11-13 01:00:00 GMT+1`.
    fn title_range(&self, start: Millis, end: Millis) -> String {
        if self.date(start) == self.date(end) {
            format!(
                "on {}, {}–{}",
                self.date(start),
                if self.zone().label_at(start) == self.zone().label_at(end) {
                    self.clock(start)
                } else {
                    self.clock_zone(start)
                },
                self.clock_zone(end)
            )
        } else {
            format!("from {} to {}", self.full_time(start), self.full_time(end))
        }
    }

    /// `GMT+1 is the zone of the logs`.
    fn zone_phrase(&self, at: Millis) -> String {
        format!(
            "{} is the zone of the logs",
            match self.zone() {
                Zone::Named(tz) => format!("{} ({tz})", self.zone().label_at(at)),
                Zone::Fixed(_) => self.zone().label_at(at),
            }
        )
    }

    /// `GMT+1` or `Europe/Berlin (GMT+1 at the start)`.
    fn zone_name(&self) -> String {
        let at = self
            .findings
            .incidents
            .first()
            .map(|r| r.incident.start)
            .or_else(|| self.findings.inputs.iter().filter_map(|i| i.first).min())
            .unwrap_or(0);
        match self.zone() {
            Zone::Named(tz) => format!("{tz} ({})", self.zone().label_at(at)),
            Zone::Fixed(_) => self.zone().label_at(at),
        }
    }

    /// The duration between two instants, rounded to the second: the
    /// JSON's `duration_s` and `time_to_detect_s` in words.
    fn between(&self, from: Millis, to: Millis) -> String {
        match rounded_seconds(to - from) {
            0 if to != from => "under 1 s".to_string(),
            seconds => exact_duration(seconds),
        }
    }

    /// `40 min before`, `6 s after`, `within 1 s`, `at the same time`.
    fn relative(&self, at: Millis, reference: Millis) -> String {
        let seconds = rounded_seconds(at - reference);
        match seconds.signum() {
            0 if at == reference => "at the same time".to_string(),
            0 => "within 1 s".to_string(),
            1 => format!("{} after", exact_duration(seconds)),
            _ => format!("{} before", exact_duration(-seconds)),
        }
    }

    fn duration_words(&self, ms: i64) -> String {
        exact_duration(ms.div_euclid(MS_PER_SECOND))
    }
}

/// What the Markdown of a traffic-drop incident says of the traffic: its
/// start and end are the last request before the drop and the first after
/// it, not bad requests, and its impact is the users who never came.
struct TrafficDrop {
    /// Requests a minute the baseline expected over the drop, and the
    /// fewest seen in a minute of it (the `traffic` signal).
    per_minute: Option<(f64, f64)>,
}

impl TrafficDrop {
    fn of(report: &Finding) -> Option<Self> {
        if !matches!(report.incident.cause, Cause::TrafficDrop { .. }) {
            return None;
        }
        let per_minute = report
            .signals
            .iter()
            .find(|signal| signal.kind == "traffic")
            .map(|signal| (signal.baseline, signal.peak));
        Some(TrafficDrop { per_minute })
    }

    /// `traffic stopped (0 requests a minute at its lowest, about 54
    /// normally)`.
    fn what_happened(&self) -> String {
        match self.per_minute {
            Some((expected, lowest)) => format!(
                "traffic {} ({} requests a minute at its lowest, about {} normally)",
                if lowest == 0.0 { "stopped" } else { "fell" },
                thousands(lowest.round() as u64),
                thousands(expected.round() as u64)
            ),
            None => "traffic fell far below normal".to_string(),
        }
    }

    fn severity_explained(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Outage => "outage (traffic stopped)",
            Severity::PartialOutage => "partial outage (traffic fell far below normal)",
            Severity::Degradation => severity_explained(severity),
        }
    }
}

/// Distinct users over the whole series.
fn distinct_users(findings: &Findings) -> u64 {
    let mut users = rustc_hash::FxHashSet::default();
    for bucket in &findings.series.buckets {
        users.extend(bucket.users.keys().copied());
    }
    users.len() as u64
}
