//! `/openshift/groups`: the cluster's groups and their users (`user.openshift.io` Groups),
//! which project role bindings name. Changes read the group fresh and keep everyone else.

use super::{ClusterTabs, Off};
use crate::dto::{ClusterGroupsView, Outcome};
use crate::pages::admin::{DeniedNotice, OutcomeNotice};
use leptos::prelude::*;
use leptos_meta::Title;

#[server]
pub async fn cluster_groups_page() -> Result<ClusterGroupsView, ServerFnError> {
    use super::guard::{Allowed, admin};
    let state = crate::state::AppState::get()?;
    Ok(match admin(&state, "manage OpenShift groups").await? {
        Allowed::Yes(openshift, _) => ClusterGroupsView::Listed(
            openshift
                .groups()
                .iter()
                .map(|g| (g.metadata.name.clone().unwrap_or_default(), g.users.clone()))
                .collect(),
        ),
        Allowed::Off(reason) => ClusterGroupsView::Off(reason),
        Allowed::Denied(d, _) => ClusterGroupsView::Denied(d),
    })
}

/// `op`: `create`, `delete`, `add` (a `user`) or `remove` (a `user`).
#[server(prefix = "/api", endpoint = "openshift/change_group")]
pub async fn change_cluster_group(op: String, group: String, user: Option<String>) -> Result<Outcome, ServerFnError> {
    use super::guard::{Allowed, admin, record};
    use regent_domain::openshift::check_principal;
    let state = crate::state::AppState::get()?;
    let target = format!("openshift-group:{}", group.chars().take(64).collect::<String>());
    let action = format!("openshift.group.{}", op.chars().take(10).collect::<String>());
    let (openshift, caller) = match admin(&state, "change OpenShift groups").await? {
        Allowed::Yes(o, c) => (o, c),
        Allowed::Off(reason) => return Ok(Outcome::Refused(reason)),
        Allowed::Denied(d, caller) => {
            return Ok(caller.refuse(&state, &action, &target, d).await);
        }
    };
    let refuse = |e: String| Ok(Outcome::Refused(e));
    let group = match check_principal("group", &group) {
        Ok(g) => g,
        Err(e) => return refuse(e),
    };
    let result = match op.as_str() {
        "create" => openshift.create_group(&group).await,
        "delete" => openshift.delete_group(&group).await,
        "add" | "remove" => {
            let user = match check_principal("user", user.as_deref().unwrap_or_default()) {
                Ok(u) => u,
                Err(e) => return refuse(e),
            };
            openshift
                .change_group_user(&group, &user, op == "add")
                .await
                .map(|c| c.message().to_owned())
        }
        other => {
            return refuse(format!(
                "\"{}\" is not a change Regent makes to groups; use create, delete, add or remove.",
                other.chars().take(20).collect::<String>()
            ));
        }
    };
    Ok(record(&state, &caller, &action, &target, result).await)
}

#[component]
pub fn ClusterGroupsPage() -> impl IntoView {
    let change = ServerAction::<ChangeClusterGroup>::new();
    let data = Resource::new(
        move || change.version().get(),
        |_| async move { cluster_groups_page().await },
    );
    view! {
        <Title text="OpenShift groups" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(ClusterGroupsView::Listed(groups)) => view! {
                        <ClusterTabs />
                        <h1>"OpenShift groups"</h1>
                        <OutcomeNotice value=change.value() />
                        {groups.into_iter().map(|(name, users)| view! { <Group name users change /> }).collect_view()}
                        <h2>"New group"</h2>
                        <ActionForm action=change attr:class="admin-form" attr:data-form="create-cluster-group">
                            <input type="hidden" name="op" value="create" />
                            <label>"Group name" <input name="group" required maxlength="253" autocomplete="off" /></label>
                            <button type="submit">"Create group"</button>
                        </ActionForm>
                    }
                    .into_any(),
                    Ok(ClusterGroupsView::Off(reason)) => view! { <Off reason /> }.into_any(),
                    Ok(ClusterGroupsView::Denied(denied)) => view! { <DeniedNotice denied next="/openshift/groups" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the groups: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Group(name: String, users: Vec<String>, change: ServerAction<ChangeClusterGroup>) -> impl IntoView {
    let rows = users
        .into_iter()
        .map(|user| {
            let (group, label, shown, row) = (name.clone(), format!("Remove {user}"), user.clone(), user.clone());
            view! {
                <li data-user=row>
                    {shown}" "
                    <ActionForm action=change attr:class="inline" attr:data-form="remove-cluster-user">
                        <input type="hidden" name="op" value="remove" />
                        <input type="hidden" name="group" value=group />
                        <input type="hidden" name="user" value=user />
                        <button type="submit" class="link">{label}</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    let (add_to, delete) = (name.clone(), name.clone());
    let (summary, button, key) = (format!("Delete {name}…"), format!("Delete {name}"), name.clone());
    view! {
        <section class="group" data-cluster-group=key>
            <h2>{name}</h2>
            <ul>{rows}</ul>
            <ActionForm action=change attr:class="admin-form inline" attr:data-form="add-cluster-user">
                <input type="hidden" name="op" value="add" />
                <input type="hidden" name="group" value=add_to />
                <label>"User" <input name="user" required maxlength="253" autocomplete="off" /></label>
                <button type="submit">"Add user"</button>
            </ActionForm>
            <details class="danger">
                <summary>{summary}</summary>
                <p>"Role bindings that name the group keep its name (and give its access to any new group of that name)."</p>
                <ActionForm action=change attr:class="inline" attr:data-form="delete-cluster-group">
                    <input type="hidden" name="op" value="delete" />
                    <input type="hidden" name="group" value=delete />
                    <button type="submit">{button}</button>
                </ActionForm>
            </details>
        </section>
    }
    .into_any()
}
