//! The answer to an address that makes no sense (a malformed name, digest, sort or page):
//! status 400, what is wrong in words, and a way back.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BadAddress(message: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::BAD_REQUEST);
    }
    view! {
        <Title text="Bad address" />
        <h1>"This address cannot be shown"</h1>
        <p class="notice warning" role="alert">{message}</p>
        <p><a href="/images">"Go to Images"</a></p>
    }
}
