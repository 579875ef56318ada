//! A typed client for the Distribution / OCI v2 HTTP API.
//!
//! One `RegistryClient` per configured registry, shared by every request Regent serves. It
//! knows the registry's quirks recorded in `docs/registry.md`: catalog paging by
//! `Link` header with a page size the registry accepts, `tags: null`, the four manifest media
//! types that must always be sent, and digests taken from `Docker-Content-Digest`. Each
//! operation lives in its own file; authentication (basic, static bearer, and the bearer
//! challenge flow) is in `auth`.

mod auth;
mod blob;
mod catalog;
mod delete;
mod error;
mod manifest;
mod tags;

pub use auth::{Challenge, Credentials};
pub use blob::ImageConfig;
pub use catalog::{CatalogPage, MAX_CATALOG_PAGE};
pub use delete::TagDeletion;
pub use error::{OciError, OciErrorCode, RegistryError};
pub use manifest::{
    Descriptor, MANIFEST_ACCEPT, Manifest, ManifestHead, MediaType, Platform, RawManifest, pick_platform,
};

use reqwest::{Method, Response, StatusCode};
use std::time::Duration;
use url::Url;

/// How to reach one registry.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Base URL, e.g. `http://127.0.0.1:5000`; any path is kept (`/v2/` is appended to it).
    pub url: Url,
    pub credentials: Credentials,
    /// Catalog page size asked for; clamped to what distribution accepts (1000).
    pub catalog_page_size: u32,
    /// Per-request timeout; a registry slower than this is reported as not answering.
    pub timeout: Duration,
    /// CA certificates to trust besides the system's (the cluster's service CA, say).
    pub root_certificates: Vec<reqwest::Certificate>,
}

impl RegistryConfig {
    pub fn new(url: Url) -> Self {
        Self {
            url,
            credentials: Credentials::None,
            catalog_page_size: MAX_CATALOG_PAGE,
            timeout: Duration::from_secs(15),
            root_certificates: Vec::new(),
        }
    }
}

/// Mints registry tokens without a round trip: Regent, when it is the registry's token
/// service, signs its own tokens with exactly the scopes each call needs.
pub trait SelfIssuer: Send + Sync + std::fmt::Debug {
    /// The `service` of challenges this issuer answers (the registry's `auth.token.service`).
    fn service(&self) -> &str;
    /// A token for `scopes` (those of the operation at hand) and how long it lasts.
    fn mint(&self, scopes: &[&str]) -> Result<(String, Duration), String>;
}

/// A client for one registry. Cheap to share behind an `Arc`; it caches bearer tokens.
#[derive(Debug)]
pub struct RegistryClient {
    base: Url,
    http: reqwest::Client,
    /// Replaceable: a service account token is renewed while Regent runs.
    credentials: std::sync::RwLock<Credentials>,
    tokens: auth::TokenCache,
    catalog_page_size: u32,
    issuer: Option<std::sync::Arc<dyn SelfIssuer>>,
}

/// What the `/v2/` version check learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion {
    /// `Docker-Distribution-API-Version`, usually `registry/2.0`; OCI registries may omit it.
    pub header: Option<String>,
}

impl RegistryClient {
    pub fn new(config: RegistryConfig) -> Result<Self, RegistryError> {
        let mut base = config.url;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let builder = config
            .root_certificates
            .iter()
            .fold(reqwest::Client::builder(), |b, c| b.add_root_certificate(c.clone()));
        let http = builder
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("regent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RegistryError::Client { reason: e.to_string() })?;
        Ok(Self {
            base,
            http,
            credentials: std::sync::RwLock::new(config.credentials),
            tokens: auth::TokenCache::default(),
            catalog_page_size: config.catalog_page_size.clamp(1, MAX_CATALOG_PAGE),
            issuer: None,
        })
    }

    /// Answers bearer challenges for `issuer.service()` with tokens `issuer` mints, instead of
    /// asking the challenge's realm (other challenges still go to their realm).
    pub fn with_self_issuer(mut self, issuer: std::sync::Arc<dyn SelfIssuer>) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// What Regent presents from now on (a renewed token); cached bearer tokens are dropped.
    pub fn set_credentials(&self, credentials: Credentials) {
        *self.credentials.write().unwrap_or_else(|p| p.into_inner()) = credentials;
        self.tokens.clear();
    }

    fn credentials(&self) -> Credentials {
        self.credentials.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The registry's base URL as configured (what error messages show).
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// `GET /v2/`: is this a reachable v2 registry that accepts our credentials?
    pub async fn check(&self) -> Result<ApiVersion, RegistryError> {
        let url = self.v2_url("")?;
        let response = self.send(Method::GET, url.clone(), &[], None).await?;
        match response.status() {
            s if s.is_success() => Ok(ApiVersion {
                header: response
                    .headers()
                    .get("docker-distribution-api-version")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            }),
            StatusCode::NOT_FOUND => Err(RegistryError::NotARegistry {
                url: url.to_string(),
                status: 404,
            }),
            _ => Err(self.fail(&Method::GET, response).await),
        }
    }

    /// `base` + `v2/` + `path`; `path` is already percent-safe (names and digests are).
    fn v2_url(&self, path: &str) -> Result<Url, RegistryError> {
        self.base
            .join(&format!("v2/{path}"))
            .map_err(|e| RegistryError::Client {
                reason: format!("cannot build a URL for v2/{path}: {e}"),
            })
    }

    /// Sends one request with the right credentials, answering a bearer challenge once.
    ///
    /// `scope` is the token scope the operation needs (`repository:team/app:pull`); it keys the
    /// token cache so repeated calls skip the challenge round trip.
    async fn send(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, &str)],
        scope: Option<&str>,
    ) -> Result<Response, RegistryError> {
        self.send_body(method, url, headers, scope, None).await
    }

    /// `send` with a request body (a manifest PUT).
    async fn send_body(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, &str)],
        scope: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response, RegistryError> {
        let first = self
            .attempt(&method, &url, headers, self.tokens.get(scope), body)
            .await?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let Some(challenge) = Challenge::from_response(&first) else {
            return Ok(first);
        };
        let Challenge::Bearer { .. } = &challenge else {
            return Ok(first);
        };
        let mut key = scope.or(challenge.scope_key());
        let token = match (&self.issuer, &challenge) {
            (
                Some(issuer),
                Challenge::Bearer {
                    service: Some(service),
                    scope: asked,
                    ..
                },
            ) if service == issuer.service() => {
                let scopes = self_issued_scopes(scope, asked.as_deref());
                key = scope;
                let (token, lifetime) = issuer.mint(&scopes).map_err(|reason| RegistryError::TokenService {
                    realm: "Regent's own token service".into(),
                    reason,
                })?;
                auth::Token {
                    token,
                    expires_at: std::time::Instant::now() + lifetime.saturating_sub(Duration::from_secs(10)),
                }
            }
            _ => auth::fetch_token(&self.http, &challenge, &self.credentials()).await?,
        };
        let bearer = token.token.clone();
        self.tokens.put(key, token);
        self.attempt(&method, &url, headers, Some(bearer), body).await
    }

    /// Turns an unsuccessful response into the error that names our credentials.
    async fn fail(&self, method: &Method, response: Response) -> RegistryError {
        RegistryError::from_response(method, response, &self.credentials().describe()).await
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, &str)],
        bearer: Option<String>,
        body: Option<&[u8]>,
    ) -> Result<Response, RegistryError> {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match (bearer, &self.credentials()) {
            (Some(token), _) => request.bearer_auth(token),
            (None, Credentials::Bearer { token }) => request.bearer_auth(token),
            (None, Credentials::Basic { username, password }) => request.basic_auth(username, Some(password)),
            (None, Credentials::None) => request,
        };
        let started = std::time::Instant::now();
        let result = request.send().await;
        // Metrics (issue 19): per operation kind and status, never the repository.
        let status = match &result {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "error".to_owned(),
        };
        let labels = [
            ("operation", operation(url.path())),
            ("method", method_label(method)),
            ("status", status),
        ];
        metrics::counter!("regent_registry_requests_total", &labels).increment(1);
        metrics::histogram!("regent_registry_request_duration_seconds", &labels[..2])
            .record(started.elapsed().as_secs_f64());
        result.map_err(|e| RegistryError::from_transport(url, e))
    }
}

/// The kind of registry API call a path is, for metrics: never the repository or digest.
fn operation(path: &str) -> String {
    let kind = match path.strip_prefix("/v2/").unwrap_or(path) {
        "" => "ping",
        "_catalog" => "catalog",
        p if p.ends_with("/tags/list") => "tags",
        p if p.contains("/manifests/") => "manifest",
        p if p.contains("/blobs/uploads") => "blob_upload",
        p if p.contains("/blobs/") => "blob",
        _ => "other",
    };
    kind.to_owned()
}

fn method_label(method: &Method) -> String {
    match method.as_str() {
        m @ ("GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE") => m.to_owned(),
        _ => "other".to_owned(),
    }
}

/// The scopes Regent signs into a token for itself: those of the operation it is performing,
/// whatever the registry's challenge asks for. A registry (or anything answering in its
/// place) that asks for `registry:catalog:*` or another repository's push on a manifest GET
/// gets a token good for that GET only. An operation that names no scope gets a token with
/// no access (enough for `/v2/`).
/// A response body read in pieces and refused past `limit` bytes, declared or streamed, so a
/// registry (or anything in its place) cannot make Regent hold more than such a body can be.
/// `what` names the body in the error ("the manifest", "blob sha256:…"); `why` says why the
/// limit is what it is.
async fn read_limited(
    mut response: Response,
    limit: usize,
    url: &str,
    what: &str,
    why: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_big = || RegistryError::Protocol {
        url: url.to_owned(),
        detail: format!("{what} is larger than {limit} bytes; {why}"),
    };
    if response.content_length().is_some_and(|l| l > limit as u64) {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    while let Some(piece) = response.chunk().await.map_err(|e| RegistryError::Protocol {
        url: url.to_owned(),
        detail: format!("reading {what}: {e}"),
    })? {
        if bytes.len() + piece.len() > limit {
            return Err(too_big());
        }
        bytes.extend_from_slice(&piece);
    }
    Ok(bytes)
}

fn self_issued_scopes<'a>(operation: Option<&'a str>, challenge: Option<&str>) -> Vec<&'a str> {
    if let (Some(op), Some(asked)) = (operation, challenge)
        && op != asked
    {
        tracing::debug!(
            operation = op,
            challenge = asked,
            "the registry asked for another scope than the operation needs"
        );
    }
    operation
        .into_iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod scope_tests {
    use super::self_issued_scopes;

    #[test]
    fn regent_signs_only_the_scope_of_what_it_is_doing_whatever_the_challenge_asks() {
        assert_eq!(
            self_issued_scopes(
                Some("repository:team/app:pull"),
                Some("repository:team/app:pull,push,delete registry:catalog:*")
            ),
            ["repository:team/app:pull"]
        );
        assert_eq!(
            self_issued_scopes(None, Some("registry:catalog:*")),
            Vec::<&str>::new(),
            "no scope named, no access given"
        );
        assert_eq!(
            self_issued_scopes(Some("repository:a:pull repository:b:pull,push"), None),
            ["repository:a:pull", "repository:b:pull,push"]
        );
    }
}

#[cfg(test)]
mod read_limited_tests {
    use super::{RegistryError, read_limited};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Something in the registry's place on loopback that streams `body_len` bytes chunked,
    /// without Content-Length; returns the response as Regent's client sees it.
    async fn streamed(body_len: usize) -> reqwest::Response {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let piece = vec![b'x'; 64 * 1024];
            let mut left = body_len;
            while left > 0 {
                let n = left.min(piece.len());
                let head = format!("{n:x}\r\n");
                if socket.write_all(head.as_bytes()).await.is_err()
                    || socket.write_all(&piece[..n]).await.is_err()
                    || socket.write_all(b"\r\n").await.is_err()
                {
                    return;
                }
                left -= n;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        reqwest::get(format!("http://{address}/")).await.unwrap()
    }

    #[tokio::test]
    async fn a_streamed_body_past_the_limit_is_refused_and_one_within_it_is_read() {
        let limit = 256 * 1024;
        let refused = read_limited(streamed(10 * limit).await, limit, "http://x/", "the manifest", "why").await;
        match refused {
            Err(RegistryError::Protocol { detail, .. }) => {
                assert_eq!(detail, format!("the manifest is larger than {limit} bytes; why"))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let read = read_limited(streamed(limit).await, limit, "http://x/", "the manifest", "why").await;
        assert_eq!(read.unwrap().len(), limit);
    }
}
