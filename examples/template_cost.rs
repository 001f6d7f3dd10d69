//! What mining the log templates costs next to the whole analysis, on the
//! bundled samples: `cargo run --release --example template_cost` (from the
//! repository root). Prints, per sample, the kept events, the templates
//! mined, the time of `postmortem::analyze` (which mines them once) and of
//! one more `Templates::mine` over the same events (the mean of
//! [`REPEATS`]), and its share.

use std::time::Instant;

use postmortem::detect::templates::Templates;
use postmortem::{Config, InputSpec, NoProgress, analyze};

/// Mining runs this many times per sample; the mean is printed.
const REPEATS: u32 = 10;

/// The samples with syslog or error logs.
const SAMPLES: &[&str] = &[
    "bad-config",
    "full-outage",
    "memory-leak",
    "slow-degradation",
    "traffic-gap",
    "uneven-lb",
];

fn main() {
    for name in SAMPLES {
        let config =
            Config::for_inputs(vec![InputSpec::Path(format!("sample-logs/{name}").into())]);
        let started = Instant::now();
        let findings = match analyze(&config, &NoProgress) {
            Ok(findings) => findings,
            Err(error) => {
                eprintln!("sample-logs/{name}: {error} (run from the repository root)");
                continue;
            }
        };
        let total = started.elapsed();
        let started = Instant::now();
        let mut templates = 0;
        for _ in 0..REPEATS {
            templates = Templates::mine(&findings.events).len();
        }
        let mining = started.elapsed() / REPEATS;
        println!(
            "{name}: {} events, {templates} templates, analyze {total:?}, mining {mining:?} ({:.2}%)",
            findings.events.len(),
            100.0 * mining.as_secs_f64() / total.as_secs_f64()
        );
    }
}
