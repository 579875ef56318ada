//! User and group names, checked where they enter.
//!
//! They become repository path components (`users/<name>/…`, `groups/<group>/…`) and appear
//! in tokens and audit lines, so they follow the registry's component rule: lowercase ASCII
//! letters and digits, separated by single `.`, `_` or `-`. That also shuts out look-alikes
//! (a Cyrillic `а` next to a Latin `a`), which matter in a list of people to grant access to.

use std::fmt;

/// The longest name accepted.
pub const MAX_NAME: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(String);

impl Name {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let shown: String = input.chars().take(MAX_NAME + 8).collect();
        let rule = "use lowercase letters a-z, digits, and single . _ - between them";
        if input.is_empty() {
            return Err(NameError(format!("a name is required; {rule}")));
        }
        if input.chars().count() > MAX_NAME {
            return Err(NameError(format!(
                "\"{shown}…\" is longer than {MAX_NAME} characters; shorten it"
            )));
        }
        let lower = input.to_lowercase();
        if lower != input && valid(&lower) {
            return Err(NameError(format!(
                "\"{input}\" has capital letters; names are lowercase: did you mean \"{lower}\"?"
            )));
        }
        if let Some(c) = input.chars().find(|c| !c.is_ascii()) {
            return Err(NameError(format!(
                "\"{shown}\" contains \"{c}\" (U+{:04X}), which is not a plain ASCII letter; {rule}",
                c as u32
            )));
        }
        if !valid(input) {
            return Err(NameError(format!("\"{shown}\" is not a valid name; {rule}")));
        }
        Ok(Name(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid(s: &str) -> bool {
    let mut previous_separator = true;
    for c in s.chars() {
        match c {
            'a'..='z' | '0'..='9' => previous_separator = false,
            '.' | '_' | '-' if !previous_separator => previous_separator = true,
            _ => return false,
        }
    }
    !previous_separator
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
