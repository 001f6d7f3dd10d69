//! The findings of a run: the one type detect hands to report. Built once,
//! in order, by [`super::describe::find`]; no later pass patches it. It holds
//! facts only (times, counts, rates, names, the log lines they come from):
//! every sentence about them is written by the report module.

use crate::config::UserKey;
use crate::ingest::events::{Event, EventKind};
use crate::ingest::evidence::MetricSeries;
use crate::ingest::{InputKind, InputStats};
use crate::series::dims::DimensionSeries;
use crate::series::termination::TerminationCause;
use crate::series::{LineRef, SeriesSet};
use crate::timefmt::{MS_PER_MINUTE, Millis, Zone};

use super::actions::ActionRun;
use super::baseline::{BaselineSource, BucketCounts};
use super::client_bursts::ClientBurst;
use super::concentration::{PathConcentration, ShareShift};
use super::impact::Impact;
use super::resolution::Resolution;
use super::runs::ChangeRun;
use super::{Incident, Severity};

/// A change this close before the end of impact is named as what preceded
/// recovery (a rollback or restart is usually minutes before the last bad
/// request).
pub const RECOVERY_CHANGE_WINDOW_MS: i64 = 15 * MS_PER_MINUTE;

/// A signal whose onset is this much earlier than the start "moved first"
/// (one default bucket: an earlier onset inside the same minute is noise).
pub const MOVED_FIRST_MS: i64 = MS_PER_MINUTE;

/// Detection later than this after the start is slow: people should have
/// noticed sooner.
pub const SLOW_DETECTION_MS: i64 = 5 * MS_PER_MINUTE;

/// The classifier's rule for memory exhaustion (see
/// [`crate::ingest::events::classify::RULES`]).
pub const OUT_OF_MEMORY_RULE: &str = "out of memory";

/// How the detection time was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectionSource {
    /// `--detected-at`.
    User,
    /// An alert line in the logs.
    Log,
    /// The burn-rate (or traffic) rule replayed over the series.
    Rule,
}

impl DetectionSource {
    pub fn name(self) -> &'static str {
        match self {
            DetectionSource::User => "user",
            DetectionSource::Log => "log",
            DetectionSource::Rule => "rule",
        }
    }
}

/// What shows the detection time, as data.
#[derive(Clone, Debug, PartialEq)]
pub enum DetectionEvidence {
    /// The responders gave the time with `--detected-at`.
    Given,
    /// An alert line; `text` is the line as it names itself (`program: text`).
    Alert { text: String },
    /// The multiwindow SLO burn-rate rule fired.
    BurnRate {
        slo_percent: f64,
        rule: &'static str,
        long_burn: f64,
        short_burn: f64,
    },
    /// Requests stayed below a fifth of the baseline for the rule's five
    /// minutes; the baseline in requests a minute.
    TrafficRule { expected_per_minute: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detected {
    pub at: Millis,
    pub source: DetectionSource,
    pub evidence: DetectionEvidence,
}

/// A measurable departure from the baseline that makes up an incident.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// `error_rate`, `latency`, `traffic`, `metric` or `events`.
    pub kind: &'static str,
    pub name: String,
    pub source: String,
    pub onset: Millis,
    pub peak_at: Millis,
    pub peak: f64,
    pub baseline: f64,
    /// `ratio`, `s`, or a metric's unit from its CSV header (may be empty).
    pub unit: String,
}

/// Kinds of timeline entries, as the contract names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineKind {
    Action,
    Change,
    Alert,
    Event,
    ImpactStart,
    Detected,
    Peak,
    ImpactEnd,
}

impl TimelineKind {
    pub fn name(self) -> &'static str {
        match self {
            TimelineKind::ImpactStart => "impact_start",
            TimelineKind::Detected => "detected",
            TimelineKind::Alert => "alert",
            TimelineKind::Change => "change",
            TimelineKind::Event => "event",
            TimelineKind::Action => "action",
            TimelineKind::Peak => "peak",
            TimelineKind::ImpactEnd => "impact_end",
        }
    }
}

/// What a timeline entry stands for, with the numbers a renderer needs.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineFact {
    /// The first bad request; the bad-request rate of the baseline, and
    /// the bad requests and requests of the window of `window_ms` that
    /// starts with it (the same population the baseline counts: every
    /// request, bad = failed or slow at the run's threshold).
    BadRequestsStart {
        baseline_bad_rate: f64,
        window_bad: u64,
        window_requests: u64,
        window_ms: i64,
    },
    /// The last request before the traffic fell away.
    TrafficDropStart { expected_per_minute: f64 },
    /// The first metric point far from its baseline; the first metric that
    /// moved near it, if any.
    MetricDepartureStart { metric: Option<String> },
    /// When the incident was detected.
    Detected(Detected),
    /// The bucket with the highest bad-request rate.
    BadRequestPeak {
        bad_rate: f64,
        requests: u64,
        failed: u64,
        slow: u64,
        p95_us: Option<f64>,
    },
    /// The emptiest bucket of a traffic drop, in requests a minute.
    TrafficLow { per_minute: f64 },
    /// The last bad request.
    BadRequestsEnd {
        users_affected: u64,
        users_active: u64,
        /// Whether the two are estimates from sketches.
        users_estimated: bool,
    },
    /// The first request after the traffic came back.
    TrafficDropEnd { users_missing: u64 },
    /// The last metric point far from its baseline.
    MetricDepartureEnd,
    /// An alert, recovery, change or event line of syslog or an error log
    /// (the first of the lines folded into the entry).
    Log {
        event: EventKind,
        rule: &'static str,
        host: Option<String>,
        /// The line as it names itself: `program: text`.
        text: String,
        /// The template of the folded lines when they differ from `text`
        /// (variable parts as `<*>`); `None` for one line or identical ones.
        template: Option<String>,
        /// When the last folded line was seen (the entry's `at` for one).
        last_at: Millis,
    },
    /// Commands one person ran on one host, consecutively.
    Action(ActionRun),
    /// A configuration-management run with the reload it caused.
    ChangeRun(ChangeRun),
    /// A metric series leaving its baseline.
    MetricOnset(MetricMovement),
}

/// How a metric series left its baseline: what a timeline row and a lead
/// both say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricMovement {
    pub metric: String,
    pub rising: bool,
    /// A gradual ramp rather than a step.
    pub ramp: bool,
    pub baseline: f64,
    pub peak: f64,
    pub peak_at: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at: Millis,
    pub kind: TimelineKind,
    pub fact: TimelineFact,
    /// `path:line` of the line that shows it, or the input's path.
    pub source: Option<String>,
    /// Lines folded into this entry (1 when not folded).
    pub count: u64,
}

/// What a "last change before" hint measures from.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeLead {
    /// The start of impact.
    Impact,
    /// The onset of the metric that moved first.
    MetricMoved { metric: String },
}

/// A lead for the root cause, as data, in the order the report lists them.
#[derive(Clone, Debug, PartialEq)]
pub enum Hint {
    /// A metric series began to move near the incident.
    MetricMoved {
        movement: MetricMovement,
        onset: Millis,
        impact_start: Millis,
        unit: String,
    },
    /// The last change in the hour before `reference` (impact start, or the
    /// first metric's onset).
    LastChangeBefore {
        lead: ChangeLead,
        change_at: Millis,
        reference: Millis,
        /// The change line as it names itself.
        change: String,
        /// `path:line` of the change line (empty when unknown).
        source: String,
    },
    /// What the incident's severity suggests; the failed share of the bad
    /// requests in percent.
    Severity {
        severity: Severity,
        failed_share_pct: f64,
    },
    /// One upstream or host took far more of the bad requests than of the
    /// traffic.
    Concentration {
        dimension: &'static str,
        label: String,
        traffic_share: f64,
        bad_share: f64,
        values_seen: usize,
    },
    /// One upstream or host's share of the requests or of the bad requests
    /// moved against its baseline share.
    ShareShift {
        dimension: &'static str,
        shift: ShareShift,
    },
    /// Most failed requests of one upstream ended the same way, as the
    /// proxy tells it (HAProxy's termination state, Envoy's flags).
    Termination {
        dimension: &'static str,
        label: String,
        cause: TerminationCause,
        /// The vendor's code (`SC`, `UH`).
        code: String,
        /// The cause's share of the value's failed requests (0..=1).
        share: f64,
        /// The value's failed requests during the incident.
        failed: u64,
    },
    /// A 4xx burst from one client near the incident: not part of it.
    ClientBurst(ClientBurst),
    /// One path took most of the bad requests.
    PathConcentration(PathConcentration),
    /// One path's share of the bad requests rose against its share of the
    /// requests before (its requests known as an upper bound: see
    /// [`super::concentration::path_share_shift`]).
    PathShareShift(ShareShift),
    /// A log template appeared or jumped at the onset
    /// (see [`super::patterns`]).
    NewLogPattern {
        template: String,
        first_at: Millis,
        /// `path:line` of its first line.
        source: Option<String>,
        /// Lines in the hour before the onset window, and from it to the end.
        before: u64,
        during: u64,
    },
    /// No access log: users and requests unknown.
    NoAccessLog,
}

/// One incident with everything found about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub incident: Incident,
    pub impact: Impact,
    /// False for incidents found in metrics alone: no request was seen, so
    /// the users and requests of `impact` are unknown (null in JSON).
    pub impact_measured: bool,
    /// Whether the requests (and users) of `impact` are exactly those in
    /// `[start, end]`: false when the edge seconds could not be read again
    /// (standard input, a report from partials without `--impact`), so
    /// the counts hold every request of the start's and end's seconds
    /// ([`super::recount`]).
    pub requests_exact: bool,
    pub detected: Option<Detected>,
    pub signals: Vec<Signal>,
    /// In time order (and kind order at equal times), at most
    /// [`super::timeline::MAX_TIMELINE_ROWS`] unless the steps alone are more.
    pub timeline: Vec<TimelineEntry>,
    /// The changes, alerts and events around the start, folded and ranked
    /// as the timeline (see [`super::timeline::evidence_around`]).
    pub evidence: Vec<TimelineEntry>,
    /// Out-of-memory events of the evidence window, all of them (see
    /// [`super::timeline::out_of_memory_events`]).
    pub out_of_memory_count: usize,
    pub hints: Vec<Hint>,
    /// The change that most likely ended the impact, if one was logged.
    pub resolution: Option<Resolution>,
    /// Bad-request rate at the peak bucket.
    pub peak_bad_rate: f64,
    /// The host where it started first, when several hosts' logs were read
    /// and their starts differ (see [`super::first_host`]).
    pub started_first_on: Option<super::first_host::HostLead>,
}

impl Finding {
    /// The last change at or before the start: the prime suspect. The row
    /// of the change the lead names ([`Hint::LastChangeBefore`], ranked by
    /// [`super::changes::CHANGE_RANKING`]), else the latest change row.
    pub fn last_change_before(&self) -> Option<&TimelineEntry> {
        let lead = self.hints.iter().find_map(|hint| match hint {
            Hint::LastChangeBefore {
                lead: ChangeLead::Impact,
                change_at,
                source,
                change,
                ..
            } => Some((*change_at, source.as_str(), change.as_str())),
            _ => None,
        });
        if let Some((at, source, text)) = lead
            && let Some(row) = self.row_of_change(at, Some(source), text, None)
        {
            return Some(row);
        }
        self.timeline_in_order()
            .into_iter()
            .filter(|e| e.kind == TimelineKind::Change && e.at <= self.incident.start)
            .max_by_key(|e| e.at)
    }

    /// The timeline row of the resolution.
    pub fn resolution_row(&self) -> Option<&TimelineEntry> {
        let resolution = self.resolution.as_ref()?;
        self.row_of_change(
            resolution.at,
            resolution.source.as_deref(),
            &resolution.text,
            resolution.host.as_deref(),
        )
    }

    /// The change row of the line at `at` from `source`: its own row, else
    /// the folded row that holds it ([`super::rows::holds_line`]).
    pub fn row_of_change(
        &self,
        at: Millis,
        source: Option<&str>,
        text: &str,
        host: Option<&str>,
    ) -> Option<&TimelineEntry> {
        self.timeline
            .iter()
            .find(|e| e.kind == TimelineKind::Change && e.at == at && e.source.as_deref() == source)
            .or_else(|| {
                self.timeline
                    .iter()
                    .find(|e| super::rows::holds_line(e, at, text, host))
            })
    }

    /// The last change during the impact and at most
    /// [`RECOVERY_CHANGE_WINDOW_MS`] before its end: what preceded recovery
    /// (a rollback, a restart).
    pub fn recovery_change(&self) -> Option<&TimelineEntry> {
        let (start, end) = (self.incident.start, self.incident.end);
        self.timeline_in_order()
            .into_iter()
            .filter(|e| {
                e.kind == TimelineKind::Change
                    && e.at > start
                    && e.at <= end
                    && end - e.at <= RECOVERY_CHANGE_WINDOW_MS
            })
            .max_by_key(|e| e.at)
    }

    /// The signal with the earliest onset.
    pub fn first_signal(&self) -> Option<&Signal> {
        self.signals.iter().min_by_key(|s| s.onset)
    }

    /// The first signal when it left its baseline at least
    /// [`MOVED_FIRST_MS`] before the impact started.
    pub fn moved_first(&self) -> Option<&Signal> {
        self.first_signal()
            .filter(|first| first.onset + MOVED_FIRST_MS <= self.incident.start)
    }

    /// Whether detection came more than [`SLOW_DETECTION_MS`] after the
    /// start.
    pub fn slow_detection(&self) -> bool {
        self.detected
            .as_ref()
            .is_some_and(|d| d.at - self.incident.start > SLOW_DETECTION_MS)
    }

    /// Out-of-memory events of the evidence window under the classifier's
    /// rule ([`OUT_OF_MEMORY_RULE`]: kernel OOM kills, runtimes' "out of
    /// memory"), counted before the timeline is capped, one per host and
    /// kill.
    pub fn out_of_memory_events(&self) -> usize {
        self.out_of_memory_count
    }

    /// The timeline sorted by time, then kind (it is built so; entries
    /// added by hand keep their place among equals).
    fn timeline_in_order(&self) -> Vec<&TimelineEntry> {
        let mut entries: Vec<&TimelineEntry> = self.timeline.iter().collect();
        entries.sort_by_key(|e| (e.at, e.kind));
        entries
    }
}

/// What normal looked like.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BaselineSummary {
    pub bad_rate: f64,
    pub failed_rate: f64,
    /// Learned from the range, or absolute (the range had no healthy stretch).
    pub source: BaselineSource,
    pub p50_us: Option<f64>,
    pub p95_us: Option<f64>,
    pub p99_us: Option<f64>,
}

/// Everything a run found.
#[derive(Clone, Debug)]
pub struct Findings {
    pub inputs: Vec<InputStats>,
    /// The zone times are shown in: `--tz`, else the access logs' offset, else UTC.
    pub zone: Zone,
    pub bucket_ms: i64,
    pub slow_threshold_us: u64,
    pub user_key: UserKey,
    pub series: SeriesSet,
    pub counts: Vec<BucketCounts>,
    pub baseline: BaselineSummary,
    pub incidents: Vec<Finding>,
    /// Per-upstream / per-host counts aligned with `series` (only the
    /// dimensions with at least two values).
    pub dimensions: Vec<DimensionSeries>,
    /// Alerts, recoveries, changes and events from syslog and error logs.
    pub events: Vec<Event>,
    /// Series from metric CSVs.
    pub metrics: Vec<MetricSeries>,
    /// Bursts of 4xx responses from single clients, the largest first: not
    /// incidents, named so nobody takes them for one.
    pub client_bursts: Vec<ClientBurst>,
    /// Set when the requests spanned too many buckets of the width asked
    /// for and the series was read at a wider one (`bucket_ms`).
    pub bucket_widened: Option<crate::series::widen::Widening>,
}

impl Findings {
    /// `path:line` for a line reference.
    pub fn line_source(&self, line: LineRef) -> Option<String> {
        line_source(&self.inputs, line)
    }

    /// The access logs as one source name.
    pub fn access_source(&self) -> String {
        access_source(&self.inputs)
    }
}

/// `path:line` for a line reference.
pub fn line_source(inputs: &[InputStats], line: LineRef) -> Option<String> {
    inputs
        .get(line.input as usize)
        .map(|input| format!("{}:{}", input.path, line.line))
}

/// The access logs as one source name: the path of the only one, or
/// `3 access logs`.
pub fn access_source(inputs: &[InputStats]) -> String {
    let access: Vec<&InputStats> = inputs
        .iter()
        .filter(|i| i.kind == InputKind::Access)
        .collect();
    match access.as_slice() {
        [one] => one.path.clone(),
        many => format!("{} access logs", many.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::events::classify::RULES;

    const MINUTE: i64 = MS_PER_MINUTE;

    fn log(at: Millis, kind: TimelineKind, event: EventKind, rule: &'static str) -> TimelineEntry {
        TimelineEntry {
            at,
            kind,
            fact: TimelineFact::Log {
                event,
                rule,
                host: None,
                text: format!("line at {at}"),
                template: None,
                last_at: at,
            },
            source: None,
            count: 1,
        }
    }

    fn finding(timeline: Vec<TimelineEntry>, detected_after: Option<i64>) -> Finding {
        let start = 60 * MINUTE;
        Finding {
            incident: Incident {
                cause: super::super::Cause::BadRequests,
                start,
                end: start + 30 * MINUTE,
                start_line: None,
                end_line: None,
                first_bucket: 60,
                last_bucket: 90,
                severity: Severity::Outage,
            },
            impact: Impact::default(),
            impact_measured: true,
            requests_exact: true,
            detected: detected_after.map(|after| Detected {
                at: start + after,
                source: DetectionSource::User,
                evidence: DetectionEvidence::Given,
            }),
            signals: Vec::new(),
            timeline,
            evidence: Vec::new(),
            out_of_memory_count: 0,
            hints: Vec::new(),
            resolution: None,
            peak_bad_rate: 1.0,
            started_first_on: None,
        }
    }

    #[test]
    fn leads_come_from_the_timeline() {
        let change = |at| log(at, TimelineKind::Change, EventKind::Change, "deploy");
        let finding = finding(
            vec![
                change(20 * MINUTE),
                change(55 * MINUTE),
                change(61 * MINUTE),
                change(80 * MINUTE),
                change(85 * MINUTE),
                log(
                    70 * MINUTE,
                    TimelineKind::Event,
                    EventKind::Event,
                    OUT_OF_MEMORY_RULE,
                ),
                log(71 * MINUTE, TimelineKind::Event, EventKind::Event, "crash"),
            ],
            Some(6 * MINUTE),
        );
        let cases = [
            (
                "the last change at or before the start",
                finding.last_change_before().map(|e| e.at),
                Some(55 * MINUTE),
            ),
            (
                "the last change within 15 min before the end",
                finding.recovery_change().map(|e| e.at),
                Some(85 * MINUTE),
            ),
        ];
        for (name, got, expected) in cases {
            assert_eq!(got, expected, "{name}");
        }
        assert!(finding.slow_detection(), "6 min after the start");
    }

    #[test]
    fn detection_is_slow_after_five_minutes() {
        let cases = [
            ("not detected", None, false),
            ("at five minutes", Some(5 * MINUTE), false),
            ("a second later", Some(5 * MINUTE + 1_000), true),
        ];
        for (name, after, slow) in cases {
            assert_eq!(finding(Vec::new(), after).slow_detection(), slow, "{name}");
        }
    }

    #[test]
    fn the_out_of_memory_rule_is_the_classifiers() {
        assert!(RULES.iter().any(|rule| rule.name == OUT_OF_MEMORY_RULE));
    }
}
