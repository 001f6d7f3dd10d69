//! The traffic engine: turns a population, a shop and a diurnal traffic
//! shape into the requests a web server would have logged, letting a
//! scenario's [`Disturbance`] change what happens to each request.
//!
//! People come in sessions: a landing page from a search engine or a
//! bookmark, the assets the page pulls in, a few more pages some seconds to a
//! minute apart, API calls and beacons. A failed page is retried a few times
//! and then given up; a very slow one sometimes ends the visit. App users call
//! the API only; crawlers walk product pages; an uptime monitor probes the
//! home page on a fixed period. Session starts follow the day curve with
//! Poisson noise per minute.

use std::f64::consts::TAU;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::catalog::{ClientKind, MISSING_BROWSER_PATHS, Site, landing_referer};
use super::clock::{MS_PER_MINUTE, MS_PER_SECOND, US_PER_MS, Zone, wall_clock};
use super::population::{Population, User};
use super::sampling::{between, chance, exponential, geometric, log_normal, poisson};

/// Requests a person's session produces on average (pages, assets, API
/// calls); measured on the engine, used to turn a request rate into a
/// session rate.
const MEAN_REQUESTS_PER_SESSION: f64 = 10.3;
/// Sessions are started this long before the log begins, so the log opens
/// in the middle of the day's traffic rather than on an empty site.
const WARMUP_MS: i64 = 30 * MS_PER_MINUTE;
/// Extra pages after the landing page, on average, and at most.
const MEAN_EXTRA_PAGES: f64 = 1.6;
const MAX_EXTRA_PAGES: u32 = 24;
/// Think time between pages: median and spread (log-normal), and bounds.
const THINK_MEDIAN_MS: f64 = 14_000.0;
const THINK_SIGMA: f64 = 0.85;
const THINK_BOUNDS_MS: (f64, f64) = (2_000.0, 180_000.0);
/// A failed page is reloaded with this probability, at most this many times,
/// after an exponentially distributed pause of this mean.
const PAGE_RETRY_PROBABILITY: f64 = 0.6;
const PAGE_RETRY_LIMIT: u32 = 3;
const PAGE_RETRY_MEAN_PAUSE_MS: f64 = 6_000.0;
/// A page slower than this makes the visitor leave with this probability.
const SLOW_PAGE_US: u64 = 4_000_000;
const SLOW_PAGE_LEAVE_PROBABILITY: f64 = 0.3;
/// Probability that a session ends in a checkout.
const CHECKOUT_PROBABILITY: f64 = 0.05;
/// Probability that a page view sends an analytics beacon.
const BEACON_PROBABILITY: f64 = 0.25;
/// Probability that a product page view adds the product to the cart.
const ADD_TO_CART_PROBABILITY: f64 = 0.1;
/// Probability that a first page view fetches the web font (others have it
/// installed or cached).
const WEB_FONT_FETCH_PROBABILITY: f64 = 0.5;
/// Probability that a first page view asks for `/favicon.ico`.
const FAVICON_PROBABILITY: f64 = 0.6;
/// Probability that an Apple browser asks for each missing touch icon (404).
const TOUCH_ICON_PROBABILITY: f64 = 0.5;
/// Probability that an app's session check finds the session expired (401).
const APP_SESSION_EXPIRED_PROBABILITY: f64 = 0.03;
/// Probability that an app asks for a product that was removed (404).
const APP_STALE_PRODUCT_PROBABILITY: f64 = 0.01;
/// Probability that a crawl session starts with `/robots.txt`.
const CRAWL_ROBOTS_PROBABILITY: f64 = 0.5;
/// The uptime monitor's probes drift by up to this much.
const MONITOR_JITTER_MS: i64 = 1_500;
/// Probability that a returning visitor's browser re-fetches a core asset.
const RETURNING_ASSET_REFETCH: f64 = 0.12;
/// Probability that a returning visitor revalidates an image (304).
const RETURNING_IMAGE_REVALIDATE: f64 = 0.3;
/// Probability that an image has gone missing (404).
const MISSING_IMAGE_PROBABILITY: f64 = 0.004;
/// App sessions: API calls after the session check, mean and cap.
const APP_MEAN_CALLS: f64 = 5.0;
const APP_MAX_CALLS: u32 = 30;
/// An app retries a failed call with this probability (it does so quietly).
const APP_RETRY_PROBABILITY: f64 = 0.7;
/// Crawl sessions: pages after the first, mean and cap; pause between pages.
const CRAWL_MEAN_PAGES: f64 = 10.0;
const CRAWL_MAX_PAGES: u32 = 60;
const CRAWL_PAUSE_MEDIAN_MS: f64 = 5_000.0;
/// Share of crawled product URLs that point at removed products (404).
const CRAWL_STALE_PRODUCT_SHARE: f64 = 0.04;
/// Background failure rates of dynamic requests on a healthy site: server
/// errors (0.1–0.3 % of all traffic once assets are counted) and clients
/// that hang up early (499).
const BACKGROUND_SERVER_ERROR_RATE: f64 = 0.006;
const BACKGROUND_CLIENT_ABORT_RATE: f64 = 0.0004;
/// The healthy latency tail is clamped here, well under the 1 s slow
/// threshold, so a baseline request is never slow.
pub const BASELINE_LATENCY_CAP_US: u64 = 899_000;

/// A day curve of request rate: highest at `peak_hour` (local), lowest twelve
/// hours later at `trough_ratio` of the peak, sinusoidal in between.
#[derive(Debug, Clone, Copy)]
pub struct DiurnalShape {
    /// Requests per second at the daily peak.
    pub peak_rps: f64,
    /// Night rate as a share of the peak rate.
    pub trough_ratio: f64,
    /// Local hour of the peak (fractional).
    pub peak_hour: f64,
}

impl DiurnalShape {
    /// Requests per second expected at `at_ms`.
    pub fn rate(&self, at_ms: i64, zone: Zone) -> f64 {
        let wall = wall_clock(at_ms.div_euclid(MS_PER_SECOND), zone);
        let hour = f64::from(wall.seconds_of_day()) / 3600.0;
        let day_position = (1.0 + (TAU * (hour - self.peak_hour) / 24.0).cos()) / 2.0;
        self.peak_rps * (self.trough_ratio + (1.0 - self.trough_ratio) * day_position)
    }
}

/// How finely the server measures request time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyUnit {
    /// nginx `$request_time`: milliseconds.
    Millis,
    /// Apache `%D`: microseconds.
    Micros,
}

/// Which server writes the log (error pages differ in size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Nginx,
    Apache,
}

/// The traffic of one scenario.
#[derive(Debug, Clone)]
pub struct TrafficPlan {
    /// Requests arriving in `[from_ms, to_ms)` are logged.
    pub from_ms: i64,
    pub to_ms: i64,
    pub zone: Zone,
    pub shape: DiurnalShape,
    pub latency_unit: LatencyUnit,
    pub server: ServerKind,
    /// Backends behind the balancer; users are sticky to one by address hash.
    pub backends: usize,
    /// Crawl sessions per hour (not diurnal).
    pub crawl_sessions_per_hour: f64,
    /// Period of the uptime monitor's probe, if there is one.
    pub monitor_period_ms: Option<i64>,
}

/// What a request is for; decides its normal latency and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// An HTML page a person navigates to.
    Page,
    /// A static file a page pulls in.
    Asset,
    /// A JSON API call (XHR or app).
    Api,
    /// A form POST (login, checkout).
    Form,
    /// An analytics beacon (`204`).
    Beacon,
    /// A page fetched by a crawler.
    Crawl,
    /// An uptime monitor's probe.
    Probe,
    /// A vulnerability scanner's probe.
    Scan,
}

impl RequestKind {
    /// Requests the application (not the static file handler) answers.
    pub fn is_dynamic(self) -> bool {
        matches!(
            self,
            RequestKind::Page
                | RequestKind::Api
                | RequestKind::Beacon
                | RequestKind::Form
                | RequestKind::Crawl
                | RequestKind::Probe
        )
    }
}

/// The response a request gets when nothing is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    Ok,
    Created,
    NoContent,
    NotModified,
    MovedPermanently,
    Found,
    NotFound,
    Unauthorized,
}

impl Expectation {
    fn status(self) -> u16 {
        match self {
            Expectation::Ok => 200,
            Expectation::Created => 201,
            Expectation::NoContent => 204,
            Expectation::NotModified => 304,
            Expectation::MovedPermanently => 301,
            Expectation::Found => 302,
            Expectation::NotFound => 404,
            Expectation::Unauthorized => 401,
        }
    }
}

/// A request a client is about to send.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub method: &'static str,
    pub path: String,
    pub referer: Option<String>,
    pub kind: RequestKind,
    pub expectation: Expectation,
}

impl PlannedRequest {
    fn get(path: String, kind: RequestKind, expectation: Expectation) -> PlannedRequest {
        PlannedRequest {
            method: "GET",
            path,
            referer: None,
            kind,
            expectation,
        }
    }

    fn with_referer(mut self, referer: Option<String>) -> PlannedRequest {
        self.referer = referer;
        self
    }

    fn with_method(mut self, method: &'static str) -> PlannedRequest {
        self.method = method;
        self
    }
}

/// One try at an upstream, as ingress-nginx logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAttempt {
    pub backend: usize,
    pub status: u16,
    pub response_time_ms: u64,
    /// Bytes the upstream sent; `None` = the response body the client got.
    pub length: Option<u64>,
}

/// What happened to a request: status, time taken and upstream tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: u16,
    pub latency_us: u64,
    /// Empty = one try at the routed backend with the same status.
    pub upstream: Vec<UpstreamAttempt>,
}

/// Everything a disturbance may look at to decide a request's fate.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    pub arrival_ms: i64,
    pub user_index: u32,
    pub user: &'a User,
    pub request: &'a PlannedRequest,
    /// The backend the request is routed to (sticky by default).
    pub backend: usize,
}

/// What a scenario's incident does to traffic. Every method defaults to
/// "nothing happens", so a quiet scenario uses [`NoDisturbance`].
pub trait Disturbance {
    /// False while the server cannot be reached at all (nothing is logged).
    fn reachable(&self, _arrival_ms: i64) -> bool {
        true
    }
    /// Multiplier of the session start rate (a surge after an outage).
    fn traffic_factor(&self, _at_ms: i64) -> f64 {
        1.0
    }
    /// The backend a request goes to.
    fn route(&self, context: &RequestContext<'_>, _rng: &mut Pcg64) -> usize {
        context.backend
    }
    /// The outcome replacing the healthy one.
    fn outcome(
        &self,
        _context: &RequestContext<'_>,
        healthy: Outcome,
        _rng: &mut Pcg64,
    ) -> Outcome {
        healthy
    }
}

/// A healthy site.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDisturbance;

impl Disturbance for NoDisturbance {}

/// A request as the server handled it: everything any log format prints.
#[derive(Debug, Clone)]
pub struct Request {
    /// True arrival, ms since the epoch.
    pub arrival_ms: i64,
    /// Time to serve, in µs (a whole number of ms for nginx).
    pub latency_us: u64,
    pub status: u16,
    /// Index into the population.
    pub user: u32,
    pub method: &'static str,
    pub path: String,
    pub referer: Option<String>,
    pub body_bytes: u64,
    pub request_length: u64,
    pub backend: usize,
    pub upstream: Vec<UpstreamAttempt>,
    pub request_id: u128,
    pub kind: RequestKind,
}

impl Request {
    /// Completion instant in µs since the epoch (the order logs are written in).
    pub fn completion_us(&self) -> i64 {
        self.arrival_ms * US_PER_MS as i64 + self.latency_us as i64
    }
}

/// The result of one request, as the client saw it.
#[derive(Debug, Clone, Copy)]
struct Served {
    status: u16,
    latency_us: u64,
    done_ms: i64,
}

impl Served {
    fn failed(&self) -> bool {
        self.status >= 500 || self.status == 499
    }
}

/// Runs the engine over a plan and returns the logged requests, sorted in
/// completion order (the order a server writes them).
pub fn simulate(
    plan: &TrafficPlan,
    site: &Site,
    population: &Population,
    disturbance: &dyn Disturbance,
    rng: Pcg64,
) -> Vec<Request> {
    let mut simulation = Simulation {
        plan,
        site,
        population,
        disturbance,
        rng,
        requests: Vec::new(),
    };
    simulation.run();
    let mut requests = simulation.requests;
    requests.sort_by_key(|request| request.completion_us());
    requests
}

struct Simulation<'a> {
    plan: &'a TrafficPlan,
    site: &'a Site,
    population: &'a Population,
    disturbance: &'a dyn Disturbance,
    rng: Pcg64,
    requests: Vec<Request>,
}

impl Simulation<'_> {
    fn run(&mut self) {
        let mut minute_start = self.plan.from_ms - WARMUP_MS;
        let mut next_probe = self.plan.from_ms - WARMUP_MS;
        let mut probe_rotation = 0usize;
        while minute_start < self.plan.to_ms {
            let middle = minute_start + MS_PER_MINUTE / 2;
            let sessions_mean = self.plan.shape.rate(middle, self.plan.zone) * 60.0
                / MEAN_REQUESTS_PER_SESSION
                * self.disturbance.traffic_factor(middle);
            let sessions = poisson(&mut self.rng, sessions_mean);
            let mut starts: Vec<i64> = (0..sessions)
                .map(|_| minute_start + self.rng.random_range(0..MS_PER_MINUTE))
                .collect();
            starts.sort_unstable();
            for start in starts {
                let user_index = self.population.pick_person(&mut self.rng);
                match self.population.user(user_index).kind {
                    ClientKind::App => self.app_session(start, user_index),
                    _ => self.person_session(start, user_index),
                }
            }
            let crawls = poisson(&mut self.rng, self.plan.crawl_sessions_per_hour / 60.0);
            for _ in 0..crawls {
                let start = minute_start + self.rng.random_range(0..MS_PER_MINUTE);
                if let Some(crawler) = self.population.pick_crawler(&mut self.rng) {
                    self.crawl_session(start, crawler);
                }
            }
            if let Some(period) = self.plan.monitor_period_ms {
                while next_probe < minute_start + MS_PER_MINUTE {
                    let monitors = self.population.monitors();
                    if !monitors.is_empty() {
                        let monitor = monitors[probe_rotation % monitors.len()];
                        probe_rotation += 1;
                        let jitter = self.rng.random_range(0..MONITOR_JITTER_MS);
                        let probe =
                            PlannedRequest::get("/".into(), RequestKind::Probe, Expectation::Ok)
                                .with_method("HEAD");
                        self.issue(next_probe + jitter, monitor, probe);
                    }
                    next_probe += period;
                }
            }
            minute_start += MS_PER_MINUTE;
        }
    }

    /// Sends one request; logs it when it falls inside the log's range.
    /// `None` when the server could not be reached.
    fn issue(
        &mut self,
        arrival_ms: i64,
        user_index: u32,
        planned: PlannedRequest,
    ) -> Option<Served> {
        if !self.disturbance.reachable(arrival_ms) {
            return None;
        }
        let population = self.population;
        let user = population.user(user_index);
        let sticky = (user.address_hash % self.plan.backends.max(1) as u64) as usize;
        let mut context = RequestContext {
            arrival_ms,
            user_index,
            user,
            request: &planned,
            backend: sticky,
        };
        context.backend = self.disturbance.route(&context, &mut self.rng);
        let backend = context.backend;
        let healthy = self.healthy_outcome(&planned);
        let mut outcome = self.disturbance.outcome(&context, healthy, &mut self.rng);
        if self.plan.latency_unit == LatencyUnit::Millis {
            outcome.latency_us = outcome.latency_us / US_PER_MS * US_PER_MS;
        }
        let served = Served {
            status: outcome.status,
            latency_us: outcome.latency_us,
            done_ms: arrival_ms + (outcome.latency_us / US_PER_MS) as i64,
        };
        if arrival_ms >= self.plan.from_ms && arrival_ms < self.plan.to_ms {
            let body_bytes = self.body_bytes(&planned, outcome.status);
            let request_length = self.request_length(&planned, user);
            let mut upstream = outcome.upstream;
            if upstream.is_empty() {
                let overhead_ms = self.rng.random_range(0..=1u64);
                upstream.push(UpstreamAttempt {
                    backend,
                    status: outcome.status,
                    response_time_ms: (outcome.latency_us / US_PER_MS).saturating_sub(overhead_ms),
                    length: None,
                });
            }
            for attempt in &mut upstream {
                attempt.length.get_or_insert(body_bytes);
            }
            let request_id = self.rng.random::<u128>();
            self.requests.push(Request {
                arrival_ms,
                latency_us: outcome.latency_us,
                status: outcome.status,
                user: user_index,
                method: planned.method,
                path: planned.path,
                referer: planned.referer,
                body_bytes,
                request_length,
                backend,
                upstream,
                request_id,
                kind: planned.kind,
            });
        }
        Some(served)
    }

    /// Status and latency of a request on a healthy site, with the
    /// background rate of server errors and early hang-ups.
    fn healthy_outcome(&mut self, planned: &PlannedRequest) -> Outcome {
        let mut status = planned.expectation.status();
        if planned.kind.is_dynamic() && status < 400 {
            if chance(&mut self.rng, BACKGROUND_SERVER_ERROR_RATE) {
                status = match (self.plan.server, self.rng.random_range(0..20u32)) {
                    (ServerKind::Apache, _) => 500,
                    (ServerKind::Nginx, 0..=16) => 500,
                    (ServerKind::Nginx, 17..=18) => 502,
                    (ServerKind::Nginx, _) => 503,
                };
            } else if chance(&mut self.rng, BACKGROUND_CLIENT_ABORT_RATE) {
                status = 499;
            }
        }
        let latency_us = self.healthy_latency_us(planned, status);
        Outcome {
            status,
            latency_us,
            upstream: Vec::new(),
        }
    }

    fn healthy_latency_us(&mut self, planned: &PlannedRequest, status: u16) -> u64 {
        let (median_ms, sigma) = match (planned.kind, status) {
            (_, 499) => (350.0, 0.5),
            (_, 502 | 503) => (2.0, 0.8),
            (_, 500) => (80.0, 0.7),
            (_, 301 | 302) => (4.0, 0.6),
            (_, 304) => (2.5, 0.6),
            (RequestKind::Asset | RequestKind::Scan, 404) => (1.5, 0.6),
            (_, 404) => (35.0, 0.5),
            (_, 401) => (8.0, 0.5),
            (RequestKind::Asset, _) => (30.0, 0.8),
            (RequestKind::Beacon, _) => (6.0, 0.5),
            (RequestKind::Form, _) => (110.0, 0.45),
            (RequestKind::Api, _) if planned.method == "POST" => (70.0, 0.5),
            (RequestKind::Api, _) => (32.0, 0.6),
            (RequestKind::Scan, _) => (3.0, 0.5),
            (RequestKind::Page | RequestKind::Crawl | RequestKind::Probe, _) => (62.0, 0.5),
        };
        let latency_ms = log_normal(&mut self.rng, median_ms, sigma);
        ((latency_ms * US_PER_MS as f64) as u64).min(BASELINE_LATENCY_CAP_US)
    }

    /// Bytes of the response body (`$body_bytes_sent`, `%b`).
    fn body_bytes(&mut self, planned: &PlannedRequest, status: u16) -> u64 {
        if planned.method == "HEAD" {
            return 0;
        }
        let nginx = self.plan.server == ServerKind::Nginx;
        match status {
            200 => match planned.kind {
                RequestKind::Asset => asset_size(&planned.path),
                RequestKind::Api => log_normal(&mut self.rng, 1_800.0, 0.7) as u64 + 2,
                _ => log_normal(&mut self.rng, 24_000.0, 0.35) as u64,
            },
            201 => log_normal(&mut self.rng, 420.0, 0.3) as u64,
            204 | 304 | 499 => 0,
            301 if nginx => 169,
            301 => 239,
            302 => 0,
            401 => 42,
            404 if planned.kind == RequestKind::Asset || planned.kind == RequestKind::Scan => {
                if nginx {
                    153
                } else {
                    196
                }
            }
            404 => 5_212,
            500 if nginx => 1_480,
            500 => 607,
            502 => 157,
            503 if nginx => 197,
            503 => 299,
            504 => 167,
            _ => 0,
        }
    }

    /// Bytes of the request as received (`$request_length`).
    fn request_length(&mut self, planned: &PlannedRequest, user: &User) -> u64 {
        let headers = log_normal(&mut self.rng, 380.0, 0.3) as u64;
        let body = if planned.method == "POST" {
            log_normal(&mut self.rng, 300.0, 0.6) as u64
        } else {
            0
        };
        (40 + planned.path.len()
            + user.user_agent.len()
            + planned.referer.as_ref().map_or(0, String::len)) as u64
            + headers
            + body
    }

    /// A page request with the visitor's reloads when it fails; `None` when
    /// the visitor gave up.
    fn page_with_retries(
        &mut self,
        at_ms: i64,
        user_index: u32,
        planned: PlannedRequest,
    ) -> Option<Served> {
        let mut at = at_ms;
        for attempt in 0..=PAGE_RETRY_LIMIT {
            let result = self.issue(at, user_index, planned.clone());
            match result {
                Some(served) if !served.failed() => return Some(served),
                _ => {}
            }
            if attempt == PAGE_RETRY_LIMIT || !chance(&mut self.rng, PAGE_RETRY_PROBABILITY) {
                return None;
            }
            let finished = result.map_or(at + 10 * MS_PER_SECOND, |served| served.done_ms);
            at = finished + 1_000 + exponential(&mut self.rng, PAGE_RETRY_MEAN_PAUSE_MS) as i64;
        }
        None
    }

    fn think_ms(&mut self) -> i64 {
        let (low, high) = THINK_BOUNDS_MS;
        log_normal(&mut self.rng, THINK_MEDIAN_MS, THINK_SIGMA).clamp(low, high) as i64
    }

    /// A person browsing the shop in a web browser.
    fn person_session(&mut self, start_ms: i64, user_index: u32) {
        let population = self.population;
        let user = population.user(user_index);
        let mut at = start_ms;
        let mut referer = landing_referer(&mut self.rng).map(str::to_string);
        let extra_pages = geometric(&mut self.rng, MEAN_EXTRA_PAGES, MAX_EXTRA_PAGES);
        let checks_out = chance(&mut self.rng, CHECKOUT_PROBABILITY);
        for page_number in 0..=extra_pages {
            let navigation = if page_number == 0 {
                self.landing_page(referer.is_some())
            } else {
                self.next_page()
            };
            let (served, path) =
                match self.navigate(at, user_index, navigation.clone(), referer.clone()) {
                    Visit::Shown { served, path } => (served, path),
                    Visit::Missing { done_ms } => {
                        // A page that does not exist: the visitor goes elsewhere.
                        at = done_ms + self.think_ms();
                        continue;
                    }
                    Visit::GaveUp => return,
                };
            self.page_resources(
                served.done_ms,
                user_index,
                &path,
                navigation.product,
                page_number == 0,
            );
            if served.latency_us > SLOW_PAGE_US
                && chance(&mut self.rng, SLOW_PAGE_LEAVE_PROBABILITY)
            {
                return;
            }
            referer = Some(self.site.url(&path));
            at = served.done_ms + self.think_ms();
        }
        if checks_out && user.kind != ClientKind::Crawler {
            self.checkout(at, user_index, referer);
        }
    }

    /// Requests a navigation and follows its redirect.
    fn navigate(
        &mut self,
        at_ms: i64,
        user_index: u32,
        navigation: Navigation,
        referer: Option<String>,
    ) -> Visit {
        let planned = PlannedRequest {
            method: navigation.method,
            path: navigation.path.clone(),
            referer: referer.clone(),
            kind: navigation.kind,
            expectation: navigation.expectation,
        };
        let Some(served) = self.page_with_retries(at_ms, user_index, planned) else {
            return Visit::GaveUp;
        };
        if served.status == 404 {
            return Visit::Missing {
                done_ms: served.done_ms,
            };
        }
        match (&navigation.redirect_to, served.status) {
            (Some(target), 301 | 302) => {
                let follow_at = served.done_ms + self.rng.random_range(15..90);
                let follow =
                    PlannedRequest::get(target.clone(), RequestKind::Page, Expectation::Ok)
                        .with_referer(referer);
                match self.page_with_retries(follow_at, user_index, follow) {
                    Some(followed) => Visit::Shown {
                        served: followed,
                        path: target.clone(),
                    },
                    None => Visit::GaveUp,
                }
            }
            _ => Visit::Shown {
                served,
                path: navigation.path,
            },
        }
    }

    fn landing_page(&mut self, from_elsewhere: bool) -> Navigation {
        let roll = self.rng.random_range(0..100u32);
        match roll {
            0..=34 if from_elsewhere => self.product_page(),
            0..=19 | 35..=54 => Navigation::page("/".into()),
            20..=34 | 55..=72 => Navigation::page(Site::category_path(&mut self.rng)),
            73..=80 => Navigation::page(Site::search_path(&mut self.rng)),
            81..=87 => Navigation::page(self.site.blog_path(&mut self.rng)),
            88..=92 => Navigation::page(Site::info_path(&mut self.rng).into()),
            _ => {
                // An old bookmark of the previous URL scheme.
                let index = super::sampling::zipf_index(&mut self.rng, self.site.products.len());
                let product = &self.site.products[index];
                Navigation {
                    redirect_to: Some(Site::product_path(product)),
                    expectation: Expectation::MovedPermanently,
                    product: Some(index),
                    ..Navigation::page(format!("/product/{}", product.id))
                }
            }
        }
    }

    fn next_page(&mut self) -> Navigation {
        match self.rng.random_range(0..100u32) {
            0..=44 => self.product_page(),
            45..=64 => Navigation::page(Site::category_path(&mut self.rng)),
            65..=74 => Navigation::page(Site::search_path(&mut self.rng)),
            75..=82 => Navigation::page("/".into()),
            83..=89 => Navigation::page("/cart".into()),
            90..=92 => Navigation::page(Site::info_path(&mut self.rng).into()),
            93..=94 => Navigation::page(self.site.blog_path(&mut self.rng)),
            _ => Navigation {
                redirect_to: Some("/login?next=%2Faccount".into()),
                expectation: Expectation::Found,
                ..Navigation::page("/account".into())
            },
        }
    }

    fn product_page(&mut self) -> Navigation {
        let index = super::sampling::zipf_index(&mut self.rng, self.site.products.len());
        Navigation {
            product: Some(index),
            ..Navigation::page(Site::product_path(&self.site.products[index]))
        }
    }

    /// What a rendered page pulls in: assets, images, XHR calls, a beacon.
    fn page_resources(
        &mut self,
        done_ms: i64,
        user_index: u32,
        path: &str,
        product: Option<usize>,
        first: bool,
    ) {
        let population = self.population;
        let user = population.user(user_index);
        let page_url = Some(self.site.url(path));
        let mut at = done_ms + log_normal(&mut self.rng, 120.0, 0.5) as i64;
        let mut stagger = |rng: &mut Pcg64| {
            at += rng.random_range(4..45);
            at
        };
        let mut assets: Vec<(String, Expectation)> = Vec::new();
        if first {
            for asset in &self.site.core_assets {
                // Browsers that have the font locally never fetch it.
                let needed =
                    !asset.ends_with(".woff2") || chance(&mut self.rng, WEB_FONT_FETCH_PROBABILITY);
                if needed && (!user.returning || chance(&mut self.rng, RETURNING_ASSET_REFETCH)) {
                    assets.push((asset.clone(), Expectation::Ok));
                }
            }
            if chance(&mut self.rng, FAVICON_PROBABILITY) {
                let expectation = if user.returning {
                    Expectation::NotModified
                } else {
                    Expectation::Ok
                };
                assets.push(("/favicon.ico".into(), expectation));
            }
            if user.user_agent.contains("iPhone") || user.user_agent.contains("iPad") {
                for missing in MISSING_BROWSER_PATHS.iter().take(2) {
                    if chance(&mut self.rng, TOUCH_ICON_PROBABILITY) {
                        assets.push(((*missing).into(), Expectation::NotFound));
                    }
                }
            }
        }
        let images = match (product, path) {
            (Some(_), _) => self.rng.random_range(1..=2),
            (None, "/") => self.rng.random_range(1..=3),
            (None, p) if p.starts_with("/category/") => self.rng.random_range(1..=3),
            _ => 0,
        };
        for _ in 0..images {
            let image = match product {
                Some(index) => self
                    .site
                    .product_image(&self.site.products[index], &mut self.rng),
                None if path == "/" => {
                    format!("/static/img/hero-{}.webp", self.rng.random_range(1..=3))
                }
                None => {
                    let featured = self.site.popular_product(&mut self.rng).clone();
                    self.site.product_image(&featured, &mut self.rng)
                }
            };
            let expectation = if chance(&mut self.rng, MISSING_IMAGE_PROBABILITY) {
                Expectation::NotFound
            } else if user.returning && chance(&mut self.rng, RETURNING_IMAGE_REVALIDATE) {
                Expectation::NotModified
            } else {
                Expectation::Ok
            };
            assets.push((image, expectation));
        }
        for (asset, expectation) in assets {
            let asset_at = stagger(&mut self.rng);
            let planned = PlannedRequest::get(asset, RequestKind::Asset, expectation)
                .with_referer(page_url.clone());
            self.issue(asset_at, user_index, planned);
        }
        if let Some(index) = product {
            let id = self.site.products[index].id;
            let stock_at = stagger(&mut self.rng) + self.rng.random_range(50..400);
            let stock = PlannedRequest::get(
                format!("/api/v1/products/{id}/stock"),
                RequestKind::Api,
                Expectation::Ok,
            )
            .with_referer(page_url.clone());
            self.issue(stock_at, user_index, stock);
            if chance(&mut self.rng, ADD_TO_CART_PROBABILITY) {
                let add_at = stock_at + between(&mut self.rng, 3_000, 20_000);
                let add = PlannedRequest::get(
                    "/api/v1/cart/items".into(),
                    RequestKind::Api,
                    Expectation::Created,
                )
                .with_method("POST")
                .with_referer(page_url.clone());
                self.issue(add_at, user_index, add);
            }
        }
        if chance(&mut self.rng, BEACON_PROBABILITY) {
            let beacon_at = done_ms + between(&mut self.rng, 800, 4_000);
            let beacon = PlannedRequest::get(
                "/api/v1/events".into(),
                RequestKind::Beacon,
                Expectation::NoContent,
            )
            .with_method("POST")
            .with_referer(page_url);
            self.issue(beacon_at, user_index, beacon);
        }
    }

    /// Cart, checkout form, order confirmation.
    fn checkout(&mut self, at_ms: i64, user_index: u32, referer: Option<String>) {
        let cart = Navigation::page("/cart".into());
        let Visit::Shown { served, .. } = self.navigate(at_ms, user_index, cart, referer) else {
            return;
        };
        let checkout_at = served.done_ms + self.think_ms();
        let checkout = Navigation::page("/checkout".into());
        let Visit::Shown { served, .. } = self.navigate(
            checkout_at,
            user_index,
            checkout,
            Some(self.site.url("/cart")),
        ) else {
            return;
        };
        let order = self.rng.random_range(100_000..999_999u32);
        let submit = Navigation {
            method: "POST",
            kind: RequestKind::Form,
            expectation: Expectation::Found,
            redirect_to: Some(format!("/order/{order}/confirmation")),
            ..Navigation::page("/checkout".into())
        };
        let submit_at = served.done_ms + between(&mut self.rng, 20_000, 120_000);
        if let Visit::Shown { served, path } = self.navigate(
            submit_at,
            user_index,
            submit,
            Some(self.site.url("/checkout")),
        ) {
            self.page_resources(served.done_ms, user_index, &path, None, false);
        }
    }

    /// A person using the shop's app: API calls only.
    fn app_session(&mut self, start_ms: i64, user_index: u32) {
        let mut at = start_ms;
        let calls = 1 + geometric(&mut self.rng, APP_MEAN_CALLS, APP_MAX_CALLS);
        for call in 0..=calls {
            let planned = if call == 0 {
                let expectation = if chance(&mut self.rng, APP_SESSION_EXPIRED_PROBABILITY) {
                    Expectation::Unauthorized
                } else {
                    Expectation::Ok
                };
                PlannedRequest::get("/api/v1/session".into(), RequestKind::Api, expectation)
            } else {
                self.app_call()
            };
            let mut tries = 0;
            let served = loop {
                let served = self.issue(at, user_index, planned.clone());
                tries += 1;
                match served {
                    Some(served) if !served.failed() => break Some(served),
                    _ if tries <= PAGE_RETRY_LIMIT
                        && chance(&mut self.rng, APP_RETRY_PROBABILITY) =>
                    {
                        let finished =
                            served.map_or(at + 10 * MS_PER_SECOND, |served| served.done_ms);
                        at = finished + between(&mut self.rng, 1_000, 4_000);
                    }
                    _ => break None,
                }
            };
            let Some(served) = served else {
                return;
            };
            at = served.done_ms
                + log_normal(&mut self.rng, 6_000.0, 0.8).clamp(500.0, 120_000.0) as i64;
        }
    }

    fn app_call(&mut self) -> PlannedRequest {
        match self.rng.random_range(0..100u32) {
            0..=29 => {
                let category = super::sampling::pick(&mut self.rng, &super::catalog::CATEGORIES);
                let page = self.rng.random_range(1..4u32);
                PlannedRequest::get(
                    format!("/api/v1/products?category={category}&page={page}"),
                    RequestKind::Api,
                    Expectation::Ok,
                )
            }
            30..=64 => {
                let id = self.site.popular_product(&mut self.rng).id;
                let expectation = if chance(&mut self.rng, APP_STALE_PRODUCT_PROBABILITY) {
                    Expectation::NotFound
                } else {
                    Expectation::Ok
                };
                PlannedRequest::get(
                    format!("/api/v1/products/{id}"),
                    RequestKind::Api,
                    expectation,
                )
            }
            65..=79 => PlannedRequest::get(
                format!("/api/v1/search?q={}", Site::search_words(&mut self.rng)),
                RequestKind::Api,
                Expectation::Ok,
            ),
            80..=89 => {
                PlannedRequest::get("/api/v1/cart".into(), RequestKind::Api, Expectation::Ok)
            }
            _ => PlannedRequest::get(
                "/api/v1/cart/items".into(),
                RequestKind::Api,
                Expectation::Created,
            )
            .with_method("POST"),
        }
    }

    /// A crawler walking product and category pages.
    fn crawl_session(&mut self, start_ms: i64, crawler: u32) {
        let mut at = start_ms;
        if chance(&mut self.rng, CRAWL_ROBOTS_PROBABILITY) {
            let robots =
                PlannedRequest::get("/robots.txt".into(), RequestKind::Asset, Expectation::Ok);
            if let Some(served) = self.issue(at, crawler, robots) {
                at = served.done_ms + between(&mut self.rng, 500, 3_000);
            }
        }
        let pages = 1 + geometric(&mut self.rng, CRAWL_MEAN_PAGES, CRAWL_MAX_PAGES);
        for _ in 0..pages {
            let planned = match self.rng.random_range(0..100u32) {
                0..=69 => {
                    let product = self.site.popular_product(&mut self.rng).clone();
                    if chance(&mut self.rng, CRAWL_STALE_PRODUCT_SHARE) {
                        let removed = product.id + 100_000;
                        PlannedRequest::get(
                            format!("/products/{}-{removed}", product.slug),
                            RequestKind::Crawl,
                            Expectation::NotFound,
                        )
                    } else {
                        PlannedRequest::get(
                            Site::product_path(&product),
                            RequestKind::Crawl,
                            Expectation::Ok,
                        )
                    }
                }
                70..=81 => PlannedRequest::get(
                    Site::category_path(&mut self.rng),
                    RequestKind::Crawl,
                    Expectation::Ok,
                ),
                82..=91 => PlannedRequest::get(
                    self.site.blog_path(&mut self.rng),
                    RequestKind::Crawl,
                    Expectation::Ok,
                ),
                92..=96 => {
                    PlannedRequest::get("/sitemap.xml".into(), RequestKind::Asset, Expectation::Ok)
                }
                _ => PlannedRequest::get("/".into(), RequestKind::Crawl, Expectation::Ok),
            };
            let finished = self
                .issue(at, crawler, planned)
                .map_or(at, |served| served.done_ms);
            at = finished
                + log_normal(&mut self.rng, CRAWL_PAUSE_MEDIAN_MS, 0.7).clamp(800.0, 60_000.0)
                    as i64;
        }
    }
}

/// How a page navigation ended.
enum Visit {
    /// The page (after any redirect) was shown.
    Shown { served: Served, path: String },
    /// The page does not exist (404).
    Missing { done_ms: i64 },
    /// The visitor gave up after failures.
    GaveUp,
}

/// One page navigation (a click, a bookmark, a form submission).
#[derive(Debug, Clone)]
struct Navigation {
    method: &'static str,
    path: String,
    kind: RequestKind,
    expectation: Expectation,
    /// Where a 301/302 sends the browser.
    redirect_to: Option<String>,
    /// The product shown, for product pages.
    product: Option<usize>,
}

impl Navigation {
    fn page(path: String) -> Navigation {
        Navigation {
            method: "GET",
            path,
            kind: RequestKind::Page,
            expectation: Expectation::Ok,
            redirect_to: None,
            product: None,
        }
    }
}

/// Size of a static asset: fixed per path (a file has one size).
fn asset_size(path: &str) -> u64 {
    let hash = path.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    let spread = u64::from(hash % 1_000);
    if path.ends_with(".css") {
        38_000 + spread * 50
    } else if path.ends_with(".js") {
        20_000 + spread * 380
    } else if path.ends_with(".woff2") {
        48_256
    } else if path.ends_with(".svg") {
        3_000 + spread
    } else if path.ends_with(".ico") {
        15_086
    } else if path.ends_with(".txt") {
        212
    } else if path.ends_with(".xml") {
        84_000 + spread * 10
    } else {
        18_000 + spread * 120
    }
}
