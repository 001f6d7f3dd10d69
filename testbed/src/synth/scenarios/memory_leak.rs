//! `memory-leak` (seed 003): a server update on three of five app backends
//! makes them leak memory; from 14:00 the users pinned to them get timeouts,
//! 5xx and very slow pages until the settings are reverted at 16:59
//! (postmortem `003`: 3 hours, about 60 % of users, detected after 15 minutes).

use std::fmt::Write as _;
use std::io;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::clock::{MS_PER_MINUTE, MS_PER_SECOND, US_PER_MS, Zone, epoch_ms, plain_local};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::{Alert, InjectedIncident};
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, chance, log_normal};
use crate::synth::scenario::{GeneratedScenario, ScenarioFile};
use crate::synth::traffic::{
    BASELINE_LATENCY_CAP_US, Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext,
    ServerKind,
};

const NAME: &str = "memory-leak";
const SEED: u64 = 3;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2023, 11, 12);
const HOST_NAME: &str = "shop.example.com";
/// The app backends behind the nginx balancer `lb01`, by backend index.
const BACKEND_HOSTS: [&str; 5] = ["web01", "web02", "web03", "web04", "web05"];
/// Backends that received the bad update (web02, web03, web04).
const LEAKING_BACKENDS: [usize; 3] = [1, 2, 3];
/// Leak rate of each leaking backend, bytes per second.
const LEAK_BYTES_PER_SECOND: [f64; 3] = [2.45e6, 2.3e6, 2.15e6];
/// Physical memory of a backend and where the OOM killer strikes.
const MEMORY_TOTAL_BYTES: f64 = 8.0 * GIB;
const OOM_LIMIT_BYTES: f64 = 7.72 * GIB;
/// Resident memory of a freshly started app, and of a healthy one.
const APP_START_BYTES: f64 = 1.35 * GIB;
const HEALTHY_BYTES: f64 = 2.1 * GIB;
const GIB: f64 = 1_073_741_824.0;
/// The app is down this long after an OOM kill (restart delay + warm-up).
const OOM_DOWNTIME_MS: (i64, i64) = (18_000, 32_000);
/// Probability that a request on a leaking backend goes wrong, at the
/// bottom and top of the memory climb; the 16:30 restart scales it.
const BAD_PROBABILITY_EMPTY: f64 = 0.55;
const BAD_PROBABILITY_FULL: f64 = 0.8;
const AFTER_RESTART_FACTOR: f64 = 0.6;
/// Metrics export step.
const METRICS_STEP_MS: i64 = 15 * MS_PER_SECOND;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

/// When things happen in this story.
struct Timeline {
    log_from: i64,
    log_to: i64,
    /// The update on each leaking backend (staggered).
    updated: [i64; 3],
    impact_from: i64,
    /// The operators' restart of the three apps, staggered.
    restart: [i64; 3],
    /// The revert of the settings and final restart, staggered; the last
    /// app is back at `impact_to`.
    fix: [i64; 3],
    impact_to: i64,
    /// Per leaking backend: OOM kill instants and how long the app was down.
    oom_kills: [Vec<(i64, i64)>; 3],
}

impl Timeline {
    fn build(rng: &mut Pcg64) -> Timeline {
        let updated = [at(13, 20, 11), at(13, 20, 48), at(13, 21, 27)];
        let restart = [at(16, 30, 10), at(16, 30, 41), at(16, 31, 15)];
        let fix = [at(16, 59, 18), at(16, 59, 26), at(16, 59, 31)];
        let mut oom_kills: [Vec<(i64, i64)>; 3] = Default::default();
        for (slot, kills) in oom_kills.iter_mut().enumerate() {
            let fill_ms = ((OOM_LIMIT_BYTES - APP_START_BYTES) / LEAK_BYTES_PER_SECOND[slot]
                * 1_000.0) as i64;
            let mut reset = updated[slot];
            loop {
                let kill = reset + fill_ms;
                if kill >= restart[slot] {
                    break;
                }
                let down = between(rng, OOM_DOWNTIME_MS.0, OOM_DOWNTIME_MS.1);
                kills.push((kill, down));
                reset = kill + down;
            }
        }
        Timeline {
            log_from: at(11, 0, 0),
            log_to: at(19, 0, 0),
            updated,
            impact_from: at(14, 0, 0),
            restart,
            fix,
            impact_to: at(16, 59, 40),
            oom_kills,
        }
    }

    /// When the reverted app on a leaking backend is serving again; the
    /// last one is back at `impact_to`.
    fn fix_back(&self, slot: usize) -> i64 {
        self.impact_to - (2 - slot as i64) * 2_000
    }

    /// Resident memory of the app on a leaking backend at `time`.
    fn leaking_memory(&self, slot: usize, time: i64) -> f64 {
        if time < self.updated[slot] || time >= self.fix_back(slot) {
            return HEALTHY_BYTES;
        }
        let mut reset = self.updated[slot];
        for &(kill, down) in &self.oom_kills[slot] {
            if time >= kill {
                reset = kill + down;
            }
        }
        if time >= self.restart[slot] {
            reset = self.restart[slot] + app_boot_ms(slot);
        }
        if time < reset {
            return 0.0;
        }
        APP_START_BYTES + LEAK_BYTES_PER_SECOND[slot] * (time - reset) as f64 / 1_000.0
    }

    /// Whether the app on a leaking backend is down (not accepting) at `time`.
    fn app_down(&self, slot: usize, time: i64) -> bool {
        let down_after = |from: i64, length: i64| time >= from && time < from + length;
        self.oom_kills[slot]
            .iter()
            .any(|&(kill, down)| down_after(kill, down))
            || down_after(self.restart[slot], app_boot_ms(slot))
            || down_after(self.fix[slot], self.fix_back(slot) - self.fix[slot])
    }
}

/// How long the app takes to come back after an operator's restart.
fn app_boot_ms(slot: usize) -> i64 {
    [11_000, 13_000, 12_000][slot]
}

struct MemoryLeak<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for MemoryLeak<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        let time = context.arrival_ms;
        let Some(slot) = LEAKING_BACKENDS.iter().position(|&b| b == context.backend) else {
            return healthy;
        };
        if time < self.timeline.impact_from
            || time >= self.timeline.fix_back(slot)
            || !context.request.kind.is_dynamic()
        {
            return healthy;
        }
        if self.timeline.app_down(slot, time) {
            // nginx: connect() failed (111: Connection refused).
            return Outcome {
                status: 502,
                latency_us: rng.random_range(0..4) * US_PER_MS,
                upstream: Vec::new(),
            };
        }
        let fill = ((self.timeline.leaking_memory(slot, time) - APP_START_BYTES)
            / (OOM_LIMIT_BYTES - APP_START_BYTES))
            .clamp(0.0, 1.0);
        let mut probability =
            BAD_PROBABILITY_EMPTY + (BAD_PROBABILITY_FULL - BAD_PROBABILITY_EMPTY) * fill;
        if time >= self.timeline.restart[slot] {
            probability *= AFTER_RESTART_FACTOR;
        }
        if !chance(rng, probability) {
            // Served, but the app is sluggish.
            let latency_us = ((healthy.latency_us as f64) * 1.5) as u64;
            return Outcome {
                latency_us: latency_us.min(BASELINE_LATENCY_CAP_US),
                ..healthy
            };
        }
        let (status, latency_ms) = match rng.random_range(0..100u32) {
            // Very slow but served (GC thrashing, swapping).
            0..=39 => (healthy.status, log_uniform(rng, 2_000.0, 10_000.0)),
            // proxy_read_timeout 60s, unless the visitor gives up first.
            40..=69 if chance(rng, 0.35) => (499, log_uniform(rng, 8_000.0, 45_000.0)),
            40..=69 => (504, 60_000.0 + log_normal(rng, 3.0, 0.5)),
            // The worker died mid-request: upstream prematurely closed connection.
            70..=87 => (502, log_uniform(rng, 300.0, 20_000.0)),
            // The app sheds load.
            _ => (503, log_normal(rng, 9.0, 0.6)),
        };
        Outcome {
            status,
            latency_us: (latency_ms * US_PER_MS as f64) as u64,
            upstream: Vec::new(),
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
    let timeline = Timeline::build(&mut scenario.rng(purpose::EXTRA));
    let shop = Shop {
        host: HOST_NAME,
        from_ms: timeline.log_from,
        to_ms: timeline.log_to,
        shape: DiurnalShape {
            peak_rps: 2.15,
            trough_ratio: 0.25,
            peak_hour: 15.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: BACKEND_HOSTS.len(),
        crawl_sessions_per_hour: 9.0,
        people: PopulationPlan {
            people: 7_000,
            nat_share: 0.12,
            ipv6_share: 0.1,
            day: crate::synth::clock::days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let disturbance = MemoryLeak {
        timeline: &timeline,
    };
    let traffic = scenario.simulate(&shop, &disturbance);

    let (syslog, alerts) = syslog(&timeline, &mut scenario.rng(purpose::SYSLOG));
    let metrics = metrics_csv(&timeline, &mut scenario.rng(purpose::METRICS));

    let other_files = vec![
        scenario.syslog_file("syslog", &syslog, SyslogFormat::Rfc3164)?,
        ScenarioFile::new(
            "metrics.csv",
            "metrics",
            "Grafana CSV export (wide, 15 s)",
            metrics,
        )?,
    ];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests { from_ms: timeline.impact_from, to_ms: timeline.impact_to }),
        alerts: &alerts,
        notes: vec![
            "Five backends behind nginx (hash $remote_addr): users are pinned to one. The update at 13:20 went to web02, web03 and web04.".into(),
            "Memory climbs from 13:20 on the leaking hosts (metrics.csv, 'GC overhead' warnings in syslog); users are hurt from 14:00.".into(),
            "On the leaking backends, 55-80 % of dynamic requests go wrong (slow 200s of 2-10 s, 504 after 60 s, 499, 502, 503); 502s while an OOM-killed app restarts.".into(),
            "The 16:30 restart cuts the failure rate (not to zero); the revert at 16:59 ends it.".into(),
            "Static files are served by nginx itself and never fail.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `003` (memory leak after a server update; 14:00–17:00 GMT, \
         about 60 % of users, detected at 14:15). nginx on `lb01` balances five app backends \
         `web01`–`web05` with `hash $remote_addr`, so every user is pinned to one. At 13:20 an \
         update with broken memory settings reaches `web02`, `web03` and `web04`; their memory \
         climbs (`metrics.csv`), the kernel OOM-kills the app every ~45 minutes (`syslog`), and \
         from 14:00 the users pinned to them get very slow pages (2–10 s), 504s after 60 s, 499s, \
         502s and 503s on about two thirds of their requests. Nagios raises the first HARD \
         CRITICAL for `web02` at 14:15:04. A restart at 16:30 helps only partly; reverting the \
         settings at 16:59 ends it. Static files come from nginx itself and never fail."
    );
    scenario.build(
        &traffic,
        scenario.plain_access_log("access.log", AccessFormat::NginxCombinedRequestTime),
        other_files,
        truth,
        WriteUp {
            title: "Memory leak after a server update: timeouts and 5xx for the users of three of five backends.",
            story,
        },
    )
}

/// The hosts' syslog (collected on one log server) and its alert lines.
fn syslog(timeline: &Timeline, rng: &mut Pcg64) -> (Syslog, Vec<Alert>) {
    let mut log = Syslog::default();
    let hosts = ["lb01", "web01", "web02", "web03", "web04", "web05", "mon01"];
    routine_noise(&mut log, &hosts, timeline.log_from, timeline.log_to, rng);
    let mut alerts = Vec::new();
    // Uptime of the backends (for kernel timestamps): booted ten days earlier.
    let boot = at(0, 0, 0) - 10 * 86_400 * MS_PER_SECOND + 4 * 3_600_000;
    for (slot, &backend) in LEAKING_BACKENDS.iter().enumerate() {
        let host = BACKEND_HOSTS[backend];
        let mut pids = PidCounter::starting_at(60_000 + slot as u32 * 3_000);
        let systemd = |log: &mut Syslog, time: i64, message: &str| {
            log.push(
                time,
                host,
                "systemd",
                Some(1),
                facility::DAEMON,
                severity::INFO,
                message,
            );
        };
        // The app's process id over the day: a new one at each (re)start.
        let update = timeline.updated[slot];
        let mut starts: Vec<i64> = vec![update];
        starts.extend(
            timeline.oom_kills[slot]
                .iter()
                .map(|&(kill, _)| kill + 5_060),
        );
        starts.push(timeline.restart[slot] + 1_300);
        starts.push(timeline.fix[slot] + 1_300);
        let app_pids: Vec<(i64, u32)> = starts.iter().map(|&time| (time, pids.next(rng))).collect();
        let pid_at = |time: i64| {
            app_pids
                .iter()
                .take_while(|&&(from, _)| from <= time)
                .last()
                .map_or(31_877, |&(_, pid)| pid)
        };
        // The update.
        let updater = pids.next(rng);
        systemd(
            &mut log,
            update - 2_400,
            "Starting app-update.service - Apply application update...",
        );
        log.push(
            update - 2_100,
            host,
            "app-update",
            Some(updater),
            facility::DAEMON,
            severity::INFO,
            "Installing shop-app 2023.11.3 (was 2023.11.2)",
        );
        log.push(update - 900, host, "app-update", Some(updater), facility::DAEMON, severity::NOTICE,
            "Updated /etc/shop-app/app.conf: heap_max=unlimited, cache_eviction=off, worker_recycle=0");
        systemd(
            &mut log,
            update - 600,
            "Stopping app.service - Shop application server...",
        );
        systemd(
            &mut log,
            update - 250,
            "app.service: Deactivated successfully.",
        );
        systemd(
            &mut log,
            update,
            "Started app.service - Shop application server.",
        );
        systemd(
            &mut log,
            update + 150,
            "app-update.service: Deactivated successfully.",
        );
        systemd(
            &mut log,
            update + 160,
            "Finished app-update.service - Apply application update.",
        );
        // GC warnings as memory fills up.
        let mut warn_at = update + 20 * MS_PER_MINUTE + between(rng, 0, 60_000);
        while warn_at < timeline.fix[slot] {
            let used = timeline.leaking_memory(slot, warn_at);
            if used > 0.62 * OOM_LIMIT_BYTES && !timeline.app_down(slot, warn_at) {
                let overhead =
                    20.0 + 70.0 * ((used - 0.62 * OOM_LIMIT_BYTES) / (0.38 * OOM_LIMIT_BYTES));
                log.push(
                    warn_at,
                    host,
                    "app",
                    Some(pid_at(warn_at)),
                    facility::USER,
                    severity::WARNING,
                    format!(
                        "WARN gc: GC overhead {overhead:.0}% over the last 60s, heap {:.1}G/{:.1}G",
                        used / GIB,
                        OOM_LIMIT_BYTES / GIB
                    ),
                );
            }
            warn_at += between(rng, 90_000, 240_000);
        }
        // OOM kills and systemd's restarts.
        for (count, &(kill, down)) in timeline.oom_kills[slot].iter().enumerate() {
            let uptime_us = (kill - boot) * 1_000 + between(rng, 0, 999);
            let uptime = |offset_us: i64| {
                let at_us = uptime_us + offset_us;
                format!("[{:>6}.{:06}]", at_us / 1_000_000, at_us % 1_000_000)
            };
            let rss_kb = (OOM_LIMIT_BYTES / 1024.0) as u64 - between(rng, 0, 40_000) as u64;
            log.push(kill - 40, host, "kernel", None, facility::KERNEL, severity::WARNING,
                format!("{} app invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0", uptime(-40_118)));
            log.push(kill, host, "kernel", None, facility::KERNEL, severity::ERROR,
                format!("{} Out of memory: Killed process {} (app) total-vm:{}kB, anon-rss:{rss_kb}kB, file-rss:0kB, shmem-rss:0kB, UID:998 pgtables:{}kB oom_score_adj:0",
                    uptime(0), pid_at(kill - 1), rss_kb + 1_480_312, rss_kb / 512));
            systemd(
                &mut log,
                kill + 30,
                "app.service: A process of this unit has been killed by the OOM killer.",
            );
            systemd(
                &mut log,
                kill + 35,
                "app.service: Main process exited, code=killed, status=9/KILL",
            );
            systemd(
                &mut log,
                kill + 36,
                "app.service: Failed with result 'oom-kill'.",
            );
            systemd(
                &mut log,
                kill + 5_040,
                &format!(
                    "app.service: Scheduled restart job, restart counter is at {}.",
                    count + 1
                ),
            );
            systemd(
                &mut log,
                kill + 5_050,
                "Stopped app.service - Shop application server.",
            );
            systemd(
                &mut log,
                kill + 5_060,
                "Started app.service - Shop application server.",
            );
            log.push(
                kill + down,
                host,
                "app",
                Some(pid_at(kill + down)),
                facility::USER,
                severity::INFO,
                "INFO server: listening on 0.0.0.0:8080 (workers=16)",
            );
        }
        // The operators' restart at 16:30 and the revert at 16:59.
        for (time, reason) in [
            (timeline.restart[slot], "restart"),
            (timeline.fix[slot], "revert"),
        ] {
            if reason == "revert" {
                log.push(time - 20_000, host, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
                    "     ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/cp /etc/shop-app/app.conf.2023.11.2 /etc/shop-app/app.conf");
            }
            log.push(time - 300, host, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
                "     ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/systemctl restart app.service");
            systemd(
                &mut log,
                time,
                "Stopping app.service - Shop application server...",
            );
            systemd(
                &mut log,
                time + 1_200,
                "app.service: Deactivated successfully.",
            );
            systemd(
                &mut log,
                time + 1_300,
                "Started app.service - Shop application server.",
            );
            let back = if reason == "revert" {
                timeline.fix_back(slot)
            } else {
                time + app_boot_ms(slot)
            };
            log.push(
                back,
                host,
                "app",
                Some(pid_at(back)),
                facility::USER,
                severity::INFO,
                "INFO server: listening on 0.0.0.0:8080 (workers=16)",
            );
        }
    }
    // Nagios on mon01: HARD states only (max_check_attempts 3).
    let critical_timeout = "CRITICAL - Socket timeout after 10 seconds";
    let nagios_events: [(i64, &str, &str, &str); 8] = [
        (at(14, 15, 4), "web02", "CRITICAL", critical_timeout),
        (at(14, 17, 34), "web03", "CRITICAL", critical_timeout),
        (
            at(14, 21, 4),
            "web04",
            "CRITICAL",
            "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 2210 bytes in 0.011 second response time",
        ),
        (
            at(16, 31, 34),
            "web03",
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 24612 bytes in 0.412 second response time",
        ),
        (at(16, 44, 34), "web03", "CRITICAL", critical_timeout),
        (
            at(17, 0, 4),
            "web02",
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 24530 bytes in 0.061 second response time",
        ),
        (
            at(17, 0, 34),
            "web04",
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 24498 bytes in 0.058 second response time",
        ),
        (
            at(17, 1, 4),
            "web03",
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 24611 bytes in 0.055 second response time",
        ),
    ];
    for (time, host, state, output) in nagios_events {
        let message = format!("SERVICE ALERT: {host};HTTP;{state};HARD;3;{output}");
        log.push(
            time,
            "mon01",
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
        let notification_type = if state == "OK" { "RECOVERY" } else { "PROBLEM" };
        log.push(time, "mon01", "nagios", None, facility::DAEMON, severity::INFO,
            format!("SERVICE NOTIFICATION: oncall;{host};HTTP;{state};notify-service-by-email;{output} ({notification_type})"));
        if state == "CRITICAL" {
            alerts.push(Alert {
                at_ms: time,
                evidence: format!("nagios: {message}"),
            });
        }
    }
    let mut hour = timeline.log_from + 47 * MS_PER_MINUTE;
    while hour < timeline.log_to {
        log.push(
            hour + between(rng, 0, 900),
            "mon01",
            "nagios",
            None,
            facility::DAEMON,
            severity::INFO,
            "Auto-save of retention data completed successfully.",
        );
        hour += 60 * MS_PER_MINUTE;
    }
    (log, alerts)
}

/// Memory of the five backends, as Grafana exports a panel to CSV.
fn metrics_csv(timeline: &Timeline, rng: &mut Pcg64) -> Vec<u8> {
    let mut out = String::from("\"Time\"");
    for host in BACKEND_HOSTS {
        let _ = write!(out, ",\"{host} memory_used_bytes\"");
    }
    out.push('\n');
    let mut time = timeline.log_from;
    let mut drift = [0.0_f64; 5];
    while time <= timeline.log_to {
        let _ = write!(out, "{}", plain_local(time / MS_PER_SECOND, ZONE));
        for (backend, wander) in drift.iter_mut().enumerate() {
            *wander = (*wander + rng.random_range(-6.0e6..6.0e6)).clamp(-1.2e8, 1.2e8);
            let system = 0.55 * GIB + *wander;
            let app = match LEAKING_BACKENDS.iter().position(|&b| b == backend) {
                Some(slot) => timeline.leaking_memory(slot, time),
                None => HEALTHY_BYTES + 0.04 * GIB * backend as f64,
            };
            let used = (system + app).min(MEMORY_TOTAL_BYTES - 0.05 * GIB);
            let _ = write!(out, ",{}", used.round() as u64);
        }
        out.push('\n');
        time += METRICS_STEP_MS;
    }
    out.into_bytes()
}
