//! `GET /v2/<name>/tags/list`: the tags of one repository.
//!
//! Distribution 2.x ignores `n`/`last` here and returns every tag unsorted; a repository
//! whose tags were all deleted answers `"tags": null`. Distribution 3.x pages with `Link`,
//! which is followed the same way as the catalog's.

use super::catalog::next_link;
use super::{RegistryClient, RegistryError};
use crate::reference::{RepositoryName, Tag};
use reqwest::Method;

/// Far above any real repository; stops a registry that pages forever.
const MAX_TAG_PAGES: usize = 100_000;

#[derive(serde::Deserialize)]
struct TagsBody {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl RegistryClient {
    /// The repository's tags in the registry's order. Empty when the registry says `null`.
    pub async fn tags(&self, repository: &RepositoryName) -> Result<Vec<Tag>, RegistryError> {
        let scope = format!("repository:{repository}:pull");
        let mut url = self.v2_url(&format!("{repository}/tags/list"))?;
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let response = self.send(Method::GET, url.clone(), &[], Some(&scope)).await?;
            if !response.status().is_success() {
                return Err(self.fail(&Method::GET, response).await);
            }
            let next = next_link(&response, &url);
            let body: TagsBody = response.json().await.map_err(|e| RegistryError::Protocol {
                url: url.to_string(),
                detail: format!("the tag list is not JSON of the form {{\"tags\": [...]}}: {e}"),
            })?;
            for tag in body.tags.unwrap_or_default() {
                match Tag::parse(&tag) {
                    Ok(t) => tags.push(t),
                    Err(e) => tracing::warn!(%e, %repository, "skipping a tag that is not a valid tag"),
                }
            }
            match next {
                Some(n) if n != url => url = n,
                _ => return Ok(tags),
            }
        }
        Err(RegistryError::Protocol {
            url: url.to_string(),
            detail: "its tag list paging does not end".into(),
        })
    }
}
