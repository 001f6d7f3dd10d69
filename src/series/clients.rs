//! Who sent the 4xx responses: per bucket, a Misra–Gries summary
//! ([`crate::series::heavy`]) of the clients of the bucket's 4xx responses
//! ([`COUNTERS_PER_BUCKET`] counters): a client with more than a ninth of a
//! bucket's 4xx keeps its counter and is undercounted by at most a ninth.
//! Detection (`detect/client_bursts.rs`) reads these summaries to name a
//! scanner's or a broken client's burst of 4xx.

use crate::series::heavy::{ByteKey, HeavyHitters, PerBucket};
use crate::timefmt::Millis;

/// Counters per bucket. A burst from one client holds most of its bucket's
/// 4xx, far above the `1 / (k + 1)` every heavy client is guaranteed; eight
/// also keeps a few ordinary clients' broken links from evicting it.
pub const COUNTERS_PER_BUCKET: usize = 8;

/// Whether a status is a client error in the contract's sense: 4xx, except
/// 499, which is a failure (the client gave up waiting).
#[inline]
pub fn is_client_error(status: u16) -> bool {
    (400..500).contains(&status) && status != 499
}

/// One bucket's 4xx responses: how many, and the heavy clients among them.
pub type ClientSummary = HeavyHitters<ByteKey, COUNTERS_PER_BUCKET>;

/// Per-bucket 4xx summaries of one worker, one input or the whole run.
#[derive(Clone, Debug)]
pub struct ClientErrors {
    buckets: PerBucket<ClientSummary>,
}

impl ClientErrors {
    pub fn new(bucket_ms: i64) -> Self {
        ClientErrors {
            buckets: PerBucket::new(bucket_ms),
        }
    }

    /// Counts the response when its status is a client error.
    #[inline]
    pub fn record(&mut self, arrival: Millis, status: u16, client: &[u8]) {
        if is_client_error(status) {
            self.buckets.at(arrival).add(ByteKey::new(client), arrival);
        }
    }

    /// Adds another partial's summaries, bucket by bucket.
    pub fn merge(&mut self, other: ClientErrors) {
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
    pub fn sorted(&self) -> Vec<(i64, &ClientSummary)> {
        self.buckets.sorted()
    }

    /// The summary of bucket `index`, if it had a 4xx response.
    pub fn get(&self, index: i64) -> Option<&ClientSummary> {
        self.buckets.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
