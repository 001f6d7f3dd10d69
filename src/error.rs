//! The library's error type: what can abort a run (I/O, bad arguments, inputs
//! with nothing readable). A line that does not parse is never an error; it is
//! counted and sampled in the per-input statistics of ingest (`InputStats`),
//! which depends on this module, not the other way round.

use std::path::PathBuf;

/// Everything that stops a run before a report can be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading an input failed (missing file, permission, broken gzip header...).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An argument the user gave is not usable; the message says what to do.
    #[error("{0}")]
    Usage(String),
    /// No line of any input could be parsed, so there is nothing to analyse.
    #[error("{0}")]
    NothingParsed(String),
}

impl Error {
    /// The exit status the contract gives this error: 1 for I/O, 2 for usage
    /// errors and inputs where nothing could be parsed.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Io { .. } => 1,
            Error::Usage(_) | Error::NothingParsed(_) => 2,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
