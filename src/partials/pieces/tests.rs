//! The merge of pieces' input statistics and the refusals of the reduce
//! step, on hand-made statistics (the whole path, from logs to report, is
//! tested on every sample in tests/cli/partials.rs).

use super::*;
use crate::ingest::stats::SkippedLine;

/// A piece of `access.log` of `lines` lines, `parsed` of them parsed,
/// skipped lines at `skipped_at`, requests from `first` to `last`.
fn piece_stats(lines: u64, parsed: u64, skipped_at: &[u64], first: i64, last: i64) -> InputStats {
    let mut stats = InputStats::new("access.log".into());
    stats.kind = InputKind::Access;
    stats.format = Some("nginx-combined");
    stats.lines = lines;
    stats.parsed = parsed;
    stats.skipped = skipped_at.len() as u64;
    stats.skipped_examples = skipped_at
        .iter()
        .map(|&line| SkippedLine {
            line,
            reason: format!("bad line {line}"),
        })
        .collect();
    stats.first = Some(first);
    stats.last = Some(last);
    stats
}

#[test]
fn pieces_of_one_file_merge_into_one_input_in_any_order() {
    // Three pieces of 100, 100 and 50 lines, placed last piece first.
    let pieces = [
        (201, piece_stats(50, 49, &[230], 3_000, 3_500)),
        (1, piece_stats(100, 97, &[2, 3, 90], 1_000, 1_900)),
        (101, piece_stats(100, 97, &[101, 150, 199], 2_000, 2_900)),
    ];
    let mut run = vec![InputStats::new("syslog".into())];
    let mut assembly = Assembly::default();
    let mut places = Vec::new();
    for (k, (first_line, stats)) in pieces.into_iter().enumerate() {
        let placed = assembly
            .place(&mut run, vec![stats], &[Some(first_line)], &format!("p{k}"))
            .expect("disjoint pieces");
        places.extend(placed);
    }
    assembly.finish(&mut run);
    assert_eq!(places, vec![1, 1, 1], "every piece is the run's input 1");
    assert_eq!(run.len(), 2);
    let merged = &run[1];
    assert_eq!((merged.lines, merged.parsed, merged.skipped), (250, 243, 7));
    let lines: Vec<u64> = merged.skipped_examples.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 90, 101, 150], "the file's first five");
    assert_eq!((merged.first, merged.last), (Some(1_000), Some(3_500)));
    assert_eq!(merged.note, None, "no line missing");
}

#[test]
fn the_reduce_step_names_missing_lines_and_refuses_overlapping_pieces() {
    /// The note expected on the merged input, or the refusal.
    type Expected = std::result::Result<Option<&'static str>, &'static str>;
    /// `(first_line, lines)` of each of two pieces.
    type Spans = [(u64, u64); 2];
    let cases: [(&str, Spans, Expected); 3] = [
        ("contiguous", [(1, 10), (11, 5)], Ok(None)),
        (
            "a gap",
            [(1, 10), (21, 5)],
            Ok(Some("read in 2 pieces, but lines 11–20 were in none")),
        ),
        (
            "an overlap",
            [(1, 10), (10, 5)],
            Err("lines 1–10 of producer 'p0' and lines 10–14 of producer 'p1' overlap"),
        ),
    ];
    for (name, spans, expected) in cases {
        let mut run = Vec::new();
        let mut assembly = Assembly::default();
        let mut refusal = None;
        for (k, (first_line, lines)) in spans.into_iter().enumerate() {
            let stats = piece_stats(lines, lines, &[], 0, 1);
            if let Err(error) =
                assembly.place(&mut run, vec![stats], &[Some(first_line)], &format!("p{k}"))
            {
                refusal = Some(error.to_string());
            }
        }
        assembly.finish(&mut run);
        match expected {
            Ok(note) => {
                assert_eq!(refusal, None, "{name}");
                match note {
                    None => assert_eq!(run[0].note, None, "{name}"),
                    Some(text) => assert!(
                        run[0].note.as_deref().is_some_and(|n| n.starts_with(text)),
                        "{name}: {:?}",
                        run[0].note
                    ),
                }
            }
            Err(text) => {
                let error = refusal.unwrap_or_else(|| panic!("{name}: refused"));
                assert!(error.contains(text), "{name}: {error}");
            }
        }
    }
}

#[test]
fn a_piece_is_refused_line_zero_and_a_compressed_name_is_kept() {
    assert!(Piece::new("a.log".into(), 0).is_err());
    let cases = [
        ("access.log.2.gz", true),
        ("ACCESS.LOG.GZ", true),
        ("s3a://bucket/logs/app.log.zst", true),
        ("access.log", false),
        ("access.gzip.log", false),
    ];
    for (path, compressed) in cases {
        let piece = Piece::new(path.into(), 5).expect("a piece");
        assert_eq!(piece.names_compressed_file(), compressed, "{path}");
    }
}
