//! The storage page, `/storage`: which repositories hold the registry's bytes, drawn as a bar
//! chart in SVG on the server (no chart library reaches the browser).
//!
//! Each bar is a repository's distinct blobs: the solid part only it uses (freed by deleting
//! it and collecting garbage), the light part shared with other repositories. The totals say
//! what the registry stores with every blob counted once, and how much sharing saves.

use crate::components::bad_address::BadAddress;
use crate::components::copy::CopyText;
use crate::components::index_status::IndexStatusNotice;
use crate::components::pagination::Pagination;
use crate::components::sign_in_hint::SignInHint;
use crate::dto::{Paging, StorageReportView, StorageRow, StorageView, human_bytes, repository_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn storage(page: u32, per_page: u32) -> Result<StorageView, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let status = crate::convert::status(&state.index);
    let paging = match Paging::new(page, per_page) {
        Ok(p) => p,
        Err(m) => return Ok(StorageView::BadRequest(m)),
    };
    let access = state.access().await?;
    let report = state
        .index
        .read()
        .storage(&|n| access.may(regent_domain::access::Action::View, n));
    let largest = report.repositories.first().map_or(0, |r| r.total);
    let gc = if access.admin {
        let plan = state.deleter.gc_plan().await.map_err(ServerFnError::new)?;
        Some(crate::dto::GcPlanView {
            blobs: plan.blobs.len(),
            bytes: plan.bytes,
            untagged: plan.untagged.iter().map(|(r, d, _)| format!("{r}@{d}")).collect(),
            untagged_bytes: plan.untagged_bytes,
        })
    } else {
        None
    };
    Ok(StorageView::Found(Box::new(StorageReportView {
        total: report.total,
        sum_of_repositories: report.sum_of_repositories,
        blobs: report.blobs,
        repositories: report.repositories.len(),
        rows: report
            .repositories
            .into_iter()
            .skip(paging.offset())
            .take(paging.per_page as usize)
            .map(|r| StorageRow {
                name: r.name.to_string(),
                tags: r.tags,
                total: r.total,
                unique: r.unique,
            })
            .collect(),
        largest,
        paging,
        status,
        anonymous: !access.signed_in,
        gc,
    })))
}

/// The operator ran the registry's garbage collection: the plan starts afresh.
#[server(prefix = "/api", endpoint = "gc_done")]
pub async fn gc_done() -> Result<crate::dto::Outcome, ServerFnError> {
    use crate::pages::admin::guard::Caller;
    let state = crate::state::AppState::get()?;
    let caller = Caller::get(&state).await?;
    if let Err(denied) = caller.admin_only("reset the garbage-collection plan") {
        return Ok(caller.refuse(&state, "gc.done", "registry", denied).await);
    }
    state
        .store
        .clear_gc_notes(&caller.actor)
        .await
        .map_err(ServerFnError::new)?;
    Ok(crate::dto::Outcome::Done(
        "The garbage-collection plan starts afresh.".into(),
    ))
}

#[component]
pub fn StoragePage() -> impl IntoView {
    let query = use_query_map();
    let reset = ServerAction::<GcDone>::new();
    let data = Resource::new(
        move || {
            reset.version().get();
            query.with(|q| Paging::from_query(q.get_str("page"), q.get_str("per_page")))
        },
        |paging| async move {
            match paging {
                Ok(p) => storage(p.page, p.per_page)
                    .await
                    .unwrap_or_else(|e| StorageView::BadRequest(format!("Regent could not load this page: {e}"))),
                Err(m) => StorageView::BadRequest(m),
            }
        },
    );
    view! {
        <Title text="Storage" />
        <h1>"Storage"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    StorageView::Found(report) => {
                        let StorageReportView { total, sum_of_repositories, blobs, repositories, rows, largest, paging, status, anonymous, gc } = *report;
                        let pages = paging.page_count(repositories);
                        let href = move |n: u32| {
                            if n == 1 && paging.per_page == crate::dto::DEFAULT_PER_PAGE {
                                "/storage".to_owned()
                            } else {
                                format!("/storage?page={n}&per_page={}", paging.per_page)
                            }
                        };
                        let saved = sum_of_repositories.saturating_sub(total);
                        view! {
                            <IndexStatusNotice status />
                            <dl class="facts">
                                <div><dt>"Registry total"</dt><dd data-fact="total">{human_bytes(total)}</dd></div>
                                <div><dt>"Blobs"</dt><dd>{blobs}</dd></div>
                                <div><dt>"Repositories"</dt><dd>{repositories}</dd></div>
                                <div>
                                    <dt>"Saved by sharing"</dt>
                                    <dd title="what the repositories' sizes add up to, minus the registry total">{human_bytes(saved)}</dd>
                                </div>
                            </dl>
                            <p class="muted">
                                "Compressed config and layer blobs reached from tags, each counted once. Blobs no tag reaches \
                                 (waiting for the registry's garbage collection) and manifests themselves are not counted."
                            </p>
                            {(repositories == 0 && anonymous).then(|| view! { <SignInHint next="/storage" /> })}
                            <Chart rows largest offset=paging.offset() />
                            <Pagination paging pages href />
                            {gc.map(|plan| view! { <GcPlan plan reset /> })}
                        }
                        .into_any()
                    }
                    StorageView::BadRequest(message) => view! { <BadAddress message /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What garbage collection would free, the command that does it, and why not to add `-m`.
#[component]
fn GcPlan(plan: crate::dto::GcPlanView, reset: ServerAction<GcDone>) -> impl IntoView {
    let freed = if plan.blobs == 0 {
        "Nothing yet: no delete made in Regent has left blobs that no image uses.".to_owned()
    } else {
        format!(
            "Deletes made in Regent left {} blob(s), {}, that no remaining image uses. The registry's garbage \
             collection frees them:",
            plan.blobs,
            human_bytes(plan.bytes)
        )
    };
    let untagged = (!plan.untagged.is_empty()).then(|| {
        view! {
            <p class="notice warning">
                {format!(
                    "Tag deletes left {} manifest(s) untagged, holding {}. Garbage collection keeps them. \
                     Its --delete-untagged (-m) option would free them but also deletes the platform images of \
                     every multi-arch image (they are untagged by nature), breaking their pulls: do not use it on \
                     this registry. Delete those digests in Regent instead: ",
                    plan.untagged.len(),
                    human_bytes(plan.untagged_bytes)
                )}
                {plan.untagged.join(", ")}
            </p>
        }
    });
    view! {
        <section class="gc-plan" data-gc-blobs=plan.blobs data-gc-bytes=plan.bytes>
            <h2>"Garbage collection"</h2>
            <crate::components::notice::OutcomeNotice value=reset.value() />
            <p>{freed}</p>
            {(plan.blobs > 0).then(|| view! {
                <p>"With the registry stopped (or read-only), on its host:"</p>
                <p><CopyText text="docker-registry garbage-collect --dry-run /etc/docker/registry/config.yml".to_owned() label="Copy the dry-run command" /></p>
                <p><CopyText text="docker-registry garbage-collect /etc/docker/registry/config.yml".to_owned() label="Copy the command" /></p>
            })}
            {untagged}
            <p class="muted">"Counts only deletes made through Regent; the registry may hold other unused blobs from before."</p>
            <ActionForm action=reset attr:class="inline">
                <button type="submit">"I ran the garbage collection"</button>
            </ActionForm>
        </section>
    }
}

/// Height of one bar row, in SVG units.
const ROW: f64 = 28.0;
/// Where bars start and how wide the widest is (the name column is to the left).
const BAR_X: f64 = 260.0;
const BAR_WIDTH: f64 = 480.0;

/// Horizontal stacked bars, one per repository: unique bytes solid, shared bytes light.
#[component]
fn Chart(rows: Vec<StorageRow>, largest: u64, offset: usize) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>"No repository with tags that you have access to."</p> }.into_any();
    }
    let scale = |bytes: u64| {
        if largest == 0 {
            0.0
        } else {
            bytes as f64 / largest as f64 * BAR_WIDTH
        }
    };
    let height = ROW * rows.len() as f64 + 30.0;
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y = ROW * i as f64;
            let unique = scale(r.unique);
            let shared = scale(r.total - r.unique);
            let label = format!("{}. {}", offset + i + 1, r.name);
            let title = format!(
                "{}: {} in {} tag{} — {} only here, {} shared",
                r.name,
                human_bytes(r.total),
                r.tags,
                if r.tags == 1 { "" } else { "s" },
                human_bytes(r.unique),
                human_bytes(r.total - r.unique)
            );
            view! {
                <a href=repository_href(&r.name)>
                    <g class="bar-row" data-repository=r.name.clone()>
                        <title>{title}</title>
                        <text x="0" y=y + 18.0 class="label">{label}</text>
                        <rect x=BAR_X y=y + 5.0 width=format!("{unique:.1}") height="18" class="unique"></rect>
                        <rect x=BAR_X + unique y=y + 5.0 width=format!("{shared:.1}") height="18" class="shared-bytes"></rect>
                        <text x=BAR_X + unique + shared + 6.0 y=y + 18.0 class="value">{human_bytes(r.total)}</text>
                    </g>
                </a>
            }
        })
        .collect_view();
    let legend_y = height - 10.0;
    view! {
        <svg
            class="storage-chart"
            viewBox=format!("0 0 {} {height}", BAR_X + BAR_WIDTH + 90.0)
            role="img"
            aria-label="Repositories by size: unique bytes solid, shared bytes light"
        >
            {bars}
            <rect x=BAR_X y=legend_y - 10.0 width="12" height="12" class="unique"></rect>
            <text x=BAR_X + 18.0 y=legend_y class="legend">"only in this repository"</text>
            <rect x=BAR_X + 200.0 y=legend_y - 10.0 width="12" height="12" class="shared-bytes"></rect>
            <text x=BAR_X + 218.0 y=legend_y class="legend">"shared with others"</text>
        </svg>
    }
    .into_any()
}
