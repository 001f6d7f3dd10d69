//! postmortem: reads the logs of a web stack after an outage and computes when
//! users started to suffer, when anyone noticed, when it ended and how many
//! users were hit, then writes the postmortem with those facts filled in.
//!
//! The library is four rooms in a row, each a private module handing one
//! type to the next (see `ARCHITECTURE.md`): `ingest` (sniff and parse
//! inputs, fold every request into a mergeable `series::Partial`), `series`
//! (the per-bucket accumulators), `detect` (baselines, incidents, impact,
//! detection, signals, hints and the timeline, as data: the [`Findings`])
//! and `report` (every sentence: JSON, Markdown, the chart and the series
//! table). `run` calls them in order.
//!
//! # The API
//!
//! - Build a [`Config`] (inputs as [`InputSpec`]s, zone, bucket, thresholds)
//!   and call [`analyze`] for the [`Findings`], or [`inspect`] for what each
//!   input is. Progress and warnings go through a [`Progress`] (the library
//!   never prints; [`NoProgress`] ignores them).
//! - Render the findings with one exporter per format: [`json`] (the
//!   contract's `postmortem.report/v1`, via [`Report`]), [`markdown`],
//!   [`chart`] (SVG) and [`series_table`] (CSV/JSON); [`inspection`] renders
//!   an [`Inspection`].
//! - Errors are an [`Error`] whose [`Error::exit_code`] is the contract's.
//!
//! The binary (`src/bin/postmortem/`) is glue over exactly this API: clap
//! arguments turned into a `Config`, one exporter, exit codes.

// Without `internals`, parser entry points and re-exports that only the
// fuzz targets, benchmarks and tests call are unused; with it (every test
// and `clippy --all-targets` build) dead code is reported as usual.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

// The rooms are private in the library a user builds; the `internals`
// feature makes them public for the fuzz targets, the benchmarks, the
// integration tests and the testbed, which drive parsers and accumulators
// one by one (the testbed turns it on, so every test and bench build has
// it). The API is what is re-exported below. Each room is declared twice,
// not through a macro: rustfmt (`cargo fmt`) formats only the modules it
// sees declared, and a macro hid every room from it.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod config;
#[cfg(not(feature = "internals"))]
mod config;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod detect;
#[cfg(not(feature = "internals"))]
mod detect;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod error;
#[cfg(not(feature = "internals"))]
mod error;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod ingest;
#[cfg(not(feature = "internals"))]
mod ingest;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod progress;
#[cfg(not(feature = "internals"))]
mod progress;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod report;
#[cfg(not(feature = "internals"))]
mod report;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod run;
#[cfg(not(feature = "internals"))]
mod run;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod scan;
#[cfg(not(feature = "internals"))]
mod scan;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod series;
#[cfg(not(feature = "internals"))]
mod series;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod timefmt;
#[cfg(not(feature = "internals"))]
mod timefmt;
// The Parquet partials need polars: only in builds with the `tables` feature.
#[cfg(all(feature = "tables", feature = "internals"))]
#[doc(hidden)]
pub mod partials;
#[cfg(all(feature = "tables", not(feature = "internals")))]
mod partials;
#[cfg(all(feature = "tables", feature = "internals"))]
#[doc(hidden)]
pub mod sql;
#[cfg(all(feature = "tables", not(feature = "internals")))]
mod sql;

pub use config::{Config, InputSpec, UserKey};
pub use detect::{Finding, Findings};
pub use error::{Error, Result};
pub use ingest::InputKind;
// The partial commands exist only with the Parquet partials (`tables`);
// a binary built without them refuses those commands in one line.
#[cfg(feature = "tables")]
pub use partials::pieces::Piece;
pub use progress::{NoProgress, Progress};
pub use report::inspect as inspection;
pub use report::{Report, chart, json, markdown, series_table};
pub use run::{Inspection, analyze, inspect};
#[cfg(feature = "tables")]
pub use run::{
    analyze_partials, impact_jsonl, partials_jsonl, write_impact_partials, write_partials,
};
#[cfg(feature = "tables")]
pub use sql::{
    Dialect, DurationUnit, Mapped, SqlRequest, TerminationFormat, TimeColumn, TimeIs,
    query as sql_query,
};
pub use timefmt::{Millis, TimeSpec, Zone, bare_number, parse_duration_us};
