//! The byte form of settled per-bucket state: unsigned integers as LEB128
//! varints (crate `integer-encoding`), so a bucket nobody adds to any more
//! holds its latency bins and slot counts in a few hundred bytes instead
//! of the tens of kilobytes its open, directly indexed form takes
//! (BENCHMARKS.md, "The week, twelfth session").
//!
//! Only this process writes and reads these bytes (partial files keep
//! their own columns), so a stream that does not decode is a bug, not bad
//! input: the reader stops there rather than panicking.

use integer_encoding::VarInt;

/// Appends `value` as a varint.
#[inline]
pub fn push_varint(bytes: &mut Vec<u8>, value: u64) {
    // Seven bits a byte, low group first, as `integer-encoding` writes them
    // (the tests check the two agree), one push a byte: a copy out of its
    // encoding buffer cost ~50 instructions a one-byte value (most gaps
    // between bins and most counts) and ~65 a three-byte one.
    let mut rest = value;
    while rest >= 0x80 {
        bytes.push((rest as u8) | 0x80);
        rest >>= 7;
    }
    bytes.push(rest as u8);
}

/// Appends `value` as 8 little-endian bytes: for hashes, which as varints
/// take 8 or 9 bytes and more time.
#[inline]
pub fn push_u64(bytes: &mut Vec<u8>, value: u64) {
    bytes.extend_from_slice(&value.to_le_bytes());
}

/// A signed value as an unsigned one that stays a short varint near zero
/// (zigzag, as protocol buffers write `sint64`): the sign in the lowest bit.
#[inline]
pub fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// The varints of `bytes` in order (and, with [`Varints::take`], raw bytes
/// written between them).
#[derive(Clone, Debug)]
pub struct Varints<'a> {
    rest: &'a [u8],
}

impl<'a> Varints<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Varints { rest: bytes }
    }

    /// The next 8 bytes as a [`push_u64`] value, `None` past the end.
    #[inline]
    pub fn next_u64(&mut self) -> Option<u64> {
        let (head, rest) = self.rest.split_first_chunk::<8>()?;
        self.rest = rest;
        Some(u64::from_le_bytes(*head))
    }

    /// The next `len` bytes as they are, `None` past the end.
    pub fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(head)
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

impl Iterator for Varints<'_> {
    type Item = u64;

    #[inline(always)]
    fn next(&mut self) -> Option<u64> {
        if let Some((&byte, rest)) = self.rest.split_first()
            && byte < 0x80
        {
            self.rest = rest;
            return Some(u64::from(byte));
        }
        let (value, read) = u64::decode_var(self.rest)?;
        self.rest = self.rest.get(read..).unwrap_or_default();
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let cases: [(&str, &[u64]); 4] = [
            ("nothing", &[]),
            ("one byte each", &[0, 1, 127]),
            (
                "two and more bytes",
                &[128, 16_383, 16_384, u64::from(u32::MAX)],
            ),
            ("the largest", &[u64::MAX, 0]),
        ];
        for (name, values) in cases {
            let mut bytes = Vec::new();
            for &value in values {
                push_varint(&mut bytes, value);
            }
            let read: Vec<u64> = Varints::new(&bytes).collect();
            assert_eq!(read, values, "{name}");
            for &value in values {
                let mut theirs = [0u8; 10];
                let written = value.encode_var(&mut theirs);
                let mut ours = Vec::new();
                push_varint(&mut ours, value);
                assert_eq!(
                    ours,
                    &theirs[..written],
                    "{name}: {value} as integer-encoding writes it"
                );
            }
        }
        let mut bytes = Vec::new();
        push_varint(&mut bytes, 127);
        push_varint(&mut bytes, 128);
        assert_eq!(bytes, [0x7f, 0x80, 0x01], "LEB128, low group first");
        let mut mixed = Vec::new();
        push_u64(&mut mixed, u64::MAX - 1);
        push_varint(&mut mixed, 300);
        push_u64(&mut mixed, 7);
        let mut read = Varints::new(&mixed);
        assert_eq!(read.next_u64(), Some(u64::MAX - 1), "a fixed 8 bytes");
        assert_eq!(read.next(), Some(300), "then a varint");
        assert_eq!(read.next_u64(), Some(7), "then 8 bytes again");
        assert_eq!(read.next_u64(), None, "nothing past the end");
    }

    #[test]
    fn a_cut_stream_stops_without_panicking() {
        let mut bytes = Vec::new();
        push_varint(&mut bytes, 5);
        push_varint(&mut bytes, 300);
        bytes.pop();
        assert_eq!(Varints::new(&bytes).collect::<Vec<_>>(), [5]);
    }
}
