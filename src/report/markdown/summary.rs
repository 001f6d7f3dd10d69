//! The opening of the page: title and summary sentence, the overview of
//! several incidents, each incident's Issue Summary (duration, impact,
//! detection, leads), and the page for a run without incident.

use std::fmt::Write;

use crate::detect::impact::Impact;
use crate::detect::{Cause, DetectionSource, Finding, Findings, Severity};
use crate::report::RequestTimes;
use crate::series::user_sketch::{UsersUnion, users_error_pct};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::text::*;
use super::{Level, Page};
use crate::report::sentences::{Clock, detection_evidence, hint_text, replayed_alert_name};

impl Page<'_> {
    // ---------------------------------------------------------------- title

    pub(super) fn title_and_summary(&self, report: &Finding, out: &mut String) {
        let incident = &report.incident;
        let _ = writeln!(
            out,
            "# Postmortem: {} {}\n",
            severity_title(incident.severity),
            self.title_range(incident.start, incident.end)
        );
        let _ = writeln!(out, "{}\n", self.summary_sentence(report));
        self.prefilled_note(out);
    }

    /// One sentence with what happened, for whom, and when it was noticed.
    pub(super) fn summary_sentence(&self, report: &Finding) -> String {
        let incident = &report.incident;
        let impact = &report.impact;
        if !report.impact_measured {
            return format!(
                "Metrics departed far from their baseline {}; no access log covers this time, so the users and requests hit are unknown.",
                self.span_phrase(incident.start, incident.end)
            );
        }
        let bad = impact.requests_failed + impact.requests_slow;
        let detection = match &report.detected {
            Some(detected) if detected.source == DetectionSource::Rule => format!(
                "; no alert was found in the logs, and {} would have fired {}",
                replayed_alert_name(&detected.evidence),
                self.offset_from_start(incident.start, detected.at)
            ),
            Some(detected) => format!(
                "; it was detected {} ({})",
                self.offset_from_start(incident.start, detected.at),
                match detected.source {
                    DetectionSource::User => "as given by the responders",
                    _ => "by an alert in the logs",
                }
            ),
            None => "; no alert was found in the logs".to_string(),
        };
        if let Some(drop) = TrafficDrop::of(report) {
            return format!(
                "{} {} for {}: {}, and an estimated {} users never reached the service; {} of the {} requests that did arrive went bad{detection}.",
                self.span_phrase(incident.start, incident.end),
                severity_verb(incident.severity),
                self.between(incident.start, incident.end),
                drop.what_happened(),
                thousands(impact.users_missing),
                thousands(bad),
                thousands(impact.requests_total),
            );
        }
        format!(
            "{} {} for {}: {} of the users active at the time ({} of {}) got failed or slow responses, and {} of the requests ({} of {}) went bad{detection}.",
            self.span_phrase(incident.start, incident.end),
            severity_verb(incident.severity),
            self.between(incident.start, incident.end),
            pct_value(impact.affected_pct),
            users_figure(impact, impact.users_affected),
            users_figure(impact, impact.users_active),
            percent(bad, impact.requests_total),
            thousands(bad),
            thousands(impact.requests_total),
        )
    }

    pub(super) fn prefilled_note(&self, out: &mut String) {
        let lines: u64 = self.findings.inputs.iter().map(|i| i.lines).sum();
        let inputs = self.findings.inputs.len();
        let _ = writeln!(
            out,
            "> Prefilled by {} from {} input{} ({} line{}). Times are in {}, the zone of the logs{}. Numbers and times come from the logs; every **TODO** needs a person.\n",
            crate::report::generator(),
            inputs,
            plural(inputs as u64),
            thousands(lines),
            plural(lines),
            self.zone_name(),
            match self.offset_change_sentence() {
                sentence if sentence.is_empty() => sentence,
                sentence => format!(": {sentence}"),
            }
        );
    }

    // ------------------------------------------------------------- overview

    pub(super) fn overview(&self, reports: &[Finding], out: &mut String) {
        let (first, last) = (
            reports.iter().map(|r| r.incident.start).min().unwrap_or(0),
            reports.iter().map(|r| r.incident.end).max().unwrap_or(0),
        );
        let _ = writeln!(
            out,
            "# Postmortem: {} incidents {}\n",
            reports.len(),
            self.title_range(first, last)
        );
        let worst = reports
            .iter()
            .max_by(|a, b| a.impact.affected_pct.total_cmp(&b.impact.affected_pct));
        if let Some(worst) = worst {
            let index = reports
                .iter()
                .position(|r| std::ptr::eq(r, worst))
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "The logs show {} separate periods in which users got failed or slow responses; the worst, incident {}, hit {} of the users active at the time ({} of {}). Each incident has its own sections below.\n",
                reports.len(),
                index + 1,
                pct_value(worst.impact.affected_pct),
                users_figure(&worst.impact, worst.impact.users_affected),
                users_figure(&worst.impact, worst.impact.users_active),
            );
        }
        self.prefilled_note(out);
        out.push_str(&Level(2).heading("Overview"));
        let _ = writeln!(
            out,
            "| # | Start | End | Duration | Severity | Users affected | Requests bad | Detected after |"
        );
        let _ = writeln!(out, "| ---: | --- | --- | ---: | --- | ---: | ---: | --- |");
        for (index, report) in reports.iter().enumerate() {
            let incident = &report.incident;
            let impact = &report.impact;
            let bad = impact.requests_failed + impact.requests_slow;
            let detected = match &report.detected {
                Some(d) => format!(
                    "{} ({})",
                    self.between(incident.start, d.at),
                    detection_source_short(d.source)
                ),
                None => "not detected".to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {} |",
                index + 1,
                self.full_time(incident.start),
                self.full_time(incident.end),
                self.between(incident.start, incident.end),
                severity_text(incident.severity),
                users_figure(impact, impact.users_affected),
                pct_value(impact.affected_pct),
                thousands(bad),
                percent(bad, impact.requests_total),
                detected
            );
        }
        out.push('\n');
    }

    pub(super) fn issue_summary(&self, report: &Finding, level: Level, out: &mut String) {
        let incident = &report.incident;
        let impact = &report.impact;
        out.push_str(&level.heading("Issue Summary"));
        let drop = TrafficDrop::of(report);
        let _ = writeln!(
            out,
            "**Duration:** The incident lasted {}, starting at {} and ending at {} ({}). {}\n",
            self.between(incident.start, incident.end),
            self.full_time(incident.start),
            if self.date(incident.start) == self.date(incident.end) {
                self.clock_zone(incident.end)
            } else {
                self.full_time(incident.end)
            },
            self.zone_phrase(incident.start),
            if drop.is_some() {
                "It starts with the last request before the traffic fell away and ends with the first after it came back."
            } else if RequestTimes::of(self.findings).slow_measured() {
                "It starts with the first failed or slow request and ends with the last one."
            } else {
                "It starts with the first failed request and ends with the last one, at the times written on their log lines (for nginx, completion times: the logs have no request time)."
            },
        );
        if let Some(lead) = &report.started_first_on {
            self.started_first_on(lead, out);
        }
        if self.findings.baseline.source == crate::detect::baseline::BaselineSource::Absolute {
            let _ = writeln!(
                out,
                "**Baseline:** the analysed range holds no healthy stretch to learn normal from, so it was judged against a reference from outside the data: the `--slo` objective's error budget ({} of requests bad).\n",
                pct_value(100.0 * self.findings.baseline.bad_rate)
            );
        }
        if !report.impact_measured {
            let _ = writeln!(
                out,
                "**Impact:** unknown: this incident comes from metrics alone and no access log covers it. **TODO:** how many users and requests were hit (add the access logs of the period to measure it).\n"
            );
            self.detection_and_leads(report, "what changed?", out);
            return;
        }
        let bad = impact.requests_failed + impact.requests_slow;
        if let Some(drop) = drop {
            let _ = writeln!(
                out,
                "**Impact:** {}. An estimated {} users never reached the service: the users a minute the baseline expects over those {}, less the {} who got through. {} requests arrived in that time, {} of them bad ({} failed, {} slow). Severity: {}.\n",
                upper_first(&drop.what_happened()),
                thousands(impact.users_missing),
                self.between(incident.start, incident.end),
                users_figure(impact, impact.users_active),
                thousands(impact.requests_total),
                thousands(bad),
                thousands(impact.requests_failed),
                thousands(impact.requests_slow),
                drop.severity_explained(incident.severity),
            );
        } else {
            self.request_impact(report, out);
        }
        self.detection_and_leads(report, "what changed, and why did it hurt users?", out);
    }

    /// Where the incident started first, with every failing host's start.
    fn started_first_on(&self, lead: &crate::detect::first_host::HostLead, out: &mut String) {
        let starts: Vec<String> = lead
            .starts
            .iter()
            .map(|host| format!("{} {}", code(&host.host), self.clock(host.start)))
            .collect();
        let _ = writeln!(
            out,
            "**Started first on:** {} at {}, {} before the next host, {}. Each host's start is its first failed request once its own failures began: {}.\n",
            code(&lead.host),
            self.clock_zone(lead.start),
            self.between(lead.start, lead.start + lead.lead_ms),
            code(&lead.next_host),
            starts.join(", "),
        );
    }

    /// The Issue Summary's detection and the root-cause question with the
    /// leads the logs give.
    pub(super) fn detection_and_leads(&self, report: &Finding, question: &str, out: &mut String) {
        let _ = writeln!(out, "**Detection:** {}\n", self.detection_text(report));
        let _ = writeln!(
            out,
            "**Root Cause:** **TODO:** {question} Leads from the logs:\n"
        );
        for hint in &report.hints {
            let _ = writeln!(
                out,
                "- {}",
                inline(&hint_text(hint, &Clock::of(self.findings)))
            );
        }
        if report.hints.is_empty() {
            let _ = writeln!(out, "- none found");
        }
        out.push('\n');
    }

    /// The impact paragraph of an incident of failed or slow requests.
    pub(super) fn request_impact(&self, report: &Finding, out: &mut String) {
        let incident = &report.incident;
        let impact = &report.impact;
        let bad = impact.requests_failed + impact.requests_slow;
        if !RequestTimes::of(self.findings).slow_measured() {
            let _ = write!(
                out,
                "**Impact:** {} of the {} users active during the incident ({}) got at least one failed response. Of the {} requests in that time, {} ({}) failed with a 5xx status or 499; {}. Severity: {}.",
                users_figure(impact, impact.users_affected),
                users_figure(impact, impact.users_active),
                pct_value(impact.affected_pct),
                thousands(impact.requests_total),
                thousands(impact.requests_failed),
                percent(impact.requests_failed, impact.requests_total),
                NO_REQUEST_TIME,
                severity_explained(incident.severity),
            );
            Self::edges_note(report, out);
            out.push_str("\n\n");
            return;
        }
        let _ = write!(
            out,
            "**Impact:** {} of the {} users active during the incident ({}) got at least one failed or slow response. Of the {} requests in that time, {} ({}) went bad: {} ({}) failed with a 5xx status or 499, and {} ({}) were slow (over {}). Severity: {}.",
            users_figure(impact, impact.users_affected),
            users_figure(impact, impact.users_active),
            pct_value(impact.affected_pct),
            thousands(impact.requests_total),
            thousands(bad),
            percent(bad, impact.requests_total),
            thousands(impact.requests_failed),
            percent(impact.requests_failed, impact.requests_total),
            thousands(impact.requests_slow),
            percent(impact.requests_slow, impact.requests_total),
            seconds_text(self.findings.slow_threshold_us),
            severity_explained(incident.severity),
        );
        Self::edges_note(report, out);
        out.push_str("\n\n");
    }

    /// When the edge seconds could not be read again, the request counts
    /// say what they hold (the JSON's `impact.requests_exact`).
    fn edges_note(report: &Finding, out: &mut String) {
        if report.impact.users_estimated {
            let _ = write!(
                out,
                " The user counts are estimates (±{:.1}% at 95% confidence) from HyperLogLog sketches of the users of whole buckets: the run's users passed the memory the exact counts may take (`--exact-users-mb`), and the lines of the incident could not be read again to count them one by one.",
                users_error_pct()
            );
        }
        if !report.requests_exact {
            out.push_str(" The request counts take in the whole second of the start and of the end, before the first bad request and after the last (and, for an incident inside one bucket, the users count everyone seen in that bucket around it): those lines could not be read again (standard input, or a report from partials without `--impact`).");
        }
    }

    pub(super) fn detection_text(&self, report: &Finding) -> String {
        let start = report.incident.start;
        let Some(detected) = &report.detected else {
            return "no alert was found in the logs, and a standard SLO burn-rate alert would not have fired. **TODO:** when and how did someone notice? Give it with `--detected-at`.".to_string();
        };
        let when = format!(
            "{}, {} impact started",
            self.full_time(detected.at),
            self.offset_word(start, detected.at)
        );
        let early = if detected.at < start {
            " This is before the first bad request, so the time to detect is negative: **TODO:** was it an earlier, unrelated alarm, or did the fault show before users were hit?"
        } else {
            ""
        };
        match detected.source {
            DetectionSource::Log => format!(
                "{when}, by an alert in the logs: {}.{early}",
                code(&detection_evidence(&detected.evidence))
            ),
            DetectionSource::User => {
                format!("{when}, as given by the responders (`--detected-at`).{early}")
            }
            DetectionSource::Rule => format!(
                "not observed: no alert was found in the logs. Replayed over the logs, {} would have fired at {when} ({}).{early} **TODO:** when and how did people actually notice? Give it with `--detected-at`.",
                replayed_alert_name(&detected.evidence),
                inline(&detection_evidence(&detected.evidence))
            ),
        }
    }

    /// `15 min 1 s after it began`, `1 h before it began`, `as it began`.
    fn offset_from_start(&self, start: Millis, at: Millis) -> String {
        match self.offset_word(start, at).as_str() {
            "at the moment" => "as it began".to_string(),
            words => format!("{words} it began"),
        }
    }

    /// `15 min 1 s after`, `1 h before` or `at the moment`: where `at` lies
    /// from `start`, never a silent zero for a time before it.
    pub(super) fn offset_word(&self, start: Millis, at: Millis) -> String {
        if at == start {
            "at the moment".to_string()
        } else if at > start {
            format!("{} after", self.between(start, at))
        } else {
            format!("{} before", self.between(at, start))
        }
    }

    /// The timeline's time-to-detect line: an observed detection's delay
    /// (negative when it came before the first bad request, said as such),
    /// or, for a replayed rule, that no detection was observed and when the
    /// rule would have fired.
    pub(super) fn time_to_detect_line(&self, report: &Finding, start_is: &str) -> String {
        let start = report.incident.start;
        let Some(detected) = &report.detected else {
            return "- **Time to detect (TTD):** unknown: no alert in the logs and the burn-rate rule did not fire. **TODO**".to_string();
        };
        let signed = signed_duration(rounded_seconds(detected.at - start));
        match detected.source {
            DetectionSource::Rule => format!(
                "- **Time to detect (TTD):** not observed (no alert in the logs). Replayed, {} would have fired {} impact start ({}, {start_is}), at {}.",
                replayed_alert_name(&detected.evidence),
                self.offset_word(start, detected.at),
                self.clock(start),
                self.clock(detected.at)
            ),
            _ if detected.at < start => format!(
                "- **Time to detect (TTD):** {signed}: detection ({}) came {} impact start ({}, {start_is}).",
                self.clock(detected.at),
                self.offset_word(start, detected.at),
                self.clock(start)
            ),
            _ => format!(
                "- **Time to detect (TTD):** {}, from impact start ({}, {start_is}) to detection ({}).",
                self.between(start, detected.at),
                self.clock(start),
                self.clock(detected.at)
            ),
        }
    }

    /// The line after the impact duration: from detection (or the replayed
    /// rule's firing) to the end of impact.
    pub(super) fn detection_to_end_line(&self, report: &Finding) -> Option<String> {
        let detected = report.detected.as_ref()?;
        let end = report.incident.end;
        let what = match detected.source {
            DetectionSource::Rule => "when the replayed rule would have fired",
            _ => "detection",
        };
        Some(if detected.at <= end {
            format!(
                "- **Time from {what} to end of impact:** {}.",
                self.between(detected.at, end)
            )
        } else {
            format!(
                "- {} came {} after impact had already ended.",
                upper_first(what),
                self.between(end, detected.at)
            )
        })
    }

    // ---------------------------------------------------------- no incident

    pub(super) fn no_incident(&self, out: &mut String) {
        let findings = self.findings;
        let (first, last) = (
            findings.inputs.iter().filter_map(|i| i.first).min(),
            findings.inputs.iter().filter_map(|i| i.last).max(),
        );
        let _ = writeln!(out, "# Postmortem: no incident found\n");
        let requests = findings.series.total_requests();
        let (users, estimated) = distinct_users(findings);
        let about = if estimated { "about " } else { "" };
        match (first, last) {
            (Some(first), Some(last)) => {
                let _ = writeln!(
                    out,
                    "{}, the logs show {} request{} from {about}{} user{}, and no period departed from the baseline long enough to matter: no incident found.\n",
                    self.span_phrase(first, last),
                    thousands(requests),
                    plural(requests),
                    thousands(users),
                    plural(users)
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "No timestamped line was read, so there is nothing to compare with a baseline: no incident found.\n"
                );
            }
        }
        self.prefilled_note(out);
        out.push_str(&Level(2).heading("Baseline"));
        let baseline = &findings.baseline;
        let (failed, bad) = findings
            .counts
            .iter()
            .fold((0u64, 0u64), |(failed, bad), c| {
                (failed + c.failed, bad + c.bad())
            });
        let minutes = (findings.series.buckets.len() as f64 * findings.bucket_ms as f64
            / MS_PER_MINUTE as f64)
            .max(1.0);
        let _ = writeln!(out, "Measured over the whole log.\n");
        let _ = writeln!(out, "| Measure | Value |");
        let _ = writeln!(out, "| --- | ---: |");
        let _ = writeln!(
            out,
            "| Requests per minute | {:.1} |",
            requests as f64 / minutes
        );
        let _ = writeln!(
            out,
            "| Failed requests (5xx, 499) | {} ({}) |",
            thousands(failed),
            percent(failed, requests)
        );
        let _ = writeln!(
            out,
            "| Bad requests (failed or slow) | {} ({}) |",
            thousands(bad),
            percent(bad, requests)
        );
        for (name, value) in [
            ("p50", baseline.p50_us),
            ("p95", baseline.p95_us),
            ("p99", baseline.p99_us),
        ] {
            if let Some(us) = value {
                let _ = writeln!(out, "| {name} latency | {} |", format_value(us / 1e6, "s"));
            }
        }
        let slow_measured = RequestTimes::of(findings).slow_measured();
        let _ = writeln!(
            out,
            "| Slow threshold | {} |\n",
            if slow_measured {
                seconds_text(findings.slow_threshold_us)
            } else {
                "none: no request time in the logs".to_string()
            }
        );
        out.push_str(&Level(2).heading("If you expected an incident"));
        if let (Some(first), Some(last)) = (first, last) {
            let _ = writeln!(
                out,
                "- The logs cover {}: if the outage was outside this range, add the logs of that time (rotated files such as `access.log.1` and `access.log.2.gz`).",
                self.span_phrase(first, last)
                    .replacen("On ", "", 1)
                    .replacen("From ", "", 1)
            );
        }
        if slow_measured {
            let _ = writeln!(
                out,
                "- Requests count as slow above {}: if users suffered from slower but shorter responses, lower it with `--slow 500ms`.",
                seconds_text(findings.slow_threshold_us)
            );
        } else {
            let _ = writeln!(out, "- Slow responses cannot be seen: {}.", NO_REQUEST_TIME);
        }
        let _ = writeln!(
            out,
            "- A short incident is easier to see in finer buckets (`--bucket 30s`) and a narrower range (`--since`, `--until`)."
        );
        let _ = writeln!(
            out,
            "- If only some backends or virtual hosts failed, point `postmortem` at their logs alone.\n"
        );
    }
}

/// What the Markdown of a traffic-drop incident says of the traffic: its
/// start and end are the last request before the drop and the first after
/// it, not bad requests, and its impact is the users who never came.
pub(super) struct TrafficDrop {
    /// Requests a minute the baseline expected over the drop, and the
    /// fewest seen in a minute of it (the `traffic` signal).
    per_minute: Option<(f64, f64)>,
}

impl TrafficDrop {
    pub(super) fn of(report: &Finding) -> Option<Self> {
        if !matches!(report.incident.cause, Cause::TrafficDrop { .. }) {
            return None;
        }
        let per_minute = report
            .signals
            .iter()
            .find(|signal| signal.kind == "traffic")
            .map(|signal| (signal.baseline, signal.peak));
        Some(TrafficDrop { per_minute })
    }

    /// `traffic stopped (0 requests a minute at its lowest, about 54
    /// normally)`.
    pub(super) fn what_happened(&self) -> String {
        match self.per_minute {
            Some((expected, lowest)) => format!(
                "traffic {} ({} requests a minute at its lowest, about {} normally)",
                if lowest == 0.0 { "stopped" } else { "fell" },
                thousands(lowest.round() as u64),
                thousands(expected.round() as u64)
            ),
            None => "traffic fell far below normal".to_string(),
        }
    }

    pub(super) fn severity_explained(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Outage => "outage (traffic stopped)",
            Severity::PartialOutage => "partial outage (traffic fell far below normal)",
            Severity::Degradation => severity_explained(severity),
        }
    }
}

/// Distinct users over the whole series, and whether that is an estimate
/// (the buckets hold sketches).
fn distinct_users(findings: &Findings) -> (u64, bool) {
    if findings.series.users_sketched() {
        let mut union = UsersUnion::new();
        for bucket in &findings.series.buckets {
            match bucket.users.sketch() {
                Some(sketch) => union.add_sketch(&sketch.all),
                None => bucket.users.keys().for_each(|user| union.add_user(user)),
            }
        }
        return (union.estimate(), true);
    }
    let mut users = rustc_hash::FxHashSet::default();
    for bucket in &findings.series.buckets {
        users.extend(bucket.users.keys());
    }
    (users.len() as u64, false)
}

/// A user count of `impact`: "about" an estimate from sketches.
fn users_figure(impact: &Impact, users: u64) -> String {
    if impact.users_estimated {
        format!("about {}", thousands(users))
    } else {
        thousands(users)
    }
}
