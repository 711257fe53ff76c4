//! [`Outbox`]: queueing mail for delivery, and the links mail carries back to the service.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::accounts::credentials::random_hex;
use crate::domain::mail::Mail;
use crate::store::MailStore;

use super::AppError;

/// The service's address as people reach it, for links in mail.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    /// Links under `base` (`https://techmatch.example.vn`; a trailing `/` is dropped).
    pub fn new(base: &str) -> Links {
        Links {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The page that confirms an e-mail address.
    pub fn confirm(&self, secret: &str) -> String {
        format!("{}/confirm/{secret}", self.base)
    }

    /// The page that sets a new password.
    pub fn reset(&self, secret: &str) -> String {
        format!("{}/reset/{secret}", self.base)
    }

    /// A page of the service by its path (`/signin`).
    pub fn page(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Where mail is queued: the store's outbox, and a bell for the sender.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn MailStore>,
    wake: Arc<Notify>,
    /// Links to put in the mail.
    pub links: Links,
}

impl Outbox {
    /// An outbox over `store`, linking to `links`.
    pub fn new(store: Arc<dyn MailStore>, links: Links) -> Outbox {
        Outbox {
            store,
            wake: Arc::new(Notify::new()),
            links,
        }
    }

    /// The store behind it.
    pub fn store(&self) -> &Arc<dyn MailStore> {
        &self.store
    }

    /// The bell the sender waits on; it stops once every clone of the outbox is gone.
    pub fn bell(&self) -> std::sync::Weak<Notify> {
        Arc::downgrade(&self.wake)
    }

    /// Rings the sender: mail was queued directly in the store (with an alert, in one write).
    pub fn ring(&self) {
        self.wake.notify_one();
    }

    /// A new message to `to`, due `now`, with an id that sorts by time.
    ///
    /// # Errors
    /// [`AppError`] when no random id can be drawn.
    pub fn compose(
        &self,
        to: &str,
        (subject, body): (String, String),
        now: DateTime<Utc>,
    ) -> Result<Mail, AppError> {
        let id = format!(
            "m-{:016x}-{}",
            now.timestamp_micros().max(0),
            random_hex(4)?
        );
        Ok(Mail::new(id, to, &subject, body, now))
    }

    /// Queues a message durably and rings the sender.
    ///
    /// # Errors
    /// [`AppError::Store`] when the outbox cannot take it.
    pub fn queue(
        &self,
        to: &str,
        (subject, body): (String, String),
        now: DateTime<Utc>,
    ) -> Result<Mail, AppError> {
        // Ids sort by time, so the outbox reads oldest first.
        let id = format!(
            "m-{:016x}-{}",
            now.timestamp_micros().max(0),
            random_hex(4)?
        );
        let mail = Mail::new(id, to, &subject, body, now);
        self.store.enqueue(&mail)?;
        self.wake.notify_one();
        Ok(mail)
    }
}
