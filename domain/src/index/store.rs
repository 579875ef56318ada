//! The index's data: repositories → tags → manifests → configs and layers, and the reverse
//! edges the registry API cannot answer (which tags contain this digest or this layer?).
//!
//! Plain data with synchronous methods; `CatalogIndex` wraps it in a lock and feeds it from
//! the crawl and from registry notifications. Digests are interned (`digests.rs`); reverse
//! edges hold small ids, and manifests no tag reaches are swept by `collect_garbage`.

use super::digests::{DigestId, DigestTable};
use super::edges::Edges;
use super::idhash::IdMap;
use super::names::NameBuffer;
use crate::reference::{Digest, RepositoryName, Tag};
use crate::registry::{MediaType, Platform};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

mod listing;
pub(super) mod snapshot;
mod usage;
pub use listing::{TagListing, TagOrder};
pub use usage::{LayerUsage, RepositoryUsage, StorageReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId(u32);

impl RepoId {
    /// Position in the repository table.
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A manifest as the crawl hands it to the index.
#[derive(Debug, Clone)]
pub enum IndexedManifest {
    Image {
        media_type: MediaType,
        config: Digest,
        /// Size of the config blob.
        config_size: u64,
        layers: Vec<IndexedLayer>,
        created: Option<String>,
        platform: Option<Platform>,
    },
    Index {
        media_type: MediaType,
        children: Vec<(Digest, Option<Platform>)>,
    },
}

#[derive(Debug, Clone)]
pub struct IndexedLayer {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

#[derive(Debug)]
struct RepoEntry {
    name: RepositoryName,
    tags: BTreeMap<Tag, DigestId>,
    /// The last refresh of this repository failed; its data is the last good one.
    stale: bool,
    /// When a notification last told of a push here (the registry API has no push times).
    last_push: Option<SystemTime>,
}

#[derive(Debug)]
enum Entry {
    Image {
        media_type: StringId,
        config: DigestId,
        layers: Box<[DigestId]>,
        /// Config plus layers.
        size: u64,
        created: Option<Box<str>>,
        platform: StringId,
    },
    Index {
        media_type: StringId,
        children: Box<[DigestId]>,
    },
}

#[derive(Debug, Clone, Copy)]
struct LayerEntry {
    size: u64,
    media_type: StringId,
}

/// An interned media type or platform: an index into `Strings`, as wide as the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct StringId(u16);

/// Small interned strings (media types, platforms): usually a handful of distinct values, but
/// they come from registry content, so any number of them must neither wrap nor mix up ids.
#[derive(Debug, Default)]
struct Strings {
    list: Vec<Box<str>>,
    ids: HashMap<Box<str>, StringId>,
}

impl Strings {
    /// The id of `s`; once the table is full, every new string shares the last id, which
    /// reads as "" (unknown) rather than as another string.
    fn intern(&mut self, s: &str) -> StringId {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let Ok(id) = u16::try_from(self.list.len()) else {
            return StringId(u16::MAX);
        };
        if id == u16::MAX {
            return StringId(u16::MAX);
        }
        self.list.push(s.into());
        self.ids.insert(s.into(), StringId(id));
        StringId(id)
    }

    fn get(&self, id: StringId) -> &str {
        self.list.get(usize::from(id.0)).map_or("", |s| s)
    }
}

/// How a tag matched a digest search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestMatch {
    /// The tag points at this manifest, or at a list/index that contains it.
    Manifest,
    /// The image's config digest ("image id").
    ImageId,
    /// One of the image's layers.
    Layer,
}

/// A tag, resolved: what a search result or a repository row shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    pub repository: RepositoryName,
    pub tag: Tag,
    pub digest: Digest,
    pub media_type: String,
    /// Config digest of the image (for an index: none).
    pub image_id: Option<Digest>,
    /// Compressed size: config plus layers; for an index, the sum over its children.
    pub size: u64,
    pub created: Option<String>,
    /// `os/arch` of the image, or of each child of an index.
    pub platforms: Vec<String>,
    /// The last layer of the image (the top of its filesystem).
    pub top_layer: Option<Digest>,
    /// For a list/index: its per-platform images.
    pub children: Vec<ChildInfo>,
}

/// One per-platform image of a manifest list / OCI index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    pub digest: Digest,
    pub image_id: Option<Digest>,
    pub platform: String,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct IndexData {
    digests: DigestTable,
    strings: Strings,
    repo_ids: BTreeMap<RepositoryName, RepoId>,
    repos: Vec<Option<RepoEntry>>,
    free_repo_ids: Vec<RepoId>,
    manifests: IdMap<DigestId, Entry>,
    layers: IdMap<DigestId, LayerEntry>,
    /// Top-level manifest → repositories with a tag on it.
    manifest_repos: Edges<DigestId, RepoId>,
    /// Child manifest → the lists/indexes that contain it.
    parents: Edges<DigestId, DigestId>,
    /// Config → image manifests using it.
    config_manifests: Edges<DigestId, DigestId>,
    /// Layer → image manifests using it.
    layer_manifests: Edges<DigestId, DigestId>,
    tag_count: usize,
    /// How many notification changes each repository has seen; a crawl that listed a
    /// repository before a change must not overwrite it with what it listed.
    versions: HashMap<RepositoryName, u64>,
    /// Names for substring search; `None` after repositories were added or removed.
    names: std::sync::Mutex<Option<std::sync::Arc<NameBuffer>>>,
}

impl IndexData {
    pub fn repository_count(&self) -> usize {
        self.repo_ids.len()
    }

    pub fn tag_count(&self) -> usize {
        self.tag_count
    }

    pub fn manifest_count(&self) -> usize {
        self.manifests.len()
    }

    /// Repository names in order, with tag counts and staleness.
    pub fn repositories(&self) -> impl Iterator<Item = (&RepositoryName, usize, bool)> + '_ {
        self.repo_ids.iter().map(|(name, id)| {
            let repo = self.repo(*id);
            (name, repo.tags.len(), repo.stale)
        })
    }

    pub fn has_repository(&self, name: &RepositoryName) -> bool {
        self.repo_ids.contains_key(name)
    }

    /// How many tags a repository has (0 when the index does not hold it).
    pub fn repository_tag_count(&self, name: &RepositoryName) -> usize {
        self.repo_ids.get(name).map_or(0, |id| self.repo(*id).tags.len())
    }

    /// The tags of a repository and their digests.
    pub fn repository_tags(&self, name: &RepositoryName) -> Option<Vec<(Tag, Digest)>> {
        let repo = self.repo(*self.repo_ids.get(name)?);
        Some(
            repo.tags
                .iter()
                .map(|(t, d)| (t.clone(), self.digests.digest(*d)))
                .collect(),
        )
    }

    pub fn repository_tag_infos(&self, name: &RepositoryName) -> Option<Vec<TagInfo>> {
        let id = *self.repo_ids.get(name)?;
        Some(
            self.repo(id)
                .tags
                .iter()
                .map(|(t, d)| self.tag_info(id, t, *d))
                .collect(),
        )
    }

    pub fn is_stale(&self, name: &RepositoryName) -> bool {
        self.repo_ids.get(name).is_some_and(|id| self.repo(*id).stale)
    }

    /// Whether the index already holds this manifest (and, for an index, its children).
    pub fn has_manifest(&self, digest: &Digest) -> bool {
        let Some(id) = self.digests.get(digest) else {
            return false;
        };
        match self.manifests.get(&id) {
            None => false,
            Some(Entry::Image { .. }) => true,
            Some(Entry::Index { children, .. }) => children.iter().all(|c| self.manifests.contains_key(c)),
        }
    }

    /// Whether this config was already read (so its blob need not be fetched again).
    pub fn config_details(&self, config: &Digest) -> Option<(Option<String>, Option<Platform>)> {
        let id = self.digests.get(config)?;
        let manifest = &self.config_manifests.get(id).next()?;
        match self.manifests.get(manifest)? {
            Entry::Image { created, platform, .. } => {
                let platform = self.strings.get(*platform);
                let parsed = platform.split_once('/').map(|(os, rest)| {
                    let (architecture, variant) = match rest.split_once('/') {
                        Some((a, v)) => (a.to_owned(), Some(v.to_owned())),
                        None => (rest.to_owned(), None),
                    };
                    Platform {
                        os: os.to_owned(),
                        architecture,
                        variant,
                    }
                });
                Some((created.as_deref().map(str::to_owned), parsed))
            }
            Entry::Index { .. } => None,
        }
    }

    /// Adds a manifest (children of an index must be inserted first).
    pub fn insert_manifest(&mut self, digest: &Digest, manifest: &IndexedManifest) {
        let Some(id) = self.digests.intern(digest) else {
            tracing::warn!(%digest, "only sha256 manifests are indexed");
            return;
        };
        if self.manifests.contains_key(&id) {
            return;
        }
        let entry = match manifest {
            IndexedManifest::Image {
                media_type,
                config,
                config_size,
                layers,
                created,
                platform,
            } => {
                let Some(config_id) = self.digests.intern(config) else {
                    return;
                };
                let mut layer_ids = Vec::with_capacity(layers.len());
                let mut size = *config_size;
                for layer in layers {
                    let Some(lid) = self.digests.intern(&layer.digest) else {
                        continue;
                    };
                    let media_type = self.strings.intern(&layer.media_type);
                    self.layers.insert(
                        lid,
                        LayerEntry {
                            size: layer.size,
                            media_type,
                        },
                    );
                    self.layer_manifests.insert(lid, id);
                    layer_ids.push(lid);
                    size = size.saturating_add(layer.size);
                }
                self.config_manifests.insert(config_id, id);
                let platform = platform.as_ref().map(|p| p.to_string()).unwrap_or_default();
                Entry::Image {
                    media_type: self.strings.intern(media_type.as_str()),
                    config: config_id,
                    layers: layer_ids.into_boxed_slice(),
                    size,
                    created: created.as_deref().map(Into::into),
                    platform: self.strings.intern(&platform),
                }
            }
            IndexedManifest::Index { media_type, children } => {
                let mut ids = Vec::with_capacity(children.len());
                for (child, _) in children {
                    if let Some(cid) = self.digests.intern(child) {
                        self.parents.insert(cid, id);
                        ids.push(cid);
                    }
                }
                Entry::Index {
                    media_type: self.strings.intern(media_type.as_str()),
                    children: ids.into_boxed_slice(),
                }
            }
        };
        self.manifests.insert(id, entry);
    }

    fn repo(&self, id: RepoId) -> &RepoEntry {
        self.repos[id.0 as usize].as_ref().expect("live repository id")
    }

    fn repo_mut(&mut self, id: RepoId) -> &mut RepoEntry {
        self.repos[id.0 as usize].as_mut().expect("live repository id")
    }

    fn repo_id_or_insert(&mut self, name: &RepositoryName) -> RepoId {
        if let Some(id) = self.repo_ids.get(name) {
            return *id;
        }
        let entry = RepoEntry {
            name: name.clone(),
            tags: BTreeMap::new(),
            stale: false,
            last_push: None,
        };
        let id = match self.free_repo_ids.pop() {
            Some(id) => {
                self.repos[id.0 as usize] = Some(entry);
                id
            }
            None => {
                self.repos.push(Some(entry));
                RepoId(self.repos.len() as u32 - 1)
            }
        };
        self.repo_ids.insert(name.clone(), id);
        *self.names.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
        id
    }

    /// Points `tag` at `digest` (the manifest should be inserted already).
    pub fn set_tag(&mut self, name: &RepositoryName, tag: &Tag, digest: &Digest) {
        let Some(did) = self.digests.intern(digest) else { return };
        let id = self.repo_id_or_insert(name);
        let previous = self.repo_mut(id).tags.insert(tag.clone(), did);
        match previous {
            None => self.tag_count += 1,
            Some(old) if old != did => self.unlink_if_unused(id, old),
            Some(_) => {}
        }
        self.manifest_repos.insert(did, id);
    }

    /// Removes one tag; the repository goes when its last tag goes.
    pub fn remove_tag(&mut self, name: &RepositoryName, tag: &Tag) -> bool {
        let Some(&id) = self.repo_ids.get(name) else {
            return false;
        };
        let Some(old) = self.repo_mut(id).tags.remove(tag) else {
            return false;
        };
        self.tag_count -= 1;
        self.unlink_if_unused(id, old);
        if self.repo(id).tags.is_empty() {
            self.remove_repository(name);
        }
        true
    }

    /// Removes every tag of `name` that points at `digest` (what a manifest delete does).
    pub fn remove_manifest_tags(&mut self, name: &RepositoryName, digest: &Digest) -> Vec<Tag> {
        let (Some(&id), Some(did)) = (self.repo_ids.get(name), self.digests.get(digest)) else {
            return vec![];
        };
        let tags: Vec<Tag> = self
            .repo(id)
            .tags
            .iter()
            .filter(|(_, d)| **d == did)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &tags {
            self.remove_tag(name, t);
        }
        tags
    }

    /// Replaces a repository's tags with what the registry just listed.
    pub fn set_repository(&mut self, name: &RepositoryName, tags: &[(Tag, Digest)]) {
        if tags.is_empty() {
            self.remove_repository(name);
            return;
        }
        let wanted: HashSet<&Tag> = tags.iter().map(|(t, _)| t).collect();
        if let Some(&id) = self.repo_ids.get(name) {
            let gone: Vec<Tag> = self
                .repo(id)
                .tags
                .keys()
                .filter(|t| !wanted.contains(t))
                .cloned()
                .collect();
            for t in gone {
                self.remove_tag(name, &t);
            }
        }
        for (t, d) in tags {
            self.set_tag(name, t, d);
        }
        if let Some(&id) = self.repo_ids.get(name) {
            self.repo_mut(id).stale = false;
        }
    }

    /// The notification version of a repository (see `bump`).
    pub fn version(&self, name: &RepositoryName) -> u64 {
        self.versions.get(name).copied().unwrap_or(0)
    }

    /// Records that a notification changed `name`.
    pub fn bump(&mut self, name: &RepositoryName) {
        *self.versions.entry(name.clone()).or_default() += 1;
    }

    /// Records that a notification told of a push to `name` just now.
    pub fn note_push(&mut self, name: &RepositoryName) {
        if let Some(&id) = self.repo_ids.get(name) {
            self.repo_mut(id).last_push = Some(SystemTime::now());
        }
    }

    pub fn mark_stale(&mut self, name: &RepositoryName) {
        if let Some(&id) = self.repo_ids.get(name) {
            self.repo_mut(id).stale = true;
        }
    }

    pub fn remove_repository(&mut self, name: &RepositoryName) {
        let Some(id) = self.repo_ids.remove(name) else { return };
        *self.names.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
        let entry = self.repos[id.0 as usize].take().expect("live repository id");
        self.tag_count -= entry.tags.len();
        for did in entry.tags.values() {
            self.manifest_repos.remove(*did, &id);
        }
        self.free_repo_ids.push(id);
    }

    fn unlink_if_unused(&mut self, id: RepoId, digest: DigestId) {
        if !self.repo(id).tags.values().any(|d| *d == digest) {
            self.manifest_repos.remove(digest, &id);
        }
    }

    /// Drops manifests no tag reaches any more, with their reverse edges. Layers and configs
    /// stay interned (a few bytes each) so ids remain valid.
    pub fn collect_garbage(&mut self) -> usize {
        let mut live: HashSet<DigestId> = HashSet::new();
        let mut stack: Vec<DigestId> = self.manifest_repos.keys().collect();
        while let Some(d) = stack.pop() {
            if live.insert(d)
                && let Some(Entry::Index { children, .. }) = self.manifests.get(&d)
            {
                stack.extend(children.iter().copied());
            }
        }
        let dead: Vec<DigestId> = self.manifests.keys().filter(|d| !live.contains(d)).copied().collect();
        for d in &dead {
            match self.manifests.remove(d) {
                Some(Entry::Image { config, layers, .. }) => {
                    self.config_manifests.remove(config, d);
                    for l in layers.iter() {
                        self.layer_manifests.remove(*l, d);
                        if !self.layer_manifests.contains_key(*l) {
                            self.layers.remove(l);
                        }
                    }
                }
                Some(Entry::Index { children, .. }) => {
                    for c in children.iter() {
                        self.parents.remove(*c, d);
                    }
                }
                None => {}
            }
        }
        dead.len()
    }

    // --- queries -------------------------------------------------------------------------

    pub(super) fn digests(&self) -> &DigestTable {
        &self.digests
    }

    /// The name buffer, rebuilt if repositories changed since the last search.
    pub(super) fn names(&self) -> std::sync::Arc<NameBuffer> {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        names
            .get_or_insert_with(|| {
                std::sync::Arc::new(NameBuffer::build(self.repo_ids.iter().map(|(n, id)| (n.as_str(), *id))))
            })
            .clone()
    }

    pub(super) fn repo_ids(&self) -> &BTreeMap<RepositoryName, RepoId> {
        &self.repo_ids
    }

    pub(super) fn tags_of(&self, id: RepoId) -> &BTreeMap<Tag, DigestId> {
        &self.repo(id).tags
    }

    /// How a digest id is known: as a manifest, a config, a layer (several at once is possible).
    pub(super) fn roles(&self, d: DigestId) -> Vec<DigestMatch> {
        let mut roles = Vec::new();
        if self.manifests.contains_key(&d) {
            roles.push(DigestMatch::Manifest);
        }
        if self.config_manifests.contains_key(d) {
            roles.push(DigestMatch::ImageId);
        }
        if self.layer_manifests.contains_key(d) {
            roles.push(DigestMatch::Layer);
        }
        roles
    }

    /// The manifests a tag may point at to contain `d` in the given role: the images with it,
    /// and every list/index that contains one of those images.
    pub(super) fn manifests_containing(&self, d: DigestId, role: DigestMatch, found: &mut dyn FnMut(DigestId)) {
        let mut image = |m: DigestId| {
            found(m);
            self.parents.get(m).for_each(&mut *found);
        };
        match role {
            DigestMatch::Manifest => image(d),
            DigestMatch::ImageId => self.config_manifests.get(d).for_each(image),
            DigestMatch::Layer => self.layer_manifests.get(d).for_each(image),
        }
    }

    /// Repositories with a tag on manifest `digest`.
    pub fn repositories_tagging(&self, digest: &Digest) -> Vec<RepositoryName> {
        let Some(m) = self.digests.get(digest) else {
            return Vec::new();
        };
        self.manifest_repos.get(m).map(|r| self.repo(r).name.clone()).collect()
    }

    /// Repositories with a tag on manifest `m`.
    pub(super) fn repos_tagging(&self, m: DigestId) -> impl Iterator<Item = RepoId> + '_ {
        self.manifest_repos.get(m)
    }

    /// Every (repository, tag) whose image contains `d` in the given role.
    #[cfg(test)]
    fn tags_containing(&self, d: DigestId, role: DigestMatch) -> Vec<(RepoId, &Tag)> {
        let mut manifests = HashSet::new();
        self.manifests_containing(d, role, &mut |m| {
            manifests.insert(m);
        });
        let mut out = Vec::new();
        for id in self.repo_ids.values() {
            out.extend(
                self.repo(*id)
                    .tags
                    .iter()
                    .filter(|(_, m)| manifests.contains(*m))
                    .map(|(t, _)| (*id, t)),
            );
        }
        out
    }

    pub(super) fn repo_name(&self, id: RepoId) -> &RepositoryName {
        &self.repo(id).name
    }

    /// Everything a row needs about one tag.
    pub fn tag_info(&self, repo: RepoId, tag: &Tag, digest: DigestId) -> TagInfo {
        let mut info = TagInfo {
            repository: self.repo(repo).name.clone(),
            tag: tag.clone(),
            digest: self.digests.digest(digest),
            media_type: String::new(),
            image_id: None,
            size: 0,
            created: None,
            platforms: Vec::new(),
            top_layer: None,
            children: Vec::new(),
        };
        match self.manifests.get(&digest) {
            Some(Entry::Image {
                media_type,
                config,
                layers,
                size,
                created,
                platform,
            }) => {
                info.media_type = self.strings.get(*media_type).to_owned();
                info.image_id = Some(self.digests.digest(*config));
                info.size = *size;
                info.created = created.as_deref().map(str::to_owned);
                let p = self.strings.get(*platform);
                if !p.is_empty() {
                    info.platforms.push(p.to_owned());
                }
                info.top_layer = layers.last().map(|l| self.digests.digest(*l));
            }
            Some(Entry::Index { media_type, children }) => {
                info.media_type = self.strings.get(*media_type).to_owned();
                for c in children.iter() {
                    if let Some(Entry::Image {
                        size, platform, config, ..
                    }) = self.manifests.get(c)
                    {
                        info.size = info.size.saturating_add(*size);
                        let platform = self.strings.get(*platform).to_owned();
                        info.platforms.push(platform.clone());
                        info.children.push(ChildInfo {
                            digest: self.digests.digest(*c),
                            image_id: Some(self.digests.digest(*config)),
                            platform,
                            size: *size,
                        });
                    }
                }
                info.created = self.created_of(digest).map(str::to_owned);
            }
            None => {}
        }
        info
    }

    /// The platform images of the manifest list / OCI index `digest` the index holds (none for
    /// an image, or a manifest it does not know).
    pub fn children_of(&self, digest: &Digest) -> Vec<ChildInfo> {
        let Some(id) = self.digests.get(digest) else {
            return Vec::new();
        };
        let Some(Entry::Index { children, .. }) = self.manifests.get(&id) else {
            return Vec::new();
        };
        children
            .iter()
            .filter_map(|c| match self.manifests.get(c) {
                Some(Entry::Image {
                    size, platform, config, ..
                }) => Some(ChildInfo {
                    digest: self.digests.digest(*c),
                    image_id: Some(self.digests.digest(*config)),
                    platform: self.strings.get(*platform).to_owned(),
                    size: *size,
                }),
                _ => None,
            })
            .collect()
    }

    /// `created` of an image; for a list/index, the newest of its children's.
    fn created_of(&self, m: DigestId) -> Option<&str> {
        match self.manifests.get(&m)? {
            Entry::Image { created, .. } => created.as_deref(),
            Entry::Index { children, .. } => children.iter().filter_map(|c| self.created_of(*c)).max(),
        }
    }

    /// Size and media type of a layer, if indexed.
    pub fn layer(&self, digest: &Digest) -> Option<(u64, &str)> {
        let id = self.digests.get(digest)?;
        let l = self.layers.get(&id)?;
        Some((l.size, self.strings.get(l.media_type)))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub fn d(s: &str) -> Digest {
        Digest::sha256_of(s.as_bytes())
    }
    pub fn r(s: &str) -> RepositoryName {
        RepositoryName::parse(s).unwrap()
    }
    pub fn t(s: &str) -> Tag {
        Tag::parse(s).unwrap()
    }
    pub fn image(config: &str, layers: &[&str]) -> IndexedManifest {
        IndexedManifest::Image {
            media_type: MediaType::OciManifest,
            config: d(config),
            config_size: 0,
            layers: layers
                .iter()
                .map(|l| IndexedLayer {
                    digest: d(l),
                    size: 10,
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                })
                .collect(),
            created: Some("2024-01-01T00:00:00Z".into()),
            platform: Some(Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            }),
        }
    }

    #[test]
    fn three_hundred_media_types_each_keep_their_own_id() {
        // Media types and platforms share one table; more than 255 of them must not wrap.
        let mut x = IndexData::default();
        let names: Vec<String> = (0..300).map(|i| format!("application/x.layer.{i}")).collect();
        let layers: Vec<IndexedLayer> = names
            .iter()
            .map(|m| IndexedLayer {
                digest: d(m),
                size: 10,
                media_type: m.clone(),
            })
            .collect();
        let IndexedManifest::Image {
            media_type,
            config,
            config_size,
            created,
            platform,
            ..
        } = image("c", &[])
        else {
            unreachable!("image() builds an image")
        };
        let manifest = IndexedManifest::Image {
            media_type,
            config,
            config_size,
            layers,
            created,
            platform,
        };
        x.insert_manifest(&d("m"), &manifest);
        for name in &names {
            assert_eq!(x.layer(&d(name)).map(|(_, m)| m), Some(name.as_str()));
        }
        let mut strings = Strings::default();
        let ids: Vec<StringId> = names.iter().map(|n| strings.intern(n)).collect();
        assert_eq!(ids[299], StringId(299));
        assert_eq!(
            strings.intern(&names[256]),
            ids[256],
            "interning again finds the same id"
        );
        assert!(names.iter().zip(&ids).all(|(n, id)| strings.get(*id) == n));
    }

    #[test]
    fn tags_sharing_a_layer_are_found_across_repositories_and_gone_when_untagged() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("m1"), &image("c1", &["base", "a"]));
        x.insert_manifest(&d("m2"), &image("c2", &["base", "b"]));
        x.set_repository(&r("team/a"), &[(t("1"), d("m1")), (t("latest"), d("m1"))]);
        x.set_repository(&r("team/b"), &[(t("1"), d("m2"))]);
        assert_eq!(x.tag_count(), 3);
        let base = x.digests().get(&d("base")).unwrap();
        assert_eq!(x.tags_containing(base, DigestMatch::Layer).len(), 3);
        assert_eq!(
            x.layer(&d("base")),
            Some((10, "application/vnd.oci.image.layer.v1.tar+gzip"))
        );

        // A manifest delete in team/a removes both of its tags, and with them the repository.
        assert_eq!(x.remove_manifest_tags(&r("team/a"), &d("m1")).len(), 2);
        assert!(!x.has_repository(&r("team/a")));
        assert_eq!(x.collect_garbage(), 1);
        assert_eq!(
            x.tags_containing(base, DigestMatch::Layer),
            vec![(x.repo_ids()[&r("team/b")], &t("1"))]
        );
    }

    #[test]
    fn children_of_an_index_are_found_through_their_parent_tag() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("amd"), &image("ca", &["base", "x"]));
        x.insert_manifest(&d("arm"), &image("cr", &["base", "y"]));
        let index = IndexedManifest::Index {
            media_type: MediaType::OciIndex,
            children: vec![(d("amd"), None), (d("arm"), None)],
        };
        x.insert_manifest(&d("idx"), &index);
        x.set_repository(&r("multi/arch"), &[(t("latest"), d("idx"))]);
        assert!(x.has_manifest(&d("idx")));
        let child = x.digests().get(&d("arm")).unwrap();
        assert_eq!(
            x.tags_containing(child, DigestMatch::Manifest).len(),
            1,
            "the child is found under its parent's tag"
        );
        let info = x.repository_tag_infos(&r("multi/arch")).unwrap().remove(0);
        assert_eq!(info.platforms, ["linux/amd64", "linux/amd64"]);
        assert_eq!(info.size, 40);
        assert_eq!(x.collect_garbage(), 0, "children of a tagged index are live");
    }

    #[test]
    fn a_repository_listed_again_drops_its_vanished_tags_and_retags() {
        let mut x = IndexData::default();
        x.insert_manifest(&d("m1"), &image("c1", &["l1"]));
        x.insert_manifest(&d("m2"), &image("c2", &["l2"]));
        x.set_repository(&r("a"), &[(t("1"), d("m1")), (t("2"), d("m1"))]);
        x.set_repository(&r("a"), &[(t("2"), d("m2"))]);
        assert_eq!(x.repository_tags(&r("a")).unwrap(), vec![(t("2"), d("m2"))]);
        assert_eq!(x.tag_count(), 1);
        x.set_repository(&r("a"), &[]);
        assert!(!x.has_repository(&r("a")), "no tags: the registry says it is gone");
        assert_eq!(x.tag_count(), 0);
    }
}
