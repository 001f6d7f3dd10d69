//! Tests of the W3C extended parser: IIS's and CloudFront's documented
//! layouts with every field, a `#Fields:` change mid-file, quoted fields
//! of IIS Advanced Logging, headerless CloudFront lines and damage.

use super::*;
use crate::ingest::timestamps::utc_ms;
use crate::series::termination::TerminationCause;

const IIS_HEAD: &str = "#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2024-03-01 10:00:00
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

const CLOUDFRONT_LINE: &str = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-";

fn lines(text: &str) -> Vec<&[u8]> {
    text.lines().map(str::as_bytes).collect()
}

/// What a line must read as.
struct Expected {
    client: &'static str,
    arrival: i64,
    request: &'static str,
    status: u16,
    bytes: Option<u64>,
    user_agent: Option<&'static str>,
    referer: Option<&'static str>,
    duration_us: Option<u64>,
    host: Option<&'static str>,
}

fn check(name: &str, parser: &W3cParser, line: &str, want: &Expected) {
    let (record, _) = parser
        .parse(line.as_bytes())
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    assert_eq!(
        String::from_utf8_lossy(record.client),
        want.client,
        "{name}"
    );
    assert_eq!(record.arrival(), want.arrival, "{name}");
    assert!(record.logged_at_completion, "{name}: logged when answered");
    assert_eq!(
        String::from_utf8_lossy(record.request),
        want.request,
        "{name}"
    );
    assert_eq!(record.status, want.status, "{name}");
    assert_eq!(record.bytes, want.bytes, "{name}");
    assert_eq!(
        text(record.user_agent),
        want.user_agent.map(str::to_string),
        "{name}"
    );
    assert_eq!(
        text(record.referer),
        want.referer.map(str::to_string),
        "{name}"
    );
    assert_eq!(record.duration_us, want.duration_us, "{name}");
    assert_eq!(text(record.host), want.host.map(str::to_string), "{name}");
}

#[test]
fn iis_default_fields_read_with_every_field() {
    let parser = W3cParser::from_head(&lines(IIS_HEAD));
    assert_eq!(parser.flavor_name(), IIS_NAME);
    check(
        "IIS default W3C fields, time-taken in ms",
        &parser,
        "2024-03-01 10:00:01 10.0.0.4 GET /default.aspx - 443 - 203.0.113.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://www.example.com/ 503 0 0 1046",
        &Expected {
            client: "203.0.113.7",
            arrival: utc_ms(2024, 3, 1, 10, 0, 0) - 46,
            request: "GET /default.aspx",
            status: 503,
            bytes: None,
            user_agent: Some("Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)"),
            referer: Some("https://www.example.com/"),
            duration_us: Some(1_046_000),
            host: None,
        },
    );
}

#[test]
fn cloudfront_reads_with_and_without_its_header() {
    let header = format!("#Version: 1.0\n#Fields: {CLOUDFRONT_FIELDS}");
    let want = Expected {
        client: "192.0.2.100",
        arrival: utc_ms(2019, 12, 4, 21, 2, 31) - 1,
        request: "/index.html",
        status: 200,
        bytes: Some(392),
        user_agent: Some(
            "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36",
        ),
        referer: None,
        duration_us: Some(1_000),
        host: Some("d111111abcdef8.cloudfront.net"),
    };
    let with_header = W3cParser::from_head(&lines(&header));
    assert_eq!(with_header.flavor_name(), CLOUDFRONT_NAME);
    check("with #Fields", &with_header, CLOUDFRONT_LINE, &want);
    let headerless = W3cParser::from_head(&[CLOUDFRONT_LINE.as_bytes()]);
    check("without a header", &headerless, CLOUDFRONT_LINE, &want);
    // A legacy line: the first 24 fields.
    let legacy: Vec<&str> = CLOUDFRONT_LINE.split('\t').take(24).collect();
    check("legacy 24 fields", &headerless, &legacy.join("\t"), &want);
}

#[test]
fn a_fields_directive_given_as_the_format_reads_a_headless_piece() {
    // A piece of an IIS log from its middle has no head: the file's
    // `#Fields:` line, given as --log-format, names the columns.
    let fields = IIS_HEAD.lines().last().expect("the #Fields: line");
    let given = W3cParser::from_fields_directive(fields.as_bytes()).expect("a layout");
    assert_eq!(given.flavor_name(), IIS_NAME);
    assert_eq!(given.with_head(&lines("no directive here")), given);
    let line = "2024-03-01 10:00:05 10.0.0.4 GET /cart id=7 443 - 203.0.113.7 curl/8 - 503 0 0 250";
    let (record, _) = given.parse(line.as_bytes()).expect("a request");
    assert_eq!(
        (
            String::from_utf8_lossy(record.client).into_owned(),
            record.status
        ),
        ("203.0.113.7".to_string(), 503)
    );
    assert_eq!(record.duration_us, Some(250_000));
    assert_eq!(record.arrival(), utc_ms(2024, 3, 1, 10, 0, 4) + 750);
    let refusals = [
        (
            "no directive",
            "date time sc-status",
            "starting with #Fields:",
        ),
        ("no status", "#Fields: date time c-ip", "no sc-status"),
    ];
    for (name, text, expected) in refusals {
        let error = W3cParser::from_fields_directive(text.as_bytes()).expect_err(name);
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn a_second_fields_header_changes_the_columns() {
    let mut parser = W3cParser::from_head(&lines(IIS_HEAD));
    let restarted = b"#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-bytes time-taken";
    assert_eq!(
        parser.parse(restarted).map(|_| ()),
        Err(LineError::directive(DIRECTIVE_REASON))
    );
    parser.apply_directive(restarted);
    check(
        "after the second header",
        &parser,
        "2024-03-01 11:00:00 198.51.100.2 POST /api/orders 502 312 30001",
        &Expected {
            client: "198.51.100.2",
            arrival: utc_ms(2024, 3, 1, 10, 59, 29) + 999,
            request: "POST /api/orders",
            status: 502,
            bytes: Some(312),
            user_agent: None,
            referer: None,
            duration_us: Some(30_001_000),
            host: None,
        },
    );
    // A line of the first layout still reads (by its number of fields).
    let old = "2024-03-01 11:00:01 10.0.0.4 GET / - 443 - 203.0.113.7 curl/8 - 200 0 0 5";
    assert_eq!(parser.parse(old.as_bytes()).map(|(r, _)| r.status), Ok(200));
}

#[test]
fn iis_advanced_logging_quoted_fields_and_local_time() {
    let parser = W3cParser::from_head(&[
        b"#Fields: date-local time-local c-ip cs-method cs-uri-stem sc-status time-taken cs(User-Agent)".as_slice(),
    ]);
    check(
        "quoted fields with spaces",
        &parser,
        r#"2024-03-01 10:00:01 "203.0.113.7" "GET" "/cart" "503" "15" "Mozilla/5.0 (Windows NT 10.0)""#,
        &Expected {
            client: "203.0.113.7",
            arrival: utc_ms(2024, 3, 1, 10, 0, 1) - 15,
            request: "/cart",
            status: 503,
            bytes: None,
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0)"),
            referer: None,
            duration_us: Some(15_000),
            host: None,
        },
    );
}

#[test]
fn damage_is_named() {
    let parser = W3cParser::from_head(&lines(IIS_HEAD));
    let cases = [
        (
            "too few fields",
            "2024-03-01 10:00:01 10.0.0.4 GET /",
            "expected as many fields as the #Fields: header names",
        ),
        (
            "bad date",
            "2024-13-01 10:00:01 10.0.0.4 GET / - 443 - 203.0.113.7 curl/8 - 200 0 0 5",
            "expected the date and time as 2024-03-01 and 10:00:00",
        ),
        (
            "bad status",
            "2024-03-01 10:00:01 10.0.0.4 GET / - 443 - 203.0.113.7 curl/8 - OK 0 0 5",
            "expected sc-status as a 3-digit number",
        ),
        (
            "bad time-taken",
            "2024-03-01 10:00:01 10.0.0.4 GET / - 443 - 203.0.113.7 curl/8 - 200 0 0 5ms",
            "expected time-taken as a number",
        ),
    ];
    for (name, line, reason) in cases {
        assert_eq!(
            parser.parse(line.as_bytes()).map(|_| ()),
            Err(LineError::new(reason)),
            "{name}"
        );
    }
}

/// A trailing separator adds an empty last field; at the 64-field bound
/// that field was written one past the end of the array (found by the
/// `load_balancer_lines` fuzz target, `corpus/load_balancer_lines/crash_w3c_64_tabs`).
#[test]
fn a_trailing_separator_counts_towards_the_field_bound() {
    let parser = W3cParser::from_head(&lines(IIS_HEAD));
    let cases = [
        (
            "63 fields and a trailing space: 64",
            "a ".repeat(63),
            "expected as many fields as the #Fields: header names",
        ),
        (
            "64 fields and a trailing space: 65",
            "a ".repeat(64),
            "expected at most 64 fields",
        ),
        (
            "64 fields and a trailing tab: 65",
            "a\t".repeat(64),
            "expected at most 64 fields",
        ),
        (
            "65 fields",
            "a ".repeat(64) + "a",
            "expected at most 64 fields",
        ),
    ];
    for (name, line, reason) in cases {
        assert_eq!(
            parser.parse(line.as_bytes()).map(|_| ()),
            Err(LineError::new(reason)),
            "{name}"
        );
    }
    // The fuzzer's input, minimised: 64 tabs, read by the parser without a
    // `#Fields:` header (CloudFront's default layout).
    assert_eq!(
        W3cParser::default()
            .parse("\t".repeat(64).as_bytes())
            .map(|_| ()),
        Err(LineError::new("expected at most 64 fields")),
    );
}

#[test]
fn no_byte_sequence_makes_it_panic() {
    use proptest::prelude::*;
    let iis = W3cParser::from_head(&lines(IIS_HEAD));
    let cloudfront = W3cParser::default();
    let line = "2024-03-01 10:00:01 10.0.0.4 GET /default.aspx - 443 - 203.0.113.7 \"Mozilla/5.0 (X)\" - 200 0 0 46";
    proptest!(|(cut in 0usize..200, insert in proptest::collection::vec(any::<u8>(), 0..8), noise in proptest::collection::vec(any::<u8>(), 0..200))| {
        for base in [line, CLOUDFRONT_LINE] {
            let mut bytes = base.as_bytes().to_vec();
            let at = cut.min(bytes.len());
            bytes.splice(at..at, insert.clone());
            let _ = iis.parse(&bytes);
            let _ = cloudfront.parse(&bytes);
        }
        let _ = iis.parse(&noise);
        let mut from_noise = W3cParser::default();
        from_noise.apply_directive(&noise);
    });
}

/// HTTP.sys's error log (`HTTPERR\httperr1.log`) with the fields
/// Microsoft documents for it.
const HTTPERR_HEAD: &str = "#Software: Microsoft HTTP API 2.0
#Version: 1.0
#Date: 2024-03-12 10:14:02
#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename";

/// (name, line, request, status, app pool, cause and reason)
type HttpErrCase = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    Option<&'static str>,
    Option<(TerminationCause, &'static str)>,
);

#[test]
fn httperr_lines_are_requests_of_the_application_pool_with_their_reason() {
    let parser = W3cParser::from_head(&lines(HTTPERR_HEAD));
    assert_eq!(parser.flavor_name(), IIS_NAME);
    assert!(!parser.has_request_time(), "HTTP.sys writes no time-taken");
    let cases: [HttpErrCase; 4] = [
        (
            "pool taken offline by rapid-fail protection",
            "2024-03-12 10:14:02 203.0.113.9 51234 10.0.0.4 443 HTTP/1.1 GET /cart?item=3 - 503 1 AppOffline ShopPool",
            "GET /cart?item=3",
            503,
            Some("ShopPool"),
            Some((TerminationCause::NoServer, "AppOffline")),
        ),
        (
            "queue full, HTTP/2 stream id",
            "2024-03-12 10:14:02 203.0.113.9 51234 10.0.0.4 443 HTTP/2.0 GET /api/stock 7 503 1 QueueFull ShopPool",
            "GET /api/stock",
            503,
            Some("ShopPool"),
            Some((TerminationCause::Overflow, "QueueFull")),
        ),
        (
            "parse error: no cause, no pool",
            "2024-03-12 10:14:02 203.0.113.9 51234 10.0.0.4 443 HTTP/1.1 GET /%%% - 400 - BadRequest -",
            "GET /%%%",
            400,
            None,
            None,
        ),
        (
            "IPv6 addresses",
            "2024-03-12 10:14:02 2001:db8::7 51234 2001:db8::1 443 HTTP/1.1 POST /checkout - 503 1 AppPoolTimer ShopPool",
            "POST /checkout",
            503,
            Some("ShopPool"),
            Some((TerminationCause::Overflow, "AppPoolTimer")),
        ),
    ];
    for (name, line, request, status, pool, cause) in cases {
        let (record, _) = parser
            .parse(line.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            record.arrival(),
            utc_ms(2024, 3, 12, 10, 14, 2),
            "{name}: answered at once, the logged second"
        );
        assert_eq!(record.duration_us, None, "{name}");
        assert_eq!(String::from_utf8_lossy(record.request), request, "{name}");
        assert_eq!(record.status, status, "{name}");
        assert_eq!(record.user_agent, None, "{name}");
        assert_eq!(
            record
                .upstream_addr
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            pool.map(str::to_string),
            "{name}"
        );
        assert_eq!(
            record.termination.map(|t| (t.cause, t.code.text())),
            cause.map(|(cause, code)| (cause, code.to_string())),
            "{name}"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(
            parser
                .parse(b"2024-03-12 10:14:02 203.0.113.9 51234 10.0.0.4 443 HTTP/1.1 GET /cart - 503 1 AppOffline ShopPool")
                .expect("a request")
                .0
                .client
        ),
        "203.0.113.9"
    );
    let idle =
        b"2024-03-12 10:20:41 198.51.100.7 50122 10.0.0.4 443 - - - - - - Timer_ConnectionIdle -";
    assert_eq!(
        parser.parse(idle).map(|_| ()),
        Err(LineError::directive(HTTP_SYS_NO_RESPONSE)),
        "a connection timer is no request"
    );
}
