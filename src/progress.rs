//! The one channel through which the library reports progress. The library
//! never prints; the binary implements [`Progress`] with an indicatif bar.

/// Receives progress while inputs are read. All methods have empty defaults.
pub trait Progress: Sync {
    /// Reading starts; `total_bytes` is the size on disk of all inputs, when known.
    fn begin(&self, _total_bytes: Option<u64>) {}
    /// Sets how many bytes on disk have been consumed so far, across inputs.
    fn set_position(&self, _bytes: u64) {}
    /// A line worth telling the user (an unreadable file, a damaged gzip).
    fn warn(&self, _message: &str) {}
    /// Reading is over.
    fn finish(&self) {}
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {}
