//! [`Config`]: everything a run needs, validated and free of clap, so the
//! library can be driven from tests and other programs as well as the CLI.

use std::path::PathBuf;

use crate::timefmt::{MS_PER_MINUTE, TimeSpec, Zone};

/// What identifies one user (`--users`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserKey {
    /// The client address alone.
    Ip,
    /// The client address and the user agent; the address alone where the
    /// log has no user agent.
    #[default]
    IpUserAgent,
    /// The authenticated user (`$remote_user`, `%u`); the address where it is `-`.
    RemoteUser,
}

impl UserKey {
    pub fn name(self) -> &'static str {
        match self {
            UserKey::Ip => "ip",
            UserKey::IpUserAgent => "ip-ua",
            UserKey::RemoteUser => "remote-user",
        }
    }
}

/// One thing to read: a path (file or directory) or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSpec {
    Path(PathBuf),
    Stdin,
}

impl InputSpec {
    /// `-` is standard input, anything else a path.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            InputSpec::Stdin
        } else {
            InputSpec::Path(PathBuf::from(arg))
        }
    }
}

/// The default bucket width of the series: one minute.
pub const DEFAULT_BUCKET_MS: i64 = MS_PER_MINUTE;

/// The default availability objective for the burn-rate rule, in percent.
pub const DEFAULT_SLO_PERCENT: f64 = 99.9;

/// A validated run configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub inputs: Vec<InputSpec>,
    /// `--log-format`: a preset name; `None` detects the format per input.
    pub log_format: Option<String>,
    /// `--tz`: zone for timestamps that carry none; also the zone of the report.
    pub tz: Option<Zone>,
    /// `--year`: year for syslog lines that carry none.
    pub year: Option<i32>,
    pub since: Option<TimeSpec>,
    pub until: Option<TimeSpec>,
    /// Width of one series bucket in milliseconds.
    pub bucket_ms: i64,
    /// `--slow` in microseconds; `None` is the contract's default
    /// (the larger of 1 s and 4 × the baseline p99).
    pub slow_threshold_us: Option<u64>,
    pub user_key: UserKey,
    pub slo_percent: f64,
    pub detected_at: Option<TimeSpec>,
    pub alert_patterns: Vec<String>,
    /// Worker threads for parsing; 0 lets rayon choose (one per core).
    pub threads: usize,
    /// `--exact-users-mb` in bytes: the memory the exact user spans may
    /// take before every bucket keeps sketches instead.
    pub exact_users_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            inputs: Vec::new(),
            log_format: None,
            tz: None,
            year: None,
            since: None,
            until: None,
            bucket_ms: DEFAULT_BUCKET_MS,
            slow_threshold_us: None,
            user_key: UserKey::default(),
            slo_percent: DEFAULT_SLO_PERCENT,
            detected_at: None,
            alert_patterns: Vec::new(),
            threads: 0,
            exact_users_bytes: crate::series::user_sketch::DEFAULT_EXACT_USERS_BYTES,
        }
    }
}

impl Config {
    /// A configuration reading `inputs` with every other setting at its default.
    pub fn for_inputs(inputs: Vec<InputSpec>) -> Self {
        Config {
            inputs,
            ..Config::default()
        }
    }
}
