//! The notice shown when the registry is unreachable, misconfigured or refuses Regent.

use crate::dto::RegistryProblem;
use leptos::prelude::*;

#[component]
pub fn RegistryProblemNotice(problem: RegistryProblem) -> impl IntoView {
    view! {
        <div class="notice error registry-problem" role="alert">
            <h2>"The registry is not available"</h2>
            <p class="what">{problem.what}</p>
            <p class="hint">{problem.hint}</p>
            <p class="muted">
                "Registry: " <code>{problem.registry}</code>
                ". Regent keeps trying: reload this page once the registry is back."
            </p>
        </div>
    }
}
