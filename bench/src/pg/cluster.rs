//! A throw-away PostgreSQL cluster: Debian's server binaries, a temporary directory, a free
//! loopback port; stopped and removed when dropped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's `postgresql-NN` packages put the server binaries.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";
/// Starting a cluster retries this often when another process takes the chosen port first.
const START_ATTEMPTS: usize = 5;
/// Seconds `pg_ctl` waits for start-up and shutdown.
const WAIT_SECONDS: &str = "60";
/// Sessions a cluster accepts unless asked for more ([`TempCluster::start_with`]).
const DEFAULT_MAX_CONNECTIONS: u32 = 20;

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No server binaries were found.
    #[error(
        "PostgreSQL is not installed: no {DEBIAN_ROOT}/*/bin/postgres \
         (apt-get install postgresql; or set TECHMATCH_PG_BIN to its bin directory)"
    )]
    NotInstalled,
    /// Running as root without a `postgres` account to run the server as.
    #[error("running as root, and there is no `postgres` user to run initdb and postgres as")]
    NoPostgresUser,
    /// A file-system or process-spawning step failed.
    #[error("{what}: {source}")]
    Io {
        /// The step.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A PostgreSQL program exited with a failure.
    #[error("{program} failed: {output}")]
    Failed {
        /// The program.
        program: String,
        /// Its output (and the server log, when there is one).
        output: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `TECHMATCH_PG_BIN`, else the
/// newest `/usr/lib/postgresql/<version>/bin`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TECHMATCH_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return dir.join("postgres").is_file().then_some(dir);
    }
    std::fs::read_dir(DEBIAN_ROOT)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// Whether PostgreSQL's server binaries are installed.
pub fn is_installed() -> bool {
    bin_dir().is_some()
}

/// The uid and gid of the `postgres` account, from `/etc/passwd`.
fn postgres_account() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let cols: Vec<&str> = line.split(':').collect();
        match cols.as_slice() {
            ["postgres", _, uid, gid, ..] => Some((uid.parse().ok()?, gid.parse().ok()?)),
            _ => None,
        }
    })
}

/// A port nobody listens on at this moment (the kernel's choice for port 0).
fn free_port() -> Result<u16, ClusterError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

/// A running PostgreSQL cluster in a temporary directory, reachable on loopback as the
/// superuser `postgres` without a password; stopped and deleted on drop.
pub struct TempCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The account the server runs as, when we are root (initdb and postgres refuse root).
    run_as: Option<(u32, u32)>,
    /// The server's `max_connections`.
    max_connections: u32,
}

/// A private temporary directory for a cluster, owned by the account the server will run as.
fn cluster_dir(prefix: &str) -> Result<(tempfile::TempDir, Option<(u32, u32)>), ClusterError> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(io("creating the cluster directory"))?;
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    let run_as = if root {
        let (uid, gid) = postgres_account().ok_or(ClusterError::NoPostgresUser)?;
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
            .map_err(io("handing the cluster directory to postgres"))?;
        Some((uid, gid))
    } else {
        None
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(io("restricting the cluster directory"))?;
    Ok((dir, run_as))
}

impl TempCluster {
    /// Creates a cluster (UTF-8, locale C.UTF-8, trust authentication on loopback), starts it
    /// on a free port and waits until it accepts connections.
    pub fn start() -> Result<Self, ClusterError> {
        Self::start_with(DEFAULT_MAX_CONNECTIONS)
    }

    /// [`TempCluster::start`] with room for `max_connections` sessions (a `serve --store`
    /// node holds up to six).
    pub fn start_with(max_connections: u32) -> Result<Self, ClusterError> {
        let bin = bin_dir().ok_or(ClusterError::NotInstalled)?;
        let (dir, run_as) = cluster_dir("techmatch-pg-")?;
        let mut cluster = TempCluster {
            dir,
            bin,
            port: 0,
            run_as,
            max_connections,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--encoding=UTF8".as_ref(),
                // A UTF-8 character class, so that the text search parser keeps "công" whole.
                "--locale=C.UTF-8".as_ref(),
                // A throw-away cluster needs no fsync of its initial files.
                "--no-sync".as_ref(),
            ],
        )?;
        cluster.start_on_free_port()?;
        Ok(cluster)
    }

    /// Starts a streaming replica of this cluster: `pg_basebackup -R` (WAL streamed during the
    /// copy; `standby.signal` and `primary_conninfo` written) into a temporary directory of its
    /// own, then a hot standby on another free port, stopped and deleted on drop. initdb's
    /// defaults allow it: `wal_level=replica`, ten WAL senders, and a `host replication`
    /// trust line for loopback in `pg_hba.conf`.
    pub fn start_replica(&self) -> Result<TempCluster, ClusterError> {
        let (dir, run_as) = cluster_dir("techmatch-pg-replica-")?;
        let mut replica = TempCluster {
            dir,
            bin: self.bin.clone(),
            port: 0,
            run_as,
            // A standby needs at least the primary's.
            max_connections: self.max_connections,
        };
        let data = replica.data();
        let port = self.port.to_string();
        replica.run(
            "pg_basebackup",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-R".as_ref(),
                "-X".as_ref(),
                "stream".as_ref(),
                "-c".as_ref(),
                "fast".as_ref(),
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        replica.start_on_free_port()?;
        Ok(replica)
    }

    /// Starts the server on a free port, trying again when another process takes it first.
    fn start_on_free_port(&mut self) -> Result<(), ClusterError> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            self.port = free_port()?;
            match self.pg_ctl_start() {
                Ok(()) => return Ok(()),
                // Someone else may have taken the port between our probe and the start.
                Err(e) if self.log().contains("could not bind") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ClusterError::Failed {
            program: "pg_ctl start".into(),
            output: "no attempt made".into(),
        }))
    }

    /// Stops the server (ending every session, as a crash or failover would) and starts it
    /// again on the same port.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.pause()?;
        self.resume()
    }

    /// Stops the server, ending every session; [`TempCluster::resume`] starts it again.
    pub fn pause(&self) -> Result<(), ClusterError> {
        self.stop("fast")
    }

    /// Starts the server stopped by [`TempCluster::pause`], on the same port.
    pub fn resume(&self) -> Result<(), ClusterError> {
        self.pg_ctl_start()
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the cluster (removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A `postgres://` URL for the superuser and the `postgres` database (`serve --store`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A libpq-style connection string for the superuser and the `postgres` database.
    pub fn connection_string(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Connects with `tokio-postgres` (no TLS on loopback) and drives the connection on a task
    /// of the current tokio runtime.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) =
            tokio_postgres::connect(&self.connection_string(), tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped or the server stops; either way
            // the client reports the error to its caller.
            let _ = connection.await;
        });
        Ok(client)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        // pg_ctl hands these to the server through a shell, hence the quotes.
        let options = format!(
            "-p {} -k '{}' -c listen_addresses=127.0.0.1 -c max_connections={}",
            self.port,
            self.dir.path().display(),
            self.max_connections
        );
        let data = self.data();
        let log = self.log_path();
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                WAIT_SECONDS.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        )
    }

    fn stop(&self, mode: &str) -> Result<(), ClusterError> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                mode.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                WAIT_SECONDS.as_ref(),
            ],
        )
    }

    /// Runs one of the server's programs as the server's account, in the cluster directory.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), ClusterError> {
        let mut command = Command::new(self.bin.join(program));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("LC_ALL", "C.UTF-8")
            .stdin(std::process::Stdio::null());
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        let output = command.output().map_err(io(format!("running {program}")))?;
        if output.status.success() {
            return Ok(());
        }
        Err(ClusterError::Failed {
            program: program.to_string(),
            output: format!(
                "{}{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                self.log()
            ),
        })
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        // A fast shutdown ends sessions cleanly; immediate is the fallback for a stuck server.
        // The directory itself goes with `self.dir`.
        if self.port != 0 && self.stop("fast").is_err() {
            let _ = self.stop("immediate");
        }
    }
}
