//! `/admin/directory` (administrators): the company directory as Regent uses it — the
//! settings in effect (the service account's password hidden), whether it answers, the last
//! error, and "check a user", which shows the DN and groups the directory returns for a name
//! without needing their password (each check is in the audit log).

use super::{AdminTabs, DeniedNotice};
use crate::dto::{DirectoryCheck, DirectoryDetail, DirectoryView};
use leptos::prelude::*;
use leptos_meta::Title;

#[server]
pub async fn directory_page() -> Result<DirectoryView, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    if let Err(denied) = caller.admin_only("see the company directory's settings") {
        return Ok(DirectoryView::Denied(denied));
    }
    let Some(directory) = state.sign_ins.directory() else {
        return Ok(DirectoryView::Off);
    };
    // Ask once, so the page shows the state as of now.
    let _ = directory.probe().await;
    let status = directory.status();
    Ok(DirectoryView::Shown(DirectoryDetail {
        state: status.sentence(),
        reachable: status.reachable,
        settings: directory
            .settings()
            .describe()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        last_error: status
            .last_error
            .map(|(at, message)| format!("{} — {message}", super::guard::date(at))),
        user_binds: status.user_binds,
        connections: format!("{} open of at most {}", status.open_connections, status.pool_size),
    }))
}

#[server(prefix = "/api", endpoint = "admin/check_directory_user")]
pub async fn check_directory_user(name: String) -> Result<DirectoryCheck, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    let target = format!("user:{}", name.chars().take(64).collect::<String>());
    if let Err(denied) = caller.admin_only("check users in the company directory") {
        let (crate::dto::Outcome::Refused(message) | crate::dto::Outcome::Done(message)) =
            caller.refuse(&state, "directory.check", &target, denied).await;
        return Ok(DirectoryCheck::Refused(message));
    }
    let Some(directory) = state.sign_ins.directory() else {
        return Ok(DirectoryCheck::Refused(
            "Regent has no company directory (directory.url is not set).".into(),
        ));
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Ok(DirectoryCheck::Refused("Type the user name to check.".into()));
    }
    Ok(match directory.check_user(&state.store, &caller.actor, &name).await {
        Ok(Some(account)) => DirectoryCheck::Found {
            name,
            dn: account.dn,
            groups: account.groups,
            disabled: account.disabled,
        },
        Ok(None) => DirectoryCheck::Refused(format!(
            "The directory has no user \"{name}\" (no entry, or more than one, matches the user filter)."
        )),
        Err(e) => DirectoryCheck::Refused(super::guard::sentence(&e.to_string())),
    })
}

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| async move { directory_page().await });
    view! {
        <Title text="Company directory" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(DirectoryView::Shown(detail)) => view! {
                        <AdminTabs admin=true />
                        <DirectoryDetailView detail />
                    }
                    .into_any(),
                    Ok(DirectoryView::Off) => view! {
                        <AdminTabs admin=true />
                        <h1>"Company directory"</h1>
                        <p data-directory="off">"No company directory is set up: only Regent's own users sign in. Set directory.url and the service account (README, Configuration) to let the company's LDAP or Active Directory users sign in."</p>
                    }
                    .into_any(),
                    Ok(DirectoryView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/directory" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the directory's state: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DirectoryDetailView(detail: DirectoryDetail) -> impl IntoView {
    let check = ServerAction::<CheckDirectoryUser>::new();
    let class = match detail.reachable {
        Some(false) => "notice error",
        _ => "notice",
    };
    view! {
        <h1>"Company directory"</h1>
        <p class=class data-directory="state">{detail.state}</p>
        <dl class="facts">
            <div><dt>"Last error"</dt><dd data-fact="last-error">{detail.last_error.unwrap_or_else(|| "none".into())}</dd></div>
            <div><dt>"Connections"</dt><dd data-fact="connections">{detail.connections}</dd></div>
            <div><dt>"Password checks with the directory"</dt><dd data-fact="binds">{detail.user_binds.to_string()}</dd></div>
        </dl>
        <h2>"Settings in effect"</h2>
        <table class="admin-table" data-table="directory-settings">
            <thead><tr><th>"Setting"</th><th>"Value"</th></tr></thead>
            <tbody>
                {detail.settings.into_iter().map(|(k, v)| view! { <tr><td><code>{k}</code></td><td>{v}</td></tr> }).collect_view()}
            </tbody>
        </table>
        <h2>"Check a user"</h2>
        <p class="hint">"What the directory returns for a name: the entry's DN, its groups (nested ones included) and whether it is disabled. No password needed; the check is in the audit log."</p>
        <ActionForm action=check attr:class="admin-form" attr:data-form="check-directory-user">
            <label>"User name" <input name="name" required maxlength="256" autocomplete="off" /></label>
            <button type="submit">"Check"</button>
        </ActionForm>
        {move || check.value().get().map(|answer| match answer {
            Ok(DirectoryCheck::Found { name, dn, groups, disabled }) => view! {
                <dl class="facts" data-directory="checked">
                    <div><dt>"User"</dt><dd>{name}</dd></div>
                    <div><dt>"DN"</dt><dd data-fact="dn">{dn}</dd></div>
                    <div><dt>"Groups"</dt><dd data-fact="groups">{if groups.is_empty() { "none".to_owned() } else { groups.join(", ") }}</dd></div>
                    <div><dt>"State"</dt><dd data-fact="disabled">{if disabled { "disabled in the directory: cannot sign in" } else { "enabled" }}</dd></div>
                </dl>
            }
            .into_any(),
            Ok(DirectoryCheck::Refused(message)) => view! { <p class="notice error" data-directory="checked">{message}</p> }.into_any(),
            Err(e) => view! { <p class="notice error">{format!("The check failed: {e}")}</p> }.into_any(),
        })}
    }
    .into_any()
}
