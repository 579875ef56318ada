//! A small Kubernetes/OpenShift API server over plain HTTP on 127.0.0.1, for tests.
//!
//! No OpenShift cluster can run on this machine, so tests point the real `kube` client (and
//! kube-runtime's watcher) at this server and assert the requests the product makes. It stands in
//! for the API server only, never for the container registry: registry traffic that goes through
//! the API server's service proxy is forwarded to a real upstream (usually a `TestRegistry`).
//!
//! What it serves follows the OpenShift and Kubernetes API references (docs/openshift-api.md,
//! which also says how `testkit/tests/openshift_referee.rs` checks it against them): the OpenShift groups
//! `image.openshift.io`, `project.openshift.io`, `user.openshift.io` and
//! `authorization.openshift.io` (absent with [`OpenShiftApi::start_kubernetes_only`]), plus the
//! core, `apps` and `rbac.authorization.k8s.io` kinds an admin console touches. Objects are kept
//! as JSON with one global resourceVersion counter and a history of watch events, so lists,
//! paging, selectors, watches that resume from a resourceVersion, 410 Expired and optimistic
//! concurrency behave as a real API server does. Errors are always Kubernetes `Status` objects,
//! because that is what kube turns into `kube::Error::Api`.
//!
//! The server runs on its own thread and runtime (as `TestTokenService` does) so that a test
//! blocking its own runtime, or dropping it, cannot stall the API server; dropping the
//! `OpenShiftApi` shuts that runtime down, which also ends open watch streams.
//!
//! The modules follow the path of a request: `routing` parses it against the kind table in
//! `resources` and hands it to `discovery`, `reads` (with `selectors`), `writes` (with
//! `patches`), `watches`, the computed OpenShift kinds in `computed` or the service
//! `proxy`; all of them read and write the objects in `store` and answer failures with the
//! `Status` bodies of `errors`. `recording` keeps what tests assert about the product's calls.

mod computed;
mod discovery;
mod errors;
mod helpers;
mod patches;
mod proxy;
mod reads;
mod recording;
mod resources;
mod routing;
mod selectors;
mod store;
mod watches;
mod writes;

use anyhow::Result;
use computed::{istag_list, istag_object};
use helpers::str_at;
pub use recording::ApiRequest;
use resources::{IMAGE, resource_by_kind, resource_by_plural};
use routing::handle;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;
use store::{Shared, State};
use tokio::sync::watch;
use url::Url;

/// Bounds a proxied request, so a hung upstream fails the test instead of hanging it.
const PROXY_TIMEOUT: Duration = Duration::from_secs(60);

/// The fake API server. Dropping it stops the server.
pub struct OpenShiftApi {
    shared: Arc<Shared>,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl OpenShiftApi {
    /// Starts on 127.0.0.1:<free port>; OpenShift API groups present.
    pub async fn start() -> Result<Self> {
        Self::start_inner(true)
    }

    /// A plain Kubernetes API server: /apis does not list image.openshift.io,
    /// project.openshift.io, user.openshift.io, authorization.openshift.io, and their paths
    /// answer 404.
    pub async fn start_kubernetes_only() -> Result<Self> {
        Self::start_inner(false)
    }

    fn start_inner(openshift: bool) -> Result<Self> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let state = State {
            openshift,
            // Not 0: "0" means "any version" to watch and list, so no object may carry it.
            rv: 1000,
            uids: 0,
            uid_seed: seed,
            objects: HashMap::new(),
            history: Vec::new(),
            compacted: 0,
            expirations: 0,
            requests: Vec::new(),
            token: None,
            forbidden: Vec::new(),
            unserved: Vec::new(),
            proxies: HashMap::new(),
            current_user: "system:admin".into(),
            sa_tokens: HashMap::new(),
        };
        let http = reqwest::Client::builder()
            // The service proxy hands redirects (blob downloads, upload locations) back as is.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROXY_TIMEOUT)
            .build()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed: watch::channel(0).0,
            http,
        });
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let (port, stop) = crate::serve_on_own_thread("openshift-api", app)?;
        Ok(Self {
            shared,
            port,
            stop: Some(stop),
        })
    }

    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Writes a kubeconfig to dir/kubeconfig and returns its path: context "fake" (current)
    /// points at this server, context "other" at http://127.0.0.1:9 where nothing listens, so
    /// context selection can be tested. The user has `token` if given, else no credentials.
    pub fn write_kubeconfig(&self, dir: &Path, token: Option<&str>) -> PathBuf {
        // JSON strings are valid YAML scalars, which spares a YAML dependency.
        let q = |s: &str| Value::from(s).to_string();
        let user = match token {
            Some(t) => format!("    token: {}\n", q(t)),
            None => "    {}\n".to_owned(),
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n\
             - name: fake\n  cluster:\n    server: {url}\n\
             - name: other\n  cluster:\n    server: http://127.0.0.1:9\n\
             contexts:\n\
             - name: fake\n  context:\n    cluster: fake\n    user: fake-user\n\
             - name: other\n  context:\n    cluster: other\n    user: fake-user\n\
             current-context: fake\npreferences: {{}}\nusers:\n\
             - name: fake-user\n  user:\n{user}",
            url = q(&self.url()),
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// From now on requests without `Authorization: Bearer <token>` get 401 Unauthorized.
    pub fn require_token(&self, token: &str) {
        self.shared.lock().token = Some(token.to_owned());
    }

    /// Inserts or replaces an object; apiVersion + kind choose the collection and
    /// metadata.namespace is required for namespaced kinds. Every put assigns a new
    /// metadata.resourceVersion (a fixture's own is overwritten), and uid and creationTimestamp
    /// when missing; it records an ADDED or MODIFIED watch event.
    pub fn put(&self, object: Value) {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let res = resource_by_kind(api_version, kind)
            .filter(|r| r.stored)
            .unwrap_or_else(|| panic!("OpenShiftApi::put: no stored collection for {api_version} {kind}"));
        assert!(
            !str_at(&object, "/metadata/name").is_empty(),
            "OpenShiftApi::put: {kind} without metadata.name"
        );
        assert!(
            !res.namespaced || !str_at(&object, "/metadata/namespace").is_empty(),
            "OpenShiftApi::put: namespaced {kind} without metadata.namespace"
        );
        self.shared.write(|s| s.store(res, object));
    }

    /// Removes an object (a DELETED event); nothing else goes with it, unlike an API DELETE of a
    /// namespace or project. Does nothing when it does not exist.
    pub fn remove(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let res = resource_by_kind(api_version, kind)
            .filter(|r| r.stored)
            .unwrap_or_else(|| panic!("OpenShiftApi::remove: no stored collection for {api_version} {kind}"));
        self.shared.write(|s| s.delete(res, namespace, name));
    }

    /// The stored object (or for ImageStreamTag, the computed one), as the API would return it.
    pub fn get(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let res = resource_by_kind(api_version, kind)?;
        let s = self.shared.lock();
        if res.is(IMAGE, "imagestreamtags") {
            let (stream, tag) = name.split_once(':')?;
            let streams = resource_by_plural(IMAGE, "imagestreams")?;
            return istag_object(&s, s.lookup(streams, namespace, stream)?, tag, true);
        }
        s.lookup(res, namespace, name).cloned()
    }

    /// Every object of the kind, in all namespaces, sorted by namespace then name.
    pub fn list(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let Some(res) = resource_by_kind(api_version, kind) else {
            return Vec::new();
        };
        let s = self.shared.lock();
        if res.is(IMAGE, "imagestreamtags") {
            return istag_list(&s, None);
        }
        s.collection(res).map(|(_, v)| v.clone()).collect()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Makes the OpenShift API groups appear (`true`) or vanish (`false`, as while the
    /// aggregated openshift-apiserver is not there yet), keeping every stored object.
    pub fn serve_openshift(&self, served: bool) {
        self.shared.lock().openshift = served;
    }

    /// Requests with this method ("*" for any) whose path starts with `path_prefix` get 403
    /// Forbidden, worded as real Kubernetes words it.
    pub fn forbid(&self, method: &str, path_prefix: &str) {
        self.shared
            .lock()
            .forbidden
            .push((method.to_owned(), path_prefix.to_owned()));
    }

    /// Requests whose path starts with `path_prefix` get 404 Not Found, as from an API server
    /// that does not serve the kind (or hides it from the identity).
    pub fn unserve(&self, path_prefix: &str) {
        self.shared.lock().unserved.push(path_prefix.to_owned());
    }

    /// What etcd compaction does: every open watch ends with a 410 Expired ERROR event, and
    /// watches (and continue tokens) from a resourceVersion older than now get 410 too, so
    /// clients must relist.
    pub fn expire_watches(&self) {
        self.shared.write(|s| {
            s.compacted = s.rv;
            s.expirations += 1;
            let compacted = s.compacted;
            s.history.retain(|e| e.rv > compacted);
        });
    }

    /// Forwards the API server's service proxy,
    /// `/api/v1/namespaces/{ns}/services/[scheme:]{name}[:port]/proxy/{rest}`, to `target` +
    /// `{rest}` + query. Like the real API server, the request's `Authorization` header is not
    /// forwarded: it authenticated the caller to the API server and is removed after that.
    pub fn proxy_service(&self, namespace: &str, name: &str, target: Url) {
        self.shared
            .lock()
            .proxies
            .insert((namespace.to_owned(), name.to_owned()), target);
    }

    /// The user `GET /apis/user.openshift.io/v1/users/~` returns (default "system:admin"); also
    /// the requester of project requests and the user named in Forbidden messages.
    pub fn set_current_user(&self, name: &str) {
        self.shared.lock().current_user = name.to_owned();
    }

    /// The token `POST .../serviceaccounts/{name}/token` returns (default "sa-token-<ns>-<name>").
    pub fn set_service_account_token(&self, namespace: &str, name: &str, token: &str) {
        self.shared
            .lock()
            .sa_tokens
            .insert((namespace.to_owned(), name.to_owned()), token.to_owned());
    }
}

impl Drop for OpenShiftApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
