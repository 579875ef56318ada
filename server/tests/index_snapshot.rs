//! The `regent` binary's index snapshot (docs/index-snapshot.md): written at shutdown with
//! what notifications brought, loaded at the next start so searches answer while the
//! registry is down, and ignored with a warning when damaged.

use regent_testkit::push::Pusher;
use regent_testkit::regent::{command, make_public};
use regent_testkit::{TestRegistry, free_port};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const SECRET: &str = "notification-secret-for-tests-0123";

/// `regent` with its log in `log`, killed on drop.
struct Regent {
    child: Child,
    base: String,
}

impl Drop for Regent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(registry: &str, data: &Path, log: &Path) -> Regent {
    let listen = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(log).unwrap();
    let child = command(
        REGENT,
        &[
            "--listen",
            &listen,
            "--registry-url",
            registry,
            "--data-dir",
            data.to_str().unwrap(),
            "--notifications-secret",
            SECRET,
            // Only the crawl and the shutdown write it in these tests.
            "--index-snapshot-interval-seconds",
            "3600",
            "--index-reconcile-interval-seconds",
            "3600",
        ],
    )
    .stdout(log.try_clone().unwrap())
    .stderr(log)
    .spawn()
    .unwrap();
    let regent = Regent {
        child,
        base: format!("http://{listen}"),
    };
    for _ in 0..200 {
        if reqwest::get(format!("{}/healthz", regent.base)).await.is_ok() {
            return regent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("regent did not start");
}

impl Regent {
    async fn get(&self, path: &str) -> String {
        match reqwest::get(format!("{}{path}", self.base)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Polls `path` (20 s at most) until it contains `needle`.
    async fn get_until(&self, path: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let body = self.get(path).await;
            if body.contains(needle) {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{path} never showed {needle:?}; last body:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then waits (20 s at most) for a clean exit.
    fn stop(&mut self) {
        // SAFETY: kill(2) on the child we spawned and have not reaped.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) }, 0);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("regent did not stop within 20 s of SIGTERM");
    }
}

#[tokio::test]
async fn a_tag_pushed_while_regent_runs_is_found_after_a_restart_while_the_registry_is_down() {
    let mut registry = TestRegistry::start().await.unwrap();
    let pusher = Pusher::new(&registry.url());
    let first = regent_testkit::single_file_image("there at start").unwrap();
    pusher.push("team/a", "1", &first).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    make_public(REGENT, &data);
    let url = registry.url().to_string();
    let mut regent = start(&url, &data, &dir.path().join("first.log")).await;
    regent.get_until("/readyz", "\"complete\":true").await;

    // Pushed after the crawl; only the notification tells Regent.
    let image = regent_testkit::single_file_image("pushed while regent runs").unwrap();
    let digest = pusher.push("team/c", "new", &image).await.unwrap();
    let envelope = format!(
        r#"{{"events":[{{"action":"push","target":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"team/c","tag":"new","digest":"{digest}"}}}}]}}"#
    );
    let answer = reqwest::Client::new()
        .post(format!("{}/api/registry/events", regent.base))
        .bearer_auth(SECRET)
        .body(envelope)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    regent
        .get_until("/images?q=team/c:new", &format!("data-digest=\"{digest}\""))
        .await;
    regent.stop();
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    assert!(log.contains("wrote the index snapshot"), "{log}");

    registry.stop();
    let regent = start(&url, &data, &dir.path().join("second.log")).await;
    let page = regent.get("/images?q=team/c:new").await;
    assert!(page.contains(&format!("data-digest=\"{digest}\"")), "{page}");
    assert!(page.contains("Showing the index as of"), "{page}");
    assert!(page.contains("refreshing"), "{page}");
    let ready = regent.get("/readyz").await;
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert!(ready["index"]["restored_from"].is_string(), "{ready}");
}

#[tokio::test]
async fn a_damaged_snapshot_is_ignored_with_a_warning_and_the_cold_crawl_answers() {
    let registry = TestRegistry::start().await.unwrap();
    let image = regent_testkit::single_file_image("the real one").unwrap();
    let digest = Pusher::new(&registry.url()).push("team/a", "1", &image).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    make_public(REGENT, &data);
    let mut damaged = b"REGENTIX".to_vec();
    damaged.extend_from_slice(&1u32.to_le_bytes());
    damaged.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    std::fs::write(data.join("index.snapshot"), damaged).unwrap();

    let log_path = dir.path().join("regent.log");
    let regent = start(registry.url().as_str(), &data, &log_path).await;
    regent
        .get_until("/images?q=team/a:1", &format!("data-digest=\"{digest}\""))
        .await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("ignoring the index snapshot") && log.contains("WARN"),
        "{log}"
    );
    // The crawl writes a good one over it, just after it finishes.
    let started = Instant::now();
    let snapshot = loop {
        let written = std::fs::read(data.join("index.snapshot")).unwrap_or_default();
        if let Ok(s) = regent_domain::index::snapshot::decode(&written, registry.url().as_str()) {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the damaged snapshot was never replaced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(snapshot.data.tag_count(), 1);
}
