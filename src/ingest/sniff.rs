//! Format detection from content: the access-log presets and how to pick one
//! by trying each on the first lines of an input.

use memchr::memchr_iter;

use super::access::{AccessParser, ClfLayout, DurationField};

/// A named access-log layout users can also pass with `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub layout: ClfLayout,

    /// The nginx `log_format` or Apache `LogFormat` this preset reads.
    pub definition: &'static str,
}

/// The presets, most specific first: when two parse the same lines, the
/// earlier one wins (an integer request time is Apache's `%D`, since nginx
/// always prints `$request_time` with a fraction).
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "combined+usec",
        layout: ClfLayout {
            referer_agent: true,
            duration: DurationField::Micros,
        },
        definition: r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D"#,
    },
    Preset {
        name: "combined+request_time",
        layout: ClfLayout {
            referer_agent: true,
            duration: DurationField::Seconds,
        },
        definition: r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
    },
    Preset {
        name: "combined",
        layout: ClfLayout {
            referer_agent: true,
            duration: DurationField::None,
        },
        definition: r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#,
    },
    Preset {
        name: "common+usec",
        layout: ClfLayout {
            referer_agent: false,
            duration: DurationField::Micros,
        },
        definition: r#"%h %l %u %t "%r" %>s %b %D"#,
    },
    Preset {
        name: "common+request_time",
        layout: ClfLayout {
            referer_agent: false,
            duration: DurationField::Seconds,
        },
        definition: r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent $request_time"#,
    },
    Preset {
        name: "common",
        layout: ClfLayout {
            referer_agent: false,
            duration: DurationField::None,
        },
        definition: r#"%h %l %u %t "%r" %>s %b"#,
    },
];

impl Preset {
    pub fn parser(&self) -> AccessParser {
        AccessParser::Clf(self.layout)
    }
}

/// Looks a preset up by name (`--log-format combined`).
pub fn preset_by_name(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name.trim())
}

/// How many non-empty lines from the head of an input are tried.
pub const SNIFF_LINES: usize = 200;

/// The share of sampled lines a preset must read for the input to be taken
/// as an access log of that format.
pub const MIN_SNIFF_SHARE: f64 = 0.5;

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

/// Picks the preset that reads the most sample lines exactly (nothing left
/// over), else the one that reads the most with extra trailing fields.
/// `None` when no preset reads at least [`MIN_SNIFF_SHARE`] of them.
pub fn detect_access_preset(lines: &[&[u8]]) -> Option<&'static Preset> {
    detect_access_preset_among(lines, PRESETS)
}

/// [`detect_access_preset`] restricted to `candidates`.
pub fn detect_access_preset_among(
    lines: &[&[u8]],
    candidates: &'static [Preset],
) -> Option<&'static Preset> {
    if lines.is_empty() {
        return None;
    }
    let mut best: Option<(&'static Preset, usize, usize)> = None;
    for preset in candidates {
        let (mut exact, mut loose) = (0, 0);
        let parser = preset.parser();
        for line in lines {
            if let Ok((_, whole_line)) = parser.parse_exact(line) {
                loose += 1;
                exact += usize::from(whole_line);
            }
        }
        let better = match best {
            None => true,
            Some((_, best_exact, best_loose)) => (exact, loose) > (best_exact, best_loose),
        };
        if better {
            best = Some((preset, exact, loose));
        }
    }
    let (preset, _, loose) = best?;
    (loose as f64 >= MIN_SNIFF_SHARE * lines.len() as f64).then_some(preset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_told_apart_by_content() {
        let prefix = r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 512"#;
        let cases = [
            ("common", prefix.to_string(), Some("common")),
            (
                "combined",
                format!(r#"{prefix} "-" "curl/8""#),
                Some("combined"),
            ),
            (
                "nginx request time",
                format!(r#"{prefix} "-" "curl/8" 0.042"#),
                Some("combined+request_time"),
            ),
            (
                "apache %D",
                format!(r#"{prefix} "-" "curl/8" 42000"#),
                Some("combined+usec"),
            ),
            (
                "common with request time",
                format!("{prefix} 0.042"),
                Some("common+request_time"),
            ),
            (
                "combined with an extra field",
                format!(r#"{prefix} "-" "curl/8" "-""#),
                Some("combined"),
            ),
            (
                "syslog",
                "Nov 12 14:00:03 web01 kernel: Out of memory".to_string(),
                None,
            ),
        ];
        for (name, line, expected) in cases {
            let lines = [line.as_bytes()];
            let found = detect_access_preset(&lines).map(|p| p.name);
            assert_eq!(found, expected, "{name}");
        }
    }

    #[test]
    fn a_minority_of_access_lines_is_not_an_access_log() {
        let access = br#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 512"#;
        let lines: Vec<&[u8]> = vec![access, b"garbage", b"more garbage"];
        assert_eq!(detect_access_preset(&lines), None);
    }

    #[test]
    fn sampling_skips_blank_lines_and_crlf() {
        let head = b"a\r\n\r\nb\nc";
        assert_eq!(sample_lines(head, false), vec![&b"a"[..], b"b"]);
        assert_eq!(sample_lines(head, true), vec![&b"a"[..], b"b", b"c"]);
    }
}
