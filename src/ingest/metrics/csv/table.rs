//! The polars half of the metric CSV reader (feature `tables`): the table
//! read and its column types inferred, the time column found by name or
//! content, and the wide or long series taken from the other columns.

use std::io::Cursor;

use polars::prelude::{Column, CsvReadOptions, DataType, SerReader};
use rustc_hash::FxHashMap;

use super::{CsvDialect, CsvLayout, LoadedCsv, MIN_CONTENT_SHARE, RawSeries};
use crate::ingest::metrics::dialect::{RowLines, row_lines, unusable_separator};
use crate::ingest::stats::{MAX_SKIPPED_EXAMPLES, SkippedLine};
use crate::ingest::timestamps::{Stamp, parse_cell_time};

/// Lowercased header names taken as the time column.
const TIME_NAMES: &[&str] = &[
    "time",
    "timestamp",
    "date",
    "datetime",
    "date_time",
    "ts",
    "@timestamp",
    "_time",
    "time (utc)",
    "timestamp (utc)",
    "period",
    "eventtime",
];

/// Lowercased header names of the series-name column of a long table.
const SERIES_NAMES: &[&str] = &[
    "series",
    "metric",
    "name",
    "__name__",
    "metric_name",
    "_field",
    "field",
    "_measurement",
];

/// Lowercased header names of the value column of a long table.
const VALUE_NAMES: &[&str] = &["value", "_value", "val", "values"];

/// Lowercased header names of annotation columns (anomaly labels of
/// benchmark data sets), which are not measurements.
const ANNOTATION_NAMES: &[&str] = &["label", "is_anomaly", "anomaly", "anomaly_label"];

/// Label names that say which machine a series is from ("memory on web01").
const HOST_LABELS: &[&str] = &["host", "hostname", "instance", "node", "server", "pod"];

/// Cells sampled per column for content detection.
const CONTENT_SAMPLE: usize = 200;

/// A header without quotes and surrounding spaces, a doubled quote inside
/// it read as one (`"mem{instance=""web02""}"` is `mem{instance="web02"}`,
/// as Grafana quotes a Prometheus series name).
fn clean_name(name: &str) -> String {
    name.trim().trim_matches('"').trim().replace("\"\"", "\"")
}

/// `memory (MB)` or `latency [ms]`: the name and the unit.
pub fn split_unit(header: &str) -> (String, String) {
    let trimmed = header.trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if trimmed.ends_with(close)
            && let Some(at) = trimmed.rfind(open)
            && at > 0
        {
            let unit = trimmed[at + 1..trimmed.len() - 1].trim();
            let name = trimmed[..at].trim();
            if !unit.is_empty() && unit.len() <= 16 && !name.is_empty() {
                return (name.to_string(), unit.to_string());
            }
        }
    }
    (trimmed.to_string(), String::new())
}

/// The cells of a column as text (numbers printed), for time detection.
enum Cells<'a> {
    Text(&'a polars::prelude::StringChunked),
    Numbers(Vec<Option<f64>>),
}

fn cells_of(column: &Column) -> Option<Cells<'_>> {
    match column.dtype() {
        DataType::String => column.str().ok().map(Cells::Text),
        dtype if dtype.is_primitive_numeric() => {
            let floats = column.cast(&DataType::Float64).ok()?;
            let values = floats.f64().ok()?.iter().collect();
            Some(Cells::Numbers(values))
        }
        _ => None,
    }
}

fn cell_time(cells: &Cells<'_>, row: usize) -> Option<Stamp> {
    match cells {
        Cells::Text(text) => parse_cell_time(text.get(row)?),
        Cells::Numbers(values) => {
            crate::ingest::timestamps::epoch_to_millis(values.get(row).copied().flatten()?)
                .map(Stamp::Absolute)
        }
    }
}

/// Whether most sampled non-empty cells read as times.
fn reads_as_times(cells: &Cells<'_>, height: usize) -> bool {
    let (mut seen, mut times) = (0usize, 0usize);
    for row in 0..height {
        let present = match cells {
            Cells::Text(text) => text.get(row).is_some_and(|t| !t.trim().is_empty()),
            Cells::Numbers(values) => values[row].is_some(),
        };
        if !present {
            continue;
        }
        seen += 1;
        times += usize::from(cell_time(cells, row).is_some());
        if seen >= CONTENT_SAMPLE {
            break;
        }
    }
    seen > 0 && times as f64 >= MIN_CONTENT_SHARE * seen as f64
}

/// A numeric reading of a column: polars' numbers, or text that reads as
/// numbers (a decimal comma in `;` files). `None` when it is not numeric.
fn numeric_values(column: &Column, separator: u8) -> Option<Vec<f64>> {
    let dtype = column.dtype();
    if dtype.is_primitive_numeric() {
        let floats = column.cast(&DataType::Float64).ok()?;
        return Some(
            floats
                .f64()
                .ok()?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
        );
    }
    if *dtype != DataType::String {
        return None;
    }
    let text = column.str().ok()?;
    let parse = |cell: &str| {
        let cell = cell.trim().trim_matches('"');
        let normalized = if separator == b';' {
            cell.replace(',', ".")
        } else {
            cell.to_string()
        };
        normalized.parse::<f64>().ok()
    };
    let (mut present, mut numbers) = (0usize, 0usize);
    let values: Vec<f64> = text
        .iter()
        .map(|cell| match cell {
            Some(cell) if !cell.trim().is_empty() => {
                present += 1;
                let value = parse(cell);
                numbers += usize::from(value.is_some());
                value.unwrap_or(f64::NAN)
            }
            _ => f64::NAN,
        })
        .collect();
    (present > 0 && numbers as f64 >= MIN_CONTENT_SHARE * present as f64).then_some(values)
}

/// Whether a column numbers the rows (1, 2, 3, ...: a line id, an index),
/// which is not a measurement and would "rise steadily" in every incident.
fn counts_rows(values: &[f64]) -> bool {
    values.len() >= 2
        && values.iter().all(|v| v.is_finite() && v.fract() == 0.0)
        && values.windows(2).all(|w| w[1] - w[0] == 1.0)
}
pub(super) fn load_table(bytes: &[u8], dialect: CsvDialect) -> Result<LoadedCsv, String> {
    if let Some(why) = unusable_separator(dialect.separator) {
        return Err(why);
    }
    let RowLines {
        kept: row_lines,
        unclosed,
        table,
    } = row_lines(bytes, dialect)?;
    let options = CsvReadOptions::default()
        .with_has_header(true)
        .with_skip_rows(usize::from(dialect.separator_line))
        // Types are inferred from every row: a column of whole numbers that
        // turns fractional after row 10,000 is still a float column.
        .with_infer_schema_length(None)
        .with_rechunk(true)
        .map_parse_options(|parse| {
            parse
                .with_separator(dialect.separator)
                .with_quote_char(Some(b'"'))
        });
    let frame = options
        .into_reader_with_file_handle(Cursor::new(table))
        .finish()
        .map_err(|e| {
            // The reader's own message suggests its settings, which a user
            // cannot pass: keep its first sentence only.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default().trim().to_string();
            format!("its rows do not read as columns of times and numbers ({first}); expected a header row and one value per column in every row")
        })?;
    let height = frame.height();
    let columns = frame.columns();
    let names: Vec<String> = columns.iter().map(|c| clean_name(c.name())).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let time_index = find_time_column(columns, &lower, height).ok_or_else(|| {
        format!(
            "no time column: expected a column named time, timestamp or date, or holding RFC 3339, 'YYYY-MM-DD HH:MM:SS' or epoch times (columns: {})",
            names.join(", ")
        )
    })?;
    let time_cells = cells_of(&columns[time_index]).ok_or("the time column cannot be read")?;
    let line_of = |row: usize| {
        if row_lines.len() == height {
            row_lines[row]
        } else {
            0
        }
    };
    let mut stamps: Vec<Option<Stamp>> = Vec::with_capacity(height);
    let mut skipped_examples: Vec<SkippedLine> = unclosed
        .iter()
        .take(MAX_SKIPPED_EXAMPLES)
        .map(|&line| SkippedLine {
            line,
            reason: "expected every quote to be closed on its line (a damaged or cut row)"
                .to_string(),
        })
        .collect();
    let mut skipped = unclosed.len() as u64;
    for row in 0..height {
        let stamp = cell_time(&time_cells, row);
        if stamp.is_none() {
            skipped += 1;
            if skipped_examples.len() < MAX_SKIPPED_EXAMPLES {
                skipped_examples.push(SkippedLine {
                    line: line_of(row),
                    reason: format!(
                        "expected a time in column '{}' (RFC 3339, 'YYYY-MM-DD HH:MM:SS' or epoch)",
                        names[time_index]
                    ),
                });
            }
        }
        stamps.push(stamp);
    }
    let series_index = lower.iter().enumerate().position(|(i, name)| {
        i != time_index
            && SERIES_NAMES.contains(&name.as_str())
            && columns[i].dtype() == &DataType::String
    });
    let value_index = lower
        .iter()
        .enumerate()
        .position(|(i, name)| i != time_index && VALUE_NAMES.contains(&name.as_str()));
    let (layout, series) = match (series_index, value_index) {
        (Some(series_index), Some(value_index)) => {
            let series = long_series(
                columns,
                &names,
                (time_index, series_index, value_index),
                &stamps,
                dialect.separator,
                &line_of,
            );
            (CsvLayout::Long, series)
        }
        _ => {
            let mut series = Vec::new();
            for (index, column) in columns.iter().enumerate() {
                if index == time_index || ANNOTATION_NAMES.contains(&lower[index].as_str()) {
                    continue;
                }
                let Some(values) = numeric_values(column, dialect.separator) else {
                    continue;
                };
                if counts_rows(&values) {
                    continue;
                }
                let (name, unit) = split_unit(&names[index]);
                series.push(points(name, unit, &stamps, &values, &line_of, None));
            }
            (CsvLayout::Wide, series)
        }
    };
    let note = series.is_empty().then(|| {
        let others: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != time_index)
            .map(|(_, name)| format!("'{name}'"))
            .collect();
        let why = if others.is_empty() {
            "it has no other column".to_string()
        } else {
            format!(
                "{} hold text, row numbers or labels, not measurements",
                others.join(", ")
            )
        };
        format!(
            "no numeric column besides the time column '{}' ({why}): nothing to chart; the rest of the run is analysed without it",
            names[time_index]
        )
    });
    Ok(LoadedCsv {
        layout,
        time_column: names[time_index].clone(),
        rows: height as u64 + unclosed.len() as u64,
        parsed: height as u64 + unclosed.len() as u64 - skipped,
        skipped,
        skipped_examples,
        series,
        note,
    })
}

fn find_time_column(columns: &[Column], lower: &[String], height: usize) -> Option<usize> {
    let by_name = lower.iter().enumerate().find_map(|(index, name)| {
        let named = TIME_NAMES.contains(&name.as_str())
            || name.starts_with("timestamp")
            || name.starts_with("time ");
        let cells = cells_of(&columns[index])?;
        (named && reads_as_times(&cells, height)).then_some(index)
    });
    by_name.or_else(|| {
        columns.iter().enumerate().find_map(|(index, column)| {
            let cells = cells_of(column)?;
            // A numeric column is an epoch by content only when it is the
            // first column: elsewhere big numbers are more likely counters.
            let eligible = matches!(cells, Cells::Text(_)) || index == 0;
            (eligible && reads_as_times(&cells, height)).then_some(index)
        })
    })
}

/// The points of one series, rows without a time left out.
fn points(
    name: String,
    unit: String,
    stamps: &[Option<Stamp>],
    values: &[f64],
    line_of: &dyn Fn(usize) -> u64,
    rows: Option<&[usize]>,
) -> RawSeries {
    let mut series = RawSeries {
        name,
        unit,
        stamps: Vec::new(),
        values: Vec::new(),
        lines: Vec::new(),
    };
    let mut push = |row: usize| {
        if let Some(stamp) = stamps[row] {
            series.stamps.push(stamp);
            series.values.push(values[row]);
            series.lines.push(line_of(row));
        }
    };
    match rows {
        Some(rows) => rows.iter().copied().for_each(&mut push),
        None => (0..stamps.len()).for_each(&mut push),
    }
    series
}

fn long_series(
    columns: &[Column],
    names: &[String],
    (time_index, series_index, value_index): (usize, usize, usize),
    stamps: &[Option<Stamp>],
    separator: u8,
    line_of: &dyn Fn(usize) -> u64,
) -> Vec<RawSeries> {
    let Some(values) = numeric_values(&columns[value_index], separator) else {
        return Vec::new();
    };
    let Ok(series_names) = columns[series_index].str() else {
        return Vec::new();
    };
    let labels: Vec<(usize, &polars::prelude::StringChunked)> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| ![time_index, series_index, value_index].contains(i))
        .filter_map(|(i, c)| c.str().ok().map(|text| (i, text)))
        .collect();
    let mut rows_of: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    let mut order: Vec<String> = Vec::new();
    for row in 0..stamps.len() {
        let base = series_names.get(row).unwrap_or("").trim().to_string();
        let mut host = None;
        let mut others = Vec::new();
        for (index, text) in &labels {
            let Some(value) = text.get(row).map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            let label = names[*index].to_lowercase();
            if host.is_none() && HOST_LABELS.contains(&label.as_str()) {
                host = Some(value.to_string());
            } else {
                others.push(format!("{}={value}", names[*index]));
            }
        }
        let mut key = base;
        if let Some(host) = host {
            key = format!("{key} on {host}");
        }
        if !others.is_empty() {
            key = format!("{key} {{{}}}", others.join(", "));
        }
        rows_of
            .entry(key.clone())
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(row);
    }
    order
        .into_iter()
        .filter_map(|key| {
            let rows = rows_of.remove(&key)?;
            let (name, unit) = split_unit(&key);
            Some(points(name, unit, stamps, &values, line_of, Some(&rows)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::metrics::csv::{load, sniff};
    use crate::ingest::metrics::dialect::tests::lines;

    fn load_text(text: &str) -> Result<LoadedCsv, String> {
        let dialect = sniff(&lines(text)).ok_or("not sniffed as CSV")?;
        load(text.as_bytes(), dialect)
    }

    #[test]
    fn wide_tables_give_one_series_per_numeric_column() {
        let mut text = String::from(
            "\"Time\";\"memory_used (MB)\";\"host\";\"cpu\";\"LineId\"\n\
             2023-11-12 14:00:00;512,5;web01;0.5;1\n\
             2023-11-12 14:01:00;;web01;0.7;2\n\
             not a time;600;web01;0.9;3\n",
        );
        for minute in 2..12 {
            text.push_str(&format!(
                "2023-11-12 14:{minute:02}:00;600;web01;0.9;{}\n",
                minute + 2
            ));
        }
        let loaded = load_text(&text).expect("loads");
        assert_eq!(loaded.layout, CsvLayout::Wide);
        assert_eq!(loaded.time_column, "Time");
        assert_eq!((loaded.rows, loaded.parsed, loaded.skipped), (13, 12, 1));
        assert_eq!(loaded.skipped_examples[0].line, 4);
        let names: Vec<(&str, &str)> = loaded
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.unit.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![("memory_used", "MB"), ("cpu", "")],
            "text and row-number columns are not series"
        );
        let memory = &loaded.series[0];
        assert_eq!(memory.values[0], 512.5, "decimal comma in a ';' file");
        assert!(memory.values[1].is_nan(), "an empty cell stays a gap");
        assert_eq!(memory.lines[..3], [2, 3, 5]);
        assert_eq!(memory.stamps[0], Stamp::Local(1_699_797_600_000));
    }

    #[test]
    fn long_tables_give_one_series_per_name_and_labels() {
        let text = "timestamp,metric,instance,value\n\
                    1699797600,memory_used,web01,10\n\
                    1699797600,memory_used,web02,20\n\
                    1699797660,memory_used,web01,11\n";
        let loaded = load_text(text).expect("loads");
        assert_eq!(loaded.layout, CsvLayout::Long);
        let series: Vec<(&str, Vec<f64>)> = loaded
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.values.clone()))
            .collect();
        assert_eq!(
            series,
            vec![
                ("memory_used on web01", vec![10.0, 11.0]),
                ("memory_used on web02", vec![20.0])
            ]
        );
        assert_eq!(
            loaded.series[0].stamps[1],
            Stamp::Absolute(1_699_797_660_000)
        );
    }

    #[test]
    fn time_columns_are_found_by_content_and_tables_without_numbers_noted() {
        let by_content = load_text("when,load\n2023-11-12T14:00:00Z,1\n2023-11-12T14:01:00Z,2\n")
            .expect("loads");
        assert_eq!(by_content.time_column, "when");
        let epoch_ms =
            load_text("t_ms,load\n1699797600000,0.5\n1699797660000,0.7\n").expect("loads");
        assert_eq!(
            epoch_ms.series[0].stamps[0],
            Stamp::Absolute(1_699_797_600_000)
        );
        let words =
            load_text("time,host\n2023-11-12T14:00:00Z,web01\n2023-11-12T14:01:00Z,web02\n")
                .expect("loads");
        assert!(words.series.is_empty());
        assert!(
            words
                .note
                .as_deref()
                .is_some_and(|n| n.contains("no numeric column"))
        );
        let no_time = load_text("host,load\nweb01,1\nweb02,2\n").expect_err("no time column");
        assert!(no_time.contains("no time column"), "{no_time}");
    }

    #[test]
    fn unclosed_quotes_skip_their_row_and_never_reach_polars() {
        const GOOD: &str = "time,value\n2023-11-12T14:00:00Z,5\n2023-11-12T14:01:00Z,7\n";
        // (name, text, dialect: separator and `sep=` line,
        //  Ok((rows, parsed, skipped lines, points)) or Err(part of the message))
        type Expected = Result<(u64, u64, Vec<u64>, usize), &'static str>;
        let comma = CsvDialect {
            separator: b',',
            separator_line: false,
        };
        let cases: Vec<(&str, String, CsvDialect, Expected)> = vec![
            (
                "found by fuzzing: a stray quote, then an unclosed one",
                format!("{GOOD}4\",3\n,\""),
                comma,
                Ok((4, 2, vec![4, 5], 2)),
            ),
            (
                "the cut last line of a file being written",
                format!("{GOOD}2023-11-12T14:02:00Z,\"3"),
                comma,
                Ok((3, 2, vec![4], 2)),
            ),
            (
                "quoted values closed on their line stay",
                "time,\"a,b\",note\n\"2023-11-12T14:00:00Z\",\"5\",\"x\"\"y\"\n2023-11-12T14:01:00Z,7,\n"
                    .to_string(),
                comma,
                Ok((2, 2, vec![], 2)),
            ),
            (
                "the fuzzer's minimized input: nothing left but the header",
                ",\n4\",3\n,\"".to_string(),
                comma,
                Err("no time column"),
            ),
            (
                "an unclosed quote in the header",
                "\"time,value\n2023-11-12T14:00:00Z,1\n".to_string(),
                comma,
                Err("line 1: the header has a quote"),
            ),
            (
                "sep= naming the quote",
                "sep=\"\ntime\"value\n2023-11-12T14:00:00Z\"1\n".to_string(),
                CsvDialect {
                    separator: b'"',
                    separator_line: true,
                },
                Err("cannot separate fields"),
            ),
        ];
        for (name, text, dialect, expected) in cases {
            // `load_table`, not `load`: a polars panic must fail the test.
            let loaded = load_table(text.as_bytes(), dialect);
            match (loaded, expected) {
                (Ok(loaded), Ok((rows, parsed, skipped_lines, points))) => {
                    assert_eq!(loaded.rows, rows, "{name}");
                    assert_eq!(loaded.parsed, parsed, "{name}");
                    assert_eq!(loaded.skipped, skipped_lines.len() as u64, "{name}");
                    let lines: Vec<u64> = loaded.skipped_examples.iter().map(|e| e.line).collect();
                    assert_eq!(lines, skipped_lines, "{name}");
                    assert!(!loaded.series.is_empty(), "{name}: {loaded:?}");
                    assert_eq!(loaded.series[0].stamps.len(), points, "{name}");
                    assert_eq!(loaded.series[0].lines[..2], [2, 3], "{name}");
                }
                (Err(why), Err(part)) => assert!(why.contains(part), "{name}: {why}"),
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
    }
}
