//! The people and machines that send requests: a population of users, each
//! a client address plus a user agent (the contract's `ip-ua` key).
//!
//! Addresses look like real ISP and mobile-carrier space (IPv4 and some
//! IPv6); a share of people sit behind a shared address (office NAT, carrier
//! NAT, corporate proxy) with different browsers, so `--users ip` and
//! `--users ip-ua` count differently. Crawlers come from their operators'
//! networks, and an uptime monitor probes from a few fixed addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::RngExt;
use rand_pcg::Pcg64;

use super::catalog::{
    CRAWLERS, ClientKind, MONITOR_ADDRESSES, MONITOR_USER_AGENT, browser_user_agent,
};
use super::sampling::{chance, log_normal, pick};

/// First octets of IPv4 space that ISPs and carriers hand to subscribers.
const SUBSCRIBER_FIRST_OCTETS: [u8; 48] = [
    2, 5, 24, 31, 37, 46, 47, 50, 62, 67, 68, 69, 70, 71, 72, 73, 75, 76, 77, 78, 79, 80, 81, 82,
    83, 84, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 108, 109, 151, 174, 176, 178,
    188, 217,
];
/// The first two 16-bit groups of IPv6 subscriber prefixes of large ISPs.
const SUBSCRIBER_IPV6_PREFIXES: [[u16; 2]; 8] = [
    [0x2a02, 0x8108],
    [0x2003, 0x00e2],
    [0x2a01, 0xcb1c],
    [0x2600, 0x1700],
    [0x2601, 0x018c],
    [0x2a00, 0x23c6],
    [0x2406, 0x3003],
    [0x2804, 0x014d],
];
/// Smallest and largest number of people sharing one address behind NAT.
const NAT_GROUP_SIZE: (usize, usize) = (2, 6);
/// Spread (log-normal sigma) of how active people are: a few are very active.
const ACTIVITY_SIGMA: f64 = 0.9;
/// Share of browser users who send HTTP/2 (the rest HTTP/1.1).
const HTTP2_SHARE: f64 = 0.78;
/// Share of people behind a shared address whose proxy adds `X-Forwarded-For`.
const FORWARDED_FOR_SHARE: f64 = 0.45;
/// Share of people who visited before, so their browser has the assets cached.
const RETURNING_SHARE: f64 = 0.45;
/// Addresses per crawler operator.
const ADDRESSES_PER_CRAWLER: usize = 4;
/// Attempts to find a user agent not yet used behind a shared address.
const DISTINCT_AGENT_ATTEMPTS: usize = 20;

/// One user: what the logs show of them and how they behave.
#[derive(Debug, Clone)]
pub struct User {
    pub ip: IpAddr,
    pub user_agent: String,
    pub kind: ClientKind,
    /// `HTTP/1.1` or `HTTP/2.0`, as the request line prints it.
    pub protocol: &'static str,
    /// Relative activity: how often this user starts a session.
    pub weight: f64,
    /// Stable hash of the address, for sticky (`hash $remote_addr`) routing.
    pub address_hash: u64,
    /// The `X-Forwarded-For` a proxy in front of the user adds.
    pub forwarded_for: Option<String>,
    /// The browser has the static assets cached from an earlier visit.
    pub returning: bool,
    /// Index into [`CRAWLERS`] for crawlers.
    pub crawler: Option<usize>,
}

/// How many users of each kind a scenario has.
#[derive(Debug, Clone, Copy)]
pub struct PopulationPlan {
    /// People (browsers and app users).
    pub people: usize,
    /// Share of people behind a shared (NAT) address.
    pub nat_share: f64,
    /// Share of people with an IPv6 address.
    pub ipv6_share: f64,
    /// Days since the epoch of the scenario (browser versions follow it).
    pub day: i64,
}

/// Everyone who may send a request in a scenario.
#[derive(Debug, Clone)]
pub struct Population {
    pub users: Vec<User>,
    /// Indices of people, with the running sum of their weights.
    people: Vec<u32>,
    people_cumulative_weight: Vec<f64>,
    /// Indices of crawler users.
    crawlers: Vec<u32>,
    /// Indices of the uptime monitor's users (one per probe address).
    monitors: Vec<u32>,
}

impl Population {
    /// Builds the population of `plan` from `rng`.
    pub fn build(plan: &PopulationPlan, rng: &mut Pcg64) -> Population {
        let mut users = Vec::with_capacity(plan.people + 40);
        let mut people = Vec::with_capacity(plan.people);
        while people.len() < plan.people {
            let remaining = plan.people - people.len();
            let group_size = if chance(rng, plan.nat_share / 3.0) {
                rng.random_range(NAT_GROUP_SIZE.0..=NAT_GROUP_SIZE.1)
                    .min(remaining)
            } else {
                1
            };
            let ip = if group_size == 1 && chance(rng, plan.ipv6_share) {
                subscriber_ipv6(rng)
            } else {
                subscriber_ipv4(rng)
            };
            let proxied = group_size > 1 && chance(rng, FORWARDED_FOR_SHARE);
            let mut agents_here: Vec<String> = Vec::with_capacity(group_size);
            for _ in 0..group_size {
                let (mut user_agent, mut kind) = browser_user_agent(rng, plan.day);
                for _ in 0..DISTINCT_AGENT_ATTEMPTS {
                    if !agents_here.contains(&user_agent) {
                        break;
                    }
                    (user_agent, kind) = browser_user_agent(rng, plan.day);
                }
                if agents_here.contains(&user_agent) {
                    // Same address and agent is the same user by the key;
                    // skip rather than create an indistinguishable twin.
                    continue;
                }
                agents_here.push(user_agent.clone());
                let forwarded_for = proxied.then(|| {
                    format!(
                        "10.{}.{}.{}",
                        rng.random_range(0..255u8),
                        rng.random_range(0..255u8),
                        rng.random_range(2..254u8)
                    )
                });
                let protocol = match kind {
                    ClientKind::App => "HTTP/2.0",
                    _ if chance(rng, HTTP2_SHARE) => "HTTP/2.0",
                    _ => "HTTP/1.1",
                };
                people.push(users.len() as u32);
                users.push(User {
                    ip,
                    user_agent,
                    kind,
                    protocol,
                    weight: log_normal(rng, 1.0, ACTIVITY_SIGMA),
                    address_hash: address_hash(ip),
                    forwarded_for,
                    returning: chance(rng, RETURNING_SHARE),
                    crawler: None,
                });
            }
        }
        let mut crawlers = Vec::new();
        for (crawler_index, crawler) in CRAWLERS.iter().enumerate() {
            for _ in 0..ADDRESSES_PER_CRAWLER {
                let [a, b, c] = crawler.network;
                let ip = IpAddr::V4(Ipv4Addr::new(a, b, c, rng.random_range(1..255u8)));
                if users
                    .iter()
                    .any(|user: &User| user.ip == ip && user.crawler.is_some())
                {
                    continue;
                }
                crawlers.push(users.len() as u32);
                users.push(User {
                    ip,
                    user_agent: crawler.user_agent.to_string(),
                    kind: ClientKind::Crawler,
                    protocol: "HTTP/1.1",
                    weight: 1.0,
                    address_hash: address_hash(ip),
                    forwarded_for: None,
                    returning: false,
                    crawler: Some(crawler_index),
                });
            }
        }
        let mut monitors = Vec::new();
        for octets in MONITOR_ADDRESSES {
            let ip = IpAddr::V4(Ipv4Addr::from(octets));
            monitors.push(users.len() as u32);
            users.push(User {
                ip,
                user_agent: MONITOR_USER_AGENT.to_string(),
                kind: ClientKind::Monitor,
                protocol: "HTTP/1.1",
                weight: 1.0,
                address_hash: address_hash(ip),
                forwarded_for: None,
                returning: false,
                crawler: None,
            });
        }
        let mut running = 0.0;
        let people_cumulative_weight = people
            .iter()
            .map(|&index| {
                running += users[index as usize].weight;
                running
            })
            .collect();
        Population {
            users,
            people,
            people_cumulative_weight,
            crawlers,
            monitors,
        }
    }

    /// A person, chosen in proportion to their activity.
    pub fn pick_person(&self, rng: &mut Pcg64) -> u32 {
        let total = self.people_cumulative_weight.last().copied().unwrap_or(0.0);
        if total <= 0.0 {
            return self.people.first().copied().unwrap_or(0);
        }
        let target = rng.random_range(0.0..total);
        let position = self
            .people_cumulative_weight
            .partition_point(|&cumulative| cumulative <= target)
            .min(self.people.len() - 1);
        self.people[position]
    }

    /// A crawler address, chosen by the operators' crawl shares.
    pub fn pick_crawler(&self, rng: &mut Pcg64) -> Option<u32> {
        let total: f64 = CRAWLERS.iter().map(|crawler| crawler.weight).sum();
        let mut target = rng.random_range(0.0..total);
        let mut operator = CRAWLERS.len() - 1;
        for (index, crawler) in CRAWLERS.iter().enumerate() {
            if target < crawler.weight {
                operator = index;
                break;
            }
            target -= crawler.weight;
        }
        let candidates: Vec<u32> = self
            .crawlers
            .iter()
            .copied()
            .filter(|&index| self.users[index as usize].crawler == Some(operator))
            .collect();
        if candidates.is_empty() {
            None
        } else {
            Some(pick(rng, &candidates))
        }
    }

    /// The monitor's probe users, in rotation order.
    pub fn monitors(&self) -> &[u32] {
        &self.monitors
    }

    /// Adds a user outside the regular population (a scanner, say) and
    /// returns its index. It is never picked for sessions.
    pub fn add_user(&mut self, user: User) -> u32 {
        self.users.push(user);
        (self.users.len() - 1) as u32
    }

    /// The user behind an index.
    pub fn user(&self, index: u32) -> &User {
        &self.users[index as usize]
    }
}

/// A public IPv4 address from subscriber space.
pub fn subscriber_ipv4(rng: &mut Pcg64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        pick(rng, &SUBSCRIBER_FIRST_OCTETS),
        rng.random_range(0..=255u8),
        rng.random_range(0..=255u8),
        rng.random_range(1..=254u8),
    ))
}

/// A public IPv6 address from an ISP's subscriber prefix.
fn subscriber_ipv6(rng: &mut Pcg64) -> IpAddr {
    let [first, second] = pick(rng, &SUBSCRIBER_IPV6_PREFIXES);
    let mut segments = [0u16; 8];
    segments[0] = first;
    segments[1] = second;
    for segment in segments.iter_mut().skip(2) {
        *segment = rng.random::<u16>();
    }
    IpAddr::V6(Ipv6Addr::from(segments))
}

/// FNV-1a over the address bytes, finished with the murmur3 avalanche so the
/// low bits spread evenly over backends: a stable hash, independent of the
/// standard library's randomised hasher.
pub fn address_hash(ip: IpAddr) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0100_0000_01b3;
    const AVALANCHE: u64 = 0xff51_afd7_ed55_8ccd;
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mut hash = bytes.iter().fold(FNV_OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
    });
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(AVALANCHE);
    hash ^ (hash >> 33)
}
