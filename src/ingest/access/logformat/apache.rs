//! Apache `LogFormat`: unwrapping a definition as written in `httpd.conf`
//! and reading its `%` directives into template pieces.

use chrono::format::StrftimeItems;
use memchr::memchr;

use super::vars::{Piece, TemplateError, Var, template_error, tokenize};
use crate::ingest::record::MICROS_PER_SECOND;

/// Apache's quoted format string (`"%h ... \"%r\" ..." nickname`), escapes
/// undone, when the text is one quoted string and an optional nickname or
/// `env=` condition.
pub(super) fn unquote_apache(text: &str) -> Option<String> {
    let body = text.trim().strip_prefix('"')?;
    let mut from = 0;
    loop {
        let at = from + body[from..].find('"')?;
        let backslashes = body[..at].chars().rev().take_while(|&c| c == '\\').count();
        if backslashes % 2 == 0 {
            // What may follow: a nickname (`LogFormat`), `env=...` or
            // `expr=...` (`CustomLog`); never another field.
            let after = body[at + 1..].trim();
            let trailer = after.is_empty()
                || (body[at + 1..].starts_with(char::is_whitespace) && !after.contains(['%', '"']));
            return trailer.then(|| unescape_apache(&body[..at]));
        }
        from = at + 1;
    }
}

/// Undoes Apache's configuration escapes: `\"`, `\\`, `\n`, `\t`.
pub(super) fn unescape_apache(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether an Apache format logs the end of the request (`%{end:...}t`).
pub(super) fn apache_logs_end(format: &str) -> bool {
    format.contains("{end:")
}

/// Splits an Apache format into literals and `%` directives
/// (mod_log_config: `%[!][status,...][<|>][{argument}]letter`).
pub(super) fn tokenize_apache(format: &str) -> Result<Vec<(Piece, usize)>, TemplateError> {
    let bytes = format.as_bytes();
    tokenize(format, b'%', |pieces, at| {
        let column = at + 1;
        if bytes.get(at + 1) == Some(&b'%') {
            pieces.literal_byte(column, b'%');
            return Ok(at + 2);
        }
        let mut cursor = at + 1;
        let mut argument: Option<&str> = None;
        let mut final_value = true;
        loop {
            match bytes.get(cursor) {
                Some(b'!' | b',' | b'0'..=b'9') => cursor += 1,
                Some(b'<') => {
                    final_value = false;
                    cursor += 1;
                }
                Some(b'>') => {
                    final_value = true;
                    cursor += 1;
                }
                Some(b'{') => {
                    let close = memchr(b'}', &bytes[cursor + 1..]).ok_or_else(|| {
                        template_error(format, "'%{' without a closing '}'".to_string(), column)
                    })?;
                    argument = Some(&format[cursor + 1..cursor + 1 + close]);
                    cursor += close + 2;
                }
                _ => break,
            }
        }
        let (directive, length) = match bytes.get(cursor) {
            Some(b'^') => match bytes.get(cursor + 1..cursor + 3) {
                Some(b"ti") | Some(b"to") => ("^t", 3),
                _ => {
                    return Err(template_error(
                        format,
                        format!("unknown directive '{}'", snippet(format, at, cursor + 3)),
                        column,
                    ));
                }
            },
            Some(&letter) if letter.is_ascii_alphabetic() => (&format[cursor..cursor + 1], 1),
            Some(_) => {
                let end = format[cursor..]
                    .char_indices()
                    .nth(1)
                    .map_or(format.len(), |(offset, _)| cursor + offset);
                return Err(template_error(
                    format,
                    format!("unknown directive '{}'", &format[at..end]),
                    column,
                ));
            }
            None => {
                return Err(template_error(
                    format,
                    "a '%' at the end without a directive".to_string(),
                    column,
                ));
            }
        };
        let var = apache_directive(directive, argument, final_value).map_err(|message| {
            template_error(
                format,
                message.unwrap_or_else(|| {
                    format!("unknown directive '{}'", &format[at..cursor + length])
                }),
                column,
            )
        })?;
        pieces.field(column, var);
        Ok(cursor + length)
    })
}

/// `format[from..to]`, with `to` moved back to a character boundary and
/// clamped to the end.
pub(super) fn snippet(format: &str, from: usize, to: usize) -> &str {
    let mut end = to.min(format.len());
    while !format.is_char_boundary(end) {
        end -= 1;
    }
    format.get(from..end).unwrap_or_default()
}

/// What an Apache directive holds. `Err(None)` for an unknown directive,
/// `Err(Some(message))` for a known one with a bad argument.
pub(super) fn apache_directive(
    directive: &str,
    argument: Option<&str>,
    final_value: bool,
) -> Result<Var, Option<String>> {
    let var = match directive {
        "a" => Var::Client,
        "h" => Var::ClientHost,
        "u" => Var::RemoteUser,
        "t" => match argument {
            None => Var::TimeClfBracketed,
            Some(layout) => apache_time(layout)?,
        },
        "r" => Var::Request,
        "m" | "U" | "q" | "H" => Var::RequestPart,
        "s" if final_value => Var::Status,
        "s" => Var::OriginalStatus,
        "b" | "B" | "O" => Var::Bytes,
        "D" => Var::DurationMicros,
        "T" => match argument.map(str::trim) {
            None | Some("s") => Var::DurationWholeSeconds,
            Some("ms") => Var::DurationMillis,
            Some("us") => Var::DurationMicros,
            Some(other) => {
                return Err(Some(format!(
                    "'%{{{other}}}T' has an unknown unit (use ms, us or s)"
                )));
            }
        },
        "v" | "V" => Var::Host,
        "i" => match argument.map(str::to_ascii_lowercase).as_deref() {
            Some("referer") => Var::Referer,
            Some("user-agent") => Var::UserAgent,
            Some("x-forwarded-for") => Var::ForwardedFor,
            Some("host") => Var::Host,
            Some(_) => Var::Opaque,
            None => return Err(Some("'%i' needs a header name: %{Header}i".to_string())),
        },
        "l" | "A" | "C" | "e" | "f" | "k" | "L" | "n" | "o" | "p" | "P" | "R" | "X" | "I" | "S"
        | "^t" => Var::Opaque,
        _ => return Err(None),
    };
    Ok(var)
}

/// `%{format}t`: `sec`, `msec`, `usec`, `msec_frac`, `usec_frac` or a
/// strftime layout, each optionally after `begin:` or `end:`.
pub(super) fn apache_time(layout: &str) -> Result<Var, Option<String>> {
    let layout = layout
        .strip_prefix("begin:")
        .or_else(|| layout.strip_prefix("end:"))
        .unwrap_or(layout);
    let var = match layout {
        "sec" => Var::TimeEpoch { per_second: 1 },
        "msec" => Var::TimeEpoch { per_second: 1000 },
        "usec" => Var::TimeEpoch {
            per_second: MICROS_PER_SECOND,
        },
        "msec_frac" => Var::TimeFraction { per_second: 1000 },
        "usec_frac" => Var::TimeFraction {
            per_second: MICROS_PER_SECOND,
        },
        strftime => Var::TimeStrftime(
            StrftimeItems::new(strftime)
                .parse_to_owned()
                .map_err(|_| Some(format!("'%{{{strftime}}}t' is not a strftime layout")))?,
        ),
    };
    Ok(var)
}
