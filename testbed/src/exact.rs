//! Exact truth for the contract's definitions: a list of requests whose
//! every arrival, user, status and request time the test knows, the access
//! log a server would write for them, and the numbers a report must give.
//!
//! The sample scenarios of [`crate::synth`] are statistical (their ground
//! truth allows tolerances at the edges); this module is for cases where the
//! answer is exact to the millisecond: the start is the first bad request,
//! the end the last one, and impact counts every request and distinct user
//! in `[start, end]`.
//!
//! ```
//! use postmortem_testbed::exact::{LogStyle, Request, steady, truth};
//! // Ten minutes from 10:00Z, a request every 500 ms from 40 users, then
//! // every request from 10:05 on fails with a 502.
//! let start = 1_715_076_000_000; // 2024-05-07T10:00:00Z
//! let mut requests = steady(start, start + 600_000, 500, 40, 20);
//! for request in &mut requests {
//!     if request.arrival_ms >= start + 300_000 {
//!         request.status = 502;
//!     }
//! }
//! let style = LogStyle::NGINX;
//! let log = style.render(&requests); // write it to a file, run the report
//! let expected = truth(style, &requests, 1_000_000, |_| true).unwrap();
//! // nginx stamps 10:05:00 (completion, .020 truncated); minus 20 ms.
//! assert_eq!(expected.start_ms, start + 300_000 - 20);
//! assert_eq!(expected.requests_failed, 600);
//! # assert!(log.lines().count() == 1200);
//! ```
//!
//! Times a tool can read back differ from the true arrival: nginx writes
//! `$time_local` (whole seconds) at completion, so the arrival a reader
//! reconstructs is the completion second minus `$request_time`; Apache's
//! `%t` is the arrival truncated to the second. [`LogStyle::observed`] is
//! that reconstruction, and every figure of [`Truth`] uses it: it is the
//! best any reader of the line can do.

use std::collections::HashSet;
use std::fmt::Write;

/// Milliseconds a minute, for building cases.
pub const MINUTE_MS: i64 = 60_000;

/// One request: when it arrived (UTC epoch ms), who sent it, what it got
/// and how long it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub arrival_ms: i64,
    /// Rendered as a distinct address and user agent (see [`client_address`]).
    pub user: u32,
    pub status: u16,
    /// Written with millisecond precision, as nginx's `$request_time`.
    pub request_time_ms: u32,
}

impl Request {
    /// The contract's failed request: 5xx, or 499.
    pub fn is_failed(&self) -> bool {
        self.status >= 500 || self.status == 499
    }

    /// Slower than `slow_us` (strictly, as `--slow` reads).
    pub fn is_slow(&self, slow_us: u64) -> bool {
        u64::from(self.request_time_ms) * 1000 > slow_us
    }

    /// Failed or slow.
    pub fn is_bad(&self, slow_us: u64) -> bool {
        self.is_failed() || self.is_slow(slow_us)
    }

    fn completion_ms(&self) -> i64 {
        self.arrival_ms + i64::from(self.request_time_ms)
    }
}

/// The address a user's requests come from: one per user, unique for the
/// first 16.7 million users.
pub fn client_address(user: u32) -> String {
    format!(
        "10.{}.{}.{}",
        (user >> 16) & 255,
        (user >> 8) & 255,
        user & 255
    )
}

/// Which server writes the log, and in which zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogStyle {
    pub server: Server,
    /// The zone offset the log's times carry, in minutes east of UTC.
    pub offset_minutes: i32,
}

/// The two ways a server stamps an access-log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// nginx `combined` + ` $request_time`: completion time, the request
    /// time in seconds with milliseconds.
    Nginx,
    /// Apache `combined` + ` %D`: arrival time, the request time in
    /// microseconds.
    Apache,
}

impl LogStyle {
    /// nginx in UTC.
    pub const NGINX: LogStyle = LogStyle {
        server: Server::Nginx,
        offset_minutes: 0,
    };
    /// Apache in UTC.
    pub const APACHE: LogStyle = LogStyle {
        server: Server::Apache,
        offset_minutes: 0,
    };

    /// The arrival a reader of this log can reconstruct from the line.
    pub fn observed(&self, request: &Request) -> i64 {
        match self.server {
            Server::Nginx => {
                request.completion_ms().div_euclid(1000) * 1000 - i64::from(request.request_time_ms)
            }
            Server::Apache => request.arrival_ms.div_euclid(1000) * 1000,
        }
    }

    /// The second written in the line (UTC epoch seconds).
    fn stamped_second(&self, request: &Request) -> i64 {
        match self.server {
            Server::Nginx => request.completion_ms().div_euclid(1000),
            Server::Apache => request.arrival_ms.div_euclid(1000),
        }
    }

    /// The log's lines, in completion order (both servers write a line when
    /// the request completes), one per request.
    pub fn render(&self, requests: &[Request]) -> String {
        let mut order: Vec<&Request> = requests.iter().collect();
        order.sort_by_key(|r| (r.completion_ms(), r.arrival_ms));
        let mut text = String::with_capacity(requests.len() * 130);
        for request in order {
            self.render_line(&mut text, request);
        }
        text
    }

    fn render_line(&self, text: &mut String, r: &Request) {
        let offset_s = i64::from(self.offset_minutes) * 60;
        let local = self.stamped_second(r) + offset_s;
        let Some(stamp) = chrono::DateTime::from_timestamp(local, 0) else {
            return; // outside chrono's range: no test builds such a case
        };
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let offset = self.offset_minutes.unsigned_abs();
        let request_time = match self.server {
            Server::Nginx => format!(
                "{}.{:03}",
                r.request_time_ms / 1000,
                r.request_time_ms % 1000
            ),
            Server::Apache => (u64::from(r.request_time_ms) * 1000).to_string(),
        };
        let _ = writeln!(
            text,
            "{} - - [{} {sign}{:02}{:02}] \"GET /item/{} HTTP/1.1\" {} 512 \"-\" \"Mozilla/5.0 (user {})\" {request_time}",
            client_address(r.user),
            stamp.format("%d/%b/%Y:%H:%M:%S"),
            offset / 60,
            offset % 60,
            r.user % 97,
            r.status,
            r.user,
        );
    }
}

/// Requests from `from_ms` (inclusive) to `to_ms` (exclusive), one every
/// `spacing_ms`, all `200` in `request_time_ms`, users taking turns over
/// `users` (a stride that visits every user, so neighbours differ).
pub fn steady(
    from_ms: i64,
    to_ms: i64,
    spacing_ms: i64,
    users: u32,
    request_time_ms: u32,
) -> Vec<Request> {
    let users = users.max(1);
    let stride = coprime_stride(users);
    let mut all = Vec::new();
    let mut arrival = from_ms;
    let mut index: u64 = 0;
    while arrival < to_ms {
        all.push(Request {
            arrival_ms: arrival,
            user: ((index * u64::from(stride)) % u64::from(users)) as u32,
            status: 200,
            request_time_ms,
        });
        arrival += spacing_ms.max(1);
        index += 1;
    }
    all
}

/// `count` requests spread evenly over `[from_ms, from_ms + span_ms)`
/// (a sparse month and a dense hour of the same number of lines differ
/// only in `span_ms`), 40 ms each from `users` users, and every request
/// arriving in the `outage_ms` at the middle of the span fails with a 502:
/// one incident whose edges are the first and last request inside it.
pub fn spread_with_outage(
    from_ms: i64,
    span_ms: i64,
    count: u64,
    users: u32,
    outage_ms: i64,
) -> Vec<Request> {
    let spacing_ms = (span_ms / count.max(1) as i64).max(1);
    let mut requests = steady(from_ms, from_ms + span_ms, spacing_ms, users, 40);
    requests.truncate(count as usize);
    let outage_from = from_ms + span_ms / 2;
    for request in &mut requests {
        if (outage_from..outage_from + outage_ms).contains(&request.arrival_ms) {
            request.status = 502;
        }
    }
    requests
}

/// A stride near 7/13 of `users` that shares no factor with it, so `steady`
/// visits every user once per round in a scrambled order.
fn coprime_stride(users: u32) -> u32 {
    let gcd = |mut a: u32, mut b: u32| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    (users * 7 / 13..=users)
        .chain(1..users)
        .find(|&s| s > 0 && gcd(s, users) == 1)
        .unwrap_or(1)
}

/// What a report must say about one incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// The first bad request's observed arrival (UTC epoch ms).
    pub start_ms: i64,
    /// The last bad request's observed arrival.
    pub end_ms: i64,
    /// Requests observed in `[start, end]`.
    pub requests_total: u64,
    /// Of them, failed (5xx or 499).
    pub requests_failed: u64,
    /// Of them, not failed and slower than the threshold.
    pub requests_slow: u64,
    /// Distinct users with a request in `[start, end]`.
    pub users_active: u64,
    /// Distinct users with a bad request in `[start, end]`.
    pub users_affected: u64,
}

/// The truth of the incident made of the bad requests (at `slow_us`) that
/// `belongs` picks (the generator's knowledge of which requests the fault
/// hit, e.g. `|r| r.arrival_ms >= onset`); `None` when it picks no bad
/// request. Figures use observed arrivals ([`LogStyle::observed`]).
pub fn truth(
    style: LogStyle,
    requests: &[Request],
    slow_us: u64,
    belongs: impl Fn(&Request) -> bool,
) -> Option<Truth> {
    let bad_arrivals = requests
        .iter()
        .filter(|r| r.is_bad(slow_us) && belongs(r))
        .map(|r| style.observed(r));
    let (start_ms, end_ms) = bad_arrivals.fold(None, |edges: Option<(i64, i64)>, t| {
        Some(edges.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
    })?;
    let inside: Vec<&Request> = requests
        .iter()
        .filter(|r| (start_ms..=end_ms).contains(&style.observed(r)))
        .collect();
    let users = |keep: &dyn Fn(&Request) -> bool| {
        inside
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.user)
            .collect::<HashSet<_>>()
            .len() as u64
    };
    Some(Truth {
        start_ms,
        end_ms,
        requests_total: inside.len() as u64,
        requests_failed: inside.iter().filter(|r| r.is_failed()).count() as u64,
        requests_slow: inside
            .iter()
            .filter(|r| !r.is_failed() && r.is_slow(slow_us))
            .count() as u64,
        users_active: users(&|_| true),
        users_affected: users(&|r| r.is_bad(slow_us)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_UTC: i64 = 1_715_076_000_000; // 2024-05-07T10:00:00Z

    #[test]
    fn nginx_lines_carry_completion_and_apache_lines_arrival() {
        let request = Request {
            arrival_ms: TEN_UTC + 59_900,
            user: 258,
            status: 504,
            request_time_ms: 1_250,
        };
        let cases = [
            (
                "nginx, +01:00: completion 10:01:01.150 local 11:01:01",
                LogStyle {
                    server: Server::Nginx,
                    offset_minutes: 60,
                },
                "10.0.1.2 - - [07/May/2024:11:01:01 +0100] \"GET /item/64 HTTP/1.1\" 504 512 \"-\" \"Mozilla/5.0 (user 258)\" 1.250\n",
                TEN_UTC + 61_000 - 1_250,
            ),
            (
                "apache, -05:30: arrival 10:00:59 local 04:30:59",
                LogStyle {
                    server: Server::Apache,
                    offset_minutes: -330,
                },
                "10.0.1.2 - - [07/May/2024:04:30:59 -0530] \"GET /item/64 HTTP/1.1\" 504 512 \"-\" \"Mozilla/5.0 (user 258)\" 1250000\n",
                TEN_UTC + 59_000,
            ),
        ];
        for (name, style, line, observed) in cases {
            assert_eq!(style.render(&[request]), line, "{name}");
            assert_eq!(style.observed(&request), observed, "{name}");
        }
    }

    #[test]
    fn lines_come_in_completion_order() {
        let slow = Request {
            arrival_ms: TEN_UTC,
            user: 1,
            status: 200,
            request_time_ms: 5_000,
        };
        let fast = Request {
            arrival_ms: TEN_UTC + 1_000,
            user: 2,
            status: 200,
            request_time_ms: 10,
        };
        let log = LogStyle::NGINX.render(&[slow, fast]);
        let users: Vec<&str> = log.lines().map(|l| &l[..8]).collect();
        assert_eq!(users, ["10.0.0.2", "10.0.0.1"]);
    }

    #[test]
    fn steady_visits_every_user_each_round() {
        let requests = steady(TEN_UTC, TEN_UTC + 40_000, 1_000, 40, 5);
        assert_eq!(requests.len(), 40);
        let users: HashSet<u32> = requests.iter().map(|r| r.user).collect();
        assert_eq!(users.len(), 40);
        assert_eq!(requests[39].arrival_ms, TEN_UTC + 39_000);
    }

    #[test]
    fn truth_counts_observed_arrivals_in_the_edges() {
        // Four requests; the fault hits the two 502s; a slow 200 between
        // them counts as slow and affected; a background 500 before is not
        // the incident's but is counted when inside [start, end] (it is not).
        let at = |s: i64, user, status, request_time_ms| Request {
            arrival_ms: TEN_UTC + s * 1000 + 300,
            user,
            status,
            request_time_ms,
        };
        let requests = [
            at(0, 1, 500, 10),
            at(10, 2, 502, 100),
            at(11, 3, 200, 2_000),
            at(12, 4, 200, 10),
            at(20, 2, 502, 900),
        ];
        let got = truth(LogStyle::NGINX, &requests, 1_000_000, |r| {
            r.arrival_ms >= TEN_UTC + 5_000
        });
        let expected = Truth {
            // Completion 10:00:10.400 is stamped :10, minus 0.100 s.
            start_ms: TEN_UTC + 9_900,
            // Completion 10:00:21.200 is stamped :21, minus 0.900 s.
            end_ms: TEN_UTC + 20_100,
            requests_total: 4,
            requests_failed: 2,
            requests_slow: 1,
            users_active: 3,
            users_affected: 2,
        };
        assert_eq!(got, Some(expected));
        assert_eq!(
            truth(LogStyle::NGINX, &requests, 1_000_000, |_| false),
            None
        );
    }
}
