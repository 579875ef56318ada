//! `POST /api/delete`: every delete the pages offer, as one server function that parses the
//! form into a `DeleteRequest`, hands it to the domain's `Deleter::run` and answers in words,
//! with the HTTP status of the outcome: 200 done, 400 bad input, 403 refused or not allowed,
//! 404 gone already, 503 the registry not answering or Regent still loading. The controls that
//! send it are in `components::delete_controls` and `components::quick_delete`.

use crate::dto::{DeleteOp, NotDeleted, Outcome};
use leptos::prelude::*;

/// `op` is `tag` (with `tag`), `manifest` (with `digest`), `repository`, or `layer` (with the
/// layer's `digest`; every image containing it in every repository the caller may delete in).
/// On OpenShift also `stream_tag` (the image stream tag `repository:tag`) and `image` (the
/// image `digest` everywhere, in prune order: the caller must be able to delete in every
/// repository whose stream or tags hold it).
#[server(prefix = "/api", endpoint = "delete")]
pub async fn delete_image(
    op: DeleteOp,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
) -> Result<Outcome, NotDeleted> {
    use regent_domain::deletes::DeleteRequest;
    let state = crate::state::AppState::get().map_err(failed)?;
    let caller = crate::pages::admin::guard::Caller::get(&state).await.map_err(failed)?;
    let request = DeleteRequest::parse(kind(op), &repository, tag.as_deref(), digest.as_deref());
    let request = request.map_err(not_deleted)?;
    let deleted = state.deleter.run(&caller.access, &caller.actor, request).await;
    let deleted = deleted.map_err(not_deleted)?;
    if op == DeleteOp::Repository {
        leptos_axum::redirect("/images");
    }
    Ok(Outcome::Done(deleted.summary))
}

#[cfg(feature = "ssr")]
fn kind(op: DeleteOp) -> regent_domain::deletes::DeleteKind {
    use regent_domain::deletes::DeleteKind;
    match op {
        DeleteOp::Tag => DeleteKind::Tag,
        DeleteOp::Manifest => DeleteKind::Manifest,
        DeleteOp::Repository => DeleteKind::Repository,
        DeleteOp::Layer => DeleteKind::Layer,
        DeleteOp::StreamTag => DeleteKind::StreamTag,
        DeleteOp::Image => DeleteKind::Image,
    }
}

/// A delete that did not happen, answered with the status of why.
#[cfg(feature = "ssr")]
fn not_deleted(e: regent_domain::deletes::DeleteError) -> NotDeleted {
    use http::StatusCode;
    use regent_domain::deletes::DeleteError;
    let status = match &e {
        DeleteError::BadInput(_) => StatusCode::BAD_REQUEST,
        DeleteError::Refused(_)
        | DeleteError::NotAllowed(_)
        | DeleteError::Denied { .. }
        | DeleteError::Disabled(_) => StatusCode::FORBIDDEN,
        DeleteError::NotFound(_) => StatusCode::NOT_FOUND,
        DeleteError::Unavailable(_) | DeleteError::Loading(_) => StatusCode::SERVICE_UNAVAILABLE,
        DeleteError::Registry(_) => StatusCode::BAD_GATEWAY,
    };
    answer(status, e.to_string())
}

/// Regent itself failing (its database): 500.
#[cfg(feature = "ssr")]
fn failed(e: ServerFnError) -> NotDeleted {
    answer(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        format!("The delete failed: {e}"),
    )
}

#[cfg(feature = "ssr")]
fn answer(status: http::StatusCode, message: String) -> NotDeleted {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    NotDeleted { message }
}

/// Fills the delete plans of the rows the viewer may delete: what deleting each digest (and,
/// on OpenShift, each image everywhere) takes and keeps, from the same domain plan the delete
/// itself follows.
#[cfg(feature = "ssr")]
pub fn plan_rows(
    state: &crate::state::AppState,
    access: &regent_domain::access::Access,
    rows: &mut [crate::dto::TagRow],
) {
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
