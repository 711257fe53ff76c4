//! The index's error type.

use std::path::PathBuf;

/// What can go wrong opening, writing or querying the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another process holds the index writer (a running server, most likely).
    #[error("the index at {0} is in use by another process")]
    Locked(PathBuf),
    /// The index directory could not be created, read or cleared.
    #[error("index directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The index was opened without a writer and a write was attempted.
    #[error("the index was opened read-only")]
    ReadOnly,
    /// An error inside tantivy.
    #[error("search engine: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The directory could not be opened by tantivy.
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
}
