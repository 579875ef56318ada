//! Notes for the garbage-collection plan: which blobs deletes made in Regent may have freed,
//! and which manifests they left untagged. The plan (in `deletes`) checks them against what
//! tagged images still use; the notes are cleared when the operator says the collection ran.

use super::audit::{Actor, record};
use super::{Result, Store, now};
use crate::reference::{Digest, RepositoryName};
use sqlx::Row;

/// A manifest a tag delete left without tags; its blobs stay until `--delete-untagged`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntaggedNote {
    pub repository: RepositoryName,
    pub digest: Digest,
    /// Its config and layer blobs.
    pub blobs: Vec<Digest>,
    /// The manifest and its blobs, in bytes.
    pub size: u64,
}

impl Store {
    /// Blobs that may have lost their last manifest.
    pub async fn note_gc_candidates(&self, blobs: &[(Digest, u64)]) -> Result<()> {
        let mut tx = self.write().await?;
        for (digest, size) in blobs {
            sqlx::query(
                "INSERT INTO gc_candidates (digest, size, noted_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest.as_ref())
            .bind(*size as i64)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A manifest a tag delete left without tags.
    pub async fn note_untagged(&self, note: &UntaggedNote) -> Result<()> {
        let blobs: Vec<&str> = note.blobs.iter().map(AsRef::as_ref).collect();
        sqlx::query(
            "INSERT INTO gc_untagged (repository, digest, blobs, size, noted_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (repository, digest) DO NOTHING",
        )
        .bind(note.repository.as_str())
        .bind(note.digest.as_ref())
        .bind(blobs.join(" "))
        .bind(note.size as i64)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// An untagged manifest was deleted after all.
    pub async fn forget_untagged(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        sqlx::query("DELETE FROM gc_untagged WHERE repository = $1 AND digest = $2")
            .bind(repository.as_str())
            .bind(digest.as_ref())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every note: candidate blobs with sizes, and untagged manifests.
    pub async fn gc_notes(&self) -> Result<(Vec<(Digest, u64)>, Vec<UntaggedNote>)> {
        let candidates = sqlx::query("SELECT digest, size FROM gc_candidates ORDER BY digest")
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .filter_map(|r| {
                let digest = Digest::parse(r.get::<String, _>("digest").as_str()).ok()?;
                Some((digest, r.get::<i64, _>("size").max(0) as u64))
            })
            .collect();
        let untagged =
            sqlx::query("SELECT repository, digest, blobs, size FROM gc_untagged ORDER BY repository, digest")
                .fetch_all(self.pool())
                .await?
                .into_iter()
                .filter_map(|r| {
                    Some(UntaggedNote {
                        repository: RepositoryName::parse(r.get::<String, _>("repository").as_str()).ok()?,
                        digest: Digest::parse(r.get::<String, _>("digest").as_str()).ok()?,
                        blobs: r
                            .get::<String, _>("blobs")
                            .split(' ')
                            .filter_map(|b| Digest::parse(b).ok())
                            .collect(),
                        size: r.get::<i64, _>("size").max(0) as u64,
                    })
                })
                .collect();
        Ok((candidates, untagged))
    }

    /// The operator ran the registry's garbage collection: start the notes afresh.
    pub async fn clear_gc_notes(&self, actor: &Actor) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM gc_candidates").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM gc_untagged").execute(&mut *tx).await?;
        record(
            &mut tx,
            actor,
            "gc.done",
            "registry",
            "ok",
            "garbage collection reported as run",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
