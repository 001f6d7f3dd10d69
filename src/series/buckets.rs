//! Per-bucket accumulators: the only thing the pipeline keeps of an access log.
//!
//! Every request is folded into the [`Bucket`] of its arrival time. A bucket
//! holds counts, a latency histogram, per-slot counts for sub-bucket
//! precision, and one [`UserSpan`] per distinct user. Buckets merge
//! associatively ([`Bucket::merge`], [`SeriesBuilder::merge`]), so chunks,
//! threads, files and hosts are partials combined in any grouping with the same
//! result. Memory grows with the number of buckets and of distinct users per
//! bucket, never with the number of lines.
//!
//! Slowness needs a threshold that, by default, depends on the baseline p99,
//! which is only known after the whole log is read. Requests are therefore
//! classified at ingest against the *ingest threshold* (the `--slow` value, or
//! 1 s, the smallest default the contract allows), and the latencies of
//! successful requests above it are kept in a [`SlowTail`] so a larger
//! threshold can be applied afterwards.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

pub use super::latency::{
    LatencyHistogram, SlowTail, TailBin, latency_bin, latency_bin_floor, snap_threshold_us,
};
pub use super::slots::{Slot, SlotTable, SlotView};
use super::user_sketch::{default_exact_users_budget, users_for_bytes};
pub use super::users::{UserSpan, UserSpans, UserSpansIter};
use crate::timefmt::Millis;

/// Sub-bucket slots per bucket: 60 gives one-second resolution with the
/// default one-minute bucket, and finer slots with narrower buckets.
pub const SLOTS_PER_BUCKET: usize = 60;

/// The widest slot of a wider bucket: one second, the resolution of most
/// access-log times, so an hour bucket still finds an incident's edges and
/// counts to the same second as a minute bucket (the bucket width changes
/// the series, never the edges), at the same memory per hour of log.
pub const MAX_SLOT_MS: i64 = 1_000;

/// ...up to this many slots a bucket (one hour of one-second slots): a
/// day bucket gets 24-second slots rather than 86,400 of them.
pub const MAX_SLOTS_PER_BUCKET: usize = 3_600;

/// Slots of a bucket `bucket_ms` wide: [`SLOTS_PER_BUCKET`] up to one
/// minute, then one a second up to [`MAX_SLOTS_PER_BUCKET`].
pub fn slots_per_bucket(bucket_ms: i64) -> usize {
    let by_second = (bucket_ms / MAX_SLOT_MS).max(0) as usize;
    by_second.clamp(SLOTS_PER_BUCKET, MAX_SLOTS_PER_BUCKET)
}

/// The slot of relative time `rel_ms` in a bucket of `bucket_ms` split in
/// `slots` slots (the one formula ingest and detection share).
#[inline]
pub fn slot_index(rel_ms: i64, bucket_ms: i64, slots: usize) -> usize {
    let slot = (rel_ms.max(0) * slots as i64 / bucket_ms.max(1)) as usize;
    slot.min(slots.saturating_sub(1))
}

/// The first and last millisecond of the slot holding `at` in buckets
/// `bucket_ms` wide (at least [`SLOTS_PER_BUCKET`] ms, as a series widens
/// them), which start at multiples of the width: the span
/// [`SeriesSet::slot_span`] gives, known before any series exists.
pub fn slot_span_at(at: Millis, bucket_ms: i64) -> (Millis, Millis) {
    let bucket_ms = bucket_ms.max(SLOTS_PER_BUCKET as i64);
    let bucket_start = at.div_euclid(bucket_ms) * bucket_ms;
    let slots = slots_per_bucket(bucket_ms) as i64;
    let slot = slot_index(at - bucket_start, bucket_ms, slots as usize) as i64;
    // As `SeriesSet::slot_span`: slot `s` starts at `ceil(s * bucket_ms / slots)`.
    let first_rel = |s: i64| (s * bucket_ms + slots - 1) / slots;
    let last_rel = if slot + 1 >= slots {
        bucket_ms - 1
    } else {
        first_rel(slot + 1) - 1
    };
    (bucket_start + first_rel(slot), bucket_start + last_rel)
}

/// A bucket ending this long before the latest request's is packed
/// ([`Bucket::pack`]): a request arriving that far back (one that took
/// longer than the usual 60 s proxy timeout, or a line out of order) opens
/// it again, which is correct, only slower. The same horizon as the parsing
/// workers hand buckets over at (`ingest::worker::HAND_OVER_AFTER_MS`).
pub const PACK_AFTER_MS: i64 = 5 * 60_000;

/// A bucket ending this long before the latest request's has its users
/// packed ([`Bucket::pack_users`]): later than the rest, because merging
/// into packed users decodes and encodes every user of the bucket, and the
/// parsing threads hand over shares of the same minute for as long as
/// they read chunks of it (packed at five minutes, a plain file's minute
/// was packed seven times and the report took 3.7% more instructions).
pub const PACK_USERS_AFTER_MS: i64 = 30 * 60_000;

/// The smallest slow threshold the contract's default can produce (1 s).
pub const MIN_DEFAULT_SLOW_US: u64 = 1_000_000;

/// "No time recorded" for the relative-millisecond fields.
pub const NONE_REL: u32 = u32::MAX;

/// Where a line is: the index of its input in the run and its 1-based line
/// number (relative to the partial that saw it until partials are appended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineRef {
    pub input: u32,
    pub line: u64,
}

impl LineRef {
    pub const NONE: LineRef = LineRef {
        input: u32::MAX,
        line: u64::MAX,
    };

    pub fn get(self) -> Option<LineRef> {
        (self != LineRef::NONE).then_some(self)
    }
}

/// Everything kept about the requests that arrived in one bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub requests: u64,
    pub failed: u64,
    /// Successful requests slower than the ingest threshold.
    pub slow_at_ingest: u64,
    /// Requests with 1xx..5xx status, by class; index 0 holds anything else.
    pub status_classes: [u64; 6],
    /// First and last bad request at the ingest threshold (relative ms).
    pub first_bad: u32,
    pub last_bad: u32,
    pub first_failed: u32,
    pub last_failed: u32,
    /// The lines of the first and last bad request (ties: the earlier line).
    pub first_bad_line: LineRef,
    pub last_bad_line: LineRef,
    pub latency: LatencyHistogram,
    pub slow_tail: SlowTail,
    pub slots: SlotTable,
    pub users: UserSpans,
    /// Failed requests whose line was written in this bucket: completed
    /// (arrival plus request time; the arrival where the log has no request
    /// time) in it, whichever bucket they arrived in. An alert sees a
    /// request when its line is written, so the burn-rate replay counts
    /// failures here, not at arrival (a request that hangs 60 s and fails
    /// is invisible to any alert for those 60 s).
    pub failed_completed: u64,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            requests: 0,
            failed: 0,
            slow_at_ingest: 0,
            status_classes: [0; 6],
            first_bad: NONE_REL,
            last_bad: 0,
            first_failed: NONE_REL,
            last_failed: 0,
            first_bad_line: LineRef::NONE,
            last_bad_line: LineRef::NONE,
            latency: LatencyHistogram::default(),
            slow_tail: SlowTail::default(),
            slots: SlotTable::default(),
            users: UserSpans::default(),
            failed_completed: 0,
        }
    }
}

/// One request as the series sees it: no log text, only numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestFacts {
    pub arrival: Millis,
    pub status: u16,
    pub duration_us: Option<u64>,
    pub user: u64,
    /// Where the request was logged.
    pub line: LineRef,
}

/// Whether a status counts as failed: 5xx, or 499 (the client gave up).
#[inline]
pub fn is_failed_status(status: u16) -> bool {
    status >= 500 || status == 499
}

impl Bucket {
    /// The counts of one of the bucket's slots ([`slots_per_bucket`]); zero
    /// for a bucket without requests, whose slots are never allocated (a
    /// sparse log spanning months is mostly such buckets).
    pub fn slot(&self, index: usize) -> Cow<'_, Slot> {
        self.slots.get(index)
    }

    /// Packs the latency histogram and the slots of a bucket nothing will
    /// be added to for a while (adding opens them again).
    pub fn pack(&mut self) {
        self.latency.pack();
        self.slots.pack();
    }

    /// Packs the bucket's users ([`UserSpans::pack`]), at
    /// [`PACK_USERS_AFTER_MS`]; a late request opens them again.
    pub fn pack_users(&mut self) {
        self.users.pack();
    }

    fn record(
        &mut self,
        facts: &RequestFacts,
        rel_ms: u32,
        (slot, slots): (usize, usize),
        ingest_slow_us: u64,
    ) {
        self.requests += 1;
        let class = usize::from(facts.status / 100);
        self.status_classes[if (1..=5).contains(&class) { class } else { 0 }] += 1;
        let failed = is_failed_status(facts.status);
        let mut slow = false;
        if let Some(duration) = facts.duration_us {
            self.latency.add(duration);
            if !failed && duration > ingest_slow_us {
                slow = true;
                self.slow_at_ingest += 1;
                self.slow_tail.add(duration, rel_ms);
            }
        }
        let bad = failed || slow;
        let slot_table = self.slots.open(slots);
        let last_slot = slot_table.len().saturating_sub(1);
        if let Some(slot_counts) = slot_table.get_mut(slot.min(last_slot)) {
            slot_counts.requests += 1;
            if slow && let Some(duration) = facts.duration_us {
                slot_counts.slow.add(duration, rel_ms);
            }
            if failed {
                slot_counts.failed += 1;
                slot_counts.first_failed = slot_counts.first_failed.min(rel_ms);
                slot_counts.last_failed = slot_counts.last_failed.max(rel_ms);
            }
            slot_counts.bad += u32::from(bad);
        }
        if failed {
            self.failed += 1;
            self.first_failed = self.first_failed.min(rel_ms);
            self.last_failed = self.last_failed.max(rel_ms);
        }
        if bad {
            if (rel_ms, facts.line) < (self.first_bad, self.first_bad_line) {
                self.first_bad = rel_ms;
                self.first_bad_line = facts.line;
            }
            if (rel_ms, std::cmp::Reverse(facts.line))
                > (self.last_bad, std::cmp::Reverse(self.last_bad_line))
            {
                self.last_bad = rel_ms;
                self.last_bad_line = facts.line;
            }
        }
        self.users
            .record(facts.user, rel_ms, bad, failed, facts.duration_us);
    }

    /// Adds `other` (the same bucket seen by another partial) into `self`.
    pub fn merge(&mut self, other: &Bucket) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.slow_at_ingest += other.slow_at_ingest;
        for (mine, theirs) in self.status_classes.iter_mut().zip(other.status_classes) {
            *mine += theirs;
        }
        if (other.first_bad, other.first_bad_line) < (self.first_bad, self.first_bad_line) {
            self.first_bad = other.first_bad;
            self.first_bad_line = other.first_bad_line;
        }
        if other.last_bad_line != LineRef::NONE
            && (self.last_bad_line == LineRef::NONE
                || (other.last_bad, std::cmp::Reverse(other.last_bad_line))
                    > (self.last_bad, std::cmp::Reverse(self.last_bad_line)))
        {
            self.last_bad = other.last_bad;
            self.last_bad_line = other.last_bad_line;
        }
        self.first_failed = self.first_failed.min(other.first_failed);
        self.last_failed = self.last_failed.max(other.last_failed);
        self.latency.merge(&other.latency);
        self.slow_tail.merge(&other.slow_tail);
        if !other.slots.is_empty() {
            let mine = self.slots.open(other.slots.len());
            for (mine, theirs) in mine.iter_mut().zip(other.slots.iter()) {
                mine.requests += theirs.requests;
                mine.failed += theirs.failed;
                mine.bad += theirs.bad;
                mine.first_failed = mine.first_failed.min(theirs.first_failed);
                mine.last_failed = mine.last_failed.max(theirs.last_failed);
                mine.slow.merge(&theirs.slow);
            }
        }
        self.users.merge(&other.users);
        self.failed_completed += other.failed_completed;
    }

    /// Relative time as an option.
    pub fn rel(value: u32) -> Option<u32> {
        (value != NONE_REL).then_some(value)
    }
}

/// Sparse, mergeable bucket map built while reading; turned into a dense
/// [`SeriesSet`] once everything is read.
#[derive(Clone, Debug)]
pub struct SeriesBuilder {
    bucket_ms: i64,
    ingest_slow_us: u64,
    /// Boxed, as [`super::heavy::PerBucket`]'s summaries: a table that
    /// doubles holds both sizes at once, and a sparse month's 43,200
    /// buckets would cost twice their size in a table of ~300-byte entries.
    buckets: FxHashMap<i64, Box<Bucket>>,
    /// The bucket the previous request fell into: consecutive lines almost
    /// always share it, so the map is only searched when it changes.
    current: Option<(i64, Bucket)>,
    /// Where `current` starts (ms): a request inside it needs no division
    /// to find its bucket.
    current_start_ms: i64,
    /// [`slots_per_bucket`] of the width, computed once.
    slots: usize,
    /// The largest bucket index seen.
    latest: Option<i64>,
    /// Buckets this many before `latest` are packed ([`PACK_AFTER_MS`]).
    open_behind: i64,
    /// Buckets stashed open, to pack once `latest` has moved far enough
    /// past them (a handful: those within [`PACK_AFTER_MS`] of it).
    open_stashed: Vec<i64>,
    /// Buckets this many before `latest` have their users packed
    /// ([`PACK_USERS_AFTER_MS`]).
    users_open_behind: i64,
    /// Buckets stashed with their users not packed (those within
    /// [`PACK_USERS_AFTER_MS`] of `latest`).
    users_stashed: Vec<i64>,
    /// The most users the buckets may hold one by one before every bucket
    /// switches to sketches ([`super::user_sketch`]).
    exact_users_budget: usize,
    /// At least the users the stashed buckets hold one by one: checked
    /// against the budget by counting only when it passes it.
    exact_users_bound: usize,
    /// Whether every bucket's users are sketches: once switched, buckets
    /// that come in are sketched too, so a series is all exact or all
    /// sketched.
    users_sketched: bool,
}

/// Buckets a bucket must end before the latest one to be `ms` behind it
/// (rounded up, and the latest bucket itself counted).
fn buckets_behind(ms: i64, bucket_ms: i64) -> i64 {
    (ms + bucket_ms - 1) / bucket_ms + 1
}

/// Whether bucket `index` is `behind` buckets or more before `latest`.
fn is_behind(index: i64, behind: i64, latest: i64) -> bool {
    index.saturating_add(behind) <= latest
}

/// Packs with `pack` the buckets listed in `stashed` that end `behind`
/// buckets or more before `latest`, and takes them off the list.
fn pack_settled(
    stashed: &mut Vec<i64>,
    buckets: &mut FxHashMap<i64, Box<Bucket>>,
    latest: i64,
    behind: i64,
    pack: fn(&mut Bucket),
) {
    stashed.retain(|&index| {
        if !is_behind(index, behind, latest) {
            return true;
        }
        if let Some(bucket) = buckets.get_mut(&index) {
            pack(bucket);
        }
        false
    });
}

impl SeriesBuilder {
    pub fn new(bucket_ms: i64, ingest_slow_us: u64) -> Self {
        let bucket_ms = bucket_ms.max(SLOTS_PER_BUCKET as i64);
        SeriesBuilder {
            bucket_ms,
            ingest_slow_us,
            buckets: FxHashMap::default(),
            current: None,
            current_start_ms: 0,
            slots: slots_per_bucket(bucket_ms),
            latest: None,
            open_behind: buckets_behind(PACK_AFTER_MS, bucket_ms),
            open_stashed: Vec::new(),
            users_open_behind: buckets_behind(PACK_USERS_AFTER_MS, bucket_ms),
            users_stashed: Vec::new(),
            exact_users_budget: default_exact_users_budget(),
            exact_users_bound: 0,
            users_sketched: false,
        }
    }

    /// Sets the memory the exact user spans may take, in bytes.
    pub fn set_exact_users_bytes(&mut self, bytes: u64) {
        self.exact_users_budget = users_for_bytes(bytes);
        self.enforce_users_budget();
    }

    /// Whether the buckets' users are sketches.
    pub fn users_sketched(&self) -> bool {
        self.users_sketched
    }

    /// Switches every bucket to sketches when the users held one by one
    /// pass the budget. Whether a run ends sketched depends only on its
    /// distinct (bucket, user) pairs, not on how its input was split: a
    /// builder only ever holds a subset of the run's pairs, and the run's
    /// last builder is checked.
    fn enforce_users_budget(&mut self) {
        if self.users_sketched || self.exact_users_bound <= self.exact_users_budget {
            return;
        }
        let held: usize = self
            .buckets
            .values()
            .map(|bucket| &**bucket)
            .chain(self.current.as_ref().map(|(_, bucket)| bucket))
            .map(|bucket| bucket.users.exact_len())
            .sum();
        self.exact_users_bound = held;
        if held > self.exact_users_budget {
            self.sketch_users();
        }
    }

    /// Turns every bucket's users into sketches, for good.
    fn sketch_users(&mut self) {
        self.users_sketched = true;
        self.exact_users_bound = 0;
        self.switch_buckets_to_sketch();
        if let Some((_, bucket)) = &mut self.current {
            bucket.users.switch_to_sketch();
        }
    }

    /// Turns the stored buckets' users into sketches, packed where the
    /// bucket is [`PACK_USERS_AFTER_MS`] behind the latest, as
    /// [`SeriesBuilder::stash`] leaves a bucket sketched from the start.
    /// (Unpacked, the buckets sketched at the switch kept HLL_8 sketches
    /// for good, 4 KiB where HLL_4 takes 2 KiB: one host's week peaked at
    /// 72.0 MB of heap, 69.3 MB packed.)
    fn switch_buckets_to_sketch(&mut self) {
        let (latest, behind) = (self.latest, self.users_open_behind);
        for (&index, bucket) in &mut self.buckets {
            bucket.users.switch_to_sketch();
            if latest.is_some_and(|latest| is_behind(index, behind, latest)) {
                bucket.pack_users();
            }
        }
    }

    pub fn bucket_ms(&self) -> i64 {
        self.bucket_ms
    }

    pub fn ingest_slow_us(&self) -> u64 {
        self.ingest_slow_us
    }

    /// Folds one request into its bucket.
    #[inline]
    pub fn record(&mut self, facts: &RequestFacts) {
        let arrival = facts.arrival;
        let in_current = arrival.wrapping_sub(self.current_start_ms);
        let (index, rel) = match &self.current {
            Some((index, _)) if (0..self.bucket_ms).contains(&in_current) => (*index, in_current),
            _ => {
                let index = arrival.div_euclid(self.bucket_ms);
                (index, arrival - index * self.bucket_ms)
            }
        };
        let slots = self.slots;
        let slot = slot_index(rel, self.bucket_ms, slots);
        let ingest_slow_us = self.ingest_slow_us;
        let bucket_ms = self.bucket_ms;
        let bucket = self.bucket_for(index);
        bucket.record(facts, rel as u32, (slot, slots), ingest_slow_us);
        if is_failed_status(facts.status) {
            let took_ms = facts.duration_us.map_or(0, |us| (us / 1_000) as i64);
            // Written in the bucket it arrived in unless it ran past the
            // bucket's end: no division for the common failure.
            if rel.saturating_add(took_ms) < bucket_ms {
                bucket.failed_completed += 1;
            } else {
                let completed = arrival.saturating_add(took_ms).div_euclid(bucket_ms);
                // Another bucket than the one being filled: counted in the
                // map, so the current bucket stays the one consecutive
                // lines share. A bucket holding only such counts has no
                // requests and is left out of the series' range
                // ([`SeriesBuilder::finish`]).
                self.buckets.entry(completed).or_default().failed_completed += 1;
            }
        }
    }

    fn bucket_for(&mut self, index: i64) -> &mut Bucket {
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            self.advance_latest(Some(index));
            if let Some((old_index, old)) = self.current.take() {
                self.stash(old_index, old);
            }
            // Not sized up front from the last bucket: a large table from the
            // first request is colder in cache and folding got slower
            // (BENCHMARKS.md, "tried and dropped").
            let bucket = self
                .buckets
                .remove(&index)
                .map_or_else(Bucket::default, |bucket| *bucket);
            self.current = Some((index, bucket));
            self.current_start_ms = index.saturating_mul(self.bucket_ms);
        }
        match &mut self.current {
            Some((_, bucket)) => bucket,
            None => unreachable!("current bucket was just set"),
        }
    }

    fn stash(&mut self, index: i64, mut bucket: Bucket) {
        if bucket.users.sketch().is_some() && !self.users_sketched {
            self.sketch_users();
        }
        if self.users_sketched {
            bucket.users.switch_to_sketch();
        } else {
            self.exact_users_bound = self
                .exact_users_bound
                .saturating_add(bucket.users.exact_len());
        }
        let settled = self.is_settled(index);
        let users_settled = self.is_users_settled(index);
        if settled {
            bucket.pack();
        }
        let stashed = match self.buckets.get_mut(&index) {
            Some(existing) => {
                existing.merge(&bucket);
                if settled {
                    existing.pack();
                }
                existing
            }
            None => self.buckets.entry(index).or_insert(Box::new(bucket)),
        };
        if users_settled {
            stashed.pack_users();
        }
        // A bucket the requests go back and forth between (arrivals just
        // either side of its end) is stashed again and again: listed once.
        if !settled && !self.open_stashed.contains(&index) {
            self.open_stashed.push(index);
        }
        if !users_settled && !self.users_stashed.contains(&index) {
            self.users_stashed.push(index);
        }
        self.enforce_users_budget();
    }

    /// Whether bucket `index` ended [`PACK_AFTER_MS`] before the latest.
    fn is_settled(&self, index: i64) -> bool {
        self.latest
            .is_some_and(|latest| is_behind(index, self.open_behind, latest))
    }

    /// Whether bucket `index` ended [`PACK_USERS_AFTER_MS`] before the
    /// latest.
    fn is_users_settled(&self, index: i64) -> bool {
        self.latest
            .is_some_and(|latest| is_behind(index, self.users_open_behind, latest))
    }

    /// Moves the latest bucket index to `index` if later, and packs the
    /// stashed buckets that settles.
    fn advance_latest(&mut self, index: Option<i64>) {
        if index <= self.latest {
            return;
        }
        self.latest = index;
        self.pack_behind_latest();
    }

    /// Packs the stashed buckets far enough behind the latest.
    fn pack_behind_latest(&mut self) {
        let Some(latest) = self.latest else {
            return;
        };
        pack_settled(
            &mut self.open_stashed,
            &mut self.buckets,
            latest,
            self.open_behind,
            Bucket::pack,
        );
        pack_settled(
            &mut self.users_stashed,
            &mut self.buckets,
            latest,
            self.users_open_behind,
            Bucket::pack_users,
        );
    }

    fn settle(&mut self) {
        if let Some((index, bucket)) = self.current.take() {
            self.stash(index, bucket);
        }
    }

    /// Combines another partial (another chunk, thread, file or host).
    pub fn merge(&mut self, mut other: SeriesBuilder) {
        self.settle();
        other.settle();
        self.advance_latest(other.latest);
        self.exact_users_budget = self.exact_users_budget.min(other.exact_users_budget);
        if other.users_sketched && !self.users_sketched {
            self.sketch_users();
        }
        if self.buckets.len() < other.buckets.len() {
            std::mem::swap(&mut self.buckets, &mut other.buckets);
            std::mem::swap(&mut self.exact_users_bound, &mut other.exact_users_bound);
            // The lists of buckets not packed yet go with the buckets (ours
            // are stashed again below and listed as they need).
            std::mem::swap(&mut self.open_stashed, &mut other.open_stashed);
            std::mem::swap(&mut self.users_stashed, &mut other.users_stashed);
            if self.users_sketched {
                self.switch_buckets_to_sketch();
            }
            // Listed against the other's latest, which may be earlier.
            self.pack_behind_latest();
        }
        for (index, bucket) in other.buckets {
            self.stash(index, *bucket);
        }
    }

    /// Rewrites the line numbers of input `input` with `real_line`: parser
    /// threads record provisional numbers that sort like the real ones and
    /// are translated once every chunk's line count is known.
    pub fn remap_lines(&mut self, input: u32, real_line: impl Fn(u64) -> u64) {
        self.settle();
        let remap = |line: &mut LineRef| {
            if line.input == input && *line != LineRef::NONE {
                line.line = real_line(line.line);
            }
        };
        for bucket in self.buckets.values_mut() {
            remap(&mut bucket.first_bad_line);
            remap(&mut bucket.last_bad_line);
        }
    }

    /// The latest bucket index a request fell into, if any.
    pub fn latest_index(&self) -> Option<i64> {
        self.latest
    }

    /// Takes out the buckets before `index` (not the one being filled),
    /// settled, so a parser thread can hand buckets it is done with to the
    /// run's total and keep only the recent ones.
    pub fn take_before(&mut self, index: i64) -> Vec<(i64, Bucket)> {
        let old: Vec<i64> = self
            .buckets
            .keys()
            .copied()
            .filter(|&i| i < index)
            .collect();
        old.into_iter()
            .filter_map(|i| {
                let mut bucket = *self.buckets.remove(&i)?;
                bucket.users.settle();
                bucket.pack();
                Some((i, bucket))
            })
            .collect()
    }

    /// Adds buckets taken from another builder of the same bucket width.
    pub fn absorb(&mut self, buckets: Vec<(i64, Bucket)>) {
        for (index, bucket) in buckets {
            self.advance_latest(Some(index));
            self.stash(index, bucket);
        }
    }

    /// Every bucket with a request, settled, in no particular order (what
    /// a partial file keeps; [`SeriesBuilder::absorb`] takes them back).
    pub fn settled_buckets(&mut self) -> impl Iterator<Item = (i64, &Bucket)> {
        self.settle_users();
        self.buckets
            .iter()
            .map(|(index, bucket)| (*index, &**bucket))
    }

    /// Settles every bucket's users (see [`UserSpans`]).
    pub fn settle_users(&mut self) {
        self.settle();
        for bucket in self.buckets.values_mut() {
            bucket.users.settle();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.current.is_none()
    }

    /// The first and last bucket index holding a request.
    pub fn index_range(&mut self) -> Option<(i64, i64)> {
        self.settle();
        let first = self.buckets.keys().min()?;
        let last = self.buckets.keys().max()?;
        Some((*first, *last))
    }

    /// Re-buckets every bucket at `wider_ms` (a multiple of the width):
    /// `add_share` adds a bucket, whose start lies the given offset into
    /// its wide bucket, to that wide bucket (created empty).
    pub(super) fn widen(&mut self, wider_ms: i64, add_share: impl Fn(&mut Bucket, Bucket, i64)) {
        self.settle();
        let factor = (wider_ms / self.bucket_ms).max(1);
        let old_ms = self.bucket_ms;
        self.bucket_ms = old_ms * factor;
        self.latest = self.latest.map(|index| index.div_euclid(factor));
        self.open_behind = buckets_behind(PACK_AFTER_MS, self.bucket_ms);
        self.open_stashed.clear();
        self.users_open_behind = buckets_behind(PACK_USERS_AFTER_MS, self.bucket_ms);
        self.users_stashed.clear();
        // In time order, so each wide bucket is filled by consecutive
        // shares and packed before the next opens: only one is open at a
        // time (a sparse month's 5-minute buckets would otherwise all hold
        // 300 open slots at once).
        let mut narrow: Vec<(i64, Box<Bucket>)> =
            std::mem::take(&mut self.buckets).into_iter().collect();
        narrow.sort_unstable_by_key(|(index, _)| *index);
        let mut wide: FxHashMap<i64, Box<Bucket>> = FxHashMap::default();
        let mut filling: Option<(i64, Box<Bucket>)> = None;
        for (index, bucket) in narrow {
            let at = index.div_euclid(factor);
            let offset_ms = (index - at * factor) * old_ms;
            let target = match &mut filling {
                Some((filling_at, target)) if *filling_at == at => target,
                _ => {
                    if let Some((done_at, mut done)) = filling.take() {
                        done.pack();
                        done.pack_users();
                        wide.insert(done_at, done);
                    }
                    &mut filling.insert((at, Box::default())).1
                }
            };
            add_share(target, *bucket, offset_ms);
        }
        if let Some((done_at, mut done)) = filling {
            done.pack();
            done.pack_users();
            wide.insert(done_at, done);
        }
        self.buckets = wide;
    }

    /// How many buckets `wider_ms` wide would hold a request, and the
    /// slots the buckets hold now.
    pub fn occupancy_at(&self, wider_ms: i64) -> (usize, usize) {
        let all = || {
            self.buckets
                .iter()
                .map(|(i, b)| (i, &**b))
                .chain(self.current.as_ref().map(|(i, b)| (i, b)))
        };
        let mut wide: Vec<i64> = all()
            .map(|(index, _)| (index * self.bucket_ms).div_euclid(wider_ms.max(1)))
            .collect();
        wide.sort_unstable();
        wide.dedup();
        let slots = all().map(|(_, bucket)| bucket.slots.len()).sum();
        (wide.len(), slots)
    }

    /// The dense series from the first to the last non-empty bucket.
    /// `max_buckets` guards against a stray timestamp years away turning into
    /// millions of empty buckets.
    pub fn finish(mut self, max_buckets: usize) -> Result<SeriesSet, SeriesTooLong> {
        self.settle();
        self.enforce_users_budget();
        // The range is that of the arrivals: a bucket that only counts
        // failures completed in it after the last arrival is no part of the
        // log's span (its count goes with it: no replay runs past the log).
        let arrivals = || {
            self.buckets
                .iter()
                .filter(|(_, b)| b.requests > 0)
                .map(|(&index, _)| index)
        };
        let (Some(first), Some(last)) = (arrivals().min(), arrivals().max()) else {
            return Ok(SeriesSet {
                start: 0,
                bucket_ms: self.bucket_ms,
                ingest_slow_us: self.ingest_slow_us,
                buckets: Vec::new(),
            });
        };
        let len = (last - first + 1) as usize;
        if len > max_buckets {
            return Err(SeriesTooLong {
                first: first * self.bucket_ms,
                last: last * self.bucket_ms,
                buckets: len,
            });
        }
        let mut buckets = vec![Bucket::default(); len];
        for (index, mut bucket) in self.buckets {
            if (first..=last).contains(&index) {
                bucket.pack();
                bucket.pack_users();
                buckets[(index - first) as usize] = *bucket;
            }
        }
        Ok(SeriesSet {
            start: first * self.bucket_ms,
            bucket_ms: self.bucket_ms,
            ingest_slow_us: self.ingest_slow_us,
            buckets,
        })
    }
}

/// The requests span more buckets than the run allows.
#[derive(Debug, Clone, Copy)]
pub struct SeriesTooLong {
    pub first: Millis,
    pub last: Millis,
    pub buckets: usize,
}

/// The dense per-bucket series of all access logs of a run.
#[derive(Clone, Debug)]
pub struct SeriesSet {
    /// Start of the first bucket.
    pub start: Millis,
    pub bucket_ms: i64,
    pub ingest_slow_us: u64,
    pub buckets: Vec<Bucket>,
}

impl SeriesSet {
    /// Whether the buckets' users are sketches, not spans (a run whose
    /// spans passed their memory budget, [`super::user_sketch`]).
    pub fn users_sketched(&self) -> bool {
        self.buckets
            .iter()
            .any(|bucket| bucket.users.sketch().is_some())
    }

    pub fn bucket_start(&self, index: usize) -> Millis {
        self.start + index as i64 * self.bucket_ms
    }

    /// Bucket index holding `at`, clamped to the series.
    pub fn index_of(&self, at: Millis) -> usize {
        let index = (at - self.start).div_euclid(self.bucket_ms);
        index.clamp(0, self.buckets.len().saturating_sub(1) as i64) as usize
    }

    /// Absolute time of a relative time in bucket `index`.
    pub fn absolute(&self, index: usize, rel: u32) -> Millis {
        self.bucket_start(index) + i64::from(rel)
    }

    /// The first and last millisecond of the slot holding `at` (which must
    /// lie in the series): the finest span the series counts requests in.
    pub fn slot_span(&self, at: Millis) -> (Millis, Millis) {
        let index = self.index_of(at);
        let bucket_start = self.bucket_start(index);
        let slots = self.slots_per_bucket() as i64;
        let slot = self.slot_of((at - bucket_start).clamp(0, self.bucket_ms - 1) as u32) as i64;
        // Slot `s` holds the relative times whose `rel * slots / bucket_ms`
        // is `s` ([`slot_index`]): from `ceil(s * bucket_ms / slots)` on.
        let first_rel = |s: i64| (s * self.bucket_ms + slots - 1) / slots;
        let last_rel = if slot + 1 >= slots {
            self.bucket_ms - 1
        } else {
            first_rel(slot + 1) - 1
        };
        (bucket_start + first_rel(slot), bucket_start + last_rel)
    }

    /// Slots of each bucket ([`slots_per_bucket`]).
    pub fn slots_per_bucket(&self) -> usize {
        slots_per_bucket(self.bucket_ms)
    }

    /// The slot holding relative time `rel_ms` of a bucket.
    pub fn slot_of(&self, rel_ms: u32) -> usize {
        slot_index(i64::from(rel_ms), self.bucket_ms, self.slots_per_bucket())
    }

    /// Total requests.
    pub fn total_requests(&self) -> u64 {
        self.buckets.iter().map(|b| b.requests).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_second_from_minute_buckets_up() {
        let cases = [
            ("7 s bucket: sixty slots of 116.7 ms", 7_000, 60, 6_999, 59),
            ("30 s bucket: sixty half seconds", 30_000, 60, 29_500, 59),
            ("1 min: sixty seconds", 60_000, 60, 59_999, 59),
            ("5 min: 300 seconds", 300_000, 300, 1_250, 1),
            ("1 h: 3,600 seconds", 3_600_000, 3_600, 1_799_999, 1_799),
            ("1 d: 3,600 slots of 24 s", 86_400_000, 3_600, 47_999, 1),
        ];
        for (name, bucket_ms, slots, rel, slot) in cases {
            assert_eq!(slots_per_bucket(bucket_ms), slots, "{name}");
            assert_eq!(slot_index(rel, bucket_ms, slots), slot, "{name}");
        }
    }

    #[test]
    fn a_slot_span_holds_exactly_the_times_of_its_slot() {
        // (name, bucket width, a time after the bucket's start, its slot's span)
        let cases = [
            ("1 min: the second", 60_000, 7_450, (7_000, 7_999)),
            ("1 min: the last second", 60_000, 59_999, (59_000, 59_999)),
            ("7 s: a slot of 116.7 ms", 7_000, 120, (117, 233)),
            ("7 s: the last slot", 7_000, 6_999, (6_884, 6_999)),
            ("1 d: 24 s", 86_400_000, 30_000, (24_000, 47_999)),
        ];
        for (name, bucket_ms, rel, (first, last)) in cases {
            let series = SeriesSet {
                start: 1_715_076_000_000,
                bucket_ms,
                ingest_slow_us: 1_000_000,
                buckets: vec![Bucket::default(); 2],
            };
            let at = series.start + bucket_ms + rel;
            let span = series.slot_span(at);
            let base = series.start + bucket_ms;
            assert_eq!(span, (base + first, base + last), "{name}");
            let slot = series.slot_of(rel as u32);
            for edge in [span.0, span.1] {
                assert_eq!(series.slot_of((edge - base) as u32), slot, "{name}: {edge}");
            }
            if first > 0 {
                assert_ne!(series.slot_of((first - 1) as u32), slot, "{name}: before");
            }
        }
    }

    #[test]
    fn a_slot_keeps_its_failures_and_slow_requests_at_any_threshold() {
        let mut builder = SeriesBuilder::new(300_000, 1_000_000);
        let request = |arrival: Millis, status: u16, duration_us: u64| RequestFacts {
            arrival,
            status,
            duration_us: Some(duration_us),
            user: 1,
            line: LineRef::NONE,
        };
        // Three requests in the second 10:00:07 of a five-minute bucket.
        let second = 1_715_076_007_000;
        builder.record(&request(second + 100, 200, 1_500_000));
        builder.record(&request(second + 400, 503, 2_000));
        builder.record(&request(second + 900, 200, 3_000_000));
        let series = builder.finish(10).expect("one bucket");
        assert_eq!(series.slots_per_bucket(), 300);
        let slot = series.buckets[0].slot(7);
        let at_ingest = slot.view(1_000_000, 1_000_000);
        assert_eq!(
            (at_ingest.requests, at_ingest.failed, at_ingest.slow),
            (3, 1, 2)
        );
        assert_eq!(at_ingest.failed_span, Some((7_400, 7_400)));
        assert_eq!(at_ingest.bad_span(), Some((7_100, 7_900)));
        let above_two = snap_threshold_us(2_000_000);
        let at_two = slot.view(above_two, 1_000_000);
        assert_eq!(at_two.slow, 1, "only the 3 s request is slower");
        assert_eq!(at_two.bad_span(), Some((7_400, 7_900)));
    }

    fn facts(arrival: Millis, status: u16, duration_ms: u64, user: u64) -> RequestFacts {
        RequestFacts {
            arrival,
            status,
            duration_us: Some(duration_ms * 1000),
            user,
            line: LineRef {
                input: 0,
                line: arrival as u64,
            },
        }
    }

    /// Whether a series ends sketched depends on its distinct (bucket,
    /// user) pairs against the budget, not on how the requests were split,
    /// and the sketches' estimate is the same either way.
    #[test]
    fn the_switch_to_sketches_does_not_depend_on_the_split() {
        // 3 buckets; user u is seen in bucket u % 3 and again in the next
        // bucket when u is even: 100 users give 150 (bucket, user) pairs.
        let requests: Vec<RequestFacts> = (0..100u64)
            .flat_map(|u| {
                let at = (u % 3) as i64 * 60_000 + u as i64;
                let again = (u % 2 == 0).then(|| facts(at + 60_000, 502, 5, u));
                std::iter::once(facts(at, 200, 5, u)).chain(again)
            })
            .collect();
        let pairs = 150;
        let cases = [
            ("under the budget", pairs, false),
            ("one over", pairs - 1, true),
            ("none allowed", 0, true),
        ];
        for (name, budget_users, sketched) in cases {
            let bytes = budget_users as u64 * super::super::user_sketch::USER_SPAN_ENTRY_BYTES;
            let builder = || {
                let mut builder = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
                builder.set_exact_users_bytes(bytes);
                builder
            };
            let mut whole = builder();
            requests.iter().for_each(|r| whole.record(r));
            let (mut left, mut right) = (builder(), builder());
            for (n, request) in requests.iter().enumerate() {
                if n % 3 == 0 {
                    left.record(request)
                } else {
                    right.record(request)
                }
            }
            left.merge(right);
            let whole = whole.finish(100).expect("short");
            let merged = left.finish(100).expect("short");
            assert_eq!(whole.users_sketched(), sketched, "{name}: whole");
            assert_eq!(merged.users_sketched(), sketched, "{name}: split");
            assert_eq!(whole.buckets, merged.buckets, "{name}");
            let users: Vec<usize> = merged.buckets.iter().map(|b| b.users.len()).collect();
            // 34 + 33 + 33 users first seen, plus the even ones again in the
            // next bucket (17 + 16 + 17, the last bucket's go to a fourth).
            assert_eq!(whole.buckets.len(), 4, "{name}");
            let exact = [34, 33 + 17, 33 + 16, 17];
            for (got, want) in users.iter().zip(exact) {
                // HLL's list mode counts a few dozen ids exactly.
                assert_eq!(*got, want, "{name}: users per bucket {users:?}");
            }
        }
    }

    /// `requests` folded into `len` one-minute buckets directly, never
    /// packed: what a packed series must equal.
    fn never_packed(requests: &[RequestFacts], len: usize) -> Vec<Bucket> {
        let minute = 60_000;
        let mut buckets = vec![Bucket::default(); len];
        for request in requests {
            let index = request.arrival.div_euclid(minute);
            let rel = request.arrival - index * minute;
            let slot = slot_index(rel, minute, SLOTS_PER_BUCKET);
            buckets[index as usize].record(
                request,
                rel as u32,
                (slot, SLOTS_PER_BUCKET),
                MIN_DEFAULT_SLOW_US,
            );
        }
        buckets
    }

    /// A bucket is packed once the requests have moved [`PACK_AFTER_MS`]
    /// past it, opened again by a late request, and the series is the same
    /// as if nothing had been packed.
    #[test]
    fn settled_buckets_are_packed_and_reopened_by_late_requests() {
        let minute = 60_000;
        let requests = [
            facts(1_000, 200, 20, 1),
            facts(2_000, 502, 30, 2),
            facts(minute + 5, 200, 2_500, 1),
            // Ten minutes on: the first two buckets are settled.
            facts(10 * minute, 200, 10, 3),
            // A request that took 9 minutes arrives in the first bucket.
            facts(3_000, 504, 540_000, 4),
            facts(10 * minute + 1, 200, 10, 3),
        ];
        let mut builder = SeriesBuilder::new(minute, MIN_DEFAULT_SLOW_US);
        requests[..4].iter().for_each(|r| builder.record(r));
        builder.settle();
        let packed = |builder: &SeriesBuilder, index: i64| {
            builder
                .buckets
                .get(&index)
                .map(|b| (b.latency.is_packed(), b.slots.is_packed()))
        };
        assert_eq!(
            packed(&builder, 0),
            Some((true, true)),
            "first minute settled"
        );
        assert_eq!(
            packed(&builder, 1),
            Some((true, true)),
            "second minute settled"
        );
        assert_eq!(
            packed(&builder, 10),
            Some((false, false)),
            "the latest stays open"
        );
        requests[4..].iter().for_each(|r| builder.record(r));
        builder.settle();
        assert_eq!(
            packed(&builder, 0),
            Some((true, true)),
            "packed again once the late request is in"
        );
        let series = builder.finish(100).expect("short");
        let first = &series.buckets[0];
        assert_eq!((first.requests, first.failed), (3, 2));
        assert_eq!(first.slot(3).failed, 1, "the late request's slot");
        assert_eq!(first.latency.count(), 3);
        // The same requests into buckets never packed.
        let unpacked = never_packed(&requests, 11);
        for (index, bucket) in series.buckets.iter().enumerate() {
            let want = &unpacked[index];
            assert_eq!(bucket.latency, want.latency, "bucket {index}");
            assert_eq!(bucket.slots, want.slots, "bucket {index}");
            assert_eq!(
                (bucket.requests, bucket.failed),
                (want.requests, want.failed),
                "bucket {index}"
            );
        }
    }

    #[test]
    fn buckets_sketched_at_the_switch_are_packed_as_if_sketched_from_the_start() {
        let minute = 60_000;
        let mut builder = SeriesBuilder::new(minute, MIN_DEFAULT_SLOW_US);
        // Two users in minute 0, one in minute 10, one in minute 40: minute
        // 0's users are packed (40 minutes behind), minute 10's not yet.
        for request in [
            facts(1_000, 200, 20, 1),
            facts(2_000, 502, 30, 2),
            facts(10 * minute, 200, 10, 3),
            facts(40 * minute, 200, 10, 4),
        ] {
            builder.record(&request);
        }
        builder.settle();
        // No memory for exact users: every bucket switches to sketches.
        builder.set_exact_users_bytes(0);
        assert!(builder.users_sketched(), "switched");
        let sketch = |index: i64| {
            builder
                .buckets
                .get(&index)
                .and_then(|bucket| bucket.users.sketch())
                .map(|sketch| (sketch.is_packed(), sketch.estimate()))
        };
        assert_eq!(
            sketch(0),
            Some((true, 2)),
            "forty minutes behind: packed, both users"
        );
        assert_eq!(sketch(10), Some((false, 1)), "thirty minutes behind: open");
    }

    #[test]
    fn users_are_packed_half_an_hour_on_and_reopened_by_late_requests() {
        let minute = 60_000;
        let requests = [
            facts(1_000, 200, 20, 1),
            facts(2_000, 502, 30, 2),
            facts(10 * minute, 200, 10, 3),
            // Forty minutes on: the first minute's users are packed, the
            // tenth's (30 minutes and one bucket back) not yet.
            facts(40 * minute, 200, 10, 5),
            // A late request of a known user and one of a new user.
            facts(59_000, 200, 700, 1),
            facts(3_000, 504, 50, 4),
            facts(40 * minute + 1, 200, 10, 5),
        ];
        let is_packed = |builder: &SeriesBuilder, index: i64| {
            builder
                .buckets
                .get(&index)
                .map(|b| matches!(b.users, UserSpans::Packed(_)))
        };
        let mut builder = SeriesBuilder::new(minute, MIN_DEFAULT_SLOW_US);
        requests[..3].iter().for_each(|r| builder.record(r));
        builder.settle();
        assert_eq!(
            is_packed(&builder, 0),
            Some(false),
            "ten minutes on: histograms packed, users not"
        );
        builder.record(&requests[3]);
        builder.settle();
        assert_eq!(is_packed(&builder, 0), Some(true), "forty minutes on");
        assert_eq!(is_packed(&builder, 10), Some(false), "thirty minutes on");
        requests[4..].iter().for_each(|r| builder.record(r));
        builder.settle();
        assert_eq!(
            is_packed(&builder, 0),
            Some(true),
            "packed again once the late requests are in"
        );
        let series = builder.finish(100).expect("short");
        assert!(
            series
                .buckets
                .iter()
                .filter(|b| b.requests > 0)
                .all(|b| matches!(b.users, UserSpans::Packed(_))),
            "finished: every bucket with requests packed"
        );
        // The same requests into buckets never packed.
        let unpacked = never_packed(&requests, 41);
        for (index, bucket) in series.buckets.iter().enumerate() {
            assert_eq!(bucket.users, unpacked[index].users, "bucket {index}");
        }
        let first = &series.buckets[0].users;
        assert_eq!(first.len(), 3, "users 1, 2 and the late 4");
        assert_eq!(
            first.get(1).map(|span| (span.first, span.last)),
            Some((1_000, 59_000))
        );
        assert_eq!(first.get(4).map(|span| span.had_failed), Some(true));
    }

    #[test]
    fn merging_partials_equals_one_pass() {
        let requests = [
            facts(0, 200, 20, 1),
            facts(30_000, 502, 60_000, 2),
            facts(59_999, 200, 1500, 1),
            facts(60_000, 404, 10, 3),
            facts(125_000, 499, 10, 3),
        ];
        let mut whole = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        requests.iter().for_each(|r| whole.record(r));
        let mut left = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        let mut right = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        requests[..2].iter().for_each(|r| left.record(r));
        requests[2..].iter().for_each(|r| right.record(r));
        left.merge(right);
        let whole = whole.finish(100).expect("short");
        let merged = left.finish(100).expect("short");
        assert_eq!(whole.buckets, merged.buckets);
        assert_eq!(whole.buckets.len(), 3);
        let first = &whole.buckets[0];
        assert_eq!(
            (first.requests, first.failed, first.slow_at_ingest),
            (3, 1, 1)
        );
        assert_eq!((first.first_bad, first.last_bad), (30_000, 59_999));
        assert_eq!(first.users.len(), 2);
        assert_eq!(whole.buckets[1].failed, 0, "404 is not failed");
        assert_eq!(whole.buckets[2].failed, 1, "499 is failed");
        let completed: Vec<u64> = whole.buckets.iter().map(|b| b.failed_completed).collect();
        assert_eq!(
            completed,
            [0, 1, 1],
            "the 502 that took 60 s from 0:30 was written at 1:30"
        );
    }

    #[test]
    fn a_failure_completed_after_the_last_arrival_leaves_the_range_alone() {
        let mut builder = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        builder.record(&facts(10_000, 200, 20, 1));
        builder.record(&facts(50_000, 504, 120_000, 2));
        let series = builder.finish(100).expect("short");
        assert_eq!(series.buckets.len(), 1, "arrivals span one bucket");
        assert_eq!(series.buckets[0].failed, 1);
        assert_eq!(
            series.buckets[0].failed_completed, 0,
            "written at 2:50, past the log"
        );
    }

    #[test]
    fn handing_old_buckets_over_equals_one_pass() {
        // Five minutes of requests, two users, some bad, one late arrival
        // for a bucket already handed over.
        let mut requests: Vec<RequestFacts> = (0..300)
            .map(|i| {
                facts(
                    i * 1_000,
                    if i % 7 == 0 { 503 } else { 200 },
                    20,
                    i as u64 % 3,
                )
            })
            .collect();
        requests.push(facts(30_500, 499, 10, 42));
        let mut whole = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        requests.iter().for_each(|r| whole.record(r));
        let mut worker = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        let mut total = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        for (at, request) in requests.iter().enumerate() {
            worker.record(request);
            if at % 50 == 49 {
                let index = worker.latest_index().expect("recorded");
                total.absorb(worker.take_before(index - 1));
            }
        }
        worker.settle_users();
        total.merge(worker);
        let whole = whole.finish(100).expect("short");
        let total = total.finish(100).expect("short");
        assert_eq!(total.buckets.len(), 5);
        assert_eq!(whole.buckets, total.buckets);
        assert_eq!(
            total.buckets[0].users.len(),
            4,
            "the late user is in bucket 0"
        );
        assert!(
            total
                .buckets
                .iter()
                .all(|b| matches!(b.users, UserSpans::Packed(_))),
            "finished buckets are packed"
        );
    }

    #[test]
    fn far_apart_timestamps_are_refused_not_allocated() {
        let mut builder = SeriesBuilder::new(60_000, MIN_DEFAULT_SLOW_US);
        builder.record(&facts(0, 200, 1, 1));
        builder.record(&facts(400 * 86_400_000, 200, 1, 1));
        assert!(builder.finish(1000).is_err());
    }
}
