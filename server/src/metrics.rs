//! `GET /metrics`: Regent's counters in the Prometheus text format, for whoever runs it.
//!
//! The `metrics` facade is used everywhere (the domain counts registry requests, crawls and
//! audit writes without knowing who reads them); this module installs the Prometheus recorder
//! from `metrics-exporter-prometheus`, times every HTTP request by its matched route template
//! (never the raw path, so a repository name never becomes a label), and, at each scrape,
//! reads the gauges that are cheaper to look at than to keep current: index sizes, crawl
//! progress and the notification queue. docs/metrics.md lists every series.
//!
//! Where it is served: on `metrics.listen` to anyone who can reach that address, when it is
//! set; otherwise on the main address, only to administrators and to this machine itself (the
//! same rule as `/readyz`'s details).

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use regent_app::state::AppState;
use std::time::{Duration, Instant};

/// Request latencies: 1 ms to 30 s.
const REQUEST_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Whole crawls: a second to an hour and more.
const CRAWL_BUCKETS: &[f64] = &[0.1, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0];

/// Installs the process-wide recorder (once, at start-up) and keeps its histograms compact.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("request_duration_seconds".into()), REQUEST_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("regent_index_crawl_duration_seconds".into()),
                CRAWL_BUCKETS,
            )
        })
        .map_err(|e| format!("metrics: {e}"))?
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Counts and times one HTTP request under its route template, method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "(no route: static file or not found)".to_owned(),
        |p| p.as_str().to_owned(),
    );
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("regent_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("regent_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The text exposition, after refreshing the gauges read from the index.
pub fn render(handle: &PrometheusHandle, state: &AppState) -> Response {
    let index = &state.index;
    let status = index.status();
    {
        let data = index.read();
        metrics::gauge!("regent_index_repositories").set(data.repository_count() as f64);
        metrics::gauge!("regent_index_tags").set(data.tag_count() as f64);
        metrics::gauge!("regent_index_manifests").set(data.manifest_count() as f64);
    }
    metrics::gauge!("regent_index_complete").set(f64::from(u8::from(status.complete)));
    metrics::gauge!("regent_index_crawling").set(f64::from(u8::from(status.crawling)));
    metrics::gauge!("regent_index_crawl_repositories_done").set(status.repositories_done as f64);
    metrics::gauge!("regent_index_crawl_repositories_known").set(status.repositories_known as f64);
    metrics::gauge!("regent_index_crawl_manifests_done").set(status.manifests_done as f64);
    metrics::gauge!("regent_index_crawl_manifests_known").set(status.manifests_known as f64);
    metrics::gauge!("regent_index_last_success_timestamp_seconds").set(status.last_success.map_or(0.0, |t| {
        t.duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    }));
    metrics::gauge!("regent_notification_queue_depth").set(index.pending_events() as f64);
    handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// The main address's `/metrics`: for administrators and this machine only.
pub async fn on_main_address(
    handle: PrometheusHandle,
    state: AppState,
    client: regent_domain::access::Client,
    session: tower_sessions::Session,
) -> Response {
    let allowed = client.local
        || regent_app::session::viewer_of(&state, &session)
            .await
            .is_ok_and(|v| v.admin);
    if !allowed {
        return (
            StatusCode::FORBIDDEN,
            "metrics are for administrators and for requests from this machine; or set metrics.listen \
             (REGENT_METRICS_LISTEN) to serve them on an address of their own\n",
        )
            .into_response();
    }
    render(&handle, &state)
}
