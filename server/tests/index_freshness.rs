//! The index's promises about freshness, against the `regent` binary and the real registry:
//! a push whose notification never arrived still shows after the periodic re-crawl, and while
//! the first crawl runs every listing says its results are partial and shows the progress.

use regent_testkit::regent::{RegentProcess, make_public};
use regent_testkit::slow_proxy::SlowProxy;
use regent_testkit::{SeededRegistry, TestRegistry, free_port, single_file_image};
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");

async fn start(registry_url: &str, data: &std::path::Path, extra: &[&str]) -> RegentProcess {
    make_public(REGENT, data);
    let mut args = vec!["--registry-url", registry_url, "--data-dir", data.to_str().unwrap()];
    args.extend_from_slice(extra);
    RegentProcess::start(REGENT, &format!("127.0.0.1:{}", free_port()), &args).await
}

#[tokio::test]
async fn a_push_whose_notification_was_lost_shows_after_the_periodic_recrawl() {
    // No notifications are configured: Regent learns of the push only by re-crawling.
    let registry = TestRegistry::start().await.unwrap();
    let pusher = regent_testkit::push::Pusher::new(&registry.url());
    pusher
        .push("team/app", "1.0", &single_file_image("before").unwrap())
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = registry.url().to_string();
    let regent = start(&url, data.path(), &["--index-reconcile-interval-seconds", "10"]).await;
    regent.index_complete(60).await;
    let (_, page) = regent.get("/images/team/app").await;
    assert!(page.contains(">1.0</a>") && !page.contains(">2.0</a>"), "{page}");

    // skopeo, an independent client, pushes a second tag.
    let layout = tempfile::tempdir().unwrap();
    let image = single_file_image("after").unwrap();
    regent_testkit::image::write_oci_layout(layout.path(), &[("app", &image)]).unwrap();
    regent_testkit::skopeo::copy_layout_to_registry(
        layout.path(),
        "app",
        &registry.host(),
        "team/app:2.0",
        regent_testkit::skopeo::Format::Oci,
        false,
        None,
    )
    .unwrap();
    let pushed = Instant::now();
    let page = regent
        .get_until(
            "/images/team/app",
            ">2.0</a>",
            Duration::from_millis(250),
            Duration::from_secs(40),
        )
        .await;
    assert!(page.contains(image.digest()), "the re-crawl read the new tag's digest");
    println!(
        "the re-crawl found the push after {:.1} s",
        pushed.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn while_the_first_crawl_runs_the_images_page_says_results_are_partial() {
    let seeded = SeededRegistry::start(120).await.unwrap();
    // Every request to the registry arrives 40 ms late and the crawl makes one at a time, so
    // the first crawl of ~130 repositories takes several seconds.
    let slow = SlowProxy::start(
        format!("127.0.0.1:{}", seeded.registry.port()),
        Duration::from_millis(40),
    )
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let regent = start(&slow.url(), data.path(), &["--index-crawl-concurrency", "1"]).await;

    let (status, page) = regent.get("/images").await;
    assert_eq!(status, 200);
    assert!(page.contains("Results are partial until it finishes."), "{page}");
    assert!(page.contains("<progress"), "a progress bar: {page}");

    regent.index_complete(120).await;
    let (_, page) = regent.get("/images").await;
    assert!(
        !page.contains("Results are partial"),
        "the notice goes once the crawl is done"
    );
}
