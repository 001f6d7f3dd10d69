//! Evidence around the impact: syslog, error logs and metric CSVs, end to end
//! on a folder the test writes, and conformance on the public datasets
//! (loghub, lnav, rsyslog, NAB, Microsoft cloud monitoring) read in place.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use postmortem::ingest::events::errorlog::{self, ErrorLine};
use postmortem::ingest::events::parse_syslog_text;
use postmortem::ingest::events::syslog::{self, SyslogLine};
use postmortem::ingest::metrics::csv as metrics_csv;
use postmortem::ingest::timestamps::Stamp;
use postmortem::timefmt::Zone;

use super::support::{datasets, json_report, millis, run, scratch, write};

/// 2024-03-05T12:00:00+01:00, the fixture's first minute.
const FIXTURE_START_MS: i64 = 1_709_636_400_000;
const MINUTE_MS: i64 = 60_000;
/// Minutes after 12:00 local of the fixture's story.
const IMPACT_FROM_MIN: i64 = 120; // 14:00
const IMPACT_TO_MIN: i64 = 150; // 14:30
const LEAK_FROM_MIN: i64 = 80; // 13:20
const LOG_MINUTES: i64 = 180;

fn local(minute: i64, second: i64) -> i64 {
    FIXTURE_START_MS + minute * MINUTE_MS + second * 1000
}

fn clf_time(at: i64) -> String {
    let shifted = DateTime::<Utc>::from_timestamp_millis(at + 3_600_000).expect("valid");
    format!("{} +0100", shifted.format("%d/%b/%Y:%H:%M:%S"))
}

fn syslog_time(at: i64) -> String {
    let shifted = DateTime::<Utc>::from_timestamp_millis(at + 3_600_000).expect("valid");
    shifted.format("%b %e %H:%M:%S").to_string()
}

/// Three hours of traffic, a 30-minute partial outage from 14:00 local.
fn access_log() -> String {
    let mut text = String::new();
    for minute in 0..LOG_MINUTES {
        for request in 0..60 {
            let at = local(minute, request);
            let user = request % 40;
            let failing = (IMPACT_FROM_MIN..IMPACT_TO_MIN).contains(&minute) && request % 5 != 0;
            let status = if failing { 503 } else { 200 };
            let _ = writeln!(
                text,
                "10.1.0.{user} - - [{}] \"GET /item/{request} HTTP/1.1\" {status} 512 \"-\" \"agent-{user}\" 0.050",
                clf_time(at + 50)
            );
        }
    }
    text
}

/// The syslog lines of the story, with their 1-based line numbers known.
struct SyslogFixture {
    text: String,
    deploy_line: usize,
    reload_line: usize,
    oom_line: usize,
    late_oom_line: usize,
    alert_line: usize,
    early_change_line: usize,
}

fn syslog_fixture() -> SyslogFixture {
    let lines = [
        (5, 0, "web01 systemd[1]: Reloading php-fpm.service."),
        (
            10,
            0,
            "web01 sshd[811]: Accepted publickey for alice from 10.9.0.1",
        ),
        (
            70,
            0,
            "web01 deploy[77]: deployed shop-api v2.14.0 (git 3f9c2e1) to web01",
        ),
        (119, 0, "web01 systemd[1]: Reloading nginx.service."),
        (
            121,
            5,
            "web01 kernel: Out of memory: Killed process 4242 (php-fpm) total-vm:812345kB",
        ),
        (
            121,
            5,
            "web01 kernel: Out of memory: Killed process 4242 (php-fpm) total-vm:812345kB",
        ),
        (121, 6, "web01 last message repeated 3 times"),
        (
            125,
            30,
            "mon01 nagios: SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;CRITICAL - Socket timeout after 10 seconds",
        ),
        (
            140,
            0,
            "web01 kernel: Out of memory: Killed process 4313 (php-fpm) total-vm:812399kB",
        ),
        (
            155,
            0,
            "mon01 nagios: SERVICE ALERT: web01;HTTP;OK;HARD;1;HTTP OK: HTTP/1.1 200 OK",
        ),
    ];
    let mut text = String::new();
    for (minute, second, rest) in lines {
        let _ = writeln!(text, "{} {rest}", syslog_time(local(minute, second)));
    }
    SyslogFixture {
        text,
        early_change_line: 1,
        deploy_line: 3,
        reload_line: 4,
        oom_line: 5,
        late_oom_line: 9,
        alert_line: 8,
    }
}

/// Grafana-style wide export, local time without zone: memory leaks from 13:20.
fn metrics_csv() -> String {
    let mut text = String::from("\"Time\",\"memory_used (MB)\",\"cpu\"\n");
    for minute in 0..LOG_MINUTES {
        let wobble = ((minute * 7919) % 11) as f64 - 5.0;
        let leak = if minute >= LEAK_FROM_MIN {
            6.0 * (minute - LEAK_FROM_MIN) as f64
        } else {
            0.0
        };
        let shifted =
            DateTime::<Utc>::from_timestamp_millis(local(minute, 0) + 3_600_000).expect("valid");
        let cpu = 0.4 + ((minute * 31) % 7) as f64 / 100.0;
        let _ = writeln!(
            text,
            "{},{},{cpu:.2}",
            shifted.format("%Y-%m-%d %H:%M:%S"),
            512.0 + wobble + leak
        );
    }
    text
}

fn timeline_entries<'a>(incident: &'a Value, kind: &str) -> Vec<&'a Value> {
    incident["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[test]
fn the_timeline_shows_alert_change_events_and_the_metric_that_moved_first() {
    let dir = scratch();
    let access = write(dir.path(), "access.log", &access_log());
    let fixture = syslog_fixture();
    let syslog = write(dir.path(), "syslog", &fixture.text);
    let metrics = write(dir.path(), "metrics.csv", &metrics_csv());
    let (syslog, metrics) = (
        syslog.to_str().expect("utf-8"),
        metrics.to_str().expect("utf-8"),
    );
    let _ = access;
    let report = json_report(&[dir.path().to_str().expect("utf-8 path")]);
    let kinds: Vec<(&str, &str)> = report["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap_or(""),
                i["format"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("access", "combined+request_time"),
            ("metrics", "csv-wide"),
            ("syslog", "syslog-rfc3164")
        ]
    );
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];

    // Detection: the Nagios alert at 14:05:30 local (13:05:30Z), source log.
    let detected = &incident["detected"];
    assert_eq!(detected["source"], "log", "{detected}");
    assert_eq!(millis(detected["at"].as_str().expect("at")), local(125, 30));
    assert!(
        detected["evidence"]
            .as_str()
            .is_some_and(|e| e.starts_with("nagios: SERVICE ALERT: web01;HTTP;CRITICAL")),
        "{detected}"
    );
    let detected_entry = timeline_entries(incident, "detected");
    assert_eq!(
        detected_entry[0]["source"],
        format!("{syslog}:{}", fixture.alert_line)
    );

    // The change just before impact, with its line.
    let changes = timeline_entries(incident, "change");
    let reload = changes
        .iter()
        .find(|e| {
            e["text"]
                .as_str()
                .is_some_and(|t| t.contains("Reloading nginx.service"))
        })
        .expect("the nginx reload is on the timeline");
    assert_eq!(millis(reload["at"].as_str().expect("at")), local(119, 0));
    assert_eq!(
        reload["source"],
        format!("{syslog}:{}", fixture.reload_line)
    );
    assert!(
        changes
            .iter()
            .all(|e| e["source"] != format!("{syslog}:{}", fixture.early_change_line)),
        "the 12:05 reload is more than an hour before the leak began: {changes:#?}"
    );

    // Notable events inside, repeats folded with a count.
    let events = timeline_entries(incident, "event");
    let oom = events
        .iter()
        .find(|e| {
            e["text"]
                .as_str()
                .is_some_and(|t| t.contains("Out of memory"))
        })
        .expect("the OOM kill is on the timeline");
    assert_eq!(millis(oom["at"].as_str().expect("at")), local(121, 5));
    assert_eq!(oom["source"], format!("{syslog}:{}", fixture.oom_line));
    assert_eq!(
        oom["count"], 5,
        "two lines and three repeats; the kill at 14:20 is a burst of its own"
    );
    assert!(
        events
            .iter()
            .any(|e| e["source"] == format!("{syslog}:{}", fixture.late_oom_line)),
        "the later kill is its own row: {events:#?}"
    );

    // The recovery is an alert entry, not the detection.
    let alerts = timeline_entries(incident, "alert");
    assert!(
        alerts
            .iter()
            .any(|e| e["text"].as_str().is_some_and(|t| t.contains(";OK;"))),
        "{alerts:#?}"
    );

    // The metric that moved first: a signal, a timeline entry and a hint.
    let signal = incident["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["kind"] == "metric")
        .expect("a metric signal");
    assert_eq!(signal["name"], "memory_used");
    assert_eq!(signal["unit"], "MB");
    assert_eq!(signal["source"], metrics);
    let onset = millis(signal["onset"].as_str().expect("onset"));
    // The leak starts at 13:20; the two minutes before it happen to wobble
    // upwards, which a change-point estimate cannot tell from the leak.
    assert!(
        (local(LEAK_FROM_MIN - 3, 0)..=local(LEAK_FROM_MIN + 4, 0)).contains(&onset),
        "onset {} is near 13:20 local",
        signal["onset"]
    );
    let onset_minute = (onset - FIXTURE_START_MS) / MINUTE_MS;
    let metric_entry = events
        .iter()
        .find(|e| {
            e["text"]
                .as_str()
                .is_some_and(|t| t.contains("memory_used"))
        })
        .expect("the metric onset is on the timeline");
    assert_eq!(millis(metric_entry["at"].as_str().expect("at")), onset);
    assert_eq!(
        metric_entry["source"],
        format!("{metrics}:{}", onset_minute + 2),
        "header on line 1, minute 0 on line 2"
    );
    let hints: Vec<&str> = incident["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        hints.iter().any(|h| h.starts_with(&format!(
            "memory_used rose steadily from 13:{:02}:00, ",
            onset_minute - 60
        )) && h.contains("before impact")),
        "{hints:#?}"
    );
    assert!(
        hints
            .iter()
            .any(|h| h.contains("last change before impact")
                && h.contains("Reloading nginx.service")),
        "{hints:#?}"
    );
    let deploy_hint = format!(
        "the last change before memory_used began to move was at 13:10:00, {} min before it: deploy: deployed shop-api v2.14.0 (git 3f9c2e1) to web01 ({syslog}:{})",
        onset_minute - 70,
        fixture.deploy_line
    );
    assert!(hints.contains(&deploy_hint.as_str()), "{hints:#?}");
    assert!(
        changes
            .iter()
            .any(|e| e["source"] == format!("{syslog}:{}", fixture.deploy_line)),
        "the deploy that started the leak is on the timeline"
    );
    assert!(
        incident["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .all(|s| s["name"] != "cpu"),
        "cpu did not move"
    );
}

#[test]
fn markdown_marks_the_change_before_impact_and_counts_repeats() {
    let dir = scratch();
    write(dir.path(), "access.log", &access_log());
    write(dir.path(), "syslog", &syslog_fixture().text);
    let output = run(&[
        "report",
        "--quiet",
        dir.path().to_str().expect("utf-8 path"),
    ]);
    assert!(output.status.success());
    let markdown = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        markdown.contains("| **13:59:00** | **Change, 1 min 1 s before impact** | **web01 (config reload): systemd: Reloading nginx.service.** |"),
        "{markdown}"
    );
    assert!(markdown.contains("(×5)"), "{markdown}");
    assert!(
        markdown.contains("Changes, alerts and events around the start"),
        "{markdown}"
    );
}

#[test]
fn alert_patterns_are_user_alerts_and_bad_ones_a_usage_error() {
    let dir = scratch();
    write(dir.path(), "access.log", &access_log());
    let line = format!(
        "{} ops01 pd-bridge[7]: PagerDuty incident 42 triggered for shop\n",
        syslog_time(local(122, 0))
    );
    write(dir.path(), "pager.log", &line);
    let path = dir.path().to_str().expect("utf-8 path");
    let without = json_report(&[path]);
    assert_eq!(without["incidents"][0]["detected"]["source"], "rule");
    let with = json_report(&["--alert-pattern", "PagerDuty.*triggered", path]);
    let detected = &with["incidents"][0]["detected"];
    assert_eq!(detected["source"], "log");
    assert_eq!(millis(detected["at"].as_str().expect("at")), local(122, 0));
    let bad = run(&["report", "--alert-pattern", "(unclosed", path]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--alert-pattern '(unclosed'"));
}

#[test]
fn metrics_alone_give_incidents_with_unknown_impact() {
    let dir = scratch();
    let mut text = String::from("timestamp;latency_ms\n");
    for minute in 0..240i64 {
        let at = DateTime::<Utc>::from_timestamp_millis(FIXTURE_START_MS + minute * MINUTE_MS)
            .expect("valid");
        let value = if (150..170).contains(&minute) {
            900.0
        } else {
            120.0 + ((minute * 13) % 9) as f64
        };
        let _ = writeln!(text, "{};{value}", at.format("%Y-%m-%dT%H:%M:%SZ"));
    }
    write(dir.path(), "latency.csv", &text);
    let report = json_report(&[dir.path().to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];
    assert_eq!(
        millis(incident["start"].as_str().expect("start")),
        FIXTURE_START_MS + 150 * MINUTE_MS
    );
    assert_eq!(
        millis(incident["end"].as_str().expect("end")),
        FIXTURE_START_MS + 169 * MINUTE_MS
    );
    for field in [
        "users_active",
        "users_affected",
        "affected_pct",
        "requests_total",
        "requests_failed",
        "requests_slow",
        "users_missing",
    ] {
        assert!(
            incident["impact"][field].is_null(),
            "{field} is null: {}",
            incident["impact"]
        );
    }
    assert_eq!(incident["signals"][0]["kind"], "metric");
    assert_eq!(incident["signals"][0]["name"], "latency_ms");
    assert_eq!(incident["signals"][0]["peak"], 900.0);
    let markdown = String::from_utf8(
        run(&[
            "report",
            "--quiet",
            dir.path().to_str().expect("utf-8 path"),
        ])
        .stdout,
    )
    .expect("utf-8");
    assert!(
        markdown.contains("users and requests hit are unknown"),
        "{markdown}"
    );
}

#[test]
fn syslog_alone_is_read_and_reports_no_incident() {
    let dir = scratch();
    let log = write(dir.path(), "syslog", &syslog_fixture().text);
    let report = json_report(&[
        "--year",
        "2024",
        "--tz",
        "+01:00",
        log.to_str().expect("utf-8"),
    ]);
    let input = &report["inputs"][0];
    assert_eq!(input["kind"], "syslog");
    assert_eq!(
        (input["parsed"].as_u64(), input["skipped"].as_u64()),
        (Some(10), Some(0))
    );
    assert_eq!(millis(input["first"].as_str().expect("first")), local(5, 0));
    assert_eq!(millis(input["last"].as_str().expect("last")), local(155, 0));
    assert_eq!(report["incidents"], serde_json::json!([]));
}

#[test]
fn error_logs_and_other_syslog_layouts_are_recognised() {
    let dir = scratch();
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        (
            "nginx-error.log",
            "2024/03/05 14:00:03 [error] 1234#1234: *5678 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9, server: shop, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.0.2:8080/\"\n",
            "error_log",
            "nginx-error",
            "2024-03-05T13:00:03Z",
        ),
        (
            "apache-error_log",
            "[Tue Mar 05 14:00:03.123456 2024] [core:error] [pid 1234] [client 1.2.3.4:5678] AH00124: Request exceeded the limit of 10 internal redirects\n",
            "error_log",
            "apache-error",
            "2024-03-05T13:00:03.123Z",
        ),
        (
            "rfc5424.log",
            "<165>1 2024-03-05T13:00:03.003Z web01 app 42 ID47 [exampleSDID@32473 iut=\"3\"] deployed v2\n",
            "syslog",
            "syslog-rfc5424",
            "2024-03-05T13:00:03.003Z",
        ),
        (
            "rsyslog.log",
            "2024-03-05T14:00:03.123456+01:00 web01 kernel: eth0: Link is Down\n",
            "syslog",
            "syslog-rfc3339",
            "2024-03-05T13:00:03.123Z",
        ),
        (
            "journal.txt",
            "-- Logs begin at Tue 2024-03-05 10:00:00 CET, end at Tue 2024-03-05 15:00:00 CET. --\n2024-03-05T14:00:03+0100 web01 systemd[1]: Stopped nginx.service.\n-- Reboot --\n",
            "syslog",
            "journal-short-iso",
            "2024-03-05T13:00:03Z",
        ),
    ];
    for (name, text, kind, format, first) in cases {
        let path = write(dir.path(), name, text);
        let report = json_report(&["--tz", "+01:00", path.to_str().expect("utf-8")]);
        let input = &report["inputs"][0];
        assert_eq!(
            (input["kind"].as_str(), input["format"].as_str()),
            (Some(kind), Some(format)),
            "{name}: {input}"
        );
        assert_eq!(input["skipped"], 0, "{name}: {input}");
        assert_eq!(input["first"], first, "{name}: {input}");
    }
}

/// Fields of a CSV line, quotes removed (`""` inside quotes is a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("field").push('"');
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(String::new()),
            _ => fields.last_mut().expect("field").push(c),
        }
    }
    fields
}

/// Checks every line of a loghub syslog against its ground truth; returns
/// the LineIds where host, program, pid or content differ.
fn loghub_mismatches(
    root: &Path,
    name: &str,
    columns: (usize, usize, usize, usize),
) -> (usize, BTreeSet<u64>, BTreeSet<u64>) {
    let log = std::fs::read(root.join(format!("loghub/{name}/{name}_2k.log"))).expect("log");
    let truth =
        std::fs::read_to_string(root.join(format!("loghub/{name}/{name}_2k.log_structured.csv")))
            .expect("truth");
    let parsed = parse_syslog_text(&log, 2005, &Zone::Fixed(0));
    let (host_col, program_col, pid_col, content_col) = columns;
    let mut mismatched = BTreeSet::new();
    let mut spaced_tags = BTreeSet::new();
    for (row, line) in truth.lines().skip(1).enumerate() {
        let fields = csv_fields(line);
        let id = row as u64 + 1;
        if fields[program_col].contains(' ') {
            spaced_tags.insert(id);
        }
        let Some(got) = parsed.iter().find(|p| p.line == id) else {
            mismatched.insert(id);
            continue;
        };
        let expected = (
            Some(fields[host_col].clone()),
            Some(fields[program_col].clone()),
            (!fields[pid_col].is_empty()).then(|| fields[pid_col].clone()),
            fields[content_col].trim().to_string(),
        );
        if (
            got.host.clone(),
            got.program.clone(),
            got.pid.clone(),
            got.message.clone(),
        ) != expected
        {
            mismatched.insert(id);
        }
    }
    (parsed.len(), mismatched, spaced_tags)
}

#[test]
fn loghub_syslogs_parse_fully_and_match_their_ground_truth() {
    let Some(root) = datasets() else { return };
    // Linux: LineId,Month,Date,Time,Level(host),Component,PID,Content.
    // OpenSSH: LineId,Date,Day,Time,Component(host),Pid,Content (program is always sshd).
    for (name, columns) in [("Linux", (4, 5, 6, 7)), ("OpenSSH", (4, usize::MAX, 5, 6))] {
        let path = root.join(format!("loghub/{name}/{name}_2k.log"));
        let report = json_report(&["--year", "2005", path.to_str().expect("utf-8")]);
        let input = &report["inputs"][0];
        assert_eq!(
            (input["kind"].as_str(), input["format"].as_str()),
            (Some("syslog"), Some("syslog-rfc3164")),
            "{name}"
        );
        assert_eq!(
            (
                input["lines"].as_u64(),
                input["parsed"].as_u64(),
                input["skipped"].as_u64()
            ),
            (Some(2000), Some(2000), Some(0)),
            "{name}"
        );
        if name == "Linux" {
            let (parsed, mismatched, spaced) = loghub_mismatches(&root, name, columns);
            assert_eq!(parsed, 2000);
            // rsyslog ends a tag at the first space; loghub keeps `syslogd 1.4.1` and
            // `-- root` whole. Every other line matches field for field.
            assert_eq!(
                mismatched, spaced,
                "Linux lines that differ from the ground truth"
            );
            assert_eq!(spaced.len(), 8);
        }
    }
    // OpenSSH's program is not a column: check host, pid and content, and that it is sshd.
    let log = std::fs::read(root.join("loghub/OpenSSH/OpenSSH_2k.log")).expect("log");
    let truth = std::fs::read_to_string(root.join("loghub/OpenSSH/OpenSSH_2k.log_structured.csv"))
        .expect("truth");
    let parsed = parse_syslog_text(&log, 2005, &Zone::Fixed(0));
    // Lines 30 and 285 are rsyslog's `message repeated 5 times: [...]`: they
    // repeat the line before them, they are not messages of their own.
    assert_eq!(parsed.len(), 1998);
    assert!(parsed.iter().all(|p| p.line != 30 && p.line != 285));
    let truth_rows: Vec<&str> = truth.lines().skip(1).collect();
    for got in &parsed {
        let fields = csv_fields(truth_rows[got.line as usize - 1]);
        assert_eq!(
            got.host.as_deref(),
            Some(fields[4].as_str()),
            "line {}",
            got.line
        );
        assert_eq!(got.program.as_deref(), Some("sshd"), "line {}", got.line);
        assert_eq!(
            got.pid.as_deref(),
            Some(fields[5].as_str()),
            "line {}",
            got.line
        );
        assert_eq!(got.message, fields[6].trim(), "line {}", got.line);
    }
    let first = DateTime::<Utc>::from_timestamp_millis(parsed[0].at).expect("time");
    assert_eq!(first.to_rfc3339(), "2005-12-10T06:55:46+00:00");
}

#[test]
fn loghub_apache_error_log_matches_its_ground_truth() {
    let Some(root) = datasets() else { return };
    let path = root.join("loghub/Apache/Apache_2k.log");
    let report = json_report(&["--tz", "UTC", path.to_str().expect("utf-8")]);
    let input = &report["inputs"][0];
    assert_eq!(
        (input["kind"].as_str(), input["format"].as_str()),
        (Some("error_log"), Some("apache-error"))
    );
    assert_eq!(
        (input["parsed"].as_u64(), input["skipped"].as_u64()),
        (Some(2000), Some(0))
    );
    assert_eq!(input["first"], "2005-12-04T04:47:44Z");
    let log = std::fs::read_to_string(path).expect("log");
    let truth = std::fs::read_to_string(root.join("loghub/Apache/Apache_2k.log_structured.csv"))
        .expect("truth");
    for (line, expected) in log.lines().zip(truth.lines().skip(1)) {
        let fields = csv_fields(expected);
        let Ok(ErrorLine::Record(record)) = errorlog::parse_line(line.trim_end().as_bytes()) else {
            panic!("{line}");
        };
        assert_eq!(String::from_utf8_lossy(record.level), fields[2], "{line}");
        // loghub keeps Apache 2.2's `[client 1.2.3.4]` in the content; we read it as the client.
        let content = fields[3].trim();
        let (client, rest) = match content
            .strip_prefix("[client ")
            .and_then(|c| c.split_once("] "))
        {
            Some((client, rest)) => (Some(client), rest),
            None => (None, content),
        };
        assert_eq!(
            record
                .client
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .as_deref(),
            client,
            "{line}"
        );
        assert_eq!(String::from_utf8_lossy(record.message), rest, "{line}");
    }
}

fn lnav(root: &Path, name: &str) -> std::path::PathBuf {
    root.join("lnav-test").join(name)
}

#[test]
fn lnav_syslog_cases_behave_as_a_person_expects() {
    let Some(root) = datasets() else { return };
    let utc = Zone::Fixed(0);
    let read = |name: &str| std::fs::read(lnav(&root, name)).expect("lnav file");
    let rfc = |at: i64| {
        DateTime::<Utc>::from_timestamp_millis(at)
            .expect("time")
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };

    // December then January: the year moves on.
    let rollover = parse_syslog_text(&read("logfile_syslog.1"), 2006, &utc);
    let times: Vec<String> = rollover.iter().map(|p| rfc(p.at)).collect();
    assert_eq!(
        times.first().map(String::as_str),
        Some("2006-12-03T09:23:38")
    );
    assert_eq!(
        times.last().map(String::as_str),
        Some("2007-01-03T09:47:02")
    );
    let report = json_report(&[
        "--year",
        "2006",
        lnav(&root, "logfile_syslog.1").to_str().expect("utf-8"),
    ]);
    assert_eq!(report["inputs"][0]["last"], "2007-01-03T09:47:02Z");

    // DST ends at 02:00 on 3 Nov 2013 in Los Angeles: after 01:59 PDT the
    // clock shows 01:24 again, which is PST. The file is in order.
    let la = Zone::parse("America/Los_Angeles").expect("zone");
    let dst = parse_syslog_text(&read("logfile_dst.0"), 2013, &la);
    assert_eq!(dst.len(), 10);
    assert!(
        dst.windows(2).all(|w| w[0].at <= w[1].at),
        "instants keep the file's order: {:?}",
        dst.iter().map(|p| rfc(p.at)).collect::<Vec<_>>()
    );
    assert_eq!(rfc(dst[4].at), "2013-11-03T08:59:14", "01:59:14 PDT");
    assert_eq!(
        rfc(dst[5].at),
        "2013-11-03T09:24:56",
        "01:24:56 PST, after the clock went back"
    );

    // French month names parse: août is August.
    let french = parse_syslog_text(&read("logfile_syslog_fr.0"), 2015, &utc);
    assert_eq!(french.len(), 1);
    assert_eq!(rfc(french[0].at), "2015-08-19T11:08:37");
    assert_eq!(
        (
            french[0].host.as_deref(),
            french[0].program.as_deref(),
            french[0].pid.as_deref(),
            french[0].message.as_str()
        ),
        (Some("nlaptop"), Some("symphorien"), Some("4961"), "test")
    );

    // Header lines are skipped and reported; the syslog lines are read.
    let report = json_report(&[
        "--year",
        "2015",
        lnav(&root, "logfile_syslog_with_header.0")
            .to_str()
            .expect("utf-8"),
    ]);
    let input = &report["inputs"][0];
    assert_eq!(
        (
            input["kind"].as_str(),
            input["parsed"].as_u64(),
            input["skipped"].as_u64()
        ),
        (Some("syslog"), Some(4), Some(2))
    );
    let skipped_lines: Vec<u64> = input["skipped_examples"]
        .as_array()
        .expect("examples")
        .iter()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(skipped_lines, vec![1, 2]);

    // Times that go back within a day are kept as written, not a new year.
    let mixed = parse_syslog_text(&read("logfile_syslog_with_mixed_times.0"), 2015, &utc);
    assert_eq!(mixed.len(), 13);
    assert!(
        mixed.iter().all(|p| rfc(p.at).starts_with("2015-09-13T")),
        "no year rollover"
    );
    assert_eq!(rfc(mixed[5].at), "2015-09-13T01:25:39");
    assert_eq!(mixed[1].host.as_deref(), Some("Tim-Stacks-iMac.local"));

    // Tab-indented lines continue the message before them.
    let multi = parse_syslog_text(&read("logfile_syslog.3"), 2015, &utc);
    assert_eq!(multi.len(), 7);
    assert!(
        multi[2].message.starts_with(
            "Configuration Notice: ASL Module \"com.apple.cdscheduler\" claims selected messages."
        ),
        "{}",
        multi[2].message
    );

    // RFC 5424 headers without <PRI>1, with Z and +03:00 zones.
    let zones = parse_syslog_text(&read("logfile_with_zones.0"), 2015, &utc);
    let got: Vec<(String, Option<String>)> = zones
        .iter()
        .map(|p| (rfc(p.at), p.program.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2022-08-27T14:22:01".to_string(), Some("NSX".to_string())),
            ("2022-08-27T14:22:01".to_string(), Some("CRON".to_string())),
            ("2022-08-27T14:22:01".to_string(), Some("NSX".to_string())),
        ]
    );
    assert_eq!(
        zones[1].at % 1000,
        694,
        "+03:00 with microseconds: 14:22:01.694Z"
    );

    // `--- last message repeated 2 times ---` is understood, not skipped.
    let report = json_report(&[
        "--year",
        "2015",
        lnav(&root, "logfile_syslog_with_access_log.0")
            .to_str()
            .expect("utf-8"),
    ]);
    assert_eq!(
        (
            report["inputs"][0]["parsed"].as_u64(),
            report["inputs"][0]["skipped"].as_u64()
        ),
        (Some(5), Some(0))
    );

    // The line without a tag in lnav's "bad" syslog still parses, rsyslog-style.
    let bad = parse_syslog_text(&read("logfile_bad_syslog.0"), 2015, &utc);
    assert_eq!(
        (bad[2].program.as_deref(), bad[2].message.as_str()),
        (Some("lookup"), "for opt failed")
    );
}

/// rsyslog `.parse1` cases skipped, and why.
const RSYSLOG_SKIPPED: &[(&str, &str)] = &[
    (
        "upcase-date.parse1",
        "rsyslog reads the year written after the time as the host and then an empty tag before two spaces; we read the same host but the next word as the tag",
    ),
    (
        "malformed1.parse1",
        "its expected tag contains commas, so the expected CSV line cannot be split; we only check it parses",
    ),
];

fn severity_name(severity: u8) -> &'static str {
    [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ][severity as usize]
}

#[test]
fn rsyslog_parser_cases_give_the_expected_host_tag_and_message() {
    let Some(root) = datasets() else { return };
    let folder = root.join("rsyslog-parser-tests/parse1");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut checked = 0;
    for name in names {
        let text = std::fs::read_to_string(folder.join(&name)).expect("case");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        if let Some((_, why)) = RSYSLOG_SKIPPED.iter().find(|(skip, _)| *skip == name) {
            let input = lines[0].replace("\\011", "\t");
            assert!(
                syslog::parse_line(input.as_bytes()).is_ok(),
                "{name} ({why})"
            );
            continue;
        }
        for pair in lines.chunks(2) {
            let [input, expected] = pair else { continue };
            // The harness writes tabs as `\011` and ends some snare lines with a
            // line-continuation backslash that is not part of the message.
            let input = input.replace("\\011", "\t");
            let input = input.strip_suffix('\\').unwrap_or(&input).to_string();
            let expected = expected.replace("#011", "\t");
            let fields: Vec<&str> = expected.splitn(8, ',').collect();
            let [
                _pri,
                _facility,
                severity,
                timestamp,
                host,
                program,
                tag,
                message,
            ] = fields[..]
            else {
                panic!("{name}: {expected}");
            };
            let Ok(SyslogLine::Record(record)) = syslog::parse_line(input.as_bytes()) else {
                panic!("{name}: {input}");
            };
            let context = format!("{name}: {input}");
            if input.starts_with('<') {
                assert_eq!(
                    record.priority.map(|p| severity_name(p.severity)),
                    Some(severity),
                    "{context}"
                );
            }
            let got_host = record.host.map(|h| String::from_utf8_lossy(h).into_owned());
            let expected_host = (host != "~H").then(|| host.to_string());
            assert_eq!(got_host, expected_host, "{context}");
            let got_program = record
                .program
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            if program.is_empty() && !tag.is_empty() {
                // RFC 5424: rsyslog leaves programname empty and puts APP-NAME[PROCID] in the tag.
                let pid = record
                    .pid
                    .map(|p| format!("[{}]", String::from_utf8_lossy(p)))
                    .unwrap_or_default();
                assert_eq!(format!("{got_program}{pid}"), tag, "{context}");
            } else {
                assert_eq!(got_program, program, "{context}");
            }
            assert_eq!(
                String::from_utf8_lossy(record.message),
                message.trim(),
                "{context}"
            );
            let written_in_utc = match record.stamp {
                Stamp::Absolute(_) => input.contains("Z ") || input.ends_with('Z'),
                Stamp::Local(_) | Stamp::NoYear(_) => true,
            };
            if written_in_utc
                && let Some(at) = parse_syslog_text(input.as_bytes(), 2010, &Zone::Fixed(0))
                    .first()
                    .map(|p| p.at)
            {
                let shown = DateTime::<Utc>::from_timestamp_millis(at)
                    .expect("time")
                    .format("%b %e %H:%M:%S")
                    .to_string();
                assert_eq!(shown, timestamp, "{context}");
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 47,
        "every input/expected pair of the cases not skipped"
    );
}

#[test]
fn every_dataset_csv_loads_with_its_time_column_and_row_count() {
    let Some(root) = datasets() else { return };
    let mut files = Vec::new();
    for folder in ["nab/data", "microsoft-cloud-monitoring/data"] {
        collect_csvs(&root.join(folder), &mut files);
    }
    files.sort();
    assert_eq!(files.len(), 118);
    for path in &files {
        let bytes = std::fs::read(path).expect("csv");
        let text = String::from_utf8_lossy(&bytes);
        let rows = text.lines().filter(|l| !l.trim().is_empty()).count() - 1;
        let head: Vec<&[u8]> = text.lines().take(50).map(str::as_bytes).collect();
        let dialect =
            metrics_csv::sniff(&head).unwrap_or_else(|| panic!("{}: sniffed", path.display()));
        let loaded = metrics_csv::load(&bytes, dialect)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected_time = if path.to_string_lossy().contains("microsoft") {
            "TimeStamp"
        } else {
            "timestamp"
        };
        assert_eq!(loaded.time_column, expected_time, "{}", path.display());
        assert_eq!(
            (loaded.rows, loaded.parsed, loaded.skipped),
            (rows as u64, rows as u64, 0),
            "{}",
            path.display()
        );
        assert!(!loaded.series.is_empty(), "{}", path.display());
    }
    // Row counts from the datasets README, as named cases.
    let named = [
        ("nab/data/realKnownCause/nyc_taxi.csv", 10_320),
        (
            "nab/data/realKnownCause/machine_temperature_system_failure.csv",
            22_695,
        ),
        (
            "microsoft-cloud-monitoring/data/application-crash-rate-1/app1-01.csv",
            358,
        ),
        (
            "microsoft-cloud-monitoring/data/data-ingress-rate/ingress-03.csv",
            15_840,
        ),
    ];
    for (file, rows) in named {
        let path = root.join(file);
        let report = json_report(&[path.to_str().expect("utf-8")]);
        let input = &report["inputs"][0];
        assert_eq!(input["kind"], "metrics", "{file}");
        assert_eq!(input["parsed"], rows, "{file}");
        assert_eq!(input["skipped"], 0, "{file}");
    }
}

fn collect_csvs(folder: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_csvs(&path, files);
        } else if path.extension().is_some_and(|e| e == "csv") {
            files.push(path);
        }
    }
}

#[test]
fn odd_evidence_inputs_are_reported_never_fatal() {
    let dir = scratch();
    write(dir.path(), "access.log", &access_log());
    let mut binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    binary.extend_from_slice(b"\nNov 12 14:00:03 \xff\xfe host\n");
    std::fs::write(dir.path().join("binary.bin"), &binary).expect("write");
    let cases: [(&str, String); 5] = [
        ("crlf-syslog", "Mar  5 14:01:00 web01 kernel: Out of memory: Killed process 1 (x)\r\nMar  5 14:01:01 web01 kernel: eth0 NIC Link is Down\r\n".to_string()),
        ("ragged.csv", "time,a,b\n2024-03-05T13:00:00Z,1\n2024-03-05T13:01:00Z,1,2,3\n2024-03-05T13:02:00Z,1,2\n".to_string()),
        ("words.csv", "name,colour\nalice,red\nbob,blue\n".to_string()),
        ("huge-line.log", format!("Mar  5 14:01:00 web01 app: {}\n", "x".repeat(3 << 20))),
        ("continuation-first", "\tindented before anything\nMar  5 14:01:00 web01 app: ok\n".to_string()),
    ];
    for (name, text) in &cases {
        write(dir.path(), name, text);
    }
    let report = json_report(&[dir.path().to_str().expect("utf-8 path")]);
    let inputs = report["inputs"].as_array().expect("inputs");
    let by_name = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is listed"))
    };
    assert_eq!(by_name("binary.bin")["kind"], "unknown");
    assert_eq!(by_name("crlf-syslog")["parsed"], 2);
    assert_eq!(by_name("words.csv")["kind"], "unknown");
    assert!(
        by_name("words.csv")["note"]
            .as_str()
            .is_some_and(|n| n.contains("no time column"))
    );
    assert_eq!(by_name("huge-line.log")["kind"], "syslog");
    let continuation = by_name("continuation-first");
    assert_eq!(
        (
            continuation["parsed"].as_u64(),
            continuation["skipped"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        continuation["skipped_examples"][0]["reason"],
        "continuation line before any message"
    );
    let ragged = by_name("ragged.csv");
    assert!(
        ragged["kind"] == "metrics" || ragged["note"].is_string(),
        "{ragged}"
    );
    let events = timeline_entries(&report["incidents"][0], "event");
    assert!(
        events.iter().any(|e| e["text"]
            .as_str()
            .is_some_and(|t| t.contains("NIC Link is Down"))),
        "CRLF lines are read: {events:#?}"
    );
}

#[test]
fn rsyslog_fuzz_seeds_parse_or_are_refused_with_a_reason() {
    let Some(root) = datasets() else { return };
    type Expected = Result<(&'static str, &'static str, &'static str), &'static str>;
    let cases: [(&str, Expected); 7] = [
        (
            "rfc3164-basic",
            Ok((
                "syslog-rfc3164",
                "su",
                "'su root' failed for lonvick on /dev/pts/8",
            )),
        ),
        (
            "rfc3164-no-pri",
            Ok(("syslog-rfc3164", "app", "legacy message without PRI")),
        ),
        (
            "rfc3164-rfc3339",
            Ok(("syslog-rfc3339", "daemon", "timestamp variant")),
        ),
        (
            "rfc3164-short",
            Err("expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339"),
        ),
        (
            "rfc5424-basic",
            Ok((
                "syslog-rfc5424",
                "evntslog",
                "An application event log entry",
            )),
        ),
        (
            "rfc5424-escaped-sd",
            Ok(("syslog-rfc5424", "app", "payload")),
        ),
        (
            "rfc5424-nil",
            Err("expected an RFC 5424 timestamp (a nil '-' time cannot be placed)"),
        ),
    ];
    for (name, expected) in cases {
        let text =
            std::fs::read(root.join("rsyslog-parser-tests/fuzz-corpus").join(name)).expect("seed");
        let line = text.strip_suffix(b"\n").unwrap_or(&text);
        let got = match syslog::parse_line(line) {
            Ok(SyslogLine::Record(r)) => Ok((
                r.layout.name(),
                String::from_utf8_lossy(r.program.unwrap_or_default()).into_owned(),
                String::from_utf8_lossy(r.message).into_owned(),
            )),
            Ok(other) => panic!("{name}: {other:?}"),
            Err(e) => Err(e.reason),
        };
        let expected = expected.map(|(l, p, m)| (l, p.to_string(), m.to_string()));
        assert_eq!(got, expected, "{name}");
    }
}
