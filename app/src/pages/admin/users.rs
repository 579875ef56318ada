//! `/admin/users` and `/admin/users/<name>`: who can sign in, and what each user can do.
//!
//! The list creates users; a user's page disables, enables, promotes, resets the password
//! and deletes (saying first what deleting removes), and answers "what can Greg do?" with
//! every repository the user can see, the level, and the grants and rules behind it.
//! Administrators only; nobody can disable, demote or delete themselves.

use super::{AdminTabs, DeniedNotice, OutcomeNotice};
use crate::dto::{Outcome, UserDetail, UserRow, UserView, UsersView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[cfg(feature = "ssr")]
fn user_row(info: regent_domain::store::UserInfo) -> UserRow {
    UserRow {
        name: info.name.to_string(),
        admin: info.admin,
        disabled: info.disabled,
        service: info.service,
        directory: info.directory,
        created: super::guard::date(info.created_at),
        groups: info
            .groups
            .into_iter()
            .map(|(g, owner)| (g.to_string(), owner))
            .collect(),
    }
}

#[server]
pub async fn users_page() -> Result<UsersView, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    if let Err(denied) = caller.admin_only("manage users") {
        return Ok(UsersView::Denied(denied));
    }
    let users = state.store.users().await.map_err(ServerFnError::new)?;
    let directory = state.sign_ins.directory().map(|d| d.status().sentence());
    Ok(UsersView::Listed {
        users: users.into_iter().map(user_row).collect(),
        directory,
    })
}

#[server]
pub async fn user_page(name: String) -> Result<UserView, ServerFnError> {
    use crate::dto::{REPOSITORIES_SHOWN, ReasonRow};
    use regent_domain::access::{Name, Subject};
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    if let Err(denied) = caller.admin_only("look at users") {
        return Ok(UserView::Denied(denied));
    }
    let name = match Name::parse(&name) {
        Ok(n) => n,
        Err(e) => return Ok(UserView::NotFound(super::guard::sentence(&e.to_string()))),
    };
    let Some(info) = state.store.user(&name).await.map_err(ServerFnError::new)? else {
        return Ok(UserView::NotFound(format!("There is no user named \"{name}\".")));
    };
    let subject = Subject::User(name.clone());
    let grants = caller
        .policy
        .grants
        .iter()
        .filter(|g| g.subject == subject)
        .map(crate::convert::grant_row)
        .collect();
    let namespace = subject.namespace().unwrap_or_default();
    let namespace_grants = caller
        .policy
        .grants
        .iter()
        .filter(|g| g.scope.inside(&namespace))
        .count();
    // What the user can do as they are now; a disabled user can do nothing until enabled,
    // which the page says, but the grants that would apply are still worth seeing.
    let viewer = regent_domain::access::Viewer {
        user: Some(info.name.clone()),
        admin: info.admin,
        groups: info.groups.clone(),
    };
    let access = caller.policy.for_viewer(&viewer);
    let reasons = access
        .scopes()
        .iter()
        .map(|(scope, level, origin)| ReasonRow {
            scope: scope.to_string(),
            level: level.to_string(),
            why: origin.to_string(),
        })
        .collect();
    let created = state.store.created_repositories().await.map_err(ServerFnError::new)?;
    let (repositories, repositories_total) = {
        let data = state.index.read();
        let mut names: Vec<_> = data
            .repositories()
            .map(|(n, _, _)| n.clone())
            .chain(created.into_iter().map(|c| c.name))
            .collect();
        names.sort();
        names.dedup();
        let mut total = 0;
        let mut shown = Vec::new();
        for repository in names {
            if let Some(level) = access.level(&repository) {
                total += 1;
                if shown.len() < REPOSITORIES_SHOWN {
                    shown.push((repository.to_string(), level.to_string()));
                }
            }
        }
        (shown, total)
    };
    Ok(UserView::Found(Box::new(UserDetail {
        is_self: caller.is(name.as_str()),
        user: user_row(info),
        grants,
        namespace_grants,
        reasons,
        repositories,
        repositories_total,
    })))
}

/// One change to a user: `op` is `create`, `create_service` (a service account; the answer
/// holds its token, shown once), `new_token` (for a service account), `disable`, `enable`,
/// `make_admin`, `revoke_admin`, `password` or `delete`.
#[server(prefix = "/api", endpoint = "admin/change_user")]
pub async fn change_user(
    op: String,
    name: String,
    password: Option<String>,
    admin: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use super::guard::{outcome, sentence, ticked};
    use regent_domain::access::Name;
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let target = format!("user:{}", name.chars().take(64).collect::<String>());
    let action = format!("user.{}", op.chars().take(20).collect::<String>());
    if let Err(denied) = caller.admin_only("manage users") {
        return Ok(caller.refuse(&state, &action, &target, denied).await);
    }
    let name = match Name::parse(name.trim()) {
        Ok(n) => n,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("User name: {e}")))),
    };
    if matches!(op.as_str(), "disable" | "revoke_admin" | "delete") && caller.is(name.as_str()) {
        return Ok(Outcome::Refused(
            "You cannot disable, demote or delete yourself; another administrator can.".into(),
        ));
    }
    let store = &state.store;
    let actor = &caller.actor;
    let password = password.unwrap_or_default();
    let service = store
        .user(&name)
        .await
        .map_err(ServerFnError::new)?
        .is_some_and(|u| u.service);
    if service && matches!(op.as_str(), "password" | "make_admin") {
        return Ok(Outcome::Refused(format!(
            "{name} is a service account: it has a token, not a password, and cannot be an administrator; give it grants instead."
        )));
    }
    let result = match op.as_str() {
        "create_service" => store.create_service_account(actor, &name).await.map(|secret| {
            format!(
                "Created the service account {name}. Its token, shown only this once: {secret} \
                 Use it as the password: podman login -u {name} {}",
                state.pull_host
            )
        }),
        "new_token" => store.new_service_token(actor, &name).await.map(|secret| {
            format!("New token for {name}, shown only this once: {secret} The old token no longer works.")
        }),
        "create" => store
            .create_user(actor, &name, &password, ticked(&admin))
            .await
            .map(|u| {
                format!(
                    "Created {}{}.",
                    u.name,
                    if u.admin { " as an administrator" } else { "" }
                )
            }),
        "disable" => store
            .set_disabled(actor, &name, true)
            .await
            .map(|()| format!("Disabled {name}: they cannot sign in, and their sessions have ended.")),
        "enable" => store
            .set_disabled(actor, &name, false)
            .await
            .map(|()| format!("Enabled {name}.")),
        "make_admin" => store
            .set_admin(actor, &name, true)
            .await
            .map(|()| format!("{name} is now an administrator.")),
        "revoke_admin" => store
            .set_admin(actor, &name, false)
            .await
            .map(|()| format!("{name} is no longer an administrator.")),
        "password" => store
            .set_password(actor, &name, &password)
            .await
            .map(|()| format!("Set a new password for {name}: their sessions and registry logins have ended.")),
        "delete" => store.delete_user(actor, &name).await.map(|r| {
            leptos_axum::redirect("/admin/users");
            format!(
                "Deleted {name} with {} group membership(s), {} grant(s) to them and {} grant(s) on users/{name}/*.",
                r.memberships, r.grants, r.namespace_grants
            )
        }),
        other => {
            return Ok(Outcome::Refused(format!(
                "\"{}\" is not a change Regent makes to users.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    outcome(result)
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let change = ServerAction::<ChangeUser>::new();
    let data = Resource::new(move || change.version().get(), |_| async move { users_page().await });
    view! {
        <Title text="Users" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(UsersView::Listed { users, directory }) => view! {
                        <AdminTabs admin=true />
                        <h1>"Users"</h1>
                        <OutcomeNotice value=change.value() />
                        {directory.map(|state| view! {
                            <p class="hint" data-directory="state">
                                {format!("{state} Its users sign in with their directory password and appear here after their first sign-in. ")}
                                <a href="/admin/directory">"The company directory"</a>
                            </p>
                        })}
                        <UserList users />
                        <h2>"Add a user"</h2>
                        <ActionForm action=change attr:class="admin-form" attr:data-form="create-user">
                            <input type="hidden" name="op" value="create" />
                            <label>"User name" <input name="name" required maxlength="64" autocomplete="off" /></label>
                            <label>"Password (at least 10 characters)" <input type="password" name="password" required autocomplete="new-password" /></label>
                            <label class="check"><input type="checkbox" name="admin" value="on" /> "Administrator"</label>
                            <button type="submit">"Add user"</button>
                        </ActionForm>
                        <h2>"Add a service account"</h2>
                        <p class="hint">"For CI jobs and cluster nodes: it logs in to the registry with a generated token (shown once) and gets access through grants, like a user. It cannot sign in here."</p>
                        <ActionForm action=change attr:class="admin-form" attr:data-form="create-service">
                            <input type="hidden" name="op" value="create_service" />
                            <label>"Name" <input name="name" required maxlength="64" autocomplete="off" /></label>
                            <button type="submit">"Add service account"</button>
                        </ActionForm>
                    }
                    .into_any(),
                    Ok(UsersView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/users" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the users: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserList(users: Vec<UserRow>) -> impl IntoView {
    view! {
        <table class="admin-table" data-table="users">
            <thead><tr><th>"Name"</th><th>"Role"</th><th>"Status"</th><th>"Groups"</th><th>"Created"</th></tr></thead>
            <tbody>
                {users.into_iter().map(|u| view! {
                    <tr data-user=u.name.clone()>
                        <td><a href=format!("/admin/users/{}", u.name)>{u.name.clone()}</a></td>
                        <td>{role(&u)}</td>
                        <td>{if u.disabled { "disabled" } else { "active" }}</td>
                        <td>{group_list(&u.groups)}</td>
                        <td>{u.created}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn role(user: &UserRow) -> &'static str {
    match (user.admin, user.service, user.directory) {
        (true, _, false) => "administrator",
        (true, _, true) => "administrator (from the directory)",
        (false, true, _) => "service account",
        (false, false, true) => "user (from the directory)",
        (false, false, false) => "user",
    }
}

fn group_list(groups: &[(String, bool)]) -> String {
    if groups.is_empty() {
        return "—".into();
    }
    groups
        .iter()
        .map(|(g, owner)| if *owner { format!("{g} (owner)") } else { g.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let change = ServerAction::<ChangeUser>::new();
    let data = Resource::new(
        move || {
            (
                params.with(|p| p.get("name").unwrap_or_default()),
                change.version().get(),
            )
        },
        |(name, _)| async move { user_page(name).await },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(UserView::Found(detail)) => view! {
                        <AdminTabs admin=true />
                        <UserDetailView detail=*detail change />
                    }
                    .into_any(),
                    Ok(UserView::NotFound(message)) => {
                        #[cfg(feature = "ssr")]
                        if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                            r.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                            <Title text="User not found" />
                            <h1>"User not found"</h1>
                            <OutcomeNotice value=change.value() />
                            <p>{message}</p>
                            <p><a href="/admin/users">"All users"</a></p>
                        }
                        .into_any()
                    }
                    Ok(UserView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/users" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load this user: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A one-button form making change `op` to user `name`.
fn op_form(change: ServerAction<ChangeUser>, name: String, op: &'static str, label: String) -> impl IntoView {
    view! {
        <ActionForm action=change attr:class="inline" attr:data-form=op>
            <input type="hidden" name="op" value=op />
            <input type="hidden" name="name" value=name />
            <button type="submit">{label}</button>
        </ActionForm>
    }
}

#[component]
fn UserDetailView(detail: UserDetail, change: ServerAction<ChangeUser>) -> impl IntoView {
    let UserDetail {
        user,
        grants,
        namespace_grants,
        reasons,
        repositories,
        repositories_total,
        is_self,
    } = detail;
    let who = user.name.clone();
    let op_form = {
        let who = who.clone();
        move |op: &'static str, label: String| op_form(change, who.clone(), op, label)
    };
    let removes = format!(
        "Deleting {who} also removes their {} group membership(s), the {} grant(s) made to them by name, \
         and the {namespace_grants} grant(s) on repositories in users/{who}/ (to anyone), and ends their \
         sessions and registry logins. A user created later with the name {who} is someone new and \
         inherits none of these. The images in users/{who}/ stay in the registry, and by the built-in \
         rule users/{who}/* belongs to whoever is called {who}: delete them first if a new {who} must \
         not see them. This cannot be undone.",
        user.groups.len(),
        grants.len()
    );
    let (title, password_for, password_for_directory) = (format!("User {who}"), who.clone(), who.clone());
    let (can_do, can_see) = (
        format!("What can {who} do?"),
        format!("Repositories {who} can see ({repositories_total})"),
    );
    let (delete_summary, delete_label) = (format!("Delete {who}…"), format!("Delete {who}"));
    view! {
        <Title text=title />
        <h1>"User " <span class="user-name">{who.clone()}</span></h1>
        <OutcomeNotice value=change.value() />
        <dl class="facts">
            <div><dt>"Role"</dt><dd data-fact="role">{role(&user)}</dd></div>
            <div><dt>"Status"</dt><dd data-fact="status">{if user.disabled { "disabled: cannot sign in" } else { "active" }}</dd></div>
            <div><dt>"Groups"</dt><dd data-fact="groups">{group_list(&user.groups)}</dd></div>
            <div><dt>"Created"</dt><dd>{user.created.clone()}</dd></div>
        </dl>
        <div class="actions">
            {(!is_self).then(|| view! {
                {if user.disabled { op_form("enable", "Enable".into()) } else { op_form("disable", "Disable".into()) }}
                {match (user.service, user.admin) {
                    (true, _) => op_form("new_token", "New token".into()).into_any(),
                    (false, true) => op_form("revoke_admin", "Revoke administrator".into()).into_any(),
                    (false, false) => op_form("make_admin", "Make administrator".into()).into_any(),
                }}
            })}
        </div>
        {(user.directory).then(|| view! {
            <h2>"Password"</h2>
            <p class="hint" data-directory="password">{format!("{password_for_directory} signs in with the company directory and has no Regent password: change it in the directory. Their groups from the directory are updated at each sign-in.")}</p>
        })}
        {(!user.service && !user.directory).then(|| view! {
            <h2>"Reset password"</h2>
            <ActionForm action=change attr:class="admin-form" attr:data-form="password">
                <input type="hidden" name="op" value="password" />
                <input type="hidden" name="name" value=password_for />
                <label>"New password (at least 10 characters)" <input type="password" name="password" required autocomplete="new-password" /></label>
                <button type="submit">"Set password"</button>
            </ActionForm>
        })}
        <h2>{can_do}</h2>
        {user.disabled.then(|| view! { <p class="notice warning">"Disabled: none of this applies until the user is enabled again."</p> })}
        {if user.admin {
            view! { <p data-access="admin">"Everything: administrators may read, push, delete and manage every repository."</p> }.into_any()
        } else {
            view! {
                <table class="admin-table" data-table="reasons">
                    <thead><tr><th>"Scope"</th><th>"Level"</th><th>"Because of"</th></tr></thead>
                    <tbody>
                        {reasons.into_iter().map(|r| view! {
                            <tr><td><a href=format!("/admin/access?scope={}", crate::dto::encode_query_value(&r.scope))>{r.scope.clone()}</a></td><td>{r.level}</td><td>{r.why}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h3>{can_see}</h3>
        {(repositories_total > repositories.len()).then(|| view! {
            <p class="hint">{format!("The first {} by name.", repositories.len())}</p>
        })}
        <table class="admin-table" data-table="repositories">
            <thead><tr><th>"Repository"</th><th>"Level"</th></tr></thead>
            <tbody>
                {repositories.into_iter().map(|(repository, level)| view! {
                    <tr data-repository=repository.clone()>
                        <td><a href=crate::dto::repository_href(&repository)>{repository.clone()}</a></td>
                        <td>{level}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {(!is_self).then(move || view! {
            <details class="danger">
                <summary>{delete_summary}</summary>
                <p>{removes}</p>
                {op_form("delete", delete_label)}
            </details>
        })}
    }
    .into_any()
}
