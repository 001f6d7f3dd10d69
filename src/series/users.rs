//! The users of a bucket: one [`UserSpan`] per distinct user (first and
//! last request, first and last bad one, slowest success), held in a hash
//! map while requests are folded in, in a sorted vector while merged, and
//! as varints ([`PackedSpans`]) once packed; or, once the run's spans pass
//! their memory budget, sketches ([`super::user_sketch`]).

use rustc_hash::FxHashMap;

use super::buckets::NONE_REL;
use super::packed::{Varints, push_u64, push_varint};
use super::user_sketch::UserSketch;

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
    pub(crate) fn new() -> Self {
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

    pub(super) fn merge(&mut self, other: &UserSpan) {
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
/// `Sketched` holds fewer: distinct counts only, no spans ([`iter`] gives
/// nothing; see [`UserSpans::sketch`]).
///
/// [`iter`]: UserSpans::iter
#[derive(Clone, Debug)]
pub enum UserSpans {
    Open(FxHashMap<u64, UserSpan>),
    Settled(Vec<(u64, UserSpan)>),
    Packed(PackedSpans),
    Sketched(Box<UserSketch>),
}

/// A settled bucket's users, sorted by user: the user id in 8 bytes (ids
/// are hashes: as the varint of the gap from the previous one they take as
/// much, and longer to write), then varints: the first arrival, the last
/// less the first, the slowest success shifted left two bits with "had a
/// failed request" and "had a bad request" below it, and for a bad user
/// its first bad arrival and the last less the first. About 16 bytes a
/// user where the sorted vector takes 32 (a minute's arrivals take 3), so
/// the spans a run holds before its budget switches them to sketches take
/// half the memory. Lossless for every value.
#[derive(Clone, Debug)]
pub struct PackedSpans {
    users: u32,
    bytes: Box<[u8]>,
}

/// The low bits of a packed user's tag.
const TAG_BAD: u64 = 1;
const TAG_FAILED: u64 = 2;
const TAG_BITS: u32 = 2;

impl PackedSpans {
    /// Packs users sorted by id (as [`UserSpans::Settled`] holds them).
    fn pack(sorted: &[(u64, UserSpan)]) -> Self {
        let mut bytes = Vec::with_capacity(sorted.len() * 16);
        for (user, span) in sorted {
            push_u64(&mut bytes, *user);
            push_varint(&mut bytes, u64::from(span.first));
            push_varint(&mut bytes, u64::from(span.last.wrapping_sub(span.first)));
            // "Bad" by its fields, not by `had_bad`, so that a span whose
            // last bad arrival alone is set comes back as it was.
            let bad = span.first_bad != NONE_REL || span.last_bad != 0;
            let tag = u64::from(span.max_ok_latency_us) << TAG_BITS
                | if span.had_failed { TAG_FAILED } else { 0 }
                | if bad { TAG_BAD } else { 0 };
            push_varint(&mut bytes, tag);
            if bad {
                push_varint(&mut bytes, u64::from(span.first_bad));
                push_varint(
                    &mut bytes,
                    u64::from(span.last_bad.wrapping_sub(span.first_bad)),
                );
            }
        }
        PackedSpans {
            users: u32::try_from(sorted.len()).unwrap_or(u32::MAX),
            bytes: bytes.into_boxed_slice(),
        }
    }

    fn iter(&self) -> PackedIter<'_> {
        PackedIter {
            varints: Varints::new(&self.bytes),
            left: self.users,
        }
    }

    fn unpack(&self) -> Vec<(u64, UserSpan)> {
        let mut sorted = Vec::with_capacity(self.users as usize);
        sorted.extend(self.iter());
        sorted
    }
}

/// The users of [`PackedSpans`], in order of id.
#[derive(Clone, Debug)]
pub struct PackedIter<'a> {
    varints: Varints<'a>,
    left: u32,
}

impl Iterator for PackedIter<'_> {
    type Item = (u64, UserSpan);

    #[inline]
    fn next(&mut self) -> Option<(u64, UserSpan)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Only this process writes these bytes: a value that does not
        // decode or fit is a bug, and the iteration stops there.
        let user = self.varints.next_u64()?;
        let next_u32 =
            |varints: &mut Varints<'_>| varints.next().and_then(|value| u32::try_from(value).ok());
        let first = next_u32(&mut self.varints)?;
        let last = first.wrapping_add(next_u32(&mut self.varints)?);
        let tag = self.varints.next()?;
        let (first_bad, last_bad) = if tag & TAG_BAD != 0 {
            let first_bad = next_u32(&mut self.varints)?;
            (
                first_bad,
                first_bad.wrapping_add(next_u32(&mut self.varints)?),
            )
        } else {
            (NONE_REL, 0)
        };
        let span = UserSpan {
            first,
            last,
            first_bad,
            last_bad,
            max_ok_latency_us: u32::try_from(tag >> TAG_BITS).ok()?,
            had_failed: tag & TAG_FAILED != 0,
        };
        Some((user, span))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
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
            (UserSpans::Sketched(a), UserSpans::Sketched(b)) => a == b,
            (UserSpans::Sketched(_), _) | (_, UserSpans::Sketched(_)) => false,
            _ => self.len() == other.len() && self.sorted() == other.sorted(),
        }
    }
}

impl UserSpans {
    /// Number of distinct users: an estimate when sketched.
    pub fn len(&self) -> usize {
        match self {
            UserSpans::Open(map) => map.len(),
            UserSpans::Settled(sorted) => sorted.len(),
            UserSpans::Packed(packed) => packed.users as usize,
            UserSpans::Sketched(sketch) => sketch.estimate() as usize,
        }
    }

    /// Users held one by one (what the memory budget counts): none when
    /// sketched.
    pub fn exact_len(&self) -> usize {
        match self {
            UserSpans::Open(map) => map.len(),
            UserSpans::Settled(sorted) => sorted.len(),
            UserSpans::Packed(packed) => packed.users as usize,
            UserSpans::Sketched(_) => 0,
        }
    }

    /// The sketches, when the bucket's users are no longer held one by one.
    pub fn sketch(&self) -> Option<&UserSketch> {
        match self {
            UserSpans::Sketched(sketch) => Some(sketch),
            _ => None,
        }
    }

    /// The earliest and latest arrival among the bucket's requests
    /// (relative ms), `None` without requests.
    pub fn arrival_range(&self) -> Option<(u32, u32)> {
        match self {
            UserSpans::Sketched(sketch) => {
                (sketch.first != NONE_REL).then_some((sketch.first, sketch.last))
            }
            _ => {
                let first = self.values().map(|s| s.first).min()?;
                let last = self.values().map(|s| s.last).max()?;
                Some((first, last))
            }
        }
    }

    /// Turns the spans into sketches (kept as they are when sketched).
    pub fn switch_to_sketch(&mut self) {
        if matches!(self, UserSpans::Sketched(_)) {
            return;
        }
        let mut sketch = UserSketch::new();
        for (user, span) in self.iter() {
            sketch.add_span(user, &span);
        }
        *self = UserSpans::Sketched(Box::new(sketch));
    }

    /// Folds one request of `user` at `rel_ms` in.
    #[inline]
    pub(super) fn record(
        &mut self,
        user: u64,
        rel_ms: u32,
        bad: bool,
        failed: bool,
        duration_us: Option<u64>,
    ) {
        if let UserSpans::Sketched(sketch) = self {
            sketch.add(user, rel_ms, bad);
            return;
        }
        let span = self.open().entry(user).or_insert_with(UserSpan::new);
        span.first = span.first.min(rel_ms);
        span.last = span.last.max(rel_ms);
        if bad {
            span.first_bad = span.first_bad.min(rel_ms);
            span.last_bad = span.last_bad.max(rel_ms);
        }
        if failed {
            span.had_failed = true;
        } else {
            let latency = duration_us.unwrap_or(0).min(u64::from(u32::MAX)) as u32;
            span.max_ok_latency_us = span.max_ok_latency_us.max(latency);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every user and span, in no particular order (by id once settled
    /// or packed); none when sketched.
    pub fn iter(&self) -> UserSpansIter<'_> {
        match self {
            UserSpans::Open(map) => UserSpansIter::Open(map.iter()),
            UserSpans::Settled(sorted) => UserSpansIter::Settled(sorted.iter()),
            UserSpans::Packed(packed) => UserSpansIter::Packed(packed.iter()),
            UserSpans::Sketched(_) => UserSpansIter::Settled([].iter()),
        }
    }

    /// Every user, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = u64> {
        self.iter().map(|(user, _)| user)
    }

    /// Every user's span, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = UserSpan> {
        self.iter().map(|(_, span)| span)
    }

    /// The span of `user`, if the user was seen.
    pub fn get(&self, user: u64) -> Option<UserSpan> {
        match self {
            UserSpans::Open(map) => map.get(&user).copied(),
            UserSpans::Settled(sorted) => sorted
                .binary_search_by_key(&user, |(u, _)| *u)
                .ok()
                .map(|at| sorted[at].1),
            UserSpans::Packed(packed) => packed
                .iter()
                .take_while(|(u, _)| *u <= user)
                .find(|(u, _)| *u == user)
                .map(|(_, span)| span),
            UserSpans::Sketched(_) => None,
        }
    }

    fn sorted(&self) -> Vec<(u64, UserSpan)> {
        let mut all: Vec<(u64, UserSpan)> = self.iter().collect();
        all.sort_unstable_by_key(|(u, _)| *u);
        all
    }

    /// The map to fold into, reopening a settled set (a request that
    /// arrives long after its bucket was settled: rare). Never called on
    /// sketches (their callers match them first).
    #[inline]
    fn open(&mut self) -> &mut FxHashMap<u64, UserSpan> {
        if !matches!(self, UserSpans::Open(_)) {
            self.reopen();
        }
        match self {
            UserSpans::Open(map) => map,
            _ => unreachable!("reopened just above"),
        }
    }

    /// [`UserSpans::open`]'s rare path, kept out of line so that the check
    /// inlines into every request's fold: with the reopening inside it,
    /// the compiler sometimes called it (~20 instructions a line,
    /// callgrind).
    #[cold]
    #[inline(never)]
    fn reopen(&mut self) {
        match self {
            UserSpans::Settled(sorted) => {
                let map: FxHashMap<u64, UserSpan> = sorted.drain(..).collect();
                *self = UserSpans::Open(map);
            }
            UserSpans::Packed(packed) => {
                let map: FxHashMap<u64, UserSpan> = packed.iter().collect();
                *self = UserSpans::Open(map);
            }
            UserSpans::Sketched(_) => *self = UserSpans::Open(FxHashMap::default()),
            UserSpans::Open(_) => {}
        }
    }

    /// Packs a bucket's users nothing will be added to for a while: the
    /// spans become [`PackedSpans`], the sketches the settled width
    /// ([`UserSketch::pack`]). A later request opens them again.
    pub fn pack(&mut self) {
        match self {
            UserSpans::Sketched(sketch) => sketch.pack(),
            UserSpans::Packed(_) => {}
            UserSpans::Settled(sorted) => *self = UserSpans::Packed(PackedSpans::pack(sorted)),
            UserSpans::Open(_) => {
                self.settle();
                self.pack();
            }
        }
    }

    /// Turns the map into the sorted vector (packed spans stay packed:
    /// they are sorted too).
    pub fn settle(&mut self) {
        if let UserSpans::Open(map) = self {
            let mut sorted: Vec<(u64, UserSpan)> = Vec::with_capacity(map.len());
            sorted.extend(map.drain());
            sorted.sort_unstable_by_key(|(user, _)| *user);
            *self = UserSpans::Settled(sorted);
        }
    }

    /// Adds `other`'s users (another partial's view of the same bucket).
    /// Sketched on either side gives a sketch.
    pub(super) fn merge(&mut self, other: &UserSpans) {
        if let UserSpans::Packed(packed) = self {
            *self = UserSpans::Settled(packed.unpack());
        }
        if let UserSpans::Packed(packed) = other {
            self.merge(&UserSpans::Settled(packed.unpack()));
            return;
        }
        match (&mut *self, other) {
            (UserSpans::Sketched(mine), UserSpans::Sketched(theirs)) => mine.merge(theirs),
            (UserSpans::Sketched(_), _) => {
                let mut theirs = other.clone();
                theirs.switch_to_sketch();
                self.merge(&theirs);
            }
            (_, UserSpans::Sketched(_)) => {
                self.switch_to_sketch();
                self.merge(other);
            }
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
                    map.entry(user)
                        .and_modify(|mine| mine.merge(&span))
                        .or_insert(span);
                }
            }
        }
    }
}

/// Iterator over a bucket's users: `(user, span)` pairs, by value (the
/// packed form has no pair to point at).
pub enum UserSpansIter<'a> {
    Open(std::collections::hash_map::Iter<'a, u64, UserSpan>),
    Settled(std::slice::Iter<'a, (u64, UserSpan)>),
    Packed(PackedIter<'a>),
}

impl Iterator for UserSpansIter<'_> {
    type Item = (u64, UserSpan);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            UserSpansIter::Open(iter) => iter.next().map(|(user, span)| (*user, *span)),
            UserSpansIter::Settled(iter) => iter.next().copied(),
            UserSpansIter::Packed(iter) => iter.next(),
        }
    }
}

impl<'a> IntoIterator for &'a UserSpans {
    type Item = (u64, UserSpan);
    type IntoIter = UserSpansIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn user_sets_merge_alike_open_settled_or_packed() {
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
        #[derive(Clone, Copy)]
        enum Form {
            Open,
            Settled,
            Packed,
        }
        let cases = [
            ("open into open", Form::Open, Form::Open),
            ("settled into settled", Form::Settled, Form::Settled),
            ("open into settled", Form::Settled, Form::Open),
            ("settled into open", Form::Open, Form::Settled),
            ("packed into packed", Form::Packed, Form::Packed),
            ("open into packed", Form::Packed, Form::Open),
            ("packed into settled", Form::Settled, Form::Packed),
        ];
        let make = |users: &[(u64, UserSpan)], form: Form| {
            let mut set = UserSpans::Open(users.iter().copied().collect());
            match form {
                Form::Open => {}
                Form::Settled => set.settle(),
                Form::Packed => set.pack(),
            }
            set
        };
        for (name, left_form, right_form) in cases {
            let mut merged = make(&left, left_form);
            merged.merge(&make(&right, right_form));
            assert_eq!(merged.len(), 5, "{name}");
            assert_eq!(merged.sorted(), expected, "{name}");
            merged.settle();
            assert_eq!(
                merged,
                UserSpans::Settled(expected.clone()),
                "{name}: settled"
            );
            assert_eq!(merged.get(5), Some(expected[1].1), "{name}: lookup");
            assert_eq!(merged.get(6), None, "{name}: absent user");
            merged.pack();
            assert!(matches!(merged, UserSpans::Packed(_)), "{name}: packed");
            assert_eq!(
                merged,
                UserSpans::Settled(expected.clone()),
                "{name}: packed"
            );
            assert_eq!(merged.exact_len(), 5, "{name}: packed");
            assert_eq!(merged.get(5), Some(expected[1].1), "{name}: packed lookup");
            assert_eq!(merged.get(6), None, "{name}: packed, absent user");
            assert_eq!(merged.get(12), None, "{name}: packed, past the last user");
        }
    }

    #[test]
    fn packed_spans_give_back_every_value() {
        let full = UserSpan {
            first: u32::MAX,
            last: 0,
            first_bad: u32::MAX - 1,
            last_bad: 3,
            max_ok_latency_us: u32::MAX,
            had_failed: true,
        };
        let cases: [(&str, Vec<(u64, UserSpan)>); 5] = [
            ("no users", vec![]),
            ("one good user", vec![(42, span(100, 59_999, None, false))]),
            (
                "bad and failed users",
                vec![
                    (1, span(0, 0, Some((0, 0)), true)),
                    (2, span(5, 7, Some((6, 6)), false)),
                ],
            ),
            (
                "the extremes of every field",
                vec![(0, full), (u64::MAX, full)],
            ),
            (
                "a last bad arrival without a first",
                vec![(
                    7,
                    UserSpan {
                        last_bad: 9,
                        ..span(1, 2, None, false)
                    },
                )],
            ),
        ];
        for (name, users) in cases {
            let mut set = UserSpans::Settled(users.clone());
            set.pack();
            let back: Vec<(u64, UserSpan)> = set.iter().collect();
            assert_eq!(back, users, "{name}");
            assert_eq!(set.len(), users.len(), "{name}");
        }
        // Ids are hashes: about 8 bytes of gap and 8 more of span a user,
        // half the sorted vector's 32.
        let many: Vec<(u64, UserSpan)> = (0..1_000u64)
            .map(|n| {
                (
                    n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    span((n * 59) as u32, (n * 59 + 40) as u32, None, false),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let packed = PackedSpans::pack(&many);
        assert!(
            packed.bytes.len() <= 17 * many.len(),
            "{} bytes",
            packed.bytes.len()
        );
    }
}
