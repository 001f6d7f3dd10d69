//! Pretty-printed JSON access records: a JSON array of objects, or objects
//! one after another over several lines each, as `gcloud logging read
//! --format=json`, the Cloud Console's download and Azure's sample records
//! write them. [`JsonObjectLines`] turns such a stream into one object per
//! line (the line breaks inside an object become spaces; the array's
//! brackets and the commas between objects go), so the JSON-lines parser and
//! the parallel pipeline read it like any other log. A "line" of such an
//! input is then one object: line numbers in reports count objects.
//!
//! Only the structure is followed (strings, escapes, nesting); nothing is
//! decoded, so any byte sequence passes through without panicking.

use std::io::{self, Read};

/// The bytes read from the inner stream at a time.
const READ_BYTES: usize = 64 << 10;

/// Whether `head` starts (after white space) with a JSON object or array.
pub fn starts_like_json(head: &[u8]) -> bool {
    matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Whether `head` (the start of an input) may be a JSON document rather
/// than JSON lines: it starts with `[`, or with `{` on a line that does not
/// close the object.
pub fn may_be_document(head: &[u8]) -> bool {
    let start = head.iter().take_while(|b| b.is_ascii_whitespace()).count();
    match head.get(start) {
        Some(b'[') => true,
        Some(b'{') => {
            let line_end = memchr::memchr(b'\n', &head[start..]).map_or(head.len(), |e| start + e);
            let line = head[start..line_end].trim_ascii_end();
            line.last() != Some(&b'}')
        }
        _ => false,
    }
}

/// One top-level JSON object per line, from a stream of pretty-printed
/// objects (in an array or not).
pub struct JsonObjectLines<R> {
    inner: R,
    /// Bytes read from `inner` and not yet rewritten.
    input: Vec<u8>,
    input_at: usize,
    /// Rewritten bytes not yet handed out.
    output: Vec<u8>,
    output_at: usize,
    /// Objects and arrays open inside the current top-level object.
    depth: usize,
    in_string: bool,
    escaped: bool,
    inner_done: bool,
}

impl<R: Read> JsonObjectLines<R> {
    pub fn new(inner: R) -> Self {
        JsonObjectLines {
            inner,
            input: Vec::new(),
            input_at: 0,
            output: Vec::new(),
            output_at: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            inner_done: false,
        }
    }

    /// Rewrites the buffered input into `output`.
    fn rewrite(&mut self) {
        for &byte in &self.input[self.input_at..] {
            if self.depth == 0 {
                match byte {
                    b'{' => {
                        self.depth = 1;
                        self.output.push(byte);
                    }
                    // The array around the objects and the commas between
                    // them; whitespace between objects.
                    b'[' | b']' | b',' | b' ' | b'\t' | b'\r' | b'\n' => {}
                    // Anything else is kept, on a line of its own, so it is
                    // counted (and named) as a line that does not parse.
                    _ => {
                        self.output.push(byte);
                        continue;
                    }
                }
                continue;
            }
            if self.in_string {
                self.output.push(byte);
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => {
                    self.in_string = true;
                    self.output.push(byte);
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.output.push(byte);
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    self.output.push(byte);
                    if self.depth == 0 {
                        self.output.push(b'\n');
                    }
                }
                b'\n' | b'\r' | b'\t' => self.output.push(b' '),
                _ => self.output.push(byte),
            }
        }
        self.input_at = self.input.len();
    }
}

/// Skipping reads and drops compacted lines: a document's chunk offsets
/// are offsets in this stream, not in the file.
impl<R: Read + Send> super::reader::DecodedStream for JsonObjectLines<R> {}

impl<R: Read> Read for JsonObjectLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_at == self.output.len() {
            if self.inner_done {
                return Ok(0);
            }
            self.output.clear();
            self.output_at = 0;
            self.input.resize(READ_BYTES, 0);
            self.input_at = 0;
            let read = loop {
                match self.inner.read(&mut self.input) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.input.truncate(read);
            if read == 0 {
                self.inner_done = true;
                // An object cut by the end of the input ends its line.
                if self.depth > 0 {
                    self.output.push(b'\n');
                    self.depth = 0;
                }
            } else {
                self.rewrite();
            }
        }
        let available = &self.output[self.output_at..];
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.output_at += count;
        Ok(count)
    }
}

/// `bytes` (the head of an input) rewritten to one object per line.
pub fn compact(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    // Reading from a slice cannot fail.
    let _ = JsonObjectLines::new(bytes).read_to_end(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_become_one_object_per_line() {
        let cases = [
            (
                "gcloud array",
                "[\n  {\n    \"a\": 1,\n    \"b\": {\"c\": \"x\\\"}\\n\"}\n  },\n  {\n    \"a\": 2\n  }\n]\n",
                "{     \"a\": 1,     \"b\": {\"c\": \"x\\\"}\\n\"}   }\n{     \"a\": 2   }\n",
            ),
            (
                "concatenated objects",
                "{\n\"a\": [1,\n2]\n}\n{\n\"a\": 3\n}",
                "{ \"a\": [1, 2] }\n{ \"a\": 3 }\n",
            ),
            (
                "JSON lines stay",
                "{\"a\":1}\n{\"a\":2}\n",
                "{\"a\":1}\n{\"a\":2}\n",
            ),
            ("cut object ends its line", "[{\"a\": \"b", "{\"a\": \"b\n"),
            ("junk between objects is kept", "{}x{}", "{}\nx{}\n"),
        ];
        for (name, input, expected) in cases {
            let out = compact(input.as_bytes());
            assert_eq!(String::from_utf8_lossy(&out), expected, "{name}");
        }
    }

    #[test]
    fn documents_are_told_from_json_lines() {
        let cases = [
            ("array", "[\n{", true),
            ("object over lines", "  {\n \"a\": 1\n}", true),
            ("one object a line", "{\"a\":1}\n{\"a\":2}", false),
            ("text", "10.0.0.1 - -", false),
        ];
        for (name, head, expected) in cases {
            assert_eq!(may_be_document(head.as_bytes()), expected, "{name}");
        }
    }

    #[test]
    fn small_reads_give_the_same_bytes() {
        let input = "[{\"a\": \"}\"},\n{\"b\": [{}]}]".repeat(50);
        let whole = compact(input.as_bytes());
        let mut reader = JsonObjectLines::new(input.as_bytes());
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = reader.read(&mut buf).expect("reads");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, whole);
    }

    #[test]
    fn no_byte_sequence_panics_the_rewriter() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..400))| {
            let _ = compact(&bytes);
        });
    }
}
