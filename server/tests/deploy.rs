//! The Kubernetes manifests in `deploy/`: every object `kubectl kustomize` renders from the
//! base, the OpenShift overlay and the registry snippet is valid against the Kubernetes
//! schemas (offline, `kubernetes-validate` from scripts/setup), the rendered regent.toml files
//! are settings Regent accepts, and the OpenShift ClusterRole grants exactly the API calls
//! Regent makes: every call recorded by the testkit's OpenShift API server while Regent shows
//! and changes everything it can is allowed, and no verb in the role goes unused.

use regent_testkit::cluster::{SampleCluster, SampleOptions};
use regent_testkit::free_port;
use regent_testkit::openshift::ApiRequest;
use regent_testkit::regent::{RegentProcess, make_public};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";
/// The oldest Kubernetes whose schemas the manifests are checked against (OpenShift 4.16).
const KUBERNETES: &str = "1.29.0";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// `kubectl kustomize deploy/<dir>`: the YAML, and its documents as JSON (read with the PyYAML
/// that comes with kubernetes-validate).
fn render_yaml(dir: &str) -> (String, Vec<serde_json::Value>) {
    let out = Command::new("kubectl")
        .args(["kustomize", repo().join("deploy").join(dir).to_str().unwrap()])
        .output()
        .expect("kubectl (Debian's kubectl, see DEVELOPERS.md)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    let mut python = Command::new(repo().join("tools/python/bin/python3"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("tools/python: {e}; run scripts/setup"));
    use std::io::Write;
    python.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success());
    (yaml, serde_json::from_slice(&out.stdout).unwrap())
}

fn render(dir: &str) -> Vec<serde_json::Value> {
    render_yaml(dir).1
}

fn kubernetes_validate() -> PathBuf {
    let venv = repo().join("tools/python/bin/kubernetes-validate");
    assert!(
        venv.exists(),
        "{} is missing: run scripts/setup (it installs kubernetes-validate from PyPI into tools/python)",
        venv.display()
    );
    venv
}

/// Each rendered document of `dir`, validated strictly against the Kubernetes schemas; kinds
/// Kubernetes has no schema for (OpenShift's Route) are returned for the caller to check.
fn validate(dir: &str) -> Vec<serde_json::Value> {
    let docs = render(dir);
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut other = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        if doc["apiVersion"].as_str().unwrap().contains("openshift.io") {
            other.push(doc.clone());
            continue;
        }
        let file = tmp.path().join(format!("{i}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        files.push(file);
    }
    let out = Command::new(kubernetes_validate())
        .args(["--strict", "--kubernetes-version", KUBERNETES])
        .args(&files)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "deploy/{dir}:\n{report}");
    assert_eq!(
        report.matches("INFO").count(),
        files.len(),
        "every document passed: {report}"
    );
    other
}

fn kinds(docs: &[serde_json::Value]) -> BTreeSet<String> {
    docs.iter().map(|d| d["kind"].as_str().unwrap().to_owned()).collect()
}

/// `regent --print-config` accepts the regent.toml of a rendered ConfigMap.
fn regent_accepts(docs: &[serde_json::Value]) -> String {
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"].as_str().unwrap().starts_with("regent-config"))
        .expect("the regent.toml ConfigMap");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regent.toml");
    std::fs::write(&file, config["data"]["regent.toml"].as_str().unwrap()).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\n").unwrap();
    let out = regent_testkit::regent::command(
        REGENT,
        &[
            "--config",
            file.to_str().unwrap(),
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--print-config",
        ],
    )
    .env("REGENT_NOTIFICATIONS_SECRET", "a-secret-long-enough-for-regent")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_base_renders_valid_kubernetes_objects_regent_accepts() {
    let docs = render("base");
    let other = validate("base");
    assert!(other.is_empty());
    assert_eq!(
        kinds(&docs),
        [
            "ConfigMap",
            "Deployment",
            "PersistentVolumeClaim",
            "Secret",
            "Service",
            "ServiceAccount"
        ]
        .map(String::from)
        .into()
    );
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert!(
        pod["terminationGracePeriodSeconds"].as_u64().unwrap() > 20,
        "longer than shutdown_grace_seconds"
    );
    let settings = regent_accepts(&docs);
    assert!(settings.contains("shutdown_grace_seconds = 20"), "{settings}");
    assert!(settings.contains("listen = \"0.0.0.0:9090\""), "{settings}");
}

#[test]
fn the_registry_snippet_points_at_regents_service() {
    let docs = render("registry");
    assert!(validate("registry").is_empty());
    let config = docs[0]["data"]["config.yml"].as_str().unwrap();
    for says in [
        "realm: https://regent.example.com/auth/token",
        "service: regent-registry",
        "issuer: regent",
        "url: http://regent.regent.svc:8080/api/registry/events",
    ] {
        assert!(config.contains(says), "{says}:\n{config}");
    }
}

/// `(apiGroup, resource[/subresource], verb)` of one request to the Kubernetes API, or `None`
/// for discovery and other non-resource URLs (which every authenticated user may read).
fn authorization(request: &ApiRequest) -> Option<(String, String, String)> {
    let path: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let (group, rest) = match path.as_slice() {
        ["api", "v1", rest @ ..] => (String::new(), rest),
        ["apis", group, _version, rest @ ..] => ((*group).to_owned(), rest),
        _ => return None,
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    let (resource, named) = match rest {
        [] => return None,
        [resource] => ((*resource).to_owned(), false),
        [resource, _name] => ((*resource).to_owned(), true),
        [resource, _name, sub, ..] => (format!("{resource}/{sub}"), true),
    };
    let verb = match (request.method.as_str(), named) {
        ("GET", _) if request.is_watch() => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        (other, _) => panic!("unexpected method {other} {}", request.path),
    };
    Some((group, resource, verb.to_owned()))
}

/// What OpenShift's `system:image-pruner` allows among the calls Regent makes (its bootstrap
/// policy, docs/openshift-rbac.md): deleting images and rewriting a stream's status history.
const IMAGE_PRUNER: &[(&str, &str, &str)] = &[
    ("image.openshift.io", "images", "delete"),
    ("image.openshift.io", "imagestreams/status", "update"),
];

/// The rules of a rendered ClusterRole as `(apiGroup, resource, verb)`.
fn rules(role: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let mut all = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    all.insert((
                        group.as_str().unwrap().to_owned(),
                        resource.as_str().unwrap().to_owned(),
                        verb.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    all
}

/// Regent against the sample cluster, made to read and change everything it can: every page
/// with cluster data, project members, a new project, group members, and deletes through
/// image streams. Returns every API request it made.
async fn everything_regent_calls() -> Vec<ApiRequest> {
    let cluster = SampleCluster::start(SampleOptions::default()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let kubeconfig = cluster.kubeconfig(true);
    let regent = RegentProcess::start(
        REGENT,
        &format!("127.0.0.1:{}", free_port()),
        &[
            "--openshift-kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--data-dir",
            data.path().to_str().unwrap(),
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
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    for page in [
        "/openshift",
        "/openshift/projects/team-a",
        "/images/team-a/webapp",
        "/images/team-a/webapp/tags/latest",
        "/images/team-a/webapp/tags/old",
    ] {
        let (status, body) = admin.get(page).await;
        assert_eq!(status, 200, "{page}: {body}");
    }
    let change = |op: &'static str, name: &'static str, role: &'static str| {
        [
            ("op", op),
            ("project", "team-a"),
            ("kind", "user"),
            ("name", name),
            ("role", role),
        ]
    };
    let group = |op: &'static str, name: &'static str, role: &'static str| {
        [
            ("op", op),
            ("project", "team-a"),
            ("kind", "group"),
            ("name", name),
            ("role", role),
        ]
    };
    for form in [
        change("set", "alice", "push"),
        change("set", "alice", "admin"),
        change("remove", "alice", "admin"),
        // Two subjects in one binding, then one of them removed.
        change("set", "bob", "pull"),
        group("set", "qa", "pull"),
        change("remove", "bob", "pull"),
    ] {
        let done = admin.call("/api/openshift/change_member", &form).await;
        assert!(done["Done"].is_string(), "{form:?}: {done}");
    }
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
    assert!(made["Done"].is_string(), "{made}");
    for (op, group) in [
        ("add", "qa"),
        ("remove", "qa"),
        ("create", "newteam"),
        ("delete", "newteam"),
    ] {
        let done = admin
            .call(
                "/api/openshift/change_group",
                &[("op", op), ("group", group), ("user", "hank")],
            )
            .await;
        assert!(done["Done"].is_string(), "{op} {group}: {done}");
    }
    let old = cluster.old.digest().to_owned();
    let done = admin
        .call(
            "/api/delete",
            &[("op", "image"), ("repository", "team-a/webapp"), ("digest", &old)],
        )
        .await;
    assert!(done["Done"].is_string(), "{done}");
    let done = admin
        .call(
            "/api/delete",
            &[("op", "stream_tag"), ("repository", "team-a/webapp"), ("tag", "2.0")],
        )
        .await;
    assert!(done["Done"].is_string(), "{done}");
    cluster.api.requests()
}

#[tokio::test]
async fn the_openshift_overlay_grants_exactly_the_calls_regent_makes() {
    let docs = render("openshift");
    let routes = validate("openshift");
    assert_eq!(kinds(&routes), ["Route".to_owned()].into());
    let route = &routes[0]["spec"];
    assert_eq!(route["tls"]["termination"], "edge");
    assert_eq!(route["to"]["name"], "regent");
    let settings = regent_accepts(&docs);
    assert!(settings.contains("mode = \"required\""), "{settings}");

    let role = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("ClusterRole {name}"))
    };
    let granted = rules(role("regent"));
    let bound: BTreeMap<String, String> = docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRoleBinding")
        .map(|d| {
            assert_eq!(d["subjects"][0]["kind"], "ServiceAccount");
            assert_eq!(d["subjects"][0]["name"], "regent");
            assert_eq!(d["subjects"][0]["namespace"], "regent");
            (
                d["roleRef"]["name"].as_str().unwrap().to_owned(),
                d["metadata"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for needed in ["regent", "regent-registry", "system:image-pruner"] {
        assert!(bound.contains_key(needed), "{needed} is bound to Regent: {bound:?}");
    }

    let requests = everything_regent_calls().await;
    let mut made: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for request in &requests {
        if let Some(key) = authorization(request) {
            made.entry(key)
                .or_insert_with(|| format!("{} {}?{}", request.method, request.path, request.query));
        }
    }
    let pruner: BTreeSet<_> = IMAGE_PRUNER
        .iter()
        .map(|(g, r, v)| ((*g).to_owned(), (*r).to_owned(), (*v).to_owned()))
        .collect();
    let missing: Vec<_> = made
        .iter()
        .filter(|(k, _)| !granted.contains(*k) && !pruner.contains(*k))
        .collect();
    assert!(missing.is_empty(), "calls the role does not allow: {missing:#?}");
    // `bind` is no request: RBAC checks it when Regent creates a RoleBinding.
    let binds = made.contains_key(&(
        "rbac.authorization.k8s.io".to_owned(),
        "rolebindings".to_owned(),
        "create".to_owned(),
    ));
    let unused: Vec<_> = granted
        .iter()
        .filter(|k| !made.contains_key(*k))
        .filter(|(g, r, v)| !(binds && g == "rbac.authorization.k8s.io" && r == "clusterroles" && v == "bind"))
        .collect();
    assert!(unused.is_empty(), "verbs in the role Regent never uses: {unused:#?}");
}
