//! Signing in and out.
//!
//! `/login` posts the user name and password to the `login` server function (a plain form,
//! so it works before the WASM loads). Success rotates the session id and goes to `next` (a
//! path on this site only); failure says "wrong user name or password" whether or not the
//! user exists. The checking itself (throttle, hashing bound, audit) is the domain's
//! `SignIns`, shared with the registry's token endpoint; this page adds the session.

use crate::dto::Who;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What a sign-in attempt came to (a refusal is an answer, not an error).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignIn {
    Welcome(String),
    Refused(String),
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<SignIn, ServerFnError> {
    use crate::session::{CREDENTIAL, SIGNED_IN_AT, USER, client_address, session, unix_now};
    use regent_domain::access::{Attempt, Door, Refused};
    let state = crate::state::AppState::get()?;
    let address = client_address().await;
    let attempt = Attempt {
        door: Door::Pages,
        user: username.trim(),
        password: &password,
        address: &address,
    };
    let signed_in = match state.sign_ins.sign_in(attempt).await {
        Ok(signed_in) => signed_in,
        Err(Refused::Store(e)) => return Err(ServerFnError::new(e)),
        Err(Refused::WrongCredentials) => return Ok(SignIn::Refused("Wrong user name or password.".into())),
        Err(busy @ Refused::Busy(wait)) => {
            // Nothing was checked: an error status, so scripts and proxies retry it.
            let response = expect_context::<leptos_axum::ResponseOptions>();
            response.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
            if let Ok(seconds) = axum::http::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.insert_header(axum::http::header::RETRY_AFTER, seconds);
            }
            return Err(ServerFnError::new(sentence(&busy.to_string())));
        }
        Err(refused) => return Ok(SignIn::Refused(sentence(&refused.to_string()))),
    };
    let Some(viewer) = signed_in.viewer.user else {
        return Ok(SignIn::Refused("Wrong user name or password.".into()));
    };
    let session = session().await?;
    // A new id on sign-in: a session id planted before cannot be used afterwards.
    session.cycle_id().await.map_err(ServerFnError::new)?;
    session
        .insert(USER, viewer.as_str())
        .await
        .map_err(ServerFnError::new)?;
    session
        .insert(CREDENTIAL, signed_in.credential.to_string())
        .await
        .map_err(ServerFnError::new)?;
    session
        .insert(SIGNED_IN_AT, unix_now())
        .await
        .map_err(ServerFnError::new)?;
    leptos_axum::redirect(regent_domain::access::LocalPath::after_sign_in(next.as_deref()).as_str());
    Ok(SignIn::Welcome(viewer.to_string()))
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use regent_domain::store::Actor;
    let state = crate::state::AppState::get()?;
    let session = crate::session::session().await?;
    let user: Option<String> = session.get(crate::session::USER).await.map_err(ServerFnError::new)?;
    session.flush().await.map_err(ServerFnError::new)?;
    if let Some(user) = user {
        let actor = Actor::new(user.clone(), crate::session::client_address().await);
        let _ = state
            .store
            .record_event(&actor, "logout", &format!("user:{user}"), "ok", "")
            .await;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/api", endpoint = "whoami")]
pub async fn whoami() -> Result<Who, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::session::viewer(&state).await?;
    let access = state.access_of(&viewer).await?;
    Ok(Who {
        manages: access.admin || !access.administered().is_empty(),
        owns_groups: viewer.groups.iter().any(|(_, owner)| *owner),
        user: viewer.user.map(|u| u.to_string()),
        admin: viewer.admin,
        openshift: state.openshift().is_some(),
    })
}

/// A refusal's words as a sentence on the page: capitalised, with a full stop.
#[cfg(feature = "ssr")]
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/images".into()));
    let outcome = move || {
        action.value().get().map(|result| match result {
            Ok(SignIn::Welcome(user)) => {
                view! { <p class="notice info" role="status">{format!("Signed in as {user}.")}</p> }.into_any()
            }
            Ok(SignIn::Refused(message)) => view! { <p class="notice error" role="alert">{message}</p> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{format!("Signing in failed: {e}")}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Sign in" />
        <h1>"Sign in"</h1>
        {outcome}
        <ActionForm action attr:class="login">
            <label>"User name" <input name="username" autocomplete="username" required maxlength="64" /></label>
            <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
            <input type="hidden" name="next" prop:value=next />
            <button type="submit">"Sign in"</button>
        </ActionForm>
    }
}

/// The signed-in user and a sign-out button, or a sign-in link; refreshed on every navigation.
#[component]
pub fn UserBox() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let logout = ServerAction::<Logout>::new();
    let who = Resource::new(
        move || (location.pathname.get(), logout.version().get()),
        |_| async move { whoami().await.unwrap_or_default() },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let who = who.await;
                let links = view! {
                    {who.admin.then(|| view! { <a href="/admin/users">"Users"</a> })}
                    {(who.admin || who.owns_groups).then(|| view! { <a href="/admin/groups">"Groups"</a> })}
                    {who.manages.then(|| view! { <a href="/admin/access">"Access"</a> })}
                    {who.admin.then(|| view! { <a href="/admin/audit">"Audit log"</a> })}
                    {(who.admin && who.openshift).then(|| view! { <a href="/openshift">"OpenShift"</a> })}
                };
                match who.user {
                    Some(user) => view! {
                        {links}
                        <div class="user-box">
                            <span class="signed-in" data-user=user.clone()>{user.clone()}</span>
                            <ActionForm action=logout>
                                <button type="submit" class="link">"Sign out"</button>
                            </ActionForm>
                        </div>
                    }
                    .into_any(),
                    None => view! { <div class="user-box"><a href="/login">"Sign in"</a></div> }.into_any(),
                }
            })}
        </Transition>
    }
}
