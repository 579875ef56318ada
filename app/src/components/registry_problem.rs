//! The notice shown when the registry is unreachable, misconfigured or refuses Regent: what
//! failed, what to check, and what that means for the data on screen. A page that has nothing
//! but this notice to show answers 503, so a script or a probe reading it sees a failure, not a
//! page.

use crate::dto::RegistryProblem;
use leptos::prelude::*;

/// With no data at all it is an error; over the last good data (`stale`) a warning.
#[component]
pub fn RegistryProblemNotice(
    problem: RegistryProblem,
    #[prop(optional)] stale: bool,
    #[prop(default = "The registry is not available")] title: &'static str,
    /// The closing sentence; by default it names the registry and says Regent keeps trying.
    #[prop(optional, into)]
    footer: Option<String>,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if !stale && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
    }
    let class = if stale {
        "notice warning stale-data registry-problem"
    } else {
        "notice error registry-problem"
    };
    let footer = match footer {
        Some(text) => view! { <p class="muted">{text}</p> }.into_any(),
        None => view! {
            <p class="muted">
                "Registry: " <code>{problem.registry}</code>
                ". Regent keeps trying: reload this page once the registry is back."
            </p>
        }
        .into_any(),
    };
    view! {
        <div class=class role="alert">
            <h2>{title}</h2>
            <p class="what">{problem.what}</p>
            <p class="hint">{problem.hint}</p>
            {footer}
        </div>
    }
}
