//! A small Kubernetes/OpenShift API server over plain HTTP on 127.0.0.1, for tests.
//!
//! No OpenShift cluster can run on this machine, so tests point the real `kube` client (and
//! kube-runtime's watcher) at this server and assert the requests the product makes. It stands in
//! for the API server only, never for the container registry: registry traffic that goes through
//! the API server's service proxy is forwarded to a real upstream (usually a `TestRegistry`).
//!
//! What it serves follows `/work/shared/reference/openshift.md`: the OpenShift groups
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

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use url::Url;

const CORE: &str = "";
const APPS: &str = "apps";
const RBAC: &str = "rbac.authorization.k8s.io";
const IMAGE: &str = "image.openshift.io";
const PROJECT: &str = "project.openshift.io";
const USER: &str = "user.openshift.io";
const AUTHORIZATION: &str = "authorization.openshift.io";
/// The groups `start_kubernetes_only` leaves out, which is how clients tell the clusters apart.
const OPENSHIFT_GROUPS: [&str; 4] = [IMAGE, PROJECT, USER, AUTHORIZATION];
/// Every group served here has exactly one version.
const VERSION: &str = "v1";
/// What the integrated registry's `status.dockerImageRepository` starts with (reference §2).
const INTERNAL_REGISTRY: &str = "image-registry.openshift-image-registry.svc:5000";
/// Real API servers cap watches too; 60 s keeps a forgotten watch from outliving its test long.
const MAX_WATCH_SECONDS: u64 = 60;
/// Request bodies are buffered whole; blobs pushed through the service proxy are the big ones.
const MAX_BODY: usize = 512 * 1024 * 1024;
/// Bounds a proxied request, so a hung upstream fails the test instead of hanging it.
const PROXY_TIMEOUT: Duration = Duration::from_secs(60);

const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One collection the server knows (all at version v1).
#[derive(Debug)]
struct Resource {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    /// Kept in the store; the others are computed (imagestreamtags) or create-only (reviews).
    stored: bool,
    /// Has a `status` subresource: writes to the main resource keep the stored status.
    status: bool,
    verbs: &'static [&'static str],
}

const fn stored(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    status: bool,
) -> Resource {
    Resource {
        group,
        kind,
        plural,
        singular,
        namespaced,
        stored: true,
        status,
        verbs: READ_WRITE,
    }
}

static RESOURCES: &[Resource] = &[
    stored(CORE, "Namespace", "namespaces", "namespace", false, true),
    stored(CORE, "Pod", "pods", "pod", true, true),
    stored(CORE, "Service", "services", "service", true, true),
    stored(CORE, "ServiceAccount", "serviceaccounts", "serviceaccount", true, false),
    stored(CORE, "Secret", "secrets", "secret", true, false),
    stored(CORE, "ConfigMap", "configmaps", "configmap", true, false),
    stored(APPS, "Deployment", "deployments", "deployment", true, true),
    stored(APPS, "ReplicaSet", "replicasets", "replicaset", true, true),
    stored(RBAC, "Role", "roles", "role", true, false),
    stored(RBAC, "RoleBinding", "rolebindings", "rolebinding", true, false),
    stored(RBAC, "ClusterRole", "clusterroles", "clusterrole", false, false),
    stored(
        RBAC,
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        false,
    ),
    stored(IMAGE, "Image", "images", "image", false, false),
    stored(IMAGE, "ImageStream", "imagestreams", "imagestream", true, true),
    Resource {
        group: IMAGE,
        kind: "ImageStreamTag",
        plural: "imagestreamtags",
        singular: "imagestreamtag",
        namespaced: true,
        stored: false,
        status: false,
        // Only what this server implements; the real one also has create/update/patch, never watch.
        verbs: &["delete", "get", "list"],
    },
    stored(PROJECT, "Project", "projects", "project", false, false),
    Resource {
        group: PROJECT,
        kind: "ProjectRequest",
        plural: "projectrequests",
        singular: "projectrequest",
        namespaced: false,
        stored: false,
        status: false,
        verbs: &["create"],
    },
    stored(USER, "User", "users", "user", false, false),
    stored(USER, "Group", "groups", "group", false, false),
    Resource {
        group: AUTHORIZATION,
        kind: "LocalResourceAccessReview",
        plural: "localresourceaccessreviews",
        singular: "localresourceaccessreview",
        namespaced: true,
        stored: false,
        status: false,
        verbs: &["create"],
    },
];

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            VERSION.to_owned()
        } else {
            format!("{}/{VERSION}", self.group)
        }
    }

    /// `imagestreams.image.openshift.io`, or just `pods` in the core group, as error messages say.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn key(&self) -> Key {
        (self.group, self.plural)
    }

    fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }
}

fn resource_by_plural(group: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.is(group, plural))
}

fn resource_by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

fn group_served(group: &str, openshift: bool) -> bool {
    RESOURCES.iter().any(|r| r.group == group) && (openshift || !OPENSHIFT_GROUPS.contains(&group))
}

/// (group, plural): one collection in the store and in the watch history.
type Key = (&'static str, &'static str);
/// (namespace or "" for cluster-scoped kinds, name): sorts as lists must.
type ObjKey = (String, String);

struct Event {
    rv: u64,
    key: Key,
    namespace: String,
    kind: &'static str,
    object: Value,
    /// The object before a MODIFIED event, so selector watches can turn it into ADDED/DELETED.
    old: Option<Value>,
}

struct State {
    openshift: bool,
    rv: u64,
    uids: u64,
    uid_seed: u32,
    objects: HashMap<Key, BTreeMap<ObjKey, Value>>,
    history: Vec<Event>,
    /// Watches and continue tokens older than this answer 410 Expired.
    compacted: u64,
    /// Bumped by `expire_watches`; an open watch that sees it change ends with 410.
    expirations: u64,
    requests: Vec<ApiRequest>,
    token: Option<String>,
    forbidden: Vec<(String, String)>,
    /// Path prefixes answered 404, as for kinds a server does not serve.
    unserved: Vec<String>,
    proxies: HashMap<(String, String), Url>,
    current_user: String,
    sa_tokens: HashMap<(String, String), String>,
}

impl State {
    fn collection(&self, res: &Resource) -> impl Iterator<Item = (&ObjKey, &Value)> {
        self.objects.get(&res.key()).into_iter().flatten()
    }

    fn lookup(&self, res: &Resource, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&res.key())?.get(&obj_key(res, namespace, name))
    }

    fn next_uid(&mut self) -> String {
        self.uids += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", self.uid_seed, self.uids)
    }

    /// Inserts or replaces, giving the object a new resourceVersion (every write does, or watches
    /// resuming from a resourceVersion would miss it), and records ADDED or MODIFIED.
    fn store(&mut self, res: &'static Resource, mut object: Value) -> Value {
        self.rv += 1;
        let rv = self.rv;
        object["apiVersion"] = json!(res.api_version());
        object["kind"] = json!(res.kind);
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        let uid = self.next_uid();
        let meta = object["metadata"].as_object_mut().expect("metadata is an object");
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.entry("uid").or_insert_with(|| json!(uid));
        meta.entry("creationTimestamp")
            .or_insert_with(|| json!(rfc3339(now_secs())));
        let namespace = if res.namespaced {
            str_at(&object, "/metadata/namespace").to_owned()
        } else {
            String::new()
        };
        let name = str_at(&object, "/metadata/name").to_owned();
        let old = self
            .objects
            .entry(res.key())
            .or_default()
            .insert((namespace.clone(), name), object.clone());
        self.history.push(Event {
            rv,
            key: res.key(),
            namespace,
            kind: if old.is_some() { "MODIFIED" } else { "ADDED" },
            object: object.clone(),
            old,
        });
        object
    }

    /// Removes and records DELETED with a new resourceVersion, as the real server does.
    fn delete(&mut self, res: &'static Resource, namespace: Option<&str>, name: &str) -> Option<Value> {
        let key = obj_key(res, namespace, name);
        let mut object = self.objects.get_mut(&res.key())?.remove(&key)?;
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.history.push(Event {
            rv: self.rv,
            key: res.key(),
            namespace: key.0,
            kind: "DELETED",
            object: object.clone(),
            old: None,
        });
        Some(object)
    }

    /// Deleting a namespace (or its project) takes everything in it, at once rather than after
    /// a Terminating phase; tests then see the same end state a real cluster reaches.
    fn delete_namespace(&mut self, name: &str) {
        for res in RESOURCES.iter().filter(|r| r.stored && r.namespaced) {
            let names: Vec<String> = self
                .collection(res)
                .filter(|((ns, _), _)| ns == name)
                .map(|((_, n), _)| n.clone())
                .collect();
            for n in names {
                self.delete(res, Some(name), &n);
            }
        }
        let namespaces = resource_by_plural(CORE, "namespaces").expect("namespaces");
        let projects = resource_by_plural(PROJECT, "projects").expect("projects");
        self.delete(namespaces, None, name);
        self.delete(projects, None, name);
    }
}

fn obj_key(res: &Resource, namespace: Option<&str>, name: &str) -> ObjKey {
    let ns = if res.namespaced { namespace.unwrap_or("") } else { "" };
    (ns.to_owned(), name.to_owned())
}

struct Shared {
    state: Mutex<State>,
    /// Bumped after every change; watch streams wait on it instead of polling.
    changed: watch::Sender<u64>,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later request down with it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a change under the lock, then wakes the watch streams.
    fn write<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let result = change(&mut self.lock());
        self.changed.send_modify(|n| *n += 1);
        result
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    /// The path only, as sent (still percent-encoded).
    pub path: String,
    /// The raw query string, "" when there is none.
    pub query: String,
    /// The body, when it is JSON.
    pub body: Option<Value>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
}

impl ApiRequest {
    /// The first query parameter with this name, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn is_watch(&self) -> bool {
        matches!(self.param("watch").as_deref(), Some("true" | "1"))
    }

    fn from_parts(parts: &Parts, body: &[u8]) -> Self {
        let header =
            |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            body: if body.is_empty() {
                None
            } else {
                serde_json::from_slice(body).ok()
            },
            authorization: header(header::AUTHORIZATION),
            content_type: header(header::CONTENT_TYPE),
        }
    }
}

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

    /// Requests with this method ("*" for any) whose path starts with `path_prefix` get 403
    /// Forbidden, worded as real Kubernetes words it.
    /// Makes the OpenShift API groups appear (`true`) or vanish (`false`, as while the
    /// aggregated openshift-apiserver is not there yet), keeping every stored object.
    pub fn serve_openshift(&self, served: bool) {
        self.shared.lock().openshift = served;
    }

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

// ---------------------------------------------------------------------------------------------
// Errors: always a Kubernetes Status, because kube only turns those into `Error::Api`.

struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
    details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn route_not_found() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource").details(json!({}))
    }

    fn not_found(res: &Resource, name: &str) -> Self {
        Self::named(
            404,
            "NotFound",
            res.group,
            res.plural,
            name,
            format!("{} \"{name}\" not found", res.qualified()),
        )
    }

    fn already_exists(res: &Resource, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", res.qualified());
        Self::named(409, "AlreadyExists", res.group, res.plural, name, message)
    }

    fn conflict(res: &Resource, name: &str, why: &str) -> Self {
        let message = format!("Operation cannot be fulfilled on {} \"{name}\": {why}", res.qualified());
        Self::named(409, "Conflict", res.group, res.plural, name, message)
    }

    fn modified(res: &Resource, name: &str) -> Self {
        Self::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    fn named(code: u16, reason: &'static str, group: &str, kind: &str, name: &str, message: String) -> Self {
        Self::new(code, reason, message).details(json!({"name": name, "group": group, "kind": kind}))
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .details(json!({}))
    }

    fn invalid(res: &Resource, name: &str, field: &str, message: String) -> Self {
        let kind = if res.group.is_empty() {
            res.kind.to_owned()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let full = format!("{kind} \"{name}\" is invalid: {field}: {message}");
        Self::new(422, "Invalid", full).details(json!({
            "name": name, "group": res.group, "kind": res.kind,
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        }))
    }

    fn expired(message: String) -> Self {
        Self::new(410, "Expired", message)
    }
}

fn status_value(code: u16, reason: &str, message: &str, details: Option<&Value>) -> Value {
    let mut status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        status["details"] = d.clone();
    }
    status
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = status_value(self.code, self.reason, &self.message, self.details.as_ref());
        json_response(self.code, &body)
    }
}

type ApiResult = std::result::Result<Response, ApiError>;

fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn ok(body: Value) -> ApiResult {
    Ok(json_response(200, &body))
}

fn created(body: Value) -> ApiResult {
    Ok(json_response(201, &body))
}

fn success(res: &Resource, name: &str, uid: Option<&str>) -> Value {
    let mut details = json!({"name": name, "group": res.group, "kind": res.plural});
    if let Some(uid) = uid {
        details["uid"] = json!(uid);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

// ---------------------------------------------------------------------------------------------
// Routing.

enum Route {
    Version,
    Api,
    Apis,
    Group(&'static str),
    ResourceList(&'static str),
    Resource(Target),
}

struct Target {
    res: &'static Resource,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_route(path: &str, openshift: bool) -> Option<Route> {
    let segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (group, rest): (&'static str, &[&str]) = match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::Api),
        ["apis"] => return Some(Route::Apis),
        ["api", "v1", rest @ ..] => (CORE, rest),
        ["apis", group, rest @ ..] => {
            let group = RESOURCES
                .iter()
                .map(|r| r.group)
                .find(|g| g == group && group_served(g, openshift))?;
            match rest {
                [] => return Some(Route::Group(group)),
                [v, rest @ ..] if *v == VERSION => (group, rest),
                _ => return None,
            }
        }
        _ => return None,
    };
    if rest.is_empty() {
        return Some(Route::ResourceList(group));
    }
    // `namespaces/{ns}/{plural}/...` unless it is the namespace itself (`namespaces/{ns}/status`).
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] if resource_by_plural(group, plural).is_some_and(|r| r.namespaced) => {
            (Some((*ns).to_owned()), [&[*plural][..], more].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let res = resource_by_plural(group, rest[0])?;
    if (namespace.is_some() && !res.namespaced) || rest.len() > 3 {
        return None;
    }
    // A namespaced kind without a namespace only has the all-namespaces list and watch.
    if res.namespaced && namespace.is_none() && rest.len() > 1 {
        return None;
    }
    Some(Route::Resource(Target {
        res,
        namespace,
        name: rest.get(1).map(|s| (*s).to_owned()),
        sub: rest.get(2).map(|s| (*s).to_owned()),
    }))
}

/// `/api/v1/namespaces/{ns}/services/[scheme:]{name}[:port]/proxy[/{rest}]` → (ns, name, rest).
fn parse_proxy(path: &str) -> Option<(String, String, String)> {
    let after = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, after) = after.split_once('/')?;
    let after = after.strip_prefix("services/")?;
    let (service, after) = after.split_once('/')?;
    let rest = match after.strip_prefix("proxy")? {
        "" => "",
        more => more.strip_prefix('/')?,
    };
    let service = percent_decode(service);
    let parts: Vec<&str> = service.split(':').collect();
    let name = match parts.as_slice() {
        [name] | [name, _] => *name,
        [_scheme, name, _port] => *name,
        _ => return None,
    };
    Some((percent_decode(ns), name.to_owned(), rest.to_owned()))
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return ApiError::bad_request(format!("reading the request body: {e}")).into_response(),
    };
    let req = ApiRequest::from_parts(&parts, &bytes);
    let (openshift, authorized, forbidden, unserved, user) = {
        let mut s = shared.lock();
        s.requests.push(req.clone());
        let authorized = match &s.token {
            None => true,
            Some(t) => req.authorization.as_deref() == Some(format!("Bearer {t}").as_str()),
        };
        let forbidden = s
            .forbidden
            .iter()
            .any(|(m, p)| (m == "*" || m.eq_ignore_ascii_case(&req.method)) && req.path.starts_with(p.as_str()));
        let unserved = s.unserved.iter().any(|p| req.path.starts_with(p.as_str()));
        (s.openshift, authorized, forbidden, unserved, s.current_user.clone())
    };
    if !authorized {
        return ApiError::new(401, "Unauthorized", "Unauthorized").into_response();
    }
    if let Some((namespace, service, rest)) = parse_proxy(&req.path) {
        if forbidden {
            let verb = verb_of(&req, true);
            return forbidden_error(
                &user,
                verb,
                "services/proxy",
                CORE,
                Some(&namespace),
                Some(&service),
                "services",
            )
            .into_response();
        }
        return proxy(&shared, parts, bytes, &namespace, &service, &rest, &req.query).await;
    }
    if unserved {
        return ApiError::route_not_found().into_response();
    }
    let Some(route) = parse_route(&req.path, openshift) else {
        return ApiError::route_not_found().into_response();
    };
    if forbidden {
        return forbidden_for(&route, &req, &user).into_response();
    }
    let result = match route {
        Route::Resource(target) if req.method == "GET" && req.is_watch() => start_watch(&shared, target, &req),
        route => dispatch(&shared, route, &req, &bytes),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn verb_of(req: &ApiRequest, named: bool) -> &'static str {
    match req.method.as_str() {
        "GET" | "HEAD" if !named && req.is_watch() => "watch",
        "GET" | "HEAD" if !named => "list",
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" if named => "delete",
        "DELETE" => "deletecollection",
        _ => "unknown",
    }
}

fn forbidden_for(route: &Route, req: &ApiRequest, user: &str) -> ApiError {
    match route {
        Route::Resource(t) => {
            let resource = match &t.sub {
                Some(sub) => format!("{}/{sub}", t.res.plural),
                None => t.res.plural.to_owned(),
            };
            forbidden_error(
                user,
                verb_of(req, t.name.is_some()),
                &resource,
                t.res.group,
                t.namespace.as_deref(),
                t.name.as_deref(),
                &t.res.qualified(),
            )
        }
        _ => {
            let verb = req.method.to_ascii_lowercase();
            ApiError::new(
                403,
                "Forbidden",
                format!("forbidden: User \"{user}\" cannot {verb} path \"{}\"", req.path),
            )
            .details(json!({}))
        }
    }
}

fn forbidden_error(
    user: &str,
    verb: &str,
    resource: &str,
    group: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    qualified: &str,
) -> ApiError {
    let subject = match name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified.to_owned(),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    let message = format!(
        "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
    );
    let kind = resource.split('/').next().unwrap_or(resource);
    let mut details = json!({"group": group, "kind": kind});
    if let Some(n) = name {
        details["name"] = json!(n);
    }
    ApiError::new(403, "Forbidden", message).details(details)
}

fn dispatch(shared: &Shared, route: Route, req: &ApiRequest, body: &[u8]) -> ApiResult {
    let target = match route {
        Route::Resource(t) => t,
        _ if req.method != "GET" => return Err(ApiError::method_not_allowed()),
        Route::Version => return ok(version_info()),
        Route::Api => return ok(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})),
        Route::Apis => {
            let openshift = shared.lock().openshift;
            return ok(api_group_list(openshift));
        }
        Route::Group(group) => return ok(api_group(group)),
        Route::ResourceList(group) => return ok(api_resource_list(group)),
    };
    let Target {
        res,
        namespace,
        name,
        sub,
    } = target;
    let ns = namespace.as_deref();
    let method = req.method.as_str();
    if res.is(IMAGE, "imagestreamtags") {
        return imagestreamtag(shared, ns, name.as_deref(), sub.as_deref(), req);
    }
    if res.is(PROJECT, "projectrequests") {
        return match (method, &name) {
            ("POST", None) => project_request(shared, body),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    if res.is(AUTHORIZATION, "localresourceaccessreviews") {
        return match (method, ns, &name) {
            ("POST", Some(ns), None) => local_resource_access_review(shared, ns, body),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    if res.is(USER, "users") && name.as_deref() == Some("~") && sub.is_none() {
        return match method {
            "GET" => ok(current_user(&shared.lock())),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    if res.is(CORE, "serviceaccounts") && sub.as_deref() == Some("token") {
        return match (method, ns, &name) {
            ("POST", Some(ns), Some(name)) => service_account_token(shared, ns, name, body),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    let part = match sub.as_deref() {
        None => Part::Main,
        Some("status") if res.status => Part::Status,
        Some(_) => return Err(ApiError::route_not_found()),
    };
    match (method, name.as_deref()) {
        ("GET", None) => list(shared, res, ns, req),
        ("GET", Some(name)) => {
            let s = shared.lock();
            let object = s.lookup(res, ns, name).ok_or_else(|| ApiError::not_found(res, name))?;
            ok(object.clone())
        }
        ("POST", None) if res.namespaced && ns.is_none() => Err(ApiError::method_not_allowed()),
        ("POST", None) => create(shared, res, ns, body),
        ("PUT", Some(name)) => replace(shared, res, ns, name, body, part),
        ("PATCH", Some(name)) => patch(shared, res, ns, name, req, body, part),
        ("DELETE", Some(name)) if part == Part::Main => delete(shared, res, ns, name, body),
        ("DELETE", None) if !res.namespaced || ns.is_some() => delete_collection(shared, res, ns, req),
        _ => Err(ApiError::method_not_allowed()),
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery.

fn version_info() -> Value {
    // Every field k8s-openapi's `Info` requires, so `Client::apiserver_version` parses it.
    json!({
        "major": "1", "minor": "30", "gitVersion": "v1.30.0",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2024-04-17T00:00:00Z", "goVersion": "go1.22.2", "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn group_entry(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{VERSION}"), "version": VERSION});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

fn api_group_list(openshift: bool) -> Value {
    let groups: BTreeSet<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty() && group_served(g, openshift))
        .collect();
    let groups: Vec<Value> = groups.into_iter().map(group_entry).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn api_group(group: &str) -> Value {
    let mut g = group_entry(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

fn api_resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group) {
        resources.push(json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs,
        }));
        let mut sub = |name: &str, kind: &str, extra: Value, verbs: &[&str]| {
            let mut v = json!({
                "name": format!("{}/{name}", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": kind, "verbs": verbs,
            });
            if let (Value::Object(v), Value::Object(extra)) = (&mut v, extra) {
                v.extend(extra);
            }
            resources.push(v);
        };
        if r.status {
            sub("status", r.kind, json!({}), &["get", "patch", "update"]);
        }
        if r.is(CORE, "services") {
            sub(
                "proxy",
                "ServiceProxyOptions",
                json!({}),
                &["create", "delete", "get", "patch", "update"],
            );
        }
        if r.is(CORE, "serviceaccounts") {
            sub(
                "token",
                "TokenRequest",
                json!({"group": "authentication.k8s.io", "version": "v1"}),
                &["create"],
            );
        }
    }
    let group_version = if group.is_empty() {
        VERSION.to_owned()
    } else {
        format!("{group}/{VERSION}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

// ---------------------------------------------------------------------------------------------
// Selectors.

enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

#[derive(Default)]
struct Filter {
    labels: Vec<Requirement>,
    fields: Vec<Requirement>,
}

impl Filter {
    fn parse(res: &Resource, req: &ApiRequest) -> std::result::Result<Self, ApiError> {
        let mut filter = Filter::default();
        for part in req.param("labelSelector").unwrap_or_default().split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let requirement = parse_requirement(part)
                .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: {part:?}")))?;
            filter.labels.push(requirement);
        }
        for part in req.param("fieldSelector").unwrap_or_default().split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let field = match parse_requirement(part) {
                Some(Requirement::Equals(field, _) | Requirement::NotEquals(field, _)) => field,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid selector: '{part}'; can't understand '{part}'"
                    )));
                }
            };
            if !field_supported(res, &field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
            filter.fields.push(parse_requirement(part).expect("parsed above"));
        }
        Ok(filter)
    }

    fn matches(&self, object: &Value) -> bool {
        let label = |k: &str| object["metadata"]["labels"][k].as_str().map(str::to_owned);
        let labels_ok = self.labels.iter().all(|r| match r {
            Requirement::Equals(k, v) => label(k).as_deref() == Some(v),
            Requirement::NotEquals(k, v) => label(k).as_deref() != Some(v),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
        });
        let field = |k: &str| {
            let pointer = format!("/{}", k.replace('.', "/"));
            match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        };
        labels_ok
            && self.fields.iter().all(|r| match r {
                Requirement::Equals(k, v) => field(k) == *v,
                Requirement::NotEquals(k, v) => field(k) != *v,
                _ => true,
            })
    }
}

fn parse_requirement(part: &str) -> Option<Requirement> {
    let valid = |s: &str| !s.is_empty() && !s.contains([' ', '(', ')', '!', '=']);
    let r = if let Some((k, v)) = part.split_once("!=") {
        Requirement::NotEquals(k.trim().into(), v.trim().into())
    } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        Requirement::Equals(k.trim().into(), v.trim().into())
    } else if let Some(k) = part.strip_prefix('!') {
        Requirement::NotExists(k.trim().into())
    } else {
        Requirement::Exists(part.into())
    };
    let ok = match &r {
        Requirement::Equals(k, v) | Requirement::NotEquals(k, v) => valid(k) && (v.is_empty() || valid(v)),
        Requirement::Exists(k) | Requirement::NotExists(k) => valid(k),
    };
    ok.then_some(r)
}

fn field_supported(res: &Resource, field: &str) -> bool {
    match field {
        "metadata.name" => true,
        "metadata.namespace" => res.namespaced,
        "spec.dockerImageRepository" | "status.dockerImageRepository" => res.is(IMAGE, "imagestreams"),
        "spec.nodeName" | "status.phase" => res.is(CORE, "pods"),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Reads.

fn list(shared: &Shared, res: &'static Resource, ns: Option<&str>, req: &ApiRequest) -> ApiResult {
    let filter = Filter::parse(res, req)?;
    let limit = match req.param("limit").filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?,
        ),
    }
    .filter(|&l| l > 0);
    let s = shared.lock();
    // The real project list is computed per user and ignores paging (reference §4).
    let paged = !res.is(PROJECT, "projects");
    let start = match req.param("continue").filter(|c| !c.is_empty() && paged) {
        None => None,
        Some(token) => Some(decode_continue(&token, s.compacted)?),
    };
    let matching: Vec<(&ObjKey, &Value)> = s
        .collection(res)
        .filter(|(k, _)| ns.is_none_or(|ns| k.0 == ns))
        .filter(|(k, _)| start.as_ref().is_none_or(|start| *k > start))
        .filter(|(_, v)| filter.matches(v))
        .collect();
    let take = if paged { limit.unwrap_or(usize::MAX) } else { usize::MAX };
    let remaining = matching.len().saturating_sub(take);
    let items: Vec<Value> = matching.iter().take(take).map(|(_, v)| (*v).clone()).collect();
    let mut metadata = json!({"resourceVersion": s.rv.to_string()});
    if remaining > 0 {
        let last = matching[take - 1].0;
        let token = json!({"rv": s.rv, "start": [last.0, last.1]}).to_string();
        metadata["continue"] = json!(URL_SAFE_NO_PAD.encode(token));
        metadata["remainingItemCount"] = json!(remaining);
    }
    ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": metadata, "items": items}),
    )
}

fn decode_continue(token: &str, compacted: u64) -> std::result::Result<ObjKey, ApiError> {
    let invalid = |why: String| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|e| invalid(e.to_string()))?;
    let value: Value = serde_json::from_slice(&raw).map_err(|e| invalid(e.to_string()))?;
    let rv = value["rv"]
        .as_u64()
        .ok_or_else(|| invalid("no resource version".into()))?;
    let ns = value["start"][0]
        .as_str()
        .ok_or_else(|| invalid("no start key".into()))?;
    let name = value["start"][1]
        .as_str()
        .ok_or_else(|| invalid("no start key".into()))?;
    if rv < compacted {
        // etcd compaction invalidates continue tokens as well as watches.
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new \
             list without the continue parameter, or use the continue token in this response to retrieve the \
             remainder of the results. Continuing with the provided token results in an inconsistent list - \
             objects that were created, modified, or deleted between the time the first chunk was returned and now \
             may show up in the list."
                .into(),
        ));
    }
    Ok((ns.to_owned(), name.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Writes.

fn parse_body(res: &Resource, body: &[u8]) -> std::result::Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: {e}",
            res.kind
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): not a JSON object",
            res.kind
        )));
    }
    Ok(value)
}

/// kind/apiVersion may be left out; when given they must name this collection.
fn check_type(res: &Resource, object: &mut Value) -> std::result::Result<(), ApiError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    if (!api_version.is_empty() && api_version != res.api_version()) || (!kind.is_empty() && kind != res.kind) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({}) or the kind \
             ({kind}) does not match {}",
            res.api_version(),
            res.kind
        )));
    }
    object["apiVersion"] = json!(res.api_version());
    object["kind"] = json!(res.kind);
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    Ok(())
}

fn check_namespace(res: &Resource, object: &mut Value, ns: Option<&str>) -> std::result::Result<(), ApiError> {
    if !res.namespaced {
        return Ok(());
    }
    let ns = ns.unwrap_or_default();
    let given = str_at(object, "/metadata/namespace");
    if !given.is_empty() && given != ns {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    object["metadata"]["namespace"] = json!(ns);
    Ok(())
}

fn create(shared: &Shared, res: &'static Resource, ns: Option<&str>, body: &[u8]) -> ApiResult {
    let mut object = parse_body(res, body)?;
    check_type(res, &mut object)?;
    check_namespace(res, &mut object, ns)?;
    let mut s = shared.lock();
    if str_at(&object, "/metadata/name").is_empty() {
        let prefix = str_at(&object, "/metadata/generateName").to_owned();
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                res,
                "",
                "metadata.name",
                "Required value: name or generateName is required".into(),
            ));
        }
        s.uids += 1;
        object["metadata"]["name"] = json!(format!("{prefix}{}", name_suffix(s.uids)));
    }
    let name = str_at(&object, "/metadata/name").to_owned();
    if !str_at(&object, "/metadata/resourceVersion").is_empty() {
        // What the etcd3 store answers; kube users meet it when they reuse a fetched object.
        return Err(ApiError::new(
            500,
            "InternalError",
            "Internal error occurred: resourceVersion should not be set on objects to be created",
        ));
    }
    if s.lookup(res, ns, &name).is_some() {
        return Err(ApiError::already_exists(res, &name));
    }
    prepare_create(res, &mut object);
    for key in ["uid", "creationTimestamp"] {
        object["metadata"].as_object_mut().expect("metadata").remove(key);
    }
    let stored = s.store(res, object);
    drop(s);
    shared.changed.send_modify(|n| *n += 1);
    created(stored)
}

/// What the real registries' PrepareForCreate do that clients can see.
fn prepare_create(res: &Resource, object: &mut Value) {
    if res.status {
        object.as_object_mut().expect("object").remove("status");
    }
    if res.is(CORE, "namespaces") || res.is(PROJECT, "projects") {
        if object["spec"]["finalizers"].is_null() {
            object["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        object["status"] = json!({"phase": "Active"});
    }
    if res.is(IMAGE, "imagestreams") {
        let repository = format!(
            "{INTERNAL_REGISTRY}/{}/{}",
            str_at(object, "/metadata/namespace"),
            str_at(object, "/metadata/name")
        );
        object["status"] = json!({"dockerImageRepository": repository});
    }
    if object.get("spec").is_some() && object["metadata"]["generation"].is_null() {
        object["metadata"]["generation"] = json!(1);
    }
}

/// Which part of the object an update writes.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// The main resource: everything but the status, for kinds with a status subresource.
    Main,
    /// The status subresource: the status only.
    Status,
    /// Server-internal updates (deleting an ImageStreamTag): spec and status together.
    Whole,
}

/// The checks and carry-overs every update (PUT, PATCH, status) shares; stores the result.
fn commit_update(
    s: &mut State,
    res: &'static Resource,
    stored: &Value,
    mut object: Value,
    part: Part,
) -> std::result::Result<Value, ApiError> {
    let name = str_at(stored, "/metadata/name").to_owned();
    if part == Part::Status {
        let mut updated = stored.clone();
        match object.get("status") {
            Some(status) if !status.is_null() => updated["status"] = status.clone(),
            _ => {
                updated.as_object_mut().expect("object").remove("status");
            }
        }
        object = updated;
    } else if res.status && part == Part::Main {
        // The main resource ignores status; only the status subresource writes it.
        match stored.get("status") {
            Some(status) => object["status"] = status.clone(),
            None => {
                object.as_object_mut().expect("object").remove("status");
            }
        }
    }
    if (res.is(RBAC, "rolebindings") || res.is(RBAC, "clusterrolebindings")) && object["roleRef"] != stored["roleRef"] {
        let r = &object["roleRef"];
        let value = format!(
            "rbac.RoleRef{{APIGroup:\"{}\", Kind:\"{}\", Name:\"{}\"}}",
            r["apiGroup"].as_str().unwrap_or_default(),
            r["kind"].as_str().unwrap_or_default(),
            r["name"].as_str().unwrap_or_default()
        );
        return Err(ApiError::invalid(
            res,
            &name,
            "roleRef",
            format!("Invalid value: {value}: cannot change roleRef"),
        ));
    }
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    for key in ["name", "namespace", "uid", "creationTimestamp"] {
        match stored["metadata"].get(key) {
            Some(v) => object["metadata"][key] = v.clone(),
            None => {
                object["metadata"].as_object_mut().expect("metadata").remove(key);
            }
        }
    }
    let generation = stored["metadata"]["generation"].as_i64();
    match generation {
        Some(g) if object.get("spec") != stored.get("spec") => object["metadata"]["generation"] = json!(g + 1),
        Some(g) => object["metadata"]["generation"] = json!(g),
        None => {}
    }
    Ok(s.store(res, object))
}

fn replace(
    shared: &Shared,
    res: &'static Resource,
    ns: Option<&str>,
    name: &str,
    body: &[u8],
    part: Part,
) -> ApiResult {
    let mut object = parse_body(res, body)?;
    check_type(res, &mut object)?;
    check_namespace(res, &mut object, ns)?;
    let given = str_at(&object, "/metadata/name");
    if given != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    let updated = {
        let mut s = shared.lock();
        let stored = s
            .lookup(res, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let rv = str_at(&object, "/metadata/resourceVersion");
        if !rv.is_empty() && rv != str_at(&stored, "/metadata/resourceVersion") {
            return Err(ApiError::modified(res, name));
        }
        commit_update(&mut s, res, &stored, object, part)?
    };
    shared.changed.send_modify(|n| *n += 1);
    ok(updated)
}

fn patch(
    shared: &Shared,
    res: &'static Resource,
    ns: Option<&str>,
    name: &str,
    req: &ApiRequest,
    body: &[u8],
    part: Part,
) -> ApiResult {
    let content_type = req.content_type.as_deref().unwrap_or_default();
    let content_type = content_type.split(';').next().unwrap_or_default().trim();
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let result = {
        let mut s = shared.lock();
        let stored = s.lookup(res, ns, name).cloned();
        let mut object = match (&stored, content_type) {
            (None, "application/apply-patch+yaml") => {
                // Server-side apply of a missing object creates it (only JSON bodies, as kube sends).
                drop(s);
                return create_applied(shared, res, ns, name, patch);
            }
            (None, _) => return Err(ApiError::not_found(res, name)),
            (Some(stored), _) => stored.clone(),
        };
        let stored = stored.expect("checked above");
        match content_type {
            "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/apply-patch+yaml" => {
                if !patch.is_object() {
                    return Err(ApiError::bad_request("a merge patch must be a JSON object"));
                }
                merge_patch(&mut object, &patch);
            }
            "application/json-patch+json" => {
                json_patch(&mut object, &patch).map_err(|why| {
                    ApiError::new(
                        422,
                        "Invalid",
                        format!("the server rejected our request due to an error in our request: {why}"),
                    )
                })?;
            }
            other => {
                return Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!(
                        "the body of the request was in an unknown format ({other}) - accepted media types include: \
                         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                    ),
                ));
            }
        }
        let rv = str_at(&object, "/metadata/resourceVersion");
        if !rv.is_empty() && rv != str_at(&stored, "/metadata/resourceVersion") {
            return Err(ApiError::modified(res, name));
        }
        if !object.is_object() {
            return Err(ApiError::new(422, "Invalid", "the patch does not leave an object"));
        }
        object["apiVersion"] = json!(res.api_version());
        object["kind"] = json!(res.kind);
        commit_update(&mut s, res, &stored, object, part)?
    };
    shared.changed.send_modify(|n| *n += 1);
    ok(result)
}

fn create_applied(
    shared: &Shared,
    res: &'static Resource,
    ns: Option<&str>,
    name: &str,
    mut object: Value,
) -> ApiResult {
    if !object.is_object() {
        return Err(ApiError::bad_request("an apply patch must be a JSON object"));
    }
    check_type(res, &mut object)?;
    check_namespace(res, &mut object, ns)?;
    object["metadata"]["name"] = json!(name);
    let body = object.to_string();
    let response = create(shared, res, ns, body.as_bytes())?;
    // Apply answers 201 for a create as well; keep it.
    Ok(response)
}

fn delete(shared: &Shared, res: &'static Resource, ns: Option<&str>, name: &str, body: &[u8]) -> ApiResult {
    let options: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    };
    let deleted = {
        let mut s = shared.lock();
        let stored = s.lookup(res, ns, name).ok_or_else(|| ApiError::not_found(res, name))?;
        let stored_rv = str_at(stored, "/metadata/resourceVersion").to_owned();
        let stored_uid = str_at(stored, "/metadata/uid").to_owned();
        if let Some(rv) = options["preconditions"]["resourceVersion"].as_str()
            && rv != stored_rv
        {
            return Err(ApiError::conflict(
                res,
                name,
                &format!(
                    "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record \
                     ({stored_rv}). The object might have been modified"
                ),
            ));
        }
        if let Some(uid) = options["preconditions"]["uid"].as_str()
            && uid != stored_uid
        {
            return Err(ApiError::conflict(
                res,
                name,
                &format!(
                    "the UID in the precondition ({uid}) does not match the UID in record ({stored_uid}). The object might have been modified"
                ),
            ));
        }
        if res.is(CORE, "namespaces") || res.is(PROJECT, "projects") {
            s.delete_namespace(name);
        } else {
            s.delete(res, ns, name);
        }
        stored_uid
    };
    shared.changed.send_modify(|n| *n += 1);
    ok(success(res, name, Some(&deleted)))
}

fn delete_collection(shared: &Shared, res: &'static Resource, ns: Option<&str>, req: &ApiRequest) -> ApiResult {
    let filter = Filter::parse(res, req)?;
    let deleted: Vec<Value> = shared.write(|s| {
        let names: Vec<ObjKey> = s
            .collection(res)
            .filter(|(k, v)| ns.is_none_or(|ns| k.0 == ns) && filter.matches(v))
            .map(|(k, _)| k.clone())
            .collect();
        names
            .into_iter()
            .filter_map(|(ns, name)| s.delete(res, Some(&ns), &name))
            .collect()
    });
    let s = shared.lock();
    ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {"resourceVersion": s.rv.to_string()}, "items": deleted}),
    )
}

// ---------------------------------------------------------------------------------------------
// Patches.

/// RFC 7386: objects merge, null deletes, everything else (arrays included) replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// RFC 6902: add, remove, replace, move, copy, test.
fn json_patch(doc: &mut Value, ops: &Value) -> std::result::Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array of operations")?;
    for op in ops {
        let kind = op["op"].as_str().ok_or("operation without \"op\"")?;
        let path = op["path"].as_str().ok_or("operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{kind} operation without \"value\""))
        };
        let from = || {
            op["from"]
                .as_str()
                .ok_or_else(|| format!("{kind} operation without \"from\""))
        };
        match kind {
            "add" => pointer_add(doc, path, value()?)?,
            "remove" => {
                pointer_remove(doc, path)?;
            }
            "replace" => {
                if path.is_empty() {
                    *doc = value()?;
                } else {
                    let v = value()?;
                    pointer_remove(doc, path)
                        .map_err(|_| format!("replace operation does not apply: doc is missing path: {path}"))?;
                    pointer_add(doc, path, v)?;
                }
            }
            "move" => {
                let v = pointer_remove(doc, from()?)?;
                pointer_add(doc, path, v)?;
            }
            "copy" => {
                let from = from()?;
                let v = doc
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| format!("copy from a missing path: {from}"))?;
                pointer_add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected operation {other:?}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> std::result::Result<(&str, String), String> {
    let i = path
        .rfind('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok((&path[..i], path[i + 1..].replace("~1", "/").replace("~0", "~")))
}

fn pointer_add(doc: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(items)) if last == "-" => items.push(value),
        Some(Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| format!("invalid array index in {path}"))?;
            if i > items.len() {
                return Err(format!("add operation index out of bounds: {path}"));
            }
            items.insert(i, value);
        }
        _ => return Err(format!("add operation does not apply: doc is missing path: {path}")),
    }
    Ok(())
}

fn pointer_remove(doc: &mut Value, path: &str) -> std::result::Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: {path}");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i < items.len() {
                Ok(items.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

// ---------------------------------------------------------------------------------------------
// Watch.

struct WatchStream {
    shared: Arc<Shared>,
    rx: watch::Receiver<u64>,
    key: Key,
    namespace: Option<String>,
    filter: Filter,
    /// Every event with a resourceVersion up to this one has been looked at.
    cursor: u64,
    expirations: u64,
    deadline: tokio::time::Instant,
    bookmark: Option<Value>,
    first: Vec<u8>,
    done: bool,
}

fn event_line(kind: &str, object: &Value) -> Vec<u8> {
    let mut line = json!({"type": kind, "object": object}).to_string().into_bytes();
    line.push(b'\n');
    line
}

fn expired_line(requested: u64, oldest: u64) -> Vec<u8> {
    let message = format!("too old resource version: {requested} ({oldest})");
    event_line("ERROR", &status_value(410, "Expired", &message, None))
}

impl WatchStream {
    /// The lines for every event after the cursor (and moves the cursor to now).
    fn pending(&mut self, s: &State) -> Vec<u8> {
        let mut out = Vec::new();
        let start = s.history.partition_point(|e| e.rv <= self.cursor);
        for e in &s.history[start..] {
            if e.key != self.key || self.namespace.as_ref().is_some_and(|ns| *ns != e.namespace) {
                continue;
            }
            let now = self.filter.matches(&e.object);
            // Selector watches see objects enter and leave the selection, as real ones do.
            let kind = match (e.kind, e.old.as_ref().map(|o| self.filter.matches(o))) {
                ("MODIFIED", Some(true)) if now => "MODIFIED",
                ("MODIFIED", Some(true)) => "DELETED",
                ("MODIFIED", _) if now => "ADDED",
                ("MODIFIED", _) => continue,
                (kind, _) if now => kind,
                _ => continue,
            };
            out.extend(event_line(kind, &e.object));
        }
        self.cursor = s.rv;
        out
    }

    async fn next(mut self) -> Option<(std::result::Result<Bytes, Infallible>, Self)> {
        // The first chunk goes out even when it is all there is (an immediate 410).
        if !self.first.is_empty() {
            let first = std::mem::take(&mut self.first);
            return Some((Ok(first.into()), self));
        }
        if self.done {
            return None;
        }
        // Not a busy loop: each pass either returns or waits for a change, and never past the
        // deadline, so the whole stream is bounded by timeoutSeconds.
        loop {
            self.rx.borrow_and_update();
            let chunk = {
                let shared = self.shared.clone();
                let s = shared.lock();
                if s.expirations != self.expirations {
                    self.done = true;
                    expired_line(self.cursor, s.compacted)
                } else {
                    self.pending(&s)
                }
            };
            if !chunk.is_empty() {
                return Some((Ok(chunk.into()), self));
            }
            match tokio::time::timeout_at(self.deadline, self.rx.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return None,
                Err(_) => {
                    self.done = true;
                    // A bookmark before the end lets the client resume without replaying.
                    let mut bookmark = self.bookmark.take()?;
                    bookmark["metadata"]["resourceVersion"] = json!(self.cursor.to_string());
                    return Some((Ok(event_line("BOOKMARK", &bookmark).into()), self));
                }
            }
        }
    }
}

fn start_watch(shared: &Arc<Shared>, target: Target, req: &ApiRequest) -> ApiResult {
    let Target {
        res,
        namespace,
        name,
        sub,
    } = target;
    if !res.stored || sub.is_some() {
        return Err(ApiError::method_not_allowed());
    }
    let mut filter = Filter::parse(res, req)?;
    if let Some(name) = name {
        // The old single-object watch, `.../{plural}/{name}?watch=true`.
        filter.fields.push(Requirement::Equals("metadata.name".into(), name));
    }
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(MAX_WATCH_SECONDS)
        .min(MAX_WATCH_SECONDS);
    let requested = req.param("resourceVersion").filter(|rv| !rv.is_empty() && rv != "0");
    let requested = match requested {
        None => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let send_initial = req.param("sendInitialEvents").as_deref() == Some("true");
    let bookmarks = req.param("allowWatchBookmarks").as_deref() == Some("true");
    let s = shared.lock();
    let mut stream = WatchStream {
        shared: shared.clone(),
        rx: shared.changed.subscribe(),
        key: res.key(),
        namespace,
        filter,
        cursor: s.rv,
        expirations: s.expirations,
        deadline: tokio::time::Instant::now() + Duration::from_secs(timeout),
        bookmark: bookmarks.then(|| json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": {}})),
        first: Vec::new(),
        done: false,
    };
    match requested {
        Some(rv) if rv < s.compacted => {
            stream.first = expired_line(rv, s.compacted);
            stream.done = true;
        }
        Some(rv) if !send_initial => {
            stream.cursor = rv;
            stream.first = stream.pending(&s);
        }
        _ => {
            // No resourceVersion (or "0"): the current objects, as ADDED, then what happens next.
            for ((ns, _), object) in s.collection(res) {
                if stream.namespace.as_ref().is_none_or(|n| n == ns) && stream.filter.matches(object) {
                    stream.first.extend(event_line("ADDED", object));
                }
            }
            if send_initial {
                let end = json!({
                    "kind": res.kind, "apiVersion": res.api_version(),
                    "metadata": {"resourceVersion": s.rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}},
                });
                stream.first.extend(event_line("BOOKMARK", &end));
            }
        }
    }
    drop(s);
    let body = Body::from_stream(futures::stream::unfold(stream, WatchStream::next));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

// ---------------------------------------------------------------------------------------------
// OpenShift's computed resources.

/// The ImageStreamTag the real server builds from a stream (reference §2); `full` for GET (the
/// Image's fields), not for LIST (the image's name only).
fn istag_object(s: &State, stream: &Value, tag: &str, full: bool) -> Option<Value> {
    let status_tag = stream["status"]["tags"].as_array()?.iter().find(|t| t["tag"] == tag)?;
    let item = status_tag["items"].as_array()?.first()?;
    let digest = item["image"].as_str().unwrap_or_default();
    let spec_tag = stream["spec"]["tags"]
        .as_array()
        .and_then(|tags| tags.iter().find(|t| t["name"] == tag))
        .cloned()
        .unwrap_or(Value::Null);
    let image = if full {
        let images = resource_by_plural(IMAGE, "images").expect("images");
        let mut image = s
            .lookup(images, None, digest)
            .cloned()
            .unwrap_or_else(|| json!({"metadata": {"name": digest}}));
        let fields = image.as_object_mut().expect("object");
        for key in ["dockerImageManifest", "dockerImageConfig", "kind", "apiVersion"] {
            fields.remove(key);
        }
        // The pull spec follows the tag's referencePolicy: Local points at the integrated registry.
        let repository = str_at(stream, "/status/dockerImageRepository");
        let reference = if spec_tag["referencePolicy"]["type"] == "Local" && !repository.is_empty() {
            json!(format!("{repository}@{digest}"))
        } else {
            item["dockerImageReference"].clone()
        };
        fields.insert("dockerImageReference".into(), reference);
        image
    } else {
        json!({"metadata": {"name": digest}})
    };
    let mut metadata = json!({
        "name": format!("{}:{tag}", str_at(stream, "/metadata/name")),
        "namespace": str_at(stream, "/metadata/namespace"),
        "uid": stream["metadata"]["uid"],
        "resourceVersion": stream["metadata"]["resourceVersion"],
        "creationTimestamp": item["created"],
    });
    if spec_tag["annotations"].is_object() {
        metadata["annotations"] = spec_tag["annotations"].clone();
    }
    let mut istag = json!({
        "kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1", "metadata": metadata,
        "tag": spec_tag, "generation": item["generation"],
        "lookupPolicy": if stream["spec"]["lookupPolicy"].is_object() { stream["spec"]["lookupPolicy"].clone() } else { json!({"local": false}) },
        "image": image,
    });
    if status_tag["conditions"].is_array() {
        istag["conditions"] = status_tag["conditions"].clone();
    }
    Some(istag)
}

fn istag_list(s: &State, ns: Option<&str>) -> Vec<Value> {
    let streams = resource_by_plural(IMAGE, "imagestreams").expect("imagestreams");
    let mut items = Vec::new();
    for ((stream_ns, _), stream) in s.collection(streams) {
        if ns.is_some_and(|ns| ns != stream_ns) {
            continue;
        }
        for tag in stream["status"]["tags"].as_array().into_iter().flatten() {
            if let Some(istag) = istag_object(s, stream, tag["tag"].as_str().unwrap_or_default(), false) {
                items.push(istag);
            }
        }
    }
    items
}

fn imagestreamtag(
    shared: &Shared,
    ns: Option<&str>,
    name: Option<&str>,
    sub: Option<&str>,
    req: &ApiRequest,
) -> ApiResult {
    let istags = resource_by_plural(IMAGE, "imagestreamtags").expect("imagestreamtags");
    let streams = resource_by_plural(IMAGE, "imagestreams").expect("imagestreams");
    if sub.is_some() {
        return Err(ApiError::route_not_found());
    }
    let Some(name) = name else {
        return match req.method.as_str() {
            "GET" => {
                let s = shared.lock();
                let items = istag_list(&s, ns);
                ok(
                    json!({"kind": "ImageStreamTagList", "apiVersion": istags.api_version(), "metadata": {"resourceVersion": s.rv.to_string()}, "items": items}),
                )
            }
            _ => Err(ApiError::method_not_allowed()),
        };
    };
    let Some((stream_name, tag)) = name.split_once(':').filter(|(s, t)| !s.is_empty() && !t.is_empty()) else {
        return Err(ApiError::bad_request(format!(
            "\"{name}\" is an invalid imageStreamTag name: must be of the form <stream_name>:<tag>"
        )));
    };
    match req.method.as_str() {
        "GET" => {
            let s = shared.lock();
            let stream = s
                .lookup(streams, ns, stream_name)
                .ok_or_else(|| ApiError::not_found(streams, stream_name))?;
            ok(istag_object(&s, stream, tag, true).ok_or_else(|| ApiError::not_found(istags, name))?)
        }
        "DELETE" => {
            let mut s = shared.lock();
            let stream = s
                .lookup(streams, ns, stream_name)
                .cloned()
                .ok_or_else(|| ApiError::not_found(streams, stream_name))?;
            let mut updated = stream.clone();
            let mut found = false;
            for (pointer, field) in [("/spec/tags", "name"), ("/status/tags", "tag")] {
                if let Some(Value::Array(tags)) = updated.pointer_mut(pointer) {
                    let before = tags.len();
                    tags.retain(|t| t[field] != tag);
                    found |= tags.len() != before;
                }
            }
            if !found {
                return Err(ApiError::not_found(istags, name));
            }
            commit_update(&mut s, streams, &stream, updated, Part::Whole)?;
            drop(s);
            shared.changed.send_modify(|n| *n += 1);
            ok(
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": {"name": name, "group": IMAGE, "kind": "imagestreamtags"}}),
            )
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn project_request(shared: &Shared, body: &[u8]) -> ApiResult {
    let requests = resource_by_plural(PROJECT, "projectrequests").expect("projectrequests");
    let projects = resource_by_plural(PROJECT, "projects").expect("projects");
    let namespaces = resource_by_plural(CORE, "namespaces").expect("namespaces");
    let bindings = resource_by_plural(RBAC, "rolebindings").expect("rolebindings");
    let request = parse_body(requests, body)?;
    let name = str_at(&request, "/metadata/name").to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid(
            requests,
            "",
            "metadata.name",
            "Required value: name or generateName is required".into(),
        ));
    }
    let project = {
        let mut s = shared.lock();
        for prefix in ["openshift-", "kube-", "kubernetes-"] {
            if name.starts_with(prefix) {
                let message = format!(
                    "project.project.openshift.io \"{name}\" is forbidden: cannot request a project starting with \"{prefix}\""
                );
                return Err(ApiError::named(403, "Forbidden", PROJECT, "project", &name, message));
            }
        }
        if s.lookup(projects, None, &name).is_some() || s.lookup(namespaces, None, &name).is_some() {
            let message = format!("project.project.openshift.io \"{name}\" already exists");
            return Err(ApiError::named(
                409,
                "AlreadyExists",
                PROJECT,
                "project",
                &name,
                message,
            ));
        }
        let requester = s.current_user.clone();
        let annotations = json!({
            "openshift.io/display-name": request["displayName"].as_str().unwrap_or_default(),
            "openshift.io/description": request["description"].as_str().unwrap_or_default(),
            "openshift.io/requester": requester.clone(),
        });
        let object = |api_version: &str, kind: &str| {
            json!({
                "apiVersion": api_version, "kind": kind,
                "metadata": {"name": name, "annotations": annotations},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
            })
        };
        s.store(namespaces, object("v1", "Namespace"));
        let project = s.store(projects, object("project.openshift.io/v1", "Project"));
        // The default project template also makes the requester the project's admin.
        s.store(
            bindings,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "admin", "namespace": name},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"apiGroup": RBAC, "kind": "User", "name": requester}],
            }),
        );
        project
    };
    shared.changed.send_modify(|n| *n += 1);
    created(project)
}

/// Whether a bootstrap cluster role grants `verb` on `resource` (reference §3's role table).
fn role_allows(role: &str, verb: &str, resource: &str) -> bool {
    let read = matches!(verb, "get" | "list" | "watch");
    let image_resource = matches!(
        resource,
        "imagestreams"
            | "imagestreamtags"
            | "imagestreamimages"
            | "imagestreammappings"
            | "imagetags"
            | "imagestreams/secrets"
    );
    let layers = resource == "imagestreams/layers";
    match role {
        "cluster-admin" => true,
        "admin" | "registry-admin" => {
            (image_resource || matches!(resource, "serviceaccounts" | "secrets" | "rolebindings" | "roles"))
                || (layers && matches!(verb, "get" | "update"))
                || resource == "imagestreamimports" && verb == "create"
        }
        "edit" | "registry-editor" => {
            image_resource
                || matches!(resource, "serviceaccounts" | "secrets")
                || (layers && matches!(verb, "get" | "update"))
                || resource == "imagestreamimports" && verb == "create"
        }
        "view" | "registry-viewer" => (image_resource && read) || (layers && verb == "get"),
        "system:image-puller" => layers && verb == "get",
        "system:image-pusher" => layers && matches!(verb, "get" | "update"),
        "system:image-pruner" => {
            (matches!(resource, "images" | "imagestreams") && read)
                || (resource == "images" && verb == "delete")
                || (resource == "imagestreams/status" && verb == "update")
        }
        _ => false,
    }
}

fn local_resource_access_review(shared: &Shared, ns: &str, body: &[u8]) -> ApiResult {
    let reviews = resource_by_plural(AUTHORIZATION, "localresourceaccessreviews").expect("reviews");
    let review = parse_body(reviews, body)?;
    let verb = review["verb"].as_str().unwrap_or_default();
    let resource = review["resource"].as_str().unwrap_or_default();
    let s = shared.lock();
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let role_bindings = resource_by_plural(RBAC, "rolebindings").expect("rolebindings");
    let cluster_bindings = resource_by_plural(RBAC, "clusterrolebindings").expect("clusterrolebindings");
    let bindings = s
        .collection(role_bindings)
        .filter(|((bns, _), _)| bns == ns)
        .chain(s.collection(cluster_bindings))
        .map(|(_, b)| b);
    for binding in bindings {
        let role = &binding["roleRef"];
        if role["kind"] != "ClusterRole" || !role_allows(role["name"].as_str().unwrap_or_default(), verb, resource) {
            continue;
        }
        for subject in binding["subjects"].as_array().into_iter().flatten() {
            let name = subject["name"].as_str().unwrap_or_default().to_owned();
            match subject["kind"].as_str() {
                Some("User") => {
                    users.insert(name);
                }
                Some("Group") => {
                    groups.insert(name);
                }
                Some("ServiceAccount") => {
                    let sa_ns = subject["namespace"].as_str().unwrap_or(ns);
                    users.insert(format!("system:serviceaccount:{sa_ns}:{name}"));
                }
                _ => {}
            }
        }
    }
    created(json!({
        "kind": "ResourceAccessReviewResponse", "apiVersion": "authorization.openshift.io/v1",
        "namespace": ns, "users": users, "groups": groups,
        // The misspelling is the real field name ([api] authorization/v1/types.go).
        "evalutionError": "",
    }))
}

fn current_user(s: &State) -> Value {
    let name = s.current_user.clone();
    let group_res = resource_by_plural(USER, "groups").expect("groups");
    let mut groups: Vec<Value> = s
        .collection(group_res)
        .filter(|(_, g)| {
            g["users"]
                .as_array()
                .is_some_and(|u| u.iter().any(|u| u == name.as_str()))
        })
        .map(|(_, g)| g["metadata"]["name"].clone())
        .collect();
    if name == "system:admin" {
        groups.push(json!("system:masters"));
    }
    groups.push(json!("system:authenticated"));
    let users = resource_by_plural(USER, "users").expect("users");
    let mut user = s.lookup(users, None, &name).cloned().unwrap_or_else(|| {
        json!({"kind": "User", "apiVersion": "user.openshift.io/v1", "metadata": {"name": name, "creationTimestamp": null}, "identities": null})
    });
    user["groups"] = Value::Array(groups);
    user
}

fn service_account_token(shared: &Shared, ns: &str, name: &str, body: &[u8]) -> ApiResult {
    let accounts = resource_by_plural(CORE, "serviceaccounts").expect("serviceaccounts");
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let s = shared.lock();
    if s.lookup(accounts, Some(ns), name).is_none() {
        return Err(ApiError::not_found(accounts, name));
    }
    let token = s
        .sa_tokens
        .get(&(ns.to_owned(), name.to_owned()))
        .cloned()
        .unwrap_or_else(|| format!("sa-token-{ns}-{name}"));
    let seconds = request["spec"]["expirationSeconds"].as_u64().unwrap_or(3600);
    let now = now_secs();
    let audiences = if request["spec"]["audiences"].is_array() {
        request["spec"]["audiences"].clone()
    } else {
        json!([])
    };
    created(json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": rfc3339(now)},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": null},
        "status": {"token": token, "expirationTimestamp": rfc3339(now + seconds)},
    }))
}

// ---------------------------------------------------------------------------------------------
// Service proxy.

/// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

async fn proxy(
    shared: &Shared,
    parts: Parts,
    body: Bytes,
    namespace: &str,
    service: &str,
    rest: &str,
    query: &str,
) -> Response {
    let services = resource_by_plural(CORE, "services").expect("services");
    let target = shared
        .lock()
        .proxies
        .get(&(namespace.to_owned(), service.to_owned()))
        .cloned();
    let Some(target) = target else {
        return ApiError::not_found(services, service).into_response();
    };
    let mut url = target.as_str().trim_end_matches('/').to_owned();
    url.push('/');
    url.push_str(rest);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    let mut request = shared.http.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        let lower = name.as_str();
        // The API server removes Authorization once it has authenticated the caller with it.
        if hop_by_hop(lower) || matches!(lower, "host" | "content-length" | "authorization") {
            continue;
        }
        request = request.header(name.clone(), value.clone());
    }
    if !body.is_empty() || matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
        request = request.body(body.to_vec());
    }
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let message = format!("error trying to reach service: {e}");
            return ApiError::new(503, "ServiceUnavailable", message).into_response();
        }
    };
    let status = upstream.status();
    let mut headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        let lower = name.as_str();
        // Content-Length is recomputed from the body, except for HEAD where there is none.
        if hop_by_hop(lower) || (lower == "content-length" && parts.method != Method::HEAD) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let message = format!("error reading from service: {e}");
            return ApiError::new(503, "ServiceUnavailable", message).into_response();
        }
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    if parts.method == Method::HEAD && !response.headers().contains_key(header::CONTENT_LENGTH) {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    response
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// The string at a JSON pointer, "" when absent.
fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Five characters from the alphabet Kubernetes uses for generateName (no vowels, no look-alikes).
fn name_suffix(mut n: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut out = String::new();
    for _ in 0..5 {
        out.push(char::from(ALPHABET[(n % ALPHABET.len() as u64) as usize]));
        n /= ALPHABET.len() as u64;
    }
    out
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ`, the form Kubernetes timestamps take (no date crate needed).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_773_159_602), "2026-03-10T16:20:02Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn routes() {
        let Some(Route::Resource(t)) = parse_route("/api/v1/namespaces/team-a/serviceaccounts/sa/token", true) else {
            panic!("no route")
        };
        assert_eq!(
            (
                t.res.plural,
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.sub.as_deref()
            ),
            ("serviceaccounts", Some("team-a"), Some("sa"), Some("token"))
        );
        let Some(Route::Resource(t)) = parse_route("/api/v1/namespaces/team-a/status", true) else {
            panic!("no route")
        };
        assert_eq!(
            (t.res.plural, t.name.as_deref(), t.sub.as_deref()),
            ("namespaces", Some("team-a"), Some("status"))
        );
        assert!(parse_route("/apis/image.openshift.io/v1/images", false).is_none());
        assert!(parse_route("/apis/image.openshift.io/v1/imagestreams/x", true).is_none());
        let Some(Route::Resource(t)) = parse_route(
            "/apis/image.openshift.io/v1/namespaces/a/imagestreamtags/webapp%3A1.0",
            true,
        ) else {
            panic!("no route")
        };
        assert_eq!(t.name.as_deref(), Some("webapp:1.0"));
        assert_eq!(
            parse_proxy("/api/v1/namespaces/r/services/https:registry:5000/proxy/v2/"),
            Some(("r".into(), "registry".into(), "v2/".into()))
        );
        assert_eq!(
            parse_proxy("/api/v1/namespaces/r/services/registry/proxy"),
            Some(("r".into(), "registry".into(), "".into()))
        );
    }

    #[test]
    fn patches() {
        let mut doc = json!({"users": ["a"], "subjects": [{"name": "x"}, {"name": "y"}], "m": {"k": 1, "j": 2}});
        json_patch(&mut doc, &json!([{"op": "add", "path": "/users/-", "value": "b"}, {"op": "remove", "path": "/subjects/0"}, {"op": "test", "path": "/m/k", "value": 1}])).unwrap();
        assert_eq!(doc["users"], json!(["a", "b"]));
        assert_eq!(doc["subjects"], json!([{"name": "y"}]));
        assert!(json_patch(&mut doc, &json!([{"op": "replace", "path": "/nope", "value": 1}])).is_err());
        merge_patch(&mut doc, &json!({"m": {"k": null, "n": 3}, "users": ["z"]}));
        assert_eq!(doc["m"], json!({"j": 2, "n": 3}));
        assert_eq!(doc["users"], json!(["z"]));
    }
}
