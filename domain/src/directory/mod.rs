//! The company directory (LDAP or Active Directory): who a user name and password are, which
//! groups the directory puts them in, and whether the account is still enabled.
//!
//! A check is: bind as Regent's service account, search the user (the filter escaped per
//! RFC 4515), refuse a disabled account (Active Directory's `userAccountControl` bit 2), read
//! the user's groups (nested ones too), then bind as the user's DN with the password. An empty
//! password is refused before any bind: LDAP treats a DN with no password as an
//! *unauthenticated* bind, which some servers answer with success.
//!
//! Answers for a correct name and password are reused for `CACHE_WINDOW` (keyed by the name
//! and a salted hash of the password; failures are never reused), so however many tokens
//! `docker pull` asks for, the directory sees one bind per user per window. Every check runs
//! within `directory.timeout_seconds`; past it the sign-in is answered with a sentence that
//! names the directory and says local accounts still work. This module only asks the
//! directory; what Regent makes of the answer (users and groups "from the directory") is
//! `store` and `access::sign_in`.

mod filter;
mod pool;
mod settings;

pub use filter::{FilterTemplate, escape};
pub use settings::{
    CACHE_WINDOW, DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_SECONDS, DirectoryInput, DirectoryKind, DirectorySettings,
    Transport,
};

use ldap3::{LdapError, Scope, SearchEntry};
use pool::{Lease, Pool};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Groups nested deeper than this are not followed (a loop in the directory ends here too).
const MAX_NESTING: usize = 8;
/// At most this many groups are read for one user.
const MAX_GROUPS: usize = 1000;
const CACHE_SIZE: usize = 10_000;
/// `userAccountControl`'s ACCOUNTDISABLE bit.
const ACCOUNT_DISABLED: u64 = 0x2;

/// A user as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryAccount {
    pub dn: String,
    /// The names of the user's groups (`directory.group_name_attribute`), nested ones
    /// included, sorted.
    pub groups: Vec<String>,
    pub disabled: bool,
}

/// What the directory says of a user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid(DirectoryAccount),
    WrongPassword,
    /// No entry matches the user filter (or more than one does).
    Unknown,
    /// The account is disabled in the directory.
    Disabled,
}

/// The directory could not be asked; the message names it and says what still works.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DirectoryError(pub String);

/// The directory's state, for `/readyz`, the Users screen and `/admin/directory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryStatus {
    pub url: String,
    /// The last exchange with the directory worked.
    pub reachable: Option<bool>,
    /// Unix seconds of the last successful exchange.
    pub last_ok: Option<i64>,
    /// Unix seconds and message of the last failure.
    pub last_error: Option<(i64, String)>,
    /// Binds as users since start (the service account's are not counted).
    pub user_binds: u64,
    /// Exchanges that failed (no answer, refused, broken) since start.
    pub failures: u64,
    pub open_connections: usize,
    pub opened_connections: usize,
    pub pool_size: usize,
}

impl DirectoryStatus {
    /// The state in one sentence, for the screens.
    pub fn sentence(&self) -> String {
        match (self.reachable, &self.last_error) {
            (None, _) => format!("The company directory at {} has not been asked yet.", self.url),
            (Some(true), _) => format!("The company directory at {} answers.", self.url),
            (Some(false), Some((_, message))) => {
                let mut chars = message.chars();
                let first = chars
                    .next()
                    .map(|c| c.to_uppercase().collect::<String>())
                    .unwrap_or_default();
                format!("{first}{}.", chars.as_str())
            }
            (Some(false), None) => format!("The company directory at {} does not answer.", self.url),
        }
    }
}

struct Cached {
    password: [u8; 32],
    account: DirectoryAccount,
    at: Instant,
}

pub struct Directory {
    settings: Arc<DirectorySettings>,
    pool: Pool,
    salt: [u8; 16],
    checks: Mutex<HashMap<String, Cached>>,
    user_binds: AtomicU64,
    status: Mutex<Exchanges>,
}

/// How the exchanges with the directory went.
#[derive(Debug, Clone, Default)]
struct Exchanges {
    /// Whether the last one worked.
    reachable: Option<bool>,
    /// Unix seconds of the last that worked.
    last_ok: Option<i64>,
    /// Unix seconds and message of the last failure.
    last_error: Option<(i64, String)>,
    /// Exchanges that failed since start.
    failures: u64,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("settings", &self.settings).finish()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Directory {
    pub fn new(settings: DirectorySettings) -> Result<Self, String> {
        let settings = Arc::new(settings);
        let mut salt = [0u8; 16];
        {
            use argon2::password_hash::rand_core::{OsRng, RngCore};
            OsRng.fill_bytes(&mut salt);
        }
        Ok(Self {
            pool: Pool::new(settings.clone())?,
            settings,
            salt,
            checks: Mutex::new(HashMap::new()),
            user_binds: AtomicU64::new(0),
            status: Mutex::new(Exchanges::default()),
        })
    }

    pub fn settings(&self) -> &DirectorySettings {
        &self.settings
    }

    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// Checks `user` and `password` with the directory (or the answer from moments ago).
    pub async fn authenticate(&self, user: &str, password: &str) -> Result<Verdict, DirectoryError> {
        if password.is_empty() {
            return Ok(Verdict::WrongPassword);
        }
        let digest: [u8; 32] = Sha256::new()
            .chain_update(self.salt)
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(hit) = self.checks.lock().unwrap_or_else(|p| p.into_inner()).get(user)
            && hit.password == digest
            && hit.at.elapsed() < self.settings.cache_window
        {
            return Ok(Verdict::Valid(hit.account.clone()));
        }
        let verdict = self.asked(self.check(user, password)).await?;
        if let Verdict::Valid(account) = &verdict {
            let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
            if checks.len() >= CACHE_SIZE {
                checks.clear();
            }
            checks.insert(
                user.to_owned(),
                Cached {
                    password: digest,
                    account: account.clone(),
                    at: Instant::now(),
                },
            );
        } else {
            self.forget(user);
        }
        Ok(verdict)
    }

    /// Drops a reused answer for `user` (after the directory or Regent refused them).
    pub fn forget(&self, user: &str) {
        self.checks.lock().unwrap_or_else(|p| p.into_inner()).remove(user);
    }

    /// The DN, groups and state the directory returns for `user`, without a password (the
    /// administrators' "check a user"); `None` when no entry matches.
    pub async fn look_up(&self, user: &str) -> Result<Option<DirectoryAccount>, DirectoryError> {
        self.asked(async {
            let mut lease = self.pool.lease().await?;
            let Some((dn, disabled)) = self.find(&mut lease, user).await? else {
                return Ok(None);
            };
            let groups = self.groups(&mut lease, &dn).await?;
            Ok(Some(DirectoryAccount { dn, groups, disabled }))
        })
        .await
    }

    /// The administrators' "check a user": what the directory returns for `user` (no password
    /// needed), recorded in the audit log with what was found.
    pub async fn check_user(
        &self,
        store: &crate::store::Store,
        actor: &crate::store::Actor,
        user: &str,
    ) -> Result<Option<DirectoryAccount>, DirectoryError> {
        let shown: String = user.chars().take(64).collect();
        let answer = self.look_up(user).await;
        let (outcome, detail) = match &answer {
            Ok(Some(account)) => (
                "ok",
                format!(
                    "{}; groups: {}{}",
                    account.dn,
                    if account.groups.is_empty() {
                        "none".to_owned()
                    } else {
                        account.groups.join(", ")
                    },
                    if account.disabled {
                        "; disabled in the directory"
                    } else {
                        ""
                    }
                ),
            ),
            Ok(None) => ("ok", "not in the directory".to_owned()),
            Err(DirectoryError(message)) => ("failed", message.clone()),
        };
        if let Err(e) = store
            .record_event(actor, "directory.check", &format!("user:{shown}"), outcome, &detail)
            .await
        {
            tracing::warn!(error = %e, "could not record a directory check");
        }
        answer
    }

    /// Connects and binds as the service account (for `/readyz` and the screens).
    pub async fn probe(&self) -> Result<(), DirectoryError> {
        self.asked(async {
            let mut lease = self.pool.lease().await?;
            lease.service().await?;
            lease.done();
            Ok(())
        })
        .await
    }

    pub fn status(&self) -> DirectoryStatus {
        let Exchanges {
            reachable,
            last_ok,
            last_error,
            failures,
        } = self.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (open, opened) = self.pool.connections();
        DirectoryStatus {
            url: self.settings.url.clone(),
            reachable,
            last_ok,
            last_error,
            user_binds: self.user_binds.load(Ordering::SeqCst),
            failures,
            open_connections: open,
            opened_connections: opened,
            pool_size: self.settings.pool_size,
        }
    }

    /// Runs one exchange within the timeout, recording how it went.
    async fn asked<T>(&self, exchange: impl Future<Output = Result<T, LdapError>>) -> Result<T, DirectoryError> {
        let timeout = self.settings.timeout;
        let outcome = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
        };
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(answer) => {
                status.reachable = Some(true);
                status.last_ok = Some(unix_now());
                Ok(answer)
            }
            Err(detail) => {
                let message = format!(
                    "the company directory at {} did not answer ({detail}); local accounts still work",
                    self.settings.url
                );
                tracing::warn!(directory = %self.settings.url, %detail, "the company directory failed");
                status.reachable = Some(false);
                status.last_error = Some((unix_now(), message.clone()));
                status.failures += 1;
                Err(DirectoryError(message))
            }
        }
    }

    async fn check(&self, user: &str, password: &str) -> Result<Verdict, LdapError> {
        let mut lease = self.pool.lease().await?;
        let Some((dn, disabled)) = self.find(&mut lease, user).await? else {
            return Ok(Verdict::Unknown);
        };
        if disabled {
            return Ok(Verdict::Disabled);
        }
        let groups = self.groups(&mut lease, &dn).await?;
        self.user_binds.fetch_add(1, Ordering::SeqCst);
        if !lease.bind_as(&dn, password).await? {
            return Ok(Verdict::WrongPassword);
        }
        Ok(Verdict::Valid(DirectoryAccount { dn, groups, disabled }))
    }

    /// The one entry the user filter finds for `user`: its DN and whether it is disabled.
    async fn find(&self, lease: &mut Lease<'_>, user: &str) -> Result<Option<(String, bool)>, LdapError> {
        let filter = self.settings.user_filter.fill("username", user);
        let (entries, _) = lease
            .service()
            .await?
            .search(
                &self.settings.user_base,
                Scope::Subtree,
                &filter,
                vec!["userAccountControl"],
            )
            .await?
            .success()?;
        lease.done();
        if entries.len() != 1 {
            if entries.len() > 1 {
                tracing::warn!(%filter, found = entries.len(), "the directory's user filter matches several entries; none signs in");
            }
            return Ok(None);
        }
        let entry = SearchEntry::construct(entries.into_iter().next().expect("one"));
        let disabled = entry
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("userAccountControl"))
            .and_then(|(_, v)| v.first())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|flags| (flags as u64) & ACCOUNT_DISABLED != 0);
        Ok(Some((entry.dn, disabled)))
    }

    /// The names of the groups `dn` is in. Active Directory expands nesting itself (the
    /// in-chain rule in the filter); for other directories the groups of each group found
    /// are asked too, up to `MAX_NESTING` levels.
    async fn groups(&self, lease: &mut Lease<'_>, dn: &str) -> Result<Vec<String>, LdapError> {
        let attribute = self.settings.group_name_attribute.as_str();
        let mut names = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut frontier = vec![dn.to_owned()];
        for _ in 0..MAX_NESTING {
            let mut next = Vec::new();
            for member in &frontier {
                let filter = self.settings.group_filter.fill("dn", member);
                let (entries, _) = lease
                    .service()
                    .await?
                    .search(&self.settings.group_base, Scope::Subtree, &filter, vec![attribute])
                    .await?
                    .success()?;
                lease.done();
                for entry in entries.into_iter().map(SearchEntry::construct) {
                    if !seen.insert(entry.dn.to_ascii_lowercase()) || seen.len() > MAX_GROUPS {
                        continue;
                    }
                    if let Some(name) = entry
                        .attrs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
                        .and_then(|(_, v)| v.first())
                    {
                        names.insert(name.clone());
                    }
                    next.push(entry.dn);
                }
            }
            if next.is_empty() || self.settings.kind == DirectoryKind::ActiveDirectory {
                break;
            }
            frontier = next;
        }
        Ok(names.into_iter().collect())
    }
}

/// An LDAP failure in words.
fn describe(e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { result } if result.rc == 49 => {
            "it refused Regent's service account: check directory.bind_dn and directory.bind_password_file".into()
        }
        LdapError::LdapResult { result } => format!("result code {}: {}", result.rc, result.text.trim()),
        other => other.to_string(),
    }
}
