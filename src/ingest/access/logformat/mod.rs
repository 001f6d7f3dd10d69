//! `--log-format` templates: an nginx `log_format` string (`$remote_addr -
//! $remote_user [$time_local] "$request" ...`) or an Apache `LogFormat`
//! string (`%h %l %u %t \"%r\" %>s %b ...`), compiled once into a
//! [`Template`] that reads lines without allocating.
//!
//! A template is a sequence of literal text and fields. A field's value ends
//! where the literal after it starts; a field between double quotes ends at
//! the first quote not escaped with a backslash (Apache writes `\"`, nginx
//! `\x22`), a `$time_local` after exactly 26 bytes, an nginx upstream list
//! (`$upstream_addr`, ...) after its last `, `- or ` : `-separated item.
//! Known variables fill the [`AccessRecord`]; unknown ones are kept as opaque
//! fields that only have to be present.
//!
//! The definition may be given as it appears in the server's configuration:
//! `log_format main '...' '...';` with its quoted pieces, or
//! `LogFormat "%h ... \"%r\" ..." combined` with its `\"` escapes.

mod apache;
mod fields;
mod nginx;
mod vars;

use chrono::format::Parsed;

use crate::ingest::record::{AccessRecord, LineError};
use crate::ingest::timestamps::{parse_clf_time, parse_epoch_seconds, parse_iso8601};
use crate::timefmt::{MS_PER_SECOND, Millis};

use apache::{apache_logs_end, tokenize_apache, unescape_apache, unquote_apache};
use fields::{
    duration_micros, epoch_in_units, field_extent, integer, is_absent, present, strftime_time,
    strip_literal, three_digit_status,
};
use nginx::{tokenize_nginx, unquote_nginx};
use vars::{Field, Item, Piece, Var, time_rank};

pub use nginx::INGRESS_NGINX_DEFINITION;
pub use vars::{Dialect, TemplateError};

/// A compiled `log_format` / `LogFormat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    dialect: Dialect,
    /// The format string as read (configuration quoting removed).
    format: String,
    items: Vec<Item>,
    /// The logged time is the completion (nginx; Apache `%{end:...}t`).
    logs_completion: bool,
    uses_strftime: bool,
    has_request_time: bool,
    has_user_agent: bool,
    has_original_status_only: bool,
}

impl Template {
    /// Compiles a definition: an nginx `log_format` or Apache `LogFormat`
    /// line as written in the configuration, or just its format string.
    pub fn compile(definition: &str) -> Result<Template, TemplateError> {
        let (dialect, format) = unwrap_definition(definition);
        let pieces = match dialect {
            Dialect::Nginx => tokenize_nginx(&format)?,
            Dialect::Apache => tokenize_apache(&format)?,
        };
        Template::from_pieces(dialect, format, pieces)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The format string as read.
    pub fn format(&self) -> &str {
        &self.format
    }

    pub fn has_request_time(&self) -> bool {
        self.has_request_time
    }

    pub fn has_user_agent(&self) -> bool {
        self.has_user_agent
    }

    fn from_pieces(
        dialect: Dialect,
        format: String,
        pieces: Vec<(Piece, usize)>,
    ) -> Result<Template, TemplateError> {
        let error = |message: String, column: Option<usize>| TemplateError {
            message,
            column,
            format: format.clone(),
        };
        let mut items: Vec<Item> = Vec::new();
        let mut previous_field: Option<(Var, usize)> = None;
        for (piece, column) in pieces {
            match piece {
                Piece::Literal(text) => {
                    previous_field = None;
                    match items.last_mut() {
                        Some(Item::Literal(existing)) => {
                            let mut joined = existing.to_vec();
                            joined.extend_from_slice(&text);
                            *existing = joined.into_boxed_slice();
                        }
                        _ => items.push(Item::Literal(text.into_boxed_slice())),
                    }
                }
                Piece::Field(var) => {
                    if let Some((before, before_column)) = &previous_field
                        && !before.is_self_delimiting()
                    {
                        return Err(error(
                            format!(
                                "two fields with nothing between them (columns {before_column} and {column}): a line cannot tell where the first ends"
                            ),
                            Some(column),
                        ));
                    }
                    previous_field = Some((var.clone(), column));
                    items.push(Item::Field(Field { var, quoted: false }));
                }
            }
        }
        for index in 0..items.len() {
            let opens = index > 0
                && matches!(&items[index - 1], Item::Literal(text) if text.ends_with(b"\""));
            let closes = matches!(items.get(index + 1), Some(Item::Literal(text)) if text.starts_with(b"\""));
            if let Item::Field(field) = &mut items[index] {
                field.quoted = opens && closes;
            }
        }
        let vars = || {
            items.iter().filter_map(|item| match item {
                Item::Field(field) => Some(&field.var),
                Item::Literal(_) => None,
            })
        };
        if !vars().any(Var::is_time) {
            return Err(error(
                "the format has no time field ($time_local, $time_iso8601, $msec, %t or %{...}t); postmortem needs it to place each request".to_string(),
                None,
            ));
        }
        if !vars().any(|v| matches!(v, Var::Status | Var::OriginalStatus)) {
            return Err(error(
                "the format has no status field ($status, %>s or %s); postmortem needs it to tell failed requests".to_string(),
                None,
            ));
        }
        let logs_completion = match dialect {
            Dialect::Nginx => true,
            Dialect::Apache => apache_logs_end(&format),
        };
        Ok(Template {
            dialect,
            logs_completion,
            uses_strftime: vars().any(|v| matches!(v, Var::TimeStrftime(_))),
            has_request_time: vars().any(Var::is_duration),
            has_user_agent: vars().any(|v| *v == Var::UserAgent),
            has_original_status_only: !vars().any(|v| *v == Var::Status),
            items,
            format,
        })
    }

    /// Reads one line (without its line ending). Returns the record and
    /// whatever follows the last field of the format.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
        let mut record = AccessRecord::new(0, 0, 0);
        record.logged_at_completion = self.logs_completion;
        let mut time: Option<(Millis, i32)> = None;
        let mut best_time_rank = 0u8;
        let mut fraction_ms: Option<i64> = None;
        let mut parsed_time = self.uses_strftime.then(Parsed::new);
        let mut status: Option<u16> = None;
        let mut client_from_host: Option<&'a [u8]> = None;
        let mut have_client = false;
        let mut rest = line;
        for (index, item) in self.items.iter().enumerate() {
            let field = match item {
                Item::Literal(text) => {
                    match strip_literal(rest, text) {
                        Some(after) => rest = after,
                        None => {
                            let reason = match self.items.get(index + 1) {
                                Some(Item::Field(next)) => next.var.expected_before(),
                                _ => "expected the format's text after the last field",
                            };
                            return Err(LineError::new(reason));
                        }
                    }
                    continue;
                }
                Item::Field(field) => field,
            };
            let next_literal = match self.items.get(index + 1) {
                Some(Item::Literal(text)) => Some(&text[..]),
                _ => None,
            };
            let (value, after) = field_extent(field, rest, next_literal)
                .ok_or(LineError::new(field.var.expected()))?;
            rest = after;
            let bad = || LineError::new(field.var.expected());
            match &field.var {
                Var::Client => {
                    record.client = value;
                    have_client = true;
                }
                Var::ClientHost => client_from_host = Some(value),
                Var::RemoteUser => record.remote_user = value,
                Var::TimeClf
                | Var::TimeClfBracketed
                | Var::TimeIso8601
                | Var::TimeEpochDecimal
                | Var::TimeEpoch { .. } => {
                    let found = match &field.var {
                        Var::TimeClf => parse_clf_time(value),
                        Var::TimeClfBracketed => value
                            .strip_prefix(b"[")
                            .and_then(|v| v.strip_suffix(b"]"))
                            .and_then(parse_clf_time),
                        Var::TimeIso8601 => parse_iso8601(value),
                        Var::TimeEpochDecimal => parse_epoch_seconds(value).map(|ms| (ms, 0)),
                        Var::TimeEpoch { per_second } => epoch_in_units(value, *per_second),
                        _ => None,
                    }
                    .ok_or_else(bad)?;
                    let rank = time_rank(&field.var);
                    if rank > best_time_rank {
                        best_time_rank = rank;
                        time = Some(found);
                    }
                }
                Var::TimeFraction { per_second } => {
                    let units = integer(value).ok_or_else(bad)?;
                    let millis = units.saturating_mul(1000) / (*per_second).max(1);
                    fraction_ms = Some(i64::try_from(millis).map_err(|_| bad())?);
                }
                Var::TimeStrftime(layout) => {
                    let text = std::str::from_utf8(value).map_err(|_| bad())?;
                    if let Some(parsed) = parsed_time.as_mut() {
                        chrono::format::parse(parsed, text, layout.iter()).map_err(|_| bad())?;
                    }
                }
                Var::Request => record.request = value,
                Var::RequestPart => {
                    if record.request == b"-" {
                        record.request = value;
                    }
                }
                Var::Status => status = Some(three_digit_status(value).ok_or_else(bad)?),
                Var::OriginalStatus => {
                    if self.has_original_status_only {
                        status = Some(three_digit_status(value).ok_or_else(bad)?);
                    }
                }
                Var::Bytes => {
                    record.bytes = if is_absent(value) {
                        None
                    } else {
                        Some(integer(value).ok_or_else(bad)?)
                    };
                }
                Var::DurationSeconds
                | Var::DurationMicros
                | Var::DurationMillis
                | Var::DurationWholeSeconds => {
                    if !is_absent(value) {
                        record.duration_us =
                            Some(duration_micros(&field.var, value).ok_or_else(bad)?);
                    }
                }
                Var::UpstreamAddr => record.upstream_addr = present(value),
                Var::UpstreamStatus => record.upstream_status = present(value),
                Var::UpstreamTime => record.upstream_time = present(value),
                Var::Host => record.host = present(value),
                Var::Referer => record.referer = present(value),
                Var::UserAgent => record.user_agent = present(value),
                Var::ForwardedFor => record.forwarded_for = present(value),
                Var::UpstreamList | Var::Opaque => {}
            }
        }
        if !have_client && let Some(host) = client_from_host {
            record.client = host;
        }
        if best_time_rank < time_rank(&Var::TimeClf)
            && let Some(parsed) = &parsed_time
        {
            time = Some(strftime_time(parsed).ok_or(LineError::new(
                "expected a time in the format's %{...}t layout",
            ))?);
        }
        let (mut logged_at, offset) = time.ok_or(LineError::new("expected a time"))?;
        if let Some(extra) = fraction_ms
            && logged_at % MS_PER_SECOND == 0
        {
            logged_at += extra;
        }
        record.logged_at = logged_at;
        record.offset_seconds = offset;
        record.status = status.ok_or(LineError::new("expected a three-digit status"))?;
        Ok((record, rest))
    }
}

/// Removes the configuration syntax around a format string and tells the
/// dialect: `log_format NAME [escape=...] '...' '...';` (nginx) and
/// `LogFormat "..." [nickname]` (Apache) are unwrapped, their quoting
/// undone; a bare format string is taken as it is (an Apache one with its
/// `\"` escapes undone).
fn unwrap_definition(definition: &str) -> (Dialect, String) {
    let trimmed = definition.trim();
    if let Some(rest) = strip_keyword(trimmed, "log_format") {
        let mut words = rest.trim_start();
        // The format's name, then `escape=...` / `if=...` parameters.
        loop {
            let word_end = words.find(char::is_whitespace).unwrap_or(words.len());
            let word = &words[..word_end];
            if word.is_empty() || word.starts_with(['\'', '"', '$']) {
                break;
            }
            words = words[word_end..].trim_start();
        }
        return (
            Dialect::Nginx,
            unquote_nginx(words).unwrap_or_else(|| words.trim_end_matches(';').to_string()),
        );
    }
    let apache_line = strip_keyword(trimmed, "LogFormat").or_else(|| {
        // `CustomLog PATH "FORMAT"`: the format given inline, after the path.
        let rest = strip_keyword(trimmed, "CustomLog")?.trim_start();
        let path_end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find('"').map(|end| end + 2)?
        } else {
            rest.find(char::is_whitespace)?
        };
        Some(&rest[path_end..])
    });
    if let Some(rest) = apache_line {
        let rest = rest.trim_start();
        return (
            Dialect::Apache,
            unquote_apache(rest).unwrap_or_else(|| unescape_apache(rest)),
        );
    }
    let dialect = guess_dialect(trimmed);
    let format = match dialect {
        Dialect::Nginx => unquote_nginx(trimmed).unwrap_or_else(|| trimmed.to_string()),
        Dialect::Apache => unquote_apache(trimmed).unwrap_or_else(|| unescape_apache(trimmed)),
    };
    (dialect, format)
}

fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(keyword)?;
    rest.starts_with(char::is_whitespace).then_some(rest)
}

/// nginx when the text holds more `$variable`s than `%` directives, else
/// Apache (a `$` or `%` may be literal text in the other dialect).
fn guess_dialect(text: &str) -> Dialect {
    let bytes = text.as_bytes();
    let count = |marker: u8, starts: fn(u8) -> bool| {
        bytes
            .windows(2)
            .filter(|pair| pair[0] == marker && starts(pair[1]))
            .count()
    };
    let nginx = count(b'$', |b| b.is_ascii_alphabetic() || b == b'_' || b == b'{');
    let apache = count(b'%', |b| {
        b.is_ascii_alphabetic() || matches!(b, b'{' | b'>' | b'<' | b'!' | b'0'..=b'9' | b'^')
    });
    if nginx > apache {
        Dialect::Nginx
    } else {
        Dialect::Apache
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::access::expected::{ExpectedRecord, assert_record};

    const NGINX_MAIN_CONF: &str = r#"log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';"#;

    /// nginx's built-in `combined`, as the documentation writes it.
    const NGINX_COMBINED_CONF: &str = r#"log_format combined '$remote_addr - $remote_user [$time_local] '
                    '"$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent"';"#;

    /// Apache's stock `combined`, as httpd.conf writes it.
    const APACHE_COMBINED_CONF: &str =
        r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"" combined"#;

    #[test]
    fn definitions_unwrap_to_their_format_string() {
        let cases = [
            (
                "nginx main as in nginx.conf",
                NGINX_MAIN_CONF,
                Dialect::Nginx,
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#,
            ),
            (
                "nginx with escape parameter",
                r#"log_format j escape=json '{"t":"$msec","s":$status}';"#,
                Dialect::Nginx,
                r#"{"t":"$msec","s":$status}"#,
            ),
            (
                "nginx bare",
                r#"$remote_addr [$time_local] "$request" $status"#,
                Dialect::Nginx,
                r#"$remote_addr [$time_local] "$request" $status"#,
            ),
            (
                "apache LogFormat line",
                APACHE_COMBINED_CONF,
                Dialect::Apache,
                r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#,
            ),
            (
                "apache CustomLog with an inline format",
                r#"CustomLog "logs/access_log" "%h %t \"%r\" %>s %D" env=!dontlog"#,
                Dialect::Apache,
                r#"%h %t "%r" %>s %D"#,
            ),
            (
                "apache quoted without keyword",
                r#""%h %l %u %t \"%r\" %>s %b""#,
                Dialect::Apache,
                r#"%h %l %u %t "%r" %>s %b"#,
            ),
            (
                "apache bare with escapes",
                r#"%h %l %u %t \"%r\" %>s %b"#,
                Dialect::Apache,
                r#"%h %l %u %t "%r" %>s %b"#,
            ),
            (
                "apache with a literal dollar",
                r#"%h %t "%r" %>s $x"#,
                Dialect::Apache,
                r#"%h %t "%r" %>s $x"#,
            ),
            (
                "nginx with a literal percent",
                r#"$remote_addr [$time_local] "$request" $status 100%"#,
                Dialect::Nginx,
                r#"$remote_addr [$time_local] "$request" $status 100%"#,
            ),
            (
                "apache bare starting with a quoted field",
                r#""%r" %>s %t"#,
                Dialect::Apache,
                r#""%r" %>s %t"#,
            ),
        ];
        for (name, definition, dialect, format) in cases {
            assert_eq!(
                unwrap_definition(definition),
                (dialect, format.to_string()),
                "{name}"
            );
        }
    }

    const BASE: ExpectedRecord = ExpectedRecord {
        client: "10.0.0.1",
        logged_at: 1_699_797_603_000,
        offset: 0,
        status: 200,
        duration_us: None,
        arrival: 1_699_797_603_000,
        user_agent: None,
        upstream: None,
        host: None,
    };

    #[test]
    fn templates_read_their_lines() {
        let cases: [(&str, &str, &str, ExpectedRecord); 14] = [
            (
                "nginx combined as configured",
                NGINX_COMBINED_CONF,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
                ExpectedRecord {
                    user_agent: Some("curl/8"),
                    ..BASE
                },
            ),
            (
                "nginx main with forwarded-for",
                NGINX_MAIN_CONF,
                r#"10.0.0.1 - bob [12/Nov/2023:15:00:03 +0100] "GET / HTTP/2.0" 502 5 "-" "a \x22quoted\x22 agent" "203.0.113.9""#,
                ExpectedRecord {
                    status: 502,
                    offset: 3600,
                    user_agent: Some(r#"a \x22quoted\x22 agent"#),
                    ..BASE
                },
            ),
            (
                "nginx request time is subtracted",
                r#"$remote_addr [$time_local] "$request" $status rt=$request_time ua="$upstream_addr""#,
                r#"10.0.0.1 [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 504 rt=1.500 ua="10.1.0.1:80, 10.1.0.2:80""#,
                ExpectedRecord {
                    status: 504,
                    duration_us: Some(1_500_000),
                    arrival: 1_699_797_603_000 - 1_500,
                    upstream: Some("10.1.0.1:80, 10.1.0.2:80"),
                    ..BASE
                },
            ),
            (
                "nginx unquoted upstream lists with both separators",
                r#"$remote_addr [$time_local] "$request" $status $upstream_addr $upstream_status $upstream_response_time $request_time"#,
                r#"10.0.0.1 [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 10.1.0.1:80, 10.1.0.2:80 : unix:/run/a.sock 502, 504 : 200 0.001, 5.000 : 0.010 5.012"#,
                ExpectedRecord {
                    duration_us: Some(5_012_000),
                    arrival: 1_699_797_603_000 - 5_012,
                    upstream: Some("10.1.0.1:80, 10.1.0.2:80 : unix:/run/a.sock"),
                    ..BASE
                },
            ),
            (
                "nginx iso time and host",
                r#"$host $remote_addr $time_iso8601 "$request" $status $request_time"#,
                r#"shop.example 2001:db8::7 2023-11-12T15:00:03+01:00 "GET / HTTP/3" 200 0.250"#,
                ExpectedRecord {
                    client: "2001:db8::7",
                    offset: 3600,
                    duration_us: Some(250_000),
                    arrival: 1_699_797_603_000 - 250,
                    host: Some("shop.example"),
                    ..BASE
                },
            ),
            (
                "nginx msec with braces syntax",
                r#"${msec} ${remote_addr} ${status}"#,
                "1699797603.123 10.0.0.1 200",
                ExpectedRecord {
                    logged_at: 1_699_797_603_123,
                    arrival: 1_699_797_603_123,
                    ..BASE
                },
            ),
            (
                "nginx unknown variables are opaque",
                r#"$remote_addr $ssl_protocol/$ssl_cipher [$time_local] "$request" $status"#,
                r#"10.0.0.1 TLSv1.3/TLS_AES_256_GCM_SHA384 [12/Nov/2023:14:00:03 +0000] "-" 400"#,
                ExpectedRecord {
                    status: 400,
                    ..BASE
                },
            ),
            (
                "apache combined as in httpd.conf",
                APACHE_COMBINED_CONF,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET /a\"b HTTP/1.1" 200 5 "-" "ua \"x\"""#,
                ExpectedRecord {
                    user_agent: Some(r#"ua \"x\""#),
                    ..BASE
                },
            ),
            (
                "apache %D keeps the arrival",
                r#"%h %l %u %t "%r" %>s %b %D"#,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 500 - 2500000"#,
                ExpectedRecord {
                    status: 500,
                    duration_us: Some(2_500_000),
                    ..BASE
                },
            ),
            (
                "apache %T and vhost with port",
                r#"%v:%p %h %l %u %t "%r" %>s %O %T"#,
                r#"www.example:443 10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 9 3"#,
                ExpectedRecord {
                    duration_us: Some(3_000_000),
                    host: Some("www.example"),
                    ..BASE
                },
            ),
            (
                "apache strftime time with fraction and %{ms}T",
                r#"%a [%{%d/%b/%Y %H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %s %{ms}T"#,
                r#"10.0.0.1 [12/Nov/2023 15:00:03.250 +0100] "GET / HTTP/1.1" 200 40"#,
                ExpectedRecord {
                    logged_at: 1_699_797_603_250,
                    arrival: 1_699_797_603_250,
                    offset: 3600,
                    duration_us: Some(40_000),
                    ..BASE
                },
            ),
            (
                "apache end time logs completion",
                r#"%h %{end:%Y-%m-%dT%H:%M:%S%z}t %>s %{us}T"#,
                "10.0.0.1 2023-11-12T14:00:03+0000 200 2000000",
                ExpectedRecord {
                    duration_us: Some(2_000_000),
                    arrival: 1_699_797_603_000 - 2_000,
                    ..BASE
                },
            ),
            (
                "apache conditional header, %I, %% and %a over %h",
                r#"%h %a %t "%r" %>s %I 100%% "%!200,304{User-Agent}i""#,
                r#"host.example 10.0.0.1 [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 312 100% "-""#,
                ExpectedRecord { ..BASE },
            ),
            (
                "apache epoch seconds",
                r#"%{sec}t %a %>s"#,
                "1699797603 10.0.0.1 200",
                ExpectedRecord { ..BASE },
            ),
        ];
        for (name, definition, line, expect) in cases {
            let template = Template::compile(definition).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (record, rest) = template
                .parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: {}", e.reason));
            assert!(rest.is_empty(), "{name}: left over {rest:?}");
            assert_record(name, &record, &expect);
        }
    }

    #[test]
    fn lines_that_do_not_fit_name_the_field() {
        let template = Template::compile(NGINX_MAIN_CONF).expect("stock format");
        let cases = [
            (
                "missing forwarded-for",
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
                "expected the format's text before X-Forwarded-For",
            ),
            (
                "bad time",
                r#"10.0.0.1 - - [12/Nov/2023:14:00 +0000] "GET / HTTP/1.1" 200 5 "-" "ua" "-""#,
                "expected a timestamp like 10/Oct/2000:13:55:36 -0700",
            ),
            (
                "bad status",
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" OK 5 "-" "ua" "-""#,
                "expected a three-digit status",
            ),
            (
                "unterminated agent",
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"#,
                "expected the user agent",
            ),
            ("empty", "", "expected the client address"),
        ];
        for (name, line, reason) in cases {
            let error = template.parse(line.as_bytes()).expect_err(name);
            assert_eq!(error.reason, reason, "{name}");
        }
    }

    #[test]
    fn bad_definitions_point_at_the_offending_part() {
        let cases = [
            (
                "unknown apache directive",
                "%h %l %u %t %Q",
                "unknown directive '%Q'",
                Some(13),
            ),
            (
                "unknown directive with argument",
                "%h %t %>s %{X}Z",
                "unknown directive '%{X}Z'",
                Some(11),
            ),
            (
                "unterminated argument",
                "%h %t %>s %{Referer",
                "'%{' without a closing '}'",
                Some(11),
            ),
            (
                "bad %T unit",
                "%h %t %>s %{min}T",
                "'%{min}T' has an unknown unit",
                Some(11),
            ),
            (
                "adjacent fields",
                "$remote_addr$remote_user [$time_local] $status",
                "two fields with nothing between them",
                Some(13),
            ),
            (
                "dollar without a name",
                "$remote_addr [$time_local] $status $ x",
                "a '$' not followed by a variable name",
                Some(36),
            ),
            (
                "no time",
                "$remote_addr $status",
                "the format has no time field",
                None,
            ),
            (
                "no status",
                "%h %t %b",
                "the format has no status field",
                None,
            ),
        ];
        for (name, definition, message, column) in cases {
            let error = Template::compile(definition).expect_err(name);
            assert!(error.message.contains(message), "{name}: {}", error.message);
            assert_eq!(error.column, column, "{name}");
            assert!(error.to_string().contains(definition), "{name}");
        }
    }
}
