//! The reverse search: saved searches indexed by their words, so that a changed listing is
//! checked against the few searches it could fit rather than against all of them.
//!
//! Each search is filed under one of its words — the one fewest searches share. A listing's
//! candidates are the searches filed under any of its words (and those without words); a
//! candidate fits when the listing has every word of its query and passes its filters, and
//! then only if the real search, with the real ranking, puts the listing in its
//! [`FIRST_RESULTS`] (`SearchIndex::in_first`: only documents scoring at least the listing's
//! own score are ranked, nothing is counted). Requests shared by several searches run once.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use techmatch_index::analysis::{is_english_stopword, tokens, Chain};
use techmatch_index::{IndexDoc, IndexError, SearchIndex, SearchRequest};

use crate::domain::alert::{StandingSearch, FIRST_RESULTS};
use crate::search::SearchParams;

/// How long a request's bar (its last first hit's score) is trusted: a listing scoring below
/// it is outside without ranking. It only rises while listings are added; it can fall when
/// one of its first hits is deleted or changed, so it is ranked again after this long.
const BAR_TTL: Duration = Duration::from_secs(60);
/// A listing is compared with this share of the bar, leaving room for the small drift of
/// scores as the index's statistics change.
const BAR_MARGIN: f32 = 0.98;

/// One saved search, ready to be checked.
struct Entry {
    search: StandingSearch,
    /// The query's folded words: a listing must have them all.
    words: Vec<String>,
    /// The real search, first page only, no facets.
    request: SearchRequest,
}

/// Saved searches indexed by word.
#[derive(Default)]
pub struct Percolator {
    entries: Vec<Entry>,
    by_word: HashMap<String, Vec<u32>>,
    /// Searches without words (filters only): candidates for every listing.
    no_words: Vec<u32>,
    /// Per request: its last first hit's score, and when it was ranked ([`BAR_TTL`]).
    bars: Mutex<HashMap<String, (f32, Instant)>>,
}

/// The folded words of `text` a listing must contain (English function words dropped: the
/// query drops them too when it reads as English, and they say nothing of a fit).
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = tokens(Chain::Folded, text)
        .into_iter()
        .filter(|w| !is_english_stopword(w))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The request a saved search runs: its parameters, checked as the search route checks them.
pub fn request_of(search: &StandingSearch) -> Result<SearchRequest, crate::domain::FieldError> {
    let q = &search.query;
    let params = SearchParams {
        q: q.q.clone(),
        kind: q.kind.clone(),
        province: q.province.clone(),
        field: q.field.clone(),
        trl_min: q.trl_min.clone(),
        transfer_mode: q.transfer_mode.clone(),
        limit: Some(FIRST_RESULTS.to_string()),
        ..SearchParams::default()
    };
    let mut request = params.to_request(false)?;
    request.facets.clear();
    Ok(request)
}

/// Whether `doc` passes the request's filters (every entry: one of its values).
fn passes(request: &SearchRequest, doc: &IndexDoc) -> bool {
    let facets_pass = request.filters.iter().all(|(facet, values)| {
        doc.facets
            .iter()
            .any(|(f, v)| f == facet && values.iter().any(|w| w == v))
    });
    facets_pass
        && request
            .trl_min
            .is_none_or(|min| doc.trl.is_some_and(|t| t >= min))
}

impl Percolator {
    /// Indexes `searches` (saved ones; a search whose parameters no longer check is skipped).
    pub fn new(searches: Vec<StandingSearch>) -> Percolator {
        let mut entries = Vec::with_capacity(searches.len());
        let mut shared: HashMap<String, u32> = HashMap::new();
        for search in searches {
            let Ok(request) = request_of(&search) else {
                tracing::warn!(search = %search.id, "saved search no longer checks; skipped");
                continue;
            };
            let words = words(&request.text);
            for w in &words {
                *shared.entry(w.clone()).or_default() += 1;
            }
            entries.push(Entry {
                search,
                words,
                request,
            });
        }
        let mut by_word: HashMap<String, Vec<u32>> = HashMap::new();
        let mut no_words = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            match entry.words.iter().min_by_key(|w| (shared.get(*w), *w)) {
                Some(key) => by_word.entry(key.clone()).or_default().push(i),
                None => no_words.push(i),
            }
        }
        Percolator {
            entries,
            by_word,
            no_words,
            bars: Mutex::default(),
        }
    }

    /// Searches indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no search is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The searches `doc` has every word of and passes the filters of (no ranking yet).
    fn candidates(&self, doc: &IndexDoc) -> Vec<u32> {
        let mut text = String::new();
        for (_, t) in &doc.text {
            text.push_str(t);
            text.push('\n');
        }
        let have: HashSet<String> = tokens(Chain::Folded, &text).into_iter().collect();
        let mut out: Vec<u32> = have
            .iter()
            .filter_map(|w| self.by_word.get(w))
            .flatten()
            .chain(&self.no_words)
            .copied()
            .filter(|&i| {
                let entry = &self.entries[i as usize];
                entry.words.iter().all(|w| have.contains(w)) && passes(&entry.request, doc)
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The saved searches whose first results `doc`'s listing is in now, by the real search
    /// on `index` (which must have applied the listing).
    ///
    /// # Errors
    /// When a search fails on the index.
    pub fn fits(
        &self,
        index: &SearchIndex,
        doc: &IndexDoc,
    ) -> Result<Vec<&StandingSearch>, IndexError> {
        self.fits_counted(index, doc).map(|(fits, _, _)| fits)
    }

    /// [`Percolator::fits`], with the number of candidates and of real searches run.
    ///
    /// # Errors
    /// When a search fails on the index.
    pub fn fits_counted(
        &self,
        index: &SearchIndex,
        doc: &IndexDoc,
    ) -> Result<(Vec<&StandingSearch>, usize, usize), IndexError> {
        let mut answers: HashMap<String, bool> = HashMap::new();
        let mut ranked = 0;
        let mut out = Vec::new();
        let candidates = self.candidates(doc);
        let count = candidates.len();
        for i in candidates {
            let entry = &self.entries[i as usize];
            let key = format!(
                "{:?}|{:?}|{:?}",
                entry.request.text, entry.request.filters, entry.request.trl_min
            );
            let fits = match answers.get(&key) {
                Some(&f) => f,
                None => {
                    let f =
                        self.in_first(index, &entry.request, key.clone(), &doc.id, &mut ranked)?;
                    answers.insert(key, f);
                    f
                }
            };
            if fits {
                out.push(&entry.search);
            }
        }
        Ok((out, count, ranked))
    }

    /// Whether listing `id` is in the request's first results: outside at once when it scores
    /// below the request's recent bar, else ranked (counted in `ranked`) and the bar kept.
    fn in_first(
        &self,
        index: &SearchIndex,
        request: &SearchRequest,
        key: String,
        id: &str,
        ranked: &mut usize,
    ) -> Result<bool, IndexError> {
        let bar = {
            let bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
            bars.get(&key)
                .filter(|(_, at)| at.elapsed() < BAR_TTL)
                .map(|(bar, _)| bar * BAR_MARGIN)
        };
        let rank = index.rank_in_first(request, id, FIRST_RESULTS, bar)?;
        let was_ranked =
            rank.own.is_some() && !(bar.is_some() && !rank.inside && rank.bar.is_none());
        if was_ranked {
            *ranked += 1;
            let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
            match rank.bar {
                Some(b) => {
                    bars.insert(key, (b, Instant::now()));
                }
                // It entered: the bar has moved.
                None => {
                    bars.remove(&key);
                }
            }
        }
        Ok(rank.inside)
    }
}
