//! postmortem-testbed: what tests, examples and benchmarks of postmortem use
//! to make their inputs and judge the outputs, kept out of the shipped
//! library (and its dependencies, such as `rand`).
//!
//! - [`synth`]: the seeded generator of the sample logs in `sample-logs/`
//!   and their exact ground truth (`tests/synth.rs` keeps them equal).
//! - [`exact`]: requests known one by one, the nginx or Apache log they
//!   give and the contract's exact figures for them (edge and definition
//!   tests in `tests/cli/`).
//! - [`bench_log`]: the streaming generator of large nginx logs for the
//!   benchmarks (`cargo bench --bench gen_log`, `examples/synth.rs
//!   --bench-lines`).
//! - [`evaluate`]: scoring found incidents against labelled anomaly windows
//!   (the NAB figures of `examples/nab_accuracy.rs`).

pub mod bench_log;
pub mod evaluate;
pub mod exact;
pub mod synth;
