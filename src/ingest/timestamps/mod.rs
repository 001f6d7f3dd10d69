//! Every log-time fast path of ingest, in one place: the times access logs
//! write ([`access`]: CLF, ISO 8601, epoch seconds; the hot path) and the
//! times of syslog, error logs and metric CSVs ([`stamp`]: RFC 3164/3339,
//! nginx and Apache error-log times, CSV cells), which may lack a zone or a
//! year and so are kept as a [`Stamp`] until the run's zone and year are
//! known.
//!
//! Parsers never read the clock or the local zone. Calendar arithmetic and
//! the text forms of times in reports are [`crate::timefmt`]'s.

mod access;
mod stamp;

pub use access::*;
pub use stamp::*;
