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
//! Google Cloud's load balancers write `jsonPayload.statusDetails`
//! ("HTTP failure messages" of the external Application Load Balancer's
//! logging reference) and Azure's `errorInfo` (Front Door) and
//! `error_info` (Application Gateway v2); [`cloud_cause`] maps them:
//!
//! | cause | Google Cloud `statusDetails` | Azure `errorInfo` / `error_info` |
//! | --- | --- | --- |
//! | [`NoServer`](TerminationCause::NoServer) | `failed_to_pick_backend` | `ERRORINFO_UPSTREAM_NO_LIVE` |
//! | [`ConnectFailed`](TerminationCause::ConnectFailed) | `failed_to_connect_to_backend`, `failed_to_negotiate_alpn`, `ssl_certificate_san_verification_failed` | `OriginConnectionRefused`, `OriginConnectionError`, `DNSFailure`, `DNSTimeout`, `DNSNameNotResolved`, `SSLHandshakeError`, `SSLInvalidRootCA`, `SSLMismatchedSNI`, `CertificateError`, `CertificateNameCheckFailed` |
//! | [`ServerTimeout`](TerminationCause::ServerTimeout) | `backend_timeout` | `OriginTimeout`, `ERRORINFO_UPSTREAM_TIMED_OUT` (also spelt `ERRORINFO_UPSTREAM_TIMEOUT`) |
//! | [`ServerAborted`](TerminationCause::ServerAborted) | `backend_connection_closed_before_data_sent_to_client`, `backend_connection_closed_after_partial_response_sent`, `backend_interrupted`, `backend_response_corrupted` | `OriginConnectionAborted`, `OriginInvalidResponse`, `ERRORINFO_UPSTREAM_CLOSED_CONNECTION` |
//! | [`ClientAborted`](TerminationCause::ClientAborted) | `client_disconnected_before_any_response`, `client_disconnected_after_partial_response` | `ClientDisconnected`, `ERRORINFO_CLIENT_CLOSED_REQUEST` |
//! | [`ClientTimeout`](TerminationCause::ClientTimeout) | `client_timed_out` | |
//! | [`ProxyDenied`](TerminationCause::ProxyDenied) | `denied_by_security_policy`, `throttled_by_security_policy` | `ClientGeoBlocked`, `RestrictedIP` |
//! | [`ProxyKilled`](TerminationCause::ProxyKilled) | `internal_error` | |
//!
//! `response_sent_by_backend`, `response_from_cache`, `NoError`,
//! `ERRORINFO_NO_ERROR` and the request errors (`ERRORINFO_INVALID_*`,
//! `InvalidRequest`) name no proxy cause.
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

/// The termination cause of a Google Cloud load balancer's
/// `statusDetails` or an Azure Front Door / Application Gateway
/// `errorInfo` (see the module doc; the two vendors' codes do not
/// overlap); `None` for the codes that name no cause.
pub fn cloud_cause(detail: &[u8]) -> Option<TerminationCause> {
    use TerminationCause::*;
    Some(match detail {
        b"failed_to_pick_backend" | b"ERRORINFO_UPSTREAM_NO_LIVE" => NoServer,
        b"failed_to_connect_to_backend"
        | b"failed_to_negotiate_alpn"
        | b"ssl_certificate_san_verification_failed"
        | b"OriginConnectionRefused"
        | b"OriginConnectionError"
        | b"DNSFailure"
        | b"DNSTimeout"
        | b"DNSNameNotResolved"
        | b"SSLHandshakeError"
        | b"SSLInvalidRootCA"
        | b"SSLMismatchedSNI"
        | b"CertificateError"
        | b"CertificateNameCheckFailed" => ConnectFailed,
        b"backend_timeout"
        | b"OriginTimeout"
        | b"ERRORINFO_UPSTREAM_TIMED_OUT"
        | b"ERRORINFO_UPSTREAM_TIMEOUT" => ServerTimeout,
        b"backend_connection_closed_before_data_sent_to_client"
        | b"backend_connection_closed_after_partial_response_sent"
        | b"backend_interrupted"
        | b"backend_response_corrupted"
        | b"OriginConnectionAborted"
        | b"OriginInvalidResponse"
        | b"ERRORINFO_UPSTREAM_CLOSED_CONNECTION" => ServerAborted,
        b"client_disconnected_before_any_response"
        | b"client_disconnected_after_partial_response"
        | b"ClientDisconnected"
        | b"ERRORINFO_CLIENT_CLOSED_REQUEST" => ClientAborted,
        b"client_timed_out" => ClientTimeout,
        b"denied_by_security_policy"
        | b"throttled_by_security_policy"
        | b"ClientGeoBlocked"
        | b"RestrictedIP" => ProxyDenied,
        b"internal_error" => ProxyKilled,
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

/// Longest vendor code kept: Google Cloud's longest `statusDetails`,
/// `backend_connection_closed_after_partial_response_sent`, is 53 bytes
/// (HTTP.sys's longest reason phrase 32, HAProxy's and Envoy's codes 2 to 4).
pub const VENDOR_CODE_BYTES: usize = 56;

/// A vendor's code as written (`SC`, `UH`), up to [`VENDOR_CODE_BYTES`]
/// ASCII bytes, zero-padded: kept inline so a record stays `Copy` and
/// nothing is allocated per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VendorCode([u8; VENDOR_CODE_BYTES]);

impl Default for VendorCode {
    /// No code.
    fn default() -> Self {
        VendorCode([0; VENDOR_CODE_BYTES])
    }
}

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

    /// The code's bytes, up to the first zero.
    pub fn bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(self.0.len());
        &self.0[..len]
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
///
/// The codes are kept apart, made on the first cause counted, so a tally
/// that never sees one (every bucket of a log without termination causes)
/// stays a few counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CauseTally {
    counts: [u32; CAUSE_COUNT],
    codes: Option<Box<[VendorCode; CAUSE_COUNT]>>,
}

impl CauseTally {
    /// Each cause's count and smallest vendor code, by cause index
    /// ([`TerminationCause::ALL`]), for the causes counted.
    pub fn entries(&self) -> impl Iterator<Item = (usize, u32, VendorCode)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(index, count)| {
                let code = self
                    .codes
                    .as_ref()
                    .map_or(VendorCode::default(), |codes| codes[index]);
                (index, *count, code)
            })
    }

    /// Adds `count` requests of cause `index` with smallest code `code` (a
    /// partial file read back); a cause out of range is refused.
    pub fn add_count(&mut self, index: usize, count: u32, code: VendorCode) -> bool {
        if index >= CAUSE_COUNT {
            return false;
        }
        let mut other = CauseTally::default();
        other.counts[index] = count;
        if !code.is_empty() {
            let mut codes: Box<[VendorCode; CAUSE_COUNT]> = Box::default();
            codes[index] = code;
            other.codes = Some(codes);
        }
        self.merge(&other);
        true
    }

    #[inline]
    pub fn add(&mut self, termination: Termination) {
        let index = termination.cause as usize;
        self.counts[index] = self.counts[index].saturating_add(1);
        let code = &mut self.codes.get_or_insert_with(Box::default)[index];
        if code.is_empty() || termination.code < *code {
            *code = termination.code;
        }
    }

    pub fn merge(&mut self, other: &CauseTally) {
        let Some(their_codes) = &other.codes else {
            for index in 0..CAUSE_COUNT {
                self.counts[index] = self.counts[index].saturating_add(other.counts[index]);
            }
            return;
        };
        let my_codes = self.codes.get_or_insert_with(Box::default);
        for index in 0..CAUSE_COUNT {
            if other.counts[index] == 0 {
                continue;
            }
            self.counts[index] = self.counts[index].saturating_add(other.counts[index]);
            let (mine, theirs) = (&mut my_codes[index], their_codes[index]);
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
            .map(|&cause| {
                let code = self
                    .codes
                    .as_ref()
                    .map_or_else(VendorCode::default, |codes| codes[cause as usize]);
                (cause, self.count(cause), code)
            })
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
            (
                "pool taken offline by rapid-fail protection",
                b"AppOffline",
                Some(NoServer),
            ),
            ("pool shut down by policy", b"AppShutdown", Some(NoServer)),
            (
                "pool disabled by an administrator",
                b"Disabled",
                Some(NoServer),
            ),
            ("pool process too busy", b"AppPoolTimer", Some(Overflow)),
            ("request queue full", b"QueueFull", Some(Overflow)),
            ("site connection limit", b"ConnLimit", Some(Overflow)),
            (
                "worker crashed",
                b"Connection_Abandoned_By_AppPool",
                Some(ServerAborted),
            ),
            (
                "waited in the pool queue",
                b"Timer_AppPool",
                Some(ServerTimeout),
            ),
            ("client left", b"Connection_Dropped", Some(ClientAborted)),
            ("client reset", b"Client_Reset", Some(ClientAborted)),
            (
                "idle connection",
                b"Timer_ConnectionIdle",
                Some(ClientTimeout),
            ),
            ("parse error", b"BadRequest", None),
            ("not available, no reason", b"N/A", None),
            ("case matters as written", b"appoffline", None),
        ];
        for (name, reason, cause) in cases {
            assert_eq!(http_sys_cause(reason), cause, "{name}");
        }
    }

    #[test]
    fn cloud_status_details_and_error_info_map_onto_causes() {
        use TerminationCause::*;
        let cases: [(&str, &[u8], Option<TerminationCause>); 16] = [
            (
                "gcp: no healthy backend",
                b"failed_to_pick_backend",
                Some(NoServer),
            ),
            (
                "gcp: connect failed",
                b"failed_to_connect_to_backend",
                Some(ConnectFailed),
            ),
            (
                "gcp: backend timeout",
                b"backend_timeout",
                Some(ServerTimeout),
            ),
            (
                "gcp: backend closed first",
                b"backend_connection_closed_before_data_sent_to_client",
                Some(ServerAborted),
            ),
            (
                "gcp: client left",
                b"client_disconnected_before_any_response",
                Some(ClientAborted),
            ),
            (
                "gcp: cloud armor",
                b"denied_by_security_policy",
                Some(ProxyDenied),
            ),
            ("gcp: normal answer", b"response_sent_by_backend", None),
            ("gcp: cache hit", b"response_from_cache", None),
            (
                "azure gateway: timed out",
                b"ERRORINFO_UPSTREAM_TIMED_OUT",
                Some(ServerTimeout),
            ),
            (
                "azure gateway: timeout spelling",
                b"ERRORINFO_UPSTREAM_TIMEOUT",
                Some(ServerTimeout),
            ),
            (
                "azure gateway: upstream closed",
                b"ERRORINFO_UPSTREAM_CLOSED_CONNECTION",
                Some(ServerAborted),
            ),
            (
                "azure gateway: no live upstream",
                b"ERRORINFO_UPSTREAM_NO_LIVE",
                Some(NoServer),
            ),
            ("azure gateway: no error", b"ERRORINFO_NO_ERROR", None),
            (
                "front door: refused",
                b"OriginConnectionRefused",
                Some(ConnectFailed),
            ),
            ("front door: timeout", b"OriginTimeout", Some(ServerTimeout)),
            ("front door: no error", b"NoError", None),
        ];
        for (name, detail, cause) in cases {
            assert_eq!(cloud_cause(detail), cause, "{name}");
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
        assert_eq!(
            (cause, count, code.text()),
            (TerminationCause::NoServer, 3, "SC".to_string())
        );
    }

    #[test]
    fn vendor_codes_keep_fifty_six_bytes() {
        let cases: [(&str, &[u8], &str); 6] = [
            ("haproxy", b"SC", "SC"),
            ("envoy long flag", b"UAEX", "UAEX"),
            (
                "longest http.sys reason",
                b"Connection_Abandoned_By_ReqQueue",
                "Connection_Abandoned_By_ReqQueue",
            ),
            (
                "longest google cloud status detail",
                b"backend_connection_closed_after_partial_response_sent",
                "backend_connection_closed_after_partial_response_sent",
            ),
            (
                "cut",
                b"backend_connection_closed_after_partial_response_sent_and_more",
                "backend_connection_closed_after_partial_response_sent_an",
            ),
            ("not ascii", b"S\xff", "S?"),
        ];
        for (name, code, text) in cases {
            assert_eq!(VendorCode::new(code).text(), text, "{name}");
        }
    }
}
