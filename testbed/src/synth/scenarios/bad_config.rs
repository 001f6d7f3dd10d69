//! `bad-config` (seed 004): a rewrite rule added to Apache's vhost loops on
//! product and category pages; after the graceful reload at 15:29 those
//! requests get 500s (AH00124) until the change is reverted at 16:45. A
//! restart at 16:00 changes nothing (postmortem `004`: 75 % of users).

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::clock::{US_PER_MS, Zone, apache_error_time, days_from_civil, epoch_ms};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::expected::{Alert, InjectedIncident};
use crate::synth::population::{Population, PopulationPlan};
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, log_normal, pick};
use crate::synth::scenario::{GeneratedScenario, ScenarioFile};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, Request, RequestContext, ServerKind,
};

const NAME: &str = "bad-config";
const SEED: u64 = 4;
const ZONE: Zone = Zone::from_hours_minutes(1, 0);
const DATE: (i32, u32, u32) = (2022, 3, 27);
const HOST_NAME: &str = "shop.example.net";
const WEB_HOST: &str = "web1";
/// The new rewrite rule loops for every path under these prefixes.
const LOOPING_PREFIXES: [&str; 2] = ["/products/", "/category/"];
/// Apache prefork children serving requests (their pids appear in error_log).
const CHILD_PROCESSES: usize = 24;
const AH00124: &str = "AH00124: Request exceeded the limit of 10 internal redirects due to probable configuration error. Use 'LimitInternalRecursion' to increase the limit if necessary. Use 'LogLevel debug' to get a backtrace.";

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    edit: i64,
    reload: i64,
    impact_from: i64,
    restart: i64,
    restart_down_ms: i64,
    revert: i64,
    impact_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(11, 0, 0),
        log_to: at(20, 0, 0),
        edit: at(15, 24, 37),
        reload: at(15, 29, 52),
        impact_from: at(15, 30, 0),
        restart: at(16, 0, 7),
        restart_down_ms: 2_300,
        revert: at(16, 45, 9),
        impact_to: at(16, 45, 12),
    }
}

/// Whether the looping rewrite rule catches a path.
fn loops(path: &str) -> bool {
    LOOPING_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

struct BadRewrite<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for BadRewrite<'_> {
    fn reachable(&self, arrival_ms: i64) -> bool {
        let restart = self.timeline.restart;
        !(arrival_ms >= restart && arrival_ms < restart + self.timeline.restart_down_ms)
    }

    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, rng: &mut Pcg64) -> Outcome {
        let time = context.arrival_ms;
        if time < self.timeline.impact_from
            || time >= self.timeline.impact_to
            || !loops(&context.request.path)
        {
            return healthy;
        }
        // Ten internal redirects through mod_rewrite, then the 500 page.
        let latency_us =
            (log_normal(rng, 6.0, 0.5) * US_PER_MS as f64) as u64 + rng.random_range(0..1_000);
        Outcome {
            status: 500,
            latency_us,
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
            peak_rps: 1.55,
            trough_ratio: 0.2,
            peak_hour: 16.0,
        },
        latency_unit: LatencyUnit::Micros,
        server: ServerKind::Apache,
        backends: 1,
        crawl_sessions_per_hour: 7.0,
        people: PopulationPlan {
            people: 6_500,
            nat_share: 0.12,
            ipv6_share: 0.08,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &BadRewrite {
            timeline: &timeline,
        },
    );

    let error_log = error_log(
        &timeline,
        &traffic.requests,
        &traffic.population,
        &mut scenario.rng(purpose::EXTRA),
    );
    let (syslog, alerts) = syslog(&timeline, &mut scenario.rng(purpose::SYSLOG));
    let other_files = vec![
        ScenarioFile::new("error_log", "error", "Apache 2.4 error_log", error_log)?,
        scenario.syslog_file("syslog", &syslog, SyslogFormat::RsyslogPrecise)?,
    ];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests { from_ms: timeline.impact_from, to_ms: timeline.impact_to }),
        alerts: &alerts,
        notes: vec![
            "Apache prefork with mod_rewrite; the access log is in completion order, so %t (arrival) is not monotonic.".into(),
            "From 15:30 every request for a page under /products/ or /category/ loops in mod_rewrite and gets a 500 (AH00124 in error_log); the home page, search, cart, the app's API, the blog and static files work.".into(),
            "The restart at 16:00:07 leaves Apache unreachable for about 2 s (nothing logged) and changes nothing else.".into(),
            "The revert and graceful reload at 16:45:09-16:45:12 end the errors.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "Modelled on postmortem `004` (bad Apache configuration, 75 % of users, restart did not \
         help, revert did). A developer edits the shop's vhost at 15:24 and reloads Apache at \
         15:29:52 (`syslog`: sudo, `Reloading The Apache HTTP Server`; `error_log`: AH00171 \
         graceful restart). The new `RewriteRule` for \"pretty\" product and category URLs loops for every page \
         under `/products/` and `/category/`, so from 15:30 those requests get 500s and `error_log` fills with AH00124. Nagios alerts at \
         15:35:08. The on-call engineer restarts Apache at 16:00 (two seconds of nothing, then the \
         same 500s), looks at the database (`db1` in `syslog`), finds the change at 16:30 and \
         reverts it at 16:45. Access log: Apache `combined` + `%D`, in completion order."
    );
    scenario.build(
        &traffic,
        scenario.plain_access_log("access_log", AccessFormat::ApacheCombinedMicros),
        other_files,
        truth,
        WriteUp {
            title: "Bad Apache configuration: a rewrite loop gives most users 500s; a restart does not help, a revert does.",
            story,
        },
    )
}

/// Apache's error_log: start-up notices, the reloads, a line per 500.
fn error_log(
    timeline: &Timeline,
    requests: &[Request],
    population: &Population,
    rng: &mut Pcg64,
) -> Vec<u8> {
    let mut lines: Vec<(i64, String)> = Vec::new();
    let mut parent = 1_021_u32;
    let notice =
        |lines: &mut Vec<(i64, String)>, at_us: i64, module: &str, pid: u32, message: &str| {
            lines.push((
                at_us,
                format!(
                    "[{}] [{module}] [pid {pid}] {message}",
                    apache_error_time(at_us, ZONE)
                ),
            ));
        };
    let us = |ms: i64| ms * US_PER_MS as i64;
    notice(
        &mut lines,
        us(timeline.log_from - 3 * 3_600_000),
        "mpm_prefork:notice",
        parent,
        "AH00163: Apache/2.4.52 (Ubuntu) OpenSSL/3.0.2 configured -- resuming normal operations",
    );
    notice(
        &mut lines,
        us(timeline.log_from - 3 * 3_600_000) + 120,
        "core:notice",
        parent,
        "AH00094: Command line: '/usr/sbin/apache2'",
    );
    for (time, restart) in [
        (timeline.reload, false),
        (timeline.restart, true),
        (timeline.revert, false),
    ] {
        let at_us = us(time) + between(rng, 0, 999_999);
        if restart {
            notice(
                &mut lines,
                at_us,
                "mpm_prefork:notice",
                parent,
                "AH00169: caught SIGTERM, shutting down",
            );
            parent += 1_311;
            let started = at_us + us(timeline.restart_down_ms);
            notice(
                &mut lines,
                started,
                "mpm_prefork:notice",
                parent,
                "AH00163: Apache/2.4.52 (Ubuntu) OpenSSL/3.0.2 configured -- resuming normal operations",
            );
            notice(
                &mut lines,
                started + 95,
                "core:notice",
                parent,
                "AH00094: Command line: '/usr/sbin/apache2'",
            );
        } else {
            notice(
                &mut lines,
                at_us,
                "mpm_prefork:notice",
                parent,
                "AH00171: Graceful restart requested, doing restart",
            );
            notice(
                &mut lines,
                at_us + 41_000,
                "mpm_prefork:notice",
                parent,
                "AH00163: Apache/2.4.52 (Ubuntu) OpenSSL/3.0.2 configured -- resuming normal operations",
            );
            notice(
                &mut lines,
                at_us + 41_090,
                "core:notice",
                parent,
                "AH00094: Command line: '/usr/sbin/apache2'",
            );
        }
    }
    // Every reload replaces the children; the pid tells the generation.
    for request in requests.iter().filter(|request| request.status == 500) {
        let user = population.user(request.user);
        let at_us = request.completion_us();
        let generation = [timeline.reload, timeline.restart, timeline.revert]
            .iter()
            .filter(|&&time| us(time) <= at_us)
            .count() as u32;
        let pid = 1_180 + generation * 200 + rng.random_range(0..CHILD_PROCESSES as u32) * 3;
        let client = match user.ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => v6.to_string(),
        };
        let port = rng.random_range(32_768..61_000u32);
        let referer = request
            .referer
            .as_deref()
            .map_or_else(String::new, |referer| format!(", referer: {referer}"));
        let in_window =
            request.arrival_ms >= timeline.impact_from && request.arrival_ms < timeline.impact_to;
        let message = if in_window && loops(&request.path) {
            format!("[core:error] [pid {pid}] [client {client}:{port}] {AH00124}{referer}")
        } else {
            let cause = pick(
                rng,
                &[
                    "PHP Fatal error:  Uncaught PDOException: SQLSTATE[HY000] [2002] Connection timed out in /var/www/shop/src/Db.php:42",
                    "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/shop/src/Catalog/Search.php on line 118",
                    "PHP Fatal error:  Uncaught RedisException: read error on connection to 10.10.0.12:6379 in /var/www/shop/src/Session.php:77",
                ],
            );
            format!("[php:error] [pid {pid}] [client {client}:{port}] {cause}{referer}")
        };
        lines.push((
            at_us,
            format!("[{}] {message}", apache_error_time(at_us, ZONE)),
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

/// rsyslog on the log server: web1, db1 and mon1, with the alert lines.
fn syslog(timeline: &Timeline, rng: &mut Pcg64) -> (Syslog, Vec<Alert>) {
    let mut log = Syslog::default();
    routine_noise(
        &mut log,
        &[WEB_HOST, "db1", "mon1"],
        timeline.log_from,
        timeline.log_to,
        rng,
    );
    let mut pids = PidCounter::starting_at(51_000);
    let sudo = |log: &mut Syslog, time: i64, host: &str, pid: u32, command: &str| {
        log.push(
            time,
            host,
            "sudo",
            Some(pid),
            facility::AUTHPRIV,
            severity::NOTICE,
            format!("    dev : TTY=pts/1 ; PWD=/etc/apache2 ; USER=root ; COMMAND={command}"),
        );
    };
    let systemd = |log: &mut Syslog, time: i64, message: &str| {
        log.push(
            time,
            WEB_HOST,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            message,
        );
    };
    sudo(
        &mut log,
        timeline.edit,
        WEB_HOST,
        pids.next(rng),
        "/usr/bin/vim /etc/apache2/sites-available/shop.conf",
    );
    sudo(
        &mut log,
        timeline.reload - 2_600,
        WEB_HOST,
        pids.next(rng),
        "/usr/sbin/apachectl configtest",
    );
    sudo(
        &mut log,
        timeline.reload - 400,
        WEB_HOST,
        pids.next(rng),
        "/usr/bin/systemctl reload apache2",
    );
    systemd(
        &mut log,
        timeline.reload,
        "Reloading The Apache HTTP Server...",
    );
    systemd(
        &mut log,
        timeline.reload + 118,
        "Reloaded The Apache HTTP Server.",
    );
    // The restart that changes nothing.
    sudo(
        &mut log,
        timeline.restart - 350,
        WEB_HOST,
        pids.next(rng),
        "/usr/bin/systemctl restart apache2",
    );
    systemd(
        &mut log,
        timeline.restart,
        "Stopping The Apache HTTP Server...",
    );
    systemd(
        &mut log,
        timeline.restart + 1_150,
        "apache2.service: Deactivated successfully.",
    );
    systemd(
        &mut log,
        timeline.restart + 1_160,
        "Stopped The Apache HTTP Server.",
    );
    systemd(
        &mut log,
        timeline.restart + 1_170,
        "Starting The Apache HTTP Server...",
    );
    systemd(
        &mut log,
        timeline.restart + timeline.restart_down_ms,
        "Started The Apache HTTP Server.",
    );
    // The misleading path: the database.
    let dba = |log: &mut Syslog, time: i64, pid: u32, command: &str| {
        log.push(
            time,
            "db1",
            "sudo",
            Some(pid),
            facility::AUTHPRIV,
            severity::NOTICE,
            format!("  oncall : TTY=pts/0 ; PWD=/home/oncall ; USER=root ; COMMAND={command}"),
        );
    };
    dba(
        &mut log,
        at(16, 15, 41),
        pids.next(rng),
        "/usr/bin/systemctl status mysql",
    );
    dba(
        &mut log,
        at(16, 17, 3),
        pids.next(rng),
        "/usr/bin/mysqladmin processlist",
    );
    dba(
        &mut log,
        at(16, 21, 56),
        pids.next(rng),
        "/usr/bin/tail -n 200 /var/log/mysql/error.log",
    );
    // Finding and reverting the change.
    log.push(at(16, 30, 22), WEB_HOST, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
        "  oncall : TTY=pts/2 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/git -C /etc/apache2 log -p -1 sites-available/shop.conf");
    log.push(timeline.revert - 21_000, WEB_HOST, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
        "  oncall : TTY=pts/2 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/git -C /etc/apache2 checkout HEAD~1 -- sites-available/shop.conf");
    log.push(timeline.revert - 350, WEB_HOST, "sudo", Some(pids.next(rng)), facility::AUTHPRIV, severity::NOTICE,
        "  oncall : TTY=pts/2 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/systemctl reload apache2");
    systemd(
        &mut log,
        timeline.revert,
        "Reloading The Apache HTTP Server...",
    );
    systemd(
        &mut log,
        timeline.revert + 121,
        "Reloaded The Apache HTTP Server.",
    );
    // Nagios checks /products/featured every minute; three failures make it HARD.
    let mut alerts = Vec::new();
    let checks = [
        (
            at(15, 35, 8),
            "CRITICAL",
            "HTTP CRITICAL: HTTP/1.1 500 Internal Server Error - 607 bytes in 0.012 second response time",
        ),
        (
            at(16, 47, 8),
            "OK",
            "HTTP OK: HTTP/1.1 200 OK - 24517 bytes in 0.071 second response time",
        ),
    ];
    for (time, state, output) in checks {
        let message = format!("SERVICE ALERT: {WEB_HOST};HTTP shop;{state};HARD;3;{output}");
        log.push(
            time,
            "mon1",
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
        log.push(time + 4, "mon1", "nagios", None, facility::DAEMON, severity::INFO,
            format!("SERVICE NOTIFICATION: oncall;{WEB_HOST};HTTP shop;{state};notify-service-by-email;{output}"));
        if state == "CRITICAL" {
            alerts.push(Alert {
                at_ms: time,
                evidence: format!("nagios: {message}"),
            });
        }
    }
    (log, alerts)
}
