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

use rustc_hash::FxHashMap;

use crate::timefmt::Millis;

/// Sub-bucket slots per bucket: 60 gives one-second resolution with the
/// default one-minute bucket.
pub const SLOTS_PER_BUCKET: usize = 60;

/// The smallest slow threshold the contract's default can produce (1 s).
pub const MIN_DEFAULT_SLOW_US: u64 = 1_000_000;

/// "No time recorded" for the relative-millisecond fields.
const NONE_REL: u32 = u32::MAX;

/// Index of a log-linear histogram bin: values below 64 µs get a bin each,
/// larger values 64 bins per power of two, so a bin's width is at most 1/64
/// of its lower bound (relative error of the midpoint below 0.8%, as in
/// HdrHistogram with two significant binary digits... six bits here).
#[inline]
pub fn latency_bin(micros: u64) -> u16 {
    if micros < 64 {
        micros as u16
    } else {
        let exponent = 63 - micros.leading_zeros();
        let sub = (micros >> (exponent - 6)) & 63;
        ((exponent - 5) * 64 + sub as u32) as u16
    }
}

/// Smallest value of bin `bin`.
pub fn latency_bin_floor(bin: u16) -> u64 {
    let bin = u64::from(bin);
    if bin < 64 {
        bin
    } else {
        let exponent = bin / 64 + 5;
        (64 + bin % 64) << (exponent - 6)
    }
}

/// A mergeable log-linear latency histogram (microseconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyHistogram {
    first_bin: u16,
    counts: Vec<u32>,
    total: u64,
}

impl LatencyHistogram {
    #[inline]
    pub fn add(&mut self, micros: u64) {
        self.add_bin(latency_bin(micros), 1);
    }

    fn add_bin(&mut self, bin: u16, count: u32) {
        if self.counts.is_empty() {
            self.first_bin = bin;
            self.counts.push(0);
        } else if bin < self.first_bin {
            let grow = usize::from(self.first_bin - bin);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_bin = bin;
        }
        let slot = usize::from(bin - self.first_bin);
        if slot >= self.counts.len() {
            self.counts.resize(slot + 1, 0);
        }
        self.counts[slot] = self.counts[slot].saturating_add(count);
        self.total += u64::from(count);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (offset, &count) in other.counts.iter().enumerate() {
            if count > 0 {
                self.add_bin(other.first_bin + offset as u16, count);
            }
        }
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q`-quantile (0..=1) in microseconds: the midpoint of the bin that
    /// holds it, `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (offset, &count) in self.counts.iter().enumerate() {
            seen += u64::from(count);
            if seen >= rank {
                let bin = self.first_bin + offset as u16;
                let low = latency_bin_floor(bin) as f64;
                let high = latency_bin_floor(bin + 1) as f64;
                return Some(if bin < 64 { low } else { (low + high) / 2.0 });
            }
        }
        None
    }
}

/// First and last time and count of successful requests slower than the
/// ingest threshold, per latency bin, so a larger slow threshold can be
/// applied after the baseline is known. Bins are those of [`latency_bin`]
/// applied to `latency - 1`, so bin `k` holds latencies in
/// `(floor(k), floor(k + 1)]` and "slower than `floor(k)`" is exactly the
/// bins from `k` up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlowTail {
    bins: Vec<(u16, TailBin)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailBin {
    pub count: u32,
    pub first: u32,
    pub last: u32,
}

impl SlowTail {
    fn add(&mut self, micros: u64, rel_ms: u32) {
        self.add_bin(
            latency_bin(micros.saturating_sub(1)),
            TailBin {
                count: 1,
                first: rel_ms,
                last: rel_ms,
            },
        );
    }

    fn add_bin(&mut self, bin: u16, value: TailBin) {
        match self.bins.binary_search_by_key(&bin, |(b, _)| *b) {
            Ok(at) => {
                let existing = &mut self.bins[at].1;
                existing.count = existing.count.saturating_add(value.count);
                existing.first = existing.first.min(value.first);
                existing.last = existing.last.max(value.last);
            }
            Err(at) => self.bins.insert(at, (bin, value)),
        }
    }

    fn merge(&mut self, other: &SlowTail) {
        for &(bin, value) in &other.bins {
            self.add_bin(bin, value);
        }
    }

    /// Count, first and last relative time of requests slower than
    /// `threshold_us`, which must be a bin floor (see [`snap_threshold_us`]).
    pub fn above(&self, threshold_us: u64) -> TailBin {
        let from_bin = latency_bin(threshold_us);
        let mut result = TailBin {
            count: 0,
            first: NONE_REL,
            last: 0,
        };
        for (bin, value) in &self.bins {
            if *bin >= from_bin {
                result.count += value.count;
                result.first = result.first.min(value.first);
                result.last = result.last.max(value.last);
            }
        }
        result
    }
}

/// Rounds a slow threshold up to the nearest bin floor (at most 1/64 up), so
/// that counts from the [`SlowTail`] are exact for it.
pub fn snap_threshold_us(threshold_us: u64) -> u64 {
    let bin = latency_bin(threshold_us);
    let floor = latency_bin_floor(bin);
    if floor == threshold_us {
        floor
    } else {
        latency_bin_floor(bin + 1)
    }
}

/// Counts for one slot (one sixtieth of a bucket).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slot {
    pub requests: u32,
    pub failed: u32,
    /// Failed, or slower than the ingest threshold.
    pub bad: u32,
}

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

/// One user's activity inside one bucket, as milliseconds after the bucket's
/// start: enough to tell at an incident's edges whether the user was active or
/// hit inside `[start, end]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UserSpan {
    pub first: u32,
    pub last: u32,
    /// First and last failed request, or slow at the ingest threshold.
    pub first_bad: u32,
    pub last_bad: u32,
    /// Slowest successful request (µs, saturating), for thresholds above the
    /// ingest threshold.
    pub max_ok_latency_us: u32,
    /// Whether any of the user's requests in the bucket failed.
    pub had_failed: bool,
}

impl UserSpan {
    fn new() -> Self {
        UserSpan {
            first: NONE_REL,
            last: 0,
            first_bad: NONE_REL,
            last_bad: 0,
            max_ok_latency_us: 0,
            had_failed: false,
        }
    }

    pub fn had_bad(&self) -> bool {
        self.first_bad != NONE_REL
    }

    fn merge(&mut self, other: &UserSpan) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.first_bad = self.first_bad.min(other.first_bad);
        self.last_bad = self.last_bad.max(other.last_bad);
        self.max_ok_latency_us = self.max_ok_latency_us.max(other.max_ok_latency_us);
        self.had_failed |= other.had_failed;
    }
}

/// The users of one bucket. While requests are folded in, a hash map (fast
/// inserts); once the bucket is settled, a vector sorted by user (a third
/// of the memory of the map, and two settled sets merge in one linear
/// pass). Both hold the same facts: equality ignores the representation.
#[derive(Clone, Debug)]
pub enum UserSpans {
    Open(FxHashMap<u64, UserSpan>),
    Settled(Vec<(u64, UserSpan)>),
}

impl Default for UserSpans {
    fn default() -> Self {
        UserSpans::Open(FxHashMap::default())
    }
}

impl PartialEq for UserSpans {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (UserSpans::Settled(a), UserSpans::Settled(b)) => a == b,
            _ => self.len() == other.len() && self.sorted() == other.sorted(),
        }
    }
}

impl UserSpans {
    /// Number of distinct users.
    pub fn len(&self) -> usize {
        match self {
            UserSpans::Open(map) => map.len(),
            UserSpans::Settled(sorted) => sorted.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every user and span, in no particular order.
    pub fn iter(&self) -> UserSpansIter<'_> {
        match self {
            UserSpans::Open(map) => UserSpansIter::Open(map.iter()),
            UserSpans::Settled(sorted) => UserSpansIter::Settled(sorted.iter()),
        }
    }

    /// Every user, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &u64> {
        self.iter().map(|(user, _)| user)
    }

    /// Every user's span, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &UserSpan> {
        self.iter().map(|(_, span)| span)
    }

    /// The span of `user`, if the user was seen.
    pub fn get(&self, user: u64) -> Option<&UserSpan> {
        match self {
            UserSpans::Open(map) => map.get(&user),
            UserSpans::Settled(sorted) => sorted
                .binary_search_by_key(&user, |(u, _)| *u)
                .ok()
                .map(|at| &sorted[at].1),
        }
    }

    fn sorted(&self) -> Vec<(u64, UserSpan)> {
        let mut all: Vec<(u64, UserSpan)> = self.iter().map(|(u, s)| (*u, *s)).collect();
        all.sort_unstable_by_key(|(u, _)| *u);
        all
    }

    /// The map to fold into, reopening a settled set (a request that
    /// arrives long after its bucket was settled: rare).
    #[inline]
    fn open(&mut self) -> &mut FxHashMap<u64, UserSpan> {
        if let UserSpans::Settled(sorted) = self {
            let map: FxHashMap<u64, UserSpan> = sorted.drain(..).collect();
            *self = UserSpans::Open(map);
        }
        match self {
            UserSpans::Open(map) => map,
            UserSpans::Settled(_) => unreachable!("reopened just above"),
        }
    }

    /// Turns the map into the sorted vector.
    pub fn settle(&mut self) {
        if let UserSpans::Open(map) = self {
            let mut sorted: Vec<(u64, UserSpan)> = Vec::with_capacity(map.len());
            sorted.extend(map.drain());
            sorted.sort_unstable_by_key(|(user, _)| *user);
            *self = UserSpans::Settled(sorted);
        }
    }

    /// Adds `other`'s users (another partial's view of the same bucket).
    fn merge(&mut self, other: &UserSpans) {
        match (&mut *self, other) {
            (UserSpans::Settled(mine), UserSpans::Settled(theirs)) => {
                let mut merged = Vec::with_capacity(mine.len() + theirs.len());
                let (mut a, mut b) = (0, 0);
                while let (Some(x), Some(y)) = (mine.get(a), theirs.get(b)) {
                    match x.0.cmp(&y.0) {
                        std::cmp::Ordering::Less => {
                            merged.push(*x);
                            a += 1;
                        }
                        std::cmp::Ordering::Greater => {
                            merged.push(*y);
                            b += 1;
                        }
                        std::cmp::Ordering::Equal => {
                            let mut span = x.1;
                            span.merge(&y.1);
                            merged.push((x.0, span));
                            a += 1;
                            b += 1;
                        }
                    }
                }
                merged.extend_from_slice(&mine[a..]);
                merged.extend_from_slice(&theirs[b..]);
                merged.shrink_to_fit();
                *mine = merged;
            }
            (_, theirs) => {
                let map = self.open();
                map.reserve(theirs.len());
                for (user, span) in theirs {
                    map.entry(*user)
                        .and_modify(|mine| mine.merge(span))
                        .or_insert(*span);
                }
            }
        }
    }
}

/// Iterator over a bucket's users: `(user, span)` pairs.
pub enum UserSpansIter<'a> {
    Open(std::collections::hash_map::Iter<'a, u64, UserSpan>),
    Settled(std::slice::Iter<'a, (u64, UserSpan)>),
}

impl<'a> Iterator for UserSpansIter<'a> {
    type Item = (&'a u64, &'a UserSpan);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            UserSpansIter::Open(iter) => iter.next(),
            UserSpansIter::Settled(iter) => iter.next().map(|(user, span)| (user, span)),
        }
    }
}

impl<'a> IntoIterator for &'a UserSpans {
    type Item = (&'a u64, &'a UserSpan);
    type IntoIter = UserSpansIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
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
    pub slots: Vec<Slot>,
    pub users: UserSpans,
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
            slots: Vec::new(),
            users: UserSpans::default(),
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
    /// The counts of one of the bucket's [`SLOTS_PER_BUCKET`] slots; zero
    /// for a bucket without requests, whose slots are never allocated (a
    /// sparse log spanning months is mostly such buckets).
    pub fn slot(&self, index: usize) -> Slot {
        self.slots.get(index).copied().unwrap_or_default()
    }

    fn record(&mut self, facts: &RequestFacts, rel_ms: u32, slot: usize, ingest_slow_us: u64) {
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
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); SLOTS_PER_BUCKET];
        }
        let slot_counts = &mut self.slots[slot.min(SLOTS_PER_BUCKET - 1)];
        slot_counts.requests += 1;
        if failed {
            self.failed += 1;
            slot_counts.failed += 1;
            self.first_failed = self.first_failed.min(rel_ms);
            self.last_failed = self.last_failed.max(rel_ms);
        }
        let bad = failed || slow;
        if bad {
            slot_counts.bad += 1;
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
        let span = self
            .users
            .open()
            .entry(facts.user)
            .or_insert_with(UserSpan::new);
        span.first = span.first.min(rel_ms);
        span.last = span.last.max(rel_ms);
        if bad {
            span.first_bad = span.first_bad.min(rel_ms);
            span.last_bad = span.last_bad.max(rel_ms);
        }
        if failed {
            span.had_failed = true;
        } else {
            let latency = facts.duration_us.unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            span.max_ok_latency_us = span.max_ok_latency_us.max(latency);
        }
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
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); other.slots.len()];
        }
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            mine.requests += theirs.requests;
            mine.failed += theirs.failed;
            mine.bad += theirs.bad;
        }
        self.users.merge(&other.users);
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
    buckets: FxHashMap<i64, Bucket>,
    /// The bucket the previous request fell into: consecutive lines almost
    /// always share it, so the map is only searched when it changes.
    current: Option<(i64, Bucket)>,
    /// The largest bucket index seen.
    latest: Option<i64>,
}

impl SeriesBuilder {
    pub fn new(bucket_ms: i64, ingest_slow_us: u64) -> Self {
        SeriesBuilder {
            bucket_ms: bucket_ms.max(SLOTS_PER_BUCKET as i64),
            ingest_slow_us,
            buckets: FxHashMap::default(),
            current: None,
            latest: None,
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
        let index = facts.arrival.div_euclid(self.bucket_ms);
        let rel = facts.arrival - index * self.bucket_ms;
        let slot = (rel * SLOTS_PER_BUCKET as i64 / self.bucket_ms) as usize;
        let ingest_slow_us = self.ingest_slow_us;
        let bucket = self.bucket_for(index);
        bucket.record(facts, rel as u32, slot, ingest_slow_us);
    }

    fn bucket_for(&mut self, index: i64) -> &mut Bucket {
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            self.latest = self.latest.max(Some(index));
            if let Some((old_index, old)) = self.current.take() {
                self.stash(old_index, old);
            }
            // Not sized up front from the last bucket: a large table from the
            // first request is colder in cache and folding got slower
            // (BENCHMARKS.md, "tried and dropped").
            let bucket = self.buckets.remove(&index).unwrap_or_default();
            self.current = Some((index, bucket));
        }
        match &mut self.current {
            Some((_, bucket)) => bucket,
            None => unreachable!("current bucket was just set"),
        }
    }

    fn stash(&mut self, index: i64, bucket: Bucket) {
        match self.buckets.get_mut(&index) {
            Some(existing) => existing.merge(&bucket),
            None => {
                self.buckets.insert(index, bucket);
            }
        }
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
        self.latest = self.latest.max(other.latest);
        if self.buckets.len() < other.buckets.len() {
            std::mem::swap(&mut self.buckets, &mut other.buckets);
        }
        for (index, bucket) in other.buckets {
            self.stash(index, bucket);
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
                let mut bucket = self.buckets.remove(&i)?;
                bucket.users.settle();
                Some((i, bucket))
            })
            .collect()
    }

    /// Adds buckets taken from another builder of the same bucket width.
    pub fn absorb(&mut self, buckets: Vec<(i64, Bucket)>) {
        for (index, bucket) in buckets {
            self.latest = self.latest.max(Some(index));
            self.stash(index, bucket);
        }
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

    /// The dense series from the first to the last non-empty bucket.
    /// `max_buckets` guards against a stray timestamp years away turning into
    /// millions of empty buckets.
    pub fn finish(mut self, max_buckets: usize) -> Result<SeriesSet, SeriesTooLong> {
        self.settle();
        let (Some(&first), Some(&last)) = (self.buckets.keys().min(), self.buckets.keys().max())
        else {
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
            bucket.users.settle();
            buckets[(index - first) as usize] = bucket;
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

    pub fn slot_ms(&self) -> i64 {
        self.bucket_ms / SLOTS_PER_BUCKET as i64
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
    fn latency_bins_round_trip_within_one_sixty_fourth() {
        for value in [
            0u64, 1, 63, 64, 65, 127, 128, 1000, 999_999, 1_000_000, 60_000_000,
        ] {
            let bin = latency_bin(value);
            let low = latency_bin_floor(bin);
            let high = latency_bin_floor(bin + 1);
            assert!(low <= value && value < high, "{value} in [{low}, {high})");
            assert!(
                (high - low) as f64 <= (low as f64 / 64.0).max(1.0),
                "{value}"
            );
        }
    }

    #[test]
    fn histogram_quantiles_are_within_one_percent() {
        let mut histogram = LatencyHistogram::default();
        for ms in 1..=1000u64 {
            histogram.add(ms * 1000);
        }
        let cases = [
            ("p50", 0.5, 500_000.0),
            ("p95", 0.95, 950_000.0),
            ("p99", 0.99, 990_000.0),
        ];
        for (name, q, expected) in cases {
            let got = histogram.quantile(q).expect("non-empty");
            assert!((got - expected).abs() / expected < 0.01, "{name}: {got}");
        }
    }

    #[test]
    fn snapped_threshold_counts_exactly() {
        let mut tail = SlowTail::default();
        let threshold = snap_threshold_us(1_230_000);
        assert!((1_230_000..=1_230_000 + 1_230_000 / 64).contains(&threshold));
        tail.add(threshold, 5);
        tail.add(threshold + 1, 7);
        tail.add(threshold * 2, 9);
        let above = tail.above(threshold);
        assert_eq!(
            above.count, 2,
            "the value equal to the threshold is not slower"
        );
        assert_eq!((above.first, above.last), (7, 9));
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
    }

    fn span(first: u32, last: u32, bad: Option<(u32, u32)>, failed: bool) -> UserSpan {
        UserSpan {
            first,
            last,
            first_bad: bad.map_or(NONE_REL, |b| b.0),
            last_bad: bad.map_or(0, |b| b.1),
            max_ok_latency_us: last * 10,
            had_failed: failed,
        }
    }

    #[test]
    fn user_sets_merge_alike_open_or_settled() {
        let left = [
            (1, span(0, 10, None, false)),
            (5, span(3, 3, Some((3, 3)), true)),
            (9, span(7, 8, None, false)),
        ];
        let right = [
            (5, span(1, 20, Some((20, 20)), false)),
            (7, span(4, 4, None, false)),
            (11, span(2, 50, Some((2, 2)), false)),
        ];
        let expected = vec![
            (1, span(0, 10, None, false)),
            (5, span(1, 20, Some((3, 20)), true)),
            (7, span(4, 4, None, false)),
            (9, span(7, 8, None, false)),
            (11, span(2, 50, Some((2, 2)), false)),
        ];
        let cases = [
            ("open into open", false, false),
            ("settled into settled", true, true),
            ("open into settled", true, false),
            ("settled into open", false, true),
        ];
        let make = |users: &[(u64, UserSpan)], settled: bool| {
            let mut set = UserSpans::Open(users.iter().copied().collect());
            if settled {
                set.settle();
            }
            set
        };
        for (name, settle_left, settle_right) in cases {
            let mut merged = make(&left, settle_left);
            merged.merge(&make(&right, settle_right));
            assert_eq!(merged.len(), 5, "{name}");
            assert_eq!(merged.sorted(), expected, "{name}");
            merged.settle();
            assert_eq!(
                merged,
                UserSpans::Settled(expected.clone()),
                "{name}: settled"
            );
            assert_eq!(merged.get(5), Some(&expected[1].1), "{name}: lookup");
            assert_eq!(merged.get(6), None, "{name}: absent user");
        }
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
                .all(|b| matches!(b.users, UserSpans::Settled(_))),
            "finished buckets are settled"
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
