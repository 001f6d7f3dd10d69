//! `quiet`: two ordinary days of a shop behind Apache — daily seasonality,
//! scattered 500s, a vulnerability scanner's burst of 404s at night, a
//! nightly log rotation that reloads Apache — and no incident at all. The
//! tool must report nothing here.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use rand::RngExt;
use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use super::purpose;
use crate::synth::catalog::{ClientKind, SCANNER_PATHS};
use crate::synth::clock::{MS_PER_MINUTE, Zone, days_from_civil, epoch_ms};
use crate::synth::events::{PidCounter, Syslog, SyslogFormat, facility, routine_noise, severity};
use crate::synth::population::{PopulationPlan, User, address_hash};
use crate::synth::render::AccessFormat;
use crate::synth::sampling::{between, chance, log_normal, pick};
use crate::synth::scenario::GeneratedScenario;
use crate::synth::traffic::{
    DiurnalShape, LatencyUnit, NoDisturbance, Request, RequestKind, ServerKind,
};

const NAME: &str = "quiet";
const SEED: u64 = 5;
const ZONE: Zone = Zone::from_hours_minutes(1, 0);
const FIRST_DAY: (i32, u32, u32) = (2024, 2, 13);
const LAST_DAY_AFTER: (i32, u32, u32) = (2024, 2, 15);
const HOST_NAME: &str = "www.example.org";
/// The scanner: where it comes from, what it claims to be, how long it runs.
const SCANNER_ADDRESS: [u8; 4] = [45, 148, 10, 86];
const SCANNER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36";
const SCANNER_REQUESTS: usize = 460;
const SCANNER_START: (u32, u32, u32) = (3, 12, 7);
const SCANNER_DURATION_MS: i64 = 4 * MS_PER_MINUTE;
/// Directory prefixes a scanner tries its paths under.
const SCANNER_PREFIXES: [&str; 8] = ["", "", "", "/wordpress", "/blog", "/old", "/backup", "/api"];

pub(super) fn generate() -> io::Result<GeneratedScenario> {
    let scenario = ScenarioBuilder::new(NAME, SEED, ZONE);
    let from_ms = epoch_ms(ZONE, FIRST_DAY, (0, 0, 0));
    let to_ms = epoch_ms(ZONE, LAST_DAY_AFTER, (0, 0, 0));
    let shop = Shop {
        host: HOST_NAME,
        from_ms,
        to_ms,
        shape: DiurnalShape {
            peak_rps: 0.82,
            trough_ratio: 0.12,
            peak_hour: 14.5,
        },
        latency_unit: LatencyUnit::Micros,
        server: ServerKind::Apache,
        backends: 1,
        crawl_sessions_per_hour: 5.0,
        people: PopulationPlan {
            people: 9_000,
            nat_share: 0.1,
            ipv6_share: 0.12,
            day: days_from_civil(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2),
        },
    };
    let mut traffic = scenario.simulate(&shop, &NoDisturbance);
    let scanner_start = epoch_ms(ZONE, (2024, 2, 14), SCANNER_START);
    let scanner = traffic.population.add_user(User {
        ip: IpAddr::V4(Ipv4Addr::from(SCANNER_ADDRESS)),
        user_agent: SCANNER_USER_AGENT.to_string(),
        kind: ClientKind::Crawler,
        protocol: "HTTP/1.1",
        weight: 0.0,
        address_hash: address_hash(IpAddr::V4(Ipv4Addr::from(SCANNER_ADDRESS))),
        forwarded_for: None,
        returning: false,
        crawler: None,
    });
    traffic.requests.extend(scanner_burst(
        scanner,
        scanner_start,
        &mut scenario.rng(purpose::EXTRA),
    ));
    traffic.requests.sort_by_key(Request::completion_us);

    let syslog = syslog(from_ms, to_ms, &mut scenario.rng(purpose::SYSLOG));
    let other_files = vec![scenario.syslog_file("syslog", &syslog, SyslogFormat::Rfc3164)?];
    let truth = Truth {
        incident: None,
        alerts: &[],
        notes: vec![
            "No incident: background 500s (about 0.2 % of requests) are scattered over both days."
                .into(),
            format!(
                "A scanner at {} sends {SCANNER_REQUESTS} requests in four minutes from 03:12:07 +01:00 on 2024-02-14, nearly all 404 (some 403): 4xx is never an incident.",
                Ipv4Addr::from(SCANNER_ADDRESS)
            ),
            "logrotate reloads Apache every night at 00:00 (syslog): a change with no effect."
                .into(),
            "The Apache combined layout has no request time, so nothing can be slow here.".into(),
        ],
    };
    scenario.build(
        &traffic,
        scenario.plain_access_log("access.log", AccessFormat::ApacheCombined),
        other_files,
        truth,
        WriteUp {
            title: "Two quiet days: seasonality, scattered 500s, a scanner's burst of 404s, no incident.",
            story: "The control sample. Two days (13–14 February 2024, +01:00) of an Apache-served \
                shop in the `combined` layout: traffic follows the day (a tenth of the peak at \
                night), about 0.2 % of dynamic requests get a 500 here and there, crawlers and an \
                uptime monitor come and go, and at 03:12 on the second night a scanner fires \
                hundreds of requests for `/.env`, `/wp-login.php` and friends in four minutes — \
                404s and 403s, which are the client's business. logrotate reloads Apache at \
                midnight without consequence. `expected/quiet.json` has `\"incidents\": []`."
            .into(),
        },
    )
}

/// The scanner's requests: a few hundred probes for well-known files.
fn scanner_burst(scanner: u32, start_ms: i64, rng: &mut Pcg64) -> Vec<Request> {
    let mut requests = Vec::with_capacity(SCANNER_REQUESTS);
    let spacing = SCANNER_DURATION_MS / SCANNER_REQUESTS as i64;
    for index in 0..SCANNER_REQUESTS {
        let arrival_ms = start_ms + index as i64 * spacing + between(rng, 0, spacing - 1);
        let path = if index == 0 {
            "/".to_string()
        } else {
            format!(
                "{}{}",
                pick(rng, &SCANNER_PREFIXES),
                pick(rng, &SCANNER_PATHS)
            )
        };
        let forbidden =
            path.contains("/.git") || path.ends_with("/server-status") || path.contains("/.ht");
        let (status, body_bytes) = match (index, forbidden) {
            (0, _) => (200, 23_871),
            (_, true) => (403, 199),
            _ if chance(rng, 0.01) => (400, 226),
            _ => (404, 196),
        };
        requests.push(Request {
            arrival_ms,
            latency_us: log_normal(rng, 420.0, 0.5) as u64,
            status,
            user: scanner,
            method: "GET",
            path,
            referer: None,
            body_bytes,
            request_length: 180,
            backend: 0,
            upstream: Vec::new(),
            request_id: rng.random(),
            kind: RequestKind::Scan,
        });
    }
    requests
}

/// The web server's syslog: routine noise plus the nightly rotation.
fn syslog(from_ms: i64, to_ms: i64, rng: &mut Pcg64) -> Syslog {
    let mut log = Syslog::default();
    let host = "www1";
    routine_noise(&mut log, &[host], from_ms, to_ms, rng);
    let mut pids = PidCounter::starting_at(310_000);
    let mut midnight = from_ms;
    while midnight < to_ms {
        let start = midnight + between(rng, 0, 900);
        log.push(
            start,
            host,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Starting logrotate.service - Rotate log files...",
        );
        log.push(
            start + 410,
            host,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloading apache2.service - The Apache HTTP Server...",
        );
        let reload = pids.next(rng);
        log.push(start + 470, host, "apachectl", Some(reload), facility::DAEMON, severity::INFO, "AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using 127.0.1.1. Set the 'ServerName' directive globally to suppress this message");
        log.push(
            start + 520,
            host,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Reloaded apache2.service - The Apache HTTP Server.",
        );
        log.push(
            start + 610,
            host,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "logrotate.service: Deactivated successfully.",
        );
        log.push(
            start + 620,
            host,
            "systemd",
            Some(1),
            facility::DAEMON,
            severity::INFO,
            "Finished logrotate.service - Rotate log files.",
        );
        midnight += 24 * 60 * MS_PER_MINUTE;
    }
    log
}
