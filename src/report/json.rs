//! The JSON exporter: the contract's `postmortem.report/v1`, pretty-printed.

use super::Report;

/// The report as pretty JSON with a final newline.
pub fn render(report: &Report) -> String {
    let mut text =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
