//! The crawl: walk the catalog, list each repository's tags, fetch the manifests and configs
//! the index does not have yet, and replace each repository's entry with what was found.
//!
//! At most `concurrency` registry requests are in flight (one semaphore for the whole crawl).
//! 429 and 5xx answers and timeouts are retried with backoff. A repository whose refresh fails
//! keeps its last good data and is marked stale; it is removed only when the registry says it
//! has no tags or is absent from a successfully read catalog.

use super::store::{IndexedLayer, IndexedManifest};
use super::{CatalogIndex, IndexStatus};
use crate::reference::{Digest, Reference, RepositoryName, Tag};
use crate::registry::{Manifest, RawManifest, RegistryError};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Semaphore;

const MAX_ATTEMPTS: u32 = 4;

/// Retries transient registry failures (429, 5xx, timeouts) with exponential backoff.
pub(super) async fn with_retry<T, F, Fut>(mut f: F) -> Result<T, RegistryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=MAX_ATTEMPTS {
        match f().await {
            Err(e) if attempt < MAX_ATTEMPTS && is_transient(&e) => {
                tracing::debug!(%e, attempt, "retrying a registry request");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the last attempt returns")
}

fn is_transient(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Timeout { .. })
        || matches!(e, RegistryError::Api { status, .. } if *status == 429 || *status >= 500)
}

impl CatalogIndex {
    /// One full pass over the registry. Returns the first error, after keeping what it could.
    pub async fn crawl(&self) -> Result<(), RegistryError> {
        *self.crawl_clock.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.update_status(|s| {
            *s = IndexStatus {
                crawling: true,
                complete: s.complete,
                last_success: s.last_success,
                restored_from: s.restored_from,
                registry_error: s.registry_error.clone(),
                crawl_error: s.crawl_error.clone(),
                ..Default::default()
            }
        });
        let result = self.crawl_inner().await;
        let elapsed = self
            .crawl_clock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed());
        // Metrics (issue 19): how long full passes take and how they end.
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("regent_index_crawls_total", "outcome" => outcome).increment(1);
        if let Some(elapsed) = elapsed {
            metrics::histogram!("regent_index_crawl_duration_seconds", "outcome" => outcome)
                .record(elapsed.as_secs_f64());
        }
        self.update_status(|s| {
            s.crawling = false;
            s.crawl_elapsed = elapsed.unwrap_or_default();
            match &result {
                Ok(()) => {
                    s.complete = true;
                    s.restored_from = None;
                    s.last_success = Some(SystemTime::now());
                    s.crawl_error = None;
                }
                Err(e) => s.crawl_error = Some(e.clone()),
            }
        });
        result
    }

    async fn crawl_inner(&self) -> Result<(), RegistryError> {
        let permits = Semaphore::new(self.settings.concurrency.max(1));
        let names = {
            let _p = permits.acquire().await.expect("semaphore open");
            self.count_request();
            with_retry(|| self.registry.catalog()).await?
        };
        self.update_status(|s| s.repositories_known = names.len());
        {
            // The catalog was read: repositories absent from it are gone.
            let listed: HashSet<&RepositoryName> = names.iter().collect();
            let mut data = self.write();
            let gone: Vec<RepositoryName> = data
                .repositories()
                .map(|(n, _, _)| n.clone())
                .filter(|n| !listed.contains(n))
                .collect();
            for n in gone {
                data.remove_repository(&n);
            }
        }
        let errors: Vec<RegistryError> = futures::stream::iter(names)
            // More repositories in progress than permits, so a repository waiting on its own next
            // request never leaves a permit idle; the semaphore alone bounds the registry's load.
            .map(|name| self.crawl_repository(name, &permits))
            .buffer_unordered(self.settings.concurrency.max(1) * 4)
            .filter_map(|r| async move { r.err() })
            .collect()
            .await;
        self.write().collect_garbage();
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn count_request(&self) {
        self.update_status(|s| s.requests += 1);
    }

    /// A GET of a manifest or config: content the index did not hold.
    fn count_fetch(&self) {
        self.update_status(|s| {
            s.requests += 1;
            s.fetches += 1;
        });
    }

    /// Refreshes one repository; on failure it keeps its old data, marked stale.
    async fn crawl_repository(&self, name: RepositoryName, permits: &Semaphore) -> Result<(), RegistryError> {
        let result = self.refresh_repository(&name, permits).await;
        self.update_status(|s| s.repositories_done += 1);
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => {
                self.write().remove_repository(&name);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(%name, error = %e, "could not refresh a repository; keeping its last data");
                self.write().mark_stale(&name);
                Err(e)
            }
        }
    }

    /// Lists the tags of `name`, resolves each to a manifest the index holds, then replaces
    /// the repository's entry. Used by the crawl and by notifications.
    pub(super) async fn refresh_repository(
        &self,
        name: &RepositoryName,
        permits: &Semaphore,
    ) -> Result<(), RegistryError> {
        // Taken before listing: a notification after this point wins over what is listed.
        let version = self.read().version(name);
        let tags = {
            let _p = permits.acquire().await.expect("semaphore open");
            self.count_request();
            with_retry(|| self.registry.tags(name)).await?
        };
        self.update_status(|s| s.manifests_known += tags.len());
        let known: HashMap<Tag, Digest> = self
            .read()
            .repository_tags(name)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let resolved: Vec<Result<Option<(Tag, Digest)>, RegistryError>> = futures::stream::iter(tags)
            .map(|tag| {
                let known = known.get(&tag).cloned();
                async move {
                    let result = self.resolve_tag(name, &tag, known, permits).await;
                    self.update_status(|s| s.manifests_done += 1);
                    match result {
                        Ok(d) => Ok(Some((tag, d))),
                        // Deleted between the tag list and now: not an error, just gone.
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut tags = Vec::with_capacity(resolved.len());
        for r in resolved {
            if let Some(pair) = r? {
                tags.push(pair);
            }
        }
        let mut data = self.write();
        if data.version(name) == version {
            data.set_repository(name, &tags);
        } else {
            // A notification changed this repository after its tags were listed: what was
            // listed is older than what the index holds. The next pass looks again.
            tracing::debug!(%name, "skipping a crawl result older than a notification");
        }
        Ok(())
    }

    /// The digest a tag points at, with its manifest (and configs, children) in the index.
    async fn resolve_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
        known: Option<Digest>,
        permits: &Semaphore,
    ) -> Result<Digest, RegistryError> {
        let reference = Reference::Tag(tag.clone());
        if known.as_ref().is_some_and(|d| self.read().has_manifest(d)) {
            // Already indexed: a HEAD tells whether the tag still points there.
            let head = {
                let _p = permits.acquire().await.expect("semaphore open");
                self.count_request();
                with_retry(|| self.registry.manifest_head(name, &reference)).await?
            };
            if self.read().has_manifest(&head.digest) {
                return Ok(head.digest);
            }
        }
        let raw = {
            let _p = permits.acquire().await.expect("semaphore open");
            self.count_fetch();
            with_retry(|| self.registry.manifest(name, &reference)).await?
        };
        let digest = raw.digest.clone();
        self.index_manifest(name, raw, permits).await?;
        Ok(digest)
    }

    /// Parses a manifest, fetches what it needs (config, children) and inserts it.
    pub(super) async fn index_manifest(
        &self,
        name: &RepositoryName,
        raw: RawManifest,
        permits: &Semaphore,
    ) -> Result<(), RegistryError> {
        if self.read().has_manifest(&raw.digest) {
            return Ok(());
        }
        let parsed = raw.parse().map_err(|e| RegistryError::Protocol {
            url: self.registry.url().to_string(),
            detail: format!("manifest {} of {name} cannot be read: {e}", raw.digest),
        })?;
        let indexed = match parsed {
            Manifest::Image { config, layers } => {
                let known = self.read().config_details(&config.digest);
                let (created, platform) = match known {
                    Some(details) => details,
                    None => {
                        let _p = permits.acquire().await.expect("semaphore open");
                        self.count_fetch();
                        let c = with_retry(|| self.registry.image_config(name, &config.digest)).await?;
                        let platform = match (c.os, c.architecture) {
                            (Some(os), Some(architecture)) => Some(crate::registry::Platform {
                                os,
                                architecture,
                                variant: c.variant,
                            }),
                            _ => None,
                        };
                        (c.created, platform)
                    }
                };
                IndexedManifest::Image {
                    media_type: raw.media_type.clone(),
                    config: config.digest,
                    config_size: config.size,
                    layers: layers
                        .into_iter()
                        .map(|l| IndexedLayer {
                            digest: l.digest,
                            size: l.size,
                            media_type: l.media_type,
                        })
                        .collect(),
                    created,
                    platform,
                }
            }
            Manifest::Index { manifests } => {
                for child in &manifests {
                    if self.read().has_manifest(&child.digest) {
                        continue;
                    }
                    let child_raw = {
                        let _p = permits.acquire().await.expect("semaphore open");
                        self.count_fetch();
                        let r = Reference::Digest(child.digest.clone());
                        with_retry(|| self.registry.manifest(name, &r)).await?
                    };
                    if child_raw.media_type.is_index() {
                        tracing::warn!(%name, digest = %child.digest, "nested indexes are not indexed below the first level");
                        continue;
                    }
                    Box::pin(self.index_manifest(name, child_raw, permits)).await?;
                }
                IndexedManifest::Index {
                    media_type: raw.media_type.clone(),
                    children: manifests.into_iter().map(|m| (m.digest, m.platform)).collect(),
                }
            }
        };
        self.write().insert_manifest(&raw.digest, &indexed);
        Ok(())
    }
}
