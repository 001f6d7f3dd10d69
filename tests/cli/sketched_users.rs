//! Users past the memory budget of exact sets (`--exact-users-mb`, issue
//! 17 item 6): every bucket keeps HyperLogLog sketches instead, the second
//! read counts each incident's users one by one, so a report from files is
//! the report with exact sets; from standard input it says "about". The
//! same from partials (`partial --exact-users-mb`): estimates from the
//! reduce step alone, the exact report with the impact pass.

use serde_json::Value;

use super::partials::{
    Placing, Split, comparable, config, sample_dir, samples, span, whole, window,
};
use super::support::{json_report, postmortem, repo_root, run_with_stdin, scratch};

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
    let args: Vec<&str> = args.iter().copied().chain(["-"]).collect();
    let output = run_with_stdin(&args, &bytes);
    assert!(output.status.success(), "postmortem {args:?}");
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

/// Incidents' `(start, end)` of a JSON report.
fn ranges(report: &Value) -> Vec<(String, String)> {
    report["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .map(|incident| {
            (
                incident["start"].as_str().expect("start").to_string(),
                incident["end"].as_str().expect("end").to_string(),
            )
        })
        .collect()
}

/// Checks the first report from sketched partials (no impact pass)
/// against the exact one: the same incidents' start and end, every
/// incident's users said to be estimates with the stated bound, the users
/// with a bad request within it, and the active users at least the exact
/// count less it (the sketches hold the edge buckets whole, so users of
/// the edge buckets outside the incident are in: the estimate may exceed
/// the exact count by more than the bound).
fn check_estimates(name: &str, estimated: &Value, exact: &Value) {
    assert_eq!(
        ranges(estimated),
        ranges(exact),
        "{name}: incidents' start and end"
    );
    let pairs = estimated["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .zip(exact["incidents"].as_array().expect("incidents"));
    for (about, exactly) in pairs {
        let (about, exactly) = (&about["impact"], &exactly["impact"]);
        assert_eq!(about["users_exact"], false, "{name}");
        assert_eq!(
            about["users_error_pct"].as_f64(),
            Some(STATED_ERROR_PCT),
            "{name}"
        );
        let figure = |impact: &Value, field: &str| impact[field].as_f64().expect("a number");
        let bound = STATED_ERROR_PCT / 100.0;
        let (affected, exact_affected) = (
            figure(about, "users_affected"),
            figure(exactly, "users_affected"),
        );
        assert!(
            (affected - exact_affected).abs() <= exact_affected * bound,
            "{name}: about {affected} users affected against {exact_affected} exactly"
        );
        let (active, exact_active) = (
            figure(about, "users_active"),
            figure(exactly, "users_active"),
        );
        assert!(
            active >= exact_active * (1.0 - bound),
            "{name}: about {active} users active against {exact_active} exactly"
        );
    }
}

#[test]
fn every_sample_from_sketched_partials_gives_estimates_then_the_exact_report_with_the_impact_pass()
{
    for name in samples() {
        let out = scratch();
        let mut split = Split::new(out.path());
        let mut producer = config(&[&sample_dir(&name)], Placing::Found, (None, None));
        producer.exact_users_bytes = 0;
        split.map(producer, "all", None);
        let whole = whole(&name, Placing::Found);
        check_estimates(&name, &split.first_report(Placing::Found), &whole);
        assert_eq!(
            split.reduce(Placing::Found),
            whole,
            "{name}: with the impact pass"
        );
    }
}

#[test]
fn a_sketched_producer_and_an_exact_one_merge() {
    // Two time halves: the first producer past its budget (sketched), the
    // second within it (exact rows), so their shared bucket folds exact
    // rows into sketches.
    for name in ["full-outage", "traffic-gap", "memory-leak"] {
        let whole = whole(name, Placing::Found);
        let (first, last) = span(&whole);
        let cuts = [first + (last - first) / 2];
        let out = scratch();
        let mut split = Split::new(out.path());
        let dir = sample_dir(name);
        for k in 0..2 {
            let mut producer = config(&[&dir], Placing::Found, window(&cuts, k));
            producer.exact_users_bytes = if k == 0 { 0 } else { u64::MAX };
            split.map(producer, &format!("t{k}"), None);
        }
        check_estimates(name, &split.first_report(Placing::Found), &whole);
        assert_eq!(
            comparable(split.reduce(Placing::Found), true),
            comparable(whole, true),
            "{name}: with the impact pass"
        );
    }
}

/// `postmortem ARGS`, which must succeed; its stdout.
fn stdout_of(args: &[&str]) -> Vec<u8> {
    let output = postmortem().args(args).output().expect("the binary runs");
    assert!(
        output.status.success(),
        "postmortem {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The columns a bucket row of sketched partials adds.
const SKETCH_COLUMNS: [&str; 4] = [
    "bad_users_hll",
    "users_sketched",
    "users_first_ms",
    "users_last_ms",
];

#[test]
fn json_lines_carry_sketched_buckets_and_lines_without_the_columns_read_as_exact() {
    let log = sample("full-outage/access.log.gz");
    let out = scratch();
    // (budget, what the bucket rows say)
    let cases = [(NO_EXACT_USERS, true), ("100", false)];
    for (budget, sketched) in cases {
        let jsonl = stdout_of(&[
            "partial",
            "--quiet",
            "--format",
            "jsonl",
            "--exact-users-mb",
            budget,
            "--producer",
            "web01",
            &log,
        ]);
        let rows: Vec<Value> = jsonl
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).expect("JSON"))
            .collect();
        let buckets: Vec<&Value> = rows
            .iter()
            .filter(|row| row["table"] == "buckets")
            .collect();
        assert!(!buckets.is_empty());
        for bucket in &buckets {
            assert_eq!(bucket["users_sketched"], sketched, "{budget} MB");
            assert_eq!(
                bucket["bad_users_hll"].is_string(),
                sketched,
                "{budget} MB: hex"
            );
            assert_eq!(bucket["users_first_ms"].is_i64(), sketched, "{budget} MB");
        }
        let user_rows = rows.iter().filter(|row| row["table"] == "users").count();
        assert_eq!(user_rows == 0, sketched, "{budget} MB: users rows");
        let parquet = out.path().join(format!("parquet-{budget}"));
        stdout_of(&[
            "partial",
            "--quiet",
            "--exact-users-mb",
            budget,
            "--producer",
            "web01",
            "-o",
            &parquet.display().to_string(),
            &log,
        ]);
        let lines = out.path().join(format!("web01-{budget}.jsonl"));
        std::fs::write(&lines, &jsonl).expect("written");
        let report = |partials: &std::path::Path| {
            stdout_of(&[
                "report",
                "--quiet",
                "--format",
                "json",
                "--from-partials",
                &partials.display().to_string(),
            ])
        };
        let from_parquet = report(&parquet);
        assert_eq!(
            report(&lines),
            from_parquet,
            "{budget} MB: JSON lines read as Parquet"
        );
        let users_exact =
            !String::from_utf8_lossy(&from_parquet).contains("\"users_exact\": false");
        assert_eq!(users_exact, !sketched, "{budget} MB");
        if !sketched {
            // Lines of an older version: no sketch columns at all.
            let old: String = rows
                .iter()
                .map(|row| {
                    let mut row = row.clone();
                    for column in SKETCH_COLUMNS {
                        row.as_object_mut().expect("an object").remove(column);
                    }
                    format!("{row}\n")
                })
                .collect();
            assert!(!old.contains("users_sketched"));
            let old_lines = out.path().join("old.jsonl");
            std::fs::write(&old_lines, old).expect("written");
            assert_eq!(
                report(&old_lines),
                from_parquet,
                "lines without the sketch columns"
            );
        }
    }
}

#[test]
fn the_binary_from_sketched_partials_and_the_impact_pass_writes_the_report_to_the_byte() {
    let log = sample("uneven-lb/ingress-nginx.log.gz");
    let out = scratch();
    let partials = out.path().join("partials").display().to_string();
    stdout_of(&[
        "partial",
        "--quiet",
        "--exact-users-mb",
        NO_EXACT_USERS,
        "--producer",
        "web01",
        "-o",
        &partials,
        &log,
    ]);
    let first: Value = serde_json::from_slice(&stdout_of(&[
        "report",
        "--quiet",
        "--format",
        "json",
        "--from-partials",
        &partials,
    ]))
    .expect("JSON");
    let (start, end) = ranges(&first).into_iter().next().expect("an incident");
    let impact = out.path().join("impact").display().to_string();
    stdout_of(&[
        "impact",
        "--quiet",
        "--window",
        &format!("{start}..{end}"),
        "--producer",
        "web01",
        "-o",
        &impact,
        &log,
    ]);
    let from_partials = stdout_of(&[
        "report",
        "--quiet",
        "--format",
        "json",
        "--from-partials",
        &partials,
        "--impact",
        &impact,
    ]);
    let from_logs = stdout_of(&["report", "--quiet", "--format", "json", &log]);
    assert_eq!(
        String::from_utf8_lossy(&from_partials),
        String::from_utf8_lossy(&from_logs)
    );
}
