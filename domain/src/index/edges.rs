//! One-to-few edges: config → manifests, layer → manifests, manifest → repositories,
//! child manifest → its lists/indexes.
//!
//! Almost every key has exactly one value (a config belongs to one manifest, a top layer to
//! one image), so the first value lives inline in a small map and only the rare extra values
//! get a `Vec`. That keeps these reverse maps at a few bytes per edge instead of a `Vec`
//! allocation each, which is most of what keeps the index under 1 KiB per tag.

use super::idhash::IdMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

#[derive(Debug)]
pub struct Edges<K, V> {
    first: IdMap<K, V>,
    more: IdMap<K, Vec<V>>,
}

impl<K, V> Default for Edges<K, V> {
    fn default() -> Self {
        Self {
            first: IdMap::default(),
            more: IdMap::default(),
        }
    }
}

impl<K: Hash + Eq + Copy, V: PartialEq + Copy> Edges<K, V> {
    /// Adds `key → value` unless it is there already.
    pub fn insert(&mut self, key: K, value: V) {
        match self.first.entry(key) {
            Entry::Vacant(e) => {
                e.insert(value);
            }
            Entry::Occupied(e) if *e.get() == value => {}
            Entry::Occupied(_) => {
                let more = self.more.entry(key).or_default();
                if !more.contains(&value) {
                    more.push(value);
                }
            }
        }
    }

    /// Removes `key → value` if present.
    pub fn remove(&mut self, key: K, value: &V) {
        let Some(first) = self.first.get_mut(&key) else { return };
        if first == value {
            match self.more.get_mut(&key).and_then(Vec::pop) {
                Some(next) => *first = next,
                None => {
                    self.first.remove(&key);
                }
            }
        } else if let Some(more) = self.more.get_mut(&key) {
            more.retain(|v| v != value);
        }
        if self.more.get(&key).is_some_and(Vec::is_empty) {
            self.more.remove(&key);
        }
    }

    pub fn contains_key(&self, key: K) -> bool {
        self.first.contains_key(&key)
    }

    /// Every value of `key`.
    pub fn get(&self, key: K) -> impl Iterator<Item = V> + '_ {
        self.first
            .get(&key)
            .copied()
            .into_iter()
            .chain(self.more.get(&key).into_iter().flatten().copied())
    }

    pub fn keys(&self) -> impl Iterator<Item = K> + '_ {
        self.first.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::Edges;

    #[test]
    fn values_are_kept_once_and_removed_exactly() {
        let mut e: Edges<u32, u32> = Edges::default();
        e.insert(1, 10);
        e.insert(1, 10);
        e.insert(1, 11);
        e.insert(1, 12);
        assert_eq!(e.get(1).collect::<Vec<_>>(), [10, 11, 12]);
        e.remove(1, &10);
        let mut left: Vec<_> = e.get(1).collect();
        left.sort();
        assert_eq!(left, [11, 12]);
        e.remove(1, &11);
        e.remove(1, &12);
        assert!(!e.contains_key(1));
        assert_eq!(e.get(1).count(), 0);
        e.remove(7, &1);
    }
}
