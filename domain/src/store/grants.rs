//! Grants and repositories created ahead of their first push.
//!
//! A grant is stored as its three parts in text (`user:jane`, `team/*`, `write`), parsed back
//! with the same parsers that checked them on the way in. Granting to a user or group that
//! does not exist is refused, so a typo never becomes a grant that silently does nothing.

use super::audit::{Actor, record};
use super::{Result, Store, StoreError, conflict, now};
use crate::access::{Grant, Level, Policy, Rules, Scope, Subject};
use crate::reference::RepositoryName;
use sqlx::Row;

/// A repository created in Regent (a grant scope that shows before anything is pushed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRepository {
    pub name: RepositoryName,
    pub created_by: String,
    pub created_at: i64,
}

impl Store {
    /// Sets `subject`'s level on `scope`, replacing an earlier level for the same pair.
    pub async fn put_grant(&self, actor: &Actor, grant: &Grant) -> Result<()> {
        let mut tx = self.write().await?;
        let (table, name) = match &grant.subject {
            Subject::User(n) => ("users", Some(n)),
            Subject::Group(n) => ("groups", Some(n)),
            Subject::Anonymous | Subject::Authenticated => ("", None),
        };
        if let Some(name) = name {
            let exists = sqlx::query(&format!("SELECT 1 FROM {table} WHERE name = $1"))
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if !exists {
                return Err(StoreError::NotFound(format!(
                    "there is no {} named \"{name}\"; create it first",
                    &table[..table.len() - 1]
                )));
            }
        }
        let previous: Option<String> = sqlx::query("SELECT level FROM grants WHERE subject = $1 AND scope = $2")
            .bind(grant.subject.to_string())
            .bind(grant.scope.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.get("level"));
        sqlx::query(
            "INSERT INTO grants (subject, scope, level, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject, scope) DO UPDATE SET level = excluded.level",
        )
        .bind(grant.subject.to_string())
        .bind(grant.scope.to_string())
        .bind(grant.level.as_str())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let detail = match previous {
            Some(p) => format!("{} on {}: {p} → {}", grant.subject, grant.scope, grant.level),
            None => format!("{} on {}: {}", grant.subject, grant.scope, grant.level),
        };
        record(&mut tx, actor, "grant.put", &grant.scope.to_string(), "ok", &detail).await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn remove_grant(&self, actor: &Actor, subject: &Subject, scope: &Scope) -> Result<()> {
        let mut tx = self.write().await?;
        let gone = sqlx::query("DELETE FROM grants WHERE subject = $1 AND scope = $2")
            .bind(subject.to_string())
            .bind(scope.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound(format!("{subject} has no grant on {scope}")));
        }
        record(
            &mut tx,
            actor,
            "grant.remove",
            &scope.to_string(),
            "ok",
            &subject.to_string(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Every grant, by scope then subject.
    pub async fn grants(&self) -> Result<Vec<Grant>> {
        let rows = sqlx::query("SELECT subject, scope, level FROM grants ORDER BY scope, subject")
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|r| {
                let parse = || -> std::result::Result<Grant, String> {
                    Ok(Grant {
                        subject: Subject::parse(r.get("subject"))?,
                        scope: Scope::parse(r.get("scope"))?,
                        level: Level::parse(r.get("level"))?,
                    })
                };
                parse().map_err(|e| StoreError::Database(format!("a stored grant cannot be read: {e}")))
            })
            .collect()
    }

    /// The whole policy: every grant with `rules`.
    pub async fn policy(&self, rules: Rules) -> Result<Policy> {
        Ok(Policy::new(self.grants().await?, rules))
    }

    /// Creates a repository in Regent before anything is pushed to it.
    pub async fn create_repository(&self, actor: &Actor, name: &RepositoryName) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO repositories (name, created_by, created_at) VALUES ($1, $2, $3)")
            .bind(name.as_str())
            .bind(&actor.name)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, || format!("the repository \"{name}\" was created already")))?;
        record(&mut tx, actor, "repository.create", name.as_str(), "ok", "").await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn created_repositories(&self) -> Result<Vec<CreatedRepository>> {
        let rows = sqlx::query("SELECT name, created_by, created_at FROM repositories ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CreatedRepository {
                    name: RepositoryName::parse(r.get("name"))
                        .map_err(|e| StoreError::Database(format!("a stored repository name cannot be read: {e}")))?,
                    created_by: r.get("created_by"),
                    created_at: r.get("created_at"),
                })
            })
            .collect()
    }
}
