//! Deleting from the repository page over HTTP, against the `regent` binary and the real
//! registry: Scruffy (delete on `demo/*`) sees the controls and deletes a tag, a digest and a
//! repository; Greg (read) sees none and his direct call is refused (403) and audited under
//! the same action name as Scruffy's delete; bad input answers 400, something gone 404, and a
//! delete while the registry is stopped 503, each saying why.

use regent_domain::access::{Grant, Level, Scope, Subject};
use regent_domain::store::{Actor, Store};
use regent_testkit::regent::RegentProcess;
use regent_testkit::skopeo::skopeo;
use regent_testkit::{SeededRegistry, free_port};
use serde_json::Value;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const PASSWORD: &str = "a long enough password";

fn answer(value: &Value) -> (&str, &str) {
    match (value["Done"].as_str(), value["Refused"].as_str()) {
        (Some(m), _) => ("done", m),
        (_, Some(m)) => ("refused", m),
        _ => panic!("not an outcome: {value}"),
    }
}

/// The sample registry and Regent, with the users named in `grants` (password `PASSWORD`)
/// and those grants; the store's directory must outlive the test.
async fn start(grants: &[(&str, &str, Level)]) -> (SeededRegistry, RegentProcess, tempfile::TempDir) {
    start_on(SeededRegistry::start(0).await.unwrap(), grants).await
}

/// As `start`, on a registry the test has pushed more into.
async fn start_on(
    seeded: SeededRegistry,
    grants: &[(&str, &str, Level)],
) -> (SeededRegistry, RegentProcess, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&data.path().join("regent.db")).await.unwrap();
        store.ensure_admin(Some("the admin password")).await.unwrap();
        let sarah = Actor::new("admin", "127.0.0.1");
        for (subject, scope, level) in grants {
            let subject = Subject::parse(subject).unwrap();
            if let Subject::User(name) = &subject
                && store.user(name).await.unwrap().is_none()
            {
                store.create_user(&sarah, name, PASSWORD, false).await.unwrap();
            }
            let grant = Grant {
                subject,
                scope: Scope::parse(scope).unwrap(),
                level: *level,
            };
            store.put_grant(&sarah, &grant).await.unwrap();
        }
    }
    let url = seeded.registry.url().to_string();
    let regent = RegentProcess::start(
        REGENT,
        &format!("127.0.0.1:{}", free_port()),
        &["--registry-url", &url, "--data-dir", data.path().to_str().unwrap()],
    )
    .await;
    regent.index_complete(60).await;
    (seeded, regent, data)
}

#[tokio::test]
async fn scruffy_deletes_exactly_what_he_picks_and_greg_cannot_delete_at_all() {
    let (seeded, regent, _data) = start(&[
        ("user:scruffy", "demo/*", Level::Delete),
        ("user:greg", "demo/*", Level::Read),
    ])
    .await;
    let host = seeded.registry.host();
    let mut scruffy = regent.visitor();
    assert!(scruffy.sign_in("scruffy", PASSWORD).await);
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);

    // Controls only for those who may use them.
    let (_, page) = scruffy.get("/images/demo/base").await;
    assert!(page.contains("data-form=\"delete-tag\"") && page.contains("Delete the repository demo/base"));
    let (_, page) = greg.get("/images/demo/base").await;
    assert!(
        !page.contains("delete-tag") && !page.contains("Delete the repository"),
        "{page}"
    );

    // Greg's direct call is refused (403, saying why), and audited.
    let (status, refused) = greg
        .answer(
            "/api/delete",
            &[("op", "tag"), ("repository", "demo/base"), ("tag", "latest")],
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    let (kind, message) = answer(&refused);
    assert_eq!(kind, "refused");
    assert!(
        message.contains("You may not delete in demo/base; you are signed in as greg"),
        "{message}"
    );
    // Scruffy may not delete outside demo/*.
    let (status, refused) = scruffy
        .answer("/api/delete", &[("op", "repository"), ("repository", "multi/arch")])
        .await;
    assert_eq!((status.as_u16(), answer(&refused).0), (403, "refused"), "{refused}");

    // One tag: 1.0 keeps the digest latest shared.
    let done = scruffy
        .call(
            "/api/delete",
            &[("op", "tag"), ("repository", "demo/base"), ("tag", "latest")],
        )
        .await;
    assert_eq!(
        answer(&done),
        (
            "done",
            "Deleted the tag demo/base:latest. 1.0 still points at the same image."
        )
    );
    let (ok, _) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/demo/base:1.0"),
    ]);
    assert!(ok, "1.0 is still pullable");
    let (_, page) = scruffy.get("/images/demo/base").await;
    assert!(!page.contains(">latest</a>"), "the page shows the delete at once");

    // A digest with its tag, then a whole repository.
    let v1 = seeded.report.tags["demo/app"]["v1"].clone();
    let done = scruffy
        .call(
            "/api/delete",
            &[("op", "manifest"), ("repository", "demo/app"), ("digest", &v1)],
        )
        .await;
    assert_eq!(
        answer(&done),
        ("done", format!("Deleted demo/app@{v1} and its tags v1.").as_str())
    );
    let done = scruffy
        .call("/api/delete", &[("op", "repository"), ("repository", "demo/app")])
        .await;
    assert_eq!(answer(&done).0, "done");
    let (_, page) = scruffy.get("/images").await;
    assert!(!page.contains("demo/app"), "{page}");

    // Bad input is refused in words (400); what is not there, 404.
    for (form, status, says) in [
        (
            vec![("op", "everything"), ("repository", "demo/base")],
            400,
            "not something Regent deletes",
        ),
        (
            vec![("op", "tag"), ("repository", "demo/base"), ("tag", "")],
            400,
            "Tag:",
        ),
        (
            vec![("op", "manifest"), ("repository", "demo/base"), ("digest", "abc")],
            400,
            "Digest:",
        ),
        (
            vec![("op", "tag"), ("repository", "Demo/Base"), ("tag", "1.0")],
            400,
            "Repository name:",
        ),
        (
            vec![("op", "tag"), ("repository", "demo/base"), ("tag", "nope")],
            404,
            "not in the registry",
        ),
    ] {
        let (answered, reply) = scruffy.answer("/api/delete", &form).await;
        let (kind, message) = answer(&reply);
        assert_eq!((answered.as_u16(), kind), (status, "refused"), "{form:?}: {message}");
        assert!(message.contains(says), "{form:?}: {message}");
    }

    // The audit log has each delete and the refusal, under one action name, and `delete`
    // finds the whole family.
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", "the admin password").await);
    let (_, log) = admin.get("/admin/audit?action=delete.tag").await;
    assert!(
        log.contains("demo/base:latest") && log.contains("scruffy") && log.contains("greg"),
        "{log}"
    );
    let greg_refused = r#"data-action="delete.tag" data-outcome="refused""#;
    let scruffy_done = r#"data-action="delete.tag" data-outcome="ok""#;
    assert!(log.contains(greg_refused) && log.contains(scruffy_done), "{log}");
    let (_, family) = admin.get("/admin/audit?action=delete").await;
    for action in ["delete.tag", "delete.manifest", "delete.repository"] {
        assert!(
            family.contains(&format!("data-action=\"{action}\"")),
            "{action}: {family}"
        );
    }
}

#[tokio::test]
async fn a_delete_while_the_registry_is_stopped_answers_503_saying_so() {
    let (mut seeded, regent, _data) = start(&[("user:scruffy", "demo/*", Level::Delete)]).await;
    let mut scruffy = regent.visitor();
    assert!(scruffy.sign_in("scruffy", PASSWORD).await);
    seeded.registry.stop();
    let (status, reply) = scruffy
        .answer(
            "/api/delete",
            &[("op", "tag"), ("repository", "demo/base"), ("tag", "latest")],
        )
        .await;
    let (kind, message) = answer(&reply);
    assert_eq!((status.as_u16(), kind), (503, "refused"), "{message}");
    assert!(
        message.contains("The registry is not answering, so demo/base:latest was not deleted")
            && message.contains("Is the registry running"),
        "{message}"
    );
    let (status, reply) = scruffy
        .answer("/api/delete", &[("op", "repository"), ("repository", "demo/app")])
        .await;
    assert_eq!(status, 503, "{reply}");
    let message = answer(&reply).1;
    assert!(
        message.contains("The registry is not answering, so demo/app@sha256:"),
        "the first manifest stops the rest: {message}"
    );
}

#[tokio::test]
async fn a_leaked_layer_is_deleted_where_the_reviewer_may_and_greg_cannot_start_it() {
    // Amy deletes in demo/* and also reads multi/*, so she hears what she could not delete.
    let (seeded, regent, _data) = start(&[
        ("user:amy", "demo/*", Level::Delete),
        ("user:amy", "multi/*", Level::Read),
        ("user:greg", "*", Level::Read),
    ])
    .await;
    let layer = seeded.report.shared_layer.clone();
    let page = format!("/layers/{layer}");
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);
    let (_, html) = greg.get(&page).await;
    assert!(!html.contains("delete-layer"), "no control for greg");
    let (status, reply) = greg
        .answer(
            "/api/delete",
            &[("op", "layer"), ("repository", ""), ("digest", &layer)],
        )
        .await;
    let (kind, message) = answer(&reply);
    assert_eq!((status.as_u16(), kind), (403, "refused"));
    assert!(
        message.contains("You may not delete in any repository that has this layer"),
        "{message}"
    );

    let mut amy = regent.visitor();
    assert!(amy.sign_in("amy", PASSWORD).await);
    let (_, html) = amy.get(&page).await;
    assert!(html.contains("data-form=\"delete-layer\""), "{html}");
    let reply = amy
        .call(
            "/api/delete",
            &[("op", "layer"), ("repository", ""), ("digest", &layer)],
        )
        .await;
    let (kind, message) = answer(&reply);
    assert_eq!(kind, "done", "{message}");
    assert!(
        message.starts_with("Deleted 4 image(s) with 5 tag(s) in 2 repositories"),
        "{message}"
    );
    assert!(
        message.contains("Not touched (you may not delete there): multi/arch."),
        "{message}"
    );
    assert!(message.contains("in repositories you cannot see"), "{message}");
    // Her view of the layer now holds only what she could not delete.
    let (_, html) = amy.get(&page).await;
    assert!(!html.contains("demo/base") && html.contains("multi/arch"), "{html}");

    // The administrator's storage page has the garbage-collection plan; Amy's has none.
    let (_, html) = amy.get("/storage").await;
    assert!(!html.contains("gc-plan"), "{html}");
    let refused = amy.call("/api/gc_done", &[]).await;
    assert_eq!(answer(&refused).0, "refused");
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", "the admin password").await);
    let (_, html) = admin.get("/storage").await;
    let blobs: usize = html
        .split("data-gc-blobs=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no plan on the page: {html}"));
    assert!(blobs >= 8, "4 manifests with their configs and own layers: {blobs}");
    assert!(html.contains("docker-registry garbage-collect /etc/docker/registry/config.yml"));
    let done = admin.call("/api/gc_done", &[]).await;
    assert_eq!(answer(&done).0, "done");
    let (_, html) = admin.get("/storage").await;
    assert!(html.contains("data-gc-blobs=\"0\""), "{html}");
}

/// `docker manifest create team/app:all team/app:amd64 <arm64>`: the delete controls list what
/// deleting `all` takes (the index and its untagged arm64 platform) and that the tagged amd64
/// platform stays; the delete does exactly that.
#[tokio::test]
async fn the_delete_controls_show_which_platform_images_go_and_which_stay() {
    use regent_testkit::{Artifact, Image, ImageIndex, Layer};
    let seeded = SeededRegistry::start(0).await.unwrap();
    let host = seeded.registry.host();
    let pusher = regent_testkit::push::Pusher::new(&seeded.registry.url());
    let platform = |architecture: &str| {
        let layer = Layer::from_files(&[("app", architecture.as_bytes())]).unwrap();
        Image::build("linux", architecture, vec![layer], "2024-01-01T00:00:00Z", &["app"]).unwrap()
    };
    let (amd64, arm64) = (platform("amd64"), platform("arm64"));
    pusher
        .push("team/app", "amd64", &Artifact::Image(amd64.clone()))
        .await
        .unwrap();
    let all = Artifact::Index(ImageIndex::build(vec![amd64.clone(), arm64.clone()]).unwrap());
    pusher.push("team/app", "all", &all).await.unwrap();
    let (seeded, regent, _data) = start_on(seeded, &[("user:scruffy", "team/*", Level::Delete)]).await;
    let mut scruffy = regent.visitor();
    assert!(scruffy.sign_in("scruffy", PASSWORD).await);
    let (index, amd64_digest, arm64_digest) = (all.digest(), &amd64.manifest.digest, &arm64.manifest.digest);

    let (_, page) = scruffy.get("/images/team/app").await;
    for line in [
        format!("<li>team/app@{index} with the tags all</li>"),
        format!("<li>team/app@{arm64_digest} (platform linux/arm64, untagged)</li>"),
        format!("<li>team/app@{amd64_digest} (platform linux/amd64): tagged amd64 itself</li>"),
    ] {
        assert!(page.contains(&line), "the preview lists {line}: {page}");
    }
    assert!(
        page.contains("Delete the multi-arch image and 1 of its 2 platform images"),
        "{page}"
    );

    let done = scruffy
        .call(
            "/api/delete",
            &[("op", "manifest"), ("repository", "team/app"), ("digest", index)],
        )
        .await;
    let (kind, message) = answer(&done);
    assert_eq!(kind, "done", "{message}");
    assert!(
        message.contains("with its 1 platform image(s) and its tags all.")
            && message.contains(&format!("Platform images kept: team/app@{amd64_digest}")),
        "{message}"
    );
    let (ok, out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/team/app:amd64"),
    ]);
    assert!(ok, "the tagged platform still pulls: {out}");
    let (ok, out) = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{host}/team/app@{arm64_digest}"),
    ]);
    assert!(
        !ok && out.contains("manifest unknown"),
        "the untagged platform went: {out}"
    );
    drop(seeded);
}
