//! Signing in under attack, against the `regent` binary: guesses sent all at once, a flood of
//! made-up names from many addresses, someone trying to lock `admin` out, forged
//! `X-Forwarded-For`, and hostile `next` links. Both doors are driven: the sign-in form
//! (`/api/login`) and the registry's token endpoint (`docker login`).
//!
//! Every client binds its own loopback source address (127.0.0.x), so "many addresses" are
//! real TCP peers; only 127.0.0.0/8 is used.

use regent_domain::access::Name;
use regent_domain::store::{Actor, AuditFilter, Store};
use regent_testkit::free_port;
use regent_testkit::regent::RegentProcess;
use std::net::IpAddr;
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const PASSWORD: &str = "eric's long password";

struct Signed {
    regent: RegentProcess,
    store: Store,
    _dir: tempfile::TempDir,
}

/// Regent with the users `admin` and `eric`, no registry needed (only its token endpoint and
/// sign-in page are used).
async fn start(extra: &[&str]) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open(&data.join("regent.db")).await.unwrap();
    store.ensure_admin(Some("the admin password")).await.unwrap();
    let eric = Name::parse("eric").unwrap();
    store
        .create_user(&Actor::new("admin", "127.0.0.1"), &eric, PASSWORD, false)
        .await
        .unwrap();
    let mut args = vec![
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    // Listens on every loopback address, so clients from 127.0.0.x reach it as themselves.
    let port = free_port();
    let regent = RegentProcess::start(REGENT, &format!("127.0.0.1:{port}"), &args).await;
    Signed {
        regent,
        store,
        _dir: dir,
    }
}

fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// `GET /auth/token` as `docker login` does, from `address`: status, `Retry-After`, message.
async fn token_from(
    regent: &RegentProcess,
    address: &str,
    user: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (u16, Option<String>, String) {
    let mut request = client_from(address)
        .get(format!("{}/auth/token?service=regent-registry", regent.base()))
        .basic_auth(user, Some(password));
    if let Some(f) = forwarded_for {
        request = request.header("x-forwarded-for", f);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (
        status,
        retry,
        body["errors"][0]["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The sign-in form posted from `address`: status, `Location`, body.
async fn form_from(regent: &RegentProcess, address: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let r = client_from(address)
        .post(format!("{}/api/login", regent.base()))
        .header("origin", regent.base())
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, location, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn ten_guesses_sent_at_once_get_five_answers_and_five_refusals_at_both_doors() {
    let s = start(&[]).await;
    let regent = &s.regent;
    let guesses = (0..10)
        .map(|i| async move { token_from(regent, "127.0.0.1", "eric", &format!("guess number {i}"), None).await });
    let answers = futures::future::join_all(guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{answers:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5, "{answers:?}");
    assert!(answers.iter().filter(|a| a.0 == 429).all(|a| a.1.is_some()));

    let page = (0..10).map(|i| async move {
        let password = format!("page guess {i}");
        form_from(regent, "127.0.0.3", &[("username", "admin"), ("password", &password)]).await
    });
    let bodies: Vec<String> = futures::future::join_all(page).await.into_iter().map(|a| a.2).collect();
    assert_eq!(
        bodies
            .iter()
            .filter(|b| b.contains("Wrong user name or password."))
            .count(),
        5,
        "{bodies:?}"
    );
    assert_eq!(
        bodies.iter().filter(|b| b.contains("Too many failed sign-ins")).count(),
        5,
        "{bodies:?}"
    );
}

#[tokio::test]
async fn a_flood_of_made_up_names_from_many_addresses_is_told_to_retry_while_eric_still_logs_in() {
    let s = start(&[]).await;
    let regent = &s.regent;
    // Eric logs in from where he always does.
    assert_eq!(token_from(regent, "127.0.0.1", "eric", PASSWORD, None).await.0, 200);
    // Any change makes Regent check his password again rather than reuse the last check.
    s.store
        .create_group(&Actor::new("admin", "127.0.0.1"), &Name::parse("qa").unwrap())
        .await
        .unwrap();
    let flood = (0..120).map(|i| async move {
        let address = format!("127.0.0.{}", 10 + i % 200);
        token_from(regent, &address, &format!("nobody-{i}"), "some password", None).await
    });
    let eric = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let answer = token_from(regent, "127.0.0.1", "eric", PASSWORD, None).await;
        (answer, started.elapsed())
    };
    let (answers, (eric, took)) = tokio::join!(futures::future::join_all(flood), eric);
    assert_eq!(eric.0, 200, "eric during the flood: {eric:?}");
    assert!(took < Duration::from_secs(5), "eric waited {took:?}");
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!busy.is_empty(), "nobody was told to retry: {answers:?}");
    assert!(busy.iter().all(|a| a.1.is_some() && a.2.contains("retry")), "{busy:?}");
    assert!(
        answers.iter().all(|a| a.0 == 401 || a.0 == 503),
        "{:?}",
        answers.iter().filter(|a| a.0 != 401 && a.0 != 503).collect::<Vec<_>>()
    );
    // The form says the same with a 503 and Retry-After.
    let forms = (0..60).map(|i| async move {
        let address = format!("127.0.1.{}", 10 + i % 200);
        let name = format!("nobody-{i}");
        form_from(regent, &address, &[("username", &name), ("password", "some password")]).await
    });
    let forms = futures::future::join_all(forms).await;
    assert!(forms.iter().any(|f| f.0 == 503), "{forms:?}");
}

#[tokio::test]
async fn someone_who_only_knows_the_name_admin_cannot_lock_admin_out() {
    let s = start(&[]).await;
    let regent = &s.regent;
    let (status, location, _) = form_from(
        regent,
        "127.0.0.1",
        &[("username", "admin"), ("password", "the admin password")],
    )
    .await;
    assert_eq!((status, location.as_deref()), (302, Some("/images")));
    // Six guesses each from three addresses, with made-up X-Forwarded-For headers; past ten
    // failures the account's attempts from new addresses are slowed (up to 4 s each).
    for a in 0..3 {
        let address = format!("127.0.2.{}", a + 1);
        for g in 0..6 {
            let forged = format!("10.{a}.{g}.1");
            let answer = token_from(regent, &address, "admin", &format!("guess {g}"), Some(&forged)).await;
            assert_eq!(
                answer.0,
                if g < 5 { 401 } else { 429 },
                "{address} guess {g}: {answer:?}"
            );
        }
    }
    // Admin still signs in from where they usually do, at once.
    let started = Instant::now();
    let (status, _, _) = form_from(
        regent,
        "127.0.0.1",
        &[("username", "admin"), ("password", "the admin password")],
    )
    .await;
    assert_eq!(status, 302);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // From a new address: slowed, not refused (a change first, so the password is checked
    // again rather than reused from the sign-in above).
    s.store
        .create_group(&Actor::new("admin", "127.0.0.1"), &Name::parse("qa").unwrap())
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        token_from(regent, "127.0.3.1", "admin", "the admin password", None)
            .await
            .0,
        200
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // The addresses that guessed stay refused, even with the right password.
    assert_eq!(
        token_from(regent, "127.0.2.1", "admin", "the admin password", None)
            .await
            .0,
        429
    );
    let refused = s
        .store
        .audit_events(&AuditFilter {
            target: Some("user:admin".into()),
            outcome: Some("refused".into()),
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        refused.iter().all(|e| e.address.starts_with("127.0.")),
        "X-Forwarded-For from an untrusted peer is never believed"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_throttled_and_audited() {
    let s = start(&["--trusted-proxies", "127.0.0.1"]).await;
    let regent = &s.regent;
    for g in 0..5 {
        let answer = token_from(regent, "127.0.0.1", "eric", &format!("guess {g}"), Some("198.51.100.7")).await;
        assert_eq!(answer.0, 401);
    }
    let (status, _, _) = token_from(regent, "127.0.0.1", "eric", PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(status, 429, "the client behind the proxy is throttled");
    let (status, _, _) = token_from(regent, "127.0.0.1", "eric", PASSWORD, Some("198.51.100.8")).await;
    assert_eq!(status, 200, "another client behind the same proxy is not");
    let refused = s
        .store
        .audit_events(&AuditFilter {
            target: Some("user:eric".into()),
            action: Some("login".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(refused.iter().all(|e| e.address == "198.51.100.7"), "{refused:?}");
}

#[tokio::test]
async fn a_next_link_to_another_site_lands_on_the_images_page() {
    let s = start(&[]).await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/images\r\nSet-Cookie: planted=1",
        "/\u{0}",
    ] {
        let (status, location, body) = form_from(
            &s.regent,
            "127.0.0.1",
            &[
                ("username", "admin"),
                ("password", "the admin password"),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_deref()),
            (302, Some("/images")),
            "{next:?}: {body}"
        );
    }
    let (_, location, _) = form_from(
        &s.regent,
        "127.0.0.1",
        &[
            ("username", "admin"),
            ("password", "the admin password"),
            ("next", "/images/team/app?page=2"),
        ],
    )
    .await;
    assert_eq!(location.as_deref(), Some("/images/team/app?page=2"));
}

/// The `Set-Cookie` of a successful sign-in from `address` with extra `headers`.
async fn session_cookie(regent: &RegentProcess, address: &str, headers: &[(&str, &str)]) -> String {
    let mut request = client_from(address)
        .post(format!("{}/api/login", regent.base()))
        .header("origin", regent.base())
        .header("accept", "text/html")
        .form(&[("username", "admin"), ("password", "the admin password")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 302, "signed in");
    r.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_session_cookie_is_secure_whenever_regent_is_reached_over_https() {
    let proxied = start(&["--trusted-proxies", "127.0.0.1"]).await;
    let https = [("x-forwarded-proto", "https"), ("x-forwarded-for", "198.51.100.9")];
    let through_tls = session_cookie(&proxied.regent, "127.0.0.1", &https).await;
    assert!(
        through_tls.contains("regent_session=") && through_tls.contains("Secure"),
        "{through_tls}"
    );
    let plain = session_cookie(&proxied.regent, "127.0.0.1", &[("x-forwarded-for", "198.51.100.9")]).await;
    assert!(!plain.contains("Secure"), "{plain}");
    let untrusted = session_cookie(&proxied.regent, "127.0.0.2", &https).await;
    assert!(!untrusted.contains("Secure"), "not from a trusted proxy: {untrusted}");

    let public = start(&["--public-url", "https://regent.example.com"]).await;
    let cookie = session_cookie(&public.regent, "127.0.0.1", &[]).await;
    assert!(cookie.contains("Secure"), "{cookie}");
}
