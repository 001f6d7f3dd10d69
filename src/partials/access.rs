//! The access-log state of a partial as tables: every accumulator of a
//! [`Partial`] (buckets, latency bins, slow tails, slots, users, the
//! per-upstream and per-host dimensions, the heavy-hitter summaries of 4xx
//! clients and bad paths, the path traffic cells) written as rows
//! ([`encode`]) and folded back into a `Partial` ([`decode`]), so the
//! reduce step merges with [`Partial::merge`], the same merge the parsing
//! threads use. Bucket times are absolute (the bucket's start in epoch
//! ms); times inside a bucket are milliseconds after its start, null where
//! none was recorded. Column by column: docs/partials.md.

use datasketches::hll::HllSketch;
use polars::prelude::DataFrame;

use super::columns::{TableBuilder, TableReader, run_input, unsigned};
use super::summaries;
use crate::error::Result;
use crate::series::user_sketch::{UserSketch, empty_sketch};
use crate::series::{
    Bucket, LineRef, NONE_REL, Partial, SeriesBuilder, Slot, SlotTable, TailBin, UserSpan,
    UserSpans, slots_per_bucket,
};

pub use crate::series::user_sketch::{HLL_LG_K, HLL_TYPE};

/// The distinct-user sketch of one bucket's users: each user id (the
/// 64-bit key `--users` gives, docs/partials.md) updated as a signed
/// 64-bit integer, as DataSketches' `update(long)` and Spark's
/// `hll_sketch_agg` on a BIGINT column do.
pub fn users_sketch(users: &UserSpans) -> HllSketch {
    if let Some(sketched) = users.sketch() {
        return sketched.all_as_written();
    }
    let mut sketch = empty_sketch();
    for user in users.keys() {
        sketch.update(user as i64);
    }
    sketch
}

/// The tables of the access state, by name, in the order they are written.
pub struct AccessTables {
    pub tables: Vec<(&'static str, DataFrame)>,
}

/// A relative time as a nullable column value.
fn rel(value: u32) -> Option<i64> {
    (value != NONE_REL).then_some(i64::from(value))
}

fn line_input(line: LineRef) -> Option<i64> {
    line.get().map(|l| i64::from(l.input))
}

fn line_number(line: LineRef) -> Option<i64> {
    line.get().map(|l| l.line as i64)
}

/// Every table of `partial` (settled on the way: the buckets being filled
/// are moved into their tables).
pub fn encode(partial: &mut Partial) -> Result<AccessTables> {
    let bucket_ms = partial.bucket_ms();
    let mut tables = Vec::new();
    tables.extend(encode_series(&mut partial.buckets, bucket_ms)?);
    tables.extend(summaries::encode_dimensions(
        &mut [&mut partial.upstreams, &mut partial.hosts],
        bucket_ms,
    )?);
    tables.extend(summaries::encode_summaries(partial, bucket_ms)?);
    Ok(AccessTables { tables })
}

fn encode_series(
    series: &mut SeriesBuilder,
    bucket_ms: i64,
) -> Result<Vec<(&'static str, DataFrame)>> {
    let mut sorted: Vec<(i64, &Bucket)> = series.settled_buckets().collect();
    sorted.sort_unstable_by_key(|(index, _)| *index);

    let mut b = BucketColumns::default();
    let (mut lat_bucket, mut lat_bin, mut lat_count) = (vec![], vec![], vec![]);
    let mut tail = TailColumns::default();
    let mut slots = SlotColumns::default();
    let mut users = UserColumns::default();
    for (index, bucket) in sorted {
        let start = index * bucket_ms;
        // Destructured whole: a field added to `Bucket` and not written
        // here stops the build, not the merge.
        let Bucket {
            requests,
            failed,
            slow_at_ingest,
            status_classes,
            first_bad,
            last_bad,
            first_failed,
            last_failed,
            first_bad_line,
            last_bad_line,
            latency,
            slow_tail,
            slots: bucket_slots,
            users: bucket_users,
            failed_completed,
        } = bucket;
        b.bucket.push(start);
        b.requests.push(*requests as i64);
        b.failed.push(*failed as i64);
        b.slow_at_ingest.push(*slow_at_ingest as i64);
        b.failed_completed.push(*failed_completed as i64);
        for (column, count) in b.status.iter_mut().zip(status_classes) {
            column.push(*count as i64);
        }
        b.first_bad.push(rel(*first_bad));
        b.last_bad
            .push(rel(*first_bad).and(Some(i64::from(*last_bad))));
        b.first_failed.push(rel(*first_failed));
        b.last_failed
            .push(rel(*first_failed).and(Some(i64::from(*last_failed))));
        b.first_bad_input.push(line_input(*first_bad_line));
        b.first_bad_line.push(line_number(*first_bad_line));
        b.last_bad_input.push(line_input(*last_bad_line));
        b.last_bad_line.push(line_number(*last_bad_line));
        // A sketched bucket's `users` is the sketch's estimate: its users
        // are no longer held one by one (docs/partials.md).
        b.users.push(bucket_users.len() as i64);
        b.users_hll.push(users_sketch(bucket_users).serialize());
        let sketch = bucket_users.sketch();
        b.bad_users_hll
            .push(sketch.map(|sketch| sketch.bad_as_written().serialize()));
        b.users_sketched.push(sketch.is_some());
        b.users_first
            .push(sketch.and_then(|sketch| rel(sketch.first)));
        b.users_last
            .push(sketch.and_then(|sketch| rel(sketch.first).and(Some(i64::from(sketch.last)))));
        for (bin, count) in latency.bins() {
            lat_bucket.push(start);
            lat_bin.push(i64::from(bin));
            lat_count.push(i64::from(count));
        }
        tail.push(start, None, slow_tail.bins());
        for (at, slot) in bucket_slots.iter().enumerate() {
            let Slot {
                requests,
                failed,
                bad,
                first_failed,
                last_failed,
                slow,
            } = &*slot;
            if *requests == 0 {
                continue;
            }
            slots.bucket.push(start);
            slots.slot.push(at as i64);
            slots.requests.push(i64::from(*requests));
            slots.failed.push(i64::from(*failed));
            slots.bad.push(i64::from(*bad));
            slots.first_failed.push(rel(*first_failed));
            slots
                .last_failed
                .push(rel(*first_failed).and(Some(i64::from(*last_failed))));
            tail.push(start, Some(at as i64), slow.bins());
        }
        let mut sorted_users: Vec<(u64, UserSpan)> = bucket_users.iter().collect();
        sorted_users.sort_unstable_by_key(|(user, _)| *user);
        for (user, span) in sorted_users {
            let UserSpan {
                first,
                last,
                first_bad,
                last_bad,
                max_ok_latency_us,
                had_failed,
            } = span;
            users.bucket.push(start);
            users.user.push(user as i64);
            users.first.push(i64::from(first));
            users.last.push(i64::from(last));
            users.first_bad.push(rel(first_bad));
            users
                .last_bad
                .push(rel(first_bad).and(Some(i64::from(last_bad))));
            users.max_ok_latency_us.push(i64::from(max_ok_latency_us));
            users.had_failed.push(had_failed);
        }
    }
    let [s0, s1, s2, s3, s4, s5] = b.status;
    let buckets = TableBuilder::default()
        .i64s("bucket", b.bucket)
        .i64s("requests", b.requests)
        .i64s("failed", b.failed)
        .i64s("slow_at_ingest", b.slow_at_ingest)
        .i64s("failed_completed", b.failed_completed)
        .i64s("status_other", s0)
        .i64s("status_1xx", s1)
        .i64s("status_2xx", s2)
        .i64s("status_3xx", s3)
        .i64s("status_4xx", s4)
        .i64s("status_5xx", s5)
        .opt_i64s("first_bad_ms", b.first_bad)
        .opt_i64s("last_bad_ms", b.last_bad)
        .opt_i64s("first_failed_ms", b.first_failed)
        .opt_i64s("last_failed_ms", b.last_failed)
        .opt_i64s("first_bad_input", b.first_bad_input)
        .opt_i64s("first_bad_line", b.first_bad_line)
        .opt_i64s("last_bad_input", b.last_bad_input)
        .opt_i64s("last_bad_line", b.last_bad_line)
        .i64s("users", b.users)
        .binaries("users_hll", b.users_hll)
        .binaries_opt("bad_users_hll", b.bad_users_hll)
        .bools("users_sketched", b.users_sketched)
        .opt_i64s("users_first_ms", b.users_first)
        .opt_i64s("users_last_ms", b.users_last)
        .finish()?;
    let latency = TableBuilder::default()
        .i64s("bucket", lat_bucket)
        .i64s("bin", lat_bin)
        .i64s("count", lat_count)
        .finish()?;
    let slow_tail = TableBuilder::default()
        .i64s("bucket", tail.bucket)
        .opt_i64s("slot", tail.slot)
        .i64s("bin", tail.bin)
        .i64s("count", tail.count)
        .i64s("first_ms", tail.first)
        .i64s("last_ms", tail.last)
        .finish()?;
    let slots = TableBuilder::default()
        .i64s("bucket", slots.bucket)
        .i64s("slot", slots.slot)
        .i64s("requests", slots.requests)
        .i64s("failed", slots.failed)
        .i64s("bad", slots.bad)
        .opt_i64s("first_failed_ms", slots.first_failed)
        .opt_i64s("last_failed_ms", slots.last_failed)
        .finish()?;
    let users = TableBuilder::default()
        .i64s("bucket", users.bucket)
        .i64s("user", users.user)
        .i64s("first_ms", users.first)
        .i64s("last_ms", users.last)
        .opt_i64s("first_bad_ms", users.first_bad)
        .opt_i64s("last_bad_ms", users.last_bad)
        .i64s("max_ok_latency_us", users.max_ok_latency_us)
        .bools("had_failed", users.had_failed)
        .finish()?;
    Ok(vec![
        ("buckets", buckets),
        ("latency", latency),
        ("slow_tail", slow_tail),
        ("slots", slots),
        ("users", users),
    ])
}

#[derive(Default)]
struct BucketColumns {
    bucket: Vec<i64>,
    requests: Vec<i64>,
    failed: Vec<i64>,
    slow_at_ingest: Vec<i64>,
    failed_completed: Vec<i64>,
    status: [Vec<i64>; 6],
    first_bad: Vec<Option<i64>>,
    last_bad: Vec<Option<i64>>,
    first_failed: Vec<Option<i64>>,
    last_failed: Vec<Option<i64>>,
    first_bad_input: Vec<Option<i64>>,
    first_bad_line: Vec<Option<i64>>,
    last_bad_input: Vec<Option<i64>>,
    last_bad_line: Vec<Option<i64>>,
    users: Vec<i64>,
    users_hll: Vec<Vec<u8>>,
    /// The sketch of the users with a bad request, for a sketched bucket.
    bad_users_hll: Vec<Option<Vec<u8>>>,
    users_sketched: Vec<bool>,
    /// A sketched bucket's earliest and latest arrival (relative ms),
    /// which its exact spans gave.
    users_first: Vec<Option<i64>>,
    users_last: Vec<Option<i64>>,
}

#[derive(Default)]
struct TailColumns {
    bucket: Vec<i64>,
    slot: Vec<Option<i64>>,
    bin: Vec<i64>,
    count: Vec<i64>,
    first: Vec<i64>,
    last: Vec<i64>,
}

impl TailColumns {
    fn push(&mut self, bucket: i64, slot: Option<i64>, bins: &[(u16, TailBin)]) {
        for (bin, value) in bins {
            self.bucket.push(bucket);
            self.slot.push(slot);
            self.bin.push(i64::from(*bin));
            self.count.push(i64::from(value.count));
            self.first.push(i64::from(value.first));
            self.last.push(i64::from(value.last));
        }
    }
}

#[derive(Default)]
struct SlotColumns {
    bucket: Vec<i64>,
    slot: Vec<i64>,
    requests: Vec<i64>,
    failed: Vec<i64>,
    bad: Vec<i64>,
    first_failed: Vec<Option<i64>>,
    last_failed: Vec<Option<i64>>,
}

#[derive(Default)]
struct UserColumns {
    bucket: Vec<i64>,
    user: Vec<i64>,
    first: Vec<i64>,
    last: Vec<i64>,
    first_bad: Vec<Option<i64>>,
    last_bad: Vec<Option<i64>>,
    max_ok_latency_us: Vec<i64>,
    had_failed: Vec<bool>,
}

/// The bucket index of the bucket starting at `start`, which must be a
/// multiple of the bucket width.
pub(super) fn index_of(table: &TableReader, row: usize, start: i64, bucket_ms: i64) -> Result<i64> {
    if start.rem_euclid(bucket_ms) != 0 {
        return Err(table.out_of_range("bucket", row, start));
    }
    Ok(start.div_euclid(bucket_ms))
}

fn rel_back(table: &TableReader, name: &str, row: usize, value: Option<i64>) -> Result<u32> {
    match value {
        None => Ok(NONE_REL),
        Some(v) => unsigned::<u32>(table, name, row, v),
    }
}

fn line_back(
    table: &TableReader,
    row: usize,
    input: Option<i64>,
    line: Option<i64>,
    inputs: &[u32],
) -> Result<LineRef> {
    match (input, line) {
        (Some(input), Some(line)) => Ok(LineRef {
            input: run_input(table, "input", row, input, inputs)?,
            line: unsigned::<u64>(table, "line", row, line)?,
        }),
        _ => Ok(LineRef::NONE),
    }
}

/// The access state of one producer read back into a [`Partial`] of
/// `bucket_ms` and `ingest_slow_us`; the producer's input `i` of a line
/// is the run's input `inputs[i]`.
///
/// `exact_users_bytes` is the reduce step's budget of users held one by
/// one (`--exact-users-mb`): past it, the producer's buckets switch to
/// sketches as a run's do. A bucket the producer wrote sketched
/// (`users_sketched`) is read as sketches, and the `users` rows of that
/// bucket (a Spark merge of sketched and exact splits has both) are folded
/// into them.
pub fn decode<'a>(
    tables: &dyn Fn(&str) -> Result<&'a TableReader>,
    bucket_ms: i64,
    ingest_slow_us: u64,
    inputs: &[u32],
    exact_users_bytes: u64,
) -> Result<Partial> {
    let mut partial = Partial::new(bucket_ms, ingest_slow_us);
    partial.set_exact_users_bytes(exact_users_bytes);
    let bucket_ms = partial.bucket_ms();
    let slots_per = slots_per_bucket(bucket_ms);
    let mut buckets: rustc_hash::FxHashMap<i64, Bucket> = rustc_hash::FxHashMap::default();

    let t = tables("buckets")?;
    let starts = t.i64s("bucket")?;
    let requests = t.i64s("requests")?;
    let failed = t.i64s("failed")?;
    let slow = t.i64s("slow_at_ingest")?;
    let completed = t.i64s("failed_completed")?;
    let status: Vec<Vec<i64>> = [
        "status_other",
        "status_1xx",
        "status_2xx",
        "status_3xx",
        "status_4xx",
        "status_5xx",
    ]
    .iter()
    .map(|name| t.i64s(name))
    .collect::<Result<_>>()?;
    let first_bad = t.opt_i64s("first_bad_ms")?;
    let last_bad = t.opt_i64s("last_bad_ms")?;
    let first_failed = t.opt_i64s("first_failed_ms")?;
    let last_failed = t.opt_i64s("last_failed_ms")?;
    let fb_input = t.opt_i64s("first_bad_input")?;
    let fb_line = t.opt_i64s("first_bad_line")?;
    let lb_input = t.opt_i64s("last_bad_input")?;
    let lb_line = t.opt_i64s("last_bad_line")?;
    // Absent from partials written before sketched buckets were carried,
    // and from the SQL queries' output: every bucket exact.
    let sketched = t.optional("users_sketched", TableReader::opt_bools)?;
    let all_users_hll = t.optional("users_hll", TableReader::opt_binaries)?;
    let bad_users_hll = t.optional("bad_users_hll", TableReader::opt_binaries)?;
    let users_first = t.optional("users_first_ms", TableReader::opt_i64s)?;
    let users_last = t.optional("users_last_ms", TableReader::opt_i64s)?;
    for row in 0..t.height() {
        let index = index_of(t, row, starts[row], bucket_ms)?;
        let mut status_classes = [0u64; 6];
        for (class, column) in status.iter().enumerate() {
            status_classes[class] = unsigned(t, "status", row, column[row])?;
        }
        let bucket_requests: u64 = unsigned(t, "requests", row, requests[row])?;
        let bucket = Bucket {
            requests: bucket_requests,
            failed: unsigned(t, "failed", row, failed[row])?,
            slow_at_ingest: unsigned(t, "slow_at_ingest", row, slow[row])?,
            failed_completed: unsigned(t, "failed_completed", row, completed[row])?,
            status_classes,
            first_bad: rel_back(t, "first_bad_ms", row, first_bad[row])?,
            last_bad: last_back(t, "last_bad_ms", row, last_bad[row])?,
            first_failed: rel_back(t, "first_failed_ms", row, first_failed[row])?,
            last_failed: last_back(t, "last_failed_ms", row, last_failed[row])?,
            first_bad_line: line_back(t, row, fb_input[row], fb_line[row], inputs)?,
            last_bad_line: line_back(t, row, lb_input[row], lb_line[row], inputs)?,
            slots: if bucket_requests > 0 {
                SlotTable::with_len(slots_per)
            } else {
                SlotTable::default()
            },
            users: if sketched[row] == Some(true) {
                UserSpans::Sketched(Box::new(UserSketch {
                    all: read_sketch(t, "users_hll", row, all_users_hll[row].as_deref())?,
                    bad: read_sketch(t, "bad_users_hll", row, bad_users_hll[row].as_deref())?,
                    first: rel_back(t, "users_first_ms", row, users_first[row])?,
                    last: last_back(t, "users_last_ms", row, users_last[row])?,
                }))
            } else {
                UserSpans::default()
            },
            ..Bucket::default()
        };
        buckets.insert(index, bucket);
    }
    let bucket_at = |buckets: &mut rustc_hash::FxHashMap<i64, Bucket>,
                     t: &TableReader,
                     row: usize,
                     start: i64|
     -> Result<i64> {
        let index = index_of(t, row, start, bucket_ms)?;
        if buckets.contains_key(&index) {
            Ok(index)
        } else {
            Err(t.out_of_range(
                "bucket",
                row,
                format!("{start} (no row of the buckets table)"),
            ))
        }
    };

    let t = tables("latency")?;
    let (starts, bins, counts) = (t.i64s("bucket")?, t.i64s("bin")?, t.i64s("count")?);
    for row in 0..t.height() {
        let index = bucket_at(&mut buckets, t, row, starts[row])?;
        let bin: u16 = unsigned(t, "bin", row, bins[row])?;
        let count: u32 = unsigned(t, "count", row, counts[row])?;
        if let Some(bucket) = buckets.get_mut(&index) {
            bucket.latency.add_bin(bin, count);
        }
    }

    let t = tables("slots")?;
    let starts = t.i64s("bucket")?;
    let slot_column = t.i64s("slot")?;
    let (requests, failed, bad) = (t.i64s("requests")?, t.i64s("failed")?, t.i64s("bad")?);
    let (first_failed, last_failed) = (
        t.opt_i64s("first_failed_ms")?,
        t.opt_i64s("last_failed_ms")?,
    );
    for row in 0..t.height() {
        let index = bucket_at(&mut buckets, t, row, starts[row])?;
        let at: usize = unsigned(t, "slot", row, slot_column[row])?;
        let slot = buckets
            .get_mut(&index)
            .and_then(|bucket| bucket.slots.get_mut(at))
            .ok_or_else(|| t.out_of_range("slot", row, at))?;
        slot.requests = unsigned(t, "requests", row, requests[row])?;
        slot.failed = unsigned(t, "failed", row, failed[row])?;
        slot.bad = unsigned(t, "bad", row, bad[row])?;
        slot.first_failed = rel_back(t, "first_failed_ms", row, first_failed[row])?;
        slot.last_failed = last_back(t, "last_failed_ms", row, last_failed[row])?;
    }

    let t = tables("slow_tail")?;
    let starts = t.i64s("bucket")?;
    let slot_column = t.opt_i64s("slot")?;
    let (bins, counts, firsts, lasts) = (
        t.i64s("bin")?,
        t.i64s("count")?,
        t.i64s("first_ms")?,
        t.i64s("last_ms")?,
    );
    for row in 0..t.height() {
        let index = bucket_at(&mut buckets, t, row, starts[row])?;
        let bin: u16 = unsigned(t, "bin", row, bins[row])?;
        let value = TailBin {
            count: unsigned(t, "count", row, counts[row])?,
            first: unsigned(t, "first_ms", row, firsts[row])?,
            last: unsigned(t, "last_ms", row, lasts[row])?,
        };
        let Some(bucket) = buckets.get_mut(&index) else {
            continue;
        };
        match slot_column[row] {
            None => bucket.slow_tail.add_bin(bin, value),
            Some(at) => {
                let at: usize = unsigned(t, "slot", row, at)?;
                bucket
                    .slots
                    .get_mut(at)
                    .ok_or_else(|| t.out_of_range("slot", row, at))?
                    .slow
                    .add_bin(bin, value);
            }
        }
    }

    let t = tables("users")?;
    let starts = t.i64s("bucket")?;
    let users = t.i64s("user")?;
    let (firsts, lasts) = (t.i64s("first_ms")?, t.i64s("last_ms")?);
    let (first_bad, last_bad) = (t.opt_i64s("first_bad_ms")?, t.opt_i64s("last_bad_ms")?);
    let max_ok = t.i64s("max_ok_latency_us")?;
    let had_failed = t.bools("had_failed")?;
    let mut spans: rustc_hash::FxHashMap<i64, Vec<(u64, UserSpan)>> =
        rustc_hash::FxHashMap::default();
    for row in 0..t.height() {
        let index = bucket_at(&mut buckets, t, row, starts[row])?;
        let span = UserSpan {
            first: unsigned(t, "first_ms", row, firsts[row])?,
            last: unsigned(t, "last_ms", row, lasts[row])?,
            first_bad: rel_back(t, "first_bad_ms", row, first_bad[row])?,
            last_bad: last_back(t, "last_bad_ms", row, last_bad[row])?,
            max_ok_latency_us: unsigned(t, "max_ok_latency_us", row, max_ok[row])?,
            had_failed: had_failed[row],
        };
        spans
            .entry(index)
            .or_default()
            .push((users[row] as u64, span));
    }
    for (index, mut users) in spans {
        users.sort_unstable_by_key(|(user, _)| *user);
        users.dedup_by_key(|(user, _)| *user);
        let Some(bucket) = buckets.get_mut(&index) else {
            continue;
        };
        match &mut bucket.users {
            UserSpans::Sketched(sketch) => {
                for (user, span) in &users {
                    sketch.add_span(*user, span);
                }
            }
            _ => bucket.users = UserSpans::Settled(users),
        }
    }
    partial.buckets.absorb(buckets.into_iter().collect());

    summaries::decode_dimensions(tables, &mut partial, bucket_ms)?;
    summaries::decode_summaries(tables, &mut partial, bucket_ms)?;
    Ok(partial)
}

/// A sketch of a sketched bucket's row, which must be there and be a
/// DataSketches HLL sketch.
fn read_sketch(
    table: &TableReader,
    name: &str,
    row: usize,
    bytes: Option<&[u8]>,
) -> Result<HllSketch> {
    let bytes = bytes.ok_or_else(|| {
        table.out_of_range(
            name,
            row,
            "null in a bucket whose users_sketched is true (its users are this sketch)",
        )
    })?;
    HllSketch::deserialize(bytes).map_err(|error| {
        table.out_of_range(
            name,
            row,
            format!(
                "{} bytes that are not a DataSketches HLL sketch ({error})",
                bytes.len()
            ),
        )
    })
}

/// A nullable relative time read back for a "last" field, whose value
/// without a time is 0 (as the accumulators start it).
fn last_back(table: &TableReader, name: &str, row: usize, value: Option<i64>) -> Result<u32> {
    match value {
        None => Ok(0),
        Some(v) => unsigned::<u32>(table, name, row, v),
    }
}
