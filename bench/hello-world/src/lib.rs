//! The smallest Leptos page that hydrates and does something, built with the same profile,
//! wasm-bindgen and wasm-opt as Regent's frontend: scripts/bench-pages reports Regent's page
//! weight as a ratio to this, measured in the same run.

use leptos::prelude::*;

#[component]
fn Hello() -> impl IntoView {
    let (count, set_count) = signal(0);
    view! {
        <main>
            <h1>"Hello, world"</h1>
            <button on:click=move |_| set_count.update(|n| *n += 1)>{move || count.get()}</button>
        </main>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(Hello);
}
