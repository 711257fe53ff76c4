//! Connections to PostgreSQL, pooled by r2d2 and lent out one caller at a time.
//!
//! The store traits are synchronous and are called from `spawn_blocking` threads and, in places,
//! directly on tokio worker threads. The synchronous `postgres` client drives its connection with
//! a private tokio runtime (`block_on`), which panics on a thread that is already inside a
//! runtime. So every use of a client — a lease's check-out (which may check the connection) and
//! each job — runs through [`off_runtime`], which steps out of the caller's runtime first.
//!
//! A caller takes a [`Lease`] on one connection for a whole operation, so that a transaction
//! spanning several jobs (read, let the caller decide, write) stays on one connection. A lost
//! connection fails the job with [`StoreError::Backend`] and is dropped when the lease ends
//! (r2d2 asks [`Manager::has_broken`]); a lease never reconnects in the middle of its operation,
//! where a fresh connection would silently run the rest outside the transaction.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use r2d2::PooledConnection;

use crate::store::StoreError;

/// How long connecting to the server may take before the attempt fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest a caller waits for a connection (all busy, or the server unreachable).
const LEASE_WAIT: Duration = Duration::from_secs(30);
/// Longest a transaction may sit idle between two statements (the server ends it after).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(30);

/// How often a waiting caller looks whether the server refused a new connection meanwhile.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// A connection idle for longer than this is checked before a lease's first job uses it.
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(1);
/// How long that check may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A PostgreSQL error as a store error, with the server's message when there is one.
pub(super) fn pg_error(e: postgres::Error) -> StoreError {
    StoreError::Backend(pg_error_text(&e))
}

fn pg_error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => format!("PostgreSQL: {e}"),
    }
}

/// Runs `f`, which may use a blocking `postgres` client, outside the caller's tokio runtime:
/// in place on a multi-threaded runtime's worker (`block_in_place`), on a thread of its own
/// under a current-thread runtime, and directly anywhere else.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
    }
}

/// A pooled connection and when it last answered a job.
pub(super) struct Connection {
    /// Always there until the connection is dropped (see its `Drop`).
    client: Option<Client>,
    last_used: Instant,
    /// Set when the connection's state is unknown (a failed rollback): r2d2 then closes it.
    broken: bool,
}

impl Drop for Connection {
    /// Closing a client blocks on its runtime too (it says goodbye to the server), and r2d2
    /// drops broken connections on whichever thread gives them back.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            off_runtime(move || drop(client));
        }
    }
}

/// Opens connections for r2d2 and tells it which are still good.
struct Manager {
    config: postgres::Config,
    /// The last failure to connect, cleared by the next success: r2d2 retries in the background
    /// while callers wait, and a caller told of it fails at once instead.
    refused: Arc<Mutex<Option<String>>>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        let connected = self.config.connect(NoTls);
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        match connected {
            Ok(client) => {
                *refused = None;
                Ok(Connection {
                    client: Some(client),
                    last_used: Instant::now(),
                    broken: false,
                })
            }
            Err(e) => {
                // Logged once per outage: r2d2 retries every half second until it is over.
                if refused.is_none() {
                    tracing::warn!(error = %e, "connecting to PostgreSQL");
                }
                *refused = Some(pg_error_text(&e));
                Err(e)
            }
        }
    }

    /// The blocking client notices a connection the server closed (a restart, a failover) only
    /// when it next uses it, failing that call: a connection that sat idle is checked at
    /// check-out, so that one failed call is the check's (r2d2 then takes or opens another),
    /// not the caller's. One used a moment ago is taken as it is, sparing a round trip.
    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        if conn.last_used.elapsed() > PROBE_AFTER_IDLE {
            if let Some(client) = conn.client.as_mut() {
                client.is_valid(PROBE_TIMEOUT)?;
            }
            conn.last_used = Instant::now();
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken || conn.client.as_ref().is_none_or(Client::is_closed)
    }
}

/// r2d2's failures (to connect, and checks of idle connections) are the manager's to report:
/// a failed check is routine after a restart, a failure to connect reaches the waiting callers.
#[derive(Debug)]
struct Quiet;

impl r2d2::HandleError<postgres::Error> for Quiet {
    fn handle_error(&self, error: postgres::Error) {
        tracing::debug!(error = %error, "PostgreSQL pool");
    }
}

/// Up to `size` connections, opened as they are first needed.
pub(super) struct Pool {
    config: postgres::Config,
    size: usize,
    pool: r2d2::Pool<Manager>,
    refused: Arc<Mutex<Option<String>>>,
}

impl Pool {
    /// A pool of up to `size` connections to the server `url` names (URL or `key=value` form).
    pub(super) fn new(url: &str, size: usize) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("the store URL is not valid: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("techmatch");
        // A node that stalls (or is cut off) while holding the change counter would stop every
        // listing writer: the server ends such a transaction, and keepalives notice a vanished
        // peer sooner than TCP's hours.
        let options = format!(
            "{} -c idle_in_transaction_session_timeout={}",
            config.get_options().unwrap_or(""),
            IDLE_IN_TRANSACTION.as_millis()
        );
        config.options(options.trim_start());
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
        config.tcp_user_timeout(Duration::from_secs(60));
        let size = size.max(1);
        let refused = Arc::new(Mutex::new(None));
        let pool = r2d2::Pool::builder()
            .max_size(u32::try_from(size).unwrap_or(u32::MAX))
            // Connect on first need: opening the store must not wait for the server.
            .min_idle(Some(0))
            // Callers wait through `lease`; here it only caps r2d2's pause between attempts to
            // connect (half of it), so that a node reconnects within half a second of the
            // database's return.
            .connection_timeout(Duration::from_secs(1))
            .test_on_check_out(true)
            .error_handler(Box::new(Quiet))
            .build_unchecked(Manager {
                config: config.clone(),
                refused: refused.clone(),
            });
        Ok(Pool {
            config,
            size,
            pool,
            refused,
        })
    }

    /// The connection settings (for the notification listener's own connection).
    pub(super) fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// Waits for a connection of its own: while all are busy, up to [`LEASE_WAIT`]; when the
    /// server refuses a new one, not at all (the caller answers 503 now, not in 30 s).
    pub(super) fn lease(&self) -> Result<Lease, StoreError> {
        let started = Instant::now();
        loop {
            if let Ok(conn) = off_runtime(|| self.pool.get_timeout(WAIT_SLICE)) {
                return Ok(Lease {
                    conn: Some(conn),
                    in_transaction: false,
                });
            }
            // The latest attempt to connect failed (a success clears it, and r2d2 keeps trying
            // until one succeeds): the server is not taking connections.
            let refused = self
                .refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(error) = refused {
                return Err(StoreError::Backend(error));
            }
            if started.elapsed() >= LEASE_WAIT {
                // Every connection is stuck (a database that stopped answering): fail this call
                // rather than pile up blocked threads behind it.
                return Err(StoreError::Backend(format!(
                    "all {} connections to PostgreSQL are busy; is the database answering?",
                    self.size
                )));
            }
        }
    }

    /// Runs `f` in one transaction on a connection of its own, committed before it returns.
    pub(super) fn transaction<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.lease()?.run(move |client| {
            let mut tx = client.transaction().map_err(pg_error)?;
            let out = f(&mut tx)?;
            tx.commit().map_err(pg_error)?;
            Ok(out)
        })
    }

    /// Runs `f` (reads, or one self-contained statement) on a connection of its own.
    pub(super) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.lease()?.run(f)
    }
}

/// One connection, lent to one caller until dropped.
pub(super) struct Lease {
    conn: Option<PooledConnection<Manager>>,
    /// Whether a transaction begun with [`Lease::begin`] is open.
    in_transaction: bool,
}

impl Lease {
    /// Runs `f` on this lease's connection and waits for its answer.
    pub(super) fn run<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(StoreError::Backend("the connection was given back".into()));
        };
        let Some(client) = conn.client.as_mut().filter(|c| !c.is_closed()) else {
            return Err(StoreError::Backend(
                "the connection to PostgreSQL was lost in the middle of an operation".into(),
            ));
        };
        let out = off_runtime(|| f(client));
        conn.last_used = Instant::now();
        out
    }

    /// Opens a transaction that later jobs on this lease run inside; [`Lease::commit`] ends it,
    /// and dropping the lease first rolls it back.
    pub(super) fn begin(&mut self) -> Result<(), StoreError> {
        self.run(|client| client.batch_execute("BEGIN").map_err(pg_error))?;
        self.in_transaction = true;
        Ok(())
    }

    /// Commits the transaction opened by [`Lease::begin`].
    pub(super) fn commit(&mut self) -> Result<(), StoreError> {
        // Whatever the answer, the transaction is over (committed, or rolled back by the server).
        self.in_transaction = false;
        self.run(|client| client.batch_execute("COMMIT").map_err(pg_error))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.in_transaction {
            // On a lost connection there is nothing to roll back; one whose rollback fails
            // otherwise is in an unknown state and must not be lent again.
            let rolled_back = conn
                .client
                .as_mut()
                .is_some_and(|c| off_runtime(|| c.batch_execute("ROLLBACK").is_ok()));
            conn.broken = !rolled_back;
        }
    }
}
