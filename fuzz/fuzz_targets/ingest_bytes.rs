//! Fuzz target: the whole pipeline on one input file holding arbitrary
//! bytes (plain or gzip, any format): `analyze` and `inspect` must return a
//! report or an error, never panic, and the counts they give must add up.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use postmortem::config::InputSpec;
use postmortem::progress::NoProgress;
use postmortem::{Config, analysis, analyze};

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let config = Config::for_inputs(vec![InputSpec::Path(file.path().to_path_buf())]);
    if let Ok(result) = analyze(&config, &NoProgress) {
        for input in &result.inputs {
            assert_eq!(input.lines, input.parsed + input.skipped, "{input:?}");
        }
    }
    let _ = analysis::inspect(&config, &NoProgress);
});
