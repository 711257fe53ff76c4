//! [`AccountStore`] on PostgreSQL: tables `users`, `tokens`, `failures` and `sessions`.
//!
//! Shared by every node, so a user signed in on one is signed in on all, and failed sign-ins
//! are counted together. Uniqueness of e-mails is the `users.email` constraint; a failure count
//! is read and rewritten under a transaction-scoped advisory lock on its key, so that two nodes
//! counting at once both count. Per-client write buckets (`write_buckets`) are refilled and
//! taken from in one upsert, timed by the database's clock so that nodes' clocks do not matter.

use chrono::{DateTime, Utc};
use postgres::GenericClient;
use serde::de::DeserializeOwned;

use super::pool::pg_error;
use super::store::{decode, encode, PgStore};
use crate::domain::account::{ApiToken, Failures, Session, User};
use crate::store::{AccountStore, FailureChange, StoreError, WriteToken};

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

/// A write bucket's tokens at the time of the upsert: what was left, plus the refill since,
/// capped at the burst (`$2`: writes per second, `$3`: burst).
const REFILL: &str =
    "least($3::float8, b.tokens + extract(epoch FROM excluded.at - b.at)::float8 * $2::float8)";

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

    fn change_email(&self, id: &str, email: &str) -> Result<bool, StoreError> {
        // The unique e-mail decides between two users taking one address at once: the
        // second update finds it taken and changes nothing.
        let changed = self.exec(
            "UPDATE users SET email = $2, doc = jsonb_set(doc, '{email}', to_jsonb($2::text))
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE email = $2)",
            vec![id.to_string(), email.to_string()],
        );
        match changed {
            Ok(n) => Ok(n == 1),
            Err(StoreError::Backend(m)) if m.contains("duplicate key") => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.doc("SELECT doc::text FROM users WHERE id = $1", id)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut out: Vec<User> = self.pool.run(|client| {
            let rows = client
                .query("SELECT doc::text FROM users", &[])
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| decode("users.doc", row.get::<_, &str>(0)))
                .collect()
        })?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
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

    fn change_failures(
        &self,
        key: &str,
        now: DateTime<Utc>,
        change: FailureChange,
    ) -> Result<(Option<Failures>, Option<Failures>), StoreError> {
        let key = key.to_string();
        self.pool.transaction(move |tx| {
            // As in record_failure: an advisory lock guards a row that may not exist yet.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('failures/' || $1, 0))",
                &[&key],
            )
            .map_err(pg_error)?;
            let before = one_doc(tx, "SELECT doc::text FROM failures WHERE key = $1", &key)?;
            let after = change(before, now);
            match &after {
                _ if after == before => {}
                Some(f) => {
                    tx.execute(
                        "INSERT INTO failures (key, doc) VALUES ($1, $2::text::jsonb)
                         ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
                        &[&key, &encode(f)?],
                    )
                    .map_err(pg_error)?;
                }
                None => {
                    tx.execute("DELETE FROM failures WHERE key = $1", &[&key])
                        .map_err(pg_error)?;
                }
            }
            Ok((before, after))
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

    fn shares_write_limits(&self) -> bool {
        true
    }

    fn take_write(
        &self,
        client: &str,
        per_second: f64,
        burst: f64,
    ) -> Result<WriteToken, StoreError> {
        let client = client.to_string();
        let n = self
            .bucket_takes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pool.run(move |c| {
            if n % 1_000 == 0 {
                // A bucket untouched for long enough to be full again is the same as none
                // (also on the first call, so that this statement is exercised early).
                c.execute(
                    "DELETE FROM write_buckets
                     WHERE at < clock_timestamp() - make_interval(secs => $1)",
                    &[&(burst / per_second.max(f64::MIN_POSITIVE)).min(86_400.0 * 365.0)],
                )
                .map_err(pg_error)?;
            }
            // One statement: the row lock of the upsert makes refill-and-take atomic across
            // nodes. REFILL is the bucket now (SET sees the row as it was); a write is granted
            // when it holds one token.
            let row = c
                .query_one(
                    &format!(
                        "INSERT INTO write_buckets AS b (client, tokens, at, granted)
                         VALUES ($1, $3::float8 - 1, clock_timestamp(), true)
                         ON CONFLICT (client) DO UPDATE SET
                             tokens = CASE WHEN {REFILL} >= 1 THEN {REFILL} - 1 ELSE {REFILL} END,
                             at = excluded.at,
                             granted = {REFILL} >= 1
                         RETURNING granted, tokens"
                    ),
                    &[&client, &per_second, &burst],
                )
                .map_err(pg_error)?;
            let (granted, tokens): (bool, f64) = (row.get(0), row.get(1));
            if granted {
                return Ok(WriteToken::Taken);
            }
            let wait = (1.0 - tokens) / per_second.max(f64::MIN_POSITIVE);
            Ok(WriteToken::Empty(wait.ceil().clamp(1.0, 86_400.0) as u64))
        })
    }
}
