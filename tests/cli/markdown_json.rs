//! Every figure of the Markdown's summary has its counterpart in the JSON:
//! on each bundled sample, the counts, percentages and durations of the
//! summary sentence and the Issue Summary's Duration, Impact and Detection
//! paragraphs are each found among the JSON's values (a count exactly, a
//! percentage within its printed rounding, a duration to the second), and
//! the claims the JSON flags (replay, no request time) are worded so.

use serde_json::Value;

use super::handmade::{nginx_log, one_incident, requests};
use super::support::{json_report, postmortem, repo_root, scratch, write};

/// The samples with at least one incident.
const SAMPLES: [&str; 8] = [
    "memory-leak",
    "bad-config",
    "full-outage",
    "uneven-lb",
    "slow-degradation",
    "traffic-gap",
    "haproxy-reload",
    "envoy-upstream-refused",
];

/// The contract's one status named in words (`5xx or 499`).
const FAILED_STATUS: u64 = 499;

/// Every number of the JSON report (its numeric values and the numbers in
/// its strings: an alert line, a rule's evidence), and its times as epoch
/// seconds (a duration in words may be the distance of two).
fn json_numbers(value: &Value) -> (Vec<f64>, Vec<f64>) {
    let mut numbers = Vec::new();
    let mut times = Vec::new();
    let mut walk = vec![value];
    while let Some(value) = walk.pop() {
        match value {
            Value::Number(n) => numbers.extend(n.as_f64()),
            Value::String(text) => {
                if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
                    times.push(at.timestamp_millis() as f64 / 1000.0);
                }
                // A duration in words ("1 h and 5 min" in a rule's name).
                numbers.extend(figures(text).durations.iter().map(|&s| s as f64));
                numbers.extend(
                    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
                        .filter_map(|t| t.trim_end_matches('.').parse::<f64>().ok()),
                );
            }
            Value::Array(items) => walk.extend(items),
            Value::Object(fields) => walk.extend(fields.values()),
            _ => {}
        }
    }
    (numbers, times)
}

/// The figures of a piece of Markdown: counts (`1,028`, or a JSON value
/// rounded: "about 54 requests a minute"), percentages
/// (`58.3%`) and durations (`2 h 59 min 36 s`, in seconds).
#[derive(Debug, Default)]
struct Figures {
    counts: Vec<u64>,
    percents: Vec<(f64, f64)>,
    durations: Vec<i64>,
}

fn figures(text: &str) -> Figures {
    let mut found = Figures::default();
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].trim_start_matches(['(', '*']);
        let word = word.trim_end_matches([',', ')', ';', '.', ':', '*']);
        // A duration: numbers each followed by d, h, min or s.
        let mut seconds = 0;
        let mut j = i;
        while j + 1 < words.len() {
            let Ok(value) = words[j].trim_start_matches(['(', '−']).parse::<i64>() else {
                break;
            };
            let unit = words[j + 1].trim_end_matches([',', ')', ';', '.', ':']);
            let scale = match unit {
                "d" => 86_400,
                "h" => 3600,
                "min" => 60,
                "s" => 1,
                _ => break,
            };
            seconds += value * scale;
            j += 2;
        }
        if j > i {
            found.durations.push(seconds);
            i = j;
            continue;
        }
        let looks_like_count = word.chars().all(|c| c.is_ascii_digit() || c == ',')
            && word.chars().next().is_some_and(|c| c.is_ascii_digit())
            && (word.contains(',') || !text.contains(&format!("{word}-")));
        let count = looks_like_count
            .then(|| word.replace(',', "").parse::<u64>().ok())
            .flatten();
        if let Some(pct) = word.strip_suffix('%') {
            if let Ok(value) = pct.parse::<f64>() {
                let decimals = pct.split('.').nth(1).map_or(0, str::len) as i32;
                found.percents.push((value, 0.5 * 10f64.powi(-decimals)));
            }
        } else if let Some(value) = count {
            found.counts.push(value);
        }
        i += 1;
    }
    found
}

/// The paragraphs of the Markdown that state the incident's figures.
fn summary_paragraphs(markdown: &str) -> Vec<&str> {
    markdown
        .split("\n\n")
        .filter(|p| {
            p.starts_with("**Impact:**")
                || p.starts_with("**Duration:**")
                || p.starts_with("**Detection:**")
                || (p.starts_with("On ") || p.starts_with("From ")) && p.contains("went bad")
        })
        .collect()
}

#[test]
fn every_summary_figure_of_the_markdown_is_in_the_json() {
    for sample in SAMPLES {
        let dir = repo_root().join("sample-logs").join(sample);
        let dir = dir.to_str().expect("utf-8 path");
        let json = json_report(&[dir]);
        let output = postmortem()
            .args(["report", "--quiet", dir])
            .output()
            .expect("run postmortem");
        let markdown = String::from_utf8(output.stdout).expect("utf-8");
        let incident = &json["incidents"][0];
        let (numbers, times) = json_numbers(&json);
        let counts = &numbers;
        let impact = &incident["impact"];
        let total = impact["requests_total"].as_f64().unwrap_or(0.0);
        let bad = impact["requests_failed"].as_f64().unwrap_or(0.0)
            + impact["requests_slow"].as_f64().unwrap_or(0.0);
        let paragraphs = summary_paragraphs(&markdown);
        assert!(paragraphs.len() >= 3, "{sample}: {paragraphs:#?}");
        for paragraph in paragraphs {
            // Clock times, dates and code spans (an alert line, a flag) are
            // not figures.
            let without_times: String = paragraph
                .split('`')
                .step_by(2)
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .filter(|w| !(w.contains(':') && w.starts_with(|c: char| c.is_ascii_digit())))
                .filter(|w| !w.starts_with("20") || !w.contains('-'))
                .collect::<Vec<_>>()
                .join(" ");
            let found = figures(&without_times);
            for count in &found.counts {
                assert!(
                    *count == FAILED_STATUS
                        || counts.iter().any(|n| n.round() == *count as f64)
                        || *count as f64 == bad,
                    "{sample}: {count} is not in the JSON: {paragraph}"
                );
            }
            for (pct, tolerance) in &found.percents {
                let near = |n: f64| (n - pct).abs() <= tolerance + 1e-9;
                assert!(
                    numbers
                        .iter()
                        .any(|&n| near(n) || near(100.0 * n) || near(100.0 * n / total))
                        || near(100.0 * bad / total),
                    "{sample}: {pct}% is not in the JSON: {paragraph}"
                );
            }
            for seconds in &found.durations {
                let close = |n: f64| (n.abs().round() as i64 - seconds).abs() <= 1;
                assert!(
                    numbers.iter().any(|&n| close(n))
                        || times.iter().any(|&a| times.iter().any(|&b| close(a - b))),
                    "{sample}: {seconds} s is no duration in the JSON: {paragraph}"
                );
            }
        }
        // The claims the JSON flags are worded as such.
        let replayed = incident["detected"]["observed"] == Value::Bool(false);
        assert_eq!(
            markdown.contains("would have fired"),
            replayed,
            "{sample}: a replayed detection is worded as one"
        );
        assert_eq!(
            json["request_times"], "all",
            "{sample}: every sample logs a request time"
        );
    }
}

#[test]
fn a_log_without_request_times_claims_no_slow_count() {
    let dir = scratch();
    let with_times = nginx_log(&requests(240, &one_incident()));
    // Stock `combined`: the same lines without the trailing request time.
    let stock: String = with_times
        .lines()
        .map(|line| line.rsplit_once(' ').map_or(line, |(head, _)| head))
        .map(|line| format!("{line}\n"))
        .collect();
    let log = write(dir.path(), "access.log", &stock);
    let log = log.to_str().expect("utf-8 path");
    let json = json_report(&[log]);
    assert_eq!(json["request_times"], "none");
    assert_eq!(json["incidents"][0]["impact"]["requests_slow"], Value::Null);
    let output = postmortem()
        .args(["report", "--quiet", log])
        .output()
        .expect("run postmortem");
    let markdown = String::from_utf8(output.stdout).expect("utf-8");
    let cases = [
        (
            "the impact says why nothing is slow and what adds it",
            "the access logs have no request time, so no request can be counted as slow (add `$request_time` to nginx's `log_format`, or `%D` to Apache's `LogFormat`)",
            true,
        ),
        (
            "the duration calls its times what they are",
            "at the times written on their log lines (for nginx, completion times: the logs have no request time)",
            true,
        ),
        (
            "the footer defines slow for this input",
            "*slow* never here: the access logs have no request time",
            true,
        ),
        ("no slow count", "were slow (over", false),
        (
            "no arrival computed from a request time",
            "minus the request time",
            false,
        ),
    ];
    for (name, text, present) in cases {
        assert_eq!(
            markdown.contains(text),
            present,
            "{name}: {text:?} in\n{markdown}"
        );
    }
}

#[test]
fn the_figure_reader_reads_the_summarys_forms() {
    let found = figures(
        "1,028 of the 1,763 users (58.3%) got it, 2 h 59 min 36 s and 15 min 1 s, 0.26% and 7 bad",
    );
    assert_eq!(found.counts, vec![1028, 1763, 7]);
    assert_eq!(found.percents, vec![(58.3, 0.05), (0.26, 0.005)]);
    assert_eq!(found.durations, vec![10_776, 901]);
}

/// Seconds east of UTC of a Markdown zone label (`GMT`, `GMT+1`,
/// `GMT-7`, `GMT+5:30`).
fn label_offset(label: &str) -> Option<i64> {
    let rest = label.strip_prefix("GMT")?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    Some(sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60))
}

/// What the JSON report of a run says, in the forms the Markdown writes:
/// its numbers, its strings, and its times as wall-clock text in the
/// report's zone (`14:00:02`, `2023-11-12 14:00:02`, with milliseconds
/// when they are not zero).
struct JsonFacts {
    numbers: Vec<f64>,
    times: Vec<f64>,
    strings: Vec<String>,
    clocks: std::collections::HashSet<String>,
}

impl JsonFacts {
    fn of(json: &Value, offset_s: i64) -> Self {
        let (numbers, times) = json_numbers(json);
        let mut strings = Vec::new();
        let mut walk = vec![json];
        while let Some(value) = walk.pop() {
            match value {
                Value::String(text) => strings.push(text.clone()),
                Value::Array(items) => walk.extend(items),
                Value::Object(fields) => walk.extend(fields.values()),
                _ => {}
            }
        }
        let mut clocks = std::collections::HashSet::new();
        for text in &strings {
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) else {
                continue;
            };
            let local = at.naive_utc() + chrono::Duration::seconds(offset_s);
            for format in ["%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.3f"] {
                clocks.insert(local.format(format).to_string());
            }
        }
        JsonFacts {
            numbers,
            times,
            strings,
            clocks,
        }
    }

    fn has_text(&self, text: &str) -> bool {
        self.strings.iter().any(|s| s.contains(text))
    }
}

/// A wall-clock time at the start of `word` (`14:00:02`, `14:00:02.250`),
/// with a date before it when `previous` is one (`2023-11-12`).
fn clock_token(previous: Option<&str>, word: &str) -> Option<String> {
    let word = word.trim_start_matches(['(', '*']);
    let word = word.trim_end_matches([',', ')', ';', ':', '*', '.']);
    let bytes = word.as_bytes();
    let is_clock = bytes.len() >= 8
        && bytes[2] == b':'
        && bytes[5] == b':'
        && [0, 1, 3, 4, 6, 7]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit());
    if !is_clock {
        return None;
    }
    let date = previous
        .map(|p| p.trim_start_matches(['(', '*']))
        .filter(|p| p.len() == 10 && p.as_bytes()[4] == b'-' && p.as_bytes()[7] == b'-');
    Some(match date {
        Some(date) => format!("{date} {word}"),
        None => word.to_string(),
    })
}

/// Asserts that every code span, wall-clock time and figure of `text` (a
/// table row or a lead of the Markdown) is in the JSON of the same run.
fn assert_backed(sample: &str, text: &str, json: &JsonFacts) {
    let spans: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
    for span in spans {
        // A source (`file:line`) or an input's path: the JSON's own.
        assert!(
            json.has_text(span),
            "{sample}: `{span}` is not in the JSON: {text}"
        );
    }
    let prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = prose.split_whitespace().collect();
    let mut rest = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if let Some(clock) = clock_token(i.checked_sub(1).map(|p| words[p]), word) {
            assert!(
                json.clocks.contains(&clock) || json.has_text(&clock),
                "{sample}: the time {clock} is not in the JSON: {text}"
            );
            continue;
        }
        let is_date = word.len() >= 10 && word.starts_with("20") && word.contains('-');
        if !is_date {
            rest.push(*word);
        }
    }
    let rest = rest.join(" ");
    let found = figures(&rest);
    let near = |value: f64, tolerance: f64| {
        json.numbers.iter().any(|&n| {
            [n, 100.0 * n, n * 1000.0, n / 1000.0]
                .iter()
                .any(|m| (m - value).abs() <= tolerance + 1e-9)
        })
    };
    // `1,114` as a JSON sentence writes it, or the number itself.
    let grouped = |count: u64| {
        let digits = count.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    for count in &found.counts {
        assert!(
            near(*count as f64, 0.5) || json.has_text(&grouped(*count)),
            "{sample}: {count} is not in the JSON: {text}"
        );
    }
    for (pct, tolerance) in &found.percents {
        assert!(
            near(*pct, *tolerance),
            "{sample}: {pct}% is not in the JSON: {text}"
        );
    }
    for seconds in &found.durations {
        let close = |n: f64| (n.abs().round() as i64 - seconds).abs() <= 1;
        assert!(
            json.numbers.iter().any(|&n| close(n))
                || json
                    .times
                    .iter()
                    .any(|&a| json.times.iter().any(|&b| close(a - b))),
            "{sample}: {seconds} s is no duration in the JSON: {text}"
        );
    }
    // Decimals (`60.03 s`, `7.95 GiB`): within their printed rounding.
    for word in rest.split_whitespace() {
        let word = word.trim_start_matches(['(', '*']);
        let word = word.trim_end_matches([',', ')', ';', ':', '*', '.']);
        let Some((whole, fraction)) = word.split_once('.') else {
            continue;
        };
        let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
        if !(digits(whole) && digits(fraction)) {
            continue;
        }
        let Ok(value) = word.parse::<f64>() else {
            continue;
        };
        let tolerance = 0.5 * 10f64.powi(-(fraction.len() as i32));
        let gib = value * f64::from(1u32 << 30);
        assert!(
            near(value, tolerance)
                || json
                    .numbers
                    .iter()
                    .any(|&n| (n - gib).abs() <= tolerance * f64::from(1u32 << 30)),
            "{sample}: {value} is not in the JSON: {text}"
        );
    }
}

/// The statements of the Markdown beyond its summary: every table row (the
/// timeline, the signals of the root-cause evidence, the inputs of the
/// appendix, the overview of several incidents), the timeline's
/// time-to-detect bullets and the leads under the root cause.
fn statements(markdown: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let (mut in_leads, mut leads) = (false, 0);
    for line in markdown.lines() {
        if line.starts_with("**Root Cause:**") {
            in_leads = true;
            continue;
        }
        if line.is_empty() && in_leads && leads > 0 {
            in_leads = false;
        }
        leads += usize::from(in_leads && line.starts_with("- "));
        let is_row = line.starts_with("| ")
            && !line.starts_with("| ---")
            && !line.starts_with("| Time")
            && !line.starts_with("| Input")
            && !line.starts_with("| Signal");
        let is_lead = in_leads && line.starts_with("- ");
        let is_ttd = line.starts_with("- **Time to detect")
            || line.starts_with("- **Impact duration")
            || line.starts_with("- **Time from");
        if is_row || is_lead || is_ttd {
            found.push(line);
        }
    }
    found
}

#[test]
fn every_row_and_lead_of_the_markdown_is_in_the_json() {
    for sample in SAMPLES {
        let dir = repo_root().join("sample-logs").join(sample);
        let dir = dir.to_str().expect("utf-8 path");
        let json = json_report(&[dir]);
        let output = postmortem()
            .args(["report", "--quiet", dir])
            .output()
            .expect("run postmortem");
        let markdown = String::from_utf8(output.stdout).expect("utf-8");
        // The report's zone, as the note under the title names it.
        let label = markdown
            .split("Times are in ")
            .nth(1)
            .and_then(|rest| rest.split([',', ' ']).next())
            .unwrap_or("GMT");
        let offset_s = label_offset(label).unwrap_or_else(|| panic!("{sample}: zone {label}"));
        let facts = JsonFacts::of(&json, offset_s);
        let statements = statements(&markdown);
        let timeline_rows = statements
            .iter()
            .filter(|s| s.contains("**Impact starts**"))
            .count();
        assert_eq!(timeline_rows, 1, "{sample}: the timeline was read");
        assert!(
            statements
                .iter()
                .any(|s| ["(latency)", "(error rate)", "(traffic)"]
                    .iter()
                    .any(|k| s.contains(k))),
            "{sample}: the signals were read"
        );
        for statement in statements {
            assert_backed(sample, statement, &facts);
        }
    }
}

#[test]
fn the_statement_reader_finds_times_and_figures() {
    assert_eq!(clock_token(None, "14:00:02,").as_deref(), Some("14:00:02"));
    assert_eq!(
        clock_token(Some("2023-11-12"), "10:59:59.906").as_deref(),
        Some("2023-11-12 10:59:59.906")
    );
    assert_eq!(clock_token(None, "1:30"), None);
    let cases = [
        ("GMT", Some(0)),
        ("GMT+1", Some(3600)),
        ("GMT-7", Some(-25_200)),
        ("GMT+5:30", Some(19_800)),
        ("UTC", None),
    ];
    for (label, offset) in cases {
        assert_eq!(label_offset(label), offset, "{label}");
    }
    // A row is backed when its time, source and figures are the JSON's,
    // and not when one of them is missing.
    let json = serde_json::json!({
        "incidents": [{"start": "2023-11-12T13:00:02Z", "impact": {"requests_total": 1028},
                       "timeline": [{"source": "access.log:7", "text": "12.5% bad"}]}]
    });
    let facts = JsonFacts::of(&json, 3600);
    assert_backed(
        "table",
        "| 14:00:02 | 1,028 requests, 12.5% | `access.log:7` |",
        &facts,
    );
    let unbacked = [
        "| 14:00:03 | a time the JSON lacks |",
        "| 14:00:02 | 1,029 requests |",
        "| 14:00:02 | 13.5% |",
        "| 14:00:02 | `access.log:8` |",
    ];
    for row in unbacked {
        let caught = std::panic::catch_unwind(|| assert_backed("table", row, &facts));
        assert!(caught.is_err(), "{row} passed");
    }
}
