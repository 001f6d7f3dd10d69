//! Events: syslog and error logs, and how their messages are classified.

pub mod classify;
pub mod errorlog;
pub mod syslog;

pub use classify::*;
