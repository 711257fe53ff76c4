//! Turns at hashing passwords. argon2id with the crate's default parameters takes ~19 MiB and
//! a core's worth of time per hash: unbounded, 40 sign-ins at once cost 800 MB and 512 would
//! ask for 10 GB. So hashes run a few at a time (one per core) and a bounded number wait their
//! turn in order; beyond that a sign-in is refused at once instead of queueing memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sign-ins that may wait for a turn per hash running; more are refused.
pub const WAITING_PER_TURN: usize = 16;

/// The hashing turns of one server.
#[derive(Debug)]
pub struct PasswordGate {
    turns: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
}

/// The gate is full: the sign-in was not queued.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many sign-ins at once; retry in a moment")]
pub struct Busy;

/// A turn at hashing; the next one waiting gets it when this is dropped.
#[derive(Debug)]
pub struct HashTurn {
    _permit: OwnedSemaphorePermit,
    _admitted: Admitted,
}

/// One sign-in counted against the gate's bound until dropped (waiting or hashing).
#[derive(Debug)]
struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordGate {
    /// `at_once` hashes at a time (at least one), each with [`WAITING_PER_TURN`] waiting.
    pub fn new(at_once: usize) -> Self {
        let at_once = at_once.max(1);
        PasswordGate {
            turns: Arc::new(Semaphore::new(at_once)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: at_once * (1 + WAITING_PER_TURN),
        }
    }

    /// One hash per core of this machine.
    pub fn per_core() -> Self {
        PasswordGate::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Waits for a turn in arrival order; [`Busy`] at once when too many are waiting already.
    ///
    /// # Errors
    /// [`Busy`] when the queue is full (or the gate is closed).
    pub async fn turn(&self) -> Result<HashTurn, Busy> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted(self.admitted.clone());
        if before >= self.max_admitted {
            return Err(Busy);
        }
        let permit = self.turns.clone().acquire_owned().await.map_err(|_| Busy)?;
        Ok(HashTurn {
            _permit: permit,
            _admitted: admitted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_returned_turn_reopens_it() {
        let gate = PasswordGate::new(1);
        let first = gate.turn().await.unwrap();
        let mut waiting = Vec::new();
        for _ in 0..WAITING_PER_TURN {
            let turn = gate.turn();
            waiting.push(Box::pin(turn));
        }
        // Futures count once polled: poll each once so they queue.
        for w in &mut waiting {
            assert!(futures_poll_once(w).await.is_none());
        }
        assert!(gate.turn().await.is_err(), "the queue is full");
        drop(first);
        drop(waiting);
        assert!(gate.turn().await.is_ok());
    }

    async fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        tokio::time::timeout(std::time::Duration::from_millis(1), f)
            .await
            .ok()
    }
}
