//! A closed-loop HTTP load: connections on loopback, each sending one request after another
//! over keep-alive, for a fixed time; latency of every request recorded.

use std::time::{Duration, Instant};

use crate::cluster_bench::http::Conn;

/// An answer marked as given without the semantic ranking it should have had.
const SKIPPED: &[u8] = b"\"semantic\":\"skipped\"";

/// Sends GET `path` on an open connection and reads the whole answer; returns the status,
/// whether the answer says its semantic ranking was skipped, and whether the connection may be
/// used again.
async fn get(conn: &mut Conn, path: &str) -> std::io::Result<(u16, bool, bool)> {
    let (answer, reusable) = conn.send("GET", path, None, None).await?;
    let skipped = answer.body.windows(SKIPPED.len()).any(|w| w == SKIPPED);
    Ok((answer.status, skipped, reusable))
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
            let Ok(mut conn) = Conn::connect(addr).await else {
                load.errors = 1;
                return load;
            };
            let mut i = c;
            while Instant::now() < deadline {
                let started = Instant::now();
                let answer = get(&mut conn, &paths[i % paths.len()]).await;
                match answer {
                    Ok((200, skipped, _)) => {
                        load.times.push(started.elapsed());
                        load.skipped += usize::from(skipped);
                    }
                    Ok(_) => load.errors += 1,
                    Err(_) => {
                        load.errors += 1;
                        break;
                    }
                }
                // The server closed the connection: this loop ends, as on an error.
                if matches!(answer, Ok((_, _, false))) {
                    break;
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
