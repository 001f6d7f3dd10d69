//! The rest of what a producer read, as tables: the statistics of each
//! input (`inputs`), the classified events of its syslog and error logs
//! with their source input and line (`events`), and the points of its
//! metric series (`metrics`), and the requests `postmortem impact` kept
//! one by one at a start row's edge (`edge_requests`). Line references carry the producer's input
//! index; the reduce step shifts them past the inputs of the producers
//! read before. Column by column: docs/partials.md.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use polars::prelude::DataFrame;
use rustc_hash::FxHashSet;

use super::columns::{TableBuilder, TableReader, run_input, unsigned};
use crate::error::Result;
use crate::ingest::events::{Event, EventKind};
use crate::ingest::evidence::MetricSeries;
use crate::ingest::recount::EdgeRequest;
use crate::ingest::stats::{AccessFields, InputKind, InputStats, SkippedLine};
use crate::series::LineRef;

/// Names the run keeps as `&'static str` (formats, envelopes, event
/// rules) are read back as text; each distinct name is kept once for the
/// process. At most this many: far above the few dozen formats and rules
/// there are, so a file of made-up names cannot grow memory without bound.
const MAX_STATIC_NAMES: usize = 4096;

/// The name past [`MAX_STATIC_NAMES`].
const TOO_MANY_NAMES: &str = "(name not kept: too many distinct names in the partials)";

static NAMES: LazyLock<Mutex<FxHashSet<&'static str>>> =
    LazyLock::new(|| Mutex::new(FxHashSet::default()));

/// `text` as a name that lives as long as the process.
fn static_name(text: &str) -> &'static str {
    let Ok(mut names) = NAMES.lock() else {
        return TOO_MANY_NAMES;
    };
    if let Some(known) = names.get(text) {
        return known;
    }
    if names.len() >= MAX_STATIC_NAMES {
        return TOO_MANY_NAMES;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

const INPUT_KINDS: [InputKind; 5] = [
    InputKind::Access,
    InputKind::Syslog,
    InputKind::ErrorLog,
    InputKind::Metrics,
    InputKind::Unknown,
];

const EVENT_KINDS: [EventKind; 5] = [
    EventKind::Alert,
    EventKind::Recovery,
    EventKind::Change,
    EventKind::Event,
    EventKind::Action,
];

/// The `inputs` table: one row per input, in the producer's order;
/// `piece_first_line` is the first line of the file a piece's one input
/// is (`--first-line`), `None` for whole inputs.
pub fn encode_inputs(inputs: &[InputStats], piece_first_line: Option<u64>) -> Result<DataFrame> {
    let mut c = InputColumns::default();
    for input in inputs {
        let InputStats {
            path,
            kind,
            format,
            envelope,
            compressed,
            lines,
            parsed,
            skipped,
            messages,
            skipped_examples,
            out_of_range,
            no_response,
            first,
            last,
            error,
            note,
            has_request_time,
            has_user_agent,
            fields,
            other_formats,
            duplicate_of,
            overlap_lines,
            overlap_with,
            size_on_disk,
        } = input;
        let AccessFields {
            request_time,
            upstream,
            user_agent,
            remote_user,
            host,
        } = *fields;
        c.path.push(path.clone());
        c.kind.push(kind.name().to_string());
        c.format.push(format.map(str::to_string));
        c.envelope.push(envelope.map(str::to_string));
        c.compressed.push(*compressed);
        c.lines.push(*lines as i64);
        c.parsed.push(*parsed as i64);
        c.skipped.push(*skipped as i64);
        c.messages.push(*messages as i64);
        let examples: Vec<(u64, &str)> = skipped_examples
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        c.skipped_examples
            .push(serde_json::to_string(&examples).unwrap_or_default());
        c.out_of_range.push(*out_of_range as i64);
        c.no_response.push(*no_response as i64);
        c.first.push(*first);
        c.last.push(*last);
        c.error.push(error.clone());
        c.note.push(note.clone());
        c.has_request_time.push(*has_request_time);
        c.has_user_agent.push(*has_user_agent);
        c.field_flags[0].push(request_time);
        c.field_flags[1].push(upstream);
        c.field_flags[2].push(user_agent);
        c.field_flags[3].push(remote_user);
        c.field_flags[4].push(host);
        c.other_formats
            .push(serde_json::to_string(other_formats).unwrap_or_default());
        c.duplicate_of.push(duplicate_of.clone());
        c.overlap_lines.push(*overlap_lines as i64);
        c.overlap_with.push(overlap_with.clone());
        c.size_on_disk.push(size_on_disk.map(|bytes| bytes as i64));
    }
    let [f0, f1, f2, f3, f4] = c.field_flags;
    TableBuilder::default()
        .strs("path", c.path)
        .strs("kind", c.kind)
        .opt_strs("format", c.format)
        .opt_strs("envelope", c.envelope)
        .bools("compressed", c.compressed)
        .i64s("lines", c.lines)
        .i64s("parsed", c.parsed)
        .i64s("skipped", c.skipped)
        .i64s("messages", c.messages)
        .strs("skipped_examples", c.skipped_examples)
        .i64s("out_of_range", c.out_of_range)
        .i64s("no_response", c.no_response)
        .opt_i64s("first", c.first)
        .opt_i64s("last", c.last)
        .opt_strs("error", c.error)
        .opt_strs("note", c.note)
        .bools("has_request_time", c.has_request_time)
        .bools("has_user_agent", c.has_user_agent)
        .bools("field_request_time", f0)
        .bools("field_upstream", f1)
        .bools("field_user_agent", f2)
        .bools("field_remote_user", f3)
        .bools("field_host", f4)
        .strs("other_formats", c.other_formats)
        .opt_strs("duplicate_of", c.duplicate_of)
        .i64s("overlap_lines", c.overlap_lines)
        .opt_strs("overlap_with", c.overlap_with)
        .opt_i64s("size_on_disk", c.size_on_disk)
        .opt_i64s(
            super::pieces::COLUMN,
            vec![piece_first_line.map(|line| line as i64); inputs.len()],
        )
        .finish()
}

/// The `piece_first_line` of each row of the `inputs` table (none in a
/// file written before pieces were read).
pub fn decode_piece_starts(t: &TableReader) -> Result<Vec<Option<u64>>> {
    if !t.has_column(super::pieces::COLUMN) {
        return Ok(vec![None; t.height()]);
    }
    t.opt_i64s(super::pieces::COLUMN)?
        .into_iter()
        .enumerate()
        .map(|(row, line)| {
            line.map(|line| unsigned::<u64>(t, super::pieces::COLUMN, row, line))
                .transpose()
        })
        .collect()
}

#[derive(Default)]
struct InputColumns {
    path: Vec<String>,
    kind: Vec<String>,
    format: Vec<Option<String>>,
    envelope: Vec<Option<String>>,
    compressed: Vec<bool>,
    lines: Vec<i64>,
    parsed: Vec<i64>,
    skipped: Vec<i64>,
    messages: Vec<i64>,
    skipped_examples: Vec<String>,
    out_of_range: Vec<i64>,
    no_response: Vec<i64>,
    first: Vec<Option<i64>>,
    last: Vec<Option<i64>>,
    error: Vec<Option<String>>,
    note: Vec<Option<String>>,
    has_request_time: Vec<bool>,
    has_user_agent: Vec<bool>,
    field_flags: [Vec<bool>; 5],
    other_formats: Vec<String>,
    duplicate_of: Vec<Option<String>>,
    overlap_lines: Vec<i64>,
    overlap_with: Vec<Option<String>>,
    size_on_disk: Vec<Option<i64>>,
}

fn json_column<T: serde::de::DeserializeOwned>(
    table: &TableReader,
    name: &str,
    row: usize,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|error| table.out_of_range(name, row, format!("'{text}' ({error})")))
}

/// The `inputs` table read back.
pub fn decode_inputs(t: &TableReader) -> Result<Vec<InputStats>> {
    let paths = t.strs("path")?;
    let kinds = t.strs("kind")?;
    let formats = t.opt_strs("format")?;
    let envelopes = t.opt_strs("envelope")?;
    let compressed = t.bools("compressed")?;
    let counts: Vec<Vec<i64>> = [
        "lines",
        "parsed",
        "skipped",
        "messages",
        "out_of_range",
        "no_response",
        "overlap_lines",
    ]
    .iter()
    .map(|name| t.i64s(name))
    .collect::<Result<_>>()?;
    let examples = t.strs("skipped_examples")?;
    let (firsts, lasts) = (t.opt_i64s("first")?, t.opt_i64s("last")?);
    let (errors, notes) = (t.opt_strs("error")?, t.opt_strs("note")?);
    let (has_time, has_agent) = (t.bools("has_request_time")?, t.bools("has_user_agent")?);
    let flags: Vec<Vec<bool>> = [
        "field_request_time",
        "field_upstream",
        "field_user_agent",
        "field_remote_user",
        "field_host",
    ]
    .iter()
    .map(|name| t.bools(name))
    .collect::<Result<_>>()?;
    let other_formats = t.strs("other_formats")?;
    let (duplicates, overlaps) = (t.opt_strs("duplicate_of")?, t.opt_strs("overlap_with")?);
    let sizes = t.opt_i64s("size_on_disk")?;
    let mut inputs = Vec::with_capacity(t.height());
    for row in 0..t.height() {
        let kind = INPUT_KINDS
            .into_iter()
            .find(|k| k.name() == kinds[row])
            .ok_or_else(|| t.out_of_range("kind", row, &kinds[row]))?;
        let count = |column: usize, name: &str| unsigned::<u64>(t, name, row, counts[column][row]);
        let skipped_examples: Vec<(u64, String)> =
            json_column(t, "skipped_examples", row, &examples[row])?;
        let others: Vec<(String, u64)> = json_column(t, "other_formats", row, &other_formats[row])?;
        inputs.push(InputStats {
            path: paths[row].clone(),
            kind,
            format: formats[row].as_deref().map(static_name),
            envelope: envelopes[row].as_deref().map(static_name),
            compressed: compressed[row],
            lines: count(0, "lines")?,
            parsed: count(1, "parsed")?,
            skipped: count(2, "skipped")?,
            messages: count(3, "messages")?,
            skipped_examples: skipped_examples
                .into_iter()
                .map(|(line, reason)| SkippedLine { line, reason })
                .collect(),
            out_of_range: count(4, "out_of_range")?,
            no_response: count(5, "no_response")?,
            first: firsts[row],
            last: lasts[row],
            error: errors[row].clone(),
            note: notes[row].clone(),
            has_request_time: has_time[row],
            has_user_agent: has_agent[row],
            fields: AccessFields {
                request_time: flags[0][row],
                upstream: flags[1][row],
                user_agent: flags[2][row],
                remote_user: flags[3][row],
                host: flags[4][row],
            },
            other_formats: others
                .into_iter()
                .map(|(name, lines)| (static_name(&name), lines))
                .collect(),
            duplicate_of: duplicates[row].clone(),
            overlap_lines: count(6, "overlap_lines")?,
            overlap_with: overlaps[row].clone(),
            size_on_disk: sizes[row]
                .map(|bytes| unsigned::<u64>(t, "size_on_disk", row, bytes))
                .transpose()?,
        });
    }
    Ok(inputs)
}

/// The `events` table: one row per event, in time order.
pub fn encode_events(events: &[Event]) -> Result<DataFrame> {
    let mut c = EventColumns::default();
    for event in events {
        let Event {
            at,
            last_at,
            kind,
            rule,
            severity,
            host,
            program,
            text,
            line,
            count,
        } = event;
        c.at.push(*at);
        c.last_at.push(*last_at);
        c.kind.push(kind.name().to_string());
        c.rule.push(rule.to_string());
        c.severity.push(severity.map(i64::from));
        c.host.push(host.clone());
        c.program.push(program.clone());
        c.text.push(text.clone());
        c.input.push(line.get().map(|l| i64::from(l.input)));
        c.line.push(line.get().map(|l| l.line as i64));
        c.count.push(*count as i64);
    }
    TableBuilder::default()
        .i64s("at", c.at)
        .i64s("last_at", c.last_at)
        .strs("kind", c.kind)
        .strs("rule", c.rule)
        .opt_i64s("severity", c.severity)
        .opt_strs("host", c.host)
        .opt_strs("program", c.program)
        .strs("text", c.text)
        .opt_i64s("input", c.input)
        .opt_i64s("line", c.line)
        .i64s("count", c.count)
        .finish()
}

#[derive(Default)]
struct EventColumns {
    at: Vec<i64>,
    last_at: Vec<i64>,
    kind: Vec<String>,
    rule: Vec<String>,
    severity: Vec<Option<i64>>,
    host: Vec<Option<String>>,
    program: Vec<Option<String>>,
    text: Vec<String>,
    input: Vec<Option<i64>>,
    line: Vec<Option<i64>>,
    count: Vec<i64>,
}

/// The `events` table read back; the producer's input `i` is the run's
/// input `inputs[i]`.
pub fn decode_events(t: &TableReader, inputs_of_run: &[u32]) -> Result<Vec<Event>> {
    let (ats, last_ats) = (t.i64s("at")?, t.i64s("last_at")?);
    let (kinds, rules) = (t.strs("kind")?, t.strs("rule")?);
    let severities = t.opt_i64s("severity")?;
    let (hosts, programs, texts) = (t.opt_strs("host")?, t.opt_strs("program")?, t.strs("text")?);
    let (inputs, lines, counts) = (t.opt_i64s("input")?, t.opt_i64s("line")?, t.i64s("count")?);
    let mut events = Vec::with_capacity(t.height());
    for row in 0..t.height() {
        let kind = EVENT_KINDS
            .into_iter()
            .find(|k| k.name() == kinds[row])
            .ok_or_else(|| t.out_of_range("kind", row, &kinds[row]))?;
        let line = match (inputs[row], lines[row]) {
            (Some(input), Some(line)) => LineRef {
                input: run_input(t, "input", row, input, inputs_of_run)?,
                line: unsigned(t, "line", row, line)?,
            },
            _ => LineRef::NONE,
        };
        events.push(Event {
            at: ats[row],
            last_at: last_ats[row],
            kind,
            rule: static_name(&rules[row]),
            severity: severities[row]
                .map(|s| unsigned::<u8>(t, "severity", row, s))
                .transpose()?,
            host: hosts[row].clone(),
            program: programs[row].clone(),
            text: texts[row].clone(),
            line,
            count: unsigned(t, "count", row, counts[row])?,
        });
    }
    Ok(events)
}

/// The `metrics` table: one row per point of each series, `series` the
/// series' position in the producer's list.
pub fn encode_metrics(metrics: &[MetricSeries]) -> Result<DataFrame> {
    let (mut series, mut name, mut unit, mut input, mut counter) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut time, mut value, mut line) = (vec![], vec![], vec![]);
    for (position, metric) in metrics.iter().enumerate() {
        let MetricSeries {
            name: metric_name,
            unit: metric_unit,
            input: metric_input,
            times,
            values,
            lines,
            counter: is_counter,
        } = metric;
        for ((at, v), l) in times.iter().zip(values).zip(lines) {
            series.push(position as i64);
            name.push(metric_name.clone());
            unit.push(metric_unit.clone());
            input.push(i64::from(*metric_input));
            counter.push(*is_counter);
            time.push(*at);
            value.push(*v);
            line.push(*l as i64);
        }
    }
    TableBuilder::default()
        .i64s("series", series)
        .strs("name", name)
        .strs("unit", unit)
        .i64s("input", input)
        .bools("counter", counter)
        .i64s("time", time)
        .f64s("value", value)
        .i64s("line", line)
        .finish()
}

/// The `metrics` table read back; the producer's input `i` is the run's
/// input `inputs_of_run[i]`.
pub fn decode_metrics(t: &TableReader, inputs_of_run: &[u32]) -> Result<Vec<MetricSeries>> {
    let (positions, names, units) = (t.i64s("series")?, t.strs("name")?, t.strs("unit")?);
    let (inputs, counters) = (t.i64s("input")?, t.bools("counter")?);
    let (times, values, lines) = (t.i64s("time")?, t.f64s("value")?, t.i64s("line")?);
    let mut series: BTreeMap<i64, MetricSeries> = BTreeMap::new();
    for row in 0..t.height() {
        let input = run_input(t, "input", row, inputs[row], inputs_of_run)?;
        let entry = series
            .entry(positions[row])
            .or_insert_with(|| MetricSeries {
                name: names[row].clone(),
                unit: units[row].clone(),
                input,
                times: Vec::new(),
                values: Vec::new(),
                lines: Vec::new(),
                counter: counters[row],
            });
        entry.times.push(times[row]);
        entry.values.push(values[row]);
        entry.lines.push(unsigned(t, "line", row, lines[row])?);
    }
    Ok(series.into_values().collect())
}

/// The requests `postmortem impact` kept one by one where an incident's
/// start row may end (`edge_requests`: arrival, failed, request time).
pub fn encode_edge_requests(requests: &[EdgeRequest]) -> Result<DataFrame> {
    let mut arrivals = Vec::with_capacity(requests.len());
    let mut failed = Vec::with_capacity(requests.len());
    let mut durations = Vec::with_capacity(requests.len());
    for request in requests {
        let EdgeRequest {
            arrival,
            failed: request_failed,
            duration_us,
        } = *request;
        arrivals.push(arrival);
        failed.push(request_failed);
        durations.push(duration_us.map(|d| i64::try_from(d).unwrap_or(i64::MAX)));
    }
    TableBuilder::default()
        .i64s("arrival_ms", arrivals)
        .bools("failed", failed)
        .opt_i64s("duration_us", durations)
        .finish()
}

pub fn decode_edge_requests(t: &TableReader) -> Result<Vec<EdgeRequest>> {
    let (arrivals, failed, durations) = (
        t.i64s("arrival_ms")?,
        t.bools("failed")?,
        t.opt_i64s("duration_us")?,
    );
    let mut requests = Vec::with_capacity(t.height());
    for row in 0..t.height() {
        requests.push(EdgeRequest {
            arrival: arrivals[row],
            failed: failed[row],
            duration_us: durations[row]
                .map(|d| unsigned::<u64>(t, "duration_us", row, d))
                .transpose()?,
        });
    }
    Ok(requests)
}
