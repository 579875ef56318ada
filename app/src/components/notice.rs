//! The notices every change and every guarded screen shows: how a change ended, under the form
//! that made it, and why a screen is not available.
//!
//! Management forms, delete controls and the cluster screens all answer with these, so a
//! refusal reads the same everywhere.

use crate::dto::{Denied, NotDeleted, Outcome};
use leptos::prelude::*;

/// A change's failure, as the notice under its form says it.
pub trait Failure: Clone + Send + Sync + 'static {
    fn sentence(&self) -> String;
}

impl Failure for ServerFnError {
    fn sentence(&self) -> String {
        format!("The change failed: {self}")
    }
}

impl Failure for NotDeleted {
    fn sentence(&self) -> String {
        self.message.clone()
    }
}

/// The result of a change, under the form that made it.
#[component]
pub fn OutcomeNotice<E: Failure>(value: MappedSignal<Option<Result<Outcome, E>>>) -> impl IntoView {
    move || {
        value.get().map(|result| match result {
            Ok(Outcome::Done(message)) => view! { <p class="notice info" role="status">{message}</p> }.into_any(),
            Ok(Outcome::Refused(message)) => view! { <p class="notice error" role="alert">{message}</p> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.sentence()}</p> }.into_any(),
        })
    }
}

/// A screen the viewer may not use: sign in, or ask an administrator.
#[component]
pub fn DeniedNotice(denied: Denied, next: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(if denied.signed_in {
            http::StatusCode::FORBIDDEN
        } else {
            http::StatusCode::UNAUTHORIZED
        });
    }
    view! {
        <h1>"Not available"</h1>
        <p class="notice error" role="alert">{denied.message}</p>
        {(!denied.signed_in).then(|| view! { <p><a href=format!("/login?next={next}")>"Sign in"</a></p> })}
    }
}
