//! Log patterns as a signal: the templates of error and warning lines (see
//! [`super::templates`]) that appear or jump at an incident's onset, what
//! an engineer greps for first (`AH00124 ... internal redirects`: none in
//! the hour before, 1,119 during, the first at the start). Each becomes a
//! signal of kind `events`, a lead and a timeline row that is always kept.
//!
//! Around the start lies the onset window, from [`ONSET_LEAD_MS`] before
//! it to [`ONSET_LAG_MS`] after it. A template's lines are counted in the
//! [`PATTERN_BASELINE_MS`] before that window (before) and from the
//! window's start to the incident's end (during). It is a new pattern when
//! its first line since the window opened lies inside the window, it has
//! at least [`MIN_PATTERN_LINES`] lines during (one for a line the
//! classifier named: an OOM kill, a crash, a link down), and it either
//! appears (none before) or jumps (its rate during is at least
//! [`JUMP_FACTOR`] times its rate before).

use rustc_hash::FxHashMap;

use crate::ingest::InputStats;
use crate::ingest::events::classify::{SEVERITY_RULE, WARNING_RULE};
use crate::ingest::events::{Event, EventKind};
use crate::timefmt::{MS_PER_HOUR, MS_PER_MINUTE, Millis};

use super::Incident;
use super::findings::{Signal, line_source};
use super::stats::round4;
use super::templates::{TemplateId, Templates};

/// The onset window opens this long before the start: the line that
/// explains an outage is often logged a few seconds before the first bad
/// request (a link going down, a pool filling up).
pub const ONSET_LEAD_MS: i64 = 2 * MS_PER_MINUTE;

/// The onset window closes this long after the start: the short window of
/// the burn-rate alert. A template first seen later is a consequence seen
/// late, not what changed at the onset.
pub const ONSET_LAG_MS: i64 = 5 * MS_PER_MINUTE;

/// How far before the onset window a template's usual rate is counted: the
/// hour the timeline reaches back.
pub const PATTERN_BASELINE_MS: i64 = MS_PER_HOUR;

/// A template that logged before jumps when its rate during the incident is
/// at least this many times its rate before: an order of magnitude, more
/// than traffic swings move a steady message.
pub const JUMP_FACTOR: f64 = 10.0;

/// Fewest lines during the incident for an error or warning template kept
/// for its severity alone: one stray error at the onset is chance, not a
/// pattern.
pub const MIN_PATTERN_LINES: u64 = 5;

/// Fewest lines for a template the classifier named (an OOM kill, a crash,
/// a link down): one is already the lead.
pub const MIN_NAMED_PATTERN_LINES: u64 = 1;

/// Most new patterns per incident, the largest first: each is a timeline
/// row that is always kept.
pub const MAX_NEW_PATTERNS: usize = 3;

/// A template that appeared or jumped at the onset.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPattern {
    pub template: TemplateId,
    /// The template's text (variable parts as `<*>`).
    pub text: String,
    /// Its first line since the onset window opened, as `program: text`.
    pub example: String,
    pub first_at: Millis,
    /// `path:line` of that first line.
    pub source: Option<String>,
    /// The input it came from.
    pub input: String,
    /// Lines in the [`PATTERN_BASELINE_MS`] before the onset window.
    pub before: u64,
    /// Lines from the onset window's start to the incident's end.
    pub during: u64,
    /// Most lines in one clock minute during, and that minute.
    pub peak_per_minute: u64,
    pub peak_at: Millis,
}

impl LogPattern {
    /// Whether it appeared (no line before) rather than jumped.
    pub fn appeared(&self) -> bool {
        self.before == 0
    }

    /// The `events` signal: lines a minute, before and at the peak.
    pub fn signal(&self) -> Signal {
        Signal {
            kind: "events",
            name: self.text.clone(),
            source: self.input.clone(),
            onset: self.first_at,
            peak_at: self.peak_at,
            peak: self.peak_per_minute as f64,
            baseline: round4(
                self.before as f64 * MS_PER_MINUTE as f64 / PATTERN_BASELINE_MS as f64,
            ),
            unit: "lines/min".to_string(),
        }
    }
}

#[derive(Default)]
struct Tally {
    before: u64,
    during: u64,
    /// Index of the first event since the window opened.
    first: Option<usize>,
    named: bool,
    per_minute: FxHashMap<Millis, u64>,
}

/// Whether an event was kept by a rule of the table rather than for its
/// severity alone.
fn named(event: &Event) -> bool {
    event.rule != SEVERITY_RULE && event.rule != WARNING_RULE
}

/// The templates of `events` that appear or jump at `incident`'s onset,
/// by first line.
pub fn new_patterns(
    inputs: &[InputStats],
    events: &[Event],
    templates: &Templates,
    incident: &Incident,
) -> Vec<LogPattern> {
    let window_start = incident.start - ONSET_LEAD_MS;
    let window_end = incident.start + ONSET_LAG_MS;
    let baseline_start = window_start - PATTERN_BASELINE_MS;
    let until = incident.end.max(window_end);
    let from = events.partition_point(|e| e.at < baseline_start);
    let mut tallies: FxHashMap<TemplateId, Tally> = FxHashMap::default();
    for (index, event) in events.iter().enumerate().skip(from) {
        if event.at > until {
            break;
        }
        if event.kind != EventKind::Event {
            continue;
        }
        let Some(template) = templates.of(index) else {
            continue;
        };
        let tally = tallies.entry(template).or_default();
        tally.named |= named(event);
        if event.at < window_start {
            tally.before += event.count;
        } else {
            tally.during += event.count;
            tally.first.get_or_insert(index);
            let minute = event.at - event.at.rem_euclid(MS_PER_MINUTE);
            *tally.per_minute.entry(minute).or_default() += event.count;
        }
    }
    let during_minutes = ((until - window_start) as f64 / MS_PER_MINUTE as f64).max(1.0);
    let baseline_minutes = PATTERN_BASELINE_MS as f64 / MS_PER_MINUTE as f64;
    let mut found: Vec<LogPattern> = tallies
        .into_iter()
        .filter_map(|(template, tally)| {
            let first = &events[tally.first?];
            let min_lines = if tally.named {
                MIN_NAMED_PATTERN_LINES
            } else {
                MIN_PATTERN_LINES
            };
            let rate_before = tally.before as f64 / baseline_minutes;
            let rate_during = tally.during as f64 / during_minutes;
            let departs = tally.before == 0 || rate_during >= JUMP_FACTOR * rate_before;
            if first.at > window_end || tally.during < min_lines || !departs {
                return None;
            }
            let (peak_at, peak) = tally
                .per_minute
                .iter()
                .max_by_key(|(minute, n)| (**n, std::cmp::Reverse(**minute)))
                .map_or((first.at, 0), |(m, n)| (*m, *n));
            Some(LogPattern {
                template,
                text: templates.text(template).to_string(),
                example: first.display_text(),
                first_at: first.at,
                source: line_source(inputs, first.line),
                input: inputs
                    .get(first.line.input as usize)
                    .map(|i| i.path.clone())
                    .unwrap_or_default(),
                before: tally.before,
                during: tally.during,
                peak_per_minute: peak,
                peak_at,
            })
        })
        .collect();
    found.sort_by_key(|p| (std::cmp::Reverse(p.during), p.first_at, p.template));
    found.truncate(MAX_NEW_PATTERNS);
    found.sort_by_key(|p| (p.first_at, p.template));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::resolution::tests::incident;
    use crate::series::LineRef;

    const MINUTE: i64 = MS_PER_MINUTE;

    fn event(at: Millis, rule: &'static str, text: &str, count: u64) -> Event {
        Event {
            at,
            last_at: at,
            kind: EventKind::Event,
            rule,
            severity: Some(3),
            host: None,
            program: Some("app".to_string()),
            text: text.to_string(),
            line: LineRef {
                input: 0,
                line: (at / 1000) as u64,
            },
            count,
        }
    }

    /// Lines of one message: `count` lines at each minute offset (from the
    /// start of the incident at 120 min).
    fn lines(rule: &'static str, text: &str, minutes: &[i64]) -> Vec<Event> {
        minutes
            .iter()
            .map(|&m| event(120 * MINUTE + m * MINUTE, rule, text, 1))
            .collect()
    }

    #[test]
    fn appear_and_jump_are_told_from_steady_and_late_lines() {
        let during: Vec<i64> = (0..20).collect();
        // (name, the lines, the expected lines before and during)
        type Case = (&'static str, Vec<Event>, Option<(u64, u64)>);
        let cases: [Case; 7] = [
            (
                "appears at the start",
                lines(SEVERITY_RULE, "redirect loop 1", &during),
                Some((0, 20)),
            ),
            (
                "jumps tenfold",
                [
                    lines(SEVERITY_RULE, "pool busy 2", &[-50, -20]),
                    lines(SEVERITY_RULE, "pool busy 3", &during),
                ]
                .concat(),
                Some((2, 20)),
            ),
            (
                "steady: as often before as during",
                lines(
                    SEVERITY_RULE,
                    "cache miss 4",
                    &(-60..20).step_by(3).collect::<Vec<_>>(),
                ),
                None,
            ),
            (
                "too few error lines",
                lines(SEVERITY_RULE, "odd error 5", &[0, 1]),
                None,
            ),
            (
                "one named line is enough",
                lines("link down or up", "eth0 NIC Link is Down", &[0]),
                Some((0, 1)),
            ),
            (
                "first seen long after the start",
                lines(SEVERITY_RULE, "late error 6", &(10..30).collect::<Vec<_>>()),
                None,
            ),
            (
                "just before the start still counts",
                lines(
                    WARNING_RULE,
                    "pm.max_children reached 6",
                    &[-1, 0, 1, 2, 3, 4],
                ),
                Some((0, 6)),
            ),
        ];
        let inputs = vec![InputStats::new("error.log".to_string())];
        for (name, events, expected) in cases {
            let templates = Templates::mine(&events);
            let found = new_patterns(
                &inputs,
                &events,
                &templates,
                &incident(120 * MINUTE, 140 * MINUTE),
            );
            let got = found.first().map(|p| (p.before, p.during));
            assert_eq!(got, expected, "{name}");
            assert!(found.len() <= 1, "{name}: one template");
        }
    }

    #[test]
    fn a_pattern_is_a_signal_in_lines_a_minute() {
        let mut events = lines(SEVERITY_RULE, "upstream refused 1", &[-30]);
        let burst: Vec<Event> = (0..30)
            .map(|i| {
                event(
                    120 * MINUTE + 1_000 + i * 1_000,
                    SEVERITY_RULE,
                    "upstream refused 2",
                    1,
                )
            })
            .collect();
        events.extend(burst);
        let inputs = vec![InputStats::new("error.log".to_string())];
        let templates = Templates::mine(&events);
        let found = new_patterns(
            &inputs,
            &events,
            &templates,
            &incident(120 * MINUTE, 140 * MINUTE),
        );
        assert_eq!(found.len(), 1);
        let pattern = &found[0];
        assert_eq!(pattern.text, "app: upstream refused <*>");
        assert_eq!(pattern.first_at, 120 * MINUTE + 1_000);
        assert_eq!(pattern.source.as_deref(), Some("error.log:7201"));
        let signal = pattern.signal();
        assert_eq!(signal.kind, "events");
        assert_eq!(signal.peak, 30.0, "30 lines in the first minute");
        assert_eq!(signal.peak_at, 120 * MINUTE);
        assert_eq!(signal.baseline, round4(1.0 / 60.0), "one line in the hour");
        assert!(!pattern.appeared());
    }
}
