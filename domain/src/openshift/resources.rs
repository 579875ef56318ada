//! Typed OpenShift objects, as the API server sends them (docs/openshift-api.md: the shapes the
//! fixtures of real answers show; docs/openshift-image-streams.md: what the fields mean).
//!
//! `openshift-openapi` is unmaintained and tied to an old k8s-openapi, and `derive(CustomResource)`
//! wants a `spec` that Image does not have, so each kind is a plain serde struct that
//! implements `k8s_openapi::Resource` (kube's blanket impl then makes it a `kube::Resource`).
//! Only the fields Regent reads are kept: the rest of each object (an Image's raw manifest and
//! config, say) is dropped while parsing, which keeps a watched cluster small in memory.
//! Lists often carry `null` for arrays and maps; those read as empty.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize};

/// `null` (or absent) reads as the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

macro_rules! resource {
    ($ty:ident, $group:literal, $version:literal, $kind:literal, $plural:literal, $scope:ident) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::$scope;
        }
        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// `image.openshift.io/v1` Image: cluster-scoped, named by its manifest digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_reference: String,
    #[serde(default)]
    pub docker_image_metadata: Option<DockerImageMetadata>,
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_manifest_media_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_layers: Vec<ImageLayer>,
    /// Manifest lists only: the platform images, each another Image.
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_manifests: Vec<ImageManifest>,
}
resource!(
    Image,
    "image.openshift.io",
    "v1",
    "Image",
    "images",
    ClusterResourceScope
);

impl Image {
    /// Pushed to the integrated registry (not imported from elsewhere).
    pub fn managed(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("openshift.io/image.managed"))
            .is_some_and(|v| v == "true")
    }
}

/// The few `dockerImageMetadata` keys Regent shows (the keys are PascalCase).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DockerImageMetadata {
    /// The image ID: for a schema 2 / OCI image, the digest of its config blob (what
    /// `oc adm prune images` counts as the image's config; docs/deletes.md).
    #[serde(rename = "Id", default)]
    pub id: Option<String>,
    #[serde(rename = "Created", default)]
    pub created: Option<String>,
    #[serde(rename = "Architecture", default)]
    pub architecture: Option<String>,
    #[serde(rename = "Size", default)]
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageLayer {
    pub name: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub media_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub digest: String,
    #[serde(default, deserialize_with = "null_default")]
    pub media_type: String,
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    #[serde(default, deserialize_with = "null_default")]
    pub os: String,
}

/// `image.openshift.io/v1` ImageStream: a project's named set of tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageStream {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    pub spec: ImageStreamSpec,
    #[serde(default, deserialize_with = "null_default")]
    pub status: ImageStreamStatus,
}
resource!(
    ImageStream,
    "image.openshift.io",
    "v1",
    "ImageStream",
    "imagestreams",
    NamespaceResourceScope
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamSpec {
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<TagReference>,
}

/// A spec tag: where the tag comes from and how it is imported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagReference {
    pub name: String,
    #[serde(default)]
    pub from: Option<ObjectReference>,
    #[serde(default)]
    pub import_policy: Option<TagImportPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagImportPolicy {
    #[serde(default)]
    pub scheduled: bool,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub import_mode: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamStatus {
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_repository: String,
    #[serde(default)]
    pub public_docker_image_repository: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<NamedTagEventList>,
}

/// A status tag: its history (newest first; `items[0]` is current) and import conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedTagEventList {
    pub tag: String,
    #[serde(default, deserialize_with = "null_default")]
    pub items: Vec<TagEvent>,
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<TagEventCondition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagEvent {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub docker_image_reference: String,
    /// The manifest digest.
    #[serde(default, deserialize_with = "null_default")]
    pub image: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagEventCondition {
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub type_: String,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default)]
    pub last_transition_time: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `image.openshift.io/v1` ImageStreamTag: one tag of a stream, named `<stream>:<tag>`. Not
/// watchable; Regent deletes through it (the stream is watched instead).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageStreamTag {
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The spec tag; `null` for a tag that exists only from pushes.
    #[serde(default)]
    pub tag: Option<TagReference>,
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<TagEventCondition>,
    /// The image it points at (manifest and config left out by the server).
    #[serde(default)]
    pub image: Option<Image>,
}
resource!(
    ImageStreamTag,
    "image.openshift.io",
    "v1",
    "ImageStreamTag",
    "imagestreamtags",
    NamespaceResourceScope
);

/// `project.openshift.io/v1` Project: the cluster-scoped view of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    #[serde(default)]
    pub metadata: ObjectMeta,
}
resource!(
    Project,
    "project.openshift.io",
    "v1",
    "Project",
    "projects",
    ClusterResourceScope
);

impl Project {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata.annotations.as_ref()?.get(key).map(String::as_str)
    }
    pub fn display_name(&self) -> Option<&str> {
        self.annotation("openshift.io/display-name").filter(|s| !s.is_empty())
    }
    pub fn description(&self) -> Option<&str> {
        self.annotation("openshift.io/description").filter(|s| !s.is_empty())
    }
    pub fn requester(&self) -> Option<&str> {
        self.annotation("openshift.io/requester").filter(|s| !s.is_empty())
    }
}

/// `user.openshift.io/v1` Group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    pub users: Vec<String>,
}
resource!(
    Group,
    "user.openshift.io",
    "v1",
    "Group",
    "groups",
    ClusterResourceScope
);

/// `user.openshift.io/v1` User (only its name is read: `users/~` says who Regent is).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<String>,
}
resource!(User, "user.openshift.io", "v1", "User", "users", ClusterResourceScope);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_with_nulls_read_as_empty() {
        let stream: ImageStream = serde_json::from_str(
            r#"{"metadata":{"name":"webapp","namespace":"team-a"},
                "spec":{"tags":null},
                "status":{"dockerImageRepository":"r/team-a/webapp","tags":[{"tag":"1.0","items":null}]}}"#,
        )
        .unwrap();
        assert!(stream.spec.tags.is_empty());
        assert!(stream.status.tags[0].items.is_empty());
        let image: Image = serde_json::from_str(
            r#"{"metadata":{"name":"sha256:00","annotations":{"openshift.io/image.managed":"true"}},
                "dockerImageLayers":null,"dockerImageMetadata":{"Created":"2026-03-10T16:18:41Z","Size":5,"Config":{"User":"1001"}}}"#,
        )
        .unwrap();
        assert!(image.managed());
        assert_eq!(image.docker_image_metadata.unwrap().size, Some(5));
    }
}
