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

/// The fields of a cloud or proxy JSON record a case states beyond
/// [`ExpectedRecord`].
struct CloudCase {
    name: &'static str,
    line: &'static str,
    flavor: Flavor,
    expect: ExpectedRecord,
    request: &'static str,
    /// The termination cause's vendor code.
    flags: Option<&'static str>,
}

#[test]
fn proxy_and_cloud_json_records_parse() {
    let cases = [
        CloudCase {
            name: "Istio JSON access log (its documented default keys)",
            line: r#"{"upstream_host":"10.44.1.27:80","response_flags":"-","downstream_remote_address":"10.44.1.23:46520","start_time":"2020-11-25T21:26:18.409Z","method":"GET","path":"/status/418","protocol":"HTTP/1.1","response_code":418,"duration":4,"bytes_received":0,"bytes_sent":135,"user_agent":"curl/7.73.0-DEV","x_forwarded_for":null,"authority":"httpbin:8000","upstream_cluster":"outbound|8000||httpbin.foo.svc.cluster.local","route_name":"default"}"#,
            flavor: Flavor::Envoy,
            expect: ExpectedRecord {
                client: "10.44.1.23",
                logged_at: 1_606_339_578_409,
                offset: 0,
                status: 418,
                duration_us: Some(4_000),
                arrival: 1_606_339_578_409,
                user_agent: Some("curl/7.73.0-DEV"),
                upstream: Some("10.44.1.27:80"),
                host: Some("httpbin:8000"),
            },
            request: "/status/418",
            flags: None,
        },
        CloudCase {
            name: "Envoy JSON: refused upstream, client from X-Forwarded-For, cluster when no host",
            line: r#"{"start_time":"2024-01-15T10:00:00.000Z","response_code":503,"response_flags":"UF,URX","duration":12,"upstream_host":null,"upstream_cluster":"api","x_forwarded_for":"203.0.113.9, 10.0.0.2","path":"/api"}"#,
            flavor: Flavor::Envoy,
            expect: ExpectedRecord {
                client: "203.0.113.9",
                logged_at: 1_705_312_800_000,
                offset: 0,
                status: 503,
                duration_us: Some(12_000),
                arrival: 1_705_312_800_000,
                user_agent: None,
                upstream: Some("api"),
                host: None,
            },
            request: "/api",
            flags: Some("UF"),
        },
        CloudCase {
            name: "Google Cloud load balancer entry (httpRequest, latency in s, entry time is the arrival)",
            line: r#"{"httpRequest":{"requestMethod":"GET","requestUrl":"http://35.1.2.3/cart","requestSize":"78","status":502,"responseSize":"392","userAgent":"curl/7.68.0","remoteIp":"203.0.113.5:40412","serverIp":"10.128.0.7","latency":"0.052s"},"insertId":"1x2y","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"failed_to_connect_to_backend"},"resource":{"type":"http_load_balancer"},"timestamp":"2024-01-15T10:00:00.123456Z","severity":"WARNING","receiveTimestamp":"2024-01-15T10:00:01.2Z"}"#,
            flavor: Flavor::GoogleCloud,
            expect: ExpectedRecord {
                client: "203.0.113.5",
                logged_at: 1_705_312_800_123,
                offset: 0,
                status: 502,
                duration_us: Some(52_000),
                arrival: 1_705_312_800_123,
                user_agent: Some("curl/7.68.0"),
                upstream: Some("10.128.0.7"),
                host: None,
            },
            request: "http://35.1.2.3/cart",
            flags: Some("failed_to_connect_to_backend"),
        },
        CloudCase {
            name: "Azure Application Gateway v2 (documented example shape, timeTaken in s)",
            line: r#"{"resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/GW","time":"2017-04-26T19:27:38Z","category":"ApplicationGatewayAccessLog","operationName":"ApplicationGatewayAccess","properties":{"instanceId":"appgw_1","clientIP":"203.0.113.10","httpMethod":"GET","requestUri":"/","userAgent":"Mozilla/5.0","httpStatus":200,"httpVersion":"HTTP/1.1","receivedBytes":65,"sentBytes":553,"timeTaken":0.034,"serverRouted":"52.239.221.65:443","serverStatus":"200","serverResponseLatency":"0.028","host":"20.110.30.194"}}"#,
            flavor: Flavor::Azure,
            expect: ExpectedRecord {
                client: "203.0.113.10",
                logged_at: 1_493_234_858_000,
                offset: 0,
                status: 200,
                duration_us: Some(34_000),
                arrival: 1_493_234_858_000 - 34,
                user_agent: Some("Mozilla/5.0"),
                upstream: Some("52.239.221.65:443"),
                host: Some("20.110.30.194"),
            },
            request: "/",
            flags: None,
        },
        CloudCase {
            name: "Azure Application Gateway v1 (timeTaken in ms, status as a string)",
            line: r#"{"time":"2017-04-26T19:27:38Z","category":"ApplicationGatewayAccessLog","properties":{"instanceId":"ApplicationGatewayRole_IN_0","clientIP":"191.96.249.97","clientPort":46886,"httpMethod":"GET","requestUri":"/phpmyadmin/scripts/setup.php","httpStatus":"404","timeTaken":109,"host":"www.contoso.com"}}"#,
            flavor: Flavor::Azure,
            expect: ExpectedRecord {
                client: "191.96.249.97",
                logged_at: 1_493_234_858_000,
                offset: 0,
                status: 404,
                duration_us: Some(109_000),
                arrival: 1_493_234_858_000 - 109,
                user_agent: None,
                upstream: None,
                host: Some("www.contoso.com"),
            },
            request: "/phpmyadmin/scripts/setup.php",
            flags: None,
        },
        CloudCase {
            name: "Azure Front Door (strings, timeTaken in s, errorInfo)",
            line: r#"{"time":"2023-05-01T12:00:00.5Z","category":"FrontDoorAccessLog","operationName":"Microsoft.Cdn/Profiles/AccessLog/Write","properties":{"httpMethod":"GET","requestUri":"https://www.example.com:443/","userAgent":"curl/8","clientIp":"203.0.113.7","clientPort":"50000","timeTaken":"2","httpStatusCode":"503","errorInfo":"OriginConnectionRefused","hostName":"www.example.com","originIp":"10.0.0.4:443"}}"#,
            flavor: Flavor::Azure,
            expect: ExpectedRecord {
                client: "203.0.113.7",
                logged_at: 1_682_942_400_500,
                offset: 0,
                status: 503,
                duration_us: Some(2_000_000),
                arrival: 1_682_942_398_500,
                user_agent: Some("curl/8"),
                upstream: Some("10.0.0.4:443"),
                host: Some("www.example.com"),
            },
            request: "https://www.example.com:443/",
            flags: Some("OriginConnectionRefused"),
        },
        CloudCase {
            name: "AzureDiagnostics table, flattened columns",
            line: r#"{"TimeGenerated":"2024-01-15T10:00:00Z","Category":"ApplicationGatewayAccessLog","OperationName":"ApplicationGatewayAccess","clientIP_s":"203.0.113.10","httpStatus_d":502,"timeTaken_d":0.5,"requestUri_s":"/pay","userAgent_s":"curl","host_s":"shop","serverRouted_s":"10.0.0.4:80","serverStatus_s":"502"}"#,
            flavor: Flavor::Azure,
            expect: ExpectedRecord {
                client: "203.0.113.10",
                logged_at: 1_705_312_800_000,
                offset: 0,
                status: 502,
                duration_us: Some(500_000),
                arrival: 1_705_312_799_500,
                user_agent: Some("curl"),
                upstream: Some("10.0.0.4:80"),
                host: Some("shop"),
            },
            request: "/pay",
            flags: None,
        },
        CloudCase {
            name: "Cloudflare Logpush documented example (unix nanoseconds)",
            line: r#"{"ClientIP":"89.163.242.206","ClientRequestHost":"www.theburritobot.com","ClientRequestMethod":"GET","ClientRequestURI":"/static/img/testimonial-hipster.png","EdgeEndTimestamp":1506702504461999900,"EdgeResponseBytes":69045,"EdgeResponseStatus":200,"EdgeStartTimestamp":1506702504433000200,"RayID":"3a6050bcbe121a87"}"#,
            flavor: Flavor::Cloudflare,
            expect: ExpectedRecord {
                client: "89.163.242.206",
                logged_at: 1_506_702_504_433,
                offset: 0,
                status: 200,
                duration_us: Some(29_000),
                arrival: 1_506_702_504_433,
                user_agent: None,
                upstream: None,
                host: Some("www.theburritobot.com"),
            },
            request: "/static/img/testimonial-hipster.png",
            flags: None,
        },
        CloudCase {
            name: "Cloudflare with RFC 3339 times and an origin",
            line: r#"{"ClientIP":"203.0.113.1","EdgeStartTimestamp":"2024-01-15T10:00:00Z","EdgeEndTimestamp":"2024-01-15T10:00:02Z","EdgeResponseStatus":522,"OriginResponseStatus":0,"OriginIP":"198.51.100.4","ClientRequestUserAgent":"Mozilla/5.0","ClientRequestURI":"/"}"#,
            flavor: Flavor::Cloudflare,
            expect: ExpectedRecord {
                client: "203.0.113.1",
                logged_at: 1_705_312_800_000,
                offset: 0,
                status: 522,
                duration_us: Some(2_000_000),
                arrival: 1_705_312_800_000,
                user_agent: Some("Mozilla/5.0"),
                upstream: Some("198.51.100.4"),
                host: None,
            },
            request: "/",
            flags: None,
        },
        CloudCase {
            name: "Cloudflare with unix seconds",
            line: r#"{"ClientIP":"203.0.113.1","EdgeStartTimestamp":1705312800,"EdgeEndTimestamp":1705312801,"EdgeResponseStatus":200}"#,
            flavor: Flavor::Cloudflare,
            expect: ExpectedRecord {
                client: "203.0.113.1",
                logged_at: 1_705_312_800_000,
                offset: 0,
                status: 200,
                duration_us: Some(1_000_000),
                arrival: 1_705_312_800_000,
                user_agent: None,
                upstream: None,
                host: None,
            },
            request: "-",
            flags: None,
        },
        CloudCase {
            name: "Caddy with status 0 (the client went away)",
            line: r#"{"level":"error","ts":1705312800.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.1","method":"GET","uri":"/slow"},"duration":30.0,"status":0}"#,
            flavor: Flavor::Caddy,
            expect: ExpectedRecord {
                client: "10.0.0.1",
                logged_at: 1_705_312_800_500,
                offset: 0,
                status: 0,
                duration_us: Some(30_000_000),
                arrival: 1_705_312_770_500,
                user_agent: None,
                upstream: None,
                host: None,
            },
            request: "/slow",
            flags: None,
        },
    ];
    for case in cases {
        let (record, rest, flavor) = parse_with_flavor(case.line.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {}", case.name, e.reason));
        assert!(rest.is_empty(), "{}", case.name);
        assert_eq!(flavor, case.flavor, "{}", case.name);
        assert_record(case.name, &record, &case.expect);
        assert_eq!(record.request, case.request.as_bytes(), "{}", case.name);
        let code = record.termination.map(|t| t.code.text());
        assert_eq!(code.as_deref(), case.flags, "{}", case.name);
    }
}

#[test]
fn other_azure_categories_are_skipped_by_name() {
    let cases = [
        r#"{"time":"2024-01-15T10:00:00Z","category":"ApplicationGatewayPerformanceLog","properties":{"instanceId":"appgw_1","healthyHostCount":"4","requestCount":"185","latency":"0","failedRequestCount":"0","throughput":"119427"}}"#,
        r#"{"time":"2024-01-15T10:00:00Z","category":"ApplicationGatewayFirewallLog","properties":{"clientIp":"203.0.113.5","requestUri":"/","ruleId":"942100","action":"Blocked","httpStatus":403}}"#,
        r#"{"time":"2024-01-15T10:00:00Z","category":"FrontDoorHealthProbeLog","properties":{"httpStatusCode":"200","originIp":"10.0.0.4"}}"#,
    ];
    for line in cases {
        let error = parse(line.as_bytes()).expect_err(line);
        assert!(
            error.reason.contains("skipped by name"),
            "{line}: {}",
            error.reason
        );
    }
}
