//! Fast restarts (issue 19): a restart from the index snapshot against a cold crawl, in the
//! same run, on a real registry with 10,000 repositories / 100,000 tags.
//!
//! 1. Fills a fresh Debian registry (`testkit::bulk`, written into its storage) with
//!    `REGENT_BENCH_REPOS` repositories (default 10,000) of 8 version tags, each its own image
//!    and config, plus `latest` and `stable` on the newest: 10 tags per repository.
//! 2. Cold crawl by a fresh `CatalogIndex`: time to a complete index, registry requests.
//! 3. Writes the snapshot: bytes, bytes per tag, time to write.
//! 4. "Restart": a new `CatalogIndex` loads the snapshot and answers a tag search, a digest
//!    search and a name search; the time from start to those complete answers (target ≤ 2 s),
//!    against the cold crawl's time.
//! 5. While "down", 10 tags are pushed again onto new images (through the registry API); the
//!    reconcile after the restart must fetch exactly their 10 manifests and 10 configs, and
//!    its registry requests are compared with the cold crawl's.
//!
//! Run: `cargo bench -p regent-domain --bench restart` (`REGENT_BENCH_REPOS=1000` for a quick run).

use regent_domain::index::snapshot::SNAPSHOT_FILE;
use regent_domain::index::{CatalogIndex, IndexSettings, SearchQuery, SearchResults};
use regent_domain::reference::RepositoryName;
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_testkit::TestRegistry;
use regent_testkit::bulk::{self, BulkOptions};
use regent_testkit::targets::Targets;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 8;
const MOVED_TAGS: usize = 10;

fn index(registry: &TestRegistry, data_dir: &Path) -> Arc<CatalogIndex> {
    let mut config = RegistryConfig::new(registry.url());
    config.timeout = Duration::from_secs(60);
    CatalogIndex::new(
        Arc::new(RegistryClient::new(config).unwrap()),
        IndexSettings {
            concurrency: CONCURRENCY,
            snapshot: Some(data_dir.join(SNAPSHOT_FILE)),
            ..Default::default()
        },
    )
}

fn everyone(_: &RepositoryName) -> bool {
    true
}

/// What a search answers, as comparable text: the hits' `repository:tag@digest`.
fn answer(index: &CatalogIndex, q: &str) -> Vec<String> {
    let query = SearchQuery::parse(q).unwrap().unwrap();
    match index.read().search(&query, &everyone, 0, 100) {
        SearchResults::Tags { hits, .. } => hits
            .iter()
            .map(|h| format!("{}:{}@{}", h.info.repository, h.info.tag, h.info.digest))
            .collect(),
        SearchResults::Repositories { hits, .. } => hits.iter().map(|h| h.name.to_string()).collect(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let repositories: usize = std::env::var("REGENT_BENCH_REPOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut targets = Targets::new();

    let mut registry = TestRegistry::start().await.expect("start the registry");
    registry.stop();
    let t = Instant::now();
    let filled = bulk::fill(
        registry.dir(),
        &BulkOptions {
            repositories,
            versions: 8,
            aliases: vec!["latest".into(), "stable".into()],
        },
    )
    .expect("fill the registry's storage");
    registry.restart().await.expect("start the registry again");
    println!(
        "filled    {} repositories / {} tags / {} images in {:.0} s",
        filled.repositories.len(),
        filled.tags,
        filled.manifests,
        t.elapsed().as_secs_f64()
    );

    // Cold crawl.
    let data = tempfile::tempdir().unwrap();
    let cold_index = index(&registry, data.path());
    let t = Instant::now();
    cold_index.crawl().await.expect("the cold crawl");
    let cold_time = t.elapsed().as_secs_f64();
    let cold = cold_index.status();
    let tags = cold_index.read().tag_count();
    println!(
        "cold      crawl to a complete index: {cold_time:.2} s, {} registry requests ({} GETs of manifests and configs), {tags} tags",
        cold.requests, cold.fetches
    );
    targets.holds(
        format!("the cold crawl indexed every tag ({tags} of {})", filled.tags),
        tags == filled.tags,
    );

    // The snapshot.
    let t = Instant::now();
    let bytes = cold_index
        .save_snapshot()
        .await
        .expect("write the snapshot")
        .expect("a path");
    println!(
        "snapshot  {bytes} bytes, {:.1} bytes per tag, written in {:.0} ms",
        bytes as f64 / tags as f64,
        t.elapsed().as_secs_f64() * 1000.0
    );
    // Not one of the repositories whose tag moves below.
    let middle = &filled.repositories[repositories / 2 + 1];
    let digest = cold_index
        .read()
        .repository_tags(&RepositoryName::parse(middle).unwrap())
        .unwrap()[0]
        .1
        .to_string();
    let queries = [
        format!("{middle}:v1."),
        digest[..19].to_owned(),
        "service-0000".to_owned(),
    ];
    let expected: Vec<Vec<String>> = queries.iter().map(|q| answer(&cold_index, q)).collect();
    drop(cold_index);

    // While Regent is down, some tags move to new images.
    let pusher = regent_testkit::push::Pusher::new(&registry.url());
    for i in 0..MOVED_TAGS {
        let name = &filled.repositories[i * repositories / MOVED_TAGS];
        let image = regent_testkit::single_file_image(&format!("{name} rebuilt")).unwrap();
        pusher.push(name, "stable", &image).await.expect("push");
    }

    // Restart from the snapshot: time to complete search answers.
    let t = Instant::now();
    let restarted = index(&registry, data.path());
    restarted
        .restore_snapshot()
        .expect("the snapshot loads")
        .expect("there is one");
    let got: Vec<Vec<String>> = queries.iter().map(|q| answer(&restarted, q)).collect();
    let restart_time = t.elapsed().as_secs_f64();
    println!(
        "restart   from the snapshot to complete search answers: {:.0} ms (cold crawl {cold_time:.2} s: {:.0}× faster)",
        restart_time * 1000.0,
        cold_time / restart_time
    );
    targets.at_most("start with the snapshot → complete search", restart_time, 2.0, "s");
    targets.holds(
        "the snapshot answers the searches exactly as the cold crawl did",
        got == expected,
    );
    targets.holds(
        "the answers are marked as of the snapshot",
        restarted.status().restored_from.is_some(),
    );

    // The reconcile.
    let t = Instant::now();
    restarted.crawl().await.expect("the reconcile");
    let reconcile_time = t.elapsed().as_secs_f64();
    let reconcile = restarted.status();
    println!(
        "reconcile {reconcile_time:.2} s, {} registry requests ({} GETs), {} tags",
        reconcile.requests,
        reconcile.fetches,
        restarted.read().tag_count()
    );
    println!(
        "ratio     reconcile ÷ cold crawl: requests {:.2}, GETs of manifests and configs {:.4}, time {:.2}",
        reconcile.requests as f64 / cold.requests as f64,
        reconcile.fetches as f64 / cold.fetches as f64,
        reconcile_time / cold_time
    );
    targets.holds(
        format!(
            "the reconcile fetched only the {MOVED_TAGS} moved tags' manifests and configs ({} GETs)",
            reconcile.fetches
        ),
        reconcile.fetches == 2 * MOVED_TAGS,
    );
    targets.holds(
        "the reconcile ended the \"as of\" mark",
        restarted.status().restored_from.is_none(),
    );
    targets.exit()
}
