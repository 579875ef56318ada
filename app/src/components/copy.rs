//! A command or digest with a Copy button, because people paste these into terminals.
//!
//! The text is always shown in a `<code>` that can be selected by hand, so the page works
//! without JavaScript; after hydration the button copies through the browser's clipboard API.

use leptos::prelude::*;

#[component]
pub fn CopyText(
    #[prop(into)] text: String,
    #[prop(optional, into)] label: String,
    /// Show only these characters (the full text is the tooltip and what is copied).
    #[prop(optional, into)]
    shown: Option<String>,
) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let label = if label.is_empty() { "Copy".to_owned() } else { label };
    let to_copy = text.clone();
    let compact = shown.is_some();
    let copy = move |_| {
        if write_clipboard(&to_copy) {
            set_copied.set(true);
            set_timeout(move || set_copied.set(false), std::time::Duration::from_secs(2));
        }
    };
    view! {
        <span class="copy-text" class:compact=compact>
            <code title=text.clone()>{shown.unwrap_or_else(|| text.clone())}</code>
            <button type="button" class="copy" data-copy=text aria-label=label.clone() on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </span>
    }
    .into_any()
}

/// `navigator.clipboard.writeText(text)`, looked up at run time so no extra web-sys
/// features are compiled in; false where there is no clipboard (or on the server).
#[allow(unused_variables)]
fn write_clipboard(text: &str) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        use leptos::wasm_bindgen::{JsCast, JsValue};
        use leptos::web_sys::js_sys::{Function, Reflect};
        let window: JsValue = leptos::prelude::window().into();
        let call = || -> Option<()> {
            let navigator = Reflect::get(&window, &"navigator".into()).ok()?;
            let clipboard = Reflect::get(&navigator, &"clipboard".into()).ok()?;
            let write = Reflect::get(&clipboard, &"writeText".into())
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            write.call1(&clipboard, &text.into()).ok().map(|_| ())
        };
        return call().is_some();
    }
    #[allow(unreachable_code)]
    false
}
