//! The [`AccountStore`] trait: users, their API tokens and the failed sign-in counters.
//!
//! Counters live in the store rather than in memory so that several nodes sharing one store
//! (PostgreSQL later) limit password guessing together.

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::account::{ApiToken, Failures, Session, User};

/// What taking one write from a shared per-client bucket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteToken {
    /// A write was taken.
    Taken,
    /// The bucket is empty; retry after this many seconds.
    Empty(u64),
}

/// A change to a failure counter: the count before (if any) and the time → the count after
/// (`None` removes it). Plain functions, so that a store can run one on another thread.
pub type FailureChange = fn(Option<Failures>, DateTime<Utc>) -> Option<Failures>;

/// Durable storage of accounts. Every write is on disk before the call returns.
pub trait AccountStore: Send + Sync {
    /// Adds a user; `false` (and nothing written) when the e-mail is taken.
    fn add_user(&self, user: &User) -> Result<bool, StoreError>;

    /// Replaces the stored user with the same id (its e-mail must not change).
    fn replace_user(&self, user: &User) -> Result<(), StoreError>;

    /// Moves a user to a new (normalised) e-mail address; `false` (and nothing written) when
    /// the address is taken or there is no such user.
    fn change_email(&self, id: &str, email: &str) -> Result<bool, StoreError>;

    /// The user with this id.
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;

    /// The user with this (normalised) e-mail.
    fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Every user, oldest first.
    fn users(&self) -> Result<Vec<User>, StoreError>;

    /// Stores a newly issued token.
    fn add_token(&self, token: &ApiToken) -> Result<(), StoreError>;

    /// The token whose SHA-256 (hex) is `hash`.
    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// The token with this id.
    fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Removes a token; `false` when there was none with this id.
    fn revoke_token(&self, id: &str) -> Result<bool, StoreError>;

    /// Removes every token of a user; returns how many there were.
    fn revoke_tokens_of(&self, user_id: &str) -> Result<usize, StoreError>;

    /// Failed sign-ins counted against `key`.
    fn failures(&self, key: &str) -> Result<Option<Failures>, StoreError>;

    /// Counts one more failure against `key` at `now` (see [`Failures::record`]), atomically.
    fn record_failure(&self, key: &str, now: DateTime<Utc>) -> Result<Failures, StoreError>;

    /// Applies `change` to the failures counted against `key` at `now` as one atomic
    /// read-modify-write (under the lock [`AccountStore::record_failure`] takes); returns the
    /// counts before and after.
    fn change_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        change: FailureChange,
    ) -> Result<(Option<Failures>, Option<Failures>), StoreError>;

    /// Forgets the failures counted against `key`.
    fn clear_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Stores a newly opened browser session.
    fn add_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session whose id hashes (SHA-256, hex) to `hash`.
    fn session_by_hash(&self, hash: &str) -> Result<Option<Session>, StoreError>;

    /// Removes a session; `false` when there was none.
    fn remove_session(&self, hash: &str) -> Result<bool, StoreError>;

    /// Removes every session of a user; returns how many there were.
    fn remove_sessions_of(&self, user_id: &str) -> Result<usize, StoreError>;

    /// Whether [`AccountStore::take_write`] counts writes for every node sharing this store
    /// (false: each node counts its own in memory).
    fn shares_write_limits(&self) -> bool {
        false
    }

    /// Takes one write from `client`'s token bucket (`per_second` refill, `burst` capacity),
    /// atomically for every node sharing the store. Only called when
    /// [`AccountStore::shares_write_limits`] is true.
    fn take_write(
        &self,
        client: &str,
        per_second: f64,
        burst: f64,
    ) -> Result<WriteToken, StoreError> {
        let _ = (client, per_second, burst);
        Ok(WriteToken::Taken)
    }
}
