//! Registry tokens for company-directory users: what `docker pull` storms cost when the
//! passwords live in the directory.
//!
//! Starts the real OpenLDAP server (testkit, ldaps:// with a test CA) holding Sarah's company
//! and 200 more QA users, and the release `regent` binary signing them in (pool of 4
//! connections), then measures in the same run:
//! 1. the baseline, `GET /healthz` with `wrk` (64 connections, 2 threads, 10 s, `--latency`);
//! 2. warm: `GET /auth/token` with Greg's directory credentials on every request (the check
//!    comes from the credential cache), the same `wrk` run;
//! 3. cold: one token each for 200 users never seen before, 64 at a time, each from its own
//!    loopback address, each request's own latency;
//!
//! and counts what slapd saw: Greg's binds during the warm run (at most one per cache window
//! however many tokens) and the connections Regent opened (never more than the pool).
//! Targets: warm ≥ 2,000 tokens/s and p99 ≤ 15 ms; cold p99 ≤ 100 ms; one bind per user per
//! window; at most 4 connections.
//!
//! Run: `cargo bench -p regent --bench directory_tokens` (needs wrk, slapd and ldap-utils).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regent_domain::access::{Grant, Level, Scope, Subject};
use regent_domain::store::{Actor, Store};
use regent_testkit::directory::{GROUP_BASE, SERVICE_DN, SERVICE_PASSWORD, USER_BASE, password_of};
use regent_testkit::regent::RegentProcess;
use regent_testkit::wrk::Wrk;
use regent_testkit::{TestDirectory, free_port};
use std::time::{Duration, Instant};

const POOL: usize = 4;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let slapd = TestDirectory::start().await.expect("slapd");
    let cold_users = slapd.add_users("tester", 200, "qa").expect("200 more QA users");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    store.ensure_admin(Some("the admin password")).await.unwrap();
    let secret = dir.path().join("directory-password");
    std::fs::write(&secret, SERVICE_PASSWORD).unwrap();
    drop(store);

    let (ldaps, ca, secret, pool) = (
        slapd.ldaps_url(),
        slapd.ca_file().display().to_string(),
        secret.display().to_string(),
        POOL.to_string(),
    );
    let regent = RegentProcess::start_with_env(
        env!("CARGO_BIN_EXE_regent"),
        &format!("127.0.0.1:{}", free_port()),
        &[
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[
            ("REGENT_DIRECTORY_URL", ldaps.as_str()),
            ("REGENT_DIRECTORY_CA_FILE", ca.as_str()),
            ("REGENT_DIRECTORY_BIND_DN", SERVICE_DN),
            ("REGENT_DIRECTORY_BIND_PASSWORD_FILE", secret.as_str()),
            ("REGENT_DIRECTORY_USER_BASE", USER_BASE),
            ("REGENT_DIRECTORY_GROUP_BASE", GROUP_BASE),
            ("REGENT_DIRECTORY_POOL_SIZE", pool.as_str()),
        ],
    )
    .await;
    let base = regent.base().to_owned();
    let token_url = format!("{base}/auth/token?service=regent-registry&scope=repository:skyfield:pull");
    let http = reqwest::Client::new();
    let greg_dn = format!("uid=greg,{USER_BASE}");
    let (binds_before, accepted_before) = (slapd.binds_as(&greg_dn), slapd.connections());
    // Greg's first token makes his user and the group qa; then Sarah's grant.
    let first = http
        .get(&token_url)
        .basic_auth("greg", Some(password_of("greg")))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
    let grant = Grant {
        subject: Subject::parse("group:qa").unwrap(),
        scope: Scope::parse("skyfield").unwrap(),
        level: Level::Read,
    };
    store
        .put_grant(&Actor::new("admin", "127.0.0.1"), &grant)
        .await
        .unwrap();
    drop(store);

    let baseline = Wrk::new(format!("{base}/healthz")).run_blocking().await;
    let basic = format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("greg:{}", password_of("greg")))
    );
    let warm = Wrk::new(token_url.clone()).header(basic).run_blocking().await;
    let warm_binds = slapd.binds_as(&greg_dn) - binds_before;

    // 200 people at their own machines: each cold user asks from its own loopback address
    // (127.0.0.2 on), as the per-address sign-in throttle would refuse 64 new accounts at once
    // from one address.
    let machines: Vec<reqwest::Client> = (0..cold_users.len())
        .map(|i| {
            let address: std::net::IpAddr = format!("127.0.0.{}", 2 + i % 249).parse().unwrap();
            reqwest::Client::builder().local_address(address).build().unwrap()
        })
        .collect();
    let mut latencies = Vec::new();
    let started = Instant::now();
    for (chunk, machines) in cold_users.chunks(64).zip(machines.chunks(64)) {
        // Spawned together (collected before the first await): 64 asking at once.
        let asks: Vec<_> = chunk
            .iter()
            .zip(machines)
            .map(|(user, http)| {
                let (http, url, user) = (http.clone(), token_url.clone(), user.clone());
                tokio::spawn(async move {
                    let at = Instant::now();
                    let r = http
                        .get(&url)
                        .basic_auth(&user, Some(password_of(&user)))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    assert_eq!(status, 200, "{user}: {}", r.text().await.unwrap_or_default());
                    at.elapsed()
                })
            })
            .collect();
        for ask in asks {
            latencies.push(ask.await.unwrap());
        }
    }
    let cold_total = started.elapsed();
    latencies.sort();
    let cold_p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    let cold_p50 = latencies[latencies.len() / 2];
    let accepted = slapd.connections() - accepted_before;
    let cold_binds: usize = cold_users
        .iter()
        .map(|u| slapd.binds_as(&format!("uid={u},{USER_BASE}")))
        .sum();

    println!("release regent, slapd over ldaps://, same run:");
    println!(
        "  baseline GET /healthz (wrk -c64 10 s)      {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        baseline.rate, baseline.p50_ms, baseline.p99_ms
    );
    println!(
        "  warm: greg's directory credentials (wrk)   {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({:.2} of baseline)",
        warm.rate,
        warm.p50_ms,
        warm.p99_ms,
        warm.rate / baseline.rate
    );
    println!(
        "  cold: 200 new directory users, 64 at once  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        latencies.len() as f64 / cold_total.as_secs_f64(),
        ms(cold_p50),
        ms(cold_p99)
    );
    println!(
        "  greg's binds (first token + warm run): {warm_binds}; the 200 cold users' binds: {cold_binds}; connections slapd accepted from Regent: {accepted}"
    );
    let mut targets = regent_testkit::targets::Targets::new();
    targets.at_least("warm directory tokens", warm.rate, 2000.0, "req/s");
    targets.at_most("warm directory tokens: p99", warm.p99_ms, 15.0, "ms");
    targets.at_most("cold directory tokens: p99", ms(cold_p99), 100.0, "ms");
    targets.holds(
        format!("greg's binds in one cache window: {warm_binds} (target exactly 1)"),
        warm_binds == 1,
    );
    targets.holds(
        format!("binds of 200 cold users: {cold_binds} (target exactly 200, one each)"),
        cold_binds == 200,
    );
    targets.at_most("directory connections", accepted as f64, POOL as f64, "connections");
    targets.exit()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
