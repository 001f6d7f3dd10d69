//! The JSON report's schema, pinned: the binary's output deserialises into
//! the strict `postmortem::report::Report` types (unknown fields refused),
//! every object has exactly the contract's fields (plus the documented
//! additions), each with its type, and each field keeps its meaning: times
//! are RFC 3339 UTC with `Z`, durations are seconds and equal the
//! differences of the times, incidents are sorted by start, kinds come from
//! the contract's sets. A field that changes name, type or meaning fails here.

use std::collections::BTreeSet;

use postmortem::report::Report;
use serde_json::Value;

use super::handmade::{LOG_START_MS, REQUESTS_PER_MINUTE, two_incidents, write_log};
use super::support::{millis, postmortem, scratch};

/// Runs `report --format json` on the two-incident log and returns the raw
/// output.
fn two_incident_json() -> Vec<u8> {
    let dir = scratch();
    write_log(dir.path(), &two_incidents());
    let output = postmortem()
        .current_dir(dir.path())
        .args(["report", "--format", "json", "--quiet", "access.log"])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// An RFC 3339 UTC time with a `Z`, as milliseconds.
fn utc_time(value: &Value, what: &str) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: a string, got {value}"));
    assert!(text.ends_with('Z'), "{what}: UTC with Z, got {text}");
    assert_eq!(
        text.as_bytes().get(10),
        Some(&b'T'),
        "{what}: RFC 3339, got {text}"
    );
    millis(text)
}

fn number(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: a number, got {value}"))
}

fn count(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: a whole number, got {value}"))
}

#[test]
fn the_json_report_deserialises_into_the_strict_types_and_back() {
    let bytes = two_incident_json();
    let report: Report = serde_json::from_slice(&bytes).expect("strict deserialisation");
    let raw: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(
        serde_json::to_value(&report).expect("serialises"),
        raw,
        "nothing is lost or renamed on the way through the types"
    );
    assert_eq!(report.schema, "postmortem.report/v1");
    assert_eq!(
        report.generator,
        format!("postmortem {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(report.incidents.len(), 2);
}

#[test]
fn every_contract_field_has_its_name_type_and_meaning() {
    let report: Value = serde_json::from_slice(&two_incident_json()).expect("JSON");
    assert_eq!(
        keys(&report),
        set(&[
            "schema",
            "generator",
            "inputs",
            "bucket_s",
            "slow_threshold_s",
            "request_times",
            "incidents",
            "client_bursts",
            "baseline"
        ])
    );
    assert_eq!(
        report["client_bursts"],
        Value::Array(Vec::new()),
        "an addition: an array, empty when no client sent a burst of 4xx"
    );
    assert_eq!(
        report["request_times"], "all",
        "an addition: the test log carries $request_time on every line"
    );
    let baseline = &report["baseline"];
    assert_eq!(
        keys(baseline),
        set(&["source", "bad_rate", "failed_rate"]),
        "an addition: what normal was taken to be"
    );
    assert_eq!(
        baseline["source"], "data",
        "the incidents leave healthy hours to learn normal from"
    );
    let bad_rate = number(&baseline["bad_rate"], "baseline.bad_rate");
    assert!(
        (0.0..=0.05).contains(&bad_rate),
        "a healthy rate: {bad_rate}"
    );
    assert_eq!(report["schema"], "postmortem.report/v1");
    assert_eq!(
        report["bucket_s"], 60,
        "the default bucket, in whole seconds"
    );
    assert_eq!(
        report["slow_threshold_s"], 1.0,
        "the default threshold, in seconds"
    );

    // inputs
    let inputs = report["inputs"].as_array().expect("inputs is an array");
    assert_eq!(inputs.len(), 1);
    let input = &inputs[0];
    assert_eq!(
        keys(input),
        set(&[
            "path",
            "kind",
            "format",
            "lines",
            "parsed",
            "skipped",
            "skipped_examples",
            "fields",
            "other_formats",
            "first",
            "last",
            "out_of_range",
            "compressed",
            "error",
            "note",
        ])
    );
    assert_eq!(input["path"], "access.log");
    assert_eq!(input["kind"], "access");
    assert_eq!(input["format"], "combined+request_time");
    let lines = count(&input["lines"], "lines");
    assert_eq!(lines, 240 * REQUESTS_PER_MINUTE as u64);
    assert_eq!(
        count(&input["parsed"], "parsed") + count(&input["skipped"], "skipped"),
        lines
    );
    assert_eq!(input["skipped_examples"], serde_json::json!([]));
    assert_eq!(input["compressed"], false);
    // The first request arrives at 10:00:00.000 local and takes 30 ms; nginx
    // logs its completion second, so its reconstructed arrival is 30 ms early.
    assert_eq!(utc_time(&input["first"], "first"), LOG_START_MS - 30);
    assert!(utc_time(&input["last"], "last") > utc_time(&input["first"], "first"));

    // incidents
    let incidents = report["incidents"]
        .as_array()
        .expect("incidents is an array");
    assert_eq!(incidents.len(), 2);
    let starts: Vec<i64> = incidents
        .iter()
        .map(|i| utc_time(&i["start"], "start"))
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "sorted by start: {starts:?}"
    );
    let severities = set(&["outage", "partial-outage", "degradation"]);
    let sources = set(&["log", "rule", "user"]);
    let signal_kinds = set(&["error_rate", "latency", "traffic", "metric", "events"]);
    let timeline_kinds = set(&[
        "impact_start",
        "detected",
        "alert",
        "change",
        "event",
        "action",
        "peak",
        "impact_end",
    ]);
    let expected_severity = ["outage", "degradation"];
    for (index, incident) in incidents.iter().enumerate() {
        let what = |field: &str| format!("incident {index}: {field}");
        assert_eq!(
            keys(incident),
            set(&[
                "start",
                "end",
                "duration_s",
                "severity",
                "detected",
                "time_to_detect_s",
                "impact",
                "signals",
                "timeline",
                "hints",
                "leads",
                "resolution",
            ])
        );
        assert_eq!(
            incident["resolution"],
            Value::Null,
            "{}",
            what("resolution: null without a logged change")
        );
        let leads = &incident["leads"];
        assert_eq!(
            keys(leads),
            set(&[
                "last_change_before",
                "recovery_change",
                "moved_first",
                "slow_detection",
                "out_of_memory_events",
            ]),
            "{}",
            what("leads: an addition")
        );
        assert_eq!(leads["last_change_before"], Value::Null, "no change lines");
        assert_eq!(leads["recovery_change"], Value::Null, "no change lines");
        assert_eq!(leads["out_of_memory_events"], 0, "no event lines");
        assert!(leads["slow_detection"].is_boolean());
        let start = utc_time(&incident["start"], &what("start"));
        let end = utc_time(&incident["end"], &what("end"));
        assert!(start < end, "{}", what("start before end"));
        let duration = number(&incident["duration_s"], &what("duration_s"));
        assert!(
            (duration * 1000.0 - (end - start) as f64).abs() < 1.0,
            "{}: duration_s is end - start in seconds",
            what("duration_s")
        );
        let severity = incident["severity"].as_str().expect("severity is a string");
        assert!(severities.contains(severity), "{}", what("severity"));
        assert_eq!(severity, expected_severity[index], "{}", what("severity"));

        let detected = &incident["detected"];
        assert_eq!(
            keys(detected),
            set(&["at", "source", "evidence", "observed", "before_start"])
        );
        assert_eq!(
            detected["observed"],
            detected["source"] != "rule",
            "an addition: false only for a replayed rule"
        );
        let detected_at = utc_time(&detected["at"], &what("detected.at"));
        assert!(sources.contains(detected["source"].as_str().expect("source")));
        assert_eq!(
            detected["source"], "rule",
            "no alert lines and no --detected-at"
        );
        assert!(
            detected["evidence"]
                .as_str()
                .expect("evidence")
                .contains("burn rate")
        );
        let ttd = number(&incident["time_to_detect_s"], &what("time_to_detect_s"));
        assert!(
            (ttd * 1000.0 - (detected_at - start) as f64).abs() < 1.0,
            "{}: time_to_detect_s is detected - start in seconds",
            what("time_to_detect_s")
        );

        let impact = &incident["impact"];
        assert_eq!(
            keys(impact),
            set(&[
                "users_active",
                "users_affected",
                "affected_pct",
                "requests_total",
                "requests_failed",
                "requests_slow",
                "users_missing",
                "requests_exact",
            ])
        );
        assert_eq!(
            impact["requests_exact"],
            true,
            "{}: an addition; read from a file, the edge seconds are read again",
            what("requests_exact")
        );
        let active = count(&impact["users_active"], &what("users_active"));
        let affected = count(&impact["users_affected"], &what("users_affected"));
        let total = count(&impact["requests_total"], &what("requests_total"));
        let failed = count(&impact["requests_failed"], &what("requests_failed"));
        let slow = count(&impact["requests_slow"], &what("requests_slow"));
        count(&impact["users_missing"], &what("users_missing"));
        assert!(
            affected <= active && failed + slow <= total,
            "{}",
            what("impact")
        );
        let pct = number(&impact["affected_pct"], &what("affected_pct"));
        assert!(
            (pct - 100.0 * affected as f64 / active as f64).abs() < 0.01,
            "{}: affected_pct = 100 × affected / active",
            what("affected_pct")
        );

        for signal in incident["signals"].as_array().expect("signals is an array") {
            assert_eq!(
                keys(signal),
                set(&[
                    "kind", "name", "source", "onset", "peak_at", "peak", "baseline", "unit"
                ])
            );
            assert!(signal_kinds.contains(signal["kind"].as_str().expect("kind")));
            assert_eq!(signal["source"], "access.log");
            let onset = utc_time(&signal["onset"], &what("signal onset"));
            let peak_at = utc_time(&signal["peak_at"], &what("signal peak_at"));
            assert!(
                onset >= start && peak_at <= end,
                "{}",
                what("signal inside the incident")
            );
            let (peak, baseline) = (
                number(&signal["peak"], &what("peak")),
                number(&signal["baseline"], &what("baseline")),
            );
            assert!(
                peak > baseline,
                "{}: a signal departs upwards here",
                what("signal")
            );
            let unit = signal["unit"].as_str().expect("unit");
            match signal["kind"].as_str() {
                Some("error_rate") => assert_eq!(unit, "ratio"),
                Some("latency") => assert_eq!(unit, "s"),
                _ => {}
            }
            if unit == "ratio" {
                assert!(
                    (0.0..=1.0).contains(&peak),
                    "ratios are fractions, not percent"
                );
            }
        }

        let timeline = incident["timeline"]
            .as_array()
            .expect("timeline is an array");
        let mut previous = i64::MIN;
        for entry in timeline {
            assert_eq!(
                keys(entry),
                set(&[
                    "at", "kind", "text", "source", "count", "last_at", "example"
                ])
            );
            let at = utc_time(&entry["at"], &what("timeline at"));
            assert!(
                at >= previous,
                "{}: timeline in time order",
                what("timeline")
            );
            previous = at;
            assert!(timeline_kinds.contains(entry["kind"].as_str().expect("kind")));
            assert!(!entry["text"].as_str().expect("text").is_empty());
            assert!(count(&entry["count"], "count") >= 1);
            assert!(entry["source"].is_null() || entry["source"].is_string());
        }
        let kinds: Vec<&str> = timeline.iter().filter_map(|e| e["kind"].as_str()).collect();
        let at_of = |kind: &str| {
            timeline
                .iter()
                .find(|e| e["kind"] == kind)
                .map(|e| utc_time(&e["at"], kind))
        };
        assert_eq!(
            at_of("impact_start"),
            Some(start),
            "{}",
            what("impact_start = start")
        );
        assert_eq!(
            at_of("impact_end"),
            Some(end),
            "{}",
            what("impact_end = end")
        );
        assert_eq!(
            at_of("detected"),
            Some(detected_at),
            "{}",
            what("detected entry")
        );
        assert!(kinds.contains(&"peak"), "{}", what("peak entry"));
        assert!(
            incident["hints"]
                .as_array()
                .expect("hints")
                .iter()
                .all(Value::is_string),
            "{}",
            what("hints are strings")
        );
    }
}

#[test]
fn an_empty_incident_list_is_still_the_full_document() {
    let dir = scratch();
    write_log(dir.path(), &[]);
    let output = postmortem()
        .current_dir(dir.path())
        .args(["report", "--format", "json", "--quiet", "access.log"])
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let report: Report = serde_json::from_slice(&output.stdout).expect("strict deserialisation");
    assert!(report.incidents.is_empty());
    assert_eq!(report.inputs.len(), 1);
    assert_eq!(report.bucket_s, 60.0);
}

#[test]
fn a_resolution_has_the_contract_fields_and_its_additions() {
    let dir = super::support::repo_root()
        .join("sample-logs")
        .join("bad-config");
    let report = super::support::json_report(&[dir.to_str().expect("utf-8 path")]);
    let resolution = &report["incidents"][0]["resolution"];
    assert_eq!(
        keys(resolution),
        set(&["at", "text", "source", "host", "reason", "run"]),
        "at, text, source from the contract; host, reason, run added"
    );
    assert_eq!(
        utc_time(&resolution["at"], "resolution.at"),
        millis("2022-03-27T15:45:09Z"),
        "the revert reload"
    );
    assert_eq!(
        resolution["text"], "systemd: Reloading The Apache HTTP Server...",
        "the line as it names itself"
    );
    assert!(
        resolution["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("bad-config/syslog:155")),
        "path:line: {resolution}"
    );
    assert_eq!(resolution["host"], "web1");
    assert_eq!(resolution["run"], Value::Null, "no playbook ran it");
    let strict: Report = serde_json::from_value(report.clone()).expect("strict deserialisation");
    assert_eq!(
        strict.incidents[0]
            .resolution
            .as_ref()
            .map(|r| r.at.as_str()),
        Some("2022-03-27T15:45:09Z")
    );
}
