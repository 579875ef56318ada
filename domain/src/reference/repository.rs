//! `RepositoryName`: `skyfield`, `team/app`, `library/alpine`.

use super::{ParseError, string_newtype};

/// Longest name the distribution spec guarantees a registry accepts.
const MAX_LEN: usize = 255;

const RULE: &str = "a repository name is one or more path components separated by '/', each made of \
lowercase letters and digits, optionally separated by '.', '_', '__' or '-' (for example \
\"team/app\"), at most 255 characters";

/// A repository name as the distribution spec defines it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);

string_newtype!(RepositoryName);

impl RepositoryName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let fail = |why: &str| ParseError::new("repository name", input, format!("{why}; {RULE}"));
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.len() > MAX_LEN {
            return Err(fail("it is too long"));
        }
        if input.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(fail("it has uppercase letters, and names must be lowercase"));
        }
        for component in input.split('/') {
            if !is_component(component) {
                return Err(fail(&format!("the path component \"{component}\" is not allowed")));
            }
        }
        Ok(Self(input.to_owned()))
    }

    /// `(project, stream)` when this is how OpenShift's integrated registry names an image
    /// stream's repository, `<project>/<stream>` (docs/openshift-image-streams.md); `None` for
    /// a name of one component or more than two, which no image stream has.
    pub fn image_stream(&self) -> Option<(&str, &str)> {
        self.0.split_once('/').filter(|(_, stream)| !stream.contains('/'))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    // One or more alphanumerics must open the component and follow every separator.
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_project_slash_stream_names_an_image_stream() {
        let name = |s: &str| RepositoryName::parse(s).unwrap();
        assert_eq!(name("team-a/app").image_stream(), Some(("team-a", "app")));
        assert_eq!(name("skyfield").image_stream(), None);
        assert_eq!(name("a/b/c").image_stream(), None);
    }

    #[test]
    fn names_people_push_to_are_accepted() {
        for ok in [
            "skyfield",
            "team/app",
            "library/alpine",
            "a/b/c/d",
            "my-app",
            "my--app",
            "my_app",
            "my__app",
            "v1.2",
            "users/greg/scratch",
            "0",
        ] {
            assert!(RepositoryName::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn names_the_registry_would_refuse_are_rejected_with_the_reason() {
        for bad in [
            "",
            "Skyfield",
            "/app",
            "app/",
            "team//app",
            "my___app",
            "-app",
            "app-",
            "app.",
            "a..b",
            "a b",
            "app:tag",
            "app@sha256",
            "ｓkyfield",
            "café",
        ] {
            assert!(RepositoryName::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(RepositoryName::parse(&"a".repeat(256)).is_err());
        assert!(RepositoryName::parse(&"a".repeat(255)).is_ok());
    }
}
