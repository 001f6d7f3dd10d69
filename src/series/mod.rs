//! Series: the per-bucket accumulators an access log is folded into, all
//! mergeable partials (chunks, threads, files and hosts combine in any
//! grouping with the same result). Depends on nothing but [`crate::timefmt`].
//!
//! [`Partial`] is the room's one door: ingest folds each request into one
//! ([`Partial::record`]), partials combine with [`Partial::merge`], and
//! [`Partial::finish`] gives the [`AccessSeries`] detection reads.
//! [`buckets`] holds the per-bucket counts, [`slots`] their per-second
//! slots, [`latency`] the latency histograms and [`users`] the users of a
//! bucket ([`packed`] the byte form settled buckets keep); [`dims`] the
//! per-upstream and per-host counts; [`paths`] the request paths;
//! [`clients`] the clients of 4xx responses; [`termination`] how a proxy
//! says a request ended; [`heavy`] the heavy-hitter
//! summaries the last two are built on.

pub mod buckets;
pub mod clients;
pub mod dims;
pub mod heavy;
pub mod latency;
pub mod packed;
pub mod partial;
pub mod paths;
pub mod slots;
pub mod termination;
pub mod user_sketch;
pub mod users;
pub mod widen;

pub use buckets::*;
pub use partial::{AccessSeries, Partial, Request, UpstreamAttempt};
