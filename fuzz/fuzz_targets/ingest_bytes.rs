//! Fuzz target: the whole pipeline on one input file holding arbitrary
//! bytes (plain or gzip, any format). `inspect` (every ingest stage) and
//! `analyze` (ingest, series, detection, report) must return a result or an
//! error, never panic, and the counts they give must add up.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use postmortem::config::InputSpec;
use postmortem::progress::NoProgress;
use postmortem::report::{self, Report};
use postmortem::{Config, analyze, run};

/// Detection runs only on inputs whose requests span at most this long:
/// its cost grows faster than linearly with the number of buckets (a span
/// of a year in minute buckets takes minutes), which would stall the
/// fuzzer on slow units instead of finding crashes.
const MAX_ANALYZED_SPAN_MS: i64 = 2 * 24 * 3600 * 1000;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let config = Config::for_inputs(vec![InputSpec::Path(file.path().to_path_buf())]);
    let Ok(inspection) = run::inspect(&config, &NoProgress) else {
        return;
    };
    let writable = postmortem::timefmt::WRITABLE_MS;
    for input in &inspection.inputs {
        assert_eq!(input.lines, input.parsed + input.skipped, "{input:?}");
        for at in [input.first, input.last].into_iter().flatten() {
            assert!(writable.contains(&at), "a time beyond 0000-9999: {input:?}");
        }
    }
    let span = inspection
        .inputs
        .iter()
        // Checked: before log times were bounded to the years 0000-9999, a
        // 90-digit JSON time saturated to i64::MAX and this overflowed.
        .filter_map(|input| input.last?.checked_sub(input.first?))
        .max()
        .unwrap_or(0);
    if span > MAX_ANALYZED_SPAN_MS {
        return;
    }
    if let Ok(result) = analyze(&config, &NoProgress) {
        let _ = report::json::render(&Report::from_findings(&result));
        let _ = report::markdown::render_with(&result, &Default::default());
    }
});
