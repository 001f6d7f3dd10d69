//! `envoy-upstream-refused`: Envoy fronts three pods of the shop's API;
//! after a node's network policy change one pod refuses every connection,
//! so Envoy answers the requests routed to it with its own 503 (`UF,URX`:
//! connection failure, retries exhausted) until the policy is reverted.
//! About a third of the requests fail for 40 minutes: a partial outage.
//! The log is Envoy's default access log as the node keeps it, behind the
//! CRI prefix (`/var/log/containers/envoy-*.log`).

use std::fmt::Write as _;
use std::io;

use rand_pcg::Pcg64;

use super::builder::{AccessLog, ScenarioBuilder, Shop, Truth, WriteUp};
use crate::synth::clock::{US_PER_MS, Zone, days_from_civil, epoch_ms};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext, ServerKind, UpstreamAttempt,
};

const NAME: &str = "envoy-upstream-refused";
const SEED: u64 = 15;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2024, 5, 14);
const AUTHORITY: &str = "api.shop.example";
/// The three pods behind Envoy's cluster; the first one refuses.
const PODS: [&str; 3] = ["10.42.1.17:8080", "10.42.2.9:8080", "10.42.3.23:8080"];
const REFUSING_POD: usize = 0;
/// A refused connection and Envoy's retries take a few milliseconds.
const REFUSED_ANSWER_MS: u64 = 3;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    impact_from: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(12, 0, 0),
        log_to: at(18, 0, 0),
        impact_from: at(14, 12, 31),
        impact_to: at(14, 52, 9),
    }
}

struct RefusingPod<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for RefusingPod<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, _rng: &mut Pcg64) -> Outcome {
        let refused = context.backend == REFUSING_POD
            && context.arrival_ms >= self.timeline.impact_from
            && context.arrival_ms < self.timeline.impact_to;
        if refused {
            return Outcome {
                status: 503,
                latency_us: REFUSED_ANSWER_MS * US_PER_MS,
                upstream: vec![UpstreamAttempt {
                    backend: REFUSING_POD,
                    status: 503,
                    response_time_ms: REFUSED_ANSWER_MS,
                    length: None,
                }],
            };
        }
        // The renderer names the upstream from the first attempt.
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
        host: AUTHORITY,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape: DiurnalShape {
            peak_rps: 1.2,
            trough_ratio: 0.4,
            peak_hour: 15.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: PODS.len(),
        crawl_sessions_per_hour: 4.0,
        people: PopulationPlan {
            people: 3_000,
            nat_share: 0.1,
            ipv6_share: 0.1,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &RefusingPod {
            timeline: &timeline,
        },
    );
    let setup = AccessLogSetup {
        format: AccessFormat::EnvoyCri,
        zone: ZONE,
        upstream_name: AUTHORITY.to_string(),
        upstream_addresses: PODS.iter().map(|p| p.to_string()).collect(),
    };
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests {
            from_ms: timeline.impact_from,
            to_ms: timeline.impact_to,
        }),
        alerts: &[],
        notes: vec![
            "Every request routed to 10.42.1.17:8080 between 14:12:31 and 14:52:09 UTC gets Envoy's own 503 with response flags UF,URX (connection refused, retries exhausted).".into(),
            "The lines are behind the CRI prefix of /var/log/containers (time stdout F); the CRI time is the completion, START_TIME the arrival.".into(),
            "No alert line exists: detection is the tool's burn-rate rule.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Envoy routes the shop's API over three pods. At 14:12:31 a network policy applied to \
         one node makes pod `10.42.1.17:8080` refuse every connection; Envoy answers the \
         requests it routes there with its own 503 (`UF,URX`) until the policy is reverted at \
         14:52:09. The access log is Envoy's default format as the node keeps the container's \
         output, behind the CRI prefix; no monitoring alert is in the logs."
    );
    scenario.build(
        &traffic,
        AccessLog {
            name: "envoy.log",
            setup,
        },
        Vec::new(),
        truth,
        WriteUp {
            title: "One upstream refuses connections behind Envoy: a third of the requests get a 503 for 40 minutes.",
            story,
        },
    )
}
