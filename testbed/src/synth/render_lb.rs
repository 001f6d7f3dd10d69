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
//!
//! Also the AWS Application Load Balancer's access log in AWS's documented
//! field order ([`render_alb`]: `time` is when the load balancer answered,
//! `request_creation_time` the arrival, both to the microsecond), and IIS:
//! the site's W3C log ([`render_iis`], written at completion, `time-taken`
//! in ms, UTC) and HTTP.sys's error log `HTTPERR` ([`render_httperr`]) that
//! holds the requests HTTP.sys answered itself when the application pool
//! was down.

use std::io::Write;

use super::clock::{US_PER_MS, US_PER_SECOND, Zone, wall_clock};
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

/// The AWS account, region and load balancer of the generated ALB lines.
pub const ALB_ACCOUNT: &str = "123456789012";
pub const ALB_REGION: &str = "eu-west-1";
pub const ALB_NAME: &str = "shop-prod-alb";
pub const ALB_ID: &str = "50dc6c495c0c9188";
/// The target group the targets are registered in.
const ALB_TARGET_GROUP: &str = "targetgroup/shop-web/73e2d6bc24d8a067";
const ALB_CERTIFICATE: &str = "certificate/3f9c1a2b-8d4e-4f6a-9b0c-1d2e3f4a5b6c";
const ALB_TLS: &str = "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2";

/// `2024-06-11T14:05:02.318472Z` of a microsecond since the epoch.
fn utc_micros(us: i64) -> String {
    let wall = wall_clock(us.div_euclid(US_PER_SECOND as i64), Zone::UTC);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        wall.year,
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        us.rem_euclid(US_PER_SECOND as i64)
    )
}

/// Seconds to the millisecond, as the ALB writes its processing times.
fn alb_seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// When the load balancer answered `line`'s request, in µs since the
/// epoch: its arrival (with a sub-millisecond part the ALB prints and the
/// tool truncates) plus its latency.
pub fn alb_answered_us(line_arrival_ms: i64, latency_us: u64, request_id: u128) -> i64 {
    alb_created_us(line_arrival_ms, request_id) + latency_us as i64
}

fn alb_created_us(arrival_ms: i64, request_id: u128) -> i64 {
    arrival_ms * US_PER_MS as i64 + (request_id % US_PER_MS as u128) as i64
}

/// One ALB access-log line (with its newline). The first upstream attempt
/// names the target; an attempt with status 0 is a target that never
/// answered (the load balancer's own 5xx: `target_status_code` `-` and
/// the target's processing times `-1`).
pub fn render_alb(line: &LineFields<'_>, out: &mut Vec<u8>) {
    let latency_ms = line.latency_us / US_PER_MS;
    let created = alb_created_us(line.arrival_ms, line.request_id);
    let answered = created + line.latency_us as i64;
    let attempt = line.upstreams.first();
    let target = attempt
        .and_then(|attempt| line.upstream_addresses.get(attempt.backend))
        .map_or("-", String::as_str);
    let target_answered = attempt.is_some_and(|attempt| attempt.status != 0);
    let (times, target_status) = if target_answered {
        (
            format!("0.000 {} 0.000", alb_seconds(latency_ms)),
            line.status.to_string(),
        )
    } else {
        ("0.000 -1 -1".to_string(), "-".to_string())
    };
    let (kind, scheme_port) = if line.protocol == "HTTP/2.0" {
        ("h2", "https")
    } else {
        ("https", "https")
    };
    let port = 1_024 + (line.request_id % 60_000) as u32;
    let domain = line.upstream_name;
    let _ = writeln!(
        out,
        "{kind} {} app/{ALB_NAME}/{ALB_ID} {}:{port} {target} {times} {} {target_status} {} {} \"{} {scheme_port}://{domain}:443{} {}\" \"{}\" {ALB_TLS} arn:aws:elasticloadbalancing:{ALB_REGION}:{ALB_ACCOUNT}:{ALB_TARGET_GROUP} \"Root=1-{:08x}-{:024x}\" \"{domain}\" \"arn:aws:acm:{ALB_REGION}:{ALB_ACCOUNT}:{ALB_CERTIFICATE}\" 0 {} \"forward\" \"-\" \"-\" \"{target}\" \"{target_status}\" \"-\" \"-\" TID_{:032x}",
        utc_micros(answered),
        line.client,
        line.status,
        line.request_length,
        line.body_bytes,
        line.method,
        line.path.replace('"', "%22"),
        line.protocol,
        line.user_agent.replace('"', "%22"),
        line.arrival_ms.div_euclid(1000),
        line.request_id & ((1u128 << 96) - 1),
        utc_micros(created),
        line.request_id.rotate_left(17),
    );
}

/// The IIS site, its address and its application pool.
pub const IIS_SITE: &str = "W3SVC1";
pub const IIS_SITE_ID: u32 = 1;
pub const IIS_SERVER_IP: &str = "10.0.0.4";
pub const IIS_APP_POOL: &str = "ShopPool";

/// The `#Fields:` of the generated IIS W3C log: IIS's defaults with
/// `s-sitename`.
pub const IIS_FIELDS: &str = "date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// The `#Fields:` of HTTP.sys's error log, as Microsoft documents it.
pub const HTTPERR_FIELDS: &str = "date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename";

/// `2024-03-12 10:14:02`: a W3C date and time (UTC) of a second.
pub fn w3c_stamp(second: i64) -> String {
    let wall = wall_clock(second, Zone::UTC);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
    )
}

/// The directives IIS writes at the top of a log file.
pub fn w3c_header(software: &str, fields: &str, second: i64, out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "#Software: {software}\r\n#Version: 1.0\r\n#Date: {}\r\n#Fields: {fields}\r\n",
        w3c_stamp(second)
    );
}

/// One IIS W3C line (with IIS's CRLF): written when the response was
/// complete, spaces of the user agent as `+`, the query apart.
pub fn render_iis(line: &LineFields<'_>, out: &mut Vec<u8>) {
    let latency_ms = line.latency_us / US_PER_MS;
    let completion_second = (line.arrival_ms + latency_ms as i64).div_euclid(1000);
    let (stem, query) = line.path.split_once('?').unwrap_or((line.path, "-"));
    let _ = write!(
        out,
        "{} {IIS_SITE} {IIS_SERVER_IP} {} {} {} 443 - {} {} {} {} 0 0 {latency_ms}\r\n",
        w3c_stamp(completion_second),
        line.method,
        stem.replace(' ', "+"),
        if query.is_empty() { "-" } else { query },
        line.client,
        line.user_agent.replace(' ', "+"),
        line.referer.unwrap_or("-").replace(' ', "+"),
        line.status,
    );
}

/// One HTTPERR line of a request HTTP.sys ended itself with `reason` (at
/// its arrival second: HTTP.sys answers at once), with the status it
/// answered, or `-` when it sent none (an orphaned request).
pub fn render_httperr(line: &LineFields<'_>, status: Option<u16>, reason: &str, out: &mut Vec<u8>) {
    let status = status.map_or_else(|| "-".to_string(), |status| status.to_string());
    let port = 1_024 + (line.request_id % 60_000) as u32;
    let stream = if line.protocol == "HTTP/2.0" {
        (1 + 2 * (line.request_id % 50)).to_string()
    } else {
        "-".to_string()
    };
    let _ = write!(
        out,
        "{} {} {port} {IIS_SERVER_IP} 443 {} {} {} {stream} {status} {IIS_SITE_ID} {reason} {IIS_APP_POOL}\r\n",
        w3c_stamp(line.arrival_ms.div_euclid(1000)),
        line.client,
        line.protocol,
        line.method,
        line.path.replace(' ', "+"),
    );
}

/// An HTTPERR line of an idle connection HTTP.sys closed (no request).
pub fn render_httperr_idle(second: i64, client: &str, port: u32, out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "{} {client} {port} {IIS_SERVER_IP} 443 - - - - - - Timer_ConnectionIdle -\r\n",
        w3c_stamp(second)
    );
}
