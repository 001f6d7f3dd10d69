//! The column plumbing of the partial files: a [`TableBuilder`] that turns
//! rows kept as plain vectors into a polars `DataFrame`, the Parquet write
//! with the settings as key-value metadata ([`write_parquet`]), the read
//! back with the metadata ([`read_parquet`]), the typed column access that
//! names the file and the column when a file is not what this version
//! wrote ([`TableReader`]), and the JSON-lines rendering of a table
//! ([`jsonl_rows`], binary cells in hex).

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

/// The columns of one table, added one at a time (every column the same
/// length: the caller builds them from one pass over its rows).
#[derive(Default)]
pub struct TableBuilder {
    columns: Vec<Column>,
}

impl TableBuilder {
    pub fn i64s(mut self, name: &str, values: Vec<i64>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn opt_i64s(mut self, name: &str, values: Vec<Option<i64>>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn f64s(mut self, name: &str, values: Vec<f64>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn bools(mut self, name: &str, values: Vec<bool>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn strs(mut self, name: &str, values: Vec<String>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn opt_strs(mut self, name: &str, values: Vec<Option<String>>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn binaries(mut self, name: &str, values: Vec<Vec<u8>>) -> Self {
        let series = Series::new(name.into(), values);
        self.columns.push(series.into());
        self
    }

    pub fn binaries_opt(mut self, name: &str, values: Vec<Option<Vec<u8>>>) -> Self {
        let series = Series::new(name.into(), values);
        self.columns.push(series.into());
        self
    }

    pub fn finish(self) -> Result<DataFrame> {
        DataFrame::new_infer_height(self.columns)
            .map_err(|error| Error::Usage(format!("partial table: {error}")))
    }
}

/// The codec of every partial file: zstd, the one codec engines (Spark,
/// DuckDB, ClickHouse, BigQuery) all read, at its default level.
const CODEC: ParquetCompression = ParquetCompression::Zstd(None);

/// Writes `frame` to `path` as Parquet with `metadata` as the file's
/// key-value metadata.
pub fn write_parquet(
    path: &Path,
    frame: &mut DataFrame,
    metadata: &[(String, String)],
) -> Result<()> {
    let io_error = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(io_error)?;
    ParquetWriter::new(file)
        .with_compression(CODEC)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata.to_vec())))
        .finish(frame)
        .map_err(|error| io_error(std::io::Error::other(error.to_string())))?;
    Ok(())
}

/// A table read back: its rows and its key-value metadata.
pub struct TableReader {
    pub path: PathBuf,
    pub frame: DataFrame,
    pub metadata: Vec<(String, String)>,
    /// For a table read from JSON lines, the file's line of each row (so
    /// an error names the line); empty for Parquet, whose errors name the
    /// row.
    pub lines: Vec<u64>,
}

/// Reads the Parquet file `path`: its key-value metadata, and its rows
/// when `rows` (else an empty frame: the reduce step checks every file's
/// settings before it holds any producer's rows).
pub fn read_parquet(path: &Path, rows: bool) -> Result<TableReader> {
    let unreadable = |why: String| {
        Error::Usage(format!(
            "{}: not a readable Parquet file ({why}): write it again with `postmortem partial`",
            path.display()
        ))
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader
        .get_metadata()
        .map_err(|error| unreadable(error.to_string()))?
        .key_value_metadata()
        .as_ref()
        .map(|pairs| {
            pairs
                .iter()
                .map(|pair| (pair.key.clone(), pair.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let frame = if rows {
        reader
            .finish()
            .map_err(|error| unreadable(error.to_string()))?
    } else {
        DataFrame::empty()
    };
    Ok(TableReader {
        path: path.to_path_buf(),
        frame,
        metadata,
        lines: Vec::new(),
    })
}

impl TableReader {
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Whether the table has column `name` (a column added to the schema
    /// later, absent from older files).
    pub fn has_column(&self, name: &str) -> bool {
        self.frame.column(name).is_ok()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.frame
            .column(name)
            .map_err(|_| self.wrong(name, "present"))
    }

    fn wrong(&self, name: &str, expected: &str) -> Error {
        Error::Usage(format!(
            "{}: column '{name}' is not {expected} as postmortem's partial schema has it (docs/partials.md): write the partial again with this version's `postmortem partial`",
            self.path.display()
        ))
    }

    /// A column of 64-bit integers without nulls.
    pub fn i64s(&self, name: &str) -> Result<Vec<i64>> {
        let values = self.opt_i64s(name)?;
        values
            .into_iter()
            .enumerate()
            .map(|(row, value)| value.ok_or_else(|| self.null_at(name, row)))
            .collect()
    }

    /// A column of 64-bit integers, null where absent.
    pub fn opt_i64s(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let column = self.column(name)?;
        let chunked = column.i64().map_err(|_| self.wrong(name, "Int64"))?;
        Ok(chunked.iter().collect())
    }

    pub fn f64s(&self, name: &str) -> Result<Vec<f64>> {
        let column = self.column(name)?;
        let chunked = column.f64().map_err(|_| self.wrong(name, "Float64"))?;
        chunked
            .iter()
            .enumerate()
            .map(|(row, value)| value.ok_or_else(|| self.null_at(name, row)))
            .collect()
    }

    pub fn bools(&self, name: &str) -> Result<Vec<bool>> {
        let column = self.column(name)?;
        let chunked = column.bool().map_err(|_| self.wrong(name, "Boolean"))?;
        chunked
            .iter()
            .enumerate()
            .map(|(row, value)| value.ok_or_else(|| self.null_at(name, row)))
            .collect()
    }

    /// A column of booleans, null where absent.
    pub fn opt_bools(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let column = self.column(name)?;
        let chunked = column.bool().map_err(|_| self.wrong(name, "Boolean"))?;
        Ok(chunked.iter().collect())
    }

    /// The values of column `name` read by `read`, or `height` nulls when
    /// the table lacks it: a column added to the schema later (older
    /// files, the SQL queries' output), whose absence means "none".
    pub fn optional<T: Clone>(
        &self,
        name: &str,
        read: impl Fn(&Self, &str) -> Result<Vec<Option<T>>>,
    ) -> Result<Vec<Option<T>>> {
        if self.has_column(name) {
            read(self, name)
        } else {
            Ok(vec![None; self.height()])
        }
    }

    pub fn opt_strs(&self, name: &str) -> Result<Vec<Option<String>>> {
        let column = self.column(name)?;
        let chunked = column.str().map_err(|_| self.wrong(name, "String"))?;
        Ok(chunked.iter().map(|v| v.map(str::to_string)).collect())
    }

    pub fn strs(&self, name: &str) -> Result<Vec<String>> {
        let values = self.opt_strs(name)?;
        values
            .into_iter()
            .enumerate()
            .map(|(row, value)| value.ok_or_else(|| self.null_at(name, row)))
            .collect()
    }

    pub fn binaries(&self, name: &str) -> Result<Vec<Vec<u8>>> {
        let column = self.column(name)?;
        let chunked = column.binary().map_err(|_| self.wrong(name, "Binary"))?;
        chunked
            .iter()
            .enumerate()
            .map(|(row, value)| {
                value
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| self.null_at(name, row))
            })
            .collect()
    }

    pub fn opt_binaries(&self, name: &str) -> Result<Vec<Option<Vec<u8>>>> {
        let column = self.column(name)?;
        let chunked = column.binary().map_err(|_| self.wrong(name, "Binary"))?;
        Ok(chunked.iter().map(|v| v.map(<[u8]>::to_vec)).collect())
    }

    /// Where row `row` is: its line in a JSON-lines file, else its row.
    fn place(&self, row: usize) -> String {
        match self.lines.get(row) {
            Some(line) => format!("line {line}"),
            None => format!("row {}", row + 1),
        }
    }

    fn null_at(&self, name: &str, row: usize) -> Error {
        Error::Usage(format!(
            "{}: {}: column '{name}' is null where postmortem's partial schema has a value (docs/partials.md): write the partial again with `postmortem partial`",
            self.path.display(),
            self.place(row)
        ))
    }

    /// A value out of its range in row `row` (a bin past the last, a
    /// negative count): the file was not written by this version.
    pub fn out_of_range(&self, name: &str, row: usize, value: impl std::fmt::Display) -> Error {
        Error::Usage(format!(
            "{}: {}: column '{name}' holds {value}, out of its range (docs/partials.md): write the partial again with `postmortem partial`",
            self.path.display(),
            self.place(row)
        ))
    }

    /// The value of metadata key `key`, if the file has it.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }
}

/// A non-negative count read back as an unsigned integer, or the error
/// naming the row.
pub fn unsigned<T: TryFrom<i64>>(
    table: &TableReader,
    name: &str,
    row: usize,
    value: i64,
) -> Result<T> {
    T::try_from(value).map_err(|_| table.out_of_range(name, row, value))
}

/// The run's index of the input a producer numbered `local` (column
/// `name`): `inputs[local]`, the place the reduce step gave that input
/// (after the inputs of the producers read before, or the file a piece
/// belongs to).
pub fn run_input(
    table: &TableReader,
    name: &str,
    row: usize,
    local: i64,
    inputs: &[u32],
) -> Result<u32> {
    usize::try_from(local)
        .ok()
        .and_then(|index| inputs.get(index))
        .copied()
        .ok_or_else(|| table.out_of_range(name, row, local))
}

/// Each row of `frame` as one JSON object, `table` first and binary cells
/// as lowercase hex (a DataSketches sketch in hex is what `unhex` gives
/// back to Spark's `hll_union_agg`).
pub fn jsonl_rows(table: &str, frame: &DataFrame, out: &mut String) {
    let columns = frame.columns();
    for row in 0..frame.height() {
        let mut object = serde_json::Map::new();
        object.insert("table".into(), serde_json::Value::from(table));
        for column in columns {
            let value = match column.get(row) {
                Ok(AnyValue::Int64(v)) => serde_json::Value::from(v),
                Ok(AnyValue::Float64(v)) => serde_json::Number::from_f64(v)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                Ok(AnyValue::Boolean(v)) => serde_json::Value::from(v),
                Ok(AnyValue::String(v)) => serde_json::Value::from(v),
                Ok(AnyValue::StringOwned(v)) => serde_json::Value::from(v.as_str()),
                Ok(AnyValue::Binary(v)) => serde_json::Value::from(hex(v)),
                Ok(AnyValue::BinaryOwned(v)) => serde_json::Value::from(hex(&v)),
                _ => serde_json::Value::Null,
            };
            object.insert(column.name().to_string(), value);
        }
        out.push_str(&serde_json::Value::Object(object).to_string());
        out.push('\n');
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, b| {
            let _ = write!(text, "{b:02x}");
            text
        })
}
