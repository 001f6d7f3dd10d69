//! Formatting helpers of the Markdown: counts (`1,234`), percentages,
//! durations, values in their unit, severity words, and text made safe for
//! table cells, running text and code spans.

use crate::config::UserKey;
use crate::detect::{DetectionSource, Severity, TimelineEntry, TimelineKind};
use crate::ingest::InputStats;
use crate::report::RequestTimes;
use crate::timefmt::{MS_PER_SECOND, rfc3339_utc};

/// A folded timeline entry's text with how many lines it stands for.
/// `text` of a folded row with its count and, when its lines span time,
/// the clock time of the last (`... (×348, to 15:35:05)`).
pub fn with_span(text: &str, count: u64, last: Option<String>) -> String {
    match last {
        Some(last) if count > 1 => format!("{text} (×{count}, to {last})"),
        _ => with_count(text, count),
    }
}

/// A timeline entry's `text` with how many lines it stands for: `(×N)` for
/// lines of one template, `(N lines)` for a change, whose row may also hold
/// the other lines of the same restart or reload (not N restarts).
pub fn entry_span(entry: &TimelineEntry, text: &str, last: Option<String>) -> String {
    if entry.kind != TimelineKind::Change || entry.count < 2 {
        return with_span(text, entry.count, last);
    }
    match last {
        Some(last) => format!("{text} ({} lines, to {last})", entry.count),
        None => format!("{text} ({} lines)", entry.count),
    }
}

pub fn with_count(text: &str, count: u64) -> String {
    if count > 1 {
        format!("{text} (×{count})")
    } else {
        text.to_string()
    }
}

pub fn severity_title(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "Outage",
        Severity::PartialOutage => "Partial outage",
        Severity::Degradation => "Degradation",
    }
}

pub fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "outage",
        Severity::PartialOutage => "partial outage",
        Severity::Degradation => "degradation",
    }
}

pub fn severity_verb(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "the service was down",
        Severity::PartialOutage => "the service was partly down",
        Severity::Degradation => "the service was slow",
    }
}

/// `Traffic stopped` from `traffic stopped`.
pub fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn severity_explained(severity: Severity) -> &'static str {
    match severity {
        Severity::Outage => "outage (nearly every request failed)",
        Severity::PartialOutage => "partial outage (part of the requests failed)",
        Severity::Degradation => "degradation (requests were slow, not failing)",
    }
}

pub fn detection_source_short(source: DetectionSource) -> &'static str {
    match source {
        DetectionSource::Log => "alert in the logs",
        DetectionSource::Rule => "replayed rule, not observed",
        DetectionSource::User => "given",
    }
}

/// The Event cell of the detection row: an observed detection is
/// `Detected (...)`; a replayed rule only says when an alert would have
/// fired, since nobody saw it.
pub fn detection_label(source: DetectionSource) -> String {
    match source {
        DetectionSource::Rule => "Alert would have fired (replayed rule)".to_string(),
        observed => format!("Detected ({})", detection_source_short(observed)),
    }
}

pub fn signal_kind_text(kind: &str) -> &str {
    match kind {
        "error_rate" => "error rate",
        "latency" => "latency",
        "traffic" => "traffic",
        "metric" => "metric",
        "events" => "log pattern",
        other => other,
    }
}

pub fn user_key_text(key: UserKey) -> &'static str {
    match key {
        UserKey::Ip => "client address (`--users ip`)",
        UserKey::IpUserAgent => {
            "client address with its user agent (`--users ip-ua`; the address alone where the log has no user agent)"
        }
        UserKey::RemoteUser => {
            "authenticated user (`--users remote-user`; the client address where there is none)"
        }
    }
}

/// Milliseconds to whole seconds, rounded half away from zero.
pub fn rounded_seconds(ms: i64) -> i64 {
    let magnitude = (ms.abs() + MS_PER_SECOND / 2) / MS_PER_SECOND;
    if ms < 0 { -magnitude } else { magnitude }
}

/// `2 h 59 min 55 s`, `3 h`, `16 s`, `2 d 8 h 15 min 0 s`: every unit from
/// the largest to the smallest that is not zero, so nothing is rounded.
pub fn exact_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let parts = [
        (seconds / 86_400, "d"),
        ((seconds % 86_400) / 3600, "h"),
        ((seconds % 3600) / 60, "min"),
        (seconds % 60, "s"),
    ];
    let Some(first) = parts.iter().position(|(value, _)| *value != 0) else {
        return "0 s".to_string();
    };
    let last = parts
        .iter()
        .rposition(|(value, _)| *value != 0)
        .unwrap_or(first);
    parts[first..=last]
        .iter()
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A signed duration: `15 min 1 s`, or `−1 h 0 min 5 s` for a negative
/// one (a detection before the start), never clamped to zero.
pub fn signed_duration(seconds: i64) -> String {
    if seconds < 0 {
        format!("−{}", exact_duration(-seconds))
    } else {
        exact_duration(seconds)
    }
}

/// `1234567` as `1,234,567`: every count a person reads in a report.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// `part` as a percentage of `whole`: `59.6%`, `0.25%`, `0%`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0%".to_string()
    } else {
        pct_value(100.0 * part as f64 / whole as f64)
    }
}

/// A percentage with one decimal, or two below 1% so small rates do not
/// read as zero.
pub fn pct_value(pct: f64) -> String {
    if pct == 0.0 {
        "0%".to_string()
    } else if pct.abs() < 1.0 {
        format!("{pct:.2}%")
    } else {
        format!("{pct:.1}%")
    }
}

/// A signal's value in its unit: ratios as percentages, seconds as `ms`
/// below one second, anything else with up to three decimals.
pub fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ratio" => pct_value(100.0 * value),
        "s" if value.abs() < 1.0 => format!("{:.0} ms", value * 1000.0),
        "s" => format!("{value:.2} s"),
        "%" => format!("{}%", compact_number(value)),
        "" => compact_number(value),
        unit => format!("{} {unit}", compact_number(value)),
    }
}

/// Binary prefixes for byte counts, each 1024 times the one before.
const BYTE_UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];

/// The unit a metric's name says it is in, after the Prometheus naming
/// conventions (`_bytes`, `_seconds`, `_ratio`, `_percent`, and `_total`
/// for a counter, which the metric reader turns into a per-second rate);
/// empty when the name says nothing.
pub fn unit_from_name(name: &str) -> &'static str {
    let base = name.trim_end_matches("_total");
    let counter = base.len() != name.len();
    match () {
        _ if base.ends_with("_bytes") && counter => "bytes/s",
        _ if base.ends_with("_bytes") => "bytes",
        _ if base.ends_with("_seconds") && counter => "s/s",
        _ if base.ends_with("_seconds") => "s",
        _ if base.ends_with("_ratio") => "ratio",
        _ if base.ends_with("_percent") || base.ends_with("_pct") => "%",
        _ if counter => "/s",
        _ => "",
    }
}

/// A metric's value in the unit it was given, or else the one its name
/// says ([`unit_from_name`]): `2.63 GiB`, `120 ms`, `12.5%`, `3.2/s`.
pub fn metric_value(value: f64, unit: &str, name: &str) -> String {
    let unit = if unit.is_empty() {
        unit_from_name(name)
    } else {
        unit
    };
    match unit {
        "bytes" => bytes_text(value),
        "bytes/s" => format!("{}/s", bytes_text(value)),
        "/s" => format!("{}/s", compact_number(value)),
        unit => format_value(value, unit),
    }
}

/// Bytes with a binary prefix and three significant digits: `2.63 GiB`,
/// `512 B`.
pub fn bytes_text(value: f64) -> String {
    let mut scaled = value;
    let mut unit = 0;
    while scaled.abs() >= 1024.0 && unit + 1 < BYTE_UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    let decimals = match scaled.abs() {
        v if unit == 0 || v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.decimals$} {}", BYTE_UNITS[unit])
}

/// Up to three decimals, trailing zeros dropped.
pub fn compact_number(value: f64) -> String {
    let text = format!("{value:.3}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

pub fn seconds_text(us: u64) -> String {
    let seconds = us as f64 / 1e6;
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Text from the logs made safe inside a table cell: [`inert`], whose
/// escaped `|` a GFM table keeps inside the cell.
pub fn cell(text: &str) -> String {
    inert(text)
}

/// Text from the logs made safe in running Markdown text: [`inert`].
pub fn inline(text: &str) -> String {
    inert(text)
}

/// The one escaping of log text (request paths, user agents, referers,
/// error messages, template examples) for Markdown, in running text and
/// table cells alike: whoever sent the request wrote it, so it must render
/// as the characters it is and never as a link, an image, HTML or
/// emphasis.
///
/// - every ASCII punctuation character Markdown or GFM gives a meaning to
///   is backslash-escaped (CommonMark lets any ASCII punctuation be
///   escaped): `\`, `` ` ``, `*`, `[`, `]`, `!`, `~`, `|`, `$` (GitHub's
///   math), `#`, `@` (GFM's e-mail autolinks), and `_` where it could open
///   or close emphasis (not inside a word, where CommonMark ignores it);
/// - `<`, `>` and `&` become entities, so no tag, autolink or entity of the
///   log is live;
/// - the `:` of `scheme://` and the `.` of `www.` are escaped, so GFM's
///   bare-URL autolinks do not fire;
/// - a leading `-`, `+`, `=` or `1.` is escaped so the text cannot start a
///   list or a heading underline where it begins a line;
/// - line breaks and other control characters (NUL included) become one
///   space each: a row or a sentence stays one line.
pub fn inert(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let is_word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    for (i, &c) in chars.iter().enumerate() {
        let next = |k: usize| chars.get(i + k).copied();
        match c {
            c if c.is_control() => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '[' | ']' | '!' | '~' | '|' | '$' | '#' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(i > 0 && is_word(chars.get(i - 1)) && is_word(chars.get(i + 1))) => {
                out.push_str("\\_");
            }
            ':' if next(1) == Some('/') && next(2) == Some('/') => out.push_str("\\:"),
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .map(char::to_ascii_lowercase)
                    .eq(['w', 'w', 'w']) =>
            {
                out.push_str("\\.");
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')'
                if i > 0
                    && chars[..i].iter().all(char::is_ascii_digit)
                    && next(1).is_none_or(|c| c == ' ' || c == '\t') =>
            {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A path or `path:line` as code inside a table cell (its `|` escaped, as
/// GFM tables need even inside a code span).
pub fn code_cell(text: &str) -> String {
    code(text).replace('|', "\\|")
}

/// `text` as one inline code span, whatever it holds: the fence is one
/// backtick longer than the longest run of backticks in it, and a space
/// pads both sides when it starts or ends with a backtick or a space (the
/// one space CommonMark strips from each side). Line breaks and control
/// characters become spaces.
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest_run = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest_run = longest_run.max(run);
    }
    let fence = "`".repeat(longest_run + 1);
    let pad = text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']);
    if pad {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Why nothing is counted as slow on a log without request times, and the
/// `log_format` line that adds one.
pub const NO_REQUEST_TIME: &str = "the access logs have no request time, so no request can be counted as slow (add `$request_time` to nginx's `log_format`, or `%D` to Apache's `LogFormat`)";

/// What a request's time is, for the definitions footer: the arrival where
/// the log has a request time, else the time written on its line.
pub fn request_time_definition(times: RequestTimes) -> &'static str {
    match times {
        RequestTimes::All | RequestTimes::NoAccessLog => {
            "A request's time is its arrival (Apache's `%t` is the arrival; for nginx, whose `$time_local` is written at completion, the completion time minus the request time)."
        }
        RequestTimes::Some => {
            "A request's time is its arrival where its log has a request time (for nginx, the completion time minus the request time); in the access logs without one it is the time written on the line, which for nginx is the completion time."
        }
        RequestTimes::None => {
            "The access logs have no request time, so a request's time is the time written on its line: for nginx (`$time_local`) that is its completion time, not its arrival; for Apache (`%t`) it is the arrival."
        }
    }
}

/// A link destination, in angle brackets when it holds spaces or brackets.
pub fn link_destination(link: &str) -> String {
    if link.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", link.replace(['<', '>'], ""))
    } else {
        link.to_string()
    }
}

/// A Markdown table: `columns` as (header, right-aligned) and one line per
/// row of cells, each cell already made safe.
pub fn table(
    out: &mut String,
    columns: &[(&str, bool)],
    rows: impl IntoIterator<Item = Vec<String>>,
) {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(
        columns.iter().map(|(name, _)| name.to_string()).collect(),
    ));
    out.push_str(&line(
        columns
            .iter()
            .map(|&(_, right)| if right { "---:" } else { "---" }.to_string())
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row));
    }
}

/// The columns of the inputs table (the report's appendix and `inspect`).
pub const INPUT_COLUMNS: [(&str, bool); 8] = [
    ("Input", false),
    ("Kind", false),
    ("Format", false),
    ("Lines", true),
    ("Parsed", true),
    ("Skipped", true),
    ("First (UTC)", false),
    ("Last (UTC)", false),
];

/// One row of the inputs table with the input's `path` and `skipped` cells
/// as the caller writes them.
pub fn input_row(input: &InputStats, path: String, skipped: String) -> Vec<String> {
    vec![
        path,
        input.kind.name().to_string(),
        input.format.unwrap_or("-").to_string(),
        thousands(input.lines),
        thousands(input.parsed),
        skipped,
        input.first.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
        input.last.map(rfc3339_utc).unwrap_or_else(|| "-".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations and counts are both whole numbers written the way people
    /// read them, so one table checks both.
    #[test]
    fn whole_numbers_read_as_people_write_them() {
        let cases = [
            ("duration zero", exact_duration(0), "0 s"),
            ("duration in seconds", exact_duration(16), "16 s"),
            ("minutes and seconds", exact_duration(516), "8 min 36 s"),
            ("whole hours", exact_duration(3 * 3600), "3 h"),
            (
                "hours minutes seconds",
                exact_duration(10_795),
                "2 h 59 min 55 s",
            ),
            ("inner zero kept", exact_duration(3600 + 5), "1 h 0 min 5 s"),
            (
                "days",
                exact_duration(2 * 86_400 + 8 * 3600 + 15 * 60),
                "2 d 8 h 15 min",
            ),
            ("negative duration clamps", exact_duration(-5), "0 s"),
            ("signed positive", signed_duration(92), "1 min 32 s"),
            ("signed negative", signed_duration(-3605), "−1 h 0 min 5 s"),
            ("count zero", thousands(0), "0"),
            ("three digits", thousands(999), "999"),
            ("four digits grouped", thousands(1000), "1,000"),
            ("millions grouped", thousands(1_234_567), "1,234,567"),
            (
                "the largest count",
                thousands(u64::MAX),
                "18,446,744,073,709,551,615",
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(text, expected, "{name}");
        }
    }

    #[test]
    fn values_read_in_their_unit() {
        let cases = [
            ("small ratio", 0.0021, "ratio", "0.21%"),
            ("large ratio", 0.463, "ratio", "46.3%"),
            ("zero ratio", 0.0, "ratio", "0%"),
            ("sub-second latency", 0.192, "s", "192 ms"),
            ("seconds", 30.015, "s", "30.02 s"),
            ("percent metric", 85.25, "%", "85.25%"),
            ("bytes", 1024.0, "bytes", "1024 bytes"),
            ("unitless", 2.71234, "", "2.712"),
        ];
        for (name, value, unit, expected) in cases {
            assert_eq!(format_value(value, unit), expected, "{name}");
        }
    }

    #[test]
    fn metric_values_carry_the_unit_their_name_says() {
        let cases = [
            (
                "memory in GiB",
                8_536_247_501.0,
                "",
                "memory_used_bytes",
                "7.95 GiB",
            ),
            (
                "baseline in GiB",
                2_823_998_306.0,
                "",
                "web02 memory_used_bytes",
                "2.63 GiB",
            ),
            ("small bytes", 512.0, "", "heap_bytes", "512 B"),
            ("MiB", 10.5 * 1024.0 * 1024.0, "", "rss_bytes", "10.5 MiB"),
            (
                "byte counter as a rate",
                2048.0,
                "",
                "net_sent_bytes_total",
                "2.00 KiB/s",
            ),
            ("seconds", 0.25, "", "gc_pause_seconds", "250 ms"),
            ("ratio as percent", 0.42, "", "cpu_ratio", "42.0%"),
            ("percent", 85.25, "", "disk_used_percent", "85.25%"),
            (
                "counter as a rate",
                3.25,
                "",
                "http_requests_total",
                "3.25/s",
            ),
            ("given unit wins", 0.5, "ratio", "something_bytes", "50.0%"),
            ("no unit in the name", 2.5, "", "queue_depth", "2.5"),
        ];
        for (name, value, unit, metric, expected) in cases {
            assert_eq!(metric_value(value, unit, metric), expected, "{name}");
        }
    }

    #[test]
    fn log_text_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <165>"), "a\\|b c &lt;165&gt;");
        assert_eq!(inline("80.0% of 20"), "80.0% of 20", "a number is no list");
        assert_eq!(inline("1. step"), "1\\. step", "an ordered-list marker is");
        assert_eq!(code_cell("we`ird|path"), "``we`ird\\|path``");
        assert_eq!(link_destination("my chart.svg"), "<my chart.svg>");
        assert_eq!(link_destination("../chart.svg"), "../chart.svg");
    }

    /// Every hostile form a log line can carry, as whoever sent the request
    /// could write it.
    pub(crate) const HOSTILE: [(&str, &str); 16] = [
        ("link", "see [link](javascript:alert(1)) now"),
        ("image", "pixel ![img](http://x/y.png) here"),
        ("script tag", "<script>alert(1)</script>"),
        ("autolink", "<http://x/y> and <a@b.c>"),
        ("bare url", "GET http://evil.example/x and www.evil.example"),
        ("e-mail", "mail root@evil.example now"),
        ("backticks", "a `code` and ``two`` and ```"),
        ("pipe", "a | b | c"),
        ("emphasis", "*bold* **strong** _em_ ~~gone~~"),
        ("heading", "# not a heading"),
        ("list", "- not a list"),
        ("ordered list", "1. not a list"),
        ("entity", "&amp; &lt;b&gt; &#x3C;i>"),
        ("line breaks", "one\ntwo\r\nthree\rfour"),
        ("nul and controls", "a\0b\x07c\x1bd"),
        ("math and escapes", "$x$ \\[ \\* {braces}"),
    ];

    /// What a reader sees of `text`: control characters as spaces.
    fn as_seen(text: &str) -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    }

    /// Parses `markdown` as GitHub does (tables, strikethrough, math) and
    /// returns the text a reader sees, or names the live construct it found;
    /// `own_lists` lists are the caller's own (a bulleted sentence).
    pub(crate) fn rendered_text(markdown: &str, own_lists: usize) -> Result<String, String> {
        let mut lists = 0;
        use pulldown_cmark::{Event, Options, Parser, Tag};
        let mut seen = String::new();
        let options = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_MATH
            | Options::ENABLE_GFM;
        for event in Parser::new_ext(markdown, options) {
            match event {
                Event::Text(t) | Event::Code(t) => seen.push_str(&t),
                Event::SoftBreak | Event::HardBreak => seen.push(' '),
                Event::Html(h) | Event::InlineHtml(h) => return Err(format!("HTML {h:?}")),
                Event::InlineMath(m) | Event::DisplayMath(m) => {
                    return Err(format!("math {m:?}"));
                }
                Event::Start(
                    tag @ (Tag::Link { .. }
                    | Tag::Image { .. }
                    | Tag::Emphasis
                    | Tag::Strong
                    | Tag::Strikethrough
                    | Tag::Heading { .. }
                    | Tag::HtmlBlock),
                ) => return Err(format!("live {tag:?}")),
                Event::Start(Tag::List(_)) => {
                    lists += 1;
                    if lists > own_lists {
                        return Err("a list of its own".to_string());
                    }
                }
                _ => {}
            }
        }
        Ok(seen)
    }

    #[test]
    fn hostile_log_text_renders_as_the_characters_it_is() {
        for (name, hostile) in HOSTILE {
            let expected = as_seen(hostile);
            let places = [
                ("paragraph", inline(hostile), 0),
                ("bullet", format!("- {}", inline(hostile)), 1),
                ("code span", code(hostile), 0),
            ];
            for (place, markdown, own_lists) in places {
                let seen = rendered_text(&markdown, own_lists)
                    .unwrap_or_else(|live| panic!("{name} in a {place}: {live} in {markdown:?}"));
                assert_eq!(
                    seen.trim(),
                    expected.trim(),
                    "{name} in a {place}: {markdown:?}"
                );
            }
            for (place, rendered) in [
                ("table cell", cell(hostile)),
                ("code cell", code_cell(hostile)),
            ] {
                let markdown = format!("| a | b |\n| --- | --- |\n| {rendered} | x |\n");
                let seen = rendered_text(&markdown, 0)
                    .unwrap_or_else(|live| panic!("{name} in a {place}: {live} in {markdown:?}"));
                assert_eq!(
                    seen,
                    format!("ab{}x", expected.trim()),
                    "{name} in a {place}: one cell, the text as it is"
                );
            }
        }
    }

    #[test]
    fn code_spans_take_a_fence_longer_than_any_run_of_backticks() {
        let cases = [
            ("plain", "a/b.log:7", "`a/b.log:7`"),
            ("one backtick", "a`b", "``a`b``"),
            ("a run of three", "x```y", "````x```y````"),
            ("leading backtick padded", "`x", "`` `x ``"),
            ("trailing space padded", "x ", "` x  `"),
            ("line break", "a\nb", "`a b`"),
        ];
        for (name, text, expected) in cases {
            assert_eq!(code(text), expected, "{name}");
        }
    }
}
