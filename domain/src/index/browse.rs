//! The Images screen in one call: every repository the caller may see (those created in Regent
//! and not pushed to yet listed as empty), or what a search finds, one page at a time.
//!
//! The page's server function only parses the query and the paging and maps the answer to its
//! view; which repositories show, the merge with created ones, the redirect for an exact name
//! and which tags may be deleted are decided here.

use super::{CatalogIndex, SearchQuery, SearchResults, TagHit};
use crate::access::{Access, Action};
use crate::reference::{Digest, RepositoryName};
use crate::registry::RegistryError;
use crate::store::{Store, StoreError};

/// Which hits of all there are: `offset..offset + limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
}

/// One repository in the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: RepositoryName,
    pub tags: usize,
    /// The last crawl could not read it; what is shown is older.
    pub stale: bool,
}

/// One tag a search found, and whether the caller may delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTag {
    pub hit: TagHit,
    pub deletable: bool,
}

/// What the Images screen shows.
#[derive(Debug, Clone)]
pub enum Found {
    /// The index holds nothing yet and the registry is failing: why.
    Unavailable(RegistryError),
    Repositories {
        total: usize,
        rows: Vec<Listed>,
    },
    /// The query is exactly one repository's name: its page is the answer.
    Repository(RepositoryName),
    Tags {
        total: usize,
        rows: Vec<FoundTag>,
        /// For a digest prefix matching several digests: those digests.
        ambiguous: Vec<Digest>,
    },
}

impl CatalogIndex {
    /// Everything `access` may see (no query) or what `query` finds, in `window`.
    pub async fn browse(
        &self,
        store: &Store,
        access: &Access,
        query: Option<&SearchQuery>,
        window: Window,
    ) -> Result<Found, StoreError> {
        let visible = |name: &RepositoryName| access.may(Action::View, name);
        // Repositories created in Regent and not pushed to yet: listed, empty, with the others.
        let created: Vec<RepositoryName> = match query {
            None => store
                .created_repositories()
                .await?
                .into_iter()
                .map(|c| c.name)
                .filter(|n| visible(n))
                .collect(),
            Some(_) => Vec::new(),
        };
        let status = self.status();
        let data = self.read();
        if data.repository_count() == 0
            && !status.complete
            && !status.crawling
            && let Some(problem) = status.crawl_error.or(status.registry_error)
        {
            return Ok(Found::Unavailable(problem));
        }
        let Some(query) = query else {
            let empty = created
                .iter()
                .filter(|n| !data.has_repository(n))
                .map(|n| (n, 0, false));
            let listed = data.repositories().filter(|(n, _, _)| visible(n));
            let mut total = 0;
            let mut rows = Vec::new();
            for (name, tags, stale) in merge_by_name(listed, empty) {
                if total >= window.offset && rows.len() < window.limit {
                    rows.push(Listed {
                        name: name.clone(),
                        tags,
                        stale,
                    });
                }
                total += 1;
            }
            return Ok(Found::Repositories { total, rows });
        };
        Ok(match data.search(query, &visible, window.offset, window.limit) {
            SearchResults::Repositories { exact: Some(name), .. } => Found::Repository(name),
            SearchResults::Repositories { total, hits, .. } => Found::Repositories {
                total,
                rows: hits
                    .into_iter()
                    .map(|h| Listed {
                        stale: data.is_stale(&h.name),
                        name: h.name,
                        tags: h.tags,
                    })
                    .collect(),
            },
            SearchResults::Tags { total, hits, ambiguous } => Found::Tags {
                total,
                rows: hits
                    .into_iter()
                    .map(|hit| FoundTag {
                        deletable: access.may(Action::Delete, &hit.info.repository),
                        hit,
                    })
                    .collect(),
                ambiguous,
            },
        })
    }
}

/// Two name-ordered listings as one, in name order.
fn merge_by_name<'a, T: 'a>(
    a: impl Iterator<Item = (&'a RepositoryName, T, bool)>,
    b: impl Iterator<Item = (&'a RepositoryName, T, bool)>,
) -> impl Iterator<Item = (&'a RepositoryName, T, bool)> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y.0 < x.0 => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}
