//! [`AlertStore`] on PostgreSQL: tables `standing_searches`, `alert_marks`, `notifications` and
//! `alert_position` ([`SCHEMA`], created at open with the rest).
//!
//! An alert is one transaction: `INSERT INTO alert_marks ... ON CONFLICT DO NOTHING`, and only
//! when that inserted a row, the notification and its mail. Two nodes reading the same change
//! race on the mark's primary key: the second waits for the first to commit, then inserts
//! nothing, so the alert is written (and mailed) once.

use super::pool::pg_error;
use super::store::{decode, encode, PgStore};
use crate::domain::account::User;
use crate::domain::alert::{Notification, StandingSearch};
use crate::domain::mail::Mail;
use crate::store::{AlertStore, StoreError};

/// The alert tables, idempotent; run at open after the store's own schema.
pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS standing_searches (
    id text COLLATE "C" PRIMARY KEY,
    user_id text NOT NULL,
    saved boolean NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS standing_searches_user ON standing_searches (user_id);
CREATE TABLE IF NOT EXISTS alert_marks (
    listing_id text NOT NULL,
    search_id text NOT NULL,
    PRIMARY KEY (listing_id, search_id)
);
CREATE TABLE IF NOT EXISTS notifications (
    user_id text NOT NULL,
    id text COLLATE "C" NOT NULL,
    undigested boolean NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX IF NOT EXISTS notifications_undigested ON notifications (id) WHERE undigested;
CREATE TABLE IF NOT EXISTS alert_position (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint,
    searches bigint NOT NULL
);
INSERT INTO alert_position (one, seq, searches) VALUES (true, NULL, 0) ON CONFLICT DO NOTHING;
"#;

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn queue_mail(tx: &mut postgres::Transaction<'_>, mail: &Mail) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO outbox (id, pending, due, doc)
         VALUES ($1, $2::text::boolean, $3::text::timestamptz, $4::text::jsonb)",
        &[
            &mail.id,
            &mail.is_pending().to_string(),
            &mail.next_attempt_at.to_rfc3339(),
            &encode(mail)?,
        ],
    )
    .map_err(pg_error)?;
    Ok(())
}

impl PgStore {
    fn search_docs(
        &self,
        sql: &'static str,
        key: String,
    ) -> Result<Vec<StandingSearch>, StoreError> {
        self.pool.run(move |c| {
            c.query(sql, &[&key])
                .map_err(pg_error)?
                .iter()
                .map(|row| decode("standing_searches.doc", row.get::<_, &str>(0)))
                .collect()
        })
    }
}

const BUMP: &str = "UPDATE alert_position SET searches = searches + 1";

impl AlertStore for PgStore {
    fn add_search(&self, search: &StandingSearch) -> Result<StandingSearch, StoreError> {
        let (search, doc) = (search.clone(), encode(search)?);
        self.pool.transaction(move |tx| {
            let added = tx
                .execute(
                    "INSERT INTO standing_searches (id, user_id, saved, doc)
                     VALUES ($1, $2, $3, $4::text::jsonb) ON CONFLICT DO NOTHING",
                    &[
                        &search.id,
                        &search.user_id,
                        &search.listing_id.is_none(),
                        &doc,
                    ],
                )
                .map_err(pg_error)?;
            if added == 1 {
                if search.listing_id.is_none() {
                    tx.execute(BUMP, &[]).map_err(pg_error)?;
                }
                return Ok(search);
            }
            let row = tx
                .query_one(
                    "SELECT doc::text FROM standing_searches WHERE id = $1",
                    &[&search.id],
                )
                .map_err(pg_error)?;
            decode("standing_searches.doc", row.get::<_, &str>(0))
        })
    }

    fn replace_search(&self, search: &StandingSearch) -> Result<(), StoreError> {
        let (id, doc) = (search.id.clone(), encode(search)?);
        self.pool.transaction(move |tx| {
            tx.execute(
                "UPDATE standing_searches SET doc = $2::text::jsonb WHERE id = $1",
                &[&id, &doc],
            )
            .map_err(pg_error)?;
            tx.execute(BUMP, &[]).map_err(pg_error)?;
            Ok(())
        })
    }

    fn search(&self, id: &str) -> Result<Option<StandingSearch>, StoreError> {
        self.doc("SELECT doc::text FROM standing_searches WHERE id = $1", id)
    }

    fn searches_of(&self, user_id: &str) -> Result<Vec<StandingSearch>, StoreError> {
        let mut out = self.search_docs(
            "SELECT doc::text FROM standing_searches WHERE user_id = $1",
            user_id.to_string(),
        )?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    fn saved_searches(&self) -> Result<Vec<StandingSearch>, StoreError> {
        let out = self.search_docs(
            "SELECT doc::text FROM standing_searches WHERE saved AND $1 = $1",
            String::new(),
        )?;
        Ok(out.into_iter().filter(|s| s.active).collect())
    }

    fn searches_version(&self) -> Result<u64, StoreError> {
        self.pool.run(|c| {
            let row = c
                .query_one("SELECT searches FROM alert_position", &[])
                .map_err(pg_error)?;
            Ok(to_u64(row.get::<_, i64>(0)))
        })
    }

    fn remove_search(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.pool.transaction(move |tx| {
            let removed = tx
                .execute("DELETE FROM standing_searches WHERE id = $1", &[&id])
                .map_err(pg_error)?;
            if removed == 1 {
                tx.execute(BUMP, &[]).map_err(pg_error)?;
            }
            Ok(removed == 1)
        })
    }

    fn record_alert(&self, note: &Notification, mail: Option<&Mail>) -> Result<bool, StoreError> {
        let (note, doc, mail) = (note.clone(), encode(note)?, mail.cloned());
        self.pool.transaction(move |tx| {
            let marked = tx
                .execute(
                    "INSERT INTO alert_marks (listing_id, search_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&note.listing_id, &note.search_id],
                )
                .map_err(pg_error)?;
            if marked == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO notifications (user_id, id, undigested, doc)
                 VALUES ($1, $2, $3, $4::text::jsonb) ON CONFLICT DO NOTHING",
                &[&note.user_id, &note.id, &!note.mailed, &doc],
            )
            .map_err(pg_error)?;
            if let Some(mail) = &mail {
                queue_mail(tx, mail)?;
            }
            Ok(true)
        })
    }

    fn clear_alert(&self, search_id: &str, listing_id: &str) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM alert_marks WHERE listing_id = $1 AND search_id = $2",
            vec![listing_id.to_string(), search_id.to_string()],
        )?;
        Ok(())
    }

    fn alerted_searches(&self, listing_id: &str) -> Result<Vec<String>, StoreError> {
        let listing_id = listing_id.to_string();
        self.pool.run(move |c| {
            Ok(c.query(
                "SELECT search_id FROM alert_marks WHERE listing_id = $1",
                &[&listing_id],
            )
            .map_err(pg_error)?
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect())
        })
    }

    fn notifications(&self, user_id: &str, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let (user_id, limit) = (
            user_id.to_string(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        self.pool.run(move |c| {
            c.query(
                "SELECT doc::text FROM notifications WHERE user_id = $1
                 ORDER BY id DESC LIMIT $2",
                &[&user_id, &limit],
            )
            .map_err(pg_error)?
            .iter()
            .map(|row| decode("notifications.doc", row.get::<_, &str>(0)))
            .collect()
        })
    }

    fn mark_read(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let changed = self.exec(
            "UPDATE notifications SET doc = jsonb_set(doc, '{read}', 'true')
             WHERE user_id = $1 AND id = $2",
            vec![user_id.to_string(), id.to_string()],
        )?;
        Ok(changed == 1)
    }

    fn undigested(&self) -> Result<Vec<Notification>, StoreError> {
        self.pool.run(|c| {
            c.query(
                "SELECT doc::text FROM notifications WHERE undigested ORDER BY id",
                &[],
            )
            .map_err(pg_error)?
            .iter()
            .map(|row| decode("notifications.doc", row.get::<_, &str>(0)))
            .collect()
        })
    }

    fn record_digest(&self, notes: &[Notification], mail: &Mail) -> Result<(), StoreError> {
        let keys: Vec<(String, String)> = notes
            .iter()
            .map(|n| (n.user_id.clone(), n.id.clone()))
            .collect();
        let mail = mail.clone();
        self.pool.transaction(move |tx| {
            let mut taken = 0;
            for (user_id, id) in &keys {
                // Only still-undigested ones: another node may have sent this digest.
                taken += tx
                    .execute(
                        "UPDATE notifications SET undigested = false,
                         doc = jsonb_set(doc, '{mailed}', 'true')
                         WHERE user_id = $1 AND id = $2 AND undigested",
                        &[user_id, id],
                    )
                    .map_err(pg_error)?;
            }
            if taken > 0 {
                queue_mail(tx, &mail)?;
            }
            Ok(())
        })
    }

    fn alert_position(&self) -> Result<Option<u64>, StoreError> {
        self.pool.run(|c| {
            let row = c
                .query_one("SELECT seq FROM alert_position", &[])
                .map_err(pg_error)?;
            Ok(row.get::<_, Option<i64>>(0).map(to_u64))
        })
    }

    fn set_alert_position(&self, seq: u64) -> Result<(), StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.pool.run(move |c| {
            c.execute(
                "UPDATE alert_position SET seq = greatest(coalesce(seq, 0), $1)",
                &[&seq],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn users_of_org(&self, org: &str) -> Result<Vec<User>, StoreError> {
        let org = org.to_string();
        self.pool.run(move |c| {
            c.query(
                "SELECT doc::text FROM users WHERE doc->>'org' = $1",
                &[&org],
            )
            .map_err(pg_error)?
            .iter()
            .map(|row| decode("users.doc", row.get::<_, &str>(0)))
            .collect()
        })
    }

    fn any_member(&self) -> Result<bool, StoreError> {
        self.pool.run(|c| {
            let row = c
                .query_one("SELECT EXISTS (SELECT 1 FROM users WHERE doc ? 'org')", &[])
                .map_err(pg_error)?;
            Ok(row.get::<_, bool>(0))
        })
    }
}
