//! The appendices: the chart, the 4xx bursts of single clients (named as not
//! incidents) and the inputs with what was noticed about them.

use std::fmt::Write;

use crate::ingest::{InputKind, InputStats};

use super::folded::{FoldedLog, InputRow, fold_inputs};
use super::text::*;
use super::{Level, MarkdownOptions, Page};
use crate::report::RequestTimes;

impl Page<'_> {
    // ------------------------------------------------------------- appendix

    pub(super) fn appendix(&self, options: &MarkdownOptions, out: &mut String) {
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

    /// `2023-11-12 10:59:59.906 GMT` in the report's zone, with the offset
    /// of that moment (milliseconds only when there are some).
    fn local_stamp(&self, at: crate::timefmt::Millis) -> String {
        let local = crate::timefmt::local_time(at, self.zone());
        let format = if at.rem_euclid(1000) == 0 {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M:%S%.3f"
        };
        format!("{} {}", local.format(format), self.zone().label_at(at))
    }

    /// The 4xx bursts from single clients, named as not incidents.
    pub(super) fn client_bursts(&self, out: &mut String) {
        let findings = self.findings;
        if findings.client_bursts.is_empty() {
            return;
        }
        out.push_str(&Level(2).heading("Appendix: 4xx Bursts from Single Clients"));
        let _ = writeln!(
            out,
            "Not incidents: a 4xx response is the client's business (a scanner probing paths, a crawler on dead links), never a failure by itself. Named here because they stand out on a graph.\n"
        );
        let columns = [
            ("Client", false),
            ("From", false),
            ("To", false),
            ("4xx responses", true),
            ("Share of the 4xx", true),
        ];
        let rows = findings.client_bursts.iter().map(|burst| {
            vec![
                code_cell(&burst.client),
                crate::timefmt::human_datetime(burst.first, self.zone()),
                crate::timefmt::human_time(burst.last, self.zone()),
                thousands(burst.responses_4xx),
                pct_value(100.0 * burst.share()),
            ]
        });
        table(out, &columns, rows);
        out.push('\n');
    }

    pub(super) fn inputs_table(&self, out: &mut String) {
        let findings = self.findings;
        let rows = fold_inputs(&findings.inputs).into_iter().map(|row| {
            let (mut row, first, last) = match row {
                InputRow::One(input) => (
                    input_row(input, code_cell(&input.path), self.skipped_cell(input)),
                    input.first,
                    input.last,
                ),
                InputRow::Folded(log) => (self.folded_row(&log), log.first(), log.last()),
            };
            // The body's times are in the report's zone; so are these (the
            // JSON keeps UTC).
            for (cell, at) in row[6..8].iter_mut().zip([first, last]) {
                if let Some(at) = at {
                    *cell = self.local_stamp(at);
                }
            }
            row
        });
        let zone = self.zone_name();
        let (first, last) = (format!("First ({zone})"), format!("Last ({zone})"));
        let mut columns: [(&str, bool); 8] = INPUT_COLUMNS;
        columns[6].0 = &first;
        columns[7].0 = &last;
        table(out, &columns, rows);
        out.push('\n');
        let mut notes = false;
        for input in &findings.inputs {
            // An input that is no log at all is explained once, by its note
            // below; its lines are all "skipped" for the same reason.
            let explained_by_note = input.kind == InputKind::Unknown && input.note.is_some();
            for example in input.skipped_examples.iter().filter(|_| !explained_by_note) {
                let _ = writeln!(
                    out,
                    "- {} skipped: {}",
                    code(&format!("{}:{}", input.path, example.line)),
                    inline(&example.reason)
                );
                notes = true;
            }
            if input.out_of_range > 0 {
                let _ = writeln!(
                    out,
                    "- {}: {} parsed lines outside `--since`/`--until` were left out.",
                    code(&input.path),
                    thousands(input.out_of_range)
                );
                notes = true;
            }
            if let Some(error) = &input.error {
                let _ = writeln!(out, "- {}: {}", code(&input.path), inline(error));
                notes = true;
            }
            if input.kind == InputKind::Unknown
                && let Some(note) = &input.note
            {
                let _ = writeln!(
                    out,
                    "- {} not analysed: {}",
                    code(&input.path),
                    inline(note)
                );
                notes = true;
            }
        }
        if notes {
            out.push('\n');
        }
        let times = RequestTimes::of(findings);
        let slow = if times.slow_measured() {
            format!(
                "when it took longer than {}",
                seconds_text(findings.slow_threshold_us)
            )
        } else {
            "never here: the access logs have no request time".to_string()
        };
        let _ = writeln!(
            out,
            "Definitions: a request is *failed* when its status is 5xx or 499, *slow* {slow}, *bad* when either. A user is one {}. {} An incident starts at its first bad request and ends at its last (a traffic drop at the last request before it and the first after it); impact counts the requests and users in between. Series buckets are {} wide.",
            user_key_text(findings.user_key),
            request_time_definition(times),
            self.duration_words(findings.bucket_ms)
        );
        if let Some(widening) = &findings.bucket_widened {
            let _ = writeln!(
                out,
                "\nBucket widened from {} to {}: the requests span {}, which would need {} buckets, more than the {} a series holds. An incident still starts at its first bad request and ends at its last; give `--bucket` to choose the width.",
                self.duration_words(widening.from_ms),
                self.duration_words(widening.to_ms),
                self.duration_words(widening.span_ms),
                thousands(widening.buckets_needed),
                thousands(widening.limit),
            );
        }
    }

    /// The skipped cell of one input: the count and its share of the lines.
    fn skipped_cell(&self, input: &InputStats) -> String {
        if input.lines > 0 && input.skipped > 0 {
            format!(
                "{} ({})",
                thousands(input.skipped),
                percent(input.skipped, input.lines)
            )
        } else {
            thousands(input.skipped)
        }
    }

    /// The row of the files of one log: the pattern with the file count
    /// and their bytes, the kind and format they share, the sums.
    fn folded_row(&self, log: &FoldedLog<'_>) -> Vec<String> {
        let sample = log.sample();
        let size = log
            .bytes()
            .map(|bytes| format!(", {}", bytes_text(bytes as f64)))
            .unwrap_or_default();
        vec![
            format!(
                "{} ({} files{size})",
                code_cell(&log.pattern),
                thousands(log.files.len() as u64)
            ),
            sample.kind.name().to_string(),
            sample.format.unwrap_or("-").to_string(),
            thousands(log.lines()),
            thousands(log.parsed()),
            // Files with skipped lines keep their own rows.
            thousands(0),
            "-".to_string(),
            "-".to_string(),
        ]
    }
}
