//! The per-bucket series as a table (`postmortem series`): one row per
//! bucket with requests, failed, slow, ratios, latency quantiles and distinct
//! users, in CSV or JSON, for plotting or querying elsewhere.

use serde::Serialize;

use crate::analysis::Analysis;
use crate::timefmt::rfc3339_utc;

/// One row of the series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesRow {
    pub time: String,
    pub requests: u64,
    pub failed: u64,
    pub slow: u64,
    pub failed_ratio: f64,
    pub bad_ratio: f64,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub users: u64,
}

/// The rows of an analysis, one per bucket from the first to the last.
pub fn rows(analysis: &Analysis) -> Vec<SeriesRow> {
    let series = &analysis.series;
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            round6(part as f64 / whole as f64)
        }
    };
    let seconds = |us: Option<f64>| us.map(|v| round6(v / 1e6));
    series
        .buckets
        .iter()
        .zip(&analysis.counts)
        .enumerate()
        .map(|(index, (bucket, counts))| SeriesRow {
            time: rfc3339_utc(series.bucket_start(index)),
            requests: counts.requests,
            failed: counts.failed,
            slow: counts.slow,
            failed_ratio: ratio(counts.failed, counts.requests),
            bad_ratio: ratio(counts.bad(), counts.requests),
            p50_s: seconds(bucket.latency.quantile(0.5)),
            p95_s: seconds(bucket.latency.quantile(0.95)),
            p99_s: seconds(bucket.latency.quantile(0.99)),
            users: bucket.users.len() as u64,
        })
        .collect()
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// CSV with a header line; empty latency cells where no request time was logged.
pub fn to_csv(analysis: &Analysis) -> String {
    let mut out =
        String::from("time,requests,failed,slow,failed_ratio,bad_ratio,p50_s,p95_s,p99_s,users\n");
    let cell = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for row in rows(analysis) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            row.time,
            row.requests,
            row.failed,
            row.slow,
            row.failed_ratio,
            row.bad_ratio,
            cell(row.p50_s),
            cell(row.p95_s),
            cell(row.p99_s),
            row.users
        ));
    }
    out
}

/// A JSON array of rows.
pub fn to_json(analysis: &Analysis) -> String {
    let mut text =
        serde_json::to_string_pretty(&rows(analysis)).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}
