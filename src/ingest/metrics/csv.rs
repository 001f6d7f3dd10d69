//! Metric CSVs (Grafana, Prometheus and monitoring exports), read with polars.
//!
//! polars reads the table and infers the column types (quoted headers, `,`
//! or `;` separators, CRLF). This module then finds the time column, by its
//! name (`time`, `timestamp`, `date`, `ts`, ...) or by its content (RFC 3339
//! with or without zone, `YYYY-MM-DD HH:MM:SS`, epoch seconds or
//! milliseconds), and the series:
//!
//! - **wide** (Grafana's "series joined by time"): one series per numeric
//!   column;
//! - **long** (Grafana's data export, Prometheus): `time, series|metric|name
//!   [, labels...], value`, one series per distinct name and labels.
//!
//! Units stay as they are (a header `memory (MB)` gives the unit `MB`);
//! empty cells stay gaps (NaN). A table with a time column but no numeric
//! column is still a metrics input, with a note saying so.
//!
//! The table itself is read by [`table`], with polars, in builds with the
//! default feature `tables`; a build without it (the fuzz targets of the
//! parsers, which need no polars) sniffs a CSV but does not read it, and
//! says so ([`NO_CSV_READER`]).

pub use super::dialect::{CsvDialect, MIN_CONTENT_SHARE, sniff};
use crate::ingest::stats::SkippedLine;
use crate::ingest::timestamps::Stamp;

#[cfg(feature = "tables")]
mod table;

/// How the rows of a CSV hold its series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvLayout {
    Wide,
    Long,
}

impl CsvLayout {
    pub fn name(self) -> &'static str {
        match self {
            CsvLayout::Wide => "csv-wide",
            CsvLayout::Long => "csv-long",
        }
    }
}

/// One metric series with its times not yet placed in a zone.
#[derive(Clone, Debug, PartialEq)]
pub struct RawSeries {
    pub name: String,
    pub unit: String,
    pub stamps: Vec<Stamp>,
    /// NaN where the cell was empty.
    pub values: Vec<f64>,
    /// 1-based line of each point in the file; 0 when unknown.
    pub lines: Vec<u64>,
}

/// What reading one CSV gave.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedCsv {
    pub layout: CsvLayout,
    pub time_column: String,
    /// Data rows (the header and a `sep=` line left out).
    pub rows: u64,
    /// Rows whose time cell could be read.
    pub parsed: u64,
    pub skipped: u64,
    pub skipped_examples: Vec<SkippedLine>,
    pub series: Vec<RawSeries>,
    /// Something the user should know (no numeric column).
    pub note: Option<String>,
}
/// Why a metrics CSV is not read in a build without the `tables` feature.
#[cfg(not(feature = "tables"))]
pub const NO_CSV_READER: &str = "this build has no CSV reader (postmortem was built without its default feature `tables`); read this file with a build of default features";

/// Reads a whole CSV. The error says why it is not a metrics CSV.
///
/// polars reports malformed tables as errors; should it panic on some byte
/// sequence all the same, the panic is caught here and reported as the
/// file's note, because no input may bring the run down.
#[cfg(feature = "tables")]
pub fn load(bytes: &[u8], dialect: CsvDialect) -> Result<LoadedCsv, String> {
    std::panic::catch_unwind(|| table::load_table(bytes, dialect)).unwrap_or_else(|_| {
        Err("the table reader stopped on an internal error; check that the file is a CSV with a header row".to_string())
    })
}

/// Without the `tables` feature no CSV is read: the error says so, and
/// the input is listed as not read with every line counted.
#[cfg(not(feature = "tables"))]
pub fn load(_bytes: &[u8], _dialect: CsvDialect) -> Result<LoadedCsv, String> {
    Err(NO_CSV_READER.to_string())
}
