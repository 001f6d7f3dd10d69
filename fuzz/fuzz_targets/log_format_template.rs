//! Fuzz target: `--log-format` resolution and template compilation on an
//! arbitrary definition (the first line of the input), then parsing of the
//! remaining lines with the compiled template. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::access::AccessParser;
use postmortem::ingest::sniff;

fuzz_target!(|data: &[u8]| {
    let (definition, lines) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let Ok(definition) = std::str::from_utf8(definition) else {
        return;
    };
    let Ok(format) = sniff::resolve_log_format(definition) else {
        return;
    };
    if let AccessParser::Template(template) = &format.parser {
        let _ = template.format();
    }
    for line in lines.split(|&b| b == b'\n') {
        if let Ok((record, _)) = format.parser.parse_exact(line) {
            let _ = record.arrival();
        }
    }
});
