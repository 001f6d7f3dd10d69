//! Changes, the resolution and what people did, end to end on the bundled
//! samples: the fix of each sample (known to the second from its generator,
//! `testbed/src/synth/scenarios/`) is the incident's `resolution`; no login,
//! timer or periodic job is a change row; the responders' commands become
//! `action` rows and prefill Misleading Investigation Paths.

use serde_json::Value;

use super::support::{json_report, millis, postmortem, repo_root};

fn sample(name: &str) -> String {
    repo_root()
        .join("sample-logs")
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

fn incidents(report: &Value) -> &Vec<Value> {
    report["incidents"].as_array().expect("incidents")
}

#[test]
fn each_samples_fix_is_its_resolution() {
    // (sample, resolution at, text it starts with, source line)
    let cases = [
        (
            "bad-config: the revert reload, not the reload that broke it",
            "bad-config",
            Some((
                "2022-03-27T15:45:09Z",
                "systemd: Reloading The Apache HTTP Server",
                "sample-logs/bad-config/syslog:155",
            )),
        ),
        (
            "full-outage: the rollback's nginx reload",
            "full-outage",
            Some((
                "2023-08-17T16:52:06Z",
                "systemd: Reloading nginx.service",
                "sample-logs/full-outage/syslog:89",
            )),
        ),
        (
            "memory-leak: the last host's restart after the revert",
            "memory-leak",
            Some((
                "2023-11-12T16:59:31Z",
                "systemd: Stopping app.service",
                "sample-logs/memory-leak/syslog:571",
            )),
        ),
        (
            "slow-degradation: the php-fpm reload of the fixed pool, after the last slow request",
            "slow-degradation",
            Some((
                "2024-05-09T21:54:40Z",
                "systemd: Reloading php8.2-fpm.service",
                "sample-logs/slow-degradation/syslog:953",
            )),
        ),
        (
            "uneven-lb: the ingress controller's reload that removed the hash annotation",
            "uneven-lb",
            Some((
                "2024-03-05T12:14:19Z",
                "ingress-nginx-controller: ",
                "sample-logs/uneven-lb/journal.log:213",
            )),
        ),
        (
            "traffic-gap: the link came back, nobody changed anything",
            "traffic-gap",
            None,
        ),
    ];
    for (name, dir, expected) in cases {
        let report = json_report(&[&sample(dir)]);
        let resolution = &incidents(&report)[0]["resolution"];
        match expected {
            Some((at, text, source)) => {
                assert_eq!(resolution["at"], at, "{name}");
                assert!(
                    resolution["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(text)),
                    "{name}: {resolution}"
                );
                assert!(
                    resolution["source"]
                        .as_str()
                        .is_some_and(|s| s.ends_with(source)),
                    "{name}: {resolution}"
                );
                let timeline = incidents(&report)[0]["timeline"]
                    .as_array()
                    .expect("timeline");
                // Its own row; a restart rolled over several hosts
                // (memory-leak's three) is the folded row that holds it,
                // shown once.
                let holding: Vec<&Value> = timeline
                    .iter()
                    .filter(|e| {
                        e["kind"] == "change"
                            && e["at"]
                                .as_str()
                                .is_some_and(|row| millis(row) <= millis(at))
                            && e["last_at"]
                                .as_str()
                                .is_some_and(|last| millis(last) >= millis(at))
                            && e["text"].as_str().is_some_and(|t| t.contains(text))
                    })
                    .collect();
                assert_eq!(
                    holding.len(),
                    1,
                    "{name}: one row holds the resolution: {holding:#?}"
                );
                if !name.starts_with("memory-leak") {
                    assert!(
                        holding[0]["at"] == at && holding[0]["source"] == resolution["source"],
                        "{name}: the resolution is a row of its own: {holding:#?}"
                    );
                }
            }
            None => assert_eq!(resolution, &Value::Null, "{name}"),
        }
    }
}

#[test]
fn no_login_timer_or_periodic_job_is_a_change() {
    let not_changes = [
        "sshd",
        "session",
        "CRON",
        "apt-daily",
        "man-db",
        "fstrim",
        "systemd-tmpfiles-clean",
        "logrotate",
    ];
    for dir in [
        "bad-config",
        "full-outage",
        "memory-leak",
        "quiet",
        "slow-degradation",
        "traffic-gap",
        "uneven-lb",
        "haproxy-reload",
        "envoy-upstream-refused",
    ] {
        let report = json_report(&[&sample(dir)]);
        for incident in incidents(&report) {
            for entry in incident["timeline"].as_array().expect("timeline") {
                let text = entry["text"].as_str().expect("text");
                if entry["kind"] == "change" {
                    for word in not_changes {
                        assert!(!text.contains(word), "{dir}: {text}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_last_change_before_impact_is_the_served_reload() {
    let cases = [
        (
            "bad-config",
            "2022-03-27T14:29:52Z",
            "Reloading The Apache HTTP Server",
        ),
        (
            "full-outage",
            "2023-08-17T16:12:29Z",
            "Reloading nginx.service",
        ),
    ];
    for (dir, at, text) in cases {
        let report = json_report(&[&sample(dir)]);
        let lead = &incidents(&report)[0]["leads"]["last_change_before"];
        assert_eq!(lead["at"], at, "{dir}");
        assert!(
            lead["text"].as_str().is_some_and(|t| t.contains(text)),
            "{dir}: {lead}"
        );
    }
}

#[test]
fn bad_configs_responders_are_in_the_report() {
    let report = json_report(&[&sample("bad-config")]);
    let actions: Vec<(&str, &str)> = incidents(&report)[0]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "action")
        .map(|e| {
            (
                e["at"].as_str().unwrap_or(""),
                e["text"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        actions.contains(&(
            "2022-03-27T15:15:41Z",
            "Action: oncall on db1 looked at the database: systemctl status mysql, mysqladmin processlist, tail -n 200 /var/log/mysql/error.log"
        )),
        "{actions:#?}"
    );
    assert!(
        actions.contains(&(
            "2022-03-27T15:00:06.650Z",
            "Action: dev on web1 tried to mitigate on the web server: systemctl restart apache2"
        )),
        "{actions:#?}"
    );
    let output = postmortem()
        .args(["report", "--quiet", &sample("bad-config")])
        .output()
        .expect("the binary runs");
    let markdown = String::from_utf8_lossy(&output.stdout);
    let paths = markdown
        .split("## Misleading Investigation Paths")
        .nth(1)
        .and_then(|rest| rest.split("## Escalation").next())
        .expect("the section");
    assert!(
        paths.contains("16:15:41–16:21:56 oncall on db1 looked at the database: systemctl status mysql, mysqladmin processlist"),
        "{paths}"
    );
    assert!(
        !paths.contains("oncall on web1"),
        "the look at web1's config led to the fix: {paths}"
    );
}
