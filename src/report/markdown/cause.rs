//! The Root Cause and Resolution section: the signals, the changes, alerts
//! and events around the start, and the change that preceded recovery.

use std::fmt::Write;

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
                    inline(&with_span(
                        &timeline_text(entry, self.zone()),
                        entry.count,
                        (last_at(entry) > entry.at).then(|| self.clock(last_at(entry)))
                    )),
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
}
