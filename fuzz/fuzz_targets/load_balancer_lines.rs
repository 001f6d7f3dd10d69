//! Fuzz target: the load-balancer access parsers (HAProxy, AWS ALB and
//! Classic ELB, W3C extended for IIS and CloudFront) on arbitrary bytes,
//! each line also offered as a W3C `#Fields:` directive first. Nothing may
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postmortem::ingest::access::w3c::W3cParser;
use postmortem::ingest::access::{aws, haproxy};

fuzz_target!(|data: &[u8]| {
    if let Ok((record, _)) = haproxy::parse(data) {
        let _ = record.arrival();
    }
    if let Ok((record, _)) = aws::parse_alb(data) {
        let _ = record.arrival();
    }
    if let Ok((record, _)) = aws::parse_elb(data) {
        let _ = record.arrival();
    }
    let mut w3c = W3cParser::default();
    if let Some(split) = data.iter().position(|&b| b == b'\n') {
        w3c.apply_directive(&data[..split]);
        let _ = w3c.parse(&data[split + 1..]);
    }
    let _ = w3c.parse(data);
});
