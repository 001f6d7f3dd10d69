//! The severity a message names in its own text. An RFC 3164 file line
//! carries no `<PRI>`, yet php-fpm writes `[WARNING]`, Go services
//! `level=warn`, Java `WARN`: read from [`LEVEL_MARKERS`], so a warning
//! that jumps at the onset is kept like one with a `<PRI>` (the classifier
//! keeps warnings for the log-pattern signals; see `classify.rs`).

/// A level word as a program writes it at the head of its message, and the
/// syslog severity it stands for (RFC 5424 table 2).
#[derive(Clone, Copy, Debug)]
pub struct LevelMarker {
    /// Matched case-insensitively at the start of the message, after
    /// leading spaces.
    pub prefix: &'static str,
    pub severity: u8,
}

/// The level markers, in order (the first that matches wins). Only markers
/// at the start of the message count: "warning" in the middle of a
/// sentence is prose, not a level.
pub const LEVEL_MARKERS: &[LevelMarker] = &[
    LevelMarker {
        prefix: "[emerg]",
        severity: 0,
    },
    LevelMarker {
        prefix: "[alert]",
        severity: 1,
    },
    LevelMarker {
        prefix: "[crit]",
        severity: 2,
    },
    LevelMarker {
        prefix: "[critical]",
        severity: 2,
    },
    LevelMarker {
        prefix: "[error]",
        severity: 3,
    },
    LevelMarker {
        prefix: "error:",
        severity: 3,
    },
    LevelMarker {
        prefix: "level=error",
        severity: 3,
    },
    LevelMarker {
        prefix: "[warning]",
        severity: 4,
    },
    LevelMarker {
        prefix: "[warn]",
        severity: 4,
    },
    LevelMarker {
        prefix: "warning:",
        severity: 4,
    },
    LevelMarker {
        prefix: "warn ",
        severity: 4,
    },
    LevelMarker {
        prefix: "level=warn",
        severity: 4,
    },
];

/// The severity `message` names at its start, if any.
pub fn severity_in_text(message: &[u8]) -> Option<u8> {
    let start = message.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &message[start..];
    LEVEL_MARKERS
        .iter()
        .find(|m| {
            head.len() >= m.prefix.len()
                && head[..m.prefix.len()].eq_ignore_ascii_case(m.prefix.as_bytes())
        })
        .map(|m| m.severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words_at_the_start_name_a_severity() {
        let cases = [
            (
                "php-fpm warning",
                "[WARNING] [pool www] server reached pm.max_children setting (6), consider raising it",
                Some(4),
            ),
            ("php-fpm error", "[ERROR] unable to bind", Some(3)),
            ("go logfmt", "level=warn msg=\"slow query\"", Some(4)),
            ("leading spaces", "  WARNING: disk 91% full", Some(4)),
            ("java WARN", "WARN pool exhausted", Some(4)),
            ("prose is not a level", "disk warning cleared", None),
            (
                "notice is not kept",
                "[NOTICE] fpm is running, pid 812",
                None,
            ),
            ("a word that starts like one", "warned users", None),
            ("empty", "", None),
        ];
        for (name, text, expected) in cases {
            assert_eq!(severity_in_text(text.as_bytes()), expected, "{name}");
        }
    }
}
