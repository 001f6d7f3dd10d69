//! Latency histograms of a bucket: the log-linear [`LatencyHistogram`] of
//! every request's time (quantiles within 1%), and the [`SlowTail`] of the
//! successful requests slower than the ingest threshold, kept per bin with
//! their first and last time so a larger slow threshold can be applied once
//! the baseline is known.

use super::buckets::NONE_REL;
use super::packed::{Varints, push_varint};

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
///
/// Open, it counts in a vector indexed from its first bin to its last (one
/// bounds check a request). Once its bucket is settled, [`pack`] turns it
/// into varints of its non-empty bins (a few hundred bytes where the open
/// form of a wide latency range takes kilobytes); adding to a packed
/// histogram opens it again. Both forms hold the same counts: equality
/// ignores the form.
///
/// [`pack`]: LatencyHistogram::pack
#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram {
    /// The bin of `counts[0]`; when packed, the first non-empty bin.
    first_bin: u16,
    /// When packed, the last non-empty bin (a merge sizes its counts once
    /// without decoding the bins twice).
    last_packed_bin: u16,
    counts: Vec<u32>,
    /// Non-empty bins as (gap from the previous bin, count) varints; empty
    /// while open.
    packed: Box<[u8]>,
    total: u64,
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.total == other.total && self.bins().eq(other.bins())
    }
}

impl LatencyHistogram {
    #[inline]
    pub fn add(&mut self, micros: u64) {
        let bin = latency_bin(micros);
        // Nearly every request lands in a bin the histogram already spans:
        // one bounds check, no growth. A packed histogram has no counts, so
        // it always takes the slow path, which opens it.
        if let Some(count) = bin
            .checked_sub(self.first_bin)
            .and_then(|slot| self.counts.get_mut(usize::from(slot)))
        {
            *count = count.saturating_add(1);
            self.total += 1;
            return;
        }
        self.add_bin(bin, 1);
    }

    /// Every non-empty bin and its count, in bin order (what a partial
    /// file keeps of the histogram).
    pub fn bins(&self) -> Bins<'_> {
        if self.packed.is_empty() {
            Bins::Open {
                first_bin: self.first_bin,
                counts: self.counts.iter().enumerate(),
            }
        } else {
            Bins::Packed {
                varints: Varints::new(&self.packed),
                bin: 0,
            }
        }
    }

    /// Adds `count` values of bin `bin` (a partial file read back).
    pub fn add_bin(&mut self, bin: u16, count: u32) {
        if !self.packed.is_empty() {
            self.open();
        }
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
        if other.total == 0 {
            return;
        }
        if self.is_packed() {
            // A settled bucket meeting a straggler's few requests: the two
            // sorted bin lists are merged into a new packed one, without
            // opening the bucket's counts.
            let Some((first, last)) = other.nonempty_range() else {
                return;
            };
            let capacity = self.packed.len() + other.packed.len().max(other.counts.len());
            let packed = pack_bins(merge_sorted(self.bins(), other.bins()), capacity);
            self.total += other.total;
            self.first_bin = self.first_bin.min(first);
            self.last_packed_bin = self.last_packed_bin.max(last);
            self.packed = packed;
            return;
        }
        // Detection merges every bucket of a window into one histogram:
        // its range is made to cover the other's once, then each bin is
        // one addition.
        let Some((first, last)) = other.bin_range() else {
            return;
        };
        self.cover(first, last);
        for (bin, count) in other.bins() {
            if let Some(mine) = bin
                .checked_sub(self.first_bin)
                .and_then(|offset| self.counts.get_mut(usize::from(offset)))
            {
                *mine = mine.saturating_add(count);
            }
        }
        self.total += other.total;
    }

    /// The first and last bin the histogram spans (its first and last
    /// non-empty bin when packed), `None` when empty.
    fn bin_range(&self) -> Option<(u16, u16)> {
        if self.is_packed() {
            return Some((self.first_bin, self.last_packed_bin));
        }
        let span = u16::try_from(self.counts.len().checked_sub(1)?).ok()?;
        Some((self.first_bin, self.first_bin.saturating_add(span)))
    }

    /// The first and last non-empty bin, `None` when empty.
    fn nonempty_range(&self) -> Option<(u16, u16)> {
        if self.is_packed() {
            return Some((self.first_bin, self.last_packed_bin));
        }
        let first = self.counts.iter().position(|count| *count > 0)?;
        let last = self.counts.iter().rposition(|count| *count > 0)?;
        Some((self.first_bin + first as u16, self.first_bin + last as u16))
    }

    /// Grows the open counts to span `first..=last` (the histogram must be
    /// open).
    fn cover(&mut self, first: u16, last: u16) {
        if self.counts.is_empty() {
            self.first_bin = first;
            self.counts = vec![0; usize::from(last.saturating_sub(first)) + 1];
            return;
        }
        if first < self.first_bin {
            let grow = usize::from(self.first_bin - first);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_bin = first;
        }
        let needed = usize::from(last.saturating_sub(self.first_bin)) + 1;
        if needed > self.counts.len() {
            self.counts.resize(needed, 0);
        }
    }

    /// Turns the histogram into its packed form (see the type).
    pub fn pack(&mut self) {
        if self.counts.is_empty() {
            return;
        }
        // A busy minute fills about one bin in ten of its range.
        let Some((first, last)) = self.nonempty_range() else {
            return;
        };
        let packed = pack_bins(self.bins(), self.counts.len() / 4);
        self.counts = Vec::new();
        (self.first_bin, self.last_packed_bin) = (first, last);
        self.packed = packed;
    }

    /// Whether the histogram is in its packed form.
    pub fn is_packed(&self) -> bool {
        !self.packed.is_empty()
    }

    /// Back from the packed form to counts indexed by bin, allocated once.
    fn open(&mut self) {
        let packed = std::mem::take(&mut self.packed);
        let (first, last) = (self.first_bin, self.last_packed_bin);
        self.counts = vec![0; usize::from(last.saturating_sub(first)) + 1];
        let bins = Bins::Packed {
            varints: Varints::new(&packed),
            bin: 0,
        };
        for (bin, count) in bins {
            if let Some(slot) = bin
                .checked_sub(first)
                .and_then(|offset| self.counts.get_mut(usize::from(offset)))
            {
                *slot = count;
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
        for (bin, count) in self.bins() {
            seen += u64::from(count);
            if seen >= rank {
                let low = latency_bin_floor(bin) as f64;
                let high = latency_bin_floor(bin + 1) as f64;
                return Some(if bin < 64 { low } else { (low + high) / 2.0 });
            }
        }
        None
    }
}

/// `(bin, count)` pairs in bin order, packed as (gap from the previous
/// bin, count) varints.
fn pack_bins(bins: impl Iterator<Item = (u16, u32)>, capacity: usize) -> Box<[u8]> {
    let mut packed = Vec::with_capacity(capacity);
    let mut previous = 0u16;
    for (bin, count) in bins {
        push_varint(&mut packed, u64::from(bin - previous));
        push_varint(&mut packed, u64::from(count));
        previous = bin;
    }
    packed.into_boxed_slice()
}

/// Two bin lists in bin order merged into one, the counts of a bin both
/// hold added.
fn merge_sorted(
    mine: impl Iterator<Item = (u16, u32)>,
    theirs: impl Iterator<Item = (u16, u32)>,
) -> impl Iterator<Item = (u16, u32)> {
    let mut mine = mine.peekable();
    let mut theirs = theirs.peekable();
    std::iter::from_fn(
        move || match (mine.peek().copied(), theirs.peek().copied()) {
            (Some(a), Some(b)) if a.0 == b.0 => {
                mine.next();
                theirs.next();
                Some((a.0, a.1.saturating_add(b.1)))
            }
            (Some(a), Some(b)) if a.0 < b.0 => mine.next(),
            (Some(_), Some(_)) => theirs.next(),
            (Some(_), None) => mine.next(),
            (None, _) => theirs.next(),
        },
    )
}

/// The non-empty bins of a [`LatencyHistogram`], open or packed.
#[derive(Clone, Debug)]
pub enum Bins<'a> {
    Open {
        first_bin: u16,
        counts: std::iter::Enumerate<std::slice::Iter<'a, u32>>,
    },
    Packed {
        varints: Varints<'a>,
        /// The bin of the previous pair.
        bin: u16,
    },
}

impl Iterator for Bins<'_> {
    type Item = (u16, u32);

    #[inline(always)]
    fn next(&mut self) -> Option<(u16, u32)> {
        match self {
            Bins::Open { first_bin, counts } => counts
                .find(|(_, count)| **count > 0)
                .map(|(offset, count)| (*first_bin + offset as u16, *count)),
            Bins::Packed { varints, bin } => {
                let gap = u16::try_from(varints.next()?).ok()?;
                let count = u32::try_from(varints.next()?).ok()?;
                *bin = bin.checked_add(gap)?;
                Some((*bin, count))
            }
        }
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
    /// The empty tail, usable in a `static`.
    pub const EMPTY: SlowTail = SlowTail { bins: Vec::new() };

    /// Count, first and last relative time of every request in the tail.
    pub fn all(&self) -> TailBin {
        let mut result = TailBin {
            count: 0,
            first: NONE_REL,
            last: 0,
        };
        for (_, value) in &self.bins {
            result.count += value.count;
            result.first = result.first.min(value.first);
            result.last = result.last.max(value.last);
        }
        result
    }

    pub(super) fn add(&mut self, micros: u64, rel_ms: u32) {
        self.add_bin(
            latency_bin(micros.saturating_sub(1)),
            TailBin {
                count: 1,
                first: rel_ms,
                last: rel_ms,
            },
        );
    }

    /// Every bin of the tail with its count and times, in bin order: bin
    /// `k` holds latencies in `(floor(k), floor(k + 1)]`
    /// ([`latency_bin_floor`]).
    pub fn bins(&self) -> &[(u16, TailBin)] {
        &self.bins
    }

    /// Adds the requests of one bin (a partial file read back).
    pub fn add_bin(&mut self, bin: u16, value: TailBin) {
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

    pub(super) fn merge(&mut self, other: &SlowTail) {
        for &(bin, value) in &other.bins {
            self.add_bin(bin, value);
        }
    }

    /// The same tail with every relative time moved `offset_ms` later: the
    /// bucket's requests seen from the start of a wider bucket.
    pub(super) fn shifted(&self, offset_ms: u32) -> SlowTail {
        let shift = |rel: u32| {
            if rel == NONE_REL {
                rel
            } else {
                rel.saturating_add(offset_ms)
            }
        };
        SlowTail {
            bins: self
                .bins
                .iter()
                .map(|&(bin, value)| {
                    (
                        bin,
                        TailBin {
                            count: value.count,
                            first: shift(value.first),
                            last: shift(value.last),
                        },
                    )
                })
                .collect(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_histogram_counts_as_the_open_one() {
        let wide: Vec<u64> = (0..2_000u64).map(|i| 1 + i * i * 15).collect();
        let many_of_one: Vec<u64> = std::iter::repeat_n(52_000, 70_000).collect();
        let cases: [(&str, &[u64]); 4] = [
            ("one value", &[1_000]),
            ("below 64 us, one bin each", &[0, 1, 2, 63]),
            ("1 us to 60 s", &wide),
            ("a count past two varint bytes", &many_of_one),
        ];
        for (name, values) in cases {
            let mut open = LatencyHistogram::default();
            values.iter().for_each(|&v| open.add(v));
            let mut packed = open.clone();
            packed.pack();
            assert!(packed.is_packed(), "{name}");
            assert_eq!(
                packed.bins().collect::<Vec<_>>(),
                open.bins().collect::<Vec<_>>(),
                "{name}"
            );
            assert_eq!(packed.count(), values.len() as u64, "{name}");
            for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
                assert_eq!(packed.quantile(q), open.quantile(q), "{name}: q {q}");
            }
            // Adding opens it again; merging reads either form.
            packed.add(7_000_000);
            open.add(7_000_000);
            assert!(!packed.is_packed(), "{name}");
            assert_eq!(packed, open, "{name}: after an add");
            let mut other = LatencyHistogram::default();
            other.add(3);
            let mut packed_other = other.clone();
            packed_other.pack();
            other.merge(&open);
            packed_other.merge(&packed);
            assert_eq!(other, packed_other, "{name}: merged");
            // Packed into packed, every bin in both: the counts add up.
            let mut doubled = open.clone();
            doubled.merge(&open);
            let mut packed_doubled = open.clone();
            packed_doubled.pack();
            packed_doubled.merge(&packed);
            assert!(packed_doubled.is_packed(), "{name}: merged without opening");
            assert_eq!(packed_doubled, doubled, "{name}: doubled");
            assert_eq!(packed_doubled.count(), 2 * open.count(), "{name}");
        }
        let mut empty = LatencyHistogram::default();
        empty.pack();
        assert!(!empty.is_packed(), "an empty histogram has nothing to pack");
        assert_eq!(empty.quantile(0.5), None);
    }

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
}
