//! `techmatch eval`: ranking quality on a labelled set in BEIR layout, through the same path as
//! `GET /api/v1/search`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Deserialize;
use techmatch_index::eval::{evaluate, write_trec, Gain as NdcgGain, Qrels, Run};
use techmatch_index::SearchIndex;

use techmatch::domain::{parse_listing, Listing, RawRecord};
use techmatch::embed::cache::VectorCache;
use techmatch::embed::{listing_text, match_filter, search_filter, Input};
use techmatch::indexer;
use techmatch::matching::{run as run_match, AdHocNeed};
use techmatch::search::{run as run_search, SearchParams, MAX_QUERY_CHARS};
use techmatch::store::{SledStore, Store};
use techmatch_bench::pg::fts::Combine;
use techmatch_index::vector::{
    normalize, quantize, VectorFilter, VectorSet, APPROXIMATE_FROM, CANDIDATES_PER_RESULT,
};

/// Depth of the ranking kept per query (recall@100, run files).
pub(super) const DEPTH: usize = 100;

/// Options of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// corpus.jsonl: `_id`, `title`, `text` per line.
    #[arg(long)]
    corpus: PathBuf,
    /// queries.jsonl: `_id`, `text` per line.
    #[arg(long)]
    queries: PathBuf,
    /// qrels.tsv: `query-id`, `corpus-id`, `score` with a header line.
    #[arg(long)]
    qrels: PathBuf,
    /// Write the ranking as a TREC run file (top 100 per query).
    #[arg(long)]
    run: Option<PathBuf>,
    /// `search` runs each query as `GET /api/v1/search` does; `match` as an ad-hoc need
    /// (`POST /api/v1/match`), for long descriptions.
    #[arg(long, value_enum, default_value = "search")]
    mode: Mode,
    /// nDCG's gain of a grade: `linear` (trec_eval's, as BEIR and pytrec_eval report it) or
    /// `exponential` (2^grade - 1).
    #[arg(long, value_enum, default_value = "linear")]
    gain: Gain,
    /// `postgres` ranks with PostgreSQL full-text search in a throw-away cluster instead.
    #[arg(long, value_enum, default_value = "techmatch")]
    engine: Engine,
    /// With `--engine postgres`: whether a document needs any query word or all of them.
    #[arg(long, value_enum, default_value = "any")]
    pg_words: Combine,
    /// `on` fuses semantic neighbours (from the embedder) with the lexical ranking.
    #[arg(long, value_enum, default_value = "off")]
    semantic: Switch,
    /// Where corpus and query vectors are kept between runs (by model and text hash);
    /// default `techmatch-vectors` in the system's temporary directory.
    #[arg(long)]
    vector_cache: Option<PathBuf>,
    /// How neighbours are found: as the service does by corpus size (`auto`), or forced.
    #[arg(long, value_enum, default_value = "auto")]
    knn: Knn,
    /// Candidates the approximate search scores exactly per neighbour asked for.
    #[arg(long, default_value_t = CANDIDATES_PER_RESULT)]
    knn_candidates: usize,
    #[command(flatten)]
    embedder: super::embedder::EmbedderArgs,
}

/// nDCG's gain of a grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Gain {
    /// The grade (trec_eval, BEIR, pytrec_eval).
    Linear,
    /// 2^grade - 1.
    Exponential,
}

impl From<Gain> for NdcgGain {
    fn from(g: Gain) -> Self {
        match g {
            Gain::Linear => NdcgGain::Linear,
            Gain::Exponential => NdcgGain::Exponential,
        }
    }
}

/// Which search engine ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Ours.
    Techmatch,
    /// PostgreSQL full-text search, for comparison.
    Postgres,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    /// Lexical ranking only.
    Off,
    /// Lexical fused with semantic.
    On,
}

/// How nearest neighbours are searched in `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Knn {
    /// Exact below the service's threshold, approximate above (as `serve` does).
    Auto,
    /// Every vector scored.
    Exact,
    /// Sketch scan, then exact scores of the candidates, whatever the corpus size.
    Approximate,
}

fn approximate_from(knn: Knn) -> usize {
    match knn {
        Knn::Auto => APPROXIMATE_FROM,
        Knn::Exact => usize::MAX,
        Knn::Approximate => 0,
    }
}

/// The corpus's vectors and each query's, when `--semantic on`.
struct Vectors {
    set: VectorSet,
    queries: Vec<Vec<f32>>,
    model: String,
    embed_s: f64,
}

/// The text a query is embedded as: what the search or matching path receives.
fn query_text(text: &str, mode: Mode) -> String {
    match mode {
        Mode::Search => text.chars().take(MAX_QUERY_CHARS).collect::<String>(),
        Mode::Match => text.to_string(),
    }
    .trim()
    .to_string()
}

fn embed_all(args: &Args, store: &SledStore, queries: &[QueryLine]) -> anyhow::Result<Vectors> {
    let connected = args
        .embedder
        .connect(true)?
        .context("semantic ranking needs an embedder")?;
    let embedder = connected.embedder.as_ref();
    let dir = args
        .vector_cache
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("techmatch-vectors"));
    let mut cache = VectorCache::open(&dir, embedder.model())?;
    let started = std::time::Instant::now();
    let mut listings = Vec::new();
    for l in store.scan() {
        listings.push(l?);
    }
    let texts: Vec<String> = listings.iter().map(listing_text).collect();
    let bar = super::progress::bar(texts.len() as u64, "embedding");
    let vectors = cache.embed(embedder, Input::Passage, &texts, |n| {
        bar.set_position(n as u64)
    })?;
    bar.finish_and_clear();
    let mut set = VectorSet::new(connected.dim);
    set.set_approximate(approximate_from(args.knn), args.knn_candidates);
    for (listing, mut v) in listings.iter().zip(vectors) {
        normalize(&mut v);
        let doc = indexer::to_index_doc(listing);
        set.upsert(&listing.id, &quantize(&v), &doc.facets, doc.trl);
    }
    let texts: Vec<String> = queries
        .iter()
        .map(|q| query_text(&q.text, args.mode))
        .collect();
    let mut queries = cache.embed(embedder, Input::Query, &texts, |_| {})?;
    queries.iter_mut().for_each(|v| normalize(v));
    Ok(Vectors {
        set,
        queries,
        model: embedder.model().to_string(),
        embed_s: started.elapsed().as_secs_f64(),
    })
}

/// Which path the queries take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The search path.
    Search,
    /// The matching path.
    Match,
}

/// One corpus document.
#[derive(Deserialize)]
pub(super) struct Doc {
    #[serde(rename = "_id")]
    pub(super) id: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) text: String,
}

/// One query.
#[derive(Deserialize)]
pub(super) struct QueryLine {
    #[serde(rename = "_id")]
    pub(super) id: String,
    pub(super) text: String,
}

/// The records of a JSON Lines file, each with its line number.
fn jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<(usize, T)>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a record of this set", path.display(), i + 1))?;
        out.push((i + 1, record));
    }
    Ok(out)
}

/// Refuses an id a TREC run file cannot hold (its columns are separated by whitespace).
fn check_trec_id(path: &Path, line: usize, id: &str) -> anyhow::Result<()> {
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        bail!(
            "{}:{line}: _id {id:?} is empty or holds whitespace, which a TREC run file cannot hold",
            path.display()
        );
    }
    Ok(())
}

fn read_qrels(path: &Path) -> anyhow::Result<Qrels> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut qrels = Qrels::new();
    for (i, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if i == 0 && cols.first().is_some_and(|c| c.starts_with("query")) {
            continue;
        }
        let [q, d, g] = cols.as_slice() else {
            if line.trim().is_empty() {
                continue;
            }
            bail!(
                "{}:{}: expected query-id, corpus-id, score",
                path.display(),
                i + 1
            );
        };
        let grade: i64 = g
            .trim()
            .parse()
            .with_context(|| format!("{}:{}: score is not a number", path.display(), i + 1))?;
        if grade > 0 {
            qrels
                .entry(q.to_string())
                .or_default()
                .insert(d.to_string(), grade as u32);
        }
    }
    Ok(qrels)
}

/// Loads the corpus into a temporary store and index, as research outputs; also returns how
/// many documents were empty (no title, no text) and left out.
///
/// Evaluation documents are taken as the set has them: a title-only document is indexed by its
/// title, and the limits of listings (title length, a required description) do not apply.
fn load(
    corpus: &[Doc],
) -> anyhow::Result<(SledStore, SearchIndex, HashMap<String, String>, usize)> {
    let store = SledStore::temporary()?;
    let index = SearchIndex::in_ram()?;
    // Set ids may not be valid listing ids, so listings get their own and we map back.
    let mut ids = HashMap::new();
    let mut listings = Vec::with_capacity(corpus.len());
    let mut empty = 0;
    // Every document starts from one valid placeholder listing; the set's texts replace its own.
    let placeholder = serde_json::json!({
        "id": "d0", "kind": "research_output", "title": "-", "description": "-",
    });
    let serde_json::Value::Object(map) = placeholder else {
        unreachable!("json! of an object literal is an object")
    };
    let template = parse_listing(&RawRecord::from_json(map))
        .map_err(|_| anyhow::anyhow!("the placeholder listing is refused"))?
        .into_listing(None, chrono::Utc::now());
    // Sets scraped from the web carry stray control characters that imports refuse.
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_string()
    };
    for (n, doc) in corpus.iter().enumerate() {
        let (title, description) = (clean(&doc.title), clean(&doc.text));
        if title.is_empty() && description.is_empty() {
            empty += 1;
            continue;
        }
        let id = format!("d{n}");
        ids.insert(id.clone(), doc.id.clone());
        listings.push(Listing {
            id,
            title,
            description,
            ..template.clone()
        });
    }
    if !listings.is_empty() {
        store.put_all(&listings)?;
    }
    indexer::rebuild(&store, &index, |_| {})?;
    Ok((store, index, ids, empty))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let corpus: Vec<(usize, Doc)> = jsonl(&args.corpus)?;
    let queries: Vec<(usize, QueryLine)> = jsonl(&args.queries)?;
    if args.run.is_some() {
        for (line, d) in &corpus {
            check_trec_id(&args.corpus, *line, &d.id)?;
        }
        for (line, q) in &queries {
            check_trec_id(&args.queries, *line, &q.id)?;
        }
    }
    let corpus: Vec<Doc> = corpus.into_iter().map(|(_, d)| d).collect();
    let queries: Vec<QueryLine> = queries.into_iter().map(|(_, q)| q).collect();
    let qrels = read_qrels(&args.qrels)?;
    let empty = corpus
        .iter()
        .filter(|d| d.title.trim().is_empty() && d.text.trim().is_empty())
        .count();
    let (ranking, load_s, query_s, semantic) = match args.engine {
        Engine::Techmatch => rank(&args, &corpus, &queries)?,
        Engine::Postgres if args.semantic == Switch::On => {
            bail!("--engine postgres ranks lexically only (--semantic off)")
        }
        Engine::Postgres if args.mode == Mode::Search => {
            let (run, load_s, query_s) =
                super::eval_postgres::rank(&corpus, &queries, args.pg_words)?;
            (run, load_s, query_s, None)
        }
        Engine::Postgres => bail!("--engine postgres ranks with --mode search only"),
    };
    let scores = evaluate(&ranking, &qrels, args.gain.into());
    if let Some(path) = &args.run {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        write_trec(&ranking, DEPTH, "techmatch", &mut out)?;
    }
    let mut report = serde_json::json!({
        "corpus": corpus.len(),
        "empty_documents": empty,
        "queries": queries.len(),
        "engine": format!("{:?}", args.engine).to_lowercase(),
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "judged_queries": scores.queries,
        "gain": format!("{:?}", args.gain).to_lowercase(),
        "ndcg@10": round(scores.ndcg_10),
        "recall@100": round(scores.recall_100),
        "mrr@10": round(scores.mrr_10),
        "load_s": round(load_s),
        "query_ms_mean": round(query_s * 1000.0 / queries.len().max(1) as f64),
        "semantic": semantic.as_ref().map(|s| s.model.clone()),
        "embed_s": semantic.as_ref().map(|s| round(s.embed_s)),
    });
    if let Some(recall) = semantic.as_ref().and_then(|s| s.knn_recall) {
        report["knn_recall"] = round(recall).into();
        report["knn_candidates_per_result"] = args.knn_candidates.into();
    }
    if args.engine == Engine::Postgres {
        report["pg_words"] = format!("{:?}", args.pg_words).to_lowercase().into();
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// What [`rank`] gives: the run, seconds loading, seconds querying, and with `--semantic on`
/// the embedding model and seconds spent embedding.
type Ranked = (Run, f64, f64, Option<Semantic>);

/// Ranks every query with our index (fused with semantic neighbours when asked).
fn rank(args: &Args, corpus: &[Doc], queries: &[QueryLine]) -> anyhow::Result<Ranked> {
    let started = std::time::Instant::now();
    let (store, index, ids, _empty) = load(corpus)?;
    let load_s = started.elapsed().as_secs_f64();
    let vectors = match args.semantic {
        Switch::On => Some(embed_all(args, &store, queries)?),
        Switch::Off => None,
    };
    let started = std::time::Instant::now();
    let mut ranking: Run = Vec::with_capacity(queries.len());
    let mut recall = Recall::default();
    for (n, q) in queries.iter().enumerate() {
        let hits = match args.mode {
            Mode::Search => {
                let params = SearchParams {
                    // Search takes at most MAX_QUERY_CHARS; longer questions are cut, not refused.
                    q: Some(q.text.chars().take(MAX_QUERY_CHARS).collect()),
                    limit: Some(DEPTH.to_string()),
                    ..SearchParams::default()
                };
                let mut request = params
                    .to_request(false)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if let Some(v) = &vectors {
                    let filter = search_filter(&request);
                    request.semantic = neighbours(v, n, request.fusion.depth, &filter, &mut recall);
                }
                run_search(&index, &request)?
                    .hits
                    .iter()
                    .filter_map(|h| serde_json::to_value(h).ok())
                    .collect()
            }
            Mode::Match => {
                let need = AdHocNeed {
                    text: q.text.clone(),
                    limit: Some(DEPTH),
                    ..AdHocNeed::default()
                };
                let mut request = need.to_request().map_err(|e| anyhow::anyhow!("{e}"))?;
                if let Some(v) = &vectors {
                    let filter = match_filter(&request);
                    request.semantic = neighbours(v, n, request.fusion.depth, &filter, &mut recall);
                }
                run_match(&index, &request)?.matches
            }
        };
        let ranked = hits
            .iter()
            .filter_map(|h| {
                let id = ids.get(h.get("id")?.as_str()?)?;
                Some((id.clone(), h.get("score")?.as_f64()? as f32))
            })
            .collect();
        ranking.push((q.id.clone(), ranked));
    }
    let query_s = started.elapsed().as_secs_f64();
    let semantic = vectors.map(|v| Semantic {
        model: v.model,
        embed_s: v.embed_s,
        knn_recall: recall.value(),
    });
    Ok((ranking, load_s, query_s, semantic))
}

/// How many of the exact neighbours the approximate search found, over all queries.
#[derive(Default)]
struct Recall {
    found: usize,
    asked: usize,
}

impl Recall {
    fn value(&self) -> Option<f64> {
        (self.asked > 0).then(|| self.found as f64 / self.asked as f64)
    }
}

/// Query `n`'s neighbours; when the approximate search is in use, also compares them with the
/// exact ones (the recall `eval` reports).
fn neighbours(
    v: &Vectors,
    n: usize,
    k: usize,
    filter: &VectorFilter,
    recall: &mut Recall,
) -> Vec<(String, f32)> {
    let found = v.set.nearest(&v.queries[n], k, filter);
    if v.set.approximates() {
        let exact = v.set.nearest_exact(&v.queries[n], k, filter);
        let got: std::collections::HashSet<&String> = found.iter().map(|(id, _)| id).collect();
        recall.found += exact.iter().filter(|(id, _)| got.contains(id)).count();
        recall.asked += exact.len();
    }
    found
}

/// What `eval --semantic on` reports of the semantic side.
struct Semantic {
    model: String,
    embed_s: f64,
    /// Share of exact neighbours the approximate search found (`None` when it was exact).
    knn_recall: Option<f64>,
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
