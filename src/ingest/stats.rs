//! What reading each input gave: its kind, format and line counts, the
//! skipped lines kept as examples, its time range and the optional fields it
//! carries. Every reader of ingest fills an [`InputStats`]; the reports show
//! them.

use super::record::field_bits;
use crate::timefmt::Millis;

/// How many skipped lines are kept per input as examples.
pub const MAX_SKIPPED_EXAMPLES: usize = 5;

/// What an input was found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Access,
    /// RFC 3164/5424/3339 syslog, journalctl output, nagios.log: events.
    Syslog,
    /// nginx or Apache error log: events.
    ErrorLog,
    /// A metrics CSV: series.
    Metrics,
    /// Nothing the tool reads: reported, not analysed.
    Unknown,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Access => "access",
            InputKind::Syslog => "syslog",
            InputKind::ErrorLog => "error_log",
            InputKind::Metrics => "metrics",
            InputKind::Unknown => "unknown",
        }
    }
}

/// A line that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number in the (decompressed) input.
    pub line: u64,
    pub reason: String,
}

/// What reading one input gave.
#[derive(Clone, Debug, PartialEq)]
pub struct InputStats {
    pub path: String,
    pub kind: InputKind,
    pub format: Option<&'static str>,
    /// What carried the access lines (`syslog`, `container`,
    /// `docker-json`), when they were not bare.
    pub envelope: Option<&'static str>,
    pub compressed: bool,
    /// The file's size on disk (compressed as stored); `None` for stdin.
    pub size_on_disk: Option<u64>,
    pub lines: u64,
    pub parsed: u64,
    pub skipped: u64,
    /// Lines of an access log that are the server's own messages (HAProxy's
    /// `Proxy www started.`), read as syslog lines for events: neither
    /// requests nor skipped.
    pub messages: u64,
    pub skipped_examples: Vec<SkippedLine>,
    /// Parsed lines left out by `--since`/`--until`.
    pub out_of_range: u64,
    /// Requests with status 0 or 000: no response was sent (the client
    /// went away); requests, neither failed nor slow.
    pub no_response: u64,
    /// Earliest and latest request arrival among parsed lines.
    pub first: Option<Millis>,
    pub last: Option<Millis>,
    /// Why reading stopped early or did not start (unreadable, damaged gzip).
    pub error: Option<String>,
    /// Why the input was not recognised, for unknown inputs.
    pub note: Option<String>,
    /// Whether the lines carry a request time and a user agent (also in
    /// `fields`).
    pub has_request_time: bool,
    pub has_user_agent: bool,
    /// Which optional fields at least one parsed line had a value for.
    pub fields: AccessFields,
    /// Lines read by another format than `format` (a file that mixes
    /// formats), per format.
    pub other_formats: Vec<(&'static str, u64)>,
    /// The input whose reading covers this one's lines (the same file by
    /// another path, a folder linking back up, a copy): this one was left
    /// out, so no line is counted twice.
    pub duplicate_of: Option<String>,
    /// Lines at the end of this file left out because they are the first
    /// lines of another rotation of the same log (`overlap_with`), where
    /// they are counted.
    pub overlap_lines: u64,
    pub overlap_with: Option<String>,
}

/// The optional fields an access log carries (a value in at least one line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessFields {
    pub request_time: bool,
    pub upstream: bool,
    pub user_agent: bool,
    pub remote_user: bool,
    /// The virtual host (`%v`, `$host`, ...).
    pub host: bool,
}

impl AccessFields {
    /// The fields whose [`field_bits`] are set in `bits`.
    pub(crate) fn from_bits(bits: u8) -> Self {
        AccessFields {
            request_time: bits & field_bits::REQUEST_TIME != 0,
            upstream: bits & field_bits::UPSTREAM != 0,
            user_agent: bits & field_bits::USER_AGENT != 0,
            remote_user: bits & field_bits::REMOTE_USER != 0,
            host: bits & field_bits::HOST != 0,
        }
    }
}

impl InputStats {
    /// The statistics of an input nothing was read from yet.
    pub fn new(path: String) -> Self {
        InputStats {
            path,
            kind: InputKind::Unknown,
            format: None,
            envelope: None,
            compressed: false,
            size_on_disk: None,
            lines: 0,
            parsed: 0,
            skipped: 0,
            messages: 0,
            skipped_examples: Vec::new(),
            out_of_range: 0,
            no_response: 0,
            first: None,
            last: None,
            error: None,
            note: None,
            has_request_time: false,
            has_user_agent: false,
            fields: AccessFields::default(),
            other_formats: Vec::new(),
            duplicate_of: None,
            overlap_lines: 0,
            overlap_with: None,
        }
    }
}
