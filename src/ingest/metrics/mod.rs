//! Metrics: the metric CSVs of a run (Grafana, Prometheus and monitoring
//! exports) and Prometheus API answers. [`csv`] reads a table with polars
//! (polars stays in this module), [`prometheus`] a `query`/`query_range`
//! JSON answer; here a whole input becomes series with their lines counted
//! and the lines the reader did not keep accounted for, and series are
//! placed in time once `ingest::evidence` knows the run's year and zone.
//! Placing a series also reads it as a counter when it is one
//! ([`counter`]): detection then sees its per-second rate.

pub mod counter;
pub mod csv;
mod dialect;
pub mod prometheus;

use memchr::memchr_iter;

use csv::{CsvDialect, RawSeries};

use crate::ingest::reader::marked_line_reason;
use crate::ingest::stats::{InputKind, InputStats, MAX_SKIPPED_EXAMPLES, SkippedLine};
use crate::ingest::timestamps::Stamp;
use crate::timefmt::Millis;

/// One metric series, placed in time.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSeries {
    pub name: String,
    /// From the header (`memory (MB)`), else empty.
    pub unit: String,
    /// The input it came from.
    pub input: u32,
    pub times: Vec<Millis>,
    /// NaN where the CSV had an empty cell.
    pub values: Vec<f64>,
    /// 1-based line of each point; 0 when unknown.
    pub lines: Vec<u64>,
    /// Read as a counter ([`counter`]): `values` are its per-second rate,
    /// `name` is `rate(...)` of the name it had.
    pub counter: bool,
}

/// Reads a whole metrics CSV in `dialect`: sets the input's kind, format and
/// counts in `stats` and returns its series, times not yet placed. The error
/// says why the table could not be read (the input is then no metrics
/// input; `stats.lines` holds its line count).
pub fn read_table(
    mut bytes: Vec<u8>,
    dialect: CsvDialect,
    stats: &mut InputStats,
) -> Result<Vec<RawSeries>, String> {
    stats.lines = memchr_iter(b'\n', &bytes).count() as u64
        + u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
    let marked = take_marked_lines(&mut bytes);
    let loaded = csv::load(&bytes, dialect)?;
    stats.kind = InputKind::Metrics;
    stats.format = Some(loaded.layout.name());
    stats.parsed = loaded.parsed;
    stats.skipped = loaded.skipped + marked.len() as u64;
    let mut examples = loaded.skipped_examples;
    let mut series = loaded.series;
    if !marked.is_empty() {
        let original = |line: u64| line_before_removal(line, &marked);
        for example in &mut examples {
            example.line = original(example.line);
        }
        for one in &mut series {
            one.lines
                .iter_mut()
                .for_each(|line| *line = original(*line));
        }
    }
    examples.extend(marked.into_iter().map(|(line, reason)| SkippedLine {
        line,
        reason: reason.to_string(),
    }));
    examples.sort_by_key(|example| example.line);
    examples.truncate(MAX_SKIPPED_EXAMPLES);
    stats.skipped_examples = examples;
    stats.note = loaded.note;
    Ok(series)
}

/// Reads a whole Prometheus API answer ([`prometheus`]): sets the input's
/// kind, format and counts in `stats` and returns its series. The error
/// says why it could not be read.
pub fn read_prometheus(bytes: &[u8], stats: &mut InputStats) -> Result<Vec<RawSeries>, String> {
    stats.lines = memchr_iter(b'\n', bytes).count() as u64
        + u64::from(bytes.last().is_some_and(|&b| b != b'\n'));
    let loaded = prometheus::load(bytes)?;
    stats.kind = InputKind::Metrics;
    stats.format = Some(loaded.format);
    stats.parsed = loaded.parsed;
    stats.skipped = loaded.skipped;
    // The answer is one document: a point has no line of its own, so the
    // examples carry line 0 and name their series instead.
    stats.skipped_examples = loaded
        .skipped_reasons
        .into_iter()
        .map(|reason| SkippedLine { line: 0, reason })
        .collect();
    if loaded.series.is_empty() {
        stats.note = Some(
            "a Prometheus answer with no series: the query matched nothing in its time range"
                .to_string(),
        );
    }
    Ok(loaded.series)
}

/// Removes the lines of a CSV the reader did not keep (over the cap, cut
/// by damage), so the table is read without them (polars would read an
/// empty line as a row); returns their numbers and skip reasons.
fn take_marked_lines(bytes: &mut Vec<u8>) -> Vec<(u64, &'static str)> {
    let mut marked = Vec::new();
    if !bytes.contains(&0) {
        return marked;
    }
    let mut kept = Vec::with_capacity(bytes.len());
    for (index, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match marked_line_reason(line) {
            Some(reason) => marked.push((index as u64 + 1, reason)),
            None => kept.extend_from_slice(raw),
        }
    }
    *bytes = kept;
    marked
}

/// The line number in the whole input of line `line` of the input with the
/// lines `removed` (ascending) taken out; 0 (unknown) stays 0.
fn line_before_removal(line: u64, removed: &[(u64, &'static str)]) -> u64 {
    if line == 0 {
        return 0;
    }
    let mut original = line;
    for &(at, _) in removed {
        if at <= original {
            original += 1;
        } else {
            break;
        }
    }
    original
}

/// Series `raw` of input `input` with its points placed by `place`, keeping
/// the points `in_range` accepts, in time order; a counter becomes its
/// per-second rate, named `rate(name)` with the unit `unit/s`.
pub fn place_series(
    raw: RawSeries,
    input: u32,
    place: impl Fn(Stamp) -> Option<Millis>,
    in_range: impl Fn(Millis) -> bool,
) -> MetricSeries {
    let mut metric = MetricSeries {
        name: raw.name,
        unit: raw.unit,
        input,
        times: Vec::with_capacity(raw.stamps.len()),
        values: Vec::with_capacity(raw.stamps.len()),
        lines: Vec::with_capacity(raw.stamps.len()),
        counter: false,
    };
    for ((stamp, value), line) in raw.stamps.iter().zip(&raw.values).zip(&raw.lines) {
        let Some(at) = place(*stamp) else {
            continue;
        };
        if !in_range(at) {
            continue;
        }
        metric.times.push(at);
        metric.values.push(*value);
        metric.lines.push(*line);
    }
    sort_points(&mut metric);
    if counter::is_counter(&metric.name, &metric.values) {
        metric.values = counter::to_rate(&metric.times, &metric.values);
        metric.name = format!("rate({})", metric.name);
        metric.unit = format!("{}/s", metric.unit);
        metric.counter = true;
    }
    metric
}

/// Orders a series by time (exports are usually ordered; merged ones not).
fn sort_points(metric: &mut MetricSeries) {
    if metric.times.is_sorted() {
        return;
    }
    let mut order: Vec<usize> = (0..metric.times.len()).collect();
    order.sort_by_key(|&i| metric.times[i]);
    metric.times = order.iter().map(|&i| metric.times[i]).collect();
    metric.values = order.iter().map(|&i| metric.values[i]).collect();
    metric.lines = order.iter().map(|&i| metric.lines[i]).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_after_removed_lines_keep_their_numbers() {
        let mut bytes = [
            &b"time,load\n1,2\n"[..],
            crate::ingest::reader::OVERLONG_LINE_MARK,
            b"\n3,4\r\n",
            crate::ingest::reader::CUT_LINE_MARK,
            b"\n5,6\n",
        ]
        .concat();
        let removed = take_marked_lines(&mut bytes);
        assert_eq!(bytes, b"time,load\n1,2\n3,4\r\n5,6\n");
        assert_eq!(
            removed.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [3, 5]
        );
        let cases = [(0, 0), (1, 1), (2, 2), (3, 4), (4, 6)];
        for (after, before) in cases {
            assert_eq!(line_before_removal(after, &removed), before, "line {after}");
        }
    }
}
