//! What one viewer may see of the cluster next to an image they can read.
//!
//! A digest is often held by image streams of several projects, and run by pods in several.
//! Someone who may read `team-a/app` must not learn from its pages which other teams hold or
//! run the same image; they see the stream tags of repositories they may read and the pods of
//! projects where they may read a repository, and only a count of the rest ("and 3 in
//! projects you cannot see"), so a delete never looks safer than it is.

use super::streams::StreamTagName;
use super::workloads::Workload;
use crate::access::{Access, Action};
use crate::reference::RepositoryName;

/// The part of a list the viewer may see, and how many entries were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<T> {
    pub shown: Vec<T>,
    pub hidden: usize,
}

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Self {
            shown: Vec::new(),
            hidden: 0,
        }
    }
}

impl<T> Seen<T> {
    fn split(items: impl IntoIterator<Item = T>, visible: impl Fn(&T) -> bool) -> Self {
        let (mut shown, mut hidden) = (Vec::new(), 0);
        for item in items {
            if visible(&item) {
                shown.push(item);
            } else {
                hidden += 1;
            }
        }
        Self { shown, hidden }
    }
}

/// Stream tags whose repository (`namespace/stream` in the integrated registry) the viewer
/// may read; a stream whose name is not a repository name is never shown to a non-admin.
pub fn stream_tags<'a>(access: &Access, tags: impl IntoIterator<Item = &'a StreamTagName>) -> Seen<&'a StreamTagName> {
    Seen::split(tags, |t| {
        access.admin || RepositoryName::parse(&t.repository()).is_ok_and(|r| access.may(Action::View, &r))
    })
}

/// Containers in projects where the viewer may read at least one repository.
pub fn workloads<'a>(access: &Access, running: impl IntoIterator<Item = &'a Workload>) -> Seen<&'a Workload> {
    Seen::split(running, |w| access.reads_in_project(&w.namespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, Level, Policy, Rules, Scope, Subject, Viewer};

    fn reader_of(scope: &str) -> Access {
        let jane = crate::access::Name::parse("jane").unwrap();
        let grant = Grant {
            subject: Subject::User(jane.clone()),
            scope: Scope::parse(scope).unwrap(),
            level: Level::Read,
        };
        Policy::new(vec![grant], Rules::default()).for_viewer(&Viewer {
            user: Some(jane),
            admin: false,
            groups: vec![],
        })
    }

    fn tag(namespace: &str, stream: &str) -> StreamTagName {
        StreamTagName {
            namespace: namespace.into(),
            stream: stream.into(),
            tag: "latest".into(),
        }
    }

    fn pod(namespace: &str) -> Workload {
        Workload {
            namespace: namespace.into(),
            pod: "web-1".into(),
            owner: None,
            container: "web".into(),
            image: "x".into(),
        }
    }

    #[test]
    fn a_reader_of_one_repository_sees_its_stream_tags_and_counts_the_other_projects() {
        let jane = reader_of("team-a/app");
        let tags = [
            tag("team-a", "app"),
            tag("team-b", "app"),
            tag("team-a", "other"),
            tag("team-c", "x"),
        ];
        let seen = stream_tags(&jane, &tags);
        assert_eq!(seen.shown, vec![&tags[0]]);
        assert_eq!(seen.hidden, 3);
    }

    #[test]
    fn pods_show_in_projects_where_the_viewer_reads_a_repository() {
        let pods = [pod("team-a"), pod("team-b"), pod("team-ab")];
        for scope in ["team-a/app", "team-a/*", "team-a/tools/*"] {
            let seen = workloads(&reader_of(scope), &pods);
            assert_eq!(seen.shown, vec![&pods[0]], "{scope}");
            assert_eq!(seen.hidden, 2, "{scope}");
        }
        assert_eq!(workloads(&reader_of("*"), &pods).hidden, 0);
        assert_eq!(workloads(&Access::everything(), &pods).hidden, 0);
        assert_eq!(workloads(&Access::default(), &pods).shown.len(), 0);
    }
}
