//! Regent as the token service of the real Debian registry (`auth: token`), with skopeo as the
//! client: the registry lets each member of Sarah's team do exactly what Regent's grants say,
//! refuses tokens Regent did not sign as they are, and Regent answers malformed token
//! requests with a 400 that says what is wrong.

use regent_domain::access::{Grant, Level, Name, Scope, Subject};
use regent_domain::store::{Actor, Store};
use regent_testkit::image::{single_file_image, write_oci_layout};
use regent_testkit::podman::podman;
use regent_testkit::regent::RegentProcess;
use regent_testkit::skopeo::skopeo;
use regent_testkit::{RegistryAuth, RegistryOptions, TestRegistry, free_port};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const SERVICE: &str = "test-registry";
const ISSUER: &str = "regent-test";
const PASSWORD: &str = "a long enough password";

struct Stack {
    regent: RegentProcess,
    registry: TestRegistry,
    store: Store,
    layout: std::path::PathBuf,
    data: std::path::PathBuf,
    bundle: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Sarah's team in the store, Regent started, then the registry trusting Regent's key.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("regent-data");
        std::fs::create_dir_all(&data).unwrap();
        let store = Store::open(&data.join("regent.db")).await.unwrap();
        store.ensure_admin(Some("the admin password")).await.unwrap();
        let sarah = Actor::new("admin", "127.0.0.1");
        let n = |s: &str| Name::parse(s).unwrap();
        for user in ["jane", "eric", "greg", "ops"] {
            store.create_user(&sarah, &n(user), PASSWORD, false).await.unwrap();
        }
        store.create_group(&sarah, &n("qa")).await.unwrap();
        store.add_member(&sarah, &n("qa"), &n("greg"), false).await.unwrap();
        for (subject, scope, level) in [
            ("user:jane", "skyfield", Level::Write),
            ("user:eric", "skyfield", Level::Write),
            ("group:qa", "skyfield", Level::Read),
            ("user:ops", "skyfield", Level::Delete),
            ("anonymous", "public/*", Level::Read),
        ] {
            let grant = Grant {
                subject: Subject::parse(subject).unwrap(),
                scope: Scope::parse(scope).unwrap(),
                level,
            };
            store.put_grant(&sarah, &grant).await.unwrap();
        }

        let registry_port = free_port();
        let regent = RegentProcess::start(
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
        )
        .await;
        let bundle = dir.path().join("bundle.pem");
        let (status, pem) = regent.get("/auth/certs.pem").await;
        assert_eq!(status, 200);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        std::fs::write(&bundle, pem).unwrap();
        let registry = TestRegistry::start_with(RegistryOptions {
            auth: RegistryAuth::Token {
                realm: format!("{}/auth/token", regent.base()),
                service: SERVICE.into(),
                issuer: ISSUER.into(),
                rootcertbundle: bundle.clone(),
            },
            port: Some(registry_port),
            ..RegistryOptions::default()
        })
        .await
        .unwrap();
        let layout = dir.path().join("layout");
        let image = single_file_image("skyfield build 1").unwrap();
        write_oci_layout(&layout, &[("app", &image)]).unwrap();
        Self {
            regent,
            registry,
            store,
            layout,
            data,
            bundle,
            _dir: dir,
        }
    }

    fn image(&self, repository_tag: &str) -> String {
        format!("docker://{}/{repository_tag}", self.registry.host())
    }

    /// `skopeo copy` of the test image to `repository_tag` as `user`.
    fn push(&self, user: Option<&str>, repository_tag: &str) -> (bool, String) {
        let source = format!("oci:{}:app", self.layout.display());
        let destination = self.image(repository_tag);
        let creds = user.map(|u| format!("--dest-creds={u}:{PASSWORD}"));
        let mut args = vec!["copy", "--dest-tls-verify=false"];
        args.extend(creds.as_deref());
        args.extend([source.as_str(), destination.as_str()]);
        skopeo(&args)
    }

    /// `skopeo inspect` (a pull of the manifest and config) as `user`.
    fn pull(&self, user: Option<&str>, repository_tag: &str) -> (bool, String) {
        let image = self.image(repository_tag);
        let creds = user.map(|u| format!("--creds={u}:{PASSWORD}"));
        let mut args = vec!["inspect", "--tls-verify=false"];
        args.extend(creds.as_deref());
        args.push(&image);
        skopeo(&args)
    }

    fn delete(&self, user: &str, repository_tag: &str) -> (bool, String) {
        let image = self.image(repository_tag);
        let creds = format!("--creds={user}:{PASSWORD}");
        skopeo(&["delete", "--tls-verify=false", &creds, &image])
    }
}

#[tokio::test]
async fn the_registry_lets_each_of_sarahs_team_do_exactly_what_regent_grants() {
    let stack = Stack::start().await;

    // Jane pushes; Eric pulls and pushes a new tag.
    let (ok, out) = stack.push(Some("jane"), "skyfield:1.0");
    assert!(ok, "jane's push: {out}");
    let (ok, out) = stack.pull(Some("eric"), "skyfield:1.0");
    assert!(ok, "eric's pull: {out}");
    let (ok, out) = stack.push(Some("eric"), "skyfield:1.1");
    assert!(ok, "eric's push: {out}");

    // Greg (QA) pulls, but the registry refuses his push.
    let (ok, out) = stack.pull(Some("greg"), "skyfield:1.0");
    assert!(ok, "greg's pull: {out}");
    let (ok, out) = stack.push(Some("greg"), "skyfield:greg");
    assert!(!ok && out.contains("denied"), "greg's push must be denied: {out}");

    // A stranger pulls nothing private; anyone pulls from the public namespace.
    let (ok, out) = stack.pull(None, "skyfield:1.0");
    assert!(!ok && out.contains("denied"), "{out}");
    let (ok, out) = stack.push(Some("admin"), "public/tools:1");
    assert!(
        !ok && out.contains("wrong user name or password"),
        "admin's password is not PASSWORD: {out}"
    );
    let admin_copy = {
        let source = format!("oci:{}:app", stack.layout.display());
        let destination = stack.image("public/tools:1");
        skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds=admin:the admin password",
            &source,
            &destination,
        ])
    };
    assert!(admin_copy.0, "the admin pushes anywhere: {}", admin_copy.1);
    let (ok, out) = stack.pull(None, "public/tools:1");
    assert!(ok, "anonymous pull of a public image: {out}");
    let (ok, out) = stack.pull(Some("jane"), "public/tools:1");
    assert!(ok, "signed-in users get what anonymous gets: {out}");

    // Deleting needs the delete level.
    let (ok, out) = stack.delete("jane", "skyfield:1.1");
    assert!(
        !ok && out.contains("UNAUTHORIZED") && out.contains("delete"),
        "the registry refuses jane's delete for want of the delete action: {out}"
    );
    let (ok, out) = stack.delete("ops", "skyfield:1.1");
    assert!(ok, "ops deletes: {out}");

    // skopeo login: right and wrong passwords.
    let auth = tempfile::tempdir().unwrap();
    let authfile = auth.path().join("auth.json");
    let authfile = authfile.to_str().unwrap();
    let host = stack.registry.host();
    let login = |password: &str| {
        skopeo(&[
            "login",
            "--tls-verify=false",
            "--authfile",
            authfile,
            "-u",
            "greg",
            "-p",
            password,
            &host,
        ])
    };
    let (ok, out) = login(PASSWORD);
    assert!(ok && out.contains("Login Succeeded"), "{out}");
    let (ok, out) = login("wrong password!");
    assert!(!ok && out.contains("invalid username/password"), "{out}");

    // Disabling Greg applies to his very next request, though his password was just checked.
    stack
        .store
        .set_disabled(&Actor::cli(), &Name::parse("greg").unwrap(), true)
        .await
        .unwrap();
    let (ok, out) = stack.pull(Some("greg"), "skyfield:1.0");
    assert!(
        !ok && out.contains("wrong user name or password"),
        "a disabled user is refused at once: {out}"
    );
}

#[tokio::test]
async fn a_service_account_pushes_from_ci_and_a_new_token_revokes_the_old_one_at_once() {
    let stack = Stack::start().await;
    let sarah = Actor::new("admin", "127.0.0.1");
    let ci = Name::parse("ci").unwrap();
    let token = stack.store.create_service_account(&sarah, &ci).await.unwrap();
    assert!(token.starts_with("regent_") && token.len() == 47, "{token}");
    let grant = Grant {
        subject: Subject::User(ci.clone()),
        scope: Scope::parse("skyfield").unwrap(),
        level: Level::Write,
    };
    stack.store.put_grant(&sarah, &grant).await.unwrap();

    let push = |secret: &str, tag: &str| {
        let source = format!("oci:{}:app", stack.layout.display());
        let destination = stack.image(&format!("skyfield:{tag}"));
        skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            &format!("--dest-creds=ci:{secret}"),
            &source,
            &destination,
        ])
    };
    let (ok, out) = push(&token, "ci-1");
    assert!(ok, "CI pushes with its token: {out}");
    let newer = stack.store.new_service_token(&sarah, &ci).await.unwrap();
    assert_ne!(newer, token);
    let (ok, out) = push(&token, "ci-2");
    assert!(
        !ok && out.contains("wrong user name or password"),
        "the old token stopped working at once: {out}"
    );
    let (ok, out) = push(&newer, "ci-2");
    assert!(ok, "the new token works: {out}");
    // A service account does not reach Regent's pages.
    let mut visitor = stack.regent.visitor();
    assert!(!visitor.sign_in("ci", &newer).await);
}

#[tokio::test]
async fn regent_reads_the_registry_with_tokens_it_signs_for_itself() {
    let stack = Stack::start().await;
    assert!(stack.push(Some("jane"), "skyfield:1.0").0);
    // No registry credentials are configured: the crawl answers the registry's challenges
    // with tokens Regent signs for exactly the scopes each call needs.
    let mut admin = stack.regent.visitor();
    assert!(admin.sign_in("admin", "the admin password").await);
    let mut page = (0, String::new());
    for _ in 0..300 {
        page = admin.get("/images/skyfield").await;
        if page.1.contains("data-fact=\"tags\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(page.0, 200, "skyfield is indexed: {}", page.1);
    assert!(page.1.contains("data-fact=\"tags\">1<"), "{}", page.1);
    let (status, page) = admin.get("/images/skyfield/tags/1.0").await;
    assert_eq!(status, 200, "the tag page reads the manifest live: {page}");
    // skopeo, an independent client, says which digest was pushed; the page must show it (a
    // refused read would answer 503 and show no digest).
    let (ok, inspected) = stack.pull(Some("jane"), "skyfield:1.0");
    assert!(ok, "{inspected}");
    let inspected: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    let digest = inspected["Digest"].as_str().unwrap();
    assert!(page.contains(&format!("@{digest}")), "the page shows {digest}: {page}");
}

#[tokio::test]
async fn podman_logs_in_pulls_and_pushes_as_the_grants_say() {
    let stack = Stack::start().await;
    assert!(stack.push(Some("jane"), "skyfield:1.0").0);
    let dir = tempfile::tempdir().unwrap();
    let host = stack.registry.host();
    let image = format!("{host}/skyfield:1.0");

    let (ok, out) = podman(
        dir.path(),
        &["login", "--tls-verify=false", "-u", "greg", "-p", PASSWORD, &host],
    );
    assert!(ok && out.contains("Login Succeeded"), "{out}");
    let (ok, out) = podman(dir.path(), &["pull", "--tls-verify=false", &image]);
    assert!(ok, "greg pulls: {out}");
    let copy = format!("{host}/skyfield:from-podman");
    let (ok, out) = podman(dir.path(), &["tag", &image, &copy]);
    assert!(ok, "{out}");
    let (ok, out) = podman(dir.path(), &["push", "--tls-verify=false", &copy]);
    assert!(
        !ok && out.contains("denied"),
        "greg's push is refused by the registry: {out}"
    );

    let (ok, out) = podman(
        dir.path(),
        &["login", "--tls-verify=false", "-u", "jane", "-p", PASSWORD, &host],
    );
    assert!(ok, "{out}");
    let (ok, out) = podman(dir.path(), &["push", "--tls-verify=false", &copy]);
    assert!(ok, "jane pushes: {out}");
    let (ok, out) = stack.pull(Some("greg"), "skyfield:from-podman");
    assert!(ok, "what jane pushed with podman is there: {out}");

    let (ok, out) = podman(
        dir.path(),
        &[
            "login",
            "--tls-verify=false",
            "-u",
            "jane",
            "-p",
            "wrong password!",
            &host,
        ],
    );
    assert!(!ok && out.contains("invalid username/password"), "{out}");
}

/// The registry's status for `GET /v2/skyfield/manifests/1.0` with `token`.
async fn manifest_status(stack: &Stack, token: String) -> u16 {
    reqwest::Client::new()
        .get(format!("{}v2/skyfield/manifests/1.0", stack.registry.url()))
        .bearer_auth(token)
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The token endpoint's raw answers.
async fn token(regent: &RegentProcess, query: &str, basic: Option<(&str, &str)>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{}/auth/token?{query}", regent.base()));
    if let Some((u, p)) = basic {
        request = request.basic_auth(u, Some(p));
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn malformed_token_requests_get_a_400_saying_what_is_wrong() {
    let stack = Stack::start().await;
    let regent = &stack.regent;
    let many = format!(
        "service=test-registry&{}",
        vec!["scope=repository:a:pull"; 65].join("&")
    );
    let cases: [(&str, &str); 7] = [
        ("service=another-registry", "set the registry's auth.token.service"),
        ("scope=repository:skyfield:pull", "the service parameter is missing"),
        ("service=test-registry&scope=repository:Skyfield:pull", "lowercase"),
        ("service=test-registry&scope=repository:skyfield", "not a scope"),
        ("service=test-registry&scope=%FF%FE", "not valid UTF-8"),
        ("service=test-registry&service=test-registry", "given twice"),
        (&many, "too many scopes"),
    ];
    for (query, says) in cases {
        let (status, body) = token(regent, query, None).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
    // Wrong credentials: 401, the same for an unknown user.
    for (user, password) in [("greg", "wrong password!"), ("nobody", PASSWORD)] {
        let (status, body) = token(regent, "service=test-registry", Some((user, password))).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"][0]["message"], "wrong user name or password");
    }
    // Asking for more than allowed is no error: the token carries what is allowed.
    let (status, body) = token(
        regent,
        "service=test-registry&scope=repository:skyfield:pull,push,delete&scope=registry:catalog:*",
        Some(("greg", PASSWORD)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].is_string() && body["access_token"] == body["token"]);
    assert_eq!(body["expires_in"], 900);

    // Guessing Eric's password through the token endpoint is throttled like the sign-in page,
    // and every failure and the refusal that followed are in the audit log.
    for _ in 0..5 {
        let (status, _) = token(regent, "service=test-registry", Some(("eric", "guess 123456"))).await;
        assert_eq!(status, 401);
    }
    let (status, body) = token(regent, "service=test-registry", Some(("eric", PASSWORD))).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("wait"),
        "{body}"
    );
    let refused = stack
        .store
        .audit_events(&regent_domain::store::AuditFilter {
            target: Some("user:eric".into()),
            outcome: Some("refused".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    // Identical refusals within a minute are one row with a count.
    assert_eq!(refused.iter().map(|e| e.count).sum::<i64>(), 6, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e.address == "127.0.0.1" && e.detail.contains("registry token"))
    );
}

#[tokio::test]
async fn the_registry_refuses_tokens_that_are_tampered_expired_or_meant_for_others() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let stack = Stack::start().await;
    assert!(stack.push(Some("jane"), "skyfield:1.0").0);
    let (_, body) = token(
        &stack.regent,
        "service=test-registry&scope=repository:skyfield:pull",
        Some(("greg", PASSWORD)),
    )
    .await;
    let good = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        manifest_status(&stack, good.clone()).await,
        200,
        "the token as signed works"
    );

    // Re-sign nothing, change the claims: the signature no longer matches.
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let with = |claims: &serde_json::Value| {
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap()),
            parts[2]
        )
    };
    claims["access"][0]["actions"] = serde_json::json!(["pull", "push", "delete"]);
    assert_eq!(manifest_status(&stack, with(&claims)).await, 401, "tampered claims");
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(signature));
    assert_eq!(manifest_status(&stack, flipped).await, 401, "tampered signature");

    // Validly signed tokens with the wrong audience, issuer or an expired time: a second Regent
    // sharing the store (so the key) but configured differently, and a 1-minute token aged past
    // the registry's 60 s leeway cannot be made quickly, so an expired one is signed here with
    // the stored key.
    let keys = stack.store.signing_keys().await.unwrap();
    let sign = |audience: &str, issuer: &str, exp_offset: i64| {
        let signer = regent_domain::token::Signer::new(
            &keys[0].material,
            regent_domain::token::TokenSettings {
                issuer: issuer.into(),
                service: audience.into(),
                lifetime: std::time::Duration::from_secs(900),
            },
        )
        .unwrap();
        let access = [regent_domain::token::AccessEntry {
            kind: "repository".into(),
            name: "skyfield".into(),
            actions: vec!["pull".into()],
        }];
        let minted = signer.mint("greg", &access).unwrap().token;
        if exp_offset == 0 {
            return minted;
        }
        // Move exp and re-sign with the same key through jsonwebtoken.
        let parts: Vec<&str> = minted.split('.').collect();
        let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let now = claims["iat"].as_i64().unwrap();
        claims["exp"] = serde_json::json!(now + exp_offset);
        claims["nbf"] = serde_json::json!(now + exp_offset - 900);
        let header: jsonwebtoken::Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_pem(keys[0].material.key_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    assert_eq!(
        manifest_status(&stack, sign(SERVICE, ISSUER, 0)).await,
        200,
        "the same key, right claims"
    );
    assert_eq!(
        manifest_status(&stack, sign("another-registry", ISSUER, 0)).await,
        401,
        "wrong audience"
    );
    assert_eq!(
        manifest_status(&stack, sign(SERVICE, "someone-else", 0)).await,
        401,
        "wrong issuer"
    );
    assert_eq!(
        manifest_status(&stack, sign(SERVICE, ISSUER, -120)).await,
        401,
        "expired 2 minutes ago"
    );
}

#[tokio::test]
async fn docker_login_posts_for_a_refresh_token_that_a_password_change_ends() {
    let stack = Stack::start().await;
    assert!(stack.push(Some("jane"), "skyfield:1.0").0);
    let post = |form: Vec<(&'static str, String)>| {
        let url = format!("{}/auth/token", stack.regent.base());
        async move {
            let r = reqwest::Client::new().post(url).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let common = || {
        vec![
            ("service", SERVICE.to_owned()),
            ("client_id", "docker".to_owned()),
            ("scope", "repository:skyfield:pull".to_owned()),
        ]
    };
    let mut login = common();
    login.extend([
        ("grant_type", "password".to_owned()),
        ("username", "greg".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("access_type", "offline".to_owned()),
    ]);
    let (status, body) = post(login).await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().expect("a refresh token").to_owned();

    let mut again = common();
    again.extend([
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh.clone()),
    ]);
    let (status, body) = post(again.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "only asked for offline access gets one"
    );
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(manifest_status(&stack, access).await, 200, "a refreshed token pulls");

    // The GET form gives one too when asked with offline_token=true.
    let (status, body) = token(
        &stack.regent,
        "service=test-registry&offline_token=true",
        Some(("greg", PASSWORD)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["refresh_token"].is_string(), "{body}");

    // A new password ends every refresh token issued before it.
    stack
        .store
        .set_password(&Actor::cli(), &Name::parse("greg").unwrap(), "another long password")
        .await
        .unwrap();
    let (status, body) = post(again).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("log in again"));

    // Malformed forms.
    for (form, says) in [
        (vec![("grant_type", "client_credentials".to_owned())], "not supported"),
        (
            vec![("grant_type", "password".to_owned()), ("username", "greg".to_owned())],
            "needs username and password",
        ),
        (vec![("service", SERVICE.to_owned())], "grant_type is missing"),
        (vec![("grant_type", "refresh_token".to_owned())], "needs refresh_token"),
    ] {
        let (status, body) = post(form).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(says), "{body}");
    }
}

/// `regent --data-dir <data> <args>` from the shell.
fn regent_shell(data: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["--data-dir", data.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = regent_testkit::regent::command(REGENT, &all).output().unwrap();
    assert!(
        out.status.success(),
        "regent {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A token for Greg to pull `skyfield`.
async fn greg_pull_token(stack: &Stack) -> String {
    let (status, body) = token(
        &stack.regent,
        "service=test-registry&scope=repository:skyfield:pull",
        Some(("greg", PASSWORD)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_signing_key_is_rotated_in_two_steps_without_refusing_a_pull() {
    let mut stack = Stack::start().await;
    assert!(stack.push(Some("jane"), "skyfield:1.0").0);
    let kid = |token: &str| {
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let certificates = |pem: &str| pem.matches("BEGIN CERTIFICATE").count();
    let old = greg_pull_token(&stack).await;

    // Step 1: a pending key is published but does not sign.
    regent_shell(&stack.data, &["token", "new-key"]);
    let (_, bundle) = stack.regent.get("/auth/certs.pem").await;
    assert_eq!(certificates(&bundle), 2);
    assert_eq!(
        kid(&greg_pull_token(&stack).await),
        kid(&old),
        "the old key still signs"
    );
    std::fs::write(&stack.bundle, &bundle).unwrap();
    stack.registry.restart().await.unwrap();
    assert_eq!(manifest_status(&stack, old.clone()).await, 200);

    // Step 2: the new key signs; tokens of the old one keep working until they expire.
    regent_shell(&stack.data, &["token", "use-new-key"]);
    let new = greg_pull_token(&stack).await;
    assert_ne!(kid(&new), kid(&old), "the next token is signed with the new key");
    assert_eq!(manifest_status(&stack, new).await, 200);
    assert_eq!(
        manifest_status(&stack, old).await,
        200,
        "the retired key's tokens still pull"
    );
    let (_, bundle) = stack.regent.get("/auth/certs.pem").await;
    assert_eq!(
        certificates(&bundle),
        2,
        "the retired certificate stays published for now"
    );
    let (ok, out) = stack.pull(Some("greg"), "skyfield:1.0");
    assert!(ok, "{out}");
    let keys = regent_shell(&stack.data, &["token", "keys"]);
    assert!(keys.contains("\tactive\t") && keys.contains("\tretired\t"), "{keys}");
    // Nothing to activate twice.
    let mut all = vec!["--data-dir", stack.data.to_str().unwrap()];
    all.extend(["token", "use-new-key"]);
    let out = regent_testkit::regent::command(REGENT, &all).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pending signing key"));
}
