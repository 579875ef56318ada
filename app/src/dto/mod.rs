//! Data that crosses between server and browser, with no server-only types in it.
//!
//! Server functions return these; components render them. Problems the user must act on
//! (registry down, bad query) are values here, not errors, so a screen can show them in
//! words and keep working.

use serde::{Deserialize, Serialize};

mod admin;
mod delete;
mod detail;
mod openshift;
pub use admin::*;
pub use delete::*;
pub use detail::*;
pub use openshift::*;

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
    /// Loaded from the snapshot taken then; the first crawl since start is refreshing it.
    pub restored_from: Option<String>,
    /// The registry does not answer right now.
    pub registry_problem: Option<RegistryProblem>,
    /// The last crawl failed; data is the last good one.
    pub crawl_problem: Option<RegistryProblem>,
}

/// The signed-in user, as the sidebar shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    pub user: Option<String>,
    pub admin: bool,
    /// Administers some scope (every user's own namespace counts): the Access screen is theirs.
    pub manages: bool,
    /// Owns a group: the Groups screen lets them manage its members.
    #[serde(default)]
    pub owns_groups: bool,
    /// Regent is connected to OpenShift (its screens are in the sidebar for administrators).
    #[serde(default)]
    pub openshift: bool,
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
    /// For a manifest list / OCI index: its per-platform images.
    pub children: Vec<ChildRow>,
    /// Other tags of the same repository on this digest (deleting the digest removes them too).
    pub same_digest: Vec<String>,
    /// On OpenShift: the image stream tags pointing at this digest now (`ns/stream:tag`).
    #[serde(default)]
    pub streams: Vec<StreamTagRef>,
    /// On OpenShift: this repository's stream tag of the same name.
    #[serde(default)]
    pub stream_tag: Option<StreamTagView>,
    /// On OpenShift: no image stream refers to this digest (what `oc adm prune` removes).
    #[serde(default)]
    pub unreferenced: bool,
    /// On OpenShift: containers running this digest (each delete dialog names them).
    #[serde(default)]
    pub workloads: Vec<WorkloadRow>,
    /// On OpenShift: stream tags on this digest in repositories the viewer may not read.
    #[serde(default)]
    pub hidden_streams: usize,
    /// On OpenShift: containers running it in projects the viewer may not see.
    #[serde(default)]
    pub hidden_workloads: usize,
    /// The viewer may delete it (quick delete offers it).
    #[serde(default)]
    pub deletable: bool,
    /// For a viewer who may delete: what deleting its digest takes and keeps.
    #[serde(default)]
    pub delete_plan: Option<PlanView>,
    /// On OpenShift, for a viewer who may delete: what deleting the image everywhere takes.
    #[serde(default)]
    pub prune_plan: Option<PlanView>,
}

/// A delete plan as the delete controls show it before anything goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// Each manifest (with its tags) and the counts of links and blobs that go.
    pub goes: Vec<String>,
    /// What stays that one might expect to go, and why.
    pub stays: Vec<String>,
    /// Why Regent would refuse this delete now (then nothing goes).
    pub refused: Option<String>,
}

/// One platform image of a manifest list / OCI index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRow {
    pub digest: String,
    pub image_id: Option<String>,
    pub platform: String,
    pub size: u64,
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
    /// Not signed in: an empty listing may only mean "sign in to see more".
    pub anonymous: bool,
    /// For administrators on OpenShift: stream tags whose last import failed.
    #[serde(default)]
    pub failed_imports: usize,
}

/// What the viewer may do to a repository: the page shows push commands, delete buttons and
/// the access link only to those who may use them (the server checks again on every change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `read`, `write`, `delete` or `admin`.
    pub level: String,
    pub push: bool,
    pub delete: bool,
    pub manage: bool,
}

/// The repository page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RepositoryView {
    Found {
        summary: RepositorySummary,
        stale: bool,
        /// One page of tags, in `sort` order.
        rows: Vec<TagRow>,
        sort: TagSort,
        paging: Paging,
        /// `docker pull <pull_host>/<name>:<tag>`
        pull_host: String,
        status: Box<IndexStatusView>,
        you: Capabilities,
        /// On OpenShift: the repository's image stream.
        #[serde(default)]
        cluster: Option<Box<RepositoryOnCluster>>,
    },
    /// Created in Regent, nothing pushed yet.
    Empty {
        name: String,
        created_by: String,
        created: String,
        pull_host: String,
        you: Capabilities,
    },
    NotFound {
        name: String,
        status: IndexStatusView,
    },
    /// An image stream of this name on the cluster, with nothing in the registry (an import
    /// that never succeeded, say).
    StreamOnly {
        name: String,
        cluster: Box<RepositoryOnCluster>,
        you: Capabilities,
    },
    /// The name, sort or page in the URL makes no sense; the message says why.
    BadRequest(String),
}

/// The header of a repository page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositorySummary {
    pub name: String,
    pub tags: usize,
    /// Compressed bytes of its distinct blobs, each counted once.
    pub total: u64,
    /// Bytes only this repository's tags reach: what deleting it would free.
    pub unique: u64,
    pub shared: u64,
    /// HTTP date of the last push a notification told of.
    pub last_push: Option<String>,
    pub newest_created: Option<String>,
    /// The tag the header's pull command names: `latest` if there is one, else the newest.
    pub pull_tag: String,
}

/// Order of a repository's tags: `?sort=name|-name|created|-created|size|-size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TagSort {
    #[default]
    Name,
    NameDesc,
    Created,
    CreatedDesc,
    Size,
    SizeDesc,
}

impl TagSort {
    pub const ALL: [TagSort; 6] = [
        TagSort::Name,
        TagSort::NameDesc,
        TagSort::Created,
        TagSort::CreatedDesc,
        TagSort::Size,
        TagSort::SizeDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TagSort::Name => "name",
            TagSort::NameDesc => "-name",
            TagSort::Created => "created",
            TagSort::CreatedDesc => "-created",
            TagSort::Size => "size",
            TagSort::SizeDesc => "-size",
        }
    }

    /// Absent or empty means by name.
    pub fn parse(input: Option<&str>) -> Result<Self, String> {
        let text = input.map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return Ok(TagSort::Name);
        }
        Self::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            format!("sort must be one of name, -name, created, -created, size, -size (a leading - is descending); \"{shown}\" is not.")
        })
    }

    /// The column this sorts by, and whether descending.
    pub fn column(self) -> (&'static str, bool) {
        let s = self.as_str();
        (s.trim_start_matches('-'), s.starts_with('-'))
    }
}

/// `/images/<repository>?sort=…&page=…&per_page=…` with defaults left out.
pub fn repository_page_href(name: &str, sort: TagSort, paging: &Paging, page: u32) -> String {
    let mut parts = Vec::new();
    if sort != TagSort::Name {
        parts.push(format!("sort={}", sort.as_str()));
    }
    if page != 1 {
        parts.push(format!("page={page}"));
    }
    if paging.per_page != DEFAULT_PER_PAGE {
        parts.push(format!("per_page={}", paging.per_page));
    }
    let base = repository_href(name);
    if parts.is_empty() {
        base
    } else {
        format!("{base}?{}", parts.join("&"))
    }
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

/// `/images/<repository>/tags/<tag>`; tags are URL-safe as they are.
pub fn tag_href(repository: &str, tag: &str) -> String {
    format!("/images/{repository}/tags/{tag}")
}

/// `/images/<repository>/manifests/<digest>`: a manifest by digest (a platform image, say).
pub fn manifest_href(repository: &str, digest: &str) -> String {
    format!("/images/{repository}/manifests/{digest}")
}

/// `/layers/<digest>`
pub fn layer_href(digest: &str) -> String {
    format!("/layers/{digest}")
}

/// What a path below `/images/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImagePath {
    Repository(String),
    /// Repository and a tag or digest.
    Reference(String, String),
}

impl ImagePath {
    /// `a/b` → repository; `a/b/tags/t` → tag `t` of `a/b`; `a/b/manifests/sha256:…` →
    /// that manifest. A repository whose own name ends in `…/tags/x` is still found: the tag
    /// page falls back to it when `…` has no tag `x`.
    pub fn parse(path: &str) -> Self {
        let path = path.trim_matches('/');
        for marker in ["/tags/", "/manifests/"] {
            if let Some((repository, reference)) = path.rsplit_once(marker)
                && !repository.is_empty()
                && !reference.is_empty()
                && !reference.contains('/')
            {
                return ImagePath::Reference(repository.to_owned(), reference.to_owned());
            }
        }
        ImagePath::Repository(path.to_owned())
    }
}

/// `s` with its first letter in capitals.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
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
    fn image_paths_name_repositories_tags_and_manifests() {
        assert_eq!(ImagePath::parse("demo/base"), ImagePath::Repository("demo/base".into()));
        assert_eq!(
            ImagePath::parse("demo/base/tags/1.0"),
            ImagePath::Reference("demo/base".into(), "1.0".into())
        );
        assert_eq!(
            ImagePath::parse("a/manifests/sha256:ab"),
            ImagePath::Reference("a".into(), "sha256:ab".into())
        );
        assert_eq!(ImagePath::parse("tags/x"), ImagePath::Repository("tags/x".into()));
        assert_eq!(TagSort::parse(None), Ok(TagSort::Name));
        assert_eq!(TagSort::parse(Some("-created")), Ok(TagSort::CreatedDesc));
        assert!(TagSort::parse(Some("age")).unwrap_err().contains("\"age\""));
        assert_eq!(TagSort::SizeDesc.column(), ("size", true));
        let p = Paging::default();
        assert_eq!(repository_page_href("a/b", TagSort::Name, &p, 1), "/images/a/b");
        assert_eq!(
            repository_page_href("a/b", TagSort::SizeDesc, &p, 2),
            "/images/a/b?sort=-size&page=2"
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
