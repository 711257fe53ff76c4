//! [`AccountStore`] on sled: the `accounts` tree.
//!
//! Keys: `u/<user id>` → user, `e/<email>` → user id, `t/<token sha256>` → token,
//! `k/<token id>` → token sha256, `f/<counter key>` → failures, `s/<session id sha256>` → session. Each operation is one batch on
//! this tree, flushed before it returns.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::store::SledStore;
use super::store::{backend, encode};
use crate::domain::account::{ApiToken, Failures, Session, User};
use crate::store::{AccountStore, FailureChange, StoreError};

fn key(prefix: &str, rest: &str) -> Vec<u8> {
    [prefix.as_bytes(), rest.as_bytes()].concat()
}

/// Decodes a stored record, naming its key when it cannot be read.
pub(super) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

/// Reads and decodes one record of `tree`.
pub(super) fn read<T: DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    match tree.get(key).map_err(backend)? {
        Some(bytes) => decode(key, &bytes).map(Some),
        None => Ok(None),
    }
}

impl SledStore {
    /// Holds the accounts-and-deals writer lock; a panicked holder left nothing half-written.
    pub(super) fn lock_desk(&self) -> std::sync::MutexGuard<'_, ()> {
        self.desk.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AccountStore for SledStore {
    fn add_user(&self, user: &User) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let email = key("e/", &user.email);
        if self.accounts.contains_key(&email).map_err(backend)? {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.insert(email, user.id.as_bytes());
        batch.insert(key("u/", &user.id), encode(user));
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn replace_user(&self, user: &User) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        batch.insert(key("u/", &user.id), encode(user));
        self.write_durably(&self.accounts, batch)
    }

    fn change_email(&self, id: &str, email: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let new = key("e/", email);
        let Some(mut user) = self.user(id)? else {
            return Ok(false);
        };
        if self.accounts.contains_key(&new).map_err(backend)? {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.remove(key("e/", &user.email));
        batch.insert(new, user.id.as_bytes());
        user.email = email.to_string();
        batch.insert(key("u/", &user.id), encode(&user));
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        read(&self.accounts, &key("u/", id))
    }

    fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        match self.accounts.get(key("e/", email)).map_err(backend)? {
            Some(id) => self.user(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(b"u/") {
            let (k, bytes) = entry.map_err(backend)?;
            out.push(decode::<User>(&k, &bytes)?);
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn add_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key("t/", &token.hash), encode(token));
        batch.insert(key("k/", &token.id), token.hash.as_bytes());
        self.write_durably(&self.accounts, batch)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        read(&self.accounts, &key("t/", hash))
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        match self.accounts.get(key("k/", id)).map_err(backend)? {
            Some(hash) => self.token_by_hash(&String::from_utf8_lossy(&hash)),
            None => Ok(None),
        }
    }

    fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let Some(hash) = self.accounts.get(key("k/", id)).map_err(backend)? else {
            return Ok(false);
        };
        let mut batch = sled::Batch::default();
        batch.remove(key("k/", id));
        batch.remove([b"t/".as_slice(), &hash].concat());
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn revoke_tokens_of(&self, user_id: &str) -> Result<usize, StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in self.accounts.scan_prefix(b"t/") {
            let (k, bytes) = entry.map_err(backend)?;
            let token: ApiToken = decode(&k, &bytes)?;
            if token.user_id == user_id {
                batch.remove(k);
                batch.remove(key("k/", &token.id));
                n += 1;
            }
        }
        if n > 0 {
            self.write_durably(&self.accounts, batch)?;
        }
        Ok(n)
    }

    fn failures(&self, counter: &str) -> Result<Option<Failures>, StoreError> {
        read(&self.accounts, &key("f/", counter))
    }

    fn record_failure(&self, counter: &str, now: DateTime<Utc>) -> Result<Failures, StoreError> {
        let _desk = self.lock_desk();
        let next = Failures::record(self.failures(counter)?, now);
        let mut batch = sled::Batch::default();
        batch.insert(key("f/", counter), encode(&next));
        self.write_durably(&self.accounts, batch)?;
        Ok(next)
    }

    fn change_failures(
        &self,
        counter: &str,
        now: DateTime<Utc>,
        change: FailureChange,
    ) -> Result<(Option<Failures>, Option<Failures>), StoreError> {
        let _desk = self.lock_desk();
        let before = self.failures(counter)?;
        let after = change(before, now);
        if after != before {
            let mut batch = sled::Batch::default();
            match &after {
                Some(f) => batch.insert(key("f/", counter), encode(f)),
                None => batch.remove(key("f/", counter)),
            }
            self.write_durably(&self.accounts, batch)?;
        }
        Ok((before, after))
    }

    fn clear_failures(&self, counter: &str) -> Result<(), StoreError> {
        let _desk = self.lock_desk();
        if !self
            .accounts
            .contains_key(key("f/", counter))
            .map_err(backend)?
        {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        batch.remove(key("f/", counter));
        self.write_durably(&self.accounts, batch)
    }

    fn add_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key("s/", &session.hash), encode(session));
        self.write_durably(&self.accounts, batch)
    }

    fn session_by_hash(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        read(&self.accounts, &key("s/", hash))
    }

    fn remove_session(&self, hash: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        if !self
            .accounts
            .contains_key(key("s/", hash))
            .map_err(backend)?
        {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.remove(key("s/", hash));
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn remove_sessions_of(&self, user_id: &str) -> Result<usize, StoreError> {
        let _desk = self.lock_desk();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in self.accounts.scan_prefix(b"s/") {
            let (k, bytes) = entry.map_err(backend)?;
            let session: Session = decode(&k, &bytes)?;
            if session.user_id == user_id {
                batch.remove(k);
                n += 1;
            }
        }
        if n > 0 {
            self.write_durably(&self.accounts, batch)?;
        }
        Ok(n)
    }
}
