//! Regent's web UI: the shell, the routes, and one module per screen.
//!
//! The same code renders on the server (feature `ssr`) and hydrates in the browser (feature
//! `hydrate`). Screens get their data from server functions that sit next to them in
//! `pages/`; those call the domain crate, which is only linked under `ssr` so it never reaches
//! the WASM bundle. What crosses the wire is defined in `dto`.

pub mod components;
#[cfg(feature = "ssr")]
pub mod convert;
pub mod dto;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod redirect;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                // Without an icon the browser asks for /favicon.ico, a 404 in every page's console.
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: sidebar navigation and the routed screens.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the WASM has taken over the page; browser tests wait for it before clicking.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="regent" href="/pkg/regent.css" />
        <Title formatter=|text: String| if text.is_empty() { "Regent".to_owned() } else { format!("{text} · Regent") } />
        <Router>
            <div class="layout" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
                <nav class="sidebar" aria-label="Main">
                    <a class="brand" href="/">"Regent"</a>
                    <A href="/images">"Images"</A>
                    <A href="/storage">"Storage"</A>
                    <pages::login::UserBox />
                </nav>
                <main>
                    <Routes fallback=pages::not_found::NotFound>
                        // Async: the server sends the page only once its data is in, so it reads
                        // completely without JavaScript.
                        <Route path=path!("/") view=|| view! { <Redirect path="/images" /> } ssr=SsrMode::Async />
                        <Route path=path!("/images") view=pages::images::ImagesPage ssr=SsrMode::Async />
                        <Route path=path!("/images/*repository") view=pages::ImagePathPage ssr=SsrMode::Async />
                        <Route path=path!("/layers/:digest") view=pages::layer::LayerPage ssr=SsrMode::Async />
                        <Route path=path!("/storage") view=pages::storage::StoragePage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/admin") view=|| view! { <Redirect path="/admin/access" /> } ssr=SsrMode::Async />
                        <Route path=path!("/admin/users") view=pages::admin::users::UsersPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/users/:name") view=pages::admin::users::UserPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/groups") view=pages::admin::groups::GroupsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/access") view=pages::admin::access::AccessPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/directory") view=pages::admin::directory::DirectoryPage ssr=SsrMode::Async />
                        <Route path=path!("/openshift") view=pages::openshift::cluster::ClusterPage ssr=SsrMode::Async />
                        <Route path=path!("/openshift/projects") view=pages::openshift::projects::ProjectsPage ssr=SsrMode::Async />
                        <Route path=path!("/openshift/projects/:name") view=pages::openshift::project::ProjectPage ssr=SsrMode::Async />
                        <Route path=path!("/openshift/groups") view=pages::openshift::groups::ClusterGroupsPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
