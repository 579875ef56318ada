//! Domain values → DTOs, on the server. Kept apart so server functions stay a few lines.

use crate::dto::{ChildRow, IndexStatusView, RegistryProblem, RepositorySummary, TagRow, TagSort};
use regent_domain::index::{CatalogIndex, DigestMatch, RepositoryUsage, TagHit, TagInfo};
use std::cmp::Ordering;
use std::collections::HashMap;

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

/// Marks each row with the other tags of its repository on the same digest.
pub fn group_by_digest(rows: &mut [TagRow]) {
    let mut by_digest: HashMap<(String, String), Vec<String>> = HashMap::new();
    for r in rows.iter() {
        by_digest
            .entry((r.repository.clone(), r.digest.clone()))
            .or_default()
            .push(r.tag.clone());
    }
    for r in rows.iter_mut() {
        if let Some(tags) = by_digest.get(&(r.repository.clone(), r.digest.clone()))
            && tags.len() > 1
        {
            r.same_digest = tags.iter().filter(|t| **t != r.tag).cloned().collect();
        }
    }
}

/// The repository page header, from the index's storage numbers and all of its tag rows.
pub fn repository_summary(usage: RepositoryUsage, rows: &[TagRow]) -> RepositorySummary {
    let pull_tag = rows
        .iter()
        .find(|r| r.tag == "latest")
        .or_else(|| rows.iter().max_by(|a, b| a.created.cmp(&b.created)))
        .map(|r| r.tag.clone())
        .unwrap_or_else(|| "latest".into());
    RepositorySummary {
        name: usage.name.to_string(),
        tags: usage.tags,
        total: usage.total,
        unique: usage.unique,
        shared: usage.shared(),
        last_push: usage.last_push.map(httpdate::fmt_http_date),
        newest_created: usage.newest_created,
        pull_tag,
    }
}

/// Sorts tag rows; ties (and tags without a created time, which go last) fall back to name.
pub fn sort_tags(rows: &mut [TagRow], sort: TagSort) {
    let (column, descending) = sort.column();
    rows.sort_by(|a, b| {
        let by_name = a.tag.cmp(&b.tag);
        let ordering = match column {
            "created" => match (&a.created, &b.created) {
                (Some(x), Some(y)) => x.cmp(y).then(by_name),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => by_name,
            },
            "size" => a.size.cmp(&b.size).then(by_name),
            _ => by_name,
        };
        if descending { ordering.reverse() } else { ordering }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tag: &str, digest: &str, size: u64, created: Option<&str>) -> TagRow {
        TagRow {
            repository: "r".into(),
            tag: tag.into(),
            digest: digest.into(),
            media_type: String::new(),
            image_id: None,
            top_layer: None,
            size,
            created: created.map(Into::into),
            platforms: vec![],
            matched: None,
            children: vec![],
            same_digest: vec![],
            image_stream: None,
        }
    }

    #[test]
    fn tags_sort_by_each_column_and_share_digests_in_groups() {
        let mut rows = vec![
            row("b", "d1", 30, Some("2024-02-01T00:00:00Z")),
            row("a", "d2", 10, None),
            row("c", "d1", 20, Some("2024-01-01T00:00:00Z")),
        ];
        group_by_digest(&mut rows);
        assert_eq!(rows[0].same_digest, ["c"]);
        assert!(rows[1].same_digest.is_empty());
        let order = |rows: &[TagRow]| rows.iter().map(|r| r.tag.as_str()).collect::<Vec<_>>().join("");
        sort_tags(&mut rows, TagSort::Size);
        assert_eq!(order(&rows), "acb");
        sort_tags(&mut rows, TagSort::NameDesc);
        assert_eq!(order(&rows), "cba");
        sort_tags(&mut rows, TagSort::Created);
        assert_eq!(order(&rows), "cba", "no created time goes last");
        sort_tags(&mut rows, TagSort::CreatedDesc);
        assert_eq!(order(&rows), "bca", "still last when descending");
    }
}
