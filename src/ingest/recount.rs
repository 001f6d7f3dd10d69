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

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::reader::{EntryPoints, Source};
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
/// as the series tells them, and the users with a request (and with a bad
/// one) in each of `user_windows`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recount {
    pub windows: Vec<(Millis, Millis)>,
    /// Incidents inside one bucket: the series knows each user's first and
    /// last request in a bucket, not whether one fell between two times
    /// inside it.
    pub user_windows: Vec<(Millis, Millis)>,
    /// The slow threshold requests were read with (`--slow`, or the
    /// smallest default): the series keeps slow tails above it.
    pub ingest_slow_us: u64,
    /// The threshold the report uses (at least `ingest_slow_us`, a bin
    /// floor of the latency histogram).
    pub threshold_us: u64,
}

/// One request kept whole by `postmortem impact`: one that arrived in a
/// window a start row's far edge may cut ([`IngestOptions::edge_capture`]),
/// so the reduce step counts that window to the millisecond whatever slow
/// threshold the report then uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeRequest {
    pub arrival: Millis,
    pub failed: bool,
    /// The request time, none when the line has none (or no response was
    /// sent).
    pub duration_us: Option<u64>,
}

impl EdgeRequest {
    /// Whether the series would count this request slow against
    /// `threshold_us`, having read it with `ingest_slow_us`.
    pub fn is_slow(&self, ingest_slow_us: u64, threshold_us: u64) -> bool {
        !self.failed
            && self.duration_us.is_some_and(|duration| {
                is_slow_as_the_series_counts(duration, ingest_slow_us, threshold_us)
            })
    }
}

/// Slow as the series counts it: above the ingest threshold (the slow
/// tail), in a latency bin at or above the threshold's.
pub fn is_slow_as_the_series_counts(
    duration_us: u64,
    ingest_slow_us: u64,
    threshold_us: u64,
) -> bool {
    duration_us > ingest_slow_us && latency_bin(duration_us) >= latency_bin(threshold_us)
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

/// The users of one user window: with any request, with a bad one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowUsers {
    pub active: FxHashSet<u64>,
    pub affected: FxHashSet<u64>,
}

/// What a second read found: per window and per user window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecountTally {
    pub counts: Vec<WindowCount>,
    pub users: Vec<WindowUsers>,
}

impl RecountTally {
    pub fn for_plan(plan: &Recount) -> Self {
        RecountTally {
            counts: vec![WindowCount::default(); plan.windows.len()],
            users: vec![WindowUsers::default(); plan.user_windows.len()],
        }
    }

    pub fn merge(&mut self, other: RecountTally) {
        if self.counts.is_empty() && self.users.is_empty() {
            *self = other;
            return;
        }
        for (total, counted) in self.counts.iter_mut().zip(&other.counts) {
            total.add(counted);
        }
        for (total, seen) in self.users.iter_mut().zip(other.users) {
            total.active.extend(seen.active);
            total.affected.extend(seen.affected);
        }
    }
}

impl Recount {
    /// Counts one request in every window its arrival lies in (two
    /// incidents may share a second).
    #[inline]
    pub fn add(
        &self,
        tally: &mut RecountTally,
        arrival: Millis,
        status: u16,
        duration_us: Option<u64>,
        user: impl Fn() -> u64,
    ) {
        let failed = is_failed_status(status);
        let slow = !failed && duration_us.is_some_and(|duration| self.is_slow(duration));
        for (&(from, to), count) in self.windows.iter().zip(tally.counts.iter_mut()) {
            if (from..=to).contains(&arrival) {
                count.requests += 1;
                count.failed += u64::from(failed);
                count.slow += u64::from(slow);
            }
        }
        for (&(from, to), users) in self.user_windows.iter().zip(tally.users.iter_mut()) {
            if (from..=to).contains(&arrival) {
                let user = user();
                users.active.insert(user);
                if failed || slow {
                    users.affected.insert(user);
                }
            }
        }
    }

    fn is_slow(&self, duration_us: u64) -> bool {
        is_slow_as_the_series_counts(duration_us, self.ingest_slow_us, self.threshold_us)
    }

    /// Whether a chunk whose arrivals span `first..=last` may hold a request
    /// of a window.
    fn meets(&self, first: Millis, last: Millis) -> bool {
        self.windows
            .iter()
            .chain(&self.user_windows)
            .any(|&(from, to)| first <= to && from <= last)
    }
}

/// The outcome of [`recount`]: the count of each window, and whether every
/// input that may hold a request of them could be read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recounted {
    pub tally: RecountTally,
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
/// windows and counts them. `first_read`, `spans` and `entry_points` are
/// what the first read gave, per source (a `.gz` is decoded from its entry
/// point before the first wanted line); `options` are its options.
pub fn recount(
    sources: &[Source],
    options: &IngestOptions,
    first_read: &[InputStats],
    (spans, entry_points): (&[Vec<ChunkSpan>], &[Option<Arc<EntryPoints>>]),
    plan: &Recount,
) -> Recounted {
    let mut total = RecountTally::for_plan(plan);
    let mut complete = true;
    let identities = super::identities(sources);
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
        let read_before = &first_read[..index.min(first_read.len())];
        let mut identity: InputIdentity<'_> = identities.identity(index, read_before);
        identity.recount = Some((plan, &ranges));
        identity.entry_points = entry_points.get(index).cloned().flatten();
        // The first read cut nothing from this input's tail, so the chunks
        // it counted are all of it and their ranges say what to read. A
        // tail held back to be compared again would read a compressed
        // rotation to its end, parsing every chunk and skipping to none
        // (the week's second read held 4.9 MB of tail for it).
        if first_read
            .get(index)
            .is_some_and(|stats| stats.overlap_with.is_none())
        {
            identity.tail_candidates.clear();
        }
        let mut collected = evidence::Collected::default();
        match ingest_source(source, identity, options, &NoProgress, 0, &mut collected) {
            Ok((stats, Some(result), _)) if stats.error.is_none() => {
                total.merge(result.recounted);
            }
            _ => complete = false,
        }
    }
    Recounted {
        tally: total,
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
            user_windows: vec![(1_200, 5_550)],
            ingest_slow_us: 1_000_000,
            threshold_us: 2_000_000,
        };
        let mut tally = RecountTally::for_plan(&plan);
        // (arrival, status, request time)
        let requests = [
            (999, 503, None),              // before the first window
            (1_000, 200, Some(10_000)),    // fast
            (1_499, 502, Some(10_000)),    // failed
            (1_200, 200, Some(1_500_000)), // slow at ingest, not at the threshold
            (5_500, 200, Some(2_500_000)), // slow
            (5_600, 0, None),              // no response: a request, never slow
            (6_000, 500, None),            // after the second window
        ];
        for (index, (arrival, status, duration)) in requests.into_iter().enumerate() {
            plan.add(&mut tally, arrival, status, duration, || index as u64);
        }
        let users = &tally.users[0];
        let sorted = |set: &FxHashSet<u64>| {
            let mut all: Vec<u64> = set.iter().copied().collect();
            all.sort_unstable();
            all
        };
        assert_eq!(
            sorted(&users.active),
            vec![2, 3, 4],
            "10:00:01.200 to 10:00:05.550"
        );
        assert_eq!(
            sorted(&users.affected),
            vec![2, 4],
            "the 502 and the slow one"
        );
        assert_eq!(
            tally.counts,
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
            user_windows: Vec::new(),
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
