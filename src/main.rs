//! The `postmortem` binary: parses arguments, runs the pipeline, writes the
//! output and maps errors to the contract's exit codes (0 report written,
//! 1 I/O or internal error, 2 usage error or nothing parsed).

mod cli;
mod output;
mod term_progress;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, ReportFormat, SeriesFormat};
use postmortem::progress::{NoProgress, Progress};
use postmortem::report::{self, Report};
use postmortem::{Analysis, Error, analysis, analyze, series_export};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("postmortem: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

/// Progress on stderr only for people: not with --quiet, not when stderr is
/// not a terminal, not when JSON goes to stdout.
fn progress_for(quiet: bool, json_to_stdout: bool) -> Box<dyn Progress> {
    if quiet || json_to_stdout || !std::io::stderr().is_terminal() {
        if quiet {
            Box::new(NoProgress)
        } else {
            Box::new(term_progress::WarningsOnly)
        }
    } else {
        Box::new(term_progress::TerminalProgress::new())
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Report(args) => {
            let config = args.to_config()?;
            let json_to_stdout = args.format == ReportFormat::Json && args.output.is_none();
            let progress = progress_for(args.common.quiet, json_to_stdout);
            let analysis = analyze(&config, progress.as_ref())?;
            warn_skipped(&analysis, args.common.quiet);
            let text = match args.format {
                ReportFormat::Json => report::json::render(&Report::from_analysis(&analysis)),
                ReportFormat::Markdown => report::markdown::render(&analysis),
            };
            output::write(args.output.as_deref(), &text)
        }
        Command::Inspect(args) => {
            let config = args.common.to_config()?;
            let progress = progress_for(
                args.common.quiet,
                args.format == ReportFormat::Json && args.output.is_none(),
            );
            let inspection = analysis::inspect(&config, progress.as_ref())?;
            let text = match args.format {
                ReportFormat::Json => report::inspect::render_json(&inspection),
                ReportFormat::Markdown => report::inspect::render_markdown(&inspection),
            };
            output::write(args.output.as_deref(), &text)
        }
        Command::Series(args) => {
            let config = args.common.to_config()?;
            let progress = progress_for(args.common.quiet, args.output.is_none());
            let analysis = analyze(&config, progress.as_ref())?;
            let text = match args.format {
                SeriesFormat::Csv => series_export::to_csv(&analysis),
                SeriesFormat::Json => series_export::to_json(&analysis),
            };
            output::write(args.output.as_deref(), &text)
        }
    }
}

/// One warning line per input with skipped lines, naming the first example.
fn warn_skipped(analysis: &Analysis, quiet: bool) {
    if quiet {
        return;
    }
    for input in &analysis.inputs {
        if let Some(example) = input.skipped_examples.first() {
            eprintln!(
                "postmortem: {}: skipped {} of {} lines (first at line {}: {})",
                input.path, input.skipped, input.lines, example.line, example.reason
            );
        }
    }
}
