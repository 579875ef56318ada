//! The server's state: every object as JSON, one global resourceVersion counter and the
//! history of watch events.
//!
//! All reads and writes, from the HTTP handlers and from the test-side `OpenShiftApi` methods,
//! go through [`Shared`]'s lock; `Shared::write` also wakes the open watch streams (`watches`).
//! The history is what lets watches resume from a resourceVersion and what `expire_watches`
//! compacts, as etcd does.

use super::helpers::{now_secs, rfc3339, str_at};
use super::recording::ApiRequest;
use super::resources::{CORE, PROJECT, RESOURCES, Resource, resource_by_plural};
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::MutexGuard;
use tokio::sync::watch;
use url::Url;

/// (group, plural): one collection in the store and in the watch history.
pub(super) type Key = (&'static str, &'static str);
/// (namespace or "" for cluster-scoped kinds, name): sorts as lists must.
pub(super) type ObjKey = (String, String);

pub(super) struct Event {
    pub(super) rv: u64,
    pub(super) key: Key,
    pub(super) namespace: String,
    pub(super) kind: &'static str,
    pub(super) object: Value,
    /// The object before a MODIFIED event, so selector watches can turn it into ADDED/DELETED.
    pub(super) old: Option<Value>,
}

pub(super) struct State {
    pub(super) openshift: bool,
    pub(super) rv: u64,
    pub(super) uids: u64,
    pub(super) uid_seed: u32,
    pub(super) objects: HashMap<Key, BTreeMap<ObjKey, Value>>,
    pub(super) history: Vec<Event>,
    /// Watches and continue tokens older than this answer 410 Expired.
    pub(super) compacted: u64,
    /// Bumped by `expire_watches`; an open watch that sees it change ends with 410.
    pub(super) expirations: u64,
    pub(super) requests: Vec<ApiRequest>,
    pub(super) token: Option<String>,
    pub(super) forbidden: Vec<(String, String)>,
    /// Path prefixes answered 404, as for kinds a server does not serve.
    pub(super) unserved: Vec<String>,
    pub(super) proxies: HashMap<(String, String), Url>,
    pub(super) current_user: String,
    pub(super) sa_tokens: HashMap<(String, String), String>,
}

impl State {
    pub(super) fn collection(&self, res: &Resource) -> impl Iterator<Item = (&ObjKey, &Value)> {
        self.objects.get(&res.key()).into_iter().flatten()
    }

    pub(super) fn lookup(&self, res: &Resource, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&res.key())?.get(&obj_key(res, namespace, name))
    }

    fn next_uid(&mut self) -> String {
        self.uids += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", self.uid_seed, self.uids)
    }

    /// Inserts or replaces, giving the object a new resourceVersion (every write does, or watches
    /// resuming from a resourceVersion would miss it), and records ADDED or MODIFIED.
    pub(super) fn store(&mut self, res: &'static Resource, mut object: Value) -> Value {
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
    pub(super) fn delete(&mut self, res: &'static Resource, namespace: Option<&str>, name: &str) -> Option<Value> {
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
    pub(super) fn delete_namespace(&mut self, name: &str) {
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

pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Bumped after every change; watch streams wait on it instead of polling.
    pub(super) changed: watch::Sender<u64>,
    pub(super) http: reqwest::Client,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later request down with it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a change under the lock, then wakes the watch streams.
    pub(super) fn write<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let result = change(&mut self.lock());
        self.changed.send_modify(|n| *n += 1);
        result
    }
}
