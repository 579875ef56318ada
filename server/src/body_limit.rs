//! Request bodies have an explicit size limit on every route: 64 KiB for forms and server
//! functions (a sign-in form is a few hundred bytes), 2 MiB for the registry's notifications.
//!
//! `tower-http`'s `RequestBodyLimitLayer` refuses a declared `Content-Length` over the limit
//! with 413 before reading anything, and cuts off a chunked body that runs past it. Server
//! functions read their body themselves and would answer that cut as a 500, so [`read_whole`]
//! reads every body (up to the limit, so memory stays flat) before the handler runs and
//! answers 413 itself, the same for every route.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;

/// Forms and server functions.
pub const FORMS: usize = 64 * 1024;
/// `POST /api/registry/events`: a batch of notifications.
pub const NOTIFICATIONS: usize = 2 * 1024 * 1024;

/// The limit as a layer (outer) for [`read_whole`] (inner) to enforce.
pub fn layer(limit: usize) -> RequestBodyLimitLayer {
    RequestBodyLimitLayer::new(limit)
}

/// Reads the (already limited) body before the handler runs; 413 if it is too long.
pub async fn read_whole(request: Request, next: Next) -> Response {
    // Most requests (every GET, a token request) have no body: nothing to read. (HTTP/1 only:
    // an HTTP/2 body needs neither header.)
    let headers = request.headers();
    let bodiless = request.version() <= Version::HTTP_11
        && !headers.contains_key(header::TRANSFER_ENCODING)
        && headers.get(header::CONTENT_LENGTH).is_none_or(|l| l.as_bytes() == b"0");
    if bodiless {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) if too_long(&e) => {
            tracing::warn!(path = %parts.uri.path(), "refused a request body over the limit");
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Refused: the request body is larger than this address accepts (64 KiB for forms and \
                 token requests, 2 MiB for registry notifications). Send less.",
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("Refused: the request body could not be read ({e}); send it again."),
        )
            .into_response(),
    }
}

fn too_long(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}
