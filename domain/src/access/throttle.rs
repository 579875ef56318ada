//! Failed sign-ins slow down the next attempts, per account and per address, whether they
//! come through the sign-in page or the registry's token endpoint (`docker login`): one
//! throttle for both, so neither is a way around the other.
//!
//! After a few failures within the window, each further attempt must wait, doubling up to a
//! cap. The check runs before the password hash is computed, so guessing is slow and a flood
//! of attempts costs the server little. The answer is the same whether the account exists.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed in a window before attempts are delayed.
const FREE_FAILURES_PER_ACCOUNT: u32 = 5;
const FREE_FAILURES_PER_ADDRESS: u32 = 20;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const FIRST_DELAY: Duration = Duration::from_secs(30);
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most (oldest dropped), so a flood of names cannot grow memory.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    accounts: Mutex<HashMap<String, Failures>>,
    addresses: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// How long `account` from `address` must still wait before trying; `None`: go ahead.
    pub fn wait(&self, account: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let account = delay(&self.accounts, account, FREE_FAILURES_PER_ACCOUNT, now);
        let address = delay(&self.addresses, address, FREE_FAILURES_PER_ADDRESS, now);
        account.max(address)
    }

    pub fn failed(&self, account: &str, address: &str) {
        let now = Instant::now();
        note(&self.accounts, account, now);
        note(&self.addresses, address, now);
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner()).remove(account);
    }
}

fn delay(map: &Mutex<HashMap<String, Failures>>, key: &str, free: u32, now: Instant) -> Option<Duration> {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    let f = map.get(key)?;
    let since = now.duration_since(f.last);
    if since > WINDOW || f.count < free {
        return None;
    }
    let wait = FIRST_DELAY.saturating_mul(1 << (f.count - free).min(10)).min(MAX_DELAY);
    wait.checked_sub(since).filter(|d| !d.is_zero())
}

fn note(map: &Mutex<HashMap<String, Failures>>, key: &str, now: Instant) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_ENTRIES && !map.contains_key(key) {
        map.retain(|_, f| now.duration_since(f.last) <= WINDOW);
        if map.len() >= MAX_ENTRIES
            && let Some(oldest) = map.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    let entry = map.entry(key.to_owned()).or_insert(Failures { count: 0, last: now });
    if now.duration_since(entry.last) > WINDOW {
        entry.count = 0;
    }
    entry.count += 1;
    entry.last = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_failures_are_free_then_attempts_wait_and_success_clears_the_account() {
        let t = LoginThrottle::default();
        for _ in 0..FREE_FAILURES_PER_ACCOUNT - 1 {
            t.failed("greg", "10.0.0.1");
            assert_eq!(t.wait("greg", "10.0.0.1"), None);
        }
        t.failed("greg", "10.0.0.1");
        let wait = t.wait("greg", "10.0.0.1").expect("now it waits");
        assert!(wait <= FIRST_DELAY && wait > FIRST_DELAY - Duration::from_secs(5));
        assert_eq!(
            t.wait("frank", "10.0.0.2"),
            None,
            "other accounts and addresses are not slowed"
        );
        t.succeeded("greg");
        assert_eq!(t.wait("greg", "10.0.0.1"), None);
    }

    #[test]
    fn one_address_guessing_many_accounts_is_slowed_too() {
        let t = LoginThrottle::default();
        for i in 0..FREE_FAILURES_PER_ADDRESS {
            t.failed(&format!("user{i}"), "10.0.0.9");
        }
        assert!(t.wait("someone-new", "10.0.0.9").is_some());
        assert!(t.wait("someone-new", "10.0.0.10").is_none());
    }
}
