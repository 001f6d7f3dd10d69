//! Refines an incident's edges from the bucket to the request, with the
//! per-slot counts kept in each bucket (one-second slots from one-minute
//! buckets up, sixty slots in narrower ones): the chosen slot's first (last)
//! bad arrival is the edge, so it is always an actual request.
//!
//! The first bad request of the first anomalous bucket is often not the
//! incident's: on a busy site a background 500 a few seconds earlier would
//! pull the start forward, and an onset late in the previous bucket would be
//! missed. The onset is found with the change-point estimate of Page's
//! CUSUM (E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954):
//! with a reference rate `k` between the baseline and the incident's rate,
//! the onset is the slot `s` that maximises Σ_{j ≥ s} (bad_j − k·requests_j).
//! The end is the mirror image.

/// The reference never goes below this multiple of the baseline rate, so
/// the background alone always costs more than it gains.
pub const REFERENCE_MIN_BASELINE_MULTIPLE: f64 = 2.0;

/// Counts of one slot, as the refinement sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SlotCounts {
    pub requests: u64,
    pub bad: u64,
}

/// The reference rate of the CUSUM for a baseline rate `b` and an
/// incident rate `r`: the rate at which the log-likelihood ratio of the two
/// Bernoulli hypotheses is zero, k = ln((1−b)/(1−r)) / (ln(r/b) +
/// ln((1−b)/(1−r))). Weighting each request by that ratio is the optimal
/// CUSUM for a change from `b` to `r` (Page 1954; Basseville & Nikiforov,
/// "Detection of Abrupt Changes", 1993, §2.2); scaled so a bad request
/// counts 1, a healthy one costs `k`.
pub fn reference_rate(baseline_rate: f64, incident_rate: f64) -> f64 {
    let floor = REFERENCE_MIN_BASELINE_MULTIPLE * baseline_rate;
    let b = baseline_rate.clamp(1e-9, 1.0 - 1e-9);
    let r = incident_rate.clamp(1e-9, 1.0 - 1e-9);
    if r <= b {
        return floor.max(b);
    }
    let good_cost = ((1.0 - b) / (1.0 - r)).ln();
    let bad_gain = (r / b).ln();
    (good_cost / (bad_gain + good_cost)).max(floor)
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

    /// Onsets and ends are the same search run forwards and backwards, so
    /// one table checks both.
    #[test]
    fn onsets_and_ends_skip_lone_background_errors() {
        type Search = fn(&[SlotCounts], f64) -> Option<usize>;
        let (onset, end): (Search, Search) = (onset_slot, end_slot);
        let cases = [
            (
                "onset: clean step",
                onset,
                "..........xxxxxxxxxx",
                0.05,
                Some(10),
            ),
            (
                "onset: background error long before",
                onset,
                "x...................xxxxxxxxxx",
                0.2,
                Some(20),
            ),
            (
                "onset: mixed incident starts at its first failure",
                onset,
                "..........x..xx.xxx.xx.x",
                0.2,
                Some(10),
            ),
            ("onset: no bad request", onset, "..........", 0.1, None),
            (
                "end: clean stop",
                end,
                "xxxxxxxxxx..........",
                0.05,
                Some(9),
            ),
            (
                "end: background error long after",
                end,
                "xxxxxxxxxx....................x",
                0.2,
                Some(9),
            ),
            (
                "end: mixed tail ends at its last failure",
                end,
                "xx.x.xxx..x.........",
                0.2,
                Some(10),
            ),
        ];
        for (name, search, pattern, reference, expected) in cases {
            assert_eq!(search(&slots(pattern), reference), expected, "{name}");
        }
    }

    #[test]
    fn the_reference_balances_the_likelihoods() {
        let cases = [
            ("three in four failing over 1.1%", 0.011, 0.75, 0.2457),
            ("2.4% slow over 0.1%", 0.001, 0.024, 0.0073),
            ("no change: twice the baseline", 0.05, 0.01, 0.1),
        ];
        for (name, baseline, incident, expected) in cases {
            let got = reference_rate(baseline, incident);
            assert!((got - expected).abs() < 5e-4, "{name}: {got}");
        }
    }
}
