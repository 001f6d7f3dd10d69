//! Widening a partial's buckets: when the requests span more buckets than
//! a run keeps, every accumulator of the [`Partial`] is re-bucketed at a
//! wider width that is a multiple of the one read with (so each narrow
//! bucket falls whole into one wide bucket), and the finished series is
//! the one a run at the wider `--bucket` would have given.
//!
//! What keeps the edges exact: a bucket's relative times (its first and
//! last bad request, its slots' first and last failure, its slow tail, its
//! users' spans) are moved by the narrow bucket's offset in the wide one,
//! and the wide bucket's slots are one second wide up to one-hour buckets
//! ([`super::buckets::MAX_SLOT_MS`]), as a narrow bucket's are, so a
//! narrow slot lands whole in one wide slot. The wider width is also
//! chosen so the wide buckets hold no more slots than the narrow ones did
//! ([`WIDEN_SLOT_FLOOR`] aside): widening never costs memory.

use super::buckets::{Bucket, NONE_REL, Slot, SlotTable, UserSpans, slot_index, slots_per_bucket};
use super::partial::Partial;

/// The widths a series is widened to, narrowest first: the widths people
/// read a chart in. A width that is not a multiple of the one read with is
/// skipped (a narrow bucket must fall whole into a wide one).
pub const WIDER_BUCKETS_MS: [i64; 10] = [
    60_000,
    5 * 60_000,
    15 * 60_000,
    30 * 60_000,
    3_600_000,
    3 * 3_600_000,
    6 * 3_600_000,
    12 * 3_600_000,
    86_400_000,
    7 * 86_400_000,
];

/// What widening did: the width read with, the width used, and how many
/// buckets the span would have needed at the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Widening {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Buckets from the first to the last request at `from_ms`.
    pub buckets_needed: u64,
    /// The most buckets a series may hold (the run's limit).
    pub limit: u64,
    /// From the start of the first bucket to the end of the last, at `from_ms`.
    pub span_ms: i64,
}

/// Buckets from the bucket of `first_ms` to the bucket of `last_ms` at
/// width `bucket_ms`.
fn buckets_between(first_ms: i64, last_ms: i64, bucket_ms: i64) -> u64 {
    (last_ms.div_euclid(bucket_ms) - first_ms.div_euclid(bucket_ms) + 1).max(0) as u64
}

/// A preset width is taken over the narrowest multiple that fits while it
/// is at most this many times wider: a series in round widths (5 min
/// rather than 3 min) reads better, but not at the cost of a much coarser
/// one (a 7 s bucket is never widened to the 7 d preset it divides).
pub const PRESET_SLACK: i64 = 3;

/// The width, a multiple of `bucket_ms`, at which the requests from
/// `first_ms` to `last_ms` fit in `limit` buckets and which `also` accepts
/// (the caller's memory bound): the narrowest such multiple, or the
/// narrowest such width of [`WIDER_BUCKETS_MS`] when it is at most
/// [`PRESET_SLACK`] times wider. `also` must accept a width holding the
/// whole span in one or two buckets.
pub fn wider_bucket_ms(
    bucket_ms: i64,
    (first_ms, last_ms): (i64, i64),
    limit: u64,
    also: impl Fn(i64) -> bool,
) -> i64 {
    let bucket_ms = bucket_ms.max(1);
    let limit = limit.max(1);
    let fits = |width: i64| buckets_between(first_ms, last_ms, width) <= limit && also(width);
    let needed = buckets_between(first_ms, last_ms, bucket_ms);
    // Fewer multiples cannot fit: k times wider holds at least 1/k of the
    // buckets. The next two multiples are tried (a wide bucket's edges may
    // split the span once more than the ratio says), then doubling, up to
    // the multiple that holds the whole span.
    let first_factor = needed.div_ceil(limit).max(2) as i64;
    let mut factor = first_factor;
    while !fits(bucket_ms.saturating_mul(factor)) && factor < needed as i64 {
        factor = if factor < first_factor + 2 {
            factor + 1
        } else {
            factor.saturating_mul(2)
        };
    }
    let narrowest = bucket_ms.saturating_mul(factor);
    WIDER_BUCKETS_MS
        .iter()
        .copied()
        .find(|&width| width > bucket_ms && width % bucket_ms == 0 && fits(width))
        .filter(|&preset| preset <= narrowest.saturating_mul(PRESET_SLACK))
        .unwrap_or(narrowest)
}

/// Slots a widened series may hold even when the narrow buckets held
/// fewer (2^20, 48 MiB): a short, sparse log is widened to the width the
/// bucket limit asks, not to days to save a few megabytes.
pub const WIDEN_SLOT_FLOOR: usize = 1 << 20;

impl Partial {
    /// Widens every accumulator when the requests span more than `limit`
    /// buckets, and says how; `None` when they fit (or there are none).
    pub fn widen_to_fit(&mut self, limit: u64) -> Option<Widening> {
        let from_ms = self.bucket_ms();
        let (first, last) = self.buckets.index_range()?;
        let (first_ms, last_ms) = (first * from_ms, last * from_ms);
        let buckets_needed = buckets_between(first_ms, last_ms, from_ms);
        if buckets_needed <= limit {
            return None;
        }
        // Never more slots than the narrow buckets hold (beyond the floor):
        // a wide bucket holds one-second slots up to an hour, so a very
        // sparse log widened to 30 min would hold a slot for every second
        // of its span where its minutes with a request held a minute's.
        // The two wide buckets at the ends, which the span may cover only
        // in part, are not counted.
        let (_, narrow_slots) = self.buckets.occupancy_at(from_ms);
        let budget = narrow_slots.max(WIDEN_SLOT_FLOOR);
        let to_ms = wider_bucket_ms(from_ms, (first_ms, last_ms), limit, |width| {
            let (occupied, _) = self.buckets.occupancy_at(width);
            occupied
                .saturating_sub(2)
                .saturating_mul(slots_per_bucket(width))
                <= budget
        });
        self.widen(to_ms);
        Some(Widening {
            from_ms,
            to_ms,
            buckets_needed,
            limit,
            span_ms: last_ms + from_ms - first_ms,
        })
    }

    /// Re-buckets every accumulator at `wider_ms`, a multiple of the width.
    pub fn widen(&mut self, wider_ms: i64) {
        let narrow_ms = self.bucket_ms();
        if wider_ms <= narrow_ms || wider_ms % narrow_ms != 0 {
            return;
        }
        self.buckets.widen(wider_ms, |wide, bucket, offset_ms| {
            add_share(wide, bucket, offset_ms, narrow_ms, wider_ms)
        });
        self.upstreams.widen(wider_ms);
        self.hosts.widen(wider_ms);
        self.clients.widen(wider_ms);
        self.paths.widen(wider_ms);
    }
}

/// Adds the narrow bucket `bucket` (`narrow_ms` wide, starting
/// `offset_ms` into the wide one) to the wide bucket `wide` (`wide_ms`):
/// every relative time moved by the offset, its slots added to the wide
/// bucket's slots (allocated once per wide bucket, not per share).
fn add_share(wide: &mut Bucket, mut bucket: Bucket, offset_ms: i64, narrow_ms: i64, wide_ms: i64) {
    let offset = u32::try_from(offset_ms).unwrap_or(u32::MAX - 1);
    let shift = |rel: &mut u32| {
        if *rel != NONE_REL {
            *rel = rel.saturating_add(offset);
        }
    };
    // A last time is 0 when there is none (its first time is NONE_REL):
    // moved only with a first time, so "none" stays none.
    if bucket.first_bad != NONE_REL {
        shift(&mut bucket.first_bad);
        bucket.last_bad = bucket.last_bad.saturating_add(offset);
    }
    if bucket.first_failed != NONE_REL {
        shift(&mut bucket.first_failed);
        bucket.last_failed = bucket.last_failed.saturating_add(offset);
    }
    bucket.slow_tail = bucket.slow_tail.shifted(offset);
    if let UserSpans::Sketched(sketch) = &mut bucket.users {
        if sketch.first != NONE_REL {
            shift(&mut sketch.first);
            sketch.last = sketch.last.saturating_add(offset);
        }
    } else {
        bucket.users = shifted_spans(&bucket.users, offset);
    }
    let slots = std::mem::take(&mut bucket.slots);
    // Everything but the slots merges as two views of one bucket do.
    wide.merge(&bucket);
    if !slots.is_empty() {
        add_slots(
            wide.slots.open(slots_per_bucket(wide_ms)),
            &slots,
            offset,
            narrow_ms,
            wide_ms,
        );
    }
}

/// `users`' spans with every relative time moved by `offset`.
fn shifted_spans(users: &UserSpans, offset: u32) -> UserSpans {
    let shift = |rel: &mut u32| {
        if *rel != NONE_REL {
            *rel = rel.saturating_add(offset);
        }
    };
    let mut users: Vec<(u64, super::buckets::UserSpan)> = users
        .iter()
        .map(|(user, mut span)| {
            shift(&mut span.first);
            span.last = span.last.saturating_add(offset);
            if span.first_bad != NONE_REL {
                shift(&mut span.first_bad);
                span.last_bad = span.last_bad.saturating_add(offset);
            }
            (user, span)
        })
        .collect();
    users.sort_unstable_by_key(|(user, _)| *user);
    UserSpans::Settled(users)
}

/// Adds the narrow bucket's `slots` to the wide bucket's: each narrow slot
/// goes whole into the wide slot holding its first millisecond.
fn add_slots(wide: &mut [Slot], slots: &SlotTable, offset: u32, narrow_ms: i64, wide_ms: i64) {
    let narrow_count = slots.len() as i64;
    for (index, slot) in slots.iter().enumerate() {
        if slot.requests == 0 {
            continue;
        }
        // The first relative time whose slot is `index` (slot_index floors).
        let slot_start = (index as i64 * narrow_ms + narrow_count - 1) / narrow_count;
        let at = slot_index(i64::from(offset) + slot_start, wide_ms, wide.len());
        let Some(target) = wide.get_mut(at) else {
            continue;
        };
        target.requests += slot.requests;
        target.failed += slot.failed;
        target.bad += slot.bad;
        if slot.first_failed != NONE_REL {
            target.first_failed = target
                .first_failed
                .min(slot.first_failed.saturating_add(offset));
            target.last_failed = target
                .last_failed
                .max(slot.last_failed.saturating_add(offset));
        }
        target.slow.merge(&slot.slow.shifted(offset));
    }
}

#[cfg(test)]
mod tests;
