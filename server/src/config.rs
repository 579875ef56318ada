//! Regent's settings: a TOML file, then `REGENT_*` environment variables, then command-line
//! flags, each overriding the one before.
//!
//! Everything is checked here, before anything starts: a bad value stops start-up with a
//! message naming the setting in all three spellings (`registry.url`, `REGENT_REGISTRY_URL`,
//! `--registry-url`) and saying what a good value looks like.

use clap::Parser;
use regent_domain::index::IndexSettings;
use regent_domain::openshift::{Mode as OpenShiftMode, OpenShiftSettings};
use regent_domain::registry::{Credentials, RegistryConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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
    /// TOML settings file. Keys: listen, data_dir, site_root, [registry] url, username,
    /// password, password_file, token, timeout_seconds.
    #[arg(long, env = "REGENT_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Address and port Regent serves on [default: 127.0.0.1:8080].
    #[arg(long, env = "REGENT_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// Base URL of the registry, e.g. http://127.0.0.1:5000 (the address that serves /v2/).
    #[arg(long, env = "REGENT_REGISTRY_URL", value_name = "URL")]
    pub registry_url: Option<String>,

    /// Host[:port] users pull from, shown in `docker pull` commands, when it differs from the
    /// registry URL Regent uses (e.g. an OpenShift route) [default: the registry URL's host:port].
    #[arg(long, env = "REGENT_REGISTRY_PULL_HOST", value_name = "HOST[:PORT]")]
    pub registry_pull_host: Option<String>,

    /// Username for the registry (HTTP Basic, or for its token service). Needs a password.
    #[arg(long, env = "REGENT_REGISTRY_USERNAME", value_name = "NAME")]
    pub registry_username: Option<String>,

    /// Password for the registry username. Prefer the environment or --registry-password-file:
    /// flags are visible to other users in the process list.
    #[arg(
        long,
        env = "REGENT_REGISTRY_PASSWORD",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub registry_password: Option<String>,

    /// File holding the registry password (trailing newline ignored).
    #[arg(long, env = "REGENT_REGISTRY_PASSWORD_FILE", value_name = "FILE")]
    pub registry_password_file: Option<PathBuf>,

    /// Bearer token sent to the registry instead of a username and password (e.g. an
    /// OpenShift token).
    #[arg(long, env = "REGENT_REGISTRY_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub registry_token: Option<String>,

    /// Seconds Regent waits for one registry request before reporting it unavailable [default: 15].
    #[arg(long, env = "REGENT_REGISTRY_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub registry_timeout_seconds: Option<String>,

    /// Directory for Regent's own data; created if missing [default: ./regent-data].
    #[arg(long, env = "REGENT_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Directory with the built web assets (pkg/regent.js, .wasm, .css) [default: target/site].
    #[arg(long, env = "REGENT_SITE_ROOT", value_name = "DIR")]
    pub site_root: Option<PathBuf>,

    /// Registry requests the index crawl keeps in flight at once (1 to 64) [default: 8].
    #[arg(long, env = "REGENT_INDEX_CRAWL_CONCURRENCY", value_name = "N")]
    pub index_crawl_concurrency: Option<String>,

    /// Seconds between full re-crawls that catch what notifications missed (10 to 86400)
    /// [default: 900].
    #[arg(long, env = "REGENT_INDEX_RECONCILE_INTERVAL_SECONDS", value_name = "SECONDS")]
    pub index_reconcile_interval_seconds: Option<String>,

    /// Seconds between rewrites of the index snapshot (data_dir/index.snapshot) while
    /// notifications change the index (10 to 86400) [default: 300].
    #[arg(long, env = "REGENT_INDEX_SNAPSHOT_INTERVAL_SECONDS", value_name = "SECONDS")]
    pub index_snapshot_interval_seconds: Option<String>,

    /// Shared secret the registry sends as `Authorization: Bearer <secret>` with its
    /// notifications to /api/registry/events (at least 16 characters). Unset: the endpoint is off.
    #[arg(
        long,
        env = "REGENT_NOTIFICATIONS_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub notifications_secret: Option<String>,

    /// Password for the `admin` user created on the first start with an empty store
    /// (at least 10 characters). Unset: a random one is printed once to the log.
    #[arg(long, env = "REGENT_ADMIN_PASSWORD", value_name = "SECRET", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Minutes without use after which a sign-in session ends (5 to 10080) [default: 480].
    #[arg(long, env = "REGENT_SESSION_IDLE_MINUTES", value_name = "MINUTES")]
    pub session_idle_minutes: Option<String>,

    /// Hours after signing in at which a session ends however much it is used (1 to 720)
    /// [default: 168].
    #[arg(long, env = "REGENT_SESSION_MAX_HOURS", value_name = "HOURS")]
    pub session_max_hours: Option<String>,

    /// Mark the session cookie `Secure` (set this when users reach Regent over HTTPS, e.g.
    /// behind a TLS proxy) [default: false].
    #[arg(long, env = "REGENT_SESSION_SECURE_COOKIE", value_name = "BOOL")]
    pub session_secure_cookie: Option<bool>,

    /// Days audit events are kept; older ones are deleted once a day (1 to 36500) [default: 400].
    #[arg(long, env = "REGENT_AUDIT_RETENTION_DAYS", value_name = "DAYS")]
    pub audit_retention_days: Option<String>,

    /// The registry's `auth.token.service`: the audience of every token Regent signs
    /// [default: regent-registry].
    #[arg(long, env = "REGENT_TOKEN_SERVICE", value_name = "NAME")]
    pub token_service: Option<String>,

    /// The registry's `auth.token.issuer`: who Regent says signed the tokens [default: regent].
    #[arg(long, env = "REGENT_TOKEN_ISSUER", value_name = "NAME")]
    pub token_issuer: Option<String>,

    /// How long a registry token is valid, in minutes (1 to 1440) [default: 15; long pushes
    /// need tokens that outlast them].
    #[arg(long, env = "REGENT_TOKEN_LIFETIME_MINUTES", value_name = "MINUTES")]
    pub token_lifetime_minutes: Option<String>,

    /// Whether to look for an OpenShift cluster: auto (the in-cluster service account or a
    /// kubeconfig, when there is one), off (registry only) or required [default: auto].
    #[arg(long, env = "REGENT_OPENSHIFT_MODE", value_name = "auto|off|required")]
    pub openshift_mode: Option<String>,

    /// The kubeconfig of the cluster [default: KUBECONFIG, ~/.kube/config, or in-cluster].
    #[arg(long, env = "REGENT_OPENSHIFT_KUBECONFIG", value_name = "FILE")]
    pub openshift_kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use [default: its current context].
    #[arg(long, env = "REGENT_OPENSHIFT_CONTEXT", value_name = "NAME")]
    pub openshift_context: Option<String>,

    /// Seconds between looks for the OpenShift API, so Regent notices a cluster coming back
    /// (1 to 3600) [default: 30].
    #[arg(long, env = "REGENT_OPENSHIFT_RECHECK_SECONDS", value_name = "SECONDS")]
    pub openshift_recheck_seconds: Option<String>,

    /// The URL users reach Regent at, e.g. https://regent.example.com; https marks the session
    /// cookie Secure [default: none].
    #[arg(long, env = "REGENT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Proxies whose X-Forwarded-For (the client's address) and X-Forwarded-Proto are
    /// believed: IP addresses or networks, comma-separated, e.g. 10.0.0.5,10.1.0.0/16
    /// [default: none; every request's client is its TCP peer].
    #[arg(long, env = "REGENT_TRUSTED_PROXIES", value_name = "ADDRESSES")]
    pub trusted_proxies: Option<String>,

    // Production (issue 19): metrics address and shutdown grace.
    /// Address and port for /metrics on its own, open to whoever reaches it, e.g. 0.0.0.0:9090
    /// [default: none; /metrics is on the main address, for administrators and this machine].
    #[arg(long, env = "REGENT_METRICS_LISTEN", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,

    /// Seconds Regent waits after SIGTERM for running requests and queued notifications
    /// before it exits (1 to 3600; keep it below the pod's terminationGracePeriodSeconds)
    /// [default: 20].
    #[arg(long, env = "REGENT_SHUTDOWN_GRACE_SECONDS", value_name = "SECONDS")]
    pub shutdown_grace_seconds: Option<String>,

    // The company directory (issue 18).
    /// The company directory: ldap://host[:port] (add --directory-starttls for StartTLS) or
    /// ldaps://host[:port] [default: none; local users only].
    #[arg(long, env = "REGENT_DIRECTORY_URL", value_name = "URL")]
    pub directory_url: Option<String>,

    /// Upgrade an ldap:// connection to the directory with StartTLS [default: false].
    #[arg(long, env = "REGENT_DIRECTORY_STARTTLS", value_name = "BOOL")]
    pub directory_starttls: Option<bool>,

    /// PEM file of the CA certificates that sign the directory's certificate [default: the
    /// system's trusted CAs].
    #[arg(long, env = "REGENT_DIRECTORY_CA_FILE", value_name = "FILE")]
    pub directory_ca_file: Option<PathBuf>,

    /// DN of the service account Regent searches the directory as, e.g.
    /// cn=regent,ou=services,dc=example,dc=com.
    #[arg(long, env = "REGENT_DIRECTORY_BIND_DN", value_name = "DN")]
    pub directory_bind_dn: Option<String>,

    /// File holding the service account's password (trailing newline ignored).
    #[arg(long, env = "REGENT_DIRECTORY_BIND_PASSWORD_FILE", value_name = "FILE")]
    pub directory_bind_password_file: Option<PathBuf>,

    /// Where users are searched, e.g. ou=people,dc=example,dc=com.
    #[arg(long, env = "REGENT_DIRECTORY_USER_BASE", value_name = "DN")]
    pub directory_user_base: Option<String>,

    /// Filter finding a user; {username} is replaced, escaped per RFC 4515 [default:
    /// (uid={username}); active-directory: (sAMAccountName={username})].
    #[arg(long, env = "REGENT_DIRECTORY_USER_FILTER", value_name = "FILTER")]
    pub directory_user_filter: Option<String>,

    /// Where groups are searched [default: the user base].
    #[arg(long, env = "REGENT_DIRECTORY_GROUP_BASE", value_name = "DN")]
    pub directory_group_base: Option<String>,

    /// Filter finding a user's groups; {dn} is the user's DN [default: (member={dn});
    /// active-directory: (member:1.2.840.113556.1.4.1941:={dn}), nested groups included].
    #[arg(long, env = "REGENT_DIRECTORY_GROUP_FILTER", value_name = "FILTER")]
    pub directory_group_filter: Option<String>,

    /// The group attribute that names the Regent group [default: cn].
    #[arg(long, env = "REGENT_DIRECTORY_GROUP_NAME_ATTRIBUTE", value_name = "ATTRIBUTE")]
    pub directory_group_name_attribute: Option<String>,

    /// Seconds a sign-in waits for the directory before saying it did not answer (1 to 60)
    /// [default: 5].
    #[arg(long, env = "REGENT_DIRECTORY_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub directory_timeout_seconds: Option<String>,

    /// Presets for the filters: ldap or active-directory [default: ldap].
    #[arg(long, env = "REGENT_DIRECTORY_KIND", value_name = "ldap|active-directory")]
    pub directory_kind: Option<String>,

    /// Connections to the directory Regent keeps at most (1 to 64) [default: 4].
    #[arg(long, env = "REGENT_DIRECTORY_POOL_SIZE", value_name = "N")]
    pub directory_pool_size: Option<String>,

    /// Print the effective settings (secrets hidden) and exit.
    #[arg(long)]
    pub print_config: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manage Regent's users from the shell (works without the registry).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage grants from the shell: who may read, write, delete or administer what.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Rotate the key that signs registry tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum TokenCommand {
    /// Step 1 of a rotation: add a new signing key. It is published in /auth/certs.pem but does
    /// not sign yet; give the registry the new bundle and restart it before step 2.
    NewKey,
    /// Step 2: sign with the newest added key. The old key stays published until its tokens
    /// have expired (refresh tokens it signed end: users log in again).
    UseNewKey,
    /// List the signing keys: id, state, key id (kid), created.
    Keys,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum GrantCommand {
    /// Give a subject a level on a scope (replacing its earlier level there), e.g.
    /// `regent grant add group:qa skyfield read` or `regent grant add anonymous 'public/*' read`.
    Add {
        /// user:<name>, group:<name>, anonymous or authenticated
        subject: String,
        /// a repository, a namespace `team/*`, or `*` for everything
        scope: String,
        /// read, write, delete or admin
        level: String,
    },
    /// Remove a subject's grant on a scope.
    Remove { subject: String, scope: String },
    /// List every grant: scope, subject, level.
    List,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line).
    Add {
        name: String,
        /// Make the user a global admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set a user's password, read from standard input (one line).
    Password { name: String },
    /// Make a user a global admin (or, with --revoke, no longer one).
    Admin {
        name: String,
        #[arg(long)]
        revoke: bool,
    },
    /// List users with their groups.
    List,
}

/// The TOML file. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    site_root: Option<PathBuf>,
    trusted_proxies: Option<Vec<String>>,
    public_url: Option<String>,
    #[serde(default)]
    registry: FileRegistry,
    #[serde(default)]
    index: FileIndex,
    #[serde(default)]
    notifications: FileNotifications,
    #[serde(default)]
    session: FileSession,
    #[serde(default)]
    token: FileToken,
    #[serde(default)]
    openshift: FileOpenShift,
    #[serde(default)]
    audit: FileAudit,
    // Production (issue 19).
    shutdown_grace_seconds: Option<u64>,
    #[serde(default)]
    metrics: FileMetrics,
    #[serde(default)]
    directory: FileDirectory,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDirectory {
    url: Option<String>,
    starttls: Option<bool>,
    ca_file: Option<PathBuf>,
    bind_dn: Option<String>,
    bind_password_file: Option<PathBuf>,
    user_base: Option<String>,
    user_filter: Option<String>,
    group_base: Option<String>,
    group_filter: Option<String>,
    group_name_attribute: Option<String>,
    timeout_seconds: Option<u64>,
    kind: Option<String>,
    pool_size: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMetrics {
    listen: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAudit {
    retention_days: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOpenShift {
    mode: Option<String>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    recheck_seconds: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToken {
    service: Option<String>,
    issuer: Option<String>,
    lifetime_minutes: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSession {
    idle_minutes: Option<u64>,
    max_hours: Option<u64>,
    secure_cookie: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIndex {
    crawl_concurrency: Option<u64>,
    reconcile_interval_seconds: Option<u64>,
    snapshot_interval_seconds: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotifications {
    secret: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRegistry {
    url: Option<String>,
    pull_host: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    token: Option<String>,
    timeout_seconds: Option<u64>,
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
    // Production (issue 19).
    /// `/metrics` on an address of its own; `None`: on the main one, restricted.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a SIGTERM waits for running requests and queued notifications.
    pub shutdown_grace: Duration,
    /// The company directory; `None`: local users only.
    pub directory: Option<regent_domain::directory::DirectorySettings>,
}

/// A setting with a bad value: which one, and what is wrong.
#[derive(Debug)]
pub struct ConfigError {
    pub setting: &'static Setting,
    pub message: String,
}

/// A setting's three names.
#[derive(Debug)]
pub struct Setting {
    pub file_key: &'static str,
    pub env: &'static str,
    pub flag: &'static str,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.setting;
        write!(f, "setting {} ({} / {}): {}", s.file_key, s.env, s.flag, self.message)
    }
}

impl std::error::Error for ConfigError {}

macro_rules! setting {
    ($name:ident, $key:literal, $env:literal, $flag:literal) => {
        pub static $name: Setting = Setting {
            file_key: $key,
            env: $env,
            flag: $flag,
        };
    };
}
setting!(CONFIG, "(file)", "REGENT_CONFIG", "--config");
setting!(LISTEN, "listen", "REGENT_LISTEN", "--listen");
setting!(REGISTRY_URL, "registry.url", "REGENT_REGISTRY_URL", "--registry-url");
setting!(
    REGISTRY_PULL_HOST,
    "registry.pull_host",
    "REGENT_REGISTRY_PULL_HOST",
    "--registry-pull-host"
);
setting!(
    REGISTRY_USERNAME,
    "registry.username",
    "REGENT_REGISTRY_USERNAME",
    "--registry-username"
);
setting!(
    REGISTRY_PASSWORD,
    "registry.password",
    "REGENT_REGISTRY_PASSWORD",
    "--registry-password"
);
setting!(
    REGISTRY_PASSWORD_FILE,
    "registry.password_file",
    "REGENT_REGISTRY_PASSWORD_FILE",
    "--registry-password-file"
);
setting!(
    REGISTRY_TOKEN,
    "registry.token",
    "REGENT_REGISTRY_TOKEN",
    "--registry-token"
);
setting!(
    REGISTRY_TIMEOUT,
    "registry.timeout_seconds",
    "REGENT_REGISTRY_TIMEOUT_SECONDS",
    "--registry-timeout-seconds"
);
setting!(DATA_DIR, "data_dir", "REGENT_DATA_DIR", "--data-dir");
setting!(PUBLIC_URL, "public_url", "REGENT_PUBLIC_URL", "--public-url");
setting!(
    TRUSTED_PROXIES,
    "trusted_proxies",
    "REGENT_TRUSTED_PROXIES",
    "--trusted-proxies"
);
setting!(
    ADMIN_PASSWORD,
    "(environment only)",
    "REGENT_ADMIN_PASSWORD",
    "--admin-password"
);
setting!(
    CRAWL_CONCURRENCY,
    "index.crawl_concurrency",
    "REGENT_INDEX_CRAWL_CONCURRENCY",
    "--index-crawl-concurrency"
);
setting!(
    RECONCILE_INTERVAL,
    "index.reconcile_interval_seconds",
    "REGENT_INDEX_RECONCILE_INTERVAL_SECONDS",
    "--index-reconcile-interval-seconds"
);
setting!(
    SNAPSHOT_INTERVAL,
    "index.snapshot_interval_seconds",
    "REGENT_INDEX_SNAPSHOT_INTERVAL_SECONDS",
    "--index-snapshot-interval-seconds"
);
setting!(
    SESSION_IDLE,
    "session.idle_minutes",
    "REGENT_SESSION_IDLE_MINUTES",
    "--session-idle-minutes"
);
setting!(
    SESSION_MAX,
    "session.max_hours",
    "REGENT_SESSION_MAX_HOURS",
    "--session-max-hours"
);
setting!(
    AUDIT_RETENTION,
    "audit.retention_days",
    "REGENT_AUDIT_RETENTION_DAYS",
    "--audit-retention-days"
);
setting!(
    TOKEN_SERVICE,
    "token.service",
    "REGENT_TOKEN_SERVICE",
    "--token-service"
);
setting!(TOKEN_ISSUER, "token.issuer", "REGENT_TOKEN_ISSUER", "--token-issuer");
setting!(
    TOKEN_LIFETIME,
    "token.lifetime_minutes",
    "REGENT_TOKEN_LIFETIME_MINUTES",
    "--token-lifetime-minutes"
);
setting!(
    OPENSHIFT_MODE,
    "openshift.mode",
    "REGENT_OPENSHIFT_MODE",
    "--openshift-mode"
);
setting!(
    OPENSHIFT_KUBECONFIG,
    "openshift.kubeconfig",
    "REGENT_OPENSHIFT_KUBECONFIG",
    "--openshift-kubeconfig"
);
setting!(
    OPENSHIFT_RECHECK,
    "openshift.recheck_seconds",
    "REGENT_OPENSHIFT_RECHECK_SECONDS",
    "--openshift-recheck-seconds"
);
// Production (issue 19).
setting!(
    METRICS_LISTEN,
    "metrics.listen",
    "REGENT_METRICS_LISTEN",
    "--metrics-listen"
);
setting!(
    SHUTDOWN_GRACE,
    "shutdown_grace_seconds",
    "REGENT_SHUTDOWN_GRACE_SECONDS",
    "--shutdown-grace-seconds"
);
setting!(
    DIRECTORY_URL,
    "directory.url",
    "REGENT_DIRECTORY_URL",
    "--directory-url"
);
setting!(
    DIRECTORY_STARTTLS,
    "directory.starttls",
    "REGENT_DIRECTORY_STARTTLS",
    "--directory-starttls"
);
setting!(
    DIRECTORY_CA_FILE,
    "directory.ca_file",
    "REGENT_DIRECTORY_CA_FILE",
    "--directory-ca-file"
);
setting!(
    DIRECTORY_BIND_DN,
    "directory.bind_dn",
    "REGENT_DIRECTORY_BIND_DN",
    "--directory-bind-dn"
);
setting!(
    DIRECTORY_USER_BASE,
    "directory.user_base",
    "REGENT_DIRECTORY_USER_BASE",
    "--directory-user-base"
);
setting!(
    DIRECTORY_USER_FILTER,
    "directory.user_filter",
    "REGENT_DIRECTORY_USER_FILTER",
    "--directory-user-filter"
);
setting!(
    DIRECTORY_GROUP_BASE,
    "directory.group_base",
    "REGENT_DIRECTORY_GROUP_BASE",
    "--directory-group-base"
);
setting!(
    DIRECTORY_GROUP_FILTER,
    "directory.group_filter",
    "REGENT_DIRECTORY_GROUP_FILTER",
    "--directory-group-filter"
);
setting!(
    DIRECTORY_GROUP_NAME_ATTRIBUTE,
    "directory.group_name_attribute",
    "REGENT_DIRECTORY_GROUP_NAME_ATTRIBUTE",
    "--directory-group-name-attribute"
);
setting!(
    DIRECTORY_KIND,
    "directory.kind",
    "REGENT_DIRECTORY_KIND",
    "--directory-kind"
);
setting!(
    DIRECTORY_BIND_PASSWORD_FILE,
    "directory.bind_password_file",
    "REGENT_DIRECTORY_BIND_PASSWORD_FILE",
    "--directory-bind-password-file"
);
setting!(
    DIRECTORY_TIMEOUT,
    "directory.timeout_seconds",
    "REGENT_DIRECTORY_TIMEOUT_SECONDS",
    "--directory-timeout-seconds"
);
setting!(
    DIRECTORY_POOL_SIZE,
    "directory.pool_size",
    "REGENT_DIRECTORY_POOL_SIZE",
    "--directory-pool-size"
);
setting!(
    NOTIFICATIONS_SECRET,
    "notifications.secret",
    "REGENT_NOTIFICATIONS_SECRET",
    "--notifications-secret"
);

/// A whole number in `range`, from the flag/env text or else the file, else `default`.
fn number(
    setting: &'static Setting,
    text: Option<&str>,
    file: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, ConfigError> {
    let value = match text {
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| bad(setting, format!("\"{text}\" is not a whole number of {unit}")))?,
        None => file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(bad(
            setting,
            format!(
                "{value} is out of range; use {} to {} {unit}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

fn bad(setting: &'static Setting, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

impl Settings {
    /// Reads the file named by `cli.config` (if any) and merges it under the CLI/env values.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        Self::merge(cli, read_file(cli)?)
    }

    /// Only the data directory (for `regent user`, which needs no registry).
    pub fn data_dir_only(cli: &Cli) -> Result<PathBuf, ConfigError> {
        let file = read_file(cli)?;
        let data_dir = resolve_data_dir(cli, &file);
        prepare_data_dir(&data_dir)?;
        Ok(data_dir)
    }

    fn merge(cli: &Cli, file: FileSettings) -> Result<Self, ConfigError> {
        let data_dir = resolve_data_dir(cli, &file);
        let listen_text = cli
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.trim().parse().map_err(|_| {
            bad(
                &LISTEN,
                format!("\"{listen_text}\" is not an address and port; write it like 127.0.0.1:8080 or 0.0.0.0:8080"),
            )
        })?;

        let registry_url = match cli.registry_url.clone().or(file.registry.url) {
            Some(text) => Some(parse_registry_url(&text)?),
            None => None,
        };
        let pull_host = match cli.registry_pull_host.clone().or(file.registry.pull_host) {
            Some(text) => Some(parse_pull_host(&text)?),
            None => None,
        };
        let openshift_mode = match cli.openshift_mode.clone().or(file.openshift.mode) {
            None => OpenShiftMode::Auto,
            Some(text) => match text.trim().to_ascii_lowercase().as_str() {
                "auto" => OpenShiftMode::Auto,
                "off" => OpenShiftMode::Off,
                "required" => OpenShiftMode::Required,
                _ => {
                    return Err(bad(
                        &OPENSHIFT_MODE,
                        format!("\"{text}\" is not a mode; use auto, off or required"),
                    ));
                }
            },
        };
        let kubeconfig = cli.openshift_kubeconfig.clone().or(file.openshift.kubeconfig);
        if let Some(path) = &kubeconfig
            && !path.is_file()
        {
            return Err(bad(
                &OPENSHIFT_KUBECONFIG,
                format!(
                    "{} is not a readable file; give the path of a kubeconfig (what `oc login` writes)",
                    path.display()
                ),
            ));
        }
        let recheck = number(
            &OPENSHIFT_RECHECK,
            cli.openshift_recheck_seconds.as_deref(),
            file.openshift.recheck_seconds,
            30,
            1..=3600,
            "seconds",
        )?;
        let openshift = OpenShiftSettings {
            mode: openshift_mode,
            kubeconfig,
            context: cli
                .openshift_context
                .clone()
                .or(file.openshift.context)
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            recheck_every: Duration::from_secs(recheck),
            ..OpenShiftSettings::default()
        };
        if registry_url.is_none() && openshift_mode == OpenShiftMode::Off {
            return Err(missing_registry_url());
        }

        let username = cli.registry_username.clone().or(file.registry.username);
        let password_file = cli.registry_password_file.clone().or(file.registry.password_file);
        let password = match (cli.registry_password.clone().or(file.registry.password), password_file) {
            (Some(p), _) => Some(p),
            (None, Some(path)) => Some(read_secret(&path)?),
            (None, None) => None,
        };
        let token = cli.registry_token.clone().or(file.registry.token);
        let credentials = match (username, password, token) {
            (None, None, None) => Credentials::None,
            (Some(u), Some(p), None) if !u.is_empty() => Credentials::Basic {
                username: u,
                password: p,
            },
            (Some(_), None, None) => {
                return Err(bad(
                    &REGISTRY_PASSWORD,
                    "a registry username is set but no password; set the password or its file",
                ));
            }
            (None, Some(_), None) => {
                return Err(bad(
                    &REGISTRY_USERNAME,
                    "a registry password is set but no username; set the username too",
                ));
            }
            (Some(_), Some(_), None) => return Err(bad(&REGISTRY_USERNAME, "is empty; set the registry username")),
            (None, None, Some(t)) if !t.trim().is_empty() => Credentials::Bearer {
                token: t.trim().to_owned(),
            },
            (None, None, Some(_)) => return Err(bad(&REGISTRY_TOKEN, "is empty; set a token or leave it out")),
            (_, _, Some(_)) => {
                return Err(bad(
                    &REGISTRY_TOKEN,
                    "is set together with a username/password; use either a token or a username and password",
                ));
            }
        };

        let timeout = number(
            &REGISTRY_TIMEOUT,
            cli.registry_timeout_seconds.as_deref(),
            file.registry.timeout_seconds,
            15,
            1..=600,
            "seconds",
        )?;
        let session_idle = number(
            &SESSION_IDLE,
            cli.session_idle_minutes.as_deref(),
            file.session.idle_minutes,
            480,
            5..=10_080,
            "minutes",
        )?;
        let session_max = number(
            &SESSION_MAX,
            cli.session_max_hours.as_deref(),
            file.session.max_hours,
            168,
            1..=720,
            "hours",
        )?;
        let audit_retention_days = number(
            &AUDIT_RETENTION,
            cli.audit_retention_days.as_deref(),
            file.audit.retention_days,
            u64::from(regent_domain::store::DEFAULT_AUDIT_RETENTION_DAYS),
            1..=36_500,
            "days",
        )? as u32;
        let minute = session_minute_seconds().map_err(|message| ConfigError {
            setting: &SESSION_IDLE,
            message,
        })?;
        let session_secure_cookie = cli
            .session_secure_cookie
            .or(file.session.secure_cookie)
            .unwrap_or(false);
        let token_lifetime = number(
            &TOKEN_LIFETIME,
            cli.token_lifetime_minutes.as_deref(),
            file.token.lifetime_minutes,
            15,
            1..=1440,
            "minutes",
        )?;
        let token_name = |setting: &'static Setting, flag: &Option<String>, file: Option<String>, default: &str| {
            let value = flag.clone().or(file).unwrap_or_else(|| default.to_owned());
            let value = value.trim().to_owned();
            if value.is_empty() || value.len() > 200 || value.chars().any(|c| c.is_control() || c == '"') {
                return Err(bad(
                    setting,
                    format!("\"{value}\" cannot be used; write the same plain name as in the registry's config"),
                ));
            }
            Ok(value)
        };
        let token = regent_domain::token::TokenSettings {
            service: token_name(
                &TOKEN_SERVICE,
                &cli.token_service,
                file.token.service,
                "regent-registry",
            )?,
            issuer: token_name(&TOKEN_ISSUER, &cli.token_issuer, file.token.issuer, "regent")?,
            lifetime: Duration::from_secs(token_lifetime * 60),
        };
        let concurrency = number(
            &CRAWL_CONCURRENCY,
            cli.index_crawl_concurrency.as_deref(),
            file.index.crawl_concurrency,
            8,
            1..=64,
            "requests",
        )?;
        let reconcile = number(
            &RECONCILE_INTERVAL,
            cli.index_reconcile_interval_seconds.as_deref(),
            file.index.reconcile_interval_seconds,
            900,
            10..=86_400,
            "seconds",
        )?;
        let snapshot_interval = number(
            &SNAPSHOT_INTERVAL,
            cli.index_snapshot_interval_seconds.as_deref(),
            file.index.snapshot_interval_seconds,
            300,
            10..=86_400,
            "seconds",
        )?;
        let notifications_secret = match cli.notifications_secret.clone().or(file.notifications.secret) {
            Some(s) if s.trim().chars().count() < 16 => {
                return Err(bad(
                    &NOTIFICATIONS_SECRET,
                    "is shorter than 16 characters; use a long random string (e.g. `openssl rand -hex 24`)",
                ));
            }
            other => other.map(|s| s.trim().to_owned()),
        };

        let trusted_proxies = match (&cli.trusted_proxies, &file.trusted_proxies) {
            (Some(flag), _) => regent_domain::access::TrustedProxies::parse([flag.as_str()]),
            (None, Some(list)) => regent_domain::access::TrustedProxies::parse(list.iter().map(String::as_str)),
            (None, None) => Ok(Default::default()),
        }
        .map_err(|e| bad(&TRUSTED_PROXIES, e))?;
        let public_url = match cli.public_url.clone().or(file.public_url) {
            None => None,
            Some(text) => {
                let example = "write it like https://regent.example.com";
                let url = Url::parse(text.trim())
                    .map_err(|e| bad(&PUBLIC_URL, format!("\"{text}\" is not a URL ({e}); {example}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(bad(&PUBLIC_URL, format!("\"{text}\" is not an http(s) URL; {example}")));
                }
                Some(url)
            }
        };

        // Production (issue 19).
        let metrics_listen = match cli.metrics_listen.clone().or(file.metrics.listen) {
            None => None,
            Some(text) => Some(text.trim().parse::<SocketAddr>().map_err(|_| {
                bad(
                    &METRICS_LISTEN,
                    format!("\"{text}\" is not an address and port; write it like 0.0.0.0:9090"),
                )
            })?),
        };
        let shutdown_grace = number(
            &SHUTDOWN_GRACE,
            cli.shutdown_grace_seconds.as_deref(),
            file.shutdown_grace_seconds,
            20,
            1..=3600,
            "seconds",
        )?;

        let directory = directory_settings(cli, file.directory)?;

        prepare_data_dir(&data_dir)?;
        let admin_password = match cli.admin_password.clone() {
            Some(p) if p.chars().count() < 10 => {
                return Err(bad(
                    &ADMIN_PASSWORD,
                    "is shorter than 10 characters; choose a longer one (or unset it to get a random one)",
                ));
            }
            other => other,
        };
        let site_root = cli
            .site_root
            .clone()
            .or(file.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));

        let index = IndexSettings {
            concurrency: concurrency as usize,
            reconcile_every: Duration::from_secs(reconcile),
            snapshot: Some(data_dir.join(regent_domain::index::snapshot::SNAPSHOT_FILE)),
            snapshot_every: Duration::from_secs(snapshot_interval),
            ..IndexSettings::default()
        };
        Ok(Self {
            listen,
            registry_url,
            registry_credentials: credentials,
            registry_timeout: Duration::from_secs(timeout),
            pull_host,
            openshift,
            data_dir,
            admin_password,
            site_root,
            index,
            notifications_secret,
            session_idle: Duration::from_secs(session_idle * minute),
            session_max_age: Duration::from_secs(session_max * 60 * minute),
            session_secure_cookie,
            audit_retention_days,
            token,
            trusted_proxies,
            public_url,
            metrics_listen,
            shutdown_grace: Duration::from_secs(shutdown_grace),
            directory,
        })
    }

    /// The settings as TOML-ish text with secrets replaced, for `--print-config` and logs.
    pub fn describe(&self) -> String {
        // Production (issue 19): a top-level key first, its [metrics] table last.
        format!("shutdown_grace_seconds = {}\n", self.shutdown_grace.as_secs())
            + &format!(
                "listen = \"{}\"\ndata_dir = \"{}\"\nsite_root = \"{}\"\ntrusted_proxies = {:?}\npublic_url = \"{}\"\n[registry]\nurl = \"{}\"\npull_host = \"{}\"\ncredentials = \"{}\"\ntimeout_seconds = {}\n\
             [index]\ncrawl_concurrency = {}\nreconcile_interval_seconds = {}\nsnapshot_interval_seconds = {}\n[notifications]\nsecret = \"{}\"\n\
             [session]\nidle_minutes = {}\nmax_hours = {}\nsecure_cookie = {}\n[audit]\nretention_days = {}\n\
             [token]\nservice = \"{}\"\nissuer = \"{}\"\nlifetime_minutes = {}\n\
             [openshift]\nmode = \"{}\"\nkubeconfig = \"{}\"\ncontext = \"{}\"\nrecheck_seconds = {}\n",
                self.listen,
                self.data_dir.display(),
                self.site_root.display(),
                self.trusted_proxies.to_strings(),
                self.public_url
                    .as_ref()
                    .map_or_else(|| "(not set)".to_owned(), Url::to_string),
                self.registry_url
                    .as_ref()
                    .map_or_else(|| "(found on the OpenShift cluster)".to_owned(), Url::to_string),
                self.pull_host.as_deref().unwrap_or("(the registry's host)"),
                self.registry_credentials.describe(),
                self.registry_timeout.as_secs(),
                self.index.concurrency,
                self.index.reconcile_every.as_secs(),
                self.index.snapshot_every.as_secs(),
                if self.notifications_secret.is_some() {
                    "(set)"
                } else {
                    "(not set: endpoint off)"
                },
                self.session_idle.as_secs() / 60,
                self.session_max_age.as_secs() / 3600,
                self.session_secure_cookie,
                self.audit_retention_days,
                self.token.service,
                self.token.issuer,
                self.token.lifetime.as_secs() / 60,
                match self.openshift.mode {
                    OpenShiftMode::Auto => "auto",
                    OpenShiftMode::Off => "off",
                    OpenShiftMode::Required => "required",
                },
                self.openshift.kubeconfig.as_ref().map_or_else(
                    || "(KUBECONFIG, ~/.kube/config or in-cluster)".to_owned(),
                    |p| p.display().to_string()
                ),
                self.openshift.context.as_deref().unwrap_or("(current)"),
                self.openshift.recheck_every.as_secs(),
            )
            + &self.describe_directory()
            + &format!(
                "[metrics]\nlisten = \"{}\"\n",
                self.metrics_listen.map_or_else(
                    || "(not set: /metrics on the main address)".to_owned(),
                    |a| a.to_string()
                ),
            )
    }

    /// The `[directory]` table of [`Settings::describe`], the password hidden.
    fn describe_directory(&self) -> String {
        let Some(directory) = &self.directory else {
            return "[directory]\nurl = \"(not set: local users only)\"\n".to_owned();
        };
        let mut out = "[directory]\n".to_owned();
        for (key, value) in directory.describe() {
            out.push_str(&format!("{} = \"{value}\"\n", key.trim_start_matches("directory.")));
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

/// The error for a registry URL that is neither configured nor found on a cluster.
/// The `directory.*` settings, checked by the domain (which names the setting at fault).
fn directory_settings(
    cli: &Cli,
    file: FileDirectory,
) -> Result<Option<regent_domain::directory::DirectorySettings>, ConfigError> {
    use regent_domain::directory::{DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_SECONDS, DirectoryInput, DirectorySettings};
    let url = cli.directory_url.clone().or(file.url);
    if url.is_none() {
        return Ok(None);
    }
    let bind_password = match cli.directory_bind_password_file.clone().or(file.bind_password_file) {
        Some(path) => Some(read_secret(&path).map_err(|e| bad(&DIRECTORY_BIND_PASSWORD_FILE, e.message))?),
        None => None,
    };
    let timeout = number(
        &DIRECTORY_TIMEOUT,
        cli.directory_timeout_seconds.as_deref(),
        file.timeout_seconds,
        DEFAULT_TIMEOUT_SECONDS,
        1..=60,
        "seconds",
    )?;
    let pool_size = number(
        &DIRECTORY_POOL_SIZE,
        cli.directory_pool_size.as_deref(),
        file.pool_size,
        DEFAULT_POOL_SIZE,
        1..=64,
        "connections",
    )?;
    let cache = match std::env::var(TESTING_DIRECTORY_CACHE) {
        Err(_) => None,
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n @ 1..=60) => Some(Duration::from_secs(n)),
            _ => {
                return Err(bad(
                    &DIRECTORY_URL,
                    format!("{TESTING_DIRECTORY_CACHE}={text:?}: a number of seconds from 1 to 60 (for tests only)"),
                ));
            }
        },
    };
    DirectorySettings::parse(DirectoryInput {
        url,
        starttls: cli.directory_starttls.or(file.starttls),
        ca_file: cli.directory_ca_file.clone().or(file.ca_file),
        bind_dn: cli.directory_bind_dn.clone().or(file.bind_dn),
        bind_password,
        user_base: cli.directory_user_base.clone().or(file.user_base),
        user_filter: cli.directory_user_filter.clone().or(file.user_filter),
        group_base: cli.directory_group_base.clone().or(file.group_base),
        group_filter: cli.directory_group_filter.clone().or(file.group_filter),
        group_name_attribute: cli.directory_group_name_attribute.clone().or(file.group_name_attribute),
        timeout_seconds: Some(timeout),
        kind: cli.directory_kind.clone().or(file.kind),
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
        let all: [&'static Setting; 13] = [
            &DIRECTORY_URL,
            &DIRECTORY_STARTTLS,
            &DIRECTORY_CA_FILE,
            &DIRECTORY_BIND_DN,
            &DIRECTORY_BIND_PASSWORD_FILE,
            &DIRECTORY_USER_BASE,
            &DIRECTORY_USER_FILTER,
            &DIRECTORY_GROUP_BASE,
            &DIRECTORY_GROUP_FILTER,
            &DIRECTORY_GROUP_NAME_ATTRIBUTE,
            &DIRECTORY_TIMEOUT,
            &DIRECTORY_KIND,
            &DIRECTORY_POOL_SIZE,
        ];
        let setting = all
            .into_iter()
            .filter(|s| message.starts_with(s.file_key))
            .max_by_key(|s| s.file_key.len())
            .unwrap_or(&DIRECTORY_URL);
        bad(setting, message)
    })
}

pub fn missing_registry_url() -> ConfigError {
    bad(
        &REGISTRY_URL,
        "is required: the base URL of the registry to administer, e.g. http://127.0.0.1:5000 \
         (on OpenShift Regent finds the integrated registry itself when it can reach the cluster)",
    )
}

/// `host[:port]` of the registry URL, as `docker pull` wants it.
fn default_pull_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or("localhost");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn parse_pull_host(text: &str) -> Result<String, ConfigError> {
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
            &REGISTRY_PULL_HOST,
            format!(
                "\"{text}\" is not a host[:port]; write it like registry.example.com or 10.0.0.5:5000 (no http://, no path)"
            ),
        ))
    }
}

fn parse_registry_url(text: &str) -> Result<Url, ConfigError> {
    let example = "write it like http://127.0.0.1:5000 or https://registry.example.com";
    let url =
        Url::parse(text.trim()).map_err(|e| bad(&REGISTRY_URL, format!("\"{text}\" is not a URL ({e}); {example}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(
            &REGISTRY_URL,
            format!("\"{text}\" must start with http:// or https://; {example}"),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(&REGISTRY_URL, format!("\"{text}\" has no host; {example}")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            &REGISTRY_URL,
            "must not contain credentials; put them in registry.username and registry.password instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            &REGISTRY_URL,
            format!("\"{text}\" must not have a query or fragment; {example}"),
        ));
    }
    if url.path().trim_end_matches('/').ends_with("/v2") {
        return Err(bad(
            &REGISTRY_URL,
            format!("\"{text}\" ends in /v2; give the registry's root, Regent adds /v2/ itself"),
        ));
    }
    Ok(url)
}

fn read_secret(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(&REGISTRY_PASSWORD_FILE, format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_owned();
    if secret.is_empty() {
        return Err(bad(&REGISTRY_PASSWORD_FILE, format!("{} is empty", path.display())));
    }
    Ok(secret)
}

fn read_file(cli: &Cli) -> Result<FileSettings, ConfigError> {
    match &cli.config {
        None => Ok(FileSettings::default()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(&CONFIG, format!("cannot read {}: {e}", path.display())))?;
            toml::from_str(&text).map_err(|e| bad(&CONFIG, format!("{} is not valid: {e}", path.display())))
        }
    }
}

fn resolve_data_dir(cli: &Cli, file: &FileSettings) -> PathBuf {
    cli.data_dir
        .clone()
        .or(file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("regent-data"))
}

fn prepare_data_dir(path: &Path) -> Result<(), ConfigError> {
    if path.exists() && !path.is_dir() {
        return Err(bad(
            &DATA_DIR,
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
            .map_err(|e| bad(&DATA_DIR, format!("cannot create {}: {e}", path.display())))?;
    }
    // Unique per process, so two Regents starting on one data directory do not race.
    let probe = path.join(format!(".regent-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| bad(&DATA_DIR, format!("{} is not writable: {e}", path.display())))
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

fn session_minute_seconds() -> Result<u64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("regent").chain(args.iter().copied())).unwrap()
    }

    fn file(text: &str) -> FileSettings {
        toml::from_str(text).unwrap()
    }

    /// A data directory of its own for each test (tests run in parallel).
    fn data_dir() -> String {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("regent-config-test-{}-{n}", std::process::id()));
        dir.display().to_string()
    }

    /// README's settings table, row by row: (environment variable, flag).
    fn readme_settings() -> std::collections::BTreeSet<(String, String)> {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .expect("README has ## Configuration");
        let section = section.split("\n## ").next().unwrap_or_default();
        section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| file key"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
                (cells[2].to_owned(), cells[3].to_owned())
            })
            .collect()
    }

    #[test]
    fn the_readme_settings_table_lists_exactly_the_settings_regent_defines() {
        use clap::CommandFactory;
        let defined: std::collections::BTreeSet<(String, String)> = Cli::command()
            .get_arguments()
            .filter_map(|a| Some((a.get_env()?.to_str()?.to_owned(), format!("--{}", a.get_long()?))))
            .collect();
        let documented = readme_settings();
        let undocumented: Vec<_> = defined.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&defined).collect();
        assert!(
            undocumented.is_empty() && unknown.is_empty(),
            "README lacks {undocumented:?}; README lists settings Regent does not have: {unknown:?}"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let d = data_dir();
        let s = Settings::merge(
            &cli(&["--listen", "127.0.0.1:9999", "--data-dir", &d]),
            file("listen = \"127.0.0.1:1111\"\n[registry]\nurl = \"http://127.0.0.1:5000\"\n"),
        )
        .unwrap();
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.registry_url.unwrap().as_str(), "http://127.0.0.1:5000/");
    }

    #[test]
    fn audit_retention_defaults_to_400_days_and_out_of_range_values_are_refused() {
        let d = data_dir();
        let base = ["--registry-url", "http://127.0.0.1:5000", "--data-dir", &d];
        let defaults = Settings::merge(&cli(&base), FileSettings::default()).unwrap();
        assert_eq!(defaults.audit_retention_days, 400);
        assert!(defaults.describe().contains("[audit]\nretention_days = 400\n"));
        let from_file = Settings::merge(&cli(&base), file("[audit]\nretention_days = 30\n")).unwrap();
        assert_eq!(from_file.audit_retention_days, 30);
        let mut flags = base.to_vec();
        flags.extend(["--audit-retention-days", "90"]);
        let overridden = Settings::merge(&cli(&flags), file("[audit]\nretention_days = 30\n")).unwrap();
        assert_eq!(overridden.audit_retention_days, 90);
        for (value, says) in [
            ("0", "use 1 to 36500 days"),
            ("36501", "audit.retention_days"),
            ("a year", "REGENT_AUDIT_RETENTION_DAYS"),
        ] {
            let mut args = base.to_vec();
            args.extend(["--audit-retention-days", value]);
            let e = Settings::merge(&cli(&args), FileSettings::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{value}: {e}");
        }
    }

    #[test]
    fn session_lifetimes_come_from_file_or_flags_and_out_of_range_values_are_refused() {
        let d = data_dir();
        let base = ["--registry-url", "http://127.0.0.1:5000", "--data-dir", &d];
        let defaults = Settings::merge(&cli(&base), FileSettings::default()).unwrap();
        assert_eq!(defaults.session_idle, Duration::from_secs(480 * 60));
        assert_eq!(defaults.session_max_age, Duration::from_secs(168 * 3600));
        assert!(!defaults.session_secure_cookie);
        let from_file = Settings::merge(
            &cli(&base),
            file("[session]\nidle_minutes = 30\nmax_hours = 12\nsecure_cookie = true\n"),
        )
        .unwrap();
        assert_eq!(from_file.session_idle, Duration::from_secs(30 * 60));
        assert_eq!(from_file.session_max_age, Duration::from_secs(12 * 3600));
        assert!(from_file.session_secure_cookie);
        let mut flags = base.to_vec();
        flags.extend(["--session-idle-minutes", "60"]);
        let overridden = Settings::merge(&cli(&flags), file("[session]\nidle_minutes = 30\n")).unwrap();
        assert_eq!(overridden.session_idle, Duration::from_secs(3600));
        for (flag, value, says) in [
            ("--session-idle-minutes", "1", "session.idle_minutes"),
            ("--session-idle-minutes", "forever", "--session-idle-minutes"),
            ("--session-max-hours", "0", "REGENT_SESSION_MAX_HOURS"),
            ("--session-max-hours", "721", "session.max_hours"),
        ] {
            let mut args = base.to_vec();
            args.extend([flag, value]);
            let e = Settings::merge(&cli(&args), FileSettings::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{flag} {value}: {e}");
        }
    }

    #[test]
    fn pull_commands_use_the_registry_host_unless_told_otherwise() {
        let d = data_dir();
        let settings = |extra: &[&str]| {
            let mut args = vec!["--registry-url", "http://127.0.0.1:5000", "--data-dir", &d];
            args.extend_from_slice(extra);
            Settings::merge(&cli(&args), FileSettings::default())
        };
        let url = Url::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(settings(&[]).unwrap().pull_host_for(&url, None), "127.0.0.1:5000");
        assert_eq!(
            settings(&[])
                .unwrap()
                .pull_host_for(&url, Some("default-route.apps.example.com")),
            "default-route.apps.example.com",
            "on OpenShift: the route the image streams name"
        );
        let named = settings(&["--registry-pull-host", "registry.example.com"]).unwrap();
        assert_eq!(named.pull_host_for(&url, Some("elsewhere")), "registry.example.com");
        let e = settings(&["--registry-pull-host", "https://registry.example.com/v2"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--registry-pull-host") && e.contains("no http://"), "{e}");
    }

    #[test]
    fn a_missing_registry_url_names_all_three_spellings() {
        let d = data_dir();
        let e = Settings::merge(
            &cli(&["--data-dir", &d, "--openshift-mode", "off"]),
            FileSettings::default(),
        )
        .unwrap_err()
        .to_string();
        let found_later = Settings::merge(&cli(&["--data-dir", &d]), FileSettings::default()).unwrap();
        assert!(
            found_later.registry_url.is_none(),
            "auto: looked for on the cluster at start-up"
        );
        assert_eq!(missing_registry_url().to_string(), e);
        for name in [
            "registry.url",
            "REGENT_REGISTRY_URL",
            "--registry-url",
            "http://127.0.0.1:5000",
        ] {
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn bad_urls_are_refused_with_what_to_write() {
        for bad in [
            "localhost:5000",
            "ftp://x",
            "http://",
            "http://u:p@x",
            "http://x/v2/",
            "http://x?q=1",
            "not a url",
        ] {
            let e = parse_registry_url(bad).unwrap_err().to_string();
            assert!(e.contains("registry.url"), "{bad}: {e}");
        }
        assert!(parse_registry_url("https://registry.example.com:5000").is_ok());
    }

    #[test]
    fn credentials_must_be_complete_and_unambiguous() {
        let d = data_dir();
        let url = ["--registry-url", "http://127.0.0.1:5000", "--data-dir", &d];
        let with = |extra: &[&str]| {
            let mut args = url.to_vec();
            args.extend_from_slice(extra);
            Settings::merge(&cli(&args), FileSettings::default())
        };
        assert_eq!(with(&[]).unwrap().registry_credentials, Credentials::None);
        assert!(matches!(
            with(&["--registry-username", "u", "--registry-password", "p"])
                .unwrap()
                .registry_credentials,
            Credentials::Basic { .. }
        ));
        assert!(matches!(
            with(&["--registry-token", "t"]).unwrap().registry_credentials,
            Credentials::Bearer { .. }
        ));
        assert!(
            with(&["--registry-username", "u"])
                .unwrap_err()
                .to_string()
                .contains("no password")
        );
        assert!(
            with(&["--registry-password", "p"])
                .unwrap_err()
                .to_string()
                .contains("no username")
        );
        assert!(
            with(&[
                "--registry-token",
                "t",
                "--registry-username",
                "u",
                "--registry-password",
                "p"
            ])
            .is_err()
        );
        assert!(
            with(&["--registry-timeout-seconds", "soon"])
                .unwrap_err()
                .to_string()
                .contains("REGENT_REGISTRY_TIMEOUT_SECONDS")
        );
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        assert!(toml::from_str::<FileSettings>("lisen = \"x\"").is_err());
        assert!(toml::from_str::<FileSettings>("[registry]\nurll = \"x\"").is_err());
    }

    #[test]
    fn the_description_never_shows_secrets() {
        let d = data_dir();
        let s = Settings::merge(
            &cli(&[
                "--registry-url",
                "http://r:5000",
                "--registry-username",
                "u",
                "--registry-password",
                "hunter2",
                "--data-dir",
                &d,
            ]),
            FileSettings::default(),
        )
        .unwrap();
        assert!(!s.describe().contains("hunter2"));
    }

    #[test]
    fn the_company_directory_comes_from_the_file_with_flags_over_it_and_its_password_hidden() {
        let d = data_dir();
        let secret = std::env::temp_dir().join(format!("regent-config-directory-{}", std::process::id()));
        std::fs::write(&secret, "service-secret-42\n").unwrap();
        let text = format!(
            "[directory]\nurl = \"ldaps://dc1.hackershop.lan\"\nkind = \"active-directory\"\nbind_dn = \"cn=regent,dc=hackershop,dc=lan\"\n\
             bind_password_file = \"{}\"\nuser_base = \"ou=people,dc=hackershop,dc=lan\"\ntimeout_seconds = 3\n",
            secret.display()
        );
        let s = Settings::merge(
            &cli(&[
                "--registry-url",
                "http://r:5000",
                "--data-dir",
                &d,
                "--directory-pool-size",
                "2",
            ]),
            file(&text),
        )
        .unwrap();
        let directory = s.directory.clone().expect("a directory");
        assert_eq!(directory.bind_password, "service-secret-42");
        assert_eq!(directory.pool_size, 2);
        assert_eq!(directory.timeout.as_secs(), 3);
        assert_eq!(directory.user_filter.as_str(), "(sAMAccountName={username})");
        assert!(!s.describe().contains("service-secret-42"));
        assert!(s.describe().contains("url = \"ldaps://dc1.hackershop.lan\""));
        let none = Settings::merge(
            &cli(&["--registry-url", "http://r:5000", "--data-dir", &d]),
            FileSettings::default(),
        )
        .unwrap();
        assert!(none.directory.is_none());
        let e = Settings::merge(
            &cli(&[
                "--registry-url",
                "http://r:5000",
                "--data-dir",
                &d,
                "--directory-url",
                "ldap://dc1",
            ]),
            FileSettings::default(),
        )
        .unwrap_err();
        assert_eq!(e.setting.file_key, "directory.bind_dn", "{e}");
        let e = Settings::merge(
            &cli(&[
                "--registry-url",
                "http://r:5000",
                "--data-dir",
                &d,
                "--directory-kind",
                "novell",
            ]),
            file(&text),
        )
        .unwrap_err();
        assert_eq!(e.setting.flag, "--directory-kind", "{e}");
    }

    // Production (issue 19).
    #[test]
    fn metrics_listen_and_shutdown_grace_come_from_file_or_flags() {
        let d = data_dir();
        let base = ["--registry-url", "http://127.0.0.1:5000", "--data-dir", &d];
        let defaults = Settings::merge(&cli(&base), FileSettings::default()).unwrap();
        assert_eq!(defaults.metrics_listen, None);
        assert_eq!(defaults.shutdown_grace, Duration::from_secs(20));
        let text = "shutdown_grace_seconds = 5\n[metrics]\nlisten = \"0.0.0.0:9090\"\n";
        let from_file = Settings::merge(&cli(&base), file(text)).unwrap();
        assert_eq!(from_file.metrics_listen, Some("0.0.0.0:9090".parse().unwrap()));
        assert_eq!(from_file.shutdown_grace, Duration::from_secs(5));
        assert!(from_file.describe().contains("[metrics]\nlisten = \"0.0.0.0:9090\"\n"));
        let mut flags = base.to_vec();
        flags.extend(["--shutdown-grace-seconds", "7", "--metrics-listen", "127.0.0.1:9191"]);
        let overridden = Settings::merge(&cli(&flags), file(text)).unwrap();
        assert_eq!(overridden.shutdown_grace, Duration::from_secs(7));
        assert_eq!(overridden.metrics_listen.unwrap().port(), 9191);
        for (flag, value, says) in [
            ("--shutdown-grace-seconds", "0", "use 1 to 3600 seconds"),
            ("--metrics-listen", "9090", "metrics.listen"),
        ] {
            let mut args = base.to_vec();
            args.extend([flag, value]);
            let e = Settings::merge(&cli(&args), FileSettings::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{value}: {e}");
        }
    }
}
