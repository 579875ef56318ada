//! Signing in with a user name and password: the one path from credentials to a
//! [`Viewer`](super::Viewer) and the [`Credential`](crate::store::Credential) a session or
//! refresh token keeps, used by the sign-in page and by the registry's token endpoint
//! (`docker login`), so a rule added here holds at both doors.
//!
//! In order: a password checked moments ago is reused (no hash; see below); the attempt is
//! reserved with the throttle *before* hashing, so simultaneous guesses cannot overtake their
//! own failures; an account failing from many addresses is slowed; the hash waits for a turn
//! in the global [`HashingLimit`] or is refused as busy; the outcome is counted and audited.
//!
//! A `docker pull` of many layers, or 64 CI jobs starting together, sends the same password
//! many times at once: the first computes the hash, the others wait for it and find it
//! cached (with a directory, a check waits at most the directory's timeout for the one
//! before it, and if the directory did not answer that one it gets the same answer at once,
//! so a hanging directory costs every caller one timeout, not one each in a queue). Successful checks are
//! cached for a minute at most and only while the store's
//! generation (bumped by every committed change) is unchanged, so a new password, a disabled
//! user or a removed grant applies to the very next attempt. Failures are never cached.
//!
//! With a company directory configured, a name Regent does not know, or a user made by an
//! earlier directory sign-in, is checked with the directory (`crate::directory`) and signed in
//! as what the directory says (`Store::sign_in_from_directory`: the user, their directory
//! groups). Local users keep their Regent password, so a dead directory never locks out the
//! administrator; a name that is both local and in the directory is refused until an
//! administrator resolves it (when the directory cannot be asked, the local user signs in).

use super::hashing::{HashingLimit, RETRY_AFTER};
use super::{LoginThrottle, Name};
use crate::directory::{Directory, DirectoryError, Verdict};
use crate::store::{AccountKind, Actor, SignedIn, Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest user name or password looked at; longer input fails without hashing.
pub const MAX_INPUT: usize = 1024;
/// How long a successful password check is reused (if nothing changed meanwhile).
const CREDENTIAL_TTL: Duration = Duration::from_secs(60);
/// At most this many cached checks (and turnstiles); cleared when full.
const CACHE_SIZE: usize = 10_000;
/// Account names are kept (in the throttle and the audit log) to this many characters.
const ACCOUNT_CHARS: usize = 64;

/// Where someone signs in; the doors differ in who may pass and in what the audit log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Regent's own pages (`/login`): people only, never service accounts.
    Pages,
    /// The registry's token endpoint: people and service accounts.
    Registry,
}

/// One sign-in attempt.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub door: Door,
    pub user: &'a str,
    pub password: &'a str,
    /// The client's address (behind a trusted proxy: the one it forwarded).
    pub address: &'a str,
}

/// Why an attempt did not sign anyone in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A wrong password, an unknown or a disabled user: never which of them.
    #[error("wrong user name or password")]
    WrongCredentials,
    /// Too many failed attempts for this account from this address, or from this address.
    #[error("too many failed sign-ins for this account or from this address; wait {} seconds and try again", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Too many password checks under way; nothing was checked.
    #[error("Regent is checking too many sign-ins at once; try again in {} seconds", .0.as_secs().max(1))]
    Busy(Duration),
    /// A service account at the pages' door.
    #[error("{0} is a service account: it logs in to the registry with its token, not to these pages")]
    ServiceAccount(String),
    /// The company directory could not be asked; the message names it.
    #[error("{0}")]
    DirectoryDown(String),
    /// The name is both a local user and in the directory.
    #[error("{0}")]
    NameClash(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Checks of one user name and password wait here for each other. It keeps when and why the
/// last check through it found the directory not answering, for the ones that waited.
type Turnstile = Arc<tokio::sync::Mutex<Option<(Instant, String)>>>;

struct CachedCheck {
    password: [u8; 32],
    signed_in: SignedIn,
    generation: i64,
    at: Instant,
    /// A directory user's check lasts the directory's cache window (group changes and a
    /// disabled account show at the next check after it).
    ttl: Duration,
}

pub struct SignIns {
    store: Store,
    throttle: Arc<LoginThrottle>,
    hashing: HashingLimit,
    /// Random per process: cached password digests are useless outside it.
    salt: [u8; 16],
    checks: Mutex<HashMap<String, CachedCheck>>,
    /// The company directory, when configured.
    directory: Option<Arc<Directory>>,
    /// One check at a time per user name and password (see the module header).
    turnstiles: Mutex<HashMap<(String, [u8; 32]), Turnstile>>,
}

impl std::fmt::Debug for SignIns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIns")
            .field("hashing_turns", &self.hashing.turns())
            .finish()
    }
}

impl SignIns {
    pub fn new(store: Store) -> Self {
        Self::with_limit(store, HashingLimit::default())
    }

    pub fn with_limit(store: Store, hashing: HashingLimit) -> Self {
        let mut salt = [0u8; 16];
        {
            use argon2::password_hash::rand_core::{OsRng, RngCore};
            OsRng.fill_bytes(&mut salt);
        }
        Self {
            store,
            throttle: Arc::new(LoginThrottle::default()),
            hashing,
            salt,
            checks: Mutex::new(HashMap::new()),
            directory: None,
            turnstiles: Mutex::new(HashMap::new()),
        }
    }

    /// Also signs in the company directory's users.
    pub fn with_directory(mut self, directory: Option<Arc<Directory>>) -> Self {
        self.directory = directory;
        self
    }

    pub fn directory(&self) -> Option<&Arc<Directory>> {
        self.directory.as_ref()
    }

    /// Who `attempt` signs in as (and the credential a session or refresh token keeps), or
    /// why nobody.
    pub async fn sign_in(&self, attempt: Attempt<'_>) -> Result<SignedIn, Refused> {
        let generation = self.store.generation().await?;
        self.sign_in_at(attempt, generation).await
    }

    /// [`SignIns::sign_in`] for a caller that has just read the store's generation (the token
    /// service, which reads its policy as of the same one): saves a query per token.
    pub async fn sign_in_at(&self, attempt: Attempt<'_>, generation: i64) -> Result<SignedIn, Refused> {
        let Attempt {
            door,
            user,
            password,
            address,
        } = attempt;
        let account: String = user.chars().take(ACCOUNT_CHARS).collect();
        let audit = Audit {
            store: &self.store,
            door,
            actor: Actor::new(if account.is_empty() { "-" } else { account.as_str() }, address),
            target: format!("user:{account}"),
        };
        if let Some(wait) = self.throttle.refusal(&account, address) {
            return Err(audit.throttled(wait).await);
        }
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.salt)
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(signed_in) = self.cached(user, &digest, generation) {
            return self.admit(door, signed_in, &audit).await;
        }
        let turnstile = {
            let mut all = self.turnstiles.lock().unwrap_or_else(|p| p.into_inner());
            if all.len() >= CACHE_SIZE {
                all.retain(|_, t| Arc::strong_count(t) > 1);
            }
            all.entry((user.to_owned(), digest)).or_default().clone()
        };
        // With a directory, a check waits for the one before it at most as long as the
        // directory may take to answer (and a second for the rest of that check), then goes
        // ahead on its own: simultaneous sign-ins of one name while the directory hangs must
        // not queue for a timeout each. One that waited behind a check the directory did not
        // answer gets that answer at once.
        let asked_at = Instant::now();
        let mut turn = match &self.directory {
            Some(directory) => {
                let patience = directory.settings().timeout + Duration::from_secs(1);
                tokio::time::timeout(patience, turnstile.lock()).await.ok()
            }
            None => Some(turnstile.lock().await),
        };
        if let Some(Some((at, message))) = turn.as_deref()
            && *at >= asked_at
        {
            let message = message.clone();
            audit.refused(&format!("not checked: {message}")).await;
            return Err(Refused::DirectoryDown(message));
        }
        if let Some(signed_in) = self.cached(user, &digest, generation) {
            return self.admit(door, signed_in, &audit).await;
        }
        let reserved = match self.throttle.reserve(&account, address) {
            Ok(r) => r,
            Err(wait) => return Err(audit.throttled(wait).await),
        };
        if let Some(delay) = reserved.slowdown() {
            tokio::time::sleep(delay).await;
        }
        let signed_in = if user.len() > MAX_INPUT || password.len() > MAX_INPUT {
            None
        } else {
            match self.check(user, password, reserved.at_usual_address(), &audit).await {
                Ok(checked) => checked,
                Err(refused) => {
                    drop(reserved);
                    if let (Refused::DirectoryDown(message), Some(turn)) = (&refused, turn.as_mut()) {
                        **turn = Some((Instant::now(), message.clone()));
                    }
                    return Err(refused);
                }
            }
        };
        let Some(signed_in) = signed_in else {
            reserved.failed();
            audit.refused("wrong user name or password").await;
            return Err(Refused::WrongCredentials);
        };
        reserved.succeeded();
        let ttl = match (&self.directory, &signed_in.viewer.user) {
            (Some(directory), Some(name)) if self.store.account_kind(name).await? == AccountKind::FromDirectory => {
                directory.settings().cache_window.min(CREDENTIAL_TTL)
            }
            _ => CREDENTIAL_TTL,
        };
        if Name::parse(user).is_ok() {
            let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
            if checks.len() >= CACHE_SIZE {
                checks.clear();
            }
            checks.insert(
                user.to_owned(),
                CachedCheck {
                    password: digest,
                    signed_in: signed_in.clone(),
                    generation,
                    at: Instant::now(),
                    ttl,
                },
            );
        }
        self.admit(door, signed_in, &audit).await
    }

    /// Who `user` and `password` are: a local user by their Regent password, anyone else by
    /// the directory (when there is one). `None` for wrong credentials of any kind.
    async fn check(
        &self,
        user: &str,
        password: &str,
        usual_address: bool,
        audit: &Audit<'_>,
    ) -> Result<Option<SignedIn>, Refused> {
        let name = Name::parse(user).ok();
        let (Some(directory), Some(name)) = (&self.directory, name) else {
            return self.check_locally(user, password, usual_address, audit).await;
        };
        let kind = self.store.account_kind(&name).await?;
        if kind == AccountKind::Local {
            let Some(signed_in) = self.check_locally(user, password, usual_address, audit).await? else {
                // The directory's password for a name that is also local: say why it fails.
                if let Ok(Verdict::Valid(_)) = directory.authenticate(user, password).await {
                    directory.forget(user);
                    audit.refused("the name is also a local user").await;
                    return Err(Refused::NameClash(crate::store::clash(&name)));
                }
                return Ok(None);
            };
            return match directory.look_up(user).await {
                Ok(Some(_)) => {
                    audit.refused("the name is also in the company directory").await;
                    Err(Refused::NameClash(crate::store::clash(&name)))
                }
                Ok(None) => Ok(Some(signed_in)),
                Err(DirectoryError(message)) => {
                    tracing::warn!(user = %name, %message, "signed in a local user without asking the directory whether it has the name too");
                    Ok(Some(signed_in))
                }
            };
        }
        let verdict = match directory.authenticate(user, password).await {
            Ok(verdict) => verdict,
            Err(DirectoryError(message)) => {
                audit.refused(&format!("not checked: {message}")).await;
                return Err(Refused::DirectoryDown(message));
            }
        };
        let from_directory = Actor::new("directory", audit.actor.address.clone());
        match verdict {
            Verdict::Valid(account) => {
                match self
                    .store
                    .sign_in_from_directory(&from_directory, &audit.actor, &name, &account.dn, &account.groups)
                    .await
                {
                    Ok(signed_in) => Ok(Some(signed_in)),
                    Err(StoreError::Conflict(message)) => {
                        directory.forget(user);
                        audit.refused("the name is also a local user").await;
                        Err(Refused::NameClash(message))
                    }
                    Err(StoreError::Invalid(_)) => {
                        directory.forget(user);
                        Ok(None)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Verdict::WrongPassword => Ok(None),
            Verdict::Unknown | Verdict::Disabled => {
                let why = if verdict == Verdict::Disabled {
                    "disabled in the company directory"
                } else {
                    "no longer found in the company directory"
                };
                if kind == AccountKind::FromDirectory {
                    self.store.refused_by_directory(&from_directory, &name, why).await?;
                }
                Ok(None)
            }
        }
    }

    /// The Regent password check, waiting for a turn to hash.
    async fn check_locally(
        &self,
        user: &str,
        password: &str,
        usual_address: bool,
        audit: &Audit<'_>,
    ) -> Result<Option<SignedIn>, Refused> {
        let Ok(_hashing) = self.hashing.turn(usual_address).await else {
            audit.refused("busy: too many sign-ins at once; not checked").await;
            return Err(Refused::Busy(RETRY_AFTER));
        };
        Ok(self.store.verify_password(user, password).await?)
    }

    /// The door's own rule on a correct password, and the audit line for a page sign-in
    /// (token requests are too many to record each success).
    async fn admit(&self, door: Door, signed_in: SignedIn, audit: &Audit<'_>) -> Result<SignedIn, Refused> {
        if door == Door::Pages {
            let Some(name) = &signed_in.viewer.user else {
                return Err(Refused::WrongCredentials);
            };
            if self.store.user(name).await?.is_some_and(|u| u.service) {
                audit.refused("service account").await;
                return Err(Refused::ServiceAccount(name.to_string()));
            }
            self.store
                .record_event(&audit.actor, "login", &audit.target, "ok", "")
                .await?;
        }
        Ok(signed_in)
    }

    fn cached(&self, user: &str, digest: &[u8; 32], generation: i64) -> Option<SignedIn> {
        let checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        let hit = checks.get(user)?;
        (hit.generation == generation && hit.password == *digest && hit.at.elapsed() < hit.ttl)
            .then(|| hit.signed_in.clone())
    }
}

/// Who to record a refusal for, and how the door words it.
struct Audit<'a> {
    store: &'a Store,
    door: Door,
    actor: Actor,
    target: String,
}

impl Audit<'_> {
    async fn throttled(&self, wait: Duration) -> Refused {
        self.refused("throttled").await;
        Refused::Throttled(wait)
    }

    async fn refused(&self, why: &str) {
        let detail = match self.door {
            Door::Pages => why.to_owned(),
            Door::Registry => format!("{why} (registry token)"),
        };
        if let Err(e) = self
            .store
            .record_event(&self.actor, "login", &self.target, "refused", &detail)
            .await
        {
            tracing::warn!(error = %e, "could not record a refused sign-in");
        }
    }
}
