//! Domain values → DTOs, on the server. Kept apart so server functions stay a few lines.

use crate::dto::{ChildRow, IndexStatusView, RegistryProblem, RepositorySummary, TagRow, TagSort};
use regent_domain::index::{CatalogIndex, DigestMatch, RepositoryUsage, TagHit, TagInfo, TagOrder};

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
        image_stream: None,
        deletable: false,
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

pub fn grant_row(grant: &regent_domain::access::Grant) -> crate::dto::GrantRow {
    crate::dto::GrantRow {
        subject: grant.subject.to_string(),
        scope: grant.scope.to_string(),
        level: grant.level.to_string(),
    }
}
