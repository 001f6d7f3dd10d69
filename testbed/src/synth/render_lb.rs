//! Access-log lines of load balancers: HAProxy's HTTP log behind an
//! RFC 3164 syslog header, as `log /dev/log local0` writes it. HAProxy
//! writes a line when the request completes (the syslog header's second)
//! and prints the accept date, the arrival, to the millisecond.
//!
//! The server of a request is the backend's label in
//! [`LineFields::upstream_addresses`] (`www/app1`), taken from the first
//! upstream attempt; a label ending in `/<NOSRV>` is a backend without a
//! server: the request gets HAProxy's own 503 with the termination state
//! `SC--` and no server timers.

use std::io::Write;

use super::clock::{US_PER_MS, Zone, wall_clock};
use super::render::LineFields;

/// The syslog host and program of the generated HAProxy lines.
pub const HAPROXY_HOST: &str = "lb01";
pub const HAPROXY_PID: u32 = 2231;

/// The server name HAProxy logs when the backend had no server.
pub const NO_SERVER: &str = "<NOSRV>";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mar  5 10:41:08`: the RFC 3164 timestamp of a second.
pub fn rfc3164_stamp(second: i64, zone: Zone) -> String {
    let wall = wall_clock(second, zone);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(wall.month - 1) as usize],
        wall.day,
        wall.hour,
        wall.minute,
        wall.second
    )
}

/// One HAProxy `option httplog` line (with its newline) behind a syslog
/// header of the completion second.
pub fn render_haproxy(line: &LineFields<'_>, out: &mut Vec<u8>) {
    let latency_ms = line.latency_us / US_PER_MS;
    let completion_second = (line.arrival_ms + latency_ms as i64).div_euclid(1000);
    let arrival_second = line.arrival_ms.div_euclid(1000);
    let accept = wall_clock(arrival_second, line.zone);
    let server = line
        .upstreams
        .first()
        .and_then(|attempt| line.upstream_addresses.get(attempt.backend))
        .map_or("www/app1", String::as_str);
    let no_server = server.ends_with(NO_SERVER);
    let port = 30_000 + (line.request_id % 30_000) as u32;
    let _ = write!(
        out,
        "{} {HAPROXY_HOST} haproxy[{HAPROXY_PID}]: {}:{port} [{:02}/{}/{}:{:02}:{:02}:{:02}.{:03}] www~ {server} ",
        rfc3164_stamp(completion_second, line.zone),
        line.client,
        accept.day,
        MONTHS[(accept.month - 1) as usize],
        accept.year,
        accept.hour,
        accept.minute,
        accept.second,
        line.arrival_ms.rem_euclid(1000),
    );
    if no_server {
        let _ = write!(
            out,
            "0/-1/-1/-1/{latency_ms} {} {} - - SC-- 3/3/0/0/0 0/0",
            line.status, line.body_bytes
        );
    } else {
        let state = if line.status >= 500 { "SH--" } else { "----" };
        let _ = write!(
            out,
            "0/0/1/{}/{latency_ms} {} {} - - {state} 12/12/4/1/0 0/0",
            latency_ms.saturating_sub(1),
            line.status,
            line.body_bytes
        );
    }
    let _ = writeln!(
        out,
        " \"{} {} {}\"",
        line.method,
        line.path.replace('"', "#22"),
        line.protocol
    );
}
