//! The store: the source of truth for listings, with an ordered log of changes.
//!
//! Every write appends to the change log in the same atomic step as the record itself, and is
//! durable on disk before the call returns. Indexes (this node's now, other nodes' later) follow
//! the log by sequence number. sled is the embedded implementation; a shared PostgreSQL store
//! for several nodes implements the same trait.
//!
//! Accounts ([`AccountStore`]), the broker's desk ([`DealStore`]) and the mail outbox
//! ([`MailStore`]) and organisations ([`OrgStore`]) have traits of their own; [`SledStore`] (embedded, one node) and [`PgStore`]
//! (PostgreSQL, shared by several nodes) implement them all, and [`Stores`] hands them to the
//! service.

mod accounts;
mod alerts;
pub mod backup;
mod deals;
mod mail;
mod orgs;
pub mod pg;
pub mod sled;
mod stores;
mod timed;

pub use accounts::{AccountStore, FailureChange, WriteToken};
pub use alerts::AlertStore;
pub use deals::{DealDecide, DealStore};
pub use mail::MailStore;
pub use orgs::{OrgDecide, OrgStore};
pub use pg::PgStore;
pub use sled::SledStore;
pub use stores::Stores;
pub use timed::TimedStore;

use serde::{Deserialize, Serialize};

use crate::domain::Listing;

/// What a change did to a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// Created or replaced.
    Put,
    /// Removed.
    Delete,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Position in the log; strictly increasing, without gaps.
    pub seq: u64,
    /// The listing changed.
    pub id: String,
    /// What happened to it.
    pub op: ChangeOp,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process has the data directory open.
    #[error("the data directory {0} is in use by another techmatch process (is `techmatch serve` running?); stop it or send the change through its API")]
    Locked(String),
    /// A stored record could not be decoded (corruption or an incompatible version).
    #[error("stored record {key} is unreadable: {source}")]
    Corrupt {
        /// The record's key.
        key: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// The underlying database failed (disk full, read-only directory, I/O error).
    #[error("storage: {0}")]
    Backend(String),
}

/// Decides, from the stored listing with an id (if any), what to store instead; `None` writes
/// nothing.
pub type Decide<'a> = Box<dyn FnOnce(Option<&Listing>) -> Option<Listing> + 'a>;

/// What [`Store::update`] did.
#[derive(Debug)]
pub struct Updated {
    /// The listing stored before, if any.
    pub previous: Option<Listing>,
    /// The sequence of the change written; `None` when the decision was to write nothing.
    pub seq: Option<u64>,
}

/// Durable storage of listings with a change log.
pub trait Store: Send + Sync {
    /// The listing with this id.
    fn get(&self, id: &str) -> Result<Option<Listing>, StoreError>;

    /// The listings with these ids, in the same order (`None` where there is none): one round
    /// trip for a networked store, where the index follower would otherwise make one per change.
    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<Listing>>, StoreError> {
        ids.iter().map(|id| self.get(id)).collect()
    }

    /// Stores all `listings` (replacing those with the same ids) as one atomic, durable write.
    /// Returns the sequence of the last change written.
    fn put_all(&self, listings: &[Listing]) -> Result<u64, StoreError>;

    /// Reads the listing `id` and writes what `decide` makes of it, with no other writer in
    /// between (create-if-absent, replace-keeping-creation-time), durably.
    fn update(&self, id: &str, decide: Decide<'_>) -> Result<Updated, StoreError>;

    /// Removes a listing durably; returns the change's sequence, or `None` if it did not exist.
    fn delete(&self, id: &str) -> Result<Option<u64>, StoreError>;

    /// Up to `limit` changes with a sequence above `after`, in order.
    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError>;

    /// The sequence of the newest change (0 when none).
    fn last_seq(&self) -> Result<u64, StoreError>;

    /// The sequence the change log has been pruned to: changes at or below it are gone (0: the
    /// log is whole). A follower that applied less than this must rebuild from a scan.
    fn log_floor(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Removes the changes with a sequence below `seq` — the lowest every follower has
    /// applied — keeping the newest change in any case (it carries the last sequence across a
    /// restart); returns how many were removed. The default keeps the whole log: a store shared
    /// by several nodes cannot know every node's position.
    fn prune_log(&self, seq: u64) -> Result<u64, StoreError> {
        let _ = seq;
        Ok(0)
    }

    /// Every listing, in id order.
    fn scan(&self) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_>;

    /// The listings with an id above `after` (all with `None`), in id order: the pages of a
    /// snapshot (`GET /changes/snapshot`) start where the last one ended.
    fn scan_after(
        &self,
        after: Option<&str>,
    ) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        let after = after.map(str::to_string);
        Box::new(self.scan().filter(move |l| match (&after, l) {
            (Some(after), Ok(l)) => l.id.as_str() > after.as_str(),
            _ => true,
        }))
    }

    /// Number of listings.
    fn count(&self) -> Result<usize, StoreError>;

    /// Every listing whose `owner` is exactly `owner`, in id order. The default reads every
    /// listing; a store with an index on the owner overrides it.
    fn owned_by(&self, owner: &str) -> Result<Vec<Listing>, StoreError> {
        let mut out = Vec::new();
        for listing in self.scan() {
            let listing = listing?;
            if listing.owner.as_deref() == Some(owner) {
                out.push(listing);
            }
        }
        Ok(out)
    }

    /// Writes a consistent copy of everything the store holds into `dir` (absent or empty),
    /// while it keeps serving.
    fn backup_to(&self, dir: &std::path::Path) -> Result<backup::BackupInfo, StoreError>;

    /// Calls `wake(Some(seq))` whenever another process (another node) may have written
    /// changes up to `seq` (0: unknown), and `wake(None)` now and then, until `wake` returns
    /// false. The default does nothing: an embedded store has no other writer,
    /// and the server's own writes wake its follower directly.
    fn listen(
        &self,
        wake: std::sync::Arc<dyn Fn(Option<u64>) -> bool + Send + Sync>,
    ) -> Result<(), StoreError> {
        let _ = wake;
        Ok(())
    }
}

/// A backend holding listings, accounts, deals, mail, organisations and alerts: what a data dir or a store URL opens.
pub trait Backend: Store + AccountStore + DealStore + MailStore + OrgStore + AlertStore {
    /// The listings side of it.
    fn as_store(&self) -> &dyn Store;
    /// The accounts side of it.
    fn as_accounts(&self) -> &dyn AccountStore;
    /// The three traits as the service's shared stores.
    fn into_stores(self: std::sync::Arc<Self>) -> Stores;
}

impl<T: Store + AccountStore + DealStore + MailStore + OrgStore + AlertStore + 'static> Backend
    for T
{
    fn as_store(&self) -> &dyn Store {
        self
    }

    fn as_accounts(&self) -> &dyn AccountStore {
        self
    }

    fn into_stores(self: std::sync::Arc<Self>) -> Stores {
        Stores::shared(self)
    }
}
