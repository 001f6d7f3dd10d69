//! `full-outage` (seed 001): a load-balancer change points nginx's upstream
//! pool at retired backends; every request fails with 502/503 for about 40
//! minutes until the change is rolled back (postmortem `001`). No alert
//! fires: detection is the tool's burn-rate rule.

use std::fmt::Write as _;
use std::io;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::clock::{
    MS_PER_MINUTE, MS_PER_SECOND, US_PER_MS, Zone, days_from_civil, epoch_ms, nginx_error_time,
};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::{Population, PopulationPlan};
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, chance};
use crate::synth::scenario::{GeneratedScenario, ScenarioFile};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, Request, RequestContext, ServerKind,
};

const NAME: &str = "full-outage";
const SEED: u64 = 1;
const ZONE: Zone = Zone::from_hours_minutes(-7, 0);
const DATE: (i32, u32, u32) = (2023, 8, 17);
const HOST_NAME: &str = "shop.example.com";
/// The balancer's healthy pool and the retired one the change points at.
const LIVE_POOL: [&str; 4] = [
    "10.0.2.21:8080",
    "10.0.2.22:8080",
    "10.0.2.23:8080",
    "10.0.2.24:8080",
];
const RETIRED_POOL: [&str; 3] = ["10.0.3.11:8080", "10.0.3.12:8080", "10.0.3.13:8080"];
/// Share of failed requests answered by the retired hosts' maintenance
/// page (503) rather than refused (502).
const MAINTENANCE_PAGE_SHARE: f64 = 0.3;
/// nginx worker processes (their pids appear in error.log).
const WORKER_PIDS: [u32; 4] = [2214, 2215, 2216, 2217];

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    change: i64,
    impact_from: i64,
    rollback: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(5, 0, 0),
        log_to: at(13, 0, 0),
        change: at(9, 12, 29),
        impact_from: at(9, 12, 31),
        rollback: at(9, 52, 6),
        impact_to: at(9, 52, 8),
    }
}

struct WrongPool<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for WrongPool<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        let time = context.arrival_ms;
        if time < self.timeline.impact_from || time >= self.timeline.impact_to {
            return healthy;
        }
        let (status, latency_ms) = if chance(rng, MAINTENANCE_PAGE_SHARE) {
            (503, rng.random_range(1..6))
        } else {
            (502, rng.random_range(0..3))
        };
        Outcome {
            status,
            latency_us: latency_ms * US_PER_MS,
            upstream: Vec::new(),
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
            peak_rps: 1.75,
            trough_ratio: 0.2,
            peak_hour: 12.5,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: LIVE_POOL.len(),
        crawl_sessions_per_hour: 8.0,
        people: PopulationPlan {
            people: 6_500,
            nat_share: 0.14,
            ipv6_share: 0.1,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &WrongPool {
            timeline: &timeline,
        },
    );

    let error_log = error_log(
        &timeline,
        &traffic.requests,
        &traffic.population,
        &mut scenario.rng(purpose::EXTRA),
    );
    let syslog = syslog(&timeline, &mut scenario.rng(purpose::SYSLOG));
    let metrics = metrics_csv(&timeline, &traffic.requests);
    let other_files = vec![
        ScenarioFile::new("error.log", "error", "nginx error.log", error_log)?,
        scenario.syslog_file("syslog", &syslog, SyslogFormat::Rfc5424)?,
        ScenarioFile::new(
            "metrics.csv",
            "metrics",
            "long CSV (time as epoch seconds, series, value), 1 min",
            metrics,
        )?,
    ];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests { from_ms: timeline.impact_from, to_ms: timeline.impact_to }),
        alerts: &[],
        notes: vec![
            "Every request arriving between 09:12:31 and 09:52:08 -07:00 fails: 502 (connection refused by the retired hosts, logged in error.log) or 503 (their maintenance page).".into(),
            "No alert line exists: 'detected' is absent on purpose; the tool's multiwindow burn-rate rule (14.4x over 1 h and 5 min) should fire within a few minutes of start.".into(),
            "metrics.csv is long-form: epoch seconds, series name, value; its 5xx series is counted from the access log.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `001` (a load-balancer change routes traffic to non-responsive \
         backends; complete outage; rollback). At 09:12:29 -07:00 an Ansible run on `lb01` \
         rewrites nginx's `upstream app_pool` to the retired `10.0.3.x` hosts and reloads nginx \
         (`syslog`, RFC 5424). From 09:12:31 every request fails: most are refused (502, \
         `connect() failed (111: Connection refused)` in `error.log`), the rest get the old \
         hosts' maintenance page (503). Visitors retry and leave; crawlers and the uptime monitor \
         fail too. The change is rolled back at 09:52:06. No monitoring alert is in the logs, so \
         detection is left to the tool's burn-rate rule. Access log: stock nginx `main` \
         (`\"$http_x_forwarded_for\"`) + `$request_time`; `metrics.csv` is a long-form export."
    );
    scenario.build(
        &traffic,
        scenario.plain_access_log("access.log", AccessFormat::NginxMainRequestTime),
        other_files,
        truth,
        WriteUp {
            title: "Load-balancer change: every request fails with 502/503 for 40 minutes, no alert.",
            story,
        },
    )
}

/// nginx's error.log: the reloads and a line per refused connection.
fn error_log(
    timeline: &Timeline,
    requests: &[Request],
    population: &Population,
    rng: &mut Pcg64,
) -> Vec<u8> {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let mut connection: u64 = 4_812_330;
    for reload in [timeline.change, timeline.rollback] {
        let second = reload / MS_PER_SECOND;
        lines.push((
            reload * 1_000,
            format!(
                "{} [notice] 1187#1187: signal process started",
                nginx_error_time(second, ZONE)
            ),
        ));
    }
    let mut marked_down_until = [0_i64; 3];
    for request in requests {
        let time = request.arrival_ms;
        connection += 1;
        if time < timeline.impact_from || time >= timeline.impact_to || request.status != 502 {
            continue;
        }
        let user = population.user(request.user);
        let worker = WORKER_PIDS[rng.random_range(0..WORKER_PIDS.len())];
        let second = request.completion_us().div_euclid(1_000_000);
        let upstream_index = rng.random_range(0..RETIRED_POOL.len());
        let referrer = request
            .referer
            .as_deref()
            .map_or_else(String::new, |referer| format!(", referrer: \"{referer}\""));
        let request_line = format!("{} {} {}", request.method, request.path, user.protocol);
        // nginx marks a refusing server down for fail_timeout (10 s); with all
        // three down it has no live upstream left to try.
        let all_down = marked_down_until.iter().all(|&until| time < until);
        let message = if all_down {
            format!(
                "*{connection} no live upstreams while connecting to upstream, client: {}, server: {HOST_NAME}, request: \"{request_line}\", upstream: \"http://app_pool{}\", host: \"{HOST_NAME}\"{referrer}",
                user.ip, request.path
            )
        } else {
            marked_down_until[upstream_index] = time + 10 * MS_PER_SECOND;
            format!(
                "*{connection} connect() failed (111: Connection refused) while connecting to upstream, client: {}, server: {HOST_NAME}, request: \"{request_line}\", upstream: \"http://{}{}\", host: \"{HOST_NAME}\"{referrer}",
                user.ip, RETIRED_POOL[upstream_index], request.path
            )
        };
        lines.push((
            request.completion_us(),
            format!(
                "{} [error] {worker}#{worker}: {message}",
                nginx_error_time(second, ZONE)
            ),
        ));
    }
    lines.sort_by_key(|(at_us, _)| *at_us);
    let mut out = String::new();
    for (_, line) in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out.into_bytes()
}

/// RFC 5424 syslog of lb01 and the deploy host.
fn syslog(timeline: &Timeline, rng: &mut Pcg64) -> Syslog {
    let mut log = Syslog::default();
    routine_noise(
        &mut log,
        &["lb01", "deploy01"],
        timeline.log_from,
        timeline.log_to,
        rng,
    );
    let mut pids = PidCounter::starting_at(40_100);
    let pool = |hosts: &[&str]| {
        hosts
            .iter()
            .map(|host| format!("server {host} max_fails=1 fail_timeout=10s;"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (time, playbook, hosts) in [
        (
            timeline.change,
            "lb-pool-migration.yml",
            pool(&RETIRED_POOL),
        ),
        (
            timeline.rollback,
            "lb-pool-migration.yml --tags rollback",
            pool(&LIVE_POOL),
        ),
    ] {
        let ansible = pids.next(rng);
        log.push(
            time - 9_400,
            "deploy01",
            "ansible-playbook",
            Some(ansible),
            facility::USER,
            severity::INFO,
            format!("PLAY [{playbook}] user=ops"),
        );
        log.push(time - 2_100, "lb01", "ansible-ansible.legacy.copy", Some(pids.next(rng)), facility::USER, severity::INFO,
            format!("Invoked with dest=/etc/nginx/conf.d/app_pool.conf content=upstream app_pool {{ {hosts} }} backup=True mode=0644"));
        log.push(
            time - 1_300,
            "lb01",
            "ansible-ansible.legacy.command",
            Some(pids.next(rng)),
            facility::USER,
            severity::INFO,
            "Invoked with _raw_params=nginx -t",
        );
        log.push(
            time - 400,
            "lb01",
            "ansible-ansible.legacy.systemd",
            Some(pids.next(rng)),
            facility::USER,
            severity::INFO,
            "Invoked with name=nginx state=reloaded",
        );
        log.push(
            time,
            "lb01",
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloading nginx.service - A high performance web server and a reverse proxy server...",
        );
        log.push(
            time + 35,
            "lb01",
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloaded nginx.service - A high performance web server and a reverse proxy server.",
        );
        log.push(
            time + between(rng, 1_000, 3_000),
            "deploy01",
            "ansible-playbook",
            Some(ansible),
            facility::USER,
            severity::INFO,
            "PLAY RECAP lb01 : ok=6 changed=2 unreachable=0 failed=0",
        );
    }
    log
}

/// Long-form metrics per minute: healthy upstreams, requests and 5xx per
/// second as the balancer's exporter reports them.
fn metrics_csv(timeline: &Timeline, requests: &[Request]) -> Vec<u8> {
    let minutes = ((timeline.log_to - timeline.log_from) / MS_PER_MINUTE) as usize;
    let mut totals = vec![0u64; minutes];
    let mut errors = vec![0u64; minutes];
    for request in requests {
        let completion_ms = request.completion_us() / 1_000;
        let minute = (completion_ms - timeline.log_from).div_euclid(MS_PER_MINUTE);
        if minute >= 0 && (minute as usize) < minutes {
            totals[minute as usize] += 1;
            if request.status >= 500 {
                errors[minute as usize] += 1;
            }
        }
    }
    let mut out = String::from("time,series,value\n");
    for minute in 0..minutes {
        let end = timeline.log_from + (minute as i64 + 1) * MS_PER_MINUTE;
        let epoch = end / MS_PER_SECOND;
        let healthy = if end > timeline.change && end <= timeline.rollback {
            0
        } else {
            LIVE_POOL.len()
        };
        let _ = writeln!(out, "{epoch},lb01 nginx_upstream_healthy,{healthy}");
        let _ = writeln!(
            out,
            "{epoch},lb01 nginx_requests_per_second,{:.3}",
            totals[minute] as f64 / 60.0
        );
        let _ = writeln!(
            out,
            "{epoch},lb01 nginx_5xx_per_second,{:.3}",
            errors[minute] as f64 / 60.0
        );
    }
    out.into_bytes()
}
