//! What the OpenShift parts of the screens receive: image stream tags joined to registry
//! rows, workloads, the cluster screen, projects with their members, and groups.
//!
//! All of it is absent (`None`, empty) in registry-only mode, so the screens show nothing of
//! OpenShift there.

use super::Denied;
use serde::{Deserialize, Serialize};

/// A stream tag where a list names it: its name and the chain of tags it follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTagRef {
    /// `namespace/stream:tag`
    pub name: String,
    /// What it tracks, to the end, as its spec writes each step: `stable`, `1.1`.
    pub tracks: Vec<String>,
}

impl StreamTagRef {
    /// `skyfield-dev/skyfield:prod (tracks stable → 1.1)`
    pub fn label(&self) -> String {
        match self.tracks.is_empty() {
            true => self.name.clone(),
            false => format!("{} (tracks {})", self.name, self.tracks.join(" → ")),
        }
    }
}

/// Labels of stream tags, for sentences.
pub fn stream_tag_labels(refs: &[StreamTagRef]) -> Vec<String> {
    refs.iter().map(StreamTagRef::label).collect()
}

/// An image stream tag: where it points, where it comes from, its history and last import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTagView {
    /// `namespace/stream:tag`
    pub name: String,
    pub tag: String,
    pub current: Option<String>,
    /// A tracking tag: the tag it follows.
    pub tracks: Option<String>,
    /// What it follows, to the end (`stable`, `1.1`); empty when it follows none.
    pub chain: Vec<String>,
    /// Imported from this pull spec.
    pub source: Option<String>,
    pub scheduled: bool,
    /// `imports quay.io/acme/api:latest every 15 min`, for a scheduled import.
    pub schedule: Option<String>,
    /// The registry repository its image was looked for in (where its reference points).
    pub looked_in: Option<String>,
    /// Newest first.
    pub history: Vec<StreamHistoryRow>,
    pub import: Option<ImportView>,
    /// Its current image is not in the registry's repository.
    pub missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHistoryRow {
    pub created: Option<String>,
    pub digest: String,
}

/// The last `ImportSuccess` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub succeeded: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub time: Option<String>,
}

/// A container running an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRow {
    pub namespace: String,
    pub pod: String,
    pub owner: Option<String>,
    pub container: String,
}

/// What a viewer is told of workloads they may not see: how many, not where.
pub fn unseen_workloads(hidden: usize) -> Option<String> {
    (hidden > 0).then(|| {
        format!(
            "{hidden} container{} in projects you cannot see",
            if hidden == 1 { "" } else { "s" }
        )
    })
}

/// What a viewer is told of stream tags in repositories they may not read.
pub fn unseen_stream_tags(hidden: usize) -> Option<String> {
    (hidden > 0).then(|| {
        format!(
            "{hidden} stream tag{} in projects you cannot see",
            if hidden == 1 { "" } else { "s" }
        )
    })
}

/// Stream tag names, then the unseen ones counted: `a, b and 2 stream tags in projects you
/// cannot see`.
pub fn stream_tags_with_unseen(names: &[String], hidden: usize) -> String {
    match (names.is_empty(), unseen_stream_tags(hidden)) {
        (_, None) => names.join(", "),
        (true, Some(unseen)) => unseen,
        (false, Some(unseen)) => format!("{} and {unseen}", names.join(", ")),
    }
}

/// Workload labels for a delete's impact, with the unseen ones counted at the end.
pub fn impact_labels(workloads: &[WorkloadRow], hidden: usize) -> Vec<String> {
    workloads
        .iter()
        .map(WorkloadRow::label)
        .chain(unseen_workloads(hidden))
        .collect()
}

impl WorkloadRow {
    /// `team-a/Deployment/webapp (pod webapp-5d4f8-x7k2p, container web)`
    pub fn label(&self) -> String {
        match &self.owner {
            Some(owner) => format!(
                "{}/{owner} (pod {}, container {})",
                self.namespace, self.pod, self.container
            ),
            None => format!("{}/pod {} (container {})", self.namespace, self.pod, self.container),
        }
    }
}

/// The OpenShift side of a repository page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryOnCluster {
    /// `namespace/stream` when the repository is an image stream.
    pub stream: Option<String>,
    /// Stream tags whose image the registry does not have here.
    pub missing: Vec<StreamTagView>,
    /// Missing ones of streams the viewer may not read (counted, not named).
    pub hidden_missing: usize,
    /// Stream tags whose image could not be checked, with why.
    pub unchecked: Vec<String>,
    /// The stream's tags whose last import failed.
    pub failed_imports: Vec<StreamTagView>,
    /// Containers running any image of this repository (the repository delete names them).
    pub workloads: Vec<WorkloadRow>,
    /// Containers running them in projects the viewer may not see (counted, not named).
    pub hidden_workloads: usize,
    /// The cluster does not answer now; this is the last known state.
    pub stale: bool,
}

/// The OpenShift side of a tag page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOnCluster {
    /// Stream tags pointing at this digest now.
    pub streams: Vec<StreamTagRef>,
    /// Stream tags whose history holds it (not current).
    pub history_of: Vec<StreamTagRef>,
    /// Stream tags (current or history) in repositories the viewer may not read.
    pub hidden_streams: usize,
    pub stream_tag: Option<StreamTagView>,
    pub workloads: Vec<WorkloadRow>,
    /// Containers running it in projects the viewer may not see.
    pub hidden_workloads: usize,
    /// The Image object: `managed` (pushed here) or imported; `None` when there is none.
    pub image_object: Option<String>,
    pub stale: bool,
}

/// `/openshift`: the cluster, and what does not line up between it and the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClusterView {
    /// Registry-only mode: the reason, in words.
    Off(String),
    Denied(Denied),
    Shown(Box<ClusterSummary>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub api: String,
    /// "connected", or what is wrong.
    pub state: String,
    pub connected: bool,
    pub identity: Option<String>,
    /// Why Regent does not know who it is, and which permission would show it.
    pub identity_problem: Option<String>,
    /// How the registry was found, or why it was not.
    pub registry: Result<(String, String), String>,
    pub watches: Vec<WatchRow>,
    /// Stream tags whose image is not in the registry.
    pub missing: Vec<StreamTagView>,
    /// Stream tags whose image could not be checked, with why.
    pub unchecked: Vec<String>,
    /// Stream tags whose last import failed.
    pub failed_imports: Vec<StreamTagView>,
    /// Images OpenShift has that are pushed here (`managed`) but not in the registry.
    pub missing_images: Vec<String>,
    /// Registry tags (`repository:tag`, digest) that no image stream refers to.
    pub unreferenced: Vec<(String, String)>,
    pub unreferenced_total: usize,
}

/// One watched kind on `/openshift`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchRow {
    pub kind: String,
    pub listed: bool,
    pub objects: usize,
    pub error: Option<String>,
    /// Not readable by Regent's identity (or not served): why, and which permission shows it.
    pub refused: Option<String>,
}

/// `/openshift/projects` and a project's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProjectsView {
    Off(String),
    Denied(Denied),
    Listed(Vec<ProjectRow>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub requester: Option<String>,
    pub streams: usize,
    pub members: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProjectView {
    Off(String),
    Denied(Denied),
    NotFound(String),
    Shown(Box<ProjectDetails>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDetails {
    pub project: ProjectRow,
    pub members: Vec<MemberRow>,
    /// Who can pull (the cluster's access review), or why it could not say.
    pub who_can_pull: Result<(Vec<String>, Vec<String>), String>,
    /// Users and groups the cluster knows, for the add form.
    pub known_users: Vec<String>,
    pub known_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// `User`, `Group` or `ServiceAccount`
    pub kind: String,
    pub name: String,
    /// `pull`, `push`, `admin`, or none.
    pub registry_role: Option<String>,
    /// Other roles bound, with their binding (`admin (binding admin)`).
    pub other_roles: Vec<String>,
}

/// `/openshift/groups`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClusterGroupsView {
    Off(String),
    Denied(Denied),
    Listed(Vec<(String, Vec<String>)>),
}
