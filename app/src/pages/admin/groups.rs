//! `/admin/groups`: groups, their members and owners, and the grants made to each.
//!
//! A grant to a group applies to every member; owners also administer the group's own
//! namespace `groups/<group>/*`. Administrators manage every group; a group's owners see their
//! groups here and add and remove members (team leads running their own team). Groups from
//! the company directory show their members without the forms: the directory says who is in
//! them (the store refuses such changes too).

use super::{AdminTabs, DeniedNotice, OutcomeNotice};
use crate::dto::{GroupRow, GroupsView, Outcome};
use leptos::prelude::*;
use leptos_meta::Title;

#[server]
pub async fn groups_page() -> Result<GroupsView, ServerFnError> {
    use regent_domain::access::Subject;
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let admin = caller.viewer.admin;
    if !admin && !caller.viewer.groups.iter().any(|(_, owner)| *owner) {
        return Ok(GroupsView::Denied(
            caller.denied("Only administrators and group owners can manage groups"),
        ));
    }
    let groups: Vec<_> = state
        .store
        .groups()
        .await
        .map_err(ServerFnError::new)?
        .into_iter()
        .filter(|g| admin || owns(&caller, &g.name))
        .collect();
    let users = state.store.users().await.map_err(ServerFnError::new)?;
    Ok(GroupsView::Listed {
        groups: groups
            .into_iter()
            .map(|g| {
                let subject = Subject::Group(g.name.clone());
                let namespace = subject.namespace().unwrap_or_default();
                GroupRow {
                    grants: caller
                        .policy
                        .grants
                        .iter()
                        .filter(|grant| grant.subject == subject)
                        .map(crate::convert::grant_row)
                        .collect(),
                    namespace_grants: caller
                        .policy
                        .grants
                        .iter()
                        .filter(|grant| grant.scope.inside(&namespace))
                        .count(),
                    name: g.name.to_string(),
                    created: super::guard::date(g.created_at),
                    directory: g.directory,
                    members: g.members.into_iter().map(|(m, owner)| (m.to_string(), owner)).collect(),
                }
            })
            .collect(),
        users: users.into_iter().map(|u| u.name.to_string()).collect(),
        admin,
    })
}

/// Whether the caller owns `group`.
#[cfg(feature = "ssr")]
fn owns(caller: &super::guard::Caller, group: &regent_domain::access::Name) -> bool {
    caller.viewer.groups.iter().any(|(g, owner)| *owner && g == group)
}

/// One change to a group: `op` is `create`, `delete`, `add` (a member, `owner` ticked to make
/// them an owner) or `remove` (a member).
#[server(prefix = "/api", endpoint = "admin/change_group")]
pub async fn change_group(
    op: String,
    group: String,
    user: Option<String>,
    owner: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use super::guard::{outcome, sentence, ticked};
    use regent_domain::access::Name;
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let target = format!("group:{}", group.chars().take(64).collect::<String>());
    let action = format!("group.{}", op.chars().take(20).collect::<String>());
    let group = match Name::parse(group.trim()) {
        Ok(n) => n,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("Group name: {e}")))),
    };
    // Owners manage their group's members; creating and deleting groups is for administrators.
    let owner_may = matches!(op.as_str(), "add" | "remove") && owns(&caller, &group);
    if !owner_may && let Err(denied) = caller.admin_only("create and delete groups, or change groups they do not own") {
        return Ok(caller.refuse(&state, &action, &target, denied).await);
    }
    let member = || match Name::parse(user.as_deref().unwrap_or_default().trim()) {
        Ok(n) => Ok(n),
        Err(e) => Err(Outcome::Refused(sentence(&format!("User name: {e}")))),
    };
    let store = &state.store;
    let actor = &caller.actor;
    let result = match op.as_str() {
        "create" => store
            .create_group(actor, &group)
            .await
            .map(|()| format!("Created the group {group}.")),
        "delete" => store.delete_group(actor, &group).await.map(|r| {
            format!(
                "Deleted the group {group} with {} membership(s), {} grant(s) to it and {} grant(s) on groups/{group}/*.",
                r.memberships, r.grants, r.namespace_grants
            )
        }),
        "add" | "remove" => {
            let user = match member() {
                Ok(u) => u,
                Err(refusal) => return Ok(refusal),
            };
            if op == "add" {
                let owner = ticked(&owner);
                store.add_member(actor, &group, &user, owner).await.map(|()| {
                    format!(
                        "{user} is now {} of {group}.",
                        if owner { "an owner" } else { "a member" }
                    )
                })
            } else {
                store
                    .remove_member(actor, &group, &user)
                    .await
                    .map(|()| format!("Removed {user} from {group}."))
            }
        }
        other => {
            return Ok(Outcome::Refused(format!(
                "\"{}\" is not a change Regent makes to groups.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    outcome(result)
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let change = ServerAction::<ChangeGroup>::new();
    let data = Resource::new(move || change.version().get(), |_| async move { groups_page().await });
    view! {
        <Title text="Groups" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(GroupsView::Listed { groups, users, admin }) => view! {
                        <AdminTabs admin />
                        <h1>"Groups"</h1>
                        <OutcomeNotice value=change.value() />
                        <datalist id="user-names">
                            {users.into_iter().map(|u| view! { <option value=u /> }).collect_view()}
                        </datalist>
                        {if groups.is_empty() {
                            view! { <p>"No groups yet."</p> }.into_any()
                        } else {
                            groups.into_iter().map(|g| view! { <Group group=g change admin /> }).collect_view().into_any()
                        }}
                        {admin.then(|| view! {
                            <h2>"Add a group"</h2>
                            <ActionForm action=change attr:class="admin-form" attr:data-form="create-group">
                                <input type="hidden" name="op" value="create" />
                                <label>"Group name" <input name="group" required maxlength="64" autocomplete="off" /></label>
                                <button type="submit">"Add group"</button>
                            </ActionForm>
                        })}
                    }
                    .into_any(),
                    Ok(GroupsView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/groups" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the groups: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Group(group: GroupRow, change: ServerAction<ChangeGroup>, admin: bool) -> impl IntoView {
    let name = group.name.clone();
    let removes = format!(
        "Deleting {name} removes its {} membership(s), the {} grant(s) made to it and the {} grant(s) on \
         repositories in groups/{name}/; the users and images stay. A group created later with the name \
         {name} inherits none of these grants.",
        group.members.len(),
        group.grants.len(),
        group.namespace_grants
    );
    let grants = if group.grants.is_empty() {
        "no grants".to_owned()
    } else {
        group
            .grants
            .iter()
            .map(|g| format!("{} on {}", g.level, g.scope))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (id, namespace) = (format!("group-{name}"), format!("/admin/access?scope=groups/{name}/*"));
    let (summary, delete) = (format!("Delete {name}…"), format!("Delete {name}"));
    let from_directory = group.directory;
    let members = group
        .members
        .into_iter()
        .map({
            let name = name.clone();
            move |(user, owner)| {
                let group = name.clone();
                let (href, label, row) = (format!("/admin/users/{user}"), format!("Remove {user}"), user.clone());
                view! {
                    <tr data-member=row>
                        <td><a href=href>{user.clone()}</a></td>
                        <td>{if owner { "owner" } else { "member" }}</td>
                        <td>
                            {(!from_directory).then(|| view! {
                                <ActionForm action=change attr:class="inline" attr:data-form="remove-member">
                                    <input type="hidden" name="op" value="remove" />
                                    <input type="hidden" name="group" value=group />
                                    <input type="hidden" name="user" value=user />
                                    <button type="submit">{label}</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }
        })
        .collect_view();
    let (add_to, delete_from) = (name.clone(), name.clone());
    view! {
        <section class="group" id=id data-group=name.clone()>
            <h2>{name.clone()} {from_directory.then(|| view! { <span class="badge" data-directory="group">"from the directory"</span> })}</h2>
            <p class="hint">
                {format!("Created {}; {grants}. ", group.created)}
                <a href=namespace>"Access to its namespace"</a>
            </p>
            <table class="admin-table" data-table="members">
                <thead><tr><th>"Member"</th><th>"Role"</th><th></th></tr></thead>
                <tbody>
                    {members}
                </tbody>
            </table>
            {if from_directory {
                view! {
                    <p class="hint" data-directory="members">"From the company directory: its members are who the directory says, as of each member's last sign-in or registry login. Change them in the directory; grants to this group work as for any group."</p>
                }.into_any()
            } else {
                view! {
                    <ActionForm action=change attr:class="admin-form inline" attr:data-form="add-member">
                        <input type="hidden" name="op" value="add" />
                        <input type="hidden" name="group" value=add_to />
                        <label>"User" <input name="user" list="user-names" required maxlength="64" autocomplete="off" /></label>
                        <label class="check"><input type="checkbox" name="owner" value="on" /> "Owner"</label>
                        <button type="submit">"Add member"</button>
                    </ActionForm>
                }.into_any()
            }}
            {admin.then(|| view! {
                <details class="danger">
                    <summary>{summary}</summary>
                    <p>{removes}</p>
                    <ActionForm action=change attr:class="inline" attr:data-form="delete-group">
                        <input type="hidden" name="op" value="delete" />
                        <input type="hidden" name="group" value=delete_from />
                        <button type="submit">{delete}</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
    .into_any()
}
