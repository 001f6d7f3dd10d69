//! A streaming writer of large nginx logs for benchmarks: one day of
//! diurnal traffic from ~50 000 users, with a 30-minute incident at noon.
//!
//! Unlike the scenarios it keeps no request list: it walks the day second by
//! second, keeps only the requests still in flight in a heap (so lines come
//! out in completion order, as nginx writes them), and renders each line
//! into one reused buffer. Memory stays flat whatever the line count.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::f64::consts::TAU;
use std::io::{self, Write};
use std::net::IpAddr;

use rand::RngExt;
use rand_pcg::Pcg64;

use super::catalog::{Site, browser_user_agent};
use super::clock::{MS_PER_SECOND, Zone, days_from_civil, epoch_ms, write_clf};
use super::population::subscriber_ipv4;
use super::render::write_seconds_millis;
use super::sampling::{chance, log_normal, stream, zipf_index};

/// Distinct users (address + agent) the day's traffic comes from.
const BENCH_USERS: usize = 50_000;
/// Distinct user agents among them.
const BENCH_AGENTS: usize = 400;
/// The benchmark day (a Tuesday) and its zone.
const BENCH_DAY: (i32, u32, u32) = (2024, 1, 16);
const BENCH_ZONE: Zone = Zone::UTC;
const SECONDS_PER_DAY: i64 = 86_400;
/// The incident: 12:00:00 to 12:30:00, hitting users whose index is a
/// multiple of three, most of their dynamic requests.
const INCIDENT_FROM_SECOND: i64 = 12 * 3_600;
const INCIDENT_TO_SECOND: i64 = INCIDENT_FROM_SECOND + 30 * 60;
const INCIDENT_USER_MODULUS: u32 = 3;
const INCIDENT_BAD_PROBABILITY: f64 = 0.6;
/// Night rate as a share of the afternoon peak.
const TROUGH_RATIO: f64 = 0.2;
const PEAK_HOUR: f64 = 15.0;
/// Bytes buffered before a write to the output.
const WRITE_CHUNK_BYTES: usize = 1 << 20;
/// Purposes of the benchmark's random streams.
const CATALOG_STREAM: u64 = 101;
const TRAFFIC_STREAM: u64 = 102;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BenchKind {
    Page,
    Asset,
    Api,
}

struct BenchPath {
    text: String,
    kind: BenchKind,
    method: &'static str,
}

struct BenchUser {
    ip: IpAddr,
    agent: u16,
}

/// A request in flight, ordered by completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    completion_ms: i64,
    sequence: u64,
    arrival_ms: i64,
    user: u32,
    path: u16,
    referer: u16,
    status: u16,
    latency_ms: u32,
    bytes: u32,
}

/// Writes exactly `lines` lines of nginx `combined` + `$request_time` for one
/// day, deterministic for `seed`.
pub fn write_benchmark_log(lines: u64, seed: u64, out: &mut impl Write) -> io::Result<()> {
    let mut catalog_rng = stream(seed, CATALOG_STREAM);
    let day = days_from_civil(BENCH_DAY.0, BENCH_DAY.1, BENCH_DAY.2);
    let agents: Vec<String> = (0..BENCH_AGENTS)
        .map(|_| browser_user_agent(&mut catalog_rng, day).0)
        .collect();
    let users: Vec<BenchUser> = (0..BENCH_USERS)
        .map(|_| BenchUser {
            ip: subscriber_ipv4(&mut catalog_rng),
            agent: catalog_rng.random_range(0..BENCH_AGENTS as u16),
        })
        .collect();
    let site = Site::build("www.example.com", &mut catalog_rng);
    let paths = bench_paths(&site, &mut catalog_rng);
    let pages: Vec<u16> = indices_of(&paths, BenchKind::Page);
    let assets: Vec<u16> = indices_of(&paths, BenchKind::Asset);
    let apis: Vec<u16> = indices_of(&paths, BenchKind::Api);
    let mut referers: Vec<String> = vec!["-".into(), "https://www.google.com/".into()];
    referers.extend(
        pages
            .iter()
            .take(300)
            .map(|&page| site.url(&paths[page as usize].text)),
    );

    let mut rng = stream(seed, TRAFFIC_STREAM);
    let day_start_ms = epoch_ms(BENCH_ZONE, BENCH_DAY, (0, 0, 0));
    let weights: Vec<f64> = (0..SECONDS_PER_DAY).map(second_weight).collect();
    let total_weight: f64 = weights.iter().sum();
    let mut heap: BinaryHeap<Reverse<InFlight>> = BinaryHeap::new();
    let mut buffer: Vec<u8> = Vec::with_capacity(WRITE_CHUNK_BYTES + 4_096);
    let mut clock_cache = ClockCache::default();
    let mut cumulative = 0.0;
    let mut emitted_target: u64 = 0;
    let mut sequence: u64 = 0;
    for (second, weight) in weights.iter().enumerate() {
        cumulative += weight;
        // Cumulative rounding: exactly `lines` arrivals over the day.
        let target = ((lines as f64) * cumulative / total_weight).round() as u64;
        let target = if second as i64 == SECONDS_PER_DAY - 1 {
            lines
        } else {
            target.min(lines)
        };
        let arrivals = target - emitted_target;
        emitted_target = target;
        let second_start = day_start_ms + second as i64 * MS_PER_SECOND;
        let in_incident = (INCIDENT_FROM_SECOND..INCIDENT_TO_SECOND).contains(&(second as i64));
        for _ in 0..arrivals {
            let user = rng.random_range(0..BENCH_USERS as u32);
            let roll = rng.random_range(0..100u32);
            let (kind_paths, kind) = match roll {
                0..=34 => (&pages, BenchKind::Page),
                35..=84 => (&assets, BenchKind::Asset),
                _ => (&apis, BenchKind::Api),
            };
            let path = kind_paths[zipf_index(&mut rng, kind_paths.len())];
            let (mut status, median_ms, sigma) = match kind {
                BenchKind::Asset if chance(&mut rng, 0.25) => (304, 2.5, 0.6),
                BenchKind::Asset if chance(&mut rng, 0.006) => (404, 1.5, 0.6),
                BenchKind::Asset => (200, 24.0, 0.85),
                BenchKind::Page if chance(&mut rng, 0.012) => (404, 35.0, 0.5),
                BenchKind::Page => (200, 55.0, 0.55),
                BenchKind::Api => (200, 32.0, 0.6),
            };
            if kind != BenchKind::Asset && status == 200 {
                if chance(&mut rng, 0.003) {
                    status = 500;
                } else if chance(&mut rng, 0.0004) {
                    status = 499;
                }
            }
            let mut latency_ms = (log_normal(&mut rng, median_ms, sigma) as u32).min(899);
            if in_incident
                && kind != BenchKind::Asset
                && user % INCIDENT_USER_MODULUS == 0
                && chance(&mut rng, INCIDENT_BAD_PROBABILITY)
            {
                (status, latency_ms) = match rng.random_range(0..10u32) {
                    0..=3 => (200, rng.random_range(1_500..8_000)),
                    4..=6 => (504, 60_000 + rng.random_range(0..5)),
                    _ => (502, rng.random_range(0..5)),
                };
            }
            let bytes = match status {
                200 if kind == BenchKind::Asset => 18_000 + u32::from(path) * 37 % 90_000,
                200 => log_normal(&mut rng, 24_000.0, 0.35) as u32,
                404 => 153,
                500 => 1_480,
                502 => 157,
                504 => 167,
                _ => 0,
            };
            let referer = if kind == BenchKind::Page && chance(&mut rng, 0.5) {
                rng.random_range(0..2u16)
            } else {
                rng.random_range(2..referers.len() as u16)
            };
            let arrival_ms = second_start + rng.random_range(0..MS_PER_SECOND);
            sequence += 1;
            heap.push(Reverse(InFlight {
                completion_ms: arrival_ms + i64::from(latency_ms),
                sequence,
                arrival_ms,
                user,
                path,
                referer,
                status,
                latency_ms,
                bytes,
            }));
        }
        let horizon = second_start + MS_PER_SECOND;
        while heap
            .peek()
            .is_some_and(|Reverse(next)| next.completion_ms < horizon)
        {
            if let Some(Reverse(done)) = heap.pop() {
                render(
                    &done,
                    &users,
                    &agents,
                    &paths,
                    &referers,
                    &mut clock_cache,
                    &mut buffer,
                );
            }
            if buffer.len() >= WRITE_CHUNK_BYTES {
                out.write_all(&buffer)?;
                buffer.clear();
            }
        }
    }
    while let Some(Reverse(done)) = heap.pop() {
        render(
            &done,
            &users,
            &agents,
            &paths,
            &referers,
            &mut clock_cache,
            &mut buffer,
        );
        if buffer.len() >= WRITE_CHUNK_BYTES {
            out.write_all(&buffer)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer)?;
    out.flush()
}

/// Relative traffic in second `second` of the day.
fn second_weight(second: i64) -> f64 {
    let hour = second as f64 / 3_600.0;
    TROUGH_RATIO + (1.0 - TROUGH_RATIO) * (1.0 + (TAU * (hour - PEAK_HOUR) / 24.0).cos()) / 2.0
}

/// The CLF timestamp of the last rendered second, reused while it lasts.
#[derive(Default)]
struct ClockCache {
    second: Option<i64>,
    text: Vec<u8>,
}

impl ClockCache {
    fn get(&mut self, second: i64) -> &[u8] {
        if self.second != Some(second) {
            self.text.clear();
            write_clf(&mut self.text, second, BENCH_ZONE);
            self.second = Some(second);
        }
        &self.text
    }
}

fn render(
    request: &InFlight,
    users: &[BenchUser],
    agents: &[String],
    paths: &[BenchPath],
    referers: &[String],
    clock: &mut ClockCache,
    out: &mut Vec<u8>,
) {
    let user = &users[request.user as usize];
    let path = &paths[request.path as usize];
    let _ = write!(out, "{} - - [", user.ip);
    out.extend_from_slice(clock.get(request.completion_ms.div_euclid(MS_PER_SECOND)));
    let _ = write!(
        out,
        "] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\" ",
        path.method,
        path.text,
        request.status,
        request.bytes,
        referers[request.referer as usize],
        agents[user.agent as usize]
    );
    write_seconds_millis(out, u64::from(request.latency_ms));
    out.push(b'\n');
    debug_assert!(request.arrival_ms <= request.completion_ms);
}

fn bench_paths(site: &Site, rng: &mut Pcg64) -> Vec<BenchPath> {
    let mut paths = vec![BenchPath {
        text: "/".into(),
        kind: BenchKind::Page,
        method: "GET",
    }];
    for product in &site.products {
        paths.push(BenchPath {
            text: Site::product_path(product),
            kind: BenchKind::Page,
            method: "GET",
        });
        paths.push(BenchPath {
            text: site.product_image(product, rng),
            kind: BenchKind::Asset,
            method: "GET",
        });
        paths.push(BenchPath {
            text: format!("/api/v1/products/{}/stock", product.id),
            kind: BenchKind::Api,
            method: "GET",
        });
    }
    for _ in 0..60 {
        paths.push(BenchPath {
            text: Site::category_path(rng),
            kind: BenchKind::Page,
            method: "GET",
        });
        paths.push(BenchPath {
            text: Site::search_path(rng),
            kind: BenchKind::Page,
            method: "GET",
        });
    }
    for asset in &site.core_assets {
        paths.push(BenchPath {
            text: asset.clone(),
            kind: BenchKind::Asset,
            method: "GET",
        });
    }
    paths.push(BenchPath {
        text: "/api/v1/cart/items".into(),
        kind: BenchKind::Api,
        method: "POST",
    });
    paths.push(BenchPath {
        text: "/api/v1/events".into(),
        kind: BenchKind::Api,
        method: "POST",
    });
    paths
}

fn indices_of(paths: &[BenchPath], kind: BenchKind) -> Vec<u16> {
    paths
        .iter()
        .enumerate()
        .filter(|(_, path)| path.kind == kind)
        .map(|(index, _)| index as u16)
        .collect()
}
