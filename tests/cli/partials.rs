//! `postmortem partial` + `report --from-partials`: every bundled sample,
//! split among producers three ways (one producer, four time windows,
//! each file its own producer; `pieces.rs` adds the split by lines),
//! merges to the JSON report one run over the whole sample writes. What a
//! split changes by construction is named and taken out before comparing,
//! nothing else: the input list (producer by producer) and, for the time
//! split, the name of the access logs a signal or row cites (four
//! producers read the same file, so "4 access logs"). Also: a property
//! test over random time cuts of a generated log, and the refusal of
//! partials made with other settings.
//!
//! The sample splits run the map and reduce steps in process through the
//! library API (`write_partials`, `analyze_partials`, the exporters the
//! binary calls) and share one whole-sample report per sample and flags
//! ([`whole`]): a debug build spends its time reading the logs, and the
//! splits read each sample's logs a few times over. `cargo test --test
//! cli partials` took 630 s spawning the debug binary per producer and
//! per whole report; docs/development.md has the figures. The binary's
//! own `partial` command line is tested below and in `pieces.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use postmortem::{
    Config, Findings, InputSpec, NoProgress, Piece, Report, TimeSpec, Zone, analyze,
    analyze_partials, json, write_impact_partials, write_partials,
};
use proptest::prelude::*;
use serde_json::Value;

use super::support::{json_report, millis, repo_root, run, scratch, write};

/// The samples with logs (every folder of `sample-logs/` but the truths).
pub fn samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("sample-logs"))
        .expect("sample-logs")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "expected")
        .collect();
    names.sort();
    assert!(names.len() >= 11, "{names:?}");
    names
}

pub fn sample_dir(name: &str) -> PathBuf {
    repo_root().join("sample-logs").join(name)
}

/// How the logs' times are placed: as the run finds them, or with `--tz
/// UTC --year YEAR` (what a syslog read without its access logs needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placing {
    Found,
    UtcYear(i32),
}

/// A run's configuration: `inputs`, placed as `placing` says, within
/// `window` (`--since`/`--until`, epoch ms, each end open when `None`).
pub fn config(inputs: &[&Path], placing: Placing, window: (Option<i64>, Option<i64>)) -> Config {
    let mut config = Config::for_inputs(
        inputs
            .iter()
            .map(|path| InputSpec::Path(path.to_path_buf()))
            .collect(),
    );
    if let Placing::UtcYear(year) = placing {
        config.tz = Zone::parse("UTC");
        config.year = Some(year);
    }
    let time = |ms: i64| TimeSpec::parse(&rfc3339(ms)).expect("an RFC 3339 time");
    config.since = window.0.map(time);
    config.until = window.1.map(time);
    config
}

/// The JSON report of `findings`, as `report --format json` writes it.
pub fn report_json(findings: &Findings) -> Value {
    serde_json::from_str(&json::render(&Report::from_findings(findings))).expect("JSON")
}

/// The report of one run over `config`'s inputs.
pub fn whole_report(config: &Config) -> Value {
    report_json(&analyze(config, &NoProgress).expect("the whole run reads its logs"))
}

/// One whole-sample report per sample and placing, computed once for all
/// the tests of the process (the tests of a split share it).
pub fn whole(name: &str, placing: Placing) -> Value {
    type Cell = Arc<OnceLock<Value>>;
    static REPORTS: LazyLock<Mutex<HashMap<(String, Placing), Cell>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let cell: Cell = REPORTS
        .lock()
        .expect("the cache")
        .entry((name.to_string(), placing))
        .or_default()
        .clone();
    cell.get_or_init(|| whole_report(&config(&[&sample_dir(name)], placing, (None, None))))
        .clone()
}

/// The placing with the year of the sample's first request.
pub fn utc_year_of(name: &str) -> Placing {
    let (first, _) = span(&whole(name, Placing::Found));
    Placing::UtcYear(
        DateTime::<Utc>::from_timestamp_millis(first)
            .expect("a time")
            .year(),
    )
}

/// The producers of one split, run in process through the library API:
/// the map step as each is added, and the reduce step with the exact
/// impact pass (`postmortem impact --window` per incident, `report
/// --from-partials --impact`), which the contract's exact figures need.
pub struct Split {
    dir: PathBuf,
    producers: Vec<(Config, String, Option<Piece>)>,
}

impl Split {
    pub fn new(dir: &Path) -> Split {
        Split {
            dir: dir.to_path_buf(),
            producers: Vec::new(),
        }
    }

    /// The map step: `config`'s inputs (a `piece` of a file when given)
    /// written as producer `name`.
    pub fn map(&mut self, config: Config, name: &str, piece: Option<Piece>) {
        let partials = self.dir.join("partials");
        if let Err(error) = write_partials(&config, &partials, name, piece.as_ref(), &NoProgress) {
            panic!("partial {name} ({:?}): {error}", config.inputs);
        }
        self.producers.push((config, name.to_string(), piece));
    }

    /// The reduce step without the impact pass: what `report
    /// --from-partials` says before `postmortem impact` runs.
    pub fn first_report(&self, placing: Placing) -> Value {
        let mut config = Config::default();
        if let Placing::UtcYear(_) = placing {
            config.tz = Zone::parse("UTC");
        }
        let partials = [self.dir.join("partials")];
        report_json(&analyze_partials(&config, &partials, &[], &NoProgress).expect("merged"))
    }

    /// The reduce step: the report of the partials, each incident whose
    /// edge seconds were counted whole counted again by every producer
    /// over its `[start, end]`.
    pub fn reduce(&self, placing: Placing) -> Value {
        let mut config = Config::default();
        if let Placing::UtcYear(_) = placing {
            config.tz = Zone::parse("UTC");
        }
        let partials = [self.dir.join("partials")];
        let first = analyze_partials(&config, &partials, &[], &NoProgress).expect("merged");
        let mut impact_dirs = Vec::new();
        // As a user does: only an incident whose counts are not exact
        // (`requests_exact: false`) needs the second pass.
        let inexact = first
            .incidents
            .iter()
            .filter(|finding| !finding.requests_exact);
        for (index, finding) in inexact.enumerate() {
            let window = (finding.incident.start, finding.incident.end);
            let dir = self.dir.join(format!("impact-{index}"));
            for (producer, name, piece) in &self.producers {
                // A producer of a time split whose range holds neither the
                // window nor where its start row may end is told so and
                // writes nothing, as a user would see.
                match write_impact_partials(
                    producer,
                    window,
                    &dir,
                    name,
                    piece.as_ref(),
                    &NoProgress,
                ) {
                    Ok(_) => {}
                    Err(error)
                        if error
                            .to_string()
                            .contains("holds none of the window's requests") => {}
                    Err(error) => panic!("impact {name} ({:?}): {error}", producer.inputs),
                }
            }
            impact_dirs.push(dir);
        }
        report_json(
            &analyze_partials(&config, &partials, &impact_dirs, &NoProgress)
                .expect("merged with the impact"),
        )
    }
}

pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `postmortem partial ARGS -o DIR --producer NAME`, which must succeed.
fn partial(args: &[String], dir: &Path, producer: &str) {
    let mut all: Vec<String> = vec!["partial".into(), "--quiet".into()];
    all.extend(args.iter().cloned());
    all.extend([
        "-o".into(),
        dir.display().to_string(),
        "--producer".into(),
        producer.into(),
    ]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let output = run(&refs);
    assert!(
        output.status.success(),
        "partial {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The report without what a split changes by construction: the input
/// list, and (`access_names`) the access logs' name in `source` fields
/// (one path, or "N access logs"), replaced by one placeholder.
pub fn comparable(mut report: Value, access_names: bool) -> Value {
    report
        .as_object_mut()
        .expect("a report object")
        .remove("inputs");
    if access_names {
        rename_access_sources(&mut report);
    }
    report
}

/// A `source` that names whole access logs (a path without a line, or
/// "N access logs") becomes one placeholder.
fn rename_access_sources(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "source"
                    && let Value::String(text) = child
                {
                    let counted = text
                        .strip_suffix(" access logs")
                        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
                    if counted || !text.contains(':') {
                        *text = "(the access logs)".into();
                    }
                } else {
                    rename_access_sources(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rename_access_sources),
        _ => {}
    }
}

/// Earliest and latest time any input of the report covers.
pub fn span(report: &Value) -> (i64, i64) {
    let inputs = report["inputs"].as_array().expect("inputs");
    let times = |key: &str| -> Vec<i64> {
        inputs
            .iter()
            .filter_map(|input| input[key].as_str().map(millis))
            .collect()
    };
    let first = times("first").into_iter().min().expect("a first time");
    let last = times("last").into_iter().max().expect("a last time");
    (first, last)
}

pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .expect("a time")
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `--since`/`--until` of window `k` of `cuts` (open at both ends, so
/// nothing before the first or after the last cut is left out; windows
/// meet a millisecond apart, the resolution of every log time).
pub fn window(cuts: &[i64], k: usize) -> (Option<i64>, Option<i64>) {
    (
        (k > 0).then(|| cuts[k - 1]),
        (k < cuts.len()).then(|| cuts[k] - 1),
    )
}

#[test]
fn one_producer_gives_the_same_report_to_the_byte() {
    for name in samples() {
        let out = scratch();
        let mut split = Split::new(out.path());
        let dir = sample_dir(&name);
        split.map(config(&[&dir], Placing::Found, (None, None)), "all", None);
        assert_eq!(
            split.reduce(Placing::Found),
            whole(&name, Placing::Found),
            "{name}"
        );
    }
}

#[test]
fn four_time_windows_give_the_same_report() {
    for name in samples() {
        let whole = whole(&name, Placing::Found);
        let (first, last) = span(&whole);
        let cuts: Vec<i64> = (1..4).map(|k| first + (last - first) * k / 4).collect();
        let out = scratch();
        let mut split = Split::new(out.path());
        let dir = sample_dir(&name);
        for k in 0..4 {
            let producer = config(&[&dir], Placing::Found, window(&cuts, k));
            split.map(producer, &format!("t{k}"), None);
        }
        let from_partials = split.reduce(Placing::Found);
        assert_eq!(
            from_partials["inputs"].as_array().map(Vec::len),
            whole["inputs"].as_array().map(|inputs| inputs.len() * 4),
            "{name}: each window lists every input"
        );
        assert_eq!(
            comparable(from_partials, true),
            comparable(whole, true),
            "{name}"
        );
    }
}

#[test]
fn one_producer_per_file_gives_the_same_report() {
    // A syslog or error log read without the access logs of its run has
    // no zone or year to place its times in: every producer and the whole
    // run are given the same --tz and --year (docs/partials.md).
    for name in samples() {
        let placing = utc_year_of(&name);
        let whole = whole(&name, placing);
        let out = scratch();
        let mut split = Split::new(out.path());
        let files = files_below(&sample_dir(&name));
        // Producers named so their order is the files' order.
        for (k, file) in files.iter().enumerate() {
            let producer = config(&[file], placing, (None, None));
            split.map(producer, &format!("f{k:03}"), None);
        }
        let from_partials = split.reduce(placing);
        let paths = |report: &Value| -> Vec<String> {
            let mut paths: Vec<String> = report["inputs"]
                .as_array()
                .expect("inputs")
                .iter()
                .map(|input| input["path"].as_str().unwrap_or_default().to_string())
                .collect();
            paths.sort();
            paths
        };
        assert_eq!(
            paths(&from_partials),
            paths(&whole),
            "{name}: the same inputs"
        );
        assert_eq!(
            comparable(from_partials, false),
            comparable(whole, false),
            "{name}"
        );
    }
}

/// A small nginx `combined` log with a request time: one request every
/// 2 s from 2024-03-01 10:00 UTC, failing where `failing(i)`.
pub fn generated_log(requests: usize, failing: impl Fn(usize) -> bool) -> String {
    let start = millis("2024-03-01T10:00:00Z");
    let mut text = String::new();
    for i in 0..requests {
        let at = DateTime::<Utc>::from_timestamp_millis(start + i as i64 * 2_000).expect("a time");
        let status = if failing(i) { 503 } else { 200 };
        text.push_str(&format!(
            "10.0.{}.{} - - [{}] \"GET /item/{} HTTP/1.1\" {status} 512 \"-\" \"agent/{}\" {}.{:03}\n",
            i % 7,
            i % 13,
            at.format("%d/%b/%Y:%H:%M:%S +0000"),
            i % 5,
            i % 3,
            i % 2,
            (i * 37) % 1000,
        ));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Random cuts in time (two producers, three or four) over a log with
    /// an outage in its middle: the merged report is the whole one.
    #[test]
    fn random_time_cuts_merge_to_the_whole_report(
        cut_points in proptest::collection::btree_set(1i64..1_200, 1..4),
    ) {
        let dir = scratch();
        let log = write(
            dir.path(),
            "access.log",
            &generated_log(1_200, |i| (700..760).contains(&i) || i % 97 == 0),
        );
        let log_text = log.display().to_string();
        let whole = json_report(&[&log_text]);
        let start = millis("2024-03-01T10:00:00Z");
        let cuts: Vec<i64> = cut_points.iter().map(|i| start + i * 2_000 - 500).collect();
        let mut split = Split::new(&dir.path().join("split"));
        for k in 0..=cuts.len() {
            split.map(config(&[&log], Placing::Found, window(&cuts, k)), &format!("w{k}"), None);
        }
        let from_partials = split.reduce(Placing::Found);
        prop_assert_eq!(
            whole["incidents"].as_array().map(Vec::len),
            Some(1),
            "the generated outage is one incident"
        );
        prop_assert_eq!(comparable(from_partials, true), comparable(whole, true));
    }
}

#[test]
fn partials_of_other_settings_are_refused_with_both_values_and_files() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        &generated_log(300, |i| i % 50 == 0),
    );
    let log_text = log.display().to_string();
    let out = dir.path().join("partials");
    let cases: [(&str, &[&str], &str); 3] = [
        ("bucket", &["--bucket", "5m"], "bucket_ms is 60000 in"),
        ("slow", &["--slow", "2s"], "ingest_slow_us is 1000000 in"),
        ("users", &["--users", "ip"], "users is ip-ua in"),
    ];
    for (name, flags, expected) in cases {
        let _ = std::fs::remove_dir_all(&out);
        partial(std::slice::from_ref(&log_text), &out, "a");
        let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        args.push(log_text.clone());
        partial(&args, &out, "b");
        let output = run(&["report", "--from-partials", out.to_str().expect("utf-8")]);
        assert_eq!(output.status.code(), Some(2), "{name}: a usage error");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            stderr.contains("/a.") && stderr.contains("/b."),
            "{name} names both files: {stderr}"
        );
    }
}

#[test]
fn a_report_slow_threshold_other_than_the_partials_is_refused() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        &generated_log(300, |i| i % 50 == 0),
    );
    let out = dir.path().join("partials");
    partial(
        &["--slow".into(), "2s".into(), log.display().to_string()],
        &out,
        "a",
    );
    let output = run(&[
        "report",
        "--slow",
        "3s",
        "--from-partials",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--slow is 3000 ms here but the partials were made with --slow 2000 ms"),
        "{stderr}"
    );
}

#[test]
fn jsonl_on_stdout_holds_the_settings_and_every_request() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        &generated_log(300, |i| i % 50 == 0),
    );
    let output = run(&[
        "partial",
        "--format",
        "jsonl",
        "--producer",
        "web01",
        log.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let rows: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    assert_eq!(rows[0]["table"], "settings");
    assert_eq!(rows[0]["postmortem.schema"], "postmortem.partials/v1");
    assert_eq!(rows[0]["postmortem.producer"], "web01");
    let of = |table: &str, column: &str| -> i64 {
        rows.iter()
            .filter(|row| row["table"] == table)
            .map(|row| row[column].as_i64().expect("a count"))
            .sum()
    };
    assert_eq!(of("buckets", "requests"), 300);
    assert_eq!(of("buckets", "failed"), 6, "every 50th request failed");
    assert_eq!(of("inputs", "parsed"), 300);
}

#[test]
fn help_names_the_partial_options_with_examples() {
    let partial = String::from_utf8(run(&["partial", "--help"]).stdout).expect("utf-8");
    for needed in [
        "--producer",
        "--format",
        "--output",
        "--bucket",
        "Example: --producer web01",
    ] {
        assert!(partial.contains(needed), "partial --help: {needed}");
    }
    let report = String::from_utf8(run(&["report", "--help"]).stdout).expect("utf-8");
    assert!(
        report.contains("Example: --from-partials partials/"),
        "{report}"
    );
    let output = run(&["partial", "access.log"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "no -o for Parquet is a usage error"
    );
}
