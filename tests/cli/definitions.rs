//! The contract's definitions checked to the second on logs whose every
//! request the test knows: start and end are the first and last bad
//! request, times are arrivals (nginx completion minus request time), and
//! impact counts distinct users over [start, end].

use std::collections::HashSet;
use std::fmt::Write;

use serde_json::Value;

use super::support::{json_report, millis, scratch, write};

/// One request of the hand-made log.
struct Request {
    arrival_ms: i64,
    user: usize,
    status: u16,
    latency_ms: i64,
}

impl Request {
    /// The second nginx writes: completion, truncated.
    fn logged_second(&self) -> i64 {
        (self.arrival_ms + self.latency_ms).div_euclid(1000)
    }

    /// The arrival a tool can reconstruct from the line.
    fn reconstructed_arrival(&self) -> i64 {
        self.logged_second() * 1000 - self.latency_ms
    }

    fn is_bad(&self, slow_ms: i64) -> bool {
        self.status >= 500 || self.status == 499 || self.latency_ms > slow_ms
    }
}

/// 2024-05-07T09:00:00Z, 10:00 in the log's +01:00.
const LOG_START_MS: i64 = 1_715_072_400_000;
const MINUTES: i64 = 240;
const REQUESTS_PER_MINUTE: i64 = 20;
const USERS: usize = 200;
/// The incident: minutes 120 to 149 (12:00:00 to 12:29:59 local).
const INCIDENT_MINUTES: std::ops::Range<i64> = 120..150;

/// Every request of the log; `hit` decides which users fail in the
/// incident, `failure` what they get (status, latency in ms).
fn requests(hit: impl Fn(usize) -> bool, failure: (u16, i64)) -> Vec<Request> {
    let mut all = Vec::new();
    for minute in 0..MINUTES {
        for k in 0..REQUESTS_PER_MINUTE {
            let user = ((minute * 7 + k * 13) as usize) % USERS;
            let index = minute * REQUESTS_PER_MINUTE + k;
            let failing = INCIDENT_MINUTES.contains(&minute) && hit(user);
            // Background errors, but none within two minutes of the incident's
            // edges: there "the first bad request of the incident" is a matter
            // of tolerance (see samples.rs), here it is exact.
            let near_edge = (INCIDENT_MINUTES.start - 2..INCIDENT_MINUTES.start + 2)
                .contains(&minute)
                || (INCIDENT_MINUTES.end - 2..INCIDENT_MINUTES.end + 2).contains(&minute);
            let (status, latency_ms) = if failing {
                failure
            } else if index % 97 == 0 && !near_edge {
                (500, 30)
            } else {
                (200, 50)
            };
            all.push(Request {
                arrival_ms: LOG_START_MS + minute * 60_000 + k * 3_000,
                user,
                status,
                latency_ms,
            });
        }
    }
    all
}

/// The lines nginx would write (combined + `$request_time`, +01:00), in
/// completion order.
fn nginx_log(requests: &[Request]) -> String {
    let mut order: Vec<&Request> = requests.iter().collect();
    order.sort_by_key(|r| r.arrival_ms + r.latency_ms);
    let mut text = String::new();
    for r in order {
        let local =
            chrono::DateTime::from_timestamp(r.logged_second() + 3600, 0).expect("valid time");
        let _ = writeln!(
            text,
            "10.0.{}.{} - - [{} +0100] \"GET /item/{} HTTP/1.1\" {} 512 \"-\" \"Mozilla/5.0 (user {})\" {}.{:03}",
            r.user / 250,
            r.user % 250,
            local.format("%d/%b/%Y:%H:%M:%S"),
            r.user,
            r.status,
            r.user,
            r.latency_ms / 1000,
            r.latency_ms % 1000
        );
    }
    text
}

/// The contract's impact computed directly from the requests.
struct Truth {
    start: i64,
    end: i64,
    users_active: usize,
    users_affected: usize,
    requests_total: usize,
    requests_failed: usize,
}

fn truth(requests: &[Request], slow_ms: i64) -> Truth {
    let window_start = LOG_START_MS + INCIDENT_MINUTES.start * 60_000;
    let window_end = LOG_START_MS + INCIDENT_MINUTES.end * 60_000;
    // Which requests belong to the incident is the generator's knowledge (the
    // true arrival); their times are what a tool can reconstruct from the line.
    let in_window = |r: &&Request| (window_start..window_end).contains(&r.arrival_ms);
    let bad: Vec<&Request> = requests
        .iter()
        .filter(in_window)
        .filter(|r| r.is_bad(slow_ms))
        .collect();
    let start = bad
        .iter()
        .map(|r| r.reconstructed_arrival())
        .min()
        .expect("bad requests");
    let end = bad
        .iter()
        .map(|r| r.reconstructed_arrival())
        .max()
        .expect("bad requests");
    let inside: Vec<&Request> = requests
        .iter()
        .filter(|r| (start..=end).contains(&r.reconstructed_arrival()))
        .collect();
    Truth {
        start,
        end,
        users_active: inside.iter().map(|r| r.user).collect::<HashSet<_>>().len(),
        users_affected: inside
            .iter()
            .filter(|r| r.is_bad(slow_ms))
            .map(|r| r.user)
            .collect::<HashSet<_>>()
            .len(),
        requests_total: inside.len(),
        requests_failed: inside
            .iter()
            .filter(|r| r.status >= 500 || r.status == 499)
            .count(),
    }
}

#[test]
fn incidents_match_the_definitions_to_the_second() {
    struct Case {
        name: &'static str,
        hit: fn(usize) -> bool,
        failure: (u16, i64),
        severity: &'static str,
    }
    let cases = [
        Case {
            name: "three users in four get 503",
            hit: |u| u % 4 != 0,
            failure: (503, 2),
            severity: "partial-outage",
        },
        Case {
            name: "everyone gets 502",
            hit: |_| true,
            failure: (502, 1),
            severity: "outage",
        },
        Case {
            name: "half the users wait 4 s",
            hit: |u| u % 2 == 0,
            failure: (200, 4_000),
            severity: "degradation",
        },
        Case {
            name: "one user in five gives up (499)",
            hit: |u| u % 5 == 0,
            failure: (499, 900),
            severity: "partial-outage",
        },
    ];
    for case in cases {
        let requests = requests(case.hit, case.failure);
        let expected = truth(&requests, 1_000);
        let dir = scratch();
        let log = write(dir.path(), "access.log", &nginx_log(&requests));
        let report = json_report(&[log.to_str().expect("utf-8 path")]);
        let incidents = report["incidents"].as_array().expect("incidents");
        assert_eq!(incidents.len(), 1, "{}: {incidents:#?}", case.name);
        let incident = &incidents[0];
        let impact = &incident["impact"];
        assert_eq!(
            millis(incident["start"].as_str().expect("start")),
            expected.start,
            "{}: start",
            case.name
        );
        assert_eq!(
            millis(incident["end"].as_str().expect("end")),
            expected.end,
            "{}: end",
            case.name
        );
        assert_eq!(
            impact["users_active"], expected.users_active,
            "{}: users_active",
            case.name
        );
        assert_eq!(
            impact["users_affected"], expected.users_affected,
            "{}: users_affected",
            case.name
        );
        assert_eq!(
            impact["requests_total"], expected.requests_total,
            "{}: requests_total",
            case.name
        );
        assert_eq!(
            impact["requests_failed"], expected.requests_failed,
            "{}: requests_failed",
            case.name
        );
        let pct = 100.0 * expected.users_affected as f64 / expected.users_active as f64;
        let got_pct = impact["affected_pct"].as_f64().expect("affected_pct");
        assert!(
            (got_pct - pct).abs() < 0.01,
            "{}: affected_pct {got_pct} vs {pct}",
            case.name
        );
        assert_eq!(incident["severity"], case.severity, "{}", case.name);
        assert_eq!(report["slow_threshold_s"], 1.0, "{}", case.name);
    }
}

#[test]
fn detection_comes_from_the_user_or_the_burn_rate_rule() {
    let requests = requests(|u| u % 4 != 0, (503, 2));
    let expected = truth(&requests, 1_000);
    let dir = scratch();
    let log = write(dir.path(), "access.log", &nginx_log(&requests));
    let path = log.to_str().expect("utf-8 path");

    let by_rule = json_report(&[path]);
    let detected = &by_rule["incidents"][0]["detected"];
    assert_eq!(detected["source"], "rule");
    let delay = millis(detected["at"].as_str().expect("at")) - expected.start;
    assert!(
        (0..=60_000).contains(&delay),
        "a 75% error rate pages within a minute: {delay} ms"
    );
    let ttd = by_rule["incidents"][0]["time_to_detect_s"]
        .as_f64()
        .expect("ttd");
    assert!(
        (ttd * 1000.0 - delay as f64).abs() < 1.0,
        "time_to_detect_s = detected - start"
    );

    // 12:10 in the log's zone (+01:00) is 11:10Z.
    let by_user = json_report(&["--detected-at", "2024-05-07 12:10", path]);
    let incident = &by_user["incidents"][0];
    assert_eq!(incident["detected"]["source"], "user");
    assert_eq!(incident["detected"]["at"], "2024-05-07T11:10:00Z");
    let expected_ttd = (millis("2024-05-07T11:10:00Z") - expected.start) as f64 / 1000.0;
    assert_eq!(incident["time_to_detect_s"].as_f64(), Some(expected_ttd));
}

#[test]
fn a_log_without_incident_reports_none() {
    let requests = requests(|_| false, (200, 50));
    let dir = scratch();
    let log = write(dir.path(), "access.log", &nginx_log(&requests));
    let report = json_report(&[log.to_str().expect("utf-8 path")]);
    assert_eq!(report["incidents"], serde_json::json!([]));
    assert_eq!(
        report["inputs"][0]["parsed"],
        (MINUTES * REQUESTS_PER_MINUTE) as u64
    );
    assert_eq!(report["inputs"][0]["format"], "combined+request_time");
}

#[test]
fn markdown_shows_times_in_the_logs_zone() {
    let requests = requests(|u| u % 4 != 0, (503, 2));
    let dir = scratch();
    let log = write(dir.path(), "access.log", &nginx_log(&requests));
    let output = super::support::run(&["report", "--quiet", log.to_str().expect("utf-8 path")]);
    assert!(output.status.success());
    let markdown = String::from_utf8(output.stdout).expect("utf-8");
    // The first bad request arrives at 12:00:02.998 local time (GMT+1), shown truncated.
    assert!(
        markdown.contains("# Postmortem: Partial outage on 2024-05-07, 12:00:02–12:29:56 GMT+1"),
        "{markdown}"
    );
    for section in [
        "## Issue Summary",
        "## Timeline",
        "## Root Cause and Resolution",
        "## Corrective and Preventative Measures",
        "## Appendix: Inputs",
    ] {
        assert!(markdown.contains(section), "missing {section}");
    }
    assert!(markdown.contains("**TODO:**"));
}

#[test]
fn a_silent_gap_is_a_traffic_incident() {
    // Nothing is logged from minute 60 to minute 79 (11:00 to 11:19:59 local).
    let all = requests(|_| false, (200, 50));
    let gap = LOG_START_MS + 60 * 60_000..LOG_START_MS + 80 * 60_000;
    let mut kept: Vec<Request> = all
        .into_iter()
        .filter(|r| !gap.contains(&r.arrival_ms))
        .collect();
    // A neighbour in the second of the last request before the gap, but
    // before it (logged in the same second, 300 ms slower), and one in the
    // second of the first request after it, but after it: outside [start,
    // end] by the millisecond.
    let last_arrival = kept
        .iter()
        .map(|r| r.arrival_ms)
        .filter(|&t| t < gap.start)
        .max()
        .expect("requests before the gap");
    let first_arrival = kept
        .iter()
        .map(|r| r.arrival_ms)
        .filter(|&t| t >= gap.end)
        .min()
        .expect("requests after the gap");
    kept.push(Request {
        arrival_ms: last_arrival + 100,
        user: 1,
        status: 200,
        latency_ms: 300,
    });
    kept.push(Request {
        arrival_ms: first_arrival + 200,
        user: 2,
        status: 200,
        latency_ms: 10,
    });
    let last_before = kept
        .iter()
        .map(|r| r.reconstructed_arrival())
        .filter(|&t| t < gap.start)
        .max();
    let first_after = kept
        .iter()
        .map(|r| r.reconstructed_arrival())
        .filter(|&t| t >= gap.end - 1000)
        .min();
    let dir = scratch();
    let log = write(dir.path(), "access.log", &nginx_log(&kept));
    let report = json_report(&[log.to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];
    assert_eq!(
        Some(millis(incident["start"].as_str().expect("start"))),
        last_before
    );
    assert_eq!(
        Some(millis(incident["end"].as_str().expect("end"))),
        first_after
    );
    assert_eq!(incident["severity"], "outage");
    assert_eq!(incident["signals"][0]["kind"], "traffic");
    assert_eq!(
        incident["signals"][0]["baseline"], 20.0,
        "20 requests a minute normally"
    );
    // The traffic rule: below a fifth of the baseline for five minutes,
    // counted from the first silent minute.
    assert_eq!(incident["detected"]["source"], "rule");
    assert_eq!(
        millis(incident["detected"]["at"].as_str().expect("at")),
        gap.start + 5 * 60_000
    );
    // About 20 distinct users a minute are missing for 20 minutes, less the
    // two who made the edge requests.
    let missing = incident["impact"]["users_missing"]
        .as_u64()
        .expect("users_missing");
    assert_eq!(missing, 20 * 20 - 2);
    // The requests in [start, end] are the two edge requests: not their
    // neighbours in the same seconds.
    let (start, end) = (last_before.expect("start"), first_after.expect("end"));
    let same_seconds = kept
        .iter()
        .filter(|r| {
            let t = r.reconstructed_arrival();
            t.div_euclid(1000) == start.div_euclid(1000)
                || t.div_euclid(1000) == end.div_euclid(1000)
        })
        .count();
    assert_eq!(same_seconds, 4, "each edge has a neighbour in its second");
    let inside = kept
        .iter()
        .filter(|r| (start..=end).contains(&r.reconstructed_arrival()))
        .count() as u64;
    assert_eq!(inside, 2);
    assert_eq!(incident["impact"]["requests_total"], inside);
    assert_eq!(incident["impact"]["users_active"], 2);
}

/// A month of log with traffic on one afternoon only (a test box, a
/// forgotten vhost): 43,000 empty one-minute buckets around an hour of
/// requests. The incident is found to the second as on a busy log, and the
/// empty buckets cost neither a slot table each nor a quadratic baseline.
#[test]
fn an_incident_inside_a_sparse_month() {
    let dir = scratch();
    let line = |stamp: &str, user: usize, status: u16| {
        format!(
            "10.0.{}.{} - - [{stamp} +0000] \"GET /a HTTP/1.1\" {status} 10\n",
            user / 250,
            user % 250
        )
    };
    let mut log = line("01/Apr/2024:00:00:00", 1, 200);
    for second in 0..3600 {
        if second % 3 != 0 {
            continue;
        }
        let (minute, sec) = (second / 60, second % 60);
        let status = if (20..30).contains(&minute) { 503 } else { 200 };
        let stamp = format!("15/Apr/2024:12:{minute:02}:{sec:02}");
        log.push_str(&line(&stamp, (second / 3) % 50, status));
    }
    log.push_str(&line("30/Apr/2024:23:59:59", 2, 200));
    let path = write(dir.path(), "access.log", &log);
    let report = json_report(&[path.to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0]["start"], "2024-04-15T12:20:00Z");
    assert_eq!(incidents[0]["end"], "2024-04-15T12:29:57Z");
    assert_eq!(incidents[0]["severity"], "outage");
    assert_eq!(incidents[0]["impact"]["users_active"], 50);
    assert_eq!(incidents[0]["impact"]["affected_pct"], 100.0);
}

/// A scanner's 404s during an outage are named in its hints as one
/// client's, not part of the outage, and leave start, end and impact alone.
#[test]
fn a_scanner_during_an_incident_is_named_not_counted() {
    const SCANNER: &str = "203.0.113.50";
    let dir = scratch();
    let mut log = String::new();
    for second in 0..3600 {
        let (minute, sec) = (second / 60, second % 60);
        let stamp = format!("07/May/2024:10:{minute:02}:{sec:02} +0000");
        if second % 3 == 0 {
            let user = (second / 3) % 50;
            let status = if (20..30).contains(&minute) { 502 } else { 200 };
            let _ = writeln!(
                log,
                "10.0.0.{user} - - [{stamp}] \"GET /a HTTP/1.1\" {status} 10 \"-\" \"ua\""
            );
        }
        if (15..25).contains(&minute) {
            let _ = writeln!(
                log,
                "{SCANNER} - - [{stamp}] \"GET /.env HTTP/1.1\" 404 0 \"-\" \"scan\""
            );
        }
    }
    let path = write(dir.path(), "access.log", &log);
    let report = json_report(&[path.to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0]["start"], "2024-05-07T10:20:00Z");
    assert_eq!(incidents[0]["end"], "2024-05-07T10:29:57Z");
    // The scanner is active (it sent requests) but not affected (no 5xx).
    assert_eq!(incidents[0]["impact"]["users_active"], 51);
    assert_eq!(incidents[0]["impact"]["users_affected"], 50);
    let hints = hints(&incidents[0]);
    let named = hints
        .iter()
        .find(|hint| hint.contains(SCANNER))
        .unwrap_or_else(|| panic!("no hint names the scanner: {hints:#?}"));
    assert!(
        named.starts_with("600 4xx responses from one client"),
        "{named}"
    );
    assert!(named.contains("between 10:15:00 and 10:24:59"), "{named}");
    assert!(named.contains("not an outage"), "{named}");
    assert_eq!(report["client_bursts"][0]["responses_4xx"], 600);
}

/// An incident's hints.
fn hints(incident: &Value) -> Vec<&str> {
    incident["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// A deploy that breaks one endpoint: `/checkout` (a tenth of the traffic)
/// fails for ten minutes while every other path works. The hint names the
/// path, and start and end are its first and last failure.
#[test]
fn one_broken_path_is_named_in_the_hints() {
    let dir = scratch();
    let mut log = String::new();
    for second in 0..3600 {
        let (minute, sec) = (second / 60, second % 60);
        let stamp = format!("07/May/2024:10:{minute:02}:{sec:02} +0000");
        let path = if second % 10 == 0 {
            "/checkout".to_string()
        } else {
            format!("/product/{}", second % 37)
        };
        let status = if path == "/checkout" && (20..30).contains(&minute) {
            500
        } else {
            200
        };
        let _ = writeln!(
            log,
            "10.0.1.{} - - [{stamp}] \"GET {path}?ref=x HTTP/1.1\" {status} 10 \"-\" \"ua\"",
            second % 200
        );
    }
    let path = write(dir.path(), "access.log", &log);
    let report = json_report(&[path.to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0]["start"], "2024-05-07T10:20:00Z");
    assert_eq!(incidents[0]["end"], "2024-05-07T10:29:50Z");
    let hints = hints(&incidents[0]);
    let named = hints
        .iter()
        .find(|hint| hint.starts_with("path /checkout"))
        .unwrap_or_else(|| panic!("no hint names the path: {hints:#?}"));
    // A tenth of the requests; the bound adds the other paths that share
    // /checkout's cell of the traffic sketch.
    let prefix = "path /checkout got 100% of the bad requests but at most ";
    let traffic_pct: u32 = named
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('%').next())
        .and_then(|pct| pct.parse().ok())
        .unwrap_or_else(|| panic!("{named}"));
    assert!((10..22).contains(&traffic_pct), "{named}");
}
