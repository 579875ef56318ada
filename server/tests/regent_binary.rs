//! The `regent` binary as an operator meets it: flags, environment, file, and the pages it
//! serves against a real registry (server-rendered HTML, no browser needed).

use regent_testkit::regent::{RegentProcess, make_public};
use regent_testkit::{RegistryAuth, RegistryOptions, SeededRegistry, TestRegistry, free_port};
use std::process::{Command, Output};
use std::time::Duration;

const REGENT: &str = env!("CARGO_BIN_EXE_regent");

/// `regent` with a clean environment (no REGENT_* from the caller) plus `env`.
fn regent(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = regent_testkit::regent::command(REGENT, args);
    cmd.envs(env.iter().copied());
    cmd
}

fn output(args: &[&str], env: &[(&str, &str)]) -> Output {
    regent(args, env).output().expect("run regent")
}

/// Starts `regent` on a free loopback port.
async fn start(args: &[&str]) -> RegentProcess {
    RegentProcess::start(REGENT, &format!("127.0.0.1:{}", free_port()), args).await
}

/// Polls a page every 100 ms for at most `seconds`.
async fn page_showing(regent: &RegentProcess, path: &str, needle: &str, seconds: u64) -> String {
    regent
        .get_until(path, needle, Duration::from_millis(100), Duration::from_secs(seconds))
        .await
}

#[test]
fn help_explains_every_setting_with_its_environment_variable() {
    let out = output(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in [
        "--config",
        "REGENT_CONFIG",
        "--listen",
        "REGENT_LISTEN",
        "--registry-url",
        "REGENT_REGISTRY_URL",
        "--registry-username",
        "--registry-password",
        "--registry-password-file",
        "--registry-token",
        "REGENT_REGISTRY_TOKEN",
        "--data-dir",
        "REGENT_DATA_DIR",
        "--audit-retention-days",
        "REGENT_AUDIT_RETENTION_DAYS",
    ] {
        assert!(help.contains(name), "--help lacks {name}:\n{help}");
    }
}

#[test]
fn a_bad_registry_url_stops_start_up_with_a_message_naming_the_setting() {
    let data = tempfile::tempdir().unwrap();
    let out = output(
        &["--data-dir", data.path().to_str().unwrap()],
        &[("REGENT_REGISTRY_URL", "registry:5000")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("registry.url (REGENT_REGISTRY_URL / --registry-url)"),
        "{err}"
    );
    assert!(err.contains("http://"), "says what to write: {err}");
}

#[test]
fn a_missing_config_file_or_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = output(&["--config", "/nonexistent/regent.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/regent.toml"));

    let file = dir.path().join("regent.toml");
    std::fs::write(
        &file,
        "[registry]\nurl = \"http://127.0.0.1:5000\"\npasword = \"typo\"\n",
    )
    .unwrap();
    let out = output(&["--config", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pasword"), "names the unknown key: {err}");
}

#[test]
fn flags_override_environment_which_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("regent.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:1001\"\ndata_dir = \"{}\"\n[registry]\nurl = \"http://file:5000\"\ntimeout_seconds = 7\n",
            data.display()
        ),
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let print = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--config", config, "--print-config"];
        all.extend_from_slice(args);
        let out = output(&all, env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let from_file = print(&[], &[]);
    assert!(from_file.contains("listen = \"127.0.0.1:1001\""), "{from_file}");
    assert!(from_file.contains("url = \"http://file:5000/\""));
    assert!(from_file.contains("timeout_seconds = 7"));

    let env = [
        ("REGENT_LISTEN", "127.0.0.1:1002"),
        ("REGENT_REGISTRY_URL", "http://env:5000"),
    ];
    let from_env = print(&[], &env);
    assert!(from_env.contains("listen = \"127.0.0.1:1002\""), "{from_env}");
    assert!(from_env.contains("url = \"http://env:5000/\""));

    let from_flag = print(&["--listen", "127.0.0.1:1003"], &env);
    assert!(from_flag.contains("listen = \"127.0.0.1:1003\""), "{from_flag}");
    assert!(
        from_flag.contains("url = \"http://env:5000/\""),
        "unflagged settings keep the env value"
    );
}

#[test]
fn the_password_file_is_read_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("password");
    std::fs::write(&secret, "correct horse\n").unwrap();
    let data = dir.path().join("data");
    let out = output(
        &[
            "--print-config",
            "--registry-url",
            "http://r:5000",
            "--registry-username",
            "regent",
            "--registry-password-file",
            secret.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("username \"regent\" and its password"), "{text}");
    assert!(!text.contains("correct horse"));
}

#[tokio::test]
async fn the_images_page_is_rendered_on_the_server_readable_without_javascript() {
    let seeded = SeededRegistry::start(30).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let url = seeded.registry.url().to_string();
    let regent = start(&["--registry-url", &url, "--data-dir", data.path().to_str().unwrap()]).await;
    regent.index_complete(60).await;

    let (status, html) = regent.get("/images?page=2&per_page=10").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Images, page 2 · Regent</title>"), "{html}");
    // The listing shows repositories with tags: the emptied one is not there.
    let catalog: Vec<String> = seeded
        .report
        .tags
        .iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(r, _)| r.clone())
        .collect();
    // The rows are in the HTML itself, not in a template that needs JavaScript.
    let body_before_templates = html.split("<template").next().unwrap();
    for name in &catalog[10..20] {
        assert!(
            body_before_templates.contains(&format!("<a href=\"/images/{name}\">{name}</a>")),
            "{name} missing:\n{html}"
        );
    }
    assert!(!body_before_templates.contains(&format!(">{}<", catalog[9])));
    assert!(html.contains(&format!("Repositories 11–20 of {}", catalog.len())));
    // demo/base has three tags; the emptied repository says it is empty.
    let (_, first) = regent.get("/images?per_page=100").await;
    assert!(
        first.contains("<a href=\"/images/demo/base\">demo/base</a><!></td><td class=\"num\">3</td>"),
        "{first}"
    );
    assert!(
        !first.contains("demo/emptied"),
        "a repository without tags is not listed"
    );

    let (status, ready) = regent.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
}

#[tokio::test]
async fn refused_registry_credentials_are_explained_on_the_page_and_in_readyz() {
    let users = vec![("regent".to_owned(), "right".to_owned())];
    let registry = TestRegistry::start_with(RegistryOptions {
        auth: RegistryAuth::Htpasswd(users),
        ..Default::default()
    })
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = registry.url().to_string();
    let regent = start(&[
        "--registry-url",
        &url,
        "--registry-username",
        "regent",
        "--registry-password",
        "wrong",
        "--data-dir",
        data.path().to_str().unwrap(),
    ])
    .await;
    let html = page_showing(&regent, "/images", "The registry is not available", 30).await;
    assert_eq!(
        regent.get("/images").await.0,
        503,
        "a page with nothing but the problem is an error"
    );
    assert!(
        html.contains("refused the username &quot;regent&quot;") || html.contains("refused the username \"regent\""),
        "{html}"
    );
    assert!(html.contains("registry.username"));
    assert!(!html.contains("wrong"), "the password is not shown");
    let (status, ready) = regent.get("/readyz").await;
    assert_eq!(status, 503);
    assert!(ready.contains("refused"), "{ready}");
}

const SECRET: &str = "notification-secret-for-tests-0123";

/// A registry that notifies a Regent started right after it, both on loopback.
async fn notified_pair(bulk: usize) -> (SeededRegistry, RegentProcess, tempfile::TempDir) {
    let port = free_port();
    let mut seeded = SeededRegistry::start(bulk).await.unwrap();
    // Restart the seeded registry with notifications pointing at the Regent about to start.
    let events = format!("http://127.0.0.1:{port}/api/registry/events");
    seeded
        .registry
        .notify(&events, &format!("Bearer {SECRET}"))
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let url = seeded.registry.url().to_string();
    let listen = format!("127.0.0.1:{port}");
    let regent = RegentProcess::start(
        REGENT,
        &listen,
        &[
            "--registry-url",
            &url,
            "--data-dir",
            data.path().to_str().unwrap(),
            "--notifications-secret",
            SECRET,
            "--index-reconcile-interval-seconds",
            "3600",
        ],
    )
    .await;
    regent.index_complete(60).await;
    (seeded, regent, data)
}

#[tokio::test]
async fn a_pushed_tag_is_searchable_and_a_deleted_one_disappears_through_notifications() {
    let (seeded, regent, _data) = notified_pair(0).await;
    let (_, before) = regent.get("/images?q=notified%2Fapp").await;
    assert!(before.contains("No repository name contains"), "{before}");

    let image = regent_testkit::single_file_image("notified").unwrap();
    let pusher = regent_testkit::push::Pusher::new(&seeded.registry.url());
    let digest = pusher.push("notified/app", "v7", &image).await.unwrap();
    // The reconcile interval is an hour: only the notification can make it appear.
    let row = format!("data-digest=\"{digest}\"");
    let page = page_showing(&regent, "/images?q=notified%2Fapp%3Av7", &row, 10).await;
    assert!(
        page.contains("<a href=\"/images/notified/app/tags/v7\">v7</a>"),
        "{page}"
    );

    pusher.delete_manifest("notified/app", &digest).await.unwrap();
    page_showing(&regent, &format!("/images?q={digest}"), "No tag matches", 10).await;
}

#[tokio::test]
async fn notifications_without_the_secret_are_refused_and_change_nothing() {
    let (seeded, regent, _data) = notified_pair(0).await;
    let client = reqwest::Client::new();
    let digest = &seeded.report.tags["demo/base"]["1.0"];
    let body =
        format!(r#"{{"events":[{{"action":"delete","target":{{"digest":"{digest}","repository":"demo/base"}}}}]}}"#);
    let url = format!("{}/api/registry/events", regent.base());
    let none = client.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = client
        .post(&url)
        .bearer_auth("not-the-secret-at-all")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Authorization: Bearer"));
    let garbage = client
        .post(&url)
        .bearer_auth(SECRET)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let (_, page) = regent.get("/images/demo/base").await;
    assert!(
        page.contains(&format!("data-digest=\"{digest}\"")),
        "demo/base:1.0 is still there"
    );
}

#[tokio::test]
async fn unknown_addresses_get_a_404_page_with_a_way_back() {
    let data = tempfile::tempdir().unwrap();
    let regent = start(&[
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.path().to_str().unwrap(),
    ])
    .await;
    let (status, html) = regent.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("Not found") && html.contains("href=\"/images\""),
        "{html}"
    );
    let (status, _) = regent.get("/healthz").await;
    assert_eq!(status, 200, "healthz is about the process, not the registry");
}

#[tokio::test]
async fn detail_pages_read_without_javascript_and_say_what_was_not_found() {
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let url = seeded.registry.url().to_string();
    let regent = start(&[
        "--registry-url",
        &url,
        "--data-dir",
        data.path().to_str().unwrap(),
        "--registry-pull-host",
        "registry.example.com",
    ])
    .await;
    regent.index_complete(60).await;
    let shared = &seeded.report.shared_layer;

    // The repository page: header numbers, the pull command with the public host, tag links.
    let (status, html) = regent.get("/images/demo/base?sort=-name").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<title>demo/base · Regent</title>"), "{html}");
    assert!(
        html.contains("docker pull registry.example.com/demo/base:latest"),
        "{html}"
    );
    assert!(html.contains("<dd data-fact=\"tags\">3</dd>"), "{html}");
    let latest = html.find(">latest</a>").unwrap();
    let one = html.find(">1.0</a>").unwrap();
    assert!(latest < one, "sorted by name, descending");

    // The tag page: config, masked secret, history, layers linking to layer pages.
    let (status, html) = regent.get("/images/demo/base/tags/1.0").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<title>demo/base:1.0 · Regent</title>"), "{html}");
    let digest = &seeded.report.tags["demo/base"]["1.0"];
    assert!(html.contains(&format!("podman pull registry.example.com/demo/base@{digest}")));
    assert!(html.contains("<details class=\"secret\">"), "{html}");
    assert!(html.contains("Build history"), "{html}");
    assert!(html.contains(&format!("href=\"/layers/{shared}\"")), "{html}");
    assert!(html.contains("Same digest as latest"), "{html}");

    // The layer page lists every repository built on the shared layer.
    let (status, html) = regent.get(&format!("/layers/{shared}")).await;
    assert_eq!(status, 200, "{html}");
    for name in ["demo/app", "demo/base", "multi/arch"] {
        assert!(
            html.contains(&format!("<a href=\"/images/{name}\">{name}</a>")),
            "{name}:\n{html}"
        );
    }

    // The storage page draws its chart on the server.
    let (status, html) = regent.get("/storage").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<svg") && html.contains("class=\"storage-chart\""),
        "{html}"
    );

    for (path, code, says) in [
        ("/images/demo/base/tags/nope", 404, "has no tag \"nope\""),
        ("/images/demo/nothing", 404, "no repository named \"demo/nothing\""),
        (
            "/layers/sha256:0000000000000000000000000000000000000000000000000000000000000000",
            404,
            "No tagged image",
        ),
        ("/layers/sha256:xyz", 400, "sha256"),
        ("/images/demo/base?sort=age", 400, "sort must be one of"),
        ("/images/demo/base?page=0", 400, "page must be a whole number"),
        ("/images/Demo/Base", 400, "Demo/Base"),
    ] {
        let (status, html) = regent.get(path).await;
        assert_eq!(status, code, "{path}:\n{html}");
        assert!(html.contains(says), "{path} should say {says:?}:\n{html}");
    }
}

/// Starts `regent` against an unreachable registry and returns its log up to the line saying
/// it serves (at most `lines` lines): what it logs at start-up is all there, and a test that
/// checks a line is absent cannot pass only because nothing was logged yet.
fn first_log_lines(data: &std::path::Path, env: &[(&str, &str)], lines: usize) -> Vec<String> {
    use std::io::BufRead;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = regent(
        &[
            "--listen",
            &listen,
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        env,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .take(lines)
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut log = Vec::new();
    let serving = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains("Regent is serving");
                log.push(line);
                if done {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(serving, "regent never said it was serving:\n{}", log.join("\n"));
    log
}

#[test]
fn the_first_start_creates_an_admin_and_the_shell_manages_users() {
    let data = tempfile::tempdir().unwrap();
    let log = first_log_lines(data.path(), &[], 20).join("\n");
    let line = log
        .lines()
        .find(|l| l.contains("created the first user"))
        .unwrap_or_else(|| panic!("no admin password in the log:\n{log}"));
    let password = line
        .split("password ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 20, "{line}");
    let again = first_log_lines(data.path(), &[], 20).join("\n");
    assert!(!again.contains("created the first user"), "shown only once:\n{again}");

    let dir = data.path().to_str().unwrap();
    let with_stdin = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut child = regent(args, &[])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let added = with_stdin(&["--data-dir", dir, "user", "add", "jane"], "a long enough password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert_eq!(String::from_utf8_lossy(&added.stdout).trim(), "created user jane");
    let capital = with_stdin(&["--data-dir", dir, "user", "add", "Jane"], "a long enough password\n");
    assert!(!capital.status.success());
    assert!(String::from_utf8_lossy(&capital.stderr).contains("did you mean \"jane\""));
    let short = with_stdin(&["--data-dir", dir, "user", "add", "greg"], "short\n");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10"));
    let twice = with_stdin(&["--data-dir", dir, "user", "add", "jane"], "a long enough password\n");
    assert!(String::from_utf8_lossy(&twice.stderr).contains("exists already"));
    let admin = output(&["--data-dir", dir, "user", "admin", "jane"], &[]);
    assert!(admin.status.success(), "{}", String::from_utf8_lossy(&admin.stderr));
    let list = output(&["--data-dir", dir, "user", "list"], &[]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("admin [admin]") && list.contains("jane [admin]"),
        "{list}"
    );
}

#[test]
fn a_chosen_admin_password_is_used_and_a_short_one_refused() {
    let data = tempfile::tempdir().unwrap();
    let log = first_log_lines(data.path(), &[("REGENT_ADMIN_PASSWORD", "chosen-admin-password")], 20).join("\n");
    assert!(!log.contains("created the first user"), "{log}");
    // The administrator signs in with it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = data.path().to_str().unwrap();
        let regent = start(&["--registry-url", "http://127.0.0.1:9", "--data-dir", dir]).await;
        let mut admin = regent.visitor();
        assert!(
            admin.sign_in("admin", "chosen-admin-password").await,
            "REGENT_ADMIN_PASSWORD signs in"
        );
        assert!(!regent.visitor().sign_in("admin", "another-password-altogether").await);
    });
    let list = output(&["--data-dir", data.path().to_str().unwrap(), "user", "list"], &[]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("admin [admin]"));
    let short = output(
        &[
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        &[("REGENT_ADMIN_PASSWORD", "short")],
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("REGENT_ADMIN_PASSWORD"));
}

/// `POST path` as a form from Regent's own pages (same Origin), with an optional cookie.
async fn post_form(
    regent: &RegentProcess,
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> reqwest::Response {
    let visitor = regent.visitor();
    let visitor = match cookie {
        Some(c) => visitor.with_session(c),
        None => visitor,
    };
    visitor.post_form(path, form).await
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_wrong_passwords_are_throttled_and_all_is_audited() {
    let data = tempfile::tempdir().unwrap();
    let regent = start(&[
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--admin-password",
        "the admin password",
    ])
    .await;

    let ok = post_form(
        &regent,
        "/api/login",
        &[
            ("username", "admin"),
            ("password", "the admin password"),
            ("next", "/storage"),
        ],
        None,
    )
    .await;
    assert_eq!(ok.status(), 302);
    assert_eq!(ok.headers()["location"], "/storage");
    let set_cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["regent_session=", "HttpOnly", "SameSite=Strict"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let who = post_form(&regent, "/api/whoami", &[], Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        who.contains("\"user\":\"admin\"") && who.contains("\"admin\":true"),
        "{who}"
    );
    let (_, page) = {
        let client = reqwest::Client::new();
        let r = client
            .get(format!("{}/storage", regent.base()))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(
        page.contains("data-user=\"admin\""),
        "the sidebar names the user:\n{page}"
    );

    // Wrong password and unknown user read the same; the sixth failure in a row waits.
    let wrong = |user: &'static str| {
        let regent = &regent;
        async move {
            post_form(
                regent,
                "/api/login",
                &[("username", user), ("password", "not the password")],
                None,
            )
            .await
            .text()
            .await
            .unwrap()
        }
    };
    let unknown = wrong("nobody").await;
    assert!(unknown.contains("Wrong user name or password."), "{unknown}");
    for _ in 0..4 {
        assert!(wrong("admin").await.contains("Wrong user name or password."));
    }
    assert!(wrong("admin").await.contains("Wrong user name or password."));
    let throttled = wrong("admin").await;
    assert!(throttled.contains("Too many failed sign-ins"), "{throttled}");

    // Another site cannot post here.
    let client = reqwest::Client::new();
    let forged = client
        .post(format!("{}/api/logout", regent.base()))
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let still = post_form(&regent, "/api/whoami", &[], Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(still.contains("\"user\":\"admin\""), "{still}");

    let out = post_form(&regent, "/api/logout", &[], Some(&cookie)).await;
    assert_eq!(out.status(), 302);
    let gone = post_form(&regent, "/api/whoami", &[], Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(gone.contains("\"user\":null"), "{gone}");

    let store = regent_domain::store::Store::open(&data.path().join("regent.db"))
        .await
        .unwrap();
    let events = store
        .audit_events(&regent_domain::store::AuditFilter {
            action: Some("login".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<(&str, &str)> = events.iter().map(|e| (e.actor.as_str(), e.outcome.as_str())).collect();
    // Identical refusals within a minute are one row with a count.
    let refused: i64 = events.iter().filter(|e| e.outcome == "refused").map(|e| e.count).sum();
    assert_eq!(refused, 7, "{outcomes:?}");
    assert!(outcomes.contains(&("nobody", "refused")) && outcomes.contains(&("admin", "ok")));
    assert!(events.iter().all(|e| e.address == "127.0.0.1"));
}

#[tokio::test]
async fn each_viewer_sees_only_the_repositories_granted_to_them() {
    use regent_domain::access::{Grant, Level, Name, Scope, Subject};
    use regent_domain::store::{Actor, Store};
    let seeded = SeededRegistry::start(0).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    {
        // Sarah's set-up, straight in the store: Greg is in QA, QA reads demo/base.
        let store = Store::open(&data.path().join("regent.db")).await.unwrap();
        store.ensure_admin(Some("the admin password")).await.unwrap();
        let sarah = Actor::new("admin", "127.0.0.1");
        let n = |s: &str| Name::parse(s).unwrap();
        store
            .create_user(&sarah, &n("greg"), "greg's long password", false)
            .await
            .unwrap();
        store.create_group(&sarah, &n("qa")).await.unwrap();
        store.add_member(&sarah, &n("qa"), &n("greg"), false).await.unwrap();
        let grant = Grant {
            subject: Subject::parse("group:qa").unwrap(),
            scope: Scope::parse("demo/base").unwrap(),
            level: Level::Read,
        };
        store.put_grant(&sarah, &grant).await.unwrap();
    }
    let url = seeded.registry.url().to_string();
    let regent = start(&["--registry-url", &url, "--data-dir", data.path().to_str().unwrap()]).await;
    regent.index_complete(60).await;
    let stranger = regent.visitor();
    let mut greg = regent.visitor();
    let mut admin = regent.visitor();
    let listed = |html: &str| {
        ["demo/app", "demo/base", "multi/arch", "skopeo/oci"]
            .into_iter()
            .filter(|n| html.contains(&format!("<a href=\"/images/{n}\">{n}</a>")))
            .collect::<Vec<_>>()
    };

    // A stranger sees nothing, and is told why.
    let (_, html) = stranger.get("/images").await;
    assert!(listed(&html).is_empty(), "{html}");
    assert!(html.contains("You are not signed in"), "{html}");
    assert_eq!(stranger.get("/images/demo/base").await.0, 404);
    let (_, html) = stranger.get("/storage").await;
    assert!(
        html.contains("You are not signed in") && !html.contains("data-repository="),
        "{html}"
    );

    // Greg sees demo/base, nothing else, in listings, search, pages and the layer page.
    assert!(greg.sign_in("greg", "greg's long password").await);
    let (_, html) = greg.get("/images").await;
    assert_eq!(listed(&html), ["demo/base"], "{html}");
    assert_eq!(greg.get("/images/demo/base/tags/1.0").await.0, 200);
    assert_eq!(greg.get("/images/demo/app").await.0, 404);
    assert_eq!(greg.get("/images/demo/app/tags/v1").await.0, 404);
    let layer = format!("/layers/{}", seeded.report.shared_layer);
    let (_, html) = greg.get(&layer).await;
    assert!(html.contains("across 1 repository"), "{html}");
    let (_, html) = greg.get(&format!("/images?q={}", seeded.report.shared_layer)).await;
    assert!(html.contains("Tags 1–3 of 3"), "{html}");
    let (_, html) = greg.get("/storage").await;
    assert!(html.contains("data-repository=\"demo/base\"") && !html.contains("data-repository=\"demo/app\""));

    // The admin sees everything.
    assert!(admin.sign_in("admin", "the admin password").await);
    let (_, html) = admin.get("/images").await;
    assert_eq!(listed(&html).len(), 4, "{html}");
}

/// `POST path` over a raw connection with a body of `length` bytes, or (`None`) a chunked body
/// that does not end (64 MiB at most): the status line Regent answers with, once it stops
/// reading. (An HTTP client library would report the broken pipe rather than the answer.)
async fn raw_post(base: &str, path: &str, length: Option<usize>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let framing = match length {
        Some(n) => format!("content-length: {n}"),
        None => "transfer-encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        let piece = "a".repeat(64 * 1024);
        let chunk = match length {
            Some(_) => piece,
            None => format!("{:x}\r\n{piece}\r\n", piece.len()),
        };
        let chunks = length.map_or(1024, |n| n / (64 * 1024));
        for _ in 0..chunks {
            if write.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(30), read.read(&mut answer))
        .await
        .expect("Regent answers before the body ends")
        .unwrap();
    writer.abort();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_huge_form_or_an_endless_upload_gets_413_and_memory_stays_flat() {
    let data = tempfile::tempdir().unwrap();
    let regent = start(&[
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--notifications-secret",
        "a notifications secret",
    ])
    .await;
    let before = regent.memory_kib("VmRSS");
    for path in ["/api/login", "/auth/token", "/api/admin/change_grant"] {
        let huge = raw_post(regent.base(), path, Some(10_000_000 / (64 * 1024) * (64 * 1024))).await;
        assert!(huge.contains(" 413 "), "{path}, 10 MB: {huge}");
        let endless = raw_post(regent.base(), path, None).await;
        assert!(endless.contains(" 413 "), "{path}, endless: {endless}");
    }
    let client = reqwest::Client::new();
    // Notifications may be bigger (a batch of events), within their own limit.
    let events = |size: usize| {
        client
            .post(format!("{}/api/registry/events", regent.base()))
            .bearer_auth("a notifications secret")
            .body(format!("{{\"events\":[],\"padding\":\"{}\"}}", "p".repeat(size)))
            .send()
    };
    assert_eq!(events(1_000_000).await.unwrap().status(), 200);
    assert_eq!(events(3_000_000).await.unwrap().status(), 413);
    let after = regent.memory_kib("VmRSS");
    assert!(
        after < before + 20 * 1024,
        "resident memory went from {before} KiB to {after} KiB"
    );
    let ok = post_form(
        &regent,
        "/api/login",
        &[("username", "admin"), ("password", "wrong password")],
        None,
    )
    .await;
    assert!(
        ok.status().is_success() || ok.status().is_redirection(),
        "ordinary forms still pass: {}",
        ok.status()
    );
}

#[tokio::test]
async fn the_data_directory_and_database_are_private_and_loose_modes_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    {
        let _regent = start(&[
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .await;
        assert_eq!(mode(&data), 0o700);
        for file in ["regent.db", "regent.db-wal", "regent.db-shm"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("regent.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = first_log_lines(&data, &[], 30).join("\n");
    assert!(
        log.contains("is open to other users") && log.contains("chmod 700") && log.contains("chmod 600"),
        "{log}"
    );
}

#[tokio::test]
async fn readyz_tells_anonymous_callers_only_the_status_and_administrators_everything() {
    let data = tempfile::tempdir().unwrap();
    let regent = start(&[
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--admin-password",
        "the admin password",
    ])
    .await;
    let from = |address: &str| {
        reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let readyz = |client: reqwest::Client, cookie: Option<String>| {
        let url = format!("{}/readyz", regent.base());
        async move {
            let mut request = client.get(url);
            if let Some(c) = cookie {
                request = request.header("cookie", c);
            }
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, local) = readyz(from("127.0.0.1"), None).await;
    assert_eq!(status, 503);
    assert!(
        local.contains("http://127.0.0.1:9") && local.contains("\"index\""),
        "{local}"
    );

    let (status, anonymous) = readyz(from("127.0.0.2"), None).await;
    assert_eq!(status, 503, "the status is the same for everyone");
    let json: serde_json::Value = serde_json::from_str(&anonymous).unwrap();
    assert_eq!(json["status"], "registry unavailable");
    assert!(
        !anonymous.contains("127.0.0.1") && json.get("index").is_none() && json.get("registry").is_none(),
        "{anonymous}"
    );
    let (_, proxied) = {
        let r = from("127.0.0.1")
            .get(format!("{}/readyz", regent.base()))
            .header("x-forwarded-for", "203.0.113.5")
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(
        !proxied.contains("\"index\""),
        "through a proxy on this host: {proxied}"
    );

    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", "the admin password").await);
    let (_, detailed) = readyz(from("127.0.0.2"), admin.cookie().map(str::to_owned)).await;
    assert!(detailed.contains("\"index\""), "{detailed}");
}

#[tokio::test]
async fn an_index_listing_no_platforms_opened_for_a_platform_says_so_instead_of_failing() {
    use regent_testkit::push::Pusher;
    let registry = TestRegistry::start().await.unwrap();
    let pusher = Pusher::new(&registry.url());
    let empty = regent_testkit::Blob::new(
        "application/vnd.oci.image.index.v1+json",
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec(),
    );
    pusher.put_manifest("hostile/app", "empty", &empty).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let url = registry.url().to_string();
    let regent = start(&["--registry-url", &url, "--data-dir", data.path().to_str().unwrap()]).await;
    regent.index_complete(60).await;
    for query in ["?platform=linux/arm64", "", "?platform="] {
        let (status, html) = regent.get(&format!("/images/hostile/app/tags/empty{query}")).await;
        assert_eq!(status, 200, "{query}: {html}");
        assert!(html.contains("lists no platform images"), "{query}: {html}");
    }
    let (status, _) = regent.get("/healthz").await;
    assert_eq!(status, 200, "still serving");
}
