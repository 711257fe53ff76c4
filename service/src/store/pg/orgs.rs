//! [`OrgStore`] on PostgreSQL: tables `orgs` and `org_names`.
//!
//! A name is claimed by the primary key of `org_names` (the second of two nodes adding one name
//! at once does nothing); a change locks the record's row (`SELECT ... FOR UPDATE`) while the
//! caller decides.

use super::pool::pg_error;
use super::store::{decode, encode, PgStore};
use crate::domain::org::{name_key, Organisation};
use crate::store::{OrgDecide, OrgStore, StoreError};

impl OrgStore for PgStore {
    fn add_org(&self, org: &Organisation) -> Result<bool, StoreError> {
        let (id, name, doc) = (org.id.clone(), name_key(&org.name), encode(org)?);
        self.pool.transaction(move |tx| {
            let claimed = tx
                .execute(
                    "INSERT INTO org_names (name_key, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&name, &id],
                )
                .map_err(pg_error)?;
            if claimed == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO orgs (id, doc) VALUES ($1, $2::text::jsonb)",
                &[&id, &doc],
            )
            .map_err(pg_error)?;
            Ok(true)
        })
    }

    fn org(&self, id: &str) -> Result<Option<Organisation>, StoreError> {
        self.doc("SELECT doc::text FROM orgs WHERE id = $1", id)
    }

    fn org_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.doc(
            "SELECT o.doc::text FROM org_names n JOIN orgs o ON o.id = n.org_id WHERE n.name_key = $1",
            &name_key(name),
        )
    }

    fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let mut out: Vec<Organisation> = self.pool.run(|client| {
            let rows = client
                .query("SELECT doc::text FROM orgs", &[])
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| decode("orgs.doc", row.get::<_, &str>(0)))
                .collect()
        })?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn update_org(
        &self,
        id: &str,
        decide: OrgDecide<'_>,
    ) -> Result<Option<Organisation>, StoreError> {
        let mut lease = self.pool.lease()?;
        lease.begin()?;
        let owned = id.to_string();
        let previous: Option<Organisation> = lease.run(move |client| {
            match client
                .query_opt(
                    "SELECT doc::text FROM orgs WHERE id = $1 FOR UPDATE",
                    &[&owned],
                )
                .map_err(pg_error)?
            {
                Some(row) => decode(format!("org {owned}"), row.get::<_, &str>(0)).map(Some),
                None => Ok(None),
            }
        })?;
        let Some(previous) = previous else {
            return Ok(None);
        };
        // The caller decides on its own thread (`decide` is not `Send`), the row still locked.
        let Some(next) = decide(&previous) else {
            return Ok(Some(previous));
        };
        let (id, doc) = (id.to_string(), encode(&next)?);
        lease.run(move |client| {
            client
                .execute(
                    "UPDATE orgs SET doc = $2::text::jsonb WHERE id = $1",
                    &[&id, &doc],
                )
                .map_err(pg_error)
                .map(drop)
        })?;
        lease.commit()?;
        Ok(Some(next))
    }

    fn merge_org(&self, from: &str, into: &str) -> Result<bool, StoreError> {
        let (from, into) = (from.to_string(), into.to_string());
        self.pool.transaction(move |tx| {
            if from == into {
                return Ok(false);
            }
            let Some(row) = tx
                .query_opt(
                    "SELECT doc::text FROM orgs WHERE id = $1 FOR UPDATE",
                    &[&from],
                )
                .map_err(pg_error)?
            else {
                return Ok(false);
            };
            let mut old: Organisation = decode("orgs.doc", row.get::<_, &str>(0))?;
            let target = tx
                .query_opt("SELECT 1 FROM orgs WHERE id = $1", &[&into])
                .map_err(pg_error)?;
            if target.is_none() || old.merged_into.is_some() {
                return Ok(false);
            }
            old.merged_into = Some(into.clone());
            tx.execute(
                "UPDATE orgs SET doc = $2::text::jsonb WHERE id = $1",
                &[&from, &encode(&old)?],
            )
            .map_err(pg_error)?;
            tx.execute(
                "UPDATE org_names SET org_id = $2 WHERE name_key = $1",
                &[&name_key(&old.name), &into],
            )
            .map_err(pg_error)?;
            Ok(true)
        })
    }
}
