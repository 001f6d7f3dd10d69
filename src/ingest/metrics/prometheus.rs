//! Prometheus HTTP API answers, as `curl .../api/v1/query_range` (or
//! `/query`) saves them: `{"status":"success","data":{"resultType":
//! "matrix"|"vector","result":[{"metric":{labels},"values":[[unix_s,"v"],
//! ...]}]}}` (a vector has one `"value"` per series instead). Each label
//! set is one series, named as Prometheus prints it:
//! `node_memory_Active_bytes{instance="web02", job="node"}` (labels sorted
//! by name, as the Prometheus UI shows them).
//!
//! The answer is one JSON document: it is read whole with serde_json. An
//! answer whose status is `error`, or whose `resultType` is `scalar` or
//! `string`, is no series: the error says so and what to ask Prometheus for
//! instead.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::csv::RawSeries;
use crate::ingest::timestamps::Stamp;

/// Bytes at the head of an input searched for `"resultType"`: Prometheus
/// writes `status` and then `data` with `resultType` as its first key, so
/// the key sits in the first hundred bytes even when pretty-printed; the
/// margin allows for `warnings` or `infos` written before `data`.
pub const SNIFF_BYTES: usize = 4096;

/// Whether `head` (the first bytes of an input) is a Prometheus API answer:
/// a JSON object that names a `"resultType"` near its start, or, when its
/// keys were sorted on the way (`jq -S`, a re-serialising proxy: `data`,
/// then `result` before `resultType`), one whose first keys are `"data"`,
/// `"result"` and `"metric"`. Only such objects are routed here; other JSON
/// stays with the other readers.
pub fn looks_like_answer(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..head.len().min(start + SNIFF_BYTES)];
    let names = |key: &[u8]| memchr::memmem::find(head, key).is_some();
    head.first() == Some(&b'{')
        && (names(b"\"resultType\"")
            || (names(b"\"data\"") && names(b"\"result\"") && names(b"\"metric\"")))
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<AnswerData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct AnswerData {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct ResultSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// A matrix's points.
    #[serde(default)]
    values: Vec<(serde_json::Value, serde_json::Value)>,
    /// A vector's one point.
    #[serde(default)]
    value: Option<(serde_json::Value, serde_json::Value)>,
}

/// What reading one answer gave.
#[derive(Debug, PartialEq)]
pub struct LoadedAnswer {
    /// `prometheus-matrix` or `prometheus-vector`.
    pub format: &'static str,
    pub series: Vec<RawSeries>,
    /// Points read, and points whose time or value could not be read
    /// (with the first few reasons).
    pub parsed: u64,
    pub skipped: u64,
    pub skipped_reasons: Vec<String>,
}

/// Most reasons kept for points that could not be read.
const MAX_REASONS: usize = 5;

/// The series name Prometheus prints for a label set: the metric name
/// (`__name__`) followed by the other labels in braces, sorted by name,
/// values quoted, separated by `, ` as Prometheus and Grafana print them;
/// `{}` for a result without labels (an aggregate).
pub fn series_name(labels: &BTreeMap<String, String>) -> String {
    let name = labels.get("__name__").cloned().unwrap_or_default();
    let others: Vec<String> = labels
        .iter()
        .filter(|(key, _)| key.as_str() != "__name__")
        .map(|(key, value)| format!("{key}=\"{}\"", value.replace('"', "\\\"")))
        .collect();
    if others.is_empty() && !name.is_empty() {
        name
    } else {
        format!("{name}{{{}}}", others.join(", "))
    }
}

/// A sample time: Unix seconds as a JSON number (`1435781430.781`) or, from
/// some proxies, a string; to milliseconds.
fn sample_time(value: &serde_json::Value) -> Option<i64> {
    let seconds = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let ms = (seconds * 1000.0).round();
    (ms.is_finite() && ms.abs() < 1e15).then_some(ms as i64)
}

/// A sample value: a string (`"1.5"`, `"NaN"`, `"+Inf"`), which Prometheus
/// uses so that NaN and infinities survive JSON. NaN and infinities become
/// gaps (NaN): they are no level a baseline can be drawn from.
fn sample_value(value: &serde_json::Value) -> Option<f64> {
    let parsed = match value {
        serde_json::Value::String(s) => s.trim().trim_start_matches('+').parse::<f64>().ok()?,
        serde_json::Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some(if parsed.is_finite() { parsed } else { f64::NAN })
}

/// Reads a whole Prometheus API answer. The error says what was found and
/// what to export instead.
pub fn load(bytes: &[u8]) -> Result<LoadedAnswer, String> {
    let answer: Answer = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "is not valid JSON at line {}, column {} ({e}); save the whole answer of /api/v1/query_range or /api/v1/query",
            e.line(),
            e.column()
        )
    })?;
    if answer.status != "success" {
        return Err(format!(
            "its status is '{}' ({}: {}), so it holds no data; run the query again and save a successful answer",
            answer.status,
            answer.error_type.as_deref().unwrap_or("no errorType"),
            answer.error.as_deref().unwrap_or("no error message"),
        ));
    }
    let data = answer.data.ok_or_else(|| {
        "it has no 'data'; save the whole answer of /api/v1/query_range".to_string()
    })?;
    let format = match data.result_type.as_str() {
        "matrix" => "prometheus-matrix",
        "vector" => "prometheus-vector",
        other => {
            return Err(format!(
                "its resultType is '{other}', which is no series over time; ask /api/v1/query_range for a matrix"
            ));
        }
    };
    let results: Vec<ResultSeries> = serde_json::from_value(data.result).map_err(|e| {
        format!(
            "its 'result' is not a list of series ({e}); save the answer as Prometheus wrote it"
        )
    })?;
    let mut loaded = LoadedAnswer {
        format,
        series: Vec::with_capacity(results.len()),
        parsed: 0,
        skipped: 0,
        skipped_reasons: Vec::new(),
    };
    for result in results {
        let name = series_name(&result.metric);
        let points = result.values.iter().chain(result.value.as_ref());
        let mut series = RawSeries {
            name: name.clone(),
            unit: String::new(),
            stamps: Vec::new(),
            values: Vec::new(),
            lines: Vec::new(),
        };
        for (time, value) in points {
            match (sample_time(time), sample_value(value)) {
                (Some(at), Some(value)) => {
                    loaded.parsed += 1;
                    series.stamps.push(Stamp::Absolute(at));
                    series.values.push(value);
                    // The answer is one document: a point has no line.
                    series.lines.push(0);
                }
                _ => {
                    loaded.skipped += 1;
                    if loaded.skipped_reasons.len() < MAX_REASONS {
                        loaded.skipped_reasons.push(format!(
                            "series {name}: point [{time}, {value}] is not [unix seconds, \"number\"]"
                        ));
                    }
                }
            }
        }
        loaded.series.push(series);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sniffed_by_their_result_type_only() {
        let cases: [(&str, &[u8], bool); 6] = [
            (
                "one-line matrix",
                br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
                true,
            ),
            (
                "pretty-printed vector",
                b"\n{\n  \"status\": \"success\",\n  \"data\": {\n    \"resultType\": \"vector\"",
                true,
            ),
            (
                "a JSON access log line",
                br#"{"time":"2023-11-12T14:00:00Z","status":500}"#,
                false,
            ),
            ("a JSON array", br#"[{"resultType":"matrix"}]"#, false),
            (
                "keys sorted",
                br#"{"data":{"result":[{"metric":{"__name__":"up"},"values":[[1,"1"]]}"#,
                true,
            ),
            ("a CSV", b"time,value\n1,2\n", false),
        ];
        for (name, head, expected) in cases {
            assert_eq!(looks_like_answer(head), expected, "{name}");
        }
    }

    #[test]
    fn matrix_and_vector_answers_give_one_series_per_label_set() {
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"node_memory_Active_bytes","instance":"web02","job":"node"},
             "values":[[1699797600,"1024"],[1699797615.5,"2048"],[1699797630,"NaN"]]},
            {"metric":{"code":"500"},"values":[[1699797600,"+Inf"],[1699797615,"x"]]}]}}"#;
        let loaded = load(matrix).expect("reads");
        assert_eq!(loaded.format, "prometheus-matrix");
        assert_eq!(
            loaded.series[0].name,
            r#"node_memory_Active_bytes{instance="web02", job="node"}"#
        );
        assert_eq!(
            loaded.series[0].stamps,
            [
                Stamp::Absolute(1_699_797_600_000),
                Stamp::Absolute(1_699_797_615_500),
                Stamp::Absolute(1_699_797_630_000)
            ]
        );
        assert_eq!(loaded.series[0].values[..2], [1024.0, 2048.0]);
        assert!(loaded.series[0].values[2].is_nan(), "NaN is a gap");
        assert_eq!(loaded.series[1].name, r#"{code="500"}"#);
        assert!(loaded.series[1].values[0].is_nan(), "+Inf is a gap");
        assert_eq!((loaded.parsed, loaded.skipped), (4, 1));
        assert!(loaded.skipped_reasons[0].contains("\"x\""));

        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"up","instance":"web01"},"value":[1699797600,"1"]}]}}"#;
        let loaded = load(vector).expect("reads");
        assert_eq!(loaded.format, "prometheus-vector");
        assert_eq!(loaded.series[0].name, r#"up{instance="web01"}"#);
        assert_eq!(loaded.series[0].values, [1.0]);
    }

    #[test]
    fn answers_without_series_say_what_to_save_instead() {
        let cases: [(&str, &[u8], &str); 4] = [
            (
                "error answer",
                br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
                "status is 'error' (bad_data: parse error)",
            ),
            (
                "scalar",
                br#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#,
                "resultType is 'scalar'",
            ),
            (
                "cut short",
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"#,
                "not valid JSON at line 1",
            ),
            (
                "result not a list",
                br#"{"status":"success","data":{"resultType":"matrix","result":3}}"#,
                "not a list of series",
            ),
        ];
        for (name, bytes, expected) in cases {
            let error = load(bytes).expect_err(name);
            assert!(error.contains(expected), "{name}: {error}");
        }
    }
}
