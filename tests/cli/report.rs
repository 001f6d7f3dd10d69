//! The Markdown report and the chart, pinned by snapshots on logs whose
//! every request is known (one incident, two incidents, none, and one with
//! the change/alert/event entries other logs contribute), and on every
//! bundled `sample-logs/<scenario>/` folder.

use std::path::Path;

use postmortem::config::InputSpec;
use postmortem::detect::resolution::{Resolution, ResolutionChoice};
use postmortem::detect::{
    Detected, DetectionEvidence, DetectionSource, TimelineEntry, TimelineFact, TimelineKind,
};
use postmortem::ingest::events::EventKind;
use postmortem::progress::NoProgress;
use postmortem::report::chart;
use postmortem::report::markdown::{MarkdownOptions, render_with};
use postmortem::timefmt::MS_PER_MINUTE;
use postmortem::{Config, analyze};

use super::handmade::{one_incident, two_incidents, write_log};
use super::support::{postmortem, repo_root, scratch};

/// Runs `postmortem ARGS` in `dir` and returns stdout, which must succeed.
fn run_in(dir: &Path, args: &[&str]) -> String {
    let output = postmortem()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn one_incident_reads_like_a_postmortem() {
    let dir = scratch();
    write_log(dir.path(), &one_incident());
    let markdown = run_in(dir.path(), &["report", "--quiet", "access.log"]);
    // The sections in the order postmortem authors write them.
    let order = [
        "# Postmortem: Partial outage on 2024-05-07, 12:00:02–12:29:56 GMT+1",
        "## Issue Summary",
        "**Duration:** The incident lasted 29 min 54 s",
        "**Impact:**",
        "**Root Cause:** **TODO:**",
        "## Timeline",
        "- **Time to detect (TTD):**",
        "- **Impact duration:** 29 min 54 s",
        "## Misleading Investigation Paths",
        "## Escalation",
        "## Root Cause and Resolution",
        "## Corrective and Preventative Measures",
        "## Appendix: Inputs",
    ];
    let mut from = 0;
    for heading in order {
        let at = markdown[from..]
            .find(heading)
            .unwrap_or_else(|| panic!("{heading:?} missing or out of order:\n{markdown}"));
        from += at + heading.len();
    }
    insta::assert_snapshot!("one_incident", markdown);
}

#[test]
fn two_incidents_get_an_overview_and_a_section_set_each() {
    let dir = scratch();
    write_log(dir.path(), &two_incidents());
    let markdown = run_in(dir.path(), &["report", "--quiet", "access.log"]);
    assert!(markdown.starts_with("# Postmortem: 2 incidents on 2024-05-07, "));
    assert!(markdown.contains("## Overview"));
    let first = markdown.find("## Incident 1: Outage").expect("incident 1");
    let second = markdown
        .find("## Incident 2: Degradation")
        .expect("incident 2");
    assert!(first < second, "incidents in time order");
    assert_eq!(markdown.matches("### Issue Summary").count(), 2);
    assert_eq!(markdown.matches("### Timeline").count(), 2);
    insta::assert_snapshot!("two_incidents", markdown);
}

#[test]
fn a_quiet_log_gives_a_short_useful_page() {
    let dir = scratch();
    write_log(dir.path(), &[]);
    let markdown = run_in(dir.path(), &["report", "--quiet", "access.log"]);
    assert!(markdown.starts_with("# Postmortem: no incident found\n"));
    assert!(markdown.contains("the logs show 4,800 requests from 200 users, and no period"));
    assert!(!markdown.contains("## Timeline"));
    insta::assert_snapshot!("no_incident", markdown);
}

/// The analysis of the one-incident log, with the entries that syslog,
/// error logs and alert logs add: a package upgrade and a reload before
/// impact, a Nagios alert that detects it, an OOM kill, a restart just
/// before the end and the alert's recovery.
fn analysis_with_evidence(log: &Path) -> postmortem::Findings {
    let config = Config::for_inputs(vec![InputSpec::Path(log.to_path_buf())]);
    let mut analysis = analyze(&config, &NoProgress).expect("analysis");
    let report = &mut analysis.incidents[0];
    let (start, end) = (report.incident.start, report.incident.end);
    let minute = MS_PER_MINUTE;
    let alert_at = start + 4 * minute + 12_000;
    let alert =
        "nagios: SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;HTTP/1.1 503 Service Unavailable";
    report.detected = Some(Detected {
        at: alert_at,
        source: DetectionSource::Log,
        evidence: DetectionEvidence::Alert {
            text: alert.to_string(),
        },
    });
    report.timeline.retain(|e| e.kind != TimelineKind::Detected);
    // A line of the logs: `rule: text` in the table, with no host.
    let line =
        |at: i64, event: EventKind, rule: &'static str, text: &str, source: &str| TimelineEntry {
            at,
            kind: match event {
                EventKind::Change => TimelineKind::Change,
                EventKind::Event => TimelineKind::Event,
                EventKind::Action => TimelineKind::Action,
                EventKind::Alert | EventKind::Recovery => TimelineKind::Alert,
            },
            fact: TimelineFact::Log {
                event,
                rule,
                host: None,
                text: text.to_string(),
                template: None,
                last_at: at,
            },
            source: Some(source.to_string()),
            count: 1,
        };
    let detection_row = TimelineEntry {
        at: alert_at,
        kind: TimelineKind::Detected,
        fact: TimelineFact::Detected(report.detected.clone().expect("set above")),
        source: Some("nagios.log:77".to_string()),
        count: 1,
    };
    report.timeline.extend([
        line(
            start - 40 * minute,
            EventKind::Change,
            "apt",
            "upgraded openssl 3.0.2 -> 3.0.13",
            "syslog:640",
        ),
        line(
            start - 3 * minute - 5_000,
            EventKind::Change,
            "nginx",
            "configuration reloaded (signal HUP), upstream pool | 2 servers",
            "syslog:812",
        ),
        // The detecting alert again: shown once, as the detection row.
        line(
            alert_at,
            EventKind::Alert,
            "nagios alert",
            alert,
            "nagios.log:77",
        ),
        detection_row,
        line(
            start + 10 * minute,
            EventKind::Event,
            "out of memory",
            "kernel: Out of memory: Killed process 2211 (php-fpm) <total-vm:812000kB>",
            "syslog:901",
        ),
        line(
            end - 2 * minute,
            EventKind::Change,
            "systemd",
            "Restarted nginx.service",
            "syslog:1404",
        ),
        line(
            end + 3 * minute,
            EventKind::Alert,
            "nagios",
            "SERVICE ALERT: web01;HTTP;OK;HARD;3;HTTP/1.1 200 OK",
            "nagios.log:80",
        ),
    ]);
    report.resolution = Some(Resolution {
        at: end - 2 * minute,
        text: "systemd: Restarted nginx.service".to_string(),
        host: None,
        source: Some("syslog:1404".to_string()),
        rule: "systemd",
        choice: ResolutionChoice::ServedRestartBefore,
        run: None,
    });
    // The evidence list around the start is chosen by detect; here, the log
    // rows from an hour before to 15 minutes after the start.
    report.evidence = report
        .timeline
        .iter()
        .filter(|e| matches!(e.fact, TimelineFact::Log { .. }))
        .filter(|e| (start - 60 * minute..=start + 15 * minute).contains(&e.at))
        .cloned()
        .collect();
    // detect counts the out-of-memory rows of the window; here, the one above.
    report.out_of_memory_count = report
        .timeline
        .iter()
        .filter(|e| {
            matches!(
                e.fact,
                TimelineFact::Log {
                    rule: "out of memory",
                    ..
                }
            )
        })
        .count();
    analysis
}

#[test]
fn every_timeline_kind_is_rendered_and_the_key_rows_stand_out() {
    let dir = scratch();
    let log = write_log(dir.path(), &one_incident());
    let analysis = analysis_with_evidence(&log);
    let markdown = render_with(
        &analysis,
        &MarkdownOptions {
            chart_link: Some("chart.svg".to_string()),
        },
    )
    .replace(&dir.path().display().to_string(), "<dir>");
    struct Case {
        name: &'static str,
        expected: &'static str,
    }
    let cases = [
        Case {
            name: "the last change before impact is bold and says how long before",
            expected: "| **11:56:57** | **Change, 3 min 5 s before impact** | **nginx: configuration reloaded (signal HUP), upstream pool \\| 2 servers** | `syslog:812` |",
        },
        Case {
            name: "an earlier change is a plain row",
            expected: "| 11:20:02 | Change | apt: upgraded openssl 3.0.2 -&gt; 3.0.13 | `syslog:640` |",
        },
        Case {
            name: "detection is bold and names how it was found",
            expected: "| **12:04:14** | **Detected (alert in the logs)** | **nagios: SERVICE ALERT",
        },
        Case {
            name: "the resolution is bold and tied to the end",
            expected: "| **12:27:56** | **Resolution, 2 min before impact ended** | **systemd: Restarted nginx.service** | `syslog:1404` |",
        },
        Case {
            name: "log text cannot open an HTML tag",
            expected: "(php-fpm) &lt;total-vm:812000kB&gt;",
        },
        Case {
            name: "the summary names the alert",
            expected: "it was detected 4 min 12 s after it began (by an alert in the logs)",
        },
        Case {
            name: "events around the start are listed with their offset",
            expected: "- 11:56:57 (3 min 5 s before) change: Change (nginx): configuration reloaded",
        },
        Case {
            name: "resolution names the change that ended the impact",
            expected: "The change that most likely ended the impact was at 12:27:56, 2 min before the last bad request: systemd: Restarted nginx.service (`syslog:1404`) (the last restart or reload before the end",
        },
        Case {
            name: "a measure follows from the suspect change",
            expected: "- [ ] Make changes like the one at 11:56:57",
        },
        Case {
            name: "a measure follows from the OOM kill",
            expected: "the logs show 1 out-of-memory event.",
        },
        Case {
            name: "the chart is embedded",
            expected: "; incidents shaded, detection and changes marked](chart.svg)",
        },
    ];
    for case in cases {
        assert!(
            markdown.contains(case.expected),
            "{}: {:?} not in\n{markdown}",
            case.name,
            case.expected
        );
    }
    assert!(
        !markdown.contains("burn-rate alert on the bad-request ratio"),
        "an alert fired, so no 'add an alert' item"
    );
    insta::assert_snapshot!("timeline_kinds", markdown);
}

#[test]
fn the_chart_has_three_panels_the_zone_and_the_marks() {
    let dir = scratch();
    let log = write_log(dir.path(), &one_incident());
    let analysis = analysis_with_evidence(&log);
    let svg = chart::render_svg(&analysis).expect("chart");
    let texts: Vec<&str> = svg
        .split("</text>")
        .filter_map(|part| part.rsplit_once('>').map(|(_, text)| text.trim()))
        .collect();
    struct Case {
        name: &'static str,
        expected: &'static str,
        count: usize,
    }
    let cases = [
        Case {
            name: "one panel title each",
            expected: "requests / min",
            count: 1,
        },
        Case {
            name: "bad-request panel",
            expected: "bad requests",
            count: 1,
        },
        Case {
            name: "latency panel",
            expected: "p95 latency",
            count: 2,
        },
        Case {
            name: "the zone and date name the axis",
            expected: "Time (GMT+1), 2024-05-07",
            count: 1,
        },
        Case {
            name: "ticks in local time",
            expected: "12:00",
            count: 3,
        },
        Case {
            name: "slow threshold",
            expected: "slow threshold 1 s",
            count: 1,
        },
    ];
    for case in cases {
        assert_eq!(
            texts.iter().filter(|t| **t == case.expected).count(),
            case.count,
            "{}: {:?}",
            case.name,
            case.expected
        );
    }
    // The incident shading: one translucent red rectangle per panel.
    assert_eq!(
        svg.matches("opacity=\"0.13\" fill=\"#D62728\"").count(),
        3,
        "incident shaded in three panels"
    );
    // Three changes and one detection, drawn in every panel.
    assert_eq!(svg.matches("stroke=\"#753CAA\"").count(), 3 * 3 + 1);
}

#[test]
fn chart_and_report_are_written_with_a_relative_link() {
    let dir = scratch();
    write_log(dir.path(), &one_incident());
    std::fs::create_dir_all(dir.path().join("out/img")).expect("mkdir");
    let stdout = run_in(
        dir.path(),
        &[
            "report",
            "--quiet",
            "-o",
            "out/postmortem.md",
            "--chart",
            "out/img/chart.svg",
            "access.log",
        ],
    );
    assert!(stdout.is_empty());
    let markdown =
        std::fs::read_to_string(dir.path().join("out/postmortem.md")).expect("report written");
    assert!(markdown.contains("](img/chart.svg)"), "{markdown}");
    let svg = std::fs::read_to_string(dir.path().join("out/img/chart.svg")).expect("chart");
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert!(svg.trim_end().ends_with("</svg>"));

    let wrong = postmortem()
        .current_dir(dir.path())
        .args(["report", "--chart", "chart.png", "access.log"])
        .output()
        .expect("runs");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("ending in .svg"));
}

/// Every `sample-logs/<scenario>/` folder's Markdown report, pinned (the
/// ground truth in `sample-logs/expected/` is not a scenario). New
/// scenarios get a snapshot on the first run (`cargo insta review`).
#[test]
fn sample_reports_match_their_snapshots() {
    let samples = repo_root().join("sample-logs");
    let Ok(entries) = std::fs::read_dir(&samples) else {
        println!("skipped: {} is absent", samples.display());
        return;
    };
    let mut scenarios: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| name != postmortem_testbed::synth::scenario::EXPECTED_FOLDER)
        .collect();
    assert_eq!(
        scenarios.len(),
        postmortem_testbed::synth::SCENARIO_NAMES.len(),
        "one folder per scenario: {scenarios:?}"
    );
    scenarios.sort();
    for scenario in scenarios {
        let input = format!("sample-logs/{scenario}");
        let markdown = run_in(&repo_root(), &["report", "--quiet", &input]);
        insta::assert_snapshot!(format!("sample_{scenario}"), markdown);
    }
}

#[test]
fn measures_and_detection_follow_from_how_it_was_detected() {
    let dir = scratch();
    let log = write_log(dir.path(), &one_incident());
    let base = analysis_with_evidence(&log);
    let start = base.incidents[0].incident.start;
    struct Case {
        name: &'static str,
        detected: Option<Detected>,
        expected: &'static [&'static str],
        absent: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "an alert 20 min late asks to detect sooner",
            detected: Some(Detected {
                at: start + 20 * MS_PER_MINUTE,
                source: DetectionSource::Log,
                evidence: DetectionEvidence::Alert {
                    text: "alertmanager: firing HighErrorRate".to_string(),
                },
            }),
            expected: &[
                "- [ ] Detect sooner: it took 20 min to notice. 5xx+499 rate moved at 12:00:02: alert on it.",
                "- **Time to detect (TTD):** 20 min, from impact start (12:00:02, the first bad request) to detection (12:20:02).",
            ],
            absent: &["Page on the bad-request ratio"],
        },
        Case {
            name: "a time given by the responders",
            detected: Some(Detected {
                at: start + 90_000,
                source: DetectionSource::User,
                evidence: DetectionEvidence::Given,
            }),
            expected: &[
                "**Detection:** 2024-05-07 12:01:32 GMT+1, 1 min 30 s after impact started, as given by the responders (`--detected-at`).",
            ],
            absent: &["Detect sooner", "Page on the bad-request ratio"],
        },
        Case {
            name: "no detection at all asks for an alert and for the time",
            detected: None,
            expected: &[
                "- [ ] Page on the bad-request ratio (5xx, 499 and slow requests): no alert was found in the logs.",
                "- **Time to detect (TTD):** unknown",
                "**TODO:** when and how did someone notice? Give it with `--detected-at`.",
            ],
            absent: &["Detect sooner", "Time from detection to end"],
        },
    ];
    for case in cases {
        let mut analysis = base.clone();
        analysis.incidents[0].detected = case.detected;
        analysis.incidents[0]
            .timeline
            .retain(|e| e.kind != TimelineKind::Detected);
        let markdown = render_with(&analysis, &MarkdownOptions::default());
        for expected in case.expected {
            assert!(
                markdown.contains(expected),
                "{}: {expected:?} missing\n{markdown}",
                case.name
            );
        }
        for absent in case.absent {
            assert!(
                !markdown.contains(absent),
                "{}: {absent:?} present",
                case.name
            );
        }
    }
}

#[test]
fn long_series_are_merged_into_at_most_the_drawn_points() {
    use std::fmt::Write;
    // Three days, one request a minute, each failing every tenth minute.
    let dir = scratch();
    let mut text = String::new();
    let minutes = 3 * 24 * 60;
    for minute in 0..minutes {
        let at = chrono::DateTime::from_timestamp(1_715_040_000 + minute * 60, 0).expect("time");
        let status = if minute % 10 == 0 { 503 } else { 200 };
        let _ = writeln!(
            text,
            "10.0.0.{} - - [{} +0000] \"GET / HTTP/1.1\" {status} 5 \"-\" \"ua\"",
            minute % 200,
            at.format("%d/%b/%Y:%H:%M:%S")
        );
    }
    let log = dir.path().join("access.log");
    std::fs::write(&log, text).expect("write");
    let analysis = analyze(
        &Config::for_inputs(vec![InputSpec::Path(log.clone())]),
        &NoProgress,
    )
    .expect("analysis");
    assert_eq!(analysis.series.buckets.len(), minutes as usize);
    let points = chart::chart_points(&analysis);
    // 4,320 buckets in groups of three.
    assert_eq!(points.len(), 1_440);
    assert!(points.len() <= chart::MAX_POINTS);
    for point in &points {
        assert!((point.requests_per_minute - 1.0).abs() < 1e-9, "{point:?}");
    }
    // Merged ratios are exact: over 30 minutes, 3 of 30 requests failed.
    let failed: f64 = points
        .iter()
        .take(10)
        .filter_map(|p| p.failed_pct)
        .sum::<f64>()
        / 10.0;
    assert!((failed - 10.0).abs() < 1e-9, "{failed}");
    assert_eq!(points[1].at - points[0].at, 3 * MS_PER_MINUTE);
}
