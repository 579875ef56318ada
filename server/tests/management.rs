//! The management screens over plain HTTP against the `regent` binary and a real registry:
//! Sarah sets up `skyfield` for her team through the same server functions the pages call,
//! each viewer then sees what she granted and no more, refused changes are audited, and bad
//! input on every form is answered in words with nothing written.

use regent_testkit::regent::{RegentProcess, Visitor};
use regent_testkit::{SeededRegistry, free_port};
use serde_json::Value;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";
const PASSWORD: &str = "a long enough password";

async fn start(seeded: &SeededRegistry, data: &std::path::Path) -> RegentProcess {
    let url = seeded.registry.url().to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    let args = [
        "--registry-url",
        &url,
        "--data-dir",
        data.to_str().unwrap(),
        "--admin-password",
        ADMIN_PASSWORD,
    ];
    let regent = RegentProcess::start(REGENT, &listen, &args).await;
    regent.index_complete(60).await;
    regent
}

/// The message of a `Done` outcome; panics with the whole answer otherwise.
fn done(answer: Value) -> String {
    answer["Done"]
        .as_str()
        .unwrap_or_else(|| panic!("expected Done, got {answer}"))
        .to_owned()
}

fn refused(answer: Value) -> String {
    answer["Refused"]
        .as_str()
        .unwrap_or_else(|| panic!("expected Refused, got {answer}"))
        .to_owned()
}

async fn user(v: &Visitor<'_>, op: &str, name: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![("op", op), ("name", name)];
    form.extend_from_slice(extra);
    v.call("/api/admin/change_user", &form).await
}

async fn group(v: &Visitor<'_>, op: &str, name: &str, member: &str) -> Value {
    v.call(
        "/api/admin/change_group",
        &[("op", op), ("group", name), ("user", member)],
    )
    .await
}

async fn grant(v: &Visitor<'_>, subject: &str, scope: &str, level: &str) -> Value {
    v.call(
        "/api/admin/change_grant",
        &[("op", "put"), ("subject", subject), ("scope", scope), ("level", level)],
    )
    .await
}

/// Adds `user` to `group` as an owner.
async fn make_owner(v: &Visitor<'_>, group: &str, user: &str) -> Value {
    v.call(
        "/api/admin/change_group",
        &[("op", "add"), ("group", group), ("user", user), ("owner", "on")],
    )
    .await
}

/// `data-<attribute>="…"` values in a page, in order.
fn attributes(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!("data-{attribute}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn sarah_sets_up_skyfield_and_each_viewer_sees_what_she_granted() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path()).await;
    let mut sarah = regent.visitor();
    assert!(sarah.sign_in("admin", ADMIN_PASSWORD).await);

    for name in ["josh", "eric", "jane", "greg", "frank"] {
        let message = done(user(&sarah, "create", name, &[("password", PASSWORD)]).await);
        assert_eq!(message, format!("Created {name}."));
    }
    done(group(&sarah, "create", "qa", "").await);
    for member in ["greg", "frank"] {
        done(group(&sarah, "add", "qa", member).await);
    }
    let created = done(
        sarah
            .call("/api/admin/create_repository", &[("name", "skyfield")])
            .await,
    );
    assert!(created.contains("empty until the first push"), "{created}");
    for writer in ["user:josh", "user:eric", "user:jane"] {
        done(grant(&sarah, writer, "skyfield", "write").await);
    }
    assert_eq!(
        done(grant(&sarah, "group:qa", "skyfield", "read").await),
        "group:qa now has read on skyfield."
    );

    // Who can do what on skyfield, and why.
    let (status, html) = sarah.get("/admin/access?scope=skyfield").await;
    assert_eq!(status, 200);
    let levels: Vec<(String, String)> = attributes(&html, "who")
        .into_iter()
        .zip(attributes(&html, "level"))
        .collect();
    let expect = |who: &str, level: &str| (who.to_owned(), level.to_owned());
    assert_eq!(
        levels,
        [
            expect("admin", "admin"),
            expect("eric", "write"),
            expect("frank", "read"),
            expect("greg", "read"),
            expect("jane", "write"),
            expect("josh", "write"),
        ]
    );
    assert!(html.contains("grant to group:qa on skyfield"), "{html}");
    // What can Greg do?
    let (_, html) = sarah.get("/admin/users/greg").await;
    assert!(html.contains("What can greg do?"), "{html}");
    assert_eq!(attributes(&html, "repository"), ["skyfield"]);
    assert!(html.contains("grant to group:qa"));

    // Greg reads skyfield, empty so far, and nothing else; he may not push or manage.
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);
    let (_, html) = greg.get("/images").await;
    assert!(html.contains("<a href=\"/images/skyfield\">skyfield</a>"), "{html}");
    assert!(html.contains("empty: created in Regent"), "{html}");
    assert!(!html.contains("demo/base"), "{html}");
    let (status, html) = greg.get("/images/skyfield").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-level=\"read\"") && html.contains("Your access: read (pull)"));
    assert!(
        !html.contains("podman push") && !html.contains("Who has access"),
        "{html}"
    );
    assert!(!html.contains(">Delete"), "{html}");
    let (_, html) = greg.get("/images").await;
    assert!(!html.contains("/admin/users"), "no admin menu for greg: {html}");
    assert!(
        html.contains("href=\"/admin/access\""),
        "greg manages his own namespace: {html}"
    );
    // Jane may push: the page gives her the command.
    let mut jane = regent.visitor();
    assert!(jane.sign_in("jane", PASSWORD).await);
    let (_, html) = jane.get("/images/skyfield").await;
    assert!(html.contains("podman push") && html.contains("Your access: write (pull, push)"));

    // Greg cannot manage users or grant himself more; the attempts are refused and audited.
    let (status, html) = greg.get("/admin/users").await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("Only administrators can manage users; you are signed in as greg"));
    let answer = refused(user(&greg, "create", "mallory", &[("password", PASSWORD)]).await);
    assert!(answer.contains("signed in as greg"), "{answer}");
    let answer = refused(grant(&greg, "user:greg", "skyfield", "admin").await);
    assert!(answer.contains("may not manage access to skyfield"), "{answer}");
    // His own namespace is his to share.
    done(grant(&greg, "user:frank", "users/greg/*", "read").await);
    let stranger = regent.visitor();
    let answer = refused(group(&stranger, "create", "intruders", "").await);
    assert!(answer.contains("Sign in first"), "{answer}");
    let (_, html) = sarah.get("/admin/audit?outcome=refused").await;
    assert_eq!(
        attributes(&html, "action"),
        ["group.create", "grant.put", "user.create"],
        "{html}"
    );
    let (_, html) = sarah.get("/admin/audit?actor=greg&action=grant.put").await;
    assert_eq!(attributes(&html, "outcome"), ["ok", "refused"], "{html}");

    // A stranger sees nothing of it.
    let (_, html) = stranger.get("/images").await;
    assert!(
        !html.contains("skyfield") && html.contains("You are not signed in"),
        "{html}"
    );
    assert_eq!(stranger.get("/images/skyfield").await.0, 404);

    // Sarah makes Greg an owner of QA: he manages its members, nothing else.
    let owner = make_owner(&sarah, "qa", "greg").await;
    assert_eq!(done(owner), "greg is now an owner of qa.");
    let (_, html) = greg.get("/images").await;
    assert!(html.contains("href=\"/admin/groups\""), "owners see Groups: {html}");
    let (status, html) = greg.get("/admin/groups").await;
    assert_eq!(status, 200);
    assert_eq!(attributes(&html, "group"), ["qa"]);
    assert!(
        !html.contains("create-group") && !html.contains("delete-group"),
        "{html}"
    );
    assert_eq!(
        done(group(&greg, "add", "qa", "jane").await),
        "jane is now a member of qa."
    );
    assert!(refused(group(&greg, "create", "greg-team", "").await).contains("signed in as greg"));
    assert!(refused(group(&greg, "delete", "qa", "").await).contains("signed in as greg"));
    done(group(&sarah, "create", "devs", "").await);
    assert!(refused(group(&greg, "add", "devs", "greg").await).contains("signed in as greg"));
    done(group(&greg, "remove", "qa", "jane").await);

    // A service account for CI: its token is shown once, it is listed as such, it has no
    // password to reset and cannot sign in to the pages.
    let created = done(user(&sarah, "create_service", "ci", &[]).await);
    let token = created
        .split_whitespace()
        .find(|w| w.starts_with("regent_"))
        .unwrap_or_else(|| panic!("no token in {created}"));
    let (_, html) = sarah.get("/admin/users").await;
    assert!(html.contains("service account"), "{html}");
    let answer = refused(user(&sarah, "password", "ci", &[("password", PASSWORD)]).await);
    assert!(answer.contains("is a service account"), "{answer}");
    assert!(!regent.visitor().sign_in("ci", token).await);
    let (_, html) = sarah.get("/admin/audit?action=login&outcome=refused").await;
    assert!(html.contains("service account"), "{html}");

    // Disabling Greg ends his session at once; deleting Frank says what went with him.
    done(user(&sarah, "disable", "greg", &[]).await);
    let (_, html) = greg.get("/images").await;
    assert!(html.contains("You are not signed in"), "{html}");
    assert!(!greg.sign_in("greg", PASSWORD).await);
    let message = done(user(&sarah, "delete", "frank", &[]).await);
    assert_eq!(
        message,
        "Deleted frank with 1 group membership(s), 1 grant(s) to them and 0 grant(s) on users/frank/*."
    );
}

/// Users, group members, grants and created repositories, as the admin screens list them.
async fn snapshot(admin: &Visitor<'_>) -> [Vec<String>; 4] {
    let (_, users) = admin.get("/admin/users").await;
    let (_, groups) = admin.get("/admin/groups").await;
    let (_, access) = admin.get("/admin/access").await;
    [
        attributes(&users, "user"),
        attributes(&groups, "member"),
        attributes(&access, "grant"),
        attributes(&access, "repository"),
    ]
}

#[tokio::test]
async fn bad_input_on_every_form_is_refused_in_words_and_nothing_is_written() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path()).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    done(user(&admin, "create", "greg", &[("password", PASSWORD)]).await);
    done(group(&admin, "create", "qa", "").await);
    done(
        admin
            .call("/api/admin/create_repository", &[("name", "skyfield")])
            .await,
    );
    done(grant(&admin, "group:qa", "skyfield", "read").await);
    done(user(&admin, "create", "hank", &[("password", PASSWORD)]).await);
    done(group(&admin, "add", "qa", "hank").await);
    let before = snapshot(&admin).await;
    for (list, what) in before.iter().zip(["users", "group members", "grants", "repositories"]) {
        assert!(
            !list.is_empty(),
            "the snapshot holds {what}, so a lost one would show: {before:?}"
        );
    }
    let long = "a".repeat(65);
    let cyrillic = "gr\u{0435}g"; // "grеg" with a Cyrillic е
    /// Server function, form, what the refusal must say.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", ""), ("password", PASSWORD)],
            "User name: a name is required",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", "Greg"), ("password", PASSWORD)],
            "did you mean \"greg\"",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", cyrillic), ("password", PASSWORD)],
            "U+0435",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", &long), ("password", PASSWORD)],
            "longer than 64 characters",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", "greg"), ("password", PASSWORD)],
            "exists already",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "create"), ("name", "newbie"), ("password", "short")],
            "use at least 10",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "rename"), ("name", "greg")],
            "not a change Regent makes to users",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "disable"), ("name", "nobody")],
            "no user named \"nobody\"",
        ),
        (
            "/api/admin/change_user",
            vec![("op", "delete"), ("name", "admin")],
            "cannot disable, demote or delete yourself",
        ),
        (
            "/api/admin/change_group",
            vec![("op", "create"), ("group", "qa")],
            "exists already",
        ),
        (
            "/api/admin/change_group",
            vec![("op", "add"), ("group", "qa"), ("user", "nobody")],
            "both must exist",
        ),
        (
            "/api/admin/change_group",
            vec![("op", "add"), ("group", "qa"), ("user", "")],
            "User name: a name is required",
        ),
        (
            "/api/admin/change_group",
            vec![("op", "remove"), ("group", "qa"), ("user", "greg")],
            "not a member",
        ),
        (
            "/api/admin/change_grant",
            vec![
                ("op", "put"),
                ("subject", "user:nobody"),
                ("scope", "skyfield"),
                ("level", "read"),
            ],
            "no user named \"nobody\"; create it first",
        ),
        (
            "/api/admin/change_grant",
            vec![
                ("op", "put"),
                ("subject", "greg"),
                ("scope", "skyfield"),
                ("level", "read"),
            ],
            "write user:<name>, group:<name>",
        ),
        (
            "/api/admin/change_grant",
            vec![
                ("op", "put"),
                ("subject", "user:greg"),
                ("scope", "skyfield"),
                ("level", "owner"),
            ],
            "use read, write, delete or admin",
        ),
        (
            "/api/admin/change_grant",
            vec![
                ("op", "put"),
                ("subject", "user:greg"),
                ("scope", "Skyfield"),
                ("level", "read"),
            ],
            "did you mean \"skyfield\"",
        ),
        (
            "/api/admin/change_grant",
            vec![("op", "remove"), ("subject", "user:greg"), ("scope", "skyfield")],
            "has no grant on skyfield",
        ),
        (
            "/api/admin/create_repository",
            vec![("name", "skyfield")],
            "was created already",
        ),
        (
            "/api/admin/create_repository",
            vec![("name", "demo/base")],
            "exists in the registry already",
        ),
        ("/api/admin/create_repository", vec![("name", "")], "Repository name:"),
    ];
    for (path, form, expected) in &cases {
        let answer = refused(admin.call(path, form).await);
        assert!(
            answer.to_lowercase().contains(&expected.to_lowercase()),
            "{path} {form:?}: {answer}"
        );
        assert!(answer.ends_with(['.', '?']), "a sentence: {answer}");
    }
    assert_eq!(snapshot(&admin).await, before, "bad input changed something");
    // Bad filters on the audit page are explained, not ignored.
    let (_, html) = admin.get("/admin/audit?outcome=maybe").await;
    assert!(html.contains("is not an outcome; use ok, refused or failed"), "{html}");
    // A change from another site is refused before it reaches the server function.
    let r = reqwest::Client::new()
        .post(format!("{}/api/admin/change_user", regent.base()))
        .header("origin", "http://evil.example")
        .header("cookie", admin.cookie().unwrap())
        .form(&[("op", "create"), ("name", "mallory"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(snapshot(&admin).await, before);
}

#[tokio::test]
async fn a_user_sharing_their_own_namespace_sees_whom_they_let_in_and_nobody_else() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&seeded, data.path()).await;
    let mut sarah = regent.visitor();
    assert!(sarah.sign_in("admin", ADMIN_PASSWORD).await);
    for name in ["greg", "frank", "hank"] {
        done(user(&sarah, "create", name, &[("password", PASSWORD)]).await);
    }
    done(grant(&sarah, "user:hank", "*", "read").await);
    let mut greg = regent.visitor();
    assert!(greg.sign_in("greg", PASSWORD).await);
    done(grant(&greg, "user:frank", "users/greg/app", "read").await);

    let (status, html) = greg.get("/admin/access?scope=users/greg/app").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(attributes(&html, "who"), ["frank", "greg"], "{html}");
    assert_eq!(
        attributes(&html, "effective-hidden"),
        ["2"],
        "the administrator and hank, counted"
    );
    for unseen in ["hank", "user:admin", "data-who=\"admin\""] {
        assert!(!html.contains(unseen), "greg's access screen does not name {unseen:?}");
    }

    let (_, html) = sarah.get("/admin/access?scope=users/greg/app").await;
    assert_eq!(attributes(&html, "who"), ["admin", "frank", "greg", "hank"], "{html}");
    assert!(attributes(&html, "effective-hidden").is_empty());
}
