//! Browser sessions: a random id in an HttpOnly cookie, kept in the store only as its SHA-256,
//! and the CSRF token that forms of the session carry.
//!
//! The CSRF token is derived from the session id (SHA-256 of a label and the id), so it needs no
//! storage, changes with every sign-in, and cannot be computed from what the store holds.

use chrono::{DateTime, Duration, Utc};

use super::credentials::{random_hex, token_hash, CredentialError};
use crate::domain::account::{Session, User};
use crate::store::{AccountStore, StoreError};

/// How long a session signs its user in, from sign-in: a working day and then some.
pub const SESSION_HOURS: i64 = 12;

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No randomness for the id.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SessionError> for super::SignInError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Credentials(e) => super::SignInError::Credentials(e),
            SessionError::Store(e) => super::SignInError::Store(e),
        }
    }
}

/// Opens a session for `user` and returns its id (the cookie's value); only its hash is stored.
///
/// # Errors
/// [`SessionError`] when there is no randomness or the store fails.
pub fn open_session(
    store: &dyn AccountStore,
    user: &User,
    now: DateTime<Utc>,
) -> Result<String, SessionError> {
    let id = random_hex(32)?;
    store.add_session(&Session {
        hash: token_hash(&id),
        user_id: user.id.clone(),
        created_at: now,
        expires_at: now + Duration::hours(SESSION_HOURS),
    })?;
    Ok(id)
}

/// The user a session id signs in at `now`; `None` for an unknown or expired session (an
/// expired one is removed) or one whose user is gone.
///
/// # Errors
/// [`StoreError`] when the store fails.
pub fn session_user(
    store: &dyn AccountStore,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let hash = token_hash(id);
    let Some(session) = store.session_by_hash(&hash)? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        store.remove_session(&hash)?;
        return Ok(None);
    }
    store.user(&session.user_id)
}

/// Ends a session; `false` when there was none.
///
/// # Errors
/// [`StoreError`] when the store fails.
pub fn close_session(store: &dyn AccountStore, id: &str) -> Result<bool, StoreError> {
    store.remove_session(&token_hash(id))
}

/// The CSRF token of the session with this id (or of a pre-sign-in cookie).
pub fn csrf_token(id: &str) -> String {
    token_hash(&format!("csrf:{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_differ_per_session_and_from_the_stored_hash() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_eq!(csrf_token("a"), csrf_token("a"));
        assert_ne!(csrf_token("a"), token_hash("a"));
    }
}
