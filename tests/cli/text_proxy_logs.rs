//! The text logs of load balancers and proxies (HAProxy; AWS ALB, Classic
//! ELB, CloudFront; IIS and W3C extended) read end to end: real public logs
//! in `../shared/datasets` and hand-written lines in the vendors' documented
//! layouts.

use postmortem::{Config, InputSpec, NoProgress, analyze};

use super::support::{datasets, millis, run};

/// `postmortem inspect --format json` on `paths`.
fn inspect_json(paths: &[&str]) -> serde_json::Value {
    let mut args = vec!["inspect", "--format", "json", "--quiet"];
    args.extend_from_slice(paths);
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
fn lnav_haproxy_log_gives_its_13_requests_and_its_events() {
    let Some(root) = datasets() else { return };
    let path = root.join("lnav-test/logfile_haproxy.0");
    let text = path.to_str().expect("utf-8 path");
    let report = inspect_json(&[text]);
    let input = &report["inputs"][0];
    assert_eq!(input["kind"], "access");
    assert_eq!(input["format"], "haproxy");
    assert_eq!(input["lines"], 17);
    assert_eq!(input["parsed"], 13);
    assert_eq!(input["skipped"], 0);
    // Three `Proxy ... started.` lines and one SSL handshake failure.
    assert_eq!(input["messages"], 4);
    assert_eq!(input["fields"]["request_time"], true);
    assert_eq!(input["fields"]["upstream"], true);
    let upstreams: Vec<(String, u64)> = report["dimensions"][0]["values"]
        .as_array()
        .expect("upstream values")
        .iter()
        .map(|v| {
            (
                v["value"].as_str().expect("value").to_string(),
                v["requests"].as_u64().expect("requests"),
            )
        })
        .collect();
    assert_eq!(
        upstreams,
        [
            ("bk_admin/nginx_sonst".to_string(), 2),
            ("bk_ktest_kt/nginx_sonst".to_string(), 6),
            ("bk_ktest_sonst/nginx_sonst".to_string(), 5),
        ]
    );

    let config = Config::for_inputs(vec![InputSpec::Path(path.clone())]);
    let findings = analyze(&config, &NoProgress).expect("analysis");
    let events: Vec<(i64, &str, &str)> = findings
        .events
        .iter()
        .map(|e| (e.at, e.kind.name(), e.text.as_str()))
        .collect();
    // The syslog header has no year and no zone: the year comes from the
    // requests' accept dates, the zone is theirs (none, so UTC).
    assert_eq!(
        events,
        [
            (
                millis("2019-02-25T16:19:38Z"),
                "change",
                "Proxy prod_http_in started."
            ),
            (
                millis("2019-02-25T16:19:38Z"),
                "change",
                "Proxy tools_http_frnt started."
            ),
            (
                millis("2019-02-25T16:19:38Z"),
                "change",
                "Proxy git_inio_ssh_frnt started."
            ),
            (
                millis("2019-02-25T16:20:15Z"),
                "event",
                "95.216.197.33:56224 [25/Feb/2019:16:20:10.111] prod_http_in/sktst2: SSL handshake failure"
            ),
        ]
    );
}

#[test]
fn a_file_mixing_haproxy_with_another_format_reads_both_and_keeps_messages_apart() {
    let dir = super::support::scratch();
    let request = |second: u32| {
        format!(
            r#"Nov 12 14:00:{second:02} lb01 haproxy[7]: 10.0.0.{second}:5123 [12/Nov/2023:14:00:{second:02}.100] www www/app1 0/0/1/12/13 200 512 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#
        )
    };
    let lines = [
        request(1),
        "Nov 12 14:00:02 lb01 haproxy[7]: Server www/app2 is DOWN, reason: Layer4 timeout, check duration: 2001ms. 1 active and 0 backup servers left.".to_string(),
        request(3),
        r#"10.0.0.9 - - [12/Nov/2023:14:00:04 +0000] "GET /direct HTTP/1.1" 200 12 "-" "curl/8""#.to_string(),
        request(5),
    ];
    let path = super::support::write(dir.path(), "haproxy.log", &(lines.join("\n") + "\n"));
    let report = inspect_json(&[path.to_str().expect("utf-8 path")]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "haproxy");
    assert_eq!(input["lines"], 5);
    assert_eq!(input["parsed"], 4);
    assert_eq!(input["skipped"], 0);
    assert_eq!(input["messages"], 1);
    assert_eq!(input["other_formats"][0]["format"], "combined");
    assert_eq!(input["other_formats"][0]["lines"], 1);
}
