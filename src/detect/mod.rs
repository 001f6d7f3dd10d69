//! Detect: from per-bucket numbers to incidents. Knows numbers, not logs.
//!
//! [`stats`] holds the statistics (binomial tails, medians), [`baseline`] what
//! normal looks like, [`anomaly`] which buckets depart from it, [`incident`]
//! how anomalous buckets become incidents with exact start and end, [`impact`]
//! the users and requests hit, and [`detection`] when someone noticed.
//! [`client_bursts`] names 4xx bursts from one client and [`concentration`]
//! the upstream, host or path an incident's bad requests concentrate on.

pub mod anomaly;
pub mod baseline;
pub mod changepoint;
pub mod client_bursts;
pub mod concentration;
pub mod detection;
pub mod impact;
pub mod incident;
pub mod refine;
pub mod stats;
pub mod traffic;

pub use incident::{Cause, Incident, Severity};
