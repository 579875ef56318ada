//! The table of kinds the fake API server serves, and the names it knows them by.
//!
//! Everything else looks a kind up here: routing maps a URL's group and plural to a [`Resource`],
//! `OpenShiftApi::put` maps a fixture's apiVersion and kind to one, discovery lists them, and the
//! store keys its collections by `(group, plural)`. A kind is either stored (plain CRUD, lists,
//! watches) or computed/create-only (ImageStreamTags, ProjectRequests, access reviews), which
//! `computed` implements.

use super::store::Key;

pub(super) const CORE: &str = "";
const APPS: &str = "apps";
pub(super) const RBAC: &str = "rbac.authorization.k8s.io";
pub(super) const IMAGE: &str = "image.openshift.io";
pub(super) const PROJECT: &str = "project.openshift.io";
pub(super) const USER: &str = "user.openshift.io";
pub(super) const AUTHORIZATION: &str = "authorization.openshift.io";
/// The groups `start_kubernetes_only` leaves out, which is how clients tell the clusters apart.
const OPENSHIFT_GROUPS: [&str; 4] = [IMAGE, PROJECT, USER, AUTHORIZATION];
/// Every group served here has exactly one version.
pub(super) const VERSION: &str = "v1";
/// The label the API server puts on every namespace (Kubernetes 1.21+), which projects show too.
pub(super) const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// What the integrated registry's `status.dockerImageRepository` starts with.
pub(super) const INTERNAL_REGISTRY: &str = "image-registry.openshift-image-registry.svc:5000";

const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One collection the server knows (all at version v1).
#[derive(Debug)]
pub(super) struct Resource {
    pub(super) group: &'static str,
    pub(super) kind: &'static str,
    pub(super) plural: &'static str,
    pub(super) singular: &'static str,
    pub(super) namespaced: bool,
    /// Kept in the store; the others are computed (imagestreamtags) or create-only (reviews).
    pub(super) stored: bool,
    /// Has a `status` subresource: writes to the main resource keep the stored status.
    pub(super) status: bool,
    pub(super) verbs: &'static [&'static str],
}

pub(super) const fn stored(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    status: bool,
) -> Resource {
    Resource {
        group,
        kind,
        plural,
        singular,
        namespaced,
        stored: true,
        status,
        verbs: READ_WRITE,
    }
}

pub(super) static RESOURCES: &[Resource] = &[
    stored(CORE, "Namespace", "namespaces", "namespace", false, true),
    stored(CORE, "Pod", "pods", "pod", true, true),
    stored(CORE, "Service", "services", "service", true, true),
    stored(CORE, "ServiceAccount", "serviceaccounts", "serviceaccount", true, false),
    stored(CORE, "Secret", "secrets", "secret", true, false),
    stored(CORE, "ConfigMap", "configmaps", "configmap", true, false),
    stored(APPS, "Deployment", "deployments", "deployment", true, true),
    stored(APPS, "ReplicaSet", "replicasets", "replicaset", true, true),
    stored(RBAC, "Role", "roles", "role", true, false),
    stored(RBAC, "RoleBinding", "rolebindings", "rolebinding", true, false),
    stored(RBAC, "ClusterRole", "clusterroles", "clusterrole", false, false),
    stored(
        RBAC,
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        false,
    ),
    stored(IMAGE, "Image", "images", "image", false, false),
    stored(IMAGE, "ImageStream", "imagestreams", "imagestream", true, true),
    Resource {
        group: IMAGE,
        kind: "ImageStreamTag",
        plural: "imagestreamtags",
        singular: "imagestreamtag",
        namespaced: true,
        stored: false,
        status: false,
        // Only what this server implements; the real one also has create/update/patch, never watch.
        verbs: &["delete", "get", "list"],
    },
    stored(PROJECT, "Project", "projects", "project", false, false),
    Resource {
        group: PROJECT,
        kind: "ProjectRequest",
        plural: "projectrequests",
        singular: "projectrequest",
        namespaced: false,
        stored: false,
        status: false,
        verbs: &["create"],
    },
    stored(USER, "User", "users", "user", false, false),
    stored(USER, "Group", "groups", "group", false, false),
    Resource {
        group: AUTHORIZATION,
        kind: "SubjectAccessReview",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        namespaced: false,
        stored: false,
        status: false,
        verbs: &["create"],
    },
    Resource {
        group: AUTHORIZATION,
        kind: "LocalResourceAccessReview",
        plural: "localresourceaccessreviews",
        singular: "localresourceaccessreview",
        namespaced: true,
        stored: false,
        status: false,
        verbs: &["create"],
    },
];

impl Resource {
    pub(super) fn api_version(&self) -> String {
        if self.group.is_empty() {
            VERSION.to_owned()
        } else {
            format!("{}/{VERSION}", self.group)
        }
    }

    /// `imagestreams.image.openshift.io`, or just `pods` in the core group, as error messages say.
    pub(super) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub(super) fn key(&self) -> Key {
        (self.group, self.plural)
    }

    pub(super) fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }
}

pub(super) fn resource_by_plural(group: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.is(group, plural))
}

pub(super) fn resource_by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

pub(super) fn group_served(group: &str, openshift: bool) -> bool {
    RESOURCES.iter().any(|r| r.group == group) && (openshift || !OPENSHIFT_GROUPS.contains(&group))
}
