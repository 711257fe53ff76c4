//! The shared store: listings and their change log in PostgreSQL, for several nodes at once.
//!
//! Tables (created at open, see [`SCHEMA`]): `listings` (id, JSONB document), `changes` (the
//! log: seq, listing id, op), `change_counter` (one row: the last sequence handed out).
//!
//! Every listing write is one transaction that first takes the counter row
//! (`UPDATE change_counter ... RETURNING`, or `SELECT ... FOR UPDATE` for a read-modify-write).
//! The row lock is held to commit, so listing writers across all nodes run one at a time: each
//! gets the sequences right after the last committed ones (gapless, because a rolled-back
//! transaction rolls its counter back too), and the next writer can only take the counter once
//! the previous one has committed, so sequences become visible in order. A follower that has
//! read `seq <= N` therefore never misses a later commit of a smaller number, which a `bigserial`
//! (numbers taken at insert, committed in any order) would allow. The same transaction sends
//! `NOTIFY techmatch_changes, '<seq>'`, delivered to listening nodes at commit.

use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::GenericClient;

use super::pool::{pg_error, Pool};
use crate::domain::Listing;
use crate::store::{backup, Change, ChangeOp, Decide, Store, StoreError, Updated};

/// The notification channel every listing write signals on.
pub const CHANNEL: &str = "techmatch_changes";
/// The schema version this build creates and understands.
const SCHEMA_VERSION: i32 = 1;
/// Connections one store (one node) opens at most, besides the listener's.
pub const DEFAULT_POOL_SIZE: usize = 5;
/// Listings read per query by [`Store::scan`].
const SCAN_PAGE: i64 = 1_000;
/// Listings written per statement by [`Store::put_all`] (bounds the parameter arrays).
const PUT_CHUNK: usize = 5_000;
/// An arbitrary key for the advisory lock that serialises schema creation across nodes.
const SCHEMA_LOCK: i64 = 0x7465_6368_6d61_7463;

/// Everything the store needs, idempotent: run by every node at open, under [`SCHEMA_LOCK`] so
/// that two nodes starting together do not race on `CREATE TABLE`.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS techmatch_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS listings (
    id text COLLATE "C" PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq bigint PRIMARY KEY,
    listing_id text NOT NULL,
    op text NOT NULL CHECK (op IN ('put', 'delete'))
);
CREATE TABLE IF NOT EXISTS change_counter (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint NOT NULL
);
INSERT INTO change_counter (one, seq) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS users (
    id text PRIMARY KEY,
    email text NOT NULL UNIQUE,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash text PRIMARY KEY,
    id text NOT NULL UNIQUE,
    user_id text NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id);
CREATE TABLE IF NOT EXISTS failures (
    key text PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    hash text PRIMARY KEY,
    user_id text NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS write_buckets (
    client text PRIMARY KEY,
    tokens double precision NOT NULL,
    at timestamptz NOT NULL,
    granted boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS leads (
    id text PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS deals (
    id text PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id text COLLATE "C" PRIMARY KEY,
    pending boolean NOT NULL,
    due timestamptz NOT NULL,
    doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due) WHERE pending;
CREATE TABLE IF NOT EXISTS tickets (
    hash text PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS orgs (
    id text PRIMARY KEY,
    doc jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS org_names (
    name_key text PRIMARY KEY,
    org_id text NOT NULL
);
CREATE INDEX IF NOT EXISTS listings_owner ON listings ((doc->>'owner'));
CREATE TABLE IF NOT EXISTS deal_history (
    deal_id text NOT NULL,
    n integer NOT NULL,
    doc jsonb NOT NULL,
    PRIMARY KEY (deal_id, n)
);
"#;

/// Listings, accounts and deals in a PostgreSQL database shared by every node.
pub struct PgStore {
    pub(super) pool: Pool,
    /// Writes counted in shared write buckets, to forget idle buckets now and then.
    pub(super) bucket_takes: std::sync::atomic::AtomicU64,
}

/// Decodes a JSON document read from column `what`.
pub(super) fn decode<T: serde::de::DeserializeOwned>(
    what: impl Into<String>,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt {
        key: what.into(),
        source,
    })
}

/// A record as JSON text, cast to JSONB in the statement (`$n::text::jsonb`).
pub(super) fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn to_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn to_u64(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

fn op_name(op: ChangeOp) -> &'static str {
    match op {
        ChangeOp::Put => "put",
        ChangeOp::Delete => "delete",
    }
}

/// Takes `n` sequences after the last committed one; the counter row stays locked until the
/// transaction ends, which is what orders listing writers. Returns the first one.
fn take_seqs(tx: &mut impl GenericClient, n: usize) -> Result<u64, StoreError> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let row = tx
        .query_one(
            "UPDATE change_counter SET seq = seq + $1 RETURNING seq",
            &[&n],
        )
        .map_err(pg_error)?;
    Ok(to_u64(row.get::<_, i64>(0) - n + 1))
}

/// Appends changes (with consecutive sequences from `first`) and signals them at commit.
fn log_changes(
    tx: &mut impl GenericClient,
    first: u64,
    changes: &[(&str, ChangeOp)],
) -> Result<u64, StoreError> {
    let seqs: Vec<i64> = (0..changes.len())
        .map(|i| to_i64(first + i as u64))
        .collect();
    let ids: Vec<&str> = changes.iter().map(|(id, _)| *id).collect();
    let ops: Vec<&str> = changes.iter().map(|(_, op)| op_name(*op)).collect();
    tx.execute(
        "INSERT INTO changes (seq, listing_id, op)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
        &[&seqs, &ids, &ops],
    )
    .map_err(pg_error)?;
    let last = first + changes.len() as u64 - 1;
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last.to_string()])
        .map_err(pg_error)?;
    Ok(last)
}

/// Upserts listings (the last of equal ids wins, as if written one after the other).
fn upsert(tx: &mut impl GenericClient, listings: &[Listing]) -> Result<(), StoreError> {
    let mut latest = std::collections::BTreeMap::new();
    for listing in listings {
        latest.insert(listing.id.as_str(), listing);
    }
    let mut ids = Vec::with_capacity(latest.len());
    let mut docs = Vec::with_capacity(latest.len());
    for (id, listing) in latest {
        ids.push(id);
        docs.push(encode(listing)?);
    }
    tx.execute(
        "INSERT INTO listings (id, doc)
         SELECT id, doc::jsonb FROM unnest($1::text[], $2::text[]) AS t(id, doc)
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
        &[&ids, &docs],
    )
    .map_err(pg_error)?;
    Ok(())
}

fn read_listing(client: &mut impl GenericClient, id: &str) -> Result<Option<Listing>, StoreError> {
    let sql = "SELECT doc::text FROM listings WHERE id = $1";
    match client.query_opt(sql, &[&id]).map_err(pg_error)? {
        Some(row) => decode(format!("listing {id}"), row.get::<_, &str>(0)).map(Some),
        None => Ok(None),
    }
}

impl PgStore {
    /// Connects to the database `url` names (`postgres://user@host:port/db` or `key=value`
    /// pairs) and creates the schema when absent.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, DEFAULT_POOL_SIZE)
    }

    /// [`PgStore::open`] with at most `pool_size` connections.
    pub fn open_with(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let store = PgStore {
            pool: Pool::new(url, pool_size)?,
            bucket_takes: std::sync::atomic::AtomicU64::new(0),
        };
        let version = store.pool.transaction(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                .map_err(pg_error)?;
            tx.batch_execute(SCHEMA).map_err(pg_error)?;
            tx.batch_execute(super::alerts::SCHEMA).map_err(pg_error)?;
            let found = tx
                .query_opt("SELECT max(version) FROM techmatch_schema", &[])
                .map_err(pg_error)?
                .and_then(|row| row.get::<_, Option<i32>>(0));
            if found.is_none() {
                tx.execute(
                    "INSERT INTO techmatch_schema (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
                )
                .map_err(pg_error)?;
            }
            Ok(found.unwrap_or(SCHEMA_VERSION))
        })?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "the database holds schema version {version}, newer than this techmatch \
                 understands ({SCHEMA_VERSION}); upgrade techmatch"
            )));
        }
        Ok(store)
    }

    /// Starts a thread that calls `wake(Some(seq))` whenever any node commits listing changes
    /// up to `seq` (`Some(0)`: unknown, after (re)connecting), and `wake(None)` about every
    /// second otherwise, until `wake` returns false. It listens on its own connection and
    /// reconnects when that is lost; meanwhile the follower's own one-second poll finds changes.
    pub fn listen(
        &self,
        wake: Arc<dyn Fn(Option<u64>) -> bool + Send + Sync>,
    ) -> Result<(), StoreError> {
        let config = self.pool.config().clone();
        std::thread::Builder::new()
            .name("techmatch-pg-listen".into())
            .spawn(move || listen_loop(&config, wake.as_ref()))
            .map_err(|e| StoreError::Backend(format!("starting the listener thread: {e}")))?;
        Ok(())
    }
}

/// The listener's loop: LISTEN on a connection of its own, wake on every notification.
fn listen_loop(config: &postgres::Config, wake: &(dyn Fn(Option<u64>) -> bool + Send + Sync)) {
    let mut warned = false;
    loop {
        let mut client = match config.connect(postgres::NoTls).and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(c)
        }) {
            Ok(client) => client,
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot listen for changes; polling every second");
                    warned = true;
                }
                std::thread::sleep(Duration::from_secs(1));
                if !wake(None) {
                    return;
                }
                continue;
            }
        };
        if warned {
            tracing::info!("listening for changes again");
            warned = false;
        }
        // Changes committed while we were not listening are found by the follower's catch-up,
        // which reads from its own last sequence: waking it once covers them.
        if !wake(Some(0)) {
            return;
        }
        loop {
            // A timeout lets the loop notice that nobody needs it any more.
            let next = client
                .notifications()
                .timeout_iter(Duration::from_secs(1))
                .next();
            match next {
                Ok(Some(n)) => {
                    if !wake(Some(n.payload().parse().unwrap_or(0))) {
                        return;
                    }
                }
                Ok(None) if client.is_closed() => break,
                Ok(None) => {
                    if !wake(None) {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the change notifications; reconnecting");
                    warned = true;
                    break;
                }
            }
        }
    }
}

/// Pages through every listing in id order, one query per page.
struct Scan<'a> {
    store: &'a PgStore,
    after: Option<String>,
    page: std::vec::IntoIter<Result<Listing, StoreError>>,
    done: bool,
}

impl Iterator for Scan<'_> {
    type Item = Result<Listing, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.page.next() {
            return Some(item);
        }
        if self.done {
            return None;
        }
        let after = self.after.clone();
        let rows = self.store.pool.run(move |client| {
            let rows = match &after {
                Some(after) => client.query(
                    "SELECT id, doc::text FROM listings WHERE id > $1 ORDER BY id LIMIT $2",
                    &[after, &SCAN_PAGE],
                ),
                None => client.query(
                    "SELECT id, doc::text FROM listings ORDER BY id LIMIT $1",
                    &[&SCAN_PAGE],
                ),
            }
            .map_err(pg_error)?;
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                .collect::<Vec<_>>())
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = (rows.len() as i64) < SCAN_PAGE;
        self.after = rows.last().map(|(id, _)| id.clone());
        let page: Vec<_> = rows
            .into_iter()
            .map(|(id, doc)| decode(format!("listing {id}"), &doc))
            .collect();
        self.page = page.into_iter();
        self.page.next()
    }
}

impl Store for PgStore {
    fn get(&self, id: &str) -> Result<Option<Listing>, StoreError> {
        let id = id.to_string();
        self.pool.run(move |client| read_listing(client, &id))
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<Listing>>, StoreError> {
        let wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let found = self.pool.run(move |client| {
            let rows = client
                .query(
                    "SELECT id, doc::text FROM listings WHERE id = ANY($1)",
                    &[&wanted],
                )
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    let id: String = row.get(0);
                    let listing = decode(format!("listing {id}"), row.get::<_, &str>(1))?;
                    Ok((id, listing))
                })
                .collect::<Result<std::collections::HashMap<String, Listing>, StoreError>>()
        })?;
        // An id asked for twice gets the listing twice.
        Ok(ids.iter().map(|id| found.get(*id).cloned()).collect())
    }

    fn put_all(&self, listings: &[Listing]) -> Result<u64, StoreError> {
        if listings.is_empty() {
            return self.last_seq();
        }
        let listings = listings.to_vec();
        self.pool.transaction(move |tx| {
            let first = take_seqs(tx, listings.len())?;
            let mut last = first;
            let mut next = first;
            for chunk in listings.chunks(PUT_CHUNK) {
                upsert(tx, chunk)?;
                let changes: Vec<(&str, ChangeOp)> = chunk
                    .iter()
                    .map(|l| (l.id.as_str(), ChangeOp::Put))
                    .collect();
                last = log_changes(tx, next, &changes)?;
                next = last + 1;
            }
            Ok(last)
        })
    }

    fn update(&self, id: &str, decide: Decide<'_>) -> Result<Updated, StoreError> {
        let mut lease = self.pool.lease()?;
        lease.begin()?;
        let owned = id.to_string();
        let previous = lease.run(move |client| {
            // The counter row first: it orders this writer among all listing writers (also a
            // create of an id nobody holds a row lock on yet), as sled's writer lock does.
            client
                .query_one("SELECT seq FROM change_counter FOR UPDATE", &[])
                .map_err(pg_error)?;
            read_listing(client, &owned)
        })?;
        // The caller decides on its own thread: `decide` borrows its data and is not `Send`.
        let Some(listing) = decide(previous.as_ref()) else {
            return Ok(Updated {
                previous,
                seq: None,
            });
        };
        let seq = lease.run(move |client| {
            // Still inside the transaction `begin` opened, holding the counter row.
            let first = take_seqs(client, 1)?;
            upsert(client, std::slice::from_ref(&listing))?;
            log_changes(client, first, &[(listing.id.as_str(), ChangeOp::Put)])
        })?;
        lease.commit()?;
        Ok(Updated {
            previous,
            seq: Some(seq),
        })
    }

    fn delete(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let id = id.to_string();
        self.pool.transaction(move |tx| {
            // Counter first, then the row: the same order as every other listing writer.
            tx.query_one("SELECT seq FROM change_counter FOR UPDATE", &[])
                .map_err(pg_error)?;
            let gone = tx
                .execute("DELETE FROM listings WHERE id = $1", &[&id])
                .map_err(pg_error)?;
            if gone == 0 {
                return Ok(None);
            }
            let first = take_seqs(tx, 1)?;
            log_changes(tx, first, &[(id.as_str(), ChangeOp::Delete)]).map(Some)
        })
    }

    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let after = to_i64(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.pool.run(move |client| {
            let rows = client
                .query(
                    "SELECT seq, listing_id, op FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &limit],
                )
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    let seq = to_u64(row.get(0));
                    let op = match row.get::<_, &str>(2) {
                        "put" => ChangeOp::Put,
                        "delete" => ChangeOp::Delete,
                        other => {
                            return Err(StoreError::Backend(format!(
                                "change {seq} has an unknown operation {other:?}"
                            )))
                        }
                    };
                    Ok(Change {
                        seq,
                        id: row.get(1),
                        op,
                    })
                })
                .collect()
        })
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        self.pool.run(|client| {
            let row = client
                .query_one("SELECT seq FROM change_counter", &[])
                .map_err(pg_error)?;
            Ok(to_u64(row.get(0)))
        })
    }

    fn scan(&self) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        Box::new(Scan {
            store: self,
            after: None,
            page: Vec::new().into_iter(),
            done: false,
        })
    }

    fn scan_after(
        &self,
        after: Option<&str>,
    ) -> Box<dyn Iterator<Item = Result<Listing, StoreError>> + '_> {
        Box::new(Scan {
            store: self,
            after: after.map(str::to_string),
            page: Vec::new().into_iter(),
            done: false,
        })
    }

    fn count(&self) -> Result<usize, StoreError> {
        self.pool.run(|client| {
            let row = client
                .query_one("SELECT count(*) FROM listings", &[])
                .map_err(pg_error)?;
            Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    fn owned_by(&self, owner: &str) -> Result<Vec<Listing>, StoreError> {
        let owner = owner.to_string();
        self.pool.run(move |client| {
            let rows = client
                .query(
                    "SELECT id, doc::text FROM listings WHERE doc->>'owner' = $1 ORDER BY id",
                    &[&owner],
                )
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| decode(format!("listing {}", row.get::<_, &str>(0)), row.get(1)))
                .collect()
        })
    }

    fn backup_to(&self, _dir: &std::path::Path) -> Result<backup::BackupInfo, StoreError> {
        Err(StoreError::Backend(
            "the store is in PostgreSQL: back it up with pg_dump (e.g. `pg_dump -Fc -f \
             techmatch.dump DATABASE`) and restore with pg_restore; each node's index rebuilds \
             itself from the store"
                .into(),
        ))
    }

    fn listen(
        &self,
        wake: Arc<dyn Fn(Option<u64>) -> bool + Send + Sync>,
    ) -> Result<(), StoreError> {
        PgStore::listen(self, wake)
    }
}
