//! The timeline on the bundled samples: at most 25 rows per incident (the
//! steps alone may pass it, nothing else does), each change at its own
//! time, and the log pattern new at the onset named with its counts before
//! and during (`src/detect/timeline.rs`, `src/detect/patterns.rs`).

use serde_json::Value;

use super::support::{json_report, repo_root, run};

/// The contract's cap on timeline rows ([`postmortem::detect::timeline::MAX_TIMELINE_ROWS`]).
const MAX_ROWS: usize = postmortem::detect::timeline::MAX_TIMELINE_ROWS;

struct Case {
    sample: &'static str,
    /// Whether the cap holds (false: more steps than rows, see below).
    within_cap: bool,
    /// A word of the new pattern's template and the lead's counts, or none.
    pattern: Option<(&'static str, &'static str)>,
}

/// The Markdown report of a sample.
fn markdown(sample: &str) -> String {
    let dir = repo_root().join("sample-logs").join(sample);
    let output = run(&["report", "--quiet", dir.to_str().expect("utf-8 path")]);
    assert!(output.status.success(), "{sample}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn report(sample: &str) -> Value {
    let dir = repo_root().join("sample-logs").join(sample);
    json_report(&[dir.to_str().expect("utf-8 path")])
}

#[test]
fn every_sample_keeps_its_steps_within_the_cap_and_names_its_new_log_pattern() {
    let cases = [
        Case {
            sample: "bad-config",
            within_cap: true,
            pattern: Some((
                "AH00124",
                "0 in the hour before, 1,114 during, first at 15:30:06",
            )),
        },
        Case {
            sample: "full-outage",
            within_cap: true,
            pattern: Some((
                "connect() failed",
                "0 in the hour before, 481 during, first at 09:12:32",
            )),
        },
        Case {
            sample: "slow-degradation",
            within_cap: true,
            pattern: Some((
                "pm.max_children",
                "0 in the hour before, 184 during, first at 2024-05-07 14:40:36",
            )),
        },
        Case {
            sample: "traffic-gap",
            within_cap: true,
            pattern: Some((
                "NIC Link is Down",
                "0 in the hour before, 1 during, first at 13:47:21",
            )),
        },
        Case {
            sample: "uneven-lb",
            within_cap: true,
            pattern: None,
        },
        // Its restarts rolled over three hosts are one row each, the
        // alert's notifications join the alert: within the cap.
        Case {
            sample: "memory-leak",
            within_cap: true,
            pattern: None,
        },
        Case {
            sample: "haproxy-reload",
            within_cap: true,
            pattern: Some((
                "has no server available",
                "0 in the hour before, 1 during, first at 08:31:12",
            )),
        },
        Case {
            sample: "envoy-upstream-refused",
            within_cap: true,
            pattern: None,
        },
    ];
    for case in cases {
        let name = case.sample;
        let report = report(name);
        let incidents = report["incidents"].as_array().expect("incidents");
        assert!(!incidents.is_empty(), "{name}: an incident");
        for incident in incidents {
            let timeline = incident["timeline"].as_array().expect("timeline");
            if case.within_cap {
                assert!(
                    timeline.len() <= MAX_ROWS,
                    "{name}: {} rows",
                    timeline.len()
                );
            } else {
                assert!(timeline.len() > MAX_ROWS, "{name}: {} rows", timeline.len());
                assert!(
                    timeline.iter().all(|e| e["kind"] != "event"),
                    "{name}: past the cap only steps are kept"
                );
            }
            let hints: Vec<&str> = incident["hints"]
                .as_array()
                .expect("hints")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let signals: Vec<&Value> = incident["signals"]
                .as_array()
                .expect("signals")
                .iter()
                .filter(|s| s["kind"] == "events")
                .collect();
            match case.pattern {
                Some((word, counts)) => {
                    assert!(
                        hints
                            .iter()
                            .any(|h| h.starts_with("new log pattern at onset")
                                && h.contains(word)
                                && h.contains(counts)),
                        "{name}: {hints:#?}"
                    );
                    let signal = signals
                        .iter()
                        .find(|s| s["name"].as_str().is_some_and(|n| n.contains(word)))
                        .unwrap_or_else(|| panic!("{name}: an events signal: {signals:#?}"));
                    assert_eq!(signal["baseline"], 0.0, "{name}: none before");
                    // The Markdown's Root Cause leads say the same.
                    let markdown = markdown(name);
                    assert!(
                        markdown
                            .lines()
                            .any(|l| l.starts_with("- new log pattern at onset")
                                && l.contains(word)
                                && l.contains(counts)),
                        "{name}: the Markdown names the pattern with its counts"
                    );
                    assert_eq!(signal["unit"], "lines/min", "{name}");
                }
                None => assert!(signals.is_empty(), "{name}: {signals:#?}"),
            }
        }
    }
}

#[test]
fn the_revert_reload_of_bad_config_is_a_row_of_its_own() {
    let report = report("bad-config");
    let timeline = report["incidents"][0]["timeline"]
        .as_array()
        .expect("timeline");
    let reloads: Vec<(&str, u64, &str)> = timeline
        .iter()
        .filter(|e| {
            e["kind"] == "change"
                && e["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Reloading The Apache HTTP Server"))
        })
        .map(|e| {
            (
                e["at"].as_str().unwrap_or_default(),
                e["count"].as_u64().unwrap_or_default(),
                // The path as given, from the sample's folder on.
                e["source"]
                    .as_str()
                    .and_then(|s| s.find("sample-logs/").map(|at| &s[at..]))
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        reloads,
        // Each row holds the four lines one reload writes: systemd's
        // `Reloading` and `Reloaded`, Apache's AH00171 and AH00163.
        vec![
            (
                "2022-03-27T14:29:52Z",
                4,
                "sample-logs/bad-config/syslog:106"
            ),
            (
                "2022-03-27T15:45:09Z",
                4,
                "sample-logs/bad-config/syslog:155"
            ),
        ],
        "the reload that broke it and the one that fixed it"
    );
    let folded = timeline
        .iter()
        .find(|e| e["text"].as_str().is_some_and(|t| t.contains("AH00124")))
        .expect("the AH00124 row");
    assert_eq!(folded["at"], "2022-03-27T14:30:06.907Z");
    assert!(
        folded["example"]
            .as_str()
            .is_some_and(|e| e.ends_with("referer: https://www.google.com/")),
        "the first line is the example: {folded}"
    );
    assert!(folded["count"].as_u64().is_some_and(|n| n > 1), "{folded}");
}

#[test]
fn the_fixes_of_bad_config_and_full_outage_are_bold_resolution_rows_in_the_markdown() {
    // (sample, the fix's local time, words of its row as the Markdown
    // writes them: log text is escaped, so `[` is `\[`)
    let cases = [
        (
            "bad-config: the revert reload",
            "bad-config",
            "16:45:09",
            "Reloading The Apache HTTP Server",
        ),
        (
            "full-outage: the rollback's reload",
            "full-outage",
            "09:52:06",
            r"PLAY \[lb-pool-migration.yml --tags rollback\]",
        ),
    ];
    for (name, sample, at, words) in cases {
        let markdown = markdown(sample);
        let row = markdown
            .lines()
            .find(|l| l.starts_with(&format!("| **{at}** | **Resolution")))
            .unwrap_or_else(|| panic!("{name}: a bold resolution row at {at}"));
        assert!(row.contains(words), "{name}: {row}");
        let section = markdown
            .split("### Resolution")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: a Resolution section"));
        assert!(
            section.starts_with(&format!(
                "\n\nThe change that most likely ended the impact was at {at}"
            )),
            "{name}: {}",
            &section[..section.len().min(200)]
        );
    }
}
