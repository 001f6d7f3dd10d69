//! Tests of the generated SQL text, dialect by dialect: quoting, the bin
//! expression and its arithmetic, the column mapping, the settings line.
//! Running the queries in engines is `.ci/sql_check.py` (DuckDB, chDB).

use super::*;
use crate::series::latency::latency_bin;

fn request(dialect: Dialect) -> SqlRequest {
    SqlRequest {
        dialect,
        table: "logs.access".into(),
        columns: Mapped::default(),
        time_column: TimeColumn::Timestamp,
        time_is: TimeIs::Completion,
        request_time_unit: DurationUnit::Seconds,
        since: None,
        until: None,
        window: None,
        bucket_ms: 60_000,
        slow_us: None,
        user_key: UserKey::IpUserAgent,
        producer: dialect.name().into(),
        termination_format: TerminationFormat::HaProxy,
    }
}

fn text(request: &SqlRequest) -> String {
    match query(request) {
        Ok(text) => text,
        Err(error) => panic!("{:?}: {error}", request.dialect),
    }
}

/// The settings line of a query, parsed back from its string literal.
fn settings(dialect: Dialect, query: &str) -> serde_json::Value {
    let start = query.find("'{\"postmortem.").map(|at| at + 1);
    let end = start.and_then(|s| query[s..].find("}'").map(|at| s + at + 1));
    let (Some(start), Some(end)) = (start, end) else {
        panic!("no settings line in {query}");
    };
    let literal = &query[start..end];
    let json = match dialect {
        Dialect::DuckDb | Dialect::Trino => literal.replace("''", "'"),
        _ => literal.replace("\\'", "'").replace("\\\\", "\\"),
    };
    match serde_json::from_str(&json) {
        Ok(value) => value,
        Err(error) => panic!(
            "{}: the settings line is not JSON ({error}): {json}",
            dialect.name()
        ),
    }
}

#[test]
fn identifiers_are_quoted_per_dialect() {
    let cases = [
        (
            "clickhouse",
            Dialect::ClickHouse,
            "FROM \"logs\".\"access\"",
            "toString(\"client\")",
        ),
        (
            "bigquery",
            Dialect::BigQuery,
            "FROM `logs`.`access`",
            "CAST(`client` AS STRING)",
        ),
        (
            "spark",
            Dialect::Spark,
            "FROM `logs`.`access`",
            "CAST(`client` AS STRING)",
        ),
        (
            "duckdb",
            Dialect::DuckDb,
            "FROM \"logs\".\"access\"",
            "CAST(\"client\" AS VARCHAR)",
        ),
        (
            "trino",
            Dialect::Trino,
            "FROM \"logs\".\"access\"",
            "CAST(\"client\" AS VARCHAR)",
        ),
    ];
    for (name, dialect, from, client) in cases {
        let sql = text(&request(dialect));
        assert!(sql.contains(from), "{name}: {from} in\n{sql}");
        assert!(sql.contains(client), "{name}: {client}");
    }
}

#[test]
fn names_that_cannot_be_quoted_are_refused_with_the_flag() {
    let cases = [
        (
            "a double quote in a DuckDB table",
            Dialect::DuckDb,
            "ac\"cess",
            "",
            "--table",
        ),
        (
            "a backtick in a Spark table",
            Dialect::Spark,
            "ac`cess",
            "",
            "--table",
        ),
        (
            "a backslash in a ClickHouse table",
            Dialect::ClickHouse,
            "a\\b",
            "",
            "--table",
        ),
        (
            "an empty part",
            Dialect::Trino,
            "logs..access",
            "",
            "--table",
        ),
        (
            "a quote in a BigQuery column",
            Dialect::BigQuery,
            "access",
            "ti`me",
            "--time-column",
        ),
        (
            "a newline in a DuckDB column",
            Dialect::DuckDb,
            "access",
            "ti\nme",
            "--time-column",
        ),
    ];
    for (name, dialect, table, time_column, flag) in cases {
        let mut r = request(dialect);
        r.table = table.into();
        if !time_column.is_empty() {
            r.columns.time = time_column.into();
        }
        match query(&r) {
            Err(Error::Usage(message)) => assert!(message.starts_with(flag), "{name}: {message}"),
            other => panic!("{name}: expected a usage error naming {flag}, got {other:?}"),
        }
    }
}

#[test]
fn values_are_string_literals_escaped_per_dialect() {
    // A table named with a quote is a valid identifier (quoted) and is
    // written into the `inputs` row as a string literal.
    let cases = [
        ("duckdb doubles the quote", Dialect::DuckDb, "o''brien"),
        ("trino doubles the quote", Dialect::Trino, "o''brien"),
        ("clickhouse escapes it", Dialect::ClickHouse, "o\\'brien"),
        ("spark escapes it", Dialect::Spark, "o\\'brien"),
        ("bigquery escapes it", Dialect::BigQuery, "o\\'brien"),
    ];
    for (name, dialect, literal) in cases {
        let mut r = request(dialect);
        r.table = "o'brien".into();
        let sql = text(&r);
        assert!(sql.contains(&format!("\"path\":\"{literal}\"")), "{name}");
        assert!(
            !sql.contains("\"path\":\"o'brien\""),
            "{name}: spliced unquoted"
        );
    }
}

#[test]
fn the_bin_expression_is_the_log_linear_bin() {
    let cases = [
        (
            "duckdb",
            Dialect::DuckDb,
            "CASE WHEN dur_us < 64 THEN dur_us ELSE (lat_e - 5) * 64 + (dur_us >> (greatest(lat_e - 6, 0))) - 64 END",
        ),
        (
            "clickhouse",
            Dialect::ClickHouse,
            "CASE WHEN dur_us < 64 THEN dur_us ELSE (lat_e - 5) * 64 + bitShiftRight(dur_us, greatest(lat_e - 6, 0)) - 64 END",
        ),
        (
            "spark",
            Dialect::Spark,
            "CASE WHEN dur_us < 64 THEN dur_us ELSE (lat_e - 5) * 64 + shiftright(dur_us, greatest(lat_e - 6, 0)) - 64 END",
        ),
        (
            "trino",
            Dialect::Trino,
            "CASE WHEN dur_us < 64 THEN dur_us ELSE (lat_e - 5) * 64 + bitwise_right_shift(dur_us, greatest(lat_e - 6, 0)) - 64 END",
        ),
        (
            "bigquery",
            Dialect::BigQuery,
            "CASE WHEN dur_us < 64 THEN dur_us ELSE (lat_e - 5) * 64 + (dur_us >> (greatest(lat_e - 6, 0))) - 64 END",
        ),
    ];
    for (name, dialect, bin) in cases {
        let sql = text(&request(dialect));
        assert!(sql.contains(bin), "{name}: {bin} in\n{sql}");
    }
    assert!(text(&request(Dialect::BigQuery)).contains("LOG(greatest(coalesce(dur_us, 1), 1), 2)"));
}

/// The arithmetic the SQL writes, step by step: a float log2, its floor
/// corrected by one shift each way, then the bin.
fn sql_bin(v: u64, log2_error: i64) -> u64 {
    if v < 64 {
        return v;
    }
    let e0 = ((v as f64).log2().floor() as i64 + log2_error).max(0);
    let e = e0
        + if (v >> (e0 + 1)) > 0 {
            1
        } else if (v >> e0) == 0 {
            -1
        } else {
            0
        };
    ((e - 5) * 64 + (v >> (e - 6).max(0)) as i64 - 64) as u64
}

#[test]
fn the_sql_bin_arithmetic_equals_latency_bin() {
    let cases: [(&str, u64); 10] = [
        ("0 µs", 0),
        ("63 µs, the last one-µs bin", 63),
        ("64 µs, the first log bin", 64),
        ("127 µs", 127),
        ("128 µs", 128),
        ("1 ms", 1_000),
        ("1 s, the default slow threshold", 1_000_000),
        ("2^32 - 1 µs", u64::from(u32::MAX)),
        ("2^40 µs", 1 << 40),
        ("2^40 - 1 µs", (1 << 40) - 1),
    ];
    for (name, v) in cases {
        for error in [-1, 0, 1] {
            assert_eq!(
                sql_bin(v, error),
                u64::from(latency_bin(v)),
                "{name}, log2 off by {error}"
            );
        }
    }
    for v in (0..200_000u64).chain((1..40).flat_map(|p| [(1u64 << p) - 1, 1 << p, (1 << p) + 1])) {
        assert_eq!(sql_bin(v, 0), u64::from(latency_bin(v)), "{v} µs");
    }
}

#[test]
fn mapping_flags_name_the_columns_read() {
    let mut r = request(Dialect::DuckDb);
    r.columns = Mapped {
        time: "ts".into(),
        client: "remote_addr".into(),
        status: "code".into(),
        request_time: Some("rt_ms".into()),
        user_agent: None,
        remote_user: None,
        upstream: Some("upstream_addr".into()),
        upstream_status: None,
        upstream_time: None,
        line: Some("line_no".into()),
        request: None,
        termination: None,
    };
    r.request_time_unit = DurationUnit::Millis;
    r.time_column = TimeColumn::EpochMs;
    r.time_is = TimeIs::Arrival;
    let sql = text(&r);
    let cases = [
        ("time as epoch ms", "CAST(\"ts\" AS BIGINT) AS logged_ms"),
        ("client", "CAST(\"remote_addr\" AS VARCHAR) AS client"),
        ("status", "CAST(\"code\" AS BIGINT) AS status"),
        (
            "request time in ms",
            "CAST(round(\"rt_ms\" * 1000) AS BIGINT) AS dur_raw",
        ),
        ("upstream", "CAST(\"upstream_addr\" AS VARCHAR) AS upstream"),
        ("line", "CAST(\"line_no\" AS BIGINT) AS line"),
        (
            "arrival time: nothing subtracted",
            "logged_ms - 0 AS arrival",
        ),
        (
            "no user agent: the client alone",
            "CAST(hash(client) >> 1 AS BIGINT) AS user_id",
        ),
        (
            "evidence lines ranked",
            "ROW_NUMBER() OVER (PARTITION BY bucket, bad ORDER BY rel, line)",
        ),
        (
            "upstream tables",
            "'{\"table\":\"dimensions\",\"kind\":\"upstream\"",
        ),
    ];
    for (name, fragment) in cases {
        assert!(sql.contains(fragment), "{name}: {fragment} in\n{sql}");
    }
    assert!(!sql.contains("\"user_agent\""), "no user-agent column read");

    let mut bare = request(Dialect::ClickHouse);
    bare.columns.request_time = None;
    let sql = text(&bare);
    assert!(
        sql.contains("CAST(NULL AS Nullable(Int64)) AS dur_raw"),
        "no request time: NULL"
    );
    assert!(
        !sql.contains("dimensions"),
        "no upstream column, no dimension rows"
    );
    assert!(!sql.contains("AS first_rank"), "no line column, no ranks");

    let mut remote = request(Dialect::Trino);
    remote.user_key = UserKey::RemoteUser;
    match query(&remote) {
        Err(Error::Usage(message)) => {
            assert!(message.contains("--remote-user-column"), "{message}")
        }
        other => panic!("remote-user without its column: {other:?}"),
    }
}

#[test]
fn since_until_and_window_bound_the_arrivals() {
    let mut r = request(Dialect::Spark);
    r.since = Some(1_000);
    r.until = Some(9_000);
    r.window = Some((2_000, 20_000));
    let sql = text(&r);
    assert!(
        sql.contains("CASE WHEN arrival >= 2000 AND arrival <= 9000 THEN 1 ELSE 0 END AS in_range"),
        "{sql}"
    );
    assert_eq!(
        settings(Dialect::Spark, &sql)["postmortem.window"],
        "2000..20000"
    );
    r.window = Some((10_000, 20_000));
    assert!(
        matches!(query(&r), Err(Error::Usage(_))),
        "an empty range is refused"
    );

    // Without --since/--until the impact query also keeps the requests
    // where the start row may end, one by one.
    let mut impact = request(Dialect::DuckDb);
    impact.window = Some((1_700_000_000_500, 1_700_000_400_000));
    let sql = text(&impact);
    let edges =
        crate::detect::recount::start_row_far_edges((1_700_000_000_500, 1_700_000_400_000), 60_000);
    assert!(!edges.is_empty());
    for (from, to) in edges {
        assert!(
            sql.contains(&format!("(arrival >= {from} AND arrival <= {to})")),
            "edge {from}..{to}"
        );
    }
    assert!(
        sql.contains("'{\"table\":\"edge_requests\",\"arrival_ms\":'"),
        "{sql}"
    );
    assert!(
        !text(&request(Dialect::DuckDb)).contains("edge_requests"),
        "no window, no edge rows"
    );
}

#[test]
fn the_settings_line_carries_the_merge_settings() {
    let cases = [
        (
            "clickhouse --users ip: the binary's ids",
            Dialect::ClickHouse,
            UserKey::Ip,
            true,
        ),
        (
            "clickhouse --users ip-ua: no seeded xxh3",
            Dialect::ClickHouse,
            UserKey::IpUserAgent,
            false,
        ),
        (
            "duckdb --users ip: its own hash",
            Dialect::DuckDb,
            UserKey::Ip,
            false,
        ),
        (
            "spark --users ip: xxhash64",
            Dialect::Spark,
            UserKey::Ip,
            false,
        ),
    ];
    for (name, dialect, user_key, binary_ids) in cases {
        let mut r = request(dialect);
        r.user_key = user_key;
        r.bucket_ms = 10;
        r.slow_us = Some(500_000);
        let line = settings(dialect, &text(&r));
        assert_eq!(line["table"], "settings", "{name}");
        assert_eq!(line["postmortem.schema"], crate::partials::SCHEMA, "{name}");
        assert_eq!(
            line["postmortem.bucket_ms"], "60",
            "{name}: widened as ingest widens"
        );
        assert_eq!(line["postmortem.ingest_slow_us"], "500000", "{name}");
        assert_eq!(line["postmortem.slow"], "given", "{name}");
        assert_eq!(line["postmortem.users"], user_key.name(), "{name}");
        assert_eq!(line["postmortem.producer"], dialect.name(), "{name}");
        assert_eq!(
            line["postmortem.user_hash"] == crate::partials::USER_HASH,
            binary_ids,
            "{name}: {}",
            line["postmortem.user_hash"]
        );
    }
}

#[test]
fn only_spark_builds_the_sketch() {
    for dialect in Dialect::ALL {
        let sql = text(&request(dialect));
        let sketch = sql.contains("hll_sketch_agg(user_id, 12)");
        assert_eq!(sketch, dialect == Dialect::Spark, "{}", dialect.name());
        assert_eq!(
            sql.contains("\"users_hll\":null"),
            !sketch,
            "{}",
            dialect.name()
        );
    }
}

#[test]
fn clickhouse_xxh3_is_the_binarys_user_id() {
    // `SELECT xxh3('10.0.0.1')` in chDB 4.4.0 (ClickHouse 26.9) printed
    // 13122814183507453510: the binary's `--users ip` id of that client.
    assert_eq!(
        xxhash_rust::xxh3::xxh3_64(b"10.0.0.1"),
        13_122_814_183_507_453_510
    );
}

#[test]
fn upstream_lists_are_split_into_attempts_per_dialect() {
    let cases = [
        (
            "clickhouse",
            Dialect::ClickHouse,
            "FROM upstream_lists ARRAY JOIN arrayEnumerate(addresses) AS attempt",
            "extractAll(upstream, '[^ ,:][^ ,]*')",
        ),
        (
            "bigquery",
            Dialect::BigQuery,
            "CROSS JOIN UNNEST(GENERATE_ARRAY(1, ARRAY_LENGTH(addresses))) AS attempt",
            "REGEXP_EXTRACT_ALL(upstream, r'[^ ,:][^ ,]*')",
        ),
        (
            "spark",
            Dialect::Spark,
            "LATERAL VIEW explode(sequence(1, size(addresses))) attempt_rows AS attempt",
            "regexp_extract_all(upstream, '([^ ,:][^ ,]*)', 1)",
        ),
        (
            "duckdb",
            Dialect::DuckDb,
            "CROSS JOIN generate_series(1, len(addresses)) AS attempt_rows(attempt)",
            "regexp_extract_all(upstream, '[^ ,:][^ ,]*')",
        ),
        (
            "trino",
            Dialect::Trino,
            "CROSS JOIN UNNEST(sequence(1, cardinality(addresses))) AS attempt_rows(attempt)",
            "regexp_extract_all(upstream, '[^ ,:][^ ,]*')",
        ),
    ];
    for (name, dialect, explode, items) in cases {
        let mut r = request(dialect);
        r.columns.upstream = Some("upstream_addr".into());
        r.columns.upstream_status = Some("upstream_status".into());
        r.columns.upstream_time = Some("upstream_response_time".into());
        let sql = text(&r);
        assert!(sql.contains(explode), "{name}: {explode} in\n{sql}");
        assert!(sql.contains(items), "{name}: {items}");
        assert!(
            sql.contains("AS statuses") && sql.contains("AS times"),
            "{name}: both lists read"
        );
        assert!(sql.contains("'{\"table\":\"dimension_latency\""), "{name}");
    }
    let mut orphan = request(Dialect::DuckDb);
    orphan.columns.upstream_status = Some("upstream_status".into());
    match query(&orphan) {
        Err(Error::Usage(message)) => assert!(message.contains("--upstream-column"), "{message}"),
        other => panic!("statuses without addresses: {other:?}"),
    }
}

#[test]
fn request_paths_are_extracted_per_dialect() {
    let cases = [
        (
            "clickhouse",
            Dialect::ClickHouse,
            "NULLIF(extract(request_line, '^[^ ]+ +([^ ?]+)'), '')",
            "lower(hex(substring(path, 1, 64)))",
        ),
        (
            "bigquery",
            Dialect::BigQuery,
            "NULLIF(REGEXP_EXTRACT(request_line, r'^[^ ]+ +([^ ?]+)'), '')",
            "TO_HEX(SUBSTR(CAST(path AS BYTES), 1, 64))",
        ),
        (
            "spark",
            Dialect::Spark,
            "NULLIF(regexp_extract(request_line, '^[^ ]+ +([^ ?]+)', 1), '')",
            "lower(hex(substring(encode(path, 'UTF-8'), 1, 64)))",
        ),
        (
            "duckdb",
            Dialect::DuckDb,
            "NULLIF(regexp_extract(request_line, '^[^ ]+ +([^ ?]+)', 1), '')",
            "lower(substring(hex(path), 1, 128))",
        ),
        (
            "trino",
            Dialect::Trino,
            "NULLIF(regexp_extract(request_line, '^[^ ]+ +([^ ?]+)', 1), '')",
            "lower(to_hex(substr(to_utf8(path), 1, 64)))",
        ),
    ];
    for (name, dialect, path, key) in cases {
        let mut r = request(dialect);
        r.columns.request = Some("request".into());
        let sql = text(&r);
        assert!(sql.contains(path), "{name}: {path} in\n{sql}");
        assert!(sql.contains(key), "{name}: {key}");
        for table in [
            "heavy\",\"summary\":\"bad_path\"",
            "totals\",\"summary\":\"path\"",
            "path_cells",
        ] {
            assert!(
                sql.contains(&format!("'{{\"table\":\"{table}")),
                "{name}: {table}"
            );
        }
        let bare = text(&request(dialect));
        assert!(
            bare.contains("'{\"table\":\"heavy\",\"summary\":\"client_4xx\""),
            "{name}: clients without a request column"
        );
        assert!(
            !bare.contains("bad_path") && !bare.contains("path_cells"),
            "{name}: no request column, no path rows"
        );
    }
}

/// The regular expression of [`Dialect::request_path`], as a byte
/// matcher: the method (no space, not empty), spaces, then the path up to
/// a space or `?` (not empty).
fn regex_path(line: &str) -> Option<&str> {
    let method_end = line.find(' ').filter(|&at| at > 0)?;
    let rest = line[method_end..].trim_start_matches(' ');
    let end = rest.find([' ', '?']).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[test]
fn the_path_expression_takes_what_the_binary_takes() {
    let lines = [
        "GET /checkout HTTP/1.1",
        "GET /search?q=shoes HTTP/2.0",
        "GET http://example.com/a HTTP/1.1",
        "GET /old",
        "GET  /two-spaces HTTP/1.1",
        "GET",
        "GET ",
        "-",
        " /leading-space HTTP/1.1",
        "GET ?x HTTP/1.1",
        "POST /a%20b/c?d HTTP/1.1",
    ];
    for line in lines {
        assert_eq!(
            regex_path(line).map(str::as_bytes),
            crate::series::paths::request_path(line.as_bytes()),
            "{line:?}"
        );
    }
}

/// FxHash of a key as the path-cell CTEs compute it: the same steps in
/// 128-bit integers, each product folded or masked where the SQL does.
fn staged_fx_cell(key: &[u8]) -> u64 {
    const K: u128 = 0xf135_7aea_2e62_a9c5;
    const MASK: u128 = u64::MAX as u128;
    let word = |at: usize, bytes: usize| -> u128 {
        (0..bytes)
            .map(|i| u128::from(key.get(at + i).copied().unwrap_or(0)) << (8 * i))
            .sum()
    };
    let fold = |full: u128| (full & MASK) ^ (full >> 64);
    let n = key.len();
    let (mut s0, mut s1): (u128, u128) = (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344);
    if n > 16 {
        for round in 0..(n - 1) / 16 {
            let full =
                (s0 ^ word(16 * round, 8)) * (0xa409_3822_299f_31d0 ^ word(16 * round + 8, 8));
            (s0, s1) = (s1, fold(full));
        }
        s0 ^= word(n - 16, 8);
        s1 ^= word(n - 8, 8);
    } else if n >= 8 {
        s0 ^= word(0, 8);
        s1 ^= word(n - 8, 8);
    } else if n >= 4 {
        s0 ^= word(0, 4);
        s1 ^= word(n - 4, 4);
    } else if n > 0 {
        s0 ^= word(0, 1);
        s1 ^= (word(n - 1, 1) << 8) | word(n / 2, 1);
    }
    let bytes_hash = fold(s0 * s1) ^ n as u128;
    let state = (((n as u128 * K) & MASK) + bytes_hash) & MASK;
    let finished = (state * K) & MASK;
    ((finished >> 32) & 63) as u64
}

#[test]
fn the_staged_fxhash_is_the_binarys_path_cell() {
    use crate::series::heavy::hash_bytes;
    use crate::series::paths::TrafficCells;
    let cases = [
        ("empty", String::new()),
        ("1 byte", "/".to_string()),
        ("3 bytes", "/ab".to_string()),
        ("4 bytes", "/abc".to_string()),
        ("7 bytes", "/abcdef".to_string()),
        ("8 bytes", "/abcdefg".to_string()),
        ("16 bytes", "/api/v1/checkout".to_string()),
        ("17 bytes: one round", "/api/v1/checkouts".to_string()),
        ("33 bytes: two rounds", format!("/{}", "a".repeat(32))),
        ("49 bytes: three rounds", format!("/{}", "b".repeat(48))),
        ("64 bytes: the longest key", format!("/{}", "c".repeat(63))),
        ("UTF-8", "/café/ünïcode".to_string()),
    ];
    for (name, key) in &cases {
        assert_eq!(
            staged_fx_cell(key.as_bytes()) as usize,
            TrafficCells::cell(hash_bytes(key.as_bytes())),
            "{name}"
        );
    }
    for i in 0..2_000 {
        let key = format!("/products/item-{i}/{}", "x".repeat(i % 50));
        let key = &key.as_bytes()[..key.len().min(64)];
        assert_eq!(
            staged_fx_cell(key) as usize,
            TrafficCells::cell(hash_bytes(key)),
            "{key:?}"
        );
    }
}

#[test]
fn path_cells_are_hashed_where_the_engine_has_128_bit_integers() {
    let cases = [
        (
            "duckdb",
            Dialect::DuckDb,
            Some("CAST(17380933483125451205 AS UHUGEINT)"),
        ),
        (
            "clickhouse",
            Dialect::ClickHouse,
            Some("toUInt128(17380933483125451205)"),
        ),
        ("bigquery", Dialect::BigQuery, None),
        ("spark", Dialect::Spark, None),
        ("trino", Dialect::Trino, None),
    ];
    for (name, dialect, multiplier) in cases {
        let mut r = request(dialect);
        r.columns.request = Some("request".into());
        let sql = text(&r);
        match multiplier {
            Some(k) => {
                assert!(sql.contains(k), "{name}: FxHash's multiplier {k}");
                assert!(sql.contains("JOIN fx_cells USING (key_hex)"), "{name}");
            }
            None => {
                assert!(!sql.contains("fx_cells"), "{name}: no hash");
                assert!(
                    sql.contains("SELECT bucket, cell, n FROM path_totals CROSS JOIN"),
                    "{name}: every cell at the total"
                );
            }
        }
    }
}

#[test]
fn termination_columns_add_the_causes_per_dialect() {
    let cases = [
        (
            "clickhouse haproxy",
            Dialect::ClickHouse,
            TerminationFormat::HaProxy,
            "address LIKE '%/<NOSRV>'",
        ),
        (
            "duckdb haproxy",
            Dialect::DuckDb,
            TerminationFormat::HaProxy,
            "WHEN substr(termination, 1, 1) = 's' AND substr(termination, 2, 1) = 'Q' THEN 7",
        ),
        (
            "bigquery envoy",
            Dialect::BigQuery,
            TerminationFormat::Envoy,
            "REGEXP_EXTRACT(termination, r'(?:^|,)(UMSDR|RLSE|UAEX|DPE|UPE|URX|DC|",
        ),
        (
            "spark envoy",
            Dialect::Spark,
            TerminationFormat::Envoy,
            "regexp_extract(termination, '(?:^|,)(UMSDR|RLSE|UAEX|",
        ),
        (
            "trino envoy",
            Dialect::Trino,
            TerminationFormat::Envoy,
            " WHEN 'URX' THEN 1 WHEN 'DC' THEN 4",
        ),
    ];
    for (name, dialect, format, fragment) in cases {
        let mut r = request(dialect);
        r.columns.upstream = Some("upstream_addr".into());
        r.columns.termination = Some("termination_state".into());
        r.termination_format = format;
        let sql = text(&r);
        assert!(sql.contains(fragment), "{name}: {fragment} in\n{sql}");
        assert!(
            sql.contains("'{\"table\":\"dimension_causes\",\"kind\":\"upstream\""),
            "{name}"
        );
        assert!(
            sql.contains("CASE WHEN is_last = 1 THEN"),
            "{name}: the last attempt's cause"
        );
        assert!(
            sql.contains("WHERE failed = 1 AND cause IS NOT NULL"),
            "{name}: failed requests only"
        );
    }
    let mut alone = request(Dialect::DuckDb);
    alone.columns.termination = Some("termination_state".into());
    match query(&alone) {
        Err(Error::Usage(message)) => assert!(message.contains("--upstream-column"), "{message}"),
        other => panic!("causes without upstreams: {other:?}"),
    }
    let mut none = request(Dialect::DuckDb);
    none.columns.upstream = Some("upstream_addr".into());
    assert!(
        !text(&none).contains("dimension_causes"),
        "no termination column, no cause rows"
    );
}

/// The Envoy flag the SQL's regular expression picks: the leftmost
/// position where a known flag stands between commas (or the ends).
fn regex_flag(flags: &str) -> Option<&str> {
    let known: Vec<&str> = crate::ingest::access::envoy::RESPONSE_FLAG_CAUSES
        .iter()
        .filter_map(|(flag, _)| std::str::from_utf8(flag).ok())
        .collect();
    flags.split(',').find(|flag| known.contains(flag))
}

#[test]
fn the_envoy_flag_is_the_binarys() {
    let cases = [
        "-", "UF", "UF,URX", "URX,UF", "DI,UT,UF", "LH,UO", "URXX", "XUF", "UR", "RLSE", "DI",
        ",UH", "UH,",
    ];
    for flags in cases {
        let binary = crate::ingest::access::envoy::termination(flags.as_bytes());
        assert_eq!(
            regex_flag(flags).map(str::as_bytes),
            binary.as_ref().map(|t| t.code.bytes()),
            "{flags:?}"
        );
    }
}
