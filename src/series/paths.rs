//! Which URL paths the requests went to, per bucket, so that
//! detection (`detect/concentration.rs`) can tell which path an incident's bad
//! requests concentrate on: one endpoint broken by a deploy (`/checkout`
//! failing while the rest of the shop works) is the first lead of its
//! postmortem.
//!
//! A site has too many paths for a table per path, so ingest keeps, per
//! bucket, a Misra–Gries summary ([`crate::series::heavy`]) of the paths of
//! the bad requests (failed, or slower than the ingest threshold) with their text,
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
    pub fn cell(hash: u64) -> usize {
        (hash >> (u64::BITS - TRAFFIC_CELLS.trailing_zeros())) as usize
    }

    #[inline]
    pub fn add(&mut self, hash: u64) {
        let cell = &mut self.cells[Self::cell(hash)];
        *cell = cell.saturating_add(1);
        self.total += 1;
    }

    /// Each cell's count (a partial file keeps the non-zero ones).
    pub fn cells(&self) -> &[u32; TRAFFIC_CELLS] {
        &self.cells
    }

    /// Cells read back from a partial file, with the total they came with.
    pub fn from_cells(cells: [u32; TRAFFIC_CELLS], total: u64) -> Self {
        TrafficCells { cells, total }
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

impl PathSummary {
    /// The paths of the bucket's bad requests.
    pub fn bad(&self) -> &HeavyHitters<ByteKey, PATH_COUNTERS> {
        &self.bad
    }

    /// The paths of all the bucket's requests.
    pub fn all(&self) -> &TrafficCells {
        &self.all
    }

    /// A bucket's paths read back from a partial file.
    pub fn from_parts(bad: HeavyHitters<ByteKey, PATH_COUNTERS>, all: TrafficCells) -> Self {
        PathSummary { bad, all }
    }
}

impl Mergeable for PathSummary {
    fn merge_from(&mut self, other: &Self) {
        self.bad.merge(&other.bad);
        self.all.merge(&other.all);
    }

    /// Packs the bad paths' counters. The traffic cells stay as they are:
    /// every request adds to them, so their open form is what a line costs
    /// least to update.
    fn settle(&mut self) {
        self.bad.settle();
    }
}

/// The path of a request line (`GET /a/b?x=1 HTTP/1.1` gives `/a/b`), or
/// `None` when the line holds no method and target.
pub fn request_path(request: &[u8]) -> Option<&[u8]> {
    // A vector search, not a byte loop: this runs on every request line.
    let method_end = crate::scan::find_byte(b' ', request)?;
    let rest = &request[method_end + 1..];
    let rest = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    let end = crate::scan::find_byte2(b' ', b'?', rest).unwrap_or(rest.len());
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

    /// Counts one request to `path` (see [`request_path`]).
    #[inline]
    pub fn record(&mut self, arrival: Millis, path: &[u8], bad: bool) {
        let summary = self.buckets.at(arrival);
        summary.all.add(hash_bytes(path));
        if bad {
            summary.bad.add(ByteKey::new(path), arrival);
        }
    }

    pub fn merge(&mut self, other: PathBuilder) {
        self.buckets.merge(other.buckets);
    }

    pub fn bucket_ms(&self) -> i64 {
        self.buckets.bucket_ms()
    }

    /// Re-buckets the summaries at `wider_ms`, a multiple of the width.
    pub fn widen(&mut self, wider_ms: i64) {
        self.buckets.widen(wider_ms);
    }

    /// Every bucket's summary `(index, summary)`, in time order.
    /// Adds bucket `index`'s paths (a partial file read back).
    pub fn absorb(&mut self, index: i64, summary: PathSummary) {
        self.buckets.absorb(index, summary);
    }

    pub fn sorted(&self) -> Vec<(i64, &PathSummary)> {
        self.buckets.sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
