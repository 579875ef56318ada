//! Access on OpenShift: project members with Pull / Push / Admin, groups, and new projects.
//!
//! There the registry authorizes through RBAC, so a member is a subject of a RoleBinding in
//! the project, and the registry roles are the cluster roles `registry-viewer` (pull),
//! `registry-editor` (push) and `registry-admin` (admin). Changes follow `oc adm policy`:
//! adding a subject that a binding for the role already lists changes nothing; otherwise the
//! subject joins the first binding for the role, or a new one named after the role (then
//! `<role>-0` … `<role>-99`). A binding's roleRef cannot change, so changing a member's role
//! adds them to the new role's binding first and then takes them out of the old one (they
//! never lose access in between); a binding left without subjects is deleted. Every change
//! reads the bindings fresh and retries when someone else changed them in the meantime.

use super::resources::{Group, Project};
use super::{OpenShift, OpenShiftError};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use std::collections::BTreeMap;

/// Attempts at a read-modify-write before giving up on a busy object.
const ATTEMPTS: usize = 5;

/// The registry's three levels on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegistryRole {
    Pull,
    Push,
    Admin,
}

impl RegistryRole {
    pub const ALL: [RegistryRole; 3] = [RegistryRole::Pull, RegistryRole::Push, RegistryRole::Admin];

    pub fn cluster_role(self) -> &'static str {
        match self {
            RegistryRole::Pull => "registry-viewer",
            RegistryRole::Push => "registry-editor",
            RegistryRole::Admin => "registry-admin",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegistryRole::Pull => "pull",
            RegistryRole::Push => "push",
            RegistryRole::Admin => "admin",
        }
    }

    pub fn from_cluster_role(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.cluster_role() == name)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == t)
            .ok_or_else(|| format!("the role must be pull, push or admin; \"{}\" is not one", shown(text)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// Who a binding names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// Service accounts only.
    pub namespace: Option<String>,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => write!(f, "service account {ns}/{}", self.name),
            (SubjectKind::User, _) => write!(f, "user {}", self.name),
            (SubjectKind::Group, _) => write!(f, "group {}", self.name),
            (SubjectKind::ServiceAccount, None) => write!(f, "service account {}", self.name),
        }
    }
}

fn shown(text: &str) -> String {
    text.chars().take(60).collect()
}

/// An OpenShift user or group name, as the API accepts it (no `/` or `%`, not `.`, `..` or `~`).
pub fn check_principal(what: &str, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("Enter a {what} name."));
    }
    if name.chars().count() > 253 {
        return Err(format!("A {what} name has at most 253 characters."));
    }
    if name == "." || name == ".." || name == "~" || name.contains(['/', '%']) || name.chars().any(char::is_control) {
        return Err(format!(
            "\"{}\" cannot be a {what} name on OpenShift: no \"/\", \"%\" or control characters, and not \".\", \"..\" or \"~\".",
            shown(name)
        ));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(format!("\"{}\" has a space; {what} names have none.", shown(name)));
    }
    Ok(name.to_owned())
}

/// A project name: a DNS label that ProjectRequest accepts.
pub fn check_project(name: &str) -> Result<String, String> {
    let name = name.trim();
    let label = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        return Err(format!(
            "\"{}\" cannot be a project name: use 1 to 63 lowercase letters, digits and \"-\", starting and ending with a letter or digit (like team-a).",
            shown(name)
        ));
    }
    if let Some(refusal) = reserved(name) {
        return Err(format!("{refusal} Choose another name."));
    }
    Ok(name.to_owned())
}

/// Why `project` is the cluster's own and Regent changes nothing in it (`openshift*`,
/// `kube-*`, `default`): creating it and changing its members are refused alike.
pub fn reserved(project: &str) -> Option<String> {
    (project.starts_with("openshift") || project.starts_with("kube-") || project == "default").then(|| {
        format!(
            "\"{}\" is reserved for the cluster itself (names starting with openshift or kube-, and default); Regent changes nothing there, use oc as a cluster administrator.",
            shown(project)
        )
    })
}

fn refuse_reserved(project: &str) -> Result<(), OpenShiftError> {
    match reserved(project) {
        Some(message) => Err(OpenShiftError::Reserved { message }),
        None => Ok(()),
    }
}

impl Subject {
    pub fn user(name: &str) -> Self {
        Self {
            kind: SubjectKind::User,
            name: name.to_owned(),
            namespace: None,
        }
    }
    pub fn group(name: &str) -> Self {
        Self {
            kind: SubjectKind::Group,
            name: name.to_owned(),
            namespace: None,
        }
    }

    /// `User`/`Group` (any case) and a name, checked.
    pub fn parse(kind: &str, name: &str) -> Result<Self, String> {
        match kind.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(Self::user(&check_principal("user", name)?)),
            "group" => Ok(Self::group(&check_principal("group", name)?)),
            other => Err(format!(
                "a member is a user or a group; \"{}\" is neither",
                shown(other)
            )),
        }
    }

    fn of(s: &k8s_openapi::api::rbac::v1::Subject, binding_namespace: &str) -> Option<Self> {
        let kind = match s.kind.as_str() {
            "User" => SubjectKind::User,
            "Group" => SubjectKind::Group,
            "ServiceAccount" => SubjectKind::ServiceAccount,
            _ => return None,
        };
        let namespace = (kind == SubjectKind::ServiceAccount)
            .then(|| s.namespace.clone().unwrap_or_else(|| binding_namespace.to_owned()));
        Some(Self {
            kind,
            name: s.name.clone(),
            namespace,
        })
    }

    fn to_rbac(&self) -> k8s_openapi::api::rbac::v1::Subject {
        k8s_openapi::api::rbac::v1::Subject {
            kind: self.kind.as_str().into(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            api_group: (self.kind != SubjectKind::ServiceAccount).then(|| "rbac.authorization.k8s.io".into()),
        }
    }
}

/// A project member: every role bound to them there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub subject: Subject,
    /// The highest registry role bound.
    pub registry: Option<RegistryRole>,
    /// Every role bound (cluster roles and project roles), with the binding that grants it.
    pub roles: Vec<(String, String)>,
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// The subject already had the role: nothing changed.
    Unchanged(String),
    Done(String),
}

impl MemberChange {
    pub fn message(&self) -> &str {
        match self {
            MemberChange::Unchanged(m) | MemberChange::Done(m) => m,
        }
    }
}

fn has(binding: &RoleBinding, subject: &Subject, namespace: &str) -> bool {
    binding
        .subjects
        .iter()
        .flatten()
        .any(|s| Subject::of(s, namespace).as_ref() == Some(subject))
}

fn for_role<'a>(bindings: &'a [RoleBinding], role: &str) -> impl Iterator<Item = &'a RoleBinding> {
    bindings
        .iter()
        .filter(move |b| b.role_ref.kind == "ClusterRole" && b.role_ref.name == role)
}

impl OpenShift {
    /// The members of `project` from the watched bindings, users first, then groups.
    pub fn members(&self, project: &str) -> Vec<Member> {
        let mut members: BTreeMap<Subject, Member> = BTreeMap::new();
        for binding in self.bindings.in_namespace(project) {
            let name = binding.metadata.name.clone().unwrap_or_default();
            for s in binding.subjects.iter().flatten() {
                let Some(subject) = Subject::of(s, project) else {
                    continue;
                };
                let m = members.entry(subject.clone()).or_insert_with(|| Member {
                    subject,
                    registry: None,
                    roles: Vec::new(),
                });
                m.roles.push((binding.role_ref.name.clone(), name.clone()));
                if let Some(r) = RegistryRole::from_cluster_role(&binding.role_ref.name) {
                    m.registry = m.registry.max(Some(r));
                }
            }
        }
        members.into_values().collect()
    }

    fn role_bindings(&self, project: &str) -> Api<RoleBinding> {
        Api::namespaced(self.client(), project)
    }

    async fn fresh_bindings(&self, project: &str) -> Result<Vec<RoleBinding>, OpenShiftError> {
        Ok(self
            .role_bindings(project)
            .list(&ListParams::default())
            .await
            .map_err(|e| self.err(e))?
            .items)
    }

    /// `oc adm policy add-role-to-{user,group} <role> <subject> -n <project>`.
    pub async fn add_role(&self, project: &str, subject: &Subject, role: &str) -> Result<MemberChange, OpenShiftError> {
        refuse_reserved(project)?;
        let api = self.role_bindings(project);
        for _ in 0..ATTEMPTS {
            let bindings = self.fresh_bindings(project).await?;
            if let Some(b) = for_role(&bindings, role).find(|b| has(b, subject, project)) {
                return Ok(MemberChange::Unchanged(format!(
                    "The {subject} already has {role} in {project} (binding {}).",
                    b.metadata.name.as_deref().unwrap_or_default()
                )));
            }
            let result = match for_role(&bindings, role).next() {
                Some(b) => {
                    let mut b = b.clone();
                    let name = b.metadata.name.clone().unwrap_or_default();
                    b.subjects.get_or_insert_with(Vec::new).push(subject.to_rbac());
                    api.replace(&name, &PostParams::default(), &b).await.map(|_| name)
                }
                None => {
                    let taken = |n: &str| bindings.iter().any(|b| b.metadata.name.as_deref() == Some(n));
                    let name = std::iter::once(role.to_owned())
                        .chain((0..100).map(|i| format!("{role}-{i}")))
                        .find(|n| !taken(n))
                        .ok_or_else(|| OpenShiftError::Conflict {
                            message: format!("{project} already has bindings {role} and {role}-0 to {role}-99"),
                        })?;
                    let binding = RoleBinding {
                        metadata: kube::api::ObjectMeta {
                            name: Some(name.clone()),
                            namespace: Some(project.to_owned()),
                            ..Default::default()
                        },
                        role_ref: RoleRef {
                            api_group: Some("rbac.authorization.k8s.io".into()),
                            kind: "ClusterRole".into(),
                            name: role.to_owned(),
                        },
                        subjects: Some(vec![subject.to_rbac()]),
                    };
                    api.create(&PostParams::default(), &binding).await.map(|_| name)
                }
            };
            match result {
                Ok(name) => {
                    return Ok(MemberChange::Done(format!(
                        "Gave the {subject} {role} in {project} (binding {name})."
                    )));
                }
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(self.err(e)),
            }
        }
        Err(busy(project))
    }

    /// `oc adm policy remove-role-from-{user,group} <role> <subject> -n <project>`.
    pub async fn remove_role(
        &self,
        project: &str,
        subject: &Subject,
        role: &str,
    ) -> Result<Vec<String>, OpenShiftError> {
        refuse_reserved(project)?;
        let api = self.role_bindings(project);
        'attempt: for _ in 0..ATTEMPTS {
            let bindings = self.fresh_bindings(project).await?;
            let mut changed = Vec::new();
            for b in for_role(&bindings, role).filter(|b| has(b, subject, project)) {
                let mut b = b.clone();
                let name = b.metadata.name.clone().unwrap_or_default();
                if let Some(subjects) = b.subjects.as_mut() {
                    subjects.retain(|s| Subject::of(s, project).as_ref() != Some(subject));
                }
                let result = if b.subjects.as_ref().is_none_or(Vec::is_empty) {
                    let dp = DeleteParams {
                        preconditions: b.metadata.resource_version.clone().map(|rv| kube::api::Preconditions {
                            resource_version: Some(rv),
                            uid: None,
                        }),
                        ..Default::default()
                    };
                    api.delete(&name, &dp).await.map(|_| ())
                } else {
                    api.replace(&name, &PostParams::default(), &b).await.map(|_| ())
                };
                match result {
                    Ok(()) => changed.push(name),
                    Err(kube::Error::Api(s)) if s.code == 409 => continue 'attempt,
                    Err(kube::Error::Api(s)) if s.code == 404 => continue 'attempt,
                    Err(e) => return Err(self.err(e)),
                }
            }
            return Ok(changed);
        }
        Err(busy(project))
    }

    /// Gives a member exactly `role` among the registry roles: the new one first, then the
    /// others taken away. Other roles (`admin`, `edit`…) are left alone and reported.
    pub async fn set_member(
        &self,
        project: &str,
        subject: &Subject,
        role: RegistryRole,
    ) -> Result<MemberChange, OpenShiftError> {
        refuse_reserved(project)?;
        let added = self.add_role(project, subject, role.cluster_role()).await?;
        let mut moved_from = Vec::new();
        for other in RegistryRole::ALL.into_iter().filter(|r| *r != role) {
            if !self
                .remove_role(project, subject, other.cluster_role())
                .await?
                .is_empty()
            {
                moved_from.push(other.cluster_role());
            }
        }
        Ok(match (&added, moved_from.is_empty()) {
            (MemberChange::Unchanged(m), true) => MemberChange::Unchanged(m.clone()),
            _ if moved_from.is_empty() => added,
            _ => MemberChange::Done(format!(
                "Moved the {subject} in {project} from {} to {}.",
                moved_from.join(", "),
                role.cluster_role(),
            )),
        })
    }

    /// Takes a member out of every registry role binding in the project.
    pub async fn remove_member(&self, project: &str, subject: &Subject) -> Result<MemberChange, OpenShiftError> {
        refuse_reserved(project)?;
        let mut removed = Vec::new();
        for role in RegistryRole::ALL {
            removed.extend(self.remove_role(project, subject, role.cluster_role()).await?);
        }
        if removed.is_empty() {
            return Ok(MemberChange::Unchanged(format!(
                "The {subject} has no registry role in {project}; nothing changed."
            )));
        }
        let others: Vec<String> = self
            .fresh_bindings(project)
            .await?
            .iter()
            .filter(|b| has(b, subject, project))
            .map(|b| b.role_ref.name.clone())
            .collect();
        let note = if others.is_empty() {
            String::new()
        } else {
            format!(
                " They keep {} (not a registry role; change it with oc).",
                others.join(", ")
            )
        };
        Ok(MemberChange::Done(format!(
            "Removed the {subject} from {project} (bindings {}).{note}",
            removed.join(", ")
        )))
    }

    /// Who may pull the project's images (`localresourceaccessreviews` for `get
    /// imagestreams/layers`): users and groups, as the cluster computes it.
    pub async fn who_can_pull(&self, project: &str) -> Result<(Vec<String>, Vec<String>), OpenShiftError> {
        let body = serde_json::json!({
            "kind": "LocalResourceAccessReview",
            "apiVersion": "authorization.openshift.io/v1",
            "namespace": project,
            "verb": "get",
            "resourceAPIGroup": "image.openshift.io",
            "resource": "imagestreams/layers",
        });
        let request = http::Request::post(format!(
            "/apis/authorization.openshift.io/v1/namespaces/{project}/localresourceaccessreviews"
        ))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .map_err(|e| OpenShiftError::Other { message: e.to_string() })?;
        let answer: serde_json::Value = self.client().request(request).await.map_err(|e| self.err(e))?;
        let names = |key: &str| -> Vec<String> {
            let mut v: Vec<String> = answer[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        Ok((names("users"), names("groups")))
    }

    /// A new project through a ProjectRequest (what `oc new-project` does), then, when
    /// given, a first member with registry-admin.
    pub async fn create_project(
        &self,
        name: &str,
        display_name: &str,
        description: &str,
        admin: Option<&Subject>,
    ) -> Result<String, OpenShiftError> {
        let body = serde_json::json!({
            "kind": "ProjectRequest",
            "apiVersion": "project.openshift.io/v1",
            "metadata": {"name": name},
            "displayName": display_name,
            "description": description,
        });
        let request = http::Request::post("/apis/project.openshift.io/v1/projectrequests")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap_or_default())
            .map_err(|e| OpenShiftError::Other { message: e.to_string() })?;
        let _: Project = match self.client().request(request).await {
            Ok(p) => p,
            Err(kube::Error::Api(s)) if s.code == 409 => {
                return Err(OpenShiftError::Conflict {
                    message: format!("A project named {name} exists already; choose another name."),
                });
            }
            Err(e) => return Err(self.err(e)),
        };
        let mut message = format!("Created the project {name}.");
        if let Some(subject) = admin {
            let added = self.add_role(name, subject, RegistryRole::Admin.cluster_role()).await?;
            message.push(' ');
            message.push_str(added.message());
        }
        Ok(message)
    }

    fn group_api(&self) -> Api<Group> {
        Api::all(self.client())
    }

    pub async fn create_group(&self, name: &str) -> Result<String, OpenShiftError> {
        let group = Group {
            metadata: kube::api::ObjectMeta {
                name: Some(name.to_owned()),
                ..Default::default()
            },
            users: Vec::new(),
        };
        match self.group_api().create(&PostParams::default(), &group).await {
            Ok(_) => Ok(format!("Created the group {name}.")),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(OpenShiftError::Conflict {
                message: format!("A group named {name} exists already."),
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    pub async fn delete_group(&self, name: &str) -> Result<String, OpenShiftError> {
        match self.group_api().delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                let bound: Vec<String> = self
                    .bindings
                    .all()
                    .iter()
                    .filter(|b| b.subjects.iter().flatten().any(|s| s.kind == "Group" && s.name == name))
                    .map(|b| {
                        format!(
                            "{}/{}",
                            b.metadata.namespace.as_deref().unwrap_or_default(),
                            b.metadata.name.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                Ok(if bound.is_empty() {
                    format!("Deleted the group {name}.")
                } else {
                    format!(
                        "Deleted the group {name}. Role bindings still name it ({}): a new group of that name would get their access.",
                        bound.join(", ")
                    )
                })
            }
            Err(kube::Error::Api(s)) if s.code == 404 => Err(OpenShiftError::NotFound {
                message: format!("There is no group named {name}."),
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Adds (`true`) or removes a user from a group's `users`, keeping the others.
    pub async fn change_group_user(&self, group: &str, user: &str, add: bool) -> Result<MemberChange, OpenShiftError> {
        let api = self.group_api();
        for _ in 0..ATTEMPTS {
            let mut g = match api.get(group).await {
                Ok(g) => g,
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    return Err(OpenShiftError::NotFound {
                        message: format!("There is no group named {group}."),
                    });
                }
                Err(e) => return Err(self.err(e)),
            };
            let present = g.users.iter().any(|u| u == user);
            if present == add {
                return Ok(MemberChange::Unchanged(if add {
                    format!("{user} is in {group} already.")
                } else {
                    format!("{user} is not in {group}; nothing changed.")
                }));
            }
            if add {
                g.users.push(user.to_owned());
            } else {
                g.users.retain(|u| u != user);
            }
            match api.replace(group, &PostParams::default(), &g).await {
                Ok(_) => {
                    return Ok(MemberChange::Done(if add {
                        format!("Added {user} to {group}.")
                    } else {
                        format!("Removed {user} from {group}.")
                    }));
                }
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(self.err(e)),
            }
        }
        Err(busy(group))
    }
}

fn busy(what: &str) -> OpenShiftError {
    OpenShiftError::Conflict {
        message: format!("{what} kept changing while Regent tried to update it; try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_and_principal_names_are_checked_with_what_to_do() {
        assert_eq!(check_project("team-a"), Ok("team-a".into()));
        assert!(check_project("Team-A").unwrap_err().contains("lowercase"));
        assert!(check_project("openshift-infra").unwrap_err().contains("reserved"));
        assert!(check_principal("user", "").unwrap_err().contains("Enter"));
        assert!(check_principal("user", "a/b").unwrap_err().contains("\"/\""));
        assert_eq!(
            check_principal("user", " alice@example.com "),
            Ok("alice@example.com".into())
        );
        assert_eq!(RegistryRole::parse("Push"), Ok(RegistryRole::Push));
        assert!(
            RegistryRole::parse("owner")
                .unwrap_err()
                .contains("pull, push or admin")
        );
    }
}
