//! Which inputs share a row, and the pattern the row names.

use super::*;

const ALB_FOLDER: &str = "logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/06/11/";
const ALB_PREFIX: &str =
    "123456789012_elasticloadbalancing_eu-west-1_app.shop-prod-alb.50dc6c495c0c9188_";

/// One ALB file: its time and node in the name, `lines` requests from
/// `first` to `last` (ms), `bytes` on disk.
fn alb(name_rest: &str, lines: u64, bytes: u64, first: Millis, last: Millis) -> InputStats {
    let mut input = access(
        &format!("{ALB_FOLDER}{ALB_PREFIX}{name_rest}"),
        Some("aws-alb"),
    );
    input.lines = lines;
    input.parsed = lines;
    input.size_on_disk = Some(bytes);
    input.first = Some(first);
    input.last = Some(last);
    input
}

fn access(path: &str, format: Option<&'static str>) -> InputStats {
    let mut input = InputStats::new(path.to_string());
    input.kind = InputKind::Access;
    input.format = format;
    input.lines = 10;
    input.parsed = 10;
    input.size_on_disk = Some(1000);
    input
}

/// Each row as the test reads it: the path, or `pattern ×files`.
fn described(rows: &[InputRow<'_>]) -> Vec<String> {
    rows.iter()
        .map(|row| match row {
            InputRow::One(input) => input.path.clone(),
            InputRow::Folded(log) => format!("{} ×{}", log.pattern, log.files.len()),
        })
        .collect()
}

fn four_alb_files() -> Vec<InputStats> {
    vec![
        alb(
            "20240611T1205Z_10.0.0.85_mwtbvbrl.log.gz",
            179,
            9_000,
            1_000,
            5_000,
        ),
        alb(
            "20240611T1205Z_10.0.1.134_8tfdkkch.log.gz",
            179,
            9_100,
            1_200,
            4_900,
        ),
        alb(
            "20240611T1210Z_10.0.0.85_umfvhkmd.log.gz",
            211,
            9_900,
            6_000,
            9_000,
        ),
        alb(
            "20240611T1210Z_10.0.1.134_alh92j0n.log.gz",
            182,
            9_200,
            6_100,
            9_500,
        ),
    ]
}

#[test]
fn the_files_of_one_log_share_a_row() {
    let alb_pattern = format!("{ALB_FOLDER}{ALB_PREFIX}*.log.gz ×4");
    let with_skipped = {
        let mut inputs = four_alb_files();
        inputs[1].skipped = 2;
        inputs
    };
    let with_duplicate = {
        let mut inputs = four_alb_files();
        inputs[3].duplicate_of = Some("elsewhere.log.gz".to_string());
        inputs
    };
    let rotations = [
        "access.log",
        "access.log.1",
        "access.log.2.gz",
        "access.log.3.gz",
    ]
    .map(|name| access(&format!("/var/log/nginx/{name}"), Some("combined")));
    let dateext = [
        "access.log-20240609.gz",
        "access.log-20240610.gz",
        "access.log-20240611.gz",
    ]
    .map(|name| access(&format!("nginx/{name}"), Some("combined")));
    let cloudfront = [
        "E2K2LNZ4UA5GV7.2024-06-11-12.a1b2c3d4.gz",
        "E2K2LNZ4UA5GV7.2024-06-11-13.e5f6a7b8.gz",
        "E2K2LNZ4UA5GV7.2024-06-11-14.c9d0e1f2.gz",
    ]
    .map(|name| access(&format!("cf/{name}"), Some("w3c")));
    let hosts = ["web1.log", "web2.log", "web3.log"].map(|name| access(name, Some("combined")));
    let pair = ["access.log", "access.log.1"].map(|name| access(name, Some("combined")));
    let two_folders = [
        "a/access.log",
        "a/access.log.1",
        "b/access.log.2",
        "b/access.log.3",
    ]
    .map(|name| access(name, Some("combined")));
    let two_formats = [
        access("x/app.log.1", Some("combined")),
        access("x/app.log.2", Some("common")),
        access("x/app.log.3", Some("combined")),
    ];
    let syslog_rotations = ["syslog", "syslog.1", "syslog.2.gz"].map(|name| {
        let mut input = access(&format!("var/{name}"), None);
        input.kind = InputKind::Syslog;
        input
    });
    let cases: Vec<(&str, Vec<InputStats>, Vec<String>)> = vec![
        (
            "ALB files of two nodes and two 5-minute slices",
            four_alb_files(),
            vec![alb_pattern],
        ),
        (
            "a file with skipped lines keeps its row, the rest fold where the first was",
            with_skipped.clone(),
            vec![
                format!("{ALB_FOLDER}{ALB_PREFIX}*.log.gz ×3"),
                with_skipped[1].path.clone(),
            ],
        ),
        (
            "a duplicate keeps its row",
            with_duplicate.clone(),
            vec![
                format!("{ALB_FOLDER}{ALB_PREFIX}*.log.gz ×3"),
                with_duplicate[3].path.clone(),
            ],
        ),
        (
            "logrotate's numbered rotations",
            rotations.to_vec(),
            vec!["/var/log/nginx/access.log* ×4".into()],
        ),
        (
            "logrotate's dateext rotations",
            dateext.to_vec(),
            vec!["nginx/access.log* ×3".into()],
        ),
        (
            "CloudFront's hourly files",
            cloudfront.to_vec(),
            vec!["cf/E2K2LNZ4UA5GV7.2024-06-11-*.gz ×3".into()],
        ),
        (
            "syslog rotations",
            syslog_rotations.to_vec(),
            vec!["var/syslog* ×3".into()],
        ),
        (
            "hosts' logs share no first part: each its row",
            hosts.to_vec(),
            vec!["web1.log".into(), "web2.log".into(), "web3.log".into()],
        ),
        (
            "two files stay two rows",
            pair.to_vec(),
            vec!["access.log".into(), "access.log.1".into()],
        ),
        (
            "two folders are two logs",
            two_folders.to_vec(),
            [
                "a/access.log",
                "a/access.log.1",
                "b/access.log.2",
                "b/access.log.3",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "files of another format are another log",
            two_formats.to_vec(),
            ["x/app.log.1", "x/app.log.2", "x/app.log.3"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    for (name, inputs, expected) in cases {
        assert_eq!(described(&fold_inputs(&inputs)), expected, "{name}");
    }
}

#[test]
fn a_folded_row_adds_up_its_files() {
    let inputs = four_alb_files();
    let rows = fold_inputs(&inputs);
    let [InputRow::Folded(log)] = rows.as_slice() else {
        panic!(
            "one folded row expected, got {}",
            described(&rows).join(", ")
        );
    };
    assert_eq!(log.lines(), 179 + 179 + 211 + 182);
    assert_eq!(log.parsed(), 751);
    assert_eq!(log.bytes(), Some(9_000 + 9_100 + 9_900 + 9_200));
    assert_eq!(log.first(), Some(1_000));
    assert_eq!(log.last(), Some(9_500));
    assert_eq!(log.sample().format, Some("aws-alb"));
}

#[test]
fn names_split_into_the_log_and_its_rotation() {
    let cases = [
        ("plain", "access.log", vec!["access", "log"], ".", ""),
        (
            "numbered",
            "access.log.12",
            vec!["access", "log"],
            ".",
            ".12",
        ),
        (
            "numbered and gzipped",
            "access.log.2.gz",
            vec!["access", "log"],
            ".",
            ".2.gz",
        ),
        (
            "dateext",
            "error.log-20240611.zst",
            vec!["error", "log"],
            ".",
            "-20240611.zst",
        ),
        (
            "a number is no rotation when it is all",
            "2024.gz",
            vec!["2024"],
            "",
            ".gz",
        ),
        (
            "AWS keeps its time and node",
            "1_elasticloadbalancing_x_20240611T1205Z_10.0.0.85_ab1.log.gz",
            vec![
                "1",
                "elasticloadbalancing",
                "x",
                "20240611T1205Z",
                "10",
                "0",
                "0",
                "85",
                "ab1",
                "log",
            ],
            "____..._.",
            ".gz",
        ),
    ];
    for (name, file, tokens, separators, tail) in cases {
        let parts = name_parts(file);
        assert_eq!(parts.tokens, tokens, "{name}");
        assert_eq!(parts.separators, separators, "{name}");
        assert_eq!(parts.tail, tail, "{name}");
    }
}
