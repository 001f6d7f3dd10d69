//! Pieces of one file (`postmortem partial --as PATH --first-line N`): a
//! `split -l` piece or a Spark partition is a run of lines of one file,
//! read on another machine. Every bundled sample, each file cut into four
//! runs of lines, merges to exactly the JSON report of one run over the
//! whole sample (inputs, line references and skipped lines included); a
//! property test cuts a generated log (with unreadable lines) at random
//! lines; the command line reads a piece from stdin and refuses what a
//! piece cannot be.

use std::io::Read;
use std::path::Path;

use postmortem::Piece;
use postmortem::ingest::reader::{Source, open};
use proptest::prelude::*;
use serde_json::Value;

use super::partials::{
    Placing, Split, config, generated_log, samples, utc_year_of, whole, whole_report,
};
use super::support::{run, run_with_stdin, scratch, write};

/// Pieces each file of a sample is cut into.
const PIECES: usize = 4;

/// The decompressed text of `path`, as the reader gives it to the parsers.
fn text_of(path: &Path) -> Vec<u8> {
    let mut opened = open(&Source::File(path.to_path_buf())).expect("the file opens");
    let mut text = Vec::new();
    opened
        .reader
        .read_to_end(&mut text)
        .expect("the file reads");
    text
}

/// `text` cut before the lines (0-based) of `cuts`, in order: each piece's
/// first line (1-based) and bytes. A last line without its newline is a
/// line, as the reader counts it.
fn cut_lines(text: &[u8], cuts: &[usize]) -> Vec<(u64, Vec<u8>)> {
    let mut starts = vec![0];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'\n')
            .map(|(at, _)| at + 1)
            .filter(|at| *at < text.len()),
    );
    let mut pieces = Vec::new();
    let mut bounds: Vec<usize> = vec![0];
    bounds.extend(cuts.iter().map(|cut| (*cut).min(starts.len())));
    bounds.push(starts.len());
    for pair in bounds.windows(2) {
        let (from, to) = (pair[0], pair[1].max(pair[0]));
        let byte = |line: usize| starts.get(line).copied().unwrap_or(text.len());
        pieces.push((from as u64 + 1, text[byte(from)..byte(to)].to_vec()));
    }
    pieces
}

/// Lines of `text` (a last one without its newline counts).
fn line_count(text: &[u8]) -> usize {
    let newlines = text.iter().filter(|byte| **byte == b'\n').count();
    newlines + usize::from(text.last().is_some_and(|byte| *byte != b'\n'))
}

/// The first `#Fields:` line of a W3C log: what a piece without the
/// file's head is given as `--log-format`.
fn fields_line(text: &[u8]) -> Option<String> {
    text.split(|byte| *byte == b'\n')
        .find(|line| line.starts_with(b"#Fields:"))
        .map(|line| String::from_utf8_lossy(line).trim_end().to_string())
}

/// Writes each piece of `file` (named `name` in the run) to `scratch` and
/// runs the map step on it as producer `<prefix>-p<k>`; a W3C file's
/// pieces are given its `#Fields:` line as the format.
fn map_pieces(
    file: &Path,
    name: &str,
    cuts: &[usize],
    placing: Placing,
    scratch: &Path,
    split: &mut Split,
    prefix: &str,
) {
    let text = text_of(file);
    let log_format = fields_line(&text);
    for (k, (first_line, bytes)) in cut_lines(&text, cuts).into_iter().enumerate() {
        let piece_file = scratch.join(format!("{prefix}-p{k}.piece"));
        std::fs::write(&piece_file, bytes).expect("the piece is written");
        let piece = Piece::new(name.to_string(), first_line).expect("a piece");
        let mut producer = config(&[&piece_file], placing, (None, None));
        producer.log_format.clone_from(&log_format);
        split.map(producer, &format!("{prefix}-p{k}"), Some(piece));
    }
}

#[test]
fn every_sample_cut_into_four_runs_of_lines_gives_the_whole_report() {
    // Each file is its own producers' (a Spark partition is of one file),
    // so syslog pieces are placed with --tz and --year, as in the split by
    // file (docs/partials.md); the whole run gets the same.
    for name in samples() {
        let placing = utc_year_of(&name);
        let whole = whole(&name, placing);
        let scratch = scratch();
        let mut split = Split::new(scratch.path());
        let inputs = whole["inputs"].as_array().expect("inputs");
        for (index, input) in inputs.iter().enumerate() {
            let path = input["path"].as_str().expect("a path");
            let prefix = format!("f{index:03}");
            if input["kind"] == "metrics" {
                // A metric CSV's header is its first line: read whole.
                let producer = config(&[Path::new(path)], placing, (None, None));
                split.map(producer, &format!("{prefix}-p0"), None);
                continue;
            }
            let lines = line_count(&text_of(Path::new(path)));
            let cuts: Vec<usize> = (1..PIECES).map(|k| lines * k / PIECES).collect();
            map_pieces(
                Path::new(path),
                path,
                &cuts,
                placing,
                scratch.path(),
                &mut split,
                &prefix,
            );
        }
        assert_eq!(split.reduce(placing), whole, "{name}");
    }
}

/// The generated log with an unreadable line every 97 lines from line 5,
/// so skipped-line examples fall in several pieces.
fn log_with_bad_lines() -> String {
    let log = generated_log(900, |i| (500..560).contains(&i) || i % 89 == 0);
    log.lines()
        .enumerate()
        .flat_map(|(i, line)| {
            let bad = (i % 97 == 4).then(|| format!("not a request {i}\n"));
            bad.into_iter().chain([format!("{line}\n")])
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Random cuts between lines (two to five pieces, empty ones
    /// included): the merged report is the whole one, inputs included.
    #[test]
    fn random_line_cuts_merge_to_the_whole_report(
        cuts in proptest::collection::vec(0usize..920, 1..5),
    ) {
        let scratch = scratch();
        let log = write(scratch.path(), "access.log", &log_with_bad_lines());
        let placing = Placing::Found;
        let whole = whole_report(&config(&[&log], placing, (None, None)));
        prop_assert_eq!(whole["inputs"][0]["skipped"].as_u64(), Some(10));
        let mut cuts = cuts;
        cuts.sort_unstable();
        // A piece of nothing but an unreadable line cannot be recognised
        // on its own: its own test below.
        prop_assume!(!has_a_piece_of_one_unreadable_line(&cuts));
        let mut split = Split::new(&scratch.path().join("split"));
        let name = log.display().to_string();
        map_pieces(&log, &name, &cuts, placing, scratch.path(), &mut split, "f000");
        prop_assert_eq!(split.reduce(placing), whole);
    }
}

/// Whether a piece cut at `cuts` is one line of [`log_with_bad_lines`]
/// that no format reads.
fn has_a_piece_of_one_unreadable_line(cuts: &[usize]) -> bool {
    let log = log_with_bad_lines();
    let unreadable: Vec<usize> = log
        .lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with("not a request"))
        .map(|(index, _)| index)
        .collect();
    cuts.windows(2)
        .any(|piece| piece[1] == piece[0] + 1 && unreadable.contains(&piece[0]))
}

/// A piece that is one unreadable line (line 397 alone) is not recognised
/// on the machine that reads it: the merged report counts that line as
/// skipped, as the whole run does, finds the same incident, and says in
/// the input's note that its pieces were not all read alike, with what to
/// do; only that line's reason differs.
#[test]
fn a_piece_of_one_unreadable_line_is_named_in_the_note() {
    let scratch = scratch();
    let log = write(scratch.path(), "access.log", &log_with_bad_lines());
    let placing = Placing::Found;
    let whole = whole_report(&config(&[&log], placing, (None, None)));
    let cuts = [396, 397];
    assert!(has_a_piece_of_one_unreadable_line(&cuts));
    let mut split = Split::new(&scratch.path().join("split"));
    let name = log.display().to_string();
    map_pieces(
        &log,
        &name,
        &cuts,
        placing,
        scratch.path(),
        &mut split,
        "f000",
    );
    let merged = split.reduce(placing);
    assert_eq!(merged["incidents"], whole["incidents"]);
    let (input, whole_input) = (&merged["inputs"][0], &whole["inputs"][0]);
    assert_eq!(input["lines"].as_u64(), Some(910));
    assert_eq!(input["parsed"].as_u64(), Some(900));
    assert_eq!(input["skipped"].as_u64(), Some(10));
    assert_eq!(whole_input["note"], Value::Null);
    let note = input["note"].as_str().expect("a note");
    assert!(note.contains("not all read alike"), "{note}");
    assert!(note.contains("one run reads the whole file"), "{note}");
    let examples = input["skipped_examples"].as_array().expect("examples");
    assert_eq!(examples[4]["line"].as_u64(), Some(397));
    assert_eq!(
        examples[..4],
        whole_input["skipped_examples"]
            .as_array()
            .expect("examples")[..4]
    );
}

#[test]
fn a_piece_on_stdin_is_written_as_the_lines_of_its_file() {
    // Lines 1001.. of /logs/access.log: every 50th request failed, and the
    // piece's line 301 is unreadable.
    let mut piece = generated_log(300, |i| i % 50 == 0);
    piece.push_str("not a request\n");
    let output = run_with_stdin(
        &[
            "partial",
            "--format",
            "jsonl",
            "--producer",
            "part-00003",
            "--as",
            "/logs/access.log",
            "--first-line",
            "1001",
            "-",
        ],
        piece.as_bytes(),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    let input = rows
        .iter()
        .find(|row| row["table"] == "inputs")
        .expect("an inputs row");
    assert_eq!(input["path"], "/logs/access.log");
    assert_eq!(input["piece_first_line"], 1001);
    assert_eq!(
        (input["lines"].as_i64(), input["parsed"].as_i64()),
        (Some(301), Some(300))
    );
    assert_eq!(input["compressed"], false);
    let examples: Value =
        serde_json::from_str(input["skipped_examples"].as_str().expect("JSON text")).expect("JSON");
    assert_eq!(
        examples[0][0], 1301,
        "the piece's line 301 is the file's 1301"
    );
    let mut bad_lines: Vec<i64> = rows
        .iter()
        .filter(|row| row["table"] == "buckets")
        .filter_map(|row| row["first_bad_line"].as_i64())
        .collect();
    bad_lines.sort_unstable();
    // Request i of the generator was logged at 2i s after 10:00 and took
    // (i % 2) s + (37 i % 1000) ms, so it arrived that much earlier; it is
    // bad when it failed or took over a second. The first bad line of
    // each minute of arrival, counted in the file:
    let mut first_of_minute = std::collections::BTreeMap::new();
    for i in 0..300_i64 {
        let took_ms = (i % 2) * 1_000 + (i * 37) % 1_000;
        if i % 50 == 0 || took_ms > 1_000 {
            let minute = (i * 2_000 - took_ms).div_euclid(60_000);
            first_of_minute.entry(minute).or_insert(1_001 + i);
        }
    }
    let expected: Vec<i64> = first_of_minute.into_values().collect();
    assert_eq!(bad_lines, expected);
}

#[test]
fn what_a_piece_cannot_be_is_refused_with_the_fix() {
    let scratch = scratch();
    let log = write(scratch.path(), "access.log", &generated_log(20, |_| false));
    let csv = write(
        scratch.path(),
        "metrics.csv",
        "time,cpu\n2024-03-01T10:00:00Z,0.5\n2024-03-01T10:01:00Z,0.6\n",
    );
    let folder = scratch.path().display().to_string();
    let (log, csv) = (log.display().to_string(), csv.display().to_string());
    let cases: [(&str, Vec<&str>, &str); 4] = [
        (
            "a folder",
            vec!["--as", "x.log", "--first-line", "5", &folder],
            "names one file's lines, but 2 inputs were read",
        ),
        (
            "line 0",
            vec!["--as", "x.log", "--first-line", "0", &log],
            "numbered from 1",
        ),
        (
            "--first-line alone",
            vec!["--first-line", "5", &log],
            "--as <PATH>",
        ),
        (
            "a metric CSV's second piece",
            vec!["--as", "metrics.csv", "--first-line", "2", &csv],
            "give the whole file to one producer",
        ),
    ];
    for (name, flags, expected) in cases {
        let mut args = vec!["partial", "--format", "jsonl", "--quiet"];
        args.extend(flags);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2), "{name}: a usage error");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}
