//! The digest join: which image stream tags point at a manifest, and what each stream tag is.
//!
//! On a cluster the ImageStream objects are the source of truth for tags, and a manifest
//! digest is the key that joins them to the registry: a status tag's `items[0].image` is the
//! digest it points at now, older items are its history. Built from the watched streams and
//! rebuilt only when they change, so a repository page with a thousand tags costs one hash
//! lookup per row.
//!
//! Where a tag's image is comes from its history item's `dockerImageReference` (repository and
//! digest), not from the stream's name; a tag that follows another (`from: ImageStreamTag`)
//! carries the whole chain it follows; a tag whose last import failed says so with its source
//! and schedule (docs/openshift-image-streams.md).

use super::pullspec::ImageReference;
use super::resources::{ImageStream, TagEventCondition};
use crate::reference::{Digest, RepositoryName};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How often OpenShift re-imports a scheduled tag unless the cluster says otherwise:
/// `imagePolicyConfig.scheduledImageImportMinimumIntervalSeconds` defaults to 900
/// (docs/openshift-image-streams.md).
pub const SCHEDULED_IMPORT_INTERVAL: Duration = Duration::from_secs(900);

/// One tag of one image stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamTagName {
    pub namespace: String,
    pub stream: String,
    pub tag: String,
}

impl std::fmt::Display for StreamTagName {
    /// `namespace/stream:tag`, as `oc` writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}:{}", self.namespace, self.stream, self.tag)
    }
}

impl StreamTagName {
    /// `namespace/stream`: the registry repository of the stream.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.namespace, self.stream)
    }

    /// How a spec tag of `from`'s stream names this one: `1.1` in the same stream,
    /// `skyfield:1.1` in the same project, `skyfield-dev/skyfield:1.1` elsewhere.
    pub fn written_from(&self, from: &StreamTagName) -> String {
        if self.namespace != from.namespace {
            self.to_string()
        } else if self.stream != from.stream {
            format!("{}:{}", self.stream, self.tag)
        } else {
            self.tag.clone()
        }
    }
}

/// One entry of a tag's history (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    pub created: Option<String>,
    /// The manifest digest.
    pub image: String,
    pub reference: String,
    /// `reference` parsed; `None` when it is empty or not a pull spec.
    pub location: Option<ImageReference>,
}

/// The last `ImportSuccess` condition of a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportStatus {
    pub succeeded: bool,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub time: Option<String>,
}

/// A stream tag, spec and status together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTag {
    pub name: StreamTagName,
    /// The digest it points at now (`items[0].image`); `None` for a tag with no image yet.
    pub current: Option<String>,
    /// A tracking ("nested") tag: the tag it follows, `1.0` or `other:1.0`, as the spec says.
    pub tracks: Option<String>,
    /// What it follows, to the end: `prod` → [`stable`, `1.1`]. Empty for a tag that follows
    /// none; a loop ends where it comes back.
    pub chain: Vec<StreamTagName>,
    /// Imported from this pull spec (`from.kind: DockerImage`).
    pub source: Option<String>,
    /// Re-imported on a schedule.
    pub scheduled: bool,
    pub history: Vec<HistoryItem>,
    pub import: Option<ImportStatus>,
}

/// Where the registry should have a stream tag's image.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expected {
    pub repository: RepositoryName,
    pub digest: Digest,
}

/// A scheduled import: what is imported, how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSchedule {
    pub source: String,
    pub every: Duration,
}

impl std::fmt::Display for ImportSchedule {
    /// `imports quay.io/acme/api:latest every 15 min`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.every.as_secs();
        let every = match secs {
            s if s % 3600 == 0 && s > 0 => format!("{} h", s / 3600),
            s if s % 60 == 0 && s > 0 => format!("{} min", s / 60),
            s => format!("{s} s"),
        };
        write!(f, "imports {} every {every}", self.source)
    }
}

impl StreamTag {
    /// Its scheduled import, when it has one (a `DockerImage` source with `scheduled: true`).
    pub fn schedule(&self) -> Option<ImportSchedule> {
        self.source
            .as_ref()
            .filter(|_| self.scheduled)
            .map(|source| ImportSchedule {
                source: source.clone(),
                every: SCHEDULED_IMPORT_INTERVAL,
            })
    }

    /// The chain it follows as its spec would write each step: `stable`, `1.1`.
    pub fn chain_written(&self) -> Vec<String> {
        self.chain.iter().map(|t| t.written_from(&self.name)).collect()
    }
}

/// Every stream tag of the cluster, and the reverse edges by digest.
#[derive(Debug, Default)]
pub struct StreamJoin {
    tags: BTreeMap<StreamTagName, StreamTag>,
    /// Current digest → the tags pointing at it now.
    current: HashMap<String, Vec<StreamTagName>>,
    /// Every digest any tag's history holds (what pruning keeps while it is there).
    referenced: HashSet<String>,
    /// `host[:port]` the streams say the integrated registry has (internal and public).
    hosts: Vec<String>,
}

impl StreamJoin {
    pub fn build(streams: &[Arc<ImageStream>]) -> Self {
        let mut join = StreamJoin::default();
        let mut follows: HashMap<StreamTagName, StreamTagName> = HashMap::new();
        for stream in streams {
            let namespace = stream.metadata.namespace.clone().unwrap_or_default();
            let name = stream.metadata.name.clone().unwrap_or_default();
            let tag_name = |tag: &str| StreamTagName {
                namespace: namespace.clone(),
                stream: name.clone(),
                tag: tag.to_owned(),
            };
            for repo in [
                Some(stream.status.docker_image_repository.as_str()),
                stream.status.public_docker_image_repository.as_deref(),
            ]
            .into_iter()
            .flatten()
            {
                if let Some((host, _)) = repo.split_once('/')
                    && !host.is_empty()
                    && !join.hosts.iter().any(|h| h == host)
                {
                    join.hosts.push(host.to_owned());
                }
            }
            for spec in &stream.spec.tags {
                let from = spec.from.as_ref();
                let entry = join.tags.entry(tag_name(&spec.name)).or_insert_with(|| StreamTag {
                    name: tag_name(&spec.name),
                    current: None,
                    tracks: None,
                    chain: Vec::new(),
                    source: None,
                    scheduled: false,
                    history: Vec::new(),
                    import: None,
                });
                match from.map(|f| f.kind.as_str()) {
                    Some("ImageStreamTag") => {
                        let from = from.expect("matched a kind");
                        // `from.name` is `stream:tag`, or `tag` for the tag's own stream.
                        let (stream, tag) = from
                            .name
                            .rsplit_once(':')
                            .unwrap_or((name.as_str(), from.name.as_str()));
                        let target = StreamTagName {
                            namespace: from
                                .namespace
                                .clone()
                                .filter(|n| !n.is_empty())
                                .unwrap_or(namespace.clone()),
                            stream: stream.to_owned(),
                            tag: tag.to_owned(),
                        };
                        entry.tracks = Some(target.written_from(&entry.name));
                        follows.insert(entry.name.clone(), target);
                    }
                    Some("DockerImage") => entry.source = from.map(|f| f.name.clone()),
                    _ => {}
                }
                entry.scheduled = spec.import_policy.as_ref().is_some_and(|p| p.scheduled);
            }
            for status in &stream.status.tags {
                let key = tag_name(&status.tag);
                let entry = join.tags.entry(key.clone()).or_insert_with(|| StreamTag {
                    name: key.clone(),
                    current: None,
                    tracks: None,
                    chain: Vec::new(),
                    source: None,
                    scheduled: false,
                    history: Vec::new(),
                    import: None,
                });
                entry.history = status
                    .items
                    .iter()
                    .map(|i| HistoryItem {
                        created: i.created.clone(),
                        image: i.image.clone(),
                        reference: i.docker_image_reference.clone(),
                        location: ImageReference::parse(&i.docker_image_reference).ok(),
                    })
                    .collect();
                entry.current = status.items.first().map(|i| i.image.clone()).filter(|d| !d.is_empty());
                entry.import = import_status(&status.conditions);
                if let Some(d) = &entry.current {
                    join.current.entry(d.clone()).or_default().push(key.clone());
                }
                join.referenced.extend(status.items.iter().map(|i| i.image.clone()));
            }
        }
        for (name, tag) in join.tags.iter_mut() {
            let mut next = follows.get(name);
            // Each step goes to a tag not seen yet, so a loop (`a` → `b` → `a`) ends.
            while let Some(target) = next
                && target != name
                && !tag.chain.contains(target)
            {
                tag.chain.push(target.clone());
                next = follows.get(target);
            }
        }
        join
    }

    /// Where the registry should have `tag`'s current image: the repository and digest of its
    /// newest history item's `dockerImageReference` when that names the integrated registry
    /// (the stream's own `namespace/stream` when the item has no reference). `None` for a tag
    /// with no image, or whose image stays in another registry (`referencePolicy: Source` of
    /// an import: pulls go there).
    pub fn expected_here(&self, tag: &StreamTag) -> Option<Expected> {
        let item = tag.history.first()?;
        let digest = Digest::parse(&item.image).ok()?;
        let repository = match &item.location {
            Some(l) if self.hosts.contains(&l.registry) => l.repository.clone(),
            Some(_) => return None,
            None if item.reference.is_empty() => RepositoryName::parse(&tag.name.repository()).ok()?,
            None => return None,
        };
        Some(Expected { repository, digest })
    }

    /// The stream tags a registry repository's page is about: the tags of the stream of the
    /// same name (`namespace/stream`), and any stream's tags whose image is expected in it.
    pub fn concerning<'a>(&'a self, repository: &'a RepositoryName) -> impl Iterator<Item = &'a StreamTag> + 'a {
        self.tags.values().filter(move |t| {
            t.name.repository() == repository.as_str()
                || self.expected_here(t).is_some_and(|e| e.repository == *repository)
        })
    }

    /// Stream tags whose last import failed (`ImportSuccess=False`), in name order.
    pub fn failed_imports(&self) -> impl Iterator<Item = &StreamTag> + '_ {
        self.tags
            .values()
            .filter(|t| t.import.as_ref().is_some_and(|i| !i.succeeded))
    }

    /// Stream tags pointing at `digest` now, in name order.
    pub fn pointing_at(&self, digest: &str) -> &[StreamTagName] {
        self.current.get(digest).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether any tag's history still holds `digest`.
    pub fn references(&self, digest: &str) -> bool {
        self.referenced.contains(digest)
    }

    /// Every tag whose history holds `digest`, with its position (0: current).
    pub fn holding(&self, digest: &str) -> Vec<(&StreamTag, usize)> {
        if !self.references(digest) {
            return Vec::new();
        }
        self.tags
            .values()
            .filter_map(|t| t.history.iter().position(|h| h.image == digest).map(|p| (t, p)))
            .collect()
    }

    /// Every digest the history of the stream `namespace/stream` holds (what its repository
    /// in the integrated registry must keep).
    pub fn held_in(&self, namespace: &str, stream: &str) -> Vec<&str> {
        let mut digests: Vec<&str> = self
            .tags
            .values()
            .filter(|t| t.name.namespace == namespace && t.name.stream == stream)
            .flat_map(|t| t.history.iter().map(|h| h.image.as_str()))
            .collect();
        digests.sort_unstable();
        digests.dedup();
        digests
    }

    pub fn tag(&self, namespace: &str, stream: &str, tag: &str) -> Option<&StreamTag> {
        self.tags.get(&StreamTagName {
            namespace: namespace.to_owned(),
            stream: stream.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// The tags of one stream, in name order.
    pub fn stream(&self, namespace: &str, stream: &str) -> impl Iterator<Item = &StreamTag> + '_ {
        let start = StreamTagName {
            namespace: namespace.to_owned(),
            stream: stream.to_owned(),
            tag: String::new(),
        };
        let (namespace, stream) = (namespace.to_owned(), stream.to_owned());
        self.tags
            .range(start..)
            .take_while(move |(k, _)| k.namespace == namespace && k.stream == stream)
            .map(|(_, t)| t)
    }

    pub fn all(&self) -> impl Iterator<Item = &StreamTag> + '_ {
        self.tags.values()
    }

    /// `host[:port]` of the integrated registry as the streams name it.
    pub fn registry_hosts(&self) -> &[String] {
        &self.hosts
    }
}

fn import_status(conditions: &[TagEventCondition]) -> Option<ImportStatus> {
    let c = conditions.iter().rev().find(|c| c.type_ == "ImportSuccess")?;
    Some(ImportStatus {
        succeeded: c.status != "False",
        reason: c.reason.clone(),
        message: c.message.clone(),
        time: c.last_transition_time.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream with tracking tags, history and import status (docs/openshift-image-streams.md).
    pub fn sample_stream() -> ImageStream {
        serde_json::from_str(include_str!("../../tests/fixtures/openshift/webapp-stream.json")).unwrap()
    }

    #[test]
    fn tags_join_by_digest_with_tracking_history_and_import_status() {
        let join = StreamJoin::build(&[Arc::new(sample_stream())]);
        let d0be = "sha256:0be392ba20eb44ad6f1f8908c064d6a7b4e2ffa075d00e76ff570d3d187c1577";
        let names: Vec<String> = join.pointing_at(d0be).iter().map(|n| n.to_string()).collect();
        assert_eq!(names, ["team-a/webapp:1.0", "team-a/webapp:latest"]);
        let latest = join.tag("team-a", "webapp", "latest").unwrap();
        assert_eq!(latest.tracks.as_deref(), Some("1.0"));
        assert_eq!(latest.history.len(), 2);
        let two = join.tag("team-a", "webapp", "2.0").unwrap();
        assert!(two.scheduled);
        let import = two.import.clone().unwrap();
        assert!(!import.succeeded);
        assert!(import.message.unwrap().contains("i/o timeout"));
        assert!(join.references("sha256:a41188572d4c9cb0ed1c4fae4e5218ea95d91618ca4c25e545609b880e328f4a"));
        assert_eq!(join.stream("team-a", "webapp").count(), 3);
        assert!(
            join.registry_hosts()
                .iter()
                .any(|h| h == "image-registry.openshift-image-registry.svc:5000")
        );
    }

    fn stream(json: serde_json::Value) -> Arc<ImageStream> {
        Arc::new(serde_json::from_value(json).unwrap())
    }

    const D: &str = "sha256:0be392ba20eb44ad6f1f8908c064d6a7b4e2ffa075d00e76ff570d3d187c1577";

    #[test]
    fn a_tag_that_follows_a_follower_carries_the_whole_chain_written_either_way() {
        let item = serde_json::json!([{"image": D, "dockerImageReference": format!("r:5000/skyfield@{D}")}]);
        let join = StreamJoin::build(&[stream(serde_json::json!({
            "metadata": {"name": "skyfield", "namespace": "skyfield-dev"},
            "spec": {"tags": [
                {"name": "stable", "from": {"kind": "ImageStreamTag", "name": "skyfield:1.1"}},
                {"name": "prod", "from": {"kind": "ImageStreamTag", "name": "stable"}},
                {"name": "a", "from": {"kind": "ImageStreamTag", "name": "b"}},
                {"name": "b", "from": {"kind": "ImageStreamTag", "name": "skyfield:a"}},
                {"name": "shared", "from": {"kind": "ImageStreamTag", "name": "base:1", "namespace": "openshift"}}
            ]},
            "status": {"dockerImageRepository": "r:5000/skyfield-dev/skyfield", "tags": [
                {"tag": "1.1", "items": item}, {"tag": "stable", "items": item}, {"tag": "prod", "items": item}
            ]}
        }))]);
        let prod = join.tag("skyfield-dev", "skyfield", "prod").unwrap();
        assert_eq!(prod.tracks.as_deref(), Some("stable"));
        assert_eq!(prod.chain_written(), ["stable", "1.1"]);
        let stable = join.tag("skyfield-dev", "skyfield", "stable").unwrap();
        assert_eq!(
            stable.tracks.as_deref(),
            Some("1.1"),
            "`skyfield:1.1` is its own stream's `1.1`"
        );
        assert_eq!(stable.chain_written(), ["1.1"]);
        assert!(join.tag("skyfield-dev", "skyfield", "1.1").unwrap().chain.is_empty());
        assert_eq!(
            join.tag("skyfield-dev", "skyfield", "a").unwrap().chain_written(),
            ["b"],
            "a loop ends"
        );
        let shared = join.tag("skyfield-dev", "skyfield", "shared").unwrap();
        assert_eq!(shared.chain_written(), ["openshift/base:1"]);
    }

    #[test]
    fn the_registry_should_have_an_image_where_its_reference_says_not_where_the_stream_is() {
        let join = StreamJoin::build(&[stream(serde_json::json!({
            "metadata": {"name": "skyfield", "namespace": "skyfield-dev"},
            "spec": {"tags": [{"name": "up", "from": {"kind": "DockerImage", "name": "quay.io/acme/api:latest"},
                               "importPolicy": {"scheduled": true}}]},
            "status": {"dockerImageRepository": "r:5000/skyfield-dev/skyfield", "tags": [
                {"tag": "1.1", "items": [{"image": D, "dockerImageReference": format!("r:5000/skyfield@{D}")}]},
                {"tag": "ext", "items": [{"image": D, "dockerImageReference": format!("quay.io/acme/api@{D}")}]},
                {"tag": "bare", "items": [{"image": D}]},
                {"tag": "up", "items": null, "conditions": [{"type": "ImportSuccess", "status": "False",
                    "reason": "NotFound", "message": "not found", "lastTransitionTime": "2026-03-11T03:15:00Z"}]}
            ]}
        }))]);
        let here = |tag| join.expected_here(join.tag("skyfield-dev", "skyfield", tag).unwrap());
        let expected = here("1.1").unwrap();
        assert_eq!(
            (expected.repository.as_str(), expected.digest.as_str()),
            ("skyfield", D)
        );
        assert_eq!(here("ext"), None, "stays on quay.io");
        assert_eq!(here("bare").unwrap().repository.as_str(), "skyfield-dev/skyfield");
        assert_eq!(here("up"), None, "never imported");
        let failed: Vec<String> = join.failed_imports().map(|t| t.name.to_string()).collect();
        assert_eq!(failed, ["skyfield-dev/skyfield:up"]);
        let up = join.tag("skyfield-dev", "skyfield", "up").unwrap();
        assert_eq!(
            up.schedule().unwrap().to_string(),
            "imports quay.io/acme/api:latest every 15 min"
        );
    }
}
