//! `bench --standing N`: percolating new listings against N saved searches.
//!
//! N saved searches are drawn like the search mix (one to three title words; a third filtered
//! by province, a fifth by kind and readiness), indexed by the percolator, and their first
//! hits ranked once (`percolate_warm_s`: what a server does in the background after it
//! starts); then new listings are written to the store and the index one at a time, as the
//! alert follower sees them, and each one's percolation — candidates by its words and
//! filters, its own score under each candidate request, and the real search of those it may
//! enter — is timed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};
use techmatch_index::SearchIndex;

use super::{percentile, round, thread_cpu_s, Corpus};
use techmatch::alerts::first_hits::FirstHitsMemo;
use techmatch::alerts::percolator::Percolator;
use techmatch::domain::alert::StandingSearch;
use techmatch::domain::{parse_listing, RawRecord};
use techmatch::import::store_drafts;
use techmatch::indexer::{self, to_index_doc};
use techmatch::store::Store;

/// New listings percolated.
const NEW_LISTINGS: usize = 200;

/// The figures of percolating [`NEW_LISTINGS`] against `standing` saved searches.
pub fn measure(
    store: &dyn Store,
    index: &SearchIndex,
    corpus: &mut Corpus,
    listings: usize,
    standing: usize,
) -> anyhow::Result<Value> {
    let now = Utc::now();
    let searches: Vec<StandingSearch> = (0..standing)
        .map(|i| corpus.standing_search(i, now))
        .collect();
    let started = Instant::now();
    let percolator = Percolator::new(searches, Arc::new(FirstHitsMemo::default()));
    let build_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    percolator.warm(index, Duration::MAX)?;
    let warm_s = started.elapsed().as_secs_f64();

    let mut times: Vec<Duration> = Vec::with_capacity(NEW_LISTINGS);
    // CPU time too: on a loaded machine it says what percolating costs, elapsed time does not.
    let mut cpu: Vec<Duration> = Vec::with_capacity(NEW_LISTINGS);
    let (mut fits, mut effort) = (0usize, (0usize, 0usize, 0usize, 0usize, 0usize));
    for n in listings..listings + NEW_LISTINGS {
        let Value::Object(map) = corpus.listing(n) else {
            continue;
        };
        let draft = parse_listing(&RawRecord::from_json(map))
            .map_err(|e| anyhow::anyhow!("generated record invalid: {e:?}"))?;
        store_drafts(store, vec![draft])?;
        indexer::catch_up(store, index)?;
        let Some(listing) = store.get(&format!("b{n}"))? else {
            continue;
        };
        let doc = to_index_doc(&listing);
        let started = Instant::now();
        let cpu_started = thread_cpu_s();
        percolator.listing_changed(&doc.id);
        let (found, took) = percolator.fits_counted(index, &doc)?;
        times.push(started.elapsed());
        cpu.push(Duration::from_secs_f64(
            (thread_cpu_s() - cpu_started).max(0.0),
        ));
        fits += found.len();
        effort.0 += took.candidates;
        effort.1 += took.requests;
        effort.2 += took.ranked;
        effort.3 += took.unknown;
        effort.4 += took.checked;
    }
    times.sort();
    cpu.sort();
    let n = times.len().max(1) as f64;
    Ok(json!({
        "standing_searches": standing,
        "percolate_listings": times.len(),
        "percolate_requests": percolator.requests(),
        "percolate_short_requests": percolator.short_requests(),
        "percolate_build_s": round(build_s, 2),
        "percolate_warm_s": round(warm_s, 1),
        "percolate_p50_ms": round(percentile(&times, 0.50), 2),
        "percolate_p99_ms": round(percentile(&times, 0.99), 2),
        "percolate_cpu_p50_ms": round(percentile(&cpu, 0.50), 2),
        "percolate_cpu_p99_ms": round(percentile(&cpu, 0.99), 2),
        "percolate_candidates_mean": round(effort.0 as f64 / n, 1),
        "percolate_candidate_requests_mean": round(effort.1 as f64 / n, 1),
        "percolate_real_searches_mean": round(effort.2 as f64 / n, 1),
        "percolate_unremembered_mean": round(effort.3 as f64 / n, 1),
        "percolate_checked_mean": round(effort.4 as f64 / n, 1),
        "percolate_alerts_mean": round(fits as f64 / n, 2),
    }))
}
