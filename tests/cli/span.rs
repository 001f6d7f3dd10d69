//! Long spans and several hosts, on logs whose every request the test
//! knows (`postmortem_testbed::exact`): a sparse month is read at a wider
//! bucket with a notice, its incident's edges and counts unchanged; with
//! one folder per host, the report names the host where the incident
//! started first, to the millisecond.

use postmortem_testbed::exact::{LogStyle, MINUTE_MS, Request, spread_with_outage, steady, truth};
use serde_json::Value;

use super::support::{millis, run, scratch, write};

/// 2024-05-01T00:00:00Z.
const MAY_FIRST: i64 = 1_714_521_600_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// The contract's default slow threshold on a fast service (1 s).
const DEFAULT_SLOW_US: u64 = 1_000_000;

/// `report ARGS` in JSON and Markdown: (the JSON report, the Markdown, the
/// JSON run's stderr).
fn reports(args: &[&str]) -> (Value, String, String) {
    let json = run(&[&["report", "--format", "json"], args].concat());
    assert!(
        json.status.success(),
        "exit {:?}: {}",
        json.status.code(),
        String::from_utf8_lossy(&json.stderr)
    );
    let markdown = run(&[&["report", "--quiet"], args].concat());
    assert!(markdown.status.success());
    (
        serde_json::from_slice(&json.stdout).expect("stdout is JSON"),
        String::from_utf8(markdown.stdout).expect("utf-8"),
        String::from_utf8_lossy(&json.stderr).into_owned(),
    )
}

/// The one incident's start, end and impact counts.
fn edges_and_counts(report: &Value) -> (i64, i64, [u64; 5]) {
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "one incident: {incidents:#?}");
    let incident = &incidents[0];
    let impact = &incident["impact"];
    let count = |field: &str| impact[field].as_u64().expect("a count");
    (
        millis(incident["start"].as_str().expect("start")),
        millis(incident["end"].as_str().expect("end")),
        [
            count("requests_total"),
            count("requests_failed"),
            count("requests_slow"),
            count("users_active"),
            count("users_affected"),
        ],
    )
}

#[test]
fn a_sparse_month_is_read_at_a_wider_bucket_with_its_edges_unchanged() {
    // 30 days from 00:00:01, a request every 30 s (86,400 lines) from 500
    // users, every request of the 30 minutes from 2024-05-16 00:00:01
    // failing. (nginx's line gives the arrival as the completion second
    // less the request time, 40 ms before the true arrival: starting on
    // the second after midnight keeps the first request in May's first
    // minute.)
    let requests = spread_with_outage(MAY_FIRST + 1_000, 30 * DAY_MS, 86_400, 500, 30 * MINUTE_MS);
    let style = LogStyle::NGINX;
    let expected = truth(style, &requests, DEFAULT_SLOW_US, |r| r.status == 502)
        .expect("the outage has failed requests");
    assert_eq!(expected.requests_failed, 60, "two a minute for 30 minutes");
    let dir = scratch();
    let log = write(dir.path(), "access.log", &style.render(&requests));
    let log = log.to_str().expect("utf-8 path");

    let (widened, markdown, stderr) = reports(&[log]);
    // 43,200 one-minute buckets from the first request's to the last's.
    assert!(
        stderr.contains(
            "bucket widened from 1m to 5m: 30 days would need 43200 buckets, more than 20160"
        ),
        "{stderr}"
    );
    assert_eq!(widened["bucket_s"], 300);
    assert_eq!(
        widened["bucket_widened"],
        serde_json::json!({
            "from_s": 60, "to_s": 300, "span_s": 30 * 86_400,
            "buckets_needed": 43_200, "limit": 20_160
        })
    );
    assert!(
        markdown.contains(
            "Bucket widened from 1 min to 5 min: the requests span 30 d, which would need 43,200 buckets, more than the 20,160 a series holds."
        ),
        "{markdown}"
    );
    let (start, end, counts) = edges_and_counts(&widened);
    assert_eq!((start, end), (expected.start_ms, expected.end_ms), "edges");
    assert_eq!(
        counts,
        [
            expected.requests_total,
            expected.requests_failed,
            expected.requests_slow,
            expected.users_active,
            expected.users_affected,
        ],
        "requests total, failed, slow; users active, affected"
    );

    // Asking for the wider bucket gives the same incident, with no notice.
    let (asked, _, stderr) = reports(&["--bucket", "5m", log]);
    assert!(!stderr.contains("widened"), "{stderr}");
    assert_eq!(asked["bucket_widened"], Value::Null);
    assert_eq!(edges_and_counts(&asked), (start, end, counts));
}

/// Two hours of one host's traffic from 10:00 on 2024-05-07, a request
/// every 2 s from 40 users of its own, every request failing from
/// `fails_from` to 11:20.
fn host(first_user: u32, fails_from: i64) -> Vec<Request> {
    let ten = 1_715_076_000_000;
    let mut requests = steady(ten, ten + 120 * MINUTE_MS, 2_000, 40, 30);
    for request in &mut requests {
        request.user += first_user;
        if (fails_from..ten + 80 * MINUTE_MS).contains(&request.arrival_ms) {
            request.status = 503;
        }
    }
    requests
}

#[test]
fn the_host_where_the_incident_started_first_is_named_to_the_millisecond() {
    let ten = 1_715_076_000_000;
    // (folder, first user, first failing arrival)
    let hosts = [
        ("web01", 0, ten + 60 * MINUTE_MS + 7_000),
        ("web02", 100, ten + 50 * MINUTE_MS + 250),
        ("web03", 200, ten + 62 * MINUTE_MS + 30_500),
    ];
    let style = LogStyle::NGINX;
    let dir = scratch();
    // Each host's start: its first failed request as its log shows it.
    let mut starts: Vec<(String, i64)> = Vec::new();
    for (folder, first_user, fails_from) in hosts {
        let requests = host(first_user, fails_from);
        std::fs::create_dir_all(dir.path().join(folder)).expect("folder");
        write(
            &dir.path().join(folder),
            "access.log",
            &style.render(&requests),
        );
        let first_failed = requests
            .iter()
            .filter(|r| r.is_failed())
            .map(|r| style.observed(r))
            .min()
            .expect("failures");
        starts.push((format!("{folder}/access.log"), first_failed));
    }
    starts.sort_by_key(|(_, start)| *start);
    let (report, markdown, _) = reports(&[dir.path().to_str().expect("utf-8 path")]);
    let incident = &report["incidents"][0];
    let lead = &incident["started_first_on"];
    assert_eq!(lead["host"], "web02/access.log", "{lead:#}");
    assert_eq!(millis(lead["start"].as_str().expect("start")), starts[0].1);
    assert_eq!(
        millis(incident["start"].as_str().expect("start")),
        starts[0].1,
        "the incident starts with the first host"
    );
    assert_eq!(lead["next_host"], "web01/access.log");
    let lead_ms = (lead["lead_s"].as_f64().expect("lead_s") * 1000.0).round() as i64;
    assert_eq!(lead_ms, starts[1].1 - starts[0].1, "lead");
    let listed: Vec<(String, i64)> = lead["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| {
            (
                host["host"].as_str().expect("host").to_string(),
                millis(host["start"].as_str().expect("start")),
            )
        })
        .collect();
    assert_eq!(listed, starts, "every host's start, earliest first");
    assert!(
        markdown.contains("**Started first on:** `web02/access.log` at 10:50:"),
        "{markdown}"
    );
}

#[test]
fn hosts_that_start_together_name_no_host() {
    let ten = 1_715_076_000_000;
    let dir = scratch();
    for (folder, first_user, fails_from) in [
        ("web01", 0, ten + 60 * MINUTE_MS),
        ("web02", 100, ten + 60 * MINUTE_MS + 20_000),
    ] {
        std::fs::create_dir_all(dir.path().join(folder)).expect("folder");
        write(
            &dir.path().join(folder),
            "access.log",
            &LogStyle::NGINX.render(&host(first_user, fails_from)),
        );
    }
    let (report, markdown, _) = reports(&[dir.path().to_str().expect("utf-8 path")]);
    assert_eq!(
        report["incidents"][0].get("started_first_on"),
        None,
        "20 s apart is under the minute a lead needs"
    );
    assert!(!markdown.contains("Started first on"), "{markdown}");
}
