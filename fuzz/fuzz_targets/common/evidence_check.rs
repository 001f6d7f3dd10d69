//! Shared by the evidence fuzz targets (syslog, error log, metrics CSV): run
//! settings taken from one control byte, and the whole evidence path
//! (`evidence::read_other`: sniffing, line reading, classification or CSV
//! loading; then `evidence::finish`: year and zone inference, placing times)
//! with the invariants that must hold on any input.

// Each target uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

use postmortem::ingest::evidence::{self, Collected, EvidenceOptions, ProgressTap};
use postmortem::ingest::reader::{Block, BlockReader, Source};
use postmortem::ingest::{InputKind, InputStats, MAX_SKIPPED_EXAMPLES};
use postmortem::progress::NoProgress;
use postmortem::timefmt::{Millis, Zone};

/// 2023-11-12T00:00:00Z, a day the seeds use.
const REFERENCE_MS: Millis = 1_699_747_200_000;
const DAY_MS: Millis = 86_400_000;

/// What `--tz`, `--year`, the access logs and `--since`/`--until` would
/// give a run, picked by the bits of `control`.
pub struct Settings {
    pub zone: Option<Zone>,
    pub year: Option<i32>,
    /// The offset the access logs carried.
    pub access_offset: Option<i32>,
    /// The access logs' time range (the reference for year inference).
    pub access_range: Option<(Millis, Millis)>,
    /// `--since`, `--until`.
    pub window: (Option<Millis>, Option<Millis>),
}

impl Settings {
    /// The zone a run reads wall-clock times in.
    pub fn zone_or_default(&self) -> Zone {
        self.zone
            .unwrap_or(Zone::Fixed(self.access_offset.unwrap_or(0)))
    }
}

pub fn settings(control: u8) -> Settings {
    // Named zones with DST (Lord Howe shifts by 30 minutes; Apia skipped a
    // whole day in 2011), as `--tz` gives them.
    static ZONES: LazyLock<[Option<Zone>; 8]> = LazyLock::new(|| {
        [
            None,
            Some(Zone::Fixed(0)),
            Some(Zone::Fixed(19_800)),
            Zone::parse("Europe/Berlin"),
            Zone::parse("America/New_York"),
            Zone::parse("Australia/Lord_Howe"),
            Some(Zone::Fixed(-50_400)),
            Zone::parse("Pacific/Apia"),
        ]
    });
    // `--year` takes any i32 on the command line.
    let years = [
        None,
        Some(2023),
        Some(2024),
        Some(1969),
        Some(9999),
        Some(-1),
        Some(i32::MAX),
        Some(i32::MIN),
    ];
    let zone = ZONES[usize::from(control & 7)];
    let year = years[usize::from((control >> 3) & 7)];
    let access_offset = (control & 0x40 != 0).then_some(3600);
    let access_range = (control & 0x80 != 0).then_some((REFERENCE_MS, REFERENCE_MS + DAY_MS));
    let window = if control & 0x48 == 0x48 {
        (Some(REFERENCE_MS), Some(REFERENCE_MS + DAY_MS / 2))
    } else {
        (None, None)
    };
    Settings {
        zone,
        year,
        access_offset,
        access_range,
        window,
    }
}

/// Reads `bytes` as an evidence input next to an access log with
/// `settings`, places its times and checks what must hold.
pub fn read_and_place(bytes: &[u8], settings: &Settings) {
    if bytes.is_empty() {
        return;
    }
    // The input as one block, as a reader gives a short input; the reader
    // after it is at its end. (Each `next_block` zeroes an 8 MB buffer, which
    // would cost more than the parsing this target is after.)
    let first_block = Block {
        bytes: bytes.to_vec(),
        error: None,
    };
    let blocks = BlockReader::new(std::io::empty());
    let mut access = InputStats::new("access.log".to_string());
    if let Some((first, last)) = settings.access_range {
        access.kind = InputKind::Access;
        access.first = Some(first);
        access.last = Some(last);
    }
    // A path that does not exist: no modification time, so the result does
    // not depend on the clock.
    let source = Source::File(PathBuf::from("/nonexistent/postmortem-fuzz-input"));
    let mut stats = InputStats::new(source.display());
    let options = EvidenceOptions {
        zone: settings.zone,
        year: settings.year,
        classifier: Default::default(),
    };
    let raw_bytes_read = AtomicU64::new(0);
    let tap = ProgressTap {
        progress: &NoProgress,
        consumed_before: 0,
        raw_bytes_read: &raw_bytes_read,
    };
    let mut collected = Collected::default();
    evidence::read_other(
        &mut stats,
        &source,
        1,
        (first_block, blocks),
        &options,
        &mut collected,
        &tap,
    );
    match stats.kind {
        InputKind::Syslog | InputKind::ErrorLog => {
            assert_eq!(stats.lines, stats.parsed + stats.skipped, "{stats:?}");
        }
        InputKind::Metrics => assert!(stats.parsed + stats.skipped <= stats.lines, "{stats:?}"),
        _ => {}
    }
    assert!(stats.skipped_examples.len() as u64 <= stats.skipped.min(MAX_SKIPPED_EXAMPLES as u64));
    let mut inputs = vec![access, stats];
    let resolved = evidence::finish(
        collected,
        &mut inputs,
        Zone::Fixed(settings.access_offset.unwrap_or(0)),
        &options,
        settings.window,
    );
    let stats = &inputs[1];
    if let (Some(first), Some(last)) = (stats.first, stats.last) {
        assert!(first <= last, "first {first} after last {last}: {stats:?}");
    }
    let in_window = |at: Millis| {
        settings.window.0.is_none_or(|s| at >= s) && settings.window.1.is_none_or(|u| at <= u)
    };
    for pair in resolved.events.windows(2) {
        assert!(pair[0].at <= pair[1].at, "events out of order");
    }
    for event in &resolved.events {
        assert!(event.at <= event.last_at, "{event:?}");
        assert!(event.count >= 1, "{event:?}");
        assert!(in_window(event.at), "{event:?}");
        assert!(
            event.text.chars().count() <= postmortem::ingest::events::MAX_EVENT_TEXT_CHARS + 1,
            "{event:?}"
        );
        let _ = event.display_text();
    }
    for metric in &resolved.metrics {
        assert_eq!(metric.times.len(), metric.values.len(), "{metric:?}");
        assert_eq!(metric.times.len(), metric.lines.len(), "{metric:?}");
        assert!(metric.times.is_sorted(), "{metric:?}");
        assert!(metric.times.iter().all(|&at| in_window(at)), "{metric:?}");
    }
}

/// Whether `part` lies inside `whole` (a parser returned a borrowed slice).
pub fn is_within(whole: &[u8], part: &[u8]) -> bool {
    let (start, end) = (
        whole.as_ptr() as usize,
        whole.as_ptr() as usize + whole.len(),
    );
    let (p_start, p_end) = (part.as_ptr() as usize, part.as_ptr() as usize + part.len());
    part.is_empty() || (start <= p_start && p_end <= end)
}
