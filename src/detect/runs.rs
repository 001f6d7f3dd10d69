//! Configuration-management runs as one change: the lines of one ansible
//! play (`PLAY [...]`, each module's `Invoked with ...`, `PLAY RECAP`), a
//! puppet, chef or salt run, and the service reloads and restarts it caused
//! on the hosts it touched, become one timeline row ([`fold_runs`]) placed
//! at the reload (when the change took effect) and naming the play.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::ingest::InputStats;
use crate::ingest::events::{Event, EventKind};
use crate::timefmt::{MS_PER_MINUTE, Millis};

use super::changes::is_service_line;
use super::findings::{TimelineEntry, TimelineFact, TimelineKind, line_source};
use super::templates::TemplateId;
use super::timeline::LogRow;

/// The classifier's rule of configuration-management lines.
pub const CONFIGURATION_MANAGEMENT_RULE: &str = "configuration management";

/// Lines of one run are at most this far apart (a slow task, a package
/// download); a longer pause starts another run.
pub const RUN_GAP_MS: i64 = 5 * MS_PER_MINUTE;

/// What one configuration-management run did, as one row.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRun {
    /// The run's first line as it names itself (`ansible-playbook: PLAY
    /// [site.yml] user=ops`), and the host that logged it.
    pub title: String,
    pub host: Option<String>,
    pub first_at: Millis,
    pub last_at: Millis,
    /// The first service restart or reload inside the run on a host it
    /// touched, as it names itself, with its host.
    pub effect: Option<(String, Option<String>)>,
}

/// Whether a line starts a new ansible play (a run of its own even right
/// after the previous one).
fn starts_play(event: &Event) -> bool {
    event.text.starts_with("PLAY [")
}

/// The runs among `events` in `[from, to]`: the indexes of their lines
/// (configuration-management lines, then the service lines they caused).
pub fn runs(events: &[Event], (from, to): (Millis, Millis)) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut last_at: Option<Millis> = None;
    for (index, event) in events.iter().enumerate() {
        if event.kind != EventKind::Change
            || event.rule != CONFIGURATION_MANAGEMENT_RULE
            || event.at < from
            || event.at > to
        {
            continue;
        }
        let continues = last_at.is_some_and(|at| event.at - at <= RUN_GAP_MS)
            && !starts_play(event)
            && runs.last().is_some_and(|run| {
                run.last()
                    .is_none_or(|&i| !events[i].text.starts_with("PLAY RECAP"))
            });
        match runs.last_mut() {
            Some(run) if continues => run.push(index),
            _ => runs.push(vec![index]),
        }
        last_at = Some(event.at);
    }
    for run in &mut runs {
        let (Some(&first), Some(&last)) = (run.first(), run.last()) else {
            continue;
        };
        let (start, end) = (events[first].at, events[last].at);
        let hosts: FxHashSet<&str> = run
            .iter()
            .filter_map(|&i| events[i].host.as_deref())
            .collect();
        let effects: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.at >= start
                    && e.at <= end
                    && is_service_line(e)
                    && e.host.as_deref().is_some_and(|h| hosts.contains(h))
            })
            .map(|(i, _)| i)
            .collect();
        run.extend(effects);
    }
    runs
}

/// Replaces the rows of each run's lines in `timeline` by one row: at the
/// run's first service line (else its first line), with that line's source,
/// counting every line of the run.
pub fn fold_runs(
    inputs: &[InputStats],
    events: &[Event],
    window: (Millis, Millis),
    timeline: &mut Vec<TimelineEntry>,
) {
    for run in runs(events, window) {
        let Some(&first) = run.first() else {
            continue;
        };
        let effect = run.iter().copied().find(|&i| is_service_line(&events[i]));
        let shown = effect.unwrap_or(first);
        let sources: FxHashSet<Option<String>> = run
            .iter()
            .map(|&i| line_source(inputs, events[i].line))
            .collect();
        timeline.retain(|e| !(e.kind == TimelineKind::Change && sources.contains(&e.source)));
        let title = &events[first];
        let row = TimelineEntry {
            at: events[shown].at,
            kind: TimelineKind::Change,
            fact: TimelineFact::ChangeRun(ChangeRun {
                title: title.display_text(),
                host: title.host.clone(),
                first_at: title.at,
                last_at: run.iter().map(|&i| events[i].at).max().unwrap_or(title.at),
                effect: effect.map(|i| (events[i].display_text(), events[i].host.clone())),
            }),
            source: line_source(inputs, events[shown].line),
            count: run.iter().map(|&i| events[i].count).sum(),
        };
        let at = timeline.partition_point(|e| (e.at, e.kind) <= (row.at, row.kind));
        timeline.insert(at, row);
    }
}

/// [`fold_runs`] on the folded log rows, before the timeline's rows are
/// chosen: a run is one step, not one per line, when the rows are counted.
/// A run's row takes no template ([`TemplateId::MAX`]).
pub fn fold_run_rows(
    inputs: &[InputStats],
    events: &[Event],
    window: (Millis, Millis),
    rows: &mut Vec<LogRow>,
) {
    let mut entries: Vec<TimelineEntry> = rows.iter().map(|r| r.entry.clone()).collect();
    let before = entries.len();
    fold_runs(inputs, events, window, &mut entries);
    if entries.len() == before && entries.iter().zip(rows.iter()).all(|(e, r)| *e == r.entry) {
        return;
    }
    let mut templates: FxHashMap<(Millis, Option<String>), TemplateId> = FxHashMap::default();
    for row in rows.iter() {
        templates
            .entry((row.entry.at, row.entry.source.clone()))
            .or_insert(row.template);
    }
    *rows = entries
        .into_iter()
        .map(|entry| {
            let template = match entry.fact {
                TimelineFact::ChangeRun(_) => TemplateId::MAX,
                _ => templates
                    .get(&(entry.at, entry.source.clone()))
                    .copied()
                    .unwrap_or(TemplateId::MAX),
            };
            LogRow { entry, template }
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::changes::tests::line;

    fn play() -> Vec<Event> {
        let cm = |at, host, program, text| {
            line(
                at,
                EventKind::Change,
                CONFIGURATION_MANAGEMENT_RULE,
                Some(host),
                program,
                text,
            )
        };
        vec![
            cm(0, "deploy01", "ansible-playbook", "PLAY [lb.yml] user=ops"),
            cm(
                7_300,
                "lb01",
                "ansible-ansible.legacy.copy",
                "Invoked with dest=/etc/nginx/conf.d/app_pool.conf",
            ),
            cm(
                9_000,
                "lb01",
                "ansible-ansible.legacy.systemd",
                "Invoked with name=nginx state=reloaded",
            ),
            line(
                9_400,
                EventKind::Change,
                "config reload",
                Some("lb01"),
                "systemd",
                "Reloading nginx.service - A high performance web server and a reverse proxy server...",
            ),
            line(
                9_435,
                EventKind::Change,
                "config reload",
                Some("lb01"),
                "systemd",
                "Reloaded nginx.service - A high performance web server and a reverse proxy server.",
            ),
            line(
                9_500,
                EventKind::Change,
                "config reload",
                Some("web09"),
                "systemd",
                "Reloading nginx.service - on a host the play never touched",
            ),
            cm(
                12_000,
                "deploy01",
                "ansible-playbook",
                "PLAY RECAP lb01 : ok=6 changed=2",
            ),
            cm(
                40 * MS_PER_MINUTE,
                "deploy01",
                "ansible-playbook",
                "PLAY [lb.yml --tags rollback] user=ops",
            ),
            cm(
                40 * MS_PER_MINUTE + 12_000,
                "deploy01",
                "ansible-playbook",
                "PLAY RECAP lb01 : ok=6 changed=2",
            ),
        ]
    }

    #[test]
    fn a_play_and_the_reload_it_caused_are_one_run() {
        let got = runs(&play(), (0, 60 * MS_PER_MINUTE));
        assert_eq!(got, vec![vec![0, 1, 2, 6, 3, 4], vec![7, 8]]);
    }

    #[test]
    fn a_run_is_one_row_at_its_reload() {
        let events = play();
        let inputs = vec![InputStats::new("syslog".to_string())];
        let mut timeline: Vec<TimelineEntry> = events
            .iter()
            .map(|e| crate::detect::timeline::line_row(&inputs, e))
            .collect();
        fold_runs(&inputs, &events, (0, 60 * MS_PER_MINUTE), &mut timeline);
        let got: Vec<(Millis, u64, Option<&str>)> = timeline
            .iter()
            .map(|e| (e.at, e.count, e.source.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (9_400, 6, Some("syslog:9400")),
                (9_500, 1, Some("syslog:9500")),
                (40 * MS_PER_MINUTE, 2, Some("syslog:2400000")),
            ]
        );
        match &timeline[0].fact {
            TimelineFact::ChangeRun(run) => {
                assert_eq!(run.title, "ansible-playbook: PLAY [lb.yml] user=ops");
                assert_eq!((run.first_at, run.last_at), (0, 12_000));
                assert_eq!(
                    run.effect.as_ref().map(|(_, host)| host.as_deref()),
                    Some(Some("lb01"))
                );
            }
            other => panic!("not a run: {other:?}"),
        }
    }
}
