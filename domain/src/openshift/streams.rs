//! The digest join: which image stream tags point at a manifest, and what each stream tag is.
//!
//! On a cluster the ImageStream objects are the source of truth for tags, and a manifest
//! digest is the key that joins them to the registry: a status tag's `items[0].image` is the
//! digest it points at now, older items are its history. Built from the watched streams and
//! rebuilt only when they change, so a repository page with a thousand tags costs one hash
//! lookup per row.

use super::resources::{ImageStream, TagEventCondition};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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
}

/// One entry of a tag's history (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    pub created: Option<String>,
    /// The manifest digest.
    pub image: String,
    pub reference: String,
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
    /// A tracking ("nested") tag: the tag it follows, `1.0` or `other:1.0`.
    pub tracks: Option<String>,
    /// Imported from this pull spec (`from.kind: DockerImage`).
    pub source: Option<String>,
    /// Re-imported on a schedule.
    pub scheduled: bool,
    pub history: Vec<HistoryItem>,
    pub import: Option<ImportStatus>,
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
                    source: None,
                    scheduled: false,
                    history: Vec::new(),
                    import: None,
                });
                match from.map(|f| f.kind.as_str()) {
                    Some("ImageStreamTag") => {
                        let target = from.map(|f| f.name.clone()).unwrap_or_default();
                        // `webapp:1.0` in the same stream is written `1.0`.
                        let own = format!("{name}:");
                        entry.tracks = Some(target.strip_prefix(&own).map(str::to_owned).unwrap_or(target));
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
        join
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

/// `registry/ns/stream@sha256:…` or `…:tag` → (registry host, `ns/stream`, tag or digest).
pub fn split_reference(reference: &str) -> Option<(&str, &str, Reference<'_>)> {
    let (host, rest) = reference.split_once('/')?;
    if let Some((path, digest)) = rest.split_once('@') {
        return Some((host, path, Reference::Digest(digest)));
    }
    match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => Some((host, path, Reference::Tag(tag))),
        _ => Some((host, rest, Reference::Tag("latest"))),
    }
}

/// The end of a pull spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    Tag(&'a str),
    Digest(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenario of reference/openshift.md §7.
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

    #[test]
    fn pull_specs_split_into_host_repository_and_reference() {
        assert_eq!(
            split_reference("image-registry.svc:5000/team-a/webapp@sha256:00"),
            Some((
                "image-registry.svc:5000",
                "team-a/webapp",
                Reference::Digest("sha256:00")
            ))
        );
        assert_eq!(
            split_reference("quay.io/example/webapp:2.0"),
            Some(("quay.io", "example/webapp", Reference::Tag("2.0")))
        );
        assert_eq!(
            split_reference("r:5000/a/b"),
            Some(("r:5000", "a/b", Reference::Tag("latest")))
        );
    }
}
