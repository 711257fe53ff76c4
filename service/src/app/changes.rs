//! The public change feed of listings (`GET /changes`, `GET /changes/snapshot`): each change
//! with the listing as an anonymous reader sees it now, or as a delete.

use serde_json::{json, Value};

use crate::app::{AppError, Caller};
use crate::domain::{FieldError, Listing};
use crate::store::{ChangeOp, Store};

/// What the public may see of a listing: the one rule of the API, as an anonymous caller.
fn public_view(listing: &Listing) -> Option<Listing> {
    Caller::Anonymous.listing_view(listing)
}

/// The changes after `after`, at most `limit`, as the feed answers them.
///
/// # Errors
/// [`AppError::Invalid`] on `after` past the last change; [`AppError::Pruned`] below the log's
/// floor; our failure when the store fails.
pub fn changes_page(store: &dyn Store, after: u64, limit: usize) -> Result<Value, AppError> {
    let last = store.last_seq()?;
    if after > last {
        return Err(AppError::Invalid(FieldError {
            field: "after".into(),
            reason: format!("is beyond the last change ({last})"),
        }));
    }
    let floor = store.log_floor()?;
    if after < floor {
        return Err(AppError::Pruned(floor));
    }
    let changes = store.changes_since(after, limit)?;
    // Sequences are gapless: a first change past `after + 1` means the log was pruned between
    // reading the floor and reading the changes.
    if changes.first().is_some_and(|c| c.seq != after + 1) {
        return Err(AppError::Pruned(store.log_floor()?));
    }
    let next = changes.last().map_or(after, |c| c.seq);
    // Only each listing's last change in the page: the earlier ones would carry the same
    // (current) state.
    let mut last_of = std::collections::HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        last_of.insert(c.id.as_str(), i);
    }
    let kept: Vec<_> = changes
        .iter()
        .enumerate()
        .filter(|(i, c)| last_of.get(c.id.as_str()) == Some(i))
        .map(|(_, c)| c)
        .collect();
    let ids: Vec<&str> = kept
        .iter()
        .filter(|c| c.op == ChangeOp::Put)
        .map(|c| c.id.as_str())
        .collect();
    let mut current = store.get_many(&ids)?.into_iter();
    let entries: Vec<Value> = kept
        .iter()
        .map(|c| {
            let listing = match c.op {
                ChangeOp::Put => current.next().flatten(),
                ChangeOp::Delete => None,
            };
            match listing.as_ref().and_then(public_view) {
                Some(view) => json!({"seq": c.seq, "id": c.id, "op": "put", "listing": view}),
                None => json!({"seq": c.seq, "id": c.id, "op": "delete"}),
            }
        })
        .collect();
    Ok(json!({"changes": entries, "next": next, "last": last}))
}

/// A page of the snapshot: the public listings after `after_id` in id order, at most `limit`
/// scanned, with the log's sequence read before them.
///
/// # Errors
/// Our failure when the store fails.
pub fn snapshot_page(
    store: &dyn Store,
    after_id: Option<&str>,
    limit: usize,
) -> Result<Value, AppError> {
    // Read before the listings: every change after it is in the feed, so a follower that
    // applies them after the snapshot's pages converges whatever changed meanwhile.
    let seq = store.last_seq()?;
    let mut listings = Vec::new();
    let (mut last_id, mut scanned) = (None, 0);
    for listing in store.scan_after(after_id).take(limit) {
        let listing = listing?;
        scanned += 1;
        last_id = Some(listing.id.clone());
        listings.extend(public_view(&listing));
    }
    // A full page (drafts counted) may have more after it; a short one is the end.
    let next_id = last_id.filter(|_| scanned == limit);
    Ok(json!({"listings": listings, "seq": seq, "next_id": next_id}))
}
