//! Server-side render time of the repository page for a repository with 1,000 tags, against
//! the real registry and the real `regent` binary.
//!
//! 1. Pushes `REGENT_BENCH_TAGS` (default 1,000) distinct images as tags of `bench/big`, and
//!    one tag of `bench/small`, to a fresh Debian registry.
//! 2. Starts `regent` and waits for its first crawl.
//! 3. Fetches each page 300 times over one keep-alive connection, interleaved, and reports
//!    p50 / p99: `/healthz` (the HTTP floor, no rendering), the 1-tag repository page (the
//!    rendering floor), and the 1,000-tag page sorted by name, by newest first, and 100 rows.
//!    Ratios are against the 1-tag page measured in the same run.
//!
//! Run: `cargo bench -p regent --bench pages`

use regent_testkit::push::Pusher;
use regent_testkit::regent::RegentProcess;
use regent_testkit::{TestRegistry, free_port, single_file_image};
use std::time::{Duration, Instant};

const ROUNDS: usize = 300;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let tags: usize = std::env::var("REGENT_BENCH_TAGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let registry = TestRegistry::start().await.expect("start the registry");
    let pusher = Pusher::new(&registry.url());
    let t = Instant::now();
    // Eight pushers at once, each taking every eighth tag.
    let mut pushers = tokio::task::JoinSet::new();
    for first in 0..8 {
        let url = registry.url();
        pushers.spawn(async move {
            let pusher = Pusher::new(&url);
            for i in (first..tags).step_by(8) {
                let image = single_file_image(&format!("bench image {i}")).unwrap();
                pusher.push("bench/big", &format!("v{i:04}"), &image).await.unwrap();
            }
        });
    }
    while let Some(done) = pushers.join_next().await {
        done.expect("every push succeeds");
    }
    let small = single_file_image("small").unwrap();
    pusher.push("bench/small", "1", &small).await.unwrap();
    println!("pushed {tags} tags in {:.0} s", t.elapsed().as_secs_f64());

    let data = tempfile::tempdir().unwrap();
    regent_testkit::regent::make_public(env!("CARGO_BIN_EXE_regent"), data.path());
    let listen = format!("127.0.0.1:{}", free_port());
    let registry_url = registry.url().to_string();
    let args = [
        "--registry-url",
        &registry_url,
        "--data-dir",
        data.path().to_str().unwrap(),
    ];
    let regent = RegentProcess::start(env!("CARGO_BIN_EXE_regent"), &listen, &args).await;
    regent.index_complete(120).await;

    let pages = [
        ("/healthz", "HTTP floor: /healthz"),
        ("/images/bench/small", "1-tag repository page"),
        ("/images/bench/big", "1,000-tag page, by name, 25 rows"),
        (
            "/images/bench/big?sort=-created",
            "1,000-tag page, newest first, 25 rows",
        ),
        (
            "/images/bench/big?sort=-size&per_page=100",
            "1,000-tag page, by size, 100 rows",
        ),
    ];
    let client = reqwest::Client::new();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(ROUNDS); pages.len()];
    for round in 0..ROUNDS + 20 {
        for (i, (path, _)) in pages.iter().enumerate() {
            let t = Instant::now();
            let response = client.get(format!("{}{path}", regent.base())).send().await.unwrap();
            assert!(response.status().is_success(), "{path}: {}", response.status());
            let body = response.text().await.unwrap();
            let elapsed = t.elapsed();
            assert!(
                path.starts_with("/healthz") || body.contains("data-fact=\"tags\""),
                "{path} rendered"
            );
            // The first rounds warm caches and connections.
            if round >= 20 {
                samples[i].push(elapsed);
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let quantile = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
    };
    let small_p50 = quantile(&mut samples[1].clone(), 0.5);
    let mut targets = regent_testkit::targets::Targets::new();
    for ((path, label), v) in pages.iter().zip(samples.iter_mut()) {
        let p50 = quantile(v, 0.5);
        let p99 = quantile(v, 0.99);
        println!(
            "{label:<42} p50 {:>6.2} ms  p99 {:>6.2} ms  p50 ÷ 1-tag page {:.2}",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / small_p50.as_secs_f64()
        );
        if path.starts_with("/images/bench/big") {
            targets.at_most(&format!("{label}: p50"), ms(p50), 10.0, "ms");
        }
    }
    targets.exit()
}
