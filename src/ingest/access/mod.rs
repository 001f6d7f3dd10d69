//! Access logs: the [`AccessParser`] ingest calls for every line, and the
//! table of the formats it knows ([`PRESETS`]). Each format family is one
//! module beside this one: [`clf`] (NCSA/Apache/nginx `common`, `combined`
//! and their kin, with a hand-written fast path), [`logformat`] (nginx
//! `log_format` and Apache `LogFormat` templates, compiled once), and
//! [`jsonlines`] (nginx `escape=json`, Caddy, Traefik), [`haproxy`] (HTTP,
//! HTTPS and TCP logs, plain or through syslog). Parsers borrow: a
//! record points into its line and nothing is allocated per line. They use
//! [`crate::ingest::record`] and [`crate::ingest::timestamps`], never this
//! module.
//!
//! # Adding a format
//! A new vendor format (HAProxy, ALB, CloudFront, ...) is one more file
//! beside the others:
//! 1. write `access/<format>.rs` with a `parse(line) -> Result<(AccessRecord,
//!    rest), LineError>` over the bytes of one line (and, when the format has
//!    settings, a small layout type);
//! 2. register it here, the one place formats are known: a variant of
//!    [`AccessParser`] (and its four `match`es), a [`PresetKind`] and a row of
//!    [`PRESETS`] (its name, which `--log-format` and the reports use), plus
//!    any [`ALIASES`].
//!
//! Sniffing (`ingest::sniff`) then tries it on every input like the others;
//! a format that is a fixed template can instead be one more row of kind
//! [`PresetKind::Template`] with its nginx/Apache definition.

pub mod aws;
pub mod caddy_console;
pub mod clf;
pub mod envoy;
#[cfg(test)]
mod expected;
pub mod haproxy;
pub mod jsonlines;
pub mod logformat;
pub mod traefik;
pub mod w3c;

use std::sync::Arc;

use clf::{CLF_PRESETS, ClfLayout, DurationField};
use logformat::{INGRESS_NGINX_DEFINITION, Template};

use crate::ingest::record::{AccessRecord, LineError};

/// A compiled access-log parser: what ingest calls for every line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessParser {
    /// The hand-tuned nom parser of the CLF family: the hot path.
    Clf(ClfLayout),
    /// An nginx `log_format` or Apache `LogFormat` compiled once.
    Template(Arc<Template>),
    /// One JSON object per line (nginx `escape=json`, Caddy, Traefik).
    Json,
    /// Envoy's and Istio's default text access log.
    Envoy,
    /// Traefik's common log format (combined and Traefik's own fields).
    TraefikClf,
    /// Caddy's console encoder (tab-separated columns and a JSON record).
    CaddyConsole,
    /// HAProxy's HTTP, HTTPS and TCP logs.
    HaProxy,
    /// AWS Application Load Balancer.
    AwsAlb,
    /// AWS Classic Load Balancer.
    AwsElb,
    /// W3C extended (IIS, CloudFront): the layouts of the input's
    /// `#Fields:` directives.
    W3c(w3c::W3cParser),
}

impl AccessParser {
    /// Whether the input records only what a server refused (IIS's HTTP.sys
    /// error log): such a log is another view of a host's traffic, so it is
    /// no host of its own in the host dimension (else every outage would
    /// read as "traffic moved to the error log").
    pub fn records_only_refusals(&self) -> bool {
        matches!(self, AccessParser::W3c(parser) if parser.is_http_sys_error_log())
    }

    /// Lets the parser see a header directive of its input (a W3C
    /// `#Fields:` line changes the columns of the lines after it).
    pub fn apply_directive(&mut self, line: &[u8]) {
        if let AccessParser::W3c(parser) = self {
            parser.apply_directive(line);
        }
    }

    /// Parses one line (without its line ending), ignoring fields that
    /// follow the last one the format defines.
    #[inline]
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<AccessRecord<'a>, LineError> {
        self.parse_with_rest(line).map(|(record, _)| record)
    }

    /// Parses one line: the record and whatever follows the last field the
    /// format defines. The hot path's entry point.
    // Always inlined, and the record handed on in the tuple each parser
    // returns: the record (~300 bytes) is then built where the caller keeps
    // it instead of being copied out of each layer (a `memcpy` a line,
    // callgrind).
    #[inline(always)]
    pub fn parse_with_rest<'a>(
        &self,
        line: &'a [u8],
    ) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
        match self {
            AccessParser::Clf(layout) => clf::parse_clf(line, layout),
            AccessParser::Template(template) => template.parse(line),
            AccessParser::Json => jsonlines::parse(line),
            AccessParser::Envoy => envoy::parse(line),
            AccessParser::TraefikClf => traefik::parse(line),
            AccessParser::CaddyConsole => caddy_console::parse(line),
            AccessParser::HaProxy => haproxy::parse(line),
            AccessParser::AwsAlb => aws::parse_alb(line),
            AccessParser::AwsElb => aws::parse_elb(line),
            AccessParser::W3c(parser) => parser.parse(line),
        }
    }

    /// Like [`AccessParser::parse`], and whether the whole line was used
    /// (nothing but white space left over): sniffing prefers formats that
    /// explain the whole line, and the per-line fallback only takes those.
    pub fn parse_exact<'a>(&self, line: &'a [u8]) -> Result<(AccessRecord<'a>, bool), LineError> {
        let (record, rest) = self.parse_with_rest(line)?;
        Ok((record, rest.iter().all(u8::is_ascii_whitespace)))
    }

    /// Whether the format has a request-time field.
    pub fn has_request_time(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.duration != DurationField::None,
            AccessParser::Template(template) => template.has_request_time(),
            AccessParser::Json
            | AccessParser::Envoy
            | AccessParser::TraefikClf
            | AccessParser::CaddyConsole
            | AccessParser::HaProxy
            | AccessParser::AwsAlb
            | AccessParser::AwsElb => true,
            AccessParser::W3c(parser) => parser.has_request_time(),
        }
    }

    /// Whether the format has a user-agent field.
    pub fn has_user_agent(&self) -> bool {
        match self {
            AccessParser::Clf(layout) => layout.referer_agent,
            AccessParser::Template(template) => template.has_user_agent(),
            AccessParser::Json
            | AccessParser::Envoy
            | AccessParser::TraefikClf
            | AccessParser::CaddyConsole
            | AccessParser::AwsAlb
            | AccessParser::AwsElb => true,
            AccessParser::HaProxy => false,
            AccessParser::W3c(parser) => parser.has_user_agent(),
        }
    }
}

/// A format to read an input with: its name for reports and its parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessFormat {
    pub name: &'static str,
    pub parser: AccessParser,
    /// Given with `--log-format`: no per-line fallback to other formats.
    pub forced: bool,
    /// What carries the lines (a syslog header, a container prefix):
    /// opened before the parser sees a line.
    pub envelope: crate::ingest::envelope::Envelope,
}

/// How a preset is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetKind {
    /// The hand-written CLF-family parser.
    Clf(ClfLayout),
    /// Its `definition` compiled as a template.
    Template,
    /// JSON lines.
    Json,
    /// Envoy's and Istio's default text format.
    Envoy,
    /// Traefik's common log format.
    TraefikClf,
    /// Caddy's console encoder.
    CaddyConsole,
    /// HAProxy's logs.
    HaProxy,
    /// AWS ALB.
    AwsAlb,
    /// AWS Classic ELB.
    AwsElb,
    /// W3C extended; the layouts come from the input's head.
    W3c,
}

/// A named access-log layout users can also pass with `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub kind: PresetKind,
    /// The nginx `log_format` or Apache `LogFormat` this preset reads.
    pub definition: &'static str,
}

/// Every format, most specific first: when two read the same lines, the
/// earlier one wins (an integer request time is `%D` or `%T`, told apart by
/// `sniff::integer_duration_unit`; nginx always prints `$request_time` with
/// a fraction).
pub const PRESETS: &[Preset] = &all_presets();

const fn all_presets() -> [Preset; 25] {
    let mut presets = [Preset {
        name: "ingress-nginx",
        kind: PresetKind::Template,
        definition: INGRESS_NGINX_DEFINITION,
    }; 25];
    let mut member = 0;
    while member < CLF_PRESETS.len() {
        let clf = CLF_PRESETS[member];
        presets[1 + member] = Preset {
            name: clf.name,
            kind: PresetKind::Clf(clf.layout),
            definition: clf.definition,
        };
        member += 1;
    }
    presets[17] = Preset {
        name: "json",
        kind: PresetKind::Json,
        definition: jsonlines::DEFINITION,
    };
    presets[18] = Preset {
        name: haproxy::NAME,
        kind: PresetKind::HaProxy,
        definition: haproxy::DEFINITION,
    };
    presets[19] = Preset {
        name: aws::ALB_NAME,
        kind: PresetKind::AwsAlb,
        definition: aws::ALB_DEFINITION,
    };
    presets[20] = Preset {
        name: aws::ELB_NAME,
        kind: PresetKind::AwsElb,
        definition: aws::ELB_DEFINITION,
    };
    presets[21] = Preset {
        name: w3c::NAME,
        kind: PresetKind::W3c,
        definition: w3c::DEFINITION,
    };
    presets[22] = Preset {
        name: "envoy",
        kind: PresetKind::Envoy,
        definition: envoy::ENVOY_DEFINITION,
    };
    presets[23] = Preset {
        name: "traefik-clf",
        kind: PresetKind::TraefikClf,
        definition: traefik::DEFINITION,
    };
    presets[24] = Preset {
        name: "caddy-console",
        kind: PresetKind::CaddyConsole,
        definition: caddy_console::DEFINITION,
    };
    presets
}

/// Other names users know these formats by.
pub const ALIASES: &[(&str, &str)] = &[
    ("clf", "common"),
    ("ncsa", "common"),
    ("apache-common", "common"),
    ("apache-combined", "combined"),
    ("nginx-combined", "combined"),
    ("vhost_combined", "vcombined"),
    ("vhost-combined", "vcombined"),
    ("main", "nginx-main"),
    ("ingress", "ingress-nginx"),
    ("nginx-ingress", "ingress-nginx"),
    ("nginx-json", "json"),
    ("caddy", "json"),
    ("caddy-json", "json"),
    ("traefik", "json"),
    ("traefik-json", "json"),
    ("traefik-common", "traefik-clf"),
    ("istio", "envoy"),
    ("envoy-json", "json"),
    ("istio-json", "json"),
    ("haproxy-http", "haproxy"),
    ("haproxy-https", "haproxy"),
    ("haproxy-tcp", "haproxy"),
    ("httplog", "haproxy"),
    ("tcplog", "haproxy"),
    ("alb", "aws-alb"),
    ("elb", "aws-elb"),
    ("classic-elb", "aws-elb"),
    ("iis", "w3c"),
    ("iis-w3c", "w3c"),
    ("cloudfront", "w3c"),
    ("w3c-extended", "w3c"),
];

impl Preset {
    /// The parser of this preset.
    pub fn parser(&self) -> AccessParser {
        match self.kind {
            PresetKind::Clf(layout) => AccessParser::Clf(layout),
            PresetKind::Json => AccessParser::Json,
            PresetKind::Envoy => AccessParser::Envoy,
            PresetKind::TraefikClf => AccessParser::TraefikClf,
            PresetKind::CaddyConsole => AccessParser::CaddyConsole,
            PresetKind::HaProxy => AccessParser::HaProxy,
            PresetKind::AwsAlb => AccessParser::AwsAlb,
            PresetKind::AwsElb => AccessParser::AwsElb,
            PresetKind::W3c => AccessParser::W3c(w3c::W3cParser::default()),
            PresetKind::Template => AccessParser::Template(Arc::new(
                Template::compile(self.definition)
                    .expect("preset definitions compile (tested in this module)"),
            )),
        }
    }
}
