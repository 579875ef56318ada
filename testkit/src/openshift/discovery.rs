//! Discovery: `/version`, `/api`, `/apis`, a group and its resource list.
//!
//! This is how kube (and Regent's cluster detection) finds out which groups exist, so the
//! OpenShift groups appear here only while the server serves them (`serve_openshift`).

use super::resources::{CORE, RESOURCES, VERSION, group_served};
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeSet;

pub(super) fn version_info() -> Value {
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

pub(super) fn api_group_list(openshift: bool) -> Value {
    let groups: BTreeSet<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty() && group_served(g, openshift))
        .collect();
    let groups: Vec<Value> = groups.into_iter().map(group_entry).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(super) fn api_group(group: &str) -> Value {
    let mut g = group_entry(group);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

pub(super) fn api_resource_list(group: &str) -> Value {
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
