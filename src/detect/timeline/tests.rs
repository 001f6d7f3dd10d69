//! Tests of the timeline's request rows and of folding log lines into rows.

use super::*;
use crate::detect::baseline::BucketCounts;
use crate::detect::findings::{BaselineSummary, DetectionEvidence, DetectionSource};
use crate::detect::{Cause, Severity};
use crate::series::{Bucket, RequestFacts, SeriesBuilder, SeriesSet};

const MINUTE: i64 = MS_PER_MINUTE;

fn counts(bad: &[(u64, u64)]) -> Vec<BucketCounts> {
    bad.iter()
        .map(|&(requests, failed)| BucketCounts::of(requests, failed, 0))
        .collect()
}

fn incident(first_bucket: usize, last_bucket: usize, start: Millis, end: Millis) -> Incident {
    Incident {
        cause: Cause::BadRequests,
        start,
        end,
        start_line: None,
        end_line: None,
        first_bucket,
        last_bucket,
        severity: Severity::PartialOutage,
    }
}

/// Requests of one-minute buckets given as (requests, failed): evenly
/// spaced in each bucket, the failed ones spread evenly among them.
fn requests_of(buckets: &[(u64, u64)]) -> Vec<RequestFacts> {
    let mut all = Vec::new();
    for (index, &(requests, failed)) in buckets.iter().enumerate() {
        for i in 0..requests {
            let is_failed = (i + 1) * failed / requests > i * failed / requests;
            all.push(RequestFacts {
                arrival: index as i64 * MINUTE + (i as i64 * MINUTE) / requests as i64,
                status: if is_failed { 502 } else { 200 },
                duration_us: None,
                user: i % 20,
                line: LineRef::NONE,
            });
        }
    }
    all
}

fn series_of(requests: &[RequestFacts]) -> SeriesSet {
    let mut builder = SeriesBuilder::new(MINUTE, 1_000_000);
    requests.iter().for_each(|r| builder.record(r));
    builder.finish(100).expect("a short series")
}

#[test]
fn a_request_incident_has_start_peak_and_end_rows() {
    let buckets = [(100, 0), (100, 30), (100, 60), (100, 0)];
    let requests = requests_of(&buckets);
    let series = series_of(&requests);
    let counts = counts(&buckets);
    let baseline = BaselineSummary {
        bad_rate: 0.01,
        ..BaselineSummary::default()
    };
    let inputs = vec![];
    let cx = Context {
        inputs: &inputs,
        series: &series,
        counts: &counts,
        baseline: &baseline,
        threshold_us: 1_000_000,
    };
    let incident = incident(1, 2, MINUTE + 10_000, 2 * MINUTE + 50_000);
    let impact = Impact {
        users_affected: 7,
        users_active: 20,
        ..Impact::default()
    };
    let detected = Detected {
        at: 2 * MINUTE,
        source: DetectionSource::User,
        evidence: DetectionEvidence::Given,
    };
    let entries = request_entries(&cx, &incident, &impact, Some(&detected));
    // The requests (or the failed ones) arriving in [from, from + width).
    let window = |from: Millis, width: i64, failed_only: bool| {
        requests
            .iter()
            .filter(|r| (from..from + width).contains(&r.arrival))
            .filter(|r| !failed_only || r.status >= 500)
            .count() as u64
    };
    assert_eq!(
        (
            window(MINUTE + 10_000, MINUTE, true),
            window(MINUTE + 10_000, MINUTE, false)
        ),
        (35, 100),
        "the generator's own count"
    );
    let got: Vec<(Millis, TimelineKind)> = entries.iter().map(|e| (e.at, e.kind)).collect();
    assert_eq!(
        got,
        vec![
            (MINUTE + 10_000, TimelineKind::ImpactStart),
            (2 * MINUTE, TimelineKind::Detected),
            (2 * MINUTE, TimelineKind::Peak),
            (2 * MINUTE + 50_000, TimelineKind::ImpactEnd),
        ]
    );
    let cases = [
        (
            "start: the minute from the start, counted request by request",
            &entries[0].fact,
            TimelineFact::BadRequestsStart {
                baseline_bad_rate: 0.01,
                window_bad: window(MINUTE + 10_000, MINUTE, true),
                window_requests: window(MINUTE + 10_000, MINUTE, false),
                window_ms: MINUTE,
            },
        ),
        (
            "peak: the worst bucket",
            &entries[2].fact,
            TimelineFact::BadRequestPeak {
                bad_rate: 0.6,
                requests: 100,
                failed: 60,
                slow: 0,
                p95_us: None,
            },
        ),
        (
            "end: the users hit",
            &entries[3].fact,
            TimelineFact::BadRequestsEnd {
                users_affected: 7,
                users_active: 20,
                users_estimated: false,
            },
        ),
    ];
    for (name, got, expected) in cases {
        assert_eq!(got, &expected, "{name}");
    }
    assert_eq!(entries[0].source.as_deref(), Some("0 access logs"));
}

#[test]
fn the_peak_row_needs_a_bucket_with_enough_requests() {
    /// A two-bucket incident's per-bucket (requests, failed), and the
    /// peak's bucket index and bad-request rate, or None for no peak row.
    struct Case {
        name: &'static str,
        incident_buckets: [(u64, u64); 2],
        expected: Option<(usize, f64)>,
    }
    let cases = [
        Case {
            name: "a lone failed request is not the peak of a fuller bucket",
            incident_buckets: [(1, 1), (50, 30)],
            expected: Some((2, 0.6)),
        },
        Case {
            name: "a bucket of exactly the minimum can be the peak",
            incident_buckets: [(PEAK_MIN_REQUESTS, PEAK_MIN_REQUESTS), (50, 30)],
            expected: Some((1, 1.0)),
        },
        Case {
            name: "no bucket full enough: no peak row",
            incident_buckets: [(PEAK_MIN_REQUESTS - 1, 5), (3, 3)],
            expected: None,
        },
    ];
    for Case {
        name,
        incident_buckets,
        expected,
    } in cases
    {
        let series = SeriesSet {
            start: 0,
            bucket_ms: MINUTE,
            ingest_slow_us: 1_000_000,
            buckets: vec![Bucket::default(); 4],
        };
        let counts = counts(&[(100, 0), incident_buckets[0], incident_buckets[1], (100, 0)]);
        let baseline = BaselineSummary::default();
        let inputs = vec![];
        let cx = Context {
            inputs: &inputs,
            series: &series,
            counts: &counts,
            baseline: &baseline,
            threshold_us: 1_000_000,
        };
        let incident = incident(1, 2, MINUTE + 10_000, 2 * MINUTE + 50_000);
        let entries = request_entries(&cx, &incident, &Impact::default(), None);
        let peak = entries
            .iter()
            .find(|e| e.kind == TimelineKind::Peak)
            .map(|e| match e.fact {
                TimelineFact::BadRequestPeak { bad_rate, .. } => {
                    ((e.at / MINUTE) as usize, bad_rate)
                }
                ref other => panic!("{name}: {other:?}"),
            });
        assert_eq!(peak, expected, "{name}");
    }
}

/// The start row once said "0% in the first 1 min, against a baseline of
/// 0.39%" on a sparse degradation: its rate came from the bucket after the
/// first bad request (the first the incident filled half of), which held
/// none. Counted from the first bad request, the rate includes it.
#[test]
fn the_start_row_counts_from_the_first_bad_request() {
    // Twelve requests a minute; the first failure at 1:55, none in the
    // next minute, every request failing in the one after.
    let buckets = [(12, 0), (12, 1), (12, 0), (12, 12)];
    let requests = requests_of(&buckets);
    let series = series_of(&requests);
    let bucket_counts = counts(&buckets);
    let baseline = BaselineSummary {
        bad_rate: 0.0039,
        ..BaselineSummary::default()
    };
    let inputs = vec![];
    let cx = Context {
        inputs: &inputs,
        series: &series,
        counts: &bucket_counts,
        baseline: &baseline,
        threshold_us: 1_000_000,
    };
    let start = MINUTE + 55_000;
    let outage = incident(1, 3, start, 3 * MINUTE + 55_000);
    let entries = request_entries(&cx, &outage, &Impact::default(), None);
    assert_eq!(
        entries[0].fact,
        TimelineFact::BadRequestsStart {
            baseline_bad_rate: 0.0039,
            // 1:55 and the eleven requests of 2:00 to 2:50.
            window_bad: 1,
            window_requests: 12,
            window_ms: MINUTE,
        }
    );
    // Three requests a minute: the window doubles to 4 min to hold ten.
    let sparse = [(3, 0), (3, 1), (3, 0), (3, 0), (3, 0), (3, 0), (3, 3)];
    let requests = requests_of(&sparse);
    let series = series_of(&requests);
    let sparse_counts = counts(&sparse);
    let cx = Context {
        series: &series,
        counts: &sparse_counts,
        ..cx
    };
    let sparse_outage = incident(1, 6, MINUTE + 40_000, 6 * MINUTE + 40_000);
    let entries = request_entries(&cx, &sparse_outage, &Impact::default(), None);
    assert_eq!(
        entries[0].fact,
        TimelineFact::BadRequestsStart {
            baseline_bad_rate: 0.0039,
            // 1:40, then 2:00 to 5:20: twelve requests, one failed.
            window_bad: 1,
            window_requests: 12,
            window_ms: 4 * MINUTE,
        }
    );
}

fn event(at: Millis, kind: EventKind, text: &str, line: u64) -> Event {
    Event {
        at,
        last_at: at,
        kind,
        rule: "test rule",
        severity: None,
        host: Some("web01".to_string()),
        program: Some("app".to_string()),
        text: text.to_string(),
        line: LineRef { input: 0, line },
        count: 1,
    }
}

#[test]
fn bursts_fold_by_template_but_never_across_a_step_or_a_gap() {
    let inputs = vec![InputStats::new("syslog".to_string())];
    let events = vec![
        event(0, EventKind::Change, "Reloading apache 1021", 1),
        event(MINUTE, EventKind::Event, "redirect loop for 10.0.0.1", 2),
        event(
            2 * MINUTE,
            EventKind::Event,
            "redirect loop for 10.0.0.2",
            3,
        ),
        // the incident starts at 3 min
        event(
            3 * MINUTE,
            EventKind::Event,
            "redirect loop for 10.0.0.3",
            4,
        ),
        event(
            4 * MINUTE,
            EventKind::Event,
            "redirect loop for 10.0.0.4",
            5,
        ),
        // silent longer than the gap
        event(
            4 * MINUTE + BURST_GAP_MS + 1,
            EventKind::Event,
            "redirect loop for 10.0.0.5",
            6,
        ),
        // the same reload 75 min later: the fix, a row of its own
        event(75 * MINUTE, EventKind::Change, "Reloading apache 1021", 7),
        event(
            75 * MINUTE + 100,
            EventKind::Change,
            "Reloading apache 1021",
            8,
        ),
    ];
    let templates = Templates::mine(&events);
    let rows = fold_logs(
        &inputs,
        &events,
        &templates,
        (0, 100 * MINUTE),
        &[3 * MINUTE],
        None,
    );
    let got: Vec<(Millis, u64, Option<&str>)> = rows
        .iter()
        .map(|r| (r.entry.at, r.entry.count, r.entry.source.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 1, Some("syslog:1")),
            (MINUTE, 2, Some("syslog:2")),
            (3 * MINUTE, 2, Some("syslog:4")),
            (4 * MINUTE + BURST_GAP_MS + 1, 1, Some("syslog:6")),
            (75 * MINUTE, 2, Some("syslog:7")),
        ],
        "the start cuts a burst, the gap cuts one, the later reload is its own row"
    );
    match &rows[1].entry.fact {
        TimelineFact::Log {
            text,
            template,
            last_at,
            ..
        } => {
            assert_eq!(text, "app: redirect loop for 10.0.0.1", "the example line");
            assert_eq!(template.as_deref(), Some("app: redirect loop for <*>"));
            assert_eq!(*last_at, 2 * MINUTE);
        }
        other => panic!("a log row, got {other:?}"),
    }
}

#[test]
fn a_rollout_is_one_row_a_repeat_on_a_host_is_another_and_an_alerts_echo_joins_it() {
    let inputs = vec![InputStats::new("syslog".to_string())];
    let on = |host: &str, mut e: Event| {
        e.host = Some(host.to_string());
        e.rule = "systemd unit";
        e
    };
    let alert = |at, text, line| Event {
        host: Some("mon1".to_string()),
        program: Some("nagios".to_string()),
        ..event(at, EventKind::Alert, text, line)
    };
    let stopping = "Stopping app.service - Shop application server...";
    let events = vec![
        on("web02", event(0, EventKind::Change, stopping, 1)),
        on("web03", event(40_000, EventKind::Change, stopping, 2)),
        on("web04", event(80_000, EventKind::Change, stopping, 3)),
        // web02 again two minutes later: a repeat, its own row
        on("web02", event(200_000, EventKind::Change, stopping, 4)),
        alert(300_000, "SERVICE ALERT: web02;HTTP;CRITICAL", 5),
        alert(
            300_000,
            "SERVICE NOTIFICATION: oncall;web02;HTTP;CRITICAL",
            6,
        ),
    ];
    let templates = Templates::mine(&events);
    let rows = fold_logs(&inputs, &events, &templates, (0, 10 * MINUTE), &[], None);
    let got: Vec<(Millis, u64, Option<String>)> = rows
        .iter()
        .map(|r| match &r.entry.fact {
            TimelineFact::Log { host, .. } => (r.entry.at, r.entry.count, host.clone()),
            _ => (r.entry.at, r.entry.count, None),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 3, Some("web02, web03, web04".to_string())),
            (200_000, 1, Some("web02".to_string())),
            (300_000, 2, Some("mon1".to_string())),
        ],
        "the rollout, the repeat, the alert with its notification"
    );
    // The detecting alert is the detection row; the page it sent (a
    // notification naming a contact) stays for the escalation.
    let detecting = &events[4];
    let rows = fold_logs(
        &inputs,
        &events,
        &templates,
        (0, 10 * MINUTE),
        &[],
        Some(detecting),
    );
    let sources: Vec<Option<&str>> = rows.iter().map(|r| r.entry.source.as_deref()).collect();
    assert_eq!(
        sources,
        vec![Some("syslog:1"), Some("syslog:4"), Some("syslog:6")]
    );
    // An echo that names no one is folded into the detection.
    let mut quiet = events.clone();
    quiet[5].text = "SERVICE ALERT: web02;HTTP;CRITICAL;HARD;3;again".to_string();
    let templates = Templates::mine(&quiet);
    let rows = fold_logs(
        &inputs,
        &quiet,
        &templates,
        (0, 10 * MINUTE),
        &[],
        Some(&quiet[4]),
    );
    assert_eq!(rows.len(), 2, "no alert row beside the detection");
}

#[test]
fn the_timeline_keeps_steps_and_fills_the_rest_by_rank() {
    let inputs = vec![InputStats::new("syslog".to_string())];
    // 30 different error messages and 30 changes would be 60 rows.
    let mut events: Vec<Event> = (0..30)
        .map(|i| {
            event(
                i * 10 * MINUTE,
                EventKind::Event,
                &format!("error kind{i} seen"),
                i as u64,
            )
        })
        .collect();
    events.push(event(5 * MINUTE, EventKind::Change, "deploy v1", 100));
    events.push(event(6 * MINUTE, EventKind::Alert, "CRITICAL web01", 101));
    events.push(event(7 * MINUTE, EventKind::Alert, "CRITICAL web01", 102));
    events.push(event(8 * MINUTE, EventKind::Recovery, "OK web01", 103));
    events.sort_by_key(|e| e.at);
    let templates = Templates::mine(&events);
    let rows = fold_logs(&inputs, &events, &templates, (0, 300 * MINUTE), &[], None);
    let own = vec![entry(
        0,
        TimelineKind::ImpactStart,
        TimelineFact::MetricDepartureEnd,
        None,
    )];
    let timeline = select(own, &rows, Vec::new(), &[]);
    assert_eq!(timeline.len(), crate::detect::rows::FILLED_ROWS);
    let sources: Vec<&str> = timeline
        .iter()
        .filter_map(|e| e.source.as_deref())
        .collect();
    for (name, source, kept) in [
        ("the change", "syslog:100", true),
        ("the first alert", "syslog:101", true),
        ("the recovery, by rank", "syslog:103", true),
        ("the last error, crowded out", "syslog:29", false),
    ] {
        assert_eq!(sources.contains(&source), kept, "{name}");
    }
    let alerts = timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Alert)
        .map(|e| e.count)
        .collect::<Vec<_>>();
    assert_eq!(
        alerts,
        vec![2, 1],
        "the repeated alert folded, then the recovery"
    );
}

#[test]
fn out_of_memory_events_are_counted_before_the_cap() {
    let rule = |mut e: Event, rule: &'static str| {
        e.rule = rule;
        e
    };
    let events = vec![
        rule(
            event(0, EventKind::Event, "Killed process 1 (java)", 1),
            OUT_OF_MEMORY_RULE,
        ),
        rule(
            event(10_000, EventKind::Event, "invoked oom-killer", 2),
            OUT_OF_MEMORY_RULE,
        ),
        rule(
            Event {
                host: Some("web02".to_string()),
                ..event(20_000, EventKind::Event, "Killed process 9 (java)", 3)
            },
            OUT_OF_MEMORY_RULE,
        ),
        rule(
            event(30 * MINUTE, EventKind::Event, "Killed process 3 (java)", 3),
            OUT_OF_MEMORY_RULE,
        ),
        rule(
            event(31 * MINUTE, EventKind::Event, "segfault in php", 4),
            "crash",
        ),
        rule(
            event(32 * MINUTE, EventKind::Change, "oom tuning deployed", 5),
            OUT_OF_MEMORY_RULE,
        ),
    ];
    assert_eq!(
        out_of_memory_events(&events, (0, 60 * MINUTE)),
        3,
        "one kill's lines, a kill on another host, a later kill; not the crash, not a change"
    );
    assert_eq!(
        out_of_memory_events(&events, (20 * MINUTE, 60 * MINUTE)),
        1,
        "the window"
    );
}

#[test]
fn assembled_rows_sort_by_time_then_kind() {
    let row = |at, kind| entry(at, kind, TimelineFact::MetricDepartureEnd, None);
    let own = vec![
        row(10, TimelineKind::ImpactStart),
        row(30, TimelineKind::ImpactEnd),
    ];
    let logs = vec![
        LogRow {
            entry: row(10, TimelineKind::Change),
            template: 0,
        },
        LogRow {
            entry: row(5, TimelineKind::Alert),
            template: 1,
        },
    ];
    let onsets = vec![row(30, TimelineKind::Event)];
    let got: Vec<(Millis, TimelineKind)> = assemble(&[], own, None, &logs, onsets, &[])
        .iter()
        .map(|e| (e.at, e.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, TimelineKind::Alert),
            (10, TimelineKind::Change),
            (10, TimelineKind::ImpactStart),
            (30, TimelineKind::Event),
            (30, TimelineKind::ImpactEnd),
        ]
    );
}
