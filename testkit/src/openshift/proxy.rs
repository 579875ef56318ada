//! The API server's service proxy, `/api/v1/namespaces/{ns}/services/{name}/proxy/...`.
//!
//! Regent reaches the integrated registry through it when it runs outside the cluster; here it
//! forwards to a real upstream registry set with `OpenShiftApi::proxy_service`, dropping the
//! `Authorization` header and hop-by-hop headers as the real proxy does.

use super::errors::ApiError;
use super::resources::{CORE, resource_by_plural};
use super::store::Shared;
use axum::body::Body;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::response::Response;

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

pub(super) async fn proxy(
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
