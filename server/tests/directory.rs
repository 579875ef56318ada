//! Sarah's story with the company directory, end to end: the real `regent` binary signs in
//! directory accounts from the real OpenLDAP server (`slapd`, over ldaps:// with a test CA),
//! is the token service of the real Debian registry, and `podman` and `skopeo` are the
//! clients. Group changes in the directory (`ldapmodify`) reach the registry at the next token
//! after the cache window; a stopped directory never locks out the local administrator.

use regent_domain::access::{Grant, Level, Scope, Subject};
use regent_domain::store::{Actor, Store};
use regent_testkit::directory::{GROUP_BASE, SERVICE_DN, SERVICE_PASSWORD, USER_BASE, password_of};
use regent_testkit::image::{single_file_image, write_oci_layout};
use regent_testkit::podman::podman;
use regent_testkit::regent::RegentProcess;
use regent_testkit::skopeo::skopeo;
use regent_testkit::{RegistryAuth, RegistryOptions, TestDirectory, TestRegistry, free_port};
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const SERVICE: &str = "test-registry";
const ISSUER: &str = "regent-test";
const ADMIN_PASSWORD: &str = "the admin password";
/// `REGENT_TESTING_DIRECTORY_CACHE_SECONDS` for these tests.
const WINDOW: Duration = Duration::from_secs(2);

struct Company {
    regent: RegentProcess,
    registry: TestRegistry,
    slapd: TestDirectory,
    store: Store,
    layout: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Company {
    async fn start() -> Self {
        let slapd = TestDirectory::start().await.expect("slapd");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("regent-data");
        std::fs::create_dir_all(&data).unwrap();
        let store = Store::open(&data.join("regent.db")).await.unwrap();
        store.ensure_admin(Some(ADMIN_PASSWORD)).await.unwrap();
        let secret = dir.path().join("directory-password");
        std::fs::write(&secret, format!("{SERVICE_PASSWORD}\n")).unwrap();
        let registry_port = free_port();
        let ldaps = slapd.ldaps_url();
        let ca = slapd.ca_file().display().to_string();
        let secret = secret.display().to_string();
        let window = WINDOW.as_secs().to_string();
        let regent = RegentProcess::start_with_env(
            REGENT,
            &format!("127.0.0.1:{}", free_port()),
            &[
                "--registry-url",
                &format!("http://127.0.0.1:{registry_port}"),
                "--data-dir",
                data.to_str().unwrap(),
                "--token-service",
                SERVICE,
                "--token-issuer",
                ISSUER,
            ],
            &[
                ("REGENT_DIRECTORY_URL", ldaps.as_str()),
                ("REGENT_DIRECTORY_CA_FILE", ca.as_str()),
                ("REGENT_DIRECTORY_BIND_DN", SERVICE_DN),
                ("REGENT_DIRECTORY_BIND_PASSWORD_FILE", secret.as_str()),
                ("REGENT_DIRECTORY_USER_BASE", USER_BASE),
                ("REGENT_DIRECTORY_GROUP_BASE", GROUP_BASE),
                ("REGENT_DIRECTORY_TIMEOUT_SECONDS", "2"),
                ("REGENT_TESTING_DIRECTORY_CACHE_SECONDS", window.as_str()),
            ],
        )
        .await;
        let bundle = dir.path().join("bundle.pem");
        let (status, pem) = regent.get("/auth/certs.pem").await;
        assert_eq!(status, 200);
        std::fs::write(&bundle, pem).unwrap();
        let registry = TestRegistry::start_with(RegistryOptions {
            auth: RegistryAuth::Token {
                realm: format!("{}/auth/token", regent.base()),
                service: SERVICE.into(),
                issuer: ISSUER.into(),
                rootcertbundle: bundle,
            },
            port: Some(registry_port),
            ..RegistryOptions::default()
        })
        .await
        .unwrap();
        // podman names an image pulled from an OCI layout after its path: keep it lowercase.
        let layout = std::env::temp_dir().join(format!("regent-directory-{}-{}", std::process::id(), free_port()));
        let image = single_file_image("skyfield build 1").unwrap();
        write_oci_layout(&layout, &[("app", &image)]).unwrap();
        Self {
            regent,
            registry,
            slapd,
            store,
            layout,
            _dir: dir,
        }
    }

    /// `GET /auth/token` for a pull and push of skyfield with Basic credentials: the status
    /// and the body.
    async fn token(&self, user: &str, password: &str) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .get(format!(
                "{}/auth/token?service={SERVICE}&scope=repository:skyfield:pull,push",
                self.regent.base()
            ))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }

    /// `skopeo inspect` (a pull of the manifest and config) as a directory user.
    fn pull(&self, user: &str, repository_tag: &str) -> (bool, String) {
        let image = format!("docker://{}/{repository_tag}", self.registry.host());
        let creds = format!("--creds={user}:{}", password_of(user));
        skopeo(&["inspect", "--tls-verify=false", &creds, &image])
    }

    async fn grant(&self, subject: &str, scope: &str, level: Level) {
        let grant = Grant {
            subject: Subject::parse(subject).unwrap(),
            scope: Scope::parse(scope).unwrap(),
            level,
        };
        self.store
            .put_grant(&Actor::new("admin", "127.0.0.1"), &grant)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn sarahs_team_uses_the_registry_with_their_directory_accounts_as_the_grants_and_groups_say() {
    let company = Company::start().await;
    // Everyone signs in once, which makes their Regent users and the directory's groups.
    for user in ["josh", "eric", "jane", "greg", "frank"] {
        let (status, body) = company.token(user, &password_of(user)).await;
        assert_eq!(status, 200, "{user}: {body}");
    }
    company.grant("group:qa", "skyfield", Level::Read).await;
    for user in ["josh", "eric", "jane"] {
        company.grant(&format!("user:{user}"), "skyfield", Level::Write).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let host = company.registry.host();
    let jane = password_of("jane");
    let (ok, out) = podman(
        dir.path(),
        &["login", "--tls-verify=false", "-u", "jane", "-p", &jane, &host],
    );
    assert!(
        ok && out.contains("Login Succeeded"),
        "jane logs in with her directory password: {out}"
    );
    let source = format!("oci:{}:app", company.layout.display());
    let (ok, out) = podman(dir.path(), &["pull", &source]);
    assert!(ok, "{out}");
    let (_, id) = podman(dir.path(), &["images", "-q"]);
    let id = id.lines().next().expect("the image pulled").trim().to_owned();
    let destination = format!("docker://{host}/skyfield:1.0");
    let (ok, out) = podman(dir.path(), &["push", "--tls-verify=false", &id, &destination]);
    assert!(ok, "jane pushes: {out}");

    let (ok, out) = company.pull("greg", "skyfield:1.0");
    assert!(ok, "greg (QA in the directory) pulls: {out}");
    let greg = password_of("greg");
    let (ok, out) = podman(
        dir.path(),
        &["login", "--tls-verify=false", "-u", "greg", "-p", &greg, &host],
    );
    assert!(ok, "{out}");
    let (ok, out) = podman(dir.path(), &["push", "--tls-verify=false", &id, &destination]);
    assert!(
        !ok && out.contains("denied"),
        "greg's push is refused by the registry: {out}"
    );

    company.slapd.remove_member("qa", "greg").expect("ldapmodify");
    tokio::time::sleep(WINDOW + Duration::from_millis(500)).await;
    let (ok, out) = company.pull("greg", "skyfield:1.0");
    assert!(!ok, "greg, no longer in QA, cannot pull: {out}");
    let (ok, out) = company.pull("frank", "skyfield:1.0");
    assert!(ok, "frank still can: {out}");

    for (user, password) in [
        ("olddev", password_of("olddev")),
        ("jane", "not-her-password".to_owned()),
        ("nobody", "some-password".to_owned()),
        ("*)(uid=*", password_of("jane")),
        ("jane", String::new()),
    ] {
        let (status, body) = company.token(user, &password).await;
        assert_eq!(status, 401, "{user:?} with {password:?}: {body}");
    }
    let (status, _) = company.token("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "the local admin still works");
}

#[tokio::test]
async fn with_the_directory_stopped_the_admin_signs_in_and_directory_users_are_told_which_directory() {
    let mut company = Company::start().await;
    let (status, _) = company.token("eric", &password_of("eric")).await;
    assert_eq!(status, 200);
    company.slapd.stop();
    tokio::time::sleep(WINDOW + Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, body) = company.token("eric", &password_of("eric")).await;
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(status, 503, "{body}");
    let message = body.to_string();
    assert!(
        message.contains(&company.slapd.ldaps_url()) && message.contains("local accounts still work"),
        "{message}"
    );
    let mut visitor = company.regent.visitor();
    assert!(
        visitor.sign_in("admin", ADMIN_PASSWORD).await,
        "the admin is never locked out"
    );
    let (status, ready) = visitor.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["directory"]["reachable"], false, "{ready}");
    assert_eq!(ready["directory"]["url"], company.slapd.ldaps_url());
    let mut eric = company.regent.visitor();
    assert!(!eric.sign_in("eric", &password_of("eric")).await);
}
