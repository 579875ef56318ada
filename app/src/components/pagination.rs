//! Page links: previous, a window of numbered pages around the current one, next.
//!
//! Plain `<a>` elements: the router still navigates them in the browser, and unlike its `<A>`
//! they do not all claim `aria-current` because they share the current path.

use crate::dto::Paging;
use leptos::prelude::*;

/// How many page numbers either side of the current one are linked.
const WINDOW: u32 = 2;

/// The page numbers to show, with `None` where a gap is elided.
pub fn page_numbers(current: u32, pages: u32) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    let mut previous = 0;
    for n in 1..=pages {
        let near = n.abs_diff(current) <= WINDOW;
        if n == 1 || n == pages || near {
            if n > previous + 1 {
                out.push(None);
            }
            out.push(Some(n));
            previous = n;
        }
    }
    out
}

#[component]
pub fn Pagination<F>(
    paging: Paging,
    pages: u32,
    /// The link to page `n` of this listing.
    href: F,
) -> impl IntoView
where
    F: Fn(u32) -> String + 'static,
{
    if pages <= 1 && paging.page <= 1 {
        return ().into_any();
    }
    let current = paging.page;
    let links = page_numbers(current.min(pages), pages)
        .into_iter()
        .map(|n| match n {
            None => view! { <span class="gap">"…"</span> }.into_any(),
            Some(n) if n == current => view! { <span class="current" aria-current="page">{n}</span> }.into_any(),
            Some(n) => view! { <a href=href(n)>{n}</a> }.into_any(),
        })
        .collect_view();
    view! {
        <nav class="pagination" aria-label="Pages">
            {(current > 1).then(|| view! { <a href=href((current - 1).min(pages)) rel="prev">"← Previous"</a> })}
            {links}
            {(current < pages).then(|| view! { <a href=href(current + 1) rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::page_numbers;

    #[test]
    fn a_window_around_the_current_page_with_first_and_last() {
        let shown = |c, p| {
            page_numbers(c, p)
                .iter()
                .map(|n| n.map_or("…".to_owned(), |n| n.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(shown(1, 1), "1");
        assert_eq!(shown(1, 3), "1 2 3");
        assert_eq!(shown(1, 11), "1 2 3 … 11");
        assert_eq!(shown(6, 11), "1 … 4 5 6 7 8 … 11");
        assert_eq!(shown(11, 11), "1 … 9 10 11");
        assert_eq!(shown(4, 11), "1 2 3 4 5 6 … 11");
    }
}
