//! Mail the service sends (an outbox entry and its delivery state) and the one-time tickets its
//! links carry (confirming an e-mail address, resetting a password).
//!
//! Plain data and rules: the outbox lives behind `store::MailStore`, delivery in `mail`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// First wait after a failed delivery by default; doubled after each further failure.
pub const FIRST_RETRY_SECONDS: i64 = 30;
/// Longest wait between two delivery attempts.
pub const LONGEST_RETRY_SECONDS: i64 = 3_600;
/// How long a confirmation link stays valid.
pub const CONFIRM_HOURS: i64 = 72;
/// How long a password-reset link stays valid.
pub const RESET_HOURS: i64 = 2;
/// How long an invitation to an organisation stays valid.
pub const INVITATION_HOURS: i64 = 7 * 24;

/// One message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Stable identifier (`m-` and random hex); ordered by creation within a second.
    pub id: String,
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Delivery attempts made so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not to be tried before this time (a retry's backoff, or another node's claim).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, for administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the SMTP server accepted it; `None` while it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

impl Mail {
    /// A new message, due now.
    pub fn new(id: String, to: &str, subject: &str, body: String, now: DateTime<Utc>) -> Mail {
        Mail {
            id,
            to: to.to_string(),
            subject: subject.to_string(),
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        }
    }

    /// Whether it still waits for delivery.
    pub fn is_pending(&self) -> bool {
        self.sent_at.is_none()
    }
}

/// How long to wait after the `attempts`-th failed attempt: `first`, then twice as long after
/// each further failure, up to an hour.
pub fn retry_after(attempts: u32, first: Duration) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    let seconds = first
        .num_seconds()
        .max(1)
        .saturating_mul(1_i64 << doublings);
    Duration::seconds(seconds.min(LONGEST_RETRY_SECONDS))
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Confirms that the address belongs to the user (after sign-up or a change of e-mail).
    ConfirmEmail,
    /// Lets the user choose a new password.
    ResetPassword,
    /// Moves the user to the address it was sent to, once opened there.
    ChangeEmail,
    /// Lets the address join an organisation (`Ticket::org_id`), with a new account if it has
    /// none.
    JoinOrg,
}

/// A one-time ticket as stored: only the SHA-256 of the secret the link carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Hex SHA-256 of the link's secret.
    pub hash: String,
    /// What it allows.
    pub purpose: Purpose,
    /// The user it is for.
    pub user_id: String,
    /// The address it was sent to (a confirmed change of e-mail becomes this one).
    pub email: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The organisation an invitation is to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl Ticket {
    /// Whether it still works at `now`.
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_by_doubling_up_to_an_hour() {
        let first = Duration::seconds(FIRST_RETRY_SECONDS);
        assert_eq!(retry_after(1, first), Duration::seconds(30));
        assert_eq!(retry_after(2, first), Duration::seconds(60));
        assert_eq!(retry_after(4, first), Duration::seconds(240));
        assert_eq!(
            retry_after(20, first),
            Duration::seconds(LONGEST_RETRY_SECONDS)
        );
        assert_eq!(
            retry_after(u32::MAX, first),
            Duration::seconds(LONGEST_RETRY_SECONDS)
        );
    }

    #[test]
    fn a_ticket_stops_working_when_it_expires() {
        let now = Utc::now();
        let ticket = Ticket {
            hash: "h".into(),
            purpose: Purpose::ConfirmEmail,
            user_id: "u-1".into(),
            email: "a@b.vn".into(),
            expires_at: now + Duration::hours(1),
            org_id: None,
        };
        assert!(ticket.is_valid(now));
        assert!(!ticket.is_valid(now + Duration::hours(2)));
    }
}
