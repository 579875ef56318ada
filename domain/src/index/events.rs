//! Registry notifications, applied to the index as they arrive.
//!
//! The registry POSTs one envelope per request (`application/vnd.docker.distribution.events.v1+json`).
//! A manifest push by tag indexes the manifest and points the tag at it; a delete with a tag
//! removes that tag; a delete with only a digest removes the tags on that manifest (blob
//! deletes look the same and are ignored when the digest is no manifest). Envelopes are
//! queued and applied in arrival order by one worker, so the endpoint answers at once.

use super::CatalogIndex;
use crate::reference::{Digest, Reference, RepositoryName, Tag};
use crate::registry::MediaType;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use tokio::sync::{Mutex, mpsc};

#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: Target,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Target {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
}

/// What the index should do for one event; parsed and checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    TagPushed {
        repository: RepositoryName,
        tag: Tag,
        digest: Digest,
    },
    TagDeleted {
        repository: RepositoryName,
        tag: Tag,
    },
    ManifestDeleted {
        repository: RepositoryName,
        digest: Digest,
    },
}

impl Event {
    /// The index change this event asks for; `None` for pulls, blob pushes, mounts and
    /// anything malformed.
    pub fn change(&self) -> Option<Change> {
        let repository = RepositoryName::parse(self.target.repository.as_deref()?).ok()?;
        let tag = self.target.tag.as_deref().and_then(|t| Tag::parse(t).ok());
        let digest = self.target.digest.as_deref().and_then(|d| Digest::parse(d).ok());
        match self.action.as_str() {
            "push" => {
                let is_manifest = self.target.media_type.as_deref().is_some_and(|m| {
                    !matches!(MediaType::parse(m), MediaType::Other(_))
                        || m.starts_with("application/vnd.docker.distribution.manifest")
                });
                match (is_manifest, tag, digest) {
                    (true, Some(tag), Some(digest)) => Some(Change::TagPushed {
                        repository,
                        tag,
                        digest,
                    }),
                    _ => None,
                }
            }
            "delete" => match (tag, digest) {
                (Some(tag), _) => Some(Change::TagDeleted { repository, tag }),
                (None, Some(digest)) => Some(Change::ManifestDeleted { repository, digest }),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(super) struct EventQueue {
    sender: mpsc::UnboundedSender<Vec<Change>>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Vec<Change>>>>,
    /// Changes queued and not applied yet (metrics, and the wait at shutdown).
    pending: std::sync::atomic::AtomicUsize,
}

impl Default for EventQueue {
    fn default() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
            pending: Default::default(),
        }
    }
}

impl CatalogIndex {
    /// Queues the changes of one notification envelope; returns how many were queued.
    pub fn submit(&self, envelope: &Envelope) -> usize {
        let changes: Vec<Change> = envelope.events.iter().filter_map(Event::change).collect();
        let n = changes.len();
        self.events.pending.fetch_add(n, Ordering::SeqCst);
        if n > 0 && self.events.sender.send(changes).is_err() {
            self.events.pending.fetch_sub(n, Ordering::SeqCst);
            tracing::warn!("the index event worker has stopped; a reconcile will pick the change up");
        }
        n
    }

    /// Notified changes queued and not applied yet.
    pub fn pending_events(&self) -> usize {
        self.events.pending.load(Ordering::SeqCst)
    }

    /// Waits (`limit` at most) until every queued change has been applied; returns how many
    /// are still waiting (0 when all were). For a clean shutdown.
    pub async fn drain_events(&self, limit: std::time::Duration) -> usize {
        let started = std::time::Instant::now();
        while self.pending_events() > 0 && started.elapsed() < limit {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.pending_events()
    }

    pub(super) async fn process_events(&self) {
        let Some(mut receiver) = self.events.receiver.lock().await.take() else {
            return;
        };
        while let Some(changes) = receiver.recv().await {
            for change in changes {
                if let Err(error) = self.apply(&change).await {
                    tracing::warn!(?change, %error, "could not apply a registry event; the next reconcile will");
                }
                self.events.pending.fetch_sub(1, Ordering::SeqCst);
            }
            self.write().collect_garbage();
        }
    }

    /// Applies one change now (also used directly by tests and by Regent's own deletes).
    pub async fn apply(&self, change: &Change) -> Result<(), crate::registry::RegistryError> {
        match change {
            Change::TagPushed {
                repository,
                tag,
                digest,
            } => {
                let permits = tokio::sync::Semaphore::new(self.settings.concurrency.max(1));
                if !self.read().has_manifest(digest) {
                    let reference = Reference::Digest(digest.clone());
                    let raw = super::crawl::with_retry(|| self.registry.manifest(repository, &reference)).await?;
                    self.index_manifest(repository, raw, &permits).await?;
                }
                let mut data = self.write();
                data.bump(repository);
                data.set_tag(repository, tag, digest);
                data.note_push(repository);
            }
            Change::TagDeleted { repository, tag } => {
                let mut data = self.write();
                data.bump(repository);
                data.remove_tag(repository, tag);
            }
            Change::ManifestDeleted { repository, digest } => {
                let mut data = self.write();
                data.bump(repository);
                data.remove_manifest_tags(repository, digest);
            }
        }
        // After the change: a snapshot being written now clears the flag before it reads.
        self.snapshot_dirty.store(true, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_events_distribution_sends_become_index_changes() {
        let d = Digest::sha256_of(b"m");
        let push = event(&format!(
            r#"{{"action":"push","target":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","repository":"alice/hello","tag":"1"}}}}"#
        ));
        assert!(matches!(push.change(), Some(Change::TagPushed { .. })));
        let blob = event(&format!(
            r#"{{"action":"push","target":{{"mediaType":"application/octet-stream","digest":"{d}","repository":"alice/hello"}}}}"#
        ));
        assert_eq!(blob.change(), None);
        let pull = event(&format!(
            r#"{{"action":"pull","target":{{"digest":"{d}","repository":"a","tag":"1"}}}}"#
        ));
        assert_eq!(pull.change(), None);
        let untag = event(r#"{"action":"delete","target":{"repository":"demo/base","tag":"latest"}}"#);
        assert!(matches!(untag.change(), Some(Change::TagDeleted { .. })));
        let delete = event(&format!(
            r#"{{"action":"delete","target":{{"digest":"{d}","repository":"demo/base"}}}}"#
        ));
        assert!(matches!(delete.change(), Some(Change::ManifestDeleted { .. })));
        let bad = event(r#"{"action":"delete","target":{"repository":"Bad Name","tag":"x"}}"#);
        assert_eq!(bad.change(), None);
    }
}
