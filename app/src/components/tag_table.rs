//! The table of tags used by search results and the repository page.
//!
//! Digests are shortened with the full value on hover; rows that share a manifest digest are
//! marked as one group, because deleting that digest removes all of them together.

use crate::dto::{TagRow, human_bytes, repository_href, short_hex};
use leptos::prelude::*;
use std::collections::HashMap;

#[component]
pub fn TagTable(rows: Vec<TagRow>, #[prop(optional)] show_repository: bool) -> impl IntoView {
    let show_match = rows.iter().any(|r| r.matched.is_some());
    // Digest → how many rows share it, for the shared-digest marker.
    let mut shared: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        *shared.entry(format!("{}@{}", r.repository, r.digest)).or_default() += 1;
    }
    let body = rows
        .into_iter()
        .map(|row| {
            let key = format!("{}@{}", row.repository, row.digest);
            let group = shared.get(&key).copied().unwrap_or(1);
            let repo_cell = show_repository.then(|| {
                let href = repository_href(&row.repository);
                view! { <td class="name"><a href=href>{row.repository.clone()}</a></td> }
            });
            let matched = show_match.then(|| {
                let (how, digest) = row.matched.clone().unwrap_or_default();
                view! { <td class="matched" title=digest>{how}</td> }
            });
            let digest_title = row.digest.clone();
            let image_id = row.image_id.as_deref().map(short_hex).unwrap_or("—").to_owned();
            let image_id_title = row.image_id.clone().unwrap_or_else(|| "a manifest list or index has no image id of its own".into());
            let top_layer = row.top_layer.as_deref().map(short_hex).unwrap_or("—").to_owned();
            let shared_note = (group > 1).then(|| {
                view! { <span class="shared" title="these tags share one manifest digest: deleting the digest removes all of them">{format!("shared by {group} tags")}</span> }
            });
            view! {
                <tr data-digest=row.digest.clone()>
                    {repo_cell}
                    <td class="tag">{row.tag.clone()}</td>
                    {matched}
                    <td class="digest"><code title=digest_title>{short_hex(&row.digest).to_owned()}</code> {shared_note}</td>
                    <td class="image-id"><code title=image_id_title>{image_id}</code></td>
                    <td class="top-layer"><code title=row.top_layer.clone().unwrap_or_default()>{top_layer}</code></td>
                    <td class="num">{human_bytes(row.size)}</td>
                    <td class="created">{row.created.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="platforms">{row.platforms.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="tags">
            <thead>
                <tr>
                    {show_repository.then(|| view! { <th scope="col">"Repository"</th> })}
                    <th scope="col">"Tag"</th>
                    {show_match.then(|| view! { <th scope="col">"Matched"</th> })}
                    <th scope="col">"Digest"</th>
                    <th scope="col">"Image id"</th>
                    <th scope="col">"Top layer"</th>
                    <th scope="col" class="num">"Size"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Platforms"</th>
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
}
