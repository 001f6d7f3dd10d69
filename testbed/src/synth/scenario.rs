//! What every scenario produces (files plus truth) and the helpers they
//! share: rendering the access log, reading it back as a tool would, and
//! writing a scenario folder, gzipping what is too large to ship raw.

use std::borrow::Cow;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::GzBuilder;

use super::clock::Zone;
use super::expected::{Expected, FileFacts};
use super::population::Population;
use super::render::{AccessFormat, LineFields};

/// The folder, beside the scenarios', that holds each scenario's ground
/// truth as `<name>.json`.
pub const EXPECTED_FOLDER: &str = "expected";
use super::traffic::Request;
use super::truth::{ObservedRequest, observe};

/// Files larger than this (raw) are written gzipped, as `<name>.gz`.
pub const GZIP_THRESHOLD_BYTES: usize = 8_000_000;
/// Compression level of the gzipped samples (zlib's default trade-off).
const GZIP_LEVEL: u32 = 6;
/// The gzip header's OS byte: Unix, as `gzip` on a server writes it.
const GZIP_OS_UNIX: u8 = 3;

/// One file of a scenario folder, ready to write.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub facts: FileFacts,
    /// The uncompressed content; written gzipped when `facts.name` ends in
    /// `.gz` (compression happens on write, so tests can compare contents
    /// without paying for it).
    pub content: Vec<u8>,
}

impl ScenarioFile {
    /// A file named `name` with `content`; gzipped on write (and renamed
    /// `.gz`) when the content exceeds [`GZIP_THRESHOLD_BYTES`].
    pub fn new(
        name: &str,
        kind: &'static str,
        format: &str,
        content: Vec<u8>,
    ) -> io::Result<ScenarioFile> {
        let lines = content.iter().filter(|&&byte| byte == b'\n').count() as u64;
        let name = if content.len() > GZIP_THRESHOLD_BYTES {
            format!("{name}.gz")
        } else {
            name.to_string()
        };
        Ok(ScenarioFile {
            facts: FileFacts {
                name,
                kind,
                format: format.to_string(),
                lines,
            },
            content,
        })
    }

    /// A file always written gzipped, as servers that rotate into `.gz`
    /// files write it (`name` ends in `.gz`; it may hold folders, `/`
    /// separated, below the scenario's folder).
    pub fn gzipped_file(
        name: String,
        kind: &'static str,
        format: &str,
        content: Vec<u8>,
    ) -> ScenarioFile {
        debug_assert!(name.ends_with(".gz"), "{name}");
        let lines = content.iter().filter(|&&byte| byte == b'\n').count() as u64;
        ScenarioFile {
            facts: FileFacts {
                name,
                kind,
                format: format.to_string(),
                lines,
            },
            content,
        }
    }

    /// Whether the file is written gzipped.
    pub fn gzipped(&self) -> bool {
        self.facts.name.ends_with(".gz")
    }

    /// The bytes on disk.
    pub fn bytes(&self) -> io::Result<Cow<'_, [u8]>> {
        if self.gzipped() {
            Ok(Cow::Owned(gzip(&self.content)?))
        } else {
            Ok(Cow::Borrowed(&self.content))
        }
    }
}

/// The ten header bytes every gzipped sample starts with: magic, deflate,
/// no flags, mtime 0, no extra flags (level 6), OS Unix.
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, GZIP_OS_UNIX];

/// Gzip with a fixed header (no name, mtime 0), so output is reproducible.
pub fn gzip(content: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzBuilder::new().operating_system(GZIP_OS_UNIX).write(
        Vec::with_capacity(content.len() / 6),
        Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(content)?;
    encoder.finish()
}

/// A generated scenario: its files, its truth and its README entry.
#[derive(Debug, Clone)]
pub struct GeneratedScenario {
    pub name: &'static str,
    pub title: &'static str,
    /// Markdown paragraphs describing the scenario for `sample-logs/README.md`.
    pub story: String,
    pub zone: Zone,
    pub files: Vec<ScenarioFile>,
    pub expected: Expected,
}

impl GeneratedScenario {
    /// The ground truth's bytes (pretty JSON with a final newline).
    pub fn expected_json(&self) -> io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(&self.expected).map_err(io::Error::other)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Where the ground truth of scenario `name` goes below `root`: outside
    /// the scenario's folder, so that pointing the tool at the folder reads
    /// logs only.
    pub fn expected_path(root: &Path, name: &str) -> PathBuf {
        root.join(EXPECTED_FOLDER).join(format!("{name}.json"))
    }

    /// Writes the folder `<root>/<name>/` and the ground truth
    /// `<root>/expected/<name>.json`, replacing earlier output (a file that
    /// moved between raw and `.gz` leaves no stale twin behind, and a
    /// ground truth left in the folder by older generators is removed).
    pub fn write(&self, root: &Path) -> io::Result<()> {
        let folder = root.join(self.name);
        fs::create_dir_all(&folder)?;
        for file in &self.files {
            let raw_name = file.facts.name.trim_end_matches(".gz");
            for stale in [raw_name.to_string(), format!("{raw_name}.gz")] {
                let path = folder.join(&stale);
                if path.exists() {
                    fs::remove_file(path)?;
                }
            }
            let path = folder.join(&file.facts.name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, file.bytes()?)?;
        }
        let stale_truth = folder.join("expected.json");
        if stale_truth.exists() {
            fs::remove_file(stale_truth)?;
        }
        let truth = Self::expected_path(root, self.name);
        if let Some(parent) = truth.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(truth, self.expected_json()?)
    }

    /// Total bytes of the scenario's files and its ground truth
    /// (compresses the gzipped ones to find out).
    pub fn size_bytes(&self) -> io::Result<u64> {
        let mut total = self.expected_json()?.len();
        for file in &self.files {
            total += file.bytes()?.len();
        }
        Ok(total as u64)
    }
}

/// How the access log of a scenario is written.
#[derive(Debug, Clone)]
pub struct AccessLogSetup {
    pub format: AccessFormat,
    pub zone: Zone,
    /// ingress-nginx `$proxy_upstream_name`.
    pub upstream_name: String,
    /// `ip:port` of each backend.
    pub upstream_addresses: Vec<String>,
}

impl AccessLogSetup {
    /// A setup without upstream details (they are not in the layout).
    pub fn plain(format: AccessFormat, zone: Zone) -> AccessLogSetup {
        AccessLogSetup {
            format,
            zone,
            upstream_name: String::new(),
            upstream_addresses: Vec::new(),
        }
    }

    /// The log's bytes, one line per request in the order given (completion).
    pub fn render(&self, requests: &[Request], population: &Population) -> Vec<u8> {
        let mut out = Vec::with_capacity(requests.len() * 260);
        for request in requests {
            self.format
                .render(&self.line_fields(request, population), &mut out);
        }
        out
    }

    /// What a line of `request` shows, for renderers of other logs of the
    /// same server.
    pub fn line_fields<'a>(
        &'a self,
        request: &'a Request,
        population: &'a Population,
    ) -> LineFields<'a> {
        let user = population.user(request.user);
        LineFields {
            client: user.ip,
            remote_user: None,
            arrival_ms: request.arrival_ms,
            latency_us: request.latency_us,
            zone: self.zone,
            method: request.method,
            path: &request.path,
            protocol: user.protocol,
            status: request.status,
            body_bytes: request.body_bytes,
            referer: request.referer.as_deref(),
            user_agent: &user.user_agent,
            forwarded_for: user.forwarded_for.as_deref(),
            request_length: request.request_length,
            upstream_name: &self.upstream_name,
            upstreams: &request.upstream,
            upstream_addresses: &self.upstream_addresses,
            request_id: request.request_id,
        }
    }
}

/// The requests as a perfect tool reads them back from the log.
pub fn observe_requests<'p>(
    requests: &[Request],
    population: &'p Population,
    format: AccessFormat,
) -> Vec<ObservedRequest<'p>> {
    requests
        .iter()
        .map(|request| {
            let user = population.user(request.user);
            let (arrival_ms, latency_us) = observe(format, request.arrival_ms, request.latency_us);
            ObservedRequest {
                arrival_ms,
                status: request.status,
                latency_us,
                ip: user.ip,
                user_agent: &user.user_agent,
            }
        })
        .collect()
}
