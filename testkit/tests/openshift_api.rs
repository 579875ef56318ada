//! The fake OpenShift API server, driven over real HTTP with plain reqwest: what the product's
//! kube client will rely on (paging, watches, 410, conflicts, RBAC rules, the computed
//! ImageStreamTags, project requests, access reviews and the service proxy) must hold here
//! before any product test builds on it.

use regent_testkit::OpenShiftApi;
use serde_json::{Value, json};
use std::time::Duration;

const IMAGES: &str = "/apis/image.openshift.io/v1/images";
const STREAMS: &str = "/apis/image.openshift.io/v1/namespaces/team-a/imagestreams";
const ISTAGS: &str = "/apis/image.openshift.io/v1/namespaces/team-a/imagestreamtags";
const ROLEBINDINGS: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings";

const D_0BE3: &str = "sha256:0be392ba20eb44ad6f1f8908c064d6a7b4e2ffa075d00e76ff570d3d187c1577";
const D_1F23: &str = "sha256:1f23b92ca8508c6a992f1653efbddc7966b02edb711283af55c95ce7c6245b55";
const D_8C51: &str = "sha256:8c516e97bc890ba10aaf9b55ea01c8e2d06b525ac62f4c4c219fbde21a998bc8";
const D_A411: &str = "sha256:a41188572d4c9cb0ed1c4fae4e5218ea95d91618ca4c25e545609b880e328f4a";
const D_C981: &str = "sha256:c981f62d55f18b0d3cba09a539d0a21b68fa8cab6967d9b79185dd2fc7d8f0fc";
const INTERNAL: &str = "image-registry.openshift-image-registry.svc:5000/team-a/webapp";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// An Image as the reference's ImageList items look (§7), with the manifest fields the
/// ImageStreamTag must drop.
fn image(digest: &str, reference: &str) -> Value {
    json!({
        "apiVersion": "image.openshift.io/v1", "kind": "Image",
        "metadata": {"name": digest, "annotations": {"image.openshift.io/dockerLayersOrder": "ascending"}},
        "dockerImageReference": reference,
        "dockerImageMetadata": {"kind": "DockerImage", "apiVersion": "image.openshift.io/1.0", "Architecture": "amd64", "Size": 84273514},
        "dockerImageMetadataVersion": "1.0",
        "dockerImageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "dockerImageManifest": "{\"schemaVersion\":2}",
        "dockerImageConfig": "{}",
        "dockerImageLayers": [{"name": "sha256:377fe3b09d5a477009d5cac0d2d7d3a0b03eabc336aae3ad35d3ff94ab0a0ca4", "size": 79211346, "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}],
    })
}

fn index_image() -> Value {
    json!({
        "apiVersion": "image.openshift.io/v1", "kind": "Image",
        "metadata": {"name": D_8C51},
        "dockerImageReference": format!("quay.io/example/webapp@{D_8C51}"),
        "dockerImageManifestMediaType": "application/vnd.oci.image.index.v1+json",
        "dockerImageMetadataVersion": "1.0",
        "dockerImageManifests": [
            {"digest": D_C981, "mediaType": "application/vnd.oci.image.manifest.v1+json", "manifestSize": 1052, "architecture": "amd64", "os": "linux"},
            {"digest": D_1F23, "mediaType": "application/vnd.oci.image.manifest.v1+json", "manifestSize": 1052, "architecture": "arm64", "os": "linux", "variant": "v8"},
        ],
    })
}

fn all_images(api: &OpenShiftApi) {
    // Put out of order: lists must come back sorted by name.
    api.put(image(D_C981, &format!("quay.io/example/webapp@{D_C981}")));
    api.put(image(D_0BE3, &format!("{INTERNAL}@{D_0BE3}")));
    api.put(index_image());
    api.put(image(D_A411, &format!("{INTERNAL}@{D_A411}")));
    api.put(image(D_1F23, &format!("quay.io/example/webapp@{D_1F23}")));
}

fn item(digest: &str, reference: &str, created: &str) -> Value {
    json!({"created": created, "dockerImageReference": reference, "image": digest, "generation": 1})
}

/// The reference's `team-a/webapp` stream (§7).
fn webapp() -> Value {
    let pushed = || {
        json!([
            item(D_0BE3, &format!("{INTERNAL}@{D_0BE3}"), "2026-03-10T16:20:02Z"),
            item(D_A411, &format!("{INTERNAL}@{D_A411}"), "2026-03-05T14:10:31Z"),
        ])
    };
    json!({
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": "webapp", "namespace": "team-a", "generation": 1, "creationTimestamp": "2026-03-02T09:00:00Z"},
        "spec": {
            "lookupPolicy": {"local": false},
            "tags": [
                {"name": "2.0", "annotations": null, "from": {"kind": "DockerImage", "name": "quay.io/example/webapp:2.0"}, "generation": 1, "importPolicy": {"scheduled": true, "importMode": "PreserveOriginal"}, "referencePolicy": {"type": "Local"}},
                {"name": "latest", "annotations": null, "from": {"kind": "ImageStreamTag", "name": "1.0"}, "generation": 1, "importPolicy": {"importMode": "Legacy"}, "referencePolicy": {"type": "Source"}},
            ],
        },
        "status": {
            "dockerImageRepository": INTERNAL,
            "publicDockerImageRepository": "default-route-openshift-image-registry.apps.example.com/team-a/webapp",
            "tags": [
                {"tag": "1.0", "items": pushed()},
                {
                    "tag": "2.0",
                    "items": [item(D_8C51, &format!("quay.io/example/webapp@{D_8C51}"), "2026-03-02T09:00:05Z")],
                    "conditions": [{"type": "ImportSuccess", "status": "False", "lastTransitionTime": "2026-03-11T03:15:00Z", "reason": "InternalError", "message": "Internal error occurred: quay.io/example/webapp:2.0: Get \"https://quay.io/v2/\": dial tcp: i/o timeout", "generation": 1}],
                },
                {"tag": "latest", "items": pushed()},
            ],
        },
    })
}

fn binding(ns: &str, name: &str, role: &str, subjects: &[(&str, &str)]) -> Value {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|(kind, name)| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.expect("request");
    let code = response.status().as_u16();
    (code, response.json().await.expect("JSON body"))
}

async fn send_json(method: reqwest::Method, url: &str, content_type: &str, body: &Value) -> (u16, Value) {
    let response = http()
        .request(method, url)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let code = response.status().as_u16();
    (code, response.json().await.expect("JSON body"))
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_owned())
        .collect()
}

/// A watch response read one JSON event per line.
struct Events {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Events {
    async fn open(url: &str) -> Self {
        // No client timeout: the watch is long-lived; each read below is bounded instead.
        let response = reqwest::Client::new().get(url).send().await.expect("watch request");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event within 5 s, or None if the stream ended or nothing came.
    async fn next(&mut self) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        for _ in 0..1000 {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).expect("event JSON"));
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.extend_from_slice(&chunk),
                _ => return None,
            }
        }
        None
    }
}

#[tokio::test]
async fn lists_page_with_continue_and_remaining_count() {
    let api = OpenShiftApi::start().await.unwrap();
    all_images(&api);
    let (code, page) = get_json(&format!("{}{IMAGES}?limit=2", api.url())).await;
    assert_eq!(code, 200);
    assert_eq!(page["kind"], "ImageList");
    assert_eq!(page["apiVersion"], "image.openshift.io/v1");
    assert_eq!(names(&page), [D_0BE3, D_1F23]);
    assert_eq!(page["metadata"]["remainingItemCount"], 3);
    assert!(
        page["items"][0].get("kind").is_none() && page["items"][0].get("apiVersion").is_none(),
        "list items carry no kind or apiVersion, as from the real API (the list's own say it)"
    );
    let mut seen = names(&page);
    let mut token = page["metadata"]["continue"].as_str().expect("continue").to_owned();
    for _ in 0..5 {
        let url = format!("{}{IMAGES}?limit=2&continue={token}", api.url());
        let (_, page) = get_json(&url).await;
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(next) => {
                assert_eq!(page["metadata"]["remainingItemCount"], 1);
                token = next.to_owned();
            }
            None => {
                assert!(page["metadata"].get("remainingItemCount").is_none());
                break;
            }
        }
    }
    assert_eq!(
        seen,
        [D_0BE3, D_1F23, D_8C51, D_A411, D_C981],
        "every image exactly once, in name order"
    );

    // Selectors: a name field selector, and labels on another kind.
    let url = format!("{}{IMAGES}?fieldSelector=metadata.name%3D{D_A411}", api.url());
    assert_eq!(names(&get_json(&url).await.1), [D_A411]);
    let url = format!("{}{IMAGES}?fieldSelector=dockerImageReference%3Dx", api.url());
    assert_eq!(get_json(&url).await.0, 400);

    // Projects ignore paging, as the real (computed) project list does.
    for name in ["p1", "p2", "p3"] {
        api.put(json!({"apiVersion": "project.openshift.io/v1", "kind": "Project", "metadata": {"name": name, "labels": {"team": if name == "p2" { "b" } else { "a" }}}}));
    }
    let (_, projects) = get_json(&format!("{}/apis/project.openshift.io/v1/projects?limit=1", api.url())).await;
    assert_eq!(names(&projects), ["p1", "p2", "p3"]);
    assert!(projects["metadata"].get("continue").is_none());
    let url = format!(
        "{}/apis/project.openshift.io/v1/projects?labelSelector=team%3Da",
        api.url()
    );
    assert_eq!(names(&get_json(&url).await.1), ["p1", "p3"]);
}

#[tokio::test]
async fn watches_replay_stream_live_events_and_expire() {
    let api = OpenShiftApi::start().await.unwrap();
    api.put(webapp());
    let (_, list) = get_json(&format!("{}{STREAMS}", api.url())).await;
    let list_rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();

    // Without a resourceVersion: the current objects as ADDED first.
    let mut initial = Events::open(&format!("{}{STREAMS}?watch=true&timeoutSeconds=30", api.url())).await;
    let event = initial.next().await.expect("ADDED for the existing stream");
    assert_eq!(
        (event["type"].as_str(), event["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("webapp"))
    );

    // From the list's resourceVersion: only what happens next.
    let url = format!(
        "{}{STREAMS}?watch=1&resourceVersion={list_rv}&allowWatchBookmarks=true",
        api.url()
    );
    let mut events = Events::open(&url).await;
    let mut other = webapp();
    other["metadata"]["name"] = json!("other");
    api.put(other);
    let event = events.next().await.expect("ADDED");
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "other");
    assert_eq!(event["object"]["kind"], "ImageStream");
    let added_rv = event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(added_rv.parse::<u64>().unwrap() > list_rv.parse::<u64>().unwrap());

    let mut changed = webapp();
    changed["metadata"]["name"] = json!("other");
    changed["metadata"]["labels"] = json!({"tier": "gold"});
    api.put(changed);
    let event = events.next().await.expect("MODIFIED");
    assert_eq!(event["type"], "MODIFIED");
    assert_eq!(event["object"]["metadata"]["labels"]["tier"], "gold");

    // Other namespaces and other kinds do not leak into the watch.
    let mut elsewhere = webapp();
    elsewhere["metadata"]["namespace"] = json!("team-b");
    api.put(elsewhere);
    api.put(image(D_0BE3, "x"));
    api.remove("image.openshift.io/v1", "ImageStream", Some("team-a"), "other");
    let event = events.next().await.expect("DELETED");
    assert_eq!(
        (event["type"].as_str(), event["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("other"))
    );

    // Resuming from the ADDED event's version replays the rest of the history.
    let url = format!("{}{STREAMS}?watch=true&resourceVersion={added_rv}", api.url());
    let mut resumed = Events::open(&url).await;
    assert_eq!(resumed.next().await.unwrap()["type"], "MODIFIED");
    assert_eq!(resumed.next().await.unwrap()["type"], "DELETED");

    // A label selector watch sees objects enter the selection as ADDED.
    let url = format!(
        "{}{STREAMS}?watch=true&labelSelector=tier%3Dgold&resourceVersion={list_rv}",
        api.url()
    );
    let mut selected = Events::open(&url).await;
    let event = selected.next().await.expect("the labelled update");
    assert_eq!(
        (event["type"].as_str(), event["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("other"))
    );

    // Compaction: open watches end with 410, and old versions answer 410 straight away.
    api.expire_watches();
    for stream in [&mut events, &mut resumed, &mut initial] {
        // Events queued before the compaction still arrive first (the initial watch has three).
        let mut event = stream.next().await.expect("an event");
        for _ in 0..5 {
            if event["type"] == "ERROR" {
                break;
            }
            event = stream.next().await.expect("an event");
        }
        assert_eq!(event["type"], "ERROR");
        assert_eq!(event["object"]["code"], 410);
        assert_eq!(event["object"]["reason"], "Expired");
        assert!(stream.next().await.is_none(), "the watch ends after the ERROR");
    }
    let mut stale = Events::open(&format!("{}{STREAMS}?watch=true&resourceVersion={list_rv}", api.url())).await;
    let event = stale.next().await.expect("ERROR event");
    assert_eq!(event["object"]["code"], 410);
    assert!(
        event["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("too old resource version: {list_rv} ("))
    );
    assert!(stale.next().await.is_none());

    // Relisting gives a version that watches fine again; a short watch ends with a bookmark.
    let (_, relist) = get_json(&format!("{}{STREAMS}", api.url())).await;
    let rv = relist["metadata"]["resourceVersion"].as_str().unwrap();
    let url = format!(
        "{}{STREAMS}?watch=true&resourceVersion={rv}&timeoutSeconds=1&allowWatchBookmarks=true",
        api.url()
    );
    let mut fresh = Events::open(&url).await;
    let event = fresh.next().await.expect("BOOKMARK at the timeout");
    assert_eq!(event["type"], "BOOKMARK");
    assert_eq!(event["object"]["metadata"]["resourceVersion"], rv);
    assert!(fresh.next().await.is_none());

    // The computed ImageStreamTags cannot be watched.
    let response = http()
        .get(format!("{}{ISTAGS}?watch=true", api.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(api.requests().iter().filter(|r| r.is_watch()).count() >= 6);
}

#[tokio::test]
async fn rolebinding_role_ref_is_immutable_and_updates_are_optimistic() {
    let api = OpenShiftApi::start().await.unwrap();
    api.put(binding(
        "team-a",
        "registry-viewer",
        "registry-viewer",
        &[("User", "alice")],
    ));
    let url = format!("{}{ROLEBINDINGS}/registry-viewer", api.url());
    let (_, stored) = get_json(&url).await;
    let rv = stored["metadata"]["resourceVersion"].as_str().unwrap().to_owned();

    let mut changed = stored.clone();
    changed["roleRef"]["name"] = json!("registry-editor");
    let (code, status) = send_json(reqwest::Method::PUT, &url, "application/json", &changed).await;
    assert_eq!(code, 422);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "Invalid");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "RoleBinding.rbac.authorization.k8s.io \"registry-viewer\" is invalid: roleRef: Invalid value: "
        ),
        "{message}"
    );
    assert!(message.ends_with(": cannot change roleRef"), "{message}");
    let patch = json!({"roleRef": {"name": "admin"}});
    let (code, _) = send_json(reqwest::Method::PATCH, &url, "application/merge-patch+json", &patch).await;
    assert_eq!(code, 422);

    // Moving subjects is how roles change: a JSON patch appends one.
    let patch = json!([{"op": "test", "path": "/subjects/0/name", "value": "alice"}, {"op": "add", "path": "/subjects/-", "value": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}}]);
    let (code, patched) = send_json(reqwest::Method::PATCH, &url, "application/json-patch+json", &patch).await;
    assert_eq!(code, 200);
    assert_eq!(patched["subjects"][1]["name"], "devs");
    assert_ne!(patched["metadata"]["resourceVersion"], rv);
    assert_eq!(patched["metadata"]["uid"], stored["metadata"]["uid"]);

    // A PUT from the old version now conflicts; from the new one it goes through.
    let mut stale = stored.clone();
    stale["subjects"] = json!([]);
    let (code, status) = send_json(reqwest::Method::PUT, &url, "application/json", &stale).await;
    assert_eq!((code, status["reason"].as_str()), (409, Some("Conflict")));
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on rolebindings.rbac.authorization.k8s.io \"registry-viewer\": the object has been modified; please apply your changes to the latest version and try again"
    );
    stale["metadata"]["resourceVersion"] = patched["metadata"]["resourceVersion"].clone();
    let (code, replaced) = send_json(reqwest::Method::PUT, &url, "application/json", &stale).await;
    assert_eq!(code, 200);
    assert_eq!(replaced["subjects"], json!([]));

    let (code, status) = send_json(
        reqwest::Method::PATCH,
        &url,
        "application/json-patch+json",
        &json!([{"op": "remove", "path": "/subjects/0"}]),
    )
    .await;
    assert_eq!((code, status["reason"].as_str()), (422, Some("Invalid")));
    let response = http()
        .patch(&url)
        .header("content-type", "application/merge-patch+json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        api.get(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("team-a"),
            "registry-viewer"
        )
        .unwrap()["subjects"],
        json!([])
    );
}

#[tokio::test]
async fn create_conflicts_deletes_and_errors_are_statuses() {
    let api = OpenShiftApi::start().await.unwrap();
    let url = format!("{}/api/v1/namespaces/team-a/serviceaccounts", api.url());
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "regent"}});
    let (code, created) = send_json(reqwest::Method::POST, &url, "application/json", &account).await;
    assert_eq!(code, 201);
    assert_eq!(
        created["metadata"]["namespace"], "team-a",
        "the namespace comes from the path"
    );
    assert!(created["metadata"]["uid"].is_string() && created["metadata"]["creationTimestamp"].is_string());
    let (code, status) = send_json(reqwest::Method::POST, &url, "application/json", &account).await;
    assert_eq!(code, 409);
    assert_eq!(
        (status["reason"].as_str(), status["code"].as_u64()),
        (Some("AlreadyExists"), Some(409))
    );
    assert_eq!(status["message"], "serviceaccounts \"regent\" already exists");
    let response = http()
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["reason"], "BadRequest");

    // Service account tokens: the account must exist.
    api.set_service_account_token("team-a", "regent", "secret-token");
    let (code, token) = send_json(
        reqwest::Method::POST,
        &format!("{url}/regent/token"),
        "application/json",
        &json!({"spec": {"expirationSeconds": 600}}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(token["kind"], "TokenRequest");
    assert_eq!(token["status"]["token"], "secret-token");
    assert!(token["status"]["expirationTimestamp"].as_str().unwrap().ends_with('Z'));
    let (code, _) = send_json(
        reqwest::Method::POST,
        &format!("{url}/nobody/token"),
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 404);

    let response = http().delete(format!("{url}/regent")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(
        (
            status["status"].as_str(),
            status["details"]["name"].as_str(),
            status["details"]["kind"].as_str()
        ),
        (Some("Success"), Some("regent"), Some("serviceaccounts"))
    );
    let (code, status) = get_json(&format!("{url}/regent")).await;
    assert_eq!((code, status["reason"].as_str()), (404, Some("NotFound")));
    assert_eq!(
        http().delete(format!("{url}/regent")).send().await.unwrap().status(),
        404
    );
    let (code, status) = get_json(&format!("{}/apis/nothing.example.com/v1/things", api.url())).await;
    assert_eq!((code, status["kind"].as_str()), (404, Some("Status")));

    // Tokens: 401 without, through with.
    api.require_token("t0ken");
    let (code, status) = get_json(&format!("{}/api/v1/namespaces", api.url())).await;
    assert_eq!((code, status["reason"].as_str()), (401, Some("Unauthorized")));
    let response = http()
        .get(format!("{}/api/v1/namespaces", api.url()))
        .bearer_auth("t0ken")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let last = api.requests().pop().unwrap();
    assert_eq!(last.authorization.as_deref(), Some("Bearer t0ken"));
    assert_eq!(last.path, "/api/v1/namespaces");
}

#[tokio::test]
async fn forbidden_requests_get_kubernetes_wording() {
    let api = OpenShiftApi::start().await.unwrap();
    api.set_current_user("alice");
    api.forbid("POST", "/api/v1/namespaces/team-a/serviceaccounts");
    api.forbid("GET", "/apis/image.openshift.io/v1/images");
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "regent"}});
    let url = format!("{}/api/v1/namespaces/team-a/serviceaccounts", api.url());
    let (code, status) = send_json(reqwest::Method::POST, &url, "application/json", &account).await;
    assert_eq!(code, 403);
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "serviceaccounts is forbidden: User \"alice\" cannot create resource \"serviceaccounts\" in API group \"\" in the namespace \"team-a\""
    );
    let (code, status) = get_json(&format!("{}{IMAGES}/{D_0BE3}", api.url())).await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        format!(
            "images.image.openshift.io \"{D_0BE3}\" is forbidden: User \"alice\" cannot get resource \"images\" in API group \"image.openshift.io\" at the cluster scope"
        )
    );
    // Other methods on the same path are unaffected.
    assert_eq!(get_json(&url).await.0, 200);
    let (_, me) = get_json(&format!("{}/apis/user.openshift.io/v1/users/~", api.url())).await;
    assert_eq!(me["metadata"]["name"], "alice");
}

#[tokio::test]
async fn imagestreamtags_are_computed_from_the_stream() {
    let api = OpenShiftApi::start().await.unwrap();
    all_images(&api);
    api.put(webapp());
    let (code, istag) = get_json(&format!("{}{ISTAGS}/webapp:2.0", api.url())).await;
    assert_eq!(code, 200);
    assert_eq!(istag["kind"], "ImageStreamTag");
    assert_eq!(istag["metadata"]["name"], "webapp:2.0");
    assert_eq!(istag["metadata"]["namespace"], "team-a");
    assert_eq!(istag["tag"]["from"]["name"], "quay.io/example/webapp:2.0");
    assert_eq!(istag["conditions"][0]["status"], "False");
    assert_eq!(istag["lookupPolicy"]["local"], false);
    assert_eq!(istag["image"]["metadata"]["name"], D_8C51);
    assert_eq!(istag["image"]["dockerImageManifests"][1]["architecture"], "arm64");
    // referencePolicy Local: the pull spec points at the integrated registry.
    assert_eq!(istag["image"]["dockerImageReference"], format!("{INTERNAL}@{D_8C51}"));

    let (_, pushed) = get_json(&format!("{}{ISTAGS}/webapp%3A1.0", api.url())).await;
    assert_eq!(pushed["tag"], Value::Null, "1.0 only exists from pushes");
    assert_eq!(pushed["image"]["metadata"]["name"], D_0BE3);
    assert!(pushed["image"].get("dockerImageManifest").is_none() && pushed["image"].get("dockerImageConfig").is_none());
    assert_eq!(pushed["image"]["dockerImageLayers"][0]["size"], 79211346);

    let (code, status) = get_json(&format!("{}{ISTAGS}/webapp:nope", api.url())).await;
    assert_eq!(code, 404);
    assert!(status["message"].as_str().unwrap().contains("webapp:nope"));
    let (_, list) = get_json(&format!("{}{ISTAGS}", api.url())).await;
    assert_eq!(names(&list), ["webapp:1.0", "webapp:2.0", "webapp:latest"]);
    assert_eq!(
        list["items"][0]["image"],
        json!({"metadata": {"name": D_0BE3}}),
        "LIST carries only the image name"
    );

    let (_, before) = get_json(&format!("{}{STREAMS}/webapp", api.url())).await;
    let url = format!(
        "{}{STREAMS}?watch=true&resourceVersion={}",
        api.url(),
        before["metadata"]["resourceVersion"].as_str().unwrap()
    );
    let mut events = Events::open(&url).await;
    let response = http()
        .delete(format!("{}{ISTAGS}/webapp:latest", api.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "Success");
    let event = events.next().await.expect("MODIFIED");
    assert_eq!(event["type"], "MODIFIED");
    let stream = &event["object"];
    let spec: Vec<&str> = stream["spec"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let status: Vec<&str> = stream["status"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!((spec, status), (vec!["2.0"], vec!["1.0", "2.0"]));
    assert_eq!(stream["metadata"]["generation"], 2);
    assert_eq!(
        http()
            .delete(format!("{}{ISTAGS}/webapp:latest", api.url()))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        api.get("image.openshift.io/v1", "ImageStream", Some("team-a"), "webapp")
            .unwrap()["status"]["tags"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The status subresource writes only the status; the main resource only the rest.
    let mut stream = api
        .get("image.openshift.io/v1", "ImageStream", Some("team-a"), "webapp")
        .unwrap();
    stream["status"]["tags"] = json!([]);
    stream["spec"]["tags"] = json!([]);
    let (code, updated) = send_json(
        reqwest::Method::PUT,
        &format!("{}{STREAMS}/webapp/status", api.url()),
        "application/json",
        &stream,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        (
            updated["status"]["tags"].as_array().unwrap().len(),
            updated["spec"]["tags"].as_array().unwrap().len()
        ),
        (0, 1)
    );
    let (code, _) = send_json(
        reqwest::Method::PUT,
        &format!("{}{STREAMS}/webapp/status", api.url()),
        "application/json",
        &stream,
    )
    .await;
    assert_eq!(code, 409, "the resourceVersion is stale now");
}

#[tokio::test]
async fn project_requests_create_project_namespace_and_admin_binding() {
    let api = OpenShiftApi::start().await.unwrap();
    api.set_current_user("alice");
    let url = format!("{}/apis/project.openshift.io/v1/projectrequests", api.url());
    let request = json!({"kind": "ProjectRequest", "apiVersion": "project.openshift.io/v1", "metadata": {"name": "team-c"}, "displayName": "Team C", "description": "C's images"});
    let (code, project) = send_json(reqwest::Method::POST, &url, "application/json", &request).await;
    assert_eq!(code, 201);
    assert_eq!(project["kind"], "Project");
    let annotations = &project["metadata"]["annotations"];
    assert_eq!(annotations["openshift.io/display-name"], "Team C");
    assert_eq!(annotations["openshift.io/description"], "C's images");
    assert_eq!(annotations["openshift.io/requester"], "alice");
    assert_eq!(project["status"]["phase"], "Active");
    assert!(api.get("v1", "Namespace", None, "team-c").is_some());
    let admin = api
        .get("rbac.authorization.k8s.io/v1", "RoleBinding", Some("team-c"), "admin")
        .expect("the template's admin binding");
    assert_eq!(admin["subjects"][0]["name"], "alice");
    let (code, status) = send_json(reqwest::Method::POST, &url, "application/json", &request).await;
    assert_eq!((code, status["reason"].as_str()), (409, Some("AlreadyExists")));
    let (_, projects) = get_json(&format!("{}/apis/project.openshift.io/v1/projects", api.url())).await;
    assert_eq!(names(&projects), ["team-c"]);

    // Deleting the project takes the namespace and its contents.
    let response = http()
        .delete(format!("{}/apis/project.openshift.io/v1/projects/team-c", api.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(api.get("v1", "Namespace", None, "team-c").is_none());
    assert!(api.list("rbac.authorization.k8s.io/v1", "RoleBinding").is_empty());
}

#[tokio::test]
async fn local_resource_access_reviews_follow_the_bindings() {
    let api = OpenShiftApi::start().await.unwrap();
    api.put(binding(
        "team-a",
        "registry-viewer",
        "registry-viewer",
        &[("User", "alice"), ("Group", "devs")],
    ));
    api.put(binding(
        "team-a",
        "registry-editor",
        "registry-editor",
        &[("User", "bob"), ("User", "alice")],
    ));
    api.put(binding(
        "team-a",
        "system:image-pullers",
        "system:image-puller",
        &[("Group", "system:serviceaccounts:team-b")],
    ));
    api.put(binding(
        "team-a",
        "unrelated",
        "some-other-role",
        &[("User", "mallory")],
    ));
    api.put(binding(
        "team-b",
        "registry-admin",
        "registry-admin",
        &[("User", "carol")],
    ));
    let mut cluster = binding(
        "",
        "cluster-admins",
        "cluster-admin",
        &[("Group", "system:cluster-admins")],
    );
    cluster["kind"] = json!("ClusterRoleBinding");
    cluster["metadata"] = json!({"name": "cluster-admins"});
    api.put(cluster);

    let url = format!(
        "{}/apis/authorization.openshift.io/v1/namespaces/team-a/localresourceaccessreviews",
        api.url()
    );
    let review = |verb: &str| json!({"kind": "LocalResourceAccessReview", "apiVersion": "authorization.openshift.io/v1", "verb": verb, "resource": "imagestreams/layers", "resourceAPIGroup": "image.openshift.io"});
    let (code, pull) = send_json(reqwest::Method::POST, &url, "application/json", &review("get")).await;
    assert_eq!(code, 201);
    assert_eq!(pull["kind"], "ResourceAccessReviewResponse");
    assert_eq!(pull["namespace"], "team-a");
    assert_eq!(pull["users"], json!(["alice", "bob"]));
    assert_eq!(
        pull["groups"],
        json!(["devs", "system:cluster-admins", "system:serviceaccounts:team-b"])
    );
    assert_eq!(pull["evalutionError"], "");
    let (_, push) = send_json(reqwest::Method::POST, &url, "application/json", &review("update")).await;
    assert_eq!(push["users"], json!(["alice", "bob"]));
    assert_eq!(push["groups"], json!(["system:cluster-admins"]));
}

#[tokio::test]
async fn service_proxy_forwards_to_the_upstream_as_is() {
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;

    async fn upstream(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        match uri.path() {
            "/v2/" => (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer realm=\"http://127.0.0.1/openshift/token\"")],
                "",
            )
                .into_response(),
            "/v2/team-a/webapp/manifests/latest" => (
                StatusCode::OK,
                [
                    ("docker-content-digest", D_0BE3),
                    ("content-type", "application/vnd.oci.image.manifest.v1+json"),
                ],
                "{\"schemaVersion\":2}",
            )
                .into_response(),
            "/v2/team-a/webapp/blobs/uploads/" => (
                StatusCode::ACCEPTED,
                [("location", "/v2/team-a/webapp/blobs/uploads/u1?_state=x")],
                "",
            )
                .into_response(),
            _ => {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                axum::Json(json!({
                    "method": method.as_str(), "path": uri.path(), "query": uri.query(),
                    "authorization": header("authorization"), "x-test": header("x-test"), "host": header("host"),
                    "body": String::from_utf8_lossy(&body),
                }))
                .into_response()
            }
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(upstream)).await;
    });
    let api = OpenShiftApi::start().await.unwrap();
    api.proxy_service(
        "openshift-image-registry",
        "image-registry",
        format!("http://127.0.0.1:{port}/").parse().unwrap(),
    );
    let base = format!(
        "{}/api/v1/namespaces/openshift-image-registry/services/https:image-registry:5000/proxy",
        api.url()
    );

    let response = http().get(format!("{base}/v2/")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"http://127.0.0.1/openshift/token\""
    );

    let response = http()
        .head(format!("{base}/v2/team-a/webapp/manifests/latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["docker-content-digest"], D_0BE3);
    assert_eq!(response.headers()["content-length"], "19");
    let response = http()
        .get(format!("{base}/v2/team-a/webapp/manifests/latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(response.text().await.unwrap(), "{\"schemaVersion\":2}");

    let response = http()
        .post(format!("{base}/v2/team-a/webapp/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.headers()["location"],
        "/v2/team-a/webapp/blobs/uploads/u1?_state=x"
    );

    let response = http()
        .put(format!(
            "{base}/v2/team-a/webapp/blobs/uploads/u1?digest=sha256%3Aabc&_state=x"
        ))
        .bearer_auth("api-token")
        .header("x-test", "yes")
        .body("blob bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/v2/team-a/webapp/blobs/uploads/u1");
    assert_eq!(echo["query"], "digest=sha256%3Aabc&_state=x");
    assert_eq!(echo["x-test"], "yes");
    assert_eq!(echo["body"], "blob bytes");
    assert_eq!(echo["host"], format!("127.0.0.1:{port}"));
    assert_eq!(
        echo["authorization"],
        Value::Null,
        "the API server keeps the caller's credentials to itself"
    );

    let proxied = api.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(proxied.param("digest").as_deref(), Some("sha256:abc"));
    let (code, _) = get_json(&format!("{}/api/v1/namespaces/x/services/none/proxy/v2/", api.url())).await;
    assert_eq!(code, 404);
    server.abort();
}

#[tokio::test]
async fn discovery_and_kubernetes_only_mode() {
    let api = OpenShiftApi::start().await.unwrap();
    let (_, version) = get_json(&format!("{}/version", api.url())).await;
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("30"))
    );
    let (_, groups) = get_json(&format!("{}/apis", api.url())).await;
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for group in [
        "image.openshift.io",
        "project.openshift.io",
        "user.openshift.io",
        "authorization.openshift.io",
        "apps",
        "rbac.authorization.k8s.io",
    ] {
        assert!(group_names.contains(&group), "{group} in {group_names:?}");
    }
    assert_eq!(groups["groups"][0]["preferredVersion"]["version"], "v1");
    let (_, resources) = get_json(&format!("{}/apis/image.openshift.io/v1", api.url())).await;
    let find = |name: &str| {
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
    };
    assert_eq!(find("imagestreams").unwrap()["namespaced"], true);
    assert!(find("imagestreams/status").is_some());
    assert!(
        !find("imagestreamtags").unwrap()["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("watch"))
    );
    let (_, core) = get_json(&format!("{}/api/v1", api.url())).await;
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "serviceaccounts/token")
    );
    let (_, versions) = get_json(&format!("{}/api", api.url())).await;
    assert_eq!(versions["versions"], json!(["v1"]));

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = std::fs::read_to_string(api.write_kubeconfig(dir.path(), Some("tok"))).unwrap();
    assert!(kubeconfig.contains(&format!("server: \"{}\"", api.url())));
    assert!(
        kubeconfig.contains("current-context: fake")
            && kubeconfig.contains("http://127.0.0.1:9")
            && kubeconfig.contains("token: \"tok\"")
    );

    let plain = OpenShiftApi::start_kubernetes_only().await.unwrap();
    let (_, groups) = get_json(&format!("{}/apis", plain.url())).await;
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(group_names.contains(&"rbac.authorization.k8s.io"));
    assert!(
        !group_names.iter().any(|g| g.ends_with("openshift.io")),
        "{group_names:?}"
    );
    for path in [
        "/apis/image.openshift.io/v1",
        "/apis/image.openshift.io/v1/images",
        "/apis/user.openshift.io/v1/users/~",
        "/apis/project.openshift.io/v1/projectrequests",
    ] {
        assert_eq!(get_json(&format!("{}{path}", plain.url())).await.0, 404, "{path}");
    }
    assert_eq!(get_json(&format!("{}/api/v1/pods", plain.url())).await.0, 200);
}
