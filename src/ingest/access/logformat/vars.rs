//! The vocabulary a `--log-format` definition compiles to, whichever
//! server's language it is written in: the known variables ([`Var`]), the
//! fields and literals of a template, and the compile errors.

use chrono::format::Item as TimeItem;

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
    pub(super) fn hint(&self) -> &'static str {
        "give the log_format / LogFormat definition from the server's configuration, or a preset name (see `postmortem --help`)"
    }
}

/// What a field holds. Times, numbers and lists are parsed; text is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Var {
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
    pub(super) fn is_list(&self) -> bool {
        matches!(
            self,
            Var::UpstreamAddr | Var::UpstreamStatus | Var::UpstreamTime | Var::UpstreamList
        )
    }

    /// Whether the field finds its own end, so another field may follow it
    /// with no literal text between them.
    pub(super) fn is_self_delimiting(&self) -> bool {
        matches!(self, Var::TimeClf | Var::TimeClfBracketed)
    }

    pub(super) fn is_time(&self) -> bool {
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

    pub(super) fn is_duration(&self) -> bool {
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
    pub(super) fn expected(&self) -> &'static str {
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
    pub(super) fn expected_before(&self) -> &'static str {
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
pub(super) fn time_rank(var: &Var) -> u8 {
    match var {
        Var::TimeStrftime(_) => 1,
        Var::TimeClf | Var::TimeClfBracketed => 2,
        Var::TimeIso8601 => 3,
        Var::TimeEpochDecimal | Var::TimeEpoch { .. } => 4,
        _ => 0,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Field {
    pub(super) var: Var,
    /// Between double quotes in the template: ends at the first unescaped
    /// quote and may hold spaces.
    pub(super) quoted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Item {
    Literal(Box<[u8]>),
    Field(Field),
}

/// One part of a definition before it is compiled: text or a field, with
/// the column (1-based) it starts at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Literal(Vec<u8>),
    Field(Var),
}

/// Splits `format` into pieces: the text between `sigil`s is literal, and
/// `directive` reads what starts at a `sigil` (byte `at`), adds it to the
/// pieces and returns where it ends. Apache and nginx formats differ only
/// in their sigil and directives.
pub(super) fn tokenize(
    format: &str,
    sigil: u8,
    mut directive: impl FnMut(&mut Pieces, usize) -> Result<usize, TemplateError>,
) -> Result<Vec<(Piece, usize)>, TemplateError> {
    let bytes = format.as_bytes();
    let mut pieces = Pieces::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == sigil {
            at = directive(&mut pieces, at)?;
        } else {
            pieces.literal_byte(at + 1, bytes[at]);
            at += 1;
        }
    }
    Ok(pieces.finish())
}

/// The pieces a tokenizer splits a format into, each with the 1-based
/// column it starts at: literal bytes gather into one literal until a field
/// (or the end) closes it, the same for Apache and nginx formats.
pub(super) struct Pieces {
    pieces: Vec<(Piece, usize)>,
    literal: Vec<u8>,
    literal_start: usize,
}

impl Pieces {
    pub(super) fn new() -> Self {
        Pieces {
            pieces: Vec::new(),
            literal: Vec::new(),
            literal_start: 1,
        }
    }

    /// Adds `byte` of literal text, written at `column`.
    pub(super) fn literal_byte(&mut self, column: usize, byte: u8) {
        if self.literal.is_empty() {
            self.literal_start = column;
        }
        self.literal.push(byte);
    }

    /// Closes the literal so far and adds `var`, written at `column`.
    pub(super) fn field(&mut self, column: usize, var: Var) {
        self.close_literal();
        self.pieces.push((Piece::Field(var), column));
    }

    /// Every piece, the last literal closed.
    pub(super) fn finish(mut self) -> Vec<(Piece, usize)> {
        self.close_literal();
        self.pieces
    }

    fn close_literal(&mut self) {
        if !self.literal.is_empty() {
            let literal = std::mem::take(&mut self.literal);
            self.pieces
                .push((Piece::Literal(literal), self.literal_start));
        }
    }
}

pub(super) fn template_error(format: &str, message: String, column: usize) -> TemplateError {
    TemplateError {
        message,
        column: Some(column),
        format: format.to_string(),
    }
}
