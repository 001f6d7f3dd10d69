//! A seeded, streaming generator of realistic nginx access logs for the
//! benchmarks: one day of diurnal traffic from a fixed population of users
//! (address + user agent) who come in sessions, a realistic mix of pages,
//! assets and API calls with their status codes and latencies, and a
//! 30-minute incident in the middle of the day in which the users pinned to
//! one failing upstream get 502, 504 and 499.
//!
//! The user population and their sessions depend on the seed only, not on
//! the number of lines: asking for ten times the lines gives the same users
//! at the same times, each making ten times the requests. That is how a
//! busier site looks, and it keeps the distinct users per minute (what the
//! series keeps per bucket) the same while the log grows.
//!
//! Lines are written in completion order with the completion second, as
//! nginx writes `$time_local`, followed by `$request_time` in the
//! `combined+request_time` layout. Memory stays flat: only the requests
//! still in flight (at most the longest latency, 60 s, of traffic) are held.

use std::collections::BinaryHeap;
use std::io::{self, Write};

use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Exp, StandardNormal};
use rand_pcg::Pcg64Mcg;

/// Which fields each line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// nginx `combined` followed by `$request_time` (the benchmark's format).
    CombinedRequestTime,
    /// Apache/nginx `combined`.
    Combined,
    /// NCSA `common`.
    Common,
    /// HAProxy `option httplog` behind an RFC 3164 syslog header.
    HaProxy,
    /// AWS Application Load Balancer, the current field order.
    AwsAlb,
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct GenOptions {
    /// Lines of the whole day.
    pub lines: u64,
    pub seed: u64,
    pub layout: Layout,
    /// Start the log at this second of the day (0: midnight) and stop at
    /// `max_lines` lines: a dense slice of a busy day, for the benchmarks.
    pub from_second: u32,
    pub max_lines: u64,
    /// Which day of a week, which host and which hours (see [`Slot`]).
    pub slot: Slot,
}

impl GenOptions {
    /// The whole day of `lines` lines.
    pub fn day(lines: u64, seed: u64, layout: Layout) -> Self {
        GenOptions {
            lines,
            seed,
            layout,
            from_second: 0,
            max_lines: u64::MAX,
            slot: Slot::default(),
        }
    }
}

/// Where in a week of several hosts' logs a run of the generator is: the
/// same users and sessions every day and on every host (one site behind a
/// load balancer), the requests drawn from a stream of their own per host
/// and day, and the incident only where it is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Days after the benchmark day (2024-03-12) written in the lines.
    pub day: u32,
    /// Mixed into the request stream: 0 is the benchmark log itself.
    pub stream: u64,
    /// The second of the day the incident starts at, if it happens in this
    /// run; it lasts [`INCIDENT_SECONDS`].
    pub incident_start_s: Option<u32>,
    /// Requests arriving at or after this second of the day are not made.
    pub until_second: u32,
}

impl Default for Slot {
    /// The benchmark day: day 0, stream 0, the incident at 12:00.
    fn default() -> Self {
        Slot {
            day: 0,
            stream: 0,
            incident_start_s: Some(INCIDENT_START_S),
            until_second: DAY_SECONDS,
        }
    }
}

/// What was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenSummary {
    pub lines: u64,
    pub bytes: u64,
    pub users: u32,
}

/// Distinct users (address + user agent) of the site.
pub const USERS: u32 = 50_000;

/// Mixed into the seed for the stream requests are drawn from, which is
/// separate from the one users and sessions come from.
const REQUEST_STREAM: u64 = 0x5eed_0f11_e5e5_0000;

/// Spreads a slot's stream number over the seed's bits, so streams 1, 2, 3
/// give unrelated request streams (an odd 64-bit constant, the golden ratio's).
const STREAM_SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// Seconds in the generated day.
const DAY_SECONDS: u32 = 86_400;

/// The generated day, 2024-03-12, as days since 1970-01-01, and its zone
/// (CET, +01:00), written in every line.
const DAY_SINCE_EPOCH: i64 = 19_794;
const ZONE_TEXT: &str = "+0100";

/// The incident: 12:00 to 12:30 local time.
pub const INCIDENT_START_S: u32 = 12 * 3600;
pub const INCIDENT_SECONDS: u32 = 30 * 60;
pub const INCIDENT_END_S: u32 = INCIDENT_START_S + INCIDENT_SECONDS;

/// Share of users pinned to the upstream that fails in the incident
/// (one of three upstreams, pinned by a hash of the client).
const UPSTREAMS: u32 = 3;
const FAILING_UPSTREAM: u32 = 1;

/// Mean session length of a person (seconds) and of a crawler or monitor;
/// sessions of a few minutes are what web analytics report for shops.
const SESSION_MEAN_S: f64 = 420.0;
const BOT_SESSION_MEAN_S: f64 = 4.0 * 3600.0;
/// Share of users that are crawlers or monitors, and of scanners that probe
/// for well-known admin paths (nearly all 404).
const BOT_SHARE: f64 = 0.01;
const SCANNER_SHARE: f64 = 0.001;

/// The user agents people and bots send, with the share of users using each.
const AGENTS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.0.0",
        8,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
        9,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Mobile/15E148 Safari/604.1",
        18,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
        16,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
        6,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
        3,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
        4,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        4,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 Firefox/123.0",
        2,
    ),
];

const BOT_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Prometheus/2.50.1",
    "kube-probe/1.29",
    "Datadog Agent/7.51.0",
];

const SCANNER_AGENTS: &[&str] = &[
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
];

const SCANNER_PATHS: &[&str] = &[
    "/wp-login.php",
    "/.env",
    "/admin/config.php",
    "/phpmyadmin/index.php",
    "/.git/config",
    "/xmlrpc.php",
    "/cgi-bin/luci/;stok=/locale",
];

const CATEGORIES: &[&str] = &[
    "shoes", "jackets", "bags", "watches", "kitchen", "garden", "toys", "books",
];

const ASSETS: &[(&str, u32)] = &[
    ("/static/js/app.3f9c2a1e.js", 184_233),
    ("/static/js/vendor.91bd07c4.js", 402_118),
    ("/static/css/main.c0ffee12.css", 61_904),
    ("/static/fonts/inter-var.woff2", 98_512),
    ("/favicon.ico", 15_086),
];

const SITE: &str = "https://shop.example.com";

/// What a user is; decides their sessions and requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserKind {
    Person,
    Bot,
    Scanner,
}

struct User {
    address: String,
    agent: &'static str,
    kind: UserKind,
    upstream: u32,
}

/// One request in flight, ordered by when nginx writes it.
#[derive(PartialEq, Eq)]
struct Pending {
    completion_ms: u64,
    sequence: u64,
    line: Vec<u8>,
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: the earliest completion must be greatest.
        (other.completion_ms, other.sequence).cmp(&(self.completion_ms, self.sequence))
    }
}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Relative traffic at `second` of the day: low at night, a lunch peak and
/// a larger evening peak, as shops see.
fn diurnal_weight(second: u32) -> f64 {
    let hour = f64::from(second) / 3600.0;
    let bump = |centre: f64, width: f64| (-((hour - centre) / width).powi(2)).exp();
    0.12 + 0.55 * bump(13.0, 3.0) + 0.75 * bump(20.5, 2.2) + 0.2 * bump(9.5, 1.5)
}

fn pick_weighted<'a, R: Rng>(rng: &mut R, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut ticket = rng.random_range(0..total);
    for (item, weight) in items {
        if ticket < *weight {
            return item;
        }
        ticket -= weight;
    }
    items[0].0
}

fn make_users(rng: &mut Pcg64Mcg) -> Vec<User> {
    /// First octets of the address blocks the users come from (large
    /// residential and mobile providers).
    const FIRST_OCTETS: &[u8] = &[
        31, 37, 46, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
        109, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217,
    ];
    (0..USERS)
        .map(|index| {
            let kind = if rng.random_bool(SCANNER_SHARE) {
                UserKind::Scanner
            } else if rng.random_bool(BOT_SHARE) {
                UserKind::Bot
            } else {
                UserKind::Person
            };
            let address = if rng.random_bool(0.12) {
                format!(
                    "2a02:{:x}:{:x}:{:x}::{:x}",
                    rng.random_range(0x100..0xffffu32),
                    rng.random_range(0..0xffffu32),
                    rng.random_range(0..0xffffu32),
                    rng.random_range(1..0xffffu32)
                )
            } else {
                format!(
                    "{}.{}.{}.{}",
                    FIRST_OCTETS[rng.random_range(0..FIRST_OCTETS.len())],
                    rng.random_range(0..=255u8),
                    rng.random_range(0..=255u8),
                    rng.random_range(1..=254u8)
                )
            };
            let agent = match kind {
                UserKind::Person => pick_weighted(rng, AGENTS),
                UserKind::Bot => BOT_AGENTS[rng.random_range(0..BOT_AGENTS.len())],
                UserKind::Scanner => SCANNER_AGENTS[rng.random_range(0..SCANNER_AGENTS.len())],
            };
            User {
                address,
                agent,
                kind,
                upstream: index % UPSTREAMS,
            }
        })
        .collect()
}

/// A session: a user active from `start` to `end` (seconds of the day).
#[derive(Clone, Copy)]
struct Session {
    start: u32,
    end: u32,
    user: u32,
}

/// Each user's sessions over the day, sorted by start.
fn make_sessions(rng: &mut Pcg64Mcg, users: &[User]) -> Vec<Session> {
    let mut cumulative = Vec::with_capacity(DAY_SECONDS as usize);
    let mut sum = 0.0;
    for second in 0..DAY_SECONDS {
        sum += diurnal_weight(second);
        cumulative.push(sum);
    }
    let person_length = Exp::new(1.0 / SESSION_MEAN_S).expect("a positive constant rate");
    let bot_length = Exp::new(1.0 / BOT_SESSION_MEAN_S).expect("a positive constant rate");
    let mut sessions = Vec::new();
    for (index, user) in users.iter().enumerate() {
        let count = match user.kind {
            UserKind::Person => 1 + (0..5).take_while(|_| rng.random_bool(0.5)).count(),
            UserKind::Bot => 3,
            UserKind::Scanner => 1,
        };
        for _ in 0..count {
            let ticket = rng.random_range(0.0..sum);
            let start = cumulative.partition_point(|&c| c < ticket) as u32;
            let length: f64 = match user.kind {
                UserKind::Person => rng.sample(person_length).clamp(30.0, 5400.0),
                UserKind::Bot => rng.sample(bot_length).clamp(600.0, 12.0 * 3600.0),
                UserKind::Scanner => rng.random_range(60.0..600.0),
            };
            sessions.push(Session {
                start,
                end: (start + length as u32).min(DAY_SECONDS),
                user: index as u32,
            });
        }
    }
    sessions.sort_by_key(|s| (s.start, s.user));
    sessions
}

/// Requests per second: proportional to the sessions active in it, summing
/// to exactly `lines`.
fn requests_per_second(sessions: &[Session], lines: u64) -> Vec<u64> {
    let mut delta = vec![0i64; DAY_SECONDS as usize + 1];
    for session in sessions {
        delta[session.start as usize] += 1;
        delta[session.end as usize] -= 1;
    }
    let mut active = Vec::with_capacity(DAY_SECONDS as usize);
    let mut running = 0i64;
    for d in &delta[..DAY_SECONDS as usize] {
        running += d;
        active.push(running.max(0) as u128);
    }
    let total: u128 = active.iter().sum::<u128>().max(1);
    let mut seen = 0u128;
    let mut emitted = 0u64;
    active
        .iter()
        .map(|&a| {
            seen += a;
            let target = (u128::from(lines) * seen / total) as u64;
            let here = target - emitted;
            emitted = target;
            here
        })
        .collect()
}

/// Latency in milliseconds: log-normal around `median_ms`.
fn lognormal_ms<R: Rng>(rng: &mut R, median_ms: f64, sigma: f64) -> u64 {
    let z: f64 = rng.sample(StandardNormal);
    (median_ms * (sigma * z).exp()).clamp(0.0, 59_000.0) as u64
}

/// The request part of a line and its outcome.
struct Outcome {
    method: &'static str,
    path: String,
    referer: String,
    status: u16,
    bytes: u64,
    latency_ms: u64,
}

fn person_request<R: Rng>(rng: &mut R, user: &User, second: u32, slot: &Slot) -> Outcome {
    let roll: f64 = rng.random();
    let product = rng.random_range(1000..40_000u32);
    let page = format!("{SITE}/product/{product}");
    let (method, path, referer, dynamic) = if roll < 0.5 {
        let (asset, _) = ASSETS[rng.random_range(0..ASSETS.len())];
        let path = if rng.random_bool(0.5) {
            format!("/images/products/{product}/{}.jpg", rng.random_range(1..6))
        } else {
            asset.to_string()
        };
        ("GET", path, page, false)
    } else if roll < 0.68 {
        let path = match rng.random_range(0..10) {
            0 => "/".to_string(),
            1 => format!(
                "/category/{}?page={}",
                CATEGORIES[rng.random_range(0..CATEGORIES.len())],
                rng.random_range(1..6)
            ),
            2 => format!(
                "/search?q={}",
                CATEGORIES[rng.random_range(0..CATEGORIES.len())]
            ),
            3 => "/cart".to_string(),
            _ => format!("/product/{product}"),
        };
        let referer = if rng.random_bool(0.35) {
            "-".to_string()
        } else {
            format!("{SITE}/")
        };
        ("GET", path, referer, true)
    } else {
        let (method, path) = match rng.random_range(0..10) {
            0..=3 => ("GET", format!("/api/v1/products/{product}")),
            4 | 5 => ("GET", "/api/v1/cart".to_string()),
            6 => (
                "GET",
                format!("/api/v1/recommendations?product={product}&limit=12"),
            ),
            7 => ("POST", "/api/v1/cart/items".to_string()),
            _ => ("POST", "/api/v1/events".to_string()),
        };
        (method, path, page, true)
    };
    let in_incident = slot
        .incident_start_s
        .is_some_and(|start| (start..start + INCIDENT_SECONDS).contains(&second));
    if dynamic && in_incident && user.upstream == FAILING_UPSTREAM {
        let (status, latency_ms) = match rng.random_range(0..20) {
            0..=10 => (502, rng.random_range(1..40)),
            11..=14 => (504, 60_000),
            15..=16 => (499, rng.random_range(5_000..30_000)),
            _ => (200, rng.random_range(2_000..9_000)),
        };
        let bytes = if status == 200 { 14_000 } else { 157 };
        return Outcome {
            method,
            path,
            referer,
            status,
            bytes,
            latency_ms,
        };
    }
    let slowdown = if in_incident && dynamic { 1.6 } else { 1.0 };
    let (status, bytes, latency_ms) = if !dynamic {
        let status = match rng.random_range(0..1000) {
            0..=769 => 200,
            770..=979 => 304,
            _ => 404,
        };
        let bytes = match status {
            200 => rng.random_range(800..400_000),
            304 => 0,
            _ => 153,
        };
        (status, bytes, lognormal_ms(rng, 1.0, 0.9))
    } else {
        let status = match rng.random_range(0..10_000) {
            0..=9_499 => {
                if method == "POST" {
                    201
                } else {
                    200
                }
            }
            9_500..=9_649 => 302,
            9_650..=9_849 => 404,
            9_850..=9_929 => 400,
            9_930..=9_969 => 401,
            9_970..=9_984 => 499,
            9_985..=9_996 => 500,
            _ => 503,
        };
        let latency = lognormal_ms(rng, 38.0 * slowdown, 0.75);
        let latency = if status == 499 {
            latency + rng.random_range(1_000..10_000)
        } else {
            latency
        };
        (status, rng.random_range(180..48_000), latency)
    };
    Outcome {
        method,
        path,
        referer,
        status,
        bytes,
        latency_ms,
    }
}

fn bot_request<R: Rng>(rng: &mut R, user: &User) -> Outcome {
    if user.agent.starts_with("kube-probe") || user.agent.starts_with("Prometheus") {
        let path = if user.agent.starts_with("kube") {
            "/healthz"
        } else {
            "/metrics"
        };
        return Outcome {
            method: "GET",
            path: path.to_string(),
            referer: "-".to_string(),
            status: 200,
            bytes: rng.random_range(2..9_000),
            latency_ms: lognormal_ms(rng, 2.0, 0.5),
        };
    }
    let product = rng.random_range(1000..40_000u32);
    let status = if rng.random_bool(0.03) { 404 } else { 200 };
    Outcome {
        method: "GET",
        path: format!("/product/{product}"),
        referer: "-".to_string(),
        status,
        bytes: rng.random_range(9_000..52_000),
        latency_ms: lognormal_ms(rng, 45.0, 0.6),
    }
}

fn scanner_request<R: Rng>(rng: &mut R) -> Outcome {
    let status = if rng.random_bool(0.9) { 404 } else { 403 };
    Outcome {
        method: if rng.random_bool(0.8) { "GET" } else { "POST" },
        path: SCANNER_PATHS[rng.random_range(0..SCANNER_PATHS.len())].to_string(),
        referer: "-".to_string(),
        status,
        bytes: 153,
        latency_ms: lognormal_ms(rng, 1.0, 0.5),
    }
}

/// `dd/Mon/yyyy:HH:MM:SS +0100` for a second counted from the generated
/// day's local midnight (completions may spill past midnight).
fn clf_time(local_second: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = DAY_SINCE_EPOCH + (local_second / 86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    let of_day = local_second % 86_400;
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} {ZONE_TEXT}",
        MONTHS[(month - 1) as usize],
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// Civil date of days since 1970-01-01 (Howard Hinnant's algorithm,
/// <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes the log, streaming; returns what was written.
pub fn write_log<W: Write>(options: &GenOptions, mut out: W) -> io::Result<GenSummary> {
    let mut rng = Pcg64Mcg::seed_from_u64(options.seed);
    let users = make_users(&mut rng);
    let sessions = make_sessions(&mut rng, &users);
    let per_second = requests_per_second(&sessions, options.lines);
    // Requests are drawn from their own stream so the users and sessions
    // above do not depend on how many lines are asked for.
    let mut rng = Pcg64Mcg::seed_from_u64(
        options.seed ^ REQUEST_STREAM ^ options.slot.stream.wrapping_mul(STREAM_SPREAD),
    );
    let day_ms = u64::from(options.slot.day) * u64::from(DAY_SECONDS) * 1000;
    let mut in_flight: BinaryHeap<Pending> = BinaryHeap::new();
    let mut active: Vec<Session> = Vec::new();
    let mut next_session = 0;
    let mut sequence = 0u64;
    let mut summary = GenSummary {
        users: USERS,
        ..GenSummary::default()
    };
    let mut time_cache: (u64, String) = (u64::MAX, String::new());
    let write_due = |in_flight: &mut BinaryHeap<Pending>,
                     before_ms: u64,
                     out: &mut W,
                     summary: &mut GenSummary|
     -> io::Result<()> {
        while summary.lines < options.max_lines
            && in_flight
                .peek()
                .is_some_and(|p| p.completion_ms < before_ms)
        {
            let Some(pending) = in_flight.pop() else {
                break;
            };
            out.write_all(&pending.line)?;
            summary.lines += 1;
            summary.bytes += pending.line.len() as u64;
        }
        Ok(())
    };
    for second in 0..DAY_SECONDS {
        if summary.lines >= options.max_lines {
            break;
        }
        while next_session < sessions.len() && sessions[next_session].start <= second {
            active.push(sessions[next_session]);
            next_session += 1;
        }
        active.retain(|s| s.end > second);
        if second < options.from_second || second >= options.slot.until_second {
            continue;
        }
        for _ in 0..per_second[second as usize] {
            let Some(session) =
                (!active.is_empty()).then(|| active[rng.random_range(0..active.len())])
            else {
                break;
            };
            let user = &users[session.user as usize];
            let outcome = match user.kind {
                UserKind::Person => person_request(&mut rng, user, second, &options.slot),
                UserKind::Bot => bot_request(&mut rng, user),
                UserKind::Scanner => scanner_request(&mut rng),
            };
            let arrival_ms = day_ms + u64::from(second) * 1000 + rng.random_range(0..1000u64);
            let completion_ms = arrival_ms + outcome.latency_ms;
            let logged_second = completion_ms / 1000;
            if time_cache.0 != logged_second {
                time_cache = (logged_second, clf_time(logged_second));
            }
            let line = match options.layout {
                Layout::HaProxy => haproxy_line(user, &outcome, arrival_ms, completion_ms),
                Layout::AwsAlb => alb_line(user, &outcome, arrival_ms, completion_ms),
                _ => format_line(options.layout, user, &outcome, &time_cache.1),
            };
            in_flight.push(Pending {
                completion_ms,
                sequence,
                line,
            });
            sequence += 1;
        }
        write_due(
            &mut in_flight,
            day_ms + (u64::from(second) + 1) * 1000,
            &mut out,
            &mut summary,
        )?;
    }
    write_due(&mut in_flight, u64::MAX, &mut out, &mut summary)?;
    out.flush()?;
    Ok(summary)
}

fn format_line(layout: Layout, user: &User, outcome: &Outcome, time: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(320);
    let _ = write!(
        line,
        "{} - - [{time}] \"{} {} HTTP/1.1\" {} {}",
        user.address, outcome.method, outcome.path, outcome.status, outcome.bytes
    );
    if layout != Layout::Common {
        let _ = write!(line, " \"{}\" \"{}\"", outcome.referer, user.agent);
    }
    if layout == Layout::CombinedRequestTime {
        let _ = write!(
            line,
            " {}.{:03}",
            outcome.latency_ms / 1000,
            outcome.latency_ms % 1000
        );
    }
    line.push(b'\n');
    line
}

/// The zone offset of [`ZONE_TEXT`] in seconds: AWS writes UTC.
const ZONE_OFFSET_SECONDS: u64 = 3600;

/// Backends behind the load balancer of the HAProxy and ALB layouts.
const LOAD_BALANCER_BACKENDS: u64 = 4;

/// `Mon dd HH:MM:SS` (the syslog header) and `dd/Mon/yyyy:HH:MM:SS` (the
/// accept date) of a local second.
fn syslog_and_accept_time(local_second: u64) -> (String, String) {
    let clf = clf_time(local_second);
    let (date, clock) = (&clf[..11], &clf[12..20]);
    (
        format!("{} {} {clock}", &date[3..6], &date[..2]),
        format!("{date}:{clock}"),
    )
}

/// The backend a user is sticky to.
fn backend_of(user: &User) -> u64 {
    user.address.bytes().map(u64::from).sum::<u64>() % LOAD_BALANCER_BACKENDS
}

/// One HAProxy HTTP log line, written at completion with the accept date.
/// The failures are written as HAProxy writes them (configuration manual,
/// 8.5, "Session state at disconnection"): a client that left before the
/// answer (nginx's 499) is status -1 with `CH--`, a server that reset the
/// connection 502 with `SH--` and one that never answered 504 with `sH--`,
/// both with `Tr` -1 (no response was received); a 5xx the server itself
/// sent ends normally (`----`).
fn haproxy_line(user: &User, outcome: &Outcome, arrival_ms: u64, completion_ms: u64) -> Vec<u8> {
    let (header, _) = syslog_and_accept_time(completion_ms / 1000);
    let (_, accept) = syslog_and_accept_time(arrival_ms / 1000);
    let latency = outcome.latency_ms;
    let (status, state, response_ms) = match outcome.status {
        499 => (-1, "CH--", -1),
        502 => (502, "SH--", -1),
        504 => (504, "sH--", -1),
        status => (i32::from(status), "----", latency.saturating_sub(1) as i64),
    };
    let mut line = Vec::with_capacity(320);
    let _ = writeln!(
        line,
        "{header} lb01 haproxy[2231]: {}:{} [{accept}.{:03}] www~ www/app{} 0/0/1/{response_ms}/{latency} {status} {} - - {state} 12/12/4/1/0 0/0 \"{} {} HTTP/1.1\"",
        user.address,
        40_000 + arrival_ms % 20_000,
        arrival_ms % 1000,
        backend_of(user) + 1,
        outcome.bytes,
        outcome.method,
        outcome.path,
    );
    line
}

/// `2024-03-12T10:00:00.123000Z` of a local millisecond (UTC, as AWS
/// writes: the first hour of the local day is the day before in UTC).
fn aws_time(local_ms: u64) -> String {
    let utc_ms = local_ms as i64 - (ZONE_OFFSET_SECONDS * 1000) as i64;
    let second = utc_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(DAY_SINCE_EPOCH + second.div_euclid(86_400));
    let of_day = second.rem_euclid(86_400);
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}000Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        utc_ms.rem_euclid(1000)
    )
}

/// One ALB access log line, in the field order of AWS's documentation
/// ("Access log entries", Application Load Balancers). The failures are
/// written as an ALB writes them: a client that left (nginx's 499) is 460,
/// a target that closed the connection 502 and one that never answered 504,
/// each without a target status; the processing times after the request
/// was dispatched are -1 ("the load balancer can't dispatch the request
/// ... if the target closes the connection"), all three for 502 and 504;
/// a 5xx the target itself sent is both codes.
fn alb_line(user: &User, outcome: &Outcome, arrival_ms: u64, completion_ms: u64) -> Vec<u8> {
    let target = format!("10.0.1.{}:8080", 10 + backend_of(user));
    let latency = outcome.latency_ms;
    let (elb_status, target_status, times) = match outcome.status {
        499 => (460, "-".to_string(), "0.000 -1 -1".to_string()),
        status @ (502 | 504) => (status, "-".to_string(), "-1 -1 -1".to_string()),
        status => (
            status,
            status.to_string(),
            format!("0.000 {}.{:03} 0.000", latency / 1000, latency % 1000),
        ),
    };
    let mut line = Vec::with_capacity(700);
    let _ = writeln!(
        line,
        "https {} app/shop/50dc6c495c0c9188 {}:{} {target} {times} {elb_status} {target_status} 412 {} \"{} https://shop.example:443{} HTTP/1.1\" \"{}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop/73e2d6bc24d8a067 \"Root=1-65f1c0de-{:024x}\" \"shop.example\" \"arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012\" 0 {} \"forward\" \"-\" \"-\" \"{target}\" \"{target_status}\" \"-\" \"-\" TID_{:032x}",
        aws_time(completion_ms),
        user.address,
        40_000 + arrival_ms % 20_000,
        outcome.bytes,
        outcome.method,
        outcome.path,
        user.agent,
        arrival_ms,
        aws_time(arrival_ms),
        completion_ms,
    );
    line
}

/// Lines per day of the benchmark log (BENCHMARKS.md).
pub const BENCHMARK_DAY_LINES: u64 = 5_000_000;

/// Second of the day where in-memory samples start: 10:00, busy traffic.
const SAMPLE_FROM_SECOND: u32 = 10 * 3600;

/// About `lines` consecutive lines of the benchmark day from 10:00, in
/// memory, for the criterion benchmarks: as dense in time (requests and
/// users per minute) as the 5-million-line log.
pub fn log_in_memory(lines: u64, seed: u64, layout: Layout) -> Vec<u8> {
    let mut bytes = Vec::new();
    let options = GenOptions {
        lines: BENCHMARK_DAY_LINES,
        seed,
        layout,
        from_second: SAMPLE_FROM_SECOND,
        max_lines: lines,
        slot: Slot::default(),
    };
    // Writing to a Vec cannot fail.
    let _ = write_log(&options, &mut bytes);
    bytes
}
