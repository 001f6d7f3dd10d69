//! Access-log formats as a user meets them: every preset detected with no
//! flag, `--log-format` given verbatim from a server's configuration, files
//! that mix formats, CRLF, rotated and compressed files of several hosts in
//! one folder, and the upstream that most bad requests went to.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::support::{json_report, millis, run, scratch, write};

/// 2023-11-12T14:00:03Z.
const T0_MS: i64 = 1_699_797_603_000;

/// `postmortem inspect --format json ARGS`, which must succeed.
fn inspect(args: &[&str]) -> Value {
    let output = run(&[&["inspect", "--format", "json", "--quiet"], args].concat());
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `12/Nov/2023:15:00:03 +0100` for `T0 + seconds` written at `offset_h`.
fn clf(seconds: i64, offset_h: i64) -> String {
    let local = chrono::DateTime::from_timestamp(T0_MS / 1000 + seconds + offset_h * 3600, 0)
        .expect("valid time");
    format!(
        "{} {}{:02}00",
        local.format("%d/%b/%Y:%H:%M:%S"),
        if offset_h < 0 { '-' } else { '+' },
        offset_h.abs()
    )
}

/// `2023-11-12T15:00:03+01:00` for `T0 + seconds` at `offset_h`.
fn iso(seconds: i64, offset_h: i64) -> String {
    let local = chrono::DateTime::from_timestamp(T0_MS / 1000 + seconds + offset_h * 3600, 0)
        .expect("valid time");
    format!(
        "{}{}{:02}:00",
        local.format("%Y-%m-%dT%H:%M:%S"),
        if offset_h < 0 { '-' } else { '+' },
        offset_h.abs()
    )
}

/// Three lines of a format, one second apart; `line(i)` writes line `i`.
fn three(line: impl Fn(i64) -> String) -> String {
    (0..3).map(|i| line(i) + "\n").collect()
}

#[test]
fn every_preset_is_detected_from_content_alone() {
    struct Case {
        name: &'static str,
        text: String,
        format: &'static str,
        /// Arrival of the first line, UTC.
        first: &'static str,
    }
    let core = |i: i64| {
        format!(
            r#"10.0.0.{i} - - [{}] "GET /{i} HTTP/1.1" 200 512"#,
            clf(i, 1)
        )
    };
    let cases = [
        Case {
            name: "NCSA common",
            text: three(core),
            format: "common",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "combined",
            text: three(|i| format!(r#"{} "-" "curl/8""#, core(i))),
            format: "combined",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "vcombined with port",
            text: three(|i| format!(r#"shop.example:443 {} "-" "curl/8""#, core(i))),
            format: "vcombined",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "vcombined without port",
            text: three(|i| format!(r#"shop.example {} "-" "curl/8""#, core(i))),
            format: "vcombined",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "nginx main",
            text: three(|i| format!(r#"{} "-" "curl/8" "203.0.113.{i}""#, core(i))),
            format: "nginx-main",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "nginx request time, subtracted from the completion",
            text: three(|i| format!(r#"{} "-" "curl/8" 0.250"#, core(i))),
            format: "combined+request_time",
            first: "2023-11-12T14:00:02.750Z",
        },
        Case {
            name: "nginx main with request time",
            text: three(|i| format!(r#"{} "-" "curl/8" "-" 1.500"#, core(i))),
            format: "nginx-main+request_time",
            first: "2023-11-12T14:00:01.500Z",
        },
        Case {
            name: "apache %D",
            text: three(|i| format!(r#"{} "-" "curl/8" {}"#, core(i), 20_000 + i * 7_000)),
            format: "combined+usec",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "apache %T",
            text: three(|i| format!(r#"{} "-" "curl/8" {}"#, core(i), i % 2)),
            format: "combined+sec",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "common with request time",
            text: three(|i| format!("{} 0.004", core(i))),
            format: "common+request_time",
            first: "2023-11-12T14:00:02.996Z",
        },
        Case {
            name: "ingress-nginx",
            text: three(|i| {
                format!(
                    r#"{} "-" "kube-probe/1.28" 211 0.010 [default-web-80] [] 10.244.0.{i}:8080 512 0.010 200 5d3f0b6c9e{i}"#,
                    core(i)
                )
            }),
            format: "ingress-nginx",
            first: "2023-11-12T14:00:02.990Z",
        },
        Case {
            name: "nginx escape=json",
            text: three(|i| {
                format!(
                    r#"{{"time_iso8601":"{}","remote_addr":"10.0.0.{i}","request":"GET / HTTP/1.1","status":"200","request_time":"0.100","http_user_agent":"curl/8"}}"#,
                    iso(i, 1)
                )
            }),
            format: "nginx-json",
            first: "2023-11-12T14:00:02.900Z",
        },
        Case {
            name: "caddy",
            text: three(|i| {
                format!(
                    r#"{{"level":"info","ts":{}.5,"logger":"http.log.access","msg":"handled request","request":{{"remote_ip":"10.0.0.{i}","client_ip":"10.0.0.{i}","proto":"HTTP/2.0","method":"GET","host":"shop.example","uri":"/","headers":{{"User-Agent":["curl/8"]}}}},"duration":0.5,"size":5,"status":200}}"#,
                    T0_MS / 1000 + i
                )
            }),
            format: "caddy-json",
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "traefik",
            text: three(|i| {
                format!(
                    r#"{{"ClientHost":"10.0.0.{i}","DownstreamStatus":200,"Duration":40000000,"RequestMethod":"GET","RequestPath":"/","ServiceAddr":"10.42.0.{i}:80","StartLocal":"{}","StartUTC":"{}","request_User-Agent":"curl/8"}}"#,
                    iso(i, 1),
                    iso(i, 0).replace("+00:00", "Z")
                )
            }),
            format: "traefik-json",
            first: "2023-11-12T14:00:03Z",
        },
    ];
    let dir = scratch();
    for (index, case) in cases.iter().enumerate() {
        let log = write(dir.path(), &format!("case{index}.log"), &case.text);
        let report = inspect(&[path_str(&log)]);
        let input = &report["inputs"][0];
        assert_eq!(input["format"], case.format, "{}", case.name);
        assert_eq!(
            (input["lines"].as_u64(), input["parsed"].as_u64()),
            (Some(3), Some(3)),
            "{}",
            case.name
        );
        assert_eq!(input["first"], case.first, "{}", case.name);
    }
}

#[test]
fn log_format_takes_definitions_as_written_in_the_configuration() {
    let dir = scratch();
    let combined = write(
        dir.path(),
        "combined.log",
        &three(|i| {
            format!(
                r#"10.0.0.{i} - - [{}] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
                clf(i, 0)
            )
        }),
    );
    let main = write(
        dir.path(),
        "main.log",
        &three(|i| {
            format!(
                r#"10.0.0.{i} - - [{}] "GET / HTTP/1.1" 200 5 "-" "curl/8" "203.0.113.9""#,
                clf(i, 0)
            )
        }),
    );
    let custom = write(
        dir.path(),
        "custom.log",
        &three(|i| {
            format!(
                r#"10.0.0.{i} - - [{}] "GET / HTTP/1.1" 504 5 "-" "curl/8" rt=2.000 uct="0.001" ua="10.1.0.{i}:80""#,
                clf(i, 0)
            )
        }),
    );
    struct Case {
        name: &'static str,
        definition: &'static str,
        log: &'static Path,
        format: &'static str,
        request_time: bool,
        upstream: bool,
        first: &'static str,
    }
    let leak = |p: std::path::PathBuf| -> &'static Path { Box::leak(p.into_boxed_path()) };
    let (combined, main, custom) = (leak(combined), leak(main), leak(custom));
    let cases = [
        Case {
            name: "nginx's built-in combined, from the documentation",
            definition: r#"log_format combined '$remote_addr - $remote_user [$time_local] '
                    '"$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent"';"#,
            log: combined,
            format: "nginx-template",
            request_time: false,
            upstream: false,
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "the stock nginx.conf main",
            definition: r#"log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';"#,
            log: main,
            format: "nginx-template",
            request_time: false,
            upstream: false,
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "Apache's combined from httpd.conf",
            definition: r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"" combined"#,
            log: combined,
            format: "apache-template",
            request_time: false,
            upstream: false,
            first: "2023-11-12T14:00:03Z",
        },
        Case {
            name: "a custom nginx format with request time and upstream",
            definition: r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" ua="$upstream_addr""#,
            log: custom,
            format: "nginx-template",
            request_time: true,
            upstream: true,
            first: "2023-11-12T14:00:01Z",
        },
        Case {
            name: "a preset name",
            definition: "nginx-main",
            log: main,
            format: "nginx-main",
            request_time: false,
            upstream: false,
            first: "2023-11-12T14:00:03Z",
        },
    ];
    for case in cases {
        let report = inspect(&["--log-format", case.definition, path_str(case.log)]);
        let input = &report["inputs"][0];
        assert_eq!(input["format"], case.format, "{}", case.name);
        assert_eq!(input["parsed"], 3, "{}", case.name);
        assert_eq!(
            input["fields"]["request_time"], case.request_time,
            "{}",
            case.name
        );
        assert_eq!(input["fields"]["upstream"], case.upstream, "{}", case.name);
        assert_eq!(input["first"], case.first, "{}", case.name);
    }
}

#[test]
fn a_bad_template_is_a_usage_error_pointing_at_the_part() {
    let dir = scratch();
    let log = write(dir.path(), "access.log", "irrelevant\n");
    let cases = [
        (
            "unknown Apache directive",
            r#"%h %l %u %t "%r" %Q"#,
            "--log-format: unknown directive '%Q' at column 18",
        ),
        (
            "no status",
            "$remote_addr [$time_local] $request_time",
            "--log-format: the format has no status field",
        ),
        (
            "unknown preset",
            "fancy",
            "--log-format 'fancy' is not a known format",
        ),
    ];
    for (name, definition, message) in cases {
        let output = run(&["report", "--log-format", definition, path_str(&log)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
}

#[test]
fn files_that_mix_formats_lose_no_line() {
    let dir = scratch();
    let mut text = String::new();
    for i in 0..12 {
        if i % 4 == 3 {
            text += &format!(
                r#"{{"time_local":"{}","remote_addr":"10.0.1.{i}","request":"GET / HTTP/1.1","status":"503","request_time":"0.000"}}"#,
                clf(i, 0)
            );
        } else {
            text += &format!(
                r#"10.0.0.{i} - - [{}] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
                clf(i, 0)
            );
        }
        text += "\r\n";
    }
    text += "not a log line at all\r\n";
    let log = write(dir.path(), "mixed.log", &text);
    let report = inspect(&[path_str(&log)]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "combined");
    assert_eq!(input["lines"], 13);
    assert_eq!(input["parsed"], 12);
    assert_eq!(input["other_formats"][0]["format"], "json");
    assert_eq!(input["other_formats"][0]["lines"], 3);
    assert_eq!(input["skipped"], 1);
    assert_eq!(input["skipped_examples"][0]["line"], 13);
}

#[test]
fn rotated_and_compressed_logs_of_two_hosts_are_kept_apart_by_host() {
    let dir = scratch();
    let line = |host: usize, i: i64, status: u16| {
        format!(
            r#"10.0.{host}.{} - - [{}] "GET / HTTP/1.1" {status} 5 "-" "curl/8"{}"#,
            i % 50,
            clf(i, 0),
            "\n"
        )
    };
    let mut files = Vec::new();
    for host in 1..=2 {
        let folder = dir.path().join(format!("web0{host}"));
        std::fs::create_dir(&folder).expect("folder");
        // Oldest first: access.log.2.gz, access.log.1, access.log.
        let parts: [(String, std::ops::Range<i64>); 3] = [
            ("access.log.2.gz".to_string(), 0..100),
            ("access.log.1".to_string(), 100..200),
            ("access.log".to_string(), 200..300),
        ];
        for (name, range) in parts {
            let status = if host == 2 { 502 } else { 200 };
            let text: String = range.map(|i| line(host, i, status)).collect();
            let path = folder.join(&name);
            if name.ends_with(".gz") {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(text.as_bytes()).expect("gzip");
                std::fs::write(&path, encoder.finish().expect("gzip")).expect("write");
            } else {
                std::fs::write(&path, text).expect("write");
            }
            files.push(path);
        }
    }
    let report = inspect(&[path_str(dir.path())]);
    let inputs = report["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 6);
    assert!(inputs.iter().all(|i| i["parsed"] == 100), "{inputs:?}");
    assert_eq!(inputs.iter().filter(|i| i["compressed"] == true).count(), 2);
    let hosts = report["dimensions"]
        .as_array()
        .expect("dimensions")
        .iter()
        .find(|d| d["kind"] == "host")
        .expect("a host dimension");
    let values: Vec<(&str, u64, u64)> = hosts["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| {
            (
                v["value"].as_str().expect("label"),
                v["requests"].as_u64().expect("requests"),
                v["failed"].as_u64().expect("failed"),
            )
        })
        .collect();
    assert_eq!(
        values,
        [("web01/access.log", 300, 0), ("web02/access.log", 300, 300)]
    );
    let oldest = inputs
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("web01/access.log.2.gz"))
        })
        .expect("the compressed rotation");
    assert_eq!(millis(oldest["first"].as_str().expect("first")), T0_MS);
}

#[test]
fn the_upstream_that_holds_the_bad_requests_is_named() {
    let dir = scratch();
    let mut text = String::new();
    // Three hours at 2 requests per second over three upstreams; from the
    // second hour on, one upstream in three answers 502 or takes 4 s for
    // 40 minutes.
    for i in 0..(3 * 3600 * 2) {
        let second = i / 2;
        let upstream = i % 3;
        let broken = upstream == 2 && (3600..3600 + 2400).contains(&second);
        let (status, time) = match (broken, i % 4) {
            (true, 0 | 1) => (502, 0.002),
            (true, _) => (200, 4.0),
            _ => (200, 0.020),
        };
        text += &format!(
            r#"10.0.{}.{} - - [{}] "GET /api HTTP/1.1" {status} 12 "-" "app/{}" 220 {time:.3} [default-api-80] [] 10.244.0.{}:8080 12 {time:.3} {status} req{i}{}"#,
            i % 7,
            i % 97,
            clf(second, 0),
            i % 5,
            upstream + 1,
            "\n"
        );
    }
    let log = write(dir.path(), "access.log", &text);
    let report = json_report(&[path_str(&log)]);
    assert_eq!(report["inputs"][0]["format"], "ingress-nginx");
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let hints = incidents[0]["hints"].as_array().expect("hints");
    assert!(
        hints
            .iter()
            .any(|h| h.as_str().is_some_and(|h| h.starts_with(
                "upstream 10.244.0.3:8080 carried 33% of the requests but 100% of the bad ones"
            ))),
        "{hints:?}"
    );
}
