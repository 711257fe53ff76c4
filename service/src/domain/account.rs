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

/// What a user may do, broadly; the rules per route are in `app::rights`.
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
    /// The id of the member's organisation record (`org` is its name), once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
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
    /// When it stops signing anyone in; `None`: valid until revoked (tokens issued before
    /// expiry existed, and those asked for without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// Longest lifetime a token may be asked for, in days (ten years).
pub const MAX_TOKEN_DAYS: i64 = 3650;

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

    /// An attempt reserved before its password is checked: counted as a failure at once, so
    /// that attempts running at the same time cannot all pass the lock (the right password
    /// hands it back with [`Failures::release`]). A locked counter is left as it is.
    pub fn reserve(previous: Option<Failures>, now: DateTime<Utc>) -> Option<Failures> {
        match previous {
            Some(f) if f.locked_until(now).is_some() => Some(f),
            _ => Some(Failures::record(previous, now)),
        }
    }

    /// Hands back one reserved attempt (the password was right, or it was never checked).
    pub fn release(previous: Option<Failures>, _now: DateTime<Utc>) -> Option<Failures> {
        previous.filter(|f| f.count > 1).map(|f| Failures {
            count: f.count - 1,
            last: f.last,
        })
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

/// Characters that show nothing (zero-width, joiners, bidirectional controls, the BOM, soft
/// hyphen, invisible operators, tags, variation selectors): an address holding one displays
/// like another's.
pub(crate) fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
        | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Unicode NFC and case folding (approximated as upper- then lowercase, which also folds
/// `ß` to `ss` and final `ς` to `σ`), so that one address typed composed or decomposed, in
/// any case, is one key.
pub(crate) fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let composed: String = text.nfc().collect();
    composed.to_uppercase().to_lowercase().nfc().collect()
}

/// Trims an e-mail address, puts it in NFC and folds its case, refuses invisible and control
/// characters, and checks its shape (`local@domain.tld`).
///
/// # Errors
/// A [`FieldError`] on `email` saying what is wrong.
pub fn normalise_email(input: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if let Some(c) = trimmed
        .chars()
        .find(|&c| c.is_control() || invisible(c) || c.is_whitespace())
    {
        return Err(bad(
            "email",
            format!(
                "must not contain invisible, control or space characters (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    let email = fold(trimmed);
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
    if email.len() > 254 || !shape_ok {
        return Err(bad(
            "email",
            format!("{input:?} is not an e-mail address like name@example.vn"),
        ));
    }
    Ok(email)
}

/// The keys an existing account with this address may be stored under, best first: the
/// normalised form, then the forms that accounts made before NFC and case folding were
/// stored under (trimmed and lowercased as typed, composed or decomposed).
///
/// # Errors
/// As [`normalise_email`].
pub fn email_keys(input: &str) -> Result<Vec<String>, FieldError> {
    use unicode_normalization::UnicodeNormalization;
    let email = normalise_email(input)?;
    let legacy = input.trim().to_lowercase();
    let mut keys = vec![email];
    for key in [
        legacy.nfc().collect::<String>(),
        legacy.nfd().collect(),
        legacy,
    ] {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
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
    fn emails_meet_composed_or_decomposed_in_any_case() {
        let composed = normalise_email("Jos\u{e9}@Example.vn").unwrap();
        let decomposed = normalise_email("JOSE\u{301}@example.VN").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed, "jos\u{e9}@example.vn");
        assert_eq!(
            normalise_email("Stra\u{df}e@x.vn").unwrap(),
            normalise_email("STRASSE@x.vn").unwrap()
        );
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        for bad in [
            "lan\u{200b}@x.vn",
            "lan@x\u{200d}.vn",
            "\u{202e}lan@x.vn",
            "lan\u{feff}@x.vn",
            "lan\t@x.vn",
            "lan\n@x.vn",
            "lan\u{7f}@x.vn",
            "lan\u{a0}@x.vn",
            "lan\u{2066}@x.vn",
        ] {
            let e = normalise_email(bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad:?}");
        }
    }

    #[test]
    fn accounts_stored_before_folding_are_still_found() {
        let keys = email_keys("JOSE\u{301}@x.vn").unwrap();
        assert_eq!(keys[0], "jos\u{e9}@x.vn");
        assert!(keys.contains(&"jose\u{301}@x.vn".to_string()));
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
