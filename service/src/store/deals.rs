//! The [`DealStore`] trait: leads, deals and each deal's append-only history.
//!
//! The trait has no way to change or remove a history entry: [`DealStore::update_deal`] writes
//! the deal's new state and appends its event in one atomic step, and that is the only write.

use super::StoreError;
use crate::domain::deal::{Deal, DealEvent, Lead};

/// Decides, from the stored deal, its next state and the history entry recording the change;
/// `None` writes nothing.
pub type DealDecide<'a> = Box<dyn FnOnce(&Deal) -> Option<(Deal, DealEvent)> + 'a>;

/// Durable storage of the broker's desk. Every write is on disk before the call returns.
pub trait DealStore: Send + Sync {
    /// Stores an expression of interest.
    fn add_lead(&self, lead: &Lead) -> Result<(), StoreError>;

    /// The lead with this id.
    fn lead(&self, id: &str) -> Result<Option<Lead>, StoreError>;

    /// Every lead, oldest first.
    fn leads(&self) -> Result<Vec<Lead>, StoreError>;

    /// Stores a new deal with its first history entry, atomically.
    fn add_deal(&self, deal: &Deal, first: &DealEvent) -> Result<(), StoreError>;

    /// The deal with this id.
    fn deal(&self, id: &str) -> Result<Option<Deal>, StoreError>;

    /// Every deal, oldest first.
    fn deals(&self) -> Result<Vec<Deal>, StoreError>;

    /// Reads deal `id` and writes what `decide` makes of it, with no other writer in between;
    /// the event is appended to the history with the next number. Returns the deal as it was
    /// before (`None` when there is no such deal).
    fn update_deal(&self, id: &str, decide: DealDecide<'_>) -> Result<Option<Deal>, StoreError>;

    /// A deal's history, in order.
    fn history(&self, id: &str) -> Result<Vec<DealEvent>, StoreError>;
}
