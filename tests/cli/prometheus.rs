//! Prometheus as it exports: a `query_range` answer (three hosts' memory
//! and a counter of 5xx responses) beside an access log and a syslog gives
//! the same leads as a Grafana CSV of the same numbers; the counter is read
//! as its per-second rate, and `inspect` lists every series.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::support::{json_report, run, scratch, write};

/// 2024-03-05T12:00:00Z, the first sample.
const START_MS: i64 = 1_709_640_000_000;
/// Prometheus's default scrape interval.
const STEP_S: i64 = 15;
/// Three hours of samples.
const SAMPLES: i64 = 3 * 3600 / STEP_S;
/// Minutes after 12:00 of the story: web02 is deployed at 13:15 and leaks
/// from 13:20; web01 is deployed at 13:18 and does not; requests fail from
/// 14:00 to 14:30; the 5xx counter's process restarts at 12:40.
const WEB02_DEPLOY_MIN: i64 = 75;
const WEB01_DEPLOY_MIN: i64 = 78;
const LEAK_FROM_MIN: i64 = 80;
const IMPACT_FROM_MIN: i64 = 120;
const IMPACT_TO_MIN: i64 = 150;
const COUNTER_RESTART_MIN: i64 = 40;
const HOSTS: [&str; 3] = ["web01", "web02", "web03"];

fn at_minute(minute: i64, second: i64) -> i64 {
    START_MS + (minute * 60 + second) * 1000
}

/// The one set of numbers both exports are written from: per sample, its
/// time, each host's memory in bytes and the 5xx counter's value.
struct Numbers {
    times: Vec<i64>,
    memory: [Vec<f64>; 3],
    errors_total: Vec<f64>,
}

fn numbers() -> Numbers {
    let mut numbers = Numbers {
        times: Vec::new(),
        memory: [Vec::new(), Vec::new(), Vec::new()],
        errors_total: Vec::new(),
    };
    let mut errors = 1_000.0;
    for sample in 0..SAMPLES {
        let at = START_MS + sample * STEP_S * 1000;
        let minute = sample * STEP_S / 60;
        numbers.times.push(at);
        for (host, series) in numbers.memory.iter_mut().enumerate() {
            let wobble = ((sample * 7919 + host as i64 * 104_729) % 13) as f64 - 6.0;
            let leak = if host == 1 && minute >= LEAK_FROM_MIN {
                40e6 * (sample - LEAK_FROM_MIN * 60 / STEP_S) as f64
            } else {
                0.0
            };
            series.push(2e9 + wobble * 1e6 + leak);
        }
        // About one 5xx a minute, forty a second while requests fail; the
        // process restarts (the counter starts again from zero) at 12:40.
        if minute == COUNTER_RESTART_MIN && sample * STEP_S % 60 == 0 {
            errors = 0.0;
        }
        errors += if (IMPACT_FROM_MIN..IMPACT_TO_MIN).contains(&minute) {
            40.0 * STEP_S as f64
        } else {
            (sample % 4 == 0) as u8 as f64
        };
        numbers.errors_total.push(errors);
    }
    numbers
}

const MEMORY: &str = "node_memory_Active_bytes";
const ERRORS: &str = "http_responses_total";

fn memory_name(host: &str) -> String {
    format!("{MEMORY}{{instance=\"{host}\"}}")
}

fn errors_name() -> String {
    format!("{ERRORS}{{code=\"5xx\"}}")
}

/// `curl .../api/v1/query_range` as Prometheus answers it: `status`, then
/// `data` with `resultType` first, no newline at the end.
fn prometheus_answer(numbers: &Numbers) -> String {
    let points = |values: &[f64]| -> String {
        let points: Vec<String> = numbers
            .times
            .iter()
            .zip(values)
            .map(|(at, value)| format!("[{},\"{value}\"]", *at as f64 / 1000.0))
            .collect();
        points.join(",")
    };
    let mut result: Vec<String> = HOSTS
        .iter()
        .zip(&numbers.memory)
        .map(|(host, values)| {
            format!(
                r#"{{"metric":{{"__name__":"{MEMORY}","instance":"{host}"}},"values":[{}]}}"#,
                points(values)
            )
        })
        .collect();
    result.push(format!(
        r#"{{"metric":{{"__name__":"{ERRORS}","code":"5xx"}},"values":[{}]}}"#,
        points(&numbers.errors_total)
    ));
    format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
        result.join(",")
    )
}

/// Grafana's "series joined by time" CSV export of the same query, the
/// columns named by the series as Prometheus names them.
fn grafana_csv(numbers: &Numbers) -> String {
    let quoted = |name: String| format!("\"{}\"", name.replace('"', "\"\""));
    let mut header = vec![quoted("Time".to_string())];
    header.extend(HOSTS.iter().map(|host| quoted(memory_name(host))));
    header.push(quoted(errors_name()));
    let mut text = header.join(",") + "\n";
    for (row, at) in numbers.times.iter().enumerate() {
        let time = DateTime::<Utc>::from_timestamp_millis(*at).expect("valid");
        let _ = write!(text, "{}", time.format("%Y-%m-%dT%H:%M:%SZ"));
        for series in &numbers.memory {
            let _ = write!(text, ",{}", series[row]);
        }
        let _ = writeln!(text, ",{}", numbers.errors_total[row]);
    }
    text
}

fn access_log() -> String {
    let mut text = String::new();
    for minute in 0..SAMPLES * STEP_S / 60 {
        for request in 0..30 {
            let at = at_minute(minute, request * 2);
            let failing = (IMPACT_FROM_MIN..IMPACT_TO_MIN).contains(&minute) && request % 3 != 0;
            let status = if failing { 503 } else { 200 };
            let time = DateTime::<Utc>::from_timestamp_millis(at).expect("valid");
            let _ = writeln!(
                text,
                "10.1.0.{} - - [{} +0000] \"GET /item/{request} HTTP/1.1\" {status} 512 \"-\" \"agent\" 0.050",
                request % 20,
                time.format("%d/%b/%Y:%H:%M:%S")
            );
        }
    }
    text
}

fn syslog() -> String {
    let line = |minute: i64, rest: &str| {
        let time = DateTime::<Utc>::from_timestamp_millis(at_minute(minute, 0)).expect("valid");
        format!("{} {rest}\n", time.format("%b %e %H:%M:%S"))
    };
    [
        line(
            WEB02_DEPLOY_MIN,
            "web02 deploy[71]: deployed shop-api v2.14.0 (git 3f9c2e1) to web02",
        ),
        line(
            WEB01_DEPLOY_MIN,
            "web01 deploy[72]: deployed shop-api v2.14.0 (git 3f9c2e1) to web01",
        ),
    ]
    .concat()
}

/// What a report says of its first incident that the metrics decide: its
/// start and end, the signal that moved first, the metric signals, and the
/// hints (leads) as sentences.
fn leads(report: &Value) -> Value {
    let incident = &report["incidents"][0];
    let metric_signals: Vec<Value> = incident["signals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == "metric")
        .map(|s| {
            serde_json::json!({
                "name": s["name"], "onset": s["onset"], "peak": s["peak"],
                "baseline": s["baseline"], "unit": s["unit"],
            })
        })
        .collect();
    serde_json::json!({
        "start": incident["start"],
        "end": incident["end"],
        "moved_first": incident["leads"]["moved_first"]["name"],
        "moved_first_onset": incident["leads"]["moved_first"]["onset"],
        "last_change_before": incident["leads"]["last_change_before"]["text"],
        "metric_signals": metric_signals,
        "hints": incident["hints"],
    })
}

#[test]
fn a_query_range_answer_gives_the_leads_of_the_grafana_csv_of_the_same_numbers() {
    let dir = scratch();
    let numbers = numbers();
    let access = write(dir.path(), "access.log", &access_log());
    let syslog = write(dir.path(), "syslog", &syslog());
    let answer = write(dir.path(), "query_range.json", &prometheus_answer(&numbers));
    let csv = write(dir.path(), "grafana.csv", &grafana_csv(&numbers));
    let report_with = |metrics: &std::path::Path| {
        json_report(&[
            access.to_str().expect("utf-8"),
            syslog.to_str().expect("utf-8"),
            metrics.to_str().expect("utf-8"),
        ])
    };
    let from_prometheus = report_with(&answer);
    let from_grafana = report_with(&csv);
    let prometheus_input = from_prometheus["inputs"]
        .as_array()
        .and_then(|inputs| {
            inputs
                .iter()
                .find(|i| i["path"].as_str() == answer.to_str())
        })
        .expect("the answer is an input");
    assert_eq!(prometheus_input["kind"], "metrics");
    assert_eq!(prometheus_input["format"], "prometheus-matrix");
    assert_eq!(prometheus_input["parsed"], 4 * SAMPLES);
    assert_eq!(leads(&from_prometheus), leads(&from_grafana));

    let leads = leads(&from_prometheus);
    assert_eq!(leads["moved_first"], memory_name("web02"));
    let onset = super::support::millis(leads["moved_first_onset"].as_str().expect("onset"));
    let leak_from = at_minute(LEAK_FROM_MIN, 0);
    assert!(
        (onset - leak_from).abs() <= 2 * STEP_S * 1000,
        "web02's memory dated from its first step: {onset} vs {leak_from}"
    );
    let hints: Vec<&str> = leads["hints"]
        .as_array()
        .expect("hints")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.contains(&memory_name("web02")) && h.contains("to web02")),
        "web02's memory is paired with web02's deploy, not web01's later one: {hints:#?}"
    );
    let counter = leads["metric_signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["name"] == format!("rate({})", errors_name()))
        .expect("the 5xx counter moved, read as its rate");
    assert_eq!(counter["unit"], "/s");
    assert!(
        (counter["peak"].as_f64().expect("peak") - 40.0).abs() < 1e-9,
        "forty 5xx a second at the peak: {counter}"
    );
}

#[test]
fn inspect_lists_every_metric_series_with_step_span_and_counter() {
    let dir = scratch();
    let numbers = numbers();
    let answer = write(dir.path(), "query_range.json", &prometheus_answer(&numbers));
    let output = run(&[
        "inspect",
        "--format",
        "json",
        answer.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success(), "{output:?}");
    let inspection: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let series: Vec<(String, f64, bool, String, String)> = inspection["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m["series"].as_str().unwrap_or("").to_string(),
                m["step_s"].as_f64().unwrap_or(f64::NAN),
                m["counter"].as_bool().unwrap_or(false),
                m["first"].as_str().unwrap_or("").to_string(),
                m["last"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut expected: Vec<(String, f64, bool, String, String)> = HOSTS
        .iter()
        .map(|host| (memory_name(host), 15.0, false))
        .chain([(format!("rate({})", errors_name()), 15.0, true)])
        .map(|(name, step, counter)| {
            (
                name,
                step,
                counter,
                "2024-03-05T12:00:00Z".to_string(),
                "2024-03-05T14:59:45Z".to_string(),
            )
        })
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let mut got = series;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, expected);

    let text = run(&["inspect", answer.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("## Metric series"), "{text}");
    assert!(text.contains("counter, as its rate per second"), "{text}");
}
