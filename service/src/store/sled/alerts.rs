//! [`AlertStore`] on sled, in the `accounts` tree (where the outbox is, so that an alert and its
//! mail are one batch).
//!
//! Keys: `ss/<search id>` → search, `su/<user id>\0<search id>` → nothing (a user's searches),
//! `sv` → searches' version, `am/<listing id>\0<search id>` → nothing (the listing is in that
//! search's first results), `nt/<user id>\0<notification id>` → notification,
//! `nd/<user id>\0<notification id>` → nothing (waits for a digest), `ap` → the alert
//! follower's position. Writes that read first hold the desk lock.

use super::accounts::{decode, read};
use super::store::SledStore;
use super::store::{backend, encode};
use crate::domain::account::User;
use crate::domain::alert::{Notification, StandingSearch};
use crate::domain::mail::Mail;
use crate::store::{AlertStore, StoreError};

fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

fn search_key(id: &str) -> Vec<u8> {
    format!("ss/{id}").into_bytes()
}

fn user_key(user_id: &str, search_id: &str) -> Vec<u8> {
    key(&[&format!("su/{user_id}"), search_id])
}

fn mark_key(listing_id: &str, search_id: &str) -> Vec<u8> {
    key(&[&format!("am/{listing_id}"), search_id])
}

fn note_key(prefix: &str, user_id: &str, id: &str) -> Vec<u8> {
    key(&[&format!("{prefix}/{user_id}"), id])
}

fn counter(tree: &sled::Tree, k: &[u8]) -> Result<u64, StoreError> {
    Ok(tree
        .get(k)
        .map_err(backend)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes))
}

fn queue_mail(batch: &mut sled::Batch, mail: &Mail) {
    batch.insert([b"o/", mail.id.as_bytes()].concat(), encode(mail));
    if mail.is_pending() {
        batch.insert([b"p/", mail.id.as_bytes()].concat(), b"".as_slice());
    }
}

impl SledStore {
    fn bump_searches(&self, batch: &mut sled::Batch) -> Result<(), StoreError> {
        let next = counter(&self.accounts, b"sv")? + 1;
        batch.insert(b"sv".as_slice(), next.to_be_bytes().as_slice());
        Ok(())
    }
}

impl AlertStore for SledStore {
    fn add_search(&self, search: &StandingSearch) -> Result<StandingSearch, StoreError> {
        let _desk = self.lock_desk();
        if let Some(found) = read::<StandingSearch>(&self.accounts, &search_key(&search.id))? {
            return Ok(found);
        }
        let mut batch = sled::Batch::default();
        batch.insert(search_key(&search.id), encode(search));
        batch.insert(user_key(&search.user_id, &search.id), b"".as_slice());
        if search.listing_id.is_none() {
            self.bump_searches(&mut batch)?;
        }
        self.write_durably(&self.accounts, batch)?;
        Ok(search.clone())
    }

    fn replace_search(&self, search: &StandingSearch) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        batch.insert(search_key(&search.id), encode(search));
        self.bump_searches(&mut batch)?;
        self.write_durably(&self.accounts, batch)
    }

    fn search(&self, id: &str) -> Result<Option<StandingSearch>, StoreError> {
        read(&self.accounts, &search_key(id))
    }

    fn searches_of(&self, user_id: &str) -> Result<Vec<StandingSearch>, StoreError> {
        let prefix = user_key(user_id, "");
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(&prefix) {
            let (k, _) = entry.map_err(backend)?;
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if let Some(s) = self.search(&id)? {
                out.push(s);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn saved_searches(&self) -> Result<Vec<StandingSearch>, StoreError> {
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(b"ss/") {
            let (k, bytes) = entry.map_err(backend)?;
            let search: StandingSearch = decode(&k, &bytes)?;
            if search.active && search.listing_id.is_none() {
                out.push(search);
            }
        }
        Ok(out)
    }

    fn searches_version(&self) -> Result<u64, StoreError> {
        counter(&self.accounts, b"sv")
    }

    fn remove_search(&self, id: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let Some(search) = self.search(id)? else {
            return Ok(false);
        };
        let mut batch = sled::Batch::default();
        batch.remove(search_key(id));
        batch.remove(user_key(&search.user_id, id));
        self.bump_searches(&mut batch)?;
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn record_alert(&self, note: &Notification, mail: Option<&Mail>) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let mark = mark_key(&note.listing_id, &note.search_id);
        if self.accounts.contains_key(&mark).map_err(backend)? {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.insert(mark, b"".as_slice());
        batch.insert(note_key("nt", &note.user_id, &note.id), encode(note));
        if !note.mailed {
            batch.insert(note_key("nd", &note.user_id, &note.id), b"".as_slice());
        }
        if let Some(mail) = mail {
            queue_mail(&mut batch, mail);
        }
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn clear_alert(&self, search_id: &str, listing_id: &str) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        batch.remove(mark_key(listing_id, search_id));
        self.write_durably(&self.accounts, batch)
    }

    fn alerted_searches(&self, listing_id: &str) -> Result<Vec<String>, StoreError> {
        let prefix = mark_key(listing_id, "");
        self.accounts
            .scan_prefix(&prefix)
            .map(|entry| {
                let (k, _) = entry.map_err(backend)?;
                Ok(String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            })
            .collect()
    }

    fn notifications(&self, user_id: &str, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.accounts
            .scan_prefix(note_key("nt", user_id, ""))
            .rev()
            .take(limit)
            .map(|entry| {
                let (k, bytes) = entry.map_err(backend)?;
                decode(&k, &bytes)
            })
            .collect()
    }

    fn mark_read(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let k = note_key("nt", user_id, id);
        let Some(mut note) = read::<Notification>(&self.accounts, &k)? else {
            return Ok(false);
        };
        if !note.read {
            note.read = true;
            let mut batch = sled::Batch::default();
            batch.insert(k, encode(&note));
            self.write_durably(&self.accounts, batch)?;
        }
        Ok(true)
    }

    fn undigested(&self) -> Result<Vec<Notification>, StoreError> {
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(b"nd/") {
            let (k, _) = entry.map_err(backend)?;
            let note_k = [b"nt".as_slice(), &k[2..]].concat();
            if let Some(note) = read::<Notification>(&self.accounts, &note_k)? {
                out.push(note);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn record_digest(&self, notes: &[Notification], mail: &Mail) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        for note in notes {
            let k = note_key("nt", &note.user_id, &note.id);
            if let Some(mut stored) = read::<Notification>(&self.accounts, &k)? {
                stored.mailed = true;
                batch.insert(k, encode(&stored));
            }
            batch.remove(note_key("nd", &note.user_id, &note.id));
        }
        queue_mail(&mut batch, mail);
        self.write_durably(&self.accounts, batch)
    }

    fn alert_position(&self) -> Result<Option<u64>, StoreError> {
        if self.accounts.contains_key(b"ap").map_err(backend)? {
            counter(&self.accounts, b"ap").map(Some)
        } else {
            Ok(None)
        }
    }

    fn set_alert_position(&self, seq: u64) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        if self.alert_position()?.is_some_and(|at| at >= seq) {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        batch.insert(b"ap".as_slice(), seq.to_be_bytes().as_slice());
        self.write_durably(&self.accounts, batch)
    }

    fn users_of_org(&self, org: &str) -> Result<Vec<User>, StoreError> {
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(b"u/") {
            let (k, bytes) = entry.map_err(backend)?;
            let user: User = decode(&k, &bytes)?;
            if user.org.as_deref() == Some(org) {
                out.push(user);
            }
        }
        Ok(out)
    }

    fn any_member(&self) -> Result<bool, StoreError> {
        for entry in self.accounts.scan_prefix(b"u/") {
            let (k, bytes) = entry.map_err(backend)?;
            let user: User = decode(&k, &bytes)?;
            if user.org.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
