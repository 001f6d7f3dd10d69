//! Tests of the chunk and block readers: line caps, marks for cut and
//! overlong lines, and how read errors are handed on.

use super::*;
use std::io::Write;

#[test]
fn blocks_start_small_and_double() {
    // 1 MiB of 64-byte lines: 64, 128, 256 and 512 KiB blocks, then the
    // last 64 KiB; every block ends after a newline.
    let line = [b'x'; 63];
    let mut text = Vec::new();
    for _ in 0..(1 << 14) {
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    let mut reader = BlockReader::new(&text[..]);
    let mut sizes = Vec::new();
    let mut joined = Vec::new();
    while let Some(block) = reader.next_block() {
        assert!(block.error.is_none());
        assert_eq!(block.bytes.last(), Some(&b'\n'));
        sizes.push(block.bytes.len() >> 10);
        joined.extend_from_slice(&block.bytes);
    }
    assert_eq!(sizes, vec![64, 128, 256, 512, 64]);
    assert_eq!(joined, text);
}

#[test]
fn chunks_end_on_line_boundaries_and_keep_every_byte() {
    let mut text = Vec::new();
    for i in 0..400_000 {
        writeln!(text, "line number {i} with some padding to make it longer").expect("vec");
    }
    text.extend_from_slice(b"last line without newline");
    let mut reader = ChunkReader::new(&text[..]);
    let mut buffer = Vec::new();
    let mut joined = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = reader.fill(&mut buffer, CHUNK_BYTES) {
        assert!(chunk.error.is_none());
        if !reader.is_finished() {
            assert_eq!(
                buffer[..chunk.len].last(),
                Some(&b'\n'),
                "chunk {chunks} ends a line"
            );
        }
        joined.extend_from_slice(&buffer[..chunk.len]);
        chunks += 1;
    }
    assert!(chunks >= 2, "the input spans several chunks");
    assert_eq!(buffer.len(), CHUNK_BYTES, "the buffer is reused, not grown");
    assert_eq!(joined, text);
}

#[test]
fn a_line_longer_than_a_chunk_grows_the_buffer() {
    let long_line = vec![b'x'; 3 * 1024];
    let mut text = b"short\n".to_vec();
    text.extend_from_slice(&long_line);
    text.extend_from_slice(b"\nafter\n");
    let mut reader = ChunkReader::new(&text[..]);
    let mut buffer = Vec::new();
    let mut chunks = Vec::new();
    while let Some(chunk) = reader.fill(&mut buffer, 1024) {
        chunks.push(buffer[..chunk.len].to_vec());
    }
    assert_eq!(chunks.concat(), text);
    assert!(
        chunks
            .iter()
            .any(|c| c.windows(long_line.len()).any(|w| w == &long_line[..])),
        "the long line stays whole in one chunk"
    );
    assert!(buffer.len() >= long_line.len());
}

#[test]
fn truncated_gzip_yields_what_was_readable_and_the_error() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..50_000 {
        writeln!(encoder, "line {i}").expect("vec");
    }
    let compressed = encoder.finish().expect("vec");
    let cut = &compressed[..compressed.len() / 2];
    let mut reader = ChunkReader::new(GzipDecoder::new(cut).expect("decoder"));
    let mut buffer = Vec::new();
    let mut bytes = 0;
    let mut saw_error = false;
    while let Some(chunk) = reader.fill(&mut buffer, CHUNK_BYTES) {
        bytes += chunk.len;
        saw_error |= chunk.error.is_some();
    }
    assert!(saw_error, "the damage is reported");
    assert!(bytes > 10_000, "the readable part is used: {bytes}");
}

/// Every chunk of `reader` in `target`-byte chunks, joined, the buffer
/// it ended with, and how many chunks reported an error.
fn drain<R: Read>(mut reader: ChunkReader<R>, target: usize) -> (Vec<u8>, Vec<u8>, usize) {
    let mut buffer = Vec::new();
    let mut joined = Vec::new();
    let mut errors = 0;
    while let Some(chunk) = reader.fill(&mut buffer, target) {
        joined.extend_from_slice(&buffer[..chunk.len]);
        errors += usize::from(chunk.error.is_some());
    }
    (joined, buffer, errors)
}

/// Everything a chunk reader hands out for `input`, joined.
fn read_all(input: &[u8], max_line: usize, target: usize) -> Vec<u8> {
    let (joined, _, errors) = drain(ChunkReader::new(input).with_max_line(max_line), target);
    assert_eq!(errors, 0);
    joined
}

/// Compares bytes as text, so that a failure shows readable lines.
fn assert_same_text(joined: &[u8], expected: &[u8], case: &str) {
    assert_eq!(
        String::from_utf8_lossy(joined),
        String::from_utf8_lossy(expected),
        "{case}"
    );
}

#[test]
fn lines_over_the_cap_are_replaced_by_the_mark() {
    let mark = OVERLONG_LINE_MARK;
    let x = |n: usize| vec![b'x'; n];
    let cases: Vec<(&str, Vec<u8>, usize, Vec<u8>)> = vec![
        (
            "a line of exactly the cap is kept",
            [b"a\n".to_vec(), x(100), b"\nb\n".to_vec()].concat(),
            100,
            [b"a\n".to_vec(), x(100), b"\nb\n".to_vec()].concat(),
        ),
        (
            "one byte over the cap is marked; the lines around it stay",
            [b"a\n".to_vec(), x(101), b"\nb\n".to_vec()].concat(),
            100,
            [b"a\n", mark, b"\nb\n"].concat(),
        ),
        (
            "a long line without a newline at the end",
            [b"a\n".to_vec(), x(10_000)].concat(),
            100,
            [b"a\n", mark].concat(),
        ),
        (
            "two long lines in a row, CRLF after them",
            [x(5_000), b"\n".to_vec(), x(300), b"\r\nend\r\n".to_vec()].concat(),
            100,
            [mark, b"\n", mark, b"\nend\r\n"].concat(),
        ),
        (
            "a long line after a short one carried over",
            [b"12345678\n".to_vec(), x(1_000), b"\nz".to_vec()].concat(),
            64,
            [b"12345678\n", mark, b"\nz"].concat(),
        ),
    ];
    for (name, input, max_line, expected) in cases {
        for target in [1, 7, 64, 4_096] {
            let joined = read_all(&input, max_line, target);
            assert_same_text(&joined, &expected, &format!("{name}, {target}-byte chunks"));
        }
    }
}

#[test]
fn a_line_over_the_cap_is_never_held_whole() {
    let max_line = 64 << 10;
    let long = io::repeat(b'x').take(20 << 20);
    let input = long.chain(&b"\nafter\n"[..]);
    let (joined, buffer, _) = drain(ChunkReader::new(input).with_max_line(max_line), 4_096);
    assert_eq!(joined, [OVERLONG_LINE_MARK, b"\nafter\n"].concat());
    assert!(
        buffer.len() <= max_line + 1,
        "the buffer stops at the cap: {}",
        buffer.len()
    );
}

#[test]
fn blocks_cap_lines_as_chunks_do() {
    let input = [b"a\n".to_vec(), vec![b'y'; 3_000], b"\nb".to_vec()].concat();
    let mut blocks = BlockReader::new(&input[..]).with_max_line(1_000);
    let mut joined = Vec::new();
    while let Some(block) = blocks.next_block() {
        joined.extend_from_slice(&block.bytes);
    }
    assert!(blocks.is_finished());
    assert_eq!(joined, [b"a\n", OVERLONG_LINE_MARK, b"\nb"].concat());
}

#[test]
fn the_cut_last_line_of_a_damaged_stream_is_marked() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut expected = Vec::new();
    for i in 0..1_000 {
        writeln!(encoder, "line {i}").expect("vec");
        writeln!(expected, "line {i}").expect("vec");
    }
    encoder.write_all(b"half a li").expect("vec");
    encoder.flush().expect("sync flush");
    let flushed = encoder.get_ref().len();
    writeln!(encoder, "ne").expect("vec");
    let compressed = encoder.finish().expect("vec");
    let reader = ChunkReader::new(GzipDecoder::new(&compressed[..flushed]).expect("decoder"));
    let (joined, _, errors) = drain(reader, 256);
    expected.extend_from_slice(CUT_LINE_MARK);
    assert_eq!(errors, 1, "the damage is reported once");
    assert_same_text(&joined, &expected, "whole lines kept, the half line marked");
}

#[test]
fn a_head_then_its_error_gives_the_bytes_then_the_error_once() {
    let mut stream = ThenError::new(b"a\nb".to_vec(), io::Error::other("cut"));
    let mut blocks = Vec::new();
    let mut reader = ChunkReader::new(&mut stream);
    let mut buffer = Vec::new();
    while let Some(chunk) = reader.fill(&mut buffer, 1) {
        let error = chunk.error.map(|e| e.to_string());
        blocks.push((buffer[..chunk.len].to_vec(), error));
    }
    assert_eq!(
        blocks,
        vec![
            (b"a\n".to_vec(), None),
            (CUT_LINE_MARK.to_vec(), Some("cut".to_string()))
        ]
    );
    let mut rest = Vec::new();
    assert_eq!(
        stream.read_to_end(&mut rest).expect("the error was taken"),
        0
    );
}

#[test]
fn marks_are_named_and_the_reason_names_the_cap() {
    let cases: [(&str, &[u8], Option<&str>); 5] = [
        (
            "over-long mark",
            OVERLONG_LINE_MARK,
            Some(OVERLONG_LINE_REASON),
        ),
        ("cut mark", CUT_LINE_MARK, Some(CUT_LINE_REASON)),
        ("a NUL line read from the input", b"\0\0\0", None),
        (
            "a mark with more after it",
            b"\0postmortem: a line cut by the damage was here\0x",
            None,
        ),
        ("an ordinary line", b"Nov 12 14:00:00 host x: y", None),
    ];
    for (name, line, expected) in cases {
        assert_eq!(marked_line_reason(line), expected, "{name}");
    }
    assert!(
        OVERLONG_LINE_REASON.contains(&format!("({} MiB)", MAX_LINE_BYTES >> 20)),
        "{OVERLONG_LINE_REASON}"
    );
}

/// `lines` numbered lines of text.
fn numbered_lines(lines: usize) -> Vec<u8> {
    (0..lines)
        .flat_map(|i| format!("line {i} of a rotated log\n").into_bytes())
        .collect()
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).expect("vec");
    encoder.finish().expect("vec")
}

fn zstd_frame(text: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(text, 3).expect("vec")
}

/// What `open` decodes from `bytes` written to a file, with the compression
/// it found.
fn open_bytes(bytes: &[u8]) -> io::Result<(Compression, Vec<u8>, u64)> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(bytes).expect("write");
    let opened = open(&Source::File(file.path().to_path_buf()))?;
    let counter = Arc::clone(&opened.raw_bytes_read);
    let mut decoded = Vec::new();
    let mut reader = opened.reader;
    reader.read_to_end(&mut decoded)?;
    Ok((opened.compression, decoded, counter.load(Ordering::Relaxed)))
}

#[test]
fn compressed_inputs_are_found_by_their_magic_bytes_and_read_whole() {
    let text = numbered_lines(40_000);
    let (first, second) = text.split_at(text.len() / 3);
    let cases: [(&str, Vec<u8>, Compression); 5] = [
        ("plain text", text.clone(), Compression::None),
        ("gzip, one member", gzip(&text), Compression::Gzip),
        (
            "gzip, two members (concatenated .gz files)",
            [gzip(first), gzip(second)].concat(),
            Compression::Gzip,
        ),
        ("zstd, one frame", zstd_frame(&text), Compression::Zstd),
        (
            "zstd, two frames (zstd -c a b)",
            [zstd_frame(first), zstd_frame(second)].concat(),
            Compression::Zstd,
        ),
    ];
    for (name, bytes, compression) in cases {
        let (found, decoded, raw_read) = open_bytes(&bytes).expect(name);
        assert_eq!(found, compression, "{name}: compression");
        assert!(decoded == text, "{name}: every line decoded");
        assert_eq!(
            raw_read,
            bytes.len() as u64,
            "{name}: progress counts the bytes on disk"
        );
    }
}

#[test]
fn a_truncated_zstd_file_yields_what_was_readable_and_the_error() {
    let compressed = zstd_frame(&numbered_lines(50_000));
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&compressed[..compressed.len() / 2])
        .expect("write");
    let opened = open(&Source::File(file.path().to_path_buf())).expect("opens");
    let mut reader = ChunkReader::new(opened.reader);
    let mut buffer = Vec::new();
    let (mut bytes, mut saw_error) = (0, false);
    while let Some(chunk) = reader.fill(&mut buffer, CHUNK_BYTES) {
        bytes += chunk.len;
        saw_error |= chunk.error.is_some();
    }
    assert!(saw_error, "the damage is reported");
    assert!(bytes > 10_000, "the readable part is used: {bytes}");
}

#[test]
fn compressions_not_read_are_named_with_the_command_that_reads_them() {
    let cases: [(&str, &[u8], &str); 3] = [
        ("bzip2", b"BZh91AY&SY", "bunzip2 -k"),
        ("xz", &[0xfd, b'7', b'z', b'X', b'Z', 0x00, 0x00], "unxz -k"),
        ("lz4", &[0x04, 0x22, 0x4d, 0x18, 0x64], "lz4 -d"),
    ];
    for (name, head, command) in cases {
        let error = open_bytes(head).expect_err(name);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("compressed with {name}, which is not read")),
            "{name}: {message}"
        );
        assert!(message.contains(command), "{name}: {message}");
    }
}
