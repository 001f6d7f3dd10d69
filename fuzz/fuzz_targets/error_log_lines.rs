//! Fuzz target: the nginx and Apache (2.2, 2.4) error-log parsers on
//! arbitrary lines, their timestamp fast paths, the level table, event
//! classification, then the whole evidence path with zone inference. The
//! first byte picks `--tz`, `--year`, the access logs' offset and range, and
//! `--since`/`--until`. Nothing may panic; borrowed fields lie inside their
//! line; a record's severity is its level's; counts add up.
#![no_main]

#[path = "common/evidence_check.rs"]
mod evidence_check;

use evidence_check::is_within;
use libfuzzer_sys::fuzz_target;
use postmortem::ingest::events::Classifier;
use postmortem::ingest::events::errorlog::{self, ErrorLine};
use postmortem::ingest::timestamps as stamp;

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let settings = evidence_check::settings(control);
    let zone = settings.zone_or_default();
    let year = settings.year.unwrap_or(2024);
    let classifier = Classifier::default();
    let mut haystack = Vec::new();
    for raw in text.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match errorlog::parse_line(line) {
            Ok(ErrorLine::Record(record)) => {
                let _ = record.layout.name();
                for part in [
                    Some(record.message),
                    Some(record.level),
                    record.module,
                    record.pid,
                    record.client,
                ] {
                    assert!(is_within(line, part.unwrap_or_default()), "{record:?}");
                }
                assert_eq!(record.severity, errorlog::severity_of_level(record.level));
                for second_of_fold in [false, true] {
                    let _ = record.stamp.resolve(year, &zone, second_of_fold);
                }
                haystack.clear();
                haystack.extend_from_slice(record.layout.program());
                haystack.extend_from_slice(b": ");
                haystack.extend_from_slice(record.message);
                let _ = classifier.classify(&haystack, record.severity);
            }
            Ok(ErrorLine::Continuation(more)) => assert!(is_within(line, more)),
            Err(error) => assert!(!error.reason.is_empty()),
        }
        let _ = stamp::parse_nginx_time(line);
        let _ = stamp::parse_apache_time(line);
        let _ = stamp::parse_apache_time(line.get(1..).unwrap_or_default());
    }
    evidence_check::read_and_place(text, &settings);
});
