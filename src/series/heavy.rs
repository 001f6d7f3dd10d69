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

use std::hash::{BuildHasher, Hash};

use rustc_hash::{FxBuildHasher, FxHashMap};

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
#[derive(Clone, Copy, Debug)]
pub struct Counter<K> {
    pub key: K,
    pub count: u64,
    pub first: Millis,
    pub last: Millis,
}

/// A Misra–Gries summary of `N` counters over one bucket's items.
#[derive(Clone, Debug)]
pub struct HeavyHitters<K, const N: usize> {
    total: u64,
    /// At most `N`; a counter whose count fell to 0 is free and keeps its
    /// place (the first free one is taken next, as in a fixed array of `N`
    /// whose unused tail is not allocated).
    counters: Vec<Counter<K>>,
}

impl<K, const N: usize> Default for HeavyHitters<K, N> {
    fn default() -> Self {
        HeavyHitters {
            total: 0,
            counters: Vec::new(),
        }
    }
}

impl<K: Copy + Eq + Default, const N: usize> HeavyHitters<K, N> {
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
        }
    }

    /// Counts one item of `key` at `at`.
    #[inline]
    pub fn add(&mut self, key: K, at: Millis) {
        self.total += 1;
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

    /// Folds `other` in (Agarwal et al.'s merge).
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        let mut all: Vec<Counter<K>> = self.live().copied().collect();
        for theirs in other.live() {
            match all.iter_mut().find(|c| c.key == theirs.key) {
                Some(mine) => {
                    mine.count += theirs.count;
                    mine.first = mine.first.min(theirs.first);
                    mine.last = mine.last.max(theirs.last);
                }
                None => all.push(*theirs),
            }
        }
        all.sort_by_key(|c| std::cmp::Reverse(c.count));
        let excess = all.get(N).map_or(0, |c| c.count);
        // Sorted by count, so those left with items are a prefix.
        self.counters = all
            .into_iter()
            .take(N)
            .take_while(|counter| counter.count > excess)
            .map(|counter| Counter {
                count: counter.count - excess,
                ..counter
            })
            .collect();
    }

    /// The counters in use.
    pub fn live(&self) -> impl Iterator<Item = &Counter<K>> {
        self.counters.iter().filter(|c| c.count > 0)
    }

    /// The counter with the most items.
    pub fn heaviest(&self) -> Option<&Counter<K>> {
        self.live().max_by_key(|c| c.count)
    }

    /// The counter of `key`, if it has one.
    pub fn get(&self, key: &K) -> Option<&Counter<K>> {
        self.live().find(|c| c.key == *key)
    }
}

/// Something kept per bucket that can absorb another of its kind.
pub trait Mergeable: Default {
    fn merge_from(&mut self, other: &Self);
}

impl<K: Copy + Eq + Default, const N: usize> Mergeable for HeavyHitters<K, N> {
    fn merge_from(&mut self, other: &Self) {
        self.merge(other);
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

    /// Moves the bucket being filled into the table.
    fn park(&mut self) {
        if let Some((index, summary)) = self.current.take() {
            self.buckets.insert(index, Box::new(summary));
        }
    }

    pub fn merge(&mut self, mut other: PerBucket<S>) {
        self.park();
        other.park();
        for (index, summary) in other.buckets {
            match self.buckets.get_mut(&index) {
                Some(mine) => mine.merge_from(&summary),
                None => {
                    self.buckets.insert(index, summary);
                }
            }
        }
    }

    /// Re-buckets the summaries at `wider_ms`, a multiple of the width
    /// (the summaries of the buckets a wider one covers, merged).
    pub fn widen(&mut self, wider_ms: i64) {
        self.park();
        let factor = (wider_ms / self.bucket_ms).max(1);
        self.bucket_ms *= factor;
        for (index, summary) in std::mem::take(&mut self.buckets) {
            match self.buckets.get_mut(&index.div_euclid(factor)) {
                Some(mine) => mine.merge_from(&summary),
                None => {
                    self.buckets.insert(index.div_euclid(factor), summary);
                }
            }
        }
    }

    /// Adds the summary of bucket `index` (a partial file read back).
    pub fn absorb(&mut self, index: i64, summary: S) {
        self.park();
        match self.buckets.get_mut(&index) {
            Some(mine) => mine.merge_from(&summary),
            None => {
                self.buckets.insert(index, Box::new(summary));
            }
        }
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
}
