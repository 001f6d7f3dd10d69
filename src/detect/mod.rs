//! Detect: from per-bucket numbers to incidents. Knows numbers, not logs.
//!
//! [`stats`] holds the statistics (binomial tails, medians), [`baseline`] what
//! normal looks like, [`anomaly`] which buckets depart from it, [`incident`]
//! how anomalous buckets become incidents with exact start and end, [`impact`]
//! the users and requests hit, and [`detection`] when someone noticed.

pub mod anomaly;
pub mod baseline;
pub mod detection;
pub mod impact;
pub mod incident;
pub mod refine;
pub mod stats;
pub mod traffic;

pub use incident::{Cause, Incident, Severity};
