//! The processes of a cluster bench: `techmatch serve` nodes on one PostgreSQL store and
//! haproxy in front of them, each killed (SIGKILL) and reaped when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

/// The balancer's configuration shipped in `deploy/`, written into the bench's directory.
const HAPROXY_CFG: &str = include_str!("../../../deploy/haproxy.cfg");
/// Longest a node may take from spawn to listening (it builds or catches up its index first).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Times a restart on the node's old port is tried (another process may hold the port).
const RESTART_ATTEMPTS: usize = 5;

/// Kills and reaps `child`, ignoring one that already exited.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// One `techmatch serve --store` process with a data dir of its own.
pub struct Node {
    /// `node1`, `node2`, ...: haproxy's name for it.
    pub name: String,
    /// Where it listens (the same port after a restart, since haproxy is configured with it).
    pub addr: SocketAddr,
    dir: PathBuf,
    exe: PathBuf,
    store_url: String,
    child: Option<Child>,
}

impl Node {
    /// Writes `token` as the admin token into `dir` and starts a node there on a free port.
    pub fn start(
        exe: &Path,
        name: String,
        dir: PathBuf,
        store_url: &str,
        token: &str,
    ) -> anyhow::Result<Node> {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let token_path = dir.join("admin.token");
        std::fs::write(&token_path, token)
            .with_context(|| format!("writing {}", token_path.display()))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&token_path, std::fs::Permissions::from_mode(0o600))?;
        }
        let mut node = Node {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
            exe: exe.to_path_buf(),
            store_url: store_url.to_string(),
            child: None,
        };
        node.spawn()?;
        Ok(node)
    }

    /// SIGKILL: no shutdown, no flush; the index keeps what it last committed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }

    /// Starts the node again on its data dir and port, as after a crash.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let mut last = None;
        for _ in 0..RESTART_ATTEMPTS {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no restart attempted")))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("serve.log")
    }

    /// Spawns `serve` on `self.addr` (port 0 the first time) and waits for its "listening on"
    /// line; the rest of its standard output is drained by a thread.
    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .with_context(|| format!("opening {}", self.log_path().display()))?;
        let mut child = Command::new(&self.exe)
            .arg("--data-dir")
            .arg(&self.dir)
            .arg("--store")
            .arg(&self.store_url)
            .arg("serve")
            .arg("--addr")
            .arg(self.addr.to_string())
            .args(["--embedder-url", "off", "--trusted-proxy", "127.0.0.1"])
            // The bench measures the cluster, not the per-client write limit.
            .args(["--max-writes-per-second", "1000000"])
            .args(["--max-reads-per-second", "0"])
            .args(["--max-waits-per-client", "0"])
            .env("TECHMATCH_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.exe.display()))?;
        let Some(stdout) = child.stdout.take() else {
            kill(&mut child);
            bail!("{}: no standard output", self.name);
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_string());
                    break;
                }
            }
            // Keep reading, so that a later print never meets a closed pipe.
            for _ in lines {}
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                self.addr = addr
                    .parse()
                    .with_context(|| format!("{}: address {addr:?}", self.name))?;
                self.child = Some(child);
                Ok(())
            }
            Err(_) => {
                kill(&mut child);
                bail!(
                    "{} did not start listening; its log ({}):\n{}",
                    self.name,
                    self.log_path().display(),
                    tail(&self.log_path())
                )
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// haproxy's binary: on PATH, else where Debian puts it.
pub fn haproxy_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .map(|d| d.join("haproxy"))
        .chain([PathBuf::from("/usr/sbin/haproxy")])
        .find(|p| p.is_file())
}

/// `deploy/haproxy.cfg` with one `server` line per node instead of its three.
pub fn haproxy_config(nodes: usize) -> String {
    let mut out = String::new();
    let mut placed = false;
    for line in HAPROXY_CFG.lines() {
        if line.trim_start().starts_with("server node") {
            if !placed {
                for i in 1..=nodes {
                    out.push_str(&format!("    server node{i} \"${{TECHMATCH_NODE{i}}}\"\n"));
                }
                placed = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// haproxy in the foreground, balancing over the nodes.
pub struct Haproxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    child: Child,
}

impl Haproxy {
    /// Writes the configuration for `nodes` into `dir` and starts haproxy on a free port.
    pub fn start(dir: &Path, nodes: &[Node]) -> anyhow::Result<Haproxy> {
        let binary = haproxy_binary()
            .context("haproxy is not installed (apt-get install haproxy): it balances the nodes")?;
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(nodes.len()))
            .with_context(|| format!("writing {}", config.display()))?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port for haproxy")?;
        let log_path = dir.join("haproxy.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut command = Command::new(&binary);
        command
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("TECHMATCH_LB_BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for node in nodes {
            let var = node.name.replace("node", "TECHMATCH_NODE");
            command.env(var, node.addr.to_string());
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut lb = Haproxy { addr, child };
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(Some(status)) = lb.child.try_wait() {
            bail!(
                "haproxy exited at start ({status}); its log:\n{}",
                tail(&log_path)
            );
        }
        Ok(lb)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_gets_one_server_line_per_node() {
        let config = haproxy_config(5);
        let servers: Vec<&str> = config
            .lines()
            .filter(|l| l.trim_start().starts_with("server "))
            .collect();
        assert_eq!(servers.len(), 5, "{config}");
        assert_eq!(servers[4].trim(), "server node5 \"${TECHMATCH_NODE5}\"");
        // Everything else is kept: health checks, retries, the node header.
        assert!(config.contains("option httpchk GET /api/v1/health"));
        assert!(config.contains("retry-on conn-failure empty-response"));
        assert!(config.contains("X-Techmatch-Node"));
        assert_eq!(
            config.lines().count(),
            HAPROXY_CFG.lines().count() + 2,
            "three lines replaced by five"
        );
    }
}
