//! Pieces of one file read on several machines: a `split -l` piece or a
//! Spark partition is a run of lines of one file, often read from stdin.
//! The map step is told which file and first line its one input is
//! ([`Piece`]) and writes line references and statistics as if the whole
//! file had been read ([`relocate`]); the reduce step merges the `inputs`
//! rows of the pieces of one file into one input ([`Assembly`]), so the
//! report is the one a single run over the whole file writes. What a piece
//! cannot know (a header on the file's first line, a rotation's overlap,
//! a compressed file's bytes): docs/partials.md, "Pieces of one file".

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::ingest::stats::{InputKind, InputStats, MAX_SKIPPED_EXAMPLES};
use crate::ingest::{Ingested, evidence::MetricSeries};

/// The column of the `inputs` table that holds a piece's first line
/// (null for a whole input).
pub const COLUMN: &str = "piece_first_line";

/// Names of a file the reader decompresses (gzip and zstd are found by
/// content; a piece is decompressed text, so only its file's name can say
/// the file was compressed, as Hadoop's codecs and `zcat | split` decide).
const COMPRESSED_SUFFIXES: [&str; 3] = [".gz", ".zst", ".zstd"];

/// Which file a piece is and where in it the piece starts (`--as PATH
/// --first-line N`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The file's name as one run over the whole file names it.
    pub path: String,
    /// The 1-based line number, in the file's decompressed text, of the
    /// piece's first line.
    pub first_line: u64,
}

impl Piece {
    /// A piece of `path` from `first_line` (1-based), refused at 0.
    pub fn new(path: String, first_line: u64) -> Result<Piece> {
        if first_line == 0 {
            return Err(Error::Usage(
                "--first-line 0: lines are numbered from 1 (the first piece of a file is --first-line 1)".into(),
            ));
        }
        if path.is_empty() {
            return Err(Error::Usage(
                "--as needs the file's name, e.g. --as /var/log/nginx/access.log".into(),
            ));
        }
        Ok(Piece { path, first_line })
    }

    /// Whether the file's name says it is stored compressed.
    fn names_compressed_file(&self) -> bool {
        COMPRESSED_SUFFIXES
            .iter()
            .any(|suffix| self.path.to_ascii_lowercase().ends_with(suffix))
    }
}

/// Map step: rewrites what reading a piece gave (`ingested`, whose
/// `inputs` are the run's statistics) as the lines `piece.first_line..` of
/// `piece.path`: its one input renamed, every line reference and skipped
/// example moved by the lines before the piece. Refuses a run that read
/// more than one input, and a piece of a metric series past the file's
/// first line (its header is there).
pub fn relocate(ingested: &mut Ingested, piece: &Piece) -> Result<()> {
    let [input] = ingested.inputs.as_mut_slice() else {
        return Err(Error::Usage(format!(
            "--as {} --first-line {} names one file's lines, but {} inputs were read: give one file or - (standard input), not a folder or several files",
            piece.path,
            piece.first_line,
            ingested.inputs.len()
        )));
    };
    let before = piece.first_line - 1;
    if before > 0 && input.kind == InputKind::Metrics {
        return Err(Error::Usage(format!(
            "{} (as {} from line {}): a metric series is read with its header, on the file's first line: give the whole file to one producer",
            input.path, piece.path, piece.first_line
        )));
    }
    input.path.clone_from(&piece.path);
    input.compressed |= piece.names_compressed_file();
    // The bytes read are a piece's, not the file's as stored.
    input.size_on_disk = None;
    for example in &mut input.skipped_examples {
        example.line += before;
    }
    ingested.access.buckets.remap_lines(0, |line| line + before);
    for event in &mut ingested.events {
        if event.line.get().is_some() {
            event.line.line += before;
        }
    }
    for MetricSeries { lines, .. } in &mut ingested.metrics {
        lines
            .iter_mut()
            .filter(|line| **line > 0)
            .for_each(|line| *line += before);
    }
    Ok(())
}

/// Where one piece's lines were.
#[derive(Clone, Debug)]
struct Span {
    first_line: u64,
    lines: u64,
    producer: String,
}

/// Reduce step: the inputs of the run as producer after producer places
/// them, the pieces of one file (same `--as` name) merged into one input
/// at the place of the first piece met.
#[derive(Default)]
pub struct Assembly {
    /// The run's index of each pieced file, by name.
    by_path: BTreeMap<String, u32>,
    /// The pieces placed so far, by the run's index of their file.
    spans: BTreeMap<u32, Vec<Span>>,
}

impl Assembly {
    /// Places one producer's inputs (`starts`: each one's piece first
    /// line, `None` for a whole input) after `run`'s, and returns the
    /// run's index of each: a whole input is appended, a piece merged
    /// into the input of its file. Refuses two pieces holding one line.
    pub fn place(
        &mut self,
        run: &mut Vec<InputStats>,
        inputs: Vec<InputStats>,
        starts: &[Option<u64>],
        producer: &str,
    ) -> Result<Vec<u32>> {
        let mut places = Vec::with_capacity(inputs.len());
        for (input, start) in inputs
            .into_iter()
            .zip(starts.iter().copied().chain(std::iter::repeat(None)))
        {
            let index = match start {
                None => push(run, input)?,
                Some(first_line) => {
                    let span = Span {
                        first_line,
                        lines: input.lines,
                        producer: producer.to_string(),
                    };
                    match self.by_path.get(&input.path) {
                        Some(&index) => {
                            let spans = self.spans.entry(index).or_default();
                            check_disjoint(&input.path, spans, &span)?;
                            let earliest = spans.iter().map(|s| s.first_line).min();
                            let earlier = earliest.is_none_or(|known| first_line < known);
                            spans.push(span);
                            merge_piece(&mut run[index as usize], input, earlier);
                            index
                        }
                        None => {
                            let path = input.path.clone();
                            let index = push(run, input)?;
                            self.by_path.insert(path, index);
                            self.spans.insert(index, vec![span]);
                            index
                        }
                    }
                }
            };
            places.push(index);
        }
        Ok(places)
    }

    /// Notes on each pieced input the lines no piece held (a piece missing
    /// from the partials): the report covers only what was read.
    pub fn finish(self, run: &mut [InputStats]) {
        for (index, mut spans) in self.spans {
            spans.sort_by_key(|span| span.first_line);
            let mut next = 1;
            let mut missing = Vec::new();
            for span in &spans {
                if span.first_line > next {
                    missing.push(format!("{}–{}", next, span.first_line - 1));
                }
                next = next.max(span.first_line + span.lines);
            }
            if missing.is_empty() {
                continue;
            }
            let Some(input) = run.get_mut(index as usize) else {
                continue;
            };
            let gap = format!(
                "read in {} pieces, but lines {} were in none: the report does not cover them (give the reduce step every piece's partials)",
                spans.len(),
                missing.join(", ")
            );
            input.note = Some(match input.note.take() {
                Some(note) => format!("{note}; {gap}"),
                None => gap,
            });
        }
    }
}

/// Appends `input` to the run; its index.
fn push(run: &mut Vec<InputStats>, input: InputStats) -> Result<u32> {
    let index =
        u32::try_from(run.len()).map_err(|_| Error::Usage("more than 4 billion inputs".into()))?;
    run.push(input);
    Ok(index)
}

/// Refuses a piece whose lines another piece of the same file holds (two
/// producers given the same lines would count them twice).
fn check_disjoint(path: &str, spans: &[Span], new: &Span) -> Result<()> {
    let end = |span: &Span| span.first_line + span.lines;
    let clash = spans.iter().find(|known| {
        known.lines > 0
            && new.lines > 0
            && known.first_line < end(new)
            && new.first_line < end(known)
    });
    match clash {
        None => Ok(()),
        Some(known) => Err(Error::Usage(format!(
            "{path}: lines {}–{} of producer '{}' and lines {}–{} of producer '{}' overlap: each line of a file must be in one piece (check --first-line)",
            known.first_line,
            end(known) - 1,
            known.producer,
            new.first_line,
            end(new) - 1,
            new.producer
        ))),
    }
}

/// Adds the statistics of another piece of the same file into `into`:
/// counts add, the time range widens, the first skipped lines stay
/// examples, fields seen are the union. Kind and format are the first
/// piece's (`earlier`: `piece` starts before every piece merged so far),
/// as one run sniffs them from the file's head; a piece that read as
/// another format is named in the note.
fn merge_piece(into: &mut InputStats, mut piece: InputStats, earlier: bool) {
    // An empty piece (a partition with no line) adds nothing, and is no
    // reading of the file's format.
    if into.lines == 0 {
        std::mem::swap(into, &mut piece);
    }
    if piece.lines == 0 {
        return;
    }
    let known = |input: &InputStats| input.kind != InputKind::Unknown;
    let differs = (into.kind, into.format) != (piece.kind, piece.format);
    let other_reading = if differs && (known(into) || known(&piece)) {
        let (first, later) = if earlier {
            (&piece, &*into)
        } else {
            (&*into, &piece)
        };
        let reading = |input: &InputStats| match (input.kind, input.format) {
            (InputKind::Unknown, _) => "not recognised".to_string(),
            (kind, Some(format)) => format!("{} {format}", kind.name()),
            (kind, None) => kind.name().to_string(),
        };
        Some(format!(
            "the pieces of this file were not all read alike ({}, then {}): one run reads the whole file as its head says (a W3C piece needs --log-format with the file's #Fields: line)",
            reading(first),
            reading(later)
        ))
    } else {
        None
    };
    if (earlier && known(&piece)) || !known(into) {
        into.kind = piece.kind;
        into.format = piece.format;
        into.envelope = piece.envelope;
        into.note = piece.note.clone().or(into.note.take());
    }
    into.compressed |= piece.compressed;
    into.size_on_disk = into.size_on_disk.or(piece.size_on_disk);
    into.lines += piece.lines;
    into.parsed += piece.parsed;
    into.skipped += piece.skipped;
    into.messages += piece.messages;
    into.out_of_range += piece.out_of_range;
    into.no_response += piece.no_response;
    into.overlap_lines += piece.overlap_lines;
    into.skipped_examples.extend(piece.skipped_examples);
    into.skipped_examples.sort_by_key(|example| example.line);
    into.skipped_examples.truncate(MAX_SKIPPED_EXAMPLES);
    into.first = min_some(into.first, piece.first);
    into.last = into.last.max(piece.last);
    into.error = into.error.take().or(piece.error);
    into.has_request_time |= piece.has_request_time;
    into.has_user_agent |= piece.has_user_agent;
    into.fields.request_time |= piece.fields.request_time;
    into.fields.upstream |= piece.fields.upstream;
    into.fields.user_agent |= piece.fields.user_agent;
    into.fields.remote_user |= piece.fields.remote_user;
    into.fields.host |= piece.fields.host;
    for (format, lines) in piece.other_formats {
        match into
            .other_formats
            .iter_mut()
            .find(|(known, _)| *known == format)
        {
            Some((_, count)) => *count += lines,
            None => into.other_formats.push((format, lines)),
        }
    }
    into.duplicate_of = into.duplicate_of.take().or(piece.duplicate_of);
    into.overlap_with = into.overlap_with.take().or(piece.overlap_with);
    let noted = |note: &Option<String>| {
        note.as_deref()
            .is_some_and(|n| n.contains("were not all read alike"))
    };
    if let Some(text) = other_reading.filter(|_| !noted(&into.note)) {
        into.note = Some(match into.note.take() {
            Some(note) => format!("{note}; {text}"),
            None => text,
        });
    }
}

/// The earlier of two optional times.
fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
