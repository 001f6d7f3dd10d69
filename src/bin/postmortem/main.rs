//! The `postmortem` binary: parses arguments, runs the pipeline, writes the
//! output and maps errors to the contract's exit codes (0 report written,
//! 1 I/O or internal error, 2 usage error or nothing parsed).

mod cli;
mod output;
#[cfg(feature = "tables")]
mod sql_args;
mod term_progress;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

#[cfg(feature = "tables")]
use cli::PartialFormat;
use cli::{Cli, Command, ReportFormat, SeriesFormat};
use postmortem::{
    Error, Findings, InputKind, NoProgress, Progress, Report, analyze, chart, inspect, inspection,
    json, markdown, series_table,
};
// The Parquet partials exist only in builds with the `tables` feature.
#[cfg(feature = "tables")]
use postmortem::{
    analyze_partials, impact_jsonl, partials_jsonl, write_impact_partials, write_partials,
};

fn main() -> ExitCode {
    use_one_malloc_arena();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("postmortem: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

/// Asks glibc's allocator for a single arena. By default each thread that
/// allocates gets its own (up to 8 per core), and a bucket allocated by a
/// worker and freed after the merge on another thread leaves free space in
/// the worker's arena that no one else reuses: the 4-host week of
/// BENCHMARKS.md peaked at 175 MB with the default and 133 MB with one
/// arena, with the same report and CPU time. Contention is not a cost here:
/// the per-line path allocates nothing, and the workers allocate a few
/// times per bucket and chunk. `MALLOC_ARENA_MAX` in the environment is
/// overridden.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn use_one_malloc_arena() {
    // SAFETY: `mallopt` only sets one of glibc's allocator tunables; it is
    // called first thing in `main`, before any other thread exists. Its
    // result (0 when the value is refused) needs no handling: the default
    // is a correct, if larger, allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other C libraries keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn use_one_malloc_arena() {}

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
            let chart = args.chart_path()?;
            let output = output::destination(args.output.as_deref());
            let json_to_stdout = args.format == ReportFormat::Json && output.is_none();
            let progress = progress_for(args.common.quiet, json_to_stdout);
            let analysis = if args.from_partials.is_empty() {
                analyze(&config, progress.as_ref()).map_err(with_input_advice)?
            } else {
                report_from_partials(&config, args, progress.as_ref())?
            };
            warn_skipped(&analysis, args.common.quiet);
            if let Some(chart) = chart {
                let svg = chart::render_svg(&analysis).map_err(|e| Error::Io {
                    path: chart.to_path_buf(),
                    source: std::io::Error::other(e),
                })?;
                output::write(Some(chart), &svg)?;
            }
            let text = match args.format {
                ReportFormat::Json => json::render(&Report::from_findings(&analysis)),
                ReportFormat::Markdown => {
                    let options = markdown::MarkdownOptions {
                        chart_link: chart.map(|chart| output::relative_link(chart, output)),
                    };
                    markdown::render_with(&analysis, &options)
                }
            };
            output::write(output, &text)
        }
        Command::Inspect(args) => {
            let config = args.common.to_config()?;
            let output = output::destination(args.output.as_deref());
            let progress = progress_for(
                args.common.quiet,
                args.format == ReportFormat::Json && output.is_none(),
            );
            let inspection = inspect(&config, progress.as_ref()).map_err(with_input_advice)?;
            let text = match args.format {
                ReportFormat::Json => inspection::render_json(&inspection),
                ReportFormat::Markdown => inspection::render_markdown(&inspection),
            };
            output::write(output, &text)?;
            // The table says per input why nothing was read; the exit status
            // still tells a script that nothing could be parsed.
            if inspection.inputs.iter().all(|input| input.parsed == 0) {
                return Err(Error::NothingParsed(
                    "no line of any input could be parsed (the table says why, one input a row): point postmortem at an access log, or give its format with --log-format".into(),
                ));
            }
            Ok(())
        }
        Command::Series(args) => {
            let config = args.common.to_config()?;
            let output = output::destination(args.output.as_deref());
            let progress = progress_for(args.common.quiet, output.is_none());
            let analysis = analyze(&config, progress.as_ref()).map_err(with_input_advice)?;
            warn_skipped(&analysis, args.common.quiet);
            let text = match args.format {
                SeriesFormat::Csv => series_table::to_csv(&analysis, config.tz.as_ref()),
                SeriesFormat::Json => series_table::to_json(&analysis, config.tz.as_ref()),
            };
            output::write(output, &text)
        }
        #[cfg(not(feature = "tables"))]
        Command::Partial(_) => Err(lacks_tables("partial")),
        #[cfg(not(feature = "tables"))]
        Command::Impact(_) => Err(lacks_tables("impact")),
        #[cfg(feature = "tables")]
        Command::Partial(args) => {
            let config = args.to_config()?;
            let producer = args.producer();
            let piece = args.piece()?;
            match (args.format, &args.output) {
                (PartialFormat::Parquet, Some(dir)) => {
                    let progress = progress_for(args.common.quiet, false);
                    let written = write_partials(&config, dir, &producer, piece.as_ref(), progress.as_ref())
                        .map_err(with_input_advice)?;
                    if !args.common.quiet {
                        eprintln!(
                            "postmortem: wrote {} partial files of producer '{producer}' to {}",
                            written.len(),
                            dir.display()
                        );
                    }
                    Ok(())
                }
                (PartialFormat::Parquet, None) => Err(Error::Usage(
                    "partial: give the folder to write the Parquet files into with -o, e.g. -o partials/ (or --format jsonl for stdout)".into(),
                )),
                (PartialFormat::Jsonl, _) => {
                    let progress = progress_for(args.common.quiet, true);
                    let text = partials_jsonl(&config, &producer, piece.as_ref(), progress.as_ref())
                        .map_err(with_input_advice)?;
                    output::write(output::destination(args.output.as_deref()), &text)
                }
            }
        }
        #[cfg(feature = "tables")]
        Command::Impact(args) => {
            let window = args.window()?;
            let config = args.partial.to_config()?;
            let producer = args.partial.producer();
            let piece = args.partial.piece()?;
            match (args.partial.format, &args.partial.output) {
                (PartialFormat::Parquet, Some(dir)) => {
                    let progress = progress_for(args.partial.common.quiet, false);
                    let written = write_impact_partials(&config, window, dir, &producer, piece.as_ref(), progress.as_ref())
                        .map_err(with_input_advice)?;
                    if !args.partial.common.quiet {
                        eprintln!(
                            "postmortem: wrote {} impact partial files of producer '{producer}' to {}",
                            written.len(),
                            dir.display()
                        );
                    }
                    Ok(())
                }
                (PartialFormat::Parquet, None) => Err(Error::Usage(
                    "impact: give the folder to write the Parquet files into with -o, e.g. -o impact-1/ (or --format jsonl for stdout)".into(),
                )),
                (PartialFormat::Jsonl, _) => {
                    let progress = progress_for(args.partial.common.quiet, true);
                    let text = impact_jsonl(&config, window, &producer, piece.as_ref(), progress.as_ref())
                        .map_err(with_input_advice)?;
                    output::write(output::destination(args.partial.output.as_deref()), &text)
                }
            }
        }
        #[cfg(feature = "tables")]
        Command::Sql(args) => {
            let query = postmortem::sql_query(&args.to_request()?)?;
            output::write(None, &query)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), BINARY_NAME, &mut script);
            output::write(None, &String::from_utf8_lossy(&script))
        }
        Command::Man { command } => {
            let mut program = Cli::command();
            // Built, the subcommands carry their page names
            // (`postmortem-report`), as their SEE ALSO entries expect.
            program.build();
            let page_of = match command.as_deref() {
                None => program,
                Some(name) => program
                    .find_subcommand(name)
                    .cloned()
                    .ok_or_else(|| Error::Usage(format!("no command '{name}' to document")))?,
            };
            let mut page = Vec::new();
            clap_mangen::Man::new(page_of)
                .source(format!("{BINARY_NAME} {}", env!("CARGO_PKG_VERSION")))
                .render(&mut page)
                .map_err(|source| Error::Io {
                    path: "standard output".into(),
                    source,
                })?;
            output::write(None, &String::from_utf8_lossy(&page))
        }
    }
}

/// `report --from-partials`: the partials read back, in builds that have them.
#[cfg(feature = "tables")]
fn report_from_partials(
    config: &postmortem::Config,
    args: &cli::ReportArgs,
    progress: &dyn Progress,
) -> Result<Findings, Error> {
    analyze_partials(config, &args.from_partials, &args.impact, progress).map_err(with_input_advice)
}

/// Without the `tables` feature there are no partials to read.
#[cfg(not(feature = "tables"))]
fn report_from_partials(
    _config: &postmortem::Config,
    _args: &cli::ReportArgs,
    _progress: &dyn Progress,
) -> Result<Findings, Error> {
    Err(lacks_tables("report --from-partials"))
}

/// The usage error (exit 2) of a command this build cannot run: built
/// without the `tables` feature (no polars), it has no Parquet partials.
#[cfg_attr(feature = "tables", allow(dead_code))]
fn lacks_tables(command: &str) -> Error {
    Error::Usage(format!(
        "{command}: this build lacks it (built without the `tables` feature, which holds the Parquet partials): rebuild with default features, e.g. cargo build --release"
    ))
}

/// The name completions and the man page are written for.
const BINARY_NAME: &str = "postmortem";

/// An input that cannot be opened: say what to check, not only the OS error.
fn with_input_advice(error: Error) -> Error {
    let advice = match &error {
        Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => {
                "no such file or directory: check the path (an input is a file, a directory or - for standard input)"
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied: run as a user who may read it (the web server's log group, or sudo)"
            }
            _ => return error,
        },
        _ => return error,
    };
    match error {
        Error::Io { path, source } => Error::Io {
            path,
            source: std::io::Error::new(source.kind(), advice),
        },
        other => other,
    }
}

/// One warning line per input with skipped lines, naming the first example.
fn warn_skipped(analysis: &Findings, quiet: bool) {
    if quiet {
        return;
    }
    for input in &analysis.inputs {
        if input.kind == InputKind::Unknown
            && input.error.is_none()
            && let Some(note) = &input.note
        {
            // Not a log at all (a README, a ground-truth file beside the
            // logs): its note says why and what to do, once.
            if input.lines > 0 {
                eprintln!(
                    "postmortem: {}: {} lines skipped, {note}",
                    input.path, input.lines
                );
            }
            continue;
        }
        if let Some(example) = input.skipped_examples.first() {
            eprintln!(
                "postmortem: {}: skipped {} of {} lines (first at line {}: {})",
                input.path, input.skipped, input.lines, example.line, example.reason
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_this_build_lacks_is_one_line_naming_the_rebuild() {
        for command in ["partial", "impact", "report --from-partials"] {
            let error = lacks_tables(command);
            assert_eq!(error.exit_code(), 2, "{command}: a usage error");
            let text = error.to_string();
            assert_eq!(
                text,
                format!(
                    "{command}: this build lacks it (built without the `tables` feature, which holds the Parquet partials): rebuild with default features, e.g. cargo build --release"
                )
            );
            assert!(!text.contains('\n'), "{command}: one line");
        }
    }
}
