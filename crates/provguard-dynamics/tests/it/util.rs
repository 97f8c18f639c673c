//! Helpers shared by the integration tests.

use provguard_dynamics::{Analysis, Influence};

/// A small seeded PRNG (`SplitMix64`) so that random ecosystems are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The influence of `c_{model,from}` on `on`.
pub fn influence<'a>(a: &'a Analysis, model: &str, from: &str, on: &str) -> &'a Influence {
    a.influence
        .iter()
        .find(|i| i.model == model && i.from == from && i.on == on)
        .unwrap_or_else(|| panic!("no influence of `{model}` <- `{from}` on `{on}`"))
}

/// `x` equals `expected` to 1e-9 relative, or 1e-12 absolute near zero.
pub fn assert_close(x: f64, expected: f64, what: &str) {
    let err = (x - expected).abs();
    assert!(
        err <= 1e-9 * expected.abs() || err <= 1e-12,
        "{what}: got {x:e}, expected {expected:e} (error {err:e})"
    );
}
