//! The README's accuracy figures for metric-only runs: every series of the
//! Numenta Anomaly Benchmark's `realKnownCause` category, analysed alone as
//! `postmortem report FILE.csv` would, scored against NAB's labelled
//! windows (see `postmortem_testbed::evaluate`).
//!
//! `cargo run --release --example nab_accuracy -- ../shared/datasets/nab`

use std::path::PathBuf;
use std::process::ExitCode;

use postmortem_testbed::evaluate::{Score, score_category};

fn main() -> ExitCode {
    let Some(nab) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: nab_accuracy NAB_DIR [CATEGORY]   (NAB_DIR holds data/ and labels/)");
        return ExitCode::from(2);
    };
    let category = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "realKnownCause".to_string());
    let scores = match score_category(&nab, &category) {
        Ok(scores) => scores,
        Err(error) => {
            eprintln!("nab_accuracy: {error}");
            return ExitCode::from(1);
        }
    };
    println!("| series | labelled windows | found | incidents | false incidents |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut total = Score::default();
    for (series, score) in &scores {
        println!(
            "| `{series}` | {} | {} | {} | {} |",
            score.windows, score.windows_found, score.incidents, score.false_incidents
        );
        total.add(score);
    }
    println!(
        "| **all {} series** | **{}** | **{}** | **{}** | **{}** |",
        scores.len(),
        total.windows,
        total.windows_found,
        total.incidents,
        total.false_incidents
    );
    ExitCode::SUCCESS
}
