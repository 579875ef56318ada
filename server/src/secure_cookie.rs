//! The session cookie is `Secure` whenever the user reached Regent over HTTPS: always when
//! `public_url` is `https://…` (or `session.secure_cookie` is set; the session layer does
//! that), and per request when a trusted proxy says `X-Forwarded-Proto: https`. A browser then
//! never sends the session id over plain HTTP, where anyone on the way could read it.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use regent_domain::access::Client;

/// The session cookie's name.
pub const COOKIE: &str = "regent_session";

pub async fn mark(request: Request, next: Next) -> Response {
    let https = request.extensions().get::<Client>().is_some_and(|c| c.https);
    let mut response = next.run(request).await;
    if !https {
        return response;
    }
    let cookies: Vec<HeaderValue> = response
        .headers_mut()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| match value.to_str() {
            Ok(text) if is_session(text) && !secure(text) => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or_else(|_| value.clone())
            }
            _ => value.clone(),
        })
        .collect();
    response.headers_mut().remove(header::SET_COOKIE);
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn is_session(cookie: &str) -> bool {
    cookie.split_once('=').is_some_and(|(name, _)| name.trim() == COOKIE)
}

fn secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
}
