//! Workloads using an image: pods whose containers run a digest, and what owns them.
//!
//! A container's image resolves to a digest by its spec (`…@sha256:…`), by the image id the
//! kubelet reports (`status.containerStatuses[].imageID`), or, for a tag pull spec naming the
//! integrated registry, by the image stream tag it names. Shown before every delete, because
//! a deleted manifest stops the next pull of each of these (a restart, a new node).

use super::streams::{Reference, StreamJoin, split_reference};
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeSet;

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
        for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
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

/// Every container of `pods` that runs `digest` (directly, or through an image stream tag).
pub fn using(pods: &[std::sync::Arc<Pod>], digest: &str, streams: &StreamJoin) -> Vec<Workload> {
    let hosts = streams.registry_hosts();
    let resolves = |image: &str, image_id: Option<&str>| {
        let pinned = |s: &str| s.rsplit_once('@').is_some_and(|(_, d)| d == digest);
        if pinned(image) || image_id.is_some_and(pinned) {
            return true;
        }
        match split_reference(image) {
            Some((host, path, Reference::Tag(tag))) if hosts.iter().any(|h| h == host) => path
                .split_once('/')
                .and_then(|(ns, stream)| streams.tag(ns, stream, tag))
                .is_some_and(|t| t.current.as_deref() == Some(digest)),
            _ => false,
        }
    };
    let mut found = BTreeSet::new();
    for pod in pods {
        let (Some(spec), Some(name)) = (pod.spec.as_ref(), pod.metadata.name.as_ref()) else {
            continue;
        };
        let statuses = pod.status.as_ref();
        let image_id = |container: &str| {
            statuses
                .into_iter()
                .flat_map(|s| {
                    s.container_statuses
                        .iter()
                        .flatten()
                        .chain(s.init_container_statuses.iter().flatten())
                })
                .find(|s| s.name == container)
                .map(|s| s.image_id.as_str())
        };
        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
            let image = c.image.as_deref().unwrap_or_default();
            if resolves(image, image_id(&c.name)) {
                found.insert(Workload {
                    namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                    pod: name.clone(),
                    owner: owner(pod),
                    container: c.name.clone(),
                    image: image.to_owned(),
                });
            }
        }
    }
    found.into_iter().collect()
}
