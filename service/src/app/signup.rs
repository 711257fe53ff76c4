//! Signing up: a new account waits for its e-mail address to be confirmed by a link in a mail,
//! and signs in only then.
//!
//! The answer is the same whether the address is new or taken (the taken address's owner gets a
//! mail saying so), so sign-up cannot be used to find out who has an account.

use chrono::{DateTime, Duration, Utc};

use super::{mails, AppError, Outbox};
use crate::accounts::credentials::{hash_password, new_id, random_hex, token_hash};
use crate::domain::account::{check_password, normalise_email, Role, User};
use crate::domain::mail::{Purpose, Ticket, CONFIRM_HOURS};
use crate::domain::FieldError;
use crate::store::AccountStore;

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// What a person gives to sign up.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// Their e-mail address (normalised here).
    pub email: String,
    /// The password they chose (hashed here, never stored).
    pub password: String,
    /// Their name, as others will see it.
    pub name: String,
}

/// Checks a person's name: present, not too long, no control characters.
///
/// # Errors
/// A [`FieldError`] on `name`.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "holds control characters"));
    }
    Ok(name.to_string())
}

/// Signs a person up: a new, unconfirmed account and a mail with the link that confirms it;
/// for an address that has an account already, a mail telling its owner so instead. Returns
/// the normalised address.
///
/// # Errors
/// [`AppError::Invalid`] naming the field at fault; store and randomness failures.
pub fn sign_up(
    accounts: &dyn AccountStore,
    outbox: &Outbox,
    input: SignUp,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let email = normalise_email(&input.email)?;
    let name = check_name(&input.name)?;
    check_password(&input.password)?;
    if let Some(existing) = accounts.user_by_email(&email)? {
        if existing.confirmed {
            let text = mails::already_registered(
                existing.name.as_deref(),
                &outbox.links.page("/signin"),
                &outbox.links.page("/forgot"),
            );
            outbox.queue(&email, text, now)?;
        } else {
            // Signing up again before confirming sends a fresh link; the password stays.
            send_confirmation(outbox, &existing, now)?;
        }
        return Ok(email);
    }
    let user = User {
        id: new_id("u")?,
        email: email.clone(),
        role: Role::Newcomer,
        province: None,
        org: None,
        org_id: None,
        password_hash: hash_password(&input.password)?,
        created_at: now,
        name: Some(name),
        confirmed: false,
    };
    if accounts.add_user(&user)? {
        send_confirmation(outbox, &user, now)?;
    }
    // Not added: the same address signed up at the same moment; that request sends the link.
    Ok(email)
}

/// Stores a confirmation ticket for `user`'s address and queues the mail carrying its link.
///
/// # Errors
/// Store and randomness failures.
pub fn send_confirmation(outbox: &Outbox, user: &User, now: DateTime<Utc>) -> Result<(), AppError> {
    let secret = random_hex(32)?;
    outbox.store().add_ticket(&Ticket {
        hash: token_hash(&secret),
        purpose: Purpose::ConfirmEmail,
        user_id: user.id.clone(),
        email: user.email.clone(),
        expires_at: now + Duration::hours(CONFIRM_HOURS),
        org_id: None,
    })?;
    let text = mails::confirm_address(user.name.as_deref(), &outbox.links.confirm(&secret));
    outbox.queue(&user.email, text, now)?;
    Ok(())
}

/// Confirms the address a confirmation link was sent to (a new account's, or the new address
/// of a change); returns the confirmed user.
///
/// # Errors
/// [`AppError::InvalidLink`] for an unknown, used or expired link; [`AppError::Conflict`] when
/// another account took a new address in the meantime.
pub fn confirm_email(
    accounts: &dyn AccountStore,
    outbox: &Outbox,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<User, AppError> {
    let ticket = outbox
        .store()
        .take_ticket(&token_hash(secret))?
        .filter(|t| {
            matches!(t.purpose, Purpose::ConfirmEmail | Purpose::ChangeEmail) && t.is_valid(now)
        })
        .ok_or(AppError::InvalidLink)?;
    if ticket.purpose == Purpose::ChangeEmail {
        if !accounts.change_email(&ticket.user_id, &ticket.email)? {
            return Err(AppError::Conflict(super::Refusal::EmailTaken));
        }
        return accounts.user(&ticket.user_id)?.ok_or(AppError::InvalidLink);
    }
    let mut user = accounts
        .user(&ticket.user_id)?
        .filter(|u| u.email == ticket.email)
        .ok_or(AppError::InvalidLink)?;
    if !user.confirmed {
        user.confirmed = true;
        accounts.replace_user(&user)?;
    }
    Ok(user)
}

/// A signed-in user asks to move their account to another address: the new address gets a
/// link that makes the move when opened, the old one a notice. Until then nothing changes.
/// Returns the normalised new address.
///
/// # Errors
/// [`AppError::Invalid`] on `email`; [`AppError::Conflict`] for the address the user has.
pub fn request_email_change(
    accounts: &dyn AccountStore,
    outbox: &Outbox,
    user: &User,
    new_email: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let email = normalise_email(new_email)?;
    if email == user.email {
        return Err(AppError::Conflict(super::Refusal::SameEmail));
    }
    if let Some(holder) = accounts.user_by_email(&email)? {
        // Taken: its owner hears of it, the asker learns nothing about who is registered.
        let text = mails::already_registered(
            holder.name.as_deref(),
            &outbox.links.page("/signin"),
            &outbox.links.page("/forgot"),
        );
        outbox.queue(&email, text, now)?;
        return Ok(email);
    }
    let secret = random_hex(32)?;
    outbox.store().add_ticket(&Ticket {
        hash: token_hash(&secret),
        purpose: Purpose::ChangeEmail,
        user_id: user.id.clone(),
        email: email.clone(),
        expires_at: now + Duration::hours(CONFIRM_HOURS),
        org_id: None,
    })?;
    let text = mails::confirm_new_address(user.name.as_deref(), &outbox.links.confirm(&secret));
    outbox.queue(&email, text, now)?;
    let notice = mails::address_change_asked(user.name.as_deref(), &email);
    outbox.queue(&user.email, notice, now)?;
    Ok(email)
}
