//! Fast restarts against the real registry: the index snapshot answers searches before the
//! registry does, keeps notified pushes, is never trusted when damaged, old or another
//! registry's, and the reconcile after a restart fetches only what changed.

use regent_domain::index::snapshot::{self, SNAPSHOT_FILE, SnapshotError};
use regent_domain::index::{CatalogIndex, IndexSettings, SearchQuery, SearchResults};
use regent_domain::reference::{RepositoryName, Tag};
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_testkit::TestRegistry;
use regent_testkit::push::Pusher;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

fn index_at(registry: Url, data_dir: &Path) -> Arc<CatalogIndex> {
    let mut config = RegistryConfig::new(registry);
    config.timeout = Duration::from_secs(5);
    CatalogIndex::new(
        Arc::new(RegistryClient::new(config).unwrap()),
        IndexSettings {
            concurrency: 4,
            snapshot: Some(data_dir.join(SNAPSHOT_FILE)),
            snapshot_every: Duration::from_millis(200),
            ..Default::default()
        },
    )
}

fn everyone(_: &RepositoryName) -> bool {
    true
}

/// `repository:tag → digest` for every tag a search finds.
fn found(index: &CatalogIndex, q: &str) -> Vec<(String, String)> {
    let query = SearchQuery::parse(q).unwrap().unwrap();
    match index.read().search(&query, &everyone, 0, 1000) {
        SearchResults::Tags { hits, .. } => hits
            .iter()
            .map(|h| {
                (
                    format!("{}:{}", h.info.repository, h.info.tag),
                    h.info.digest.to_string(),
                )
            })
            .collect(),
        other => panic!("tag results expected, got {other:?}"),
    }
}

fn tag_digest(index: &CatalogIndex, repository: &str, tag: &str) -> Option<String> {
    let tags = index
        .read()
        .repository_tags(&RepositoryName::parse(repository).unwrap())?;
    let tag = Tag::parse(tag).unwrap();
    tags.into_iter().find(|(t, _)| *t == tag).map(|(_, d)| d.to_string())
}

/// Three tags in two repositories, each on its own image.
async fn three_tags(registry: &TestRegistry) -> Vec<String> {
    let pusher = Pusher::new(&registry.url());
    let mut digests = Vec::new();
    for (repo, tag) in [("team/a", "1"), ("team/a", "2"), ("team/b", "1")] {
        let image = regent_testkit::single_file_image(&format!("{repo}:{tag}")).unwrap();
        digests.push(pusher.push(repo, tag, &image).await.unwrap());
    }
    digests
}

#[tokio::test]
async fn after_a_restart_a_pushed_tag_is_found_while_the_registry_is_down_marked_as_of_the_snapshot() {
    let mut registry = TestRegistry::start().await.unwrap();
    let digests = three_tags(&registry).await;
    let data = tempfile::tempdir().unwrap();
    let before = index_at(registry.url(), data.path());
    before.crawl().await.unwrap();
    let bytes = before.save_snapshot().await.unwrap().expect("a snapshot path is set");
    assert!(bytes > 0);
    drop(before);

    registry.stop();
    let after = index_at(registry.url(), data.path());
    let taken = after.restore_snapshot().unwrap().expect("the snapshot is loaded");
    assert_eq!(found(&after, "team/a:2"), [("team/a:2".to_owned(), digests[1].clone())]);
    let status = after.status();
    assert_eq!(
        status.restored_from,
        Some(taken),
        "searches say which time they are as of"
    );
    assert_eq!(status.requests, 0, "answered before any registry request");

    // The registry is down: the reconcile fails, and the snapshot's answers stay.
    assert!(after.crawl().await.is_err());
    assert_eq!(found(&after, "team/b:1"), [("team/b:1".to_owned(), digests[2].clone())]);
    assert_eq!(after.status().restored_from, Some(taken), "still as of the snapshot");

    // Back: the reconcile finishes and the index is live again.
    registry.restart().await.unwrap();
    after.crawl().await.unwrap();
    let status = after.status();
    assert!(status.complete && status.restored_from.is_none());
    assert_eq!(after.read().tag_count(), 3);
}

#[tokio::test]
async fn a_notified_push_after_start_is_in_the_snapshot_within_the_interval_and_after_a_restart() {
    let registry = TestRegistry::start().await.unwrap();
    three_tags(&registry).await;
    let data = tempfile::tempdir().unwrap();
    let running = index_at(registry.url(), data.path());
    running.spawn();
    let path = data.path().join(SNAPSHOT_FILE);
    let url = registry.url().to_string();
    let snapshot_has = |repository: &str, tag: &str| {
        let Ok(s) = snapshot::load(&path, &url) else {
            return None;
        };
        let tags = s.data.repository_tags(&RepositoryName::parse(repository).unwrap())?;
        let tag = Tag::parse(tag).unwrap();
        tags.into_iter().find(|(t, _)| *t == tag).map(|(_, d)| d.to_string())
    };
    let started = Instant::now();
    while snapshot_has("team/a", "1").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no snapshot after the first crawl"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let image = regent_testkit::single_file_image("pushed after start").unwrap();
    let digest = Pusher::new(&registry.url())
        .push("team/c", "new", &image)
        .await
        .unwrap();
    // What the registry sends to /api/registry/events for that push.
    let envelope: regent_domain::index::events::Envelope = serde_json::from_str(&format!(
        r#"{{"events":[{{"action":"push","target":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"team/c","tag":"new","digest":"{digest}"}}}}]}}"#
    ))
    .unwrap();
    assert_eq!(running.submit(&envelope), 1);
    let started = Instant::now();
    while snapshot_has("team/c", "new").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the notified push never reached the snapshot"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!running.snapshot_outdated(), "written: nothing left to write");

    let restarted = index_at(registry.url(), data.path());
    restarted.restore_snapshot().unwrap().expect("loaded");
    assert_eq!(found(&restarted, "team/c:new"), [("team/c:new".to_owned(), digest)]);
}

#[tokio::test]
async fn a_damaged_old_or_foreign_snapshot_is_ignored_and_the_cold_crawl_gives_the_right_answer() {
    let registry = TestRegistry::start().await.unwrap();
    let digests = three_tags(&registry).await;
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join(SNAPSHOT_FILE);
    let first = index_at(registry.url(), data.path());
    first.crawl().await.unwrap();
    first.save_snapshot().await.unwrap();
    let good = std::fs::read(&path).unwrap();
    // A snapshot of another registry, which held something else under the same names.
    let elsewhere = TestRegistry::start().await.unwrap();
    let other = regent_testkit::single_file_image("another registry").unwrap();
    Pusher::new(&elsewhere.url()).push("team/a", "2", &other).await.unwrap();
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = index_at(elsewhere.url(), foreign_dir.path());
    foreign.crawl().await.unwrap();
    foreign.save_snapshot().await.unwrap();
    let foreign = std::fs::read(foreign_dir.path().join(SNAPSHOT_FILE)).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2 + 7;
    flipped[middle] ^= 0x01;
    let mut other_version = good.clone();
    other_version[8..12].copy_from_slice(&99u32.to_le_bytes());
    let cases: [(&str, Vec<u8>); 5] = [
        ("truncated", good[..good.len() - 10].to_vec()),
        ("a flipped bit", flipped),
        ("format version 99", other_version),
        ("another registry's", foreign),
        ("not a snapshot", b"{\"index\": []}".to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let index = index_at(registry.url(), data.path());
        let refused = index.restore_snapshot();
        let reason = refused.as_ref().err().map(ToString::to_string).unwrap_or_default();
        match what {
            "format version 99" => assert!(matches!(refused, Err(SnapshotError::OtherVersion { found: 99 }))),
            "another registry's" => assert!(matches!(refused, Err(SnapshotError::OtherRegistry { .. }))),
            "not a snapshot" => assert!(matches!(refused, Err(SnapshotError::NotASnapshot))),
            _ => assert!(matches!(refused, Err(SnapshotError::Corrupt(_))), "{what}: {reason}"),
        }
        assert_eq!(index.read().tag_count(), 0, "{what}: nothing of it is used");
        assert_eq!(index.status().restored_from, None, "{what}");
        index.crawl().await.unwrap();
        assert_eq!(
            tag_digest(&index, "team/a", "2").as_deref(),
            Some(digests[1].as_str()),
            "{what}: the cold crawl's answer"
        );
        assert_eq!(index.read().tag_count(), 3, "{what}");
    }
}

#[tokio::test]
async fn the_reconcile_after_a_restart_fetches_only_the_tag_that_changed() {
    let registry = TestRegistry::start().await.unwrap();
    three_tags(&registry).await;
    let data = tempfile::tempdir().unwrap();
    let before = index_at(registry.url(), data.path());
    before.crawl().await.unwrap();
    let cold = before.status();
    before.save_snapshot().await.unwrap();
    drop(before);

    // While Regent was down, team/a:2 moved to a new image.
    let image = regent_testkit::single_file_image("team/a:2, rebuilt").unwrap();
    let moved = Pusher::new(&registry.url()).push("team/a", "2", &image).await.unwrap();

    let after = index_at(registry.url(), data.path());
    after.restore_snapshot().unwrap().expect("loaded");
    after.crawl().await.unwrap();
    let reconcile = after.status();
    assert_eq!(
        tag_digest(&after, "team/a", "2").as_deref(),
        Some(moved.as_str()),
        "the reconcile found the move"
    );
    assert_eq!(
        cold.fetches, 6,
        "the cold crawl GETs every manifest and config: {cold:?}"
    );
    assert_eq!(
        reconcile.fetches, 2,
        "only the moved tag's manifest and config are fetched: {reconcile:?}"
    );
    // The catalog, two tag lists, a HEAD per tag, and those two GETs.
    assert_eq!(reconcile.requests, 1 + 2 + 3 + 2, "{reconcile:?}");
}
