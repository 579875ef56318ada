//! Every sha256 digest the index knows, interned as a small integer.
//!
//! Manifests, configs and layers are referred to by `DigestId` (4 bytes) instead of the
//! 71-character string, which keeps the index near a few hundred bytes per tag. The table is
//! ordered by digest bytes, so a hex prefix ("sha256:3f2a…" or the 12-character image id
//! `docker images` shows) is a range lookup.

use crate::reference::Digest;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DigestId(u32);

impl DigestId {
    /// Position in the table: ids are dense, from 0 to `DigestTable::len()`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Default)]
pub struct DigestTable {
    by_bytes: BTreeMap<[u8; 32], DigestId>,
    bytes: Vec<[u8; 32]>,
}

impl DigestTable {
    /// The id of a sha256 digest, adding it if new. Other algorithms are not indexed.
    pub fn intern(&mut self, digest: &Digest) -> Option<DigestId> {
        let bytes = sha256_bytes(digest)?;
        if let Some(id) = self.by_bytes.get(&bytes) {
            return Some(*id);
        }
        let id = DigestId(self.bytes.len() as u32);
        self.bytes.push(bytes);
        self.by_bytes.insert(bytes, id);
        Some(id)
    }

    /// Every interned digest's bytes, in id order (what the snapshot writes).
    pub fn all_bytes(&self) -> &[[u8; 32]] {
        &self.bytes
    }

    /// The id of a digest given as its 32 bytes, adding it if new (the snapshot's reading).
    pub fn intern_bytes(&mut self, bytes: [u8; 32]) -> DigestId {
        if let Some(id) = self.by_bytes.get(&bytes) {
            return *id;
        }
        let id = DigestId(self.bytes.len() as u32);
        self.bytes.push(bytes);
        self.by_bytes.insert(bytes, id);
        id
    }

    /// The id at position `index`, if the table is that long.
    pub fn id_at(&self, index: u32) -> Option<DigestId> {
        ((index as usize) < self.bytes.len()).then_some(DigestId(index))
    }

    /// How many digests are interned (every id is below this).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn get(&self, digest: &Digest) -> Option<DigestId> {
        self.by_bytes.get(&sha256_bytes(digest)?).copied()
    }

    pub fn digest(&self, id: DigestId) -> Digest {
        Digest::parse(&format!("sha256:{}", hex::encode(self.bytes[id.0 as usize])))
            .expect("interned digests are valid sha256")
    }

    /// Every digest whose hex starts with `prefix` (lowercase hex, 1 to 64 characters).
    pub fn with_prefix(&self, prefix: &str) -> impl Iterator<Item = DigestId> + '_ {
        let (low, high) = prefix_bounds(prefix);
        self.by_bytes.range(low..=high).map(|(_, id)| *id)
    }
}

fn sha256_bytes(digest: &Digest) -> Option<[u8; 32]> {
    if digest.algorithm() != "sha256" {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digest.encoded(), &mut out).ok()?;
    Some(out)
}

/// The smallest and largest 32-byte values whose hex starts with `prefix`.
fn prefix_bounds(prefix: &str) -> ([u8; 32], [u8; 32]) {
    let mut low = [0u8; 32];
    let mut high = [0xffu8; 32];
    for (i, c) in prefix.bytes().take(64).enumerate() {
        let nibble = (c as char).to_digit(16).unwrap_or(0) as u8;
        let byte = i / 2;
        if i % 2 == 0 {
            low[byte] = nibble << 4;
            high[byte] = (nibble << 4) | 0x0f;
        } else {
            low[byte] |= nibble;
            high[byte] = (high[byte] & 0xf0) | nibble;
        }
    }
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_prefix_finds_exactly_the_digests_that_start_with_it() {
        let mut t = DigestTable::default();
        let a = Digest::parse(&format!("sha256:abc1{}", "0".repeat(60))).unwrap();
        let b = Digest::parse(&format!("sha256:abc2{}", "0".repeat(60))).unwrap();
        let c = Digest::parse(&format!("sha256:abd0{}", "0".repeat(60))).unwrap();
        let (ia, ib, ic) = (t.intern(&a).unwrap(), t.intern(&b).unwrap(), t.intern(&c).unwrap());
        assert_eq!(t.intern(&a), Some(ia), "interning twice gives the same id");
        assert_eq!(t.with_prefix("abc").collect::<Vec<_>>(), vec![ia, ib]);
        assert_eq!(t.with_prefix("abc2").collect::<Vec<_>>(), vec![ib]);
        assert_eq!(t.with_prefix("ab").count(), 3);
        assert_eq!(t.with_prefix("abd").collect::<Vec<_>>(), vec![ic]);
        assert_eq!(t.with_prefix(a.encoded()).collect::<Vec<_>>(), vec![ia]);
        assert_eq!(t.with_prefix("f").count(), 0);
        assert_eq!(t.digest(ib), b);
    }
}
