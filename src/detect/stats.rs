//! Small statistics the detector needs, each with a test table: the log-gamma
//! function, the binomial upper tail, medians and the median absolute
//! deviation.

/// ln Γ(x) for x > 0, by the Lanczos approximation with g = 7 and nine
/// coefficients (Numerical Recipes, 3rd ed., §6.1; relative error < 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln C(n, k).
pub fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// Largest number of terms summed for a tail: far past the mean the terms
/// shrink geometrically, so this is never reached in practice.
const MAX_TAIL_TERMS: u64 = 100_000;

/// P(X ≥ k) for X ~ Binomial(n, p): how surprising `k` bad requests out of
/// `n` are when the normal rate is `p`. Only the upper tail matters to the
/// detector, so at or below the mean this returns 1 (not surprising)
/// without summing.
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 || (k as f64) <= n as f64 * p {
        return 1.0;
    }
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut term = (ln_choose(n, k) + k as f64 * ln_p + (n - k) as f64 * ln_q).exp();
    if term == 0.0 {
        // Past the mean the terms only shrink: when the first underflows,
        // the tail is 0 in f64, and summing zeros to MAX_TAIL_TERMS would
        // only cost time (it did: a third of a 5-million-line report).
        return 0.0;
    }
    let mut sum = term;
    let ratio_factor = p / (1.0 - p);
    let mut i = k;
    while i < n && i - k < MAX_TAIL_TERMS {
        term *= (n - i) as f64 / (i + 1) as f64 * ratio_factor;
        sum += term;
        i += 1;
        if term < sum * 1e-15 {
            break;
        }
    }
    sum.min(1.0)
}

/// P(X ≤ k) for X ~ Binomial(n, p): how surprising so few bad requests are
/// when the rate is `p`. At or above the mean this returns 1 without
/// summing.
pub fn binomial_lower_tail(k: u64, n: u64, p: f64) -> f64 {
    if k >= n || p <= 0.0 || (k as f64) >= n as f64 * p {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    let ratio = p / (1.0 - p);
    let mut term = (n as f64 * (1.0 - p).ln()).exp();
    let mut sum = term;
    for i in 0..k {
        term *= (n - i) as f64 / (i + 1) as f64 * ratio;
        sum += term;
    }
    sum.min(1.0)
}

/// P(X ≤ k) for X ~ Poisson(λ): how surprising so few arrivals are.
pub fn poisson_lower_tail(k: u64, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    let mut term = (-lambda).exp();
    let mut sum = term;
    for i in 1..=k {
        term *= lambda / i as f64;
        sum += term;
        if sum >= 1.0 {
            return 1.0;
        }
    }
    sum.min(1.0)
}

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when empty. NaNs are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The `q`-quantile with linear interpolation between order statistics.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let fraction = position - low as f64;
    Some(sorted[low] + (sorted[high] - sorted[low]) * fraction)
}

/// Median absolute deviation, scaled by 1.4826 so it estimates the standard
/// deviation of normally distributed data (Rousseeuw & Croux 1993).
pub fn scaled_mad(values: &[f64]) -> Option<f64> {
    const NORMAL_CONSISTENCY: f64 = 1.4826;
    let center = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&deviations).map(|mad| mad * NORMAL_CONSISTENCY)
}

/// Rounded to four decimals: how signal values are reported.
pub fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        let cases = [
            (1.0, 0.0),
            (2.0, 0.0),
            (5.0, 24f64.ln()),
            (11.0, 3_628_800f64.ln()),
            (0.5, std::f64::consts::PI.sqrt().ln()),
        ];
        for (x, expected) in cases {
            assert!(
                (ln_gamma(x) - expected).abs() < 1e-10,
                "lnΓ({x}) = {}",
                ln_gamma(x)
            );
        }
    }

    #[test]
    fn binomial_tails_match_exact_sums() {
        // Exact values from the definition, Σ_{i≥k} C(n,i) p^i (1−p)^(n−i).
        let cases = [
            ("all of three at 50%", 3, 3, 0.5, 0.125),
            ("five of ten at 20%", 5, 10, 0.2, 0.032_793_497_6),
            ("four of 18 at 0.2%", 4, 18, 0.002, 4.787_509_6e-8),
        ];
        for (name, k, n, p, expected) in cases {
            let got = binomial_upper_tail(k, n, p);
            assert!(
                (got - expected).abs() <= expected * 1e-3,
                "{name}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn binomial_tail_edges() {
        let cases = [
            ("nothing bad", 0, 10, 0.1, 1.0),
            ("more bad than requests", 11, 10, 0.1, 0.0),
            ("at the mean is unsurprising", 1, 10, 0.1, 1.0),
            ("zero rate makes any bad impossible", 1, 10, 0.0, 0.0),
            (
                "a tail below f64's range is 0",
                30_000,
                1_000_000,
                0.001,
                0.0,
            ),
        ];
        for (name, k, n, p, expected) in cases {
            assert_eq!(binomial_upper_tail(k, n, p), expected, "{name}");
        }
        assert!(binomial_upper_tail(60, 120, 0.002) < 1e-100);
    }

    #[test]
    fn binomial_lower_tails() {
        let cases = [
            ("none of ten at 10%", 0, 10, 0.1, 0.9f64.powi(10)),
            (
                "at most one of 150 at 5%",
                1,
                150,
                0.05,
                0.95f64.powi(150) + 150.0 * 0.05 * 0.95f64.powi(149),
            ),
            ("at the mean is unsurprising", 15, 150, 0.1, 1.0),
        ];
        for (name, k, n, p, expected) in cases {
            let got = binomial_lower_tail(k, n, p);
            assert!(
                (got - expected).abs() < 1e-12,
                "{name}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn poisson_lower_tails() {
        let cases = [
            ("none when six expected", 0, 6.0, (-6.0f64).exp()),
            (
                "at most one when two expected",
                1,
                2.0,
                3.0 * (-2.0f64).exp(),
            ),
            ("nothing expected", 0, 0.0, 1.0),
        ];
        for (name, k, lambda, expected) in cases {
            let got = poisson_lower_tail(k, lambda);
            assert!((got - expected).abs() < 1e-12, "{name}: {got}");
        }
    }

    #[test]
    fn medians_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), Some(2.0));
        let mad = scaled_mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]).expect("non-empty");
        assert!((mad - 1.4826).abs() < 1e-9, "{mad}");
    }
}
