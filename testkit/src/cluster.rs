//! The sample OpenShift cluster: a fake API server holding the objects of
//! docs/openshift-image-streams.md, joined by digest to images pushed into the real registry.
//!
//! `team-a/webapp` has `1.0` (two pushes: `old`, then `current`), `latest` tracking `1.0`,
//! `2.0` imported from quay.io whose last scheduled import failed (its image is not in the
//! registry), and `old`, a tag of the first push alone. The registry also has
//! `team-a/webapp:scratch`, which no stream refers to. A Deployment's pod runs `latest`, a
//! DeploymentConfig's pod is pinned to the old digest. Project `team-a` lets group `qa`
//! pull and user `sarah` administer; group `qa` is `greg`. The registry service points at the
//! real registry on loopback, which takes the cluster token as `unused:<token>`.
//!
//! Two streams come from fixture files in `testkit/fixtures/openshift/`, written in the shape
//! `oc get is -o json` prints (docs/openshift-image-streams.md): `skyfield-dev/skyfield`, whose
//! history points at the registry repository `skyfield` (as `oc tag` across projects with
//! `referencePolicy: Source` leaves it), with `stable` tracking `skyfield:1.1` and `prod`
//! tracking `stable`, and a `1.0` whose manifest was deleted from the registry; and
//! `team-a/api`, a scheduled import of `quay.io/acme/api:latest` that never succeeded.

use crate::openshift::OpenShiftApi;
use crate::push::Pusher;
use crate::{Artifact, RegistryAuth, RegistryOptions, TestRegistry, single_file_image};
use anyhow::Result;
use serde_json::{Value, json};

/// The token in the sample kubeconfig; the registry accepts it as the password of `unused`.
pub const TOKEN: &str = "sha256~regent-sample-cluster-token";
/// The host the streams give the integrated registry inside the cluster.
pub const INTERNAL_HOST: &str = "image-registry.openshift-image-registry.svc:5000";
/// The host of the registry's route in the sample (what users pull from).
pub const PUBLIC_HOST: &str = "default-route-openshift-image-registry.apps.cluster.test";
/// The digest `2.0` was imported as from quay.io (in no registry here).
pub const IMPORTED: &str = "sha256:8c516e97bc890ba10aaf9b55ea01c8e2d06b525ac62f4c4c219fbde21a998bc8";

/// How Regent can reach the sample registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryService {
    /// `openshift-image-registry/image-registry` with the registry's loopback address as its
    /// cluster IP.
    #[default]
    ClusterIp,
    /// A cluster IP nothing answers on: only the API server's service proxy reaches it (then
    /// the registry takes no credentials, the API server checks the token).
    ProxyOnly,
    /// No registry service at all.
    Missing,
}

/// What Regent's cluster identity may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Identity {
    /// Everything (`system:admin`).
    #[default]
    Admin,
    /// Only the image API: listing projects and pods is forbidden (403); groups, role bindings
    /// and `users/~` answer 404, as a server that hides them from the identity does.
    ImagesOnly,
}

#[derive(Debug, Clone, Default)]
pub struct SampleOptions {
    pub service: RegistryService,
    pub identity: Identity,
}

pub struct SampleCluster {
    pub api: OpenShiftApi,
    pub registry: TestRegistry,
    /// First push of `team-a/webapp:1.0`, still tagged `old`.
    pub old: Artifact,
    /// `1.0` and `latest` now.
    pub current: Artifact,
    /// `team-a/webapp:scratch`, in no stream.
    pub scratch: Artifact,
    /// `skyfield:1.1` in the registry; `skyfield-dev/skyfield:1.1`, `:stable` and `:prod`.
    pub skyfield: Artifact,
    /// `skyfield-dev/skyfield:1.0`: its manifest is not in the registry (never pushed here).
    pub skyfield_gone: Artifact,
    dir: tempfile::TempDir,
}

impl SampleCluster {
    pub async fn start(options: SampleOptions) -> Result<Self> {
        let auth = match options.service {
            RegistryService::ProxyOnly => RegistryAuth::None,
            _ => RegistryAuth::Htpasswd(vec![("unused".into(), TOKEN.into())]),
        };
        let registry = TestRegistry::start_with(RegistryOptions {
            auth,
            ..Default::default()
        })
        .await?;
        let api = OpenShiftApi::start().await?;
        let pusher = match options.service {
            RegistryService::ProxyOnly => Pusher::new(&registry.url()),
            _ => Pusher::new(&registry.url()).with_basic("unused", TOKEN),
        };
        let old = single_file_image("webapp 1.0.2")?;
        let current = single_file_image("webapp 1.0.3")?;
        let scratch = single_file_image("a scratch build nobody tagged in a stream")?;
        pusher.push("team-a/webapp", "old", &old).await?;
        for tag in ["1.0", "latest"] {
            pusher.push("team-a/webapp", tag, &current).await?;
        }
        pusher.push("team-a/webapp", "scratch", &scratch).await?;
        let skyfield = single_file_image("skyfield 1.1")?;
        let skyfield_gone = single_file_image("skyfield 1.0, deleted from the registry")?;
        pusher.push("skyfield", "1.1", &skyfield).await?;
        let dir = tempfile::Builder::new().prefix("regent-cluster-").tempdir()?;
        let cluster = Self {
            api,
            registry,
            old,
            current,
            scratch,
            skyfield,
            skyfield_gone,
            dir,
        };
        cluster.fill(options);
        Ok(cluster)
    }

    /// A kubeconfig for the fake API server (with the token unless `no_token`).
    pub fn kubeconfig(&self, with_token: bool) -> std::path::PathBuf {
        self.api.write_kubeconfig(self.dir.path(), with_token.then_some(TOKEN))
    }

    /// The registry's route as the streams name it (`publicDockerImageRepository`); what pull
    /// commands on Regent's pages say.
    pub fn public_host(&self) -> String {
        PUBLIC_HOST.to_owned()
    }

    /// The sample ImageStream `team-a/webapp`, as the API server would hold it.
    pub fn webapp_stream(&self) -> Value {
        let internal = format!("{INTERNAL_HOST}/team-a/webapp");
        let (old, current) = (self.old.digest(), self.current.digest());
        let item = |digest: &str, created: &str| json!({"created": created, "dockerImageReference": format!("{internal}@{digest}"), "image": digest, "generation": 1});
        json!({
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "webapp", "namespace": "team-a", "generation": 1},
            "spec": {
                "lookupPolicy": {"local": false},
                "tags": [
                    {"name": "2.0", "annotations": null, "from": {"kind": "DockerImage", "name": "quay.io/example/webapp:2.0"},
                     "generation": 1, "importPolicy": {"scheduled": true, "importMode": "PreserveOriginal"}, "referencePolicy": {"type": "Local"}},
                    {"name": "latest", "annotations": null, "from": {"kind": "ImageStreamTag", "name": "1.0"},
                     "generation": 1, "importPolicy": {"importMode": "Legacy"}, "referencePolicy": {"type": "Source"}}
                ]
            },
            "status": {
                "dockerImageRepository": internal,
                "publicDockerImageRepository": format!("{}/team-a/webapp", self.public_host()),
                "tags": [
                    {"tag": "1.0", "items": [item(current, "2026-03-10T16:20:02Z"), item(old, "2026-03-05T14:10:31Z")]},
                    {"tag": "2.0", "items": [{"created": "2026-03-02T09:00:05Z", "dockerImageReference": format!("quay.io/example/webapp@{IMPORTED}"), "image": IMPORTED, "generation": 1}],
                     "conditions": [{"type": "ImportSuccess", "status": "False", "lastTransitionTime": "2026-03-11T03:15:00Z", "reason": "InternalError",
                                     "message": "Internal error occurred: quay.io/example/webapp:2.0: Get \"https://quay.io/v2/\": dial tcp: i/o timeout", "generation": 1}]},
                    {"tag": "latest", "items": [item(current, "2026-03-10T16:20:02Z"), item(old, "2026-03-05T14:10:31Z")]},
                    {"tag": "old", "items": [item(old, "2026-03-05T14:10:31Z")]}
                ]
            }
        })
    }

    /// A fixture of `testkit/fixtures/openshift/` with this cluster's hosts and digests filled in.
    pub fn fixture(&self, name: &str) -> Value {
        let text = match name {
            "skyfield-dev.skyfield.imagestream.json" => {
                include_str!("../fixtures/openshift/skyfield-dev.skyfield.imagestream.json")
            }
            "team-a.api.imagestream.json" => include_str!("../fixtures/openshift/team-a.api.imagestream.json"),
            other => panic!("no fixture {other}"),
        };
        let text = text
            .replace("${INTERNAL_HOST}", INTERNAL_HOST)
            .replace("${PUBLIC_HOST}", PUBLIC_HOST)
            .replace("${SKYFIELD_1_0}", self.skyfield_gone.digest())
            .replace("${SKYFIELD_1_1}", self.skyfield.digest());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
    }

    /// The Image object the cluster holds for `artifact` in `team-a/webapp` (its config digest
    /// as the image ID).
    pub fn image_object(artifact: &Artifact, managed: bool) -> Value {
        Self::image_object_in(artifact, managed, "team-a/webapp")
    }

    fn image_object_in(artifact: &Artifact, managed: bool, repository: &str) -> Value {
        let image = artifact.images()[0];
        let layers: Vec<Value> = image
            .layers
            .iter()
            .map(|l| json!({"name": l.blob.digest, "size": l.blob.bytes.len(), "mediaType": l.blob.media_type}))
            .collect();
        let mut annotations = json!({"image.openshift.io/dockerLayersOrder": "ascending"});
        if managed {
            annotations["openshift.io/image.managed"] = json!("true");
        }
        json!({
            "apiVersion": "image.openshift.io/v1",
            "kind": "Image",
            "metadata": {"name": artifact.digest(), "annotations": annotations},
            "dockerImageReference": format!("{INTERNAL_HOST}/{repository}@{}", artifact.digest()),
            "dockerImageMetadata": {"kind": "DockerImage", "apiVersion": "image.openshift.io/1.0", "Id": image.config.digest, "Created": "2024-01-01T00:00:00Z", "Architecture": "amd64", "Size": image.size()},
            "dockerImageMetadataVersion": "1.0",
            "dockerImageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            "dockerImageLayers": layers,
        })
    }

    fn fill(&self, options: SampleOptions) {
        let api = &self.api;
        for name in [
            "team-a",
            "team-b",
            "skyfield-dev",
            "openshift-image-registry",
            "openshift-infra",
        ] {
            api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
        }
        for (name, display) in [("team-a", "Team A"), ("team-b", "Team B"), ("skyfield-dev", "Skyfield")] {
            api.put(json!({"apiVersion": "project.openshift.io/v1", "kind": "Project",
                "metadata": {"name": name, "annotations": {"openshift.io/display-name": display, "openshift.io/requester": "sarah"}}}));
        }
        api.put(self.webapp_stream());
        api.put(Self::image_object(&self.old, true));
        api.put(Self::image_object(&self.current, true));
        api.put(self.fixture("skyfield-dev.skyfield.imagestream.json"));
        api.put(self.fixture("team-a.api.imagestream.json"));
        api.put(Self::image_object_in(&self.skyfield, true, "skyfield"));
        api.put(json!({
            "apiVersion": "image.openshift.io/v1", "kind": "Image",
            "metadata": {"name": IMPORTED, "annotations": {"image.openshift.io/dockerLayersOrder": "ascending"}},
            "dockerImageReference": format!("quay.io/example/webapp@{IMPORTED}"),
            "dockerImageManifestMediaType": "application/vnd.oci.image.index.v1+json",
        }));
        api.put(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "webapp-5d4f8-x7k2p", "namespace": "team-a", "labels": {"app": "webapp", "pod-template-hash": "5d4f8"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "webapp-5d4f8", "uid": "rs-1", "controller": true}]},
            "spec": {"containers": [{"name": "web", "image": format!("{INTERNAL_HOST}/team-a/webapp:latest")}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "web", "image": format!("{INTERNAL_HOST}/team-a/webapp:latest"),
                "imageID": format!("{INTERNAL_HOST}/team-a/webapp@{}", self.current.digest()), "ready": true, "restartCount": 0}]}
        }));
        api.put(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "legacy-1-q8m2z", "namespace": "team-a", "annotations": {"openshift.io/deployment-config.name": "legacy"}},
            "spec": {"containers": [{"name": "legacy", "image": format!("{INTERNAL_HOST}/team-a/webapp@{}", self.old.digest())}]}
        }));
        api.put(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "registry-viewer", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "registry-viewer"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "qa"}]
        }));
        api.put(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "admin", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "sarah"}]
        }));
        for (name, users) in [("qa", vec!["greg"]), ("devs", vec!["alice"])] {
            api.put(json!({"apiVersion": "user.openshift.io/v1", "kind": "Group", "metadata": {"name": name}, "users": users}));
        }
        let port = match options.service {
            RegistryService::ProxyOnly => crate::free_port(),
            _ => self.registry.port(),
        };
        if options.service != RegistryService::Missing {
            api.put(json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "image-registry", "namespace": "openshift-image-registry"},
                "spec": {"clusterIP": "127.0.0.1", "ports": [{"name": "5000-tcp", "port": port, "protocol": "TCP"}]}
            }));
        }
        if options.identity == Identity::ImagesOnly {
            api.forbid("GET", "/apis/project.openshift.io/v1/projects");
            api.forbid("GET", "/api/v1/pods");
            api.unserve("/apis/user.openshift.io/v1/groups");
            api.unserve("/apis/user.openshift.io/v1/users");
            api.unserve("/apis/rbac.authorization.k8s.io/v1/rolebindings");
        }
        if options.service == RegistryService::ProxyOnly {
            api.proxy_service("openshift-image-registry", "image-registry", self.registry.url());
            api.require_token(TOKEN);
        }
    }
}
