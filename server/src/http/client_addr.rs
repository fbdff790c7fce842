//! Puts the client's address into each request's extensions (`app::ports::ClientAddr`).

use app::ports::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Whether to believe `X-Forwarded-For` (only behind a proxy that sets it).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddrPolicy {
    pub trust_forwarded_for: bool,
}

pub async fn client_addr(
    State(policy): State<ClientAddrPolicy>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let addr = if policy.trust_forwarded_for {
        forwarded_for(req.headers()).unwrap_or(peer)
    } else {
        peer
    };
    req.extensions_mut().insert(ClientAddr(addr));
    next.run(req).await
}

/// The address that counts for per-client limits: an IPv6 address by its /64 (one customer
/// network, which can change its last 64 bits at will), an IPv4-mapped one as IPv4.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The address the nearest proxy saw: the last entry of the last `X-Forwarded-For` line, the
/// one the proxy wrote. Entries before it come from the client and are never used, not even
/// when the last one is not an address (then `None`: the peer address counts).
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let last_line = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = last_line.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_key(v4), v4);
    }

    #[test]
    fn takes_the_last_forwarded_address() {
        let mut h = axum::http::HeaderMap::new();
        h.append(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.2".parse().unwrap(),
        );
        assert_eq!(forwarded_for(&h), Some("198.51.100.2".parse().unwrap()));
        // the client wrote the first entries; a last entry that is not an address does not
        // fall back to them
        h.append("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(forwarded_for(&h), None);
        let mut h = axum::http::HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, unknown".parse().unwrap());
        assert_eq!(forwarded_for(&h), None);
        let mut h = axum::http::HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9,".parse().unwrap());
        assert_eq!(forwarded_for(&h), None);
        assert_eq!(forwarded_for(&axum::http::HeaderMap::new()), None);
    }
}
