//! Regent's settings: a TOML file, then `REGENT_*` environment variables, then command-line
//! flags, each overriding the one before.
//!
//! Each setting is defined once, in [`SETTINGS`]: its file key (`registry.url`), from which its
//! environment variable (`REGENT_REGISTRY_URL`) and flag (`--registry-url`) are spelled, its
//! type, default, range and help. Everything is checked before anything starts: a bad value
//! stops start-up with a message naming the setting in all three spellings and saying what a
//! good value looks like (`sources` reads the three sources, `checks` the values that need more
//! than a type and a range).

mod checks;
mod sources;
#[cfg(test)]
mod tests;

pub use crate::commands::Command;
pub use checks::{TESTING_DIRECTORY_CACHE, TESTING_SESSION_MINUTE, exposed_files, missing_registry_url};
use checks::{default_pull_host, parse_pull_host, parse_registry_url, prepare_data_dir};
use clap::Parser;
use regent_domain::index::IndexSettings;
use regent_domain::openshift::{Mode as OpenShiftMode, OpenShiftSettings};
use regent_domain::registry::{Credentials, RegistryConfig};
use sources::{FileSettings, Flags, Layers};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "regent",
    version,
    about = "Regent: an admin console for a private container registry.",
    long_about = "Regent: an admin console for a private container registry.\n\n\
        Settings come from a TOML file (--config), then REGENT_* environment variables, then these \
        flags; a later source overrides an earlier one. See README.md for the file format."
)]
pub struct Cli {
    /// Every setting of [`SETTINGS`] given as a flag or in the environment.
    #[command(flatten)]
    pub settings: Flags,

    /// Print the effective settings (secrets hidden) and exit.
    #[arg(long)]
    pub print_config: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// One setting: where it is read from, what it accepts, and its help.
#[derive(Debug)]
pub struct Setting {
    /// The key in the file (`section.key`); the flag and the environment variable are spelled
    /// from it.
    pub key: &'static str,
    /// Shown instead of the key in messages, for a setting the file does not have.
    pub not_in_file: Option<&'static str>,
    value_name: &'static str,
    help: &'static str,
    kind: Kind,
    /// Used when no source sets it (a text or a path; numbers have theirs in [`Kind::Number`]).
    default: Option<&'static str>,
    /// Its environment value is never shown in `--help`.
    secret: bool,
    /// Accepted after a subcommand too (`regent user list --data-dir …`).
    global: bool,
}

/// What a setting accepts.
#[derive(Debug)]
enum Kind {
    Text,
    Path,
    Bool,
    /// Comma-separated on the command line, a list in the file.
    List,
    /// A whole number of `unit` in `range`.
    Number {
        default: u64,
        range: std::ops::RangeInclusive<u64>,
        unit: &'static str,
    },
}

impl Setting {
    const PLAIN: Setting = Setting {
        key: "",
        not_in_file: None,
        value_name: "",
        help: "",
        kind: Kind::Text,
        default: None,
        secret: false,
        global: false,
    };
}

/// Each row: its help (the doc lines), the file key, the value's name in `--help`, the kind
/// (with a number's default, range and unit), then any other [`Setting`] field.
macro_rules! settings {
    ($($(#[doc = $doc:literal])+ $key:literal $value_name:literal $kind:ident $({ $($kf:ident: $kv:expr),+ })?
        $(, $field:ident = $value:expr)*;)+) => {
        /// Every setting, in the order `regent --help` lists them.
        pub static SETTINGS: &[Setting] = &[$(Setting {
            key: $key,
            value_name: $value_name,
            help: concat!($($doc),+),
            kind: Kind::$kind $({ $($kf: $kv),+ })?,
            $($field: $value,)*
            ..Setting::PLAIN
        }),+];
    };
}

settings! {
    /// TOML settings file. Keys: listen, data_dir, site_root, [registry] url, username,
    /// password, password_file, token, timeout_seconds.
    "config" "FILE" Path, global = true, not_in_file = Some("(file)");
    /// Address and port Regent serves on.
    "listen" "ADDR:PORT" Text, default = Some("127.0.0.1:8080");
    /// Base URL of the registry, e.g. http://127.0.0.1:5000 (the address that serves /v2/).
    "registry.url" "URL" Text;
    /// Host[:port] users pull from, shown in `docker pull` commands, when it differs from the
    /// registry URL Regent uses (e.g. an OpenShift route) [default: the registry URL's host:port].
    "registry.pull_host" "HOST[:PORT]" Text;
    /// Username for the registry (HTTP Basic, or for its token service). Needs a password.
    "registry.username" "NAME" Text;
    /// Password for the registry username. Prefer the environment or --registry-password-file:
    /// flags are visible to other users in the process list.
    "registry.password" "SECRET" Text, secret = true;
    /// File holding the registry password (trailing newline ignored).
    "registry.password_file" "FILE" Path;
    /// Bearer token sent to the registry instead of a username and password (e.g. an
    /// OpenShift token).
    "registry.token" "TOKEN" Text, secret = true;
    /// Seconds Regent waits for one registry request before reporting it unavailable.
    "registry.timeout_seconds" "SECONDS" Number { default: 15, range: 1..=600, unit: "seconds" };
    /// Directory for Regent's own data; created if missing.
    "data_dir" "DIR" Path, global = true, default = Some("regent-data");
    /// Directory with the built web assets (pkg/regent.js, .wasm, .css).
    "site_root" "DIR" Path, default = Some("target/site");
    /// Registry requests the index crawl keeps in flight at once.
    "index.crawl_concurrency" "N" Number { default: 8, range: 1..=64, unit: "requests" };
    /// Seconds between full re-crawls that catch what notifications missed.
    "index.reconcile_interval_seconds" "SECONDS" Number { default: 900, range: 10..=86_400, unit: "seconds" };
    /// Seconds between rewrites of the index snapshot (data_dir/index.snapshot) while
    /// notifications change the index.
    "index.snapshot_interval_seconds" "SECONDS" Number { default: 300, range: 10..=86_400, unit: "seconds" };
    /// Shared secret the registry sends as `Authorization: Bearer <secret>` with its
    /// notifications to /api/registry/events (at least 16 characters). Unset: the endpoint is off.
    "notifications.secret" "SECRET" Text, secret = true;
    /// Password for the `admin` user created on the first start with an empty store
    /// (at least 10 characters). Unset: a random one is printed once to the log.
    "admin_password" "SECRET" Text, secret = true, not_in_file = Some("(environment only)");
    /// Minutes without use after which a sign-in session ends.
    "session.idle_minutes" "MINUTES" Number { default: 480, range: 5..=10_080, unit: "minutes" };
    /// Hours after signing in at which a session ends however much it is used.
    "session.max_hours" "HOURS" Number { default: 168, range: 1..=720, unit: "hours" };
    /// Mark the session cookie `Secure` (set this when users reach Regent over HTTPS, e.g.
    /// behind a TLS proxy).
    "session.secure_cookie" "BOOL" Bool;
    /// Days audit events are kept; older ones are deleted once a day.
    "audit.retention_days" "DAYS" Number {
        default: regent_domain::store::DEFAULT_AUDIT_RETENTION_DAYS as u64, range: 1..=36_500, unit: "days"
    };
    /// The registry's `auth.token.service`: the audience of every token Regent signs.
    "token.service" "NAME" Text, default = Some("regent-registry");
    /// The registry's `auth.token.issuer`: who Regent says signed the tokens.
    "token.issuer" "NAME" Text, default = Some("regent");
    /// How long a registry token is valid, in minutes; long pushes need tokens that outlast them.
    "token.lifetime_minutes" "MINUTES" Number { default: 15, range: 1..=1440, unit: "minutes" };
    /// Whether to look for an OpenShift cluster: auto (the in-cluster service account or a
    /// kubeconfig, when there is one), off (registry only) or required.
    "openshift.mode" "auto|off|required" Text, default = Some("auto");
    /// The kubeconfig of the cluster [default: KUBECONFIG, ~/.kube/config, or in-cluster].
    "openshift.kubeconfig" "FILE" Path;
    /// The kubeconfig context to use [default: its current context].
    "openshift.context" "NAME" Text;
    /// Seconds between looks for the OpenShift API, so Regent notices a cluster coming back.
    "openshift.recheck_seconds" "SECONDS" Number { default: 30, range: 1..=3600, unit: "seconds" };
    /// The URL users reach Regent at, e.g. https://regent.example.com; https marks the session
    /// cookie Secure [default: none].
    "public_url" "URL" Text;
    /// Proxies whose X-Forwarded-For (the client's address) and X-Forwarded-Proto are
    /// believed: IP addresses or networks, comma-separated, e.g. 10.0.0.5,10.1.0.0/16
    /// [default: none; every request's client is its TCP peer].
    "trusted_proxies" "ADDRESSES" List;
    /// Address and port for /metrics on its own, open to whoever reaches it, e.g. 0.0.0.0:9090
    /// [default: none; /metrics is on the main address, for administrators and this machine].
    "metrics.listen" "ADDR:PORT" Text;
    /// Seconds Regent waits after SIGTERM for running requests and queued notifications
    /// before it exits; keep it below the pod's terminationGracePeriodSeconds.
    "shutdown_grace_seconds" "SECONDS" Number { default: 20, range: 1..=3600, unit: "seconds" };
    /// The company directory: ldap://host[:port] (add --directory-starttls for StartTLS) or
    /// ldaps://host[:port] [default: none; local users only].
    "directory.url" "URL" Text;
    /// Upgrade an ldap:// connection to the directory with StartTLS.
    "directory.starttls" "BOOL" Bool;
    /// PEM file of the CA certificates that sign the directory's certificate [default: the
    /// system's trusted CAs].
    "directory.ca_file" "FILE" Path;
    /// DN of the service account Regent searches the directory as, e.g.
    /// cn=regent,ou=services,dc=example,dc=com.
    "directory.bind_dn" "DN" Text;
    /// File holding the service account's password (trailing newline ignored).
    "directory.bind_password_file" "FILE" Path;
    /// Where users are searched, e.g. ou=people,dc=example,dc=com.
    "directory.user_base" "DN" Text;
    /// Filter finding a user; {username} is replaced, escaped per RFC 4515 [default:
    /// (uid={username}); active-directory: (sAMAccountName={username})].
    "directory.user_filter" "FILTER" Text;
    /// Where groups are searched [default: the user base].
    "directory.group_base" "DN" Text;
    /// Filter finding a user's groups; {dn} is the user's DN [default: (member={dn});
    /// active-directory: (member:1.2.840.113556.1.4.1941:={dn}), nested groups included].
    "directory.group_filter" "FILTER" Text;
    /// The group attribute that names the Regent group [default: cn].
    "directory.group_name_attribute" "ATTRIBUTE" Text;
    /// Seconds a sign-in waits for the directory before saying it did not answer.
    "directory.timeout_seconds" "SECONDS" Number {
        default: regent_domain::directory::DEFAULT_TIMEOUT_SECONDS, range: 1..=60, unit: "seconds"
    };
    /// Presets for the filters: ldap or active-directory [default: ldap].
    "directory.kind" "ldap|active-directory" Text;
    /// Connections to the directory Regent keeps at most.
    "directory.pool_size" "N" Number {
        default: regent_domain::directory::DEFAULT_POOL_SIZE, range: 1..=64, unit: "connections"
    };
}

/// The setting with this file key.
fn setting(key: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("Regent has no setting {key}"))
}

/// A setting with a bad value: which one, and what is wrong.
#[derive(Debug)]
pub struct ConfigError {
    pub setting: &'static Setting,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.setting;
        write!(
            f,
            "setting {} ({} / {}): {}",
            s.file_key(),
            s.env(),
            s.flag(),
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting(key),
        message: message.into(),
    }
}

/// Checked settings, ready to use.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `None`: found on the OpenShift cluster (or start-up stops, saying so).
    pub registry_url: Option<Url>,
    pub registry_credentials: Credentials,
    pub registry_timeout: Duration,
    /// `host[:port]` shown in pull commands, when set.
    pub pull_host: Option<String>,
    pub openshift: OpenShiftSettings,
    pub data_dir: PathBuf,
    /// For the first `admin` user; `None`: a random one.
    pub admin_password: Option<String>,
    pub site_root: PathBuf,
    pub index: IndexSettings,
    /// `None`: the notification endpoint is off.
    pub notifications_secret: Option<String>,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in.
    pub session_max_age: Duration,
    pub session_secure_cookie: bool,
    /// Audit events older than this many days are deleted (daily).
    pub audit_retention_days: u32,
    /// What the token service puts in every token.
    pub token: regent_domain::token::TokenSettings,
    /// Whose forwarding headers are believed.
    pub trusted_proxies: regent_domain::access::TrustedProxies,
    /// Where users reach Regent, when configured.
    pub public_url: Option<Url>,
    /// `/metrics` on an address of its own; `None`: on the main one, restricted.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a SIGTERM waits for running requests and queued notifications.
    pub shutdown_grace: Duration,
    /// The company directory; `None`: local users only.
    pub directory: Option<regent_domain::directory::DirectorySettings>,
}

impl Settings {
    /// Reads the file named by `--config` (if any) and merges it under the flags and environment.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        Self::merge(cli, FileSettings::read(&cli.settings)?)
    }

    /// Only the data directory (for `regent user`, which needs no registry).
    pub fn data_dir_only(cli: &Cli) -> Result<PathBuf, ConfigError> {
        let v = Layers::new(&cli.settings, FileSettings::read(&cli.settings)?);
        let data_dir = v.path("data_dir").unwrap_or_default();
        prepare_data_dir(&data_dir)?;
        Ok(data_dir)
    }

    fn merge(cli: &Cli, file: FileSettings) -> Result<Self, ConfigError> {
        let v = Layers::new(&cli.settings, file);
        let data_dir = v.path("data_dir").unwrap_or_default();
        let address = |key: &str, example: &str| match v.text(key) {
            None => Ok(None),
            Some(text) => text.trim().parse::<SocketAddr>().map(Some).map_err(|_| {
                bad(
                    key,
                    format!("\"{text}\" is not an address and port; write it like {example}"),
                )
            }),
        };
        let listen = address("listen", "127.0.0.1:8080 or 0.0.0.0:8080")?.expect("listen has a default");
        let registry_url = v.text("registry.url").map(|t| parse_registry_url(&t)).transpose()?;
        let pull_host = v.text("registry.pull_host").map(|t| parse_pull_host(&t)).transpose()?;
        let openshift = checks::openshift(&v)?;
        if registry_url.is_none() && openshift.mode == OpenShiftMode::Off {
            return Err(missing_registry_url());
        }

        let credentials = checks::registry_credentials(&v)?;
        let registry_timeout = Duration::from_secs(v.number("registry.timeout_seconds")?);
        let session_idle = v.number("session.idle_minutes")?;
        let session_max = v.number("session.max_hours")?;
        let audit_retention_days = v.number("audit.retention_days")? as u32;
        let minute = checks::session_minute_seconds().map_err(|message| ConfigError {
            setting: setting("session.idle_minutes"),
            message,
        })?;
        let token_lifetime = v.number("token.lifetime_minutes")?;
        let token_name = |key: &str| {
            let value = v.text(key).unwrap_or_default().trim().to_owned();
            if value.is_empty() || value.len() > 200 || value.chars().any(|c| c.is_control() || c == '"') {
                return Err(bad(
                    key,
                    format!("\"{value}\" cannot be used; write the same plain name as in the registry's config"),
                ));
            }
            Ok(value)
        };
        let token = regent_domain::token::TokenSettings {
            service: token_name("token.service")?,
            issuer: token_name("token.issuer")?,
            lifetime: Duration::from_secs(token_lifetime * 60),
        };
        let index = IndexSettings {
            concurrency: v.number("index.crawl_concurrency")? as usize,
            reconcile_every: Duration::from_secs(v.number("index.reconcile_interval_seconds")?),
            snapshot: Some(data_dir.join(regent_domain::index::snapshot::SNAPSHOT_FILE)),
            snapshot_every: Duration::from_secs(v.number("index.snapshot_interval_seconds")?),
            ..IndexSettings::default()
        };
        let notifications_secret = match v.text("notifications.secret") {
            Some(s) if s.trim().chars().count() < 16 => {
                return Err(bad(
                    "notifications.secret",
                    "is shorter than 16 characters; use a long random string (e.g. `openssl rand -hex 24`)",
                ));
            }
            other => other.map(|s| s.trim().to_owned()),
        };
        let trusted_proxies =
            regent_domain::access::TrustedProxies::parse(v.list("trusted_proxies").iter().map(String::as_str))
                .map_err(|e| bad("trusted_proxies", e))?;
        let public_url = match v.text("public_url") {
            None => None,
            Some(text) => {
                let example = "write it like https://regent.example.com";
                let url = Url::parse(text.trim())
                    .map_err(|e| bad("public_url", format!("\"{text}\" is not a URL ({e}); {example}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(bad(
                        "public_url",
                        format!("\"{text}\" is not an http(s) URL; {example}"),
                    ));
                }
                Some(url)
            }
        };
        let metrics_listen = address("metrics.listen", "0.0.0.0:9090")?;
        let shutdown_grace = Duration::from_secs(v.number("shutdown_grace_seconds")?);
        let directory = checks::directory_settings(&v)?;

        prepare_data_dir(&data_dir)?;
        let admin_password = match v.text("admin_password") {
            Some(p) if p.chars().count() < 10 => {
                return Err(bad(
                    "admin_password",
                    "is shorter than 10 characters; choose a longer one (or unset it to get a random one)",
                ));
            }
            other => other,
        };
        Ok(Self {
            listen,
            registry_url,
            registry_credentials: credentials,
            registry_timeout,
            pull_host,
            openshift,
            site_root: v.path("site_root").unwrap_or_default(),
            data_dir,
            admin_password,
            index,
            notifications_secret,
            session_idle: Duration::from_secs(session_idle * minute),
            session_max_age: Duration::from_secs(session_max * 60 * minute),
            session_secure_cookie: v.bool("session.secure_cookie").unwrap_or(false),
            audit_retention_days,
            token,
            trusted_proxies,
            public_url,
            metrics_listen,
            shutdown_grace,
            directory,
        })
    }

    /// The settings as TOML-ish text with secrets replaced, for `--print-config` and logs.
    pub fn describe(&self) -> String {
        let q = |value: &dyn std::fmt::Display| format!("\"{value}\"");
        let or = |value: Option<&Url>, unset: &str| value.map_or_else(|| unset.to_owned(), Url::to_string);
        let seconds = |d: Duration| d.as_secs().to_string();
        let mode = checks::OPENSHIFT_MODES
            .iter()
            .find(|(_, m)| *m == self.openshift.mode)
            .map_or("", |(name, _)| name);
        let kubeconfig = self.openshift.kubeconfig.as_ref().map(|p| p.display().to_string());
        let mut lines: Vec<(&str, String)> = vec![
            ("shutdown_grace_seconds", seconds(self.shutdown_grace)),
            ("listen", q(&self.listen)),
            ("data_dir", q(&self.data_dir.display())),
            ("site_root", q(&self.site_root.display())),
            ("trusted_proxies", format!("{:?}", self.trusted_proxies.to_strings())),
            ("public_url", q(&or(self.public_url.as_ref(), "(not set)"))),
            (
                "registry.url",
                q(&or(self.registry_url.as_ref(), "(found on the OpenShift cluster)")),
            ),
            (
                "registry.pull_host",
                q(&self.pull_host.as_deref().unwrap_or("(the registry's host)")),
            ),
            ("registry.credentials", q(&self.registry_credentials.describe())),
            ("registry.timeout_seconds", seconds(self.registry_timeout)),
            ("index.crawl_concurrency", self.index.concurrency.to_string()),
            ("index.reconcile_interval_seconds", seconds(self.index.reconcile_every)),
            ("index.snapshot_interval_seconds", seconds(self.index.snapshot_every)),
            (
                "notifications.secret",
                q(&["(not set: endpoint off)", "(set)"][usize::from(self.notifications_secret.is_some())]),
            ),
            ("session.idle_minutes", (self.session_idle.as_secs() / 60).to_string()),
            ("session.max_hours", (self.session_max_age.as_secs() / 3600).to_string()),
            ("session.secure_cookie", self.session_secure_cookie.to_string()),
            ("audit.retention_days", self.audit_retention_days.to_string()),
            ("token.service", q(&self.token.service)),
            ("token.issuer", q(&self.token.issuer)),
            (
                "token.lifetime_minutes",
                (self.token.lifetime.as_secs() / 60).to_string(),
            ),
            ("openshift.mode", q(&mode)),
            (
                "openshift.kubeconfig",
                q(&kubeconfig
                    .as_deref()
                    .unwrap_or("(KUBECONFIG, ~/.kube/config or in-cluster)")),
            ),
            (
                "openshift.context",
                q(&self.openshift.context.as_deref().unwrap_or("(current)")),
            ),
            ("openshift.recheck_seconds", seconds(self.openshift.recheck_every)),
        ];
        match &self.directory {
            None => lines.push(("directory.url", q(&"(not set: local users only)"))),
            Some(directory) => lines.extend(directory.describe().into_iter().map(|(key, value)| (key, q(&value)))),
        }
        let metrics = self.metrics_listen.map(|a| a.to_string());
        lines.push((
            "metrics.listen",
            q(&metrics.as_deref().unwrap_or("(not set: /metrics on the main address)")),
        ));
        // Top-level keys first, then each [section] once, as in the file.
        let mut out = String::new();
        let mut section = "";
        for (key, value) in lines {
            let (table, name) = key.split_once('.').unwrap_or(("", key));
            if table != section {
                out.push_str(&format!("[{table}]\n"));
                section = table;
            }
            out.push_str(&format!("{name} = {value}\n"));
        }
        out
    }

    /// Whether every session cookie is `Secure`: set so, or Regent is reached over HTTPS.
    pub fn always_secure_cookie(&self) -> bool {
        self.session_secure_cookie || self.public_url.as_ref().is_some_and(|u| u.scheme() == "https")
    }

    /// How to reach the registry at `url` with the configured credentials, or `found` ones
    /// when none are configured.
    pub fn registry_config(&self, url: Url, found: Option<Credentials>) -> RegistryConfig {
        let mut registry = RegistryConfig::new(url);
        registry.credentials = match (&self.registry_credentials, found) {
            (Credentials::None, Some(found)) => found,
            (configured, _) => configured.clone(),
        };
        registry.timeout = self.registry_timeout;
        registry
    }

    /// `host[:port]` for pull commands: configured, else what the cluster says, else the URL's.
    pub fn pull_host_for(&self, url: &Url, found: Option<&str>) -> String {
        self.pull_host
            .clone()
            .or_else(|| found.map(str::to_owned))
            .unwrap_or_else(|| default_pull_host(url))
    }
}
