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
    let result = match op.as_str() {
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
                "\"{}\" is not something Regent deletes; use tag, manifest or repository.",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    Ok(match result {
        Ok(deleted) => Outcome::Done(deleted.summary),
        Err(e) => Outcome::Refused(e.to_string()),
    })
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
    let digest_label = format!("Delete the digest ({others})");
    let (repository, tag, digest) = (row.repository.clone(), row.tag.clone(), row.digest.clone());
    let (repository2, digest_note) = (
        row.repository.clone(),
        format!("Deletes {} and every tag on it.", row.digest),
    );
    view! {
        <td class="delete">
            <details class="delete-controls">
                <summary>"Delete…"</summary>
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
            </details>
        </td>
    }
    .into_any()
}

/// Deleting the whole repository, saying what goes.
#[component]
pub fn RepositoryDelete(action: ServerAction<DeleteImage>, name: String, tags: usize) -> impl IntoView {
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
pub fn LayerDelete(action: ServerAction<DeleteImage>, digest: String, deletable: Vec<String>) -> impl IntoView {
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
            <ActionForm action attr:class="inline">
                <input type="hidden" name="op" value="layer" />
                <input type="hidden" name="repository" value="" />
                <input type="hidden" name="digest" value=digest />
                <button type="submit">"Delete them"</button>
            </ActionForm>
        </details>
    }
}
