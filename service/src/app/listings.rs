//! Listings: store (create or replace), read and delete, within the caller's rights. The API
//! and the web forms both store through here.

use chrono::Utc;

use crate::app::{AppError, AppState, Caller};
use crate::domain::{parse_listing, Listing, RawRecord};

/// Stamps a member's organisation as the owner of a listing body that names none; a body
/// naming another owner is left for [`Caller::may_write_listing`] to refuse.
fn stamp_owner(caller: &Caller, body: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(org) = caller
        .user()
        .filter(|u| u.role.is_member())
        .and_then(|u| u.org.clone())
    else {
        return;
    };
    let named = body
        .get("owner")
        .and_then(|o| o.as_str())
        .is_some_and(|o| !o.trim().is_empty());
    if !named {
        body.insert("owner".into(), serde_json::Value::String(org));
    }
}

/// Checks the body and the caller's rights, settles timestamps and stores the listing durably;
/// the web forms store through this too. Returns the listing, its sequence and whether it is new.
pub async fn store(
    state: &AppState,
    caller: &Caller,
    mut body: serde_json::Map<String, serde_json::Value>,
    must_be_new: bool,
) -> Result<(Listing, u64, bool), AppError> {
    caller.may_write_listings()?;
    stamp_owner(caller, &mut body);
    let draft = parse_listing(&RawRecord::from_json(body))
        .map_err(AppError::InvalidListing)?
        .without_timestamps();
    let store = state.store.clone();
    let caller = caller.clone();
    let (listing, seq, created) = tokio::task::spawn_blocking(move || {
        let id = draft.id().to_string();
        let now = Utc::now();
        let mut stored = None;
        let mut refused = None;
        // Decided under the store's writer lock, so two creates of one id cannot both succeed
        // and the owner checked is the owner replaced.
        let updated = store.update(
            &id,
            Box::new(|existing| {
                let listing = draft.into_listing(existing, now);
                if let Err(e) = caller.may_write_listing(existing, Some(&listing)) {
                    refused = Some(e);
                    return None;
                }
                if must_be_new && existing.is_some() {
                    return None;
                }
                stored = Some(listing.clone());
                Some(listing)
            }),
        )?;
        match (stored, updated.seq, refused) {
            (_, _, Some(e)) => Err(e),
            (Some(listing), Some(seq), None) => Ok((listing, seq, updated.previous.is_none())),
            _ => Err(AppError::Exists(id)),
        }
    })
    .await??;
    state.written.notify_one();
    Ok((listing, seq, created))
}

/// The listing as the caller may see it; not found when it may not know it exists.
///
/// # Errors
/// [`AppError::NotFound`] as above; our failure when the store fails.
pub async fn read(state: &AppState, caller: &Caller, id: &str) -> Result<Listing, AppError> {
    let store = state.store.clone();
    let lookup = id.to_string();
    let listing = tokio::task::spawn_blocking(move || store.get(&lookup)).await??;
    // Drafts are their owner's business; to those who may not see them they do not exist.
    listing
        .and_then(|l| caller.listing_view(&l))
        .ok_or_else(|| AppError::NotFound(format!("listing {id:?}")))
}

/// Deletes a listing the caller may write; returns the write's sequence.
///
/// # Errors
/// [`AppError::NotFound`] for no such listing (or one the caller may not see); the rights'
/// refusals; our failure when the store fails.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<u64, AppError> {
    caller.may_write_listings()?;
    let store = state.store.clone();
    let lookup = id.to_string();
    let caller = caller.clone();
    let deleted = tokio::task::spawn_blocking(move || {
        let Some(existing) = store.get(&lookup)? else {
            return Ok(None);
        };
        // Checked before the delete without a lock: only the owner organisation or an
        // administrator can change the owner in between, and either may delete it anyway.
        caller.may_write_listing(Some(&existing), None)?;
        Ok::<_, AppError>(store.delete(&lookup)?)
    })
    .await??;
    let seq = deleted.ok_or_else(|| AppError::NotFound(format!("listing {id:?}")))?;
    state.written.notify_one();
    Ok(seq)
}
