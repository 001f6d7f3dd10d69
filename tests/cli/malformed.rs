//! Malformed input as it comes after an outage: empty and garbage files,
//! invalid UTF-8 and NUL bytes, huge lines, CRLF, a cut-off last line,
//! truncated and corrupt gzip, unreadable entries in a folder, clocks that
//! jump back, two zones in one folder. Each case asserts the exact counts the
//! report gives (lines, parsed, skipped, the first skipped line and its
//! reason) and that the good part is still analysed as if it were alone.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::handmade::{nginx_log, one_incident, requests};
use super::support::{millis, postmortem, scratch, write};

/// `10.0.0.N - - [12/Nov/2023:14:MM:SS +0000] "GET / HTTP/1.1" 200 1 "-" "ua"`
/// for `seconds` after 14:00:00Z; `combined` without a line ending.
fn line(seconds: i64) -> String {
    let at = chrono::DateTime::from_timestamp(1_699_797_600 + seconds, 0).expect("valid time");
    format!(
        r#"10.0.0.{} - - [{} +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
        seconds % 250,
        at.format("%d/%b/%Y:%H:%M:%S")
    )
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `postmortem report --format json ARGS`: the report (which must be
/// written) and what was said on stderr.
fn report_and_warnings(args: &[&str]) -> (Value, String) {
    let output = postmortem()
        .args(["report", "--format", "json"])
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status.code()
    );
    (
        serde_json::from_slice(&output.stdout).expect("stdout is JSON"),
        stderr,
    )
}

/// What one input's entry must say.
#[derive(Debug)]
struct Counts {
    lines: u64,
    parsed: u64,
    skipped: u64,
    /// Line number and reason of the first skipped line.
    first_skipped: Option<(u64, &'static str)>,
}

fn assert_counts(name: &str, input: &Value, expected: &Counts) {
    let actual = (
        input["lines"].as_u64(),
        input["parsed"].as_u64(),
        input["skipped"].as_u64(),
    );
    assert_eq!(
        actual,
        (
            Some(expected.lines),
            Some(expected.parsed),
            Some(expected.skipped)
        ),
        "{name}: {input}"
    );
    let first = input["skipped_examples"].get(0).map(|example| {
        (
            example["line"].as_u64().expect("line number"),
            example["reason"].as_str().expect("reason").to_string(),
        )
    });
    assert_eq!(
        first,
        expected
            .first_skipped
            .map(|(line, reason)| (line, reason.to_string())),
        "{name}: {input}"
    );
}

/// Bytes that look like what a crashed writer leaves: every byte value but
/// the line feed, in a fixed order.
fn binary_junk(length: usize) -> Vec<u8> {
    (0..length)
        .map(|i| (i * 37 % 256) as u8)
        .map(|b| if b == b'\n' { 0 } else { b })
        .collect()
}

#[test]
fn damaged_lines_are_counted_skipped_and_named() {
    let ten_megabytes = 10 << 20;
    let good = |s| line(s).into_bytes();
    let join = |parts: Vec<Vec<u8>>| parts.join(&b"\n"[..]);
    let cases: Vec<(&str, Vec<u8>, Counts)> = vec![
        (
            "invalid UTF-8 inside quoted fields is kept as bytes",
            join(vec![
                good(0),
                b"10.0.0.7 - - [12/Nov/2023:14:00:01 +0000] \"GET /caf\xe9\xff HTTP/1.1\" 200 1 \"-\" \"agent \xc3\x28\"".to_vec(),
                good(2),
                Vec::new(),
            ]),
            Counts { lines: 3, parsed: 3, skipped: 0, first_skipped: None },
        ),
        (
            "a line of NUL bytes is skipped, a NUL inside a quoted field is kept",
            join(vec![
                good(0),
                vec![0; 64],
                b"10.0.0.8 - - [12/Nov/2023:14:00:02 +0000] \"GET /\0 HTTP/1.1\" 200 1 \"-\" \"u\0a\"".to_vec(),
                good(3),
                Vec::new(),
            ]),
            Counts {
                lines: 4,
                parsed: 3,
                skipped: 1,
                first_skipped: Some((2, "expected a space between fields")),
            },
        ),
        (
            "binary junk from a crashed writer is one skipped line",
            join(vec![good(0), binary_junk(4096), good(2), Vec::new()]),
            Counts {
                lines: 3,
                parsed: 2,
                skipped: 1,
                first_skipped: Some((2, "expected '[' before the timestamp")),
            },
        ),
        (
            "a 10 MB line is skipped and the lines after it are read",
            join(vec![good(0), good(1), vec![b'x'; ten_megabytes], good(3), Vec::new()]),
            Counts {
                lines: 4,
                parsed: 3,
                skipped: 1,
                first_skipped: Some((3, "expected a space between fields")),
            },
        ),
        (
            "a 10 MB user agent is still one request",
            join(vec![
                good(0),
                format!(
                    r#"10.0.0.9 - - [12/Nov/2023:14:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "{}""#,
                    "A".repeat(ten_megabytes)
                )
                .into_bytes(),
                Vec::new(),
            ]),
            Counts { lines: 2, parsed: 2, skipped: 0, first_skipped: None },
        ),
        (
            "CRLF, LF and a blank CRLF line mixed",
            [
                good(0),
                b"\r\n".to_vec(),
                good(1),
                b"\n".to_vec(),
                b"\r\n".to_vec(),
                good(2),
                b"\r\n".to_vec(),
            ]
            .concat(),
            Counts {
                lines: 3 + 1,
                parsed: 3,
                skipped: 1,
                first_skipped: Some((3, "empty line")),
            },
        ),
        (
            "no final newline: the last line counts",
            join(vec![good(0), good(1), good(2)]),
            Counts { lines: 3, parsed: 3, skipped: 0, first_skipped: None },
        ),
        (
            "a last line cut by a full disk is skipped",
            join(vec![
                good(0),
                good(1),
                b"10.0.0.2 - - [12/Nov/2023:14:0".to_vec(),
            ]),
            Counts {
                lines: 3,
                parsed: 2,
                skipped: 1,
                first_skipped: Some((3, "expected ']' after the timestamp")),
            },
        ),
    ];
    let dir = scratch();
    for (index, (name, bytes, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{index}.log"));
        std::fs::write(&path, bytes).expect("write test log");
        let (report, warnings) = report_and_warnings(&[path_str(&path)]);
        let input = &report["inputs"][0];
        assert_counts(name, input, expected);
        assert_eq!(input["format"], "combined", "{name}");
        assert_eq!(input["error"], Value::Null, "{name}");
        match expected.first_skipped {
            Some((line, reason)) => assert!(
                warnings.contains(&format!(
                    "skipped {} of {} lines (first at line {line}: {reason})",
                    expected.skipped, expected.lines
                )),
                "{name}: {warnings}"
            ),
            None => assert!(warnings.is_empty(), "{name}: {warnings}"),
        }
    }
}

#[test]
fn inputs_with_nothing_readable_exit_2_and_say_why() {
    let dir = scratch();
    let empty = write(dir.path(), "empty.log", "");
    let garbage_path = dir.path().join("garbage.log");
    std::fs::write(&garbage_path, binary_junk(10_000)).expect("write");
    let cases = [
        ("empty file", empty.clone(), "empty.log: empty"),
        (
            "only garbage",
            garbage_path,
            "garbage.log: not a recognised log: expected an access log",
        ),
    ];
    for (name, path, message) in cases {
        let output = postmortem()
            .args(["report", path_str(&path)])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: no half report");
    }
    // Next to a readable log, the empty file is listed and the rest analysed.
    write(
        dir.path(),
        "access.log",
        &format!("{}\n{}\n", line(0), line(1)),
    );
    std::fs::remove_file(dir.path().join("garbage.log")).expect("remove");
    let (report, _) = report_and_warnings(&["--quiet", path_str(dir.path())]);
    let inputs = report["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    assert_eq!(
        (inputs[0]["parsed"].as_u64(), inputs[1]["parsed"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(inputs[1]["note"], "empty");
    assert_eq!(inputs[1]["lines"], 0);
}

/// `count` lines one second apart and `tail` as one gzip member, flushed in
/// full (so the decodable bytes of a cut at the flush are known exactly),
/// then one more line; returns the compressed bytes and where the flushed
/// part ends.
fn gzip_with_flushed_tail(count: i64, tail: &[u8]) -> (Vec<u8>, usize) {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for seconds in 0..count {
        writeln!(encoder, "{}", line(seconds)).expect("gzip");
    }
    encoder.write_all(tail).expect("gzip");
    encoder.flush().expect("sync flush");
    let flushed = encoder.get_ref().len();
    writeln!(encoder, "{}", line(count + 1)).expect("gzip");
    (encoder.finish().expect("gzip"), flushed)
}

#[test]
fn damaged_gzip_gives_its_readable_part_and_reports_the_damage() {
    let dir = scratch();
    // Cut right after a sync flush: 500 whole lines and half a line decode.
    let (bytes, flushed) = gzip_with_flushed_tail(500, b"10.0.0.9 - - [12/Nov/2023:14:0");
    let truncated = dir.path().join("truncated.log.gz");
    std::fs::write(&truncated, &bytes[..flushed]).expect("write");
    // A rotated file with a second member whose deflate data is junk (block
    // type 3 does not exist): the first member's 300 + 1 lines are used.
    let mut corrupt_bytes = gzip_with_flushed_tail(300, b"").0;
    let mut second = gzip_with_flushed_tail(10, b"").0;
    let header_length = 10;
    for byte in &mut second[header_length..header_length + 16] {
        *byte = 0xff;
    }
    corrupt_bytes.extend_from_slice(&second);
    let corrupt = dir.path().join("corrupt.log.gz");
    std::fs::write(&corrupt, &corrupt_bytes).expect("write");

    let cases = [
        (
            "truncated mid-stream",
            &truncated,
            Counts {
                lines: 501,
                parsed: 500,
                skipped: 1,
                first_skipped: Some((501, "expected ']' after the timestamp")),
            },
            "reading stopped after line 501",
        ),
        (
            "corrupt second member",
            &corrupt,
            Counts {
                lines: 301,
                parsed: 301,
                skipped: 0,
                first_skipped: None,
            },
            "reading stopped after line 301",
        ),
    ];
    for (name, path, expected, error) in cases {
        let (report, warnings) = report_and_warnings(&[path_str(path)]);
        let input = &report["inputs"][0];
        assert_counts(name, input, &expected);
        assert_eq!(input["compressed"], true, "{name}");
        let reported = input["error"].as_str().unwrap_or_default();
        assert!(reported.starts_with(error), "{name}: {reported}");
        assert!(
            reported.ends_with("the lines before it were used"),
            "{name}: {reported}"
        );
        assert!(
            warnings.contains(&format!("{}: {error}", path_str(path))),
            "{name}: {warnings}"
        );
        assert_eq!(
            millis(input["first"].as_str().expect("first")),
            1_699_797_600_000
        );
    }
}

#[test]
fn unreadable_entries_of_a_folder_are_reported_and_the_rest_analysed() {
    let dir = scratch();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("folder");
    write(
        &logs,
        "access.log",
        &format!("{}\n{}\n{}\n", line(0), line(1), line(2)),
    );
    // Tests run as root, so permissions cannot make a file unreadable: a
    // dangling symlink (a log deleted by rotation) and a FIFO (a writer
    // still attached) stand in for it.
    std::os::unix::fs::symlink(dir.path().join("rotated-away.log"), logs.join("b.log"))
        .expect("symlink");
    let fifo = logs.join("c.log");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    std::fs::create_dir(logs.join("d.log")).expect("a folder named like a log");

    let (report, warnings) = report_and_warnings(&[path_str(&logs)]);
    let inputs = report["inputs"].as_array().expect("inputs");
    let summary: Vec<(&str, Option<u64>, bool)> = inputs
        .iter()
        .map(|i| {
            let path = i["path"].as_str().expect("path");
            let name = path.rsplit('/').next().expect("name");
            (name, i["parsed"].as_u64(), i["error"].is_string())
        })
        .collect();
    // The FIFO is not a regular file: never opened (reading it would wait
    // for a writer forever).
    assert_eq!(
        summary,
        [("access.log", Some(3), false), ("b.log", Some(0), true)]
    );
    let error = inputs[1]["error"].as_str().expect("error");
    let expected = format!(
        "cannot be read: a symbolic link to '{}', which does not exist; the rest was analysed",
        dir.path().join("rotated-away.log").display()
    );
    assert!(error.starts_with(&expected), "{error}");
    assert!(
        warnings.contains(&format!("b.log: {expected}")),
        "{warnings}"
    );
}

#[test]
fn a_clock_that_jumps_back_loses_no_request() {
    // 14:00:00–14:00:59, then the clock is set back ten minutes and the log
    // goes on from 13:50:00 for a minute.
    let mut text = String::new();
    for seconds in 0..60 {
        text += &(line(seconds) + "\n");
    }
    for seconds in -600..-540 {
        text += &(line(seconds) + "\n");
    }
    let dir = scratch();
    let path = write(dir.path(), "access.log", &text);
    let (report, _) = report_and_warnings(&["--quiet", path_str(&path)]);
    let input = &report["inputs"][0];
    assert_counts(
        "clock set back",
        input,
        &Counts {
            lines: 120,
            parsed: 120,
            skipped: 0,
            first_skipped: None,
        },
    );
    assert_eq!(input["first"], "2023-11-12T13:50:00Z");
    assert_eq!(input["last"], "2023-11-12T14:00:59Z");
    let output = postmortem()
        .args(["series", "--quiet", path_str(&path)])
        .output()
        .expect("runs");
    let csv = String::from_utf8(output.stdout).expect("utf-8");
    let requests_column = csv
        .lines()
        .next()
        .expect("header")
        .split(',')
        .position(|c| c == "requests")
        .expect("a requests column");
    let total: u64 = csv
        .lines()
        .skip(1)
        .map(|row| {
            row.split(',')
                .nth(requests_column)
                .expect("cell")
                .parse::<u64>()
                .expect("count")
        })
        .sum();
    assert_eq!(total, 120, "every request is in a bucket:\n{csv}");
}

#[test]
fn logs_of_two_zones_in_one_folder_meet_in_utc() {
    // web01 writes +01:00, web02 -05:00; both log the same UTC seconds.
    let local = |seconds: i64, offset_h: i64| {
        let at = chrono::DateTime::from_timestamp(1_699_797_600 + seconds + offset_h * 3600, 0)
            .expect("valid time");
        format!(
            "10.0.1.{} - - [{} {}{:02}00] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
            seconds % 250,
            at.format("%d/%b/%Y:%H:%M:%S"),
            if offset_h < 0 { '-' } else { '+' },
            offset_h.abs()
        )
    };
    let dir = scratch();
    for (host, offset_h) in [("web01", 1), ("web02", -5)] {
        std::fs::create_dir(dir.path().join(host)).expect("folder");
        let text: String = (0..90).map(|s| local(s, offset_h)).collect();
        write(&dir.path().join(host), "access.log", &text);
    }
    let (report, _) = report_and_warnings(&["--quiet", path_str(dir.path())]);
    let inputs = report["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    for input in inputs {
        assert_eq!(input["parsed"], 90, "{input}");
        assert_eq!(input["first"], "2023-11-12T14:00:00Z", "{input}");
        assert_eq!(input["last"], "2023-11-12T14:01:29Z", "{input}");
    }
}

#[test]
fn junk_around_an_incident_does_not_move_it() {
    // The handmade incident log, clean and with junk every 500 lines, a
    // binary blob, NUL bytes and a cut last line: same incident, same
    // impact, and exactly the junk lines skipped.
    let clean = nginx_log(&requests(240, &one_incident()));
    let mut damaged = Vec::new();
    let mut junk_lines = 0;
    for (index, text) in clean.lines().enumerate() {
        if index % 500 == 250 {
            damaged.extend_from_slice(&binary_junk(300));
            damaged.push(b'\n');
            damaged.extend_from_slice(b"\0\0\0\0\n");
            junk_lines += 2;
        }
        damaged.extend_from_slice(text.as_bytes());
        damaged.push(b'\n');
    }
    damaged.extend_from_slice(b"10.0.0.1 - - [07/May/2024:14:00");
    junk_lines += 1;
    let dir = scratch();
    let clean_path = write(dir.path(), "clean.log", &clean);
    let damaged_path = dir.path().join("damaged.log");
    std::fs::write(&damaged_path, &damaged).expect("write");

    let (clean_report, _) = report_and_warnings(&["--quiet", path_str(&clean_path)]);
    let (damaged_report, _) = report_and_warnings(&["--quiet", path_str(&damaged_path)]);
    let request_count = clean.lines().count() as u64;
    let input = &damaged_report["inputs"][0];
    assert_eq!(input["lines"].as_u64(), Some(request_count + junk_lines));
    assert_eq!(input["parsed"].as_u64(), Some(request_count));
    assert_eq!(input["skipped"].as_u64(), Some(junk_lines));
    assert_eq!(input["skipped_examples"][0]["line"], 251);
    let incidents = damaged_report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["start"], "2024-05-07T11:00:02.998Z");
    for field in ["start", "end", "impact", "severity", "detected"] {
        assert_eq!(
            incidents[0][field], clean_report["incidents"][0][field],
            "{field}"
        );
    }
}
