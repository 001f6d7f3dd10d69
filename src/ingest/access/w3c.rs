//! W3C extended log files: IIS (space separated, IIS Advanced Logging's
//! quoted fields too) and Amazon CloudFront standard logs (tab separated).
//! The `#Fields:` directive decides the columns, and a file may hold
//! several (IIS writes the header again when the site restarts, with the
//! fields configured then): the parser keeps every layout met in its input
//! ([`W3cParser::apply_directive`], per parsing thread) and reads a line
//! with the latest layout whose number of fields it has.
//!
//! - Time: `date` and `time` are UTC (IIS and CloudFront both write UTC);
//!   `date-local`/`time-local` (IIS Advanced Logging) are the server's
//!   local time, read as UTC since the line carries no offset. Both servers
//!   write the line when the response is complete, so the arrival is that
//!   time less `time-taken`.
//! - `time-taken`: milliseconds for IIS; seconds (with a fraction) for
//!   CloudFront and for any value written with a decimal point.
//! - Without a `#Fields:` header, tab-separated lines are read in
//!   CloudFront's documented order (33 fields today; the legacy 24- and
//!   26-field lines are its first fields).
//! - The request is `cs-method cs-uri-stem` as written when they are
//!   unquoted neighbours separated by a space (IIS), else the URI stem
//!   alone (CloudFront, quoted fields: no path hint then).
//! - IIS's HTTP.sys error log (`%SystemRoot%\System32\LogFiles\HTTPERR`,
//!   `#Fields: date time c-ip c-port s-ip s-port cs-version cs-method
//!   cs-uri streamid sc-status s-siteid s-reason s-queuename`) holds the
//!   requests HTTP.sys answered itself, the 503s of an application pool
//!   that is down among them: read beside the site's W3C log they are one
//!   stream of requests. The application pool (`s-queuename`) is the
//!   upstream and the reason phrase (`s-reason`) the termination cause
//!   ([`http_sys_cause`]); a line without a status (a connection timer, a
//!   dropped connection) is no request and is skipped by name. Its time is
//!   when HTTP.sys answered, and it has no `time-taken`.

use std::sync::Arc;

use crate::ingest::record::{AccessRecord, LineError, optional, seconds_as_micros};
use crate::ingest::timestamps::parse_iso8601;
use crate::series::termination::{Termination, http_sys_cause};

/// What `--log-format` and the reports call these formats.
pub const NAME: &str = "w3c";
pub const IIS_NAME: &str = "iis-w3c";
pub const CLOUDFRONT_NAME: &str = "cloudfront";

pub const DEFINITION: &str = "W3C extended (IIS, CloudFront): the columns named by the #Fields: directive, e.g. #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// The skip reason of a `#Software`, `#Version`, `#Date` or `#Fields` line.
pub const DIRECTIVE_REASON: &str =
    "a W3C header directive (#Fields, #Version, #Date, #Software): not a request";

/// The skip reason of an HTTP.sys error-log line without a status: a
/// connection HTTP.sys closed (a timer, a dropped or abandoned connection)
/// without sending a response, not a request it answered.
pub const HTTP_SYS_NO_RESPONSE: &str = "an HTTP.sys error-log line without a status (a connection timed out, dropped or abandoned before any response): not counted as a request";

/// CloudFront's standard log fields in its documented order: the columns
/// of a tab-separated file without a `#Fields:` header.
pub const CLOUDFRONT_FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// The legacy CloudFront line lengths (fields) read with the first fields
/// of [`CLOUDFRONT_FIELDS`].
const CLOUDFRONT_LEGACY_LENGTHS: [usize; 2] = [24, 26];

/// Most fields a line may have (IIS offers about 30, CloudFront 33).
pub const MAX_FIELDS: usize = 64;

/// What a column holds, for the columns a request needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Date,
    Time,
    /// `date-local`, `time-local`.
    LocalDate,
    LocalTime,
    Client,
    Method,
    UriStem,
    Status,
    Bytes,
    TimeTaken,
    UserAgent,
    Referer,
    Username,
    Host,
    ForwardedFor,
    /// `cs-uri`: path and query in one field (the HTTP.sys error log).
    Uri,
    /// `s-reason`: HTTP.sys's reason phrase.
    Reason,
    /// `s-queuename`: the request queue, which is the application pool.
    Queue,
}

impl Column {
    fn of(name: &[u8]) -> Option<Column> {
        let name = name.to_ascii_lowercase();
        Some(match name.as_slice() {
            b"date" => Column::Date,
            b"time" => Column::Time,
            b"date-local" => Column::LocalDate,
            b"time-local" => Column::LocalTime,
            b"c-ip" => Column::Client,
            b"cs-method" => Column::Method,
            b"cs-uri-stem" => Column::UriStem,
            b"sc-status" => Column::Status,
            b"sc-bytes" => Column::Bytes,
            b"time-taken" => Column::TimeTaken,
            b"cs(user-agent)" => Column::UserAgent,
            b"cs(referer)" => Column::Referer,
            b"cs-username" => Column::Username,
            b"cs-host" | b"x-host-header" => Column::Host,
            b"x-forwarded-for" | b"cs(x-forwarded-for)" => Column::ForwardedFor,
            b"cs-uri" => Column::Uri,
            b"s-reason" => Column::Reason,
            b"s-queuename" => Column::Queue,
            _ => return None,
        })
    }
}

/// Number of [`Column`] values.
const COLUMNS: usize = 18;

/// One `#Fields:` layout: where each needed column is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct W3cLayout {
    /// Fields per line.
    len: usize,
    /// The index of each [`Column`] (by `as usize`), when present.
    at: [Option<u8>; COLUMNS],
    /// `time-taken` is seconds (CloudFront) rather than milliseconds (IIS).
    seconds: bool,
    /// CloudFront's fields (`x-edge-*`) are present.
    cloudfront: bool,
    /// IIS's own fields (`s-sitename`, `sc-win32-status`, `s-ip`, ...).
    iis: bool,
    /// HTTP.sys's error log (`s-reason` named): a line may hold no request.
    http_sys: bool,
}

impl W3cLayout {
    /// The layout of the field names of a `#Fields:` directive.
    pub fn from_names(names: &[u8]) -> Result<Self, &'static str> {
        let mut at = [None; COLUMNS];
        let mut len = 0;
        let (mut cloudfront, mut iis) = (false, false);
        for name in names
            .split(|b| b.is_ascii_whitespace())
            .filter(|n| !n.is_empty())
        {
            if len >= MAX_FIELDS {
                return Err("more than 64 fields in #Fields:");
            }
            if let Some(column) = Column::of(name) {
                at[column as usize].get_or_insert(len as u8);
            }
            let lower = name.to_ascii_lowercase();
            cloudfront |= lower.starts_with(b"x-edge-");
            iis |= matches!(
                lower.as_slice(),
                b"s-sitename" | b"s-computername" | b"s-ip" | b"sc-win32-status" | b"sc-substatus"
            );
            len += 1;
        }
        let has = |c: Column| at[c as usize].is_some();
        let has_time = (has(Column::Date) && has(Column::Time))
            || (has(Column::LocalDate) && has(Column::LocalTime));
        if !has_time || !has(Column::Status) {
            return Err("#Fields: names no date and time or no sc-status");
        }
        Ok(W3cLayout {
            len,
            at,
            seconds: cloudfront,
            cloudfront,
            iis,
            http_sys: has(Column::Reason),
        })
    }

    fn index(&self, column: Column) -> Option<usize> {
        self.at[column as usize].map(usize::from)
    }
}

/// The layouts met in one input, the latest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct W3cParser {
    layouts: Vec<Arc<W3cLayout>>,
}

/// The layouts of a headerless CloudFront file, built once.
static CLOUDFRONT_DEFAULT: std::sync::LazyLock<W3cParser> = std::sync::LazyLock::new(|| {
    let names: Vec<&[u8]> = CLOUDFRONT_FIELDS.as_bytes().split(|&b| b == b' ').collect();
    let mut layouts = Vec::new();
    for len in std::iter::once(names.len()).chain(CLOUDFRONT_LEGACY_LENGTHS) {
        let joined = names[..len].join(&b' ');
        if let Ok(layout) = W3cLayout::from_names(&joined) {
            layouts.push(Arc::new(layout));
        }
    }
    W3cParser { layouts }
});

impl Default for W3cParser {
    /// CloudFront's documented layouts (for files without a header).
    fn default() -> Self {
        CLOUDFRONT_DEFAULT.clone()
    }
}

impl W3cParser {
    /// The parser for an input whose first lines are `lines`: the layouts
    /// of their `#Fields:` directives, else CloudFront's.
    pub fn from_head(lines: &[&[u8]]) -> Self {
        let mut parser = W3cParser {
            layouts: Vec::new(),
        };
        for line in lines {
            parser.apply_directive(line);
        }
        if parser.layouts.is_empty() {
            return W3cParser::default();
        }
        parser
    }

    /// The parser of one `#Fields:` directive given as `--log-format`: a
    /// piece of a W3C file read without the file's head (a `split -l`
    /// piece, a Spark partition) has no directive of its own.
    pub fn from_fields_directive(line: &[u8]) -> Result<Self, &'static str> {
        let names = strip_prefix_ignore_case(line.trim_ascii(), b"#Fields:")
            .ok_or("expected a W3C directive starting with #Fields:")?;
        let layout = W3cLayout::from_names(names)?;
        Ok(W3cParser {
            layouts: vec![Arc::new(layout)],
        })
    }

    /// This parser (a layout given with `--log-format`) with the
    /// `#Fields:` directives of an input's first `lines` applied after it,
    /// as a parsing thread applies those it meets.
    pub fn with_head(&self, lines: &[&[u8]]) -> Self {
        let mut parser = self.clone();
        for line in lines {
            parser.apply_directive(line);
        }
        parser
    }

    /// Takes a `#Fields:` line's layout as the current one (other
    /// directives change nothing).
    pub fn apply_directive(&mut self, line: &[u8]) {
        let Some(names) = strip_prefix_ignore_case(line, b"#Fields:") else {
            return;
        };
        let Ok(layout) = W3cLayout::from_names(names) else {
            return;
        };
        if self.layouts.first().is_some_and(|l| **l == layout) {
            return;
        }
        self.layouts.retain(|l| **l != layout);
        self.layouts.insert(0, Arc::new(layout));
    }

    /// The format's name for reports: `cloudfront`, `iis-w3c` or `w3c`.
    pub fn flavor_name(&self) -> &'static str {
        match self.layouts.first() {
            Some(layout) if layout.cloudfront => CLOUDFRONT_NAME,
            Some(layout) if layout.iis => IIS_NAME,
            _ => NAME,
        }
    }

    /// Whether the input is HTTP.sys's error log (`HTTPERR`): the requests
    /// the server itself refused or dropped, not a host's traffic.
    pub fn is_http_sys_error_log(&self) -> bool {
        self.layouts.first().is_some_and(|layout| layout.http_sys)
    }

    /// Whether the layouts name a user agent.
    pub fn has_user_agent(&self) -> bool {
        self.layouts
            .iter()
            .any(|l| l.index(Column::UserAgent).is_some())
    }

    /// Whether the layouts name `time-taken`.
    pub fn has_request_time(&self) -> bool {
        self.layouts
            .iter()
            .any(|l| l.index(Column::TimeTaken).is_some())
    }

    /// Parses one line.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
        if line.first() == Some(&b'#') {
            return Err(LineError::directive(DIRECTIVE_REASON));
        }
        let delimiter = if memchr::memchr(b'\t', line).is_some() {
            b'\t'
        } else {
            b' '
        };
        let mut fields: [&[u8]; MAX_FIELDS] = [&[]; MAX_FIELDS];
        let mut spans: [usize; MAX_FIELDS] = [0; MAX_FIELDS];
        let count = split_fields(line, delimiter, &mut fields, &mut spans)?;
        let layout = self
            .layouts
            .iter()
            .find(|layout| layout.len == count)
            .ok_or(LineError::new(
                "expected as many fields as the #Fields: header names",
            ))?;
        read(layout, line, &fields[..count], &spans[..count], delimiter)
    }
}

fn strip_prefix_ignore_case<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

/// Splits `line` at `delimiter` into `fields` (a field that starts with a
/// double quote runs to the closing quote: IIS Advanced Logging), with each
/// field's start offset in `spans`; the number of fields.
fn split_fields<'a>(
    line: &'a [u8],
    delimiter: u8,
    fields: &mut [&'a [u8]; MAX_FIELDS],
    spans: &mut [usize; MAX_FIELDS],
) -> Result<usize, LineError> {
    let mut count = 0;
    let mut at = 0;
    loop {
        if count >= MAX_FIELDS {
            return Err(LineError::new("expected at most 64 fields"));
        }
        let rest = &line[at..];
        let (field, used) = if let Some(quoted) = rest.strip_prefix(b"\"") {
            let close =
                memchr::memchr(b'"', quoted).ok_or(LineError::new("unterminated quoted field"))?;
            (&quoted[..close], close + 2)
        } else {
            let end = memchr::memchr(delimiter, rest).unwrap_or(rest.len());
            (&rest[..end], end)
        };
        spans[count] = at;
        fields[count] = field;
        count += 1;
        at += used;
        match line.get(at) {
            Some(&b) if b == delimiter => at += 1,
            None => return Ok(count),
            Some(_) => return Err(LineError::new("expected a separator after a quoted field")),
        }
        if at >= line.len() {
            // A trailing separator ends the line with an empty field, which
            // counts towards the bound like any other.
            if count >= MAX_FIELDS {
                return Err(LineError::new("expected at most 64 fields"));
            }
            fields[count] = &[];
            spans[count] = at;
            return Ok(count + 1);
        }
    }
}

/// Builds the record of a line split into `fields`.
fn read<'a>(
    layout: &W3cLayout,
    line: &'a [u8],
    fields: &[&'a [u8]],
    spans: &[usize],
    delimiter: u8,
) -> Result<(AccessRecord<'a>, &'a [u8]), LineError> {
    let field = |column: Column| layout.index(column).map(|i| fields[i]);
    let (date, time) = match (field(Column::Date), field(Column::Time)) {
        (Some(date), Some(time)) => (date, time),
        _ => (
            field(Column::LocalDate).unwrap_or_default(),
            field(Column::LocalTime).unwrap_or_default(),
        ),
    };
    let logged_at = date_time(date, time).ok_or(LineError::new(
        "expected the date and time as 2024-03-01 and 10:00:00",
    ))?;
    let status_field = field(Column::Status).unwrap_or_default();
    if layout.http_sys && status_field == b"-" {
        // The format's own line without a request, like a directive: it
        // tells sniffing this is HTTP.sys's log, and is skipped by name.
        return Err(LineError::directive(HTTP_SYS_NO_RESPONSE));
    }
    let status = std::str::from_utf8(status_field)
        .ok()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..=999).contains(s))
        .ok_or(LineError::new("expected sc-status as a 3-digit number"))?;
    let mut record = AccessRecord::new(logged_at, 0, status);
    record.logged_at_completion = true;
    if let Some(taken) = field(Column::TimeTaken).and_then(optional) {
        record.duration_us = Some(time_taken(taken, layout.seconds)?);
    }
    if let Some(client) = field(Column::Client) {
        record.client = client;
    }
    if let Some(user) = field(Column::Username) {
        record.remote_user = user;
    }
    record.bytes = field(Column::Bytes)
        .and_then(optional)
        .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok());
    record.user_agent = field(Column::UserAgent).and_then(optional);
    record.referer = field(Column::Referer).and_then(optional);
    record.host = field(Column::Host).and_then(optional);
    record.forwarded_for = field(Column::ForwardedFor).and_then(optional);
    if layout.http_sys {
        // HTTP.sys answered itself: the application pool (its request
        // queue) is the upstream, the reason phrase how the request ended.
        record.upstream_addr = field(Column::Queue).and_then(optional);
        record.termination = field(Column::Reason)
            .and_then(|reason| http_sys_cause(reason).map(|cause| Termination::new(cause, reason)));
    }
    record.request = match (layout.index(Column::Method), layout.index(Column::UriStem)) {
        // `GET /default.aspx` as written, when the two are neighbours.
        (Some(method), Some(stem))
            if stem == method + 1
                && delimiter == b' '
                && spans[method] + fields[method].len() + 1 == spans[stem] =>
        {
            let end = spans[stem] + fields[stem].len();
            line.get(spans[method]..end).unwrap_or(fields[stem])
        }
        (_, Some(stem)) => fields[stem],
        // `GET /cart?id=3` as the HTTP.sys error log writes it.
        _ => match (layout.index(Column::Method), layout.index(Column::Uri)) {
            (Some(method), Some(uri))
                if uri == method + 1
                    && delimiter == b' '
                    && spans[method] + fields[method].len() + 1 == spans[uri] =>
            {
                let end = spans[uri] + fields[uri].len();
                line.get(spans[method]..end).unwrap_or(fields[uri])
            }
            (_, Some(uri)) => fields[uri],
            _ => b"-",
        },
    };
    Ok((record, &[]))
}

/// `time-taken` in microseconds: milliseconds, or seconds when the layout
/// says so or the value has a decimal point.
fn time_taken(text: &[u8], seconds: bool) -> Result<u64, LineError> {
    let error = LineError::new("expected time-taken as a number");
    if seconds || text.contains(&b'.') {
        return match seconds_as_micros(text) {
            Ok(([], us)) => Ok(us),
            _ => Err(error),
        };
    }
    if text.is_empty() || text.len() > 15 || !text.iter().all(u8::is_ascii_digit) {
        return Err(error);
    }
    let ms = text
        .iter()
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
    Ok(ms * 1000)
}

/// `2024-03-01` and `10:00:00` (a fraction allowed) as UTC milliseconds.
fn date_time(date: &[u8], time: &[u8]) -> Option<i64> {
    const MAX_STAMP: usize = 40;
    if date.len() != 10 || time.len() < 8 || date.len() + 1 + time.len() > MAX_STAMP {
        return None;
    }
    let mut stamp = [0u8; MAX_STAMP];
    stamp[..10].copy_from_slice(date);
    stamp[10] = b'T';
    stamp[11..11 + time.len()].copy_from_slice(time);
    parse_iso8601(&stamp[..11 + time.len()]).map(|(at, _)| at)
}

#[cfg(test)]
mod tests;
