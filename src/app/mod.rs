//! The application: what people do with the exchange, as functions over typed inputs and
//! outputs, called alike by the JSON API (`api`), the pages (`web`) and the command line.
//!
//! This room is where business rules go; the adapters only extract, call and render. It holds
//! membership (signing up with a confirmed e-mail address, resetting a forgotten password),
//! organisations (records, invitations, requests to join, verification, merges), interest and
//! its answers, each user's own overview (`me`), and the outbox that carries their mail.

pub mod alert_mails;
pub mod confidential;
mod error;
mod exchange;
pub mod freshness;
pub mod leads;
pub mod mails;
pub mod me;
pub mod open_deals;
pub mod orgs;
mod outbox;
pub mod password;
pub mod replies;
pub mod reports;
pub mod saved_searches;
pub mod signup;
pub mod statistics;

pub use error::{AppError, Refusal};
pub use exchange::Exchange;
pub use outbox::{Links, Outbox};
