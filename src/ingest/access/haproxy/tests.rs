//! Tests of the HAProxy parser: the configuration manual's example lines
//! with every field, the syslog headers it is written behind, the
//! termination-state table, HAProxy's own messages and damaged lines.

use super::*;
use crate::ingest::timestamps::utc_ms;

/// What a line must read as.
struct Expected {
    client: &'static str,
    at: i64,
    offset: i32,
    request: &'static str,
    status: u16,
    bytes: Option<u64>,
    duration_us: Option<u64>,
    upstream: &'static str,
    termination: Option<(TerminationCause, &'static str)>,
}

fn check(name: &str, line: &str, want: &Expected) {
    let (record, rest) = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(
        String::from_utf8_lossy(record.client),
        want.client,
        "{name}"
    );
    assert_eq!(record.logged_at, want.at, "{name}");
    assert_eq!(record.offset_seconds, want.offset, "{name}");
    assert_eq!(
        String::from_utf8_lossy(record.request),
        want.request,
        "{name}"
    );
    assert_eq!(record.status, want.status, "{name}");
    assert_eq!(record.bytes, want.bytes, "{name}");
    assert_eq!(record.duration_us, want.duration_us, "{name}");
    assert_eq!(
        record
            .upstream_addr
            .map(|u| String::from_utf8_lossy(u).into_owned()),
        Some(want.upstream.to_string()),
        "{name}"
    );
    assert_eq!(
        record.termination.map(|t| (t.cause, t.code.text())),
        want.termination.map(|(c, code)| (c, code.to_string())),
        "{name}"
    );
    assert!(
        !record.logged_at_completion,
        "{name}: the accept date is the arrival"
    );
    assert!(rest.iter().all(u8::is_ascii_whitespace), "{name}: {rest:?}");
}

#[test]
fn the_manuals_examples_read_with_every_field() {
    let feb_6 = |h, m, s, ms| utc_ms(2009, 2, 6, h, m, s) + ms;
    let cases: Vec<(&str, &str, Expected)> = vec![
        (
            "HTTP log (8.2.3), RFC 3164 header",
            r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
            Expected {
                client: "10.0.1.2",
                at: feb_6(12, 14, 14, 655),
                offset: 0,
                request: "GET /index.html HTTP/1.1",
                status: 200,
                bytes: Some(2750),
                duration_us: Some(109_000),
                upstream: "static/srv1",
                termination: None,
            },
        ),
        (
            "HTTPS log (8.2.4): TLS fields after the request",
            r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] https-in~ static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1" 0/0/0/0/0 1wt.eu/TLSv1.3/TLS_AES_256_GCM_SHA384"#,
            Expected {
                client: "10.0.1.2",
                at: feb_6(12, 14, 14, 655),
                offset: 0,
                request: "GET /index.html HTTP/1.1",
                status: 200,
                bytes: Some(2750),
                duration_us: Some(109_000),
                upstream: "static/srv1",
                termination: None,
            },
        ),
        (
            "TCP log (8.2.2): a connection",
            "Feb  6 12:12:56 localhost haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0",
            Expected {
                client: "10.0.1.2",
                at: feb_6(12, 12, 51, 443),
                offset: 0,
                request: "-",
                status: 200,
                bytes: Some(212),
                duration_us: Some(5_007_000),
                upstream: "bck/srv1",
                termination: None,
            },
        ),
        (
            "client timeout with logasap '+' and an empty request (8.5)",
            r#"haproxy[18113]: 127.0.0.1:34549 [15/Oct/2003:15:19:06.103] px-http px-http/<NOSRV> -1/-1/-1/-1/+50001 408 +0 - - cR-- 2/2/2/0/0 0/0 """#,
            Expected {
                client: "127.0.0.1",
                at: utc_ms(2003, 10, 15, 15, 19, 6) + 103,
                offset: 0,
                request: "",
                status: 408,
                bytes: Some(0),
                duration_us: Some(50_001_000),
                upstream: "px-http/<NOSRV>",
                termination: Some((TerminationCause::ClientTimeout, "cR")),
            },
        ),
        (
            "no server available, plain file, no captures",
            r#"10.0.0.5:51234 [01/Mar/2024:10:00:00.100] fe www/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
            Expected {
                client: "10.0.0.5",
                at: utc_ms(2024, 3, 1, 10, 0, 0) + 100,
                offset: 0,
                request: "GET / HTTP/1.1",
                status: 503,
                bytes: Some(217),
                duration_us: Some(0),
                upstream: "www/<NOSRV>",
                termination: Some((TerminationCause::NoServer, "SC")),
            },
        ),
        (
            "RFC 5424 header with an offset: the accept date is local time there",
            r#"<134>1 2024-03-01T10:00:00.123+01:00 lb01 haproxy 1234 - - 10.0.0.5:51234 [01/Mar/2024:10:00:00.100] fe www/app1 0/0/1/-1/30001 504 194 - - sH-- 1/1/0/0/0 0/0 "POST /api/cart HTTP/1.1""#,
            Expected {
                client: "10.0.0.5",
                at: utc_ms(2024, 3, 1, 9, 0, 0) + 100,
                offset: 3600,
                request: "POST /api/cart HTTP/1.1",
                status: 504,
                bytes: Some(194),
                duration_us: Some(30_001_000),
                upstream: "www/app1",
                termination: Some((TerminationCause::ServerTimeout, "sH")),
            },
        ),
        (
            "journald short-iso header, client gone: status -1",
            r#"2024-03-01T10:00:00+0000 lb01 haproxy[7]: 192.0.2.9:40000 [01/Mar/2024:10:00:00.001] fe www/app2 0/0/0/-1/12 -1 0 - - CD-- 1/1/0/0/0 0/0 "GET /big HTTP/1.1""#,
            Expected {
                client: "192.0.2.9",
                at: utc_ms(2024, 3, 1, 10, 0, 0) + 1,
                offset: 0,
                request: "GET /big HTTP/1.1",
                status: 0,
                bytes: Some(0),
                duration_us: Some(12_000),
                upstream: "www/app2",
                termination: Some((TerminationCause::ClientAborted, "CD")),
            },
        ),
        (
            "a line cut by the syslog length limit keeps its request",
            r#"Mar  1 10:00:00 lb01 haproxy[7]: 192.0.2.9:40000 [01/Mar/2024:10:00:00.001] fe www/app2 0/0/0/5/6 200 10 - - ---- 1/1/0/0/0 0/0 "GET /search?q=aaaaaaaa"#,
            Expected {
                client: "192.0.2.9",
                at: utc_ms(2024, 3, 1, 10, 0, 0) + 1,
                offset: 0,
                request: "GET /search?q=aaaaaaaa",
                status: 200,
                bytes: Some(10),
                duration_us: Some(6_000),
                upstream: "www/app2",
                termination: None,
            },
        ),
        (
            "IPv6 client, TCP connection refused by the server",
            "2001:db8::7:51000 [01/Mar/2024:10:00:00.250] fe-tcp db/pg1 0/-1/3 0 SC 1/1/0/0/3 0/0",
            Expected {
                client: "2001:db8::7",
                at: utc_ms(2024, 3, 1, 10, 0, 0) + 250,
                offset: 0,
                request: "-",
                status: 502,
                bytes: Some(0),
                duration_us: Some(3_000),
                upstream: "db/pg1",
                termination: Some((TerminationCause::ConnectFailed, "SC")),
            },
        ),
    ];
    for (name, line, want) in &cases {
        check(name, line, want);
    }
}

#[test]
fn termination_states_map_to_causes() {
    let cases: [(&str, &str, bool, Option<TerminationCause>); 14] = [
        ("normal", "----", false, None),
        ("answered by haproxy", "LR--", false, None),
        ("no server", "SC--", true, Some(TerminationCause::NoServer)),
        (
            "queue timeout without server",
            "sQ--",
            true,
            Some(TerminationCause::NoServer),
        ),
        (
            "refused",
            "SC--",
            false,
            Some(TerminationCause::ConnectFailed),
        ),
        (
            "connect timeout",
            "sC--",
            false,
            Some(TerminationCause::ConnectFailed),
        ),
        (
            "server closed in headers",
            "SH--",
            false,
            Some(TerminationCause::ServerAborted),
        ),
        (
            "server timeout",
            "sH--",
            false,
            Some(TerminationCause::ServerTimeout),
        ),
        (
            "queue timeout",
            "sQ--",
            false,
            Some(TerminationCause::Overflow),
        ),
        (
            "client aborted",
            "CD--",
            false,
            Some(TerminationCause::ClientAborted),
        ),
        (
            "client timeout",
            "cD--",
            false,
            Some(TerminationCause::ClientTimeout),
        ),
        ("denied", "PR--", true, Some(TerminationCause::ProxyDenied)),
        (
            "out of resources",
            "RC--",
            false,
            Some(TerminationCause::Overflow),
        ),
        (
            "killed by admin",
            "KD--",
            false,
            Some(TerminationCause::ProxyKilled),
        ),
    ];
    for (name, state, no_server, cause) in cases {
        assert_eq!(
            termination(state.as_bytes(), no_server).map(|t| t.cause),
            cause,
            "{name}"
        );
    }
}

#[test]
fn haproxys_own_lines_are_messages_and_damage_is_named() {
    let messages = [
        "Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.",
        "Feb 25 16:20:15 192.168.4.2 haproxy[7]: 95.216.197.33:56224 [25/Feb/2019:16:20:10.111] prod_http_in/sktst2: SSL handshake failure",
        "Mar  1 10:00:00 lb01 haproxy[7]: Server www/app1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 0 backup servers left.",
        "Mar  1 10:00:00 lb01 haproxy[7]: backend www has no server available!",
        "[NOTICE]   (1) : haproxy version is 2.8.3",
    ];
    for line in messages {
        let error = parse(line.as_bytes()).expect_err(line);
        assert!(error.is_message, "{line}");
        assert_eq!(error.reason, MESSAGE_REASON, "{line}");
    }
    let damaged = [
        (
            "four timers",
            r#"10.0.0.5:1 [01/Mar/2024:10:00:00.100] fe www/a 0/0/0/0 200 1 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
            "expected five timers TR/Tw/Tc/Tr/Ta (HTTP log) or three Tw/Tc/Tt (TCP log)",
        ),
        (
            "bad date",
            r#"10.0.0.5:1 [31/Feb/2024:10:00:00.100] fe www/a 0/0/0/0/1 200 1 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
            "expected an accept date such as [06/Feb/2009:12:14:14.655]",
        ),
        (
            "status not a number",
            r#"10.0.0.5:1 [01/Mar/2024:10:00:00.100] fe www/a 0/0/0/0/1 OK 1 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#,
            "expected the HTTP status (3 digits or -1)",
        ),
        (
            "no request",
            "10.0.0.5:1 [01/Mar/2024:10:00:00.100] fe www/a 0/0/0/0/1 200 1 - - ---- 1/1/0/0/0 0/0",
            "expected the request in double quotes",
        ),
    ];
    for (name, line, reason) in damaged {
        let error = parse(line.as_bytes()).expect_err(name);
        assert!(!error.is_message, "{name}");
        assert_eq!(error.reason, reason, "{name}");
    }
}

#[test]
fn no_byte_sequence_makes_it_panic() {
    use proptest::prelude::*;
    let valid = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
    proptest!(|(cut in 0usize..260, insert in proptest::collection::vec(any::<u8>(), 0..8))| {
        let mut line = valid.as_bytes().to_vec();
        let at = cut.min(line.len());
        line.splice(at..at, insert);
        let _ = parse(&line);
        line.truncate(at);
        let _ = parse(&line);
    });
}

/// (name, text, what `timer` reads)
type TimerCase = (&'static str, &'static str, Result<Option<u64>, ()>);

#[test]
fn timers_and_counters_read_as_haproxy_writes_them() {
    let cases: [TimerCase; 11] = [
        ("milliseconds", "44", Ok(Some(44))),
        ("zero", "0", Ok(Some(0))),
        ("never happened", "-1", Ok(None)),
        ("logasap", "+1203", Ok(Some(1203))),
        ("logasap, never", "+-1", Ok(None)),
        ("saturates", "99999999999999999999999", Ok(Some(u64::MAX))),
        ("empty", "", Err(())),
        ("minus alone", "-", Err(())),
        ("plus alone", "+", Err(())),
        ("a letter", "4x", Err(())),
        ("sign after minus", "-+1", Err(())),
    ];
    for (name, text, expected) in cases {
        assert_eq!(timer(text.as_bytes()), expected, "{name}: {text}");
    }
}

/// `read_timers` against reading part after part with `timer` (the
/// definition it replaces on the hot path), values and errors alike.
#[test]
fn timers_read_in_one_pass_as_part_after_part() {
    fn part_after_part(text: &[u8]) -> Result<([Option<u64>; 5], usize), LineError> {
        let mut values = [None; 5];
        let mut count = 0;
        for part in text.split(|&b| b == b'/') {
            let slot = values.get_mut(count).ok_or(LineError::new(
                "expected five timers TR/Tw/Tc/Tr/Ta (HTTP log) or three Tw/Tc/Tt (TCP log)",
            ))?;
            *slot = timer(part).map_err(|()| {
                LineError::new(
                    "expected the timers as milliseconds or -1 (TR/Tw/Tc/Tr/Ta, Tw/Tc/Tt)",
                )
            })?;
            count += 1;
        }
        Ok((values, count))
    }
    let cases = [
        ("http", "0/0/1/43/44"),
        ("tcp", "0/0/5007"),
        ("never answered", "10/0/30/-1/+30"),
        ("logasap", "+0/+0/+1/+43/+44"),
        ("logasap never", "0/0/+-1/-1/5"),
        ("six", "1/2/3/4/5/6"),
        ("six, the last bad", "1/2/3/4/5/x"),
        ("five and a slash", "1/2/3/4/5/"),
        ("empty part", "1//2"),
        ("bad second", "1/x/3/4/5/6"),
        ("minus alone", "-/1/2"),
        ("two minus", "--1/2/3"),
        ("sign after minus", "-+1/2/3"),
        ("two plus", "++1/2/3"),
        ("plus at the end", "1+/2/3"),
        ("minus inside", "1-2/3/4"),
        ("one", "7"),
        ("four", "1/2/3/4"),
        ("saturates", "99999999999999999999999/1/2"),
    ];
    for (name, text) in cases {
        assert_eq!(
            read_timers(text.as_bytes()),
            part_after_part(text.as_bytes()),
            "{name}: {text}"
        );
    }
    assert_eq!(
        read_timers(b"10/0/30/-1/+30"),
        Ok(([Some(10), Some(0), Some(30), None, Some(30)], 5))
    );
}

/// The plain-timer loop gives what the general reader gives wherever it
/// reads a field, on any mix of digits, signs and slashes.
#[test]
fn plain_timers_read_as_the_general_reader() {
    use proptest::prelude::*;
    let alphabet = prop_oneof![
        4 => proptest::char::range('0', '9'),
        2 => Just('/'),
        1 => Just('-'),
        1 => Just('+'),
        1 => Just('x'),
    ];
    proptest!(|(text in proptest::collection::vec(alphabet, 0..24))| {
        let text: String = text.into_iter().collect();
        if let Some(read) = plain_timers(text.as_bytes()) {
            prop_assert_eq!(Ok(read), read_timers_general(text.as_bytes()), "{}", text);
        }
    });
    let cases = [
        ("http", "0/0/1/43/44", true),
        ("never answered", "10/0/30/-1/30", true),
        ("tcp", "0/0/5007", true),
        ("logasap: general", "+0/+0/+1/+43/+44", false),
        ("six: general", "1/2/3/4/5/6", false),
        ("nineteen digits: general", "9999999999999999999/1/2", false),
    ];
    for (name, text, plain) in cases {
        assert_eq!(plain_timers(text.as_bytes()).is_some(), plain, "{name}");
        assert_eq!(
            read_timers(text.as_bytes()),
            read_timers_general(text.as_bytes()),
            "{name}"
        );
    }
}

/// The steps that read a field where it is (status, count, accept date)
/// give the general step's value and leave the cursor where it leaves it.
#[test]
fn fixed_steps_read_as_the_general_steps() {
    let general_status = |field: &[u8]| match timer(field) {
        Ok(Some(code)) if (100..=999).contains(&code) => Some(code as u16),
        Ok(None) => Some(0),
        _ => None,
    };
    let cases = [
        ("status", "200 9799 -", true),
        ("no response", "-1 0 -", true),
        ("status at the end", "503", true),
        ("a leading zero: general", "099 1", false),
        ("four digits: general", "2000 1", false),
        ("-2: general", "-2 1", false),
    ];
    for (name, text, fixed) in cases {
        let mut fast = Fields {
            rest: text.as_bytes(),
        };
        let mut general = Fields {
            rest: text.as_bytes(),
        };
        let field = general.next("").ok();
        match fast.status() {
            Some(code) => {
                assert!(fixed, "{name}");
                assert_eq!(Some(code), field.and_then(general_status), "{name}");
                assert_eq!(fast.rest, general.rest, "{name}");
            }
            None => assert!(!fixed, "{name}"),
        }
    }
    let counts = [
        ("bytes", "9799 -", Some(9799)),
        ("-1: general", "-1 -", None),
        ("a letter", "9x -", None),
    ];
    for (name, text, expected) in counts {
        let mut fast = Fields {
            rest: text.as_bytes(),
        };
        assert_eq!(fast.count(), expected, "{name}");
        if expected.is_some() {
            assert_eq!(fast.rest, b"-", "{name}");
        }
    }
    let dates = [
        (
            "milliseconds",
            "[12/Mar/2024:00:00:20.403] www",
            Some(utc_ms(2024, 3, 12, 0, 0, 20) + 403),
        ),
        (
            "microseconds: general",
            "[12/Mar/2024:00:00:20.403123] www",
            None,
        ),
        (
            "a space inside: general",
            "[12/Mar/2024 00:00:20.403] www",
            None,
        ),
    ];
    for (name, text, expected) in dates {
        let mut fast = Fields {
            rest: text.as_bytes(),
        };
        assert_eq!(fast.millisecond_date(0), expected, "{name}");
        if expected.is_some() {
            assert_eq!(fast.rest, b"www", "{name}");
        }
    }
}
