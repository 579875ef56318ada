//! Writes: create, replace, patch, delete and delete-collection of stored kinds.
//!
//! Carries the server-side rules clients can see: generateName, AlreadyExists, optimistic
//! concurrency on resourceVersion, status subresources, generation bumps, immutable roleRef,
//! delete preconditions, and namespace deletion taking its contents along. The computed kinds
//! (`computed`) reuse [`commit_update`] so their changes are recorded like any other write.

use super::errors::{ApiError, ApiResult, created, ok, success};
use super::helpers::{list_item, name_suffix, str_at};
use super::patches::{json_patch, merge_patch};
use super::recording::ApiRequest;
use super::resources::{CORE, IMAGE, INTERNAL_REGISTRY, NAMESPACE_NAME_LABEL, PROJECT, RBAC, Resource};
use super::selectors::Filter;
use super::store::{ObjKey, Shared, State};
use serde_json::Value;
use serde_json::json;

pub(super) fn parse_body(res: &Resource, body: &[u8]) -> std::result::Result<Value, ApiError> {
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

pub(super) fn create(shared: &Shared, res: &'static Resource, ns: Option<&str>, body: &[u8]) -> ApiResult {
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
        let name = str_at(object, "/metadata/name").to_owned();
        object["metadata"]["labels"][NAMESPACE_NAME_LABEL] = json!(name);
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
pub(super) enum Part {
    /// The main resource: everything but the status, for kinds with a status subresource.
    Main,
    /// The status subresource: the status only.
    Status,
    /// Server-internal updates (deleting an ImageStreamTag): spec and status together.
    Whole,
}

/// The checks and carry-overs every update (PUT, PATCH, status) shares; stores the result.
pub(super) fn commit_update(
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

pub(super) fn replace(
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

pub(super) fn patch(
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

pub(super) fn delete(shared: &Shared, res: &'static Resource, ns: Option<&str>, name: &str, body: &[u8]) -> ApiResult {
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

pub(super) fn delete_collection(
    shared: &Shared,
    res: &'static Resource,
    ns: Option<&str>,
    req: &ApiRequest,
) -> ApiResult {
    let filter = Filter::parse(res, req)?;
    let deleted: Vec<Value> = shared.write(|s| {
        let names: Vec<ObjKey> = s
            .collection(res)
            .filter(|(k, v)| ns.is_none_or(|ns| k.0 == ns) && filter.matches(v))
            .map(|(k, _)| k.clone())
            .collect();
        names
            .into_iter()
            .filter_map(|(ns, name)| s.delete(res, Some(&ns), &name).map(list_item))
            .collect()
    });
    let s = shared.lock();
    ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {"resourceVersion": s.rv.to_string()}, "items": deleted}),
    )
}
