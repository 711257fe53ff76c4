//! [`MailStore`] on PostgreSQL: tables `outbox` and `tickets`.
//!
//! Every node's sender claims due mail with `FOR UPDATE SKIP LOCKED`, moving its next attempt
//! past the time a delivery takes, so two nodes never send the same message at once. A ticket
//! is taken with `DELETE … RETURNING`: of two requests presenting it, one gets it.

use chrono::{DateTime, Utc};

use super::pool::pg_error;
use super::store::{decode, encode, PgStore};
use crate::domain::mail::{Mail, Ticket};
use crate::store::{MailStore, StoreError};

impl MailStore for PgStore {
    fn enqueue(&self, mail: &Mail) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO outbox (id, pending, due, doc)
             VALUES ($1, $2::text::boolean, $3::text::timestamptz, $4::text::jsonb)",
            vec![
                mail.id.clone(),
                mail.is_pending().to_string(),
                mail.next_attempt_at.to_rfc3339(),
                encode(mail)?,
            ],
        )?;
        Ok(())
    }

    fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Mail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The client is built without chrono's types: times travel as RFC 3339 text.
        let (now, until_text) = (now.to_rfc3339(), until.to_rfc3339());
        self.pool.transaction(move |tx| {
            let rows = tx
                .query(
                    "SELECT doc::text FROM outbox
                     WHERE pending AND due <= $1::text::timestamptz
                     ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
                    &[&now, &limit],
                )
                .map_err(pg_error)?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let mut mail: Mail = decode("outbox.doc", row.get::<_, &str>(0))?;
                mail.next_attempt_at = until;
                tx.execute(
                    "UPDATE outbox SET due = $2::text::timestamptz, doc = $3::text::jsonb
                     WHERE id = $1",
                    &[&mail.id, &until_text, &encode(&mail)?],
                )
                .map_err(pg_error)?;
                claimed.push(mail);
            }
            Ok(claimed)
        })
    }

    fn update_mail(&self, mail: &Mail) -> Result<(), StoreError> {
        self.exec(
            "UPDATE outbox SET pending = $2::text::boolean, due = $3::text::timestamptz,
             doc = $4::text::jsonb WHERE id = $1",
            vec![
                mail.id.clone(),
                mail.is_pending().to_string(),
                mail.next_attempt_at.to_rfc3339(),
                encode(mail)?,
            ],
        )?;
        Ok(())
    }

    fn mail(&self, id: &str) -> Result<Option<Mail>, StoreError> {
        self.doc("SELECT doc::text FROM outbox WHERE id = $1", id)
    }

    fn recent_mail(&self, limit: usize) -> Result<Vec<Mail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.pool.run(move |c| {
            c.query(
                "SELECT doc::text FROM outbox ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .map_err(pg_error)?
            .iter()
            .map(|row| decode("outbox.doc", row.get::<_, &str>(0)))
            .collect()
        })
    }

    fn add_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO tickets (hash, doc) VALUES ($1, $2::text::jsonb)",
            vec![ticket.hash.clone(), encode(ticket)?],
        )?;
        Ok(())
    }

    fn take_ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError> {
        let hash = hash.to_string();
        self.pool.run(move |c| {
            match c
                .query_opt(
                    "DELETE FROM tickets WHERE hash = $1 RETURNING doc::text",
                    &[&hash],
                )
                .map_err(pg_error)?
            {
                Some(row) => decode("tickets.doc", row.get::<_, &str>(0)).map(Some),
                None => Ok(None),
            }
        })
    }

    fn ticket(&self, hash: &str) -> Result<Option<Ticket>, StoreError> {
        self.doc("SELECT doc::text FROM tickets WHERE hash = $1", hash)
    }
}
