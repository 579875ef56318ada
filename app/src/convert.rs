//! Domain values → DTOs, on the server. Kept apart so server functions stay a few lines.

use crate::dto::{
    ChildRow, ImagesBody, IndexStatusView, RegistryProblem, RepositoryRow, RepositorySummary, TagRow, TagSort,
};
use regent_domain::access::Access;
use regent_domain::index::browse::Found;
use regent_domain::index::{CatalogIndex, DigestMatch, RepositoryUsage, TagHit, TagInfo, TagOrder};
use regent_domain::openshift::visible;

pub fn status(index: &CatalogIndex) -> IndexStatusView {
    let s = index.status();
    let registry = index.registry().url().as_str();
    IndexStatusView {
        crawling: s.crawling,
        complete: s.complete,
        repositories_done: s.repositories_done,
        repositories_known: s.repositories_known,
        tags_done: s.manifests_done,
        tags_known: s.manifests_known,
        rate: s.rate(),
        eta_seconds: s.eta().map(|d| d.as_secs()),
        last_success: s.last_success.map(httpdate::fmt_http_date),
        restored_from: s.restored_from.map(httpdate::fmt_http_date),
        registry_problem: s
            .registry_error
            .as_ref()
            .map(|e| RegistryProblem::from_error(registry, e)),
        crawl_problem: s.crawl_error.as_ref().map(|e| RegistryProblem::from_error(registry, e)),
    }
}

pub fn tag_row(info: TagInfo) -> TagRow {
    TagRow {
        repository: info.repository.to_string(),
        tag: info.tag.to_string(),
        digest: info.digest.to_string(),
        media_type: info.media_type,
        image_id: info.image_id.map(|d| d.to_string()),
        top_layer: info.top_layer.map(|d| d.to_string()),
        size: info.size,
        created: info.created,
        platforms: info.platforms,
        matched: None,
        children: info
            .children
            .into_iter()
            .map(|c| ChildRow {
                digest: c.digest.to_string(),
                image_id: c.image_id.map(|d| d.to_string()),
                platform: c.platform,
                size: c.size,
            })
            .collect(),
        same_digest: Vec::new(),
        streams: Vec::new(),
        stream_tag: None,
        unreferenced: false,
        workloads: Vec::new(),
        hidden_streams: 0,
        hidden_workloads: 0,
        deletable: false,
        delete_plan: None,
        prune_plan: None,
    }
}

/// What the Images screen found, as its view shows it.
pub fn found(found: Found, index: &CatalogIndex) -> ImagesBody {
    match found {
        Found::Unavailable(e) => {
            ImagesBody::Unavailable(RegistryProblem::from_error(index.registry().url().as_str(), &e))
        }
        Found::Repository(name) => ImagesBody::Redirect(crate::dto::repository_href(name.as_str())),
        Found::Repositories { total, rows } => ImagesBody::Repositories {
            total,
            rows: rows
                .into_iter()
                .map(|r| RepositoryRow {
                    name: r.name.to_string(),
                    tags: r.tags,
                    stale: r.stale,
                })
                .collect(),
        },
        Found::Tags { total, rows, ambiguous } => ImagesBody::Tags {
            total,
            rows: rows
                .into_iter()
                .map(|t| TagRow {
                    deletable: t.deletable,
                    ..tag_hit(t.hit)
                })
                .collect(),
            ambiguous: ambiguous.iter().map(ToString::to_string).collect(),
        },
    }
}

pub fn tag_hit(hit: TagHit) -> TagRow {
    let matched = hit.matched.map(|(how, digest)| {
        let how = match how {
            DigestMatch::Manifest => "manifest",
            DigestMatch::ImageId => "image id",
            DigestMatch::Layer => "layer",
        };
        (how.to_owned(), digest.to_string())
    });
    TagRow {
        matched,
        ..tag_row(hit.info)
    }
}

/// The repository page header, from the index's storage numbers.
pub fn repository_summary(usage: RepositoryUsage) -> RepositorySummary {
    RepositorySummary {
        name: usage.name.to_string(),
        tags: usage.tags,
        total: usage.total,
        unique: usage.unique,
        shared: usage.shared(),
        last_push: usage.last_push.map(httpdate::fmt_http_date),
        newest_created: usage.newest_created,
        pull_tag: usage.default_tag.map_or_else(|| "latest".to_owned(), |t| t.to_string()),
    }
}

/// The index's order for a `?sort=` value: column, and whether descending.
pub fn tag_order(sort: TagSort) -> (TagOrder, bool) {
    let (column, descending) = sort.column();
    let order = match column {
        "created" => TagOrder::Created,
        "size" => TagOrder::Size,
        _ => TagOrder::Name,
    };
    (order, descending)
}

/// The viewer's capabilities on `repository` (`None`: they may not see it).
pub fn capabilities(
    access: &regent_domain::access::Access,
    repository: &regent_domain::reference::RepositoryName,
) -> Option<crate::dto::Capabilities> {
    use regent_domain::access::Action;
    let level = access.level(repository)?;
    Some(crate::dto::Capabilities {
        level: level.to_string(),
        push: access.may(Action::Push, repository),
        delete: access.may(Action::Delete, repository),
        manage: access.may(Action::ManageGrants, repository),
    })
}

/// The Access screen's answer for `scope` as asked (`problem`: why it did not parse).
pub fn access_detail(
    found: regent_domain::access::Overview,
    scope: String,
    problem: Option<String>,
) -> crate::dto::AccessDetail {
    use crate::dto::{CreatedRow, EffectiveRow};
    let effective_hidden = found.who.as_ref().map_or(0, |w| w.hidden);
    let effective = found.who.map(|w| {
        w.shown
            .into_iter()
            .map(|e| EffectiveRow {
                who: e.who,
                level: e.level.to_string(),
                why: e.why,
            })
            .collect()
    });
    crate::dto::AccessDetail {
        scope,
        problem,
        administered: found.administered.iter().map(ToString::to_string).collect(),
        grants: found.grants.iter().map(grant_row).collect(),
        effective,
        effective_hidden,
        created: found
            .created
            .into_iter()
            .map(|(c, tags)| CreatedRow {
                tags,
                name: c.name.to_string(),
                created_by: c.created_by,
                created: crate::pages::admin::guard::date(c.created_at),
            })
            .collect(),
        subjects: found.subjects,
    }
}

pub fn grant_row(grant: &regent_domain::access::Grant) -> crate::dto::GrantRow {
    crate::dto::GrantRow {
        subject: grant.subject.to_string(),
        scope: grant.scope.to_string(),
        level: grant.level.to_string(),
    }
}

/// A stream tag as a list names it: with the chain it tracks (from the join).
pub fn stream_tag_ref(
    join: &regent_domain::openshift::StreamJoin,
    name: &regent_domain::openshift::StreamTagName,
) -> crate::dto::StreamTagRef {
    crate::dto::StreamTagRef {
        name: name.to_string(),
        tracks: join
            .tag(&name.namespace, &name.stream, &name.tag)
            .map(|t| t.chain_written())
            .unwrap_or_default(),
    }
}

/// An image stream tag for the screens; `missing`: its image is not in the registry here.
pub fn stream_tag_view(t: &regent_domain::openshift::StreamTag, missing: bool) -> crate::dto::StreamTagView {
    crate::dto::StreamTagView {
        name: t.name.to_string(),
        tag: t.name.tag.clone(),
        current: t.current.clone(),
        tracks: t.tracks.clone(),
        chain: t.chain_written(),
        source: t.source.clone(),
        scheduled: t.scheduled,
        schedule: t.schedule().map(|s| s.to_string()),
        looked_in: None,
        history: t
            .history
            .iter()
            .map(|h| crate::dto::StreamHistoryRow {
                created: h.created.clone(),
                digest: h.image.clone(),
            })
            .collect(),
        import: t.import.as_ref().map(|i| crate::dto::ImportView {
            succeeded: i.succeeded,
            reason: i.reason.clone(),
            message: i.message.clone(),
            time: i.time.clone(),
        }),
        missing,
    }
}

pub fn workload_row(w: &regent_domain::openshift::Workload) -> crate::dto::WorkloadRow {
    crate::dto::WorkloadRow {
        namespace: w.namespace.clone(),
        pod: w.pod.clone(),
        owner: w.owner.clone(),
        container: w.container.clone(),
    }
}

/// Fills the OpenShift columns of tag rows: the stream tags on each digest, the repository's
/// own stream tag of that name, whether any stream refers to it, and what runs it, as far as
/// the viewer may see (the rest is counted). Nothing in registry-only mode.
pub fn on_cluster(state: &crate::state::AppState, access: &Access, rows: &mut [TagRow]) {
    let Some(openshift) = state.openshift() else { return };
    let (join, running) = (openshift.join(), openshift.workloads());
    for row in rows {
        let streams = visible::stream_tags(access, join.pointing_at(&row.digest));
        row.streams = streams.shown.iter().map(|n| stream_tag_ref(&join, n)).collect();
        row.hidden_streams = streams.hidden;
        row.stream_tag = row
            .repository
            .split_once('/')
            .and_then(|(ns, stream)| join.tag(ns, stream, &row.tag))
            .map(|t| stream_tag_view(t, t.current.as_deref().is_some_and(|c| c != row.digest)));
        row.unreferenced = !join.references(&row.digest);
        let running = visible::workloads(access, running.using(&row.digest));
        row.workloads = running.shown.into_iter().map(workload_row).collect();
        row.hidden_workloads = running.hidden;
    }
}

/// The stream tags whose image the registry lacks where their reference says it is (the
/// stream's own tags, and other streams' tags whose images are in this repository), those the
/// viewer may see named and the rest counted; the stream's failed imports; and the containers
/// running its images that the viewer may see.
pub async fn repository_on_cluster(
    state: &crate::state::AppState,
    access: &Access,
    name: &regent_domain::reference::RepositoryName,
) -> Option<Box<crate::dto::RepositoryOnCluster>> {
    use regent_domain::openshift::drift;
    let openshift = state.openshift()?;
    let (namespace, stream) = name.image_stream().unwrap_or((name.as_str(), ""));
    let join = openshift.join();
    let here: std::collections::HashSet<String> = state
        .index
        .read()
        .repository_tags(name)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, d)| d.to_string())
        .collect();
    let running = visible_workloads(openshift, access, here.iter().map(String::as_str));
    let known = openshift
        .streams_in(namespace)
        .iter()
        .any(|s| s.metadata.name.as_deref() == Some(stream));
    let found = drift::missing_from_registry(&state.index, &join, join.concerning(name)).await;
    let (missing, hidden_missing) = missing_views(access, &join, &found);
    Some(Box::new(crate::dto::RepositoryOnCluster {
        stream: known.then(|| name.to_string()),
        missing,
        hidden_missing,
        unchecked: unchecked_lines(access, &found),
        failed_imports: join
            .failed_imports()
            .filter(|t| t.name.namespace == namespace && t.name.stream == stream)
            .map(|t| stream_tag_view(t, false))
            .collect(),
        workloads: running.shown,
        hidden_workloads: running.hidden,
        stale: !cluster_connected(openshift),
    }))
}

/// The missing stream tags the viewer may see, each saying where it was looked for, and how
/// many others there are.
pub fn missing_views(
    access: &Access,
    join: &regent_domain::openshift::StreamJoin,
    drift: &regent_domain::openshift::drift::Drift,
) -> (Vec<crate::dto::StreamTagView>, usize) {
    let seen = visible::stream_tags(access, drift.missing.iter().map(|m| &m.tag));
    let views = drift
        .missing
        .iter()
        .filter(|m| seen.shown.contains(&&m.tag))
        .filter_map(|m| {
            let t = join.tag(&m.tag.namespace, &m.tag.stream, &m.tag.tag)?;
            Some(crate::dto::StreamTagView {
                looked_in: Some(m.looked_in.repository.to_string()),
                ..stream_tag_view(t, true)
            })
        })
        .collect();
    (views, seen.hidden)
}

/// `skyfield-dev/skyfield:1.0 (in skyfield): why`, for the tags the viewer may see.
pub fn unchecked_lines(access: &Access, drift: &regent_domain::openshift::drift::Drift) -> Vec<String> {
    let seen = visible::stream_tags(access, drift.unchecked.iter().map(|u| &u.tag));
    drift
        .unchecked
        .iter()
        .filter(|u| seen.shown.contains(&&u.tag))
        .map(|u| format!("{} (in {}): {}", u.tag, u.looked_in.repository, u.why))
        .collect()
}

/// The containers running any of `digests` that the viewer may see, each once, and how many
/// others run them in projects the viewer cannot see.
pub fn visible_workloads<'a>(
    openshift: &regent_domain::openshift::OpenShift,
    access: &Access,
    digests: impl Iterator<Item = &'a str>,
) -> visible::Seen<crate::dto::WorkloadRow> {
    let running = openshift.workloads();
    let mut all: Vec<&regent_domain::openshift::Workload> = digests.flat_map(|d| running.using(d)).collect();
    all.sort();
    all.dedup_by(|a, b| (&a.namespace, &a.pod, &a.container) == (&b.namespace, &b.pod, &b.container));
    let seen = visible::workloads(access, all);
    visible::Seen {
        shown: seen.shown.into_iter().map(workload_row).collect(),
        hidden: seen.hidden,
    }
}

/// The tag page's OpenShift section for `digest` (tag `tag` of `repository`, when by tag).
pub fn image_on_cluster(
    state: &crate::state::AppState,
    access: &Access,
    repository: &str,
    tag: Option<&str>,
    digest: &str,
) -> Option<crate::dto::ImageOnCluster> {
    let openshift = state.openshift()?;
    let join = openshift.join();
    let current = visible::stream_tags(access, join.pointing_at(digest));
    let holding = join.holding(digest);
    let history = visible::stream_tags(
        access,
        holding
            .iter()
            .filter(|(_, position)| *position > 0)
            .map(|(t, _)| &t.name),
    );
    let stream_tag = tag
        .zip(repository.split_once('/'))
        .and_then(|(tag, (ns, stream))| join.tag(ns, stream, tag))
        .map(|t| stream_tag_view(t, t.current.as_deref().is_some_and(|c| c != digest)));
    let running = visible_workloads(openshift, access, std::iter::once(digest));
    Some(crate::dto::ImageOnCluster {
        streams: current.shown.iter().map(|n| stream_tag_ref(&join, n)).collect(),
        history_of: history.shown.iter().map(|n| stream_tag_ref(&join, n)).collect(),
        hidden_streams: current.hidden + history.hidden,
        stream_tag,
        workloads: running.shown,
        hidden_workloads: running.hidden,
        image_object: openshift.image(digest).map(|i| {
            if i.managed() {
                "pushed to this registry (managed)"
            } else {
                "imported"
            }
            .to_owned()
        }),
        stale: !cluster_connected(openshift),
    })
}

pub fn cluster_connected(openshift: &regent_domain::openshift::OpenShift) -> bool {
    openshift.status().detection == regent_domain::openshift::Detection::OpenShift
}
