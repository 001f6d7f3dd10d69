//! The field table of JSON access records: which key (or path of keys)
//! fills which field of a record, with what preference, and which server's
//! log the keys look like ([`Flavor`]). The scanner in the parent module
//! hands every scalar here with its path; nothing is allocated.
//!
//! Beside nginx, Caddy and Traefik, the table reads the JSON access logs of
//! Envoy and Istio (`start_time`, `response_code`, `response_flags`,
//! `duration` in ms), Google Cloud Logging entries with an `httpRequest`
//! (`status`, `latency` as `"0.052s"`, `remoteIp`), Azure Application
//! Gateway and Front Door access records (the diagnostic-settings shape with
//! `properties`, the flattened `AzureDiagnostics` columns with `_s`/`_d`
//! suffixes and the resource-specific columns), and Cloudflare Logpush HTTP
//! requests (`EdgeStartTimestamp`, `EdgeResponseStatus`, ...).

/// Which server's access log the keys look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Nginx,
    Caddy,
    Traefik,
    Envoy,
    GoogleCloud,
    Azure,
    Cloudflare,
}

impl Flavor {
    /// Every flavor, in the order sniffing breaks ties.
    pub const ALL: [Flavor; 7] = [
        Flavor::Nginx,
        Flavor::Caddy,
        Flavor::Traefik,
        Flavor::Envoy,
        Flavor::GoogleCloud,
        Flavor::Azure,
        Flavor::Cloudflare,
    ];

    pub fn format_name(self) -> &'static str {
        match self {
            Flavor::Nginx => "nginx-json",
            Flavor::Caddy => "caddy-json",
            Flavor::Traefik => "traefik-json",
            Flavor::Envoy => "envoy-json",
            Flavor::GoogleCloud => "gcp-json",
            Flavor::Azure => "azure-json",
            Flavor::Cloudflare => "cloudflare-json",
        }
    }
}

/// A scalar as written: a string's raw contents (escapes kept) or the text
/// of a number, `true`, `false` or `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scalar<'a> {
    Str(&'a [u8]),
    Bare(&'a [u8]),
}

impl<'a> Scalar<'a> {
    /// The text, `None` for `null`, an empty string or `-`.
    fn text(self) -> Option<&'a [u8]> {
        let text = match self {
            Scalar::Str(text) | Scalar::Bare(text) => text,
        };
        (!text.is_empty() && text != b"-" && text != b"null").then_some(text)
    }
}

/// How a time field relates to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TimeKind {
    /// When the request arrived (Traefik's `StartUTC`, Envoy's
    /// `start_time`, Cloudflare's `EdgeStartTimestamp`).
    Arrival,
    /// When the log line was written, at completion (nginx, Caddy).
    Completion,
}

/// The unit a request-time field is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DurationUnit {
    Seconds,
    Millis,
    Nanos,
    /// `duration`: seconds for Caddy, milliseconds for Envoy (told by the
    /// flavor once the whole object is read).
    SecondsOrEnvoyMillis,
    /// Azure's `timeTaken`: milliseconds for Application Gateway v1,
    /// seconds for v2 (which writes `serverRouted`) and Front Door.
    AzureTimeTaken,
}

/// A value with the preference of the key it came from (higher wins; the
/// first of equal preference stays).
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot<T> {
    pub(super) value: Option<T>,
    rank: u8,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: None,
            rank: 0,
        }
    }
}

impl<T> Slot<T> {
    #[inline]
    fn offer(&mut self, rank: u8, value: Option<T>) {
        if let Some(value) = value
            && rank > self.rank
        {
            self.value = Some(value);
            self.rank = rank;
        }
    }
}

/// Azure log categories that are access records; an object of another
/// Azure category (performance, firewall, health probe) is skipped.
const AZURE_ACCESS_CATEGORIES: [&[u8]; 3] = [
    b"ApplicationGatewayAccessLog",
    b"FrontDoorAccessLog",
    b"FrontdoorAccessLog",
];

/// What the scan found in one object.
#[derive(Default)]
pub(super) struct Found<'a> {
    pub(super) time: Slot<(&'a [u8], TimeKind, bool)>,
    /// Cloudflare's `EdgeEndTimestamp`: with the start, the request time.
    pub(super) end_time: Option<(&'a [u8], bool)>,
    pub(super) status: Slot<&'a [u8]>,
    pub(super) duration: Slot<(&'a [u8], DurationUnit)>,
    pub(super) client: Slot<&'a [u8]>,
    pub(super) user_agent: Slot<&'a [u8]>,
    pub(super) remote_user: Slot<&'a [u8]>,
    pub(super) request: Slot<&'a [u8]>,
    pub(super) host: Slot<&'a [u8]>,
    pub(super) upstream_addr: Slot<&'a [u8]>,
    pub(super) upstream_status: Slot<&'a [u8]>,
    pub(super) upstream_time: Slot<&'a [u8]>,
    pub(super) forwarded_for: Slot<&'a [u8]>,
    pub(super) referer: Slot<&'a [u8]>,
    pub(super) bytes: Slot<&'a [u8]>,
    /// Envoy's `response_flags`.
    pub(super) response_flags: Slot<&'a [u8]>,
    /// Google Cloud's `jsonPayload.statusDetails`, Azure's `errorInfo`
    /// (Front Door) or `error_info` (Application Gateway v2).
    pub(super) cloud_detail: Slot<&'a [u8]>,
    /// An Azure `category` that is not an access log.
    pub(super) other_azure_category: bool,
    traefik: bool,
    caddy_ts: bool,
    caddy_request: bool,
    envoy: bool,
    google: bool,
    azure: bool,
    azure_v2: bool,
    front_door: bool,
    cloudflare: bool,
}

impl<'a> Found<'a> {
    /// Offers a time field: `rank` orders the fields that carry the time,
    /// `kind` says which end of the request it marks, and `is_number`
    /// whether it may be read as an epoch number.
    #[inline]
    fn offer_time(&mut self, rank: u8, text: Option<&'a [u8]>, kind: TimeKind, is_number: bool) {
        self.time.offer(rank, text.map(|t| (t, kind, is_number)));
    }

    #[inline]
    fn offer_duration(&mut self, rank: u8, text: Option<&'a [u8]>, unit: DurationUnit) {
        self.duration.offer(rank, text.map(|t| (t, unit)));
    }

    /// Files one scalar under its path.
    #[inline]
    pub(super) fn visit(&mut self, path: &[&[u8]], scalar: Scalar<'a>) {
        let text = scalar.text();
        let is_number = matches!(scalar, Scalar::Bare(_));
        match path {
            [b"StartLocal"] => {
                self.traefik = true;
                self.offer_time(11, text, TimeKind::Arrival, false);
            }
            [b"StartUTC"] => {
                self.traefik = true;
                self.offer_time(10, text, TimeKind::Arrival, false);
            }
            [b"start_time"] => {
                self.envoy = true;
                self.offer_time(12, text, TimeKind::Arrival, is_number);
            }
            [b"EdgeStartTimestamp"] => {
                self.cloudflare = true;
                self.offer_time(13, text, TimeKind::Arrival, is_number);
            }
            [b"EdgeEndTimestamp"] => self.end_time = text.map(|t| (t, is_number)),
            [b"msec"] => self.offer_time(9, text, TimeKind::Completion, true),
            [b"ts"] => {
                self.caddy_ts = true;
                self.offer_time(8, text, TimeKind::Completion, is_number);
            }
            [b"time_iso8601"] => self.offer_time(7, text, TimeKind::Completion, false),
            [b"time_local"] => self.offer_time(6, text, TimeKind::Completion, false),
            [b"@timestamp"] | [b"timestamp"] | [b"time"] | [b"TimeGenerated"] => {
                self.offer_time(5, text, TimeKind::Completion, is_number)
            }
            [b"DownstreamStatus"] => {
                self.traefik = true;
                self.status.offer(3, text);
            }
            [b"EdgeResponseStatus"] => self.status.offer(4, text),
            [b"httpRequest", b"status"] => {
                self.google = true;
                self.status.offer(4, text);
            }
            [b"properties", b"httpStatus" | b"httpStatusCode"]
            | [b"httpStatus_d" | b"httpStatusCode_s" | b"httpStatusCode_d" | b"HttpStatus"] => {
                self.azure = true;
                self.status.offer(4, text);
            }
            [b"status"] => self.status.offer(2, text),
            [b"response_code"] => {
                self.envoy = true;
                self.status.offer(2, text);
            }
            [b"status_code"] => self.status.offer(1, text),
            [b"request_time"] => self.offer_duration(3, text, DurationUnit::Seconds),
            [b"httpRequest", b"latency"] => self.offer_duration(
                4,
                text.map(|t| t.strip_suffix(b"s").unwrap_or(t)),
                DurationUnit::Seconds,
            ),
            [b"properties", b"timeTaken"] | [b"timeTaken_d" | b"timeTaken_s" | b"TimeTaken"] => {
                self.offer_duration(4, text, DurationUnit::AzureTimeTaken)
            }
            [b"duration"] => self.offer_duration(2, text, DurationUnit::SecondsOrEnvoyMillis),
            [b"Duration"] => self.offer_duration(1, text, DurationUnit::Nanos),
            [b"OriginResponseDurationMs"] => self.offer_duration(1, text, DurationUnit::Millis),
            [b"request", b"client_ip"] => self.client.offer(5, text),
            [b"remote_addr"] | [b"ClientHost"] | [b"client_ip"] | [b"ClientIP"] => {
                self.client.offer(4, text)
            }
            [b"httpRequest", b"remoteIp"]
            | [b"properties", b"clientIP" | b"clientIp"]
            | [b"clientIP_s" | b"clientIp_s" | b"ClientIp"]
            | [b"downstream_remote_address"] => self.client.offer(4, text),
            [b"request", b"remote_ip"] | [b"remote_ip"] => self.client.offer(3, text),
            [b"http_user_agent"] | [b"user_agent"] | [b"ClientRequestUserAgent"] => {
                self.user_agent.offer(3, text)
            }
            [b"httpRequest", b"userAgent"]
            | [b"properties", b"userAgent"]
            | [b"userAgent_s" | b"UserAgent"] => self.user_agent.offer(3, text),
            [b"request", b"headers", b"User-Agent"] | [b"request_User-Agent"] => {
                self.user_agent.offer(2, text)
            }
            [b"remote_user"] | [b"user_id"] | [b"ClientUsername"] => {
                self.remote_user.offer(1, text)
            }
            [b"request"] => self.request.offer(3, text),
            [b"request_uri"]
            | [b"uri"]
            | [b"RequestPath"]
            | [b"request", b"uri"]
            | [b"path"]
            | [b"ClientRequestURI"]
            | [b"httpRequest", b"requestUrl"]
            | [b"properties", b"requestUri"]
            | [b"requestUri_s" | b"RequestUri"] => self.request.offer(2, text),
            [b"host"]
            | [b"http_host"]
            | [b"server_name"]
            | [b"request", b"host"]
            | [b"RequestHost"]
            | [b"authority"]
            | [b"ClientRequestHost"]
            | [b"properties", b"host" | b"hostName"]
            | [b"host_s" | b"hostName_s" | b"Host"] => self.host.offer(1, text),
            [b"upstream_addr"] | [b"upstream"] | [b"ServiceAddr"] | [b"upstream_host"] => {
                self.upstream_addr.offer(2, text)
            }
            [b"properties", b"serverRouted"] | [b"serverRouted_s" | b"ServerRouted"] => {
                self.azure_v2 = true;
                self.upstream_addr.offer(2, text);
            }
            [b"OriginIP"] | [b"httpRequest", b"serverIp"] | [b"properties", b"originIp"] => {
                self.upstream_addr.offer(2, text)
            }
            [b"upstream_cluster"] => self.upstream_addr.offer(1, text),
            [b"upstream_status"]
            | [b"OriginStatus"]
            | [b"OriginResponseStatus"]
            | [b"properties", b"serverStatus"]
            | [b"serverStatus_s" | b"ServerStatus"] => self.upstream_status.offer(1, text),
            [b"upstream_response_time"] => self.upstream_time.offer(1, text),
            [b"http_x_forwarded_for"] | [b"request_X-Forwarded-For"] | [b"x_forwarded_for"] => {
                self.forwarded_for.offer(1, text)
            }
            [b"http_referer"]
            | [b"http_referrer"]
            | [b"request_Referer"]
            | [b"request", b"headers", b"Referer"]
            | [b"httpRequest", b"referer"]
            | [b"ClientRequestReferer"] => self.referer.offer(1, text),
            [b"body_bytes_sent"]
            | [b"bytes_sent"]
            | [b"size"]
            | [b"DownstreamContentSize"]
            | [b"EdgeResponseBytes"]
            | [b"httpRequest", b"responseSize"] => self.bytes.offer(1, text),
            [b"jsonPayload", b"statusDetails"]
            | [b"properties", b"errorInfo" | b"error_info"]
            | [b"errorInfo_s" | b"error_info_s" | b"ErrorInfo"] => self.cloud_detail.offer(1, text),
            [b"response_flags"] => {
                self.envoy = true;
                self.response_flags.offer(2, text);
            }
            [b"category" | b"Category"] => {
                if let Some(category) = text {
                    let is_azure = category.starts_with(b"ApplicationGateway")
                        || category.starts_with(b"FrontDoor")
                        || category.starts_with(b"Frontdoor");
                    self.azure |= is_azure;
                    self.front_door |=
                        category.starts_with(b"FrontDoor") || category.starts_with(b"Frontdoor");
                    self.other_azure_category =
                        is_azure && !AZURE_ACCESS_CATEGORIES.contains(&category);
                }
            }
            _ => {}
        }
        if let [b"request", _, ..] = path {
            self.caddy_request = true;
        }
    }

    pub(super) fn flavor(&self) -> Flavor {
        if self.traefik {
            Flavor::Traefik
        } else if self.cloudflare {
            Flavor::Cloudflare
        } else if self.envoy {
            Flavor::Envoy
        } else if self.google {
            Flavor::GoogleCloud
        } else if self.azure {
            Flavor::Azure
        } else if self.caddy_ts && self.caddy_request {
            Flavor::Caddy
        } else {
            Flavor::Nginx
        }
    }

    /// The unit of the request time found, now that the flavor is known.
    pub(super) fn duration_unit(&self, written: DurationUnit, text: &[u8]) -> DurationUnit {
        match written {
            DurationUnit::SecondsOrEnvoyMillis if self.envoy => DurationUnit::Millis,
            DurationUnit::SecondsOrEnvoyMillis => DurationUnit::Seconds,
            DurationUnit::AzureTimeTaken
                if !self.azure_v2 && !self.front_door && text.iter().all(u8::is_ascii_digit) =>
            {
                DurationUnit::Millis
            }
            DurationUnit::AzureTimeTaken => DurationUnit::Seconds,
            unit => unit,
        }
    }
}
