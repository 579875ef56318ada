//! The Images page: one search box over every repository in the registry.
//!
//! Without a query it lists repositories a page at a time; with one it searches the index by
//! name, `repo:tag`, digest, image id or layer (see `regent_domain::index::search`). Query and
//! page live in the URL (`/images?q=…&page=2`), so results can be shared and the back button
//! works. One exact repository hit goes straight to that repository. While the first crawl
//! runs the page shows its progress and says results are partial; `/` focuses the search box.

use crate::components::index_status::IndexStatusNotice;
use crate::components::pagination::Pagination;
use crate::components::registry_problem::RegistryProblemNotice;
use crate::components::sign_in_hint::SignInHint;
use crate::dto::{ImagesBody, ImagesView, IndexStatusView, Paging, RepositoryRow, images_href, repository_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

/// A page of repositories or search results.
#[server]
pub async fn images(q: String, page: u32, per_page: u32) -> Result<ImagesView, ServerFnError> {
    use regent_domain::index::{SearchQuery, browse::Window};
    let state = crate::state::AppState::get()?;
    let access = state.access().await?;
    let status = crate::convert::status(&state.index);
    let failed_imports = match state.openshift() {
        Some(openshift) if access.admin => openshift.join().failed_imports().count(),
        _ => 0,
    };
    let parsed = Paging::new(page, per_page).and_then(|paging| Ok((paging, SearchQuery::parse(&q)?)));
    let (paging, body) = match parsed {
        Err(message) => (
            Paging::new(page, per_page).unwrap_or_default(),
            ImagesBody::BadQuery(message),
        ),
        Ok((paging, query)) => {
            let window = Window {
                offset: paging.offset(),
                limit: paging.per_page as usize,
            };
            let found = state.index.browse(&state.store, &access, query.as_ref(), window).await;
            let mut body = crate::convert::found(found.map_err(ServerFnError::new)?, &state.index);
            if let ImagesBody::Tags { rows, .. } = &mut body {
                crate::convert::on_cluster(&state, &access, rows);
            }
            (paging, body)
        }
    };
    Ok(ImagesView {
        query: q,
        paging,
        status,
        body,
        anonymous: !access.signed_in,
        failed_imports,
    })
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            (
                q.get("q").unwrap_or_default(),
                Paging::from_query(q.get_str("page"), q.get_str("per_page")),
            )
        })
    });
    let data = Resource::new(
        move || params.get(),
        |(q, paging)| async move {
            let failed = |q: String, message: String| ImagesView {
                query: q,
                paging: Paging::default(),
                status: IndexStatusView::default(),
                body: ImagesBody::BadQuery(message),
                anonymous: false,
                failed_imports: 0,
            };
            match paging {
                Ok(p) => images(q.clone(), p.page, p.per_page)
                    .await
                    .unwrap_or_else(|e| failed(q, format!("Regent could not load this page: {e}"))),
                Err(message) => failed(q, message),
            }
        },
    );
    // While the first crawl runs, refresh every second so progress and results fill in.
    Effect::new(move |_| {
        if data.get().is_some_and(|v| v.status.crawling && !v.status.complete) {
            set_timeout(move || data.refetch(), std::time::Duration::from_secs(1));
        }
    });
    let search_box = NodeRef::<leptos::html::Input>::new();
    focus_on_slash(search_box);
    let navigate = use_navigate();
    view! {
        <h1>"Images"</h1>
        <Form method="GET" action="/images" attr:class="search" attr:role="search">
            <input
                type="search"
                name="q"
                node_ref=search_box
                prop:value=move || params.get().0
                placeholder="Name, repo:tag, digest, image id, or layer:sha256:…   (press / to search)"
                aria-label="Search images"
                autocomplete="off"
            />
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let navigate = navigate.clone();
                Suspend::new(async move {
                    let view = data.await;
                    let ImagesView { query, paging, status, body, anonymous, failed_imports } = view;
                    // A plain string, computed with the data: a title closure over the page's
                    // signals could be read after the page was disposed.
                    let title = match query.trim() {
                        "" if paging.page > 1 => format!("Images, page {}", paging.page),
                        "" => "Images".to_owned(),
                        q => format!("Search: {q}"),
                    };
                    let content = match body {
                        ImagesBody::Redirect(path) => {
                            #[cfg(feature = "ssr")]
                            crate::redirect::to(&path);
                            #[cfg(not(feature = "ssr"))]
                            navigate(&path, Default::default());
                            let _ = &navigate;
                            view! { <p>"Opening " <a href=path.clone()>{path.clone()}</a> "…"</p> }.into_any()
                        }
                        ImagesBody::BadQuery(message) => view! {
                            <div class="notice warning" role="alert">
                                <p>{message}</p>
                                <p><a href="/images">"Show all repositories"</a></p>
                            </div>
                        }
                        .into_any(),
                        ImagesBody::Unavailable(problem) => view! { <RegistryProblemNotice problem /> }.into_any(),
                        ImagesBody::Repositories { total, rows } => {
                            view! { <RepositoryList query=query.clone() paging total rows anonymous /> }.into_any()
                        }
                        ImagesBody::Tags { total, rows, ambiguous } => {
                            view! { <TagResults query=query.clone() paging total rows ambiguous refresh=Callback::new(move |_| data.refetch()) /> }.into_any()
                        }
                    };
                    view! { <Title text=title /> <IndexStatusNotice status /> <FailedImportsNotice count=failed_imports /> {content} }
                })
            }}
        </Transition>
    }
}

/// Pressing `/` outside a text field puts the cursor in the search box, as on GitHub.
fn focus_on_slash(search_box: NodeRef<leptos::html::Input>) {
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = ev
                .target()
                .and_then(|t| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok())
                .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            if ev.key() == "/"
                && !typing
                && let Some(input) = search_box.get()
            {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    });
}

/// On OpenShift: how many stream tags' last import failed, with the way to the list.
#[component]
fn FailedImportsNotice(count: usize) -> impl IntoView {
    (count > 0).then(|| {
        let text = format!(
            "{count} image stream tag{} failed {} last import.",
            if count == 1 { "" } else { "s" },
            if count == 1 { "its" } else { "their" }
        );
        view! {
            <p class="notice warning" role="status" data-failed-imports=count>
                {text}" "<a href="/openshift#failed-imports">"See which, and why"</a>
            </p>
        }
    })
}

fn range_summary(paging: &Paging, total: usize, shown: usize, noun: &str) -> String {
    let pages = paging.page_count(total);
    if total == 0 {
        String::new()
    } else if shown == 0 {
        format!(
            "Page {} is past the end: there are {total} {noun} on {pages} pages.",
            paging.page
        )
    } else {
        format!(
            "{} {}–{} of {total}",
            crate::dto::capitalize(noun),
            paging.offset() + 1,
            paging.offset() + shown
        )
    }
}

#[component]
fn RepositoryList(
    query: String,
    paging: Paging,
    total: usize,
    rows: Vec<RepositoryRow>,
    anonymous: bool,
) -> impl IntoView {
    let pages = paging.page_count(total);
    let sign_in = (total == 0 && anonymous).then(|| view! { <SignInHint next="/images" /> });
    let summary = match (total, query.is_empty()) {
        (0, true) if anonymous => String::new(),
        (0, true) => "There are no repositories you have access to yet.".to_owned(),
        (0, false) => format!("No repository name contains \"{query}\"."),
        _ => range_summary(&paging, total, rows.len(), "repositories"),
    };
    view! {
        {sign_in}
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
                            let href = repository_href(&row.name);
                            let stale = row.stale.then(|| view! { <span class="stale" title="its last refresh failed; this is the last good data">"stale"</span> });
                            view! {
                                <tr>
                                    <td class="name"><a href=href>{row.name}</a> {stale}</td>
                                    <td class="num">{if row.tags == 0 { "empty: created in Regent, nothing pushed yet".to_owned() } else { row.tags.to_string() }}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        })}
        <Pagination paging pages href=move |n| images_href(&query, &paging, n) />
    }
}

#[component]
fn TagResults(
    query: String,
    paging: Paging,
    total: usize,
    rows: Vec<crate::dto::TagRow>,
    ambiguous: Vec<String>,
    /// Reloads the results (after quick delete).
    refresh: Callback<()>,
) -> impl IntoView {
    let pages = paging.page_count(total);
    let summary = if total == 0 {
        format!("No tag matches \"{query}\".")
    } else {
        range_summary(&paging, total, rows.len(), "tags")
    };
    let ambiguous = (!ambiguous.is_empty()).then(|| {
        view! {
            <div class="notice warning ambiguous" role="status">
                <p>{format!("\"{query}\" is the start of {} different digests; results include all of them. Paste more of the digest to narrow it down:", ambiguous.len())}</p>
                <ul>{ambiguous.into_iter().map(|d| view! { <li><code>{d}</code></li> }).collect_view()}</ul>
            </div>
        }
    });
    view! {
        {ambiguous}
        <p class="summary" data-total=total>{summary}</p>
        {(!rows.is_empty()).then(|| view! { <crate::components::quick_delete::QuickDeleteTable rows show_repository=true finished=refresh /> })}
        <Pagination paging pages href=move |n| images_href(&query, &paging, n) />
    }
}
