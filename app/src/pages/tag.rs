//! The tag page, `/images/<repository>/tags/<tag>` (and `/manifests/<digest>`): everything
//! about one image before anyone pulls or deletes it.
//!
//! Read live from the registry, so it shows what a pull gets right now: the manifest (for a
//! list/index, its platforms with a switcher, `?platform=linux/arm64`), the config (command,
//! environment with secret-looking values masked until clicked, labels, annotations, build
//! history) and the layers, each with its share of the image and how many repositories use
//! it (from the index), linking to the layer page.

use crate::components::bad_address::BadAddress;
use crate::components::copy::CopyText;
use crate::components::registry_problem::RegistryProblemNotice;
use crate::dto::{
    EnvVar, HistoryRow, ImageDetails, LayerRow, TagDetails, TagView, human_bytes, layer_href, manifest_href,
    repository_href, short_hex, tag_href,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[server]
pub async fn tag_page_data(
    repository: String,
    reference: String,
    platform: Option<String>,
) -> Result<TagView, ServerFnError> {
    let state = crate::state::AppState::get()?;
    let access = state.access().await?;
    Ok(load::tag_view(&state, &access, &repository, &reference, platform.as_deref()).await)
}

#[cfg(feature = "ssr")]
mod load {
    use crate::dto::{
        EnvVar, HistoryRow, ImageDetails, LayerRow, PlatformChoice, RegistryProblem, TagDetails, TagView, looks_secret,
    };
    use crate::state::AppState;
    use regent_domain::access::{Access, Action};
    use regent_domain::reference::{Reference, RepositoryName};
    use regent_domain::registry::{Descriptor, Manifest, RawManifest, RegistryError, pick_platform};

    pub async fn tag_view(
        state: &AppState,
        access: &Access,
        repository: &str,
        reference: &str,
        platform: Option<&str>,
    ) -> TagView {
        let may_read = |n: &RepositoryName| access.may(Action::View, n);
        let name = match RepositoryName::parse(repository) {
            Ok(n) => n,
            Err(e) => return TagView::BadRequest(e.to_string()),
        };
        let reference_parsed = match Reference::parse(reference) {
            Ok(r) => r,
            Err(e) => return TagView::BadRequest(e.to_string()),
        };
        let not_found = |what: String| {
            // `…/tags/x` may be a repository whose name ends that way.
            let whole = format!("{repository}/tags/{reference}");
            match RepositoryName::parse(&whole) {
                Ok(n) if may_read(&n) && state.index.read().has_repository(&n) => TagView::Repository(whole),
                _ => TagView::NotFound {
                    repository: repository.to_owned(),
                    reference: reference.to_owned(),
                    what,
                },
            }
        };
        if !may_read(&name) {
            return not_found(format!("There is no repository named \"{name}\"."));
        }
        let problem =
            |e: &RegistryError| TagView::Unavailable(RegistryProblem::from_error(state.registry.url().as_str(), e));
        let raw = match state.registry.manifest(&name, &reference_parsed).await {
            Ok(raw) => raw,
            Err(e) if e.is_not_found() => {
                let what = match &reference_parsed {
                    Reference::Tag(t) => format!("The repository \"{name}\" has no tag \"{t}\"."),
                    Reference::Digest(d) => format!("The repository \"{name}\" has no manifest {d}."),
                };
                return not_found(what);
            }
            Err(e) => return problem(&e),
        };
        let manifest = match raw.parse() {
            Ok(m) => m,
            Err(e) => return problem(&protocol(state, &raw, e)),
        };
        let host = state.pull_host.as_ref();
        let mut pull_commands = Vec::new();
        if let Reference::Tag(t) = &reference_parsed {
            for tool in ["docker", "podman"] {
                pull_commands.push((format!("{tool}, by tag"), format!("{tool} pull {host}/{name}:{t}")));
            }
        }
        for tool in ["docker", "podman"] {
            pull_commands.push((
                format!("{tool}, by digest"),
                format!("{tool} pull {host}/{name}@{}", raw.digest),
            ));
        }
        let same_digest = match &reference_parsed {
            Reference::Tag(t) => state
                .index
                .read()
                .repository_tags(&name)
                .unwrap_or_default()
                .into_iter()
                .filter(|(other, d)| *d == raw.digest && other != t)
                .map(|(other, _)| other.to_string())
                .collect(),
            Reference::Digest(_) => Vec::new(),
        };
        let mut details = TagDetails {
            repository: name.to_string(),
            reference: reference.to_owned(),
            is_tag: matches!(reference_parsed, Reference::Tag(_)),
            digest: raw.digest.to_string(),
            media_type: raw.media_type.as_str().to_owned(),
            manifest_size: raw.bytes.len() as u64,
            platforms: Vec::new(),
            image: None,
            image_problem: None,
            pull_commands,
            same_digest,
            cluster: crate::convert::image_on_cluster(
                state,
                access,
                name.as_str(),
                match &reference_parsed {
                    Reference::Tag(t) => Some(t.as_str()),
                    Reference::Digest(_) => None,
                },
                raw.digest.as_ref(),
            ),
            deletable: access.may(Action::Delete, &name),
        };
        match manifest {
            Manifest::Image { config, layers } => match image(state, access, &name, &raw, &config, &layers).await {
                Ok(image) => details.image = Some(image),
                Err(e) => return problem(&e),
            },
            Manifest::Index { manifests } => {
                let wanted = platform.map(str::trim).filter(|p| !p.is_empty());
                let choice = pick_platform(&manifests, wanted);
                let listed = |w: &str| {
                    manifests
                        .iter()
                        .any(|m| m.platform.as_ref().is_some_and(|p| p.to_string() == w))
                };
                details.image_problem = match (choice.and_then(|i| manifests.get(i)), wanted) {
                    (None, _) => Some("This index lists no platform images: there is nothing to pull from it.".into()),
                    (Some(shown), Some(w)) if !listed(w) => Some(format!(
                        "This image has no platform \"{w}\"; showing {} instead.",
                        platform_name(shown)
                    )),
                    _ => None,
                };
                details.platforms = manifests
                    .iter()
                    .enumerate()
                    .map(|(i, m)| PlatformChoice {
                        platform: platform_name(m),
                        digest: m.digest.to_string(),
                        size: m.size,
                        selected: Some(i) == choice,
                    })
                    .collect();
                if let Some(child) = choice.and_then(|i| manifests.get(i)) {
                    let child_raw = match state
                        .registry
                        .manifest(&name, &Reference::Digest(child.digest.clone()))
                        .await
                    {
                        Ok(r) => r,
                        Err(e) if e.is_not_found() => {
                            details.image_problem = Some(format!(
                                "The platform image {} is missing from the registry.",
                                child.digest
                            ));
                            return TagView::Found(Box::new(details));
                        }
                        Err(e) => return problem(&e),
                    };
                    match child_raw.parse() {
                        Ok(Manifest::Image { config, layers }) => {
                            match image(state, access, &name, &child_raw, &config, &layers).await {
                                Ok(image) => details.image = Some(image),
                                Err(e) => return problem(&e),
                            }
                        }
                        Ok(Manifest::Index { .. }) => {
                            details.image_problem = Some(
                                "This platform entry is itself an index; Regent shows one level of nesting.".into(),
                            );
                        }
                        Err(e) => return problem(&protocol(state, &child_raw, e)),
                    }
                }
            }
        }
        TagView::Found(Box::new(details))
    }

    fn platform_name(m: &Descriptor) -> String {
        m.platform
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "unknown platform".into())
    }

    fn protocol(state: &AppState, raw: &RawManifest, e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Protocol {
            url: state.registry.url().to_string(),
            detail: format!("manifest {} cannot be read: {e}", raw.digest),
        }
    }

    async fn image(
        state: &AppState,
        access: &Access,
        name: &RepositoryName,
        raw: &RawManifest,
        config: &Descriptor,
        layers: &[Descriptor],
    ) -> Result<ImageDetails, RegistryError> {
        let c = state.registry.image_config(name, &config.digest).await?;
        // Sizes are as the pusher wrote them: they need not add up without overflowing.
        let layer_bytes: u64 = layers.iter().fold(0u64, |total, l| total.saturating_add(l.size));
        let visible = |n: &RepositoryName| access.may(Action::View, n);
        let layer_rows = {
            let data = state.index.read();
            layers
                .iter()
                .map(|l| LayerRow {
                    digest: l.digest.to_string(),
                    media_type: l.media_type.clone(),
                    size: l.size,
                    share: if layer_bytes == 0 {
                        0.0
                    } else {
                        (l.size as f64 * 100.0 / layer_bytes as f64).min(100.0)
                    },
                    repositories: data
                        .layer_usage(&l.digest, &visible)
                        .map_or(0, |u| u.repositories.len()),
                })
                .collect()
        };
        let platform = c.platform();
        let runtime = c.config.unwrap_or_default();
        let mut layer_no = 0;
        let history = c
            .history
            .into_iter()
            .map(|h| {
                let layer = (!h.empty_layer).then(|| {
                    layer_no += 1;
                    layer_no
                });
                HistoryRow {
                    created: h.created,
                    created_by: h.created_by.unwrap_or_default(),
                    empty_layer: h.empty_layer,
                    layer,
                }
            })
            .collect();
        let words = |v: Option<Vec<String>>| v.filter(|v| !v.is_empty()).map(|v| shell_words(&v));
        Ok(ImageDetails {
            digest: raw.digest.to_string(),
            media_type: raw.media_type.as_str().to_owned(),
            config_digest: config.digest.to_string(),
            config_size: config.size,
            size: config.size.saturating_add(layer_bytes),
            created: c.created,
            author: c.author,
            platform,
            user: runtime.user.filter(|s| !s.is_empty()),
            working_dir: runtime.working_dir.filter(|s| !s.is_empty()),
            entrypoint: words(runtime.entrypoint),
            cmd: words(runtime.cmd),
            exposed_ports: runtime.exposed_ports.unwrap_or_default().into_keys().collect(),
            volumes: runtime.volumes.unwrap_or_default().into_keys().collect(),
            env: runtime
                .env
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let (name, value) = e.split_once('=').unwrap_or((e.as_str(), ""));
                    EnvVar {
                        secret: looks_secret(name),
                        name: name.to_owned(),
                        value: value.to_owned(),
                    }
                })
                .collect(),
            labels: runtime.labels.unwrap_or_default().into_iter().collect(),
            annotations: raw.annotations().into_iter().collect(),
            history,
            layers: layer_rows,
        })
    }

    /// `["/bin/sh", "-c", "echo hi"]` → `/bin/sh -c 'echo hi'`, as one would type it.
    fn shell_words(words: &[String]) -> String {
        words
            .iter()
            .map(|w| {
                if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.=:,@%+".contains(c)) {
                    w.clone()
                } else {
                    format!("'{}'", w.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn commands_read_as_typed() {
            let w = |v: &[&str]| super::shell_words(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(w(&["/app/run", "v1"]), "/app/run v1");
            assert_eq!(w(&["/bin/sh", "-c", "echo it's"]), r"/bin/sh -c 'echo it'\''s'");
        }
    }
}

#[component]
pub fn TagPage(#[prop(into)] repository: Signal<String>, #[prop(into)] reference: Signal<String>) -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || (repository.get(), reference.get(), query.with(|q| q.get("platform"))),
        |(repository, reference, platform)| async move {
            tag_page_data(repository, reference, platform)
                .await
                .unwrap_or_else(|e| TagView::BadRequest(format!("Regent could not load this page: {e}")))
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    TagView::Found(details) => view! { <Details details=*details /> }.into_any(),
                    TagView::Repository(name) => view! {
                        <crate::pages::repository::RepositoryPage name=name />
                    }
                    .into_any(),
                    TagView::NotFound { repository, reference, what } => {
                        #[cfg(feature = "ssr")]
                        if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                            r.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                            <Title text=format!("Not found: {repository}:{reference}") />
                            <h1>"Image not found"</h1>
                            <p>{what}</p>
                            <p>
                                <a href=repository_href(&repository)>{format!("Open {repository}")}</a>
                                " · "
                                <a href=format!("/images?q={}", crate::dto::encode_query_value(&reference))>"Search for it"</a>
                            </p>
                        }
                        .into_any()
                    }
                    TagView::BadRequest(message) => view! { <BadAddress message /> }.into_any(),
                    TagView::Unavailable(problem) => view! {
                        <Title text="Registry unavailable" />
                        <RegistryProblemNotice problem />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Details(details: TagDetails) -> impl IntoView {
    let TagDetails {
        repository,
        reference,
        is_tag,
        digest,
        media_type,
        manifest_size,
        platforms,
        image,
        image_problem,
        pull_commands,
        same_digest,
        cluster,
        deletable,
    } = details;
    let heading = if is_tag {
        format!("{repository}:{reference}")
    } else {
        format!("{repository}@{}", short_hex(&reference))
    };
    let base = if is_tag {
        tag_href(&repository, &reference)
    } else {
        manifest_href(&repository, &reference)
    };
    let switcher = (!platforms.is_empty()).then(|| {
        let links = platforms
            .iter()
            .map(|p| {
                let href = format!("{base}?platform={}", crate::dto::encode_query_value(&p.platform));
                let current = p.selected.then_some("page");
                view! {
                    <li>
                        <a href=href aria-current=current class:current=p.selected>{p.platform.clone()}</a>
                        " "<code title=p.digest.clone()>{short_hex(&p.digest).to_owned()}</code>
                        " "<span class="muted">{human_bytes(p.size)}" manifest"</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <nav class="platforms-switcher" aria-label="Platforms">
                <h2>"Platforms"</h2>
                <ul>{links}</ul>
            </nav>
        }
    });
    let pulls = pull_commands
        .into_iter()
        .map(|(label, command)| {
            view! { <li><span class="muted">{label.clone()}": "</span><CopyText text=command label=format!("Copy: {label}") /></li> }
        })
        .collect_view();
    let group = (!same_digest.is_empty()).then(|| {
        view! {
            <p class="shared">{format!("Same digest as {}: deleting this digest removes those tags too.", same_digest.join(", "))}</p>
        }
    });
    view! {
        <Title text=heading.clone() />
        <p class="breadcrumb"><a href=repository_href(&repository)>{repository.clone()}</a></p>
        <h1 class="tag-name">{heading}</h1>
        <section class="manifest">
            <h2>"Manifest"</h2>
            <dl class="facts">
                <div><dt>"Digest"</dt><dd><CopyText text=digest.clone() label="Copy the digest" /></dd></div>
                <div><dt>"Media type"</dt><dd><code>{media_type}</code></dd></div>
                <div><dt>"Manifest size"</dt><dd>{human_bytes(manifest_size)}</dd></div>
            </dl>
            {group}
        </section>
        {switcher}
        {image_problem.map(|p| view! { <p class="notice warning" role="status">{p}</p> })}
        <section class="pull">
            <h2>"Pull"</h2>
            <ul class="pull-commands">{pulls}</ul>
        </section>
        {cluster.map(|cluster| view! { <OnCluster cluster repository=repository.clone() digest=digest.clone() deletable /> })}
        {image.map(|image| view! { <Image image manifest=digest.clone() /> })}
    }
    .into_any()
}

/// The image on OpenShift: the stream tags on it, its tag's history and import, what runs
/// it, and (for those who may delete) deleting the stream tag or the image in prune order.
#[component]
fn OnCluster(
    cluster: crate::dto::ImageOnCluster,
    repository: String,
    digest: String,
    deletable: bool,
) -> impl IntoView {
    use crate::components::delete_controls::DeleteForm;
    use crate::components::stream::{StreamTagFacts, Workloads};
    use crate::dto::DeleteOp;
    let delete = ServerAction::<crate::pages::delete::DeleteImage>::new();
    let list = |refs: &Vec<crate::dto::StreamTagRef>| {
        refs.iter()
            .map(|r| {
                let tracks = (!r.tracks.is_empty()).then(|| {
                    view! { <span class="muted" data-tracks=r.tracks.join(" → ")>{format!(" tracks {}", r.tracks.join(" → "))}</span> }
                });
                view! { <li data-stream-tag=r.name.clone()><code>{r.name.clone()}</code>{tracks}</li> }
            })
            .collect_view()
    };
    let unseen = crate::dto::unseen_stream_tags(cluster.hidden_streams);
    let streams = match (cluster.streams.is_empty(), unseen) {
        (true, None) => {
            view! { <p class="notice warning" data-unreferenced="true">"No image stream tag points at this digest."</p> }
                .into_any()
        }
        (true, Some(_)) => view! {
            <p class="muted" data-hidden-streams=cluster.hidden_streams>
                {format!("No image stream tag you can see points at this digest; {} in projects you cannot see do.", cluster.hidden_streams)}
            </p>
        }
        .into_any(),
        (false, unseen) => view! {
            <ul class="streams" data-streams=cluster.streams.len()>{list(&cluster.streams)}</ul>
            {unseen.map(|text| view! { <p class="muted" data-hidden-streams=cluster.hidden_streams>{format!("And {text}.")}</p> })}
        }
        .into_any(),
    };
    let history = (!cluster.history_of.is_empty()).then(|| {
        let names = crate::dto::stream_tag_labels(&cluster.history_of).join(", ");
        view! { <p>{format!("Still in the history of {names} (kept by pruning while it is there).")}</p> }
    });
    let stream_tag = cluster.stream_tag.clone();
    let controls = deletable.then(|| {
        let running = crate::dto::impact_labels(&cluster.workloads, cluster.hidden_workloads);
        let impact = if running.is_empty() {
            "No pod runs it now.".to_owned()
        } else {
            format!("Running now in {}: their next pull (a restart, a new node) fails.", running.join("; "))
        };
        let tag_form = stream_tag.clone().filter(|t| t.current.is_some()).map(|t| {
            let (name, repository, tag) = (t.name.clone(), repository.clone(), t.tag.clone());
            view! {
                <DeleteForm action=delete op=DeleteOp::StreamTag form="delete-stream-tag" repository tag>
                    {format!("Delete the image stream tag {name} (with its history)")}
                </DeleteForm>
            }
        });
        let everywhere = format!(
            "Deletes {digest} as `oc adm prune` does: first every image stream drops it from its history ({}), then the \
             registry's manifest and layer links and blobs nothing else uses, last the Image object.",
            match (cluster.streams.is_empty() && cluster.history_of.is_empty(), cluster.hidden_streams) {
                (true, 0) => "none refers to it".to_owned(),
                _ => crate::dto::stream_tags_with_unseen(
                    &crate::dto::stream_tag_labels(&[cluster.streams.clone(), cluster.history_of.clone()].concat()),
                    cluster.hidden_streams,
                ),
            }
        );
        let (repository, digest) = (repository.clone(), digest.clone());
        view! {
            <details class="danger" data-form="delete-on-cluster">
                <summary>"Delete on OpenShift…"</summary>
                <p data-impact="workloads">{impact}</p>
                {tag_form}
                <p>{everywhere}</p>
                <DeleteForm action=delete op=DeleteOp::Image form="delete-image-everywhere" repository digest>
                    "Delete the image everywhere"
                </DeleteForm>
                <crate::components::notice::OutcomeNotice value=delete.value() />
            </details>
        }
    });
    view! {
        <section class="openshift" data-section="openshift">
            <h2>"OpenShift"</h2>
            {cluster.stale.then(|| view! { <p class="notice warning" role="status">"The cluster does not answer right now; this is the last known state."</p> })}
            <h3>"Image stream tags on this digest"</h3>
            {streams}
            {history}
            {stream_tag.map(|tag| view! { <StreamTagFacts tag /> })}
            {cluster.image_object.map(|o| view! { <p>{format!("Image object: {o}.")}</p> })}
            <h3>"Workloads using it"</h3>
            <Workloads workloads=cluster.workloads.clone() hidden=cluster.hidden_workloads />
            {controls}
        </section>
    }
    .into_any()
}

#[component]
fn Image(
    image: ImageDetails,
    /// The digest the page is about; the image's own is shown only when it differs (a platform).
    manifest: String,
) -> impl IntoView {
    let fact = |label: &'static str, value: Option<String>| {
        value.map(|v| view! { <div><dt>{label}</dt><dd><code>{v}</code></dd></div> }.into_any())
    };
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(", "));
    view! {
        <section class="image">
            <h2>"Image"</h2>
            <dl class="facts">
                <div><dt>"Image id"</dt><dd><code title=image.config_digest.clone()>{short_hex(&image.config_digest).to_owned()}</code></dd></div>
                <div><dt>"Size"</dt><dd data-fact="size">{human_bytes(image.size)}</dd></div>
                {fact("Platform", image.platform.clone())}
                {fact("Created", image.created.clone())}
                {fact("Author", image.author.clone())}
                {fact("User", image.user.clone())}
                {fact("Working dir", image.working_dir.clone())}
                {fact("Entrypoint", image.entrypoint.clone())}
                {fact("Cmd", image.cmd.clone())}
                {fact("Exposed ports", list(&image.exposed_ports))}
                {fact("Volumes", list(&image.volumes))}
                {fact("Image manifest", (image.digest != manifest).then(|| image.digest.clone()))}
            </dl>
            <Environment env=image.env />
            <Pairs title="Labels" class="labels" items=image.labels />
            <Pairs title="Annotations" class="annotations" items=image.annotations />
            <BuildHistory history=image.history />
            <LayerTable layers=image.layers />
        </section>
    }
    .into_any()
}

/// The image's environment; values that look like secrets are hidden until clicked.
#[component]
fn Environment(env: Vec<EnvVar>) -> impl IntoView {
    (!env.is_empty()).then(|| {
        let rows = env
            .into_iter()
            .map(|e| {
                let value = if e.secret {
                    view! {
                        <details class="secret">
                            <summary title="looks like a secret: click to show">"•••••• (show)"</summary>
                            <code>{e.value}</code>
                        </details>
                    }
                    .into_any()
                } else {
                    view! { <code>{e.value}</code> }.into_any()
                };
                view! { <tr><th scope="row"><code>{e.name}</code></th><td>{value}</td></tr> }
            })
            .collect_view();
        view! {
            <h3>"Environment"</h3>
            <div class="table-scroll"><table class="env"><tbody>{rows}</tbody></table></div>
        }
    })
}

/// Labels or annotations: a titled key/value table, absent when there are none.
#[component]
fn Pairs(title: &'static str, class: &'static str, items: Vec<(String, String)>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        let rows = items
            .into_iter()
            .map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> })
            .collect_view();
        view! {
            <h3>{title}</h3>
            <div class="table-scroll"><table class=class><tbody>{rows}</tbody></table></div>
        }
    })
}

/// The config's build history, with the layer each step made.
#[component]
fn BuildHistory(history: Vec<HistoryRow>) -> impl IntoView {
    (!history.is_empty()).then(|| {
        let rows = history
            .into_iter()
            .map(|h| {
                let layer = h.layer.map_or_else(|| "empty".to_owned(), |n| format!("layer {n}"));
                view! {
                    <tr class:empty=h.empty_layer>
                        <td class="muted">{layer}</td>
                        <td><code class="created-by">{h.created_by}</code></td>
                        <td class="created">{h.created.unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>"Build history"</h3>
            <div class="table-scroll"><table class="history"><tbody>{rows}</tbody></table></div>
        }
    })
}

/// The image's layers, each with its share of the image and how many repositories use it.
#[component]
fn LayerTable(layers: Vec<LayerRow>) -> impl IntoView {
    let rows = layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let width = format!("width: {:.1}%", l.share.max(0.5));
            let used = match l.repositories {
                0 | 1 => "this repository only".to_owned(),
                n => format!("{n} repositories"),
            };
            view! {
                <tr data-layer=l.digest.clone()>
                    <td class="num">{i + 1}</td>
                    <td><a href=layer_href(&l.digest)><code title=l.digest.clone()>{short_hex(&l.digest).to_owned()}</code></a></td>
                    <td class="media-type"><code>{l.media_type}</code></td>
                    <td class="num">{human_bytes(l.size)}</td>
                    <td class="share">
                        <span class="bar" title=format!("{:.1}% of the image's layer bytes", l.share)><span style=width></span></span>
                    </td>
                    <td class="muted">{used}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Layers"</h3>
        <div class="table-scroll">
            <table class="layers">
                <thead>
                    <tr>
                        <th scope="col" class="num">"#"</th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Media type"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col">"Share of image"</th>
                        <th scope="col">"Used by"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
