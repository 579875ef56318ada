//! The Images screen's answer (`CatalogIndex::browse`) against the real registry: repositories
//! created in Regent are listed empty among the pushed ones, in name order and pages; a user
//! granted one namespace sees only it; an exact name is the repository itself; a tag search
//! says which tags the caller may delete.

use regent_domain::access::{Grant, Level, Name, Policy, Rules, Scope, Subject, Viewer};
use regent_domain::index::browse::{Found, Window};
use regent_domain::index::{CatalogIndex, IndexSettings, SearchQuery};
use regent_domain::reference::RepositoryName;
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_domain::store::{Actor, Store};
use regent_testkit::SeededRegistry;
use std::sync::Arc;

fn repo(s: &str) -> RepositoryName {
    RepositoryName::parse(s).unwrap()
}

fn listed(found: &Found) -> Vec<(String, usize)> {
    match found {
        Found::Repositories { rows, .. } => rows.iter().map(|r| (r.name.to_string(), r.tags)).collect(),
        other => panic!("expected repositories, got {other:?}"),
    }
}

#[tokio::test]
async fn greg_sees_only_demo_and_the_empty_repository_created_for_it_while_an_admin_sees_all() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let registry = Arc::new(RegistryClient::new(RegistryConfig::new(seeded.registry.url())).unwrap());
    let index = CatalogIndex::new(registry, IndexSettings::default());
    index.crawl().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    let admin = Actor::new("admin", "127.0.0.1");
    store.create_repository(&admin, &repo("demo/next")).await.unwrap();
    store.create_repository(&admin, &repo("zz/other")).await.unwrap();

    let everything = regent_domain::access::Access::everything();
    let all = Window { offset: 0, limit: 100 };
    let found = index.browse(&store, &everything, None, all).await.unwrap();
    let names: Vec<String> = listed(&found).into_iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names, sorted,
        "one listing in name order, created ones among the pushed"
    );
    assert!(names.contains(&"demo/next".to_owned()) && names.contains(&"zz/other".to_owned()));
    assert!(
        listed(&found).contains(&("demo/next".to_owned(), 0)),
        "created and empty"
    );
    let Found::Repositories { total, .. } = found else {
        unreachable!()
    };
    let second = index
        .browse(&store, &everything, None, Window { offset: 1, limit: 1 })
        .await
        .unwrap();
    assert_eq!(listed(&second).len(), 1);
    assert_eq!(listed(&second)[0].0, names[1], "a page is a window on the same listing");
    let Found::Repositories { total: again, .. } = second else {
        unreachable!()
    };
    assert_eq!(again, total, "every page counts the whole listing");

    let greg = Name::parse("greg").unwrap();
    let policy = Policy::new(
        vec![Grant {
            subject: Subject::User(greg.clone()),
            scope: Scope::parse("demo/*").unwrap(),
            level: Level::Read,
        }],
        Rules::default(),
    );
    let access = policy.for_viewer(&Viewer::user(greg));
    let found = index.browse(&store, &access, None, all).await.unwrap();
    let names: Vec<String> = listed(&found).into_iter().map(|(n, _)| n).collect();
    assert!(!names.is_empty());
    assert!(
        names.iter().all(|n| n.starts_with("demo/")),
        "greg sees only demo/*: {names:?}"
    );
    assert!(names.contains(&"demo/next".to_owned()));

    let exact = SearchQuery::parse("demo/base").unwrap();
    match index.browse(&store, &access, exact.as_ref(), all).await.unwrap() {
        Found::Repository(name) => assert_eq!(name, repo("demo/base")),
        other => panic!("an exact name is the repository itself, got {other:?}"),
    }
    let hidden = SearchQuery::parse("multi/arch").unwrap();
    let found = index.browse(&store, &access, hidden.as_ref(), all).await.unwrap();
    assert!(
        !matches!(found, Found::Repository(_)),
        "a repository greg may not see is not his answer: {found:?}"
    );

    let tags = SearchQuery::parse("tag:latest").unwrap();
    match index.browse(&store, &access, tags.as_ref(), all).await.unwrap() {
        Found::Tags { rows, .. } => {
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|t| t.hit.info.repository.as_str().starts_with("demo/")));
            assert!(rows.iter().all(|t| !t.deletable), "read only: nothing deletable");
        }
        other => panic!("expected tags, got {other:?}"),
    }
    match index.browse(&store, &everything, tags.as_ref(), all).await.unwrap() {
        Found::Tags { rows, .. } => assert!(rows.iter().all(|t| t.deletable)),
        other => panic!("expected tags, got {other:?}"),
    }
}
