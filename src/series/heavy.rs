//! Heavy hitters per bucket: which keys (clients, paths) account for most of
//! a bucket's requests of some kind, without a table of every key.
//!
//! A [`HeavyHitters`] is a Misra–Gries summary (Misra & Gries, "Finding
//! repeated elements", 1982) of `N` counters with fixed-size keys: nothing
//! is allocated per line, and a bucket's counters are allocated by its
//! first item (most buckets have no 4xx client and no bad path, and a week
//! of one-minute buckets holds 10,080 of each summary). Every key with
//! more than `n / (N + 1)` of a bucket's `n` items keeps a counter, and a
//! counter undercounts by at most `n / (N + 1)`. Summaries merge as Agarwal et al., "Mergeable summaries"
//! (PODS 2012) show: add the counters, then subtract the (N + 1)-th largest
//! from all, which keeps the same bound, so parsing threads and files
//! combine in any order. No sketch crate offers a mergeable Misra–Gries
//! summary over borrowed byte keys without a per-key allocation; this one is
//! small.
//!
//! Only the bucket being written keeps its counters open, as fixed-size
//! [`Counter`]s a line can update without allocating (~96 bytes each: a
//! [`ByteKey`] holds 64 bytes inline). A bucket put away ([`PerBucket`]'s
//! table, which is what a week's run holds) keeps them packed
//! ([`HeavyHitters::settle`]): keys as their own bytes (IPs and paths are
//! mostly 10-25 of them), counts and times as varints, in one boxed byte
//! string. A week of one-minute buckets from four hosts (10,080 buckets,
//! 35 M lines) held 19.0 MB of these summaries at the heap's peak with
//! every bucket open (14 MB of it the merged buckets' counters), 5.9 MB
//! packed: the peak went from 93.7 to 80.6 MB.
//! A settled bucket written to again (a line out of order) is unpacked by
//! its first new key; reads decode the counters as they go.

use std::hash::{BuildHasher, Hash};

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::series::packed::{Varints, push_varint, unzigzag, zigzag};
use crate::timefmt::Millis;

/// Bytes of a key kept: an IPv6 address in text takes at most 45
/// (`INET6_ADDRSTRLEN` less the NUL); longer values (host names written by
/// `HostnameLookups On`, long URL paths) are cut and marked with `…`.
pub const KEY_BYTES: usize = 64;

/// A byte string cut to [`KEY_BYTES`], stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ByteKey {
    len: u8,
    truncated: bool,
    bytes: [u8; KEY_BYTES],
}

impl Default for ByteKey {
    fn default() -> Self {
        ByteKey {
            len: 0,
            truncated: false,
            bytes: [0; KEY_BYTES],
        }
    }
}

impl ByteKey {
    pub fn new(value: &[u8]) -> ByteKey {
        let len = value.len().min(KEY_BYTES);
        let mut bytes = [0; KEY_BYTES];
        bytes[..len].copy_from_slice(&value[..len]);
        ByteKey {
            len: len as u8,
            truncated: value.len() > KEY_BYTES,
            bytes,
        }
    }

    /// The kept bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether the value was longer than [`KEY_BYTES`] and cut.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// A key read back from a partial file: its kept bytes (at most
    /// [`KEY_BYTES`]) and whether the value was cut.
    pub fn from_parts(bytes: &[u8], truncated: bool) -> ByteKey {
        let mut key = ByteKey::new(bytes);
        key.truncated |= truncated;
        key
    }

    /// The key as text, `…` marking a cut.
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(self.bytes());
        if self.truncated {
            format!("{text}…")
        } else {
            text.into_owned()
        }
    }

    /// A 64-bit hash of the kept bytes, to count the same key in a summary
    /// keyed by hashes.
    pub fn hash64(&self) -> u64 {
        hash_bytes(self.bytes())
    }
}

impl std::fmt::Debug for ByteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// The hash [`ByteKey::hash64`] gives for the first [`KEY_BYTES`] of `value`.
#[inline]
pub fn hash_bytes(value: &[u8]) -> u64 {
    let mut hasher = FxBuildHasher.build_hasher();
    value[..value.len().min(KEY_BYTES)].hash(&mut hasher);
    std::hash::Hasher::finish(&hasher)
}

/// One Misra–Gries counter, with when its key's counted items came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter<K> {
    pub key: K,
    pub count: u64,
    pub first: Millis,
    pub last: Millis,
}

/// A key a packed summary can hold: written as bytes and read back equal.
pub trait PackedKey: Copy + Eq + Default {
    /// Appends the key's byte form to `bytes`.
    fn push_packed(&self, bytes: &mut Vec<u8>);
    /// Reads a key [`PackedKey::push_packed`] wrote, `None` if `reader`
    /// holds no whole key.
    fn read_packed(reader: &mut Varints<'_>) -> Option<Self>;
}

impl PackedKey for ByteKey {
    /// Its length and truncated flag as one varint, then its kept bytes:
    /// an IPv4 client takes 8-16 bytes instead of the 66 of the open form.
    fn push_packed(&self, bytes: &mut Vec<u8>) {
        let kept = self.bytes();
        push_varint(
            bytes,
            ((kept.len() as u64) << 1) | u64::from(self.is_truncated()),
        );
        bytes.extend_from_slice(kept);
    }

    fn read_packed(reader: &mut Varints<'_>) -> Option<Self> {
        let head = reader.next()?;
        let kept = reader.take(usize::try_from(head >> 1).ok()?)?;
        Some(ByteKey::from_parts(kept, head & 1 == 1))
    }
}

/// Keys that are numbers (ids, hashes): one varint.
impl PackedKey for u64 {
    fn push_packed(&self, bytes: &mut Vec<u8>) {
        push_varint(bytes, *self);
    }

    fn read_packed(reader: &mut Varints<'_>) -> Option<Self> {
        reader.next()
    }
}

/// Appends the packed form of `counters`, in their order, free ones
/// included: the order decides which of two equal counts
/// [`HeavyHitters::heaviest`] names and which free counter a new key
/// takes, so a summary packed and unpacked behaves as if never packed.
///
/// The earliest `first` of the live counters as a zigzag varint, then per
/// counter its count as a varint; a free counter (count 0) ends there, a
/// live one goes on with its key, `first` after the earliest and `last`
/// after `first` as varints (wrapping, so even times a partial file wrote
/// out of order come back as they were). A minute's counter with a
/// 15-byte key takes ~22 bytes instead of ~96.
fn pack_counters<K: PackedKey>(counters: &[Counter<K>]) -> Box<[u8]> {
    let live = || counters.iter().filter(|c| c.count > 0);
    let Some(earliest) = live().map(|c| c.first).min() else {
        // No live counter: nothing to keep (free counters are only worth
        // their places among live ones).
        return Box::default();
    };
    let mut bytes = Vec::with_capacity(8 + counters.len() * 24);
    push_varint(&mut bytes, zigzag(earliest));
    for counter in counters {
        push_varint(&mut bytes, counter.count);
        if counter.count == 0 {
            continue;
        }
        counter.key.push_packed(&mut bytes);
        push_varint(&mut bytes, counter.first.wrapping_sub(earliest) as u64);
        push_varint(&mut bytes, counter.last.wrapping_sub(counter.first) as u64);
    }
    bytes.into_boxed_slice()
}

/// The counters of a [`pack_counters`] byte string, free ones included, in
/// their order.
#[derive(Clone, Debug)]
struct PackedCounters<'a, K> {
    reader: Varints<'a>,
    earliest: Millis,
    key: std::marker::PhantomData<K>,
}

impl<'a, K: PackedKey> PackedCounters<'a, K> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut reader = Varints::new(bytes);
        let earliest = reader.next().map_or(0, unzigzag);
        PackedCounters {
            reader,
            earliest,
            key: std::marker::PhantomData,
        }
    }
}

impl<K: PackedKey> Iterator for PackedCounters<'_, K> {
    type Item = Counter<K>;

    fn next(&mut self) -> Option<Counter<K>> {
        if self.reader.is_empty() {
            return None;
        }
        let count = self.reader.next()?;
        if count == 0 {
            return Some(Counter {
                key: K::default(),
                count: 0,
                first: 0,
                last: 0,
            });
        }
        let key = K::read_packed(&mut self.reader)?;
        let first = self.earliest.wrapping_add(self.reader.next()? as i64);
        let last = first.wrapping_add(self.reader.next()? as i64);
        Some(Counter {
            key,
            count,
            first,
            last,
        })
    }
}

/// A Misra–Gries summary of `N` counters over one bucket's items.
///
/// Its counters are either open (`counters`: the bucket being written) or
/// packed (`packed`: a settled bucket, see the module documentation); at
/// most one of the two holds any.
#[derive(Clone, Debug)]
pub struct HeavyHitters<K, const N: usize> {
    total: u64,
    /// At most `N`; a counter whose count fell to 0 is free and keeps its
    /// place (the first free one is taken next, as in a fixed array of `N`
    /// whose unused tail is not allocated).
    counters: Vec<Counter<K>>,
    /// The counters in [`pack_counters`]' form while settled, else empty
    /// (an empty box allocates nothing). A separate field rather than an
    /// enum with `counters`, so that [`HeavyHitters::add`] finding its key's
    /// counter (most lines) checks nothing more than before: only a key
    /// without a counter looks here.
    packed: Box<[u8]>,
}

impl<K, const N: usize> Default for HeavyHitters<K, N> {
    fn default() -> Self {
        HeavyHitters {
            total: 0,
            counters: Vec::new(),
            packed: Box::default(),
        }
    }
}

impl<K: PackedKey, const N: usize> HeavyHitters<K, N> {
    /// Items counted, heavy or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// A summary of `total` items holding `counters` (a partial file read
    /// back): the same summary as merging each counter's items, the
    /// largest `N` kept when there are more.
    pub fn from_counters(total: u64, counters: &[Counter<K>]) -> Self {
        let mut live: Vec<Counter<K>> = counters.iter().filter(|c| c.count > 0).copied().collect();
        live.sort_by_key(|c| std::cmp::Reverse(c.count));
        live.truncate(N);
        HeavyHitters {
            total,
            counters: live,
            packed: Box::default(),
        }
    }

    /// Counts one item of `key` at `at`.
    #[inline]
    pub fn add(&mut self, key: K, at: Millis) {
        self.total += 1;
        self.count(key, at);
    }

    /// The counter update of [`HeavyHitters::add`].
    #[inline]
    fn count(&mut self, key: K, at: Millis) {
        if let Some(counter) = self
            .counters
            .iter_mut()
            .find(|c| c.count > 0 && c.key == key)
        {
            counter.count += 1;
            counter.first = counter.first.min(at);
            counter.last = counter.last.max(at);
            return;
        }
        if !self.packed.is_empty() {
            // Packed, `counters` is empty and no key was found above.
            self.count_in_packed(key, at);
            return;
        }
        let new = Counter {
            key,
            count: 1,
            first: at,
            last: at,
        };
        if let Some(free) = self.counters.iter_mut().find(|c| c.count == 0) {
            *free = new;
            return;
        }
        if self.counters.len() < N {
            self.counters.push(new);
            return;
        }
        // Every counter is taken: the new item and one of each counter's
        // cancel out (the Misra–Gries decrement).
        for counter in &mut self.counters {
            counter.count -= 1;
        }
    }

    /// Counts an item in a settled summary: opens it for good (the
    /// bucket is being written again, and [`PerBucket`] packs it when it
    /// puts it away).
    #[cold]
    #[inline(never)]
    fn count_in_packed(&mut self, key: K, at: Millis) {
        self.unpack();
        self.count(key, at);
    }

    /// Packs the open counters (see the module documentation), for a
    /// bucket no line is expected to be written to any more.
    pub fn settle(&mut self) {
        if self.counters.is_empty() {
            return;
        }
        self.packed = pack_counters(&self.counters);
        self.counters = Vec::new();
    }

    /// Opens packed counters again, in their order, free ones included.
    fn unpack(&mut self) {
        if self.packed.is_empty() {
            return;
        }
        let mut counters = Vec::with_capacity(N);
        counters.extend(PackedCounters::new(&self.packed).take(N));
        self.counters = counters;
        self.packed = Box::default();
    }

    /// Whether the counters are packed ([`HeavyHitters::settle`]).
    pub fn is_packed(&self) -> bool {
        !self.packed.is_empty()
    }

    /// Every counter, free ones included, in order, whichever the form.
    fn all_counters(&self) -> impl Iterator<Item = Counter<K>> + '_ {
        self.counters
            .iter()
            .copied()
            .chain(PackedCounters::new(&self.packed))
    }

    /// Folds `other` in (Agarwal et al.'s merge). The result is open;
    /// [`PerBucket`] packs it again as it keeps it.
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        let mut all: Vec<Counter<K>> = self.live().collect();
        for theirs in other.live() {
            match all.iter_mut().find(|c| c.key == theirs.key) {
                Some(mine) => {
                    mine.count += theirs.count;
                    mine.first = mine.first.min(theirs.first);
                    mine.last = mine.last.max(theirs.last);
                }
                None => all.push(theirs),
            }
        }
        all.sort_by_key(|c| std::cmp::Reverse(c.count));
        let excess = all.get(N).map_or(0, |c| c.count);
        // Sorted by count, so those left with items are a prefix.
        let kept = all
            .iter()
            .take(N)
            .take_while(|counter| counter.count > excess)
            .count();
        // A vector of its own size: collected from `all` in place, it
        // could keep `all`'s room for both summaries' counters.
        let mut counters = Vec::with_capacity(kept);
        counters.extend(all[..kept].iter().map(|counter| Counter {
            count: counter.count - excess,
            ..*counter
        }));
        self.counters = counters;
        self.packed = Box::default();
    }

    /// The counters in use, in order (decoded one by one when packed).
    pub fn live(&self) -> impl Iterator<Item = Counter<K>> + '_ {
        self.all_counters().filter(|c| c.count > 0)
    }

    /// The counter with the most items (of equal ones, the last).
    pub fn heaviest(&self) -> Option<Counter<K>> {
        self.live().max_by_key(|c| c.count)
    }

    /// The counter of `key`, if it has one.
    pub fn get(&self, key: &K) -> Option<Counter<K>> {
        self.live().find(|c| c.key == *key)
    }
}

/// Something kept per bucket that can absorb another of its kind.
pub trait Mergeable: Default {
    fn merge_from(&mut self, other: &Self);

    /// Puts the summary in the compact form of a bucket nobody writes to
    /// any more (it must still read, merge and take items the same).
    fn settle(&mut self);
}

impl<K: PackedKey, const N: usize> Mergeable for HeavyHitters<K, N> {
    fn merge_from(&mut self, other: &Self) {
        self.merge(other);
    }

    fn settle(&mut self) {
        HeavyHitters::settle(self);
    }
}

/// Per-bucket summaries, with the bucket being filled kept apart so a log
/// in time order costs no hash lookup per line.
#[derive(Clone, Debug)]
pub struct PerBucket<S> {
    bucket_ms: i64,
    current: Option<(i64, S)>,
    /// `[start, end)` of the current bucket in ms: a range check per item,
    /// not a 64-bit division.
    current_ms: (Millis, Millis),
    /// Boxed: the table then grows by 16-byte entries (a summary is a few
    /// hundred bytes, and a table that doubles holds both sizes at once,
    /// with up to half its room unused), and a sparse month's 43,200
    /// buckets cost their summaries, not twice that.
    buckets: FxHashMap<i64, Box<S>>,
}

impl<S: Mergeable + Clone> PerBucket<S> {
    pub fn new(bucket_ms: i64) -> Self {
        PerBucket {
            bucket_ms: bucket_ms.max(1),
            current: None,
            current_ms: (0, 0),
            buckets: FxHashMap::default(),
        }
    }

    pub fn bucket_ms(&self) -> i64 {
        self.bucket_ms
    }

    /// The summary of the bucket holding `at`.
    #[inline]
    pub fn at(&mut self, at: Millis) -> &mut S {
        let (start, end) = self.current_ms;
        if self.current.is_none() || !(start..end).contains(&at) {
            let index = at.div_euclid(self.bucket_ms);
            self.park();
            let summary = self
                .buckets
                .remove(&index)
                .map_or_else(S::default, |summary| *summary);
            self.current = Some((index, summary));
            let start = index.saturating_mul(self.bucket_ms);
            self.current_ms = (start, start.saturating_add(self.bucket_ms));
        }
        let bucket_ms = self.bucket_ms;
        let (_, summary) = self
            .current
            .get_or_insert_with(|| (at.div_euclid(bucket_ms), S::default()));
        summary
    }

    /// Moves the bucket being filled into the table, settled: whatever
    /// the table holds is in its compact form.
    fn park(&mut self) {
        if let Some((index, mut summary)) = self.current.take() {
            summary.settle();
            self.buckets.insert(index, Box::new(summary));
        }
    }

    /// Merges `summary` into the table's bucket `index`, or keeps it there.
    fn merge_into_table(&mut self, index: i64, mut summary: Box<S>) {
        match self.buckets.get_mut(&index) {
            Some(mine) => {
                mine.merge_from(&summary);
                mine.settle();
            }
            None => {
                summary.settle();
                self.buckets.insert(index, summary);
            }
        }
    }

    pub fn merge(&mut self, mut other: PerBucket<S>) {
        self.park();
        other.park();
        for (index, summary) in other.buckets {
            self.merge_into_table(index, summary);
        }
    }

    /// Re-buckets the summaries at `wider_ms`, a multiple of the width
    /// (the summaries of the buckets a wider one covers, merged).
    pub fn widen(&mut self, wider_ms: i64) {
        self.park();
        let factor = (wider_ms / self.bucket_ms).max(1);
        self.bucket_ms *= factor;
        for (index, summary) in std::mem::take(&mut self.buckets) {
            self.merge_into_table(index.div_euclid(factor), summary);
        }
    }

    /// Adds the summary of bucket `index` (a partial file read back).
    pub fn absorb(&mut self, index: i64, summary: S) {
        self.park();
        self.merge_into_table(index, Box::new(summary));
    }

    /// Every bucket `(index, summary)`, in time order.
    pub fn sorted(&self) -> Vec<(i64, &S)> {
        let mut all: Vec<(i64, &S)> = self
            .buckets
            .iter()
            .map(|(index, summary)| (*index, &**summary))
            .chain(
                self.current
                    .as_ref()
                    .map(|(index, summary)| (*index, summary)),
            )
            .collect();
        all.sort_unstable_by_key(|(index, _)| *index);
        all
    }

    /// The summary of bucket `index`, if any item fell in it.
    pub fn get(&self, index: i64) -> Option<&S> {
        match &self.current {
            Some((current, summary)) if *current == index => Some(summary),
            _ => self.buckets.get(&index).map(|summary| &**summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Summary = HeavyHitters<ByteKey, 8>;

    fn key(text: &str) -> ByteKey {
        ByteKey::new(text.as_bytes())
    }

    #[test]
    fn the_heavy_key_survives_more_keys_than_counters() {
        let mut summary = Summary::default();
        for i in 0..1000u64 {
            summary.add(key("203.0.113.9"), i as i64);
            if i % 10 == 0 {
                // Twelve other keys, more than there are counters.
                summary.add(key(&format!("198.51.100.{}", i % 12)), i as i64);
            }
        }
        let top = summary.heaviest().expect("a counter");
        assert_eq!(top.key.text(), "203.0.113.9");
        assert_eq!(summary.total(), 1100);
        // Undercount at most total / (N + 1) = 122.
        assert!(top.count >= 1000 - 1100 / 9, "{}", top.count);
        assert_eq!((top.first, top.last), (0, 999));
    }

    #[test]
    fn merged_summaries_keep_the_bound() {
        let items: Vec<String> = (0..600)
            .map(|i| {
                if i % 3 == 0 {
                    format!("10.0.0.{}", i % 40)
                } else {
                    "192.0.2.1".to_string()
                }
            })
            .collect();
        let mut whole = Summary::default();
        let (mut left, mut right) = (Summary::default(), Summary::default());
        for (i, item) in items.iter().enumerate() {
            whole.add(key(item), i as i64);
            let half = if i % 2 == 0 { &mut left } else { &mut right };
            half.add(key(item), i as i64);
        }
        left.merge(&right);
        assert_eq!(left.total(), 600);
        for summary in [&left, &whole] {
            let top = summary.heaviest().expect("top");
            assert_eq!(top.key.text(), "192.0.2.1");
            // 400 true items; within the n / (N + 1) = 66 bound.
            assert!((400 - 66..=400).contains(&top.count), "{}", top.count);
        }
    }

    #[test]
    fn long_keys_are_cut_and_marked() {
        let long = "a".repeat(100);
        let mut summary = Summary::default();
        summary.add(key(&long), 0);
        summary.add(key(&long), 1);
        let top = summary.heaviest().expect("top");
        assert_eq!(top.count, 2);
        assert_eq!(top.key.text(), format!("{}…", "a".repeat(KEY_BYTES)));
        assert_eq!(top.key.hash64(), hash_bytes(long.as_bytes()));
    }

    #[test]
    fn per_bucket_summaries_merge_whatever_the_order() {
        let minute = 60_000;
        let mut in_order = PerBucket::<HeavyHitters<u64, 4>>::new(minute);
        let (mut even, mut odd) = (
            PerBucket::<HeavyHitters<u64, 4>>::new(minute),
            PerBucket::<HeavyHitters<u64, 4>>::new(minute),
        );
        for i in 0..300i64 {
            // Back and forth between minutes 0, 1 and 2.
            let at = (i % 3) * minute + i;
            in_order.at(at).add(7, at);
            let half = if i % 2 == 0 { &mut even } else { &mut odd };
            half.at(at).add(7, at);
        }
        even.merge(odd);
        for buckets in [&in_order, &even] {
            let counts: Vec<(i64, u64)> = buckets
                .sorted()
                .into_iter()
                .map(|(index, s)| (index, s.get(&7).map_or(0, |c| c.count)))
                .collect();
            assert_eq!(counts, vec![(0, 100), (1, 100), (2, 100)]);
        }
    }

    fn counter(text: &str, count: u64, first: Millis, last: Millis) -> Counter<ByteKey> {
        Counter {
            key: key(text),
            count,
            first,
            last,
        }
    }

    /// A counter as `(key, count, first, last)`.
    type Slot = (String, u64, Millis, Millis);

    /// Every counter, a free one (whose key and times nothing reads) as
    /// `("", 0, 0, 0)`.
    fn slots(summary: &Summary) -> Vec<Slot> {
        summary
            .all_counters()
            .map(|c| match c.count {
                0 => (String::new(), 0, 0, 0),
                _ => (c.key.text(), c.count, c.first, c.last),
            })
            .collect()
    }

    /// Summaries the packing tests start from, by name.
    fn starting_summaries() -> Vec<(&'static str, Summary)> {
        let long = "/a".repeat(50);
        let mut freed = Summary::default();
        // Eight keys take the eight counters, a ninth cancels one item of
        // each: the keys counted once free their counters.
        for (i, text) in ["k0", "k1", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]
            .iter()
            .enumerate()
        {
            freed.add(key(text), 1_000 + i as i64);
        }
        let mut minute = Summary::default();
        for i in 0..50i64 {
            minute.add(key("203.0.113.9"), 60_000 + i * 1_000);
            if i % 5 == 0 {
                minute.add(key("198.51.100.7"), 60_000 + i * 900);
            }
        }
        vec![
            ("empty", Summary::default()),
            (
                "one IPv4 client",
                Summary::from_counters(3, &[counter("203.0.113.9", 3, 60_000, 60_500)]),
            ),
            ("a busy minute", minute),
            (
                "a long path, cut, and one of exactly the kept length",
                Summary::from_counters(
                    9,
                    &[
                        counter(&long, 5, 1_710_000_000_000, 1_710_000_059_999),
                        counter(
                            &"b".repeat(KEY_BYTES),
                            4,
                            1_710_000_000_001,
                            1_710_000_000_002,
                        ),
                    ],
                ),
            ),
            ("freed counters keep their places", freed),
            (
                "times a partial file wrote out of order and at the extremes",
                Summary::from_counters(
                    4,
                    &[
                        counter("late-first", 2, 5_000, -5_000),
                        counter("min", 1, Millis::MIN, Millis::MAX),
                        counter("max", 1, Millis::MAX, Millis::MIN),
                    ],
                ),
            ),
        ]
    }

    #[test]
    fn a_packed_summary_reads_as_the_open_one() {
        let expected: [(&str, Vec<Slot>); 6] = [
            ("empty", vec![]),
            (
                "one IPv4 client",
                vec![("203.0.113.9".into(), 3, 60_000, 60_500)],
            ),
            (
                "a busy minute",
                vec![
                    ("203.0.113.9".into(), 50, 60_000, 109_000),
                    ("198.51.100.7".into(), 10, 60_000, 100_500),
                ],
            ),
            (
                "a long path, cut, and one of exactly the kept length",
                vec![
                    (
                        format!("{}…", "/a".repeat(KEY_BYTES / 2)),
                        5,
                        1_710_000_000_000,
                        1_710_000_059_999,
                    ),
                    (
                        "b".repeat(KEY_BYTES),
                        4,
                        1_710_000_000_001,
                        1_710_000_000_002,
                    ),
                ],
            ),
            (
                "freed counters keep their places",
                vec![
                    (String::new(), 0, 0, 0),
                    ("k1".into(), 1, 1_001, 1_002),
                    (String::new(), 0, 0, 0),
                    (String::new(), 0, 0, 0),
                    (String::new(), 0, 0, 0),
                    (String::new(), 0, 0, 0),
                    (String::new(), 0, 0, 0),
                    (String::new(), 0, 0, 0),
                ],
            ),
            (
                "times a partial file wrote out of order and at the extremes",
                vec![
                    ("late-first".into(), 2, 5_000, -5_000),
                    ("min".into(), 1, Millis::MIN, Millis::MAX),
                    ("max".into(), 1, Millis::MAX, Millis::MIN),
                ],
            ),
        ];
        for ((name, open), (expected_name, expected)) in
            starting_summaries().into_iter().zip(expected)
        {
            assert_eq!(name, expected_name);
            let mut packed = open.clone();
            packed.settle();
            assert_eq!(packed.is_packed(), open.live().count() > 0, "{name}");
            assert!(packed.counters.is_empty(), "{name}: nothing left open");
            assert_eq!(packed.total(), open.total(), "{name}");
            if expected.iter().all(|slot| slot.1 == 0) {
                assert!(
                    slots(&packed).is_empty(),
                    "{name}: nothing live, nothing kept"
                );
            } else {
                assert_eq!(slots(&packed), expected, "{name}: packed");
                assert_eq!(slots(&open), expected, "{name}: open");
            }
            assert_eq!(
                packed.live().collect::<Vec<_>>(),
                open.live().collect::<Vec<_>>(),
                "{name}"
            );
            assert_eq!(packed.heaviest(), open.heaviest(), "{name}");
            for counter in open.live() {
                assert_eq!(packed.get(&counter.key), Some(counter), "{name}");
            }
            assert_eq!(packed.get(&key("not counted")), None, "{name}");
            // Unpacked, it takes the next items as the open one does: a
            // new key in the first free counter, or the decrement.
            let (mut reopened, mut kept_open) = (packed.clone(), open.clone());
            for (i, text) in ["new-1", "203.0.113.9", "new-2", "k1", "new-3"]
                .iter()
                .enumerate()
            {
                reopened.add(key(text), 7_000 + i as i64);
                kept_open.add(key(text), 7_000 + i as i64);
            }
            assert!(!reopened.is_packed(), "{name}: opened by its new key");
            assert_eq!(reopened.total(), kept_open.total(), "{name}");
            assert_eq!(
                reopened.live().collect::<Vec<_>>(),
                kept_open.live().collect::<Vec<_>>(),
                "{name}: after more items"
            );
        }
    }

    #[test]
    fn packed_counters_take_their_own_bytes() {
        let cases: [(&str, Summary, usize); 3] = [
            ("empty", Summary::default(), 0),
            (
                // Earliest 60,000 (zigzag 120,000: 3 bytes), count 1 byte,
                // length 1 + 11 key bytes, first +0 (1) and last +500 (2).
                "one IPv4 client",
                Summary::from_counters(3, &[counter("203.0.113.9", 3, 60_000, 60_500)]),
                19,
            ),
            (
                // The 64 kept bytes, not the 100 written, after their
                // length and cut flag (129: two bytes).
                "a cut key",
                Summary::from_counters(1, &[counter(&"x".repeat(100), 1, 0, 0)]),
                1 + 1 + 2 + KEY_BYTES + 1 + 1,
            ),
        ];
        for (name, mut summary, bytes) in cases {
            summary.settle();
            assert_eq!(summary.packed.len(), bytes, "{name}");
        }
    }

    #[test]
    fn merging_into_a_packed_summary_equals_merging_open_ones() {
        let starting = starting_summaries();
        for (name, mine) in &starting {
            for (their_name, theirs) in &starting {
                let mut open = mine.clone();
                open.merge(theirs);
                for (form, mine_packed, theirs_packed) in [
                    ("mine packed", true, false),
                    ("theirs packed", false, true),
                    ("both packed", true, true),
                ] {
                    let mut merged = mine.clone();
                    if mine_packed {
                        merged.settle();
                    }
                    let mut other = theirs.clone();
                    if theirs_packed {
                        other.settle();
                    }
                    merged.merge(&other);
                    let what = format!("{name} + {their_name}, {form}");
                    assert_eq!(merged.total(), open.total(), "{what}");
                    assert_eq!(slots(&merged), slots(&open), "{what}");
                }
            }
        }
        // Concrete: the busy minute and a client met in both.
        let mut minute = starting[2].1.clone();
        minute.settle();
        let mut other = Summary::from_counters(4, &[counter("198.51.100.7", 4, 50_000, 61_000)]);
        other.settle();
        minute.merge(&other);
        assert_eq!(
            slots(&minute),
            vec![
                ("203.0.113.9".to_string(), 50, 60_000, 109_000),
                ("198.51.100.7".to_string(), 14, 50_000, 100_500),
            ]
        );
        assert_eq!(minute.total(), 64);
    }

    #[test]
    fn per_bucket_byte_keys_merge_and_settle_whatever_the_order() {
        let minute = 60_000;
        // (client, arrival): minute 0's last lines come after minute 1's
        // first, so minute 0 is settled and written again.
        let lines: Vec<(&str, i64)> = (0..240i64)
            .map(|i| {
                let client = match i % 4 {
                    0 | 1 => "203.0.113.9",
                    2 => "198.51.100.7",
                    _ => "2001:db8::1",
                };
                let at = if i % 7 == 0 {
                    // Late lines of minute 0.
                    minute - 1 - i
                } else {
                    (i % 3) * minute + i
                };
                (client, at)
            })
            .collect();
        let build = |lines: &[(&str, i64)]| {
            let mut buckets = PerBucket::<Summary>::new(minute);
            for &(client, at) in lines {
                buckets.at(at).add(key(client), at);
            }
            buckets
        };
        // Per bucket: its index, total and counters sorted by key.
        let read = |buckets: &PerBucket<Summary>| -> Vec<(i64, u64, Vec<Slot>)> {
            buckets
                .sorted()
                .into_iter()
                .map(|(index, summary)| {
                    let mut counters: Vec<Slot> = summary
                        .live()
                        .map(|c| (c.key.text(), c.count, c.first, c.last))
                        .collect();
                    counters.sort();
                    (index, summary.total(), counters)
                })
                .collect()
        };
        let in_order = read(&build(&lines));
        type Part<'a> = Vec<(&'a str, Millis)>;
        let groupings: [(&str, Vec<Part>); 3] = [
            ("halves", vec![lines[..120].to_vec(), lines[120..].to_vec()]),
            (
                "halves, the later first",
                vec![lines[120..].to_vec(), lines[..120].to_vec()],
            ),
            (
                "every third line apart",
                (0..3)
                    .map(|k| lines.iter().copied().skip(k).step_by(3).collect())
                    .collect(),
            ),
        ];
        for (name, parts) in groupings {
            let mut parts = parts.iter().map(|part| build(part));
            let Some(mut merged) = parts.next() else {
                continue;
            };
            for part in parts {
                merged.merge(part);
            }
            assert!(
                merged.buckets.values().all(|s| s.counters.is_empty()),
                "{name}: every merged bucket packed"
            );
            assert_eq!(read(&merged), in_order, "{name}");
        }
        // At most three clients a minute, fewer than the counters: exact.
        let totals: Vec<(i64, u64)> = in_order.iter().map(|(i, total, _)| (*i, *total)).collect();
        assert_eq!(totals, vec![(0, 103), (1, 68), (2, 69)]);
        assert_eq!(
            in_order[1].2,
            vec![
                ("198.51.100.7".to_string(), 17, 60_010, 60_226),
                ("2001:db8::1".to_string(), 17, 60_019, 60_235),
                ("203.0.113.9".to_string(), 34, 60_001, 60_232),
            ]
        );
    }
}
