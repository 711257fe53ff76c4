//! The [`OrgStore`] trait: organisations' records, unique by name.

use super::StoreError;
use crate::domain::org::Organisation;

/// A change to an organisation's record, decided on the stored record under the store's lock:
/// `None` leaves it as it is. The name must not change (it is the record's unique key).
pub type OrgDecide<'a> = Box<dyn FnOnce(&Organisation) -> Option<Organisation> + 'a>;

/// Durable storage of organisations. Every write is on disk before the call returns.
pub trait OrgStore: Send + Sync {
    /// Adds an organisation; `false` (and nothing written) when its name's key
    /// ([`crate::domain::org::name_key`]) is taken.
    fn add_org(&self, org: &Organisation) -> Result<bool, StoreError>;

    /// The organisation with this id.
    fn org(&self, id: &str) -> Result<Option<Organisation>, StoreError>;

    /// The organisation holding this name (after a merge, the one it was merged into).
    fn org_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError>;

    /// Every organisation, merged records included, oldest first.
    fn orgs(&self) -> Result<Vec<Organisation>, StoreError>;

    /// Changes one record as one atomic read-modify-write; returns the record as it now is
    /// (`None`: no such id).
    fn update_org(
        &self,
        id: &str,
        decide: OrgDecide<'_>,
    ) -> Result<Option<Organisation>, StoreError>;

    /// Marks `from` as merged into `into` and makes `from`'s name lead to `into`, atomically;
    /// `false` when either is missing or `from` was merged already.
    fn merge_org(&self, from: &str, into: &str) -> Result<bool, StoreError>;
}
