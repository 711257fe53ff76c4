//! `serve`'s mail options: the SMTP server the outbox is sent through, the sender's address, and
//! the address links in mail point to.

use std::net::SocketAddr;

use anyhow::Context;

use techmatch::app::AppState;
use techmatch::mail::{DeliveryConfig, Smtp};

/// Mail options of `serve`.
#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// SMTP server for the outbox: `smtp://HOST:PORT` (add `?tls=required` for STARTTLS),
    /// `smtps://HOST:PORT` for TLS, `USER:PASSWORD@` before the host for credentials. Without
    /// it, mail waits in the outbox (administrators see it at /admin/outbox).
    #[arg(long, env = "TECHMATCH_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of the service's mail.
    #[arg(
        long,
        env = "TECHMATCH_MAIL_FROM",
        default_value = "techmatch <no-reply@techmatch.invalid>"
    )]
    mail_from: String,
    /// The address people reach the service at, for links in mail (default: the listening
    /// address).
    #[arg(long, env = "TECHMATCH_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds to wait after a failed delivery before the next attempt; doubled after each
    /// further failure, up to an hour.
    #[arg(long, default_value_t = techmatch::domain::mail::FIRST_RETRY_SECONDS, env = "TECHMATCH_MAIL_RETRY_SECONDS")]
    mail_retry_seconds: i64,
}

impl MailArgs {
    /// Points mail links at the public address and starts delivery when an SMTP server is set.
    ///
    /// # Errors
    /// A `--smtp-url` or `--mail-from` that cannot be used.
    pub fn apply(&self, state: &mut AppState, local: SocketAddr) -> anyhow::Result<()> {
        let public = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        state.set_public_url(&public);
        match &self.smtp_url {
            Some(url) => {
                let smtp = Smtp::new(url, &self.mail_from).context("setting up mail")?;
                state.start_mail(
                    smtp,
                    DeliveryConfig {
                        first_retry: chrono::Duration::seconds(self.mail_retry_seconds.max(1)),
                    },
                );
                tracing::info!(public_url = %public, "mail is sent through the SMTP server");
            }
            None => tracing::info!(
                "no SMTP server (--smtp-url): mail waits in the outbox, see /admin/outbox"
            ),
        }
        Ok(())
    }
}
