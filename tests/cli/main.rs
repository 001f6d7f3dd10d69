//! The integration tests: one binary that runs `postmortem` as a user would,
//! on logs the tests write, on the bundled `sample-logs/`, and on the public
//! datasets in `../shared/datasets` (skipped with a notice when absent).

mod changes;
mod compressed;
mod datasets;
mod definitions;
mod detection;
mod edges;
mod errors;
mod evidence;
mod formats;
mod handmade;
mod help;
mod hostile;
mod impact_jsonl;
mod json_contract;
mod jsonl_partials;
mod leads;
mod malformed;
mod markdown_json;
mod parallel;
mod partials;
mod pieces;
mod prometheus;
mod properties;
mod proxies;
mod read_once;
mod report;
mod samples;
mod series;
mod sketched_users;
mod span;
mod spark_hll;
mod support;
mod text_proxy_logs;
mod timeline;
mod variants;
