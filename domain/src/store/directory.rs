//! Users and groups "from the directory": what a directory sign-in writes.
//!
//! The first sign-in creates the user (no local password: the stored hash is a marker no
//! password matches); every sign-in makes the user's directory-group memberships what the
//! directory said, creating groups it has not seen before. A sign-in that changes nothing
//! writes nothing, so the store's generation (and with it every cached password check and
//! policy) stays put for the many token requests of a `docker pull`. The directory refusing a
//! user (disabled, gone) ends their sessions by bumping their credential epoch; the row, its
//! grants and its audit history stay. Nothing here deletes because the directory failed to
//! answer: that never reaches the store.

use super::audit::{Actor, record};
use super::credential::{Credential, SignedIn};
use super::{Result, Store, StoreError, now};
use crate::access::{Name, Viewer};
use sqlx::Row;
use std::collections::BTreeSet;

/// The password hash of a directory user: not a PHC string, so no password ever matches it.
pub(super) const DIRECTORY_HASH: &str = "!directory";

/// Where a user name signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// Nobody has the name in Regent.
    Unknown,
    /// A user with a Regent password (or a service account).
    Local,
    /// A user made by a directory sign-in.
    FromDirectory,
}

impl Store {
    pub async fn account_kind(&self, name: &Name) -> Result<AccountKind> {
        let row = sqlx::query("SELECT directory_dn FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            None => AccountKind::Unknown,
            Some(r) if r.get::<Option<String>, _>("directory_dn").is_some() => AccountKind::FromDirectory,
            Some(_) => AccountKind::Local,
        })
    }

    /// Signs in `name`, whom the directory knows as `dn` in `groups` (names as the directory
    /// spells them; lowercased, and skipped when not a valid Regent name). Refuses a local
    /// user of the same name, and a directory user an administrator disabled in Regent. The
    /// sign-in itself is recorded (`directory.sign_in` by `signing_in`) in the same
    /// transaction as what it changed: one commit, one sync to disk, per directory check.
    pub async fn sign_in_from_directory(
        &self,
        actor: &Actor,
        signing_in: &Actor,
        name: &Name,
        dn: &str,
        groups: &[String],
    ) -> Result<SignedIn> {
        let wanted: BTreeSet<Name> = groups
            .iter()
            .filter_map(|g| match Name::parse(&g.to_lowercase()) {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::warn!(group = %g, error = %e, "a directory group whose name Regent cannot use; skipped");
                    None
                }
            })
            .collect();
        let target = format!("user:{name}");
        let mut tx = self.write().await?;
        let mut changed = false;
        let row = sqlx::query("SELECT id, directory_dn, disabled FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let id: i64 = match row {
            Some(r) if r.get::<Option<String>, _>("directory_dn").is_none() => {
                return Err(StoreError::Conflict(clash(name)));
            }
            Some(r) if r.get::<bool, _>("disabled") => {
                return Err(StoreError::Invalid(format!(
                    "\"{name}\" is disabled in Regent; an administrator can enable them on /admin/users"
                )));
            }
            Some(r) => {
                let id = r.get("id");
                if r.get::<Option<String>, _>("directory_dn").as_deref() != Some(dn) {
                    sqlx::query("UPDATE users SET directory_dn = $1 WHERE id = $2")
                        .bind(dn)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    record(&mut tx, actor, "directory.user_moved", &target, "ok", dn).await?;
                    changed = true;
                }
                id
            }
            None => {
                let id = sqlx::query(
                    "INSERT INTO users (name, password_hash, admin, disabled, created_at, directory_dn) \
                     VALUES ($1, $2, FALSE, FALSE, $3, $4) RETURNING id",
                )
                .bind(name.as_str())
                .bind(DIRECTORY_HASH)
                .bind(now())
                .bind(dn)
                .fetch_one(&mut *tx)
                .await?
                .get("id");
                record(
                    &mut tx,
                    actor,
                    "user.create",
                    &target,
                    "ok",
                    &format!("from the directory: {dn}"),
                )
                .await?;
                changed = true;
                id
            }
        };
        let current: BTreeSet<Name> = sqlx::query(
            "SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 AND g.directory",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| super::identity::stored_name(r.get("name")))
        .collect();
        for group in wanted.difference(&current) {
            let existing = sqlx::query("SELECT id, directory FROM groups WHERE name = $1")
                .bind(group.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let group_id: i64 = match existing {
                Some(g) if !g.get::<bool, _>("directory") => {
                    tracing::warn!(%group, "a directory group has the name of a local group; not joined");
                    continue;
                }
                Some(g) => g.get("id"),
                None => {
                    let gid = sqlx::query(
                        "INSERT INTO groups (name, created_at, directory) VALUES ($1, $2, TRUE) RETURNING id",
                    )
                    .bind(group.as_str())
                    .bind(now())
                    .fetch_one(&mut *tx)
                    .await?
                    .get("id");
                    record(
                        &mut tx,
                        actor,
                        "group.create",
                        &format!("group:{group}"),
                        "ok",
                        "from the directory",
                    )
                    .await?;
                    gid
                }
            };
            sqlx::query(
                "INSERT INTO memberships (group_id, user_id, owner) VALUES ($1, $2, FALSE) ON CONFLICT DO NOTHING",
            )
            .bind(group_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            record(
                &mut tx,
                actor,
                "group.add_member",
                &format!("group:{group}"),
                "ok",
                &format!("{target} (seen in the directory)"),
            )
            .await?;
            changed = true;
        }
        for group in current.difference(&wanted) {
            sqlx::query(
                "DELETE FROM memberships WHERE user_id = $1 AND group_id = (SELECT id FROM groups WHERE name = $2)",
            )
            .bind(id)
            .bind(group.as_str())
            .execute(&mut *tx)
            .await?;
            record(
                &mut tx,
                actor,
                "group.remove_member",
                &format!("group:{group}"),
                "ok",
                &format!("{target} (no longer in the directory group)"),
            )
            .await?;
            changed = true;
        }
        let row = sqlx::query("SELECT credential_epoch, admin FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let (epoch, admin): (i64, bool) = (row.get("credential_epoch"), row.get("admin"));
        record(&mut tx, signing_in, "directory.sign_in", &target, "ok", dn).await?;
        if changed {
            self.commit(tx).await?;
        } else {
            tx.commit().await?;
        }
        Ok(SignedIn {
            viewer: Viewer {
                user: Some(name.clone()),
                admin,
                groups: self.groups_of(id).await?,
            },
            credential: Credential::of(id, DIRECTORY_HASH, epoch),
        })
    }

    /// The directory refused `name` (disabled there, or gone from the search): their sessions
    /// and refresh tokens end; the user, their grants and history stay. Nothing for a name
    /// that is not a directory user.
    pub async fn refused_by_directory(&self, actor: &Actor, name: &Name, why: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE users SET credential_epoch = credential_epoch + 1 WHERE name = $1 AND directory_dn IS NOT NULL",
        )
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(());
        }
        record(
            &mut tx,
            actor,
            "directory.refused",
            &format!("user:{name}"),
            "ok",
            &format!("{why}; sessions ended, the user and their grants kept"),
        )
        .await?;
        self.commit(tx).await
    }
}

/// The refusal for a name that is both a local user and in the directory.
pub fn clash(name: &Name) -> String {
    format!(
        "\"{name}\" is both a local Regent user and a user of the company directory; an administrator must rename or delete the local user before either can sign in"
    )
}
