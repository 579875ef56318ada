//! Fast restarts: the index kept in `<data_dir>/index.snapshot` (docs/index-snapshot.md).
//!
//! A crawl of a big registry takes minutes; without a snapshot every restart shows a partial
//! index for that long. Regent writes the index after each complete crawl, every
//! `snapshot_every` while notifications changed it, and at shutdown; on start it loads the
//! snapshot, answers searches from it at once (marked "as of" the time it was taken), and
//! the first crawl reconciles it with the registry: a HEAD per tag, a GET only for digests the
//! index does not hold.
//!
//! The file is a small header (magic, format version, CRC-32, time taken, the registry URL)
//! and a postcard body (`store::snapshot`). It is written to a temp file in the same
//! directory, fsynced, renamed over the old one and the directory fsynced, so a crash leaves
//! the old snapshot or the new one, never a mix. A snapshot that is truncated, fails its
//! checksum, has another format version or belongs to another registry is ignored with a
//! warning: the cold crawl is slower, never wrong.

use super::CatalogIndex;
use super::store::IndexData;
use super::store::snapshot::Body;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The snapshot's file name in the data directory.
pub const SNAPSHOT_FILE: &str = "index.snapshot";

/// The first 8 bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"REGENTIX";

/// The body layout this build writes and reads; any other is ignored (and rewritten).
pub const FORMAT_VERSION: u32 = 1;

/// magic (8) + version (4) + CRC-32 (4); the checksum covers everything after it.
const FIXED: usize = 16;

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("there is no snapshot at {0}")]
    Missing(PathBuf),
    #[error("{path} cannot be read or written: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("it is not a Regent index snapshot (wrong magic bytes)")]
    NotASnapshot,
    #[error("it has format version {found}; this Regent reads version {FORMAT_VERSION}")]
    OtherVersion { found: u32 },
    #[error("it belongs to the registry {found}, not {expected}")]
    OtherRegistry { found: String, expected: String },
    #[error("it is damaged: {0}")]
    Corrupt(String),
}

/// What a loaded snapshot holds.
#[derive(Debug)]
pub struct Snapshot {
    pub taken: SystemTime,
    pub registry: String,
    pub data: IndexData,
}

/// The snapshot of `data`, taken at `taken`, for the registry at `registry`.
pub fn encode(data: &IndexData, registry: &str, taken: SystemTime) -> Vec<u8> {
    let body = postcard::to_stdvec(&Body::of(data)).expect("an in-memory body always serialises");
    let millis = taken.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut out = Vec::with_capacity(FIXED + 20 + registry.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&millis.to_le_bytes());
    out.extend_from_slice(&(registry.len() as u32).to_le_bytes());
    out.extend_from_slice(registry.as_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out[FIXED..]);
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Reads a snapshot, refusing it unless every check passes and it is `registry`'s.
pub fn decode(bytes: &[u8], registry: &str) -> Result<Snapshot, SnapshotError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    let truncated = || SnapshotError::Corrupt("it is truncated".into());
    let mut r = Reader(&bytes[MAGIC.len()..]);
    let version = u32::from_le_bytes(r.take(4).ok_or_else(truncated)?.try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(SnapshotError::OtherVersion { found: version });
    }
    let crc = u32::from_le_bytes(r.take(4).ok_or_else(truncated)?.try_into().expect("4 bytes"));
    if crc32fast::hash(r.0) != crc {
        return Err(SnapshotError::Corrupt(
            "its checksum does not match (truncated or overwritten)".into(),
        ));
    }
    let millis = r.u64().ok_or_else(truncated)?;
    let url_len = r.u32().ok_or_else(truncated)? as usize;
    let found = std::str::from_utf8(r.take(url_len).ok_or_else(truncated)?)
        .map_err(|_| SnapshotError::Corrupt("its registry URL is not UTF-8".into()))?
        .to_owned();
    if found != registry {
        return Err(SnapshotError::OtherRegistry {
            found,
            expected: registry.to_owned(),
        });
    }
    let body_len = r.u64().ok_or_else(truncated)?;
    if body_len != r.0.len() as u64 {
        return Err(truncated());
    }
    let body: Body = postcard::from_bytes(r.0).map_err(|e| SnapshotError::Corrupt(format!("its body: {e}")))?;
    let data = body
        .into_data()
        .map_err(|e| SnapshotError::Corrupt(format!("its body: {e}")))?;
    Ok(Snapshot {
        taken: UNIX_EPOCH + Duration::from_millis(millis),
        registry: found,
        data,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Replaces `path` with `bytes` so that a crash at any point leaves the old file or the new
/// one: a temp file in the same directory, fsynced, renamed over `path`, the directory fsynced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        // Only Regent's user: it names every repository, like the rest of the data directory.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Reads the snapshot at `path` for `registry`.
pub fn load(path: &Path, registry: &str) -> Result<Snapshot, SnapshotError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SnapshotError::Missing(path.to_owned()));
        }
        Err(error) => {
            return Err(SnapshotError::Io {
                path: path.to_owned(),
                error,
            });
        }
    };
    decode(&bytes, registry)
}

impl CatalogIndex {
    /// Loads the snapshot (if settings name one) into the empty index before the first crawl,
    /// so searches answer at once. `Ok(Some(time taken))` when it was loaded; `Ok(None)` when
    /// there is none; an error when it was refused, after a warning saying why (the cold crawl
    /// then fills the index, as without a snapshot).
    pub fn restore_snapshot(&self) -> Result<Option<SystemTime>, SnapshotError> {
        let Some(path) = self.settings.snapshot.as_ref() else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        match load(path, self.registry.url().as_str()) {
            Ok(snapshot) => {
                let (repositories, tags) = (snapshot.data.repository_count(), snapshot.data.tag_count());
                *self.write() = snapshot.data;
                self.update_status(|s| {
                    s.restored_from = Some(snapshot.taken);
                    s.last_success = Some(snapshot.taken);
                });
                tracing::info!(
                    path = %path.display(),
                    repositories,
                    tags,
                    age_seconds = snapshot.taken.elapsed().map_or(0, |d| d.as_secs()),
                    millis = started.elapsed().as_millis() as u64,
                    "loaded the index snapshot; searches answer from it while the first crawl refreshes it"
                );
                Ok(Some(snapshot.taken))
            }
            Err(SnapshotError::Missing(_)) => {
                tracing::info!(path = %path.display(), "no index snapshot yet; the first crawl fills the index");
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(
                    path = %path.display(),
                    "ignoring the index snapshot: {error}; the first crawl fills the index from the registry"
                );
                Err(error)
            }
        }
    }

    /// Writes the snapshot now (when settings name one); returns its size in bytes.
    pub async fn save_snapshot(&self) -> Result<Option<u64>, SnapshotError> {
        let Some(path) = self.settings.snapshot.clone() else {
            return Ok(None);
        };
        // Cleared before encoding: a change applied while writing marks it again.
        self.snapshot_dirty.store(false, Ordering::SeqCst);
        let bytes = encode(&self.read(), self.registry.url().as_str(), SystemTime::now());
        let size = bytes.len() as u64;
        let target = path.clone();
        let written = tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match written {
            Ok(()) => {
                metrics::counter!("regent_index_snapshots_total", "outcome" => "ok").increment(1);
                metrics::gauge!("regent_index_snapshot_bytes").set(size as f64);
                tracing::debug!(path = %path.display(), size, "wrote the index snapshot");
                Ok(Some(size))
            }
            Err(error) => {
                metrics::counter!("regent_index_snapshots_total", "outcome" => "error").increment(1);
                self.snapshot_dirty.store(true, Ordering::SeqCst);
                Err(SnapshotError::Io { path, error })
            }
        }
    }

    /// Writes the snapshot and logs a failure (the loops and shutdown do not stop for it).
    pub async fn save_snapshot_or_warn(&self) {
        if let Err(error) = self.save_snapshot().await {
            tracing::warn!("could not write the index snapshot: {error}; the next restart crawls cold");
        }
    }

    /// Notifications (or Regent's own deletes) changed the index since the last snapshot.
    pub fn snapshot_outdated(&self) -> bool {
        self.snapshot_dirty.load(Ordering::SeqCst)
    }

    /// Every `snapshot_every`, writes the snapshot if notifications changed the index.
    pub(super) async fn snapshot_periodically(&self) {
        if self.settings.snapshot.is_none() {
            return;
        }
        loop {
            tokio::time::sleep(self.settings.snapshot_every).await;
            if self.snapshot_outdated() {
                self.save_snapshot_or_warn().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::tests::{d, image, r, t};
    use super::*;

    const REGISTRY: &str = "http://127.0.0.1:5000/";

    fn sample() -> IndexData {
        let mut x = IndexData::default();
        x.insert_manifest(&d("m1"), &image("c1", &["base", "a"]));
        x.insert_manifest(&d("m2"), &image("c2", &["base", "b"]));
        x.set_repository(&r("team/a"), &[(t("1"), d("m1")), (t("latest"), d("m1"))]);
        x.set_repository(&r("team/b"), &[(t("1"), d("m2"))]);
        x
    }

    #[test]
    fn a_snapshot_reads_back_with_its_time_registry_and_tags() {
        let taken = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let bytes = encode(&sample(), REGISTRY, taken);
        assert_eq!(&bytes[..8], MAGIC);
        let s = decode(&bytes, REGISTRY).unwrap();
        assert_eq!(s.taken, taken);
        assert_eq!(s.registry, REGISTRY);
        assert_eq!(s.data.tag_count(), 3);
        assert_eq!(
            s.data.repository_tag_infos(&r("team/a")),
            sample().repository_tag_infos(&r("team/a"))
        );
    }

    #[test]
    fn a_damaged_old_or_foreign_snapshot_is_refused() {
        let bytes = encode(&sample(), REGISTRY, SystemTime::now());
        for cut in [0, 5, 12, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], REGISTRY).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x40;
        assert!(matches!(decode(&flipped, REGISTRY), Err(SnapshotError::Corrupt(_))));
        let mut old = bytes.clone();
        old[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            decode(&old, REGISTRY),
            Err(SnapshotError::OtherVersion { found: 0 })
        ));
        assert!(matches!(
            decode(&bytes, "http://127.0.0.1:5001/"),
            Err(SnapshotError::OtherRegistry { .. })
        ));
        assert!(matches!(
            decode(b"hello world", REGISTRY),
            Err(SnapshotError::NotASnapshot)
        ));
    }

    #[test]
    fn writing_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SNAPSHOT_FILE);
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [SNAPSHOT_FILE]);
    }
}
