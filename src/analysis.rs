//! The run itself: inputs → ingest → series → detect, giving an
//! [`Analysis`] that the report module renders. The binary calls [`analyze`]
//! and nothing else of the pipeline.

use crate::config::{Config, InputSpec, UserKey};
use crate::detect::baseline::{self, BucketCounts};
use crate::detect::client_bursts::{self, ClientBurst};
use crate::detect::concentration;
use crate::detect::detection::{self, Firing};
use crate::detect::impact::{self, Impact};
use crate::detect::{Cause, Incident, Severity, anomaly, incident, traffic};
use crate::error::{Error, Result};
use crate::ingest::events::{Classifier, Event};
use crate::ingest::evidence::{EvidenceOptions, MetricSeries};
use crate::ingest::reader::{self, Source};
use crate::ingest::{self, IngestOptions, Ingested, InputKind, InputStats, sniff};
use crate::progress::Progress;
use crate::series::dims::DimensionSeries;
use crate::series::{Bucket, LatencyHistogram, LineRef, MIN_DEFAULT_SLOW_US, SeriesSet};
use crate::timefmt::{Millis, TimeSpec, Zone};

/// The most buckets a run may span: a year of one-minute buckets. Beyond
/// it a stray timestamp, not the log, is usually to blame.
pub const MAX_BUCKETS: usize = 366 * 24 * 60;

/// How the detection time was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectionSource {
    /// `--detected-at`.
    User,
    /// An alert line in the logs.
    Log,
    /// The burn-rate (or traffic) rule replayed over the series.
    Rule,
}

impl DetectionSource {
    pub fn name(self) -> &'static str {
        match self {
            DetectionSource::User => "user",
            DetectionSource::Log => "log",
            DetectionSource::Rule => "rule",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detected {
    pub at: Millis,
    pub source: DetectionSource,
    pub evidence: String,
}

/// A measurable departure from the baseline that makes up an incident.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// `error_rate`, `latency`, `traffic`, `metric` or `events`.
    pub kind: &'static str,
    pub name: String,
    pub source: String,
    pub onset: Millis,
    pub peak_at: Millis,
    pub peak: f64,
    pub baseline: f64,
    /// `ratio`, `s`, or a metric's unit from its CSV header (may be empty).
    pub unit: String,
}

/// Kinds of timeline entries, as the contract names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineKind {
    Change,
    Alert,
    Event,
    ImpactStart,
    Detected,
    Peak,
    ImpactEnd,
}

impl TimelineKind {
    pub fn name(self) -> &'static str {
        match self {
            TimelineKind::ImpactStart => "impact_start",
            TimelineKind::Detected => "detected",
            TimelineKind::Alert => "alert",
            TimelineKind::Change => "change",
            TimelineKind::Event => "event",
            TimelineKind::Peak => "peak",
            TimelineKind::ImpactEnd => "impact_end",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at: Millis,
    pub kind: TimelineKind,
    pub text: String,
    /// `path:line` of the line that shows it, or the input's path.
    pub source: Option<String>,
    /// Lines folded into this entry (1 when not folded).
    pub count: u64,
}

/// One incident with everything the report says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentReport {
    pub incident: Incident,
    pub impact: Impact,
    /// False for incidents found in metrics alone: no request was seen, so
    /// the users and requests of `impact` are unknown (null in JSON).
    pub impact_measured: bool,
    pub detected: Option<Detected>,
    pub signals: Vec<Signal>,
    pub timeline: Vec<TimelineEntry>,
    pub hints: Vec<String>,
    /// Bad-request rate at the peak bucket.
    pub peak_bad_rate: f64,
}

/// What normal looked like.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BaselineSummary {
    pub bad_rate: f64,
    pub failed_rate: f64,
    pub p50_us: Option<f64>,
    pub p95_us: Option<f64>,
    pub p99_us: Option<f64>,
}

/// Everything a run found.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub inputs: Vec<InputStats>,
    /// The zone times are shown in: `--tz`, else the access logs' offset, else UTC.
    pub zone: Zone,
    pub bucket_ms: i64,
    pub slow_threshold_us: u64,
    pub user_key: UserKey,
    pub series: SeriesSet,
    pub counts: Vec<BucketCounts>,
    pub baseline: BaselineSummary,
    pub incidents: Vec<IncidentReport>,
    /// Per-upstream / per-host counts aligned with `series` (only the
    /// dimensions with at least two values).
    pub dimensions: Vec<DimensionSeries>,
    /// Alerts, recoveries, changes and events from syslog and error logs.
    pub events: Vec<Event>,
    /// Series from metric CSVs.
    pub metrics: Vec<MetricSeries>,
    /// Bursts of 4xx responses from single clients, the largest first: not
    /// incidents, named so nobody takes them for one.
    pub client_bursts: Vec<ClientBurst>,
}

impl Analysis {
    /// `path:line` for a line reference.
    pub fn line_source(&self, line: LineRef) -> Option<String> {
        self.inputs
            .get(line.input as usize)
            .map(|input| format!("{}:{}", input.path, line.line))
    }

    /// The access logs as one source name.
    pub fn access_source(&self) -> String {
        let access: Vec<&InputStats> = self
            .inputs
            .iter()
            .filter(|i| i.kind == InputKind::Access)
            .collect();
        match access.as_slice() {
            [one] => one.path.clone(),
            many => format!("{} access logs", many.len()),
        }
    }
}

/// Runs the whole pipeline on `config`'s inputs.
pub fn analyze(config: &Config, progress: &dyn Progress) -> Result<Analysis> {
    let (inputs, ingested) = read_inputs(config, progress)?;
    let zone = config
        .tz
        .unwrap_or_else(|| Zone::Fixed(ingested.access_offset.unwrap_or(0)));
    let access = ingested.access.finish(MAX_BUCKETS).map_err(|too_long| {
        Error::Usage(format!(
            "the requests span {} buckets, from {} to {}: narrow the range with --since/--until or use a larger --bucket",
            too_long.buckets,
            crate::timefmt::rfc3339_utc(too_long.first),
            crate::timefmt::rfc3339_utc(too_long.last)
        ))
    })?;
    let mut analysis = detect_incidents(inputs, zone, access.series, access.dimensions, config);
    analysis.events = ingested.events;
    analysis.metrics = ingested.metrics;
    analysis.client_bursts = client_bursts::bursts(&access.clients);
    add_client_burst_hints(&mut analysis);
    for report in &mut analysis.incidents {
        if let Some(concentration) = concentration::path_concentration(
            &access.paths,
            report.incident.start,
            report.incident.end,
        ) {
            report.hints.push(concentration.hint());
        }
    }
    crate::correlate::before_timelines(&mut analysis);
    if let Some(given) = config.detected_at {
        let at = given.resolve(&zone);
        for report in &mut analysis.incidents {
            report.detected = Some(Detected {
                at,
                source: DetectionSource::User,
                evidence: "given with --detected-at".to_string(),
            });
        }
    }
    for index in 0..analysis.incidents.len() {
        if !analysis.incidents[index].impact_measured {
            continue;
        }
        let timeline = build_timeline(&analysis, &analysis.incidents[index]);
        analysis.incidents[index].timeline = timeline;
    }
    crate::correlate::extend_timelines(&mut analysis);
    Ok(analysis)
}

/// What `postmortem inspect` shows: the inputs and the dimensions, without
/// detection (so inputs years apart can be inspected together).
#[derive(Clone, Debug)]
pub struct Inspection {
    pub inputs: Vec<InputStats>,
    /// Empty when the requests span more than [`MAX_BUCKETS`] buckets.
    pub dimensions: Vec<DimensionSeries>,
    pub ingest_slow_us: u64,
}

/// Reads `config`'s inputs for `postmortem inspect`.
pub fn inspect(config: &Config, progress: &dyn Progress) -> Result<Inspection> {
    let (inputs, ingested) = read_inputs(config, progress)?;
    let ingest_slow_us = ingested.access.ingest_slow_us();
    let dimensions = match ingested.access.finish(MAX_BUCKETS) {
        Ok(access) => access.dimensions,
        Err(_) => Vec::new(),
    };
    Ok(Inspection {
        inputs,
        dimensions,
        ingest_slow_us,
    })
}

/// Expands, sniffs and reads every input: the statistics of each (unreadable
/// ones included) and what was read. Fails when nothing could be parsed.
fn read_inputs(config: &Config, progress: &dyn Progress) -> Result<(Vec<InputStats>, Ingested)> {
    if config.inputs.is_empty() {
        return Err(Error::Usage(
            "no input given: name a log file, a directory or - for standard input".into(),
        ));
    }
    let forced_format = match &config.log_format {
        None => None,
        Some(text) => Some(sniff::resolve_log_format(text).map_err(Error::Usage)?),
    };
    let (sources, unreadable) = reader::expand_inputs(&config.inputs)?;
    if sources.is_empty() && unreadable.is_empty() {
        return Err(Error::NothingParsed(no_files_message(&config.inputs)));
    }
    let zone_hint = match config.tz {
        Some(zone) => zone,
        None => Zone::Fixed(peek_offset(&sources).unwrap_or(0)),
    };
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
    ingest::ensure_something_parsed(&inputs)?;
    Ok((inputs, ingested))
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

/// Baselines, anomalies, incidents, impact and rule-based detection.
fn detect_incidents(
    inputs: Vec<InputStats>,
    zone: Zone,
    series: SeriesSet,
    dimensions: Vec<DimensionSeries>,
    config: &Config,
) -> Analysis {
    let disturbed = baseline::screen_disturbed(&series);
    let p99 = baseline::baseline_p99_us(&series, &disturbed);
    let threshold = baseline::slow_threshold_us(config.slow_threshold_us, p99);
    let counts = baseline::bucket_counts(&series, threshold);
    let bad_rate = baseline::baseline_bad_rate(&counts);
    let channels = anomaly::channel_states(&counts, series.bucket_ms);
    let anomalous: Vec<bool> = (0..counts.len())
        .map(|i| channels.iter().any(|c| c.anomalous[i]))
        .collect();
    let mut incidents = incident::find_incidents(&series, &counts, &channels, threshold);
    incidents.extend(traffic_incidents(&series, &counts, &incidents));
    incidents.sort_by_key(|i| i.start);
    let baseline = summarize_baseline(&series, &counts, &anomalous, bad_rate);
    let mut analysis = Analysis {
        inputs,
        zone,
        bucket_ms: series.bucket_ms,
        slow_threshold_us: threshold,
        user_key: config.user_key,
        series,
        counts,
        baseline,
        incidents: Vec::new(),
        dimensions,
        events: Vec::new(),
        metrics: Vec::new(),
        client_bursts: Vec::new(),
    };
    let reports: Vec<IncidentReport> = incidents
        .into_iter()
        .map(|incident| describe_incident(&analysis, incident, config))
        .collect();
    analysis.incidents = reports;
    analysis
}

/// Earliest and latest arrival in a bucket, from its users' spans.
fn arrival_range(series: &SeriesSet, index: usize) -> Option<(Millis, Millis)> {
    let bucket = &series.buckets[index];
    let first = bucket.users.values().map(|s| s.first).min()?;
    let last = bucket.users.values().map(|s| s.last).max()?;
    Some((series.absolute(index, first), series.absolute(index, last)))
}

/// Incidents of traffic that vanished, outside the bad-request incidents:
/// start is the last request before the drop, end the first after it.
fn traffic_incidents(
    series: &SeriesSet,
    counts: &[BucketCounts],
    found: &[Incident],
) -> Vec<Incident> {
    let requests: Vec<u64> = counts.iter().map(|c| c.requests).collect();
    let expected = traffic::expected(&requests, series.bucket_ms);
    let users: Vec<u64> = series
        .buckets
        .iter()
        .map(|b| b.users.len() as u64)
        .collect();
    let expected_users = traffic::expected(&users, series.bucket_ms);
    let observed = traffic::Traffic {
        requests: &requests,
        expected_requests: &expected,
        users: &users,
        expected_users: &expected_users,
    };
    traffic::drops(observed, series.bucket_ms)
        .into_iter()
        .filter(|&(first, last)| {
            !found
                .iter()
                .any(|i| i.first_bucket <= last + 1 && first <= i.last_bucket + 1)
        })
        .filter_map(|(first, last)| {
            let before =
                arrival_range(series, first).or_else(|| arrival_range(series, first - 1))?;
            let after = arrival_range(series, last).or_else(|| arrival_range(series, last + 1))?;
            let lowest = requests[first..=last].iter().copied().min().unwrap_or(0);
            let expected_per_bucket =
                expected[first..=last].iter().sum::<f64>() / (last + 1 - first) as f64;
            Some(Incident {
                cause: Cause::TrafficDrop {
                    expected_per_bucket,
                    lowest_per_bucket: lowest,
                },
                start: before.1,
                end: after.0,
                start_line: None,
                end_line: None,
                first_bucket: first,
                last_bucket: last,
                severity: if lowest == 0 {
                    Severity::Outage
                } else {
                    Severity::PartialOutage
                },
            })
        })
        .collect()
}

/// Failed rate and latency quantiles over the buckets that are not anomalous.
fn summarize_baseline(
    series: &SeriesSet,
    counts: &[BucketCounts],
    anomalous: &[bool],
    bad_rate: f64,
) -> BaselineSummary {
    let mut latency = LatencyHistogram::default();
    let (mut failed, mut requests) = (0u64, 0u64);
    for ((bucket, c), &is_anomalous) in series.buckets.iter().zip(counts).zip(anomalous) {
        if !is_anomalous {
            latency.merge(&bucket.latency);
            failed += c.failed;
            requests += c.requests;
        }
    }
    BaselineSummary {
        bad_rate,
        failed_rate: if requests == 0 {
            0.0
        } else {
            failed as f64 / requests as f64
        },
        p50_us: latency.quantile(0.5),
        p95_us: latency.quantile(0.95),
        p99_us: latency.quantile(0.99),
    }
}

/// Fewest requests for a bucket to be a peak: a bucket with two requests,
/// both failing, is not the worst moment of an outage.
const MIN_PEAK_REQUESTS: u64 = 10;

fn describe_incident(
    analysis: &Analysis,
    mut incident: Incident,
    config: &Config,
) -> IncidentReport {
    let series = &analysis.series;
    let range = incident.first_bucket..=incident.last_bucket;
    let counts = &analysis.counts[range.clone()];
    let measure = match incident.cause {
        Cause::TrafficDrop { .. } => impact::measure_drop,
        Cause::BadRequests | Cause::MetricDeparture => impact::measure,
    };
    let mut impact = measure(
        series,
        incident.start,
        incident.end,
        analysis.slow_threshold_us,
    );
    match incident.cause {
        Cause::TrafficDrop { .. } => {
            impact.users_missing = users_missing(analysis, &incident, impact.users_active);
        }
        Cause::BadRequests => {
            // Judged on the requests inside [start, end], not on whole
            // buckets, whose edges hold healthy requests from before and after.
            let inside = BucketCounts {
                requests: impact.requests_total,
                failed: impact.requests_failed,
                slow: impact.requests_slow,
            };
            incident.severity = incident::severity(&[inside], analysis.baseline.failed_rate);
        }
        Cause::MetricDeparture => {}
    }
    let peak_offset = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.requests
                >= MIN_PEAK_REQUESTS.min(counts.iter().map(|c| c.requests).max().unwrap_or(0))
        })
        .max_by(|(_, a), (_, b)| a.bad_rate().total_cmp(&b.bad_rate()))
        .map_or(0, |(offset, _)| offset);
    let peak_index = incident.first_bucket + peak_offset;
    let peak_bad_rate = analysis.counts[peak_index].bad_rate();
    let history = detection::History::from_counts(&analysis.counts, analysis.baseline.bad_rate);
    let detected = if let Cause::TrafficDrop {
        expected_per_bucket,
        ..
    } = incident.cause
    {
        traffic_detection(analysis, &incident, expected_per_bucket)
    } else {
        detection::replay_burn_rate(
            &analysis.counts,
            series.start,
            series.bucket_ms,
            config.slo_percent,
            history,
            (incident.start, series.bucket_start(series.buckets.len())),
        )
        .map(|firing| rule_detection(firing, config.slo_percent))
    };
    let signals = signals(analysis, &incident, counts);
    let mut hints = hints(&incident, &impact);
    hints.extend(concentration::concentration_hints(
        &analysis.dimensions,
        incident.first_bucket..=incident.last_bucket,
    ));
    IncidentReport {
        incident,
        impact,
        impact_measured: true,
        detected,
        signals,
        timeline: Vec::new(),
        hints,
        peak_bad_rate,
    }
}

/// The contract's traffic rule: requests below a fifth of the baseline for
/// five minutes fire at the end of the fifth low minute.
fn traffic_detection(
    analysis: &Analysis,
    incident: &Incident,
    expected_per_bucket: f64,
) -> Option<Detected> {
    let rule_buckets = (traffic::TRAFFIC_RULE_MS / analysis.bucket_ms).max(1) as usize;
    if incident.last_bucket + 1 - incident.first_bucket < rule_buckets {
        return None;
    }
    let per_minute =
        expected_per_bucket * crate::timefmt::MS_PER_MINUTE as f64 / analysis.bucket_ms as f64;
    Some(Detected {
        at: analysis.series.bucket_start(incident.first_bucket) + traffic::TRAFFIC_RULE_MS,
        source: DetectionSource::Rule,
        evidence: format!(
            "traffic rule: requests stayed below a fifth of the baseline ({per_minute:.0}/min) for 5 minutes"
        ),
    })
}

/// Users the drop kept away: the baseline's distinct users per bucket over
/// the drop's buckets, less the users who did get through.
fn users_missing(analysis: &Analysis, incident: &Incident, users_active: u64) -> u64 {
    let users: Vec<u64> = analysis
        .series
        .buckets
        .iter()
        .map(|b| b.users.len() as u64)
        .collect();
    let expected = traffic::expected(&users, analysis.bucket_ms);
    let missing: f64 = expected[incident.first_bucket..=incident.last_bucket]
        .iter()
        .sum();
    (missing.round() as u64).saturating_sub(users_active)
}

fn rule_detection(firing: Firing, slo_percent: f64) -> Detected {
    Detected {
        at: firing.at,
        source: DetectionSource::Rule,
        evidence: format!(
            "SLO {slo_percent}% multiwindow alert, {}: burn rate {:.1} (long window) and {:.1} (short window)",
            firing.rule.name, firing.long_burn, firing.short_burn
        ),
    }
}

fn signals(analysis: &Analysis, incident: &Incident, counts: &[BucketCounts]) -> Vec<Signal> {
    let series = &analysis.series;
    let source = analysis.access_source();
    let mut signals = Vec::new();
    if let Cause::TrafficDrop {
        expected_per_bucket,
        lowest_per_bucket,
    } = incident.cause
    {
        let per_minute = crate::timefmt::MS_PER_MINUTE as f64 / analysis.bucket_ms as f64;
        let lowest_at = (incident.first_bucket..=incident.last_bucket)
            .min_by_key(|&i| analysis.counts[i].requests)
            .unwrap_or(incident.first_bucket);
        signals.push(Signal {
            kind: "traffic",
            name: "requests per minute".to_string(),
            source,
            onset: incident.start,
            peak_at: series.bucket_start(lowest_at),
            peak: round4(lowest_per_bucket as f64 * per_minute),
            baseline: round4(expected_per_bucket * per_minute),
            unit: "requests/min".to_string(),
        });
        return signals;
    }
    let failed_ratio = |c: &BucketCounts| {
        if c.requests == 0 {
            0.0
        } else {
            c.failed as f64 / c.requests as f64
        }
    };
    let busy = |c: &&(usize, &BucketCounts)| c.1.requests >= MIN_PEAK_REQUESTS;
    let failed_total: u64 = counts.iter().map(|c| c.failed).sum();
    if incident.severity != Severity::Degradation && failed_total > 0 {
        let indexed: Vec<(usize, &BucketCounts)> = counts.iter().enumerate().collect();
        let peak = indexed
            .iter()
            .filter(busy)
            .max_by(|a, b| failed_ratio(a.1).total_cmp(&failed_ratio(b.1)))
            .or(indexed.first())
            .map(|&(offset, c)| (offset, failed_ratio(c)));
        if let Some((offset, peak_ratio)) = peak {
            let onset = first_failed_since(series, incident.start, incident.last_bucket)
                .unwrap_or(incident.start);
            signals.push(Signal {
                kind: "error_rate",
                name: "5xx+499 rate".to_string(),
                source: source.clone(),
                onset,
                peak_at: series.bucket_start(incident.first_bucket + offset),
                peak: round4(peak_ratio),
                baseline: round4(analysis.baseline.failed_rate),
                unit: "ratio".to_string(),
            });
        }
    }
    let slow_total: u64 = counts.iter().map(|c| c.slow).sum();
    if slow_total > 0 {
        let threshold_us = analysis.slow_threshold_us as f64;
        let p95_at = |index: usize| series.buckets[index].latency.quantile(0.95);
        let range = incident.first_bucket..=incident.last_bucket;
        let peak = range
            .clone()
            .filter(|&i| analysis.counts[i].requests >= MIN_PEAK_REQUESTS)
            .filter_map(|i| p95_at(i).map(|p| (i, p)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let onset = range
            .clone()
            .find(|&i| analysis.counts[i].slow > 0 && p95_at(i).is_some_and(|p| p > threshold_us))
            .or_else(|| range.clone().find(|&i| analysis.counts[i].slow > 0))
            .map_or(incident.start, |i| series.bucket_start(i));
        if let Some((peak_index, peak_us)) = peak {
            signals.push(Signal {
                kind: "latency",
                name: "p95 latency".to_string(),
                source,
                onset: onset.max(incident.start),
                peak_at: series.bucket_start(peak_index),
                peak: round4(peak_us / 1e6),
                baseline: round4(analysis.baseline.p95_us.unwrap_or(0.0) / 1e6),
                unit: "s".to_string(),
            });
        }
    }
    signals
}

/// The first failed request at or after `start`, up to bucket `last`. In
/// the bucket holding `start` only the bucket's first failure is known, so a
/// failure before `start` there counts as failing from `start`.
fn first_failed_since(series: &SeriesSet, start: Millis, last: usize) -> Option<Millis> {
    (series.index_of(start)..=last).find_map(|i| {
        Bucket::rel(series.buckets[i].first_failed).map(|rel| series.absolute(i, rel).max(start))
    })
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn hints(incident: &Incident, impact: &Impact) -> Vec<String> {
    let mut hints = Vec::new();
    let bad = impact.requests_failed + impact.requests_slow;
    if bad > 0 {
        let failed_share = 100.0 * impact.requests_failed as f64 / bad as f64;
        hints.push(match incident.severity {
            Severity::Degradation => "requests were slow but did not fail: look for saturation (CPU, memory, connection pools) or a slow dependency".to_string(),
            Severity::Outage => "nearly every request failed: look for a change that took the service or its routing down (deploy, config reload, load balancer)".to_string(),
            Severity::PartialOutage => format!(
                "{failed_share:.0}% of the bad requests failed and {:.0}% were slow: look for what only part of the traffic shares (one backend, one host, one path)",
                100.0 - failed_share
            ),
        });
    }
    hints
}

/// How long before an incident's start a client's 4xx burst is still
/// named in its hints: the contract's timeline reaches back an hour.
pub const CLIENT_BURST_HINT_BEFORE_MS: i64 = 60 * crate::timefmt::MS_PER_MINUTE;

/// Names each 4xx burst from one client near an incident as not part of
/// it: a wall of 404s on the same graph as the 5xx is the first thing a
/// responder asks about.
fn add_client_burst_hints(analysis: &mut Analysis) {
    let zone = analysis.zone;
    for report in &mut analysis.incidents {
        let (from, to) = (
            report.incident.start - CLIENT_BURST_HINT_BEFORE_MS,
            report.incident.end,
        );
        for burst in analysis
            .client_bursts
            .iter()
            .filter(|burst| burst.overlaps(from, to))
        {
            report.hints.push(client_burst_text(burst, &zone));
        }
    }
}

/// One sentence naming a 4xx burst and why it is not an outage.
pub fn client_burst_text(burst: &ClientBurst, zone: &Zone) -> String {
    format!(
        "{} 4xx responses from one client, {}, between {} and {} ({:.1}% of the 4xx then): a scanner or a broken client, not an outage (4xx is the client's business)",
        crate::report::markdown::thousands(burst.responses_4xx),
        burst.client,
        crate::timefmt::human_time(burst.first, zone),
        crate::timefmt::human_time(burst.last, zone),
        100.0 * burst.share()
    )
}

/// The timeline of one incident from the series (later: alerts, changes and
/// events from other logs), in time order.
fn build_timeline(analysis: &Analysis, report: &IncidentReport) -> Vec<TimelineEntry> {
    let incident = &report.incident;
    let pct = |rate: f64| format!("{:.1}%", 100.0 * rate);
    // The first bucket that the incident fills at least half of.
    let start_index = analysis.series.index_of(incident.start);
    let in_second_half =
        incident.start - analysis.series.bucket_start(start_index) > analysis.bucket_ms / 2;
    let first_full = (start_index + usize::from(in_second_half)).min(incident.last_bucket);
    let first_rate = analysis.counts[first_full].bad_rate();
    let access = analysis.access_source();
    let line_or_access = |line: Option<LineRef>| {
        line.and_then(|l| analysis.line_source(l))
            .or_else(|| Some(access.clone()))
    };
    let drop = match incident.cause {
        Cause::TrafficDrop {
            expected_per_bucket,
            lowest_per_bucket,
        } => Some((expected_per_bucket, lowest_per_bucket)),
        Cause::BadRequests | Cause::MetricDeparture => None,
    };
    let per_minute = crate::timefmt::MS_PER_MINUTE as f64 / analysis.bucket_ms as f64;
    let start_text = match drop {
        Some((expected, _)) => format!(
            "Impact starts: last request before the traffic fell away (about {:.0} requests a minute normally)",
            expected * per_minute
        ),
        None => format!(
            "Impact starts: first bad request; bad-request rate rises from {} to {} in the first {}",
            pct(analysis.baseline.bad_rate),
            pct(first_rate),
            crate::timefmt::human_duration(analysis.bucket_ms)
        ),
    };
    let mut entries = vec![TimelineEntry {
        at: incident.start,
        kind: TimelineKind::ImpactStart,
        text: start_text,
        source: line_or_access(incident.start_line),
        count: 1,
    }];
    if let Some(detected) = &report.detected {
        entries.push(TimelineEntry {
            at: detected.at,
            kind: TimelineKind::Detected,
            text: format!(
                "Detected ({}): {}",
                detected.source.name(),
                detected.evidence
            ),
            source: None,
            count: 1,
        });
    }
    let peak_index = (incident.first_bucket..=incident.last_bucket)
        .filter(|&i| analysis.counts[i].requests > 0)
        .max_by(|&a, &b| {
            analysis.counts[a]
                .bad_rate()
                .total_cmp(&analysis.counts[b].bad_rate())
        });
    if let Some((_, lowest)) = drop {
        // A drop's worst moment is its emptiest minute, not a bad-request rate.
        let lowest_at = (incident.first_bucket..=incident.last_bucket)
            .min_by_key(|&i| analysis.counts[i].requests)
            .unwrap_or(incident.first_bucket);
        entries.push(TimelineEntry {
            at: analysis.series.bucket_start(lowest_at),
            kind: TimelineKind::Peak,
            text: format!(
                "Peak: fewest requests, {:.0} a minute",
                lowest as f64 * per_minute
            ),
            source: Some(access.clone()),
            count: 1,
        });
    } else if let Some(peak_index) = peak_index {
        let c = &analysis.counts[peak_index];
        let p95 = analysis.series.buckets[peak_index].latency.quantile(0.95);
        entries.push(TimelineEntry {
            at: analysis.series.bucket_start(peak_index),
            kind: TimelineKind::Peak,
            text: format!(
                "Peak: {} of {} requests bad ({} failed, {} slow){}",
                pct(c.bad_rate()),
                c.requests,
                c.failed,
                c.slow,
                p95.map(|p| format!(", p95 {:.2} s", p / 1e6))
                    .unwrap_or_default()
            ),
            source: Some(access.clone()),
            count: 1,
        });
    }
    let thousands = crate::report::markdown::thousands;
    entries.push(TimelineEntry {
        at: incident.end,
        kind: TimelineKind::ImpactEnd,
        text: match drop {
            Some(_) => format!(
                "Impact ends: first request after the traffic came back; an estimated {} users never reached the service",
                thousands(report.impact.users_missing)
            ),
            None => format!(
                "Impact ends: last bad request; {} of {} users were affected",
                thousands(report.impact.users_affected),
                thousands(report.impact.users_active)
            ),
        },
        source: line_or_access(incident.end_line),
        count: 1,
    });
    entries.sort_by_key(|e| (e.at, e.kind));
    entries
}

/// Parses a `--detected-at`/`--since`/`--until` value.
pub fn parse_time_arg(flag: &str, text: &str) -> Result<TimeSpec> {
    TimeSpec::parse(text).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} '{text}' is not a time: use RFC 3339 (2023-11-12T14:15:00Z) or 'YYYY-MM-DD HH:MM[:SS]' in the logs' zone"
        ))
    })
}
