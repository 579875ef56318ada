//! Quick delete: a tag table in which the viewer picks many tags (or whole images) and deletes
//! them in one go, one request after another with a progress bar; a failure does not stop the
//! others, and the summary lists each outcome. The repository and images pages use it.

use crate::dto::{DeleteOp, Outcome, TagRow};
use crate::pages::delete::delete_image;
use leptos::prelude::*;

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

/// The picked rows as deletes: with `whole`, one per (repository, digest), every picked tag of
/// that image named on it.
fn merge(picked: Vec<Pick>, whole: bool) -> Vec<Pick> {
    let mut items: Vec<Pick> = Vec::new();
    for p in picked {
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
    items
}

/// Runs the deletes one by one, noting each answer in `run`.
async fn delete_each(items: Vec<Pick>, whole: bool, run: RwSignal<Option<Run>>) {
    for item in items {
        let (op, tag, digest) = if whole {
            (DeleteOp::Manifest, None, Some(item.digest.clone()))
        } else {
            (DeleteOp::Tag, Some(item.tag.clone()), None)
        };
        let (ok, message) = match delete_image(op, item.repository.clone(), tag, digest).await {
            Ok(Outcome::Done(m)) => (true, m),
            Ok(Outcome::Refused(m)) => (false, m),
            Err(e) => (false, e.message),
        };
        run.update(|r| {
            if let Some(r) = r {
                r.results.push((item.label(whole), ok, message));
            }
        });
    }
}

/// The cell that picks a row in quick delete mode (empty on rows the viewer may not delete).
fn checkbox(picked: RwSignal<Vec<Pick>>) -> Callback<TagRow, AnyView> {
    Callback::new(move |row: TagRow| -> AnyView {
        if !row.deletable {
            return view! { <td class="select"></td> }.into_any();
        }
        let pick = Pick::of(&row);
        let label = format!("Select {}:{}", row.repository, row.tag);
        let checked = {
            let pick = pick.clone();
            move || picked.with(|p| p.contains(&pick))
        };
        let toggle = move |_| {
            picked.update(|p| match p.iter().position(|x| *x == pick) {
                Some(i) => {
                    p.remove(i);
                }
                None => p.push(pick.clone()),
            })
        };
        view! {
            <td class="select">
                <input type="checkbox" aria-label=label data-pick=format!("{}:{}", row.repository, row.tag)
                    prop:checked=checked on:change=toggle />
            </td>
        }
        .into_any()
    })
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
    let checkbox = checkbox(picked);
    let work = Signal::derive(move || (images.get(), merge(picked.get(), images.get())));
    let start = Callback::new(move |_: ()| {
        let (whole, items) = work.get_untracked();
        confirming.set(false);
        run.set(Some(Run {
            total: items.len(),
            results: Vec::new(),
        }));
        leptos::task::spawn_local(async move {
            delete_each(items, whole, run).await;
            picked.set(Vec::new());
        });
    });
    let close = Callback::new(move |_: ()| {
        run.set(None);
        quick.set(false);
        finished.run(());
    });
    let table = move || {
        let rows = rows.clone();
        let sorting = sorting.clone();
        if quick.get() {
            view! { <TagTable rows show_repository sorting row_end=Some(checkbox) /> }.into_any()
        } else {
            view! { <TagTable rows show_repository sorting row_end /> }.into_any()
        }
    };
    view! {
        {offered.then(|| view! { <QuickSwitch quick picked images confirming all /> })}
        {move || confirming.get().then(|| {
            let (whole, items) = work.get();
            view! { <Confirmation whole items start confirming /> }
        })}
        {move || run.get().map(|run| view! { <Progress run close /> })}
        {table}
    }
    .into_any()
}

/// The quick delete switch and, once on, select all, whole images, and delete selected.
#[component]
fn QuickSwitch(
    quick: RwSignal<bool>,
    picked: RwSignal<Vec<Pick>>,
    images: RwSignal<bool>,
    confirming: RwSignal<bool>,
    all: Vec<Pick>,
) -> impl IntoView {
    view! {
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
    }
}

/// The one confirmation: everything that will go, and what runs it.
#[component]
fn Confirmation(whole: bool, items: Vec<Pick>, start: Callback<()>, confirming: RwSignal<bool>) -> impl IntoView {
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
            <button type="button" class="danger" data-action="confirm-delete" on:click=move |_| start.run(())>"Delete them"</button>
            " "
            <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
        </div>
    }
}

/// The progress bar while the deletes run, then each outcome and a button to close.
#[component]
fn Progress(run: Run, close: Callback<()>) -> impl IntoView {
    let done = run.results.len();
    let failed = run.results.iter().filter(|(_, ok, _)| !ok).count();
    let finished_all = done == run.total;
    let status = if finished_all {
        format!("Done: {} deleted, {failed} failed.", done - failed)
    } else {
        format!("Deleting… {done} of {}", run.total)
    };
    view! {
        <div class="notice info quick-progress" role="status">
            <progress max=run.total value=done></progress>
            <p data-quick=if finished_all { "finished" } else { "running" }>{status}</p>
            <ul class="quick-results">
                {run.results.into_iter().map(|(label, ok, message)| view! {
                    <li class=if ok { "ok" } else { "failed" }>
                        <strong>{if ok { "Deleted " } else { "Not deleted " }}{label}</strong>": "{message}
                    </li>
                }).collect_view()}
            </ul>
            {finished_all.then(|| view! {
                <button type="button" data-action="quick-done" on:click=move |_| close.run(())>
                    "Close and refresh the list"
                </button>
            })}
        </div>
    }
}
