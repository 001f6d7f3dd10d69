//! Per-dimension bucket counts: requests, failed, slow and a coarse latency
//! histogram per upstream (`$upstream_addr`, Traefik's `ServiceAddr`) and
//! per host (one value per log source when several hosts' logs are read),
//! so that "one upstream of three got slow" can be seen, and, for proxies
//! that say how a request ended, the causes of each upstream's failed
//! requests ([`CauseTally`]).
//!
//! Like the series itself, a [`DimensionBuilder`] is a mergeable partial
//! (chunks, files, threads). It is bounded: at most
//! [`MAX_DIMENSION_VALUES`] distinct values get their own counts; later ones
//! are folded into [`OTHER_LABEL`]. Totals are always exact; which values
//! get their own counts is exact (and independent of how the input was cut
//! into chunks) whenever there are at most [`MAX_DIMENSION_VALUES`] of them.
//!
//! A bucket nothing is added to any more (one that ended [`PACK_AFTER_MS`]
//! before the latest request, as the series packs its own) is kept packed:
//! its values' counts and non-empty latency bins as varints, a few dozen
//! bytes a value instead of the 296 of a [`DimensionCounts`]. A request or
//! merge that reaches a packed bucket opens it again.

use std::ops::{Range, RangeInclusive};

use rustc_hash::FxHashMap;

use crate::series::buckets::{PACK_AFTER_MS, is_failed_status};
use crate::series::packed::{Varints, push_varint, unzigzag, zigzag};
use crate::series::termination::{
    CAUSE_COUNT, CauseTally, Termination, VENDOR_CODE_BYTES, VendorCode,
};
use crate::timefmt::Millis;

/// Most distinct values kept per dimension: enough for every backend of a
/// real pool, small enough that memory stays a few MB per day of buckets.
pub const MAX_DIMENSION_VALUES: usize = 64;

/// The label of the values beyond [`MAX_DIMENSION_VALUES`].
pub const OTHER_LABEL: &str = "other";

/// The id of [`OTHER_LABEL`] in a builder.
const OTHER_ID: u16 = MAX_DIMENSION_VALUES as u16;

/// What the values of a dimension are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimensionKind {
    /// The upstream (backend) address that served the request.
    Upstream,
    /// The log source (host) a request was read from.
    Host,
}

impl DimensionKind {
    pub fn name(self) -> &'static str {
        match self {
            DimensionKind::Upstream => "upstream",
            DimensionKind::Host => "host",
        }
    }
}

/// Smallest latency with a bin of its own: 64 µs (2^6); below it, bin 0.
const COARSE_FIRST_EXPONENT: u32 = 6;
/// Largest: 2^31 µs (about 36 min); above it, the last bin.
const COARSE_LAST_EXPONENT: u32 = 31;
/// Two bins per power of two.
pub const COARSE_BINS: usize = ((COARSE_LAST_EXPONENT - COARSE_FIRST_EXPONENT + 1) * 2) as usize;

/// A fixed, half-octave latency histogram (microseconds): 208 bytes, so a
/// dimension value costs little per bucket. A bin spans a factor of √2; the
/// quantiles it gives are within 19% (its geometric midpoint), enough to
/// tell a slow upstream from a fast one, not to report p99s (the series'
/// own histogram does that).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoarseLatency {
    counts: [u32; COARSE_BINS],
}

impl Default for CoarseLatency {
    fn default() -> Self {
        CoarseLatency {
            counts: [0; COARSE_BINS],
        }
    }
}

/// The bin of a latency.
#[inline]
fn coarse_bin(micros: u64) -> usize {
    if micros < 1 << COARSE_FIRST_EXPONENT {
        return 0;
    }
    let exponent = 63 - micros.leading_zeros();
    if exponent > COARSE_LAST_EXPONENT {
        return COARSE_BINS - 1;
    }
    let upper_half = (micros >> (exponent - 1)) & 1;
    ((exponent - COARSE_FIRST_EXPONENT) * 2) as usize + upper_half as usize
}

/// The smallest latency of a bin.
fn coarse_floor(bin: usize) -> f64 {
    let exponent = COARSE_FIRST_EXPONENT as usize + bin / 2;
    let base = (1u64 << exponent) as f64;
    if bin.is_multiple_of(2) {
        base
    } else {
        base * 1.5
    }
}

impl CoarseLatency {
    /// The count of each bin (a partial file keeps the non-zero ones).
    pub fn counts(&self) -> &[u32; COARSE_BINS] {
        &self.counts
    }

    /// Adds `count` values of bin `bin` (a partial file read back); a bin
    /// out of range is refused.
    pub fn add_count(&mut self, bin: usize, count: u32) -> bool {
        match self.counts.get_mut(bin) {
            Some(slot) => {
                *slot = slot.saturating_add(count);
                true
            }
            None => false,
        }
    }

    #[inline]
    pub fn add(&mut self, micros: u64) {
        let bin = coarse_bin(micros);
        self.counts[bin] = self.counts[bin].saturating_add(1);
    }

    pub fn merge(&mut self, other: &CoarseLatency) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The `q`-quantile (0..=1) in microseconds: the geometric midpoint of
    /// the bin that holds it; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (bin, &count) in self.counts.iter().enumerate() {
            seen += u64::from(count);
            if seen >= rank {
                let low = coarse_floor(bin);
                let high = if bin.is_multiple_of(2) {
                    low * 1.5
                } else {
                    low * 4.0 / 3.0
                };
                return Some((low * high).sqrt());
            }
        }
        None
    }
}

/// What one dimension value saw in one bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimensionCounts {
    pub requests: u64,
    /// Status 5xx or 499.
    pub failed: u64,
    /// Not failed, slower than the ingest slow threshold.
    pub slow: u64,
    pub latency: CoarseLatency,
    /// The proxy's termination causes of the failed requests (empty for
    /// logs without one).
    pub causes: CauseTally,
    /// The arrival of the first failed request (for the host where an
    /// incident started first, `detect/first_host.rs`).
    pub first_failed: Option<Millis>,
}

impl DimensionCounts {
    /// Failed or slow.
    pub fn bad(&self) -> u64 {
        self.failed + self.slow
    }

    pub fn merge(&mut self, other: &DimensionCounts) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.slow += other.slow;
        self.latency.merge(&other.latency);
        self.causes.merge(&other.causes);
        self.first_failed = match (self.first_failed, other.first_failed) {
            (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
    }
}

/// How many short labels [`DimensionBuilder::intern`] finds by
/// [`ShortKey`]: a pool's backends, scanned in a few compares each; the
/// values beyond it are found through the hash map.
const SHORT_LABELS: usize = 16;

/// A label of at most 16 bytes as its length and two integers that hold
/// all of its bytes (the first and the last eight, overlapping when
/// shorter; the first and last four below eight; each byte below four):
/// two labels have equal keys exactly when they are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ShortKey {
    len: usize,
    head: u64,
    tail: u64,
}

impl ShortKey {
    /// Longest label with a key.
    const MAX_LEN: usize = 16;

    #[inline]
    fn of(label: &[u8]) -> Option<ShortKey> {
        let len = label.len();
        let word =
            |at: usize| <[u8; 8]>::try_from(&label[at..at + 8]).map_or(0, u64::from_le_bytes);
        let half = |at: usize| {
            <[u8; 4]>::try_from(&label[at..at + 4]).map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        let (head, tail) = match len {
            8..=Self::MAX_LEN => (word(0), word(len - 8)),
            4..=7 => (half(0), half(len - 4)),
            1..=3 => (
                u64::from(label[0]) | u64::from(label[len / 2]) << 8,
                u64::from(label[len - 1]),
            ),
            0 => (0, 0),
            _ => return None,
        };
        Some(ShortKey { len, head, tail })
    }
}

/// One request (or one upstream attempt) as a dimension sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub failed: bool,
    pub duration_us: Option<u64>,
    /// How the proxy says the request ended, when its log says.
    pub termination: Option<Termination>,
}

impl Outcome {
    /// The outcome of a request with this status and request time.
    pub fn of(status: u16, duration_us: Option<u64>) -> Self {
        Outcome {
            failed: is_failed_status(status),
            duration_us,
            termination: None,
        }
    }

    /// The same outcome with the proxy's termination cause.
    pub fn with_termination(self, termination: Option<Termination>) -> Self {
        Outcome {
            termination,
            ..self
        }
    }
}

type BucketValues = Vec<(u16, DimensionCounts)>;

/// The values of one bucket as a builder keeps them: open while requests
/// may still be added, packed once the bucket has settled.
///
/// Open, a value takes 296 bytes (three counts, the 52 coarse latency
/// bins, the cause tally), of which a bucket fills a handful of bins: on a
/// week of four hosts' logs (10,080 one-minute buckets) the run's open
/// buckets were 12.8 MB of the heap's 93.7 MB peak; packed, the dimensions
/// take 2.5 MB of an 82.4 MB peak (heaptrack).
#[derive(Clone, Debug)]
enum StoredBucket {
    Open(BucketValues),
    /// The values as [`pack_values`] writes them.
    Packed(Box<[u8]>),
}

impl StoredBucket {
    /// The values, unpacked if packed.
    fn into_open(self) -> BucketValues {
        match self {
            StoredBucket::Open(values) => values,
            StoredBucket::Packed(bytes) => unpack_values(&bytes),
        }
    }

    /// Turns open values into their packed form.
    fn pack(&mut self) {
        if let StoredBucket::Open(values) = self {
            *self = StoredBucket::Packed(pack_values(values));
        }
    }

    /// The values, opened in place if packed.
    fn open(&mut self) -> &mut BucketValues {
        if let StoredBucket::Packed(bytes) = self {
            *self = StoredBucket::Open(unpack_values(bytes));
        }
        match self {
            StoredBucket::Open(values) => values,
            StoredBucket::Packed(_) => unreachable!("the bucket was just opened"),
        }
    }
}

/// The packed form of a bucket's values: per value, as varints, its id,
/// requests, failed and slow; its shape (the number of non-empty latency
/// bins, shifted left by two, then a bit for causes and a bit for a first
/// failure); the first failure (zigzag); each non-empty bin as (gap from
/// the bin after the previous one, count); and, with causes, their number
/// and each one's index, count, and vendor code (its length, then a
/// varint a byte). A value with five bins and no failure takes ~17 bytes.
fn pack_values(values: &[(u16, DimensionCounts)]) -> Box<[u8]> {
    let mut bytes = Vec::with_capacity(values.len() * 24);
    for (id, counts) in values {
        let bins = counts.latency.counts();
        let filled_bins = bins.iter().filter(|&&count| count > 0).count() as u64;
        let causes = counts.causes.entries().count() as u64;
        let shape = filled_bins << 2
            | u64::from(causes > 0) << 1
            | u64::from(counts.first_failed.is_some());
        push_varint(&mut bytes, u64::from(*id));
        push_varint(&mut bytes, counts.requests);
        push_varint(&mut bytes, counts.failed);
        push_varint(&mut bytes, counts.slow);
        push_varint(&mut bytes, shape);
        if let Some(first) = counts.first_failed {
            push_varint(&mut bytes, zigzag(first));
        }
        let mut next_bin = 0;
        for (bin, &count) in bins.iter().enumerate() {
            if count > 0 {
                push_varint(&mut bytes, (bin - next_bin) as u64);
                push_varint(&mut bytes, u64::from(count));
                next_bin = bin + 1;
            }
        }
        if causes > 0 {
            push_varint(&mut bytes, causes);
            for (cause, count, code) in counts.causes.entries() {
                push_varint(&mut bytes, cause as u64);
                push_varint(&mut bytes, u64::from(count));
                let code = code.bytes();
                push_varint(&mut bytes, code.len() as u64);
                for &byte in code {
                    push_varint(&mut bytes, u64::from(byte));
                }
            }
        }
    }
    bytes.into_boxed_slice()
}

/// The values [`pack_values`] packed. Only this process writes these
/// bytes, so a stream that does not decode is a bug: the values read
/// until there are kept (a debug build stops).
fn unpack_values(bytes: &[u8]) -> BucketValues {
    let mut values = Vec::new();
    let mut varints = Varints::new(bytes);
    while let Some(id) = varints.next() {
        match u16::try_from(id).ok().zip(unpack_counts(&mut varints)) {
            Some(value) => values.push(value),
            None => {
                debug_assert!(false, "a packed dimension bucket does not decode");
                break;
            }
        }
    }
    values
}

/// The counts of one value, after its id ([`pack_values`]).
fn unpack_counts(varints: &mut Varints<'_>) -> Option<DimensionCounts> {
    let mut counts = DimensionCounts {
        requests: varints.next()?,
        failed: varints.next()?,
        slow: varints.next()?,
        ..DimensionCounts::default()
    };
    let shape = varints.next()?;
    if shape & 1 != 0 {
        counts.first_failed = Some(unzigzag(varints.next()?));
    }
    let filled_bins = usize::try_from(shape >> 2).ok()?;
    if filled_bins > COARSE_BINS {
        return None;
    }
    let mut bin = 0usize;
    for _ in 0..filled_bins {
        bin = bin.checked_add(usize::try_from(varints.next()?).ok()?)?;
        let count = u32::try_from(varints.next()?).ok()?;
        if !counts.latency.add_count(bin, count) {
            return None;
        }
        bin += 1;
    }
    if shape & 2 != 0 {
        let causes = usize::try_from(varints.next()?).ok()?;
        if causes > CAUSE_COUNT {
            return None;
        }
        for _ in 0..causes {
            let cause = usize::try_from(varints.next()?).ok()?;
            let count = u32::try_from(varints.next()?).ok()?;
            let len = usize::try_from(varints.next()?).ok()?;
            let mut code = [0u8; VENDOR_CODE_BYTES];
            for byte in code.get_mut(..len)? {
                *byte = u8::try_from(varints.next()?).ok()?;
            }
            if !counts
                .causes
                .add_count(cause, count, VendorCode::new(&code[..len]))
            {
                return None;
            }
        }
    }
    Some(counts)
}

/// Buckets a bucket must end before the latest one to be [`PACK_AFTER_MS`]
/// behind it (rounded up, the latest bucket counted), as the series counts
/// them.
fn buckets_behind(bucket_ms: i64) -> i64 {
    PACK_AFTER_MS.saturating_add(bucket_ms - 1) / bucket_ms + 1
}

/// Sparse per-bucket counts of one dimension, built while reading.
#[derive(Clone, Debug)]
pub struct DimensionBuilder {
    kind: DimensionKind,
    bucket_ms: i64,
    ingest_slow_us: u64,
    labels: Vec<Box<[u8]>>,
    ids: FxHashMap<Box<[u8]>, u16>,
    /// The first [`SHORT_LABELS`] labels of at most 16 bytes, by
    /// [`ShortKey`]: found with a few integer compares, not a hash and a
    /// `memcmp` (an upstream is interned on every line of a proxy's log).
    short: Vec<(ShortKey, u16)>,
    buckets: FxHashMap<i64, StoredBucket>,
    /// The bucket the previous request fell into (consecutive lines almost
    /// always share it).
    current: Option<(i64, BucketValues)>,
    /// The milliseconds of `current`'s bucket (empty when there is none):
    /// a request in them is counted there without dividing its arrival by
    /// the bucket width (~15 instructions a proxy's line, callgrind).
    current_ms: Range<Millis>,
    /// The largest bucket index counted or merged in.
    latest: Option<i64>,
    /// Buckets this many before `latest` have settled and are packed
    /// ([`buckets_behind`]); the others stay open.
    open_behind: i64,
}

impl DimensionBuilder {
    /// `bucket_ms` must be the series' bucket width.
    pub fn new(kind: DimensionKind, bucket_ms: i64, ingest_slow_us: u64) -> Self {
        DimensionBuilder {
            kind,
            bucket_ms: bucket_ms.max(1),
            ingest_slow_us,
            labels: Vec::new(),
            ids: FxHashMap::default(),
            short: Vec::new(),
            buckets: FxHashMap::default(),
            current: None,
            current_ms: 0..0,
            latest: None,
            open_behind: buckets_behind(bucket_ms.max(1)),
        }
    }

    pub fn kind(&self) -> DimensionKind {
        self.kind
    }

    /// The id of a value, added if there is room, else [`OTHER_ID`].
    #[inline]
    pub fn intern(&mut self, label: &[u8]) -> u16 {
        let key = ShortKey::of(label);
        if let Some(key) = key {
            if let Some(&(_, id)) = self.short.iter().find(|(known, _)| *known == key) {
                return id;
            }
            // While the table has room it holds every short label: a miss
            // is a new value.
            if self.short.len() < SHORT_LABELS {
                return self.intern_new(label, Some(key));
            }
        }
        match self.ids.get(label) {
            Some(&id) => id,
            None => self.intern_new(label, key),
        }
    }

    /// Adds a value not interned yet, if there is room.
    #[inline(never)]
    fn intern_new(&mut self, label: &[u8], key: Option<ShortKey>) -> u16 {
        if self.labels.len() >= MAX_DIMENSION_VALUES {
            return OTHER_ID;
        }
        let id = self.labels.len() as u16;
        self.labels.push(label.into());
        self.ids.insert(label.into(), id);
        if let Some(key) = key.filter(|_| self.short.len() < SHORT_LABELS) {
            self.short.push((key, id));
        }
        id
    }

    /// Counts one request or attempt for the value `label`.
    #[inline]
    pub fn record(&mut self, arrival: Millis, label: &[u8], outcome: Outcome) {
        let id = self.intern(label);
        self.record_id(arrival, id, outcome);
    }

    /// Counts one request or attempt for an interned value.
    #[inline]
    pub fn record_id(&mut self, arrival: Millis, id: u16, outcome: Outcome) {
        let ingest_slow_us = self.ingest_slow_us;
        let values = self.bucket_for(arrival);
        let counts = match values.iter().position(|(value, _)| *value == id) {
            Some(at) => &mut values[at].1,
            None => {
                values.push((id, DimensionCounts::default()));
                let last = values.len() - 1;
                &mut values[last].1
            }
        };
        counts.requests += 1;
        if outcome.failed {
            counts.failed += 1;
            counts.first_failed = Some(counts.first_failed.map_or(arrival, |f| f.min(arrival)));
            if let Some(termination) = outcome.termination {
                counts.causes.add(termination);
            }
        }
        if let Some(duration) = outcome.duration_us {
            counts.latency.add(duration);
            if !outcome.failed && duration > ingest_slow_us {
                counts.slow += 1;
            }
        }
    }

    /// The values of the bucket `arrival` falls into.
    #[inline]
    fn bucket_for(&mut self, arrival: Millis) -> &mut BucketValues {
        if !self.current_ms.contains(&arrival) {
            self.switch_to(arrival.div_euclid(self.bucket_ms));
        }
        match &mut self.current {
            Some((_, values)) => values,
            None => unreachable!("current bucket was just set"),
        }
    }

    /// Makes bucket `index` the current one, putting the current one back
    /// (packed if it has settled) and packing the buckets that settle as
    /// `index` moves the latest on.
    #[inline(never)]
    fn switch_to(&mut self, index: i64) {
        if let Some((old_index, old)) = self.current.take() {
            self.store(old_index, old);
        }
        self.advance_latest(index);
        let values = self
            .buckets
            .remove(&index)
            .map_or_else(Vec::new, StoredBucket::into_open);
        self.current = Some((index, values));
        // A bucket whose milliseconds do not fit leaves the range empty:
        // every request then finds its bucket by division.
        let start = index.checked_mul(self.bucket_ms);
        self.current_ms = start
            .and_then(|start| Some(start..start.checked_add(self.bucket_ms)?))
            .unwrap_or(0..0);
    }

    fn settle(&mut self) {
        if let Some((index, values)) = self.current.take() {
            self.store(index, values);
        }
        self.current_ms = 0..0;
    }

    /// Whether bucket `index` has settled: it ended [`PACK_AFTER_MS`]
    /// before the latest bucket.
    fn is_settled(&self, index: i64) -> bool {
        self.latest
            .is_some_and(|latest| index.saturating_add(self.open_behind) <= latest)
    }

    /// Keeps `values` as bucket `index`, packed if it has settled.
    fn store(&mut self, index: i64, values: BucketValues) {
        let mut bucket = StoredBucket::Open(values);
        if self.is_settled(index) {
            bucket.pack();
        }
        self.buckets.insert(index, bucket);
    }

    /// Moves the latest bucket to `index` if later, and packs the open
    /// buckets that settles.
    fn advance_latest(&mut self, index: i64) {
        let previous = self.latest;
        if previous.is_some_and(|latest| latest >= index) {
            return;
        }
        self.latest = Some(index);
        let settled_through = index.saturating_sub(self.open_behind);
        // The buckets that settle now are those after the last one settled
        // before: as the requests move on a bucket or two, a look-up or two;
        // after a jump over more buckets than there are, one pass.
        let first_new =
            previous.map(|latest| latest.saturating_sub(self.open_behind).saturating_add(1));
        match first_new {
            Some(first)
                if settled_through.saturating_sub(first)
                    < i64::try_from(self.buckets.len()).unwrap_or(i64::MAX) =>
            {
                for at in first..=settled_through {
                    if let Some(bucket) = self.buckets.get_mut(&at) {
                        bucket.pack();
                    }
                }
            }
            _ => {
                for (_, bucket) in self
                    .buckets
                    .iter_mut()
                    .filter(|(at, _)| **at <= settled_through)
                {
                    bucket.pack();
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Combines another partial of the same dimension.
    pub fn merge(&mut self, mut other: DimensionBuilder) {
        if other.is_empty() {
            return;
        }
        self.settle();
        other.settle();
        // The merged buckets are packed as they are put back, not after the
        // loop: the run's buckets all open at once were the heap's peak
        // (12.8 MB of a week of four hosts).
        if let Some(latest) = other.latest {
            self.advance_latest(latest);
        }
        // Labels are taken over when first used, so a value interned by a
        // partial that never counted anything does not appear.
        let mut remap: Vec<Option<u16>> = vec![None; other.labels.len()];
        for (index, theirs) in other.buckets {
            let mut mine = self
                .buckets
                .remove(&index)
                .map_or_else(Vec::new, StoredBucket::into_open);
            for (id, counts) in theirs.into_open() {
                let id = match remap.get_mut(usize::from(id)) {
                    Some(Some(known)) => *known,
                    Some(slot) => {
                        let interned = self.intern(&other.labels[usize::from(id)]);
                        *slot = Some(interned);
                        interned
                    }
                    None => OTHER_ID,
                };
                match mine.iter_mut().find(|(value, _)| *value == id) {
                    Some((_, existing)) => existing.merge(&counts),
                    None => mine.push((id, counts)),
                }
            }
            self.store(index, mine);
        }
    }

    /// Re-buckets the counts at `wider_ms`, a multiple of the width.
    pub fn widen(&mut self, wider_ms: i64) {
        self.settle();
        let factor = (wider_ms / self.bucket_ms).max(1);
        self.bucket_ms *= factor;
        self.latest = self.latest.map(|index| index.div_euclid(factor));
        self.open_behind = buckets_behind(self.bucket_ms);
        // In time order, so each wide bucket is filled by consecutive narrow
        // ones and put back (packed if settled) before the next opens.
        let mut narrow: Vec<(i64, StoredBucket)> =
            std::mem::take(&mut self.buckets).into_iter().collect();
        narrow.sort_unstable_by_key(|(index, _)| *index);
        let mut filling: Option<(i64, BucketValues)> = None;
        for (index, bucket) in narrow {
            let at = index.div_euclid(factor);
            let mine = match &mut filling {
                Some((filling_at, values)) if *filling_at == at => values,
                _ => {
                    if let Some((done_at, done)) = filling.take() {
                        self.store(done_at, done);
                    }
                    &mut filling.insert((at, Vec::new())).1
                }
            };
            for (id, counts) in bucket.into_open() {
                match mine.iter_mut().find(|(value, _)| *value == id) {
                    Some((_, existing)) => existing.merge(&counts),
                    None => mine.push((id, counts)),
                }
            }
        }
        if let Some((done_at, done)) = filling {
            self.store(done_at, done);
        }
    }

    /// The labels of the values, by id (what a partial file names them by).
    pub fn labels(&self) -> &[Box<[u8]>] {
        &self.labels
    }

    /// Every `(bucket index, value id, counts)`, in no particular order;
    /// the id [`MAX_DIMENSION_VALUES`] is [`OTHER_LABEL`]. Opens every
    /// packed bucket (a partial file is written once, at the end).
    pub fn settled_counts(&mut self) -> impl Iterator<Item = (i64, u16, &DimensionCounts)> {
        self.settle();
        self.buckets.iter_mut().flat_map(|(index, bucket)| {
            let values: &BucketValues = bucket.open();
            values.iter().map(move |(id, counts)| (*index, *id, counts))
        })
    }

    /// Adds the counts of one value in one bucket (a partial file read
    /// back); `label` `None` is [`OTHER_LABEL`].
    pub fn absorb(&mut self, index: i64, label: Option<&[u8]>, counts: DimensionCounts) {
        self.settle();
        let id = label.map_or(OTHER_ID, |label| self.intern(label));
        // Left open: a partial file gives a bucket's values one by one, and
        // packing after each would unpack the bucket for the next. The run
        // packs them when it merges this partial in.
        let values = self
            .buckets
            .entry(index)
            .or_insert_with(|| StoredBucket::Open(Vec::new()))
            .open();
        match values.iter_mut().find(|(value, _)| *value == id) {
            Some((_, existing)) => existing.merge(&counts),
            None => values.push((id, counts)),
        }
    }

    /// Distinct values with counts of their own so far.
    pub fn value_count(&self) -> usize {
        self.labels.len()
    }

    /// Whether any failed request was counted with a termination cause
    /// (then even one value is worth keeping: its causes make a hint).
    pub fn has_causes(&mut self) -> bool {
        self.settle();
        let any_causes =
            |values: &[(u16, DimensionCounts)]| values.iter().any(|(_, c)| c.causes.total() > 0);
        self.buckets.values().any(|bucket| match bucket {
            StoredBucket::Open(values) => any_causes(values),
            StoredBucket::Packed(bytes) => any_causes(&unpack_values(bytes)),
        })
    }

    /// The dense series over the buckets `[start, start + len × bucket)`
    /// (the access series' range); values are sorted by label.
    pub fn finish(mut self, start: Millis, len: usize) -> DimensionSeries {
        self.settle();
        let mut order: Vec<u16> = (0..self.labels.len() as u16).collect();
        order.sort_by(|&a, &b| self.labels[usize::from(a)].cmp(&self.labels[usize::from(b)]));
        let mut new_id = [0u16; MAX_DIMENSION_VALUES + 1];
        for (position, &old) in order.iter().enumerate() {
            new_id[usize::from(old)] = position as u16;
        }
        let mut labels: Vec<String> = order
            .iter()
            .map(|&id| String::from_utf8_lossy(&self.labels[usize::from(id)]).into_owned())
            .collect();
        let other_index = labels.len() as u16;
        new_id[usize::from(OTHER_ID)] = other_index;
        let mut buckets: Vec<Vec<(u16, DimensionCounts)>> = vec![Vec::new(); len];
        let first = start.div_euclid(self.bucket_ms);
        let mut saw_other = false;
        for (index, bucket) in self.buckets {
            let Ok(offset) = usize::try_from(index - first) else {
                continue;
            };
            let Some(slot) = buckets.get_mut(offset) else {
                continue;
            };
            for (id, counts) in bucket.into_open() {
                let id = new_id[usize::from(id)];
                saw_other |= id == other_index;
                slot.push((id, counts));
            }
            slot.sort_by_key(|(id, _)| *id);
        }
        if saw_other {
            labels.push(OTHER_LABEL.to_string());
        }
        DimensionSeries {
            kind: self.kind,
            labels,
            buckets,
        }
    }
}

/// The per-bucket counts of one dimension, aligned with the access series.
#[derive(Clone, Debug, PartialEq)]
pub struct DimensionSeries {
    pub kind: DimensionKind,
    /// Value labels by id; [`OTHER_LABEL`] last when values were folded.
    pub labels: Vec<String>,
    /// Per bucket of the series: the values seen, by id.
    pub buckets: Vec<Vec<(u16, DimensionCounts)>>,
}

impl DimensionSeries {
    /// Number of distinct values (with `other`).
    pub fn value_count(&self) -> usize {
        self.labels.len()
    }

    /// Each value's counts summed over a range of buckets, in label order.
    pub fn totals(&self, range: RangeInclusive<usize>) -> Vec<(&str, DimensionCounts)> {
        let mut totals: Vec<DimensionCounts> = vec![DimensionCounts::default(); self.labels.len()];
        for bucket in self.buckets.get(range).unwrap_or_default() {
            for (id, counts) in bucket {
                if let Some(total) = totals.get_mut(usize::from(*id)) {
                    total.merge(counts);
                }
            }
        }
        self.labels.iter().map(String::as_str).zip(totals).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::termination::TerminationCause;

    const MINUTE: i64 = 60_000;
    const SLOW_US: u64 = 1_000_000;

    fn ok(ms: u64) -> Outcome {
        Outcome {
            failed: false,
            duration_us: Some(ms * 1000),
            termination: None,
        }
    }

    fn failed() -> Outcome {
        Outcome {
            failed: true,
            duration_us: Some(5_000),
            termination: None,
        }
    }

    #[test]
    fn short_keys_tell_every_label_apart() {
        // Labels that share a length, a head or a tail, at every length the
        // key is built differently for, and past the short-label table.
        let labels: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"b",
            b"ab",
            b"ba",
            b"aab",
            b"abb",
            b"www/",
            b"www/app1",
            b"www/app2",
            b"www/app10",
            b"www/app11",
            b"10.0.1.13:8080",
            b"10.0.1.12:8080",
            b"10.0.1.13:8081",
            b"0123456789abcdef",
            b"0123456789abcdeF",
            b"0123456789abcdef0",
            b"0123456789abcdef1",
            b"www/app1\0",
            b"\0\0\0\0\0",
            b"\0\0\0\0\0\0",
        ];
        for (name, labels) in [
            ("in order", labels.clone()),
            ("reversed", labels.iter().rev().copied().collect()),
        ] {
            let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
            let ids: Vec<u16> = labels.iter().map(|label| builder.intern(label)).collect();
            for (at, label) in labels.iter().enumerate() {
                // Asked again (from the short table or the map): the same id,
                // and the id is the label's.
                assert_eq!(builder.intern(label), ids[at], "{name}: {label:?} again");
                assert_eq!(
                    &*builder.labels[usize::from(ids[at])],
                    *label,
                    "{name}: {label:?}"
                );
            }
            let mut distinct = ids.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), labels.len(), "{name}: one id a label");
            assert_eq!(
                builder.short.len(),
                SHORT_LABELS,
                "{name}: the short table filled"
            );
        }
    }

    #[test]
    fn coarse_bins_hold_their_values() {
        let cases = [
            ("below 64 µs", 10u64, 0usize),
            ("64 µs", 64, 0),
            ("96 µs: upper half", 96, 1),
            ("1 ms", 1_000, 7),
            ("1 s", 1_000_000, 27),
            ("two hours", 7_200_000_000, COARSE_BINS - 1),
        ];
        for (name, micros, bin) in cases {
            assert_eq!(coarse_bin(micros), bin, "{name}");
            if bin > 0 && bin < COARSE_BINS - 1 {
                assert!(coarse_floor(bin) <= micros as f64, "{name}");
                assert!(micros as f64 <= coarse_floor(bin + 1), "{name}");
            }
        }
        let mut histogram = CoarseLatency::default();
        (0..100).for_each(|_| histogram.add(200_000));
        let median = histogram.quantile(0.5).expect("non-empty");
        assert!((median - 200_000.0).abs() / 200_000.0 < 0.19, "{median}");
    }

    #[test]
    fn merging_partials_equals_one_pass() {
        let events: Vec<(Millis, &str, Outcome)> = vec![
            (0, "10.0.0.1:80", ok(20)),
            (1_000, "10.0.0.2:80", failed()),
            (2_000, "10.0.0.2:80", ok(2_500)),
            (MINUTE + 5, "10.0.0.3:80", ok(10)),
            (MINUTE + 6, "10.0.0.1:80", ok(30)),
        ];
        let mut whole = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        for (at, label, outcome) in &events {
            whole.record(*at, label.as_bytes(), *outcome);
        }
        let mut left = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        let mut right = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        for (at, label, outcome) in &events[..2] {
            left.record(*at, label.as_bytes(), *outcome);
        }
        for (at, label, outcome) in &events[2..] {
            right.record(*at, label.as_bytes(), *outcome);
        }
        right.merge(left);
        let whole = whole.finish(0, 2);
        let merged = right.finish(0, 2);
        assert_eq!(whole, merged);
        assert_eq!(whole.labels, ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
        let first_minute = whole.totals(0..=0);
        assert_eq!(first_minute[1].1.requests, 2);
        assert_eq!((first_minute[1].1.failed, first_minute[1].1.slow), (1, 1));
        assert_eq!(whole.totals(0..=1)[0].1.requests, 2);
    }

    /// A request is counted in the bucket of its arrival whether it is in
    /// the current bucket (no division), in another one, back in an earlier
    /// one, or before the epoch; and after a merge has put the current
    /// bucket back.
    #[test]
    fn requests_land_in_the_bucket_of_their_arrival() {
        type Case = (&'static str, Vec<Millis>, Millis, Vec<u64>);
        let cases: [Case; 5] = [
            ("one bucket", vec![0, 1, MINUTE - 1], 0, vec![3, 0]),
            (
                "its last and the next's first millisecond",
                vec![MINUTE - 1, MINUTE],
                0,
                vec![1, 1],
            ),
            (
                "back to earlier buckets",
                vec![0, MINUTE, 5, 2 * MINUTE + 1, MINUTE + 3],
                0,
                vec![2, 2, 1],
            ),
            (
                "before the epoch",
                vec![-1, 0, -MINUTE, -MINUTE - 1],
                -2 * MINUTE,
                vec![1, 2, 1],
            ),
            (
                "far apart",
                vec![7 * MINUTE + 1, 0, 7 * MINUTE + 2],
                0,
                vec![1, 0, 0, 0, 0, 0, 0, 2],
            ),
        ];
        for (name, arrivals, start, expected) in cases {
            let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
            for &at in &arrivals {
                builder.record(at, b"10.0.0.1:80", ok(20));
            }
            let series = builder.finish(start, expected.len());
            let requests: Vec<u64> = series
                .buckets
                .iter()
                .map(|values| values.iter().map(|(_, counts)| counts.requests).sum())
                .collect();
            assert_eq!(requests, expected, "{name}");
        }
        let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        builder.record(5, b"a", ok(20));
        let mut other = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        other.record(MINUTE + 5, b"a", ok(20));
        builder.merge(other);
        builder.record(6, b"a", ok(20));
        builder.record(MINUTE + 6, b"a", ok(20));
        let series = builder.finish(0, 2);
        assert_eq!(
            series.buckets[0][0].1.requests, 2,
            "after a merge, the first bucket"
        );
        assert_eq!(
            series.buckets[1][0].1.requests, 2,
            "after a merge, the second bucket"
        );
    }

    #[test]
    fn values_beyond_the_cap_fold_into_other() {
        let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        for i in 0..MAX_DIMENSION_VALUES + 10 {
            builder.record(0, format!("10.0.{i}.1:80").as_bytes(), ok(1));
        }
        let series = builder.finish(0, 1);
        assert_eq!(series.value_count(), MAX_DIMENSION_VALUES + 1);
        assert_eq!(series.labels.last().map(String::as_str), Some(OTHER_LABEL));
        let totals = series.totals(0..=0);
        let other = totals.last().expect("other").1.requests;
        assert_eq!(other, 10);
        assert_eq!(
            totals.iter().map(|(_, c)| c.requests).sum::<u64>(),
            MAX_DIMENSION_VALUES as u64 + 10
        );
    }

    fn failed_with(cause: TerminationCause, code: &[u8]) -> Outcome {
        Outcome {
            failed: true,
            duration_us: Some(30_000_000),
            termination: Some(Termination::new(cause, code)),
        }
    }

    /// Counts with every field set as `record` sets them.
    fn counts(
        (requests, failed, slow): (u64, u64, u64),
        bins: &[(usize, u32)],
        causes: &[(TerminationCause, u32, &[u8])],
        first_failed: Option<Millis>,
    ) -> DimensionCounts {
        let mut counts = DimensionCounts {
            requests,
            failed,
            slow,
            first_failed,
            ..DimensionCounts::default()
        };
        for &(bin, count) in bins {
            assert!(counts.latency.add_count(bin, count), "bin {bin}");
        }
        for &(cause, count, code) in causes {
            assert!(
                counts
                    .causes
                    .add_count(cause as usize, count, VendorCode::new(code))
            );
        }
        counts
    }

    /// The buckets of a builder that are packed.
    fn packed_buckets(builder: &DimensionBuilder) -> Vec<i64> {
        let mut packed: Vec<i64> = builder
            .buckets
            .iter()
            .filter(|(_, bucket)| matches!(bucket, StoredBucket::Packed(_)))
            .map(|(index, _)| *index)
            .collect();
        packed.sort_unstable();
        packed
    }

    /// A builder that never packs a bucket: what every builder was before
    /// buckets were packed, to compare with.
    fn never_packing() -> DimensionBuilder {
        let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
        builder.open_behind = i64::MAX;
        builder
    }

    #[test]
    fn packed_values_unpack_to_the_original() {
        use TerminationCause::*;
        let long_code = b"backend_connection_closed_after_partial_response_sent";
        type Case = (&'static str, BucketValues);
        let cases: Vec<Case> = vec![
            ("no values", vec![]),
            (
                "requests only",
                vec![(0, counts((3, 0, 0), &[], &[], None))],
            ),
            (
                "bins at both ends and the largest count",
                vec![(
                    1,
                    counts(
                        (7, 0, 2),
                        &[(0, 1), (1, 2), (27, u32::MAX), (COARSE_BINS - 1, 3)],
                        &[],
                        None,
                    ),
                )],
            ),
            (
                "every bin",
                vec![(
                    2,
                    counts(
                        (COARSE_BINS as u64, 0, 0),
                        &(0..COARSE_BINS).map(|bin| (bin, 1)).collect::<Vec<_>>(),
                        &[],
                        None,
                    ),
                )],
            ),
            (
                "failures with causes, codes and a first failure",
                vec![(
                    3,
                    counts(
                        (40, 12, 1),
                        &[(12, 30), (20, 10)],
                        &[
                            (NoServer, 9, b"SC"),
                            (ServerTimeout, 2, b"sH"),
                            (ProxyKilled, 1, long_code),
                        ],
                        Some(1_765_152_000_123),
                    ),
                )],
            ),
            (
                "causes without a code, a non-ASCII code",
                vec![(
                    4,
                    counts(
                        (5, 5, 0),
                        &[],
                        &[(ClientAborted, 4, b""), (Overflow, 1, "é!".as_bytes())],
                        Some(17),
                    ),
                )],
            ),
            (
                "a first failure before the epoch",
                vec![(0, counts((1, 1, 0), &[(3, 1)], &[], Some(-1)))],
            ),
            (
                "the extremes",
                vec![
                    (
                        0,
                        counts((u64::MAX, u64::MAX, u64::MAX), &[], &[], Some(i64::MIN)),
                    ),
                    (u16::MAX, counts((1, 1, 0), &[], &[], Some(i64::MAX))),
                ],
            ),
            (
                "several values and other",
                vec![
                    (5, counts((10, 0, 0), &[(9, 10)], &[], None)),
                    (
                        0,
                        counts((2, 1, 0), &[(8, 2)], &[(ConnectFailed, 1, b"SC")], Some(3)),
                    ),
                    (OTHER_ID, counts((1, 0, 1), &[(30, 1)], &[], None)),
                ],
            ),
        ];
        for (name, values) in cases {
            let packed = pack_values(&values);
            assert_eq!(unpack_values(&packed), values, "{name}");
            let mut bucket = StoredBucket::Packed(packed);
            assert_eq!(*bucket.open(), values, "{name}: opened in place");
        }
        // id 2, 3 requests, 1 failed, 0 slow; shape: two bins, no causes, a
        // first failure (2 << 2 | 1); the first failure -1 (zigzag 1); bin 7
        // (gap 7) twice, bin 9 (gap 1 after bin 8) once.
        let small = vec![(2, counts((3, 1, 0), &[(7, 2), (9, 1)], &[], Some(-1)))];
        assert_eq!(&*pack_values(&small), [2, 3, 1, 0, 9, 1, 7, 2, 1, 1]);
        assert_eq!(
            size_of::<DimensionCounts>(),
            296,
            "what an open value takes"
        );
    }

    /// The events of a few minutes of one or two upstreams, with failures
    /// (with and without causes), slow requests and requests before the
    /// epoch.
    fn events(upstream: &'static str) -> Vec<(Millis, &'static str, Outcome)> {
        vec![
            (-MINUTE + 7, upstream, ok(3)),
            (5, upstream, ok(20)),
            (6, upstream, failed_with(TerminationCause::NoServer, b"SC")),
            (7, "10.0.0.9:80", ok(2_500)),
            (MINUTE + 1, upstream, failed()),
            (3 * MINUTE, upstream, ok(40)),
            (12 * MINUTE, upstream, ok(1)),
            (12 * MINUTE + 3, "10.0.0.9:80", failed()),
        ]
    }

    fn record_all(builder: &mut DimensionBuilder, events: &[(Millis, &str, Outcome)]) {
        for (at, label, outcome) in events {
            builder.record(*at, label.as_bytes(), *outcome);
        }
    }

    #[test]
    fn a_bucket_is_packed_once_the_requests_are_five_minutes_on() {
        type Case = (&'static str, Vec<Millis>, Vec<i64>);
        let cases: [Case; 4] = [
            ("within five minutes", vec![0, 5 * MINUTE], vec![]),
            ("the sixth bucket on", vec![0, MINUTE, 6 * MINUTE], vec![0]),
            (
                "a jump over many buckets",
                vec![0, MINUTE, 2 * MINUTE, 1_000 * MINUTE],
                vec![0, 1, 2],
            ),
            (
                "a late request opens its bucket, which is packed again",
                vec![0, MINUTE, 9 * MINUTE, 1, 9 * MINUTE + 1],
                vec![0, 1],
            ),
        ];
        for (name, arrivals, packed) in cases {
            let mut builder = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
            for &at in &arrivals {
                builder.record(at, b"10.0.0.1:80", ok(20));
            }
            assert_eq!(packed_buckets(&builder), packed, "{name}");
            let first = builder.finish(0, 1);
            let at_zero = arrivals.iter().filter(|&&at| at < MINUTE).count() as u64;
            assert_eq!(first.buckets[0][0].1.requests, at_zero, "{name}");
        }
    }

    #[test]
    fn merging_into_a_packed_bucket_equals_merging_open_ones() {
        // (name, the left partial packs, the right partial packs)
        let cases = [
            ("open into open", false, false),
            ("packed into open", false, true),
            ("open into packed", true, false),
            ("packed into packed", true, true),
        ];
        let start = -MINUTE;
        for (name, left_packs, right_packs) in cases {
            let builder = |packs: bool| {
                if packs {
                    DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US)
                } else {
                    never_packing()
                }
            };
            let (mut left, mut right) = (builder(left_packs), builder(right_packs));
            record_all(&mut left, &events("10.0.0.1:80"));
            record_all(&mut right, &events("10.0.0.2:80"));
            let packed_at = |packs: bool| if packs { vec![-1, 0, 1, 3] } else { vec![] };
            assert_eq!(packed_buckets(&left), packed_at(left_packs), "{name}");
            assert_eq!(packed_buckets(&right), packed_at(right_packs), "{name}");
            left.merge(right);
            // After the merge, the latest is bucket 12: every earlier
            // bucket of a packing builder has settled.
            let packed = if left_packs {
                vec![-1, 0, 1, 3]
            } else {
                vec![]
            };
            assert_eq!(packed_buckets(&left), packed, "{name}: merged");
            let series = left.finish(start, 14);
            assert_eq!(
                series.labels,
                ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.9:80"],
                "{name}"
            );
            // Bucket 0 (minute 0): each upstream's two requests, one failed
            // with no server available (SC); the shared upstream's slow one.
            let minute_zero = &series.buckets[1];
            let expected_upstream = counts(
                (2, 1, 0),
                &[(coarse_bin(20_000), 1), (coarse_bin(30_000_000), 1)],
                &[(TerminationCause::NoServer, 1, b"SC")],
                Some(6),
            );
            assert_eq!(
                minute_zero,
                &vec![
                    (0, expected_upstream.clone()),
                    (1, expected_upstream),
                    (
                        2,
                        counts((2, 0, 2), &[(coarse_bin(2_500_000), 2)], &[], None)
                    ),
                ],
                "{name}"
            );
            let last = series.totals(13..=13);
            assert_eq!(
                last.iter()
                    .map(|(label, c)| (*label, c.requests, c.failed, c.first_failed))
                    .collect::<Vec<_>>(),
                [
                    ("10.0.0.1:80", 1, 0, None),
                    ("10.0.0.2:80", 1, 0, None),
                    ("10.0.0.9:80", 2, 2, Some(12 * MINUTE + 3)),
                ],
                "{name}: the last bucket"
            );
        }
    }

    #[test]
    fn finish_after_packing_equals_finish_without() {
        type Case = (
            &'static str,
            Vec<(Millis, &'static str, Outcome)>,
            Option<i64>,
        );
        let mut stragglers = events("10.0.0.1:80");
        stragglers.extend([
            (
                8,
                "10.0.0.1:80",
                failed_with(TerminationCause::ServerTimeout, b"sH"),
            ),
            (MINUTE + 2, "10.0.0.3:80", ok(9)),
            (20 * MINUTE, "10.0.0.1:80", ok(5)),
            (-MINUTE, "10.0.0.1:80", failed()),
        ]);
        let cases: [Case; 4] = [
            ("in order", events("10.0.0.1:80"), None),
            (
                "late requests into packed buckets",
                stragglers.clone(),
                None,
            ),
            (
                "widened to five minutes",
                stragglers.clone(),
                Some(5 * MINUTE),
            ),
            ("widened to an hour", stragglers, Some(60 * MINUTE)),
        ];
        for (name, events, wider_ms) in cases {
            let mut packing = DimensionBuilder::new(DimensionKind::Upstream, MINUTE, SLOW_US);
            let mut open = never_packing();
            record_all(&mut packing, &events);
            record_all(&mut open, &events);
            assert!(
                !packed_buckets(&packing).is_empty(),
                "{name}: something packed"
            );
            if let Some(wider_ms) = wider_ms {
                packing.widen(wider_ms);
                open.widen(wider_ms);
            }
            let bucket_ms = wider_ms.unwrap_or(MINUTE);
            let start = (-MINUTE).div_euclid(bucket_ms) * bucket_ms;
            let len = usize::try_from((21 * MINUTE - start) / bucket_ms + 1).unwrap_or(0);
            assert_eq!(packing.has_causes(), open.has_causes(), "{name}");
            let rows = |builder: &mut DimensionBuilder| {
                let mut rows: Vec<(i64, u16, DimensionCounts)> = builder
                    .settled_counts()
                    .map(|(index, id, counts)| (index, id, counts.clone()))
                    .collect();
                rows.sort_by_key(|row| (row.0, row.1));
                rows
            };
            assert_eq!(
                rows(&mut packing.clone()),
                rows(&mut open.clone()),
                "{name}"
            );
            let (packed, opened) = (packing.finish(start, len), open.finish(start, len));
            assert_eq!(packed, opened, "{name}");
            let totals = packed.totals(0..=len - 1);
            assert_eq!(totals[0].0, "10.0.0.1:80", "{name}");
            let (requests, failed) = (totals[0].1.requests, totals[0].1.failed);
            let expected = if events.len() > 8 { (9, 4) } else { (6, 2) };
            assert_eq!((requests, failed), expected, "{name}");
        }
    }
}
