//! The recipe every scenario follows, written once: simulate the shop's
//! traffic from the scenario's own random streams, render the access log
//! before the scenario's other files, read the log back as a tool would and
//! compute the ground truth from it.
//!
//! A scenario supplies only what is its own: the shop, the disturbance, the
//! other logs, the injected incident and the alerts, and its write-up.

use std::io;

use rand_pcg::Pcg64;

use super::purpose;
use crate::synth::catalog::Site;
use crate::synth::clock::{MS_PER_MINUTE, Zone};
use crate::synth::events::{Syslog, SyslogFormat};
use crate::synth::expected::{Alert, InjectedIncident, TruthInputs, expected};
use crate::synth::population::{Population, PopulationPlan};
use crate::synth::render::AccessFormat;
use crate::synth::sampling::stream;
use crate::synth::scenario::{AccessLogSetup, GeneratedScenario, ScenarioFile, observe_requests};
use crate::synth::traffic::{
    Disturbance, DiurnalShape, LatencyUnit, Request, ServerKind, TrafficPlan, simulate,
};
use crate::synth::truth::ObservedRequest;

/// Every shop has an uptime monitor probing it this often.
const MONITOR_PERIOD_MS: i64 = 5 * MS_PER_MINUTE;

/// The shop a scenario simulates, its people, and the span its logs cover.
#[derive(Debug, Clone)]
pub(super) struct Shop {
    /// The shop's host name (its URLs and referers).
    pub host: &'static str,
    /// Requests arriving in `[from_ms, to_ms)` are logged.
    pub from_ms: i64,
    pub to_ms: i64,
    pub shape: DiurnalShape,
    pub latency_unit: LatencyUnit,
    pub server: ServerKind,
    /// Backends behind the balancer; users are sticky to one by address hash.
    pub backends: usize,
    /// Crawl sessions per hour (not diurnal).
    pub crawl_sessions_per_hour: f64,
    pub people: PopulationPlan,
}

/// The shop's people and every request they made.
pub(super) struct Traffic {
    pub population: Population,
    /// In completion order, as servers write them.
    pub requests: Vec<Request>,
}

/// The access log of a scenario: its file name and its layout.
pub(super) struct AccessLog {
    pub name: &'static str,
    pub setup: AccessLogSetup,
}

/// What the ground truth needs beyond the access log.
pub(super) struct Truth<'a> {
    pub incident: Option<InjectedIncident>,
    pub alerts: &'a [Alert],
    /// Sentences for `expected/<name>.json` saying what was injected.
    pub notes: Vec<String>,
}

/// The scenario's entry in `sample-logs/README.md`.
pub(super) struct WriteUp {
    pub title: &'static str,
    /// Markdown paragraphs.
    pub story: String,
}

/// One scenario under construction: the name that names its folder, the seed
/// of every random stream it draws from and the zone its clocks show.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScenarioBuilder {
    name: &'static str,
    seed: u64,
    zone: Zone,
}

impl ScenarioBuilder {
    pub fn new(name: &'static str, seed: u64, zone: Zone) -> ScenarioBuilder {
        ScenarioBuilder { name, seed, zone }
    }

    /// The scenario's random stream for `purpose` (one of [`purpose`]):
    /// streams are independent, so the order they are used in does not
    /// change what any of them draws.
    pub fn rng(self, purpose: u64) -> Pcg64 {
        stream(self.seed, purpose)
    }

    /// The shop's people and every request they make (undisturbed, or as
    /// `disturbance` changes them).
    pub fn simulate(self, shop: &Shop, disturbance: &dyn Disturbance) -> Traffic {
        let site = Site::build(shop.host, &mut self.rng(purpose::SITE));
        let population = Population::build(&shop.people, &mut self.rng(purpose::POPULATION));
        let plan = TrafficPlan {
            from_ms: shop.from_ms,
            to_ms: shop.to_ms,
            zone: self.zone,
            shape: shop.shape,
            latency_unit: shop.latency_unit,
            server: shop.server,
            backends: shop.backends,
            crawl_sessions_per_hour: shop.crawl_sessions_per_hour,
            monitor_period_ms: Some(MONITOR_PERIOD_MS),
        };
        let requests = simulate(
            &plan,
            &site,
            &population,
            disturbance,
            self.rng(purpose::TRAFFIC),
        );
        Traffic {
            population,
            requests,
        }
    }

    /// An access log in `format` and the scenario's zone, without upstream
    /// details (the layout has none).
    pub fn plain_access_log(self, name: &'static str, format: AccessFormat) -> AccessLog {
        AccessLog {
            name,
            setup: AccessLogSetup::plain(format, self.zone),
        }
    }

    /// A syslog-kind file of the scenario, in `format` and the scenario's zone.
    pub fn syslog_file(
        self,
        name: &str,
        syslog: &Syslog,
        format: SyslogFormat,
    ) -> io::Result<ScenarioFile> {
        ScenarioFile::new(
            name,
            "syslog",
            format.name(),
            syslog.render(format, self.zone),
        )
    }

    /// The finished scenario: `traffic`'s access log first, then
    /// `other_files` in the order given, and the ground truth computed from
    /// the access log as a tool reads it back.
    pub fn build(
        self,
        traffic: &Traffic,
        access: AccessLog,
        other_files: Vec<ScenarioFile>,
        truth: Truth<'_>,
        write_up: WriteUp,
    ) -> io::Result<GeneratedScenario> {
        let format = access.setup.format;
        let content = access.setup.render(&traffic.requests, &traffic.population);
        let access_file = ScenarioFile::new(access.name, "access", format.name(), content)?;
        let observed = observe_requests(&traffic.requests, &traffic.population, format);
        self.build_observed(
            format,
            vec![access_file],
            &observed,
            other_files,
            truth,
            write_up,
        )
    }

    /// The finished scenario from access files the scenario rendered itself
    /// (several files, or several logs of one server) and the requests as a
    /// tool reads them back from those files: `access_files` first, then
    /// `other_files`.
    pub fn build_observed(
        self,
        format: AccessFormat,
        access_files: Vec<ScenarioFile>,
        observed: &[ObservedRequest<'_>],
        other_files: Vec<ScenarioFile>,
        truth: Truth<'_>,
        write_up: WriteUp,
    ) -> io::Result<GeneratedScenario> {
        let mut files = access_files;
        files.extend(other_files);
        let expected = expected(TruthInputs {
            scenario: self.name,
            seed: self.seed,
            format,
            zone: self.zone,
            observed,
            incident: truth.incident,
            alerts: truth.alerts,
            files: files.iter().map(|file| file.facts.clone()).collect(),
            notes: truth.notes,
        });
        Ok(GeneratedScenario {
            name: self.name,
            title: write_up.title,
            story: write_up.story,
            zone: self.zone,
            files,
            expected,
        })
    }
}
