//! Numbers unique within a process: a random seed drawn once, a counter, and their mix. Blob ids and
//! request ids are made from them without a random draw per use.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The `n`th number of a process seeded with `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unique {
    /// Drawn once per process.
    pub seed: u64,
    /// 0, 1, 2, … within the process.
    pub n: u64,
}

impl Unique {
    /// The next one: never the same twice within a process.
    pub fn next() -> Unique {
        static SEED: OnceLock<u64> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Unique {
            seed: *SEED.get_or_init(rand::random::<u64>),
            n: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The counter mixed with the seed by an odd multiplier: a bijection of the counter (so distinct
    /// within a process), with its bits spread over the whole word.
    pub fn mixed(self) -> u64 {
        self.seed ^ self.n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}
