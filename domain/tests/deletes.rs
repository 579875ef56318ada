//! Deletes against the real registry: a tag goes alone though another tag shares its digest
//! (checked with skopeo, the independent client), a manifest takes exactly its tags, a child of
//! a multi-arch image is protected, a repository goes whole, a registry with deletes off is
//! named as the cause, a stopped registry is told apart from a refusal, and every delete is in
//! the audit log under one action name per kind, refused or done.

use regent_domain::access::Access;
use regent_domain::deletes::{DeleteError, DeleteKind, DeleteRequest, Deleter};
use regent_domain::index::{CatalogIndex, IndexSettings};
use regent_domain::reference::{Digest, RepositoryName, Tag};
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_domain::store::{Actor, AuditFilter, Store};
use regent_testkit::push::Pusher;
use regent_testkit::skopeo::skopeo;
use regent_testkit::{RegistryOptions, SeededRegistry, TestRegistry, single_file_image};
use std::sync::Arc;

struct Setup {
    deleter: Deleter,
    index: Arc<CatalogIndex>,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn setup(url: url::Url) -> Setup {
    let registry = Arc::new(RegistryClient::new(RegistryConfig::new(url)).unwrap());
    let index = CatalogIndex::new(registry.clone(), IndexSettings::default());
    index.crawl().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    Setup {
        deleter: Deleter::new(registry, index.clone(), store.clone()),
        index,
        store,
        _dir: dir,
    }
}

fn repo(s: &str) -> RepositoryName {
    RepositoryName::parse(s).unwrap()
}

fn tag(s: &str) -> Tag {
    Tag::parse(s).unwrap()
}

/// The digest skopeo sees for `image`, or `None` when the registry says it is gone
/// (`manifest unknown`). Any other failure (skopeo crashed, a wrong port, a refused read)
/// fails the test: "gone" must be the registry's answer, not any error.
fn skopeo_digest(host: &str, image: &str) -> Option<String> {
    let (ok, out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &format!("docker://{host}/{image}"),
    ]);
    if ok {
        return Some(out.trim().to_owned());
    }
    assert!(
        out.contains("manifest unknown"),
        "skopeo could not read {image} for another reason: {out}"
    );
    None
}

fn amy() -> Actor {
    Actor::new("amy", "127.0.0.1")
}

#[tokio::test]
async fn deleting_one_tag_leaves_the_other_tag_on_the_same_digest() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let s = setup(seeded.registry.url()).await;
    let digest = seeded.report.tags["demo/base"]["1.0"].clone();
    assert_eq!(
        seeded.report.tags["demo/base"]["latest"], digest,
        "the seed shares a digest"
    );

    let deleted = s.deleter.tag(&amy(), &repo("demo/base"), &tag("latest")).await.unwrap();
    assert_eq!(
        deleted.summary,
        "Deleted the tag demo/base:latest. 1.0 still points at the same image."
    );
    assert_eq!(skopeo_digest(&host, "demo/base:1.0").as_deref(), Some(digest.as_str()));
    assert_eq!(skopeo_digest(&host, "demo/base:latest"), None);
    let tags: Vec<String> = s
        .index
        .read()
        .repository_tags(&repo("demo/base"))
        .unwrap()
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert!(
        tags.contains(&"1.0".to_owned()) && !tags.contains(&"latest".to_owned()),
        "{tags:?}"
    );
    let events = s
        .store
        .audit_events(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].action, "delete.tag");
    assert_eq!(events[0].target, "demo/base:latest");
    assert_eq!((events[0].actor.as_str(), events[0].outcome.as_str()), ("amy", "ok"));
}

#[tokio::test]
async fn deleting_a_digest_removes_exactly_its_tags_and_a_repository_goes_whole() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let s = setup(seeded.registry.url()).await;
    let shared = Digest::parse(&seeded.report.tags["demo/base"]["1.0"]).unwrap();
    let deleted = s.deleter.manifest(&amy(), &repo("demo/base"), &shared).await.unwrap();
    let mut removed: Vec<String> = deleted.tags.iter().map(ToString::to_string).collect();
    removed.sort();
    assert_eq!(removed, ["1.0", "latest"]);
    assert_eq!(skopeo_digest(&host, "demo/base:1.0"), None);
    assert!(
        skopeo_digest(&host, "demo/base:1.1").is_some(),
        "1.1 is another digest and stays"
    );

    let deleted = s.deleter.repository(&amy(), &repo("demo/app")).await.unwrap();
    assert_eq!(deleted.tags.len(), 2, "{deleted:?}");
    assert!(skopeo_digest(&host, "demo/app:v1").is_none() && skopeo_digest(&host, "demo/app:v2").is_none());
    assert!(
        !s.index.read().has_repository(&repo("demo/app")),
        "gone from Regent's lists at once"
    );
    let again = s.deleter.repository(&amy(), &repo("demo/app")).await.unwrap_err();
    assert!(matches!(again, DeleteError::NotFound(_)), "{again:?}");
}

#[tokio::test]
async fn a_platform_of_a_tagged_multi_arch_image_is_protected() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let s = setup(seeded.registry.url()).await;
    let child = Digest::parse(&seeded.report.multi_arch_children[0]).unwrap();
    let refused = s
        .deleter
        .manifest(&amy(), &repo("multi/arch"), &child)
        .await
        .unwrap_err();
    let DeleteError::Refused(message) = refused else {
        panic!("expected a refusal, got {refused:?}")
    };
    assert!(
        message.contains("multi-arch image") && message.contains("multi/arch:latest"),
        "{message}"
    );
    let (ok, out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{host}/multi/arch@{child}"),
    ]);
    assert!(ok, "the child is still there: {out}");
    let events = s
        .store
        .audit_events(&AuditFilter {
            outcome: Some("refused".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_registry_with_deletes_off_is_named_as_the_cause_and_nothing_changes() {
    let registry = TestRegistry::start_with(RegistryOptions {
        delete_enabled: false,
        ..RegistryOptions::default()
    })
    .await
    .unwrap();
    let pusher = Pusher::new(&registry.url());
    let image = single_file_image("kept").unwrap();
    pusher.push("keep/me", "1", &image).await.unwrap();
    pusher.push("keep/me", "2", &image).await.unwrap();
    let s = setup(registry.url()).await;
    for attempt in [
        s.deleter.tag(&amy(), &repo("keep/me"), &tag("1")).await,
        s.deleter.repository(&amy(), &repo("keep/me")).await,
    ] {
        let Err(DeleteError::Disabled(message)) = attempt else {
            panic!("expected deletes-disabled, got {attempt:?}")
        };
        assert!(message.contains("storage.delete.enabled: true"), "{message}");
    }
    assert_eq!(s.index.read().repository_tag_count(&repo("keep/me")), 2);
    let host = registry.host();
    assert!(skopeo_digest(&host, "keep/me:1").is_some() && skopeo_digest(&host, "keep/me:2").is_some());
}

#[tokio::test]
async fn amy_deletes_a_leaked_layer_wherever_she_may_and_hears_what_was_left() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let s = setup(seeded.registry.url()).await;
    let layer = Digest::parse(&seeded.report.shared_layer).unwrap();
    // Amy may delete in demo/*, sees everything but skopeo/*.
    let visible = |r: &RepositoryName| !r.as_str().starts_with("skopeo/");
    let deletable = |r: &RepositoryName| r.as_str().starts_with("demo/");
    let report = s.deleter.layer(&amy(), &layer, &visible, &deletable).await.unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    let mut deleted: Vec<String> = report
        .deleted
        .iter()
        .map(|(r, _, tags)| format!("{r}:{}", tags.iter().map(Tag::as_str).collect::<Vec<_>>().join("+")))
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["demo/app:v1", "demo/app:v2", "demo/base:1.0+latest", "demo/base:1.1"]
    );
    let untouched: Vec<&str> = report.untouched.iter().map(RepositoryName::as_str).collect();
    assert!(
        untouched.contains(&"multi/arch") && untouched.contains(&"dockerfmt/app"),
        "{untouched:?}"
    );
    assert!(
        !untouched.iter().any(|r| r.starts_with("skopeo/")),
        "invisible ones are not named"
    );
    assert!(report.hidden_images >= 1, "{report:?}");
    assert!(
        report.summary.contains("Not touched (you may not delete there): "),
        "{}",
        report.summary
    );

    // Every listed image is gone; the layer link is gone in demo/base; others still pull.
    for image in [
        "demo/base:1.0",
        "demo/base:latest",
        "demo/base:1.1",
        "demo/app:v1",
        "demo/app:v2",
    ] {
        assert_eq!(skopeo_digest(&host, image), None, "{image} is gone");
    }
    let blob = reqwest::Client::new()
        .head(format!("{}v2/demo/base/blobs/{layer}", seeded.registry.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(blob.status().as_u16(), 404, "the layer link in demo/base is gone");
    assert!(
        skopeo_digest(&host, "multi/arch:latest").is_some(),
        "outside Amy's reach"
    );
    let events = s
        .store
        .audit_events(&AuditFilter {
            action: Some("delete.layer".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].target, format!("layer {layer}"));
}

/// The registry's own answer: `garbage-collect --dry-run` with the registry stopped.
fn gc_dry_run(registry: &mut TestRegistry) -> std::collections::BTreeSet<String> {
    registry.stop();
    let out = std::process::Command::new("/usr/bin/docker-registry")
        .args(["garbage-collect", "--dry-run"])
        .arg(registry.config_path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("blob eligible for deletion: "))
        .map(|d| d.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn the_garbage_collection_plan_matches_what_the_registry_would_free() {
    use regent_testkit::{Artifact, Image, Layer};
    let mut registry = TestRegistry::start().await.unwrap();
    let pusher = Pusher::new(&registry.url());
    let base = || Layer::from_files(&[("etc/base", b"shared base")]).unwrap();
    let image = |name: &str| {
        let own = Layer::from_files(&[("app", name.as_bytes())]).unwrap();
        Artifact::Image(Image::build("linux", "amd64", vec![base(), own], "2024-01-01T00:00:00Z", &[name]).unwrap())
    };
    for (repository, tag, name) in [
        ("app", "1", "one"),
        ("app", "2", "two"),
        ("other", "1", "three"),
        ("app", "single", "five"),
    ] {
        pusher.push(repository, tag, &image(name)).await.unwrap();
    }
    let s = setup(registry.url()).await;
    assert_eq!(
        s.deleter.gc_plan().await.unwrap(),
        Default::default(),
        "nothing deleted yet"
    );

    // A digest delete frees its manifest, config and own layer; the shared base stays in use.
    let two = Digest::parse(image("two").digest()).unwrap();
    s.deleter.manifest(&amy(), &repo("app"), &two).await.unwrap();
    // A tag delete (re-pointing on 2.8) frees only the throw-away manifest; the image it
    // untagged keeps its blobs unless garbage collection deletes untagged manifests.
    s.deleter.tag(&amy(), &repo("app"), &tag("single")).await.unwrap();

    let plan = s.deleter.gc_plan().await.unwrap();
    let planned: std::collections::BTreeSet<String> = plan.blobs.iter().map(|(d, _)| d.to_string()).collect();
    assert_eq!(
        planned.len(),
        4,
        "manifest, config and layer of app:2, and the throw-away: {planned:?}"
    );
    assert!(planned.contains(&two.to_string()));
    assert_eq!(plan.untagged.len(), 1);
    assert_eq!(plan.untagged[0].1.to_string(), image("five").digest());
    assert!(plan.bytes > 0 && plan.untagged_bytes > 0);

    let eligible = gc_dry_run(&mut registry);
    assert_eq!(
        planned, eligible,
        "Regent's plan is exactly what garbage-collect would delete"
    );
}

#[tokio::test]
async fn deleting_a_multi_arch_image_takes_its_platform_images_along() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let s = setup(seeded.registry.url()).await;
    let index = Digest::parse(&seeded.report.tags["multi/arch"]["latest"]).unwrap();
    let deleted = s.deleter.manifest(&amy(), &repo("multi/arch"), &index).await.unwrap();
    assert_eq!(
        deleted.summary,
        format!("Deleted multi/arch@{index} with its 2 platform image(s) and its tags latest.")
    );
    for child in &seeded.report.multi_arch_children {
        let (ok, _) = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{host}/multi/arch@{child}"),
        ]);
        assert!(!ok, "the platform image {child} went too");
    }
    let plan = s.deleter.gc_plan().await.unwrap();
    for child in &seeded.report.multi_arch_children {
        assert!(
            plan.blobs.iter().any(|(d, _)| d.as_ref() == child.as_str()),
            "{child} is in the plan"
        );
    }
}

/// A platform image built from `name` for `architecture`.
fn platform(name: &str, architecture: &str) -> regent_testkit::Image {
    use regent_testkit::{Image, Layer};
    let layer = Layer::from_files(&[("app", format!("{name} for {architecture}").as_bytes())]).unwrap();
    Image::build("linux", architecture, vec![layer], "2024-01-01T00:00:00Z", &[name]).unwrap()
}

/// What skopeo says about `reference` (`repo@digest` or `repo:tag`): `Ok(())` when it reads
/// the manifest, or the error it printed.
fn skopeo_raw(host: &str, reference: &str) -> Result<(), String> {
    let (ok, out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{host}/{reference}"),
    ]);
    if ok { Ok(()) } else { Err(out) }
}

/// `docker manifest create app:all app:amd64 app:arm64`, but `arm64` is pushed untagged.
#[tokio::test]
async fn deleting_a_multi_arch_image_keeps_platform_images_tagged_on_their_own() {
    use regent_testkit::{Artifact, ImageIndex};
    let registry = TestRegistry::start().await.unwrap();
    let host = registry.host();
    let pusher = Pusher::new(&registry.url());
    let (amd64, arm64) = (platform("app", "amd64"), platform("app", "arm64"));
    pusher
        .push("team/app", "amd64", &Artifact::Image(amd64.clone()))
        .await
        .unwrap();
    let all = Artifact::Index(ImageIndex::build(vec![amd64.clone(), arm64.clone()]).unwrap());
    pusher.push("team/app", "all", &all).await.unwrap();
    let s = setup(registry.url()).await;
    let index = Digest::parse(all.digest()).unwrap();
    let (amd64_digest, arm64_digest) = (amd64.manifest.digest.clone(), arm64.manifest.digest.clone());

    // The preview before the delete: exactly what goes, and what stays and why.
    let plan = s.deleter.manifest_plan(&repo("team/app"), &index).unwrap();
    assert_eq!(
        plan.goes(),
        [
            format!("team/app@{index} with the tags all"),
            format!("team/app@{arm64_digest} (platform linux/arm64, untagged)"),
        ]
    );
    assert_eq!(
        plan.stays(),
        [format!(
            "team/app@{amd64_digest} (platform linux/amd64): tagged amd64 itself"
        )]
    );

    let deleted = s.deleter.manifest(&amy(), &repo("team/app"), &index).await.unwrap();
    assert_eq!(
        deleted.summary,
        format!(
            "Deleted team/app@{index} with its 1 platform image(s) and its tags all. Platform images kept: \
             team/app@{amd64_digest} (linux/amd64; tagged amd64 itself)."
        )
    );
    assert_eq!(deleted.tags, [tag("all")], "only the index's own tag went");
    assert_eq!(
        skopeo_digest(&host, "team/app:amd64").as_deref(),
        Some(amd64_digest.as_str()),
        "the platform tagged on its own still pulls"
    );
    for gone in [format!("team/app@{index}"), format!("team/app@{arm64_digest}")] {
        let err = skopeo_raw(&host, &gone).unwrap_err();
        assert!(err.contains("manifest unknown"), "{gone} is gone: {err}");
    }
    let left: Vec<String> = s
        .index
        .read()
        .repository_tags(&repo("team/app"))
        .unwrap()
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(left, ["amd64"], "the index shows what the registry has");
}

#[tokio::test]
async fn deleting_a_multi_arch_image_keeps_a_platform_another_multi_arch_image_lists() {
    use regent_testkit::{Artifact, ImageIndex};
    let registry = TestRegistry::start().await.unwrap();
    let host = registry.host();
    let pusher = Pusher::new(&registry.url());
    let (amd64, arm64, s390x) = (
        platform("app", "amd64"),
        platform("app", "arm64"),
        platform("app", "s390x"),
    );
    let one = Artifact::Index(ImageIndex::build(vec![amd64.clone(), arm64.clone()]).unwrap());
    let two = Artifact::Index(ImageIndex::build(vec![arm64.clone(), s390x.clone()]).unwrap());
    pusher.push("team/app", "one", &one).await.unwrap();
    pusher.push("team/app", "two", &two).await.unwrap();
    let s = setup(registry.url()).await;
    let (one_digest, two_digest) = (one.digest().to_owned(), two.digest().to_owned());
    let (amd64_digest, arm64_digest) = (amd64.manifest.digest.clone(), arm64.manifest.digest.clone());

    let plan = s
        .deleter
        .manifest_plan(&repo("team/app"), &Digest::parse(&one_digest).unwrap())
        .unwrap();
    assert_eq!(
        plan.goes(),
        [
            format!("team/app@{one_digest} with the tags one"),
            format!("team/app@{amd64_digest} (platform linux/amd64, untagged)"),
        ]
    );
    assert_eq!(
        plan.stays(),
        [format!(
            "team/app@{arm64_digest} (platform linux/arm64): also a platform of the multi-arch image \
             {two_digest} (tagged team/app:two)"
        )]
    );
    let deleted = s
        .deleter
        .manifest(&amy(), &repo("team/app"), &Digest::parse(&one_digest).unwrap())
        .await
        .unwrap();
    assert!(
        deleted.summary.contains("with its 1 platform image(s)"),
        "{}",
        deleted.summary
    );
    assert!(
        skopeo_raw(&host, &format!("team/app@{arm64_digest}")).is_ok(),
        "two's arm64 platform stays"
    );
    // `two` still pulls for both its platforms.
    for architecture in ["arm64", "s390x"] {
        let (ok, out) = skopeo(&[
            "inspect",
            "--tls-verify=false",
            "--override-os",
            "linux",
            "--override-arch",
            architecture,
            &format!("docker://{host}/team/app:two"),
        ]);
        assert!(ok, "team/app:two for {architecture}: {out}");
    }
    let err = skopeo_raw(&host, &format!("team/app@{amd64_digest}")).unwrap_err();
    assert!(err.contains("manifest unknown"), "one's own amd64 went: {err}");
}

#[tokio::test]
async fn a_refused_and_a_done_delete_of_one_kind_share_its_audit_action() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let s = setup(seeded.registry.url()).await;
    let stranger = Actor::new("anonymous", "127.0.0.1");
    let nobody = Access::default();
    let tag_delete = DeleteRequest::parse(DeleteKind::Tag, "demo/base", Some("latest"), None).unwrap();
    let refused = s.deleter.run(&nobody, &stranger, tag_delete.clone()).await.unwrap_err();
    assert_eq!(
        refused,
        DeleteError::NotAllowed("You may not delete in demo/base. Sign in first.".into())
    );
    s.deleter.run(&Access::everything(), &amy(), tag_delete).await.unwrap();
    // A stream tag: refused for the stranger, refused for Amy too (no cluster here); before,
    // the first was `delete.stream_tag` and a done one `delete.imagestreamtag`.
    let stream_tag = DeleteRequest::parse(DeleteKind::StreamTag, "demo/base", Some("1.0"), None).unwrap();
    s.deleter.run(&nobody, &stranger, stream_tag.clone()).await.unwrap_err();
    let no_cluster = s
        .deleter
        .run(&Access::everything(), &amy(), stream_tag)
        .await
        .unwrap_err();
    assert!(matches!(no_cluster, DeleteError::Refused(_)), "{no_cluster:?}");

    let events = s
        .store
        .audit_events(&AuditFilter {
            action: Some("delete".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut seen: Vec<(String, String, String, String)> = events
        .into_iter()
        .map(|e| (e.action, e.target, e.actor, e.outcome))
        .collect();
    seen.sort();
    let row = |action: &str, target: &str, actor: &str, outcome: &str| {
        (
            action.to_owned(),
            target.to_owned(),
            actor.to_owned(),
            outcome.to_owned(),
        )
    };
    assert_eq!(
        seen,
        [
            row("delete.stream_tag", "demo/base:1.0", "amy", "refused"),
            row("delete.stream_tag", "demo/base:1.0", "anonymous", "refused"),
            row("delete.tag", "demo/base:latest", "amy", "ok"),
            row("delete.tag", "demo/base:latest", "anonymous", "refused"),
        ]
    );
    assert_eq!(DeleteKind::StreamTag.action(), "delete.stream_tag");
}

#[tokio::test]
async fn bad_input_is_named_field_by_field_and_a_stopped_registry_is_unavailable() {
    for (kind, repository, tag, digest, says) in [
        (DeleteKind::Tag, "demo/base", Some(""), None, "Tag: "),
        (DeleteKind::Manifest, "demo/base", None, Some("abc"), "Digest: "),
        (DeleteKind::Tag, "Demo/Base", Some("1.0"), None, "Repository name: "),
        (DeleteKind::Layer, "", None, Some("sha256:xyz"), "Layer digest: "),
        (
            DeleteKind::StreamTag,
            "base",
            Some("1.0"),
            None,
            "base is not an image stream",
        ),
    ] {
        let Err(DeleteError::BadInput(message)) = DeleteRequest::parse(kind, repository, tag, digest) else {
            panic!("{kind:?} {repository} {tag:?} {digest:?} is bad input")
        };
        assert!(message.starts_with(says) && message.ends_with('.'), "{message}");
    }

    let mut seeded = SeededRegistry::start(0).await.unwrap();
    let s = setup(seeded.registry.url()).await;
    seeded.registry.stop();
    let request = DeleteRequest::parse(DeleteKind::Tag, "demo/base", Some("latest"), None).unwrap();
    let down = s.deleter.run(&Access::everything(), &amy(), request).await.unwrap_err();
    let DeleteError::Unavailable(message) = down else {
        panic!("a stopped registry is unavailable, not {down:?}")
    };
    assert!(message.starts_with("The registry is not answering"), "{message}");
}
