//! Code shared by the benchmarks: the log generator.

#[allow(dead_code)]
pub mod generator;
