//! postmortem: reads the logs of a web stack after an outage and computes when
//! users started to suffer, when anyone noticed, when it ended and how many
//! users were hit, then writes the postmortem with those facts filled in.
//!
//! The library is a pipeline of four stages, one module each:
//! [`ingest`] (sniff and parse inputs into records), [`series`] (fold records
//! into mergeable per-bucket accumulators), [`detect`] (baselines, anomalies,
//! incidents, impact, detection, evidence, hints and timeline: the
//! [`Findings`]) and [`report`] (every sentence: Markdown, JSON, the chart and
//! the series table). [`run`] calls them in order. The binary (`src/main.rs`)
//! only turns arguments into a [`config::Config`], runs the stages through
//! [`analyze`] and maps errors to exit codes.

pub mod config;
pub mod detect;
pub mod error;
pub mod ingest;
pub mod progress;
pub mod report;
pub mod run;
pub mod series;
pub mod timefmt;

pub use config::Config;
pub use detect::Findings;
pub use error::{Error, Result};
pub use run::analyze;
