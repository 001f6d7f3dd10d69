//! Fuzz target: envelopes around access lines (syslog header, container
//! prefixes, Docker's JSON wrapper) opened on arbitrary bytes and the
//! opened line handed to every preset, and the pretty-printed JSON
//! rewriter (one object per line) on arbitrary bytes. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::envelope::{Envelope, WRAPPING};
use postmortem::ingest::{json_document, sniff};

fuzz_target!(|data: &[u8]| {
    let mut scratch = Vec::new();
    for envelope in WRAPPING.into_iter().chain([Envelope::Bare]) {
        if let Ok(inner) = envelope.open(data, &mut scratch) {
            let inner = inner.to_vec();
            for format in sniff::preset_formats() {
                if let Ok(record) = format.parser.parse(&inner) {
                    let _ = record.arrival();
                }
            }
        }
    }
    for line in json_document::compact(data).split(|&b| b == b'\n') {
        let _ = postmortem::ingest::access::jsonlines::parse(line);
    }
});
