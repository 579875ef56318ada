//! Works out each request's client once, before any handler runs: the peer address, or behind
//! a proxy listed in `trusted_proxies` the address it forwarded (see the domain's
//! `access::Client`). Handlers and server functions read it from the request's extensions, so
//! the throttle, the audit log and `/readyz` all see the same client.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use regent_domain::access::TrustedProxies;
use std::net::SocketAddr;
use std::sync::Arc;

static FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

pub async fn identify(State(proxies): State<Arc<TrustedProxies>>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let headers = request.headers();
    let forwarded_for = headers.get_all(&FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok());
    let proto = headers.get(&FORWARDED_PROTO).and_then(|v| v.to_str().ok());
    let client = proxies.client(peer, forwarded_for, proto);
    request.extensions_mut().insert(client);
    next.run(request).await
}
