//! The management screens: users, groups, access, the audit log and the company directory.
//!
//! Administrators see all of them; a user who administers a scope (their own `users/<name>/*`
//! at least) sees the access screen for their scopes. Every change is a server function that
//! looks up the caller again and checks their right to make it, whatever the page showed;
//! refusals are recorded in the audit log and answered in words, with nothing changed.

pub mod access;
pub mod audit;
pub mod directory;
pub mod groups;
pub mod users;

pub use crate::components::notice::{DeniedNotice, OutcomeNotice};
use leptos::prelude::*;

/// Links between the management screens, for those who may use them.
#[component]
pub fn AdminTabs(admin: bool) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Management">
            {admin.then(|| view! { <a href="/admin/users">"Users"</a> <a href="/admin/groups">"Groups"</a> })}
            <a href="/admin/access">"Access"</a>
            {admin.then(|| view! { <a href="/admin/audit">"Audit log"</a> <a href="/admin/directory">"Directory"</a> })}
        </nav>
    }
}

/// The server side shared by the management screens.
#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use crate::dto::{Denied, Outcome};
    use crate::state::AppState;
    use leptos::prelude::ServerFnError;
    use regent_domain::access::{Access, Policy, Viewer};
    use regent_domain::store::{Actor, StoreError};

    /// Who is asking, looked up afresh for this request.
    pub struct Caller {
        pub viewer: Viewer,
        pub policy: Policy,
        pub access: Access,
        pub actor: Actor,
    }

    impl Caller {
        pub async fn get(state: &AppState) -> Result<Self, ServerFnError> {
            let viewer = crate::session::viewer(state).await?;
            let policy = state.store.policy(state.rules).await.map_err(ServerFnError::new)?;
            let access = policy.for_viewer(&viewer);
            let name = viewer
                .user
                .as_ref()
                .map_or_else(|| "anonymous".to_owned(), ToString::to_string);
            let actor = Actor::new(name, crate::session::client_address().await);
            Ok(Self {
                viewer,
                policy,
                access,
                actor,
            })
        }

        pub fn is(&self, name: &str) -> bool {
            self.viewer.user.as_ref().is_some_and(|u| u.as_str() == name)
        }

        /// Refuses unless the caller is a global administrator.
        pub fn admin_only(&self, what: &str) -> Result<(), Denied> {
            if self.viewer.admin {
                return Ok(());
            }
            Err(self.denied(&format!("Only administrators can {what}")))
        }

        /// `message`, plus what to do about it.
        pub fn denied(&self, message: &str) -> Denied {
            match &self.viewer.user {
                None => Denied {
                    signed_in: false,
                    message: format!("{message}. Sign in first."),
                },
                Some(user) => Denied {
                    signed_in: true,
                    message: format!("{message}; you are signed in as {user}. Ask an administrator."),
                },
            }
        }

        /// Records a refused change in the audit log and says why it was refused.
        pub async fn refuse(&self, state: &AppState, action: &str, target: &str, denied: Denied) -> Outcome {
            if let Err(e) = state
                .store
                .record_event(&self.actor, action, target, "refused", &denied.message)
                .await
            {
                tracing::warn!(error = %e, "could not record a refused change in the audit log");
            }
            Outcome::Refused(denied.message)
        }
    }

    /// A store answer as an outcome: broken rules, names taken and unknown names are
    /// refusals the user can act on; a failing database is an error.
    pub fn outcome(result: Result<String, StoreError>) -> Result<Outcome, ServerFnError> {
        match result {
            Ok(message) => Ok(Outcome::Done(message)),
            Err(StoreError::Database(e)) => Err(ServerFnError::new(e)),
            Err(e) => Ok(Outcome::Refused(sentence(&e.to_string()))),
        }
    }

    /// A message as a sentence: capital first letter, full stop.
    pub fn sentence(message: &str) -> String {
        let mut out = crate::dto::capitalize(message);
        if !out.ends_with(['.', '?', '!']) {
            out.push('.');
        }
        out
    }

    /// Unix seconds as an HTTP date, the form the other pages use.
    pub fn date(unix: i64) -> String {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64);
        httpdate::fmt_http_date(at)
    }

    /// A form's checkbox: present (any value but "false") means ticked.
    pub fn ticked(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| v != "false")
    }
}
