//! The users of a bucket as sketches, once a run's exact user spans pass
//! their memory budget ([`DEFAULT_EXACT_USERS_BYTES`]): DataSketches HLL
//! sketches of every user and of the users with a bad request, the same
//! sketch and settings the partial files' `users_hll` column holds.
//!
//! Exact spans cost about [`USER_SPAN_ENTRY_BYTES`] per user and bucket, so
//! a site with 100,000 users a minute needs ~5.8 GB for a day of one-minute
//! buckets; two sketches cost at most 8 KiB a bucket whatever the users.
//! What is lost: whether a user's requests fell before or after an instant
//! inside a bucket. The run gets that back for each incident with the
//! second read ([`crate::ingest::recount`]) where the logs can be read
//! again; elsewhere the users are estimates, always through a union (the
//! answer must not depend on how the input was split), with
//! [`USERS_RELATIVE_ERROR_95`] as the bound the report states.

use datasketches::hll::{HllSketch, HllType, HllUnion};

/// log2 of the HLL sketch's registers: 12 (4,096 registers), the default
/// of Spark's `hll_sketch_agg` and of DataSketches, so sketches from every
/// engine union without a resize; relative standard error 1.04/√4096 =
/// 1.6%.
pub const HLL_LG_K: u8 = 12;

/// The HLL register width: 8 bits, Spark's and DataSketches' default
/// target type (`HLL_8`).
pub const HLL_TYPE: HllType = HllType::Hll8;

/// The register width of a settled bucket's sketches: 4 bits a register
/// with DataSketches' exception table for the few that overflow, 2 KiB in
/// HLL mode where [`HLL_TYPE`] takes 4 KiB. The conversion keeps every
/// register, so every estimate (always through a union) is the same; a
/// week of one-minute buckets holds two sketches for each of its 10,080.
pub const SETTLED_HLL_TYPE: HllType = HllType::Hll4;

/// The relative error of a distinct count from the sketch at 95%
/// confidence: two relative standard errors of HLL at [`HLL_LG_K`]
/// (1.04 / √4096 = 1.625%), DataSketches' documented bound.
pub const USERS_RELATIVE_ERROR_95: f64 = 2.0 * 1.04 / 64.0;

/// [`USERS_RELATIVE_ERROR_95`] in percent with one decimal, as reports
/// state it: 3.3.
pub fn users_error_pct() -> f64 {
    (1000.0 * USERS_RELATIVE_ERROR_95).round() / 10.0
}

/// Memory the exact user spans of a run may take before every bucket
/// switches to the sketch: 100 MB, issue 17's figure. The spans are the one
/// part of the series that grows with traffic rather than with time.
pub const DEFAULT_EXACT_USERS_BYTES: u64 = 100_000_000;

/// What one user of one bucket costs while exact: the 8-byte user id and
/// its 24-byte span, plus the hash map's control byte and spare room
/// while the bucket is open (load factor 7/8). Packed buckets cost about
/// 16 ([`super::users::PackedSpans`]), so the budget is an upper bound.
pub const USER_SPAN_ENTRY_BYTES: u64 = 40;

/// The users held one by one that `bytes` of memory allow.
pub fn users_for_bytes(bytes: u64) -> usize {
    usize::try_from(bytes / USER_SPAN_ENTRY_BYTES).unwrap_or(usize::MAX)
}

/// [`users_for_bytes`] of [`DEFAULT_EXACT_USERS_BYTES`].
pub fn default_exact_users_budget() -> usize {
    users_for_bytes(DEFAULT_EXACT_USERS_BYTES)
}

/// The users of one bucket as sketches.
#[derive(Clone, Debug)]
pub struct UserSketch {
    /// Every user with a request in the bucket.
    pub all: HllSketch,
    /// Users with a bad request: failed, or slow at the ingest threshold.
    pub bad: HllSketch,
    /// The earliest and latest arrival in the bucket (relative ms), which
    /// the exact spans gave.
    pub first: u32,
    pub last: u32,
}

/// Two sketches are equal when they tell the same: the same estimates
/// (their bytes depend on the order users came in) and arrival range.
impl PartialEq for UserSketch {
    fn eq(&self, other: &Self) -> bool {
        self.first == other.first
            && self.last == other.last
            && self.estimate() == other.estimate()
            && UsersUnion::of([&self.bad]).estimate() == UsersUnion::of([&other.bad]).estimate()
    }
}

/// An empty sketch of [`HLL_LG_K`] registers.
pub fn empty_sketch() -> HllSketch {
    match HllSketch::new(HLL_LG_K, HLL_TYPE) {
        Ok(sketch) => sketch,
        // HLL_LG_K is a constant inside DataSketches' [4, 21].
        Err(_) => unreachable!("HLL_LG_K is a valid lg_k"),
    }
}

impl UserSketch {
    pub fn new() -> Self {
        UserSketch {
            all: empty_sketch(),
            bad: empty_sketch(),
            first: super::buckets::NONE_REL,
            last: 0,
        }
    }

    /// Adds one user seen at `rel_ms`, bad or not.
    #[inline]
    pub fn add(&mut self, user: u64, rel_ms: u32, bad: bool) {
        // As DataSketches' `update(long)` and Spark's `hll_sketch_agg` on a
        // BIGINT column do, so the partials' sketches union with theirs.
        self.all.update(user as i64);
        if bad {
            self.bad.update(user as i64);
        }
        self.first = self.first.min(rel_ms);
        self.last = self.last.max(rel_ms);
    }

    /// Adds one user's exact span (the bucket's arrival range grows to it).
    pub fn add_span(&mut self, user: u64, span: &super::users::UserSpan) {
        self.add(user, span.first, span.had_bad());
        self.last = self.last.max(span.last);
    }

    /// Packs both sketches to [`SETTLED_HLL_TYPE`] (a bucket nothing will
    /// be added to for a while); adding to or merging into them later still
    /// works, and a merge gives [`HLL_TYPE`] again.
    pub fn pack(&mut self) {
        for sketch in [&mut self.all, &mut self.bad] {
            if sketch.target_type() != SETTLED_HLL_TYPE {
                *sketch = UsersUnion::of([&*sketch]).union.to_sketch(SETTLED_HLL_TYPE);
            }
        }
    }

    /// Whether both sketches are [`SETTLED_HLL_TYPE`] ([`UserSketch::pack`]).
    pub fn is_packed(&self) -> bool {
        [&self.all, &self.bad]
            .iter()
            .all(|sketch| sketch.target_type() == SETTLED_HLL_TYPE)
    }

    /// The sketch of every user as the partial files hold it: [`HLL_TYPE`],
    /// whatever the width it is kept in.
    pub fn all_as_written(&self) -> HllSketch {
        as_written(&self.all)
    }

    /// The sketch of the users with a bad request, as written.
    pub fn bad_as_written(&self) -> HllSketch {
        as_written(&self.bad)
    }

    /// Adds another sketch of the same bucket.
    pub fn merge(&mut self, other: &UserSketch) {
        self.all = union_of([&self.all, &other.all]);
        self.bad = union_of([&self.bad, &other.bad]);
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }

    /// The distinct users, estimated through a union.
    pub fn estimate(&self) -> u64 {
        UsersUnion::of([&self.all]).estimate()
    }
}

impl Default for UserSketch {
    fn default() -> Self {
        UserSketch::new()
    }
}

/// `sketch` as [`HLL_TYPE`]: itself when it is (its bytes as DataSketches
/// wrote them), else converted through a union.
fn as_written(sketch: &HllSketch) -> HllSketch {
    if sketch.target_type() == HLL_TYPE {
        sketch.clone()
    } else {
        UsersUnion::of([sketch]).union.to_sketch(HLL_TYPE)
    }
}

/// The union of `sketches`, as a sketch.
fn union_of<'a>(sketches: impl IntoIterator<Item = &'a HllSketch>) -> HllSketch {
    UsersUnion::of(sketches).union.to_sketch(HLL_TYPE)
}

/// Distinct users over several buckets' sketches (and exact ids): the one
/// way this crate estimates from sketches.
pub struct UsersUnion {
    union: HllUnion,
}

impl Default for UsersUnion {
    fn default() -> Self {
        UsersUnion::new()
    }
}

impl UsersUnion {
    pub fn new() -> Self {
        match HllUnion::new(HLL_LG_K) {
            Ok(union) => UsersUnion { union },
            Err(_) => unreachable!("HLL_LG_K is a valid lg_k"),
        }
    }

    pub fn of<'a>(sketches: impl IntoIterator<Item = &'a HllSketch>) -> Self {
        let mut union = UsersUnion::new();
        for sketch in sketches {
            union.add_sketch(sketch);
        }
        union
    }

    pub fn add_sketch(&mut self, sketch: &HllSketch) {
        self.union.update(sketch);
    }

    /// Adds one user id, as [`UserSketch::add`] does.
    pub fn add_user(&mut self, user: u64) {
        self.union.update_value(user as i64);
    }

    /// The estimate, rounded to a whole user. Always DataSketches'
    /// composite estimator over the registers: a union fed one sketch in
    /// HLL mode keeps that sketch's HIP estimate, which depends on the
    /// order its users came in (so on how the input was split), and one fed
    /// the same sketch twice has merged, which drops it.
    pub fn estimate(&self) -> u64 {
        let sketch = self.union.to_sketch(HLL_TYPE);
        let mut twice = UsersUnion::new();
        twice.add_sketch(&sketch);
        twice.add_sketch(&sketch);
        twice.union.estimate().round().max(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids spread as the user hash spreads them.
    fn id(n: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&n.to_le_bytes())
    }

    #[test]
    fn estimates_fall_within_the_stated_bound_and_do_not_depend_on_the_split() {
        let cases = [
            ("few", 100u64),
            ("thousands", 5_000),
            ("a busy minute", 100_000),
        ];
        for (name, users) in cases {
            let mut whole = UserSketch::new();
            let (mut left, mut right) = (UserSketch::new(), UserSketch::new());
            for n in 0..users {
                let bad = n % 4 == 0;
                whole.add(id(n), (n % 60_000) as u32, bad);
                // Split unevenly, with overlap: the union counts each once.
                if n % 3 == 0 || n % 7 == 0 {
                    left.add(id(n), (n % 60_000) as u32, bad);
                }
                if n % 3 != 0 {
                    right.add(id(n), (n % 60_000) as u32, bad);
                }
            }
            let estimate = whole.estimate() as f64;
            let error = (estimate - users as f64).abs() / users as f64;
            assert!(
                error <= USERS_RELATIVE_ERROR_95,
                "{name}: {estimate} for {users}"
            );
            let mut merged = left.clone();
            merged.merge(&right);
            assert_eq!(merged.estimate(), whole.estimate(), "{name}: split");
            let bad = UsersUnion::of([&merged.bad]).estimate() as f64;
            let bad_users = users.div_ceil(4) as f64;
            assert!(
                (bad - bad_users).abs() / bad_users <= USERS_RELATIVE_ERROR_95,
                "{name}: bad {bad}"
            );
            assert_eq!(
                (merged.first, merged.last),
                (whole.first, whole.last),
                "{name}"
            );
        }
    }

    #[test]
    fn a_packed_sketch_tells_what_the_open_one_told() {
        // From list mode (a handful of users) through set mode to HLL mode
        // (4,096 registers, past which HLL_4 needs its exception table).
        let cases = [
            ("a handful", 7u64),
            ("set mode", 300),
            ("hll mode", 20_000),
            ("a busy minute", 200_000),
        ];
        for (name, users) in cases {
            let mut open = UserSketch::new();
            for n in 0..users {
                open.add(id(n), (n % 60_000) as u32, n % 5 == 0);
            }
            let mut packed = open.clone();
            packed.pack();
            assert_eq!(packed.all.target_type(), SETTLED_HLL_TYPE, "{name}");
            assert_eq!(packed.estimate(), open.estimate(), "{name}");
            assert_eq!(packed, open, "{name}: bad users and arrivals too");
            assert_eq!(
                packed.all_as_written().target_type(),
                HLL_TYPE,
                "{name}: written as HLL_8"
            );
            let written = UsersUnion::of([&packed.all_as_written()]).estimate();
            assert_eq!(written, open.estimate(), "{name}: written");
            // A late user reaches the packed sketch as it reaches the open one.
            let (mut late_open, mut late_packed) = (open.clone(), packed.clone());
            late_open.add(id(users + 1), 59_999, true);
            late_packed.add(id(users + 1), 59_999, true);
            assert_eq!(late_packed, late_open, "{name}: a late user");
            // Merged with another worker's view of the same bucket.
            let mut other = UserSketch::new();
            for n in users / 2..users + 100 {
                other.add(id(n), 10, false);
            }
            let (mut merged_open, mut merged_packed) = (open.clone(), packed.clone());
            merged_open.merge(&other);
            merged_packed.merge(&other);
            assert_eq!(merged_packed, merged_open, "{name}: merged");
        }
    }

    #[test]
    fn a_union_of_sketches_and_ids_counts_each_user_once() {
        let mut sketch = UserSketch::new();
        for n in 0..1_000 {
            sketch.add(id(n), 0, false);
        }
        let mut union = UsersUnion::of([&sketch.all]);
        for n in 500..1_500 {
            union.add_user(id(n));
        }
        let estimate = union.estimate() as f64;
        assert!(
            (estimate - 1_500.0).abs() / 1_500.0 <= USERS_RELATIVE_ERROR_95,
            "{estimate}"
        );
    }
}
