//! Log events and the one table that classifies them.
//!
//! Every syslog or error-log message is matched against [`RULES`], in table
//! order, as the text `program: message` (the pid left out). The first rule
//! that matches decides: an [`EventKind::Alert`] (Nagios/Icinga, Alertmanager,
//! Monit, Zabbix, `--alert-pattern`), a [`EventKind::Recovery`] (their "OK"
//! lines: timeline entries, never detection), a [`EventKind::Change`]
//! (deploys, reloads, restarts, package and configuration-management runs),
//! an [`EventKind::Event`] (OOM kills, crashes, disk full, link down/up,
//! upstream failures), or nothing at all ([`Class::Ignore`], for noise that
//! would otherwise pass as an error, and for logins, timers and periodic
//! jobs, which change nothing people deployed). A message no rule matches is
//! an event when its severity is `warning` or worse, and is not kept
//! otherwise.
//!
//! Before the table, a line that records a command someone ran (`sudo`,
//! bash history, snoopy, auditd: [`super::commands`]) is classified by that
//! command alone: a configuration write, package or deploy step is a
//! [`EventKind::Change`], anything else an [`EventKind::Action`] (an
//! investigation, a mitigation attempt, or an unclassified command).
//!
//! The rules are compiled once into a [`regex::bytes::RegexSet`] (one pass of
//! a lazy DFA over the text, whatever the number of rules); each rule carries
//! a real-looking line that the tests check it classifies.

use std::sync::LazyLock;

use regex::bytes::RegexSet;

use super::commands::{self, CommandClass};
use crate::series::LineRef;
use crate::timefmt::Millis;

/// What a kept log line is, as the timeline uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Monitoring said something is wrong: a detection candidate.
    Alert,
    /// Monitoring said it is fine again: shown, never a detection.
    Recovery,
    /// Someone or something changed the system.
    Change,
    /// Something notable happened on its own.
    Event,
    /// Someone ran a command that changed no configuration: a look or a
    /// mitigation attempt (the rule names which, see
    /// [`super::commands::ActionClass`]).
    Action,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Alert => "alert",
            EventKind::Recovery => "recovery",
            EventKind::Change => "change",
            EventKind::Event => "event",
            EventKind::Action => "action",
        }
    }
}

/// What a rule makes of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Kind(EventKind),
    /// Known noise: not kept even when its severity is high.
    Ignore,
}

/// One row of the classification table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub class: Class,
    /// Matched against `program: message`.
    pub pattern: &'static str,
    /// A line this rule must classify (as `program: message`).
    pub example: &'static str,
}

/// Timers and periodic jobs: they run on a clock, not because someone
/// changed the system, so their start, finish and stop lines are noise. A
/// job that restarts or reloads a service shows as that service's own line
/// (`Reloading nginx.service`), which stays a change. Units by name, then
/// the descriptions older systemd prints instead, then the programs that
/// run jobs (cron, anacron, run-parts, logrotate, certbot).
macro_rules! periodic_units {
    () => {
        r"(?:apt-daily(?:-upgrade)?|logrotate|man-db|fstrim|systemd-tmpfiles-clean|certbot|e2scrub_\w+|e2scrub@\S*|motd-news|phpsessionclean|sysstat-\w+|plocate-updatedb|mlocate|updatedb|fwupd-refresh|dpkg-db-backup|anacron|logwatch|sa-update|ua-timer|update-notifier-\w+|snapd\.refresh|apport-autoreport|shadow|xfs_scrub\w*)"
    };
}
pub const PERIODIC_JOBS_PATTERN: &str = concat!(
    r"^systemd: (?:(?:Starting|Started|Finished|Stopping|Stopped|Reloading|Reloaded) ",
    periodic_units!(),
    r"\.(?:service|timer)\b|",
    periodic_units!(),
    r"\.(?:service|timer): (?:Deactivated successfully|Succeeded|Consumed)",
    r"|(?:Starting|Started|Finished|Stopping|Stopped) (?:Daily apt (?:download|upgrade and clean) activities|Rotate log files|Daily man-db regeneration|Discard unused blocks|Cleanup of Temporary Directories|Certbot|Message of the Day|(?:Remove Stale )?Online ext4 Metadata Check|Clean php session files|Update a database for mlocate|Update the plocate database|Refresh fwupd metadata|Daily dpkg database backup|Run anacron jobs|system activity accounting|Verify integrity of password and group files))",
    r"|^(?:CRON|cron|crond|anacron|run-parts|logrotate|certbot|atd): ",
);

/// Lines of periodic jobs, each with whether [`PERIODIC_JOBS_PATTERN`]
/// makes it noise: the timers of a stock Debian or Ubuntu host, and the
/// lines it must leave to the change rules.
pub const PERIODIC_JOB_LINES: &[(&str, bool)] = &[
    (
        "systemd: Starting apt-daily.service - Daily apt download activities...",
        true,
    ),
    (
        "systemd: Finished apt-daily-upgrade.service - Daily apt upgrade and clean activities.",
        true,
    ),
    (
        "systemd: Starting Daily apt upgrade and clean activities...",
        true,
    ),
    (
        "systemd: Starting logrotate.service - Rotate log files...",
        true,
    ),
    (
        "systemd: Starting man-db.service - Daily man-db regeneration...",
        true,
    ),
    (
        "systemd: Finished fstrim.service - Discard unused blocks on filesystems from /etc/fstab.",
        true,
    ),
    (
        "systemd: Starting systemd-tmpfiles-clean.service - Cleanup of Temporary Directories...",
        true,
    ),
    ("systemd: Starting certbot.service - Certbot...", true),
    (
        "systemd: Started e2scrub_all.timer - Periodic ext4 Online Metadata Check for All Filesystems.",
        true,
    ),
    (
        "systemd: Starting motd-news.service - Message of the Day...",
        true,
    ),
    ("systemd: man-db.service: Deactivated successfully.", true),
    (
        "CRON: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
        true,
    ),
    ("anacron: Job `cron.daily' started", true),
    (
        "systemd: Reloading nginx.service - A high performance web server and a reverse proxy server...",
        false,
    ),
    ("systemd: Stopping The Apache HTTP Server...", false),
    (
        "systemd: Started app.service - Shop application server.",
        false,
    ),
    (
        "systemd: fstrim.service: Failed with result 'exit-code'.",
        false,
    ),
];

const ALERT: Class = Class::Kind(EventKind::Alert);
const RECOVERY: Class = Class::Kind(EventKind::Recovery);
const CHANGE: Class = Class::Kind(EventKind::Change);
const EVENT: Class = Class::Kind(EventKind::Event);

/// The classification table, in priority order: recoveries before alerts
/// (a Nagios `OK` line is also a `SERVICE ALERT`), noise before changes and
/// events, a configuration-management line before the words it carries
/// (`ansible...systemd: Invoked with name=nginx state=reloaded` is the
/// playbook asking; the reload is systemd's own line).
pub const RULES: &[Rule] = &[
    // --- recoveries -------------------------------------------------------
    Rule {
        name: "nagios recovery",
        class: RECOVERY,
        pattern: r"(?:SERVICE|HOST) (?:ALERT|NOTIFICATION): (?:[^;]*;){1,3}(?:OK|UP|RECOVERY)(?:;|$)",
        example: "nagios: SERVICE ALERT: web01;HTTP;OK;HARD;3;HTTP OK: HTTP/1.1 200 OK - 512 bytes",
    },
    Rule {
        name: "alertmanager resolved",
        class: RECOVERY,
        pattern: r#"\bstatus=\\?"?resolved\b|"status"\s*:\s*"resolved""#,
        example: r#"alertmanager: level=info msg="Notify success" receiver=ops status=resolved alertname=HighErrorRate"#,
    },
    Rule {
        name: "monit recovery",
        class: RECOVERY,
        pattern: r"^monit: .*(?:succeeded|process is running|' exists)",
        example: "monit: 'nginx' connection succeeded to INET[localhost:80] via TCP",
    },
    Rule {
        name: "zabbix resolved",
        class: RECOVERY,
        pattern: r"(?i)\bproblem has been resolved\b|\bResolved in \d",
        example: "zabbix_server: Problem has been resolved at 14:40:00 on 2023.11.12 Problem name: Nginx is down",
    },
    // --- alerts -----------------------------------------------------------
    Rule {
        name: "nagios alert",
        class: ALERT,
        pattern: r"(?:SERVICE|HOST) (?:ALERT|NOTIFICATION): (?:[^;]*;){1,3}(?:CRITICAL|WARNING|UNKNOWN|DOWN|UNREACHABLE)(?:;|$)",
        example: "nagios: SERVICE ALERT: web01;HTTP;CRITICAL;HARD;3;CRITICAL - Socket timeout after 10 seconds",
    },
    Rule {
        name: "alertmanager firing",
        class: ALERT,
        pattern: r#"\bstatus=\\?"?firing\b|"status"\s*:\s*"firing""#,
        example: r#"alertmanager: {"receiver":"ops","status":"firing","alerts":[{"labels":{"alertname":"HighErrorRate"}}]}"#,
    },
    Rule {
        name: "monit failure",
        class: ALERT,
        pattern: r"^monit: .*(?:failed|does not exist|not running)",
        example: "monit: 'nginx' failed protocol test [HTTP] at [localhost]:80 [TCP/IP] -- HTTP: Error receiving data",
    },
    Rule {
        name: "zabbix problem",
        class: ALERT,
        pattern: r"(?i)\bproblem started at \d|\bproblem name: ",
        example: "zabbix_server: Problem started at 14:15:04 on 2023.11.12 Problem name: Nginx is down Host: web01",
    },
    // --- noise ------------------------------------------------------------
    Rule {
        name: "logins",
        class: Class::Ignore,
        pattern: r"^(?:sshd|login|su|systemd-logind|gdm-password\]?|sshd-session): |\bsession (?:opened|closed) for user\b|\bNew session \S+ of user\b|\bRemoved session\b",
        example: "sshd: Accepted publickey for deploy from 10.20.0.31 port 40553 ssh2: ED25519 SHA256:q0f8mQ3fJtq9nGk6u8XcRzv1bYh2uWw0sYtq3oQk1Zs",
    },
    Rule {
        name: "periodic jobs",
        class: Class::Ignore,
        pattern: PERIODIC_JOBS_PATTERN,
        example: "systemd: Starting fstrim.service - Discard unused blocks on filesystems from /etc/fstab...",
    },
    Rule {
        name: "login sessions",
        class: Class::Ignore,
        pattern: r"(?i)\bsession[ -]c?\d+|session-\w+\.scope|user@\d+\.service|user manager for uid|user runtime directory|slice user[- ]slice|user slice of",
        example: "systemd: Started Session 4711 of user root.",
    },
    Rule {
        name: "client errors in error logs",
        class: Class::Ignore,
        pattern: r#"open\(\) "[^"]*" failed \(2: No such file or directory\)|directory index of "[^"]*" is forbidden|access forbidden by rule|File does not exist: |AH00128: |AH01276: |AH01630: |client denied by server configuration|script '[^']*' not found or unable to stat"#,
        example: r#"nginx: open() "/var/www/html/favicon.ico" failed (2: No such file or directory), client: 10.0.0.9, server: shop"#,
    },
    Rule {
        name: "automatic restart",
        class: EVENT,
        pattern: r"^systemd: \S+: Scheduled restart job\b",
        example: "systemd: app.service: Scheduled restart job, restart counter is at 1.",
    },
    // --- changes ----------------------------------------------------------
    Rule {
        name: "configuration write",
        class: CHANGE,
        pattern: r"(?i)\b(?:updated|wrote|rewrote|modified|changed|replaced|edited|saved|installed new) (?:(?:config(?:uration)?|settings) (?:file )?)?/etc/\S+|\bconfig(?:uration)? (?:file )?(?:\S+ )?(?:updated|changed|written|modified)\b",
        example: "app-update: Updated /etc/shop-app/app.conf: heap_max=unlimited, cache_eviction=off, worker_recycle=0",
    },
    Rule {
        name: "configuration management",
        class: CHANGE,
        pattern: r"(?i)^(?:puppet(?:-agent)?|chef-client|ansible[\w.-]*|salt-minion|salt-call): |\bapplied catalog\b|\bfinished catalog run\b|\bchef (?:client )?run complete|\bansible-[\w.]+ invoked\b",
        example: "puppet-agent: Applied catalog in 12.31 seconds",
    },
    Rule {
        name: "config reload",
        class: CHANGE,
        pattern: r"(?i)nginx -s reload|\breload(?:ing|ed)\b|apachectl (?:-k )?graceful|graceful restart|\bSIGHUP\b|\breconfiguring\b|\bSIGUSR1 received",
        example: "nginx: signal 1 (SIGHUP) received from 4242, reconfiguring",
    },
    Rule {
        name: "deploy",
        class: CHANGE,
        pattern: r"(?i)\bdeploy(?:ed|ing|ment)?\b|\brolled out\b|\brollout\b|\brolling update\b|\brollback\b|\brolled back\b|\b(?:installing|installed|upgrading|upgraded) [\w.+-]+ v?\d[\w.+~-]* \((?:was|from) ",
        example: "deploy: deployed shop-api v2.14.0 (git 3f9c2e1) to web01",
    },
    Rule {
        name: "systemd unit",
        class: CHANGE,
        pattern: r"^systemd: (?:Started|Stopped|Stopping|Starting|Reloaded|Reloading|Restarting|Restarted)\b",
        example: "systemd: Stopped A high performance web server and a reverse proxy server.",
    },
    Rule {
        name: "package change",
        class: CHANGE,
        pattern: r"(?i)^(?:yum|dnf|dpkg|apt|apt-get|aptitude|rpm|unattended-upgrades?|packagekitd?): .*(?:upgrad|install|remov|updated|erased)|\b(?:apt-get|apt|yum|dnf) (?:-y |-q |--yes )*(?:upgrade|dist-upgrade|install|remove|update)\b|\bstatus installed \S",
        example: "dpkg: status installed nginx-common:all 1.24.0-2",
    },
    Rule {
        name: "haproxy proxy start or stop",
        class: CHANGE,
        pattern: r"^haproxy[\w.-]*: (?:Proxy|Frontend|Backend|Listener) \S+ (?:started|stopped|paused|resumed)\b|^haproxy[\w.-]*: .*\b(?:Loading success|Reexecuting Master process|Stopping (?:proxy|frontend|backend) )",
        example: "haproxy: Proxy prod_http_in started.",
    },
    Rule {
        name: "service start or stop",
        class: CHANGE,
        pattern: r"(?i)\b(?:startup|shutdown) succeeded\b|: restart\.$|\b(?:service|daemon|server|workers?) (?:re)?start(?:ed|ing)\b|\b(?:shutting down|resuming normal operations|caught SIGTERM)\b",
        example: "apache: AH00489: Apache/2.4.57 (Debian) configured -- resuming normal operations",
    },
    // --- events -----------------------------------------------------------
    Rule {
        name: "out of memory",
        class: EVENT,
        pattern: r"(?i)out of memory: kill|\boom-kill|invoked oom-killer|\boom_reaper\b|memory cgroup out of memory|OutOfMemoryError|\bkilled process \d+",
        example: "kernel: Out of memory: Killed process 4242 (java) total-vm:8388608kB, anon-rss:4194304kB",
    },
    Rule {
        name: "crash",
        class: EVENT,
        pattern: r"(?i)\bsegfault\b|core dumped|kernel panic|\bpanic:|general protection fault|exited on signal \d+|terminated by signal|code=(?:killed|dumped)|failed with result|\bfatal error\b|traceback \(most recent call last\)",
        example: "kernel: php-fpm[4242]: segfault at 0 ip 000055d0c8a1b2c3 sp 00007ffd error 4 in php-fpm8.2",
    },
    Rule {
        name: "disk full",
        class: EVENT,
        pattern: r"(?i)no space left on device|\bdisk (?:is )?full\b|\bfile ?system (?:is )?full\b",
        example: "nginx: write() to \"/var/log/nginx/access.log\" failed (28: No space left on device)",
    },
    Rule {
        name: "link down or up",
        class: EVENT,
        pattern: r"(?i)\blink (?:is )?(?:down|up)\b|\bcarrier (?:lost|acquired)\b|\b(?:eth|en|eno|ens|enp|bond|wlan|wl)\w* is (?:up|down)\b",
        example: "kernel: e1000e: eth0 NIC Link is Down",
    },
    Rule {
        name: "upstream failure",
        class: EVENT,
        pattern: r"(?i)upstream timed out|no live upstreams|no server available|upstream prematurely closed|while connecting to upstream|upstream sent too big header|proxy: error reading status line",
        example: "nginx: upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9",
    },
    Rule {
        name: "proxy server state",
        class: EVENT,
        pattern: r"\bServer \S+/\S+ is (?:DOWN|going DOWN|UP|MAINT|DRAIN)\b|\bbackend \S+ has no server available!",
        example: "haproxy: Server www/app1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left.",
    },
    Rule {
        name: "tls handshake failure",
        class: EVENT,
        pattern: r"(?i)\bSSL handshake failure\b|\bSSL_do_handshake\(\) failed\b|\bTLS handshake (?:error|failed|failure)\b",
        example: "haproxy: 95.216.197.33:56224 [25/Feb/2019:16:20:10.111] prod_http_in/sktst2: SSL handshake failure",
    },
    Rule {
        name: "resource exhausted",
        class: EVENT,
        pattern: r"(?i)too many open files|worker_connections are not enough|cannot allocate memory|\bI/O error\b|EXT4-fs error|XFS \(\w+\): .*error|reached MaxRequestWorkers|server reached MaxClients|blocked for more than \d+ seconds|nf_conntrack: table full|too many connections|connection pool exhausted",
        example: "apache: AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting",
    },
];

/// Messages no rule matches are kept as events at this syslog severity or
/// worse (3, `err`; RFC 5424 table 2).
pub const EVENT_SEVERITY: u8 = 3;

/// Rule name of events kept for their severity alone.
pub const SEVERITY_RULE: &str = "error severity";

/// Messages no rule matches are also kept at this severity (4, `warning`):
/// not as timeline rows of their own, but so that a warning whose template
/// appears or jumps at the onset is found (`server reached pm.max_children
/// setting`); see `detect/patterns.rs`.
pub const WARNING_SEVERITY: u8 = 4;

/// Rule name of events kept because they are warnings.
pub const WARNING_RULE: &str = "warning severity";

/// Rule name of alerts matched by `--alert-pattern`.
pub const USER_ALERT_RULE: &str = "--alert-pattern";

static BUILT_IN: LazyLock<RegexSet> = LazyLock::new(|| {
    match RegexSet::new(RULES.iter().map(|rule| rule.pattern)) {
        Ok(set) => set,
        // The table is a constant and its test compiles it: this cannot
        // happen in a tested build, and an empty set keeps lines unclassified.
        Err(_) => RegexSet::empty(),
    }
});

/// The table plus the user's `--alert-pattern`s, compiled once per run.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    user_alerts: Option<RegexSet>,
}

/// What a message was classified as, and by which rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified {
    pub kind: EventKind,
    pub rule: &'static str,
}

impl Classifier {
    /// The built-in table plus `alert_patterns`; the error names the pattern
    /// that does not compile.
    pub fn new(alert_patterns: &[String]) -> Result<Self, String> {
        for pattern in alert_patterns {
            if let Err(error) = regex::bytes::Regex::new(pattern) {
                return Err(format!(
                    "--alert-pattern '{pattern}' is not a regular expression ({error}): give one in the syntax of the regex crate, e.g. 'PagerDuty.*triggered'"
                ));
            }
        }
        let user_alerts = if alert_patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(alert_patterns).map_err(|e| e.to_string())?)
        };
        Ok(Classifier { user_alerts })
    }

    /// Classifies `text` (`program: message`) of a line with `severity`.
    pub fn classify(&self, text: &[u8], severity: Option<u8>) -> Option<Classified> {
        if self
            .user_alerts
            .as_ref()
            .is_some_and(|set| set.is_match(text))
        {
            return Some(Classified {
                kind: EventKind::Alert,
                rule: USER_ALERT_RULE,
            });
        }
        if let Some(classified) = command_record(text) {
            return Some(classified);
        }
        let matches = BUILT_IN.matches(text);
        if let Some(index) = matches.iter().next() {
            let rule = &RULES[index];
            return match rule.class {
                Class::Kind(kind) => Some(Classified {
                    kind,
                    rule: rule.name,
                }),
                Class::Ignore => None,
            };
        }
        severity
            .filter(|&s| s <= WARNING_SEVERITY)
            .map(|s| Classified {
                kind: EventKind::Event,
                rule: if s <= EVENT_SEVERITY {
                    SEVERITY_RULE
                } else {
                    WARNING_RULE
                },
            })
    }
}

/// Markers of the command records [`commands::parse_record`] reads: a line
/// without any of them is not one, and costs no parse.
const COMMAND_RECORD_MARKERS: &[&[u8]] = &[
    b"COMMAND=",
    b"HISTORY: ",
    b"snoopy",
    b"type=USER_CMD",
    b"type=EXECVE",
];

/// The class of a line that records a command someone ran, by the command.
fn command_record(text: &[u8]) -> Option<Classified> {
    if !COMMAND_RECORD_MARKERS
        .iter()
        .any(|marker| memchr::memmem::find(text, marker).is_some())
    {
        return None;
    }
    let record = commands::parse_record(std::str::from_utf8(text).ok()?)?;
    let (class, rule) = commands::classify_command(&record.command);
    let kind = match class {
        CommandClass::Change => EventKind::Change,
        CommandClass::Action(_) => EventKind::Action,
    };
    Some(Classified { kind, rule })
}

/// A kept log line (or a run of identical consecutive ones).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub at: Millis,
    /// When the last of the folded repeats was seen (`at` when not folded).
    pub last_at: Millis,
    pub kind: EventKind,
    /// The rule of [`RULES`] (or [`SEVERITY_RULE`], [`USER_ALERT_RULE`]).
    pub rule: &'static str,
    pub severity: Option<u8>,
    pub host: Option<String>,
    pub program: Option<String>,
    /// The message, continuation lines joined with a space.
    pub text: String,
    /// Where the (first) line is.
    pub line: LineRef,
    /// Lines folded into this event: consecutive repeats and `last message
    /// repeated N times`.
    pub count: u64,
}

impl Event {
    /// `program: text`, the way the line names itself.
    pub fn display_text(&self) -> String {
        match &self.program {
            Some(program) => format!("{program}: {}", self.text),
            None => self.text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_classifies_its_example() {
        assert_eq!(BUILT_IN.len(), RULES.len(), "the table compiles");
        let classifier = Classifier::default();
        for rule in RULES {
            let got = classifier.classify(rule.example.as_bytes(), None);
            let expected = match rule.class {
                Class::Kind(kind) => Some(Classified {
                    kind,
                    rule: rule.name,
                }),
                Class::Ignore => None,
            };
            assert_eq!(got, expected, "{}: {}", rule.name, rule.example);
            if rule.class == Class::Ignore {
                assert!(
                    BUILT_IN.matches(rule.example.as_bytes()).iter().next()
                        == RULES.iter().position(|r| r.name == rule.name),
                    "{}: the ignore rule itself matches",
                    rule.name
                );
            }
        }
    }

    #[test]
    fn lookalikes_are_not_misclassified() {
        let classifier = Classifier::default();
        let kind = |text: &str, severity| {
            classifier
                .classify(text.as_bytes(), severity)
                .map(|c| c.kind)
        };
        let cases = [
            (
                "logrotate's ALERT is not monitoring",
                "logrotate: ALERT exited abnormally with [1]",
                None,
                None,
            ),
            (
                "nagios OK is a recovery",
                "nagios: HOST ALERT: web01;UP;HARD;1;PING OK",
                None,
                Some(EventKind::Recovery),
            ),
            (
                "nagios DOWN is an alert",
                "nagios: HOST ALERT: web01;DOWN;HARD;3;PING CRITICAL",
                None,
                Some(EventKind::Alert),
            ),
            (
                "su failure is not monit",
                "su: 'su root' failed for lonvick on /dev/pts/8",
                None,
                None,
            ),
            (
                "a plain info line",
                "sshd: Accepted publickey for deploy_user",
                None,
                None,
            ),
            (
                "a login as deploy is not a deploy",
                "sshd: Accepted publickey for deploy from 10.0.0.8 port 42920 ssh2",
                Some(5),
                None,
            ),
            (
                "a session opened is not a change",
                "sshd: pam_unix(sshd:session): session opened for user ops(uid=1001) by (uid=0)",
                None,
                None,
            ),
            (
                "a session scope is not a change",
                "systemd: Started session-42.scope - Session 42 of User ops.",
                None,
                None,
            ),
            (
                "an edit of the served config by sudo is a change",
                "sudo:     dev : TTY=pts/1 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/vim /etc/apache2/sites-available/shop.conf",
                Some(5),
                Some(EventKind::Change),
            ),
            (
                "a look by sudo is an action",
                "sudo:   oncall : TTY=pts/0 ; PWD=/home/oncall ; USER=root ; COMMAND=/usr/bin/systemctl status mysql",
                Some(5),
                Some(EventKind::Action),
            ),
            (
                "a sudo reload is an action, not a config reload",
                "sudo:   oncall : TTY=pts/2 ; PWD=/etc/apache2 ; USER=root ; COMMAND=/usr/bin/systemctl reload apache2",
                Some(5),
                Some(EventKind::Action),
            ),
            (
                "a sudo run by a user called deploy is no deploy",
                "sudo:   deploy : TTY=pts/2 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/tail /var/log/syslog",
                Some(5),
                Some(EventKind::Action),
            ),
            (
                "a configuration write is a change",
                "app-update: Updated /etc/shop-app/app.conf: heap_max=unlimited",
                Some(6),
                Some(EventKind::Change),
            ),
            (
                "an application upgrade is a change",
                "app-update: Installing shop-app 2023.11.3 (was 2023.11.2)",
                Some(6),
                Some(EventKind::Change),
            ),
            (
                "a crash restart is not a change",
                "systemd: app.service: Scheduled restart job, restart counter is at 1.",
                None,
                Some(EventKind::Event),
            ),
            (
                "err severity keeps a line",
                "app: could not reach payment gateway",
                Some(3),
                Some(EventKind::Event),
            ),
            (
                "warning severity keeps a line too",
                "app: cache miss ratio high",
                Some(4),
                Some(EventKind::Event),
            ),
            (
                "notice severity does not",
                "app: cache miss ratio high",
                Some(5),
                None,
            ),
            (
                "noise beats severity",
                r#"nginx: open() "/x.php" failed (2: No such file or directory)"#,
                Some(3),
                None,
            ),
            (
                "link down from lnav",
                "foo: eth0 is down",
                None,
                Some(EventKind::Event),
            ),
            (
                "systemd session is noise",
                "systemd: Started Session c12 of User gdm.",
                None,
                None,
            ),
            (
                "haproxy proxy start is a change, not systemd",
                "haproxy: Proxy prod_http_in started.",
                None,
                Some(EventKind::Change),
            ),
        ];
        for (name, text, severity, expected) in cases {
            assert_eq!(kind(text, severity), expected, "{name}");
        }
    }

    #[test]
    fn periodic_jobs_are_noise_and_services_are_not() {
        let classifier = Classifier::default();
        let periodic = regex::bytes::Regex::new(PERIODIC_JOBS_PATTERN).expect("compiles");
        for &(line, noise) in PERIODIC_JOB_LINES {
            assert_eq!(periodic.is_match(line.as_bytes()), noise, "{line}");
            if noise {
                assert_eq!(
                    classifier.classify(line.as_bytes(), Some(3)),
                    None,
                    "{line}"
                );
            } else {
                assert!(
                    classifier.classify(line.as_bytes(), Some(3)).is_some(),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn user_patterns_make_alerts_and_bad_ones_are_refused() {
        let classifier = Classifier::new(&["PagerDuty.*triggered".to_string()]).expect("compiles");
        let got = classifier.classify(b"pd-bridge: PagerDuty incident 42 triggered", None);
        assert_eq!(
            got,
            Some(Classified {
                kind: EventKind::Alert,
                rule: USER_ALERT_RULE
            })
        );
        let error = Classifier::new(&["(unclosed".to_string()]).expect_err("refused");
        assert!(error.contains("--alert-pattern '(unclosed'"), "{error}");
    }
}
