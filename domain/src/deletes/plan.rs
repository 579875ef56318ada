//! What a delete takes, worked out before anything is deleted: the manifests (with their tags),
//! the blob links and the stored blobs that go, and what stays and why.
//!
//! One plan serves both the preview shown before a delete and the delete itself, so what the
//! page promised is what happens. The rules that protect other people's images live here:
//!
//! - a platform image of a multi-arch image stays when it is tagged itself, or when another
//!   multi-arch image in the same repository (tagged there, or held by the repository's image
//!   stream on OpenShift) lists it; only untagged platforms nothing else lists go along;
//! - deleting an image everywhere (OpenShift prune) is planned only on complete knowledge: the
//!   cluster's watched collections have finished their first list and the registry index its
//!   first crawl. Until then Regent cannot know who else holds the image, so it refuses;
//! - every repository holding the image must be named by a valid repository name, or the
//!   permission check could not cover it: an unparsable holder refuses the prune;
//! - a blob (layer or config) another image still uses keeps its link and its storage.

use super::{DeleteError, Deleter};
use crate::access::{Access, Action};
use crate::index::{IndexData, TagInfo};
use crate::openshift::{Image, OpenShift};
use crate::reference::{Digest, RepositoryName, Tag};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// What Regent has not finished loading (why it refuses to delete an image everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// The cluster's watched collections (images, streams, projects, …) are not all listed.
    Cluster,
    /// The registry index's first crawl has not finished.
    Index,
}

impl std::fmt::Display for Loading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Loading::Cluster => "the cluster",
            Loading::Index => "the registry index",
        })
    }
}

/// One manifest a delete takes in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoingManifest {
    pub repository: RepositoryName,
    pub digest: Digest,
    /// `Some(platform)` for a platform image of the multi-arch image being deleted.
    pub platform: Option<String>,
    /// Its tags in `repository`, which go with it.
    pub tags: Vec<Tag>,
}

/// A platform image of the multi-arch image being deleted that stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPlatform {
    pub repository: RepositoryName,
    pub digest: Digest,
    pub platform: String,
    /// Why, in words: "tagged amd64", "also a platform of …".
    pub why: String,
}

/// What one delete takes and keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletePlan {
    /// The deleted image first in each repository, then its platform images that go.
    pub manifests: Vec<GoingManifest>,
    pub kept: Vec<KeptPlatform>,
    /// Every repository the delete touches: the caller must be allowed to delete in each.
    pub repositories: Vec<RepositoryName>,
    /// Prune only: links to layers and configs removed from a repository.
    pub links: Vec<(RepositoryName, Digest)>,
    /// Prune only: blobs deleted from storage (where the registry can), with sizes.
    pub blobs: Vec<(Digest, u64)>,
    /// Prune only: blobs of the image another image still uses; their links and data stay.
    pub shared: Vec<Digest>,
}

impl DeletePlan {
    /// Whether `access` may carry the plan out: delete in every repository it touches. A
    /// refusal names the repositories the viewer may see and only counts the others, so
    /// asking reveals nothing of other teams.
    pub fn permitted(&self, access: &Access) -> Result<(), DeleteError> {
        let (mut named, mut unseen) = (Vec::new(), 0);
        for repository in self.repositories.iter().filter(|r| !access.may(Action::Delete, r)) {
            if access.may(Action::View, repository) {
                named.push(repository.clone());
            } else {
                unseen += 1;
            }
        }
        if named.is_empty() && unseen == 0 {
            Ok(())
        } else {
            Err(DeleteError::Denied { named, unseen })
        }
    }

    /// Every tag that goes, as `repository:tag`.
    pub fn tags(&self) -> Vec<Tag> {
        self.manifests.iter().flat_map(|m| m.tags.iter().cloned()).collect()
    }

    /// What goes, one line each, for the preview before the delete.
    pub fn goes(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .manifests
            .iter()
            .map(|m| match (&m.platform, m.tags.is_empty()) {
                (Some(p), _) => format!("{}@{} (platform {p}, untagged)", m.repository, m.digest),
                (None, true) => format!("{}@{} (untagged)", m.repository, m.digest),
                (None, false) => format!("{}@{} with the tags {}", m.repository, m.digest, list(&m.tags)),
            })
            .collect();
        if !self.links.is_empty() {
            lines.push(format!(
                "{} layer/config link(s) in {}",
                self.links.len(),
                self.links
                    .iter()
                    .map(|(r, _)| r.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.blobs.is_empty() {
            lines.push(format!("{} blob(s) nothing else uses, from storage", self.blobs.len()));
        }
        lines
    }

    /// What stays that a reader might expect to go, and why, one line each.
    pub fn stays(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .kept
            .iter()
            .map(|k| format!("{}@{} (platform {}): {}", k.repository, k.digest, k.platform, k.why))
            .collect();
        if !self.shared.is_empty() {
            lines.push(format!(
                "{} layer/config blob(s) another image still uses",
                self.shared.len()
            ));
        }
        lines
    }

    /// " Platform images kept: …" for a summary, or nothing.
    pub(super) fn kept_sentence(&self) -> String {
        if self.kept.is_empty() {
            return String::new();
        }
        let names: Vec<String> = self
            .kept
            .iter()
            .map(|k| format!("{}@{} ({}; {})", k.repository, k.digest, k.platform, k.why))
            .collect();
        format!(" Platform images kept: {}.", names.join(", "))
    }

    fn goes_in(&self, repository: &RepositoryName, digest: &Digest) -> bool {
        self.manifests
            .iter()
            .any(|m| m.repository == *repository && m.digest == *digest)
    }
}

pub(super) fn list(tags: &[Tag]) -> String {
    tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")
}

impl Deleter {
    /// What deleting the manifest `digest` in `repository` takes: it, every tag on it, and its
    /// platform images that nothing else here needs. Refuses a platform of a tagged multi-arch
    /// image (deleting it alone breaks every pull of the parent).
    pub fn manifest_plan(&self, repository: &RepositoryName, digest: &Digest) -> Result<DeletePlan, DeleteError> {
        let data = self.index.read();
        let infos = data.repository_tag_infos(repository).unwrap_or_default();
        let tags: Vec<Tag> = infos
            .iter()
            .filter(|i| i.digest == *digest)
            .map(|i| i.tag.clone())
            .collect();
        if tags.is_empty()
            && let Some(parent) = infos.iter().find(|i| i.children.iter().any(|c| c.digest == *digest))
        {
            return Err(DeleteError::Refused(format!(
                "{digest} is one platform of the multi-arch image {} (tagged {repository}:{}); \
                 deleting it alone would break every pull of that image. Delete the multi-arch image instead.",
                parent.digest, parent.tag
            )));
        }
        let mut plan = DeletePlan {
            repositories: vec![repository.clone()],
            ..Default::default()
        };
        plan.manifests.push(GoingManifest {
            repository: repository.clone(),
            digest: digest.clone(),
            platform: None,
            tags,
        });
        let cluster = self.openshift.as_deref().filter(|o| o.active());
        self.plan_platforms(&mut plan, &data, &infos, cluster, repository, digest);
        Ok(plan)
    }

    /// What deleting the image `digest` everywhere on OpenShift takes, in every repository
    /// whose stream or tags hold it. Refused until the cluster and the index are loaded, and
    /// when a stream holding it has a name that is not a repository name.
    pub fn prune_plan(&self, digest: &Digest) -> Result<DeletePlan, DeleteError> {
        let Some(openshift) = self.openshift.as_deref() else {
            return Err(DeleteError::Refused(
                "Regent is not connected to an OpenShift cluster; delete the manifest in its repository instead."
                    .into(),
            ));
        };
        if !openshift.synced() {
            return Err(DeleteError::Loading(Loading::Cluster));
        }
        if !self.index.status().complete {
            return Err(DeleteError::Loading(Loading::Index));
        }
        let join = openshift.join();
        let mut repositories = Vec::new();
        for (tag, _) in join.holding(digest.as_ref()) {
            match RepositoryName::parse(&tag.name.repository()) {
                Ok(r) => repositories.push(r),
                Err(e) => {
                    return Err(DeleteError::Refused(format!(
                        "The image stream tag {} holds this image, but {} is not a registry repository name ({e}), \
                         so Regent can neither check who may delete there nor delete it there. Nothing was deleted: \
                         delete that image stream tag with oc first, then delete the image here.",
                        tag.name,
                        tag.name.repository()
                    )));
                }
            }
        }
        let data = self.index.read();
        repositories.extend(data.repositories_tagging(digest));
        repositories.sort();
        repositories.dedup();
        let mut plan = DeletePlan {
            repositories: repositories.clone(),
            ..Default::default()
        };
        for repository in &repositories {
            let infos = data.repository_tag_infos(repository).unwrap_or_default();
            plan.manifests.push(GoingManifest {
                repository: repository.clone(),
                digest: digest.clone(),
                platform: None,
                tags: infos
                    .iter()
                    .filter(|i| i.digest == *digest)
                    .map(|i| i.tag.clone())
                    .collect(),
            });
            self.plan_platforms(&mut plan, &data, &infos, Some(openshift), repository, digest);
        }
        // Blobs: each going manifest's layers and config lose their link in its repository,
        // unless another image there still uses them; blobs no image uses go from storage.
        let kept_digests: HashSet<&Digest> = plan.kept.iter().map(|k| &k.digest).collect();
        let gone_everywhere: HashSet<Digest> = plan
            .manifests
            .iter()
            .map(|m| m.digest.clone())
            .filter(|d| !kept_digests.contains(d))
            .collect();
        let images = openshift.images();
        let others: Vec<&Image> = images
            .iter()
            .map(AsRef::as_ref)
            .filter(|i| {
                i.metadata
                    .name
                    .as_deref()
                    .is_none_or(|n| !gone_everywhere.iter().any(|d| d.as_ref() == n))
            })
            .collect();
        let goes = |r: &RepositoryName, d: &Digest| plan.goes_in(r, d);
        let mut links = Vec::new();
        let mut candidates: Vec<(Digest, u64)> = Vec::new();
        let mut shared = BTreeSet::new();
        let mut stored = Vec::new();
        for m in &plan.manifests {
            let blobs = blobs_of(&data, openshift, &m.digest);
            let (namespace, stream) = m.repository.image_stream().unwrap_or(("", ""));
            let held_here: Vec<Arc<Image>> = join
                .held_in(namespace, stream)
                .into_iter()
                .filter(|d| Digest::parse(d).is_ok_and(|d| !plan.goes_in(&m.repository, &d)))
                .filter_map(|d| openshift.image(d))
                .collect();
            for (blob, size) in &blobs {
                let used_here = data.blob_used_besides(blob, Some(&m.repository), &goes)
                    || held_here.iter().any(|i| image_uses(openshift, i, blob));
                if used_here {
                    shared.insert(blob.clone());
                } else if !links.contains(&(m.repository.clone(), blob.clone())) {
                    links.push((m.repository.clone(), blob.clone()));
                }
                if !candidates.iter().any(|(d, _)| d == blob) {
                    candidates.push((blob.clone(), *size));
                }
            }
            if !candidates.iter().any(|(d, _)| *d == m.digest) {
                candidates.push((m.digest.clone(), 0));
            }
        }
        for (blob, size) in candidates {
            let used = data.blob_used_besides(&blob, None, &goes)
                || kept_digests.contains(&blob)
                || others.iter().any(|i| image_uses(openshift, i, &blob));
            if used {
                shared.insert(blob);
            } else {
                stored.push((blob, size));
            }
        }
        plan.blobs = stored;
        plan.links = links;
        plan.shared = shared.into_iter().collect();
        Ok(plan)
    }

    /// Adds the platform images of `digest` in `repository` to the plan: each goes, unless it
    /// is tagged itself or another multi-arch image here lists it.
    fn plan_platforms(
        &self,
        plan: &mut DeletePlan,
        data: &IndexData,
        infos: &[TagInfo],
        cluster: Option<&OpenShift>,
        repository: &RepositoryName,
        digest: &Digest,
    ) {
        let mut children: Vec<(Digest, String)> = data
            .children_of(digest)
            .into_iter()
            .map(|c| (c.digest, c.platform))
            .collect();
        if children.is_empty()
            && let Some(image) = cluster.and_then(|o| o.image(digest.as_ref()))
        {
            children = image
                .docker_image_manifests
                .iter()
                .filter_map(|m| {
                    let platform = format!("{}/{}", m.os, m.architecture);
                    Digest::parse(&m.digest).ok().map(|d| (d, platform))
                })
                .collect();
        }
        let held: Vec<Arc<Image>> = match (cluster, repository.image_stream()) {
            (Some(o), Some((namespace, stream))) => o
                .join()
                .held_in(namespace, stream)
                .into_iter()
                .filter(|d| *d != digest.as_ref())
                .filter_map(|d| o.image(d))
                .collect(),
            _ => Vec::new(),
        };
        for (child, platform) in children {
            let own: Vec<Tag> = infos
                .iter()
                .filter(|i| i.digest == child)
                .map(|i| i.tag.clone())
                .collect();
            let other_index = infos
                .iter()
                .find(|i| i.digest != *digest && i.children.iter().any(|c| c.digest == child));
            let other_stream_image = held
                .iter()
                .find(|i| i.docker_image_manifests.iter().any(|m| m.digest == child.as_ref()));
            let why = if !own.is_empty() {
                Some(format!("tagged {} itself", list(&own)))
            } else if let Some(other) = other_index {
                Some(format!(
                    "also a platform of the multi-arch image {} (tagged {repository}:{})",
                    other.digest, other.tag
                ))
            } else {
                other_stream_image.map(|i| {
                    format!(
                        "also a platform of the multi-arch image {} in the image stream {repository}",
                        i.metadata.name.as_deref().unwrap_or_default()
                    )
                })
            };
            match why {
                Some(why) => plan.kept.push(KeptPlatform {
                    repository: repository.clone(),
                    digest: child,
                    platform,
                    why,
                }),
                None if !plan.goes_in(repository, &child) => plan.manifests.push(GoingManifest {
                    repository: repository.clone(),
                    digest: child,
                    platform: Some(platform),
                    tags: Vec::new(),
                }),
                None => {}
            }
        }
    }
}

/// The layers and config of the image `digest` (none for a multi-arch image: its platforms
/// carry them), from the index, or from its Image object when the index does not know it.
fn blobs_of(data: &IndexData, openshift: &OpenShift, digest: &Digest) -> Vec<(Digest, u64)> {
    let known = data.image_blobs(digest);
    if !known.is_empty() {
        return known;
    }
    let Some(image) = openshift.image(digest.as_ref()) else {
        return Vec::new();
    };
    let mut blobs: Vec<(Digest, u64)> = image
        .docker_image_layers
        .iter()
        .filter_map(|l| Digest::parse(&l.name).ok().map(|d| (d, l.size)))
        .collect();
    if let Some(config) = config_of(&image) {
        blobs.push((config, 0));
    }
    blobs
}

/// The config blob of an Image object: its image ID, for a schema 2 / OCI image.
fn config_of(image: &Image) -> Option<Digest> {
    let id = image.docker_image_metadata.as_ref()?.id.as_deref()?;
    Digest::parse(id).ok()
}

/// Whether the Image object `image` uses `blob`: it is its manifest, a layer, its config, or
/// (for a manifest list) one of its platform images or something they use.
fn image_uses(openshift: &OpenShift, image: &Image, blob: &Digest) -> bool {
    let direct = |i: &Image| {
        i.metadata.name.as_deref() == Some(blob.as_ref())
            || i.docker_image_layers.iter().any(|l| l.name == blob.as_ref())
            || config_of(i).as_ref() == Some(blob)
    };
    direct(image)
        || image
            .docker_image_manifests
            .iter()
            .any(|m| m.digest == blob.as_ref() || openshift.image(&m.digest).is_some_and(|child| direct(&child)))
}
