//! The SQL engines `postmortem sql` writes for, and the one table of what
//! differs between them: identifier and string quoting, the type names of
//! a cast, the functions that have another name or none (integer division,
//! a right shift, log2, epoch milliseconds of a timestamp, the 64-bit hash
//! of the user id, the DataSketches HLL aggregate). The query builder
//! (`builder.rs`) writes everything else once, in the SQL all five share.

/// An engine whose SQL the query is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    ClickHouse,
    BigQuery,
    Spark,
    DuckDb,
    Trino,
}

/// `lg_k` of the DataSketches HLL sketch an engine builds: the binary's
/// (`partials::access::HLL_LG_K`), so the sketches union without a resize.
const HLL_LG_K: u8 = 12;

impl Dialect {
    /// Every dialect, in the order `--help` lists them.
    pub const ALL: [Dialect; 5] = [
        Dialect::ClickHouse,
        Dialect::BigQuery,
        Dialect::Spark,
        Dialect::DuckDb,
        Dialect::Trino,
    ];

    /// The name `--dialect` takes and the settings line records.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::ClickHouse => "clickhouse",
            Dialect::BigQuery => "bigquery",
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
            Dialect::Trino => "trino",
        }
    }

    /// The character that quotes an identifier.
    fn identifier_quote(self) -> char {
        match self {
            Dialect::BigQuery | Dialect::Spark => '`',
            Dialect::ClickHouse | Dialect::DuckDb | Dialect::Trino => '"',
        }
    }

    /// `name` quoted as one identifier, or why it cannot be: a name
    /// holding the quote character, a backslash or a control character is
    /// refused rather than escaped (the escapes differ between engines and
    /// such a name is almost surely a mistake).
    pub fn identifier(self, name: &str) -> Result<String, String> {
        let quote = self.identifier_quote();
        if name.is_empty() {
            return Err("an empty name".into());
        }
        if let Some(bad) = name
            .chars()
            .find(|c| *c == quote || *c == '\\' || c.is_control())
        {
            return Err(format!(
                "'{name}' holds {bad:?}, which {} cannot quote alike in every engine",
                self.name()
            ));
        }
        Ok(format!("{quote}{name}{quote}"))
    }

    /// `text` as a string literal. DuckDB and Trino read a backslash as
    /// itself and double the quote; ClickHouse, Spark and BigQuery read
    /// backslash escapes, so both the backslash and the quote are escaped.
    pub fn string(self, text: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Trino => format!("'{}'", text.replace('\'', "''")),
            Dialect::ClickHouse | Dialect::Spark | Dialect::BigQuery => {
                format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
    }

    /// The 64-bit signed integer type.
    pub fn int64(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    /// The text type.
    pub fn text(self) -> &'static str {
        match self {
            Dialect::BigQuery | Dialect::Spark => "STRING",
            _ => "VARCHAR",
        }
    }

    /// `expr` as text, NULL staying NULL (ClickHouse's `CAST` of a NULL to
    /// a non-nullable type is an error; `toString` keeps it nullable).
    pub fn to_text(self, expr: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("toString({expr})"),
            _ => format!("CAST({expr} AS {})", self.text()),
        }
    }

    /// `expr` cast to the 64-bit integer type (nullable in ClickHouse,
    /// whose plain `Int64` refuses a NULL).
    pub fn to_int(self, expr: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("CAST({expr} AS Nullable(Int64))"),
            _ => format!("CAST({expr} AS {})", self.int64()),
        }
    }

    /// The lowercase hex of a text expression's UTF-8 bytes.
    pub fn hex_text(self, text: &str) -> String {
        match self {
            Dialect::BigQuery => format!("TO_HEX(CAST({text} AS BYTES))"),
            Dialect::Trino => format!("lower(to_hex(to_utf8({text})))"),
            Dialect::ClickHouse | Dialect::Spark | Dialect::DuckDb => format!("lower(hex({text}))"),
        }
    }

    /// Integer division of non-negative integers (truncating).
    pub fn int_div(self, a: &str, b: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("intDiv({a}, {b})"),
            Dialect::DuckDb => format!("({a} // {b})"),
            Dialect::Spark => format!("({a} div {b})"),
            Dialect::BigQuery => format!("DIV({a}, {b})"),
            Dialect::Trino => format!("({a} / {b})"),
        }
    }

    /// `a` modulo `b`, in `[0, b)` for a positive `b` whatever the sign of
    /// `a` (the bucket of a time before 1970 is below it, as
    /// `div_euclid` puts it).
    pub fn modulo(self, a: &str, b: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("positiveModulo({a}, {b})"),
            Dialect::Spark => format!("pmod({a}, {b})"),
            Dialect::BigQuery => format!("MOD(MOD({a}, {b}) + {b}, {b})"),
            Dialect::DuckDb | Dialect::Trino => format!("((({a}) % {b} + {b}) % {b})"),
        }
    }

    /// `a >> n` on a non-negative 64-bit integer.
    pub fn shift_right(self, a: &str, n: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("bitShiftRight({a}, {n})"),
            Dialect::Spark => format!("shiftright({a}, {n})"),
            Dialect::Trino => format!("bitwise_right_shift({a}, {n})"),
            Dialect::DuckDb | Dialect::BigQuery => format!("({a} >> ({n}))"),
        }
    }

    /// The base-2 logarithm (a float; the builder corrects its floor with
    /// shifts, so a last-bit error of the engine's `log2` cannot move a bin).
    pub fn log2(self, a: &str) -> String {
        match self {
            Dialect::BigQuery => format!("LOG({a}, 2)"),
            _ => format!("log2({a})"),
        }
    }

    /// Milliseconds since the Unix epoch of a timestamp column.
    pub fn epoch_ms(self, ts: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("toUnixTimestamp64Milli(toDateTime64({ts}, 3))"),
            Dialect::BigQuery => format!("UNIX_MILLIS({ts})"),
            Dialect::Spark => format!("unix_millis({ts})"),
            Dialect::DuckDb => format!("epoch_ms({ts})"),
            Dialect::Trino => format!("CAST(round(to_unixtime({ts}) * 1000) AS BIGINT)"),
        }
    }

    /// The engine's 64-bit hash of a text expression, as a signed 64-bit
    /// integer: the user id. Only ClickHouse has the binary's `xxh3_64`;
    /// the others' hashes make ids that never equal the binary's, which
    /// the settings line's `postmortem.user_hash` says ([`Self::user_hash`]).
    pub fn hash64(self, text: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("reinterpretAsInt64(xxh3({text}))"),
            Dialect::BigQuery => format!("FARM_FINGERPRINT({text})"),
            Dialect::Spark => format!("xxhash64({text})"),
            // DuckDB's `hash` is an unsigned 64-bit value; its top bit is
            // dropped so the cast to BIGINT cannot overflow.
            Dialect::DuckDb => format!("CAST(hash({text}) >> 1 AS BIGINT)"),
            Dialect::Trino => format!("from_big_endian_64(xxhash64(to_utf8({text})))"),
        }
    }

    /// The name of the hash [`Self::hash64`] computes, for `postmortem.user_hash`.
    pub fn hash_name(self) -> &'static str {
        match self {
            Dialect::ClickHouse => "clickhouse xxh3",
            Dialect::BigQuery => "bigquery FARM_FINGERPRINT",
            Dialect::Spark => "spark xxhash64 (XXH64, seed 42)",
            Dialect::DuckDb => "duckdb hash >> 1",
            Dialect::Trino => "trino xxhash64 (XXH64, seed 0) big-endian",
        }
    }

    /// Whether `postmortem.user_hash` may be the binary's: the ids are
    /// `xxh3_64` of the client address exactly as the binary computes them
    /// for `--users ip` (ClickHouse's `xxh3` is XXH3-64 with seed 0).
    pub fn same_ids_as_binary_for_ip(self) -> bool {
        self == Dialect::ClickHouse
    }

    /// The items of an upstream list (`10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80`)
    /// as an array: what `ingest::record::upstream_items` reads (an item
    /// starts at a byte that is not `,`, space or `:` and runs to the next
    /// `,` or space).
    pub fn upstream_items(self, text: &str) -> String {
        const ITEM: &str = "[^ ,:][^ ,]*";
        match self {
            Dialect::ClickHouse => format!("extractAll({text}, '{ITEM}')"),
            Dialect::BigQuery => format!("REGEXP_EXTRACT_ALL({text}, r'{ITEM}')"),
            Dialect::Spark => format!("regexp_extract_all({text}, '({ITEM})', 1)"),
            Dialect::DuckDb | Dialect::Trino => format!("regexp_extract_all({text}, '{ITEM}')"),
        }
    }

    /// The number of elements of an array.
    pub fn array_length(self, array: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("length({array})"),
            Dialect::BigQuery => format!("ARRAY_LENGTH({array})"),
            Dialect::Spark => format!("size({array})"),
            Dialect::DuckDb => format!("len({array})"),
            Dialect::Trino => format!("cardinality({array})"),
        }
    }

    /// Element `i` (from 1) of an array, NULL past its end.
    pub fn element(self, array: &str, i: &str) -> String {
        let at = match self {
            Dialect::ClickHouse | Dialect::DuckDb => format!("{array}[{i}]"),
            Dialect::BigQuery => format!("{array}[SAFE_ORDINAL({i})]"),
            Dialect::Spark => format!("{array}[{i} - 1]"),
            Dialect::Trino => format!("element_at({array}, {i})"),
        };
        format!(
            "CASE WHEN {i} <= {} THEN {at} END",
            self.array_length(array)
        )
    }

    /// The rows of `source` once per element of its non-empty array
    /// column `array`, numbered from 1 in column `attempt`.
    pub fn each_element(self, source: &str, array: &str) -> String {
        match self {
            Dialect::ClickHouse => {
                format!("{source} ARRAY JOIN arrayEnumerate({array}) AS attempt")
            }
            Dialect::BigQuery => format!(
                "{source} CROSS JOIN UNNEST(GENERATE_ARRAY(1, ARRAY_LENGTH({array}))) AS attempt"
            ),
            Dialect::Spark => format!(
                "{source} LATERAL VIEW explode(sequence(1, size({array}))) attempt_rows AS attempt"
            ),
            Dialect::DuckDb => format!(
                "{source} CROSS JOIN generate_series(1, len({array})) AS attempt_rows(attempt)"
            ),
            Dialect::Trino => format!(
                "{source} CROSS JOIN UNNEST(sequence(1, cardinality({array}))) AS attempt_rows(attempt)"
            ),
        }
    }

    /// The path of a request-line text expression (`GET /a/b?x=1 HTTP/1.1`
    /// gives `/a/b`), NULL when the line holds none: what
    /// `series::paths::request_path` takes (the method runs to the first
    /// space and is not empty, spaces after it are skipped, the path runs
    /// to the next space or `?` and is not empty; nothing is decoded).
    pub fn request_path(self, line: &str) -> String {
        self.first_group(line, "^[^ ]+ +([^ ?]+)")
    }

    /// The text of the one capturing group of `pattern` (a regular
    /// expression without `'` or `\\`, read alike by RE2, Java and Joni) at
    /// its leftmost match in `text`, NULL when it does not match.
    pub fn first_group(self, text: &str, pattern: &str) -> String {
        let extracted = match self {
            Dialect::ClickHouse => format!("extract({text}, '{pattern}')"),
            Dialect::BigQuery => format!("REGEXP_EXTRACT({text}, r'{pattern}')"),
            Dialect::Spark | Dialect::DuckDb | Dialect::Trino => {
                format!("regexp_extract({text}, '{pattern}', 1)")
            }
        };
        // No match is '' in ClickHouse, Spark and DuckDB, NULL in the others.
        format!("NULLIF({extracted}, '')")
    }

    /// The lowercase hex of the first `bytes` bytes of a text expression's
    /// UTF-8 (a heavy-hitter key is cut in bytes, not characters).
    pub fn hex_prefix(self, text: &str, bytes: usize) -> String {
        match self {
            Dialect::ClickHouse => format!("lower(hex(substring({text}, 1, {bytes})))"),
            Dialect::BigQuery => format!("TO_HEX(SUBSTR(CAST({text} AS BYTES), 1, {bytes}))"),
            Dialect::Spark => format!("lower(hex(substring(encode({text}, 'UTF-8'), 1, {bytes})))"),
            // DuckDB's `substring` takes no BLOB: cut the hex instead.
            Dialect::DuckDb => format!("lower(substring(hex({text}), 1, {}))", 2 * bytes),
            Dialect::Trino => format!("lower(to_hex(substr(to_utf8({text}), 1, {bytes})))"),
        }
    }

    /// The length in bytes of a text expression's UTF-8.
    pub fn byte_length(self, text: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("length({text})"),
            Dialect::BigQuery => format!("BYTE_LENGTH({text})"),
            Dialect::Spark => format!("octet_length({text})"),
            Dialect::DuckDb => format!("strlen({text})"),
            Dialect::Trino => format!("length(to_utf8({text}))"),
        }
    }

    /// The unsigned 128-bit arithmetic FxHash needs (a 64 × 64-bit product
    /// whole), where the engine has it: DuckDB's `UHUGEINT`, ClickHouse's
    /// `UInt128`. BigQuery, Spark and Trino have no 128-bit integer (their
    /// decimals stop at 38 digits, short of 2^128), so they cannot place a
    /// path in its traffic cell (docs/sql.md, "What differs").
    pub fn wide(self) -> Option<Wide> {
        match self {
            Dialect::DuckDb | Dialect::ClickHouse => Some(Wide(self)),
            _ => None,
        }
    }

    /// A text as an integer, NULL when it is none (`-`).
    pub fn try_int(self, text: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("toInt64OrNull({text})"),
            Dialect::BigQuery => format!("SAFE_CAST({text} AS INT64)"),
            _ => format!("TRY_CAST({text} AS BIGINT)"),
        }
    }

    /// A text as a float, NULL when it is none (`-`).
    pub fn try_float(self, text: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("toFloat64OrNull({text})"),
            Dialect::BigQuery => format!("SAFE_CAST({text} AS FLOAT64)"),
            _ => format!("TRY_CAST({text} AS DOUBLE)"),
        }
    }

    /// The aggregate building a DataSketches HLL sketch (`lg_k` 12) of the
    /// BIGINT user ids as lowercase hex, where the engine has one that
    /// updates with the 64-bit integer as `update(long)` does: Spark 3.5's
    /// `hll_sketch_agg`. BigQuery's DataSketches UDFs take strings only
    /// (`hll_sketch_agg_string` hashes the text's bytes: other registers
    /// than `update(long)` of the same id), ClickHouse's `uniqTheta` is a
    /// Theta sketch, Trino's `approx_set` is Airlift's HLL and DuckDB has
    /// none: there the column is null and the exact `users` rows count.
    pub fn hll_hex(self, user_id: &str) -> Option<String> {
        match self {
            Dialect::Spark => Some(format!("lower(hex(hll_sketch_agg({user_id}, {HLL_LG_K})))")),
            _ => None,
        }
    }
}

/// Unsigned 128-bit integer expressions of an engine that has them
/// ([`Dialect::wide`]): what the FxHash of a path is computed with.
#[derive(Clone, Copy, Debug)]
pub struct Wide(Dialect);

impl Wide {
    /// An integer expression (at most 2^64 − 1) as the 128-bit type.
    pub fn of(self, expr: &str) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("toUInt128({expr})"),
            _ => format!("CAST({expr} AS UHUGEINT)"),
        }
    }

    pub fn xor(self, a: &str, b: &str) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("bitXor({a}, {b})"),
            _ => format!("xor({a}, {b})"),
        }
    }

    pub fn and(self, a: &str, b: &str) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("bitAnd({a}, {b})"),
            _ => format!("({a} & {b})"),
        }
    }

    pub fn or(self, a: &str, b: &str) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("bitOr({a}, {b})"),
            _ => format!("({a} | {b})"),
        }
    }

    pub fn shift_left(self, a: &str, n: u32) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("bitShiftLeft({a}, {n})"),
            _ => format!("({a} << {n})"),
        }
    }

    pub fn shift_right(self, a: &str, n: u32) -> String {
        match self.0 {
            Dialect::ClickHouse => format!("bitShiftRight({a}, {n})"),
            _ => format!("({a} >> {n})"),
        }
    }

    /// The little-endian unsigned integer of `bytes` (1 to 8) bytes at
    /// byte `offset` (an integer expression) of `hex`, a lowercase hex text
    /// padded with zeros far enough that every read is inside it.
    pub fn le_bytes(self, hex: &str, offset: &str, bytes: u32) -> String {
        match self.0 {
            // `reinterpretAsUInt64` reads a string's bytes little-endian.
            Dialect::ClickHouse => format!(
                "toUInt128(reinterpretAsUInt64(unhex(substring({hex}, 2 * ({offset}) + 1, {}))))",
                2 * bytes
            ),
            // The byte pairs in reverse order, read as one hex number.
            _ => {
                let pairs: Vec<String> = (0..bytes)
                    .rev()
                    .map(|i| format!("substring({hex}, 2 * ({offset}) + {}, 2)", 2 * i + 1))
                    .collect();
                format!("CAST(('0x' || {}) AS UHUGEINT)", pairs.join(" || "))
            }
        }
    }
}
