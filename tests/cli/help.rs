//! Help, version and progress: what a user sees before and around a report.

use super::handmade::{one_incident, write_log};
use super::support::{postmortem, run, scratch};

#[test]
fn help_names_every_option_with_an_example() {
    let long = String::from_utf8(run(&["report", "--help"]).stdout).expect("utf-8");
    let short = String::from_utf8(run(&["report", "-h"]).stdout).expect("utf-8");
    let options = [
        "--format",
        "--output",
        "--chart",
        "--log-format",
        "--tz",
        "--year",
        "--since",
        "--until",
        "--bucket",
        "--slow",
        "--users",
        "--slo",
        "--detected-at",
        "--quiet",
    ];
    for option in options {
        assert!(short.contains(option), "-h lists {option}");
        assert!(long.contains(option), "--help lists {option}");
    }
    assert!(
        long.matches("Example: ").count() >= options.len(),
        "every option's long help has an example:\n{long}"
    );
    assert!(short.len() * 2 < long.len(), "-h is the short form");
    assert!(!short.contains("Example: "), "-h stays one line per option");
    assert!(long.contains("postmortem report -o postmortem.md --chart chart.svg"));

    let top = String::from_utf8(run(&["--help"]).stdout).expect("utf-8");
    for needed in ["report", "inspect", "series", "Examples:", "Exit status"] {
        assert!(top.contains(needed), "top-level help mentions {needed}");
    }
    let series = String::from_utf8(run(&["series", "--help"]).stdout).expect("utf-8");
    assert!(series.contains("RFC 3339 UTC") && series.contains("--format <FORMAT>"));
}

#[test]
fn version_names_the_program_and_its_version() {
    let output = run(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).expect("utf-8"),
        format!("postmortem {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_usage_error_says_what_to_do() {
    let output = run(&["report"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("<INPUT>"), "{stderr}");
    assert!(stderr.contains("--help"), "{stderr}");

    let dir = scratch();
    let missing = dir.path().join("missing.log");
    let output = run(&["report", missing.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing.log: no such file or directory: check the path"),
        "{stderr}"
    );
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = scratch();
    write_log(dir.path(), &one_incident());
    for format in ["markdown", "json"] {
        // No --quiet: the bar is left out only because stderr is a pipe here.
        let output = postmortem()
            .current_dir(dir.path())
            .args(["report", "--format", format, "access.log"])
            .output()
            .expect("the binary runs");
        assert!(output.status.success());
        assert!(
            output.stderr.is_empty(),
            "{format}: nothing on stderr, got {:?}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // A skipped line is still reported without --quiet, and not with it.
    let mut text = std::fs::read_to_string(dir.path().join("access.log")).expect("log");
    text.push_str("this line is not a request\n");
    std::fs::write(dir.path().join("access.log"), text).expect("write");
    let loud = postmortem()
        .current_dir(dir.path())
        .args(["report", "access.log"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&loud.stderr);
    assert!(
        stderr.starts_with("postmortem: access.log: skipped 1 of 4801 lines"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no terminal control codes: {stderr:?}"
    );
    let quiet = postmortem()
        .current_dir(dir.path())
        .args(["report", "--quiet", "access.log"])
        .output()
        .expect("runs");
    assert!(quiet.stderr.is_empty());
}

#[test]
fn completions_are_generated_for_every_shell() {
    // (shell, a line only that shell's script has)
    let cases = [
        (
            "bash",
            "complete -F _postmortem -o nosort -o bashdefault -o default postmortem",
        ),
        ("zsh", "#compdef postmortem"),
        (
            "fish",
            "complete -c postmortem -n \"__fish_postmortem_needs_command\" -f -a \"report\"",
        ),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'postmortem' -ScriptBlock {",
        ),
        (
            "elvish",
            "set edit:completion:arg-completer[postmortem] = {|@words|",
        ),
    ];
    for (shell, line) in cases {
        let output = run(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(output.stdout).expect("utf-8");
        assert!(
            script.lines().any(|l| l.trim().starts_with(line)),
            "{shell}:\n{script}"
        );
        // fish spells a long option `-l slow`, the others `--slow`.
        assert!(
            script.contains("slow"),
            "{shell}: the options are completed"
        );
    }
}

#[test]
fn man_pages_come_from_the_same_definitions_as_help() {
    let cases = [
        (
            None,
            ".TH postmortem 1  \"postmortem ",
            "postmortem\\-report(1)",
        ),
        (
            Some("report"),
            ".TH postmortem-report 1  \"postmortem ",
            "\\fB\\-\\-slow\\fR",
        ),
        (
            Some("series"),
            ".TH postmortem-series 1  \"postmortem ",
            "\\fB\\-\\-bucket\\fR",
        ),
    ];
    for (command, title, needed) in cases {
        let mut args = vec!["man"];
        args.extend(command);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(0), "{command:?}");
        let page = String::from_utf8(output.stdout).expect("utf-8");
        let title_line = page.lines().find(|l| l.starts_with(".TH")).unwrap_or("");
        assert_eq!(
            title_line,
            format!("{title}{}\" ", env!("CARGO_PKG_VERSION")),
            "{command:?}"
        );
        assert!(page.contains(needed), "{command:?}: {needed}\n{page}");
    }
}

#[test]
fn series_warns_about_skipped_lines_as_report_does() {
    let dir = scratch();
    write_log(dir.path(), &one_incident());
    let mut text = std::fs::read_to_string(dir.path().join("access.log")).expect("log");
    text.push_str("this line is not a request\n");
    std::fs::write(dir.path().join("access.log"), text).expect("write");
    let warning = |command: &str| {
        let output = postmortem()
            .current_dir(dir.path())
            .args([command, "access.log"])
            .output()
            .expect("runs");
        assert!(output.status.success(), "{command}");
        String::from_utf8(output.stderr).expect("utf-8")
    };
    let series = warning("series");
    assert_eq!(
        series,
        "postmortem: access.log: skipped 1 of 4801 lines (first at line 4801: expected '[' before the timestamp)\n"
    );
    assert_eq!(series, warning("report"), "the same warning as report");
}
