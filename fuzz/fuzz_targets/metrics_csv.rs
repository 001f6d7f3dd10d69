//! Fuzz target: metric CSV sniffing and loading (separator and `sep=` line,
//! time column by name or by content: RFC 3339, wall clock, epoch seconds
//! or milliseconds; wide and long layouts; units in headers), the cell time
//! parser, then the whole evidence path. The first byte picks a forced
//! dialect and the run settings (`--tz`, `--year`, `--since`/`--until`).
//! Nothing may panic; every row is parsed or skipped; a series' times,
//! values and lines have one entry per point.
#![no_main]

#[path = "common/evidence_check.rs"]
mod evidence_check;

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::metrics::csv::{self as metrics_csv, CsvDialect};
use postmortem::ingest::timestamps as stamp;
use postmortem::ingest::{MAX_SKIPPED_EXAMPLES, sniff};

/// Separators a forced dialect tries (what `sep=` lines usually give).
const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];

fn check_load(bytes: &[u8], dialect: CsvDialect) {
    let Ok(loaded) = metrics_csv::load(bytes, dialect) else {
        return;
    };
    let _ = loaded.layout.name();
    assert_eq!(loaded.rows, loaded.parsed + loaded.skipped, "{loaded:?}");
    assert!(
        loaded.skipped_examples.len() as u64 <= loaded.skipped.min(MAX_SKIPPED_EXAMPLES as u64),
        "{loaded:?}"
    );
    assert_eq!(
        loaded.series.is_empty(),
        loaded.note.is_some(),
        "{loaded:?}"
    );
    for series in &loaded.series {
        assert_eq!(series.stamps.len(), series.values.len(), "{series:?}");
        assert_eq!(series.stamps.len(), series.lines.len(), "{series:?}");
        assert!(series.stamps.len() as u64 <= loaded.parsed, "{series:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let lines = sniff::sample_lines(bytes, true);
    if let Some(dialect) = metrics_csv::sniff(&lines) {
        check_load(bytes, dialect);
    }
    check_load(
        bytes,
        CsvDialect {
            separator: SEPARATORS[usize::from(control & 3)],
            separator_line: control & 4 != 0,
        },
    );
    for cell in bytes.split(|&b| matches!(b, b',' | b';' | b'\n')) {
        if let Ok(cell) = std::str::from_utf8(cell) {
            let _ = stamp::parse_cell_time(cell);
            let _ = metrics_csv::split_unit(cell);
        }
    }
    evidence_check::read_and_place(bytes, &evidence_check::settings(control));
});
