//! The application: what people do with the exchange, as functions over typed inputs and
//! outputs, called alike by the JSON API (`api`), the pages (`web`) and the command line.
//!
//! This room is where business rules go; the adapters only extract, call and render. It holds
//! membership (signing up with a confirmed e-mail address, resetting a forgotten password),
//! organisations (records, invitations, requests to join, verification, merges), interest and
//! its answers, each user's own overview (`me`), and the outbox that carries their mail.

pub mod alert_mails;
pub mod background;
pub mod changes;
pub mod confidential;
pub mod deals;
pub mod duplicates;
mod error;
mod exchange;
pub mod freshness;
pub mod leads;
pub mod listings;
pub mod mails;
pub mod me;
pub mod open_deals;
pub mod orgs;
mod outbox;
pub mod password;
pub mod replies;
pub mod reports;
mod rights;
pub mod saved_searches;
pub mod search;
pub mod signup;
mod state;
pub mod statistics;

pub use error::{AppError, FailureDetail, Refusal};
pub use exchange::Exchange;
pub use outbox::{Links, Outbox};
pub use rights::{Caller, ClientAddr, Desk};
pub use state::{
    AppState, WaitTurn, Waiting, DEFAULT_PUBLIC_URL, FEED_RETENTION, MAX_WAITS_PER_CLIENT,
    MIN_SEQ_WAIT, SIGN_IN_DELAY,
};
