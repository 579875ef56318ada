//! The one way into the deletes: a typed `DeleteRequest`, parsed from what a form or an API
//! call sent, and `Deleter::run`, which checks the caller's right to it, runs it and records
//! it in the audit log under the same action name whether it was refused, failed or done.
//!
//! Screens and endpoints only parse, call `run` and show the answer; every decision (who may,
//! what a bad value means, which repositories a layer or prune delete reaches) is made here.

use super::{DeleteError, Deleted, Deleter};
use crate::access::{Access, Action};
use crate::openshift::StreamTagName;
use crate::reference::{Digest, RepositoryName, Tag};
use crate::store::Actor;

/// What kind of delete: one per control on the pages, each with one audit action name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeleteKind {
    /// One tag; its image stays under its digest and other tags.
    Tag,
    /// One manifest (digest) with every tag on it.
    Manifest,
    /// Every manifest a repository's tags point at.
    Repository,
    /// Every image that contains a layer, wherever the caller may delete.
    Layer,
    /// On OpenShift: one image stream tag with its history.
    StreamTag,
    /// On OpenShift: an image everywhere, in `oc adm prune` order.
    Image,
}

impl DeleteKind {
    /// The audit log's action name for this kind: the same for a refusal, a failure and a
    /// success, so one filter finds them all (and `delete` finds the family).
    pub const fn action(self) -> &'static str {
        match self {
            DeleteKind::Tag => "delete.tag",
            DeleteKind::Manifest => "delete.manifest",
            DeleteKind::Repository => "delete.repository",
            DeleteKind::Layer => "delete.layer",
            DeleteKind::StreamTag => "delete.stream_tag",
            DeleteKind::Image => "delete.image",
        }
    }
}

/// One delete, with every name in it already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRequest {
    Tag {
        repository: RepositoryName,
        tag: Tag,
    },
    Manifest {
        repository: RepositoryName,
        digest: Digest,
    },
    Repository(RepositoryName),
    /// The leaked-secret case: every image containing the layer, where the caller may delete.
    Layer(Digest),
    /// `repository` is `<project>/<stream>`.
    StreamTag {
        repository: RepositoryName,
        name: StreamTagName,
    },
    /// Prune: `repository` is where the page showed it (the caller must delete there too).
    Image {
        repository: RepositoryName,
        digest: Digest,
    },
}

/// `message` as a sentence: capital first letter, full stop.
fn sentence(message: String) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

fn bad<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> DeleteError + '_ {
    move |e| DeleteError::BadInput(sentence(format!("{what}: {e}")))
}

impl DeleteRequest {
    /// Reads a delete from a form's fields: the repository (ignored for a layer), and the tag
    /// or digest the kind needs. Bad input is answered with what to fix, and nothing is done.
    pub fn parse(
        kind: DeleteKind,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> Result<Self, DeleteError> {
        let (tag, digest) = (tag.unwrap_or_default(), digest.unwrap_or_default());
        let repository = || RepositoryName::parse(repository.trim()).map_err(bad("Repository name"));
        Ok(match kind {
            DeleteKind::Layer => Self::Layer(Digest::parse(digest.trim()).map_err(bad("Layer digest"))?),
            DeleteKind::Tag => Self::Tag {
                repository: repository()?,
                tag: Tag::parse(tag).map_err(bad("Tag"))?,
            },
            DeleteKind::Manifest => Self::Manifest {
                repository: repository()?,
                digest: Digest::parse(digest).map_err(bad("Digest"))?,
            },
            DeleteKind::Repository => Self::Repository(repository()?),
            DeleteKind::Image => Self::Image {
                repository: repository()?,
                digest: Digest::parse(digest.trim()).map_err(bad("Digest"))?,
            },
            DeleteKind::StreamTag => {
                let repository = repository()?;
                let Some((namespace, stream)) = repository.image_stream() else {
                    return Err(DeleteError::BadInput(format!(
                        "{repository} is not an image stream: on OpenShift repositories are <project>/<stream>."
                    )));
                };
                let name = StreamTagName {
                    namespace: namespace.to_owned(),
                    stream: stream.to_owned(),
                    tag: Tag::parse(tag).map_err(bad("Tag"))?.to_string(),
                };
                Self::StreamTag { repository, name }
            }
        })
    }

    pub fn kind(&self) -> DeleteKind {
        match self {
            Self::Tag { .. } => DeleteKind::Tag,
            Self::Manifest { .. } => DeleteKind::Manifest,
            Self::Repository(_) => DeleteKind::Repository,
            Self::Layer(_) => DeleteKind::Layer,
            Self::StreamTag { .. } => DeleteKind::StreamTag,
            Self::Image { .. } => DeleteKind::Image,
        }
    }

    /// What the audit log names as the target.
    pub fn target(&self) -> String {
        match self {
            Self::Tag { repository, tag } => format!("{repository}:{tag}"),
            Self::Manifest { repository, digest } => format!("{repository}@{digest}"),
            Self::Repository(repository) => repository.to_string(),
            Self::Layer(layer) => format!("layer {layer}"),
            Self::StreamTag { name, .. } => name.to_string(),
            Self::Image { digest, .. } => format!("image {digest}"),
        }
    }

    /// The repository the caller must be allowed to delete in before anything else is looked
    /// at (none for a layer: its reach is worked out from the index).
    fn repository(&self) -> Option<&RepositoryName> {
        match self {
            Self::Tag { repository, .. }
            | Self::Manifest { repository, .. }
            | Self::Repository(repository)
            | Self::StreamTag { repository, .. }
            | Self::Image { repository, .. } => Some(repository),
            Self::Layer(_) => None,
        }
    }
}

/// "You may not …", with what to do about it: sign in, or ask an administrator.
fn not_allowed(access: &Access, actor: &Actor, message: &str) -> DeleteError {
    DeleteError::NotAllowed(if access.signed_in {
        format!("{message}; you are signed in as {}. Ask an administrator.", actor.name)
    } else {
        format!("{message}. Sign in first.")
    })
}

impl Deleter {
    /// Runs one delete for `actor`, whose rights are `access`: refused (and audited) unless
    /// they may delete in every repository it touches. Every answer is in words; the error's
    /// kind says whether it was refused, gone already, bad input or the registry failing.
    pub async fn run(&self, access: &Access, actor: &Actor, request: DeleteRequest) -> Result<Deleted, DeleteError> {
        let may_delete = |r: &RepositoryName| access.may(Action::Delete, r);
        if let Some(repository) = request.repository().filter(|r| !may_delete(r)) {
            let refused = Err(not_allowed(
                access,
                actor,
                &format!("You may not delete in {repository}"),
            ));
            self.audit(actor, request.kind().action(), &request.target(), &refused)
                .await;
            return refused;
        }
        match request {
            DeleteRequest::Tag { repository, tag } => self.tag(actor, &repository, &tag).await,
            DeleteRequest::Manifest { repository, digest } => self.manifest(actor, &repository, &digest).await,
            DeleteRequest::Repository(repository) => self.repository(actor, &repository).await,
            DeleteRequest::StreamTag { name, .. } => self.stream_tag(actor, &name).await,
            DeleteRequest::Image { digest, .. } => match self.prune_image(actor, &digest, access).await {
                Err(e @ DeleteError::Denied { .. }) => Err(not_allowed(access, actor, &e.to_string())),
                other => other,
            },
            DeleteRequest::Layer(layer) => {
                let visible = |r: &RepositoryName| access.may(Action::View, r);
                let reach = self.index.read().layer_usage(&layer, &visible);
                if !reach.is_some_and(|u| u.repositories.iter().any(may_delete)) {
                    let message = "You may not delete in any repository that has this layer";
                    let refused = Err(not_allowed(access, actor, message));
                    self.audit(actor, DeleteKind::Layer.action(), &format!("layer {layer}"), &refused)
                        .await;
                    return refused;
                }
                let report = self.layer(actor, &layer, &visible, &may_delete).await?;
                match report.first_failure {
                    _ if !report.deleted.is_empty() => Ok(Deleted {
                        summary: report.summary,
                        tags: report.deleted.into_iter().flat_map(|(_, _, tags)| tags).collect(),
                    }),
                    Some(failure) => Err(failure.saying(report.summary)),
                    None => Err(DeleteError::Refused(report.summary)),
                }
            }
        }
    }
}
