//! Where a request comes from: the connection's peer address or, when that peer is a trusted
//! reverse proxy, the client address the proxy recorded in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::ClientAddr;
use axum::http::{Extensions, HeaderMap};

/// The client address of a request, `None` when nothing gives one (in-process calls).
pub fn client_ip(
    extensions: &Extensions,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        // Anyone can send the header: only a configured proxy's word counts.
        return Some(peer);
    }
    // Each proxy appends the address it saw, so read from the right and skip our own proxies;
    // entries further left were written by the client and prove nothing.
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in forwarded.iter().rev() {
        match parse(entry) {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    Some(peer)
}

/// An address as proxies write it: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:80`, `1.2.3.4:80`.
fn parse(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The limits layer has resolved it already; without that layer, the peer.
        if let Some(resolved) = parts.extensions.get::<ClientAddr>() {
            return Ok(*resolved);
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientAddr(peer.map(|c| c.0.ip())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn from(peer: &str, xff: &[&str], trusted: &[&str]) -> Option<IpAddr> {
        let mut ext = Extensions::new();
        let peer: SocketAddr = format!("{peer}:5000").parse().expect("peer");
        ext.insert(ConnectInfo(peer));
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| t.parse().expect("ip")).collect();
        client_ip(&ext, &headers, &trusted)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        assert_eq!(from("10.0.0.9", &["1.1.1.1"], &[]), ip("10.0.0.9"));
        assert_eq!(
            from("10.0.0.9", &["1.1.1.1"], &["10.0.0.1"]),
            ip("10.0.0.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_rightmost_first() {
        let t = ["127.0.0.1", "10.0.0.2"];
        assert_eq!(from("127.0.0.1", &["203.0.113.7"], &t), ip("203.0.113.7"));
        // A client-forged entry left of the real one is ignored.
        assert_eq!(
            from("127.0.0.1", &["6.6.6.6, 203.0.113.7"], &t),
            ip("203.0.113.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            from("127.0.0.1", &["203.0.113.7, 10.0.0.2"], &t),
            ip("203.0.113.7")
        );
        assert_eq!(
            from("127.0.0.1", &["203.0.113.7", "10.0.0.2"], &t),
            ip("203.0.113.7")
        );
        assert_eq!(
            from("127.0.0.1", &["[2001:db8::1]:443"], &t),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_usable_header_is_the_client() {
        let t = ["127.0.0.1"];
        assert_eq!(from("127.0.0.1", &[], &t), ip("127.0.0.1"));
        assert_eq!(from("127.0.0.1", &["garbage"], &t), ip("127.0.0.1"));
    }
}
