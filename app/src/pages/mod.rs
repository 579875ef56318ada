//! One module per screen; each holds its component and the server functions it calls.

pub mod admin;
pub mod delete;
pub mod images;
pub mod layer;
pub mod login;
pub mod not_found;
pub mod openshift;
pub mod repository;
pub mod storage;
pub mod tag;

use crate::dto::ImagePath;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Everything below `/images/`: a repository, or a tag or manifest in one.
#[component]
pub fn ImagePathPage() -> impl IntoView {
    let params = use_params_map();
    let path = Memo::new(move |_| ImagePath::parse(&params.with(|p| p.get("repository").unwrap_or_default())));
    move || match path.get() {
        ImagePath::Repository(name) => view! { <repository::RepositoryPage name /> }.into_any(),
        ImagePath::Reference(repository, reference) => view! { <tag::TagPage repository reference /> }.into_any(),
    }
}
