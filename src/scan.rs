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
            assert_eq!(
                find_byte3(b' ', b'?', b'\n', haystack),
                memchr::memchr3(b' ', b'?', b'\n', haystack),
                "{name}"
            );
            let ours: Vec<usize> = newlines(haystack).collect();
            let theirs: Vec<usize> = memchr::memchr_iter(b'\n', haystack).collect();
            assert_eq!(ours, theirs, "{name}");
        }
    }
}
