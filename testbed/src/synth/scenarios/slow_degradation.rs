//! `slow-degradation` (seed 000): a configuration change starves PHP-FPM of
//! workers; for two and a half days a growing share of dynamic requests
//! takes 1.2–6 s, nothing fails beyond the usual (postmortem `000`: slow
//! responses from 14:40 GMT+1 on 7 May to 22:55 on 9 May 2024). JSON access
//! log, gzipped; no alert.

use std::fmt::Write as _;
use std::io;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::clock::{MS_PER_HOUR, MS_PER_MINUTE, US_PER_MS, Zone, days_from_civil, epoch_ms};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, chance};
use crate::synth::scenario::GeneratedScenario;
use crate::synth::traffic::{
    BASELINE_LATENCY_CAP_US, Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext,
    ServerKind,
};

const NAME: &str = "slow-degradation";
const SEED: u64 = 0;
const ZONE: Zone = Zone::from_hours_minutes(1, 0);
const HOST_NAME: &str = "www.example.com";
const WEB_HOST: &str = "web-a";
/// Share of dynamic requests that are slow at the start and at the end of
/// the degradation (it grows in between, and more at busy hours).
const SLOW_SHARE_AT_START: f64 = 0.05;
const SLOW_SHARE_AT_END: f64 = 0.36;
/// How slow a slow request is, in ms (log-uniform).
const SLOW_RANGE_MS: (f64, f64) = (1_200.0, 6_000.0);
/// Workers before and after the bad change, as the syslog reports them.
const GOOD_MAX_CHILDREN: u32 = 48;
const BAD_MAX_CHILDREN: u32 = 6;

fn local(day: u32, hour: u32, minute: u32) -> i64 {
    epoch_ms(ZONE, (2024, 5, day), (hour, minute, 0))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    impact_from: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: local(6, 0, 0),
        log_to: local(10, 12, 0),
        impact_from: local(7, 14, 40),
        impact_to: local(9, 22, 55),
    }
}

struct StarvedWorkers<'a> {
    timeline: &'a Timeline,
    shape: DiurnalShape,
}

impl StarvedWorkers<'_> {
    /// Share of dynamic requests that wait long for a worker at `time`.
    fn slow_share(&self, time: i64) -> f64 {
        let progress = (time - self.timeline.impact_from) as f64
            / (self.timeline.impact_to - self.timeline.impact_from) as f64;
        let load = self.shape.rate(time, ZONE) / self.shape.peak_rps;
        (SLOW_SHARE_AT_START + (SLOW_SHARE_AT_END - SLOW_SHARE_AT_START) * progress)
            * (0.55 + 0.45 * load)
    }
}

impl Disturbance for StarvedWorkers<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        let time = context.arrival_ms;
        if time < self.timeline.impact_from
            || time >= self.timeline.impact_to
            || !context.request.kind.is_dynamic()
        {
            return healthy;
        }
        if healthy.status >= 500 || healthy.status == 499 || !chance(rng, self.slow_share(time)) {
            let latency_us = ((healthy.latency_us as f64) * 1.6) as u64;
            return Outcome {
                latency_us: latency_us.min(BASELINE_LATENCY_CAP_US),
                ..healthy
            };
        }
        let position: f64 = rng.random();
        let (low, high) = SLOW_RANGE_MS;
        let latency_ms = low * (high / low).powf(position);
        Outcome {
            latency_us: (latency_ms * US_PER_MS as f64) as u64,
            ..healthy
        }
    }
}

pub(super) fn generate() -> io::Result<GeneratedScenario> {
    let scenario = ScenarioBuilder::new(NAME, SEED, ZONE);
    let timeline = timeline();
    let shape = DiurnalShape {
        peak_rps: 0.4,
        trough_ratio: 0.12,
        peak_hour: 14.0,
    };
    let shop = Shop {
        host: HOST_NAME,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape,
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: 1,
        crawl_sessions_per_hour: 3.0,
        people: PopulationPlan {
            people: 9_000,
            nat_share: 0.1,
            ipv6_share: 0.12,
            day: days_from_civil(2024, 5, 6),
        },
    };
    let disturbance = StarvedWorkers {
        timeline: &timeline,
        shape,
    };
    let traffic = scenario.simulate(&shop, &disturbance);

    let syslog = syslog(&timeline, &disturbance, &mut scenario.rng(purpose::SYSLOG));
    let other_files = vec![scenario.syslog_file("syslog", &syslog, SyslogFormat::Rfc3164)?];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests { from_ms: timeline.impact_from, to_ms: timeline.impact_to }),
        alerts: &[],
        notes: vec![
            "Latency only: from 14:40 +01:00 on 7 May to 22:55 on 9 May a growing share of dynamic requests (5 % rising to 36 %, more at busy hours) takes 1.2-6 s; statuses are those of a healthy day.".into(),
            "$time_iso8601 is the completion time (nginx semantics); arrival = time - request_time.".into(),
            "No alert line: detection is left to the tool's burn-rate rule.".into(),
            "Static files are served by nginx and stay fast.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `000` (improperly allocated server resources; slow responses \
         from 2:40 pm GMT+1 on 7 May 2024 to 10:55 pm on 9 May). Four and a half days of a \
         low-traffic shop (about 0.3 requests per second) logged by nginx as JSON lines \
         (`escape=json`, `$time_iso8601`). At 14:38 on 7 May a configuration run cuts \
         PHP-FPM's `pm.max_children` from {GOOD_MAX_CHILDREN} to {BAD_MAX_CHILDREN} (`syslog`); \
         from 14:40 a growing share of dynamic requests queues for a worker and takes 1.2–6 s, \
         worse at busy hours, while `php-fpm` warns that it reached `pm.max_children`. Nothing \
         fails beyond the usual background. The setting is restored at 22:55 on 9 May. No \
         alert exists in the logs."
    );
    scenario.build(
        &traffic,
        scenario.plain_access_log("access.json.log", AccessFormat::NginxJson),
        other_files,
        truth,
        WriteUp {
            title: "Slow degradation over two and a half days: latency only, no errors, no alert.",
            story,
        },
    )
}

/// The web host's syslog: the change, php-fpm's warnings, the fix.
fn syslog(timeline: &Timeline, workers: &StarvedWorkers<'_>, rng: &mut Pcg64) -> Syslog {
    let mut log = Syslog::default();
    routine_noise(
        &mut log,
        &[WEB_HOST],
        timeline.log_from,
        timeline.log_to,
        rng,
    );
    let mut pids = PidCounter::starting_at(120_000);
    let fpm_master = 812;
    let pool_file = "/etc/php/8.2/fpm/pool.d/www.conf";
    for (time, children) in [
        (
            timeline.impact_from - 2 * MS_PER_MINUTE + 12_000,
            BAD_MAX_CHILDREN,
        ),
        (timeline.impact_to - 20_000, GOOD_MAX_CHILDREN),
    ] {
        log.push(time, WEB_HOST, "ansible-ansible.legacy.template", Some(pids.next(rng)), facility::USER, severity::INFO,
            format!("Invoked with dest={pool_file} src=www.conf.j2 mode=0644 owner=root group=root (pm.max_children={children})"));
        log.push(
            time + 900,
            WEB_HOST,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloading php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager...",
        );
        log.push(
            time + 1_000,
            WEB_HOST,
            "php-fpm8.2",
            Some(fpm_master),
            facility::DAEMON,
            severity::NOTICE,
            "[NOTICE] Reloading in progress ...",
        );
        log.push(
            time + 1_100,
            WEB_HOST,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloaded php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.",
        );
    }
    // php-fpm complains while starved, more often when busier.
    let mut warn_at = timeline.impact_from + between(rng, 20_000, 90_000);
    while warn_at < timeline.impact_to {
        let share = workers.slow_share(warn_at);
        log.push(warn_at, WEB_HOST, "php-fpm8.2", Some(fpm_master), facility::DAEMON, severity::WARNING,
            format!("[WARNING] [pool www] server reached pm.max_children setting ({BAD_MAX_CHILDREN}), consider raising it"));
        if chance(rng, 0.3) {
            log.push(warn_at + between(rng, 1_000, 20_000), WEB_HOST, "php-fpm8.2", Some(fpm_master), facility::DAEMON, severity::WARNING,
                format!("[WARNING] [pool www] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and {BAD_MAX_CHILDREN} total children"));
        }
        let mean_gap = (MS_PER_HOUR as f64 * 0.05 / share.max(0.01)).min(2.0 * MS_PER_HOUR as f64);
        warn_at += (mean_gap * rng.random_range(0.5..1.5)) as i64;
    }
    log
}
