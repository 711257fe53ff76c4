//! The sled store: one embedded database in the data dir, for a node on its own.

mod accounts;
mod alerts;
mod compact;
mod deals;
mod mail;
mod orgs;
mod store;

pub use compact::{compact_if_sparse, free_segments, Compaction};
pub use store::SledStore;
