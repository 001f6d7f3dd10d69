//! Access-log lines of proxies: Envoy's default access log as a
//! Kubernetes node keeps a container's output, behind the CRI log prefix
//! (`<RFC 3339 time> stdout F `), which is what `/var/log/containers/*.log`
//! holds. The CRI time is when Envoy wrote the line (the completion);
//! `START_TIME` is the arrival, to the millisecond, and `DURATION` the
//! request time in ms.
//!
//! The upstream of a request is its first upstream attempt's label in
//! [`LineFields::upstream_addresses`]. A 503 is Envoy's own answer to a
//! refused connection after its retries (`UF,URX`, no upstream service
//! time, the 91-byte `upstream connect error` body); a 504 an upstream
//! timeout (`UT`).

use std::io::Write;

use super::clock::{US_PER_MS, Zone, wall_clock};
use super::render::LineFields;

/// Bytes of Envoy's `upstream connect error or disconnect/reset before
/// headers. reset reason: connection failure` body.
pub const CONNECT_ERROR_BODY_BYTES: u64 = 91;

/// `2024-04-09T08:31:13.456` (UTC) of a millisecond since the epoch.
fn utc_millis(ms: i64) -> String {
    let wall = wall_clock(ms.div_euclid(1000), Zone::UTC);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        wall.year,
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        ms.rem_euclid(1000)
    )
}

/// One Envoy default-format line (with its newline) behind a CRI prefix.
pub fn render_envoy_cri(line: &LineFields<'_>, out: &mut Vec<u8>) {
    let latency_ms = line.latency_us / US_PER_MS;
    let written_ms = line.arrival_ms + latency_ms as i64;
    let upstream = line
        .upstreams
        .first()
        .and_then(|attempt| line.upstream_addresses.get(attempt.backend))
        .map_or("-", String::as_str);
    let (flags, service_time, bytes) = match line.status {
        503 => ("UF,URX", "-".to_string(), CONNECT_ERROR_BODY_BYTES),
        504 => ("UT", "-".to_string(), 24),
        _ => (
            "-",
            latency_ms.saturating_sub(1).to_string(),
            line.body_bytes,
        ),
    };
    let _ = writeln!(
        out,
        "{}{:06}Z stdout F [{}Z] \"{} {} {}\" {} {flags} 0 {bytes} {latency_ms} {service_time} \"{}\" \"{}\" \"{:032x}\" \"{}\" \"{upstream}\"",
        utc_millis(written_ms),
        line.request_id % 1_000_000,
        utc_millis(line.arrival_ms),
        line.method,
        line.path.replace('"', "%22"),
        line.protocol,
        line.status,
        line.client,
        line.user_agent.replace('"', "%22"),
        line.request_id,
        line.upstream_name,
    );
}
