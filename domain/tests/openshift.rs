//! OpenShift against a local API server that serves OpenShift-shaped objects (no cluster runs
//! here) and the real registry: the real kube client lists in pages and watches, Regent joins
//! image streams to the registry by digest, finds the integrated registry and signs in with the
//! cluster token, manages project members as `oc adm policy` does, and deletes in the order
//! `oc adm prune` uses. Each test asserts the requests the cluster received.

use regent_domain::access::{Access, Grant, Level, Name, Policy, Rules, Scope, Viewer};
use regent_domain::deletes::Deleter;
use regent_domain::index::{CatalogIndex, IndexSettings};
use regent_domain::openshift::drift;
use regent_domain::openshift::{
    Detection, Mode, OpenShift, OpenShiftError, OpenShiftSettings, RegistryRole, StreamTagName, Subject,
};
use regent_domain::reference::{Digest, RepositoryName};
use regent_domain::registry::{Credentials, RegistryClient, RegistryConfig};
use regent_domain::store::{Actor, Store};
use regent_testkit::cluster::{IMPORTED, Identity, RegistryService, SampleCluster, SampleOptions, TOKEN};
use regent_testkit::openshift::ApiRequest;
use std::sync::Arc;
use std::time::Duration;

fn settings(kubeconfig: std::path::PathBuf) -> OpenShiftSettings {
    OpenShiftSettings {
        mode: Mode::Auto,
        kubeconfig: Some(kubeconfig),
        context: None,
        recheck_every: Duration::from_millis(200),
        // Small pages, so every list of the sample needs `continue`.
        page_size: 2,
    }
}

async fn connected(cluster: &SampleCluster, with_token: bool) -> Arc<OpenShift> {
    let openshift = OpenShift::configure(settings(cluster.kubeconfig(with_token)))
        .await
        .unwrap()
        .expect("a kubeconfig is configured");
    assert_eq!(openshift.detect().await, Detection::OpenShift);
    openshift.spawn();
    assert!(
        openshift.wait_synced(Duration::from_secs(20)).await,
        "{:?}",
        openshift.status()
    );
    openshift
}

/// Waits (15 s at most: CI machines are slow and shared) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 15 s");
}

fn paths(requests: &[ApiRequest], method: &str) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method == method)
        .map(|r| {
            if r.query.is_empty() {
                r.path.clone()
            } else {
                format!("{}?{}", r.path, r.query)
            }
        })
        .collect()
}

#[tokio::test]
async fn image_stream_tags_join_registry_tags_by_digest() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let requests = cluster.api.requests();
    let images_lists: Vec<&ApiRequest> = requests
        .iter()
        .filter(|r| r.path == "/apis/image.openshift.io/v1/images" && !r.is_watch())
        .collect();
    assert!(
        images_lists.iter().any(|r| r.param("limit").as_deref() == Some("2"))
            && images_lists.iter().any(|r| r.param("continue").is_some()),
        "three images are listed in pages of two: {images_lists:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/apis/image.openshift.io/v1/imagestreams" && r.is_watch())
    );
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {TOKEN}"))),
        "every request carries the kubeconfig's token"
    );

    let join = openshift.join();
    let (old, current) = (cluster.old.digest(), cluster.current.digest());
    let names: Vec<String> = join.pointing_at(current).iter().map(ToString::to_string).collect();
    assert_eq!(names, ["team-a/webapp:1.0", "team-a/webapp:latest"]);
    let latest = join.tag("team-a", "webapp", "latest").unwrap();
    assert_eq!(latest.tracks.as_deref(), Some("1.0"), "a tracking tag");
    let history: Vec<&str> = latest.history.iter().map(|h| h.image.as_str()).collect();
    assert_eq!(history, [current, old], "newest first");
    let two = join.tag("team-a", "webapp", "2.0").unwrap();
    assert!(two.scheduled);
    assert_eq!(two.current.as_deref(), Some(IMPORTED));
    let failed = two.import.clone().unwrap();
    assert!(!failed.succeeded && failed.message.unwrap().contains("i/o timeout"));
    assert!(!join.references(cluster.scratch.digest()), "scratch is in no stream");

    let running = openshift.workloads();
    let on_current: Vec<_> = running
        .using(current)
        .iter()
        .map(|w| (w.pod.as_str(), w.owner.as_deref()))
        .collect();
    assert_eq!(
        on_current,
        [("webapp-5d4f8-x7k2p", Some("Deployment/webapp"))],
        "by its stream tag"
    );
    let on_old: Vec<_> = running.using(old).iter().map(|w| w.owner.as_deref()).collect();
    assert_eq!(on_old, [Some("DeploymentConfig/legacy")], "pinned by digest");
    assert!(openshift.image(old).unwrap().managed());
}

#[tokio::test]
async fn watches_keep_streams_current_and_relist_when_the_version_expires() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let mut stream = cluster.webapp_stream();
    stream["status"]["tags"][3]["tag"] = "1.0.2".into();
    cluster.api.put(stream.clone());
    eventually("the watch delivers the new tag", || {
        openshift.join().tag("team-a", "webapp", "1.0.2").is_some()
    })
    .await;

    let lists_before = cluster
        .api
        .requests()
        .iter()
        .filter(|r| r.path == "/apis/image.openshift.io/v1/imagestreams" && !r.is_watch())
        .count();
    cluster.api.expire_watches();
    stream["status"]["tags"][3]["tag"] = "1.0.2-renamed".into();
    cluster.api.put(stream);
    eventually("a relist after 410 Expired picks up the change", || {
        openshift.join().tag("team-a", "webapp", "1.0.2-renamed").is_some()
            && openshift.join().tag("team-a", "webapp", "1.0.2").is_none()
    })
    .await;
    let lists_after = cluster
        .api
        .requests()
        .iter()
        .filter(|r| r.path == "/apis/image.openshift.io/v1/imagestreams" && !r.is_watch())
        .count();
    assert!(lists_after > lists_before, "the expired watch was followed by a list");
}

#[tokio::test]
async fn the_integrated_registry_is_found_by_its_service_and_takes_the_cluster_token() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let found = openshift.find_registry(None).await.unwrap();
    assert_eq!(
        found.url.as_str(),
        format!("http://127.0.0.1:{}/", cluster.registry.port())
    );
    assert_eq!(
        found.credentials,
        Credentials::Basic {
            username: "unused".into(),
            password: TOKEN.into()
        }
    );
    assert_eq!(found.pull_host.as_deref(), Some(cluster.public_host().as_str()));
    let mut config = RegistryConfig::new(found.url);
    config.credentials = found.credentials;
    let registry = RegistryClient::new(config).unwrap();
    let tags = registry
        .tags(&RepositoryName::parse("team-a/webapp").unwrap())
        .await
        .expect("the registry (htpasswd unused:<token>) lets Regent in");
    assert_eq!(tags.len(), 4);
}

#[tokio::test]
async fn outside_the_cluster_the_registry_is_reached_through_the_api_servers_proxy() {
    let cluster = SampleCluster::start(SampleOptions {
        service: RegistryService::ProxyOnly,
        ..Default::default()
    })
    .await
    .unwrap();
    let openshift = connected(&cluster, true).await;
    let found = openshift.find_registry(None).await.unwrap();
    assert_eq!(
        found.url.as_str(),
        format!(
            "{}/api/v1/namespaces/openshift-image-registry/services/https:image-registry:{}/proxy/",
            cluster.api.url(),
            service_port(&cluster)
        )
    );
    assert_eq!(found.credentials, Credentials::Bearer { token: TOKEN.into() });
    let mut config = RegistryConfig::new(found.url);
    config.credentials = found.credentials;
    let registry = RegistryClient::new(config).unwrap();
    registry
        .check()
        .await
        .expect("/v2/ through the proxy, with the token the API server wants");
}

fn service_port(cluster: &SampleCluster) -> i64 {
    cluster
        .api
        .get("v1", "Service", Some("openshift-image-registry"), "image-registry")
        .unwrap()["spec"]["ports"][0]["port"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_cluster_without_a_registry_is_told_how_to_deploy_one() {
    let cluster = SampleCluster::start(SampleOptions {
        service: RegistryService::Missing,
        ..Default::default()
    })
    .await
    .unwrap();
    let openshift = connected(&cluster, true).await;
    let e = openshift.find_registry(None).await.unwrap_err();
    assert!(matches!(e, OpenShiftError::RegistryNotRunning { .. }), "{e}");
    let said = e.to_string();
    assert!(
        said.contains("not running") && said.contains("managementState") && said.contains("registry.url"),
        "{said}"
    );
}

#[tokio::test]
async fn an_identity_without_a_token_gets_one_from_the_registry_admin_service_account() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    cluster
        .api
        .set_service_account_token("openshift-infra", "registry-admin", TOKEN);
    let openshift = connected(&cluster, false).await;
    cluster.api.clear_requests();
    let found = openshift.find_registry(None).await.unwrap();
    assert!(
        found.identity.contains("openshift-infra/registry-admin"),
        "{}",
        found.identity
    );
    assert!(found.renew_every.is_some(), "service account tokens expire");
    let posts = paths(&cluster.api.requests(), "POST");
    assert_eq!(
        posts,
        [
            "/api/v1/namespaces/openshift-infra/serviceaccounts",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            "/api/v1/namespaces/openshift-infra/serviceaccounts/registry-admin/token",
        ]
    );
    let binding = cluster
        .api
        .get(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            None,
            "regent-registry-admin",
        )
        .unwrap();
    assert_eq!(binding["roleRef"]["name"], "system:image-pruner");

    // A second start finds both and only asks for a token.
    cluster.api.clear_requests();
    openshift.find_registry(None).await.unwrap();
    assert_eq!(
        paths(&cluster.api.requests(), "POST"),
        ["/api/v1/namespaces/openshift-infra/serviceaccounts/registry-admin/token"]
    );
}

#[tokio::test]
async fn an_identity_that_may_not_create_the_service_account_is_told_the_commands() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    cluster
        .api
        .forbid("POST", "/api/v1/namespaces/openshift-infra/serviceaccounts");
    let openshift = connected(&cluster, false).await;
    let e = openshift.find_registry(None).await.unwrap_err().to_string();
    assert!(
        e.contains("oc create serviceaccount registry-admin -n openshift-infra")
            && e.contains("system:image-pruner")
            && e.contains("registry.token"),
        "{e}"
    );
}

#[tokio::test]
async fn project_members_change_as_oc_adm_policy_changes_them() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let alice = Subject::user("alice");
    let qa = Subject::group("qa");
    let members = openshift.members("team-a");
    assert_eq!(
        members
            .iter()
            .map(|m| (m.subject.name.as_str(), m.registry))
            .collect::<Vec<_>>(),
        [("sarah", None), ("qa", Some(RegistryRole::Pull))],
        "users first; sarah has admin, not a registry role"
    );

    cluster.api.clear_requests();
    let added = openshift
        .set_member("team-a", &alice, RegistryRole::Pull)
        .await
        .unwrap();
    assert!(added.message().contains("registry-viewer"), "{added:?}");
    assert_eq!(
        paths(&cluster.api.requests(), "PUT"),
        ["/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/registry-viewer"],
        "alice joins the existing registry-viewer binding"
    );
    let again = openshift
        .set_member("team-a", &alice, RegistryRole::Pull)
        .await
        .unwrap();
    assert!(
        matches!(again, regent_domain::openshift::MemberChange::Unchanged(_)),
        "{again:?}"
    );

    // A binding named registry-editor for another role is in the way: the new one is registry-editor-0.
    cluster.api.put(serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "registry-editor", "namespace": "team-a"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"}]
    }));
    cluster.api.clear_requests();
    let moved = openshift
        .set_member("team-a", &alice, RegistryRole::Push)
        .await
        .unwrap();
    assert!(
        moved.message().contains("from registry-viewer to registry-editor"),
        "{moved:?}"
    );
    let requests = cluster.api.requests();
    let changes: Vec<(String, String)> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            (
                r.method.clone(),
                r.path.rsplit('/').next().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("POST".to_owned(), "rolebindings".to_owned()),
            ("PUT".to_owned(), "registry-viewer".to_owned())
        ],
        "added to the new role before taken out of the old: never without access"
    );
    let created = requests
        .iter()
        .find(|r| r.method == "POST")
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert_eq!(created["metadata"]["name"], "registry-editor-0");
    assert_eq!(created["roleRef"]["name"], "registry-editor");

    // qa was alone in registry-viewer once alice moved: removing qa deletes the binding.
    cluster.api.clear_requests();
    openshift.remove_member("team-a", &qa).await.unwrap();
    assert_eq!(
        paths(&cluster.api.requests(), "DELETE"),
        ["/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/registry-viewer"]
    );
    eventually("the watch shows the new members", || {
        openshift
            .members("team-a")
            .iter()
            .map(|m| (m.subject.name.clone(), m.registry))
            .collect::<Vec<_>>()
            == [
                ("alice".to_owned(), Some(RegistryRole::Push)),
                ("bob".to_owned(), None),
                ("sarah".to_owned(), None),
            ]
    })
    .await;

    let (users, groups) = openshift.who_can_pull("team-a").await.unwrap();
    assert!(
        users.contains(&"alice".to_owned()) && users.contains(&"sarah".to_owned()),
        "{users:?}"
    );
    assert!(!groups.contains(&"qa".to_owned()), "{groups:?}");
}

#[tokio::test]
async fn an_administrator_cannot_change_members_of_the_clusters_own_projects() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    cluster.api.clear_requests();
    for project in ["openshift", "openshift-image-registry", "kube-system", "default"] {
        let mallory = Subject::user("mallory");
        let set = openshift
            .set_member(project, &mallory, RegistryRole::Admin)
            .await
            .unwrap_err();
        assert!(
            matches!(set, OpenShiftError::Reserved { .. }) && set.to_string().contains("reserved for the cluster"),
            "{project}: {set}"
        );
        let removed = openshift
            .remove_member(project, &Subject::group("system:authenticated"))
            .await
            .unwrap_err();
        assert!(
            matches!(removed, OpenShiftError::Reserved { .. }),
            "{project}: {removed}"
        );
    }
    let writes: Vec<_> = cluster
        .api
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(writes.is_empty(), "nothing was sent to the cluster: {writes:?}");
    assert!(
        openshift
            .set_member("team-a", &Subject::user("alice"), RegistryRole::Pull)
            .await
            .is_ok(),
        "other projects change as before"
    );
}

#[tokio::test]
async fn projects_and_groups_are_made_with_project_requests_and_group_updates() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let made = openshift
        .create_project("team-c", "Team C", "the new team", Some(&Subject::group("devs")))
        .await
        .unwrap();
    assert!(
        made.contains("Created the project team-c") && made.contains("registry-admin"),
        "{made}"
    );
    let posts = paths(&cluster.api.requests(), "POST");
    assert!(
        posts.contains(&"/apis/project.openshift.io/v1/projectrequests".to_owned()),
        "{posts:?}"
    );
    let project = cluster
        .api
        .get("project.openshift.io/v1", "Project", None, "team-c")
        .unwrap();
    assert_eq!(
        project["metadata"]["annotations"]["openshift.io/display-name"],
        "Team C"
    );
    let taken = openshift.create_project("team-a", "", "", None).await.unwrap_err();
    assert!(taken.to_string().contains("exists already"), "{taken}");

    openshift.change_group_user("qa", "hank", true).await.unwrap();
    openshift.change_group_user("qa", "greg", false).await.unwrap();
    let qa = cluster.api.get("user.openshift.io/v1", "Group", None, "qa").unwrap();
    assert_eq!(qa["users"], serde_json::json!(["hank"]));
    openshift.create_group("release").await.unwrap();
    assert!(
        openshift
            .create_group("release")
            .await
            .unwrap_err()
            .to_string()
            .contains("exists")
    );
    let deleted = openshift.delete_group("qa").await.unwrap();
    assert!(
        deleted.contains("team-a/registry-viewer"),
        "bindings that still name it: {deleted}"
    );
}

struct Deleting {
    deleter: Deleter,
    index: Arc<CatalogIndex>,
    registry: Arc<RegistryClient>,
    _dir: tempfile::TempDir,
}

async fn deleting(cluster: &SampleCluster, openshift: &Arc<OpenShift>) -> Deleting {
    let d = deleting_before_the_first_crawl(cluster, openshift).await;
    d.index.crawl().await.unwrap();
    d
}

/// A Deleter whose index has not crawled yet: as right after Regent starts.
async fn deleting_before_the_first_crawl(cluster: &SampleCluster, openshift: &Arc<OpenShift>) -> Deleting {
    let found = openshift.find_registry(None).await.unwrap();
    let mut config = RegistryConfig::new(found.url);
    config.credentials = found.credentials;
    let registry = Arc::new(RegistryClient::new(config).unwrap());
    let index = CatalogIndex::new(registry.clone(), IndexSettings::default());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    let _ = cluster;
    Deleting {
        deleter: Deleter::new(registry.clone(), index.clone(), store).with_openshift(Some(openshift.clone())),
        index,
        registry,
        _dir: dir,
    }
}

#[tokio::test]
async fn deleting_an_image_updates_its_streams_before_the_registry_and_the_image_last() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let d = deleting(&cluster, &openshift).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    cluster.api.clear_requests();

    let done = d
        .deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap();
    assert!(
        done.summary.contains("team-a/webapp (1.0, latest, old)"),
        "{}",
        done.summary
    );
    let changes: Vec<(String, String)> = cluster
        .api
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "PUT".to_owned(),
                "/apis/image.openshift.io/v1/namespaces/team-a/imagestreams/webapp/status".to_owned()
            ),
            ("DELETE".to_owned(), format!("/apis/image.openshift.io/v1/images/{old}")),
        ],
        "the stream first, the Image object last"
    );
    let stream = cluster
        .api
        .get("image.openshift.io/v1", "ImageStream", Some("team-a"), "webapp")
        .unwrap();
    let tags: Vec<&str> = stream["status"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["1.0", "2.0", "latest"], "old had nothing else and went");
    assert_eq!(stream["status"]["tags"][0]["items"].as_array().unwrap().len(), 1);
    let gone = d
        .registry
        .manifest(
            &RepositoryName::parse("team-a/webapp").unwrap(),
            &regent_domain::reference::Reference::Digest(old.clone()),
        )
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "the registry no longer has it: {gone}");
    let left: Vec<String> = d
        .index
        .read()
        .repository_tags(&RepositoryName::parse("team-a/webapp").unwrap())
        .unwrap()
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect();
    assert_eq!(left, ["1.0", "latest", "scratch"]);
}

#[tokio::test]
async fn a_registry_delete_says_which_streams_still_point_at_the_digest() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let d = deleting(&cluster, &openshift).await;
    let current = Digest::parse(cluster.current.digest()).unwrap();
    let done = d
        .deleter
        .manifest(
            &Actor::new("scruffy", "127.0.0.1"),
            &RepositoryName::parse("team-a/webapp").unwrap(),
            &current,
        )
        .await
        .unwrap();
    assert!(
        done.summary
            .contains("Image stream tags team-a/webapp:1.0, team-a/webapp:latest still point at it"),
        "{}",
        done.summary
    );

    let tag = StreamTagName {
        namespace: "team-a".into(),
        stream: "webapp".into(),
        tag: "old".into(),
    };
    cluster.api.clear_requests();
    let deleted = d
        .deleter
        .stream_tag(&Actor::new("scruffy", "127.0.0.1"), &tag)
        .await
        .unwrap();
    assert!(
        deleted
            .summary
            .contains("Deleted the image stream tag team-a/webapp:old"),
        "{}",
        deleted.summary
    );
    assert_eq!(
        paths(&cluster.api.requests(), "DELETE"),
        ["/apis/image.openshift.io/v1/namespaces/team-a/imagestreamtags/webapp:old"]
    );
    eventually("the stream loses the tag", || {
        openshift.join().tag("team-a", "webapp", "old").is_none()
    })
    .await;
}

#[tokio::test]
async fn a_cluster_without_the_image_api_means_registry_only() {
    let api = regent_testkit::OpenShiftApi::start_kubernetes_only().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let openshift = OpenShift::configure(settings(api.write_kubeconfig(dir.path(), Some(TOKEN))))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(openshift.detect().await, Detection::Kubernetes);
    assert!(!openshift.active());

    let off = OpenShift::configure(OpenShiftSettings {
        mode: Mode::Off,
        ..settings(api.write_kubeconfig(dir.path(), Some(TOKEN)))
    })
    .await
    .unwrap();
    assert!(off.is_none(), "mode off ignores the kubeconfig");

    let other = OpenShift::configure(OpenShiftSettings {
        context: Some("other".into()),
        ..settings(api.write_kubeconfig(dir.path(), Some(TOKEN)))
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        matches!(other.detect().await, Detection::Unreachable(_)),
        "the chosen context points where nothing listens"
    );
    let missing = OpenShift::configure(settings(dir.path().join("nope")))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("cannot be read"), "{missing}");
}

#[tokio::test]
async fn an_image_api_that_appears_later_is_detected_and_watched() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    cluster.api.serve_openshift(false);
    let openshift = OpenShift::configure(settings(cluster.kubeconfig(true)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(openshift.detect().await, Detection::Kubernetes);
    openshift.spawn();
    assert!(!openshift.active(), "registry-only while the image API is not there");
    cluster.api.serve_openshift(true);
    assert!(
        openshift.wait_synced(Duration::from_secs(20)).await,
        "detected on a later look"
    );
    assert!(openshift.active());
    assert_eq!(openshift.join().pointing_at(cluster.current.digest()).len(), 2);
}

/// The requests that changed something on the cluster.
fn changes(cluster: &SampleCluster) -> Vec<String> {
    cluster
        .api
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The registry still has `team-a/webapp@digest`.
async fn still_there(d: &Deleting, digest: &Digest) {
    d.registry
        .manifest(
            &RepositoryName::parse("team-a/webapp").unwrap(),
            &regent_domain::reference::Reference::Digest(digest.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{digest} is still in the registry: {e}"));
}

#[tokio::test]
async fn deleting_an_image_everywhere_is_refused_until_the_cluster_is_loaded() {
    use regent_domain::deletes::{DeleteError, Loading};
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    // Found, but its watches have not listed anything yet: as in the first seconds after start.
    let openshift = OpenShift::configure(settings(cluster.kubeconfig(true)))
        .await
        .unwrap()
        .expect("a kubeconfig is configured");
    assert_eq!(openshift.detect().await, Detection::OpenShift);
    assert!(!openshift.synced());
    let d = deleting(&cluster, &openshift).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    cluster.api.clear_requests();

    let refused = d
        .deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap_err();
    assert_eq!(refused, DeleteError::Loading(Loading::Cluster));
    assert_eq!(
        refused.to_string(),
        "Regent is still loading the cluster; try again in a minute."
    );
    assert_eq!(
        d.deleter.prune_plan(&old).unwrap_err(),
        refused,
        "the preview says so too"
    );
    assert_eq!(
        changes(&cluster),
        Vec::<String>::new(),
        "nothing changed on the cluster"
    );
    still_there(&d, &old).await;
}

#[tokio::test]
async fn deleting_an_image_everywhere_is_refused_until_the_registry_index_is_loaded() {
    use regent_domain::deletes::{DeleteError, Loading};
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let d = deleting_before_the_first_crawl(&cluster, &openshift).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    cluster.api.clear_requests();

    let refused = d
        .deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap_err();
    assert_eq!(refused, DeleteError::Loading(Loading::Index));
    assert_eq!(
        refused.to_string(),
        "Regent is still loading the registry index; try again in a minute."
    );
    assert_eq!(
        changes(&cluster),
        Vec::<String>::new(),
        "nothing changed on the cluster"
    );
    still_there(&d, &old).await;

    // Once the first crawl finished, the same delete goes through.
    d.index.crawl().await.unwrap();
    d.deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap();
}

/// `team-b/<stream>` holding `digest` in its tag `latest`.
fn team_b_stream(name: &str, digest: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": name, "namespace": "team-b", "generation": 1},
        "spec": {"lookupPolicy": {"local": false}},
        "status": {
            "dockerImageRepository": format!("image-registry.openshift-image-registry.svc:5000/team-b/{name}"),
            "tags": [{"tag": "latest", "items": [{"created": "2026-03-12T10:00:00Z", "image": digest, "generation": 1,
                "dockerImageReference": format!("image-registry.openshift-image-registry.svc:5000/team-b/{name}@{digest}")}]}]
        }
    })
}

#[tokio::test]
async fn a_team_may_not_delete_an_image_everywhere_that_another_team_holds() {
    use regent_domain::deletes::DeleteError;
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    cluster.api.put(team_b_stream("webapp", old.as_ref()));
    eventually("team-b/webapp holds the image", || {
        openshift.join().holding(old.as_ref()).len() == 4
    })
    .await;
    let d = deleting(&cluster, &openshift).await;
    cluster.api.clear_requests();

    // Sarah may delete in team A; team B's repository is named only to whoever may see it.
    let sarah = |team_b: Option<Level>| {
        let grant = |scope: &str, level| Grant {
            subject: regent_domain::access::Subject::User(Name::parse("sarah").unwrap()),
            scope: Scope::parse(scope).unwrap(),
            level,
        };
        let mut grants = vec![grant("team-a/*", Level::Delete)];
        grants.extend(team_b.map(|level| grant("team-b/*", level)));
        Policy::new(grants, Rules::default()).for_viewer(&Viewer {
            user: Some(Name::parse("sarah").unwrap()),
            admin: false,
            groups: vec![],
        })
    };
    let actor = Actor::new("sarah", "127.0.0.1");
    let refused = d
        .deleter
        .prune_image(&actor, &old, &sarah(Some(Level::Read)))
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "You may not delete in team-b/webapp, which holds this image too"
    );
    let refused = d.deleter.prune_image(&actor, &old, &sarah(None)).await.unwrap_err();
    assert_eq!(
        refused,
        DeleteError::Denied {
            named: vec![],
            unseen: 1
        }
    );
    assert!(!refused.to_string().contains("team-b"), "{refused}");
    assert_eq!(changes(&cluster), Vec::<String>::new());
    still_there(&d, &old).await;
}

#[tokio::test]
async fn an_image_held_by_a_stream_whose_name_is_no_repository_name_is_not_deleted_everywhere() {
    use regent_domain::deletes::DeleteError;
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    // Not a registry repository name (upper case): no permission check could cover it.
    cluster.api.put(team_b_stream("WebApp", old.as_ref()));
    eventually("team-b/WebApp holds the image", || {
        openshift.join().holding(old.as_ref()).len() == 4
    })
    .await;
    let d = deleting(&cluster, &openshift).await;
    cluster.api.clear_requests();

    let refused = d
        .deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap_err();
    let DeleteError::Refused(message) = &refused else {
        panic!("expected a refusal, got {refused:?}")
    };
    assert!(
        message.contains("team-b/WebApp:latest holds this image")
            && message.contains("team-b/WebApp is not a registry repository name")
            && message.contains("Nothing was deleted"),
        "{message}"
    );
    assert_eq!(changes(&cluster), Vec::<String>::new());
    still_there(&d, &old).await;
}

#[tokio::test]
async fn deleting_an_image_everywhere_keeps_its_config_for_another_image_that_shares_it() {
    use regent_testkit::{Blob, Layer};
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    // `shared`: another image in team-a/webapp with old's config and a layer of its own, held
    // only by the stream's history (the registry has no tag on it).
    let old_image = cluster.old.images()[0].clone();
    let layer = Layer::from_files(&[("extra", b"a layer of its own".as_slice())]).unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": old_image.config.descriptor(),
        "layers": [layer.blob.descriptor()],
    });
    let shared = Blob::new(
        "application/vnd.oci.image.manifest.v1+json",
        serde_json::to_vec(&manifest).unwrap(),
    );
    let pusher = regent_testkit::push::Pusher::new(&cluster.registry.url()).with_basic("unused", TOKEN);
    pusher.push_blob("team-a/webapp", &layer.blob).await.unwrap();
    pusher
        .put_manifest("team-a/webapp", &shared.digest, &shared)
        .await
        .unwrap();
    cluster.api.put(serde_json::json!({
        "apiVersion": "image.openshift.io/v1", "kind": "Image",
        "metadata": {"name": shared.digest, "annotations": {"openshift.io/image.managed": "true"}},
        "dockerImageMetadata": {"Id": old_image.config.digest, "Architecture": "amd64"},
        "dockerImageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
        "dockerImageLayers": [{"name": layer.blob.digest, "size": layer.blob.bytes.len(), "mediaType": layer.blob.media_type}],
    }));
    let mut stream = cluster.webapp_stream();
    stream["status"]["tags"].as_array_mut().unwrap().push(serde_json::json!({
        "tag": "shared", "items": [{"created": "2026-03-06T10:00:00Z", "image": shared.digest, "generation": 1,
            "dockerImageReference": format!("image-registry.openshift-image-registry.svc:5000/team-a/webapp@{}", shared.digest)}]
    }));
    cluster.api.put(stream);
    let openshift = connected(&cluster, true).await;
    let d = deleting(&cluster, &openshift).await;
    let old = Digest::parse(cluster.old.digest()).unwrap();
    let webapp = RepositoryName::parse("team-a/webapp").unwrap();
    let (old_layer, config) = (
        Digest::parse(&old_image.layers[0].blob.digest).unwrap(),
        Digest::parse(&old_image.config.digest).unwrap(),
    );

    let plan = d.deleter.prune_plan(&old).unwrap();
    assert_eq!(
        plan.links,
        [(webapp.clone(), old_layer)],
        "only old's own layer loses its link"
    );
    assert_eq!(plan.shared, std::slice::from_ref(&config), "the shared config stays");
    assert!(
        plan.blobs.iter().all(|(b, _)| *b != config),
        "and is not deleted from storage: {plan:?}"
    );
    let done = d
        .deleter
        .prune_image(&Actor::new("scruffy", "127.0.0.1"), &old, &Access::everything())
        .await
        .unwrap();
    assert!(
        done.summary
            .contains("1 layer/config blob(s) stay: other images still use them."),
        "{}",
        done.summary
    );
    // The image that shares the config still pulls (skopeo reads the config, too).
    let (ok, out) = regent_testkit::skopeo::skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--creds",
        &format!("unused:{TOKEN}"),
        &format!("docker://{}/team-a/webapp@{}", cluster.registry.host(), shared.digest),
    ]);
    assert!(ok, "the image sharing the config still pulls: {out}");
    let (ok, out) = regent_testkit::skopeo::skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        "--creds",
        &format!("unused:{TOKEN}"),
        &format!("docker://{}/team-a/webapp@{old}", cluster.registry.host()),
    ]);
    assert!(
        !ok && out.contains("manifest unknown"),
        "the pruned image is gone: {out}"
    );
}

#[tokio::test]
async fn a_stream_tagged_from_another_projects_repository_is_in_the_registry_where_its_history_points() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let Deleting { index, .. } = deleting(&cluster, &openshift).await;
    let join = openshift.join();
    let on_skyfield: Vec<String> = join
        .pointing_at(cluster.skyfield.digest())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        on_skyfield,
        [
            "skyfield-dev/skyfield:1.1",
            "skyfield-dev/skyfield:prod",
            "skyfield-dev/skyfield:stable"
        ],
        "the digest joins the registry's skyfield:1.1 to the stream in skyfield-dev"
    );

    let drift = drift::missing_from_registry(&index, &join, join.all()).await;
    let missing: Vec<(String, &str, &str)> = drift
        .missing
        .iter()
        .map(|m| {
            (
                m.tag.to_string(),
                m.looked_in.repository.as_str(),
                m.looked_in.digest.as_str(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        [(
            "skyfield-dev/skyfield:1.0".to_owned(),
            "skyfield",
            cluster.skyfield_gone.digest()
        )],
        "only the digest the registry lacks, looked for in the repository its reference names; \
         not 1.1/stable/prod (in `skyfield`), not webapp:2.0 (its image stays on quay.io)"
    );
    assert!(drift.unchecked.is_empty(), "{:?}", drift.unchecked);

    // Pushed by digest only: no tag, so not in the index, but the registry has it.
    let pusher = regent_testkit::push::Pusher::new(&cluster.registry.url()).with_basic("unused", TOKEN);
    pusher
        .push("skyfield", cluster.skyfield_gone.digest(), &cluster.skyfield_gone)
        .await
        .unwrap();
    let drift = drift::missing_from_registry(&index, &join, join.all()).await;
    assert!(
        drift.missing.is_empty(),
        "a HEAD finds the untagged manifest: {drift:?}"
    );
}

#[tokio::test]
async fn tags_that_track_tags_carry_the_whole_chain() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let join = openshift.join();
    let prod = join.tag("skyfield-dev", "skyfield", "prod").unwrap();
    assert_eq!(
        prod.tracks.as_deref(),
        Some("stable"),
        "written without the stream name"
    );
    assert_eq!(prod.chain_written(), ["stable", "1.1"]);
    let stable = join.tag("skyfield-dev", "skyfield", "stable").unwrap();
    assert_eq!(
        stable.chain_written(),
        ["1.1"],
        "`skyfield:1.1` is the stream's own 1.1"
    );
    assert_eq!(join.tag("team-a", "webapp", "latest").unwrap().chain_written(), ["1.0"]);
}

#[tokio::test]
async fn a_scheduled_import_that_never_succeeded_is_listed_with_source_schedule_and_message() {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let openshift = connected(&cluster, true).await;
    let join = openshift.join();
    let failed: Vec<String> = join.failed_imports().map(|t| t.name.to_string()).collect();
    assert_eq!(failed, ["team-a/api:latest", "team-a/webapp:2.0"]);
    let api = join.tag("team-a", "api", "latest").unwrap();
    assert!(api.history.is_empty() && api.current.is_none(), "never imported");
    assert_eq!(
        api.schedule().unwrap().to_string(),
        "imports quay.io/acme/api:latest every 15 min"
    );
    let import = api.import.clone().unwrap();
    assert_eq!(import.reason.as_deref(), Some("InternalError"));
    assert_eq!(import.time.as_deref(), Some("2026-03-11T03:15:00Z"));
    assert!(import.message.unwrap().contains("unauthorized"));
}

#[tokio::test]
async fn an_identity_that_may_read_only_images_is_told_what_it_cannot_see_and_not_asked_again_soon() {
    let cluster = SampleCluster::start(SampleOptions {
        identity: Identity::ImagesOnly,
        ..Default::default()
    })
    .await
    .unwrap();
    let openshift = connected(&cluster, true).await;
    let status = openshift.status();
    let refused = |kind: &str| {
        status
            .caches
            .iter()
            .find(|c| c.kind == kind)
            .and_then(|c| c.refused.clone())
            .unwrap_or_default()
    };
    assert!(refused("Pod").contains("may not list pods"), "{status:?}");
    assert!(refused("Pod").contains("`list` and `watch` on pods"), "{status:?}");
    assert!(refused("Project").contains("may not list projects"), "{status:?}");
    assert!(refused("Group").contains("does not serve groups"), "{status:?}");
    assert!(refused("RoleBinding").contains("rolebindings"), "{status:?}");
    assert!(refused("ImageStream").is_empty() && refused("Image").is_empty());
    assert_eq!(status.identity, None);
    let problem = status.identity_problem.unwrap_or_default();
    assert!(problem.contains("get users/~"), "{problem}");
    assert_eq!(
        openshift.join().failed_imports().count(),
        2,
        "the image API still works"
    );

    cluster.api.clear_requests();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked: Vec<String> = paths(&cluster.api.requests(), "GET")
        .into_iter()
        .filter(|p| p.starts_with("/api/v1/pods") || p.starts_with("/apis/user.openshift.io/v1/groups"))
        .collect();
    assert!(
        asked.is_empty(),
        "refused kinds wait before they are asked again: {asked:?}"
    );
}
