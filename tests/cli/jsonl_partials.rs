//! `report --from-partials` reading JSON lines, the form an engine writes
//! back (the Spark job, a warehouse query): the JSON lines of samples that
//! fill every table give the report their Parquet partials give, to the
//! byte; several producers in
//! one file, gzipped, merge as separate files do; a table without rows may
//! be absent; a line that is not a partial's is refused with the file, the
//! line and what was expected.

use std::io::Write;
use std::path::{Path, PathBuf};

use postmortem::{Config, NoProgress, analyze_partials, partials_jsonl, write_partials};
use serde_json::Value;

use super::partials::{Placing, config, generated_log, report_json, sample_dir, samples};
use super::support::{millis, run, scratch, write};

/// The requests a report counted: its inputs' parsed lines in range.
fn parsed(report: &Value) -> i64 {
    report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|input| Some(input["parsed"].as_i64()? - input["out_of_range"].as_i64()?))
        .sum()
}

/// The JSON report of the partials at `paths`, without the impact pass.
fn merged(paths: &[PathBuf]) -> Value {
    let findings = analyze_partials(&Config::default(), paths, &[], &NoProgress)
        .unwrap_or_else(|error| panic!("merged {paths:?}: {error}"));
    report_json(&findings)
}

/// Samples that between them fill every table: metric series, events of
/// syslog and an error log (`full-outage`); upstreams, their latency and
/// termination causes (`envoy-upstream-refused`); the heavy hitters, hosts
/// and a gzipped ingress log (`uneven-lb`). Every sample's Parquet
/// partials are checked in `partials.rs`; reading each sample twice more
/// here would add minutes to a debug test run for no table not seen.
const SAMPLES_FILLING_EVERY_TABLE: [&str; 3] =
    ["full-outage", "envoy-upstream-refused", "uneven-lb"];

#[test]
fn samples_as_json_lines_give_the_report_of_their_parquet_partials() {
    let known = samples();
    for name in SAMPLES_FILLING_EVERY_TABLE {
        assert!(
            known.iter().any(|sample| sample == name),
            "{name} is a sample"
        );
        let out = scratch();
        let run_config = config(&[&sample_dir(name)], Placing::Found, (None, None));
        let parquet = out.path().join("parquet");
        write_partials(&run_config, &parquet, "all", None, &NoProgress).expect("partial");
        let text = partials_jsonl(&run_config, "all", None, &NoProgress).expect("jsonl");
        let jsonl = write(out.path(), "all.jsonl", &text);
        assert_eq!(merged(&[jsonl]), merged(&[parquet]), "{name}");
    }
}

/// `text` gzipped into `dir/name`.
fn gzip(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::fast(),
    );
    encoder.write_all(text.as_bytes()).expect("gzip");
    encoder.finish().expect("gzip end");
    path
}

#[test]
fn producers_in_one_file_plain_or_gzipped_merge_as_separate_files_do() {
    let out = scratch();
    let log = write(
        out.path(),
        "access.log",
        &generated_log(600, |i| (200..260).contains(&i)),
    );
    // Two producers, each with half of the time (the generator logs
    // request i at 10:00 + 2i s on 2024-03-01).
    let half = |window| config(&[&log], Placing::Found, window);
    let cut = millis("2024-03-01T10:10:00Z");
    let early =
        partials_jsonl(&half((None, Some(cut - 1))), "early", None, &NoProgress).expect("jsonl");
    let late = partials_jsonl(&half((Some(cut), None)), "late", None, &NoProgress).expect("jsonl");
    let apart = [
        write(out.path(), "early.jsonl", &early),
        write(out.path(), "late.jsonl", &late),
    ];
    let expected = merged(&apart);
    assert_eq!(parsed(&expected), 600, "{expected}");
    assert_eq!(
        expected["incidents"].as_array().map(Vec::len),
        Some(1),
        "{expected}"
    );
    let together = format!("{late}{early}");
    let one_file = write(out.path(), "both.jsonl", &together);
    assert_eq!(merged(std::slice::from_ref(&one_file)), expected);
    let gzipped = gzip(out.path(), "both.jsonl.gz", &together);
    assert_eq!(merged(&[gzipped]), expected);
    // A folder holding the files is read as they are.
    let folder = out.path().join("folder");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::rename(&one_file, folder.join("both.jsonl")).expect("move");
    assert_eq!(merged(&[folder]), expected);
}

#[test]
fn tables_without_rows_may_be_absent_and_the_report_needs_only_the_rest() {
    let out = scratch();
    // A sample with events and metric points, whose lines are then left
    // out as a warehouse query leaves them out (it computes neither).
    let run_config = config(&[&sample_dir("full-outage")], Placing::Found, (None, None));
    let text = partials_jsonl(&run_config, "web01", None, &NoProgress).expect("jsonl");
    let full = merged(&[write(out.path(), "full.jsonl", &text)]);
    let access_only: Vec<&str> = text
        .lines()
        .filter(|line| {
            let row: Value = serde_json::from_str(line).expect("JSON");
            !matches!(row["table"].as_str(), Some("events" | "metrics"))
        })
        .collect();
    let left_out = text.lines().count() - access_only.len();
    assert!(
        left_out >= 1_000,
        "events and metric points were left out: {left_out}"
    );
    let report = merged(&[write(
        out.path(),
        "fewer.jsonl",
        &(access_only.join("\n") + "\n"),
    )]);
    assert_eq!(parsed(&report), parsed(&full));
    let figures = |report: &Value| -> Vec<(Value, Value, Value)> {
        report["incidents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|incident| {
                (
                    incident["start"].clone(),
                    incident["end"].clone(),
                    incident["impact"].clone(),
                )
            })
            .collect()
    };
    assert!(!figures(&full).is_empty(), "the sample has an incident");
    assert_eq!(figures(&report), figures(&full));
}

#[test]
fn lines_that_are_not_a_partials_are_refused_with_the_file_and_line() {
    let out = scratch();
    let log = write(
        out.path(),
        "access.log",
        &generated_log(120, |i| i % 40 == 0),
    );
    let text = partials_jsonl(
        &config(&[&log], Placing::Found, (None, None)),
        "web01",
        None,
        &NoProgress,
    )
    .expect("jsonl");
    let settings = text.lines().next().expect("the settings line").to_string();
    let bucket_row = text
        .lines()
        .find(|line| {
            line.contains(r#""table":"buckets""#) || line.contains(r#""table": "buckets""#)
        })
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .expect("a buckets row");
    let with = |key: &str, value: Value| {
        let mut row = bucket_row.clone();
        row[key] = value;
        row.to_string()
    };
    let cases: [(&str, String, &str); 7] = [
        (
            "a row before the settings line",
            format!("{}\n{settings}\n", bucket_row),
            "line 1: a row of table 'buckets' before any settings line",
        ),
        (
            "not JSON",
            format!("{settings}\nrequests,failed\n"),
            "line 2: not a JSON object",
        ),
        (
            "a table that is not one of ours",
            format!("{settings}\n{}\n", with("table", "requests".into())),
            "line 2: table 'requests' is not one of postmortem's",
        ),
        (
            "a column that is not the table's",
            format!("{settings}\n{}\n", with("latency_p95", 3.into())),
            "line 2: column 'latency_p95' is not one of table buckets's",
        ),
        (
            "a sketch that is not hex",
            format!("{settings}\n{}\n", with("users_hll", "not-hex".into())),
            "line 2: column 'users_hll' of table buckets is not lowercase hex of the bytes",
        ),
        (
            "a count that is not a whole number",
            format!("{settings}\n\n{}\n", with("requests", 2.5.into())),
            "line 3: column 'requests' of table buckets is not a whole number",
        ),
        (
            "a count that is missing",
            format!("{settings}\n{}\n", with("requests", Value::Null)),
            "line 2: column 'requests' is null",
        ),
    ];
    for (name, body, expected) in cases {
        let path = write(out.path(), "broken.jsonl", &body);
        let output = run(&["report", "--from-partials", path.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("broken.jsonl"), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn a_producer_given_as_json_lines_and_as_parquet_is_refused() {
    let out = scratch();
    let log = write(
        out.path(),
        "access.log",
        &generated_log(120, |i| i % 40 == 0),
    );
    let run_config = config(&[&log], Placing::Found, (None, None));
    let parquet = out.path().join("parquet");
    write_partials(&run_config, &parquet, "web01", None, &NoProgress).expect("partial");
    let text = partials_jsonl(&run_config, "web01", None, &NoProgress).expect("jsonl");
    let jsonl = write(out.path(), "web01.jsonl", &text);
    let output = run(&[
        "report",
        "--from-partials",
        parquet.to_str().expect("utf-8"),
        jsonl.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("producer 'web01' is given twice"),
        "{stderr}"
    );
    assert!(stderr.contains("web01.jsonl"), "{stderr}");
}
