//! How a proxy says a request ended: the vendor's own code (HAProxy's
//! termination state, Envoy's response flags) normalised into a small
//! [`TerminationCause`], and the mergeable per-upstream tally of the causes
//! of failed requests ([`CauseTally`]) that lets a hint say "backend www:
//! 92% of its failed requests had no server available (SC)".
//!
//! # Vendor codes
//!
//! | cause | HAProxy termination state (first two characters) | Envoy response flag |
//! | --- | --- | --- |
//! | [`NoServer`](TerminationCause::NoServer) | any `S?`/`s?`/`P?` with server `<NOSRV>` (no server of the backend was up) | `UH` (no healthy upstream) |
//! | [`ConnectFailed`](TerminationCause::ConnectFailed) | `SC` (refused, unreachable), `sC` (connect timeout) | `UF` (connection failure), `URX` (retry limit reached) |
//! | [`ServerTimeout`](TerminationCause::ServerTimeout) | `sH`, `sD`, `sL`, `sR` (server timeout) | `UT` (upstream request timeout) |
//! | [`ServerAborted`](TerminationCause::ServerAborted) | `SH`, `SD`, `SL` (server closed or reset) | `UC`, `UR` (upstream connection terminated, reset) |
//! | [`ClientAborted`](TerminationCause::ClientAborted) | `C?` (client closed) | `DC` (downstream connection terminated) |
//! | [`ClientTimeout`](TerminationCause::ClientTimeout) | `c?` (client timeout) | `DT` (downstream timeout) |
//! | [`ProxyDenied`](TerminationCause::ProxyDenied) | `P?` (proxy denied or tarpitted), `?T` (tarpit) | `NR` (no route), `RL` (rate limited), `UAEX` (external authorisation denied) |
//! | [`Overflow`](TerminationCause::Overflow) | `sQ` (queue timeout), `R?` (proxy out of a resource) | `UO` (upstream overflow, circuit breaker) |
//! | [`ProxyKilled`](TerminationCause::ProxyKilled) | `D?` (server went down), `U?` (backup server up), `K?` (killed by an admin), `I?` (internal error) | `SI` (stream idle timeout), `DPE` (downstream protocol error) |
//!
//! HAProxy's `--` (normal end) and `L?` (answered by the proxy itself: a
//! redirect, the stats page) are no termination cause.
//!
//! IIS's HTTP.sys names the cause of each line of its error log
//! (`HTTPERR`) in `s-reason` (Microsoft, "Types of Errors Logged by the
//! HTTP Server API"); [`http_sys_cause`] maps the reason phrases:
//!
//! | cause | HTTP.sys reason phrase |
//! | --- | --- |
//! | [`NoServer`](TerminationCause::NoServer) | `AppOffline` (application errors took the application pool offline: rapid-fail protection), `AppShutdown` (shut down by administrator policy), `Disabled` (taken offline by an administrator) |
//! | [`Overflow`](TerminationCause::Overflow) | `AppPoolTimer` (the pool's process too busy), `QueueFull` (the pool's request queue full), `ConnLimit` (the site's connection limit) |
//! | [`ServerAborted`](TerminationCause::ServerAborted) | `Connection_Abandoned_By_AppPool` (a worker process crashed or orphaned the request), `Connection_Abandoned_By_ReqQueue` (the same, for a queue the process had taken) |
//! | [`ServerTimeout`](TerminationCause::ServerTimeout) | `Timer_AppPool` (waited too long in the pool's queue), `Timer_ReqQueue` (waited too long in the request queue), `Timer_Response` (the response not sent in time) |
//! | [`ClientAborted`](TerminationCause::ClientAborted) | `Connection_Dropped`, `Connection_Dropped_List_Full` (the client disconnected before the answer was logged), `Client_Reset` (the client closed before a worker process got the request) |
//! | [`ClientTimeout`](TerminationCause::ClientTimeout) | `Timer_ConnectionIdle`, `Timer_HeaderWait`, `Timer_EntityBody`, `Timer_MinBytesPerSecond` (the client too slow or idle) |
//!
//! The parse errors (`BadRequest`, `Verb`, `URL`, `Header`, `Hostname`,
//! `FieldLength`, `RequestLength`, `URL_Length`, `Forbidden`, ...), `Internal`
//! and `N/A` name no proxy cause: they are the status alone.

/// The termination cause of an HTTP.sys reason phrase (`s-reason` of the
/// IIS `HTTPERR` log; see the module doc), matched exactly as Microsoft
/// writes them; `None` for the phrases that name no cause.
pub fn http_sys_cause(reason: &[u8]) -> Option<TerminationCause> {
    Some(match reason {
        b"AppOffline" | b"AppShutdown" | b"Disabled" => TerminationCause::NoServer,
        b"AppPoolTimer" | b"QueueFull" | b"ConnLimit" => TerminationCause::Overflow,
        b"Connection_Abandoned_By_AppPool" | b"Connection_Abandoned_By_ReqQueue" => {
            TerminationCause::ServerAborted
        }
        b"Timer_AppPool" | b"Timer_ReqQueue" | b"Timer_Response" => TerminationCause::ServerTimeout,
        b"Connection_Dropped" | b"Connection_Dropped_List_Full" | b"Client_Reset" => {
            TerminationCause::ClientAborted
        }
        b"Timer_ConnectionIdle"
        | b"Timer_HeaderWait"
        | b"Timer_EntityBody"
        | b"Timer_MinBytesPerSecond" => TerminationCause::ClientTimeout,
        _ => return None,
    })
}

/// The normalised account of how a proxy ended a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TerminationCause {
    /// The backend had no server to send the request to.
    NoServer,
    /// The server refused the connection or could not be connected to.
    ConnectFailed,
    /// The server accepted the connection but did not answer in time.
    ServerTimeout,
    /// The server closed or reset the connection mid-request.
    ServerAborted,
    /// The client went away before the answer was complete.
    ClientAborted,
    /// The client was too slow to send its request or read the answer.
    ClientTimeout,
    /// The proxy's configuration refused the request (deny rule, no route,
    /// rate limit, tarpit).
    ProxyDenied,
    /// A queue, circuit breaker or proxy resource was full.
    Overflow,
    /// The proxy ended the request itself (server marked down, admin kill,
    /// internal error).
    ProxyKilled,
}

/// Number of [`TerminationCause`] values.
pub const CAUSE_COUNT: usize = 9;

impl TerminationCause {
    /// Every cause, in declaration order (the index of a cause's count).
    pub const ALL: [TerminationCause; CAUSE_COUNT] = [
        TerminationCause::NoServer,
        TerminationCause::ConnectFailed,
        TerminationCause::ServerTimeout,
        TerminationCause::ServerAborted,
        TerminationCause::ClientAborted,
        TerminationCause::ClientTimeout,
        TerminationCause::ProxyDenied,
        TerminationCause::Overflow,
        TerminationCause::ProxyKilled,
    ];

    /// The machine name (JSON, series tables).
    pub fn name(self) -> &'static str {
        match self {
            TerminationCause::NoServer => "no_server",
            TerminationCause::ServerTimeout => "server_timeout",
            TerminationCause::ConnectFailed => "connect_failed",
            TerminationCause::ServerAborted => "server_aborted",
            TerminationCause::ClientAborted => "client_aborted",
            TerminationCause::ClientTimeout => "client_timeout",
            TerminationCause::ProxyDenied => "proxy_denied",
            TerminationCause::Overflow => "overflow",
            TerminationCause::ProxyKilled => "proxy_killed",
        }
    }
}

/// Longest vendor code kept: HTTP.sys's longest reason phrase,
/// `Connection_Abandoned_By_ReqQueue`, is 32 bytes (HAProxy's and Envoy's
/// codes are 2 to 4).
pub const VENDOR_CODE_BYTES: usize = 32;

/// A vendor's code as written (`SC`, `UH`), up to [`VENDOR_CODE_BYTES`]
/// ASCII bytes, zero-padded: kept inline so a record stays `Copy` and
/// nothing is allocated per line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VendorCode([u8; VENDOR_CODE_BYTES]);

impl VendorCode {
    /// The first [`VENDOR_CODE_BYTES`] bytes of `code` (longer codes are
    /// cut; a zero byte ends the code).
    pub fn new(code: &[u8]) -> Self {
        let mut bytes = [0u8; VENDOR_CODE_BYTES];
        for (slot, &b) in bytes.iter_mut().zip(code) {
            *slot = b;
        }
        VendorCode(bytes)
    }

    /// The code as text (non-ASCII bytes shown as `?`).
    pub fn text(&self) -> String {
        self.0
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }
}

/// A proxy's account of how one request ended: the normalised cause and
/// the vendor's code it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termination {
    pub cause: TerminationCause,
    pub code: VendorCode,
}

impl Termination {
    pub fn new(cause: TerminationCause, code: &[u8]) -> Self {
        Termination {
            cause,
            code: VendorCode::new(code),
        }
    }
}

/// The causes of some failed requests: a count per cause and, per cause,
/// the smallest vendor code seen (so merging in any order keeps the same
/// code). Adds up like the other counts of a dimension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseTally {
    counts: [u32; CAUSE_COUNT],
    codes: [VendorCode; CAUSE_COUNT],
}

impl CauseTally {
    #[inline]
    pub fn add(&mut self, termination: Termination) {
        let index = termination.cause as usize;
        self.counts[index] = self.counts[index].saturating_add(1);
        let code = &mut self.codes[index];
        if code.is_empty() || termination.code < *code {
            *code = termination.code;
        }
    }

    pub fn merge(&mut self, other: &CauseTally) {
        for index in 0..CAUSE_COUNT {
            if other.counts[index] == 0 {
                continue;
            }
            self.counts[index] = self.counts[index].saturating_add(other.counts[index]);
            let (mine, theirs) = (&mut self.codes[index], other.codes[index]);
            if mine.is_empty() || (!theirs.is_empty() && theirs < *mine) {
                *mine = theirs;
            }
        }
    }

    /// Requests counted with a cause.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The requests counted for `cause`.
    pub fn count(&self, cause: TerminationCause) -> u64 {
        u64::from(self.counts[cause as usize])
    }

    /// The most frequent cause with its count and vendor code; ties go to
    /// the cause declared first. `None` when nothing was counted.
    pub fn dominant(&self) -> Option<(TerminationCause, u64, VendorCode)> {
        TerminationCause::ALL
            .iter()
            .map(|&cause| (cause, self.count(cause), self.codes[cause as usize]))
            .filter(|(_, count, _)| *count > 0)
            .max_by_key(|(cause, count, _)| (*count, std::cmp::Reverse(*cause)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_sys_reason_phrases_map_onto_causes() {
        use TerminationCause::*;
        let cases: [(&str, &[u8], Option<TerminationCause>); 14] = [
            ("pool taken offline by rapid-fail protection", b"AppOffline", Some(NoServer)),
            ("pool shut down by policy", b"AppShutdown", Some(NoServer)),
            ("pool disabled by an administrator", b"Disabled", Some(NoServer)),
            ("pool process too busy", b"AppPoolTimer", Some(Overflow)),
            ("request queue full", b"QueueFull", Some(Overflow)),
            ("site connection limit", b"ConnLimit", Some(Overflow)),
            ("worker crashed", b"Connection_Abandoned_By_AppPool", Some(ServerAborted)),
            ("waited in the pool queue", b"Timer_AppPool", Some(ServerTimeout)),
            ("client left", b"Connection_Dropped", Some(ClientAborted)),
            ("client reset", b"Client_Reset", Some(ClientAborted)),
            ("idle connection", b"Timer_ConnectionIdle", Some(ClientTimeout)),
            ("parse error", b"BadRequest", None),
            ("not available, no reason", b"N/A", None),
            ("case matters as written", b"appoffline", None),
        ];
        for (name, reason, cause) in cases {
            assert_eq!(http_sys_cause(reason), cause, "{name}");
        }
    }

    #[test]
    fn causes_are_indexed_in_declaration_order() {
        for (index, cause) in TerminationCause::ALL.iter().enumerate() {
            assert_eq!(*cause as usize, index, "{}", cause.name());
        }
    }

    #[test]
    fn tallies_merge_to_the_same_counts_and_codes_in_any_order() {
        let no_server = Termination::new(TerminationCause::NoServer, b"SC");
        let no_server_envoy = Termination::new(TerminationCause::NoServer, b"UH");
        let refused = Termination::new(TerminationCause::ConnectFailed, b"SC");
        let mut whole = CauseTally::default();
        let mut left = CauseTally::default();
        let mut right = CauseTally::default();
        for (i, t) in [no_server_envoy, no_server, refused, no_server]
            .into_iter()
            .enumerate()
        {
            whole.add(t);
            if i < 2 { &mut left } else { &mut right }.add(t);
        }
        let mut right_then_left = right.clone();
        right_then_left.merge(&left);
        left.merge(&right);
        assert_eq!(left, whole);
        assert_eq!(right_then_left, whole);
        assert_eq!(whole.total(), 4);
        let (cause, count, code) = whole.dominant().expect("counted");
        assert_eq!((cause, count, code.text()), (TerminationCause::NoServer, 3, "SC".to_string()));
    }

    #[test]
    fn vendor_codes_keep_thirty_two_bytes() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("haproxy", b"SC", "SC"),
            ("envoy long flag", b"UAEX", "UAEX"),
            (
                "longest http.sys reason",
                b"Connection_Abandoned_By_ReqQueue",
                "Connection_Abandoned_By_ReqQueue",
            ),
            (
                "cut",
                b"Connection_Abandoned_By_ReqQueueX",
                "Connection_Abandoned_By_ReqQueue",
            ),
            ("not ascii", b"S\xff", "S?"),
        ];
        for (name, code, text) in cases {
            assert_eq!(VendorCode::new(code).text(), text, "{name}");
        }
    }
}
