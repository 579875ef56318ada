//! `/openshift`: how Regent is connected to the cluster and its registry, what the watches
//! report, and where the cluster and the registry disagree: stream tags and managed images
//! the registry does not have, and registry tags no image stream refers to (what `oc adm
//! prune images` would delete).

use super::{ClusterTabs, Off};
use crate::components::stream::StreamHistory;
use crate::dto::{ClusterView, short_hex, tag_href};
use leptos::prelude::*;
use leptos_meta::Title;

/// At most this many unreferenced registry tags are listed (the count is always whole).
#[cfg(feature = "ssr")]
const LISTED: usize = 200;

#[server]
pub async fn cluster_page() -> Result<ClusterView, ServerFnError> {
    use super::guard::{Allowed, admin};
    use crate::dto::ClusterSummary;
    use regent_domain::openshift::Detection;
    let state = crate::state::AppState::get()?;
    let openshift = match admin(&state, "see the cluster").await? {
        Allowed::Yes(o, _) => o,
        Allowed::Off(reason) => return Ok(ClusterView::Off(reason)),
        Allowed::Denied(d, _) => return Ok(ClusterView::Denied(d)),
    };
    let status = openshift.status();
    let join = openshift.join();
    let access = state.access().await?;
    let drift = regent_domain::openshift::drift::missing_from_registry(&state.index, &join, join.all()).await;
    let (missing, _) = crate::convert::missing_views(&access, &join, &drift);
    let unchecked = crate::convert::unchecked_lines(&access, &drift);
    let failed_imports = join
        .failed_imports()
        .map(|t| crate::convert::stream_tag_view(t, false))
        .collect();
    let data = state.index.read();
    let missing_images = openshift
        .images()
        .iter()
        .filter(|i| i.managed())
        .filter_map(|i| i.metadata.name.clone())
        .filter(|d| regent_domain::reference::Digest::parse(d).is_ok_and(|d| !data.has_manifest(&d)))
        .collect();
    let mut unreferenced = Vec::new();
    let mut unreferenced_total = 0;
    for (name, _, _) in data.repositories() {
        for (tag, digest) in data.repository_tags(name).unwrap_or_default() {
            if !join.references(digest.as_ref()) {
                unreferenced_total += 1;
                if unreferenced.len() < LISTED {
                    unreferenced.push((format!("{name}:{tag}"), digest.to_string()));
                }
            }
        }
    }
    let state_text = match &status.detection {
        Detection::OpenShift => "connected".to_owned(),
        Detection::Unreachable(e) => format!("not answering ({e}); showing the last known state"),
        Detection::Kubernetes => "the image API is gone; showing the last known state".to_owned(),
        Detection::Detecting => "looking".to_owned(),
    };
    let registry = state
        .cluster
        .as_ref()
        .map(|c| c.registry.clone())
        .unwrap_or_else(|| Err("not looked for".into()));
    Ok(ClusterView::Shown(Box::new(ClusterSummary {
        api: status.api_url,
        connected: status.detection == Detection::OpenShift,
        state: state_text,
        identity: status.identity,
        identity_problem: status.identity_problem,
        registry,
        watches: status
            .caches
            .into_iter()
            .map(|c| crate::dto::WatchRow {
                kind: c.kind.to_owned(),
                listed: c.listed,
                objects: c.objects,
                error: c.error,
                refused: c.refused,
            })
            .collect(),
        missing,
        unchecked,
        failed_imports,
        missing_images,
        unreferenced,
        unreferenced_total,
    })))
}

#[component]
pub fn ClusterPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| async move { cluster_page().await });
    view! {
        <Title text="OpenShift" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(ClusterView::Shown(c)) => view! { <Summary c=*c /> }.into_any(),
                    Ok(ClusterView::Off(reason)) => view! { <Off reason /> }.into_any(),
                    Ok(ClusterView::Denied(denied)) => view! { <crate::pages::admin::DeniedNotice denied next="/openshift" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not load the cluster: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Summary(c: crate::dto::ClusterSummary) -> impl IntoView {
    let registry = match c.registry.clone() {
        Ok((how, identity)) => {
            view! { <dd data-registry="found">{format!("found through {how}; Regent signs in with {identity}")}</dd> }
                .into_any()
        }
        Err(why) => view! { <dd data-registry="problem" class="error">{why}</dd> }.into_any(),
    };
    let unchecked = (!c.unchecked.is_empty()).then(|| {
        let items = c.unchecked.iter().map(|u| view! { <li>{u.clone()}</li> }).collect_view();
        view! { <p class="notice warning">"Regent could not check these stream tags' images:"</p><ul data-list="unchecked">{items}</ul> }
    });
    let failed = if c.failed_imports.is_empty() {
        view! { <p data-failed-imports="0">"Every stream tag's last import succeeded."</p> }.into_any()
    } else {
        view! { <crate::components::stream::FailedImports tags=c.failed_imports.clone() /> }.into_any()
    };
    let identity = match (&c.identity, &c.identity_problem) {
        (Some(who), _) => view! { <dd data-identity="known">{who.clone()}</dd> }.into_any(),
        (None, Some(problem)) => view! { <dd data-identity="unknown" class="error">{problem.clone()}</dd> }.into_any(),
        (None, None) => view! { <dd data-identity="unknown">"not read yet"</dd> }.into_any(),
    };
    view! {
        <ClusterTabs />
        <h1>"OpenShift"</h1>
        <dl class="facts">
            <div><dt>"API server"</dt><dd><code>{c.api.clone()}</code></dd></div>
            <div><dt>"State"</dt><dd data-state=if c.connected { "connected" } else { "stale" }>{c.state.clone()}</dd></div>
            <div><dt>"Regent is"</dt>{identity}</div>
            <div><dt>"Integrated registry"</dt>{registry}</div>
        </dl>
        <h2>"Watched objects"</h2>
        <Watches watches=c.watches />
        <h2>"In OpenShift, not in the registry"</h2>
        <MissingFromRegistry missing=c.missing images=c.missing_images />
        {unchecked}
        <h2 id="failed-imports">"Imports that failed"</h2>
        {failed}
        <h2>"In the registry, in no image stream"</h2>
        <Unreferenced tags=c.unreferenced total=c.unreferenced_total />
    }
    .into_any()
}

/// Each watch Regent keeps on the cluster: listed yet, how many objects, why it is refused.
#[component]
fn Watches(watches: Vec<crate::dto::WatchRow>) -> impl IntoView {
    let rows = watches
        .into_iter()
        .map(|w| {
            let state = match (&w.refused, w.listed) {
                (Some(_), _) => "not readable",
                (None, true) => "listed, watching",
                (None, false) => "listing…",
            };
            view! {
                <tr data-watch=w.kind.clone() data-refused=w.refused.is_some().to_string()>
                    <td>{w.kind.clone()}</td>
                    <td>{state}</td>
                    <td class="num">{w.objects}</td>
                    <td class="error">{w.refused.clone().or(w.error.clone()).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="admin-table" data-table="watches">
            <thead><tr><th>"Kind"</th><th>"State"</th><th class="num">"Objects"</th><th>"Last error"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Stream tags whose image the registry does not have, and why; and managed image objects
/// whose manifest is gone.
#[component]
fn MissingFromRegistry(missing: Vec<crate::dto::StreamTagView>, images: Vec<String>) -> impl IntoView {
    if missing.is_empty() && images.is_empty() {
        return view! { <p data-missing="0">"Every image stream tag's image is in the registry."</p> }.into_any();
    }
    let rows = missing
        .into_iter()
        .map(|t| {
            let current = t.current.clone().unwrap_or_default();
            let looked_in = t.looked_in.clone().unwrap_or_default();
            let why = match (&t.source, &t.import) {
                (_, Some(i)) if !i.succeeded => format!("import failed: {}", i.message.clone().unwrap_or_default()),
                _ => format!("the registry answers 404 for it in {looked_in}: pushed, then deleted from the registry"),
            };
            view! {
                <tr data-missing=t.name.clone() data-looked-in=looked_in.clone()>
                    <td><code>{t.name.clone()}</code></td>
                    <td><code title=current.clone()>{short_hex(&current).to_owned()}</code></td>
                    <td>{why}</td>
                    <td><StreamHistory tag=t.clone() /></td>
                </tr>
            }
        })
        .collect_view();
    let listed = (!images.is_empty()).then(|| {
        let items = images
            .into_iter()
            .map(|d| view! { <li><code>{d}</code></li> })
            .collect_view();
        view! {
            <p>"Image objects pushed here (managed) whose manifest the registry does not have:"</p>
            <ul data-list="missing-images">{items}</ul>
        }
    });
    view! {
        <table class="admin-table" data-table="missing-from-registry">
            <thead><tr><th>"Stream tag"</th><th>"Digest"</th><th>"Why"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {listed}
    }
    .into_any()
}

/// Registry tags no image stream refers to: what `oc adm prune images` would delete.
#[component]
fn Unreferenced(tags: Vec<(String, String)>, total: usize) -> impl IntoView {
    if tags.is_empty() {
        return view! { <p data-unreferenced="0">"Every registry tag is in an image stream."</p> }.into_any();
    }
    let rows = tags
        .into_iter()
        .map(|(name, digest)| {
            let (repository, tag) = name.rsplit_once(':').unwrap_or((name.as_str(), ""));
            view! {
                <li data-unreferenced=name.clone()>
                    <a href=tag_href(repository, tag)>{name.clone()}</a>" "
                    <code title=digest.clone()>{short_hex(&digest).to_owned()}</code>
                </li>
            }
        })
        .collect_view();
    view! {
        <p>{format!("{total} registry tag(s) point at manifests no image stream refers to; `oc adm prune images` would delete them.")}</p>
        <ul class="unreferenced">{rows}</ul>
    }
    .into_any()
}
