//! Alerts: standing searches percolated against changed listings, off the write path.
//!
//! [`follower::follow`] reads the change log after the index (like the vectors' follower),
//! from the position kept in the store, and hands each changed listing to
//! [`Alerter::listing_changed`]: the saved searches it now fits ([`percolator`]), and the needs
//! or technologies it matches above [`MATCH_THRESHOLD`] (each a standing search for the members
//! of its organisation). A fit not yet marked is recorded with its notification and its mail in
//! one atomic insert-if-absent (`AlertStore::record_alert`), so a replay after a crash, or
//! another node reading the same change, writes nothing twice; a mark whose listing no longer
//! fits is cleared, so that coming back alerts again.

pub mod feed;
pub mod first_hits;
pub mod follower;
pub mod percolator;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use techmatch_index::{Geography, IndexError, SearchIndex};

use crate::accounts::credentials::random_hex;
use crate::app::alert_mails::{self, AlertLinks};
use crate::app::{AppError, Links, Outbox};
use crate::domain::account::User;
use crate::domain::alert::{Delivery, Notification, StandingSearch, MATCH_THRESHOLD};
use crate::domain::{Kind, Listing, Status};
use crate::indexer::to_index_doc;
use crate::store::{AccountStore, AlertStore, Store, StoreError};
use first_hits::FirstHitsMemo;
use percolator::Percolator;

/// Changes read from the log at a time.
const BATCH: usize = 1_000;
/// Matches of a changed listing considered for the needs' (technologies') standing searches.
const MATCHES: usize = 20;
/// How long a digest waits after its first alert.
const DIGEST_HOURS: i64 = 24;

/// Why alerts could not be computed (they are retried from the same position).
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A mail could not be made.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Links of a standing search: its feed and its one-click unsubscribe.
pub fn feed_url(links: &Links, search: &StandingSearch) -> String {
    links.page(&format!("/feeds/{}/{}", search.id, search.secret))
}

/// The one-click unsubscribe link of a standing search.
pub fn unsubscribe_url(links: &Links, search: &StandingSearch) -> String {
    links.page(&format!(
        "/alerts/{}/unsubscribe/{}",
        search.id, search.secret
    ))
}

/// A new random secret for a standing search's links.
///
/// # Errors
/// When the system has no randomness.
pub fn new_secret() -> Result<String, AppError> {
    Ok(random_hex(16)?)
}

/// Computes alerts for changed listings; one per server, shared by its follower and `bench`.
pub struct Alerter {
    /// Listings and the change log.
    pub store: Arc<dyn Store>,
    /// Standing searches and alerts.
    pub alerts: Arc<dyn AlertStore>,
    /// Users (recipients).
    pub accounts: Arc<dyn AccountStore>,
    /// The index the real searches and matches run on.
    pub index: Arc<SearchIndex>,
    /// Where alert mail goes, and the links it carries (replaced with the server's).
    outbox: Mutex<Outbox>,
    /// The saved searches indexed, and the store's version they were read at.
    percolator: Mutex<Option<(u64, Arc<Percolator>)>>,
    /// The saved searches' first hits, kept across versions of the percolator.
    first_hits: Arc<FirstHitsMemo>,
    /// Whether anyone belongs to an organisation, and when that was last asked.
    members: Mutex<Option<(Instant, bool)>>,
}

impl Alerter {
    /// An alerter over these stores and index.
    pub fn new(
        store: Arc<dyn Store>,
        alerts: Arc<dyn AlertStore>,
        accounts: Arc<dyn AccountStore>,
        index: Arc<SearchIndex>,
        outbox: Outbox,
    ) -> Alerter {
        Alerter {
            store,
            alerts,
            accounts,
            index,
            outbox: Mutex::new(outbox),
            percolator: Mutex::new(None),
            first_hits: Arc::default(),
            members: Mutex::new(None),
        }
    }

    /// Mail goes to `outbox` from now on (the server's, once its public address is known).
    pub fn set_outbox(&self, outbox: Outbox) {
        *self.outbox.lock().unwrap_or_else(|e| e.into_inner()) = outbox;
    }

    fn outbox(&self) -> Outbox {
        self.outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A store that never had alerts starts at the log's end: listings written before alerts
    /// existed raise none.
    ///
    /// # Errors
    /// When the store fails.
    pub fn start_position(&self) -> Result<u64, StoreError> {
        if let Some(at) = self.alerts.alert_position()? {
            return Ok(at);
        }
        self.alerts.set_alert_position(self.store.last_seq()?)?;
        Ok(self.alerts.alert_position()?.unwrap_or(0))
    }

    /// The saved searches indexed, rebuilt when they changed in the store.
    ///
    /// # Errors
    /// When the store fails.
    pub fn percolator(&self) -> Result<Arc<Percolator>, StoreError> {
        let version = self.alerts.searches_version()?;
        let mut held = self.percolator.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, p)) = held.as_ref() {
            if *v == version {
                return Ok(p.clone());
            }
        }
        let p = Arc::new(Percolator::new(
            self.alerts.saved_searches()?,
            self.first_hits.clone(),
        ));
        *held = Some((version, p.clone()));
        Ok(p)
    }

    fn any_member(&self) -> Result<bool, StoreError> {
        let mut held = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, yes)) = *held {
            if at.elapsed().as_secs() < 10 {
                return Ok(yes);
            }
        }
        let yes = self.alerts.any_member()?;
        *held = Some((Instant::now(), yes));
        Ok(yes)
    }

    /// Computes the alerts of every change after the stored position up to `upto` (what the
    /// index has applied), moving the position after each batch; returns the new position.
    ///
    /// # Errors
    /// When the store or the index fails; the position stays where the last batch ended.
    pub fn catch_up(&self, upto: u64) -> Result<u64, AlertError> {
        let mut at = self.start_position()?;
        let floor = self.store.log_floor()?;
        if at < floor {
            tracing::warn!(
                at,
                floor,
                "the change log was pruned past the alerts; skipping"
            );
            at = floor;
        }
        while at < upto {
            let changes = self.store.changes_since(at, BATCH)?;
            let changes: Vec<_> = changes.into_iter().filter(|c| c.seq <= upto).collect();
            let Some(last) = changes.last().map(|c| c.seq) else {
                break;
            };
            // A listing changed twice in the batch is looked at once, as it is now.
            let mut latest: HashMap<&str, u64> = HashMap::new();
            for c in &changes {
                latest.insert(c.id.as_str(), c.seq);
            }
            let mut order: Vec<(&str, u64)> = latest.into_iter().collect();
            order.sort_by_key(|(_, seq)| *seq);
            let percolator = self.percolator()?;
            for (id, seq) in order {
                self.listing_changed(&percolator, id, seq)?;
            }
            self.alerts.set_alert_position(last)?;
            at = last;
        }
        self.send_digests(Utc::now())?;
        Ok(at)
    }

    /// Ranks saved searches whose first hits are not remembered yet, for up to `budget`;
    /// returns whether all are remembered. Off the write path, like the rest of the alerts.
    ///
    /// # Errors
    /// When the store or the index fails.
    pub fn warm(&self, budget: std::time::Duration) -> Result<bool, AlertError> {
        Ok(self.percolator()?.warm(&self.index, budget)?)
    }

    /// Records the alerts `listing_id`'s change at `seq` raises, and clears the marks of the
    /// standing searches it left.
    ///
    /// # Errors
    /// When the store or the index fails.
    pub fn listing_changed(
        &self,
        percolator: &Percolator,
        listing_id: &str,
        seq: u64,
    ) -> Result<usize, AlertError> {
        percolator.listing_changed(listing_id);
        let listing = self
            .store
            .get(listing_id)?
            .filter(|l| l.status == Status::Published && !l.stale);
        let mut fits: Vec<(StandingSearch, String)> = Vec::new();
        if let Some(listing) = &listing {
            let doc = to_index_doc(listing);
            for search in percolator.fits(&self.index, &doc)? {
                let reason =
                    alert_mails::saved_search_reason(search.query.q.as_deref().unwrap_or(""));
                fits.push((search.clone(), reason));
            }
            if self.any_member()? {
                fits.extend(self.matching_fits(listing)?);
            }
        }
        let marked: HashSet<String> = self
            .alerts
            .alerted_searches(listing_id)?
            .into_iter()
            .collect();
        let fitting: HashSet<&str> = fits.iter().map(|(s, _)| s.id.as_str()).collect();
        for gone in marked.iter().filter(|m| !fitting.contains(m.as_str())) {
            self.alerts.clear_alert(gone, listing_id)?;
        }
        let mut raised = 0;
        if let Some(listing) = &listing {
            for (search, reason) in fits {
                if !marked.contains(&search.id) && self.raise(&search, listing, seq, reason)? {
                    raised += 1;
                }
            }
        }
        Ok(raised)
    }

    /// The standing searches of the needs (technologies) `listing` matches above the threshold:
    /// one per member of each one's organisation, made when first needed.
    fn matching_fits(
        &self,
        listing: &Listing,
    ) -> Result<Vec<(StandingSearch, String)>, AlertError> {
        let request = crate::matching::for_listing(listing, Geography::default(), MATCHES);
        let result = self.index.find_matches(&request)?;
        let mut out = Vec::new();
        let mut members: HashMap<String, Vec<User>> = HashMap::new();
        for m in result.matches.iter().filter(|m| m.score >= MATCH_THRESHOLD) {
            if m.id == listing.id {
                continue;
            }
            let Some(counterpart) = self.store.get(&m.id)? else {
                continue;
            };
            // A need stands for technologies, a technology for needs.
            if (counterpart.kind == Kind::Need) == (listing.kind == Kind::Need)
                || counterpart.status != Status::Published
                || counterpart.stale
            {
                continue;
            }
            let Some(org) = counterpart.owner.clone() else {
                continue;
            };
            if listing.owner.as_deref() == Some(org.as_str()) {
                continue;
            }
            if !members.contains_key(&org) {
                members.insert(org.clone(), self.alerts.users_of_org(&org)?);
            }
            let reason = alert_mails::listing_reason(
                &counterpart.title,
                counterpart.kind == Kind::Need,
                m.score,
            );
            for user in members.get(&org).into_iter().flatten() {
                let search = StandingSearch {
                    id: StandingSearch::for_listing_id(&user.id, &counterpart.id),
                    user_id: user.id.clone(),
                    query: Default::default(),
                    listing_id: Some(counterpart.id.clone()),
                    secret: new_secret()?,
                    delivery: Delivery::Immediate,
                    created_at: Utc::now(),
                    active: true,
                };
                let search = self.alerts.add_search(&search)?;
                if search.active {
                    out.push((search, reason.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Records one alert (notification, and mail when immediate), unless already recorded.
    fn raise(
        &self,
        search: &StandingSearch,
        listing: &Listing,
        seq: u64,
        reason: String,
    ) -> Result<bool, AlertError> {
        let Some(user) = self.accounts.user(&search.user_id)? else {
            return Ok(false);
        };
        let now = Utc::now();
        let immediate = search.delivery == Delivery::Immediate;
        let note = Notification {
            id: Notification::id_for(seq, &search.id),
            user_id: user.id.clone(),
            search_id: search.id.clone(),
            listing_id: listing.id.clone(),
            // A confidential need is named by its summary to those who may not read it.
            title: crate::app::confidential::as_read_by(Some(&user), listing).title,
            reason,
            created_at: now,
            read: false,
            mailed: immediate,
        };
        let outbox = self.outbox();
        let mail = if immediate {
            let text = alert_mails::alert(&note, &self.links_of(search, &listing.id));
            Some(outbox.compose(&user.email, text, now)?)
        } else {
            None
        };
        let recorded = self.alerts.record_alert(&note, mail.as_ref())?;
        if recorded && mail.is_some() {
            outbox.ring();
        }
        Ok(recorded)
    }

    fn links_of(&self, search: &StandingSearch, listing_id: &str) -> AlertLinks {
        let links = self.outbox().links;
        AlertLinks {
            listing: links.page(&format!("/listings/{listing_id}")),
            feed: feed_url(&links, search),
            unsubscribe: unsubscribe_url(&links, search),
        }
    }

    /// Mails each user whose oldest undigested alert is a day old all of them in one digest.
    ///
    /// # Errors
    /// When the store fails.
    pub fn send_digests(&self, now: DateTime<Utc>) -> Result<usize, AlertError> {
        let waiting = self.alerts.undigested()?;
        let mut by_user: HashMap<String, Vec<Notification>> = HashMap::new();
        for note in waiting {
            by_user.entry(note.user_id.clone()).or_default().push(note);
        }
        let mut sent = 0;
        for (user_id, notes) in by_user {
            let due = notes
                .iter()
                .map(|n| n.created_at)
                .min()
                .is_some_and(|first| now - first >= chrono::Duration::hours(DIGEST_HOURS));
            if !due {
                continue;
            }
            let Some(user) = self.accounts.user(&user_id)? else {
                continue;
            };
            let mut items = Vec::new();
            for note in &notes {
                if let Some(search) = self.alerts.search(&note.search_id)? {
                    items.push((note.clone(), self.links_of(&search, &note.listing_id)));
                }
            }
            let outbox = self.outbox();
            // The digest leaves on the outbox's clock; `now` may be a sweep's (`/admin/sweep`).
            let mail = outbox.compose(&user.email, alert_mails::digest(&items), Utc::now())?;
            self.alerts.record_digest(&notes, &mail)?;
            outbox.ring();
            sent += 1;
        }
        Ok(sent)
    }
}
