//! A small Docker token service for tests of token-authenticated registries.
//!
//! It exists so the registry client's bearer-challenge flow runs against the real registry with
//! `auth: token`, before Regent has its own token service. It signs ES256 tokens with `x5c`
//! (the key and self-signed certificate are made by the `openssl` command), accepts a fixed set
//! of users, grants every action a known user asks for and nothing to anyone else, and counts
//! the tokens it issues so tests can see caching.

use anyhow::{Context, Result, bail};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "regent-test-registry";
pub const ISSUER: &str = "regent-test-issuer";

struct Shared {
    key: EncodingKey,
    x5c: String,
    users: HashMap<String, String>,
    issued: AtomicUsize,
}

pub struct TestTokenService {
    port: u16,
    bundle: PathBuf,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestTokenService {
    pub fn start(users: &[(&str, &str)]) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("regent-token-").tempdir()?;
        let (key_pem, cert_pem) = self_signed_p256(dir.path())?;
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, &cert_pem)?;
        let shared = Arc::new(Shared {
            key: EncodingKey::from_ec_pem(&key_pem)?,
            x5c: pem_body(&cert_pem)?,
            users: users.iter().map(|(u, p)| (u.to_string(), p.to_string())).collect(),
            issued: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/token", get(token))
            .with_state(shared.clone());
        // Its own thread and runtime: tests block their runtime on skopeo, and the registry
        // must still get its tokens meanwhile.
        let (port, stop) = crate::serve_on_own_thread("token-service", app)?;
        Ok(Self {
            port,
            bundle,
            shared,
            stop: Some(stop),
            _dir: dir,
        })
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The certificate bundle for the registry's `auth.token.rootcertbundle`.
    pub fn bundle(&self) -> &Path {
        &self.bundle
    }

    /// How many tokens were issued so far.
    pub fn issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// The registry auth settings that point at this service.
    pub fn registry_auth(&self) -> crate::RegistryAuth {
        crate::RegistryAuth::Token {
            realm: self.realm(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            rootcertbundle: self.bundle.clone(),
        }
    }
}

impl Drop for TestTokenService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let account = match basic_user(&headers) {
        None => None,
        Some((user, password)) if shared.users.get(&user) == Some(&password) => Some(user),
        Some(_) => {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"details": "bad credentials"})),
            )
                .into_response();
        }
    };
    let access: Vec<_> = query
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter_map(|scope| {
            // type:name:actions, where name may itself hold ':' only for registry scopes.
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<&str> = if account.is_some() {
                actions.split(',').collect()
            } else {
                vec![]
            };
            Some(json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let n = shared.issued.fetch_add(1, Ordering::SeqCst);
    let claims = json!({
        "iss": ISSUER, "sub": account.clone().unwrap_or_default(), "aud": SERVICE,
        "exp": now + 300, "nbf": now - 5, "iat": now, "jti": format!("test-{n}"), "access": access,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.x5c = Some(vec![shared.x5c.clone()]);
    match jsonwebtoken::encode(&header, &claims, &shared.key) {
        Ok(token) => axum::Json(json!({"token": token, "expires_in": 300})).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn basic_user(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(value).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// A P-256 key (PKCS#8 PEM) and a self-signed certificate for it, made by `openssl`.
fn self_signed_p256(dir: &Path) -> Result<(Vec<u8>, String)> {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
        ])
        .args(["-subj", "/CN=regent-test-token-signer", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .context("running openssl (apt-get install openssl)")?;
    if !out.status.success() {
        bail!("openssl failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok((std::fs::read(key)?, std::fs::read_to_string(cert)?))
}

/// The base64 body of a PEM certificate: the DER that `x5c` carries.
fn pem_body(pem: &str) -> Result<String> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(&body).context("certificate PEM is not base64")?;
    Ok(body)
}
