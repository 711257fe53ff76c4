//! A closed-loop HTTP load: connections on loopback, each sending one request after another
//! over keep-alive, for a fixed time; latency of every request recorded.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// An answer marked as given without the semantic ranking it should have had.
const SKIPPED: &[u8] = b"\"semantic\":\"skipped\"";

/// Sends GET `path` on an open connection and reads the whole answer; returns the status and
/// whether the answer says its semantic ranking was skipped.
async fn get(stream: &mut BufReader<TcpStream>, path: &str) -> std::io::Result<(u16, bool)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    stream.get_mut().write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    let skipped = body.windows(SKIPPED.len()).any(|w| w == SKIPPED);
    Ok((status, skipped))
}

/// What a load measured.
#[derive(Default)]
pub struct Load {
    /// The latency of every answered request.
    pub times: Vec<Duration>,
    /// Requests that failed or were answered with another status than 200.
    pub errors: usize,
    /// Answers marked `"semantic": "skipped"`.
    pub skipped: usize,
}

/// Runs `connections` loops against `addr` for `duration`, cycling through `paths`.
/// Returns each request's latency; failed requests count as errors.
pub async fn load(
    addr: std::net::SocketAddr,
    paths: Vec<String>,
    connections: usize,
    duration: Duration,
) -> Load {
    let deadline = Instant::now() + duration;
    let paths = std::sync::Arc::new(paths);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut load = Load::default();
            let Ok(stream) = TcpStream::connect(addr).await else {
                load.errors = 1;
                return load;
            };
            let mut stream = BufReader::new(stream);
            let mut i = c;
            while Instant::now() < deadline {
                let started = Instant::now();
                match get(&mut stream, &paths[i % paths.len()]).await {
                    Ok((200, skipped)) => {
                        load.times.push(started.elapsed());
                        load.skipped += usize::from(skipped);
                    }
                    Ok(_) => load.errors += 1,
                    Err(_) => {
                        load.errors += 1;
                        break;
                    }
                }
                i += connections;
            }
            load
        }));
    }
    let mut all = Load::default();
    for t in tasks {
        if let Ok(l) = t.await {
            all.times.extend(l.times);
            all.errors += l.errors;
            all.skipped += l.skipped;
        }
    }
    all
}
