//! The second, narrow read that makes an incident's request counts exact.
//!
//! The series counts requests per slot (one second from one-minute buckets
//! up), so the impact of `[start, end]` also takes in the requests of the
//! start's second that arrived before the first bad request and of the
//! end's second after the last one. No mergeable per-second state can split
//! a second at a millisecond that is only known once every input is read
//! (a later chunk, file or host may hold an earlier failure), so once
//! detection has the edges, the lines that can hold a request of those few
//! milliseconds are read again and counted ([`recount`]).
//!
//! Which lines: while reading, each chunk's span of arrival times is kept
//! ([`ChunkSpan`], a few thousand a gigabyte). Only the chunks whose span
//! meets a window are read again: a positional read of a plain file, and
//! for a compressed stream a decode that stops after the last one. Reading
//! more lines than needed is harmless: a request is counted only when its
//! arrival lies in a window.

use super::reader::Source;
use super::{IngestOptions, InputIdentity, InputStats, evidence, ingest_source};
use crate::progress::NoProgress;
use crate::series::{is_failed_status, latency_bin};
use crate::timefmt::Millis;

/// A run of lines of one input as it was read (byte offsets in the decoded
/// text), and the first and last arrival among its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSpan {
    pub from_byte: u64,
    pub to_byte: u64,
    pub first: Millis,
    pub last: Millis,
}

/// What a second read counts: requests whose arrival lies in one of
/// `windows` (inclusive milliseconds), with failed and slow ones told apart
/// as the series tells them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recount {
    pub windows: Vec<(Millis, Millis)>,
    /// The slow threshold requests were read with (`--slow`, or the
    /// smallest default): the series keeps slow tails above it.
    pub ingest_slow_us: u64,
    /// The threshold the report uses (at least `ingest_slow_us`, a bin
    /// floor of the latency histogram).
    pub threshold_us: u64,
}

/// Requests counted in one window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCount {
    pub requests: u64,
    pub failed: u64,
    /// Successful and slower than the threshold.
    pub slow: u64,
}

impl WindowCount {
    pub fn add(&mut self, other: &WindowCount) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.slow += other.slow;
    }
}

impl Recount {
    /// Counts one request in the window its arrival lies in, if any.
    #[inline]
    pub fn add(
        &self,
        counts: &mut [WindowCount],
        arrival: Millis,
        status: u16,
        duration_us: Option<u64>,
    ) {
        let Some(window) = self
            .windows
            .iter()
            .position(|&(from, to)| (from..=to).contains(&arrival))
        else {
            return;
        };
        let Some(count) = counts.get_mut(window) else {
            return;
        };
        count.requests += 1;
        if is_failed_status(status) {
            count.failed += 1;
        } else if duration_us.is_some_and(|duration| self.is_slow(duration)) {
            count.slow += 1;
        }
    }

    /// Slow as the series counts it: above the ingest threshold (the slow
    /// tail), in a latency bin at or above the threshold's.
    fn is_slow(&self, duration_us: u64) -> bool {
        duration_us > self.ingest_slow_us
            && latency_bin(duration_us) >= latency_bin(self.threshold_us)
    }

    /// Whether a chunk whose arrivals span `first..=last` may hold a request
    /// of a window.
    fn meets(&self, first: Millis, last: Millis) -> bool {
        self.windows
            .iter()
            .any(|&(from, to)| first <= to && from <= last)
    }
}

/// The outcome of [`recount`]: the count of each window, and whether every
/// input that may hold a request of them could be read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recounted {
    pub counts: Vec<WindowCount>,
    /// False when an input could not be read a second time (standard
    /// input, or a file that shrank or vanished since): the counts then
    /// leave out its requests.
    pub complete: bool,
}

/// The byte ranges of `spans` that may hold a request of `plan`'s windows,
/// in order.
pub fn wanted_ranges(spans: &[ChunkSpan], plan: &Recount) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = spans
        .iter()
        .filter(|span| plan.meets(span.first, span.last))
        .map(|span| (span.from_byte, span.to_byte))
        .collect();
    ranges.sort_unstable();
    ranges
}

/// Whether `[from, to)` meets one of `ranges` (sorted, half-open).
pub fn meets_ranges(ranges: &[(u64, u64)], from: u64, to: u64) -> bool {
    let after = ranges.partition_point(|&(start, _)| start < to);
    ranges[..after].iter().any(|&(_, end)| end > from)
}

/// Reads again the lines of `sources` that may hold a request of `plan`'s
/// windows and counts them. `first_read` and `spans` are what the first
/// read gave, per source; `options` are its options.
pub fn recount(
    sources: &[Source],
    options: &IngestOptions,
    first_read: &[InputStats],
    spans: &[Vec<ChunkSpan>],
    plan: &Recount,
) -> Recounted {
    let mut total = vec![WindowCount::default(); plan.windows.len()];
    let mut complete = true;
    let identities = super::identities(sources, first_read);
    for (index, source) in sources.iter().enumerate() {
        let Some(ranges) = spans
            .get(index)
            .map(|spans| wanted_ranges(spans, plan))
            .filter(|ranges| !ranges.is_empty())
        else {
            continue;
        };
        if !still_readable(source, first_read.get(index)) {
            complete = false;
            continue;
        }
        let mut identity: InputIdentity<'_> = identities.identity(index);
        identity.recount = Some((plan, &ranges));
        let mut collected = evidence::Collected::default();
        match ingest_source(source, identity, options, &NoProgress, 0, &mut collected) {
            Ok((stats, Some(result), _)) if stats.error.is_none() => {
                for (sum, counted) in total.iter_mut().zip(&result.window_counts) {
                    sum.add(counted);
                }
            }
            _ => complete = false,
        }
    }
    Recounted {
        counts: total,
        complete,
    }
}

/// Whether `source` can be read again as it was: not standard input, and
/// a file at least as long as it was on disk (a live log may have grown;
/// one that shrank was rotated or truncated under us).
fn still_readable(source: &Source, first: Option<&InputStats>) -> bool {
    let Source::File(path) = source else {
        return false;
    };
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    first
        .and_then(|stats| stats.size_on_disk)
        .is_none_or(|size| metadata.len() >= size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_meet_as_half_open_intervals() {
        let ranges = [(0, 10), (20, 30)];
        let cases = [
            ("inside the first", 2, 5, true),
            ("ends where the first starts", 0, 1, true),
            ("between them", 10, 20, false),
            ("touches the second's end", 30, 40, false),
            ("spans both", 5, 25, true),
            ("before all", 0, 0, false),
        ];
        for (name, from, to, meets) in cases {
            assert_eq!(meets_ranges(&ranges, from, to), meets, "{name}");
        }
    }

    #[test]
    fn a_request_counts_in_its_window_as_failed_slow_or_neither() {
        let plan = Recount {
            windows: vec![(1_000, 1_499), (5_000, 5_999)],
            ingest_slow_us: 1_000_000,
            threshold_us: 2_000_000,
        };
        let mut counts = vec![WindowCount::default(); 2];
        // (arrival, status, request time)
        let requests = [
            (999, 503, None),             // before the first window
            (1_000, 200, Some(10_000)),   // fast
            (1_499, 502, Some(10_000)),   // failed
            (1_200, 200, Some(1_500_000)), // slow at ingest, not at the threshold
            (5_500, 200, Some(2_500_000)), // slow
            (5_600, 0, None),             // no response: a request, never slow
            (6_000, 500, None),           // after the second window
        ];
        for (arrival, status, duration) in requests {
            plan.add(&mut counts, arrival, status, duration);
        }
        assert_eq!(
            counts,
            vec![
                WindowCount {
                    requests: 3,
                    failed: 1,
                    slow: 0
                },
                WindowCount {
                    requests: 2,
                    failed: 0,
                    slow: 1
                },
            ]
        );
    }

    #[test]
    fn only_the_chunks_whose_arrivals_meet_a_window_are_wanted() {
        let plan = Recount {
            windows: vec![(1_000, 1_499)],
            ingest_slow_us: 1_000_000,
            threshold_us: 1_000_000,
        };
        let span = |from_byte, first, last| ChunkSpan {
            from_byte,
            to_byte: from_byte + 100,
            first,
            last,
        };
        let spans = [
            span(200, 1_400, 3_000),
            span(0, 0, 999),
            span(100, 900, 1_000),
            span(300, 1_500, 2_000),
        ];
        assert_eq!(wanted_ranges(&spans, &plan), vec![(100, 200), (200, 300)]);
    }
}
