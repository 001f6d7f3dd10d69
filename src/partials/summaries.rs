//! The dimension and heavy-hitter tables of a partial: the per-upstream
//! and per-host counts (`dimensions`, with their coarse latency bins in
//! `dimension_latency` and their termination causes in
//! `dimension_causes`), and the Misra–Gries summaries of 4xx clients and
//! bad paths with the path traffic cells (`heavy`, `totals`,
//! `path_cells`), written from a [`Partial`] and folded back into one.
//! Column by column: docs/partials.md.

use polars::prelude::DataFrame;

use super::access::index_of;
use super::columns::{TableBuilder, TableReader, unsigned};
use crate::error::{Error, Result};
use crate::series::Partial;
use crate::series::clients::ClientSummary;
use crate::series::dims::{COARSE_BINS, DimensionBuilder, DimensionCounts, DimensionKind};
use crate::series::heavy::{ByteKey, Counter, HeavyHitters};
use crate::series::paths::{PATH_COUNTERS, PathSummary, TRAFFIC_CELLS, TrafficCells};
use crate::series::termination::{CAUSE_COUNT, TerminationCause, VendorCode};

pub fn encode_dimensions(
    dimensions: &mut [&mut DimensionBuilder],
    bucket_ms: i64,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let (mut kind, mut value, mut bucket) = (vec![], vec![], vec![]);
    let (mut requests, mut failed, mut slow) = (vec![], vec![], vec![]);
    let mut first_failed: Vec<Option<i64>> = vec![];
    let (mut l_kind, mut l_value, mut l_bucket, mut l_bin, mut l_count) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut c_kind, mut c_value, mut c_bucket, mut c_cause, mut c_name, mut c_count, mut c_code) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for dimension in dimensions.iter_mut() {
        let name = dimension.kind().name().to_string();
        let labels: Vec<Box<[u8]>> = dimension.labels().to_vec();
        let mut rows: Vec<(i64, u16, DimensionCounts)> = dimension
            .settled_counts()
            .map(|(index, id, counts)| (index, id, counts.clone()))
            .collect();
        rows.sort_by_key(|row| (row.0, row.1));
        for (index, id, counts) in rows {
            let label: Option<Vec<u8>> = labels.get(usize::from(id)).map(|l| l.to_vec());
            let start = index * bucket_ms;
            let DimensionCounts {
                requests: r,
                failed: f,
                slow: s,
                latency,
                causes,
                first_failed: first,
            } = counts;
            kind.push(name.clone());
            value.push(label.clone());
            bucket.push(start);
            requests.push(r as i64);
            failed.push(f as i64);
            slow.push(s as i64);
            first_failed.push(first);
            for (bin, count) in latency.counts().iter().enumerate() {
                if *count > 0 {
                    l_kind.push(name.clone());
                    l_value.push(label.clone());
                    l_bucket.push(start);
                    l_bin.push(bin as i64);
                    l_count.push(i64::from(*count));
                }
            }
            for (cause, count, code) in causes.entries() {
                c_kind.push(name.clone());
                c_value.push(label.clone());
                c_bucket.push(start);
                c_cause.push(cause as i64);
                c_name.push(TerminationCause::ALL[cause].name().to_string());
                c_count.push(i64::from(count));
                c_code.push(code.bytes().to_vec());
            }
        }
    }
    let dimensions = TableBuilder::default()
        .strs("kind", kind)
        .binaries_opt("value", value)
        .i64s("bucket", bucket)
        .i64s("requests", requests)
        .i64s("failed", failed)
        .i64s("slow", slow)
        .opt_i64s("first_failed", first_failed)
        .finish()?;
    let latency = TableBuilder::default()
        .strs("kind", l_kind)
        .binaries_opt("value", l_value)
        .i64s("bucket", l_bucket)
        .i64s("bin", l_bin)
        .i64s("count", l_count)
        .finish()?;
    let causes = TableBuilder::default()
        .strs("kind", c_kind)
        .binaries_opt("value", c_value)
        .i64s("bucket", c_bucket)
        .i64s("cause", c_cause)
        .strs("cause_name", c_name)
        .i64s("count", c_count)
        .binaries("code", c_code)
        .finish()?;
    Ok(vec![
        ("dimensions", dimensions),
        ("dimension_latency", latency),
        ("dimension_causes", causes),
    ])
}

/// The names of the heavy-hitter summaries in the `heavy` and `totals`
/// tables.
const CLIENT_4XX: &str = "client_4xx";
const BAD_PATH: &str = "bad_path";
/// All requests with a path: the traffic cells' total.
const PATH: &str = "path";

pub fn encode_summaries(
    partial: &Partial,
    bucket_ms: i64,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let mut heavy = HeavyColumns::default();
    let (mut t_summary, mut t_bucket, mut t_total) = (vec![], vec![], vec![]);
    let (mut p_bucket, mut p_cell, mut p_count) = (vec![], vec![], vec![]);
    for (index, summary) in partial.clients.sorted() {
        let start = index * bucket_ms;
        heavy.push(CLIENT_4XX, start, summary.live());
        t_summary.push(CLIENT_4XX.to_string());
        t_bucket.push(start);
        t_total.push(summary.total() as i64);
    }
    for (index, summary) in partial.paths.sorted() {
        let start = index * bucket_ms;
        heavy.push(BAD_PATH, start, summary.bad().live());
        for (name, total) in [
            (BAD_PATH, summary.bad().total()),
            (PATH, summary.all().total()),
        ] {
            t_summary.push(name.to_string());
            t_bucket.push(start);
            t_total.push(total as i64);
        }
        for (cell, count) in summary.all().cells().iter().enumerate() {
            if *count > 0 {
                p_bucket.push(start);
                p_cell.push(cell as i64);
                p_count.push(i64::from(*count));
            }
        }
    }
    let heavy = TableBuilder::default()
        .strs("summary", heavy.summary)
        .i64s("bucket", heavy.bucket)
        .binaries("key", heavy.key)
        .bools("truncated", heavy.truncated)
        .i64s("count", heavy.count)
        .i64s("first", heavy.first)
        .i64s("last", heavy.last)
        .finish()?;
    let totals = TableBuilder::default()
        .strs("summary", t_summary)
        .i64s("bucket", t_bucket)
        .i64s("total", t_total)
        .finish()?;
    let cells = TableBuilder::default()
        .i64s("bucket", p_bucket)
        .i64s("cell", p_cell)
        .i64s("count", p_count)
        .finish()?;
    Ok(vec![
        ("heavy", heavy),
        ("totals", totals),
        ("path_cells", cells),
    ])
}

#[derive(Default)]
struct HeavyColumns {
    summary: Vec<String>,
    bucket: Vec<i64>,
    key: Vec<Vec<u8>>,
    truncated: Vec<bool>,
    count: Vec<i64>,
    first: Vec<i64>,
    last: Vec<i64>,
}

impl HeavyColumns {
    fn push(
        &mut self,
        summary: &str,
        bucket: i64,
        counters: impl Iterator<Item = Counter<ByteKey>>,
    ) {
        let mut counters: Vec<Counter<ByteKey>> = counters.collect();
        counters.sort_by(|a, b| a.key.bytes().cmp(b.key.bytes()));
        for counter in counters {
            self.summary.push(summary.to_string());
            self.bucket.push(bucket);
            self.key.push(counter.key.bytes().to_vec());
            self.truncated.push(counter.key.is_truncated());
            self.count.push(counter.count as i64);
            self.first.push(counter.first);
            self.last.push(counter.last);
        }
    }
}

pub fn decode_dimensions<'a>(
    tables: &dyn Fn(&str) -> Result<&'a TableReader>,
    partial: &mut Partial,
    bucket_ms: i64,
) -> Result<()> {
    type Key = (String, Option<Vec<u8>>, i64);
    let mut counts: std::collections::BTreeMap<Key, DimensionCounts> =
        std::collections::BTreeMap::new();
    let t = tables("dimensions")?;
    let (kinds, values, starts) = (t.strs("kind")?, t.opt_binaries("value")?, t.i64s("bucket")?);
    let (requests, failed, slow) = (t.i64s("requests")?, t.i64s("failed")?, t.i64s("slow")?);
    let first_failed = t.opt_i64s("first_failed")?;
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        let entry = counts
            .entry((kinds[row].clone(), values[row].clone(), index))
            .or_default();
        entry.requests += unsigned::<u64>(t, "requests", row, requests[row])?;
        entry.failed += unsigned::<u64>(t, "failed", row, failed[row])?;
        entry.slow += unsigned::<u64>(t, "slow", row, slow[row])?;
        if let Some(first) = first_failed[row] {
            entry.first_failed = Some(entry.first_failed.map_or(first, |mine| mine.min(first)));
        }
    }
    let t = tables("dimension_latency")?;
    let (kinds, values, starts) = (t.strs("kind")?, t.opt_binaries("value")?, t.i64s("bucket")?);
    let (bins, bin_counts) = (t.i64s("bin")?, t.i64s("count")?);
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        let entry = counts
            .get_mut(&(kinds[row].clone(), values[row].clone(), index))
            .ok_or_else(|| {
                t.out_of_range(
                    "value",
                    row,
                    "a value without a row of the dimensions table",
                )
            })?;
        let bin: usize = unsigned(t, "bin", row, bins[row])?;
        if bin >= COARSE_BINS
            || !entry
                .latency
                .add_count(bin, unsigned(t, "count", row, bin_counts[row])?)
        {
            return Err(t.out_of_range("bin", row, bin));
        }
    }
    let t = tables("dimension_causes")?;
    let (kinds, values, starts) = (t.strs("kind")?, t.opt_binaries("value")?, t.i64s("bucket")?);
    let (causes, cause_counts, codes) = (t.i64s("cause")?, t.i64s("count")?, t.binaries("code")?);
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        let entry = counts
            .get_mut(&(kinds[row].clone(), values[row].clone(), index))
            .ok_or_else(|| {
                t.out_of_range(
                    "value",
                    row,
                    "a value without a row of the dimensions table",
                )
            })?;
        let cause: usize = unsigned(t, "cause", row, causes[row])?;
        if cause >= CAUSE_COUNT
            || !entry.causes.add_count(
                cause,
                unsigned(t, "count", row, cause_counts[row])?,
                VendorCode::new(&codes[row]),
            )
        {
            return Err(t.out_of_range("cause", row, cause));
        }
    }
    // Values are interned in label order, not the producer's: below
    // MAX_DIMENSION_VALUES values the finished series (sorted by label) is
    // the same.
    for ((kind, value, index), counts) in counts {
        let dimension = match kind.as_str() {
            k if k == DimensionKind::Upstream.name() => &mut partial.upstreams,
            k if k == DimensionKind::Host.name() => &mut partial.hosts,
            other => {
                return Err(Error::Usage(format!(
                    "{}: dimension kind '{other}' is not one this version knows (upstream, host): write the partial again with this version's `postmortem partial`",
                    t.path.display()
                )));
            }
        };
        dimension.absorb(index, value.as_deref(), counts);
    }
    Ok(())
}

pub fn decode_summaries<'a>(
    tables: &dyn Fn(&str) -> Result<&'a TableReader>,
    partial: &mut Partial,
    bucket_ms: i64,
) -> Result<()> {
    use std::collections::BTreeMap;
    let mut totals: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let t = tables("totals")?;
    let (names, starts, values) = (t.strs("summary")?, t.i64s("bucket")?, t.i64s("total")?);
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        totals.insert(
            (names[row].clone(), index),
            unsigned(t, "total", row, values[row])?,
        );
    }
    let mut counters: BTreeMap<(String, i64), Vec<Counter<ByteKey>>> = BTreeMap::new();
    let t = tables("heavy")?;
    let (names, starts, keys) = (t.strs("summary")?, t.i64s("bucket")?, t.binaries("key")?);
    let (truncated, counts, firsts, lasts) = (
        t.bools("truncated")?,
        t.i64s("count")?,
        t.i64s("first")?,
        t.i64s("last")?,
    );
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        counters
            .entry((names[row].clone(), index))
            .or_default()
            .push(Counter {
                key: ByteKey::from_parts(&keys[row], truncated[row]),
                count: unsigned(t, "count", row, counts[row])?,
                first: firsts[row],
                last: lasts[row],
            });
    }
    let mut cells: BTreeMap<i64, [u32; TRAFFIC_CELLS]> = BTreeMap::new();
    let t = tables("path_cells")?;
    let (starts, cell_column, counts) = (t.i64s("bucket")?, t.i64s("cell")?, t.i64s("count")?);
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        let cell: usize = unsigned(t, "cell", row, cell_column[row])?;
        let slot = cells
            .entry(index)
            .or_insert([0; TRAFFIC_CELLS])
            .get_mut(cell)
            .ok_or_else(|| t.out_of_range("cell", row, cell))?;
        *slot = unsigned(t, "count", row, counts[row])?;
    }
    let none: Vec<Counter<ByteKey>> = Vec::new();
    for ((name, index), total) in &totals {
        let live = counters.get(&(name.clone(), *index)).unwrap_or(&none);
        match name.as_str() {
            CLIENT_4XX => partial
                .clients
                .absorb(*index, ClientSummary::from_counters(*total, live)),
            PATH => {
                let bad_total = totals
                    .get(&(BAD_PATH.to_string(), *index))
                    .copied()
                    .unwrap_or(0);
                let bad_live = counters
                    .get(&(BAD_PATH.to_string(), *index))
                    .unwrap_or(&none);
                let bad =
                    HeavyHitters::<ByteKey, PATH_COUNTERS>::from_counters(bad_total, bad_live);
                let all = TrafficCells::from_cells(
                    cells.get(index).copied().unwrap_or([0; TRAFFIC_CELLS]),
                    *total,
                );
                partial
                    .paths
                    .absorb(*index, PathSummary::from_parts(bad, all));
            }
            BAD_PATH => {}
            other => {
                return Err(Error::Usage(format!(
                    "{}: summary '{other}' is not one this version knows ({CLIENT_4XX}, {BAD_PATH}, {PATH}): write the partial again with this version's `postmortem partial`",
                    t.path.display()
                )));
            }
        }
    }
    Ok(())
}
