//! Deletes that never surprise: one tag, one manifest, one repository, each exactly, with the
//! index updated at once and an audit record of who deleted what.
//!
//! Who may delete is decided before this (the access policy's `delete` level, checked by the
//! caller); this module does the deleting right. A tag goes alone even when other tags share
//! its digest; a manifest takes the tags the index lists on it; the child image of a multi-arch
//! image is refused while its parent is tagged (deleting it breaks every pull of the parent); a
//! repository is every manifest its tags point at. A registry with deletes turned off is told
//! apart from every other failure, because its fix is a setting.

mod plan;
mod request;

pub use plan::{DeletePlan, GoingManifest, KeptPlatform, Loading};
pub use request::{DeleteKind, DeleteRequest};

use crate::index::CatalogIndex;
use crate::index::events::Change;
use crate::openshift::{OpenShift, StreamTagName};
use crate::reference::{Digest, RepositoryName, Tag};
use crate::registry::{OciErrorCode, RegistryClient, RegistryError, TagDeletion};
use crate::store::{Actor, Store};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteError {
    /// The registry has deletes turned off; nothing was deleted.
    #[error("{0}")]
    Disabled(String),
    /// Already gone (or never there).
    #[error("{0}")]
    NotFound(String),
    /// Regent will not do it: why, and what to do instead.
    #[error("{0}")]
    Refused(String),
    /// Regent does not know enough yet to do it safely (right after start-up); nothing was
    /// deleted.
    #[error("Regent is still loading {0}; try again in a minute.")]
    Loading(Loading),
    /// The caller may not delete in repositories the delete would touch; nothing was deleted.
    /// Those the caller may see are named, the others only counted.
    #[error("{}", denied_message(named, *unseen))]
    Denied { named: Vec<RepositoryName>, unseen: usize },
    /// The caller may not make this delete at all: why, and what to do (sign in, ask an
    /// administrator); nothing was deleted.
    #[error("{0}")]
    NotAllowed(String),
    /// The request names something that cannot exist (a malformed tag, digest or name).
    #[error("{0}")]
    BadInput(String),
    /// The registry is not answering (down, unreachable, timing out); nothing more was deleted.
    #[error("{0}")]
    Unavailable(String),
    /// The registry failed; what it said and what to check.
    #[error("{0}")]
    Registry(String),
}

fn denied_message(named: &[RepositoryName], unseen: usize) -> String {
    let names = named.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    match (named.is_empty(), unseen) {
        (false, 0) => format!("You may not delete in {names}, which holds this image too"),
        (true, n) => format!(
            "{n} repositor{} in projects you cannot see hold{} this image too; deleting it everywhere needs delete \
             access to every repository that holds it",
            if n == 1 { "y" } else { "ies" },
            if n == 1 { "s" } else { "" }
        ),
        (false, n) => format!(
            "You may not delete in {names}, nor in {n} more repositor{} in projects you cannot see, which hold this \
             image too",
            if n == 1 { "y" } else { "ies" }
        ),
    }
}

impl DeleteError {
    /// The same kind of error, saying `message` instead (a report's summary).
    pub fn saying(self, message: String) -> Self {
        match self {
            DeleteError::Disabled(_) => DeleteError::Disabled(message),
            DeleteError::NotFound(_) => DeleteError::NotFound(message),
            DeleteError::Refused(_) => DeleteError::Refused(message),
            DeleteError::NotAllowed(_) => DeleteError::NotAllowed(message),
            DeleteError::BadInput(_) => DeleteError::BadInput(message),
            DeleteError::Unavailable(_) => DeleteError::Unavailable(message),
            DeleteError::Registry(_) => DeleteError::Registry(message),
            kept @ (DeleteError::Loading(_) | DeleteError::Denied { .. }) => kept,
        }
    }
}

/// What deleting a layer everywhere did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerDeletion {
    /// Each manifest deleted because it (or one of its platforms) contains the layer, with the
    /// tags that went with it.
    pub deleted: Vec<(RepositoryName, Digest, Vec<Tag>)>,
    /// Repositories with images that contain the layer, left alone: the caller may see them but
    /// not delete there.
    pub untouched: Vec<RepositoryName>,
    /// How many more images contain it in repositories the caller cannot see.
    pub hidden_images: usize,
    /// What failed, in words.
    pub failures: Vec<String>,
    /// The first failure as an error, which says what kind of failure the delete ended in
    /// when nothing went.
    pub first_failure: Option<DeleteError>,
    pub summary: String,
}

/// What the registry's garbage collection would free, from deletes made in Regent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcPlan {
    /// Blobs it would delete, with sizes.
    pub blobs: Vec<(Digest, u64)>,
    pub bytes: u64,
    /// Manifests tag deletes left untagged: freed only by `--delete-untagged`, which also
    /// deletes the platform images of multi-arch images.
    pub untagged: Vec<(RepositoryName, Digest, u64)>,
    pub untagged_bytes: u64,
}

/// What a delete did, in words, and the tags it removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub summary: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct Deleter {
    registry: Arc<RegistryClient>,
    index: Arc<CatalogIndex>,
    store: Store,
    /// On OpenShift: image streams are told of (and warned about) every delete.
    openshift: Option<Arc<OpenShift>>,
}

impl Deleter {
    pub fn new(registry: Arc<RegistryClient>, index: Arc<CatalogIndex>, store: Store) -> Self {
        Self {
            registry,
            index,
            store,
            openshift: None,
        }
    }

    /// Deletes on this cluster's integrated registry.
    pub fn with_openshift(mut self, openshift: Option<Arc<OpenShift>>) -> Self {
        self.openshift = openshift;
        self
    }

    /// " Image stream tags … still point at it: …" when a stream still names a deleted digest,
    /// so no stream is left pointing at a missing manifest without anyone being told.
    fn streams_left(&self, digests: &[&Digest]) -> String {
        let Some(openshift) = self.openshift.as_ref().filter(|o| o.active()) else {
            return String::new();
        };
        let join = openshift.join();
        let names: Vec<String> = digests
            .iter()
            .flat_map(|d| join.pointing_at(d.as_ref()).iter().map(ToString::to_string))
            .collect();
        if names.is_empty() {
            return String::new();
        }
        format!(
            " Image stream tag{} {} still point{} at it: pulls by {} fail until the image is pushed again; \
             delete the image stream tag{} too, or delete the image (which updates the streams first).",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            if names.len() == 1 { "it" } else { "them" },
            if names.len() == 1 { "" } else { "s" },
        )
    }

    /// On OpenShift: deletes one image stream tag with its history (`oc delete istag`).
    pub async fn stream_tag(&self, actor: &Actor, name: &StreamTagName) -> Result<Deleted, DeleteError> {
        let target = name.to_string();
        let outcome = match &self.openshift {
            None => Err(DeleteError::Refused(
                "Regent is not connected to an OpenShift cluster; there are no image stream tags to delete.".into(),
            )),
            Some(openshift) => match openshift.delete_stream_tag(name).await {
                Ok(done) => Ok(Deleted {
                    summary: done.summary,
                    tags: Vec::new(),
                }),
                Err(e) if e.is_not_found() => Err(DeleteError::NotFound(e.to_string())),
                Err(e) => Err(DeleteError::Registry(e.to_string())),
            },
        };
        self.audit(actor, DeleteKind::StreamTag.action(), &target, &outcome)
            .await;
        outcome
    }

    /// On OpenShift: deletes an image everywhere, in the order `oc adm prune` uses: the
    /// streams first drop it from their history, then the registry's manifest links (with the
    /// tags on them and the platform images nothing else needs), the layer links nothing else
    /// in those repositories uses, and the blobs nothing uses at all (`/admin/blobs`, where the
    /// registry has it), last the Image object. What goes is `prune_plan`'s answer, so it is
    /// refused until the cluster and the index are loaded, and unless `access` may delete in
    /// every repository holding the image.
    pub async fn prune_image(
        &self,
        actor: &Actor,
        digest: &Digest,
        access: &crate::access::Access,
    ) -> Result<Deleted, DeleteError> {
        let target = format!("image {digest}");
        let planned = self
            .prune_plan(digest)
            .and_then(|plan| plan.permitted(access).map(|()| plan));
        let outcome = match (planned, &self.openshift) {
            (Ok(plan), Some(openshift)) => self.prune_steps(openshift, digest, &plan).await,
            (Err(e), _) => Err(e),
            // prune_plan refuses without a cluster; this arm only keeps the match total.
            (Ok(_), None) => Err(DeleteError::Refused(
                "Regent is not connected to an OpenShift cluster.".into(),
            )),
        };
        self.audit(actor, DeleteKind::Image.action(), &target, &outcome).await;
        outcome
    }

    async fn prune_steps(
        &self,
        openshift: &OpenShift,
        digest: &Digest,
        plan: &DeletePlan,
    ) -> Result<Deleted, DeleteError> {
        let cluster = |e: crate::openshift::OpenShiftError| DeleteError::Registry(e.to_string());
        let streams = openshift.forget_image(digest.as_ref()).await.map_err(cluster)?;
        let mut tags = Vec::new();
        let mut unlinked = 0;
        let mut platforms = 0;
        let mut failures = Vec::new();
        for repository in &plan.repositories {
            match self.registry.delete_manifest(repository, digest).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    failures.push(explain(e, &format!("{repository}@{digest}")).to_string());
                    continue;
                }
            }
            self.apply(Change::ManifestDeleted {
                repository: repository.clone(),
                digest: digest.clone(),
            })
            .await;
            for going in plan.manifests.iter().filter(|m| m.repository == *repository) {
                if going.platform.is_none() {
                    tags.extend(going.tags.iter().cloned());
                    continue;
                }
                match self.registry.delete_manifest(repository, &going.digest).await {
                    Ok(()) => platforms += 1,
                    Err(e) if e.is_not_found() => {}
                    Err(e) => failures.push(explain(e, &format!("{repository}@{}", going.digest)).to_string()),
                }
            }
            for (_, blob) in plan.links.iter().filter(|(r, _)| r == repository) {
                match self.registry.delete_blob(repository, blob).await {
                    Ok(()) => unlinked += 1,
                    Err(e) if e.is_not_found() => {}
                    Err(e) => failures.push(explain(e, &format!("the link to {blob} in {repository}")).to_string()),
                }
            }
        }
        let mut stored = 0;
        let mut kept_for_gc = 0;
        for (blob, _) in &plan.blobs {
            match self.registry.delete_stored_blob(blob).await {
                Ok(true) => stored += 1,
                Ok(false) => kept_for_gc += 1,
                Err(e) => failures.push(format!("deleting the blob {blob} from storage failed: {e}")),
            }
        }
        let image_deleted = openshift.delete_image_object(digest.as_ref()).await.map_err(cluster)?;
        let mut summary = format!("Deleted the image {digest}.");
        if !streams.streams.is_empty() {
            let names: Vec<String> = streams
                .streams
                .iter()
                .map(|(s, t)| format!("{s} ({})", t.join(", ")))
                .collect();
            summary.push_str(&format!(" Removed it from the history of {}.", names.join(", ")));
        }
        if !tags.is_empty() {
            summary.push_str(&format!(" Registry tags gone with it: {}.", list(&tags)));
        }
        let repositories = plan.repositories.len();
        summary.push_str(&format!(
            " Manifest deleted in {repositories} repositor{}",
            if repositories == 1 { "y" } else { "ies" }
        ));
        if platforms > 0 {
            summary.push_str(&format!(" with {platforms} platform image(s)"));
        }
        summary.push_str(&format!(", {unlinked} layer link(s) removed"));
        match (stored, kept_for_gc) {
            (0, 0) => summary.push('.'),
            (n, 0) => summary.push_str(&format!(", {n} blob(s) deleted from storage.")),
            (_, n) => summary.push_str(&format!(
                "; {n} blob(s) no image uses any more are freed by the registry's garbage collection (it has no /admin/blobs)."
            )),
        }
        summary.push_str(&plan.kept_sentence());
        if !plan.shared.is_empty() {
            summary.push_str(&format!(
                " {} layer/config blob(s) stay: other images still use them.",
                plan.shared.len()
            ));
        }
        summary.push_str(if image_deleted {
            " The Image object is deleted."
        } else {
            " There was no Image object for it."
        });
        if failures.is_empty() {
            Ok(Deleted { summary, tags })
        } else {
            Err(DeleteError::Registry(format!(
                "{summary} These failed: {}",
                failures.join("; ")
            )))
        }
    }

    /// Deletes `tag` only.
    pub async fn tag(&self, actor: &Actor, repository: &RepositoryName, tag: &Tag) -> Result<Deleted, DeleteError> {
        let target = format!("{repository}:{tag}");
        let (digest, siblings) = self.digest_and_siblings(repository, tag);
        let result = self.registry.delete_tag(repository, tag).await;
        let outcome = match result {
            Ok(how) => {
                if let TagDeletion::Repointed { throwaway, size } = &how {
                    self.note_candidates(&[(throwaway.clone(), *size)]).await;
                }
                // The last tag on its image: the manifest stays, untagged, and keeps its blobs.
                if siblings.is_empty()
                    && let Some(digest) = &digest
                {
                    self.note_untagged(repository, digest).await;
                }
                self.apply(Change::TagDeleted {
                    repository: repository.clone(),
                    tag: tag.clone(),
                })
                .await;
                let kept = if siblings.is_empty() {
                    String::new()
                } else {
                    format!(
                        " {} still point{} at the same image.",
                        list(&siblings),
                        if siblings.len() == 1 { "s" } else { "" }
                    )
                };
                let stream = self.stream_tag_left(repository, tag);
                Ok(Deleted {
                    summary: format!("Deleted the tag {target}.{kept}{stream}"),
                    tags: vec![tag.clone()],
                })
            }
            Err(e) => Err(explain(e, &target)),
        };
        self.audit(actor, DeleteKind::Tag.action(), &target, &outcome).await;
        outcome
    }

    /// Deletes the manifest `digest` in `repository` and so every tag on it, with the platform
    /// images `manifest_plan` says go (never one that is tagged itself or listed by another
    /// multi-arch image).
    pub async fn manifest(
        &self,
        actor: &Actor,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Deleted, DeleteError> {
        let target = format!("{repository}@{digest}");
        let plan = match self.manifest_plan(repository, digest) {
            Ok(plan) => plan,
            Err(e) => {
                let outcome = Err(e);
                self.audit(actor, DeleteKind::Manifest.action(), &target, &outcome)
                    .await;
                return outcome;
            }
        };
        let tags = plan.tags();
        let platforms: Vec<Digest> = plan
            .manifests
            .iter()
            .filter(|m| m.platform.is_some())
            .map(|m| m.digest.clone())
            .collect();
        let outcome = match self.delete_image(repository, digest, &platforms).await {
            Ok(platforms) => {
                if let Err(e) = self.store.forget_untagged(repository, digest).await {
                    tracing::warn!(error = %e, "could not update the garbage-collection notes");
                }
                self.apply(Change::ManifestDeleted {
                    repository: repository.clone(),
                    digest: digest.clone(),
                })
                .await;
                let platforms = match platforms {
                    0 => String::new(),
                    n => format!(" with its {n} platform image(s)"),
                };
                let streams = self.streams_left(&[digest]);
                let kept = plan.kept_sentence();
                let summary = if tags.is_empty() {
                    format!("Deleted the untagged manifest {target}{platforms}.{kept}{streams}")
                } else {
                    format!(
                        "Deleted {target}{platforms} and its tags {}.{kept}{streams}",
                        list(&tags)
                    )
                };
                Ok(Deleted { summary, tags })
            }
            Err(e) => Err(explain(e, &target)),
        };
        self.audit(actor, DeleteKind::Manifest.action(), &target, &outcome)
            .await;
        outcome
    }

    /// Deletes every manifest the repository's tags point at. The registry keeps the name in its
    /// catalog (empty) until its storage is cleaned; Regent's lists drop it at once.
    pub async fn repository(&self, actor: &Actor, repository: &RepositoryName) -> Result<Deleted, DeleteError> {
        let target = repository.to_string();
        let tags = self.index.read().repository_tags(repository).unwrap_or_default();
        if tags.is_empty() {
            let outcome = Err(DeleteError::NotFound(format!(
                "{repository} has no tags in Regent's index; there is nothing to delete."
            )));
            self.audit(actor, DeleteKind::Repository.action(), &target, &outcome)
                .await;
            return outcome;
        }
        let mut digests: Vec<&Digest> = tags.iter().map(|(_, d)| d).collect();
        digests.sort();
        digests.dedup();
        let mut failures = Vec::new();
        for digest in &digests {
            // Every tag here goes, so every platform of its multi-arch images goes too.
            let platforms: Vec<Digest> = self
                .index
                .read()
                .children_of(digest)
                .into_iter()
                .map(|c| c.digest)
                .collect();
            match self.delete_image(repository, digest, &platforms).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    let e = explain(e, &format!("{repository}@{digest}"));
                    // Turned off, or not answering: the other manifests would fail the same way.
                    if let DeleteError::Disabled(_) | DeleteError::Unavailable(_) = e {
                        self.audit(actor, DeleteKind::Repository.action(), &target, &Err(e.clone()))
                            .await;
                        return Err(e);
                    }
                    failures.push(e.to_string());
                    continue;
                }
            }
            self.apply(Change::ManifestDeleted {
                repository: repository.clone(),
                digest: (*digest).clone(),
            })
            .await;
        }
        let outcome = if failures.is_empty() {
            Ok(Deleted {
                summary: format!(
                    "Deleted {repository}: {} tag(s) on {} manifest(s). The registry lists the name (empty) until \
                     its storage is cleaned up.{}",
                    tags.len(),
                    digests.len(),
                    self.streams_left(&digests)
                ),
                tags: tags.into_iter().map(|(t, _)| t).collect(),
            })
        } else {
            Err(DeleteError::Registry(format!(
                "Deleted {} of {} manifests of {repository}; these failed: {}",
                digests.len() - failures.len(),
                digests.len(),
                failures.join("; ")
            )))
        };
        self.audit(actor, DeleteKind::Repository.action(), &target, &outcome)
            .await;
        outcome
    }

    /// The leaked-secret case: deletes every image that contains `layer` (directly or in one of
    /// its platforms) in each repository the caller may delete in (`deletable`), then the
    /// layer's link in those repositories, so no image there can pull it any more. Repositories
    /// the caller can see but not delete in are named as untouched; images in repositories
    /// they cannot see are only counted. A failure on one image does not stop the others.
    pub async fn layer(
        &self,
        actor: &Actor,
        layer: &Digest,
        visible: &(dyn Fn(&RepositoryName) -> bool + Sync),
        deletable: &(dyn Fn(&RepositoryName) -> bool + Sync),
    ) -> Result<LayerDeletion, DeleteError> {
        let target = format!("layer {layer}");
        let hits = {
            let query = crate::index::SearchQuery::layer(layer);
            match self.index.read().search(&query, &|_| true, 0, usize::MAX) {
                crate::index::SearchResults::Tags { hits, .. } => hits,
                crate::index::SearchResults::Repositories { .. } => Vec::new(),
            }
        };
        if hits.is_empty() {
            return Err(DeleteError::NotFound(format!(
                "No indexed image contains the layer {layer}; there is nothing to delete."
            )));
        }
        // Each image once: (repository, top-level manifest) → its tags.
        let mut images: std::collections::BTreeMap<(RepositoryName, Digest), Vec<Tag>> = Default::default();
        for hit in hits {
            images
                .entry((hit.info.repository, hit.info.digest))
                .or_default()
                .push(hit.info.tag);
        }
        let mut report = LayerDeletion::default();
        let mut cleared: Vec<RepositoryName> = Vec::new();
        for ((repository, digest), mut tags) in images {
            if !visible(&repository) {
                report.hidden_images += 1;
                continue;
            }
            if !deletable(&repository) {
                if !report.untouched.contains(&repository) {
                    report.untouched.push(repository);
                }
                continue;
            }
            match self.manifest(actor, &repository, &digest).await {
                Ok(_) => {
                    tags.sort();
                    report.deleted.push((repository.clone(), digest, tags));
                    if !cleared.contains(&repository) {
                        cleared.push(repository);
                    }
                }
                Err(e) => {
                    report.failures.push(e.to_string());
                    report.first_failure.get_or_insert(e);
                }
            }
        }
        for repository in &cleared {
            match self.registry.delete_blob(repository, layer).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => report
                    .failures
                    .push(explain(e, &format!("the layer link in {repository}")).to_string()),
            }
        }
        let tags: usize = report.deleted.iter().map(|(_, _, t)| t.len()).sum();
        let mut summary = format!(
            "Deleted {} image(s) with {tags} tag(s) in {} repositor{} and unlinked the layer there.",
            report.deleted.len(),
            cleared.len(),
            if cleared.len() == 1 { "y" } else { "ies" }
        );
        if !report.untouched.is_empty() {
            let names: Vec<&str> = report.untouched.iter().map(RepositoryName::as_str).collect();
            summary.push_str(&format!(
                " Not touched (you may not delete there): {}.",
                names.join(", ")
            ));
        }
        if report.hidden_images > 0 {
            summary.push_str(&format!(
                " {} more image(s) contain it in repositories you cannot see; ask an administrator.",
                report.hidden_images
            ));
        }
        if !report.failures.is_empty() {
            summary.push_str(&format!(" Failed: {}", report.failures.join("; ")));
        }
        report.summary = summary;
        let outcome = if report.failures.is_empty() {
            Ok(Deleted {
                summary: report.summary.clone(),
                tags: Vec::new(),
            })
        } else {
            Err(DeleteError::Registry(report.summary.clone()))
        };
        self.audit(actor, DeleteKind::Layer.action(), &target, &outcome).await;
        Ok(report)
    }

    /// What the registry's garbage collection (without `--delete-untagged`) would free now, as
    /// far as deletes made through Regent go: blobs whose last manifest Regent deleted and that no
    /// tagged image (nor an untagged manifest Regent left) still uses.
    pub async fn gc_plan(&self) -> Result<GcPlan, String> {
        let (candidates, untagged) = self.store.gc_notes().await.map_err(|e| e.to_string())?;
        let kept: std::collections::HashSet<&Digest> = untagged
            .iter()
            .flat_map(|u| u.blobs.iter().chain(std::iter::once(&u.digest)))
            .collect();
        let data = self.index.read();
        let blobs: Vec<(Digest, u64)> = candidates
            .into_iter()
            .filter(|(d, _)| !kept.contains(d) && !data.blob_in_use(d))
            .collect();
        Ok(GcPlan {
            bytes: blobs.iter().map(|(_, s)| s).sum(),
            blobs,
            untagged_bytes: untagged.iter().map(|u| u.size).sum(),
            untagged: untagged.into_iter().map(|u| (u.repository, u.digest, u.size)).collect(),
        })
    }

    /// Deletes the manifest `digest` and then the platform manifests `platforms` (left alone
    /// they would stay in the registry, untagged, holding their layers); notes what that
    /// leaves for garbage collection. Returns how many platforms went.
    async fn delete_image(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        platforms: &[Digest],
    ) -> Result<usize, RegistryError> {
        let mut platform_blobs = Vec::new();
        for platform in platforms {
            platform_blobs.push(self.blobs_of(repository, platform).await);
        }
        let blobs = self.blobs_of(repository, digest).await;
        self.registry.delete_manifest(repository, digest).await?;
        self.note_candidates(&blobs).await;
        let mut deleted = 0;
        for (platform, blobs) in platforms.iter().zip(platform_blobs) {
            match self.registry.delete_manifest(repository, platform).await {
                Ok(()) => {
                    deleted += 1;
                    self.note_candidates(&blobs).await;
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => tracing::warn!(error = %e, %platform, "a platform image of a deleted multi-arch image stays"),
            }
        }
        Ok(deleted)
    }

    /// " The image stream tag … still exists …" after a registry tag delete on OpenShift, whose
    /// registry takes its tags from the stream.
    fn stream_tag_left(&self, repository: &RepositoryName, tag: &Tag) -> String {
        let Some(openshift) = self.openshift.as_ref().filter(|o| o.active()) else {
            return String::new();
        };
        let Some((namespace, stream)) = repository.image_stream() else {
            return String::new();
        };
        match openshift.join().tag(namespace, stream, tag.as_str()) {
            Some(t) if t.current.is_some() => format!(
                " The image stream tag {} still exists: on OpenShift the registry's tags come from the stream, \
                 so delete the image stream tag to remove the tag for good.",
                t.name
            ),
            _ => String::new(),
        }
    }

    /// The manifest blob (with its size from the registry) and its config and layers, read
    /// before a delete.
    async fn blobs_of(&self, repository: &RepositoryName, digest: &Digest) -> Vec<(Digest, u64)> {
        let mut blobs = self.index.read().image_blobs(digest);
        let size = self
            .registry
            .manifest_head(repository, &crate::reference::Reference::Digest(digest.clone()))
            .await
            .map_or(0, |h| h.size);
        blobs.push((digest.clone(), size));
        blobs
    }

    async fn note_candidates(&self, blobs: &[(Digest, u64)]) {
        if let Err(e) = self.store.note_gc_candidates(blobs).await {
            tracing::warn!(error = %e, "could not update the garbage-collection notes");
        }
    }

    async fn note_untagged(&self, repository: &RepositoryName, digest: &Digest) {
        let blobs = self.blobs_of(repository, digest).await;
        let note = crate::store::UntaggedNote {
            repository: repository.clone(),
            digest: digest.clone(),
            size: blobs.iter().map(|(_, s)| s).sum(),
            blobs: blobs.into_iter().map(|(d, _)| d).filter(|d| d != digest).collect(),
        };
        if let Err(e) = self.store.note_untagged(&note).await {
            tracing::warn!(error = %e, "could not update the garbage-collection notes");
        }
    }

    /// The digest `tag` points at in `repository`, and the other tags on it.
    fn digest_and_siblings(&self, repository: &RepositoryName, tag: &Tag) -> (Option<Digest>, Vec<Tag>) {
        let tags = self.index.read().repository_tags(repository).unwrap_or_default();
        let Some((_, digest)) = tags.iter().find(|(t, _)| t == tag) else {
            return (None, Vec::new());
        };
        let mut siblings: Vec<Tag> = tags
            .iter()
            .filter(|(t, d)| d == digest && t != tag)
            .map(|(t, _)| t.clone())
            .collect();
        siblings.sort();
        (Some(digest.clone()), siblings)
    }

    async fn apply(&self, change: Change) {
        if let Err(e) = self.index.apply(&change).await {
            tracing::warn!(error = %e, "the index could not take a delete; the next crawl will");
        }
    }

    pub(super) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: &Result<Deleted, DeleteError>,
    ) {
        let (result, detail) = match outcome {
            Ok(d) => ("ok", d.summary.clone()),
            Err(
                e @ (DeleteError::Refused(_)
                | DeleteError::Loading(_)
                | DeleteError::Denied { .. }
                | DeleteError::NotAllowed(_)
                | DeleteError::BadInput(_)),
            ) => ("refused", e.to_string()),
            Err(e) => ("failed", e.to_string()),
        };
        if let Err(e) = self.store.record_event(actor, action, target, result, &detail).await {
            tracing::warn!(error = %e, "could not record a delete in the audit log");
        }
    }
}

use plan::list;

/// A registry failure in the words the person deleting needs.
fn explain(e: RegistryError, target: &str) -> DeleteError {
    let disabled =
        matches!(e.code(), Some(OciErrorCode::Unsupported)) || matches!(&e, RegistryError::Api { status: 405, .. });
    if disabled {
        return DeleteError::Disabled(format!(
            "The registry has deletes turned off, so {target} was not deleted. Set storage.delete.enabled: true \
             in the registry's config.yml and restart it."
        ));
    }
    if e.is_not_found() {
        return DeleteError::NotFound(format!("{target} is not in the registry (deleted already?)."));
    }
    let down = matches!(
        &e,
        RegistryError::Unreachable { .. }
            | RegistryError::Timeout { .. }
            | RegistryError::Api { status: 502..=504, .. }
    );
    if down {
        return DeleteError::Unavailable(format!(
            "The registry is not answering, so {target} was not deleted: {e}. {}",
            e.hint()
        ));
    }
    DeleteError::Registry(format!("Deleting {target} failed: {e}. {}", e.hint()))
}
