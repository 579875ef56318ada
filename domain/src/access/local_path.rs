//! Where the sign-in page sends a user afterwards (`/login?next=…`): a path on this site, never
//! another site.
//!
//! The `next` value comes from a link anyone can make, so it is parsed once into a
//! [`LocalPath`] and anything doubtful becomes the Images page. Browsers forgive a lot in a
//! `Location`: they drop tabs and newlines (`/\t/evil.example` becomes `//evil.example`), read
//! `\` as `/`, and take `//host` as another site; so only printable ASCII is kept, the second
//! character may not be a slash of either kind, and the result must still resolve to this
//! origin.

use std::fmt;

/// The longest path followed.
const MAX_LEN: usize = 2048;
/// Where to go when `next` is missing or refused.
pub const DEFAULT_AFTER_SIGN_IN: &str = "/images";

/// An absolute path (with query) on this site, safe to put in a `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    pub fn parse(input: &str) -> Result<Self, String> {
        let refuse = |why: &str| Err(format!("\"{}\" {why}", input.chars().take(60).collect::<String>()));
        if input.len() > MAX_LEN {
            return refuse("is too long to be a path on this site");
        }
        if !input.bytes().all(|b| b.is_ascii_graphic()) {
            return refuse("contains spaces, control characters or non-ASCII letters; encode them as %XX");
        }
        let mut bytes = input.bytes();
        if bytes.next() != Some(b'/') {
            return refuse("is not a path on this site (it must start with /)");
        }
        if input.contains('\\') || matches!(bytes.next(), Some(b'/')) {
            return refuse("would lead to another site");
        }
        let base = url::Url::parse("http://regent.invalid/").expect("a URL");
        match base.join(input) {
            Ok(u) if u.origin() == base.origin() => Ok(Self(input.to_owned())),
            _ => refuse("would lead to another site"),
        }
    }

    /// `next` if it is a path on this site, else the Images page.
    pub fn after_sign_in(next: Option<&str>) -> Self {
        next.map(str::trim)
            .and_then(|n| Self::parse(n).ok())
            .unwrap_or_else(|| Self(DEFAULT_AFTER_SIGN_IN.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_signing_in_only_paths_on_this_site_are_followed() {
        let go = |next: &str| LocalPath::after_sign_in(Some(next)).to_string();
        assert_eq!(go("/images/demo/base"), "/images/demo/base");
        assert_eq!(go("/images?q=team%2Fapp&page=2"), "/images?q=team%2Fapp&page=2");
        assert_eq!(go(" /storage "), "/storage", "surrounding blanks are dropped");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "\t//evil.example",
            "/%09/evil.example/\u{0}",
            "/\u{7f}",
            "/ü",
            "images",
            "",
            "/images\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
        ] {
            assert_eq!(go(bad), "/images", "{bad:?}");
        }
        assert_eq!(go(&format!("/{}", "a".repeat(3000))), "/images");
        assert_eq!(LocalPath::after_sign_in(None).as_str(), "/images");
        assert!(LocalPath::parse("//evil").unwrap_err().contains("another site"));
    }
}
