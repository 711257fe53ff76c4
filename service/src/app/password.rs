//! A forgotten password: a link by mail, valid once and for two hours, that sets a new one.

use chrono::{DateTime, Duration, Utc};

use super::{mails, AppError, Outbox};
use crate::accounts::credentials::{hash_password, random_hex, token_hash};
use crate::accounts::sign_in::account_counter;
use crate::domain::account::{check_password, normalise_email, User};
use crate::domain::mail::{Purpose, Ticket, RESET_HOURS};
use crate::store::AccountStore;

/// Sends a reset link to `email` if it has an account. The answer does not say whether it has.
///
/// # Errors
/// [`AppError::Invalid`] for something that is not an e-mail address; store failures.
pub fn request_reset(
    accounts: &dyn AccountStore,
    outbox: &Outbox,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let email = normalise_email(email)?;
    let Some(user) = accounts.user_by_email(&email)? else {
        return Ok(());
    };
    let secret = random_hex(32)?;
    outbox.store().add_ticket(&Ticket {
        hash: token_hash(&secret),
        purpose: Purpose::ResetPassword,
        user_id: user.id.clone(),
        email: user.email.clone(),
        expires_at: now + Duration::hours(RESET_HOURS),
        org_id: None,
    })?;
    let text = mails::reset_password(user.name.as_deref(), &outbox.links.reset(&secret));
    outbox.queue(&user.email, text, now)?;
    Ok(())
}

/// Sets `password` for the user a reset link was sent to. The mailbox is proven, so the address
/// counts as confirmed; every API token and browser session of the user ends, and a sign-in
/// lockout of the account is lifted.
///
/// # Errors
/// [`AppError::Invalid`] for a password the policy refuses (the link still works then);
/// [`AppError::InvalidLink`] for an unknown, used or expired link.
pub fn reset_with_link(
    accounts: &dyn AccountStore,
    outbox: &Outbox,
    secret: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    check_password(password)?;
    let ticket = outbox
        .store()
        .take_ticket(&token_hash(secret))?
        .filter(|t| t.purpose == Purpose::ResetPassword && t.is_valid(now))
        .ok_or(AppError::InvalidLink)?;
    let mut user = accounts
        .user(&ticket.user_id)?
        .filter(|u| u.email == ticket.email)
        .ok_or(AppError::InvalidLink)?;
    user.password_hash = hash_password(password)?;
    user.confirmed = true;
    accounts.replace_user(&user)?;
    accounts.revoke_tokens_of(&user.id)?;
    accounts.remove_sessions_of(&user.id)?;
    accounts.clear_failures(&account_counter(&user.email))?;
    Ok(user)
}
