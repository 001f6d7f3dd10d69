//! Property tests: a generated request written in each access-log format,
//! and a generated syslog or error-log record written in each evidence
//! layout, reads back to the same fields; no byte string panics any parser
//! nor the metric CSV sniffing; the series of a log does not depend on how
//! its lines are cut into files.

use std::io::Write;
use std::sync::Arc;

use proptest::prelude::*;

use postmortem::config::InputSpec;
use postmortem::ingest::access::AccessParser;
use postmortem::ingest::access::jsonlines;
use postmortem::ingest::access::logformat::Template;
use postmortem::ingest::events::errorlog::{self, ErrorLine, ErrorLogLayout};
use postmortem::ingest::events::syslog::{self, Priority, SyslogLayout, SyslogLine};
use postmortem::ingest::metrics::csv as metrics_csv;
use postmortem::ingest::sniff;
use postmortem::ingest::timestamps::{Stamp, YearlessTime};
use postmortem::progress::NoProgress;
use postmortem::report::series_table;
use postmortem::timefmt::Zone;
use postmortem::{Config, analyze};

/// One request with every field the presets carry.
#[derive(Clone, Debug)]
struct Request {
    client: [u8; 4],
    remote_user: Option<String>,
    /// Seconds since the epoch, UTC.
    seconds: i64,
    /// Seconds east of UTC, in quarter hours as real zones have them.
    offset_seconds: i32,
    method: &'static str,
    path: String,
    status: u16,
    bytes: Option<u64>,
    referer: String,
    user_agent: String,
    /// The request time in microseconds.
    duration_us: u64,
    vhost: String,
    forwarded_for: String,
}

/// Text a quoted field may hold without escapes: printable ASCII but `"`
/// and `\`.
const QUOTED_TEXT: &str = "[ !#-\\[\\]-~]{1,40}";

fn request_strategy() -> impl Strategy<Value = Request> {
    (
        any::<[u8; 4]>(),
        proptest::option::of("[a-z][a-z0-9_]{0,11}"),
        // 1971 to 2099.
        31_536_000i64..4_102_444_800,
        (-48i32..=56).prop_map(|quarters| quarters * 900),
        prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE"]),
        "/[a-z0-9/._-]{0,30}",
        100u16..600,
        proptest::option::of(0u64..10_000_000_000),
        (QUOTED_TEXT, QUOTED_TEXT),
        0u64..100_000_000_000,
        "[a-z][a-z0-9.-]{0,20}",
        "[0-9.]{7,15}",
    )
        .prop_map(
            |(
                client,
                remote_user,
                seconds,
                offset_seconds,
                method,
                path,
                status,
                bytes,
                (referer, user_agent),
                duration_us,
                vhost,
                forwarded_for,
            )| Request {
                client,
                remote_user,
                seconds,
                offset_seconds,
                method,
                path,
                status,
                bytes,
                referer,
                user_agent,
                duration_us,
                vhost,
                forwarded_for,
            },
        )
}

impl Request {
    fn client_text(&self) -> String {
        let [a, b, c, d] = self.client;
        format!("{a}.{b}.{c}.{d}")
    }

    fn local_time(&self, pattern: &str) -> String {
        chrono::DateTime::from_timestamp(self.seconds + i64::from(self.offset_seconds), 0)
            .expect("in range")
            .format(pattern)
            .to_string()
    }

    fn offset_text(&self, separator: &str) -> String {
        let sign = if self.offset_seconds < 0 { '-' } else { '+' };
        let minutes = self.offset_seconds.abs() / 60;
        format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
    }

    /// `%h %l %u %t "%r" %>s %b`.
    fn common(&self) -> String {
        format!(
            r#"{} - {} [{} {}] "{} {} HTTP/1.1" {} {}"#,
            self.client_text(),
            self.remote_user.as_deref().unwrap_or("-"),
            self.local_time("%d/%b/%Y:%H:%M:%S"),
            self.offset_text(""),
            self.method,
            self.path,
            self.status,
            self.bytes.map_or("-".to_string(), |b| b.to_string())
        )
    }

    fn combined(&self) -> String {
        format!(
            r#"{} "{}" "{}""#,
            self.common(),
            self.referer,
            self.user_agent
        )
    }

    /// `$request_time`: seconds with milliseconds.
    fn request_time_ms(&self) -> u64 {
        self.duration_us / 1000
    }

    fn json(&self) -> String {
        let mut object = serde_json::json!({
            "time_iso8601": format!(
                "{}{}",
                self.local_time("%Y-%m-%dT%H:%M:%S"),
                self.offset_text(":")
            ),
            "remote_addr": self.client_text(),
            "request": format!("{} {} HTTP/1.1", self.method, self.path),
            "status": self.status,
            "request_time": format!(
                "{}.{:03}",
                self.request_time_ms() / 1000,
                self.request_time_ms() % 1000
            ),
            "http_referer": self.referer,
            "http_user_agent": self.user_agent,
        });
        if let Some(user) = &self.remote_user {
            object["remote_user"] = serde_json::Value::from(user.as_str());
        }
        object.to_string()
    }

    /// The time in UTC with milliseconds (`2024-01-15T10:00:00.000Z`).
    fn utc_millis(&self) -> String {
        chrono::DateTime::from_timestamp(self.seconds, 0)
            .expect("in range")
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    }

    /// Envoy's default format: the client as the first X-Forwarded-For hop.
    fn envoy(&self) -> String {
        format!(
            r#"[{}] "{} {} HTTP/1.1" {} - 0 {} {} - "{}, 10.0.0.1" "{}" "5f1c-id" "{}" "10.0.3.7:8080""#,
            self.utc_millis(),
            self.method,
            self.path,
            self.status,
            self.bytes.unwrap_or(0),
            self.request_time_ms(),
            self.client_text(),
            self.user_agent,
            self.vhost
        )
    }

    /// Traefik's common log format: combined, request count, router,
    /// service URL, duration in ms.
    fn traefik_clf(&self) -> String {
        format!(
            r#"{} 4711 "web@docker" "http://10.0.3.7:80" {}ms"#,
            self.combined(),
            self.request_time_ms()
        )
    }

    /// Caddy's console encoder: UTC wall time, level, logger, message, JSON.
    fn caddy_console(&self) -> String {
        let wall = chrono::DateTime::from_timestamp(self.seconds, 0)
            .expect("in range")
            .format("%Y/%m/%d %H:%M:%S%.3f");
        let mut object = serde_json::json!({
            "request": {
                "remote_ip": self.client_text(),
                "method": self.method,
                "uri": self.path,
                "headers": {"User-Agent": [self.user_agent]},
            },
            "duration": format!(
                "{}.{:03}",
                self.request_time_ms() / 1000,
                self.request_time_ms() % 1000
            ).parse::<f64>().expect("a number"),
            "status": self.status,
        });
        if let Some(bytes) = self.bytes {
            object["size"] = serde_json::Value::from(bytes);
        }
        format!("{wall}\tINFO\thttp.log.access.log0\thandled request\t{object}")
    }
}

/// What a rendering must read back as.
struct Expected {
    user_agent: bool,
    /// The request time in microseconds, as the format can carry it.
    duration_us: Option<u64>,
    remote_user: bool,
    /// The format writes UTC only (offset 0).
    utc: bool,
    /// The format carries the byte count as the request has it.
    bytes: bool,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_request_reads_back_the_same_in_every_format(request in request_strategy()) {
        let millis_request_time = Some(request.request_time_ms() * 1000);
        let renderings: [(&str, String, Expected); 10] = [
            ("common", request.common(),
             Expected { user_agent: false, duration_us: None, remote_user: true, utc: false, bytes: true }),
            ("combined", request.combined(),
             Expected { user_agent: true, duration_us: None, remote_user: true, utc: false, bytes: true }),
            ("combined+request_time",
             format!("{} {}.{:03}", request.combined(), request.request_time_ms() / 1000,
                     request.request_time_ms() % 1000),
             Expected { user_agent: true, duration_us: millis_request_time, remote_user: true, utc: false, bytes: true }),
            ("combined+usec", format!("{} {}", request.combined(), request.duration_us),
             Expected { user_agent: true, duration_us: Some(request.duration_us), remote_user: true, utc: false, bytes: true }),
            ("vcombined", format!("{}:443 {}", request.vhost, request.combined()),
             Expected { user_agent: true, duration_us: None, remote_user: true, utc: false, bytes: true }),
            ("nginx-main", format!(r#"{} "{}""#, request.combined(), request.forwarded_for),
             Expected { user_agent: true, duration_us: None, remote_user: true, utc: false, bytes: true }),
            ("json", request.json(),
             Expected { user_agent: true, duration_us: millis_request_time, remote_user: true, utc: false, bytes: false }),
            ("envoy", request.envoy(),
             Expected { user_agent: true, duration_us: millis_request_time, remote_user: false, utc: true, bytes: false }),
            ("traefik-clf", request.traefik_clf(),
             Expected { user_agent: true, duration_us: millis_request_time, remote_user: true, utc: false, bytes: true }),
            ("caddy-console", request.caddy_console(),
             Expected { user_agent: true, duration_us: millis_request_time, remote_user: false, utc: true, bytes: true }),
        ];
        let client = request.client_text();
        for (preset, line, expected) in renderings {
            let parser = sniff::preset_by_name(preset)
                .unwrap_or_else(|| panic!("preset {preset}"))
                .parser();
            let (record, whole) = parser
                .parse_exact(line.as_bytes())
                .unwrap_or_else(|e| panic!("{preset}: {line}: {}", e.reason));
            prop_assert!(whole, "{preset}: the whole line is read: {line}");
            prop_assert_eq!(record.client, client.as_bytes(), "{}", preset);
            prop_assert_eq!(record.logged_at, request.seconds * 1000, "{}: {}", preset, line);
            let offset = if expected.utc { 0 } else { request.offset_seconds };
            prop_assert_eq!(record.offset_seconds, offset, "{}: {}", preset, line);
            prop_assert_eq!(record.status, request.status, "{}", preset);
            if expected.remote_user {
                let user = request.remote_user.as_deref().unwrap_or("-");
                prop_assert_eq!(record.remote_user, user.as_bytes(), "{}: {}", preset, line);
            }
            if expected.user_agent {
                // `-` is how a log writes an absent field (the contract).
                let agent = Some(request.user_agent.as_bytes()).filter(|a| *a != b"-");
                prop_assert_eq!(record.user_agent, agent, "{}", preset);
            }
            prop_assert_eq!(record.duration_us, expected.duration_us, "{}: {}", preset, line);
            if expected.bytes {
                prop_assert_eq!(record.bytes, request.bytes, "{}: {}", preset, line);
            }
        }
    }

    #[test]
    fn no_byte_string_panics_a_preset_parser(line in proptest::collection::vec(any::<u8>(), 0..400)) {
        for format in sniff::preset_formats() {
            if let Ok(record) = format.parser.parse(&line) {
                let _ = record.arrival();
            }
            let _ = format.parser.parse_exact(&line);
        }
        let _ = jsonlines::parse_with_flavor(&line);
        let _ = sniff::detect_access_format(&sniff::sample_lines(&line, true));
    }

    #[test]
    fn lines_that_look_like_logs_do_not_panic_a_preset_parser(
        line in r#"[0-9a-z.:\- \[\]/"+{},]{0,160}"#,
    ) {
        for format in sniff::preset_formats() {
            let _ = format.parser.parse_exact(line.as_bytes());
        }
    }

    #[test]
    fn no_template_or_line_panics_the_template_compiler(
        definition in r#"([$%][a-z_>{}<A-Z-]{0,12}|[ \[\]"':;.,-]{1,3}|[a-z]{1,4}){0,12}"#,
        line in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        if let Ok(template) = Template::compile(&definition) {
            let parser = AccessParser::Template(Arc::new(template));
            let _ = parser.parse_exact(&line);
        }
        let _ = sniff::resolve_log_format(&definition);
    }
}

impl Request {
    /// The time in UTC with `pattern` (load balancers write UTC, or no
    /// offset at all).
    fn utc(&self, pattern: &str) -> String {
        chrono::DateTime::from_timestamp(self.seconds, 0)
            .expect("in range")
            .format(pattern)
            .to_string()
    }

    fn millis(&self) -> u64 {
        self.request_time_ms() % 1000
    }

    /// The load-balancer renderings: the preset, the line and whether the
    /// user agent is in it.
    fn load_balancer_lines(&self) -> Vec<(&'static str, String, bool)> {
        let client = self.client_text();
        let bytes = self.bytes.unwrap_or(0);
        let ms = self.request_time_ms();
        let request = format!("{} {} HTTP/1.1", self.method, self.path);
        let seconds = format!("{}.{:03}", ms / 1000, ms % 1000);
        // Logged on completion: the printed second is arrival + request time.
        let done = chrono::DateTime::from_timestamp_millis(self.seconds * 1000 + ms as i64)
            .expect("in range");
        let haproxy = format!(
            r#"{client}:40000 [{}.000] www www/app1 0/0/1/2/{ms} {} {bytes} - - ---- 1/1/0/0/0 0/0 "{request}""#,
            self.utc("%d/%b/%Y:%H:%M:%S"),
            self.status
        );
        vec![
            ("haproxy", haproxy.clone(), false),
            (
                "haproxy",
                format!("{} lb01 haproxy[7]: {haproxy}", self.utc("%b %e %H:%M:%S")),
                false,
            ),
            (
                "aws-alb",
                format!(
                    r#"https {} app/shop/50dc {client}:2817 10.0.1.5:80 0.000 {seconds} 0.000 {} 200 34 {bytes} "{request}" "{}" - - arn "Root=1-5" "-" "-" 0 {} "forward""#,
                    done.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                    self.status,
                    self.user_agent,
                    self.utc("%Y-%m-%dT%H:%M:%S.000000Z"),
                ),
                true,
            ),
            (
                "aws-elb",
                format!(
                    r#"{} shop {client}:2817 10.0.1.5:80 0.000000 {seconds} 0.000000 {} 200 0 {bytes} "{request}" "{}" - -"#,
                    self.utc("%Y-%m-%dT%H:%M:%S.000000Z"),
                    self.status,
                    self.user_agent,
                ),
                true,
            ),
            (
                "w3c",
                format!(
                    "#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-bytes time-taken cs(User-Agent)\n{} {client} {} {} {} {bytes} {ms} {}",
                    done.format("%Y-%m-%d %H:%M:%S%.3f"),
                    self.method,
                    self.path,
                    self.status,
                    self.user_agent.replace(' ', "+"),
                ),
                false,
            ),
        ]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_request_reads_back_the_same_in_every_load_balancer_format(request in request_strategy()) {
        let client = request.client_text();
        let arrival = request.seconds * 1000;
        let duration = Some(request.request_time_ms() * 1000);
        let _ = request.millis();
        for (preset, text, has_agent) in request.load_balancer_lines() {
            let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
            let detection = sniff::detect_access_format_among(
                &lines,
                std::slice::from_ref(&sniff::resolve_log_format(preset).expect("a preset")),
            )
            .unwrap_or_else(|| panic!("{preset}: {text}"));
            let line = lines.last().expect("a request line");
            let (record, whole) = detection
                .format
                .parser
                .parse_exact(line)
                .unwrap_or_else(|e| panic!("{preset}: {text}: {}", e.reason));
            prop_assert!(whole, "{}: the whole line is read: {}", preset, text);
            prop_assert_eq!(record.client, client.as_bytes(), "{}", preset);
            prop_assert_eq!(record.arrival(), arrival, "{}: {}", preset, text);
            prop_assert_eq!(record.status, request.status, "{}", preset);
            prop_assert_eq!(record.duration_us, duration, "{}: {}", preset, text);
            prop_assert_eq!(record.bytes, Some(request.bytes.unwrap_or(0)), "{}", preset);
            if has_agent {
                let agent = Some(request.user_agent.as_bytes()).filter(|a| *a != b"-");
                prop_assert_eq!(record.user_agent, agent, "{}", preset);
            }
        }
    }
}

/// The series of `inputs` as CSV.
fn series_csv(inputs: Vec<InputSpec>) -> String {
    let analysis = analyze(&Config::for_inputs(inputs), &NoProgress).expect("analysed");
    series_table::to_csv(&analysis, None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_series_does_not_depend_on_how_lines_are_cut_into_files(
        requests in proptest::collection::vec(
            (0i64..7_200, prop::sample::select(vec![200u16, 200, 200, 404, 499, 500, 503]), 0u64..3_000),
            20..400,
        ),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let lines: Vec<String> = requests
            .iter()
            .enumerate()
            .map(|(index, (seconds, status, latency_ms))| {
                let at = chrono::DateTime::from_timestamp(1_699_797_600 + seconds, 0)
                    .expect("in range");
                format!(
                    "10.0.{}.{} - - [{} +0000] \"GET / HTTP/1.1\" {status} 1 \"-\" \"ua{}\" {}.{:03}\n",
                    index % 7,
                    index % 250,
                    at.format("%d/%b/%Y:%H:%M:%S"),
                    index % 11,
                    latency_ms / 1000,
                    latency_ms % 1000
                )
            })
            .collect();
        let dir = tempfile::tempdir().expect("dir");
        let whole = dir.path().join("whole.log");
        std::fs::write(&whole, lines.concat()).expect("write");
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(lines.len())).collect();
        points.extend([0, lines.len()]);
        points.sort_unstable();
        points.dedup();
        let folder = dir.path().join("rotated");
        std::fs::create_dir(&folder).expect("folder");
        for (part, window) in points.windows(2).enumerate() {
            // Rotations of one log, so no host dimension is made.
            let mut file = std::fs::File::create(folder.join(format!("access.log.{part}")))
                .expect("create");
            file.write_all(lines[window[0]..window[1]].concat().as_bytes()).expect("write");
        }
        prop_assert_eq!(
            series_csv(vec![InputSpec::Path(whole)]),
            series_csv(vec![InputSpec::Path(folder)])
        );
    }
}

/// Error-log levels and the syslog severity each stands for (RFC 5424,
/// table 2), as nginx and Apache write them.
const LEVELS: [(&str, u8); 8] = [
    ("emerg", 0),
    ("alert", 1),
    ("crit", 2),
    ("error", 3),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

/// One syslog message or error-log entry with every field the evidence
/// layouts carry.
#[derive(Clone, Debug)]
struct Record {
    /// Seconds since the epoch, UTC.
    seconds: i64,
    /// Milliseconds past the second, for the layouts with fractions.
    millis: u32,
    /// Seconds east of UTC, in quarter hours as real zones have them.
    offset_seconds: i32,
    priority: Priority,
    host: String,
    program: String,
    pid: Option<u32>,
    /// Index into [`LEVELS`].
    level: usize,
    /// Apache's module (`core` of `[core:error]`).
    module: String,
    client: String,
    /// Printable ASCII that starts with a letter or digit and ends without
    /// a space, as the parsers trim it.
    message: String,
}

fn record_strategy() -> impl Strategy<Value = Record> {
    (
        // 1971 to 2099.
        (31_536_000i64..4_102_444_800, 0u32..1_000),
        (-48i32..=56).prop_map(|quarters| quarters * 900),
        (0u8..24, 0u8..8),
        ("[a-z][a-z0-9.-]{0,15}", "[a-zA-Z][a-zA-Z0-9_.-]{0,15}"),
        proptest::option::of(1u32..4_000_000),
        (0..LEVELS.len(), "[a-z_]{1,10}", "[0-9.]{7,15}:[0-9]{1,5}"),
        "[A-Za-z0-9][ -~]{0,58}[!-~]",
    )
        .prop_map(
            |(
                (seconds, millis),
                offset_seconds,
                (facility, severity),
                (host, program),
                pid,
                (level, module, client),
                message,
            )| Record {
                seconds,
                millis,
                offset_seconds,
                priority: Priority { facility, severity },
                host,
                program,
                pid,
                level,
                module,
                client,
                message,
            },
        )
}

impl Record {
    /// The wall clock of the record's zone.
    fn wall(&self, pattern: &str) -> String {
        chrono::DateTime::from_timestamp(self.seconds + i64::from(self.offset_seconds), 0)
            .expect("in range")
            .format(pattern)
            .to_string()
    }

    /// The wall clock as milliseconds since 1970-01-01T00:00 of that clock.
    fn wall_ms(&self) -> i64 {
        (self.seconds + i64::from(self.offset_seconds)) * 1000
    }

    fn offset_text(&self, separator: &str) -> String {
        let sign = if self.offset_seconds < 0 { '-' } else { '+' };
        let minutes = self.offset_seconds.abs() / 60;
        format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
    }

    fn pri(&self) -> u16 {
        u16::from(self.priority.facility) * 8 + u16::from(self.priority.severity)
    }

    /// `prog[pid]:` or `prog:`.
    fn tag(&self) -> String {
        match self.pid {
            Some(pid) => format!("{}[{pid}]:", self.program),
            None => format!("{}:", self.program),
        }
    }

    fn pid_text(&self) -> Option<String> {
        self.pid.map(|pid| pid.to_string())
    }

    fn level_name(&self) -> &'static str {
        LEVELS[self.level].0
    }
}

/// What a syslog rendering must read back as.
struct SyslogExpected {
    layout: SyslogLayout,
    stamp: Stamp,
    priority: Option<Priority>,
}

/// What an error-log rendering must read back as.
struct ErrorExpected {
    stamp: Stamp,
    module: Option<String>,
    pid: Option<String>,
    client: Option<String>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_syslog_record_reads_back_the_same_in_every_layout(record in record_strategy()) {
        let wall_time = chrono::DateTime::from_timestamp(
            record.seconds + i64::from(record.offset_seconds), 0).expect("in range");
        let yearless = Stamp::NoYear(YearlessTime {
            year_delta: 0,
            month: chrono::Datelike::month(&wall_time) as u8,
            day: chrono::Datelike::day(&wall_time) as u8,
            ms_of_day: (record.wall_ms().rem_euclid(86_400_000)) as u32,
        });
        let instant_ms = record.seconds * 1000 + i64::from(record.millis);
        let renderings: [(&str, String, SyslogExpected); 5] = [
            ("RFC 3164 as sent, with <PRI>",
             format!("<{}>{} {} {} {}", record.pri(), record.wall("%b %e %H:%M:%S"),
                     record.host, record.tag(), record.message),
             SyslogExpected { layout: SyslogLayout::Rfc3164, stamp: yearless,
                              priority: Some(record.priority) }),
            ("RFC 3164 as written to a file",
             format!("{} {} {} {}", record.wall("%b %e %H:%M:%S"), record.host, record.tag(),
                     record.message),
             SyslogExpected { layout: SyslogLayout::Rfc3164, stamp: yearless, priority: None }),
            ("RFC 5424",
             format!("<{}>1 {}.{:03}{} {} {} {} ID47 - {}", record.pri(),
                     record.wall("%Y-%m-%dT%H:%M:%S"), record.millis, record.offset_text(":"),
                     record.host, record.program,
                     record.pid_text().unwrap_or_else(|| "-".to_string()), record.message),
             SyslogExpected { layout: SyslogLayout::Rfc5424, stamp: Stamp::Absolute(instant_ms),
                              priority: Some(record.priority) }),
            ("rsyslog RFC 3339",
             format!("{}.{:03}456{} {} {} {}", record.wall("%Y-%m-%dT%H:%M:%S"), record.millis,
                     record.offset_text(":"), record.host, record.tag(), record.message),
             SyslogExpected { layout: SyslogLayout::Rfc3339, stamp: Stamp::Absolute(instant_ms),
                              priority: None }),
            ("journalctl short-iso",
             format!("{}{} {} {} {}", record.wall("%Y-%m-%dT%H:%M:%S"), record.offset_text(""),
                     record.host, record.tag(), record.message),
             SyslogExpected { layout: SyslogLayout::JournalShortIso,
                              stamp: Stamp::Absolute(record.seconds * 1000), priority: None }),
        ];
        for (name, line, expected) in renderings {
            let parsed = match syslog::parse_line(line.as_bytes()) {
                Ok(SyslogLine::Record(parsed)) => parsed,
                other => panic!("{name}: {line}: {other:?}"),
            };
            prop_assert_eq!(parsed.layout, expected.layout, "{}: {}", name, line);
            prop_assert_eq!(parsed.stamp, expected.stamp, "{}: {}", name, line);
            prop_assert_eq!(parsed.priority, expected.priority, "{}: {}", name, line);
            prop_assert_eq!(parsed.host, Some(record.host.as_bytes()), "{}: {}", name, line);
            prop_assert_eq!(parsed.program, Some(record.program.as_bytes()), "{}: {}", name, line);
            let pid = record.pid_text();
            prop_assert_eq!(parsed.pid, pid.as_deref().map(str::as_bytes), "{}: {}", name, line);
            prop_assert_eq!(parsed.message, record.message.as_bytes(), "{}: {}", name, line);
            // Placed in the record's year and zone, every layout gives the
            // record's instant (to the second where the layout has no
            // fraction).
            let year = chrono::Datelike::year(&wall_time);
            let placed = parsed.stamp.resolve(year, &Zone::Fixed(record.offset_seconds), false);
            let whole_second = record.seconds * 1000;
            prop_assert!(placed == Some(instant_ms) || placed == Some(whole_second),
                         "{}: {}: {:?}", name, line, placed);
        }
    }

    #[test]
    fn an_error_log_record_reads_back_the_same_in_every_layout(record in record_strategy()) {
        let local = record.wall_ms();
        let with_fraction = local + i64::from(record.millis);
        let renderings: [(&str, ErrorLogLayout, String, ErrorExpected); 3] = [
            ("nginx", ErrorLogLayout::Nginx,
             format!("{} [{}] {}#0: *{} {}", record.wall("%Y/%m/%d %H:%M:%S"), record.level_name(),
                     record.pid.unwrap_or(1), record.millis, record.message),
             ErrorExpected { stamp: Stamp::Local(local), module: None,
                             pid: Some(record.pid.unwrap_or(1).to_string()), client: None }),
            ("Apache 2.4", ErrorLogLayout::Apache,
             format!("[{}.{:03}789 {}] [{}:{}] [pid {}] [client {}] {}",
                     record.wall("%a %b %d %H:%M:%S"), record.millis, record.wall("%Y"),
                     record.module, record.level_name(), record.pid.unwrap_or(1), record.client,
                     record.message),
             ErrorExpected { stamp: Stamp::Local(with_fraction), module: Some(record.module.clone()),
                             pid: Some(record.pid.unwrap_or(1).to_string()),
                             client: Some(record.client.clone()) }),
            ("Apache 2.2", ErrorLogLayout::Apache,
             format!("[{}] [{}] {}", record.wall("%a %b %d %H:%M:%S %Y"), record.level_name(),
                     record.message),
             ErrorExpected { stamp: Stamp::Local(local), module: None, pid: None, client: None }),
        ];
        for (name, layout, line, expected) in renderings {
            let parsed = match errorlog::parse_line(line.as_bytes()) {
                Ok(ErrorLine::Record(parsed)) => parsed,
                other => panic!("{name}: {line}: {other:?}"),
            };
            prop_assert_eq!(parsed.layout, layout, "{}: {}", name, line);
            prop_assert_eq!(parsed.stamp, expected.stamp, "{}: {}", name, line);
            prop_assert_eq!(parsed.level, record.level_name().as_bytes(), "{}: {}", name, line);
            prop_assert_eq!(parsed.severity, Some(LEVELS[record.level].1), "{}: {}", name, line);
            prop_assert_eq!(parsed.module, expected.module.as_deref().map(str::as_bytes),
                            "{}: {}", name, line);
            prop_assert_eq!(parsed.pid, expected.pid.as_deref().map(str::as_bytes),
                            "{}: {}", name, line);
            if name != "nginx" {
                // nginx's client is a field inside the message.
                prop_assert_eq!(parsed.client, expected.client.as_deref().map(str::as_bytes),
                                "{}: {}", name, line);
            }
            prop_assert_eq!(parsed.message, record.message.as_bytes(), "{}: {}", name, line);
        }
    }

    #[test]
    fn no_byte_string_panics_an_evidence_parser(line in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(SyslogLine::Record(record)) = syslog::parse_line(&line) {
            for zone in [Zone::Fixed(0), Zone::Named(chrono_tz::Europe::Berlin)] {
                let _ = record.stamp.resolve(2023, &zone, true);
            }
        }
        if let Ok(ErrorLine::Record(record)) = errorlog::parse_line(&line) {
            let _ = record.stamp.resolve(2023, &Zone::Fixed(0), false);
        }
        let _ = metrics_csv::sniff(&sniff::sample_lines(&line, true));
    }

    #[test]
    fn lines_that_look_like_evidence_do_not_panic_its_parsers(
        lines in proptest::collection::vec(r#"[0-9A-Za-z<>:.+ \[\]/,;"=T-]{0,80}"#, 1..12),
    ) {
        for line in &lines {
            let _ = syslog::parse_line(line.as_bytes());
            let _ = errorlog::parse_line(line.as_bytes());
        }
        let text = lines.join("\n");
        let _ = metrics_csv::sniff(&sniff::sample_lines(text.as_bytes(), true));
    }
}
