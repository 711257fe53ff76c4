//! `SearchIndex`: one tantivy index on disk or in memory, with the store sequence it has applied.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError};

use crate::doc::{IndexChange, IndexDoc};
use crate::error::IndexError;
use crate::schema::{self, Fields, SCHEMA_VERSION};

/// Memory the writer may buffer before it flushes a segment (split over its threads).
const WRITER_BUDGET: usize = 128 * 1024 * 1024;

/// What every commit records inside the index, so that a reopened index knows where it stands.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    schema: u32,
    seq: u64,
    /// What the change at `seq` was (see [`SearchIndex::commit_marked`]); absent in indexes
    /// written before it was recorded, and after a rebuild.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
}

/// A full-text index of listings that remembers the last store change applied to it.
pub struct SearchIndex {
    index: Index,
    /// One reader for the process; every search takes a fresh searcher from it.
    reader: IndexReader,
    /// `None` when opened read-only; a std mutex because commits run on blocking threads.
    writer: Option<Mutex<IndexWriter>>,
    pub(crate) fields: Fields,
    /// The store sequence contained in the last commit.
    applied: Mutex<u64>,
    /// The mark committed with `applied`.
    mark: Mutex<Option<String>>,
    /// Facet values by segment, for counting.
    pub(crate) facet_cache: std::sync::Arc<crate::facets::FacetCache>,
    /// Filter bitsets by segment, for pruned top hits.
    pub(crate) filter_cache: std::sync::Arc<crate::topk::FilterCache>,
}

impl SearchIndex {
    /// Opens the index in `dir` for reading and writing, creating it when absent and
    /// starting afresh (sequence 0) when it was written by an incompatible version.
    ///
    /// # Errors
    /// [`IndexError::Locked`] when another process writes to the same directory.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        Self::open_dir(dir, true)
    }

    /// Opens an existing index in `dir` for searching only; takes no lock.
    pub fn open_read_only(dir: &Path) -> Result<Self, IndexError> {
        Self::open_dir(dir, false)
    }

    /// Creates an empty index in memory (tests, evaluation), written by one thread so that
    /// documents keep their order and equal scores rank the same in every run.
    pub fn in_ram() -> Result<Self, IndexError> {
        let (schema, _) = schema::build();
        Self::from_index(Index::create_in_ram(schema), Some(1))
    }

    fn open_dir(dir: &Path, writable: bool) -> Result<Self, IndexError> {
        let io = |source| IndexError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let existing = Index::open_in_dir(dir).ok();
        let compatible = existing
            .as_ref()
            .and_then(|index| read_payload(index).ok())
            .is_some_and(|p| p.schema == SCHEMA_VERSION);
        let mut fresh = false;
        let index = match existing {
            Some(index) if compatible => index,
            _ if !writable => Index::open_in_dir(dir)?,
            _ => {
                fresh = true;
                // An index from another version is derived data: throw it away and rebuild.
                clear_dir(dir).map_err(io)?;
                let (schema, _) = schema::build();
                Index::create(
                    MmapDirectory::open(dir)?,
                    schema,
                    tantivy::IndexSettings::default(),
                )?
            }
        };
        let threads = writable.then_some(0);
        let opened = Self::from_index(index, threads).map_err(|e| match e {
            IndexError::Tantivy(TantivyError::LockFailure(..)) => {
                IndexError::Locked(PathBuf::from(dir))
            }
            e => e,
        })?;
        if fresh {
            // Record the schema version at once, so the next open recognises this index.
            opened.clear(0)?;
        }
        Ok(opened)
    }

    /// `writer_threads`: `None` opens read-only; `Some(0)` lets tantivy choose the thread count.
    fn from_index(index: Index, writer_threads: Option<usize>) -> Result<Self, IndexError> {
        schema::register_tokenizers(&index);
        let (_, fields) = schema::build();
        let facet_cache = std::sync::Arc::new(crate::facets::FacetCache::default());
        let filter_cache = std::sync::Arc::new(crate::topk::FilterCache::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![
                std::sync::Arc::downgrade(&facet_cache) as std::sync::Weak<dyn tantivy::Warmer>,
                std::sync::Arc::downgrade(&filter_cache) as std::sync::Weak<dyn tantivy::Warmer>,
            ])
            .try_into()?;
        let writer = match writer_threads {
            None => None,
            Some(0) => Some(Mutex::new(index.writer(WRITER_BUDGET)?)),
            Some(n) => Some(Mutex::new(index.writer_with_num_threads(n, WRITER_BUDGET)?)),
        };
        let payload = read_payload(&index).unwrap_or_default();
        Ok(SearchIndex {
            index,
            reader,
            writer,
            fields,
            applied: Mutex::new(payload.seq),
            mark: Mutex::new(payload.mark),
            facet_cache,
            filter_cache,
        })
    }

    /// Waits for the background merges of committed segments, then releases the writer: a
    /// bulk load ends with it so that the next open finds a few large segments, not many
    /// small ones (dropping the index instead abandons merges in flight).
    pub fn close(self) -> Result<(), IndexError> {
        if let Some(writer) = self.writer {
            let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
            writer.wait_merging_threads()?;
        }
        Ok(())
    }

    /// The last store sequence whose changes are committed in this index.
    pub fn applied_seq(&self) -> u64 {
        *self.applied.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the change at [`SearchIndex::applied_seq`] was, as given to
    /// [`SearchIndex::commit_marked`].
    pub fn applied_mark(&self) -> Option<String> {
        self.mark.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Applies `changes`, commits them together with `seq`, and makes them searchable.
    pub fn apply(
        &self,
        changes: impl IntoIterator<Item = IndexChange>,
        seq: u64,
    ) -> Result<(), IndexError> {
        self.write(changes)?;
        self.commit_at(seq)
    }

    /// Hands `changes` to the writer without committing: they become durable and searchable
    /// with the next [`SearchIndex::commit_at`] (or are lost, with nothing recorded, on a crash).
    ///
    /// Bulk loads write many batches and commit once, because every commit seals small
    /// segments that later merges must rewrite.
    pub fn write(&self, changes: impl IntoIterator<Item = IndexChange>) -> Result<(), IndexError> {
        let writer = self.writer.as_ref().ok_or(IndexError::ReadOnly)?;
        let writer = writer.lock().unwrap_or_else(|e| e.into_inner());
        for change in changes {
            match change {
                IndexChange::Upsert(doc) => {
                    writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
                    writer.add_document(self.to_document(&doc))?;
                }
                IndexChange::Delete(id) => {
                    writer.delete_term(Term::from_field_text(self.fields.id, &id));
                }
            }
        }
        Ok(())
    }

    /// Commits everything written so far together with `seq`, and makes it searchable.
    pub fn commit_at(&self, seq: u64) -> Result<(), IndexError> {
        self.commit_marked(seq, None)
    }

    /// [`SearchIndex::commit_at`], also recording `mark`: what the change at `seq` was, so that
    /// a follower can later check that the log it follows still says the same there (a store
    /// failed over to a replica that lacked the last writes hands those numbers out again).
    pub fn commit_marked(&self, seq: u64, mark: Option<&str>) -> Result<(), IndexError> {
        let writer = self.writer.as_ref().ok_or(IndexError::ReadOnly)?;
        let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
        self.commit(&mut writer, seq, mark)
    }

    /// Removes every document and records `seq` as applied (the start of a rebuild).
    pub fn clear(&self, seq: u64) -> Result<(), IndexError> {
        let writer = self.writer.as_ref().ok_or(IndexError::ReadOnly)?;
        let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_all_documents()?;
        self.commit(&mut writer, seq, None)
    }

    /// Re-reads the index from disk, for a read-only handle following another process's writes.
    pub fn refresh(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        let payload = read_payload(&self.index).unwrap_or_default();
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = payload.seq;
        *self.mark.lock().unwrap_or_else(|e| e.into_inner()) = payload.mark;
        Ok(())
    }

    fn commit(
        &self,
        writer: &mut IndexWriter,
        seq: u64,
        mark: Option<&str>,
    ) -> Result<(), IndexError> {
        let payload = CommitPayload {
            schema: SCHEMA_VERSION,
            seq,
            mark: mark.map(str::to_string),
        };
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).unwrap_or_default());
        prepared.commit()?;
        self.reader.reload()?;
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = seq;
        *self.mark.lock().unwrap_or_else(|e| e.into_inner()) = payload.mark;
        Ok(())
    }

    fn to_document(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.stored, &doc.stored);
        d.add_text(
            f.profile,
            serde_json::to_string(&doc.profile).unwrap_or_default(),
        );
        for (group, text) in &doc.text {
            let g = f.group(*group);
            d.add_text(g.exact, text);
            d.add_text(g.folded, text);
            d.add_text(g.bigram, text);
        }
        for (facet, value) in &doc.facets {
            d.add_text(f.facet(*facet), value);
        }
        if let Some(trl) = doc.trl {
            d.add_u64(f.trl, trl);
        }
        d
    }

    /// Which state of the index searches see now; it grows whenever a commit becomes visible,
    /// so an answer computed on one generation holds until the next.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    pub(crate) fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }
}

fn read_payload(index: &Index) -> Result<CommitPayload, IndexError> {
    let metas = index.load_metas()?;
    Ok(metas
        .payload
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or_default())
}

fn clear_dir(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
