//! Detection says what it is: an observed detection (an alert line,
//! `--detected-at`) and a replayed rule are worded and flagged differently,
//! and a detection before the first bad request is stated as such (negative
//! time to detect, a warning on stderr), never "0 s after it began".

use super::handmade::{one_incident, write_log};
use super::support::{millis, postmortem, scratch};

struct Run {
    json: serde_json::Value,
    markdown: String,
    stderr: String,
}

fn run(log: &std::path::Path, extra: &[&str]) -> Run {
    let output = |format: &str| {
        let output = postmortem()
            .args(["report", "--format", format])
            .args(extra)
            .arg(log)
            .output()
            .expect("run postmortem");
        assert!(output.status.success(), "{output:?}");
        output
    };
    let json = output("json");
    let markdown = output("markdown");
    Run {
        json: serde_json::from_slice(&json.stdout).expect("JSON report"),
        markdown: String::from_utf8(markdown.stdout).expect("utf-8"),
        stderr: String::from_utf8(json.stderr).expect("utf-8"),
    }
}

/// One way of detecting: the options given, the JSON's `detected`, and
/// what the Markdown and stderr must and must not say.
struct Case {
    name: &'static str,
    options: &'static [&'static str],
    source: &'static str,
    observed: bool,
    before_start: bool,
    present: &'static [&'static str],
    absent: &'static [&'static str],
    warns: bool,
}

#[test]
fn observed_and_replayed_detections_are_told_apart() {
    let dir = scratch();
    let log = write_log(dir.path(), &one_incident());
    let cases: [Case; 3] = [
        Case {
            name: "no alert line: a replay of the burn-rate rule",
            options: &[],
            source: "rule",
            observed: false,
            before_start: false,
            present: &[
                "| **Alert would have fired (replayed rule)** |",
                "**Detection:** not observed: no alert was found in the logs. Replayed over the logs, a standard burn-rate alert would have fired at 2024-05-07",
                "- **Time to detect (TTD):** not observed (no alert in the logs). Replayed, a standard burn-rate alert would have fired",
                "- **Time from when the replayed rule would have fired to end of impact:**",
            ],
            absent: &["Detected (", "it was detected"],
            warns: false,
        },
        Case {
            name: "given after the start",
            options: &["--detected-at", "2024-05-07 12:10"],
            source: "user",
            observed: true,
            before_start: false,
            present: &[
                "| **Detected (given)** |",
                "after impact started, as given by the responders",
            ],
            absent: &["would have fired", "negative"],
            warns: false,
        },
        Case {
            name: "given an hour before the start",
            options: &["--detected-at", "2024-05-07 11:00"],
            source: "user",
            observed: true,
            before_start: true,
            present: &[
                "- **Time to detect (TTD):** −1 h 0 min 3 s: detection (11:00:00) came 1 h 0 min 3 s before impact start (12:00:02, the first bad request).",
                "**Detection:** 2024-05-07 11:00:00 GMT+1, 1 h 0 min 3 s before impact started, as given by the responders (`--detected-at`). This is before the first bad request, so the time to detect is negative",
                "it was detected 1 h 0 min 3 s before it began (as given by the responders)",
            ],
            absent: &["0 s after", "would have fired"],
            warns: true,
        },
    ];
    for case in cases {
        let Case {
            name,
            options,
            source,
            observed,
            before_start,
            present,
            absent,
            warns,
        } = case;
        let run = run(&log, options);
        let incident = &run.json["incidents"][0];
        let detected = &incident["detected"];
        assert_eq!(detected["source"], source, "{name}");
        assert_eq!(detected["observed"], observed, "{name}");
        assert_eq!(detected["before_start"], before_start, "{name}");
        let start = millis(incident["start"].as_str().expect("start"));
        let at = millis(detected["at"].as_str().expect("at"));
        assert_eq!(
            incident["time_to_detect_s"].as_f64(),
            Some((at - start) as f64 / 1000.0),
            "{name}: time_to_detect_s is detected - start, sign kept"
        );
        for text in present {
            assert!(
                run.markdown.contains(text),
                "{name}: {text:?} missing in:\n{}",
                run.markdown
            );
        }
        for text in absent {
            assert!(
                !run.markdown.contains(text),
                "{name}: {text:?} present in:\n{}",
                run.markdown
            );
        }
        assert_eq!(
            run.stderr.contains("time to detect is negative"),
            warns,
            "{name}: stderr {:?}",
            run.stderr
        );
    }
}
