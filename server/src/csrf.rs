//! Cross-site request forgery: a page on another site must not be able to make a signed-in
//! browser change anything here.
//!
//! Two layers. The session cookie is `SameSite=Strict`, so a browser does not send it with a
//! request that another site starts. And every state-changing request (anything but GET,
//! HEAD, OPTIONS) whose `Origin` (or, without one, `Referer`) names another host than the
//! one it was sent to is refused with 403 before it reaches a server function. Machine
//! clients that send neither header carry no browser cookies and are unaffected.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match foreign_origin(request.headers()) {
        None => next.run(request).await,
        Some(origin) => {
            tracing::warn!(%origin, path = %request.uri().path(), "refused a cross-site request");
            (
                StatusCode::FORBIDDEN,
                format!(
                    "Refused: this request came from a page on {origin}, not from Regent itself. \
                     Open Regent directly and try again."
                ),
            )
                .into_response()
        }
    }
}

/// The other site a request came from, if it came from one.
fn foreign_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?.to_ascii_lowercase();
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))?
        .to_str()
        .ok()?;
    let from = url::Url::parse(source)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| source.to_owned())
        .to_ascii_lowercase();
    (from != host).then_some(from)
}

#[cfg(test)]
mod tests {
    use super::foreign_origin;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn requests_from_other_sites_are_recognised() {
        let own = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "http://127.0.0.1:8080"),
        ]);
        assert_eq!(foreign_origin(&own), None);
        let evil = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::ORIGIN, "https://evil.example"),
        ]);
        assert_eq!(foreign_origin(&evil).as_deref(), Some("evil.example"));
        let other_port = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::REFERER, "http://127.0.0.1:9999/x"),
        ]);
        assert!(foreign_origin(&other_port).is_some());
        let opaque = headers(&[(header::HOST, "127.0.0.1:8080"), (header::ORIGIN, "null")]);
        assert!(
            foreign_origin(&opaque).is_some(),
            "a sandboxed page's null origin is foreign"
        );
        let machine = headers(&[(header::HOST, "127.0.0.1:8080")]);
        assert_eq!(foreign_origin(&machine), None);
    }
}
