//! The catalog index crawled from the real registry: search by name, digest, image id and
//! layer, and what happens when the registry goes away.

use regent_domain::index::{CatalogIndex, DigestMatch, IndexSettings, SearchQuery, SearchResults};
use regent_domain::reference::{Digest, RepositoryName};
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_testkit::SeededRegistry;
use std::sync::Arc;
use std::time::Duration;

fn index_for(seeded: &SeededRegistry) -> Arc<CatalogIndex> {
    let mut config = RegistryConfig::new(seeded.registry.url());
    config.timeout = Duration::from_secs(5);
    let registry = Arc::new(RegistryClient::new(config).unwrap());
    CatalogIndex::new(
        registry,
        IndexSettings {
            concurrency: 4,
            ..Default::default()
        },
    )
}

fn everyone(_: &RepositoryName) -> bool {
    true
}

fn search(index: &CatalogIndex, q: &str) -> SearchResults {
    let query = SearchQuery::parse(q).unwrap().unwrap();
    index.read().search(&query, &everyone, 0, 1000)
}

fn tag_rows(results: &SearchResults) -> Vec<(String, Option<DigestMatch>)> {
    match results {
        SearchResults::Tags { hits, .. } => hits
            .iter()
            .map(|h| {
                (
                    format!("{}:{}", h.info.repository, h.info.tag),
                    h.matched.as_ref().map(|m| m.0),
                )
            })
            .collect(),
        other => panic!("tag results expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_crawl_indexes_every_repository_tag_and_manifest() {
    let seeded = SeededRegistry::start(20).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let status = index.status();
    assert!(status.complete && !status.crawling);
    assert!(status.crawl_error.is_none());

    let data = index.read();
    let expected: Vec<String> = seeded
        .report
        .tags
        .iter()
        .filter(|(_, tags)| !tags.is_empty())
        .map(|(r, _)| r.clone())
        .collect();
    let indexed: Vec<String> = data.repositories().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(indexed, expected, "every repository with tags, and not the emptied one");
    for (repo, tags) in &seeded.report.tags {
        let Some(got) = data.repository_tags(&RepositoryName::parse(repo).unwrap()) else {
            continue;
        };
        let got: Vec<(String, String)> = got.into_iter().map(|(t, d)| (t.to_string(), d.to_string())).collect();
        let want: Vec<(String, String)> = tags.iter().map(|(t, d)| (t.clone(), d.clone())).collect();
        assert_eq!(got, want, "{repo}");
    }
    let multi = data
        .repository_tag_infos(&RepositoryName::parse("multi/arch").unwrap())
        .unwrap();
    assert_eq!(
        multi[0].platforms,
        ["linux/amd64", "linux/arm64"],
        "children indexed under their parent"
    );
    assert_eq!(status.manifests_done, data.tag_count());
}

#[tokio::test]
async fn amy_pastes_a_layer_digest_and_sees_every_tag_that_contains_it() {
    let seeded = SeededRegistry::start(5).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let shared = &seeded.report.shared_layer;

    let all_tags: usize = seeded.report.tags.values().map(|t| t.len()).sum();
    let rows = tag_rows(&search(&index, shared));
    assert_eq!(rows.len(), all_tags, "the base layer is in every image: {rows:?}");
    assert!(rows.iter().all(|(_, m)| *m == Some(DigestMatch::Layer)));
    // `layer:` forces the mode; a 12-character prefix is enough.
    let prefix = &shared["sha256:".len().."sha256:".len() + 12];
    assert_eq!(tag_rows(&search(&index, &format!("layer:{prefix}"))).len(), all_tags);
    // `digest:` (manifest or image id) does not look at layers.
    assert!(tag_rows(&search(&index, &format!("digest:{prefix}"))).is_empty());
}

#[tokio::test]
async fn a_manifest_digest_finds_all_its_tags_and_an_image_id_finds_the_image() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let base = &seeded.report.tags["demo/base"]["1.0"];
    let rows = tag_rows(&search(&index, base));
    assert_eq!(
        rows,
        [
            ("demo/base:1.0".to_owned(), Some(DigestMatch::Manifest)),
            ("demo/base:latest".to_owned(), Some(DigestMatch::Manifest))
        ]
    );

    // The image id as `docker images` shows it: 12 hex characters of the config digest.
    let image_id = {
        let data = index.read();
        let info = data
            .repository_tag_infos(&RepositoryName::parse("demo/base").unwrap())
            .unwrap();
        info.iter()
            .find(|i| i.tag.as_str() == "1.1")
            .unwrap()
            .image_id
            .clone()
            .unwrap()
    };
    let rows = tag_rows(&search(&index, &image_id.encoded()[..12]));
    assert_eq!(rows, [("demo/base:1.1".to_owned(), Some(DigestMatch::ImageId))]);

    // A child of the multi-arch index is found through the index's tag.
    let child = &seeded.report.multi_arch_children[1];
    assert_eq!(
        tag_rows(&search(&index, child)),
        [("multi/arch:latest".to_owned(), Some(DigestMatch::Manifest))]
    );
}

#[tokio::test]
async fn phillip_types_a_name_and_results_rank_exact_prefix_component_substring() {
    let seeded = SeededRegistry::start(3).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let names = |q: &str| match search(&index, q) {
        SearchResults::Repositories { hits, exact, .. } => (
            hits.iter().map(|h| h.name.to_string()).collect::<Vec<_>>(),
            exact.map(|e| e.to_string()),
        ),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        names("demo/base"),
        (vec!["demo/base".to_owned()], Some("demo/base".to_owned()))
    );
    let (hits, exact) = names("app");
    assert_eq!(exact, None);
    // "app" is a component prefix of bulk/app-*, demo/app and dockerfmt/app: no exact or prefix hits.
    assert_eq!(hits[0], "bulk/app-0001");
    assert!(hits.contains(&"demo/app".to_owned()));
    let (hits, _) = names("DEMO");
    assert_eq!(
        hits,
        ["demo/app", "demo/base"],
        "case-insensitive, prefix hits in name order"
    );
    let rows = tag_rows(&search(&index, "demo/base:1."));
    assert_eq!(
        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["demo/base:1.0", "demo/base:1.1"]
    );
    assert_eq!(
        tag_rows(&search(&index, "tag:lat")).len(),
        3,
        "demo/base, multi/arch, dockerfmt/multi"
    );
}

#[tokio::test]
async fn a_registry_outage_during_a_crawl_keeps_the_last_good_data_marked_stale() {
    let mut seeded = SeededRegistry::start(3).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let before = index.read().tag_count();
    let last_success = index.status().last_success;

    seeded.registry.stop();
    assert!(index.crawl().await.is_err());
    let status = index.status();
    assert_eq!(
        index.read().tag_count(),
        before,
        "nothing deleted because the registry was down"
    );
    assert!(
        status.crawl_error.as_ref().is_some_and(|e| e.is_unavailable()),
        "{status:?}"
    );
    assert_eq!(
        status.last_success, last_success,
        "the time of the last good crawl is kept"
    );

    seeded.registry.restart().await.unwrap();
    index.crawl().await.unwrap();
    assert!(index.status().crawl_error.is_none());
    assert_eq!(index.read().tag_count(), before);
}

#[tokio::test]
async fn a_deleted_manifest_disappears_on_the_next_crawl_and_an_emptied_repository_goes() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let index = index_for(&seeded);
    index.crawl().await.unwrap();
    let pusher = regent_testkit::push::Pusher::new(&seeded.registry.url());
    pusher
        .delete_manifest("demo/app", &seeded.report.tags["demo/app"]["v1"])
        .await
        .unwrap();
    pusher
        .delete_manifest("demo/app", &seeded.report.tags["demo/app"]["v2"])
        .await
        .unwrap();
    index.crawl().await.unwrap();
    assert!(!index.read().has_repository(&RepositoryName::parse("demo/app").unwrap()));
    let v1 = Digest::parse(&seeded.report.tags["demo/app"]["v1"]).unwrap();
    assert!(tag_rows(&search(&index, v1.as_str())).is_empty());
}
