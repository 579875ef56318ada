//! Workloads using an image: pods whose containers run a digest, and what owns them.
//!
//! A container's image resolves to a digest by its spec (`…@sha256:…`), by the image id the
//! kubelet reports (`status.containerStatuses[].imageID`), or, for a tag pull spec naming the
//! integrated registry, by the image stream tag it names. Shown before every delete, because
//! a deleted manifest stops the next pull of each of these (a restart, a new node).

use super::pullspec::ImageReference;
use super::streams::StreamJoin;
use crate::reference::Reference;
use k8s_openapi::api::core::v1::Pod;
use std::collections::{BTreeSet, HashMap};

/// One container that runs the image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Workload {
    pub namespace: String,
    pub pod: String,
    /// `Deployment/webapp`, `DeploymentConfig/webapp`, `StatefulSet/db`…, when owned.
    pub owner: Option<String>,
    pub container: String,
    /// The image as the pod names it.
    pub image: String,
}

/// Only what the digest match needs, so a watched cluster's pods stay small in memory.
pub fn slim(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    if let Some(spec) = pod.spec.as_mut() {
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            c.env = None;
            c.command = None;
            c.args = None;
            c.volume_mounts = None;
        }
        spec.volumes = None;
    }
    if let Some(status) = pod.status.as_mut() {
        status.conditions = None;
    }
}

/// The controller that owns `pod`, as `kubectl get` names it.
fn owner(pod: &Pod) -> Option<String> {
    let annotations = pod.metadata.annotations.as_ref();
    if let Some(dc) = annotations.and_then(|a| a.get("openshift.io/deployment-config.name")) {
        return Some(format!("DeploymentConfig/{dc}"));
    }
    let reference = pod
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))?;
    // A ReplicaSet made by a Deployment is named `<deployment>-<pod-template-hash>`.
    if reference.kind == "ReplicaSet"
        && let Some(hash) = pod.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash"))
        && let Some(deployment) = reference.name.strip_suffix(&format!("-{hash}"))
    {
        return Some(format!("Deployment/{deployment}"));
    }
    Some(format!("{}/{}", reference.kind, reference.name))
}

/// Containers by the digests they run: built once over every pod, so a page asks per row in
/// constant time.
#[derive(Debug, Default)]
pub struct WorkloadIndex {
    by_digest: HashMap<String, Vec<Workload>>,
}

impl WorkloadIndex {
    pub fn build(pods: &[std::sync::Arc<Pod>], streams: &StreamJoin) -> Self {
        let hosts = streams.registry_hosts();
        let mut by_digest: HashMap<String, BTreeSet<Workload>> = HashMap::new();
        for pod in pods {
            let (Some(spec), Some(name)) = (pod.spec.as_ref(), pod.metadata.name.as_ref()) else {
                continue;
            };
            let statuses: Vec<_> = pod
                .status
                .iter()
                .flat_map(|s| {
                    s.container_statuses
                        .iter()
                        .flatten()
                        .chain(s.init_container_statuses.iter().flatten())
                })
                .collect();
            for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
                let image = c.image.as_deref().unwrap_or_default();
                let mut digests = BTreeSet::new();
                // Pinned in the spec, or reported by the kubelet (`docker-pullable://…@sha256:…`).
                let image_id = statuses.iter().find(|s| s.name == c.name).map(|s| s.image_id.as_str());
                for pinned in [Some(image), image_id].into_iter().flatten() {
                    if let Some((_, d)) = pinned.rsplit_once('@')
                        && d.starts_with("sha256:")
                    {
                        digests.insert(d.to_owned());
                    }
                }
                // A tag of the integrated registry: the stream tag's current image.
                if let Ok(pull) = ImageReference::parse(image)
                    && let Reference::Tag(tag) = &pull.reference
                    && hosts.contains(&pull.registry)
                    && let Some((ns, stream)) = pull.repository.image_stream()
                    && let Some(d) = streams.tag(ns, stream, tag.as_str()).and_then(|t| t.current.clone())
                {
                    digests.insert(d);
                }
                for d in digests {
                    by_digest.entry(d).or_default().insert(Workload {
                        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                        pod: name.clone(),
                        owner: owner(pod),
                        container: c.name.clone(),
                        image: image.to_owned(),
                    });
                }
            }
        }
        Self {
            by_digest: by_digest
                .into_iter()
                .map(|(d, w)| (d, w.into_iter().collect()))
                .collect(),
        }
    }

    /// Containers running `digest`, by namespace and pod.
    pub fn using(&self, digest: &str) -> &[Workload] {
        self.by_digest.get(digest).map(Vec::as_slice).unwrap_or_default()
    }
}
