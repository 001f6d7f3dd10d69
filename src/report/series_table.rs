//! The per-bucket series as a table (`postmortem series`): one row per
//! bucket from the first to the last, with requests, failed, slow and bad
//! counts, their ratios, latency quantiles and distinct users, then one
//! column per metric series read from metric CSVs, in CSV or JSON, for
//! plotting or querying elsewhere. Times are the bucket's start as RFC 3339
//! UTC; counts use the report's slow threshold, so the numbers add up to the
//! report's.

use serde::{Serialize, Serializer};

use crate::detect::Findings;
use crate::timefmt::{Millis, Zone, local_time, rfc3339_utc};

/// One row of the series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesRow {
    /// Start of the bucket, RFC 3339 UTC.
    pub time: String,
    pub requests: u64,
    /// Status 5xx or 499.
    pub failed: u64,
    /// Not failed, but slower than the slow threshold.
    pub slow: u64,
    /// Failed or slow.
    pub bad: u64,
    pub failed_ratio: Option<f64>,
    pub slow_ratio: Option<f64>,
    pub bad_ratio: Option<f64>,
    /// Latency quantiles in seconds; absent where no request time was logged.
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub p99_s: Option<f64>,
    /// Distinct users (the `--users` key) with a request in the bucket.
    pub users: u64,
    /// One value per metric column, by name (see [`metric_columns`]); a
    /// JSON object in column order, left out when there is no metric.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "metrics_as_object"
    )]
    pub metrics: Vec<(String, Option<f64>)>,
}

/// The fixed columns, in order.
pub const COLUMNS: [&str; 12] = [
    "time",
    "requests",
    "failed",
    "slow",
    "bad",
    "failed_ratio",
    "slow_ratio",
    "bad_ratio",
    "p50_s",
    "p95_s",
    "p99_s",
    "users",
];

/// A metric series on the bucket grid of the access-log series: one value
/// (or none) per bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricColumn {
    /// `name` as the CSV header or the long form's series column gives it
    /// (with the file's name when several files carry the same name).
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// EXTENSION POINT (metrics): the metric series of the run, one column per
/// series, aligned to `findings.series` buckets. Metric CSVs are read by a
/// separate stage that is not part of [`Findings`] yet; when it lands (for
/// example as `findings.metrics`), resample each series here onto the bucket
/// grid (the last value in each bucket) and return one column per series.
/// Rows and both output formats already carry these columns.
pub fn metric_columns(_analysis: &Findings) -> Vec<MetricColumn> {
    Vec::new()
}

/// A bucket's start as RFC 3339: UTC (`Z`) by default, or in `zone` with
/// the offset of that moment (`2024-03-31T03:00:00+02:00`) when `--tz` was
/// given.
pub fn bucket_time(at: Millis, zone: Option<&Zone>) -> String {
    let Some(zone) = zone else {
        return rfc3339_utc(at);
    };
    let offset = zone.offset_at(at);
    // Fractions only when there are some, as the UTC form writes them.
    let format = if at.rem_euclid(1000) == 0 {
        "%Y-%m-%dT%H:%M:%S"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3f"
    };
    let local = local_time(at, zone).format(format);
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!("{local}{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The rows of the findings, one per bucket from the first to the last,
/// times in `zone` (`--tz`) or UTC.
pub fn rows(findings: &Findings, zone: Option<&Zone>) -> Vec<SeriesRow> {
    let series = &findings.series;
    let metrics = metric_columns(findings);
    let ratio = |part: u64, whole: u64| (whole > 0).then(|| round6(part as f64 / whole as f64));
    let seconds = |us: Option<f64>| us.map(|v| round6(v / 1e6));
    series
        .buckets
        .iter()
        .zip(&findings.counts)
        .enumerate()
        .map(|(index, (bucket, counts))| SeriesRow {
            time: bucket_time(series.bucket_start(index), zone),
            requests: counts.requests,
            failed: counts.failed,
            slow: counts.slow,
            bad: counts.bad(),
            failed_ratio: ratio(counts.failed, counts.requests),
            slow_ratio: ratio(counts.slow, counts.requests),
            bad_ratio: ratio(counts.bad(), counts.requests),
            p50_s: seconds(bucket.latency.quantile(0.5)),
            p95_s: seconds(bucket.latency.quantile(0.95)),
            p99_s: seconds(bucket.latency.quantile(0.99)),
            users: bucket.users.len() as u64,
            metrics: metrics
                .iter()
                .map(|column| {
                    (
                        column.name.clone(),
                        column.values.get(index).copied().flatten(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn metrics_as_object<S: Serializer>(
    metrics: &[(String, Option<f64>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(metrics.iter().map(|(name, value)| (name, value)))
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn cell(value: Option<f64>) -> String {
    value.map(|x| x.to_string()).unwrap_or_default()
}

/// CSV with a header line; empty cells where a value is unknown (no
/// requests in the bucket, no request time logged, no metric sample).
pub fn to_csv(findings: &Findings, zone: Option<&Zone>) -> String {
    let metrics = metric_columns(findings);
    let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(metrics.iter().map(|m| csv_field(&m.name)));
    let mut out = header.join(",");
    out.push('\n');
    for row in rows(findings, zone) {
        let mut fields = vec![
            row.time,
            row.requests.to_string(),
            row.failed.to_string(),
            row.slow.to_string(),
            row.bad.to_string(),
            cell(row.failed_ratio),
            cell(row.slow_ratio),
            cell(row.bad_ratio),
            cell(row.p50_s),
            cell(row.p95_s),
            cell(row.p99_s),
            row.users.to_string(),
        ];
        fields.extend(row.metrics.iter().map(|(_, value)| cell(*value)));
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A JSON array of row objects, fields in the CSV's column order; metric
/// values under `"metrics"` by name.
pub fn to_json(findings: &Findings, zone: Option<&Zone>) -> String {
    let mut text =
        serde_json::to_string_pretty(&rows(findings, zone)).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let cases = [
            ("plain", "memory_used", "memory_used"),
            ("comma", "cpu,host=web01", "\"cpu,host=web01\""),
            ("quote", "say \"hi\"", "\"say \"\"hi\"\"\""),
        ];
        for (name, text, expected) in cases {
            assert_eq!(csv_field(text), expected, "{name}");
        }
    }

    #[test]
    fn bucket_times_follow_the_zone_given_with_tz() {
        let berlin = Zone::Named(chrono_tz::Europe::Berlin);
        // 2024-03-31 01:00Z is 03:00 CEST, just after the spring change;
        // 00:59Z is 01:59 CET, just before it.
        let cases = [
            (
                "no --tz: UTC",
                1_711_846_800_000,
                None,
                "2024-03-31T01:00:00Z",
            ),
            (
                "a fixed offset",
                1_711_846_800_000,
                Some(Zone::Fixed(3600)),
                "2024-03-31T02:00:00+01:00",
            ),
            (
                "Berlin after the change",
                1_711_846_800_000,
                Some(berlin),
                "2024-03-31T03:00:00+02:00",
            ),
            (
                "Berlin before the change",
                1_711_846_740_000,
                Some(berlin),
                "2024-03-31T01:59:00+01:00",
            ),
            (
                "west of UTC",
                1_711_846_800_000,
                Some(Zone::Fixed(-7 * 3600)),
                "2024-03-30T18:00:00-07:00",
            ),
        ];
        for (name, at, zone, expected) in cases {
            assert_eq!(bucket_time(at, zone.as_ref()), expected, "{name}");
        }
    }
}
