//! [`Partial`]: everything the series room keeps of some access-log
//! requests (a chunk's, a parsing thread's, an input's or the whole run's),
//! with the one per-request entry point the hot path calls
//! ([`Partial::record`]) and the one merge that combines partials
//! ([`Partial::merge`]).
//!
//! A partial holds the per-bucket counts, latency histograms, slots and
//! users ([`SeriesBuilder`]), the per-upstream and per-host counts
//! ([`DimensionBuilder`]), the clients of 4xx responses ([`ClientErrors`])
//! and the paths of the requests ([`PathBuilder`]). Nothing in it judges:
//! detection reads the finished [`AccessSeries`].

use crate::series::buckets::{
    RequestFacts, SeriesBuilder, SeriesSet, SeriesTooLong, is_failed_status,
};
use crate::series::clients::ClientErrors;
use crate::series::dims::{DimensionBuilder, DimensionKind, DimensionSeries, Outcome};
use crate::series::paths::PathBuilder;

/// One request as the series room sees it: the numbers the buckets keep,
/// and the few borrowed bytes the summaries need (nothing is copied).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub facts: RequestFacts,
    /// The client's address as logged (for 4xx bursts).
    pub client: &'a [u8],
    /// The path of the request line ([`crate::series::paths::request_path`]:
    /// `/a` of `GET /a?b HTTP/1.1`), `None` when it has none.
    pub path: Option<&'a [u8]>,
    /// The input's host label, interned with [`Partial::intern_host`], when
    /// the run reads several hosts' logs.
    pub host: Option<u16>,
}

/// One attempt of a request at an upstream: the upstream's address and how
/// the attempt went.
pub type UpstreamAttempt<'a> = (&'a [u8], Outcome);

/// The mergeable accumulators of some access-log requests.
#[derive(Clone, Debug)]
pub struct Partial {
    /// Per-bucket counts, latency histograms, slots and users.
    pub buckets: SeriesBuilder,
    /// Per-upstream counts (`$upstream_addr`).
    pub upstreams: DimensionBuilder,
    /// Per-host counts (one value per log when several hosts' logs are read).
    pub hosts: DimensionBuilder,
    /// The clients of the 4xx responses, per bucket.
    pub clients: ClientErrors,
    /// The paths of all and of the bad requests, per bucket.
    pub paths: PathBuilder,
}

impl Partial {
    /// An empty partial; `bucket_ms` is the series' bucket width and
    /// `ingest_slow_us` the ingest threshold of slowness.
    pub fn new(bucket_ms: i64, ingest_slow_us: u64) -> Self {
        let buckets = SeriesBuilder::new(bucket_ms, ingest_slow_us);
        // The series widens a bucket too narrow for its slots; every
        // accumulator uses the width it settled on.
        let bucket_ms = buckets.bucket_ms();
        Partial {
            buckets,
            upstreams: DimensionBuilder::new(DimensionKind::Upstream, bucket_ms, ingest_slow_us),
            hosts: DimensionBuilder::new(DimensionKind::Host, bucket_ms, ingest_slow_us),
            clients: ClientErrors::new(bucket_ms),
            paths: PathBuilder::new(bucket_ms),
        }
    }

    /// Sets the memory the exact user spans may take before every bucket
    /// keeps sketches instead ([`super::user_sketch`]).
    pub fn set_exact_users_bytes(&mut self, bytes: u64) {
        self.buckets.set_exact_users_bytes(bytes);
    }

    pub fn bucket_ms(&self) -> i64 {
        self.buckets.bucket_ms()
    }

    pub fn ingest_slow_us(&self) -> u64 {
        self.buckets.ingest_slow_us()
    }

    /// The id [`Request::host`] carries for the host label `label`.
    pub fn intern_host(&mut self, label: &[u8]) -> u16 {
        self.hosts.intern(label)
    }

    /// Folds one request in, with the attempts it made at upstreams (none
    /// when the log has no upstream field). Allocates nothing but a bucket's
    /// first time, a user's first request in a bucket, a new upstream.
    #[inline]
    pub fn record<'a>(
        &mut self,
        request: &Request<'a>,
        upstream_attempts: impl IntoIterator<Item = UpstreamAttempt<'a>>,
    ) {
        let facts = &request.facts;
        let arrival = facts.arrival;
        self.buckets.record(facts);
        self.clients.record(arrival, facts.status, request.client);
        let bad_at_ingest = is_failed_status(facts.status)
            || facts
                .duration_us
                .is_some_and(|us| us > self.buckets.ingest_slow_us());
        if let Some(path) = request.path {
            self.paths.record(arrival, path, bad_at_ingest);
        }
        for (address, outcome) in upstream_attempts {
            self.upstreams.record(arrival, address, outcome);
        }
        if let Some(host) = request.host {
            self.hosts
                .record_id(arrival, host, Outcome::of(facts.status, facts.duration_us));
        }
    }

    /// Adds `other` (other requests of the same run: another chunk, thread,
    /// input or host) into `self`.
    ///
    /// Associative: `(a + b) + c` and `a + (b + c)` finish to the same
    /// [`AccessSeries`], so partials can be combined in any grouping (a
    /// distributed engine's reduce step included). Counts and histograms
    /// add up; first and last times take the earlier and the later (ties:
    /// the earlier line); users merge per bucket; the heavy-hitter summaries
    /// merge as mergeable Misra–Gries summaries (exact while a bucket has
    /// no more keys than counters, within their bound otherwise); which
    /// dimension values get counts of their own is exact while a dimension
    /// has at most [`crate::series::dims::MAX_DIMENSION_VALUES`] values.
    pub fn merge(&mut self, other: Partial) {
        self.buckets.merge(other.buckets);
        self.upstreams.merge(other.upstreams);
        self.hosts.merge(other.hosts);
        self.clients.merge(other.clients);
        self.paths.merge(other.paths);
    }

    /// The dense series from the first to the last bucket with a request,
    /// and the dimensions with at least two values (or one with termination
    /// causes) aligned with it.
    /// `max_buckets` guards against a stray timestamp years away turning
    /// into millions of empty buckets.
    pub fn finish(self, max_buckets: usize) -> Result<AccessSeries, SeriesTooLong> {
        let series = self.buckets.finish(max_buckets)?;
        let dimensions = [self.upstreams, self.hosts]
            .into_iter()
            .filter_map(|mut dimension| {
                (dimension.value_count() >= 2 || dimension.has_causes()).then_some(dimension)
            })
            .map(|dimension| dimension.finish(series.start, series.buckets.len()))
            .collect();
        Ok(AccessSeries {
            series,
            dimensions,
            clients: self.clients,
            paths: self.paths,
        })
    }
}

/// What the access logs of a run gave, finished: what detection reads.
#[derive(Clone, Debug)]
pub struct AccessSeries {
    /// The dense per-bucket series.
    pub series: SeriesSet,
    /// Per-upstream / per-host counts aligned with `series` (only the
    /// dimensions with at least two values, or with termination causes).
    pub dimensions: Vec<DimensionSeries>,
    /// The clients of the 4xx responses, per bucket.
    pub clients: ClientErrors,
    /// The paths of all and of the bad requests, per bucket.
    pub paths: PathBuilder,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::buckets::{LineRef, MIN_DEFAULT_SLOW_US};
    use crate::series::paths::request_path;

    const MINUTE: i64 = 60_000;

    /// A few minutes of requests with what every accumulator counts:
    /// failures, slow requests, 4xx from two clients, several paths, two
    /// upstreams (one failing over) and two hosts.
    fn requests() -> Vec<(Request<'static>, Vec<UpstreamAttempt<'static>>)> {
        const CLIENTS: [&[u8]; 3] = [b"10.0.0.1", b"10.0.0.2", b"192.0.2.7"];
        const LINES: [&[u8]; 3] = [
            b"GET /checkout HTTP/1.1",
            b"GET /search?q=x HTTP/1.1",
            b"POST /api/cart HTTP/2.0",
        ];
        (0..600u64)
            .map(|i| {
                let status = match i % 11 {
                    0 => 503,
                    1 => 404,
                    2 => 499,
                    _ => 200,
                };
                let request = Request {
                    facts: RequestFacts {
                        arrival: (i as i64 * 997) % (5 * MINUTE),
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

    fn partial_of(requests: &[(Request<'static>, Vec<UpstreamAttempt<'static>>)]) -> Partial {
        let mut partial = Partial::new(MINUTE, MIN_DEFAULT_SLOW_US);
        // Ids as every worker of a run gets them: the host labels first.
        partial.intern_host(b"web01");
        partial.intern_host(b"web02");
        for (request, upstreams) in requests {
            partial.record(request, upstreams.iter().copied());
        }
        partial
    }

    /// What a finished partial says, in comparable form (the heavy-hitter
    /// summaries as `(bucket, key, count, first, last)` in key order).
    type Summary = (
        Vec<crate::series::Bucket>,
        Vec<DimensionSeries>,
        Vec<(i64, String, u64, i64, i64)>,
        Vec<(i64, String, u64, u64)>,
    );

    fn summary(partial: Partial) -> Summary {
        let finished = partial.finish(1_000).expect("short series");
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
        (finished.series.buckets, finished.dimensions, clients, paths)
    }

    #[test]
    fn merging_in_any_grouping_equals_one_pass() {
        let all = requests();
        let one_pass = summary(partial_of(&all));
        assert_eq!(one_pass.1.len(), 2, "upstreams and hosts");
        assert!(!one_pass.2.is_empty() && !one_pass.3.is_empty());
        // Cut anywhere, including chunks that share buckets.
        for (cut_a, cut_b) in [(1, 2), (100, 450), (299, 300), (0, 600)] {
            let parts = || {
                (
                    partial_of(&all[..cut_a]),
                    partial_of(&all[cut_a..cut_b]),
                    partial_of(&all[cut_b..]),
                )
            };
            let (mut a, b, c) = parts();
            a.merge(b);
            a.merge(c);
            let left_first = summary(a);
            let (mut a, mut b, c) = parts();
            b.merge(c);
            a.merge(b);
            let right_first = summary(a);
            assert!(
                left_first == right_first,
                "(a + b) + c, cut at {cut_a}, {cut_b}"
            );
            assert!(
                right_first == one_pass,
                "a + (b + c), cut at {cut_a}, {cut_b}"
            );
        }
    }
}
