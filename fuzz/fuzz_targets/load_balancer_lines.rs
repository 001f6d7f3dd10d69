//! Fuzz target: the parsers of the load balancers and proxies (HAProxy,
//! AWS ALB and Classic ELB, W3C extended for IIS, HTTP.sys and CloudFront,
//! Envoy and Istio text, Traefik's CLF, Caddy's console encoder, and the
//! JSON records of Envoy, Google Cloud, Azure and Cloudflare) on arbitrary
//! bytes, each line also offered as a W3C `#Fields:` directive first.
//! Nothing may panic; a parsed record's arrival must be computable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::access::w3c::W3cParser;
use postmortem::ingest::access::{aws, caddy_console, envoy, haproxy, jsonlines, traefik};

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
            let _ = record.arrival();
            let _ = record.field_mask();
        }
    }
    if let Ok((record, _, _)) = jsonlines::parse_with_flavor(data) {
        let _ = record.arrival();
    }
    let mut w3c = W3cParser::default();
    if let Some(split) = data.iter().position(|&b| b == b'\n') {
        w3c.apply_directive(&data[..split]);
        if let Ok((record, _)) = w3c.parse(&data[split + 1..]) {
            let _ = record.arrival();
        }
    }
    let _ = w3c.parse(data);
});
