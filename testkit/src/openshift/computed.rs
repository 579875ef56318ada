//! OpenShift's computed and create-only resources: ImageStreamTags, ProjectRequests,
//! LocalResourceAccessReviews, `users/~` and service-account TokenRequests.
//!
//! None of these is stored: each answer is built from stored objects (image streams and images;
//! role bindings) as the real openshift-apiserver builds it. The access review's role table
//! ([`role_allows`]) is also the referee of Regent's "who can pull" answers.

use super::errors::{ApiError, ApiResult, created, ok};
use super::helpers::{now_secs, rfc3339, str_at};
use super::recording::ApiRequest;
use super::resources::{AUTHORIZATION, CORE, IMAGE, PROJECT, RBAC, USER, resource_by_plural};
use super::store::{Shared, State};
use super::writes::{Part, commit_update, parse_body};
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeSet;

/// The ImageStreamTag the real server builds from a stream (reference §2); `full` for GET (the
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

pub(super) fn local_resource_access_review(shared: &Shared, ns: &str, body: &[u8]) -> ApiResult {
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
