//! The company directory's settings, parsed once at start-up into values that cannot be wrong
//! later: the URL's scheme decides TLS, filter templates have their placeholder, the timeout
//! and pool size are in range, and the `kind` preset fills what was left unset (OpenLDAP's
//! `uid` and `member`, or Active Directory's `sAMAccountName` and the in-chain matching rule
//! for nested groups; docs/directory.md).

use super::filter::FilterTemplate;
use std::path::PathBuf;
use std::time::Duration;

/// Which directory server the presets are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    /// OpenLDAP and the like: `uid`, `groupOfNames` `member`; Regent follows nested groups
    /// itself, one level at a time.
    Ldap,
    /// Active Directory: `sAMAccountName`, nested groups by the server
    /// (`LDAP_MATCHING_RULE_IN_CHAIN`).
    ActiveDirectory,
}

impl DirectoryKind {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "ldap" => Ok(Self::Ldap),
            "active-directory" => Ok(Self::ActiveDirectory),
            other => Err(format!(
                "directory.kind is \"{other}\"; use \"ldap\" or \"active-directory\""
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ldap => "ldap",
            Self::ActiveDirectory => "active-directory",
        }
    }

    pub fn default_user_filter(self) -> &'static str {
        match self {
            Self::Ldap => "(uid={username})",
            Self::ActiveDirectory => "(sAMAccountName={username})",
        }
    }

    pub fn default_group_filter(self) -> &'static str {
        match self {
            Self::Ldap => "(member={dn})",
            Self::ActiveDirectory => "(member:1.2.840.113556.1.4.1941:={dn})",
        }
    }
}

/// How the connection is protected, from the URL and `directory.starttls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    StartTls,
    Ldaps,
}

/// The settings as written (file, environment, flags); [`DirectorySettings::parse`] checks them.
#[derive(Debug, Clone, Default)]
pub struct DirectoryInput {
    pub url: Option<String>,
    pub starttls: Option<bool>,
    pub ca_file: Option<PathBuf>,
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub user_base: Option<String>,
    pub user_filter: Option<String>,
    pub group_base: Option<String>,
    pub group_filter: Option<String>,
    pub group_name_attribute: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub kind: Option<String>,
    pub pool_size: Option<u64>,
}

pub const DEFAULT_TIMEOUT_SECONDS: u64 = 5;
pub const DEFAULT_POOL_SIZE: u64 = 4;
/// How long a directory answer for a user name and password is reused.
pub const CACHE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct DirectorySettings {
    pub url: String,
    pub transport: Transport,
    pub ca_file: Option<PathBuf>,
    pub bind_dn: String,
    pub bind_password: String,
    pub user_base: String,
    pub user_filter: FilterTemplate,
    /// Where groups are searched; the user base when unset.
    pub group_base: String,
    pub group_filter: FilterTemplate,
    pub group_name_attribute: String,
    pub timeout: Duration,
    pub kind: DirectoryKind,
    pub pool_size: usize,
    pub cache_window: Duration,
}

impl std::fmt::Debug for DirectorySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectorySettings")
            .field("url", &self.url)
            .field("transport", &self.transport)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"(hidden)")
            .field("user_base", &self.user_base)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl DirectorySettings {
    /// `None` when no `directory.url` is set (no directory: local accounts only).
    pub fn parse(input: DirectoryInput) -> Result<Option<Self>, String> {
        let Some(url) = input.url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let starttls = input.starttls.unwrap_or(false);
        let transport = if url.starts_with("ldaps://") {
            if starttls {
                return Err("directory.starttls is for ldap:// URLs; an ldaps:// URL is TLS from the start".into());
            }
            Transport::Ldaps
        } else if url.starts_with("ldap://") {
            if starttls {
                Transport::StartTls
            } else {
                Transport::Plain
            }
        } else {
            return Err(format!(
                "directory.url is \"{url}\"; use ldap://host[:port] (with directory.starttls for StartTLS) or ldaps://host[:port]"
            ));
        };
        let host = url.split_once("://").map_or("", |(_, rest)| rest);
        if host.is_empty() || host.starts_with('/') {
            return Err(format!("directory.url \"{url}\" names no host"));
        }
        if let Some(ca) = &input.ca_file
            && !ca.is_file()
        {
            return Err(format!("directory.ca_file {} is not a readable file", ca.display()));
        }
        let kind = match &input.kind {
            Some(k) => DirectoryKind::parse(k)?,
            None => DirectoryKind::Ldap,
        };
        let required = |value: Option<String>, setting: &str, example: &str| {
            value
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{setting} is required with directory.url, e.g. {example}"))
        };
        let bind_dn = required(
            input.bind_dn,
            "directory.bind_dn",
            "cn=regent,ou=services,dc=example,dc=com",
        )?;
        let bind_password = input.bind_password.filter(|p| !p.is_empty()).ok_or_else(|| {
            "directory.bind_password_file is required with directory.url: the service account's password".to_owned()
        })?;
        let user_base = required(input.user_base, "directory.user_base", "ou=people,dc=example,dc=com")?;
        let group_base = input
            .group_base
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| user_base.clone());
        let user_filter = FilterTemplate::parse(
            "directory.user_filter",
            input.user_filter.as_deref().unwrap_or(kind.default_user_filter()),
            "username",
        )?;
        let group_filter = FilterTemplate::parse(
            "directory.group_filter",
            input.group_filter.as_deref().unwrap_or(kind.default_group_filter()),
            "dn",
        )?;
        let group_name_attribute = input
            .group_name_attribute
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "cn".to_owned());
        if !group_name_attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "directory.group_name_attribute \"{group_name_attribute}\" is not an attribute name"
            ));
        }
        let timeout = input.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        if !(1..=60).contains(&timeout) {
            return Err(format!("directory.timeout_seconds is {timeout}; use 1 to 60"));
        }
        let pool_size = input.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
        if !(1..=64).contains(&pool_size) {
            return Err(format!("directory.pool_size is {pool_size}; use 1 to 64"));
        }
        Ok(Some(Self {
            url,
            transport,
            ca_file: input.ca_file,
            bind_dn,
            bind_password,
            user_base,
            user_filter,
            group_base,
            group_filter,
            group_name_attribute,
            timeout: Duration::from_secs(timeout),
            kind,
            pool_size: pool_size as usize,
            cache_window: CACHE_WINDOW,
        }))
    }

    /// The settings in effect as (name, value) pairs for the screens, the password hidden.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("directory.url", self.url.clone()),
            (
                "directory.starttls",
                (self.transport == Transport::StartTls).to_string(),
            ),
            (
                "directory.ca_file",
                self.ca_file
                    .as_ref()
                    .map_or("the system's trusted CAs".into(), |p| p.display().to_string()),
            ),
            ("directory.bind_dn", self.bind_dn.clone()),
            ("directory.bind_password_file", "(hidden)".into()),
            ("directory.user_base", self.user_base.clone()),
            ("directory.user_filter", self.user_filter.as_str().to_owned()),
            ("directory.group_base", self.group_base.clone()),
            ("directory.group_filter", self.group_filter.as_str().to_owned()),
            ("directory.group_name_attribute", self.group_name_attribute.clone()),
            ("directory.timeout_seconds", self.timeout.as_secs().to_string()),
            ("directory.kind", self.kind.as_str().to_owned()),
            ("directory.pool_size", self.pool_size.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DirectoryInput {
        DirectoryInput {
            url: Some("ldaps://dc1.hackershop.lan".into()),
            bind_dn: Some("cn=regent,dc=hackershop,dc=lan".into()),
            bind_password: Some("secret".into()),
            user_base: Some("ou=people,dc=hackershop,dc=lan".into()),
            ..Default::default()
        }
    }

    #[test]
    fn no_url_means_no_directory() {
        assert!(DirectorySettings::parse(DirectoryInput::default()).unwrap().is_none());
    }

    #[test]
    fn the_active_directory_preset_fills_sam_account_name_and_nested_groups() {
        let s = DirectorySettings::parse(DirectoryInput {
            kind: Some("active-directory".into()),
            ..input()
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.user_filter.fill("username", "jane"), "(sAMAccountName=jane)");
        assert_eq!(s.group_filter.as_str(), "(member:1.2.840.113556.1.4.1941:={dn})");
        assert_eq!(s.transport, Transport::Ldaps);
        assert_eq!(s.group_base, "ou=people,dc=hackershop,dc=lan");
        assert!(!format!("{s:?}").contains("secret"), "the password is hidden");
    }

    #[test]
    fn a_bad_setting_is_refused_with_its_name() {
        for (broken, setting) in [
            (
                DirectoryInput {
                    url: Some("http://dc1".into()),
                    ..input()
                },
                "directory.url",
            ),
            (
                DirectoryInput {
                    kind: Some("novell".into()),
                    ..input()
                },
                "directory.kind",
            ),
            (
                DirectoryInput {
                    bind_dn: None,
                    ..input()
                },
                "directory.bind_dn",
            ),
            (
                DirectoryInput {
                    bind_password: None,
                    ..input()
                },
                "directory.bind_password_file",
            ),
            (
                DirectoryInput {
                    timeout_seconds: Some(0),
                    ..input()
                },
                "directory.timeout_seconds",
            ),
            (
                DirectoryInput {
                    pool_size: Some(100),
                    ..input()
                },
                "directory.pool_size",
            ),
            (
                DirectoryInput {
                    user_filter: Some("(uid=x)".into()),
                    ..input()
                },
                "directory.user_filter",
            ),
            (
                DirectoryInput {
                    starttls: Some(true),
                    ..input()
                },
                "directory.starttls",
            ),
        ] {
            let e = DirectorySettings::parse(broken).unwrap_err();
            assert!(e.contains(setting), "{setting}: {e}");
        }
    }
}
