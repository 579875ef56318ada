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

/// How far the index is and whether its data is fresh; shown above every listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexStatusView {
    pub crawling: bool,
    /// The index holds the whole registry (as of `last_success`).
    pub complete: bool,
    pub repositories_done: usize,
    pub repositories_known: usize,
    pub tags_done: usize,
    pub tags_known: usize,
    /// Repositories per second in the running crawl.
    pub rate: f64,
    pub eta_seconds: Option<u64>,
    pub last_success: Option<String>,
    /// The registry does not answer right now.
    pub registry_problem: Option<RegistryProblem>,
    /// The last crawl failed; data is the last good one.
    pub crawl_problem: Option<RegistryProblem>,
}

/// A repository in a listing or name search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryRow {
    pub name: String,
    pub tags: usize,
    /// Its last refresh failed; the row shows the last good data.
    pub stale: bool,
}

/// A tag with what the index knows about its image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRow {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    /// Config digest ("image id"); none for a manifest list / index.
    pub image_id: Option<String>,
    pub top_layer: Option<String>,
    pub size: u64,
    pub created: Option<String>,
    pub platforms: Vec<String>,
    /// For digest searches: "manifest", "image id" or "layer", and the full digest matched.
    pub matched: Option<(String, String)>,
}

/// What the Images page shows below the search box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ImagesBody {
    Repositories {
        total: usize,
        rows: Vec<RepositoryRow>,
    },
    Tags {
        total: usize,
        rows: Vec<TagRow>,
        ambiguous: Vec<String>,
    },
    /// One exact repository hit: go straight to its page.
    Redirect(String),
    /// The query or page parameters make no sense; the message says why and what to do.
    BadQuery(String),
    /// Nothing is indexed and the registry cannot be read.
    Unavailable(RegistryProblem),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagesView {
    pub query: String,
    pub paging: Paging,
    pub status: IndexStatusView,
    pub body: ImagesBody,
}

/// The repository page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RepositoryView {
    Found {
        name: String,
        stale: bool,
        rows: Vec<TagRow>,
        status: IndexStatusView,
    },
    NotFound {
        name: String,
        status: IndexStatusView,
    },
    BadName(String),
}

/// `/images?q=…&page=…&per_page=…` with defaults left out.
pub fn images_href(query: &str, paging: &Paging, page: u32) -> String {
    let mut parts = Vec::new();
    if !query.is_empty() {
        parts.push(format!("q={}", encode_query_value(query)));
    }
    if page != 1 {
        parts.push(format!("page={page}"));
    }
    if paging.per_page != DEFAULT_PER_PAGE {
        parts.push(format!("per_page={}", paging.per_page));
    }
    if parts.is_empty() {
        "/images".to_owned()
    } else {
        format!("/images?{}", parts.join("&"))
    }
}

/// `/images/<repository>`; repository names are URL-safe as they are.
pub fn repository_href(name: &str) -> String {
    format!("/images/{name}")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `sha256:0123456789ab` → `0123456789ab` (the 12 characters `docker images` shows).
pub fn short_hex(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}

/// Bytes as people read them: 0 B, 812 B, 1.4 KB, 23.0 MB (powers of 1000, like registries show).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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
        assert_eq!(images_href("", &p, 2), "/images?page=2");
        assert_eq!(images_href("", &p, 1), "/images");
        assert_eq!(
            images_href("demo/base:1.0", &Paging { page: 1, per_page: 10 }, 4),
            "/images?q=demo%2Fbase%3A1.0&page=4&per_page=10"
        );
    }

    #[test]
    fn digests_and_sizes_as_people_read_them() {
        assert_eq!(short_hex("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_400), "1.4 KB");
        assert_eq!(human_bytes(23_000_000), "23.0 MB");
    }
}
