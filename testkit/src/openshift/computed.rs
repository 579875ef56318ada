//! OpenShift's computed and create-only resources: ImageStreamTags, ProjectRequests,
//! LocalResourceAccessReviews, SubjectAccessReviews, `users/~` and service-account TokenRequests.
//!
//! None of these is stored: each answer is built from stored objects (image streams and images;
//! role bindings) as the real openshift-apiserver builds it. The access review's role table
//! ([`role_allows`]) is also the referee of Regent's "who can pull" answers, and
//! `testkit/tests/openshift_referee.rs` checks these answers against fixtures of the real API
//! (`testkit/fixtures/openshift/referee/`, described in docs/openshift-api.md).

use super::errors::{ApiError, ApiResult, created, ok};
use super::helpers::{list_item, now_secs, rfc3339, str_at};
use super::recording::ApiRequest;
use super::resources::{AUTHORIZATION, CORE, IMAGE, NAMESPACE_NAME_LABEL, PROJECT, RBAC, USER, resource_by_plural};
use super::store::{Shared, State};
use super::writes::{Part, commit_update, parse_body};
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeSet;

/// The ImageStreamTag the real server builds from a stream (docs/openshift-api.md); `full` for GET (the
/// Image's fields), not for LIST (the image's name only).
pub(super) fn istag_object(s: &State, stream: &Value, tag: &str, full: bool) -> Option<Value> {
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

pub(super) fn istag_list(s: &State, ns: Option<&str>) -> Vec<Value> {
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

pub(super) fn imagestreamtag(
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
                let items: Vec<Value> = istag_list(&s, ns).into_iter().map(list_item).collect();
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

pub(super) fn project_request(shared: &Shared, body: &[u8]) -> ApiResult {
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
                "metadata": {"name": name, "annotations": annotations, "labels": {NAMESPACE_NAME_LABEL: name}},
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

/// Whether a bootstrap cluster role grants `verb` on `resource` (docs/openshift-api.md, "The roles a project starts with"; docs/openshift-rbac.md).
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
        // What each project's `system:image-builders` binding grants its `builder` service account.
        "system:image-builder" => layers && matches!(verb, "get" | "update"),
        "system:image-pruner" => {
            (matches!(resource, "images" | "imagestreams") && read)
                || (resource == "images" && verb == "delete")
                || (resource == "imagestreams/status" && verb == "update")
        }
        _ => false,
    }
}

/// The bindings that count in `ns` (every ClusterRoleBinding, then the namespace's RoleBindings,
/// the order RBAC visits them in), with the name RBAC's reasons describe each by.
fn bindings_in<'a>(s: &'a State, ns: &'a str) -> impl Iterator<Item = (String, &'a Value)> + 'a {
    let role_bindings = resource_by_plural(RBAC, "rolebindings").expect("rolebindings");
    let cluster_bindings = resource_by_plural(RBAC, "clusterrolebindings").expect("clusterrolebindings");
    let cluster = s
        .collection(cluster_bindings)
        .map(|((_, name), b)| (format!("ClusterRoleBinding \"{name}\""), b));
    let local = s
        .collection(role_bindings)
        .filter(move |((bns, _), _)| !ns.is_empty() && bns == ns)
        .map(|((bns, name), b)| (format!("RoleBinding \"{name}/{bns}\""), b));
    cluster.chain(local)
}

/// The cluster role a binding grants, when it is one whose rules `role_allows` knows.
fn granted_role(binding: &Value) -> Option<&str> {
    let role = &binding["roleRef"];
    (role["kind"] == "ClusterRole").then(|| role["name"].as_str().unwrap_or_default())
}

/// A binding's subject as the user or group name requests carry: service accounts authenticate
/// as `system:serviceaccount:<ns>:<name>`; a subject without a namespace takes the binding's.
fn subject_name(subject: &Value, binding_ns: &str) -> Option<(&'static str, String)> {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str()? {
        "User" => Some(("User", name.to_owned())),
        "Group" => Some(("Group", name.to_owned())),
        "ServiceAccount" => {
            let ns = subject["namespace"].as_str().unwrap_or(binding_ns);
            Some(("ServiceAccount", format!("system:serviceaccount:{ns}:{name}")))
        }
        _ => None,
    }
}

pub(super) fn local_resource_access_review(shared: &Shared, ns: &str, body: &[u8]) -> ApiResult {
    let reviews = resource_by_plural(AUTHORIZATION, "localresourceaccessreviews").expect("reviews");
    let review = parse_body(reviews, body)?;
    let verb = review["verb"].as_str().unwrap_or_default();
    let resource = review["resource"].as_str().unwrap_or_default();
    let s = shared.lock();
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for (_, binding) in bindings_in(&s, ns) {
        if !granted_role(binding).is_some_and(|role| role_allows(role, verb, resource)) {
            continue;
        }
        for subject in binding["subjects"].as_array().into_iter().flatten() {
            match subject_name(subject, ns) {
                Some(("Group", name)) => groups.insert(name),
                Some((_, name)) => users.insert(name),
                None => false,
            };
        }
    }
    created(json!({
        "kind": "ResourceAccessReviewResponse", "apiVersion": "authorization.openshift.io/v1",
        "namespace": ns, "users": users, "groups": groups,
        // The misspelling is the real field name (openshift/api authorization/v1/types.go).
        "evalutionError": "",
    }))
}

/// `POST /apis/authorization.openshift.io/v1/subjectaccessreviews`: may this user (or these
/// groups) do `verb` on `resource` in the review's namespace? Answered as Kubernetes RBAC
/// answers: the first binding that allows it is named in `reason`; a refusal has no reason.
pub(super) fn subject_access_review(shared: &Shared, body: &[u8]) -> ApiResult {
    let reviews = resource_by_plural(AUTHORIZATION, "subjectaccessreviews").expect("reviews");
    let review = parse_body(reviews, body)?;
    let verb = review["verb"].as_str().unwrap_or_default();
    let resource = review["resource"].as_str().unwrap_or_default();
    let ns = review["namespace"].as_str().unwrap_or_default();
    let s = shared.lock();
    let given_groups: Vec<&str> = review["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    // Neither user nor groups: the review is about the caller.
    let user = match review["user"].as_str().unwrap_or_default() {
        "" if given_groups.is_empty() => s.current_user.clone(),
        user => user.to_owned(),
    };
    let mut reason = None;
    'bindings: for (described, binding) in bindings_in(&s, ns) {
        let Some(role) = granted_role(binding).filter(|role| role_allows(role, verb, resource)) else {
            continue;
        };
        let binding_ns = str_at(binding, "/metadata/namespace");
        for subject in binding["subjects"].as_array().into_iter().flatten() {
            let matches = match subject_name(subject, binding_ns) {
                Some(("Group", name)) => given_groups.contains(&name.as_str()),
                Some((_, name)) => name == user,
                None => false,
            };
            if matches {
                let name = subject["name"].as_str().unwrap_or_default();
                let who = match subject["kind"].as_str() {
                    Some("ServiceAccount") => {
                        let sa_ns = subject["namespace"].as_str().unwrap_or(binding_ns);
                        format!("ServiceAccount \"{name}/{sa_ns}\"")
                    }
                    kind => format!("{} \"{name}\"", kind.unwrap_or_default()),
                };
                reason = Some(format!(
                    "RBAC: allowed by {described} of ClusterRole \"{role}\" to {who}"
                ));
                break 'bindings;
            }
        }
    }
    let mut answer = json!({
        "kind": "SubjectAccessReviewResponse", "apiVersion": "authorization.openshift.io/v1",
        "allowed": reason.is_some(),
    });
    if !ns.is_empty() {
        answer["namespace"] = json!(ns);
    }
    if let Some(reason) = reason {
        answer["reason"] = json!(reason);
    }
    created(answer)
}

pub(super) fn current_user(s: &State) -> Value {
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

pub(super) fn service_account_token(shared: &Shared, ns: &str, name: &str, body: &[u8]) -> ApiResult {
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
