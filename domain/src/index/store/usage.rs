//! Storage: how many bytes each repository holds, how many only it holds, and the registry's
//! total, with every blob counted once.
//!
//! Sizes are compressed blob sizes from manifests (configs and layers); manifests themselves
//! (a few KB each) are not counted. A repository's unique bytes are what deleting all of its
//! tags and running the registry's garbage collection would free; its shared bytes stay,
//! because another repository's tags still reach them. Janitors read these numbers before
//! they delete, so they are computed from the same reverse edges the searches use.

use super::{Entry, IndexData, RepoId};
use crate::index::digests::DigestId;
use crate::index::idhash::IdMap;
use crate::reference::{Digest, RepositoryName, Tag};
use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

/// One repository's storage, as the repository page and the storage view show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUsage {
    pub name: RepositoryName,
    pub tags: usize,
    /// Distinct blobs its tags reach, each counted once.
    pub total: u64,
    /// Of `total`, the bytes no other repository's tags reach.
    pub unique: u64,
    /// When a notification last told of a push (none seen since Regent started: `None`).
    pub last_push: Option<SystemTime>,
    /// The newest `created` time among its images.
    pub newest_created: Option<String>,
    /// The tag to name in a pull command: `latest` if present, else the newest image's tag.
    pub default_tag: Option<Tag>,
}

impl RepositoryUsage {
    /// Bytes also reached from other repositories.
    pub fn shared(&self) -> u64 {
        self.total - self.unique
    }
}

/// Storage over every repository a viewer may read, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageReport {
    pub repositories: Vec<RepositoryUsage>,
    /// Distinct blobs over those repositories, each counted once: what the registry stores.
    pub total: u64,
    /// What the repositories' totals add up to (shared blobs counted in each).
    pub sum_of_repositories: u64,
    /// How many distinct blobs `total` is made of.
    pub blobs: usize,
}

/// What the index knows about one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerUsage {
    pub size: u64,
    pub media_type: String,
    /// Image manifests that contain it (per-platform children included).
    pub images: usize,
    /// Repositories (readable by the viewer) with a tag that reaches it.
    pub repositories: Vec<RepositoryName>,
}

impl IndexData {
    /// Storage of one repository; `None` when it is not indexed.
    pub fn repository_usage(&self, name: &RepositoryName) -> Option<RepositoryUsage> {
        let id = *self.repo_ids.get(name)?;
        let blobs = self.repository_blobs(id);
        let total = blobs.values().fold(0u64, |t, s| t.saturating_add(*s));
        let unique = blobs
            .iter()
            .filter(|(b, _)| !self.reached_from_elsewhere(**b, id))
            .fold(0u64, |t, (_, size)| t.saturating_add(*size));
        Some(self.usage(id, total, unique))
    }

    /// Storage of every repository `visible` lets through. Whether a blob is unique is
    /// decided over all repositories, so a blob shared with a repository the viewer cannot
    /// see is still reported as shared (deleting this one would not free it).
    pub fn storage(&self, visible: &dyn Fn(&RepositoryName) -> bool) -> StorageReport {
        // blob → (size, first repository reaching it, reached by another one too)
        let mut owners: IdMap<DigestId, (u64, RepoId, bool)> = IdMap::default();
        let mut shown = Vec::new();
        for (name, &id) in &self.repo_ids {
            let blobs = self.repository_blobs(id);
            for (&b, &size) in &blobs {
                owners
                    .entry(b)
                    .and_modify(|o| o.2 |= o.1 != id)
                    .or_insert((size, id, false));
            }
            if visible(name) {
                shown.push((id, blobs));
            }
        }
        let mut counted: HashSet<DigestId> = HashSet::new();
        let mut report = StorageReport::default();
        for (id, blobs) in shown {
            let mut total = 0;
            let mut unique = 0;
            for (b, size) in blobs {
                total = u64::saturating_add(total, size);
                if owners.get(&b).is_some_and(|o| !o.2) {
                    unique = u64::saturating_add(unique, size);
                }
                if counted.insert(b) {
                    report.total = report.total.saturating_add(size);
                }
            }
            report.sum_of_repositories = report.sum_of_repositories.saturating_add(total);
            report.repositories.push(self.usage(id, total, unique));
        }
        report.blobs = counted.len();
        report
            .repositories
            .sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
        report
    }

    /// Size, media type and spread of a layer; `None` when no indexed image has it.
    pub fn layer_usage(&self, digest: &Digest, visible: &dyn Fn(&RepositoryName) -> bool) -> Option<LayerUsage> {
        let id = self.digests.get(digest)?;
        let layer = self.layers.get(&id)?;
        let mut repositories: HashSet<RepoId> = HashSet::new();
        let mut images = 0;
        let mut seen: HashMap<RepoId, bool> = HashMap::new();
        let mut visible_id = |r: RepoId| *seen.entry(r).or_insert_with(|| visible(&self.repo(r).name));
        for m in self.layer_manifests.get(id) {
            // Only images the viewer may see in some repository count: the number must not
            // reveal how far the layer spread where they cannot look.
            let holders: Vec<RepoId> = self
                .manifest_repos
                .get(m)
                .chain(self.parents.get(m).flat_map(|p| self.manifest_repos.get(p)))
                .filter(|r| visible_id(*r))
                .collect();
            if !holders.is_empty() {
                images += 1;
                repositories.extend(holders);
            }
        }
        let mut repositories: Vec<RepositoryName> =
            repositories.into_iter().map(|r| self.repo(r).name.clone()).collect();
        repositories.sort();
        Some(LayerUsage {
            size: layer.size,
            media_type: self.strings.get(layer.media_type).to_owned(),
            images,
            repositories,
        })
    }

    fn usage(&self, id: RepoId, total: u64, unique: u64) -> RepositoryUsage {
        let repo = self.repo(id);
        let newest = repo
            .tags
            .iter()
            .filter_map(|(t, d)| self.created_of(*d).map(|c| (c, t)))
            .max_by(|a, b| a.0.cmp(b.0));
        let latest = repo.tags.keys().find(|t| t.as_str() == "latest");
        RepositoryUsage {
            name: repo.name.clone(),
            tags: repo.tags.len(),
            total,
            unique,
            last_push: repo.last_push,
            default_tag: latest
                .or(newest.as_ref().map(|n| n.1))
                .or(repo.tags.keys().next())
                .cloned(),
            newest_created: newest.map(|n| n.0.to_owned()),
        }
    }

    /// Config and layer blobs (with sizes) of the images the repository's tags reach.
    fn repository_blobs(&self, id: RepoId) -> IdMap<DigestId, u64> {
        let mut blobs = IdMap::default();
        let manifests: HashSet<DigestId> = self.repo(id).tags.values().copied().collect();
        for m in manifests {
            self.manifest_blobs(m, &mut blobs);
        }
        blobs
    }

    fn manifest_blobs(&self, m: DigestId, out: &mut IdMap<DigestId, u64>) {
        match self.manifests.get(&m) {
            Some(Entry::Image {
                config, layers, size, ..
            }) => {
                let mut layer_bytes = 0;
                for l in layers.iter() {
                    let s = self.layers.get(l).map_or(0, |e| e.size);
                    layer_bytes += s;
                    out.insert(*l, s);
                }
                // The entry's size is config plus layers (each occurrence).
                out.insert(*config, size.saturating_sub(layer_bytes));
            }
            Some(Entry::Index { children, .. }) => {
                for c in children.iter() {
                    self.manifest_blobs(*c, out);
                }
            }
            None => {}
        }
    }

    /// The config and layer blobs (with sizes) of the image `digest`: what its deletion may leave
    /// for the registry's garbage collection. Empty for a manifest list / index (its platform
    /// manifests stay in the registry when it is deleted) and for unknown digests.
    pub fn image_blobs(&self, digest: &Digest) -> Vec<(Digest, u64)> {
        let Some(id) = self.digests.get(digest) else {
            return Vec::new();
        };
        if !matches!(self.manifests.get(&id), Some(Entry::Image { .. })) {
            return Vec::new();
        }
        let mut blobs = IdMap::default();
        self.manifest_blobs(id, &mut blobs);
        let mut out: Vec<(Digest, u64)> = blobs.into_iter().map(|(b, s)| (self.digests.digest(b), s)).collect();
        out.sort();
        out
    }

    /// Whether a tagged image (or a platform of a tagged index) still uses blob `digest`, as its
    /// manifest, config or a layer.
    pub fn blob_in_use(&self, digest: &Digest) -> bool {
        let Some(b) = self.digests.get(digest) else {
            return false;
        };
        let tagged = |m: DigestId| self.manifest_repos.get(m).next().is_some();
        let live = |m: DigestId| tagged(m) || self.parents.get(m).any(tagged);
        live(b)
            || self
                .layer_manifests
                .get(b)
                .chain(self.config_manifests.get(b))
                .any(live)
    }

    /// Whether a tag of `repository` still reaches blob `digest`, as layer or config.
    pub fn blob_in_repository(&self, repository: &RepositoryName, digest: &Digest) -> bool {
        let (Some(b), Some(&id)) = (self.digests.get(digest), self.repo_ids.get(repository)) else {
            return false;
        };
        let here = |m: DigestId| self.manifest_repos.get(m).any(|r| r == id);
        self.layer_manifests
            .get(b)
            .chain(self.config_manifests.get(b))
            .any(|m| here(m) || self.parents.get(m).any(here))
    }

    /// Whether a tagged image, or a platform of a tagged index, still uses blob `digest` (as its
    /// manifest, config or a layer) once the manifests `going` names are deleted: in
    /// `repository` only, or in any repository. What a delete plan asks before it takes a blob
    /// or a blob's link, so that a blob another image needs stays.
    pub fn blob_used_besides(
        &self,
        digest: &Digest,
        repository: Option<&RepositoryName>,
        going: &dyn Fn(&RepositoryName, &Digest) -> bool,
    ) -> bool {
        let Some(b) = self.digests.get(digest) else {
            return false;
        };
        let only = match repository {
            Some(name) => match self.repo_ids.get(name) {
                Some(id) => Some(*id),
                None => return false,
            },
            None => None,
        };
        let tagged = |m: DigestId| {
            self.manifest_repos
                .get(m)
                .any(|r| only.is_none_or(|o| o == r) && !going(&self.repo(r).name, &self.digests.digest(m)))
        };
        let live = |m: DigestId| tagged(m) || self.parents.get(m).any(tagged);
        live(b)
            || self
                .layer_manifests
                .get(b)
                .chain(self.config_manifests.get(b))
                .any(live)
    }

    /// Whether a tag in a repository other than `id` reaches blob `b`, as layer or config.
    fn reached_from_elsewhere(&self, b: DigestId, id: RepoId) -> bool {
        let other = |m: DigestId| self.manifest_repos.get(m).any(|r| r != id);
        self.layer_manifests
            .get(b)
            .chain(self.config_manifests.get(b))
            .any(|m| other(m) || self.parents.get(m).any(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{d, image, r, t};
    use super::*;

    #[test]
    fn shared_base_layers_count_once_and_only_private_bytes_are_unique() {
        let mut x = IndexData::default();
        // Layers are 10 bytes each, configs 0 (see the test helper).
        x.insert_manifest(&d("m1"), &image("c1", &["base", "a1"]));
        x.insert_manifest(&d("m2"), &image("c2", &["base", "a2"]));
        x.insert_manifest(&d("m3"), &image("c3", &["base", "b1"]));
        x.set_repository(
            &r("team/a"),
            &[(t("1"), d("m1")), (t("2"), d("m2")), (t("latest"), d("m2"))],
        );
        x.set_repository(&r("team/b"), &[(t("1"), d("m3"))]);

        let a = x.repository_usage(&r("team/a")).unwrap();
        assert_eq!((a.tags, a.total, a.unique, a.shared()), (3, 30, 20, 10));
        let b = x.repository_usage(&r("team/b")).unwrap();
        assert_eq!((b.total, b.unique), (20, 10));

        let all = x.storage(&|_| true);
        assert_eq!(all.total, 40, "base counted once: base, a1, a2, b1");
        assert_eq!(all.sum_of_repositories, 50);
        assert_eq!(all.repositories[0].name, r("team/a"), "largest first");

        // A viewer who only sees team/b still learns its base layer is shared.
        let only_b = x.storage(&|n| n.as_str() == "team/b");
        assert_eq!(only_b.repositories.len(), 1);
        assert_eq!((only_b.total, only_b.repositories[0].unique), (20, 10));

        let base = x.layer_usage(&d("base"), &|_| true).unwrap();
        assert_eq!((base.size, base.images), (10, 3));
        assert_eq!(base.repositories, [r("team/a"), r("team/b")]);
        assert_eq!(
            x.layer_usage(&d("base"), &|n| n.as_str() == "team/b")
                .unwrap()
                .repositories
                .len(),
            1
        );
        assert!(x.layer_usage(&d("nowhere"), &|_| true).is_none());
    }
}
