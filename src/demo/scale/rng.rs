//! A small deterministic generator (SplitMix64): the same seed gives the same chart on every
//! platform and with every Rust version.

pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Independent streams per patient and per session, so one session's content does not
    /// depend on the order anything else was generated in.
    pub(super) fn for_session(seed: u64, patient: usize, session: usize) -> Rng {
        let mut base = Rng::new(seed ^ 0x5CA1_E000_0000_0000);
        let a = base.next_u64();
        Rng::new(
            a ^ (patient as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (session as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        )
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }

    /// Roughly normal (a sum of six uniforms), mean 0, standard deviation 1.
    pub(super) fn normal(&mut self) -> f64 {
        ((0..6).map(|_| self.unit()).sum::<f64>() - 3.0) * std::f64::consts::SQRT_2
    }

    /// Between `lo` and `hi` distinct items, in random order.
    pub(super) fn sample<'a, T>(&mut self, items: &'a [T], lo: i64, hi: i64) -> Vec<&'a T> {
        let count = self.range(lo, hi) as usize;
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in 0..count.min(idx.len()) {
            let j = self.range(i as i64, idx.len() as i64 - 1) as usize;
            idx.swap(i, j);
        }
        idx.truncate(count);
        idx.into_iter().map(|i| &items[i]).collect()
    }
}
