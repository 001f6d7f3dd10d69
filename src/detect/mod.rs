//! Detect: owns the findings. From the finished series and the evidence
//! beside it (events, metric series, client bursts, paths) to one
//! [`Findings`], built once and in order by [`find`].
//!
//! [`stats`] holds the statistics (binomial tails, medians), [`baseline`] what
//! normal looks like, [`anomaly`] which buckets depart from it, [`incident`]
//! how anomalous buckets become incidents with exact start and end,
//! [`traffic`] the traffic drops, [`changepoint`] and [`evidence`] the
//! metric onsets and log events tied to an incident, [`impact`] the users
//! and requests hit, [`detection`] when someone noticed (decided there
//! only), [`client_bursts`] the 4xx bursts from one client,
//! [`concentration`] the upstream, host or path an incident's bad requests
//! concentrate on, [`first_host`] the host where it started first, [`templates`] the log templates, [`patterns`] the
//! templates that appear or jump at the onset, [`hints`] the leads for the
//! root cause, [`changes`] which changes matter and how they rank,
//! [`resolution`] the change that ended the impact, [`runs`]
//! configuration-management runs as one change, [`actions`] what people
//! ran, [`timeline`] the structured timeline (log lines folded), [`rows`]
//! which of its rows it shows,
//! [`describe`] the order of it all and [`findings`]
//! the types handed to the report.

pub mod actions;
pub mod anomaly;
pub mod baseline;
pub mod changepoint;
pub mod changes;
pub mod client_bursts;
pub mod concentration;
pub mod departures;
pub mod describe;
pub mod detection;
pub mod evidence;
pub mod findings;
pub mod first_host;
pub mod hints;
pub mod impact;
pub mod incident;
pub mod patterns;
pub mod recount;
pub mod refine;
pub mod resolution;
pub mod rows;
pub mod runs;
pub mod stats;
pub mod templates;
pub mod timeline;
pub mod traffic;

pub use describe::{DetectOptions, Observations, find};
pub use findings::{
    BaselineSummary, ChangeLead, Detected, DetectionEvidence, DetectionSource, Finding, Findings,
    Hint, Signal, TimelineEntry, TimelineFact, TimelineKind,
};
pub use incident::{Cause, Incident, Severity};
