//! The slots of a bucket: its requests counted per second (per sixtieth
//! of a bucket narrower than a minute), with the first and last failure and
//! the slow tail of each, so an incident's edges fall on actual requests.
//!
//! A [`SlotTable`] is open (one [`Slot`] per slot, indexed directly) while
//! its bucket is filled, and packed once the bucket is settled: the slots
//! that hold only requests as two short arrays (slot, requests), the few
//! with a failed or slow request whole. A minute of a busy log then takes
//! ~400 bytes instead of 2.9 KB, and a sparse log's minute with a few
//! requests a few dozen (BENCHMARKS.md, "The week, twelfth session").

use std::borrow::Cow;

use super::buckets::NONE_REL;
use super::latency::SlowTail;

/// Counts for one slot (one sixtieth of a bucket), with the arrival of its
/// first and last failure and its slow requests by latency bin, so an
/// incident's edges are the arrival of an actual request at any slow
/// threshold (never a slot boundary) and slow counts are exact per slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub requests: u32,
    pub failed: u32,
    /// Failed, or slower than the ingest threshold.
    pub bad: u32,
    /// First and last failed request (relative ms in the bucket);
    /// `first_failed` is `NONE_REL` when none failed.
    pub first_failed: u32,
    pub last_failed: u32,
    /// Successful requests slower than the ingest threshold; empty (no
    /// allocation) in the common slot without one.
    pub slow: SlowTail,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            requests: 0,
            failed: 0,
            bad: 0,
            first_failed: NONE_REL,
            last_failed: 0,
            slow: SlowTail::default(),
        }
    }
}

/// What one slot holds once the slow threshold is fixed: counts and the
/// first and last arrival (relative ms in the bucket) of its failed and
/// slow requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotView {
    pub requests: u64,
    pub failed: u64,
    /// Successful and slower than the threshold.
    pub slow: u64,
    pub failed_span: Option<(u32, u32)>,
    pub slow_span: Option<(u32, u32)>,
}

impl SlotView {
    /// First and last arrival of a failed or slow request.
    pub fn bad_span(&self) -> Option<(u32, u32)> {
        match (self.failed_span, self.slow_span) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        }
    }
}

/// The empty slot of a bucket without requests.
pub(super) static EMPTY_SLOT: Slot = Slot {
    requests: 0,
    failed: 0,
    bad: 0,
    first_failed: NONE_REL,
    last_failed: 0,
    slow: SlowTail::EMPTY,
};

impl Slot {
    /// The slot judged at `threshold_us`, which must be the ingest threshold
    /// or a bin floor above it (see [`snap_threshold_us`]).
    pub fn view(&self, threshold_us: u64, ingest_slow_us: u64) -> SlotView {
        let tail = if threshold_us == ingest_slow_us {
            self.slow.all()
        } else {
            self.slow.above(threshold_us)
        };
        SlotView {
            requests: u64::from(self.requests),
            failed: u64::from(self.failed),
            slow: u64::from(tail.count),
            failed_span: (self.first_failed != NONE_REL)
                .then_some((self.first_failed, self.last_failed)),
            slow_span: (tail.count > 0).then_some((tail.first, tail.last)),
        }
    }
}

/// The slots of one bucket, open or packed (see the module). Both forms
/// hold the same counts: equality ignores the form.
#[derive(Clone, Debug, Default)]
pub struct SlotTable {
    form: Form,
}

#[derive(Clone, Debug)]
enum Form {
    /// One entry per slot; empty for a bucket without requests.
    Open(Vec<Slot>),
    Packed(PackedSlots),
}

impl Default for Form {
    fn default() -> Self {
        Form::Open(Vec::new())
    }
}

/// A settled bucket's slots.
#[derive(Clone, Debug)]
struct PackedSlots {
    len: usize,
    /// The slots holding requests and nothing else (no failure, nothing
    /// slow), ascending, with their requests.
    plain_index: Box<[u16]>,
    plain_requests: Box<[u32]>,
    /// The slots with a failed or slow request, whole, ascending.
    marked: Box<[(u16, Slot)]>,
}

impl PartialEq for SlotTable {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl SlotTable {
    /// `len` empty slots, open.
    pub fn with_len(len: usize) -> Self {
        SlotTable {
            form: Form::Open(vec![Slot::default(); len]),
        }
    }

    /// Number of slots: 0 for a bucket without requests, whose slots are
    /// never allocated.
    pub fn len(&self) -> usize {
        match &self.form {
            Form::Open(slots) => slots.len(),
            Form::Packed(packed) => packed.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slot `index`; the empty slot past the end (a bucket without
    /// requests).
    pub fn get(&self, index: usize) -> Cow<'_, Slot> {
        match &self.form {
            Form::Open(slots) => Cow::Borrowed(slots.get(index).unwrap_or(&EMPTY_SLOT)),
            Form::Packed(packed) => packed.get(index),
        }
    }

    /// Every slot in order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Slot>> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// The slots to add to, opened (or allocated, `len` of them, when the
    /// bucket had none).
    #[inline]
    pub fn open(&mut self, len: usize) -> &mut [Slot] {
        if !matches!(&self.form, Form::Open(slots) if !slots.is_empty()) {
            self.open_cold(len);
        }
        match &mut self.form {
            Form::Open(slots) => slots,
            Form::Packed(_) => &mut [],
        }
    }

    #[cold]
    fn open_cold(&mut self, len: usize) {
        self.form = Form::Open(match &self.form {
            Form::Packed(packed) => packed.unpack(),
            Form::Open(_) => vec![Slot::default(); len.max(1)],
        });
    }

    /// Slot `index` to add to (the table opened), `None` past the end.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut Slot> {
        if self.is_empty() {
            return None;
        }
        let len = self.len();
        self.open(len).get_mut(index)
    }

    /// Whether the table is in its packed form.
    pub fn is_packed(&self) -> bool {
        matches!(self.form, Form::Packed(_))
    }

    /// Packs the slots (see the module); nothing to do for a bucket
    /// without requests.
    pub fn pack(&mut self) {
        let Form::Open(slots) = &self.form else {
            return;
        };
        if slots.is_empty() {
            return;
        }
        let mut plain_index = Vec::new();
        let mut plain_requests = Vec::new();
        let mut marked = Vec::new();
        for (index, slot) in slots.iter().enumerate() {
            let only_requests = Slot {
                requests: slot.requests,
                ..Slot::default()
            };
            if *slot == only_requests {
                if slot.requests > 0 {
                    plain_index.push(index as u16);
                    plain_requests.push(slot.requests);
                }
            } else {
                marked.push((index as u16, slot.clone()));
            }
        }
        self.form = Form::Packed(PackedSlots {
            len: slots.len(),
            plain_index: plain_index.into_boxed_slice(),
            plain_requests: plain_requests.into_boxed_slice(),
            marked: marked.into_boxed_slice(),
        });
    }
}

impl PackedSlots {
    fn get(&self, index: usize) -> Cow<'_, Slot> {
        let Ok(index) = u16::try_from(index) else {
            return Cow::Borrowed(&EMPTY_SLOT);
        };
        if let Ok(at) = self.marked.binary_search_by_key(&index, |(i, _)| *i) {
            return Cow::Borrowed(&self.marked[at].1);
        }
        match self.plain_index.binary_search(&index) {
            Ok(at) => Cow::Owned(Slot {
                requests: self.plain_requests[at],
                ..Slot::default()
            }),
            Err(_) => Cow::Borrowed(&EMPTY_SLOT),
        }
    }

    fn unpack(&self) -> Vec<Slot> {
        let mut slots = vec![Slot::default(); self.len];
        for (&index, &requests) in self.plain_index.iter().zip(self.plain_requests.iter()) {
            if let Some(slot) = slots.get_mut(usize::from(index)) {
                slot.requests = requests;
            }
        }
        for (index, slot) in self.marked.iter() {
            if let Some(target) = slots.get_mut(usize::from(*index)) {
                *target = slot.clone();
            }
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(requests: u32, failed: u32, slow_ms: Option<u32>) -> Slot {
        let mut slot = Slot {
            requests,
            failed,
            bad: failed + u32::from(slow_ms.is_some()),
            ..Slot::default()
        };
        if failed > 0 {
            slot.first_failed = 1_200;
            slot.last_failed = 1_900;
        }
        if let Some(at) = slow_ms {
            slot.slow.add(2_500_000, at);
        }
        slot
    }

    #[test]
    fn packed_slots_read_as_open_ones() {
        let cases: [(&str, Vec<Slot>); 4] = [
            (
                "a busy minute",
                (0..60).map(|s| slot(50 + s, 0, None)).collect(),
            ),
            (
                "failures and a slow request among plain slots",
                (0..60)
                    .map(|s| match s {
                        7 => slot(40, 3, None),
                        8 => slot(41, 0, Some(8_100)),
                        9 => slot(42, 1, Some(9_900)),
                        _ => slot(30, 0, None),
                    })
                    .collect(),
            ),
            (
                "a sparse hour bucket: 3,600 slots, two with requests",
                (0..3_600)
                    .map(|s| match s {
                        0 => slot(1, 0, None),
                        3_599 => slot(2, 1, None),
                        _ => Slot::default(),
                    })
                    .collect(),
            ),
            ("no requests at all", vec![Slot::default(); 60]),
        ];
        for (name, slots) in cases {
            let mut table = SlotTable::with_len(slots.len());
            table.open(slots.len()).clone_from_slice(&slots);
            let open = table.clone();
            table.pack();
            assert!(table.is_packed(), "{name}");
            assert_eq!(table.len(), slots.len(), "{name}");
            for (index, want) in slots.iter().enumerate() {
                assert_eq!(*table.get(index), *want, "{name}: slot {index}");
            }
            assert_eq!(
                *table.get(slots.len()),
                Slot::default(),
                "{name}: past the end"
            );
            assert_eq!(table, open, "{name}: equal across forms");
            // Adding opens it again with every count in place.
            if let Some(first) = table.get_mut(0) {
                first.requests += 1;
            }
            assert!(!table.is_packed(), "{name}");
            assert_eq!(table.get(0).requests, slots[0].requests + 1, "{name}");
            assert_eq!(*table.get(7), slots[7], "{name}: reopened");
        }
        let mut empty = SlotTable::default();
        empty.pack();
        assert!(!empty.is_packed() && empty.is_empty());
        assert_eq!(
            empty.get_mut(0),
            None,
            "a bucket without requests has no slot to add to"
        );
    }
}
