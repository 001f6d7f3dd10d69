//! Exit codes and error messages: each names the problem and what to do;
//! a failed run leaves an existing output untouched; a closed pipe on
//! stdout ends the program quietly.

use super::support::{run, scratch, write};

#[test]
fn errors_name_the_problem_and_exit_as_the_contract_says() {
    let dir = scratch();
    let garbage = write(
        dir.path(),
        "garbage.log",
        "this is not a log\nnor is this\n",
    );
    let garbage = garbage.to_str().expect("utf-8 path");
    let missing = dir.path().join("missing.log");
    let missing = missing.to_str().expect("utf-8 path");
    let cases: [(&str, Vec<&str>, i32, &str); 6] = [
        (
            "nothing parses",
            vec!["report", garbage],
            2,
            "no line of any input could be parsed",
        ),
        ("missing file", vec!["report", missing], 1, "missing.log"),
        (
            "bad bucket",
            vec!["report", "--bucket", "soon", garbage],
            2,
            "--bucket 'soon' is not a duration",
        ),
        (
            "fractional bucket",
            vec!["report", "--bucket", "1.5s", garbage],
            2,
            "whole number of seconds",
        ),
        (
            "unknown preset",
            vec!["report", "--log-format", "fancy", garbage],
            2,
            "--log-format 'fancy' is not a known format",
        ),
        (
            "bad time",
            vec!["report", "--detected-at", "noon", garbage],
            2,
            "--detected-at 'noon' is not a time",
        ),
    ];
    for (name, args, code, message) in cases {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
    }
}

#[test]
fn since_after_until_is_a_usage_error() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        "10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
    );
    let output = run(&[
        "report",
        "--since",
        "2023-11-12T15:00:00Z",
        "--until",
        "2023-11-12T14:00:00Z",
        log.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--since is after --until"));
}

#[test]
fn output_file_is_written_whole() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        "10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
    );
    let target = dir.path().join("report.json");
    let output = run(&[
        "report",
        "--format",
        "json",
        "-o",
        target.to_str().expect("utf-8 path"),
        log.to_str().expect("utf-8 path"),
    ]);
    assert!(output.status.success());
    assert!(
        output.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&target).expect("written")).expect("JSON");
    assert_eq!(report["schema"], "postmortem.report/v1");
    assert_eq!(report["inputs"][0]["parsed"], 1);
    let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
    assert_eq!(leftovers, 2, "no temporary file is left behind");
}

#[test]
fn output_to_a_device_writes_into_it_and_leaves_it_a_device() {
    // Renaming a temporary file over `-o /dev/null` would replace the device
    // with a regular file; a special file is written in place.
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        "10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
    );
    let output = run(&[
        "report",
        "-o",
        "/dev/null",
        log.to_str().expect("utf-8 path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata("/dev/null")
        .expect("/dev/null")
        .file_type();
    assert!(kind.is_char_device(), "/dev/null is still a device");
}

/// One access line at `seconds` after 2023-11-12T14:00:00Z.
fn access_line(seconds: i64) -> String {
    let at = chrono::DateTime::from_timestamp(1_699_797_600 + seconds, 0).expect("valid time");
    format!(
        "10.0.0.1 - - [{} +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
        at.format("%d/%b/%Y:%H:%M:%S")
    )
}

#[test]
fn each_error_is_one_line_naming_the_problem_and_the_next_step() {
    let dir = scratch();
    let log = write(
        dir.path(),
        "access.log",
        &(access_line(0) + &access_line(1)),
    );
    let log = log.to_str().expect("utf-8 path");
    let json = write(
        dir.path(),
        "json.log",
        "{\"time\":\"2023-11-12T14:00:00Z\",\"status\":200,\"remote_addr\":\"10.0.0.1\"}\n",
    );
    let json = json.to_str().expect("utf-8 path");
    let empty_folder = dir.path().join("empty");
    std::fs::create_dir(&empty_folder).expect("folder");
    write(&empty_folder, ".hidden.log", &access_line(0));
    let empty_folder = empty_folder.to_str().expect("utf-8 path");
    let missing = dir.path().join("gone.log");
    let missing = missing.to_str().expect("utf-8 path");
    // (name, arguments, exit code, what the first line of stderr says)
    let cases: [(&str, Vec<&str>, i32, String); 5] = [
        (
            "missing file",
            vec!["report", missing],
            1,
            format!(
                "postmortem: {missing}: no such file or directory: check the path (an input is a file, a directory or - for standard input)"
            ),
        ),
        (
            "folder without logs",
            vec!["report", empty_folder],
            2,
            format!(
                "postmortem: '{empty_folder}' holds no file to read (hidden files and folders are skipped): point postmortem at the folder or the files that hold the logs"
            ),
        ),
        (
            "a format that matches nothing",
            vec!["report", "--log-format", "common", json],
            2,
            format!(
                // JSON is never tried as syslog, error log or CSV: the note
                // says only what was asked for.
                "postmortem: no line of any input could be parsed ({json}: fewer than half of the first lines match the --log-format 'common'); point postmortem at an access log, or give its format with --log-format"
            ),
        ),
        (
            "a template that does not compile",
            vec!["report", "--log-format", "%h %t \"%r\" %>s %{Referer", log],
            2,
            "postmortem: --log-format: '%{' without a closing '}' at column 16: give the log_format / LogFormat definition from the server's configuration, or a preset name (see `postmortem --help`)".to_string(),
        ),
        (
            "--since after --until",
            vec![
                "report",
                "--since",
                "2023-11-12T15:00:00Z",
                "--until",
                "2023-11-12T14:00:00Z",
                log,
            ],
            2,
            "postmortem: --since is after --until: swap them or widen the range".to_string(),
        ),
    ];
    for (name, args, code, first_line) in cases {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{name}: {stderr}");
        assert_eq!(stderr.lines().next(), Some(first_line.as_str()), "{name}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
    }
}

#[test]
fn a_run_that_fails_after_parsing_leaves_existing_outputs_untouched() {
    // An input of which no line parses: a usage error found after every
    // line was read.
    let dir = scratch();
    let unreadable = write(
        dir.path(),
        "notes.txt",
        "not a log line\nnor this one\nnor this\n",
    );
    let log = write(
        dir.path(),
        "access.log",
        &(access_line(0) + &access_line(8 * 24 * 3600)),
    );
    let report = write(dir.path(), "report.md", "the report of yesterday\n");
    let chart = write(dir.path(), "chart.svg", "<svg>yesterday</svg>\n");
    let output = run(&[
        "report",
        "-o",
        report.to_str().expect("utf-8 path"),
        "--chart",
        chart.to_str().expect("utf-8 path"),
        unreadable.to_str().expect("utf-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&report).expect("report"),
        "the report of yesterday\n"
    );
    assert_eq!(
        std::fs::read_to_string(&chart).expect("chart"),
        "<svg>yesterday</svg>\n"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names.len(), 4, "no temporary file is left: {names:?}");

    // The same run on a log that parses replaces both, whole.
    let output = run(&[
        "report",
        "-o",
        report.to_str().expect("utf-8 path"),
        "--chart",
        chart.to_str().expect("utf-8 path"),
        log.to_str().expect("utf-8 path"),
    ]);
    assert!(output.status.success());
    let markdown = std::fs::read_to_string(&report).expect("report");
    assert!(markdown.starts_with("# Postmortem"), "{markdown}");
    let svg = std::fs::read_to_string(&chart).expect("chart");
    assert!(svg.trim_end().ends_with("</svg>"), "the chart is whole");
}

#[test]
fn a_closed_pipe_on_stdout_ends_quietly_with_status_0() {
    // An hour of requests in one-second buckets: over 100 kB of series,
    // more than a pipe holds (64 kB on Linux), so `head` closes it while
    // postmortem is still writing.
    let dir = scratch();
    let text: String = (0..3_600).step_by(5).map(access_line).collect();
    let log = write(dir.path(), "big.log", &text);
    let log = log.to_str().expect("utf-8 path");
    for command in [
        format!(
            "set -o pipefail; '{}' series --bucket 1s '{log}' | head -1",
            env!("CARGO_BIN_EXE_postmortem")
        ),
        format!(
            "set -o pipefail; '{}' report '{log}' | head -1",
            env!("CARGO_BIN_EXE_postmortem")
        ),
    ] {
        let output = std::process::Command::new("bash")
            .args(["-c", &command])
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{command}: {stderr}");
        assert!(stderr.is_empty(), "{command}: no error text: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).lines().count(),
            1,
            "{command}"
        );
    }
}

#[test]
fn a_duration_without_a_unit_is_a_usage_error_that_shows_the_fix() {
    let dir = scratch();
    let log = write(dir.path(), "access.log", &access_line(0));
    let log = log.to_str().expect("utf-8 path");
    let cases = [
        (
            "--slow 2000",
            vec!["report", "--slow", "2000", log],
            "postmortem: --slow 2000 has no unit: did you mean `--slow 2000ms` or `--slow 2000s`? (units: ms, s, m, h, d)\n",
        ),
        (
            "--bucket 60 (series)",
            vec!["series", "--bucket", "60", log],
            "postmortem: --bucket 60 has no unit: did you mean `--bucket 60s` or `--bucket 60m`? (units: ms, s, m, h, d)\n",
        ),
        (
            "--slow 1.5 (inspect)",
            vec!["inspect", "--slow", "1.5", log],
            "postmortem: --slow 1.5 has no unit: did you mean `--slow 1.5ms` or `--slow 1.5s`? (units: ms, s, m, h, d)\n",
        ),
        (
            "an unknown unit",
            vec!["report", "--slow", "2 weeks", log],
            "postmortem: --slow '2 weeks' is not a duration: use e.g. 1s, 500ms or 2.5s (units: ms, s, m, h, d)\n",
        ),
    ];
    for (name, args, expected) in cases {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), expected, "{name}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
    }
    // Each unit the contract names is accepted.
    for bucket in ["30s", "1m", "1h", "1d"] {
        let output = run(&["series", "--quiet", "--bucket", bucket, log]);
        assert_eq!(output.status.code(), Some(0), "--bucket {bucket}");
    }
}

#[test]
fn typos_of_presets_and_commands_get_a_did_you_mean() {
    let dir = scratch();
    let log = write(dir.path(), "access.log", &access_line(0));
    let log = log.to_str().expect("utf-8 path");
    let cases = [
        (
            "preset",
            vec!["report", "--log-format", "combind", log],
            "postmortem: --log-format 'combind' is not a known format: did you mean `combined`? Else use one of ",
        ),
        (
            "subcommand",
            vec!["reprot", log],
            "error: unrecognized subcommand 'reprot'\n\n  tip: a similar subcommand exists: 'report'\n",
        ),
        (
            "shell",
            vec!["completions", "bahs"],
            "error: invalid value 'bahs' for '<SHELL>'\n  [possible values: bash, elvish, fish, powershell, zsh]\n\n  tip: a similar value exists: 'bash'\n",
        ),
    ];
    for (name, args, expected_start) in cases {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.starts_with(expected_start), "{name}: {stderr}");
    }
}

#[test]
fn a_dash_as_output_is_stdout_for_every_command() {
    let dir = scratch();
    write(
        dir.path(),
        "access.log",
        &(access_line(0) + &access_line(60)),
    );
    let cases = [
        (
            "report",
            vec!["report", "--format", "json"],
            "{\n  \"schema\": \"postmortem.report/v1\"",
        ),
        ("inspect", vec!["inspect"], "# Inputs\n"),
        ("series", vec!["series"], "time,requests,failed,"),
    ];
    for (name, args, expected_start) in cases {
        let output = super::support::postmortem()
            .current_dir(dir.path())
            .args(&args)
            .args(["--quiet", "-o", "-", "access.log"])
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{name}");
        assert!(stdout.starts_with(expected_start), "{name}: {stdout}");
        assert!(!dir.path().join("-").exists(), "{name}: no file named '-'");
    }
}

#[test]
fn inspect_prints_its_table_when_nothing_was_read() {
    let dir = scratch();
    write(dir.path(), "notes.txt", "hello\n");
    write(dir.path(), "todo.txt", "buy milk\nfix the logs\n");
    let output = super::support::postmortem()
        .current_dir(dir.path())
        .args(["inspect", "."])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let table: Vec<&str> = stdout.lines().take(5).collect();
    assert_eq!(
        table,
        [
            "# Inputs",
            "",
            "| Input | Kind | Format | Lines | Parsed | Skipped | First (UTC) | Last (UTC) |",
            "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
            "| `./notes.txt` | unknown | - | 1 | 0 | 1 | - | - |",
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains("| `./todo.txt` | unknown | - | 2 | 0 | 2 | - | - |"),
        "{stdout}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "postmortem: no line of any input could be parsed (the table says why, one input a row): point postmortem at an access log, or give its format with --log-format\n"
    );
}
