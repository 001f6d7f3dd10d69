//! `traffic-gap`: the uplink of the data centre drops for twenty minutes;
//! nothing reaches the web server and nothing is logged, then traffic comes
//! back with a small surge of returning visitors. Start is the last request
//! before the silence, end the first after it.

use std::fmt::Write as _;
use std::io;

use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::clock::{Zone, days_from_civil, epoch_ms};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::{Alert, InjectedIncident, USERS_MISSING_BASELINE_MINUTES};
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::scenario::GeneratedScenario;
use crate::synth::traffic::{Disturbance, DiurnalShape, LatencyUnit, ServerKind};

const NAME: &str = "traffic-gap";
const SEED: u64 = 6;
const ZONE: Zone = Zone::from_hours_minutes(2, 0);
const DATE: (i32, u32, u32) = (2023, 6, 21);
const HOST_NAME: &str = "www.example.de";
/// Extra session starts right after the uplink returns, decaying with this
/// time constant: people who could not get through try again.
const SURGE_PEAK: f64 = 0.6;
const SURGE_DECAY_MS: f64 = 6.0 * 60_000.0;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    link_down: i64,
    link_up: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(0, 0, 0),
        log_to: at(23, 59, 59) + 1_000,
        link_down: at(13, 47, 21) + 400,
        link_up: at(14, 7, 26),
    }
}

struct UplinkDown<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for UplinkDown<'_> {
    fn reachable(&self, arrival_ms: i64) -> bool {
        arrival_ms < self.timeline.link_down || arrival_ms >= self.timeline.link_up
    }

    fn traffic_factor(&self, at_ms: i64) -> f64 {
        if at_ms < self.timeline.link_up {
            1.0
        } else {
            1.0 + SURGE_PEAK * (-((at_ms - self.timeline.link_up) as f64) / SURGE_DECAY_MS).exp()
        }
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
            peak_rps: 1.0,
            trough_ratio: 0.15,
            peak_hour: 15.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: 2,
        crawl_sessions_per_hour: 6.0,
        people: PopulationPlan {
            people: 8_000,
            nat_share: 0.12,
            ipv6_share: 0.15,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &UplinkDown {
            timeline: &timeline,
        },
    );

    let (syslog, alerts) = syslog(&timeline, &mut scenario.rng(purpose::SYSLOG));
    let other_files = vec![scenario.syslog_file("syslog", &syslog, SyslogFormat::Rfc3164)?];
    let truth = Truth {
        incident: Some(InjectedIncident::TrafficGap { from_ms: timeline.link_down, to_ms: timeline.link_up }),
        alerts: &alerts,
        notes: vec![
            "No request arrives between 13:47:21.4 and 14:07:26 +02:00: the uplink is down. Requests already in flight complete and are logged.".into(),
            "start/end are the last request before and the first after the silence (reconstructed arrivals); the impact counts just those two requests, so users_affected is 0 and users_missing carries the impact.".into(),
            format!("users_missing = mean distinct users per clock minute over the {USERS_MISSING_BASELINE_MINUTES} whole minutes before the minute of start, times the silence in minutes, rounded."),
            "Visitors who could not get through return: session starts are up to 60 % above normal for a few minutes after 14:07:26.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Not from a seed postmortem: a traffic drop, the case where nothing in the access log \
         fails. A shop (nginx `combined` + `$request_time`, +02:00) runs a normal Wednesday until \
         the data centre's uplink goes down at 13:47:21 (`syslog`: the edge router's NIC link \
         down, BGP session down). For twenty minutes no request arrives and nothing is logged; \
         the external Nagios raises a HARD CRITICAL at 13:51:33. The link comes back at 14:07:22, \
         BGP re-establishes, and traffic returns with a short surge of people trying again. \
         Severity is `outage`; `users_missing` estimates who never got through."
    );
    scenario.build(
        &traffic,
        scenario.plain_access_log("access.log", AccessFormat::NginxCombinedRequestTime),
        other_files,
        truth,
        WriteUp {
            title: "Traffic gap: the uplink drops and nothing is logged for 20 minutes.",
            story,
        },
    )
}

/// Central syslog: the edge router, the web host, the external monitor.
fn syslog(timeline: &Timeline, rng: &mut Pcg64) -> (Syslog, Vec<Alert>) {
    let mut log = Syslog::default();
    routine_noise(
        &mut log,
        &["edge1", "www1", "mon-ext"],
        timeline.log_from,
        timeline.log_to,
        rng,
    );
    let mut pids = PidCounter::starting_at(7_700);
    let bird = pids.next(rng);
    let down = timeline.link_down;
    let up = timeline.link_up - 4_000;
    log.push(
        down - 150,
        "edge1",
        "kernel",
        None,
        facility::KERNEL,
        severity::ERROR,
        "[3841102.228710] ixgbe 0000:03:00.0 eno1: NIC Link is Down",
    );
    log.push(
        down + 2_850,
        "edge1",
        "bird",
        Some(bird),
        facility::DAEMON,
        severity::WARNING,
        "transit1: Error: Hold timer expired",
    );
    log.push(
        down + 2_860,
        "edge1",
        "bird",
        Some(bird),
        facility::DAEMON,
        severity::INFO,
        "transit1: State changed to down",
    );
    log.push(
        up,
        "edge1",
        "kernel",
        None,
        facility::KERNEL,
        severity::INFO,
        "[3842307.114032] ixgbe 0000:03:00.0 eno1: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    );
    log.push(
        up + 3_400,
        "edge1",
        "bird",
        Some(bird),
        facility::DAEMON,
        severity::INFO,
        "transit1: State changed to up",
    );
    let mut alerts = Vec::new();
    for (time, state, output) in [
        (
            at(13, 51, 33),
            "CRITICAL",
            "CRITICAL - Socket timeout after 10 seconds",
        ),
        (
            at(14, 9, 3),
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 23904 bytes in 0.087 second response time",
        ),
    ] {
        let message = format!("SERVICE ALERT: www1;HTTPS;{state};HARD;3;{output}");
        log.push(
            time,
            "mon-ext",
            "nagios",
            None,
            facility::DAEMON,
            if state == "OK" {
                severity::INFO
            } else {
                severity::CRITICAL
            },
            message.clone(),
        );
        if state == "CRITICAL" {
            alerts.push(Alert {
                at_ms: time,
                evidence: format!("nagios: {message}"),
            });
        }
    }
    (log, alerts)
}
