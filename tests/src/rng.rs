//! A small deterministic generator for the seeded tests: one seed, one sequence of choices.

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The sequence of `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next number below `n` (which must not be 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    /// One of `items` (which must not be empty).
    ///
    /// # Panics
    /// When `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let at = usize::try_from(self.below(len)).unwrap_or(0);
        &items[at]
    }
}

/// A seed from `variable` when set (to replay a failure), otherwise from the clock.
///
/// # Panics
/// When `variable` is set to something other than a number.
#[must_use]
pub fn seed_from(variable: &str) -> u64 {
    match std::env::var(variable) {
        Ok(seed) => seed
            .parse()
            .unwrap_or_else(|_| panic!("{variable} is a number, not {seed:?}")),
        Err(_) => u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos()),
        ),
    }
}
