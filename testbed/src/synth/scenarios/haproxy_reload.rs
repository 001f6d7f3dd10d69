//! `haproxy-reload` (seed 001): a configuration reload of HAProxy points
//! the frontend at a new backend whose server lines were never added, so
//! every request gets HAProxy's own 503 (`shop_v2/<NOSRV>`, `SC--`) until a
//! second reload puts the old backend back (postmortem `001`: a
//! load-balancer misconfiguration routes all traffic to no working
//! backend; a complete outage; rollback). One syslog file holds the
//! requests and HAProxy's own lines (proxies started, the backend without a
//! server), as `/var/log/haproxy.log` does.

use std::fmt::Write as _;
use std::io;

use rand_pcg::Pcg64;

use super::builder::{AccessLog, ScenarioBuilder, Shop, Truth, WriteUp};
use crate::synth::clock::{MS_PER_SECOND, US_PER_MS, Zone, days_from_civil, epoch_ms};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::render_lb::{HAPROXY_HOST, HAPROXY_PID, NO_SERVER, rfc3164_stamp};
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario, ScenarioFile};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext, ServerKind, UpstreamAttempt,
};

const NAME: &str = "haproxy-reload";
const SEED: u64 = 1;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2024, 4, 9);
const HOST_NAME: &str = "shop.example.net";
/// The servers of backend `shop`, and the new backend without one.
const SERVERS: [&str; 3] = ["shop/app1", "shop/app2", "shop/app3"];
const EMPTY_BACKEND: &str = "shop_v2";
/// The index of the empty backend's label among the upstream labels.
const EMPTY_BACKEND_INDEX: usize = SERVERS.len();
/// HAProxy answers a request without a server at once.
const NO_SERVER_ANSWER_MS: u64 = 0;
/// Bytes of HAProxy's built-in 503 page.
const NO_SERVER_PAGE_BYTES: u64 = 217;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    reload: i64,
    impact_from: i64,
    second_reload: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(6, 0, 0),
        log_to: at(12, 0, 0),
        reload: at(8, 31, 12),
        impact_from: at(8, 31, 13),
        second_reload: at(9, 7, 45),
        impact_to: at(9, 7, 46),
    }
}

struct EmptyBackend<'a> {
    timeline: &'a Timeline,
}

impl EmptyBackend<'_> {
    fn broken(&self, time: i64) -> bool {
        time >= self.timeline.impact_from && time < self.timeline.impact_to
    }
}

impl Disturbance for EmptyBackend<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, _rng: &mut Pcg64) -> Outcome {
        if self.broken(context.arrival_ms) {
            return Outcome {
                status: 503,
                latency_us: NO_SERVER_ANSWER_MS * US_PER_MS,
                upstream: vec![UpstreamAttempt {
                    backend: EMPTY_BACKEND_INDEX,
                    status: 503,
                    response_time_ms: NO_SERVER_ANSWER_MS,
                    length: Some(NO_SERVER_PAGE_BYTES),
                }],
            };
        }
        // The renderer names the server from the first attempt.
        let mut healthy = healthy;
        if healthy.upstream.is_empty() {
            healthy.upstream.push(UpstreamAttempt {
                backend: context.backend,
                status: healthy.status,
                response_time_ms: healthy.latency_us / US_PER_MS,
                length: None,
            });
        }
        healthy
    }
}

pub(super) fn generate() -> io::Result<GeneratedScenario> {
    let scenario = ScenarioBuilder::new(NAME, SEED, ZONE);
    let timeline = timeline();
    let shop = Shop {
        host: HOST_NAME,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape: DiurnalShape {
            peak_rps: 1.4,
            trough_ratio: 0.25,
            peak_hour: 11.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: SERVERS.len(),
        crawl_sessions_per_hour: 6.0,
        people: PopulationPlan {
            people: 4_000,
            nat_share: 0.12,
            ipv6_share: 0.1,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &EmptyBackend {
            timeline: &timeline,
        },
    );
    let mut upstream_addresses: Vec<String> = SERVERS.iter().map(|s| s.to_string()).collect();
    upstream_addresses.push(format!("{EMPTY_BACKEND}/{NO_SERVER}"));
    let setup = AccessLogSetup {
        format: AccessFormat::HaProxy,
        zone: ZONE,
        upstream_name: String::new(),
        upstream_addresses,
    };
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests {
            from_ms: timeline.impact_from,
            to_ms: timeline.impact_to,
        }),
        alerts: &[],
        notes: vec![
            "Every request arriving between 08:31:13 and 09:07:46 UTC gets HAProxy's own 503: backend shop_v2 has no server (server <NOSRV>, termination state SC--).".into(),
            "haproxy.log also holds HAProxy's own lines: the two reloads (Reexecuting Master process, Proxy ... started) and 'backend shop_v2 has no server available!'; they are timeline entries, not requests.".into(),
            "No alert line exists: detection is the tool's burn-rate rule.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `001` (a load-balancer misconfiguration routes all traffic to \
         no working backend; complete outage; rollback). HAProxy fronts three servers of backend \
         `shop`. At 08:31:12 a reload brings in a configuration whose frontend uses the new \
         backend `shop_v2`, whose `server` lines were never added: HAProxy logs `backend shop_v2 \
         has no server available!` and answers every request itself with a 503 (`shop_v2/<NOSRV>`, \
         termination state `SC--`). A second reload at 09:07:45 puts `shop` back. `haproxy.log` \
         is one syslog file (RFC 3164) with the requests (`option httplog`) and HAProxy's own \
         lines; no monitoring alert is in the logs."
    );
    let mut generated = scenario.build(
        &traffic,
        AccessLog {
            name: "haproxy.log",
            setup,
        },
        Vec::new(),
        truth,
        WriteUp {
            title: "HAProxy reload to a backend without servers: every request gets a 503 for 36 minutes.",
            story,
        },
    )?;
    // HAProxy's own lines go into the same file, in time order.
    let requests_done: Vec<i64> = traffic
        .requests
        .iter()
        .map(|request| request.completion_us().div_euclid(1000))
        .collect();
    let access = &generated.files[0];
    let merged = with_haproxy_messages(&access.content, &requests_done, &messages(&timeline));
    let name = access.facts.name.trim_end_matches(".gz").to_string();
    let format = access.facts.format.clone();
    let file = ScenarioFile::new(&name, "access", &format, merged)?;
    if let Some(facts) = generated.expected.files.first_mut() {
        *facts = file.facts.clone();
    }
    generated.files[0] = file;
    Ok(generated)
}

/// HAProxy's own lines: `(ms, message)`.
fn messages(timeline: &Timeline) -> Vec<(i64, String)> {
    let mut lines = Vec::new();
    for (reload, backend) in [
        (timeline.reload, EMPTY_BACKEND),
        (timeline.second_reload, "shop"),
    ] {
        lines.push((reload, "Reexecuting Master process".to_string()));
        lines.push((reload + 180, "Proxy www started.".to_string()));
        lines.push((reload + 181, format!("Proxy {backend} started.")));
        lines.push((reload + 182, "Proxy stats started.".to_string()));
    }
    lines.push((
        timeline.reload + 183,
        format!("backend {EMPTY_BACKEND} has no server available!"),
    ));
    lines.push((
        timeline.second_reload + 900,
        format!("Proxy {EMPTY_BACKEND} stopped (cumulated conns: FE: 0, BE: 0)."),
    ));
    lines.sort_by_key(|(at_ms, _)| *at_ms);
    lines
}

/// The rendered request lines (one per entry of `done_ms`, in that order)
/// with the message lines placed before the first request that completed
/// after them.
fn with_haproxy_messages(content: &[u8], done_ms: &[i64], messages: &[(i64, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + messages.len() * 80);
    let mut pending = messages.iter().peekable();
    for (line, &done) in content.split_inclusive(|&b| b == b'\n').zip(done_ms) {
        while let Some((at_ms, text)) = pending.next_if(|(at_ms, _)| *at_ms <= done) {
            push_message(&mut out, *at_ms, text);
        }
        out.extend_from_slice(line);
    }
    for (at_ms, text) in pending {
        push_message(&mut out, *at_ms, text);
    }
    out
}

fn push_message(out: &mut Vec<u8>, at_ms: i64, text: &str) {
    let pid = if text.starts_with("Reexecuting") {
        1
    } else {
        HAPROXY_PID
    };
    let stamp = rfc3164_stamp(at_ms.div_euclid(MS_PER_SECOND), ZONE);
    out.extend_from_slice(format!("{stamp} {HAPROXY_HOST} haproxy[{pid}]: {text}\n").as_bytes());
}
