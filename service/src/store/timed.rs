//! A [`Store`] that times every call into the node's metrics (`techmatch_store_duration_seconds`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::{backup, Change, Decide, Store, StoreError, Updated};
use crate::domain::Listing;
use crate::metrics::Metrics;

/// Wraps a store and records how long each call takes.
pub struct TimedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    /// `inner`, timed into `metrics`.
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        TimedStore { inner, metrics }
    }

    fn timed<T>(&self, operation: &'static str, call: impl FnOnce(&dyn Store) -> T) -> T {
        let started = Instant::now();
        let out = call(self.inner.as_ref());
        self.metrics.store_call(operation, started.elapsed());
        out
    }
}

impl Store for TimedStore {
    fn get(&self, id: &str) -> Result<Option<Listing>, StoreError> {
        self.timed("get", |s| s.get(id))
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<Listing>>, StoreError> {
        self.timed("get_many", |s| s.get_many(ids))
    }

    fn put_all(&self, listings: &[Listing]) -> Result<u64, StoreError> {
        self.timed("put_all", |s| s.put_all(listings))
    }

    fn update(&self, id: &str, decide: Decide<'_>) -> Result<Updated, StoreError> {
        self.timed("update", |s| s.update(id, decide))
    }

    fn delete(&self, id: &str) -> Result<Option<u64>, StoreError> {
        self.timed("delete", |s| s.delete(id))
    }

    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        self.timed("changes_since", |s| s.changes_since(after, limit))
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        self.timed("last_seq", |s| s.last_seq())
    }

    fn log_floor(&self) -> Result<u64, StoreError> {
        self.timed("log_floor", |s| s.log_floor())
    }

    fn prune_log(&self, seq: u64) -> Result<u64, StoreError> {
        self.timed("prune_log", |s| s.prune_log(seq))
    }

    fn scan(&self) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        // A scan is consumed lazily by its caller; there is no one call to time.
        self.inner.scan()
    }

    fn scan_after(
        &self,
        after: Option<&str>,
    ) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        self.inner.scan_after(after)
    }

    fn count(&self) -> Result<usize, StoreError> {
        self.timed("count", |s| s.count())
    }

    fn owned_by(&self, owner: &str) -> Result<Vec<Listing>, StoreError> {
        self.timed("owned_by", |s| s.owned_by(owner))
    }

    fn backup_to(&self, dir: &Path) -> Result<backup::BackupInfo, StoreError> {
        self.timed("backup", |s| s.backup_to(dir))
    }

    fn listen(
        &self,
        wake: Arc<dyn Fn(Option<u64>) -> bool + Send + Sync>,
    ) -> Result<(), StoreError> {
        self.inner.listen(wake)
    }
}
