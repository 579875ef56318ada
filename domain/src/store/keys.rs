//! The token service's signing keys, kept with the rest of Regent's data so every replica and
//! every restart signs with the same key the registry trusts, and rotated in two steps so the
//! registry always trusts the key that signs: add a `pending` key (published, not signing),
//! give the registry the new bundle, then make it `active`; the old key is `retired` and stays
//! published until its tokens have expired.

use super::audit::{Actor, record};
use super::{Result, Store, StoreError, now};
use crate::token::KeyMaterial;
use sqlx::Row;

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Pending,
    Active,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Pending => "pending",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "pending" => KeyState::Pending,
            "retired" => KeyState::Retired,
            _ => KeyState::Active,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub id: i64,
    pub material: KeyMaterial,
    pub state: KeyState,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl Store {
    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query(
            "SELECT id, key_pem, cert_pem, state, created_at, retired_at FROM signing_keys ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                id: r.get("id"),
                material: KeyMaterial {
                    key_pem: r.get("key_pem"),
                    cert_pem: r.get("cert_pem"),
                },
                state: KeyState::parse(r.get("state")),
                created_at: r.get("created_at"),
                retired_at: r.get("retired_at"),
            })
            .collect())
    }

    /// Stores a key: `Active` for the first one, `Pending` for the next (see the module).
    pub async fn add_signing_key(&self, actor: &Actor, material: &KeyMaterial, state: KeyState) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO signing_keys (key_pem, cert_pem, state, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&material.key_pem)
            .bind(&material.cert_pem)
            .bind(state.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        record(&mut tx, actor, "token.key_add", "signing key", "ok", state.as_str()).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Makes the newest pending key the signing one and retires the one it replaces.
    pub async fn activate_pending_key(&self, actor: &Actor) -> Result<()> {
        let mut tx = self.write().await?;
        let pending: Option<i64> =
            sqlx::query("SELECT id FROM signing_keys WHERE state = 'pending' ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get("id"));
        let Some(pending) = pending else {
            return Err(StoreError::NotFound(
                "there is no pending signing key; add one first with `regent token new-key`".into(),
            ));
        };
        sqlx::query("UPDATE signing_keys SET state = 'retired', retired_at = $1 WHERE state = 'active'")
            .bind(now())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE signing_keys SET state = 'active' WHERE id = $1")
            .bind(pending)
            .execute(&mut *tx)
            .await?;
        record(&mut tx, actor, "token.key_activate", "signing key", "ok", "").await?;
        self.commit(tx).await?;
        Ok(())
    }
}
