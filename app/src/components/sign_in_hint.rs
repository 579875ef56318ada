//! Shown to a visitor who is not signed in when a listing comes out empty: nothing may be
//! public, so the empty page is no statement about the registry.

use leptos::prelude::*;

#[component]
pub fn SignInHint(
    /// Where to come back to after signing in.
    next: &'static str,
) -> impl IntoView {
    view! {
        <p class="notice info sign-in-hint">
            "You are not signed in, and nothing here is public. "
            <a href=format!("/login?next={next}")>"Sign in"</a>
            " to see the repositories you have access to."
        </p>
    }
}
