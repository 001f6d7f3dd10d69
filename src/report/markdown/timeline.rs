//! The Timeline section: the table of the incident's timeline entries
//! (key rows in bold) and the times to detect and to recover.

use std::fmt::Write;

use crate::detect::{DetectionSource, Finding, TimelineEntry, TimelineKind};
use crate::timefmt::local_time;

use super::summary::TrafficDrop;
use super::text::*;
use super::{Level, Page};
use crate::report::sentences::{detection_evidence, last_at, timeline_cell_text, timeline_text};

impl Page<'_> {
    // ------------------------------------------------------------- timeline

    pub(super) fn timeline(&self, report: &Finding, level: Level, out: &mut String) {
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
        let resolution_row = report.resolution_row();
        let _ = writeln!(
            out,
            "Times in {}{}. Bold rows: impact start and end, detection{}{}.\n",
            self.zone_name(),
            if with_date {
                String::new()
            } else {
                format!(", on {}", self.date(incident.start))
            },
            if last_change_before.is_some() {
                ", the last change before impact"
            } else {
                ""
            },
            if resolution_row.is_some() {
                ", the change that ended it"
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
            let is_resolution = resolution_row.is_some_and(|c| std::ptr::eq(c, *entry));
            let (label, stand_out) = match entry.kind {
                TimelineKind::ImpactStart => ("Impact starts".to_string(), true),
                TimelineKind::ImpactEnd => ("Impact ends".to_string(), true),
                TimelineKind::Detected => (
                    match &report.detected {
                        Some(d) => detection_label(d.source),
                        None => "Detected".to_string(),
                    },
                    true,
                ),
                TimelineKind::Peak => ("Peak".to_string(), false),
                TimelineKind::Alert => ("Alert".to_string(), false),
                TimelineKind::Event => ("Event".to_string(), false),
                TimelineKind::Action => ("Action".to_string(), false),
                TimelineKind::Change if is_last_change => (
                    format!(
                        "Change, {} before impact",
                        // The lead's own line: the last host of a folded
                        // rollout, as the Root Cause lead says.
                        self.between(
                            lead_change_at(report)
                                .filter(|&at| at >= entry.at && at <= last_at(entry))
                                .unwrap_or(entry.at),
                            incident.start
                        )
                    ),
                    true,
                ),
                TimelineKind::Change if is_resolution => (
                    format!(
                        "Resolution, {}",
                        // The resolution's own line: the last host of a
                        // folded rollout, not the row's first.
                        match self
                            .relative(
                                report.resolution.as_ref().map_or(entry.at, |r| r.at),
                                incident.end,
                            )
                            .as_str()
                        {
                            "at the same time" => "as impact ended".to_string(),
                            "within 1 s" => "within 1 s of the end of impact".to_string(),
                            other => format!("{other} impact ended"),
                        }
                    ),
                    true,
                ),
                TimelineKind::Change if (incident.start..=incident.end).contains(&entry.at) => {
                    ("Change during impact".to_string(), false)
                }
                TimelineKind::Change => ("Change".to_string(), false),
            };
            let last = last_at(entry);
            let text = cell(&entry_span(
                entry,
                &timeline_cell_text(entry, self.zone()),
                (last > entry.at).then(|| self.clock(last)),
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
        let _ = writeln!(out, "{}", self.time_to_detect_line(report, start_is));
        let _ = writeln!(
            out,
            "- **Impact duration:** {}, from {start_is} ({}) to {end_is} ({}).",
            self.between(incident.start, incident.end),
            self.clock(incident.start),
            self.clock(incident.end)
        );
        if let Some(line) = self.detection_to_end_line(report) {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "- **TODO:** add what people did (who looked at what, escalations, misleading leads, the fix) as rows above.\n"
        );
    }
}

/// The time of the change the lead "the last change before impact" names.
fn lead_change_at(report: &Finding) -> Option<crate::timefmt::Millis> {
    report.hints.iter().find_map(|hint| match hint {
        crate::detect::Hint::LastChangeBefore {
            lead: crate::detect::ChangeLead::Impact,
            change_at,
            ..
        } => Some(*change_at),
        _ => None,
    })
}
