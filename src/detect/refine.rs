//! Refines an incident's edges from the bucket to the second, with the
//! per-slot counts kept in each bucket (sixty slots a bucket).
//!
//! The first bad request of the first anomalous bucket is often not the
//! incident's: on a busy site a background 500 a few seconds earlier would
//! pull the start forward, and an onset late in the previous bucket would be
//! missed. The onset is found with the change-point estimate of Page's
//! CUSUM (E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954):
//! with a reference rate `k` between the baseline and the incident's rate,
//! the onset is the slot `s` that maximises Σ_{j ≥ s} (bad_j − k·requests_j).
//! The end is the mirror image.

/// Where between the baseline rate and the incident's rate the CUSUM
/// reference sits. A quarter of the way up keeps a lone background error
/// a few seconds before the onset out (it must be followed by enough
/// healthy requests to cost more than it gains), while a mixed incident in
/// which healthy and failing requests alternate still starts at its first
/// failure.
pub const REFERENCE_FRACTION: f64 = 0.25;

/// Counts of one slot, as the refinement sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SlotCounts {
    pub requests: u64,
    pub bad: u64,
}

/// The reference rate of the CUSUM for a baseline and an incident rate.
pub fn reference_rate(baseline_rate: f64, incident_rate: f64) -> f64 {
    baseline_rate + REFERENCE_FRACTION * (incident_rate - baseline_rate).max(0.0)
}

/// The index of the slot where excess bad requests begin: the `s` that
/// maximises the excess from `s` to the end, among slots with a bad
/// request. `None` when no slot has one.
pub fn onset_slot(slots: &[SlotCounts], reference: f64) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    let mut suffix = 0.0;
    for (index, slot) in slots.iter().enumerate().rev() {
        suffix += slot.bad as f64 - reference * slot.requests as f64;
        if slot.bad > 0 && best.is_none_or(|(value, _)| suffix >= value) {
            best = Some((suffix, index));
        }
    }
    best.map(|(_, index)| index)
}

/// The index of the slot where excess bad requests end: the mirror of
/// [`onset_slot`].
pub fn end_slot(slots: &[SlotCounts], reference: f64) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    let mut prefix = 0.0;
    for (index, slot) in slots.iter().enumerate() {
        prefix += slot.bad as f64 - reference * slot.requests as f64;
        if slot.bad > 0 && best.is_none_or(|(value, _)| prefix >= value) {
            best = Some((prefix, index));
        }
    }
    best.map(|(_, index)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(pattern: &str) -> Vec<SlotCounts> {
        // One char a slot: '.' one healthy request, 'x' one bad request,
        // ' ' no request.
        pattern
            .chars()
            .map(|c| match c {
                'x' => SlotCounts {
                    requests: 1,
                    bad: 1,
                },
                '.' => SlotCounts {
                    requests: 1,
                    bad: 0,
                },
                _ => SlotCounts::default(),
            })
            .collect()
    }

    #[test]
    fn onsets_skip_lone_background_errors() {
        let cases = [
            ("clean step", "..........xxxxxxxxxx", 0.05, Some(10)),
            (
                "background error long before",
                "x...................xxxxxxxxxx",
                0.2,
                Some(20),
            ),
            (
                "mixed incident starts at its first failure",
                "..........x..xx.xxx.xx.x",
                0.2,
                Some(10),
            ),
            ("no bad request", "..........", 0.1, None),
        ];
        for (name, pattern, reference, expected) in cases {
            assert_eq!(onset_slot(&slots(pattern), reference), expected, "{name}");
        }
    }

    #[test]
    fn ends_skip_lone_background_errors_after() {
        let cases = [
            ("clean stop", "xxxxxxxxxx..........", 0.05, Some(9)),
            (
                "background error long after",
                "xxxxxxxxxx....................x",
                0.2,
                Some(9),
            ),
            (
                "mixed tail ends at its last failure",
                "xx.x.xxx..x.........",
                0.2,
                Some(10),
            ),
        ];
        for (name, pattern, reference, expected) in cases {
            assert_eq!(end_slot(&slots(pattern), reference), expected, "{name}");
        }
    }

    #[test]
    fn the_reference_sits_a_quarter_of_the_way_up() {
        assert!((reference_rate(0.01, 0.81) - 0.21).abs() < 1e-12);
        assert_eq!(reference_rate(0.05, 0.01), 0.05, "never below the baseline");
    }
}
