//! `postmortem inspect`: per input, the kind and format found, how many
//! lines parsed and which were skipped (line number and reason), the time
//! range, the optional fields the access logs carry, the upstream / host
//! dimensions found, and every metric series (points, sampling step, span,
//! whether it was read as a counter); as a Markdown table for people or JSON
//! for scripts.

use std::fmt::Write;

use serde_json::json;

use super::input_reports;
use super::markdown::text::{INPUT_COLUMNS, code_cell, input_row, table, thousands};
use crate::ingest::evidence::MetricSeries;
use crate::ingest::{InputKind, InputStats};
use crate::run::Inspection;
use crate::series::dims::DimensionSeries;
use crate::timefmt::rfc3339_utc;

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// What the dimension's values saw over the whole series.
struct ValueSummary<'a> {
    label: &'a str,
    requests: u64,
    failed: u64,
    slow: u64,
    p95_s: Option<f64>,
}

fn summarize(dimension: &DimensionSeries) -> Vec<ValueSummary<'_>> {
    let last = dimension.buckets.len().saturating_sub(1);
    dimension
        .totals(0..=last)
        .into_iter()
        .map(|(label, counts)| ValueSummary {
            label,
            requests: counts.requests,
            failed: counts.failed,
            slow: counts.slow,
            p95_s: counts.latency.quantile(0.95).map(|us| us / 1e6),
        })
        .collect()
}

/// What an envelope name stands for, for people.
fn envelope_meaning(envelope: &str) -> &'static str {
    match envelope {
        "syslog" => "each line a syslog header and a request",
        "container" => {
            "container-tool prefixes: docker compose, kubectl --prefix/--timestamps, CRI"
        }
        "docker-json" => "Docker's json-file wrapper, {\"log\":\"...\"}",
        _ => "a prefix in front of each request",
    }
}

/// What `inspect` tells of one metric series.
struct MetricSummary<'a> {
    input: &'a str,
    series: &'a MetricSeries,
    /// Finite points.
    points: usize,
    /// The median time between points, in seconds.
    step_s: Option<f64>,
    first: Option<crate::timefmt::Millis>,
    last: Option<crate::timefmt::Millis>,
}

fn summarize_metrics<'a>(inspection: &'a Inspection) -> Vec<MetricSummary<'a>> {
    inspection
        .metrics
        .iter()
        .map(|series| {
            let mut gaps: Vec<i64> = series
                .times
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|gap| *gap > 0)
                .collect();
            gaps.sort_unstable();
            MetricSummary {
                input: inspection
                    .inputs
                    .get(series.input as usize)
                    .map_or("", |i| i.path.as_str()),
                series,
                points: series.values.iter().filter(|v| v.is_finite()).count(),
                step_s: gaps.get(gaps.len() / 2).map(|&gap| gap as f64 / 1000.0),
                first: series.times.first().copied(),
                last: series.times.last().copied(),
            }
        })
        .collect()
}

/// The inputs table and everything noticed about them, for people.
pub fn render_markdown(inspection: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Inputs\n");
    let rows = inspection
        .inputs
        .iter()
        .map(|input| input_row(input, format!("`{}`", input.path), thousands(input.skipped)));
    table(&mut out, &INPUT_COLUMNS, rows);
    let access: Vec<&InputStats> = inspection
        .inputs
        .iter()
        .filter(|i| i.kind == InputKind::Access)
        .collect();
    if !access.is_empty() {
        let _ = writeln!(out, "\n## Fields of the access logs\n");
        let columns = [
            ("Input", false),
            ("Request time", false),
            ("Upstream", false),
            ("User agent", false),
            ("Remote user", false),
            ("Host", false),
        ];
        let rows = access.iter().map(|input| {
            let fields = input.fields;
            let mut row = vec![format!("`{}`", input.path)];
            row.extend(
                [
                    fields.request_time,
                    fields.upstream,
                    fields.user_agent,
                    fields.remote_user,
                    fields.host,
                ]
                .map(|present| yes_no(present).to_string()),
            );
            row
        });
        table(&mut out, &columns, rows);
    }
    let metrics = summarize_metrics(inspection);
    if !metrics.is_empty() {
        let _ = writeln!(out, "\n## Metric series\n");
        let columns = [
            ("Input", false),
            ("Series", false),
            ("Points", true),
            ("Step (s)", true),
            ("First", false),
            ("Last", false),
            ("Read as", false),
        ];
        let rows = metrics.iter().map(|m| {
            vec![
                code_cell(m.input),
                code_cell(&m.series.name),
                thousands(m.points as u64),
                m.step_s.map_or_else(|| "-".to_string(), |s| format!("{s}")),
                m.first.map_or_else(|| "-".to_string(), rfc3339_utc),
                m.last.map_or_else(|| "-".to_string(), rfc3339_utc),
                if m.series.counter {
                    "counter, as its rate per second".to_string()
                } else {
                    "gauge".to_string()
                },
            ]
        });
        table(&mut out, &columns, rows);
    }
    let skipped: Vec<String> = inspection
        .inputs
        .iter()
        .flat_map(|input| {
            input
                .skipped_examples
                .iter()
                .map(move |e| format!("- `{}:{}`: {}", input.path, e.line, e.reason))
        })
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "\n## Skipped lines (the first {} per input)\n",
            crate::ingest::MAX_SKIPPED_EXAMPLES
        );
        for line in skipped {
            let _ = writeln!(out, "{line}");
        }
    }
    let mut notes = Vec::new();
    for input in &inspection.inputs {
        if let Some(envelope) = input.envelope {
            notes.push(format!(
                "- `{}`: the requests were read from inside a {envelope} envelope ({})",
                input.path,
                envelope_meaning(envelope)
            ));
        }
        for (format, lines) in &input.other_formats {
            notes.push(format!(
                "- `{}`: {} lines read as {format} (the file mixes formats)",
                input.path,
                thousands(*lines)
            ));
        }
        if input.messages > 0 {
            notes.push(format!(
                "- `{}`: {} lines are the server's own messages, not requests: read as syslog events",
                input.path,
                thousands(input.messages)
            ));
        }
        if let Some(note) = &input.note {
            notes.push(format!("- `{}`: {note}", input.path));
        }
        if let Some(other) = &input.overlap_with {
            notes.push(format!(
                "- `{}`: its last {} lines are the first lines of `{other}` (rotations that overlap): counted once, there",
                input.path,
                thousands(input.overlap_lines)
            ));
        }
        if let Some(error) = &input.error {
            notes.push(format!("- `{}`: {error}", input.path));
        }
        if input.no_response > 0 {
            notes.push(format!(
                "- `{}`: {} requests with status 0 (no response was sent: the client went away); counted as requests, neither failed nor slow",
                input.path,
                thousands(input.no_response)
            ));
        }
        if input.out_of_range > 0 {
            notes.push(format!(
                "- `{}`: {} parsed lines outside --since/--until",
                input.path,
                thousands(input.out_of_range)
            ));
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n## Notes\n");
        for note in notes {
            let _ = writeln!(out, "{note}");
        }
    }
    for dimension in &inspection.dimensions {
        let kind = dimension.kind.name();
        let _ = writeln!(out, "\n## Requests per {kind}\n");
        let _ = writeln!(
            out,
            "| {kind} | Requests | Failed | Slow (> {:.1} s) | p95 (s, ±19%) |",
            inspection.ingest_slow_us as f64 / 1e6
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
        for value in summarize(dimension) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                value.label,
                thousands(value.requests),
                thousands(value.failed),
                thousands(value.slow),
                value
                    .p95_s
                    .map_or_else(|| "-".to_string(), |p| format!("{p:.3}"))
            );
        }
    }
    out
}

/// The contract's `inputs` and the dimensions found, as JSON.
pub fn render_json(inspection: &Inspection) -> String {
    let dimensions: Vec<serde_json::Value> = inspection
        .dimensions
        .iter()
        .map(|dimension| {
            json!({
                "kind": dimension.kind.name(),
                "values": summarize(dimension)
                    .iter()
                    .map(|v| json!({
                        "value": v.label,
                        "requests": v.requests,
                        "failed": v.failed,
                        "slow": v.slow,
                        "p95_s": v.p95_s,
                    }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({
        "schema": super::SCHEMA,
        "generator": super::generator(),
        "inputs": input_reports(&inspection.inputs),
        "dimensions": dimensions,
        "metrics": summarize_metrics(inspection)
            .iter()
            .map(|m| json!({
                "input": m.input,
                "series": m.series.name,
                "unit": m.series.unit,
                "points": m.points,
                "step_s": m.step_s,
                "first": m.first.map(rfc3339_utc),
                "last": m.last.map(rfc3339_utc),
                "counter": m.series.counter,
            }))
            .collect::<Vec<_>>(),
    }))
    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
