//! Exit codes and error messages: each names the problem and what to do.

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
