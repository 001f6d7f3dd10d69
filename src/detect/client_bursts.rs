//! Bursts of 4xx responses from one client: a vulnerability scanner probing
//! paths, a crawler stuck on dead links, a script retrying a revoked token.
//! The contract never counts 4xx (other than 499) as bad, so such a burst is
//! never an incident; but a responder who sees a wall of 404s on a graph
//! asks whether it was one, and the report answers by naming the client.
//!
//! Reads the per-bucket 4xx summaries ingest kept
//! ([`crate::series::clients`]); a client's count there is a lower bound.

use crate::series::clients::{ClientErrors, ClientSummary};
use crate::series::heavy::{ByteKey, Counter};
use crate::timefmt::{MS_PER_MINUTE, Millis};

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

/// The bursts in `clients`, the largest first (at most
/// [`MAX_REPORTED_BURSTS`]).
///
/// A burst's core is a run of buckets in which one client sent at
/// least [`MIN_BURST_PER_MINUTE`] 4xx responses and [`MIN_CLIENT_SHARE`]
/// of them, with gaps of up to [`MAX_GAP_BUCKETS`]; the run then takes
/// in the buckets next to it where the client still holds that share,
/// so a scanner that starts or stops mid-minute is counted whole.
pub fn bursts(clients: &ClientErrors) -> Vec<ClientBurst> {
    let per_bucket =
        (MIN_BURST_PER_MINUTE * clients.bucket_ms() as f64 / MS_PER_MINUTE as f64).max(1.0);
    let mut runs: Vec<Run> = Vec::new();
    for (index, summary) in clients.sorted() {
        let Some(top) = summary.heaviest() else {
            continue;
        };
        if (top.count as f64) < per_bucket || !holds_share(clients, index, &top.key) {
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
            while holds_share(clients, first - 1, &run.key) {
                first -= 1;
            }
            while holds_share(clients, last + 1, &run.key) {
                last += 1;
            }
            burst(clients, &run.key, first, last)
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

/// The counter of `key` in bucket `index`, if it has one (a copy: a
/// settled bucket's counters are packed and decoded as they are read).
fn counter<'a>(
    clients: &'a ClientErrors,
    index: i64,
    key: &ByteKey,
) -> Option<(&'a ClientSummary, Counter<ByteKey>)> {
    let summary = clients.get(index)?;
    Some((summary, summary.get(key)?))
}

/// Whether `key` sent at least [`MIN_CLIENT_SHARE`] of bucket `index`'s
/// 4xx responses.
fn holds_share(clients: &ClientErrors, index: i64, key: &ByteKey) -> bool {
    counter(clients, index, key).is_some_and(|(summary, counter)| {
        counter.count as f64 >= MIN_CLIENT_SHARE * summary.total() as f64
    })
}

/// The burst of `key` over buckets `first..=last`.
fn burst(clients: &ClientErrors, key: &ByteKey, first: i64, last: i64) -> ClientBurst {
    let mut burst = ClientBurst {
        client: key.text(),
        first: Millis::MAX,
        last: Millis::MIN,
        responses_4xx: 0,
        all_4xx: 0,
    };
    for index in first..=last {
        if let Some(summary) = clients.get(index) {
            burst.all_4xx += summary.total();
        }
        if let Some((_, counter)) = counter(clients, index, key) {
            burst.first = burst.first.min(counter.first);
            burst.last = burst.last.max(counter.last);
            burst.responses_4xx += counter.count;
        }
    }
    burst
}

/// Buckets `first..=last` in which `key`'s burst runs.
struct Run {
    key: ByteKey,
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
    fn builder(table: &[(&str, i64, u64)]) -> ClientErrors {
        let mut builder = ClientErrors::new(MINUTE);
        for &(client, minute, responses) in table {
            for i in 0..responses {
                let at = minute * MINUTE + (i as i64 * MINUTE) / responses as i64;
                builder.record(at, 404, client.as_bytes());
            }
        }
        builder
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
                [0, 1, 4].map(|m| ("198.51.100.7", m, 60)).into(),
                vec![("198.51.100.7", 180)],
            ),
            (
                "a pause of three minutes does not",
                [0, 1, 5, 6].map(|m| ("198.51.100.7", m, 60)).into(),
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
            let found: Vec<(String, u64)> = bursts(&builder(&table))
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
        assert_eq!(bursts(&builder(&table)), vec![]);
    }
}
