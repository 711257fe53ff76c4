//! Accounts: who may sign in, in which role, for which province or organisation; API tokens;
//! and the count of failed sign-ins that limits password guessing.
//!
//! Everything here is plain data and rules. Hashing lives in `accounts::credentials`, storage
//! behind `store::AccountStore`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::input::FieldError;
use super::province::ProvinceCode;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes: argon2 takes any length, but we need not hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Wrong passwords in a row after which sign-in is refused for [`LOCKOUT_MINUTES`].
pub const MAX_FAILURES: u32 = 10;
/// How long sign-in stays refused after [`MAX_FAILURES`], and how long a quiet spell must last
/// before earlier failures are forgotten.
pub const LOCKOUT_MINUTES: i64 = 15;

/// What a user may do, broadly; the rules per route are in `api::rights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// A broker of one province's Department of Science and Technology.
    Broker,
    /// A member of a research institute or university: offers research outputs and patents.
    Institute,
    /// A member of an enterprise: posts technology needs and marks interest.
    Enterprise,
    /// Signed up, not yet in an organisation: reads what anyone may read, nothing more.
    Newcomer,
}

impl Role {
    /// Every role, in the order the CLI lists them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Broker,
        Role::Institute,
        Role::Enterprise,
        Role::Newcomer,
    ];

    /// The role's name as written on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Broker => "broker",
            Role::Institute => "institute",
            Role::Enterprise => "enterprise",
            Role::Newcomer => "newcomer",
        }
    }

    /// Reads a role from its name.
    pub fn parse(input: &str) -> Option<Role> {
        let wanted = input.trim().to_lowercase();
        Role::ALL.into_iter().find(|r| r.name() == wanted)
    }

    /// Whether users of this role belong to an organisation (and need one).
    pub fn is_member(self) -> bool {
        matches!(self, Role::Institute | Role::Enterprise)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable identifier (`u-` and random hex).
    pub id: String,
    /// Sign-in name, normalised by [`normalise_email`].
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// A broker's province; optionally a member's own province (used to route leads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceCode>,
    /// A member's organisation, matched exactly against listings' `owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The password's argon2 hash in PHC format; never the password.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// The person's name, as given at sign-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the e-mail address is confirmed. Accounts made by an administrator are;
    /// records written before sign-up existed read as confirmed.
    #[serde(default = "confirmed_by_default")]
    pub confirmed: bool,
}

fn confirmed_by_default() -> bool {
    true
}

/// A bearer API token as stored: only its SHA-256, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public identifier, used to revoke it (`tk-` and random hex).
    pub id: String,
    /// The user it signs in.
    pub user_id: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

/// A browser session as stored: only the SHA-256 of its id, never the id (the cookie's value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Hex SHA-256 of the session id.
    pub hash: String,
    /// The user it signs in.
    pub user_id: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it stops signing anyone in.
    pub expires_at: DateTime<Utc>,
}

/// Failed sign-ins counted against one key (an account or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// Wrong passwords in a row.
    pub count: u32,
    /// When the last one happened.
    pub last: DateTime<Utc>,
}

impl Failures {
    /// The count after one more failure at `now`; failures older than the lockout are forgotten,
    /// so a lockout ends by itself and the next wrong password starts a new row.
    pub fn record(previous: Option<Failures>, now: DateTime<Utc>) -> Failures {
        match previous {
            Some(f) if now - f.last < Duration::minutes(LOCKOUT_MINUTES) => Failures {
                count: f.count.saturating_add(1),
                last: now,
            },
            _ => Failures {
                count: 1,
                last: now,
            },
        }
    }

    /// Until when sign-in is refused, if it is at `now`.
    pub fn locked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let until = self.last + Duration::minutes(LOCKOUT_MINUTES);
        (self.count >= MAX_FAILURES && now < until).then_some(until)
    }
}

fn bad(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError::new(field, reason)
}

/// Trims and lowercases an e-mail address and checks its shape (`local@domain.tld`).
///
/// # Errors
/// A [`FieldError`] on `email` saying what is wrong.
pub fn normalise_email(input: &str) -> Result<String, FieldError> {
    let email = input.trim().to_lowercase();
    let shape_ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }
        None => false,
    };
    if email.is_empty() {
        return Err(bad("email", "is required"));
    }
    if email.len() > 254 || email.chars().any(char::is_whitespace) || !shape_ok {
        return Err(bad(
            "email",
            format!("{input:?} is not an e-mail address like name@example.vn"),
        ));
    }
    Ok(email)
}

/// Checks a new password against the policy: at least [`MIN_PASSWORD_CHARS`] characters.
///
/// # Errors
/// A [`FieldError`] on `password` that never repeats the password.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(bad(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(bad(
            "password",
            format!("must have at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Lan.Nguyen@Example.VN ").ok().as_deref(),
            Some("lan.nguyen@example.vn")
        );
        for bad in [
            "",
            "lan",
            "lan@",
            "@example.vn",
            "lan@example",
            "l an@x.vn",
            "a@b@c.vn",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_need_ten_characters_counted_as_characters() {
        assert!(check_password("123456789").is_err());
        assert!(check_password("1234567890").is_ok());
        // Ten Vietnamese letters are ten characters even though they take more bytes.
        assert!(check_password("đườngđườngđ").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn ten_failures_in_a_row_lock_until_a_quiet_spell_has_passed() {
        let mut f = None;
        for i in 0..MAX_FAILURES {
            let next = Failures::record(f, at(i64::from(i)));
            assert_eq!(
                next.locked_until(at(i64::from(i))).is_some(),
                i + 1 == MAX_FAILURES
            );
            f = Some(next);
        }
        let locked = f.and_then(|f| f.locked_until(at(10)));
        assert_eq!(locked, Some(at(9 + LOCKOUT_MINUTES)));
        let later = at(9 + LOCKOUT_MINUTES);
        assert_eq!(f.and_then(|f| f.locked_until(later)), None);
        assert_eq!(Failures::record(f, later).count, 1, "the row starts again");
    }

    #[test]
    fn roles_read_by_name() {
        assert_eq!(Role::parse("Broker"), Some(Role::Broker));
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Enterprise.is_member() && !Role::Broker.is_member());
    }
}
