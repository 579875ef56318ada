//! The table of tags used by search results, the repository page and the layer page.
//!
//! Digests are shortened with the full value on hover; tags of one repository that share a
//! manifest digest are marked as a group, because deleting that digest removes all of them
//! together. A manifest list / OCI index row unfolds (`<details>`, no JavaScript needed) to
//! its per-platform images. On the repository page the column headers sort.

use crate::components::copy::CopyText;
use crate::dto::{
    Paging, TagRow, TagSort, human_bytes, layer_href, manifest_href, repository_href, repository_page_href, short_hex,
    tag_href,
};
use leptos::prelude::*;

/// Sortable headers: the current order and where the links go.
#[derive(Debug, Clone)]
pub struct SortLinks {
    pub repository: String,
    pub current: TagSort,
    pub paging: Paging,
}

impl SortLinks {
    /// Header for `column`: a link that sorts by it (toggling direction when it is current).
    fn header(&self, column: &'static str, label: &'static str) -> impl IntoView + use<> {
        let (current, descending) = self.current.column();
        let next = match (column == current, descending) {
            (true, false) => format!("-{column}"),
            _ => column.to_owned(),
        };
        let next = TagSort::parse(Some(&next)).unwrap_or_default();
        let first = Paging {
            page: 1,
            per_page: self.paging.per_page,
        };
        let href = repository_page_href(&self.repository, next, &first, 1);
        let sorted = (column == current).then_some(if descending { "descending" } else { "ascending" });
        let arrow = match sorted {
            Some("descending") => " ↓",
            Some(_) => " ↑",
            None => "",
        };
        view! { <a href=href class="sort" aria-sort=sorted>{label}{arrow}</a> }
    }
}

#[component]
pub fn TagTable(
    rows: Vec<TagRow>,
    #[prop(optional)] show_repository: bool,
    #[prop(default = None)] sorting: Option<SortLinks>,
    /// A last cell per row (the delete controls, for those who may delete).
    #[prop(default = None)]
    row_end: Option<Callback<TagRow, AnyView>>,
) -> impl IntoView {
    let show_match = rows.iter().any(|r| r.matched.is_some());
    let show_stream = rows
        .iter()
        .any(|r| !r.streams.is_empty() || r.stream_tag.is_some() || r.unreferenced);
    let body = rows
        .into_iter()
        .map(|row| {
            let repo_cell = show_repository.then(|| {
                let href = repository_href(&row.repository);
                view! { <td class="name"><a href=href>{row.repository.clone()}</a></td> }
            });
            let matched = show_match.then(|| {
                let (how, digest) = row.matched.clone().unwrap_or_default();
                view! { <td class="matched" title=digest>{how}</td> }
            });
            let image_id = row.image_id.as_deref().map(short_hex).unwrap_or("—").to_owned();
            let image_id_title = row
                .image_id
                .clone()
                .unwrap_or_else(|| "a manifest list or index has no image id of its own".into());
            let top_layer = row.top_layer.clone().map(|digest| {
                let short = short_hex(&digest).to_owned();
                let href = layer_href(&digest);
                view! { <a href=href><code title=digest>{short}</code></a> }
            });
            let group = (!row.same_digest.is_empty()).then(|| {
                let others = row.same_digest.join(", ");
                view! {
                    <span class="shared" title="these tags share one manifest digest: deleting the digest removes all of them">
                        {format!("same digest as {others}")}
                    </span>
                }
            });
            let platforms = platforms_cell(&row);
            let stream = show_stream.then(|| crate::components::stream::stream_cell(&row));
            let tag_link = tag_href(&row.repository, &row.tag);
            let end = row_end.map(|f| f.run(row.clone()));
            view! {
                <tr data-digest=row.digest.clone() class:grouped=!row.same_digest.is_empty()>
                    {repo_cell}
                    <td class="tag"><a href=tag_link>{row.tag.clone()}</a></td>
                    {matched}
                    <td class="digest">
                        <CopyText text=row.digest.clone() shown=short_hex(&row.digest).to_owned() label="Copy the digest" />
                        {group}
                    </td>
                    <td class="image-id"><code title=image_id_title>{image_id}</code></td>
                    <td class="top-layer">{top_layer.map(IntoAny::into_any).unwrap_or_else(|| "—".into_any())}</td>
                    <td class="num">{human_bytes(row.size)}</td>
                    <td class="created">{row.created.clone().unwrap_or_else(|| "—".into())}</td>
                    {platforms}
                    {stream}
                    {end}
                </tr>
            }
        })
        .collect_view();
    let header = |column: &'static str, label: &'static str| match &sorting {
        Some(s) => s.header(column, label).into_any(),
        None => label.into_any(),
    };
    view! {
        <div class="table-scroll">
            <table class="tags">
                <thead>
                    <tr>
                        {show_repository.then(|| view! { <th scope="col">"Repository"</th> })}
                        <th scope="col">{header("name", "Tag")}</th>
                        {show_match.then(|| view! { <th scope="col">"Matched"</th> })}
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Image id"</th>
                        <th scope="col">"Top layer"</th>
                        <th scope="col" class="num">{header("size", "Size")}</th>
                        <th scope="col">{header("created", "Created")}</th>
                        <th scope="col">"Platforms"</th>
                        {show_stream.then(|| view! { <th scope="col">"Image streams"</th> })}
                        {row_end.is_some().then(|| view! { <th scope="col"><span class="visually-hidden">"Delete"</span></th> })}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    // Erased: the table is nested in several pages and its full type would be in all of them.
    .into_any()
}

/// The platforms of a tag; for an index, each platform image links to its own page.
fn platforms_cell(row: &TagRow) -> AnyView {
    if row.children.is_empty() {
        return view! { <td class="platforms">{row.platforms.join(", ")}</td> }.into_any();
    }
    let children = row
        .children
        .iter()
        .map(|c| {
            let href = manifest_href(&row.repository, &c.digest);
            view! {
                <li>
                    <a href=href>{c.platform.clone()}</a>" "
                    <code title=c.digest.clone()>{short_hex(&c.digest).to_owned()}</code>" "
                    <span class="muted">{human_bytes(c.size)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <td class="platforms">
            <details>
                <summary>{row.platforms.join(", ")}</summary>
                <ul class="children">{children}</ul>
            </details>
        </td>
    }
    .into_any()
}
