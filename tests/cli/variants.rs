//! Generated incidents whose fix is known to the second: the same outage
//! (a bad nginx configuration reloaded, users get 503) written with its
//! times, its hosts and the kind of fix varied (a revert, a rollback by a
//! playbook, a restart, a plain configuration reload, a scale-up, a
//! restart rolled over three hosts), amid the routine lines every host
//! writes (cron, timers, logins, session scopes). Each report must name
//! the fix as the incident's `resolution` to the second, show it as a
//! change row (its own or the folded rollout's), keep the timeline within
//! the contract's 25 rows, and never call a timer or a login a change.

use std::fmt::Write;

use serde_json::Value;

use super::handmade::{LOG_START_MS, Window, nginx_log, requests};
use super::support::{json_report, millis, run, scratch, write};

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;

/// The contract's bound on timeline rows.
const MAX_ROWS: usize = postmortem::detect::timeline::MAX_TIMELINE_ROWS;

#[derive(Clone, Copy, Debug)]
enum Fix {
    /// `git checkout` of the previous configuration, then a reload.
    Revert,
    /// An ansible play `--tags rollback` that reloads nginx.
    Rollback,
    /// `systemctl restart nginx` (stop, start).
    Restart,
    /// A reload with no command logged before it.
    ConfigReload,
    /// nginx started on a new host.
    ScaleUp,
    /// A restart on each of three hosts, the last one the fix.
    RollingRestart,
}

struct Variant {
    name: &'static str,
    fix: Fix,
    /// Minutes of the log (from 10:00 local) in which every request fails.
    bad_minutes: std::ops::Range<i64>,
    /// Seconds into the last bad minute at which the fix's line is logged.
    fix_second: i64,
    /// The hosts that serve the traffic.
    hosts: &'static [&'static str],
}

/// One syslog line at `at_ms` (UTC) as RFC 3339 local time at +01:00.
fn line(lines: &mut Vec<(i64, String)>, at_ms: i64, host: &str, program: &str, text: &str) {
    let local = chrono::DateTime::from_timestamp_millis(at_ms + 3_600_000).expect("valid time");
    lines.push((
        at_ms,
        format!(
            "{}+01:00 {host} {program}: {text}",
            local.format("%Y-%m-%dT%H:%M:%S%.6f")
        ),
    ));
}

const NGINX: &str = "nginx.service - A high performance web server and a reverse proxy server";

/// The lines a reload of nginx on `host` writes, from `at`.
fn reload(lines: &mut Vec<(i64, String)>, at: i64, host: &str) {
    line(
        lines,
        at,
        host,
        "systemd[1]",
        &format!("Reloading {NGINX}..."),
    );
    line(
        lines,
        at + 120,
        host,
        "systemd[1]",
        &format!("Reloaded {NGINX}."),
    );
}

/// The lines a restart of nginx on `host` writes, from `at`.
fn restart(lines: &mut Vec<(i64, String)>, at: i64, host: &str) {
    line(
        lines,
        at,
        host,
        "systemd[1]",
        &format!("Stopping {NGINX}..."),
    );
    line(
        lines,
        at + 200,
        host,
        "systemd[1]",
        &format!("Stopped {NGINX}."),
    );
    line(
        lines,
        at + 300,
        host,
        "systemd[1]",
        &format!("Starting {NGINX}..."),
    );
    line(
        lines,
        at + 500,
        host,
        "systemd[1]",
        &format!("Started {NGINX}."),
    );
}

/// The syslog of a variant, and the time of its fix (UTC ms).
fn syslog(variant: &Variant) -> (String, i64) {
    let start = LOG_START_MS + variant.bad_minutes.start * MINUTE;
    let fix = LOG_START_MS + (variant.bad_minutes.end - 1) * MINUTE + variant.fix_second * SECOND;
    let web = variant.hosts[0];
    let mut lines = Vec::new();
    // Routine lines of every host, all day: none is a change.
    for minute in (0..240).step_by(10) {
        let at = LOG_START_MS + minute * MINUTE + 1_200;
        for host in variant.hosts.iter().chain(&["mon1"]) {
            line(
                &mut lines,
                at,
                host,
                "CRON[4242]",
                "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
            );
        }
    }
    for (offset, unit) in [
        (-45, "apt-daily.service - Daily apt download activities"),
        (7, "man-db.service - Daily man-db regeneration"),
        (9, "logrotate.service - Rotate log files"),
        (
            11,
            "fstrim.service - Discard unused blocks on filesystems from /etc/fstab",
        ),
        (
            13,
            "systemd-tmpfiles-clean.service - Cleanup of Temporary Directories",
        ),
    ] {
        let at = start + offset * MINUTE;
        line(
            &mut lines,
            at,
            web,
            "systemd[1]",
            &format!("Starting {unit}..."),
        );
        line(
            &mut lines,
            at + 900,
            web,
            "systemd[1]",
            &format!("Finished {unit}."),
        );
    }
    // The change that broke it: an edit, then a reload.
    line(
        &mut lines,
        start - 5 * MINUTE,
        web,
        "sshd[901]",
        "Accepted publickey for dev from 10.0.9.4 port 51234 ssh2: ED25519 SHA256:abc",
    );
    line(
        &mut lines,
        start - 5 * MINUTE + 300,
        web,
        "systemd[1]",
        "Started Session 41 of User dev.",
    );
    line(
        &mut lines,
        start - 3 * MINUTE,
        web,
        "sudo",
        "dev : TTY=pts/1 ; PWD=/etc/nginx ; USER=root ; COMMAND=/usr/bin/vim /etc/nginx/conf.d/shop.conf",
    );
    reload(&mut lines, start - 20 * SECOND, web);
    // The alert, and a responder looking around.
    line(
        &mut lines,
        start + 5 * MINUTE,
        "mon1",
        "nagios",
        &format!(
            "SERVICE ALERT: {web};HTTP;CRITICAL;HARD;3;HTTP CRITICAL: HTTP/1.1 503 Service Unavailable"
        ),
    );
    line(
        &mut lines,
        start + 5 * MINUTE,
        "mon1",
        "nagios",
        &format!(
            "SERVICE NOTIFICATION: oncall;{web};HTTP;CRITICAL;notify-service-by-email;HTTP CRITICAL: HTTP/1.1 503 Service Unavailable"
        ),
    );
    line(
        &mut lines,
        start + 9 * MINUTE,
        web,
        "sshd[977]",
        "Accepted publickey for oncall from 10.0.9.7 port 40022 ssh2: ED25519 SHA256:def",
    );
    line(
        &mut lines,
        start + 9 * MINUTE + 400,
        web,
        "systemd[1]",
        "Started Session 42 of User oncall.",
    );
    line(
        &mut lines,
        start + 10 * MINUTE,
        web,
        "sudo",
        "oncall : TTY=pts/2 ; PWD=/home/oncall ; USER=root ; COMMAND=/usr/bin/systemctl status nginx",
    );
    // The fix.
    match variant.fix {
        Fix::Revert => {
            line(
                &mut lines,
                fix - 20 * SECOND,
                web,
                "sudo",
                "oncall : TTY=pts/2 ; PWD=/etc/nginx ; USER=root ; COMMAND=/usr/bin/git -C /etc/nginx checkout HEAD~1 -- conf.d/shop.conf",
            );
            line(
                &mut lines,
                fix - SECOND,
                web,
                "sudo",
                "oncall : TTY=pts/2 ; PWD=/etc/nginx ; USER=root ; COMMAND=/usr/bin/systemctl reload nginx",
            );
            reload(&mut lines, fix, web);
        }
        Fix::Rollback => {
            line(
                &mut lines,
                fix - 9 * SECOND,
                "deploy01",
                "ansible-playbook[5100]",
                "PLAY [shop.yml --tags rollback] user=ops",
            );
            line(
                &mut lines,
                fix - 2 * SECOND,
                web,
                "ansible-ansible.legacy.copy[5101]",
                "Invoked with dest=/etc/nginx/conf.d/shop.conf backup=True mode=0644",
            );
            line(
                &mut lines,
                fix - SECOND,
                web,
                "ansible-ansible.legacy.systemd[5102]",
                "Invoked with name=nginx state=reloaded",
            );
            reload(&mut lines, fix, web);
            line(
                &mut lines,
                fix + 2 * SECOND,
                "deploy01",
                "ansible-playbook[5100]",
                &format!("PLAY RECAP {web} : ok=3 changed=2 unreachable=0 failed=0"),
            );
        }
        Fix::Restart => {
            line(
                &mut lines,
                fix - SECOND,
                web,
                "sudo",
                "oncall : TTY=pts/2 ; PWD=/home/oncall ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
            );
            restart(&mut lines, fix, web);
        }
        Fix::ConfigReload => reload(&mut lines, fix, web),
        Fix::ScaleUp => {
            let new_host = "web09";
            line(
                &mut lines,
                fix,
                new_host,
                "systemd[1]",
                &format!("Starting {NGINX}..."),
            );
            line(
                &mut lines,
                fix + 400,
                new_host,
                "systemd[1]",
                &format!("Started {NGINX}."),
            );
        }
        Fix::RollingRestart => {
            let last = variant.hosts.len() as i64 - 1;
            for (i, host) in variant.hosts.iter().enumerate() {
                restart(&mut lines, fix - (last - i as i64) * 25 * SECOND, host);
            }
        }
    }
    line(
        &mut lines,
        fix + 2 * MINUTE,
        "mon1",
        "nagios",
        &format!("SERVICE ALERT: {web};HTTP;OK;HARD;3;HTTP OK: HTTP/1.1 200 OK"),
    );
    lines.sort_by_key(|(at, _)| *at);
    let mut text = String::new();
    for (_, l) in lines {
        let _ = writeln!(text, "{l}");
    }
    (text, fix)
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "revert after 70 min",
        fix: Fix::Revert,
        bad_minutes: 60..130,
        fix_second: 41,
        hosts: &["web01"],
    },
    Variant {
        name: "rollback after 25 min",
        fix: Fix::Rollback,
        bad_minutes: 90..115,
        fix_second: 17,
        hosts: &["web02"],
    },
    Variant {
        name: "restart after 40 min",
        fix: Fix::Restart,
        bad_minutes: 75..115,
        fix_second: 52,
        hosts: &["web03"],
    },
    Variant {
        name: "plain reload after 1 h 30 min",
        fix: Fix::ConfigReload,
        bad_minutes: 70..160,
        fix_second: 8,
        hosts: &["web01"],
    },
    Variant {
        name: "scale-up after 50 min",
        fix: Fix::ScaleUp,
        bad_minutes: 65..115,
        fix_second: 33,
        hosts: &["web01", "web02"],
    },
    Variant {
        name: "restart rolled over three hosts",
        fix: Fix::RollingRestart,
        bad_minutes: 80..140,
        fix_second: 55,
        hosts: &["web01", "web02", "web03"],
    },
];

/// Words of lines that are never a change: logins, sessions, timers.
const NOT_CHANGES: &[&str] = &[
    "sshd",
    "Session",
    "CRON",
    "apt-daily",
    "man-db",
    "logrotate",
    "fstrim",
    "tmpfiles",
];

#[test]
fn each_generated_fix_is_the_resolution_to_the_second_within_the_row_bound() {
    for variant in VARIANTS {
        let name = variant.name;
        let dir = scratch();
        let windows = [Window {
            minutes: variant.bad_minutes.clone(),
            hit: |_| true,
            status: 503,
            latency_ms: 2,
        }];
        write(
            dir.path(),
            "access.log",
            &nginx_log(&requests(240, &windows)),
        );
        let (syslog, fix_at) = syslog(variant);
        write(dir.path(), "syslog", &syslog);
        let path = dir.path().to_str().expect("utf-8 path");
        let report = json_report(&[path]);
        let incidents = report["incidents"].as_array().expect("incidents");
        assert_eq!(incidents.len(), 1, "{name}: one incident");
        let incident = &incidents[0];
        let resolution = &incident["resolution"];
        let at = resolution["at"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a resolution: {resolution}"));
        assert_eq!(
            millis(at),
            fix_at,
            "{name}: the fix to the second: {resolution}"
        );
        let timeline = incident["timeline"].as_array().expect("timeline");
        assert!(
            timeline.len() <= MAX_ROWS,
            "{name}: {} rows",
            timeline.len()
        );
        let holding = timeline.iter().filter(|e| {
            e["kind"] == "change"
                && e["at"]
                    .as_str()
                    .is_some_and(|row_at| millis(row_at) <= fix_at)
                && e["last_at"]
                    .as_str()
                    .is_some_and(|last| millis(last) >= fix_at)
        });
        assert!(
            holding.count() >= 1,
            "{name}: a change row holds the fix: {timeline:#?}"
        );
        for row in timeline.iter().filter(|e| e["kind"] == "change") {
            let text = row["text"].as_str().unwrap_or_default();
            assert!(
                !NOT_CHANGES.iter().any(|word| text.contains(word)),
                "{name}: not a change: {text}"
            );
        }
        // The Markdown names the fix in Root Cause and Resolution, at its
        // local time.
        let markdown = run(&["report", "--quiet", path]);
        let markdown = String::from_utf8_lossy(&markdown.stdout);
        let local =
            chrono::DateTime::from_timestamp_millis(fix_at + 3_600_000).expect("valid time");
        let resolution_section = markdown
            .split("### Resolution")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: a Resolution section"));
        assert!(
            resolution_section.contains(&local.format("%H:%M:%S").to_string()),
            "{name}: {resolution_section}"
        );
    }
}

/// A restart rolled over three hosts is one row naming them, whose last
/// line is the last host's (the resolution) and not a second row.
#[test]
fn a_rolling_restart_is_one_row_holding_the_resolution() {
    let variant = &VARIANTS[5];
    let dir = scratch();
    let windows = [Window {
        minutes: variant.bad_minutes.clone(),
        hit: |_| true,
        status: 503,
        latency_ms: 2,
    }];
    write(
        dir.path(),
        "access.log",
        &nginx_log(&requests(240, &windows)),
    );
    let (syslog, fix_at) = syslog(variant);
    write(dir.path(), "syslog", &syslog);
    let report = json_report(&[dir.path().to_str().expect("utf-8 path")]);
    let rollout: Vec<&Value> = report["incidents"][0]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| {
            e["kind"] == "change"
                && e["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Stopping nginx"))
        })
        .collect();
    assert_eq!(rollout.len(), 1, "the rollout is one row: {rollout:#?}");
    let row = rollout[0];
    assert!(
        row["text"]
            .as_str()
            .is_some_and(|t| t.contains("web01, web02, web03")),
        "{row:#?}"
    );
    assert_eq!(
        millis(row["at"].as_str().unwrap_or_default()),
        fix_at - 50 * SECOND,
        "the first host"
    );
    assert_eq!(row["count"], 12, "four lines on each of three hosts");
}
