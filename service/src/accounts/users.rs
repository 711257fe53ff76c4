//! Adding users and resetting passwords, as administrators do from the command line.

use chrono::{DateTime, Utc};

use super::credentials::{hash_password, new_id, CredentialError};
use crate::domain::account::{check_password, email_keys, normalise_email, Role, User};
use crate::domain::{FieldError, Provinces};
use crate::store::{AccountStore, StoreError};

/// Why an account could not be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// An option is missing or wrong.
    #[error("{0}")]
    Invalid(FieldError),
    /// The e-mail belongs to an existing account.
    #[error("a user with e-mail {0} already exists")]
    EmailTaken(String),
    /// No account has this e-mail.
    #[error("no user with e-mail {0}")]
    UnknownUser(String),
    /// No randomness, or hashing failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user to add, as given on the command line.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Sign-in e-mail (normalised here).
    pub email: &'a str,
    /// Role.
    pub role: Role,
    /// Province by code or name: required for brokers, optional for members, refused for
    /// admins.
    pub province: Option<&'a str>,
    /// Organisation: required for members, refused for admins and brokers.
    pub org: Option<&'a str>,
    /// The password (hashed here, never stored).
    pub password: &'a str,
}

fn bad(field: &str, reason: &str) -> AccountError {
    AccountError::Invalid(FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}

impl NewUser<'_> {
    /// Checks the options and builds the user with its password hash.
    ///
    /// # Errors
    /// [`AccountError::Invalid`] naming the option at fault.
    pub fn into_user(self, now: DateTime<Utc>) -> Result<User, AccountError> {
        let email = normalise_email(self.email).map_err(AccountError::Invalid)?;
        check_password(self.password).map_err(AccountError::Invalid)?;
        let org = self.org.map(str::trim).filter(|o| !o.is_empty());
        let province = match self.province.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(
                Provinces::get()
                    .resolve(p)
                    .map_err(|e| bad("province", &e.to_string()))?
                    .code
                    .clone(),
            ),
            None => None,
        };
        match self.role {
            Role::Admin if org.is_some() || province.is_some() => {
                return Err(bad(
                    "role",
                    "an admin has no province or organisation; leave out --province and --org",
                ))
            }
            Role::Broker if province.is_none() => {
                return Err(bad("province", "a broker needs --province"))
            }
            Role::Broker if org.is_some() => {
                return Err(bad(
                    "org",
                    "a broker works for a province, not an organisation; leave out --org",
                ))
            }
            Role::Newcomer if org.is_some() => {
                return Err(bad(
                    "org",
                    "a newcomer belongs to no organisation yet; leave out --org",
                ))
            }
            Role::Institute | Role::Enterprise if org.is_none() => {
                return Err(bad(
                    "org",
                    "institute and enterprise members need --org (their organisation, as listings name it in `owner`)",
                ))
            }
            _ => {}
        }
        Ok(User {
            id: new_id("u")?,
            email,
            role: self.role,
            province,
            org: org.map(str::to_string),
            org_id: None,
            password_hash: hash_password(self.password)?,
            created_at: now,
            name: None,
            confirmed: true,
        })
    }
}

/// Adds a user durably.
///
/// # Errors
/// [`AccountError::Invalid`] for a wrong option, [`AccountError::EmailTaken`] when the e-mail
/// is in use.
pub fn add_user(
    store: &dyn AccountStore,
    new: NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let user = new.into_user(now)?;
    // An account made before e-mails were folded may be stored under another form of it.
    if find_user(store, &user.email)?.is_some() || !store.add_user(&user)? {
        return Err(AccountError::EmailTaken(user.email));
    }
    Ok(user)
}

/// Sets a new password, revokes every API token and browser session of the user (whoever had
/// them is out) and lifts a sign-in lockout of the account. Returns the user and how many tokens were revoked.
///
/// # Errors
/// [`AccountError::UnknownUser`], or [`AccountError::Invalid`] for a too-short password.
pub fn reset_password(
    store: &dyn AccountStore,
    email: &str,
    password: &str,
) -> Result<(User, usize), AccountError> {
    let email = normalise_email(email).map_err(AccountError::Invalid)?;
    check_password(password).map_err(AccountError::Invalid)?;
    let mut user =
        find_user(store, &email)?.ok_or_else(|| AccountError::UnknownUser(email.clone()))?;
    user.password_hash = hash_password(password)?;
    store.replace_user(&user)?;
    let revoked = store.revoke_tokens_of(&user.id)?;
    // Browser sessions too: a reset is how an administrator throws someone out.
    store.remove_sessions_of(&user.id)?;
    store.clear_failures(&super::sign_in::account_counter(&email))?;
    Ok((user, revoked))
}

/// The user with this e-mail address, however it is typed: looked up under its normalised form
/// and under the forms accounts made before NFC and case folding were stored under.
///
/// # Errors
/// [`AccountError::Invalid`] for a malformed address, or the store's error.
pub fn find_user(store: &dyn AccountStore, email: &str) -> Result<Option<User>, AccountError> {
    for key in email_keys(email).map_err(AccountError::Invalid)? {
        if let Some(user) = store.user_by_email(&key)? {
            return Ok(Some(user));
        }
    }
    Ok(None)
}
