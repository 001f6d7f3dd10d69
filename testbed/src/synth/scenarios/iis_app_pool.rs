//! `iis-app-pool`: an IIS server runs the shop in site `W3SVC1`, whose
//! application pool `ShopPool` starts crashing after a deployment. Each
//! crash orphans the requests the worker process held (HTTP.sys logs them
//! as `Connection_Abandoned_By_AppPool`, without a status); after the
//! crashes in a row, rapid-fail protection takes the pool offline and
//! HTTP.sys answers every request of the site itself with a 503
//! (`AppOffline`) until an administrator starts the pool again.
//!
//! Those 503s are not in the site's W3C log, which keeps only what the
//! worker process answered (its 200s): they are in HTTP.sys's error log
//! (`HTTPERR/httperr1.log`). Read together the two logs are the site's one
//! stream of requests; the error log also holds the idle connections
//! HTTP.sys closed (`Timer_ConnectionIdle`, no request). Both logs are
//! UTC and written with CRLF, as Windows writes them.

use std::fmt::Write as _;
use std::io;

use rand_pcg::Pcg64;

use super::builder::{ScenarioBuilder, Shop, Truth, WriteUp};
use crate::synth::clock::{MS_PER_SECOND, Zone, days_from_civil, epoch_ms};
use crate::synth::expected::InjectedIncident;
use crate::synth::population::PopulationPlan;
use crate::synth::render::AccessFormat;
use crate::synth::render_lb::{
    HTTPERR_FIELDS, IIS_APP_POOL, IIS_FIELDS, IIS_SITE, render_httperr, render_httperr_idle,
    render_iis, w3c_header,
};
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario, ScenarioFile};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Outcome, RequestContext, ServerKind,
};
use crate::synth::truth::{ObservedRequest, observe};

const NAME: &str = "iis-app-pool";
const SEED: u64 = 16;
const ZONE: Zone = Zone::UTC;
const DATE: (i32, u32, u32) = (2024, 3, 12);
const HOST_NAME: &str = "shop.example.org";
/// IIS's W3C log and HTTP.sys's error log, in their folders below
/// `%SystemDrive%\inetpub\logs\LogFiles` and `System32\LogFiles`.
const W3C_LOG: &str = "W3SVC1/u_ex240312.log";
const HTTPERR_LOG: &str = "HTTPERR/httperr1.log";
const IIS_SOFTWARE: &str = "Microsoft Internet Information Services 10.0";
const HTTP_SYS_SOFTWARE: &str = "Microsoft HTTP API 2.0";
/// HTTP.sys closes a keep-alive connection idle this long (its
/// `IdleConnectionTimeout` default, 120 s) and logs `Timer_ConnectionIdle`.
const IDLE_TIMEOUT_MS: i64 = 120_000;
/// One request in this many leaves a keep-alive connection idle until
/// HTTP.sys closes it.
const IDLE_CONNECTION_EVERY: u128 = 97;

fn at(hour: u32, minute: u32, second: u32) -> i64 {
    epoch_ms(ZONE, DATE, (hour, minute, second))
}

struct Timeline {
    log_from: i64,
    log_to: i64,
    /// The first crash of the pool's worker process.
    crashing_from: i64,
    /// Rapid-fail protection takes the pool offline.
    offline_from: i64,
    /// An administrator starts the pool again.
    offline_to: i64,
}

fn timeline() -> Timeline {
    Timeline {
        log_from: at(8, 0, 0),
        log_to: at(12, 30, 0),
        crashing_from: at(10, 13, 51),
        offline_from: at(10, 15, 2),
        offline_to: at(10, 55, 12),
    }
}

/// How HTTP.sys treats a request arriving at `time`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PoolState {
    Serving,
    /// The worker crashes with the request: orphaned, no status.
    Crashing,
    /// The pool is offline: HTTP.sys's own 503.
    Offline,
}

impl Timeline {
    fn state(&self, time: i64) -> PoolState {
        if time >= self.offline_from && time < self.offline_to {
            PoolState::Offline
        } else if time >= self.crashing_from && time < self.offline_from {
            PoolState::Crashing
        } else {
            PoolState::Serving
        }
    }
}

struct CrashingPool<'a> {
    timeline: &'a Timeline,
}

impl Disturbance for CrashingPool<'_> {
    fn outcome(&self, context: &RequestContext<'_>, healthy: Outcome, _rng: &mut Pcg64) -> Outcome {
        match self.timeline.state(context.arrival_ms) {
            PoolState::Serving => healthy,
            // HTTP.sys answers (or gives up on the request) at once.
            PoolState::Crashing | PoolState::Offline => Outcome {
                status: 503,
                latency_us: 0,
                upstream: Vec::new(),
            },
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
            trough_ratio: 0.3,
            peak_hour: 11.0,
        },
        latency_unit: LatencyUnit::Millis,
        server: ServerKind::Nginx,
        backends: 1,
        crawl_sessions_per_hour: 5.0,
        people: PopulationPlan {
            people: 3_500,
            nat_share: 0.1,
            ipv6_share: 0.1,
            day: days_from_civil(DATE.0, DATE.1, DATE.2),
        },
    };
    let traffic = scenario.simulate(
        &shop,
        &CrashingPool {
            timeline: &timeline,
        },
    );
    let setup = AccessLogSetup::plain(AccessFormat::Iis, ZONE);
    let mut w3c = Vec::with_capacity(traffic.requests.len() * 200);
    w3c_header(
        IIS_SOFTWARE,
        IIS_FIELDS,
        timeline.log_from / MS_PER_SECOND,
        &mut w3c,
    );
    // HTTP.sys writes its lines in time order; a closed idle connection
    // is written two minutes after its last request.
    let mut http_sys_lines: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut observed = Vec::with_capacity(traffic.requests.len());
    for request in &traffic.requests {
        let line = setup.line_fields(request, &traffic.population);
        let user = traffic.population.user(request.user);
        match timeline.state(request.arrival_ms) {
            PoolState::Serving => {
                render_iis(&line, &mut w3c);
                let (arrival_ms, latency_us) =
                    observe(AccessFormat::Iis, request.arrival_ms, request.latency_us);
                observed.push(ObservedRequest {
                    arrival_ms,
                    status: request.status,
                    latency_us,
                    ip: user.ip,
                    user_agent: &user.user_agent,
                });
                if request.request_id.is_multiple_of(IDLE_CONNECTION_EVERY) {
                    let closed = request.arrival_ms + IDLE_TIMEOUT_MS;
                    let mut text = Vec::new();
                    let port = 1_024 + (request.request_id % 60_000) as u32;
                    render_httperr_idle(
                        closed.div_euclid(MS_PER_SECOND),
                        &user.ip.to_string(),
                        port,
                        &mut text,
                    );
                    http_sys_lines.push((closed, text));
                }
            }
            PoolState::Crashing => {
                let mut text = Vec::new();
                render_httperr(&line, None, "Connection_Abandoned_By_AppPool", &mut text);
                http_sys_lines.push((request.arrival_ms, text));
            }
            PoolState::Offline => {
                let mut text = Vec::new();
                render_httperr(&line, Some(request.status), "AppOffline", &mut text);
                http_sys_lines.push((request.arrival_ms, text));
                // The logged second, no request time, no user agent.
                observed.push(ObservedRequest {
                    arrival_ms: request.arrival_ms.div_euclid(MS_PER_SECOND) * MS_PER_SECOND,
                    status: request.status,
                    latency_us: None,
                    ip: user.ip,
                    user_agent: "",
                });
            }
        }
    }
    http_sys_lines.sort_by_key(|(time, _)| *time);
    let mut httperr = Vec::new();
    let first_error = http_sys_lines
        .first()
        .map_or(timeline.log_from, |(time, _)| *time);
    w3c_header(
        HTTP_SYS_SOFTWARE,
        HTTPERR_FIELDS,
        first_error / MS_PER_SECOND,
        &mut httperr,
    );
    for (_, text) in http_sys_lines {
        httperr.extend(text);
    }
    let access_files = vec![
        ScenarioFile::new(W3C_LOG, "access", AccessFormat::Iis.name(), w3c)?,
        ScenarioFile::new(HTTPERR_LOG, "access", AccessFormat::Iis.name(), httperr)?,
    ];
    let truth = Truth {
        incident: Some(InjectedIncident::BadRequests {
            from_ms: timeline.crashing_from,
            to_ms: timeline.offline_to,
        }),
        alerts: &[],
        notes: vec![
            format!("The worker process of application pool {IIS_APP_POOL} crashes with every request from 10:13:51 UTC: HTTP.sys logs those requests as Connection_Abandoned_By_AppPool without a status (not requests a tool can count: left out of the truth)."),
            format!("From 10:15:02 rapid-fail protection holds the pool offline: HTTP.sys answers every request of site {IIS_SITE} with its own 503 (s-reason AppOffline) until the pool is started at 10:55:12."),
            "The W3C log holds what the worker answered (written at completion, time-taken in ms); the 503s are only in HTTPERR/httperr1.log (the second the answer was logged, no time-taken, no user agent: such a user is its address alone).".into(),
            "No alert line exists: detection is the tool's burn-rate rule.".into(),
        ],
    };
    let mut story = String::new();
    let _ = write!(
        story,
        "An IIS server runs the shop as site `{IIS_SITE}` in application pool `{IIS_APP_POOL}`. \
         After a deployment, the pool's worker process crashes from 10:13:51 UTC, orphaning \
         the requests it holds (`Connection_Abandoned_By_AppPool` in HTTP.sys's error log); at \
         10:15:02 rapid-fail protection takes the pool offline, and HTTP.sys answers every \
         request of the site with its own 503 (`AppOffline`) until an administrator starts \
         the pool at 10:55:12. The site's W3C log (`{W3C_LOG}`) keeps only what the worker \
         answered; the 503s are in `{HTTPERR_LOG}`. Point the tool at the folder: the two \
         logs are read as one stream of requests. No monitoring alert is in the logs."
    );
    scenario.build_observed(
        AccessFormat::Iis,
        access_files,
        &observed,
        Vec::new(),
        truth,
        WriteUp {
            title: "An IIS application pool crashes and is taken offline: every request gets HTTP.sys's 503 for 40 minutes.",
            story,
        },
    )
}
