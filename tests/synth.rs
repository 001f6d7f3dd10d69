//! Tests of the incident-log generator: the bundled samples match what the
//! generator writes, the ground truth follows the report contract on small
//! hand-made tables, and each log layout puts its fields where servers do.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use postmortem_testbed::bench_log::{GenOptions, Layout, write_log};
use postmortem_testbed::synth::clock::{Zone, epoch_ms, rfc3339_utc};
use postmortem_testbed::synth::render::{AccessFormat, LineFields};
use postmortem_testbed::synth::scenario::{GZIP_HEADER, ScenarioFile, gzip};
use postmortem_testbed::synth::traffic::UpstreamAttempt;
use postmortem_testbed::synth::truth::{
    ImpactTruth, ObservedRequest, SLOW_THRESHOLD_US, Severity, bad_request_incident,
    nginx_reconstructed_arrival_ms, observe, traffic_gap_incident, users_per_minute,
};
use postmortem_testbed::synth::{GeneratedScenario, SCENARIO_NAMES, generate_scenario, readme};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

/// The files below `folder`, as paths relative to it (`/` separated).
fn file_names(folder: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(folder).expect("below the folder");
                let parts: Vec<String> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                names.insert(parts.join("/"));
            }
        }
    }
    names
}

/// The files a scenario writes: named one by one, or an ALB's S3 tree of
/// one gzipped file per node per 5 minutes.
enum Files {
    Exact(&'static [&'static str]),
    AlbTree { files: usize },
}

/// The folder and file-name head of every file of the ALB sample, as AWS
/// names them.
const ALB_KEY_HEAD: &str = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/06/11/123456789012_elasticloadbalancing_eu-west-1_app.shop-prod-alb.50dc6c495c0c9188_";

/// Why an ALB log's name is not AWS's
/// `..._<end-time>_<node-ip>_<random-string>.log.gz`, if it is not.
fn alb_key_problem(name: &str) -> Option<String> {
    let Some(tail) = name
        .strip_prefix(ALB_KEY_HEAD)
        .and_then(|t| t.strip_suffix(".log.gz"))
    else {
        return Some(format!("{name}: not in AWS's folder tree"));
    };
    let parts: Vec<&str> = tail.split('_').collect();
    let [end_time, node, random] = parts[..] else {
        return Some(format!("{name}: expected end-time_ip_random"));
    };
    let minute_ok = end_time.len() == 14
        && end_time.starts_with("20240611T")
        && end_time.ends_with('Z')
        && end_time[11..13]
            .parse::<u32>()
            .is_ok_and(|minute| minute % 5 == 0);
    let node_ok = node.parse::<Ipv4Addr>().is_ok();
    let random_ok = random.len() == 8
        && random
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (!(minute_ok && node_ok && random_ok))
        .then(|| format!("{name}: end time, node or random string malformed"))
}

/// Why a committed file does not match the generator, if it does not.
fn mismatch(committed: &Path, file: &ScenarioFile) -> Option<String> {
    let on_disk = match fs::read(committed) {
        Ok(bytes) => bytes,
        Err(error) => return Some(format!("cannot read: {error}")),
    };
    if !file.gzipped() {
        return (on_disk != file.content).then(|| "content differs".to_string());
    }
    // Compare what the gzip holds (compressing again in a debug build
    // would cost a minute); the header must be the generator's fixed one.
    if on_disk.get(..GZIP_HEADER.len()) != Some(&GZIP_HEADER[..]) {
        return Some("gzip header differs".to_string());
    }
    let mut content = Vec::new();
    if let Err(error) = GzDecoder::new(&on_disk[..]).read_to_end(&mut content) {
        return Some(format!("gzip does not decompress: {error}"));
    }
    (content != file.content).then(|| "decompressed content differs".to_string())
}

#[test]
fn committed_samples_are_what_the_generator_writes() {
    let expected_files: [(&str, Files); 11] = [
        (
            "memory-leak",
            Files::Exact(&["access.log.gz", "metrics.csv", "syslog"]),
        ),
        ("quiet", Files::Exact(&["access.log.gz", "syslog"])),
        (
            "bad-config",
            Files::Exact(&["access_log.gz", "error_log", "syslog"]),
        ),
        (
            "full-outage",
            Files::Exact(&["access.log.gz", "error.log", "metrics.csv", "syslog"]),
        ),
        (
            "uneven-lb",
            Files::Exact(&["ingress-nginx.log.gz", "journal.log"]),
        ),
        (
            "slow-degradation",
            Files::Exact(&["access.json.log.gz", "syslog"]),
        ),
        ("traffic-gap", Files::Exact(&["access.log.gz", "syslog"])),
        ("haproxy-reload", Files::Exact(&["haproxy.log"])),
        ("envoy-upstream-refused", Files::Exact(&["envoy.log.gz"])),
        // Two nodes, 3 h of requests: 36 files each.
        ("alb-slow-target", Files::AlbTree { files: 72 }),
        (
            "iis-app-pool",
            Files::Exact(&["HTTPERR/httperr1.log", "W3SVC1/u_ex240312.log"]),
        ),
    ];
    assert_eq!(
        expected_files
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>(),
        SCENARIO_NAMES.to_vec(),
        "every scenario has a case here"
    );
    // One thread per scenario: generation in a debug build is slow.
    let generated: Vec<GeneratedScenario> = std::thread::scope(|scope| {
        let handles: Vec<_> = expected_files
            .iter()
            .map(|(name, _)| {
                scope.spawn(move || {
                    generate_scenario(name)
                        .unwrap_or_else(|| panic!("{name}: unknown scenario"))
                        .unwrap_or_else(|error| panic!("{name}: generation failed: {error}"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("generator thread"))
            .collect()
    });
    let mut problems = Vec::new();
    for ((name, files), scenario) in expected_files.iter().zip(&generated) {
        let committed = samples_dir().join(name);
        let names: BTreeSet<String> = scenario
            .files
            .iter()
            .map(|file| file.facts.name.clone())
            .collect();
        let wanted: BTreeSet<String> = match files {
            Files::Exact(files) => files.iter().map(|file| file.to_string()).collect(),
            Files::AlbTree { files } => {
                assert_eq!(
                    names.len(),
                    *files,
                    "{name}: one file per node per 5 minutes"
                );
                let malformed: Vec<String> =
                    names.iter().filter_map(|n| alb_key_problem(n)).collect();
                assert!(malformed.is_empty(), "{name}: {malformed:#?}");
                names.clone()
            }
        };
        assert_eq!(names, wanted, "{name}: generated file set");
        assert_eq!(file_names(&committed), wanted, "{name}: committed file set");
        for file in &scenario.files {
            if let Some(problem) = mismatch(&committed.join(&file.facts.name), file) {
                problems.push(format!("{name}/{}: {problem}", file.facts.name));
            }
        }
        let expected_json = scenario.expected_json().expect("ground truth");
        let truth = GeneratedScenario::expected_path(&samples_dir(), name);
        if fs::read(&truth).ok() != Some(expected_json) {
            problems.push(format!("{}: content differs", truth.display()));
        }
    }
    let committed_readme = fs::read_to_string(samples_dir().join("README.md")).expect("README");
    if committed_readme != readme(&generated) {
        problems.push("README.md: content differs".to_string());
    }
    assert!(
        problems.is_empty(),
        "sample-logs/ drifted from the generator; run `cargo run --release --example synth -- sample-logs`:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_written_scenario_folder_round_trips() {
    let scenario = generate_scenario("full-outage")
        .expect("known")
        .expect("generated");
    let temp = tempfile::tempdir().expect("temporary directory");
    scenario.write(temp.path()).expect("write");
    // A stale uncompressed twin of a gzipped file, and a ground truth left
    // in the folder by an older generator, are removed on rewrite.
    let folder = temp.path().join("full-outage");
    fs::write(folder.join("access.log"), b"stale").expect("plant");
    fs::write(folder.join("expected.json"), b"{}").expect("plant");
    scenario.write(temp.path()).expect("rewrite");
    assert_eq!(
        file_names(&folder),
        ["access.log.gz", "error.log", "metrics.csv", "syslog"]
            .iter()
            .map(|name| name.to_string())
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(
        fs::read(temp.path().join("expected").join("full-outage.json")).ok(),
        Some(scenario.expected_json().expect("ground truth")),
        "the ground truth lies beside the scenario folders"
    );
    for file in &scenario.files {
        assert_eq!(
            mismatch(&folder.join(&file.facts.name), file),
            None,
            "{}",
            file.facts.name
        );
    }
}

#[test]
fn gzip_output_is_reproducible() {
    let content = b"198.51.100.7 - - [12/Nov/2023:14:00:03 +0000] \"GET / HTTP/1.1\" 200 5123 \"-\" \"curl/8.4.0\" 0.012\n".repeat(200);
    let first = gzip(&content).expect("gzip");
    assert_eq!(first, gzip(&content).expect("gzip"));
    assert_eq!(&first[..GZIP_HEADER.len()], &GZIP_HEADER[..]);
    let mut back = Vec::new();
    GzDecoder::new(&first[..])
        .read_to_end(&mut back)
        .expect("gunzip");
    assert_eq!(back, content);
}

#[test]
fn generation_is_deterministic() {
    let first = generate_scenario("memory-leak")
        .expect("known")
        .expect("generated");
    let second = generate_scenario("memory-leak")
        .expect("known")
        .expect("generated");
    for (a, b) in first.files.iter().zip(&second.files) {
        assert_eq!(a.facts, b.facts);
        assert!(
            a.content == b.content,
            "{} differs between runs",
            a.facts.name
        );
    }
}

const ALICE: &str = "Mozilla/5.0 (Alice)";
const BOB: &str = "Mozilla/5.0 (Bob)";

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, last))
}

/// A request at `second` seconds after 14:00:00 UTC on 2023-11-12.
fn request(
    second: f64,
    status: u16,
    latency_s: f64,
    address: u8,
    agent: &'static str,
) -> ObservedRequest<'static> {
    ObservedRequest {
        arrival_ms: epoch_ms(Zone::UTC, (2023, 11, 12), (14, 0, 0)) + (second * 1_000.0) as i64,
        status,
        latency_us: Some((latency_s * 1_000_000.0) as u64),
        ip: ip(address),
        user_agent: agent,
    }
}

fn window(from_s: i64, to_s: i64) -> (i64, i64) {
    let base = epoch_ms(Zone::UTC, (2023, 11, 12), (14, 0, 0));
    (base + from_s * 1_000, base + to_s * 1_000)
}

struct TruthCase {
    name: &'static str,
    requests: Vec<ObservedRequest<'static>>,
    window_s: (i64, i64),
    start: &'static str,
    end: &'static str,
    /// total, failed, slow
    requests_counts: (u64, u64, u64),
    /// active, affected (ip+ua), active, affected (ip)
    users: (u64, u64, u64, u64),
    affected_pct: f64,
}

#[test]
fn bad_request_truth_follows_the_contract() {
    let cases = vec![
        TruthCase {
            name: "five requests, three users, two bad",
            requests: vec![
                request(1.0, 200, 0.05, 1, ALICE),
                request(2.5, 503, 0.01, 2, ALICE),
                request(3.0, 200, 0.04, 3, BOB),
                request(4.0, 200, 2.0, 1, ALICE),
                request(5.0, 200, 0.03, 2, ALICE),
            ],
            window_s: (0, 60),
            start: "2023-11-12T14:00:02.500Z",
            end: "2023-11-12T14:00:04Z",
            requests_counts: (3, 1, 1),
            users: (3, 2, 3, 2),
            affected_pct: 66.67,
        },
        TruthCase {
            name: "499 counts as failed, 404 does not",
            requests: vec![
                request(0.0, 404, 0.002, 1, ALICE),
                request(10.0, 499, 0.4, 2, ALICE),
                request(20.0, 404, 0.002, 3, BOB),
                request(30.0, 499, 0.7, 1, BOB),
            ],
            window_s: (0, 60),
            start: "2023-11-12T14:00:10Z",
            end: "2023-11-12T14:00:30Z",
            requests_counts: (3, 2, 0),
            users: (3, 2, 3, 2),
            affected_pct: 66.67,
        },
        TruthCase {
            name: "slow and failed is counted once, as failed",
            requests: vec![
                request(0.0, 504, 60.001, 1, ALICE),
                request(1.0, 200, 1.5, 2, ALICE),
                request(2.0, 200, 1.0, 3, ALICE),
            ],
            window_s: (0, 60),
            start: "2023-11-12T14:00:00Z",
            end: "2023-11-12T14:00:01Z",
            requests_counts: (2, 1, 1),
            users: (2, 2, 2, 2),
            affected_pct: 100.0,
        },
        TruthCase {
            name: "bad requests outside the window are ignored; NAT users differ by agent",
            requests: vec![
                request(-5.0, 500, 0.02, 1, ALICE),
                request(12.0, 502, 0.001, 1, ALICE),
                request(13.0, 200, 0.03, 1, BOB),
                request(14.0, 200, 0.03, 2, BOB),
                request(15.0, 500, 0.02, 2, BOB),
                request(90.0, 500, 0.02, 1, BOB),
            ],
            window_s: (10, 60),
            start: "2023-11-12T14:00:12Z",
            end: "2023-11-12T14:00:15Z",
            requests_counts: (4, 2, 0),
            users: (3, 2, 2, 2),
            affected_pct: 66.67,
        },
    ];
    for case in cases {
        let (from, to) = window(case.window_s.0, case.window_s.1);
        let truth: ImpactTruth = bad_request_incident(&case.requests, from, to, SLOW_THRESHOLD_US)
            .unwrap_or_else(|| panic!("{}: no incident", case.name));
        assert_eq!(
            rfc3339_utc(truth.start_ms),
            case.start,
            "{}: start",
            case.name
        );
        assert_eq!(rfc3339_utc(truth.end_ms), case.end, "{}: end", case.name);
        assert_eq!(
            (
                truth.requests_total,
                truth.requests_failed,
                truth.requests_slow
            ),
            case.requests_counts,
            "{}: requests",
            case.name
        );
        assert_eq!(
            (
                truth.users_active,
                truth.users_affected,
                truth.ip_users_active,
                truth.ip_users_affected
            ),
            case.users,
            "{}: users",
            case.name
        );
        assert_eq!(
            truth.affected_pct(),
            case.affected_pct,
            "{}: affected_pct",
            case.name
        );
    }
}

#[test]
fn no_bad_request_in_the_window_is_no_incident() {
    let requests = vec![
        request(1.0, 200, 0.05, 1, ALICE),
        request(2.0, 404, 0.01, 2, BOB),
    ];
    let (from, to) = window(0, 60);
    assert_eq!(
        bad_request_incident(&requests, from, to, SLOW_THRESHOLD_US),
        None
    );
}

/// (case, format, true arrival after 14:00:00 in ms, latency µs,
/// reconstructed arrival, logged latency)
type ReconstructionCase = (
    &'static str,
    AccessFormat,
    i64,
    u64,
    &'static str,
    Option<u64>,
);

#[test]
fn request_times_are_reconstructed_as_a_tool_reads_them() {
    let cases: [ReconstructionCase; 5] = [
        (
            "nginx: completion second minus request time",
            AccessFormat::NginxCombinedRequestTime,
            700,
            1_500_000,
            "2023-11-12T14:00:00.500Z",
            Some(1_500_000),
        ),
        (
            "nginx: fast request in the same second",
            AccessFormat::NginxMainRequestTime,
            250,
            42_000,
            "2023-11-12T13:59:59.958Z",
            Some(42_000),
        ),
        (
            "nginx json: same rule",
            AccessFormat::NginxJson,
            999,
            60_001_000,
            "2023-11-12T14:00:00.999Z",
            Some(60_001_000),
        ),
        (
            "apache %D: arrival second",
            AccessFormat::ApacheCombinedMicros,
            700,
            1_500_123,
            "2023-11-12T14:00:00Z",
            Some(1_500_123),
        ),
        (
            "apache combined: no request time",
            AccessFormat::ApacheCombined,
            1_700,
            80_000,
            "2023-11-12T14:00:01Z",
            None,
        ),
    ];
    let base = epoch_ms(Zone::UTC, (2023, 11, 12), (14, 0, 0));
    for (name, format, arrival, latency, reconstructed, logged) in cases {
        let (arrival_ms, latency_us) = observe(format, base + arrival, latency);
        assert_eq!(rfc3339_utc(arrival_ms), reconstructed, "{name}");
        assert_eq!(latency_us, logged, "{name}");
    }
    assert_eq!(
        nginx_reconstructed_arrival_ms(1_699_797_602, 1_500),
        1_699_797_600_500
    );
}

#[test]
fn traffic_gap_truth_spans_the_silence() {
    let requests = vec![
        request(0.0, 200, 0.05, 1, ALICE),
        request(30.0, 200, 0.05, 2, BOB),
        request(1_230.0, 200, 0.05, 3, BOB),
        request(1_240.0, 500, 0.05, 1, ALICE),
    ];
    let (from, to) = window(40, 1_200);
    let truth = traffic_gap_incident(&requests, from, to, SLOW_THRESHOLD_US).expect("a gap");
    assert_eq!(rfc3339_utc(truth.start_ms), "2023-11-12T14:00:30Z");
    assert_eq!(rfc3339_utc(truth.end_ms), "2023-11-12T14:20:30Z");
    assert_eq!(
        (
            truth.requests_total,
            truth.users_active,
            truth.users_affected
        ),
        (2, 2, 0)
    );
    // Users per minute: minute 14:00 has two users, 14:01 none.
    let per_minute = users_per_minute(&requests, window(120, 120).0, 2);
    assert_eq!(per_minute, 1.0);
}

#[test]
fn severity_follows_the_failed_share() {
    let impact = |total, failed, slow| ImpactTruth {
        start_ms: 0,
        end_ms: 0,
        requests_total: total,
        requests_failed: failed,
        requests_slow: slow,
        users_active: 1,
        users_affected: 1,
        ip_users_active: 1,
        ip_users_affected: 1,
    };
    let cases = [
        ("everything failed", impact(100, 97, 0), Severity::Outage),
        (
            "a third failed",
            impact(100, 30, 10),
            Severity::PartialOutage,
        ),
        (
            "slow only, background 500s",
            impact(1_000, 2, 200),
            Severity::Degradation,
        ),
    ];
    for (name, figures, severity) in cases {
        assert_eq!(Severity::of_bad_requests(&figures), severity, "{name}");
    }
}

fn sample_line(format: AccessFormat, zone: Zone) -> String {
    let upstreams = [
        UpstreamAttempt {
            backend: 1,
            status: 504,
            response_time_ms: 60_001,
            length: Some(0),
        },
        UpstreamAttempt {
            backend: 0,
            status: 200,
            response_time_ms: 41,
            length: Some(5_123),
        },
    ];
    let addresses = [
        "10.244.1.23:8080".to_string(),
        "10.244.2.17:8080".to_string(),
    ];
    let line = LineFields {
        client: ip(7),
        remote_user: None,
        arrival_ms: epoch_ms(Zone::UTC, (2023, 11, 12), (14, 0, 2)) + 900,
        latency_us: 123_000,
        zone,
        method: "GET",
        path: "/products/linen-shirt-navy-1042",
        protocol: "HTTP/2.0",
        status: 200,
        body_bytes: 5_123,
        referer: Some("https://shop.example.com/"),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0",
        forwarded_for: None,
        request_length: 412,
        upstream_name: "shop-web-8080",
        upstreams: &upstreams,
        upstream_addresses: &addresses,
        request_id: 0x5f1b_1e8c_0d3a_4b7f_9e2c_6d8a_1b3c_5e7f,
    };
    let mut out = Vec::new();
    format.render(&line, &mut out);
    String::from_utf8(out).expect("ASCII line")
}

#[test]
fn rendered_lines_put_fields_where_servers_do() {
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0";
    let cases: [(&str, AccessFormat, Zone, String); 6] = [
        (
            "nginx combined + request time: completion second, ends in seconds",
            AccessFormat::NginxCombinedRequestTime,
            Zone::UTC,
            format!(
                "198.51.100.7 - - [12/Nov/2023:14:00:03 +0000] \"GET /products/linen-shirt-navy-1042 HTTP/2.0\" 200 5123 \"https://shop.example.com/\" \"{ua}\" 0.123\n"
            ),
        ),
        (
            "nginx main + request time: x-forwarded-for before the time",
            AccessFormat::NginxMainRequestTime,
            Zone::from_hours_minutes(-7, 0),
            format!(
                "198.51.100.7 - - [12/Nov/2023:07:00:03 -0700] \"GET /products/linen-shirt-navy-1042 HTTP/2.0\" 200 5123 \"https://shop.example.com/\" \"{ua}\" \"-\" 0.123\n"
            ),
        ),
        (
            "ingress-nginx: upstream lists, one entry per try",
            AccessFormat::IngressNginx,
            Zone::UTC,
            format!(
                "198.51.100.7 - - [12/Nov/2023:14:00:03 +0000] \"GET /products/linen-shirt-navy-1042 HTTP/2.0\" 200 5123 \"https://shop.example.com/\" \"{ua}\" 412 0.123 [shop-web-8080] [] 10.244.2.17:8080, 10.244.1.23:8080 0, 5123 60.001, 0.041 504, 200 5f1b1e8c0d3a4b7f9e2c6d8a1b3c5e7f\n"
            ),
        ),
        (
            "apache combined + %D: arrival second, integer microseconds",
            AccessFormat::ApacheCombinedMicros,
            Zone::from_hours_minutes(1, 0),
            format!(
                "198.51.100.7 - - [12/Nov/2023:15:00:02 +0100] \"GET /products/linen-shirt-navy-1042 HTTP/2.0\" 200 5123 \"https://shop.example.com/\" \"{ua}\" 123000\n"
            ),
        ),
        (
            "apache combined: no request time",
            AccessFormat::ApacheCombined,
            Zone::from_hours_minutes(1, 0),
            format!(
                "198.51.100.7 - - [12/Nov/2023:15:00:02 +0100] \"GET /products/linen-shirt-navy-1042 HTTP/2.0\" 200 5123 \"https://shop.example.com/\" \"{ua}\"\n"
            ),
        ),
        (
            "nginx json: ISO 8601 completion time, numbers unquoted",
            AccessFormat::NginxJson,
            Zone::from_hours_minutes(1, 0),
            format!(
                "{{\"time_iso8601\":\"2023-11-12T15:00:03+01:00\",\"remote_addr\":\"198.51.100.7\",\"remote_user\":\"\",\"request\":\"GET /products/linen-shirt-navy-1042 HTTP/2.0\",\"status\":200,\"body_bytes_sent\":5123,\"request_time\":0.123,\"http_referer\":\"https://shop.example.com/\",\"http_user_agent\":\"{ua}\",\"http_x_forwarded_for\":\"\"}}\n"
            ),
        ),
    ];
    for (name, format, zone, expected) in cases {
        assert_eq!(sample_line(format, zone), expected, "{name}");
    }
    let json_line = sample_line(AccessFormat::NginxJson, Zone::UTC);
    let parsed: serde_json::Value = serde_json::from_str(json_line.trim_end()).expect("valid JSON");
    assert_eq!(parsed["request_time"], serde_json::json!(0.123));
    assert_eq!(parsed["status"], serde_json::json!(200));
}

#[test]
fn benchmark_log_has_the_asked_lines_in_completion_order() {
    let options = GenOptions::day(20_000, 7, Layout::CombinedRequestTime);
    let mut first = Vec::new();
    write_log(&options, &mut first).expect("write to memory");
    let mut second = Vec::new();
    write_log(&options, &mut second).expect("write to memory");
    assert!(first == second, "same seed, same bytes");
    let text = String::from_utf8(first).expect("ASCII");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 20_000);
    let stamps: Vec<&str> = lines
        .iter()
        .map(|line| {
            let open = line.find('[').expect("timestamp");
            &line[open + 13..open + 21]
        })
        .collect();
    assert!(
        stamps.windows(2).all(|pair| pair[0] <= pair[1]),
        "printed times never go back"
    );
    assert!(lines.iter().all(|line| {
        let time = line.rsplit(' ').next().unwrap_or("");
        time.len() >= 5 && time.as_bytes()[time.len() - 4] == b'.'
    }));
    let incident_errors = lines
        .iter()
        .filter(|line| {
            line.contains("/Mar/2024:12:") && (line.contains("\" 504 ") || line.contains("\" 502 "))
        })
        .count();
    assert!(
        incident_errors > 20,
        "the noon incident shows: {incident_errors}"
    );
}

/// The ALB, IIS and HTTP.sys lines the generator writes, read back by the
/// tool's own parsers: every field lands where the vendor puts it.
#[test]
fn load_balancer_lines_read_back_as_written() {
    use postmortem::ingest::access::aws::parse_alb;
    use postmortem::ingest::access::w3c::W3cParser;
    use postmortem::series::termination::TerminationCause;
    use postmortem_testbed::synth::render_lb::{
        HTTPERR_FIELDS, IIS_FIELDS, render_httperr, render_iis,
    };

    let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
    let arrival = epoch_ms(Zone::UTC, (2023, 11, 12), (14, 0, 2)) + 900;
    // The target answered: processing times add up to the 123 ms.
    let alb = sample_line(AccessFormat::Alb, Zone::UTC);
    assert!(alb.starts_with("h2 2023-11-12T14:00:03.023567Z app/shop-prod-alb/50dc6c495c0c9188 198.51.100.7:18591 10.244.2.17:8080 0.000 0.123 0.000 200 200 412 5123 \"GET https://shop-web-8080:443/products/linen-shirt-navy-1042 HTTP/2.0\""), "{alb}");
    let (record, _) = parse_alb(alb.trim_end().as_bytes()).expect("the tool reads it");
    assert_eq!(
        record.arrival(),
        arrival,
        "request_creation_time, to the ms"
    );
    assert_eq!(record.duration_us, Some(123_000));
    assert_eq!(record.status, 200);
    assert_eq!(String::from_utf8_lossy(record.client), "198.51.100.7");
    assert_eq!(
        text(record.upstream_addr).as_deref(),
        Some("10.244.2.17:8080")
    );
    assert_eq!(record.bytes, Some(5_123));
    assert_eq!(
        text(record.host).as_deref(),
        Some("shop-web-8080:443"),
        "as the URL writes it"
    );
    assert_eq!(record.termination, None);
    // An unanswered attempt (status 0): the ALB's own 504, times -1.
    let upstreams = [UpstreamAttempt {
        backend: 1,
        status: 0,
        response_time_ms: 60_000,
        length: None,
    }];
    let addresses = ["10.0.1.17:8080".to_string(), "10.0.2.41:8080".to_string()];
    let timed_out = LineFields {
        client: ip(9),
        remote_user: None,
        arrival_ms: arrival,
        latency_us: 60_000_000,
        zone: Zone::UTC,
        method: "POST",
        path: "/checkout?step=2",
        protocol: "HTTP/1.1",
        status: 504,
        body_bytes: 132,
        referer: None,
        user_agent: "curl/8.4.0",
        forwarded_for: None,
        request_length: 700,
        upstream_name: "shop.example.com",
        upstreams: &upstreams,
        upstream_addresses: &addresses,
        request_id: 42,
    };
    let mut out = Vec::new();
    AccessFormat::Alb.render(&timed_out, &mut out);
    let line = String::from_utf8(out).expect("ASCII");
    assert!(line.contains(" 10.0.2.41:8080 0.000 -1 -1 504 - 700 132 \"POST https://shop.example.com:443/checkout?step=2 HTTP/1.1\""), "{line}");
    let (record, _) = parse_alb(line.trim_end().as_bytes()).expect("the tool reads it");
    assert_eq!(record.arrival(), arrival);
    assert_eq!(
        record.duration_us,
        Some(60_000_000),
        "time - request_creation_time"
    );
    let termination = record.termination.expect("the load balancer's own answer");
    assert_eq!(
        (termination.cause, termination.code.text()),
        (TerminationCause::ServerTimeout, "504".to_string())
    );

    // IIS: completion second, time-taken ms, spaces as `+`, query apart.
    let head = format!("#Fields: {IIS_FIELDS}");
    let iis_parser = W3cParser::from_head(&[head.as_bytes()]);
    let mut out = Vec::new();
    render_iis(&timed_out, &mut out);
    let line = String::from_utf8(out).expect("ASCII");
    assert_eq!(
        line,
        "2023-11-12 14:01:02 W3SVC1 10.0.0.4 POST /checkout step=2 443 - 198.51.100.9 curl/8.4.0 - 504 0 0 60000\r\n"
    );
    let (record, _) = iis_parser
        .parse(line.trim_end().as_bytes())
        .expect("the tool reads it");
    assert_eq!(
        record.arrival(),
        arrival - 900,
        "completion second less time-taken"
    );
    assert_eq!(record.duration_us, Some(60_000_000));
    assert_eq!(String::from_utf8_lossy(record.request), "POST /checkout");

    // HTTP.sys: the arrival second, the pool and the reason.
    let head = format!("#Fields: {HTTPERR_FIELDS}");
    let httperr_parser = W3cParser::from_head(&[head.as_bytes()]);
    let mut out = Vec::new();
    render_httperr(&timed_out, Some(503), "AppOffline", &mut out);
    let line = String::from_utf8(out).expect("ASCII");
    assert_eq!(
        line,
        "2023-11-12 14:00:02 198.51.100.9 1066 10.0.0.4 443 HTTP/1.1 POST /checkout?step=2 - 503 1 AppOffline ShopPool\r\n"
    );
    let (record, _) = httperr_parser
        .parse(line.trim_end().as_bytes())
        .expect("the tool reads it");
    assert_eq!(record.arrival(), arrival - 900);
    assert_eq!(record.status, 503);
    assert_eq!(text(record.upstream_addr).as_deref(), Some("ShopPool"));
    assert_eq!(
        record.termination.map(|t| (t.cause, t.code.text())),
        Some((TerminationCause::NoServer, "AppOffline".to_string()))
    );
}
