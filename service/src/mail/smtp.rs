//! [`Smtp`]: one SMTP server and the sender's address, with lettre doing the protocol.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

use crate::domain::mail::Mail;

/// Longest one delivery may take, connection included.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an SMTP server could not be set up or a message not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The `--smtp-url` is not one lettre understands.
    #[error("--smtp-url: {0}")]
    Url(#[source] lettre::transport::smtp::Error),
    /// The sender's or the recipient's address is not an e-mail address.
    #[error("address {address:?}: {source}")]
    Address {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        #[source]
        source: lettre::address::AddressError,
    },
    /// The message could not be built.
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
    /// The server refused the message or could not be reached.
    #[error("SMTP: {0}")]
    Send(#[source] lettre::transport::smtp::Error),
}

/// An SMTP server to send through, and who the mail is from.
#[derive(Clone)]
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
}

fn mailbox(address: &str) -> Result<Mailbox, SmtpError> {
    address.parse().map_err(|source| SmtpError::Address {
        address: address.to_string(),
        source,
    })
}

impl Smtp {
    /// The server at `url`: `smtp://HOST:PORT` (plain, or `?tls=required` for STARTTLS),
    /// `smtps://HOST:PORT` (TLS from the start), with `USER:PASSWORD@` for credentials.
    ///
    /// # Errors
    /// [`SmtpError::Url`] or [`SmtpError::Address`] for `from`.
    pub fn new(url: &str, from: &str) -> Result<Smtp, SmtpError> {
        let transport = SmtpTransport::from_url(url)
            .map_err(SmtpError::Url)?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Smtp {
            transport,
            from: mailbox(from)?,
        })
    }

    /// Hands one message to the server; blocks until it accepted or refused it.
    ///
    /// # Errors
    /// [`SmtpError::Send`] when the server is unreachable or refuses; [`SmtpError::Address`]
    /// for a recipient lettre cannot write.
    pub fn send(&self, mail: &Mail) -> Result<(), SmtpError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mailbox(&mail.to)?)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(SmtpError::Send)
    }
}
