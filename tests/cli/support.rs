//! Helpers shared by the integration tests: running the binary, parsing its
//! JSON report, and writing small access logs whose ground truth is known.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The binary under test.
pub fn postmortem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_postmortem"))
}

/// Runs `postmortem report --format json ARGS` and returns the parsed report.
pub fn json_report(args: &[&str]) -> Value {
    let output = postmortem()
        .args(["report", "--format", "json", "--quiet"])
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Runs the binary and returns its output, whatever the exit status.
pub fn run(args: &[&str]) -> Output {
    postmortem().args(args).output().expect("the binary runs")
}

/// Runs `postmortem ARGS` with `stdin` on standard input and returns its
/// output, whatever the exit status.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = postmortem()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("the binary ends")
}

/// Milliseconds since the epoch of an RFC 3339 string.
pub fn millis(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
        .timestamp_millis()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the shared datasets are when the clone has no `../shared` beside
/// it (a worktree elsewhere on the machine that holds them).
const SHARED_DATASETS_FALLBACK: &str = "/work/shared/datasets";

/// `../shared/datasets`, else [`SHARED_DATASETS_FALLBACK`], or `None` with a
/// printed notice when both are absent (a user's fresh clone has no
/// `../shared`).
pub fn datasets() -> Option<PathBuf> {
    let beside = repo_root().join("../shared/datasets");
    let found = [beside.clone(), PathBuf::from(SHARED_DATASETS_FALLBACK)]
        .into_iter()
        .find(|path| path.is_dir());
    if found.is_none() {
        println!(
            "skipped: neither {} nor {SHARED_DATASETS_FALLBACK} exists",
            beside.display()
        );
    }
    found
}

/// A directory for a test's files, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test log");
    path
}
