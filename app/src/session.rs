//! Who is asking: the signed-in user behind the session cookie, and from which address.
//!
//! Sessions live in Regent's database (`tower-sessions`); the cookie holds only a random id.
//! A session ends after a period without use (the cookie's expiry) and, whatever the use, a
//! fixed time after sign-in. A user who was disabled or deleted meanwhile counts as signed out.

use crate::state::AppState;
use leptos::prelude::ServerFnError;
use regent_domain::access::{Name, Viewer};
use tower_sessions::Session;

/// Session keys.
pub const USER: &str = "user";
pub const SIGNED_IN_AT: &str = "signed_in_at";

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session on this request (wiring bug): {e}")))
}

/// The viewer of the current request; anonymous when not (or no longer) signed in.
pub async fn viewer(state: &AppState) -> Result<Viewer, ServerFnError> {
    let session = session().await?;
    let user: Option<String> = session.get(USER).await.map_err(ServerFnError::new)?;
    let Some(user) = user else {
        return Ok(Viewer::anonymous());
    };
    let since: i64 = session
        .get(SIGNED_IN_AT)
        .await
        .map_err(ServerFnError::new)?
        .unwrap_or(0);
    if unix_now() - since > state.session_max_age.as_secs() as i64 {
        session.flush().await.map_err(ServerFnError::new)?;
        return Ok(Viewer::anonymous());
    }
    let Ok(name) = Name::parse(&user) else {
        return Ok(Viewer::anonymous());
    };
    Ok(state
        .store
        .viewer(&name)
        .await
        .map_err(ServerFnError::new)?
        .unwrap_or_else(Viewer::anonymous))
}

/// The client's IP address, for throttling and the audit log.
pub async fn client_address() -> String {
    use axum::extract::ConnectInfo;
    leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
