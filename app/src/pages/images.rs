//! The Images page: every repository in the registry, a page at a time, with tag counts.
//!
//! The page and page size live in the URL (`/images?page=2&per_page=50`), so links can be
//! shared and the back button works; the server renders the first view and the browser
//! takes over navigation after hydration. When the registry is down or refuses Regent, the
//! page says which registry, what failed and what to check.

use crate::components::pagination::Pagination;
use crate::components::registry_problem::RegistryProblemNotice;
use crate::dto::{ImagesView, Paging, RepositoryPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// One page of repositories with their tag counts.
#[server]
pub async fn list_repositories(page: u32, per_page: u32) -> Result<ImagesView, ServerFnError> {
    use crate::dto::{RegistryProblem, RepositoryRow};
    let state = crate::state::AppState::get()?;
    let paging = match Paging::new(page, per_page) {
        Ok(p) => p,
        Err(message) => return Ok(ImagesView::BadQuery(message)),
    };
    match state.listing.page(paging.offset(), paging.per_page as usize).await {
        Ok(listing) => Ok(ImagesView::Listing(RepositoryPage {
            paging,
            total: listing.total,
            rows: listing
                .repositories
                .into_iter()
                .map(|r| RepositoryRow {
                    name: r.name.to_string(),
                    tags: r.tags.map_err(|e| e.to_string()),
                })
                .collect(),
        })),
        Err(error) => {
            tracing::warn!(%error, "listing repositories failed");
            Ok(ImagesView::RegistryProblem(RegistryProblem::from_error(
                state.registry.url().as_str(),
                &error,
            )))
        }
    }
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let query = use_query_map();
    let paging = Memo::new(move |_| query.with(|q| Paging::from_query(q.get_str("page"), q.get_str("per_page"))));
    let listing = Resource::new(
        move || paging.get(),
        |paging| async move {
            match paging {
                Ok(p) => list_repositories(p.page, p.per_page)
                    .await
                    .unwrap_or_else(|e| ImagesView::BadQuery(format!("Regent could not load this page: {e}"))),
                Err(message) => ImagesView::BadQuery(message),
            }
        },
    );
    let title = move || match paging.get() {
        Ok(p) if p.page > 1 => format!("Images, page {}", p.page),
        _ => "Images".to_owned(),
    };

    view! {
        <Title text=title />
        <h1>"Images"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading repositories…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    ImagesView::Listing(page) => view! { <RepositoryList page /> }.into_any(),
                    ImagesView::BadQuery(message) => view! {
                        <div class="notice warning" role="alert">
                            <p>{message}</p>
                            <p><a href="/images">"Go to the first page"</a></p>
                        </div>
                    }
                    .into_any(),
                    ImagesView::RegistryProblem(problem) => view! { <RegistryProblemNotice problem /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RepositoryList(page: RepositoryPage) -> impl IntoView {
    let RepositoryPage { paging, total, rows } = page;
    let pages = paging.page_count(total);
    let first = paging.offset() + 1;
    let last = paging.offset() + rows.len();
    let summary = if total == 0 {
        "The registry has no repositories yet.".to_owned()
    } else if rows.is_empty() {
        format!(
            "Page {} is past the end: there are {total} repositories on {pages} pages.",
            paging.page
        )
    } else {
        format!("Repositories {first}–{last} of {total}")
    };
    view! {
        <p class="summary" data-total=total>{summary}</p>
        {(!rows.is_empty()).then(|| view! {
            <table class="repositories">
                <thead>
                    <tr>
                        <th scope="col">"Repository"</th>
                        <th scope="col" class="num">"Tags"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let tags = match &row.tags {
                                Ok(0) => view! { <td class="num muted">"0 (empty)"</td> }.into_any(),
                                Ok(n) => view! { <td class="num">{*n}</td> }.into_any(),
                                Err(why) => view! { <td class="num muted" title=why.clone()>"—"</td> }.into_any(),
                            };
                            view! {
                                <tr>
                                    <td class="name">{row.name}</td>
                                    {tags}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        })}
        <Pagination paging pages />
    }
}
