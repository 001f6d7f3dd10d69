//! `alb-slow-target` (seed 002): an AWS Application Load Balancer spreads
//! the shop over three targets; after a bad deploy of its settings one
//! target is overloaded: it gets slow (seconds per request), then stops
//! answering, so the load balancer answers the requests it sends there
//! with its own 504 after the idle timeout, until the on-call deregisters
//! the target (postmortem `002`: a load-balancer misconfiguration
//! overloads one backend; slow responses, then errors; a partial outage).
//!
//! The logs are what the ALB delivers to S3: one gzipped file per
//! load-balancer node per 5 minutes, in AWS's folder tree
//! `AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/`,
//! named `<account>_elasticloadbalancing_<region>_app.<lb-name>.<lb-id>_<end-time>_<node-ip>_<random-string>.log.gz`;
//! a line goes to the file of the 5 minutes in which the load balancer
//! answered it (its `time`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use crate::synth::clock::{MS_PER_MINUTE, US_PER_MS, Zone, days_from_civil, epoch_ms, wall_clock};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::render_lb::{ALB_ACCOUNT, ALB_ID, ALB_NAME, ALB_REGION, alb_answered_us};
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario, ScenarioFile, observe_requests};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext, ServerKind, UpstreamAttempt,
};

const NAME: &str = "alb-slow-target";
const SEED: u64 = 2;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2024, 6, 11);
const DOMAIN: &str = "shop.example.com";
/// The three targets of the target group; the second one is overloaded.
const TARGETS: [&str; 3] = ["10.0.1.17:8080", "10.0.2.41:8080", "10.0.3.29:8080"];
const OVERLOADED: usize = 1;
/// The load balancer's nodes, one per availability zone; a client's DNS
/// answer keeps it on one.
const NODES: [&str; 2] = ["10.0.0.85", "10.0.1.134"];
/// The ALB delivers one file per node per this many minutes.
const FILE_MINUTES: i64 = 5;
/// The load balancer's idle timeout: a target that never answers gets the
/// request's 504 this long after it was sent.
const IDLE_TIMEOUT_MS: u64 = 60_000;
/// Bytes of the ALB's own 504 page.
const GATEWAY_TIMEOUT_PAGE_BYTES: u64 = 132;
/// While the target is slow, this share of its requests already exceeds
/// the idle timeout (an overloaded server answers some requests never).
const SLOW_PHASE_TIMEOUT_SHARE: f64 = 0.2;
/// How slow the overloaded target gets, in ms (uniform).
const SLOW_MS: std::ops::Range<u64> = 1_400..6_500;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    slow_from: i64,
    failing_from: i64,
    deregistered: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(12, 0, 0),
        log_to: at(15, 0, 0),
        slow_from: at(13, 24, 2),
        failing_from: at(13, 30, 40),
        deregistered: at(14, 9, 52),
    }
}

struct OverloadedTarget<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for OverloadedTarget<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        let time = context.arrival_ms;
        let on_overloaded = context.backend == OVERLOADED;
        let timed_out = on_overloaded
            && time < self.timeline.deregistered
            && (time >= self.timeline.failing_from
                || (time >= self.timeline.slow_from && rng.random_bool(SLOW_PHASE_TIMEOUT_SHARE)));
        if timed_out {
            // Sent to the target, never answered: status 0 marks the
            // attempt as unanswered for the renderer.
            return Outcome {
                status: 504,
                latency_us: IDLE_TIMEOUT_MS * US_PER_MS,
                upstream: vec![UpstreamAttempt {
                    backend: OVERLOADED,
                    status: 0,
                    response_time_ms: IDLE_TIMEOUT_MS,
                    length: Some(GATEWAY_TIMEOUT_PAGE_BYTES),
                }],
            };
        }
        let mut outcome = healthy;
        let mut backend = context.backend;
        if on_overloaded && time >= self.timeline.failing_from {
            // Deregistered: the other two targets take its users.
            backend = if context.user_index.is_multiple_of(2) {
                0
            } else {
                2
            };
        } else if on_overloaded && time >= self.timeline.slow_from {
            outcome.latency_us += rng.random_range(SLOW_MS) * US_PER_MS;
        }
        outcome.upstream = vec![UpstreamAttempt {
            backend,
            status: outcome.status,
            response_time_ms: outcome.latency_us / US_PER_MS,
            length: None,
        }];
        outcome
    }
}

/// The file name AWS gives the log of `node` for the 5 minutes ending at
/// `end_ms`, in its folder.
fn s3_key(end_ms: i64, node: usize, random: &str) -> String {
    let wall = wall_clock(end_ms.div_euclid(1000), Zone::UTC);
    format!(
        "AWSLogs/{ALB_ACCOUNT}/elasticloadbalancing/{ALB_REGION}/{}/{:02}/{:02}/{ALB_ACCOUNT}_elasticloadbalancing_{ALB_REGION}_app.{ALB_NAME}.{ALB_ID}_{}{:02}{:02}T{:02}{:02}Z_{}_{random}.log.gz",
        wall.year,
        wall.month,
        wall.day,
        wall.year,
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        NODES[node],
    )
}

/// AWS's random string of a file name: 8 lowercase letters and digits.
fn random_string(rng: &mut Pcg64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub(super) fn generate() -> io::Result<GeneratedScenario> {
    let scenario = ScenarioBuilder::new(NAME, SEED, ZONE);
    let timeline = timeline();
    let shop = Shop {
        host: DOMAIN,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape: DiurnalShape {
            peak_rps: 1.5,
            trough_ratio: 0.35,
            peak_hour: 14.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: TARGETS.len(),
        crawl_sessions_per_hour: 5.0,
        people: PopulationPlan {
            people: 3_500,
            nat_share: 0.1,
            ipv6_share: 0.15,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &OverloadedTarget {
            timeline: &timeline,
        },
    );
    let setup = AccessLogSetup {
        format: AccessFormat::Alb,
        zone: ZONE,
        upstream_name: DOMAIN.to_string(),
        upstream_addresses: TARGETS.iter().map(|t| t.to_string()).collect(),
    };
    // Each request's line, into the file of its node and 5 minutes.
    let file_ms = FILE_MINUTES * MS_PER_MINUTE;
    let mut per_file: BTreeMap<(i64, usize), Vec<u8>> = BTreeMap::new();
    for request in &traffic.requests {
        let answered_ms =
            alb_answered_us(request.arrival_ms, request.latency_us, request.request_id)
                .div_euclid(US_PER_MS as i64);
        let end_ms = (answered_ms.div_euclid(file_ms) + 1) * file_ms;
        let node = request.user as usize % NODES.len();
        let content = per_file.entry((end_ms, node)).or_default();
        content.extend(setup.render(std::slice::from_ref(request), &traffic.population));
    }
    let mut names_rng = scenario.rng(super::purpose::EXTRA);
    let access_files: Vec<ScenarioFile> = per_file
        .into_iter()
        .map(|((end_ms, node), content)| {
            ScenarioFile::gzipped_file(
                s3_key(end_ms, node, &random_string(&mut names_rng)),
                "access",
                AccessFormat::Alb.name(),
                content,
            )
        })
        .collect();
    let observed = observe_requests(&traffic.requests, &traffic.population, AccessFormat::Alb);
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests {
            from_ms: timeline.slow_from,
            to_ms: timeline.deregistered,
        }),
        alerts: &[],
        notes: vec![
            "Requests the ALB sends to target 10.0.2.41:8080 take 1.4 to 6.5 s more from 13:24:02 UTC and one in five is never answered (the ALB's 504 after its 60 s idle timeout); from 13:30:40 the target answers none and the ALB answers each with its own 504 (target_status_code -, processing times -1), until the target is deregistered at 14:09:52.".into(),
            "One gzipped file per load-balancer node (two) per 5 minutes, in AWS's S3 folder tree; a line is in the file of the 5 minutes in which the ALB answered it.".into(),
            "request_creation_time is the arrival; time is when the ALB answered.".into(),
            "No alert line exists: detection is the tool's burn-rate rule.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "An AWS Application Load Balancer spreads the shop over three targets. After a change \
         to the load balancer's settings, target `10.0.2.41:8080` gets more than its share: from \
         13:24:02 UTC its answers take seconds and one in five never comes, from 13:30:40 it stops answering and the load \
         balancer answers the requests it sends there with its own 504 after the 60 s idle \
         timeout, until the on-call deregisters the target at 14:09:52. The logs are what the \
         ALB delivers to S3: one gzipped file per node per 5 minutes in AWS's folder tree \
         (`AWSLogs/{ALB_ACCOUNT}/elasticloadbalancing/{ALB_REGION}/2024/06/11/`); point the \
         tool at the scenario folder. No monitoring alert is in the logs."
    );
    scenario.build_observed(
        AccessFormat::Alb,
        access_files,
        &observed,
        Vec::new(),
        truth,
        WriteUp {
            title: "One target of an ALB gets slow, then stops answering: slow requests, then the load balancer's 504s, for 45 minutes.",
            story,
        },
    )
}
