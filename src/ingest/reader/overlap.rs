//! Rotations that overlap: the last lines of one rotation of a log are the
//! first lines of another (a `copytruncate` that copied lines the live file
//! kept, a rotation copied by hand), so they would be counted twice.
//! Resolved by reading the older file only up to where the overlap starts:
//! its line numbers stay those of the file.
//!
//! The rule, exactly: file X and file Y are rotations of one log (same
//! name once rotation suffixes are removed); the last `k` lines of X, byte
//! for byte, are the first `k` lines of Y, with `k` at least
//! [`MIN_OVERLAP_LINES`] and the overlap within the last
//! [`OVERLAP_WINDOW_BYTES`] of X. X is then read without those `k` lines.
//!
//! An uncompressed X is compared before parsing ([`find`]: its tail is one
//! read at its end). A compressed X's tail is only known once it is
//! decoded, so it is compared while it is read: the reader holds back its
//! last [`OVERLAP_WINDOW_BYTES`] of whole lines from the parsers and, at
//! the end, compares them with the other rotations' heads
//! ([`overlap_in_tail`]) and hands on only what precedes the overlap; no
//! file is decoded twice. Y's head is read only as far as the comparison
//! needs: its first line, then the bytes an overlap would cover.
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use memchr::memchr_iter;

use super::{Source, open};

/// Bytes of each end compared: the head of every rotation (decoded) and
/// the tail of the uncompressed ones. An overlap is the lines a server
/// wrote in the moments a rotation took, far below this; one that fills
/// the whole window is reported as not resolved rather than guessed at.
pub const OVERLAP_WINDOW_BYTES: usize = 4 << 20;

/// The fewest lines taken for an overlap. Two requests of one client in
/// one second can give two identical lines, so one or two equal lines at
/// a boundary may be real requests; three in a row, byte for byte at the
/// end of one file and the start of the other, are a copy.
pub const MIN_OVERLAP_LINES: u64 = 3;

/// An uncompressed rotation whose last lines are another rotation's first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// The index of the file read short, in the sources.
    pub file: usize,
    /// The bytes of it read: up to where the overlap starts.
    pub keep_bytes: u64,
    /// The lines at its end left out (read in `other`).
    pub lines: u64,
    /// The index of the file whose first lines they are.
    pub other: usize,
    /// Whether the overlap fills the window, so it may run further back
    /// than could be compared: then nothing is left out.
    pub fills_window: bool,
}

/// The overlaps among `sources`, whose `log` gives the log each belongs
/// to (rotations of one log share it). At most one per file.
pub fn find(sources: &[Source], log: impl Fn(&Path) -> PathBuf) -> Vec<Overlap> {
    let files: Vec<(usize, &Path, PathBuf)> = sources
        .iter()
        .enumerate()
        .filter_map(|(i, source)| match source {
            Source::File(path) => Some((i, path.as_path(), log(path))),
            Source::Stdin => None,
        })
        .collect();
    let mut found = Vec::new();
    for (x, x_path, x_log) in &files {
        let siblings: Vec<&(usize, &Path, PathBuf)> = files
            .iter()
            .filter(|(y, _, y_log)| y != x && y_log == x_log)
            .collect();
        if siblings.is_empty() {
            continue;
        }
        let Ok(Some((tail, tail_start))) = plain_tail(x_path) else {
            continue;
        };
        for (y, y_path, _) in siblings {
            // A pair is resolved once: Y read short against X would leave
            // out lines X no longer holds.
            if found
                .iter()
                .any(|o: &Overlap| o.file == *y && o.other == *x)
            {
                continue;
            }
            let Ok(Some((at, lines))) = overlap_with_head(&tail, y_path) else {
                continue;
            };
            if lines >= MIN_OVERLAP_LINES {
                found.push(Overlap {
                    file: *x,
                    keep_bytes: tail_start + at as u64,
                    lines,
                    other: *y,
                    fills_window: at == 0 && tail_start > 0,
                });
                break;
            }
        }
    }
    found
}

/// An overlap found at the end of a compressed file: the bytes of its
/// held-back tail to keep, the lines left out, and the other file's
/// index among the candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TailOverlap {
    pub keep_bytes: usize,
    pub lines: u64,
    pub other: usize,
}

/// The overlap of `tail` (the last whole lines of a file, at most
/// [`OVERLAP_WINDOW_BYTES`]) with the head of the first of `candidates`
/// (other rotations of its log) that starts with at least
/// [`MIN_OVERLAP_LINES`] of its last lines; `None` when none does.
pub fn overlap_in_tail(tail: &[u8], candidates: &[&Path]) -> Option<TailOverlap> {
    candidates.iter().enumerate().find_map(|(other, path)| {
        let (at, lines) = overlap_with_head(tail, path).ok()??;
        (lines >= MIN_OVERLAP_LINES).then_some(TailOverlap {
            keep_bytes: at,
            lines,
            other,
        })
    })
}

/// The longest run of whole lines that ends `tail` and starts the decoded
/// file at `path`: where it starts in `tail` and its lines. Reads the
/// file's first line, and more only when that line ends a line of `tail`
/// start: then as many bytes as the longest such run.
fn overlap_with_head(tail: &[u8], path: &Path) -> io::Result<Option<(usize, u64)>> {
    let opened = open(&Source::File(path.to_path_buf()))?;
    let mut reader = io::BufReader::new(opened.reader.take(OVERLAP_WINDOW_BYTES as u64));
    let mut head = Vec::new();
    io::BufRead::read_until(&mut reader, b'\n', &mut head)?;
    if head.last() != Some(&b'\n') {
        return Ok(None);
    }
    // The earliest line of `tail` that starts with `head` (a whole line):
    // one substring search, not a compare at each of the window's ~17,000
    // line starts (that took ~3 ms a candidate, paid by every compressed
    // rotation for each of its siblings, while the parsers waited).
    let Some(earliest) =
        memchr::memmem::find_iter(tail, &head).find(|&at| at == 0 || tail[at - 1] == b'\n')
    else {
        return Ok(None);
    };
    let wanted = (tail.len() - earliest) as u64;
    reader
        .take(wanted.saturating_sub(head.len() as u64))
        .read_to_end(&mut head)?;
    Ok(overlap_at(tail, &head))
}

/// Where each line of `tail` starts.
fn line_starts(tail: &[u8]) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(
        memchr_iter(b'\n', tail)
            .map(|at| at + 1)
            .filter(|&at| at < tail.len()),
    )
}

/// Where in `tail` the longest run of whole lines that ends `tail` and
/// starts `head` begins, and how many lines it holds.
fn overlap_at(tail: &[u8], head: &[u8]) -> Option<(usize, u64)> {
    for start in line_starts(tail) {
        let rest = &tail[start..];
        if head.starts_with(rest) && rest.last() == Some(&b'\n') {
            let lines = memchr_iter(b'\n', rest).count() as u64;
            return Some((start, lines));
        }
    }
    None
}

/// The last [`OVERLAP_WINDOW_BYTES`] of an uncompressed file from its
/// first whole line, and where they start in the file; `None` for a
/// compressed file.
fn plain_tail(path: &Path) -> io::Result<Option<(Vec<u8>, u64)>> {
    let opened = open(&Source::File(path.to_path_buf()))?;
    if opened.compressed {
        return Ok(None);
    }
    drop(opened);
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let from = size.saturating_sub(OVERLAP_WINDOW_BYTES as u64);
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::with_capacity((size - from) as usize);
    file.take(OVERLAP_WINDOW_BYTES as u64)
        .read_to_end(&mut tail)?;
    if from == 0 {
        return Ok(Some((tail, 0)));
    }
    // The window starts inside a line: begin at the next whole one.
    let Some(first_newline) = memchr::memchr(b'\n', &tail) else {
        return Ok(None);
    };
    let skip = first_newline + 1;
    Ok(Some((tail[skip..].to_vec(), from + skip as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlap_is_the_longest_run_of_whole_lines_ending_one_and_starting_the_other() {
        // (name, tail, head, expected (start, lines))
        type Expected = Option<(usize, u64)>;
        let cases: [(&str, &str, &str, Expected); 5] = [
            (
                "three lines overlap",
                "a\nb\nc\nd\n",
                "b\nc\nd\ne\n",
                Some((2, 3)),
            ),
            (
                "the whole tail overlaps",
                "b\nc\n",
                "b\nc\nd\n",
                Some((0, 2)),
            ),
            ("no overlap", "a\nb\n", "c\nd\n", None),
            (
                "an equal line that is not at the end does not count",
                "a\nb\nc\n",
                "b\nx\n",
                None,
            ),
            (
                "a partial line at the head's end is not a match",
                "a\nbb\n",
                "b",
                None,
            ),
        ];
        for (name, tail, head, expected) in cases {
            assert_eq!(
                overlap_at(tail.as_bytes(), head.as_bytes()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_head_is_found_only_where_a_line_of_the_tail_starts() {
        // (name, tail, the other file's text, expected (start, lines))
        type Expected = Option<(usize, u64)>;
        let cases: [(&str, &str, &str, Expected); 4] = [
            (
                "the first line inside a longer line is passed over",
                "a\nxb\nb\nc\n",
                "b\nc\nd\n",
                Some((5, 2)),
            ),
            (
                "at the very start of the tail",
                "b\nc\n",
                "b\nc\nd\n",
                Some((0, 2)),
            ),
            ("only inside lines: none", "xb\nyb\n", "b\nc\n", None),
            ("a head without a newline: none", "a\nb\n", "b", None),
        ];
        let dir = tempfile::tempdir().expect("temporary folder");
        for (name, tail, other, expected) in cases {
            let path = dir.path().join("access.log.1");
            std::fs::write(&path, other).expect("written");
            let found = overlap_with_head(tail.as_bytes(), &path).expect("read");
            assert_eq!(found, expected, "{name}");
        }
    }
}
