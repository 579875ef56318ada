//! A flood of sign-ins against the `regent` binary (the release build under `cargo bench`):
//! 500 token requests at once with made-up names from 249 loopback addresses (127.0.0.2 to
//! 127.0.0.250, so the per-address throttle does not stop them), while 40 real users run
//! `docker login` (a token request with their password) one after another from where they
//! usually sign in.
//!
//! Reports Regent's peak resident memory (`VmHWM`) and the latency of the real logins, and
//! exits non-zero when the peak is over 300 MiB, a real login fails, or their p99 is over 2 s.
//! Run: `cargo bench -p regent --bench sign_in_flood` (a debug build: `cargo test -p regent
//! --bench sign_in_flood`).

use regent_domain::access::Name;
use regent_domain::store::{Actor, Store};
use regent_testkit::free_port;
use regent_testkit::regent::RegentProcess;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const FLOOD: usize = 500;
const USERS: usize = 40;
const PASSWORD: &str = "a real user's password";
const PEAK_LIMIT_MIB: u64 = 300;
const P99_LIMIT: Duration = Duration::from_secs(2);

fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().expect("an address"))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> Result<u16, String> {
    client
        .get(format!("{base}/auth/token?service=regent-registry"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("the data directory");
    let store = Store::open(&data.join("regent.db")).await.expect("the store");
    store.ensure_admin(Some("the admin password")).await.expect("admin");
    let admin = Actor::new("admin", "127.0.0.1");
    let users: Vec<String> = (0..USERS).map(|i| format!("user-{i}")).collect();
    for user in &users {
        let name = Name::parse(user).expect("a name");
        store.create_user(&admin, &name, PASSWORD, false).await.expect("a user");
    }
    let port = free_port();
    let regent = RegentProcess::start(
        REGENT,
        &format!("127.0.0.1:{port}"),
        &[
            "--registry-url",
            "http://127.0.0.1:9",
            "--data-dir",
            data.to_str().expect("UTF-8"),
        ],
    )
    .await;
    let base = regent.base().to_owned();
    let local = client_from("127.0.0.1");
    // Each user has logged in from here before.
    for user in &users {
        assert_eq!(login(&local, &base, user, PASSWORD).await, Ok(200), "{user}");
    }
    // A change, so the logins below check their passwords again instead of reusing a check.
    store
        .create_group(&admin, &Name::parse("bench").expect("a name"))
        .await
        .expect("a group");
    let resident_before = regent.memory_kib("VmRSS");

    let started = Instant::now();
    let flood = futures::future::join_all((0..FLOOD).map(|i| {
        let base = base.clone();
        async move {
            let client = client_from(&format!("127.0.0.{}", 2 + i % 249));
            let name = format!("nobody-{i}-{:x}", rand_suffix(i));
            let t = Instant::now();
            (login(&client, &base, &name, "a guess").await, t.elapsed())
        }
    }));
    let real = async {
        let mut took = Vec::new();
        let mut failed = Vec::new();
        tokio::time::sleep(Duration::from_millis(100)).await;
        for user in &users {
            let t = Instant::now();
            match login(&local, &base, user, PASSWORD).await {
                Ok(200) => took.push(t.elapsed()),
                other => failed.push(format!("{user}: {other:?}")),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (took, failed)
    };
    let (flood, (mut took, failed)) = tokio::join!(flood, real);
    let elapsed = started.elapsed();
    let peak_mib = regent.memory_kib("VmHWM") / 1024;

    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for (answer, _) in &flood {
        let key = match answer {
            Ok(status) => status.to_string(),
            Err(_) => "connection error".into(),
        };
        *answers.entry(key).or_default() += 1;
    }
    took.sort();
    let percentile = |p: f64| {
        took.get(((took.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(Duration::MAX)
    };
    let (p50, p99) = (percentile(0.50), percentile(0.99));
    println!("sign-in flood: {FLOOD} made-up names from 249 addresses, {USERS} real logins interleaved");
    println!("  flood answers: {answers:?} in {:.1} s", elapsed.as_secs_f64());
    println!(
        "  regent resident memory: {} MiB before, peak {peak_mib} MiB (limit {PEAK_LIMIT_MIB})",
        resident_before / 1024
    );
    println!(
        "  real logins: {} ok, {} failed; p50 {} ms, p99 {} ms, max {} ms (p99 limit {} ms)",
        took.len(),
        failed.len(),
        p50.as_millis(),
        p99.as_millis(),
        took.last().map_or(0, |d| d.as_millis()),
        P99_LIMIT.as_millis()
    );
    for f in &failed {
        println!("  failed: {f}");
    }
    let mut targets = regent_testkit::targets::Targets::new();
    targets.at_most("peak resident memory", peak_mib as f64, PEAK_LIMIT_MIB as f64, "MiB");
    targets.at_most(
        "real logins during the flood: p99",
        p99.as_millis() as f64,
        P99_LIMIT.as_millis() as f64,
        "ms",
    );
    targets.holds(
        format!("every real login succeeded ({} failed)", failed.len()),
        failed.is_empty(),
    );
    targets.exit()
}

/// A different-looking name per request without a random-number crate.
fn rand_suffix(i: usize) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ nanos
}
