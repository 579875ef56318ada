//! Search over the index: by repository name, by tag, and by digest (manifest, image id or
//! layer), which is what the registry API cannot do.
//!
//! The query decides the mode: a `sha256:` digest or 8+ hex characters searches digests;
//! `repo:tag` searches tags within matching repositories; anything else searches repository
//! names. Qualifiers force a mode: `layer:`, `digest:` (manifest or image id), `repo:`, `tag:`.
//! Every query goes through `visible`, the one place access control filters results.

use super::digests::DigestId;
use super::idhash::IdHash;
use super::store::{DigestMatch, IndexData, RepoId, TagInfo};
use crate::reference::{Digest, RepositoryName};
use memchr::memmem;
use std::collections::HashMap;

/// Shortest digest prefix searched: shorter ones match too much to be useful.
pub const MIN_DIGEST_PREFIX: usize = 8;
const MAX_QUERY_LEN: usize = 300;

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// Case-insensitive substring of repository names.
    Name(String),
    /// `repo:tag`: tags containing `tag` in repositories containing `repo`.
    RepoTag { repository: String, tag: String },
    /// Tags containing this text, in every repository.
    Tag(String),
    /// A hex digest prefix (without `sha256:`), matched in the given roles.
    Digest { prefix: String, roles: Vec<DigestMatch> },
}

impl SearchQuery {
    /// `Ok(None)` for an empty query; `Err` says what is wrong with it and what to type.
    pub fn parse(input: &str) -> Result<Option<Self>, String> {
        let q = input.trim();
        if q.is_empty() {
            return Ok(None);
        }
        if q.chars().count() > MAX_QUERY_LEN {
            return Err(format!(
                "The search is longer than {MAX_QUERY_LEN} characters; shorten it."
            ));
        }
        let lower = q.to_lowercase();
        let all = vec![DigestMatch::Manifest, DigestMatch::ImageId, DigestMatch::Layer];
        if let Some(rest) = lower.strip_prefix("layer:") {
            return digest_prefix(rest).map(|prefix| {
                Some(SearchQuery::Digest {
                    prefix,
                    roles: vec![DigestMatch::Layer],
                })
            });
        }
        if let Some(rest) = lower.strip_prefix("digest:") {
            let roles = vec![DigestMatch::Manifest, DigestMatch::ImageId];
            return digest_prefix(rest).map(|prefix| Some(SearchQuery::Digest { prefix, roles }));
        }
        if let Some(rest) = lower.strip_prefix("repo:") {
            return name_text(rest).map(|n| Some(SearchQuery::Name(n)));
        }
        if let Some(rest) = lower.strip_prefix("tag:") {
            return tag_text(rest).map(|t| Some(SearchQuery::Tag(t)));
        }
        if lower.starts_with("sha256:") {
            return digest_prefix(&lower).map(|prefix| Some(SearchQuery::Digest { prefix, roles: all }));
        }
        if lower.len() >= MIN_DIGEST_PREFIX && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Some(SearchQuery::Digest {
                prefix: lower,
                roles: all,
            }));
        }
        if let Some((repository, tag)) = lower.split_once(':') {
            return Ok(Some(SearchQuery::RepoTag {
                repository: name_text(repository)?,
                tag: tag_text(tag)?,
            }));
        }
        name_text(&lower).map(|n| Some(SearchQuery::Name(n)))
    }

    /// Tags whose image contains the layer `digest`: what the layer page and a layer delete
    /// look for, built from the digest itself, not from text a user would type.
    pub fn layer(digest: &Digest) -> Self {
        SearchQuery::Digest {
            prefix: digest.encoded().to_ascii_lowercase(),
            roles: vec![DigestMatch::Layer],
        }
    }
}

fn digest_prefix(text: &str) -> Result<String, String> {
    let hex = text.trim().strip_prefix("sha256:").unwrap_or(text.trim());
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "A digest is hexadecimal (0-9, a-f), optionally after \"sha256:\"; {c:?} is not. \
             To search repository names, type the name or use repo:NAME."
        ));
    }
    if hex.len() < MIN_DIGEST_PREFIX {
        return Err(format!(
            "A digest prefix needs at least {MIN_DIGEST_PREFIX} hexadecimal characters; \"{hex}\" has {}. \
             Paste more of the digest (the 12-character image id works).",
            hex.len()
        ));
    }
    if hex.len() > 64 {
        return Err("A sha256 digest has 64 hexadecimal characters; this one is longer.".into());
    }
    Ok(hex.to_owned())
}

fn name_text(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Type part of a repository name after \"repo:\".".into());
    }
    match text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')))
    {
        Some(c) => Err(format!(
            "Repository names contain only letters, digits, '.', '_', '-' and '/'; {c:?} cannot match any. \
             Use repo:tag to search tags, or paste a digest."
        )),
        None => Ok(text.to_owned()),
    }
}

fn tag_text(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Type part of a tag after the ':'.".into());
    }
    match text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!(
            "Tags contain only letters, digits, '.', '_' and '-'; {c:?} cannot match any."
        )),
        None => Ok(text.to_owned()),
    }
}

/// How well a repository name matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameRank {
    Exact,
    Prefix,
    ComponentPrefix,
    Substring,
}

/// Ranks one name; `finder` is built once per query (setting up a substring search per
/// name would dominate the cost).
fn rank(name: &str, q: &str, finder: &memmem::Finder<'_>) -> Option<NameRank> {
    let bytes = name.as_bytes();
    let first = finder.find(bytes)?;
    if first == 0 {
        return Some(if name.len() == q.len() {
            NameRank::Exact
        } else {
            NameRank::Prefix
        });
    }
    if finder.find_iter(bytes).any(|i| bytes[i - 1] == b'/') {
        Some(NameRank::ComponentPrefix)
    } else {
        Some(NameRank::Substring)
    }
}

/// ASCII case-insensitive substring test for tags (`needle` is lowercase), without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryHit {
    pub name: RepositoryName,
    pub tags: usize,
    pub rank: NameRank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagHit {
    pub info: TagInfo,
    /// For digest searches: how the tag matched, and the full digest it matched.
    pub matched: Option<(DigestMatch, Digest)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchResults {
    Repositories {
        total: usize,
        hits: Vec<RepositoryHit>,
        /// The query is exactly one repository's name and nothing else matched.
        exact: Option<RepositoryName>,
    },
    Tags {
        total: usize,
        hits: Vec<TagHit>,
        /// For digest prefixes matching several different digests: those digests (at most 20).
        ambiguous: Vec<Digest>,
    },
}

const MAX_AMBIGUOUS_SHOWN: usize = 20;

/// The tags whose image contains one layer (the layer page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTags {
    pub total: usize,
    /// The page asked for.
    pub page: Vec<TagHit>,
    /// With `every_manifest`: the manifest digests of all of them, not only the page's.
    pub manifests: Vec<Digest>,
}

impl IndexData {
    /// Tags `offset..offset + limit` of those whose image contains `layer`, in one search; with
    /// `every_manifest` also the manifest digests of all of them (to find the workloads running
    /// any image with the layer), which costs building every hit instead of one page.
    pub fn tags_with_layer(
        &self,
        layer: &Digest,
        visible: &dyn Fn(&RepositoryName) -> bool,
        offset: usize,
        limit: usize,
        every_manifest: bool,
    ) -> LayerTags {
        let (from, count) = if every_manifest {
            (0, usize::MAX)
        } else {
            (offset, limit)
        };
        let SearchResults::Tags { total, hits, .. } = self.search(&SearchQuery::layer(layer), visible, from, count)
        else {
            return LayerTags {
                total: 0,
                page: Vec::new(),
                manifests: Vec::new(),
            };
        };
        if !every_manifest {
            return LayerTags {
                total,
                page: hits,
                manifests: Vec::new(),
            };
        }
        let manifests = hits.iter().map(|h| h.info.digest.clone()).collect();
        LayerTags {
            total,
            page: hits.into_iter().skip(offset).take(limit).collect(),
            manifests,
        }
    }

    /// Runs `query`, returning hits `offset..offset + limit` and the total.
    pub fn search(
        &self,
        query: &SearchQuery,
        visible: &dyn Fn(&RepositoryName) -> bool,
        offset: usize,
        limit: usize,
    ) -> SearchResults {
        match query {
            SearchQuery::Name(q) => self.search_names(q, visible, offset, limit),
            SearchQuery::RepoTag { repository, tag } => {
                let finder = memmem::Finder::new(repository.as_bytes());
                let ids = self.names().matching(&finder);
                self.search_tags(ids.into_iter(), tag, visible, offset, limit)
            }
            SearchQuery::Tag(tag) => self.search_tags(self.repo_ids().values().copied(), tag, visible, offset, limit),
            SearchQuery::Digest { prefix, roles } => self.search_digests(prefix, roles, visible, offset, limit),
        }
    }

    fn search_names(
        &self,
        q: &str,
        visible: &dyn Fn(&RepositoryName) -> bool,
        offset: usize,
        limit: usize,
    ) -> SearchResults {
        // One bucket per rank; names arrive sorted, so the concatenation is sorted by (rank, name).
        let finder = memmem::Finder::new(q.as_bytes());
        let mut buckets: [Vec<RepoId>; 4] = Default::default();
        for id in self.names().matching(&finder) {
            let name = self.repo_name(id);
            if let Some(r) = rank(name.as_str(), q, &finder)
                && visible(name)
            {
                buckets[r as usize].push(id);
            }
        }
        let total: usize = buckets.iter().map(Vec::len).sum();
        let exact = (total == 1 && buckets[0].len() == 1).then(|| self.repo_name(buckets[0][0]).clone());
        let ranks = [
            NameRank::Exact,
            NameRank::Prefix,
            NameRank::ComponentPrefix,
            NameRank::Substring,
        ];
        let hits = buckets
            .iter()
            .zip(ranks)
            .flat_map(|(b, r)| b.iter().map(move |id| (*id, r)))
            .skip(offset)
            .take(limit)
            .map(|(id, rank)| RepositoryHit {
                name: self.repo_name(id).clone(),
                tags: self.tags_of(id).len(),
                rank,
            })
            .collect();
        SearchResults::Repositories { total, hits, exact }
    }

    fn search_tags(
        &self,
        repos: impl Iterator<Item = RepoId>,
        tag: &str,
        visible: &dyn Fn(&RepositoryName) -> bool,
        offset: usize,
        limit: usize,
    ) -> SearchResults {
        let mut total = 0;
        let mut hits = Vec::new();
        for id in repos {
            if !visible(self.repo_name(id)) {
                continue;
            }
            for (t, d) in self.tags_of(id) {
                if contains_ignore_case(t.as_str(), tag) {
                    if total >= offset && hits.len() < limit {
                        hits.push(TagHit {
                            info: self.tag_info(id, t, *d),
                            matched: None,
                        });
                    }
                    total += 1;
                }
            }
        }
        SearchResults::Tags {
            total,
            hits,
            ambiguous: vec![],
        }
    }

    fn search_digests(
        &self,
        prefix: &str,
        roles: &[DigestMatch],
        visible: &dyn Fn(&RepositoryName) -> bool,
        offset: usize,
        limit: usize,
    ) -> SearchResults {
        let matched: Vec<(DigestId, Vec<DigestMatch>)> = self
            .digests()
            .with_prefix(prefix)
            .map(|d| {
                (
                    d,
                    self.roles(d)
                        .into_iter()
                        .filter(|r| roles.contains(r))
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, r)| !r.is_empty())
            .take(10_000)
            .collect();
        let ambiguous = if matched.len() > 1 {
            matched
                .iter()
                .take(MAX_AMBIGUOUS_SHOWN)
                .map(|(d, _)| self.digests().digest(*d))
                .collect()
        } else {
            vec![]
        };
        // The manifests tags must point at, each with its best match (roles order by quality).
        let mut targets: HashMap<DigestId, (DigestMatch, DigestId), IdHash> = HashMap::default();
        for (d, rs) in &matched {
            for role in rs {
                self.manifests_containing(*d, *role, &mut |m| {
                    targets
                        .entry(m)
                        .and_modify(|best| {
                            if *role < best.0 {
                                *best = (*role, *d);
                            }
                        })
                        .or_insert((*role, *d));
                });
            }
        }
        // Membership by bit: the walk below asks once per tag of every matching repository.
        let mut is_target = vec![0u64; self.digests().len().div_ceil(64)];
        for m in targets.keys() {
            is_target[m.index() / 64] |= 1 << (m.index() % 64);
        }
        let is_target = |m: &DigestId| is_target[m.index() / 64] & (1 << (m.index() % 64)) != 0;
        let mut repos: Vec<RepoId> = targets.keys().flat_map(|m| self.repos_tagging(*m)).collect();
        repos.sort_unstable();
        repos.dedup();
        repos.retain(|r| visible(self.repo_name(*r)));
        // Name order. Many repositories: compare precomputed name positions; few: compare the
        // names themselves, which spares computing every repository's position.
        if repos.len() > 512 {
            let names = self.names();
            repos.sort_unstable_by_key(|r| names.position(*r));
        } else {
            repos.sort_unstable_by(|a, b| self.repo_name(*a).cmp(self.repo_name(*b)));
        }
        // Each repository's tags come in name order: the walk yields (repository, tag) order,
        // every tag once, and builds full rows only for the requested page. Outside the page
        // only the digests are read, which spares loading every tag name.
        let mut total = 0;
        let mut hits = Vec::new();
        for repo in repos {
            let tags = self.tags_of(repo);
            if total + tags.len() <= offset || hits.len() == limit {
                total += tags.values().filter(|m| is_target(m)).count();
                continue;
            }
            for (tag, manifest) in tags {
                if !is_target(manifest) {
                    continue;
                }
                let Some((role, d)) = targets.get(manifest) else {
                    continue;
                };
                if total >= offset && hits.len() < limit {
                    hits.push(TagHit {
                        info: self.tag_info(repo, tag, *manifest),
                        matched: Some((*role, self.digests().digest(*d))),
                    });
                }
                total += 1;
            }
        }
        SearchResults::Tags { total, hits, ambiguous }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Tag;

    #[test]
    fn the_query_decides_the_mode_and_qualifiers_override() {
        let p = |s: &str| SearchQuery::parse(s).unwrap().unwrap();
        assert_eq!(p("Skyfield"), SearchQuery::Name("skyfield".into()));
        assert_eq!(
            p("demo/base:1.0"),
            SearchQuery::RepoTag {
                repository: "demo/base".into(),
                tag: "1.0".into()
            }
        );
        assert!(
            matches!(p("sha256:abcdef12"), SearchQuery::Digest { ref prefix, ref roles } if prefix == "abcdef12" && roles.len() == 3)
        );
        assert!(matches!(p("ABCDEF123456"), SearchQuery::Digest { ref prefix, .. } if prefix == "abcdef123456"));
        assert!(matches!(p("layer:abcdef12"), SearchQuery::Digest { ref roles, .. } if roles == &[DigestMatch::Layer]));
        assert!(matches!(p("digest:abcdef12"), SearchQuery::Digest { ref roles, .. } if roles.len() == 2));
        assert_eq!(p("repo:deadbeef00"), SearchQuery::Name("deadbeef00".into()));
        assert_eq!(p("tag:Latest"), SearchQuery::Tag("latest".into()));
        assert_eq!(p("cafe"), SearchQuery::Name("cafe".into()), "short hex is a name");
        assert_eq!(SearchQuery::parse("   ").unwrap(), None);
    }

    #[test]
    fn bad_queries_say_what_to_do() {
        let e = |s: &str| SearchQuery::parse(s).unwrap_err();
        assert!(e("sha256:abc").contains("at least 8"));
        assert!(e("layer:xyz12345").contains("hexadecimal"));
        assert!(e("café").contains("cannot match"));
        assert!(e("a b").contains("cannot match"));
        assert!(e("repo:").contains("repo:"));
        assert!(e(&"a".repeat(400)).contains("longer"));
        assert!(e(&format!("sha256:{}", "a".repeat(65))).contains("64"));
    }

    #[test]
    fn an_ambiguous_prefix_lists_the_digests_it_matched() {
        use crate::index::store::{IndexData, IndexedManifest};
        use crate::registry::MediaType;
        let d = |hex: &str| Digest::parse(&format!("sha256:{hex:0<64}")).unwrap();
        let mut x = IndexData::default();
        for (m, c) in [("abcdef0011", "c1"), ("abcdef0022", "c2")] {
            let image = IndexedManifest::Image {
                media_type: MediaType::OciManifest,
                config: d(c),
                config_size: 0,
                layers: vec![],
                created: None,
                platform: None,
            };
            x.insert_manifest(&d(m), &image);
            let repo = RepositoryName::parse(&format!("r{m}")).unwrap();
            x.set_tag(&repo, &Tag::parse("1").unwrap(), &d(m));
        }
        let q = SearchQuery::parse("abcdef00").unwrap().unwrap();
        let SearchResults::Tags { total, ambiguous, .. } = x.search(&q, &|_| true, 0, 10) else {
            panic!()
        };
        assert_eq!(total, 2);
        assert_eq!(ambiguous, vec![d("abcdef0011"), d("abcdef0022")]);
        let q = SearchQuery::parse("abcdef0011").unwrap().unwrap();
        let SearchResults::Tags { total, ambiguous, .. } = x.search(&q, &|_| true, 0, 10) else {
            panic!()
        };
        assert_eq!((total, ambiguous.len()), (1, 0));
        // The filter is applied: a repository the viewer may not read is not in the results.
        let q = SearchQuery::parse("abcdef00").unwrap().unwrap();
        let hidden = |r: &RepositoryName| r.as_str() != "rabcdef0011";
        let SearchResults::Tags { total, .. } = x.search(&q, &hidden, 0, 10) else {
            panic!()
        };
        assert_eq!(total, 1);
    }

    #[test]
    fn names_rank_exact_then_prefix_then_component_then_substring() {
        let f = memmem::Finder::new("skyfield");
        assert_eq!(rank("skyfield", "skyfield", &f), Some(NameRank::Exact));
        assert_eq!(rank("skyfield-ui", "skyfield", &f), Some(NameRank::Prefix));
        assert_eq!(rank("team/skyfield", "skyfield", &f), Some(NameRank::ComponentPrefix));
        assert_eq!(
            rank("oldskyfield/skyfield-x", "skyfield", &f),
            Some(NameRank::ComponentPrefix)
        );
        assert_eq!(rank("oldskyfield", "skyfield", &f), Some(NameRank::Substring));
        assert_eq!(rank("other", "skyfield", &f), None);
        assert!(contains_ignore_case("Release-RC1", "rc1"));
        assert!(!contains_ignore_case("v1", "v12"));
    }

    #[test]
    fn layer_results_page_through_every_tag_once_in_name_order() {
        use crate::index::store::{IndexedLayer, IndexedManifest};
        use crate::registry::{MediaType, Platform};
        let d = |s: &str| Digest::sha256_of(s.as_bytes());
        let image = |n: usize| IndexedManifest::Image {
            media_type: MediaType::OciManifest,
            config: d(&format!("config {n}")),
            config_size: 1,
            layers: vec![IndexedLayer {
                digest: d("base"),
                size: 10,
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            }],
            created: None,
            platform: Some(Platform {
                os: "linux".into(),
                architecture: format!("arch{n}"),
                variant: None,
            }),
        };
        let mut x = IndexData::default();
        for n in 0..40 {
            x.insert_manifest(&d(&format!("m{n}")), &image(n));
        }
        // An index whose two children both have the layer: its tag must still come once.
        x.insert_manifest(
            &d("index"),
            &IndexedManifest::Index {
                media_type: MediaType::OciIndex,
                children: vec![(d("m0"), None), (d("m1"), None)],
            },
        );
        let mut expected = Vec::new();
        for repo in 0..7 {
            let name = RepositoryName::parse(&format!("team/r{repo}")).unwrap();
            let mut tags = Vec::new();
            for t in 0..repo + 1 {
                let tag = Tag::parse(&format!("t{t}")).unwrap();
                tags.push((tag.clone(), d(&format!("m{}", (repo * 5 + t) % 40))));
                expected.push(format!("{name}:{tag}"));
            }
            if repo == 3 {
                tags.push((Tag::parse("multi").unwrap(), d("index")));
                expected.push(format!("{name}:multi"));
            }
            x.set_repository(&name, &tags);
        }
        expected.sort();
        let q = SearchQuery::parse(&format!("layer:{}", d("base"))).unwrap().unwrap();
        assert_eq!(
            q,
            SearchQuery::layer(&d("base")),
            "typed and built layer searches agree"
        );
        for per_page in [1, 3, 7, 100] {
            let mut seen = Vec::new();
            for page in 0..expected.len().div_ceil(per_page) {
                let SearchResults::Tags { total, hits, .. } = x.search(&q, &|_| true, page * per_page, per_page) else {
                    panic!()
                };
                assert_eq!(total, expected.len());
                for every_manifest in [false, true] {
                    let layer = x.tags_with_layer(&d("base"), &|_| true, page * per_page, per_page, every_manifest);
                    assert_eq!(
                        (layer.total, &layer.page),
                        (total, &hits),
                        "the layer page is the search's page"
                    );
                    let manifests = if every_manifest { expected.len() } else { 0 };
                    assert_eq!(layer.manifests.len(), manifests);
                }
                seen.extend(hits.iter().map(|h| format!("{}:{}", h.info.repository, h.info.tag)));
            }
            assert_eq!(seen, expected, "{per_page} per page");
        }
    }
}
