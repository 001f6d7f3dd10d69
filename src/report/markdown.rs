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

use std::borrow::Cow;
use std::fmt::Write;

use crate::analysis::{
    Analysis, DetectionSource, IncidentReport, Signal, TimelineEntry, TimelineKind,
};
use crate::config::UserKey;
use crate::detect::{Cause, Severity};
use crate::ingest::InputKind;
use crate::timefmt::{MS_PER_MINUTE, MS_PER_SECOND, Millis, Zone, local_time, rfc3339_utc};

/// What the Markdown links to besides itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// The chart's path as the Markdown should link it (relative to the
    /// Markdown file when it is written with `-o`), when `--chart` is given.
    pub chart_link: Option<String>,
}

/// Renders the whole report without a chart.
pub fn render(analysis: &Analysis) -> String {
    render_with(analysis, &MarkdownOptions::default())
}

/// Renders the whole report.
pub fn render_with(analysis: &Analysis, options: &MarkdownOptions) -> String {
    let mut out = String::new();
    let page = Page { analysis };
    match analysis.incidents.as_slice() {
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

/// Detection later than this after the start earns a "detect sooner" item.
const SLOW_DETECTION_MS: i64 = 5 * MS_PER_MINUTE;

/// How far before the start "the events around the start" reach: the
/// contract's timeline reaches back one hour.
const AROUND_START_BEFORE_MS: i64 = 60 * MS_PER_MINUTE;

/// How far after the start "the events around the start" reach.
const AROUND_START_AFTER_MS: i64 = 15 * MS_PER_MINUTE;

/// A change this close before the end of impact is named as what preceded
/// recovery (a rollback or restart is usually minutes before the last bad
/// request).
const RECOVERY_CHANGE_WINDOW_MS: i64 = 15 * MS_PER_MINUTE;

/// A signal whose onset is this much earlier than the start "moved first"
/// (one default bucket: an earlier onset inside the same minute is noise).
const MOVED_FIRST_MS: i64 = MS_PER_MINUTE;

struct Page<'a> {
    analysis: &'a Analysis,
}

impl Page<'_> {
    fn zone(&self) -> &Zone {
        &self.analysis.zone
    }

    // ---------------------------------------------------------------- title

    fn title_and_summary(&self, report: &IncidentReport, out: &mut String) {
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
    fn summary_sentence(&self, report: &IncidentReport) -> String {
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
        let lines: u64 = self.analysis.inputs.iter().map(|i| i.lines).sum();
        let inputs = self.analysis.inputs.len();
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

    fn overview(&self, reports: &[IncidentReport], out: &mut String) {
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

    fn numbered_incident(&self, number: usize, report: &IncidentReport, out: &mut String) {
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

    fn incident_sections(&self, report: &IncidentReport, level: Level, out: &mut String) {
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

    fn issue_summary(&self, report: &IncidentReport, level: Level, out: &mut String) {
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
    fn detection_and_leads(&self, report: &IncidentReport, question: &str, out: &mut String) {
        let _ = writeln!(out, "**Detection:** {}\n", self.detection_text(report));
        let _ = writeln!(
            out,
            "**Root Cause:** **TODO:** {question} Leads from the logs:\n"
        );
        for hint in &report.hints {
            let _ = writeln!(out, "- {}", inline(hint));
        }
        if report.hints.is_empty() {
            let _ = writeln!(out, "- none found");
        }
        out.push('\n');
    }

    /// The impact paragraph of an incident of failed or slow requests.
    fn request_impact(&self, report: &IncidentReport, out: &mut String) {
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
            seconds_text(self.analysis.slow_threshold_us),
            severity_explained(incident.severity),
        );
        out.push_str("\n\n");
    }

    fn detection_text(&self, report: &IncidentReport) -> String {
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
                        code_span(&detected.evidence)
                    ),
                    DetectionSource::User => {
                        format!("{when}, as given by the responders (`--detected-at`).")
                    }
                    DetectionSource::Rule => format!(
                        "{when}. No alert was found in the logs; this is when a standard alert would have fired ({}). **TODO:** when and how did people actually notice? Give it with `--detected-at`.",
                        inline(&detected.evidence)
                    ),
                }
            }
            None => "no alert was found in the logs, and a standard SLO burn-rate alert would not have fired. **TODO:** when and how did someone notice? Give it with `--detected-at`.".to_string(),
        }
    }

    // ------------------------------------------------------------- timeline

    fn timeline(&self, report: &IncidentReport, level: Level, out: &mut String) {
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
            entries.retain(|e| {
                !(e.kind == TimelineKind::Alert
                    && e.at == detected.at
                    && (detected.evidence.contains(&e.text) || e.text.contains(&detected.evidence)))
            });
        }
        let first_date = local_time(incident.start, self.zone()).date();
        let with_date = entries
            .iter()
            .any(|e| local_time(e.at, self.zone()).date() != first_date);
        let labels_vary = entries
            .iter()
            .any(|e| self.zone().label_at(e.at) != self.zone().label_at(incident.start));
        let last_change_before = last_change_before(&entries, incident.start);
        let recovery_change = recovery_change(&entries, incident.start, incident.end);
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
                &without_kind_prefix(&entry.text, entry.kind),
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

    fn root_cause(&self, report: &IncidentReport, level: Level, out: &mut String) {
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
            if let Some(first) = signals.first()
                && first.onset + MOVED_FIRST_MS <= incident.start
            {
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
                .analysis
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
                    inline(&with_count(&entry.text, entry.count)),
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
        let mut entries: Vec<&TimelineEntry> = report.timeline.iter().collect();
        entries.sort_by_key(|e| (e.at, e.kind));
        if let Some(change) = recovery_change(&entries, incident.start, incident.end) {
            let _ = writeln!(
                out,
                "The last change before impact ended was at {}, {} before the last bad request: {}{}.\n",
                self.clock(change.at),
                self.between(change.at, incident.end),
                inline(&change.text),
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

    fn measures(&self, report: &IncidentReport, level: Level, out: &mut String) {
        let incident = &report.incident;
        out.push_str(&level.heading("Corrective and Preventative Measures"));
        let _ = writeln!(
            out,
            "- [ ] **TODO:** fix the root cause so it cannot recur."
        );
        let first_signal = report.signals.iter().min_by_key(|s| s.onset);
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
            Some(detected) if detected.at - incident.start > SLOW_DETECTION_MS => {
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
        if let Some(first) = first_signal
            && first.onset + MOVED_FIRST_MS <= incident.start
        {
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
        let mut entries: Vec<&TimelineEntry> = report.timeline.iter().collect();
        entries.sort_by_key(|e| (e.at, e.kind));
        if let Some(change) = last_change_before(&entries, incident.start) {
            let _ = writeln!(
                out,
                "- [ ] Make changes like the one at {} ({}) safer: roll them out in stages, watch the error rate right after, and make rollback one step.",
                self.clock(change.at),
                inline(&change.text)
            );
        }
        let out_of_memory = report
            .timeline
            .iter()
            .filter(|e| e.kind == TimelineKind::Event && mentions_out_of_memory(&e.text))
            .count();
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
        let analysis = self.analysis;
        let (first, last) = (
            analysis.inputs.iter().filter_map(|i| i.first).min(),
            analysis.inputs.iter().filter_map(|i| i.last).max(),
        );
        let _ = writeln!(out, "# Postmortem: no incident found\n");
        let requests = analysis.series.total_requests();
        let users = distinct_users(analysis);
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
        let baseline = &analysis.baseline;
        let (failed, bad) = analysis
            .counts
            .iter()
            .fold((0u64, 0u64), |(failed, bad), c| {
                (failed + c.failed, bad + c.bad())
            });
        let minutes = (analysis.series.buckets.len() as f64 * analysis.bucket_ms as f64
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
            seconds_text(analysis.slow_threshold_us)
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
            seconds_text(analysis.slow_threshold_us)
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
        let analysis = self.analysis;
        if analysis.client_bursts.is_empty() {
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
        for burst in &analysis.client_bursts {
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
        let analysis = self.analysis;
        let _ = writeln!(
            out,
            "| Input | Kind | Format | Lines | Parsed | Skipped | First (UTC) | Last (UTC) |"
        );
        let _ = writeln!(out, "| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
        for input in &analysis.inputs {
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
        for input in &analysis.inputs {
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
            seconds_text(analysis.slow_threshold_us),
            user_key_text(analysis.user_key),
            self.duration_words(analysis.bucket_ms)
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
            .analysis
            .incidents
            .first()
            .map(|r| r.incident.start)
            .or_else(|| self.analysis.inputs.iter().filter_map(|i| i.first).min())
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

/// The last change at or before the start: the prime suspect.
fn last_change_before<'e>(
    entries: &[&'e TimelineEntry],
    start: Millis,
) -> Option<&'e TimelineEntry> {
    entries
        .iter()
        .copied()
        .filter(|e| e.kind == TimelineKind::Change && e.at <= start)
        .max_by_key(|e| e.at)
}

/// The last change during the impact and shortly before its end: what
/// preceded recovery (a rollback, a restart).
fn recovery_change<'e>(
    entries: &[&'e TimelineEntry],
    start: Millis,
    end: Millis,
) -> Option<&'e TimelineEntry> {
    entries
        .iter()
        .copied()
        .filter(|e| {
            e.kind == TimelineKind::Change
                && e.at > start
                && e.at <= end
                && end - e.at <= RECOVERY_CHANGE_WINDOW_MS
        })
        .max_by_key(|e| e.at)
}

/// Whether an event's text speaks of memory exhaustion (kernel OOM killer,
/// runtimes' "out of memory").
fn mentions_out_of_memory(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("out of memory") || lower.contains("oom")
}

/// Drops a leading `Impact starts: `-style label from generated texts when
/// the table's Event column already says it. Entries from the logs keep
/// what follows their kind: `Change on web04 (systemd unit): ...` reads
/// `web04 (systemd unit): ...` in a row whose Event is `Change`, and
/// `Alert (nagios): ...` reads `nagios: ...`. A recovery keeps its word,
/// which its Event column (`Alert`) does not say.
fn without_kind_prefix(text: &str, kind: TimelineKind) -> Cow<'_, str> {
    let (label, from_logs) = match kind {
        TimelineKind::ImpactStart => ("Impact starts", false),
        TimelineKind::ImpactEnd => ("Impact ends", false),
        TimelineKind::Peak => ("Peak", false),
        TimelineKind::Detected => ("Detected", false),
        TimelineKind::Change => ("Change", true),
        TimelineKind::Alert => ("Alert", true),
        TimelineKind::Event => ("Event", true),
    };
    let Some(rest) = text.strip_prefix(label) else {
        return Cow::Borrowed(text);
    };
    let Some((head, tail)) = rest.split_once(": ") else {
        return Cow::Borrowed(text);
    };
    if tail.is_empty() {
        return Cow::Borrowed(text);
    }
    let in_brackets = head
        .strip_prefix(" (")
        .and_then(|inner| inner.strip_suffix(')'));
    match (from_logs, in_brackets) {
        (false, _) if head.is_empty() => Cow::Borrowed(tail),
        (false, Some(_)) => Cow::Borrowed(tail),
        (true, _) if rest.starts_with(" on ") => Cow::Borrowed(&rest[" on ".len()..]),
        (true, Some(rule)) => Cow::Owned(format!("{rule}: {tail}")),
        _ => Cow::Borrowed(text),
    }
}

/// A folded timeline entry's text with how many lines it stands for.
fn with_count(text: &str, count: u64) -> String {
    if count > 1 {
        format!("{text} (×{count})")
    } else {
        text.to_string()
    }
}

fn severity_title(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "Outage",
        Severity::PartialOutage => "Partial outage",
        Severity::Degradation => "Degradation",
    }
}

fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "outage",
        Severity::PartialOutage => "partial outage",
        Severity::Degradation => "degradation",
    }
}

fn severity_verb(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "the service was down",
        Severity::PartialOutage => "the service was partly down",
        Severity::Degradation => "the service was slow",
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
    fn of(report: &IncidentReport) -> Option<Self> {
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

/// `Traffic stopped` from `traffic stopped`.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn severity_explained(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "outage (nearly every request failed)",
        Severity::PartialOutage => "partial outage (part of the requests failed)",
        Severity::Degradation => "degradation (requests were slow, not failing)",
    }
}

fn detection_source_short(source: DetectionSource) -> &'static str {
    match source {
        DetectionSource::Log => "alert in the logs",
        DetectionSource::Rule => "burn-rate rule",
        DetectionSource::User => "given",
    }
}

fn signal_kind_text(kind: &str) -> &str {
    match kind {
        "error_rate" => "error rate",
        "latency" => "latency",
        "traffic" => "traffic",
        "metric" => "metric",
        "events" => "events",
        other => other,
    }
}

fn user_key_text(key: UserKey) -> &'static str {
    match key {
        UserKey::Ip => "client address (`--users ip`)",
        UserKey::IpUserAgent => {
            "client address with its user agent (`--users ip-ua`; the address alone where the log has no user agent)"
        }
        UserKey::RemoteUser => {
            "authenticated user (`--users remote-user`; the client address where there is none)"
        }
    }
}

/// Distinct users over the whole series.
fn distinct_users(analysis: &Analysis) -> u64 {
    let mut users = rustc_hash::FxHashSet::default();
    for bucket in &analysis.series.buckets {
        users.extend(bucket.users.keys().copied());
    }
    users.len() as u64
}

/// Milliseconds to whole seconds, rounded half away from zero.
fn rounded_seconds(ms: i64) -> i64 {
    let magnitude = (ms.abs() + MS_PER_SECOND / 2) / MS_PER_SECOND;
    if ms < 0 { -magnitude } else { magnitude }
}

/// `2 h 59 min 55 s`, `3 h`, `16 s`, `2 d 8 h 15 min 0 s`: every unit from
/// the largest to the smallest that is not zero, so nothing is rounded.
pub fn exact_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let parts = [
        (seconds / 86_400, "d"),
        ((seconds % 86_400) / 3600, "h"),
        ((seconds % 3600) / 60, "min"),
        (seconds % 60, "s"),
    ];
    let Some(first) = parts.iter().position(|(value, _)| *value != 0) else {
        return "0 s".to_string();
    };
    let last = parts
        .iter()
        .rposition(|(value, _)| *value != 0)
        .unwrap_or(first);
    parts[first..=last]
        .iter()
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `1234567` as `1,234,567`: every count a person reads in a report.
pub fn thousands(n: u64) -> String {
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

/// `part` as a percentage of `whole`: `59.6%`, `0.25%`, `0%`.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".to_string()
    } else {
        pct_value(100.0 * part as f64 / whole as f64)
    }
}

/// A percentage with one decimal, or two below 1% so small rates do not
/// read as zero.
fn pct_value(pct: f64) -> String {
    if pct == 0.0 {
        "0%".to_string()
    } else if pct.abs() < 1.0 {
        format!("{pct:.2}%")
    } else {
        format!("{pct:.1}%")
    }
}

/// A signal's value in its unit: ratios as percentages, seconds as `ms`
/// below one second, anything else with up to three decimals.
fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ratio" => pct_value(100.0 * value),
        "s" if value.abs() < 1.0 => format!("{:.0} ms", value * 1000.0),
        "s" => format!("{value:.2} s"),
        "%" => format!("{}%", compact_number(value)),
        "" => compact_number(value),
        unit => format!("{} {unit}", compact_number(value)),
    }
}

/// Up to three decimals, trailing zeros dropped.
fn compact_number(value: f64) -> String {
    let text = format!("{value:.3}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

fn seconds_text(us: u64) -> String {
    let seconds = us as f64 / 1e6;
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Text from the logs made safe inside a table cell: no pipe, no line
/// break, no `<` that a renderer would take for an HTML tag.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text from the logs made safe in running Markdown text.
fn inline(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace('<', "&lt;")
}

/// A path or `path:line` as code inside a table cell.
fn code_cell(text: &str) -> String {
    format!("`{}`", code_span(text).replace('|', "\\|"))
}

/// Text for inside backticks: no backtick, no line break.
fn code_span(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace('`', "'")
}

/// A link destination, in angle brackets when it holds spaces or brackets.
fn link_destination(link: &str) -> String {
    if link.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", link.replace(['<', '>'], ""))
    } else {
        link.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_durations_keep_every_second() {
        let cases = [
            ("zero", 0, "0 s"),
            ("seconds", 16, "16 s"),
            ("minutes and seconds", 516, "8 min 36 s"),
            ("whole hours", 3 * 3600, "3 h"),
            ("hours minutes seconds", 10_795, "2 h 59 min 55 s"),
            ("inner zero kept", 3600 + 5, "1 h 0 min 5 s"),
            ("days", 2 * 86_400 + 8 * 3600 + 15 * 60, "2 d 8 h 15 min"),
            ("negative clamps", -5, "0 s"),
        ];
        for (name, seconds, expected) in cases {
            assert_eq!(exact_duration(seconds), expected, "{name}");
        }
    }

    #[test]
    fn thousands_are_grouped() {
        let cases = [
            ("zero", 0, "0"),
            ("three digits", 999, "999"),
            ("four digits", 1000, "1,000"),
            ("millions", 1_234_567, "1,234,567"),
            ("the largest count", u64::MAX, "18,446,744,073,709,551,615"),
        ];
        for (name, n, text) in cases {
            assert_eq!(thousands(n), text, "{name}");
        }
    }

    #[test]
    fn values_read_in_their_unit() {
        let cases = [
            ("small ratio", 0.0021, "ratio", "0.21%"),
            ("large ratio", 0.463, "ratio", "46.3%"),
            ("zero ratio", 0.0, "ratio", "0%"),
            ("sub-second latency", 0.192, "s", "192 ms"),
            ("seconds", 30.015, "s", "30.02 s"),
            ("percent metric", 85.25, "%", "85.25%"),
            ("bytes", 1024.0, "bytes", "1024 bytes"),
            ("unitless", 2.71234, "", "2.712"),
        ];
        for (name, value, unit, expected) in cases {
            assert_eq!(format_value(value, unit), expected, "{name}");
        }
    }

    #[test]
    fn generated_labels_are_not_repeated() {
        let cases = [
            (
                "impact start",
                "Impact starts: first bad request",
                TimelineKind::ImpactStart,
                "first bad request",
            ),
            (
                "detection with source",
                "Detected (rule): SLO 99.9%",
                TimelineKind::Detected,
                "SLO 99.9%",
            ),
            ("peak", "Peak: 80% bad", TimelineKind::Peak, "80% bad"),
            (
                "other kinds keep their text",
                "Peak: nginx reloaded",
                TimelineKind::Change,
                "Peak: nginx reloaded",
            ),
            (
                "a change on a host",
                "Change on web04 (systemd unit): systemd: Started app.service",
                TimelineKind::Change,
                "web04 (systemd unit): systemd: Started app.service",
            ),
            (
                "an alert without a host",
                "Alert (alertmanager): firing HighErrorRate",
                TimelineKind::Alert,
                "alertmanager: firing HighErrorRate",
            ),
            (
                "a recovery keeps its word",
                "Recovery on web02 (nagios): SERVICE ALERT: web02;HTTP;OK",
                TimelineKind::Alert,
                "Recovery on web02 (nagios): SERVICE ALERT: web02;HTTP;OK",
            ),
            (
                "an event whose text has no rule",
                "Eventually: x",
                TimelineKind::Event,
                "Eventually: x",
            ),
            (
                "a label that is only a prefix of a word stays",
                "Peaked: x",
                TimelineKind::Peak,
                "Peaked: x",
            ),
        ];
        for (name, text, kind, expected) in cases {
            assert_eq!(without_kind_prefix(text, kind), expected, "{name}");
        }
    }

    #[test]
    fn log_text_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <165>"), "a\\|b c &lt;165>");
        assert_eq!(code_cell("we`ird|path"), "`we'ird\\|path`");
        assert_eq!(link_destination("my chart.svg"), "<my chart.svg>");
        assert_eq!(link_destination("../chart.svg"), "../chart.svg");
    }
}
