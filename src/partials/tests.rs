//! Round trips: a partial written to Parquet and read back finishes to
//! the same series, dimensions and summaries as the partial itself, and
//! partials read back from several producers merge to the one-pass state.

use super::*;
use crate::config::UserKey;
use crate::ingest::events::{Event, EventKind};
use crate::ingest::evidence::MetricSeries;
use crate::ingest::recount::EdgeRequest;
use crate::ingest::stats::{InputKind, InputStats, SkippedLine};
use crate::series::dims::{DimensionSeries, Outcome};
use crate::series::paths::request_path;
use crate::series::termination::{Termination, TerminationCause};
use crate::series::{Bucket, LineRef, MIN_DEFAULT_SLOW_US, Request, RequestFacts};

const MINUTE: i64 = 60_000;

/// Minutes of requests exercising every accumulator: failures, slow
/// requests (at and above the ingest threshold), 4xx of three clients,
/// long paths cut to their key, two upstreams with a proxy's termination
/// causes, two hosts; `input` is the index of the producer's input.
fn partial_of(range: std::ops::Range<u64>, input: u32) -> Partial {
    const CLIENTS: [&[u8]; 3] = [b"10.0.0.1", b"10.0.0.2", b"2001:db8::7"];
    let long_path = format!("GET /{} HTTP/1.1", "a".repeat(90));
    let lines: [&[u8]; 4] = [
        b"GET /checkout HTTP/1.1",
        b"GET /search?q=x HTTP/1.1",
        b"POST /api/cart HTTP/2.0",
        long_path.as_bytes(),
    ];
    let mut partial = Partial::new(MINUTE, MIN_DEFAULT_SLOW_US);
    partial.intern_host(b"web01");
    partial.intern_host(b"web02");
    for i in range {
        let status = match i % 11 {
            0 => 503,
            1 => 404,
            2 => 499,
            _ => 200,
        };
        let request = Request {
            facts: RequestFacts {
                arrival: 1_700_000_000_000 + (i as i64 * 997) % (7 * MINUTE),
                status,
                duration_us: (i % 4 != 0).then_some(i * 7_919 % 3_000_000),
                user: i % 37,
                line: LineRef { input, line: i + 1 },
            },
            client: CLIENTS[(i % 3) as usize],
            path: request_path(lines[(i % 4) as usize]),
            host: Some((i % 2) as u16),
        };
        let refused = Outcome {
            failed: true,
            duration_us: None,
            termination: Some(Termination::new(TerminationCause::ConnectFailed, b"SC")),
        };
        let attempts: Vec<(&[u8], Outcome)> = match i % 5 {
            0 => vec![],
            1 => vec![
                (b"10.1.0.1:80", refused),
                (b"10.1.0.2:80", Outcome::of(status, Some(1_000))),
            ],
            _ => vec![(b"10.1.0.2:80", Outcome::of(status, Some(i * 10)))],
        };
        partial.record(&request, attempts);
    }
    partial
}

/// What a finished partial says, comparable: the buckets, the dimensions,
/// and the clients' and paths' summaries as sorted rows.
type Finished = (
    Vec<Bucket>,
    Vec<DimensionSeries>,
    Vec<(i64, String, u64, i64, i64, u64)>,
    Vec<(i64, String, u64, i64, i64, u64, u64, Vec<u32>)>,
);

fn finished(partial: Partial) -> Finished {
    let access = partial.finish(10_000).expect("short series");
    let mut clients = Vec::new();
    for (index, summary) in access.clients.sorted() {
        for c in summary.live() {
            clients.push((
                index,
                c.key.text(),
                c.count,
                c.first,
                c.last,
                summary.total(),
            ));
        }
    }
    clients.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut paths = Vec::new();
    for (index, summary) in access.paths.sorted() {
        let cells = summary.all().cells().to_vec();
        for c in summary.bad().live() {
            paths.push((
                index,
                c.key.text(),
                c.count,
                c.first,
                c.last,
                summary.bad().total(),
                summary.all().total(),
                cells.clone(),
            ));
        }
    }
    paths.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    (access.series.buckets, access.dimensions, clients, paths)
}

fn settings() -> Settings {
    Settings {
        bucket_ms: MINUTE,
        ingest_slow_us: MIN_DEFAULT_SLOW_US,
        slow_given: false,
        window: None,
        user_key: UserKey::IpUserAgent,
        alert_patterns: vec!["PagerDuty".into()],
        user_hash: USER_HASH.into(),
    }
}

fn input(path: &str, parsed: u64) -> InputStats {
    let mut stats = InputStats::new(path.into());
    stats.kind = InputKind::Access;
    stats.format = Some("combined");
    stats.lines = parsed + 1;
    stats.parsed = parsed;
    stats.skipped = 1;
    stats.skipped_examples = vec![SkippedLine {
        line: 7,
        reason: "no timestamp".into(),
    }];
    stats.first = Some(1_700_000_000_000);
    stats.last = Some(1_700_000_400_000);
    stats.other_formats = vec![("common", 3)];
    stats
}

fn ingested(partial: Partial, path: &str, at: i64) -> Ingested {
    Ingested {
        inputs: vec![input(path, 300)],
        access: partial,
        access_offset: Some(3_600),
        access_offset_change: None,
        events: vec![Event {
            at,
            last_at: at + 500,
            kind: EventKind::Alert,
            rule: "nagios critical",
            severity: Some(2),
            host: Some("mon01".into()),
            program: Some("nagios".into()),
            text: "SERVICE ALERT: web;HTTP;CRITICAL".into(),
            line: LineRef { input: 0, line: 42 },
            count: 2,
        }],
        metrics: vec![MetricSeries {
            name: "memory".into(),
            unit: "MB".into(),
            input: 0,
            times: vec![at, at + MINUTE],
            values: vec![512.0, f64::NAN],
            lines: vec![2, 3],
            counter: false,
        }],
        chunk_spans: Vec::new(),
        entry_points: Vec::new(),
        edge_requests: vec![
            EdgeRequest {
                arrival: at + 61_000,
                failed: true,
                duration_us: None,
            },
            EdgeRequest {
                arrival: at + 61_999,
                failed: false,
                duration_us: Some(2_500_000),
            },
        ],
    }
}

#[test]
fn a_partial_read_back_finishes_like_the_partial() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut written = ingested(partial_of(0..900, 0), "web01/access.log", 1_700_000_100_000);
    write_dir(dir.path(), "web01", &settings(), &mut written, None).expect("written");
    let (read_settings, read) =
        read_dirs(&[dir.path().to_path_buf()], u64::MAX).expect("read back");
    assert_eq!(read_settings, settings());
    let expected = finished(partial_of(0..900, 0));
    assert!(
        !expected.2.is_empty() && !expected.3.is_empty(),
        "summaries exercised"
    );
    assert_eq!(expected.1.len(), 2, "upstreams and hosts");
    let got = finished(read.access);
    assert_eq!(got.0, expected.0, "buckets");
    assert_eq!(got.1, expected.1, "dimensions");
    assert_eq!(got.2, expected.2, "4xx clients");
    assert_eq!(got.3, expected.3, "paths");
    assert_eq!(read.inputs, written.inputs);
    assert_eq!(read.access_offset, Some(3_600));
    assert_eq!(read.events.len(), 1);
    let event = &read.events[0];
    assert_eq!(
        (
            event.at,
            event.last_at,
            event.kind,
            event.rule,
            event.severity,
            event.count
        ),
        (
            1_700_000_100_000,
            1_700_000_100_500,
            EventKind::Alert,
            "nagios critical",
            Some(2),
            2
        )
    );
    assert_eq!(event.line, LineRef { input: 0, line: 42 });
    assert_eq!(read.metrics[0].values[0], 512.0);
    assert!(
        read.metrics[0].values[1].is_nan(),
        "an empty cell stays NaN"
    );
    assert_eq!(read.metrics[0].lines, vec![2, 3]);
    assert_eq!(read.edge_requests, written.edge_requests);
}

#[test]
fn producers_read_back_merge_to_the_one_pass_state() {
    let dir = tempfile::tempdir().expect("temporary folder");
    // Three producers sharing buckets, written into one folder; the second
    // producer's input is the run's second: its lines are shifted.
    let cuts = [(0..250, "a"), (250..700, "b"), (700..900, "c")];
    let mut whole = Partial::new(MINUTE, MIN_DEFAULT_SLOW_US);
    for (index, (range, name)) in cuts.iter().enumerate() {
        whole.merge(partial_of(range.clone(), index as u32));
        let mut producer = ingested(
            partial_of(range.clone(), 0),
            &format!("{name}.log"),
            1_700_000_000_000 + index as i64,
        );
        write_dir(dir.path(), name, &settings(), &mut producer, None).expect("written");
    }
    let (_, read) = read_dirs(&[dir.path().to_path_buf()], u64::MAX).expect("read back");
    let paths: Vec<&str> = read.inputs.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        ["a.log", "b.log", "c.log"],
        "producers in name order"
    );
    let inputs: Vec<u32> = read.events.iter().map(|e| e.line.input).collect();
    assert_eq!(inputs, [0, 1, 2], "event lines shifted to their input");
    assert_eq!(finished(read.access), finished(whole));
}

#[test]
fn partials_of_other_settings_are_refused_naming_both() {
    let cases: [(&str, Settings, &str); 4] = [
        (
            "bucket",
            Settings {
                bucket_ms: 5 * MINUTE,
                ..settings()
            },
            "bucket_ms is 60000 in",
        ),
        (
            "slow",
            Settings {
                ingest_slow_us: 2_000_000,
                slow_given: true,
                ..settings()
            },
            "ingest_slow_us is 1000000 in",
        ),
        (
            "users",
            Settings {
                user_key: UserKey::Ip,
                ..settings()
            },
            "users is ip-ua in",
        ),
        (
            "user hash",
            Settings {
                user_hash: "duckdb hash >> 1: h(client)".into(),
                ..settings()
            },
            "user_hash is 'xxh3_64(client)",
        ),
    ];
    for (name, other, expected) in cases {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut first = ingested(partial_of(0..50, 0), "a.log", 1_700_000_000_000);
        write_dir(dir.path(), "a", &settings(), &mut first, None).expect("written");
        let mut second = ingested(partial_of(50..100, 0), "b.log", 1_700_000_000_000);
        write_dir(dir.path(), "b", &other, &mut second, None).expect("written");
        let error = match read_dirs(&[dir.path().to_path_buf()], u64::MAX) {
            Ok(_) => panic!("{name}: merged partials of other settings"),
            Err(error) => error.to_string(),
        };
        assert!(error.contains(expected), "{name}: {error}");
        assert!(
            error.contains("a.buckets.parquet") || error.contains("a.dimension"),
            "{name} names the first file: {error}"
        );
        assert!(
            error.contains("b."),
            "{name} names the second file: {error}"
        );
    }
}

#[test]
fn jsonl_names_each_row_table_and_writes_sketches_in_hex() {
    let mut producer = ingested(partial_of(0..100, 0), "a.log", 1_700_000_000_000);
    let text = to_jsonl("web01", &settings(), &mut producer, None).expect("rendered");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    assert_eq!(rows[0]["table"], "settings");
    assert_eq!(rows[0]["postmortem.bucket_ms"], "60000");
    assert_eq!(rows[0]["postmortem.producer"], "web01");
    let buckets: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["table"] == "buckets").collect();
    let requests: i64 = buckets
        .iter()
        .map(|b| b["requests"].as_i64().expect("count"))
        .sum();
    assert_eq!(requests, 100);
    let sketch = buckets[0]["users_hll"].as_str().expect("hex");
    assert!(
        sketch.len() > 16 && sketch.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sketch}"
    );
}

#[test]
fn the_users_sketch_estimates_the_exact_count_within_its_bound() {
    // Below the sketch's list mode capacity a DataSketches HLL counts
    // each coupon (its estimate within a millionth of the count); at
    // 10,000 users its relative standard error is 1.04/sqrt(4096) = 1.6%,
    // three of them 4.9%.
    let cases = [("small", 37u64, 1e-6), ("large", 10_000, 0.049)];
    for (name, users, tolerance) in cases {
        let spans = crate::series::UserSpans::Open(
            (0..users)
                .map(|user| {
                    (
                        user.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                        crate::series::UserSpan::new(),
                    )
                })
                .collect(),
        );
        let sketch = access::users_sketch(&spans);
        let bytes = sketch.serialize();
        let back = datasketches::hll::HllSketch::deserialize(&bytes).expect("round trip");
        let estimate = back.estimate();
        let error = (estimate - users as f64).abs() / users as f64;
        assert!(error <= tolerance, "{name}: {estimate} for {users}");
    }
}

/// `partial_of(range, input)` with every bucket's users as sketches, as a
/// run past `--exact-users-mb` keeps them.
fn sketched_partial_of(range: std::ops::Range<u64>, input: u32) -> Partial {
    let mut partial = partial_of(range, input);
    partial.set_exact_users_bytes(0);
    partial
}

/// The `users_sketched` column and the number of `users` rows of the
/// producer `name` written in `dir`.
fn sketched_column_and_user_rows(dir: &std::path::Path, name: &str) -> (Vec<bool>, usize) {
    let buckets =
        read_parquet(&dir.join(format!("{name}.buckets.parquet")), true).expect("buckets");
    let users = read_parquet(&dir.join(format!("{name}.users.parquet")), true).expect("users");
    (
        buckets.bools("users_sketched").expect("the column"),
        users.height(),
    )
}

#[test]
fn sketched_buckets_are_written_without_user_rows_and_read_back_as_sketches() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut written = ingested(
        sketched_partial_of(0..900, 0),
        "web01/access.log",
        1_700_000_100_000,
    );
    write_dir(dir.path(), "web01", &settings(), &mut written, None).expect("written");
    let (sketched, user_rows) = sketched_column_and_user_rows(dir.path(), "web01");
    // 900 requests 997 ms apart modulo 7 minutes from a time 20 s into a
    // minute: 8 one-minute buckets.
    assert_eq!(sketched, vec![true; 8]);
    assert_eq!(user_rows, 0, "a sketched bucket writes no users rows");
    let (_, read) = read_dirs(&[dir.path().to_path_buf()], u64::MAX).expect("read back");
    let got = finished(read.access);
    let expected = finished(sketched_partial_of(0..900, 0));
    assert!(
        expected
            .0
            .iter()
            .all(|bucket| bucket.users.sketch().is_some())
    );
    // `Bucket`'s equality compares sketches by their estimates (all users
    // and bad users) and their arrival range.
    assert_eq!(got.0, expected.0, "buckets");
    let estimates: Vec<usize> = got.0.iter().map(|bucket| bucket.users.len()).collect();
    // 37 user ids (`i % 37`), each seen in every full minute; the last,
    // partial minute holds 34 of them. Below the sketch's list mode
    // capacity the estimate is the count.
    assert_eq!(estimates, [37, 37, 37, 37, 37, 37, 37, 34]);
}

#[test]
fn sketched_and_exact_producers_merge_to_sketches_and_the_reduce_step_has_its_own_budget() {
    // (first producer sketched, reduce budget in bytes, buckets sketched)
    let cases = [
        (
            "one sketched producer sketches the merge",
            true,
            u64::MAX,
            true,
        ),
        (
            "exact producers within the budget stay exact",
            false,
            u64::MAX,
            false,
        ),
        (
            "exact producers past the reduce step's budget",
            false,
            0,
            true,
        ),
    ];
    for (name, first_sketched, budget, expect_sketched) in cases {
        let dir = tempfile::tempdir().expect("temporary folder");
        let cuts = [(0..250, "a"), (250..700, "b"), (700..900, "c")];
        let mut whole = Partial::new(MINUTE, MIN_DEFAULT_SLOW_US);
        for (index, (range, producer)) in cuts.iter().enumerate() {
            let partial = if index == 0 && first_sketched {
                sketched_partial_of(range.clone(), 0)
            } else {
                partial_of(range.clone(), 0)
            };
            whole.merge(partial_of(range.clone(), index as u32));
            let mut producer_state =
                ingested(partial, &format!("{producer}.log"), 1_700_000_000_000);
            write_dir(dir.path(), producer, &settings(), &mut producer_state, None)
                .expect("written");
        }
        if expect_sketched {
            whole.set_exact_users_bytes(0);
        }
        let (_, read) = read_dirs(&[dir.path().to_path_buf()], budget).expect("read back");
        let got = finished(read.access);
        assert!(
            got.0
                .iter()
                .all(|bucket| bucket.users.sketch().is_some() == expect_sketched),
            "{name}"
        );
        assert_eq!(got, finished(whole), "{name}");
    }
}

#[test]
fn partials_without_the_sketch_columns_read_as_exact() {
    // Files written before sketched buckets were carried, and the SQL
    // queries' output, lack the four columns.
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut written = ingested(partial_of(0..900, 0), "web01/access.log", 1_700_000_100_000);
    write_dir(dir.path(), "web01", &settings(), &mut written, None).expect("written");
    let path = dir.path().join("web01.buckets.parquet");
    let mut old = read_parquet(&path, true).expect("buckets");
    let new_columns = [
        "bad_users_hll",
        "users_sketched",
        "users_first_ms",
        "users_last_ms",
    ];
    old.frame = old.frame.drop_many(new_columns);
    assert!(new_columns.iter().all(|column| !old.has_column(column)));
    columns::write_parquet(&path, &mut old.frame, &old.metadata).expect("rewritten");
    let (_, read) = read_dirs(&[dir.path().to_path_buf()], u64::MAX).expect("read back");
    assert_eq!(finished(read.access), finished(partial_of(0..900, 0)));
}

#[test]
fn a_sketched_bucket_in_json_lines_round_trips_and_folds_exact_rows_in() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut producer = ingested(sketched_partial_of(0..900, 0), "a.log", 1_700_000_000_000);
    let text = to_jsonl("web01", &settings(), &mut producer, None).expect("rendered");
    let first_bucket: serde_json::Value = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .find(|row| row["table"] == "buckets")
        .expect("a bucket row");
    assert_eq!(first_bucket["users_sketched"], true);
    let bad = first_bucket["bad_users_hll"].as_str().expect("hex");
    assert!(
        bad.len() > 16 && bad.bytes().all(|b| b.is_ascii_hexdigit()),
        "{bad}"
    );
    assert!(first_bucket["users_first_ms"].is_i64() && first_bucket["users_last_ms"].is_i64());
    let path = dir.path().join("web01.jsonl");
    std::fs::write(&path, &text).expect("written");
    let (_, read) = read_dirs(std::slice::from_ref(&path), u64::MAX).expect("read back");
    assert_eq!(
        finished(read.access),
        finished(sketched_partial_of(0..900, 0))
    );

    // A Spark merge of a sketched split and an exact one: sketched buckets
    // that also have `users` rows. Here the exact split's users are ids
    // 1000 and up, one row each, bad: they count in both sketches.
    let extra_users = (1_000..1_050u64)
        .map(|user| {
            format!(
                "{{\"table\":\"users\",\"bucket\":{},\"user\":{user},\"first_ms\":5,\"last_ms\":59999,\"first_bad_ms\":5,\"last_bad_ms\":5,\"max_ok_latency_us\":0,\"had_failed\":true}}\n",
                first_bucket["bucket"]
            )
        })
        .collect::<String>();
    std::fs::write(&path, format!("{text}{extra_users}")).expect("written");
    let (_, read) = read_dirs(std::slice::from_ref(&path), u64::MAX).expect("read back");
    let got = finished(read.access);
    let bucket = got.0[0].users.sketch().expect("sketched");
    let expected = finished(sketched_partial_of(0..900, 0));
    let before = expected.0[0].users.sketch().expect("sketched");
    let estimate = |sketch: &datasketches::hll::HllSketch| {
        crate::series::user_sketch::UsersUnion::of([sketch]).estimate()
    };
    assert_eq!((estimate(&bucket.all), estimate(&before.all)), (87, 37));
    assert_eq!(estimate(&bucket.bad), estimate(&before.bad) + 50);
    assert_eq!((bucket.first, bucket.last), (before.first.min(5), 59_999));
}

#[test]
fn a_sketched_bucket_without_its_sketches_is_refused_naming_the_line_and_column() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut producer = ingested(sketched_partial_of(0..100, 0), "a.log", 1_700_000_000_000);
    let text = to_jsonl("web01", &settings(), &mut producer, None).expect("rendered");
    // (what the first bucket row is given, the column named)
    let cases = [
        ("\"bad_users_hll\":null", "bad_users_hll"),
        ("\"bad_users_hll\":\"00ff\"", "bad_users_hll"),
    ];
    for (replacement, column) in cases {
        let mut damaged = String::new();
        let mut line_of_first_bucket = None;
        for (at, line) in text.lines().enumerate() {
            let mut row: serde_json::Value = serde_json::from_str(line).expect("JSON");
            if row["table"] == "buckets" && line_of_first_bucket.is_none() {
                line_of_first_bucket = Some(at + 1);
                let object = row.as_object_mut().expect("an object");
                let (key, value) = replacement.split_once(':').expect("key:value");
                object.insert(
                    key.trim_matches('"').into(),
                    serde_json::from_str(value).expect("a value"),
                );
            }
            damaged.push_str(&format!("{row}\n"));
        }
        let path = dir.path().join("web01.jsonl");
        std::fs::write(&path, damaged).expect("written");
        let error = match read_dirs(std::slice::from_ref(&path), u64::MAX) {
            Ok(_) => panic!("{replacement}: read"),
            Err(error) => error.to_string(),
        };
        let line = format!("line {}", line_of_first_bucket.expect("a bucket row"));
        assert!(
            error.contains("web01.jsonl") && error.contains(&line),
            "{replacement}: {error}"
        );
        assert!(
            error.contains(&format!("column '{column}'")),
            "{replacement}: {error}"
        );
    }
}
