//! Proxies, cloud load balancers and container logs through the binary:
//! each format is found from content (bare, behind a container prefix, in
//! Docker's JSON wrapper, through syslog, pretty-printed), its requests are
//! counted and its damage named; status 0 is counted; a run that reads no
//! request says so; JSON that is no access log never reaches the CSV
//! reader.

use serde_json::Value;

use super::support::{postmortem, scratch, write};

/// `postmortem inspect --format json FILE`: the input's entry and stderr.
fn inspect_one(path: &std::path::Path) -> (Value, String) {
    let output = postmortem()
        .args(["inspect", "--format", "json"])
        .arg(path)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "exit {:?}: {stderr}",
        output.status.code()
    );
    let inspection: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    (inspection["inputs"][0].clone(), stderr)
}

const ENVOY_503: &str = r#"[2024-01-15T10:00:00.123Z] "GET /api HTTP/1.1" 503 UF,URX 0 91 12 - "203.0.113.9" "curl/8" "id-1" "api" "10.0.3.7:8080""#;
const ENVOY_200: &str = r#"[2024-01-15T10:00:01.500Z] "GET /api HTTP/1.1" 200 - 0 91 7 6 "203.0.113.10" "curl/8" "id-2" "api" "10.0.3.8:8080""#;
const ISTIO_200: &str = r#"[2024-01-15T10:00:02.000Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "8496" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default"#;
const CADDY_0: &str = r#"{"level":"error","ts":1705312800.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.1","method":"GET","uri":"/slow","headers":{"User-Agent":["curl/8"]}},"duration":30.0,"status":0}"#;
const CADDY_200: &str = r#"{"level":"info","ts":1705312801.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.2","method":"GET","uri":"/","headers":{"User-Agent":["curl/8"]}},"duration":0.01,"status":200}"#;

/// A JSON string holding `text` (for Docker's wrapper).
fn json_string(text: &str) -> String {
    Value::from(text).to_string()
}

/// (name, file contents, format, envelope, parsed, skipped)
type FormatCase = (
    &'static str,
    String,
    &'static str,
    Option<&'static str>,
    u64,
    u64,
);

fn format_cases() -> Vec<FormatCase> {
    let envoy = format!("{ENVOY_503}\n{ENVOY_200}\n");
    vec![
        ("Envoy default text", envoy.clone(), "envoy", None, 2, 0),
        ("Istio default text", format!("{ISTIO_200}\n{ENVOY_200}\n"), "envoy", None, 2, 0),
        (
            "Envoy behind CRI prefixes",
            envoy
                .lines()
                .map(|l| format!("2024-01-15T10:00:00.123456789Z stdout F {l}\n"))
                .collect(),
            "envoy",
            Some("container"),
            2,
            0,
        ),
        (
            "Envoy behind kubectl --timestamps, one partial CRI line",
            format!(
                "2024-01-15T10:00:00.1Z {ENVOY_503}\n2024-01-15T10:00:00.2Z {ENVOY_200}\n2024-01-15T10:00:00.3Z {ENVOY_200}\n2024-01-15T10:00:00.4Z stdout P [2024-01-15T10:00:01\n"
            ),
            "envoy",
            Some("container"),
            3,
            1,
        ),
        (
            "Envoy in Docker's json-file wrapper",
            envoy
                .lines()
                .map(|l| {
                    format!(
                        "{{\"log\":{},\"stream\":\"stdout\",\"time\":\"2024-01-15T10:00:00Z\"}}\n",
                        json_string(&format!("{l}\n"))
                    )
                })
                .collect(),
            "envoy",
            Some("docker-json"),
            2,
            0,
        ),
        (
            "Caddy JSON behind docker compose prefixes, with status 0",
            format!("caddy  | {CADDY_0}\ncaddy  | {CADDY_200}\n"),
            "caddy-json",
            Some("container"),
            2,
            0,
        ),
        (
            "Traefik common log format",
            "192.168.1.1 - - [15/Jan/2024:10:00:00 +0000] \"GET /whoami HTTP/1.1\" 502 24 \"-\" \"curl/7.64.1\" 1 \"whoami@docker\" \"http://172.18.0.2:80\" 3ms\n\
             192.168.1.2 - - [15/Jan/2024:10:00:01 +0000] \"GET /whoami HTTP/1.1\" 200 24 \"-\" \"curl/7.64.1\" 2 \"whoami@docker\" \"http://172.18.0.2:80\" 1ms\n"
                .to_string(),
            "traefik-clf",
            None,
            2,
            0,
        ),
        (
            "Caddy console encoder",
            "2024/01/15 10:00:00.123\tINFO\thttp.log.access.log0\thandled request\t{\"request\": {\"remote_ip\": \"172.19.0.1\", \"uri\": \"/\"}, \"duration\": 0.25, \"size\": 12, \"status\": 502}\n\
             2024/01/15 10:00:01.123\tINFO\thttp.log.access.log0\thandled request\t{\"request\": {\"remote_ip\": \"172.19.0.2\", \"uri\": \"/\"}, \"duration\": 0.01, \"size\": 12, \"status\": 200}\n"
                .to_string(),
            "caddy-console",
            None,
            2,
            0,
        ),
        (
            "Google Cloud entries pretty-printed in an array",
            "[\n  {\n    \"httpRequest\": {\n      \"status\": 502,\n      \"remoteIp\": \"203.0.113.5:4000\",\n      \"latency\": \"0.052s\"\n    },\n    \"timestamp\": \"2024-01-15T10:00:00.123Z\"\n  },\n  {\n    \"httpRequest\": {\n      \"status\": 200,\n      \"remoteIp\": \"203.0.113.6\",\n      \"latency\": \"0.010s\"\n    },\n    \"timestamp\": \"2024-01-15T10:00:01Z\"\n  }\n]\n"
                .to_string(),
            "gcp-json",
            None,
            2,
            0,
        ),
        (
            "Azure Application Gateway lines with a performance record",
            [
                r#"{"time":"2024-01-15T10:00:00Z","category":"ApplicationGatewayAccessLog","properties":{"clientIP":"203.0.113.10","httpStatus":502,"timeTaken":0.5,"serverRouted":"10.0.0.4:80"}}"#,
                r#"{"time":"2024-01-15T10:00:00Z","category":"ApplicationGatewayPerformanceLog","properties":{"instanceId":"appgw_1","healthyHostCount":"0"}}"#,
                r#"{"time":"2024-01-15T10:00:01Z","category":"ApplicationGatewayAccessLog","properties":{"clientIP":"203.0.113.11","httpStatus":"200","timeTaken":0.01,"serverRouted":"10.0.0.5:80"}}"#,
            ]
            .join("\n"),
            "azure-json",
            None,
            2,
            1,
        ),
        (
            "Cloudflare Logpush",
            [
                r#"{"ClientIP":"89.163.242.206","ClientRequestHost":"www.example.com","ClientRequestURI":"/","EdgeEndTimestamp":1705312800461999900,"EdgeResponseStatus":522,"EdgeStartTimestamp":1705312800433000200,"RayID":"3a6050bcbe121a87"}"#,
                r#"{"ClientIP":"89.163.242.207","ClientRequestHost":"www.example.com","ClientRequestURI":"/","EdgeEndTimestamp":"2024-01-15T10:00:01.1Z","EdgeResponseStatus":200,"EdgeStartTimestamp":"2024-01-15T10:00:01Z","RayID":"3a6050bcbe121a88"}"#,
            ]
            .join("\n"),
            "cloudflare-json",
            None,
            2,
            0,
        ),
        (
            // Caddy v1's default `log` directive writes `{common}`:
            // `{remote} - {user} [{when}] "{method} {uri} {proto}" {status} {size}`.
            "Caddy v1 default log (Common Log Format)",
            "172.17.0.1 - - [15/Jan/2024:10:00:00 +0000] \"GET /index.html HTTP/1.1\" 502 0\n\
             172.17.0.1 - alice [15/Jan/2024:10:00:01 +0000] \"GET /style.css HTTP/2.0\" 200 1024\n"
                .to_string(),
            "common",
            None,
            2,
            0,
        ),
        (
            "IIS HTTPERR log that opens with connection timers",
            "#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Date: 2024-03-12 10:14:02\r\n\
             #Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename\r\n\
             2024-03-12 10:14:02 198.51.100.7 50122 10.0.0.4 443 - - - - - - Timer_ConnectionIdle -\r\n\
             2024-03-12 10:14:05 198.51.100.8 50123 10.0.0.4 443 - - - - - - Timer_ConnectionIdle -\r\n\
             2024-03-12 10:14:09 203.0.113.9 51234 10.0.0.4 443 HTTP/1.1 GET /cart - 503 1 AppOffline ShopPool\r\n"
                .to_string(),
            "iis-w3c",
            None,
            1,
            6,
        ),
        (
            "Envoy JSON access log",
            [
                r#"{"start_time":"2024-01-15T10:00:00.000Z","response_code":503,"response_flags":"UF","duration":12,"upstream_host":"10.0.3.7:8080","downstream_remote_address":"10.0.0.9:51234","path":"/api"}"#,
                r#"{"start_time":"2024-01-15T10:00:01.000Z","response_code":200,"response_flags":"-","duration":3,"upstream_host":"10.0.3.8:8080","downstream_remote_address":"10.0.0.8:51234","path":"/api"}"#,
            ]
            .join("\n"),
            "envoy-json",
            None,
            2,
            0,
        ),
    ]
}

#[test]
fn proxy_cloud_and_container_logs_are_found_from_content() {
    let dir = scratch();
    for (index, (name, text, format, envelope, parsed, skipped)) in
        format_cases().into_iter().enumerate()
    {
        let path = write(dir.path(), &format!("case{index}.log"), &text);
        let (input, _) = inspect_one(&path);
        assert_eq!(input["kind"], "access", "{name}: {input}");
        assert_eq!(input["format"], format, "{name}: {input}");
        assert_eq!(input["envelope"].as_str(), envelope, "{name}: {input}");
        assert_eq!(input["parsed"].as_u64(), Some(parsed), "{name}: {input}");
        assert_eq!(input["skipped"].as_u64(), Some(skipped), "{name}: {input}");
    }
}

#[test]
fn status_zero_is_a_request_neither_failed_nor_slow() {
    let dir = scratch();
    let path = write(
        dir.path(),
        "caddy.log",
        &format!("{CADDY_0}\n{CADDY_200}\n"),
    );
    let (input, _) = inspect_one(&path);
    assert_eq!(input["parsed"].as_u64(), Some(2), "{input}");
    assert_eq!(input["no_response"].as_u64(), Some(1), "{input}");
    let output = postmortem()
        .args(["series", "--format", "json", "--bucket", "1m"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    let series: Value = serde_json::from_slice(&output.stdout).expect("series JSON");
    let text = series.to_string();
    assert!(output.status.success(), "{text}");
    let rows = series["buckets"]
        .as_array()
        .or(series.as_array())
        .expect("rows");
    let sum = |key: &str| rows.iter().filter_map(|row| row[key].as_u64()).sum::<u64>();
    assert_eq!(sum("requests"), 2, "{text}");
    assert_eq!(sum("failed"), 0, "{text}");
    assert_eq!(sum("slow"), 0, "{text}");
}

#[test]
fn a_run_that_reads_no_request_says_so_and_what_to_try() {
    let dir = scratch();
    let path = write(
        dir.path(),
        "messages",
        "Jan 15 10:00:00 lb1 haproxy[7]: Proxy www started.\nJan 15 10:00:01 lb1 kernel: eth0 link up\n",
    );
    let output = postmortem()
        .args(["report", "--format", "json"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("0 requests were read"), "{stderr}");
    assert!(
        stderr.contains("read as syslog-rfc3164 (2 of 2 lines)"),
        "{stderr}"
    );
    assert!(stderr.contains("--log-format"), "{stderr}");
}

#[test]
fn json_that_is_no_access_log_never_reaches_the_csv_reader() {
    let dir = scratch();
    let path = write(
        dir.path(),
        "records.json",
        "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n{\"a\": 3, \"b\": \"z\"}\n",
    );
    let output = postmortem()
        .args(["inspect", "--format", "json"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(!all.contains("looks like a CSV"), "{all}");
    assert!(
        all.contains("JSON, but its objects lack the time and status fields"),
        "{all}"
    );
    for library_word in ["polars", "infer_schema_length", "ignore_errors"] {
        assert!(!all.contains(library_word), "{library_word}: {all}");
    }
    assert!(all.contains("not a recognised log"), "{all}");
}

/// Envoy in front of three upstreams, one of which refuses connections for
/// 15 minutes (503 `UF,URX`): the incident's edges are its first and last
/// refused request, and the hint names the upstream and the cause.
#[test]
fn an_upstream_refusing_connections_behind_envoy_is_named_with_its_cause() {
    const UPSTREAMS: [&str; 3] = ["10.0.3.7:8080", "10.0.3.8:8080", "10.0.3.9:8080"];
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-15T09:00:00Z").expect("time");
    // One request every 2 s for two hours, round robin; the first upstream
    // refuses from minute 60 to the end of minute 74.
    let lines: Vec<String> = (0..3600u32)
        .map(|i| {
            let at = start + chrono::Duration::seconds(2 * i64::from(i));
            let upstream = UPSTREAMS[i as usize % 3];
            let minute = i * 2 / 60;
            let refused = (60..75).contains(&minute) && upstream == UPSTREAMS[0];
            let (status, flags, duration, service_time) = if refused {
                (503, "UF,URX", 3, "-".to_string())
            } else {
                (200, "-", 20 + i % 7, "18".to_string())
            };
            format!(
                r#"[{}] "GET /api/cart HTTP/1.1" {status} {flags} 0 120 {duration} {service_time} "203.0.113.{}" "Mozilla/5.0" "id-{i}" "shop.example" "{upstream}""#,
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                i % 50
            )
        })
        .collect();
    let dir = scratch();
    let path = write(dir.path(), "envoy.log", &(lines.join("\n") + "\n"));
    let report = super::support::json_report(&[path.to_str().expect("utf-8 path")]);
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{report}");
    let incident = &incidents[0];
    assert_eq!(incident["start"], "2024-01-15T10:00:00Z");
    assert_eq!(incident["end"], "2024-01-15T10:14:54Z");
    assert_eq!(incident["impact"]["requests_failed"].as_u64(), Some(150));
    let hints: Vec<&str> = incident["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        hints.iter().any(|h| h
            .starts_with("upstream 10.0.3.7:8080: 100% of its 150 failed requests")
            && h.contains("(UF)")),
        "{hints:?}"
    );
}
