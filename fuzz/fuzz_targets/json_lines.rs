//! Fuzz target: the JSON-lines access parser (nginx `escape=json`, Caddy,
//! Traefik) on arbitrary bytes. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::access::jsonlines;

fuzz_target!(|data: &[u8]| {
    if let Ok((record, _, _)) = jsonlines::parse_with_flavor(data) {
        let _ = record.arrival();
    }
});
