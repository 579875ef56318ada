//! Routing: from a request's path to a [`Route`], then to the handler for it.
//!
//! [`handle`] is the server's only axum handler. It records the request, applies the test's
//! switches (required token, forbidden and unserved prefixes), sends service-proxy paths to
//! `proxy`, watches to `watches` and everything else through [`dispatch`] to discovery, reads,
//! writes or the computed OpenShift kinds.

use super::computed::{
    current_user, imagestreamtag, local_resource_access_review, project_request, service_account_token,
    subject_access_review,
};
use super::discovery::{api_group, api_group_list, api_resource_list, version_info};
use super::errors::{ApiError, ApiResult, ok};
use super::helpers::percent_decode;
use super::proxy::proxy;
use super::reads::list;
use super::recording::ApiRequest;
use super::resources::{
    AUTHORIZATION, CORE, IMAGE, PROJECT, RESOURCES, Resource, USER, VERSION, group_served, resource_by_plural,
};
use super::store::Shared;
use super::watches::start_watch;
use super::writes::{Part, create, delete, delete_collection, patch, replace};
use axum::extract::Request;
use axum::extract::State as AxState;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// Request bodies are buffered whole; blobs pushed through the service proxy are the big ones.
const MAX_BODY: usize = 512 * 1024 * 1024;
enum Route {
    Version,
    Api,
    Apis,
    Group(&'static str),
    ResourceList(&'static str),
    Resource(Target),
}

pub(super) struct Target {
    pub(super) res: &'static Resource,
    pub(super) namespace: Option<String>,
    pub(super) name: Option<String>,
    pub(super) sub: Option<String>,
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

pub(super) async fn handle(AxState(shared): AxState<Arc<Shared>>, request: Request) -> Response {
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
    if res.is(AUTHORIZATION, "subjectaccessreviews") {
        return match (method, &name) {
            ("POST", None) => subject_access_review(shared, body),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
