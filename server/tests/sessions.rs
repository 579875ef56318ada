//! Sessions and registry logins against the `regent` binary and a real registry: they belong
//! to a user's id and credential, so a password reset (even back to the old password), a
//! disable (even when enabled again) or a delete ends them for good, and a new user with a
//! deleted user's name inherits nothing. Also: a burst of refusals is one audit row with a
//! count, and the retention setting empties the log of old events.

use regent_domain::store::{Actor, Store};
use regent_testkit::regent::{RegentProcess, Visitor};
use regent_testkit::{SeededRegistry, free_port};
use serde_json::Value;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";
const PASSWORD: &str = "greg's long password";
const OTHER: &str = "another long password";

async fn start(seeded: &SeededRegistry, data: &std::path::Path, extra: &[&str]) -> RegentProcess {
    let url = seeded.registry.url().to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec![
        "--registry-url",
        &url,
        "--data-dir",
        data.to_str().unwrap(),
        "--admin-password",
        ADMIN_PASSWORD,
    ];
    args.extend_from_slice(extra);
    let regent = RegentProcess::start(REGENT, &listen, &args).await;
    regent.index_complete(60).await;
    regent
}

fn done(answer: Value) -> String {
    answer["Done"]
        .as_str()
        .unwrap_or_else(|| panic!("expected Done, got {answer}"))
        .to_owned()
}

async fn user(v: &Visitor<'_>, op: &str, name: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![("op", op), ("name", name)];
    form.extend_from_slice(extra);
    done(v.call("/api/admin/change_user", &form).await)
}

async fn grant(v: &Visitor<'_>, subject: &str, scope: &str, level: &str) -> String {
    done(
        v.call(
            "/api/admin/change_grant",
            &[("op", "put"), ("subject", subject), ("scope", scope), ("level", level)],
        )
        .await,
    )
}

/// Whom Regent takes the visitor's session for; `None`: signed out.
async fn who(v: &Visitor<'_>) -> Option<String> {
    v.call("/api/whoami", &[]).await["user"].as_str().map(str::to_owned)
}

/// `docker login`: a refresh token for `user`.
async fn docker_login(regent: &RegentProcess, user: &str, password: &str) -> String {
    let (status, body) = token_post(
        regent,
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("access_type", "offline"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["refresh_token"].as_str().expect("a refresh token").to_owned()
}

/// What the token endpoint answers the refresh token with: 200 or 401.
async fn refresh(regent: &RegentProcess, token: &str) -> u16 {
    let (status, body) = token_post(regent, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await;
    if status == 401 {
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("log in again"), "{body}");
    }
    status
}

async fn token_post(regent: &RegentProcess, form: &[(&str, &str)]) -> (u16, Value) {
    let mut all = vec![
        ("service", "regent-registry"),
        ("client_id", "docker"),
        ("scope", "repository:skyfield:pull"),
    ];
    all.extend_from_slice(form);
    let r = reqwest::Client::new()
        .post(format!("{}/auth/token", regent.base()))
        .form(&all)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn resetting_a_password_ends_every_session_of_that_user_even_when_it_is_set_back() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path(), &[]).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    user(&admin, "create", "greg", &[("password", PASSWORD)]).await;
    let (mut laptop, mut phone) = (regent.visitor(), regent.visitor());
    assert!(laptop.sign_in("greg", PASSWORD).await);
    assert!(phone.sign_in("greg", PASSWORD).await);
    assert_eq!(who(&laptop).await.as_deref(), Some("greg"));
    let docker = docker_login(&regent, "greg", PASSWORD).await;
    assert_eq!(refresh(&regent, &docker).await, 200);

    let message = user(&admin, "password", "greg", &[("password", OTHER)]).await;
    assert!(message.contains("sessions and registry logins have ended"), "{message}");
    assert_eq!(who(&laptop).await, None, "the laptop is signed out");
    assert_eq!(who(&phone).await, None, "and the phone");
    assert_eq!(refresh(&regent, &docker).await, 401, "and docker");

    // Back to the old password: nothing signed in before comes back.
    user(&admin, "password", "greg", &[("password", PASSWORD)]).await;
    let old_cookie = regent.visitor().with_session(phone.cookie().unwrap());
    assert_eq!(who(&old_cookie).await, None);
    assert_eq!(refresh(&regent, &docker).await, 401);
    assert_eq!(
        who(&admin).await.as_deref(),
        Some("admin"),
        "other users stay signed in"
    );

    // Signing in again works as ever.
    assert!(laptop.sign_in("greg", PASSWORD).await);
    assert_eq!(who(&laptop).await.as_deref(), Some("greg"));
    let docker = docker_login(&regent, "greg", PASSWORD).await;
    assert_eq!(refresh(&regent, &docker).await, 200);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_registry_logins_and_enabling_revives_none() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path(), &[]).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    user(&admin, "create", "greg", &[("password", PASSWORD)]).await;
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);
    let docker = docker_login(&regent, "greg", PASSWORD).await;

    user(&admin, "disable", "greg", &[]).await;
    assert_eq!(refresh(&regent, &docker).await, 401);
    user(&admin, "enable", "greg", &[]).await;
    assert_eq!(who(&greg).await, None, "the session from before the disable stays over");
    assert_eq!(refresh(&regent, &docker).await, 401, "and so does docker's login");
    // Making someone an administrator is no credential change: their session goes on.
    let mut again = regent.visitor();
    assert!(again.sign_in("greg", PASSWORD).await);
    user(&admin, "make_admin", "greg", &[]).await;
    assert_eq!(who(&again).await.as_deref(), Some("greg"));
}

#[tokio::test]
async fn a_new_user_with_a_deleted_users_name_inherits_nothing() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path(), &[]).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    for name in ["greg", "frank"] {
        user(&admin, "create", name, &[("password", PASSWORD)]).await;
    }
    done(
        admin
            .call("/api/admin/create_repository", &[("name", "skyfield")])
            .await,
    );
    grant(&admin, "user:greg", "skyfield", "read").await;
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);
    // Greg shares his namespace with Frank.
    grant(&greg, "user:frank", "users/greg/*", "read").await;
    assert_eq!(greg.get("/images/skyfield").await.0, 200);
    let docker = docker_login(&regent, "greg", PASSWORD).await;

    // The confirmation says what goes, and what becomes of his namespace.
    let (_, page) = admin.get("/admin/users/greg").await;
    assert!(
        page.contains("the 1 grant(s) on repositories in users/greg/ (to anyone)"),
        "{page}"
    );
    assert!(page.contains("inherits none of these"), "{page}");
    assert!(
        page.contains("The images in users/greg/ stay in the registry"),
        "{page}"
    );
    let message = user(&admin, "delete", "greg", &[]).await;
    assert_eq!(
        message,
        "Deleted greg with 0 group membership(s), 1 grant(s) to them and 1 grant(s) on users/greg/*."
    );

    // Someone new called greg, with the very same password.
    user(&admin, "create", "greg", &[("password", PASSWORD)]).await;
    assert_eq!(who(&greg).await, None, "the old greg's cookie signs in nobody");
    assert_eq!(refresh(&regent, &docker).await, 401, "nor does his docker login");
    let mut new_greg = regent.visitor();
    assert!(new_greg.sign_in("greg", PASSWORD).await);
    assert_eq!(new_greg.get("/images/skyfield").await.0, 404, "the old greg's grant");
    let (_, access) = admin.get("/admin/access").await;
    assert!(!access.contains("users/greg/*"), "the old greg's share: {access}");
}

/// Waits (up to a minute) until the clock is early enough in its minute that `seconds` of
/// work end in the same minute: folding is per clock minute.
async fn early_in_a_minute(seconds: u64) {
    for _ in 0..70 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if now % 60 < 60 - seconds {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    panic!("the clock did not move");
}

#[tokio::test]
async fn a_burst_of_anonymous_refusals_is_one_audit_row_with_its_count_and_old_events_go() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    // An event from 31 days ago, older than the 30 days kept below.
    let store = Store::open(&data.path().join("regent.db")).await.unwrap();
    store
        .record_event(&Actor::new("eve", "192.0.2.1"), "login", "user:eve", "ok", "long ago")
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET at = at - 31 * 86400 WHERE detail = 'long ago'")
        .execute(&store.sqlite_pool())
        .await
        .unwrap();
    drop(store);
    let regent = start(&seeded, data.path(), &["--audit-retention-days", "30"]).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let (_, html) = admin.get("/admin/audit?actor=eve").await;
    assert!(html.contains("No events match."), "pruned at start-up: {html}");
    let (_, html) = admin.get("/admin/audit?action=audit.prune").await;
    assert!(html.contains("1 events older than 30 days deleted"), "{html}");

    early_in_a_minute(20).await;
    const BURST: usize = 37;
    let stranger = regent.visitor();
    let refusals = (0..BURST).map(|_| {
        stranger.call(
            "/api/admin/change_group",
            &[("op", "create"), ("group", "intruders"), ("user", "")],
        )
    });
    for answer in futures::future::join_all(refusals).await {
        assert!(
            answer["Refused"].as_str().unwrap().contains("Sign in first"),
            "{answer}"
        );
    }
    for _ in 0..3 {
        assert!(!regent.visitor().sign_in("admin", "a wrong password").await);
    }
    let (_, html) = admin.get("/admin/audit?action=group.create&outcome=refused").await;
    let counts: Vec<&str> = html
        .match_indices("data-count=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(counts, ["37"], "one row: {html}");
    assert!(html.contains("×37"), "{html}");
    let (_, html) = admin.get("/admin/audit?action=login&outcome=refused").await;
    assert!(html.contains("×3"), "failed sign-ins fold too: {html}");
}

#[tokio::test]
async fn signing_in_gives_a_new_session_id_and_the_old_one_is_worth_nothing() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path(), &[]).await;
    let mut first = regent.visitor();
    assert!(first.sign_in("admin", ADMIN_PASSWORD).await);
    let before = first.cookie().unwrap().to_owned();

    // Signing in again over an existing session (or one an attacker planted) issues a new id.
    let mut again = regent.visitor().with_session(&before);
    assert!(again.sign_in("admin", ADMIN_PASSWORD).await);
    let after = again.cookie().unwrap().to_owned();
    assert_ne!(before, after, "the session id changes at sign-in");
    assert_eq!(who(&again).await.as_deref(), Some("admin"));
    assert_eq!(
        who(&regent.visitor().with_session(&before)).await,
        None,
        "the old id signs nobody in"
    );

    let planted = "regent_session=an-id-chosen-by-an-attacker";
    let mut victim = regent.visitor().with_session(planted);
    assert!(victim.sign_in("admin", ADMIN_PASSWORD).await);
    assert_ne!(victim.cookie().unwrap(), planted);
}

#[tokio::test]
async fn a_session_ends_after_the_idle_time_and_after_its_maximum_age_however_much_it_is_used() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = seeded.registry.url().to_string();
    // A "minute" of the session settings lasts 1 s here (REGENT_TESTING_SESSION_MINUTE_SECONDS):
    // idle after 5 s without use, at most 60 s after sign-in.
    let args = [
        "--registry-url",
        &url,
        "--data-dir",
        data.path().to_str().unwrap(),
        "--admin-password",
        ADMIN_PASSWORD,
        "--session-idle-minutes",
        "5",
        "--session-max-hours",
        "1",
    ];
    let env = [("REGENT_TESTING_SESSION_MINUTE_SECONDS", "1")];
    let listen = format!("127.0.0.1:{}", free_port());
    let regent = RegentProcess::start_with_env(REGENT, &listen, &args, &env).await;

    let mut idle = regent.visitor();
    assert!(idle.sign_in("admin", ADMIN_PASSWORD).await);
    let mut busy = regent.visitor();
    assert!(busy.sign_in("admin", ADMIN_PASSWORD).await);
    let signed_in = std::time::Instant::now();
    assert_eq!(who(&idle).await.as_deref(), Some("admin"));

    // `busy` is used every second; `idle` waits 7 s.
    for _ in 0..7 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert_eq!(who(&busy).await.as_deref(), Some("admin"), "used, so still signed in");
    }
    assert_eq!(who(&idle).await, None, "7 s without use ends a 5 s idle session");

    // However much it is used, it ends 60 s after sign-in.
    let mut last_seen = None;
    for _ in 0..70 {
        if who(&busy).await.is_none() {
            break;
        }
        last_seen = Some(signed_in.elapsed());
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(who(&busy).await, None, "the session outlived its maximum age");
    let lasted = last_seen.unwrap().as_secs();
    assert!(
        (55..=61).contains(&lasted),
        "it ended when its 60 s were up (last seen at {lasted} s)"
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_setting_says_so() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    for (extra, secure) in [(&[][..], false), (&["--session-secure-cookie", "true"][..], true)] {
        let data = tempfile::tempdir().unwrap();
        let regent = start(&seeded, data.path(), extra).await;
        let response = regent
            .visitor()
            .post_form("/api/login", &[("username", "admin"), ("password", ADMIN_PASSWORD)])
            .await;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find(|c| c.starts_with("regent_session="))
            .unwrap_or_else(|| panic!("signed in: {response:?}"))
            .to_owned();
        let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_lowercase()).collect();
        assert_eq!(attributes.contains(&"secure".to_owned()), secure, "{extra:?}: {cookie}");
        assert!(attributes.contains(&"httponly".to_owned()), "{cookie}");
    }
}
