//! All repository names in one buffer, for substring search in a single pass.
//!
//! Name search must scan every name (a substring can be anywhere). Scanning one contiguous
//! `\n`-separated buffer with a SIMD substring finder is an order of magnitude faster than
//! visiting 10,000 separately allocated strings. The buffer is rebuilt lazily on the first
//! search after repositories were added or removed.

use super::store::RepoId;
use memchr::memmem;

#[derive(Debug, Default)]
pub struct NameBuffer {
    text: Vec<u8>,
    /// Offset of each name in `text`, in name order.
    starts: Vec<u32>,
    ids: Vec<RepoId>,
    /// Position of each repository in name order, by repository id.
    positions: Vec<u32>,
}

impl NameBuffer {
    /// Builds from names in sorted order.
    pub fn build<'a>(names: impl Iterator<Item = (&'a str, RepoId)>) -> Self {
        let mut buffer = Self::default();
        for (name, id) in names {
            buffer.text.push(b'\n');
            buffer.starts.push(buffer.text.len() as u32);
            buffer.text.extend_from_slice(name.as_bytes());
            buffer.ids.push(id);
        }
        let slots = buffer.ids.iter().map(|id| id.index() + 1).max().unwrap_or(0);
        buffer.positions = vec![u32::MAX; slots];
        for (position, id) in buffer.ids.iter().enumerate() {
            buffer.positions[id.index()] = position as u32;
        }
        buffer
    }

    /// Where `id` comes in name order (repositories added since the build come last).
    pub fn position(&self, id: RepoId) -> u32 {
        self.positions.get(id.index()).copied().unwrap_or(u32::MAX)
    }

    /// Repositories whose name contains `finder`'s needle (which has no `\n`), in name order.
    pub fn matching(&self, finder: &memmem::Finder<'_>) -> Vec<RepoId> {
        let mut out: Vec<RepoId> = Vec::new();
        let mut last = usize::MAX;
        for position in finder.find_iter(&self.text) {
            let entry = self.starts.partition_point(|&s| s as usize <= position) - 1;
            if entry != last {
                out.push(self.ids[entry]);
                last = entry;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::store::IndexData;
    use crate::reference::{Digest, RepositoryName, Tag};

    #[test]
    fn each_matching_name_once_in_order_and_the_buffer_follows_changes() {
        let mut x = IndexData::default();
        let d = Digest::sha256_of(b"m");
        for n in ["app/app", "base", "team/app-x"] {
            x.set_tag(&RepositoryName::parse(n).unwrap(), &Tag::parse("1").unwrap(), &d);
        }
        let names = |x: &IndexData, q: &str| -> Vec<String> {
            x.names()
                .matching(&memmem::Finder::new(q))
                .into_iter()
                .map(|id| x.repo_name(id).to_string())
                .collect()
        };
        assert_eq!(
            names(&x, "app"),
            ["app/app", "team/app-x"],
            "app/app once although it matches twice"
        );
        assert_eq!(names(&x, "base"), ["base"]);
        x.remove_repository(&RepositoryName::parse("base").unwrap());
        assert!(names(&x, "base").is_empty(), "rebuilt after a removal");
    }
}
