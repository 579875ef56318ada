//! The repository page, `/images/<repository>`: its tags with digests, image ids, top layers,
//! sizes and platforms, from the index. Tags that share a digest are marked as a group.

use crate::components::index_status::IndexStatusNotice;
use crate::components::tag_table::TagTable;
use crate::dto::{RepositoryView, human_bytes};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[server]
pub async fn repository(name: String) -> Result<RepositoryView, ServerFnError> {
    use regent_domain::reference::RepositoryName;
    let state = crate::state::AppState::get()?;
    let status = crate::convert::status(&state.index);
    let name = match RepositoryName::parse(&name) {
        Ok(n) => n,
        Err(e) => return Ok(RepositoryView::BadName(e.to_string())),
    };
    let data = state.index.read();
    let infos = if state.may_read(&name) {
        data.repository_tag_infos(&name)
    } else {
        None
    };
    Ok(match infos {
        Some(infos) => RepositoryView::Found {
            name: name.to_string(),
            stale: data.is_stale(&name),
            rows: infos.into_iter().map(crate::convert::tag_row).collect(),
            status,
        },
        None => RepositoryView::NotFound {
            name: name.to_string(),
            status,
        },
    })
}

#[component]
pub fn RepositoryPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("repository").unwrap_or_default()));
    let data = Resource::new(move || name.get(), |name| async move { repository(name).await });
    view! {
        <Title text=move || name.get() />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(RepositoryView::Found { name, stale, rows, status }) => {
                        let size: u64 = rows.iter().map(|r| r.size).sum();
                        let count = rows.len();
                        view! {
                            <IndexStatusNotice status />
                            <h1 class="repository-name">{name.clone()}</h1>
                            <p class="summary">
                                {format!("{count} tags · {} compressed (per tag, shared layers counted in each)", human_bytes(size))}
                                {stale.then_some(" · stale: its last refresh failed")}
                            </p>
                            <TagTable rows />
                        }
                        .into_any()
                    }
                    Ok(RepositoryView::NotFound { name, status }) => {
                        #[cfg(feature = "ssr")]
                        if status.complete && let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                            r.set_status(http::StatusCode::NOT_FOUND);
                        }
                        let why = if status.complete {
                            format!("There is no repository named \"{name}\" with tags in the registry.")
                        } else {
                            format!("\"{name}\" is not indexed yet; the first crawl is still running.")
                        };
                        view! {
                            <IndexStatusNotice status />
                            <h1>"Repository not found"</h1>
                            <p>{why}</p>
                            <p><a href=format!("/images?q={}", crate::dto::encode_query_value(&name))>"Search for it"</a></p>
                        }
                        .into_any()
                    }
                    Ok(RepositoryView::BadName(message)) => view! {
                        <h1>"Not a repository name"</h1>
                        <p>{message}</p>
                        <p><a href="/images">"Go to Images"</a></p>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load this page: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
