//! Machine endpoints: `/healthz` (the process is up) and `/readyz` (the registry answers, and
//! Regent is not shutting down: after SIGTERM it answers 503 at once, see `shutdown`).
//!
//! `readyz` asks the registry's `/v2/` on every call, so a load balancer or an operator sees
//! the same thing the Images page would, with the same words. Anyone gets the status; the
//! details (registry URL, index counts, the cluster's identity and watches) only an
//! administrator's session or a request from this machine itself (`127.0.0.1` / `::1` as the
//! TCP peer, not through a proxy: see the domain's `access::Client`).

use axum::Json;
use axum::http::StatusCode;
use regent_app::state::{AppState, Cluster};
use regent_domain::access::Client;
use serde_json::{Value, json};

/// Told to those who get no details.
const DETAILS_FOR: &str = "sign in as an administrator, or ask from the server itself, for the details";

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the registry answers; the body also tells how far the index is and, on
/// OpenShift, what the cluster watches report.
pub async fn readyz(
    state: AppState,
    cluster: Option<Cluster>,
    lifecycle: crate::shutdown::Lifecycle,
    client: Client,
    session: tower_sessions::Session,
) -> (StatusCode, Json<Value>) {
    if lifecycle.stopping() {
        // SIGTERM: out of the Service at once, while running requests finish.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting down", "in_flight": lifecycle.in_flight()})),
        );
    }
    let index = state.index.clone();
    let detailed = client.local
        || regent_app::session::viewer_of(&state, &session)
            .await
            .is_ok_and(|v| v.admin);
    if !detailed {
        return match index.registry().check().await {
            Ok(_) => (StatusCode::OK, Json(json!({"status": "ready"}))),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "registry unavailable", "details": DETAILS_FOR})),
            ),
        };
    }
    let url = index.registry().url().to_string();
    let status = index.status();
    let (repositories, tags) = {
        let data = index.read();
        (data.repository_count(), data.tag_count())
    };
    let index_json = json!({
        "complete": status.complete,
        "crawling": status.crawling,
        "repositories": repositories,
        "tags": tags,
        "last_success": status.last_success.map(httpdate::fmt_http_date),
        "restored_from": status.restored_from.map(httpdate::fmt_http_date),
        "crawl_error": status.crawl_error.as_ref().map(ToString::to_string),
    });
    let openshift = cluster.map(|c| {
        let s = c.openshift.status();
        json!({
            "api": s.api_url,
            "detected": s.seen,
            "connected": s.detection == regent_domain::openshift::Detection::OpenShift,
            "synced": c.openshift.synced(),
            "identity": s.identity,
            "identity_problem": s.identity_problem,
            "registry": c.registry.as_ref().map(|(how, _)| how).ok(),
            "registry_problem": c.registry.as_ref().err(),
            "watches": s.caches.iter().map(|w| json!({"kind": w.kind, "listed": w.listed, "objects": w.objects, "error": w.error, "refused": w.refused})).collect::<Vec<_>>(),
        })
    });
    let directory = match state.sign_ins.directory() {
        None => None,
        Some(directory) => {
            let answered = directory.probe().await;
            let s = directory.status();
            Some(json!({
                "url": s.url,
                "reachable": answered.is_ok(),
                "error": answered.err().map(|e| e.to_string()),
                "last_error": s.last_error.map(|(_, message)| message),
                "open_connections": s.open_connections,
                "pool_size": s.pool_size,
            }))
        }
    };
    match index.registry().check().await {
        Ok(_) => (
            StatusCode::OK,
            Json(
                json!({"status": "ready", "registry": url, "index": index_json, "openshift": openshift, "directory": directory}),
            ),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "registry unavailable", "registry": url, "error": e.to_string(), "hint": e.hint(), "index": index_json, "openshift": openshift, "directory": directory}),
            ),
        ),
    }
}
