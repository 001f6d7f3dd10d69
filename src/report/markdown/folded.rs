//! The inputs appendix's rows: one per input, except that the files of one
//! log (the same folder and the same name pattern: AWS's
//! `<account>_elasticloadbalancing_<region>_<lb-id>_<time>_<ip>_<rand>.log.gz`,
//! one file per node and 5 minutes; a logrotate series `access.log`,
//! `access.log.1`, `access.log.2.gz`) share one row that names the pattern,
//! the file count and their bytes, so a day of ALB logs is one row, not 288.
//! A file with anything to say (skipped lines, an error, a note, a
//! duplicate, an overlap, lines outside `--since`/`--until`) keeps its own
//! row. Markdown only: the JSON lists every file.

use std::collections::HashMap;
use std::path::Path;

use crate::ingest::{InputKind, InputStats};
use crate::timefmt::Millis;

/// Files of one log fold into one row from this many on: two rows read as
/// easily as one, and two names that share a pattern are as often two
/// hosts' logs (`web1.access.log`, `web2.access.log`) as one log's files.
pub const FOLD_MIN_FILES: usize = 3;

/// Compression extensions the reader decodes (by content; these are the
/// names the files are given).
const COMPRESSION_EXTENSIONS: [&str; 5] = [".gz", ".zst", ".zstd", ".bz2", ".xz"];

/// Where one file name's parts split: AWS and CloudFront names use all three.
fn is_separator(c: char) -> bool {
    matches!(c, '_' | '.' | '-')
}

/// One row of the inputs table.
#[derive(Debug)]
pub enum InputRow<'a> {
    One(&'a InputStats),
    Folded(FoldedLog<'a>),
}

/// The files of one log, folded into one row.
#[derive(Debug)]
pub struct FoldedLog<'a> {
    /// The folder and the name pattern, `*` where the names differ.
    pub pattern: String,
    pub files: Vec<&'a InputStats>,
}

impl FoldedLog<'_> {
    pub fn lines(&self) -> u64 {
        self.files.iter().map(|input| input.lines).sum()
    }

    pub fn parsed(&self) -> u64 {
        self.files.iter().map(|input| input.parsed).sum()
    }

    /// Their bytes on disk (compressed as stored), when every size is known.
    pub fn bytes(&self) -> Option<u64> {
        self.files.iter().map(|input| input.size_on_disk).sum()
    }

    pub fn first(&self) -> Option<Millis> {
        self.files.iter().filter_map(|input| input.first).min()
    }

    pub fn last(&self) -> Option<Millis> {
        self.files.iter().filter_map(|input| input.last).max()
    }

    /// The kind and format every file of the log has.
    pub fn sample(&self) -> &InputStats {
        self.files[0]
    }
}

/// Whether an input may share a row: nothing about it needs saying.
fn foldable(input: &InputStats) -> bool {
    input.kind != InputKind::Unknown
        && input.skipped == 0
        && input.out_of_range == 0
        && input.error.is_none()
        && input.note.is_none()
        && input.duplicate_of.is_none()
        && input.overlap_lines == 0
        && input.overlap_with.is_none()
        && input.other_formats.is_empty()
}

/// A file name taken apart: the name without its rotation number and
/// compression extension (`access.log` of `access.log.2.gz`), split at
/// `_`, `.` and `-`, and what was cut off the end.
#[derive(Debug, PartialEq, Eq)]
struct NameParts<'a> {
    tokens: Vec<&'a str>,
    /// The separator before each token but the first.
    separators: String,
    /// The rotation number and compression extension (`.2.gz`), or "".
    tail: &'a str,
}

fn name_parts(name: &str) -> NameParts<'_> {
    let mut base = name;
    if let Some(extension) = COMPRESSION_EXTENSIONS
        .iter()
        .find(|extension| base.len() > extension.len() && base.ends_with(*extension))
    {
        base = &base[..base.len() - extension.len()];
    }
    // Rotation numbers: `.1`, `.2` (logrotate), `-20240611` (dateext).
    while let Some(cut) = base.rfind(['.', '-']) {
        let number = &base[cut + 1..];
        if cut == 0 || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        base = &base[..cut];
    }
    let mut tokens = Vec::new();
    let mut separators = String::new();
    let mut start = 0;
    for (at, c) in base.char_indices().filter(|&(_, c)| is_separator(c)) {
        tokens.push(&base[start..at]);
        separators.push(c);
        start = at + c.len_utf8();
    }
    tokens.push(&base[start..]);
    NameParts {
        tokens,
        separators,
        tail: &name[base.len()..],
    }
}

/// The pattern of names that split alike: the tokens they share from the
/// start and from the end, `*` for everything between; `*` for a tail
/// that differs. `None` when the names share no first token (`web1.log`,
/// `web2.log` are two logs, not one).
fn pattern_of(names: &[NameParts<'_>]) -> Option<String> {
    let first = names.first()?;
    let count = first.tokens.len();
    let same = |index: usize| names.iter().all(|n| n.tokens[index] == first.tokens[index]);
    let prefix = (0..count).take_while(|&i| same(i)).count();
    if prefix == 0 {
        return None;
    }
    let separators: Vec<char> = first.separators.chars().collect();
    let mut pattern = String::new();
    let push_tokens = |pattern: &mut String, range: std::ops::Range<usize>| {
        for index in range {
            if index > 0 {
                pattern.push(separators[index - 1]);
            }
            pattern.push_str(first.tokens[index]);
        }
    };
    push_tokens(&mut pattern, 0..prefix);
    if prefix < count {
        let suffix = (prefix..count).rev().take_while(|&i| same(i)).count();
        pattern.push(separators[prefix - 1]);
        pattern.push('*');
        push_tokens(&mut pattern, count - suffix..count);
    }
    let tails_equal = names.iter().all(|n| n.tail == first.tail);
    if tails_equal {
        pattern.push_str(first.tail);
    } else if !pattern.ends_with('*') {
        pattern.push('*');
    }
    Some(pattern)
}

/// The inputs as table rows, in the order given: a folded log's row where
/// its first file was.
pub fn fold_inputs(inputs: &[InputStats]) -> Vec<InputRow<'_>> {
    // Candidates grouped by folder, kind, format and the shape of the name.
    type Key<'a> = (&'a str, &'static str, Option<&'static str>, usize, String);
    let mut groups: HashMap<Key<'_>, Vec<usize>> = HashMap::new();
    let mut parts: Vec<Option<NameParts<'_>>> = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let path = Path::new(&input.path);
        let (Some(folder), Some(name)) = (
            path.parent().and_then(Path::to_str),
            path.file_name().and_then(|n| n.to_str()),
        ) else {
            parts.push(None);
            continue;
        };
        if !foldable(input) || input.path == "-" {
            parts.push(None);
            continue;
        }
        let name_parts = name_parts(name);
        let key = (
            folder,
            input.kind.name(),
            input.format,
            name_parts.tokens.len(),
            name_parts.separators.clone(),
        );
        groups.entry(key).or_default().push(index);
        parts.push(Some(name_parts));
    }
    // Which group each input's row belongs to, decided per group.
    let mut folded_at: Vec<Option<usize>> = vec![None; inputs.len()];
    let mut folds: Vec<FoldedLog<'_>> = Vec::new();
    let mut ordered: Vec<Vec<usize>> = groups.into_values().collect();
    ordered.sort_unstable();
    for members in ordered {
        if members.len() < FOLD_MIN_FILES {
            continue;
        }
        let names: Vec<NameParts<'_>> = members
            .iter()
            .filter_map(|&index| parts[index].take())
            .collect();
        let Some(name_pattern) = pattern_of(&names) else {
            continue;
        };
        // The folder as the path was given, then the name's pattern.
        let path = &inputs[members[0]].path;
        let name = Path::new(path)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let folder = path.strip_suffix(name).unwrap_or_default();
        let pattern = format!("{folder}{name_pattern}");
        for &index in &members {
            folded_at[index] = Some(folds.len());
        }
        folds.push(FoldedLog {
            pattern,
            files: members.iter().map(|&index| &inputs[index]).collect(),
        });
    }
    let mut folds: Vec<Option<FoldedLog<'_>>> = folds.into_iter().map(Some).collect();
    let mut rows = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        match folded_at[index] {
            None => rows.push(InputRow::One(input)),
            Some(fold) => {
                if let Some(log) = folds[fold].take() {
                    rows.push(InputRow::Folded(log));
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests;
