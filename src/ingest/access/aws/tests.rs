//! Tests of the AWS load-balancer parsers: AWS's documented example lines
//! with every field, older shorter ALB lines, the termination causes of
//! answers the load balancer gave itself, and the lines that are not
//! requests.

use super::*;
use crate::ingest::record::seconds_as_micros;
use crate::ingest::timestamps::utc_ms;

/// What a line must read as.
struct Expected {
    client: &'static str,
    arrival: i64,
    request: &'static str,
    status: u16,
    bytes: Option<u64>,
    user_agent: Option<&'static str>,
    duration_us: Option<u64>,
    host: Option<&'static str>,
    upstream: Option<&'static str>,
    termination: Option<(TerminationCause, &'static str)>,
}

fn text(bytes: Option<&[u8]>) -> Option<String> {
    bytes.map(|b| String::from_utf8_lossy(b).into_owned())
}

fn check(name: &str, record: &AccessRecord<'_>, want: &Expected) {
    assert_eq!(
        String::from_utf8_lossy(record.client),
        want.client,
        "{name}"
    );
    assert_eq!(record.arrival(), want.arrival, "{name}");
    assert_eq!(record.offset_seconds, 0, "{name}: AWS writes UTC");
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
    assert_eq!(record.duration_us, want.duration_us, "{name}");
    assert_eq!(text(record.host), want.host.map(str::to_string), "{name}");
    assert_eq!(
        text(record.upstream_addr),
        want.upstream.map(str::to_string),
        "{name}"
    );
    assert_eq!(
        record.termination.map(|t| (t.cause, t.code.text())),
        want.termination.map(|(c, code)| (c, code.to_string())),
        "{name}"
    );
}

#[test]
fn alb_documented_and_older_lines_read_with_every_field() {
    let created = utc_ms(2018, 7, 2, 22, 22, 48) + 364;
    let answered = utc_ms(2018, 7, 2, 22, 23, 0) + 186;
    let cases: Vec<(&str, &str, Expected)> = vec![
        (
            "AWS's HTTP example: arrival is request_creation_time",
            r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#,
            Expected {
                client: "192.168.131.39",
                arrival: created,
                request: "GET http://www.example.com:80/ HTTP/1.1",
                status: 200,
                bytes: Some(366),
                user_agent: Some("curl/7.46.0"),
                duration_us: Some(1_000),
                host: Some("www.example.com:80"),
                upstream: Some("10.0.0.1:80"),
                termination: None,
            },
        ),
        (
            "a 2016 line without request_creation_time: time less the processing times",
            r#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259""#,
            Expected {
                client: "192.168.131.39",
                arrival: answered - 171,
                request: "GET https://www.example.com:443/ HTTP/1.1",
                status: 200,
                bytes: Some(57),
                user_agent: Some("curl/7.46.0"),
                duration_us: Some(171_000),
                host: Some("www.example.com:443"),
                upstream: Some("10.0.0.1:80"),
                termination: None,
            },
        ),
        (
            "no registered target: 503 from the load balancer",
            r#"h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 - -1 -1 -1 503 - 34 366 "GET https://www.example.com:443/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337327-72bd00b0343d75b906739c42" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-""#,
            Expected {
                client: "10.0.1.252",
                arrival: created,
                request: "GET https://www.example.com:443/ HTTP/2.0",
                status: 503,
                bytes: Some(366),
                user_agent: Some("curl/7.46.0"),
                duration_us: Some(11_822_000),
                host: Some("www.example.com:443"),
                upstream: None,
                termination: Some((TerminationCause::NoServer, "503")),
            },
        ),
        (
            "the target never answered within the idle timeout: 504",
            r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.001 -1 -1 504 - 34 0 "POST http://www.example.com:80/api HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:00.186000Z "forward" "-" "-" "10.0.0.1:80" "-" "-" "-""#,
            Expected {
                client: "192.168.131.39",
                arrival: utc_ms(2018, 7, 2, 22, 22, 0) + 186,
                request: "POST http://www.example.com:80/api HTTP/1.1",
                status: 504,
                bytes: Some(0),
                user_agent: None,
                duration_us: Some(60_000_000),
                host: Some("www.example.com:80"),
                upstream: Some("10.0.0.1:80"),
                termination: Some((TerminationCause::ServerTimeout, "504")),
            },
        ),
    ];
    for (name, line, want) in &cases {
        let (record, rest) = parse_alb(line.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(rest.is_empty(), "{name}");
        check(name, &record, want);
    }
}

#[test]
fn classic_elb_documented_lines_read_with_every_field() {
    let at = utc_ms(2015, 5, 13, 23, 39, 43) + 945;
    let cases: Vec<(&str, &str, Expected)> = vec![
        (
            "HTTP",
            r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#,
            Expected {
                client: "192.168.131.39",
                arrival: at,
                request: "GET http://www.example.com:80/ HTTP/1.1",
                status: 200,
                bytes: Some(29),
                user_agent: Some("curl/7.38.0"),
                duration_us: Some(1_178),
                host: Some("www.example.com:80"),
                upstream: Some("10.0.0.1:80"),
                termination: None,
            },
        ),
        (
            "HTTPS",
            r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2"#,
            Expected {
                client: "192.168.131.39",
                arrival: at,
                request: "GET https://www.example.com:443/ HTTP/1.1",
                status: 200,
                bytes: Some(57),
                user_agent: Some("curl/7.38.0"),
                duration_us: Some(2_471),
                host: Some("www.example.com:443"),
                upstream: Some("10.0.0.1:80"),
                termination: None,
            },
        ),
        (
            "TCP listener: no status",
            r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -"#,
            Expected {
                client: "192.168.131.39",
                arrival: at,
                request: "- - - ",
                status: 0,
                bytes: Some(305),
                user_agent: None,
                duration_us: Some(1_138),
                host: None,
                upstream: Some("10.0.0.1:80"),
                termination: None,
            },
        ),
    ];
    for (name, line, want) in &cases {
        let (record, rest) = parse_elb(line.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(rest.is_empty(), "{name}: {rest:?}");
        check(name, &record, want);
    }
}

#[test]
fn lines_that_are_not_requests_are_named() {
    let cases = [
        (
            "NLB",
            "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30",
            NLB_LINE,
        ),
        (
            "connection log",
            "2023-10-12T18:40:39.498532Z 192.168.1.1 5678 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 \"-\" - - - Success - TID_1234abcd5678ef90",
            CONNECTION_LOG_LINE,
        ),
    ];
    for (name, line, reason) in cases {
        assert_eq!(
            parse_alb(line.as_bytes()).map(|_| ()),
            Err(LineError::new(reason)),
            "{name}"
        );
    }
    let connection = cases[1].1.as_bytes();
    assert_eq!(
        parse_elb(connection).map(|_| ()),
        Err(LineError::new(CONNECTION_LOG_LINE))
    );
}

#[test]
fn no_byte_sequence_makes_them_panic() {
    use proptest::prelude::*;
    let alb = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn "Root" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward""#;
    proptest!(|(cut in 0usize..260, insert in proptest::collection::vec(any::<u8>(), 0..8))| {
        let mut line = alb.as_bytes().to_vec();
        let at = cut.min(line.len());
        line.splice(at..at, insert);
        let _ = parse_alb(&line);
        let _ = parse_elb(&line[line.len().min(5)..]);
        line.truncate(at);
        let _ = parse_alb(&line);
    });
}

/// The cached second gives what `parse_iso8601` gives, in the order a log
/// meets times: a new second, the same again, two alternating (a line's
/// `time` and `request_creation_time`), a third that evicts the older, and
/// shapes the cache does not take.
#[test]
fn cached_times_read_as_parse_iso8601_reads_them() {
    let cases = [
        ("first of a second", "2018-07-02T22:23:00.186641Z"),
        ("same second, cached", "2018-07-02T22:23:00.999999Z"),
        ("the creation second", "2018-07-02T22:22:48.364000Z"),
        (
            "back to the first, still cached",
            "2018-07-02T22:23:00.000001Z",
        ),
        (
            "a third second evicts the older",
            "2018-07-02T22:24:01.500000Z",
        ),
        ("the evicted one again", "2018-07-02T22:22:48.364000Z"),
        ("new day", "2018-07-03T00:00:00.000000Z"),
        ("leap day", "2024-02-29T12:00:00.250000Z"),
        ("no fraction", "2018-07-02T22:23:00Z"),
        ("millisecond fraction", "2018-07-02T22:23:00.186Z"),
        ("with an offset", "2018-07-02T22:23:00.186641+01:00"),
        ("invalid day, exact shape", "2018-02-30T22:23:00.186641Z"),
        ("invalid hour, exact shape", "2018-07-02T24:23:00.186641Z"),
        ("letter in the fraction", "2018-07-02T22:23:00.18664xZ"),
        ("space for the T", "2018-07-02 22:23:00.186641Z"),
    ];
    for (name, time) in cases {
        let expected = parse_iso8601(time.as_bytes()).map(|(at, _)| at);
        assert_eq!(aws_time(time.as_bytes()), expected, "{name}: {time}");
    }
    assert_eq!(
        aws_time(b"2018-07-02T22:23:00.186641Z"),
        Some(utc_ms(2018, 7, 2, 22, 23, 0) + 186),
        "a concrete value, not only agreement"
    );
}

/// The word-at-a-time shape check says what a byte loop says: `.`, six
/// digits and `Z` after the second, whatever the other bytes are.
#[test]
fn the_aws_shape_is_a_point_six_digits_and_z() {
    let shape_by_bytes = |text: &[u8; AWS_TIME_LEN]| {
        text[AWS_SECOND_LEN] == b'.'
            && text[AWS_TIME_LEN - 1] == b'Z'
            && text[AWS_SECOND_LEN + 1..AWS_TIME_LEN - 1]
                .iter()
                .all(u8::is_ascii_digit)
    };
    let cases = [
        ("AWS's time", "2018-07-02T22:23:00.186641Z", true),
        ("all nines", "2018-07-02T22:23:00.999999Z", true),
        (
            "a colon (digit + 10) in the fraction",
            "2018-07-02T22:23:00.18664:Z",
            false,
        ),
        (
            "a slash (digit - 1) in the fraction",
            "2018-07-02T22:23:00./86641Z",
            false,
        ),
        ("z, not Z", "2018-07-02T22:23:00.186641z", false),
        (
            "a comma for the point",
            "2018-07-02T22:23:00,186641Z",
            false,
        ),
        ("an offset's shape", "2018-07-02T22:23:00.1866+01", false),
    ];
    for (name, time, expected) in cases {
        let text =
            <&[u8; AWS_TIME_LEN]>::try_from(time.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(has_aws_shape(text), expected, "{name}");
        assert_eq!(shape_by_bytes(text), expected, "{name}: the reference");
    }
    use proptest::prelude::*;
    proptest!(|(tail in proptest::array::uniform8(prop_oneof![Just(b'.'), Just(b'Z'), Just(b'0'), Just(b'9'), 0x2au8..0x3f, any::<u8>()]))| {
        let mut text = *b"2018-07-02T22:23:00.186641Z";
        text[AWS_SECOND_LEN..].copy_from_slice(&tail);
        prop_assert_eq!(has_aws_shape(&text), shape_by_bytes(&text));
    });
}

/// A time in the minute of a known one reads as `exact_aws_time` reads it
/// (seconds 00 to 60, as `parse_iso8601` takes them); another minute, hour
/// or day, or a second it refuses, is left to `exact_aws_time`.
#[test]
fn times_in_a_known_minute_read_as_exact_aws_time() {
    let known = b"2024-03-11T23:00:20.447000Z";
    let cases = [
        ("the same second", "2024-03-11T23:00:20.403000Z", true),
        ("an earlier second", "2024-03-11T23:00:00.000000Z", true),
        ("a later second", "2024-03-11T23:00:59.999999Z", true),
        ("a leap second", "2024-03-11T23:00:60.125000Z", true),
        ("second 61: refused", "2024-03-11T23:00:61.000000Z", false),
        ("second 70: refused", "2024-03-11T23:00:70.000000Z", false),
        ("the minute before", "2024-03-11T22:59:59.990000Z", false),
        ("another day", "2024-03-10T23:00:20.447000Z", false),
    ];
    let known_at = exact_aws_time(known);
    assert_eq!(known_at, Some(utc_ms(2024, 3, 11, 23, 0, 20) + 447));
    let known_at = known_at.unwrap_or_default();
    for (name, time, in_minute) in cases {
        let text =
            <&[u8; AWS_TIME_LEN]>::try_from(time.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let read = time_in_minute_of(text, known, known_at);
        assert_eq!(read.is_some(), in_minute, "{name}: read from the minute");
        if in_minute {
            assert_eq!(read, exact_aws_time(text), "{name}");
        }
    }
    assert_eq!(
        time_in_minute_of(b"2024-03-11T23:00:60.125000Z", known, known_at),
        Some(utc_ms(2024, 3, 11, 23, 1, 0) + 125)
    );
    use proptest::prelude::*;
    proptest!(|(known_second in 0u8..61, second in 0u8..80, known_fraction in 0u32..1_000_000, fraction in 0u32..1_000_000)| {
        let known = format!("2024-03-11T23:00:{known_second:02}.{known_fraction:06}Z");
        let time = format!("2024-03-11T23:00:{second:02}.{fraction:06}Z");
        let (Ok(known), Ok(text)) = (<&[u8; AWS_TIME_LEN]>::try_from(known.as_bytes()), <&[u8; AWS_TIME_LEN]>::try_from(time.as_bytes())) else {
            return Err(TestCaseError::fail("27 bytes"));
        };
        let known_at = exact_aws_time(known).unwrap_or_default();
        if let Some(read) = time_in_minute_of(text, known, known_at) {
            prop_assert_eq!(Some(read), exact_aws_time(text));
        } else {
            prop_assert!(second > 60);
        }
    });
}

#[test]
fn whole_fields_read_as_seconds_as_micros_reads_them() {
    let cases = [
        ("documented", "0.000"),
        ("millis", "0.044"),
        ("micros", "1.234567"),
        ("past micros", "1.2345678"),
        ("whole seconds", "12"),
        ("point without digits", "3."),
        ("huge", "99999999999999999999.5"),
        ("no digits", ".5"),
        ("empty", ""),
        ("minus", "-1"),
        ("trailing letter", "0.5s"),
        ("letter before the point", "1x.5"),
        ("two points", "1.2.3"),
    ];
    for (name, text) in cases {
        let general = match seconds_as_micros(text.as_bytes()) {
            Ok(([], micros)) => Some(micros),
            _ => None,
        };
        assert_eq!(
            whole_seconds_as_micros(text.as_bytes()),
            general,
            "{name}: {text}"
        );
    }
    assert_eq!(whole_seconds_as_micros(b"0.044"), Some(44_000));
}

/// A line of the benchmark's ALB log (`cargo bench --bench gen_log --
/// --format alb`): the shape the fast reader is for.
const BENCH_LINE: &str = r#"https 2024-03-11T23:00:20.447000Z app/shop/50dc6c495c0c9188 46.34.232.219:40403 10.0.1.12:8080 0.000 0.044 0.000 200 200 412 9799 "GET https://shop.example:443/api/v1/products/23442 HTTP/1.1" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop/73e2d6bc24d8a067 "Root=1-65f1c0de-000000000000000000004fb3" "shop.example" "arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2024-03-11T23:00:20.403000Z "forward" "-" "-" "10.0.1.12:8080" "200" "-" "-" TID_00000000000000000000000000004fdf"#;

/// The fast reader takes the lines AWS writes and gives exactly the
/// general reader's record; the lines it leaves (no
/// `request_creation_time`, a field of another shape) the general reader
/// reads.
#[test]
fn the_fast_reader_reads_as_the_general_reader() {
    let documented = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#;
    let no_target = r#"h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 - -1 -1 -1 503 - 34 366 "GET https://www.example.com:443/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337327-72bd00b0343d75b906739c42" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-""#;
    let cases: [(&str, String, bool); 11] = [
        ("AWS's HTTP example", documented.to_string(), true),
        ("no target, -1 times, status -", no_target.to_string(), true),
        ("the benchmark's line", BENCH_LINE.to_string(), true),
        (
            "no request_creation_time: left to the general reader",
            BENCH_LINE[..BENCH_LINE.find(" ECDHE").unwrap_or(0)].to_string(),
            false,
        ),
        (
            "creation time with a millisecond fraction: left",
            BENCH_LINE.replace("20.403000Z", "20.403Z"),
            false,
        ),
        (
            "a + in a processing time: left",
            BENCH_LINE.replace(" 0.044 ", " +0.044 "),
            false,
        ),
        (
            "a four-digit status: left",
            BENCH_LINE.replace(" 200 200 ", " 2000 200 "),
            false,
        ),
        (
            "created in the minute before",
            BENCH_LINE.replace("23:00:20.403000Z", "22:59:59.990000Z"),
            true,
        ),
        (
            "created in a leap second",
            BENCH_LINE.replace("23:00:20.403000Z", "23:00:60.403000Z"),
            true,
        ),
        (
            "creation second 61: left (the general reader falls back to time)",
            BENCH_LINE.replace("23:00:20.403000Z", "23:00:61.403000Z"),
            false,
        ),
        (
            "received bytes not a number: read as the general reader reads them",
            BENCH_LINE.replace(" 412 9799 ", " x 9799 "),
            true,
        ),
    ];
    for (name, line, fast) in &cases {
        let general = parse_alb_general(line.as_bytes());
        let mut parsed = Err(LineError::new("not read"));
        assert_eq!(
            parse_alb_fast(line.as_bytes(), &mut parsed),
            *fast,
            "{name}: which reader"
        );
        if *fast {
            assert_eq!(parsed, general, "{name}");
        }
    }
    let (record, _) = parse_alb(BENCH_LINE.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(record.arrival(), utc_ms(2024, 3, 11, 23, 0, 20) + 403);
    assert_eq!(record.duration_us, Some(44_000));
    assert_eq!(record.host, Some(&b"shop.example:443"[..]));
    use proptest::prelude::*;
    proptest!(|(line in 0usize..3, cut in 0usize..700, insert in proptest::collection::vec(any::<u8>(), 0..6))| {
        let mut bytes = cases[line].1.as_bytes().to_vec();
        let at = cut.min(bytes.len());
        bytes.splice(at..at, insert);
        let mut parsed = Err(LineError::new("not read"));
        if parse_alb_fast(&bytes, &mut parsed) {
            prop_assert_eq!(parsed, parse_alb_general(&bytes));
        }
    });
}

/// `field_start` finds where `nth_field` finds the field, across its
/// 64- and 16-byte blocks and the bytes after them.
#[test]
fn field_starts_are_where_nth_field_finds_them() {
    let long = "x".repeat(70);
    let cases: [(&str, String); 6] = [
        ("empty", String::new()),
        ("short", "a b c".to_string()),
        ("spaces in a row", "a  b   c ".to_string()),
        (
            "fields past 64 bytes",
            format!("{long} {long} a {long} b c d e f g h i j"),
        ),
        ("the benchmark's line", BENCH_LINE.to_string()),
        ("all spaces", " ".repeat(100)),
    ];
    for (name, text) in &cases {
        let text = text.as_bytes();
        for index in 1..12 {
            let found = field_start(text, index).map(|start| {
                let end = find_byte(b' ', &text[start..]).map_or(text.len(), |at| start + at);
                &text[start..end]
            });
            assert_eq!(found, nth_field(text, index), "{name}: field {index}");
        }
    }
    assert_eq!(field_start(b"a b c", 2), Some(4));
    use proptest::prelude::*;
    proptest!(|(text in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'a')], 0..300), index in 1usize..40)| {
        let found = field_start(&text, index).map(|start| {
            let end = find_byte(b' ', &text[start..]).map_or(text.len(), |at| start + at);
            &text[start..end]
        });
        prop_assert_eq!(found, nth_field(&text, index));
    });
}

/// The fast steps for processing times and byte counts give what the
/// general steps give, and leave the same rest of the line.
#[test]
fn fast_number_steps_read_as_the_general_steps() {
    let times = [
        ("milliseconds", "0.044 x", true),
        ("zero", "0.000 x", true),
        ("at the end", "1.500", true),
        ("microseconds (Classic)", "0.000073 x", true),
        ("whole seconds", "12 x", true),
        ("point without digits", "3. x", true),
        ("never answered", "-1 x", true),
        ("seven fraction digits: general", "0.0000001 x", false),
        ("two points: general", "1.2.3 x", false),
        ("a sign: general", "+0.5 x", false),
    ];
    for (name, text, fast) in times {
        let mut fields = Fields {
            rest: text.as_bytes(),
        };
        let mut general = Fields {
            rest: text.as_bytes(),
        };
        let expected = general.next("").and_then(processing_time);
        match fields.seconds() {
            Some(value) => {
                assert!(fast, "{name}: read by the fast step");
                assert_eq!(Ok(value), expected, "{name}");
                assert_eq!(fields.rest, general.rest, "{name}: the rest");
            }
            None => assert!(!fast, "{name}: left to the general step"),
        }
    }
    assert_eq!(Fields { rest: b"0.044 x" }.seconds(), Some(Some(44_000)));
    let counts = [
        ("bytes", "9799 x", Some(Some(9799))),
        ("absent", "- x", Some(None)),
        ("a letter: general", "97x9 x", None),
        ("nineteen digits: general", "1234567890123456789 x", None),
    ];
    for (name, text, expected) in counts {
        assert_eq!(
            Fields {
                rest: text.as_bytes()
            }
            .count(),
            expected,
            "{name}"
        );
    }
}

/// The URL read once gives the host and the path the two functions give:
/// absolute URLs as the ALB writes them, and the lines they are left to.
#[test]
fn host_and_path_read_as_request_host_and_request_path() {
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: [Case; 12] = [
        (
            "the benchmark's request",
            "GET https://shop.example:443/api/v1/products/23442 HTTP/1.1",
            Some("shop.example:443"),
            Some("https://shop.example:443/api/v1/products/23442"),
        ),
        (
            "http, a query",
            "GET http://www.example.com:80/search?q=a%20b HTTP/1.1",
            Some("www.example.com:80"),
            Some("http://www.example.com:80/search"),
        ),
        (
            "the root",
            "GET http://h:80/ HTTP/1.1",
            Some("h:80"),
            Some("http://h:80/"),
        ),
        (
            "no path",
            "GET https://h:443 HTTP/2.0",
            Some("h:443"),
            Some("https://h:443"),
        ),
        (
            "a query right after the host",
            "GET https://h:443?x HTTP/2.0",
            Some("h:443"),
            Some("https://h:443"),
        ),
        (
            "no version",
            "GET https://h:443/a",
            Some("h:443"),
            Some("https://h:443/a"),
        ),
        (
            "no host",
            "GET https:///a HTTP/1.1",
            None,
            Some("https:///a"),
        ),
        (
            "a dash for a host",
            "GET http://-/a HTTP/1.1",
            None,
            Some("http://-/a"),
        ),
        (
            "a relative target: apart",
            "GET /a?b HTTP/1.1",
            None,
            Some("/a"),
        ),
        (
            "another scheme: apart",
            "CONNECT wss://h:443/ws HTTP/1.1",
            Some("h:443"),
            Some("wss://h:443/ws"),
        ),
        (
            "no method: apart",
            " https://h:443/a HTTP/1.1",
            Some("h:443"),
            None,
        ),
        ("the ALB's dash", "-", None, None),
    ];
    for (name, request, host, path) in cases {
        let (found_host, found_path) = host_and_path(request.as_bytes());
        assert_eq!(text(found_host), host.map(str::to_string), "{name}: host");
        assert_eq!(text(found_path), path.map(str::to_string), "{name}: path");
        assert_eq!(
            found_host,
            request_host(request.as_bytes()),
            "{name}: as request_host"
        );
        assert_eq!(
            found_path,
            request_path(request.as_bytes()),
            "{name}: as request_path"
        );
    }
    use proptest::prelude::*;
    let pieces = prop_oneof![
        Just(&b"GET"[..]),
        Just(&b" "[..]),
        Just(&b"https://"[..]),
        Just(&b"http://"[..]),
        Just(&b"h:443"[..]),
        Just(&b"/"[..]),
        Just(&b"?"[..]),
        Just(&b":"[..]),
        Just(&b"-"[..]),
        Just(&b"a"[..]),
    ];
    proptest!(|(parts in proptest::collection::vec(pieces, 0..10))| {
        let request = parts.concat();
        prop_assert_eq!(
            host_and_path(&request),
            (request_host(&request), request_path(&request))
        );
    });
}

/// The five numbers read as words give what the field-by-field steps
/// give and leave the same rest; any other shape is left to them.
#[test]
fn usual_times_and_statuses_read_as_the_field_steps() {
    type Case = (&'static str, &'static str, Option<([u64; 3], u16, u16)>);
    let cases: [Case; 10] = [
        (
            "the benchmark's numbers",
            "0.000 0.044 0.000 200 200 412 9799 \"GET",
            Some(([0, 44_000, 0], 200, 200)),
        ),
        (
            "every digit",
            "9.876 1.234 5.678 503 499 0 0 \"x\" \"y\"",
            Some(([9_876_000, 1_234_000, 5_678_000], 503, 499)),
        ),
        (
            "never answered: left",
            "0.001 -1 -1 504 - 34 0 \"POST",
            None,
        ),
        (
            "a target status -: left",
            "0.000 0.001 0.000 460 - 0 0 \"GET x",
            None,
        ),
        (
            "microseconds (Classic): left",
            "0.000073 0.001 0.000 200 200 0 0 x",
            None,
        ),
        (
            "ten seconds: left",
            "10.000 0.001 0.000 200 200 0 0 \"GET x",
            None,
        ),
        (
            "a letter in a status: left",
            "0.000 0.044 0.000 2x0 200 412 9799 \"GET",
            None,
        ),
        (
            "a colon after a digit: left",
            "0.000 0.04: 0.000 200 200 412 9799 \"GET",
            None,
        ),
        (
            "a four-digit status: left",
            "0.000 0.044 0.000 2000 200 412 9799 \"GET",
            None,
        ),
        (
            "fewer than 32 bytes: left",
            "0.000 0.044 0.000 200 200 1 2",
            None,
        ),
    ];
    for (name, text, expected) in cases {
        let mut fields = Fields {
            rest: text.as_bytes(),
        };
        let found = fields.usual_times_and_statuses();
        assert_eq!(found, expected, "{name}");
        let mut steps = Fields {
            rest: text.as_bytes(),
        };
        let read = (|| {
            let times = [steps.seconds()?, steps.seconds()?, steps.seconds()?];
            Some((times, steps.status()?, steps.status()?))
        })();
        if let Some((times, elb, target)) = found {
            assert_eq!(
                read,
                Some((times.map(Some), Some(elb), Some(target))),
                "{name}: as the steps"
            );
            assert_eq!(fields.rest, steps.rest, "{name}: the rest");
        }
    }
    use proptest::prelude::*;
    let bytes = prop_oneof![
        8 => b'0'..=b'9',
        1 => Just(b'.'),
        1 => Just(b' '),
        1 => Just(b'-'),
        1 => Just(b':'),
        1 => Just(b'/'),
        1 => any::<u8>(),
    ];
    // Shapes near the usual one: each byte of it, or any byte.
    proptest!(|(mutations in proptest::collection::vec((0usize..32, bytes), 0..3))| {
        let mut text = b"1.234 0.044 9.999 200 503 412 9799 \"GET".to_vec();
        for (at, byte) in mutations {
            text[at] = byte;
        }
        let mut fields = Fields { rest: &text };
        if let Some((times, elb, target)) = fields.usual_times_and_statuses() {
            let mut steps = Fields { rest: &text };
            let times_read = [steps.seconds(), steps.seconds(), steps.seconds()];
            prop_assert_eq!(times_read, times.map(|us| Some(Some(us))));
            prop_assert_eq!(steps.status(), Some(Some(elb)));
            prop_assert_eq!(steps.status(), Some(Some(target)));
            prop_assert_eq!(fields.rest, steps.rest);
        }
    });
}
