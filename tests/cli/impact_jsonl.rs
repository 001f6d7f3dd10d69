//! `postmortem impact --format jsonl`: the exact second pass as JSON lines
//! on stdout, what a Spark partition writes (contrib/spark/), gives
//! `report --from-partials --impact` the figures its Parquet form gives.

use serde_json::Value;

use super::support::{json_report, run, scratch};

/// Runs the binary, asserting success; its stdout.
fn stdout_of(args: &[&str]) -> Vec<u8> {
    let output = run(args);
    assert!(
        output.status.success(),
        "postmortem {args:?}: exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn impact_as_json_lines_gives_the_figures_of_its_parquet_files() {
    let sample = super::support::repo_root().join("sample-logs/haproxy-reload/haproxy.log");
    let sample = sample.to_str().expect("a UTF-8 path");
    let dir = scratch();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let partials = path("all.jsonl");
    std::fs::write(
        &partials,
        stdout_of(&["partial", "--format", "jsonl", "-q", sample]),
    )
    .expect("written");
    let first = json_report(&["--from-partials", &partials]);
    let incident = &first["incidents"][0];
    assert_eq!(
        incident["impact"]["requests_exact"], false,
        "the edge seconds are counted whole"
    );
    let window = format!(
        "{}..{}",
        incident["start"].as_str().expect("start"),
        incident["end"].as_str().expect("end")
    );

    let lines = stdout_of(&[
        "impact", "--window", &window, "--format", "jsonl", "-q", sample,
    ]);
    let text = String::from_utf8(lines).expect("UTF-8");
    let settings: Value =
        serde_json::from_str(text.lines().next().expect("a settings line")).expect("JSON");
    assert_eq!(settings["table"], "settings");
    assert_eq!(
        settings["postmortem.window"]
            .as_str()
            .map(|w| w.contains("..")),
        Some(true)
    );
    let impact_lines = path("impact.jsonl");
    std::fs::write(&impact_lines, &text).expect("written");
    stdout_of(&[
        "impact",
        "--window",
        &window,
        "-q",
        "-o",
        &path("impact-parquet"),
        sample,
    ]);

    let from_lines = json_report(&["--from-partials", &partials, "--impact", &impact_lines]);
    let from_parquet = json_report(&[
        "--from-partials",
        &partials,
        "--impact",
        &path("impact-parquet"),
    ]);
    assert_eq!(from_lines["incidents"][0]["impact"]["requests_exact"], true);
    assert_eq!(from_lines, from_parquet);
    // And they are one run's exact figures.
    let one_run = json_report(&[sample]);
    assert_eq!(
        from_lines["incidents"][0]["impact"],
        one_run["incidents"][0]["impact"]
    );
}
