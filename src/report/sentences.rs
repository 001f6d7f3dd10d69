//! The sentences written from the findings that both the JSON and the
//! Markdown carry, so a script and a person are told the same: timeline
//! texts, hint sentences, detection evidence and the client-burst sentence.

use crate::detect::Severity;
use crate::detect::actions::{ActionRole, ActionRun};
use crate::detect::client_bursts::ClientBurst;
use crate::detect::concentration::{BaselineWindow, PathConcentration, ShareShift};
use crate::detect::findings::{
    ChangeLead, DetectionEvidence, DetectionSource, Findings, Hint, MetricMovement, TimelineEntry,
    TimelineFact,
};
use crate::detect::runs::ChangeRun;
use crate::ingest::events::EventKind;
use crate::ingest::events::commands::{Actor, Topic};
use crate::series::termination::TerminationCause;
use crate::timefmt::{Millis, Zone, human_duration, human_time};

use super::markdown::text::{metric_value, thousands};

/// How a lead writes a time: in the report's zone, with its date when the
/// report's incidents and their timelines cover more than one local date
/// (a clock time alone is ambiguous there, as in the Markdown's body).
#[derive(Clone, Copy, Debug)]
pub struct Clock<'a> {
    pub zone: &'a Zone,
    pub dated: bool,
}

impl<'a> Clock<'a> {
    /// The clock of a report: its zone, dated when [`spans_days`].
    pub fn of(findings: &'a Findings) -> Self {
        Clock {
            zone: &findings.zone,
            dated: spans_days(findings),
        }
    }

    /// `14:00:03`, or `2023-11-12 14:00:03` when dated.
    pub fn time(&self, at: Millis) -> String {
        let format = if self.dated {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%H:%M:%S"
        };
        crate::timefmt::local_time(at, self.zone)
            .format(format)
            .to_string()
    }
}

/// Whether the incidents, with their timelines, cover more than one local
/// date in the report's zone.
pub fn spans_days(findings: &Findings) -> bool {
    let times = findings.incidents.iter().flat_map(|r| {
        [r.incident.start, r.incident.end]
            .into_iter()
            .chain(r.timeline.iter().map(|e| e.at))
    });
    let mut dates = times.map(|at| crate::timefmt::local_time(at, &findings.zone).date());
    match dates.next() {
        Some(first) => dates.any(|d| d != first),
        None => false,
    }
}

/// What shows the detection time: the alert line, the rule that fired, or
/// that the responders gave it.
pub fn detection_evidence(evidence: &DetectionEvidence) -> String {
    match evidence {
        DetectionEvidence::Given => "given with --detected-at".to_string(),
        DetectionEvidence::Alert { text } => text.clone(),
        DetectionEvidence::BurnRate {
            slo_percent,
            rule,
            long_burn,
            short_burn,
        } => format!(
            "replayed, not observed: a standard SLO {slo_percent}% multiwindow burn-rate alert ({rule}) would have fired here, at burn rate {long_burn:.1} (long window) and {short_burn:.1} (short window)"
        ),
        DetectionEvidence::TrafficRule {
            expected_per_minute,
        } => format!(
            "replayed, not observed: a standard traffic alert would have fired here, requests having stayed below a fifth of the baseline ({expected_per_minute:.0}/min) for 5 minutes"
        ),
    }
}

/// What a replayed rule is called in a sentence: `a standard burn-rate
/// alert`, `a standard traffic alert`.
pub fn replayed_alert_name(evidence: &DetectionEvidence) -> &'static str {
    match evidence {
        DetectionEvidence::TrafficRule { .. } => "a standard traffic alert",
        _ => "a standard burn-rate alert",
    }
}

/// `12.5%`, `0.26%`: a rate as the timeline states it, with two decimals
/// below 1% so a small rate never rounds to a misleading `0.0%`.
fn rate(value: f64) -> String {
    super::markdown::text::pct_value(100.0 * value)
}

/// What the label of a log line says: `Recovery`, `Alert`, `Change`, `Event`.
fn event_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Recovery => "Recovery",
        EventKind::Alert => "Alert",
        EventKind::Change => "Change",
        EventKind::Event => "Event",
        EventKind::Action => "Action",
    }
}

/// A configuration-management run: `deploy01 (configuration management
/// run, 09:12:19–09:12:31): ansible-playbook: PLAY [...] user=ops; it
/// reloaded on lb01: systemd: Reloading nginx.service ...`.
pub fn change_run_text(run: &ChangeRun, zone: &Zone) -> String {
    let host = run
        .host
        .as_deref()
        .map(|h| format!("{h} "))
        .unwrap_or_default();
    let effect = match &run.effect {
        Some((text, Some(on))) => format!("; it restarted or reloaded on {on}: {text}"),
        Some((text, None)) => format!("; it restarted or reloaded: {text}"),
        None => String::new(),
    };
    let when = if local_clock(run.first_at, zone) == local_clock(run.last_at, zone) {
        format!("at {}", local_clock(run.first_at, zone))
    } else {
        format!(
            "{}–{}",
            local_clock(run.first_at, zone),
            local_clock(run.last_at, zone)
        )
    };
    format!(
        "{host}(configuration management run, {when}): {}{effect}",
        run.title
    )
}

/// `09:12:19` in `zone`.
fn local_clock(at: Millis, zone: &Zone) -> String {
    crate::timefmt::local_time(at, zone)
        .format("%H:%M:%S")
        .to_string()
}

/// Who ran a command: `oncall`, `uid 1001`, `someone`.
pub fn actor_text(actor: &Actor) -> String {
    match actor {
        Actor::User(name) => name.clone(),
        Actor::Uid(uid) => format!("uid {uid}"),
        Actor::Unknown => "someone".to_string(),
    }
}

/// What a command looked at or touched, as words.
pub fn topic_words(topic: Topic) -> &'static str {
    match topic {
        Topic::Database => "the database",
        Topic::WebServer => "the web server",
        Topic::Network => "the network",
        Topic::Processes => "the processes and memory",
        Topic::Disk => "the disks",
        Topic::Configuration => "the configuration",
        Topic::Logs => "the logs",
    }
}

/// A run of commands without its time: `oncall on db1 looked at the
/// database: systemctl status mysql, mysqladmin processlist`.
pub fn action_run_text(run: &ActionRun) -> String {
    let has = |role| run.commands.iter().any(|c| c.role == role);
    let about = run.topic.map(topic_words);
    let verb = if run.only_looked() {
        format!("looked at {}", about.unwrap_or("the system"))
    } else if has(ActionRole::Mitigation) {
        format!("tried to mitigate on {}", about.unwrap_or("the system"))
    } else if has(ActionRole::Operation) {
        format!("operated {}", about.unwrap_or("the system"))
    } else {
        "ran commands".to_string()
    };
    let host = run
        .host
        .as_deref()
        .map(|h| format!(" on {h}"))
        .unwrap_or_default();
    let commands: Vec<&str> = run.commands.iter().map(|c| c.command.as_str()).collect();
    format!(
        "{}{host} {verb}: {}",
        actor_text(&run.actor),
        commands.join(", ")
    )
}

/// The text of a generated row after its label (`Impact starts: `,
/// `Peak: `, `Detected (rule): `); `None` for log and metric rows, whose
/// text has no label to leave out.
fn generated_body(fact: &TimelineFact) -> Option<String> {
    Some(match fact {
        TimelineFact::BadRequestsStart {
            baseline_bad_rate,
            window_bad,
            window_requests,
            window_ms,
        } => {
            // Both rates with the same precision and over the same
            // population (every request, bad = failed or slow), counted from
            // the first bad request; "rises" only when the window is above
            // the baseline.
            let window_rate = *window_bad as f64 / (*window_requests).max(1) as f64;
            let (baseline, first) = (rate(*baseline_bad_rate), rate(window_rate));
            let counted = format!(
                "{} of {} request{}",
                thousands(*window_bad),
                thousands(*window_requests),
                if *window_requests == 1 { "" } else { "s" }
            );
            let window = human_duration(*window_ms);
            if window_rate > *baseline_bad_rate {
                format!(
                    "first bad request; bad-request rate rises from {baseline} to {first} in the {window} from it ({counted})"
                )
            } else {
                format!(
                    "first bad request; bad-request rate {first} in the {window} from it ({counted}), against a baseline of {baseline}"
                )
            }
        }
        TimelineFact::TrafficDropStart {
            expected_per_minute,
        } => format!(
            "last request before the traffic fell away (about {expected_per_minute:.0} requests a minute normally)"
        ),
        TimelineFact::MetricDepartureStart { metric } => format!(
            "{} departs far from its baseline",
            metric.as_deref().unwrap_or("a metric")
        ),
        TimelineFact::Detected(detected) => detection_evidence(&detected.evidence),
        TimelineFact::BadRequestPeak {
            bad_rate,
            requests,
            failed,
            slow,
            p95_us,
        } => format!(
            "{} of {requests} requests bad ({failed} failed, {slow} slow){}",
            rate(*bad_rate),
            p95_us
                .map(|p| format!(", p95 {:.2} s", p / 1e6))
                .unwrap_or_default()
        ),
        TimelineFact::TrafficLow { per_minute } => {
            format!("fewest requests, {per_minute:.0} a minute")
        }
        TimelineFact::BadRequestsEnd {
            users_affected,
            users_active,
            users_estimated,
        } => format!(
            "last bad request; {}{} of {} users were affected",
            if *users_estimated { "about " } else { "" },
            thousands(*users_affected),
            thousands(*users_active)
        ),
        TimelineFact::TrafficDropEnd { users_missing } => format!(
            "first request after the traffic came back; an estimated {} users never reached the service",
            thousands(*users_missing)
        ),
        TimelineFact::MetricDepartureEnd => "the last point far from the baseline".to_string(),
        TimelineFact::Action(run) => action_run_text(run),
        TimelineFact::ChangeRun(_) => return None,
        TimelineFact::Log { .. } | TimelineFact::MetricOnset { .. } => return None,
    })
}

/// When the last line folded into `entry` was seen (its `at` when it is
/// not a folded log row).
pub fn last_at(entry: &TimelineEntry) -> Millis {
    match &entry.fact {
        TimelineFact::Log { last_at, .. } => (*last_at).max(entry.at),
        _ => entry.at,
    }
}

/// The first folded line as written, when the entry shows the template of
/// lines that differ.
pub fn folded_example(entry: &TimelineEntry) -> Option<String> {
    match &entry.fact {
        TimelineFact::Log {
            text,
            template: Some(_),
            ..
        } => Some(text.clone()),
        _ => None,
    }
}

/// A timeline entry as one sentence: the JSON's `text`.
pub fn timeline_text(entry: &TimelineEntry, zone: &Zone) -> String {
    match &entry.fact {
        TimelineFact::Log {
            event,
            rule,
            host,
            text,
            template,
            ..
        } => {
            let host = host
                .as_ref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default();
            let shown = template.as_deref().unwrap_or(text);
            format!("{}{host} ({rule}): {shown}", event_label(*event))
        }
        TimelineFact::MetricOnset(movement) => {
            let verb = movement_word(
                movement,
                ["starts rising", "jumps", "starts falling", "drops"],
            );
            format!(
                "Metric {} {verb} from its baseline {} (to {} at {})",
                movement.metric,
                metric_value(movement.baseline, "", &movement.metric),
                metric_value(movement.peak, "", &movement.metric),
                human_time(movement.peak_at, zone)
            )
        }
        TimelineFact::Action(run) => format!("Action: {}", action_run_text(run)),
        TimelineFact::ChangeRun(run) => format!("Change: {}", change_run_text(run, zone)),
        TimelineFact::Detected(detected) if detected.source == DetectionSource::Rule => format!(
            "Alert would have fired (rule): {}",
            detection_evidence(&detected.evidence)
        ),
        TimelineFact::Detected(detected) => format!(
            "Detected ({}): {}",
            detected.source.name(),
            detection_evidence(&detected.evidence)
        ),
        fact => {
            let label = match fact {
                TimelineFact::BadRequestsStart { .. }
                | TimelineFact::TrafficDropStart { .. }
                | TimelineFact::MetricDepartureStart { .. } => "Impact starts",
                TimelineFact::BadRequestPeak { .. } | TimelineFact::TrafficLow { .. } => "Peak",
                _ => "Impact ends",
            };
            format!("{label}: {}", generated_body(fact).unwrap_or_default())
        }
    }
}

/// A timeline entry's text for a table whose Event column already names
/// its kind: generated rows without their label (`first bad request; ...`),
/// log lines without their kind (`web04 (systemd unit): ...`, or
/// `nagios: ...` without a host). A recovery keeps its word, which the
/// Event column (`Alert`) does not say; a line without text keeps its label.
pub fn timeline_cell_text(entry: &TimelineEntry, zone: &Zone) -> String {
    match &entry.fact {
        TimelineFact::Log {
            event: EventKind::Recovery,
            ..
        }
        | TimelineFact::MetricOnset { .. } => timeline_text(entry, zone),
        TimelineFact::Log { text, .. } if text.is_empty() => timeline_text(entry, zone),
        TimelineFact::ChangeRun(run) => change_run_text(run, zone),
        TimelineFact::Log {
            rule,
            host: Some(host),
            text,
            template,
            ..
        } => format!("{host} ({rule}): {}", template.as_deref().unwrap_or(text)),
        TimelineFact::Log {
            rule,
            host: None,
            text,
            template,
            ..
        } => format!("{rule}: {}", template.as_deref().unwrap_or(text)),
        fact => match generated_body(fact) {
            Some(body) if !body.is_empty() => body,
            _ => timeline_text(entry, zone),
        },
    }
}

/// A hint as the sentence the report lists among the leads.
pub fn hint_text(hint: &Hint, clock: &Clock<'_>) -> String {
    match hint {
        Hint::MetricMoved {
            movement,
            onset,
            impact_start,
            unit,
        } => {
            let MetricMovement {
                metric,
                baseline,
                peak,
                peak_at,
                ..
            } = movement;
            let how = movement_word(
                movement,
                ["rose steadily", "jumped", "fell steadily", "dropped"],
            );
            let relative = relative_to_impact(*onset, *impact_start);
            format!(
                "{metric} {how} from {}, {relative} (baseline {}, {} at {}): alert on it",
                clock.time(*onset),
                metric_value(*baseline, unit, metric),
                metric_value(*peak, unit, metric),
                clock.time(*peak_at)
            )
        }
        Hint::LastChangeBefore {
            lead,
            change_at,
            reference,
            change,
            source,
        } => {
            let before = match lead {
                ChangeLead::Impact => "impact".to_string(),
                ChangeLead::MetricMoved { metric } => format!("{metric} began to move"),
            };
            format!(
                "the last change before {before} was at {}, {} before it: {change} ({source})",
                clock.time(*change_at),
                human_duration(reference - change_at),
            )
        }
        Hint::NewLogPattern {
            template,
            first_at,
            source,
            before,
            during,
        } => {
            let what = if *before == 0 {
                "new log pattern at onset"
            } else {
                "log pattern jumped at onset"
            };
            let source = source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!(
                "{what}: {template}: {} in the hour before, {} during, first at {}{source}",
                thousands(*before),
                thousands(*during),
                clock.time(*first_at)
            )
        }
        Hint::Severity {
            severity,
            failed_share_pct,
        } => match severity {
            Severity::Degradation => "requests were slow but did not fail: look for saturation (CPU, memory, connection pools) or a slow dependency".to_string(),
            Severity::Outage => "nearly every request failed: look for a change that took the service or its routing down (deploy, config reload, load balancer)".to_string(),
            Severity::PartialOutage => format!(
                "{failed_share_pct:.0}% of the bad requests failed and {:.0}% were slow: look for what only part of the traffic shares (one backend, one host, one path)",
                100.0 - failed_share_pct
            ),
        },
        Hint::Concentration {
            dimension,
            label,
            traffic_share,
            bad_share,
            values_seen,
        } => format!(
            "{dimension} {label} carried {:.0}% of the requests but {:.0}% of the bad ones during the incident ({values_seen} {dimension}s seen): look at that {dimension} first",
            100.0 * traffic_share,
            100.0 * bad_share,
        ),
        Hint::ShareShift { dimension, shift } => share_shift_text(dimension, shift),
        Hint::Termination {
            dimension,
            label,
            cause,
            code,
            share,
            failed,
        } => format!(
            "{dimension} {label}: {:.0}% of its {} failed requests {} ({code}), as the proxy logged how they ended",
            100.0 * share,
            thousands(*failed),
            termination_phrase(*cause),
        ),
        Hint::ClientBurst(burst) => client_burst_text(burst, clock),
        Hint::PathConcentration(path) => path_concentration_text(path),
        Hint::PathShareShift(shift) => path_share_shift_text(shift),
        Hint::NoAccessLog => "no access log was given: the users and requests hit are unknown; add the access logs of the same period to measure them".to_string(),
    }
}

/// What requests that ended with `cause` went through, after "N failed
/// requests".
fn termination_phrase(cause: TerminationCause) -> &'static str {
    match cause {
        TerminationCause::NoServer => "had no server available",
        TerminationCause::ConnectFailed => {
            "could not connect to the server (refused, unreachable or connect timeout)"
        }
        TerminationCause::ServerTimeout => "timed out waiting for the server's answer",
        TerminationCause::ServerAborted => "were cut off by the server (closed or reset)",
        TerminationCause::ClientAborted => "were abandoned by the client",
        TerminationCause::ClientTimeout => "timed out waiting for the client",
        TerminationCause::ProxyDenied => {
            "were refused by the proxy's configuration (deny rule, no route, rate limit)"
        }
        TerminationCause::Overflow => "found a queue, connection limit or circuit breaker full",
        TerminationCause::ProxyKilled => {
            "were ended by the proxy itself (server marked down, admin kill, internal error)"
        }
    }
}

/// The word for how a metric moved, from `words` in the order rising ramp,
/// rising step, falling ramp, falling step: the timeline and the leads say
/// it in different tenses but tell the four cases apart the same way.
fn movement_word(movement: &MetricMovement, words: [&'static str; 4]) -> &'static str {
    let [rising_ramp, rising_step, falling_ramp, falling_step] = words;
    match (movement.rising, movement.ramp) {
        (true, true) => rising_ramp,
        (true, false) => rising_step,
        (false, true) => falling_ramp,
        (false, false) => falling_step,
    }
}

/// `40 min before impact`, `as impact began`, `5 min after impact began`.
fn relative_to_impact(at: Millis, start: Millis) -> String {
    if at < start {
        format!("{} before impact", human_duration(start - at))
    } else if at == start {
        "as impact began".to_string()
    } else {
        format!("{} after impact began", human_duration(at - start))
    }
}

/// One sentence naming a 4xx burst and why it is not an outage.
pub fn client_burst_text(burst: &ClientBurst, clock: &Clock<'_>) -> String {
    format!(
        "{} 4xx responses from one client, {}, between {} and {} ({:.1}% of the 4xx then): a scanner or a broken client, not an outage (4xx is the client's business)",
        thousands(burst.responses_4xx),
        burst.client,
        clock.time(burst.first),
        clock.time(burst.last),
        100.0 * burst.share()
    )
}

/// A moved share as a lead: "upstream 10.244.1.23:8080 served 98% of the
/// requests during the incident against 34% before, and all of the bad
/// ones". A part is never rounded to "100%" or "0%": it says "all" or
/// "none" only when it is.
fn share_shift_text(dimension: &str, shift: &ShareShift) -> String {
    let percent = |part: u64, whole: u64| match part {
        0 => "none".to_string(),
        _ if part >= whole => "all".to_string(),
        _ => format!(
            "{:.0}%",
            (100.0 * part as f64 / whole as f64).clamp(1.0, 99.0)
        ),
    };
    let label = &shift.label;
    let then = match shift.window {
        BaselineWindow::Before => "before",
        BaselineWindow::After => "after",
    };
    let baseline = match 100.0 * shift.baseline_share {
        exact if exact == 0.0 || exact == 100.0 => exact,
        share => share.round().clamp(1.0, 99.0),
    };
    let served = percent(shift.requests, shift.requests_total);
    let bad = percent(shift.bad, shift.bad_total);
    // A value that failed while its traffic fell is named for its failures;
    // one whose traffic rose (or moved without failing more) for the move.
    let traffic_rose = shift.traffic_share() > shift.baseline_share;
    if shift.traffic_moved && (traffic_rose || !shift.bad_moved) {
        let look = if traffic_rose {
            "look at why traffic moved to it (balancing or hashing rules, a peer out of rotation)"
        } else {
            "look at why traffic moved away from it (health checks, weights, a changed route)"
        };
        format!(
            "{dimension} {label} served {served} of the requests during the incident against {baseline:.0}% {then}, and {bad} of the bad ones: {look}"
        )
    } else {
        format!(
            "{dimension} {label} took {bad} of the bad requests during the incident while it served {served} of the requests ({baseline:.0}% {then}): look at that {dimension} first"
        )
    }
}

/// A path whose share of the bad requests moved, as a lead: "path /api
/// took all of the bad requests during the incident while it served at
/// most 62% of the requests (at most 61% before)". Its requests are an
/// upper bound (the traffic sketch's cell), and said so.
fn path_share_shift_text(shift: &ShareShift) -> String {
    let bad = match shift.bad {
        0 => "none".to_string(),
        part if part >= shift.bad_total => "all".to_string(),
        part => format!(
            "{:.0}%",
            (100.0 * part as f64 / shift.bad_total.max(1) as f64).clamp(1.0, 99.0)
        ),
    };
    let then = match shift.window {
        BaselineWindow::Before => "before",
        BaselineWindow::After => "after",
    };
    format!(
        "path {} took {bad} of the bad requests during the incident while it served at most {:.0}% of the requests (at most {:.0}% {then}): look at what serves that path first",
        shift.label,
        (100.0 * shift.traffic_share()).ceil(),
        (100.0 * shift.baseline_share).ceil(),
    )
}

/// The path that took most of the bad requests, as a lead.
fn path_concentration_text(path: &PathConcentration) -> String {
    format!(
        "path {} got {:.0}% of the bad requests but at most {:.0}% of all requests during the incident: look at what serves that path first",
        path.path,
        100.0 * path.bad_share,
        100.0 * path.traffic_share_at_most
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::findings::{Detected, DetectionSource, TimelineKind};

    fn row(kind: TimelineKind, fact: TimelineFact) -> TimelineEntry {
        TimelineEntry {
            at: 0,
            kind,
            fact,
            source: None,
            count: 1,
        }
    }

    fn log(event: EventKind, host: Option<&str>, text: &str) -> TimelineFact {
        TimelineFact::Log {
            event,
            rule: "nagios alert",
            host: host.map(str::to_string),
            text: text.to_string(),
            template: None,
            last_at: 0,
        }
    }

    #[test]
    fn table_cells_leave_out_what_the_event_column_says() {
        let utc = Zone::Fixed(0);
        let cases = [
            (
                "impact start",
                row(
                    TimelineKind::ImpactStart,
                    TimelineFact::MetricDepartureStart { metric: None },
                ),
                "Impact starts: a metric departs far from its baseline",
                "a metric departs far from its baseline",
            ),
            (
                "detection",
                row(
                    TimelineKind::Detected,
                    TimelineFact::Detected(Detected {
                        at: 0,
                        source: DetectionSource::User,
                        evidence: DetectionEvidence::Given,
                    }),
                ),
                "Detected (user): given with --detected-at",
                "given with --detected-at",
            ),
            (
                "peak",
                row(
                    TimelineKind::Peak,
                    TimelineFact::TrafficLow { per_minute: 3.4 },
                ),
                "Peak: fewest requests, 3 a minute",
                "fewest requests, 3 a minute",
            ),
            (
                "an alert on a host",
                row(
                    TimelineKind::Alert,
                    log(EventKind::Alert, Some("web01"), "HTTP CRITICAL"),
                ),
                "Alert on web01 (nagios alert): HTTP CRITICAL",
                "web01 (nagios alert): HTTP CRITICAL",
            ),
            (
                "an alert without a host",
                row(
                    TimelineKind::Alert,
                    log(EventKind::Alert, None, "HTTP CRITICAL"),
                ),
                "Alert (nagios alert): HTTP CRITICAL",
                "nagios alert: HTTP CRITICAL",
            ),
            (
                "a recovery keeps its word",
                row(
                    TimelineKind::Alert,
                    log(EventKind::Recovery, None, "HTTP OK"),
                ),
                "Recovery (nagios alert): HTTP OK",
                "Recovery (nagios alert): HTTP OK",
            ),
            (
                "a line without text keeps its label",
                row(TimelineKind::Alert, log(EventKind::Alert, None, "")),
                "Alert (nagios alert): ",
                "Alert (nagios alert): ",
            ),
        ];
        for (name, entry, text, cell) in cases {
            assert_eq!(timeline_text(&entry, &utc), text, "{name}: text");
            assert_eq!(timeline_cell_text(&entry, &utc), cell, "{name}: cell");
        }
    }

    #[test]
    fn change_hints_name_what_they_measure_from() {
        let utc = Zone::Fixed(0);
        let hint = |lead| Hint::LastChangeBefore {
            lead,
            change_at: 0,
            reference: 90_000,
            change: "systemd: Reloaded nginx".to_string(),
            source: "syslog:3".to_string(),
        };
        let cases = [
            (
                "impact",
                hint(ChangeLead::Impact),
                "the last change before impact was at 00:00:00, 1 min 30 s before it: systemd: Reloaded nginx (syslog:3)",
            ),
            (
                "metric",
                hint(ChangeLead::MetricMoved {
                    metric: "memory".to_string(),
                }),
                "the last change before memory began to move was at 00:00:00, 1 min 30 s before it: systemd: Reloaded nginx (syslog:3)",
            ),
        ];
        for (name, hint, expected) in cases {
            let clock = Clock {
                zone: &utc,
                dated: false,
            };
            assert_eq!(hint_text(&hint, &clock), expected, "{name}");
        }
        // An incident that spans midnight: every time in a lead has a date.
        let dated = Clock {
            zone: &Zone::Fixed(3600),
            dated: true,
        };
        assert_eq!(
            hint_text(&hint(ChangeLead::Impact), &dated),
            "the last change before impact was at 1970-01-01 01:00:00, 1 min 30 s before it: systemd: Reloaded nginx (syslog:3)"
        );
    }

    #[test]
    fn the_start_row_states_rates_that_cannot_contradict_each_other() {
        let cases = [
            (
                "a rise",
                0.0026,
                (146, 1_000, 60_000),
                "first bad request; bad-request rate rises from 0.26% to 14.6% in the 1 min from it (146 of 1,000 requests)",
            ),
            (
                "a window below the baseline is no rise",
                0.004,
                (1, 2_500, 300_000),
                "first bad request; bad-request rate 0.04% in the 5 min from it (1 of 2,500 requests), against a baseline of 0.40%",
            ),
            (
                "a clean baseline",
                0.0,
                (240, 240, 60_000),
                "first bad request; bad-request rate rises from 0% to 100.0% in the 1 min from it (240 of 240 requests)",
            ),
            (
                "a sparse start widened to ten requests",
                0.0039,
                (1, 13, 120_000),
                "first bad request; bad-request rate rises from 0.39% to 7.7% in the 2 min from it (1 of 13 requests)",
            ),
        ];
        for (name, baseline_bad_rate, (window_bad, window_requests, window_ms), expected) in cases {
            let fact = TimelineFact::BadRequestsStart {
                baseline_bad_rate,
                window_bad,
                window_requests,
                window_ms,
            };
            assert_eq!(generated_body(&fact).as_deref(), Some(expected), "{name}");
        }
    }

    #[test]
    fn moved_shares_are_worded_by_which_share_moved() {
        let shift = |requests, bad, traffic_moved, bad_moved| ShareShift {
            label: "10.244.1.23:8080".to_string(),
            window: BaselineWindow::Before,
            baseline_share: 0.34,
            requests,
            requests_total: 1000,
            bad,
            bad_total: 200,
            traffic_moved,
            bad_moved,
        };
        let cases = [
            (
                "traffic moved to it, all bad ones its own",
                shift(980, 200, true, true),
                "upstream 10.244.1.23:8080 served 98% of the requests during the incident against 34% before, and all of the bad ones: look at why traffic moved to it (balancing or hashing rules, a peer out of rotation)",
            ),
            (
                "traffic moved away, no failures",
                shift(20, 0, true, false),
                "upstream 10.244.1.23:8080 served 2% of the requests during the incident against 34% before, and none of the bad ones: look at why traffic moved away from it (health checks, weights, a changed route)",
            ),
            (
                "failing while its traffic fell: named for the failures",
                shift(110, 196, true, true),
                "upstream 10.244.1.23:8080 took 98% of the bad requests during the incident while it served 11% of the requests (34% before): look at that upstream first",
            ),
            (
                "a part never rounds to all",
                shift(340, 199, false, true),
                "upstream 10.244.1.23:8080 took 99% of the bad requests during the incident while it served 34% of the requests (34% before): look at that upstream first",
            ),
        ];
        for (name, shift, expected) in cases {
            let hint = Hint::ShareShift {
                dimension: "upstream",
                shift,
            };
            let clock = Clock {
                zone: &Zone::Fixed(0),
                dated: false,
            };
            assert_eq!(hint_text(&hint, &clock), expected, "{name}");
        }
        // A path's requests are an upper bound, and the lead says so.
        let path = Hint::PathShareShift(ShareShift {
            label: "/api".to_string(),
            ..shift(612, 200, false, true)
        });
        let clock = Clock {
            zone: &Zone::Fixed(0),
            dated: false,
        };
        assert_eq!(
            hint_text(&path, &clock),
            "path /api took all of the bad requests during the incident while it served at most 62% of the requests (at most 34% before): look at what serves that path first"
        );
    }
}
