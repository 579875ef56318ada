//! Search filters with a user's input in them, escaped per RFC 4515.
//!
//! The settings hold templates such as `(uid={username})` or `(member={dn})`; what a person
//! typed at the sign-in page (or a DN the directory returned) is put in with every character
//! that means something in a filter escaped, so `*)(uid=*` is a strange name, not a wildcard
//! that matches everybody. docs/directory.md cites the RFC.

/// `value` as an RFC 4515 assertion value: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`,
/// `\29`, `\5c` and `\00`; everything else (UTF-8 included) stays as it is.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// A filter template with `{username}` or `{dn}` places, checked once when the settings are
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterTemplate(String);

impl FilterTemplate {
    /// `placeholder` is `username` or `dn`: the template must use it and be parenthesised.
    pub fn parse(setting: &str, template: &str, placeholder: &str) -> Result<Self, String> {
        let t = template.trim();
        if !(t.starts_with('(') && t.ends_with(')')) {
            return Err(format!(
                "{setting} must be an LDAP filter in parentheses, such as \"(uid={{username}})\"; got \"{t}\""
            ));
        }
        if !t.contains(&format!("{{{placeholder}}}")) {
            return Err(format!(
                "{setting} must contain {{{placeholder}}}, where Regent puts the escaped value; got \"{t}\""
            ));
        }
        let depth = t.chars().try_fold(0i32, |d, c| match c {
            '(' => Some(d + 1),
            ')' if d > 0 => Some(d - 1),
            ')' => None,
            _ => Some(d),
        });
        if depth != Some(0) {
            return Err(format!("{setting} has unbalanced parentheses: \"{t}\""));
        }
        Ok(Self(t.to_owned()))
    }

    /// The filter with every `{placeholder}` replaced by `value`, escaped.
    pub fn fill(&self, placeholder: &str, value: &str) -> String {
        self.0.replace(&format!("{{{placeholder}}}"), &escape(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_injected_filter_is_only_a_strange_name() {
        let t = FilterTemplate::parse("directory.user_filter", "(uid={username})", "username").unwrap();
        assert_eq!(t.fill("username", "*)(uid=*"), "(uid=\\2a\\29\\28uid=\\2a)");
        assert_eq!(t.fill("username", "jane"), "(uid=jane)");
    }

    #[test]
    fn every_special_character_of_rfc_4515_is_escaped() {
        assert_eq!(escape("a*b(c)d\\e\0f"), "a\\2ab\\28c\\29d\\5ce\\00f");
        assert_eq!(escape("Ólafur"), "Ólafur", "UTF-8 stays");
    }

    #[test]
    fn a_dn_with_parentheses_is_escaped_in_a_group_filter() {
        let t =
            FilterTemplate::parse("directory.group_filter", "(member:1.2.840.113556.1.4.1941:={dn})", "dn").unwrap();
        assert_eq!(
            t.fill("dn", "cn=Jane (lead),ou=people"),
            "(member:1.2.840.113556.1.4.1941:=cn=Jane \\28lead\\29,ou=people)"
        );
    }

    #[test]
    fn a_template_without_its_place_or_parentheses_is_refused_with_the_setting_named() {
        let e = FilterTemplate::parse("directory.user_filter", "(uid=jane)", "username").unwrap_err();
        assert!(e.contains("directory.user_filter") && e.contains("{username}"), "{e}");
        assert!(FilterTemplate::parse("directory.user_filter", "uid={username}", "username").is_err());
        assert!(FilterTemplate::parse("directory.user_filter", "(uid={username}))(", "username").is_err());
    }
}
