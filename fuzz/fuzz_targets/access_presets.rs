//! Fuzz target: every access-log preset's parser (`AccessParser::parse` and
//! `parse_exact`), the time and duration field parsers, and format sniffing,
//! on arbitrary bytes. Nothing may panic; a parsed record's arrival must be
//! computable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::{record, sniff, timestamps};

fuzz_target!(|data: &[u8]| {
    for format in sniff::preset_formats() {
        if let Ok(record) = format.parser.parse(data) {
            let _ = record.arrival();
            let _ = record.field_mask();
        }
        let _ = format.parser.parse_exact(data);
    }
    let _ = timestamps::parse_clf_time(data);
    let _ = timestamps::parse_iso8601(data);
    let _ = timestamps::parse_epoch_seconds(data);
    let _ = record::seconds_as_micros(data);
    let _ = record::upstream_items(data).count();
    let lines = sniff::sample_lines(data, true);
    let _ = sniff::detect_access_format(&lines);
});
