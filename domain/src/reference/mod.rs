//! The names a registry speaks in, parsed once at the edge.
//!
//! Repository names, tags, digests and references follow the grammar of the OCI distribution
//! spec. Anything that comes from a user, a URL or the registry itself is parsed into these
//! types before it goes further, so the rest of Regent never handles an unchecked string. A
//! parse failure quotes the input and the rule it broke, which is what the user sees.

mod digest;
mod repository;
mod tag;

pub use digest::Digest;
pub use repository::RepositoryName;
pub use tag::Tag;

use std::fmt;

/// Why a piece of input is not a valid name, with the input quoted and the rule spelled out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} \"{input}\" is not valid: {rule}")]
pub struct ParseError {
    pub kind: &'static str,
    pub input: String,
    pub rule: String,
}

impl ParseError {
    fn new(kind: &'static str, input: &str, rule: impl Into<String>) -> Self {
        // Quote at most 300 characters so a pasted megabyte does not end up in a page.
        let input: String = input.chars().take(300).collect();
        Self {
            kind,
            input,
            rule: rule.into(),
        }
    }
}

/// What follows the repository in `name:tag` or `name@digest`: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl Reference {
    /// A string with a `:` is a digest (`sha256:…`), anything else a tag; tags cannot hold `:`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.contains(':') {
            Digest::parse(input).map(Reference::Digest)
        } else {
            Tag::parse(input).map(Reference::Tag)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Reference::Tag(t) => t.as_str(),
            Reference::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Tag> for Reference {
    fn from(t: Tag) -> Self {
        Reference::Tag(t)
    }
}

impl From<Digest> for Reference {
    fn from(d: Digest) -> Self {
        Reference::Digest(d)
    }
}

/// Implements `Display`, `AsRef<str>`, `FromStr` and serde as the plain string for a newtype
/// whose `parse` is the only way in.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::reference::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_with_a_colon_is_a_digest_otherwise_a_tag() {
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        let hex = "a".repeat(64);
        assert!(matches!(
            Reference::parse(&format!("sha256:{hex}")),
            Ok(Reference::Digest(_))
        ));
        assert!(Reference::parse("sha256:nothex").is_err());
    }

    #[test]
    fn errors_quote_the_input_and_the_rule() {
        let err = RepositoryName::parse("Skyfield").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"Skyfield\""), "{text}");
        assert!(text.contains("lowercase"), "{text}");
    }

    #[test]
    fn huge_input_is_quoted_only_in_part() {
        let err = Tag::parse(&"x".repeat(10_000)).unwrap_err();
        assert!(err.input.len() <= 300);
    }
}
