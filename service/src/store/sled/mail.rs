//! [`MailStore`] on sled, in the `accounts` tree.
//!
//! Keys: `o/<mail id>` → message, `p/<mail id>` → nothing (the message waits for delivery; only
//! these are scanned for due mail), `x/<ticket sha256>` → ticket. Mail ids sort by creation
//! time, so scans read oldest first. Each operation is one batch, flushed before it returns.

use chrono::{DateTime, Utc};

use super::accounts::{decode, read};
use super::store::SledStore;
use super::store::{backend, encode};
use crate::domain::mail::{Mail, Ticket};
use crate::store::{MailStore, StoreError};

fn key(prefix: &str, rest: &str) -> Vec<u8> {
    [prefix.as_bytes(), rest.as_bytes()].concat()
}

impl MailStore for SledStore {
    fn enqueue(&self, mail: &Mail) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key("o/", &mail.id), encode(mail));
        if mail.is_pending() {
            batch.insert(key("p/", &mail.id), b"".as_slice());
        }
        self.write_durably(&self.accounts, batch)
    }

    fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Mail>, StoreError> {
        let _desk = self.lock_desk();
        let mut claimed = Vec::new();
        let mut batch = sled::Batch::default();
        for entry in self.accounts.scan_prefix(b"p/") {
            if claimed.len() >= limit {
                break;
            }
            let (k, _) = entry.map_err(backend)?;
            let id = String::from_utf8_lossy(&k[2..]).into_owned();
            let Some(mut mail) = read::<Mail>(&self.accounts, &key("o/", &id))? else {
                batch.remove(k);
                continue;
            };
            if !mail.is_pending() || mail.next_attempt_at > now {
                continue;
            }
            mail.next_attempt_at = until;
            batch.insert(key("o/", &id), encode(&mail));
            claimed.push(mail);
        }
        self.write_durably(&self.accounts, batch)?;
        Ok(claimed)
    }

    fn update_mail(&self, mail: &Mail) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        batch.insert(key("o/", &mail.id), encode(mail));
        if mail.is_pending() {
            batch.insert(key("p/", &mail.id), b"".as_slice());
        } else {
            batch.remove(key("p/", &mail.id));
        }
        self.write_durably(&self.accounts, batch)
    }

    fn mail(&self, id: &str) -> Result<Option<Mail>, StoreError> {
        read(&self.accounts, &key("o/", id))
    }

    fn recent_mail(&self, limit: usize) -> Result<Vec<Mail>, StoreError> {
        self.accounts
            .scan_prefix(b"o/")
            .rev()
            .take(limit)
            .map(|entry| {
                let (k, bytes) = entry.map_err(backend)?;
                decode(&k, &bytes)
            })
            .collect()
    }

    fn add_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key("x/", &ticket.hash), encode(ticket));
        self.write_durably(&self.accounts, batch)
    }

    fn take_ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError> {
        let _desk = self.lock_desk();
        let k = key("x/", hash);
        let Some(ticket) = read::<Ticket>(&self.accounts, &k)? else {
            return Ok(None);
        };
        let mut batch = sled::Batch::default();
        batch.remove(k);
        self.write_durably(&self.accounts, batch)?;
        Ok(Some(ticket))
    }

    fn ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError> {
        read(&self.accounts, &key("x/", hash))
    }
}
