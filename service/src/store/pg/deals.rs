//! [`DealStore`] on PostgreSQL: tables `leads`, `deals` and `deal_history`.
//!
//! A stage move locks the deal's row (`SELECT ... FOR UPDATE`), lets the caller decide, then
//! writes the deal and appends its history entry in the same transaction, so two brokers on two
//! nodes moving one deal at once are applied one after the other, each with its own entry.

use postgres::GenericClient;

use super::pool::pg_error;
use super::store::{decode, encode, PgStore};
use crate::domain::deal::{Deal, DealEvent, Lead};
use crate::store::{DealDecide, DealStore, StoreError};

/// Every document of `sql`, decoded, sorted by `created`.
fn all<T, K>(
    store: &PgStore,
    sql: &'static str,
    created: impl Fn(&T) -> K,
) -> Result<Vec<T>, StoreError>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    K: Ord,
{
    let mut out: Vec<T> = store.pool.run(move |client| {
        let rows = client.query(sql, &[]).map_err(pg_error)?;
        rows.iter()
            .map(|row| decode(format!("{sql}: {}", row.get::<_, &str>(0)), row.get(1)))
            .collect()
    })?;
    out.sort_by_key(|t| created(t));
    Ok(out)
}

fn add_event(
    client: &mut impl GenericClient,
    deal: &str,
    event: &DealEvent,
) -> Result<(), StoreError> {
    let n = i32::try_from(event.n).unwrap_or(i32::MAX);
    client
        .execute(
            "INSERT INTO deal_history (deal_id, n, doc) VALUES ($1, $2, $3::text::jsonb)",
            &[&deal, &n, &encode(event)?],
        )
        .map_err(pg_error)?;
    Ok(())
}

impl DealStore for PgStore {
    fn add_lead(&self, lead: &Lead) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO leads (id, doc) VALUES ($1, $2::text::jsonb)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            vec![lead.id.clone(), encode(lead)?],
        )
        .map(drop)
    }

    fn lead(&self, id: &str) -> Result<Option<Lead>, StoreError> {
        self.doc("SELECT doc::text FROM leads WHERE id = $1", id)
    }

    fn leads(&self) -> Result<Vec<Lead>, StoreError> {
        all(self, "SELECT id, doc::text FROM leads", |l: &Lead| {
            (l.created_at, l.id.clone())
        })
    }

    fn add_deal(&self, deal: &Deal, first: &DealEvent) -> Result<(), StoreError> {
        let event = DealEvent {
            n: 1,
            ..first.clone()
        };
        let (id, doc) = (deal.id.clone(), encode(deal)?);
        self.pool.transaction(move |tx| {
            tx.execute(
                "INSERT INTO deals (id, doc) VALUES ($1, $2::text::jsonb)
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                &[&id, &doc],
            )
            .map_err(pg_error)?;
            // As on sled, adding a deal again replaces its first entry.
            tx.execute(
                "INSERT INTO deal_history (deal_id, n, doc) VALUES ($1, 1, $2::text::jsonb)
                 ON CONFLICT (deal_id, n) DO UPDATE SET doc = excluded.doc",
                &[&id, &encode(&event)?],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn deal(&self, id: &str) -> Result<Option<Deal>, StoreError> {
        self.doc("SELECT doc::text FROM deals WHERE id = $1", id)
    }

    fn deals(&self) -> Result<Vec<Deal>, StoreError> {
        all(self, "SELECT id, doc::text FROM deals", |d: &Deal| {
            (d.created_at, d.id.clone())
        })
    }

    fn update_deal(&self, id: &str, decide: DealDecide<'_>) -> Result<Option<Deal>, StoreError> {
        let mut lease = self.pool.lease()?;
        lease.begin()?;
        let owned = id.to_string();
        let previous: Option<Deal> = lease.run(move |client| {
            match client
                .query_opt(
                    "SELECT doc::text FROM deals WHERE id = $1 FOR UPDATE",
                    &[&owned],
                )
                .map_err(pg_error)?
            {
                Some(row) => decode(format!("deal {owned}"), row.get::<_, &str>(0)).map(Some),
                None => Ok(None),
            }
        })?;
        let Some(previous) = previous else {
            return Ok(None);
        };
        // The caller decides on its own thread (`decide` is not `Send`), the row still locked.
        if let Some((next, event)) = decide(&previous) {
            let (id, doc) = (id.to_string(), encode(&next)?);
            lease.run(move |client| {
                let row = client
                    .query_one(
                        "SELECT coalesce(max(n), 0) FROM deal_history WHERE deal_id = $1",
                        &[&id],
                    )
                    .map_err(pg_error)?;
                let n = u32::try_from(row.get::<_, i32>(0))
                    .unwrap_or(0)
                    .saturating_add(1);
                client
                    .execute(
                        "UPDATE deals SET doc = $2::text::jsonb WHERE id = $1",
                        &[&id, &doc],
                    )
                    .map_err(pg_error)?;
                add_event(client, &id, &DealEvent { n, ..event })
            })?;
            lease.commit()?;
        }
        Ok(Some(previous))
    }

    fn history(&self, id: &str) -> Result<Vec<DealEvent>, StoreError> {
        let id = id.to_string();
        self.pool.run(move |client| {
            let rows = client
                .query(
                    "SELECT n, doc::text FROM deal_history WHERE deal_id = $1 ORDER BY n",
                    &[&id],
                )
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    decode(
                        format!("deal {id} history {}", row.get::<_, i32>(0)),
                        row.get(1),
                    )
                })
                .collect()
        })
    }
}
