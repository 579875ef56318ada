//! The token service's signing keys, kept with the rest of Regent's data so every replica and
//! every restart signs with the same key the registry trusts.

use super::audit::{Actor, record};
use super::{Result, Store, now};
use crate::token::KeyMaterial;
use sqlx::Row;

impl Store {
    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<KeyMaterial>> {
        let rows = sqlx::query("SELECT key_pem, cert_pem FROM signing_keys ORDER BY id DESC")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| KeyMaterial {
                key_pem: r.get("key_pem"),
                cert_pem: r.get("cert_pem"),
            })
            .collect())
    }

    pub async fn add_signing_key(&self, material: &KeyMaterial) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO signing_keys (key_pem, cert_pem, created_at) VALUES ($1, $2, $3)")
            .bind(&material.key_pem)
            .bind(&material.cert_pem)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        record(&mut tx, &Actor::system(), "token.key_created", "signing key", "ok", "").await?;
        self.commit(tx).await?;
        Ok(())
    }
}
