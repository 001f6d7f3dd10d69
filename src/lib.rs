//! postmortem: reads the logs of a web stack after an outage and computes when
//! users started to suffer, when anyone noticed, when it ended and how many
//! users were hit, then writes the postmortem with those facts filled in.
//!
//! The library is four rooms in a row, each a module handing one type to
//! the next (see `ARCHITECTURE.md`): `ingest` (sniff and parse
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

// The rooms are public only for the fuzz targets, the benchmarks, the
// integration tests and the testbed, which exercise parsers and accumulators
// one by one; they are hidden from the documentation and promise no
// stability. The API is what is re-exported below.
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod detect;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod ingest;
#[doc(hidden)]
pub mod progress;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod run;
#[doc(hidden)]
pub mod series;
#[doc(hidden)]
pub mod timefmt;

pub use config::{Config, InputSpec, UserKey};
pub use detect::{Finding, Findings};
pub use error::{Error, Result};
pub use ingest::InputKind;
pub use progress::{NoProgress, Progress};
pub use report::inspect as inspection;
pub use report::{Report, chart, json, markdown, series_table};
pub use run::{Inspection, analyze, inspect};
pub use timefmt::{Millis, TimeSpec, Zone, parse_duration_us};
