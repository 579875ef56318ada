//! What a sign-in session and a refresh token stand for: one user *id* with one credential.
//!
//! Both outlive the request that signed in (a session for hours, `docker login`'s refresh
//! token for weeks), so neither may name the user by name: a user deleted and created again
//! under the same name is someone else, and must inherit nothing. A [`Credential`] is the
//! user's row id and a fingerprint of their credential as it was at sign-in: a hash of the
//! row id, the password (or service token) hash and the user's `credential_epoch`. Every use
//! compares it with the fingerprint as it is now ([`Store::viewer_for`]):
//!
//! - a password reset writes a new hash (with a new random salt, even for the same password);
//! - disabling the user bumps the epoch, so enabling them again revives nothing;
//! - deleting the user removes the row; a new user with the name gets a new hash (and maybe
//!   the same row id: SQLite reuses the largest one, see `docs/sqlite.md`).
//!
//! Nothing has to find and delete the old sessions: they can never match again. The
//! fingerprint is a one-way hash of a hash; handing it to a client tells nothing of the password.

use super::{Result, Store, StoreError};
use crate::access::{Name, Viewer};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::fmt;

/// A user id and the fingerprint of their credential, written `<id>.<32 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    user: i64,
    fingerprint: String,
}

impl Credential {
    /// Reads one back from a session or a refresh token; `None` for anything else (such as a
    /// session made before credentials existed: it counts as signed out).
    pub fn parse(text: &str) -> Option<Self> {
        let (id, fingerprint) = text.split_once('.')?;
        let user = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        (fingerprint.len() == 32 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self {
            user,
            fingerprint: fingerprint.to_ascii_lowercase(),
        })
    }

    /// From a user row's id, password hash and epoch.
    pub(super) fn of(user: i64, password_hash: &str, epoch: i64) -> Self {
        let digest = Sha256::new()
            .chain_update(b"regent credential\0")
            .chain_update(user.to_be_bytes())
            .chain_update(epoch.to_be_bytes())
            .chain_update(password_hash.as_bytes())
            .finalize();
        Self {
            user,
            fingerprint: hex::encode(&digest[..16]),
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.user, self.fingerprint)
    }
}

/// A correct password: who signed in, and the credential their session or refresh token holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub viewer: Viewer,
    pub credential: Credential,
}

impl Store {
    /// The user behind `credential` as they are now; `None` if the user is gone, disabled, or
    /// their credential changed since it was issued (see the module header).
    pub async fn viewer_for(&self, credential: &Credential) -> Result<Option<Viewer>> {
        let row = sqlx::query("SELECT name, password_hash, credential_epoch, admin, disabled FROM users WHERE id = $1")
            .bind(credential.user)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        if row.get::<bool, _>("disabled") {
            return Ok(None);
        }
        let current = Credential::of(credential.user, row.get("password_hash"), row.get("credential_epoch"));
        if current != *credential {
            return Ok(None);
        }
        let name: String = row.get("name");
        let name =
            Name::parse(&name).map_err(|e| StoreError::Database(format!("a stored user name cannot be read: {e}")))?;
        Ok(Some(Viewer {
            user: Some(name),
            admin: row.get("admin"),
            groups: self.groups_of(credential.user).await?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::Credential;

    #[test]
    fn a_credential_reads_back_only_in_its_own_form() {
        let c = Credential::of(7, "$argon2id$v=19$…", 3);
        assert_eq!(Credential::parse(&c.to_string()), Some(c.clone()));
        assert_ne!(Credential::of(7, "$argon2id$v=19$…", 4), c, "another epoch");
        assert_ne!(Credential::of(8, "$argon2id$v=19$…", 3), c, "another user");
        for bad in [
            "",
            "7",
            "greg",
            "0.00000000000000000000000000000000",
            "7.abc",
            "x.00000000000000000000000000000000",
        ] {
            assert_eq!(Credential::parse(bad), None, "{bad:?}");
        }
    }
}
