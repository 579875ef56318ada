//! `/admin/access?scope=…`: who may do what on a repository or namespace, and changing it.
//!
//! For one repository the page lists every user's effective level and the grants and rules
//! behind it (direct and through groups); for any scope it lists the grants on and around it
//! with forms to add, change and remove them. Repositories are created here before anything
//! is pushed (they show on the Images page as empty). Administrators manage everything; a
//! user who administers a scope (their own `users/<name>/*` at least) manages grants and
//! repositories inside it.

use super::{AdminTabs, DeniedNotice, OutcomeNotice};
use crate::dto::{AccessDetail, AccessView, GrantRow, Outcome};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn access_page(scope: String) -> Result<AccessView, ServerFnError> {
    use regent_domain::access::{OverviewError, Scope, overview};
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let (asked, problem) = match scope.trim() {
        "" => (None, None),
        text => match Scope::parse(text) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(super::guard::sentence(&format!("Scope: {e}")))),
        },
    };
    let (policy, viewer, access) = (&caller.policy, &caller.viewer, &caller.access);
    match overview(&state.store, &state.index, policy, viewer, access, asked.as_ref()).await {
        Ok(found) => Ok(AccessView::Found(Box::new(crate::convert::access_detail(
            found,
            scope.trim().chars().take(300).collect(),
            problem,
        )))),
        Err(e @ OverviewError::NotAdministrator) => Ok(AccessView::Denied(caller.denied(&e.to_string()))),
        Err(OverviewError::Store(e)) => Err(ServerFnError::new(e)),
    }
}

/// Adds or changes (`op=put`) or removes (`op=remove`) the grant of `subject` on `scope`.
#[server(prefix = "/api", endpoint = "admin/change_grant")]
pub async fn change_grant(
    op: String,
    subject: String,
    scope: String,
    level: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use super::guard::{outcome, sentence};
    use regent_domain::access::{Grant, Level, Scope, Subject};
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let action = format!("grant.{}", op.chars().take(20).collect::<String>());
    let scope = match Scope::parse(&scope) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("Scope: {e}")))),
    };
    if !caller.access.administers(&scope) {
        let denied = caller.denied(&format!("You may not manage access to {scope}"));
        return Ok(caller.refuse(&state, &action, &scope.to_string(), denied).await);
    }
    let subject = match Subject::parse(&subject) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("Subject: {e}")))),
    };
    let store = &state.store;
    let result = match op.as_str() {
        "put" => {
            let level = match Level::parse(level.as_deref().unwrap_or_default()) {
                Ok(l) => l,
                Err(e) => return Ok(Outcome::Refused(sentence(&format!("Level: {e}")))),
            };
            let grant = Grant {
                subject: subject.clone(),
                scope: scope.clone(),
                level,
            };
            store
                .put_grant(&caller.actor, &grant)
                .await
                .map(|()| format!("{subject} now has {level} on {scope}."))
        }
        "remove" => store
            .remove_grant(&caller.actor, &subject, &scope)
            .await
            .map(|()| format!("Removed the grant of {subject} on {scope}.")),
        other => {
            return Ok(Outcome::Refused(format!(
                "\"{}\" is not a change Regent makes to grants.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    outcome(result)
}

/// Creates a repository in Regent before its first push, then shows its access.
#[server(prefix = "/api", endpoint = "admin/create_repository")]
pub async fn create_repository(name: String) -> Result<Outcome, ServerFnError> {
    use super::guard::{outcome, sentence};
    use regent_domain::access::Scope;
    use regent_domain::reference::RepositoryName;
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let name = match RepositoryName::parse(name.trim()) {
        Ok(n) => n,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("Repository name: {e}")))),
    };
    if !caller.access.administers(&Scope::Repository(name.clone())) {
        let denied = caller.denied(&format!("You may not create repositories at {name}"));
        return Ok(caller.refuse(&state, "repository.create", name.as_str(), denied).await);
    }
    if state.index.read().has_repository(&name) {
        return Ok(Outcome::Refused(format!(
            "{name} exists in the registry already; grant access to it below."
        )));
    }
    let result = state.store.create_repository(&caller.actor, &name).await.map(|()| {
        leptos_axum::redirect(&format!(
            "/admin/access?scope={}",
            crate::dto::encode_query_value(name.as_str())
        ));
        format!("Created {name}. It shows on the Images page as empty until the first push; grant access to it here.")
    });
    outcome(result)
}

const LEVELS: [&str; 4] = ["read", "write", "delete", "admin"];

fn level_select(selected: Option<String>) -> impl IntoView {
    view! {
        <select name="level" required>
            {LEVELS.map(|l| view! { <option value=l selected=selected.as_deref() == Some(l)>{l}</option> }).collect_view()}
        </select>
    }
}

/// A grant with forms to change its level and to remove it.
fn editable_grant_row(g: GrantRow, grant: ServerAction<ChangeGrant>) -> impl IntoView {
    let key = format!("{} {}", g.subject, g.scope);
    let href = format!("/admin/access?scope={}", crate::dto::encode_query_value(&g.scope));
    let hidden = |g: &GrantRow| {
        let (subject, scope) = (g.subject.clone(), g.scope.clone());
        view! {
            <input type="hidden" name="subject" value=subject />
            <input type="hidden" name="scope" value=scope />
        }
    };
    let (change_fields, remove_fields) = (hidden(&g), hidden(&g));
    let level = g.level.clone();
    view! {
        <tr data-grant=key>
            <td>{g.subject}</td>
            <td><a href=href>{g.scope}</a></td>
            <td>
                <ActionForm action=grant attr:class="inline" attr:data-form="change-grant">
                    <input type="hidden" name="op" value="put" />
                    {change_fields}
                    {level_select(Some(level))}
                    <button type="submit">"Change"</button>
                </ActionForm>
            </td>
            <td>
                <ActionForm action=grant attr:class="inline" attr:data-form="remove-grant">
                    <input type="hidden" name="op" value="remove" />
                    {remove_fields}
                    <button type="submit">"Remove"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
pub fn AccessPage() -> impl IntoView {
    let query = use_query_map();
    let grant = ServerAction::<ChangeGrant>::new();
    let create = ServerAction::<CreateRepository>::new();
    let data = Resource::new(
        move || {
            (
                query.with(|q| q.get("scope").unwrap_or_default()),
                grant.version().get(),
                create.version().get(),
            )
        },
        |(scope, _, _)| async move { access_page(scope).await },
    );
    view! {
        <Title text="Access" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(AccessView::Found(detail)) => view! { <AccessDetailView detail=*detail grant create /> }.into_any(),
                    Ok(AccessView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/access" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load access: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AccessDetailView(
    detail: AccessDetail,
    grant: ServerAction<ChangeGrant>,
    create: ServerAction<CreateRepository>,
) -> impl IntoView {
    let AccessDetail {
        scope,
        problem,
        administered,
        grants,
        effective,
        effective_hidden,
        created,
        subjects,
    } = detail;
    let admin = administered == ["*"];
    let heading = if scope.is_empty() || problem.is_some() {
        "Access".to_owned()
    } else {
        format!("Access to {scope}")
    };
    let default_scope = if problem.is_none() {
        scope.clone()
    } else {
        String::new()
    };
    view! {
        <AdminTabs admin />
        <h1>{heading}</h1>
        <OutcomeNotice value=grant.value() />
        <OutcomeNotice value=create.value() />
        {problem.map(|p| view! { <p class="notice error" role="alert">{p}</p> })}
        <p class="hint">
            {if admin {
                "You administer every repository.".to_owned()
            } else {
                format!("You manage access inside: {}.", administered.join(", "))
            }}
        </p>
        <Form method="GET" action="/admin/access" attr:class="admin-form inline">
            <label>"Repository or namespace" <input name="scope" value=scope.clone() placeholder="skyfield, team/*" /></label>
            <button type="submit">"Show"</button>
        </Form>
        {effective.map(|rows| view! {
            <h2>"Who can do what"</h2>
            {if rows.is_empty() {
                view! { <p data-effective="none">{if effective_hidden == 0 { "Nobody but administrators can see this repository." } else { "Nobody you manage access for can see this repository." }}</p> }.into_any()
            } else {
                view! {
                    <table class="admin-table" data-table="effective">
                        <thead><tr><th>"Who"</th><th>"Level"</th><th>"Because of"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let (who, level) = (r.who.clone(), r.level.clone());
                                view! {
                                    <tr data-who=who data-level=level>
                                        <td>{r.who}</td><td>{r.level}</td><td>{r.why.join("; ")}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {(effective_hidden > 0).then(|| view! {
                <p class="muted" data-effective-hidden=effective_hidden>
                    {format!(
                        "And {effective_hidden} more (administrators, or grants outside the scopes you manage): ask an administrator for the whole list."
                    )}
                </p>
            })}
        })}
        <h2>"Grants"</h2>
        <datalist id="subjects">{subjects.into_iter().map(|s| view! { <option value=s /> }).collect_view()}</datalist>
        <table class="admin-table" data-table="grants">
            <thead><tr><th>"Subject"</th><th>"Scope"</th><th>"Level"</th><th></th></tr></thead>
            <tbody>
                {grants.into_iter().map(|g| editable_grant_row(g, grant)).collect_view()}
            </tbody>
        </table>
        <h3>"Grant access"</h3>
        <ActionForm action=grant attr:class="admin-form" attr:data-form="add-grant">
            <input type="hidden" name="op" value="put" />
            <label>"Who (user:name, group:name, authenticated, anonymous)" <input name="subject" list="subjects" required maxlength="80" autocomplete="off" /></label>
            <label>"Repository or namespace" <input name="scope" value=default_scope required maxlength="300" placeholder="skyfield, team/*" /></label>
            <label>"Level" {level_select(None)}</label>
            <button type="submit">"Grant"</button>
        </ActionForm>
        <h2>"Repositories created in Regent"</h2>
        <table class="admin-table" data-table="created">
            <thead><tr><th>"Repository"</th><th>"Created by"</th><th>"Created"</th><th>"Tags"</th></tr></thead>
            <tbody>
                {created.into_iter().map(|c| view! {
                    <tr data-repository=c.name.clone()>
                        <td><a href=format!("/admin/access?scope={}", crate::dto::encode_query_value(&c.name))>{c.name.clone()}</a></td>
                        <td>{c.created_by}</td>
                        <td>{c.created}</td>
                        <td>{if c.tags == 0 { "empty".to_owned() } else { c.tags.to_string() }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <ActionForm action=create attr:class="admin-form inline" attr:data-form="create-repository">
            <label>"New repository" <input name="name" required maxlength="255" placeholder="skyfield" autocomplete="off" /></label>
            <button type="submit">"Create repository"</button>
        </ActionForm>
    }
    .into_any()
}
