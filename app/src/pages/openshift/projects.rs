//! `/openshift/projects`: the cluster's projects and making a new one (a ProjectRequest, as
//! `oc new-project` does), optionally with a first member who administers its registry.

use super::{ClusterTabs, Off};
use crate::dto::{Outcome, ProjectsView};
use crate::pages::admin::{DeniedNotice, OutcomeNotice};
use leptos::prelude::*;
use leptos_meta::Title;

#[cfg(feature = "ssr")]
pub(crate) fn project_row(
    openshift: &regent_domain::openshift::OpenShift,
    project: &regent_domain::openshift::Project,
) -> crate::dto::ProjectRow {
    let name = project.metadata.name.clone().unwrap_or_default();
    crate::dto::ProjectRow {
        display_name: project.display_name().map(str::to_owned),
        description: project.description().map(str::to_owned),
        requester: project.requester().map(str::to_owned),
        streams: openshift.streams_in(&name).len(),
        members: openshift.members(&name).len(),
        name,
    }
}

#[server]
pub async fn projects_page() -> Result<ProjectsView, ServerFnError> {
    use super::guard::{Allowed, admin};
    let state = crate::state::AppState::get()?;
    Ok(match admin(&state, "manage OpenShift projects").await? {
        Allowed::Yes(openshift, _) => ProjectsView::Listed(
            openshift
                .projects()
                .iter()
                .map(|p| project_row(&openshift, p))
                .collect(),
        ),
        Allowed::Off(reason) => ProjectsView::Off(reason),
        Allowed::Denied(d, _) => ProjectsView::Denied(d),
    })
}

/// A new project; `admin_kind` (`user`/`group`) and `admin_name` name a first registry-admin.
#[server(prefix = "/api", endpoint = "openshift/create_project")]
pub async fn create_project(
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    admin_kind: Option<String>,
    admin_name: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use super::guard::{Allowed, admin, record};
    use regent_domain::openshift::{Subject, check_project};
    let state = crate::state::AppState::get()?;
    let target = format!("project:{}", name.chars().take(63).collect::<String>());
    let (openshift, caller) = match admin(&state, "create OpenShift projects").await? {
        Allowed::Yes(o, c) => (o, c),
        Allowed::Off(reason) => return Ok(Outcome::Refused(reason)),
        Allowed::Denied(d, caller) => {
            return Ok(caller.refuse(&state, "openshift.project.create", &target, d).await);
        }
    };
    let name = match check_project(&name) {
        Ok(n) => n,
        Err(e) => return Ok(Outcome::Refused(e)),
    };
    let first = match admin_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(n) => match Subject::parse(admin_kind.as_deref().unwrap_or("user"), n) {
            Ok(s) => Some(s),
            Err(e) => return Ok(Outcome::Refused(crate::pages::admin::guard::sentence(&e))),
        },
    };
    let text = |v: Option<String>, max: usize, what: &str| -> Result<String, String> {
        let v = v.unwrap_or_default().trim().to_owned();
        if v.chars().count() > max {
            return Err(format!("The {what} has at most {max} characters."));
        }
        if v.chars().any(char::is_control) {
            return Err(format!("The {what} cannot have control characters."));
        }
        Ok(v)
    };
    let (display, description) = match (
        text(display_name, 200, "display name"),
        text(description, 1000, "description"),
    ) {
        (Ok(d), Ok(x)) => (d, x),
        (Err(e), _) | (_, Err(e)) => return Ok(Outcome::Refused(e)),
    };
    let result = openshift
        .create_project(&name, &display, &description, first.as_ref())
        .await;
    Ok(record(&state, &caller, "openshift.project.create", &target, result).await)
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let data = Resource::new(move || create.version().get(), |_| async move { projects_page().await });
    view! {
        <Title text="Projects" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(ProjectsView::Listed(projects)) => view! {
                        <ClusterTabs />
                        <h1>"Projects"</h1>
                        <p class="hint">"On OpenShift the registry obeys the cluster's role bindings: a project's members pull (registry-viewer), push (registry-editor) or administer (registry-admin) its image streams."</p>
                        <OutcomeNotice value=create.value() />
                        <table class="admin-table" data-table="projects">
                            <thead><tr><th>"Project"</th><th>"Display name"</th><th>"Requested by"</th><th class="num">"Image streams"</th><th class="num">"Members"</th></tr></thead>
                            <tbody>
                                {projects.into_iter().map(|p| view! {
                                    <tr data-project=p.name.clone()>
                                        <td><a href=format!("/openshift/projects/{}", p.name)>{p.name.clone()}</a></td>
                                        <td>{p.display_name.clone().unwrap_or_default()}</td>
                                        <td>{p.requester.clone().unwrap_or_default()}</td>
                                        <td class="num">{p.streams}</td>
                                        <td class="num">{p.members}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"New project"</h2>
                        <ActionForm action=create attr:class="admin-form" attr:data-form="create-project">
                            <label>"Name" <input name="name" required maxlength="63" autocomplete="off" placeholder="team-c" /></label>
                            <label>"Display name" <input name="display_name" maxlength="200" /></label>
                            <label>"Description" <input name="description" maxlength="1000" /></label>
                            <label>"First registry admin"
                                <select name="admin_kind"><option value="user">"user"</option><option value="group">"group"</option></select>
                                <input name="admin_name" maxlength="253" autocomplete="off" />
                            </label>
                            <button type="submit">"Create project"</button>
                        </ActionForm>
                    }
                    .into_any(),
                    Ok(ProjectsView::Off(reason)) => view! { <Off reason /> }.into_any(),
                    Ok(ProjectsView::Denied(denied)) => view! { <DeniedNotice denied next="/openshift/projects" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the projects: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
