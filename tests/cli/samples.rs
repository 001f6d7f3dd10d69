//! The bundled sample incidents: the report must find each generator's
//! ground truth (`sample-logs/expected/<name>.json`) within the tolerances the project
//! promises: start within 60 s, end within 120 s, affected share within 3
//! points, and no incident on the quiet log.

use serde_json::Value;

use super::support::{json_report, millis, repo_root, run};

/// Tolerances of the end-to-end checks.
const START_TOLERANCE_MS: i64 = 60_000;
const END_TOLERANCE_MS: i64 = 120_000;
const AFFECTED_PCT_TOLERANCE: f64 = 3.0;

fn check_scenario(name: &str) {
    let dir = repo_root().join("sample-logs").join(name);
    let truth_path = repo_root()
        .join("sample-logs")
        .join("expected")
        .join(format!("{name}.json"));
    let expected: Value =
        serde_json::from_slice(&std::fs::read(&truth_path).expect("ground truth"))
            .expect("the ground truth is JSON");
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let found = report["incidents"].as_array().expect("incidents");
    let truth = expected["incidents"]
        .as_array()
        .expect("expected incidents");
    assert_eq!(found.len(), truth.len(), "{name}: {found:#?}");
    for (got, want) in found.iter().zip(truth) {
        let start_error = millis(got["start"].as_str().expect("start"))
            - millis(want["start"].as_str().expect("start"));
        let end_error =
            millis(got["end"].as_str().expect("end")) - millis(want["end"].as_str().expect("end"));
        assert!(
            start_error.abs() <= START_TOLERANCE_MS,
            "{name}: start off by {start_error} ms"
        );
        assert!(
            end_error.abs() <= END_TOLERANCE_MS,
            "{name}: end off by {end_error} ms"
        );
        let pct = got["impact"]["affected_pct"]
            .as_f64()
            .expect("affected_pct");
        let want_pct = want["impact"]["affected_pct"]
            .as_f64()
            .expect("expected affected_pct");
        assert!(
            (pct - want_pct).abs() <= AFFECTED_PCT_TOLERANCE,
            "{name}: affected {pct}% vs {want_pct}%"
        );
        assert_eq!(got["severity"], want["severity"], "{name}: severity");
        // Where the logs hold the alert that detected it, detection is that
        // alert (source "log"), within a minute.
        if want["detected"]["source"] == "log" {
            assert_eq!(
                got["detected"]["source"], "log",
                "{name}: detected by the alert"
            );
            let at = |v: &Value| millis(v["detected"]["at"].as_str().expect("detected.at"));
            let detection_error = at(got) - at(want);
            assert!(
                detection_error.abs() <= START_TOLERANCE_MS,
                "{name}: detection off by {detection_error} ms"
            );
        }
    }
}

#[test]
fn memory_leak_sample_matches_its_ground_truth() {
    check_scenario("memory-leak");
}

#[test]
fn quiet_sample_names_the_scanner_and_has_no_incident() {
    check_scenario("quiet");
    // The scanner's 4xx responses, counted from the log itself.
    const SCANNER: &str = "45.148.10.86";
    let dir = repo_root().join("sample-logs/quiet");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(dir.join("access.log.gz")).expect("access.log.gz"),
        ),
        &mut text,
    )
    .expect("gzip text");
    let scanner_4xx: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(&format!("{SCANNER} ")))
        .filter(|line| {
            let status = line
                .split('"')
                .nth(2)
                .and_then(|rest| rest.split_whitespace().next());
            status
                .and_then(|s| s.parse::<u16>().ok())
                .is_some_and(|s| (400..499).contains(&s))
        })
        .collect();
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let bursts = report["client_bursts"].as_array().expect("client_bursts");
    assert_eq!(bursts.len(), 1, "{bursts:#?}");
    assert_eq!(bursts[0]["client"], SCANNER);
    assert_eq!(bursts[0]["responses_4xx"], scanner_4xx.len() as u64);
    assert_eq!(
        scanner_4xx.len(),
        459,
        "the generator's 460 requests less one 200"
    );
    // 03:12:07 to 03:16:06 +01:00, as the first and last such lines say.
    assert!(scanner_4xx[0].contains("[14/Feb/2024:03:12:07 +0100]"));
    assert!(scanner_4xx[458].contains("[14/Feb/2024:03:16:06 +0100]"));
    assert_eq!(bursts[0]["start"], "2024-02-14T02:12:07Z");
    assert_eq!(bursts[0]["end"], "2024-02-14T02:16:06Z");
    let share = bursts[0]["share_4xx"].as_f64().expect("share");
    assert!(share > 0.99, "{share}");
}

#[test]
fn bad_config_sample_matches_its_ground_truth() {
    check_scenario("bad-config");
}

#[test]
fn full_outage_sample_matches_its_ground_truth() {
    check_scenario("full-outage");
}

#[test]
fn uneven_load_balancer_sample_matches_its_ground_truth_and_names_the_moved_share() {
    check_scenario("uneven-lb");
    // The upstream that took nearly all traffic is the majority during the
    // incident: the lead is the share that moved (a third before), in the
    // JSON and in the Markdown alike.
    const LEAD: &str = "upstream 10.244.1.23:8080 served 97% of the requests during the incident against 33% before, and 99% of the bad ones: look at why traffic moved to it (balancing or hashing rules, a peer out of rotation)";
    let dir = repo_root().join("sample-logs/uneven-lb");
    let dir = dir.to_str().expect("utf-8 path");
    let report = json_report(&[dir]);
    let hints: Vec<&str> = report["incidents"][0]["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| h.as_str().expect("text"))
        .collect();
    assert!(hints.contains(&LEAD), "{hints:?}");
    let markdown = run(&["report", "--quiet", dir]);
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(text.contains(&format!("- {LEAD}\n")), "{text}");
}

#[test]
fn slow_degradation_sample_matches_its_ground_truth() {
    check_scenario("slow-degradation");
}

#[test]
fn traffic_gap_sample_matches_its_ground_truth() {
    check_scenario("traffic-gap");
}

#[test]
fn haproxy_reload_sample_matches_its_ground_truth_and_names_the_cause() {
    check_scenario("haproxy-reload");
    let dir = repo_root().join("sample-logs/haproxy-reload");
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let input = &report["inputs"][0];
    // Ten HAProxy lines of its own: two reloads of four lines, the backend
    // without a server and the old backend stopping.
    assert_eq!(input["messages"], 10);
    assert_eq!(input["skipped"], 0);
    let hints: Vec<&str> = report["incidents"][0]["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| h.as_str().expect("text"))
        .collect();
    assert!(
        hints.contains(
            &"upstream shop_v2/<NOSRV>: 100% of its 549 failed requests had no server available (SC), as the proxy logged how they ended"
        ),
        "{hints:?}"
    );
    assert!(
        hints.iter().any(
            |h| h.starts_with("the last change before impact was at 08:31:12")
                && h.contains("haproxy: ")
        ),
        "a line of the reload is the last change before impact: {hints:?}"
    );
    assert!(
        hints.iter().any(|h| h.starts_with(
            "new log pattern at onset: haproxy: backend shop_v2 has no server available!: 0 in the hour before"
        )),
        "HAProxy's own complaint is the new log pattern: {hints:?}"
    );
}

#[test]
fn envoy_upstream_refused_sample_matches_its_ground_truth_and_names_the_upstream() {
    check_scenario("envoy-upstream-refused");
    let dir = repo_root().join("sample-logs/envoy-upstream-refused");
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "envoy");
    assert_eq!(input["envelope"], "container", "the CRI prefix");
    assert_eq!(input["skipped"], 0);
    let hints: Vec<&str> = report["incidents"][0]["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| h.as_str().expect("text"))
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.starts_with("upstream 10.42.1.17:8080: 100% of its")
                && h.contains("could not connect to the server")
                && h.contains("(UF)")),
        "{hints:?}"
    );
}

/// The hints of the first incident of a report.
fn first_hints(report: &Value) -> Vec<String> {
    report["incidents"][0]["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| h.as_str().expect("text").to_string())
        .collect()
}

#[test]
fn alb_slow_target_sample_matches_its_ground_truth_and_names_the_target() {
    check_scenario("alb-slow-target");
    let dir = repo_root().join("sample-logs/alb-slow-target");
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let inputs = report["inputs"].as_array().expect("inputs");
    // One gzipped file per node per 5 minutes, found in AWS's folder tree.
    assert_eq!(inputs.len(), 72, "{inputs:#?}");
    for input in inputs {
        assert_eq!(input["format"], "aws-alb", "{input}");
        assert_eq!(input["skipped"], 0, "{input}");
    }
    let hints = first_hints(&report);
    assert!(
        hints
            .iter()
            .any(|h| h.starts_with("upstream 10.0.2.41:8080: 100% of its")
                && h.contains("timed out waiting for the server's answer (504)")),
        "{hints:?}"
    );
}

#[test]
fn iis_app_pool_sample_reads_both_logs_as_one_stream_and_names_the_pool() {
    check_scenario("iis-app-pool");
    let dir = repo_root().join("sample-logs/iis-app-pool");
    let httperr = std::fs::read_to_string(dir.join("HTTPERR/httperr1.log")).expect("httperr1.log");
    // HTTP.sys's lines without a request: its directives, the connection
    // timers and the requests a crashing worker orphaned (no status).
    let no_request = httperr
        .lines()
        .filter(|line| line.starts_with('#') || line.split(' ').nth(10) == Some("-"))
        .count();
    let app_offline = httperr
        .lines()
        .filter(|line| line.ends_with(" 503 1 AppOffline ShopPool"))
        .count();
    assert!(app_offline > 500, "{app_offline}");
    let report = json_report(&[dir.to_str().expect("utf-8 path")]);
    let inputs = report["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2, "{inputs:#?}");
    for input in inputs {
        assert_eq!(input["format"], "iis-w3c", "{input}");
    }
    let by_name = |suffix: &str| {
        inputs
            .iter()
            .find(|input| input["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .unwrap_or_else(|| panic!("{suffix} in {inputs:#?}"))
    };
    assert_eq!(by_name("httperr1.log")["skipped"], no_request as u64);
    assert_eq!(
        by_name("u_ex240312.log")["skipped"],
        4,
        "its four directives"
    );
    assert_eq!(
        report["incidents"][0]["impact"]["requests_failed"], app_offline as u64,
        "every failed request is an AppOffline 503 of the error log"
    );
    let hints = first_hints(&report);
    let wanted = format!(
        "upstream ShopPool: 100% of its {app_offline} failed requests had no server available (AppOffline), as the proxy logged how they ended"
    );
    assert!(hints.contains(&wanted), "{hints:?}");
    // The error log is another view of the site's traffic, not a host that
    // traffic moved to.
    assert!(
        !hints.iter().any(|hint| hint.contains("httperr1.log")),
        "no host lead for HTTP.sys's error log: {hints:?}"
    );
}
