//! Parallel ingestion changes nothing: the same log read by one parsing
//! thread and by several, as a plain file (each worker reads its own
//! 512 KiB chunks: on Linux mapped under a read lease, `ingest/mapped.rs`,
//! or, while another program holds the file open for writing, with
//! positional reads) and gzipped (one thread decodes into 1 MiB chunks, so
//! the chunk edges fall elsewhere), gives the same buckets, the same report
//! and the same series, to the user and the line number.

use std::io::Write;
use std::path::Path;

use postmortem::config::InputSpec;
use postmortem::progress::NoProgress;
use postmortem::report::{Report, json};
use postmortem::series::Bucket;
use postmortem::{Config, analyze};

use super::support::scratch;

use postmortem_testbed::bench_log as generator;

/// Lines per day of the test log: a tenth of the benchmark's rate keeps the
/// test quick in debug builds while spanning a dozen read chunks.
const DAY_LINES: u64 = 500_000;
/// From 11:55 local, just before the generator's incident (so bad requests
/// fill the first chunks, where the chunk edges of the two paths differ)...
const FROM_SECOND: u32 = 11 * 3600 + 55 * 60;
/// ...to about 13:20: the incident and the quiet hour after it.
const LINES: u64 = 30_000;

fn write_logs(dir: &Path) -> (String, String) {
    let options = generator::GenOptions {
        lines: DAY_LINES,
        seed: 11,
        layout: generator::Layout::CombinedRequestTime,
        from_second: FROM_SECOND,
        max_lines: LINES,
        slot: generator::Slot::default(),
    };
    let mut text = Vec::new();
    generator::write_log(&options, &mut text).expect("in memory");
    let plain = dir.join("access.log");
    std::fs::write(&plain, &text).expect("write log");
    let gzipped = dir.join("access.log.1.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gzipped).expect("create gz"),
        flate2::Compression::fast(),
    );
    encoder.write_all(&text).expect("write gz");
    encoder.finish().expect("finish gz");
    (
        plain.to_str().expect("utf-8 path").to_string(),
        gzipped.to_str().expect("utf-8 path").to_string(),
    )
}

/// The JSON report and every bucket (users included).
fn outcome(path: &str, threads: usize) -> (String, Vec<Bucket>) {
    let config = Config {
        threads,
        ..Config::for_inputs(vec![InputSpec::Path(path.into())])
    };
    let analysis = analyze(&config, &NoProgress).expect("analysis");
    let report = json::render(&Report::from_findings(&analysis));
    (report, analysis.series.buckets)
}

#[test]
fn one_thread_and_several_give_the_same_report_and_series() {
    let dir = scratch();
    let (plain, gzipped) = write_logs(dir.path());
    let mut by_path: Vec<(String, Vec<Bucket>)> = Vec::new();
    for path in [&plain, &gzipped] {
        let (report, buckets) = outcome(path, 1);
        let parsed: serde_json::Value = serde_json::from_str(&report).expect("JSON");
        assert_eq!(parsed["inputs"][0]["parsed"], LINES, "{path}");
        let affected = &parsed["incidents"][0]["impact"]["users_affected"];
        assert!(
            affected.as_u64().is_some_and(|n| n > 0),
            "{path}: the incident is found, so the comparison covers impact: {report}"
        );
        for threads in [2, 3] {
            let (other_report, other_buckets) = outcome(path, threads);
            assert!(
                other_report == report,
                "{path}: {threads} threads change the report"
            );
            assert!(
                other_buckets == buckets,
                "{path}: {threads} threads change the buckets"
            );
        }
        // 0 threads is rayon's count: one inside a one-thread pool.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let (pool_report, pool_buckets) = pool.install(|| outcome(path, 0));
        assert!(
            pool_report == report && pool_buckets == buckets,
            "{path}: pool"
        );
        // Held open for writing elsewhere, the file cannot be leased: read
        // with positional reads, to the same report.
        let writer = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .expect("open for writing");
        let (written_report, written_buckets) = outcome(path, 2);
        drop(writer);
        assert!(
            written_report == report && written_buckets == buckets,
            "{path}: open for writing elsewhere"
        );
        by_path.push((report.replace(path.as_str(), "LOG"), buckets));
    }
    assert!(
        by_path[0].1 == by_path[1].1,
        "chunks cut at other places give the same buckets"
    );
    let incidents = |report: &str| {
        let parsed: serde_json::Value = serde_json::from_str(report).expect("JSON");
        parsed["incidents"].clone()
    };
    assert_eq!(
        incidents(&by_path[0].0),
        incidents(&by_path[1].0),
        "plain and gzipped give the same incidents"
    );
}

#[test]
fn the_binary_gives_the_same_output_on_one_core_and_two() {
    let dir = scratch();
    let (plain, _) = write_logs(dir.path());
    let output = |command: &str, format: &str, threads: &str| {
        let mut cmd = super::support::postmortem();
        let result = cmd
            .env("RAYON_NUM_THREADS", threads)
            .args([command, "--quiet", "--format", format, &plain])
            .output()
            .expect("the binary runs");
        assert!(result.status.success(), "{command} {format}");
        result.stdout
    };
    for (command, format) in [
        ("report", "json"),
        ("report", "markdown"),
        ("series", "csv"),
    ] {
        assert_eq!(
            output(command, format, "1"),
            output(command, format, "2"),
            "{command} --format {format}"
        );
    }
}
