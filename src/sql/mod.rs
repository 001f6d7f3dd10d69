//! `postmortem sql`: the query that makes, inside a warehouse, the
//! partials `postmortem partial` makes from log files (issue 17, item 5).
//! [`SqlRequest`] is what the command line asks (the engine, the table,
//! which column holds what, the settings that must match to merge);
//! [`query`] checks it and writes one query whose single text column is
//! the JSON lines `report --from-partials` reads: the settings line, one
//! `inputs` row naming the table, then the rows of `buckets`, `latency`,
//! `slow_tail`, `slots`, `users`, the 4xx-client summaries (`heavy`,
//! `totals`), with a request-line column the bad-path summaries and the
//! path traffic (`path_cells`), and, with an upstream column,
//! `dimensions` and `dimension_latency` (and with a termination column
//! `dimension_causes`). One builder (`builder.rs`)
//! writes the SQL; `dialect.rs` is the table of what differs between
//! engines. Depends on `partials` for the schema's names, `series` for
//! the slot arithmetic and the causes, and `ingest::access` for the
//! proxies' termination codes (Envoy's flag table, HAProxy's `<NOSRV>`). Reference: docs/sql.md.

mod builder;
mod dialect;
#[cfg(test)]
mod tests;

pub use dialect::Dialect;

use crate::config::UserKey;
use crate::error::{Error, Result};
use crate::series::buckets::MIN_DEFAULT_SLOW_US;
use crate::timefmt::Millis;

/// The `format` of the `inputs` row: the rows were parsed before they
/// reached the warehouse, by whatever loaded the table.
pub const FORMAT: &str = "warehouse-table";

/// The smallest bucket width, ms (`SeriesBuilder::new` widens narrower
/// ones to one ms per slot of the 60 a bucket has).
const MIN_BUCKET_MS: i64 = 60;

/// Which column of the table holds what. `None`: the table has no such
/// column (the request time, the user agent and the rest are optional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub time: String,
    pub client: String,
    pub status: String,
    pub request_time: Option<String>,
    pub user_agent: Option<String>,
    pub remote_user: Option<String>,
    pub upstream: Option<String>,
    /// The upstream statuses and times (seconds) of the attempts, as
    /// nginx logs `$upstream_status` and `$upstream_response_time`: a list
    /// beside the address list, read item by item with it.
    pub upstream_status: Option<String>,
    pub upstream_time: Option<String>,
    /// The line number of the row in its log file, for the evidence lines
    /// (`first_bad_line`); the input is the table.
    pub line: Option<String>,
    /// The request line (`GET /a/b?x=1 HTTP/1.1`, nginx `$request`): the
    /// path of each request, for the bad-path summaries and the path
    /// traffic (`heavy`, `totals`, `path_cells`).
    pub request: Option<String>,
    /// How the proxy says each request ended, as its log writes it
    /// (HAProxy's termination state, Envoy's response flags; which one
    /// is [`SqlRequest::termination_format`]): the termination causes of
    /// each upstream's failed requests (`dimension_causes`).
    pub termination: Option<String>,
}

impl Default for Mapped {
    /// The names the loader in docs/sql.md writes.
    fn default() -> Self {
        Mapped {
            time: "time".into(),
            client: "client".into(),
            status: "status".into(),
            request_time: Some("request_time".into()),
            user_agent: Some("user_agent".into()),
            remote_user: None,
            upstream: None,
            upstream_status: None,
            upstream_time: None,
            line: None,
            request: None,
            termination: None,
        }
    }
}

/// What the time column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeColumn {
    /// A timestamp type (an instant: `TIMESTAMP`, `DateTime64`,
    /// `TIMESTAMP WITH TIME ZONE`).
    Timestamp,
    /// Milliseconds since the Unix epoch.
    EpochMs,
    /// Seconds since the Unix epoch (a fraction allowed).
    EpochS,
}

/// Whether the time column is when the request arrived or when its line
/// was written (nginx's `$time_local`: at completion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeIs {
    Arrival,
    Completion,
}

/// The unit of the request-time column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationUnit {
    /// nginx `$request_time`: seconds with a fraction.
    Seconds,
    Millis,
    /// Apache `%D`.
    Micros,
}

impl DurationUnit {
    /// Microseconds in one unit.
    pub fn micros(self) -> i64 {
        match self {
            DurationUnit::Seconds => 1_000_000,
            DurationUnit::Millis => 1_000,
            DurationUnit::Micros => 1,
        }
    }
}

/// What the termination column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminationFormat {
    /// HAProxy's termination state (`SC--`, `sH`), read by its first two
    /// characters, with the upstream's server `<NOSRV>` for "no server".
    HaProxy,
    /// Envoy's `%RESPONSE_FLAGS%` (`UF,URX`, `-`).
    Envoy,
}

/// Everything `postmortem sql` is asked.
#[derive(Clone, Debug)]
pub struct SqlRequest {
    pub dialect: Dialect,
    /// The table, dotted parts quoted one by one (`db.schema.table`).
    pub table: String,
    pub columns: Mapped,
    pub time_column: TimeColumn,
    pub time_is: TimeIs,
    pub request_time_unit: DurationUnit,
    /// `--since`/`--until`, epoch ms, both ends included (as ingest).
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// `--window`: the partials of `postmortem impact` for this window.
    pub window: Option<(Millis, Millis)>,
    pub bucket_ms: i64,
    /// `--slow`, µs, when given.
    pub slow_us: Option<u64>,
    pub user_key: UserKey,
    pub producer: String,
    /// How `columns.termination` is read (unused without it).
    pub termination_format: TerminationFormat,
}

impl SqlRequest {
    /// The slow threshold requests are classified against.
    fn ingest_slow_us(&self) -> u64 {
        self.slow_us.unwrap_or(MIN_DEFAULT_SLOW_US)
    }

    /// The arrivals kept: `--since`/`--until` narrowed to `--window`.
    fn range(&self) -> (Option<Millis>, Option<Millis>) {
        match self.window {
            None => (self.since, self.until),
            Some((start, end)) => (
                Some(self.since.map_or(start, |s| s.max(start))),
                Some(self.until.map_or(end, |u| u.min(end))),
            ),
        }
    }

    /// With `--window`: where the incident's start row may end, the
    /// rest of each such slot (`detect::recount::start_row_far_edges`),
    /// within `--since`/`--until`: its requests are the `edge_requests`
    /// rows, so the reduce step counts the row to the millisecond.
    fn edge_windows(&self, bucket_ms: i64) -> Vec<(Millis, Millis)> {
        let Some(window) = self.window else {
            return Vec::new();
        };
        crate::detect::recount::start_row_far_edges(window, bucket_ms)
            .into_iter()
            .map(|(from, to)| {
                (
                    self.since.map_or(from, |s| s.max(from)),
                    self.until.map_or(to, |u| u.min(to)),
                )
            })
            .filter(|(from, to)| from <= to)
            .collect()
    }

    fn quoted_table(&self) -> String {
        self.table
            .split('.')
            .map(|part| self.dialect.identifier(part).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Refuses what would make a wrong or unsafe query, naming the flag.
    fn check(&self) -> Result<()> {
        let usage = |text: String| Err(Error::Usage(text));
        for part in self.table.split('.') {
            if let Err(why) = self.dialect.identifier(part) {
                return usage(format!(
                    "--table '{}': {why}: name the table with letters, digits and '_' (dots separate database, schema and table)",
                    self.table
                ));
            }
        }
        let c = &self.columns;
        let named = [
            ("--time-column", Some(&c.time)),
            ("--client-column", Some(&c.client)),
            ("--status-column", Some(&c.status)),
            ("--request-time-column", c.request_time.as_ref()),
            ("--user-agent-column", c.user_agent.as_ref()),
            ("--remote-user-column", c.remote_user.as_ref()),
            ("--upstream-column", c.upstream.as_ref()),
            ("--upstream-status-column", c.upstream_status.as_ref()),
            ("--upstream-time-column", c.upstream_time.as_ref()),
            ("--line-column", c.line.as_ref()),
            ("--request-column", c.request.as_ref()),
            ("--termination-column", c.termination.as_ref()),
        ];
        for (flag, name) in named {
            if let Some(name) = name
                && let Err(why) = self.dialect.identifier(name)
            {
                return usage(format!(
                    "{flag} '{name}': {why}: give the column's name as the table spells it"
                ));
            }
        }
        if self.user_key == UserKey::RemoteUser && c.remote_user.is_none() {
            return usage(
                "--users remote-user needs the column of the authenticated user: add --remote-user-column NAME (or use --users ip or ip-ua)".into(),
            );
        }
        if c.upstream.is_none() && (c.upstream_status.is_some() || c.upstream_time.is_some()) {
            return usage(
                "--upstream-status-column and --upstream-time-column describe the attempts of --upstream-column: add --upstream-column NAME".into(),
            );
        }
        if c.upstream.is_none() && c.termination.is_some() {
            return usage(
                "--termination-column says how the requests to an upstream ended: add --upstream-column NAME (the causes are counted per upstream)".into(),
            );
        }
        if let (Some(since), Some(until)) = self.range()
            && since > until
            && self
                .edge_windows(self.bucket_ms.max(MIN_BUCKET_MS))
                .is_empty()
        {
            return usage(format!(
                "the range {since}..{until} (epoch ms, from --since/--until/--window) is empty: the start is after the end"
            ));
        }
        crate::partials::check_producer(&self.producer)
    }

    /// How the user id is computed: the binary's rule where the ids are
    /// the binary's, else the engine's hash named, so partials whose ids
    /// differ never merge (docs/sql.md, "User ids").
    fn user_hash(&self) -> String {
        if self.user_key == UserKey::Ip && self.dialect.same_ids_as_binary_for_ip() {
            return crate::partials::USER_HASH.to_string();
        }
        format!(
            "{}: h(client); ip-ua: h(client || ' ' || user_agent), or h(client) without one; remote-user: h('remote-user:' || remote_user), or h(client) where it is '-'",
            self.dialect.hash_name()
        )
    }

    /// The settings line: the metadata keys of docs/partials.md, as
    /// `postmortem partial --format jsonl` writes them.
    fn settings_line(&self, bucket_ms: i64) -> String {
        let window = match self.window {
            Some((start, end)) => format!("{start}..{end}"),
            None => "none".into(),
        };
        let pairs: [(&str, String); 13] = [
            ("schema", crate::partials::SCHEMA.into()),
            ("bucket_ms", bucket_ms.to_string()),
            ("ingest_slow_us", self.ingest_slow_us().to_string()),
            (
                "slow",
                if self.slow_us.is_some() {
                    "given"
                } else {
                    "default"
                }
                .into(),
            ),
            ("users", self.user_key.name().into()),
            ("user_hash", self.user_hash()),
            ("hll", crate::partials::hll_setting()),
            // No events come from an access-log table: no pattern sorted any.
            ("alert_patterns", "[]".into()),
            ("window", window),
            ("producer", self.producer.clone()),
            ("table", "settings".into()),
            // The table holds instants; the report's --tz sets the zone.
            ("access_offset", String::new()),
            ("version", env!("CARGO_PKG_VERSION").into()),
        ];
        let mut object = serde_json::Map::new();
        object.insert("table".into(), "settings".into());
        for (key, value) in pairs {
            object.insert(format!("postmortem.{key}"), value.into());
        }
        serde_json::Value::Object(object).to_string()
    }
}

/// The query for `request`, or the usage error naming the flag to fix.
pub fn query(request: &SqlRequest) -> Result<String> {
    request.check()?;
    let bucket_ms = request.bucket_ms.max(MIN_BUCKET_MS);
    let note = format!(
        "rows of the {} table {} read by `postmortem sql` (parsed before loading: lines are rows)",
        request.dialect.name(),
        request.table
    );
    Ok(builder::Builder::new(request, bucket_ms).query(&request.settings_line(bucket_ms), &note))
}
