//! Deterministic access logs for the report tests: every request is known,
//! so every number in a report can be checked. Twenty requests a minute
//! from 200 users, nginx `combined` + `$request_time` at +01:00, with
//! incident windows in which chosen users get a chosen status and latency.

use std::fmt::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// 2024-05-07T09:00:00Z, 10:00 in the log's +01:00.
pub const LOG_START_MS: i64 = 1_715_072_400_000;
pub const REQUESTS_PER_MINUTE: i64 = 20;
pub const USERS: usize = 200;

/// Minutes of the log in which `hit` users get `status` after `latency_ms`.
pub struct Window {
    pub minutes: Range<i64>,
    pub hit: fn(usize) -> bool,
    pub status: u16,
    pub latency_ms: i64,
}

/// One request of the log.
pub struct Request {
    pub arrival_ms: i64,
    pub user: usize,
    pub status: u16,
    pub latency_ms: i64,
}

/// Every request of a log of `minutes` minutes with these windows. Outside
/// them one request in 97 fails with a 500, the rest take 50 ms.
pub fn requests(minutes: i64, windows: &[Window]) -> Vec<Request> {
    let mut all = Vec::new();
    for minute in 0..minutes {
        for k in 0..REQUESTS_PER_MINUTE {
            let user = ((minute * 7 + k * 13) as usize) % USERS;
            let index = minute * REQUESTS_PER_MINUTE + k;
            let window = windows
                .iter()
                .find(|w| w.minutes.contains(&minute) && (w.hit)(user));
            let (status, latency_ms) = match window {
                Some(w) => (w.status, w.latency_ms),
                None if index % 97 == 0 => (500, 30),
                None => (200, 50),
            };
            all.push(Request {
                arrival_ms: LOG_START_MS + minute * 60_000 + k * 3_000,
                user,
                status,
                latency_ms,
            });
        }
    }
    all
}

/// The lines nginx writes, in completion order, stamped with the
/// completion second at +01:00.
pub fn nginx_log(requests: &[Request]) -> String {
    let mut order: Vec<&Request> = requests.iter().collect();
    order.sort_by_key(|r| r.arrival_ms + r.latency_ms);
    let mut text = String::new();
    for r in order {
        let completion_s = (r.arrival_ms + r.latency_ms).div_euclid(1000);
        let local = chrono::DateTime::from_timestamp(completion_s + 3600, 0).expect("valid time");
        let _ = writeln!(
            text,
            "10.0.{}.{} - - [{} +0100] \"GET /item/{} HTTP/1.1\" {} 512 \"-\" \"Mozilla/5.0 (user {})\" {}.{:03}",
            r.user / 250,
            r.user % 250,
            local.format("%d/%b/%Y:%H:%M:%S"),
            r.user,
            r.status,
            r.user,
            r.latency_ms / 1000,
            r.latency_ms % 1000
        );
    }
    text
}

/// One incident: three users in four get 503 from 12:00 to 12:30 local.
pub fn one_incident() -> Vec<Window> {
    vec![Window {
        minutes: 120..150,
        hit: |u| u % 4 != 0,
        status: 503,
        latency_ms: 2,
    }]
}

/// Two incidents: everyone gets 502 for 15 minutes at 11:00, then half the
/// users wait 4 s for 20 minutes at 13:00.
pub fn two_incidents() -> Vec<Window> {
    vec![
        Window {
            minutes: 60..75,
            hit: |_| true,
            status: 502,
            latency_ms: 1,
        },
        Window {
            minutes: 180..200,
            hit: |u| u % 2 == 0,
            status: 200,
            latency_ms: 4_000,
        },
    ]
}

/// Writes `access.log` of 240 minutes with these windows into `dir`.
pub fn write_log(dir: &Path, windows: &[Window]) -> PathBuf {
    let path = dir.join("access.log");
    std::fs::write(&path, nginx_log(&requests(240, windows))).expect("write test log");
    path
}
