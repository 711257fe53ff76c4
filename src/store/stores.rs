//! [`Stores`]: the listing, account and deal stores the service runs on, as trait objects.

use std::sync::Arc;

use super::{AccountStore, DealStore, Store};

/// The service's stores; one backend (sled now, PostgreSQL later) may be all three.
#[derive(Clone)]
pub struct Stores {
    /// Listings and their change log.
    pub listings: Arc<dyn Store>,
    /// Users, API tokens and sign-in counters.
    pub accounts: Arc<dyn AccountStore>,
    /// Leads, deals and deal histories.
    pub deals: Arc<dyn DealStore>,
}

impl Stores {
    /// All three from one backend.
    pub fn shared<S: Store + AccountStore + DealStore + 'static>(backend: Arc<S>) -> Self {
        Stores {
            listings: backend.clone(),
            accounts: backend.clone(),
            deals: backend,
        }
    }
}
