//! `GET /v2/_catalog`: every repository name, page by page.
//!
//! Distribution returns 100 names by default, refuses `n` above `catalog.maxentries` (1000 by
//! default) with `PAGINATION_NUMBER_INVALID`, and announces the next page in a `Link` header.
//! The walk follows that header, never asks for more than 1000 at a time, and is bounded so a
//! misbehaving registry cannot keep it looping.

use super::{RegistryClient, RegistryError};
use crate::reference::RepositoryName;
use reqwest::{Method, Response};
use url::Url;

/// The largest page distribution accepts by default (`catalog.maxentries`).
pub const MAX_CATALOG_PAGE: u32 = 1000;

/// No registry Regent is meant for has more repositories than this; past it the walk stops.
const MAX_CATALOG_ENTRIES: usize = 10_000_000;

/// One page of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub repositories: Vec<RepositoryName>,
    /// The absolute URL of the next page, from the `Link` header.
    pub next: Option<Url>,
}

#[derive(serde::Deserialize)]
struct CatalogBody {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl RegistryClient {
    /// All repository names, in the registry's order (sorted, for distribution).
    pub async fn catalog(&self) -> Result<Vec<RepositoryName>, RegistryError> {
        let mut names = Vec::new();
        let mut page = self.catalog_page(None).await?;
        let mut seen_next = std::collections::HashSet::new();
        loop {
            names.extend(page.repositories);
            let Some(next) = page.next else { break };
            if !seen_next.insert(next.clone()) || names.len() > MAX_CATALOG_ENTRIES {
                return Err(RegistryError::Protocol {
                    url: self.base.to_string(),
                    detail: format!(
                        "its catalog paging does not end (stopped after {} names at {next})",
                        names.len()
                    ),
                });
            }
            page = self.catalog_page(Some(next)).await?;
        }
        Ok(names)
    }

    /// One page: the first (`next = None`) or the one a previous page's `Link` pointed at.
    pub async fn catalog_page(&self, next: Option<Url>) -> Result<CatalogPage, RegistryError> {
        let url = match next {
            Some(url) => url,
            None => {
                let mut url = self.v2_url("_catalog")?;
                url.query_pairs_mut()
                    .append_pair("n", &self.catalog_page_size.to_string());
                url
            }
        };
        let response = self
            .send(Method::GET, url.clone(), &[], Some("registry:catalog:*"))
            .await?;
        if !response.status().is_success() {
            return Err(self.fail(&Method::GET, response).await);
        }
        let next = next_link(&response, &url);
        let body: CatalogBody = response.json().await.map_err(|e| RegistryError::Protocol {
            url: url.to_string(),
            detail: format!("the catalog is not JSON of the form {{\"repositories\": [...]}}: {e}"),
        })?;
        let repositories = body
            .repositories
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| match RepositoryName::parse(&name) {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::warn!(%e, "skipping a catalog entry that is not a valid repository name");
                    None
                }
            })
            .collect();
        Ok(CatalogPage { repositories, next })
    }
}

/// The `rel="next"` target of a `Link` header, resolved against the request URL.
pub(super) fn next_link(response: &Response, request: &Url) -> Option<Url> {
    response
        .headers()
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| parse_next(v, request))
}

fn parse_next(header: &str, base: &Url) -> Option<Url> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| base.join(target).ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_of_distribution_is_resolved_against_the_registry() {
        let base = Url::parse("http://127.0.0.1:5055/v2/_catalog?n=2").unwrap();
        let next = parse_next(r#"</v2/_catalog?last=demo%2Fbase&n=2>; rel="next""#, &base).unwrap();
        assert_eq!(next.as_str(), "http://127.0.0.1:5055/v2/_catalog?last=demo%2Fbase&n=2");
        assert_eq!(parse_next(r#"</x>; rel="prev""#, &base), None);
        assert_eq!(parse_next("garbage", &base), None);
    }
}
