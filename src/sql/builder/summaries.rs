//! The heavy-hitter tables of `postmortem sql` (docs/sql.md, "The 4xx
//! clients and the bad paths"): `heavy` and `totals` for the clients of
//! 4xx responses and, with a request-line column, the paths of bad
//! requests, and `path_cells`, the one-row count sketch of every
//! request's path.
//!
//! The binary's Misra–Gries summaries depend on the order requests are
//! met; an engine counts each key exactly instead, then applies the rule
//! the reduce step applies when it merges summaries
//! (`series::heavy::HeavyHitters::merge`): the 8 largest counters kept,
//! the 9th largest subtracted from them, those left with nothing dropped.
//! With at most 8 keys in a bucket that is the binary's summary exactly.
//!
//! A path's traffic cell is the top 6 bits of its FxHash
//! (`series::paths::TrafficCells::cell`), computed here step by step as
//! rustc-hash 2 computes it, where the engine has 128-bit integers
//! (DuckDB, ClickHouse); elsewhere every cell is written at the bucket's
//! path total, an upper bound of any path's requests, which makes the
//! reduce step name no path lead rather than a wrong one.

use super::{Builder, Json};
use crate::series::heavy::KEY_BYTES;
use crate::series::paths::{PATH_COUNTERS, TRAFFIC_CELLS};

/// Counters of a client summary (`series::clients::COUNTERS_PER_BUCKET`,
/// the same as the paths').
const COUNTERS: usize = PATH_COUNTERS;

/// rustc-hash 2.1's constants (`FxHasher`'s multiplier, `hash_bytes`'
/// seeds and its guard against a zero product).
const FX_K: u64 = 0xf135_7aea_2e62_a9c5;
const FX_SEED1: u64 = 0x243f_6a88_85a3_08d3;
const FX_SEED2: u64 = 0x1319_8a2e_0370_7344;
const FX_NO_ZERO_COLLAPSE: u64 = 0xa409_3822_299f_31d0;
/// `FxHasher::finish` rotates left by this many bits.
const FX_ROTATE: u32 = 26;

/// The summaries, by the number the query keys them with.
const SUMMARIES: [(u8, &str); 2] = [(0, "client_4xx"), (1, "bad_path")];

impl Builder<'_> {
    fn has_paths(&self) -> bool {
        self.request.columns.request.is_some()
    }

    /// `hits` (one row per counted item: a 4xx response's client, a bad
    /// request's path), the exact count of each key per bucket, and each
    /// key ranked in its bucket with the 9th largest count beside it.
    pub(super) fn heavy_ctes(&self) -> Vec<String> {
        let d = self.d;
        let key = |text: &str| {
            format!(
                "{} AS key_hex, CASE WHEN {} > {KEY_BYTES} THEN 1 ELSE 0 END AS truncated",
                d.hex_prefix(text, KEY_BYTES),
                d.byte_length(text)
            )
        };
        let mut ctes = Vec::new();
        let mut hits = vec![format!(
            "SELECT 0 AS summary, bucket, arrival, {}\n  FROM binned WHERE status >= 400 AND status < 500 AND status <> 499",
            key("client")
        )];
        if self.has_paths() {
            ctes.push(format!(
                "paths AS (\n  SELECT bucket, arrival, bad, {} AS path\n  FROM binned\n)",
                d.request_path("request_line")
            ));
            hits.push(format!(
                "SELECT 1 AS summary, bucket, arrival, {}\n  FROM paths WHERE bad = 1 AND path IS NOT NULL",
                key("path")
            ));
        }
        ctes.push(format!(
            "hits AS (\n  {}\n)",
            hits.join("\n  UNION ALL\n  ")
        ));
        ctes.push(
            "hit_counts AS (\n  SELECT summary, bucket, key_hex, truncated, count(*) AS n, min(arrival) AS first_at, max(arrival) AS last_at\n  \
             FROM hits GROUP BY summary, bucket, key_hex, truncated\n)"
                .into(),
        );
        ctes.push(
            "hit_ranks AS (\n  SELECT summary, bucket, key_hex, truncated, n, first_at, last_at,\n    \
             ROW_NUMBER() OVER (PARTITION BY summary, bucket ORDER BY n DESC, key_hex, truncated) AS hit_rank\n  FROM hit_counts\n)"
                .into(),
        );
        ctes.push(format!(
            "hit_kept AS (\n  SELECT summary, bucket, key_hex, truncated, n, first_at, last_at, hit_rank,\n    \
             max(CASE WHEN hit_rank = {} THEN n ELSE 0 END) OVER (PARTITION BY summary, bucket) AS excess\n  FROM hit_ranks\n)",
            COUNTERS + 1
        ));
        if self.has_paths() {
            ctes.extend(self.path_cell_ctes());
        }
        ctes
    }

    /// The `heavy` rows of each summary and the `totals` rows: every
    /// bucket with a 4xx response (`client_4xx`), every bucket with a
    /// request with a path (`bad_path`, `path`).
    pub(super) fn heavy_and_totals(&self) -> Vec<String> {
        let summaries = if self.has_paths() {
            &SUMMARIES[..]
        } else {
            &SUMMARIES[..1]
        };
        let mut sections = Vec::new();
        for (id, name) in summaries {
            let row = self.json(
                "heavy",
                &[
                    ("summary", Json::Literal(format!("\"{name}\""))),
                    ("bucket", Json::Int("bucket")),
                    ("key", Json::Hex("key_hex")),
                    ("truncated", Json::Bool("truncated")),
                    ("count", Json::Int("n - excess")),
                    ("first", Json::Int("first_at")),
                    ("last", Json::Int("last_at")),
                ],
            );
            sections.push(format!(
                "{keys}, {row} AS line FROM hit_kept WHERE summary = {id} AND hit_rank <= {COUNTERS} AND n > excess",
                keys = self.keys(10 + id, ["bucket", "hit_rank", "0"]),
            ));
        }
        let total = |name: &str, count: &str| {
            self.json(
                "totals",
                &[
                    ("summary", Json::Literal(format!("\"{name}\""))),
                    ("bucket", Json::Int("bucket")),
                    ("total", Json::Int(count)),
                ],
            )
        };
        sections.push(format!(
            "{keys}, {row} AS line FROM hits WHERE summary = 0 GROUP BY bucket",
            keys = self.keys(12, ["bucket", "0", "0"]),
            row = total("client_4xx", "count(*)"),
        ));
        if self.has_paths() {
            for (order, name, count) in [(1, "bad_path", "sum(bad)"), (2, "path", "count(*)")] {
                sections.push(format!(
                    "{keys}, {row} AS line FROM paths WHERE path IS NOT NULL GROUP BY bucket",
                    keys = self.keys(12, ["bucket", &order.to_string(), "0"]),
                    row = total(name, count),
                ));
            }
        }
        sections
    }

    /// The `path_cells` rows: requests per traffic cell and bucket.
    pub(super) fn path_cells(&self) -> String {
        let row = self.json(
            "path_cells",
            &[
                ("bucket", Json::Int("bucket")),
                ("cell", Json::Int("cell")),
                ("count", Json::Int("sum(n)")),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM path_traffic GROUP BY bucket, cell",
            keys = self.keys(13, ["bucket", "cell", "0"]),
        )
    }

    /// `path_traffic`: requests per bucket and traffic cell, one row per
    /// distinct path (DuckDB, ClickHouse) or per cell at the bucket's
    /// total (the others).
    fn path_cell_ctes(&self) -> Vec<String> {
        let d = self.d;
        let Some(w) = d.wide() else {
            let cells = match d {
                super::Dialect::BigQuery => {
                    format!("UNNEST(GENERATE_ARRAY(0, {})) AS cell", TRAFFIC_CELLS - 1)
                }
                super::Dialect::Spark => format!(
                    "(SELECT explode(sequence(0, {})) AS cell) AS cells",
                    TRAFFIC_CELLS - 1
                ),
                _ => format!("UNNEST(sequence(0, {})) AS cells(cell)", TRAFFIC_CELLS - 1),
            };
            return vec![format!(
                "path_totals AS (\n  SELECT bucket, count(*) AS n FROM paths WHERE path IS NOT NULL GROUP BY bucket\n),\n\
                 path_traffic AS (\n  SELECT bucket, cell, n FROM path_totals CROSS JOIN {cells}\n)"
            )];
        };
        let u = |value: u64| w.of(&value.to_string());
        let mask = u(u64::MAX);
        // The key's bytes as hex, padded so every read is inside it.
        let padded = 2 * (KEY_BYTES + 16);
        let word =
            |offset: &str, bytes: u32| w.le_bytes("h", &format!("greatest({offset}, 0)"), bytes);
        let x = |a: &str, b: &str| w.xor(a, b);
        let wide_n = w.of("n");
        // multiply_mix: the 128-bit product folded, low half xor high half.
        let fold = |full: &str| x(&w.and(full, &mask), &w.shift_right(full, 64));
        let (seed1, seed2) = (u(FX_SEED1), u(FX_SEED2));
        let half = d.int_div("n", "2");
        let short_s0 = format!(
            "CASE WHEN n > 16 THEN {seed1} WHEN n >= 8 THEN {} WHEN n >= 4 THEN {} WHEN n > 0 THEN {} ELSE {seed1} END",
            x(&seed1, &word("0", 8)),
            x(&seed1, &word("0", 4)),
            x(&seed1, &word("0", 1)),
        );
        let short_s1 = format!(
            "CASE WHEN n > 16 THEN {seed2} WHEN n >= 8 THEN {} WHEN n >= 4 THEN {} WHEN n > 0 THEN {} ELSE {seed2} END",
            x(&seed2, &word("n - 8", 8)),
            x(&seed2, &word("n - 4", 4)),
            x(
                &seed2,
                &w.or(&w.shift_left(&word("n - 1", 1), 8), &word(&half, 1))
            ),
        );
        let mut ctes = vec![
            format!(
                "path_traffic_keys AS (\n  SELECT bucket, key_hex, count(*) AS n FROM (\n    \
                 SELECT bucket, {} AS key_hex FROM paths WHERE path IS NOT NULL\n  ) AS path_keys GROUP BY bucket, key_hex\n)",
                d.hex_prefix("path", KEY_BYTES)
            ),
            format!(
                "fx_0 AS (\n  SELECT key_hex, n, h, {short_s0} AS s0_0, {short_s1} AS s1_0\n  FROM (SELECT key_hex, {} AS n, rpad(key_hex, {padded}, '0') AS h\n    \
                 FROM (SELECT DISTINCT key_hex FROM path_traffic_keys) AS distinct_keys) AS key_lengths\n)",
                d.int_div("length(key_hex)", "2"),
            ),
        ];
        // hash_bytes' loop over the 16-byte chunks of all bytes but the
        // last: (n - 1) / 16 of them, at most 3 for a 64-byte key.
        let chunks = d.int_div("(n - 1)", "16");
        let rounds = (KEY_BYTES - 1) / 16;
        for round in 0..rounds {
            let at = 16 * round;
            let product = format!(
                "CASE WHEN n > 16 AND {chunks} > {round} THEN {} * {} END",
                x(&format!("s0_{round}"), &word(&at.to_string(), 8)),
                x(&u(FX_NO_ZERO_COLLAPSE), &word(&(at + 8).to_string(), 8)),
            );
            ctes.push(format!(
                "fx_{next} AS (\n  SELECT key_hex, n, h,\n    CASE WHEN product_{round} IS NULL THEN s0_{round} ELSE s1_{round} END AS s0_{next},\n    \
                 CASE WHEN product_{round} IS NULL THEN s1_{round} ELSE {folded} END AS s1_{next}\n  \
                 FROM (SELECT key_hex, n, h, s0_{round}, s1_{round}, {product} AS product_{round} FROM fx_{round}) AS mixed\n)",
                next = round + 1,
                folded = fold(&format!("product_{round}")),
            ));
        }
        // (Every step names its columns anew: ClickHouse resolves a name to
        // an alias of the same SELECT before a column of its FROM.)
        // The last 16 bytes into both halves, the final mix, then
        // FxHasher: the length written first (`[u8]`'s Hash), the bytes'
        // hash, each step a wrapping multiply by K; `finish` rotates.
        let tail = |s: &str, offset: &str| {
            format!(
                "CASE WHEN n > 16 THEN {} ELSE {s} END",
                x(s, &word(offset, 8))
            )
        };
        let bytes_hash = x(&fold("t0 * t1"), &wide_n);
        let state = w.and(
            &format!(
                "{} + {bytes_hash}",
                w.and(&format!("{wide_n} * {}", u(FX_K)), &mask)
            ),
            &mask,
        );
        let finished = w.and(&format!("{state} * {}", u(FX_K)), &mask);
        // The top 6 bits after rotating left by 26 are bits 37..32 before.
        let cell_shift = u64::BITS - FX_ROTATE - TRAFFIC_CELLS.trailing_zeros();
        let cell = w.and(
            &w.shift_right("finished", cell_shift),
            &u(TRAFFIC_CELLS as u64 - 1),
        );
        ctes.push(format!(
            "fx_cells AS (\n  SELECT key_hex, {cell_int} AS cell FROM (\n    SELECT key_hex, {finished} AS finished FROM (\n      \
             SELECT key_hex, n, {t0} AS t0, {t1} AS t1 FROM fx_{rounds}\n    ) AS tails\n  ) AS hashed\n)",
            cell_int = self.int(&cell),
            t0 = tail(&format!("s0_{rounds}"), "n - 16"),
            t1 = tail(&format!("s1_{rounds}"), "n - 8"),
        ));
        ctes.push(
            "path_traffic AS (\n  SELECT bucket, cell, n FROM path_traffic_keys JOIN fx_cells USING (key_hex)\n)".into(),
        );
        ctes
    }
}
