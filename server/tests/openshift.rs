//! The `regent` binary on OpenShift: started with only a kubeconfig, it finds the integrated
//! registry through the cluster and signs in with the cluster's token; the repository and tag
//! pages show the image streams joined by digest (tracking tags, history, a failed import),
//! the workloads running an image, and what is in the cluster but not in the registry and the
//! reverse; administrators change project members and delete in prune order. Without a
//! cluster the same binary shows none of it.

use regent_testkit::cluster::{Identity, SampleCluster, SampleOptions};
use regent_testkit::free_port;
use regent_testkit::regent::{RegentProcess, command, make_public};
use std::time::Duration;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";

async fn start(cluster: &SampleCluster, data: &std::path::Path) -> RegentProcess {
    make_public(REGENT, data);
    start_private(cluster, data).await
}

/// Regent with no grant but the first administrator: each user sees what they are granted.
async fn start_private(cluster: &SampleCluster, data: &std::path::Path) -> RegentProcess {
    let kubeconfig = cluster.kubeconfig(true);
    let listen = format!("127.0.0.1:{}", free_port());
    let regent = RegentProcess::start(
        REGENT,
        &listen,
        &[
            "--openshift-kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--admin-password",
            ADMIN_PASSWORD,
        ],
    )
    .await;
    regent.index_complete(60).await;
    regent
        .get_until(
            "/readyz",
            "\"synced\":true",
            Duration::from_millis(100),
            Duration::from_secs(30),
        )
        .await;
    regent
}

#[tokio::test]
async fn with_only_a_kubeconfig_regent_finds_the_registry_and_joins_image_streams() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&cluster, data.path()).await;

    let (status, ready) = regent.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(
        ready["registry"],
        format!("http://127.0.0.1:{}/", cluster.registry.port())
    );
    assert!(
        ready["openshift"]["registry"]
            .as_str()
            .unwrap()
            .contains("openshift-image-registry/image-registry")
    );
    assert_eq!(ready["index"]["tags"], 5, "crawled with the cluster token: {ready}");

    let (status, page) = regent.get("/images/team-a/webapp").await;
    assert_eq!(status, 200);
    for says in [
        "Image streams",
        "team-a/webapp:1.0",
        "team-a/webapp:latest",
        "tracks 1.0",
        "in no image stream",
        "Imports that failed",
        "data-failed-import=\"team-a/webapp:2.0\"",
        "i/o timeout",
        "imports quay.io/example/webapp:2.0 every 15 min",
        // Pull commands name the route the streams give, not the API's service address.
        &format!("docker pull {}/team-a/webapp:latest", cluster.public_host()),
    ] {
        assert!(page.contains(says), "the repository page shows {says:?}");
    }

    let (status, page) = regent.get("/images/team-a/webapp/tags/latest").await;
    assert_eq!(status, 200);
    for says in [
        "Image stream tags on this digest",
        "Image stream tag team-a/webapp:latest",
        "Deployment/webapp",
        "webapp-5d4f8-x7k2p",
        "data-table=\"stream-history\"",
        "pushed to this registry (managed)",
    ] {
        assert!(page.contains(says), "the tag page shows {says:?}");
    }
    let (_, page) = regent.get("/images/team-a/webapp/tags/old").await;
    assert!(page.contains("DeploymentConfig/legacy"), "pinned by digest");
    assert!(
        page.contains("Still in the history of team-a/webapp:1.0"),
        "its history"
    );
}

#[tokio::test]
async fn administrators_manage_project_members_and_see_what_does_not_line_up() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&cluster, data.path()).await;

    let anonymous = regent.visitor();
    let (status, page) = anonymous.get("/openshift/projects/team-a").await;
    assert_eq!(status, 401, "{page}");
    let refused = anonymous
        .call(
            "/api/openshift/change_member",
            &[
                ("op", "set"),
                ("project", "team-a"),
                ("kind", "user"),
                ("name", "mallory"),
                ("role", "admin"),
            ],
        )
        .await;
    assert!(
        refused["Refused"].as_str().unwrap().contains("Only administrators"),
        "{refused}"
    );

    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let (status, page) = admin.get("/openshift").await;
    assert_eq!(status, 200);
    for says in [
        "connected",
        "team-a/webapp:2.0",
        "team-a/webapp:scratch",
        "data-watch=\"RoleBinding\"",
    ] {
        assert!(page.contains(says), "the cluster page shows {says:?}");
    }

    let change = |op: &'static str, kind: &'static str, name: &'static str, role: &'static str| {
        [
            ("op", op),
            ("project", "team-a"),
            ("kind", kind),
            ("name", name),
            ("role", role),
        ]
    };
    let done = admin
        .call("/api/openshift/change_member", &change("set", "user", "alice", "push"))
        .await;
    assert!(done["Done"].as_str().unwrap().contains("registry-editor"), "{done}");
    let binding = cluster
        .api
        .get(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("team-a"),
            "registry-editor",
        )
        .expect("oc adm policy names the binding after the role");
    assert_eq!(binding["subjects"][0]["name"], "alice");
    let bad = admin
        .call("/api/openshift/change_member", &change("set", "user", "a/b", "push"))
        .await;
    assert!(bad["Refused"].as_str().unwrap().contains("\"/\""), "{bad}");
    let bad = admin
        .call("/api/openshift/change_member", &change("set", "group", "qa", "owner"))
        .await;
    assert!(
        bad["Refused"].as_str().unwrap().contains("pull, push or admin"),
        "{bad}"
    );

    let page = regent_page_until(
        &admin,
        "/openshift/projects/team-a",
        "data-member=\"alice\" data-role=\"push\"",
    )
    .await;
    assert!(page.contains("Who can pull"));
    let (_, audit) = admin.get("/admin/audit?action=openshift.member.set").await;
    assert!(audit.contains("team-a user:alice"), "changes are audited");

    let made = admin
        .call(
            "/api/openshift/create_project",
            &[("name", "Team-C"), ("display_name", "")],
        )
        .await;
    assert!(made["Refused"].as_str().unwrap().contains("lowercase"), "{made}");
    let made = admin
        .call(
            "/api/openshift/create_project",
            &[
                ("name", "team-c"),
                ("display_name", "Team C"),
                ("admin_kind", "group"),
                ("admin_name", "devs"),
            ],
        )
        .await;
    assert!(
        made["Done"].as_str().unwrap().contains("Created the project team-c"),
        "{made}"
    );
    let done = admin
        .call(
            "/api/openshift/change_group",
            &[("op", "add"), ("group", "qa"), ("user", "hank")],
        )
        .await;
    assert_eq!(done["Done"], "Added hank to qa.");
}

/// A signed-in page, polled until it shows `needle` (watches take a moment).
async fn regent_page_until(visitor: &regent_testkit::regent::Visitor<'_>, path: &str, needle: &str) -> String {
    let mut page = String::new();
    for _ in 0..100 {
        page = visitor.get(path).await.1;
        if page.contains(needle) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {needle:?}:\n{page}");
}

#[tokio::test]
async fn deleting_the_image_everywhere_goes_through_the_streams_first() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&cluster, data.path()).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let (_, page) = admin.get("/images/team-a/webapp").await;
    assert!(
        page.contains("Delete the image stream tag team-a/webapp:old"),
        "the row offers the stream tag delete"
    );
    assert!(
        page.contains("Running now in team-a/DeploymentConfig/legacy"),
        "the delete dialog names what runs the image"
    );

    let old = cluster.old.digest().to_owned();
    let done = admin
        .call(
            "/api/delete",
            &[("op", "image"), ("repository", "team-a/webapp"), ("digest", &old)],
        )
        .await;
    assert!(
        done["Done"]
            .as_str()
            .unwrap()
            .contains("Removed it from the history of team-a/webapp"),
        "{done}"
    );
    assert!(cluster.api.get("image.openshift.io/v1", "Image", None, &old).is_none());
    let (_, page) = regent.get("/images/team-a/webapp").await;
    assert!(!page.contains(">old<"), "the registry tag went with the image");

    let done = admin
        .call(
            "/api/delete",
            &[("op", "stream_tag"), ("repository", "team-a/webapp"), ("tag", "2.0")],
        )
        .await;
    assert!(
        done["Done"]
            .as_str()
            .unwrap()
            .contains("Deleted the image stream tag team-a/webapp:2.0"),
        "{done}"
    );
}

/// Team B runs the same image as team A, in a stream and a pod of its own, and has a second
/// image with the same layer.
async fn team_b_shares_the_image(cluster: &SampleCluster) {
    use regent_testkit::cluster::{INTERNAL_HOST, TOKEN};
    let pusher = regent_testkit::push::Pusher::new(&cluster.registry.url()).with_basic("unused", TOKEN);
    pusher.push("team-b/webapp", "latest", &cluster.current).await.unwrap();
    let layer = cluster.current.images()[0].layers[0].clone();
    let tools =
        regent_testkit::Image::build("linux", "amd64", vec![layer], "2025-01-01T00:00:00Z", &["/bin/tools"]).unwrap();
    pusher
        .push("team-b/tools", "v1", &regent_testkit::Artifact::Image(tools))
        .await
        .unwrap();
    let digest = cluster.current.digest();
    let reference = format!("{INTERNAL_HOST}/team-b/webapp@{digest}");
    cluster.api.put(serde_json::json!({
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": "webapp", "namespace": "team-b", "generation": 1},
        "spec": {"lookupPolicy": {"local": false}, "tags": []},
        "status": {"dockerImageRepository": format!("{INTERNAL_HOST}/team-b/webapp"),
            "tags": [{"tag": "latest", "items": [{"created": "2026-03-10T16:20:02Z", "dockerImageReference": reference, "image": digest, "generation": 1}]}]}
    }));
    cluster.api.put(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "billing-7c9d-abcde", "namespace": "team-b"},
        "spec": {"containers": [{"name": "billing", "image": reference}]}
    }));
}

#[tokio::test]
async fn a_team_sees_its_own_streams_and_pods_and_only_a_count_of_other_projects() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    team_b_shares_the_image(&cluster).await;
    let data = tempfile::tempdir().unwrap();
    let regent = start_private(&cluster, data.path()).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let created = admin
        .call(
            "/api/admin/change_user",
            &[
                ("op", "create"),
                ("name", "jane"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(created["Done"], "Created jane.", "{created}");
    let granted = admin
        .call(
            "/api/admin/change_grant",
            &[
                ("op", "put"),
                ("subject", "user:jane"),
                ("scope", "team-a/webapp"),
                ("level", "delete"),
            ],
        )
        .await;
    assert!(granted["Done"].is_string(), "{granted}");
    let mut jane = regent.visitor();
    assert!(jane.sign_in("jane", "a long enough password").await);

    // The administrator sees both teams; the watches may take a moment to show team B.
    let tag_page = "/images/team-a/webapp/tags/latest";
    let page = regent_page_until(&admin, tag_page, "billing-7c9d-abcde").await;
    assert!(
        page.contains("team-b/webapp:latest"),
        "the administrator sees team B's stream tag"
    );

    let (status, page) = jane.get(tag_page).await;
    assert_eq!(status, 200);
    assert!(page.contains("team-a/webapp:latest"), "jane sees her team's stream tag");
    for hidden in ["team-b", "billing"] {
        assert!(
            !page.contains(hidden),
            "jane's tag page names nothing of team B ({hidden})"
        );
    }
    assert!(page.contains("data-hidden-streams=\"1\""), "one stream tag counted");
    assert!(
        page.contains("1 container in projects you cannot see"),
        "one pod counted"
    );

    let (_, page) = jane.get("/images/team-a/webapp").await;
    if let Some(i) = page.find("team-b") {
        panic!(
            "the repository page names nothing of team B: …{}…",
            &page[i.saturating_sub(400)..(i + 200).min(page.len())]
        );
    }
    assert!(
        page.contains("data-hidden-streams=\"1\""),
        "the rows count team B's stream tag"
    );
    assert!(
        page.contains("Running now in team-a/Deployment/webapp")
            && page.contains("1 container in projects you cannot see"),
        "the delete dialog counts what it would break elsewhere"
    );

    let layer = cluster.current.images()[0].layers[0].blob.digest.clone();
    let (_, page) = admin.get(&format!("/layers/{layer}")).await;
    assert!(
        page.contains("In 2 image manifests across 3 repositories"),
        "the administrator sees the spread"
    );
    let (_, page) = jane.get(&format!("/layers/{layer}")).await;
    assert!(
        page.contains("In 1 image manifest across 1 repository"),
        "jane's layer page counts only what she may see"
    );
    assert!(!page.contains("team-b"));
}

#[tokio::test]
async fn without_a_cluster_regent_is_registry_only_and_says_so() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let url = cluster.registry.url().to_string();
    let regent = RegentProcess::start(
        REGENT,
        &listen,
        &[
            "--openshift-mode",
            "off",
            "--registry-url",
            &url,
            "--registry-username",
            "unused",
            "--registry-password",
            regent_testkit::cluster::TOKEN,
            "--data-dir",
            data.path().to_str().unwrap(),
            "--admin-password",
            ADMIN_PASSWORD,
        ],
    )
    .await;
    regent.index_complete(60).await;
    let (_, page) = regent.get("/images/team-a/webapp").await;
    assert!(
        page.contains("scratch") && !page.contains("Image streams"),
        "no OpenShift column"
    );
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let (_, page) = admin.get("/openshift").await;
    assert!(page.contains("registry-only mode"), "{page}");

    // No registry URL and no cluster: start-up stops and says what to set.
    let out = command(
        REGENT,
        &["--openshift-mode", "off", "--data-dir", data.path().to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("registry.url (REGENT_REGISTRY_URL / --registry-url)"));
    let out = command(
        REGENT,
        &[
            "--openshift-mode",
            "sometimes",
            "--registry-url",
            &url,
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("openshift.mode"),
        "bad mode named"
    );
}

/// The row of `tag` in a rendered tag table (up to the end of its `<tr>`).
fn row<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page.find(marker).unwrap_or_else(|| panic!("no {marker} in the page"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn images_tagged_across_projects_show_their_streams_tracking_chains_and_only_real_drift() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&cluster, data.path()).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);

    let (status, page) = admin.get("/images/skyfield").await;
    assert_eq!(status, 200);
    let one_one = row(&page, "href=\"/images/skyfield/tags/1.1\"");
    for says in [
        "skyfield-dev/skyfield:1.1",
        "data-stream-tag=\"skyfield-dev/skyfield:stable\"",
        " tracks 1.1",
        "data-stream-tag=\"skyfield-dev/skyfield:prod\"",
        " tracks stable → 1.1",
    ] {
        assert!(
            one_one.contains(says),
            "the row of skyfield:1.1 shows {says:?}: {one_one}"
        );
    }
    assert!(
        page.contains("data-missing=\"1.0\" data-stream-tag=\"skyfield-dev/skyfield:1.0\"")
            && page.contains("data-looked-in=\"skyfield\""),
        "the one digest the registry lacks, and where it was looked for"
    );

    let (_, page) = admin.get("/images/skyfield/tags/1.1").await;
    assert!(page.contains(" tracks stable → 1.1"), "the tag page names the chain");

    let (status, page) = admin.get("/openshift").await;
    assert_eq!(status, 200);
    for tag in ["1.1", "stable", "prod"] {
        assert!(
            !page.contains(&format!("data-missing=\"skyfield-dev/skyfield:{tag}\"")),
            "skyfield-dev/skyfield:{tag} is in the registry (as skyfield@…), not missing"
        );
    }
    assert!(
        page.contains("data-missing=\"skyfield-dev/skyfield:1.0\" data-looked-in=\"skyfield\"")
            && page.contains("the registry answers 404 for it in skyfield"),
        "really missing, saying where it was looked for"
    );
    assert!(
        !page.contains("data-missing=\"team-a/webapp:2.0\""),
        "its image stays on quay.io"
    );
    let api = row(&page, "data-failed-import=\"team-a/api:latest\"");
    for says in [
        "imports quay.io/acme/api:latest every 15 min",
        "2026-03-11T03:15:00Z",
        "InternalError: Internal error occurred: quay.io/acme/api:latest: unauthorized",
        "never imported",
    ] {
        assert!(api.contains(says), "the failed import says {says:?}: {api}");
    }

    let (status, page) = admin.get("/images/team-a/api").await;
    assert_eq!(status, 200, "a stream with nothing in the registry has a page");
    assert!(page.contains("data-stream-only=\"true\""));
    assert!(row(&page, "data-failed-import=\"team-a/api:latest\"").contains("every 15 min"));

    let (_, page) = admin.get("/images").await;
    assert!(
        page.contains("data-failed-imports=\"2\"") && page.contains("2 image stream tags failed their last import."),
        "administrators see the count on the Images page"
    );
    let (_, page) = regent.visitor().get("/images").await;
    assert!(!page.contains("data-failed-imports"), "others do not");
}

#[tokio::test]
async fn an_identity_that_reads_only_images_is_told_what_it_cannot_read() {
    let cluster = SampleCluster::start(SampleOptions {
        identity: Identity::ImagesOnly,
        ..Default::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&cluster, data.path()).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let (status, page) = admin.get("/openshift").await;
    assert_eq!(status, 200);
    assert!(!page.contains(">unknown<"), "not just \"unknown\"");
    assert!(
        page.contains("data-identity=\"unknown\"") && page.contains("`get users/~`"),
        "says what it could not read and which permission shows it"
    );
    for kind in ["Pod", "Project", "Group", "RoleBinding"] {
        assert!(
            page.contains(&format!("data-watch=\"{kind}\" data-refused=\"true\"")),
            "{kind} is shown as not readable"
        );
    }
    assert!(page.contains("may not list pods") && page.contains("`list` and `watch` on pods"));
    assert!(page.contains("data-watch=\"ImageStream\" data-refused=\"false\""));
    assert!(
        page.contains("data-failed-import=\"team-a/api:latest\""),
        "the image API still works"
    );
}
