//! The index against the real registry: cold-crawl rate versus the registry's own manifest-GET
//! rate, and the time from a push to the tag being searchable through notifications.
//!
//! 1. Seeds a fresh Debian registry with `REGENT_BENCH_REPOS` (default 2,000) repositories of
//!    1 to 3 tags each (plus the sample set).
//! 2. Baseline: `wrk` GETs one manifest (all four Accept types) for 10 s with the same number
//!    of connections as the crawl's concurrency.
//! 3. Cold crawl of the whole registry by a fresh `CatalogIndex`, same concurrency; reports
//!    registry requests/s (compare with wrk) and tags/s.
//! 4. Second baseline: `wrk` replays the crawl's own requests (every tag list, manifest by tag,
//!    config blob and platform manifest, in a loop) with the same connections. Blob GETs cost
//!    the registry about twice a manifest GET, so this is the rate the registry can serve
//!    the crawl's work at; crawl ÷ this is how much of it the crawl uses.
//! 5. Starts the `regent` binary with notifications from the registry, pushes 30 new tags one
//!    at a time and measures push-complete → visible in search (polling every 10 ms).
//!
//! Run: `cargo bench -p regent --bench registry` (needs wrk: apt-get install wrk).

use regent_domain::index::{CatalogIndex, IndexSettings};
use regent_domain::registry::{RegistryClient, RegistryConfig};
use regent_testkit::regent::RegentProcess;
use regent_testkit::wrk::Wrk;
use regent_testkit::{SeededRegistry, free_port};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 8;
const SECRET: &str = "benchmark-notification-secret";

const ACCEPT: &str = "Accept: application/vnd.docker.distribution.manifest.v2+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json, \
                      application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// Cycles through the paths in the file given after `--`, each thread from its own start.
const REPLAY_LUA: &str = r#"
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"#;

/// Every request a cold crawl makes, except the catalog pages: tag lists, manifests by tag,
/// config blobs, and the per-platform manifests of lists/indexes.
fn crawl_paths(index: &CatalogIndex) -> Vec<String> {
    let data = index.read();
    let mut paths = Vec::new();
    for (name, _, _) in data.repositories() {
        paths.push(format!("/v2/{name}/tags/list"));
        for tag in data.repository_tag_infos(name).unwrap_or_default() {
            paths.push(format!("/v2/{name}/manifests/{}", tag.tag));
            if let Some(config) = &tag.image_id {
                paths.push(format!("/v2/{name}/blobs/{config}"));
            }
            for child in &tag.children {
                paths.push(format!("/v2/{name}/manifests/{}", child.digest));
                if let Some(config) = &child.image_id {
                    paths.push(format!("/v2/{name}/blobs/{config}"));
                }
            }
        }
    }
    paths
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let repos: usize = std::env::var("REGENT_BENCH_REPOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let t = Instant::now();
    let mut seeded = SeededRegistry::start(repos).await.expect("seed the registry");
    let tags: usize = seeded.report.tags.values().map(|t| t.len()).sum();
    println!(
        "seeded {} repositories / {tags} tags in {:.0} s",
        seeded.report.tags.len(),
        t.elapsed().as_secs_f64()
    );

    // Baseline: the registry's own manifest-GET rate.
    let manifest = seeded.registry.url().join("v2/bulk/app-0001/manifests/v1").unwrap();
    let wrk = Wrk::new(manifest.as_str())
        .connections(CONCURRENCY)
        .header(ACCEPT)
        .run()
        .rate;
    println!("baseline  wrk manifest GET, {CONCURRENCY} connections: {wrk:.0} req/s");

    // Cold crawl, same concurrency.
    let mut config = RegistryConfig::new(seeded.registry.url());
    config.timeout = Duration::from_secs(30);
    let registry = Arc::new(RegistryClient::new(config).unwrap());
    let index = CatalogIndex::new(
        registry,
        IndexSettings {
            concurrency: CONCURRENCY,
            ..Default::default()
        },
    );
    let t = Instant::now();
    index.crawl().await.expect("crawl");
    let elapsed = t.elapsed().as_secs_f64();
    let status = index.status();
    let rate = status.requests as f64 / elapsed;
    println!(
        "crawl     {} repositories, {} tags, {} requests in {elapsed:.2} s: {rate:.0} req/s, {:.0} tags/s, {:.0} repositories/s",
        status.repositories_done,
        index.read().tag_count(),
        status.requests,
        index.read().tag_count() as f64 / elapsed,
        status.repositories_done as f64 / elapsed,
    );
    println!("ratio     crawl requests/s ÷ wrk manifest GET/s = {:.2}", rate / wrk);
    let mut targets = regent_testkit::targets::Targets::new();
    targets.at_least("cold crawl rate ÷ wrk manifest GET rate", rate / wrk, 0.90, "");

    // Baseline 2: the registry serving exactly the crawl's requests.
    let paths = crawl_paths(&index);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("paths.txt");
    std::fs::write(&list, paths.join("\n")).unwrap();
    let script = dir.path().join("replay.lua");
    std::fs::write(&script, REPLAY_LUA).unwrap();
    let replay = Wrk::new(seeded.registry.url().as_str())
        .connections(CONCURRENCY)
        .header(ACCEPT)
        .script(&script, &[&list])
        .run()
        .rate;
    println!(
        "baseline  wrk replaying the crawl's {} distinct requests, {CONCURRENCY} connections: {replay:.0} req/s",
        paths.len()
    );
    println!(
        "ratio     crawl requests/s ÷ wrk replay of the same requests/s = {:.2}",
        rate / replay
    );

    // Push → searchable through notifications, with the real regent binary.
    let port = free_port();
    let events = format!("http://127.0.0.1:{port}/api/registry/events");
    seeded
        .registry
        .notify(&events, &format!("Bearer {SECRET}"))
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    regent_testkit::regent::make_public(env!("CARGO_BIN_EXE_regent"), data.path());
    let listen = format!("127.0.0.1:{port}");
    let registry_url = seeded.registry.url().to_string();
    let args = [
        "--registry-url",
        &registry_url,
        "--data-dir",
        data.path().to_str().unwrap(),
        "--notifications-secret",
        SECRET,
        "--index-reconcile-interval-seconds",
        "86400",
    ];
    let regent = RegentProcess::start(env!("CARGO_BIN_EXE_regent"), &listen, &args).await;
    regent.index_complete(120).await;
    let pusher = regent_testkit::push::Pusher::new(&seeded.registry.url());
    let mut latencies = Vec::new();
    for i in 0..30 {
        let image = regent_testkit::single_file_image(&format!("push {i}")).unwrap();
        let digest = pusher.push("bench/pushed", &format!("t{i}"), &image).await.unwrap();
        let pushed = Instant::now();
        let needle = format!("data-digest=\"{digest}\"");
        let page = format!("/images?q={digest}");
        regent
            .get_until(&page, &needle, Duration::from_millis(10), Duration::from_secs(30))
            .await;
        latencies.push(pushed.elapsed());
    }
    drop(regent);
    println!(
        "notify    each push, in order (ms): {:?}",
        latencies.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "notify    push → searchable over {} pushes: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]),
        ms(*latencies.last().unwrap())
    );
    targets.at_most(
        "push → searchable through notifications, p99",
        ms(latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]),
        2000.0,
        "ms",
    );
    targets.exit()
}
