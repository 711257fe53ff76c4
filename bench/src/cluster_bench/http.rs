//! An HTTP/1.1 client for loopback load over hyper's connections: keep-alive connections, a
//! pool per address, answers with status, headers and body.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{header, Request};
use hyper_util::rt::TokioIo;
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

fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> std::io::Error {
    std::io::Error::other(e)
}

/// One open HTTP/1.1 connection (hyper's), kept alive between requests.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io_error)?;
        // Drives the connection; ends when it closes or the sender is dropped.
        tokio::spawn(connection);
        Ok(Conn { sender })
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
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "techmatch");
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method != "GET" {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(io_error)?;
        self.sender.ready().await.map_err(io_error)?;
        let response = self.sender.send_request(request).await.map_err(io_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
            .to_bytes()
            .to_vec();
        let answer = Answer {
            status,
            headers,
            body,
        };
        let close = answer
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        Ok((answer, !close && !self.sender.is_closed()))
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
