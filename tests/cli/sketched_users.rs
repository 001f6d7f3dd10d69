//! Users past the memory budget of exact sets (`--exact-users-mb`, issue
//! 17 item 6): every bucket keeps HyperLogLog sketches instead, the second
//! read counts each incident's users one by one, so a report from files is
//! the report with exact sets; from standard input it says "about".

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use super::support::{json_report, postmortem, repo_root};

/// A budget no user fits in: every bucket is sketched from the start.
const NO_EXACT_USERS: &str = "0";

/// The stated bound of the estimates, in percent: two relative standard
/// errors of HLL with 4,096 registers (1.04 / 64), rounded to 0.1.
const STATED_ERROR_PCT: f64 = 3.3;

fn sample(path: &str) -> String {
    repo_root()
        .join("sample-logs")
        .join(path)
        .display()
        .to_string()
}

/// `postmortem ARGS -` with the bytes of `log` on standard input, which
/// cannot be read twice; its stdout.
fn from_stdin(args: &[&str], log: &str) -> Vec<u8> {
    let bytes = std::fs::read(log).expect("the sample");
    let mut child = postmortem()
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("written");
    let output = child.wait_with_output().expect("it ends");
    assert!(output.status.success(), "postmortem {args:?} -");
    output.stdout
}

#[test]
fn sketched_buckets_give_the_exact_report_when_the_lines_can_be_read_again() {
    let cases = [
        ("full outage", "full-outage/access.log.gz"),
        ("traffic drop", "traffic-gap/access.log.gz"),
        ("one upstream", "uneven-lb/ingress-nginx.log.gz"),
        ("memory leak", "memory-leak/access.log.gz"),
    ];
    for (name, log) in cases {
        let log = sample(log);
        let exact = json_report(&[&log]);
        let sketched = json_report(&["--exact-users-mb", NO_EXACT_USERS, &log]);
        let incidents = exact["incidents"].as_array().expect("incidents");
        assert!(!incidents.is_empty(), "{name}: the sample has an incident");
        assert_eq!(
            sketched["incidents"], exact["incidents"],
            "{name}: every figure of every incident"
        );
        for incident in incidents {
            assert!(
                incident["impact"].get("users_exact").is_none(),
                "{name}: exact users say nothing"
            );
        }
    }
}

#[test]
fn sketched_users_from_standard_input_are_estimates_within_the_stated_bound() {
    let log = sample("uneven-lb/ingress-nginx.log.gz");
    let exact = json_report(&[&log]);
    let output = from_stdin(
        &[
            "report",
            "--format",
            "json",
            "--quiet",
            "--exact-users-mb",
            NO_EXACT_USERS,
        ],
        &log,
    );
    let estimated: Value = serde_json::from_slice(&output).expect("JSON");
    let (exact, estimated) = (
        &exact["incidents"][0]["impact"],
        &estimated["incidents"][0]["impact"],
    );
    assert_eq!(estimated["users_exact"], false);
    assert_eq!(
        estimated["users_error_pct"].as_f64(),
        Some(STATED_ERROR_PCT)
    );
    // The sketches hold whole buckets: the users of the edge buckets before
    // the start and after the end are in, so the estimate is at least the
    // exact count less the bound, and at most every user of those buckets.
    for field in ["users_active", "users_affected"] {
        let exact = exact[field].as_f64().expect("exact");
        let about = estimated[field].as_f64().expect("estimate");
        assert!(
            about >= exact * (1.0 - STATED_ERROR_PCT / 100.0),
            "{field}: about {about} against {exact} exactly"
        );
        assert!(
            about <= estimated["requests_total"].as_f64().expect("requests"),
            "{field}: {about}"
        );
    }
}

#[test]
fn the_markdown_says_about_for_estimated_users() {
    let log = sample("full-outage/access.log.gz");
    let output = from_stdin(
        &["report", "--quiet", "--exact-users-mb", NO_EXACT_USERS],
        &log,
    );
    let markdown = String::from_utf8(output).expect("UTF-8");
    assert!(markdown.contains("**Impact:** about "), "{markdown}");
    assert!(
        markdown.contains("estimates (±3.3% at 95% confidence)"),
        "{markdown}"
    );
    assert!(markdown.contains("last bad request; about "), "{markdown}");
}
