//! Sending the outbox's mail through an SMTP server.
//!
//! Mail is written to the store's outbox first (`store::MailStore`); [`deliver`] then follows
//! the outbox as the index follows the change log: it claims what is due, hands it to the SMTP
//! server, and marks it sent, or counts the failure and tries again later with a growing pause.
//! A restart, a refused connection or a crash between the two loses nothing; at worst a message
//! the server accepted just before a crash is sent twice.

mod sender;
mod smtp;

pub use sender::{deliver, DeliveryConfig};
pub use smtp::{Smtp, SmtpError};
