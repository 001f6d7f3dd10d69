//! Tests of the JSON-lines access-log parser: nginx, Caddy and Traefik
//! records, and the errors of lines that are no such record.

use super::*;
use crate::ingest::access::expected::{ExpectedRecord, assert_record, raw_bytes};

#[test]
fn epoch_times_are_told_by_magnitude_and_bounded() {
    const T: Millis = 1_699_797_603_123;
    let cases: [(&str, &str, bool, Option<Millis>); 8] = [
        ("seconds with a fraction", "1699797603.123", true, Some(T)),
        ("milliseconds", "1699797603123", true, Some(T)),
        ("microseconds", "1699797603123456", true, Some(T)),
        ("nanoseconds", "1699797603123456789", true, Some(T)),
        ("an ISO string", "2023-11-12T14:00:03.123Z", false, Some(T)),
        (
            "nanoseconds to the end of 9999",
            "253402300799999000000",
            true,
            Some(253_402_300_799_999),
        ),
        // Found by fuzzing: 90 digits saturated to i64::MAX.
        ("ninety digits", &"5".repeat(90), false, None),
        ("seconds beyond 9999", "999999999999.5", true, None),
    ];
    for (name, text, is_number, expected) in cases {
        assert_eq!(
            time_value(text.as_bytes(), is_number).map(|(millis, _)| millis),
            expected,
            "{name}"
        );
    }
}

#[test]
fn json_lines_of_each_server_parse() {
    let cases = [
        (
            "nginx escape=json with strings",
            r#"{"time_local":"12/Nov/2023:15:00:03 +0100","remote_addr":"10.0.0.1","remote_user":"","request":"GET /a HTTP/1.1","status": "502","body_bytes_sent":"157","request_time":"1.250","http_referrer":"","http_user_agent":"Mozilla/5.0 \"quoted\"","upstream_addr":"10.1.0.2:8080"}"#,
            Flavor::Nginx,
            ExpectedRecord {
                client: "10.0.0.1",
                logged_at: 1_699_797_603_000,
                offset: 3600,
                status: 502,
                duration_us: Some(1_250_000),
                arrival: 1_699_797_603_000 - 1_250,
                user_agent: Some(r#"Mozilla/5.0 \"quoted\""#),
                upstream: Some("10.1.0.2:8080"),
                host: None,
            },
        ),
        (
            "nginx msec and numbers, msec wins over time_iso8601",
            r#"{"time_iso8601":"2023-11-12T14:00:03+00:00","msec":1699797603.456,"remote_addr":"2001:db8::1","status":200,"request_time":0.006,"host":"shop.example"}"#,
            Flavor::Nginx,
            ExpectedRecord {
                client: "2001:db8::1",
                logged_at: 1_699_797_603_456,
                offset: 0,
                status: 200,
                duration_us: Some(6_000),
                arrival: 1_699_797_603_450,
                user_agent: None,
                upstream: None,
                host: Some("shop.example"),
            },
        ),
        (
            "caddy",
            r#"{"level":"info","ts":1699797603.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"172.18.0.1","remote_port":"51234","client_ip":"203.0.113.7","proto":"HTTP/2.0","method":"GET","host":"example.com","uri":"/","headers":{"User-Agent":["curl/8.4.0"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0.25,"size":12,"status":200,"resp_headers":{"Server":["Caddy"]}}"#,
            Flavor::Caddy,
            ExpectedRecord {
                client: "203.0.113.7",
                logged_at: 1_699_797_603_500,
                offset: 0,
                status: 200,
                duration_us: Some(250_000),
                arrival: 1_699_797_603_250,
                user_agent: Some("curl/8.4.0"),
                upstream: None,
                host: Some("example.com"),
            },
        ),
        (
            "caddy with a tiny duration in exponent form",
            r#"{"ts":1699797603.0,"request":{"remote_ip":"10.0.0.9","uri":"/"},"duration":1.2e-05,"status":404}"#,
            Flavor::Caddy,
            ExpectedRecord {
                client: "10.0.0.9",
                logged_at: 1_699_797_603_000,
                offset: 0,
                status: 404,
                duration_us: Some(12),
                arrival: 1_699_797_603_000,
                user_agent: None,
                upstream: None,
                host: None,
            },
        ),
        (
            "traefik start time is the arrival",
            r#"{"ClientAddr":"10.0.0.5:40000","ClientHost":"10.0.0.5","ClientUsername":"-","DownstreamContentSize":19,"DownstreamStatus":503,"Duration":2500000000,"OriginStatus":503,"RequestHost":"api.example","RequestMethod":"GET","RequestPath":"/v1","ServiceAddr":"10.42.0.7:80","StartLocal":"2023-11-12T15:00:03.123456789+01:00","StartUTC":"2023-11-12T14:00:03.123456789Z","level":"info","request_User-Agent":"Go-http-client/1.1","time":"2023-11-12T15:00:05+01:00"}"#,
            Flavor::Traefik,
            ExpectedRecord {
                client: "10.0.0.5",
                logged_at: 1_699_797_603_123,
                offset: 3600,
                status: 503,
                duration_us: Some(2_500_000),
                arrival: 1_699_797_603_123,
                user_agent: Some("Go-http-client/1.1"),
                upstream: Some("10.42.0.7:80"),
                host: Some("api.example"),
            },
        ),
        (
            "generic timestamp in milliseconds and raw bytes",
            "{\"timestamp\":1699797603123,\"remote_ip\":\"10.0.0.3\",\"status\":\"200\",\"user_agent\":\"caf\u{e9} \\x22\u{ff}\"}",
            Flavor::Nginx,
            ExpectedRecord {
                client: "10.0.0.3",
                logged_at: 1_699_797_603_123,
                offset: 0,
                status: 200,
                duration_us: None,
                arrival: 1_699_797_603_123,
                user_agent: Some("caf\u{e9} \\x22\u{ff}"),
                upstream: None,
                host: None,
            },
        ),
    ];
    for (name, line, flavor, expect) in cases {
        // The raw-bytes case writes 0xff as a byte, not as UTF-8.
        let bytes = raw_bytes(line);
        let (record, rest, parsed_flavor) =
            parse_with_flavor(&bytes).unwrap_or_else(|e| panic!("{name}: {}", e.reason));
        assert!(rest.is_empty(), "{name}");
        assert_eq!(parsed_flavor, flavor, "{name}");
        assert_record(name, &record, &expect);
    }
}

#[test]
fn broken_json_lines_name_the_problem() {
    let cases = [
        ("not json", "10.0.0.1 - - [x]", "expected a JSON object"),
        (
            "no time",
            r#"{"status":200,"remote_addr":"10.0.0.1"}"#,
            "expected a time in the JSON object (time_local, time_iso8601, msec, ts, StartUTC, start_time, timestamp, time or EdgeStartTimestamp)",
        ),
        (
            "no status",
            r#"{"msec":"1699797603.000"}"#,
            "expected a status in the JSON object (status, DownstreamStatus, response_code, httpRequest.status, httpStatus or EdgeResponseStatus)",
        ),
        (
            "truncated",
            r#"{"msec":"1699797603.000","status":"200","http_user_agent":"Mozil"#,
            "unterminated JSON string",
        ),
        (
            "cut after a value",
            r#"{"msec":1699797603.000,"status":200"#,
            "malformed JSON",
        ),
        (
            "bad time",
            r#"{"time_local":"yesterday","status":200}"#,
            "expected the JSON time field to hold a time (ISO 8601, CLF, or a number since the epoch up to the year 9999)",
        ),
        (
            "nested too deeply",
            &format!("{}{}", "{\"a\":".repeat(40), "1"),
            "JSON nested too deeply",
        ),
        (
            "arrays nested until the stack overflowed (found by fuzzing)",
            &format!("{{\"a\":{}", "[".repeat(100_000)),
            "JSON nested too deeply",
        ),
        (
            "arrays and objects nested in turn",
            &format!("{{\"a\":{}", "[{\"a\":".repeat(50_000)),
            "JSON nested too deeply",
        ),
    ];
    for (name, line, reason) in cases {
        let error = parse(line.as_bytes()).expect_err(name);
        assert_eq!(error.reason, reason, "{name}");
    }
}

#[test]
fn arrays_within_the_depth_bound_are_read() {
    let cases = [
        (
            "no array",
            r#"{"msec":"1699797603.000","status":"200"}"#,
            200,
        ),
        (
            "arrays three deep before the fields",
            r#"{"tags":[[["x"]],[]],"msec":"1699797603.000","status":"503"}"#,
            503,
        ),
        (
            "an object inside arrays",
            r#"{"a":[[{"b":[1]}]],"msec":"1699797603.000","status":"404"}"#,
            404,
        ),
    ];
    for (name, line, status) in cases {
        let (record, _) = parse(line.as_bytes()).expect(name);
        assert_eq!(record.status, status, "{name}");
    }
}

#[test]
fn any_bytes_are_refused_or_read_without_panic() {
    use proptest::prelude::*;
    proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200))| {
        let mut line = b"{\"msec\":1,\"status\":200,".to_vec();
        line.extend_from_slice(&bytes);
        let _ = parse(&line);
        let _ = parse(&bytes);
    });
}
