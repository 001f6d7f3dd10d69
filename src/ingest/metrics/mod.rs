//! Metric CSVs.

pub mod csv;
