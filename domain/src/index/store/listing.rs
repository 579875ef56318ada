//! One page of a repository's tags in the order the viewer asked for.
//!
//! A repository can hold thousands of tags while a page shows 25: sorting uses sort keys read
//! straight from the index (name, created, size), and full rows are built only for the page.
//! Each row carries the other tags on its digest, since deleting that digest removes them too.

use super::{Entry, IndexData, TagInfo};
use crate::index::digests::DigestId;
use crate::reference::{RepositoryName, Tag};
use std::cmp::Ordering;
use std::collections::HashMap;

/// What a tag listing is ordered by; ties fall back to the tag name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagOrder {
    #[default]
    Name,
    /// The image's build time; tags without one go last in either direction.
    Created,
    /// Compressed size.
    Size,
}

/// One page of tags, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagListing {
    pub total: usize,
    /// Each tag with the other tags of the repository on the same digest.
    pub rows: Vec<(TagInfo, Vec<Tag>)>,
}

impl IndexData {
    /// Tags `offset..offset + limit` of `name` in `order`; `None` when it is not indexed.
    pub fn repository_tags_page(
        &self,
        name: &RepositoryName,
        order: TagOrder,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Option<TagListing> {
        let id = *self.repo_ids.get(name)?;
        let tags = &self.repo(id).tags;
        // BTreeMap order: already by name.
        let mut entries: Vec<(&Tag, DigestId)> = tags.iter().map(|(t, d)| (t, *d)).collect();
        match order {
            TagOrder::Name => {
                if descending {
                    entries.reverse();
                }
            }
            TagOrder::Size => {
                let size: HashMap<DigestId, u64> = entries.iter().map(|(_, d)| (*d, self.size_of(*d))).collect();
                entries.sort_by(|a, b| directed(size[&a.1].cmp(&size[&b.1]).then(a.0.cmp(b.0)), descending));
            }
            TagOrder::Created => {
                let created: HashMap<DigestId, Option<&str>> =
                    entries.iter().map(|(_, d)| (*d, self.created_of(*d))).collect();
                entries.sort_by(|a, b| match (created[&a.1], created[&b.1]) {
                    (Some(x), Some(y)) => directed(x.cmp(y).then(a.0.cmp(b.0)), descending),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => directed(a.0.cmp(b.0), descending),
                });
            }
        }
        let mut by_digest: HashMap<DigestId, Vec<&Tag>> = HashMap::new();
        for (t, d) in tags {
            by_digest.entry(*d).or_default().push(t);
        }
        let rows = entries
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(t, d)| {
                let same = by_digest[d]
                    .iter()
                    .filter(|o| **o != *t)
                    .map(|o| (*o).clone())
                    .collect();
                (self.tag_info(id, t, *d), same)
            })
            .collect();
        Some(TagListing {
            total: entries.len(),
            rows,
        })
    }

    /// Compressed size of an image, or of all images of a list/index.
    fn size_of(&self, m: DigestId) -> u64 {
        match self.manifests.get(&m) {
            Some(Entry::Image { size, .. }) => *size,
            Some(Entry::Index { children, .. }) => {
                children.iter().fold(0u64, |t, c| t.saturating_add(self.size_of(*c)))
            }
            None => 0,
        }
    }
}

fn directed(o: Ordering, descending: bool) -> Ordering {
    if descending { o.reverse() } else { o }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{d, r, t};
    use super::*;
    use crate::index::store::{IndexedLayer, IndexedManifest};
    use crate::registry::MediaType;

    fn image(config: &str, size: u64, created: Option<&str>) -> IndexedManifest {
        IndexedManifest::Image {
            media_type: MediaType::OciManifest,
            config: d(config),
            config_size: 0,
            layers: vec![IndexedLayer {
                digest: d(&format!("layer-{config}")),
                size,
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            }],
            created: created.map(Into::into),
            platform: None,
        }
    }

    #[test]
    fn tags_sort_by_each_column_and_page_with_their_digest_groups() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("m1"), &image("c1", 30, Some("2024-02-01T00:00:00Z")));
        x.insert_manifest(&d("m2"), &image("c2", 10, None));
        x.insert_manifest(&d("m3"), &image("c3", 20, Some("2024-01-01T00:00:00Z")));
        x.set_repository(
            &r("team/app"),
            &[
                (t("b"), d("m1")),
                (t("a"), d("m2")),
                (t("c"), d("m3")),
                (t("d"), d("m1")),
            ],
        );
        let order = |o: TagOrder, desc: bool| {
            let listing = x.repository_tags_page(&r("team/app"), o, desc, 0, 10).unwrap();
            assert_eq!(listing.total, 4);
            listing.rows.iter().map(|(i, _)| i.tag.to_string()).collect::<String>()
        };
        assert_eq!(order(TagOrder::Name, false), "abcd");
        assert_eq!(order(TagOrder::Name, true), "dcba");
        assert_eq!(order(TagOrder::Size, false), "acbd");
        assert_eq!(order(TagOrder::Size, true), "dbca");
        assert_eq!(order(TagOrder::Created, false), "cbda", "no created time goes last");
        assert_eq!(order(TagOrder::Created, true), "dbca", "still last when descending");

        let page = x
            .repository_tags_page(&r("team/app"), TagOrder::Name, false, 1, 2)
            .unwrap();
        let rows: Vec<_> = page
            .rows
            .iter()
            .map(|(i, same)| (i.tag.to_string(), same.clone()))
            .collect();
        assert_eq!(rows, [("b".to_owned(), vec![t("d")]), ("c".to_owned(), vec![])]);
        assert!(
            x.repository_tags_page(&r("nope"), TagOrder::Name, false, 0, 10)
                .is_none()
        );
    }
}
