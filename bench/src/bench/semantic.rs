//! The semantic step's costs: nearest neighbours over synthetic int8 vectors (one per listing),
//! fused search and matching against their lexical forms, and, with an embedder, embedding
//! throughput and the time to embed a query.
//!
//! Embedding a million listings takes days on this machine, so the vectors are made from the
//! text: the sum of a fixed random vector per word plus a direction every vector shares, as
//! sentence embeddings have. Listings sharing words are neighbours, as they would be; uniform
//! random vectors would have no neighbours worth the name and make any approximate search look
//! either perfect or useless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use techmatch_index::vector::{normalize, quantize, VectorSet};
use techmatch_index::SearchIndex;

use super::{percentile, round, Corpus, Rng};
use techmatch::embed::{match_filter, search_filter, Embedder, Input};
use techmatch::indexer::to_index_doc;
use techmatch::matching::{run as run_match, AdHocNeed};
use techmatch::search::{run as run_search, SearchParams};
use techmatch::store::Store;

/// Dimensions of the synthetic vectors (multilingual-e5-small's).
const DIM: usize = 384;

/// Weight of the direction all vectors share, against one word's (e5's vectors have cosine
/// 0.7–0.9 with each other).
const COMMON: f32 = 2.0;

fn word_vector(word: &str) -> Vec<f32> {
    // FNV-1a of the word seeds its vector, so a word means the same everywhere.
    let seed = word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = Rng::new(seed);
    (0..DIM)
        .map(|_| (rng.next_u64() % 2_001) as f32 / 1_000.0 - 1.0)
        .collect()
}

/// Unit vectors standing in for texts' embeddings: shared words make similar vectors.
#[derive(Default)]
struct PseudoEmbedder {
    words: HashMap<String, Vec<f32>>,
}

impl PseudoEmbedder {
    fn embed(&mut self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; DIM];
        let mut words = 0usize;
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 1)
        {
            let word = word.to_lowercase();
            let wv = self
                .words
                .entry(word)
                .or_insert_with_key(|w| word_vector(w));
            v.iter_mut().zip(wv.iter()).for_each(|(x, w)| *x += w);
            words += 1;
        }
        let common = COMMON * (words.max(1) as f32).sqrt();
        let shared = self
            .words
            .entry("\u{0}common".to_string())
            .or_insert_with_key(|w| word_vector(w));
        for (x, s) in v.iter_mut().zip(shared.iter()) {
            *x += common * s;
        }
        normalize(&mut v);
        v
    }
}

fn ms(sorted: &mut [Duration]) -> (f64, f64) {
    sorted.sort();
    (
        round(percentile(sorted, 0.50), 2),
        round(percentile(sorted, 0.99), 2),
    )
}

/// Times the semantic step on the bench's store and index.
pub fn measure(
    store: &dyn Store,
    index: &SearchIndex,
    params: &[SearchParams],
    needs: &[AdHocNeed],
    seed: u64,
    embedder: Option<&dyn Embedder>,
) -> anyhow::Result<Value> {
    let mut set = VectorSet::new(DIM);
    let mut pseudo = PseudoEmbedder::default();
    let started = Instant::now();
    for listing in store.scan() {
        let listing = listing?;
        let doc = to_index_doc(&listing);
        let text = format!("{}\n{}", listing.title, listing.description);
        set.upsert(
            &listing.id,
            &quantize(&pseudo.embed(&text)),
            &doc.facets,
            doc.trl,
        );
    }
    let load_s = started.elapsed().as_secs_f64();

    let (mut knn, mut knn_exact, mut lexical, mut fused) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut found, mut asked) = (0usize, 0usize);
    for p in params {
        let mut request = p.to_request(false).map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        run_search(index, &request)?;
        lexical.push(started.elapsed());
        let query = pseudo.embed(p.q.as_deref().unwrap_or_default());
        let filter = search_filter(&request);
        let started = Instant::now();
        request.semantic = set.nearest(&query, request.fusion.depth, &filter);
        knn.push(started.elapsed());
        run_search(index, &request)?;
        fused.push(started.elapsed());
        // The same neighbours scored exactly: what the approximate search costs in recall.
        let started = Instant::now();
        let exact = set.nearest_exact(&query, request.fusion.depth, &filter);
        knn_exact.push(started.elapsed());
        found += exact
            .iter()
            .filter(|(id, _)| request.semantic.iter().any(|(got, _)| got == id))
            .count();
        asked += exact.len();
    }
    let (mut match_lexical, mut match_fused) = (Vec::new(), Vec::new());
    for need in needs {
        let mut request = need.to_request().map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        run_match(index, &request)?;
        match_lexical.push(started.elapsed());
        let query = pseudo.embed(&need.text);
        let started = Instant::now();
        request.semantic = set.nearest(&query, request.fusion.depth, &match_filter(&request));
        run_match(index, &request)?;
        match_fused.push(started.elapsed());
    }
    let (knn50, knn99) = ms(&mut knn);
    let (exact50, exact99) = ms(&mut knn_exact);
    let (lex50, lex99) = ms(&mut lexical);
    let (fus50, fus99) = ms(&mut fused);
    let (mlex50, mlex99) = ms(&mut match_lexical);
    let (mfus50, mfus99) = ms(&mut match_fused);
    let mut out = json!({
        "vectors": set.len(),
        "vector_bytes": set.bytes_per_vector(),
        "vectors_mib_per_million": round(set.bytes_per_vector() as f64 * 1e6 / 1048576.0, 0),
        "vectors_load_s": round(load_s, 2),
        "knn_p50_ms": knn50,
        "knn_p99_ms": knn99,
        "knn_approximate": set.approximates(),
        "knn_exact_p50_ms": exact50,
        "knn_exact_p99_ms": exact99,
        "knn_recall": round(found as f64 / asked.max(1) as f64, 4),
        "search_lexical_p50_ms": lex50,
        "search_lexical_p99_ms": lex99,
        "search_fused_p50_ms": fus50,
        "search_fused_p99_ms": fus99,
        "match_lexical_p50_ms": mlex50,
        "match_lexical_p99_ms": mlex99,
        "match_fused_p50_ms": mfus50,
        "match_fused_p99_ms": mfus99,
    });
    if let Some(embedder) = embedder {
        let mut corpus = Corpus::new(seed ^ 0xe5);
        let texts: Vec<String> = (0..64)
            .map(|n| {
                let l = corpus.listing(n);
                format!(
                    "{}\n{}",
                    l["title"].as_str().unwrap_or_default(),
                    l["description"].as_str().unwrap_or_default()
                )
            })
            .collect();
        let started = Instant::now();
        embedder.embed(&texts, Input::Passage)?;
        let per_s = texts.len() as f64 / started.elapsed().as_secs_f64();
        let mut query_times = Vec::new();
        for p in params.iter().take(50) {
            let q = p.q.clone().unwrap_or_default();
            let started = Instant::now();
            embedder.embed(&[q], Input::Query)?;
            query_times.push(started.elapsed());
        }
        let (q50, q99) = ms(&mut query_times);
        out["embed_listings_per_s"] = json!(round(per_s, 1));
        out["embed_query_p50_ms"] = json!(q50);
        out["embed_query_p99_ms"] = json!(q99);
        out["embed_model"] = json!(embedder.model());
    }
    Ok(out)
}
