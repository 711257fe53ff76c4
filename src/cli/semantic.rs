//! `--semantic on` for `search` and `match` on the terminal: the vectors `serve` computed in the
//! data dir, and the embedder for the query's own vector.

use anyhow::Context;

use super::embedder::{Connected, EmbedderArgs};
use techmatch::data_dir::DataDir;
use techmatch::embed::follower;
use techmatch::embed::store::VectorStore;
use techmatch::embed::Semantic;
use techmatch::store::Store;

/// The semantic side of one command, and the embedder it started (stopped when dropped).
pub struct CliSemantic {
    /// Vectors in memory and the embedder.
    pub semantic: Semantic,
    _connected: Connected,
}

/// Reaches the embedder and loads the stored vectors of its model.
pub fn open(data: &DataDir, store: &dyn Store, args: &EmbedderArgs) -> anyhow::Result<CliSemantic> {
    let connected = args
        .connect(true)?
        .context("--semantic on needs an embedder (--embedder-url)")?;
    let path = data.path().join("vectors");
    let vectors = VectorStore::open(&path).with_context(|| {
        format!(
            "opening the vectors in {} (is `techmatch serve` running on this data dir? ask its API instead)",
            path.display()
        )
    })?;
    let semantic = Semantic::new(connected.embedder.clone(), connected.dim);
    let loaded = follower::load(store, &vectors, &semantic)?;
    if loaded == 0 {
        eprintln!(
            "note: no listing has a vector of {} yet (`techmatch serve` computes them): lexical ranking only",
            connected.embedder.model()
        );
    }
    Ok(CliSemantic {
        semantic,
        _connected: connected,
    })
}
