//! Deleting from the repository page: one tag, one digest with its tags, or the repository.
//!
//! The controls appear only for viewers with the `delete` level there (the page's capability
//! flags); the server function checks again, refuses and audits anyone else. Each control says
//! what will go before it goes: a tag alone (its digest and other tags stay), a digest with
//! every tag on it by name, a repository with its tag count.

use crate::dto::{Outcome, TagRow};
use leptos::prelude::*;

/// `op` is `tag` (with `tag`), `manifest` (with `digest`), `repository`, or `layer` (with the
/// layer's `digest`; every image containing it in every repository the caller may delete in).
/// On OpenShift also `stream_tag` (the image stream tag `repository:tag`) and `image` (the
/// image `digest` everywhere, in prune order: the caller must be able to delete in every
/// repository whose stream or tags hold it).
#[server(prefix = "/api", endpoint = "delete")]
pub async fn delete_image(
    op: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
) -> Result<Outcome, ServerFnError> {
    use crate::pages::admin::guard::{Caller, sentence};
    use regent_domain::access::Action;
    use regent_domain::reference::{Digest, RepositoryName, Tag};
    let state = crate::state::AppState::get()?;
    let caller = Caller::get(&state).await?;
    if op == "layer" {
        let layer = match Digest::parse(digest.as_deref().unwrap_or_default().trim()) {
            Ok(d) => d,
            Err(e) => return Ok(Outcome::Refused(sentence(&format!("Layer digest: {e}")))),
        };
        let access = &caller.access;
        let visible = |r: &RepositoryName| access.may(Action::View, r);
        let deletable = |r: &RepositoryName| access.may(Action::Delete, r);
        let reach = state.index.read().layer_usage(&layer, &visible);
        if !reach.is_some_and(|u| u.repositories.iter().any(deletable)) {
            let denied = caller.denied("You may not delete in any repository that has this layer");
            return Ok(caller
                .refuse(&state, "delete.layer", &format!("layer {layer}"), denied)
                .await);
        }
        return Ok(
            match state.deleter.layer(&caller.actor, &layer, &visible, &deletable).await {
                Ok(report) if report.deleted.is_empty() => Outcome::Refused(report.summary),
                Ok(report) => Outcome::Done(report.summary),
                Err(e) => Outcome::Refused(e.to_string()),
            },
        );
    }
    let shown: String = repository.chars().take(255).collect();
    let repository = match RepositoryName::parse(repository.trim()) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Refused(sentence(&format!("Repository name: {e}")))),
    };
    let action = format!("delete.{}", op.chars().take(20).collect::<String>());
    if !caller.access.may(Action::Delete, &repository) {
        let denied = caller.denied(&format!("You may not delete in {shown}"));
        return Ok(caller.refuse(&state, &action, &shown, denied).await);
    }
    let deleter = &state.deleter;
    if op == "image" {
        let digest = match Digest::parse(digest.as_deref().unwrap_or_default().trim()) {
            Ok(d) => d,
            Err(e) => return Ok(Outcome::Refused(sentence(&format!("Digest: {e}")))),
        };
        // Who holds it, whether Regent knows enough yet, and what goes: the domain's prune plan.
        return Ok(
            match deleter.prune_image(&caller.actor, &digest, &caller.access).await {
                Ok(done) => Outcome::Done(done.summary),
                Err(e @ regent_domain::deletes::DeleteError::Denied { .. }) => {
                    Outcome::Refused(caller.denied(&e.to_string()).message)
                }
                Err(e) => Outcome::Refused(e.to_string()),
            },
        );
    }
    let result = match op.as_str() {
        "stream_tag" => {
            let Some((namespace, stream)) = repository.as_str().split_once('/') else {
                return Ok(Outcome::Refused(format!(
                    "{repository} is not an image stream: on OpenShift repositories are <project>/<stream>."
                )));
            };
            match Tag::parse(tag.as_deref().unwrap_or_default()) {
                Ok(tag) => {
                    let name = regent_domain::openshift::StreamTagName {
                        namespace: namespace.to_owned(),
                        stream: stream.to_owned(),
                        tag: tag.to_string(),
                    };
                    deleter.stream_tag(&caller.actor, &name).await
                }
                Err(e) => return Ok(Outcome::Refused(sentence(&format!("Tag: {e}")))),
            }
        }
        "tag" => match Tag::parse(tag.as_deref().unwrap_or_default()) {
            Ok(tag) => deleter.tag(&caller.actor, &repository, &tag).await,
            Err(e) => return Ok(Outcome::Refused(sentence(&format!("Tag: {e}")))),
        },
        "manifest" => match Digest::parse(digest.as_deref().unwrap_or_default()) {
            Ok(digest) => deleter.manifest(&caller.actor, &repository, &digest).await,
            Err(e) => return Ok(Outcome::Refused(sentence(&format!("Digest: {e}")))),
        },
        "repository" => {
            let result = deleter.repository(&caller.actor, &repository).await;
            if result.is_ok() {
                leptos_axum::redirect("/images");
            }
            result
        }
        other => {
            return Ok(Outcome::Refused(format!(
                "\"{}\" is not something Regent deletes; use tag, manifest, repository, stream_tag or image.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    Ok(match result {
        Ok(deleted) => Outcome::Done(deleted.summary),
        Err(e) => Outcome::Refused(e.to_string()),
    })
}

/// Fills the delete plans of the rows the viewer may delete: what deleting each digest (and,
/// on OpenShift, each image everywhere) takes and keeps, from the same domain plan the delete
/// itself follows.
#[cfg(feature = "ssr")]
pub fn plan_rows(state: &crate::state::AppState, access: &regent_domain::access::Access, rows: &mut [TagRow]) {
    use regent_domain::reference::{Digest, RepositoryName};
    let view = |plan: Result<regent_domain::deletes::DeletePlan, regent_domain::deletes::DeleteError>| match plan {
        Ok(plan) => crate::dto::PlanView {
            goes: plan.goes(),
            stays: plan.stays(),
            refused: None,
        },
        Err(e) => crate::dto::PlanView {
            refused: Some(e.to_string()),
            ..Default::default()
        },
    };
    for row in rows.iter_mut().filter(|r| r.deletable) {
        let (Ok(repository), Ok(digest)) = (RepositoryName::parse(&row.repository), Digest::parse(&row.digest)) else {
            continue;
        };
        row.delete_plan = Some(view(state.deleter.manifest_plan(&repository, &digest)));
        if row.stream_tag.as_ref().is_some_and(|t| t.current.is_some()) {
            // Checked like the delete itself, so the preview names no other team's repository.
            let plan = state
                .deleter
                .prune_plan(&digest)
                .and_then(|p| p.permitted(access).map(|()| p));
            row.prune_plan = Some(view(plan));
        }
    }
}

/// What a delete plan takes and keeps, or why Regent would refuse it now.
fn plan_view(plan: &crate::dto::PlanView, what: &'static str) -> AnyView {
    if let Some(why) = &plan.refused {
        return view! { <p class="impact" data-impact=what>{why.clone()}</p> }.into_any();
    }
    let goes = plan.goes.clone();
    let stays = (!plan.stays.is_empty()).then(|| {
        let stays = plan.stays.clone();
        view! {
            <p class="impact">"Stays:"</p>
            <ul class="impact" data-impact=format!("{what}-stays")>{stays.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
        }
    });
    view! {
        <p class="impact">"Goes:"</p>
        <ul class="impact" data-impact=what>{goes.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
        {stays}
    }
    .into_any()
}

/// The delete cell of one tag row: the tag alone, or its digest with every tag on it.
pub fn tag_controls(action: ServerAction<DeleteImage>, row: &TagRow) -> AnyView {
    let others = if row.same_digest.is_empty() {
        "no other tag".to_owned()
    } else {
        format!("also {}", row.same_digest.join(", "))
    };
    let tag_note = format!(
        "Deletes only {}; the image stays under {}.",
        row.tag,
        if row.same_digest.is_empty() {
            "its digest (untagged until garbage collection)".to_owned()
        } else {
            row.same_digest.join(", ")
        }
    );
    let digest_label = match row.children.len() {
        0 => format!("Delete the digest ({others})"),
        _ => match row
            .delete_plan
            .as_ref()
            .map(|p| p.goes.iter().filter(|l| l.contains("(platform ")).count())
        {
            Some(n) if n < row.children.len() => format!(
                "Delete the multi-arch image and {n} of its {} platform images ({others})",
                row.children.len()
            ),
            _ => format!(
                "Delete the multi-arch image and its {} platform images ({others})",
                row.children.len()
            ),
        },
    };
    let (repository, tag, digest) = (row.repository.clone(), row.tag.clone(), row.digest.clone());
    let (repository2, digest_note) = (
        row.repository.clone(),
        format!("Deletes {} and every tag on it.", row.digest),
    );
    let impact = impact(row);
    let delete_plan = row.delete_plan.as_ref().map(|p| plan_view(p, "delete-plan"));
    let prune_plan = row.prune_plan.as_ref().map(|p| plan_view(p, "prune-plan"));
    let on_cluster = row.stream_tag.clone().filter(|t| t.current.is_some()).map(|t| {
        let (repository, tag, repository2, digest) =
            (row.repository.clone(), row.tag.clone(), row.repository.clone(), row.digest.clone());
        view! {
            <ActionForm action attr:class="inline" attr:data-form="delete-stream-tag">
                <input type="hidden" name="op" value="stream_tag" />
                <input type="hidden" name="repository" value=repository />
                <input type="hidden" name="tag" value=tag />
                <button type="submit" title="Deletes the tag from the image stream with its history; the image stays until pruned">
                    {format!("Delete the image stream tag {}", t.name)}
                </button>
            </ActionForm>
            <ActionForm action attr:class="inline" attr:data-form="delete-image-everywhere">
                <input type="hidden" name="op" value="image" />
                <input type="hidden" name="repository" value=repository2 />
                <input type="hidden" name="digest" value=digest />
                <button type="submit" title="As oc adm prune: the streams drop it first, then the registry data, then the Image object">
                    "Delete the image everywhere"
                </button>
            </ActionForm>
            {prune_plan}
        }
    });
    view! {
        <td class="delete">
            <details class="delete-controls">
                <summary>"Delete…"</summary>
                {impact}
                <ActionForm action attr:class="inline" attr:data-form="delete-tag">
                    <input type="hidden" name="op" value="tag" />
                    <input type="hidden" name="repository" value=repository />
                    <input type="hidden" name="tag" value=tag />
                    <button type="submit" title=tag_note>"Delete this tag"</button>
                </ActionForm>
                <ActionForm action attr:class="inline" attr:data-form="delete-manifest">
                    <input type="hidden" name="op" value="manifest" />
                    <input type="hidden" name="repository" value=repository2 />
                    <input type="hidden" name="digest" value=digest />
                    <button type="submit" title=digest_note>{digest_label}</button>
                </ActionForm>
                {delete_plan}
                {on_cluster}
            </details>
        </td>
    }
    .into_any()
}

/// What a delete of this row touches on OpenShift: the pods running it and the stream tags
/// pointing at it (nothing in registry-only mode).
fn impact(row: &TagRow) -> Option<AnyView> {
    let running = crate::dto::impact_labels(&row.workloads, row.hidden_workloads);
    if running.is_empty() && row.streams.is_empty() && row.hidden_streams == 0 {
        return None;
    }
    let running = (!running.is_empty()).then(|| {
        let names = running.join("; ");
        view! { <p class="impact" data-impact="workloads">{format!("Running now in {names}: their next pull fails once the image is gone.")}</p> }
    });
    let streams = (!row.streams.is_empty() || row.hidden_streams > 0).then(|| {
        let names =
            crate::dto::stream_tags_with_unseen(&crate::dto::stream_tag_labels(&row.streams), row.hidden_streams);
        view! { <p class="impact" data-impact="streams">{format!("Image stream tags on it: {names}.")}</p> }
    });
    Some(view! { {running}{streams} }.into_any())
}

/// Deleting the whole repository, saying what goes.
#[component]
pub fn RepositoryDelete(
    action: ServerAction<DeleteImage>,
    name: String,
    tags: usize,
    /// On OpenShift: what runs its images.
    #[prop(default = Vec::new())]
    workloads: Vec<String>,
) -> impl IntoView {
    let summary = format!("Delete the repository {name}…");
    let note = format!(
        "Deletes all {tags} tag(s) of {name} and the images they point at. The registry keeps the name (empty) in its \
         catalog until its storage is cleaned; Regent stops listing it at once. Layers shared with other repositories stay."
    );
    let label = format!("Delete {name}");
    view! {
        <details class="danger" data-form="delete-repository">
            <summary>{summary}</summary>
            <p>{note}</p>
            <Running workloads />
            <ActionForm action attr:class="inline">
                <input type="hidden" name="op" value="repository" />
                <input type="hidden" name="repository" value=name />
                <button type="submit">{label}</button>
            </ActionForm>
        </details>
    }
}

/// The leaked-secret case on the layer page: delete every image that contains the layer where
/// the viewer may, and unlink the layer there.
#[component]
pub fn LayerDelete(
    action: ServerAction<DeleteImage>,
    digest: String,
    deletable: Vec<String>,
    #[prop(default = Vec::new())] workloads: Vec<String>,
) -> impl IntoView {
    let note = format!(
        "Deletes every image (with all its tags) that contains this layer in {}, then the layer's link there, \
         so nothing there can pull it any more. Images elsewhere are listed as not touched. The data goes at \
         the registry's next garbage collection.",
        deletable.join(", ")
    );
    view! {
        <details class="danger" data-form="delete-layer">
            <summary>"Delete every image with this layer…"</summary>
            <p>{note}</p>
            <Running workloads />
            <ActionForm action attr:class="inline">
                <input type="hidden" name="op" value="layer" />
                <input type="hidden" name="repository" value="" />
                <input type="hidden" name="digest" value=digest />
                <button type="submit">"Delete them"</button>
            </ActionForm>
        </details>
    }
}

/// The workloads a delete would break (OpenShift), or nothing.
#[component]
fn Running(workloads: Vec<String>) -> impl IntoView {
    (!workloads.is_empty()).then(|| {
        view! {
            <p class="impact" data-impact="workloads">
                {format!("Running now in {}: their next pull fails once the images are gone.", workloads.join("; "))}
            </p>
        }
    })
}

/// One thing quick delete will delete.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pick {
    repository: String,
    tag: String,
    digest: String,
    /// Other tags on the same digest (they go too when whole images are deleted).
    others: Vec<String>,
    /// On OpenShift: what runs it.
    workloads: Vec<String>,
}

impl Pick {
    fn of(row: &TagRow) -> Self {
        Self {
            repository: row.repository.clone(),
            tag: row.tag.clone(),
            digest: row.digest.clone(),
            others: row.same_digest.clone(),
            workloads: crate::dto::impact_labels(&row.workloads, row.hidden_workloads),
        }
    }

    fn label(&self, images: bool) -> String {
        if images {
            let mut tags = vec![self.tag.clone()];
            tags.extend(self.others.iter().cloned());
            format!("{}@{} (tags {})", self.repository, self.digest, tags.join(", "))
        } else {
            format!("{}:{}", self.repository, self.tag)
        }
    }
}

/// What quick delete is doing.
#[derive(Debug, Clone, Default, PartialEq)]
struct Run {
    total: usize,
    /// Each finished item: its label, whether it went, and what Regent said.
    results: Vec<(String, bool, String)>,
}

/// A tag table with a quick delete mode: a switch shows a checkbox on every row the viewer may
/// delete, one confirmation lists everything that will go, then the deletes run one by one
/// with a progress bar; a failure does not stop the others, and the summary lists each outcome.
/// `finished` runs when the user closes the summary (the page reloads its data then).
#[component]
pub fn QuickDeleteTable(
    rows: Vec<TagRow>,
    #[prop(optional)] show_repository: bool,
    #[prop(default = None)] sorting: Option<crate::components::tag_table::SortLinks>,
    /// The last cell per row outside quick delete mode (per-row delete controls).
    #[prop(default = None)]
    row_end: Option<Callback<TagRow, AnyView>>,
    finished: Callback<()>,
) -> impl IntoView {
    use crate::components::tag_table::TagTable;
    let offered = rows.iter().any(|r| r.deletable);
    let quick = RwSignal::new(false);
    let picked = RwSignal::new(Vec::<Pick>::new());
    let images = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let run = RwSignal::new(None::<Run>);
    let all: Vec<Pick> = rows.iter().filter(|r| r.deletable).map(Pick::of).collect();

    let checkbox = Callback::new(move |row: TagRow| -> AnyView {
        if !row.deletable {
            return view! { <td class="select"></td> }.into_any();
        }
        let pick = Pick::of(&row);
        let label = format!("Select {}:{}", row.repository, row.tag);
        let checked = {
            let pick = pick.clone();
            move || picked.with(|p| p.contains(&pick))
        };
        view! {
            <td class="select">
                <input
                    type="checkbox"
                    aria-label=label
                    data-pick=format!("{}:{}", row.repository, row.tag)
                    prop:checked=checked
                    on:change=move |_| {
                        picked.update(|p| match p.iter().position(|x| *x == pick) {
                            Some(i) => {
                                p.remove(i);
                            }
                            None => p.push(pick.clone()),
                        })
                    }
                />
            </td>
        }
        .into_any()
    });

    // Whole images: one delete per (repository, digest).
    let work = move || {
        let whole = images.get();
        let mut items: Vec<Pick> = Vec::new();
        for p in picked.get() {
            let same = items
                .iter_mut()
                .find(|i| whole && i.repository == p.repository && i.digest == p.digest);
            match same {
                // Another selected tag of the same image: one delete, both tags named.
                Some(i) if !i.others.contains(&p.tag) && i.tag != p.tag => i.others.push(p.tag),
                Some(_) => {}
                None => items.push(p),
            }
        }
        (whole, items)
    };
    let start = move |_| {
        let (whole, items) = work();
        confirming.set(false);
        run.set(Some(Run {
            total: items.len(),
            results: Vec::new(),
        }));
        leptos::task::spawn_local(async move {
            for item in items {
                let (op, tag, digest) = if whole {
                    ("manifest", None, Some(item.digest.clone()))
                } else {
                    ("tag", Some(item.tag.clone()), None)
                };
                let answer = delete_image(op.into(), item.repository.clone(), tag, digest).await;
                let (ok, message) = match answer {
                    Ok(Outcome::Done(m)) => (true, m),
                    Ok(Outcome::Refused(m)) => (false, m),
                    Err(e) => (false, format!("Regent did not answer: {e}")),
                };
                run.update(|r| {
                    if let Some(r) = r {
                        r.results.push((item.label(whole), ok, message));
                    }
                });
            }
            picked.set(Vec::new());
        });
    };

    let table = move || {
        let rows = rows.clone();
        let sorting = sorting.clone();
        if quick.get() {
            view! { <TagTable rows show_repository sorting row_end=Some(checkbox) /> }.into_any()
        } else {
            view! { <TagTable rows show_repository sorting row_end /> }.into_any()
        }
    };
    let confirmation = move || {
        confirming.get().then(|| {
            let (whole, items) = work();
            let heading = format!(
                "Delete {} {}{}?",
                items.len(),
                if whole { "image" } else { "tag" },
                if items.len() == 1 { "" } else { "s" }
            );
            view! {
                <div class="notice warning quick-confirm" role="alertdialog" aria-label="Confirm the deletes">
                    <h2>{heading}</h2>
                    <ul class="quick-list">{items.iter().map(|i| view! {
                        <li>
                            {i.label(whole)}
                            {(!i.workloads.is_empty()).then(|| view! {
                                <span class="impact" data-impact="workloads">{format!(" — running in {}", i.workloads.join("; "))}</span>
                            })}
                        </li>
                    }).collect_view()}</ul>
                    <button type="button" class="danger" data-action="confirm-delete" on:click=start>"Delete them"</button>
                    " "
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            }
        })
    };
    let progress = move || {
        run.get().map(|r| {
            let done = r.results.len();
            let failed = r.results.iter().filter(|(_, ok, _)| !ok).count();
            let finished_all = done == r.total;
            let status = if finished_all {
                format!("Done: {} deleted, {failed} failed.", done - failed)
            } else {
                format!("Deleting… {done} of {}", r.total)
            };
            view! {
                <div class="notice info quick-progress" role="status">
                    <progress max=r.total value=done></progress>
                    <p data-quick=if finished_all { "finished" } else { "running" }>{status}</p>
                    <ul class="quick-results">
                        {r.results.into_iter().map(|(label, ok, message)| view! {
                            <li class=if ok { "ok" } else { "failed" }>
                                <strong>{if ok { "Deleted " } else { "Not deleted " }}{label}</strong>": "{message}
                            </li>
                        }).collect_view()}
                    </ul>
                    {finished_all.then(|| view! {
                        <button type="button" data-action="quick-done" on:click=move |_| { run.set(None); quick.set(false); finished.run(()); }>
                            "Close and refresh the list"
                        </button>
                    })}
                </div>
            }
        })
    };
    view! {
        {offered.then(|| view! {
            <div class="quick-delete">
                <label class="check">
                    <input type="checkbox" data-action="quick-delete" prop:checked=move || quick.get() on:change=move |_| quick.update(|q| *q = !*q) />
                    " Quick delete"
                </label>
                {move || quick.get().then(|| {
                    let all = all.clone();
                    view! {
                        <button type="button" data-action="select-all" on:click=move |_| picked.set(all.clone())>"Select all on this page"</button>
                        <label class="check">
                            <input type="checkbox" data-action="whole-images" prop:checked=move || images.get() on:change=move |_| images.update(|i| *i = !*i) />
                            " Delete whole images (every tag on their digests), not just the tags"
                        </label>
                        <button type="button" data-action="delete-selected" disabled=move || picked.with(Vec::is_empty) on:click=move |_| confirming.set(true)>
                            {move || format!("Delete {} selected…", picked.with(Vec::len))}
                        </button>
                    }
                })}
            </div>
        })}
        {confirmation}
        {progress}
        {table}
    }
    .into_any()
}
