//! The delete controls of the repository, tag and layer pages: each says what will go before
//! it goes (a tag alone, a digest with every tag on it by name, a repository with its tag count,
//! every image with a layer), and what a delete plan keeps.
//!
//! They appear only for viewers with the `delete` level there (the pages' capability flags);
//! `POST /api/delete` checks again, refuses and audits anyone else. Every form names its op
//! with `DeleteOp`, the list the server parses.

use crate::dto::{DeleteOp, TagRow};
use crate::pages::delete::DeleteImage;
use leptos::prelude::*;

/// One delete button with its hidden fields: what `op` deletes in `repository`, with the `tag`
/// or `digest` it needs.
#[component]
pub fn DeleteForm(
    action: ServerAction<DeleteImage>,
    op: DeleteOp,
    /// The form's `data-form`, which the tests and styles find it by (none: the caller's).
    #[prop(optional)]
    form: Option<&'static str>,
    #[prop(into)] repository: String,
    #[prop(optional, into)] tag: Option<String>,
    #[prop(optional, into)] digest: Option<String>,
    #[prop(optional, into)] title: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <ActionForm action attr:class="inline" attr:data-form=form>
            <input type="hidden" name="op" value=op.as_str() />
            <input type="hidden" name="repository" value=repository />
            {tag.map(|tag| view! { <input type="hidden" name="tag" value=tag /> })}
            {digest.map(|digest| view! { <input type="hidden" name="digest" value=digest /> })}
            <button type="submit" title=title>{children()}</button>
        </ActionForm>
    }
}

/// What a delete plan takes and keeps, or why Regent would refuse it now.
pub fn plan_view(plan: &crate::dto::PlanView, what: &'static str) -> AnyView {
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
    let digest_note = format!("Deletes {} and every tag on it.", row.digest);
    let impact = impact(row);
    let delete_plan = row.delete_plan.as_ref().map(|p| plan_view(p, "delete-plan"));
    let prune_plan = row.prune_plan.as_ref().map(|p| plan_view(p, "prune-plan"));
    let on_cluster = row.stream_tag.clone().filter(|t| t.current.is_some()).map(|t| {
        let (repository, tag, digest) = (row.repository.clone(), row.tag.clone(), row.digest.clone());
        view! {
            <DeleteForm action op=DeleteOp::StreamTag form="delete-stream-tag" repository=repository.clone() tag
                title="Deletes the tag from the image stream with its history; the image stays until pruned">
                {format!("Delete the image stream tag {}", t.name)}
            </DeleteForm>
            <DeleteForm action op=DeleteOp::Image form="delete-image-everywhere" repository digest
                title="As oc adm prune: the streams drop it first, then the registry data, then the Image object">
                "Delete the image everywhere"
            </DeleteForm>
            {prune_plan}
        }
    });
    view! {
        <td class="delete">
            <details class="delete-controls">
                <summary>"Delete…"</summary>
                {impact}
                <DeleteForm action op=DeleteOp::Tag form="delete-tag" repository=repository.clone() tag title=tag_note>
                    "Delete this tag"
                </DeleteForm>
                <DeleteForm action op=DeleteOp::Manifest form="delete-manifest" repository digest title=digest_note>
                    {digest_label}
                </DeleteForm>
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
            <DeleteForm action op=DeleteOp::Repository repository=name>{label}</DeleteForm>
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
            <DeleteForm action op=DeleteOp::Layer repository="" digest>"Delete them"</DeleteForm>
        </details>
    }
}

/// The workloads a delete would break (OpenShift), or nothing.
#[component]
pub fn Running(workloads: Vec<String>) -> impl IntoView {
    (!workloads.is_empty()).then(|| {
        view! {
            <p class="impact" data-impact="workloads">
                {format!("Running now in {}: their next pull fails once the images are gone.", workloads.join("; "))}
            </p>
        }
    })
}
