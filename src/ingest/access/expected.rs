//! What the access-log parser tests expect of a parsed record (test code
//! only): the JSON-lines and `log_format` tests state their cases with one
//! struct and check every record field by field through one assertion.

use crate::ingest::record::AccessRecord;
use crate::timefmt::Millis;

/// The fields of a parsed record that a test case states. Text is UTF-8,
/// except that `\u{ff}` stands for the raw byte 0xff (see [`raw_bytes`]).
pub(super) struct ExpectedRecord {
    pub client: &'static str,
    pub logged_at: Millis,
    pub offset: i32,
    pub status: u16,
    pub duration_us: Option<u64>,
    pub arrival: Millis,
    pub user_agent: Option<&'static str>,
    pub upstream: Option<&'static str>,
    pub host: Option<&'static str>,
}

/// `text` as bytes with `\u{ff}` written as the byte 0xff rather than as
/// UTF-8, so that a case can state a line that is not valid UTF-8.
pub(super) fn raw_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .flat_map(|c| {
            if c == '\u{ff}' {
                vec![0xff]
            } else {
                c.to_string().into_bytes()
            }
        })
        .collect()
}

/// Asserts that `record` has every field `expect` states, naming the case.
pub(super) fn assert_record(name: &str, record: &AccessRecord<'_>, expect: &ExpectedRecord) {
    assert_eq!(record.client, expect.client.as_bytes(), "{name}");
    assert_eq!(record.logged_at, expect.logged_at, "{name}");
    assert_eq!(record.offset_seconds, expect.offset, "{name}");
    assert_eq!(record.status, expect.status, "{name}");
    assert_eq!(record.duration_us, expect.duration_us, "{name}");
    assert_eq!(record.arrival(), expect.arrival, "{name}");
    let agent = expect.user_agent.map(raw_bytes);
    assert_eq!(record.user_agent, agent.as_deref(), "{name}");
    assert_eq!(
        record.upstream_addr,
        expect.upstream.map(str::as_bytes),
        "{name}"
    );
    assert_eq!(record.host, expect.host.map(str::as_bytes), "{name}");
}
