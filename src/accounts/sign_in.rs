//! Signing in with e-mail and password for an API token, with failures counted per account and
//! per client address; and recognising a presented token.
//!
//! After [`MAX_FAILURES`](crate::domain::account::MAX_FAILURES) wrong passwords in a row against
//! an account, or from one address, sign-in is refused without checking the password until
//! the lockout has passed. A right password clears the account's count; an address's count
//! only fades with time, so one's own account cannot be used to reset it while guessing others'.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::credentials::{
    new_token, token_hash, verify_nothing, verify_password, CredentialError, IssuedToken,
};
use crate::domain::account::{normalise_email, ApiToken, User, MAX_FAILURES};
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

/// Checks e-mail and password and, when right, stores and returns a new API token.
///
/// # Errors
/// [`SignInError::Locked`] while either counter is over the limit (the password is then not
/// checked), [`SignInError::WrongCredentials`] after counting a failure,
/// [`SignInError::Unconfirmed`] for a right password on an account not confirmed yet.
pub fn sign_in(
    store: &dyn AccountStore,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(User, IssuedToken), SignInError> {
    let user = check_credentials(store, email, password, address, now)?;
    let issued = new_token()?;
    store.add_token(&ApiToken {
        id: issued.id.clone(),
        user_id: user.id.clone(),
        hash: issued.hash.clone(),
        created_at: now,
    })?;
    Ok((user, issued))
}

/// Checks e-mail and password with the failure counters, for API tokens and browser sessions
/// alike (one limit, whichever door is tried); returns the user when both are right.
///
/// # Errors
/// As [`sign_in`].
pub fn check_credentials(
    store: &dyn AccountStore,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<User, SignInError> {
    let email = normalise_email(email).map_err(SignInError::Invalid)?;
    let counters = [account_counter(&email), address_counter(address)];
    for counter in &counters {
        if let Some(until) = store.failures(counter)?.and_then(|f| f.locked_until(now)) {
            return Err(SignInError::Locked { until });
        }
    }
    let user = store.user_by_email(&email)?;
    let right = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            verify_nothing(password);
            false
        }
    };
    let Some(user) = user.filter(|_| right) else {
        for counter in &counters {
            let failures = store.record_failure(counter, now)?;
            if failures.count == MAX_FAILURES {
                // For operators: who is being guessed at, or from where. Never the password.
                tracing::warn!(%counter, "sign-in locked after repeated wrong passwords");
            }
        }
        return Err(SignInError::WrongCredentials);
    };
    store.clear_failures(&counters[0])?;
    if !user.confirmed {
        return Err(SignInError::Unconfirmed);
    }
    Ok(user)
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
    Ok(store.user(&record.user_id)?.map(|u| (u, record)))
}
