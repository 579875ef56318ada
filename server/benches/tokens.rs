//! Token issuance under load: what `docker pull` storms cost Regent.
//!
//! Starts the release `regent` binary with a store holding Sarah's team, then runs `wrk`
//! (64 connections, 2 threads, 10 s, `--latency`) against:
//! 1. the baseline: `GET /healthz`, a trivial axum handler behind the same layers (sessions,
//!    same-origin check, tracing) in the same process;
//! 2. `GET /auth/token` with Greg's Basic credentials on every request and a pull scope on
//!    `skyfield` (the repeated-pull case: the password check comes from the cache);
//! 3. the same anonymously on a public namespace (no password at all);
//!
//! and reports requests/s, p50 and p99 for each, and token ÷ baseline rates. Target: at least
//! 5,000 tokens/s and p99 at most 10 ms on 2 cores.
//!
//! Run: `cargo bench -p regent --bench tokens` (needs wrk: apt-get install wrk).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regent_domain::access::{Grant, Level, Name, Scope, Subject};
use regent_domain::store::{Actor, Store};
use regent_testkit::free_port;
use regent_testkit::regent::RegentProcess;
use regent_testkit::wrk::Wrk;

const PASSWORD: &str = "greg's long password";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    store.ensure_admin(Some("the admin password")).await.unwrap();
    let sarah = Actor::new("admin", "127.0.0.1");
    let n = |s: &str| Name::parse(s).unwrap();
    store.create_user(&sarah, &n("greg"), PASSWORD, false).await.unwrap();
    store.create_group(&sarah, &n("qa")).await.unwrap();
    store.add_member(&sarah, &n("qa"), &n("greg"), false).await.unwrap();
    for (subject, scope) in [("group:qa", "skyfield"), ("anonymous", "public/*")] {
        let grant = Grant {
            subject: Subject::parse(subject).unwrap(),
            scope: Scope::parse(scope).unwrap(),
            level: Level::Read,
        };
        store.put_grant(&sarah, &grant).await.unwrap();
    }
    drop(store);

    let regent = RegentProcess::start(
        env!("CARGO_BIN_EXE_regent"),
        &format!("127.0.0.1:{}", free_port()),
        &[
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
    )
    .await;
    let base = regent.base().to_owned();
    let basic = format!("Authorization: Basic {}", STANDARD.encode(format!("greg:{PASSWORD}")));
    let token_url = format!("{base}/auth/token?service=regent-registry&scope=repository:skyfield:pull");
    // Warm up (and prove the request is a good one).
    let (status, body) = regent
        .visitor()
        .get("/auth/token?service=regent-registry&scope=repository:public/base:pull")
        .await;
    assert_eq!(status, 200, "{body}");

    let baseline = Wrk::new(format!("{base}/healthz")).run_blocking().await;
    let with_password = Wrk::new(token_url.clone()).header(basic).run_blocking().await;
    let anonymous = Wrk::new(format!(
        "{base}/auth/token?service=regent-registry&scope=repository:public/base:pull"
    ))
    .run_blocking()
    .await;

    println!("{}, release regent, same run:", Wrk::new("").describe());
    for (name, load) in [
        ("baseline GET /healthz", &baseline),
        ("token, Basic credentials (cached check)", &with_password),
        ("token, anonymous", &anonymous),
    ] {
        println!(
            "  {name:<42} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({:.2} of baseline)",
            load.rate,
            load.p50_ms,
            load.p99_ms,
            load.rate / baseline.rate
        );
    }
    let mut targets = regent_testkit::targets::Targets::new();
    targets.at_least("tokens with Basic credentials", with_password.rate, 5000.0, "req/s");
    targets.at_most("tokens with Basic credentials: p99", with_password.p99_ms, 10.0, "ms");
    targets.exit()
}
