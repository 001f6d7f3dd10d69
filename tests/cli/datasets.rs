//! Conformance on real public logs in `../shared/datasets`, read in place.

use super::support::{datasets, json_report};

#[test]
fn elastic_apache_log_parses_except_its_one_truncated_line() {
    let Some(root) = datasets() else { return };
    let path = root.join("elastic-examples/apache_logs/apache_logs");
    let report = json_report(&[path.to_str().expect("utf-8 path")]);
    let input = &report["inputs"][0];
    assert_eq!(input["format"], "combined");
    assert_eq!(input["lines"], 10_000);
    assert_eq!(input["parsed"], 9_999);
    // Line 8899 ends inside the user agent: `...google.com/bot.html` with no closing quote.
    assert_eq!(input["skipped_examples"][0]["line"], 8_899);
    assert_eq!(
        input["skipped_examples"][0]["reason"],
        "unterminated quoted field"
    );
    assert_eq!(input["first"], "2015-05-17T10:05:00Z");
    assert_eq!(input["last"], "2015-05-20T21:05:59Z");
}
