//! The index's data as the body of a snapshot (docs/index-snapshot.md), and back.
//!
//! Written the way the index holds it, so a restart rebuilds the index without re-reading the
//! registry and without re-parsing digests: every digest once as 32 bytes, media types and
//! platforms once as strings, and everything else as small integer ids into those tables.
//! Lives under `store` because it reads and rebuilds `IndexData`'s private tables. A body is
//! never trusted: every id is bounds-checked and every name parsed again; anything wrong
//! makes the whole snapshot unreadable rather than half-loaded.

use super::{Entry, IndexData, LayerEntry, RepoEntry, RepoId, StringId};
use crate::index::digests::DigestId;
use crate::reference::{RepositoryName, Tag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

/// The serialised form of `IndexData`; field order is the format (postcard has no names).
#[derive(Debug, Serialize, Deserialize)]
pub(in crate::index) struct Body {
    digests: Vec<[u8; 32]>,
    strings: Vec<String>,
    layers: Vec<LayerRecord>,
    manifests: Vec<ManifestRecord>,
    repositories: Vec<RepositoryRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LayerRecord {
    digest: u32,
    size: u64,
    media_type: u16,
}

#[derive(Debug, Serialize, Deserialize)]
enum ManifestRecord {
    Image {
        digest: u32,
        media_type: u16,
        config: u32,
        layers: Vec<u32>,
        size: u64,
        created: Option<String>,
        platform: u16,
    },
    Index {
        digest: u32,
        media_type: u16,
        children: Vec<u32>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct RepositoryRecord {
    name: String,
    stale: bool,
    /// Seconds since the Unix epoch.
    last_push: Option<u64>,
    tags: Vec<(String, u32)>,
}

/// Why a body cannot be turned back into an index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(in crate::index) struct BadBody(pub String);

fn id(d: DigestId) -> u32 {
    d.index() as u32
}

impl Body {
    pub(in crate::index) fn of(data: &IndexData) -> Self {
        let mut layers: Vec<LayerRecord> = data
            .layers
            .iter()
            .map(|(d, l)| LayerRecord {
                digest: id(*d),
                size: l.size,
                media_type: l.media_type.0,
            })
            .collect();
        layers.sort_unstable_by_key(|l| l.digest);
        let mut manifests: Vec<ManifestRecord> = data
            .manifests
            .iter()
            .map(|(d, entry)| match entry {
                Entry::Image {
                    media_type,
                    config,
                    layers,
                    size,
                    created,
                    platform,
                } => ManifestRecord::Image {
                    digest: id(*d),
                    media_type: media_type.0,
                    config: id(*config),
                    layers: layers.iter().map(|l| id(*l)).collect(),
                    size: *size,
                    created: created.as_deref().map(str::to_owned),
                    platform: platform.0,
                },
                Entry::Index { media_type, children } => ManifestRecord::Index {
                    digest: id(*d),
                    media_type: media_type.0,
                    children: children.iter().map(|c| id(*c)).collect(),
                },
            })
            .collect();
        // Deterministic output: the same index always writes the same bytes.
        manifests.sort_unstable_by_key(|m| match m {
            ManifestRecord::Image { digest, .. } | ManifestRecord::Index { digest, .. } => *digest,
        });
        let repositories = data
            .repo_ids
            .values()
            .map(|rid| {
                let repo = data.repo(*rid);
                RepositoryRecord {
                    name: repo.name.to_string(),
                    stale: repo.stale,
                    last_push: repo
                        .last_push
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| d.as_secs()),
                    tags: repo.tags.iter().map(|(t, d)| (t.to_string(), id(*d))).collect(),
                }
            })
            .collect();
        Self {
            digests: data.digests.all_bytes().to_vec(),
            strings: data.strings.list.iter().map(|s| s.to_string()).collect(),
            layers,
            manifests,
            repositories,
        }
    }

    /// Rebuilds the index, checking every id and name on the way.
    pub(in crate::index) fn into_data(self) -> Result<IndexData, BadBody> {
        let mut data = IndexData::default();
        for bytes in self.digests {
            let before = data.digests.len();
            data.digests.intern_bytes(bytes);
            if data.digests.len() == before {
                return Err(BadBody("a digest is listed twice".into()));
            }
        }
        if self.strings.len() > usize::from(u16::MAX) {
            return Err(BadBody("more strings than the index can hold".into()));
        }
        for (i, s) in self.strings.iter().enumerate() {
            if data.strings.intern(s).0 as usize != i {
                return Err(BadBody("a string is listed twice".into()));
            }
        }
        let digest = |data: &IndexData, n: u32| {
            data.digests
                .id_at(n)
                .ok_or_else(|| BadBody(format!("digest id {n} is past the end of the table")))
        };
        let string = |data: &IndexData, n: u16| {
            ((n as usize) < data.strings.list.len())
                .then_some(StringId(n))
                .ok_or_else(|| BadBody(format!("string id {n} is past the end of the table")))
        };
        for l in self.layers {
            let d = digest(&data, l.digest)?;
            let media_type = string(&data, l.media_type)?;
            data.layers.insert(
                d,
                LayerEntry {
                    size: l.size,
                    media_type,
                },
            );
        }
        for m in self.manifests {
            let (d, entry) = match m {
                ManifestRecord::Image {
                    digest: m,
                    media_type,
                    config,
                    layers,
                    size,
                    created,
                    platform,
                } => {
                    let m = digest(&data, m)?;
                    let config = digest(&data, config)?;
                    let layers = layers
                        .into_iter()
                        .map(|l| digest(&data, l))
                        .collect::<Result<Box<[DigestId]>, _>>()?;
                    for l in layers.iter() {
                        data.layer_manifests.insert(*l, m);
                    }
                    data.config_manifests.insert(config, m);
                    let entry = Entry::Image {
                        media_type: string(&data, media_type)?,
                        config,
                        layers,
                        size,
                        created: created.map(Into::into),
                        platform: string(&data, platform)?,
                    };
                    (m, entry)
                }
                ManifestRecord::Index {
                    digest: m,
                    media_type,
                    children,
                } => {
                    let m = digest(&data, m)?;
                    let children = children
                        .into_iter()
                        .map(|c| digest(&data, c))
                        .collect::<Result<Box<[DigestId]>, _>>()?;
                    for c in children.iter() {
                        data.parents.insert(*c, m);
                    }
                    let entry = Entry::Index {
                        media_type: string(&data, media_type)?,
                        children,
                    };
                    (m, entry)
                }
            };
            if data.manifests.insert(d, entry).is_some() {
                return Err(BadBody("a manifest is listed twice".into()));
            }
        }
        for r in self.repositories {
            let name = RepositoryName::parse(&r.name).map_err(|e| BadBody(e.to_string()))?;
            if data.repo_ids.contains_key(&name) || r.tags.is_empty() {
                return Err(BadBody(format!("repository {name} is listed twice or without tags")));
            }
            let rid = RepoId(data.repos.len() as u32);
            let mut tags = BTreeMap::new();
            for (tag, d) in r.tags {
                let tag = Tag::parse(&tag).map_err(|e| BadBody(e.to_string()))?;
                let d = digest(&data, d)?;
                data.manifest_repos.insert(d, rid);
                tags.insert(tag, d);
            }
            data.tag_count += tags.len();
            data.repos.push(Some(RepoEntry {
                name: name.clone(),
                tags,
                stale: r.stale,
                last_push: r.last_push.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            }));
            data.repo_ids.insert(name, rid);
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{d, image, r, t};
    use super::*;
    use crate::index::store::IndexedManifest;
    use crate::registry::MediaType;

    #[test]
    fn an_index_read_back_from_its_body_answers_like_the_original() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("amd"), &image("ca", &["base", "x"]));
        x.insert_manifest(&d("arm"), &image("cr", &["base", "y"]));
        x.insert_manifest(
            &d("idx"),
            &IndexedManifest::Index {
                media_type: MediaType::OciIndex,
                children: vec![(d("amd"), None), (d("arm"), None)],
            },
        );
        x.set_repository(&r("multi/arch"), &[(t("latest"), d("idx")), (t("1"), d("idx"))]);
        x.set_repository(&r("team/a"), &[(t("1"), d("amd"))]);
        x.note_push(&r("team/a"));
        x.mark_stale(&r("multi/arch"));

        let bytes = postcard::to_stdvec(&Body::of(&x)).unwrap();
        let y: Body = postcard::from_bytes(&bytes).unwrap();
        let y = y.into_data().unwrap();

        assert_eq!(y.tag_count(), 3);
        assert_eq!(y.manifest_count(), x.manifest_count());
        for repo in ["multi/arch", "team/a"] {
            assert_eq!(y.repository_tag_infos(&r(repo)), x.repository_tag_infos(&r(repo)));
        }
        assert!(y.is_stale(&r("multi/arch")) && !y.is_stale(&r("team/a")));
        assert_eq!(y.layer(&d("base")), x.layer(&d("base")));
        assert_eq!(y.repositories_tagging(&d("amd")), vec![r("team/a")]);
        assert_eq!(y.config_details(&d("cr")), x.config_details(&d("cr")));
        assert!(y.has_manifest(&d("idx")));
        let base = y.digests().get(&d("base")).unwrap();
        assert_eq!(y.tags_containing(base, crate::index::DigestMatch::Layer).len(), 3);
        assert_eq!(
            postcard::to_stdvec(&Body::of(&y)).unwrap(),
            bytes,
            "written again, the same bytes"
        );
    }

    #[test]
    fn a_body_pointing_past_its_tables_is_refused() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("m"), &image("c", &["l"]));
        x.set_repository(&r("a"), &[(t("1"), d("m"))]);
        let mut body = Body::of(&x);
        body.repositories[0].tags[0].1 = 99;
        assert!(body.into_data().unwrap_err().0.contains("past the end"));
        let mut body = Body::of(&x);
        body.repositories[0].name = "Not A Name".into();
        assert!(body.into_data().is_err());
    }
}
