//! Malformed input as it comes after an outage: empty and garbage files,
//! invalid UTF-8 and NUL bytes, huge lines and lines over the cap, CRLF, a
//! cut-off last line, truncated and corrupt gzip, unreadable entries and
//! unrecognised files in a folder, clocks that jump back, a DST fall-back in
//! RFC 3164 syslog, two zones in one folder, damaged syslog and error logs,
//! a metrics CSV without a numeric column. Each case asserts the exact
//! counts the report gives (lines, parsed, skipped, the first skipped line
//! and its reason) and that the good part is still analysed as if it were
//! alone.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use postmortem::ingest::evidence::UNRECOGNISED_REASON;
use postmortem::ingest::reader::{CUT_LINE_REASON, MAX_LINE_BYTES, OVERLONG_LINE_REASON};

use super::handmade::{LOG_START_MS, nginx_log, one_incident, requests};
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

/// Found by fuzzing: numbers too large to be times. A 90-digit time and a
/// request time of 10^100 s are skipped with their reasons, instead of a
/// first or last request beyond any date the report can write.
#[test]
fn times_beyond_the_years_0000_to_9999_are_skipped() {
    let json = |minute: u32, time: &str, request_time: &str| {
        format!(
            r#"{{"time_iso8601":"{time}","remote_addr":"10.0.0.{minute}","request":"GET / HTTP/1.1","status":200,"request_time":{request_time}}}"#
        )
    };
    let huge = format!("1{}.5", "0".repeat(100));
    let ninety_digits = "5".repeat(90);
    let text = [
        json(0, "2023-11-12T14:00:00+00:00", "0.1"),
        json(1, "2023-11-12T14:01:00+00:00", &huge),
        json(2, &ninety_digits, "0.1"),
        json(3, "2023-11-12T14:03:00+00:00", "0.3"),
        String::new(),
    ]
    .join("\n");
    let dir = scratch();
    let path = dir.path().join("access.json.log");
    std::fs::write(&path, text).expect("write test log");
    let (report, warnings) = report_and_warnings(&[path_str(&path)]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "nginx-json");
    assert_counts(
        "times beyond 0000-9999",
        input,
        &Counts {
            lines: 4,
            parsed: 2,
            skipped: 2,
            first_skipped: Some((
                2,
                "expected a request time that does not reach back before the year 0000",
            )),
        },
    );
    assert_eq!(input["first"], "2023-11-12T13:59:59.900Z");
    assert_eq!(input["last"], "2023-11-12T14:02:59.700Z");
    assert_eq!(
        input["skipped_examples"][1]["reason"],
        "expected the JSON time field to hold a time (ISO 8601, CLF, or a number since the epoch up to the year 9999)"
    );
    assert!(warnings.contains("skipped 2 of 4 lines"), "{warnings}");
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
    // Several inputs that fail alike are named once, with their number.
    let alike = scratch();
    // (different lengths: identical files would be read once, as copies)
    for (name, len) in [("a.log", 10_000), ("b.log", 10_001), ("c.log", 10_002)] {
        std::fs::write(alike.path().join(name), binary_junk(len)).expect("write");
    }
    let output = postmortem()
        .args(["report", path_str(alike.path())])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a.log and 2 more like it: not a recognised log"),
        "{stderr}"
    );
    assert!(!stderr.contains("b.log"), "named once: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
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
    // Cut after the size field: the half line reads as a whole `common`
    // request, but the damage cut it, so it is not one.
    let (bytes, flushed) = gzip_with_flushed_tail(
        200,
        br#"10.0.0.9 - - [12/Nov/2023:14:05:00 +0000] "GET / HTTP/1.1" 200 1"#,
    );
    let cut_after_a_field = dir.path().join("cut-after-a-field.log.gz");
    std::fs::write(&cut_after_a_field, &bytes[..flushed]).expect("write");
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
                first_skipped: Some((501, CUT_LINE_REASON)),
            },
            "reading stopped after line 501",
            499,
        ),
        (
            "truncated where the half line would parse",
            &cut_after_a_field,
            Counts {
                lines: 201,
                parsed: 200,
                skipped: 1,
                first_skipped: Some((201, CUT_LINE_REASON)),
            },
            "reading stopped after line 201",
            199,
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
            // The first member's last line is `line(300 + 1)`.
            301,
        ),
    ];
    for (name, path, expected, error, last_second) in cases {
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
        assert_eq!(
            millis(input["last"].as_str().expect("last")),
            1_699_797_600_000 + last_second * 1000,
            "{name}: the last request is the last whole line"
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
    // The FIFO is not a regular file: listed with the reason, never opened
    // (reading it would wait for a writer forever).
    assert_eq!(
        summary,
        [
            ("access.log", Some(3), false),
            ("b.log", Some(0), true),
            ("c.log", Some(0), true)
        ]
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
    let fifo_error = inputs[2]["error"].as_str().expect("error");
    let expected = "cannot be read: a named pipe (FIFO), not a regular file: never opened inside a folder (reading it could wait forever); name it on the command line to read it; the rest was analysed";
    assert_eq!(fifo_error, expected);
    assert_eq!(inputs[2]["lines"], 0, "never opened, so no line read");
    assert!(
        warnings.contains(&format!("c.log: {expected}")),
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

/// Writes `parts` to `path`, repeating each `(bytes, times)` so that a line
/// over the cap is written a mebibyte at a time, never held whole.
fn write_in_chunks(path: &Path, parts: &[(&[u8], usize)]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    for (bytes, times) in parts {
        for _ in 0..*times {
            file.write_all(bytes).expect("write");
        }
    }
    file.flush().expect("flush");
}

#[test]
fn a_line_over_the_cap_is_one_skipped_line_and_the_rest_is_read() {
    // A line a little over the cap, written a mebibyte at a time.
    let mebibyte = vec![b'x'; 1 << 20];
    let whole_mebibytes = MAX_LINE_BYTES >> 20;
    let over = [(&mebibyte[..], whole_mebibytes), (&b"tail"[..], 1)];
    let access_lines = |range: std::ops::Range<i64>| -> Vec<u8> {
        range
            .map(|s| line(s) + "\n")
            .collect::<String>()
            .into_bytes()
    };
    let syslog_lines = |range: std::ops::Range<i64>| -> Vec<u8> {
        range
            .map(|s| format!("Nov 12 14:00:{s:02} web01 app[1]: message {s}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let dir = scratch();
    let (head, tail) = (access_lines(0..3), access_lines(3..5));
    let plain = dir.path().join("plain.log");
    write_in_chunks(
        &plain,
        &[(&head[..], 1), over[0], over[1], (b"\n", 1), (&tail[..], 1)],
    );
    let at_end = dir.path().join("at-end.log");
    write_in_chunks(&at_end, &[(&head[..], 1), over[0], over[1]]);
    // The same as gzip: read through the streaming reader, not positionally.
    let gzipped = dir.path().join("gzipped.log.gz");
    {
        let file = std::fs::File::create(&gzipped).expect("create");
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        encoder.write_all(&head).expect("gzip");
        for _ in 0..whole_mebibytes {
            encoder.write_all(&mebibyte).expect("gzip");
        }
        encoder.write_all(b"tail\n").expect("gzip");
        encoder.write_all(&tail).expect("gzip");
        encoder.finish().expect("gzip");
    }
    let (syslog_head, syslog_tail) = (syslog_lines(0..3), syslog_lines(3..5));
    let csv_head = b"time,load\n2023-11-12T14:00:00Z,1\n2023-11-12T14:00:01Z,2\n";
    let csv_tail = b"2023-11-12T14:00:03Z,4\n2023-11-12T14:00:04Z,5\n";
    let csv = dir.path().join("metrics.csv");
    write_in_chunks(
        &csv,
        &[(csv_head, 1), over[0], over[1], (b"\n", 1), (csv_tail, 1)],
    );
    let syslog = dir.path().join("syslog");
    write_in_chunks(
        &syslog,
        &[
            (&syslog_head[..], 1),
            over[0],
            over[1],
            (b"\n", 1),
            (&syslog_tail[..], 1),
        ],
    );
    let cases = [
        ("an access log, read positionally", &plain, "combined", 6, 5),
        (
            "an access log ending in the long line",
            &at_end,
            "combined",
            4,
            3,
        ),
        (
            "a gzip access log, read as a stream",
            &gzipped,
            "combined",
            6,
            5,
        ),
        ("a syslog", &syslog, "syslog-rfc3164", 6, 5),
        // The header is line 1 and neither parsed nor skipped.
        ("a metrics CSV", &csv, "csv-wide", 6, 4),
    ];
    for (name, path, format, lines, parsed) in cases {
        let (report, warnings) =
            report_and_warnings(&["--year", "2023", "--tz", "UTC", path_str(path)]);
        let input = &report["inputs"][0];
        assert_counts(
            name,
            input,
            &Counts {
                lines,
                parsed,
                skipped: 1,
                first_skipped: Some((4, OVERLONG_LINE_REASON)),
            },
        );
        assert_eq!(input["format"], format, "{name}");
        assert_eq!(input["error"], Value::Null, "{name}");
        assert_eq!(input["first"], "2023-11-12T14:00:00Z", "{name}");
        let last_second = if format == "csv-wide" { 4 } else { parsed - 1 };
        assert_eq!(
            input["last"],
            format!("2023-11-12T14:00:{last_second:02}Z"),
            "{name}: the lines after the long one are read"
        );
        assert!(
            warnings.contains(&format!(
                "skipped 1 of {lines} lines (first at line 4: {OVERLONG_LINE_REASON})"
            )),
            "{name}: {warnings}"
        );
    }
}

#[test]
fn unrecognised_inputs_count_every_line_they_hold_as_skipped() {
    let dir = scratch();
    write(
        dir.path(),
        "access.log",
        &format!("{}\n{}\n{}\n", line(0), line(1), line(2)),
    );
    write(
        dir.path(),
        "notes.txt",
        "what we saw during the outage\n\nthe pager went off twice\nnobody knew why\n",
    );
    write(
        dir.path(),
        "words.csv",
        "name,colour\nalice,red\nbob,blue\n",
    );
    std::fs::write(dir.path().join("blob.bin"), binary_junk(10_000)).expect("write");
    let (report, warnings) = report_and_warnings(&[path_str(dir.path())]);
    let inputs = report["inputs"].as_array().expect("inputs");
    let by_name = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is listed: {inputs:?}"))
    };
    let cases = [
        (
            "prose with a blank line",
            "notes.txt",
            4,
            "not a recognised log: expected an access log",
        ),
        (
            "a CSV without a time column",
            "words.csv",
            3,
            "not a recognised log: looks like a CSV but no time column",
        ),
        (
            "binary junk without a newline",
            "blob.bin",
            1,
            "not a recognised log: expected an access log",
        ),
    ];
    for (name, file, lines, note) in cases {
        let input = by_name(file);
        assert_eq!(input["kind"], "unknown", "{name}");
        assert_counts(
            name,
            input,
            &Counts {
                lines,
                parsed: 0,
                skipped: lines,
                first_skipped: Some((1, UNRECOGNISED_REASON)),
            },
        );
        let examples = input["skipped_examples"].as_array().expect("examples");
        assert_eq!(
            examples.len(),
            1,
            "{name}: one example, the reason is the same"
        );
        assert!(
            input["note"].as_str().is_some_and(|n| n.starts_with(note)),
            "{name}: {input}"
        );
        assert!(
            warnings.contains(&format!("{file}: {lines} lines skipped, {note}")),
            "{name}: {warnings}"
        );
    }
    let access = by_name("access.log");
    assert_counts(
        "the access log next to them",
        access,
        &Counts {
            lines: 3,
            parsed: 3,
            skipped: 0,
            first_skipped: None,
        },
    );
}

/// Milliseconds of an RFC 3339 time.
fn at(text: &str) -> i64 {
    millis(text)
}

#[test]
fn a_dst_fall_back_in_rfc3164_syslog_places_each_pass_at_its_own_offset() {
    // Europe/Berlin falls back on 2023-10-29 at 03:00 CEST (01:00Z) to 02:00
    // CET: the wall clock shows 02:00-02:59 twice, first at +02:00
    // (00:00-00:59Z), then at +01:00 (01:00-01:59Z). RFC 3164 writes no
    // offset, so the file's order tells the passes apart: a line whose time
    // is before an earlier line's lies in the second pass.
    let incident_start = at("2023-10-29T01:05:00Z");
    let shift = incident_start - (LOG_START_MS + 120 * 60_000);
    let mut access_requests = requests(240, &one_incident());
    for request in &mut access_requests {
        request.arrival_ms += shift;
    }
    let mut syslog: Vec<u8> = Vec::new();
    for part in [
        &b"Oct 29 01:50:00 web01 cron[7]: nightly batch begins\n"[..],
        b"Oct 29 02:20:00 web01 systemd[1]: Reloading nginx.service.\n",
        &binary_junk(200),
        b"\n",
        b"Oct 29 02:59:59 web01 cron[7]: checkpoint\n",
        b"Oct 29 02:10:00 web01 kernel: Out of memory: Killed process 12 (java)\n",
        b"\0\0\0\0\0\0\n",
        b"Oct 29 02:40:00 web01 kernel: eth0 NIC Link is Down\n",
        b"\xff\xfe\xfd garbage\n",
        b"Oct 29 03:01:00 web01 cron[7]: nightly batch ends\n",
    ] {
        syslog.extend_from_slice(part);
    }
    let dir = scratch();
    let access = write(dir.path(), "access.log", &nginx_log(&access_requests));
    let syslog_path = dir.path().join("syslog");
    std::fs::write(&syslog_path, &syslog).expect("write");
    let zone = ["--year", "2023", "--tz", "Europe/Berlin"];
    let (alone, _) =
        report_and_warnings(&[&zone[..], &["--quiet", path_str(&access)][..]].concat());
    let (report, warnings) = report_and_warnings(
        &[&zone[..], &[path_str(&access), path_str(&syslog_path)][..]].concat(),
    );
    let input = &report["inputs"][1];
    assert_eq!(input["format"], "syslog-rfc3164");
    assert_counts(
        "syslog across the fall-back",
        input,
        &Counts {
            lines: 9,
            parsed: 6,
            skipped: 3,
            first_skipped: Some((
                3,
                "expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339",
            )),
        },
    );
    assert!(
        warnings.contains("syslog: skipped 3 of 9 lines (first at line 3: "),
        "{warnings}"
    );
    // 01:50 CEST, before the fold; 03:01 CET, after it.
    assert_eq!(
        millis(input["first"].as_str().expect("first")),
        at("2023-10-28T23:50:00Z")
    );
    assert_eq!(
        millis(input["last"].as_str().expect("last")),
        at("2023-10-29T02:01:00Z")
    );

    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    for field in ["start", "end", "impact", "severity"] {
        assert_eq!(
            incidents[0][field], alone["incidents"][0][field],
            "{field}: the syslog does not move the incident"
        );
    }
    let placed: Vec<(String, i64)> = incidents[0]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "change" || e["kind"] == "event")
        .map(|e| {
            (
                e["kind"].as_str().expect("kind").to_string(),
                millis(e["at"].as_str().expect("at")),
            )
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            // 02:20 in the first pass: +02:00.
            ("change".to_string(), at("2023-10-29T00:20:00Z")),
            // 02:10 and 02:40 after 02:59:59: the second pass, +01:00.
            ("event".to_string(), at("2023-10-29T01:10:00Z")),
            ("event".to_string(), at("2023-10-29T01:40:00Z")),
        ],
        "{:#?}",
        incidents[0]["timeline"]
    );
}

#[test]
fn a_metrics_csv_without_a_numeric_column_is_named_and_the_rest_analysed() {
    let dir = scratch();
    let access = write(
        dir.path(),
        "access.log",
        &nginx_log(&requests(240, &one_incident())),
    );
    let mut csv = String::from("time,host,state\n");
    for minute in 0..10 {
        csv += &format!("2024-05-07T10:{minute:02}:00Z,web01,ok\n");
    }
    write(dir.path(), "metrics.csv", &csv);
    let (alone, _) = report_and_warnings(&["--quiet", path_str(&access)]);
    let (report, _) = report_and_warnings(&["--quiet", path_str(dir.path())]);
    let inputs = report["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    let metrics = &inputs[1];
    assert!(
        metrics["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("metrics.csv")),
        "{metrics}"
    );
    assert_eq!(metrics["kind"], "metrics");
    assert_eq!(metrics["format"], "csv-wide");
    // The header and ten rows; every row's time was read.
    assert_counts(
        "no numeric column",
        metrics,
        &Counts {
            lines: 11,
            parsed: 10,
            skipped: 0,
            first_skipped: None,
        },
    );
    assert_eq!(
        metrics["note"],
        "no numeric column besides the time column 'time' ('host', 'state' hold text, row numbers or labels, not measurements): nothing to chart; the rest of the run is analysed without it"
    );
    assert_eq!(
        inputs[0], alone["inputs"][0],
        "the access log reads as alone"
    );
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1);
    for field in ["start", "end", "impact", "severity", "detected"] {
        assert_eq!(incidents[0][field], alone["incidents"][0][field], "{field}");
    }
    assert!(
        incidents[0]["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .all(|signal| signal["kind"] != "metric"),
        "{:#?}",
        incidents[0]["signals"]
    );
}

#[test]
fn damaged_syslog_and_error_logs_count_garbage_nul_and_invalid_utf8_lines() {
    type Layout = fn(u8, &[u8]) -> Vec<u8>;
    let cases: [(&str, &str, Layout, &str, &str); 7] = [
        (
            "RFC 3164",
            "syslog-rfc3164",
            |s, m| [format!("Nov 12 14:00:0{s} web01 app[1]: ").as_bytes(), m].concat(),
            "2023-11-12T14:00:00Z",
            "expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339",
        ),
        (
            "RFC 5424",
            "syslog-rfc5424",
            |s, m| {
                [
                    format!("<14>1 2023-11-12T14:00:0{s}.000Z web01 app 1 - - ").as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T14:00:00Z",
            "expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339",
        ),
        (
            "rsyslog RFC 3339",
            "syslog-rfc3339",
            |s, m| {
                [
                    format!("2023-11-12T14:00:0{s}.250000+01:00 web01 app[1]: ").as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T13:00:00.250Z",
            "expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339",
        ),
        (
            "journalctl short-iso",
            "journal-short-iso",
            |s, m| {
                [
                    format!("2023-11-12T14:00:0{s}+0100 web01 app[1]: ").as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T13:00:00Z",
            "expected a syslog timestamp like 'Nov 12 14:00:03' or RFC 3339",
        ),
        (
            "nginx error log",
            "nginx-error",
            |s, m| {
                [
                    format!("2023/11/12 14:00:0{s} [error] 12#12: *1 ").as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T14:00:00Z",
            "expected an error-log timestamp like '2023/11/12 14:00:03' (nginx) or '[Sun Nov 12 14:00:03 2023]' (Apache)",
        ),
        (
            "Apache 2.4 error log",
            "apache-error",
            |s, m| {
                [
                    format!("[Sun Nov 12 14:00:0{s}.123456 2023] [core:error] [pid 12] ")
                        .as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T14:00:00.123Z",
            "expected an error-log timestamp like '2023/11/12 14:00:03' (nginx) or '[Sun Nov 12 14:00:03 2023]' (Apache)",
        ),
        (
            "Apache 2.2 error log",
            "apache-error",
            |s, m| {
                [
                    format!("[Sun Nov 12 14:00:0{s} 2023] [error] ").as_bytes(),
                    m,
                ]
                .concat()
            },
            "2023-11-12T14:00:00Z",
            "expected an error-log timestamp like '2023/11/12 14:00:03' (nginx) or '[Sun Nov 12 14:00:03 2023]' (Apache)",
        ),
    ];
    let dir = scratch();
    for (index, (name, format, layout, first, reason)) in cases.into_iter().enumerate() {
        let mut text = Vec::new();
        for line in [
            layout(0, b"worker started"),
            layout(
                1,
                b"caf\xe9 \xff\xfe: invalid UTF-8 inside a message is kept",
            ),
            binary_junk(300),
            vec![0; 16],
            layout(2, b"middle"),
            b"\xff\xfe\xfd\xfc".to_vec(),
            layout(4, b"worker stopped"),
        ] {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        let path = dir.path().join(format!("evidence{index}.log"));
        std::fs::write(&path, &text).expect("write");
        let (report, warnings) =
            report_and_warnings(&["--year", "2023", "--tz", "UTC", path_str(&path)]);
        let input = &report["inputs"][0];
        assert_eq!(input["format"], format, "{name}");
        assert_counts(
            name,
            input,
            &Counts {
                lines: 7,
                parsed: 4,
                skipped: 3,
                first_skipped: Some((3, reason)),
            },
        );
        let skipped_lines: Vec<u64> = input["skipped_examples"]
            .as_array()
            .expect("examples")
            .iter()
            .map(|e| e["line"].as_u64().expect("line"))
            .collect();
        assert_eq!(skipped_lines, [3, 4, 6], "{name}");
        assert_eq!(
            millis(input["first"].as_str().expect("first")),
            millis(first),
            "{name}"
        );
        assert_eq!(
            millis(input["last"].as_str().expect("last")) - millis(first),
            4_000,
            "{name}: the last line after the junk is read"
        );
        assert!(
            warnings.contains(&format!("skipped 3 of 7 lines (first at line 3: {reason})")),
            "{name}: {warnings}"
        );
    }
}

#[test]
fn a_cut_gzip_syslog_reports_the_damage_and_skips_the_cut_line() {
    // Small enough that the damage is met while the first chunk is read,
    // before the input is known not to be an access log.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for second in 0..300 {
        writeln!(
            encoder,
            "Nov 12 14:{:02}:{:02} web01 app[1]: message {second}",
            second / 60,
            second % 60
        )
        .expect("gzip");
    }
    encoder
        .write_all(b"Nov 12 14:05:00 web01 app[1]: half a li")
        .expect("gzip");
    encoder.flush().expect("sync flush");
    let flushed = encoder.get_ref().len();
    let dir = scratch();
    let path = dir.path().join("syslog.gz");
    std::fs::write(&path, &encoder.get_ref()[..flushed]).expect("write");
    let (report, warnings) =
        report_and_warnings(&["--year", "2023", "--tz", "UTC", path_str(&path)]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "syslog-rfc3164");
    assert_eq!(input["compressed"], true);
    assert_counts(
        "cut gzip syslog",
        input,
        &Counts {
            lines: 301,
            parsed: 300,
            skipped: 1,
            first_skipped: Some((301, CUT_LINE_REASON)),
        },
    );
    let error = input["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("reading stopped after line 301: "),
        "{error}"
    );
    assert!(
        warnings.contains("syslog.gz: reading stopped after line 301"),
        "{warnings}"
    );
    assert_eq!(input["last"], "2023-11-12T14:04:59Z");
}

/// (name, good lines, cut line, format, envelope, reason of the cut line)
type DamageCase = (
    &'static str,
    Vec<String>,
    String,
    &'static str,
    Option<&'static str>,
    &'static str,
);

/// Damaged lines of the proxy, cloud and container formats: three good
/// requests, a line cut short, binary junk. The good ones are counted, the
/// damage skipped with the format's own reason (the first named).
#[test]
fn damaged_lines_of_proxy_cloud_and_container_formats_are_named() {
    let envoy = |second: u32| {
        format!(
            r#"[2024-01-15T10:00:0{second}.123Z] "GET /api HTTP/1.1" 503 UF,URX 0 91 12 - "203.0.113.9" "curl/8" "id-1" "api" "10.0.3.7:8080""#
        )
    };
    let caddy = |second: u32| {
        format!(
            r#"{{"level":"info","ts":170531280{second}.5,"logger":"http.log.access","request":{{"remote_ip":"10.0.0.1","uri":"/"}},"duration":0.01,"status":200}}"#
        )
    };
    let docker = |line: &str| {
        format!(
            "{{\"log\":{},\"stream\":\"stdout\",\"time\":\"2024-01-15T10:00:00Z\"}}",
            Value::from(format!("{line}\n"))
        )
    };
    let junk = String::from_utf8_lossy(&binary_junk(300)).into_owned();
    let cases: Vec<DamageCase> = vec![
        (
            "Envoy text",
            (1..=3).map(envoy).collect(),
            envoy(4)[..60].to_string(),
            "envoy",
            None,
            "line ended early: expected response code, flags, byte counts, duration and five quoted fields after the request",
        ),
        (
            "Envoy behind CRI",
            (1..=3)
                .map(|s| format!("2024-01-15T10:00:0{s}Z stdout F {}", envoy(s)))
                .collect(),
            format!("2024-01-15T10:00:04Z stdout F {}", &envoy(4)[..60]),
            "envoy",
            Some("container"),
            "line ended early: expected response code, flags, byte counts, duration and five quoted fields after the request",
        ),
        (
            "Envoy in Docker's wrapper",
            (1..=3).map(|s| docker(&envoy(s))).collect(),
            docker(&envoy(4))[..50].to_string(),
            "envoy",
            Some("docker-json"),
            "expected the Docker \"log\" string to end on its line",
        ),
        (
            "Caddy JSON behind compose",
            (1..=3).map(|s| format!("caddy  | {}", caddy(s))).collect(),
            format!("caddy  | {}", &caddy(4)[..40]),
            "caddy-json",
            Some("container"),
            "unterminated JSON string",
        ),
    ];
    let dir = scratch();
    for (index, (name, good, cut, format, envelope, reason)) in cases.into_iter().enumerate() {
        let text = format!("{}\n{cut}\n{junk}\n", good.join("\n"));
        let path = write(dir.path(), &format!("proxy{index}.log"), &text);
        let (report, warnings) = report_and_warnings(&[path_str(&path)]);
        let input = &report["inputs"][0];
        assert_counts(
            name,
            input,
            &Counts {
                lines: 5,
                parsed: 3,
                skipped: 2,
                first_skipped: Some((4, reason)),
            },
        );
        assert_eq!(input["format"], format, "{name}");
        assert_eq!(input["envelope"].as_str(), envelope, "{name}");
        assert!(
            warnings.contains("skipped 2 of 5 lines"),
            "{name}: {warnings}"
        );
    }
}

#[test]
fn damaged_load_balancer_lines_are_counted_skipped_and_named() {
    let haproxy = |second: u32| {
        format!(
            r#"Nov 12 14:00:{second:02} lb01 haproxy[7]: 10.0.0.{second}:5123 [12/Nov/2023:14:00:{second:02}.100] www www/app1 0/0/1/12/13 200 512 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#
        )
    };
    let alb = |second: u32| {
        format!(
            r#"http 2023-11-12T14:00:{second:02}.186641Z app/shop/50dc 10.0.0.{second}:2817 10.0.1.5:80 0.000 0.010 0.000 200 200 34 366 "GET http://shop:80/ HTTP/1.1" "curl/8" - -"#
        )
    };
    let iis = |second: u32| {
        format!(
            "2023-11-12 14:00:{second:02} 10.0.0.4 GET / - 443 - 10.0.0.{second} curl/8 - 200 0 0 46"
        )
    };
    let iis_header = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken".to_string();
    let cases: Vec<(&str, Vec<String>, Counts)> = vec![
        (
            "haproxy: a line cut inside the timers, garbage, NUL bytes",
            vec![
                haproxy(1),
                r#"Nov 12 14:00:02 lb01 haproxy[7]: 10.0.0.2:5123 [12/Nov/2023:14:00:02.100] www www/app1 0/0/1/1"#.to_string(),
                haproxy(3),
                "\u{0}\u{0}\u{0}".to_string(),
                haproxy(5),
            ],
            Counts {
                lines: 5,
                parsed: 3,
                skipped: 2,
                first_skipped: Some((
                    2,
                    "expected five timers TR/Tw/Tc/Tr/Ta (HTTP log) or three Tw/Tc/Tt (TCP log)",
                )),
            },
        ),
        (
            "alb: an NLB line is named, a cut line is damage",
            vec![
                alb(1),
                "tls 2.0 2023-11-12T14:00:02 net/nlb/c6e7 g3d4 10.0.0.2:51341 10.0.1.5:443 5 2 98 246 - - - - - - - - - - 2023-11-12T14:00:01".to_string(),
                alb(3),
                r#"http 2023-11-12T14:00:04.186641Z app/shop/50dc 10.0.0.4:2817 10.0.1.5:80 0.000 0.010"#.to_string(),
                alb(5),
            ],
            Counts {
                lines: 5,
                parsed: 3,
                skipped: 2,
                first_skipped: Some((
                    2,
                    "a Network Load Balancer (tls) log line, not an HTTP request: not counted",
                )),
            },
        ),
        (
            "iis: the header line is named, a short line is damage",
            vec![
                iis_header,
                iis(1),
                "2023-11-12 14:00:02 10.0.0.4 GET /".to_string(),
                iis(3),
            ],
            Counts {
                lines: 4,
                parsed: 2,
                skipped: 2,
                first_skipped: Some((
                    1,
                    "a W3C header directive (#Fields, #Version, #Date, #Software): not a request",
                )),
            },
        ),
    ];
    let dir = scratch();
    for (name, lines, counts) in cases {
        let path = write(dir.path(), "lb.log", &(lines.join("\n") + "\n"));
        let (report, _) = report_and_warnings(&[path_str(&path)]);
        assert_counts(name, &report["inputs"][0], &counts);
    }
}
