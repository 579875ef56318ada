//! A redirect a page decides while it renders on the server is a real HTTP redirect.
//!
//! `leptos_axum::redirect` is written for server functions: it sets `302` only when the
//! request's `Accept` header names `text/html`, and otherwise only marks the response for the
//! WASM client to follow. For a page that left `curl`, link checkers and every other plain HTTP
//! client with `200` and a page cut off where the redirect was decided (`/images?q=<exact
//! name>`, `/`, `/admin`). Page routes use [`to`] instead, and [`install`] makes the router's
//! `<Redirect>` use it too: always `302 Found` with `Location`, whatever the client accepts.

use leptos::prelude::use_context;

/// Answers the page being rendered with `302 Found` to `path` (a same-origin path).
pub fn to(path: &str) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        tracing::warn!(path, "a page redirect outside a request; ignored");
        return;
    };
    match http::HeaderValue::from_str(path) {
        Ok(location) => {
            response.insert_header(http::header::LOCATION, location);
            response.set_status(http::StatusCode::FOUND);
        }
        Err(_) => tracing::warn!(
            path,
            "a page redirect to a path that is not a valid Location header; ignored"
        ),
    }
}

/// Makes `<Redirect>` in server-rendered routes answer with [`to`]; call it in the context of
/// every page request (after leptos_axum has provided its own).
pub fn install() {
    leptos_router::components::provide_server_redirect(to);
}
