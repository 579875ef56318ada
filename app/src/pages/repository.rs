//! The repository page, `/images/<repository>`: what it holds and what it costs, then its tags
//! with digests, image ids, top layers, sizes and platforms, from the index.
//!
//! The header answers a janitor's question before a delete: how many bytes are only here
//! (freed by deleting it) and how many are shared with other repositories (not freed). Tags
//! sort by name, created or size and page through `?sort=&page=&per_page=`; tags on one
//! digest are marked as a group.

use crate::components::bad_address::BadAddress;
use crate::components::copy::CopyText;
use crate::components::index_status::IndexStatusNotice;
use crate::components::pagination::Pagination;
use crate::components::tag_table::SortLinks;
use crate::dto::{Paging, RepositorySummary, RepositoryView, human_bytes, repository_page_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn repository(name: String, sort: String, page: u32, per_page: u32) -> Result<RepositoryView, ServerFnError> {
    use regent_domain::reference::RepositoryName;
    let state = crate::state::AppState::get()?;
    let status = crate::convert::status(&state.index);
    let name = match RepositoryName::parse(&name) {
        Ok(n) => n,
        Err(e) => return Ok(RepositoryView::BadRequest(e.to_string())),
    };
    let (sort, paging) = match (crate::dto::TagSort::parse(Some(&sort)), Paging::new(page, per_page)) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(m), _) | (_, Err(m)) => return Ok(RepositoryView::BadRequest(m)),
    };
    let (order, descending) = crate::convert::tag_order(sort);
    let access = state.access().await?;
    let Some(you) = crate::convert::capabilities(&access, &name) else {
        return Ok(RepositoryView::NotFound {
            name: name.to_string(),
            status,
        });
    };
    let found = {
        let data = state.index.read();
        data.repository_tags_page(&name, order, descending, paging.offset(), paging.per_page as usize)
            .zip(data.repository_usage(&name))
            .map(|(listing, usage)| (listing, usage, data.is_stale(&name)))
    };
    let Some((listing, usage, stale)) = found else {
        let created = state.store.created_repositories().await.map_err(ServerFnError::new)?;
        if let Some(c) = created.into_iter().find(|c| c.name == name) {
            return Ok(RepositoryView::Empty {
                name: name.to_string(),
                created_by: c.created_by,
                created: crate::pages::admin::guard::date(c.created_at),
                pull_host: state.pull_host.to_string(),
                you,
            });
        }
        if let Some(cluster) = crate::convert::repository_on_cluster(&state, &access, &name).await
            && cluster.stream.is_some()
        {
            return Ok(RepositoryView::StreamOnly {
                name: name.to_string(),
                cluster,
                you,
            });
        }
        return Ok(RepositoryView::NotFound {
            name: name.to_string(),
            status,
        });
    };
    let summary = crate::convert::repository_summary(usage);
    let mut rows: Vec<crate::dto::TagRow> = listing
        .rows
        .into_iter()
        .map(|(info, same_digest)| crate::dto::TagRow {
            same_digest: same_digest.iter().map(ToString::to_string).collect(),
            deletable: you.delete,
            ..crate::convert::tag_row(info)
        })
        .collect();
    crate::convert::on_cluster(&state, &access, &mut rows);
    crate::pages::delete::plan_rows(&state, &access, &mut rows);
    let cluster = crate::convert::repository_on_cluster(&state, &access, &name).await;
    Ok(RepositoryView::Found {
        summary,
        stale,
        rows,
        sort,
        paging,
        pull_host: state.pull_host.to_string(),
        status: Box::new(status),
        you,
        cluster,
    })
}

#[component]
pub fn RepositoryPage(#[prop(into)] name: Signal<String>) -> impl IntoView {
    let query = use_query_map();
    let delete = ServerAction::<crate::pages::delete::DeleteImage>::new();
    let data = Resource::new(
        move || {
            delete.version().get();
            let (sort, paging) = query.with(|q| {
                (
                    q.get("sort").unwrap_or_default(),
                    Paging::from_query(q.get_str("page"), q.get_str("per_page")),
                )
            });
            (name.get(), sort, paging)
        },
        |(name, sort, paging)| async move {
            match paging {
                Ok(p) => repository(name, sort, p.page, p.per_page)
                    .await
                    .unwrap_or_else(|e| RepositoryView::BadRequest(format!("Regent could not load this page: {e}"))),
                Err(message) => RepositoryView::BadRequest(message),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    RepositoryView::Found { summary, stale, rows, sort, paging, pull_host, status, you, cluster } => {
                        let pages = paging.page_count(summary.tags);
                        let name = summary.name.clone();
                        let href = move |n| repository_page_href(&name, sort, &paging, n);
                        let sorting = SortLinks { repository: summary.name.clone(), current: sort, paging };
                        let may_delete = you.delete;
                        let row_end = may_delete
                            .then(|| Callback::new(move |row: crate::dto::TagRow| crate::components::delete_controls::tag_controls(delete, &row)));
                        let (repository, tags) = (summary.name.clone(), summary.tags);
                        let workloads: Vec<String> = cluster
                            .as_ref()
                            .map(|c| crate::dto::impact_labels(&c.workloads, c.hidden_workloads))
                            .unwrap_or_default();
                        view! {
                            <Title text=summary.name.clone() />
                            <IndexStatusNotice status=*status />
                            <Header summary=summary.clone() stale pull_host />
                            <YourAccess you name=summary.name.clone() />
                            {cluster.map(|cluster| view! { <crate::components::stream::StreamNotice cluster=*cluster /> })}
                            <crate::components::notice::OutcomeNotice value=delete.value() />
                            <h2>"Tags"</h2>
                            <crate::components::quick_delete::QuickDeleteTable rows sorting=Some(sorting) row_end finished=Callback::new(move |_| data.refetch()) />
                            <Pagination paging pages href />
                            {may_delete.then(|| view! { <crate::components::delete_controls::RepositoryDelete action=delete name=repository tags workloads /> })}
                        }
                        .into_any()
                    }
                    RepositoryView::Empty { name, created_by, created, pull_host, you } => {
                        let push = format!("podman push {pull_host}/{name}:<tag>");
                        view! {
                            <Title text=name.clone() />
                            <h1 class="repository-name">{name.clone()}</h1>
                            <p class="notice info" data-empty="true">
                                {format!("Nothing pushed yet: {created_by} created this repository in Regent on {created}.")}
                            </p>
                            {you.push.then(|| view! { <p class="pull">"Push the first image: " <CopyText text=push label="Copy the push command" /></p> })}
                            <YourAccess you name />
                        }
                        .into_any()
                    }
                    RepositoryView::StreamOnly { name, cluster, you } => view! {
                        <Title text=name.clone() />
                        <h1 class="repository-name">{name.clone()}</h1>
                        <p class="notice info" data-stream-only="true">
                            {format!("The registry has nothing of {name} yet: it is an image stream on the cluster, and none of its tags has an image here.")}
                        </p>
                        <YourAccess you name=name.clone() />
                        <crate::components::stream::StreamNotice cluster=*cluster />
                    }
                    .into_any(),
                    RepositoryView::NotFound { name, status } => {
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
                            <Title text="Repository not found" />
                            <IndexStatusNotice status />
                            <h1>"Repository not found"</h1>
                            <p>{why}</p>
                            <p><a href=format!("/images?q={}", crate::dto::encode_query_value(&name))>"Search for it"</a></p>
                        }
                        .into_any()
                    }
                    RepositoryView::BadRequest(message) => view! { <BadAddress message /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The viewer's level here, what it lets them do, and (for scope admins) who else has access.
#[component]
fn YourAccess(you: crate::dto::Capabilities, name: String) -> impl IntoView {
    let mut can = vec!["pull"];
    if you.push {
        can.push("push");
    }
    if you.delete {
        can.push("delete");
    }
    if you.manage {
        can.push("manage access");
    }
    view! {
        <p class="your-access" data-level=you.level.clone()>
            {format!("Your access: {} ({})", you.level, can.join(", "))}
            {you.manage.then(|| view! {
                " · " <a href=format!("/admin/access?scope={}", crate::dto::encode_query_value(&name))>"Who has access"</a>
            })}
        </p>
    }
}

#[component]
fn Header(summary: RepositorySummary, stale: bool, pull_host: String) -> impl IntoView {
    let pull = format!("docker pull {pull_host}/{}:{}", summary.name, summary.pull_tag);
    let last_push = summary
        .last_push
        .clone()
        .unwrap_or_else(|| "none seen since Regent started".into());
    view! {
        <h1 class="repository-name">{summary.name.clone()}</h1>
        {stale.then(|| view! {
            <p class="notice warning" role="status">"The last refresh of this repository failed; this is its last good data."</p>
        })}
        <dl class="facts">
            <div><dt>"Tags"</dt><dd data-fact="tags">{summary.tags}</dd></div>
            <div>
                <dt>"Size"</dt>
                <dd data-fact="size" title="compressed config and layer blobs, each counted once">{human_bytes(summary.total)}</dd>
            </div>
            <div>
                <dt>"Only in this repository"</dt>
                <dd data-fact="unique" title="freed by deleting every tag here and running the registry's garbage collection">
                    {human_bytes(summary.unique)}
                </dd>
            </div>
            <div>
                <dt>"Shared with other repositories"</dt>
                <dd data-fact="shared" title="stays while other repositories' tags use it">{human_bytes(summary.shared)}</dd>
            </div>
            <div><dt>"Last push"</dt><dd>{last_push}</dd></div>
            <div><dt>"Newest image built"</dt><dd>{summary.newest_created.clone().unwrap_or_else(|| "—".into())}</dd></div>
        </dl>
        <p class="pull">"Pull: " <CopyText text=pull label="Copy the pull command" /></p>
    }
}
