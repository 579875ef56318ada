//! Regent as the registry's token service (Docker token authentication).
//!
//! `docker`, `podman` and `skopeo` ask for a token naming the scopes they need, with a user's
//! password or none; the answer carries what the access policy allows of them, so the
//! registry obeys the same rules as Regent's screens. This module decides and signs; the
//! server only turns HTTP into a [`TokenRequest`] and the result back into HTTP.
//!
//! Passwords are checked by [`SignIns`], the same path the sign-in page takes (throttle,
//! hashing bound, brief cache of successful checks, audit). The policy copy is keyed by the
//! store's generation, which every committed change bumps (from the screens or the shell): a
//! removed grant applies to the very next token.

mod crypto;
mod scope;
mod signer;

pub use scope::{AccessEntry, MAX_SCOPE_LEN, MAX_SCOPES, Requested, allowed, parse_scopes};
pub use signer::{KeyMaterial, Minted, Signer, TokenSettings, libtrust_kid, rfc3339};

use crate::access::{Attempt, Door, Policy, Refused, Rules, SignIns, Viewer};
use crate::store::{Actor, Credential, KeyState, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A token request as the HTTP layer parsed it.
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub service: Option<String>,
    pub account: Option<String>,
    /// Every `scope` parameter, as sent.
    pub scopes: Vec<String>,
    /// HTTP Basic user name and password.
    pub basic: Option<(String, String)>,
    /// Authenticate with this refresh token instead (OAuth2 `grant_type=refresh_token`).
    pub refresh_token: Option<String>,
    /// Also return a refresh token (`offline_token=true`, `access_type=offline`).
    pub offline: bool,
    /// The client's IP address, for the throttle and the audit log.
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// Wrong user name or password (never which of the two).
    #[error("{0}")]
    Unauthorized(String),
    /// Too many failed attempts for this account or from this address: wait this long.
    #[error("too many failed sign-ins for this account or from this address; wait {} seconds", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Too many password checks under way: retry after this long (nothing was checked).
    #[error("Regent is checking too many sign-ins at once; retry in {} seconds", .0.as_secs().max(1))]
    Busy(Duration),
    /// The company directory did not answer (the message names it); local users still work.
    #[error("{0}")]
    DirectoryDown(String),
    #[error("{0}")]
    Internal(String),
}

/// A token and what the response says about it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub minted: Minted,
    pub subject: String,
    pub access: Vec<AccessEntry>,
    pub refresh_token: Option<String>,
}

/// The keys in use: which one signs, and which certificates the registry should trust.
struct Keys {
    generation: i64,
    active: i64,
    signer: Arc<Signer>,
    bundle: Arc<str>,
}

pub struct TokenService {
    store: Store,
    rules: Rules,
    sign_ins: Arc<SignIns>,
    settings: TokenSettings,
    /// The signing key and published certificates as of a store generation.
    keys: std::sync::RwLock<Arc<Keys>>,
    policy: Mutex<Option<(i64, Arc<Policy>)>>,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("settings", &self.settings)
            .finish()
    }
}

impl TokenService {
    /// Loads the signing key from the store, making one (and its certificate) on first start.
    pub async fn open(
        store: Store,
        rules: Rules,
        sign_ins: Arc<SignIns>,
        settings: TokenSettings,
    ) -> Result<Self, String> {
        if store.signing_keys().await.map_err(|e| e.to_string())?.is_empty() {
            let material = KeyMaterial::generate()?;
            store
                .add_signing_key(&Actor::system(), &material, KeyState::Active)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!("made a new registry token signing key and certificate");
        }
        let generation = store.generation().await.map_err(|e| e.to_string())?;
        let keys = load_keys(&store, &settings, generation, None).await?;
        Ok(Self {
            store,
            rules,
            sign_ins,
            settings,
            keys: std::sync::RwLock::new(Arc::new(keys)),
            policy: Mutex::new(None),
        })
    }

    /// The certificates the registry should trust (`auth.token.rootcertbundle`), PEM: the
    /// signing key's, a pending key's, and retired keys' until their tokens have expired.
    pub async fn bundle_pem(&self) -> Result<Arc<str>, String> {
        let generation = self.store.generation().await.map_err(|e| e.to_string())?;
        Ok(self.keys(generation).await.map_err(|e| e.to_string())?.bundle.clone())
    }

    /// Picks up a key rotated meanwhile (by `regent token use-new-key` in another process).
    /// Token requests do this themselves; Regent's own registry calls rely on it being called
    /// now and then.
    pub async fn refresh_keys(&self) -> Result<(), String> {
        let generation = self.store.generation().await.map_err(|e| e.to_string())?;
        self.keys(generation).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// The keys as of `generation`, reloaded when the store changed since.
    async fn keys(&self, generation: i64) -> Result<Arc<Keys>, TokenError> {
        let current = self.keys.read().expect("keys lock").clone();
        if current.generation == generation {
            return Ok(current);
        }
        let fresh = Arc::new(
            load_keys(&self.store, &self.settings, generation, Some(&current))
                .await
                .map_err(TokenError::Internal)?,
        );
        if fresh.active != current.active {
            tracing::info!(kid = fresh.signer.kid(), "signing registry tokens with a new key");
        }
        *self.keys.write().expect("keys lock") = fresh.clone();
        Ok(fresh)
    }

    pub async fn issue(&self, request: &TokenRequest) -> Result<Issued, TokenError> {
        let service = &self.settings.service;
        match &request.service {
            None => {
                return Err(TokenError::BadRequest(format!(
                    "the service parameter is missing; clients send the one in the registry's challenge (\"{service}\" here)"
                )));
            }
            Some(asked) if asked != service => {
                return Err(TokenError::BadRequest(format!(
                    "this token service signs for the service \"{service}\", not \"{}\"; set the registry's auth.token.service to \"{service}\"",
                    asked.chars().take(100).collect::<String>()
                )));
            }
            Some(_) => {}
        }
        let requested = parse_scopes(request.scopes.iter().map(String::as_str)).map_err(TokenError::BadRequest)?;
        // Read first: whatever is read below is current as of this generation or newer.
        let generation = self
            .store
            .generation()
            .await
            .map_err(|e| TokenError::Internal(e.to_string()))?;
        let (viewer, credential) = match (&request.refresh_token, &request.basic) {
            (Some(refresh), _) => self.refreshed(refresh).await?,
            (None, None) => (Viewer::anonymous(), None),
            (None, Some((user, password))) => {
                if let Some(account) = &request.account
                    && account != user
                {
                    return Err(TokenError::BadRequest(
                        "the account parameter names another user than the credentials".into(),
                    ));
                }
                let attempt = Attempt {
                    door: Door::Registry,
                    user,
                    password,
                    address: &request.address,
                };
                match self.sign_ins.sign_in_at(attempt, generation).await {
                    Ok(signed_in) => (signed_in.viewer, Some(signed_in.credential)),
                    Err(Refused::WrongCredentials | Refused::ServiceAccount(_)) => {
                        return Err(TokenError::Unauthorized("wrong user name or password".into()));
                    }
                    Err(Refused::NameClash(message)) => return Err(TokenError::Unauthorized(message)),
                    Err(Refused::DirectoryDown(message)) => return Err(TokenError::DirectoryDown(message)),
                    Err(Refused::Throttled(wait)) => return Err(TokenError::Throttled(wait)),
                    Err(Refused::Busy(wait)) => return Err(TokenError::Busy(wait)),
                    Err(Refused::Store(e)) => return Err(TokenError::Internal(e.to_string())),
                }
            }
        };
        let policy = self.policy(generation).await?;
        let access = allowed(&policy.for_viewer(&viewer), &requested);
        let subject = viewer.user.as_ref().map(ToString::to_string).unwrap_or_default();
        let signer = self.keys(generation).await?.signer.clone();
        let minted = signer.mint(&subject, &access).map_err(TokenError::Internal)?;
        // The credential the caller authenticated with, as it was read: a password reset
        // meanwhile makes this refresh token useless from the start.
        let refresh_token = match (&viewer.user, &credential, request.offline) {
            (Some(user), Some(credential), true) => Some(
                signer
                    .mint_refresh(user.as_str(), &credential.to_string())
                    .map_err(TokenError::Internal)?,
            ),
            _ => None,
        };
        Ok(Issued {
            minted,
            subject,
            access,
            refresh_token,
        })
    }

    /// The user behind a refresh token, if it is ours, unexpired, and its user (by id) is
    /// still enabled with the credential it was issued for (see `store::Credential`).
    async fn refreshed(&self, token: &str) -> Result<(Viewer, Option<Credential>), TokenError> {
        let invalid = || {
            TokenError::Unauthorized(
                "the refresh token is not valid (expired, or the password or token changed or the user was disabled since); log in again".into(),
            )
        };
        let signer = self.keys.read().expect("keys lock").signer.clone();
        let (_subject, credential) = signer.check_refresh(token).map_err(|_| invalid())?;
        let credential = Credential::parse(&credential).ok_or_else(invalid)?;
        let viewer = self
            .store
            .viewer_for(&credential)
            .await
            .map_err(|e| TokenError::Internal(e.to_string()))?
            .ok_or_else(invalid)?;
        Ok((viewer, Some(credential)))
    }

    /// A token for Regent itself: every scope asked for, in full (Regent reads the whole
    /// registry for its index and deletes for users it has already checked). The registry
    /// client asks only for the scope of the operation at hand, never what a challenge names.
    pub fn mint_for_regent(&self, scopes: &[&str]) -> Result<Minted, String> {
        let requested = parse_scopes(scopes.iter().copied())?;
        let signer = self.keys.read().expect("keys lock").signer.clone();
        signer.mint("regent", &allowed(&crate::access::Access::everything(), &requested))
    }

    /// The policy as of the store's current generation.
    async fn policy(&self, generation: i64) -> Result<Arc<Policy>, TokenError> {
        if let Some((g, p)) = &*self.policy.lock().expect("policy lock")
            && *g == generation
        {
            return Ok(p.clone());
        }
        let policy = Arc::new(
            self.store
                .policy(self.rules)
                .await
                .map_err(|e| TokenError::Internal(e.to_string()))?,
        );
        *self.policy.lock().expect("policy lock") = Some((generation, policy.clone()));
        Ok(policy)
    }
}

/// Reads the keys: the active one signs (its `Signer` is reused from `previous` when it did not
/// change); the bundle holds every key but retired ones whose last tokens have expired.
async fn load_keys(
    store: &Store,
    settings: &TokenSettings,
    generation: i64,
    previous: Option<&Keys>,
) -> Result<Keys, String> {
    let keys = store.signing_keys().await.map_err(|e| e.to_string())?;
    let active = keys
        .iter()
        .find(|k| k.state == KeyState::Active)
        .ok_or("the store has no active token signing key; run `regent token use-new-key`")?;
    let signer = match previous {
        Some(p) if p.active == active.id => p.signer.clone(),
        _ => Arc::new(Signer::new(&active.material, settings.clone())?),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Tokens live `lifetime`; the registry allows 60 s of clock skew on top.
    let keep = settings.lifetime.as_secs() as i64 + 120;
    let bundle: String = keys
        .iter()
        .filter(|k| k.state != KeyState::Retired || k.retired_at.is_some_and(|at| now - at < keep))
        .map(|k| k.material.cert_pem.as_str())
        .collect();
    Ok(Keys {
        generation,
        active: active.id,
        signer,
        bundle: bundle.into(),
    })
}

impl crate::registry::SelfIssuer for TokenService {
    fn service(&self) -> &str {
        &self.settings.service
    }

    fn mint(&self, scopes: &[&str]) -> Result<(String, Duration), String> {
        self.mint_for_regent(scopes).map(|m| (m.token, m.expires_in))
    }
}
