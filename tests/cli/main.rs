//! The integration tests: one binary that runs `postmortem` as a user would,
//! on logs the tests write, on the bundled `sample-logs/`, and on the public
//! datasets in `../shared/datasets` (skipped with a notice when absent).

mod datasets;
mod definitions;
mod errors;
mod parallel;
mod support;
