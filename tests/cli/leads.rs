//! Root-cause leads end to end: an upstream whose share of the requests
//! moved is named, whatever its size; a majority upstream whose share did
//! not move is not. Logs written here, with every request's upstream known.

use super::support::{json_report, scratch, write};

/// The nginx definition of the logs below: combined, the request time and
/// the upstream address.
const LOG_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_addr"#;

/// 2024-05-07T10:00:00Z.
const START_SECONDS: i64 = 1_715_076_000;

/// Requests a minute: one every half second.
const PER_MINUTE: usize = 120;

/// Forty minutes; minutes 20..30 are the incident. `route(index, incident)`
/// gives the upstream (0, 1 or 2) of the minute's `index`-th request and
/// whether it fails with a 502.
fn log(route: impl Fn(usize, bool) -> (usize, bool)) -> String {
    let upstreams = ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"];
    let mut text = String::new();
    for minute in 0..40 {
        let incident = (20..30).contains(&minute);
        for index in 0..PER_MINUTE {
            let (upstream, fails) = route(index, incident);
            let seconds = START_SECONDS + minute * 60 + (index / 2) as i64;
            let at = chrono::DateTime::from_timestamp(seconds, 0).expect("valid time");
            let status = if fails { 502 } else { 200 };
            text.push_str(&format!(
                "192.0.2.{} - - [{} +0000] \"GET /item/{index} HTTP/1.1\" {status} 512 \"-\" \"ua\" 0.010 {}\n",
                index % 50,
                at.format("%d/%b/%Y:%H:%M:%S"),
                upstreams[upstream]
            ));
        }
    }
    text
}

/// The upstream (0, 1 or 2) of a minute's request and whether it fails,
/// from its index in the minute and whether the minute is in the incident.
type Route = fn(usize, bool) -> (usize, bool);

fn upstream_leads(text: &str) -> Vec<String> {
    let dir = scratch();
    let path = write(dir.path(), "access.log", text);
    let report = json_report(&["--log-format", LOG_FORMAT, path.to_str().expect("utf-8")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{report:#}");
    incidents[0]["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(|hint| hint.as_str())
        .filter(|hint| hint.starts_with("upstream "))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_share_that_moved_is_a_lead_and_one_that_did_not_is_none() {
    let cases: [(&str, Route, Vec<&str>); 2] = [
        (
            // A third each before; during the incident 8 in 10 requests go
            // to 10.0.0.3, and 1 in 8 of its requests fails.
            "traffic moved to one upstream, which failed",
            |index, incident| match (incident, index % 10) {
                (false, _) => (index % 3, false),
                (true, 0) => (0, false),
                (true, 1) => (1, false),
                (true, digit) => (2, digit == 2),
            },
            vec![
                "upstream 10.0.0.3:8080 served 80% of the requests during the incident against 33% before, and all of the bad ones: look at why traffic moved to it (balancing or hashing rules, a peer out of rotation)",
            ],
        ),
        (
            // 6 in 10 requests go to 10.0.0.1 throughout; during the
            // incident 1 in 5 requests fails on every upstream alike.
            "a majority upstream whose share did not move",
            |index, incident| {
                let upstream = match index % 10 {
                    0..=5 => 0,
                    6 | 7 => 1,
                    _ => 2,
                };
                (upstream, incident && (index / 10) % 5 == 0)
            },
            vec![],
        ),
    ];
    for (name, route, expected) in cases {
        assert_eq!(upstream_leads(&log(route)), expected, "{name}");
    }
}
