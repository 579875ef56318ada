//! The audit log: who did what to which target, when, from where, and how it ended.
//!
//! Changes are inserted in the same transaction as the change they describe and never
//! altered. Refusals (failed sign-ins, changes someone was not allowed to make) can be sent by
//! anyone, signed in or not, as fast as they like; so that they cannot fill the disk,
//! identical refusals (same actor, address, action, target and detail) in the same minute are
//! one row whose `count` goes up, in one upsert. Rows older than the retention setting
//! (default [`DEFAULT_AUDIT_RETENTION_DAYS`]) are deleted once a day ([`Store::prune_audit`]).

use super::{Result, Store, now};
use sha2::{Digest, Sha256};
use sqlx::{Row, Sqlite, Transaction};

/// How long audit events are kept unless configured otherwise: a year and a bit, so last
/// year's events are there for a yearly review.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 400;
/// Refusals are folded per minute.
const FOLD_SECONDS: i64 = 60;

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
    /// How many identical refusals this row stands for (1 for everything else).
    pub count: i64,
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
    metrics::counter!("regent_audit_writes_total", "kind" => "row").increment(1);
    Ok(())
}

impl Store {
    /// Records an event that is not a change (a refused login, say). It leaves the store's
    /// generation alone: nothing a cache holds changed, and a burst of failed logins must not
    /// empty the token service's caches. A refusal identical to one recorded in the same
    /// minute adds to that row's count instead of writing another row.
    pub async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        self.record_event_at(now(), actor, action, target, outcome, detail)
            .await
    }

    async fn record_event_at(
        &self,
        at: i64,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        if outcome != "refused" {
            let mut tx = self.write().await?;
            record(&mut tx, actor, action, target, outcome, detail).await?;
            tx.commit().await?;
            return Ok(());
        }
        let minute = at.div_euclid(FOLD_SECONDS);
        let mut key = Sha256::new().chain_update(minute.to_be_bytes());
        for part in [&actor.name, &actor.address, action, target, outcome, detail] {
            // Each part with its length first, so no two different events share a key.
            key.update((part.len() as u64).to_be_bytes());
            key.update(part.as_bytes());
        }
        let key = hex::encode(&key.finalize()[..16]);
        sqlx::query(
            "INSERT INTO audit_events (at, actor, address, action, target, outcome, detail, count, fold_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) \
             ON CONFLICT (fold_key) DO UPDATE SET count = audit_events.count + 1",
        )
        .bind(at)
        .bind(&actor.name)
        .bind(&actor.address)
        .bind(action)
        .bind(target)
        .bind(outcome)
        .bind(detail)
        .bind(key)
        .execute(self.pool())
        .await?;
        metrics::counter!("regent_audit_writes_total", "kind" => "folded_refusal").increment(1);
        Ok(())
    }

    /// Deletes audit events older than `keep_days` days before `now` (Unix seconds); returns
    /// how many. The deletion is itself recorded when it removed anything.
    pub async fn prune_audit(&self, now: i64, keep_days: u32) -> Result<u64> {
        let cutoff = now - i64::from(keep_days) * 86_400;
        let gone = sqlx::query("DELETE FROM audit_events WHERE at < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?
            .rows_affected();
        if gone > 0 {
            self.record_event(
                &Actor::system(),
                "audit.prune",
                "audit",
                "ok",
                &format!("{gone} events older than {keep_days} days deleted"),
            )
            .await?;
        }
        Ok(gone)
    }

    /// Events matching `filter`, newest first (at most 500). An action filter takes its family
    /// too: `delete` (or `delete.*`) is every `delete.…` action as well as `delete` itself.
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let limit = i64::from(filter.limit.clamp(1, 500));
        let action = filter.action.as_deref().map(|a| a.strip_suffix(".*").unwrap_or(a));
        let family = action.map(|a| format!("{}.%", a.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        let rows = sqlx::query(
            "SELECT id, at, actor, address, action, target, outcome, detail, count FROM audit_events \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2 OR action LIKE $7 ESCAPE '\\') \
             AND ($3 IS NULL OR target LIKE '%' || $3 || '%') AND ($4 IS NULL OR id < $4) \
             AND ($6 IS NULL OR outcome = $6) ORDER BY id DESC LIMIT $5",
        )
        .bind(&filter.actor)
        .bind(action)
        .bind(&filter.target)
        .bind(filter.before)
        .bind(limit)
        .bind(&filter.outcome)
        .bind(family)
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
                count: r.get("count"),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{Actor, AuditFilter, Store};

    #[tokio::test]
    async fn identical_refusals_in_one_minute_are_one_row_with_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
        let stranger = Actor::new("anonymous", "192.0.2.7");
        let minute = 1_800_000_000 / 60 * 60;
        for second in [0, 1, 59] {
            store
                .record_event_at(
                    minute + second,
                    &stranger,
                    "group.create",
                    "group:x",
                    "refused",
                    "sign in first",
                )
                .await
                .unwrap();
        }
        // Each of these differs from the three above in one thing: the next minute, another
        // address, actor, target, detail; and an outcome that is not a refusal is never folded.
        let elsewhere = Actor::new("anonymous", "192.0.2.8");
        let greg = Actor::new("greg", "192.0.2.7");
        store
            .record_event_at(
                minute + 60,
                &stranger,
                "group.create",
                "group:x",
                "refused",
                "sign in first",
            )
            .await
            .unwrap();
        store
            .record_event_at(
                minute,
                &elsewhere,
                "group.create",
                "group:x",
                "refused",
                "sign in first",
            )
            .await
            .unwrap();
        store
            .record_event_at(minute, &greg, "group.create", "group:x", "refused", "sign in first")
            .await
            .unwrap();
        store
            .record_event_at(minute, &stranger, "group.create", "group:y", "refused", "sign in first")
            .await
            .unwrap();
        store
            .record_event_at(minute, &stranger, "group.create", "group:x", "refused", "other")
            .await
            .unwrap();
        for _ in 0..2 {
            store
                .record_event_at(minute, &stranger, "logout", "user:x", "ok", "")
                .await
                .unwrap();
        }
        let filter = AuditFilter {
            limit: 500,
            ..AuditFilter::default()
        };
        let counts: Vec<i64> = store
            .audit_events(&filter)
            .await
            .unwrap()
            .into_iter()
            .rev()
            .filter(|e| e.action != "user.create")
            .map(|e| e.count)
            .collect();
        assert_eq!(counts, [3, 1, 1, 1, 1, 1, 1, 1]);
    }

    #[tokio::test]
    async fn an_action_filter_matches_its_family() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
        let amy = Actor::new("amy", "192.0.2.7");
        for action in [
            "delete",
            "delete.tag",
            "delete.stream_tag",
            "deletex",
            "deleted.tag",
            "user.delete",
        ] {
            store.record_event(&amy, action, "t", "ok", "").await.unwrap();
        }
        let actions = |filter: &'static str| {
            let store = store.clone();
            async move {
                let filter = AuditFilter {
                    action: Some(filter.to_owned()),
                    limit: 500,
                    ..AuditFilter::default()
                };
                let mut found: Vec<String> = store
                    .audit_events(&filter)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.action)
                    .collect();
                found.sort();
                found
            }
        };
        let family = ["delete", "delete.stream_tag", "delete.tag"];
        assert_eq!(actions("delete").await, family);
        assert_eq!(actions("delete.*").await, family);
        assert_eq!(actions("delete.tag").await, ["delete.tag"]);
        // `_` in a name is a letter, not LIKE's wildcard.
        assert_eq!(actions("delete.stream_tag").await, ["delete.stream_tag"]);
        assert!(actions("delete.stream.tag").await.is_empty());
    }
}
