//! `POST /api/registry/events`: the registry's notifications, keeping the index live.
//!
//! The registry is configured (`notifications.endpoints`) to send `Authorization: Bearer
//! <secret>`; anything without the configured secret gets 401 and changes nothing. Envelopes
//! are queued for the index and answered at once, so a slow registry read never makes the
//! registry's notification queue back up.

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use regent_domain::index::CatalogIndex;
use regent_domain::index::events::Envelope;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn receive(
    index: Arc<CatalogIndex>,
    secret: Option<Arc<str>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let Some(secret) = secret else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"error": "notifications are not configured in Regent; set notifications.secret \
                                   (REGENT_NOTIFICATIONS_SECRET) and send it as Authorization: Bearer <secret>"}),
            ),
        );
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same_secret(presented.as_bytes(), secret.as_bytes()) {
        tracing::warn!("refused a registry notification without the configured secret");
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": "missing or wrong secret; the registry must send Authorization: Bearer <notifications.secret>"}),
            ),
        );
    }
    match serde_json::from_slice::<Envelope>(&body) {
        Ok(envelope) => {
            let queued = index.submit(&envelope);
            (StatusCode::OK, Json(json!({"queued": queued})))
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("not a registry notification envelope ({{\"events\": [...]}}): {e}")})),
        ),
    }
}

/// Compares without stopping at the first differing byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        assert!(super::same_secret(b"abc", b"abc"));
        assert!(!super::same_secret(b"abc", b"abd"));
        assert!(!super::same_secret(b"abc", b"abcd"));
        assert!(!super::same_secret(b"", b"abc"));
    }
}
