//! Regent as it runs in production: `/metrics` counts what happened (a push, a token, a failed
//! sign-in) under low-cardinality labels and is served only where it should be; SIGTERM takes
//! Regent out of service at once, lets a running request finish, applies the queued
//! notifications and exits 0; `REGENT_LOG_FORMAT=json` writes one JSON object per line.

use regent_testkit::regent::{RegentProcess, command, make_public};
use regent_testkit::slow_proxy::SlowProxy;
use regent_testkit::{TestRegistry, free_port};
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";
const SECRET: &str = "notification-secret-for-tests-0123";

/// The sum of every series of `name` whose labels include all of `labels` (`key="value"`).
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|want| rest.contains(want))).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_a_push_a_token_and_a_failed_sign_in_without_naming_repositories() {
    let port = free_port();
    let mut registry = TestRegistry::start().await.unwrap();
    registry
        .notify(
            &format!("http://127.0.0.1:{port}/api/registry/events"),
            &format!("Bearer {SECRET}"),
        )
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    make_public(REGENT, data.path());
    let regent = RegentProcess::start(
        REGENT,
        &format!("127.0.0.1:{port}"),
        &[
            "--registry-url",
            registry.url().as_str(),
            "--data-dir",
            data.path().to_str().unwrap(),
            "--notifications-secret",
            SECRET,
            "--admin-password",
            ADMIN_PASSWORD,
        ],
    )
    .await;
    regent.index_complete(60).await;
    let metrics = format!("{}/metrics", regent.base());
    // Not from this machine and not an administrator: refused; an administrator: allowed.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = elsewhere.get(&metrics).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let login = elsewhere
        .post(format!("{}/api/login", regent.base()))
        .header("origin", regent.base())
        .header("accept", "text/html")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let r = elsewhere.get(&metrics).header("cookie", cookie).send().await.unwrap();
    assert_eq!(r.status(), 200, "an administrator's session");

    let before = scrape(&metrics).await;

    let image = regent_testkit::single_file_image("metered").unwrap();
    regent_testkit::push::Pusher::new(&registry.url())
        .push("secret-team/metered-app", "v1", &image)
        .await
        .unwrap();
    regent
        .get_until(
            "/readyz",
            "\"tags\":1",
            Duration::from_millis(100),
            Duration::from_secs(20),
        )
        .await;
    let token = reqwest::Client::new()
        .get(format!(
            "{}/auth/token?service=regent-registry&scope=repository:secret-team/metered-app:pull",
            regent.base()
        ))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let mut visitor = regent.visitor();
    assert!(!visitor.sign_in("admin", "not the password").await);

    let after = scrape(&metrics).await;
    let moved = |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    assert_eq!(moved("regent_tokens_total", &["outcome=\"issued\""]), 1.0, "{after}");
    assert_eq!(
        moved("regent_token_request_duration_seconds_count", &["outcome=\"issued\""]),
        1.0
    );
    assert!(
        moved("regent_http_requests_total", &["route=\"/api/login\""]) >= 1.0,
        "{after}"
    );
    assert!(
        moved(
            "regent_http_requests_total",
            &["route=\"/auth/token\"", "status=\"200\""]
        ) >= 1.0
    );
    assert!(moved("regent_http_requests_total", &["route=\"/api/registry/events\""]) >= 1.0);
    assert!(
        moved("regent_audit_writes_total", &[]) >= 1.0,
        "the refused sign-in is audited"
    );
    assert!(
        moved(
            "regent_registry_requests_total",
            &["operation=\"manifest\"", "status=\"200\""]
        ) >= 1.0,
        "the notification's manifest was read: {after}"
    );
    assert_eq!(sample(&after, "regent_index_tags", &[]), 1.0);
    assert_eq!(sample(&after, "regent_index_repositories", &[]), 1.0);
    assert!(sample(&after, "regent_index_crawls_total", &["outcome=\"ok\""]) >= 1.0);
    assert!(
        after.contains("regent_http_request_duration_seconds_bucket"),
        "a histogram"
    );
    assert!(after.contains("regent_notification_queue_depth 0"), "{after}");
    assert!(
        !after.contains("secret-team") && !after.contains("metered"),
        "no repository name in any label"
    );
}

#[tokio::test]
async fn metrics_listen_serves_metrics_on_their_own_address_only() {
    let registry = TestRegistry::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let metrics_address = format!("127.0.0.1:{}", free_port());
    let regent = RegentProcess::start(
        REGENT,
        &format!("127.0.0.1:{}", free_port()),
        &[
            "--registry-url",
            registry.url().as_str(),
            "--data-dir",
            data.path().to_str().unwrap(),
            "--metrics-listen",
            &metrics_address,
        ],
    )
    .await;
    let (status, _) = regent.get("/metrics").await;
    assert_eq!(status, 404, "not on the main address when it has its own");
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let text = elsewhere
        .get(format!("http://{metrics_address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("regent_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/healthz\""),
        "the start-up wait is counted: {text}"
    );
}

/// The status of `child` once it has exited, waiting `limit` at most.
fn exit_within(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn sigterm_turns_readyz_503_finishes_the_running_request_applies_queued_notifications_and_exits_0() {
    let registry = TestRegistry::start().await.unwrap();
    let image = regent_testkit::single_file_image("late").unwrap();
    let digest = regent_testkit::push::Pusher::new(&registry.url())
        .push("slow/app", "v1", &image)
        .await
        .unwrap();
    // Every registry request Regent makes takes a second and a half.
    let proxy = SlowProxy::start(registry.host(), Duration::from_millis(1500))
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("regent.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = command(
        REGENT,
        &[
            "--listen",
            &listen,
            "--registry-url",
            &proxy.url(),
            "--data-dir",
            data.path().join("data").to_str().unwrap(),
            "--notifications-secret",
            SECRET,
            "--shutdown-grace-seconds",
            "15",
            "--index-reconcile-interval-seconds",
            "3600",
        ],
    )
    .env("REGENT_LOG_FORMAT", "json")
    .stdout(log.try_clone().unwrap())
    .stderr(log)
    .spawn()
    .unwrap();
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "regent did not start");

    // A request that takes a while: /readyz asks the (slow) registry.
    let slow = tokio::spawn({
        let url = format!("{base}/readyz");
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    // A notification queued for the index, whose manifest read is just as slow.
    let envelope = format!(
        r#"{{"events":[{{"action":"push","target":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"slow/app","tag":"v1","digest":"{digest}"}}}}]}}"#
    );
    let queued = http
        .post(format!("{base}/api/registry/events"))
        .bearer_auth(SECRET)
        .body(envelope)
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!slow.is_finished(), "the slow request is still running");

    let signalled = Instant::now();
    // SAFETY: kill(2) on the child we spawned and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let mut ready = (0, String::new());
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            ready = (r.status().as_u16(), r.text().await.unwrap());
            break;
        }
    }
    assert_eq!(ready.0, 503, "{}", ready.1);
    assert!(ready.1.contains("shutting down"), "{}", ready.1);
    assert!(
        signalled.elapsed() < Duration::from_millis(1200),
        "503 before the slow request could finish"
    );

    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "the request running at SIGTERM finished: {body}");
    let exited = tokio::task::spawn_blocking(move || exit_within(&mut child, Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("regent exits within the grace");
    assert!(exited.success(), "{exited}");

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let said = |words: &str| {
        lines
            .iter()
            .any(|l| l["fields"]["message"].as_str().is_some_and(|m| m.contains(words)))
    };
    assert!(said("shutting down"), "{log}");
    assert!(said("applied the queued registry notifications"), "{log}");
    assert!(said("stopped"), "{log}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}
