//! Access-log line layouts: nginx `combined` and `main` with
//! `$request_time`, the Kubernetes ingress-nginx default, Apache `combined`
//! with and without `%D`, and nginx `escape=json` lines.
//!
//! Each layout also fixes the time semantics the ground truth must follow:
//! nginx prints `$time_local` when the request completes (arrival + request
//! time, truncated to the second), Apache prints `%t` at arrival.

use std::io::Write;
use std::net::IpAddr;

use super::clock::{MS_PER_SECOND, US_PER_MS, US_PER_SECOND, Zone, write_clf, write_iso8601_local};
use super::traffic::{LatencyUnit, UpstreamAttempt};

/// The access-log layouts the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFormat {
    /// nginx `combined` followed by ` $request_time`.
    NginxCombinedRequestTime,
    /// nginx stock `main` (`combined` + `"$http_x_forwarded_for"`) followed by ` $request_time`.
    NginxMainRequestTime,
    /// Kubernetes ingress-nginx default `log-format-upstream`.
    IngressNginx,
    /// Apache `combined` (no request time).
    ApacheCombined,
    /// Apache `combined` followed by ` %D` (microseconds).
    ApacheCombinedMicros,
    /// nginx `log_format ... escape=json` with `$time_iso8601`, one object a line.
    NginxJson,
    /// HAProxy `option httplog` behind a syslog header ([`super::render_lb`]).
    HaProxy,
    /// Envoy's default format behind a CRI prefix ([`super::render_proxy`]).
    EnvoyCri,
    /// The AWS Application Load Balancer's access log ([`super::render_lb`]).
    Alb,
    /// IIS's W3C log with `s-sitename` ([`super::render_lb`]); the requests
    /// HTTP.sys answered itself go to its `HTTPERR` log, which the scenario
    /// writes beside it.
    Iis,
}

/// Which instant a log line's timestamp is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSemantics {
    /// The second the request completed (nginx `$time_local`, `$time_iso8601`).
    Completion,
    /// The second the request arrived (Apache `%t`).
    Arrival,
}

impl AccessFormat {
    /// The name the ground truth gives the format.
    pub fn name(self) -> &'static str {
        match self {
            AccessFormat::NginxCombinedRequestTime => "nginx-combined+request_time",
            AccessFormat::NginxMainRequestTime => "nginx-main+request_time",
            AccessFormat::IngressNginx => "ingress-nginx",
            AccessFormat::ApacheCombined => "apache-combined",
            AccessFormat::ApacheCombinedMicros => "apache-combined+%D",
            AccessFormat::NginxJson => "nginx-json",
            AccessFormat::HaProxy => "haproxy",
            AccessFormat::EnvoyCri => "envoy",
            AccessFormat::Alb => "aws-alb",
            AccessFormat::Iis => "iis-w3c",
        }
    }

    /// The server's `log_format` / `LogFormat` definition, for the README.
    pub fn definition(self) -> &'static str {
        match self {
            AccessFormat::NginxCombinedRequestTime => {
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#
            }
            AccessFormat::NginxMainRequestTime => {
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time"#
            }
            AccessFormat::IngressNginx => {
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#
            }
            AccessFormat::ApacheCombined => {
                r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#
            }
            AccessFormat::ApacheCombinedMicros => {
                r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#
            }
            AccessFormat::HaProxy => {
                "option httplog: %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %{+Q}r"
            }
            AccessFormat::EnvoyCri => {
                r#"CRI prefix, then [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%""#
            }
            AccessFormat::Alb => {
                "type time elb client:port target:port request_processing_time target_processing_time response_processing_time elb_status_code target_status_code received_bytes sent_bytes \"request\" \"user_agent\" ssl_cipher ssl_protocol target_group_arn \"trace_id\" \"domain_name\" \"chosen_cert_arn\" matched_rule_priority request_creation_time \"actions_executed\" \"redirect_url\" \"error_reason\" \"target:port_list\" \"target_status_code_list\" \"classification\" \"classification_reason\" conn_trace_id"
            }
            AccessFormat::Iis => super::render_lb::IIS_FIELDS,
            AccessFormat::NginxJson => {
                r#"escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"http_referer":"$http_referer","http_user_agent":"$http_user_agent","http_x_forwarded_for":"$http_x_forwarded_for"}'"#
            }
        }
    }

    /// Which instant the timestamp of a line is.
    pub fn time_semantics(self) -> TimeSemantics {
        match self {
            AccessFormat::ApacheCombined
            | AccessFormat::ApacheCombinedMicros
            | AccessFormat::HaProxy
            | AccessFormat::EnvoyCri
            | AccessFormat::Alb => TimeSemantics::Arrival,
            _ => TimeSemantics::Completion,
        }
    }

    /// Whether a line carries the request time.
    pub fn logs_latency(self) -> bool {
        self != AccessFormat::ApacheCombined
    }

    /// Resolution of the request time the server measures.
    pub fn latency_unit(self) -> LatencyUnit {
        match self {
            AccessFormat::ApacheCombined | AccessFormat::ApacheCombinedMicros => {
                LatencyUnit::Micros
            }
            _ => LatencyUnit::Millis,
        }
    }

    /// The second printed on the line of a request.
    pub fn printed_second(self, arrival_ms: i64, latency_us: u64) -> i64 {
        match self.time_semantics() {
            TimeSemantics::Arrival => arrival_ms.div_euclid(MS_PER_SECOND),
            TimeSemantics::Completion => {
                (arrival_ms * US_PER_MS as i64 + latency_us as i64).div_euclid(US_PER_SECOND as i64)
            }
        }
    }

    /// Appends one line (with its newline) to `out`.
    pub fn render(self, line: &LineFields<'_>, out: &mut Vec<u8>) {
        let second = self.printed_second(line.arrival_ms, line.latency_us);
        match self {
            AccessFormat::HaProxy => return super::render_lb::render_haproxy(line, out),
            AccessFormat::EnvoyCri => return super::render_proxy::render_envoy_cri(line, out),
            AccessFormat::Alb => return super::render_lb::render_alb(line, out),
            AccessFormat::Iis => return super::render_lb::render_iis(line, out),
            AccessFormat::NginxCombinedRequestTime | AccessFormat::NginxMainRequestTime => {
                write_clf_head(out, line, second);
                let _ = write!(out, " {} {}", line.status, line.body_bytes);
                write_quoted(out, line.referer.unwrap_or("-"));
                write_quoted(out, line.user_agent);
                if self == AccessFormat::NginxMainRequestTime {
                    write_quoted(out, line.forwarded_for.unwrap_or("-"));
                }
                out.push(b' ');
                write_seconds_millis(out, line.latency_us / US_PER_MS);
            }
            AccessFormat::IngressNginx => {
                write_clf_head(out, line, second);
                let _ = write!(out, " {} {}", line.status, line.body_bytes);
                write_quoted(out, line.referer.unwrap_or("-"));
                write_quoted(out, line.user_agent);
                let _ = write!(out, " {} ", line.request_length);
                write_seconds_millis(out, line.latency_us / US_PER_MS);
                let _ = write!(out, " [{}] [] ", line.upstream_name);
                write_upstream_list(out, line.upstreams, |out, attempt| {
                    let address = line
                        .upstream_addresses
                        .get(attempt.backend)
                        .map_or("-", String::as_str);
                    out.extend_from_slice(address.as_bytes());
                });
                out.push(b' ');
                write_upstream_list(out, line.upstreams, |out, attempt| {
                    let _ = write!(out, "{}", attempt.length.unwrap_or(0));
                });
                out.push(b' ');
                write_upstream_list(out, line.upstreams, |out, attempt| {
                    write_seconds_millis(out, attempt.response_time_ms);
                });
                out.push(b' ');
                write_upstream_list(out, line.upstreams, |out, attempt| {
                    let _ = write!(out, "{}", attempt.status);
                });
                let _ = write!(out, " {:032x}", line.request_id);
            }
            AccessFormat::ApacheCombined | AccessFormat::ApacheCombinedMicros => {
                write_clf_head(out, line, second);
                let _ = write!(out, " {} ", line.status);
                if line.body_bytes == 0 {
                    out.push(b'-');
                } else {
                    let _ = write!(out, "{}", line.body_bytes);
                }
                write_quoted(out, line.referer.unwrap_or("-"));
                write_quoted(out, line.user_agent);
                if self == AccessFormat::ApacheCombinedMicros {
                    let _ = write!(out, " {}", line.latency_us);
                }
            }
            AccessFormat::NginxJson => {
                out.extend_from_slice(b"{\"time_iso8601\":\"");
                write_iso8601_local(out, second, line.zone);
                out.extend_from_slice(b"\",\"remote_addr\":\"");
                let _ = write!(out, "{}", line.client);
                out.extend_from_slice(b"\",\"remote_user\":\"");
                write_json_escaped(out, line.remote_user.unwrap_or(""));
                out.extend_from_slice(b"\",\"request\":\"");
                write_json_escaped(out, line.method);
                out.push(b' ');
                write_json_escaped(out, line.path);
                out.push(b' ');
                write_json_escaped(out, line.protocol);
                let _ = write!(
                    out,
                    "\",\"status\":{},\"body_bytes_sent\":{},\"request_time\":",
                    line.status, line.body_bytes
                );
                write_seconds_millis(out, line.latency_us / US_PER_MS);
                out.extend_from_slice(b",\"http_referer\":\"");
                write_json_escaped(out, line.referer.unwrap_or(""));
                out.extend_from_slice(b"\",\"http_user_agent\":\"");
                write_json_escaped(out, line.user_agent);
                out.extend_from_slice(b"\",\"http_x_forwarded_for\":\"");
                write_json_escaped(out, line.forwarded_for.unwrap_or(""));
                out.extend_from_slice(b"\"}");
            }
        }
        out.push(b'\n');
    }
}

/// The fields of one access-log line, whatever the layout.
#[derive(Debug, Clone, Copy)]
pub struct LineFields<'a> {
    pub client: IpAddr,
    pub remote_user: Option<&'a str>,
    /// True arrival, ms since the epoch.
    pub arrival_ms: i64,
    /// Time to serve in µs (a whole number of ms for nginx layouts).
    pub latency_us: u64,
    pub zone: Zone,
    pub method: &'a str,
    pub path: &'a str,
    pub protocol: &'a str,
    pub status: u16,
    pub body_bytes: u64,
    pub referer: Option<&'a str>,
    pub user_agent: &'a str,
    pub forwarded_for: Option<&'a str>,
    pub request_length: u64,
    /// ingress-nginx `$proxy_upstream_name` (`namespace-service-port`).
    pub upstream_name: &'a str,
    pub upstreams: &'a [UpstreamAttempt],
    /// `ip:port` of each backend, indexed by [`UpstreamAttempt::backend`].
    pub upstream_addresses: &'a [String],
    pub request_id: u128,
}

/// `addr - user [time] "METHOD path PROTO"`, shared by the CLF layouts.
fn write_clf_head(out: &mut Vec<u8>, line: &LineFields<'_>, second: i64) {
    let _ = write!(
        out,
        "{} - {} [",
        line.client,
        line.remote_user.unwrap_or("-")
    );
    write_clf(out, second, line.zone);
    out.extend_from_slice(b"] \"");
    write_clf_escaped(out, line.method);
    out.push(b' ');
    write_clf_escaped(out, line.path);
    out.push(b' ');
    write_clf_escaped(out, line.protocol);
    out.push(b'"');
}

/// ` "value"` with the value escaped as nginx escapes it (`\x22`).
fn write_quoted(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(b" \"");
    write_clf_escaped(out, value);
    out.push(b'"');
}

/// nginx's default escaping: `"`, `\` and bytes outside printable ASCII as `\xHH`.
fn write_clf_escaped(out: &mut Vec<u8>, value: &str) {
    for &byte in value.as_bytes() {
        if byte == b'"' || byte == b'\\' || !(0x20..0x7f).contains(&byte) {
            let _ = write!(out, "\\x{byte:02X}");
        } else {
            out.push(byte);
        }
    }
}

/// JSON string escaping as nginx `escape=json` does it.
fn write_json_escaped(out: &mut Vec<u8>, value: &str) {
    for &byte in value.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                let _ = write!(out, "\\u{byte:04x}");
            }
            _ => out.push(byte),
        }
    }
}

/// `0.042`: milliseconds as nginx prints seconds (`%.3f`).
pub fn write_seconds_millis(out: &mut Vec<u8>, millis: u64) {
    let _ = write!(out, "{}.{:03}", millis / 1_000, millis % 1_000);
}

/// Comma-separated per-try values (`10.0.0.1:80, 10.0.0.2:80`), or `-`.
fn write_upstream_list(
    out: &mut Vec<u8>,
    attempts: &[UpstreamAttempt],
    mut write_one: impl FnMut(&mut Vec<u8>, &UpstreamAttempt),
) {
    if attempts.is_empty() {
        out.push(b'-');
        return;
    }
    for (index, attempt) in attempts.iter().enumerate() {
        if index > 0 {
            out.extend_from_slice(b", ");
        }
        write_one(out, attempt);
    }
}
