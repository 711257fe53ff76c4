//! [`OrgStore`] on sled, in the `accounts` tree.
//!
//! Keys: `g/<org id>` → organisation, `gn/<name key>` → org id. Adding and changing take the
//! desk's lock, so a name is claimed once and two changes to one record apply one after the
//! other.

use super::accounts::{decode, read};
use super::store::SledStore;
use super::store::{backend, encode};
use crate::domain::org::{name_key, Organisation};
use crate::store::{OrgDecide, OrgStore, StoreError};

fn key(prefix: &str, rest: &str) -> Vec<u8> {
    [prefix.as_bytes(), rest.as_bytes()].concat()
}

impl OrgStore for SledStore {
    fn add_org(&self, org: &Organisation) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let name = key("gn/", &name_key(&org.name));
        if self.accounts.get(&name).map_err(backend)?.is_some() {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        batch.insert(key("g/", &org.id), encode(org));
        batch.insert(name, org.id.as_bytes());
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }

    fn org(&self, id: &str) -> Result<Option<Organisation>, StoreError> {
        read(&self.accounts, &key("g/", id))
    }

    fn org_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        match self
            .accounts
            .get(key("gn/", &name_key(name)))
            .map_err(backend)?
        {
            Some(id) => self.org(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut out = Vec::new();
        for entry in self.accounts.scan_prefix(b"g/") {
            let (k, bytes) = entry.map_err(backend)?;
            out.push(decode::<Organisation>(&k, &bytes)?);
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn update_org(
        &self,
        id: &str,
        decide: OrgDecide<'_>,
    ) -> Result<Option<Organisation>, StoreError> {
        let _desk = self.lock_desk();
        let Some(previous) = self.org(id)? else {
            return Ok(None);
        };
        let Some(next) = decide(&previous) else {
            return Ok(Some(previous));
        };
        let mut batch = sled::Batch::default();
        batch.insert(key("g/", id), encode(&next));
        self.write_durably(&self.accounts, batch)?;
        Ok(Some(next))
    }

    fn merge_org(&self, from: &str, into: &str) -> Result<bool, StoreError> {
        let _desk = self.lock_desk();
        let (Some(mut old), Some(_)) = (self.org(from)?, self.org(into)?) else {
            return Ok(false);
        };
        if old.merged_into.is_some() || from == into {
            return Ok(false);
        }
        old.merged_into = Some(into.to_string());
        let mut batch = sled::Batch::default();
        batch.insert(key("g/", from), encode(&old));
        batch.insert(key("gn/", &name_key(&old.name)), into.as_bytes());
        self.write_durably(&self.accounts, batch)?;
        Ok(true)
    }
}
