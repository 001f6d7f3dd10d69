//! Access logs: one module per format family (being split out of the former
//! `access.rs`).

pub mod clf;
mod clf_fast;
pub mod jsonlines;
pub mod logformat;

pub use clf::*;
