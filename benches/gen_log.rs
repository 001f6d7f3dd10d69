//! `cargo bench --bench gen_log -- --lines 5000000 --out /tmp/pm-5m.log`:
//! writes the benchmark log (nginx combined + `$request_time`, one day, ~50k
//! users, a 30-minute incident at 12:00 local) with the generator in
//! `testbed/src/bench_log.rs`. Deterministic for a seed (`--seed`, default 1).
//!
//! `--format haproxy` or `--format alb` writes the same traffic and the same
//! incident as the load balancer in front of the shop would log it:
//! HAProxy's `option httplog` through syslog (RFC 3164 header, the accept
//! date in brackets, `Ta` in ms, termination states) or the AWS Application
//! Load Balancer's access log in its documented field order (UTC,
//! `request_creation_time`, `-1` times when no target answered);
//! `--format nginx` (the default) is the benchmark log itself.
//! `benches/end_to_end.sh` (`FORMATS=1`) times the three side by side.
//!
//! `cargo bench --bench gen_log -- --week --out DIR [--scale F]`: writes the
//! week of 4 hosts' rotated, gzipped logs (35 M lines at scale 1) below DIR
//! with `testbed/src/bench_week.rs`.
//!
//! `cargo bench --bench gen_log -- --span 30d --lines N --out FILE`: writes
//! N requests spread evenly over the span (nginx combined + request time,
//! with `testbed/src/exact.rs`, 500 users) with a 30-minute outage of 502s
//! in its middle: a sparse month and a dense hour of the same lines, to
//! check that the report's cost follows the lines, not the span.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Instant;

use postmortem_testbed::bench_log::{GenOptions, GenSummary, Layout, write_log};
use postmortem_testbed::bench_week::{WeekOptions, write_week};
use postmortem_testbed::exact::{LogStyle, spread_with_outage};

/// Lines written when `--lines` is not given: the 5 million of BENCHMARKS.md.
const DEFAULT_LINES: u64 = 5_000_000;
/// Output buffer: large writes keep the generator from waiting on syscalls.
const WRITE_BUFFER_BYTES: usize = 4 << 20;

const USAGE: &str = "usage: cargo bench --bench gen_log -- --out FILE [--lines N] [--seed S] [--format nginx|haproxy|alb] [--layout combined+request_time|combined|common|haproxy|aws-alb], or --week --out DIR [--scale F] [--seed S], or --span DURATION --lines N --out FILE";

/// Where a `--span` log starts: 2024-05-01T00:00:00Z.
const SPAN_FROM_MS: i64 = 1_714_521_600_000;
/// Users of a `--span` log.
const SPAN_USERS: u32 = 500;
/// The outage in the middle of a `--span` log: 30 minutes.
const SPAN_OUTAGE_MS: i64 = 30 * 60_000;

fn main() -> ExitCode {
    let mut lines = DEFAULT_LINES;
    let mut seed = 1u64;
    let mut out = None;
    let mut layout = Layout::CombinedRequestTime;
    let mut week = false;
    let mut scale = 1.0f64;
    let mut span_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
        };
        let parsed: Result<(), String> = match arg.as_str() {
            "--lines" => value("--lines").and_then(|v| {
                v.replace('_', "")
                    .parse()
                    .map(|n| lines = n)
                    .map_err(|e| format!("--lines '{v}': {e}; give a whole number"))
            }),
            "--seed" => value("--seed").and_then(|v| {
                v.parse()
                    .map(|n| seed = n)
                    .map_err(|e| format!("--seed '{v}': {e}; give a whole number"))
            }),
            "--out" => value("--out").map(|v| out = Some(v)),
            "--week" => {
                week = true;
                Ok(())
            }
            "--scale" => value("--scale").and_then(|v| match v.parse::<f64>() {
                Ok(n) if n > 0.0 && n.is_finite() => {
                    scale = n;
                    Ok(())
                }
                _ => Err(format!(
                    "--scale '{v}': give a positive number (1 is 35 M lines)"
                )),
            }),
            // The server that writes the log: the names BENCHMARKS.md uses.
            "--format" => value("--format").and_then(|v| {
                layout = match v.as_str() {
                    "nginx" => Layout::CombinedRequestTime,
                    "haproxy" => Layout::HaProxy,
                    "alb" | "aws-alb" => Layout::AwsAlb,
                    other => {
                        return Err(format!(
                            "--format '{other}' is unknown: give nginx, haproxy or alb; {USAGE}"
                        ));
                    }
                };
                Ok(())
            }),
            "--span" => value("--span").and_then(|v| {
                postmortem::parse_duration_us(&v)
                    .filter(|&us| us >= 1_000)
                    .map(|us| span_ms = Some((us / 1_000) as i64))
                    .ok_or_else(|| format!("--span '{v}' is not a duration: use e.g. 30d or 1h"))
            }),
            "--layout" => value("--layout").and_then(|v| {
                layout = match v.as_str() {
                    "combined+request_time" => Layout::CombinedRequestTime,
                    "combined" => Layout::Combined,
                    "common" => Layout::Common,
                    "haproxy" => Layout::HaProxy,
                    "aws-alb" => Layout::AwsAlb,
                    other => return Err(format!("--layout '{other}' is unknown; {USAGE}")),
                };
                Ok(())
            }),
            // cargo bench passes --bench to every bench target.
            "--bench" => Ok(()),
            other => Err(format!("unknown argument '{other}'; {USAGE}")),
        };
        if let Err(message) = parsed {
            eprintln!("gen_log: {message}");
            return ExitCode::from(2);
        }
    }
    let Some(path) = out else {
        eprintln!("gen_log: --out is required; {USAGE}");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    if week {
        let options = WeekOptions::scaled(scale, seed);
        return report(
            write_week(std::path::Path::new(&path), &options),
            &path,
            seed,
            started,
        );
    }
    if let Some(span_ms) = span_ms {
        let requests = spread_with_outage(SPAN_FROM_MS, span_ms, lines, SPAN_USERS, SPAN_OUTAGE_MS);
        let text = LogStyle::NGINX.render(&requests);
        let written = std::fs::write(&path, &text).map(|()| GenSummary {
            lines: requests.len() as u64,
            bytes: text.len() as u64,
            users: SPAN_USERS,
        });
        return report(written, &path, seed, started);
    }
    let file = match File::create(&path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!(
                "gen_log: cannot create {path}: {e}; check the directory exists and is writable"
            );
            return ExitCode::FAILURE;
        }
    };
    let options = GenOptions::day(lines, seed, layout);
    report(
        write_log(&options, BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)),
        &path,
        seed,
        started,
    )
}

/// Prints what was written, or why writing failed.
fn report(
    written: std::io::Result<GenSummary>,
    path: &str,
    seed: u64,
    started: Instant,
) -> ExitCode {
    match written {
        Ok(summary) => {
            eprintln!(
                "gen_log: wrote {} lines, {:.2} GB, {} users, seed {seed} to {path} in {:.1} s",
                summary.lines,
                summary.bytes as f64 / 1e9,
                summary.users,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_log: writing {path} failed: {e}; check the free space (df -h)");
            ExitCode::FAILURE
        }
    }
}
