//! A global bound on password checks running at once.
//!
//! Each argon2 check holds about 19 MiB for its duration. Without a bound, a few hundred
//! simultaneous sign-ins with made-up names (from many addresses, so the throttle does not
//! stop them) take the process to gigabytes and then down, and every `docker pull` that needs
//! a token with it. So checks take a turn from a small pool sized from a memory budget (and
//! no larger than the machine has cores to run them), wait briefly for one, and are otherwise
//! answered "busy, retry after a few seconds" without hashing.
//!
//! One turn is kept for attempts from an address where the account signed in before, so a
//! flood of strangers delays its owner by at most one check, and never turns them away.

use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// What one argon2 check (Regent's parameters: 19 MiB, 2 passes) holds, with some slack.
pub const MIB_PER_CHECK: usize = 20;
/// Memory password checks may take together.
pub const MEMORY_BUDGET_MIB: usize = 128;
/// How long a check waits for a turn: strangers, and accounts at their usual address.
const STRANGER_WAIT: Duration = Duration::from_secs(1);
const USUAL_WAIT: Duration = Duration::from_secs(10);
/// What a busy answer tells the client to wait.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct HashingLimit {
    /// Every check takes one of these.
    all: Semaphore,
    /// Checks from unusual addresses also take one of these: one fewer than `all`.
    strangers: Semaphore,
    turns: usize,
}

/// A turn to hash; the next check may start when it is dropped.
#[derive(Debug)]
pub struct Turn<'a> {
    _all: SemaphorePermit<'a>,
    _stranger: Option<SemaphorePermit<'a>>,
}

impl Default for HashingLimit {
    /// Sized from [`MEMORY_BUDGET_MIB`] and the cores available (at least two turns).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_turns(cores.clamp(2, (MEMORY_BUDGET_MIB / MIB_PER_CHECK).max(2)))
    }
}

impl HashingLimit {
    /// `turns` checks at once at most (two or more: one is kept for usual addresses).
    pub fn with_turns(turns: usize) -> Self {
        let turns = turns.max(2);
        Self {
            all: Semaphore::new(turns),
            strangers: Semaphore::new(turns - 1),
            turns,
        }
    }

    pub fn turns(&self) -> usize {
        self.turns
    }

    /// Waits for a turn; `Err`: none came in time, answer busy.
    pub async fn turn(&self, usual_address: bool) -> Result<Turn<'_>, ()> {
        let wait = if usual_address { USUAL_WAIT } else { STRANGER_WAIT };
        tokio::time::timeout(wait, async {
            let stranger = if usual_address {
                None
            } else {
                Some(self.strangers.acquire().await.map_err(|_| ())?)
            };
            let all = self.all.acquire().await.map_err(|_| ())?;
            Ok(Turn {
                _all: all,
                _stranger: stranger,
            })
        })
        .await
        .map_err(|_| ())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn strangers_leave_one_turn_for_usual_addresses_and_are_told_to_come_back() {
        let limit = HashingLimit::with_turns(2);
        let first = limit.turn(false).await.expect("a turn");
        let started = std::time::Instant::now();
        assert!(limit.turn(false).await.is_err(), "the second stranger finds no turn");
        assert!(started.elapsed() >= STRANGER_WAIT);
        let owner = limit.turn(true).await.expect("the owner still gets one");
        drop((first, owner));
        assert!(limit.turn(false).await.is_ok());
    }
}
