//! Vectors by text on disk, for `eval`: a corpus is embedded once per model, and tuning runs
//! read it back in a second.
//!
//! One append-only file per model: records of the SHA-256 of (model, input kind, text), the
//! dimension (u32) and the floats (little-endian). A record cut short by a crash is ignored.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{text_hash, EmbedError, Embedder, Input};

/// Texts embedded between two writes to the file.
const CHUNK: usize = 64;

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing the file failed.
    #[error("vector cache {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The embedder failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// Vectors of one model by text hash.
pub struct VectorCache {
    path: PathBuf,
    vectors: HashMap<[u8; 32], Vec<f32>>,
}

impl VectorCache {
    /// Opens the cache file of `model` in `dir` (created when missing).
    pub fn open(dir: &Path, model: &str) -> Result<Self, CacheError> {
        let name: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.vec"));
        let io = |source| CacheError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let mut vectors = HashMap::new();
        let mut at = 0;
        while let Some(head) = bytes.get(at..at + 36) {
            let mut key = [0u8; 32];
            key.copy_from_slice(&head[..32]);
            let dim = u32::from_le_bytes([head[32], head[33], head[34], head[35]]) as usize;
            let Some(body) = bytes.get(at + 36..at + 36 + dim * 4) else {
                break;
            };
            let v = body
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            vectors.insert(key, v);
            at += 36 + dim * 4;
        }
        Ok(VectorCache { path, vectors })
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// One vector per text: from the cache, or embedded (and then written to the cache).
    /// `progress` is told how many were embedded so far.
    pub fn embed(
        &mut self,
        embedder: &dyn Embedder,
        input: Input,
        texts: &[String],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, CacheError> {
        let model = embedder.model().to_string();
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| text_hash(&model, input, t)).collect();
        let mut missing: Vec<usize> = Vec::new();
        let mut queued = std::collections::HashSet::new();
        for (i, k) in keys.iter().enumerate() {
            if !self.vectors.contains_key(k) && queued.insert(*k) {
                missing.push(i);
            }
        }
        let io = |source| CacheError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        let mut out = BufWriter::new(file);
        let mut done = 0;
        for chunk in missing.chunks(CHUNK) {
            let batch: Vec<String> = chunk.iter().map(|&i| texts[i].clone()).collect();
            let vectors = embedder.embed(&batch, input)?;
            for (&i, v) in chunk.iter().zip(vectors) {
                let mut record = Vec::with_capacity(36 + v.len() * 4);
                record.extend_from_slice(&keys[i]);
                record.extend_from_slice(&(v.len() as u32).to_le_bytes());
                for x in &v {
                    record.extend_from_slice(&x.to_le_bytes());
                }
                out.write_all(&record).map_err(io)?;
                self.vectors.insert(keys[i], v);
            }
            out.flush().map_err(io)?;
            done += chunk.len();
            progress(done);
        }
        Ok(keys
            .iter()
            .map(|k| self.vectors.get(k).cloned().unwrap_or_default())
            .collect())
    }
}
