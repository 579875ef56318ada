//! OpenShift image streams next to registry data: the image-stream cell of a tag row, a
//! stream tag's history and import status, what is in a stream but not in the registry, and
//! the workloads running an image. Rendered only when Regent is connected to a cluster.

use crate::dto::{RepositoryOnCluster, StreamTagView, TagRow, WorkloadRow, short_hex};
use leptos::prelude::*;

/// The image-stream cell of a tag row.
pub fn stream_cell(row: &TagRow) -> AnyView {
    let streams = (!row.streams.is_empty()).then(|| {
        let names = row
            .streams
            .iter()
            .map(|s| {
                let tracks = (!s.tracks.is_empty()).then(|| {
                    view! { <span class="muted" data-tracks=s.tracks.join(" → ")>{format!(" tracks {}", s.tracks.join(" → "))}</span> }
                });
                view! { <li data-stream-tag=s.name.clone()><code>{s.name.clone()}</code>{tracks}</li> }
            })
            .collect_view();
        view! { <ul class="streams">{names}</ul> }
    });
    let unseen = crate::dto::unseen_stream_tags(row.hidden_streams).map(
        |text| view! { <span class="muted" data-hidden-streams=row.hidden_streams>{format!("and {text}")}</span> },
    );
    let unreferenced = (row.unreferenced).then(|| {
        view! {
            <span class="badge warning" data-unreferenced="true"
                title="no image stream tag or history refers to this digest: `oc adm prune images` would delete it">
                "in no image stream"
            </span>
        }
    });
    let tag = row.stream_tag.clone().map(|t| view! { <StreamTagBadges tag=t /> });
    view! { <td class="image-stream">{streams}{unseen}{tag}{unreferenced}</td> }.into_any()
}

/// Tracking, import status and history of a stream tag, compactly (a table cell).
#[component]
fn StreamTagBadges(tag: StreamTagView) -> impl IntoView {
    let tracks = (!tag.chain.is_empty()).then(|| {
        let chain = tag.chain.join(" → ");
        view! { <span class="badge" data-tracks=chain.clone() title="a tracking tag: it follows that tag of the stream">{format!("tracks {chain}")}</span> }
    });
    let import = tag.import.clone().filter(|i| !i.succeeded).map(|i| {
        let message = i.message.unwrap_or_default();
        view! { <span class="badge error" data-import="failed" title=message>"import failed"</span> }
    });
    let moved = tag.missing.then(|| {
        let current = tag.current.clone().unwrap_or_default();
        view! {
            <span class="badge warning" title=format!("the stream tag points at {current}, not at this digest")>
                {format!("stream tag now at {}", short_hex(&current))}
            </span>
        }
    });
    let history = (tag.history.len() > 1).then(|| view! { <StreamHistory tag=tag.clone() /> });
    view! { {tracks}{import}{moved}{history} }
}

/// A stream tag's history, newest first, unfolding.
#[component]
pub fn StreamHistory(tag: StreamTagView) -> impl IntoView {
    let rows = tag
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            view! {
                <li data-history=h.digest.clone()>
                    <code title=h.digest.clone()>{short_hex(&h.digest).to_owned()}</code>" "
                    <span class="muted">{h.created.clone().unwrap_or_default()}</span>
                    {(i == 0).then_some(" (current)")}
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="history">
            <summary>{format!("history ({})", tag.history.len())}</summary>
            <ol>{rows}</ol>
        </details>
    }
}

/// What a stream tag is: where it points and comes from, how it is imported, its history.
#[component]
pub fn StreamTagFacts(tag: StreamTagView) -> impl IntoView {
    let import = tag.import.clone().map(|i| {
        let when = i.time.clone().unwrap_or_default();
        if i.succeeded {
            view! { <div><dt>"Last import"</dt><dd data-import="ok">{format!("succeeded {when}")}</dd></div> }
                .into_any()
        } else {
            let reason = i.reason.clone().unwrap_or_default();
            view! {
                <div>
                    <dt>"Last import"</dt>
                    <dd data-import="failed" class="error">
                        {format!("failed {when} ({reason}): {}", i.message.clone().unwrap_or_default())}
                    </dd>
                </div>
            }
            .into_any()
        }
    });
    let fact = |label: &'static str, value: Option<String>| {
        value.map(|v| view! { <div><dt>{label}</dt><dd><code>{v}</code></dd></div> })
    };
    view! {
        <h3>{format!("Image stream tag {}", tag.name)}</h3>
        <dl class="facts">
            {fact("Points at", tag.current.clone())}
            {fact("Tracks", (!tag.chain.is_empty()).then(|| tag.chain.join(" → ")))}
            {fact("Imported from", tag.source.clone())}
            {tag.schedule.clone().map(|s| view! { <div><dt>"Import"</dt><dd data-schedule=s.clone()>{format!("scheduled: {s}")}</dd></div> })}
            {import}
        </dl>
        {tag.missing.then(|| view! {
            <p class="notice warning" role="status">"The registry has a different image under this tag than the image stream: the stream tag is what OpenShift deploys."</p>
        })}
        <h4>"History (newest first)"</h4>
        <table class="admin-table" data-table="stream-history">
            <thead><tr><th>"Digest"</th><th>"Since"</th></tr></thead>
            <tbody>
                {tag.history.iter().map(|h| view! {
                    <tr><td><code title=h.digest.clone()>{short_hex(&h.digest).to_owned()}</code></td><td>{h.created.clone().unwrap_or_default()}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The workloads running an image, or that none does.
#[component]
pub fn Workloads(
    workloads: Vec<WorkloadRow>,
    /// Containers running it in projects the viewer may not see: counted, not named.
    #[prop(default = 0)]
    hidden: usize,
) -> impl IntoView {
    let unseen = crate::dto::unseen_workloads(hidden)
        .map(|text| view! { <p class="muted" data-hidden-workloads=hidden>{format!("Also {text}.")}</p> });
    if workloads.is_empty() {
        let none = if hidden == 0 {
            "No pod runs this image now."
        } else {
            "No pod you can see runs this image."
        };
        return view! { <p class="muted" data-workloads="0">{none}</p> {unseen} }.into_any();
    }
    let items = workloads
        .iter()
        .map(|w| view! { <li data-workload=w.pod.clone()>{w.label()}</li> })
        .collect_view();
    view! { <ul class="workloads" data-workloads=workloads.len()>{items}</ul> {unseen} }.into_any()
}

/// The repository page's stream section: the stream, and what it has that the registry lacks.
#[component]
pub fn StreamNotice(cluster: RepositoryOnCluster) -> impl IntoView {
    let stale = cluster.stale.then(|| {
        view! { <p class="notice warning" role="status">"The cluster does not answer right now; the image stream data is the last known."</p> }
    });
    let stream = match &cluster.stream {
        Some(s) => view! { <p class="image-stream-name">"Image stream: "<code>{s.clone()}</code></p> }.into_any(),
        None => view! { <p class="muted">"No image stream of this name on the cluster."</p> }.into_any(),
    };
    let missing = (!cluster.missing.is_empty()).then(|| {
        let rows = cluster
            .missing
            .iter()
            .map(|t| {
                let current = t.current.clone().unwrap_or_default();
                let import = t
                    .import
                    .as_ref()
                    .filter(|i| !i.succeeded)
                    .map(|i| format!("import failed: {}", i.message.clone().unwrap_or_default()))
                    .unwrap_or_default();
                view! {
                    <tr data-missing=t.tag.clone() data-stream-tag=t.name.clone()>
                        <td><code>{t.name.clone()}</code></td>
                        <td><code title=current.clone()>{short_hex(&current).to_owned()}</code></td>
                        <td data-looked-in=t.looked_in.clone().unwrap_or_default()><code>{t.looked_in.clone().unwrap_or_default()}</code></td>
                        <td>{t.source.clone().unwrap_or_else(|| "pushed".into())}</td>
                        <td class="error">{import}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h2>"In the image stream, not in the registry"</h2>
            <p class="hint">"OpenShift's stream tags point at these digests, but the registry answers 404 for them in the repository their image reference names (a manifest deleted behind the stream's back, or a push that never arrived)."</p>
            <table class="admin-table" data-table="missing-from-registry">
                <thead><tr><th>"Stream tag"</th><th>"Digest"</th><th>"Looked in"</th><th>"From"</th><th>"Import"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let hidden_missing = crate::dto::unseen_stream_tags(cluster.hidden_missing)
        .map(|text| view! { <p class="muted" data-hidden-missing=cluster.hidden_missing>{format!("The registry also lacks the images of {text}.")}</p> });
    let unchecked = (!cluster.unchecked.is_empty()).then(|| {
        let items = cluster.unchecked.iter().map(|u| view! { <li>{u.clone()}</li> }).collect_view();
        view! { <p class="notice warning">"Regent could not check these stream tags' images:"</p><ul data-list="unchecked">{items}</ul> }
    });
    let failed = (!cluster.failed_imports.is_empty())
        .then(|| view! { <h2>"Imports that failed"</h2> <FailedImports tags=cluster.failed_imports.clone() /> });
    view! { <section class="openshift">{stale}{stream}{missing}{hidden_missing}{unchecked}{failed}</section> }
        .into_any()
}

/// Stream tags whose last import failed: source, schedule, when, why.
#[component]
pub fn FailedImports(tags: Vec<StreamTagView>) -> impl IntoView {
    let rows = tags
        .iter()
        .map(|t| {
            let import = t.import.clone();
            let when = import.as_ref().and_then(|i| i.time.clone()).unwrap_or_default();
            let why = import
                .as_ref()
                .map(|i| match &i.reason {
                    Some(reason) => format!("{reason}: {}", i.message.clone().unwrap_or_default()),
                    None => i.message.clone().unwrap_or_default(),
                })
                .unwrap_or_default();
            let how = t.schedule.clone().unwrap_or_else(|| match &t.source {
                Some(source) => format!("imported once from {source} (not scheduled)"),
                None => "not imported from another registry".to_owned(),
            });
            let since = match &t.current {
                Some(current) => format!("still at {} from an earlier import", short_hex(current)),
                None => "never imported: the tag has no image".to_owned(),
            };
            view! {
                <tr data-failed-import=t.name.clone()>
                    <td><code>{t.name.clone()}</code></td>
                    <td data-schedule=t.schedule.clone().unwrap_or_default()>{how}</td>
                    <td>{when}</td>
                    <td class="error">{why}</td>
                    <td>{since}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="admin-table" data-table="failed-imports">
            <thead><tr><th>"Stream tag"</th><th>"Import"</th><th>"Last tried"</th><th>"Why it failed"</th><th>"Image"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
