//! nginx `log_format`: unwrapping a definition as written in `nginx.conf`
//! and reading its `$variables` into template pieces.

use memchr::memchr;

use super::vars::{Piece, TemplateError, Var, template_error, tokenize};

/// The Kubernetes ingress-nginx controller's default `log-format-upstream`
/// (ingress-nginx docs, "Log format").
pub const INGRESS_NGINX_DEFINITION: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;

/// nginx's quoted pieces (`'...' "..."`), joined, when the whole text is
/// made of them (and an optional `;`); `None` otherwise.
pub(super) fn unquote_nginx(text: &str) -> Option<String> {
    let mut joined = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut pieces = 0;
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(';') if chars.clone().all(char::is_whitespace) => break,
            Some(quote @ ('\'' | '"')) => {
                pieces += 1;
                loop {
                    match chars.next()? {
                        '\\' => match chars.next()? {
                            'n' => joined.push('\n'),
                            't' => joined.push('\t'),
                            'r' => joined.push('\r'),
                            c @ ('\'' | '"' | '\\') => joined.push(c),
                            other => {
                                joined.push('\\');
                                joined.push(other);
                            }
                        },
                        c if c == quote => break,
                        c => joined.push(c),
                    }
                }
            }
            Some(_) => return None,
        }
    }
    (pieces > 0).then_some(joined)
}

/// Splits an nginx format into literals and `$variable` / `${variable}`.
pub(super) fn tokenize_nginx(format: &str) -> Result<Vec<(Piece, usize)>, TemplateError> {
    let bytes = format.as_bytes();
    tokenize(format, b'$', |pieces, at| {
        let column = at + 1;
        let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let (name, next) = if bytes.get(at + 1) == Some(&b'{') {
            let close = memchr(b'}', &bytes[at + 2..]).ok_or_else(|| {
                template_error(format, "'${' without a closing '}'".to_string(), column)
            })?;
            (&format[at + 2..at + 2 + close], at + 3 + close)
        } else {
            let length = bytes[at + 1..].iter().take_while(|&&b| is_name(b)).count();
            (&format[at + 1..at + 1 + length], at + 1 + length)
        };
        if name.is_empty() || !name.bytes().all(is_name) {
            return Err(template_error(
                format,
                "a '$' not followed by a variable name".to_string(),
                column,
            ));
        }
        pieces.field(column, nginx_variable(name));
        Ok(next)
    })
}

/// What an nginx variable holds; unknown ones are opaque.
pub(super) fn nginx_variable(name: &str) -> Var {
    match name {
        "remote_addr" => Var::Client,
        "remote_user" => Var::RemoteUser,
        "time_local" => Var::TimeClf,
        "time_iso8601" => Var::TimeIso8601,
        "msec" => Var::TimeEpochDecimal,
        "request" => Var::Request,
        "request_method" | "request_uri" | "uri" | "document_uri" => Var::RequestPart,
        "status" => Var::Status,
        "body_bytes_sent" | "bytes_sent" => Var::Bytes,
        "request_time" => Var::DurationSeconds,
        "upstream_addr" => Var::UpstreamAddr,
        "upstream_status" => Var::UpstreamStatus,
        "upstream_response_time" => Var::UpstreamTime,
        "upstream_connect_time"
        | "upstream_header_time"
        | "upstream_response_length"
        | "upstream_bytes_received"
        | "upstream_bytes_sent"
        | "upstream_queue_time" => Var::UpstreamList,
        "host" | "http_host" | "server_name" => Var::Host,
        "http_referer" => Var::Referer,
        "http_user_agent" => Var::UserAgent,
        "http_x_forwarded_for" => Var::ForwardedFor,
        _ => Var::Opaque,
    }
}
