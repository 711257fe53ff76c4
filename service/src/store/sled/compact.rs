//! Compaction of the embedded store after a bulk load.
//!
//! Large write batches leave sled 0.34's log file with free segments in its middle (the larger
//! the batch, the more: an import of 100,000 listings left 4 free segments in batches of 500,
//! 20 in batches of 5,000, 80 in batches of 50,000), and sled writes zeros over every free
//! segment at *every* open. A million listings imported in batches of 50,000 and settled kept
//! 42 of 450 segments free (168 MB), and a cold open took 2.4–3.3 s. Copying the records into
//! a fresh database, one insert at a time and in key order, leaves a few (5 to 11), and the
//! cold open took 0.5–1.5 s. The copy is larger than its source (1.9 GB became 2.1 GB when
//! copied by `techmatch compact`, 2.8 GB in the process that had just imported, which we have
//! not explained): disk is traded for every later start.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::store::{backend, segment_size, sync_dir, SledStore, DEFAULT_DISK_RESERVE};
use crate::store::StoreError;

/// A store whose free segments are fewer than this share of its file is not worth a copy: the
/// copy's time grows with the file, the zeroing's with the free segments.
const SPARSE_SHARE: f64 = 0.05;

/// Fewer free segments than this are not worth a copy, whatever their share: eight 4 MiB
/// segments are zeroed in a third of a second on a cold disk.
const MIN_FREE_SEGMENTS: usize = 8;

/// How many bytes at the start of a segment tell a free one (zeroed) from a used one (its header).
const HEADER_BYTES: usize = 64;

/// What [`compact_if_sparse`] found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct Compaction {
    /// Segments in the store's log file before.
    pub segments: usize,
    /// Of those, the free ones sled zeroes at each open.
    pub free_segments: usize,
    /// Size of the log file before, in bytes.
    pub bytes_before: u64,
    /// Size of the log file after, in bytes (the same when nothing was done).
    pub bytes_after: u64,
    /// Whether the store was rewritten.
    pub compacted: bool,
    /// Whether a copy was wanted but the disk lacked room for it.
    pub lacked_room: bool,
    /// Seconds the check and the copy took.
    pub seconds: f64,
}

/// One line saying what the store held and what was done.
impl std::fmt::Display for Compaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (free, segments, mb) = (self.free_segments, self.segments, 1_000_000);
        if self.compacted {
            write!(
                f,
                "store compacted in {:.1} s: {free} of {segments} segments were free; {} MB → {} MB",
                self.seconds,
                self.bytes_before / mb,
                self.bytes_after / mb
            )
        } else if self.lacked_room {
            write!(
                f,
                "store left as it is: {free} of {segments} segments are free, but the disk lacks \
                 room for a {} MB copy",
                self.bytes_before / mb
            )
        } else {
            write!(
                f,
                "store left as it is: {free} of {segments} segments free, too few to be worth a copy"
            )
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{}: {e}", path.display()))
}

/// Counts the segments of the store's log file at `dir` and the free ones among them.
///
/// sled fills a free segment with zeros when it opens the database, while a used one starts
/// with its header (a sequence number and a checksum), so the first bytes tell them apart.
pub fn free_segments(dir: &Path) -> Result<(usize, usize), StoreError> {
    use std::os::unix::fs::FileExt;

    let log = dir.join("db");
    let file = std::fs::File::open(&log).map_err(|e| io(&log, e))?;
    let len = file.metadata().map_err(|e| io(&log, e))?.len();
    let size = segment_size(dir) as u64;
    let segments = len.div_ceil(size) as usize;
    let mut head = [0u8; HEADER_BYTES];
    let mut free = 0;
    for n in 0..segments as u64 {
        let at = n * size;
        let want = HEADER_BYTES.min((len - at) as usize);
        file.read_exact_at(&mut head[..want], at)
            .map_err(|e| io(&log, e))?;
        if head[..want].iter().all(|b| *b == 0) {
            free += 1;
        }
    }
    Ok((segments, free))
}

/// A directory beside `dir`, named after it with `suffix`.
fn beside(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

/// Rewrites the store at `dir` into a fresh database and swaps it in, when free segments are a
/// large share of its file; nothing else may have the store open.
///
/// The swap is one atomic exchange of the two directories, so a crash at any point leaves either
/// the old store or the new one, complete, at `dir`. Where the file system cannot exchange
/// directories the old store stays, untouched.
pub fn compact_if_sparse(dir: &Path) -> Result<Compaction, StoreError> {
    let started = Instant::now();
    let log = dir.join("db");
    // Opening a missing store would create an empty one.
    if !log.exists() {
        return Err(StoreError::Backend(format!(
            "there is no store in {} to compact",
            dir.display()
        )));
    }
    // A leftover of an interrupted compaction is either a half-made copy or the old store
    // already swapped out: neither is needed.
    let spare = beside(dir, ".compact");
    if spare.exists() {
        std::fs::remove_dir_all(&spare).map_err(|e| io(&spare, e))?;
    }
    let bytes_before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    // Opening zeroes the free segments, which is what the count reads; it also takes sled's
    // lock, held until the swap is done, so that no server opens the store meanwhile.
    let source = SledStore::open(dir)?;
    let (segments, free_segments) = free_segments(dir)?;
    let mut outcome = Compaction {
        segments,
        free_segments,
        bytes_before,
        bytes_after: bytes_before,
        compacted: false,
        lacked_room: false,
        seconds: 0.0,
    };
    let sparse = free_segments >= MIN_FREE_SEGMENTS
        && free_segments as f64 >= SPARSE_SHARE * segments.max(1) as f64;
    if !sparse {
        outcome.seconds = started.elapsed().as_secs_f64();
        return Ok(outcome);
    }
    // The copy is about as large as the file; it must not eat the room writes keep back.
    let parent = dir.parent().unwrap_or(Path::new("."));
    if fs4::available_space(parent).is_ok_and(|free| free < bytes_before + DEFAULT_DISK_RESERVE) {
        outcome.lacked_room = true;
        outcome.seconds = started.elapsed().as_secs_f64();
        return Ok(outcome);
    }
    if let Err(e) = copy_into(&source, &spare) {
        // A half-made copy only takes room.
        let _ = std::fs::remove_dir_all(&spare);
        return Err(e);
    }
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        dir,
        rustix::fs::CWD,
        &spare,
        rustix::fs::RenameFlags::EXCHANGE,
    ) {
        Ok(()) => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent).map_err(|e| io(parent, e))?;
            }
            drop(source);
            std::fs::remove_dir_all(&spare).map_err(|e| io(&spare, e))?;
            outcome.compacted = true;
            outcome.bytes_after = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        }
        Err(e) => {
            tracing::warn!(
                dir = %dir.display(),
                error = %e,
                "the store could not be swapped for its compacted copy; it stays as it was"
            );
            drop(source);
            std::fs::remove_dir_all(&spare).map_err(|e| io(&spare, e))?;
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// Copies every tree of `source` into a new database at `dest`, durably.
fn copy_into(source: &SledStore, dest: &Path) -> Result<(), StoreError> {
    let copy = sled::Config::new()
        .path(dest)
        .segment_size(source.segment_bytes())
        // sled's default cache (1 GiB), not the store's 128 MiB: with the smaller one the
        // copy of a million listings came out 2.8 GB instead of 2.1 GB.
        .mode(sled::Mode::HighThroughput)
        .open()
        .map_err(backend)?;
    for name in source.db().tree_names() {
        let from = source.db().open_tree(&name).map_err(backend)?;
        let to = copy.open_tree(&name).map_err(backend)?;
        // One insert at a time, in key order: a batch would hold the segments it frees until
        // it ends, which is what made the source sparse.
        for entry in from.iter() {
            let (key, value) = entry.map_err(backend)?;
            to.insert(key, value).map_err(backend)?;
        }
    }
    copy.flush().map_err(backend)?;
    drop(copy);
    // sled's flush writes; the data must also be on the disk before the swap.
    let log = dest.join("db");
    std::fs::File::open(&log)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&log, e))?;
    sync_dir(dest).map_err(|e| io(dest, e))?;
    // The copy is settled like any store after a bulk write (see `DataDir::settle_store`).
    drop(SledStore::open(dest)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `n` records of 1 KiB into the store at `dir` as one batch, the way an import does.
    fn load_in_one_batch(dir: &Path, n: u32) {
        let store = SledStore::open(dir).expect("open");
        let tree = store.db().open_tree("listings").expect("tree");
        let mut batch = sled::Batch::default();
        for i in 0..n {
            let value: Vec<u8> = (0..1024).map(|j| (i as usize * 7 + j) as u8).collect();
            batch.insert(format!("l/{i:08}").as_bytes(), value);
        }
        tree.apply_batch(batch).expect("batch");
        store.flush().expect("flush");
    }

    fn contents(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
        let store = SledStore::open(dir).expect("open");
        let tree = store.db().open_tree("listings").expect("tree");
        tree.iter()
            .map(|e| {
                let (k, v) = e.expect("entry");
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    #[test]
    fn a_sparse_store_is_rewritten_with_every_record_and_few_free_segments() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        load_in_one_batch(&dir, 60_000);
        let before = contents(&dir);
        assert_eq!(before.len(), 60_000);

        let done = compact_if_sparse(&dir).expect("compact");
        assert!(
            done.free_segments >= MIN_FREE_SEGMENTS,
            "the batch should leave free segments: {done:?}"
        );
        assert!(done.compacted, "{done:?}");
        assert!(done.bytes_after < done.bytes_before, "{done:?}");
        assert!(!beside(&dir, ".compact").exists());

        assert_eq!(contents(&dir), before);
        let (segments, free) = free_segments(&dir).expect("count");
        assert!(
            free < done.free_segments / 2,
            "{free} of {segments} free after, {} before",
            done.free_segments
        );
        // A compact store is left alone.
        let again = compact_if_sparse(&dir).expect("again");
        assert!(!again.compacted, "{again:?}");
        assert_eq!(contents(&dir), before);
    }

    #[test]
    fn a_leftover_of_an_interrupted_compaction_is_removed_and_the_store_kept() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        load_in_one_batch(&dir, 100);
        let before = contents(&dir);
        let leftover = beside(&dir, ".compact");
        std::fs::create_dir_all(&leftover).expect("mkdir");
        std::fs::write(leftover.join("db"), b"half a copy").expect("write");

        let done = compact_if_sparse(&dir).expect("compact");
        assert!(
            !done.compacted,
            "a small store is not worth a copy: {done:?}"
        );
        assert!(!leftover.exists());
        assert_eq!(contents(&dir), before);
    }

    #[test]
    fn a_missing_store_is_an_error_and_is_not_created() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        let err = compact_if_sparse(&dir).expect_err("no store");
        assert!(err.to_string().contains("no store"), "{err}");
        assert!(!dir.exists());
    }
}
