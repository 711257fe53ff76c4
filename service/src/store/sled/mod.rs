//! The sled store: one embedded database in the data dir, for a node on its own.

mod accounts;
mod alerts;
mod deals;
mod mail;
mod orgs;
mod store;

pub use store::SledStore;
