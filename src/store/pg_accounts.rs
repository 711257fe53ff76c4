//! [`AccountStore`] on PostgreSQL: tables `users`, `tokens`, `failures` and `sessions`.
//!
//! Shared by every node, so a user signed in on one is signed in on all, and failed sign-ins
//! are counted together. Uniqueness of e-mails is the `users.email` constraint; a failure count
//! is read and rewritten under a transaction-scoped advisory lock on its key, so that two nodes
//! counting at once both count.

use chrono::{DateTime, Utc};
use postgres::GenericClient;
use serde::de::DeserializeOwned;

use super::pg_pool::pg_error;
use super::pg_store::{decode, encode, PgStore};
use super::{AccountStore, StoreError};
use crate::domain::account::{ApiToken, Failures, Session, User};

/// The one JSONB document `sql` (`SELECT doc::text ... WHERE <key> = $1`) finds, decoded.
fn one_doc<T: DeserializeOwned>(
    client: &mut impl GenericClient,
    sql: &str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match client.query_opt(sql, &[&key]).map_err(pg_error)? {
        Some(row) => decode(format!("{sql} [{key}]"), row.get::<_, &str>(0)).map(Some),
        None => Ok(None),
    }
}

impl PgStore {
    /// [`one_doc`] on a connection of the pool.
    pub(super) fn doc<T: DeserializeOwned + Send + 'static>(
        &self,
        sql: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let key = key.to_string();
        self.pool.run(move |client| one_doc(client, sql, &key))
    }

    /// Runs one statement with text parameters and returns the rows it affected.
    pub(super) fn exec(&self, sql: &'static str, params: Vec<String>) -> Result<u64, StoreError> {
        self.pool.run(move |client| {
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            client.execute(sql, &refs).map_err(pg_error)
        })
    }
}

impl AccountStore for PgStore {
    fn add_user(&self, user: &User) -> Result<bool, StoreError> {
        // The unique e-mail decides between two nodes adding the same address at once: the
        // second insert waits for the first to commit and then does nothing.
        let added = self.exec(
            "INSERT INTO users (id, email, doc) VALUES ($1, $2, $3::text::jsonb)
             ON CONFLICT DO NOTHING",
            vec![user.id.clone(), user.email.clone(), encode(user)?],
        )?;
        Ok(added == 1)
    }

    fn replace_user(&self, user: &User) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO users (id, email, doc) VALUES ($1, $2, $3::text::jsonb)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            vec![user.id.clone(), user.email.clone(), encode(user)?],
        )
        .map(drop)
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.doc("SELECT doc::text FROM users WHERE id = $1", id)
    }

    fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.doc("SELECT doc::text FROM users WHERE email = $1", email)
    }

    fn add_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO tokens (hash, id, user_id, doc) VALUES ($1, $2, $3, $4::text::jsonb)
             ON CONFLICT (hash) DO UPDATE SET doc = excluded.doc",
            vec![
                token.hash.clone(),
                token.id.clone(),
                token.user_id.clone(),
                encode(token)?,
            ],
        )
        .map(drop)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.doc("SELECT doc::text FROM tokens WHERE hash = $1", hash)
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.doc("SELECT doc::text FROM tokens WHERE id = $1", id)
    }

    fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.exec("DELETE FROM tokens WHERE id = $1", vec![id.to_string()])? > 0)
    }

    fn revoke_tokens_of(&self, user_id: &str) -> Result<usize, StoreError> {
        let n = self.exec(
            "DELETE FROM tokens WHERE user_id = $1",
            vec![user_id.to_string()],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn failures(&self, key: &str) -> Result<Option<Failures>, StoreError> {
        self.doc("SELECT doc::text FROM failures WHERE key = $1", key)
    }

    fn record_failure(&self, key: &str, now: DateTime<Utc>) -> Result<Failures, StoreError> {
        let key = key.to_string();
        self.pool.transaction(move |tx| {
            // A row lock cannot guard a counter that does not exist yet; an advisory lock on
            // the key's hash can, held until commit.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('failures/' || $1, 0))",
                &[&key],
            )
            .map_err(pg_error)?;
            let previous = one_doc(tx, "SELECT doc::text FROM failures WHERE key = $1", &key)?;
            let next = Failures::record(previous, now);
            tx.execute(
                "INSERT INTO failures (key, doc) VALUES ($1, $2::text::jsonb)
                 ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
                &[&key, &encode(&next)?],
            )
            .map_err(pg_error)?;
            Ok(next)
        })
    }

    fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM failures WHERE key = $1", vec![key.to_string()])
            .map(drop)
    }

    fn add_session(&self, session: &Session) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO sessions (hash, user_id, doc) VALUES ($1, $2, $3::text::jsonb)
             ON CONFLICT (hash) DO UPDATE SET doc = excluded.doc",
            vec![
                session.hash.clone(),
                session.user_id.clone(),
                encode(session)?,
            ],
        )
        .map(drop)
    }

    fn session_by_hash(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        self.doc("SELECT doc::text FROM sessions WHERE hash = $1", hash)
    }

    fn remove_session(&self, hash: &str) -> Result<bool, StoreError> {
        Ok(self.exec(
            "DELETE FROM sessions WHERE hash = $1",
            vec![hash.to_string()],
        )? > 0)
    }

    fn remove_sessions_of(&self, user_id: &str) -> Result<usize, StoreError> {
        let n = self.exec(
            "DELETE FROM sessions WHERE user_id = $1",
            vec![user_id.to_string()],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
