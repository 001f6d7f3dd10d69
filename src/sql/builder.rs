//! The one query builder of `postmortem sql`: from a table of parsed
//! access-log requests, the rows of the partial tables the map step
//! writes (docs/partials.md), each as one JSON line of the reduce step's
//! format (docs/sql.md). Every request is placed as ingest places it
//! (arrival, bucket, slot, latency bin, failed, slow at ingest, user id),
//! then each table is one `GROUP BY` over those rows, and the rows of all
//! tables one `UNION ALL` ordered by table and key. What differs between
//! engines is asked of [`Dialect`]; the SQL written here is what all five
//! share (CTEs, `CASE`, `count`/`sum`/`min`/`max`, `ROW_NUMBER() OVER`,
//! `||`).

mod causes;
mod summaries;

use super::dialect::Dialect;
use super::{SqlRequest, TimeColumn, TimeIs};
use crate::series::slots_per_bucket;

/// Bins 0–63 hold one microsecond each; from 64 µs on, 64 bins per power
/// of two (`series::latency::latency_bin`).
const LINEAR_BINS: i64 = 64;

/// `series::dims`: the coarse latency bins of a dimension start at 2^6 µs
/// and end at 2^31 µs, two per power of two, 52 in all.
const COARSE_FIRST_EXPONENT: i64 = 6;
const COARSE_LAST_EXPONENT: i64 = 31;
const COARSE_LAST_BIN: i64 = (COARSE_LAST_EXPONENT - COARSE_FIRST_EXPONENT + 1) * 2 - 1;

/// The largest successful latency a `users` row keeps, µs (2^32 − 1:
/// `UserSpan::max_ok_latency_us` is 32 bits).
const MAX_OK_LATENCY_US: i64 = u32::MAX as i64;

/// The separator between the client address and the user agent in the
/// hashed user key: an address never holds a space.
const KEY_SEPARATOR: &str = " ";

/// A JSON value of an output row, by how its SQL expression is written.
enum Json<'a> {
    /// An integer expression, `null` when NULL.
    Int(&'a str),
    /// A 0/1 expression as `false`/`true`.
    Bool(&'a str),
    /// A lowercase hex text expression as a JSON string, `null` when NULL.
    Hex(&'a str),
    /// A text expression of letters, digits and `_` (nothing to escape)
    /// as a JSON string, `null` when NULL.
    Name(&'a str),
    /// A JSON text written by the builder (already JSON).
    Literal(String),
}

pub(super) struct Builder<'a> {
    d: Dialect,
    request: &'a SqlRequest,
    bucket_ms: i64,
    slots: i64,
}

impl<'a> Builder<'a> {
    pub(super) fn new(request: &'a SqlRequest, bucket_ms: i64) -> Self {
        Builder {
            d: request.dialect,
            request,
            bucket_ms,
            slots: slots_per_bucket(bucket_ms) as i64,
        }
    }

    /// The whole query: the CTEs, then every table's rows ordered by
    /// `(section, k1, k2, k3)` so the settings line comes first.
    pub(super) fn query(&self, settings_line: &str, inputs_note: &str) -> String {
        let mut sections = vec![format!(
            "SELECT 0 AS section, {z} AS k1, {z} AS k2, {z} AS k3, {} AS line",
            self.d.string(settings_line),
            z = self.zero()
        )];
        sections.push(self.inputs(inputs_note));
        sections.push(self.buckets());
        sections.push(self.latency());
        sections.extend(self.slow_tail());
        sections.push(self.slots_table());
        sections.push(self.users());
        sections.extend(self.heavy_and_totals());
        if self.request.columns.request.is_some() {
            sections.push(self.path_cells());
        }
        if self.request.columns.upstream.is_some() {
            sections.push(self.dimensions());
            sections.push(self.dimension_latency());
            if self.request.columns.termination.is_some() {
                sections.push(self.dimension_causes());
            }
        }
        let edges = self.request.edge_windows(self.bucket_ms);
        if !edges.is_empty() {
            sections.push(self.edge_requests(&edges));
        }
        format!(
            "-- postmortem sql --dialect {dialect}: the partials of docs/partials.md as JSON lines (docs/sql.md)\n\
             WITH\n{ctes}\n\
             SELECT line FROM (\n{union}\n) AS partial_rows\nORDER BY section, k1, k2, k3\n",
            dialect = self.d.name(),
            ctes = self.ctes(),
            union = sections.join("\nUNION ALL\n"),
        )
    }

    fn zero(&self) -> String {
        self.d.to_int("0")
    }

    fn int(&self, expr: &str) -> String {
        self.d.to_int(expr)
    }

    fn div(&self, a: &str, b: &str) -> String {
        self.d.int_div(a, b)
    }

    /// The start of the bucket of epoch-ms expression `at`.
    fn bucket_of(&self, at: &str) -> String {
        format!(
            "({at} - {})",
            self.d.modulo(at, &self.bucket_ms.to_string())
        )
    }

    /// A NULL integer (ClickHouse needs the nullable type named).
    fn null_int(&self) -> String {
        match self.d {
            Dialect::ClickHouse => "CAST(NULL AS Nullable(Int64))".into(),
            _ => format!("CAST(NULL AS {})", self.d.int64()),
        }
    }

    fn column(&self, name: &str) -> String {
        // Validated by `SqlRequest::check` before the builder runs.
        self.d.identifier(name).unwrap_or_default()
    }

    /// The request time in microseconds, before the status-0 rule.
    fn duration_us(&self) -> String {
        let Some(column) = &self.request.columns.request_time else {
            return self.null_int();
        };
        let column = self.column(column);
        let factor = self.request.request_time_unit.micros();
        if factor == 1 {
            self.int(&column)
        } else {
            self.int(&format!("round({column} * {factor})"))
        }
    }

    fn logged_ms(&self) -> String {
        let column = self.column(&self.request.columns.time);
        match self.request.time_column {
            TimeColumn::Timestamp => self.d.epoch_ms(&column),
            TimeColumn::EpochMs => self.int(&column),
            TimeColumn::EpochS => self.int(&format!("round({column} * 1000)")),
        }
    }

    fn optional_text(&self, mapped: &Option<String>, alias: &str) -> Option<String> {
        mapped
            .as_ref()
            .map(|name| format!("{} AS {alias}", self.d.to_text(&self.column(name))))
    }

    /// The user id of a row of `parsed` (docs/sql.md, "User ids").
    fn user_id(&self) -> String {
        let h = |text: &str| self.d.hash64(text);
        let sep = self.d.string(KEY_SEPARATOR);
        match self.request.user_key {
            crate::config::UserKey::Ip => h("client"),
            crate::config::UserKey::IpUserAgent => match &self.request.columns.user_agent {
                None => h("client"),
                Some(_) => format!(
                    "CASE WHEN user_agent IS NULL OR user_agent = '-' THEN {} ELSE {} END",
                    h("client"),
                    h(&format!("client || {sep} || user_agent"))
                ),
            },
            crate::config::UserKey::RemoteUser => format!(
                "CASE WHEN remote_user IS NULL OR remote_user = '-' OR remote_user = '' THEN {} ELSE {} END",
                h("client"),
                h(&format!("{} || remote_user", self.d.string("remote-user:")))
            ),
        }
    }

    /// `floor(log2(v))` for `v >= 1`, exact: the engine's float `log2`
    /// gives `e0`, then one shift each way settles it.
    fn exponent(&self, v: &str, e0: &str) -> String {
        let shr = |n: &str| self.d.shift_right(v, n);
        format!(
            "({e0} + CASE WHEN {} > 0 THEN 1 WHEN {} = 0 THEN -1 ELSE 0 END)",
            shr(&format!("{e0} + 1")),
            shr(e0)
        )
    }

    /// `series::latency::latency_bin(v)` for the exponent `e` of `v`.
    fn latency_bin(&self, v: &str, e: &str) -> String {
        format!(
            "CASE WHEN {v} < {LINEAR_BINS} THEN {v} ELSE ({e} - 5) * {LINEAR_BINS} + {} - {LINEAR_BINS} END",
            self.d.shift_right(v, &format!("greatest({e} - 6, 0)"))
        )
    }

    fn ctes(&self) -> String {
        let d = self.d;
        let c = &self.request.columns;
        let b = self.bucket_ms;
        let mut source = vec![
            format!("{} AS logged_ms", self.logged_ms()),
            format!("{} AS status", self.int(&self.column(&c.status))),
            format!("{} AS dur_raw", self.duration_us()),
            format!("{} AS client", d.to_text(&self.column(&c.client))),
        ];
        source.extend(self.optional_text(&c.user_agent, "user_agent"));
        source.extend(self.optional_text(&c.remote_user, "remote_user"));
        source.extend(self.optional_text(&c.upstream, "upstream"));
        source.extend(self.optional_text(&c.upstream_status, "upstream_status"));
        source.extend(self.optional_text(&c.upstream_time, "upstream_time"));
        source.extend(self.optional_text(&c.request, "request_line"));
        source.extend(self.optional_text(&c.termination, "termination"));
        if let Some(line) = &c.line {
            source.push(format!("{} AS line", self.int(&self.column(line))));
        }
        let carried: Vec<&str> = [
            c.user_agent.as_ref().map(|_| "user_agent"),
            c.remote_user.as_ref().map(|_| "remote_user"),
            c.upstream.as_ref().map(|_| "upstream"),
            c.upstream_status.as_ref().map(|_| "upstream_status"),
            c.upstream_time.as_ref().map(|_| "upstream_time"),
            c.line.as_ref().map(|_| "line"),
            c.request.as_ref().map(|_| "request_line"),
            c.termination.as_ref().map(|_| "termination"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let carry = |extra: &[&str]| {
            carried
                .iter()
                .chain(extra)
                .map(|name| format!(", {name}"))
                .collect::<String>()
        };
        let took_ms = match self.request.time_is {
            // nginx and most proxies write the line when the request is
            // answered: the arrival is the time minus the request time
            // (whole ms, as `AccessRecord::arrival`).
            TimeIs::Completion => format!(
                "CASE WHEN dur_raw IS NULL OR dur_raw < 0 THEN 0 ELSE {} END",
                self.div("dur_raw", "1000")
            ),
            TimeIs::Arrival => "0".into(),
        };
        let (since, until) = self.request.range();
        let in_range = match (since, until) {
            (None, None) => "1".to_string(),
            _ => format!(
                "CASE WHEN {} THEN 1 ELSE 0 END",
                [
                    since.map(|s| format!("arrival >= {s}")),
                    until.map(|u| format!("arrival <= {u}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" AND ")
            ),
        };
        let slow_us = self.request.ingest_slow_us();
        let mut ctes = vec![
            format!(
                "source AS (\n  SELECT {}\n  FROM {}\n)",
                source.join(",\n    "),
                self.request.quoted_table(),
            ),
            // Every row, valid or not, so `inputs` counts lines as rows.
            format!(
                "parsed AS (\n  SELECT logged_ms, status, dur_raw, client{carry},\n    \
                 CASE WHEN logged_ms IS NULL OR status IS NULL OR client IS NULL THEN 0 ELSE 1 END AS valid,\n    \
                 CASE WHEN status = 0 OR dur_raw < 0 THEN {null} ELSE dur_raw END AS dur_us,\n    \
                 logged_ms - {took_ms} AS arrival\n  FROM source\n)",
                carry = carry(&[]),
                null = self.null_int(),
            ),
            format!(
                "ranged AS (\n  SELECT valid, arrival, status, dur_us, client{carry},\n    {in_range} AS in_range\n  FROM parsed\n)",
                carry = carry(&[]),
            ),
            format!(
                "requests AS (\n  SELECT arrival, status, dur_us, client{carry},\n    \
                 {bucket} AS bucket,\n    {rel} AS rel,\n    \
                 CASE WHEN status >= 500 OR status = 499 THEN 1 ELSE 0 END AS failed,\n    \
                 CASE WHEN NOT (status >= 500 OR status = 499) AND dur_us > {slow_us} THEN 1 ELSE 0 END AS slow,\n    \
                 CASE WHEN status >= 100 AND status < 600 THEN {class} ELSE 0 END AS status_class,\n    \
                 {user} AS user_id,\n    \
                 {e0} AS lat_e0,\n    {t0} AS tail_e0\n  \
                 FROM ranged\n  WHERE valid = 1 AND in_range = 1\n)",
                carry = carry(&[]),
                bucket = self.bucket_of("arrival"),
                rel = d.modulo("arrival", &b.to_string()),
                class = self.div("status", "100"),
                user = self.user_id(),
                e0 = self.int(&format!(
                    "floor({})",
                    d.log2("greatest(coalesce(dur_us, 1), 1)")
                )),
                t0 = self.int(&format!(
                    "floor({})",
                    d.log2("greatest(coalesce(dur_us, 1) - 1, 1)")
                )),
            ),
            format!(
                "placed AS (\n  SELECT bucket, rel, arrival, status, client, status_class, failed, slow, user_id, dur_us{carry},\n    \
                 CASE WHEN failed = 1 OR slow = 1 THEN 1 ELSE 0 END AS bad,\n    \
                 least({slot}, {last_slot}) AS slot,\n    \
                 {completed} AS completed,\n    \
                 {lat_e} AS lat_e,\n    {tail_e} AS tail_e\n  FROM requests\n)",
                carry = carry(&[]),
                slot = self.div(&format!("rel * {}", self.slots), &b.to_string()),
                last_slot = self.slots - 1,
                completed = self.bucket_of(&format!(
                    "(arrival + {})",
                    self.div("coalesce(dur_us, 0)", "1000")
                )),
                lat_e = self.exponent("dur_us", "lat_e0"),
                tail_e = self.exponent("(dur_us - 1)", "tail_e0"),
            ),
        ];
        let ranks = if c.line.is_some() {
            ",\n    ROW_NUMBER() OVER (PARTITION BY bucket, bad ORDER BY rel, line) AS first_rank,\n    \
             ROW_NUMBER() OVER (PARTITION BY bucket, bad ORDER BY rel DESC, line) AS last_rank"
        } else {
            ""
        };
        ctes.push(format!(
            "binned AS (\n  SELECT bucket, rel, arrival, status, client, status_class, failed, slow, bad, slot, completed, user_id, dur_us, lat_e{carry},\n    \
             CASE WHEN dur_us IS NULL THEN {null} ELSE {lat} END AS lat_bin,\n    \
             CASE WHEN slow = 1 THEN {tail} ELSE {null} END AS tail_bin{ranks}\n  FROM placed\n)",
            carry = carry(&[]),
            null = self.null_int(),
            lat = self.latency_bin("dur_us", "lat_e"),
            tail = self.latency_bin("(dur_us - 1)", "tail_e"),
        ));
        if c.upstream.is_some() {
            ctes.extend(self.attempt_ctes());
        }
        ctes.extend(self.heavy_ctes());
        ctes.join(",\n")
    }

    /// One output row's JSON: `{"table":NAME,` then each column.
    fn json(&self, table: &str, fields: &[(&str, Json<'_>)]) -> String {
        let d = self.d;
        let mut parts = Vec::new();
        let mut pending = format!("{{\"table\":\"{table}\"");
        for (name, value) in fields {
            pending.push_str(&format!(",\"{name}\":"));
            match value {
                Json::Literal(json) => pending.push_str(json),
                Json::Int(expr) => {
                    parts.push(d.string(&std::mem::take(&mut pending)));
                    parts.push(format!("coalesce({}, 'null')", d.to_text(expr)));
                }
                Json::Bool(expr) => {
                    parts.push(d.string(&std::mem::take(&mut pending)));
                    parts.push(format!("CASE WHEN {expr} = 1 THEN 'true' ELSE 'false' END"));
                }
                Json::Hex(expr) | Json::Name(expr) => {
                    parts.push(d.string(&std::mem::take(&mut pending)));
                    parts.push(format!("coalesce('\"' || {expr} || '\"', 'null')"));
                }
            }
        }
        pending.push('}');
        parts.push(d.string(&pending));
        parts.join(" || ")
    }

    fn keys(&self, section: u8, keys: [&str; 3]) -> String {
        let [k1, k2, k3] = keys.map(|k| self.int(k));
        format!("SELECT {section} AS section, {k1} AS k1, {k2} AS k2, {k3} AS k3")
    }

    fn inputs(&self, note: &str) -> String {
        let c = &self.request.columns;
        let any = |cond: &str| format!("max(CASE WHEN valid = 1 AND {cond} THEN 1 ELSE 0 END)");
        let has_request_time = any("dur_us IS NOT NULL");
        let has_agent = match c.user_agent {
            Some(_) => any("user_agent IS NOT NULL AND user_agent <> '-'"),
            None => "0".into(),
        };
        let has_upstream = match c.upstream {
            Some(_) => any("upstream IS NOT NULL AND upstream <> '-'"),
            None => "0".into(),
        };
        let has_remote_user = match c.remote_user {
            Some(_) => any("remote_user IS NOT NULL AND remote_user <> '-'"),
            None => "0".into(),
        };
        let json = |s: &str| serde_json::Value::from(s).to_string();
        let row = self.json(
            "inputs",
            &[
                ("path", Json::Literal(json(&self.request.table))),
                ("kind", Json::Literal(json("access"))),
                ("format", Json::Literal(json(super::FORMAT))),
                ("envelope", Json::Literal("null".into())),
                ("compressed", Json::Literal("false".into())),
                ("lines", Json::Int("lines")),
                ("parsed", Json::Int("parsed")),
                ("skipped", Json::Int("lines - parsed")),
                ("messages", Json::Int("0")),
                ("skipped_examples", Json::Literal(json("[]"))),
                ("out_of_range", Json::Int("out_of_range")),
                ("no_response", Json::Int("no_response")),
                ("first", Json::Int("first_arrival")),
                ("last", Json::Int("last_arrival")),
                ("error", Json::Literal("null".into())),
                ("note", Json::Literal(json(note))),
                ("has_request_time", Json::Bool("has_request_time")),
                ("has_user_agent", Json::Bool("has_user_agent")),
                ("field_request_time", Json::Bool("has_request_time")),
                ("field_upstream", Json::Bool("has_upstream")),
                ("field_user_agent", Json::Bool("has_user_agent")),
                ("field_remote_user", Json::Bool("has_remote_user")),
                ("field_host", Json::Literal("false".into())),
                ("other_formats", Json::Literal(json("[]"))),
                ("duplicate_of", Json::Literal("null".into())),
                ("overlap_lines", Json::Int("0")),
                ("overlap_with", Json::Literal("null".into())),
                ("size_on_disk", Json::Literal("null".into())),
                ("piece_first_line", Json::Literal("null".into())),
            ],
        );
        let taken = "valid = 1 AND in_range = 1";
        format!(
            "{keys}, {row} AS line FROM (\n  SELECT count(*) AS lines, sum(valid) AS parsed,\n    \
             sum(CASE WHEN valid = 1 AND in_range = 0 THEN 1 ELSE 0 END) AS out_of_range,\n    \
             sum(CASE WHEN {taken} AND status = 0 THEN 1 ELSE 0 END) AS no_response,\n    \
             min(CASE WHEN {taken} THEN arrival END) AS first_arrival,\n    \
             max(CASE WHEN {taken} THEN arrival END) AS last_arrival,\n    \
             {has_request_time} AS has_request_time, {has_agent} AS has_user_agent,\n    \
             {has_upstream} AS has_upstream, {has_remote_user} AS has_remote_user\n  FROM ranged\n) AS input_counts",
            keys = self.keys(1, ["0", "0", "0"]),
        )
    }

    fn buckets(&self) -> String {
        let lines = self.request.columns.line.is_some();
        let hll = self.d.hll_hex("user_id");
        // `(arrival expression, completion expression, alias)`: a failed
        // request is also counted in the bucket its line was written in
        // (`failed_completed`), which may have no arrival, so each bucket
        // is the arrivals' row and the completions' row merged by the
        // table's own rules (sum, min, max). Integers are cast alike on
        // both sides (ClickHouse makes a Variant of UInt64 and Int64).
        let null = self.null_int();
        let zero = self.zero();
        let mut columns: Vec<(String, String, String)> = vec![
            ("bucket".into(), "completed".into(), "at_bucket".into()),
            ("count(*)".into(), zero.clone(), "n_requests".into()),
            ("sum(failed)".into(), zero.clone(), "n_failed".into()),
            ("sum(slow)".into(), zero.clone(), "n_slow".into()),
            (zero.clone(), "count(*)".into(), "n_completed".into()),
        ];
        for class in 0..6 {
            columns.push((
                format!("sum(CASE WHEN status_class = {class} THEN 1 ELSE 0 END)"),
                zero.clone(),
                format!("status_{class}"),
            ));
        }
        for (aggregate, who, alias) in [
            ("min", "bad", "fb_ms"),
            ("max", "bad", "lb_ms"),
            ("min", "failed", "ff_ms"),
            ("max", "failed", "lf_ms"),
        ] {
            columns.push((
                format!("{aggregate}(CASE WHEN {who} = 1 THEN rel END)"),
                null.clone(),
                alias.into(),
            ));
        }
        if lines {
            for (rank, alias) in [("first_rank", "fb_line"), ("last_rank", "lb_line")] {
                columns.push((
                    format!("min(CASE WHEN bad = 1 AND {rank} = 1 THEN line END)"),
                    null.clone(),
                    alias.into(),
                ));
            }
        }
        columns.push((
            "count(DISTINCT user_id)".into(),
            zero.clone(),
            "n_users".into(),
        ));
        let mut arrival_columns: Vec<String> = columns
            .iter()
            .map(|(arrival, _, alias)| format!("{} AS {alias}", self.int(arrival)))
            .collect();
        let mut completion_columns: Vec<String> = columns
            .iter()
            .map(|(_, completion, alias)| format!("{} AS {alias}", self.int(completion)))
            .collect();
        if let Some(hll) = &hll {
            arrival_columns.push(format!("{hll} AS hll"));
            completion_columns.push(format!("CAST(NULL AS {}) AS hll", self.d.text()));
        }
        let line_input = |line: &'static str| {
            if lines {
                format!("CASE WHEN min({line}) IS NULL THEN {null} ELSE 0 END")
            } else {
                null.clone()
            }
        };
        let line_number = |line: &'static str| {
            if lines {
                format!("min({line})")
            } else {
                null.clone()
            }
        };
        let (fbi, fbl, lbi, lbl) = (
            line_input("fb_line"),
            line_number("fb_line"),
            line_input("lb_line"),
            line_number("lb_line"),
        );
        let users_hll = if hll.is_some() {
            "max(hll)".to_string()
        } else {
            "NULL".into()
        };
        let row = self.json(
            "buckets",
            &[
                ("bucket", Json::Int("at_bucket")),
                ("requests", Json::Int("sum(n_requests)")),
                ("failed", Json::Int("sum(n_failed)")),
                ("slow_at_ingest", Json::Int("sum(n_slow)")),
                ("failed_completed", Json::Int("sum(n_completed)")),
                ("status_other", Json::Int("sum(status_0)")),
                ("status_1xx", Json::Int("sum(status_1)")),
                ("status_2xx", Json::Int("sum(status_2)")),
                ("status_3xx", Json::Int("sum(status_3)")),
                ("status_4xx", Json::Int("sum(status_4)")),
                ("status_5xx", Json::Int("sum(status_5)")),
                ("first_bad_ms", Json::Int("min(fb_ms)")),
                ("last_bad_ms", Json::Int("max(lb_ms)")),
                ("first_failed_ms", Json::Int("min(ff_ms)")),
                ("last_failed_ms", Json::Int("max(lf_ms)")),
                ("first_bad_input", Json::Int(&fbi)),
                ("first_bad_line", Json::Int(&fbl)),
                ("last_bad_input", Json::Int(&lbi)),
                ("last_bad_line", Json::Int(&lbl)),
                ("users", Json::Int("sum(n_users)")),
                (
                    "users_hll",
                    if hll.is_some() {
                        Json::Hex(&users_hll)
                    } else {
                        Json::Literal("null".into())
                    },
                ),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM (\n  SELECT {arrivals}\n  FROM binned GROUP BY bucket\n  UNION ALL\n  SELECT {completions}\n  FROM binned WHERE failed = 1 GROUP BY completed\n) AS bucket_rows GROUP BY at_bucket",
            keys = self.keys(2, ["at_bucket", "0", "0"]),
            arrivals = arrival_columns.join(",\n    "),
            completions = completion_columns.join(",\n    "),
        )
    }

    fn latency(&self) -> String {
        let row = self.json(
            "latency",
            &[
                ("bucket", Json::Int("bucket")),
                ("bin", Json::Int("lat_bin")),
                ("count", Json::Int("count(*)")),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM binned WHERE lat_bin IS NOT NULL GROUP BY bucket, lat_bin",
            keys = self.keys(3, ["bucket", "lat_bin", "0"]),
        )
    }

    /// The bucket's slow tail (`slot` null) and each slot's.
    fn slow_tail(&self) -> [String; 2] {
        let row = |slot: &str| {
            self.json(
                "slow_tail",
                &[
                    ("bucket", Json::Int("bucket")),
                    ("slot", Json::Int(slot)),
                    ("bin", Json::Int("tail_bin")),
                    ("count", Json::Int("count(*)")),
                    ("first_ms", Json::Int("min(rel)")),
                    ("last_ms", Json::Int("max(rel)")),
                ],
            )
        };
        let null = self.null_int();
        [
            format!(
                "{keys}, {row} AS line FROM binned WHERE slow = 1 GROUP BY bucket, tail_bin",
                keys = self.keys(4, ["bucket", "-1", "tail_bin"]),
                row = row(&null),
            ),
            format!(
                "{keys}, {row} AS line FROM binned WHERE slow = 1 GROUP BY bucket, slot, tail_bin",
                keys = self.keys(4, ["bucket", "slot", "tail_bin"]),
                row = row("slot"),
            ),
        ]
    }

    fn slots_table(&self) -> String {
        let row = self.json(
            "slots",
            &[
                ("bucket", Json::Int("bucket")),
                ("slot", Json::Int("slot")),
                ("requests", Json::Int("count(*)")),
                ("failed", Json::Int("sum(failed)")),
                ("bad", Json::Int("sum(bad)")),
                (
                    "first_failed_ms",
                    Json::Int("min(CASE WHEN failed = 1 THEN rel END)"),
                ),
                (
                    "last_failed_ms",
                    Json::Int("max(CASE WHEN failed = 1 THEN rel END)"),
                ),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM binned GROUP BY bucket, slot",
            keys = self.keys(5, ["bucket", "slot", "0"]),
        )
    }

    fn users(&self) -> String {
        let max_ok = format!(
            "max(CASE WHEN failed = 1 THEN 0 ELSE least(coalesce(dur_us, 0), {MAX_OK_LATENCY_US}) END)"
        );
        let row = self.json(
            "users",
            &[
                ("bucket", Json::Int("bucket")),
                ("user", Json::Int("user_id")),
                ("first_ms", Json::Int("min(rel)")),
                ("last_ms", Json::Int("max(rel)")),
                (
                    "first_bad_ms",
                    Json::Int("min(CASE WHEN bad = 1 THEN rel END)"),
                ),
                (
                    "last_bad_ms",
                    Json::Int("max(CASE WHEN bad = 1 THEN rel END)"),
                ),
                ("max_ok_latency_us", Json::Int(&max_ok)),
                ("had_failed", Json::Bool("max(failed)")),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM binned GROUP BY bucket, user_id",
            keys = self.keys(6, ["bucket", "user_id", "0"]),
        )
    }

    /// The CTEs of the upstream attempts (`--upstream-column`): each
    /// request's address list split into attempts, each with its outcome
    /// as `ingest::worker::upstream_attempts` gives it: the attempt's own
    /// status and time where the lists have them, else the request's for
    /// the last attempt and "failed" for an earlier one (a retry).
    fn attempt_ctes(&self) -> Vec<String> {
        let d = self.d;
        let c = &self.request.columns;
        let items = |column: &str| d.upstream_items(column);
        let mut lists = vec![format!("{} AS addresses", items("upstream"))];
        if c.upstream_status.is_some() {
            lists.push(format!("{} AS statuses", items("upstream_status")));
        }
        if c.upstream_time.is_some() {
            lists.push(format!("{} AS times", items("upstream_time")));
        }
        let null = self.null_int();
        let status = match c.upstream_status {
            Some(_) => d.try_int(&d.element("statuses", "attempt")),
            None => null.clone(),
        };
        let time = match c.upstream_time {
            Some(_) => self.int(&format!(
                "round({} * 1000000)",
                d.try_float(&d.element("times", "attempt"))
            )),
            None => null.clone(),
        };
        let slow_us = self.request.ingest_slow_us();
        // The proxy's account is of how the request ended: the last
        // attempt's (`ingest::worker::upstream_attempts`).
        let (termination, causes, cause_columns) = match self.termination_cause() {
            Some((cause, code)) => (
                ", termination",
                format!(
                    ",\n    CASE WHEN is_last = 1 THEN {cause} END AS cause,\n    CASE WHEN is_last = 1 THEN {code} END AS code"
                ),
                ", cause, code",
            ),
            None => ("", String::new(), ""),
        };
        vec![
            format!(
                "upstream_lists AS (
  SELECT bucket, arrival, failed AS request_failed, dur_us AS request_us{termination}, {}
                   FROM binned WHERE upstream IS NOT NULL AND {} > 0
)",
                lists.join(", "),
                d.array_length(&items("upstream")),
            ),
            format!(
                "attempts AS (
  SELECT bucket, arrival, request_failed, request_us{termination},
                     CASE WHEN attempt = {len} THEN 1 ELSE 0 END AS is_last,
                     {address} AS address,
    {status} AS attempt_status,
    {time} AS attempt_us
                   FROM {from}
)",
                len = d.array_length("addresses"),
                address = d.element("addresses", "attempt"),
                from = d.each_element("upstream_lists", "addresses"),
            ),
            format!(
                "outcomes AS (
  SELECT bucket, arrival, address,
                     CASE WHEN attempt_status IS NOT NULL THEN (CASE WHEN attempt_status >= 500 OR attempt_status = 499 THEN 1 ELSE 0 END)
                       WHEN is_last = 1 THEN request_failed ELSE 1 END AS failed,
                     CASE WHEN attempt_status IS NOT NULL THEN coalesce(attempt_us, CASE WHEN is_last = 1 THEN request_us END)
                       WHEN is_last = 1 THEN coalesce(attempt_us, request_us) ELSE attempt_us END AS dur_us{causes}
                   FROM attempts WHERE address <> '-'
)"
            ),
            format!(
                "upstream_attempts AS (
  SELECT bucket, arrival, address, failed, dur_us{cause_columns},
                     CASE WHEN failed = 0 AND dur_us > {slow_us} THEN 1 ELSE 0 END AS slow,
                     {e0} AS lat_e0
  FROM outcomes
)",
                e0 = self.int(&format!("floor({})", d.log2("greatest(coalesce(dur_us, 1), 1)"))),
            ),
        ]
    }

    fn upstream_key(&self) -> String {
        // Rows of one value sort together: its hash orders them.
        self.d.hash64("address")
    }

    fn dimensions(&self) -> String {
        let hex = self.d.hex_text("address");
        let row = self.json(
            "dimensions",
            &[
                ("kind", Json::Literal("\"upstream\"".into())),
                ("value", Json::Hex(&hex)),
                ("bucket", Json::Int("bucket")),
                ("requests", Json::Int("count(*)")),
                ("failed", Json::Int("sum(failed)")),
                ("slow", Json::Int("sum(slow)")),
                (
                    "first_failed",
                    Json::Int("min(CASE WHEN failed = 1 THEN arrival END)"),
                ),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM upstream_attempts GROUP BY bucket, address",
            keys = self.keys(7, ["bucket", &self.upstream_key(), "0"]),
        )
    }

    fn dimension_latency(&self) -> String {
        let hex = self.d.hex_text("address");
        let coarse = format!(
            "CASE WHEN dur_us < {low} THEN 0 WHEN lat_e > {COARSE_LAST_EXPONENT} THEN {COARSE_LAST_BIN} \
             ELSE (lat_e - {COARSE_FIRST_EXPONENT}) * 2 + {} END",
            self.d
                .modulo(&self.d.shift_right("dur_us", "greatest(lat_e - 1, 0)"), "2"),
            low = 1_i64 << COARSE_FIRST_EXPONENT,
        );
        let row = self.json(
            "dimension_latency",
            &[
                ("kind", Json::Literal("\"upstream\"".into())),
                ("value", Json::Hex(&hex)),
                ("bucket", Json::Int("bucket")),
                ("bin", Json::Int("coarse_bin")),
                ("count", Json::Int("count(*)")),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM (\n  SELECT bucket, address, {coarse} AS coarse_bin\n  \
             FROM (SELECT bucket, address, dur_us, {lat_e} AS lat_e FROM upstream_attempts WHERE dur_us IS NOT NULL) AS timed_attempts\n\
             ) AS upstream_latency GROUP BY bucket, address, coarse_bin",
            keys = self.keys(8, ["bucket", &self.upstream_key(), "coarse_bin"]),
            lat_e = self.exponent("dur_us", "lat_e0"),
        )
    }

    /// The requests of the start row's far edges one by one (impact
    /// partials only), whatever `--window` keeps of the rest.
    fn edge_requests(&self, edges: &[(i64, i64)]) -> String {
        let within = edges
            .iter()
            .map(|(from, to)| format!("(arrival >= {from} AND arrival <= {to})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let row = self.json(
            "edge_requests",
            &[
                ("arrival_ms", Json::Int("arrival")),
                (
                    "failed",
                    Json::Bool("CASE WHEN status >= 500 OR status = 499 THEN 1 ELSE 0 END"),
                ),
                ("duration_us", Json::Int("dur_us")),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM ranged WHERE valid = 1 AND ({within})",
            keys = self.keys(
                9,
                ["arrival", "status", &self.d.to_int("coalesce(dur_us, -1)")]
            ),
        )
    }
}
