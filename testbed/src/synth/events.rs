//! System and monitoring log lines (syslog in its several layouts, error
//! logs) that scenarios place around their incidents, plus the routine noise
//! every server's syslog carries so the notable lines have to be found.

use rand::RngExt;
use rand_pcg::Pcg64;

use super::clock::{
    MS_PER_HOUR, MS_PER_MINUTE, US_PER_MS, Zone, rfc3164, rfc3339_local_micros, short_iso,
};
use super::sampling::{between, chance, pick};

/// Syslog facilities used by the generated lines (RFC 5424 numbering).
pub mod facility {
    pub const KERNEL: u8 = 0;
    pub const USER: u8 = 1;
    pub const DAEMON: u8 = 3;
    pub const AUTH: u8 = 4;
    pub const CRON: u8 = 9;
    pub const AUTHPRIV: u8 = 10;
    pub const LOCAL0: u8 = 16;
}

/// Syslog severities (RFC 5424 numbering).
pub mod severity {
    pub const CRITICAL: u8 = 2;
    pub const ERROR: u8 = 3;
    pub const WARNING: u8 = 4;
    pub const NOTICE: u8 = 5;
    pub const INFO: u8 = 6;
}

/// How a syslog file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFormat {
    /// `Nov 12 14:00:03 host prog[pid]: msg` (local time, no year, no zone).
    Rfc3164,
    /// `<30>1 2023-11-12T14:00:03.003512-07:00 host prog pid - - msg`.
    Rfc5424,
    /// rsyslog's high-precision file format: `2022-03-27T15:29:41.512345+01:00 host prog[pid]: msg`.
    RsyslogPrecise,
    /// `journalctl -o short-iso`: `2024-03-05T10:41:07+0000 host prog[pid]: msg`.
    JournalShortIso,
}

impl SyslogFormat {
    /// The name the README gives the layout.
    pub fn name(self) -> &'static str {
        match self {
            SyslogFormat::Rfc3164 => "RFC 3164 syslog",
            SyslogFormat::Rfc5424 => "RFC 5424 syslog",
            SyslogFormat::RsyslogPrecise => "rsyslog high-precision (RFC 3339 timestamps)",
            SyslogFormat::JournalShortIso => "journalctl -o short-iso",
        }
    }
}

/// One syslog message.
#[derive(Debug, Clone)]
pub struct SyslogEvent {
    pub at_us: i64,
    pub host: String,
    pub program: String,
    pub pid: Option<u32>,
    pub facility: u8,
    pub severity: u8,
    pub message: String,
}

/// The messages of one syslog file, in any order until rendered.
#[derive(Debug, Clone, Default)]
pub struct Syslog {
    events: Vec<SyslogEvent>,
}

impl Syslog {
    /// Adds a message at `at_ms` (ms since the epoch).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        at_ms: i64,
        host: &str,
        program: &str,
        pid: Option<u32>,
        facility: u8,
        severity: u8,
        message: impl Into<String>,
    ) {
        self.push_precise(
            at_ms * US_PER_MS as i64,
            host,
            program,
            pid,
            facility,
            severity,
            message,
        );
    }

    /// Adds a message at `at_us` (µs since the epoch).
    #[allow(clippy::too_many_arguments)]
    pub fn push_precise(
        &mut self,
        at_us: i64,
        host: &str,
        program: &str,
        pid: Option<u32>,
        facility: u8,
        severity: u8,
        message: impl Into<String>,
    ) {
        self.events.push(SyslogEvent {
            at_us,
            host: host.to_string(),
            program: program.to_string(),
            pid,
            facility,
            severity,
            message: message.into(),
        });
    }

    /// The messages in time order (ties keep insertion order).
    pub fn sorted(&self) -> Vec<&SyslogEvent> {
        let mut events: Vec<&SyslogEvent> = self.events.iter().collect();
        events.sort_by_key(|event| event.at_us);
        events
    }

    /// The file's bytes, in time order.
    pub fn render(&self, format: SyslogFormat, zone: Zone) -> Vec<u8> {
        let mut out = String::new();
        for event in self.sorted() {
            let seconds = event.at_us.div_euclid(1_000_000);
            let tag = match event.pid {
                Some(pid) => format!("{}[{pid}]", event.program),
                None => event.program.clone(),
            };
            let line = match format {
                SyslogFormat::Rfc3164 => {
                    format!(
                        "{} {} {tag}: {}",
                        rfc3164(seconds, zone),
                        event.host,
                        event.message
                    )
                }
                SyslogFormat::RsyslogPrecise => format!(
                    "{} {} {tag}: {}",
                    rfc3339_local_micros(event.at_us, zone),
                    event.host,
                    event.message
                ),
                SyslogFormat::JournalShortIso => {
                    format!(
                        "{} {} {tag}: {}",
                        short_iso(seconds, zone),
                        event.host,
                        event.message
                    )
                }
                SyslogFormat::Rfc5424 => format!(
                    "<{}>1 {} {} {} {} - - {}",
                    u32::from(event.facility) * 8 + u32::from(event.severity),
                    rfc3339_local_micros(event.at_us, zone),
                    event.host,
                    event.program,
                    event
                        .pid
                        .map_or_else(|| "-".to_string(), |pid| pid.to_string()),
                    event.message
                ),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// Hands out process ids that grow over the day, as a busy host's do.
#[derive(Debug, Clone)]
pub struct PidCounter {
    next: u32,
}

impl PidCounter {
    pub fn starting_at(first: u32) -> PidCounter {
        PidCounter { next: first }
    }

    /// A fresh pid a little above the last one.
    pub fn next(&mut self, rng: &mut Pcg64) -> u32 {
        self.next += rng.random_range(1..40);
        self.next
    }
}

/// The lines a Debian/Ubuntu server logs on a normal day: cron jobs,
/// sysstat, the daily apt and logrotate timers, an operator's SSH login.
pub fn routine_noise(
    syslog: &mut Syslog,
    hosts: &[&str],
    from_ms: i64,
    to_ms: i64,
    rng: &mut Pcg64,
) {
    for (host_number, host) in hosts.iter().enumerate() {
        let mut pids = PidCounter::starting_at(rng.random_range(20_000..90_000));
        // sysstat every ten minutes, the hourly cron run at :17.
        let mut at = from_ms - from_ms.rem_euclid(10 * MS_PER_MINUTE) + 10 * MS_PER_MINUTE;
        while at < to_ms {
            let pid = pids.next(rng);
            syslog.push(
                at + between(rng, 1_000, 1_900),
                host,
                "CRON",
                Some(pid),
                facility::CRON,
                severity::INFO,
                "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
            );
            if (at / MS_PER_MINUTE) % 60 == 10 {
                let pid = pids.next(rng);
                syslog.push(
                    at + 7 * MS_PER_MINUTE + between(rng, 1_000, 1_900),
                    host,
                    "CRON",
                    Some(pid),
                    facility::CRON,
                    severity::INFO,
                    "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
                );
            }
            at += 10 * MS_PER_MINUTE;
        }
        // A timer or two per day and the odd operator login.
        let hours = ((to_ms - from_ms) / MS_PER_HOUR).max(1);
        for _ in 0..(hours / 6 + 1) {
            let run_at = between(rng, from_ms, to_ms - 1);
            let unit = pick(
                rng,
                &[
                    ("apt-daily.service", "Daily apt download activities"),
                    ("man-db.service", "Daily man-db regeneration"),
                    (
                        "fstrim.service",
                        "Discard unused blocks on filesystems from /etc/fstab",
                    ),
                    (
                        "systemd-tmpfiles-clean.service",
                        "Cleanup of Temporary Directories",
                    ),
                ],
            );
            syslog.push(
                run_at,
                host,
                "systemd",
                Some(1),
                facility::DAEMON,
                severity::INFO,
                format!("Starting {} - {}...", unit.0, unit.1),
            );
            syslog.push(
                run_at + between(rng, 300, 9_000),
                host,
                "systemd",
                Some(1),
                facility::DAEMON,
                severity::INFO,
                format!("{}: Deactivated successfully.", unit.0),
            );
            syslog.push(
                run_at + between(rng, 9_100, 9_900),
                host,
                "systemd",
                Some(1),
                facility::DAEMON,
                severity::INFO,
                format!("Finished {} - {}.", unit.0, unit.1),
            );
        }
        if chance(rng, 0.6) || host_number == 0 {
            let login_at = between(rng, from_ms, to_ms - 1);
            let pid = pids.next(rng);
            let port = rng.random_range(40_000..65_000u32);
            syslog.push(login_at, host, "sshd", Some(pid), facility::AUTH, severity::INFO,
                format!("Accepted publickey for ops from 10.20.0.{} port {port} ssh2: ED25519 SHA256:q0f8mQ3fJtq9nGk6u8XcRzv1bYh2uWw0sYtq3oQk1Zs", rng.random_range(2..40u32)));
            syslog.push(
                login_at + 40,
                host,
                "sshd",
                Some(pid),
                facility::AUTHPRIV,
                severity::INFO,
                "pam_unix(sshd:session): session opened for user ops(uid=1001) by (uid=0)",
            );
            let logout = login_at + between(rng, 60_000, 1_800_000);
            syslog.push(
                logout,
                host,
                "sshd",
                Some(pid),
                facility::AUTHPRIV,
                severity::INFO,
                "pam_unix(sshd:session): session closed for user ops",
            );
        }
    }
}
