//! The HTTP phase against a `techmatch serve` process of its own, as in production: its memory
//! is then the server's alone (the benchmark process has imported every listing and keeps what
//! its allocator kept), and `/proc` tells its peak.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long a server may take to open its data dir and answer.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A `techmatch serve` child on a free loopback port, killed when dropped.
pub struct Served {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The admin token, for `GET /metrics`.
    token: String,
}

/// The server's memory, in MiB.
pub struct Memory {
    /// Peak resident set (`VmHWM`).
    pub peak: f64,
    /// Resident anonymous memory now (heap, stacks).
    pub anon: f64,
    /// Resident file-backed memory now (mapped index files; the kernel may drop these).
    pub file: f64,
}

fn free_port() -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.local_addr()
}

/// True when `GET /api/v1/health` answers 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /api/v1/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

impl Served {
    /// Starts `techmatch serve` on `dir` (lexical only), with `extra` arguments, and waits
    /// until it answers.
    pub fn start(dir: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_with_embedder(dir, "off", extra)
    }

    /// [`Served::start`] with the embedder `embedder_url` (`auto`, a URL, or `off`).
    pub fn start_with_embedder(
        dir: &Path,
        embedder_url: &str,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the techmatch binary")?;
        let addr = free_port()?;
        let child = Command::new(exe)
            .arg("--data-dir")
            .arg(dir)
            .args([
                "serve",
                "--embedder-url",
                embedder_url,
                "--addr",
                &addr.to_string(),
            ])
            // The bench measures the service, not the per-client read limit.
            .args(["--max-reads-per-second", "0"])
            .args(["--max-waits-per-client", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting techmatch serve for the HTTP phase")?;
        let mut served = Served {
            child,
            addr,
            token: String::new(),
        };
        let started = Instant::now();
        while !healthy(addr) {
            if let Some(status) = served.child.try_wait()? {
                anyhow::bail!("techmatch serve exited before answering ({status})");
            }
            if started.elapsed() > START_TIMEOUT {
                anyhow::bail!("techmatch serve did not answer within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let token_file = dir.join("admin.token");
        served.token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("reading {}", token_file.display()))?
            .trim()
            .to_string();
        Ok(served)
    }

    /// The whole answer (head and body) to `GET path`.
    fn get(&self, path: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.token
        );
        stream.write_all(request.as_bytes())?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    }

    /// The body of `GET /api/v1/health` as JSON.
    pub fn health(&self) -> anyhow::Result<serde_json::Value> {
        let text = self.get("/api/v1/health")?;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).context("the health answer is not JSON")
    }

    /// The value of the sample `series` (name and labels, as printed) at `GET /metrics`.
    pub fn metric(&self, series: &str) -> anyhow::Result<f64> {
        let text = self.get("/metrics")?;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .with_context(|| format!("{series} is not in the server's metrics"))
    }

    /// CPU time the server process has run so far, every thread counted, in seconds (Linux;
    /// 0 elsewhere): what a load cost it, apart from the time it waited for a core.
    pub fn cpu_s(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        super::stat_cpu_s(&stat)
    }

    /// Waits until the server's start-up work (near-duplicate signatures, the freshness sweep,
    /// ranking saved searches) is done: under a twentieth of a core over a second, or
    /// `longest`. Returns the seconds waited. A load started before would measure that work
    /// too, which a server running for a while no longer does.
    pub fn wait_idle(&self, longest: Duration) -> f64 {
        let started = Instant::now();
        let mut before = self.cpu_s();
        while started.elapsed() < longest {
            std::thread::sleep(Duration::from_secs(1));
            let now = self.cpu_s();
            if now - before < 0.05 {
                break;
            }
            before = now;
        }
        started.elapsed().as_secs_f64()
    }

    /// The server's memory now (peak since it started).
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        Memory {
            peak: super::status_mib(&status, "VmHWM:"),
            anon: super::status_mib(&status, "RssAnon:"),
            file: super::status_mib(&status, "RssFile:"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
