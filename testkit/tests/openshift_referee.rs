//! The referee: the fake OpenShift API server against what the real API answers.
//!
//! `testkit/fixtures/openshift/referee/` holds the real API's answers to the requests Regent
//! makes (an ImageStream, an ImageStreamTag, an Image, lists of RoleBindings and Projects, a
//! LocalResourceAccessReview, SubjectAccessReviews and the error Statuses), written from the
//! OpenShift and Kubernetes API references (docs/openshift-api.md lists the sources). Each test
//! loads the fixtures' objects into the fake server, asks it the same requests over HTTP and
//! checks its answers against the fixtures:
//!
//! - the same fields, with the same JSON types, at every depth (annotation and label maps are
//!   data, not shape: only their type is compared, as are a list's `metadata`);
//! - the same status codes, and for errors the same `reason`, `message` and `details`;
//! - the same users and groups for the same bindings in the access reviews, and the same
//!   decision and RBAC reason in subject access reviews.
//!
//! The fake's access rules decide what Regent's "who can pull" shows in every other test, so
//! when this file fails, the fake has drifted from the real API and the fake is what to fix.

use regent_testkit::OpenShiftApi;
use serde_json::{Value, json};
use std::time::Duration;

const STREAMS: &str = "/apis/image.openshift.io/v1/namespaces/team-a/imagestreams";

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/openshift/referee/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// The object without what the server assigns, so the fake has to assign it itself.
fn unassigned(mut object: Value) -> Value {
    if let Some(meta) = object["metadata"].as_object_mut() {
        for key in ["uid", "resourceVersion", "creationTimestamp"] {
            meta.remove(key);
        }
    }
    object
}

/// A list fixture's items, with the kind and apiVersion list items leave out.
fn items_of(list: &Value) -> Vec<Value> {
    let kind = list["kind"].as_str().unwrap().trim_end_matches("List");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut item = item.clone();
            item["kind"] = json!(kind);
            item["apiVersion"] = list["apiVersion"].clone();
            item
        })
        .collect()
}

/// team-a as the fixtures describe it: the stream, its image, the project and the bindings.
fn team_a(api: &OpenShiftApi) {
    api.put(unassigned(fixture("image")));
    api.put(unassigned(fixture("imagestream")));
    for binding in items_of(&fixture("rolebindings")) {
        api.put(unassigned(binding));
    }
    for binding in items_of(&fixture("clusterrolebindings")) {
        api.put(unassigned(binding));
    }
    let projects = fixture("projects");
    let team_a = items_of(&projects["projectList"]["response"]["body"])
        .into_iter()
        .find(|p| p["metadata"]["name"] == "team-a")
        .unwrap();
    let mut namespace = unassigned(team_a.clone());
    namespace["apiVersion"] = json!("v1");
    namespace["kind"] = json!("Namespace");
    api.put(namespace);
    api.put(unassigned(team_a));
}

/// Sends a fixture's `{method, path, query?, body?}` and returns the status and the JSON body.
async fn send(api: &OpenShiftApi, request: &Value) -> (u16, Value) {
    let (code, text) = send_raw(api, request).await;
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{request}: not JSON ({e}): {text}"));
    (code, body)
}

async fn send_raw(api: &OpenShiftApi, request: &Value) -> (u16, String) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let method: reqwest::Method = request["method"].as_str().unwrap().parse().unwrap();
    let mut url = format!("{}{}", api.url(), request["path"].as_str().unwrap());
    if let Some(query) = request["query"].as_str() {
        url = format!("{url}?{query}");
    }
    let mut builder = client.request(method, &url);
    if !request["body"].is_null() {
        builder = builder
            .header("content-type", "application/json")
            .body(request["body"].to_string());
    }
    let response = builder.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let code = response.status().as_u16();
    (code, response.text().await.unwrap())
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every difference in shape between the real answer and the fake's, one line each.
fn shape_differences(real: &Value, fake: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare(&mut out, "$", real, fake);
    out
}

fn compare(out: &mut Vec<String>, path: &str, real: &Value, fake: &Value) {
    if type_of(real) != type_of(fake) {
        out.push(format!(
            "{path}: the real API sends {} ({real}), the fake sends {} ({fake})",
            type_of(real),
            type_of(fake)
        ));
        return;
    }
    match (real, fake) {
        (Value::Object(r), Value::Object(f)) => {
            let is_list = r
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"));
            for (key, real_value) in r {
                let here = format!("{path}.{key}");
                match f.get(key) {
                    None => out.push(format!("{here}: in the real API's answer, missing from the fake's")),
                    // Data, not shape: which annotations and labels there are varies by cluster.
                    Some(_) if matches!(key.as_str(), "annotations" | "labels") => {
                        compare_types_only(out, &here, real_value, &f[key]);
                    }
                    // A list's ListMeta is opaque (resourceVersion, continue) and the computed
                    // project list has none documented.
                    Some(_) if key == "metadata" && is_list => {
                        compare_types_only(out, &here, real_value, &f[key]);
                    }
                    Some(fake_value) => compare(out, &here, real_value, fake_value),
                }
            }
            for key in f.keys().filter(|k| !r.contains_key(*k)) {
                out.push(format!("{path}.{key}: in the fake's answer, not in the real API's"));
            }
        }
        (Value::Array(r), Value::Array(f)) => {
            if r.is_empty() != f.is_empty() {
                out.push(format!(
                    "{path}: the real API sends {} items, the fake {}",
                    r.len(),
                    f.len()
                ));
            }
            for (i, fake_item) in f.iter().enumerate() {
                // Objects with names are matched by name, anything else by position.
                let name = &fake_item["metadata"]["name"];
                let real_item = if name.is_string() {
                    r.iter().find(|item| item["metadata"]["name"] == *name)
                } else {
                    r.get(i.min(r.len().saturating_sub(1)))
                };
                match real_item {
                    Some(real_item) => compare(out, &format!("{path}[{i}]"), real_item, fake_item),
                    None if name.is_string() => {
                        out.push(format!("{path}[{i}]: {name} is not in the real API's answer"))
                    }
                    None => {}
                }
            }
        }
        _ => {}
    }
}

fn compare_types_only(out: &mut Vec<String>, path: &str, real: &Value, fake: &Value) {
    if type_of(real) != type_of(fake) {
        out.push(format!(
            "{path}: the real API sends {}, the fake sends {}",
            type_of(real),
            type_of(fake)
        ));
    }
}

#[track_caller]
fn assert_same_shape(what: &str, real: &Value, fake: &Value) {
    let differences = shape_differences(real, fake);
    assert!(
        differences.is_empty(),
        "{what}: the fake's answer differs from the real API's:\n  {}\nfake's answer: {fake}",
        differences.join("\n  ")
    );
}

#[test]
fn the_shape_check_fails_on_a_renamed_or_retyped_field() {
    let real = fixture("imagestreamtag");
    assert!(shape_differences(&real, &real).is_empty());
    let mut renamed = real.clone();
    let image = renamed["image"].as_object_mut().unwrap();
    let reference = image.remove("dockerImageReference").unwrap();
    image.insert("dockerImageRef".into(), reference);
    assert_eq!(
        shape_differences(&real, &renamed),
        [
            "$.image.dockerImageReference: in the real API's answer, missing from the fake's",
            "$.image.dockerImageRef: in the fake's answer, not in the real API's",
        ]
    );
    let mut retyped = real.clone();
    retyped["generation"] = json!("2");
    assert_eq!(shape_differences(&real, &retyped).len(), 1);
    let mut emptied = fixture("rolebindings");
    emptied["items"] = json!([]);
    assert_eq!(shape_differences(&fixture("rolebindings"), &emptied).len(), 1);
}

#[tokio::test]
async fn imagestream_imagestreamtag_and_image_answer_in_the_real_shapes() {
    let api = OpenShiftApi::start().await.unwrap();
    team_a(&api);
    let real_stream = fixture("imagestream");
    let real_image = fixture("image");
    let real_tag = fixture("imagestreamtag");
    let digest = real_image["metadata"]["name"].as_str().unwrap();

    let (code, stream) = send(&api, &json!({"method": "GET", "path": format!("{STREAMS}/reporter")})).await;
    assert_eq!(code, 200);
    assert_same_shape("oc get imagestream reporter -o json", &real_stream, &stream);
    assert_eq!(
        (&stream["spec"], &stream["status"]),
        (&real_stream["spec"], &real_stream["status"])
    );

    let path = format!("/apis/image.openshift.io/v1/images/{digest}");
    let (code, image) = send(&api, &json!({"method": "GET", "path": path})).await;
    assert_eq!(code, 200);
    assert_same_shape("oc get image -o json", &real_image, &image);

    // The ImageStreamTag is computed from the stream and the image, as the real server does.
    let path = "/apis/image.openshift.io/v1/namespaces/team-a/imagestreamtags/reporter:1.4";
    let (code, tag) = send(&api, &json!({"method": "GET", "path": path})).await;
    assert_eq!(code, 200);
    assert_same_shape("oc get imagestreamtag reporter:1.4 -o json", &real_tag, &tag);
    for pointer in [
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/creationTimestamp",
        "/tag",
        "/generation",
        "/lookupPolicy",
        "/image/dockerImageReference",
        "/image/dockerImageLayers",
        "/image/dockerImageMetadata",
        "/image/metadata/name",
        "/image/metadata/annotations",
    ] {
        assert_eq!(
            tag.pointer(pointer),
            real_tag.pointer(pointer),
            "ImageStreamTag {pointer}"
        );
    }
    // The tag's identity is its stream's; its image's is the Image's.
    assert_eq!(tag["metadata"]["uid"], stream["metadata"]["uid"]);
    assert_eq!(
        tag["metadata"]["resourceVersion"],
        stream["metadata"]["resourceVersion"]
    );
    assert_eq!(tag["image"]["metadata"]["uid"], image["metadata"]["uid"]);
}

#[tokio::test]
async fn rolebinding_and_project_lists_answer_in_the_real_shapes() {
    let api = OpenShiftApi::start().await.unwrap();
    team_a(&api);
    let real = fixture("rolebindings");
    let path = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings";
    let (code, bindings) = send(&api, &json!({"method": "GET", "path": path})).await;
    assert_eq!(code, 200);
    assert_same_shape("oc get --raw …/rolebindings", &real, &bindings);
    let names = |list: &Value| -> Vec<Value> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].clone())
            .collect()
    };
    assert_eq!(names(&bindings), names(&real), "the same bindings, in the same order");

    // A project request (`oc new-project`) answers with the Project it made.
    let projects = fixture("projects");
    let request = &projects["projectRequest"];
    api.set_current_user(request["user"].as_str().unwrap());
    let (code, project) = send(&api, &request["request"]).await;
    let real_project = &request["response"]["body"];
    assert_eq!(code, request["response"]["code"]);
    assert_same_shape("POST projectrequests", real_project, &project);
    assert_eq!(
        project["metadata"]["annotations"],
        real_project["metadata"]["annotations"]
    );
    assert_eq!(project["metadata"]["labels"], real_project["metadata"]["labels"]);
    assert_eq!(
        (&project["spec"], &project["status"]),
        (&real_project["spec"], &real_project["status"])
    );

    let list = &projects["projectList"];
    let (code, listed) = send(&api, &list["request"]).await;
    assert_eq!(code, list["response"]["code"]);
    assert_same_shape("oc get --raw …/projects", &list["response"]["body"], &listed);
    assert_eq!(names(&listed), names(&list["response"]["body"]));
}

#[tokio::test]
async fn local_resource_access_review_answers_the_real_users_and_groups() {
    let api = OpenShiftApi::start().await.unwrap();
    team_a(&api);
    let review = fixture("localresourceaccessreview");
    let (code, answer) = send(&api, &review["request"]).await;
    let real = &review["response"]["body"];
    assert_eq!(code, review["response"]["code"]);
    assert_same_shape("LocalResourceAccessReview", real, &answer);
    assert_eq!(answer["kind"], real["kind"]);
    assert_eq!(answer["apiVersion"], real["apiVersion"]);
    assert_eq!(answer["namespace"], real["namespace"]);
    assert_eq!(answer["users"], real["users"], "who can pull: users");
    assert_eq!(answer["groups"], real["groups"], "who can pull: groups");
    assert_eq!(answer["evalutionError"], real["evalutionError"]);
}

#[tokio::test]
async fn subject_access_reviews_decide_as_rbac_does() {
    let api = OpenShiftApi::start().await.unwrap();
    team_a(&api);
    for case in fixture("subjectaccessreview")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (code, answer) = send(&api, &case["request"]).await;
        let real = &case["response"]["body"];
        assert_eq!(code, case["response"]["code"], "{name}");
        assert_same_shape(name, real, &answer);
        assert_eq!(answer["allowed"], real["allowed"], "{name}");
        assert_eq!(answer["reason"], real["reason"], "{name}");
        assert_eq!(answer["namespace"], real["namespace"], "{name}");
    }
}

#[tokio::test]
async fn errors_are_the_real_statuses() {
    for case in fixture("errors")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let api = OpenShiftApi::start().await.unwrap();
        team_a(&api);
        if let Some(user) = case["user"].as_str() {
            api.set_current_user(user);
        }
        let mut request = case["request"].clone();
        let query = request["query"].as_str().unwrap_or_default().to_owned();
        match name {
            // What a user without the role meets; which requests are refused is the test's say.
            "forbidden" => api.forbid("GET", request["path"].as_str().unwrap()),
            "expired-continue" => {
                let first = json!({"method": "GET", "path": request["path"], "query": "limit=1"});
                let (_, page) = send(&api, &first).await;
                let token = page["metadata"]["continue"]
                    .as_str()
                    .expect("a continue token")
                    .to_owned();
                // A write, then compaction past it: the token's revision is gone.
                api.put(unassigned(fixture("image")));
                api.expire_watches();
                request["query"] = json!(query.replace("${CONTINUE_BEFORE_COMPACTION}", &token));
            }
            "expired-watch" => {
                let (_, list) = send(&api, &json!({"method": "GET", "path": STREAMS})).await;
                let rv = list["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
                api.put(unassigned(fixture("image")));
                api.expire_watches();
                request["query"] = json!(query.replace("${RESOURCE_VERSION_BEFORE_COMPACTION}", &rv));
            }
            _ => {}
        }
        let response = &case["response"];
        if name == "expired-watch" {
            // A watch from a compacted resourceVersion is a 200 stream whose one event is the 410.
            let (code, text) = send_raw(&api, &request).await;
            assert_eq!(code, 200, "{name}");
            let line = text.lines().next().unwrap_or_else(|| panic!("{name}: an empty watch"));
            let event: Value = serde_json::from_str(line).unwrap();
            let real = &response["event"];
            assert_same_shape(name, real, &event);
            for key in ["code", "reason", "status", "kind", "apiVersion"] {
                assert_eq!(event["object"][key], real["object"][key], "{name}: {key}");
            }
            assert!(
                event["object"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("too old resource version: "),
                "{name}: {event}"
            );
            continue;
        }
        let (code, status) = send(&api, &request).await;
        let real = &response["body"];
        assert_eq!(code, response["code"], "{name}: {status}");
        assert_same_shape(name, real, &status);
        for key in ["kind", "apiVersion", "status", "code", "reason", "message", "details"] {
            assert_eq!(status[key], real[key], "{name}: {key}");
        }
    }
}
