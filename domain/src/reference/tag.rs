//! `Tag`: `latest`, `1.0`, `v2_rc-1`.

use super::{ParseError, string_newtype};

const RULE: &str = "a tag is 1 to 128 characters: letters, digits, '_', '.' and '-', and must not \
start with '.' or '-'";

/// A tag as the distribution spec defines it: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

string_newtype!(Tag);

impl Tag {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let fail = |why: &str| ParseError::new("tag", input, format!("{why}; {RULE}"));
        let bytes = input.as_bytes();
        let Some(&first) = bytes.first() else {
            return Err(fail("it is empty"));
        };
        if bytes.len() > 128 {
            return Err(fail("it is too long"));
        }
        if !(first.is_ascii_alphanumeric() || first == b'_') {
            return Err(fail("it starts with a character a tag cannot start with"));
        }
        if let Some(c) = input
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(fail(&format!("it contains {c:?}")));
        }
        Ok(Self(input.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_people_use_are_accepted() {
        for ok in ["latest", "1.0", "v2_rc-1", "_x", "A", &"a".repeat(128)] {
            assert!(Tag::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_tags_are_rejected() {
        for bad in [
            "",
            ".hidden",
            "-x",
            "a:b",
            "a/b",
            "tag with space",
            "ｌatest",
            &"a".repeat(129),
        ] {
            assert!(Tag::parse(bad).is_err(), "{bad:?}");
        }
    }
}
