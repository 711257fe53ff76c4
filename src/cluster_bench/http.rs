//! A small HTTP/1.1 client for loopback load: keep-alive connections, a pool per address,
//! answers with status, headers and body (Content-Length, chunked, or up to the close).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest one request may take: above haproxy's 35 s server timeout, so that a stuck request
/// shows as haproxy's answer rather than ours.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);
/// Largest head or body accepted (the bench's answers are a few kilobytes).
const MAX_ANSWER: usize = 16 << 20;

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn bad(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

/// One open connection.
pub struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(stream),
        })
    }

    /// Sends one request and reads its answer; also whether the connection may be reused.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<(Answer, bool)> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, token, body))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))?
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<(Answer, bool)> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: techmatch\r\n");
        if let Some(t) = token {
            request.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method != "GET" {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.stream.get_mut().write_all(request.as_bytes()).await?;

        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("not an HTTP status line: {line:?}")))?;
        let mut headers = Vec::new();
        let mut head_len = line.len();
        loop {
            line.clear();
            let n = self.stream.read_line(&mut line).await?;
            head_len += n;
            if n == 0 || head_len > MAX_ANSWER {
                return Err(bad("incomplete or oversized head"));
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        let mut answer = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        let close = answer
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let chunked = answer
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = answer
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        if chunked {
            answer.body = self.read_chunked().await?;
        } else if let Some(length) = length {
            if length > MAX_ANSWER {
                return Err(bad("oversized body"));
            }
            answer.body = vec![0; length];
            self.stream.read_exact(&mut answer.body).await?;
        } else if status >= 200 && status != 204 && status != 304 {
            // No length: the body runs to the close.
            (&mut self.stream)
                .take(MAX_ANSWER as u64)
                .read_to_end(&mut answer.body)
                .await?;
            return Ok((answer, false));
        }
        Ok((answer, !close))
    }

    async fn read_chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
            if body.len() + size > MAX_ANSWER {
                return Err(bad("oversized body"));
            }
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if self.stream.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.stream.read_exact(&mut body[start..]).await?;
            line.clear();
            self.stream.read_line(&mut line).await?;
        }
    }
}

/// Idle connections to one address, reused across requests.
pub struct Pool {
    addr: SocketAddr,
    idle: Mutex<Vec<Conn>>,
}

impl Pool {
    /// A pool for `addr`, empty until the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Pool {
            addr,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends one request on an idle connection or a new one.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<Answer> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => Conn::connect(self.addr).await?,
        };
        let (answer, reusable) = conn.send(method, path, token, body).await?;
        if reusable {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
        Ok(answer)
    }

    /// Drops every idle connection (after the server behind them went away).
    pub fn clear(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// GET `path`, answered 200 with a JSON body, or None.
    pub async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        let answer = self.request("GET", path, None, None).await.ok()?;
        (answer.status == 200).then(|| answer.json()).flatten()
    }
}
