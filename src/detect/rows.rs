//! Which rows an incident's timeline shows, the way a person writing it by
//! hand would choose them: every step ([`log_steps`]: each change, the
//! first row of each alert, the row of each new log pattern, the first
//! metric onset, with the incident's own rows), then the other rows by
//! rank up to [`FILLED_ROWS`], leaving to the evidence list what a person would
//! not write ([`QUIET_ROWS`]: background lines well before the onset or
//! well after the end, and a message already shown between the same two
//! steps). Also which row holds a given change line ([`holds_line`]), so a
//! lead or the resolution finds the folded row it is part of.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::ingest::events::EventKind;
use crate::ingest::events::classify::{SEVERITY_RULE, WARNING_RULE};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::findings::{TimelineEntry, TimelineFact, TimelineKind};
use super::patterns::LogPattern;
use super::templates::TemplateId;
#[cfg(doc)]
use super::timeline::MAX_TIMELINE_ROWS;
use super::timeline::{EVIDENCE_AFTER_MS, EVIDENCE_BEFORE_MS, LogRow, MAX_EVIDENCE_ROWS};

/// Rows other than steps are added while the timeline is shorter than
/// this: the seeds written by hand have 9 and 10 rows, and a reader holds
/// ours to that; the steps alone may pass it (up to
/// [`MAX_TIMELINE_ROWS`], the contract's bound).
pub const FILLED_ROWS: usize = 15;

/// A row that is no step and ends this long before the onset (the earlier
/// of the impact start and the first metric onset) is background: the
/// seeds' timelines open with the change that preceded the impact, not
/// with an hour of routine errors. Fifteen minutes is three of the
/// burn-rate alert's short windows.
pub const LEAD_IN_MS: i64 = 15 * MS_PER_MINUTE;

/// A row that is no step and starts this long after the impact ended is
/// the aftermath's background, not the recovery (the recovery alerts come
/// within minutes).
pub const TRAIL_MS: i64 = 15 * MS_PER_MINUTE;

/// Words of a message that name its family ([`family_key`]): enough to tell
/// `PHP Fatal error: Uncaught PDOException` from `PHP Fatal error: Allowed
/// memory size`, few enough that two templates of one message (the Drain
/// tree splits by word count) share it.
pub const FAMILY_WORDS: usize = 8;

/// Why a row that is no step stays in the evidence list, not the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietRow {
    /// It ends more than [`LEAD_IN_MS`] before the onset.
    LongBeforeOnset,
    /// It starts more than [`TRAIL_MS`] after the end.
    LongAfterEnd,
    /// A row of the same message family is already shown between the same
    /// two steps (the start, the detection, the end).
    RepeatBetweenSteps,
}

/// The rules of rows left to the evidence list, in the order they are
/// tried, with what each means.
pub const QUIET_ROWS: &[(QuietRow, &str)] = &[
    (
        QuietRow::LongBeforeOnset,
        "ends more than 15 min before the onset: background, not a precursor",
    ),
    (
        QuietRow::LongAfterEnd,
        "starts more than 15 min after the end: the aftermath, not the recovery",
    ),
    (
        QuietRow::RepeatBetweenSteps,
        "its message was already shown between the same two steps",
    ),
];

/// The family of a log row's message: its first word (the program) and the
/// words after it up to the first variable one (a masked `<*>`, or a word
/// with no letter: a number, an address), at most [`FAMILY_WORDS`]; `None`
/// for rows that are not log lines.
pub fn family_key(entry: &TimelineEntry) -> Option<String> {
    let TimelineFact::Log { text, template, .. } = &entry.fact else {
        return None;
    };
    let message = template.as_deref().unwrap_or(text);
    let mut words = message.split_whitespace();
    let mut key = words.next()?.to_string();
    for word in words.take(FAMILY_WORDS - 1) {
        if word.contains("<*>") || !word.chars().any(char::is_alphabetic) {
            break;
        }
        key.push(' ');
        key.push_str(word);
    }
    Some(key)
}

/// The rank of a row that is not a step: lower is kept first.
fn rank(entry: &TimelineEntry) -> u8 {
    match &entry.fact {
        TimelineFact::MetricOnset { .. } => 0,
        TimelineFact::Log { rule, .. } if *rule == WARNING_RULE => 4,
        TimelineFact::Log { rule, .. } if *rule == SEVERITY_RULE => 3,
        TimelineFact::Log {
            event: EventKind::Alert | EventKind::Recovery,
            ..
        } => 1,
        _ => 2,
    }
}

/// The log rows that are steps: each change, the first row of each alert
/// template that fired (recoveries rank among the other rows), the row
/// holding the first line of each new pattern.
pub fn log_steps(logs: &[LogRow], patterns: &[LogPattern]) -> Vec<bool> {
    let mut first_alert: FxHashMap<TemplateId, usize> = FxHashMap::default();
    let mut step = vec![false; logs.len()];
    for (index, row) in logs.iter().enumerate() {
        match &row.entry.fact {
            TimelineFact::Log {
                event: EventKind::Change,
                ..
            } => step[index] = true,
            TimelineFact::Log {
                event: EventKind::Alert,
                ..
            } => {
                first_alert.entry(row.template).or_insert(index);
            }
            _ => {}
        }
    }
    for index in first_alert.into_values() {
        step[index] = true;
    }
    for pattern in patterns {
        if let Some(index) = logs.iter().position(|row| {
            row.template == pattern.template
                && row.entry.at <= pattern.first_at
                && log_last_at(&row.entry) >= pattern.first_at
        }) {
            step[index] = true;
        }
    }
    step
}

/// When the last line folded into a log row was seen.
pub fn log_last_at(entry: &TimelineEntry) -> Millis {
    match &entry.fact {
        TimelineFact::Log { last_at, .. } => *last_at,
        TimelineFact::ChangeRun(run) => run.last_at.max(entry.at),
        _ => entry.at,
    }
}

/// At most `max` rows: every step of `steps` (kept even past `max`), then
/// the `others` by rank, the largest bursts first, the earlier first among
/// equals; in time order, kinds ordered at equal times.
fn keep(
    mut steps: Vec<TimelineEntry>,
    others: Vec<TimelineEntry>,
    max: usize,
) -> Vec<TimelineEntry> {
    let mut others: Vec<(usize, TimelineEntry)> = others.into_iter().enumerate().collect();
    others.sort_by_key(|(order, e)| (rank(e), std::cmp::Reverse(e.count), *order));
    let room = max.saturating_sub(steps.len());
    steps.extend(others.into_iter().take(room).map(|(_, e)| e));
    steps.sort_by_key(|e| (e.at, e.kind));
    steps
}

/// Where the incident's own rows put the onset, the end and the steps.
struct Frame {
    onset: Option<Millis>,
    end: Option<Millis>,
    /// Start, detection and end, sorted.
    steps: Vec<Millis>,
}

impl Frame {
    fn of(own: &[TimelineEntry], onsets: &[TimelineEntry]) -> Frame {
        let at_of = |kind| own.iter().find(|e| e.kind == kind).map(|e| e.at);
        let start = at_of(TimelineKind::ImpactStart);
        let first_onset = onsets.iter().map(|e| e.at).min();
        let onset = match (start, first_onset) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut steps: Vec<Millis> = [
            start,
            at_of(TimelineKind::Detected),
            at_of(TimelineKind::ImpactEnd),
        ]
        .into_iter()
        .flatten()
        .collect();
        steps.sort_unstable();
        Frame {
            onset,
            end: at_of(TimelineKind::ImpactEnd),
            steps,
        }
    }

    /// Which gap between steps a time falls in (a time at a step is after it).
    fn segment(&self, at: Millis) -> usize {
        self.steps.partition_point(|&s| s <= at)
    }

    /// Why `entry` (no step) is left out, if it is; `shown` holds the
    /// families already shown, by segment.
    fn quiet(&self, entry: &TimelineEntry, shown: &FxHashSet<(String, usize)>) -> Option<QuietRow> {
        if self
            .onset
            .is_some_and(|onset| log_last_at(entry) < onset - LEAD_IN_MS)
        {
            return Some(QuietRow::LongBeforeOnset);
        }
        if self.end.is_some_and(|end| entry.at > end + TRAIL_MS) {
            return Some(QuietRow::LongAfterEnd);
        }
        let family = family_key(entry)?;
        shown
            .contains(&(family, self.segment(entry.at)))
            .then_some(QuietRow::RepeatBetweenSteps)
    }
}

/// The timeline: the incident's `own` rows, the steps among the `logs`,
/// the first metric onset, then the other onsets and log rows by rank
/// while the timeline has fewer than [`FILLED_ROWS`]; rows of
/// [`QUIET_ROWS`] are left to the evidence list.
pub fn select(
    own: Vec<TimelineEntry>,
    logs: &[LogRow],
    onsets: Vec<TimelineEntry>,
    patterns: &[LogPattern],
) -> Vec<TimelineEntry> {
    let frame = Frame::of(&own, &onsets);
    let step = log_steps(logs, patterns);
    let mut shown: FxHashSet<(String, usize)> = logs
        .iter()
        .zip(&step)
        .filter(|(_, is_step)| **is_step)
        .filter_map(|(row, _)| Some((family_key(&row.entry)?, frame.segment(row.entry.at))))
        .collect();
    let mut steps = own;
    let mut others = onsets;
    // The metric that moved first is a step: the lead "moved first".
    if let Some(first) = (0..others.len()).min_by_key(|&i| others[i].at) {
        steps.push(others.remove(first));
    }
    for (row, is_step) in logs.iter().zip(step) {
        if is_step {
            steps.push(row.entry.clone());
        } else if frame.quiet(&row.entry, &shown).is_none() {
            if let Some(family) = family_key(&row.entry) {
                shown.insert((family, frame.segment(row.entry.at)));
            }
            others.push(row.entry.clone());
        }
    }
    keep(steps, others, FILLED_ROWS)
}

/// The evidence list around `start` ([`EVIDENCE_BEFORE_MS`] before to
/// [`EVIDENCE_AFTER_MS`] after): the log rows starting in it, steps first,
/// at most [`MAX_EVIDENCE_ROWS`] unless the steps alone are more.
pub fn evidence_around(
    start: Millis,
    logs: &[LogRow],
    patterns: &[LogPattern],
) -> Vec<TimelineEntry> {
    let range = start - EVIDENCE_BEFORE_MS..=start + EVIDENCE_AFTER_MS;
    let step = log_steps(logs, patterns);
    let (mut steps, mut others) = (Vec::new(), Vec::new());
    for (row, is_step) in logs.iter().zip(step) {
        if !range.contains(&row.entry.at) {
            continue;
        }
        if is_step {
            steps.push(row.entry.clone());
        } else {
            others.push(row.entry.clone());
        }
    }
    keep(steps, others, MAX_EVIDENCE_ROWS)
}

/// Whether the change row `entry` holds the change line at `at` with
/// `text` on `host`: the row of that very line, or a folded row whose span
/// holds its time, whose hosts name its host and whose text or template is
/// its message (the restart of the last of three hosts, folded into the
/// rollout's row).
pub fn holds_line(entry: &TimelineEntry, at: Millis, text: &str, host: Option<&str>) -> bool {
    if entry.kind != TimelineKind::Change || at < entry.at || at > log_last_at(entry) {
        return false;
    }
    match &entry.fact {
        TimelineFact::Log {
            text: shown,
            template,
            host: hosts,
            ..
        } => {
            let host_named = match (host, hosts.as_deref()) {
                (Some(host), Some(hosts)) => hosts.split([',', ' ']).any(|named| named == host),
                _ => true,
            };
            host_named
                && (shown == text
                    || template
                        .as_deref()
                        .is_some_and(|t| matches_template(t, text)))
        }
        TimelineFact::ChangeRun(run) => {
            run.title == text
                || run
                    .effect
                    .as_ref()
                    .is_some_and(|(effect, _)| effect == text)
        }
        _ => false,
    }
}

/// Whether `text` is an instance of `template` (its `<*>` any run of
/// characters, the rest compared word by word with spaces collapsed).
pub fn matches_template(template: &str, text: &str) -> bool {
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (template, text) = (collapse(template), collapse(text));
    let mut pieces = template.split("<*>");
    let Some(first) = pieces.next() else {
        return false;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        if i + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(found) => rest = &rest[found + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::timeline::line_row;
    use crate::ingest::InputStats;
    use crate::ingest::events::Event;
    use crate::series::LineRef;

    const MINUTE: i64 = MS_PER_MINUTE;

    fn log(
        at: Millis,
        kind: EventKind,
        host: &str,
        text: &str,
        template: Option<&str>,
    ) -> TimelineEntry {
        let inputs = vec![InputStats::new("syslog".to_string())];
        let event = Event {
            at,
            last_at: at,
            kind,
            rule: "test rule",
            severity: None,
            host: Some(host.to_string()),
            program: None,
            text: text.to_string(),
            line: LineRef {
                input: 0,
                line: at as u64,
            },
            count: 1,
        };
        let mut entry = line_row(&inputs, &event);
        if let TimelineFact::Log { template: t, .. } = &mut entry.fact {
            *t = template.map(str::to_string);
        }
        entry
    }

    #[test]
    fn a_family_is_the_message_up_to_its_first_variable_word() {
        let cases = [
            (
                "a masked number ends it",
                "nginx: connect() failed (<*>: Connection refused) while connecting",
                "nginx: connect() failed",
            ),
            (
                "a bare number ends it, the double space collapses",
                "apache: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted",
                "apache: PHP Fatal error: Allowed memory size of",
            ),
            (
                "a code with letters is a word",
                "apache: AH00124: Request exceeded the limit of 10 internal redirects",
                "apache: AH00124: Request exceeded the limit of",
            ),
            (
                "the program keeps its digits",
                "php-fpm8.2: [WARNING] [pool www] server reached pm.max_children setting (6)",
                "php-fpm8.2: [WARNING] [pool www] server reached pm.max_children setting",
            ),
        ];
        for (name, text, family) in cases {
            let entry = log(0, EventKind::Event, "web1", text, None);
            assert_eq!(family_key(&entry).as_deref(), Some(family), "{name}");
        }
    }

    #[test]
    fn a_template_matches_its_lines_only() {
        let template = "systemd: Reloading <*> for <*>";
        let cases = [
            ("an instance", "systemd: Reloading nginx for lb01", true),
            (
                "spaces collapse",
                "systemd:  Reloading nginx for  lb01",
                true,
            ),
            ("another message", "systemd: Stopping nginx for lb01", false),
            ("a missing tail", "systemd: Reloading nginx", false),
        ];
        for (name, text, expected) in cases {
            assert_eq!(matches_template(template, text), expected, "{name}");
        }
        assert!(
            matches_template("exact line", "exact line"),
            "no wildcard: equal"
        );
        assert!(
            !matches_template("exact line", "exact line and more"),
            "no wildcard: not longer"
        );
    }

    #[test]
    fn a_rollout_row_holds_each_hosts_line_and_no_other() {
        let mut rollout = log(
            0,
            EventKind::Change,
            "web02",
            "systemd: Stopping app.service...",
            None,
        );
        if let TimelineFact::Log { host, last_at, .. } = &mut rollout.fact {
            *host = Some("web02, web03, web04".to_string());
            *last_at = 80_000;
        }
        let cases = [
            (
                "the last host's line",
                76_000,
                "systemd: Stopping app.service...",
                Some("web04"),
                true,
            ),
            (
                "its own first line",
                0,
                "systemd: Stopping app.service...",
                Some("web02"),
                true,
            ),
            (
                "a host it does not name",
                76_000,
                "systemd: Stopping app.service...",
                Some("web05"),
                false,
            ),
            (
                "another message",
                76_000,
                "systemd: Started app.service.",
                Some("web04"),
                false,
            ),
            (
                "after its last line",
                90_000,
                "systemd: Stopping app.service...",
                Some("web04"),
                false,
            ),
        ];
        for (name, at, text, host, expected) in cases {
            assert_eq!(holds_line(&rollout, at, text, host), expected, "{name}");
        }
    }

    fn own(start: Millis, detected: Millis, end: Millis) -> Vec<TimelineEntry> {
        let row = |at, kind| TimelineEntry {
            at,
            kind,
            fact: TimelineFact::MetricDepartureEnd,
            source: None,
            count: 1,
        };
        vec![
            row(start, TimelineKind::ImpactStart),
            row(detected, TimelineKind::Detected),
            row(end, TimelineKind::ImpactEnd),
        ]
    }

    #[test]
    fn rows_a_person_would_not_write_stay_in_the_evidence_list() {
        let (start, detected, end) = (60 * MINUTE, 65 * MINUTE, 120 * MINUTE);
        let frame = Frame::of(&own(start, detected, end), &[]);
        let crash = "apache: PHP Fatal error: Uncaught PDOException: SQLSTATE[HY000] [2002]";
        let shown: FxHashSet<(String, usize)> = [(
            "apache: PHP Fatal error: Uncaught PDOException: SQLSTATE[HY000]".to_string(),
            1,
        )]
        .into_iter()
        .collect();
        let cases = [
            (
                "an hour before the onset",
                10 * MINUTE,
                crash,
                Some(QuietRow::LongBeforeOnset),
            ),
            (
                "a precursor 10 min before",
                50 * MINUTE,
                "kernel: link flapping",
                None,
            ),
            (
                "the aftermath, 20 min after the end",
                140 * MINUTE,
                "kernel: link flapping",
                Some(QuietRow::LongAfterEnd),
            ),
            (
                "the recovery, 2 min after the end",
                122 * MINUTE,
                "kernel: link flapping",
                None,
            ),
            (
                "a repeat between the start and the detection",
                62 * MINUTE,
                crash,
                Some(QuietRow::RepeatBetweenSteps),
            ),
            (
                "the same message after the detection",
                70 * MINUTE,
                crash,
                None,
            ),
        ];
        for (name, at, text, expected) in cases {
            let entry = log(at, EventKind::Event, "web1", text, None);
            assert_eq!(frame.quiet(&entry, &shown), expected, "{name}");
        }
        assert_eq!(QUIET_ROWS.len(), 3, "each rule has its meaning");
    }
}
