//! Byte searches on the per-line hot path: the short fields of one log
//! line (a request, a user agent, a path) and the line ends of a chunk.
//!
//! `memchr::memchr` chooses between its AVX2 and SSE2 routines through a
//! function pointer on every call. On a 40-byte request line that call
//! costs as much as the search itself (callgrind: ~60 instructions of a
//! ~110-instruction search), so fields are searched with memchr's SSE2
//! searcher, which x86-64 always has and which inlines; a chunk's line ends
//! (hundreds of KiB) with its AVX2 searcher, chosen once per chunk.
//! Elsewhere the portable `memchr` functions do the work.
//!
//! A line of many fields (an ALB line has 27 over ~680 bytes) is read with
//! [`Separators`] instead: one vector pass marks every space and double
//! quote of 64 bytes at a time as bits, and each field's end is the next
//! bit, so a field costs a few instructions instead of a search.

/// The offset of the first `needle` in `haystack` (a field of one line).
#[inline]
pub fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return searcher.find(haystack);
    }
    memchr::memchr(needle, haystack)
}

/// The offset of the last `needle` in `haystack` (a field of one line).
#[inline]
pub fn rfind_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return searcher.rfind(haystack);
    }
    memchr::memrchr(needle, haystack)
}

/// The offset of the first `a` or `b` in `haystack` (a field of one line).
#[inline]
pub fn find_byte2(a: u8, b: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::Two::new(a, b) {
        return searcher.find(haystack);
    }
    memchr::memchr2(a, b, haystack)
}

/// Bytes [`Separators`] marks at a time: the bits of a `u64`.
const WINDOW: usize = 64;

/// The window start of [`Separators`] before anything is marked: past any
/// line, so every search goes to the marking path, and `+ WINDOW` does not
/// overflow.
const NOT_MARKED: usize = usize::MAX - WINDOW;

/// The spaces and double quotes of one line, found 64 bytes at a time as it
/// is read forward (a line's later bytes are not looked at until a field
/// there is asked for), so a parser finds each field's end from bit masks.
/// Holds no allocation: two masks and where they start.
pub struct Separators<'a> {
    line: &'a [u8],
    /// Where the window the masks describe starts in `line`.
    window: usize,
    /// Bit `i`: `line[window + i]` is a space.
    spaces: u64,
    /// Bit `i`: `line[window + i]` is a double quote.
    quotes: u64,
}

impl<'a> Separators<'a> {
    /// Nothing marked yet: the first search marks the window it starts in.
    #[inline]
    pub fn new(line: &'a [u8]) -> Self {
        Separators {
            line,
            window: NOT_MARKED,
            spaces: 0,
            quotes: 0,
        }
    }

    /// The line being read.
    #[inline]
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// The offset of the first space at or after `from`.
    #[inline(always)]
    pub fn space(&mut self, from: usize) -> Option<usize> {
        self.find(from, false)
    }

    /// The offset of the first double quote at or after `from`.
    #[inline(always)]
    pub fn quote(&mut self, from: usize) -> Option<usize> {
        self.find(from, true)
    }

    /// The hot path, inlined into each parser's field reads: a shift and a
    /// bit count when the answer is in the marked window. Everything else
    /// (marking the next window, the line's end) is [`Self::find_past`],
    /// out of line so the few registers this path needs are all a field
    /// read costs (inlined whole, the search cost ~50 instructions a field
    /// in saved registers, callgrind).
    #[inline(always)]
    fn find(&mut self, from: usize, quote: bool) -> Option<usize> {
        // Wraps to a huge offset when `from` is before the window.
        let offset = from.wrapping_sub(self.window);
        if offset < WINDOW {
            let mask = if quote { self.quotes } else { self.spaces };
            // Bytes past the line's end were marked as neither.
            let ahead = mask >> offset;
            if ahead != 0 {
                return Some(from + ahead.trailing_zeros() as usize);
            }
        }
        self.find_past(from, quote)
    }

    /// [`Self::find`] when the marked window has no answer: marks the
    /// windows from `from` on until one has, or the line ends.
    #[inline(never)]
    fn find_past(&mut self, mut from: usize, quote: bool) -> Option<usize> {
        if from >= self.line.len() {
            return None;
        }
        // Reading moves forward; a search behind or past the window marks
        // a new one where it starts.
        if from < self.window || from >= self.window + WINDOW {
            self.mark(from);
        }
        loop {
            let mask = if quote { self.quotes } else { self.spaces };
            // `from - window` < WINDOW: `mark` set it so, or the check above.
            let ahead = mask >> (from - self.window);
            if ahead != 0 {
                return Some(from + ahead.trailing_zeros() as usize);
            }
            from = self.window + WINDOW;
            if from >= self.line.len() {
                return None;
            }
            self.mark(from);
        }
    }

    /// Marks the window of `line` starting at `start` (< `line.len()`).
    #[inline(never)]
    fn mark(&mut self, start: usize) {
        self.window = start;
        let rest = self.line.get(start..).unwrap_or_default();
        (self.spaces, self.quotes) = match rest.first_chunk::<WINDOW>() {
            Some(window) => window_masks(window),
            None => {
                // The line's last bytes, padded with zeros (neither a space
                // nor a quote).
                let mut padded = [0u8; WINDOW];
                padded[..rest.len()].copy_from_slice(rest);
                window_masks(&padded)
            }
        };
    }
}

/// The spaces and the double quotes of 64 bytes as bits (bit `i` for byte
/// `i`): four 16-byte SSE2 compares each, which x86-64 always has.
#[cfg(target_arch = "x86_64")]
#[inline]
fn window_masks(window: &[u8; WINDOW]) -> (u64, u64) {
    use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i};
    let space = set_splat_i8_m128i(b' ' as i8);
    let quote = set_splat_i8_m128i(b'"' as i8);
    let (blocks, _) = window.as_chunks::<16>();
    let (mut spaces, mut quotes) = (0u64, 0u64);
    for (index, block) in blocks.iter().enumerate() {
        let bytes = load_unaligned_m128i(block);
        // `move_mask` gives one bit a byte in the low 16 bits.
        let block_spaces = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(bytes, space)) as u16;
        let block_quotes = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(bytes, quote)) as u16;
        spaces |= u64::from(block_spaces) << (16 * index);
        quotes |= u64::from(block_quotes) << (16 * index);
    }
    (spaces, quotes)
}

/// The same masks, a byte at a time, where SSE2 is not at hand.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn window_masks(window: &[u8; WINDOW]) -> (u64, u64) {
    window
        .iter()
        .enumerate()
        .fold((0u64, 0u64), |(spaces, quotes), (index, &byte)| {
            (
                spaces | (u64::from(byte == b' ') << index),
                quotes | (u64::from(byte == b'"') << index),
            )
        })
}

/// The offsets of every `\n` in `chunk`, in order.
#[inline]
pub fn newlines(chunk: &[u8]) -> Newlines<'_> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::avx2::memchr::One::new(b'\n') {
        // Checked once per chunk; every line end is then a direct call.
        return Newlines::Avx2 {
            searcher,
            chunk,
            from: 0,
        };
    }
    Newlines::Portable(memchr::memchr_iter(b'\n', chunk))
}

/// The line ends of a chunk (see [`newlines`]).
pub enum Newlines<'a> {
    #[cfg(target_arch = "x86_64")]
    Avx2 {
        searcher: memchr::arch::x86_64::avx2::memchr::One,
        chunk: &'a [u8],
        from: usize,
    },
    Portable(memchr::Memchr<'a>),
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Newlines::Avx2 {
                searcher,
                chunk,
                from,
            } => {
                let found = *from + searcher.find(chunk.get(*from..)?)?;
                *from = found + 1;
                Some(found)
            }
            Newlines::Portable(iter) => iter.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_find_what_memchr_finds() {
        let cases: [(&str, &[u8]); 6] = [
            ("empty", b""),
            ("none", b"GET /index.html HTTP/1.1"),
            ("first byte", b"\"x\" \n"),
            ("short, several", b"a\"b\n\"c?d\n"),
            ("long", &[b'x'; 300]),
            ("long with hits", b"0123456789abcdef0123456789abcdef\"0123456789\nabcdef?0123456789abcdef0123456789abcdef\n"),
        ];
        for (name, haystack) in cases {
            assert_eq!(find_byte(b'"', haystack), memchr::memchr(b'"', haystack), "{name}");
            assert_eq!(rfind_byte(b'"', haystack), memchr::memrchr(b'"', haystack), "{name}");
            assert_eq!(
                find_byte2(b' ', b'?', haystack),
                memchr::memchr2(b' ', b'?', haystack),
                "{name}"
            );
            let ours: Vec<usize> = newlines(haystack).collect();
            let theirs: Vec<usize> = memchr::memchr_iter(b'\n', haystack).collect();
            assert_eq!(ours, theirs, "{name}");
        }
    }

    /// What [`Separators`] must answer: a plain search from `from`.
    fn plain(line: &[u8], from: usize, needle: u8) -> Option<usize> {
        let rest = line.get(from..)?;
        memchr::memchr(needle, rest).map(|at| from + at)
    }

    #[test]
    fn separators_find_what_a_plain_search_finds() {
        let alb_line: &[u8] = br#"https 2024-03-11T23:00:16.683000Z app/shop/50dc6c495c0c9188 89.247.190.36:56683 10.0.1.13:8080 0.000 0.000 0.000 304 304 412 0 "GET https://shop.example:443/favicon.ico HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/shop/73e2d6bc24d8a067 "Root=1-65f1c0de-00000000000000000000412b" "shop.example" "-" 0 2024-03-11T23:00:16.683000Z "forward""#;
        let mut spaced_64 = [b'x'; 200];
        for at in [0, 63, 64, 127, 128, 199] {
            spaced_64[at] = b' ';
        }
        spaced_64[65] = b'"';
        let cases: [(&str, &[u8]); 6] = [
            ("empty", b""),
            ("none", &[b'x'; 150]),
            ("short", br#"a "b c" d"#),
            ("on the window edges", &spaced_64),
            ("an ALB line", alb_line),
            ("only separators", &[b' '; 70]),
        ];
        for (name, line) in cases {
            // Forward, as parsers read: every start in order.
            let mut separators = Separators::new(line);
            for from in 0..=line.len() + 1 {
                assert_eq!(separators.space(from), plain(line, from, b' '), "{name}: space from {from}");
                assert_eq!(separators.quote(from), plain(line, from, b'"'), "{name}: quote from {from}");
            }
            // Jumps forward past whole windows, then back.
            let mut separators = Separators::new(line);
            for from in [0, 150, 3, 70, 129, 64, 0] {
                assert_eq!(separators.space(from), plain(line, from, b' '), "{name}: space from {from}");
                assert_eq!(separators.quote(from), plain(line, from, b'"'), "{name}: quote from {from}");
            }
        }
    }

    #[test]
    fn separators_agree_with_a_plain_search_on_any_bytes() {
        use proptest::prelude::*;
        proptest!(|(line in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'"'), any::<u8>()], 0..300),
                    starts in proptest::collection::vec(0usize..310, 1..20))| {
            let mut separators = Separators::new(&line);
            for from in starts {
                prop_assert_eq!(separators.space(from), plain(&line, from, b' '));
                prop_assert_eq!(separators.quote(from), plain(&line, from, b'"'));
            }
        });
    }
}
