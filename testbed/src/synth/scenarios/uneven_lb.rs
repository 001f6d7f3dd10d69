//! `uneven-lb` (seed 002): an ingress annotation makes ingress-nginx hash
//! requests by a header browsers never send, so one of three pods gets most
//! of the traffic, slows down (1.5–8 s) and throws intermittent 503/504 for
//! about 90 minutes (postmortem `002`: 30 % degradation, first taken for a
//! DDoS).

use std::fmt::Write as _;
use std::io;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{AccessLog, ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::catalog::ClientKind;
use crate::synth::clock::{MS_PER_MINUTE, US_PER_MS, Zone, days_from_civil, epoch_ms};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::{Alert, InjectedIncident};
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, chance, log_normal};
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario};
use crate::synth::traffic::{
    BASELINE_LATENCY_CAP_US, Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext,
    ServerKind, UpstreamAttempt,
};

const NAME: &str = "uneven-lb";
const SEED: u64 = 2;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2024, 3, 5);
const HOST_NAME: &str = "shop.example.io";
/// The three pods of the `shop-web` service; the first one gets overloaded.
const POD_ADDRESSES: [&str; 3] = ["10.244.1.23:8080", "10.244.2.17:8080", "10.244.3.9:8080"];
const POD_NAMES: [&str; 3] = [
    "shop-web-7d9f8c6b5-x2kqp",
    "shop-web-7d9f8c6b5-h7wzn",
    "shop-web-7d9f8c6b5-p4mtd",
];
const POD_NODES: [&str; 3] = ["node-1", "node-2", "node-3"];
const HOT_POD: usize = 0;
const UPSTREAM_NAME: &str = "shop-shop-web-8080";
/// Probability that a request on the overloaded pod goes wrong, once the
/// overload has built up (it ramps up over `RAMP_MS` after the change).
const HOT_POD_BAD_PROBABILITY: f64 = 0.03;
const RAMP_MS: i64 = 8 * MS_PER_MINUTE;
/// ingress-nginx `proxy-read-timeout`.
const PROXY_READ_TIMEOUT_MS: u64 = 60_000;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    change: i64,
    impact_from: i64,
    fix: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(7, 0, 0),
        log_to: at(15, 0, 0),
        change: at(10, 41, 7),
        impact_from: at(10, 41, 8),
        fix: at(12, 14, 19),
        impact_to: at(12, 14, 20),
    }
}

struct UnevenBalancer<'a> {
    timeline: &'a Timeline,
}

impl UnevenBalancer<'_> {
    fn skewed(&self, time: i64) -> bool {
        time >= self.timeline.impact_from && time < self.timeline.impact_to
    }
}

impl Disturbance for UnevenBalancer<'_> {
    fn route(&self, context: &RequestContext<'_>, rng: &mut Pcg64) -> usize {
        if self.skewed(context.arrival_ms) {
            // upstream-hash-by "$http_x_shop_tenant": only the app sends the
            // header; every other request hashes the empty key to one pod.
            if context.user.kind == ClientKind::App {
                (context.user.address_hash % POD_ADDRESSES.len() as u64) as usize
            } else {
                HOT_POD
            }
        } else {
            // The default round robin.
            rng.random_range(0..POD_ADDRESSES.len())
        }
    }

    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        if context.backend != HOT_POD || !self.skewed(context.arrival_ms) {
            return healthy;
        }
        let ramp = ((context.arrival_ms - self.timeline.impact_from) as f64 / RAMP_MS as f64)
            .clamp(0.15, 1.0);
        if !chance(rng, HOT_POD_BAD_PROBABILITY * ramp) {
            let latency_us = ((healthy.latency_us as f64) * 1.8) as u64;
            return Outcome {
                latency_us: latency_us.min(BASELINE_LATENCY_CAP_US),
                ..healthy
            };
        }
        let roll = rng.random_range(0..100u32);
        match roll {
            // Slow but served.
            0..=69 => {
                let latency_us = (log_uniform(rng, 1_500.0, 8_000.0) * US_PER_MS as f64) as u64;
                Outcome {
                    latency_us,
                    ..healthy
                }
            }
            // The pod sheds load.
            70..=84 => Outcome {
                status: 503,
                latency_us: (log_normal(rng, 12.0, 0.5) * US_PER_MS as f64) as u64,
                upstream: Vec::new(),
            },
            // proxy_read_timeout: a GET is retried on the next pod
            // (proxy-next-upstream "error timeout"), a POST is not.
            _ => {
                let timed_out = PROXY_READ_TIMEOUT_MS + rng.random_range(0..3);
                if context.request.method == "GET" {
                    let retry_ms = (healthy.latency_us / US_PER_MS).max(1);
                    let next_pod = 1 + rng.random_range(0..POD_ADDRESSES.len() - 1);
                    Outcome {
                        status: healthy.status,
                        latency_us: (timed_out + retry_ms + 1) * US_PER_MS,
                        upstream: vec![
                            UpstreamAttempt {
                                backend: HOT_POD,
                                status: 504,
                                response_time_ms: timed_out,
                                length: Some(0),
                            },
                            UpstreamAttempt {
                                backend: next_pod,
                                status: healthy.status,
                                response_time_ms: retry_ms,
                                length: None,
                            },
                        ],
                    }
                } else {
                    Outcome {
                        status: 504,
                        latency_us: (timed_out + 1) * US_PER_MS,
                        upstream: vec![UpstreamAttempt {
                            backend: HOT_POD,
                            status: 504,
                            response_time_ms: timed_out,
                            length: Some(0),
                        }],
                    }
                }
            }
        }
    }
}

/// A sample spread evenly on a log scale between `low` and `high`.
fn log_uniform(rng: &mut Pcg64, low: f64, high: f64) -> f64 {
    let position: f64 = rng.random();
    low * (high / low).powf(position)
}

pub(super) fn generate() -> io::Result<GeneratedScenario> {
    let scenario = ScenarioBuilder::new(NAME, SEED, ZONE);
    let timeline = timeline();
    let shop = Shop {
        host: HOST_NAME,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape: DiurnalShape {
            peak_rps: 1.9,
            trough_ratio: 0.22,
            peak_hour: 13.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: POD_ADDRESSES.len(),
        crawl_sessions_per_hour: 8.0,
        people: PopulationPlan {
            people: 7_000,
            nat_share: 0.12,
            ipv6_share: 0.1,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &UnevenBalancer {
            timeline: &timeline,
        },
    );

    let format = AccessFormat::IngressNginx;
    let setup = AccessLogSetup {
        format,
        zone: ZONE,
        upstream_name: UPSTREAM_NAME.to_string(),
        upstream_addresses: POD_ADDRESSES
            .iter()
            .map(|address| address.to_string())
            .collect(),
    };
    let (journal, alerts) = journal(&timeline, &mut scenario.rng(purpose::SYSLOG));
    let other_files =
        vec![scenario.syslog_file("journal.log", &journal, SyslogFormat::JournalShortIso)?];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests { from_ms: timeline.impact_from, to_ms: timeline.impact_to }),
        alerts: &alerts,
        notes: vec![
            "Before 10:41:07 and after 12:14:19 ingress-nginx spreads requests round robin over three pods.".into(),
            "In between, upstream-hash-by \"$http_x_shop_tenant\" sends every request without that header (all browsers, crawlers, the monitor) to 10.244.1.23:8080; only app requests spread.".into(),
            "On that pod up to 3 % of requests go wrong: slow 200s (1.5-8 s), 503s, and 60 s timeouts; a timed-out GET is retried on another pod (two upstream entries, '504, 200'), a POST gets 504.".into(),
            "The alert is an Alertmanager notification with status=firing in journal.log (journalctl -o short-iso).".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `002` (uneven load balancing; one backend overloaded; a 30 % \
         degradation; first taken for a DDoS). The ingress-nginx controller (default log format, \
         with upstream address, response time and status per try) fronts three `shop-web` pods. \
         At 10:41:07 an annotation `upstream-hash-by: \"$http_x_shop_tenant\"` is applied \
         (`journal.log`: the controller's reload); browsers never send that header, so nearly \
         all traffic hashes to `10.244.1.23:8080`. That pod slows down and sheds load: slow \
         pages (1.5–8 s), 503s, 60 s timeouts that the ingress retries on another pod (the log \
         shows `10.244.1.23:8080, 10.244.3.9:8080 … 504, 200`). kubelet reports failing \
         readiness probes, Alertmanager fires at 10:52:31, the team first chases a DDoS \
         (tcpdump on the nodes), and the annotation is removed at 12:14:19."
    );
    scenario.build(
        &traffic,
        AccessLog {
            name: "ingress-nginx.log",
            setup,
        },
        other_files,
        truth,
        WriteUp {
            title: "Uneven load balancing: one of three pods gets most traffic and turns slow with intermittent 503/504.",
            story,
        },
    )
}

/// `journalctl -o short-iso` of the three nodes and the monitoring host.
fn journal(timeline: &Timeline, rng: &mut Pcg64) -> (Syslog, Vec<Alert>) {
    let mut log = Syslog::default();
    routine_noise(
        &mut log,
        &["node-1", "node-2", "node-3", "mon-1"],
        timeline.log_from,
        timeline.log_to,
        rng,
    );
    let mut pids = PidCounter::starting_at(2_100);
    let controller_pid = pids.next(rng);
    let controller = |log: &mut Syslog, time: i64, micros: i64, message: &str| {
        let wall = crate::synth::clock::wall_clock(time / 1_000, ZONE);
        log.push(
            time,
            "node-2",
            "ingress-nginx-controller",
            Some(controller_pid),
            facility::DAEMON,
            severity::INFO,
            format!(
                "I{:02}{:02} {:02}:{:02}:{:02}.{micros:06}       7 {message}",
                wall.month, wall.day, wall.hour, wall.minute, wall.second
            ),
        );
    };
    for (time, what) in [(timeline.change, "added"), (timeline.fix, "removed")] {
        let micros = between(rng, 0, 400_000);
        controller(
            &mut log,
            time,
            micros,
            &format!(
                "event.go:298] Event(v1.ObjectReference{{Kind:\"Ingress\", Namespace:\"shop\", Name:\"shop-web\", APIVersion:\"networking.k8s.io/v1\"}}): type: 'Normal' reason: 'Sync' Scheduled for sync (annotation upstream-hash-by {what})"
            ),
        );
        controller(
            &mut log,
            time,
            micros + 1_400,
            "controller.go:190] \"Configuration changes detected, backend reload required\"",
        );
        controller(
            &mut log,
            time,
            micros + 188_000,
            "controller.go:210] \"Backend successfully reloaded\"",
        );
        controller(
            &mut log,
            time,
            micros + 188_600,
            "event.go:298] Event(v1.ObjectReference{Kind:\"Pod\", Namespace:\"ingress-nginx\", Name:\"ingress-nginx-controller-6f7c9d8b7-kq2lm\", APIVersion:\"v1\"}): type: 'Normal' reason: 'RELOAD' NGINX reload triggered due to a change in configuration",
        );
    }
    // kubelet on node-1: the hot pod's readiness probe times out now and then.
    let kubelet_pid = pids.next(rng);
    let mut probe_at = timeline.impact_from + 3 * MS_PER_MINUTE;
    while probe_at < timeline.impact_to {
        log.push(probe_at, POD_NODES[HOT_POD], "kubelet", Some(kubelet_pid), facility::DAEMON, severity::WARNING,
            format!("I{}    {kubelet_pid} prober.go:107] \"Probe failed\" probeType=\"Readiness\" pod=\"shop/{}\" podUID=\"4f6c2a8e-91b3-4c0d-a7e2-5d1f3b9c8e20\" containerName=\"web\" probeResult=\"failure\" output=\"Get \\\"http://{}/healthz\\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)\"",
                probe_stamp(probe_at), POD_NAMES[HOT_POD], POD_ADDRESSES[HOT_POD]));
        probe_at += between(rng, 40_000, 300_000);
    }
    // The DDoS hunt.
    for (time, node) in [(at(11, 3, 12), "node-1"), (at(11, 19, 40), "node-2")] {
        log.push(time, node, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
            "  oncall : TTY=pts/0 ; PWD=/home/oncall ; USER=root ; COMMAND=/usr/sbin/tcpdump -ni eth0 -c 20000 tcp port 443");
    }
    let alertmanager_pid = pids.next(rng);
    let mut alerts = Vec::new();
    for (time, status) in [(at(10, 52, 31), "firing"), (at(12, 20, 1), "resolved")] {
        let millis = between(rng, 0, 999);
        let message = format!(
            "ts={}.{millis:03}Z caller=notify.go:848 level=info component=dispatcher receiver=oncall-pager integration=webhook[0] msg=\"Notify success\" attempts=1 alertname=IngressUpstreamLatencyHigh namespace=shop ingress=shop-web severity=critical status={status}",
            crate::synth::clock::rfc3339_utc(time).trim_end_matches('Z')
        );
        log.push(
            time,
            "mon-1",
            "alertmanager",
            Some(alertmanager_pid),
            facility::DAEMON,
            if status == "firing" {
                severity::CRITICAL
            } else {
                severity::INFO
            },
            message.clone(),
        );
        if status == "firing" {
            alerts.push(Alert {
                at_ms: time,
                evidence: format!("alertmanager: {message}"),
            });
        }
    }
    (log, alerts)
}

/// klog's `MMDD HH:MM:SS.micros` stamp.
fn probe_stamp(time: i64) -> String {
    let wall = crate::synth::clock::wall_clock(time / 1_000, ZONE);
    format!(
        "{:02}{:02} {:02}:{:02}:{:02}.{:06}",
        wall.month,
        wall.day,
        wall.hour,
        wall.minute,
        wall.second,
        (time % 1_000) * 1_000 + 317
    )
}
