//! The command line of `postmortem sql` (clap derive), turned into the
//! clap-free [`SqlRequest`] right away, as `cli.rs` does for the others.

use clap::{Args, ValueEnum};

use crate::cli::{UsersArg, duration_arg, parse_time_arg, parse_window};
use postmortem::{
    Dialect, DurationUnit, Error, Mapped, Result, SqlRequest, TerminationFormat, TimeColumn,
    TimeIs, UserKey, Zone,
};

/// The value of a column flag that says the table has no such column.
const NO_COLUMN: &str = "-";

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectArg {
    /// ClickHouse (and chDB): xxh3 user ids, the binary's with --users ip.
    Clickhouse,
    /// BigQuery (GoogleSQL): FARM_FINGERPRINT user ids.
    Bigquery,
    /// Spark SQL 3.5 or later: xxhash64 user ids, DataSketches HLL sketches (hll_sketch_agg).
    Spark,
    /// DuckDB: hash() user ids.
    Duckdb,
    /// Trino (and Presto, Athena v3): xxhash64 user ids.
    Trino,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeColumnArg {
    /// A timestamp type (TIMESTAMP, DateTime64, TIMESTAMP WITH TIME ZONE).
    Timestamp,
    /// Milliseconds since 1970-01-01T00:00:00Z.
    EpochMs,
    /// Seconds since 1970-01-01T00:00:00Z, a fraction allowed.
    EpochS,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeIsArg {
    /// The line was written when the request was answered (nginx $time_local, IIS, Caddy).
    Completion,
    /// The time is the request's arrival (Apache %t, HAProxy, Envoy START_TIME).
    Arrival,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitArg {
    /// Seconds with a fraction (nginx $request_time).
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds (Apache %D).
    Us,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminationFormatArg {
    /// HAProxy's termination state (SC--, sH--).
    Haproxy,
    /// Envoy's response flags (UF,URX).
    Envoy,
}

#[derive(Args, Debug)]
pub struct SqlArgs {
    /// The engine whose SQL to write.
    #[arg(long, value_enum)]
    pub dialect: DialectArg,
    /// The table of parsed access-log requests, one row per request (db.schema.table allowed).
    ///
    /// Example: --table logs.nginx_access
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// The column of the request's time.
    #[arg(long, value_name = "COLUMN", default_value = "time")]
    pub time_column: String,
    /// What the time column holds.
    #[arg(long, value_enum, value_name = "TYPE", default_value = "timestamp")]
    pub time_type: TimeColumnArg,
    /// Whether the time is when the line was written (completion) or when the request arrived.
    ///
    /// At completion, the arrival is the time minus the request time, as for nginx's logs.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "completion")]
    pub time_is: TimeIsArg,
    /// The column of the client address.
    #[arg(long, value_name = "COLUMN", default_value = "client")]
    pub client_column: String,
    /// The column of the HTTP status (an integer).
    #[arg(long, value_name = "COLUMN", default_value = "status")]
    pub status_column: String,
    /// The column of the request time (a number), '-' when the table has none.
    #[arg(long, value_name = "COLUMN", default_value = "request_time")]
    pub request_time_column: String,
    /// The unit of the request-time column.
    #[arg(long, value_enum, value_name = "UNIT", default_value = "s")]
    pub request_time_unit: UnitArg,
    /// The column of the user agent, '-' when the table has none.
    #[arg(long, value_name = "COLUMN", default_value = "user_agent")]
    pub user_agent_column: String,
    /// The column of the authenticated user (for --users remote-user).
    #[arg(long, value_name = "COLUMN")]
    pub remote_user_column: Option<String>,
    /// The column of the upstream address or list of attempts ($upstream_addr): adds the per-upstream tables.
    #[arg(long, value_name = "COLUMN")]
    pub upstream_column: Option<String>,
    /// The column of the upstream statuses, one per address ($upstream_status: '504, 200').
    #[arg(long, value_name = "COLUMN", requires = "upstream_column")]
    pub upstream_status_column: Option<String>,
    /// The column of the upstream times in seconds, one per address ($upstream_response_time).
    #[arg(long, value_name = "COLUMN", requires = "upstream_column")]
    pub upstream_time_column: Option<String>,
    /// The column of the row's line number in its log file, for evidence lines.
    #[arg(long, value_name = "COLUMN")]
    pub line_column: Option<String>,
    /// The column of the request line ('GET /a/b?x=1 HTTP/1.1', nginx $request): adds the bad-path leads.
    #[arg(long, value_name = "COLUMN")]
    pub request_column: Option<String>,
    /// The column of how the proxy ended each request (HAProxy's termination state, Envoy's response flags).
    ///
    /// Adds the termination causes of each upstream's failed requests.
    #[arg(long, value_name = "COLUMN", requires_all = ["upstream_column", "termination_format"])]
    pub termination_column: Option<String>,
    /// What the termination column holds.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        requires = "termination_column"
    )]
    pub termination_format: Option<TerminationFormatArg>,
    /// Only requests that arrived from this time on (RFC 3339, or 'YYYY-MM-DD HH:MM[:SS]' in --tz).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only requests that arrived up to this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The impact query of an incident: only the requests of START..END, marked as impact partials.
    ///
    /// Example: --window 2024-06-11T13:23:18.217Z..2024-06-11T14:09:32.758Z
    #[arg(long, value_name = "START..END")]
    pub window: Option<String>,
    /// The zone zoneless --since/--until are read in.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// Bucket width: 30s, 1m, 5m, 1h, 1d (as for 'partial').
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub bucket: String,
    /// The slow threshold (as for 'partial'); the reduce step's --slow must be the same.
    #[arg(long, value_name = "DURATION")]
    pub slow: Option<String>,
    /// What identifies one user.
    #[arg(long, value_enum, value_name = "KEY", default_value = "ip-ua")]
    pub users: UsersArg,
    /// The producer name in the settings line [default: the dialect's name].
    #[arg(long, value_name = "NAME")]
    pub producer: Option<String>,
}

/// A column flag's value: `None` for '-'.
fn optional(name: &str) -> Option<String> {
    (name != NO_COLUMN).then(|| name.to_string())
}

impl SqlArgs {
    pub fn to_request(&self) -> Result<SqlRequest> {
        let zone = Zone::parse(&self.tz).ok_or_else(|| {
            Error::Usage(format!(
                "--tz '{}' is not a zone: use an offset (+01:00), UTC, or an IANA name (Europe/Berlin)",
                self.tz
            ))
        })?;
        let time = |flag: &str, text: &Option<String>| -> Result<Option<i64>> {
            text.as_deref()
                .map(|t| parse_time_arg(flag, t).map(|spec| spec.resolve(&zone)))
                .transpose()
        };
        let bucket_us = duration_arg("--bucket", &self.bucket, ["s", "m"], "30s, 1m, 5m, 1h")?;
        let slow_us = self
            .slow
            .as_deref()
            .map(|text| duration_arg("--slow", text, ["ms", "s"], "500ms, 2s"))
            .transpose()?;
        let dialect = match self.dialect {
            DialectArg::Clickhouse => Dialect::ClickHouse,
            DialectArg::Bigquery => Dialect::BigQuery,
            DialectArg::Spark => Dialect::Spark,
            DialectArg::Duckdb => Dialect::DuckDb,
            DialectArg::Trino => Dialect::Trino,
        };
        Ok(SqlRequest {
            dialect,
            table: self.table.clone(),
            columns: Mapped {
                time: self.time_column.clone(),
                client: self.client_column.clone(),
                status: self.status_column.clone(),
                request_time: optional(&self.request_time_column),
                user_agent: optional(&self.user_agent_column),
                remote_user: self.remote_user_column.as_deref().and_then(optional),
                upstream: self.upstream_column.as_deref().and_then(optional),
                upstream_status: self.upstream_status_column.as_deref().and_then(optional),
                upstream_time: self.upstream_time_column.as_deref().and_then(optional),
                line: self.line_column.as_deref().and_then(optional),
                request: self.request_column.as_deref().and_then(optional),
                termination: self.termination_column.as_deref().and_then(optional),
            },
            time_column: match self.time_type {
                TimeColumnArg::Timestamp => TimeColumn::Timestamp,
                TimeColumnArg::EpochMs => TimeColumn::EpochMs,
                TimeColumnArg::EpochS => TimeColumn::EpochS,
            },
            time_is: match self.time_is {
                TimeIsArg::Completion => TimeIs::Completion,
                TimeIsArg::Arrival => TimeIs::Arrival,
            },
            request_time_unit: match self.request_time_unit {
                UnitArg::S => DurationUnit::Seconds,
                UnitArg::Ms => DurationUnit::Millis,
                UnitArg::Us => DurationUnit::Micros,
            },
            since: time("--since", &self.since)?,
            until: time("--until", &self.until)?,
            window: self.window.as_deref().map(parse_window).transpose()?,
            bucket_ms: (bucket_us / 1000) as i64,
            slow_us,
            user_key: match self.users {
                UsersArg::Ip => UserKey::Ip,
                UsersArg::IpUa => UserKey::IpUserAgent,
                UsersArg::RemoteUser => UserKey::RemoteUser,
            },
            producer: self
                .producer
                .clone()
                .unwrap_or_else(|| dialect.name().to_string()),
            termination_format: match self.termination_format {
                Some(TerminationFormatArg::Envoy) => TerminationFormat::Envoy,
                Some(TerminationFormatArg::Haproxy) | None => TerminationFormat::HaProxy,
            },
        })
    }
}
