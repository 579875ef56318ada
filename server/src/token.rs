//! `GET|POST /auth/token` and `GET /auth/certs.pem`: Regent as the registry's token service.
//!
//! This module only speaks HTTP: it reads the query (`service`, `account`, repeated `scope`,
//! `offline_token`) with HTTP Basic credentials, or the OAuth2 form `docker login` posts
//! (`grant_type=password|refresh_token`), hands them to the domain's `TokenService`, and
//! writes the Docker token response, a 401 for wrong credentials, or a 400 saying what is
//! malformed. A request that asks for more than the caller may do is not an error: the token
//! carries what is allowed, and the registry refuses the rest.

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regent_domain::token::{TokenError, TokenRequest, TokenService, rfc3339};
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;

/// The longest query string looked at.
const MAX_QUERY: usize = 64 * 1024;

pub async fn token(service: Arc<TokenService>, address: IpAddr, uri: Uri, headers: HeaderMap) -> Response {
    answer(&service, address, parse(uri.query().unwrap_or_default(), &headers)).await
}

/// The OAuth2 form: `grant_type=password` with `username` and `password`, or
/// `grant_type=refresh_token` with `refresh_token`; `access_type=offline` asks for a refresh
/// token; `scope` is space-separated.
pub async fn token_form(service: Arc<TokenService>, address: IpAddr, body: Bytes) -> Response {
    answer(&service, address, parse_form(&body)).await
}

/// The response to a parsed request, or the 400 for one that did not parse.
async fn answer(service: &TokenService, address: IpAddr, parsed: Result<TokenRequest, String>) -> Response {
    // Metrics (issue 19): tokens by outcome, with how long each answer took.
    let started = std::time::Instant::now();
    let response = answer_untimed(service, address, parsed).await;
    let outcome = match response.status() {
        StatusCode::OK => "issued",
        StatusCode::UNAUTHORIZED => "refused",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::SERVICE_UNAVAILABLE => "busy",
        StatusCode::BAD_REQUEST => "bad_request",
        _ => "error",
    };
    metrics::counter!("regent_tokens_total", "outcome" => outcome).increment(1);
    metrics::histogram!("regent_token_request_duration_seconds", "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn answer_untimed(service: &TokenService, address: IpAddr, parsed: Result<TokenRequest, String>) -> Response {
    let request = match parsed {
        Ok(r) => TokenRequest {
            address: address.to_string(),
            ..r
        },
        Err(message) => return error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", &message),
    };
    match service.issue(&request).await {
        Ok(issued) => {
            let mut body = json!({
                "token": issued.minted.token,
                "access_token": issued.minted.token,
                "expires_in": issued.minted.expires_in.as_secs(),
                "issued_at": rfc3339(issued.minted.issued_at),
            });
            if let Some(refresh) = issued.refresh_token {
                body["refresh_token"] = json!(refresh);
            }
            (
                [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                Json(body),
            )
                .into_response()
        }
        Err(TokenError::BadRequest(message)) => error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", &message),
        Err(TokenError::Unauthorized(message)) => {
            let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &message);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Regent registry tokens\""),
            );
            response
        }
        Err(e @ TokenError::Throttled(wait)) => retry_after(
            error(StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", &e.to_string()),
            wait,
        ),
        Err(e @ TokenError::Busy(wait)) => retry_after(
            error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", &e.to_string()),
            wait,
        ),
        Err(TokenError::DirectoryDown(message)) => error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", &message),
        Err(TokenError::Internal(message)) => {
            tracing::error!(%message, "issuing a registry token failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "Regent could not issue a token; its log says why",
            )
        }
    }
}

/// The certificates the registry must trust: its `auth.token.rootcertbundle`.
pub async fn certs(service: Arc<TokenService>) -> Response {
    match service.bundle_pem().await {
        Ok(bundle) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"))],
            bundle.to_string(),
        )
            .into_response(),
        Err(message) => {
            tracing::error!(%message, "reading the signing certificates failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "Regent could not read its signing certificates; its log says why",
            )
        }
    }
}

fn parse(query: &str, headers: &HeaderMap) -> Result<TokenRequest, String> {
    if query.len() > MAX_QUERY {
        return Err(format!("the query is longer than {MAX_QUERY} bytes"));
    }
    let mut request = TokenRequest::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
            return Err("the query is not valid UTF-8 once decoded".into());
        }
        let once = |slot: &mut Option<String>, name: &str| {
            if slot.replace(value.to_string()).is_some() {
                return Err(format!("\"{name}\" is given twice; give it once"));
            }
            Ok(())
        };
        match key.as_ref() {
            "service" => once(&mut request.service, "service")?,
            "account" => once(&mut request.account, "account")?,
            "scope" => request.scopes.push(value.into_owned()),
            "offline_token" => request.offline = value == "true",
            // `client_id` and anything else a client adds change nothing.
            _ => {}
        }
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| "the Authorization header is not text".to_owned())?;
        let encoded = value
            .strip_prefix("Basic ")
            .ok_or_else(|| "send a user name and password as HTTP Basic credentials, or none".to_owned())?;
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| "the Basic credentials are not base64 of UTF-8 text".to_owned())?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| "the Basic credentials lack the \":\" between user name and password".to_owned())?;
        request.basic = Some((user.to_owned(), password.to_owned()));
    }
    Ok(request)
}

fn parse_form(body: &[u8]) -> Result<TokenRequest, String> {
    if body.len() > MAX_QUERY {
        return Err(format!("the form is longer than {MAX_QUERY} bytes"));
    }
    let mut fields = std::collections::HashMap::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if key.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
            return Err("the form is not valid UTF-8 once decoded".into());
        }
        if fields.insert(key.to_string(), value.to_string()).is_some() {
            return Err(format!(
                "\"{}\" is given twice; give it once",
                key.chars().take(40).collect::<String>()
            ));
        }
    }
    let mut take = |name: &str| fields.remove(name);
    let mut request = TokenRequest {
        service: take("service"),
        scopes: take("scope").into_iter().collect(),
        offline: take("access_type").as_deref() == Some("offline"),
        ..TokenRequest::default()
    };
    match take("grant_type").as_deref() {
        Some("password") => {
            let (Some(user), Some(password)) = (take("username"), take("password")) else {
                return Err("grant_type=password needs username and password".into());
            };
            request.basic = Some((user, password));
        }
        Some("refresh_token") => {
            request.refresh_token =
                Some(take("refresh_token").ok_or_else(|| "grant_type=refresh_token needs refresh_token".to_owned())?);
        }
        Some(other) => {
            return Err(format!(
                "grant_type \"{}\" is not supported; use password or refresh_token",
                other.chars().take(40).collect::<String>()
            ));
        }
        None => return Err("grant_type is missing; use password or refresh_token".into()),
    }
    Ok(request)
}

fn retry_after(mut response: Response, wait: std::time::Duration) -> Response {
    if let Ok(seconds) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"errors": [{"code": code, "message": message}]}))).into_response()
}
