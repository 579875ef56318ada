//! Users, groups and memberships, and checking passwords.
//!
//! A password reset, a new service token and disabling a user each bump the user's
//! `credential_epoch` in the same statement, which ends their sessions and refresh tokens for
//! good (`credential.rs`). Deleting a user or group takes with it the grants made to it and
//! the grants on its namespace (`users/<name>/…`, `groups/<name>/…`), so a user or group
//! created later under the same name inherits nothing that was granted before.
//!
//! Passwords are stored as argon2id hashes; hashing runs off the async threads. A check for a
//! user that does not exist (or is disabled) does the same work as a wrong password, so the
//! time taken never tells whether a name exists.

use super::audit::{Actor, record};
use super::credential::{Credential, SignedIn};
use super::{Result, Store, StoreError, conflict, now};
use crate::access::{Name, Viewer};
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::Row;

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD: usize = 10;
/// And longer than this (argon2 would take them, but nobody types them).
pub const MAX_PASSWORD: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: Name,
    pub admin: bool,
    pub disabled: bool,
    /// A service account: authenticates to the registry with a generated token, never to
    /// Regent's pages.
    pub service: bool,
    pub created_at: i64,
    /// Made by a directory sign-in: no Regent password; the directory says who they are.
    pub directory: bool,
    /// Groups, and whether the user owns each.
    pub groups: Vec<(Name, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: Name,
    pub created_at: i64,
    /// Its members are what the company directory says (at each member's last sign-in).
    pub directory: bool,
    /// Members, and whether each owns the group.
    pub members: Vec<(Name, bool)>,
}

/// Users and groups are deleted alike.
#[derive(Debug, Clone, Copy)]
enum Kind {
    User,
    Group,
}

/// What deleting a user or group took with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    pub memberships: u64,
    /// Grants made to the user or group.
    pub grants: u64,
    /// Grants (to anyone) on repositories in its namespace, `users/<name>/…` or
    /// `groups/<name>/…`: its own to give, and nobody's once it is gone.
    pub namespace_grants: u64,
}

fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(StoreError::Invalid(format!(
            "the password is {n} characters; use at least {MIN_PASSWORD}"
        )));
    }
    if n > MAX_PASSWORD {
        return Err(StoreError::Invalid(format!(
            "the password is longer than {MAX_PASSWORD} characters"
        )));
    }
    Ok(())
}

async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Database(format!("hashing a password failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Database(format!("hashing a password failed: {e}")))?
}

/// A hash of a random password nobody has, checked when the user is unknown so that the
/// answer takes as long as for a known user.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn verify(password: &str, stored: Option<String>) -> bool {
    let password = password.to_owned();
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => match DUMMY_HASH
            .get_or_try_init(|| async { hash(&random_password()).await })
            .await
        {
            Ok(h) => h.clone(),
            Err(_) => return false,
        },
    };
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// A random password for the first admin: 20 characters from an unambiguous alphabet.
fn random_password() -> String {
    random_text(20)
}

/// A service account's token: `regent_` and 40 random characters (about 230 bits).
fn service_token() -> String {
    format!("regent_{}", random_text(40))
}

/// `length` characters from an unambiguous alphabet, each equally likely.
fn random_text(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Bytes at or above the largest multiple of the alphabet size are skipped (no bias).
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(length);
    let mut bytes = [0u8; 64];
    while out.len() < length {
        OsRng.fill_bytes(&mut bytes);
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < limit)
                .take(length - out.len())
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char),
        );
    }
    out
}

impl Store {
    /// On an empty store, creates the `admin` user with `password`, or a random one that is
    /// returned so it can be shown once. Does nothing when any user exists.
    pub async fn ensure_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(self.pool())
            .await?
            .get("n");
        if users > 0 {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => (p.to_owned(), None),
            None => {
                let p = random_password();
                (p.clone(), Some(p))
            }
        };
        let admin = Name::parse("admin").expect("a valid name");
        self.create_user(&Actor::system(), &admin, &password, true).await?;
        Ok(generated)
    }

    pub async fn create_user(&self, actor: &Actor, name: &Name, password: &str, admin: bool) -> Result<UserInfo> {
        check_password(password)?;
        let hash = hash(password).await?;
        let created_at = now();
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO users (name, password_hash, admin, disabled, created_at) VALUES ($1, $2, $3, FALSE, $4)",
        )
        .bind(name.as_str())
        .bind(&hash)
        .bind(admin)
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("a user named \"{name}\" exists already")))?;
        let detail = if admin { "global admin" } else { "" };
        record(&mut tx, actor, "user.create", &format!("user:{name}"), "ok", detail).await?;
        self.commit(tx).await?;
        Ok(UserInfo {
            name: name.clone(),
            admin,
            disabled: false,
            service: false,
            created_at,
            directory: false,
            groups: vec![],
        })
    }

    /// Creates a service account and returns its token, which is stored only as a hash: show
    /// it once.
    pub async fn create_service_account(&self, actor: &Actor, name: &Name) -> Result<String> {
        let secret = service_token();
        let hash = hash(&secret).await?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO users (name, password_hash, admin, disabled, service, created_at) \
             VALUES ($1, $2, FALSE, FALSE, TRUE, $3)",
        )
        .bind(name.as_str())
        .bind(&hash)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            conflict(e, || {
                format!("a user or service account named \"{name}\" exists already")
            })
        })?;
        record(
            &mut tx,
            actor,
            "service_account.create",
            &format!("user:{name}"),
            "ok",
            "",
        )
        .await?;
        self.commit(tx).await?;
        Ok(secret)
    }

    /// Gives a service account a new token; the old one stops working at once.
    pub async fn new_service_token(&self, actor: &Actor, name: &Name) -> Result<String> {
        let secret = service_token();
        let hash = hash(&secret).await?;
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE users SET password_hash = $1, credential_epoch = credential_epoch + 1 WHERE name = $2 AND service",
        )
        .bind(&hash)
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "there is no service account named \"{name}\""
            )));
        }
        record(
            &mut tx,
            actor,
            "service_account.new_token",
            &format!("user:{name}"),
            "ok",
            "",
        )
        .await?;
        self.commit(tx).await?;
        Ok(secret)
    }

    pub async fn set_password(&self, actor: &Actor, name: &Name, password: &str) -> Result<()> {
        if self.account_kind(name).await? == super::AccountKind::FromDirectory {
            return Err(StoreError::Invalid(format!(
                "\"{name}\" signs in with the company directory and has no Regent password; change it in the directory"
            )));
        }
        check_password(password)?;
        let hash = hash(password).await?;
        self.update_user(actor, name, "user.password", "", false, |q| {
            sqlx::query("UPDATE users SET password_hash = $1, credential_epoch = credential_epoch + 1 WHERE name = $2")
                .bind(hash.clone())
                .bind(q)
        })
        .await
    }

    /// Gives or takes the global `admin` role.
    pub async fn set_admin(&self, actor: &Actor, name: &Name, admin: bool) -> Result<()> {
        let detail = if admin { "granted" } else { "revoked" };
        self.update_user(actor, name, "user.admin", detail, !admin, |q| {
            sqlx::query("UPDATE users SET admin = $1 WHERE name = $2")
                .bind(admin)
                .bind(q)
        })
        .await
    }

    /// A disabled user cannot sign in; their grants and memberships stay. Disabling ends
    /// their sessions and refresh tokens for good: enabling them again revives none.
    pub async fn set_disabled(&self, actor: &Actor, name: &Name, disabled: bool) -> Result<()> {
        let action = if disabled { "user.disable" } else { "user.enable" };
        self.update_user(actor, name, action, "", disabled, |q| {
            sqlx::query(
                "UPDATE users SET disabled = $1, \
                 credential_epoch = credential_epoch + CASE WHEN $1 THEN 1 ELSE 0 END WHERE name = $2",
            )
            .bind(disabled)
            .bind(q)
        })
        .await
    }

    async fn update_user<'q, F>(
        &self,
        actor: &Actor,
        name: &'q Name,
        action: &str,
        detail: &str,
        may_remove_admin: bool,
        query: F,
    ) -> Result<()>
    where
        F: FnOnce(&'q str) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    {
        let mut tx = self.write().await?;
        let changed = query(name.as_str()).execute(&mut *tx).await?.rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("there is no user named \"{name}\"")));
        }
        if may_remove_admin {
            keep_an_admin(&mut tx, name).await?;
        }
        record(&mut tx, actor, action, &format!("user:{name}"), "ok", detail).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Deletes a user with their memberships and the grants made to them.
    pub async fn delete_user(&self, actor: &Actor, name: &Name) -> Result<Removed> {
        self.delete_subject(actor, Kind::User, name).await
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>> {
        let rows =
            sqlx::query("SELECT id, name, admin, disabled, service, created_at, directory_dn FROM users ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        let memberships = sqlx::query(
            "SELECT m.user_id, g.name, m.owner FROM memberships m JOIN groups g ON g.id = m.group_id ORDER BY g.name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let id: i64 = r.get("id");
                UserInfo {
                    name: stored_name(r.get("name")),
                    admin: r.get("admin"),
                    disabled: r.get("disabled"),
                    service: r.get("service"),
                    created_at: r.get("created_at"),
                    directory: r.get::<Option<String>, _>("directory_dn").is_some(),
                    groups: memberships
                        .iter()
                        .filter(|m| m.get::<i64, _>("user_id") == id)
                        .map(|m| (stored_name(m.get("name")), m.get("owner")))
                        .collect(),
                }
            })
            .collect())
    }

    /// One user with their groups (asked on every request of a signed-in user: two small
    /// queries, not the whole user table).
    pub async fn user(&self, name: &Name) -> Result<Option<UserInfo>> {
        let Some(row) =
            sqlx::query("SELECT id, admin, disabled, service, created_at, directory_dn FROM users WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(self.pool())
                .await?
        else {
            return Ok(None);
        };
        Ok(Some(UserInfo {
            name: name.clone(),
            admin: row.get("admin"),
            disabled: row.get("disabled"),
            service: row.get("service"),
            created_at: row.get("created_at"),
            directory: row.get::<Option<String>, _>("directory_dn").is_some(),
            groups: self.groups_of(row.get("id")).await?,
        }))
    }

    /// The groups of the user with row id `user`, and whether they own each.
    pub(super) async fn groups_of(&self, user: i64) -> Result<Vec<(Name, bool)>> {
        let groups = sqlx::query(
            "SELECT g.name, m.owner FROM memberships m JOIN groups g ON g.id = m.group_id \
             WHERE m.user_id = $1 ORDER BY g.name",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        Ok(groups
            .into_iter()
            .map(|g| (stored_name(g.get("name")), g.get("owner")))
            .collect())
    }

    /// Who a name and password sign in, with the credential they signed in with (read from
    /// the same row as the hash that was checked); `None` for a wrong password, an unknown or
    /// a disabled user (all alike, so a caller cannot tell them apart).
    pub async fn verify_password(&self, name: &str, password: &str) -> Result<Option<SignedIn>> {
        let row = match Name::parse(name) {
            Ok(n) => {
                sqlx::query(
                    "SELECT id, name, password_hash, credential_epoch, admin, disabled FROM users WHERE name = $1",
                )
                .bind(n.as_str())
                .fetch_optional(self.pool())
                .await?
            }
            Err(_) => None,
        };
        let usable = row.filter(|r| !r.get::<bool, _>("disabled"));
        let stored = usable.as_ref().map(|r| r.get::<String, _>("password_hash"));
        if !verify(password, stored.clone()).await {
            return Ok(None);
        }
        let (Some(row), Some(hash)) = (usable, stored) else {
            return Ok(None);
        };
        let id: i64 = row.get("id");
        Ok(Some(SignedIn {
            viewer: Viewer {
                user: Some(stored_name(row.get("name"))),
                admin: row.get("admin"),
                groups: self.groups_of(id).await?,
            },
            credential: Credential::of(id, &hash, row.get("credential_epoch")),
        }))
    }

    /// What the policy needs to know about a user; `None` if unknown or disabled.
    pub async fn viewer(&self, name: &Name) -> Result<Option<Viewer>> {
        Ok(self.user(name).await?.filter(|u| !u.disabled).map(|u| Viewer {
            user: Some(u.name),
            admin: u.admin,
            groups: u.groups,
        }))
    }

    pub async fn create_group(&self, actor: &Actor, name: &Name) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO groups (name, created_at) VALUES ($1, $2)")
            .bind(name.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, || format!("a group named \"{name}\" exists already")))?;
        record(&mut tx, actor, "group.create", &format!("group:{name}"), "ok", "").await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Deletes a group with its memberships and the grants made to it.
    pub async fn delete_group(&self, actor: &Actor, name: &Name) -> Result<Removed> {
        self.delete_subject(actor, Kind::Group, name).await
    }

    async fn delete_subject(&self, actor: &Actor, kind: Kind, name: &Name) -> Result<Removed> {
        let (table, column, word) = match kind {
            Kind::User => ("users", "user_id", "user"),
            Kind::Group => ("groups", "group_id", "group"),
        };
        let subject = match kind {
            Kind::User => crate::access::Subject::User(name.clone()),
            Kind::Group => crate::access::Subject::Group(name.clone()),
        };
        let mut tx = self.write().await?;
        let memberships = sqlx::query(&format!(
            "DELETE FROM memberships WHERE {column} = (SELECT id FROM {table} WHERE name = $1)"
        ))
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let grants = sqlx::query("DELETE FROM grants WHERE subject = $1")
            .bind(subject.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // `users/<name>/` and everything below it, as `Scope::inside` says (prefix compared
        // as text: no LIKE wildcards).
        let namespace = format!("{}/", subject.namespace().expect("users and groups have one"));
        let namespace_grants = sqlx::query("DELETE FROM grants WHERE substr(scope, 1, length($1)) = $1")
            .bind(&namespace)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let gone = sqlx::query(&format!("DELETE FROM {table} WHERE name = $1"))
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound(format!("there is no {word} named \"{name}\"")));
        }
        if let Kind::User = kind {
            keep_an_admin(&mut tx, name).await?;
        }
        let detail =
            format!("{memberships} memberships, {grants} grants, {namespace_grants} grants on {namespace}* removed");
        record(
            &mut tx,
            actor,
            &format!("{word}.delete"),
            &format!("{word}:{name}"),
            "ok",
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(Removed {
            memberships,
            grants,
            namespace_grants,
        })
    }

    /// Adds `user` to `group` (or changes whether they own it).
    pub async fn add_member(&self, actor: &Actor, group: &Name, user: &Name, owner: bool) -> Result<()> {
        self.refuse_directory_group(group).await?;
        let mut tx = self.write().await?;
        let ids = sqlx::query(
            "SELECT (SELECT id FROM groups WHERE name = $1) AS g, (SELECT id FROM users WHERE name = $2) AS u",
        )
        .bind(group.as_str())
        .bind(user.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let (Some(g), Some(u)) = (ids.get::<Option<i64>, _>("g"), ids.get::<Option<i64>, _>("u")) else {
            return Err(StoreError::NotFound(format!(
                "both must exist: group \"{group}\" and user \"{user}\""
            )));
        };
        sqlx::query(
            "INSERT INTO memberships (group_id, user_id, owner) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, user_id) DO UPDATE SET owner = excluded.owner",
        )
        .bind(g)
        .bind(u)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        let detail = if owner { "as owner" } else { "" };
        record(
            &mut tx,
            actor,
            "group.add_member",
            &format!("group:{group}"),
            "ok",
            format!("user:{user} {detail}").trim(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn remove_member(&self, actor: &Actor, group: &Name, user: &Name) -> Result<()> {
        self.refuse_directory_group(group).await?;
        let mut tx = self.write().await?;
        let gone = sqlx::query(
            "DELETE FROM memberships WHERE group_id = (SELECT id FROM groups WHERE name = $1) \
             AND user_id = (SELECT id FROM users WHERE name = $2)",
        )
        .bind(group.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound(format!(
                "\"{user}\" is not a member of \"{group}\""
            )));
        }
        record(
            &mut tx,
            actor,
            "group.remove_member",
            &format!("group:{group}"),
            "ok",
            &format!("user:{user}"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// A directory group's members are the directory's to say.
    async fn refuse_directory_group(&self, group: &Name) -> Result<()> {
        let directory: Option<bool> = sqlx::query_scalar("SELECT directory FROM groups WHERE name = $1")
            .bind(group.as_str())
            .fetch_optional(self.pool())
            .await?;
        if directory == Some(true) {
            return Err(StoreError::Invalid(format!(
                "\"{group}\" comes from the company directory: its members are who the directory says at their sign-in; change them in the directory"
            )));
        }
        Ok(())
    }

    pub async fn groups(&self) -> Result<Vec<GroupInfo>> {
        let groups = sqlx::query("SELECT id, name, created_at, directory FROM groups ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        let members = sqlx::query(
            "SELECT m.group_id, u.name, m.owner FROM memberships m JOIN users u ON u.id = m.user_id ORDER BY u.name",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(groups
            .into_iter()
            .map(|g| {
                let id: i64 = g.get("id");
                GroupInfo {
                    name: stored_name(g.get("name")),
                    created_at: g.get("created_at"),
                    directory: g.get("directory"),
                    members: members
                        .iter()
                        .filter(|m| m.get::<i64, _>("group_id") == id)
                        .map(|m| (stored_name(m.get("name")), m.get("owner")))
                        .collect(),
                }
            })
            .collect())
    }
}

/// Refuses (by failing the transaction) a change that leaves no enabled administrator: nobody
/// could manage users any more, short of the shell.
async fn keep_an_admin(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, name: &Name) -> Result<()> {
    let admins: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE admin AND NOT disabled")
        .fetch_one(&mut **tx)
        .await?
        .get("n");
    if admins == 0 {
        return Err(StoreError::Invalid(format!(
            "\"{name}\" is the last enabled administrator; make another user an administrator first"
        )));
    }
    Ok(())
}

/// A name read back from the store, where only checked names are written.
pub(super) fn stored_name(s: String) -> Name {
    Name::parse(&s).unwrap_or_else(|e| panic!("the store holds a name it never accepted ({e}); was it edited by hand?"))
}
