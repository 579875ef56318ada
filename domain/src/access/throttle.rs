//! Failed sign-ins slow down the next attempts, whether they come through the sign-in page or
//! the registry's token endpoint (`docker login`): one throttle for both, so neither is a way
//! around the other.
//!
//! Three counts, each for a window of 15 minutes:
//! - per account *and* address: after a few failures, further attempts from that address for
//!   that account are refused for a while, doubling up to a cap. Keyed on the pair, so someone
//!   who only knows the name `admin` cannot lock `admin` out from where `admin` signs in;
//! - per address, across accounts: one address guessing many names is refused the same way;
//! - per account, across addresses: attempts are *slowed* (a short delay before the password
//!   is checked), never refused, and not at all from an address where that account signed in
//!   before. A distributed guess gets slower; the owner still gets in.
//!
//! An attempt is reserved ([`LoginThrottle::reserve`]) before its password is hashed and counts
//! against the limits while it is checked, so guesses sent all at once cannot all slip through
//! before the first failure is counted. The answer is the same whether the account exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures (and checks in flight) allowed for one account from one address before refusing.
pub const FREE_FAILURES_PER_PAIR: u32 = 5;
/// The same from one address, across accounts.
pub const FREE_FAILURES_PER_ADDRESS: u32 = 20;
/// Failures of one account from anywhere before its attempts are slowed.
pub const FREE_FAILURES_PER_ACCOUNT: u32 = 10;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const FIRST_DELAY: Duration = Duration::from_secs(30);
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// What an attempt refused because earlier ones are still being checked is told to wait.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);
/// The slow-down of an account failing from many addresses: starts here, doubles, stops at the cap.
const FIRST_SLOWDOWN: Duration = Duration::from_millis(250);
const MAX_SLOWDOWN: Duration = Duration::from_secs(4);
/// An address where an account signed in stays "usual" for it this long.
const USUAL_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Entries kept at most per count (oldest dropped), so a flood of names cannot grow memory.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    /// Attempts reserved and not yet decided.
    pending: u32,
    last: Instant,
}

impl Count {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            pending: 0,
            last: now,
        }
    }

    fn failures(&self, now: Instant) -> u32 {
        if now.duration_since(self.last) > WINDOW {
            0
        } else {
            self.failures
        }
    }

    /// Why a new attempt must wait under a hard limit of `free`; `None`: it may go ahead.
    fn refusal(&self, free: u32, now: Instant) -> Option<Duration> {
        let failures = self.failures(now);
        if failures < free {
            return (failures + self.pending >= free).then_some(IN_FLIGHT_WAIT);
        }
        let wait = FIRST_DELAY
            .saturating_mul(1 << (failures - free).min(10))
            .min(MAX_DELAY)
            .checked_sub(now.duration_since(self.last))
            .filter(|d| !d.is_zero());
        match wait {
            Some(wait) => Some(wait),
            // The delay has passed: one attempt at a time until the next failure.
            None => (self.pending > 0).then_some(IN_FLIGHT_WAIT),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    pairs: HashMap<(String, String), Count>,
    addresses: HashMap<String, Count>,
    accounts: HashMap<String, Count>,
    /// (account, address) → when the account last signed in from there.
    usual: HashMap<(String, String), Instant>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    counts: Mutex<Counts>,
}

impl LoginThrottle {
    /// How long `account` from `address` must wait before trying at all; `None`: go ahead.
    /// Asked even for a password that needs no hash (a cached check), so a refused address
    /// stays refused whatever it sends.
    pub fn refusal(&self, account: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let counts = self.lock();
        refusal(&counts, &(account.to_owned(), address.to_owned()), now)
    }

    /// Reserves an attempt for `account` from `address`, or says how long to wait first. The
    /// reservation counts against the limits until the returned ticket says how it ended (a
    /// ticket dropped undecided, e.g. refused for lack of capacity, counts for nothing).
    pub fn reserve(self: &Arc<Self>, account: &str, address: &str) -> Result<Reservation, Duration> {
        let now = Instant::now();
        let pair = (account.to_owned(), address.to_owned());
        let mut counts = self.lock();
        if let Some(wait) = refusal(&counts, &pair, now) {
            return Err(wait);
        }
        let usual = counts
            .usual
            .get(&pair)
            .is_some_and(|at| now.duration_since(*at) <= USUAL_FOR);
        let account_failures = counts.accounts.get(account).map_or(0, |c| c.failures(now));
        let slowdown = (!usual && account_failures >= FREE_FAILURES_PER_ACCOUNT).then(|| {
            FIRST_SLOWDOWN
                .saturating_mul(1 << (account_failures - FREE_FAILURES_PER_ACCOUNT).min(10))
                .min(MAX_SLOWDOWN)
        });
        entry(&mut counts.pairs, pair.clone(), now).pending += 1;
        entry(&mut counts.addresses, address.to_owned(), now).pending += 1;
        Ok(Reservation {
            throttle: self.clone(),
            pair,
            usual,
            slowdown,
            decided: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settle(&self, pair: &(String, String), outcome: Option<bool>) {
        let now = Instant::now();
        let mut counts = self.lock();
        let release = |c: &mut Count| c.pending = c.pending.saturating_sub(1);
        if let Some(c) = counts.pairs.get_mut(pair) {
            release(c);
        }
        if let Some(c) = counts.addresses.get_mut(&pair.1) {
            release(c);
        }
        match outcome {
            None => {}
            Some(true) => {
                counts.pairs.remove(pair);
                bounded(&mut counts.usual, |at| now.duration_since(*at) <= USUAL_FOR);
                counts.usual.insert(pair.clone(), now);
            }
            Some(false) => {
                failed(entry(&mut counts.pairs, pair.clone(), now), now);
                failed(entry(&mut counts.addresses, pair.1.clone(), now), now);
                failed(entry(&mut counts.accounts, pair.0.clone(), now), now);
            }
        }
    }
}

/// One reserved sign-in attempt; say how it ended with [`Reservation::failed`] or
/// [`Reservation::succeeded`].
#[derive(Debug)]
pub struct Reservation {
    throttle: Arc<LoginThrottle>,
    pair: (String, String),
    usual: bool,
    slowdown: Option<Duration>,
    decided: bool,
}

impl Reservation {
    /// Whether the account signed in from this address before (within 30 days).
    pub fn at_usual_address(&self) -> bool {
        self.usual
    }

    /// How long to wait before checking the password: the account is failing from many
    /// addresses, and this is not one it signs in from.
    pub fn slowdown(&self) -> Option<Duration> {
        self.slowdown
    }

    pub fn failed(mut self) {
        self.decided = true;
        self.throttle.settle(&self.pair, Some(false));
    }

    /// Clears the account's failures from this address and marks the address as usual for it.
    pub fn succeeded(mut self) {
        self.decided = true;
        self.throttle.settle(&self.pair, Some(true));
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.decided {
            self.throttle.settle(&self.pair, None);
        }
    }
}

fn refusal(counts: &Counts, pair: &(String, String), now: Instant) -> Option<Duration> {
    [
        counts
            .pairs
            .get(pair)
            .and_then(|c| c.refusal(FREE_FAILURES_PER_PAIR, now)),
        counts
            .addresses
            .get(&pair.1)
            .and_then(|c| c.refusal(FREE_FAILURES_PER_ADDRESS, now)),
    ]
    .into_iter()
    .flatten()
    .max()
}

fn failed(count: &mut Count, now: Instant) {
    if now.duration_since(count.last) > WINDOW {
        count.failures = 0;
    }
    count.failures += 1;
    count.last = now;
}

fn entry<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, Count>, key: K, now: Instant) -> &mut Count {
    if !map.contains_key(&key) {
        bounded(map, |c: &Count| c.pending > 0 || now.duration_since(c.last) <= WINDOW);
    }
    map.entry(key).or_insert_with(|| Count::new(now))
}

/// Makes room for one more entry: drops what `keep` says is stale, then the oldest.
fn bounded<K: std::hash::Hash + Eq + Clone, V: Copy + Oldest>(map: &mut HashMap<K, V>, keep: impl Fn(&V) -> bool) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, v| keep(v));
    if map.len() >= MAX_ENTRIES
        && let Some(oldest) = map.iter().min_by_key(|(_, v)| v.at()).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

trait Oldest {
    fn at(&self) -> Instant;
}

impl Oldest for Count {
    fn at(&self) -> Instant {
        self.last
    }
}

impl Oldest for Instant {
    fn at(&self) -> Instant {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &Arc<LoginThrottle>, account: &str, address: &str) {
        t.reserve(account, address).expect("may try").failed();
    }

    #[test]
    fn a_few_failures_are_free_then_that_address_waits_and_success_clears_it() {
        let t = Arc::new(LoginThrottle::default());
        for _ in 0..FREE_FAILURES_PER_PAIR {
            fail(&t, "greg", "10.0.0.1");
        }
        let wait = t.reserve("greg", "10.0.0.1").expect_err("now it waits");
        assert!(wait <= FIRST_DELAY && wait > FIRST_DELAY - Duration::from_secs(5));
        assert!(t.reserve("frank", "10.0.0.2").is_ok(), "other accounts are not slowed");
        let elsewhere = t
            .reserve("greg", "10.0.0.7")
            .expect("greg from elsewhere is not refused");
        assert_eq!(elsewhere.slowdown(), None, "five failures do not slow the account yet");
        elsewhere.succeeded();
        assert!(t.reserve("greg", "10.0.0.7").is_ok());
    }

    #[test]
    fn the_sixth_simultaneous_guess_is_refused_before_any_is_decided() {
        let t = Arc::new(LoginThrottle::default());
        let in_flight: Vec<Reservation> = (0..FREE_FAILURES_PER_PAIR)
            .map(|_| t.reserve("admin", "10.0.0.66").expect("the first five may try"))
            .collect();
        assert_eq!(t.reserve("admin", "10.0.0.66").unwrap_err(), IN_FLIGHT_WAIT);
        drop(in_flight);
        assert!(
            t.reserve("admin", "10.0.0.66").is_ok(),
            "undecided attempts count for nothing"
        );
    }

    #[test]
    fn guessing_one_account_from_many_addresses_slows_it_but_never_refuses_its_owner() {
        let t = Arc::new(LoginThrottle::default());
        t.reserve("admin", "10.0.0.1").unwrap().succeeded();
        for i in 0..40 {
            let address = format!("10.9.{}.{}", i / 4, i % 4);
            fail(&t, "admin", &address);
        }
        let usual = t
            .reserve("admin", "10.0.0.1")
            .expect("the owner's address is not refused");
        assert_eq!(usual.slowdown(), None, "nor slowed");
        assert!(usual.at_usual_address());
        let new = t.reserve("admin", "10.0.0.2").expect("a new address is not refused");
        assert_eq!(new.slowdown(), Some(MAX_SLOWDOWN), "but slowed");
    }

    #[test]
    fn one_address_guessing_many_accounts_is_refused_too() {
        let t = Arc::new(LoginThrottle::default());
        for i in 0..FREE_FAILURES_PER_ADDRESS {
            fail(&t, &format!("user{i}"), "10.0.0.9");
        }
        assert!(t.reserve("someone-new", "10.0.0.9").is_err());
        assert!(t.reserve("someone-new", "10.0.0.10").is_ok());
    }
}
