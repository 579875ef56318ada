//! Pull specs as OpenShift writes them, parsed once: `dockerImageReference` and `from.name`.
//!
//! A stream tag's history item says where its image is with a pull spec,
//! `image-registry.openshift-image-registry.svc:5000/skyfield@sha256:…`. The repository in it
//! is not always `namespace/stream`: `oc tag` across projects and `referencePolicy: Source`
//! keep the repository the image was first pushed to (docs/openshift-image-streams.md). So
//! every rule that looks for a stream tag's image in the registry reads the registry host,
//! repository and digest from here, never from the stream's name.

use crate::reference::{Digest, Reference, RepositoryName, Tag};
use std::fmt;

/// `host[:port]/repository(@digest|:tag)`, with the parts checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    /// `host[:port]`; `docker.io` when the pull spec names none (as Docker reads it).
    pub registry: String,
    pub repository: RepositoryName,
    /// `latest` when the pull spec names neither a tag nor a digest.
    pub reference: Reference,
}

impl ImageReference {
    /// Parses a pull spec; the error quotes it and says which part is wrong.
    pub fn parse(input: &str) -> Result<Self, String> {
        let bad = |why: String| format!("the pull spec \"{input}\" is not valid: {why}");
        let (name, reference) = match input.split_once('@') {
            Some((name, digest)) => (
                name,
                Reference::Digest(Digest::parse(digest).map_err(|e| bad(e.to_string()))?),
            ),
            None => match input.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => {
                    (name, Reference::Tag(Tag::parse(tag).map_err(|e| bad(e.to_string()))?))
                }
                _ => (input, Reference::Tag(Tag::parse("latest").expect("a valid tag"))),
            },
        };
        // Docker's rule: the first component is a registry when it has a `.` or a `:`, or is
        // `localhost`; otherwise the image is on Docker Hub.
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
            _ => ("docker.io", name),
        };
        let repository = RepositoryName::parse(path).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            registry: registry.to_owned(),
            repository,
            reference,
        })
    }

    /// The digest it names, if it names one.
    pub fn digest(&self) -> Option<&Digest> {
        match &self.reference {
            Reference::Digest(d) => Some(d),
            Reference::Tag(_) => None,
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = match self.reference {
            Reference::Digest(_) => '@',
            Reference::Tag(_) => ':',
        };
        write!(f, "{}/{}{sep}{}", self.registry, self.repository, self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0be392ba20eb44ad6f1f8908c064d6a7b4e2ffa075d00e76ff570d3d187c1577";

    #[test]
    fn pull_specs_split_into_host_repository_and_digest_or_tag() {
        let r = ImageReference::parse(&format!("image-registry.svc:5000/skyfield@{D}")).unwrap();
        assert_eq!(r.registry, "image-registry.svc:5000");
        assert_eq!(r.repository.as_str(), "skyfield", "not the stream's namespace/name");
        assert_eq!(r.digest().map(Digest::as_str), Some(D));
        let r = ImageReference::parse("quay.io/acme/api:2.0").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.reference.as_str()),
            ("quay.io", "acme/api", "2.0")
        );
        let r = ImageReference::parse("r:5000/a/b").unwrap();
        assert_eq!((r.registry.as_str(), r.reference.as_str()), ("r:5000", "latest"));
        let r = ImageReference::parse("library/nginx").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/nginx")
        );
        assert_eq!(
            ImageReference::parse(&format!("r:5000/skyfield@{D}"))
                .unwrap()
                .to_string(),
            format!("r:5000/skyfield@{D}")
        );
    }

    #[test]
    fn a_broken_pull_spec_is_quoted_with_what_is_wrong() {
        let e = ImageReference::parse("r:5000/Skyfield@sha256:00").unwrap_err();
        assert!(e.contains("\"r:5000/Skyfield@sha256:00\""), "{e}");
    }
}
