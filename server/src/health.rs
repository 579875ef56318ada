//! Machine endpoints: `/healthz` (the process is up) and `/readyz` (the registry answers).
//!
//! `readyz` asks the registry's `/v2/` on every call, so a load balancer or an operator sees
//! the same thing the Images page would, with the same words.

use axum::Json;
use axum::http::StatusCode;
use regent_domain::registry::RegistryClient;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(registry: Arc<RegistryClient>) -> (StatusCode, Json<Value>) {
    let url = registry.url().to_string();
    match registry.check().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ready", "registry": url}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "registry unavailable", "registry": url, "error": e.to_string(), "hint": e.hint()})),
        ),
    }
}
