//! The PostgreSQL store: one database shared by several nodes of a national exchange.

mod accounts;
mod alerts;
mod deals;
mod mail;
mod orgs;
mod pool;
mod store;

pub use store::{PgStore, DEFAULT_POOL_SIZE};
