//! `postmortem series`: one row per bucket, times RFC 3339 UTC, counts that
//! add up to the log, the same rows in CSV and JSON.

use serde_json::Value;

use super::handmade::{REQUESTS_PER_MINUTE, USERS, one_incident, requests, write_log};
use super::support::{millis, postmortem, scratch};

fn series(dir: &std::path::Path, format: &str) -> String {
    let output = postmortem()
        .current_dir(dir)
        .args(["series", "--quiet", "--format", format, "access.log"])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn csv_and_json_carry_the_same_buckets() {
    let dir = scratch();
    write_log(dir.path(), &one_incident());
    let csv = series(dir.path(), "csv");
    let json: Value = serde_json::from_str(&series(dir.path(), "json")).expect("JSON");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "time,requests,failed,slow,bad,failed_ratio,slow_ratio,bad_ratio,p50_s,p95_s,p99_s,users"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let objects = json.as_array().expect("an array of rows");
    assert_eq!(rows.len(), objects.len());

    // The first request's reconstructed arrival is 30 ms before 10:00 local,
    // so the series starts with the 09:59 bucket: 241 one-minute buckets.
    assert_eq!(rows.len(), 241);
    let times: Vec<i64> = rows.iter().map(|r| millis(r[0])).collect();
    assert!(rows.iter().all(|r| r[0].ends_with('Z')), "UTC with Z");
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 60_000),
        "consecutive minutes"
    );
    assert_eq!(rows[0][0], "2024-05-07T08:59:00Z");

    let total: u64 = rows
        .iter()
        .map(|r| r[1].parse::<u64>().expect("requests"))
        .sum();
    assert_eq!(total, 240 * REQUESTS_PER_MINUTE as u64);

    // 12:10 local (11:10Z) is inside the incident: the users not divisible
    // by four get 503. Count them from the log's own recipe.
    let minute = 130;
    let expected_failed = requests(240, &one_incident())
        .iter()
        .filter(|r| r.arrival_ms / 60_000 == (super::handmade::LOG_START_MS / 60_000) + minute)
        .filter(|r| r.status >= 500)
        .count();
    let row = rows
        .iter()
        .find(|r| r[0] == "2024-05-07T11:10:00Z")
        .expect("the 11:10Z bucket");
    assert_eq!(row[2].parse::<usize>().expect("failed"), expected_failed);
    assert_eq!(row[4], row[2], "bad = failed when nothing is slow");
    let ratio: f64 = row[7].parse().expect("bad_ratio");
    assert!((ratio - expected_failed as f64 / REQUESTS_PER_MINUTE as f64).abs() < 1e-6);
    let users: usize = row[11].parse().expect("users");
    assert!(users <= USERS && users > 0);

    for (row, object) in rows.iter().zip(objects) {
        assert_eq!(object["time"], row[0]);
        assert_eq!(object["requests"].to_string(), row[1]);
        assert_eq!(object["failed"].to_string(), row[2]);
        assert_eq!(object["users"].to_string(), row[11]);
        let p95 = object["p95_s"]
            .as_f64()
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert_eq!(p95, row[9]);
    }
    assert!(
        objects[0].get("metrics").is_none(),
        "no metric CSV was read"
    );
}
