//! The settings: their sources and order, their checks and messages, and the README table.

use super::*;

fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("regent").chain(args.iter().copied())).unwrap()
}

fn file(text: &str) -> FileSettings {
    toml::from_str(text).unwrap()
}

/// Each `(flag, value, says)` after `base` (and no file) is refused with a message that
/// contains `says`.
fn assert_refused(base: &[&str], cases: &[(&str, &str, &str)]) {
    for (flag, value, says) in cases {
        let mut args = base.to_vec();
        args.extend([*flag, *value]);
        let e = Settings::merge(&cli(&args), FileSettings::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{flag} {value}: {e}");
    }
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
    let readme = include_str!("../../../README.md");
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
fn the_readme_settings_table_gives_each_file_key_and_number_default() {
    let readme = include_str!("../../../README.md");
    for s in SETTINGS {
        let row = readme.lines().find(|l| l.contains(&format!("| `{}` |", s.env())));
        let cells: Vec<&str> = row.expect("a README row").split('|').map(str::trim).collect();
        let file_key = s.not_in_file.map_or(format!("`{}`", s.key), |_| "—".to_owned());
        assert_eq!(cells[1], file_key, "the file key of {}", s.env());
        if let Kind::Number { default, .. } = s.kind {
            assert_eq!(cells[4], format!("`{default}`"), "{}", s.key);
        }
    }
}

/// Settings are named by their file key in the code; a misspelt one would panic when used.
#[test]
fn every_setting_the_code_names_is_defined() {
    let code = [include_str!("../config.rs"), include_str!("checks.rs")].concat();
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut named = 0;
    for call in [
        "bad(\"",
        "v.text(\"",
        "v.path(\"",
        "v.bool(\"",
        "v.list(\"",
        "v.number(\"",
        "setting(\"",
        "&path,\"",
    ] {
        for (at, _) in code.match_indices(call) {
            let key = code[at + call.len()..].split('"').next().unwrap();
            assert!(SETTINGS.iter().any(|s| s.key == key), "{call}{key}\" names no setting");
            named += 1;
        }
    }
    assert!(named > 50, "found only {named}");
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
    assert_refused(
        &base,
        &[
            ("--audit-retention-days", "0", "use 1 to 36500 days"),
            ("--audit-retention-days", "36501", "audit.retention_days"),
            ("--audit-retention-days", "a year", "REGENT_AUDIT_RETENTION_DAYS"),
        ],
    );
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
    assert_refused(
        &base,
        &[
            ("--session-idle-minutes", "1", "session.idle_minutes"),
            ("--session-idle-minutes", "forever", "--session-idle-minutes"),
            ("--session-max-hours", "0", "REGENT_SESSION_MAX_HOURS"),
            ("--session-max-hours", "721", "session.max_hours"),
        ],
    );
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
    assert_eq!(e.setting.file_key(), "directory.bind_dn", "{e}");
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
    assert_eq!(e.setting.flag(), "--directory-kind", "{e}");
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
    assert_refused(
        &base,
        &[
            ("--shutdown-grace-seconds", "0", "use 1 to 3600 seconds"),
            ("--metrics-listen", "9090", "metrics.listen"),
        ],
    );
}
