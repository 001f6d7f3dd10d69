//! Report: renders the [`Findings`], and writes every sentence about them.
//! The contract's `postmortem.report/v1` document ([`Report`], exported by
//! [`json`]), the [`markdown`] postmortem, the SVG [`chart`] and the
//! [`series_table`] all take the same findings; [`sentences`] holds the
//! texts the JSON and the Markdown share; [`inspect`] renders
//! `postmortem inspect`.

pub mod chart;
pub mod inspect;
pub mod json;
pub mod markdown;
pub mod sentences;
pub mod series_table;

use serde::{Deserialize, Serialize, Serializer};

use crate::detect::stats::round4;
use crate::detect::{DetectionSource, Finding, Findings, TimelineEntry};
use crate::timefmt::{Millis, Zone, rfc3339_utc};

/// The schema name every JSON report carries.
pub const SCHEMA: &str = "postmortem.report/v1";

/// `postmortem 0.1.0`.
pub fn generator() -> String {
    format!("postmortem {}", env!("CARGO_PKG_VERSION"))
}

/// Writes whole seconds as integers (`10778`) and others with their fraction.
fn seconds<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

fn optional_seconds<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => seconds(v, serializer),
        None => serializer.serialize_none(),
    }
}

/// Whether the access logs read carry a request time (`$request_time`,
/// `%D`, `%T`, a JSON duration): without one no request can be called slow,
/// and a request's time is the one written on its line (nginx writes it at
/// completion, Apache's `%t` at arrival), not a computed arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestTimes {
    /// Every access log with parsed lines has a request time.
    All,
    /// Some do, some do not.
    Some,
    /// None does: no slow count, times as written.
    None,
    /// No access log was read.
    NoAccessLog,
}

impl RequestTimes {
    pub fn of(findings: &Findings) -> Self {
        let access = || {
            findings
                .inputs
                .iter()
                .filter(|i| i.kind == crate::ingest::InputKind::Access && i.parsed > 0)
        };
        let with = access().filter(|i| i.has_request_time).count();
        let without = access().filter(|i| !i.has_request_time).count();
        match (with, without) {
            (0, 0) => RequestTimes::NoAccessLog,
            (_, 0) => RequestTimes::All,
            (0, _) => RequestTimes::None,
            _ => RequestTimes::Some,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RequestTimes::All => "all",
            RequestTimes::Some => "some",
            RequestTimes::None => "none",
            RequestTimes::NoAccessLog => "no-access-log",
        }
    }

    /// Whether a slow count means anything: some request time was logged.
    pub fn slow_measured(self) -> bool {
        matches!(self, RequestTimes::All | RequestTimes::Some)
    }
}

fn ms_to_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema: String,
    pub generator: String,
    pub inputs: Vec<InputReport>,
    #[serde(serialize_with = "seconds")]
    pub bucket_s: f64,
    pub slow_threshold_s: f64,
    /// Whether the access logs carry a request time: `all`, `some`, `none`
    /// (then nothing can be slow, `requests_slow` is null, and a request's
    /// time is the time written on its line), or `no-access-log`.
    #[serde(default)]
    pub request_times: Option<String>,
    pub incidents: Vec<IncidentJson>,
    /// Bursts of 4xx responses from single clients (not incidents: the
    /// contract never counts 4xx as bad), the largest first. An addition to
    /// the contract's fields, so reports without it still read.
    #[serde(default)]
    pub client_bursts: Vec<ClientBurstJson>,
    /// What incidents were judged against (an addition to the contract).
    #[serde(default)]
    pub baseline: BaselineJson,
    /// Set when the requests spanned more buckets than a series holds and
    /// `bucket_s` is wider than `--bucket` (an addition to the contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_widened: Option<BucketWidenedJson>,
    /// The one change of offset the access lines show (daylight saving
    /// inside the log), when the report's zone came from them: the
    /// Markdown writes each time in the offset of its moment. An addition,
    /// absent when the offset did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_change: Option<OffsetChangeJson>,
}

/// Why `bucket_s` is wider than the `--bucket` asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketWidenedJson {
    /// The width asked for, in seconds.
    #[serde(serialize_with = "seconds")]
    pub from_s: f64,
    /// The width used (`bucket_s`), in seconds.
    #[serde(serialize_with = "seconds")]
    pub to_s: f64,
    /// From the first request's bucket to the last's, in seconds.
    #[serde(serialize_with = "seconds")]
    pub span_s: f64,
    /// Buckets the span needs at `from_s`.
    pub buckets_needed: u64,
    /// The most buckets a series holds.
    pub limit: u64,
}

/// When the logs' offset changed, and from what to what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OffsetChangeJson {
    /// The first time written with the new offset.
    pub at: String,
    /// Seconds east of UTC before and from then.
    pub before_offset_s: i32,
    pub after_offset_s: i32,
}

/// The reference of normal: learned from the range (`data`), or `absolute`
/// when the range held no healthy stretch (the `--slo` objective's error
/// budget stands in; `docs/detection.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineJson {
    /// `data` or `absolute`.
    pub source: String,
    /// The bad-request (failed or slow) rate taken as normal, 0 to 1.
    pub bad_rate: f64,
    /// The failed-request rate taken as normal, 0 to 1.
    pub failed_rate: f64,
}

/// A burst of 4xx responses from one client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBurstJson {
    /// The client's address as logged.
    pub client: String,
    /// Its first and last 4xx response of the burst.
    pub start: String,
    pub end: String,
    /// Its 4xx responses (a lower bound, exact when the client dominates).
    pub responses_4xx: u64,
    /// Its share of all 4xx responses in the burst's buckets, 0 to 1.
    pub share_4xx: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkippedExample {
    pub line: u64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputReport {
    pub path: String,
    pub kind: String,
    pub format: Option<String>,
    /// What carried the access lines (`syslog`, `container`,
    /// `docker-json`); absent when they were bare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    pub lines: u64,
    pub parsed: u64,
    pub skipped: u64,
    pub skipped_examples: Vec<SkippedExample>,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Parsed lines outside `--since`/`--until`.
    pub out_of_range: u64,
    /// Requests with status 0 (no response was sent: the client went
    /// away); counted as requests, neither failed nor slow. Absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_response: u64,
    pub compressed: bool,
    /// Why reading stopped early or never started.
    pub error: Option<String>,
    /// Why an input was not analysed, or what was noticed about it.
    pub note: Option<String>,
    /// For access logs: which optional fields the lines carry.
    #[serde(default)]
    pub fields: Option<FieldsJson>,
    /// Lines read by another format than `format` (a file mixing formats).
    #[serde(default)]
    pub other_formats: Vec<OtherFormatJson>,
    /// Lines of an access log that are the server's own messages (HAProxy's
    /// `Proxy www started.`), read as syslog events; absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub messages: u64,
    /// The input whose reading covers this one (the same file reached by
    /// another path, or a copy): this one was not read; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Lines at the end of this input left out because they are the first
    /// lines of `overlap_with`, another rotation of the same log, where they
    /// are counted; absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overlap_lines: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_with: Option<String>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The optional fields an access log carries (a value in at least one line).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsJson {
    pub request_time: bool,
    pub upstream: bool,
    pub user_agent: bool,
    pub remote_user: bool,
    pub host: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherFormatJson {
    pub format: String,
    pub lines: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectedJson {
    pub at: String,
    pub source: String,
    pub evidence: String,
    /// False when nobody saw it: the `rule` source, a standard alert
    /// replayed over the logs (when it would have fired). True for an alert
    /// line (`log`) and a time the responders gave (`user`).
    pub observed: bool,
    /// True when this detection lies before the incident's start (its
    /// `time_to_detect_s` is then negative).
    pub before_start: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactJson {
    pub users_active: Option<u64>,
    pub users_affected: Option<u64>,
    pub affected_pct: Option<f64>,
    pub requests_total: Option<u64>,
    pub requests_failed: Option<u64>,
    pub requests_slow: Option<u64>,
    pub users_missing: Option<u64>,
    /// Whether the request and user counts are exactly those of `[start,
    /// end]` (false: the edge seconds are counted whole, as a report from
    /// partials without `--impact` or from standard input must).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_exact: Option<bool>,
    /// `false` when the users are estimates from HyperLogLog sketches (the
    /// run's users passed the exact sets' memory budget and the lines could
    /// not be read again); absent when they are counted one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_exact: Option<bool>,
    /// The estimates' relative error at 95% confidence, in percent (with
    /// `users_exact: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_error_pct: Option<f64>,
}

impl ImpactJson {
    /// Every figure null: an incident found without requests to count.
    pub fn unknown() -> Self {
        ImpactJson {
            users_active: None,
            users_affected: None,
            affected_pct: None,
            requests_total: None,
            requests_failed: None,
            requests_slow: None,
            users_missing: None,
            requests_exact: None,
            users_exact: None,
            users_error_pct: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalJson {
    pub kind: String,
    pub name: String,
    pub source: String,
    pub onset: String,
    pub peak_at: String,
    pub peak: f64,
    pub baseline: f64,
    pub unit: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineJson {
    pub at: String,
    pub kind: String,
    pub text: String,
    pub source: Option<String>,
    /// How many lines were folded into this entry (1 when not folded).
    pub count: u64,
    /// When the last folded line was seen (`at` when not folded).
    pub last_at: String,
    /// The first folded line as written, when the entry's text is the
    /// template of lines that differ; null otherwise.
    pub example: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentJson {
    pub start: String,
    pub end: String,
    #[serde(serialize_with = "seconds")]
    pub duration_s: f64,
    pub severity: String,
    pub detected: Option<DetectedJson>,
    #[serde(serialize_with = "optional_seconds")]
    pub time_to_detect_s: Option<f64>,
    pub impact: ImpactJson,
    pub signals: Vec<SignalJson>,
    pub timeline: Vec<TimelineJson>,
    pub hints: Vec<String>,
    /// What the findings single out for the responders (the Markdown's bold
    /// rows, resolution and measures). An addition to the contract's fields,
    /// so reports without it still read.
    #[serde(default)]
    pub leads: LeadsJson,
    /// The change that most likely ended the impact, or null when nothing
    /// logged one.
    #[serde(default)]
    pub resolution: Option<ResolutionJson>,
    /// The host where the incident started first, when several hosts'
    /// logs were read and their starts differ (an addition to the
    /// contract; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_first_on: Option<StartedFirstOnJson>,
}

/// The host where an incident started first (`detect/first_host.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartedFirstOnJson {
    /// The host's log relative to the folder the inputs share
    /// (`web02/access.log`).
    pub host: String,
    /// Its first failed request in its first failing bucket.
    pub start: String,
    /// How long before the next host's start, in seconds.
    #[serde(serialize_with = "seconds")]
    pub lead_s: f64,
    /// The host that started next.
    pub next_host: String,
    /// Every host that failed in the incident, earliest first.
    pub hosts: Vec<HostStartJson>,
}

/// One host's start in an incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostStartJson {
    pub host: String,
    pub start: String,
}

/// The change that most likely ended the impact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionJson {
    /// The first line of the change (the `Reloading` of a reload).
    pub at: String,
    /// That line as it names itself (`program: text`).
    pub text: String,
    /// `path:line` of that line.
    pub source: Option<String>,
    /// The host the line names, if any.
    #[serde(default)]
    pub host: Option<String>,
    /// Which rule of the resolution choice picked it.
    #[serde(default)]
    pub reason: String,
    /// The first line of the configuration-management run it was part of.
    #[serde(default)]
    pub run: Option<String>,
}

/// What the findings single out for the responders.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadsJson {
    /// The last change at or before the start: the prime suspect.
    pub last_change_before: Option<ChangeJson>,
    /// The last change during impact at most 15 min before its end: what
    /// preceded recovery.
    pub recovery_change: Option<ChangeJson>,
    /// The signal that left its baseline at least a minute before impact.
    pub moved_first: Option<MovedFirstJson>,
    /// Detection came more than 5 min after the start.
    pub slow_detection: bool,
    /// Timeline events that speak of memory exhaustion.
    pub out_of_memory_events: u64,
}

/// A change of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeJson {
    pub at: String,
    /// The timeline entry's text.
    pub text: String,
    pub source: Option<String>,
}

/// A signal that moved before users were hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovedFirstJson {
    pub kind: String,
    pub name: String,
    pub source: String,
    pub onset: String,
    /// How long before the impact start it left its baseline.
    #[serde(serialize_with = "seconds")]
    pub before_impact_s: f64,
}

fn time(at: Millis) -> String {
    rfc3339_utc(at)
}

impl Report {
    /// The report of the findings of a run.
    pub fn from_findings(findings: &Findings) -> Report {
        let zone = &findings.zone;
        let clock = sentences::Clock::of(findings);
        let inputs = input_reports(&findings.inputs);
        let slow_measured = RequestTimes::of(findings).slow_measured();
        let incidents = findings
            .incidents
            .iter()
            .map(|report| {
                let incident = &report.incident;
                let impact = &report.impact;
                IncidentJson {
                    start: time(incident.start),
                    end: time(incident.end),
                    duration_s: ms_to_seconds(incident.end - incident.start),
                    severity: incident.severity.name().to_string(),
                    detected: report.detected.as_ref().map(|d| DetectedJson {
                        at: time(d.at),
                        source: d.source.name().to_string(),
                        evidence: sentences::detection_evidence(&d.evidence),
                        observed: d.source != DetectionSource::Rule,
                        before_start: d.at < incident.start,
                    }),
                    time_to_detect_s: report
                        .detected
                        .as_ref()
                        .map(|d| ms_to_seconds(d.at - incident.start)),
                    impact: if report.impact_measured {
                        ImpactJson {
                            users_active: Some(impact.users_active),
                            users_affected: Some(impact.users_affected),
                            affected_pct: Some(impact.affected_pct),
                            requests_total: Some(impact.requests_total),
                            requests_failed: Some(impact.requests_failed),
                            requests_slow: slow_measured.then_some(impact.requests_slow),
                            users_missing: Some(impact.users_missing),
                            requests_exact: Some(report.requests_exact),
                            users_exact: impact.users_estimated.then_some(false),
                            users_error_pct: impact
                                .users_estimated
                                .then(crate::series::user_sketch::users_error_pct),
                        }
                    } else {
                        ImpactJson::unknown()
                    },
                    signals: report
                        .signals
                        .iter()
                        .map(|s| SignalJson {
                            kind: s.kind.to_string(),
                            name: s.name.clone(),
                            source: s.source.clone(),
                            onset: time(s.onset),
                            peak_at: time(s.peak_at),
                            peak: s.peak,
                            baseline: s.baseline,
                            unit: s.unit.clone(),
                        })
                        .collect(),
                    timeline: report
                        .timeline
                        .iter()
                        .map(|e| TimelineJson {
                            at: time(e.at),
                            kind: e.kind.name().to_string(),
                            text: sentences::timeline_text(e, zone),
                            source: e.source.clone(),
                            count: e.count,
                            last_at: time(sentences::last_at(e)),
                            example: sentences::folded_example(e),
                        })
                        .collect(),
                    hints: report
                        .hints
                        .iter()
                        .map(|hint| sentences::hint_text(hint, &clock))
                        .collect(),
                    leads: leads(report, zone),
                    resolution: report.resolution.as_ref().map(|r| ResolutionJson {
                        at: time(r.at),
                        text: r.text.clone(),
                        source: r.source.clone(),
                        host: r.host.clone(),
                        reason: r.choice.name().to_string(),
                        run: r.run.clone(),
                    }),
                    started_first_on: report.started_first_on.as_ref().map(|lead| {
                        StartedFirstOnJson {
                            host: lead.host.clone(),
                            start: time(lead.start),
                            lead_s: ms_to_seconds(lead.lead_ms),
                            next_host: lead.next_host.clone(),
                            hosts: lead
                                .starts
                                .iter()
                                .map(|start| HostStartJson {
                                    host: start.host.clone(),
                                    start: time(start.start),
                                })
                                .collect(),
                        }
                    }),
                }
            })
            .collect();
        Report {
            schema: SCHEMA.to_string(),
            generator: generator(),
            inputs,
            bucket_s: ms_to_seconds(findings.bucket_ms),
            slow_threshold_s: findings.slow_threshold_us as f64 / 1e6,
            request_times: Some(RequestTimes::of(findings).name().to_string()),
            incidents,
            client_bursts: findings
                .client_bursts
                .iter()
                .map(|burst| ClientBurstJson {
                    client: burst.client.clone(),
                    start: time(burst.first),
                    end: time(burst.last),
                    responses_4xx: burst.responses_4xx,
                    share_4xx: round4(burst.share()),
                })
                .collect(),
            offset_change: findings.zone.offset_change().map(|(before, after, at)| {
                OffsetChangeJson {
                    at: time(at),
                    before_offset_s: before,
                    after_offset_s: after,
                }
            }),
            baseline: BaselineJson {
                source: findings.baseline.source.name().to_string(),
                bad_rate: round4(findings.baseline.bad_rate),
                failed_rate: round4(findings.baseline.failed_rate),
            },
            bucket_widened: findings.bucket_widened.map(|w| BucketWidenedJson {
                from_s: ms_to_seconds(w.from_ms),
                to_s: ms_to_seconds(w.to_ms),
                span_s: ms_to_seconds(w.span_ms),
                buckets_needed: w.buckets_needed,
                limit: w.limit,
            }),
        }
    }
}

/// What the findings single out about one incident.
fn leads(finding: &Finding, zone: &Zone) -> LeadsJson {
    let change = |entry: &TimelineEntry| ChangeJson {
        at: time(entry.at),
        text: sentences::timeline_text(entry, zone),
        source: entry.source.clone(),
    };
    LeadsJson {
        last_change_before: finding.last_change_before().map(change),
        recovery_change: finding.recovery_change().map(change),
        moved_first: finding.moved_first().map(|signal| MovedFirstJson {
            kind: signal.kind.to_string(),
            name: signal.name.clone(),
            source: signal.source.clone(),
            onset: time(signal.onset),
            before_impact_s: ms_to_seconds(finding.incident.start - signal.onset),
        }),
        slow_detection: finding.slow_detection(),
        out_of_memory_events: finding.out_of_memory_events() as u64,
    }
}

/// The contract's `inputs` entries of a run's inputs.
pub fn input_reports(inputs: &[crate::ingest::InputStats]) -> Vec<InputReport> {
    inputs
        .iter()
        .map(|input| InputReport {
            path: input.path.clone(),
            kind: input.kind.name().to_string(),
            format: input.format.map(str::to_string),
            envelope: input.envelope.map(str::to_string),
            lines: input.lines,
            parsed: input.parsed,
            skipped: input.skipped,
            skipped_examples: input
                .skipped_examples
                .iter()
                .map(|e| SkippedExample {
                    line: e.line,
                    reason: e.reason.clone(),
                })
                .collect(),
            first: input.first.map(time),
            last: input.last.map(time),
            out_of_range: input.out_of_range,
            no_response: input.no_response,
            compressed: input.compressed,
            error: input.error.clone(),
            note: input.note.clone(),
            fields: (input.kind == crate::ingest::InputKind::Access).then_some(FieldsJson {
                request_time: input.fields.request_time,
                upstream: input.fields.upstream,
                user_agent: input.fields.user_agent,
                remote_user: input.fields.remote_user,
                host: input.fields.host,
            }),
            other_formats: input
                .other_formats
                .iter()
                .map(|(format, lines)| OtherFormatJson {
                    format: format.to_string(),
                    lines: *lines,
                })
                .collect(),
            messages: input.messages,
            duplicate_of: input.duplicate_of.clone(),
            overlap_lines: input.overlap_lines,
            overlap_with: input.overlap_with.clone(),
        })
        .collect()
}
