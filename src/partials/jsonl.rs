//! Partials read back from JSON lines: what `postmortem partial --format
//! jsonl` writes, and what an engine that merged those rows (the Spark
//! job, a warehouse query of `postmortem sql`) writes back. A file holds
//! one or more producers' *sections*, each a settings line
//! (`{"table":"settings","postmortem.schema":...}`) followed by rows whose
//! `"table"` names their table; a table without rows may be absent.
//! [`sections`] reads only the settings lines (the reduce step checks
//! every producer's settings before it holds any rows); [`load`] reads one
//! section's rows into the same [`TableReader`]s a Parquet file gives, typed
//! by the schema the writer uses, so decoding is shared. Plain files and
//! `.gz` are read; errors name the file and the line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Deserialize;

use super::columns::TableReader;
use crate::error::{Error, Result};

/// The `"table"` value of the line that starts a producer's section.
pub const SETTINGS: &str = "settings";

/// Whether `path` names a JSON-lines partial (`*.jsonl`, `*.jsonl.gz`).
pub fn is_jsonl(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !name.starts_with('.') && (name.ends_with(".jsonl") || name.ends_with(".jsonl.gz"))
}

/// One producer's section of a JSON-lines file.
#[derive(Clone, Debug)]
pub struct Section {
    pub path: PathBuf,
    /// The 1-based line of the section's settings line.
    pub line: u64,
    /// The byte offset of that line in the file as stored (used to seek
    /// in a plain file; a `.gz` is decoded from its start).
    pub offset: u64,
    /// The settings line's keys and values (`postmortem.*`).
    pub metadata: Vec<(String, String)>,
}

impl Section {
    /// The section as a table without rows: what the settings check reads.
    pub fn settings_table(&self) -> TableReader {
        TableReader {
            path: self.path.clone(),
            frame: DataFrame::empty(),
            metadata: self.metadata.clone(),
            lines: Vec::new(),
        }
    }

    /// The producer the settings line names ([`sections`] refuses a
    /// section without one).
    pub fn producer(&self) -> &str {
        self.metadata
            .iter()
            .find(|(key, _)| key == "postmortem.producer")
            .map_or("", |(_, value)| value.as_str())
    }
}

/// Only the table's name of a row: the first pass skips the rest.
#[derive(Deserialize)]
struct TableName<'a> {
    #[serde(borrow)]
    table: std::borrow::Cow<'a, str>,
}

/// Reads `path` line by line (decoding a `.gz`), handing each line with
/// its 1-based number and its byte offset to `each`, which returns `false`
/// to stop. A plain file is read from `start` (a byte offset and the
/// number of the line there); a `.gz` from its beginning.
fn for_each_line(
    path: &Path,
    start: (u64, u64),
    mut each: impl FnMut(u64, u64, &[u8]) -> Result<bool>,
) -> Result<()> {
    let io_error = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let gzipped = path.to_string_lossy().ends_with(".gz");
    let (mut reader, mut offset, mut number): (Box<dyn BufRead>, u64, u64) = if gzipped {
        (
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file))),
            0,
            0,
        )
    } else {
        let (from, line) = start;
        file.seek(SeekFrom::Start(from)).map_err(io_error)?;
        (Box::new(BufReader::new(file)), from, line.saturating_sub(1))
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(io_error)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !text.iter().all(u8::is_ascii_whitespace) && !each(number, offset, text)? {
            return Ok(());
        }
        offset += read as u64;
    }
}

/// The error for line `line` of `path` that is not what a partial's JSON
/// lines hold.
fn not_partial(path: &Path, line: u64, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!(
        "{}: line {line}: {why}: partials in JSON lines are a settings line then one object per row, as `postmortem partial --format jsonl` writes (docs/partials.md, \"JSON lines\")",
        path.display()
    ))
}

/// The table a row names, or the error naming the line.
fn table_of<'a>(path: &Path, line: u64, text: &'a [u8]) -> Result<std::borrow::Cow<'a, str>> {
    serde_json::from_slice::<TableName>(text)
        .map(|row| row.table)
        .map_err(|error| {
            not_partial(
                path,
                line,
                format!("not a JSON object with a \"table\" key ({error})"),
            )
        })
}

/// The producers' sections of `path`: every settings line, with its keys.
pub fn sections(path: &Path) -> Result<Vec<Section>> {
    let mut found: Vec<Section> = Vec::new();
    for_each_line(path, (0, 1), |line, offset, text| {
        let table = table_of(path, line, text)?;
        if table == SETTINGS {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(text)
                .map_err(|error| {
                not_partial(path, line, format!("not a JSON object ({error})"))
            })?;
            let mut metadata = Vec::with_capacity(object.len());
            for (key, value) in object {
                if key == "table" {
                    continue;
                }
                let serde_json::Value::String(value) = value else {
                    return Err(not_partial(
                        path,
                        line,
                        format!("setting '{key}' is {value}, not a string"),
                    ));
                };
                metadata.push((key, value));
            }
            if !metadata
                .iter()
                .any(|(key, value)| key == "postmortem.producer" && !value.is_empty())
            {
                return Err(not_partial(
                    path,
                    line,
                    "the settings line names no 'postmortem.producer' for the rows that follow",
                ));
            }
            found.push(Section {
                path: path.to_path_buf(),
                line,
                offset,
                metadata,
            });
        } else if found.is_empty() {
            return Err(not_partial(
                path,
                line,
                format!("a row of table '{table}' before any settings line"),
            ));
        }
        Ok(true)
    })?;
    if found.is_empty() {
        return Err(Error::NothingParsed(format!(
            "{}: no line in it: an empty JSON-lines partial (did `postmortem partial --format jsonl` fail?)",
            path.display()
        )));
    }
    Ok(found)
}

/// One column being filled from the rows' values, typed by the schema.
enum Builder {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Builder {
    fn new(dtype: &DataType) -> Option<Builder> {
        Some(match dtype {
            DataType::Int64 => Builder::Int(Vec::new()),
            DataType::Float64 => Builder::Float(Vec::new()),
            DataType::Boolean => Builder::Bool(Vec::new()),
            DataType::String => Builder::Text(Vec::new()),
            DataType::Binary => Builder::Bytes(Vec::new()),
            _ => return None,
        })
    }

    /// Appends `value` (absent or null: a null), or says what it should
    /// have been.
    fn push(&mut self, value: Option<&serde_json::Value>) -> std::result::Result<(), &'static str> {
        use serde_json::Value;
        let value = value.filter(|v| !v.is_null());
        match self {
            Builder::Int(values) => values.push(match value {
                None => None,
                Some(v) => Some(
                    v.as_i64()
                        .ok_or("a whole number within a signed 64-bit integer")?,
                ),
            }),
            // A NaN (a metric's empty cell) is written as null.
            Builder::Float(values) => values.push(Some(match value {
                None => f64::NAN,
                Some(v) => v.as_f64().ok_or("a number")?,
            })),
            Builder::Bool(values) => values.push(match value {
                None => None,
                Some(v) => Some(v.as_bool().ok_or("true or false")?),
            }),
            Builder::Text(values) => values.push(match value {
                None => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(_) => return Err("a string"),
            }),
            Builder::Bytes(values) => values.push(match value {
                None => None,
                Some(Value::String(text)) => Some(unhex(text).ok_or("lowercase hex of the bytes")?),
                Some(_) => return Err("a string of hex"),
            }),
        }
        Ok(())
    }

    fn finish(self, name: &str) -> Column {
        let name = PlSmallStr::from(name);
        match self {
            Builder::Int(values) => Column::new(name, values),
            Builder::Float(values) => Column::new(name, values),
            Builder::Bool(values) => Column::new(name, values),
            Builder::Text(values) => Column::new(name, values),
            Builder::Bytes(values) => Series::new(name, values).into(),
        }
    }
}

/// The bytes of hex text (either case), or `None` if it is not hex.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |d: u8| (d as char).to_digit(16).map(|v| v as u8);
    digits
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// One table's columns as the rows of a section fill them.
struct TableRows {
    names: Vec<String>,
    builders: Vec<Builder>,
    lines: Vec<u64>,
}

/// Reads the rows of `section` into one [`TableReader`] per table of
/// `schemas` (the tables as the writer types them; an absent table is
/// empty), each carrying the section's settings as its metadata.
pub fn load(
    section: &Section,
    schemas: &[(&'static str, Schema)],
) -> Result<BTreeMap<String, TableReader>> {
    let path = &section.path;
    let mut tables: BTreeMap<&str, TableRows> = BTreeMap::new();
    for (name, schema) in schemas {
        let mut rows = TableRows {
            names: Vec::new(),
            builders: Vec::new(),
            lines: Vec::new(),
        };
        for (column, dtype) in schema.iter() {
            let builder = Builder::new(dtype).ok_or_else(|| {
                Error::Usage(format!("partial table {name}: column {column} has type {dtype}, which JSON lines do not carry"))
            })?;
            rows.names.push(column.to_string());
            rows.builders.push(builder);
        }
        tables.insert(name, rows);
    }
    for_each_line(path, (section.offset, section.line), |line, _, text| {
        // A `.gz` is decoded from its beginning: skip the sections before.
        if line < section.line {
            return Ok(true);
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(text)
            .map_err(|error| not_partial(path, line, format!("not a JSON object ({error})")))?;
        let table = match object.get("table") {
            Some(serde_json::Value::String(table)) => table.as_str(),
            _ => {
                return Err(not_partial(
                    path,
                    line,
                    "no \"table\" key naming the row's table",
                ));
            }
        };
        if table == SETTINGS {
            // The next producer's section begins (or this one's own line).
            return Ok(line == section.line);
        }
        let rows = tables.get_mut(table).ok_or_else(|| {
            not_partial(
                path,
                line,
                format!(
                    "table '{table}' is not one of postmortem's ({})",
                    super::TABLES.join(", ")
                ),
            )
        })?;
        if let Some(unknown) = object
            .keys()
            .find(|key| *key != "table" && !rows.names.contains(key))
        {
            return Err(not_partial(
                path,
                line,
                format!(
                    "column '{unknown}' is not one of table {table}'s ({})",
                    rows.names.join(", ")
                ),
            ));
        }
        for (name, builder) in rows.names.iter().zip(rows.builders.iter_mut()) {
            builder.push(object.get(name)).map_err(|expected| {
                not_partial(
                    path,
                    line,
                    format!("column '{name}' of table {table} is not {expected}"),
                )
            })?;
        }
        rows.lines.push(line);
        Ok(true)
    })?;
    let mut loaded = BTreeMap::new();
    for (name, rows) in tables {
        let columns: Vec<Column> = rows
            .names
            .iter()
            .zip(rows.builders)
            .map(|(column, builder)| builder.finish(column))
            .collect();
        let frame = DataFrame::new_infer_height(columns)
            .map_err(|error| Error::Usage(format!("{}: table {name}: {error}", path.display())))?;
        let mut metadata = section.metadata.clone();
        metadata.retain(|(key, _)| key != "postmortem.table");
        metadata.push(("postmortem.table".into(), name.to_string()));
        loaded.insert(
            name.to_string(),
            TableReader {
                path: path.clone(),
                frame,
                metadata,
                lines: rows.lines,
            },
        );
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_reads_back_what_the_writer_writes_and_refuses_the_rest() {
        let cases: [(&str, &str, Option<&[u8]>); 5] = [
            ("empty", "", Some(&[])),
            ("lowercase", "00ff10", Some(&[0x00, 0xff, 0x10])),
            ("uppercase", "0A0B", Some(&[0x0a, 0x0b])),
            ("odd length", "abc", None),
            ("not hex", "zz", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(unhex(text).as_deref(), expected, "{name}");
        }
        assert_eq!(super::super::columns::hex(&[0xde, 0xad, 0x01]), "dead01");
    }

    #[test]
    fn file_names_that_are_json_lines() {
        for (name, expected) in [
            ("web01.jsonl", true),
            ("web01.jsonl.gz", true),
            ("web01.buckets.parquet", false),
            (".web01.jsonl", false),
            ("jsonl", false),
        ] {
            assert_eq!(is_jsonl(Path::new(name)), expected, "{name}");
        }
    }
}
