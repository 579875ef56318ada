//! `/admin/audit`: every sign-in, refused change and user, group, grant and repository change,
//! newest first, filtered by who, what, target and outcome. Administrators only; read-only.
//! Identical refusals within a minute are one row, shown with their count ("×37").

use super::{AdminTabs, DeniedNotice};
use crate::dto::{AuditQuery, AuditRow, AuditView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

/// The longest filter value looked at.
#[cfg(feature = "ssr")]
const MAX_FILTER: usize = 200;

#[server]
pub async fn audit_page(query: AuditQuery) -> Result<AuditView, ServerFnError> {
    use crate::dto::AUDIT_PAGE;
    use regent_domain::store::AuditFilter;
    let state = crate::state::AppState::get()?;
    let caller = super::guard::Caller::get(&state).await?;
    if let Err(denied) = caller.admin_only("read the audit log") {
        return Ok(AuditView::Denied(denied));
    }
    let text = |value: &str, name: &str| -> Result<Option<String>, String> {
        let value = value.trim();
        if value.chars().count() > MAX_FILTER {
            return Err(format!(
                "The {name} filter is longer than {MAX_FILTER} characters; shorten it."
            ));
        }
        Ok((!value.is_empty()).then(|| value.to_owned()))
    };
    let outcome = match query.outcome.trim() {
        "" => None,
        o @ ("ok" | "refused" | "failed") => Some(o.to_owned()),
        other => {
            return Ok(AuditView::BadQuery(format!(
                "\"{}\" is not an outcome; use ok, refused or failed.",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    let before = match query.before.trim() {
        "" => None,
        b => match b.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                return Ok(AuditView::BadQuery(
                    "\"before\" must be an event number; follow the \"Older events\" link.".into(),
                ));
            }
        },
    };
    let filter = match (
        text(&query.actor, "who"),
        text(&query.action, "action"),
        text(&query.target, "target"),
    ) {
        (Ok(actor), Ok(action), Ok(target)) => AuditFilter {
            actor,
            action,
            target,
            outcome,
            before,
            limit: AUDIT_PAGE + 1,
        },
        (Err(m), _, _) | (_, Err(m), _) | (_, _, Err(m)) => return Ok(AuditView::BadQuery(m)),
    };
    let mut events = state.store.audit_events(&filter).await.map_err(ServerFnError::new)?;
    let older = (events.len() > AUDIT_PAGE as usize).then(|| {
        events.truncate(AUDIT_PAGE as usize);
        events.last().map_or(0, |e| e.id)
    });
    Ok(AuditView::Found {
        rows: events
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: super::guard::date(e.at),
                actor: e.actor,
                address: e.address,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                detail: e.detail,
                count: e.count,
            })
            .collect(),
        older,
    })
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| AuditQuery {
            actor: q.get("actor").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            target: q.get("target").unwrap_or_default(),
            outcome: q.get("outcome").unwrap_or_default(),
            before: q.get("before").unwrap_or_default(),
        })
    });
    let data = Resource::new(move || filters.get(), |q| async move { audit_page(q).await });
    view! {
        <Title text="Audit log" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = filters.get_untracked();
                match data.await {
                    Ok(AuditView::Found { rows, older }) => view! {
                        <AdminTabs admin=true />
                        <h1>"Audit log"</h1>
                        <AuditFilters q=q.clone() />
                        <AuditTable rows />
                        {older.map(|before| view! { <p><a href=q.href(Some(before)) rel="next">"Older events"</a></p> })}
                    }
                    .into_any(),
                    Ok(AuditView::BadQuery(message)) => view! {
                        <AdminTabs admin=true />
                        <h1>"Audit log"</h1>
                        <p class="notice error" role="alert">{message}</p>
                        <AuditFilters q />
                    }
                    .into_any(),
                    Ok(AuditView::Denied(denied)) => view! { <DeniedNotice denied next="/admin/audit" /> }.into_any(),
                    Err(e) => view! { <p class="notice error">{format!("Regent could not read the audit log: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditFilters(q: AuditQuery) -> impl IntoView {
    let outcome = q.outcome.clone();
    view! {
        <Form method="GET" action="/admin/audit" attr:class="admin-form inline" attr:data-form="audit-filter">
            <label>"Who" <input name="actor" value=q.actor placeholder="sarah" /></label>
            <label>"Action" <input name="action" value=q.action placeholder="grant.put" /></label>
            <label>"Target contains" <input name="target" value=q.target placeholder="skyfield" /></label>
            <label>
                "Outcome "
                <select name="outcome">
                    {["", "ok", "refused", "failed"].map(|o| view! {
                        <option value=o selected=outcome == o>{if o.is_empty() { "any" } else { o }}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </Form>
    }
}

#[component]
fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p data-audit="empty">"No events match."</p> }.into_any();
    }
    view! {
        <table class="admin-table" data-table="audit">
            <thead><tr><th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th><th>"Target"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let (action, outcome) = (r.action.clone(), r.outcome.clone());
                    let class = format!("outcome {outcome}");
                    let times = (r.count > 1).then(|| {
                        let title = format!("{} identical events within a minute", r.count);
                        view! { " " <span class="count" title=title>{format!("×{}", r.count)}</span> }
                    });
                    view! {
                        <tr data-event=r.id data-action=action data-outcome=outcome data-count=r.count>
                            <td>{r.at}</td><td>{r.actor}</td><td>{r.address}</td><td>{r.action}</td>
                            <td>{r.target}</td><td class=class>{r.outcome}{times}</td><td>{r.detail}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
