//! postmortem-testbed: what tests, examples and benchmarks of postmortem use
//! to make their inputs and judge the outputs, kept out of the shipped
//! library (and its dependencies, such as `rand`).
//!
//! - [`synth`]: the seeded generator of the sample logs in `sample-logs/`
//!   and their exact ground truth (`tests/synth.rs` keeps them equal).
//! - [`bench_log`]: the streaming generator of large nginx logs for the
//!   benchmarks (`cargo bench --bench gen_log`, `examples/synth.rs
//!   --bench-lines`).
//! - [`evaluate`]: scoring found incidents against labelled anomaly windows
//!   (the NAB figures of `examples/nab_accuracy.rs`).

pub mod bench_log;
pub mod evaluate;
pub mod synth;
