//! Signing in with e-mail and password for an API token, with failures counted per account and
//! per client address; and recognising a presented token.
//!
//! After [`MAX_FAILURES`](crate::domain::account::MAX_FAILURES) wrong passwords in a row against
//! an account, or from one address, sign-in is refused without checking the password until
//! the lockout has passed. Every attempt is counted before its password is hashed; a right
//! password clears the account's count and hands back its own attempt on the address's, which
//! otherwise only fades with time, so one's own account cannot be used to reset it while
//! guessing others'. Hashing takes a turn at [`PasswordGate`], a few at a time.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::credentials::{
    new_token, token_hash, verify_nothing, verify_password, CredentialError, IssuedToken,
};
use super::gate::{Busy, PasswordGate};
use super::users::{find_user, AccountError};
use crate::domain::account::{normalise_email, ApiToken, Failures, User, MAX_FAILURES};
use crate::domain::FieldError;
use crate::store::{AccountStore, StoreError};

/// Why sign-in gave no token.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The e-mail is malformed or a field is missing.
    #[error("{0}")]
    Invalid(FieldError),
    /// Unknown e-mail or wrong password (deliberately the same answer).
    #[error("wrong e-mail or password")]
    WrongCredentials,
    /// The password is right, but the e-mail address is not confirmed yet.
    #[error("the e-mail address is not confirmed yet: open the link in the mail we sent")]
    Unconfirmed,
    /// Too many failures; sign-in is refused until then.
    #[error("too many failed sign-ins; try again after {until}")]
    Locked {
        /// When sign-in opens again.
        until: DateTime<Utc>,
    },
    /// Too many sign-ins are waiting for a turn at hashing; nothing was counted.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// A sign-in task failed to run to its end.
    #[error("sign-in task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// No randomness for the token.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The failure counter of an account.
pub fn account_counter(email: &str) -> String {
    format!("account:{email}")
}

/// The failure counter of a client address.
pub fn address_counter(address: Option<IpAddr>) -> String {
    match address {
        Some(ip) => format!("address:{ip}"),
        None => "address:unknown".to_string(),
    }
}

/// Checks e-mail and password and, when right, stores and returns a new API token (valid
/// until `expires_at`, or until revoked).
///
/// # Errors
/// As [`check_credentials`].
pub async fn sign_in(
    store: Arc<dyn AccountStore>,
    gate: &PasswordGate,
    email: &str,
    password: String,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(User, IssuedToken), SignInError> {
    let user = check_credentials(store.clone(), gate, email, password, address, now).await?;
    let user_id = user.id.clone();
    let issued = tokio::task::spawn_blocking(move || {
        let issued = new_token()?;
        store.add_token(&ApiToken {
            id: issued.id.clone(),
            user_id,
            hash: issued.hash.clone(),
            created_at: now,
            expires_at,
        })?;
        Ok::<_, SignInError>(issued)
    })
    .await??;
    Ok((user, issued))
}

/// Checks e-mail and password and, when right, opens a browser session; returns the user and
/// the session's id (the cookie's value).
///
/// # Errors
/// As [`check_credentials`]; the store's failure opening the session.
pub async fn sign_in_session(
    store: Arc<dyn AccountStore>,
    gate: &PasswordGate,
    email: &str,
    password: String,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(User, String), SignInError> {
    let user = check_credentials(store.clone(), gate, email, password, address, now).await?;
    tokio::task::spawn_blocking(move || {
        let id = super::sessions::open_session(store.as_ref(), &user, now)?;
        Ok::<_, SignInError>((user, id))
    })
    .await?
}

/// Checks e-mail and password with the failure counters, for API tokens and browser sessions
/// alike (one limit, whichever door is tried); returns the user when both are right.
///
/// The attempt is counted against the account and the address *before* the password is
/// hashed (and handed back when it was right), so sign-ins sent together cannot all pass a
/// lock that the first ten of them close. Hashing waits for a turn at `gate`.
///
/// # Errors
/// [`SignInError::Locked`] while either counter is over the limit (the password is then not
/// checked), [`SignInError::Busy`] when too many sign-ins wait for a turn,
/// [`SignInError::WrongCredentials`] after counting a failure, [`SignInError::Unconfirmed`] for a
/// right password on an account whose e-mail is not confirmed yet.
pub async fn check_credentials(
    store: Arc<dyn AccountStore>,
    gate: &PasswordGate,
    email: &str,
    password: String,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<User, SignInError> {
    let email = normalise_email(email).map_err(SignInError::Invalid)?;
    let counters = [account_counter(&email), address_counter(address)];
    // A cheap look first, so that locked callers are refused without waiting for a turn.
    let (peek, keys) = (store.clone(), counters.clone());
    tokio::task::spawn_blocking(move || {
        for counter in &keys {
            if let Some(until) = peek.failures(counter)?.and_then(|f| f.locked_until(now)) {
                return Err(SignInError::Locked { until });
            }
        }
        Ok(())
    })
    .await??;
    let turn = gate.turn().await?;
    // The turn moves into the blocking task, so it is held exactly as long as the work runs,
    // even when the request is dropped meanwhile (time-out, closed connection).
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        attempt(store.as_ref(), &email, &password, &counters, now)
    })
    .await?
}

/// One counted attempt: reserve it on every counter, check the password, settle the counters.
fn attempt(
    store: &dyn AccountStore,
    email: &str,
    password: &str,
    counters: &[String; 2],
    now: DateTime<Utc>,
) -> Result<User, SignInError> {
    let mut reserved: Vec<(&String, u32)> = Vec::with_capacity(counters.len());
    for counter in counters {
        let (before, after) = store.change_failures(counter, now, Failures::reserve)?;
        if let Some(until) = before.and_then(|f| f.locked_until(now)) {
            release(store, reserved.iter().map(|r| r.0), now)?;
            return Err(SignInError::Locked { until });
        }
        reserved.push((counter, after.map_or(0, |f| f.count)));
    }
    let user = find_user(store, email).map_err(|e| match e {
        AccountError::Store(e) => SignInError::Store(e),
        AccountError::Invalid(f) => SignInError::Invalid(f),
        other => SignInError::Invalid(FieldError::new("email", other.to_string())),
    })?;
    let right = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            verify_nothing(password);
            false
        }
    };
    let Some(user) = user.filter(|_| right) else {
        for (counter, count) in &reserved {
            if *count == MAX_FAILURES {
                // For operators: who is being guessed at, or from where. Never the password.
                tracing::warn!(%counter, "sign-in locked after repeated wrong passwords");
            }
        }
        return Err(SignInError::WrongCredentials);
    };
    // A right password ends the account's row; the address's count only fades with time, so
    // only this attempt is handed back.
    store.clear_failures(&counters[0])?;
    release(store, counters[1..].iter(), now)?;
    if !user.confirmed {
        return Err(SignInError::Unconfirmed);
    }
    Ok(user)
}

/// Hands back attempts reserved on these counters.
fn release<'a>(
    store: &dyn AccountStore,
    counters: impl Iterator<Item = &'a String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for counter in counters {
        store.change_failures(counter, now, Failures::release)?;
    }
    Ok(())
}

/// The user a bearer token signs in, with the token's record; `None` for an unknown or revoked
/// token, or one whose user is gone.
pub fn authenticate(
    store: &dyn AccountStore,
    token: &str,
) -> Result<Option<(User, ApiToken)>, StoreError> {
    let Some(record) = store.token_by_hash(&token_hash(token))? else {
        return Ok(None);
    };
    if record.expired(Utc::now()) {
        return Ok(None);
    }
    Ok(store.user(&record.user_id)?.map(|u| (u, record)))
}
