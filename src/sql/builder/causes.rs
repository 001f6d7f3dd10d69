//! The termination causes of `postmortem sql` (`--termination-column`):
//! how the proxy says each request ended, mapped onto
//! [`TerminationCause`] as the binary's readers map it, and counted per
//! upstream, bucket and cause over the failed last attempts
//! (`dimension_causes`, docs/partials.md), with the smallest vendor code.
//!
//! HAProxy's termination state is read by its first two characters as
//! `ingest::access::haproxy::termination` reads it (the arms in the same
//! order); Envoy's response flags by the first flag, in the order Envoy
//! writes them, that `ingest::access::envoy::RESPONSE_FLAG_CAUSES` names
//! (the table itself is read, so the two cannot drift apart).

use super::{Builder, Json};
use crate::ingest::access::envoy::RESPONSE_FLAG_CAUSES;
use crate::ingest::access::haproxy::NO_SERVER;
use crate::series::termination::TerminationCause;
use crate::sql::TerminationFormat;

impl Builder<'_> {
    /// The cause index and the vendor code of a row of `attempts` (columns
    /// `termination` and `address`), NULL where the column names no
    /// cause; `None` without a termination column.
    pub(super) fn termination_cause(&self) -> Option<(String, String)> {
        self.request.columns.termination.as_ref()?;
        let index = |cause: TerminationCause| cause as usize;
        Some(match self.request.termination_format {
            TerminationFormat::HaProxy => {
                use TerminationCause::*;
                let no_server = String::from_utf8_lossy(NO_SERVER);
                let first = "substr(termination, 1, 1)";
                let second = "substr(termination, 2, 1)";
                let server_down =
                    format!("(address = '{no_server}' OR address LIKE '%/{no_server}')");
                let cause = format!(
                    "CASE WHEN {first} IN ('S', 's') AND {server_down} THEN {}\n      \
                     WHEN {first} = 'C' THEN {}\n      WHEN {first} = 'c' THEN {}\n      \
                     WHEN {first} IN ('S', 's') AND {second} = 'C' THEN {}\n      \
                     WHEN {first} = 'S' THEN {}\n      WHEN {first} = 's' AND {second} = 'Q' THEN {}\n      \
                     WHEN {first} = 's' THEN {}\n      WHEN {first} = 'P' OR {second} = 'T' THEN {}\n      \
                     WHEN {first} = 'R' THEN {}\n      WHEN {first} IN ('I', 'D', 'U', 'K') THEN {} END",
                    index(NoServer),
                    index(ClientAborted),
                    index(ClientTimeout),
                    index(ConnectFailed),
                    index(ServerAborted),
                    index(Overflow),
                    index(ServerTimeout),
                    index(ProxyDenied),
                    index(Overflow),
                    index(ProxyKilled),
                );
                (cause, "substr(termination, 1, 2)".into())
            }
            TerminationFormat::Envoy => {
                // Longer flags first, so `URX` is not taken for `UR` (the
                // match must also end at a comma or the end).
                let mut flags: Vec<(String, TerminationCause)> = RESPONSE_FLAG_CAUSES
                    .iter()
                    .map(|(flag, cause)| (String::from_utf8_lossy(flag).into_owned(), *cause))
                    .collect();
                flags.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
                let names: Vec<&str> = flags.iter().map(|(flag, _)| flag.as_str()).collect();
                let flag = self.d.first_group(
                    "termination",
                    &format!("(?:^|,)({})(?:,|$)", names.join("|")),
                );
                let arms: String = flags
                    .iter()
                    .map(|(name, cause)| format!(" WHEN '{name}' THEN {}", index(*cause)))
                    .collect();
                (format!("CASE {flag}{arms} END"), flag)
            }
        })
    }

    /// The `dimension_causes` rows: each upstream's failed last attempts
    /// by bucket and cause, with the smallest vendor code.
    pub(super) fn dimension_causes(&self) -> String {
        let value = self.d.hex_text("address");
        let code = self.d.hex_text("min(code)");
        let names: String = TerminationCause::ALL
            .iter()
            .map(|cause| format!(" WHEN {} THEN '{}'", *cause as usize, cause.name()))
            .collect();
        let name = format!("CASE cause{names} END");
        let row = self.json(
            "dimension_causes",
            &[
                ("kind", Json::Literal("\"upstream\"".into())),
                ("value", Json::Hex(&value)),
                ("bucket", Json::Int("bucket")),
                ("cause", Json::Int("cause")),
                ("cause_name", Json::Name(&name)),
                ("count", Json::Int("count(*)")),
                ("code", Json::Hex(&code)),
            ],
        );
        format!(
            "{keys}, {row} AS line FROM upstream_attempts WHERE failed = 1 AND cause IS NOT NULL GROUP BY bucket, address, cause",
            keys = self.keys(14, ["bucket", &self.upstream_key(), "cause"]),
        )
    }
}
