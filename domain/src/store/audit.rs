//! The audit log: who did what to which target, when, from where, and how it ended.
//!
//! Append-only: rows are inserted (in the same transaction as the change they describe) and
//! read, never updated or deleted by Regent.

use super::{Result, Store, now};
use sqlx::{Row, Sqlite, Transaction};

/// Who acts, and from which address (`cli` for the shell, `system` for Regent itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub address: String,
}

impl Actor {
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            address: address.into(),
        }
    }

    /// Regent itself (first-start set-up).
    pub fn system() -> Self {
        Self::new("system", "local")
    }

    /// Someone at the server's shell (`regent user …`).
    pub fn cli() -> Self {
        let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Self::new(format!("cli:{who}"), "local")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub target: String,
    /// `ok`, `refused`, `failed`.
    pub outcome: String,
    pub detail: String,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Substring of the target.
    pub target: Option<String>,
    /// `ok`, `refused` or `failed`.
    pub outcome: Option<String>,
    /// Only events older than this id (paging backwards).
    pub before: Option<i64>,
    pub limit: u32,
}

pub(super) async fn record(
    tx: &mut Transaction<'_, Sqlite>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, address, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now())
    .bind(&actor.name)
    .bind(&actor.address)
    .bind(action)
    .bind(target)
    .bind(outcome)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records an event that is not a change (a refused login, say). It leaves the store's
    /// generation alone: nothing a cache holds changed, and a burst of failed logins must not
    /// empty the token service's caches.
    pub async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        record(&mut tx, actor, action, target, outcome, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events matching `filter`, newest first (at most 500).
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let limit = i64::from(filter.limit.clamp(1, 500));
        let rows = sqlx::query(
            "SELECT id, at, actor, address, action, target, outcome, detail FROM audit_events \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
             AND ($3 IS NULL OR target LIKE '%' || $3 || '%') AND ($4 IS NULL OR id < $4) \
             AND ($6 IS NULL OR outcome = $6) ORDER BY id DESC LIMIT $5",
        )
        .bind(&filter.actor)
        .bind(&filter.action)
        .bind(&filter.target)
        .bind(filter.before)
        .bind(limit)
        .bind(&filter.outcome)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                id: r.get("id"),
                at: r.get("at"),
                actor: r.get("actor"),
                address: r.get("address"),
                action: r.get("action"),
                target: r.get("target"),
                outcome: r.get("outcome"),
                detail: r.get("detail"),
            })
            .collect())
    }
}
