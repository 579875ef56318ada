//! Regent's own index of the whole registry: the search and reverse lookups the registry API
//! does not have.
//!
//! `CatalogIndex` owns the data (`store`), keeps it filled by a background crawl with bounded
//! concurrency (`crawl`), applies registry notifications as they arrive (`events`), and
//! re-crawls periodically because notifications are best effort. A registry error never
//! deletes anything: the last good data stays, marked stale with the time of the last success.

pub mod browse;
mod crawl;
mod digests;
mod edges;
pub mod events;
mod idhash;
mod names;
pub mod search;
pub mod snapshot;
pub mod store;

pub use search::{LayerTags, NameRank, RepositoryHit, SearchQuery, SearchResults, TagHit};
pub use store::{
    ChildInfo, DigestMatch, IndexData, IndexedLayer, IndexedManifest, LayerUsage, RepositoryUsage, StorageReport,
    TagInfo, TagListing, TagOrder,
};

use crate::registry::{RegistryClient, RegistryError};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant, SystemTime};

/// How the index talks to the registry.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// Registry requests in flight at once during a crawl.
    pub concurrency: usize,
    /// Time between full re-crawls (reconciliation).
    pub reconcile_every: Duration,
    /// How often the registry's `/v2/` is probed so screens know it is down.
    pub probe_every: Duration,
    /// Where the index snapshot lives (`<data_dir>/index.snapshot`); `None`: no snapshot.
    pub snapshot: Option<std::path::PathBuf>,
    /// How often the snapshot is rewritten while notifications change the index.
    pub snapshot_every: Duration,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            reconcile_every: Duration::from_secs(900),
            probe_every: Duration::from_secs(5),
            snapshot: None,
            snapshot_every: Duration::from_secs(300),
        }
    }
}

/// What screens show about the index: crawl progress and freshness.
#[derive(Debug, Clone, Default)]
pub struct IndexStatus {
    /// A crawl is running now.
    pub crawling: bool,
    /// At least one crawl finished: the index holds the whole registry (as of `last_success`).
    pub complete: bool,
    pub repositories_done: usize,
    pub repositories_known: usize,
    pub manifests_done: usize,
    pub manifests_known: usize,
    /// Registry requests made by the current (or last) crawl.
    pub requests: usize,
    /// Of those, GETs of manifests and image configs: what a crawl fetches because the index
    /// did not hold it (the rest are catalog pages, tag lists and HEADs).
    pub fetches: usize,
    pub crawl_elapsed: Duration,
    pub last_success: Option<SystemTime>,
    /// The index was loaded from a snapshot taken then, and no crawl since start has finished
    /// yet: searches answer "as of" that time while the crawl refreshes it.
    pub restored_from: Option<SystemTime>,
    /// Why the registry does not answer right now (from the periodic probe); `None` when it does.
    pub registry_error: Option<RegistryError>,
    /// Why the last crawl did not finish cleanly; its data is kept and marked stale.
    pub crawl_error: Option<RegistryError>,
}

impl IndexStatus {
    /// Repositories per second in the current crawl.
    pub fn rate(&self) -> f64 {
        let secs = self.crawl_elapsed.as_secs_f64();
        if secs > 0.0 {
            self.repositories_done as f64 / secs
        } else {
            0.0
        }
    }

    /// Time left in the current crawl at the current rate.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        (self.crawling && rate > 0.0).then(|| {
            Duration::from_secs_f64(self.repositories_known.saturating_sub(self.repositories_done) as f64 / rate)
        })
    }
}

pub struct CatalogIndex {
    registry: Arc<RegistryClient>,
    settings: IndexSettings,
    data: RwLock<IndexData>,
    status: Mutex<IndexStatus>,
    crawl_clock: Mutex<Option<Instant>>,
    events: events::EventQueue,
    reconcile_now: tokio::sync::Notify,
    /// Notifications changed the index since the last snapshot was written.
    snapshot_dirty: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for CatalogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogIndex")
            .field("registry", &self.registry.url().as_str())
            .finish_non_exhaustive()
    }
}

impl CatalogIndex {
    pub fn new(registry: Arc<RegistryClient>, settings: IndexSettings) -> Arc<Self> {
        Arc::new(Self {
            registry,
            settings,
            data: RwLock::new(IndexData::default()),
            status: Mutex::new(IndexStatus::default()),
            crawl_clock: Mutex::new(None),
            events: events::EventQueue::default(),
            reconcile_now: tokio::sync::Notify::new(),
            snapshot_dirty: Default::default(),
        })
    }

    /// Read access to the data, for searches and listings.
    pub fn read(&self) -> RwLockReadGuard<'_, IndexData> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, IndexData> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> IndexStatus {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if status.crawling
            && let Some(started) = *self.crawl_clock.lock().unwrap_or_else(|p| p.into_inner())
        {
            status.crawl_elapsed = started.elapsed();
        }
        status
    }

    fn update_status(&self, f: impl FnOnce(&mut IndexStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn registry(&self) -> &Arc<RegistryClient> {
        &self.registry
    }

    /// Asks the background loop to re-crawl now (e.g. after a gap in notifications).
    pub fn request_reconcile(&self) {
        self.reconcile_now.notify_one();
    }

    /// Starts the crawl / reconcile loop, the registry probe, the event worker and the
    /// snapshot writer. Call `restore_snapshot` first to start from the last snapshot.
    pub fn spawn(self: &Arc<Self>) {
        let index = self.clone();
        tokio::spawn(async move {
            loop {
                match index.crawl().await {
                    Ok(()) => index.save_snapshot_or_warn().await,
                    Err(error) => tracing::warn!(%error, "index crawl failed; keeping the last good data"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(index.settings.reconcile_every) => {}
                    _ = index.reconcile_now.notified() => {}
                }
            }
        });
        let index = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(index.settings.probe_every).await;
                let result = index.registry.check().await;
                let mut came_back = false;
                index.update_status(|s| {
                    // Back after an outage, or answering now after the last crawl failed
                    // (Regent may have started before the registry).
                    came_back = (s.registry_error.is_some() || s.crawl_error.is_some()) && result.is_ok();
                    s.registry_error = result.err();
                });
                if came_back {
                    // Whatever happened while it was away was not notified: look again.
                    index.request_reconcile();
                }
            }
        });
        let index = self.clone();
        tokio::spawn(async move { index.process_events().await });
        let index = self.clone();
        tokio::spawn(async move { index.snapshot_periodically().await });
    }
}
