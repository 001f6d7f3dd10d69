//! The README's accuracy figures for metric-only runs: every series of the
//! Numenta Anomaly Benchmark's categories below, and of Microsoft's cloud
//! monitoring set, analysed alone as `postmortem report FILE.csv` would,
//! scored against their labels (see `postmortem_testbed::evaluate`). One
//! run prints a table per category and the totals.
//!
//! `cargo run --release --example nab_accuracy -- ../shared/datasets/nab [../shared/datasets/microsoft-cloud-monitoring]`
//!
//! Without the second argument, the Microsoft set is looked for beside the
//! NAB checkout (`NAB_DIR/../microsoft-cloud-monitoring`).

use std::path::PathBuf;
use std::process::ExitCode;

use postmortem_testbed::evaluate::{Score, score_category, score_microsoft};

/// The NAB categories the README reports: the real failures with known
/// causes (the target), series without anomalies (nothing may be found),
/// and two other real categories to check the gain is not tuned to one.
const NAB_CATEGORIES: &[&str] = &[
    "realKnownCause",
    "artificialNoAnomaly",
    "realAWSCloudwatch",
    "realTraffic",
];

fn print_category(name: &str, scores: &[(String, Score)]) -> Score {
    println!("\n### {name}\n");
    println!(
        "| series | labelled windows | found | incidents | false incidents | in probation (not scored) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut total = Score::default();
    for (series, score) in scores {
        println!(
            "| `{series}` | {} | {} | {} | {} | {} |",
            score.windows,
            score.windows_found,
            score.incidents,
            score.false_incidents,
            score.in_probation
        );
        total.add(score);
    }
    println!(
        "| **all {} series** | **{}** | **{}** | **{}** | **{}** | **{}** |",
        scores.len(),
        total.windows,
        total.windows_found,
        total.incidents,
        total.false_incidents,
        total.in_probation
    );
    total
}

fn main() -> ExitCode {
    let Some(nab) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!(
            "usage: nab_accuracy NAB_DIR [MICROSOFT_DIR]   (NAB_DIR holds data/ and labels/; MICROSOFT_DIR data/DOMAIN/*.csv)"
        );
        return ExitCode::from(2);
    };
    let microsoft = std::env::args_os()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| nab.join("../microsoft-cloud-monitoring"));
    let mut totals: Vec<(String, usize, Score)> = Vec::new();
    for category in NAB_CATEGORIES {
        match score_category(&nab, category) {
            Ok(scores) => {
                let total = print_category(category, &scores);
                totals.push((category.to_string(), scores.len(), total));
            }
            Err(error) => {
                eprintln!("nab_accuracy: {category}: {error}");
                return ExitCode::from(1);
            }
        }
    }
    if microsoft.join("data").is_dir() {
        match score_microsoft(&microsoft) {
            Ok(scores) => {
                let total = print_category("Microsoft cloud monitoring", &scores);
                totals.push((
                    "Microsoft cloud monitoring".to_string(),
                    scores.len(),
                    total,
                ));
            }
            Err(error) => {
                eprintln!("nab_accuracy: Microsoft set: {error}");
                return ExitCode::from(1);
            }
        }
    } else {
        eprintln!(
            "nab_accuracy: {} has no data/ folder: the Microsoft set is left out (give its path as the second argument)",
            microsoft.display()
        );
    }
    println!("\n### All categories\n");
    println!(
        "| category | series | labelled windows | found | incidents | false incidents | in probation (not scored) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (category, series, total) in &totals {
        println!(
            "| {category} | {series} | {} | {} | {} | {} | {} |",
            total.windows,
            total.windows_found,
            total.incidents,
            total.false_incidents,
            total.in_probation
        );
    }
    ExitCode::SUCCESS
}
