//! The checks of settings that need more than a type and a range: URLs, hosts, credentials, the
//! cluster, secrets read from files, the data directory, the company directory, and the
//! testing-only variables.

use super::sources::Layers;
use super::{ConfigError, SETTINGS, bad};
use regent_domain::openshift::{Mode as OpenShiftMode, OpenShiftSettings};
use regent_domain::registry::Credentials;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The error for a registry URL that is neither configured nor found on a cluster.
pub fn missing_registry_url() -> ConfigError {
    bad(
        "registry.url",
        "is required: the base URL of the registry to administer, e.g. http://127.0.0.1:5000 \
         (on OpenShift Regent finds the integrated registry itself when it can reach the cluster)",
    )
}

/// `openshift.mode`'s values.
pub(super) const OPENSHIFT_MODES: [(&str, OpenShiftMode); 3] = [
    ("auto", OpenShiftMode::Auto),
    ("off", OpenShiftMode::Off),
    ("required", OpenShiftMode::Required),
];

/// The `openshift.*` settings.
pub(super) fn openshift(v: &Layers) -> Result<OpenShiftSettings, ConfigError> {
    let mode = v.text("openshift.mode").unwrap_or_default();
    let Some(&(_, chosen)) = OPENSHIFT_MODES
        .iter()
        .find(|(name, _)| mode.trim().eq_ignore_ascii_case(name))
    else {
        let message = format!("\"{mode}\" is not a mode; use auto, off or required");
        return Err(bad("openshift.mode", message));
    };
    let kubeconfig = v.path("openshift.kubeconfig");
    if let Some(path) = &kubeconfig
        && !path.is_file()
    {
        return Err(bad(
            "openshift.kubeconfig",
            format!(
                "{} is not a readable file; give the path of a kubeconfig (what `oc login` writes)",
                path.display()
            ),
        ));
    }
    Ok(OpenShiftSettings {
        mode: chosen,
        kubeconfig,
        context: v
            .text("openshift.context")
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        recheck_every: Duration::from_secs(v.number("openshift.recheck_seconds")?),
        ..OpenShiftSettings::default()
    })
}

/// The registry credentials: none, a username and password, or a token.
pub(super) fn registry_credentials(v: &Layers) -> Result<Credentials, ConfigError> {
    let username = v.text("registry.username");
    let password = match (v.text("registry.password"), v.path("registry.password_file")) {
        (Some(p), _) => Some(p),
        (None, Some(path)) => Some(read_secret(&path, "registry.password_file")?),
        (None, None) => None,
    };
    Ok(match (username, password, v.text("registry.token")) {
        (None, None, None) => Credentials::None,
        (Some(u), Some(p), None) if !u.is_empty() => Credentials::Basic {
            username: u,
            password: p,
        },
        (Some(_), None, None) => {
            return Err(bad(
                "registry.password",
                "a registry username is set but no password; set the password or its file",
            ));
        }
        (None, Some(_), None) => {
            return Err(bad(
                "registry.username",
                "a registry password is set but no username; set the username too",
            ));
        }
        (Some(_), Some(_), None) => return Err(bad("registry.username", "is empty; set the registry username")),
        (None, None, Some(t)) if !t.trim().is_empty() => Credentials::Bearer {
            token: t.trim().to_owned(),
        },
        (None, None, Some(_)) => return Err(bad("registry.token", "is empty; set a token or leave it out")),
        (_, _, Some(_)) => {
            return Err(bad(
                "registry.token",
                "is set together with a username/password; use either a token or a username and password",
            ));
        }
    })
}

/// The `directory.*` settings, checked by the domain (which names the setting at fault).
pub(super) fn directory_settings(
    v: &Layers,
) -> Result<Option<regent_domain::directory::DirectorySettings>, ConfigError> {
    use regent_domain::directory::{DirectoryInput, DirectorySettings};
    let url = v.text("directory.url");
    if url.is_none() {
        return Ok(None);
    }
    let bind_password = match v.path("directory.bind_password_file") {
        Some(path) => Some(read_secret(&path, "directory.bind_password_file")?),
        None => None,
    };
    let timeout = v.number("directory.timeout_seconds")?;
    let pool_size = v.number("directory.pool_size")?;
    let cache = match std::env::var(TESTING_DIRECTORY_CACHE) {
        Err(_) => None,
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n @ 1..=60) => Some(Duration::from_secs(n)),
            _ => {
                return Err(bad(
                    "directory.url",
                    format!("{TESTING_DIRECTORY_CACHE}={text:?}: a number of seconds from 1 to 60 (for tests only)"),
                ));
            }
        },
    };
    DirectorySettings::parse(DirectoryInput {
        url,
        starttls: v.bool("directory.starttls"),
        ca_file: v.path("directory.ca_file"),
        bind_dn: v.text("directory.bind_dn"),
        bind_password,
        user_base: v.text("directory.user_base"),
        user_filter: v.text("directory.user_filter"),
        group_base: v.text("directory.group_base"),
        group_filter: v.text("directory.group_filter"),
        group_name_attribute: v.text("directory.group_name_attribute"),
        timeout_seconds: Some(timeout),
        kind: v.text("directory.kind"),
        pool_size: Some(pool_size),
    })
    .map(|parsed| {
        parsed.map(|mut d| {
            if let Some(window) = cache {
                d.cache_window = window;
            }
            d
        })
    })
    .map_err(|message| {
        // The domain's message starts with the setting it is about.
        let key = SETTINGS
            .iter()
            .map(|s| s.key)
            .filter(|key| key.starts_with("directory.") && message.starts_with(key))
            .max_by_key(|key| key.len())
            .unwrap_or("directory.url");
        bad(key, message)
    })
}

/// `host[:port]` of the registry URL, as `docker pull` wants it.
pub(super) fn default_pull_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or("localhost");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

pub(super) fn parse_pull_host(text: &str) -> Result<String, ConfigError> {
    let host = text.trim();
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(host.to_owned())
    } else {
        Err(bad(
            "registry.pull_host",
            format!(
                "\"{text}\" is not a host[:port]; write it like registry.example.com or 10.0.0.5:5000 (no http://, no path)"
            ),
        ))
    }
}

pub(super) fn parse_registry_url(text: &str) -> Result<Url, ConfigError> {
    let example = "write it like http://127.0.0.1:5000 or https://registry.example.com";
    let refuse = |message: String| Err(bad("registry.url", message));
    let url = match Url::parse(text.trim()) {
        Ok(url) => url,
        Err(e) => return refuse(format!("\"{text}\" is not a URL ({e}); {example}")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse(format!("\"{text}\" must start with http:// or https://; {example}"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse(format!("\"{text}\" has no host; {example}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse(
            "must not contain credentials; put them in registry.username and registry.password instead".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse(format!("\"{text}\" must not have a query or fragment; {example}"));
    }
    if url.path().trim_end_matches('/').ends_with("/v2") {
        return refuse(format!(
            "\"{text}\" ends in /v2; give the registry's root, Regent adds /v2/ itself"
        ));
    }
    Ok(url)
}

/// The secret in the file at `path` (trailing newline ignored), for the setting `key`.
fn read_secret(path: &Path, key: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(key, format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        return Err(bad(key, format!("{} is empty", path.display())));
    }
    Ok(secret)
}

pub(super) fn prepare_data_dir(path: &Path) -> Result<(), ConfigError> {
    if path.exists() && !path.is_dir() {
        return Err(bad(
            "data_dir",
            format!("{} exists and is not a directory", path.display()),
        ));
    }
    // Only Regent's user may enter: the store holds the signing key, password hashes and
    // session ids.
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| bad("data_dir", format!("cannot create {}: {e}", path.display())))?;
    }
    // Unique per process, so two Regents starting on one data directory do not race.
    let probe = path.join(format!(".regent-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| bad("data_dir", format!("{} is not writable: {e}", path.display())))
}
/// The data directory and the store's files (`regent.db`, `-wal`, `-shm`) that others than
/// Regent's user may read or enter, with their modes: each is worth a warning at start-up.
pub fn exposed_files(data_dir: &Path, store_file: &str) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let store = data_dir.join(store_file);
    let files = [
        data_dir.to_path_buf(),
        store.clone(),
        PathBuf::from(format!("{}-wal", store.display())),
        PathBuf::from(format!("{}-shm", store.display())),
    ];
    files
        .into_iter()
        .filter_map(|p| {
            let mode = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then_some((p, mode))
        })
        .collect()
}

/// For tests only: how many seconds a "minute" of the session settings lasts
/// (`REGENT_TESTING_SESSION_MINUTE_SECONDS`, 1–60; 60 when unset), so a test can watch a
/// session expire after `session.idle_minutes` and `session.max_hours` without waiting hours.
/// Regent warns at start-up whenever it is set (DEVELOPERS.md).
pub const TESTING_SESSION_MINUTE: &str = "REGENT_TESTING_SESSION_MINUTE_SECONDS";

/// For tests only: how many seconds a directory answer is reused
/// (`REGENT_TESTING_DIRECTORY_CACHE_SECONDS`, 1–60; 60 when unset), so a test sees a change in
/// the directory at the next token without waiting a minute. Regent warns when it is set.
pub const TESTING_DIRECTORY_CACHE: &str = "REGENT_TESTING_DIRECTORY_CACHE_SECONDS";

pub(super) fn session_minute_seconds() -> Result<u64, String> {
    match std::env::var(TESTING_SESSION_MINUTE) {
        Err(_) => Ok(60),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n @ 1..=60) => Ok(n),
            _ => Err(format!(
                "{TESTING_SESSION_MINUTE}={text:?}: a number of seconds from 1 to 60 (for tests only; unset it to run Regent)"
            )),
        },
    }
}
