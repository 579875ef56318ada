//! OpenShift: the cluster's image resources joined to the registry, and its RBAC as access.
//!
//! On a cluster, Image and ImageStream objects are the source of truth for what the
//! integrated registry holds; the manifest digest joins them to Regent's index. `OpenShift`
//! holds one kube client (in-cluster service account or kubeconfig, context selectable),
//! detects the `image.openshift.io/v1` API at start-up and whenever the cluster comes back, and
//! keeps Images, ImageStreams, Projects, Groups, RoleBindings and Pods current with watches
//! (`cache`). Without the API Regent runs in registry-only mode and shows nothing of this.
//!
//! The rest is one file per job: the digest join (`streams`), pull specs (`pullspec`), what
//! the streams say the registry holds and it lacks (`drift`), workloads using an image
//! (`workloads`), finding and authenticating to the integrated registry (`integrated`),
//! project membership, groups and projects in `oc adm policy` terms (`members`), and
//! deleting in the order `oc adm prune` uses (`prune`).

mod cache;
pub mod drift;
mod error;
mod integrated;
mod members;
mod prune;
pub mod pullspec;
pub mod resources;
pub mod streams;
pub mod visible;
pub mod workloads;

pub use cache::CacheStatus;
pub use error::OpenShiftError;
pub use integrated::FoundRegistry;
pub use members::{Member, MemberChange, RegistryRole, Subject, SubjectKind, check_principal, check_project, reserved};
pub use prune::{PruneReport, StreamTagDeletion};
pub use pullspec::ImageReference;
pub use resources::{Group, Image, ImageStream, ImageStreamTag, Project};
pub use streams::{Expected, HistoryItem, ImportSchedule, ImportStatus, StreamJoin, StreamTag, StreamTagName};
pub use workloads::{Workload, WorkloadIndex};

use cache::Cache;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::{Api, Client};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Whether to look for a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Use the in-cluster service account or a kubeconfig when there is one; registry-only
    /// otherwise.
    #[default]
    Auto,
    /// Registry-only, whatever is configured.
    Off,
    /// Stop start-up when no OpenShift API is found.
    Required,
}

#[derive(Debug, Clone)]
pub struct OpenShiftSettings {
    pub mode: Mode,
    /// A kubeconfig file; `None`: `KUBECONFIG`, `~/.kube/config`, or the in-cluster account.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use; `None`: its current context.
    pub context: Option<String>,
    /// How often the API is looked for again (detection after an outage).
    pub recheck_every: Duration,
    /// `limit` of each list page.
    pub page_size: u32,
}

impl Default for OpenShiftSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Auto,
            kubeconfig: None,
            context: None,
            recheck_every: Duration::from_secs(30),
            page_size: 500,
        }
    }
}

/// What the last look at the cluster found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Detecting,
    /// `image.openshift.io/v1` is served.
    OpenShift,
    /// A cluster without OpenShift's image API: registry-only.
    Kubernetes,
    Unreachable(OpenShiftError),
}

/// What the cluster screen shows.
#[derive(Debug, Clone)]
pub struct ClusterStatus {
    pub api_url: String,
    pub detection: Detection,
    /// OpenShift was found at least once: its data is shown (marked stale while unreachable).
    pub seen: bool,
    pub last_seen: Option<SystemTime>,
    /// Who Regent is on the cluster (`users/~`).
    pub identity: Option<String>,
    /// Why `users/~` could not be read, and which permission would show it.
    pub identity_problem: Option<String>,
    pub caches: Vec<CacheStatus>,
}

pub struct OpenShift {
    client: Client,
    api_url: String,
    /// The bearer token of the kubeconfig or service account, if it has one.
    token: Option<String>,
    /// CA certificates the kubeconfig trusts (DER), for the registry behind the API's proxy.
    roots: Vec<Vec<u8>>,
    settings: OpenShiftSettings,
    pub(crate) images: Arc<Cache<Image>>,
    pub(crate) streams: Arc<Cache<ImageStream>>,
    pub(crate) projects: Arc<Cache<Project>>,
    pub(crate) groups: Arc<Cache<Group>>,
    pub(crate) bindings: Arc<Cache<RoleBinding>>,
    pub(crate) pods: Arc<Cache<Pod>>,
    state: Mutex<State>,
    /// Keyed by the streams' generation.
    join: Derived<u64, StreamJoin>,
    /// Keyed by the pods' and the streams' generations.
    workloads: Derived<(u64, u64), workloads::WorkloadIndex>,
}

/// A value computed from watched objects, kept until the generations it was built from change.
struct Derived<K, T>(Mutex<Option<(K, Arc<T>)>>);

impl<K: PartialEq, T> Derived<K, T> {
    fn new() -> Self {
        Self(Mutex::new(None))
    }

    fn get(&self, key: K, build: impl FnOnce() -> T) -> Arc<T> {
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match &*cached {
            Some((k, value)) if *k == key => value.clone(),
            _ => {
                let value = Arc::new(build());
                *cached = Some((key, value.clone()));
                value
            }
        }
    }
}

#[derive(Debug)]
struct State {
    detection: Detection,
    seen: bool,
    last_seen: Option<SystemTime>,
    identity: Option<String>,
    identity_problem: Option<String>,
    watching: bool,
}

impl std::fmt::Debug for OpenShift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenShift")
            .field("api", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl OpenShift {
    /// The cluster to use under `settings`: `None` for registry-only (mode off, or auto with
    /// no kubeconfig and no in-cluster account). Does not talk to the cluster yet.
    pub async fn configure(settings: OpenShiftSettings) -> Result<Option<Arc<Self>>, OpenShiftError> {
        use kube::config::{KubeConfigOptions, Kubeconfig};
        if settings.mode == Mode::Off {
            return Ok(None);
        }
        let options = KubeConfigOptions {
            context: settings.context.clone(),
            ..Default::default()
        };
        let config = match &settings.kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path).map_err(|e| {
                    OpenShiftError::Config(format!("the kubeconfig {} cannot be read: {e}", path.display()))
                })?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| OpenShiftError::Config(format!("the kubeconfig {}: {e}", path.display())))?
            }
            None if settings.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| OpenShiftError::Config(format!("the kubeconfig (KUBECONFIG or ~/.kube/config): {e}")))?,
            None => match kube::Config::infer().await {
                Ok(c) => c,
                Err(e) if settings.mode == Mode::Required => {
                    return Err(OpenShiftError::Config(format!(
                        "no cluster to connect to: no in-cluster service account and no kubeconfig ({e})"
                    )));
                }
                Err(_) => return Ok(None),
            },
        };
        Ok(Some(Arc::new(Self::with_config(config, settings)?)))
    }

    fn with_config(mut config: kube::Config, settings: OpenShiftSettings) -> Result<Self, OpenShiftError> {
        use secrecy::ExposeSecret;
        let api_url = config.cluster_url.to_string().trim_end_matches('/').to_owned();
        let token = match (&config.auth_info.token, &config.auth_info.token_file) {
            (Some(t), _) => Some(t.expose_secret().to_owned()),
            (None, Some(file)) => std::fs::read_to_string(file).ok().map(|t| t.trim().to_owned()),
            (None, None) => None,
        }
        .filter(|t| !t.is_empty());
        let roots = config.root_cert.clone().unwrap_or_default();
        config.connect_timeout = Some(Duration::from_secs(5));
        config.read_timeout = Some(Duration::from_secs(330));
        let client = Client::try_from(config).map_err(|e| OpenShiftError::Config(format!("kube client: {e}")))?;
        Ok(Self {
            client,
            api_url,
            token,
            roots,
            settings,
            images: Cache::new("Image"),
            streams: Cache::new("ImageStream"),
            projects: Cache::new("Project"),
            groups: Cache::new("Group"),
            bindings: Cache::new("RoleBinding"),
            pods: Cache::new("Pod"),
            state: Mutex::new(State {
                detection: Detection::Detecting,
                seen: false,
                last_seen: None,
                identity: None,
                identity_problem: None,
                watching: false,
            }),
            join: Derived::new(),
            workloads: Derived::new(),
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    pub(crate) fn client(&self) -> Client {
        self.client.clone()
    }

    pub(crate) fn err(&self, e: kube::Error) -> OpenShiftError {
        OpenShiftError::from_kube(&self.api_url, e)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Looks for `image.openshift.io/v1` once and records what it found.
    pub async fn detect(&self) -> Detection {
        let found = match self.client.list_api_group_resources("image.openshift.io/v1").await {
            Ok(_) => Detection::OpenShift,
            Err(kube::Error::Api(s)) if s.code == 404 => Detection::Kubernetes,
            Err(e) => Detection::Unreachable(self.err(e)),
        };
        let identity = if found == Detection::OpenShift {
            Some(
                Api::<resources::User>::all(self.client.clone())
                    .get("~")
                    .await
                    .map_err(|e| error::identity_problem(&self.err(e))),
            )
        } else {
            None
        };
        let mut state = self.state();
        if found == Detection::OpenShift {
            state.seen = true;
            state.last_seen = Some(SystemTime::now());
            match identity {
                Some(Ok(user)) => {
                    if let Some(name) = user.metadata.name {
                        state.identity = Some(name);
                    }
                    state.identity_problem = None;
                }
                Some(Err(problem)) => {
                    if state.identity_problem.as_ref() != Some(&problem) {
                        tracing::info!(%problem, "OpenShift: Regent's identity is not known");
                    }
                    state.identity_problem = Some(problem);
                }
                None => {}
            }
        }
        if state.detection != found {
            match &found {
                Detection::OpenShift => {
                    tracing::info!(api = %self.api_url, "OpenShift found: image streams and projects are shown")
                }
                Detection::Kubernetes => {
                    tracing::info!(api = %self.api_url, "the cluster has no image.openshift.io API: registry-only mode")
                }
                Detection::Unreachable(e) => {
                    tracing::warn!(api = %self.api_url, error = %e, "the cluster does not answer")
                }
                Detection::Detecting => {}
            }
        }
        state.detection = found.clone();
        found
    }

    /// OpenShift was found (now or before an outage): its parts are shown.
    pub fn active(&self) -> bool {
        self.state().seen
    }

    pub fn status(&self) -> ClusterStatus {
        let state = self.state();
        ClusterStatus {
            api_url: self.api_url.clone(),
            detection: state.detection.clone(),
            seen: state.seen,
            last_seen: state.last_seen,
            identity: state.identity.clone(),
            identity_problem: state.identity_problem.clone(),
            caches: vec![
                self.images.status(),
                self.streams.status(),
                self.projects.status(),
                self.groups.status(),
                self.bindings.status(),
                self.pods.status(),
            ],
        }
    }

    /// Every watched kind has finished its first list, or is refused to Regent (then it
    /// stays empty and the cluster screen says so).
    pub fn synced(&self) -> bool {
        self.images.settled()
            && self.streams.settled()
            && self.projects.settled()
            && self.groups.settled()
            && self.bindings.settled()
            && self.pods.settled()
    }

    /// Keeps looking for the API (every `recheck_every`) and starts the watches the first
    /// time it is found.
    pub fn spawn(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if this.detect().await == Detection::OpenShift {
                    this.watch();
                }
                tokio::time::sleep(this.settings.recheck_every).await;
            }
        });
    }

    fn watch(self: &Arc<Self>) {
        {
            let mut state = self.state();
            if state.watching {
                return;
            }
            state.watching = true;
        }
        let page = self.settings.page_size;
        let c = || self.client.clone();
        self.images.spawn(Api::all(c()), page, |_| {});
        self.streams
            .spawn(Api::all(c()), page, |s| s.metadata.managed_fields = None);
        self.projects.spawn(Api::all(c()), page, |_| {});
        self.groups.spawn(Api::all(c()), page, |_| {});
        self.bindings
            .spawn(Api::all(c()), page, |b| b.metadata.managed_fields = None);
        self.pods.spawn(Api::all(c()), page, workloads::slim);
    }

    /// The digest join over the current streams (rebuilt only after they changed).
    pub fn join(&self) -> Arc<StreamJoin> {
        self.join
            .get(self.streams.generation(), || StreamJoin::build(&self.streams.all()))
    }

    /// Containers by the digest they run (rebuilt only after pods or streams changed).
    pub fn workloads(&self) -> Arc<workloads::WorkloadIndex> {
        let key = (self.pods.generation(), self.streams.generation());
        self.workloads
            .get(key, || workloads::WorkloadIndex::build(&self.pods.all(), &self.join()))
    }

    pub fn image(&self, digest: &str) -> Option<Arc<Image>> {
        self.images.get("", digest)
    }

    pub fn images(&self) -> Vec<Arc<Image>> {
        self.images.all()
    }

    pub fn projects(&self) -> Vec<Arc<Project>> {
        self.projects.all()
    }

    pub fn project(&self, name: &str) -> Option<Arc<Project>> {
        self.projects.get("", name)
    }

    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.groups.all()
    }

    pub fn streams_in(&self, namespace: &str) -> Vec<Arc<ImageStream>> {
        self.streams.in_namespace(namespace)
    }

    /// Waits (at most `limit`) until every watched kind has been listed; for tests and start-up.
    pub async fn wait_synced(&self, limit: Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if self.synced() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.synced()
    }
}
