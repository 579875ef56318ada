//! Hashing for the index's dense integer ids (digest ids, repository ids).
//!
//! The reverse edges and manifest tables are looked up thousands of times per digest search;
//! SipHash (std's default, built to resist chosen keys) costs more than the lookup itself.
//! These ids are handed out by the index, never chosen by a client, so one multiply will do.

use std::hash::{BuildHasher, Hasher};

#[derive(Debug, Default, Clone, Copy)]
pub struct IdHash;

impl BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

pub struct IdHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(K);
    }
}

/// A `HashMap` keyed by index ids.
pub type IdMap<K, V> = std::collections::HashMap<K, V, IdHash>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_ids_spread_over_the_table() {
        let hash = |n: u32| {
            let mut h = IdHash.build_hasher();
            h.write_u32(n);
            h.finish() >> 57
        };
        let buckets: std::collections::HashSet<u64> = (0..1000).map(hash).collect();
        assert!(buckets.len() > 100, "top bits vary: {}", buckets.len());
    }
}
