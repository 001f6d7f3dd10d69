//! The Corrective and Preventative Measures section: the items that follow
//! from how the incident was detected and what the findings single out.

use std::fmt::Write;

use crate::detect::{DetectionSource, Finding};

use super::text::*;
use super::{Level, Page};
use crate::report::sentences::timeline_text;

impl Page<'_> {
    // ------------------------------------------------------------- measures

    pub(super) fn measures(&self, report: &Finding, level: Level, out: &mut String) {
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
                "- [ ] Alert on {} ({}): it left its baseline at {}, {} before users were hit.",
                inline(&first.name),
                code(&first.source),
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
        if let Some(pattern) = report.signals.iter().find(|s| s.kind == "events") {
            let before_detection = report
                .detected
                .as_ref()
                .is_some_and(|d| pattern.onset < d.at);
            let _ = writeln!(
                out,
                "- [ ] Alert on log patterns like the one that appeared with the impact ({}, first at {}){}.",
                inline(&pattern.name),
                self.clock(pattern.onset),
                if before_detection {
                    ": the logs said it before the incident was detected"
                } else {
                    ""
                }
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
}
