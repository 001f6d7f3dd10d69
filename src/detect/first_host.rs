//! The host where an incident started first: with several hosts' logs
//! (the per-host dimension), each host's own start is its first failed
//! request in the first bucket of the incident where the host itself is
//! failing, and the host whose start comes first is named when it leads
//! the next host by at least [`MIN_LEAD_MS`].
//!
//! A host "is failing" in a bucket when at least [`HOST_ONSET_MIN_FAILED`]
//! of its requests failed there and its failed rate reaches
//! [`HOST_ONSET_MIN_RATE`] and [`HOST_ONSET_BASELINE_FACTOR`] times its own
//! failed rate outside the incident: a host's background 5xx before its
//! own onset is not its start. A host's first failure in that bucket that
//! lies before the incident's start (background in the incident's first
//! bucket) gives the incident's start: the series keeps a host's first
//! failure per bucket, not its first one after a given time.

use crate::series::dims::{DimensionCounts, DimensionKind, DimensionSeries, OTHER_LABEL};
use crate::timefmt::Millis;

use super::incident::{Cause, Incident};

/// The fewest failed requests of a host in a bucket for its onset: one or
/// two failures are background on a busy host.
pub const HOST_ONSET_MIN_FAILED: u64 = 3;

/// The least failed rate of a host's onset bucket (5%): far above the
/// background of a healthy web server (well under 1%), well below what a
/// host that is part of an outage fails.
pub const HOST_ONSET_MIN_RATE: f64 = 0.05;

/// How many times its own failed rate outside the incident a host's onset
/// bucket must fail: a host that always fails 4% is not starting anything
/// at 5%.
pub const HOST_ONSET_BASELINE_FACTOR: f64 = 10.0;

/// The least lead for naming a host: one minute, the default bucket.
/// Hosts behind one load balancer that fail for one shared cause start
/// within seconds of each other (their requests arrive interleaved); a
/// lead shorter than this is not told apart from that.
pub const MIN_LEAD_MS: i64 = 60_000;

/// One host's start in an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostStart {
    /// The host's label (its log relative to the folder all inputs share,
    /// `web02/access.log`).
    pub host: String,
    /// Its first failed request in its first failing bucket.
    pub start: Millis,
}

/// The host where an incident started first, and every host's start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLead {
    pub host: String,
    pub start: Millis,
    /// How long before the next host's start.
    pub lead_ms: i64,
    /// The host that started next.
    pub next_host: String,
    /// Every host with a start in the incident, earliest first (ties by
    /// name); hosts that did not fail in it are not listed.
    pub starts: Vec<HostStart>,
}

/// The host where `incident` started first, when the run read several
/// hosts' logs, at least two failed in it and the first leads the next by
/// [`MIN_LEAD_MS`] or more.
pub fn started_first_on(dimensions: &[DimensionSeries], incident: &Incident) -> Option<HostLead> {
    if incident.cause != Cause::BadRequests {
        return None;
    }
    let hosts = dimensions
        .iter()
        .find(|dimension| dimension.kind == DimensionKind::Host)?;
    let range = incident.first_bucket..=incident.last_bucket;
    let mut starts: Vec<HostStart> = hosts
        .labels
        .iter()
        .enumerate()
        .filter(|(_, label)| label.as_str() != OTHER_LABEL)
        .filter_map(|(id, label)| {
            let start = host_start(hosts, id as u16, range.clone(), incident.start)?;
            Some(HostStart {
                host: label.clone(),
                start,
            })
        })
        .collect();
    starts.sort_by(|a, b| (a.start, &a.host).cmp(&(b.start, &b.host)));
    let [first, next, ..] = starts.as_slice() else {
        return None;
    };
    let lead_ms = next.start - first.start;
    (lead_ms >= MIN_LEAD_MS).then(|| HostLead {
        host: first.host.clone(),
        start: first.start,
        lead_ms,
        next_host: next.host.clone(),
        starts: starts.clone(),
    })
}

/// Host `id`'s first failed request in its first failing bucket of
/// `range`, not before `incident_start`.
fn host_start(
    hosts: &DimensionSeries,
    id: u16,
    range: std::ops::RangeInclusive<usize>,
    incident_start: Millis,
) -> Option<Millis> {
    let of = |bucket: &Vec<(u16, DimensionCounts)>| -> Option<DimensionCounts> {
        bucket
            .iter()
            .find(|(value, _)| *value == id)
            .map(|(_, counts)| counts.clone())
    };
    let (mut outside_requests, mut outside_failed) = (0u64, 0u64);
    for (index, bucket) in hosts.buckets.iter().enumerate() {
        if range.contains(&index) {
            continue;
        }
        if let Some(counts) = of(bucket) {
            outside_requests += counts.requests;
            outside_failed += counts.failed;
        }
    }
    let baseline = if outside_requests == 0 {
        0.0
    } else {
        outside_failed as f64 / outside_requests as f64
    };
    let onset_rate = HOST_ONSET_MIN_RATE.max(HOST_ONSET_BASELINE_FACTOR * baseline);
    hosts
        .buckets
        .get(range)?
        .iter()
        .filter_map(of)
        .find(|counts| {
            counts.failed >= HOST_ONSET_MIN_FAILED
                && counts.failed as f64 >= onset_rate * counts.requests as f64
        })
        .and_then(|counts| counts.first_failed)
        .map(|first| first.max(incident_start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::incident::Severity;

    const MINUTE: i64 = 60_000;

    /// A host's bucket: `requests`, `failed` of them, the first failed at
    /// `first_failed`.
    fn counts(requests: u64, failed: u64, first_failed: Option<Millis>) -> DimensionCounts {
        DimensionCounts {
            requests,
            failed,
            first_failed,
            ..DimensionCounts::default()
        }
    }

    fn incident(first_bucket: usize, last_bucket: usize, start: Millis) -> Incident {
        Incident {
            cause: Cause::BadRequests,
            start,
            end: start + 10 * MINUTE,
            start_line: None,
            end_line: None,
            first_bucket,
            last_bucket,
            severity: Severity::Outage,
        }
    }

    /// Ten one-minute buckets of three hosts, 100 requests each a bucket;
    /// `failing[h]` is `(first failing bucket, its first failure's ms)`,
    /// and every host has one background failure every bucket before.
    fn hosts(failing: [Option<(usize, Millis)>; 3]) -> DimensionSeries {
        let buckets = (0..10)
            .map(|index| {
                (0..3u16)
                    .map(|host| {
                        let bucket_start = index as i64 * MINUTE;
                        let counts = match failing[usize::from(host)] {
                            Some((from, first)) if index == from => counts(100, 40, Some(first)),
                            Some((from, _)) if index > from => counts(100, 40, Some(bucket_start)),
                            _ => counts(100, 1, Some(bucket_start + 5_000)),
                        };
                        (host, counts)
                    })
                    .collect()
            })
            .collect();
        DimensionSeries {
            kind: DimensionKind::Host,
            labels: vec![
                "web01/access.log".into(),
                "web02/access.log".into(),
                "web03/access.log".into(),
            ],
            buckets,
        }
    }

    #[test]
    fn the_host_whose_own_onset_comes_first_is_named_with_its_lead() {
        // (name, failing hosts, incident start, expected (host, start, lead, next))
        type Expected = Option<(&'static str, Millis, i64, &'static str)>;
        type Failing = [Option<(usize, Millis)>; 3];
        let cases: [(&str, Failing, Millis, Expected); 5] = [
            (
                "web02 at 3:20.250, web01 at 5:07, web03 at 6:00",
                [
                    Some((5, 5 * MINUTE + 7_000)),
                    Some((3, 3 * MINUTE + 20_250)),
                    Some((6, 6 * MINUTE)),
                ],
                3 * MINUTE + 20_250,
                Some((
                    "web02/access.log",
                    3 * MINUTE + 20_250,
                    106_750,
                    "web01/access.log",
                )),
            ),
            (
                "background failures before a host's onset are not its start",
                [
                    Some((4, 4 * MINUTE + 30_000)),
                    None,
                    Some((2, 2 * MINUTE + 1)),
                ],
                2 * MINUTE + 1,
                Some((
                    "web03/access.log",
                    2 * MINUTE + 1,
                    149_999,
                    "web01/access.log",
                )),
            ),
            (
                "a lead under a minute names nobody",
                [
                    Some((3, 3 * MINUTE + 10_000)),
                    Some((3, 3 * MINUTE + 50_000)),
                    None,
                ],
                3 * MINUTE + 10_000,
                None,
            ),
            (
                "one host failing alone names nobody (nothing to lead)",
                [None, Some((3, 3 * MINUTE)), None],
                3 * MINUTE,
                None,
            ),
            (
                "a first failure before the incident's start counts from the start",
                [Some((3, 3 * MINUTE + 1_000)), Some((5, 5 * MINUTE)), None],
                3 * MINUTE + 30_000,
                Some((
                    "web01/access.log",
                    3 * MINUTE + 30_000,
                    90_000,
                    "web02/access.log",
                )),
            ),
        ];
        for (name, failing, start, expected) in cases {
            let lead = started_first_on(&[hosts(failing)], &incident(2, 9, start));
            let got = lead
                .as_ref()
                .map(|l| (l.host.as_str(), l.start, l.lead_ms, l.next_host.as_str()));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn every_failing_host_is_listed_earliest_first() {
        let lead = started_first_on(
            &[hosts([
                Some((5, 5 * MINUTE + 7_000)),
                Some((3, 3 * MINUTE + 20_250)),
                None,
            ])],
            &incident(2, 9, 3 * MINUTE + 20_250),
        )
        .expect("web02 leads");
        assert_eq!(
            lead.starts,
            vec![
                HostStart {
                    host: "web02/access.log".into(),
                    start: 3 * MINUTE + 20_250,
                },
                HostStart {
                    host: "web01/access.log".into(),
                    start: 5 * MINUTE + 7_000,
                },
            ]
        );
    }
}
