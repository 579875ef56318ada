//! Above every listing: crawl progress while the index fills, "as of <time>, refreshing"
//! while a restart's snapshot is reconciled, and a warning when the data is not fresh
//! (registry down, last refresh failed), with the time of the last good data.

use crate::components::registry_problem::RegistryProblemNotice;
use crate::dto::IndexStatusView;
use leptos::prelude::*;

#[component]
pub fn IndexStatusNotice(status: IndexStatusView) -> impl IntoView {
    let restored = status.restored_from.clone().map(|t| {
        view! {
            <div class="notice info index-restored" role="status">
                <p>{format!("Showing the index as of {t}, refreshing: Regent restarted and is checking it against the registry.")}</p>
            </div>
        }
    });
    let progress = (status.crawling && !status.complete && status.restored_from.is_none()).then(|| {
        let eta = status.eta_seconds.map(|s| format!(", about {s} s left")).unwrap_or_default();
        view! {
            <div class="notice info index-progress" role="status">
                <p>
                    {format!(
                        "Indexing the registry: {} of {} repositories, {} of {} tags so far ({:.0} repositories/s{eta}). \
                         Results are partial until it finishes.",
                        status.repositories_done,
                        status.repositories_known,
                        status.tags_done,
                        status.tags_known,
                        status.rate,
                    )}
                </p>
                <progress max=status.repositories_known.max(1) value=status.repositories_done></progress>
            </div>
        }
    });
    let as_of = status
        .last_success
        .clone()
        .map(|t| format!("Showing the data as of {t}."))
        .unwrap_or_default();
    let warning = match (&status.registry_problem, &status.crawl_problem) {
        (Some(p), _) => Some(("The registry is not answering", p.clone())),
        (None, Some(p)) => Some(("The last refresh of the index failed", p.clone())),
        (None, None) => None,
    }
    .map(|(title, problem)| {
        let footer = format!("{as_of} Nothing is removed from Regent's view while the registry cannot be read.")
            .trim_start()
            .to_owned();
        view! { <RegistryProblemNotice problem stale=true title footer /> }
    });
    view! { {restored} {progress} {warning} }
}
