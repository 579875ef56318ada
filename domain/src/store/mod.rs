//! Regent's own data: users, groups, grants, repositories created ahead of their first push,
//! and the audit log, in SQL.
//!
//! SQLite in the data directory is the embedded default (WAL, `synchronous = FULL`: a change
//! that was acknowledged survives the process being killed). The file is created mode 0600:
//! it holds the token signing key, password hashes and session ids. Queries stay portable so a
//! PostgreSQL backend can follow for several replicas. The schema is a list of numbered
//! migrations applied at start-up by `sqlx::migrate!`, each in its own transaction. Every change writes its audit
//! event in the same transaction, so there is never a change without its record, or the
//! reverse. The SQLite behaviour this relies on is in `docs/sqlite.md`.

mod audit;
mod credential;
mod directory;
mod gc;
mod grants;
mod identity;
mod keys;

pub use audit::{Actor, AuditEvent, AuditFilter, DEFAULT_AUDIT_RETENTION_DAYS};
pub use credential::{Credential, SignedIn};
pub use directory::{AccountKind, clash};
pub use gc::UntaggedNote;
pub use grants::CreatedRepository;
pub use identity::{GroupInfo, MIN_PASSWORD, Removed, UserInfo};
pub use keys::{KeyState, StoredKey};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The schema: `migrations/NNNN_name.sql`, applied in order by sqlx's migrator, which records
/// each in `_sqlx_migrations` with its checksum. Never edit one that was released; add the next.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The input breaks a rule; the message says which and what to do.
    #[error("{0}")]
    Invalid(String),
    /// A user, group, grant or repository with that name exists already.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// The database itself failed (disk full, file unreadable, …).
    #[error("Regent's database failed: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the SQLite database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        // Created readable by Regent's user only; SQLite gives the -wal and -shm files the
        // same mode.
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", path.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        self.adopt_old_migrations().await?;
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(format!("cannot bring the schema up to date: {e}")))
    }

    /// A database made before sqlx's migrator recorded its applied versions in
    /// `schema_migrations`, having run the same files. Their versions are written into
    /// `_sqlx_migrations` with the files' checksums (once, in one transaction), so the migrator
    /// sees them as applied and runs only the newer ones.
    async fn adopt_old_migrations(&self) -> Result<()> {
        let table = |name: &'static str| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(name)
        };
        let old = table("schema_migrations").fetch_one(&self.pool).await? > 0;
        if !old || table("_sqlx_migrations").fetch_one(&self.pool).await? > 0 {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?;
        for migration in MIGRATOR.iter().filter(|m| applied.contains(&m.version)) {
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ($1, $2, TRUE, $3, 0)",
            )
            .bind(migration.version)
            .bind(&*migration.description)
            .bind(&*migration.checksum)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(
            versions = applied.len(),
            "adopted the migrations Regent applied before sqlx's migrator"
        );
        Ok(())
    }

    /// The schema version in use.
    pub async fn schema_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get("v"))
    }

    /// SQLite's own check of the whole file: `["ok"]`, or the problems it found.
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The number of changes committed to the store, by any process (the shell's `regent user`
    /// too): what was read at one generation is current while the generation stays.
    pub async fn generation(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT generation FROM store_meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .get("generation"))
    }

    /// Counts the change and commits `tx`.
    pub(crate) async fn commit(&self, mut tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<()> {
        sqlx::query("UPDATE store_meta SET generation = generation + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction, holding SQLite's write lock from its first statement
    /// (`BEGIN IMMEDIATE`). A plain `BEGIN` reads first and asks for the lock at its first
    /// write; when another connection committed in between, SQLite refuses at once with
    /// "database is locked" (`SQLITE_BUSY_SNAPSHOT`) instead of waiting (docs/sqlite.md):
    /// simultaneous first sign-ins of directory users failed that way.
    pub(crate) async fn write(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// The connection pool, for the web sessions kept in the same database.
    pub fn sqlite_pool(&self) -> SqlitePool {
        self.pool.clone()
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A unique-constraint failure as a conflict saying what exists; anything else as is.
pub(crate) fn conflict(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => e.into(),
    }
}
