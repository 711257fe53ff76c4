//! [`DealStore`] on sled: the `deals` tree.
//!
//! Keys: `i/<lead id>` → lead, `d/<deal id>` → deal, `h/<deal id>/<n as 4 big-endian bytes>` →
//! history entry, so a deal's history reads back in order with one prefix scan. A stage move
//! writes the deal and its entry in one batch.

use super::accounts::{decode, read};
use super::store::SledStore;
use super::store::{backend, encode};
use crate::domain::deal::{Deal, DealEvent, Lead};
use crate::store::{DealDecide, DealStore, StoreError};

fn key(prefix: &str, id: &str) -> Vec<u8> {
    [prefix.as_bytes(), id.as_bytes()].concat()
}

fn history_prefix(deal: &str) -> Vec<u8> {
    [b"h/", deal.as_bytes(), b"/"].concat()
}

fn history_key(deal: &str, n: u32) -> Vec<u8> {
    [history_prefix(deal), n.to_be_bytes().to_vec()].concat()
}

/// Every record under `prefix`, decoded, sorted by `created`.
fn all<T: serde::de::DeserializeOwned, K: Ord>(
    tree: &sled::Tree,
    prefix: &[u8],
    created: impl Fn(&T) -> K,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix(prefix) {
        let (k, bytes) = entry.map_err(backend)?;
        out.push(decode::<T>(&k, &bytes)?);
    }
    out.sort_by_key(|t| created(t));
    Ok(out)
}

impl SledStore {
    /// The number of the last entry of a deal's history (0 when none).
    fn last_event(&self, deal: &str) -> Result<u32, StoreError> {
        match self.deals.scan_prefix(history_prefix(deal)).next_back() {
            Some(entry) => {
                let (k, _) = entry.map_err(backend)?;
                let tail = k.len().saturating_sub(4);
                Ok(k.get(tail..)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes))
            }
            None => Ok(0),
        }
    }
}

impl DealStore for SledStore {
    fn add_lead(&self, lead: &Lead) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key("i/", &lead.id), encode(lead));
        self.write_durably(&self.deals, batch)
    }

    fn lead(&self, id: &str) -> Result<Option<Lead>, StoreError> {
        read(&self.deals, &key("i/", id))
    }

    fn leads(&self) -> Result<Vec<Lead>, StoreError> {
        all(&self.deals, b"i/", |l: &Lead| (l.created_at, l.id.clone()))
    }

    fn add_deal(&self, deal: &Deal, first: &DealEvent) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let event = DealEvent {
            n: 1,
            ..first.clone()
        };
        let mut batch = sled::Batch::default();
        batch.insert(key("d/", &deal.id), encode(deal));
        batch.insert(history_key(&deal.id, 1), encode(&event));
        self.write_durably(&self.deals, batch)
    }

    fn deal(&self, id: &str) -> Result<Option<Deal>, StoreError> {
        read(&self.deals, &key("d/", id))
    }

    fn deals(&self) -> Result<Vec<Deal>, StoreError> {
        all(&self.deals, b"d/", |d: &Deal| (d.created_at, d.id.clone()))
    }

    fn update_deal(&self, id: &str, decide: DealDecide<'_>) -> Result<Option<Deal>, StoreError> {
        let _desk = self.lock_desk();
        let Some(previous) = self.deal(id)? else {
            return Ok(None);
        };
        if let Some((next, event)) = decide(&previous) {
            let n = self.last_event(id)?.saturating_add(1);
            let event = DealEvent { n, ..event };
            let mut batch = sled::Batch::default();
            batch.insert(key("d/", id), encode(&next));
            batch.insert(history_key(id, n), encode(&event));
            self.write_durably(&self.deals, batch)?;
        }
        Ok(Some(previous))
    }

    fn history(&self, id: &str) -> Result<Vec<DealEvent>, StoreError> {
        all(&self.deals, &history_prefix(id), |e: &DealEvent| e.n)
    }
}
