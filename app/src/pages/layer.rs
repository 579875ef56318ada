//! The layer page, `/layers/<digest>`: a layer's size and media type, and every repository,
//! tag and manifest that contains it, from the index's reverse edges. This is the screen a
//! security reviewer uses to see how far a leaked layer spread.

use crate::components::bad_address::BadAddress;
use crate::components::index_status::IndexStatusNotice;
use crate::components::pagination::Pagination;
use crate::components::tag_table::TagTable;
use crate::dto::{LayerView, Paging, human_bytes, layer_href, repository_href};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn layer(digest: String, page: u32, per_page: u32) -> Result<LayerView, ServerFnError> {
    use regent_domain::reference::Digest;
    let state = crate::state::AppState::get()?;
    let status = crate::convert::status(&state.index);
    let digest = match Digest::parse(digest.trim()) {
        Ok(d) => d,
        Err(e) => return Ok(LayerView::BadRequest(e.to_string())),
    };
    let paging = match Paging::new(page, per_page) {
        Ok(p) => p,
        Err(m) => return Ok(LayerView::BadRequest(m)),
    };
    let access = state.access().await?;
    let visible = |n: &regent_domain::reference::RepositoryName| access.may(regent_domain::access::Action::View, n);
    let data = state.index.read();
    let usage = data
        .layer_usage(&digest, &visible)
        .filter(|u| !u.repositories.is_empty());
    let Some(usage) = usage else {
        return Ok(LayerView::NotFound {
            digest: digest.to_string(),
            status,
        });
    };
    let openshift = state.openshift();
    let tags = data.tags_with_layer(
        &digest,
        &visible,
        paging.offset(),
        paging.per_page as usize,
        openshift.is_some(),
    );
    let running = match openshift {
        Some(openshift) => {
            let digests: Vec<String> = tags.manifests.iter().map(ToString::to_string).collect();
            crate::convert::visible_workloads(openshift, &access, digests.iter().map(String::as_str))
        }
        None => Default::default(),
    };
    let (total, mut rows): (usize, Vec<crate::dto::TagRow>) = (
        tags.total,
        tags.page.into_iter().map(|h| crate::convert::tag_row(h.info)).collect(),
    );
    drop(data);
    crate::convert::on_cluster(&state, &access, &mut rows);
    let deletable = usage
        .repositories
        .iter()
        .filter(|r| access.may(regent_domain::access::Action::Delete, r))
        .map(ToString::to_string)
        .collect();
    Ok(LayerView::Found {
        deletable,
        digest: digest.to_string(),
        size: usage.size,
        media_type: usage.media_type,
        images: usage.images,
        repositories: usage.repositories.iter().map(ToString::to_string).collect(),
        rows,
        total,
        paging,
        status,
        workloads: crate::dto::impact_labels(&running.shown, running.hidden),
    })
}

#[component]
pub fn LayerPage() -> impl IntoView {
    let query = use_query_map();
    let params = leptos_router::hooks::use_params_map();
    let delete = ServerAction::<crate::pages::delete::DeleteImage>::new();
    let data = Resource::new(
        move || {
            delete.version().get();
            (
                params.with(|p| p.get("digest").unwrap_or_default()),
                query.with(|q| Paging::from_query(q.get_str("page"), q.get_str("per_page"))),
            )
        },
        |(digest, paging)| async move {
            match paging {
                Ok(p) => layer(digest, p.page, p.per_page)
                    .await
                    .unwrap_or_else(|e| LayerView::BadRequest(format!("Regent could not load this page: {e}"))),
                Err(m) => LayerView::BadRequest(m),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    LayerView::Found { digest, size, media_type, images, repositories, rows, total, paging, status, deletable, workloads } => {
                        let pages = paging.page_count(total);
                        let href = {
                            let base = layer_href(&digest);
                            move |n: u32| if n == 1 && paging.per_page == crate::dto::DEFAULT_PER_PAGE {
                                base.clone()
                            } else {
                                format!("{base}?page={n}&per_page={}", paging.per_page)
                            }
                        };
                        let repository_links = repositories
                            .iter()
                            .map(|r| view! { <li><a href=repository_href(r)>{r.clone()}</a></li> })
                            .collect_view();
                        let spread = format!(
                            "In {images} image manifest{} across {} repositor{}, reached by {total} tag{}.",
                            if images == 1 { "" } else { "s" },
                            repositories.len(),
                            if repositories.len() == 1 { "y" } else { "ies" },
                            if total == 1 { "" } else { "s" },
                        );
                        view! {
                            <Title text=format!("Layer {}", crate::dto::short_hex(&digest)) />
                            <IndexStatusNotice status />
                            <h1>"Layer"</h1>
                            <dl class="facts">
                                <div><dt>"Digest"</dt><dd><crate::components::copy::CopyText text=digest.clone() label="Copy the digest" /></dd></div>
                                <div><dt>"Size"</dt><dd>{human_bytes(size)}" compressed"</dd></div>
                                <div><dt>"Media type"</dt><dd><code>{media_type}</code></dd></div>
                            </dl>
                            <p class="summary" data-total=total>{spread}</p>
                            <crate::components::notice::OutcomeNotice value=delete.value() />
                            {(!deletable.is_empty()).then(|| view! { <crate::components::delete_controls::LayerDelete action=delete digest=digest.clone() deletable workloads /> })}
                            <h2>"Repositories"</h2>
                            <ul class="layer-repositories">{repository_links}</ul>
                            <h2>"Tags"</h2>
                            <TagTable rows show_repository=true />
                            <Pagination paging pages href />
                        }
                        .into_any()
                    }
                    LayerView::NotFound { digest, status } => {
                        #[cfg(feature = "ssr")]
                        if status.complete && let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                            r.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                            <Title text="Layer not found" />
                            <IndexStatusNotice status />
                            <h1>"Layer not found"</h1>
                            <p>{format!("No tagged image in the registry has the layer {digest}.")}</p>
                            <p>
                                "If it is a manifest digest or an image id, "
                                <a href=format!("/images?q={}", crate::dto::encode_query_value(&digest))>"search for it"</a>
                                "."
                            </p>
                        }
                        .into_any()
                    }
                    LayerView::BadRequest(message) => view! { <BadAddress message /> }.into_any(),
                }
            })}
        </Transition>
    }
}
