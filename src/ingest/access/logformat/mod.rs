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

use chrono::format::{Item as TimeItem, Parsed, StrftimeItems};
use memchr::memchr;

use crate::ingest::record::{AccessRecord, LineError, MICROS_PER_SECOND, seconds_as_micros};
use crate::ingest::timestamps::{parse_clf_time, parse_epoch_seconds, parse_iso8601};
use crate::timefmt::{MS_PER_SECOND, Millis};

/// The Kubernetes ingress-nginx controller's default `log-format-upstream`
/// (ingress-nginx docs, "Log format").
pub const INGRESS_NGINX_DEFINITION: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;

/// Which server's template language a definition is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// nginx `log_format`: `$variable` or `${variable}`.
    Nginx,
    /// Apache `LogFormat`: `%h`, `%>s`, `%{Header}i`, ...
    Apache,
}

impl Dialect {
    /// The format name inputs read with such a template report.
    pub fn format_name(self) -> &'static str {
        match self {
            Dialect::Nginx => "nginx-template",
            Dialect::Apache => "apache-template",
        }
    }
}

/// Why a definition could not be compiled, with the column (1-based, in
/// [`TemplateError::format`]) of the offending part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub column: Option<usize>,
    /// The format string as read (configuration quoting removed).
    pub format: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => write!(
                f,
                "{} at column {column}: {}\n  {}\n  {}^",
                self.message,
                self.hint(),
                self.format,
                " ".repeat(column.saturating_sub(1))
            ),
            None => write!(f, "{}: {}\n  {}", self.message, self.hint(), self.format),
        }
    }
}

impl TemplateError {
    fn hint(&self) -> &'static str {
        "give the log_format / LogFormat definition from the server's configuration, or a preset name (see `postmortem --help`)"
    }
}

/// What a field holds. Times, numbers and lists are parsed; text is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Var {
    /// `$remote_addr`, `%a`.
    Client,
    /// `%h`: the remote host name, or the address without lookups; `%a`
    /// wins when both are present.
    ClientHost,
    RemoteUser,
    /// `$time_local`: `12/Nov/2023:14:00:03 +0000`, exactly 26 bytes.
    TimeClf,
    /// `%t`: the same in brackets.
    TimeClfBracketed,
    /// `$time_iso8601`.
    TimeIso8601,
    /// `$msec`: seconds since the epoch with milliseconds.
    TimeEpochDecimal,
    /// `%{sec}t`, `%{msec}t`, `%{usec}t`: integer units since the epoch.
    TimeEpoch {
        per_second: u64,
    },
    /// `%{msec_frac}t` / `%{usec_frac}t`: the sub-second part of the time.
    TimeFraction {
        per_second: u64,
    },
    /// `%{strftime format}t`.
    TimeStrftime(Vec<TimeItem<'static>>),
    /// `$request`, `%r`: the request line.
    Request,
    /// `$request_method`, `$request_uri`, `%m`, `%U`...: parts of it.
    RequestPart,
    /// `$status`, `%>s`: the final status.
    Status,
    /// `%s`, `%<s`: the status before internal redirects.
    OriginalStatus,
    Bytes,
    /// `$request_time`: seconds with a fraction.
    DurationSeconds,
    /// `%D`, `%{us}T`.
    DurationMicros,
    /// `%{ms}T`.
    DurationMillis,
    /// `%T`, `%{s}T`.
    DurationWholeSeconds,
    UpstreamAddr,
    UpstreamStatus,
    UpstreamTime,
    /// Another nginx upstream list (`$upstream_connect_time`, ...).
    UpstreamList,
    Host,
    Referer,
    UserAgent,
    ForwardedFor,
    Opaque,
}

impl Var {
    /// Whether the value is one of nginx's upstream lists, whose items are
    /// separated by `, ` and ` : ` (so it may contain spaces).
    fn is_list(&self) -> bool {
        matches!(
            self,
            Var::UpstreamAddr | Var::UpstreamStatus | Var::UpstreamTime | Var::UpstreamList
        )
    }

    /// Whether the field finds its own end, so another field may follow it
    /// with no literal text between them.
    fn is_self_delimiting(&self) -> bool {
        matches!(self, Var::TimeClf | Var::TimeClfBracketed)
    }

    fn is_time(&self) -> bool {
        matches!(
            self,
            Var::TimeClf
                | Var::TimeClfBracketed
                | Var::TimeIso8601
                | Var::TimeEpochDecimal
                | Var::TimeEpoch { .. }
                | Var::TimeStrftime(_)
        )
    }

    fn is_duration(&self) -> bool {
        matches!(
            self,
            Var::DurationSeconds
                | Var::DurationMicros
                | Var::DurationMillis
                | Var::DurationWholeSeconds
        )
    }

    /// The reason a line gives when this field's value is not what the
    /// format says (static, so skipped lines cost no allocation).
    fn expected(&self) -> &'static str {
        match self {
            Var::Client | Var::ClientHost => "expected the client address",
            Var::RemoteUser => "expected the remote user",
            Var::TimeClf | Var::TimeClfBracketed => {
                "expected a timestamp like 10/Oct/2000:13:55:36 -0700"
            }
            Var::TimeIso8601 => "expected an ISO 8601 time like 2023-11-12T14:00:03+01:00",
            Var::TimeEpochDecimal | Var::TimeEpoch { .. } | Var::TimeFraction { .. } => {
                "expected a time in seconds since the epoch"
            }
            Var::TimeStrftime(_) => "expected a time in the format's %{...}t layout",
            Var::Request | Var::RequestPart => "expected the request",
            Var::Status | Var::OriginalStatus => "expected a three-digit status",
            Var::Bytes => "expected a byte count or '-'",
            Var::DurationSeconds => "expected a request time in seconds",
            Var::DurationMicros => "expected a request time in microseconds",
            Var::DurationMillis => "expected a request time in milliseconds",
            Var::DurationWholeSeconds => "expected a request time in whole seconds",
            Var::UpstreamAddr | Var::UpstreamStatus | Var::UpstreamTime | Var::UpstreamList => {
                "expected an upstream value or list"
            }
            Var::Host => "expected the host",
            Var::Referer => "expected the referer",
            Var::UserAgent => "expected the user agent",
            Var::ForwardedFor => "expected the X-Forwarded-For value",
            Var::Opaque => "expected a field of the format",
        }
    }

    /// The reason a line gives when the text before this field does not
    /// match the format's literal text.
    fn expected_before(&self) -> &'static str {
        match self {
            Var::Client | Var::ClientHost => "expected the format's text before the client address",
            Var::RemoteUser => "expected the format's text before the remote user",
            Var::TimeClf
            | Var::TimeClfBracketed
            | Var::TimeIso8601
            | Var::TimeEpochDecimal
            | Var::TimeEpoch { .. }
            | Var::TimeFraction { .. }
            | Var::TimeStrftime(_) => "expected the format's text before the time",
            Var::Request | Var::RequestPart => "expected the format's text before the request",
            Var::Status | Var::OriginalStatus => "expected the format's text before the status",
            Var::Bytes => "expected the format's text before the byte count",
            Var::DurationSeconds
            | Var::DurationMicros
            | Var::DurationMillis
            | Var::DurationWholeSeconds => "expected the format's text before the request time",
            Var::UpstreamAddr | Var::UpstreamStatus | Var::UpstreamTime | Var::UpstreamList => {
                "expected the format's text before an upstream field"
            }
            Var::Host => "expected the format's text before the host",
            Var::Referer => "expected the format's text before the referer",
            Var::UserAgent => "expected the format's text before the user agent",
            Var::ForwardedFor => "expected the format's text before X-Forwarded-For",
            Var::Opaque => "expected the format's text between two fields",
        }
    }
}

/// How precise a time field is: the most precise one of a line wins.
fn time_rank(var: &Var) -> u8 {
    match var {
        Var::TimeStrftime(_) => 1,
        Var::TimeClf | Var::TimeClfBracketed => 2,
        Var::TimeIso8601 => 3,
        Var::TimeEpochDecimal | Var::TimeEpoch { .. } => 4,
        _ => 0,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    var: Var,
    /// Between double quotes in the template: ends at the first unescaped
    /// quote and may hold spaces.
    quoted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Literal(Box<[u8]>),
    Field(Field),
}

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

/// A value nginx and Apache write for an empty field.
#[inline]
fn is_absent(value: &[u8]) -> bool {
    value.is_empty() || value == b"-"
}

#[inline]
fn present(value: &[u8]) -> Option<&[u8]> {
    (!is_absent(value)).then_some(value)
}

#[inline]
fn integer(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[inline]
fn three_digit_status(value: &[u8]) -> Option<u16> {
    match value {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

fn duration_micros(var: &Var, value: &[u8]) -> Option<u64> {
    match var {
        Var::DurationSeconds => match seconds_as_micros(value) {
            Ok(([], us)) => Some(us),
            _ => None,
        },
        Var::DurationMicros => integer(value),
        Var::DurationMillis => integer(value).map(|ms| ms.saturating_mul(1000)),
        Var::DurationWholeSeconds => integer(value).map(|s| s.saturating_mul(MICROS_PER_SECOND)),
        _ => None,
    }
}

/// `%{sec}t`, `%{msec}t`, `%{usec}t`: an integer count since the epoch.
fn epoch_in_units(value: &[u8], per_second: u64) -> Option<(Millis, i32)> {
    let units = integer(value)?;
    let millis = i64::try_from(units.checked_mul(1000)? / per_second.max(1)).ok()?;
    Some((crate::timefmt::writable(millis)?, 0))
}

/// The time chrono collected from the `%{...}t` fields; without a zone in
/// the layout the time is taken as UTC.
fn strftime_time(parsed: &Parsed) -> Option<(Millis, i32)> {
    if let Ok(with_zone) = parsed.to_datetime() {
        return Some((
            with_zone.timestamp_millis(),
            with_zone.offset().local_minus_utc(),
        ));
    }
    let naive = parsed.to_naive_datetime_with_offset(0).ok()?;
    Some((naive.and_utc().timestamp_millis(), 0))
}

/// Where a field's value ends: returns the value and the rest of the line,
/// `None` when the line cannot hold the field here.
#[inline]
fn field_extent<'a>(
    field: &Field,
    input: &'a [u8],
    next_literal: Option<&[u8]>,
) -> Option<(&'a [u8], &'a [u8])> {
    if field.quoted {
        let end = closing_quote(input)?;
        return Some((&input[..end], &input[end..]));
    }
    match &field.var {
        Var::TimeClf => {
            let value = input.get(..26)?;
            return Some((value, &input[26..]));
        }
        Var::TimeClfBracketed => {
            if input.first() != Some(&b'[') {
                return None;
            }
            let end = memchr(b']', input)? + 1;
            return Some((&input[..end], &input[end..]));
        }
        var if var.is_list() => {
            let end = list_end(input);
            return Some((&input[..end], &input[end..]));
        }
        _ => {}
    }
    let end = match next_literal {
        Some([single]) => memchr(*single, input)?,
        Some(literal) => find_literal(input, literal)?,
        None => input
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(input.len()),
    };
    Some((&input[..end], &input[end..]))
}

/// `input` after `literal`, when it starts with it. A byte loop: the
/// literals between fields are a few bytes, for which a call to `memcmp`
/// costs more than the comparison.
#[inline]
fn strip_literal<'a>(input: &'a [u8], literal: &[u8]) -> Option<&'a [u8]> {
    if input.len() < literal.len() {
        return None;
    }
    let (head, tail) = input.split_at(literal.len());
    head.iter()
        .zip(literal)
        .all(|(a, b)| a == b)
        .then_some(tail)
}

/// The first occurrence of `literal` (at least one byte) in `input`: the
/// literals between fields are short and their first byte is rare in a
/// field's value, so checking at each occurrence of that byte is faster
/// than building a substring searcher per line.
#[inline]
fn find_literal(input: &[u8], literal: &[u8]) -> Option<usize> {
    let (&first, rest) = literal.split_first()?;
    let mut from = 0;
    while let Some(found) = memchr(first, &input[from..]) {
        let at = from + found;
        if strip_literal(&input[at + 1..], rest).is_some() {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The position of the first double quote not escaped by a backslash.
#[inline]
fn closing_quote(input: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = memchr(b'"', &input[from..]) {
        let at = from + found;
        let backslashes = input[..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The end of an nginx upstream list: items without spaces or commas,
/// joined by `, ` or ` : `.
fn list_end(input: &[u8]) -> usize {
    let item_end = |from: usize| {
        input[from..]
            .iter()
            .position(|&b| b == b' ' || b == b',')
            .map_or(input.len(), |p| from + p)
    };
    let mut end = item_end(0);
    loop {
        let rest = &input[end..];
        let separator = if rest.starts_with(b", ") {
            2
        } else if rest.starts_with(b" : ") {
            3
        } else {
            return end;
        };
        let next = end + separator;
        if next >= input.len() || matches!(input[next], b' ' | b',') {
            return end;
        }
        end = item_end(next);
    }
}

/// One part of a definition before it is compiled: text or a field, with
/// the column (1-based) it starts at.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Field(Var),
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

/// nginx's quoted pieces (`'...' "..."`), joined, when the whole text is
/// made of them (and an optional `;`); `None` otherwise.
fn unquote_nginx(text: &str) -> Option<String> {
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

/// Apache's quoted format string (`"%h ... \"%r\" ..." nickname`), escapes
/// undone, when the text is one quoted string and an optional nickname or
/// `env=` condition.
fn unquote_apache(text: &str) -> Option<String> {
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
fn unescape_apache(text: &str) -> String {
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
fn apache_logs_end(format: &str) -> bool {
    format.contains("{end:")
}

fn template_error(format: &str, message: String, column: usize) -> TemplateError {
    TemplateError {
        message,
        column: Some(column),
        format: format.to_string(),
    }
}

/// Splits an nginx format into literals and `$variable` / `${variable}`.
fn tokenize_nginx(format: &str) -> Result<Vec<(Piece, usize)>, TemplateError> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = Vec::new();
    let mut literal_start = 1;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'$' {
            if literal.is_empty() {
                literal_start = at + 1;
            }
            literal.push(bytes[at]);
            at += 1;
            continue;
        }
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
        if !literal.is_empty() {
            pieces.push((Piece::Literal(std::mem::take(&mut literal)), literal_start));
        }
        pieces.push((Piece::Field(nginx_variable(name)), column));
        at = next;
    }
    if !literal.is_empty() {
        pieces.push((Piece::Literal(literal), literal_start));
    }
    Ok(pieces)
}

/// What an nginx variable holds; unknown ones are opaque.
fn nginx_variable(name: &str) -> Var {
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

/// Splits an Apache format into literals and `%` directives
/// (mod_log_config: `%[!][status,...][<|>][{argument}]letter`).
fn tokenize_apache(format: &str) -> Result<Vec<(Piece, usize)>, TemplateError> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = Vec::new();
    let mut literal_start = 1;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'%' {
            if literal.is_empty() {
                literal_start = at + 1;
            }
            literal.push(bytes[at]);
            at += 1;
            continue;
        }
        let column = at + 1;
        if bytes.get(at + 1) == Some(&b'%') {
            if literal.is_empty() {
                literal_start = column;
            }
            literal.push(b'%');
            at += 2;
            continue;
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
        if !literal.is_empty() {
            pieces.push((Piece::Literal(std::mem::take(&mut literal)), literal_start));
        }
        pieces.push((Piece::Field(var), column));
        at = cursor + length;
    }
    if !literal.is_empty() {
        pieces.push((Piece::Literal(literal), literal_start));
    }
    Ok(pieces)
}

/// `format[from..to]`, with `to` moved back to a character boundary and
/// clamped to the end.
fn snippet(format: &str, from: usize, to: usize) -> &str {
    let mut end = to.min(format.len());
    while !format.is_char_boundary(end) {
        end -= 1;
    }
    format.get(from..end).unwrap_or_default()
}

/// What an Apache directive holds. `Err(None)` for an unknown directive,
/// `Err(Some(message))` for a known one with a bad argument.
fn apache_directive(
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
fn apache_time(layout: &str) -> Result<Var, Option<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_stay_within_writable_years() {
        let cases = [
            ("seconds", "1699797603", 1, Some(1_699_797_603_000)),
            (
                "milliseconds",
                "1699797603123",
                1_000,
                Some(1_699_797_603_123),
            ),
            (
                "microseconds",
                "1699797603123456",
                1_000_000,
                Some(1_699_797_603_123),
            ),
            ("seconds in the year 10000", "253402300800", 1, None),
            ("more than a u64", "99999999999999999999999", 1, None),
        ];
        for (name, text, per_second, expected) in cases {
            assert_eq!(
                epoch_in_units(text.as_bytes(), per_second).map(|(millis, _)| millis),
                expected,
                "{name}"
            );
        }
    }

    /// The stock nginx `main` format of nginx.conf, as written there.
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

    struct Expect {
        client: &'static str,
        logged_at: Millis,
        offset: i32,
        status: u16,
        duration_us: Option<u64>,
        arrival: Millis,
        user_agent: Option<&'static str>,
        upstream: Option<&'static str>,
        host: Option<&'static str>,
    }

    const BASE: Expect = Expect {
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
        let cases: [(&str, &str, &str, Expect); 14] = [
            (
                "nginx combined as configured",
                NGINX_COMBINED_CONF,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#,
                Expect {
                    user_agent: Some("curl/8"),
                    ..BASE
                },
            ),
            (
                "nginx main with forwarded-for",
                NGINX_MAIN_CONF,
                r#"10.0.0.1 - bob [12/Nov/2023:15:00:03 +0100] "GET / HTTP/2.0" 502 5 "-" "a \x22quoted\x22 agent" "203.0.113.9""#,
                Expect {
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
                Expect {
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
                Expect {
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
                Expect {
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
                Expect {
                    logged_at: 1_699_797_603_123,
                    arrival: 1_699_797_603_123,
                    ..BASE
                },
            ),
            (
                "nginx unknown variables are opaque",
                r#"$remote_addr $ssl_protocol/$ssl_cipher [$time_local] "$request" $status"#,
                r#"10.0.0.1 TLSv1.3/TLS_AES_256_GCM_SHA384 [12/Nov/2023:14:00:03 +0000] "-" 400"#,
                Expect {
                    status: 400,
                    ..BASE
                },
            ),
            (
                "apache combined as in httpd.conf",
                APACHE_COMBINED_CONF,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET /a\"b HTTP/1.1" 200 5 "-" "ua \"x\"""#,
                Expect {
                    user_agent: Some(r#"ua \"x\""#),
                    ..BASE
                },
            ),
            (
                "apache %D keeps the arrival",
                r#"%h %l %u %t "%r" %>s %b %D"#,
                r#"10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 500 - 2500000"#,
                Expect {
                    status: 500,
                    duration_us: Some(2_500_000),
                    ..BASE
                },
            ),
            (
                "apache %T and vhost with port",
                r#"%v:%p %h %l %u %t "%r" %>s %O %T"#,
                r#"www.example:443 10.0.0.1 - - [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 9 3"#,
                Expect {
                    duration_us: Some(3_000_000),
                    host: Some("www.example"),
                    ..BASE
                },
            ),
            (
                "apache strftime time with fraction and %{ms}T",
                r#"%a [%{%d/%b/%Y %H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %s %{ms}T"#,
                r#"10.0.0.1 [12/Nov/2023 15:00:03.250 +0100] "GET / HTTP/1.1" 200 40"#,
                Expect {
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
                Expect {
                    duration_us: Some(2_000_000),
                    arrival: 1_699_797_603_000 - 2_000,
                    ..BASE
                },
            ),
            (
                "apache conditional header, %I, %% and %a over %h",
                r#"%h %a %t "%r" %>s %I 100%% "%!200,304{User-Agent}i""#,
                r#"host.example 10.0.0.1 [12/Nov/2023:14:00:03 +0000] "GET / HTTP/1.1" 200 312 100% "-""#,
                Expect { ..BASE },
            ),
            (
                "apache epoch seconds",
                r#"%{sec}t %a %>s"#,
                "1699797603 10.0.0.1 200",
                Expect { ..BASE },
            ),
        ];
        for (name, definition, line, expect) in cases {
            let template = Template::compile(definition).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (record, rest) = template
                .parse(line.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: {}", e.reason));
            assert!(rest.is_empty(), "{name}: left over {rest:?}");
            assert_eq!(record.client, expect.client.as_bytes(), "{name}");
            assert_eq!(record.logged_at, expect.logged_at, "{name}");
            assert_eq!(record.offset_seconds, expect.offset, "{name}");
            assert_eq!(record.status, expect.status, "{name}");
            assert_eq!(record.duration_us, expect.duration_us, "{name}");
            assert_eq!(record.arrival(), expect.arrival, "{name}");
            assert_eq!(
                record.user_agent,
                expect.user_agent.map(str::as_bytes),
                "{name}"
            );
            assert_eq!(
                record.upstream_addr,
                expect.upstream.map(str::as_bytes),
                "{name}"
            );
            assert_eq!(record.host, expect.host.map(str::as_bytes), "{name}");
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

    #[test]
    fn literals_are_found_at_their_first_whole_occurrence() {
        let cases = [
            ("at once", "abc - def", " - ", Some(3)),
            ("first byte repeats", "a b  - c", " - ", Some(4)),
            ("absent", "a b c", " - ", None),
            ("at the end", "abc\" ", "\" ", Some(3)),
            ("only a prefix at the end", "abc \"", "\" x", None),
        ];
        for (name, input, literal, expected) in cases {
            assert_eq!(
                find_literal(input.as_bytes(), literal.as_bytes()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn upstream_lists_end_after_their_last_item() {
        let cases = [
            ("one", "10.0.0.1:80 rest", 11),
            ("retries", "10.0.0.1:80, 10.0.0.2:80 rest", 24),
            ("redirect", "10.0.0.1:80 : 10.0.0.3:80 rest", 25),
            ("unix socket", "unix:/run/a.sock, 10.0.0.2:80", 29),
            ("dash", "- 0.001", 1),
        ];
        for (name, text, end) in cases {
            assert_eq!(list_end(text.as_bytes()), end, "{name}");
        }
    }
}
