//! The registry client against the real Debian docker-registry, seeded with real images.

use regent_domain::reference::{Digest, Reference, RepositoryName, Tag};
use regent_domain::registry::{
    Credentials, Manifest, MediaType, OciErrorCode, RegistryClient, RegistryConfig, RegistryError,
};
use regent_testkit::{RegistryAuth, RegistryOptions, SeededRegistry, TestRegistry};
use std::time::Duration;

fn client(url: &url::Url, page: u32, credentials: Credentials) -> RegistryClient {
    let mut config = RegistryConfig::new(url.clone());
    config.catalog_page_size = page;
    config.credentials = credentials;
    config.timeout = Duration::from_secs(5);
    RegistryClient::new(config).unwrap()
}

fn repo(name: &str) -> RepositoryName {
    RepositoryName::parse(name).unwrap()
}

fn tag(name: &str) -> Reference {
    Reference::Tag(Tag::parse(name).unwrap())
}

#[tokio::test]
async fn admin_lists_every_repository_of_a_registry_that_needs_several_catalog_pages() {
    let seeded = SeededRegistry::start(260).await.unwrap();
    let expected = seeded.report.repositories();
    assert!(expected.len() >= 260);

    // 100 per page: the walk must follow the Link header over three or more pages.
    let by_hundred = client(&seeded.registry.url(), 100, Credentials::None);
    let first = by_hundred.catalog_page(None).await.unwrap();
    assert_eq!(first.repositories.len(), 100);
    assert!(first.next.is_some(), "a full first page announces the next one");
    let names: Vec<String> = by_hundred
        .catalog()
        .await
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, expected, "every repository once, in the registry's sorted order");

    // Asking for more than distribution's maximum is clamped, never PAGINATION_NUMBER_INVALID.
    let greedy = client(&seeded.registry.url(), 5000, Credentials::None);
    assert_eq!(greedy.catalog().await.unwrap().len(), expected.len());
}

#[tokio::test]
async fn tags_are_listed_and_an_emptied_repository_has_none() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let c = client(&seeded.registry.url(), 1000, Credentials::None);
    let mut tags: Vec<String> = c
        .tags(&repo("demo/base"))
        .await
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect();
    tags.sort();
    assert_eq!(tags, ["1.0", "1.1", "latest"]);
    // The registry answers `"tags": null` here.
    assert!(c.tags(&repo("demo/emptied")).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_repository_or_manifest_is_a_typed_not_found() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let c = client(&seeded.registry.url(), 1000, Credentials::None);
    let err = c.tags(&repo("no/such-repo")).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some(&OciErrorCode::NameUnknown));
    let err = c.manifest(&repo("demo/base"), &tag("nope")).await.unwrap_err();
    assert_eq!(err.code(), Some(&OciErrorCode::ManifestUnknown), "{err:?}");
    let missing = Reference::Digest(Digest::sha256_of(b"never pushed"));
    assert!(
        c.manifest_head(&repo("demo/base"), &missing)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn manifests_of_all_four_formats_come_back_with_the_pushed_digest() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let c = client(&seeded.registry.url(), 1000, Credentials::None);
    let cases = [
        ("demo/base", "1.0", MediaType::OciManifest),
        ("multi/arch", "latest", MediaType::OciIndex),
        ("dockerfmt/app", "v1", MediaType::DockerManifest),
        ("dockerfmt/multi", "latest", MediaType::DockerManifestList),
        ("skopeo/oci", "1.0", MediaType::OciManifest),
    ];
    for (name, t, media_type) in cases {
        let pushed = &seeded.report.tags[name][t];
        let got = c.manifest(&repo(name), &tag(t)).await.unwrap();
        assert_eq!(
            got.digest.as_str(),
            pushed,
            "{name}:{t} digest from Docker-Content-Digest"
        );
        assert_eq!(got.media_type, media_type, "{name}:{t}");
        assert!(got.digest.verifies(&got.bytes));
        let head = c.manifest_head(&repo(name), &tag(t)).await.unwrap();
        assert_eq!(head.digest, got.digest, "HEAD and GET agree for {name}:{t}");
        assert_eq!(head.size as usize, got.bytes.len());
        // By digest too.
        let by_digest = c
            .manifest(&repo(name), &Reference::Digest(got.digest.clone()))
            .await
            .unwrap();
        assert_eq!(by_digest.bytes, got.bytes);
        match got.parse().unwrap() {
            Manifest::Index { manifests } => {
                assert!(media_type.is_index());
                let platforms: Vec<String> = manifests
                    .iter()
                    .map(|m| m.platform.as_ref().unwrap().to_string())
                    .collect();
                assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
            }
            Manifest::Image { layers, .. } => {
                assert!(!media_type.is_index());
                assert_eq!(layers.len(), 2);
                assert_eq!(
                    layers[0].digest.as_str(),
                    seeded.report.shared_layer,
                    "base layer shared"
                );
            }
        }
    }
    // The children of the OCI index are the ones pushed, not a silently substituted amd64 image.
    let index = c.manifest(&repo("multi/arch"), &tag("latest")).await.unwrap();
    let Manifest::Index { manifests } = index.parse().unwrap() else {
        panic!("index expected")
    };
    let children: Vec<&str> = manifests.iter().map(|m| m.digest.as_str()).collect();
    assert_eq!(
        children,
        seeded
            .report
            .multi_arch_children
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn two_tags_on_one_manifest_share_its_digest_and_the_config_is_readable() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let c = client(&seeded.registry.url(), 1000, Credentials::None);
    let a = c.manifest_head(&repo("demo/base"), &tag("1.0")).await.unwrap();
    let b = c.manifest_head(&repo("demo/base"), &tag("latest")).await.unwrap();
    let other = c.manifest_head(&repo("demo/base"), &tag("1.1")).await.unwrap();
    assert_eq!(a.digest, b.digest);
    assert_ne!(a.digest, other.digest);

    let manifest = c
        .manifest(&repo("demo/base"), &tag("1.0"))
        .await
        .unwrap()
        .parse()
        .unwrap();
    let Manifest::Image { config, .. } = manifest else {
        panic!("image expected")
    };
    let config = c.image_config(&repo("demo/base"), &config.digest).await.unwrap();
    assert_eq!(config.os.as_deref(), Some("linux"));
    assert_eq!(config.architecture.as_deref(), Some("amd64"));
    assert_eq!(config.created.as_deref(), Some("2024-05-01T12:00:00Z"));
    assert_eq!(config.history.len(), 2);
}

#[tokio::test]
async fn a_registry_stopped_mid_session_is_reported_unreachable_and_works_again_when_back() {
    let mut seeded = SeededRegistry::start(0).await.unwrap();
    let c = client(&seeded.registry.url(), 1000, Credentials::None);
    assert!(c.check().await.is_ok());

    seeded.registry.stop();
    let err = c.tags(&repo("demo/base")).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{}", seeded.registry.port())),
        "{text}"
    );
    assert!(err.hint().contains("running"));
    assert!(err.is_unavailable());

    seeded.registry.restart().await.unwrap();
    assert_eq!(
        c.tags(&repo("demo/base")).await.unwrap().len(),
        3,
        "the same client recovers"
    );
}

#[tokio::test]
async fn basic_credentials_are_used_and_wrong_ones_are_refused_in_plain_words() {
    let users = vec![("regent".to_owned(), "s3cret".to_owned())];
    let registry = TestRegistry::start_with(RegistryOptions {
        auth: RegistryAuth::Htpasswd(users),
        ..Default::default()
    })
    .await
    .unwrap();
    regent_testkit::push::Pusher::new(&registry.url())
        .with_basic("regent", "s3cret")
        .push("team/app", "1", &regent_testkit::single_file_image("a").unwrap())
        .await
        .unwrap();

    let good = client(
        &registry.url(),
        1000,
        Credentials::Basic {
            username: "regent".into(),
            password: "s3cret".into(),
        },
    );
    assert!(good.check().await.is_ok());
    assert_eq!(good.catalog().await.unwrap(), vec![repo("team/app")]);

    let wrong = client(
        &registry.url(),
        1000,
        Credentials::Basic {
            username: "regent".into(),
            password: "nope".into(),
        },
    );
    let err = wrong.catalog().await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("\"regent\""), "{err}");
    assert!(!err.to_string().contains("nope"), "the password is never shown");
    assert!(err.hint().contains("registry.username"));

    let anonymous = client(&registry.url(), 1000, Credentials::None);
    assert!(matches!(
        anonymous.check().await.unwrap_err(),
        RegistryError::Unauthorized { .. }
    ));
}

#[tokio::test]
async fn a_token_authenticated_registry_is_read_through_the_bearer_challenge_flow() {
    use regent_testkit::skopeo::{self, Format};
    let tokens = regent_testkit::TestTokenService::start(&[("regent", "s3cret")]).unwrap();
    let registry = TestRegistry::start_with(RegistryOptions {
        auth: tokens.registry_auth(),
        ..Default::default()
    })
    .await
    .unwrap();
    // skopeo, the independent client, pushes through the same token flow.
    let layout = tempfile_dir();
    let image = regent_testkit::single_file_image("token").unwrap();
    regent_testkit::image::write_oci_layout(layout.path(), &[("t", &image)]).unwrap();
    skopeo::copy_layout_to_registry(
        layout.path(),
        "t",
        &registry.host(),
        "secure/app:1",
        Format::Oci,
        false,
        Some(("regent", "s3cret")),
    )
    .unwrap();

    let c = client(
        &registry.url(),
        1000,
        Credentials::Basic {
            username: "regent".into(),
            password: "s3cret".into(),
        },
    );
    assert!(c.check().await.is_ok());
    assert_eq!(c.catalog().await.unwrap(), vec![repo("secure/app")]);
    let got = c.manifest(&repo("secure/app"), &tag("1")).await.unwrap();
    assert_eq!(got.digest.as_str(), image.digest());

    // Tokens are cached per scope: asking again needs no new token.
    let before = tokens.issued();
    c.tags(&repo("secure/app")).await.unwrap();
    c.tags(&repo("secure/app")).await.unwrap();
    c.manifest_head(&repo("secure/app"), &tag("1")).await.unwrap();
    assert_eq!(tokens.issued(), before, "the pull token for secure/app was reused");

    let wrong = client(
        &registry.url(),
        1000,
        Credentials::Basic {
            username: "regent".into(),
            password: "bad".into(),
        },
    );
    let err = wrong.catalog().await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&tokens.realm()),
        "names the token service: {err}"
    );

    // Anonymous gets a token without access, so the registry still says no.
    let anonymous = client(&registry.url(), 1000, Credentials::None);
    assert!(matches!(
        anonymous.catalog().await.unwrap_err(),
        RegistryError::Unauthorized { .. }
    ));
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("regent-layout-").tempdir().unwrap()
}
