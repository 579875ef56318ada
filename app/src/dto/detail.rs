//! What the tag, layer and storage screens receive.
//!
//! The tag page is read live from the registry (manifest and config, so it shows exactly what
//! a pull would get); the layer and storage screens come from the index, which alone knows
//! what is shared between repositories.

use super::{IndexStatusView, Paging, RegistryProblem, TagRow};
use serde::{Deserialize, Serialize};

/// The tag page (`/images/<repository>/tags/<tag>`) or a manifest by digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TagView {
    Found(Box<TagDetails>),
    /// The registry has no such tag or manifest; says which part was not found.
    NotFound {
        repository: String,
        reference: String,
        what: String,
    },
    /// The path was a repository whose name ends in `tags/<x>` after all.
    Repository(String),
    /// The repository or reference in the URL is malformed; the message says why.
    BadRequest(String),
    /// The registry could not be read.
    Unavailable(RegistryProblem),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagDetails {
    pub repository: String,
    /// The tag, or the digest when the page was opened by digest.
    pub reference: String,
    pub is_tag: bool,
    /// The manifest the reference points at (a list/index for multi-platform images).
    pub digest: String,
    pub media_type: String,
    /// Bytes of the manifest itself.
    pub manifest_size: u64,
    /// For a list/index: its platforms; the shown image is the `selected` one.
    pub platforms: Vec<PlatformChoice>,
    /// The image shown: the manifest itself, or the selected platform's.
    pub image: Option<ImageDetails>,
    /// Why no image is shown (e.g. a nested index).
    pub image_problem: Option<String>,
    /// Labelled pull commands: by tag and by digest, docker and podman.
    pub pull_commands: Vec<(String, String)>,
    /// Other tags of this repository on the same digest.
    pub same_digest: Vec<String>,
    /// On OpenShift: its image streams and the workloads running it.
    #[serde(default)]
    pub cluster: Option<super::ImageOnCluster>,
    /// The viewer may delete here (the page offers the delete dialog).
    #[serde(default)]
    pub deletable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformChoice {
    pub platform: String,
    pub digest: String,
    pub size: u64,
    pub selected: bool,
}

/// One image: manifest, config and layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDetails {
    pub digest: String,
    pub media_type: String,
    pub config_digest: String,
    pub config_size: u64,
    /// Config plus layers, compressed.
    pub size: u64,
    pub created: Option<String>,
    pub author: Option<String>,
    pub platform: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub entrypoint: Option<String>,
    pub cmd: Option<String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub env: Vec<EnvVar>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub history: Vec<HistoryRow>,
    pub layers: Vec<LayerRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// The name looks like it holds a secret: the value is masked until clicked.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub created: Option<String>,
    pub created_by: String,
    /// The step made no layer (ENV, CMD, …).
    pub empty_layer: bool,
    /// 1-based position of the layer it made.
    pub layer: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRow {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// Percent of the image's layer bytes.
    pub share: f64,
    /// Repositories (that the viewer may read) with a tag containing this layer.
    pub repositories: usize,
}

/// The layer page, `/layers/<digest>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LayerView {
    Found {
        digest: String,
        size: u64,
        media_type: String,
        /// Image manifests containing it.
        images: usize,
        repositories: Vec<String>,
        /// One page of the tags containing it.
        rows: Vec<TagRow>,
        total: usize,
        paging: Paging,
        status: IndexStatusView,
        /// Repositories with it that the viewer may delete in (the delete control shows when
        /// there is one).
        deletable: Vec<String>,
        /// On OpenShift: what runs an image with this layer (the delete dialog names them; those
        /// in projects the viewer may not see are counted at the end).
        #[serde(default)]
        workloads: Vec<String>,
    },
    NotFound {
        digest: String,
        status: IndexStatusView,
    },
    BadRequest(String),
}

/// The storage page, `/storage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StorageView {
    Found(Box<StorageReportView>),
    BadRequest(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageReportView {
    /// Distinct blobs, each counted once.
    pub total: u64,
    /// What the repositories' totals add up to (shared blobs counted in each).
    pub sum_of_repositories: u64,
    pub blobs: usize,
    pub repositories: usize,
    /// One page of repositories, largest first.
    pub rows: Vec<StorageRow>,
    /// The largest repository's total: the full width of a bar.
    pub largest: u64,
    pub paging: Paging,
    pub status: IndexStatusView,
    /// Not signed in: an empty chart may only mean "sign in to see more".
    pub anonymous: bool,
    /// For administrators: what the registry's garbage collection would free now.
    pub gc: Option<GcPlanView>,
}

/// The garbage-collection plan: from deletes made in Regent, what the registry's garbage
/// collection (without `--delete-untagged`) deletes, and what untagged manifests still hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcPlanView {
    pub blobs: usize,
    pub bytes: u64,
    pub untagged: Vec<String>,
    pub untagged_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageRow {
    pub name: String,
    pub tags: usize,
    pub total: u64,
    pub unique: u64,
}

/// Whether an environment variable's name suggests its value is a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASS",
        "SECRET",
        "TOKEN",
        "KEY",
        "CREDENTIAL",
        "PRIVATE",
        "AUTH",
        "CERT",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_looking_variables_are_recognised() {
        for name in [
            "DB_PASSWORD",
            "api_key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "PGPASS",
        ] {
            assert!(super::looks_secret(name), "{name}");
        }
        for name in ["PATH", "HOME", "LANG", "JAVA_VERSION"] {
            assert!(!super::looks_secret(name), "{name}");
        }
    }
}
