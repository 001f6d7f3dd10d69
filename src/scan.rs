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

/// The offset of the first `a`, `b` or `c` in `haystack` (a field of one
/// line).
#[inline]
pub fn find_byte3(a: u8, b: u8, c: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::Three::new(a, b, c) {
        return searcher.find(haystack);
    }
    memchr::memchr3(a, b, c, haystack)
}

/// A byte of 0x01 in each of a word's eight bytes: times a byte, that
/// byte eight times.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Whether `haystack` holds an `a` or a `b`: `find_byte2(a, b,
/// haystack).is_some()`, a word at a time for 8 to 16 bytes (an
/// upstream's `10.0.1.12:8080`), where memchr's searchers go a byte at a
/// time (~7 instructions a byte, callgrind).
#[inline]
pub fn contains_byte2(a: u8, b: u8, haystack: &[u8]) -> bool {
    let len = haystack.len();
    let word = |at: usize| <[u8; 8]>::try_from(&haystack[at..at + 8]).map_or(0, u64::from_le_bytes);
    match len {
        // Two words, overlapping when shorter than 16, cover every byte.
        8..=16 => {
            let (head, tail) = (word(0), word(len - 8));
            word_has_byte(head, a)
                || word_has_byte(head, b)
                || word_has_byte(tail, a)
                || word_has_byte(tail, b)
        }
        0..8 => haystack.iter().any(|&x| x == a || x == b),
        _ => find_byte2(a, b, haystack).is_some(),
    }
}

/// Bytes [`find_byte_near`] reads a word at a time before it hands the
/// rest to [`find_byte`]: the ALB's short fields (a load balancer's name,
/// `client:port`) end within them.
const NEAR_BYTES: usize = 32;

/// [`find_byte`] for a byte expected within the first few bytes (the end
/// of a short field): a word at a time for the first [`NEAR_BYTES`]
/// bytes, then [`find_byte`]. The vector searcher's setup and its
/// alignment step cost more than the search in a field of 8 to 30 bytes:
/// the ALB's five short fields took 14 instructions a line more with a
/// byte loop and the vector search (callgrind).
#[inline]
pub fn find_byte_near(needle: u8, haystack: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < NEAR_BYTES
        && let Some(Ok(chunk)) = haystack.get(at..at + 8).map(<[u8; 8]>::try_from)
    {
        let found = lowest_zero_byte(u64::from_le_bytes(chunk) ^ (ONES * u64::from(needle)));
        if let Some(offset) = found {
            return Some(at + offset);
        }
        at += 8;
    }
    find_byte(needle, haystack.get(at..)?).map(|found| at + found)
}

/// The offset of the first zero byte of `word` (little-endian): a zero
/// byte borrows into its own high bit without having had it; the lowest
/// mark is exact (a mark above a zero byte may be the borrow's).
#[inline(always)]
fn lowest_zero_byte(word: u64) -> Option<usize> {
    let marks = word.wrapping_sub(ONES) & !word & (ONES << 7);
    (marks != 0).then(|| (marks.trailing_zeros() / 8) as usize)
}

/// Whether one of the eight bytes of `word` is `byte`: the byte is zero
/// after the XOR, and only a zero byte borrows into its own high bit
/// without having had it (a borrow from a lower zero byte can mark a
/// higher one too, which does not change the answer).
#[inline(always)]
fn word_has_byte(word: u64, byte: u8) -> bool {
    lowest_zero_byte(word ^ (ONES * u64::from(byte))).is_some()
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
            ahead: 0,
        };
    }
    Newlines::Portable(memchr::memchr_iter(b'\n', chunk))
}

/// How far ahead of the line being split [`Newlines`] asks for the
/// chunk's bytes, each cache line once. A chunk of a mapped file is still
/// in memory, not in the core's cache (the copy of a positional read put it
/// there): without this the line split waited on each of the ALB's 676-byte
/// lines (ALB 0.578 -> 0.542 s, nginx 0.398 -> 0.388 s, 6 interleaved runs
/// each; 4 and 16 KiB alike, 1 KiB slower; BENCHMARKS.md).
const PREFETCH_AHEAD_BYTES: usize = 8 << 10;

/// The unit [`PREFETCH_AHEAD_BYTES`] is asked for in.
const CACHE_LINE_BYTES: usize = 64;

/// Asks for the cache line holding `at` to be loaded into the core's caches.
#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast()) };
    }
}

/// The line ends of a chunk (see [`newlines`]).
pub enum Newlines<'a> {
    #[cfg(target_arch = "x86_64")]
    Avx2 {
        searcher: memchr::arch::x86_64::avx2::memchr::One,
        chunk: &'a [u8],
        from: usize,
        /// Where the bytes not yet prefetched start.
        ahead: usize,
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
                ahead,
            } => {
                let target = (*from + PREFETCH_AHEAD_BYTES).min(chunk.len());
                while *ahead < target {
                    prefetch(chunk.as_ptr().wrapping_add(*ahead));
                    *ahead += CACHE_LINE_BYTES;
                }
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
        // ALB-sized lines over more than twice the prefetch distance: the
        // line ends are found where memchr finds them, prefetched or not.
        let long_lines: Vec<u8> = (0..3 * PREFETCH_AHEAD_BYTES)
            .map(|at| if at % 677 == 676 { b'\n' } else { b'x' })
            .collect();
        let cases: [(&str, &[u8]); 7] = [
            ("lines past the prefetch distance", &long_lines),
            ("empty", b""),
            ("none", b"GET /index.html HTTP/1.1"),
            ("first byte", b"\"x\" \n"),
            ("short, several", b"a\"b\n\"c?d\n"),
            ("long", &[b'x'; 300]),
            ("long with hits", b"0123456789abcdef0123456789abcdef\"0123456789\nabcdef?0123456789abcdef0123456789abcdef\n"),
        ];
        for (name, haystack) in cases {
            assert_eq!(
                find_byte(b'"', haystack),
                memchr::memchr(b'"', haystack),
                "{name}"
            );
            assert_eq!(
                rfind_byte(b'"', haystack),
                memchr::memrchr(b'"', haystack),
                "{name}"
            );
            assert_eq!(
                find_byte2(b' ', b'?', haystack),
                memchr::memchr2(b' ', b'?', haystack),
                "{name}"
            );
            assert_eq!(
                find_byte3(b' ', b'?', b'\n', haystack),
                memchr::memchr3(b' ', b'?', b'\n', haystack),
                "{name}"
            );
            assert_eq!(
                contains_byte2(b' ', b'?', haystack),
                memchr::memchr2(b' ', b'?', haystack).is_some(),
                "{name}"
            );
            assert_eq!(
                find_byte_near(b'"', haystack),
                memchr::memchr(b'"', haystack),
                "{name}"
            );
            let ours: Vec<usize> = newlines(haystack).collect();
            let theirs: Vec<usize> = memchr::memchr_iter(b'\n', haystack).collect();
            assert_eq!(ours, theirs, "{name}");
        }
    }

    /// The word-at-a-time search finds the first byte where memchr does,
    /// in the first word, the last word it reads, past them (handed to
    /// `find_byte`) and in a tail shorter than a word.
    #[test]
    fn find_byte_near_finds_where_memchr_finds() {
        let cases: [(&str, &[u8], Option<usize>); 10] = [
            ("empty", b"", None),
            ("shorter than a word, none", b"http", None),
            ("shorter than a word", b"h2 x", Some(2)),
            ("first byte", b" 10.0.1.12:8080", Some(0)),
            ("an address", b"10.0.1.12:8080 0.000", Some(14)),
            (
                "a load balancer",
                b"app/shop/50dc6c495c0c9188 46.34.232.219:40403",
                Some(25),
            ),
            (
                "last byte of the words",
                b"0123456789abcdef0123456789abcde x",
                Some(31),
            ),
            (
                "first byte after the words",
                b"0123456789abcdef0123456789abcdef x",
                Some(32),
            ),
            ("in the tail after a word", b"01234567ab x", Some(10)),
            ("twice, the first found", b"a b c d e f g h i", Some(1)),
        ];
        for (name, haystack, expected) in cases {
            assert_eq!(find_byte_near(b' ', haystack), expected, "{name}");
        }
        use proptest::prelude::*;
        // Rare spaces, so that many fall past the words read one at a time.
        proptest!(|(haystack in proptest::collection::vec(prop_oneof![1 => Just(b' '), 30 => any::<u8>()], 0..80))| {
            prop_assert_eq!(find_byte_near(b' ', &haystack), memchr::memchr(b' ', &haystack));
        });
    }

    /// The word-at-a-time check says what memchr2 says at every length
    /// around its two words, wherever the byte is.
    #[test]
    fn contains_byte2_finds_what_memchr2_finds() {
        let cases: [(&str, &[u8], bool); 8] = [
            ("empty", b"", false),
            ("short, none", b"srv1", false),
            ("short, comma", b"a,b", true),
            ("an address", b"10.0.1.12:8080", false),
            ("a list", b"10.0.1.1:80,x", true),
            ("space in the last byte of 16", b"10.0.1.123:8080 ", true),
            ("first byte of 9", b" 10.0.1.1", true),
            ("17 bytes, none", b"10.10.10.10:65535", false),
        ];
        for (name, haystack, expected) in cases {
            assert_eq!(contains_byte2(b',', b' ', haystack), expected, "{name}");
        }
        use proptest::prelude::*;
        proptest!(|(haystack in proptest::collection::vec(prop_oneof![Just(b','), Just(b' '), Just(b'a'), Just(0u8), Just(0xffu8), Just(b'!'), Just(b'-')], 0..40))| {
            prop_assert_eq!(
                contains_byte2(b',', b' ', &haystack),
                memchr::memchr2(b',', b' ', &haystack).is_some()
            );
        });
    }
}
