//! The Root Cause and Resolution section: the signals, the changes, alerts
//! and events around the start, and the resolution: the change that most
//! likely ended the impact, or that none was logged.

use std::fmt::Write;

use crate::detect::resolution::{RESOLUTION_AFTER_END_MS, ResolutionChoice};
use crate::detect::timeline::{EVIDENCE_AFTER_MS, EVIDENCE_BEFORE_MS};
use crate::detect::{Finding, Signal, TimelineEntry};
use crate::ingest::InputKind;

use super::text::*;
use super::{Level, Page};
use crate::report::sentences::{last_at, timeline_text};

/// How far before and after the start "the events around the start"
/// reach (detect chooses them).
const AROUND_START_BEFORE_MS: i64 = EVIDENCE_BEFORE_MS;
const AROUND_START_AFTER_MS: i64 = EVIDENCE_AFTER_MS;

impl Page<'_> {
    // ----------------------------------------------------------- root cause

    pub(super) fn root_cause(&self, report: &Finding, level: Level, out: &mut String) {
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
                    metric_value(signal.peak, &signal.unit, &signal.name),
                    self.clock(signal.peak_at),
                    metric_value(signal.baseline, &signal.unit, &signal.name),
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
        // Folded and ranked in detect as the timeline is.
        let around: Vec<&TimelineEntry> = report.evidence.iter().collect();
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
                    inline(&entry_span(
                        entry,
                        &timeline_text(entry, self.zone()),
                        (last_at(entry) > entry.at).then(|| self.clock(last_at(entry)))
                    )),
                    entry
                        .source
                        .as_deref()
                        .map(|s| format!(" ({})", code(s)))
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
        match &report.resolution {
            Some(resolution) => {
                let relative = self.relative(resolution.at, incident.end);
                let relative = match relative.as_str() {
                    "at the same time" => "at the time of the last bad request".to_string(),
                    "within 1 s" => "within a second of the last bad request".to_string(),
                    other => format!("{other} the last bad request"),
                };
                let _ = writeln!(
                    out,
                    "The change that most likely ended the impact was at {}, {relative}{}: {}{} ({}).\n",
                    self.clock(resolution.at),
                    resolution
                        .host
                        .as_deref()
                        .map(|h| format!(", on {}", inline(h)))
                        .unwrap_or_default(),
                    inline(&resolution.text),
                    resolution
                        .source
                        .as_deref()
                        .map(|s| format!(" ({})", code(s)))
                        .unwrap_or_default(),
                    resolution_choice_words(resolution.choice)
                );
                if let Some(run) = &resolution.run {
                    let _ = writeln!(
                        out,
                        "It was part of the configuration-management run {}.\n",
                        inline(run)
                    );
                }
                let _ = writeln!(
                    out,
                    "**TODO:** confirm that this change ended the impact at {}, what it changed, and how the service was confirmed healthy.\n",
                    self.full_time(incident.end)
                );
            }
            None if !self.reads_events() => {
                let _ = writeln!(
                    out,
                    "Whether a change ended the impact is unknown: no syslog or web-server error log was read. Add them to the inputs to see the fix.\n"
                );
                let _ = writeln!(
                    out,
                    "**TODO:** what ended the impact at {}, and how the service was confirmed healthy.\n",
                    self.full_time(incident.end)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "The impact ended without a logged change: no restart, reload, deploy or configuration write was logged from the start to {} after the end.\n",
                    self.duration_words(RESOLUTION_AFTER_END_MS)
                );
                let _ = writeln!(
                    out,
                    "**TODO:** what was done to end the impact at {} (or why it ended by itself), and how the service was confirmed healthy.\n",
                    self.full_time(incident.end)
                );
            }
        }
    }
}

impl Page<'_> {
    /// Whether any input can hold change lines (syslog, an error log).
    fn reads_events(&self) -> bool {
        self.findings
            .inputs
            .iter()
            .any(|i| matches!(i.kind, InputKind::Syslog | InputKind::ErrorLog))
    }
}

/// Why the resolution was chosen, as words.
fn resolution_choice_words(choice: ResolutionChoice) -> &'static str {
    match choice {
        ResolutionChoice::ServedRestartBefore => {
            "the last restart or reload before the end of a service that serves the traffic or failed during the impact"
        }
        ResolutionChoice::ServedRestartAfter => {
            "the first restart or reload of a service that serves the traffic or failed during the impact, logged after the last bad request"
        }
        ResolutionChoice::DeliberateChangeBefore => {
            "the last configuration write, deploy or package change shortly before the end; no affected service was restarted"
        }
    }
}
