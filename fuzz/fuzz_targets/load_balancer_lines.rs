//! Fuzz target: the parsers of the load balancers and proxies (HAProxy,
//! AWS ALB and Classic ELB, W3C extended for IIS, HTTP.sys and CloudFront,
//! Envoy and Istio text, Traefik's CLF, Caddy's console encoder, and the
//! JSON records of Envoy, Google Cloud, Azure and Cloudflare) on arbitrary
//! bytes, each line also offered as a W3C `#Fields:` directive first.
//! Nothing may panic; a parsed record's arrival must be computable, and
//! the fields a record borrows (client, request, user agent, host,
//! upstream) must lie inside the line it was parsed from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::access::w3c::W3cParser;
use postmortem::ingest::access::{aws, caddy_console, envoy, haproxy, jsonlines, traefik};
use postmortem::ingest::record::AccessRecord;

/// Whether `field` is a slice of `line` (or empty, or the `-` that
/// `AccessRecord::new` puts in a field the line did not have).
fn borrows_from(line: &[u8], field: &[u8]) -> bool {
    let (line, inner) = (line.as_ptr_range(), field.as_ptr_range());
    field.is_empty() || field == b"-" || (line.start <= inner.start && inner.end <= line.end)
}

/// Checks what any parsed record must satisfy (see the module doc).
fn check(line: &[u8], record: &AccessRecord<'_>) {
    let _ = record.arrival();
    let _ = record.field_mask();
    let borrowed = [
        Some(record.client),
        Some(record.request),
        record.user_agent,
        record.host,
        record.upstream_addr,
    ];
    for field in borrowed.into_iter().flatten() {
        assert!(
            borrows_from(line, field),
            "a field outside its line: {field:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let parsers = [
        haproxy::parse,
        aws::parse_alb,
        aws::parse_elb,
        envoy::parse,
        traefik::parse,
        caddy_console::parse,
    ];
    for parse in parsers {
        if let Ok((record, _)) = parse(data) {
            check(data, &record);
        }
    }
    if let Ok((record, _, _)) = jsonlines::parse_with_flavor(data) {
        check(data, &record);
    }
    let mut w3c = W3cParser::default();
    if let Some(split) = data.iter().position(|&b| b == b'\n') {
        w3c.apply_directive(&data[..split]);
        let line = &data[split + 1..];
        if let Ok((record, _)) = w3c.parse(line) {
            check(line, &record);
        }
    }
    if let Ok((record, _)) = w3c.parse(data) {
        check(data, &record);
    }
});
