//! Near-duplicates: the listings that look like the same technology listed again
//! (`crate::duplicates`), among those the caller may see.

use serde::Serialize;

use crate::app::{AppError, AppState, Caller};

/// One listing that looks like another listed again.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    /// The other listing's id.
    pub id: String,
    /// The estimated share of word shingles the two have in common, two decimals.
    pub similarity: f64,
    /// The other listing's title.
    pub title: String,
}

/// The near-duplicates of listing `id` the caller may see, most similar first:
/// as [`Duplicate`]s; 404 when the caller may not see the listing itself.
pub async fn visible_duplicates(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Vec<Duplicate>, AppError> {
    let (store, duplicates, caller, id) = (
        state.store.clone(),
        state.duplicates.clone(),
        caller.clone(),
        id.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let asked = caller
            .visible(store.get(&id)?)
            .ok_or_else(|| AppError::NotFound(format!("listing {id}")))?;
        // What a confidential need resembles would tell its hidden text.
        if !caller.reads_in_full(&asked) {
            return Ok(Vec::new());
        }
        let found = duplicates.of(&id);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let listings = store.get_many(&ids)?;
        Ok(found
            .iter()
            .zip(listings)
            .filter_map(|((id, similarity), listing)| {
                let listing = caller
                    .visible(listing)
                    .filter(|l| caller.reads_in_full(l))?;
                // Two decimals: the estimate is not finer than that.
                let similarity = (f64::from(*similarity) * 100.0).round() / 100.0;
                Some(Duplicate {
                    id: id.clone(),
                    similarity,
                    title: listing.title,
                })
            })
            .collect())
    })
    .await?
}
