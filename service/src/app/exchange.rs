//! [`Exchange`]: the stores and the outbox a use case works with, borrowed for one call.

use super::Outbox;
use crate::store::{AccountStore, AlertStore, DealStore, OrgStore, Store};

/// The stores and the outbox, as one argument for the use cases that need several.
#[derive(Clone, Copy)]
pub struct Exchange<'a> {
    /// Organisations' records.
    pub orgs: &'a dyn OrgStore,
    /// Users.
    pub accounts: &'a dyn AccountStore,
    /// Listings.
    pub listings: &'a dyn Store,
    /// Leads (interest) and deals.
    pub deals: &'a dyn DealStore,
    /// Where mail goes.
    pub outbox: &'a Outbox,
    /// Standing searches and their alerts.
    pub alerts: &'a dyn AlertStore,
}
