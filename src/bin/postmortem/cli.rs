//! The command line: clap derive types, turned into a validated, clap-free
//! [`Config`] by [`CommonArgs::to_config`]. Nothing here runs the pipeline.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[cfg(feature = "tables")]
use postmortem::Piece;
use postmortem::{
    Config, Error, InputSpec, Result, TimeSpec, UserKey, Zone, bare_number, parse_duration_us,
};

#[derive(Parser, Debug)]
#[command(
    name = "postmortem",
    version,
    about = "Reads web-stack logs after an outage and writes the postmortem with start, detection, end and impact filled in.",
    long_about = "Reads the logs of a web stack after an outage (nginx/Apache access logs, plain or .gz, as \
files, directories or stdin), finds when users started to suffer, when anyone noticed, when it ended and \
how many users were hit, and writes the postmortem with those facts filled in and a TODO wherever only \
people know the answer.\n\n\
Examples:\n  \
postmortem report /var/log/nginx/ -o postmortem.md --chart chart.svg\n  \
postmortem report --format json access.log access.log.1 access.log.2.gz\n  \
postmortem inspect /var/log/nginx/\n  \
postmortem series --bucket 5m access.log > series.csv\n\n\
Exit status: 0 when a report was written (also when no incident was found), 1 on an I/O error, \
2 on a usage error or when no input line could be parsed.",
    after_help = "Run 'postmortem <COMMAND> --help' for the options of a command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write the prefilled postmortem (Markdown or JSON).
    #[command(
        long_about = "Write the prefilled postmortem: Issue Summary (duration, impact, root-cause leads), \
Timeline, Root Cause and Resolution with the evidence, Corrective and Preventative Measures, and the \
inputs; or the same facts as JSON (schema postmortem.report/v1).\n\n\
Examples:\n  \
postmortem report /var/log/nginx/ > postmortem.md\n  \
postmortem report -o postmortem.md --chart chart.svg access.log access.log.1\n  \
postmortem report --detected-at '2023-11-12 14:15' --format json /var/log/nginx/"
    )]
    Report(ReportArgs),
    /// Show what each input is and how well it parsed.
    #[command(
        long_about = "Show, per input, the kind and format found, lines, parsed and skipped lines with \
examples, and the time range. Use it first when a report looks wrong.\n\n\
Example:\n  postmortem inspect /var/log/nginx/"
    )]
    Inspect(InspectArgs),
    /// Print the per-bucket series as CSV or JSON.
    #[command(
        long_about = "Print one row per bucket: requests, failed, slow, their ratios, p50/p95/p99 \
latency and distinct users, with the bucket's start as RFC 3339 UTC, for plotting or querying \
elsewhere.\n\n\
Examples:\n  postmortem series --bucket 5m access.log > series.csv\n  \
postmortem series --format json access.log | jq '.[] | select(.bad_ratio > 0.05)'"
    )]
    Series(SeriesArgs),
    /// Write the mergeable state of some logs as partial files (the map step).
    #[command(
        long_about = "Read logs as 'report' does and write what it keeps of them (per-bucket counts, \
latency bins, slots, users with a DataSketches HLL sketch per bucket, per-upstream and per-host \
counts, heavy hitters, events and metric points) as Parquet files, one per table, named \
<producer>.<table>.parquet, with the settings that must match to merge in each file's metadata. \
'postmortem report --from-partials' merges any number of them into the report one machine would \
have written from all the logs (docs/partials.md).\n\n\
Examples:\n  \
postmortem partial /var/log/nginx/ -o partials/ --producer web01\n  \
postmortem partial --format jsonl access.log | gzip > web01.jsonl.gz"
    )]
    Partial(PartialArgs),
    /// Write the requests of one incident's [start, end] as partial files (the exact-impact step).
    #[command(
        long_about = "Read logs as 'partial' does, keeping only the requests that arrived in \
--window START..END (an incident's start and end, copied from the JSON or Markdown of \
'report --from-partials'), and write them as partial files marked with the window. \
'report --from-partials DIR --impact IMPACT_DIR' then states that incident's requests and users \
exactly: a report from partials alone counts the whole second of the start and of the end \
(docs/partials.md). Run it on every producer, into one folder per incident.\n\n\
Example:\n  \
postmortem impact --window 2024-06-11T13:23:18.217Z..2024-06-11T14:09:32.758Z \\\n    \
/var/log/nginx/ -o impact-1/ --producer web01"
    )]
    Impact(ImpactArgs),
    /// Print the SQL query that makes the partials inside a warehouse (ClickHouse, BigQuery, Spark, DuckDB, Trino).
    #[command(
        long_about = "Print one query that computes, from a table of parsed access-log requests already in \
a warehouse, the partials 'postmortem partial' writes (buckets, latency bins, slow tails, slots, users, \
and per-upstream counts with --upstream-column), as one text column of JSON lines: run it, save the \
rows as a .jsonl file, and 'postmortem report --from-partials FILE.jsonl' writes the report \
(docs/sql.md).\n\n\
Examples:\n  \
postmortem sql --dialect duckdb --table access > q.sql\n  \
postmortem sql --dialect clickhouse --table logs.nginx --time-column ts --users ip\n  \
postmortem sql --dialect bigquery --table proj.logs.nginx --request-time-unit ms"
    )]
    // The SQL generator lives with the partials (`tables`).
    #[cfg(feature = "tables")]
    Sql(crate::sql_args::SqlArgs),
    /// Print shell completions for bash, zsh, fish, PowerShell or Elvish.
    #[command(
        long_about = "Print the completion script of a shell to stdout, generated from the same \
definitions as --help.\n\n\
Examples:\n  \
postmortem completions bash > ~/.local/share/bash-completion/completions/postmortem\n  \
postmortem completions zsh > ~/.zfunc/_postmortem\n  \
postmortem completions fish > ~/.config/fish/completions/postmortem.fish"
    )]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), generated from the same definitions as --help.
    #[command(
        long_about = "Print the postmortem(1) man page in roff to stdout, or with a command's name \
its own page (postmortem-report(1) and so on), generated from the same definitions as --help.\n\n\
Examples:\n  \
postmortem man > ~/.local/share/man/man1/postmortem.1\n  \
postmortem man report > ~/.local/share/man/man1/postmortem-report.1\n  \
postmortem man report | man -l -"
    )]
    Man {
        /// The command whose page to print; the program's page when absent.
        #[arg(value_parser = ["report", "inspect", "series", "partial", "impact", "sql", "completions"])]
        command: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// A postmortem for people.
    Markdown,
    /// The postmortem.report/v1 document for scripts.
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartialFormat {
    /// Parquet files, one per table, in the folder given with -o.
    Parquet,
    /// JSON lines on stdout, one row a line (sketches in hex), for pipes.
    Jsonl,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesFormat {
    /// A header line and one line per bucket.
    Csv,
    /// An array of objects, one per bucket.
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsersArg {
    /// The client address.
    Ip,
    /// The client address and the user agent.
    IpUa,
    /// The authenticated user; the address where it is '-'.
    RemoteUser,
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// Log files, directories or - for standard input.
    ///
    /// A directory means every regular file below it (hidden ones skipped). Compressed files
    /// (.gz) are recognised by their content. Each input's kind and format is detected from its
    /// content.
    ///
    /// Example: postmortem report /var/log/nginx/access.log /var/log/nginx/access.log.2.gz
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Access-log format: a preset name, an nginx log_format or an Apache LogFormat.
    ///
    /// Detected from the content when absent. Either a preset name (common, combined, vcombined,
    /// nginx-main, each optionally followed by +request_time, +usec (%D) or +sec (%T);
    /// ingress-nginx; json), or the definition from the server's configuration, as written there:
    /// an nginx log_format ('$remote_addr - $remote_user [$time_local] "$request" ...', with or
    /// without `log_format NAME` and its quotes) or an Apache LogFormat ('%h %l %u %t \"%r\" %>s
    /// %b ...', with or without `LogFormat "..." nickname`). 'postmortem inspect' shows what was
    /// detected.
    ///
    /// Example: --log-format nginx-main
    ///
    /// More examples:
    ///   --log-format '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time'
    ///   --log-format 'LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\" %D" combined_usec'
    #[arg(long, value_name = "PRESET|TEMPLATE")]
    pub log_format: Option<String>,
    /// Zone of the report and of timestamps without one: +01:00, UTC or an IANA name.
    ///
    /// Default: the offset the access logs carry, else UTC. Times in the Markdown report, the
    /// chart's axis and zoneless --since/--until/--detected-at values are read in this zone.
    ///
    /// Example: --tz Europe/Berlin
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Year for syslog lines that carry none (RFC 3164).
    ///
    /// Default: inferred from the other inputs' time range, else the file's modification time.
    ///
    /// Example: --year 2023
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,
    /// Analyse only from this time on.
    ///
    /// RFC 3339 (2023-11-12T14:00:00Z), or 'YYYY-MM-DD HH:MM[:SS]' read in the logs' zone.
    ///
    /// Example: --since '2023-11-12 13:00'
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Analyse only up to this time.
    ///
    /// RFC 3339, or 'YYYY-MM-DD HH:MM[:SS]' read in the logs' zone.
    ///
    /// Example: --until '2023-11-12 18:00'
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Bucket width of the series: 30s, 1m, 5m, 1h, 1d.
    ///
    /// A whole number of seconds, with its unit (s, m, h, d). Finer buckets show short incidents
    /// better; wider ones keep series of weeks small.
    ///
    /// Example: --bucket 30s
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub bucket: String,
    /// A request slower than this is slow [default: max(1 s, 4 × baseline p99)].
    ///
    /// A slow request counts as bad, like a failed one (5xx or 499). The unit is required (ms,
    /// s, m): a bare number is refused rather than guessed.
    ///
    /// Example: --slow 500ms
    #[arg(long, value_name = "DURATION")]
    pub slow: Option<String>,
    /// What identifies one user when counting users.
    ///
    /// Example: --users ip
    #[arg(long, value_enum, value_name = "KEY", default_value = "ip-ua")]
    pub users: UsersArg,
    /// Memory (MB) the exact per-minute user sets may take before they switch to sketches.
    ///
    /// Each user seen in a bucket costs about 40 bytes; past this budget every bucket keeps two
    /// HyperLogLog sketches instead (at most 8 KiB), so a site with 100,000 users a minute
    /// still fits. Each incident's users are then counted exactly by reading its lines again;
    /// where that cannot be done (standard input, a report from partials without --impact)
    /// they are estimates, said "about" in the report, within ±3.3% at 95% confidence.
    ///
    /// Example: --exact-users-mb 400
    #[arg(long, value_name = "MB", default_value_t = 100)]
    pub exact_users_mb: u64,
    /// No progress bar and no warnings on stderr.
    ///
    /// Without it, a progress bar is shown on stderr when stderr is a terminal (never when JSON
    /// or CSV goes to stdout), and skipped lines are summarised there.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
#[command(mut_arg("inputs", |arg| arg.required(false).required_unless_present("from_partials")))]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Merge the partial files in these folders instead of reading logs (the reduce step).
    ///
    /// Folders written by 'postmortem partial -o', from any number of producers, in any order,
    /// or JSON-lines files ('partial --format jsonl', a Spark job's or a warehouse query's
    /// output: *.jsonl, *.jsonl.gz); every partial must have been made with the same --bucket,
    /// --slow, --users and --alert-pattern. The report is the one a single run over all the
    /// producers' logs writes.
    ///
    /// Example: --from-partials partials/ web07.jsonl.gz
    #[arg(long = "from-partials", value_name = "DIR|FILE", num_args = 1.., conflicts_with = "inputs")]
    pub from_partials: Vec<PathBuf>,
    /// With --from-partials: folders (or JSON-lines files) of 'postmortem impact', one per incident, for exact counts.
    ///
    /// Without them a report from partials counts the whole second of each incident's start
    /// and end (the JSON says "requests_exact": false).
    ///
    /// Example: --impact impact-1/
    #[arg(long = "impact", value_name = "DIR|FILE", num_args = 1.., requires = "from_partials")]
    pub impact: Vec<PathBuf>,
    /// Output format: markdown for people, json for scripts.
    ///
    /// Example: --format json
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout (- is stdout).
    ///
    /// The file is replaced only when the report is complete. A chart link in the Markdown is
    /// relative to this file's folder.
    ///
    /// Example: -o postmortem.md
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also draw requests, bad-request ratio and p95 latency as an SVG chart.
    ///
    /// Three panels on one time axis in the logs' zone, each incident shaded, detection and
    /// changes marked. The Markdown report embeds it.
    ///
    /// Example: --chart chart.svg
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Availability objective in percent for the burn-rate detection rule.
    ///
    /// When no alert is found in the logs, detection is the first moment the SRE Workbook's
    /// multiwindow burn-rate alert against this objective would have fired.
    ///
    /// Example: --slo 99.5
    #[arg(long, value_name = "PERCENT", default_value = "99.9")]
    pub slo: f64,
    /// The detection time, when you know it.
    ///
    /// RFC 3339, or 'YYYY-MM-DD HH:MM[:SS]' read in the logs' zone. Overrides alerts in the logs
    /// and the burn-rate rule.
    ///
    /// Example: --detected-at '2023-11-12 14:15'
    #[arg(long, value_name = "TIME")]
    pub detected_at: Option<String>,
    /// A log line matching this regular expression is an alert (repeatable), besides the built-in set.
    #[arg(
        long = "alert-pattern",
        value_name = "REGEX",
        long_help = "A syslog or error-log line matching this regular expression (regex crate syntax, matched against 'program: message') counts as an alert, besides the built-in set (Nagios/Icinga, Alertmanager, Monit, Zabbix). Repeatable.\n\nExample: --alert-pattern 'PagerDuty.*triggered'"
    )]
    pub alert_patterns: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format: a table for people, or JSON.
    ///
    /// Example: --format json
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write to FILE instead of stdout (replaced only when complete; - is stdout).
    ///
    /// Example: -o inputs.md
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PartialArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Parquet files in the folder given with -o, or JSON lines on stdout.
    ///
    /// Example: --format jsonl
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: PartialFormat,
    /// The folder to write the Parquet files into (created if missing).
    ///
    /// Files are named <producer>.<table>.parquet, so many producers can share one folder.
    ///
    /// Example: -o partials/
    #[arg(long, short, value_name = "DIR", required_if_eq("format", "parquet"))]
    pub output: Option<PathBuf>,
    /// The name of this producer in the file names [default: the host name].
    ///
    /// Letters, digits, '-', '_' and '.'. Two producers must not share a name.
    ///
    /// Example: --producer web01
    #[arg(long, value_name = "NAME")]
    pub producer: Option<String>,
    /// A syslog or error-log line matching this regular expression is an alert (repeatable).
    ///
    /// As for 'report': events are sorted when the logs are read, so every producer needs the same.
    #[arg(long = "alert-pattern", value_name = "REGEX")]
    pub alert_patterns: Vec<String>,
    /// The one input is a piece of this file (a split -l piece, a Spark partition), with --first-line.
    ///
    /// Line references, skipped lines and the input's statistics are written as the file's, and the
    /// reduce step merges the pieces of one file into one input (docs/partials.md, "Pieces of one file").
    ///
    /// Example: --as /var/log/nginx/access.log --first-line 200001 -
    #[arg(long = "as", value_name = "PATH", requires = "first_line")]
    pub as_path: Option<String>,
    /// The line number, in the file named by --as, of the input's first line (1 for the first piece).
    ///
    /// Lines of the decompressed text, counted from 1, as 'split -l' and 'sed -n' count them.
    ///
    /// Example: --first-line 200001
    #[arg(long = "first-line", value_name = "N", requires = "as_path")]
    pub first_line: Option<u64>,
}

#[derive(Args, Debug)]
pub struct ImpactArgs {
    #[command(flatten)]
    pub partial: PartialArgs,
    /// The incident's start and end, as the report gives them: START..END in RFC 3339.
    ///
    /// Example: --window 2024-06-11T13:23:18.217Z..2024-06-11T14:09:32.758Z
    #[arg(long, value_name = "START..END")]
    pub window: String,
}

// What the partial commands read of their arguments: only in builds that
// have the partials (`tables`); others refuse the commands first.
#[cfg(feature = "tables")]
impl ImpactArgs {
    /// `--window` as epoch milliseconds.
    pub fn window(&self) -> Result<(postmortem::Millis, postmortem::Millis)> {
        parse_window(&self.window)
    }
}

/// A `--window START..END` (both times with their zone) as epoch
/// milliseconds (`impact`, `sql`: builds with `tables`).
#[cfg(feature = "tables")]
pub fn parse_window(text: &str) -> Result<(postmortem::Millis, postmortem::Millis)> {
    let text = text.trim();
    let absolute = |part: &str| match parse_time_arg("--window", part)? {
        TimeSpec::Absolute(at) => Ok(at),
        TimeSpec::Local(_) => Err(Error::Usage(format!(
            "--window '{text}': give both times with their zone, as the report writes them (2024-06-11T13:23:18.217Z)"
        ))),
    };
    let Some((start, end)) = text.split_once("..") else {
        return Err(Error::Usage(format!(
            "--window '{text}' is not START..END: give the incident's start and end, e.g. --window 2024-06-11T13:23:18.217Z..2024-06-11T14:09:32.758Z"
        )));
    };
    let (start, end) = (absolute(start)?, absolute(end)?);
    if start > end {
        return Err(Error::Usage(format!(
            "--window '{text}': the start is after the end: swap them"
        )));
    }
    Ok((start, end))
}

#[cfg(feature = "tables")]
impl PartialArgs {
    pub fn to_config(&self) -> Result<Config> {
        let mut config = self.common.to_config()?;
        config.alert_patterns = self.alert_patterns.clone();
        Ok(config)
    }

    /// `--as` and `--first-line`, when the input is a piece of a file.
    pub fn piece(&self) -> Result<Option<Piece>> {
        match (&self.as_path, self.first_line) {
            (Some(path), Some(first_line)) => Piece::new(path.clone(), first_line).map(Some),
            _ => Ok(None),
        }
    }

    /// `--producer`, else this machine's host name with the characters a
    /// file name cannot hold replaced by '-', else "local".
    pub fn producer(&self) -> String {
        if let Some(name) = &self.producer {
            return name.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        let cleaned: String = host
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let cleaned = cleaned.trim_start_matches('.').to_string();
        if cleaned.is_empty() {
            "local".to_string()
        } else {
            cleaned
        }
    }
}

#[derive(Args, Debug)]
pub struct SeriesArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format: csv or json.
    ///
    /// Example: --format json
    #[arg(long, value_enum, default_value = "csv")]
    pub format: SeriesFormat,
    /// Write to FILE instead of stdout (replaced only when complete; - is stdout).
    ///
    /// Example: -o series.csv
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl CommonArgs {
    /// The validated configuration these arguments describe.
    pub fn to_config(&self) -> Result<Config> {
        let bucket_us = duration_arg("--bucket", &self.bucket, ["s", "m"], "30s, 1m or 5m")?;
        if bucket_us % 1_000_000 != 0 {
            return Err(Error::Usage(format!(
                "--bucket '{}' must be a whole number of seconds, e.g. 30s, 1m or 5m",
                self.bucket
            )));
        }
        let slow_threshold_us = self
            .slow
            .as_deref()
            .map(|text| duration_arg("--slow", text, ["ms", "s"], "1s, 500ms or 2.5s"))
            .transpose()?;
        let tz = match &self.tz {
            None => None,
            Some(text) => Some(Zone::parse(text).ok_or_else(|| {
                Error::Usage(format!(
                    "--tz '{text}' is not a zone: use an offset (+01:00), UTC, or an IANA name (Europe/Berlin)"
                ))
            })?),
        };
        let since = self
            .since
            .as_deref()
            .map(|t| parse_time_arg("--since", t))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| parse_time_arg("--until", t))
            .transpose()?;
        Ok(Config {
            inputs: self.inputs.iter().map(|s| InputSpec::from_arg(s)).collect(),
            log_format: self.log_format.clone(),
            tz,
            year: self.year,
            since,
            until,
            bucket_ms: (bucket_us / 1000) as i64,
            slow_threshold_us,
            user_key: match self.users {
                UsersArg::Ip => UserKey::Ip,
                UsersArg::IpUa => UserKey::IpUserAgent,
                UsersArg::RemoteUser => UserKey::RemoteUser,
            },
            exact_users_bytes: self.exact_users_mb.saturating_mul(1_000_000),
            ..Config::default()
        })
    }
}

impl ReportArgs {
    /// `--chart`, checked before any input is read: the chart is SVG, so a
    /// name ending otherwise is almost surely a mistake.
    pub fn chart_path(&self) -> Result<Option<&std::path::Path>> {
        match self.chart.as_deref() {
            None => Ok(None),
            Some(path)
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("svg")) =>
            {
                Ok(Some(path))
            }
            Some(path) => Err(Error::Usage(format!(
                "--chart '{}': the chart is drawn as SVG; give a file name ending in .svg, e.g. --chart chart.svg",
                path.display()
            ))),
        }
    }

    pub fn to_config(&self) -> Result<Config> {
        let mut config = self.common.to_config()?;
        if !(self.slo > 0.0 && self.slo < 100.0) {
            return Err(Error::Usage(format!(
                "--slo {} is not an objective: give a percentage between 0 and 100, e.g. 99.9",
                self.slo
            )));
        }
        config.slo_percent = self.slo;
        config.alert_patterns = self.alert_patterns.clone();
        config.detected_at = self
            .detected_at
            .as_deref()
            .map(|t| parse_time_arg("--detected-at", t))
            .transpose()?;
        Ok(config)
    }
}

/// Parses the duration `text` given to `flag`. A bare number is refused with
/// the two readings it most likely meant (`likely_units`), since guessing
/// one silently changes every count; anything else unreadable names
/// `examples`.
pub fn duration_arg(
    flag: &str,
    text: &str,
    likely_units: [&str; 2],
    examples: &str,
) -> Result<u64> {
    if let Some(number) = bare_number(text) {
        let [first, second] = likely_units;
        return Err(Error::Usage(format!(
            "{flag} {number} has no unit: did you mean `{flag} {number}{first}` or `{flag} {number}{second}`? (units: ms, s, m, h, d)"
        )));
    }
    parse_duration_us(text).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} '{text}' is not a duration: use e.g. {examples} (units: ms, s, m, h, d)"
        ))
    })
}

/// Parses a `--detected-at`/`--since`/`--until` value.
pub fn parse_time_arg(flag: &str, text: &str) -> Result<TimeSpec> {
    TimeSpec::parse(text).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} '{text}' is not a time: use RFC 3339 (2023-11-12T14:15:00Z) or 'YYYY-MM-DD HH:MM[:SS]' in the logs' zone"
        ))
    })
}
