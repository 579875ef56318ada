//! What the server records of each request, for tests to assert the calls the product made.
//!
//! `routing::handle` records every request before anything else happens to it (401 and 403
//! answers included); `OpenShiftApi::requests` hands them out.

use axum::http::header;
use axum::http::request::Parts;
use serde_json::Value;

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

    pub(super) fn from_parts(parts: &Parts, body: &[u8]) -> Self {
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
