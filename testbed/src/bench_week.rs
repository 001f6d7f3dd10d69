//! The week benchmark input: 7 days of one site behind a load balancer, a
//! folder per host (`web01/` ...), each holding the rotations logrotate
//! leaves with `daily`-twice (`rotate 13`, `compress`, `delaycompress`):
//! `access.log` (the newest 12 hours), `access.log.1`, then
//! `access.log.2.gz` ... `access.log.13.gz`, oldest last. Every rotation
//! is [`bench_log`] for its 12 hours: the same users and sessions every day
//! and on every host, requests drawn per host and day, and one incident on
//! [`INCIDENT_DAY`] that starts on [`FIRST_HOST`] [`FIRST_HOST_LEAD_S`]
//! before the others. Deterministic for a seed; hosts are written on their
//! own threads.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::bench_log::{GenOptions, GenSummary, INCIDENT_START_S, Layout, Slot, write_log};

/// What to write.
#[derive(Clone, Copy, Debug)]
pub struct WeekOptions {
    pub hosts: u32,
    pub days: u32,
    /// Lines of one host's whole day (each rotation holds its 12 hours).
    pub lines_per_host_day: u64,
    pub seed: u64,
}

/// Lines of one host's day in the full-size week: 35 M lines from 4 hosts
/// over 7 days, the input issue 18 names.
pub const FULL_LINES_PER_HOST_DAY: u64 = 1_250_000;

impl WeekOptions {
    /// The 4-host, 7-day week at `scale` times its full size (1.0: 35 M
    /// lines).
    pub fn scaled(scale: f64, seed: u64) -> Self {
        WeekOptions {
            hosts: 4,
            days: 7,
            lines_per_host_day: ((FULL_LINES_PER_HOST_DAY as f64 * scale).round() as u64).max(1),
            seed,
        }
    }
}

/// Rotations per day: logrotate run twice a day.
pub const ROTATIONS_PER_DAY: u32 = 2;
/// Seconds of the day one rotation holds.
const ROTATION_SECONDS: u32 = 86_400 / ROTATIONS_PER_DAY;
/// Rotations left uncompressed, newest first: the live file and the one
/// `delaycompress` keeps plain.
const PLAIN_ROTATIONS: u32 = 2;
/// The day (0-based) of the incident: the fourth, mid-week.
pub const INCIDENT_DAY: u32 = 3;
/// The host (0-based: `web02`) where the incident starts first.
pub const FIRST_HOST: u32 = 1;
/// How much earlier it starts there than on the other hosts.
pub const FIRST_HOST_LEAD_S: u32 = 10 * 60;
/// gzip level of the compressed rotations: logrotate's default (`gzip`
/// without options is level 6), so inflating costs what it costs on a server.
const GZIP_LEVEL: u32 = 6;
/// Output buffer per rotation.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// The name of host `host`'s folder.
pub fn host_folder(host: u32) -> String {
    format!("web{:02}", host + 1)
}

/// The file name of rotation `k` (0: the newest).
pub fn rotation_name(k: u32) -> String {
    match k {
        0 => "access.log".to_string(),
        k if k < PLAIN_ROTATIONS => format!("access.log.{k}"),
        k => format!("access.log.{k}.gz"),
    }
}

/// The rotations (newest first) that hold day `day` of a week of `days`.
pub fn rotations_of_day(day: u32, days: u32) -> Vec<u32> {
    let halves = days * ROTATIONS_PER_DAY;
    (0..ROTATIONS_PER_DAY)
        .map(|half| halves - 1 - (day * ROTATIONS_PER_DAY + half))
        .collect()
}

/// Where the incident starts on `host` (second of [`INCIDENT_DAY`]).
pub fn incident_start_on(host: u32) -> u32 {
    if host == FIRST_HOST {
        INCIDENT_START_S - FIRST_HOST_LEAD_S
    } else {
        INCIDENT_START_S
    }
}

/// Writes the week below `dir` (created if needed); returns what was
/// written over all hosts.
pub fn write_week(dir: &Path, options: &WeekOptions) -> io::Result<GenSummary> {
    let results: Vec<io::Result<GenSummary>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.hosts)
            .map(|host| scope.spawn(move || write_host(dir, options, host)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("a host's writer panicked")))
            })
            .collect()
    });
    let mut total = GenSummary::default();
    for result in results {
        let summary = result?;
        total.lines += summary.lines;
        total.bytes += summary.bytes;
        total.users = summary.users;
    }
    Ok(total)
}

fn write_host(dir: &Path, options: &WeekOptions, host: u32) -> io::Result<GenSummary> {
    let folder: PathBuf = dir.join(host_folder(host));
    std::fs::create_dir_all(&folder)?;
    let halves = options.days * ROTATIONS_PER_DAY;
    let mut total = GenSummary::default();
    for k in 0..halves {
        let half = halves - 1 - k;
        let (day, part) = (half / ROTATIONS_PER_DAY, half % ROTATIONS_PER_DAY);
        let from_second = part * ROTATION_SECONDS;
        let incident = (day == INCIDENT_DAY).then(|| incident_start_on(host));
        let generate = GenOptions {
            lines: options.lines_per_host_day,
            seed: options.seed,
            layout: Layout::CombinedRequestTime,
            from_second,
            max_lines: u64::MAX,
            slot: Slot {
                day,
                stream: u64::from(host) * u64::from(options.days) + u64::from(day) + 1,
                incident_start_s: incident,
                until_second: from_second + ROTATION_SECONDS,
            },
        };
        let file = File::create(folder.join(rotation_name(k)))?;
        let out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        let summary = if k < PLAIN_ROTATIONS {
            write_log(&generate, out)?
        } else {
            let mut encoder = GzEncoder::new(out, Compression::new(GZIP_LEVEL));
            let summary = write_log(&generate, &mut encoder)?;
            encoder.finish()?.flush()?;
            summary
        };
        total.lines += summary.lines;
        total.bytes += summary.bytes;
        total.users = summary.users;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_are_named_and_dated_as_logrotate_leaves_them() {
        assert_eq!(rotation_name(0), "access.log");
        assert_eq!(rotation_name(1), "access.log.1");
        assert_eq!(rotation_name(2), "access.log.2.gz");
        assert_eq!(rotation_name(13), "access.log.13.gz");
        // Day 3 of 7 is held by the 8th and 7th newest rotations.
        assert_eq!(rotations_of_day(INCIDENT_DAY, 7), vec![7, 6]);
        assert_eq!(rotations_of_day(6, 7), vec![1, 0]);
        assert_eq!(incident_start_on(FIRST_HOST), 11 * 3600 + 50 * 60);
        assert_eq!(incident_start_on(0), 12 * 3600);
    }

    #[test]
    fn a_small_week_is_every_rotation_of_every_host_and_deterministic() {
        use std::io::Read;
        let options = WeekOptions {
            hosts: 2,
            days: 2,
            lines_per_host_day: 4_000,
            seed: 3,
        };
        let write = |n: u32| {
            let dir = std::env::temp_dir().join(format!("pm-week-{}-{n}", std::process::id()));
            let summary = write_week(&dir, &options).expect("written");
            (dir, summary)
        };
        let (first, summary) = write(1);
        let (second, again) = write(2);
        assert_eq!(summary.lines, again.lines, "deterministic");
        let mut lines = 0u64;
        for host in 0..2 {
            for k in 0..4 {
                let name = format!("{}/{}", host_folder(host), rotation_name(k));
                let bytes = std::fs::read(first.join(&name)).expect("rotation written");
                assert_eq!(
                    bytes,
                    std::fs::read(second.join(&name)).expect("again"),
                    "{name} is the same both times"
                );
                let text = if k < PLAIN_ROTATIONS {
                    bytes
                } else {
                    let mut text = Vec::new();
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut text)
                        .expect("gzip");
                    text
                };
                lines += text.iter().filter(|&&b| b == b'\n').count() as u64;
            }
        }
        assert_eq!(lines, summary.lines, "every line written is in a rotation");
        // Two days of two hosts at 4 000 lines a day each.
        assert!((15_000..=16_000).contains(&lines), "{lines} lines");
        for dir in [first, second] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
