//! What people did, from their own record (`sudo`, bash history, snoopy,
//! auditd): the timeline rows of kind `action`, one per run of commands by
//! one person on one host while consecutive ([`action_entries`]), the
//! investigations that did not lead to the fix ([`paths_not_taken`]) and
//! who acted or was paged, in order ([`responders`], [`pages`]). Facts
//! only; the report writes "oncall on db1 looked at the database".

use crate::ingest::InputStats;
use crate::ingest::events::commands::{self, ActionClass, Actor, Topic};
use crate::ingest::events::{Event, EventKind};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::Incident;
use super::findings::{Finding, TimelineEntry, TimelineFact, TimelineKind, line_source};

/// A pause longer than this between one person's commands on one host
/// starts a new step of the response (the example runs of seed 004 are a
/// few minutes long; a quarter of an hour apart is a new idea).
pub const ACTION_FOLD_GAP_MS: i64 = 10 * MS_PER_MINUTE;

/// What one command was in the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionRole {
    /// A look that changes nothing.
    Investigation,
    /// A restart, reload or kill during the impact or after it.
    Mitigation,
    /// The same before the impact: a step of the change that preceded it.
    Operation,
    /// A command no row of the command table knows.
    Unclassified,
}

/// One command of a run: what was run, as its record names it (the
/// program's folder left out), and its role.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionCommand {
    pub command: String,
    pub role: ActionRole,
}

/// A run of commands by one person on one host.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRun {
    pub actor: Actor,
    pub host: Option<String>,
    /// The working folder of the first command, when recorded.
    pub cwd: Option<String>,
    /// What most of the commands named (ties: the first).
    pub topic: Option<Topic>,
    /// In the order run; a repeat of the previous command is kept once.
    pub commands: Vec<ActionCommand>,
    /// When the last command ran.
    pub last_at: Millis,
}

impl ActionRun {
    /// Whether every command only looked.
    pub fn only_looked(&self) -> bool {
        self.commands
            .iter()
            .all(|c| c.role == ActionRole::Investigation)
    }
}

/// The role of a command of class `class` run at `at`.
fn role(class: ActionClass, at: Millis, incident: &Incident) -> ActionRole {
    match class {
        ActionClass::Investigation => ActionRole::Investigation,
        ActionClass::Mitigation if at < incident.start => ActionRole::Operation,
        ActionClass::Mitigation => ActionRole::Mitigation,
        ActionClass::Unclassified => ActionRole::Unclassified,
    }
}

/// The action events of `[from, to]` as timeline rows: consecutive
/// commands of one person on one host fold into one row while no more than
/// [`ACTION_FOLD_GAP_MS`] apart and not across the incident's start,
/// detection or end (`boundaries`).
pub fn action_entries(
    inputs: &[InputStats],
    events: &[Event],
    (from, to): (Millis, Millis),
    incident: &Incident,
    boundaries: &[Millis],
) -> Vec<TimelineEntry> {
    let mut rows: Vec<TimelineEntry> = Vec::new();
    for event in events
        .iter()
        .filter(|e| e.kind == EventKind::Action && e.at >= from && e.at <= to)
    {
        let text = event.display_text();
        let Some(record) = commands::parse_record(&text) else {
            continue;
        };
        let class = ActionClass::of_rule(event.rule).unwrap_or(ActionClass::Unclassified);
        let command = ActionCommand {
            command: commands::normalized(&record.command).to_string(),
            role: role(class, event.at, incident),
        };
        if let Some(TimelineEntry {
            fact: TimelineFact::Action(run),
            count,
            ..
        }) = rows.last_mut()
            && run.actor == record.actor
            && run.host == event.host
            && event.at - run.last_at <= ACTION_FOLD_GAP_MS
            && !boundaries.iter().any(|&b| run.last_at < b && b <= event.at)
        {
            if run.commands.last() != Some(&command) {
                run.commands.push(command);
            }
            run.last_at = event.at;
            *count += event.count;
            continue;
        }
        rows.push(TimelineEntry {
            at: event.at,
            kind: TimelineKind::Action,
            fact: TimelineFact::Action(ActionRun {
                actor: record.actor.clone(),
                host: event.host.clone(),
                cwd: record.cwd.map(str::to_string),
                topic: None,
                commands: vec![command],
                last_at: event.at,
            }),
            source: line_source(inputs, event.line),
            count: event.count,
        });
    }
    for row in &mut rows {
        if let TimelineFact::Action(run) = &mut row.fact {
            run.topic = main_topic(&run.commands);
        }
    }
    rows
}

/// The topic most commands name (ties: the first named).
fn main_topic(run: &[ActionCommand]) -> Option<Topic> {
    let topics: Vec<Topic> = run
        .iter()
        .filter_map(|c| commands::topic(&c.command))
        .collect();
    let mut best: Option<(Topic, usize)> = None;
    for &topic in &topics {
        let n = topics.iter().filter(|&&t| t == topic).count();
        if best.is_none_or(|(_, most)| n > most) {
            best = Some((topic, n));
        }
    }
    best.map(|(topic, _)| topic)
}

/// The action rows of a finding with their runs.
pub fn runs(finding: &Finding) -> impl Iterator<Item = (&TimelineEntry, &ActionRun)> {
    finding.timeline.iter().filter_map(|e| match &e.fact {
        TimelineFact::Action(run) => Some((e, run)),
        _ => None,
    })
}

/// Investigations during the impact that did not lead to the fix: runs
/// that only looked, on another host than the resolution's, or about
/// another topic than it (`tcpdump` when the fix was an nginx reload).
/// Without a resolution nothing is judged, and every investigation during
/// the impact is returned with `false`.
pub fn paths_not_taken(finding: &Finding) -> (Vec<(&TimelineEntry, &ActionRun)>, bool) {
    let (start, end) = (finding.incident.start, finding.incident.end);
    let looks = runs(finding)
        .filter(|(entry, run)| run.only_looked() && entry.at >= start && entry.at <= end);
    let Some(fix) = finding.resolution.as_ref() else {
        return (looks.collect(), false);
    };
    let fix_topic = commands::topic(&fix.text);
    let elsewhere = |run: &ActionRun| {
        let other_host = match (&fix.host, &run.host) {
            (Some(fix_host), Some(host)) => fix_host != host,
            _ => false,
        };
        let other_topic = match (fix_topic, run.topic) {
            (Some(fix_topic), Some(topic)) => fix_topic != topic,
            _ => false,
        };
        other_host || other_topic
    };
    (looks.filter(|(_, run)| elsewhere(run)).collect(), true)
}

/// Someone who acted during the response.
#[derive(Clone, Debug, PartialEq)]
pub struct Responder {
    pub actor: Actor,
    pub first_at: Millis,
    /// Hosts in the order first acted on.
    pub hosts: Vec<String>,
    pub commands: usize,
    /// `path:line` of the first command.
    pub source: Option<String>,
}

/// The people with an action row from the start of the impact on, in the
/// order they first acted.
pub fn responders(finding: &Finding) -> Vec<Responder> {
    let mut found: Vec<Responder> = Vec::new();
    for (entry, run) in runs(finding).filter(|(e, _)| e.at >= finding.incident.start) {
        let index = match found.iter().position(|r| r.actor == run.actor) {
            Some(index) => index,
            None => {
                found.push(Responder {
                    actor: run.actor.clone(),
                    first_at: entry.at,
                    hosts: Vec::new(),
                    commands: 0,
                    source: entry.source.clone(),
                });
                found.len() - 1
            }
        };
        let responder = &mut found[index];
        responder.commands += run.commands.len();
        if let Some(host) = &run.host
            && !responder.hosts.contains(host)
        {
            responder.hosts.push(host.clone());
        }
    }
    found
}

/// Who monitoring notified, from Nagios/Icinga `NOTIFICATION` and
/// Alertmanager `receiver=` alert rows: (time, contact, source).
pub fn pages(finding: &Finding) -> Vec<(Millis, String, Option<String>)> {
    finding
        .timeline
        .iter()
        .filter(|e| matches!(e.kind, TimelineKind::Alert | TimelineKind::Detected))
        .filter_map(|e| {
            let text = match &e.fact {
                TimelineFact::Log { text, .. } => text.as_str(),
                TimelineFact::Detected(d) => match &d.evidence {
                    super::findings::DetectionEvidence::Alert { text } => text.as_str(),
                    _ => return None,
                },
                _ => return None,
            };
            contact(text).map(|c| (e.at, c.to_string(), e.source.clone()))
        })
        .collect()
}

/// The contact a notification line names.
pub fn contact(text: &str) -> Option<&str> {
    if let Some(rest) = text
        .split_once("SERVICE NOTIFICATION: ")
        .or_else(|| text.split_once("HOST NOTIFICATION: "))
        .map(|(_, rest)| rest)
    {
        return rest.split(';').next().filter(|c| !c.is_empty());
    }
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("receiver="))
        .map(|r| r.trim_matches('"'))
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::changes::tests::line;
    use crate::detect::{Cause, Severity};

    const MINUTE: i64 = MS_PER_MINUTE;

    fn sudo(at: Millis, host: &str, user: &str, command: &str, rule: &'static str) -> Event {
        line(
            at,
            EventKind::Action,
            rule,
            Some(host),
            "sudo",
            &format!("  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND={command}"),
        )
    }

    fn incident() -> Incident {
        Incident {
            cause: Cause::BadRequests,
            start: 30 * MINUTE,
            end: 75 * MINUTE,
            start_line: None,
            end_line: None,
            first_bucket: 0,
            last_bucket: 0,
            severity: Severity::PartialOutage,
        }
    }

    #[test]
    fn commands_fold_per_person_and_host_while_consecutive() {
        let events = vec![
            sudo(
                29 * MINUTE,
                "web1",
                "dev",
                "/usr/bin/systemctl reload apache2",
                "mitigation",
            ),
            sudo(
                60 * MINUTE,
                "web1",
                "dev",
                "/usr/bin/systemctl restart apache2",
                "mitigation",
            ),
            sudo(
                75 * MINUTE + 41_000,
                "db1",
                "oncall",
                "/usr/bin/systemctl status mysql",
                "investigation",
            ),
            sudo(
                77 * MINUTE + 3_000,
                "db1",
                "oncall",
                "/usr/bin/mysqladmin processlist",
                "investigation",
            ),
            sudo(
                81 * MINUTE + 56_000,
                "db1",
                "oncall",
                "/usr/bin/tail -n 200 /var/log/mysql/error.log",
                "investigation",
            ),
            sudo(
                90 * MINUTE,
                "web1",
                "oncall",
                "/usr/bin/git -C /etc/apache2 log -p -1",
                "investigation",
            ),
            sudo(
                91 * MINUTE,
                "web1",
                "oncall",
                "/usr/bin/git -C /etc/apache2 log -p -1",
                "investigation",
            ),
        ];
        let rows = action_entries(
            &[],
            &events,
            (0, 200 * MINUTE),
            &incident(),
            &[30 * MINUTE, 75 * MINUTE],
        );
        /// At, lines, who@where, the role of each command, the topic.
        type Row = (Millis, u64, String, Vec<ActionRole>, Option<Topic>);
        let got: Vec<Row> = rows
            .iter()
            .map(|row| match &row.fact {
                TimelineFact::Action(run) => (
                    row.at,
                    row.count,
                    format!("{:?}@{}", run.actor, run.host.as_deref().unwrap_or("")),
                    run.commands.iter().map(|c| c.role).collect(),
                    run.topic,
                ),
                other => panic!("not an action: {other:?}"),
            })
            .collect();
        let expected = vec![
            (
                29 * MINUTE,
                1,
                "User(\"dev\")@web1".to_string(),
                vec![ActionRole::Operation],
                Some(Topic::WebServer),
            ),
            (
                60 * MINUTE,
                1,
                "User(\"dev\")@web1".to_string(),
                vec![ActionRole::Mitigation],
                Some(Topic::WebServer),
            ),
            (
                75 * MINUTE + 41_000,
                3,
                "User(\"oncall\")@db1".to_string(),
                vec![ActionRole::Investigation; 3],
                Some(Topic::Database),
            ),
            (
                90 * MINUTE,
                2,
                "User(\"oncall\")@web1".to_string(),
                vec![ActionRole::Investigation],
                Some(Topic::WebServer),
            ),
        ];
        assert_eq!(got, expected);
        match &rows[2].fact {
            TimelineFact::Action(run) => assert_eq!(
                run.commands
                    .iter()
                    .map(|c| c.command.as_str())
                    .collect::<Vec<_>>(),
                [
                    "systemctl status mysql",
                    "mysqladmin processlist",
                    "tail -n 200 /var/log/mysql/error.log"
                ]
            ),
            other => panic!("not an action: {other:?}"),
        }
    }

    #[test]
    fn contacts_are_read_from_notifications() {
        let cases = [
            (
                "nagios",
                "SERVICE NOTIFICATION: oncall;web1;HTTP shop;CRITICAL;notify-service-by-email;HTTP CRITICAL",
                Some("oncall"),
            ),
            (
                "alertmanager",
                "level=info msg=\"Notify success\" receiver=oncall-pager status=firing",
                Some("oncall-pager"),
            ),
            (
                "an alert names no contact",
                "SERVICE ALERT: web1;HTTP shop;CRITICAL;HARD;3;HTTP CRITICAL",
                None,
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(contact(text), expected, "{name}");
        }
    }
}
