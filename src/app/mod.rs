//! The application: what people do with the exchange, as functions over typed inputs and
//! outputs, called alike by the JSON API (`api`), the pages (`web`) and the command line.
//!
//! This room is where business rules go; the adapters only extract, call and render. It starts
//! with membership: signing up with a confirmed e-mail address, resetting a forgotten password,
//! and the outbox that carries their mail.

pub mod alert_mails;
mod error;
pub mod mails;
mod outbox;
pub mod password;
pub mod reports;
pub mod signup;

pub use error::AppError;
pub use outbox::{Links, Outbox};
