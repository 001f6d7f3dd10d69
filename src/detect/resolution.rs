//! The resolution of an incident: the change that most likely ended the
//! impact, chosen by the rows of [`RESOLUTION_CHOICE`] in order (the last
//! restart or reload of an affected service before the end, else the first
//! within [`RESOLUTION_AFTER_END_MS`] after it, else the last deliberate
//! change shortly before the end), or none when nothing logged a change.
//! A fact with its line; the report writes the sentence.

use rustc_hash::FxHashSet;

use crate::ingest::InputStats;
use crate::ingest::events::{Event, EventKind};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::Incident;
use super::changes::{ChangeRank, rank_in, step_start};
use super::findings::{TimelineEntry, TimelineFact, TimelineKind, line_source};
use super::runs::runs;

/// A fix logged after the last bad request still ended it when it comes
/// this soon after (the contract's timeline reaches 30 min past the end;
/// a revert confirmed after the traffic recovered is written then).
pub const RESOLUTION_AFTER_END_MS: i64 = 30 * MS_PER_MINUTE;

/// A deliberate change that touched no affected service is named as the
/// fix only this close before the end (a configuration write or playbook
/// run that took effect without a restart).
pub const DELIBERATE_FIX_BEFORE_END_MS: i64 = 15 * MS_PER_MINUTE;

/// Which row of [`RESOLUTION_CHOICE`] chose the resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolutionChoice {
    /// The last restart or reload of an affected service in (start, end].
    ServedRestartBefore,
    /// The first one within [`RESOLUTION_AFTER_END_MS`] after the end.
    ServedRestartAfter,
    /// The last deliberate change within [`DELIBERATE_FIX_BEFORE_END_MS`]
    /// before the end.
    DeliberateChangeBefore,
}

impl ResolutionChoice {
    pub fn name(self) -> &'static str {
        match self {
            ResolutionChoice::ServedRestartBefore => {
                "last restart or reload of an affected service before the end"
            }
            ResolutionChoice::ServedRestartAfter => {
                "first restart or reload of an affected service after the end"
            }
            ResolutionChoice::DeliberateChangeBefore => {
                "last deliberate change shortly before the end"
            }
        }
    }
}

/// The resolution choice, in order: which changes a row looks at (the
/// highest rank it accepts), where (relative to the incident), and whether
/// it takes the last or the first.
pub const RESOLUTION_CHOICE: &[(ResolutionChoice, ChangeRank, Window, Pick)] = &[
    (
        ResolutionChoice::ServedRestartBefore,
        ChangeRank::ServedRestart,
        Window::DuringImpact,
        Pick::Last,
    ),
    (
        ResolutionChoice::ServedRestartAfter,
        ChangeRank::ServedRestart,
        Window::AfterEnd,
        Pick::First,
    ),
    (
        ResolutionChoice::DeliberateChangeBefore,
        ChangeRank::Deliberate,
        Window::CloseBeforeEnd,
        Pick::Last,
    ),
];

/// Where a row of [`RESOLUTION_CHOICE`] looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// After the start, up to and including the end.
    DuringImpact,
    /// After the end, up to [`RESOLUTION_AFTER_END_MS`] later.
    AfterEnd,
    /// After the start and at most [`DELIBERATE_FIX_BEFORE_END_MS`] before
    /// the end.
    CloseBeforeEnd,
}

impl Window {
    fn contains(self, incident: &Incident, at: Millis) -> bool {
        let (start, end) = (incident.start, incident.end);
        match self {
            Window::DuringImpact => at > start && at <= end,
            Window::AfterEnd => at > end && at <= end + RESOLUTION_AFTER_END_MS,
            Window::CloseBeforeEnd => {
                at > start && at <= end && end - at <= DELIBERATE_FIX_BEFORE_END_MS
            }
        }
    }
}

/// The last or the first match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Last,
    First,
}

/// The change that most likely ended the impact.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The first line of the change's step (the `Reloading` of a reload).
    pub at: Millis,
    /// The line as it names itself: `program: text`.
    pub text: String,
    pub host: Option<String>,
    /// `path:line` of that line.
    pub source: Option<String>,
    /// The classifier's rule of that line.
    pub rule: &'static str,
    pub choice: ResolutionChoice,
    /// The first line of the configuration-management run it was part of
    /// (`ansible-playbook: PLAY [site.yml --tags rollback] user=ops`).
    pub run: Option<String>,
}

impl Resolution {
    /// The resolution as a change row of the timeline.
    pub fn row(&self) -> TimelineEntry {
        TimelineEntry {
            at: self.at,
            kind: TimelineKind::Change,
            fact: TimelineFact::Log {
                event: EventKind::Change,
                rule: self.rule,
                host: self.host.clone(),
                text: self.text.clone(),
                template: None,
                last_at: self.at,
            },
            source: self.source.clone(),
            count: 1,
        }
    }
}

/// The resolution of `incident` among `events` (in time order), with the
/// services a restart of which matters (`affected`).
pub fn find(
    inputs: &[InputStats],
    events: &[Event],
    incident: &Incident,
    affected: &FxHashSet<String>,
) -> Option<Resolution> {
    RESOLUTION_CHOICE
        .iter()
        .find_map(|&(choice, highest, window, pick)| {
            let mut candidates = events.iter().enumerate().filter(|&(i, e)| {
                e.kind == EventKind::Change
                    && window.contains(incident, e.at)
                    && rank_in(events, i, affected) <= highest
            });
            let (index, _) = match pick {
                Pick::Last => candidates.next_back(),
                Pick::First => candidates.next(),
            }?;
            let step = step_start(events, index);
            let first = &events[step];
            Some(Resolution {
                at: first.at,
                text: first.display_text(),
                host: first.host.clone(),
                source: line_source(inputs, first.line),
                rule: first.rule,
                choice,
                run: runs(
                    events,
                    (incident.start, incident.end + RESOLUTION_AFTER_END_MS),
                )
                .into_iter()
                .find(|run| run.contains(&step))
                .and_then(|run| run.first().map(|&i| events[i].display_text())),
            })
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::detect::changes::affected_services;
    use crate::detect::changes::tests::line;
    use crate::detect::{Cause, Severity};

    const MINUTE: i64 = MS_PER_MINUTE;

    /// An outage from `start` to `end`, for tests of what surrounds it.
    pub(crate) fn incident(start: Millis, end: Millis) -> Incident {
        Incident {
            cause: Cause::BadRequests,
            start,
            end,
            start_line: None,
            end_line: None,
            first_bucket: 0,
            last_bucket: 0,
            severity: Severity::Outage,
        }
    }

    fn reload(at: Millis) -> Event {
        line(
            at,
            EventKind::Change,
            "config reload",
            Some("web1"),
            "systemd",
            "Reloading The Apache HTTP Server...",
        )
    }

    fn restart(at: Millis, host: &str) -> Event {
        line(
            at,
            EventKind::Change,
            "systemd unit",
            Some(host),
            "systemd",
            "Stopping app.service - Shop application server...",
        )
    }

    fn config_write(at: Millis) -> Event {
        line(
            at,
            EventKind::Change,
            "configuration write",
            Some("web1"),
            "sudo",
            "dev : COMMAND=/usr/bin/vim /etc/shop/app.conf",
        )
    }

    fn timer(at: Millis) -> Event {
        line(
            at,
            EventKind::Change,
            "systemd unit",
            Some("db1"),
            "systemd",
            "Starting backup.service - Nightly backup...",
        )
    }

    #[test]
    fn the_fix_is_chosen_by_the_table() {
        let (start, end) = (60 * MINUTE, 120 * MINUTE);
        let crash = line(
            70 * MINUTE,
            EventKind::Event,
            "crash",
            Some("web2"),
            "systemd",
            "app.service: Failed with result 'oom-kill'.",
        );
        /// A name, the lines, the resolution's time and choice.
        type Case = (&'static str, Vec<Event>, Option<(Millis, ResolutionChoice)>);
        let cases: [Case; 7] = [
            (
                "the revert reload, not the failed restart before it",
                vec![
                    reload(start - MINUTE),
                    reload(90 * MINUTE),
                    reload(end - 2_000),
                    timer(end - 60_000),
                ],
                Some((end - 2_000, ResolutionChoice::ServedRestartBefore)),
            ),
            (
                "a reload at the very end still ended it",
                vec![reload(end)],
                Some((end, ResolutionChoice::ServedRestartBefore)),
            ),
            (
                "the restart of the unit that failed",
                vec![crash.clone(), restart(end - 8_000, "web2")],
                Some((end - 8_000, ResolutionChoice::ServedRestartBefore)),
            ),
            (
                "a reload logged after the end",
                vec![reload(end + 5 * MINUTE), reload(end + 10 * MINUTE)],
                Some((end + 5 * MINUTE, ResolutionChoice::ServedRestartAfter)),
            ),
            (
                "too long after the end is no fix",
                vec![reload(end + 31 * MINUTE)],
                None,
            ),
            (
                "a config write close before the end",
                vec![timer(end - 60_000), config_write(end - 5 * MINUTE)],
                Some((end - 5 * MINUTE, ResolutionChoice::DeliberateChangeBefore)),
            ),
            (
                "another service's timer is no fix",
                vec![
                    timer(end - 60_000),
                    config_write(end - 20 * MINUTE),
                    reload(start),
                ],
                None,
            ),
        ];
        for (name, events, expected) in cases {
            let affected = affected_services(&events, (start, end));
            let got =
                find(&[], &events, &incident(start, end), &affected).map(|r| (r.at, r.choice));
            assert_eq!(got, expected, "{name}");
        }
    }
}
