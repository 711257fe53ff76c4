//! The reverse search: saved searches indexed by their words, so that a changed listing is
//! checked against the few searches it could fit rather than against all of them.
//!
//! Each search is filed under one of its words — the one fewest searches share. A listing's
//! candidates are the searches filed under any of its words (and those without words); a
//! candidate fits when the listing has every word of its query and passes its filters, and
//! then only if the real search, with the real ranking, puts the listing in its
//! [`FIRST_RESULTS`]. That is decided from the search's remembered first hits
//! ([`FirstHitsMemo`]) when the listing's own score is below their bar, and by ranking the
//! search otherwise. Searches asking the same (text, filters) are one request, prepared and
//! answered once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use techmatch_index::analysis::{is_english_stopword, tokens, Chain};
use techmatch_index::{IndexDoc, IndexError, SearchIndex, SearchRequest};

use super::first_hits::{FirstHitsMemo, Verdict};
use crate::domain::alert::{StandingSearch, FIRST_RESULTS};
use crate::search::SearchParams;

/// One saved search, ready to be checked.
struct Entry {
    search: StandingSearch,
    /// The query's folded words: a listing must have them all.
    words: Vec<String>,
    /// Its request, in [`Percolator::requests`].
    request: u32,
}

/// A request some saved searches share: the real search, first page only, no facets.
struct Request {
    /// Names it in the memo of first hits.
    key: Arc<str>,
    request: SearchRequest,
}

/// Saved searches indexed by word.
pub struct Percolator {
    entries: Vec<Entry>,
    requests: Vec<Request>,
    by_word: HashMap<String, Vec<u32>>,
    /// Searches without words (filters only): candidates for every listing.
    no_words: Vec<u32>,
    /// First hits remembered, shared with the percolators built before and after this one.
    memo: Arc<FirstHitsMemo>,
}

/// What percolating one listing took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Effort {
    /// Saved searches whose words and filters it has.
    pub candidates: usize,
    /// Distinct requests among them.
    pub requests: usize,
    /// Requests ranked (their remembered first hits could not answer).
    pub ranked: usize,
    /// Of those, requests with no recent first hits remembered.
    pub unknown: usize,
    /// Requests near their bar whose remembered first hits were scored exactly.
    pub checked: usize,
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

/// The folded words of all of `doc`'s text.
fn doc_words(doc: &IndexDoc) -> HashSet<String> {
    let mut text = String::new();
    for (_, t) in &doc.text {
        text.push_str(t);
        text.push('\n');
    }
    tokens(Chain::Folded, &text).into_iter().collect()
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
    /// Indexes `searches` (saved ones; a search whose parameters no longer check is skipped),
    /// remembering first hits in `memo`.
    pub fn new(searches: Vec<StandingSearch>, memo: Arc<FirstHitsMemo>) -> Percolator {
        let mut entries = Vec::with_capacity(searches.len());
        let mut requests: Vec<Request> = Vec::new();
        let mut request_of_key: HashMap<Arc<str>, u32> = HashMap::new();
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
            let key: Arc<str> = format!(
                "{:?}|{:?}|{:?}",
                request.text, request.filters, request.trl_min
            )
            .into();
            let at = *request_of_key.entry(key.clone()).or_insert_with(|| {
                requests.push(Request { key, request });
                u32::try_from(requests.len() - 1).unwrap_or(u32::MAX)
            });
            entries.push(Entry {
                search,
                words,
                request: at,
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
            requests,
            by_word,
            no_words,
            memo,
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
        let have = doc_words(doc);
        let mut out: Vec<u32> = have
            .iter()
            .filter_map(|w| self.by_word.get(w))
            .flatten()
            .chain(&self.no_words)
            .copied()
            .filter(|&i| {
                let entry = &self.entries[i as usize];
                entry.words.iter().all(|w| have.contains(w))
                    && passes(&self.requests[entry.request as usize].request, doc)
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Requests remembered with fewer first hits than a page shows.
    pub fn short_requests(&self) -> usize {
        self.memo.short()
    }

    /// Distinct requests among the searches.
    pub fn requests(&self) -> usize {
        self.requests.len()
    }

    /// Listing `id` changed (or left the index): the first hits it was among are forgotten.
    pub fn listing_changed(&self, id: &str) {
        self.memo.listing_changed(id);
    }

    /// Ranks the requests whose first hits are not remembered, until `budget` is spent;
    /// returns whether every one is now remembered. Percolation needs no warming, but a warm
    /// memo answers it without ranking.
    ///
    /// # Errors
    /// When a search fails on the index.
    pub fn warm(
        &self,
        index: &SearchIndex,
        budget: std::time::Duration,
    ) -> Result<bool, IndexError> {
        let started = std::time::Instant::now();
        let docs = index.num_docs();
        for r in &self.requests {
            if self.memo.knows(&r.key, docs) {
                continue;
            }
            if started.elapsed() >= budget {
                return Ok(false);
            }
            self.memo.rank(index, &r.key, &r.request)?;
        }
        Ok(true)
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
        self.fits_counted(index, doc).map(|(fits, _)| fits)
    }

    /// [`Percolator::fits`], with what it took.
    ///
    /// # Errors
    /// When a search fails on the index.
    pub fn fits_counted(
        &self,
        index: &SearchIndex,
        doc: &IndexDoc,
    ) -> Result<(Vec<&StandingSearch>, Effort), IndexError> {
        let candidates = self.candidates(doc);
        let mut effort = Effort {
            candidates: candidates.len(),
            ..Effort::default()
        };
        if candidates.is_empty() {
            return Ok((Vec::new(), effort));
        }
        let Some(located) = index.locate(&doc.id)? else {
            return Ok((Vec::new(), effort));
        };
        let stats = self.memo.stats(index);
        let docs = index.num_docs();
        let mut answers: HashMap<u32, bool> = HashMap::new();
        let mut out = Vec::new();
        for i in candidates {
            let entry = &self.entries[i as usize];
            let fits = match answers.get(&entry.request) {
                Some(&f) => f,
                None => {
                    let r = &self.requests[entry.request as usize];
                    effort.requests += 1;
                    let prepared = index.prepare(&r.request, &stats)?;
                    let f = match index.own_score(&prepared, &located)? {
                        None => false,
                        Some(own) => match self.memo.verdict(&r.key, own, docs) {
                            Verdict::Outside => false,
                            // Near the bar: the remembered first hits, scored exactly, may
                            // still all beat it.
                            Verdict::Near
                                if self.memo.beaten(index, &r.key, &r.request, &doc.id)? =>
                            {
                                effort.checked += 1;
                                false
                            }
                            verdict => {
                                effort.checked += usize::from(verdict == Verdict::Near);
                                effort.ranked += 1;
                                effort.unknown += usize::from(verdict == Verdict::Unknown);
                                self.memo.rank(index, &r.key, &r.request)?.holds(&doc.id)
                            }
                        },
                    };
                    answers.insert(entry.request, f);
                    f
                }
            };
            if fits {
                out.push(&entry.search);
            }
        }
        Ok((out, effort))
    }
}

#[cfg(test)]
mod tests {
    //! Percolating with remembered first hits must answer exactly as the real search does, while
    //! listings come, change (leaving the first hits they were among, which lowers their bar)
    //! and go.
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use chrono::Utc;
    use serde_json::Value;

    use super::*;
    use crate::data_dir::DataDir;
    use crate::demo::Corpus;
    use crate::domain::{parse_listing, RawRecord};
    use crate::import::store_drafts;
    use crate::indexer::{catch_up, to_index_doc};
    use crate::store::Store;

    fn put(store: &dyn Store, record: Value) {
        let Value::Object(map) = record else {
            panic!("a record is an object");
        };
        let draft = parse_listing(&RawRecord::from_json(map)).unwrap();
        store_drafts(store, vec![draft]).unwrap();
    }

    /// Whether `doc` has every word of `request` and passes its filters.
    fn has_words(doc: &IndexDoc, request: &SearchRequest) -> bool {
        let have = doc_words(doc);
        words(&request.text).iter().all(|w| have.contains(w)) && passes(request, doc)
    }

    /// The saved searches the real search puts `doc` in the first results of, asked of each.
    fn by_real_search(
        index: &SearchIndex,
        searches: &[StandingSearch],
        doc: &IndexDoc,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for search in searches {
            let request = request_of(search).unwrap();
            if !has_words(doc, &request) {
                continue;
            }
            let first = index.search(&request).unwrap().hits;
            if first.iter().any(|h| h.id == doc.id) {
                out.insert(search.id.clone());
            }
        }
        out
    }

    /// Listings in the world.
    const LISTINGS: usize = 400;

    struct World {
        _dir: tempfile::TempDir,
        store: crate::store::sled::SledStore,
        index: SearchIndex,
        corpus: Corpus,
        searches: Vec<StandingSearch>,
        percolator: Percolator,
    }

    /// 400 listings, 80 saved searches drawn like the bench's, their first hits remembered.
    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let store = data.open_store().unwrap();
        let index = data.open_index().unwrap();
        let mut corpus = Corpus::new(11);
        for n in 0..LISTINGS {
            put(&store, corpus.listing(n));
        }
        catch_up(&store, &index).unwrap();
        let now = Utc::now();
        let searches: Vec<StandingSearch> =
            (0..80).map(|i| corpus.standing_search(i, now)).collect();
        let percolator = Percolator::new(searches.clone(), Arc::default());
        assert!(percolator.warm(&index, std::time::Duration::MAX).unwrap());

        World {
            _dir: dir,
            store,
            index,
            corpus,
            searches,
            percolator,
        }
    }

    #[test]
    fn remembered_first_hits_answer_as_the_real_search_while_listings_change() {
        let World {
            _dir,
            store,
            index,
            mut corpus,
            searches,
            percolator,
        } = world();
        let (mut fits, mut answered_by_memory, mut changed_first_hits) = (0, 0, 0);
        let mut next = LISTINGS;
        for round in 0..90 {
            // New listings, listings written again with other words, and deletions.
            let id = match round % 3 {
                0 => {
                    next += 1;
                    put(&store, corpus.listing(next));
                    format!("b{next}")
                }
                1 => {
                    let n = corpus.below(next);
                    put(&store, corpus.listing(n));
                    format!("b{n}")
                }
                _ => {
                    let id = format!("b{}", corpus.below(next));
                    store.delete(&id).unwrap();
                    id
                }
            };
            catch_up(&store, &index).unwrap();
            if percolator.memo.holds(&id) {
                changed_first_hits += 1;
            }
            percolator.listing_changed(&id);
            let Some(listing) = store.get(&id).unwrap() else {
                continue;
            };
            let doc = to_index_doc(&listing);
            let (found, effort) = percolator.fits_counted(&index, &doc).unwrap();
            let found: BTreeSet<String> = found.iter().map(|s| s.id.clone()).collect();
            assert_eq!(
                found,
                by_real_search(&index, &searches, &doc),
                "round {round}: {id}"
            );
            fits += found.len();
            answered_by_memory += effort.requests - effort.ranked;
        }
        // The test means something only if listings entered, the memory answered, and first
        // hits were changed under it.
        assert!(fits > 0, "no listing entered a search's first results");
        assert!(answered_by_memory > 0, "every request was ranked");
        assert!(
            changed_first_hits > 0,
            "no change touched remembered first hits"
        );
    }

    /// The case the remembered hits must not miss: a search's first hits leave, so a listing
    /// well under the old bar is now among the first — and is written again.
    #[test]
    fn a_listing_under_the_old_bar_enters_once_the_first_hits_leave() {
        let World {
            _dir,
            store,
            index,
            searches,
            percolator,
            ..
        } = world();
        // A search with a hit after the first ten that has all its words and scores well under
        // the tenth (the remembered bar).
        let (search, later, first) = searches
            .iter()
            .find_map(|search| {
                let mut request = request_of(search).unwrap();
                request.limit = 20;
                let hits = index.search(&request).unwrap().hits;
                let bar = hits.get(FIRST_RESULTS - 1)?.score;
                let later = hits[FIRST_RESULTS..].iter().find(|h| {
                    let doc = to_index_doc(&store.get(&h.id).unwrap().unwrap());
                    h.score < bar * super::super::first_hits::BAR_MARGIN * 0.99
                        && has_words(&doc, &request)
                })?;
                let first: Vec<String> =
                    hits[..FIRST_RESULTS].iter().map(|h| h.id.clone()).collect();
                Some((search.clone(), later.id.clone(), first))
            })
            .expect("a search with a later hit well under its tenth");
        for id in &first {
            store.delete(id).unwrap();
            catch_up(&store, &index).unwrap();
            percolator.listing_changed(id);
        }
        // Written again unchanged: its words and score are what they were.
        let listing = store.get(&later).unwrap().unwrap();
        let doc = to_index_doc(&listing);
        percolator.listing_changed(&later);
        let fits: Vec<String> = percolator
            .fits(&index, &doc)
            .unwrap()
            .iter()
            .map(|s| s.id.clone())
            .collect();
        assert!(
            fits.contains(&search.id),
            "{later} is now among {}'s first results: {fits:?}",
            search.id
        );
        assert!(by_real_search(&index, &searches, &doc).contains(&search.id));
    }
}
