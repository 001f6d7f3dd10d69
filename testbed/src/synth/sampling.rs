//! Small sampling helpers over the seeded generator, with their parameters
//! checked so that no computed probability or range can panic at run time.

use rand::RngExt;
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_pcg::Pcg64;

/// The multiplier that spreads purpose numbers over the seed space (the
/// 64-bit golden ratio), so that neighbouring purposes get unrelated streams.
const STREAM_SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

/// An independent generator for one purpose (population, traffic, syslog …)
/// of a scenario. Separate streams keep a change in one part of a scenario
/// from reshuffling every other part.
pub fn stream(seed: u64, purpose: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed ^ purpose.wrapping_add(1).wrapping_mul(STREAM_SPREAD))
}

/// True with probability `probability` (clamped to [0, 1]).
pub fn chance(rng: &mut Pcg64, probability: f64) -> bool {
    let probability = if probability.is_finite() {
        probability.clamp(0.0, 1.0)
    } else {
        0.0
    };
    rng.random_bool(probability)
}

/// A uniformly chosen element of a non-empty slice.
pub fn pick<T: Copy>(rng: &mut Pcg64, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// An index in `0..count`, log-uniformly distributed: index `i` is chosen
/// with a probability close to `1 / (i + 1)` (Zipf with exponent 1).
pub fn zipf_index(rng: &mut Pcg64, count: usize) -> usize {
    let uniform: f64 = rng.random();
    let position = (count as f64 + 1.0).powf(uniform) - 1.0;
    (position as usize).min(count.saturating_sub(1))
}

/// A log-normal sample with the given median and shape `sigma`.
pub fn log_normal(rng: &mut Pcg64, median: f64, sigma: f64) -> f64 {
    let normal: f64 = StandardNormal.sample(rng);
    median * (sigma * normal).exp()
}

/// An exponential sample with the given mean.
pub fn exponential(rng: &mut Pcg64, mean: f64) -> f64 {
    let uniform: f64 = rng.random();
    -mean * (1.0 - uniform).ln()
}

/// A Poisson count with mean `lambda` (0 for a non-positive mean).
pub fn poisson(rng: &mut Pcg64, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    match Poisson::new(lambda) {
        Ok(distribution) => {
            let sample: f64 = distribution.sample(rng);
            sample as u64
        }
        Err(_) => 0,
    }
}

/// A geometric count of extra trials (0, 1, 2 …) with mean `mean`, capped.
pub fn geometric(rng: &mut Pcg64, mean: f64, cap: u32) -> u32 {
    let continue_probability = mean / (1.0 + mean);
    let mut count = 0;
    while count < cap && chance(rng, continue_probability) {
        count += 1;
    }
    count
}

/// A uniformly distributed integer in `low..=high` (`low` when `high < low`).
pub fn between(rng: &mut Pcg64, low: i64, high: i64) -> i64 {
    if high <= low {
        low
    } else {
        rng.random_range(low..=high)
    }
}
