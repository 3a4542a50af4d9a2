//! The client's address: the TCP peer, or, from a trusted proxy, the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy.
//!
//! Each proxy appends the peer it saw to `X-Forwarded-For`; entries left of a
//! proxy we do not trust were written by whoever reached it, so they prove
//! nothing. Walking right to left through trusted proxies only, the first
//! address outside `TRUSTED_PROXIES` is the last one a trusted proxy saw: the
//! client (as the OWASP and MDN advice on `X-Forwarded-For` puts it). A client
//! that reaches a gateway directly is its own peer and picks nothing.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::TrustedProxies;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The address per-address limits key on.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    // several headers count as one list, in order (RFC 9110, 5.3)
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // an unreadable entry ends the walk: what lies left of it is unproven
        let Ok(ip) = hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            break;
        };
        client = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("127.0.0.1/32, 10.0.0.0/8").expect("parses")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(v).expect("header"));
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_direct_client_is_its_peer_whatever_it_forwards() {
        let headers = forwarded(&["1.2.3.4"]);
        assert_eq!(
            client_addr(ip("203.0.113.9"), &headers, &proxies()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        // the client forged 1.2.3.4; nginx appended the peer it saw, 198.51.100.7,
        // and an inner proxy 10.1.2.3 appended nginx's address
        let headers = forwarded(&["1.2.3.4, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn without_a_usable_header_a_trusted_peer_is_the_client() {
        let trusted = proxies();
        assert_eq!(
            client_addr(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
        let garbage = forwarded(&["not-an-address"]);
        assert_eq!(
            client_addr(ip("10.0.0.5"), &garbage, &trusted),
            ip("10.0.0.5")
        );
        let all_trusted = forwarded(&["10.9.9.9"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &all_trusted, &trusted),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn no_trusted_proxies_means_the_header_is_never_believed() {
        let headers = forwarded(&["1.2.3.4"]);
        let none = TrustedProxies::parse("").expect("parses");
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers, &none),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_and_single_addresses_are_understood() {
        let trusted = TrustedProxies::parse("::1,127.0.0.1").expect("parses");
        let headers = forwarded(&["198.51.100.7"]);
        assert_eq!(
            client_addr(ip("::ffff:127.0.0.1"), &headers, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("::1"), &headers, &trusted),
            ip("198.51.100.7")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
