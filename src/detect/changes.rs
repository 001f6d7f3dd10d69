//! Which changes matter to an incident: the service a log line touches
//! ([`service_of`], from the unit, the systemd description or the program),
//! the services that serve the traffic ([`SERVED_SERVICES`]) and those that
//! failed during the impact ([`affected_services`]), the ranking of changes
//! ([`CHANGE_RANKING`]) behind the lead "the last change before impact",
//! and the step a change line belongs to ([`step_start`]: the lines of one
//! restart or reload, `Stopping`, `Stopped`, `Starting`, `Started`, count
//! from the first).

use rustc_hash::FxHashSet;

use crate::ingest::events::{Event, EventKind};

use super::findings::{TimelineEntry, TimelineKind};
use crate::timefmt::{MS_PER_SECOND, Millis};

/// A service that serves web traffic: a restart or reload of it changes
/// what every request meets.
#[derive(Clone, Copy, Debug)]
pub struct ServedService {
    /// The name the report uses.
    pub family: &'static str,
    /// Unit and program names (`apache2`, `httpd`), matched whole.
    pub units: &'static [&'static str],
    /// What systemd prints instead of the unit name (`Stopping The Apache
    /// HTTP Server...`).
    pub descriptions: &'static [&'static str],
}

/// The web servers, proxies and load balancers (the contract's access-log
/// producers) and the FastCGI manager behind them.
pub const SERVED_SERVICES: &[ServedService] = &[
    ServedService {
        family: "apache",
        units: &["apache2", "apache", "httpd", "apache2ctl", "apachectl"],
        descriptions: &["The Apache HTTP Server"],
    },
    ServedService {
        family: "nginx",
        units: &[
            "nginx",
            "openresty",
            "ingress-nginx-controller",
            "nginx-ingress-controller",
        ],
        descriptions: &[
            "A high performance web server and a reverse proxy server",
            "The nginx HTTP and reverse proxy server",
            "The NGINX HTTP and reverse proxy server",
            "nginx - high performance web server",
        ],
    },
    ServedService {
        family: "haproxy",
        units: &["haproxy"],
        descriptions: &["HAProxy Load Balancer"],
    },
    ServedService {
        family: "envoy",
        units: &["envoy"],
        descriptions: &["Envoy Proxy"],
    },
    ServedService {
        family: "caddy",
        units: &["caddy"],
        descriptions: &["Caddy"],
    },
    ServedService {
        family: "traefik",
        units: &["traefik"],
        descriptions: &["Traefik"],
    },
    ServedService {
        family: "lighttpd",
        units: &["lighttpd"],
        descriptions: &["Lighttpd Daemon"],
    },
    ServedService {
        family: "varnish",
        units: &["varnish", "varnishd"],
        descriptions: &["Varnish Cache", "Varnish HTTP accelerator"],
    },
    ServedService {
        family: "php-fpm",
        units: &[
            "php-fpm",
            "php-fpm8.3",
            "php8.3-fpm",
            "php8.2-fpm",
            "php8.1-fpm",
            "php7.4-fpm",
        ],
        descriptions: &["FastCGI Process Manager"],
    },
];

/// The served family of a unit or program name, if it is one.
pub fn served_family(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches(".service");
    let name = name.split('@').next().unwrap_or(name);
    SERVED_SERVICES
        .iter()
        .find(|s| {
            s.units.iter().any(|u| u.eq_ignore_ascii_case(name))
                || (s.family == "php-fpm" && name.starts_with("php") && name.ends_with("-fpm"))
        })
        .map(|s| s.family)
}

/// The service a log line touches: a served family (`apache`), or the unit
/// name a systemd line or a configuration-management module names (`app`).
pub fn service_of(event: &Event) -> Option<String> {
    let text = event.text.as_str();
    let program = event.program.as_deref().unwrap_or("");
    if let Some(unit) = unit_named(text) {
        return Some(served_family(unit).map_or_else(|| unit.to_string(), str::to_string));
    }
    if let Some(served) = SERVED_SERVICES
        .iter()
        .find(|s| s.descriptions.iter().any(|d| text.contains(d)))
    {
        return Some(served.family.to_string());
    }
    if let Some(family) = served_family(program) {
        return Some(family.to_string());
    }
    None
}

/// The unit a message names: `nginx.service` (first word or after a verb),
/// or an ansible `systemd`/`service` module's `name=nginx`.
fn unit_named(text: &str) -> Option<&str> {
    if let Some(unit) = text
        .split_whitespace()
        .take(3)
        .map(|word| word.trim_end_matches([':', '.', ',']))
        .find_map(|word| word.strip_suffix(".service"))
    {
        return Some(unit.split('@').next().unwrap_or(unit));
    }
    let rest = text.split_once("Invoked with ")?.1;
    rest.split_whitespace()
        .find_map(|pair| pair.strip_prefix("name="))
        .filter(|_| rest.contains("state="))
}

/// The services of an incident that a change can touch to matter: every
/// served family, and each unit that crashed or was killed during
/// `[from, to]` (its restart is a restart of what users were waiting on).
pub fn affected_services(events: &[Event], (from, to): (Millis, Millis)) -> FxHashSet<String> {
    let mut affected: FxHashSet<String> = SERVED_SERVICES
        .iter()
        .map(|s| s.family.to_string())
        .collect();
    affected.extend(
        events
            .iter()
            .filter(|e| e.kind == EventKind::Event && e.at >= from && e.at <= to)
            .filter_map(service_of),
    );
    affected
}

/// How strongly a change suggests itself as the cause (or the fix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeRank {
    /// A restart, reload or deploy of a service that serves the traffic or
    /// failed during the impact.
    ServedRestart,
    /// A deliberate change elsewhere: a configuration write, a
    /// configuration-management run, a package change, a deploy.
    Deliberate,
    /// Any other service starting or stopping.
    OtherService,
    /// systemd restarting a unit that just crashed: no one changed it.
    Automatic,
}

/// The ranking of changes by the classifier's rule: the rank on an affected
/// service, and elsewhere. Rules not listed rank [`ChangeRank::OtherService`].
pub const CHANGE_RANKING: &[(&str, ChangeRank, ChangeRank)] = &[
    (
        "config reload",
        ChangeRank::ServedRestart,
        ChangeRank::Deliberate,
    ),
    ("deploy", ChangeRank::ServedRestart, ChangeRank::Deliberate),
    (
        "systemd unit",
        ChangeRank::ServedRestart,
        ChangeRank::OtherService,
    ),
    (
        "service start or stop",
        ChangeRank::ServedRestart,
        ChangeRank::OtherService,
    ),
    (
        "haproxy proxy start or stop",
        ChangeRank::ServedRestart,
        ChangeRank::OtherService,
    ),
    (
        "configuration write",
        ChangeRank::Deliberate,
        ChangeRank::Deliberate,
    ),
    (
        "configuration management",
        ChangeRank::Deliberate,
        ChangeRank::Deliberate,
    ),
    (
        "package change",
        ChangeRank::Deliberate,
        ChangeRank::Deliberate,
    ),
];

/// The rank of a change line among the changes of an incident (in
/// `events`, for whether a crash just before made it automatic).
pub fn rank_in(events: &[Event], index: usize, affected: &FxHashSet<String>) -> ChangeRank {
    match events.get(index) {
        Some(_) if is_automatic(events, index) => ChangeRank::Automatic,
        Some(event) => rank(event, affected),
        None => ChangeRank::OtherService,
    }
}

/// Whether the service line `events[index]` is systemd bringing a unit
/// back after it crashed: a crash, kill or automatic restart line of the
/// same service on the same host at most [`STEP_GAP_MS`] before it, with
/// only service lines of that service between.
pub fn is_automatic(events: &[Event], index: usize) -> bool {
    let Some(line) = events.get(index).filter(|e| is_service_line(e)) else {
        return false;
    };
    let service = service_of(line);
    for earlier in events[..index].iter().rev() {
        if line.at - earlier.at > STEP_GAP_MS {
            return false;
        }
        if earlier.host != line.host || service_of(earlier) != service {
            continue;
        }
        if earlier.kind == EventKind::Event && CRASH_RULES.contains(&earlier.rule) {
            return true;
        }
        if !is_service_line(earlier) {
            return false;
        }
    }
    false
}

/// Marks the change rows of automatic restarts (see [`is_automatic`]) as
/// events: the crash's aftermath, not a change anyone made.
pub fn demote_automatic_restarts<'r>(
    inputs: &[crate::ingest::InputStats],
    events: &[Event],
    (from, to): (Millis, Millis),
    rows: impl IntoIterator<Item = &'r mut TimelineEntry>,
) {
    let automatic: FxHashSet<Option<String>> = (0..events.len())
        .filter(|&i| events[i].at >= from && events[i].at <= to && is_automatic(events, i))
        .map(|i| super::findings::line_source(inputs, events[i].line))
        .collect();
    for row in rows {
        if row.kind == TimelineKind::Change
            && automatic.contains(&row.source)
            && let super::findings::TimelineFact::Log { event, rule, .. } = &mut row.fact
        {
            row.kind = TimelineKind::Event;
            *event = EventKind::Event;
            *rule = AUTOMATIC_RESTART_RULE;
        }
    }
}

/// The classifier's rules of a unit going down on its own.
pub const CRASH_RULES: &[&str] = &["crash", "out of memory", AUTOMATIC_RESTART_RULE];

/// The rule name of a restart systemd made after a crash.
pub const AUTOMATIC_RESTART_RULE: &str = "automatic restart";

/// The rank of a change line among the changes of an incident.
pub fn rank(event: &Event, affected: &FxHashSet<String>) -> ChangeRank {
    let on_affected = service_of(event).is_some_and(|s| affected.contains(&s));
    CHANGE_RANKING
        .iter()
        .find(|(rule, ..)| *rule == event.rule)
        .map_or(
            ChangeRank::OtherService,
            |&(_, on, off)| {
                if on_affected { on } else { off }
            },
        )
}

/// Lines of one restart or reload are at most this far apart (systemd's
/// stop and start, the web server's own "graceful restart" and "resuming
/// normal operations" lines follow within seconds).
pub const STEP_GAP_MS: i64 = 30 * MS_PER_SECOND;

/// Whether a line is a service's own restart, reload or start/stop line
/// (a rule that ranks [`ChangeRank::ServedRestart`] on an affected
/// service), not a tool asking for one.
pub fn is_service_line(event: &Event) -> bool {
    event.kind == EventKind::Change
        && CHANGE_RANKING
            .iter()
            .any(|&(rule, on, _)| rule == event.rule && on == ChangeRank::ServedRestart)
}

/// The first line of the step that `events[index]` belongs to: the earlier
/// restart or reload lines of the same service (and host, where both name
/// one), each at most [`STEP_GAP_MS`] before the next. A playbook's or a
/// person's request for the reload is a change of its own.
pub fn step_start(events: &[Event], index: usize) -> usize {
    let Some(chosen) = events.get(index).filter(|e| is_service_line(e)) else {
        return index;
    };
    let service = service_of(chosen);
    let mut first = index;
    for (i, earlier) in events[..index].iter().enumerate().rev() {
        if events[first].at - earlier.at > STEP_GAP_MS {
            break;
        }
        let same_host = match (&earlier.host, &chosen.host) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        if is_service_line(earlier) && same_host && service_of(earlier) == service {
            first = i;
        }
    }
    first
}

/// The last change that `eligible` keeps, by rank, then time: the index of
/// the first line of its step.
pub fn ranked_last_change(
    events: &[Event],
    affected: &FxHashSet<String>,
    eligible: impl Fn(&Event) -> bool,
) -> Option<usize> {
    let chosen = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EventKind::Change && eligible(e))
        .min_by_key(|(i, e)| (rank_in(events, *i, affected), std::cmp::Reverse((e.at, *i))))?
        .0;
    Some(step_start(events, chosen))
}

/// Puts `row` (a change) into `timeline` unless a change row holds its
/// line (its own row, or a folded row such as a rollout over three hosts:
/// [`super::rows::holds_line`]): a fix or a suspect the row cap hid keeps
/// a row of its own, and a line already inside a row is never shown
/// twice. The timeline stays in time, then kind, order.
pub fn keep_change_row(timeline: &mut Vec<TimelineEntry>, row: TimelineEntry) {
    let (text, host) = match &row.fact {
        super::findings::TimelineFact::Log { text, host, .. } => (text.as_str(), host.as_deref()),
        _ => ("", None),
    };
    let present = timeline.iter().any(|e| {
        (e.kind == TimelineKind::Change && e.at == row.at && e.source == row.source)
            || super::rows::holds_line(e, row.at, text, host)
    });
    if !present {
        let at = timeline.partition_point(|e| (e.at, e.kind) <= (row.at, row.kind));
        timeline.insert(at, row);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::series::LineRef;

    pub(crate) fn line(
        at: Millis,
        kind: EventKind,
        rule: &'static str,
        host: Option<&str>,
        program: &str,
        text: &str,
    ) -> Event {
        Event {
            at,
            last_at: at,
            kind,
            rule,
            severity: None,
            host: host.map(str::to_string),
            program: Some(program.to_string()),
            text: text.to_string(),
            line: LineRef {
                input: 0,
                line: at as u64,
            },
            count: 1,
        }
    }

    #[test]
    fn services_are_named_by_unit_description_or_program() {
        let change =
            |program, text| line(0, EventKind::Change, "systemd unit", None, program, text);
        let cases = [
            (
                "a unit name",
                change(
                    "systemd",
                    "Reloading nginx.service - A high performance web server and a reverse proxy server...",
                ),
                Some("nginx"),
            ),
            (
                "a description",
                change("systemd", "Stopping The Apache HTTP Server..."),
                Some("apache"),
            ),
            (
                "an application unit",
                change("systemd", "Stopped app.service - Shop application server."),
                Some("app"),
            ),
            (
                "a unit status line",
                change("systemd", "app.service: Failed with result 'oom-kill'."),
                Some("app"),
            ),
            (
                "the error log's program",
                change(
                    "apache",
                    "AH00171: Graceful restart requested, doing restart",
                ),
                Some("apache"),
            ),
            (
                "an ansible module",
                change(
                    "ansible-ansible.legacy.systemd",
                    "Invoked with name=nginx state=reloaded",
                ),
                Some("nginx"),
            ),
            (
                "an ansible copy names no service",
                change(
                    "ansible-ansible.legacy.copy",
                    "Invoked with dest=/etc/nginx/conf.d/app_pool.conf",
                ),
                None,
            ),
            (
                "a deploy tool",
                change("deploy", "deployed shop-api v2.14.0"),
                None,
            ),
        ];
        for (name, event, expected) in cases {
            assert_eq!(service_of(&event).as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn changes_rank_by_what_they_touch() {
        let affected = affected_services(
            &[line(
                50,
                EventKind::Event,
                "crash",
                Some("web02"),
                "systemd",
                "app.service: Failed with result 'oom-kill'.",
            )],
            (0, 100),
        );
        let cases = [
            (
                "a reload of the web server",
                line(
                    0,
                    EventKind::Change,
                    "config reload",
                    Some("lb01"),
                    "systemd",
                    "Reloading nginx.service - x...",
                ),
                ChangeRank::ServedRestart,
            ),
            (
                "a restart of the unit that failed",
                line(
                    0,
                    EventKind::Change,
                    "systemd unit",
                    Some("web02"),
                    "systemd",
                    "Stopping app.service - Shop application server...",
                ),
                ChangeRank::ServedRestart,
            ),
            (
                "a configuration write",
                line(
                    0,
                    EventKind::Change,
                    "configuration write",
                    None,
                    "app-update",
                    "Updated /etc/shop-app/app.conf: x",
                ),
                ChangeRank::Deliberate,
            ),
            (
                "a playbook line",
                line(
                    0,
                    EventKind::Change,
                    "configuration management",
                    None,
                    "ansible-playbook",
                    "PLAY RECAP lb01 : ok=6",
                ),
                ChangeRank::Deliberate,
            ),
            (
                "another unit starting",
                line(
                    0,
                    EventKind::Change,
                    "systemd unit",
                    None,
                    "systemd",
                    "Started postfix.service - Postfix.",
                ),
                ChangeRank::OtherService,
            ),
        ];
        for (name, event, expected) in cases {
            assert_eq!(rank(&event, &affected), expected, "{name}");
        }
    }

    #[test]
    fn the_served_reload_outranks_a_later_playbook_recap() {
        let events = vec![
            line(
                1_000,
                EventKind::Change,
                "configuration management",
                Some("deploy01"),
                "ansible-playbook",
                "PLAY [lb.yml] user=ops",
            ),
            line(
                9_600,
                EventKind::Change,
                "configuration management",
                Some("lb01"),
                "ansible-ansible.legacy.systemd",
                "Invoked with name=nginx state=reloaded",
            ),
            line(
                10_000,
                EventKind::Change,
                "config reload",
                Some("lb01"),
                "systemd",
                "Reloading nginx.service - A high performance web server and a reverse proxy server...",
            ),
            line(
                10_035,
                EventKind::Change,
                "config reload",
                Some("lb01"),
                "systemd",
                "Reloaded nginx.service - A high performance web server and a reverse proxy server.",
            ),
            line(
                12_000,
                EventKind::Change,
                "configuration management",
                Some("deploy01"),
                "ansible-playbook",
                "PLAY RECAP lb01 : ok=6 changed=2",
            ),
        ];
        let affected = affected_services(&events, (20_000, 30_000));
        let got = ranked_last_change(&events, &affected, |e| e.at <= 20_000);
        assert_eq!(
            got,
            Some(2),
            "the step's first line: Reloading nginx, not the playbook's request"
        );
    }

    #[test]
    fn restarts_after_a_crash_are_automatic() {
        let events = vec![
            line(
                0,
                EventKind::Event,
                "crash",
                Some("web02"),
                "systemd",
                "app.service: Failed with result 'oom-kill'.",
            ),
            line(
                5_000,
                EventKind::Event,
                "automatic restart",
                Some("web02"),
                "systemd",
                "app.service: Scheduled restart job, restart counter is at 1.",
            ),
            line(
                5_100,
                EventKind::Change,
                "systemd unit",
                Some("web02"),
                "systemd",
                "Stopped app.service - Shop application server.",
            ),
            line(
                5_200,
                EventKind::Change,
                "systemd unit",
                Some("web02"),
                "systemd",
                "Started app.service - Shop application server.",
            ),
            line(
                6_000,
                EventKind::Change,
                "systemd unit",
                Some("web03"),
                "systemd",
                "Stopping app.service - Shop application server...",
            ),
            line(
                600_000,
                EventKind::Change,
                "systemd unit",
                Some("web02"),
                "systemd",
                "Stopping app.service - Shop application server...",
            ),
        ];
        let cases = [
            ("the stop after the crash", 2, true),
            ("the start after it", 3, true),
            ("another host's restart", 4, false),
            ("a restart ten minutes later", 5, false),
            ("the crash itself is no change", 0, false),
        ];
        for (name, index, expected) in cases {
            assert_eq!(is_automatic(&events, index), expected, "{name}");
        }
    }

    #[test]
    fn a_step_starts_at_its_first_line_on_its_host() {
        let events = vec![
            line(
                0,
                EventKind::Change,
                "systemd unit",
                Some("web02"),
                "systemd",
                "Stopping app.service - Shop application server...",
            ),
            line(
                1_000,
                EventKind::Change,
                "systemd unit",
                Some("web03"),
                "systemd",
                "Stopping app.service - Shop application server...",
            ),
            line(
                1_500,
                EventKind::Change,
                "systemd unit",
                Some("web03"),
                "systemd",
                "Started app.service - Shop application server.",
            ),
            line(
                60_000,
                EventKind::Change,
                "systemd unit",
                Some("web03"),
                "systemd",
                "Stopping app.service - Shop application server...",
            ),
        ];
        let cases = [
            ("the other host's restart is its own", 2, 1),
            ("a line a minute later is a new step", 3, 3),
            ("the first line is its own start", 0, 0),
        ];
        for (name, index, expected) in cases {
            assert_eq!(step_start(&events, index), expected, "{name}");
        }
    }
}
