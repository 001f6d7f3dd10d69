//! Partials that leave the process: the mergeable state of a run's inputs
//! (what ingest hands on: the access [`Partial`], the input statistics,
//! the events and the metric series) written as Parquet tables, one file
//! per table and producer ([`write_dir`]), or as JSON lines ([`to_jsonl`]),
//! and read back from any number of producers, checked to have been made
//! with the same settings, and merged ([`read_dirs`]) with the merge the
//! parsing threads use, so the reduce step's report is the one-machine
//! report. Depends on `series` and `ingest` (the types it encodes); `run`
//! calls it. The schema, table by table: docs/partials.md.

pub mod access;
pub mod columns;
pub mod evidence;
pub mod jsonl;
pub mod pieces;
pub mod summaries;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::{Ingested, InputKind};
use crate::series::Partial;
use columns::{TableReader, jsonl_rows, read_parquet, write_parquet};

/// The schema every partial file is written in; a reader refuses others.
pub const SCHEMA: &str = "postmortem.partials/v1";

/// The extension of a partial file: `<producer>.<table>.parquet`.
pub const EXTENSION: &str = "parquet";

/// How the user key becomes the 64-bit user id of the `users` table and
/// of the sketches (docs/partials.md, "Users").
pub const USER_HASH: &str = "xxh3_64(client); ip-ua: xxh3_64_with_seed(user_agent, xxh3_64(client)); remote-user: xxh3_64_with_seed(remote_user, 0x7265_6d6f_7465_5f75) or the client's";

/// The sketch of a bucket's users, as DataSketches names its parameters.
pub fn hll_setting() -> String {
    format!(
        "datasketches-hll lg_k={} type=HLL_8 update=int64(user id) murmur3_x64_128 seed=9001",
        access::HLL_LG_K
    )
}

/// The tables of a producer, in the order they are written.
pub const TABLES: [&str; 15] = [
    "inputs",
    "buckets",
    "latency",
    "slow_tail",
    "slots",
    "users",
    "dimensions",
    "dimension_latency",
    "dimension_causes",
    "heavy",
    "totals",
    "path_cells",
    "events",
    "metrics",
    "edge_requests",
];

/// Tables a producer may lack: written only by versions that have them
/// (read as empty), or needed only by some runs.
const OPTIONAL_TABLES: [&str; 1] = ["edge_requests"];

/// The settings partials must share to be merged, as written in every
/// file's key-value metadata (`postmortem.<name>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub bucket_ms: i64,
    /// The slow threshold requests were classified against at ingest.
    pub ingest_slow_us: u64,
    /// Whether `--slow` was given (else the ingest threshold is the
    /// contract's smallest default and the report's threshold is computed).
    pub slow_given: bool,
    /// `--users`.
    pub user_key: crate::config::UserKey,
    /// `--alert-pattern`s, which sorted the events at ingest.
    pub alert_patterns: Vec<String>,
    /// For the partials of `postmortem impact`: the incident's `[start,
    /// end]` (epoch ms) whose requests alone they hold.
    pub window: Option<(crate::timefmt::Millis, crate::timefmt::Millis)>,
    /// How the user ids were computed: [`USER_HASH`] for the binary's,
    /// another engine's hash for the partials of `postmortem sql`
    /// (docs/sql.md): ids of two hashes name one user twice.
    pub user_hash: String,
}

impl Settings {
    /// `(key, value)` of every setting that must match, in a fixed order.
    fn entries(&self) -> Vec<(&'static str, String)> {
        vec![
            ("schema", SCHEMA.to_string()),
            ("bucket_ms", self.bucket_ms.to_string()),
            ("ingest_slow_us", self.ingest_slow_us.to_string()),
            (
                "slow",
                if self.slow_given { "given" } else { "default" }.to_string(),
            ),
            ("users", self.user_key.name().to_string()),
            ("user_hash", self.user_hash.clone()),
            ("hll", hll_setting()),
            (
                "alert_patterns",
                serde_json::to_string(&self.alert_patterns).unwrap_or_default(),
            ),
            (
                "window",
                match self.window {
                    Some((start, end)) => format!("{start}..{end}"),
                    None => "none".to_string(),
                },
            ),
        ]
    }

    /// The settings a file's metadata names, or the error naming the
    /// missing key.
    fn from_file(table: &TableReader) -> Result<Settings> {
        let value = |key: &str| {
            table.meta(&format!("postmortem.{key}")).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: no 'postmortem.{key}' in the file's metadata: not a partial of `postmortem partial` ({SCHEMA}); write it again with `postmortem partial`",
                    table.path.display()
                ))
            })
        };
        let schema = value("schema")?;
        if schema != SCHEMA {
            return Err(Error::Usage(format!(
                "{}: schema '{schema}', this version reads '{SCHEMA}': write the partial again with this version's `postmortem partial`",
                table.path.display()
            )));
        }
        let number = |key: &str| -> Result<i64> {
            let text = value(key)?;
            text.parse().map_err(|_| {
                Error::Usage(format!(
                    "{}: 'postmortem.{key}' is '{text}', not a number: write the partial again with `postmortem partial`",
                    table.path.display()
                ))
            })
        };
        let users = value("users")?;
        let user_key = [
            crate::config::UserKey::Ip,
            crate::config::UserKey::IpUserAgent,
            crate::config::UserKey::RemoteUser,
        ]
        .into_iter()
        .find(|key| key.name() == users)
        .ok_or_else(|| {
            Error::Usage(format!(
                "{}: 'postmortem.users' is '{users}', not ip, ip-ua or remote-user",
                table.path.display()
            ))
        })?;
        let patterns = value("alert_patterns")?;
        // Absent from partials written before `postmortem impact` existed.
        let window = match table.meta("postmortem.window") {
            None | Some("none") => None,
            Some(text) => Some(
                text.split_once("..")
                    .and_then(|(start, end)| Some((start.parse().ok()?, end.parse().ok()?)))
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "{}: 'postmortem.window' is '{text}', not START..END in epoch milliseconds",
                            table.path.display()
                        ))
                    })?,
            ),
        };
        Ok(Settings {
            window,
            user_hash: value("user_hash")?.to_string(),
            bucket_ms: number("bucket_ms")?,
            ingest_slow_us: u64::try_from(number("ingest_slow_us")?).unwrap_or(0),
            slow_given: value("slow")? == "given",
            user_key,
            alert_patterns: serde_json::from_str(patterns).map_err(|_| {
                Error::Usage(format!(
                    "{}: 'postmortem.alert_patterns' is '{patterns}', not a JSON list of strings",
                    table.path.display()
                ))
            })?,
        })
    }
}

/// The key-value metadata of one file.
fn metadata(
    settings: &Settings,
    producer: &str,
    table: &str,
    access_offset: Option<i32>,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = settings
        .entries()
        .into_iter()
        .map(|(key, value)| (format!("postmortem.{key}"), value))
        .collect();
    pairs.push(("postmortem.producer".into(), producer.to_string()));
    pairs.push(("postmortem.table".into(), table.to_string()));
    pairs.push((
        "postmortem.access_offset".into(),
        access_offset.map_or(String::new(), |o| o.to_string()),
    ));
    pairs.push((
        "postmortem.version".into(),
        env!("CARGO_PKG_VERSION").to_string(),
    ));
    pairs
}

/// Every table of `ingested` (whose `inputs` are the run's statistics),
/// its one input a piece of a file from line `piece_first_line` when given.
fn tables(
    ingested: &mut Ingested,
    piece_first_line: Option<u64>,
) -> Result<Vec<(&'static str, polars::prelude::DataFrame)>> {
    let mut tables = vec![(
        "inputs",
        evidence::encode_inputs(&ingested.inputs, piece_first_line)?,
    )];
    tables.extend(access::encode(&mut ingested.access)?.tables);
    tables.push(("events", evidence::encode_events(&ingested.events)?));
    tables.push(("metrics", evidence::encode_metrics(&ingested.metrics)?));
    tables.push((
        "edge_requests",
        evidence::encode_edge_requests(&ingested.edge_requests)?,
    ));
    Ok(tables)
}

/// Refuses a producer name that cannot name files: it must be letters,
/// digits, `-`, `_` and `.` not leading (a host name, a pod name,
/// `part-00017`).
pub fn check_producer(producer: &str) -> Result<()> {
    let valid = !producer.is_empty()
        && !producer.starts_with('.')
        && producer
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--producer '{producer}' cannot name a file: use letters, digits, '-', '_' and '.', e.g. --producer web01"
        )))
    }
}

/// Writes `ingested` as `dir/<producer>.<table>.parquet`, one file per
/// table (each written beside its final name and renamed, so a reader
/// never sees half a file); returns the paths written. A `piece` is
/// relocated first ([`pieces::relocate`]).
pub fn write_dir(
    dir: &Path,
    producer: &str,
    settings: &Settings,
    ingested: &mut Ingested,
    piece: Option<&pieces::Piece>,
) -> Result<Vec<PathBuf>> {
    check_producer(producer)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if let Some(piece) = piece {
        pieces::relocate(ingested, piece)?;
    }
    let mut written = Vec::new();
    for (table, mut frame) in tables(ingested, piece.map(|p| p.first_line))? {
        let path = dir.join(format!("{producer}.{table}.{EXTENSION}"));
        let partial_path = dir.join(format!(".{producer}.{table}.{EXTENSION}.part"));
        write_parquet(
            &partial_path,
            &mut frame,
            &metadata(settings, producer, table, ingested.access_offset),
        )?;
        std::fs::rename(&partial_path, &path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `ingested` as JSON lines: first one `{"table":"settings",...}` line
/// with the metadata, then each table's rows (`"table"` names it; binary
/// cells, the sketches and keys, in hex). A `piece` is relocated first.
pub fn to_jsonl(
    producer: &str,
    settings: &Settings,
    ingested: &mut Ingested,
    piece: Option<&pieces::Piece>,
) -> Result<String> {
    if let Some(piece) = piece {
        pieces::relocate(ingested, piece)?;
    }
    let mut out = String::new();
    let mut header = serde_json::Map::new();
    header.insert("table".into(), "settings".into());
    for (key, value) in metadata(settings, producer, "settings", ingested.access_offset) {
        header.insert(key, value.into());
    }
    out.push_str(&serde_json::Value::Object(header).to_string());
    out.push('\n');
    for (table, frame) in tables(ingested, piece.map(|p| p.first_line))? {
        jsonl_rows(table, &frame, &mut out);
    }
    Ok(out)
}

/// One producer's files, by table.
struct Producer {
    name: String,
    tables: BTreeMap<String, TableReader>,
    /// A producer read from JSON lines: its section of the file, whose
    /// rows are read when the producer's turn comes (`tables` is empty
    /// until then).
    section: Option<jsonl::Section>,
}

impl Producer {
    /// Where the producer was met first: its JSON-lines file, or one of
    /// its Parquet files.
    fn found_in(&self) -> PathBuf {
        self.section
            .as_ref()
            .map(|section| section.path.clone())
            .or_else(|| self.tables.values().next().map(|table| table.path.clone()))
            .unwrap_or_default()
    }
}

/// Keeps the settings of the first partial met (`first`) and refuses any
/// later one made with others.
fn same_settings(
    first: &mut Option<(Settings, PathBuf)>,
    settings: Settings,
    path: &Path,
) -> Result<()> {
    match first {
        None => {
            *first = Some((settings, path.to_path_buf()));
            Ok(())
        }
        Some((expected, expected_path)) => check_same(expected, expected_path, &settings, path),
    }
}

/// The tables as the writer types them (names and columns), which is how
/// JSON lines are read back.
fn schemas(settings: &Settings) -> Result<Vec<(&'static str, polars::prelude::Schema)>> {
    Ok(tables(&mut empty_ingested(settings, u64::MAX), None)?
        .into_iter()
        .map(|(name, frame)| (name, frame.schema().as_ref().clone()))
        .collect())
}

/// A run's state before any input: what the reduce step merges into.
/// `exact_users_bytes` bounds the users it holds one by one, as a run's
/// `--exact-users-mb` does.
fn empty_ingested(settings: &Settings, exact_users_bytes: u64) -> Ingested {
    let mut access = Partial::new(settings.bucket_ms, settings.ingest_slow_us);
    access.set_exact_users_bytes(exact_users_bytes);
    Ingested {
        inputs: Vec::new(),
        access,
        access_offset: None,
        // Not carried by partials yet: a log whose offset changed (DST)
        // is reported from partials in its most common offset
        // (docs/partials.md).
        access_offset_change: None,
        events: Vec::new(),
        metrics: Vec::new(),
        // The logs are elsewhere: their edges cannot be read again.
        chunk_spans: Vec::new(),
        entry_points: Vec::new(),
        edge_requests: Vec::new(),
    }
}

/// The partial files `path` names: itself when it is a file, else its
/// `*.parquet`, `*.jsonl` and `*.jsonl.gz` files (not hidden ones, which
/// are files being written), in name order.
fn partial_files(path: &Path) -> Result<Vec<PathBuf>> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(io_error)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io_error)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            !hidden && (path.extension().is_some_and(|e| e == EXTENSION) || jsonl::is_jsonl(path))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::NothingParsed(format!(
            "{}: no partial file (*.{EXTENSION}, *.jsonl) in it: point --from-partials at the folders `postmortem partial -o` wrote, or at JSON-lines files",
            path.display()
        )));
    }
    Ok(paths)
}

/// The refusal of one producer met twice.
fn given_twice(producer: &str, first: &Path, second: &Path) -> Error {
    Error::Usage(format!(
        "producer '{producer}' is given twice, in {} and {}: give each producer's partials once (two hosts need two --producer names)",
        first.display(),
        second.display()
    ))
}

/// Reads every partial in `paths` (folders of `*.parquet` and `*.jsonl`
/// files, or such files; any producers, any order), checks they share
/// their [`Settings`], and merges them: the settings and what one run over
/// all the producers' inputs would have ingested (inputs in producer-name
/// order, their line references shifted to match).
///
/// `exact_users_bytes` is the memory the merged users may take one by one
/// (`--exact-users-mb`): past it, or when any producer wrote its buckets
/// sketched, every bucket's users are sketches (docs/partials.md), so the
/// merge's memory does not grow with the users.
pub fn read_dirs(paths: &[PathBuf], exact_users_bytes: u64) -> Result<(Settings, Ingested)> {
    let mut producers: BTreeMap<String, Producer> = BTreeMap::new();
    let mut first: Option<(Settings, PathBuf)> = None;
    let mut files = Vec::new();
    for path in paths {
        files.extend(partial_files(path)?);
    }
    for path in files {
        if jsonl::is_jsonl(&path) {
            for section in jsonl::sections(&path)? {
                same_settings(
                    &mut first,
                    Settings::from_file(&section.settings_table())?,
                    &path,
                )?;
                let name = section.producer().to_string();
                if let Some(known) = producers.get(&name) {
                    return Err(given_twice(&name, &known.found_in(), &path));
                }
                producers.insert(
                    name.clone(),
                    Producer {
                        name,
                        tables: BTreeMap::new(),
                        section: Some(section),
                    },
                );
            }
            continue;
        }
        let table = read_parquet(&path, false)?;
        same_settings(&mut first, Settings::from_file(&table)?, &path)?;
        let producer = table
            .meta("postmortem.producer")
            .unwrap_or_default()
            .to_string();
        let name = table
            .meta("postmortem.table")
            .unwrap_or_default()
            .to_string();
        let entry = producers
            .entry(producer.clone())
            .or_insert_with(|| Producer {
                name: producer.clone(),
                tables: BTreeMap::new(),
                section: None,
            });
        if entry.section.is_some() {
            return Err(given_twice(&producer, &entry.found_in(), &path));
        }
        if let Some(previous) = entry.tables.get(&name) {
            return Err(Error::Usage(format!(
                "producer '{producer}' has its {name} table twice, in {} and {}: give each producer's partial once (two hosts need two --producer names)",
                previous.path.display(),
                path.display()
            )));
        }
        entry.tables.insert(name, table);
    }
    let Some((settings, _)) = first else {
        return Err(Error::Usage(
            "--from-partials needs at least one folder of partials".into(),
        ));
    };
    let schemas = schemas(&settings)?;
    let mut merged = empty_ingested(&settings, exact_users_bytes);
    let mut offsets: BTreeMap<i32, u64> = BTreeMap::new();
    let mut assembly = pieces::Assembly::default();
    // One producer's rows at a time: the reduce step holds the merged
    // state and one producer's tables, whatever the number of producers.
    for mut producer in producers.into_values() {
        match &producer.section {
            Some(section) => producer.tables = jsonl::load(section, &schemas)?,
            None => {
                for table in producer.tables.values_mut() {
                    *table = read_parquet(&table.path, true)?;
                }
            }
        }
        let (access, events, metrics, offset, parsed, edge_requests) = read_producer(
            &producer,
            &settings,
            &mut merged.inputs,
            &mut assembly,
            exact_users_bytes,
        )?;
        merged.edge_requests.extend(edge_requests);
        if let Some(offset) = offset {
            *offsets.entry(offset).or_default() += parsed;
        }
        merged.access.merge(access);
        merged.events.extend(events);
        merged.metrics.extend(metrics);
    }
    assembly.finish(&mut merged.inputs);
    // As ingest does: events in time order (then by line), and the offset
    // most access lines carried.
    merged.events.sort_by_key(|event| (event.at, event.line));
    merged.metrics = join_time_windows(std::mem::take(&mut merged.metrics), &merged.inputs);
    merged.access_offset = offsets
        .iter()
        .max_by_key(|(offset, lines)| (**lines, std::cmp::Reverse(**offset)))
        .map(|(offset, _)| *offset);
    Ok((settings, merged))
}

/// Joins the pieces of one metric series that producers read in separate
/// time windows (`--since`/`--until` of a time split): series of the same
/// name, unit and kind, read from inputs of the same path, whose times do
/// not overlap, are one series. Two hosts' series of one name at the same
/// path cover the same time, overlap, and stay apart.
fn join_time_windows(
    metrics: Vec<crate::ingest::evidence::MetricSeries>,
    inputs: &[crate::ingest::InputStats],
) -> Vec<crate::ingest::evidence::MetricSeries> {
    let path_of = |input: u32| inputs.get(input as usize).map(|i| i.path.clone());
    // Each joined series keeps the position of its first piece, so the
    // list stays in the order the producers read them.
    let mut joined: Vec<(usize, crate::ingest::evidence::MetricSeries)> =
        Vec::with_capacity(metrics.len());
    let mut pieces: Vec<(usize, crate::ingest::evidence::MetricSeries)> =
        metrics.into_iter().enumerate().collect();
    pieces.sort_by_key(|(_, series)| series.times.first().copied().unwrap_or(i64::MIN));
    for (position, series) in pieces {
        let same = joined.iter_mut().map(|(_, known)| known).find(|known| {
            known.name == series.name
                && known.unit == series.unit
                && known.counter == series.counter
                && path_of(known.input) == path_of(series.input)
                && match (known.times.last(), series.times.first()) {
                    (Some(last), Some(first)) => first > last,
                    _ => true,
                }
        });
        match same {
            Some(known) => {
                known.times.extend(series.times);
                known.values.extend(series.values);
                known.lines.extend(series.lines);
            }
            None => joined.push((position, series)),
        }
    }
    joined.sort_by_key(|(position, _)| *position);
    joined.into_iter().map(|(_, series)| series).collect()
}

/// What one producer adds beside its inputs: the access state, events,
/// metric series, the offset its access lines carried and how many access
/// lines it parsed (the weight of that offset).
type ProducerState = (
    Partial,
    Vec<crate::ingest::events::Event>,
    Vec<crate::ingest::evidence::MetricSeries>,
    Option<i32>,
    u64,
    Vec<crate::ingest::recount::EdgeRequest>,
);

/// Reads one producer's tables: its inputs placed into `run` (appended,
/// or merged into the file a piece belongs to) and the rest with its line
/// references pointing at those places.
fn read_producer(
    producer: &Producer,
    settings: &Settings,
    run: &mut Vec<crate::ingest::InputStats>,
    assembly: &mut pieces::Assembly,
    exact_users_bytes: u64,
) -> Result<ProducerState> {
    for table in TABLES {
        if !producer.tables.contains_key(table) && !OPTIONAL_TABLES.contains(&table) {
            let dir = producer
                .tables
                .values()
                .next()
                .and_then(|t| t.path.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "{}: producer '{}' has no {table} table ({}.{table}.{EXTENSION}): its `postmortem partial` did not finish; run it again",
                dir.display(),
                producer.name,
                producer.name
            )));
        }
    }
    let table = |name: &str| -> Result<&TableReader> {
        producer.tables.get(name).ok_or_else(|| {
            Error::Usage(format!("producer '{}' has no {name} table", producer.name))
        })
    };
    let inputs = evidence::decode_inputs(table("inputs")?)?;
    let starts = evidence::decode_piece_starts(table("inputs")?)?;
    let parsed: u64 = inputs
        .iter()
        .filter(|input| input.kind == InputKind::Access)
        .map(|input| input.parsed)
        .sum();
    let places = assembly.place(run, inputs, &starts, &producer.name)?;
    let access = access::decode(
        &table,
        settings.bucket_ms,
        settings.ingest_slow_us,
        &places,
        exact_users_bytes,
    )?;
    let events = evidence::decode_events(table("events")?, &places)?;
    let metrics = evidence::decode_metrics(table("metrics")?, &places)?;
    let offset = table("inputs")?
        .meta("postmortem.access_offset")
        .and_then(|text| text.parse().ok());
    let edge_requests = match producer.tables.get("edge_requests") {
        Some(table) => evidence::decode_edge_requests(table)?,
        None => Vec::new(),
    };
    Ok((access, events, metrics, offset, parsed, edge_requests))
}

/// The one-line refusal of two files made with different settings.
fn check_same(
    expected: &Settings,
    expected_path: &Path,
    found: &Settings,
    found_path: &Path,
) -> Result<()> {
    for ((key, mine), (_, theirs)) in expected.entries().into_iter().zip(found.entries()) {
        if mine != theirs && key == "user_hash" {
            return Err(Error::Usage(format!(
                "partials whose user ids were computed differently cannot be merged (one user would count as two): user_hash is '{mine}' in {} but '{theirs}' in {}: make them with one tool (`postmortem partial`, or one engine's `postmortem sql`, docs/sql.md)",
                expected_path.display(),
                found_path.display()
            )));
        }
        if mine != theirs {
            return Err(Error::Usage(format!(
                "partials made with different settings cannot be merged: {key} is {mine} in {} but {theirs} in {}: write them again with the same --bucket, --slow, --users and --alert-pattern",
                expected_path.display(),
                found_path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
