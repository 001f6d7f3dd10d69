//! Which URL path an incident's bad requests concentrate on: one endpoint
//! broken by a deploy (`/checkout` failing while the rest of the shop
//! works) is the first lead of its postmortem.
//!
//! A site has too many paths for a table per path, so ingest keeps, per
//! bucket, a Misra–Gries summary ([`crate::series::heavy`]) of the paths of the bad
//! requests (failed, or slower than the ingest threshold) with their text,
//! and a one-row count sketch of the paths of all requests: [`TRAFFIC_CELLS`]
//! counters, each path counted in the cell its hash picks (a Count-Min
//! sketch of depth one: Cormode & Muthukrishnan (2005), "An improved data
//! stream summary: the count-min sketch and its applications", *J.
//! Algorithms* 55(1)). A cell's count is an upper bound of each of its
//! paths' counts. The path whose bad requests dominate is then weighed
//! against its share of all requests taken at that bound, so a path is only
//! named when even the bound is small.
//!
//! Every request pays for the sketch, so it is one increment: a
//! Misra–Gries summary of all paths cost a scan of its counters per line
//! (and a decrement of all of them for most lines of a site with many
//! paths), for a looser bound (BENCHMARKS.md, "Path traffic as a sketch").

use crate::series::heavy::{ByteKey, HeavyHitters, Mergeable, PerBucket, hash_bytes};
use crate::series::dims::{
    CONCENTRATION_MAX_TRAFFIC_SHARE, CONCENTRATION_MIN_BAD, CONCENTRATION_MIN_BAD_SHARE,
};
use crate::timefmt::Millis;

/// Counters of the bad-path summary per bucket: as for clients, a path
/// with more than a ninth of a minute's bad requests is never lost.
pub const PATH_COUNTERS: usize = 8;

/// Cells of the all-paths sketch. A path shares its cell with about
/// `1 / TRAFFIC_CELLS` of the other traffic, which its bound takes in: 1.6 %
/// of a minute's requests at 64.
pub const TRAFFIC_CELLS: usize = 64;

/// Requests per path hash cell (see the module documentation).
#[derive(Clone, Debug)]
pub struct TrafficCells {
    cells: [u32; TRAFFIC_CELLS],
    total: u64,
}

impl Default for TrafficCells {
    fn default() -> Self {
        TrafficCells {
            cells: [0; TRAFFIC_CELLS],
            total: 0,
        }
    }
}

impl TrafficCells {
    /// The cell of a path hash: its top bits (FxHash mixes into them).
    fn cell(hash: u64) -> usize {
        (hash >> (u64::BITS - TRAFFIC_CELLS.trailing_zeros())) as usize
    }

    #[inline]
    pub fn add(&mut self, hash: u64) {
        let cell = &mut self.cells[Self::cell(hash)];
        *cell = cell.saturating_add(1);
        self.total += 1;
    }

    /// At least the requests of the path with this hash.
    pub fn upper_bound(&self, hash: u64) -> u64 {
        u64::from(self.cells[Self::cell(hash)])
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.cells.iter_mut().zip(&other.cells) {
            *mine = mine.saturating_add(*theirs);
        }
        self.total += other.total;
    }
}

/// One bucket's paths.
#[derive(Clone, Debug, Default)]
pub struct PathSummary {
    bad: HeavyHitters<ByteKey, PATH_COUNTERS>,
    all: TrafficCells,
}

impl Mergeable for PathSummary {
    fn merge_from(&mut self, other: &Self) {
        self.bad.merge(&other.bad);
        self.all.merge(&other.all);
    }
}

/// The path of a request line (`GET /a/b?x=1 HTTP/1.1` gives `/a/b`), or
/// `None` when the line holds no method and target.
pub fn request_path(request: &[u8]) -> Option<&[u8]> {
    // memchr, not a byte loop: this runs on every request line.
    let method_end = memchr::memchr(b' ', request)?;
    let rest = &request[method_end + 1..];
    let rest = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    let end = memchr::memchr2(b' ', b'?', rest).unwrap_or(rest.len());
    let path = &rest[..end];
    (method_end > 0 && !path.is_empty()).then_some(path)
}

/// Per-bucket path summaries of one worker, input or run.
#[derive(Clone, Debug)]
pub struct PathBuilder {
    buckets: PerBucket<PathSummary>,
}

impl PathBuilder {
    pub fn new(bucket_ms: i64) -> Self {
        PathBuilder {
            buckets: PerBucket::new(bucket_ms),
        }
    }

    /// Counts one request.
    #[inline]
    pub fn record(&mut self, arrival: Millis, request: &[u8], bad: bool) {
        let Some(path) = request_path(request) else {
            return;
        };
        let summary = self.buckets.at(arrival);
        summary.all.add(hash_bytes(path));
        if bad {
            summary.bad.add(ByteKey::new(path), arrival);
        }
    }

    pub fn merge(&mut self, other: PathBuilder) {
        self.buckets.merge(other.buckets);
    }

    /// The path most bad requests in `[from, to]` (whole buckets) went to,
    /// when it drew at least [`CONCENTRATION_MIN_BAD_SHARE`] of them while
    /// carrying under [`CONCENTRATION_MAX_TRAFFIC_SHARE`] of all requests.
    pub fn concentration(&self, from: Millis, to: Millis) -> Option<PathConcentration> {
        let bucket_ms = self.buckets.bucket_ms();
        let (first, last) = (from.div_euclid(bucket_ms), to.div_euclid(bucket_ms));
        let in_range: Vec<&PathSummary> = self
            .buckets
            .sorted()
            .into_iter()
            .filter(|(index, _)| (first..=last).contains(index))
            .map(|(_, summary)| summary)
            .collect();
        let mut bad_by_path: Vec<(ByteKey, u64)> = Vec::new();
        for summary in &in_range {
            for counter in summary.bad.live() {
                match bad_by_path.iter_mut().find(|(key, _)| *key == counter.key) {
                    Some((_, count)) => *count += counter.count,
                    None => bad_by_path.push((counter.key, counter.count)),
                }
            }
        }
        let bad_total: u64 = in_range.iter().map(|s| s.bad.total()).sum();
        let all_total: u64 = in_range.iter().map(|s| s.all.total()).sum();
        let (path, bad) = bad_by_path
            .into_iter()
            .max_by_key(|(key, count)| (*count, std::cmp::Reverse(key.text())))?;
        let hash = path.hash64();
        let traffic_upper: u64 = in_range.iter().map(|s| s.all.upper_bound(hash)).sum();
        let bad_share = bad as f64 / bad_total.max(1) as f64;
        let traffic_share = traffic_upper as f64 / all_total.max(1) as f64;
        (bad_total >= CONCENTRATION_MIN_BAD
            && bad_share >= CONCENTRATION_MIN_BAD_SHARE
            && traffic_share < CONCENTRATION_MAX_TRAFFIC_SHARE)
            .then(|| PathConcentration {
                path: path.text(),
                bad_share,
                traffic_share_at_most: traffic_share,
            })
    }
}

/// A path holding most of an incident's bad requests.
#[derive(Clone, Debug, PartialEq)]
pub struct PathConcentration {
    pub path: String,
    /// Its share of the bad requests (a lower bound).
    pub bad_share: f64,
    /// Its share of all requests, at most.
    pub traffic_share_at_most: f64,
}

impl PathConcentration {
    pub fn hint(&self) -> String {
        format!(
            "path {} got {:.0}% of the bad requests but at most {:.0}% of all requests during the incident: look at what serves that path first",
            self.path,
            100.0 * self.bad_share,
            100.0 * self.traffic_share_at_most
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn paths_of_request_lines() {
        let cases: [(&str, Option<&str>); 7] = [
            ("plain", Some("/checkout")),
            ("query cut", Some("/search")),
            ("absolute URL kept", Some("http://example.com/a")),
            ("HTTP/0.9: no version", Some("/old")),
            ("no target", None),
            ("dash", None),
            ("only a query", None),
        ];
        let lines = [
            "GET /checkout HTTP/1.1",
            "GET /search?q=shoes HTTP/2.0",
            "GET http://example.com/a HTTP/1.1",
            "GET /old",
            "GET",
            "-",
            "GET ?x HTTP/1.1",
        ];
        for ((name, expected), line) in cases.into_iter().zip(lines) {
            assert_eq!(
                request_path(line.as_bytes()),
                expected.map(str::as_bytes),
                "{name}"
            );
        }
    }

    /// Ten minutes, 100 requests a minute over 20 paths; `/checkout` gets
    /// a twentieth of them, and during minutes 3..=6 `bad_checkout` of its
    /// requests fail besides `bad_elsewhere` a minute on other paths.
    fn builder(bad_checkout: u64, bad_elsewhere: u64) -> PathBuilder {
        let mut builder = PathBuilder::new(MINUTE);
        for minute in 0..10i64 {
            for i in 0..100u64 {
                let at = minute * MINUTE + i as i64 * 600;
                let path = if i % 20 == 0 {
                    "/checkout".to_string()
                } else {
                    format!("/page/{}", i % 20)
                };
                let incident = (3..=6).contains(&minute);
                let bad = incident
                    && if path == "/checkout" {
                        i / 20 < bad_checkout
                    } else {
                        i < bad_elsewhere * 20 / 19 && i % 20 != 0
                    };
                builder.record(at, format!("GET {path}?x=1 HTTP/1.1").as_bytes(), bad);
            }
        }
        builder
    }

    #[test]
    fn traffic_cells_bound_every_path_and_spread_them() {
        let mut cells = TrafficCells::default();
        let mut truth: std::collections::HashMap<String, u64> = Default::default();
        for i in 0..5_000u64 {
            // A few hot paths and a long tail, as on a shop.
            let path = match i % 10 {
                0..=3 => "/".to_string(),
                4 | 5 => "/api/v1/cart".to_string(),
                _ => format!("/products/item-{}", i % 997),
            };
            cells.add(hash_bytes(path.as_bytes()));
            *truth.entry(path).or_default() += 1;
        }
        assert_eq!(cells.total(), 5_000);
        assert_eq!(
            cells.cells.iter().map(|&c| u64::from(c)).sum::<u64>(),
            5_000
        );
        for (path, count) in &truth {
            let bound = cells.upper_bound(hash_bytes(path.as_bytes()));
            assert!(bound >= *count, "{path}: {bound} < {count}");
        }
        // The hash's top bits vary: 1,000 paths leave no cell empty.
        let mut spread = TrafficCells::default();
        for i in 0..1_000 {
            spread.add(hash_bytes(format!("/p/{i}").as_bytes()));
        }
        assert!(spread.cells.iter().all(|&c| c > 0), "{:?}", spread.cells);
    }

    #[test]
    fn one_broken_path_is_named_and_a_general_failure_is_not() {
        let (from, to) = (3 * MINUTE, 6 * MINUTE + 59_999);
        let broken = builder(5, 0)
            .concentration(from, to)
            .expect("a concentration");
        assert_eq!(broken.path, "/checkout");
        assert_eq!(broken.bad_share, 1.0);
        // Every path has 5 of 100 requests a minute; the bound is the
        // share of all the paths in /checkout's cell, itself included.
        let cell = |path: &str| TrafficCells::cell(hash_bytes(path.as_bytes()));
        let sharing = (1..20)
            .filter(|i| cell(&format!("/page/{i}")) == cell("/checkout"))
            .count();
        assert_eq!(
            broken.traffic_share_at_most,
            0.05 * (1 + sharing) as f64,
            "{broken:?}"
        );
        assert!(
            broken
                .hint()
                .starts_with("path /checkout got 100% of the bad requests")
        );

        let cases = [
            ("spread over every path", builder(1, 19)),
            ("too few bad requests", builder(0, 0)),
        ];
        for (name, paths) in cases {
            assert_eq!(paths.concentration(from, to), None, "{name}");
        }
    }
}
