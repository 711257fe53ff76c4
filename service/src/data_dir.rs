//! The data directory: where the store, the index and the admin token live.
//!
//! With a store URL (`--store postgres://...`) the store is a shared PostgreSQL database and the
//! data dir keeps only this node's index, vectors and admin token.

use std::io::Write;
use std::path::{Path, PathBuf};

use techmatch_index::{IndexError, SearchIndex};

use std::sync::Arc;

use crate::store::backup::copy_dir;
use crate::store::sled::{compact_if_sparse, Compaction};
use crate::store::{Backend, PgStore, SledStore, StoreError};

/// A data directory and the paths inside it.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    /// The shared store's URL, when the store is not the embedded one in the data dir.
    store_url: Option<String>,
}

impl DataDir {
    /// The data directory at `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir {
            root: root.into(),
            store_url: None,
        }
    }

    /// Uses the PostgreSQL store at `url` instead of the embedded one (`None`: embedded).
    pub fn with_store_url(mut self, url: Option<String>) -> Self {
        self.store_url = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// The shared store's URL, if the store is not the embedded one.
    pub fn store_url(&self) -> Option<&str> {
        self.store_url.as_deref()
    }

    /// Opens the store: PostgreSQL when a store URL is set, else the embedded sled store.
    pub fn open_backend(&self) -> Result<Arc<dyn Backend>, StoreError> {
        match &self.store_url {
            Some(url) => {
                let connections = std::env::var("TECHMATCH_STORE_CONNECTIONS")
                    .ok()
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(crate::store::pg::DEFAULT_POOL_SIZE);
                Ok(Arc::new(PgStore::open_with(url, connections)?))
            }
            None => Ok(Arc::new(self.open_store()?)),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where the sled database lives.
    pub fn store_path(&self) -> PathBuf {
        self.root.join("store")
    }

    /// Where the tantivy index lives.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("index")
    }

    /// Opens the store, creating the directory if needed.
    pub fn open_store(&self) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(&self.root).map_err(|e| {
            StoreError::Backend(format!("cannot create {}: {e}", self.root.display()))
        })?;
        let mut store = SledStore::open(&self.store_path()).map_err(|e| match e {
            StoreError::Locked(_) => StoreError::Locked(self.root.display().to_string()),
            e => e,
        })?;
        // Small disks (and tests on them) may keep back less than the default.
        if let Some(mb) = std::env::var("TECHMATCH_DISK_RESERVE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            store.set_disk_reserve(mb * 1024 * 1024);
        }
        Ok(store)
    }

    /// Opens the embedded store and closes it again, once the caller's own handles to it are
    /// dropped, so that the next open starts at once (nothing to do with a shared store).
    ///
    /// sled 0.34 records where its pages are (a snapshot) only while opening, and an open
    /// replays every log message written since the previous one: after a bulk import, the
    /// whole log the import wrote, which at a million listings is 1.8 GB and most of a cold
    /// start. Opening once here moves that replay to the end of the import, whose duration
    /// it barely changes. A store the import left sparse (free segments, which sled zeroes at
    /// every open) is then rewritten compactly ([`crate::store::sled::compact_if_sparse`]).
    /// Returns what was found and done; `None` for a shared store.
    pub fn settle_store(&self) -> Result<Option<Compaction>, StoreError> {
        if self.store_url.is_some() {
            return Ok(None);
        }
        // Its first step is an open, which is the settling.
        compact_if_sparse(&self.store_path()).map(Some)
    }

    /// Whether files can be created in the data dir (false on a read-only mount or without
    /// permission); a missing dir counts as writable when it can be created.
    pub fn is_writable(&self) -> bool {
        if std::fs::create_dir_all(&self.root).is_err() {
            return false;
        }
        let probe = self
            .root
            .join(format!(".write-probe-{}", std::process::id()));
        match std::fs::write(&probe, b"") {
            Ok(()) => {
                let _ = std::fs::remove_file(&probe);
                true
            }
            Err(_) => false,
        }
    }

    /// Opens a copy of a read-only data dir's store and index in a temporary directory, the
    /// store refusing every write with a clear reason.
    ///
    /// sled writes even to open a database, so a read-only dir cannot be opened in place; a
    /// copy keeps its records readable (a snapshot mount, a disk remounted read-only).
    pub fn open_read_only_copy(
        &self,
    ) -> Result<(ReadOnlyCopy, SledStore, SearchIndex), StoreError> {
        let copy = std::env::temp_dir().join(format!("techmatch-ro-{}", std::process::id()));
        // Removes a half-made copy when anything below fails.
        let guard = ReadOnlyCopy { dir: copy.clone() };
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&self.store_path(), &copy.join("store"))?;
        if self.index_path().exists() {
            copy_dir(&self.index_path(), &copy.join("index"))?;
        }
        let mut store = SledStore::open(&copy.join("store"))?;
        store.refuse_writes(format!(
            "the data dir {} is read-only: this server answers reads from a copy of it and \
             takes no writes until it is restarted on a writable data dir",
            self.root.display()
        ));
        let index = SearchIndex::open(&copy.join("index"))
            .map_err(|e| StoreError::Backend(format!("opening the index copy: {e}")))?;
        Ok((guard, store, index))
    }

    /// Opens the index for reading and writing.
    pub fn open_index(&self) -> Result<SearchIndex, IndexError> {
        SearchIndex::open(&self.index_path())
    }

    /// The admin token, created (mode 0600) on first call; `true` when it was just created.
    pub fn admin_token(&self) -> std::io::Result<(String, bool)> {
        let path = self.root.join("admin.token");
        match std::fs::read_to_string(&path) {
            Ok(token) if !token.trim().is_empty() => return Ok((token.trim().to_string(), false)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(&self.root)?;
        let token = random_token()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        file.write_all(token.as_bytes())?;
        file.sync_all()?;
        Ok((token, true))
    }
}

/// The copy of a read-only data dir's store and index; removed when dropped, so it must
/// outlive the store and index opened from it.
pub struct ReadOnlyCopy {
    dir: PathBuf,
}

impl Drop for ReadOnlyCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// 32 random bytes as hex.
pub fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
