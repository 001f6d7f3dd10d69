//! Bursts of 4xx responses from one client: a vulnerability scanner probing
//! paths, a crawler stuck on dead links, a script retrying a revoked token.
//! The contract never counts 4xx (other than 499) as bad, so such a burst is
//! never an incident; but a responder who sees a wall of 404s on a graph
//! asks whether it was one, and the report answers by naming the client.
//!
//! Ingest keeps, per bucket, a Misra–Gries summary of the clients of the
//! bucket's 4xx responses ([`COUNTERS_PER_BUCKET`] counters, fixed-size keys:
//! nothing is allocated per line). Misra & Gries, "Finding repeated
//! elements" (1982): every client with more than `n / (k + 1)` of a bucket's
//! `n` responses keeps a counter, and a counter undercounts by at most
//! `n / (k + 1)`. Summaries merge as Agarwal et al., "Mergeable summaries"
//! (PODS 2012) show: add the counters, then subtract the (k + 1)-th largest
//! from all, which keeps the same bound, so workers and files combine in any
//! order. No sketch crate offers a mergeable Misra–Gries summary over
//! borrowed byte keys without a per-key allocation; the summary is small.

use rustc_hash::FxHashMap;

use crate::timefmt::{MS_PER_MINUTE, Millis};

/// Counters per bucket. A burst from one client holds most of its bucket's
/// 4xx, far above the `1 / (k + 1)` every heavy client is guaranteed; eight
/// also keeps a few ordinary clients' broken links from evicting it.
pub const COUNTERS_PER_BUCKET: usize = 8;

/// Bytes of a client's address kept: an IPv6 address in text takes at most
/// 45 (`INET6_ADDRSTRLEN` less the NUL); longer values (host names written
/// by `HostnameLookups On`) are cut and marked with `…` in the report.
pub const CLIENT_KEY_BYTES: usize = 64;

/// Fewest 4xx responses per minute from one client for a bucket to belong
/// to its burst: one every three seconds, a program's pace, not a person's.
pub const MIN_BURST_PER_MINUTE: f64 = 20.0;

/// Smallest share of a bucket's 4xx responses the client must account for:
/// the burst is its, not a general wave of broken links.
pub const MIN_CLIENT_SHARE: f64 = 0.5;

/// Fewest 4xx responses in a whole burst worth naming.
pub const MIN_BURST_RESPONSES: u64 = 100;

/// Buckets without the client's burst that still join its two halves (a
/// scanner pausing between word lists).
pub const MAX_GAP_BUCKETS: i64 = 2;

/// Most bursts reported, the largest first.
pub const MAX_REPORTED_BURSTS: usize = 5;

/// Whether a status is a client error in the contract's sense: 4xx, except
/// 499, which is a failure (the client gave up waiting).
#[inline]
pub fn is_client_error(status: u16) -> bool {
    (400..500).contains(&status) && status != 499
}

/// A client's address, cut to [`CLIENT_KEY_BYTES`].
#[derive(Clone, Copy, PartialEq, Eq)]
struct ClientKey {
    len: u8,
    truncated: bool,
    bytes: [u8; CLIENT_KEY_BYTES],
}

impl ClientKey {
    const EMPTY: ClientKey = ClientKey {
        len: 0,
        truncated: false,
        bytes: [0; CLIENT_KEY_BYTES],
    };

    fn new(client: &[u8]) -> ClientKey {
        let len = client.len().min(CLIENT_KEY_BYTES);
        let mut bytes = [0; CLIENT_KEY_BYTES];
        bytes[..len].copy_from_slice(&client[..len]);
        ClientKey {
            len: len as u8,
            truncated: client.len() > CLIENT_KEY_BYTES,
            bytes,
        }
    }

    fn matches(&self, client: &[u8]) -> bool {
        let len = usize::from(self.len);
        let cut = client.len().min(CLIENT_KEY_BYTES);
        len == cut
            && self.truncated == (client.len() > CLIENT_KEY_BYTES)
            && self.bytes[..len] == client[..cut]
    }

    fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes[..usize::from(self.len)]);
        if self.truncated {
            format!("{text}…")
        } else {
            text.into_owned()
        }
    }
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// One Misra–Gries counter, with when its client's counted responses came.
#[derive(Clone, Copy, Debug)]
struct Counter {
    key: ClientKey,
    count: u64,
    first: Millis,
    last: Millis,
}

impl Counter {
    const EMPTY: Counter = Counter {
        key: ClientKey::EMPTY,
        count: 0,
        first: Millis::MAX,
        last: Millis::MIN,
    };
}

/// One bucket's 4xx responses: how many, and the heavy clients among them.
#[derive(Clone, Debug)]
pub struct ClientSummary {
    total: u64,
    counters: [Counter; COUNTERS_PER_BUCKET],
}

impl Default for ClientSummary {
    fn default() -> Self {
        ClientSummary {
            total: 0,
            counters: [Counter::EMPTY; COUNTERS_PER_BUCKET],
        }
    }
}

impl ClientSummary {
    /// Counts one 4xx response from `client` at `at`.
    pub fn add(&mut self, client: &[u8], at: Millis) {
        self.total += 1;
        if let Some(counter) = self
            .counters
            .iter_mut()
            .find(|c| c.count > 0 && c.key.matches(client))
        {
            counter.count += 1;
            counter.first = counter.first.min(at);
            counter.last = counter.last.max(at);
            return;
        }
        if let Some(free) = self.counters.iter_mut().find(|c| c.count == 0) {
            *free = Counter {
                key: ClientKey::new(client),
                count: 1,
                first: at,
                last: at,
            };
            return;
        }
        // Every counter is taken: the new response and one of each
        // counter's cancel out (the Misra–Gries decrement).
        for counter in &mut self.counters {
            counter.count -= 1;
        }
    }

    /// Folds `other` in (Agarwal et al.'s merge).
    pub fn merge(&mut self, other: &ClientSummary) {
        self.total += other.total;
        let mut all: Vec<Counter> = self
            .counters
            .iter()
            .copied()
            .filter(|c| c.count > 0)
            .collect();
        for theirs in other.counters.iter().filter(|c| c.count > 0) {
            match all.iter_mut().find(|c| c.key == theirs.key) {
                Some(mine) => {
                    mine.count += theirs.count;
                    mine.first = mine.first.min(theirs.first);
                    mine.last = mine.last.max(theirs.last);
                }
                None => all.push(*theirs),
            }
        }
        all.sort_by_key(|c| std::cmp::Reverse(c.count));
        let excess = all.get(COUNTERS_PER_BUCKET).map_or(0, |c| c.count);
        self.counters = [Counter::EMPTY; COUNTERS_PER_BUCKET];
        for (slot, counter) in self.counters.iter_mut().zip(all) {
            if counter.count > excess {
                *slot = Counter {
                    count: counter.count - excess,
                    ..counter
                };
            }
        }
    }

    /// The counter with the most responses.
    fn heaviest(&self) -> Option<&Counter> {
        self.counters
            .iter()
            .filter(|c| c.count > 0)
            .max_by_key(|c| c.count)
    }
}

/// Per-bucket summaries of one worker, one input or the whole run.
#[derive(Clone, Debug)]
pub struct ClientBurstBuilder {
    bucket_ms: i64,
    buckets: FxHashMap<i64, ClientSummary>,
}

impl ClientBurstBuilder {
    pub fn new(bucket_ms: i64) -> Self {
        ClientBurstBuilder {
            bucket_ms: bucket_ms.max(1),
            buckets: FxHashMap::default(),
        }
    }

    /// Counts the response when its status is a client error.
    #[inline]
    pub fn record(&mut self, arrival: Millis, status: u16, client: &[u8]) {
        if !is_client_error(status) {
            return;
        }
        self.buckets
            .entry(arrival.div_euclid(self.bucket_ms))
            .or_default()
            .add(client, arrival);
    }

    pub fn merge(&mut self, other: ClientBurstBuilder) {
        for (index, summary) in other.buckets {
            match self.buckets.get_mut(&index) {
                Some(mine) => mine.merge(&summary),
                None => {
                    self.buckets.insert(index, summary);
                }
            }
        }
    }

    /// The bursts, the largest first (at most [`MAX_REPORTED_BURSTS`]).
    ///
    /// A burst's core is a run of buckets in which one client sent at
    /// least [`MIN_BURST_PER_MINUTE`] 4xx responses and [`MIN_CLIENT_SHARE`]
    /// of them, with gaps of up to [`MAX_GAP_BUCKETS`]; the run then takes
    /// in the buckets next to it where the client still holds that share,
    /// so a scanner that starts or stops mid-minute is counted whole.
    pub fn bursts(&self) -> Vec<ClientBurst> {
        let per_bucket =
            (MIN_BURST_PER_MINUTE * self.bucket_ms as f64 / MS_PER_MINUTE as f64).max(1.0);
        let mut indexes: Vec<i64> = self.buckets.keys().copied().collect();
        indexes.sort_unstable();
        let mut runs: Vec<Run> = Vec::new();
        for &index in &indexes {
            let Some(top) = self.buckets.get(&index).and_then(ClientSummary::heaviest) else {
                continue;
            };
            if (top.count as f64) < per_bucket || !self.holds_share(index, &top.key) {
                continue;
            }
            match runs
                .iter_mut()
                .rev()
                .find(|run| run.key == top.key && index - run.last <= MAX_GAP_BUCKETS + 1)
            {
                Some(run) => run.last = index,
                None => runs.push(Run {
                    key: top.key,
                    first: index,
                    last: index,
                }),
            }
        }
        let mut bursts: Vec<ClientBurst> = runs
            .iter()
            .map(|run| {
                let (mut first, mut last) = (run.first, run.last);
                while self.holds_share(first - 1, &run.key) {
                    first -= 1;
                }
                while self.holds_share(last + 1, &run.key) {
                    last += 1;
                }
                self.burst(&run.key, first, last)
            })
            .filter(|burst| burst.responses_4xx >= MIN_BURST_RESPONSES)
            .collect();
        bursts.sort_by(|a, b| {
            b.responses_4xx
                .cmp(&a.responses_4xx)
                .then(a.first.cmp(&b.first))
        });
        bursts.dedup();
        bursts.truncate(MAX_REPORTED_BURSTS);
        bursts
    }

    /// The counter of `key` in bucket `index`, if it has one.
    fn counter(&self, index: i64, key: &ClientKey) -> Option<(&ClientSummary, &Counter)> {
        let summary = self.buckets.get(&index)?;
        let counter = summary
            .counters
            .iter()
            .find(|c| c.count > 0 && c.key == *key)?;
        Some((summary, counter))
    }

    /// Whether `key` sent at least [`MIN_CLIENT_SHARE`] of bucket `index`'s
    /// 4xx responses.
    fn holds_share(&self, index: i64, key: &ClientKey) -> bool {
        self.counter(index, key).is_some_and(|(summary, counter)| {
            counter.count as f64 >= MIN_CLIENT_SHARE * summary.total as f64
        })
    }

    /// The burst of `key` over buckets `first..=last`.
    fn burst(&self, key: &ClientKey, first: i64, last: i64) -> ClientBurst {
        let mut burst = ClientBurst {
            client: key.text(),
            first: Millis::MAX,
            last: Millis::MIN,
            responses_4xx: 0,
            all_4xx: 0,
        };
        for index in first..=last {
            if let Some(summary) = self.buckets.get(&index) {
                burst.all_4xx += summary.total;
            }
            if let Some((_, counter)) = self.counter(index, key) {
                burst.first = burst.first.min(counter.first);
                burst.last = burst.last.max(counter.last);
                burst.responses_4xx += counter.count;
            }
        }
        burst
    }
}

/// Buckets `first..=last` in which `key`'s burst runs.
struct Run {
    key: ClientKey,
    first: i64,
    last: i64,
}

/// A burst of 4xx responses from one client.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientBurst {
    /// The client's address as logged.
    pub client: String,
    /// Its first and last counted 4xx response.
    pub first: Millis,
    pub last: Millis,
    /// Its 4xx responses in the burst (a lower bound: see the module doc).
    pub responses_4xx: u64,
    /// Every client's 4xx responses in the burst's buckets.
    pub all_4xx: u64,
}

impl ClientBurst {
    /// The client's share of the 4xx responses in the burst's buckets.
    pub fn share(&self) -> f64 {
        self.responses_4xx as f64 / self.all_4xx.max(1) as f64
    }

    /// Whether the burst overlaps `[from, to]`.
    pub fn overlaps(&self, from: Millis, to: Millis) -> bool {
        self.first <= to && self.last >= from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = MS_PER_MINUTE;

    /// `(client, minute, responses)` spread evenly over each minute.
    fn builder(table: &[(&str, i64, u64)]) -> ClientBurstBuilder {
        let mut builder = ClientBurstBuilder::new(MINUTE);
        for &(client, minute, responses) in table {
            for i in 0..responses {
                let at = minute * MINUTE + (i as i64 * MINUTE) / responses as i64;
                builder.record(at, 404, client.as_bytes());
            }
        }
        builder
    }

    #[test]
    fn misra_gries_keeps_the_heavy_client_exactly_when_it_dominates() {
        let mut summary = ClientSummary::default();
        for i in 0..1000u64 {
            summary.add(b"203.0.113.9", i as i64);
            if i % 10 == 0 {
                // Twelve other clients, more than there are counters.
                summary.add(format!("198.51.100.{}", i % 12).as_bytes(), i as i64);
            }
        }
        let top = summary.heaviest().expect("a counter");
        assert_eq!(top.key.text(), "203.0.113.9");
        assert_eq!(summary.total, 1100);
        // Undercount at most total / (k + 1) = 122.
        assert!(top.count >= 1000 - 1100 / 9, "{}", top.count);
        assert_eq!((top.first, top.last), (0, 999));
    }

    #[test]
    fn merged_summaries_agree_with_one_pass() {
        let responses: Vec<(String, i64)> = (0..600)
            .map(|i| {
                let client = if i % 3 == 0 {
                    format!("10.0.0.{}", i % 40)
                } else {
                    "192.0.2.1".to_string()
                };
                (client, i)
            })
            .collect();
        let mut whole = ClientSummary::default();
        let (mut left, mut right) = (ClientSummary::default(), ClientSummary::default());
        for (i, (client, at)) in responses.iter().enumerate() {
            whole.add(client.as_bytes(), *at);
            let half = if i % 2 == 0 { &mut left } else { &mut right };
            half.add(client.as_bytes(), *at);
        }
        left.merge(&right);
        let (merged, single) = (
            left.heaviest().expect("top"),
            whole.heaviest().expect("top"),
        );
        assert_eq!(merged.key.text(), "192.0.2.1");
        assert_eq!(single.key.text(), "192.0.2.1");
        assert_eq!(left.total, 600);
        // 400 true responses; both within the n / (k + 1) = 66 bound.
        for count in [merged.count, single.count] {
            assert!((400 - 66..=400).contains(&count), "{count}");
        }
    }

    /// A named case: the 4xx responses `(client, minute, responses)` and the
    /// bursts expected, `(client, responses)`, largest first.
    type BurstCase = (
        &'static str,
        Vec<(&'static str, i64, u64)>,
        Vec<(&'static str, u64)>,
    );

    #[test]
    fn what_is_a_burst() {
        let cases: [BurstCase; 7] = [
            (
                "a scanner: 115 a minute for four minutes",
                (10..14).map(|m| ("45.148.10.86", m, 115)).collect(),
                vec![("45.148.10.86", 460)],
            ),
            (
                "starting and stopping mid-minute: the edges count",
                vec![
                    ("45.148.10.86", 5, 10),
                    ("45.148.10.86", 6, 60),
                    ("45.148.10.86", 7, 60),
                    ("45.148.10.86", 8, 8),
                ],
                vec![("45.148.10.86", 138)],
            ),
            (
                "too slow: ten a minute for an hour",
                (0..60).map(|m| ("45.148.10.86", m, 10)).collect(),
                vec![],
            ),
            (
                "too short: 60 in one minute",
                vec![("45.148.10.86", 5, 60)],
                vec![],
            ),
            (
                "a pause of two minutes joins the halves",
                vec![
                    ("198.51.100.7", 0, 60),
                    ("198.51.100.7", 1, 60),
                    ("198.51.100.7", 4, 60),
                ],
                vec![("198.51.100.7", 180)],
            ),
            (
                "a pause of three minutes does not",
                vec![
                    ("198.51.100.7", 0, 60),
                    ("198.51.100.7", 1, 60),
                    ("198.51.100.7", 5, 60),
                    ("198.51.100.7", 6, 60),
                ],
                vec![("198.51.100.7", 120), ("198.51.100.7", 120)],
            ),
            (
                "two clients, largest first",
                [
                    (0..3).map(|m| ("192.0.2.1", m, 50)).collect::<Vec<_>>(),
                    (30..35).map(|m| ("192.0.2.2", m, 50)).collect(),
                ]
                .concat(),
                vec![("192.0.2.2", 250), ("192.0.2.1", 150)],
            ),
        ];
        for (name, table, expected) in cases {
            let found: Vec<(String, u64)> = builder(&table)
                .bursts()
                .into_iter()
                .map(|b| (b.client, b.responses_4xx))
                .collect();
            let expected: Vec<(String, u64)> = expected
                .into_iter()
                .map(|(client, n)| (client.to_string(), n))
                .collect();
            assert_eq!(found, expected, "{name}");
        }
    }

    #[test]
    fn a_general_wave_of_404s_is_no_ones_burst() {
        // Forty clients with 30 each a minute: no one holds half.
        let table: Vec<(String, i64, u64)> = (0..10)
            .flat_map(|m| (0..40).map(move |c| (format!("10.1.0.{c}"), m, 30)))
            .collect();
        let table: Vec<(&str, i64, u64)> =
            table.iter().map(|(c, m, n)| (c.as_str(), *m, *n)).collect();
        assert_eq!(builder(&table).bursts(), vec![]);
    }

    #[test]
    fn only_client_errors_count() {
        let cases = [
            (404, true),
            (403, true),
            (499, false),
            (500, false),
            (302, false),
        ];
        for (status, counted) in cases {
            assert_eq!(is_client_error(status), counted, "{status}");
        }
    }

    #[test]
    fn long_addresses_are_cut_and_marked() {
        let long = "a".repeat(100);
        let mut summary = ClientSummary::default();
        summary.add(long.as_bytes(), 0);
        summary.add(long.as_bytes(), 1);
        let top = summary.heaviest().expect("top");
        assert_eq!(top.count, 2);
        assert_eq!(top.key.text(), format!("{}…", "a".repeat(CLIENT_KEY_BYTES)));
    }
}
