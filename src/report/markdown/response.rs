//! The Misleading Investigation Paths and Escalation sections, prefilled
//! with what the responders' own commands (`sudo`, shell audit lines) and
//! monitoring's notifications show, with the **TODO** kept for what only
//! people know: why a lead looked right, who was called and why.

use std::fmt::Write;

use crate::detect::Finding;
use crate::detect::TimelineEntry;
use crate::detect::actions::{self, ActionRun};
use crate::report::sentences::{action_run_text, actor_text};

use super::text::*;
use super::{Level, Page};

impl Page<'_> {
    pub(super) fn investigation_paths(&self, report: &Finding, level: Level, out: &mut String) {
        out.push_str(&level.heading("Misleading Investigation Paths"));
        let (paths, judged) = actions::paths_not_taken(report);
        if !paths.is_empty() {
            match report.resolution.as_ref() {
                Some(fix) if judged => {
                    let _ = writeln!(
                        out,
                        "From the responders' own commands (sudo and shell audit lines), these looks during the impact were on another host or about another part of the system than the fix ({}{}):\n",
                        self.clock(fix.at),
                        fix.host
                            .as_deref()
                            .map(|h| format!(" on {}", inline(h)))
                            .unwrap_or_default()
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "From the responders' own commands (sudo and shell audit lines), what was looked at during the impact (no logged fix to compare with):\n"
                    );
                }
            }
            for (entry, run) in &paths {
                let _ = writeln!(out, "- {}", self.run_line(entry, run));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "**TODO:** which leads were followed and turned out wrong (a suspected attack, the database, the network), what made them look right, and how long they took.\n"
        );
    }

    pub(super) fn escalation(&self, report: &Finding, level: Level, out: &mut String) {
        out.push_str(&level.heading("Escalation"));
        let (start, end) = (report.incident.start, report.incident.end);
        let mut paged: Vec<String> = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        for (at, contact, source) in actions::pages(report) {
            if at < start || at > end || paged.contains(&contact) {
                continue;
            }
            lines.push(format!(
                "{} monitoring notified {}{}",
                self.clock(at),
                inline(&contact),
                source_suffix(source.as_deref())
            ));
            paged.push(contact);
        }
        for responder in actions::responders(report) {
            let hosts: Vec<&str> = responder.hosts.iter().map(String::as_str).collect();
            lines.push(format!(
                "{} first command by {}{} ({} command{} in all){}",
                self.clock(responder.first_at),
                inline(&actor_text(&responder.actor)),
                if hosts.is_empty() {
                    String::new()
                } else {
                    format!(", on {}", hosts.join(", "))
                },
                responder.commands,
                if responder.commands == 1 { "" } else { "s" },
                source_suffix(responder.source.as_deref())
            ));
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "From the logs, in order of first appearance:\n");
            for line in &lines {
                let _ = writeln!(out, "- {line}");
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "**TODO:** who was paged or pulled in, when, and why; add these to the timeline.\n"
        );
    }

    /// `16:15:41–16:21:56 oncall on db1 looked at the database: ... (`syslog:140`)`.
    fn run_line(&self, entry: &TimelineEntry, run: &ActionRun) -> String {
        let when = if run.last_at > entry.at {
            format!("{}–{}", self.clock(entry.at), self.clock(run.last_at))
        } else {
            self.clock(entry.at)
        };
        format!(
            "{when} {}{}",
            inline(&action_run_text(run)),
            source_suffix(entry.source.as_deref())
        )
    }
}

/// ` (`path:line`)`, or nothing.
fn source_suffix(source: Option<&str>) -> String {
    source
        .map(|s| format!(" ({})", code(s)))
        .unwrap_or_default()
}
