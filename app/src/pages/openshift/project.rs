//! `/openshift/projects/<name>`: who may pull, push and administer a project's images.
//!
//! Members are the subjects of the project's role bindings; the registry roles are Pull
//! (`registry-viewer`), Push (`registry-editor`) and Admin (`registry-admin`). Adding, changing
//! and removing follow `oc adm policy` (see the domain's `openshift::members`); other roles
//! (`admin`, `edit`…) are shown, and left alone. "Who can pull" is the cluster's own answer (a
//! local resource access review), so it counts cluster-wide roles too.

use super::{ClusterTabs, Off};
use crate::dto::{Outcome, ProjectDetails, ProjectView};
use crate::pages::admin::{DeniedNotice, OutcomeNotice};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[server]
pub async fn project_page(name: String) -> Result<ProjectView, ServerFnError> {
    use super::guard::{Allowed, admin};
    let state = crate::state::AppState::get()?;
    let openshift = match admin(&state, "manage OpenShift projects").await? {
        Allowed::Yes(o, _) => o,
        Allowed::Off(reason) => return Ok(ProjectView::Off(reason)),
        Allowed::Denied(d, _) => return Ok(ProjectView::Denied(d)),
    };
    let Some(project) = openshift.project(&name) else {
        return Ok(ProjectView::NotFound(name.chars().take(63).collect()));
    };
    let members = openshift
        .members(&name)
        .into_iter()
        .map(|m| crate::dto::MemberRow {
            kind: m.subject.kind.as_str().to_owned(),
            name: match &m.subject.namespace {
                Some(ns) => format!("{ns}/{}", m.subject.name),
                None => m.subject.name.clone(),
            },
            registry_role: m.registry.map(|r| r.as_str().to_owned()),
            other_roles: m
                .roles
                .iter()
                .filter(|(role, _)| regent_domain::openshift::RegistryRole::from_cluster_role(role).is_none())
                .map(|(role, binding)| format!("{role} (binding {binding})"))
                .collect(),
        })
        .collect();
    let who_can_pull = openshift.who_can_pull(&name).await.map_err(|e| e.to_string());
    let groups = openshift.groups();
    let mut known_users: Vec<String> = groups.iter().flat_map(|g| g.users.iter().cloned()).collect();
    known_users.sort();
    known_users.dedup();
    Ok(ProjectView::Shown(Box::new(ProjectDetails {
        project: super::projects::project_row(&openshift, &project),
        members,
        who_can_pull,
        known_users,
        known_groups: groups.iter().filter_map(|g| g.metadata.name.clone()).collect(),
    })))
}

/// `op`: `set` (add the member, or change their role, to `role`) or `remove` (every registry
/// role); `kind` is `user` or `group`.
#[server(prefix = "/api", endpoint = "openshift/change_member")]
pub async fn change_member(
    op: String,
    project: String,
    kind: String,
    name: String,
    role: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use super::guard::{Allowed, admin, record};
    use regent_domain::openshift::{RegistryRole, Subject};
    let state = crate::state::AppState::get()?;
    let target = format!(
        "project:{} {}:{}",
        project.chars().take(63).collect::<String>(),
        kind.chars().take(10).collect::<String>(),
        name.chars().take(64).collect::<String>()
    );
    let action = format!("openshift.member.{}", op.chars().take(10).collect::<String>());
    let (openshift, caller) = match admin(&state, "change OpenShift project members").await? {
        Allowed::Yes(o, c) => (o, c),
        Allowed::Off(reason) => return Ok(Outcome::Refused(reason)),
        Allowed::Denied(d, caller) => {
            return Ok(caller.refuse(&state, &action, &target, d).await);
        }
    };
    if openshift.project(&project).is_none() {
        return Ok(Outcome::Refused(format!(
            "There is no project named {}; create it on the Projects screen first.",
            project.chars().take(63).collect::<String>()
        )));
    }
    let subject = match Subject::parse(&kind, &name) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::Refused(crate::pages::admin::guard::sentence(&e))),
    };
    let result = match op.as_str() {
        "set" => match RegistryRole::parse(role.as_deref().unwrap_or_default()) {
            Ok(role) => openshift.set_member(&project, &subject, role).await,
            Err(e) => return Ok(Outcome::Refused(crate::pages::admin::guard::sentence(&e))),
        },
        "remove" => openshift.remove_member(&project, &subject).await,
        other => {
            return Ok(Outcome::Refused(format!(
                "\"{}\" is not a change Regent makes to members; use set or remove.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    Ok(record(
        &state,
        &caller,
        &action,
        &target,
        result.map(|c| c.message().to_owned()),
    )
    .await)
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let change = ServerAction::<ChangeMember>::new();
    let data = Resource::new(
        move || {
            (
                params.with(|p| p.get("name").unwrap_or_default()),
                change.version().get(),
            )
        },
        |(name, _)| async move { project_page(name).await },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(ProjectView::Shown(p)) => view! { <Project details=*p change /> }.into_any(),
                    Ok(ProjectView::NotFound(name)) => {
                        #[cfg(feature = "ssr")]
                        if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                            r.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                            <Title text="Project not found" />
                            <h1>"Project not found"</h1>
                            <p>{format!("The cluster has no project named {name} (or Regent may not see it).")}</p>
                            <p><a href="/openshift/projects">"All projects"</a></p>
                        }
                        .into_any()
                    }
                    Ok(ProjectView::Off(reason)) => view! { <Off reason /> }.into_any(),
                    Ok(ProjectView::Denied(denied)) => view! { <DeniedNotice denied next="/openshift/projects" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the project: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Project(details: ProjectDetails, change: ServerAction<ChangeMember>) -> impl IntoView {
    let project = details.project.name.clone();
    let title = format!("Project {project}");
    let rows = details
        .members
        .iter()
        .map(|m| {
            let registry = m.kind != "ServiceAccount";
            let kind = m.kind.to_ascii_lowercase();
            let (p1, k1, n1, p2, k2, n2) = (
                project.clone(),
                kind.clone(),
                m.name.clone(),
                project.clone(),
                kind.clone(),
                m.name.clone(),
            );
            let current = m.registry_role.clone().unwrap_or_default();
            let options = ["pull", "push", "admin"]
                .into_iter()
                .map(|r| view! { <option value=r selected=current == r>{r}</option> })
                .collect_view();
            let label = format!("Remove {}", m.name);
            let set_label = if m.registry_role.is_some() {
                "Change role"
            } else {
                "Give registry role"
            };
            view! {
                <tr data-member=m.name.clone() data-role=current.clone()>
                    <td>{m.kind.clone()}</td>
                    <td>{m.name.clone()}</td>
                    <td>{m.registry_role.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="muted">{m.other_roles.join(", ")}</td>
                    <td>
                        {registry.then(|| view! {
                            <ActionForm action=change attr:class="inline" attr:data-form="set-role">
                                <input type="hidden" name="op" value="set" />
                                <input type="hidden" name="project" value=p1 />
                                <input type="hidden" name="kind" value=k1 />
                                <input type="hidden" name="name" value=n1 />
                                <select name="role" aria-label="Registry role">{options}</select>
                                <button type="submit">{set_label}</button>
                            </ActionForm>
                        })}
                        {(registry && m.registry_role.is_some()).then(|| view! {
                            <ActionForm action=change attr:class="inline" attr:data-form="remove-member">
                                <input type="hidden" name="op" value="remove" />
                                <input type="hidden" name="project" value=p2 />
                                <input type="hidden" name="kind" value=k2 />
                                <input type="hidden" name="name" value=n2 />
                                <button type="submit">{label}</button>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let who = match details.who_can_pull.clone() {
        Ok((users, groups)) => view! {
            <p data-who="users">{format!("Users: {}", if users.is_empty() { "none".to_owned() } else { users.join(", ") })}</p>
            <p data-who="groups">{format!("Groups: {}", if groups.is_empty() { "none".to_owned() } else { groups.join(", ") })}</p>
        }
        .into_any(),
        Err(e) => view! { <p class="notice warning">{format!("The cluster could not say: {e}")}</p> }.into_any(),
    };
    let add_to = project.clone();
    view! {
        <Title text=title.clone() />
        <ClusterTabs />
        <p class="breadcrumb"><a href="/openshift/projects">"Projects"</a></p>
        <h1>{title}</h1>
        {details.project.display_name.clone().map(|d| view! { <p>{d}</p> })}
        <OutcomeNotice value=change.value() />
        <h2>"Members"</h2>
        <table class="admin-table" data-table="members">
            <thead><tr><th>"Kind"</th><th>"Name"</th><th>"Registry role"</th><th>"Other roles"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <datalist id="cluster-users">{details.known_users.iter().map(|u| view! { <option value=u.clone() /> }).collect_view()}</datalist>
        <datalist id="cluster-groups">{details.known_groups.iter().map(|g| view! { <option value=g.clone() /> }).collect_view()}</datalist>
        <h2>"Add a member"</h2>
        <ActionForm action=change attr:class="admin-form" attr:data-form="add-member">
            <input type="hidden" name="op" value="set" />
            <input type="hidden" name="project" value=add_to />
            <label>"Kind" <select name="kind"><option value="user">"user"</option><option value="group">"group"</option></select></label>
            <label>"Name" <input name="name" required maxlength="253" autocomplete="off" list="cluster-users" /></label>
            <label>"Role"
                <select name="role"><option value="pull">"pull"</option><option value="push">"push"</option><option value="admin">"admin"</option></select>
            </label>
            <button type="submit">"Add member"</button>
        </ActionForm>
        <p class="hint">"To let everyone pull, add the group system:authenticated (signed-in users) or system:unauthenticated (anyone) with pull."</p>
        <h2>"Who can pull"</h2>
        {who}
    }
    .into_any()
}
