//! The Spark sketch fixture: HLL sketches Spark's `hll_sketch_agg(user_id,
//! 12)` and `hll_union_agg` made over known user ids
//! (`tests/fixtures/spark-hll/`, written by
//! `contrib/spark/make_hll_fixture.py`) are read with the `datasketches`
//! crate and unioned with the sketches `postmortem partial` writes in
//! `users_hll` (`partials::access::users_sketch`) from the same ids, so the
//! sketch format stays one Spark reads and writes, checked without Java.

use datasketches::common::NumStdDev;
use datasketches::hll::{HllSketch, HllType, HllUnion};
use postmortem::partials::access::{HLL_LG_K, users_sketch};
use postmortem::series::users::{UserSpan, UserSpans};

use super::support::repo_root;

/// The fixture's user ids: `i * 0x9E3779B97F4A7C15` (mod 2⁶⁴), spread over
/// the 64 bits as real hashed ids are (make_hll_fixture.py `user`).
fn user(i: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The sketch `postmortem partial` writes for a bucket whose users are ids
/// `range`.
fn ours(range: std::ops::Range<u64>) -> HllSketch {
    // One request at the bucket's start each: the sketch reads only the ids.
    let seen = UserSpan {
        first: 0,
        last: 0,
        first_bad: u32::MAX,
        last_bad: 0,
        max_ok_latency_us: 1_000,
        had_failed: false,
    };
    let spans = UserSpans::Open(range.map(|i| (user(i), seen)).collect());
    users_sketch(&spans)
}

/// The Spark-made sketch `name` of the fixture.
fn spark(name: &str) -> HllSketch {
    let path = repo_root().join("tests/fixtures/spark-hll").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    HllSketch::deserialize(&bytes).unwrap_or_else(|error| {
        panic!("{}: not a DataSketches HLL sketch: {error}", path.display())
    })
}

/// The union of `sketches`, as the reduce step and `hll_union_agg` take it.
fn union(sketches: &[&HllSketch]) -> HllSketch {
    let mut union = HllUnion::new(HLL_LG_K).expect("a union");
    for sketch in sketches {
        union.update(sketch);
    }
    union.to_sketch(HllType::Hll8)
}

/// Asserts `estimate` is within `sketch`'s three-standard-deviation bounds
/// of `exact` (lg_k 12: relative standard error 1.04/√4096 = 1.6 %, so
/// about 4.9 %; in list mode, below 192 ids, the count is exact).
fn assert_within(name: &str, sketch: &HllSketch, exact: u64) {
    let (low, high) = (
        sketch.lower_bound(NumStdDev::Three),
        sketch.upper_bound(NumStdDev::Three),
    );
    let estimate = sketch.estimate();
    assert!(
        low <= exact as f64 && exact as f64 <= high,
        "{name}: {exact} ids, estimate {estimate:.1} in [{low:.1}, {high:.1}]"
    );
    assert!(
        (estimate - exact as f64).abs() <= exact as f64 * 0.049,
        "{name}: estimate {estimate:.1} for {exact} ids"
    );
}

#[test]
fn spark_sketches_read_back_with_the_settings_of_users_hll() {
    // (fixture, ids it holds)
    let cases = [
        ("ids-0-37.bin", 37),
        ("ids-0-10000.bin", 10_000),
        ("union-0-6000-4000-10000.bin", 10_000),
    ];
    for (name, exact) in cases {
        let sketch = spark(name);
        assert_eq!(sketch.lg_config_k(), HLL_LG_K, "{name}");
        assert_eq!(
            sketch.target_type(),
            HllType::Hll8,
            "{name}: users_hll says type=HLL_8"
        );
        assert_within(name, &sketch, exact);
    }
    // In list mode every id is one coupon: Spark's count is exact.
    assert_eq!(spark("ids-0-37.bin").estimate().round(), 37.0);
}

#[test]
fn spark_and_postmortem_sketches_of_the_same_ids_are_the_same_registers() {
    // Same ids, same hash (MurmurHash3 x64 128 of the 8 little-endian bytes,
    // seed 9001): Spark's sketch adds no register to ours, so the union
    // with it estimates exactly what ours unioned with itself does (a union
    // of two sketches estimates from the registers alone: the single-pass
    // HIP estimate of each, which depends on the order ids came in, is
    // dropped).
    let cases = [("ids-0-37.bin", 0..37), ("ids-0-10000.bin", 0..10_000)];
    for (name, ids) in cases {
        let exact = ids.end - ids.start;
        let ours = ours(ids);
        let with_spark = union(&[&ours, &spark(name)]);
        assert_eq!(
            with_spark.estimate(),
            union(&[&ours, &ours]).estimate(),
            "{name}: Spark's sketch holds registers ours does not"
        );
        assert_within(name, &with_spark, exact);
    }
}

#[test]
fn spark_and_postmortem_sketches_union_to_the_distinct_count() {
    // (case, Spark's fixture, our ids, distinct ids in both)
    let cases = [
        ("overlapping", "ids-0-10000.bin", 5_000..15_000, 15_000),
        ("disjoint", "ids-0-37.bin", 37..100, 100),
        (
            "spark's own union",
            "union-0-6000-4000-10000.bin",
            9_000..12_000,
            12_000,
        ),
    ];
    for (name, fixture, ids, exact) in cases {
        let sketch = union(&[&spark(fixture), &ours(ids)]);
        assert_within(name, &sketch, exact);
    }
}
