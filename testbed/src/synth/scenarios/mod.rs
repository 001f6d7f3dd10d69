//! The bundled scenarios, each modelled on one of the hand-written
//! postmortems in `shared/seeds`, and the README that describes them.

use std::fmt::Write as _;
use std::io;

use super::clock::{Zone, local_hms};
use super::expected::Expected;
use super::scenario::{GeneratedScenario, ScenarioFile};

mod alb_slow_target;
mod bad_config;
mod builder;
mod envoy_upstream_refused;
mod full_outage;
mod haproxy_reload;
mod iis_app_pool;
mod memory_leak;
mod quiet;
mod slow_degradation;
mod traffic_gap;
mod uneven_lb;

/// Every scenario, in the order the README lists them.
pub const SCENARIO_NAMES: [&str; 11] = [
    "memory-leak",
    "quiet",
    "bad-config",
    "full-outage",
    "uneven-lb",
    "slow-degradation",
    "traffic-gap",
    "haproxy-reload",
    "envoy-upstream-refused",
    "alb-slow-target",
    "iis-app-pool",
];

/// Generates the scenario called `name`; `None` for an unknown name.
pub fn generate_scenario(name: &str) -> Option<io::Result<GeneratedScenario>> {
    match name {
        "memory-leak" => Some(memory_leak::generate()),
        "quiet" => Some(quiet::generate()),
        "bad-config" => Some(bad_config::generate()),
        "full-outage" => Some(full_outage::generate()),
        "uneven-lb" => Some(uneven_lb::generate()),
        "slow-degradation" => Some(slow_degradation::generate()),
        "traffic-gap" => Some(traffic_gap::generate()),
        "haproxy-reload" => Some(haproxy_reload::generate()),
        "envoy-upstream-refused" => Some(envoy_upstream_refused::generate()),
        "alb-slow-target" => Some(alb_slow_target::generate()),
        "iis-app-pool" => Some(iis_app_pool::generate()),
        _ => None,
    }
}

/// Purposes of the independent random streams of a scenario.
mod purpose {
    pub const POPULATION: u64 = 1;
    pub const SITE: u64 = 2;
    pub const TRAFFIC: u64 = 3;
    pub const SYSLOG: u64 = 4;
    pub const METRICS: u64 = 5;
    pub const EXTRA: u64 = 6;
}

/// The fixed part of `sample-logs/README.md`, before the scenario table.
const README_INTRODUCTION: &str = r#"# Sample logs

Realistic logs of web-stack incidents, each modelled on one of the hand-written
postmortems in `shared/seeds`, with the exact ground truth of each in
`expected/<scenario>.json` (kept out of the scenario's folder, so that
`postmortem report sample-logs/<scenario>` reads logs only).

Everything here is generated: do not edit it by hand. Regenerate with

```
cargo run --release --example synth -- sample-logs                        # all, and this README
cargo run --release --example synth -- sample-logs --scenario memory-leak # one scenario
cargo run --release --example synth -- --bench-lines 5000000 --out /tmp/big.log
```

`tests/synth.rs` fails when a file here differs from what the generator writes.

## How the truth is computed

The generator knows every request it wrote; `expected/<scenario>.json` follows
`report-contract.md` to the letter, using the request times *as a tool can
reconstruct them from the log*:

- nginx layouts print the completion second (`$time_local`, `$time_iso8601`), so
  arrival = printed second − `$request_time` (millisecond resolution); Apache `%t`
  is the arrival second. Both servers write lines in completion order, so Apache's
  `%t` is not monotonic around slow requests.
- failed = status ≥ 500 or 499; slow = request time > 1 s (`slow_threshold_s`; every
  baseline p99 is ≤ 250 ms, so the default max(1 s, 4 × p99) is exactly 1 s);
  bad = failed or slow; `requests_slow` counts slow requests that did not fail.
- start = the first bad request arriving inside the injected window
  (`injected.from`..`injected.to`), end = the last one; for a traffic drop, start =
  the last request before the silence and end = the first after it.
- the impact counts requests arriving in [start, end]; a user is client address +
  user agent (`impact_users_ip` repeats the user counts with the address alone).
- `detected` is the first alert line (Nagios `SERVICE ALERT: ...;CRITICAL;HARD;...`,
  an Alertmanager notification with `status=firing`) at or after start; recovery
  lines (`OK`, `status=resolved`) are not detections. Without an alert line,
  detection is left to the tool's burn-rate rule and `detected` is absent.
- severity: `outage` when ≥ 90 % of the requests in the incident failed or
  traffic vanished, `degradation` when ≤ 5 % of the bad requests failed, else
  `partial-outage`.
- `users_missing` (traffic drops): mean distinct users per clock minute over the 60
  whole minutes before the minute of start, × the silence in minutes, rounded.
- `baseline` gives latency quantiles of the requests before the injected window.
- syslog and error-log lines without a zone (RFC 3164, Apache and nginx error
  logs) are written in the access log's zone: same machines, same clock.

Files larger than 8 MB are gzipped (`.gz`); the tool reads them as they are.

## Scenarios

| scenario | zone | access log | start | end | severity | affected / active users | detected |
| --- | --- | --- | --- | --- | --- | --- | --- |
"#;

/// `sample-logs/README.md`: what each scenario models and its truth.
pub fn readme(scenarios: &[GeneratedScenario]) -> String {
    let mut text = String::from(README_INTRODUCTION);
    for scenario in scenarios {
        let expected = &scenario.expected;
        let access_rows = file_rows(&scenario.files);
        let access = access_rows
            .iter()
            .find(|row| row.kind == "access")
            .map_or("-", |row| row.name.as_str());
        match expected.incidents.first() {
            Some(incident) => {
                let _ = writeln!(
                    text,
                    "| [{}](#{}) | {} | `{}` ({}) | {} | {} | {} | {} / {} ({} %) | {} |",
                    scenario.name,
                    scenario.name,
                    expected.zone,
                    access,
                    expected.access_format,
                    incident.start,
                    incident.end,
                    incident.severity,
                    incident.impact.users_affected,
                    incident.impact.users_active,
                    incident.impact.affected_pct,
                    incident
                        .detected
                        .as_ref()
                        .map_or_else(|| "rule (tool)".to_string(), |detected| detected.at.clone()),
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "| [{}](#{}) | {} | `{}` ({}) | – | – | no incident | – | – |",
                    scenario.name, scenario.name, expected.zone, access, expected.access_format
                );
            }
        }
    }
    for scenario in scenarios {
        let _ = write!(text, "\n### {}\n\n{}\n\n", scenario.name, scenario.title);
        text.push_str(scenario.story.trim_end());
        text.push_str("\n\n");
        text.push_str(&truth_summary(&scenario.expected, scenario.zone));
        text.push_str("\n| file | kind | format | lines |\n| --- | --- | --- | --- |\n");
        for row in file_rows(&scenario.files) {
            let _ = writeln!(
                text,
                "| `{}` | {} | {} | {} |",
                row.name, row.kind, row.format, row.lines
            );
        }
    }
    text
}

/// More files than this in one folder, of one kind and format, are listed
/// as one row (a load balancer's file per 5 minutes).
const MAX_LISTED_FILES: usize = 4;

/// One row of a scenario's file table.
struct FileRow {
    name: String,
    kind: &'static str,
    format: String,
    lines: u64,
}

/// The rows of a scenario's file table, in file order: each file, or one
/// row `folder/*.ext (N files)` for a folder of many alike.
fn file_rows(files: &[ScenarioFile]) -> Vec<FileRow> {
    let folder = |name: &str| {
        name.rsplit_once('/')
            .map_or("", |(folder, _)| folder)
            .to_string()
    };
    let mut rows: Vec<FileRow> = Vec::new();
    let mut index = 0;
    while index < files.len() {
        let first = &files[index].facts;
        let group = files[index..]
            .iter()
            .take_while(|file| {
                folder(&file.facts.name) == folder(&first.name)
                    && file.facts.kind == first.kind
                    && file.facts.format == first.format
            })
            .count();
        if group > MAX_LISTED_FILES {
            // `log.gz` of `..._10.0.0.85_x7k2.log.gz`: the last extension,
            // with the one before it when the last is a compression's.
            let file = first.name.rsplit('/').next().unwrap_or_default();
            let mut extensions = file.rsplitn(3, '.');
            let last = extensions.next().unwrap_or_default();
            let extension = match extensions.next() {
                Some(before) if last == "gz" => format!("{before}.{last}"),
                _ => last.to_string(),
            };
            rows.push(FileRow {
                name: format!("{}/*.{extension} ({group} files)", folder(&first.name)),
                kind: first.kind,
                format: first.format.clone(),
                lines: files[index..index + group]
                    .iter()
                    .map(|file| file.facts.lines)
                    .sum(),
            });
            index += group;
        } else {
            rows.push(FileRow {
                name: first.name.clone(),
                kind: first.kind,
                format: first.format.clone(),
                lines: first.lines,
            });
            index += 1;
        }
    }
    rows
}

/// A few lines stating a scenario's truth in the logs' own zone.
fn truth_summary(expected: &Expected, zone: Zone) -> String {
    let mut text = String::new();
    let offset = zone.rfc3339_suffix();
    let _ = writeln!(
        text,
        "Seed {}; {} requests from {} distinct users between {} and {}; baseline p99 {}.",
        expected.seed,
        expected.log.requests,
        expected.log.users,
        expected.log.first_arrival,
        expected.log.last_arrival,
        expected.baseline.p99_s.map_or_else(
            || "n/a (no request time in the log)".to_string(),
            |p99| format!("{p99} s")
        ),
    );
    if expected.incidents.is_empty() {
        text.push_str("\nTruth: no incident (`\"incidents\": []`).\n");
    }
    for incident in &expected.incidents {
        let local = |rfc: &str| {
            parse_utc_ms(rfc).map_or_else(
                || rfc.to_string(),
                |ms| format!("{} {offset}", local_hms(ms, zone)),
            )
        };
        let _ = writeln!(
            text,
            "\nTruth: {} from {} to {} ({} to {} local), {} s; {} of {} users affected ({} %), \
             {} of {} requests failed and {} more were slow.{}{}",
            incident.severity,
            incident.start,
            incident.end,
            local(&incident.start),
            local(&incident.end),
            incident.duration_s,
            incident.impact.users_affected,
            incident.impact.users_active,
            incident.impact.affected_pct,
            incident.impact.requests_failed,
            incident.impact.requests_total,
            incident.impact.requests_slow,
            incident.detected.as_ref().map_or_else(
                || " No alert line: detection is the tool's burn-rate (or traffic) rule."
                    .to_string(),
                |detected| format!(" Detected at {} by `{}`.", detected.at, detected.evidence)
            ),
            incident
                .impact
                .users_missing
                .map_or_else(String::new, |missing| format!(
                    " Users missing (estimate): {missing}."
                )),
        );
    }
    text
}

/// Parses the `YYYY-MM-DDTHH:MM:SS[.mmm]Z` this module writes.
fn parse_utc_ms(text: &str) -> Option<i64> {
    let body = text.strip_suffix('Z')?;
    let (date, time) = body.split_once('T')?;
    let mut date_parts = date.split('-').map(str::parse::<u32>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let (clock, millis) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock_parts = clock.split(':').map(str::parse::<u32>);
    let (hour, minute, second) = (
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
        clock_parts.next()?.ok()?,
    );
    let millis: i64 = millis.parse().ok()?;
    let base = super::clock::epoch_ms(Zone::UTC, (year as i32, month, day), (hour, minute, second));
    Some(base + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::clock::rfc3339_utc;

    #[test]
    fn parses_what_it_writes() {
        for ms in [1_699_797_603_000_i64, 1_699_797_603_517] {
            assert_eq!(parse_utc_ms(&rfc3339_utc(ms)), Some(ms));
        }
    }
}
