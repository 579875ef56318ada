//! Data that crosses between server and browser, with no server-only types in it.
//!
//! Server functions return these; components render them. Problems the user must act on
//! (registry down, bad query) are values here, not errors, so a screen can show them in
//! words and keep working.

use serde::{Deserialize, Serialize};

/// Page size when the URL does not say.
pub const DEFAULT_PER_PAGE: u32 = 25;
/// The largest page anyone may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// Page numbers above this are refused outright.
pub const MAX_PAGE: u32 = 1_000_000;

/// `?page=N&per_page=M`, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Paging {
    /// Parses the two query parameters; absent means the default.
    pub fn from_query(page: Option<&str>, per_page: Option<&str>) -> Result<Self, String> {
        let page = match page.map(str::trim).filter(|s| !s.is_empty()) {
            None => 1,
            Some(s) => parse_bounded("page", s, MAX_PAGE)?,
        };
        let per_page = match per_page.map(str::trim).filter(|s| !s.is_empty()) {
            None => DEFAULT_PER_PAGE,
            Some(s) => parse_bounded("per_page", s, MAX_PER_PAGE)?,
        };
        Ok(Self { page, per_page })
    }

    pub fn new(page: u32, per_page: u32) -> Result<Self, String> {
        Self::from_query(Some(&page.to_string()), Some(&per_page.to_string()))
    }

    pub fn offset(&self) -> usize {
        (self.page as usize - 1) * self.per_page as usize
    }

    /// The number of pages `total` items fill (at least 1).
    pub fn page_count(&self, total: usize) -> u32 {
        total.div_ceil(self.per_page as usize).max(1) as u32
    }

    /// The Images URL for page `page` at this page size (default size left out).
    pub fn href(&self, page: u32) -> String {
        if self.per_page == DEFAULT_PER_PAGE {
            format!("/images?page={page}")
        } else {
            format!("/images?page={page}&per_page={}", self.per_page)
        }
    }
}

fn parse_bounded(name: &str, input: &str, max: u32) -> Result<u32, String> {
    let shown: String = input.chars().take(40).collect();
    match input.parse::<u64>() {
        Ok(n) if (1..=max as u64).contains(&n) => Ok(n as u32),
        _ => Err(format!(
            "{name} must be a whole number from 1 to {max}; \"{shown}\" is not."
        )),
    }
}

/// A problem with the registry, said so an admin knows what to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryProblem {
    /// The registry Regent is configured to use.
    pub registry: String,
    /// What failed, in one sentence.
    pub what: String,
    /// What to check.
    pub hint: String,
}

#[cfg(feature = "ssr")]
impl RegistryProblem {
    pub fn from_error(registry: &str, error: &regent_domain::registry::RegistryError) -> Self {
        Self {
            registry: registry.to_owned(),
            what: error.to_string(),
            hint: error.hint().to_owned(),
        }
    }
}

/// One row of the Images page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRow {
    pub name: String,
    /// Tag count, or why it could not be read.
    pub tags: Result<usize, String>,
}

/// A page of repositories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryPage {
    pub paging: Paging,
    pub total: usize,
    pub rows: Vec<RepositoryRow>,
}

/// Everything the Images page can show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImagesView {
    Listing(RepositoryPage),
    /// The URL's query makes no sense; the message says why.
    BadQuery(String),
    RegistryProblem(RegistryProblem),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(Paging::from_query(None, None), Ok(Paging::default()));
        assert_eq!(
            Paging::from_query(Some("3"), Some("50")),
            Ok(Paging { page: 3, per_page: 50 })
        );
        assert!(Paging::from_query(Some("0"), None).is_err());
        assert!(Paging::from_query(Some("-1"), None).is_err());
        assert!(Paging::from_query(Some("abc"), None).unwrap_err().contains("\"abc\""));
        assert!(Paging::from_query(Some("99999999999999999999"), None).is_err());
        assert!(Paging::from_query(None, Some("101")).unwrap_err().contains("per_page"));
    }

    #[test]
    fn paging_arithmetic() {
        let p = Paging { page: 3, per_page: 25 };
        assert_eq!(p.offset(), 50);
        assert_eq!(p.page_count(0), 1);
        assert_eq!(p.page_count(25), 1);
        assert_eq!(p.page_count(26), 2);
        assert_eq!(p.href(2), "/images?page=2");
        assert_eq!(Paging { page: 1, per_page: 10 }.href(4), "/images?page=4&per_page=10");
    }
}
