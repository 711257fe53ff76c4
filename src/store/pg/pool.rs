//! Connections to PostgreSQL, each owned by an OS thread of its own, lent out one caller at a
//! time.
//!
//! The store traits are synchronous and are called from `spawn_blocking` threads and, in places,
//! directly on tokio worker threads. The synchronous `postgres` client drives its connection with
//! a private tokio runtime (`block_on`), which panics on a thread that is already inside a
//! runtime. So no caller ever touches a client: each connection lives on a dedicated thread that
//! has no runtime, and callers send it jobs (closures over `&mut Client`) over a std channel and
//! wait for the answer on another. Waiting on a std channel is an ordinary blocking call, safe on
//! any thread, like sled's disk I/O.
//!
//! A caller takes a [`Lease`] on one connection for a whole operation, so that a transaction
//! spanning several jobs (read, let the caller decide, write) stays on one connection. A lost
//! connection fails the job with [`StoreError::Backend`] and is replaced on the next lease; a
//! lease never reconnects in the middle of its operation, where a fresh connection would silently
//! run the rest outside the transaction.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

use crate::store::StoreError;

/// How long connecting to the server may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest a caller waits for a free connection.
const LEASE_WAIT: Duration = Duration::from_secs(30);
/// Longest a transaction may sit idle between two statements (the server ends it after).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(30);

/// What a connection's thread runs: a closure given the thread's connection slot.
type Job = Box<dyn FnOnce(&mut Slot) + Send>;

/// A connection idle for longer than this is checked before a lease's first job uses it.
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(1);
/// How long that check may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A connection thread's state.
struct Slot {
    config: postgres::Config,
    client: Option<Client>,
    /// When the connection last answered a job.
    last_used: std::time::Instant,
}

impl Slot {
    /// The live connection, connecting first when there is none and `connect` allows it.
    fn client(&mut self, connect: bool) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        // The blocking client notices a connection the server closed (a restart, a failover)
        // only when it next uses it, failing that call: a lease's first job checks a connection
        // that sat idle, so that one failed call is the check's, not the caller's.
        if connect && self.last_used.elapsed() > PROBE_AFTER_IDLE {
            if let Some(client) = self.client.as_mut() {
                if client.is_valid(PROBE_TIMEOUT).is_err() {
                    self.client = None;
                }
            }
        }
        if self.client.is_none() {
            if !connect {
                return Err(StoreError::Backend(
                    "the connection to PostgreSQL was lost in the middle of an operation".into(),
                ));
            }
            let client = self.config.connect(NoTls).map_err(pg_error)?;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Backend("no connection to PostgreSQL".into()))
    }
}

/// A PostgreSQL error as a store error, with the server's message when there is one.
pub(super) fn pg_error(e: postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => format!("PostgreSQL: {e}"),
    };
    StoreError::Backend(text)
}

/// One connection thread, addressed through its job queue.
struct Worker {
    jobs: mpsc::Sender<Job>,
}

impl Worker {
    fn spawn(config: postgres::Config, n: usize) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(format!("techmatch-pg-{n}"))
            .spawn(move || {
                let mut slot = Slot {
                    config,
                    client: None,
                    last_used: std::time::Instant::now(),
                };
                // Ends when the pool (holding the sender) is dropped; the connection goes too.
                while let Ok(job) = queue.recv() {
                    // A panicking job (a bug) must not take the thread down with it, or every
                    // later lease of this connection would fail; its caller sees the reply
                    // channel close, and the connection, in an unknown state, is replaced.
                    let run = std::panic::AssertUnwindSafe(|| job(&mut slot));
                    if std::panic::catch_unwind(run).is_err() {
                        slot.client = None;
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("starting a PostgreSQL thread: {e}")))?;
        Ok(Worker { jobs })
    }
}

/// Connection threads, at most `size`, started as they are first needed.
pub(super) struct Pool {
    config: postgres::Config,
    size: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Worker>,
    started: usize,
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
        Ok(Pool {
            config,
            size: size.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                started: 0,
            }),
            returned: Condvar::new(),
        })
    }

    /// The connection settings (for the notification listener's own connection).
    pub(super) fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// Waits for a connection of its own.
    pub(super) fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(worker) = state.idle.pop() {
                return Ok(Lease::new(self, worker));
            }
            if state.started < self.size {
                let worker = Worker::spawn(self.config.clone(), state.started)?;
                state.started += 1;
                return Ok(Lease::new(self, worker));
            }
            let (next, waited) = self
                .returned
                .wait_timeout(state, LEASE_WAIT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            if waited.timed_out() && state.idle.is_empty() {
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

    fn give_back(&self, worker: Worker) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.idle.push(worker);
        self.returned.notify_one();
    }
}

/// One connection, lent to one caller until dropped.
pub(super) struct Lease<'p> {
    pool: &'p Pool,
    worker: Option<Worker>,
    /// Whether a job ran already: only the first may (re)connect.
    used: bool,
    /// Whether a transaction begun with [`Lease::begin`] is open.
    in_transaction: bool,
}

impl<'p> Lease<'p> {
    fn new(pool: &'p Pool, worker: Worker) -> Self {
        Lease {
            pool,
            worker: Some(worker),
            used: false,
            in_transaction: false,
        }
    }

    /// Runs `f` on this lease's connection and waits for its answer.
    pub(super) fn run<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let connect = !self.used;
        self.used = true;
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |slot: &mut Slot| {
            let out = slot.client(connect).and_then(f);
            slot.last_used = std::time::Instant::now();
            // The caller may be gone (it panicked); nobody is left to tell.
            let _ = reply.send(out);
        });
        let Some(worker) = &self.worker else {
            return Err(StoreError::Backend("the connection was given back".into()));
        };
        worker
            .jobs
            .send(job)
            .map_err(|_| StoreError::Backend("the PostgreSQL thread has stopped".into()))?;
        answer.recv().map_err(|_| {
            StoreError::Backend("the PostgreSQL job ended without an answer (a bug)".into())
        })?
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

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(worker) = self.worker.take() else {
            return;
        };
        if self.in_transaction {
            // Queued before any later borrower's job; on a lost connection there is nothing to
            // roll back, and a broken client is replaced on the next first job.
            let _ = worker.jobs.send(Box::new(|slot: &mut Slot| {
                if let Some(client) = slot.client.as_mut() {
                    if client.batch_execute("ROLLBACK").is_err() {
                        slot.client = None;
                    }
                }
            }));
        }
        self.pool.give_back(worker);
    }
}
