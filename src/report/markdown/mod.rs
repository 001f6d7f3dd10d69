//! The Markdown exporter: the sections of a postmortem as engineers write
//! them (title and summary, Issue Summary, Timeline, Misleading
//! Investigation Paths, Escalation, Root Cause and Resolution, Corrective
//! and Preventative Measures, appendices), prefilled with what the logs prove
//! and a clear **TODO** wherever only people know the answer.
//!
//! Times are wall-clock times in the logs' zone with the zone named
//! (`14:00:03 GMT+1`), truncated to the second as logs print them, so they
//! can be searched for in the logs; durations are the exact differences
//! rounded to the second, the same numbers as the JSON's. One incident gives
//! one section set; several give an overview table and then one numbered
//! section set each; none gives a short page with what was read, the
//! baseline and what to try next.
//!
//! This module holds the page and its order, and the times and durations
//! every section writes; each section has its file: [`summary`] (title,
//! summary, overview, Issue Summary, the page without incident),
//! [`timeline`], [`response`] (Misleading Investigation Paths and
//! Escalation, from the responders' commands), [`cause`] (Root Cause and
//! Resolution), [`measures`],
//! [`appendix`] (chart, client bursts, inputs, with [`folded`] the files of
//! one log in one row) and [`text`] the formatting
//! helpers. Every fact comes from the findings; only the words are made here.

mod appendix;
mod cause;
mod folded;
mod measures;
mod response;
mod summary;
pub mod text;
mod timeline;

use std::fmt::Write;

use crate::detect::{Finding, Findings};
use crate::timefmt::{MS_PER_SECOND, Millis, Zone, local_time};

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

/// The page being written: the findings it renders.
struct Page<'a> {
    findings: &'a Findings,
}

impl Page<'_> {
    fn zone(&self) -> &Zone {
        &self.findings.zone
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
        self.investigation_paths(report, level, out);
        self.escalation(report, level, out);
        self.root_cause(report, level, out);
        self.measures(report, level, out);
    }

    // --------------------------------------------------------------- times

    /// `14:00:03`, or `2023-11-12 23:59:03` when the report's incidents and
    /// their timelines span more than one day in the zone: a clock time
    /// alone would be ambiguous there.
    fn clock(&self, at: Millis) -> String {
        let format = if self.spans_days() {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%H:%M:%S"
        };
        local_time(at, self.zone()).format(format).to_string()
    }

    /// Whether the incidents, with their timelines, cover more than one
    /// local date.
    fn spans_days(&self) -> bool {
        crate::report::sentences::spans_days(self.findings)
    }

    /// `14:00:03 GMT+1`.
    fn clock_zone(&self, at: Millis) -> String {
        format!("{} {}", self.wall_clock(at), self.zone().label_at(at))
    }

    /// `14:00:03`, never with a date: after a date the sentence gave.
    fn wall_clock(&self, at: Millis) -> String {
        local_time(at, self.zone()).format("%H:%M:%S").to_string()
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
            format!(
                "from {} to {}",
                self.wall_clock(start),
                self.clock_zone(end)
            )
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

    /// `GMT+1 is the zone of the logs`; where the logs' offset changed,
    /// `GMT+1 is the offset the logs had then (...)`.
    fn zone_phrase(&self, at: Millis) -> String {
        match self.zone() {
            Zone::Named(tz) => format!(
                "{} ({tz}) is the zone of the logs",
                self.zone().label_at(at)
            ),
            Zone::Fixed(_) => format!("{} is the zone of the logs", self.zone().label_at(at)),
            Zone::Shifting { .. } => format!(
                "{} is the offset the logs had then: {}",
                self.zone().label_at(at),
                self.offset_change_sentence()
            ),
        }
    }

    /// `their offset changed from GMT+1 to GMT+2 at 2024-03-31 03:00:00
    /// GMT+2, and each time is in the offset they had at that moment`;
    /// empty unless the logs' offset changed.
    fn offset_change_sentence(&self) -> String {
        let Some((before, after, at)) = self.zone().offset_change() else {
            return String::new();
        };
        format!(
            "their offset changed from {} to {} at {}, and each time is in the offset they had at that moment",
            crate::timefmt::gmt_label(before),
            crate::timefmt::gmt_label(after),
            self.full_time(at)
        )
    }

    /// `GMT+1`, `Europe/Berlin (GMT+1 at the start)`, or where the logs'
    /// offset changed `GMT+1, then GMT+2 from 2024-03-31 03:00:00`.
    fn zone_name(&self) -> String {
        if let Some((before, after, at)) = self.zone().offset_change() {
            return format!(
                "{}, then {} from {} {}",
                crate::timefmt::gmt_label(before),
                crate::timefmt::gmt_label(after),
                self.date(at),
                self.wall_clock(at)
            );
        }
        let at = self
            .findings
            .incidents
            .first()
            .map(|r| r.incident.start)
            .or_else(|| self.findings.inputs.iter().filter_map(|i| i.first).min())
            .unwrap_or(0);
        match self.zone() {
            Zone::Named(tz) => format!("{tz} ({})", self.zone().label_at(at)),
            Zone::Fixed(_) | Zone::Shifting { .. } => self.zone().label_at(at),
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
