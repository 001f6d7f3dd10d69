//! Widening checked against reading at the wider width: the same requests
//! folded at 1 min and widened to 5 min, 1 h or 1 d finish to exactly the
//! series, dimensions and summaries of folding them at that width.

use super::*;
use crate::series::buckets::{LineRef, MIN_DEFAULT_SLOW_US, RequestFacts};
use crate::series::dims::{DimensionSeries, Outcome};
use crate::series::partial::{Request, UpstreamAttempt};
use crate::series::paths::request_path;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 2024-05-07T10:00:00Z: not the start of a day, so wide buckets are cut
/// inside the requests.
const TEN: i64 = 1_715_076_000_000;

/// 3,000 requests over two days: failures, slow successes, 4xx from three
/// clients, three paths, two upstreams (one failing over) and two hosts.
fn requests() -> Vec<(Request<'static>, Vec<UpstreamAttempt<'static>>)> {
    const CLIENTS: [&[u8]; 3] = [b"10.0.0.1", b"10.0.0.2", b"192.0.2.7"];
    const LINES: [&[u8]; 3] = [
        b"GET /checkout HTTP/1.1",
        b"GET /search?q=x HTTP/1.1",
        b"POST /api/cart HTTP/2.0",
    ];
    (0..3_000u64)
        .map(|i| {
            let status = match i % 11 {
                0 => 503,
                1 => 404,
                2 => 499,
                _ => 200,
            };
            let request = Request {
                facts: RequestFacts {
                    arrival: TEN + (i as i64 * 57_600_997) % (2 * DAY),
                    status,
                    duration_us: (i % 4 != 0).then_some(i * 7_919 % 3_000_000),
                    user: i % 37,
                    line: LineRef {
                        input: (i % 2) as u32,
                        line: i + 1,
                    },
                },
                client: CLIENTS[(i % 3) as usize],
                path: request_path(LINES[(i % 3) as usize]),
                host: Some((i % 2) as u16),
            };
            let upstreams: Vec<UpstreamAttempt<'static>> = match i % 5 {
                0 => vec![],
                1 => vec![
                    (
                        b"10.1.0.1:80".as_slice(),
                        Outcome {
                            failed: true,
                            duration_us: None,
                            termination: None,
                        },
                    ),
                    (b"10.1.0.2:80", Outcome::of(status, Some(1_000))),
                ],
                _ => vec![(b"10.1.0.2:80", Outcome::of(status, Some(i * 10)))],
            };
            (request, upstreams)
        })
        .collect()
}

fn partial_at(bucket_ms: i64) -> Partial {
    let mut partial = Partial::new(bucket_ms, MIN_DEFAULT_SLOW_US);
    partial.intern_host(b"web01");
    partial.intern_host(b"web02");
    for (request, upstreams) in &requests() {
        partial.record(request, upstreams.iter().copied());
    }
    partial
}

/// A finished partial in comparable form: start and width, buckets,
/// dimensions, and the heavy-hitter summaries as
/// `(bucket, key, count, first, last)`.
type Summary = (
    (i64, i64),
    Vec<Bucket>,
    Vec<DimensionSeries>,
    Vec<(i64, String, u64, i64, i64)>,
    Vec<(i64, String, u64, u64)>,
);

fn summary(partial: Partial) -> Summary {
    let finished = partial.finish(100_000).expect("short series");
    let mut clients: Vec<(i64, String, u64, i64, i64)> = finished
        .clients
        .sorted()
        .into_iter()
        .flat_map(|(index, summary)| {
            summary
                .live()
                .map(move |c| (index, c.key.text(), c.count, c.first, c.last))
        })
        .collect();
    clients.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut paths: Vec<(i64, String, u64, u64)> = finished
        .paths
        .sorted()
        .into_iter()
        .flat_map(|(index, summary)| {
            summary.bad().live().map(move |c| {
                (
                    index,
                    c.key.text(),
                    c.count,
                    summary.all().upper_bound(c.key.hash64()),
                )
            })
        })
        .collect();
    paths.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    (
        (finished.series.start, finished.series.bucket_ms),
        finished.series.buckets,
        finished.dimensions,
        clients,
        paths,
    )
}

#[test]
fn widening_gives_what_reading_at_the_wider_bucket_gives() {
    // (name, read at, widened to)
    let cases = [
        ("1 min to 5 min: one-second slots both", MINUTE, 5 * MINUTE),
        ("1 min to 1 h: one-second slots both", MINUTE, HOUR),
        ("1 min to 1 d: 24-second slots", MINUTE, DAY),
        (
            "30 s to 15 min: half-second to one-second slots",
            30_000,
            15 * MINUTE,
        ),
        ("1 h to 1 d", HOUR, DAY),
    ];
    for (name, narrow, wide) in cases {
        let expected = summary(partial_at(wide));
        assert!(expected.1.len() >= 2, "{name}: several wide buckets");
        let mut widened = partial_at(narrow);
        widened.widen(wide);
        let got = summary(widened);
        assert_eq!(got.0, expected.0, "{name}: start and width");
        for (index, (got, expected)) in got.1.iter().zip(&expected.1).enumerate() {
            assert_eq!(got, expected, "{name}: bucket {index}");
        }
        assert_eq!(got.1.len(), expected.1.len(), "{name}: buckets");
        assert!(got.2 == expected.2, "{name}: dimensions");
        assert_eq!(got.3, expected.3, "{name}: 4xx clients");
        assert_eq!(got.4, expected.4, "{name}: paths");
    }
}

#[test]
fn a_span_too_long_for_the_limit_is_widened_to_the_narrowest_width_that_fits() {
    // (name, read at, span in ms from TEN, limit, expected width)
    let cases = [
        (
            "30 days of minutes in 20,160: 5 min",
            MINUTE,
            30 * DAY,
            20_160,
            5 * MINUTE,
        ),
        (
            "two weeks and a minute: 5 min",
            MINUTE,
            14 * DAY,
            20_160,
            5 * MINUTE,
        ),
        (
            "a year of minutes: 30 min",
            MINUTE,
            365 * DAY,
            20_160,
            30 * MINUTE,
        ),
        (
            "7 s: 7 s x 19, not the 7 d preset",
            7_000,
            30 * DAY,
            20_160,
            133_000,
        ),
        ("30 s: 1 min when it fits", 30_000, 7 * DAY, 20_160, MINUTE),
        (
            "400 years of days: 8 d, 7 d does not fit",
            DAY,
            400 * 365 * DAY,
            20_160,
            8 * DAY,
        ),
    ];
    for (name, narrow, span, limit, expected) in cases {
        let width = wider_bucket_ms(narrow, (TEN, TEN + span), limit, |_| true);
        assert_eq!(width, expected, "{name}");
        assert!(
            buckets_between(TEN, TEN + span, width) <= limit,
            "{name}: fits"
        );
    }
}

#[test]
fn the_memory_bound_picks_a_wider_width_than_the_limit_alone() {
    // (name, read at, span, limit, widths accepted, expected width)
    type Accepts = fn(i64) -> bool;
    let cases: [(&str, i64, i64, u64, Accepts, i64); 3] = [
        (
            "a year of minutes, up to 30 min refused: 1 h",
            MINUTE,
            365 * DAY,
            20_160,
            |w| w >= HOUR,
            HOUR,
        ),
        (
            "a year of minutes, under 12 h refused: 12 h",
            MINUTE,
            365 * DAY,
            20_160,
            |w| w >= 12 * HOUR,
            12 * HOUR,
        ),
        (
            "7 s, under 20 min refused: x 19, 20, 21, then doubling to x 336 (39 min 12 s)",
            7_000,
            30 * DAY,
            20_160,
            |w| w >= 20 * MINUTE,
            7_000 * 336,
        ),
    ];
    for (name, narrow, span, limit, accepts, expected) in cases {
        assert_eq!(
            wider_bucket_ms(narrow, (TEN, TEN + span), limit, accepts),
            expected,
            "{name}"
        );
    }
}

#[test]
fn widening_a_sparse_log_never_holds_more_slots_than_before() {
    // One request every 6 minutes for 60 days: 14,400 minutes with a
    // request (of 86,400), 864,000 one-second slots. To fit 1,000 buckets,
    // 2 h would do (720 buckets) but hold 720 x 3,600 = 2.6 M slots, 3 h
    // 1.7 M, both over the budget (the floor, 2^20, the two end buckets
    // aside); 6 h holds 241 x 3,600 = 867,600 (60 days from 10:00 touch 241
    // six-hour buckets): the width.
    let mut partial = Partial::new(MINUTE, MIN_DEFAULT_SLOW_US);
    for i in 0..14_400i64 {
        let request = Request {
            facts: RequestFacts {
                arrival: TEN + i * 6 * MINUTE,
                status: 200,
                duration_us: Some(40_000),
                user: (i % 50) as u64,
                line: LineRef {
                    input: 0,
                    line: i as u64 + 1,
                },
            },
            client: b"10.0.0.1",
            path: Some(b"/"),
            host: None,
        };
        partial.record(&request, std::iter::empty());
    }
    let (_, narrow_slots) = partial.buckets.occupancy_at(MINUTE);
    assert_eq!(narrow_slots, 14_400 * 60);
    let widening = partial.widen_to_fit(1_000).expect("widened");
    assert_eq!(widening.to_ms, 6 * HOUR);
    let (occupied, wide_slots) = partial.buckets.occupancy_at(6 * HOUR);
    assert_eq!(occupied, 241);
    assert_eq!(wide_slots, 241 * 3_600);
    assert!(wide_slots <= narrow_slots.max(WIDEN_SLOT_FLOOR));
}

#[test]
fn widen_to_fit_says_what_it_did_and_leaves_a_short_span_alone() {
    let mut short = partial_at(MINUTE);
    assert_eq!(short.widen_to_fit(10_000), None, "two days of minutes fit");
    assert_eq!(short.bucket_ms(), MINUTE);
    let mut long = partial_at(MINUTE);
    let first = requests()
        .iter()
        .map(|(r, _)| r.facts.arrival)
        .min()
        .expect("requests");
    let last = requests()
        .iter()
        .map(|(r, _)| r.facts.arrival)
        .max()
        .expect("requests");
    let needed = (last / MINUTE - first / MINUTE + 1) as u64;
    let widening = long.widen_to_fit(1_000).expect("widened");
    assert_eq!(
        widening,
        Widening {
            from_ms: MINUTE,
            to_ms: 5 * MINUTE,
            buckets_needed: needed,
            limit: 1_000,
            span_ms: needed as i64 * MINUTE,
        }
    );
    assert_eq!(long.bucket_ms(), 5 * MINUTE);
}
