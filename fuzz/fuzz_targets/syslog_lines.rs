//! Fuzz target: the syslog parsers on arbitrary lines (RFC 3164 with its
//! lenient dates, RFC 5424, rsyslog RFC 3339, journalctl short-iso, nagios,
//! continuation, repeat and journal-marker lines), their timestamps resolved
//! in zones with DST folds and gaps, event classification, then the whole
//! evidence path with year and zone inference. The first byte picks `--tz`,
//! `--year`, the access logs' offset and range, and `--since`/`--until`.
//! Nothing may panic; borrowed fields lie inside their line; counts add up.
#![no_main]

#[path = "common/evidence_check.rs"]
mod evidence_check;

use evidence_check::is_within;
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::events;
use postmortem::ingest::events::Classifier;
use postmortem::ingest::events::syslog::{self, SyslogLayout, SyslogLine};
use postmortem::ingest::timestamps::{self as stamp, Stamp};

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let settings = evidence_check::settings(control);
    let zone = settings.zone_or_default();
    let year = settings.year.unwrap_or(2024);
    let classifier = Classifier::default();
    let mut haystack = Vec::new();
    let mut line_count = 0u64;
    for raw in text.split(|&b| b == b'\n') {
        line_count += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match syslog::parse_line(line) {
            Ok(SyslogLine::Record(record)) => {
                let _ = record.layout.name();
                // Nagios lines name no program: the parser gives a constant.
                let program = record
                    .program
                    .filter(|_| record.layout != SyslogLayout::NagiosLog);
                for part in [Some(record.message), record.host, program, record.pid] {
                    assert!(is_within(line, part.unwrap_or_default()), "{record:?}");
                }
                if let Some(priority) = record.priority {
                    assert!(
                        priority.facility <= 23 && priority.severity <= 7,
                        "{priority:?}"
                    );
                }
                for second_of_fold in [false, true] {
                    let _ = record.stamp.resolve(year, &zone, second_of_fold);
                }
                let _ = record.stamp.ordering_ms(year);
                if let Stamp::NoYear(mut yearless) = record.stamp {
                    yearless.year_delta = u16::MAX;
                    let _ = Stamp::NoYear(yearless).resolve(year, &zone, true);
                }
                haystack.clear();
                haystack.extend_from_slice(record.program.unwrap_or_default());
                haystack.extend_from_slice(b": ");
                haystack.extend_from_slice(record.message);
                let _ = classifier.classify(&haystack, record.priority.map(|p| p.severity));
            }
            Ok(SyslogLine::Continuation(more)) => assert!(is_within(line, more)),
            Ok(SyslogLine::Repeated(_) | SyslogLine::JournalMarker) => {}
            Err(error) => assert!(!error.reason.is_empty()),
        }
        if let Some(date) = stamp::parse_bsd_date(line) {
            assert!(date.len <= line.len(), "{date:?}");
            let _ = date.stamp(0).resolve(year, &zone, false);
            let _ = date.stamp(1).resolve(year, &zone, true);
        }
        for allow_space in [false, true] {
            if let Some(iso) = stamp::parse_iso(line, allow_space) {
                assert!(iso.len <= line.len(), "{iso:?}");
            }
        }
    }
    let messages = events::parse_syslog_text(text, year, &zone);
    for pair in messages.windows(2) {
        assert!(pair[0].line < pair[1].line, "{pair:?}");
    }
    assert!(messages.last().is_none_or(|m| m.line <= line_count));
    evidence_check::read_and_place(text, &settings);
});
