//! [`Stores`]: the listing, account, deal and mail stores the service runs on, as trait objects.

use std::sync::Arc;

use super::{AccountStore, AlertStore, DealStore, MailStore, OrgStore, Store};

/// The service's stores; one backend (sled or PostgreSQL) is all of them.
#[derive(Clone)]
pub struct Stores {
    /// Listings and their change log.
    pub listings: Arc<dyn Store>,
    /// Users, API tokens and sign-in counters.
    pub accounts: Arc<dyn AccountStore>,
    /// Leads, deals and deal histories.
    pub deals: Arc<dyn DealStore>,
    /// Mail to send and one-time tickets.
    pub mail: Arc<dyn MailStore>,
    /// Organisations' records.
    pub orgs: Arc<dyn OrgStore>,
    /// Standing searches and their alerts.
    pub alerts: Arc<dyn AlertStore>,
}

impl Stores {
    /// All of them from one backend.
    pub fn shared<
        S: Store + AccountStore + DealStore + MailStore + OrgStore + AlertStore + 'static,
    >(
        backend: Arc<S>,
    ) -> Self {
        Stores {
            listings: backend.clone(),
            accounts: backend.clone(),
            deals: backend.clone(),
            mail: backend.clone(),
            orgs: backend.clone(),
            alerts: backend,
        }
    }
}
