//! Finding an input's access-log format: by content, trying every preset of
//! the table in [`super::access`] on the first lines of the input, or by
//! name, resolving `--log-format` (a preset name or alias, or a template).
//!
//! Detection tries every preset on the sampled lines and keeps the one that
//! reads the most of them *exactly* (nothing left over), then the most with
//! extra trailing fields; earlier presets win ties. Two ties need more than
//! the order:
//! - a trailing integer is Apache's `%D` (microseconds) or `%T` (seconds):
//!   see [`integer_duration_unit`];
//! - JSON lines are one parser; the format is named after the server whose
//!   field names most sampled lines use (`nginx-json`, `caddy-json`,
//!   `traefik-json`).

use std::sync::{Arc, LazyLock};

use memchr::memchr_iter;

use super::access::clf::{ClfLayout, DurationField};
use super::access::logformat::Template;
use super::access::w3c::W3cParser;
use super::access::{ALIASES, AccessFormat, AccessParser, PRESETS, Preset, jsonlines};
use super::envelope::{self, Envelope};

/// Looks a preset up by name or alias (`--log-format combined`).
pub fn preset_by_name(name: &str) -> Option<&'static Preset> {
    let name = name.trim();
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, canonical)| canonical);
    PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(canonical))
}

/// Every preset, compiled once.
static PRESET_FORMATS: LazyLock<Vec<AccessFormat>> = LazyLock::new(|| {
    PRESETS
        .iter()
        .map(|preset| AccessFormat {
            name: preset.name,
            parser: preset.parser(),
            forced: false,
            envelope: Envelope::Bare,
        })
        .collect()
});

/// Every preset as a format, in [`PRESETS`] order.
pub fn preset_formats() -> &'static [AccessFormat] {
    &PRESET_FORMATS
}

/// Resolves `--log-format`: a preset name or alias, else an nginx
/// `log_format` / Apache `LogFormat` definition. The error is the message
/// for the user.
pub fn resolve_log_format(text: &str) -> Result<AccessFormat, String> {
    if let Some(preset) = preset_by_name(text) {
        return Ok(AccessFormat {
            name: preset.name,
            parser: preset.parser(),
            forced: true,
            envelope: Envelope::Bare,
        });
    }
    if text
        .trim_start()
        .as_bytes()
        .get(..W3C_FIELDS_DIRECTIVE.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(W3C_FIELDS_DIRECTIVE))
    {
        let parser = W3cParser::from_fields_directive(text.as_bytes())
            .map_err(|e| format!("--log-format '{}': {e}", text.trim()))?;
        return Ok(AccessFormat {
            name: parser.flavor_name(),
            parser: AccessParser::W3c(parser),
            forced: true,
            envelope: Envelope::Bare,
        });
    }
    if !text.contains(['$', '%']) {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        let suggestion = closest_preset(text.trim())
            .map(|name| format!("did you mean `{name}`? Else "))
            .unwrap_or_default();
        return Err(format!(
            "--log-format '{}' is not a known format: {suggestion}use one of {}, or give an nginx log_format ('$remote_addr ...') or Apache LogFormat ('%h %l ...') definition",
            text.trim(),
            names.join(", ")
        ));
    }
    let template = Template::compile(text).map_err(|e| format!("--log-format: {e}"))?;
    Ok(AccessFormat {
        name: template.dialect().format_name(),
        parser: AccessParser::Template(Arc::new(template)),
        forced: true,
        envelope: Envelope::Bare,
    })
}

/// Most edits (inserted, deleted or changed characters) between a mistyped
/// preset name and the one suggested: two catch `combind` and `nginx_main`
/// without suggesting `common` for `json`.
const MAX_SUGGESTION_EDITS: usize = 2;

/// The preset or alias name closest to `text`, when it is within
/// [`MAX_SUGGESTION_EDITS`] edits (case ignored); the first of equals in
/// [`PRESETS`] order.
fn closest_preset(text: &str) -> Option<&'static str> {
    let typed = text.to_ascii_lowercase();
    PRESETS
        .iter()
        .map(|preset| preset.name)
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
        .map(|name| (edit_distance(&typed, &name.to_ascii_lowercase()), name))
        .filter(|(edits, _)| *edits <= MAX_SUGGESTION_EDITS)
        .min_by_key(|(edits, _)| *edits)
        .map(|(_, name)| name)
}

/// Single-character edits between two names (Levenshtein), from `strsim`,
/// which clap's suggestions already build.
use strsim::levenshtein as edit_distance;

/// How many non-empty lines from the head of an input are tried.
pub const SNIFF_LINES: usize = 200;

/// The share of sampled lines a preset must read for the input to be taken
/// as an access log of that format.
pub const MIN_SNIFF_SHARE: f64 = 0.5;

/// The directive that names a W3C extended log's columns.
const W3C_FIELDS_DIRECTIVE: &[u8] = b"#Fields:";

/// The lines sniffing looks at: the first [`SNIFF_LINES`] non-empty lines of
/// `head`, without line endings; a last line without newline is only used
/// when `head` is the whole input.
pub fn sample_lines(head: &[u8], is_whole_input: bool) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for end in memchr_iter(b'\n', head) {
        push_trimmed(&mut lines, &head[start..end]);
        start = end + 1;
        if lines.len() >= SNIFF_LINES {
            return lines;
        }
    }
    if is_whole_input && start < head.len() {
        push_trimmed(&mut lines, &head[start..]);
    }
    lines
}

fn push_trimmed<'a>(lines: &mut Vec<&'a [u8]>, line: &'a [u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(u8::is_ascii_whitespace) {
        lines.push(line);
    }
}

/// The format found for an input and how well it read the sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    pub format: AccessFormat,
    /// Non-empty lines sampled.
    pub sampled: usize,
    /// Sampled lines the format reads.
    pub parsed: usize,
    /// ... with nothing left over.
    pub exact: usize,
}

impl Detection {
    /// Whether most lines go on after the format's last field: the format
    /// explains only part of them (a custom `log_format` with extra fields).
    pub fn has_extra_fields(&self) -> bool {
        self.exact * 2 < self.parsed
    }
}

/// Picks the preset that reads the most sample lines exactly (nothing left
/// over), else the one that reads the most with extra trailing fields.
/// `None` when no preset reads at least [`MIN_SNIFF_SHARE`] of them.
pub fn detect_access_format(lines: &[&[u8]]) -> Option<Detection> {
    detect_access_format_among(lines, preset_formats())
}

/// [`detect_access_format`] restricted to `candidates`.
pub fn detect_access_format_among(
    lines: &[&[u8]],
    candidates: &[AccessFormat],
) -> Option<Detection> {
    if lines.is_empty() {
        return None;
    }
    // A W3C log's columns are named by the `#Fields:` lines of its head.
    let from_head: Vec<AccessFormat> = candidates
        .iter()
        .map(|candidate| match &candidate.parser {
            // A `#Fields:` line given with --log-format, then the head's own.
            AccessParser::W3c(given) if candidate.forced && *given != W3cParser::default() => {
                AccessFormat {
                    parser: AccessParser::W3c(given.with_head(lines)),
                    ..candidate.clone()
                }
            }
            AccessParser::W3c(_) => AccessFormat {
                parser: AccessParser::W3c(W3cParser::from_head(lines)),
                ..candidate.clone()
            },
            _ => candidate.clone(),
        })
        .collect();
    // A W3C head names its columns: its directives, and the lines of its
    // own that hold no request (HTTP.sys's connection timers), are lines
    // the format explains. An HTTP.sys error log may open with nothing else.
    let w3c_headed = lines
        .iter()
        .any(|line| line.starts_with(W3C_FIELDS_DIRECTIVE));
    let mut best: Option<(&AccessFormat, usize, usize, usize)> = None;
    for candidate in &from_head {
        let (mut exact, mut loose, mut own) = (0, 0, 0);
        let counts_own = w3c_headed && matches!(candidate.parser, AccessParser::W3c(_));
        for line in lines {
            match candidate.parser.parse_exact(line) {
                Ok((_, whole_line)) => {
                    loose += 1;
                    exact += usize::from(whole_line);
                }
                Err(error) if counts_own && error.is_directive => own += 1,
                Err(_) => {}
            }
        }
        let better = match best {
            None => true,
            Some((_, best_exact, best_loose, best_own)) => {
                (exact + own, loose + own) > (best_exact + best_own, best_loose + best_own)
            }
        };
        if better {
            best = Some((candidate, exact, loose, own));
        }
    }
    let (chosen, exact, parsed, own) = best?;
    if ((parsed + own) as f64) < MIN_SNIFF_SHARE * lines.len() as f64 {
        return None;
    }
    let mut format = chosen.clone();
    match &chosen.parser {
        AccessParser::Clf(layout) if layout.duration.is_integer() && !chosen.forced => {
            let unit = integer_duration_unit(lines, *layout);
            let wanted = layout.with_duration(unit);
            if let Some(sibling) = candidates
                .iter()
                .find(|c| c.parser == AccessParser::Clf(wanted))
            {
                format = sibling.clone();
            }
        }
        AccessParser::Json => format.name = json_flavor_name(lines),
        AccessParser::W3c(parser) => format.name = parser.flavor_name(),
        _ => {}
    }
    Some(Detection {
        format,
        sampled: lines.len(),
        parsed,
        exact,
    })
}

/// [`detect_access_format_among`] on the lines inside each envelope of
/// [`envelope::WRAPPING`] (syslog header, container prefixes, Docker JSON):
/// the envelope whose opened lines `candidates` read best, with the format
/// it found. A line an envelope cannot open counts as unread.
pub fn detect_enveloped(lines: &[&[u8]], candidates: &[AccessFormat]) -> Option<Detection> {
    let mut best: Option<Detection> = None;
    for wrapping in envelope::WRAPPING {
        let mut scratch = Vec::new();
        let opened: Vec<Vec<u8>> = lines
            .iter()
            .map(|line| {
                wrapping
                    .open(line, &mut scratch)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            })
            .collect();
        let opened: Vec<&[u8]> = opened.iter().map(Vec::as_slice).collect();
        let Some(mut detection) = detect_access_format_among(&opened, candidates) else {
            continue;
        };
        detection.format.envelope = wrapping;
        if best
            .as_ref()
            .is_none_or(|b| (detection.exact, detection.parsed) > (b.exact, b.parsed))
        {
            best = Some(detection);
        }
    }
    best
}

/// A share of zero values at or above this makes a trailing integer whole
/// seconds (`%T`): most requests take under a second, so `%T` is mostly 0,
/// while `%D` is never 0 (Apache cannot serve a request in under 1 µs).
pub const WHOLE_SECONDS_MIN_ZERO_SHARE: f64 = 0.1;

/// A median below this makes a trailing integer whole seconds (`%T`): no
/// real server answers most requests in under 10 µs, and few sites take
/// 10 s for most of theirs.
pub const WHOLE_SECONDS_MAX_MEDIAN: u64 = 10;

/// Tells Apache's `%D` (microseconds) from `%T` (whole seconds) by the
/// magnitude of the trailing integers of the sampled lines: whole seconds
/// when at least [`WHOLE_SECONDS_MIN_ZERO_SHARE`] of them are 0 or their
/// median is below [`WHOLE_SECONDS_MAX_MEDIAN`], microseconds otherwise.
pub fn integer_duration_unit(lines: &[&[u8]], layout: ClfLayout) -> DurationField {
    let as_micros = AccessParser::Clf(layout.with_duration(DurationField::Micros));
    let mut values: Vec<u64> = lines
        .iter()
        .filter_map(|line| as_micros.parse(line).ok()?.duration_us)
        .collect();
    if values.is_empty() {
        return DurationField::Micros;
    }
    values.sort_unstable();
    let zeros = values.iter().take_while(|&&v| v == 0).count();
    let median = values[values.len() / 2];
    if zeros as f64 >= WHOLE_SECONDS_MIN_ZERO_SHARE * values.len() as f64
        || median < WHOLE_SECONDS_MAX_MEDIAN
    {
        DurationField::WholeSeconds
    } else {
        DurationField::Micros
    }
}

/// The name of the JSON flavor most sampled lines look like.
fn json_flavor_name(lines: &[&[u8]]) -> &'static str {
    let mut counts = [0usize; jsonlines::Flavor::ALL.len()];
    for line in lines {
        if let Ok((_, _, flavor)) = jsonlines::parse_with_flavor(line)
            && let Some(index) = jsonlines::Flavor::ALL.iter().position(|f| *f == flavor)
        {
            counts[index] += 1;
        }
    }
    let (index, _) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(index, count)| (*count, std::cmp::Reverse(index)))
        .unwrap_or((0, &0));
    jsonlines::Flavor::ALL[index].format_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 512"#;

    fn detect(lines: &[String]) -> Option<&'static str> {
        let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        detect_access_format(&lines).map(|d| d.format.name)
    }

    #[test]
    fn every_preset_compiles_and_reads_its_own_definition_shape() {
        for preset in PRESETS {
            let _ = preset.parser();
            assert_eq!(preset_by_name(preset.name), Some(preset), "{}", preset.name);
        }
        for (alias, canonical) in ALIASES {
            assert_eq!(
                preset_by_name(alias).map(|p| p.name),
                Some(*canonical),
                "{alias}"
            );
        }
    }

    #[test]
    fn presets_are_told_apart_by_content() {
        let ingress = format!(
            r#"{PREFIX} "-" "curl/8" 312 0.052 [default-web-80] [] 10.244.0.7:8080 512 0.052 200 4f1b5e0c3b1a2d9e8f7a6b5c4d3e2f1a"#
        );
        let cases: Vec<(&str, String, Option<&str>)> = vec![
            ("common", PREFIX.to_string(), Some("common")),
            (
                "combined",
                format!(r#"{PREFIX} "-" "curl/8""#),
                Some("combined"),
            ),
            (
                "nginx request time",
                format!(r#"{PREFIX} "-" "curl/8" 0.042"#),
                Some("combined+request_time"),
            ),
            (
                "apache %D",
                format!(r#"{PREFIX} "-" "curl/8" 42000"#),
                Some("combined+usec"),
            ),
            (
                "apache %T",
                format!(r#"{PREFIX} "-" "curl/8" 0"#),
                Some("combined+sec"),
            ),
            (
                "common with request time",
                format!("{PREFIX} 0.042"),
                Some("common+request_time"),
            ),
            (
                "nginx main: combined and forwarded-for",
                format!(r#"{PREFIX} "-" "curl/8" "-""#),
                Some("nginx-main"),
            ),
            (
                "nginx main with request time",
                format!(r#"{PREFIX} "-" "curl/8" "203.0.113.1, 10.0.0.1" 0.120"#),
                Some("nginx-main+request_time"),
            ),
            (
                "vcombined with port",
                format!(r#"www.example.com:443 {PREFIX} "-" "curl/8""#),
                Some("vcombined"),
            ),
            (
                "vcombined without port, with %D",
                format!(r#"www.example.com {PREFIX} "-" "curl/8" 116075"#),
                Some("vcombined+usec"),
            ),
            ("ingress-nginx", ingress, Some("ingress-nginx")),
            (
                "nginx json",
                r#"{"time_local":"12/Nov/2023:14:00:03 +0000","remote_addr":"10.0.0.1","request":"GET / HTTP/1.1","status":"200","request_time":"0.010"}"#.to_string(),
                Some("nginx-json"),
            ),
            (
                "caddy json",
                r#"{"level":"info","ts":1699797603.1,"request":{"remote_ip":"10.0.0.1","method":"GET","uri":"/"},"duration":0.01,"status":200}"#.to_string(),
                Some("caddy-json"),
            ),
            (
                "traefik json",
                r#"{"ClientHost":"10.0.0.1","DownstreamStatus":200,"Duration":1000000,"StartUTC":"2023-11-12T14:00:03Z"}"#.to_string(),
                Some("traefik-json"),
            ),
            (
                "haproxy behind syslog",
                r#"Nov 12 14:00:03 lb01 haproxy[7]: 10.0.0.1:5123 [12/Nov/2023:14:00:03.100] www www/app1 0/0/1/12/13 200 512 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#.to_string(),
                Some("haproxy"),
            ),
            (
                "aws alb",
                r#"http 2023-11-12T14:00:03.186641Z app/shop/50dc 10.0.0.1:2817 10.0.1.5:80 0.000 0.010 0.000 200 200 34 366 "GET http://shop:80/ HTTP/1.1" "curl/8" - -"#.to_string(),
                Some("aws-alb"),
            ),
            (
                "aws classic elb",
                r#"2023-11-12T14:00:03.945958Z shop 10.0.0.1:2817 10.0.1.5:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://shop:80/ HTTP/1.1" "curl/8" - -"#.to_string(),
                Some("aws-elb"),
            ),
            (
                "iis: the fields header decides",
                "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n2023-11-12 14:00:03 10.0.0.4 GET / - 443 - 10.0.0.1 curl/8 - 200 0 0 46".to_string(),
                Some("iis-w3c"),
            ),
            (
                "cloudfront without a header",
                "2023-11-12\t14:00:03\tLAX1\t392\t10.0.0.1\tGET\td1.cloudfront.net\t/\t200\t-\tcurl/8\t-\t-\tHit\tSOX4==\tshop\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE\tHit\tHTTP/2.0".to_string(),
                Some("cloudfront"),
            ),
            (
                "envoy default",
                r#"[2023-11-12T14:00:03.123Z] "GET / HTTP/1.1" 503 UF 0 91 12 - "10.0.0.1" "curl/8" "id" "shop" "10.0.3.7:8080""#.to_string(),
                Some("envoy"),
            ),
            (
                "traefik common log format, not combined with %D",
                format!(r#"{PREFIX} "-" "curl/8" 4711 "web@docker" "http://10.0.3.7:80" 3ms"#),
                Some("traefik-clf"),
            ),
            (
                "caddy console encoder",
                "2023/11/12 14:00:03.123\tINFO\thttp.log.access\thandled request\t{\"request\": {\"remote_ip\": \"10.0.0.1\"}, \"duration\": 0.01, \"status\": 200}".to_string(),
                Some("caddy-console"),
            ),
            (
                "envoy json",
                r#"{"start_time":"2023-11-12T14:00:03Z","response_code":200,"duration":3}"#.to_string(),
                Some("envoy-json"),
            ),
            (
                "google cloud json",
                r#"{"httpRequest":{"status":200,"latency":"0.010s"},"timestamp":"2023-11-12T14:00:03Z"}"#.to_string(),
                Some("gcp-json"),
            ),
            (
                "azure json",
                r#"{"time":"2023-11-12T14:00:03Z","category":"ApplicationGatewayAccessLog","properties":{"httpStatus":200}}"#.to_string(),
                Some("azure-json"),
            ),
            (
                "cloudflare json",
                r#"{"EdgeStartTimestamp":1699797603000000000,"EdgeResponseStatus":200,"ClientIP":"10.0.0.1"}"#.to_string(),
                Some("cloudflare-json"),
            ),
            (
                "syslog",
                "Nov 12 14:00:03 web01 kernel: Out of memory".to_string(),
                None,
            ),
        ];
        for (name, text, expected) in cases {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            assert_eq!(detect(&lines), expected, "{name}");
        }
    }

    #[test]
    fn integer_request_times_are_told_apart_by_magnitude() {
        let line = |value: u64| format!(r#"{PREFIX} "-" "curl/8" {value}"#);
        let cases: [(&str, Vec<u64>, &str); 4] = [
            (
                "mostly zero is %T",
                vec![0, 0, 0, 1, 0, 2, 0, 0, 30, 0],
                "combined+sec",
            ),
            (
                "an outage sample of timeouts is still %T",
                vec![60, 60, 0, 60, 61, 60, 0, 60],
                "combined+sec",
            ),
            (
                "microseconds of fast static files",
                vec![180, 240, 95, 310, 150, 5200, 210],
                "combined+usec",
            ),
            (
                "microseconds of an application",
                vec![116_075, 156_302, 98_000, 1_200_000],
                "combined+usec",
            ),
        ];
        for (name, values, expected) in cases {
            let lines: Vec<String> = values.into_iter().map(line).collect();
            assert_eq!(detect(&lines), Some(expected), "{name}");
        }
    }

    #[test]
    fn a_minority_of_access_lines_is_not_an_access_log() {
        let lines = vec![
            PREFIX.to_string(),
            "garbage".to_string(),
            "more garbage".to_string(),
        ];
        assert_eq!(detect(&lines), None);
    }

    #[test]
    fn extra_trailing_fields_are_noticed() {
        let lines: Vec<String> = (0..4)
            .map(|i| format!(r#"{PREFIX} "-" "curl/8" rt=0.00{i} uct="0.001""#))
            .collect();
        let bytes: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let detection = detect_access_format(&bytes).expect("combined reads them");
        assert_eq!(detection.format.name, "combined");
        assert_eq!((detection.parsed, detection.exact), (4, 0));
        assert!(detection.has_extra_fields());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        let cases = [
            ("same", "combined", "combined", 0),
            ("one deleted", "combind", "combined", 1),
            ("one changed", "nginx_main", "nginx-main", 1),
            ("one missing", "commn", "common", 1),
            ("far", "json", "common", 4),
            ("empty", "", "json", 4),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(edit_distance(a, b), expected, "{name}");
        }
        assert_eq!(closest_preset("fancy"), None, "nothing close");
    }

    #[test]
    fn log_format_accepts_presets_aliases_and_definitions() {
        let cases = [
            ("preset", "combined", Ok("combined")),
            ("alias", "main", Ok("nginx-main")),
            (
                "nginx definition",
                r#"log_format combined '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';"#,
                Ok("nginx-template"),
            ),
            (
                "apache definition",
                r#"LogFormat "%h %l %u %t \"%r\" %>s %b" common"#,
                Ok("apache-template"),
            ),
            (
                "unknown word",
                "fancy",
                Err("'fancy' is not a known format"),
            ),
            (
                "a typo of a preset",
                "combind",
                Err("'combind' is not a known format: did you mean `combined`? Else use one of"),
            ),
            (
                "a typo in another case",
                "Nginx_Main",
                Err("did you mean `nginx-main`?"),
            ),
            (
                "bad directive",
                "%h %t %>s %Q",
                Err("--log-format: unknown directive '%Q' at column 11"),
            ),
        ];
        for (name, text, expected) in cases {
            match (resolve_log_format(text), expected) {
                (Ok(format), Ok(want)) => {
                    assert_eq!(format.name, want, "{name}");
                    assert!(format.forced, "{name}");
                }
                (Err(message), Err(want)) => assert!(message.contains(want), "{name}: {message}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn no_byte_sequence_makes_a_parser_panic() {
        use proptest::prelude::*;
        let valid = [
            format!(r#"shop:443 {PREFIX} "-" "curl/8" "-" 0.250"#),
            format!(
                r#"{PREFIX} "-" "curl/8" 312 0.052 [default-web-80] [] 10.244.0.7:8080, 10.244.0.8:8080 512, 0 0.052, 0.001 502, 200 4f1b"#
            ),
            r#"{"ts":1699797603.1,"request":{"remote_ip":"10.0.0.1","headers":{"User-Agent":["a"]}},"duration":1e-3,"status":200}"#.to_string(),
        ];
        let custom = Template::compile(
            r#"%v [%{%d/%b/%Y %H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %{ms}T $x"#,
        )
        .expect("compiles");
        let mut parsers: Vec<AccessParser> =
            preset_formats().iter().map(|f| f.parser.clone()).collect();
        parsers.push(AccessParser::Template(Arc::new(custom)));
        proptest!(|(
            which in 0..valid.len(),
            cut in 0usize..400,
            insert in proptest::collection::vec(any::<u8>(), 0..8),
            noise in proptest::collection::vec(any::<u8>(), 0..300),
        )| {
            let mut line = valid[which].as_bytes().to_vec();
            let at = cut.min(line.len());
            line.splice(at..at, insert);
            for parser in &parsers {
                let _ = parser.parse_exact(&line);
                let _ = parser.parse_exact(&noise);
            }
        });
    }

    #[test]
    fn no_definition_makes_the_compiler_panic() {
        use proptest::prelude::*;
        let pieces = [
            "%",
            "{",
            "}",
            "$",
            "\\",
            "\"",
            "'",
            "é",
            "%>s",
            "%{",
            "$time_local",
            "%t",
            "[",
            "]",
            " ",
            "%^t",
            "${",
            "log_format ",
            "LogFormat ",
            ";",
            "%{end:%H}t",
        ];
        proptest!(|(choice in proptest::collection::vec(0..pieces.len(), 0..20), text in ".{0,40}")| {
            let definition: String = choice.iter().map(|&i| pieces[i]).collect();
            let _ = resolve_log_format(&definition);
            let _ = resolve_log_format(&text);
        });
    }

    #[test]
    fn sampling_skips_blank_lines_and_crlf() {
        let head = b"a\r\n\r\nb\nc";
        assert_eq!(sample_lines(head, false), vec![&b"a"[..], b"b"]);
        assert_eq!(sample_lines(head, true), vec![&b"a"[..], b"b", b"c"]);
    }
}
