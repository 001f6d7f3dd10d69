//! The bundled sample incidents: the report must find each generator's
//! ground truth (`expected.json`) within the tolerances the project
//! promises: start within 60 s, end within 120 s, affected share within 3
//! points, and no incident on the quiet log.

use serde_json::Value;

use super::support::{json_report, millis, repo_root};

/// Tolerances of the end-to-end checks.
const START_TOLERANCE_MS: i64 = 60_000;
const END_TOLERANCE_MS: i64 = 120_000;
const AFFECTED_PCT_TOLERANCE: f64 = 3.0;

fn check_scenario(name: &str) {
    let dir = repo_root().join("sample-logs").join(name);
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected.json"))
            .expect("expected.json is JSON");
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
    }
}

#[test]
fn memory_leak_sample_matches_its_ground_truth() {
    check_scenario("memory-leak");
}

#[test]
fn quiet_sample_has_no_incident() {
    check_scenario("quiet");
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
fn uneven_load_balancer_sample_matches_its_ground_truth() {
    check_scenario("uneven-lb");
}

#[test]
fn slow_degradation_sample_matches_its_ground_truth() {
    check_scenario("slow-degradation");
}

#[test]
fn traffic_gap_sample_matches_its_ground_truth() {
    check_scenario("traffic-gap");
}
