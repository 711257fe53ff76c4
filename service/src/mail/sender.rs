//! [`deliver`]: the task that empties the outbox into the SMTP server.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use super::Smtp;
use crate::domain::mail::{retry_after, Mail};
use crate::store::MailStore;

/// Messages claimed at a time.
const BATCH: usize = 10;
/// How long a claim keeps other senders (other nodes) away: longer than a batch can take.
const CLAIM: chrono::Duration = chrono::Duration::minutes(10);
/// How often the outbox is looked at when nobody wakes the sender.
const POLL: Duration = Duration::from_secs(1);

/// How delivery retries.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryConfig {
    /// The pause after the first failure, doubled after each further one (up to an hour).
    pub first_retry: chrono::Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            first_retry: chrono::Duration::seconds(crate::domain::mail::FIRST_RETRY_SECONDS),
        }
    }
}

/// Sends due mail whenever `wake` is notified and every second, until the last strong
/// reference to `wake` is gone (the service stopped).
pub async fn deliver(
    store: Arc<dyn MailStore>,
    smtp: Smtp,
    wake: Weak<Notify>,
    config: DeliveryConfig,
) {
    loop {
        {
            let Some(notify) = wake.upgrade() else { return };
            let _ = tokio::time::timeout(POLL, notify.notified()).await;
        }
        let (store, smtp) = (store.clone(), smtp.clone());
        match tokio::task::spawn_blocking(move || send_due(store.as_ref(), &smtp, config)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "reading the outbox failed; will retry"),
            Err(e) => tracing::error!(error = %e, "mail task panicked; will retry"),
        }
    }
}

/// Claims and sends what is due, batch after batch, until nothing is.
fn send_due(
    store: &dyn MailStore,
    smtp: &Smtp,
    config: DeliveryConfig,
) -> Result<(), crate::store::StoreError> {
    loop {
        let now = Utc::now();
        let claimed = store.claim_due(now, now + CLAIM, BATCH)?;
        if claimed.is_empty() {
            return Ok(());
        }
        for mail in claimed {
            let outcome = smtp.send(&mail);
            store.update_mail(&after_attempt(mail, outcome, config))?;
        }
    }
}

/// The message as it stands after one attempt.
fn after_attempt(
    mut mail: Mail,
    outcome: Result<(), super::SmtpError>,
    config: DeliveryConfig,
) -> Mail {
    let now = Utc::now();
    mail.attempts = mail.attempts.saturating_add(1);
    match outcome {
        Ok(()) => {
            mail.sent_at = Some(now);
            mail.last_error = None;
            tracing::info!(id = %mail.id, attempts = mail.attempts, "mail sent");
        }
        Err(e) => {
            let pause = retry_after(mail.attempts, config.first_retry);
            mail.next_attempt_at = now + pause;
            mail.last_error = Some(e.to_string());
            tracing::warn!(id = %mail.id, attempts = mail.attempts, error = %e,
                retry_in_s = pause.num_seconds(), "mail not sent; will retry");
        }
    }
    mail
}
