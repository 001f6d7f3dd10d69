//! Criterion benchmarks of the access-log hot path on one core, on lines from
//! the benchmark generator (`testbed/src/bench_log.rs`):
//!
//! - `parse_line/<layout>`: one line to an `AccessRecord`, for
//!   `combined+request_time`, `combined`, `common`, `haproxy` (behind a
//!   syslog header) and `aws-alb` (lines/s and bytes/s);
//! - `clf_time`: the fixed CLF timestamp alone;
//! - `series_fold`: folding parsed requests into the per-bucket series;
//! - `chunk`: a run of lines end to end on one core (line splitting, parsing,
//!   user hashing and folding), what each worker thread does.
//!
//! `cargo bench --bench parsers`; CI runs `cargo bench --bench parsers -- --test`
//! (each benchmark once) so the code keeps compiling and running.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memchr::memchr_iter;

use postmortem::config::UserKey;
use postmortem::ingest::access::AccessParser;
use postmortem::ingest::timestamps::parse_clf_time;
use postmortem::ingest::worker::{ParseWorker, user_hash};
use postmortem::ingest::{IngestOptions, sniff};
use postmortem::series::{LineRef, MIN_DEFAULT_SLOW_US, RequestFacts, SeriesBuilder};
use postmortem_testbed::bench_log::{Layout, log_in_memory};

/// Lines per benchmark input: about 22 MB, far larger than the caches, so
/// the figures are those of streaming through a big log.
const SAMPLE_LINES: u64 = 100_000;
const SEED: u64 = 7;
/// One-minute buckets, the default.
const BUCKET_MS: i64 = 60_000;

fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::with_capacity(SAMPLE_LINES as usize);
    let mut start = 0;
    for end in memchr_iter(b'\n', bytes) {
        lines.push(&bytes[start..end]);
        start = end + 1;
    }
    lines
}

fn parser_named(name: &str) -> AccessParser {
    sniff::preset_by_name(name)
        .unwrap_or_else(|| panic!("preset {name} exists"))
        .parser()
}

fn throughput(lines: &[&[u8]]) -> Throughput {
    Throughput::ElementsAndBytes {
        elements: lines.len() as u64,
        // Each line and its newline.
        bytes: lines.iter().map(|l| l.len() as u64 + 1).sum(),
    }
}

fn parse_line(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_line");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for (name, layout) in [
        ("combined+request_time", Layout::CombinedRequestTime),
        ("combined", Layout::Combined),
        ("common", Layout::Common),
        ("haproxy", Layout::HaProxy),
        ("aws-alb", Layout::AwsAlb),
    ] {
        let log = log_in_memory(SAMPLE_LINES, SEED, layout);
        let lines = lines_of(&log);
        let parser = parser_named(name);
        group.throughput(throughput(&lines));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut parsed = 0u32;
                for line in &lines {
                    if let Ok(record) = parser.parse(black_box(line)) {
                        black_box(&record);
                        parsed += 1;
                    }
                }
                assert_eq!(parsed as usize, lines.len(), "every generated line parses");
            })
        });
    }
    group.finish();
}

fn clf_time(c: &mut Criterion) {
    let log = log_in_memory(SAMPLE_LINES, SEED, Layout::Common);
    let stamps: Vec<&[u8]> = lines_of(&log)
        .into_iter()
        .filter_map(|line| {
            let open = memchr::memchr(b'[', line)?;
            line.get(open + 1..open + 27)
        })
        .collect();
    let mut group = c.benchmark_group("clf_time");
    group.sample_size(30);
    group.throughput(Throughput::Elements(stamps.len() as u64));
    group.bench_function("parse_clf_time", |b| {
        b.iter(|| {
            let mut sum = 0i64;
            for stamp in &stamps {
                if let Some((at, _)) = parse_clf_time(black_box(stamp)) {
                    sum = sum.wrapping_add(at);
                }
            }
            black_box(sum)
        })
    });
    group.finish();
}

fn series_fold(c: &mut Criterion) {
    let log = log_in_memory(SAMPLE_LINES, SEED, Layout::CombinedRequestTime);
    let parser = parser_named("combined+request_time");
    let facts: Vec<RequestFacts> = lines_of(&log)
        .into_iter()
        .enumerate()
        .filter_map(|(index, line)| {
            let record = parser.parse(line).ok()?;
            Some(RequestFacts {
                arrival: record.arrival(),
                status: record.status,
                duration_us: record.duration_us,
                user: user_hash(&record, UserKey::IpUserAgent),
                line: LineRef {
                    input: 0,
                    line: index as u64 + 1,
                },
            })
        })
        .collect();
    let mut group = c.benchmark_group("series_fold");
    group.sample_size(20);
    group.throughput(Throughput::Elements(facts.len() as u64));
    group.bench_function("record", |b| {
        b.iter(|| {
            let mut series = SeriesBuilder::new(BUCKET_MS, MIN_DEFAULT_SLOW_US);
            for fact in &facts {
                series.record(black_box(fact));
            }
            series
        })
    });
    group.finish();
}

fn chunk(c: &mut Criterion) {
    let log = log_in_memory(SAMPLE_LINES, SEED, Layout::CombinedRequestTime);
    let options = IngestOptions {
        bucket_ms: BUCKET_MS,
        ingest_slow_us: MIN_DEFAULT_SLOW_US,
        user_key: UserKey::IpUserAgent,
        forced_format: None,
        since: None,
        until: None,
        threads: 1,
        evidence: postmortem::ingest::evidence::EvidenceOptions::default(),
        edge_capture: Vec::new(),
        exact_users_bytes: postmortem::series::user_sketch::DEFAULT_EXACT_USERS_BYTES,
    };
    let parser = parser_named("combined+request_time");
    let mut group = c.benchmark_group("chunk");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::ElementsAndBytes {
        elements: SAMPLE_LINES,
        bytes: log.len() as u64,
    });
    group.bench_function("combined+request_time", |b| {
        b.iter(|| {
            let mut worker = ParseWorker::new(&options, parser.clone(), 0);
            worker.parse_chunk(0, black_box(&log));
            worker
        })
    });
    group.finish();
}

criterion_group!(benches, parse_line, clf_time, series_fold, chunk);
criterion_main!(benches);
