//! Tests of the Envoy/Istio text parser: the documented example lines with
//! every field, the Istio variants, and what is refused.

use super::*;
use crate::series::termination::TerminationCause;

/// The example line of Envoy's access-log documentation (default format).
const ENVOY_DOC_EXAMPLE: &str = r#"[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#;

/// The example line of Istio's "Envoy access logs" task (default format
/// since Istio 1.8, with response code details and the tail).
const ISTIO_DOC_EXAMPLE: &str = r#"[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default"#;

fn millis(text: &str) -> i64 {
    parse_iso8601(text.as_bytes()).expect("test time").0
}

#[test]
fn envoy_documented_example_reads_every_field() {
    let (record, rest) = parse(ENVOY_DOC_EXAMPLE.as_bytes()).expect("parses");
    assert_eq!(record.logged_at, millis("2016-04-15T20:17:00.310Z"));
    assert_eq!(record.offset_seconds, 0);
    assert!(!record.logged_at_completion, "START_TIME is the arrival");
    assert_eq!(record.request, b"POST /api/v1/locations HTTP/2");
    assert_eq!(record.status, 204);
    assert_eq!(record.termination, None);
    assert_eq!(record.bytes, Some(0));
    assert_eq!(record.duration_us, Some(226_000));
    assert_eq!(record.forwarded_for, Some(&b"10.0.35.28"[..]));
    assert_eq!(record.client, b"10.0.35.28", "first X-Forwarded-For hop");
    assert_eq!(record.user_agent, Some(&b"nsq2http"[..]));
    assert_eq!(record.host, Some(&b"locations"[..]));
    assert_eq!(record.upstream_addr, Some(&b"tcp://10.0.2.1:80"[..]));
    assert!(rest.is_empty());
}

#[test]
fn istio_documented_example_reads_every_field() {
    let (record, rest) = parse(ISTIO_DOC_EXAMPLE.as_bytes()).expect("parses");
    assert_eq!(record.logged_at, millis("2020-11-25T21:26:18.409Z"));
    assert_eq!(record.request, b"GET /status/418 HTTP/1.1");
    assert_eq!(record.status, 418);
    assert_eq!(record.termination, None);
    assert_eq!(record.bytes, Some(135));
    assert_eq!(record.duration_us, Some(4_000));
    assert_eq!(record.forwarded_for, None);
    assert_eq!(record.user_agent, Some(&b"curl/7.73.0-DEV"[..]));
    assert_eq!(record.host, Some(&b"httpbin:8000"[..]));
    assert_eq!(record.upstream_addr, Some(&b"10.44.1.27:80"[..]));
    assert_eq!(
        record.client, b"10.44.1.23",
        "downstream remote address without its port"
    );
    assert!(rest.is_empty());
}

/// (name, line, status, cause and flag, upstream, client, duration ms)
type FlagCase = (
    &'static str,
    &'static str,
    u16,
    Option<(TerminationCause, &'static str)>,
    Option<&'static str>,
    &'static str,
    u64,
);

#[test]
fn variants_read_flags_upstreams_and_clients() {
    // (name, line, status, cause and flag, upstream, client, duration ms)
    let cases: [FlagCase; 5] = [
        (
            "upstream refused, retried",
            r#"[2024-01-15T10:00:00.123Z] "GET /api HTTP/1.1" 503 UF,URX 0 91 12 - "203.0.113.9, 10.0.0.2" "curl/8" "id-1" "api.example.com" "10.0.3.7:8080""#,
            503,
            Some((TerminationCause::ConnectFailed, "UF")),
            Some("10.0.3.7:8080"),
            "203.0.113.9",
            12,
        ),
        (
            "no healthy upstream: the cluster stands for it (Istio)",
            r#"[2024-01-15T10:00:00.123Z] "GET / HTTP/1.1" 503 UH no_healthy_upstream - "-" 0 19 0 - "-" "curl/8" "id-2" "web:80" "-" outbound|80||web.default.svc.cluster.local - 10.0.0.5:80 10.0.0.9:51234 - default"#,
            503,
            Some((TerminationCause::NoServer, "UH")),
            Some("outbound|80||web.default.svc.cluster.local"),
            "10.0.0.9",
            0,
        ),
        (
            "client went away: code 0",
            r#"[2024-01-15T10:00:00.123Z] "GET /slow HTTP/1.1" 0 DC 0 0 30000 - "-" "curl/8" "id-3" "web" "10.0.3.7:8080""#,
            0,
            Some((TerminationCause::ClientAborted, "DC")),
            Some("10.0.3.7:8080"),
            "-",
            30_000,
        ),
        (
            "older Istio: quoted mixer status and failure reason",
            r#"[2019-06-01T08:00:00.000Z] "GET /p HTTP/1.1" 504 UT "-" "-" 0 24 15001 - "-" "Go-http-client/1.1" "id-4" "reviews:9080" "10.1.2.3:9080" outbound|9080||reviews.default.svc.cluster.local - 10.0.0.1:9080 10.1.0.4:40000 - -"#,
            504,
            Some((TerminationCause::ServerTimeout, "UT")),
            Some("10.1.2.3:9080"),
            "10.1.0.4",
            15_001,
        ),
        (
            "IPv6 downstream address",
            r#"[2024-01-15T10:00:00Z] "GET / HTTP/2" 200 - via_upstream - "-" 0 5 1 1 "-" "-" "id-5" "h" "[2001:db8::7]:80" outbound|80||h - [2001:db8::1]:80 [2001:db8::9]:4000 - default"#,
            200,
            None,
            Some("[2001:db8::7]:80"),
            "2001:db8::9",
            1,
        ),
    ];
    for (name, line, status, flags, upstream, client, duration_ms) in cases {
        let (record, rest) = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(record.status, status, "{name}");
        let found = record.termination.map(|t| (t.cause, t.code.text()));
        assert_eq!(
            found,
            flags.map(|(cause, code)| (cause, code.to_string())),
            "{name}"
        );
        assert_eq!(record.upstream_addr, upstream.map(str::as_bytes), "{name}");
        assert_eq!(record.client, client.as_bytes(), "{name}");
        assert_eq!(record.duration_us, Some(duration_ms * 1000), "{name}");
        assert!(
            rest.is_empty(),
            "{name}: left over {:?}",
            String::from_utf8_lossy(rest)
        );
    }
}

#[test]
fn what_is_not_an_envoy_request_is_refused_with_a_reason() {
    let cases = [
        (
            "CLF",
            r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 5"#,
            "expected '['",
        ),
        (
            "TCP proxy",
            r#"[2024-01-15T10:00:00Z] "- - -" 0 - 10 20 30 - "-" "-" "-" "-" "10.0.0.1:3306""#,
            "TCP proxy",
        ),
        (
            "cut after flags",
            r#"[2024-01-15T10:00:00Z] "GET / HTTP/1.1" 200 -"#,
            "line ended early",
        ),
        (
            "bad time",
            r#"[yesterday] "GET / HTTP/1.1" 200 - 0 0 1 1 "-" "-" "-" "-" "-""#,
            "START_TIME",
        ),
        (
            "status word",
            r#"[2024-01-15T10:00:00Z] "GET / HTTP/1.1" ok - 0 0 1 1 "-" "-" "-" "-" "-""#,
            "response code",
        ),
        (
            "unclosed quote",
            r#"[2024-01-15T10:00:00Z] "GET / HTTP/1.1" 200 - 0 0 1 1 "-" "-"#,
            "closing quote",
        ),
    ];
    for (name, line, reason) in cases {
        let error = parse(line.as_bytes()).expect_err(name);
        assert!(error.reason.contains(reason), "{name}: {}", error.reason);
    }
}

#[test]
fn forwarded_for_lists_give_their_first_hop() {
    let cases = [
        ("one", "203.0.113.9", Some("203.0.113.9")),
        ("list", " 203.0.113.9 , 10.0.0.1", Some("203.0.113.9")),
        ("dash", "-", None),
        ("empty first", ", 10.0.0.1", None),
    ];
    for (name, list, expected) in cases {
        assert_eq!(
            first_forwarded_hop(list.as_bytes()),
            expected.map(str::as_bytes),
            "{name}"
        );
    }
}

#[test]
fn response_flags_map_to_termination_causes() {
    let cases = [
        ("none", "-", None),
        (
            "retry limit after refusals: the refusal",
            "UF,URX",
            Some((TerminationCause::ConnectFailed, "UF")),
        ),
        (
            "retry limit alone",
            "URX",
            Some((TerminationCause::ConnectFailed, "URX")),
        ),
        (
            "circuit breaker",
            "UO",
            Some((TerminationCause::Overflow, "UO")),
        ),
        (
            "no route",
            "NR",
            Some((TerminationCause::ProxyDenied, "NR")),
        ),
        (
            "ext authz denied",
            "UAEX",
            Some((TerminationCause::ProxyDenied, "UAEX")),
        ),
        (
            "fault delay says nothing, reset does",
            "DI,UR",
            Some((TerminationCause::ServerAborted, "UR")),
        ),
        ("unknown flag", "ZZ", None),
    ];
    for (name, flags, expected) in cases {
        let found = termination(flags.as_bytes()).map(|t| (t.cause, t.code.text()));
        assert_eq!(
            found,
            expected.map(|(cause, code)| (cause, code.to_string())),
            "{name}"
        );
    }
}
