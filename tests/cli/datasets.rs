//! Conformance on real public logs in `../shared/datasets`, read in place.

use postmortem::ingest::sniff;

use super::support::{datasets, json_report, millis, run};

#[test]
fn elastic_apache_log_parses_except_its_one_truncated_line() {
    let Some(root) = datasets() else { return };
    let path = root.join("elastic-examples/apache_logs/apache_logs");
    let report = json_report(&[path.to_str().expect("utf-8 path")]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "combined");
    assert_eq!(input["lines"], 10_000);
    assert_eq!(input["parsed"], 9_999);
    // Line 8899 ends inside the user agent: `...google.com/bot.html` with no closing quote.
    assert_eq!(input["skipped_examples"][0]["line"], 8_899);
    assert_eq!(
        input["skipped_examples"][0]["reason"],
        "unterminated quoted field"
    );
    assert_eq!(input["first"], "2015-05-17T10:05:00Z");
    assert_eq!(input["last"], "2015-05-20T21:05:59Z");
}

/// `postmortem inspect --format json` on the given paths.
fn inspect_json(paths: &[&std::path::Path]) -> serde_json::Value {
    let mut args = vec!["inspect", "--format", "json", "--quiet"];
    args.extend(paths.iter().map(|p| p.to_str().expect("utf-8 path")));
    let output = run(&args);
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn every_valid_line_of_the_real_access_logs_parses_exactly() {
    let Some(root) = datasets() else { return };
    let cases: [(&str, &str, u64, &[u64]); 2] = [
        (
            "elastic apache combined",
            "elastic-examples/apache_logs/apache_logs",
            10_000,
            &[8_899],
        ),
        (
            "lnav shop nginx main",
            "lnav-test/logfile_shop_access_log.0",
            1_000,
            &[],
        ),
    ];
    for (name, path, lines, invalid) in cases {
        let bytes = std::fs::read(root.join(path)).expect("dataset file");
        let all: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(all.len() as u64, lines, "{name}");
        let detection = sniff::detect_access_format(&all[..sniff::SNIFF_LINES])
            .unwrap_or_else(|| panic!("{name}: detected"));
        let not_exact: Vec<u64> = all
            .iter()
            .enumerate()
            .filter(|(_, line)| !matches!(detection.format.parser.parse_exact(line), Ok((_, true))))
            .map(|(index, _)| index as u64 + 1)
            .collect();
        assert_eq!(not_exact, invalid, "{name}");
    }
}

#[test]
fn shop_log_is_nginx_main_with_times_converted_from_plus_0330() {
    let Some(root) = datasets() else { return };
    let path = root.join("lnav-test/logfile_shop_access_log.0");
    let report = inspect_json(&[&path]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "nginx-main");
    assert_eq!(
        (input["lines"].as_u64(), input["parsed"].as_u64()),
        (Some(1_000), Some(1_000))
    );
    assert_eq!(input["skipped"], 0);
    // First line: [22/Jan/2019:03:56:14 +0330].
    assert_eq!(input["first"], "2019-01-22T00:26:14Z");
    assert_eq!(input["fields"]["user_agent"], true);
    assert_eq!(input["fields"]["request_time"], false);

    let bytes = std::fs::read(&path).expect("dataset file");
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let parser = sniff::preset_by_name("nginx-main")
        .expect("preset")
        .parser();
    let cases = [
        // (line number, client, status, UTC time, user agent starts with)
        (
            1,
            "54.36.149.41",
            200,
            "2019-01-22T00:26:14Z",
            "Mozilla/5.0 (compatible; AhrefsBot",
        ),
        (
            2,
            "31.56.96.51",
            200,
            "2019-01-22T00:26:16Z",
            "Mozilla/5.0 (Linux; Android 6.0",
        ),
    ];
    for (number, client, status, time, agent) in cases {
        let record = parser.parse(lines[number - 1]).expect("line parses");
        assert_eq!(record.client, client.as_bytes(), "line {number}");
        assert_eq!(record.status, status, "line {number}");
        assert_eq!(record.logged_at, millis(time), "line {number}");
        assert_eq!(record.offset_seconds, 3 * 3600 + 30 * 60, "line {number}");
        assert!(
            record
                .user_agent
                .is_some_and(|a| a.starts_with(agent.as_bytes())),
            "line {number}"
        );
        assert_eq!(record.forwarded_for, None, "line {number}: '-' is absent");
    }
}

#[test]
fn lnav_access_log_edge_cases_give_what_a_person_expects() {
    let Some(root) = datasets() else { return };
    struct Case {
        file: &'static str,
        format: &'static str,
        lines: u64,
        parsed: u64,
        skipped: &'static [(u64, &'static str)],
        first: &'static str,
        last: &'static str,
        request_time: bool,
        host: bool,
        remote_user: bool,
    }
    let cases = [
        Case {
            file: "logfile_access_log.0",
            format: "combined",
            lines: 3,
            parsed: 3,
            skipped: &[],
            first: "2009-07-20T22:59:26Z",
            last: "2009-07-20T22:59:29Z",
            request_time: false,
            host: false,
            remote_user: false,
        },
        Case {
            file: "logfile_access_log.1",
            format: "combined",
            lines: 1,
            parsed: 1,
            skipped: &[],
            first: "2013-02-15T06:00:31Z",
            last: "2013-02-15T06:00:31Z",
            request_time: false,
            host: false,
            remote_user: false,
        },
        Case {
            file: "logfile_bad_access_log.0",
            format: "combined",
            lines: 3,
            parsed: 2,
            skipped: &[(
                2,
                "expected the ident and user fields ('-' when absent) before the timestamp",
            )],
            first: "2009-07-20T22:59:26Z",
            last: "2009-07-20T22:59:29Z",
            request_time: false,
            host: false,
            remote_user: false,
        },
        Case {
            file: "logfile_regexp_access_log.0",
            format: "vcombined+usec",
            lines: 2,
            parsed: 2,
            skipped: &[],
            // [26/Jul/2023:00:01:26 -0700], Apache's arrival time.
            first: "2023-07-26T07:01:26Z",
            last: "2023-07-26T07:02:12Z",
            request_time: true,
            host: true,
            remote_user: true,
        },
    ];
    for case in cases {
        let report = inspect_json(&[&root.join("lnav-test").join(case.file)]);
        let input = &report["inputs"][0];
        let name = case.file;
        assert_eq!(input["kind"], "access", "{name}");
        assert_eq!(input["format"], case.format, "{name}");
        assert_eq!(input["lines"], case.lines, "{name}");
        assert_eq!(input["parsed"], case.parsed, "{name}");
        assert_eq!(input["skipped"], case.skipped.len() as u64, "{name}");
        for (index, (line, reason)) in case.skipped.iter().enumerate() {
            assert_eq!(input["skipped_examples"][index]["line"], *line, "{name}");
            assert_eq!(
                input["skipped_examples"][index]["reason"], *reason,
                "{name}"
            );
        }
        assert_eq!(input["first"], case.first, "{name}");
        assert_eq!(input["last"], case.last, "{name}");
        assert_eq!(input["fields"]["request_time"], case.request_time, "{name}");
        assert_eq!(input["fields"]["host"], case.host, "{name}");
        assert_eq!(input["fields"]["remote_user"], case.remote_user, "{name}");
    }
}

#[test]
fn lnav_request_time_is_read_in_microseconds() {
    let Some(root) = datasets() else { return };
    let bytes = std::fs::read(root.join("lnav-test/logfile_regexp_access_log.0")).expect("file");
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let parser = sniff::detect_access_format(&lines)
        .expect("detected")
        .format
        .parser;
    let durations: Vec<Option<u64>> = lines
        .iter()
        .map(|l| parser.parse(l).expect("parses").duration_us)
        .collect();
    assert_eq!(durations, [Some(116_075), Some(156_302)]);
}

/// The README's accuracy figures on real metrics, pinned: NAB's
/// `realKnownCause` series, each analysed alone (metric-only incidents),
/// against NAB's labelled windows; and no incident at all on NAB's series
/// without anomalies. `cargo run --release --example nab_accuracy --
/// ../shared/datasets/nab` prints the per-series tables (and those of
/// realAWSCloudwatch, realTraffic and the Microsoft set).
#[test]
fn nab_known_cause_windows_found_and_false_incidents() {
    use postmortem_testbed::evaluate::{Score, score_category};
    let Some(datasets) = datasets() else {
        return;
    };
    let nab = datasets.join("nab");
    let total = |category: &str| {
        let mut total = Score::default();
        for (series, score) in score_category(&nab, category).expect("NAB scores") {
            assert!(score.windows_found <= score.windows, "{series}");
            total.add(&score);
        }
        total
    };
    let cases = [
        (
            "realKnownCause",
            Score {
                windows: 19,
                windows_found: 14,
                incidents: 24,
                false_incidents: 7,
                in_probation: 2,
            },
        ),
        (
            "artificialNoAnomaly",
            Score {
                windows: 0,
                windows_found: 0,
                incidents: 0,
                false_incidents: 0,
                in_probation: 0,
            },
        ),
    ];
    for (category, expected) in cases {
        assert_eq!(total(category), expected, "{category}");
    }
}
