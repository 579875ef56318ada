//! Who is asking: the signed-in user behind the session cookie, and from which address.
//!
//! Sessions live in Regent's database (`tower-sessions`); the cookie holds only a random id.
//! A session ends after a period without use (the cookie's expiry) and, whatever the use, a
//! fixed time after sign-in. It belongs to the user's id and credential
//! ([`regent_domain::store::Credential`]), checked on every request: once the user's password
//! is reset or the user is disabled or deleted, the session is signed out for good (a new
//! user with the same name is someone else).

use crate::state::AppState;
use leptos::prelude::ServerFnError;
use regent_domain::access::Viewer;
use regent_domain::store::Credential;
use tower_sessions::Session;

/// Session keys: the user's name (for the audit line of signing out), their credential (what
/// the session stands for) and when they signed in.
pub const USER: &str = "user";
pub const CREDENTIAL: &str = "credential";
pub const SIGNED_IN_AT: &str = "signed_in_at";
/// When the session was last used, in tenths of the idle time (see `touch`).
const SEEN: &str = "seen";

pub async fn session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session on this request (wiring bug): {e}")))
}

/// The viewer of the current request; anonymous when not (or no longer) signed in.
pub async fn viewer(state: &AppState) -> Result<Viewer, ServerFnError> {
    let session = session().await?;
    viewer_of(state, &session).await.map_err(ServerFnError::new)
}

/// The viewer behind `session` (for handlers outside Leptos too, such as `/readyz`).
pub async fn viewer_of(state: &AppState, session: &Session) -> Result<Viewer, String> {
    let user: Option<String> = session.get(USER).await.map_err(|e| e.to_string())?;
    if user.is_none() {
        return Ok(Viewer::anonymous());
    }
    let since: i64 = session.get(SIGNED_IN_AT).await.map_err(|e| e.to_string())?.unwrap_or(0);
    let credential: Option<String> = session.get(CREDENTIAL).await.map_err(|e| e.to_string())?;
    // A session without a credential was made before sessions had one: signed out too.
    let credential = credential.as_deref().and_then(Credential::parse);
    let viewer = match credential {
        Some(c) if !outlived(since, unix_now(), state.session_max_age) => {
            state.store.viewer_for(&c).await.map_err(|e| e.to_string())?
        }
        _ => None,
    };
    match viewer {
        Some(viewer) => {
            touch(session, state.session_idle).await?;
            Ok(viewer)
        }
        None => {
            // Over for good: forget it, so the cookie stops naming anything.
            session.flush().await.map_err(|e| e.to_string())?;
            Ok(Viewer::anonymous())
        }
    }
}

/// Marks the session used, so its idle expiry starts again: the session store saves a
/// session (and moves its expiry) only when it changed, so reading it is not enough. Written
/// at most once per tenth of the idle time, not on every request.
async fn touch(session: &Session, idle: std::time::Duration) -> Result<(), String> {
    let step = (idle.as_secs() / 10).max(1) as i64;
    let now = unix_now() / step;
    let seen: Option<i64> = session.get(SEEN).await.map_err(|e| e.to_string())?;
    if seen != Some(now) {
        session.insert(SEEN, now).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The client's IP address, for throttling and the audit log: as the server worked it out
/// (behind a trusted proxy, the address it forwarded).
pub async fn client_address() -> String {
    use axum::extract::ConnectInfo;
    if let Ok(axum::Extension(client)) = leptos_axum::extract::<axum::Extension<regent_domain::access::Client>>().await
    {
        return client.address.to_string();
    }
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

/// Whether a session signed in at `since` has passed its absolute lifetime at `now` (a
/// missing or future sign-in time counts as outlived: the session was not made by `login`).
fn outlived(since: i64, now: i64, max_age: std::time::Duration) -> bool {
    since <= 0 || since > now || now - since > max_age.as_secs() as i64
}

#[cfg(test)]
mod tests {
    use super::outlived;
    use std::time::Duration;

    #[test]
    fn a_session_ends_at_its_maximum_age_however_much_it_is_used() {
        let week = Duration::from_secs(168 * 3600);
        let signed_in = 1_800_000_000;
        assert!(!outlived(signed_in, signed_in, week));
        assert!(!outlived(signed_in, signed_in + 168 * 3600, week));
        assert!(outlived(signed_in, signed_in + 168 * 3600 + 1, week));
        assert!(outlived(0, signed_in, week), "no sign-in time");
        assert!(outlived(signed_in + 60, signed_in, week), "signed in in the future");
    }
}
