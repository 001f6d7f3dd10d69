//! The command line: clap derive types, turned into a validated, clap-free
//! [`Config`] by [`CommonArgs::to_config`]. Nothing here runs the pipeline.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use postmortem::config::{Config, InputSpec, UserKey};
use postmortem::timefmt::{Zone, parse_duration_us};
use postmortem::{Error, Result, analysis};

#[derive(Parser, Debug)]
#[command(
    name = "postmortem",
    version,
    about = "Reads web-stack logs after an outage and writes the postmortem with start, detection, end and impact filled in.",
    long_about = "Reads nginx/Apache access logs (plain or .gz, files, directories or stdin), finds when users \
started to suffer, when anyone noticed, when it ended and how many users were hit, and writes the \
postmortem with those facts filled in.\n\nExample:\n  postmortem report /var/log/nginx/ > postmortem.md\n  \
postmortem report --format json access.log access.log.1 access.log.2.gz"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write the prefilled postmortem (Markdown or JSON).
    #[command(
        long_about = "Write the prefilled postmortem.\n\nExample:\n  postmortem report --detected-at '2023-11-12 14:15' /var/log/nginx/"
    )]
    Report(ReportArgs),
    /// Show what each input is and how well it parsed.
    #[command(
        long_about = "Show, per input, the kind and format found, lines, parsed and skipped lines with examples, and the time range.\n\nExample:\n  postmortem inspect /var/log/nginx/"
    )]
    Inspect(InspectArgs),
    /// Print the per-bucket series as CSV or JSON.
    #[command(
        long_about = "Print the per-bucket series (requests, failed, slow, ratios, latency quantiles, distinct users) for plotting elsewhere.\n\nExample:\n  postmortem series --bucket 5m access.log > series.csv"
    )]
    Series(SeriesArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesFormat {
    Csv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsersArg {
    /// The client address.
    Ip,
    /// The client address and the user agent.
    IpUa,
    /// The authenticated user; the address where it is '-'.
    RemoteUser,
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// Log files, directories (every regular file below, hidden ones skipped) or - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Access-log format preset; detected from the content when absent.
    #[arg(
        long,
        value_name = "PRESET",
        long_help = "Access-log format: a preset name (combined, combined+request_time, combined+usec, common, common+request_time, common+usec). Detected from the content when absent.\n\nExample: --log-format combined+request_time"
    )]
    pub log_format: Option<String>,
    /// Zone for timestamps without one, and for the report: +01:00, UTC or an IANA name.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Year for syslog lines that carry none.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,
    /// Analyse only from this time (RFC 3339, or 'YYYY-MM-DD HH:MM[:SS]' in the logs' zone).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Analyse only up to this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Bucket width of the series: 30s, 1m, 5m (whole seconds).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub bucket: String,
    /// A request slower than this is slow [default: the larger of 1 s and 4 × the baseline p99].
    #[arg(long, value_name = "DURATION")]
    pub slow: Option<String>,
    /// What identifies one user.
    #[arg(long, value_enum, default_value = "ip-ua")]
    pub users: UsersArg,
    /// No progress bar or warnings on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write the report to this file instead of stdout (replaced only when the report is complete).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Availability objective (percent) for the burn-rate detection rule.
    #[arg(long, value_name = "PERCENT", default_value = "99.9")]
    pub slo: f64,
    /// The detection time, when you know it (RFC 3339, or 'YYYY-MM-DD HH:MM[:SS]' in the logs' zone).
    #[arg(long, value_name = "TIME")]
    pub detected_at: Option<String>,
    /// A log line matching this regular expression is an alert (repeatable), besides the built-in set.
    #[arg(
        long = "alert-pattern",
        value_name = "REGEX",
        long_help = "A syslog or error-log line matching this regular expression (regex crate syntax, matched against 'program: message') counts as an alert, besides the built-in set (Nagios/Icinga, Alertmanager, Monit, Zabbix). Repeatable.\n\nExample: --alert-pattern 'PagerDuty.*triggered'"
    )]
    pub alert_patterns: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format: a table for people, or JSON.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SeriesArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: SeriesFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl CommonArgs {
    /// The validated configuration these arguments describe.
    pub fn to_config(&self) -> Result<Config> {
        let bucket_us = parse_duration_us(&self.bucket).ok_or_else(|| {
            Error::Usage(format!(
                "--bucket '{}' is not a duration: use e.g. 30s, 1m or 5m",
                self.bucket
            ))
        })?;
        if bucket_us % 1_000_000 != 0 {
            return Err(Error::Usage(format!(
                "--bucket '{}' must be a whole number of seconds, e.g. 30s, 1m or 5m",
                self.bucket
            )));
        }
        let slow_threshold_us = match &self.slow {
            None => None,
            Some(text) => Some(parse_duration_us(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--slow '{text}' is not a duration: use e.g. 1s, 500ms or 2.5s"
                ))
            })?),
        };
        let tz = match &self.tz {
            None => None,
            Some(text) => Some(Zone::parse(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--tz '{text}' is not a zone: use an offset (+01:00), UTC, or an IANA name (Europe/Berlin)"
                ))
            })?),
        };
        let since = self
            .since
            .as_deref()
            .map(|t| analysis::parse_time_arg("--since", t))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| analysis::parse_time_arg("--until", t))
            .transpose()?;
        Ok(Config {
            inputs: self.inputs.iter().map(|s| InputSpec::from_arg(s)).collect(),
            log_format: self.log_format.clone(),
            tz,
            year: self.year,
            since,
            until,
            bucket_ms: (bucket_us / 1000) as i64,
            slow_threshold_us,
            user_key: match self.users {
                UsersArg::Ip => UserKey::Ip,
                UsersArg::IpUa => UserKey::IpUserAgent,
                UsersArg::RemoteUser => UserKey::RemoteUser,
            },
            ..Config::default()
        })
    }
}

impl ReportArgs {
    pub fn to_config(&self) -> Result<Config> {
        let mut config = self.common.to_config()?;
        if !(self.slo > 0.0 && self.slo < 100.0) {
            return Err(Error::Usage(format!(
                "--slo {} is not an objective: give a percentage between 0 and 100, e.g. 99.9",
                self.slo
            )));
        }
        config.slo_percent = self.slo;
        config.alert_patterns = self.alert_patterns.clone();
        config.detected_at = self
            .detected_at
            .as_deref()
            .map(|t| analysis::parse_time_arg("--detected-at", t))
            .transpose()?;
        Ok(config)
    }
}
