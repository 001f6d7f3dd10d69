//! The dialect of a metrics CSV, found from its first lines (separator, a
//! `sep=` preamble), and the rows handed to polars: those whose quotes are
//! balanced, so a damaged row is skipped instead of read wrongly.

/// Separator and preamble of a CSV, found from its first lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvDialect {
    pub separator: u8,
    /// A first line `sep=;` (written for spreadsheets) precedes the header.
    pub separator_line: bool,
}

/// Share of sampled cells that must read as times (or numbers) for a column
/// to be taken as the time (or a numeric) column.
pub const MIN_CONTENT_SHARE: f64 = 0.9;

/// The separator a header line uses, if it looks like a CSV header: `;`
/// when it has more of those than commas, else `,`; at least two fields.
pub(super) fn header_separator(header: &[u8]) -> Option<u8> {
    let count = |sep: u8| count_outside_quotes(header, sep);
    let (semicolons, commas) = (count(b';'), count(b','));
    let separator = if semicolons > commas { b';' } else { b',' };
    (count(separator) >= 1).then_some(separator)
}

pub(super) fn count_outside_quotes(line: &[u8], separator: u8) -> usize {
    let mut in_quotes = false;
    let mut count = 0;
    for &b in line {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == separator && !in_quotes {
            count += 1;
        }
    }
    count
}

/// Whether `lines` (non-empty, without line endings) start like a CSV: a
/// header and rows with the same number of fields.
pub fn sniff(lines: &[&[u8]]) -> Option<CsvDialect> {
    let (separator_line, rest) = match lines.first() {
        Some(first) if first.starts_with(b"sep=") && first.len() == 5 => (true, &lines[1..]),
        _ => (false, lines),
    };
    let header = rest.first()?;
    // A JSON document or JSON lines (Azure, Cloudflare, GCP exports) is
    // never a CSV, even when its commas line up.
    if matches!(
        header.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) {
        return None;
    }
    let separator = if separator_line {
        lines[0][4]
    } else {
        header_separator(header)?
    };
    let fields = count_outside_quotes(header, separator);
    if fields == 0 || rest.len() < 2 {
        return None;
    }
    let rows = &rest[1..];
    let consistent = rows
        .iter()
        .filter(|row| count_outside_quotes(row, separator) == fields)
        .count();
    (consistent as f64 >= MIN_CONTENT_SHARE * rows.len() as f64).then_some(CsvDialect {
        separator,
        separator_line,
    })
}

/// The lines of a CSV as polars is given them: data rows with balanced
/// quotes, and the rows left out because a quote in them is not closed.
#[cfg(feature = "tables")]
#[derive(Debug, Default, PartialEq)]
pub(super) struct RowLines {
    /// 1-based line numbers of the data rows handed to polars.
    pub(super) kept: Vec<u64>,
    /// 1-based line numbers of the rows left out.
    pub(super) unclosed: Vec<u64>,
    /// The bytes handed to polars: the input without the rows left out.
    pub(super) table: Vec<u8>,
}

/// Whether a line has an odd number of quotes: a quoted value that does
/// not end on its line.
#[cfg(feature = "tables")]
pub(super) fn has_unclosed_quote(line: &[u8]) -> bool {
    memchr::memchr_iter(b'"', line).count() % 2 == 1
}

/// Splits the data rows (non-empty lines after the header) into those that
/// go to polars and those with an unclosed quote. polars' reader splits rows
/// counting every quote but reads fields honouring only quotes that open a
/// field, so such a row (`4",3` and, later, `,"`) made it panic (found by
/// fuzzing); a metrics export has one row per line, and a quote left open is
/// a damaged row (or the cut last line of a file being written). An
/// unclosed quote in the header is an error naming its line.
#[cfg(feature = "tables")]
pub(super) fn row_lines(bytes: &[u8], dialect: CsvDialect) -> Result<RowLines, String> {
    let mut rows = RowLines::default();
    let mut preamble = 1 + usize::from(dialect.separator_line);
    let mut start = 0;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let end = (start + raw.len() + 1).min(bytes.len());
        let number = index as u64 + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (is_row, is_header) = if line.is_empty() {
            (false, false)
        } else if preamble > 0 {
            preamble -= 1;
            (false, preamble == 0)
        } else {
            (true, false)
        };
        if is_header && has_unclosed_quote(line) {
            return Err(format!(
                "line {number}: the header has a quote that is not closed; close it or remove it"
            ));
        }
        if is_row && has_unclosed_quote(line) {
            rows.unclosed.push(number);
        } else {
            if is_row {
                rows.kept.push(number);
            }
            rows.table.extend_from_slice(&bytes[start..end]);
        }
        start = end;
    }
    Ok(rows)
}

/// Why a separator from a `sep=` line cannot be used, if it cannot: polars
/// takes one ASCII byte that is not the quote or a line ending.
#[cfg(feature = "tables")]
pub(super) fn unusable_separator(separator: u8) -> Option<String> {
    (!separator.is_ascii() || matches!(separator, b'"' | b'\n' | b'\r')).then(|| {
        format!(
            "line 1: the separator 0x{separator:02x} given by 'sep=' cannot separate fields (expected one ASCII character that is not '\"' or a line ending); fix the sep= line"
        )
    })
}

#[cfg(test)]
pub(in crate::ingest::metrics) mod tests {
    use super::*;

    /// The non-empty lines of `text`, as sniffing samples them.
    pub(in crate::ingest::metrics) fn lines(text: &str) -> Vec<&[u8]> {
        text.lines()
            .map(str::as_bytes)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn sniffing_finds_separators_and_refuses_logs() {
        let cases = [
            (
                "comma",
                "time,value\n2023-11-12T14:00:00Z,1\n",
                Some((b',', false)),
            ),
            (
                "semicolon",
                "\"Time\";\"web01\"\n2023-11-12 14:00:00;1,5\n",
                Some((b';', false)),
            ),
            (
                "sep line",
                "sep=;\nTime;a\n2023-11-12 14:00:00;1\n",
                Some((b';', true)),
            ),
            (
                "syslog",
                "Nov 12 14:00:03 web01 kernel: a, b\nNov 12 14:00:04 web01 kernel: c\n",
                None,
            ),
            ("header only", "time,value\n", None),
        ];
        for (name, text, expected) in cases {
            let found = sniff(&lines(text)).map(|d| (d.separator, d.separator_line));
            assert_eq!(found, expected, "{name}");
        }
    }
}
