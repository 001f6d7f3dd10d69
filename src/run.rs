//! The run itself: inputs -> ingest -> series -> detect, giving the
//! [`Findings`] that the report module renders. The binary calls [`analyze`]
//! (and [`inspect`] for `postmortem inspect`) and nothing else of the
//! pipeline; this module only calls the rooms in order.

use crate::config::{Config, InputSpec};
use crate::detect::{self, DetectOptions, Findings, Observations};
use crate::error::{Error, Result};
use crate::ingest::events::Classifier;
use crate::ingest::evidence::EvidenceOptions;
use crate::ingest::reader::{self, Source};
use crate::ingest::{self, IngestOptions, Ingested, InputStats, sniff};
#[cfg(feature = "tables")]
use crate::partials::{self, Settings, pieces::Piece};
use crate::progress::Progress;
use crate::series::MIN_DEFAULT_SLOW_US;
use crate::series::dims::DimensionSeries;
use crate::series::widen::Widening;
#[cfg(feature = "tables")]
use crate::timefmt::TimeSpec;
use crate::timefmt::{Millis, Zone};

/// The most buckets a run may span: a year of one-minute buckets. Beyond
/// it a stray timestamp, not the log, is usually to blame. Never reached
/// since spans longer than [`SERIES_BUCKET_LIMIT`] are widened; kept as the
/// series room's guard.
pub const MAX_BUCKETS: usize = 366 * 24 * 60;

/// The most buckets a run's series holds: two weeks of the default
/// one-minute buckets. Detection and the report do work for every bucket
/// of the span, requests or not (the baseline, the burn-rate replay, the
/// chart), so a sparse month at one minute costs as much as a dense one;
/// a longer span is read at the narrowest wider bucket that fits (a month
/// at 1 min becomes 5 min) with a notice, and the edges stay the first and
/// last bad request (slots stay one second wide up to one-hour buckets).
/// Two weeks keeps the week of rotated logs from several hosts at the
/// one-minute bucket asked for.
pub const SERIES_BUCKET_LIMIT: u64 = 14 * 24 * 60;

/// Runs the whole pipeline on `config`'s inputs.
pub fn analyze(config: &Config, progress: &dyn Progress) -> Result<Findings> {
    let (inputs, mut ingested, read) =
        read_inputs(config, progress, NothingParsed::Fails, Vec::new())?;
    let chunk_spans = std::mem::take(&mut ingested.chunk_spans);
    let entry_points = std::mem::take(&mut ingested.entry_points);
    let first_read = inputs.clone();
    let mut findings = detect_in(config, inputs, ingested, progress)?;
    recount_edges(
        &mut findings,
        &read,
        &first_read,
        (&chunk_spans, &entry_points),
    );
    Ok(findings)
}

/// Makes the incidents' request counts exact: the lines that may hold a
/// request of the edge seconds outside `[start, end]` are read again and
/// counted ([`detect::recount`]).
fn recount_edges(
    findings: &mut Findings,
    read: &FirstRead,
    first_read: &[InputStats],
    (chunk_spans, entry_points): (
        &[Vec<ingest::recount::ChunkSpan>],
        &[Option<std::sync::Arc<ingest::reader::EntryPoints>>],
    ),
) {
    let windows = detect::recount::edge_windows(findings);
    let user_windows = detect::recount::user_windows(findings);
    if windows.is_empty() && user_windows.is_empty() {
        return;
    }
    let plan = ingest::recount::Recount {
        windows: windows.iter().map(|w| (w.from, w.to)).collect(),
        user_windows: user_windows.iter().map(|w| (w.from, w.to)).collect(),
        ingest_slow_us: read.options.ingest_slow_us,
        threshold_us: findings.slow_threshold_us,
    };
    let recounted = ingest::recount::recount(
        &read.sources,
        &read.options,
        first_read,
        (chunk_spans, entry_points),
        &plan,
    );
    if recounted.complete {
        detect::recount::apply_users(findings, &user_windows, &recounted.tally.users);
        detect::recount::apply(findings, &windows, &recounted.tally.counts);
    } else {
        detect::recount::mark_unread(findings);
    }
}

/// What the first read was: its sources and options, for the second read
/// of the edges.
struct FirstRead {
    sources: Vec<Source>,
    options: IngestOptions,
}

/// The settings a partial of `config`'s run is written with.
#[cfg(feature = "tables")]
fn partial_settings(config: &Config) -> Settings {
    Settings {
        bucket_ms: crate::series::SeriesBuilder::new(config.bucket_ms, 0).bucket_ms(),
        ingest_slow_us: config.slow_threshold_us.unwrap_or(MIN_DEFAULT_SLOW_US),
        slow_given: config.slow_threshold_us.is_some(),
        user_key: config.user_key,
        alert_patterns: config.alert_patterns.clone(),
        window: None,
        user_hash: partials::USER_HASH.to_string(),
    }
}

/// `postmortem impact`: the exact-impact step of a report from partials.
/// Reads `config`'s inputs keeping only the requests that arrived in
/// `window` (an incident's `[start, end]`, from a first report) and writes
/// them as partial files marked with the window, which `report
/// --from-partials --impact` merges and counts whole: the requests of the
/// edge seconds outside the window are not in them. A `piece` is read as
/// `write_partials` reads it.
#[cfg(feature = "tables")]
pub fn write_impact_partials(
    config: &Config,
    window: (Millis, Millis),
    dir: &std::path::Path,
    producer: &str,
    piece: Option<&Piece>,
    progress: &dyn Progress,
) -> Result<Vec<std::path::PathBuf>> {
    let (mut ingested, settings) = read_for_impact(config, window, producer, piece, progress)?;
    partials::write_dir(dir, producer, &settings, &mut ingested, piece)
}

/// `postmortem impact --format jsonl`: the impact partials as JSON lines
/// (a Spark partition's output, contrib/spark/).
#[cfg(feature = "tables")]
pub fn impact_jsonl(
    config: &Config,
    window: (Millis, Millis),
    producer: &str,
    piece: Option<&Piece>,
    progress: &dyn Progress,
) -> Result<String> {
    let (mut ingested, settings) = read_for_impact(config, window, producer, piece, progress)?;
    partials::to_jsonl(producer, &settings, &mut ingested, piece)
}

/// The requests of `window` (within the producer's own --since/--until)
/// and the settings that mark them as that window's.
#[cfg(feature = "tables")]
fn read_for_impact(
    config: &Config,
    window: (Millis, Millis),
    producer: &str,
    piece: Option<&Piece>,
    progress: &dyn Progress,
) -> Result<(Ingested, Settings)> {
    partials::check_producer(producer)?;
    // A producer given its own --since/--until (one of several time
    // ranges) counts the part of the window inside its range, its times
    // placed as the map step placed them (`read_inputs`: --tz, else the
    // offset the logs carry).
    let zone = if config.since.is_some() || config.until.is_some() {
        zone_hint(config.tz, &reader::expand_inputs(&config.inputs)?.sources)
    } else {
        Zone::Fixed(0)
    };
    let own_since = config.since.map(|since| since.resolve(&zone));
    let own_until = config.until.map(|until| until.resolve(&zone));
    let since = own_since.map_or(window.0, |since| since.max(window.0));
    let until = own_until.map_or(window.1, |until| until.min(window.1));
    // Where the incident's start row may end: those slots' requests are
    // kept one by one (the part of them in this producer's range), so the
    // row is counted to the millisecond (`detect::recount`).
    let edge_capture: Vec<(Millis, Millis)> =
        detect::recount::start_row_far_edges(window, config.bucket_ms)
            .into_iter()
            .map(|(from, to)| {
                (
                    own_since.map_or(from, |s| s.max(from)),
                    own_until.map_or(to, |u| u.min(to)),
                )
            })
            .filter(|(from, to)| from <= to)
            .collect();
    if since > until && edge_capture.is_empty() {
        return Err(Error::Usage(format!(
            "the window {}..{} lies outside this producer's --since/--until: it holds none of the window's requests, so no impact partial is needed from it",
            crate::timefmt::rfc3339_utc(window.0),
            crate::timefmt::rfc3339_utc(window.1),
        )));
    }
    let mut config = config.clone();
    // A producer whose range misses the window but holds a start row's
    // edge folds no request: its range is one instant no log line has
    // (before the year 0, which no arrival reaches).
    let (since, until) = if since > until {
        (NO_ARRIVAL_MS, NO_ARRIVAL_MS)
    } else {
        (since, until)
    };
    config.since = Some(TimeSpec::Absolute(since));
    config.until = Some(TimeSpec::Absolute(until));
    // The window bounds the users: they stay exact whatever the budget,
    // which is what makes the report's figures exact (`report --impact`).
    config.exact_users_bytes = u64::MAX;
    let ingested = read_for_partials(&config, piece, progress, edge_capture)?;
    let settings = Settings {
        window: Some(window),
        ..partial_settings(&config)
    };
    Ok((ingested, settings))
}

/// An instant no request arrives at: before the year 0, which
/// [`crate::timefmt::WRITABLE_MS`] keeps every arrival after.
#[cfg(feature = "tables")]
const NO_ARRIVAL_MS: Millis = i64::MIN / 2;

/// `postmortem partial`: reads `config`'s inputs as [`analyze`] does and
/// writes what ingest kept as partial files in `dir`, named after
/// `producer`; returns the paths written. With a `piece` (`--as
/// --first-line`), the one input is those lines of that file.
#[cfg(feature = "tables")]
pub fn write_partials(
    config: &Config,
    dir: &std::path::Path,
    producer: &str,
    piece: Option<&Piece>,
    progress: &dyn Progress,
) -> Result<Vec<std::path::PathBuf>> {
    // Refused before the inputs are read, which may take long.
    partials::check_producer(producer)?;
    let ingested = read_for_partials(config, piece, progress, Vec::new())?;
    partials::write_dir(
        dir,
        producer,
        &partial_settings(config),
        &mut { ingested },
        piece,
    )
}

/// `postmortem partial --format jsonl`: the same tables as JSON lines.
#[cfg(feature = "tables")]
pub fn partials_jsonl(
    config: &Config,
    producer: &str,
    piece: Option<&Piece>,
    progress: &dyn Progress,
) -> Result<String> {
    let ingested = read_for_partials(config, piece, progress, Vec::new())?;
    partials::to_jsonl(
        producer,
        &partial_settings(config),
        &mut { ingested },
        piece,
    )
}

/// What `partial` writes: the inputs read, their statistics in
/// `inputs`. A piece of a file may hold no line that parses (a run of
/// blank lines, the tail of a damaged file): its lines are still the
/// file's, counted when the pieces merge, and the reduce step refuses a
/// run where nothing parsed at all.
#[cfg(feature = "tables")]
fn read_for_partials(
    config: &Config,
    piece: Option<&Piece>,
    progress: &dyn Progress,
    edge_capture: Vec<(Millis, Millis)>,
) -> Result<Ingested> {
    if let Some(piece) = piece
        && config.inputs.len() != 1
    {
        return Err(Error::Usage(format!(
            "--as {} --first-line {} names one file's lines, but {} inputs were given: give one file or - (standard input)",
            piece.path,
            piece.first_line,
            config.inputs.len()
        )));
    }
    let nothing_parsed = if piece.is_some() {
        NothingParsed::Allowed
    } else {
        NothingParsed::Fails
    };
    // `--exact-users-mb` applies as in a run: past it, the buckets are
    // written sketched (docs/partials.md, `users_sketched`).
    let (inputs, mut ingested, _) = read_inputs(config, progress, nothing_parsed, edge_capture)?;
    ingested.inputs = inputs;
    Ok(ingested)
}

/// `postmortem report --from-partials`: merges the partials in `dirs` and
/// runs detection on them as [`analyze`] does on logs. The partials'
/// settings are the run's: `--slow`, when given, must be theirs.
#[cfg(feature = "tables")]
pub fn analyze_partials(
    config: &Config,
    dirs: &[std::path::PathBuf],
    impact_dirs: &[std::path::PathBuf],
    progress: &dyn Progress,
) -> Result<Findings> {
    let (settings, mut ingested) = partials::read_dirs(dirs, config.exact_users_bytes)?;
    if let Some(window) = settings.window {
        return Err(Error::Usage(format!(
            "{}: these partials hold only the requests of {}..{} (written by `postmortem impact`): give them with --impact, beside --from-partials with the partials of `postmortem partial`",
            dirs.first()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            crate::timefmt::rfc3339_utc(window.0),
            crate::timefmt::rfc3339_utc(window.1),
        )));
    }
    let mut config = config.clone();
    match (config.slow_threshold_us, settings.slow_given) {
        (Some(given), _) if given != settings.ingest_slow_us || !settings.slow_given => {
            return Err(Error::Usage(format!(
                "--slow is {} ms here but the partials were made with {}: give the report the producers' --slow, or none to use theirs",
                given / 1000,
                if settings.slow_given {
                    format!("--slow {} ms", settings.ingest_slow_us / 1000)
                } else {
                    "no --slow".to_string()
                }
            )));
        }
        _ => {}
    }
    config.slow_threshold_us = settings.slow_given.then_some(settings.ingest_slow_us);
    config.bucket_ms = settings.bucket_ms;
    config.user_key = settings.user_key;
    let inputs = std::mem::take(&mut ingested.inputs);
    ingest::ensure_something_parsed(&inputs)?;
    let mut findings = detect_in(&config, inputs, ingested, progress)?;
    // The logs are elsewhere: the edge seconds stay whole, unless the
    // impact step counted the incident's window.
    detect::recount::mark_unread(&mut findings);
    for dir in impact_dirs {
        // Exact whatever the budget: the window bounds its users.
        let (impact_settings, impact) = partials::read_dirs(std::slice::from_ref(dir), u64::MAX)?;
        let Some(window) = impact_settings.window else {
            return Err(Error::Usage(format!(
                "{}: these are partials of `postmortem partial`, not of `postmortem impact --window`: give them with --from-partials",
                dir.display()
            )));
        };
        if (Settings {
            window: None,
            ..impact_settings.clone()
        }) != settings
        {
            return Err(Error::Usage(format!(
                "{}: the impact partials were made with other settings than the partials (--bucket, --slow, --users, --alert-pattern): run `postmortem impact` with the options `postmortem partial` had",
                dir.display()
            )));
        }
        let series = impact
            .access
            .finish(MAX_BUCKETS)
            .map_err(|_| {
                Error::Usage(format!(
                    "{}: the window spans too many buckets",
                    dir.display()
                ))
            })?
            .series;
        let exact = detect::recount::set_window_impact(
            &mut findings,
            window,
            &series,
            &impact.edge_requests,
            settings.ingest_slow_us,
        );
        if !exact {
            progress.warn(&format!(
                "{}: the window {}..{} is no bad-request incident's [start, end] in this report; left unused (run `postmortem impact` with the start and end of an incident whose JSON says \"requests_exact\": false)",
                dir.display(),
                crate::timefmt::rfc3339_utc(window.0),
                crate::timefmt::rfc3339_utc(window.1),
            ));
        }
    }
    Ok(findings)
}

/// Detection over what was read (from the logs or from partials).
fn detect_in(
    config: &Config,
    inputs: Vec<InputStats>,
    mut ingested: Ingested,
    progress: &dyn Progress,
) -> Result<Findings> {
    // Widened here, after reading or merging: partials are merged at the
    // width they were written with.
    let widened = ingested.access.widen_to_fit(SERIES_BUCKET_LIMIT);
    if let Some(widening) = &widened {
        progress.warn(&widening_notice(widening));
    }
    let zone = config.tz.unwrap_or_else(|| {
        ingest::access_zone(ingested.access_offset, ingested.access_offset_change)
    });
    let access = ingested.access.finish(MAX_BUCKETS).map_err(|too_long| {
        Error::Usage(format!(
            "the requests span {} buckets, from {} to {}: narrow the range with --since/--until or use a larger --bucket",
            too_long.buckets,
            crate::timefmt::rfc3339_utc(too_long.first),
            crate::timefmt::rfc3339_utc(too_long.last)
        ))
    })?;
    let observed = Observations {
        inputs,
        zone,
        series: access.series,
        dimensions: access.dimensions,
        events: ingested.events,
        metrics: ingested.metrics,
        clients: access.clients,
        paths: access.paths,
    };
    let options = DetectOptions {
        slow_threshold_us: config.slow_threshold_us,
        user_key: config.user_key,
        slo_percent: config.slo_percent,
        detected_at: config.detected_at.map(|given| given.resolve(&zone)),
    };
    let mut findings = detect::find(observed, &options);
    findings.bucket_widened = widened;
    warn_early_detections(&findings, progress);
    Ok(findings)
}

/// The notice for a series widened to fit [`SERIES_BUCKET_LIMIT`]: the
/// width asked for, the width used and why, and how to choose.
pub fn widening_notice(widening: &Widening) -> String {
    format!(
        "bucket widened from {} to {}: {} would need {} buckets, more than {}; the edges are still the first and last bad request (give --bucket {} to choose the width, or --since/--until to narrow the range)",
        bucket_arg(widening.from_ms),
        bucket_arg(widening.to_ms),
        span_words(widening.span_ms),
        widening.buckets_needed,
        widening.limit,
        bucket_arg(widening.to_ms),
    )
}

/// A span in days from two days up (`30 days`, `14.5 days`), else as a
/// duration (`26 h 0 min`).
pub fn span_words(ms: i64) -> String {
    const DAY_MS: f64 = 86_400_000.0;
    let days = ms as f64 / DAY_MS;
    if days < 2.0 {
        return crate::timefmt::human_duration(ms);
    }
    let text = format!("{days:.1}");
    format!("{} days", text.strip_suffix(".0").unwrap_or(&text))
}

/// A width as `--bucket` reads it (`5m`, `3h`, `1d`, `133s`).
pub fn bucket_arg(ms: i64) -> String {
    const UNITS: [(i64, &str); 3] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m")];
    UNITS
        .iter()
        .find(|(unit, _)| ms % unit == 0)
        .map(|(unit, name)| format!("{}{name}", ms / unit))
        .unwrap_or_else(|| format!("{}s", ms / 1000))
}

/// A detection before the first bad request (`--detected-at` an hour early,
/// say) is kept as given, with a negative time to detect; the user hears
/// about it here, not only in the report.
fn warn_early_detections(findings: &Findings, progress: &dyn Progress) {
    for (index, finding) in findings.incidents.iter().enumerate() {
        let Some(detected) = &finding.detected else {
            continue;
        };
        if detected.at < finding.incident.start {
            progress.warn(&format!(
                "incident {}: the detection at {} ({}) is {} before its start at {}; time to detect is negative: check the time given with --detected-at",
                index + 1,
                crate::timefmt::rfc3339_utc(detected.at),
                detected.source.name(),
                crate::timefmt::human_duration(finding.incident.start - detected.at),
                crate::timefmt::rfc3339_utc(finding.incident.start),
            ));
        }
    }
}

/// What `postmortem inspect` shows: the inputs and the dimensions, without
/// detection (so inputs years apart can be inspected together).
#[derive(Clone, Debug)]
pub struct Inspection {
    pub inputs: Vec<InputStats>,
    /// Empty when the requests span more than [`MAX_BUCKETS`] buckets.
    pub dimensions: Vec<DimensionSeries>,
    pub ingest_slow_us: u64,
    /// The metric series read, placed in time (counters as rates).
    pub metrics: Vec<crate::ingest::evidence::MetricSeries>,
}

/// Reads `config`'s inputs for `postmortem inspect`.
pub fn inspect(config: &Config, progress: &dyn Progress) -> Result<Inspection> {
    // Inspect shows its table even when nothing parsed: that is when the
    // table is most needed. The binary still exits 2.
    let (inputs, mut ingested, _) =
        read_inputs(config, progress, NothingParsed::Allowed, Vec::new())?;
    // The dimensions of a long span, at the width a report would use.
    ingested.access.widen_to_fit(SERIES_BUCKET_LIMIT);
    let ingest_slow_us = ingested.access.ingest_slow_us();
    let metrics = ingested.metrics;
    let dimensions = match ingested.access.finish(MAX_BUCKETS) {
        Ok(access) => access.dimensions,
        Err(_) => Vec::new(),
    };
    Ok(Inspection {
        inputs,
        dimensions,
        ingest_slow_us,
        metrics,
    })
}

/// Whether inputs of which no line parsed end the run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NothingParsed {
    Fails,
    Allowed,
}

/// Expands, sniffs and reads every input: the statistics of each (unreadable
/// ones included) and what was read. Fails when nothing could be parsed,
/// unless `nothing_parsed` allows it.
fn read_inputs(
    config: &Config,
    progress: &dyn Progress,
    nothing_parsed: NothingParsed,
    edge_capture: Vec<(Millis, Millis)>,
) -> Result<(Vec<InputStats>, Ingested, FirstRead)> {
    if config.inputs.is_empty() {
        return Err(Error::Usage(
            "no input given: name a log file, a directory or - for standard input".into(),
        ));
    }
    let forced_format = match &config.log_format {
        None => None,
        Some(text) => Some(sniff::resolve_log_format(text).map_err(Error::Usage)?),
    };
    let reader::Expanded {
        sources,
        unreadable,
        duplicates,
    } = reader::expand_inputs(&config.inputs)?;
    if sources.is_empty() && unreadable.is_empty() {
        return Err(Error::NothingParsed(no_files_message(&config.inputs)));
    }
    let zone_hint = zone_hint(config.tz, &sources);
    let since = config.since.map(|t| t.resolve(&zone_hint));
    let until = config.until.map(|t| t.resolve(&zone_hint));
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(Error::Usage(
            "--since is after --until: swap them or widen the range".into(),
        ));
    }
    let options = IngestOptions {
        bucket_ms: config.bucket_ms,
        ingest_slow_us: config.slow_threshold_us.unwrap_or(MIN_DEFAULT_SLOW_US),
        user_key: config.user_key,
        forced_format,
        since,
        until,
        evidence: EvidenceOptions {
            zone: config.tz,
            year: config.year,
            classifier: Classifier::new(&config.alert_patterns).map_err(Error::Usage)?,
        },
        threads: config.threads,
        edge_capture,
        exact_users_bytes: config.exact_users_bytes,
    };
    progress.begin(total_size(&sources));
    let mut ingested = ingest::ingest(&sources, &options, progress)?;
    progress.finish();
    let mut inputs = std::mem::take(&mut ingested.inputs);
    for (path, error) in unreadable {
        let mut stats = ingest_stats_for_unreadable(path.display().to_string());
        let why = unreadable_reason(&path, &error);
        stats.error = Some(format!("cannot be read: {why}"));
        progress.warn(&format!("{}: cannot be read: {why}", stats.path));
        inputs.push(stats);
    }
    for duplicate in duplicates {
        inputs.push(duplicate_stats(&duplicate, progress));
    }
    if nothing_parsed == NothingParsed::Fails {
        ingest::ensure_something_parsed(&inputs)?;
    }
    // When nothing parsed at all, the error (or inspect's table) says so.
    let anything_parsed = inputs.iter().any(|input| input.parsed > 0);
    if anything_parsed && let Some(warning) = ingest::no_requests_warning(&inputs) {
        progress.warn(&warning);
    }
    Ok((inputs, ingested, FirstRead { sources, options }))
}

/// The message for inputs that expand to no file at all (folders that hold
/// only hidden files, or nothing).
fn no_files_message(inputs: &[InputSpec]) -> String {
    let folders: Vec<String> = inputs
        .iter()
        .filter_map(|input| match input {
            InputSpec::Path(path) => Some(format!("'{}'", path.display())),
            InputSpec::Stdin => None,
        })
        .collect();
    format!(
        "{} holds no file to read (hidden files and folders are skipped): point postmortem at the folder or the files that hold the logs",
        folders.join(", ")
    )
}

/// Why an entry found in a folder cannot be read: a symbolic link whose
/// target is gone (a log rotated or deleted under its link) is named as
/// such, since the OS error alone ("No such file or directory") reads as if
/// the listed path itself were missing.
fn unreadable_reason(path: &std::path::Path, error: &std::io::Error) -> String {
    match std::fs::read_link(path) {
        Ok(target) if error.kind() == std::io::ErrorKind::NotFound => format!(
            "a symbolic link to '{}', which does not exist; the rest was analysed (remove the link to silence this)",
            target.display()
        ),
        _ => format!("{error}; the rest was analysed"),
    }
}

/// The statistics of an input left out because another path reads its
/// lines, and its notice given through `progress`.
fn duplicate_stats(duplicate: &reader::Duplicate, progress: &dyn Progress) -> InputStats {
    let message = duplicate.message();
    progress.warn(&message);
    let mut stats = InputStats::new(duplicate.path.display().to_string());
    stats.duplicate_of = Some(duplicate.read_as.display().to_string());
    stats.note = Some(message);
    stats
}

fn ingest_stats_for_unreadable(path: String) -> InputStats {
    InputStats::new(path)
}

fn total_size(sources: &[Source]) -> Option<u64> {
    sources.iter().try_fold(0u64, |sum, source| match source {
        Source::File(path) => std::fs::metadata(path).ok().map(|m| sum + m.len()),
        Source::Stdin => None,
    })
}

/// Bytes read from the head of a file to find the offset its access lines
/// carry, so zoneless `--since`/`--until` can be read in the logs' zone.
const PEEK_BYTES: u64 = 256 << 10;

/// The zone zoneless `--since`/`--until` are read in: `--tz`, else the
/// offset the first access lines carry, else UTC.
fn zone_hint(tz: Option<Zone>, sources: &[Source]) -> Zone {
    tz.unwrap_or_else(|| Zone::Fixed(peek_offset(sources).unwrap_or(0)))
}

/// The offset of the first access line found at the head of the files.
fn peek_offset(sources: &[Source]) -> Option<i32> {
    use std::io::Read;
    sources.iter().find_map(|source| {
        if *source == Source::Stdin {
            return None;
        }
        let opened = reader::open(source).ok()?;
        let mut head = Vec::new();
        opened.reader.take(PEEK_BYTES).read_to_end(&mut head).ok()?;
        let lines = sniff::sample_lines(&head, false);
        let parser = sniff::detect_access_format(&lines)?.format.parser;
        lines
            .iter()
            .find_map(|line| parser.parse(line).ok().map(|record| record.offset_seconds))
    })
}
