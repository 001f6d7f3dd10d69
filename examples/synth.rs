//! The command that writes the bundled samples and benchmark logs.
//!
//! ```text
//! cargo run --release --example synth -- sample-logs                       # every scenario + README
//! cargo run --release --example synth -- sample-logs --scenario quiet      # one scenario
//! cargo run --release --example synth -- --bench-lines 5000000 --out big.log [--seed 7]
//! ```
//!
//! `--bench-lines` writes the benchmark log of `cargo bench --bench gen_log`
//! (the same generator, `postmortem_testbed::bench_log`, and default seed).

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use postmortem_testbed::bench_log::{GenOptions, Layout, write_log};
use postmortem_testbed::synth::{SCENARIO_NAMES, generate_scenario, readme};

/// Seed of the benchmark log unless `--seed` says otherwise: the one of
/// `cargo bench --bench gen_log`, so both commands write the same log.
const DEFAULT_BENCH_SEED: u64 = 1;

const USAGE: &str = "usage: synth [OUT_DIR] [--scenario NAME]...\n       synth --bench-lines N --out FILE [--seed S]";

#[derive(Debug, Default)]
struct Arguments {
    out_dir: Option<PathBuf>,
    scenarios: Vec<String>,
    bench_lines: Option<u64>,
    bench_out: Option<PathBuf>,
    seed: Option<u64>,
}

fn parse_arguments() -> Result<Arguments, String> {
    let mut arguments = Arguments::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--scenario" => {
                let name = value("--scenario")?;
                if !SCENARIO_NAMES.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown scenario {name}; known: {}",
                        SCENARIO_NAMES.join(", ")
                    ));
                }
                arguments.scenarios.push(name);
            }
            "--bench-lines" => {
                let text = value("--bench-lines")?;
                arguments.bench_lines = Some(
                    text.parse()
                        .map_err(|_| format!("--bench-lines: not a count: {text}"))?,
                );
            }
            "--out" => arguments.bench_out = Some(PathBuf::from(value("--out")?)),
            "--seed" => {
                let text = value("--seed")?;
                arguments.seed = Some(
                    text.parse()
                        .map_err(|_| format!("--seed: not a number: {text}"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if arguments.out_dir.is_none() => arguments.out_dir = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    if arguments.bench_lines.is_some() && arguments.bench_out.is_none() {
        return Err("--bench-lines needs --out FILE".to_string());
    }
    Ok(arguments)
}

fn run(arguments: Arguments) -> io::Result<()> {
    if let Some(lines) = arguments.bench_lines {
        let path = arguments.bench_out.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "--bench-lines needs --out FILE",
            )
        })?;
        let options = GenOptions::day(
            lines,
            arguments.seed.unwrap_or(DEFAULT_BENCH_SEED),
            Layout::CombinedRequestTime,
        );
        write_log(&options, BufWriter::new(File::create(&path)?))?;
        eprintln!("wrote {lines} lines to {}", path.display());
        return Ok(());
    }
    let out_dir = arguments
        .out_dir
        .unwrap_or_else(|| PathBuf::from("sample-logs"));
    fs::create_dir_all(&out_dir)?;
    let all = arguments.scenarios.is_empty();
    let names: Vec<String> = if all {
        SCENARIO_NAMES.iter().map(|name| name.to_string()).collect()
    } else {
        arguments.scenarios
    };
    let mut generated = Vec::new();
    for name in &names {
        let scenario = generate_scenario(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "unknown scenario {name}; known: {}",
                    SCENARIO_NAMES.join(", ")
                ),
            )
        })??;
        scenario.write(&out_dir)?;
        eprintln!(
            "{:<18} {:>9} bytes  {}",
            scenario.name,
            scenario.size_bytes()?,
            scenario
                .files
                .iter()
                .map(|file| file.facts.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        generated.push(scenario);
    }
    if all {
        fs::write(out_dir.join("README.md"), readme(&generated))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let arguments = match parse_arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("synth: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("synth: {error}");
            ExitCode::FAILURE
        }
    }
}
