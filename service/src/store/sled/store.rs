//! The embedded store: one sled tree holding listings, the change log and the log's counter.
//!
//! Keeping all three in one tree lets a single `apply_batch` write them atomically, without
//! sled's heavier multi-tree transactions; `flush` then makes the batch durable before we answer.
//! Accounts and deals have a tree each (see `sled_accounts.rs`, `sled_deals.rs`), for the same
//! reason: each of their writes touches one tree only.

use std::path::Path;
use std::sync::Mutex;

use crate::domain::Listing;

use crate::store::{Change, ChangeOp, Decide, Store, StoreError, Updated};

/// Key prefix of listings: `l/<id>`.
const LISTING: &[u8] = b"l/";
/// Key prefix of changes: `c/<seq as 8 big-endian bytes>`, so that keys sort by sequence.
const CHANGE: &[u8] = b"c/";

/// Listings in a sled database on disk.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    /// Serialises writers so that sequences are handed out and written in order, without gaps.
    write: Mutex<u64>,
    /// Users, API tokens and failed sign-in counters.
    pub(super) accounts: sled::Tree,
    /// Leads, deals and deal histories.
    pub(super) deals: sled::Tree,
    /// Where the database lives on disk; `None` for a temporary store.
    path: Option<std::path::PathBuf>,
    /// Free disk space (bytes) below which writes are refused.
    disk_reserve: u64,
    /// Why every write is refused (a store opened as a copy of a read-only data dir).
    refuse_writes: Option<String>,
    /// Serialises read-modify-write of accounts and deals (e-mail uniqueness, stage moves,
    /// counters); apart from the listings' lock so that neither waits for the other.
    pub(super) desk: Mutex<()>,
    /// sled's log file (`<dir>/db`), synced after each of sled's flushes: see [`SledStore::sync`].
    log_file: Option<std::fs::File>,
}

/// sled's page cache (its default is 1 GiB). Searches never read the store (hits come from the
/// index); only single listings, matches of stored listings and catch-ups do, so a small cache
/// costs little and leaves the memory to the index's pages.
const CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// Size of sled's log segments in a new store. Opening a store reads every segment's header
/// (thousands of small random reads with sled's 512 KiB default: 2.2 s for a cold 1.8 GB
/// store), so fewer, larger segments open faster.
const NEW_SEGMENT_BYTES: usize = 4 << 20;

/// The segment size a store in `dir` was created with (sled refuses any other), or the one
/// for a new store.
pub(super) fn segment_size(dir: &Path) -> usize {
    // The file ends in a binary checksum, so it is not read as UTF-8 throughout.
    std::fs::read(dir.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|l| l.strip_prefix("segment_size:")?.trim().parse().ok())
        })
        .unwrap_or(NEW_SEGMENT_BYTES)
}

/// Free disk space kept back by default: room for sled to finish what it started, and for the
/// index beside it.
pub const DEFAULT_DISK_RESERVE: u64 = 64 * 1024 * 1024;

pub(super) fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// fsyncs a directory, so that the names created in it survive a power cut.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn listing_key(id: &str) -> Vec<u8> {
    [LISTING, id.as_bytes()].concat()
}

fn change_key(seq: u64) -> Vec<u8> {
    [CHANGE, &seq.to_be_bytes()].concat()
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process has it open.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .segment_size(segment_size(dir))
            .cache_capacity(CACHE_BYTES)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    StoreError::Locked(dir.display().to_string())
                }
                e => backend(e),
            })?;
        let mut store = Self::from_db(db, Some(dir.to_path_buf()))?;
        let io = |e: std::io::Error| StoreError::Backend(format!("{}: {e}", dir.display()));
        store.log_file = Some(std::fs::File::open(dir.join("db")).map_err(io)?);
        // The log file's name must survive a power cut as well as its contents.
        sync_dir(dir).map_err(io)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent).map_err(io)?;
        }
        Ok(store)
    }

    /// A store in a temporary directory that disappears when dropped (tests, evaluation).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(backend)?;
        Self::from_db(db, None)
    }

    fn from_db(db: sled::Db, path: Option<std::path::PathBuf>) -> Result<Self, StoreError> {
        let tree = db.open_tree("listings").map_err(backend)?;
        let last = match tree.scan_prefix(CHANGE).next_back() {
            Some(entry) => decode_seq(&entry.map_err(backend)?.0),
            None => 0,
        };
        Ok(SledStore {
            accounts: db.open_tree("accounts").map_err(backend)?,
            deals: db.open_tree("deals").map_err(backend)?,
            desk: Mutex::new(()),
            path,
            disk_reserve: DEFAULT_DISK_RESERVE,
            refuse_writes: None,
            db,
            tree,
            write: Mutex::new(last),
            log_file: None,
        })
    }

    /// Applies `batch` to `tree` atomically and waits until it is on disk.
    pub(super) fn write_durably(
        &self,
        tree: &sled::Tree,
        batch: sled::Batch,
    ) -> Result<(), StoreError> {
        self.check_space()?;
        tree.apply_batch(batch).map_err(backend)?;
        self.sync()
    }

    /// Refuses a write when the disk is nearly full.
    ///
    /// sled treats an I/O error as fatal and then fails reads too, so we stop writing while
    /// there is still room: writes are refused with a clear error and reads keep working.
    fn check_space(&self) -> Result<(), StoreError> {
        if let Some(reason) = &self.refuse_writes {
            return Err(StoreError::Backend(reason.clone()));
        }
        let Some(path) = &self.path else {
            return Ok(());
        };
        match fs4::available_space(path) {
            Ok(free) if free < self.disk_reserve => Err(StoreError::Backend(format!(
                "the disk holding {} is nearly full ({} MiB free; writes stop below {} MiB so \
                 that stored data stays readable)",
                path.display(),
                free / (1024 * 1024),
                self.disk_reserve / (1024 * 1024)
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses every write from now on, with `reason` as the error.
    pub fn refuse_writes(&mut self, reason: String) {
        self.refuse_writes = Some(reason);
    }

    /// Sets how much free disk space writes leave untouched.
    pub fn set_disk_reserve(&mut self, bytes: u64) {
        self.disk_reserve = bytes;
    }

    /// Applies a batch with the next sequences and waits until it is on disk.
    fn write(
        &self,
        build: impl FnOnce(&mut sled::Batch, &mut dyn FnMut() -> u64),
    ) -> Result<u64, StoreError> {
        let mut last = self.write.lock().unwrap_or_else(|e| e.into_inner());
        self.write_locked(&mut last, build)
    }

    /// [`SledStore::write`] for a caller that already holds the writer lock.
    fn write_locked(
        &self,
        last: &mut u64,
        build: impl FnOnce(&mut sled::Batch, &mut dyn FnMut() -> u64),
    ) -> Result<u64, StoreError> {
        self.check_space()?;
        let mut next = *last;
        let mut batch = sled::Batch::default();
        build(&mut batch, &mut || {
            next += 1;
            next
        });
        self.tree.apply_batch(batch).map_err(backend)?;
        // The batch is in the tree now, so its sequences are taken even if the flush fails.
        *last = next;
        // Acknowledge only what is on disk: sled would otherwise flush in the background.
        self.sync()?;
        Ok(next)
    }

    /// The sled database underneath (compaction reads every tree of it).
    pub(super) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The size of the log segments this store was created with.
    pub(super) fn segment_bytes(&self) -> usize {
        self.path.as_deref().map_or(NEW_SEGMENT_BYTES, segment_size)
    }

    /// Where the database lives on disk; `None` for a temporary store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` with the last change sequence while no writer of listings, accounts or deals
    /// can start.
    pub(in crate::store) fn with_writers_held<T>(
        &self,
        f: impl FnOnce(u64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let listings = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let _desk = self.desk.lock().unwrap_or_else(|e| e.into_inner());
        f(*listings)
    }

    /// Writes every dirty buffer to disk, durably ([`SledStore::sync`]).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.sync()
    }

    /// sled's `flush`, then `fdatasync` of its log file. On Linux sled 0.34 ends a flush with
    /// `sync_file_range`, which writes the pages but neither the file's size nor the drive's
    /// cache: a power cut (LazyFS's clear-cache) lost every acknowledged write. An fsync of
    /// any descriptor of the file makes the inode's data and size durable.
    fn sync(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(backend)?;
        if let Some(file) = &self.log_file {
            file.sync_data()
                .map_err(|e| StoreError::Backend(format!("syncing the store: {e}")))?;
        }
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(backend)
    }
}

/// Adds each listing and its change record to `batch`.
fn put_into(batch: &mut sled::Batch, next: &mut dyn FnMut() -> u64, listings: &[Listing]) {
    for listing in listings {
        batch.insert(listing_key(&listing.id), encode(listing));
        let seq = next();
        let change = Change {
            seq,
            id: listing.id.clone(),
            op: ChangeOp::Put,
        };
        batch.insert(change_key(seq), encode(&change));
    }
}

fn decode_seq(key: &[u8]) -> u64 {
    key.get(CHANGE.len()..)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

fn decode_listing(key: &[u8], bytes: &[u8]) -> Result<Listing, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Our own types always serialise; an empty value would be caught on read as corrupt.
    serde_json::to_vec(value).unwrap_or_default()
}

impl Store for SledStore {
    fn get(&self, id: &str) -> Result<Option<Listing>, StoreError> {
        let key = listing_key(id);
        match self.tree.get(&key).map_err(backend)? {
            Some(bytes) => decode_listing(&key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn put_all(&self, listings: &[Listing]) -> Result<u64, StoreError> {
        self.write(|batch, next| put_into(batch, next, listings))
    }

    fn update(&self, id: &str, decide: Decide<'_>) -> Result<Updated, StoreError> {
        let mut last = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let previous = self.get(id)?;
        let Some(listing) = decide(previous.as_ref()) else {
            return Ok(Updated {
                previous,
                seq: None,
            });
        };
        let seq = self.write_locked(&mut last, |batch, next| {
            put_into(batch, next, std::slice::from_ref(&listing))
        })?;
        Ok(Updated {
            previous,
            seq: Some(seq),
        })
    }

    fn delete(&self, id: &str) -> Result<Option<u64>, StoreError> {
        // Checked under no lock: a concurrent delete of the same id writes a harmless extra change.
        if !self.tree.contains_key(listing_key(id)).map_err(backend)? {
            return Ok(None);
        }
        let seq = self.write(|batch, next| {
            batch.remove(listing_key(id));
            let seq = next();
            let change = Change {
                seq,
                id: id.to_string(),
                op: ChangeOp::Delete,
            };
            batch.insert(change_key(seq), encode(&change));
        })?;
        Ok(Some(seq))
    }

    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let start = change_key(after.saturating_add(1));
        let mut out = Vec::new();
        for entry in self.tree.range(start..).take(limit) {
            let (key, bytes) = entry.map_err(backend)?;
            if !key.starts_with(CHANGE) {
                break;
            }
            out.push(
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                    key: format!("change {}", decode_seq(&key)),
                    source,
                })?,
            );
        }
        Ok(out)
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(*self.write.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn log_floor(&self) -> Result<u64, StoreError> {
        // Sequences start at 1 and the newest change is never pruned: the first change left
        // says where the log begins.
        match self.tree.scan_prefix(CHANGE).next() {
            Some(entry) => Ok(decode_seq(&entry.map_err(backend)?.0).saturating_sub(1)),
            None => self.last_seq(),
        }
    }

    fn prune_log(&self, seq: u64) -> Result<u64, StoreError> {
        if self.refuse_writes.is_some() {
            return Ok(0);
        }
        let below = seq.min(self.last_seq()?);
        let mut removed = 0;
        loop {
            // In batches, so that a long log is not held in memory at once. Not flushed: a
            // prune lost in a crash is done again, and the floor is read from what is there.
            let keys: Vec<sled::IVec> = self
                .tree
                .range(change_key(0)..change_key(below))
                .keys()
                .take(10_000)
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            if keys.is_empty() {
                return Ok(removed);
            }
            let mut batch = sled::Batch::default();
            for key in &keys {
                batch.remove(key.clone());
            }
            self.tree.apply_batch(batch).map_err(backend)?;
            removed += keys.len() as u64;
        }
    }

    fn scan(&self) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        Box::new(self.tree.scan_prefix(LISTING).map(|entry| {
            let (key, bytes) = entry.map_err(backend)?;
            decode_listing(&key, &bytes)
        }))
    }

    fn scan_after(
        &self,
        after: Option<&str>,
    ) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        let Some(after) = after else {
            return self.scan();
        };
        // Keys are the prefix and the id's bytes, so byte order is id order.
        let start = std::ops::Bound::Excluded(listing_key(after));
        Box::new(
            self.tree
                .range::<Vec<u8>, _>((start, std::ops::Bound::Unbounded))
                .take_while(|entry| entry.as_ref().map_or(true, |(k, _)| k.starts_with(LISTING)))
                .map(|entry| {
                    let (key, bytes) = entry.map_err(backend)?;
                    decode_listing(&key, &bytes)
                }),
        )
    }

    fn count(&self) -> Result<usize, StoreError> {
        Ok(self.tree.scan_prefix(LISTING).keys().count())
    }

    fn backup_to(&self, dir: &Path) -> Result<crate::store::backup::BackupInfo, StoreError> {
        self.copy_to(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_stores_use_large_segments_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let new = dir.path().join("new");
        drop(SledStore::open(&new).expect("new store"));
        assert_eq!(segment_size(&new), NEW_SEGMENT_BYTES);

        // A store made with sled's default segments, as every store was before.
        let old = dir.path().join("old");
        let db = sled::Config::new()
            .path(&old)
            .segment_size(512 * 1024)
            .open()
            .expect("old store");
        db.open_tree("listings")
            .and_then(|t| t.insert(b"x", b"y"))
            .expect("write");
        db.flush().expect("flush");
        drop(db);
        assert_eq!(segment_size(&old), 512 * 1024);
        let reopened = SledStore::open(&old).expect("an old store opens");
        assert_eq!(reopened.count().expect("count"), 0);
    }
}
