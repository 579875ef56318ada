//! The paged repository listing behind the Images page.
//!
//! The registry cannot page by number or count its repositories, so the whole catalog is
//! walked (1000 names per request) and kept for a few seconds; a page of it is then cut out
//! and each repository on that page gets its tag count, a handful of requests at a time. The
//! catalog index (a later issue) replaces the walk; the page shape stays.

use crate::reference::RepositoryName;
use crate::registry::{RegistryClient, RegistryError};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How many tag lists are fetched at once for one page.
const TAG_COUNT_CONCURRENCY: usize = 8;

/// One repository row.
#[derive(Debug, Clone)]
pub struct RepositorySummary {
    pub name: RepositoryName,
    /// The number of tags, or why it could not be counted.
    pub tags: Result<usize, RegistryError>,
}

/// A page of repositories and how many there are in all.
#[derive(Debug, Clone)]
pub struct ListingPage {
    pub total: usize,
    pub repositories: Vec<RepositorySummary>,
}

/// Lists repositories page by page for one registry.
#[derive(Debug)]
pub struct RepositoryListing {
    registry: Arc<RegistryClient>,
    max_age: Duration,
    cached: Mutex<Option<(Instant, Arc<Vec<RepositoryName>>)>>,
}

impl RepositoryListing {
    /// `max_age` is how long a catalog walk is reused before the registry is asked again.
    pub fn new(registry: Arc<RegistryClient>, max_age: Duration) -> Self {
        Self {
            registry,
            max_age,
            cached: Mutex::new(None),
        }
    }

    /// Repositories `offset..offset + limit` in catalog order, with tag counts.
    pub async fn page(&self, offset: usize, limit: usize) -> Result<ListingPage, RegistryError> {
        let names = self.names().await?;
        let slice: Vec<RepositoryName> = names.iter().skip(offset).take(limit).cloned().collect();
        let repositories = futures::stream::iter(slice)
            .map(|name| async move {
                let tags = self.registry.tags(&name).await.map(|t| t.len());
                RepositorySummary { name, tags }
            })
            .buffered(TAG_COUNT_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        // Names may come from the cached walk; if no repository on the page can be read
        // because the registry is down, say that rather than show a page of blanks.
        let all_unavailable = !repositories.is_empty()
            && repositories
                .iter()
                .all(|r| r.tags.as_ref().is_err_and(RegistryError::is_unavailable));
        if all_unavailable && let Some(error) = repositories.iter().find_map(|r| r.tags.as_ref().err()) {
            return Err(error.clone());
        }
        Ok(ListingPage {
            total: names.len(),
            repositories,
        })
    }

    async fn names(&self) -> Result<Arc<Vec<RepositoryName>>, RegistryError> {
        // Holding the lock across the walk makes concurrent page loads share one walk.
        let mut cached = self.cached.lock().await;
        if let Some((at, names)) = cached.as_ref()
            && at.elapsed() < self.max_age
        {
            return Ok(names.clone());
        }
        let names = Arc::new(self.registry.catalog().await?);
        *cached = Some((Instant::now(), names.clone()));
        Ok(names)
    }
}
