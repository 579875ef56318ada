//! The browser side: hydrates the HTML the server rendered, then the app runs in WASM.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(regent_app::App);
}
