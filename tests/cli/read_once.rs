//! Each line counted once: every way of reaching one file twice (a link, a
//! linked folder, a link back up the tree, a path given twice, a folder and
//! a file in it) and a copy of a file, built in a temporary folder, give
//! the request count of the file read once and a notice naming both paths.

use std::path::Path;

use serde_json::Value;

use super::support::{run, scratch};

/// Requests in the log every case reads.
const REQUESTS: u64 = 240;

/// `REQUESTS` lines of nginx `combined`, one every 15 s from 10:00, every
/// tenth a 503, each from its own address so no two lines are alike.
fn access_log(first_address: u64) -> String {
    (0..REQUESTS)
        .map(|i| {
            let seconds = i * 15;
            let status = if i % 10 == 0 { 503 } else { 200 };
            format!(
                "10.1.{}.{} - - [12/Mar/2024:{:02}:{:02}:{:02} +0000] \"GET /p/{i} HTTP/1.1\" {status} 512 \"-\" \"curl/8\"\n",
                (first_address + i) / 250,
                (first_address + i) % 250,
                10 + seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            )
        })
        .collect()
}

#[cfg(unix)]
fn link(target: &str, at: &Path) {
    std::os::unix::fs::symlink(target, at).expect("symbolic link");
}

/// `report --format json` on `args` (paths relative to `dir`): the report
/// and stderr.
fn report_in(dir: &Path, args: &[&str]) -> (Value, String) {
    let paths: Vec<String> = args
        .iter()
        .map(|a| dir.join(a).display().to_string())
        .collect();
    let mut all = vec!["report", "--format", "json"];
    all.extend(paths.iter().map(String::as_str));
    let output = run(&all);
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    (report, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Requests read over all inputs (parsed lines of the access logs).
fn requests(report: &Value) -> u64 {
    report["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|input| input["parsed"].as_u64().unwrap_or(0))
        .sum()
}

/// Each input left out, as (its path's file name, the file name of the path
/// read instead), relative names so the temporary folder does not matter.
fn left_out(report: &Value, dir: &Path) -> Vec<(String, String)> {
    let relative = |text: &str| {
        Path::new(text)
            .strip_prefix(dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| text.to_string())
    };
    report["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter_map(|input| {
            let read_as = input["duplicate_of"].as_str()?;
            Some((
                relative(input["path"].as_str().expect("path")),
                relative(read_as),
            ))
        })
        .collect()
}

/// How a case builds its folder: the files and links under `d/`.
type Build = fn(&Path);
/// (path left out, path read instead) pairs.
type Pairs = Vec<(&'static str, &'static str)>;

fn one_log(dir: &Path) {
    std::fs::create_dir_all(dir.join("d")).expect("folder");
    std::fs::write(dir.join("d/access.log"), access_log(0)).expect("write");
}

#[cfg(unix)]
#[test]
fn a_file_reached_twice_is_read_once_with_a_notice() {
    // (name, build, arguments, requests, (left out, read as) pairs)
    let cases: Vec<(&str, Build, Vec<&str>, u64, Pairs)> = vec![
        (
            "a link to a file in the same folder",
            |dir| {
                one_log(dir);
                link("access.log", &dir.join("d/current.log"));
            },
            vec!["d"],
            REQUESTS,
            vec![("d/current.log", "d/access.log")],
        ),
        (
            "a copy of a file",
            |dir| {
                one_log(dir);
                std::fs::write(dir.join("d/copy.log"), access_log(0)).expect("write");
            },
            vec!["d"],
            REQUESTS,
            vec![("d/copy.log", "d/access.log")],
        ),
        (
            "the issue's folder: a file, a link to it and a copy",
            |dir| {
                one_log(dir);
                link("access.log", &dir.join("d/current.log"));
                std::fs::write(dir.join("d/copy.log"), access_log(0)).expect("write");
            },
            vec!["d"],
            REQUESTS,
            vec![
                ("d/current.log", "d/access.log"),
                ("d/copy.log", "d/access.log"),
            ],
        ),
        (
            "a linked folder beside the folder it names",
            |dir| {
                std::fs::create_dir_all(dir.join("d/web")).expect("folder");
                std::fs::write(dir.join("d/web/access.log"), access_log(0)).expect("write");
                link("web", &dir.join("d/latest"));
            },
            vec!["d"],
            REQUESTS,
            vec![("d/latest", "d/web")],
        ),
        (
            "a link loop up to the folder's parent (self -> ..)",
            |dir| {
                std::fs::create_dir_all(dir.join("d/sub")).expect("folder");
                std::fs::write(dir.join("d/sub/access.log"), access_log(0)).expect("write");
                link("..", &dir.join("d/sub/self"));
            },
            vec!["d"],
            REQUESTS,
            vec![("d/sub/self", "d")],
        ),
        (
            "a link loop to the folder itself (self -> .)",
            |dir| {
                one_log(dir);
                link(".", &dir.join("d/self"));
            },
            vec!["d"],
            REQUESTS,
            vec![("d/self", "d")],
        ),
        (
            "a path given twice",
            one_log,
            vec!["d/access.log", "d/access.log"],
            REQUESTS,
            vec![("d/access.log", "d/access.log")],
        ),
        (
            "a file, then the folder that holds it",
            one_log,
            vec!["d/access.log", "d"],
            REQUESTS,
            vec![("d/access.log", "d/access.log")],
        ),
        (
            "a folder, then a link to a file in it",
            |dir| {
                one_log(dir);
                link("d/access.log", &dir.join("current.log"));
            },
            vec!["d", "current.log"],
            REQUESTS,
            vec![("current.log", "d/access.log")],
        ),
        (
            "two different logs are both read",
            |dir| {
                one_log(dir);
                std::fs::write(dir.join("d/other.log"), access_log(REQUESTS)).expect("write");
            },
            vec!["d"],
            2 * REQUESTS,
            vec![],
        ),
    ];
    for (name, build, args, expected_requests, expected_left_out) in cases {
        let scratch = scratch();
        // Canonical, so the paths the report prints start with it.
        let dir = std::fs::canonicalize(scratch.path()).expect("temporary folder");
        build(&dir);
        let (report, stderr) = report_in(&dir, &args);
        assert_eq!(requests(&report), expected_requests, "{name}: requests");
        let expected: Vec<(String, String)> = expected_left_out
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(left_out(&report, &dir), expected, "{name}: left out");
        for (path, read_as) in &expected {
            let notice = stderr.lines().find(|line| {
                line.contains(&format!("{}'", dir.join(path).display()))
                    && line.contains(&format!("'{}'", dir.join(read_as).display()))
            });
            assert!(
                notice.is_some(),
                "{name}: a notice naming {path} and {read_as} in: {stderr}"
            );
        }
    }
}

/// Lines `from..to` of the numbered log: one request a second from 10:00,
/// each from its own address.
fn numbered(from: u64, to: u64) -> String {
    (from..to)
        .map(|i| {
            format!(
                "10.3.{}.{} - - [12/Mar/2024:{:02}:{:02}:{:02} +0000] \"GET /n/{i} HTTP/1.1\" 200 64 \"-\" \"curl/8\"\n",
                i / 250,
                i % 250,
                10 + i / 3600,
                i / 60 % 60,
                i % 60
            )
        })
        .collect()
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).expect("vec");
    encoder.finish().expect("vec")
}

fn zstd(text: &str) -> Vec<u8> {
    zstd::stream::encode_all(text.as_bytes(), 3).expect("vec")
}

#[test]
fn rotations_that_overlap_count_the_shared_lines_once() {
    let same_second_twice =
        "10.9.9.9 - - [12/Mar/2024:10:00:00 +0000] \"GET /twice HTTP/1.1\" 200 1 \"-\" \"x\"\n";
    // (name, files (name, bytes), requests, (file read short, its lines left out, the other file))
    type Files = Vec<(&'static str, Vec<u8>)>;
    type ShortRead = (&'static str, u64, &'static str);
    let cases: Vec<(&str, Files, u64, Option<ShortRead>)> = vec![
        (
            "copytruncate: the older rotation's last 40 lines start the live file",
            vec![
                ("access.log.1", numbered(0, 1_000).into_bytes()),
                ("access.log", numbered(960, 1_500).into_bytes()),
            ],
            1_500,
            Some(("access.log.1", 40, "access.log")),
        ),
        (
            "not yet truncated: the older rotation is wholly the live file's start",
            vec![
                ("access.log.1", numbered(0, 300).into_bytes()),
                ("access.log", numbered(0, 800).into_bytes()),
            ],
            800,
            Some(("access.log.1", 300, "access.log")),
        ),
        (
            "the newer rotation gzipped",
            vec![
                ("access.log.2", numbered(0, 500).into_bytes()),
                ("access.log.1.gz", gzip(&numbered(495, 900))),
            ],
            900,
            Some(("access.log.2", 5, "access.log.1.gz")),
        ),
        (
            "two gzipped rotations: the older one's tail is compared as it is decoded",
            vec![
                ("access.log.2.gz", gzip(&numbered(0, 500))),
                ("access.log.1.gz", gzip(&numbered(490, 900))),
            ],
            900,
            Some(("access.log.2.gz", 10, "access.log.1.gz")),
        ),
        (
            "a zstd rotation before a gzipped one",
            vec![
                ("access.log.3.zst", zstd(&numbered(0, 400))),
                ("access.log.2.gz", gzip(&numbered(395, 700))),
            ],
            700,
            Some(("access.log.3.zst", 5, "access.log.2.gz")),
        ),
        (
            "the older rotation gzipped, the newer plain",
            vec![
                ("access.log.1.gz", gzip(&numbered(0, 300))),
                ("access.log", numbered(297, 600).into_bytes()),
            ],
            600,
            Some(("access.log.1.gz", 3, "access.log")),
        ),
        (
            "a gzipped rotation longer than the window (4.5 MB decoded): only its end is held back",
            vec![
                ("access.log.2.gz", gzip(&numbered(0, 50_000))),
                ("access.log.1.gz", gzip(&numbered(49_990, 50_400))),
            ],
            50_400,
            Some(("access.log.2.gz", 10, "access.log.1.gz")),
        ),
        (
            "two gzipped rotations that do not overlap",
            vec![
                ("access.log.2.gz", gzip(&numbered(0, 500))),
                ("access.log.1.gz", gzip(&numbered(500, 900))),
            ],
            900,
            None,
        ),
        (
            "two equal lines at the boundary are two requests (fewer than 3)",
            vec![
                (
                    "access.log.1",
                    [numbered(0, 100), same_second_twice.repeat(2)]
                        .concat()
                        .into_bytes(),
                ),
                (
                    "access.log",
                    [same_second_twice.repeat(2), numbered(100, 200)]
                        .concat()
                        .into_bytes(),
                ),
            ],
            204,
            None,
        ),
        (
            "rotations of two different logs are never compared",
            vec![
                ("access.log", numbered(0, 100).into_bytes()),
                ("other.log", numbered(50, 150).into_bytes()),
            ],
            200,
            None,
        ),
    ];
    for (name, files, expected_requests, expected_overlap) in cases {
        let scratch = scratch();
        let dir = std::fs::canonicalize(scratch.path()).expect("temporary folder");
        for (file, bytes) in &files {
            std::fs::write(dir.join(file), bytes).expect("write");
        }
        let (report, stderr) = report_in(&dir, &["."]);
        assert_eq!(requests(&report), expected_requests, "{name}: requests");
        let overlaps: Vec<(String, u64, String)> = report["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .filter_map(|input| {
                let with = input["overlap_with"].as_str()?;
                let name_of = |path: &str| {
                    Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                Some((
                    name_of(input["path"].as_str().expect("path")),
                    input["overlap_lines"].as_u64().expect("overlap_lines"),
                    name_of(with),
                ))
            })
            .collect();
        let expected: Vec<(String, u64, String)> = expected_overlap
            .iter()
            .map(|(a, lines, b)| (a.to_string(), *lines, b.to_string()))
            .collect();
        assert_eq!(overlaps, expected, "{name}: overlaps");
        if let Some((file, lines, other)) = expected_overlap {
            assert!(
                stderr.contains(&format!(
                    "{file}: its last {lines} lines are the first lines of '"
                )) && stderr.contains(&format!(
                    "counted once, in '{}'",
                    dir.join(".").join(other).display()
                )),
                "{name}: the warning names both files: {stderr}"
            );
        }
    }
}
