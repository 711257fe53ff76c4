//! The vectors on disk: one record per listing (model, hash of the embedded text, int8 vector
//! and scale) and, per model, the change-log sequence the follower has embedded up to.
//!
//! Derived data in its own sled database (`<data>/vectors`): deleting it costs only the time
//! to embed again.

use std::path::Path;

use techmatch_index::vector::Quantized;

const VECTOR: u8 = b'v';
const APPLIED: u8 = b'a';

/// Why the vector store failed.
#[derive(Debug, thiserror::Error)]
pub enum VectorStoreError {
    /// sled failed.
    #[error("vector store: {0}")]
    Backend(#[from] sled::Error),
}

/// One listing's vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    /// The model that made it.
    pub model: String,
    /// [`super::text_hash`] of the text embedded.
    pub hash: [u8; 32],
    /// The vector.
    pub vector: Quantized,
}

impl VectorRecord {
    fn encode(&self) -> Vec<u8> {
        let model = self.model.as_bytes();
        let mut out = Vec::with_capacity(38 + model.len() + self.vector.data.len());
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.vector.scale.to_le_bytes());
        out.extend_from_slice(&(model.len() as u16).to_le_bytes());
        out.extend_from_slice(model);
        out.extend(self.vector.data.iter().map(|b| *b as u8));
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let hash: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
        let scale = f32::from_le_bytes(bytes.get(32..36)?.try_into().ok()?);
        let len = u16::from_le_bytes(bytes.get(36..38)?.try_into().ok()?) as usize;
        let model = std::str::from_utf8(bytes.get(38..38 + len)?)
            .ok()?
            .to_string();
        let data = bytes.get(38 + len..)?.iter().map(|b| *b as i8).collect();
        Some(VectorRecord {
            model,
            hash,
            vector: Quantized { scale, data },
        })
    }
}

fn key(kind: u8, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(kind);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The vector records of every listing.
pub struct VectorStore {
    db: sled::Db,
}

/// A change to the vector store: one listing's record written or removed.
pub enum VectorChange {
    /// Write this record for the listing.
    Put(String, VectorRecord),
    /// Remove the listing's record.
    Delete(String),
}

impl VectorStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, VectorStoreError> {
        Ok(VectorStore {
            db: sled::Config::new().path(dir).open()?,
        })
    }

    /// A store that lives in memory and a temporary file only.
    pub fn temporary() -> Result<Self, VectorStoreError> {
        Ok(VectorStore {
            db: sled::Config::new().temporary(true).open()?,
        })
    }

    /// The listing's record; an unreadable one counts as absent (it is embedded again).
    pub fn get(&self, id: &str) -> Result<Option<VectorRecord>, VectorStoreError> {
        Ok(self
            .db
            .get(key(VECTOR, id))?
            .and_then(|v| VectorRecord::decode(&v)))
    }

    /// Applies `changes` and records `seq` as embedded for `model`, in one atomic batch.
    pub fn apply(
        &self,
        changes: Vec<VectorChange>,
        model: &str,
        seq: u64,
    ) -> Result<(), VectorStoreError> {
        let mut batch = sled::Batch::default();
        for change in changes {
            match change {
                VectorChange::Put(id, record) => batch.insert(key(VECTOR, &id), record.encode()),
                VectorChange::Delete(id) => batch.remove(key(VECTOR, &id)),
            }
        }
        batch.insert(key(APPLIED, model), &seq.to_be_bytes());
        self.db.apply_batch(batch)?;
        Ok(())
    }

    /// The sequence embedded up to for `model` (0: nothing yet).
    pub fn applied(&self, model: &str) -> Result<u64, VectorStoreError> {
        Ok(self
            .db
            .get(key(APPLIED, model))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Forgets how far every model got (after a store was restored), keeping the records.
    pub fn reset(&self) -> Result<(), VectorStoreError> {
        for k in self.db.scan_prefix([APPLIED]).keys() {
            self.db.remove(k?)?;
        }
        Ok(())
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), VectorStoreError> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(model: &str) -> VectorRecord {
        VectorRecord {
            model: model.into(),
            hash: [7; 32],
            vector: Quantized {
                scale: 0.01,
                data: vec![1, -2, 127, -127],
            },
        }
    }

    #[test]
    fn records_and_progress_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        {
            let store = VectorStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
            let changes = vec![
                VectorChange::Put("a".into(), record("m1")),
                VectorChange::Put("b".into(), record("m1")),
                VectorChange::Delete("b".into()),
            ];
            store
                .apply(changes, "m1", 42)
                .unwrap_or_else(|e| panic!("{e}"));
            store.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        // sled's flusher thread lets go of the directory's lock a moment after the drop, later
        // on a loaded machine: the reopen waits for it as a restarted process would.
        let started = std::time::Instant::now();
        let store = loop {
            match VectorStore::open(dir.path()) {
                Ok(store) => break store,
                Err(e) if started.elapsed() > std::time::Duration::from_secs(5) => panic!("{e}"),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        };
        assert_eq!(store.get("a").ok().flatten(), Some(record("m1")));
        assert_eq!(store.get("b").ok().flatten(), None);
        assert_eq!(store.applied("m1").ok(), Some(42));
        assert_eq!(store.applied("m2").ok(), Some(0));
        store.reset().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.applied("m1").ok(), Some(0));
    }
}
