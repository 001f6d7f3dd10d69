//! Envelopes: what a log pipeline writes in front of (or around) an access
//! line, and how to get the access line back out of it, so that a file of
//! requests is read as requests whatever carried it:
//!
//! - **syslog**: a header (RFC 3164, RFC 5424, the RFC 3339 file format,
//!   journald `short-iso`) whose message is the access line (HAProxy sends
//!   its log this way; nginx can with `access_log syslog:`);
//! - **container**: the prefixes container tools add, alone or combined:
//!   `docker compose logs` (`web-1  | `), `kubectl logs --prefix`
//!   (`[pod/web-7d4/proxy] `), `kubectl logs --timestamps` and
//!   `docker logs -t` (an RFC 3339 time and a space), and the CRI log file
//!   format of containerd and CRI-O (`<RFC 3339> stdout F `);
//! - **docker-json**: Docker's `json-file` driver, one object per line whose
//!   `log` string holds the line, JSON-escaped.
//!
//! Sniffing ([`super::sniff::detect_enveloped`]) tries these only when the
//! bare lines are no access log, and the worker opens every line of such an
//! input before its access parser sees it. Opening borrows the line, except
//! for docker-json, whose escapes are undone into a buffer the caller keeps
//! and reuses (no allocation per line once it has grown).

use memchr::memchr2;

use super::events::syslog::{self, SyslogLine};
use super::record::LineError;
use super::timestamps::parse_iso8601;

/// What carries the access lines of an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Envelope {
    /// The lines are the access lines.
    #[default]
    Bare,
    /// Each line is a syslog message whose text is the access line.
    Syslog,
    /// Container-tool prefixes in front of the access line.
    Container,
    /// Docker `json-file` objects whose `log` string is the access line.
    DockerJson,
}

/// The envelopes sniffing tries on an input whose bare lines are no access
/// log, in this order (the first of equal success wins).
pub const WRAPPING: [Envelope; 3] = [Envelope::Container, Envelope::DockerJson, Envelope::Syslog];

impl Envelope {
    /// The name `inspect` and the JSON `inputs` give it; `None` when bare.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Envelope::Bare => None,
            Envelope::Syslog => Some("syslog"),
            Envelope::Container => Some("container"),
            Envelope::DockerJson => Some("docker-json"),
        }
    }

    /// The access line inside `line`. `scratch` holds it when it had to be
    /// unescaped (docker-json); it is cleared, never shrunk.
    #[inline]
    pub fn open<'a>(self, line: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<&'a [u8], LineError> {
        match self {
            Envelope::Bare => Ok(line),
            Envelope::Syslog => syslog_message(line),
            Envelope::Container => Ok(strip_container_prefixes(line)),
            Envelope::DockerJson => docker_json_log(line, scratch),
        }
    }
}

/// The message of a syslog line.
fn syslog_message(line: &[u8]) -> Result<&[u8], LineError> {
    match syslog::parse_line(line) {
        Ok(SyslogLine::Record(record)) => Ok(record.message),
        Ok(_) => Err(LineError::new(
            "a syslog continuation or marker line, which holds no request",
        )),
        Err(_) => Err(LineError::new(
            "expected a syslog header (RFC 3164, RFC 5424 or RFC 3339 time, host, program) before the request",
        )),
    }
}

/// The line after every container-tool prefix it starts with: a compose
/// service name, a kubectl `[pod/...]` prefix, then a time and a CRI stream
/// tag. A line without them is returned as it is, so a file that mixes
/// prefixed and bare lines reads both.
#[inline]
pub fn strip_container_prefixes(line: &[u8]) -> &[u8] {
    let mut rest = line;
    if let Some(after) = compose_prefix(rest) {
        rest = after;
    }
    if let Some(after) = kubectl_prefix(rest) {
        rest = after;
    }
    if let Some(after) = time_prefix(rest) {
        rest = after;
        if let Some(after) = cri_stream_tag(rest) {
            rest = after;
        }
    }
    rest
}

/// The longest compose service name accepted (`docker compose` pads names
/// to the longest of the project; 64 is far beyond real ones).
const MAX_SERVICE_NAME: usize = 64;

/// `docker compose logs`: the service (or container) name, padding and
/// `| `: `caddy  | {...}`, `web-1  | 10.0.0.1 - - [...]`.
fn compose_prefix(line: &[u8]) -> Option<&[u8]> {
    let name = line
        .iter()
        .take(MAX_SERVICE_NAME + 1)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    if name == 0 || name > MAX_SERVICE_NAME {
        return None;
    }
    let spaces = line[name..].iter().take_while(|&&b| b == b' ').count();
    let rest = line[name + spaces..].strip_prefix(b"|")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// `kubectl logs --prefix`: `[pod/NAME/CONTAINER] `.
fn kubectl_prefix(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"[pod/")?;
    let end = rest.iter().position(|&b| b == b']')?;
    if rest[..end].contains(&b' ') {
        return None;
    }
    rest[end + 1..].strip_prefix(b" ")
}

/// The longest RFC 3339 time a container runtime writes
/// (`2024-01-15T10:00:00.123456789+01:00` is 35 bytes).
const MAX_TIME_PREFIX: usize = 40;

/// An RFC 3339 time with its zone and one space: `kubectl logs
/// --timestamps`, `docker logs -t`, CRI.
fn time_prefix(line: &[u8]) -> Option<&[u8]> {
    if line.len() < 20 || !line[..4].iter().all(u8::is_ascii_digit) || line[4] != b'-' {
        return None;
    }
    let end = line.iter().take(MAX_TIME_PREFIX).position(|&b| b == b' ')?;
    // `YYYY-MM-DDTHH:MM:SS` and a zone: a shorter first word is no time
    // (a CSV's `2024-01-15 10:00:00,...` has its space at 10).
    let (stamp, after_seconds) = (&line[..end], line.get(19..end)?);
    let zoned = stamp.ends_with(b"Z")
        || stamp.ends_with(b"z")
        || after_seconds.contains(&b'+')
        || after_seconds.contains(&b'-');
    if !zoned || parse_iso8601(stamp).is_none() {
        return None;
    }
    Some(&line[end + 1..])
}

/// The CRI stream and tag after the time: `stdout F ` (a full line) or
/// `stderr P ` (part of a line the runtime split; kept as it is, and it
/// will not parse as a request).
fn cri_stream_tag(line: &[u8]) -> Option<&[u8]> {
    let rest = line
        .strip_prefix(b"stdout ")
        .or_else(|| line.strip_prefix(b"stderr "))?;
    match rest {
        [b'F' | b'P', b' ', after @ ..] => Some(after),
        [b'F' | b'P'] => Some(&rest[1..]),
        _ => None,
    }
}

/// How Docker's `json-file` driver starts every line (other writers of
/// the same shape may put spaces around the colon).
const DOCKER_LOG_KEY: &[u8] = b"{\"log\":\"";

/// The `log` string of a Docker `json-file` line, unescaped into `scratch`
/// (without the newline Docker keeps at its end).
fn docker_json_log<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<&'a [u8], LineError> {
    let Some(text) = docker_log_string(line) else {
        return Err(LineError::new(
            "expected a Docker json-file line ({\"log\":\"...\",\"stream\":...,\"time\":...})",
        ));
    };
    scratch.clear();
    unescape_json_string(text, scratch)?;
    while matches!(scratch.last(), Some(b'\n' | b'\r')) {
        scratch.pop();
    }
    Ok(scratch)
}

/// The text after the opening quote of the `log` string that starts the
/// object on `line`.
fn docker_log_string(line: &[u8]) -> Option<&[u8]> {
    fn skip(text: &[u8]) -> &[u8] {
        let n = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
        &text[n..]
    }
    if let Some(text) = line.strip_prefix(DOCKER_LOG_KEY) {
        return Some(text);
    }
    let rest = skip(line).strip_prefix(b"{")?;
    let rest = skip(rest).strip_prefix(b"\"log\"")?;
    let rest = skip(rest).strip_prefix(b":")?;
    skip(rest).strip_prefix(b"\"")
}

const UNTERMINATED: LineError =
    LineError::new("expected the Docker \"log\" string to end on its line");
const BAD_ESCAPE: LineError = LineError::new(
    "expected a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) in the Docker \"log\" string",
);

/// Appends the contents of the JSON string starting at `text` (after its
/// opening quote) to `out`, escapes undone; invalid UTF-8 is copied as it is.
fn unescape_json_string(text: &[u8], out: &mut Vec<u8>) -> Result<(), LineError> {
    let mut at = 0;
    loop {
        let Some(offset) = memchr2(b'"', b'\\', &text[at..]) else {
            return Err(UNTERMINATED);
        };
        out.extend_from_slice(&text[at..at + offset]);
        at += offset;
        if text[at] == b'"' {
            return Ok(());
        }
        let escape = *text.get(at + 1).ok_or(UNTERMINATED)?;
        at += 2;
        let byte = match escape {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let (code, used) = unicode_escape(&text[at..])?;
                at += used;
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(code.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            _ => return Err(BAD_ESCAPE),
        };
        out.push(byte);
    }
}

/// The character of a `\uXXXX` escape (its four hex digits at `text`), with
/// the second half of a surrogate pair when one follows; how many bytes it
/// used. A lone surrogate becomes U+FFFD, as JSON decoders do.
fn unicode_escape(text: &[u8]) -> Result<(char, usize), LineError> {
    let first = hex4(text).ok_or(BAD_ESCAPE)?;
    if (0xD800..0xDC00).contains(&first)
        && text.get(4..6) == Some(b"\\u")
        && let Some(second) = text.get(6..).and_then(hex4)
        && (0xDC00..0xE000).contains(&second)
    {
        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        return Ok((char::from_u32(code).unwrap_or('\u{FFFD}'), 10));
    }
    Ok((char::from_u32(first).unwrap_or('\u{FFFD}'), 4))
}

fn hex4(text: &[u8]) -> Option<u32> {
    let digits = text.get(..4)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + (b as char).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS: &str = r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 512"#;

    #[test]
    fn container_prefixes_are_stripped_alone_and_combined() {
        let cases = [
            ("bare line stays", ACCESS.to_string()),
            ("compose", format!("web-1  | {ACCESS}")),
            ("compose, one space", format!("caddy | {ACCESS}")),
            (
                "kubectl --timestamps",
                format!("2024-01-15T10:00:00.123456789Z {ACCESS}"),
            ),
            (
                "docker logs -t with offset",
                format!("2024-01-15T10:00:00.123+01:00 {ACCESS}"),
            ),
            (
                "CRI full line",
                format!("2024-01-15T10:00:00.123456789Z stdout F {ACCESS}"),
            ),
            (
                "CRI stderr",
                format!("2024-01-15T10:00:00Z stderr F {ACCESS}"),
            ),
            (
                "kubectl --prefix",
                format!("[pod/web-7d4b9/proxy] {ACCESS}"),
            ),
            (
                "kubectl --prefix --timestamps",
                format!("[pod/web-7d4b9/proxy] 2024-01-15T10:00:00.5Z {ACCESS}"),
            ),
            (
                "compose with timestamps",
                format!("web-1  | 2024-01-15T10:00:00.5Z {ACCESS}"),
            ),
        ];
        let mut scratch = Vec::new();
        for (name, line) in cases {
            let inner = Envelope::Container
                .open(line.as_bytes(), &mut scratch)
                .expect(name);
            assert_eq!(inner, ACCESS.as_bytes(), "{name}");
        }
    }

    #[test]
    fn what_is_not_a_container_prefix_is_kept() {
        let cases = [
            (
                "zoneless time is part of the line",
                "2024-01-15T10:00:00 GET /",
            ),
            ("a pipe far from the start", "a b | c"),
            ("CRI tag without time", "stdout F hello"),
            // Found by the NAB datasets test: the space before index 19.
            ("date and time with a space", "2014-04-01 00:00:00,20.5"),
            ("short first word", "2014-04-01T0 x"),
        ];
        let mut scratch = Vec::new();
        for (name, line) in cases {
            let inner = Envelope::Container
                .open(line.as_bytes(), &mut scratch)
                .expect(name);
            assert_eq!(inner, line.as_bytes(), "{name}");
        }
    }

    #[test]
    fn docker_json_lines_are_unescaped() {
        let cases = [
            (
                "combined line with quotes",
                r#"{"log":"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] \"GET / HTTP/1.1\" 200 512\n","stream":"stdout","time":"2023-11-12T14:00:03.1Z"}"#,
                Ok(ACCESS.to_string()),
            ),
            (
                "inner JSON",
                r#"{"log":"{\"status\":200,\"path\":\"\/a\"}\r\n","stream":"stdout","time":"2023-11-12T14:00:03Z"}"#,
                Ok(r#"{"status":200,"path":"/a"}"#.to_string()),
            ),
            (
                "unicode and a surrogate pair",
                r#"{"log":"caf\u00e9 \ud83d\ude00 \ud800 x","stream":"stdout"}"#,
                Ok("café 😀 \u{FFFD} x".to_string()),
            ),
            ("cut line", r#"{"log":"10.0.0.1 - -"#, Err(UNTERMINATED)),
            ("bad escape", r#"{"log":"a\qb"}"#, Err(BAD_ESCAPE)),
            ("short unicode", r#"{"log":"a\u12"}"#, Err(BAD_ESCAPE)),
        ];
        let mut scratch = Vec::new();
        for (name, line, expected) in cases {
            let got = Envelope::DockerJson
                .open(line.as_bytes(), &mut scratch)
                .map(|inner| String::from_utf8_lossy(inner).into_owned());
            assert_eq!(got, expected, "{name}");
        }
        let spaced =
            Envelope::DockerJson.open(br#" { "log" : "a b\n", "stream": "stdout"}"#, &mut scratch);
        assert_eq!(
            spaced.map(<[u8]>::to_vec),
            Ok(b"a b".to_vec()),
            "spaces around the colon"
        );
        let not_docker = Envelope::DockerJson.open(ACCESS.as_bytes(), &mut scratch);
        assert!(not_docker.is_err());
    }

    #[test]
    fn syslog_messages_are_opened() {
        let haproxy = "10.0.0.1:5000 [25/Feb/2019:16:19:48.143] www www/app1 0/0/7/1457/1487 200 11394 - - ---- 2/1/0/0/0 0/0 \"GET / HTTP/1.1\"";
        let cases = [
            (
                "RFC 3164",
                format!("Feb 25 16:19:49 192.168.4.2 haproxy[7]: {haproxy}"),
            ),
            (
                "RFC 3164 with PRI",
                format!("<134>Feb 25 16:19:49 lb1 haproxy[7]: {haproxy}"),
            ),
            (
                "RFC 5424",
                format!("<134>1 2019-02-25T16:19:49.000Z lb1 haproxy 7 - - {haproxy}"),
            ),
            (
                "RFC 3339 file format",
                format!("2019-02-25T16:19:49.123456+01:00 lb1 haproxy[7]: {haproxy}"),
            ),
        ];
        let mut scratch = Vec::new();
        for (name, line) in cases {
            let inner = Envelope::Syslog
                .open(line.as_bytes(), &mut scratch)
                .expect(name);
            assert_eq!(inner, haproxy.as_bytes(), "{name}");
        }
        assert!(
            Envelope::Syslog
                .open(b"   continued", &mut scratch)
                .is_err()
        );
    }

    #[test]
    fn no_byte_sequence_makes_opening_panic() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200), which in 0usize..4)| {
            let mut scratch = Vec::new();
            let mut line = match which {
                0 => DOCKER_LOG_KEY.to_vec(),
                1 => b"2024-01-15T10:00:00Z stdout ".to_vec(),
                2 => b"2024-01-15".to_vec(),
                _ => Vec::new(),
            };
            line.extend_from_slice(&bytes);
            for envelope in [Envelope::Bare, Envelope::Syslog, Envelope::Container, Envelope::DockerJson] {
                let _ = envelope.open(&line, &mut scratch);
            }
        });
    }
}
