//! `expected/<name>.json`: the ground truth of a scenario in the shape of the
//! report contract, plus what a reader of the sample needs to check it
//! (the injected window, the baseline latency, the files and their lines).

use serde::Serialize;

use super::clock::{MS_PER_SECOND, US_PER_SECOND, Zone, rfc3339_utc};
use super::render::AccessFormat;
use super::truth::{
    ImpactTruth, ObservedRequest, SLOW_THRESHOLD_US, Severity, bad_request_incident,
    latency_quantile_us, percent, traffic_gap_incident, users_per_minute,
};

/// Bucket width the samples are meant to be read with (the tool's default).
pub const BUCKET_SECONDS: u32 = 60;
/// Minutes of baseline before a traffic drop used for users per minute.
pub const USERS_MISSING_BASELINE_MINUTES: i64 = 60;

/// What a scenario injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedIncident {
    /// Bad requests (failed or slow) for some traffic in `[from_ms, to_ms]`.
    BadRequests { from_ms: i64, to_ms: i64 },
    /// No request reaches the server in `[from_ms, to_ms)`.
    TrafficGap { from_ms: i64, to_ms: i64 },
}

impl InjectedIncident {
    fn window(self) -> (i64, i64) {
        match self {
            InjectedIncident::BadRequests { from_ms, to_ms }
            | InjectedIncident::TrafficGap { from_ms, to_ms } => (from_ms, to_ms),
        }
    }
}

/// An alert line a scenario wrote into one of its logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub at_ms: i64,
    /// The line's message, as the report would quote it.
    pub evidence: String,
}

/// A file of the scenario as written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileFacts {
    /// Name in the scenario folder (with `.gz` when compressed).
    pub name: String,
    /// `access`, `syslog`, `error`, `metrics`.
    pub kind: &'static str,
    pub format: String,
    pub lines: u64,
}

/// The whole ground truth of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub scenario: String,
    pub seed: u64,
    pub access_format: &'static str,
    pub zone: String,
    pub slow_threshold_s: f64,
    pub bucket_s: u32,
    pub incidents: Vec<ExpectedIncident>,
    pub log: LogFacts,
    pub baseline: BaselineFacts,
    pub files: Vec<FileFacts>,
    pub notes: Vec<String>,
}

/// One incident of the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedIncident {
    pub start: String,
    pub end: String,
    pub duration_s: f64,
    pub severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected: Option<Detected>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_detect_s: Option<f64>,
    pub impact: Impact,
    /// The impact with `--users ip`.
    pub impact_users_ip: UsersOnly,
    /// The window the generator injected the incident in (not something a
    /// tool can know; start and end are the first and last bad requests in it).
    pub injected: Window,
}

/// `detected` of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Detected {
    pub at: String,
    pub source: &'static str,
    pub evidence: String,
}

/// `impact` of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub users_active: u64,
    pub users_affected: u64,
    pub affected_pct: f64,
    pub requests_total: u64,
    pub requests_failed: u64,
    pub requests_slow: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_missing: Option<u64>,
}

/// User counts under another user key.
#[derive(Debug, Clone, Serialize)]
pub struct UsersOnly {
    pub users_active: u64,
    pub users_affected: u64,
    pub affected_pct: f64,
}

/// A time range.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from: String,
    pub to: String,
}

/// The access log's extent.
#[derive(Debug, Clone, Serialize)]
pub struct LogFacts {
    pub requests: u64,
    /// Earliest and latest reconstructed arrival.
    pub first_arrival: String,
    pub last_arrival: String,
    /// Distinct users (address + agent) over the whole log.
    pub users: u64,
}

/// Latency of the requests before the incident (the whole log when quiet).
#[derive(Debug, Clone, Serialize)]
pub struct BaselineFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_s: Option<f64>,
}

/// Everything needed to compute a scenario's truth.
pub struct TruthInputs<'a> {
    pub scenario: &'a str,
    pub seed: u64,
    pub format: AccessFormat,
    pub zone: Zone,
    pub observed: &'a [ObservedRequest<'a>],
    pub incident: Option<InjectedIncident>,
    pub alerts: &'a [Alert],
    pub files: Vec<FileFacts>,
    pub notes: Vec<String>,
}

/// Computes the ground truth of a scenario.
pub fn expected(inputs: TruthInputs<'_>) -> Expected {
    let observed = inputs.observed;
    let first = observed.iter().map(|r| r.arrival_ms).min().unwrap_or(0);
    let last = observed.iter().map(|r| r.arrival_ms).max().unwrap_or(0);
    let mut incidents = Vec::new();
    let baseline_until = match inputs.incident {
        Some(incident) => incident.window().0,
        None => last + 1,
    };
    if let Some(incident) = inputs.incident {
        let (from_ms, to_ms) = incident.window();
        let (truth, severity, users_missing) = match incident {
            InjectedIncident::BadRequests { .. } => {
                let truth = bad_request_incident(observed, from_ms, to_ms, SLOW_THRESHOLD_US);
                let severity = truth.as_ref().map(Severity::of_bad_requests);
                (truth, severity, None)
            }
            InjectedIncident::TrafficGap { .. } => {
                let truth = traffic_gap_incident(observed, from_ms, to_ms, SLOW_THRESHOLD_US);
                let missing = truth.as_ref().map(|truth| {
                    let per_minute =
                        users_per_minute(observed, truth.start_ms, USERS_MISSING_BASELINE_MINUTES);
                    let gap_minutes = (truth.end_ms - truth.start_ms) as f64 / 60_000.0;
                    (per_minute * gap_minutes).round() as u64
                });
                (truth, Some(Severity::Outage), missing)
            }
        };
        if let (Some(truth), Some(severity)) = (truth, severity) {
            incidents.push(incident_json(
                &truth,
                severity,
                users_missing,
                inputs.alerts,
                from_ms,
                to_ms,
            ));
        }
    }
    let seconds = |latency: Option<u64>| latency.map(|us| us as f64 / US_PER_SECOND as f64);
    let users: std::collections::BTreeSet<_> =
        observed.iter().map(|r| (r.ip, r.user_agent)).collect();
    Expected {
        scenario: inputs.scenario.to_string(),
        seed: inputs.seed,
        access_format: inputs.format.name(),
        zone: inputs.zone.rfc3339_suffix(),
        slow_threshold_s: SLOW_THRESHOLD_US as f64 / US_PER_SECOND as f64,
        bucket_s: BUCKET_SECONDS,
        incidents,
        log: LogFacts {
            requests: observed.len() as u64,
            first_arrival: rfc3339_utc(first),
            last_arrival: rfc3339_utc(last),
            users: users.len() as u64,
        },
        baseline: BaselineFacts {
            until: inputs.incident.map(|_| rfc3339_utc(baseline_until)),
            p50_s: seconds(latency_quantile_us(observed, baseline_until, 0.5)),
            p99_s: seconds(latency_quantile_us(observed, baseline_until, 0.99)),
            max_s: seconds(latency_quantile_us(observed, baseline_until, 1.0)),
        },
        files: inputs.files,
        notes: inputs.notes,
    }
}

fn incident_json(
    truth: &ImpactTruth,
    severity: Severity,
    users_missing: Option<u64>,
    alerts: &[Alert],
    from_ms: i64,
    to_ms: i64,
) -> ExpectedIncident {
    let detected = alerts
        .iter()
        .filter(|alert| alert.at_ms >= truth.start_ms)
        .min_by_key(|alert| alert.at_ms);
    let seconds = |ms: i64| ms as f64 / MS_PER_SECOND as f64;
    ExpectedIncident {
        start: rfc3339_utc(truth.start_ms),
        end: rfc3339_utc(truth.end_ms),
        duration_s: seconds(truth.end_ms - truth.start_ms),
        severity: severity.name(),
        detected: detected.map(|alert| Detected {
            at: rfc3339_utc(alert.at_ms),
            source: "log",
            evidence: alert.evidence.clone(),
        }),
        time_to_detect_s: detected.map(|alert| seconds(alert.at_ms - truth.start_ms)),
        impact: Impact {
            users_active: truth.users_active,
            users_affected: truth.users_affected,
            affected_pct: truth.affected_pct(),
            requests_total: truth.requests_total,
            requests_failed: truth.requests_failed,
            requests_slow: truth.requests_slow,
            users_missing,
        },
        impact_users_ip: UsersOnly {
            users_active: truth.ip_users_active,
            users_affected: truth.ip_users_affected,
            affected_pct: percent(truth.ip_users_affected, truth.ip_users_active),
        },
        injected: Window {
            from: rfc3339_utc(from_ms),
            to: rfc3339_utc(to_ms),
        },
    }
}
