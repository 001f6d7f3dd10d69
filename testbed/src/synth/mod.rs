//! Deterministic, seeded generator of realistic incident logs.
//!
//! A scenario describes a day (or several) of a shop's web traffic — a
//! diurnal request rate with Poisson noise, thousands of users in sessions,
//! sticky backends, a realistic request and status mix, log-normal latency —
//! and an incident that changes what happens to part of that traffic. The
//! generator writes the access log in the scenario's server format, the
//! syslog, error logs and metrics around it, and `expected/<name>.json`: the
//! ground truth computed exactly per `report-contract.md` from what the log itself
//! shows. The same seed always gives the same bytes.
//!
//! `cargo run --release --example synth -- sample-logs` regenerates the
//! bundled samples; large benchmark logs come from [`crate::bench_log`].

pub mod catalog;
pub mod clock;
pub mod events;
pub mod expected;
pub mod population;
pub mod render;
pub mod render_lb;
pub mod render_proxy;
pub mod sampling;
pub mod scenario;
pub mod scenarios;
pub mod traffic;
pub mod truth;

pub use scenario::GeneratedScenario;
pub use scenarios::{SCENARIO_NAMES, generate_scenario, readme};
