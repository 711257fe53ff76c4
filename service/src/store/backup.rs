//! Backups of the sled store: a consistent copy of its files taken while serving, and restoring
//! one into a data directory.
//!
//! Writers are held off (both writer locks), everything is flushed, and the files are copied: the
//! copy is what a crash at that instant would leave, which sled recovers. The index is not
//! copied; restore rebuilds it from the store.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::sled::SledStore;
use super::{Store, StoreError};

/// The name of the description file in a backup directory.
pub const MANIFEST: &str = "backup.json";
/// The format a manifest declares, checked on restore.
const FORMAT: &str = "techmatch-sled-1";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupInfo {
    /// The backup format.
    pub format: String,
    /// The store's change sequence at the moment of the copy.
    pub seq: u64,
    /// Listings in the backup.
    pub listings: usize,
    /// When it was taken (RFC 3339).
    pub taken_at: String,
    /// Bytes copied.
    pub bytes: u64,
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{}: {e}", path.display()))
}

/// Makes `path` readable by its owner only (0700 for a directory, 0600 for a file): a store
/// holds password and token hashes and contact details.
pub fn private(path: &Path, dir: bool) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if dir { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, dir);
    Ok(())
}

/// Copies the directory `from` into `to` (created), recursively, the copies private (0700
/// directories, 0600 files) whatever the originals' modes; returns the bytes copied.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<u64, StoreError> {
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    private(to, true)?;
    let mut bytes = 0;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        if kind.is_dir() {
            bytes += copy_dir(&entry.path(), &target)?;
        } else {
            bytes += std::fs::copy(entry.path(), &target).map_err(|e| io(&target, e))?;
            private(&target, false)?;
        }
    }
    Ok(bytes)
}

/// Checks that `dir` may receive a backup: absent or empty.
fn fresh_target(dir: &Path) -> Result<(), StoreError> {
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied {
        return Err(StoreError::Backend(format!(
            "{} is not empty; back up into a new directory",
            dir.display()
        )));
    }
    Ok(())
}

impl SledStore {
    /// Copies the whole store into `dir` (which must be absent or empty) without stopping
    /// readers; writers wait for the copy.
    pub fn copy_to(&self, dir: &Path) -> Result<BackupInfo, StoreError> {
        let Some(source) = self.path() else {
            return Err(StoreError::Backend(
                "a temporary store has no files to back up".into(),
            ));
        };
        fresh_target(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        private(dir, true)?;
        let (seq, bytes) = self.with_writers_held(|seq| {
            self.flush()?;
            Ok((seq, copy_dir(source, &dir.join("store"))?))
        })?;
        let info = BackupInfo {
            format: FORMAT.into(),
            seq,
            listings: self.count()?,
            taken_at: Utc::now().to_rfc3339(),
            bytes,
        };
        let manifest = dir.join(MANIFEST);
        let text = serde_json::to_vec_pretty(&info).unwrap_or_default();
        std::fs::write(&manifest, text).map_err(|e| io(&manifest, e))?;
        private(&manifest, false)?;
        Ok(info)
    }
}

/// Replaces the store in `store_dir` with the backup in `backup_dir`; the store that was there
/// is kept beside it as `<store_dir>.before-restore-<time>`. The store must not be open.
pub fn restore(
    backup_dir: &Path,
    store_dir: &Path,
) -> Result<(BackupInfo, Option<PathBuf>), StoreError> {
    let manifest = backup_dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest).map_err(|e| io(&manifest, e))?;
    let info: BackupInfo = serde_json::from_str(&text)
        .map_err(|e| StoreError::Backend(format!("{}: {e}", manifest.display())))?;
    if info.format != FORMAT {
        return Err(StoreError::Backend(format!(
            "{}: unknown backup format {:?}",
            manifest.display(),
            info.format
        )));
    }
    let kept = if store_dir.exists() {
        let aside = PathBuf::from(format!(
            "{}.before-restore-{}",
            store_dir.display(),
            Utc::now().format("%Y%m%dT%H%M%S")
        ));
        std::fs::rename(store_dir, &aside).map_err(|e| io(store_dir, e))?;
        Some(aside)
    } else {
        None
    };
    copy_dir(&backup_dir.join("store"), store_dir)?;
    Ok((info, kept))
}
