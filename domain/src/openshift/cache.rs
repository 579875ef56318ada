//! A watched collection: every object of one kind, kept current by a kube-runtime watcher.
//!
//! The watcher lists in pages (`limit`/`continue`), then watches from the list's
//! resourceVersion, and relists when the server says the version expired (410). A relist is
//! buffered and swapped in whole at its end, so a screen never sees a half-listed cluster, and
//! objects that vanished while the watch was down are dropped then. Every change bumps a
//! generation counter that derived views (the digest join) compare to know when to rebuild.
//!
//! A kind the identity may not list (403) or the server does not serve (404) is not an outage:
//! it stays so until someone changes RBAC or the cluster. It is recorded once as refused (the
//! cluster screen says which permission would show it), logged once, and asked again only
//! after a long, doubling wait (`REFUSED_FIRST_WAIT` up to `REFUSED_MAX_WAIT`).

use futures::StreamExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The first wait before a refused kind is asked again; it doubles up to `REFUSED_MAX_WAIT`.
pub const REFUSED_FIRST_WAIT: Duration = Duration::from_secs(30);
pub const REFUSED_MAX_WAIT: Duration = Duration::from_secs(600);

/// `namespace/name` (cluster-scoped objects: an empty namespace).
pub type Key = (String, String);

#[derive(Debug)]
struct Inner<K> {
    objects: BTreeMap<Key, Arc<K>>,
    relist: Option<BTreeMap<Key, Arc<K>>>,
    listed: bool,
    generation: u64,
    error: Option<String>,
    /// Listing is refused (403) or not served (404): why, and what would show it.
    refused: Option<String>,
    last_change: Option<SystemTime>,
}

/// What a screen says about one watched kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStatus {
    pub kind: &'static str,
    /// The first list finished: the collection is complete.
    pub listed: bool,
    pub objects: usize,
    /// The last watch or list error, cleared by the next success.
    pub error: Option<String>,
    /// The identity may not list this kind, or the server does not serve it: why, and which
    /// permission would show it.
    pub refused: Option<String>,
}

#[derive(Debug)]
pub struct Cache<K> {
    kind: &'static str,
    inner: RwLock<Inner<K>>,
}

impl<K> Cache<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    pub fn new(kind: &'static str) -> Arc<Self> {
        Arc::new(Self {
            kind,
            inner: RwLock::new(Inner {
                objects: BTreeMap::new(),
                relist: None,
                listed: false,
                generation: 0,
                error: None,
                refused: None,
                last_change: None,
            }),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner<K>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    pub fn status(&self) -> CacheStatus {
        let inner = self.read();
        CacheStatus {
            kind: self.kind,
            listed: inner.listed,
            objects: inner.objects.len(),
            error: inner.error.clone(),
            refused: inner.refused.clone(),
        }
    }

    /// Listed, or refused: nothing more will come of it until RBAC or the cluster change.
    pub fn settled(&self) -> bool {
        let inner = self.read();
        inner.listed || inner.refused.is_some()
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.read()
            .objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every object, in namespace/name order.
    pub fn all(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    /// The objects of one namespace, in name order.
    pub fn in_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        let start = (namespace.to_owned(), String::new());
        self.read()
            .objects
            .range(start..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, o)| o.clone())
            .collect()
    }

    fn key(object: &K) -> Key {
        (object.namespace().unwrap_or_default(), object.name_any())
    }

    /// Applies one watcher event.
    pub fn apply(&self, event: Event<K>) {
        let mut inner = self.write();
        match event {
            Event::Init => {
                // Metrics (issue 19): a list after a complete one is a watch restart.
                if inner.listed {
                    metrics::counter!("regent_openshift_watch_restarts_total", "kind" => self.kind).increment(1);
                }
                inner.relist = Some(BTreeMap::new());
            }
            Event::InitApply(o) => {
                let key = Self::key(&o);
                match inner.relist.as_mut() {
                    Some(buffer) => {
                        buffer.insert(key, Arc::new(o));
                    }
                    None => {
                        inner.objects.insert(key, Arc::new(o));
                    }
                }
                return;
            }
            Event::InitDone => {
                if let Some(buffer) = inner.relist.take() {
                    inner.objects = buffer;
                }
                inner.listed = true;
            }
            Event::Apply(o) => {
                inner.objects.insert(Self::key(&o), Arc::new(o));
            }
            Event::Delete(o) => {
                inner.objects.remove(&Self::key(&o));
            }
        }
        inner.error = None;
        if inner.refused.take().is_some() {
            tracing::info!(kind = self.kind, "OpenShift: Regent may list this kind now");
        }
        inner.generation += 1;
        inner.last_change = Some(SystemTime::now());
    }

    fn fail(&self, error: String) {
        let mut inner = self.write();
        if inner.error.as_deref() != Some(error.as_str()) {
            tracing::warn!(kind = self.kind, %error, "OpenShift watch failed; retrying");
        }
        inner.error = Some(error);
    }

    fn refuse(&self, why: String) {
        let mut inner = self.write();
        if inner.refused.is_none() {
            tracing::info!(kind = self.kind, %why, "OpenShift: not watched (asked again now and then)");
        }
        inner.error = None;
        inner.refused = Some(why);
    }

    /// Runs the watcher until the process ends: errors back off and retry (kube's backoff);
    /// a refusal (403, 404) stops the watcher and starts it again after a long wait.
    pub fn spawn(self: &Arc<Self>, api: Api<K>, page_size: u32, prepare: fn(&mut K)) {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut wait = REFUSED_FIRST_WAIT;
            loop {
                let config = watcher::Config::default().page_size(page_size);
                let mut events = std::pin::pin!(watcher::watcher(api.clone(), config).default_backoff());
                while let Some(event) = events.next().await {
                    match event {
                        Ok(event) => {
                            wait = REFUSED_FIRST_WAIT;
                            cache.apply(event.modify(prepare));
                        }
                        Err(e) => match super::error::refusal(&e, &K::plural(&()), &K::group(&())) {
                            Some(why) => {
                                cache.refuse(why);
                                break;
                            }
                            None => cache.fail(super::error::watch_error(&e)),
                        },
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(REFUSED_MAX_WAIT);
            }
        });
    }
}
