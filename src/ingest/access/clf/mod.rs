//! The NCSA/Apache/nginx family of access logs (`common`, `combined`,
//! `vcombined`, nginx `main`, each optionally followed by a request time):
//! their layouts, their presets, and the nom parser that reads a line when
//! the hand-written fast path ([`fast`]) does not. The nom parser
//! names what was expected where, so a line that does not fit yields a
//! [`LineError`] worth showing.

use memchr::memchr;
use nom::Parser;
use nom::bytes::complete::{tag, take_while1};
use nom::error::{ErrorKind, ParseError, context};

mod fast;
mod layout;

pub use layout::{CLF_PRESETS, ClfLayout, ClfPreset, DurationField};

use crate::ingest::record::{
    AccessRecord, LineError, MICROS_PER_SECOND, ParseResult, closing_quote, fail, flatten, generic,
    integer, optional, seconds_as_micros,
};
use crate::ingest::timestamps::parse_clf_time;
use crate::timefmt::Millis;

/// A non-empty run of bytes up to the next space.
fn token(input: &[u8]) -> ParseResult<'_, &[u8]> {
    let end = memchr(b' ', input).unwrap_or(input.len());
    if end == 0 {
        return Err(nom::Err::Error(LineError::from_error_kind(
            input,
            ErrorKind::TakeWhile1,
        )));
    }
    Ok((&input[end..], &input[..end]))
}

fn spaces(input: &[u8]) -> ParseResult<'_, &[u8]> {
    context(
        "expected a space between fields",
        take_while1(|b| b == b' '),
    )
    .parse(input)
}

/// A `"..."` field; backslash-escaped quotes (Apache's `\"`) stay inside.
/// Returns the raw content between the quotes.
fn quoted(input: &[u8]) -> ParseResult<'_, &[u8]> {
    let (body, _) = tag(&b"\""[..]).parse(input)?;
    match closing_quote(body) {
        Some(at) => Ok((&body[at + 1..], &body[..at])),
        None => fail("unterminated quoted field"),
    }
}

fn clf_time(input: &[u8]) -> ParseResult<'_, (Millis, i32)> {
    let (rest, _) = context("expected '[' before the timestamp", tag(&b"["[..])).parse(input)?;
    let end = match memchr(b']', rest) {
        Some(end) => end,
        None => return fail("expected ']' after the timestamp"),
    };
    match parse_clf_time(&rest[..end]) {
        Some(time) => Ok((&rest[end + 1..], time)),
        None => fail("expected a timestamp like 10/Oct/2000:13:55:36 -0700"),
    }
}

fn status(input: &[u8]) -> ParseResult<'_, u16> {
    match input {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', rest @ ..]
            if rest.first().is_none_or(|&b| b == b' ') =>
        {
            let value = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            Ok((rest, value))
        }
        // No response was sent (the client went away): Apache and Traefik
        // write 000 or 0; a request, neither failed nor slow.
        [b'0', b'0', b'0', rest @ ..] | [b'0', rest @ ..]
            if rest.first().is_none_or(|&b| b == b' ') =>
        {
            Ok((rest, 0))
        }
        _ => fail("expected a three-digit status (or 000: no response)"),
    }
}

fn byte_count(input: &[u8]) -> ParseResult<'_, Option<u64>> {
    if let Some(rest) = input.strip_prefix(b"-") {
        return Ok((rest, None));
    }
    context("expected a byte count or '-'", generic(integer))
        .parse(input)
        .map(|(rest, n)| (rest, Some(n)))
}

fn duration(input: &[u8], field: DurationField) -> ParseResult<'_, Option<u64>> {
    match field {
        DurationField::None => Ok((input, None)),
        DurationField::Seconds => spaced_duration(
            input,
            "expected a request time in seconds",
            seconds_as_micros,
        ),
        DurationField::Micros => {
            spaced_duration(input, "expected a request time in microseconds", integer)
        }
        DurationField::WholeSeconds => {
            spaced_duration(input, "expected a request time in whole seconds", |input| {
                integer(input).map(|(rest, s)| (rest, s.saturating_mul(MICROS_PER_SECOND)))
            })
        }
    }
}

/// A request time after its spaces, in microseconds, or `None` for `-`; the
/// units differ only in `micros`, which reads the number.
#[inline]
fn spaced_duration<'a>(
    input: &'a [u8],
    expected: &'static str,
    micros: impl FnMut(&'a [u8]) -> ParseResult<'a, u64>,
) -> ParseResult<'a, Option<u64>> {
    let (rest, _) = spaces(input)?;
    if let Some(rest) = rest.strip_prefix(b"-") {
        return Ok((rest, None));
    }
    context(expected, generic(micros))
        .parse(rest)
        .map(|(rest, us)| (rest, Some(us)))
}

/// The combinator path: the lines the fast path refused. Out of line (and
/// cold) so the fast path inlines into the caller's loop and builds its
/// record in place instead of moving it through every layer.
#[cold]
#[inline(never)]
fn parse_clf_nom<'a>(line: &'a [u8], layout: &ClfLayout) -> ParseResult<'a, AccessRecord<'a>> {
    let (mut rest, mut host) = (line, None);
    if layout.vhost {
        let (r, vhost) = context("expected the virtual host", token).parse(rest)?;
        let (r, _) = spaces(r)?;
        host = optional(vhost);
        rest = r;
    }
    let (rest, client) = context("expected the client address", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, ident) = context("expected the ident field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, remote_user) = context("expected the user field", token).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, (logged_at, offset_seconds)) = clf_time(rest).map_err(|error| {
        // A line without the ident and user fields reads the timestamp as
        // them: say what is missing rather than where the '[' is.
        if ident.starts_with(b"[") {
            nom::Err::Error(LineError::new(
                "expected the ident and user fields ('-' when absent) before the timestamp",
            ))
        } else {
            error
        }
    })?;
    let (rest, _) = spaces(rest)?;
    let (rest, request) = context("expected the quoted request", quoted).parse(rest)?;
    let (rest, _) = spaces(rest)?;
    let (rest, status) = status(rest)?;
    let (rest, _) = spaces(rest)?;
    let (mut rest, bytes) = byte_count(rest)?;
    // The combinator path is the slow one (lines the fast path refused):
    // fill the record as each field is read.
    let mut record = AccessRecord::new(logged_at, offset_seconds, status);
    record.client = client;
    record.remote_user = remote_user;
    record.request = request;
    record.bytes = bytes;
    record.host = host;
    record.logged_at_completion = layout.logs_completion();
    if layout.referer_agent {
        let (r, _) = spaces(rest)?;
        let (r, referer_field) = context("expected the quoted referer", quoted).parse(r)?;
        let (r, _) = spaces(r)?;
        let (r, agent_field) = context("expected the quoted user agent", quoted).parse(r)?;
        record.referer = optional(referer_field);
        record.user_agent = optional(agent_field);
        rest = r;
        if layout.forwarded_for {
            let (r, _) = spaces(rest)?;
            let (r, forwarded_field) =
                context("expected the quoted X-Forwarded-For", quoted).parse(r)?;
            record.forwarded_for = optional(forwarded_field);
            rest = r;
        }
    }
    let (rest, duration_us) = duration(rest, layout.duration)?;
    record.duration_us = duration_us;
    Ok((rest, record))
}

/// Parses one line (without its line ending) in `layout`. Returns the record
/// and whatever follows the last field of the layout (extra fields some
/// configurations append), which the caller may ignore.
#[inline]
pub fn parse_clf<'a>(
    line: &'a [u8],
    layout: &ClfLayout,
) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
    // Well-formed lines take the hand-written path; the combinators read
    // the rest and name what was expected.
    if let Some(parsed) = fast::parse(line, layout) {
        return Ok(parsed);
    }
    parse_clf_nom(line, layout)
        .map(|(rest, record)| (record, rest))
        .map_err(flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: ClfLayout = ClfLayout::COMBINED;
    const COMMON: ClfLayout = ClfLayout::COMMON;
    const NGINX_TIMED: ClfLayout = ClfLayout::COMBINED.with_duration(DurationField::Seconds);
    const APACHE_MICROS: ClfLayout = ClfLayout::COMBINED.with_duration(DurationField::Micros);
    const APACHE_SECONDS: ClfLayout =
        ClfLayout::COMBINED.with_duration(DurationField::WholeSeconds);
    const VCOMBINED_MICROS: ClfLayout = ClfLayout {
        vhost: true,
        ..APACHE_MICROS
    };
    const NGINX_MAIN: ClfLayout = ClfLayout {
        forwarded_for: true,
        ..ClfLayout::COMBINED
    };

    #[test]
    fn lines_parse_into_fields() {
        struct Case {
            name: &'static str,
            line: &'static [u8],
            layout: ClfLayout,
            client: &'static str,
            status: u16,
            bytes: Option<u64>,
            agent: Option<&'static [u8]>,
            host: Option<&'static str>,
            forwarded_for: Option<&'static str>,
            duration_us: Option<u64>,
            arrival: Millis,
        }
        let cases = [
            Case {
                name: "apache common",
                line: br#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                layout: COMMON,
                client: "127.0.0.1",
                status: 200,
                bytes: Some(2326),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 971_211_336_000,
            },
            Case {
                name: "combined with dash bytes",
                line: br#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 304 - "-" "curl/8.0""#,
                layout: COMBINED,
                client: "10.0.0.1",
                status: 304,
                bytes: None,
                agent: Some(b"curl/8.0"),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "nginx request time is subtracted",
                line: br#"2001:db8::1 - - [12/Nov/2023:14:00:03 +0000] "GET /api HTTP/2.0" 504 167 "https://example.com/" "Mozilla/5.0 (X11)" 60.001"#,
                layout: NGINX_TIMED,
                client: "2001:db8::1",
                status: 504,
                bytes: Some(167),
                agent: Some(b"Mozilla/5.0 (X11)"),
                duration_us: Some(60_001_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000 - 60_001,
            },
            Case {
                name: "apache microseconds keep the arrival",
                line: br#"10.0.0.2 - - [27/Mar/2022:15:30:02 +0100] "POST /cart HTTP/1.1" 500 512 "-" "Mozilla/5.0" 123456"#,
                layout: APACHE_MICROS,
                client: "10.0.0.2",
                status: 500,
                bytes: Some(512),
                agent: Some(b"Mozilla/5.0"),
                duration_us: Some(123_456),
                host: None,
                forwarded_for: None,
                arrival: 1_648_391_402_000,
            },
            Case {
                name: "escaped quote inside the request",
                line: br#"10.0.0.3 - - [12/Nov/2023:14:00:03 +0000] "GET /a\"b HTTP/1.1" 200 1 "-" "ua\"x""#,
                layout: COMBINED,
                client: "10.0.0.3",
                status: 200,
                bytes: Some(1),
                agent: Some(br#"ua\"x"#),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "lnav vhost:port with ident, user, HTTP/2.0 and %D",
                line: br#"localhost:443 178.20.184.42 1j0vhgd jsmith [26/Jul/2023:00:01:26 -0700] "GET /secure/RapidBoard.jspa?rapidView=1295 HTTP/2.0" 200 17163 "-" "Mozilla/5.0" 116075"#,
                layout: VCOMBINED_MICROS,
                client: "178.20.184.42",
                status: 200,
                bytes: Some(17163),
                agent: Some(b"Mozilla/5.0"),
                duration_us: Some(116_075),
                host: Some("localhost:443"),
                forwarded_for: None,
                arrival: 1_690_354_886_000,
            },
            Case {
                name: "nginx main with a forwarded-for list",
                line: br#"10.0.0.4 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 3 "-" "curl/8" "203.0.113.5, 10.0.0.9""#,
                layout: NGINX_MAIN,
                client: "10.0.0.4",
                status: 200,
                bytes: Some(3),
                agent: Some(b"curl/8"),
                duration_us: None,
                host: None,
                forwarded_for: Some("203.0.113.5, 10.0.0.9"),
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "apache %T in whole seconds",
                line: br#"10.0.0.5 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 503 0 "-" "ua" 31"#,
                layout: APACHE_SECONDS,
                client: "10.0.0.5",
                status: 503,
                bytes: Some(0),
                agent: Some(b"ua"),
                duration_us: Some(31_000_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "request '-' with status 400 (lnav)",
                line: br#"10.112.81.15 - - [15/Feb/2013:06:00:31 +0000] "-" 400 0 "-" "-""#,
                layout: COMBINED,
                client: "10.112.81.15",
                status: 400,
                bytes: Some(0),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_360_908_031_000,
            },
            Case {
                name: "status 000: the client went away before a response",
                line: br#"10.0.0.9 - - [15/Feb/2013:06:00:31 +0000] "GET /slow HTTP/1.1" 000 0 "-" "curl/8""#,
                layout: COMBINED,
                client: "10.0.0.9",
                status: 0,
                bytes: Some(0),
                agent: Some(b"curl/8"),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_360_908_031_000,
            },
            Case {
                name: "scanner garbage with nginx \\x escapes in the request",
                line: br#"192.0.2.7 - - [12/Nov/2023:14:00:03 +0000] "\x16\x03\x01\x00\xA5\x01" 400 157 "-" "-""#,
                layout: COMBINED,
                client: "192.0.2.7",
                status: 400,
                bytes: Some(157),
                agent: None,
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
            Case {
                name: "nginx \\x22 inside the user agent, HTTP/3",
                line: br#"2001:db8:85a3::8a2e:370:7334 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/3" 200 1 "-" "say \x22hi\x22" 0.001"#,
                layout: NGINX_TIMED,
                client: "2001:db8:85a3::8a2e:370:7334",
                status: 200,
                bytes: Some(1),
                agent: Some(br#"say \x22hi\x22"#),
                duration_us: Some(1_000),
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000 - 1,
            },
            Case {
                name: "raw bytes that are not UTF-8",
                line: b"10.0.0.6 - - [12/Nov/2023:14:00:03 +0000] \"GET /\xff\xfe HTTP/1.1\" 200 1 \"-\" \"bot \xc3\x28\"",
                layout: COMBINED,
                client: "10.0.0.6",
                status: 200,
                bytes: Some(1),
                agent: Some(b"bot \xc3\x28"),
                duration_us: None,
                host: None,
                forwarded_for: None,
                arrival: 1_699_797_603_000,
            },
        ];
        for case in cases {
            let (record, _) = parse_clf(case.line, &case.layout)
                .unwrap_or_else(|e| panic!("{}: {}", case.name, e.reason));
            assert_eq!(record.client, case.client.as_bytes(), "{}", case.name);
            assert_eq!(record.status, case.status, "{}", case.name);
            assert_eq!(record.bytes, case.bytes, "{}", case.name);
            assert_eq!(record.user_agent, case.agent, "{}", case.name);
            assert_eq!(record.duration_us, case.duration_us, "{}", case.name);
            assert_eq!(record.host, case.host.map(str::as_bytes), "{}", case.name);
            assert_eq!(
                record.forwarded_for,
                case.forwarded_for.map(str::as_bytes),
                "{}",
                case.name
            );
            assert_eq!(record.arrival(), case.arrival, "{}", case.name);
        }
    }

    #[test]
    fn malformed_lines_name_what_was_expected() {
        let cases = [
            ("empty", "", COMBINED, "expected the client address"),
            (
                "no bracket",
                "1.2.3.4 - - 10/Oct/2000:13:55:36 -0700 \"GET /\" 200 1",
                COMMON,
                "expected '[' before the timestamp",
            ),
            (
                "ident and user missing (lnav bad access log)",
                "1.2.3.4 [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1",
                COMMON,
                "expected the ident and user fields ('-' when absent) before the timestamp",
            ),
            (
                "bad time",
                "1.2.3.4 - - [10/Oct/2000:13:55 -0700] \"GET /\" 200 1",
                COMMON,
                "expected a timestamp like 10/Oct/2000:13:55:36 -0700",
            ),
            (
                "unterminated request",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / 200 1",
                COMMON,
                "unterminated quoted field",
            ),
            (
                "bad status",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" OK 1",
                COMMON,
                "expected a three-digit status (or 000: no response)",
            ),
            (
                "missing agent",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\"",
                COMBINED,
                "expected a space between fields",
            ),
            (
                "missing request time",
                "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\" \"ua\" x",
                NGINX_TIMED,
                "expected a request time in seconds",
            ),
        ];
        for (name, line, layout, reason) in cases {
            let error = parse_clf(line.as_bytes(), &layout).expect_err(name);
            assert_eq!(error.reason, reason, "{name}");
        }
    }
}

#[cfg(test)]
mod fast_path_matches_nom {
    use proptest::prelude::*;

    use super::fast::{DISABLED, parse};
    use super::*;
    use crate::scan::find_byte_near;

    const LAYOUTS: [ClfLayout; 8] = [
        ClfLayout::COMBINED.with_duration(DurationField::Seconds),
        ClfLayout::COMBINED.with_duration(DurationField::Micros),
        ClfLayout::COMBINED.with_duration(DurationField::WholeSeconds),
        ClfLayout::COMBINED,
        ClfLayout::COMMON,
        ClfLayout {
            vhost: true,
            ..ClfLayout::COMBINED
        },
        ClfLayout {
            forwarded_for: true,
            ..ClfLayout::COMBINED
        },
        ClfLayout {
            forwarded_for: true,
            ..ClfLayout::COMBINED.with_duration(DurationField::Seconds)
        },
    ];

    /// What the nom parser alone makes of a line.
    fn nom_only<'a>(
        line: &'a [u8],
        layout: &ClfLayout,
    ) -> Result<(AccessRecord<'a>, &'a [u8]), &'static str> {
        DISABLED.with(|d| d.set(true));
        let result = parse_clf(line, layout).map_err(|e| e.reason);
        DISABLED.with(|d| d.set(false));
        result
    }

    const SEEDS: &[&str] = &[
        r#"203.0.113.7 - - [12/Mar/2024:14:03:07 +0100] "GET /api/v1/cart HTTP/1.1" 200 5123 "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64)" 0.057"#,
        r#"2001:db8::1 - alice [29/Feb/2024:23:59:60 -0930] "POST /a\"b HTTP/2.0" 504 - "-" "ua \\\" x" 60.000123456"#,
        r#"10.0.0.2 - - [27/Mar/2022:15:30:02 +0100] "GET / HTTP/1.1" 500 512 "-" "-" 123456 extra fields"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        r#"shop.example.com:443 203.0.113.7 - - [12/Mar/2024:14:03:07 +0100] "GET / HTTP/1.1" 200 512 "-" "ua""#,
        r#"203.0.113.7 - - [12/Mar/2024:14:03:07 +0100] "GET / HTTP/1.1" 502 157 "-" "ua" "198.51.100.4, 10.0.0.1" 0.051"#,
    ];

    #[test]
    fn spaces_are_found_where_they_are() {
        let cases: [(&str, Option<usize>); 7] = [
            ("empty", None),
            ("no-space-here", None),
            ("1.2.3.4 -", Some(7)),
            (" first", Some(0)),
            ("0123456 8", Some(7)),
            ("01234567 9", Some(8)),
            ("2001:db8:1234:5678:9abc::1 - -", Some(26)),
        ];
        for (text, expected) in cases {
            let bytes = if text == "empty" {
                &b""[..]
            } else {
                text.as_bytes()
            };
            assert_eq!(find_byte_near(b' ', bytes), expected, "{text:?}");
        }
        // Every position in a long run, including after bytes that borrow.
        for at in 0..40 {
            let mut bytes = vec![0x21u8; 40];
            bytes[..at].fill(0x00);
            bytes[at] = b' ';
            assert_eq!(find_byte_near(b' ', &bytes), Some(at), "space at {at}");
        }
    }

    #[test]
    fn fast_path_reads_the_common_lines() {
        let cases = [
            ("nginx timed", SEEDS[0], LAYOUTS[0], Some(57_000)),
            (
                "apache micros, extra fields",
                SEEDS[2],
                LAYOUTS[1],
                Some(123_456),
            ),
            (
                "apache whole seconds",
                SEEDS[2],
                LAYOUTS[2],
                Some(123_456_000_000),
            ),
            ("apache common", SEEDS[3], LAYOUTS[4], None),
            ("apache vhost", SEEDS[4], LAYOUTS[5], None),
            ("nginx main, timed", SEEDS[5], LAYOUTS[7], Some(51_000)),
        ];
        for (name, line, layout, duration) in cases {
            let (record, _) = parse(line.as_bytes(), &layout)
                .unwrap_or_else(|| panic!("{name}: the fast path reads it"));
            assert_eq!(record.duration_us, duration, "{name}");
            assert_eq!(record.host.is_some(), layout.vhost, "{name}: host");
            assert_eq!(
                record.forwarded_for.is_some(),
                layout.forwarded_for,
                "{name}: X-Forwarded-For"
            );
            let (expected, _) = nom_only(line.as_bytes(), &layout).expect(name);
            assert_eq!(record, expected, "{name}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whatever a line is, the parser with the fast path in front gives
        /// what the nom parser alone gives: the same record and leftover, or
        /// the same reason.
        #[test]
        fn fast_path_agrees_with_the_nom_parser(
            seed in 0..SEEDS.len(),
            layout in 0..LAYOUTS.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(
                vec![b' ', b'"', b'\\', b'-', b'[', b']', b'0', b'9', b'.', b'x', b'\t', b':', b'/']
            ), 0..3u8), 0..4),
        ) {
            let mut line = SEEDS[seed].as_bytes().to_vec();
            for (index, byte, action) in edits {
                let at = index.index(line.len() + 1);
                match action {
                    0 if at < line.len() => line[at] = byte,
                    1 => line.insert(at, byte),
                    _ if at < line.len() => { line.remove(at); }
                    _ => {}
                }
            }
            let layout = LAYOUTS[layout];
            let fast = parse_clf(&line, &layout).map_err(|e| e.reason);
            let slow = nom_only(&line, &layout);
            prop_assert_eq!(fast, slow, "line {:?}", String::from_utf8_lossy(&line));
        }
    }
}
