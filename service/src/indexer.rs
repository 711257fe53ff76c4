//! Keeps the search index in step with the store by following the store's change log.
//!
//! The index is derived data: it records the last change it applied, catches up from there, and
//! can be thrown away and rebuilt from the store at any time.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use techmatch_index::{
    Facet, IndexChange, IndexDoc, IndexError, MatchProfile, SearchIndex, TextGroup,
};
use tokio::sync::{watch, Notify};

use crate::domain::field::field_by_code;
use crate::domain::listing::LegalStatus;
use crate::domain::{Kind, Listing, Provinces, Status, TransferMode};
use crate::embed::store::VectorStore;
use crate::embed::Semantic;
use crate::store::{Change, ChangeOp, Store, StoreError};

/// Changes read from the log (or listings from the store) at a time.
const BATCH: usize = 5_000;

/// Changes a long catch-up applies between two index commits.
const COMMIT_EVERY: usize = 100_000;

/// Why the index could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// What a search hit shows of a listing: public fields only, never contact details.
#[derive(Debug, Serialize)]
struct HitView<'a> {
    id: &'a str,
    kind: Kind,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    province: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    province_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trl_min: Option<u8>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    transfer_modes: &'a [TransferMode],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    keywords: &'a [String],
    status: Status,
    updated_at: String,
    /// When its owner last confirmed it is current.
    confirmed_at: String,
    /// A confidential need: the hit shows its summary only (`domain::confidential`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    confidential: bool,
}

/// The enum's snake_case name, as in JSON.
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Turns a listing into what the index needs: text by weight group, facets and the hit view.
pub fn to_index_doc(listing: &Listing) -> IndexDoc {
    let provinces = Provinces::get();
    let province = listing.province.as_ref().and_then(|c| provinces.by_code(c));
    // A hit is shown to everyone alike: a confidential need's shows its summary only. Its full
    // text is indexed for matching, but not its organisation's name.
    let shown = listing.redacted();
    let view = HitView {
        id: &shown.id,
        kind: shown.kind,
        title: &shown.title,
        field: shown.field.as_ref().map(|f| f.as_str()),
        province: shown.province.as_ref().map(|p| p.as_str()),
        province_name: province.map(|p| p.short_name.as_str()),
        owner: shown.owner.as_deref(),
        trl: shown.trl.map(|t| t.get()),
        trl_min: shown.trl_min.map(|t| t.get()),
        transfer_modes: &shown.transfer_modes,
        keywords: &shown.keywords,
        status: shown.status,
        updated_at: shown.updated_at.to_rfc3339(),
        confirmed_at: shown.confirmed().to_rfc3339(),
        confidential: shown.confidential,
    };
    let mut text = vec![
        (TextGroup::Title, listing.title.clone()),
        (TextGroup::Body, listing.description.clone()),
    ];
    if let Some(summary) = listing
        .summary
        .as_ref()
        .filter(|_| listing.is_confidential())
    {
        text.push((TextGroup::Title, summary.clone()));
    }
    for k in &listing.keywords {
        text.push((TextGroup::Keywords, k.clone()));
    }
    let owner = listing.owner.clone().filter(|_| !listing.is_confidential());
    let extra = [
        &owner,
        &listing.holder,
        &listing.industry,
        &listing.desired_outcome,
        &listing.patent_number,
    ];
    for t in extra.into_iter().flatten() {
        text.push((TextGroup::Extra, t.clone()));
    }
    if let Some(field) = listing.field.as_ref().and_then(field_by_code) {
        text.push((
            TextGroup::Extra,
            format!("{} {}", field.label_vi, field.label_en),
        ));
    }
    for ipc in &listing.ipc {
        text.push((TextGroup::Extra, ipc.clone()));
    }
    let mut facets = vec![
        (Facet::Kind, enum_name(&listing.kind)),
        // A stale listing is out of search and matching, which ask for published ones.
        (Facet::Status, status_facet(listing)),
    ];
    if let Some(p) = &listing.province {
        facets.push((Facet::Province, p.to_string()));
    }
    if let Some(f) = &listing.field {
        facets.push((Facet::Field, f.as_str().to_string()));
        facets.push((Facet::FieldMajor, f.major().to_string()));
    }
    if let Some(t) = listing.trl {
        facets.push((Facet::Trl, t.get().to_string()));
    }
    for m in &listing.transfer_modes {
        facets.push((Facet::Mode, enum_name(m)));
    }
    IndexDoc {
        id: listing.id.clone(),
        text,
        facets,
        trl: listing.trl.map(|t| u64::from(t.get())),
        stored: serde_json::to_string(&view).unwrap_or_default(),
        profile: match_profile(listing),
    }
}

/// The status a listing is filtered by: its own, or `stale` for a published listing its owner
/// has not confirmed in time (`app::freshness`).
pub fn status_facet(listing: &Listing) -> String {
    if listing.stale && listing.status == Status::Published {
        "stale".to_string()
    } else {
        enum_name(&listing.status)
    }
}

/// The structured facts matching compares.
pub fn match_profile(listing: &Listing) -> MatchProfile {
    let province = listing
        .province
        .as_ref()
        .and_then(|c| Provinces::get().by_code(c));
    MatchProfile {
        field: listing.field.as_ref().map(|f| f.as_str().to_string()),
        ipc: listing.ipc.clone(),
        trl: listing.trl.map(|t| t.get()),
        trl_min: listing.trl_min.map(|t| t.get()),
        modes: listing.transfer_modes.iter().map(enum_name).collect(),
        price: listing.price_vnd,
        budget_max: listing.budget_max_vnd,
        region: listing.province.as_ref().map(|p| p.to_string()),
        lat: province.map(|p| p.lat),
        lon: province.map(|p| p.lon),
        valid_until: listing.expiry_date.map(|d| d.to_string()),
        lapsed: listing.legal_status == Some(LegalStatus::Expired),
    }
}

/// What identifies a change in the log, recorded by the index with the sequence it applied.
fn mark_of(change: &Change) -> String {
    let op = match change.op {
        ChangeOp::Put => "put",
        ChangeOp::Delete => "delete",
    };
    format!("{op} {}", change.id)
}

/// Applies every change the index has not seen yet; returns the sequence now applied.
pub fn catch_up(store: &dyn Store, index: &SearchIndex) -> Result<u64, IndexerError> {
    let mut applied = index.applied_seq();
    let last = store.last_seq()?;
    if applied > last {
        // The index is ahead of the store (restored backup, swapped data dir): start over.
        return rebuild(store, index, |_| {});
    }
    if applied == 0 && last > 0 && index.num_docs() == 0 {
        // A new or deleted index: scanning the listings beats replaying every change.
        return rebuild(store, index, |_| {});
    }
    if applied < store.log_floor()? {
        // The changes after `applied` were pruned (this index was left behind, e.g. restored
        // from an old copy): only a scan knows what they did.
        tracing::warn!(
            applied,
            "the change log was pruned past the index; rebuilding it"
        );
        return rebuild(store, index, |_| {});
    }
    if let Some(mark) = index.applied_mark() {
        let at_applied = store.changes_since(applied.saturating_sub(1), 1)?;
        // (A log pruned below `applied` cannot be checked; it says nothing against the index.)
        let there = at_applied.first().filter(|c| c.seq == applied);
        if there.is_some_and(|change| mark_of(change) != mark) {
            // The log no longer says what the index applied at its sequence: the store lost
            // its last changes (failed over to a replica that lacked them, restored from a
            // backup) and has handed those numbers out again. Replaying from here would skip
            // them; only a rebuild is right.
            tracing::warn!(
                applied,
                "the change log differs from what the index applied; rebuilding the index"
            );
            return rebuild(store, index, |_| {});
        }
    }
    let mut uncommitted = 0;
    let mut last_mark: Option<String> = None;
    loop {
        let changes = store.changes_since(applied, BATCH)?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            if uncommitted > 0 {
                index.commit_marked(applied, last_mark.as_deref())?;
            }
            return Ok(applied);
        };
        last_mark = changes.last().map(mark_of);
        // The log says which listings changed; their current state is what to index, read in
        // one call (one round trip to a shared store).
        let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
        let current = store.get_many(&ids)?;
        let mut batch = Vec::with_capacity(changes.len());
        for (change, listing) in changes.iter().zip(current) {
            batch.push(match listing {
                Some(listing) => IndexChange::Upsert(Box::new(to_index_doc(&listing))),
                None => IndexChange::Delete(change.id.clone()),
            });
        }
        uncommitted += batch.len();
        index.write(batch)?;
        applied = last;
        // A long catch-up commits now and then, so that a crash does not redo all of it.
        if uncommitted >= COMMIT_EVERY {
            index.commit_marked(applied, last_mark.as_deref())?;
            uncommitted = 0;
        }
    }
}

/// Throws the index away and builds it again from every listing in the store.
///
/// `progress` is called with the number of listings indexed so far.
pub fn rebuild(
    store: &dyn Store,
    index: &SearchIndex,
    mut progress: impl FnMut(usize),
) -> Result<u64, IndexerError> {
    let seq = store.last_seq()?;
    // The cleared index records sequence 0 and the listings are committed once at the end, so
    // a crash mid-rebuild restarts it from scratch.
    index.clear(0)?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut done = 0;
    for listing in store.scan() {
        batch.push(IndexChange::Upsert(Box::new(to_index_doc(&listing?))));
        if batch.len() == BATCH {
            done += batch.len();
            index.write(std::mem::take(&mut batch))?;
            progress(done);
        }
    }
    done += batch.len();
    index.apply(batch, seq)?;
    progress(done);
    // Changes written while we scanned are applied now (each is an idempotent upsert).
    catch_up(store, index)
}

/// What else follows the change log, so that it is not pruned below them.
pub(crate) struct Followers {
    pub(crate) vectors: Arc<OnceLock<(Arc<VectorStore>, Arc<Semantic>)>>,
    pub(crate) duplicates: Arc<crate::duplicates::Duplicates>,
    pub(crate) retention: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) alerts: Arc<dyn crate::store::AlertStore>,
}

/// Applies new store changes to the index whenever a write signals, and every second in case
/// a signal was missed or a change came from elsewhere; then prunes the change log below what
/// every follower has applied.
pub(crate) async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    written: Arc<Notify>,
    applied: watch::Sender<u64>,
    followers: Followers,
) {
    let Followers {
        vectors,
        duplicates,
        retention,
        alerts,
    } = followers;
    let mut pruned = 0;
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(1), written.notified()).await;
        let (store, index) = (store.clone(), index.clone());
        let vectors = vectors.clone();
        let retention = retention.clone();
        let duplicates = duplicates.clone();
        let alerts = alerts.clone();
        let caught_up = tokio::task::spawn_blocking(move || {
            let seq = catch_up(store.as_ref(), &index)?;
            let floor = match vectors.get() {
                Some((v, s)) => v.applied(s.embedder.model()).map_or(0, |a| a.min(seq)),
                None => seq,
            };
            let floor = floor.min(duplicates.applied());
            // Nor below what alerts have been computed for (they follow the index).
            let floor = match alerts.alert_position() {
                Ok(at) => floor.min(at.unwrap_or(0)),
                Err(_) => pruned,
            };
            // Readers of the change feed follow the log too, at their own pace.
            let floor = floor.saturating_sub(retention.load(std::sync::atomic::Ordering::Relaxed));
            if floor > pruned {
                match store.prune_log(floor) {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, below = floor, "change log pruned"),
                    Err(e) => tracing::warn!(error = %e, "pruning the change log failed"),
                }
            }
            Ok::<_, IndexerError>((seq, floor.max(pruned)))
        })
        .await;
        match caught_up {
            Ok(Ok((seq, floor))) => {
                pruned = floor;
                applied.send_if_modified(|a| std::mem::replace(a, seq) != seq);
            }
            Ok(Err(e)) => tracing::error!(error = %e, "index update failed; will retry"),
            Err(e) => tracing::error!(error = %e, "index task panicked; will retry"),
        }
        if applied.is_closed() {
            return;
        }
    }
}
