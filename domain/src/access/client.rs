//! Who is on the other end of a request: the client address the throttle, the audit log and
//! `/readyz` go by, and whether the client reached Regent over HTTPS.
//!
//! Headers anyone can send (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only from
//! peers listed in the `trusted_proxies` setting, and nobody is trusted by default: otherwise
//! an attacker would pick a fresh address for every guess and walk past the throttle. Behind
//! trusted proxies, the client is the last address in `X-Forwarded-For` that is not itself a
//! trusted proxy (each proxy appends the peer it saw, so what is left of that was written by
//! the client and proves nothing).

use std::net::IpAddr;

/// Networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// A request's client as far as Regent can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub address: IpAddr,
    /// The TCP peer: the client itself, or the proxy that forwarded the request.
    pub peer: IpAddr,
    /// The request came through a trusted proxy.
    pub forwarded: bool,
    /// A trusted proxy said the client used HTTPS.
    pub https: bool,
    /// On this machine: the peer is `127.0.0.1` or `::1` itself (not another loopback
    /// address), is not a trusted proxy, and no forwarding header was sent. Someone at the
    /// server's shell; a proxy on the same host must be listed in `trusted_proxies` (or send
    /// `X-Forwarded-For`) or everyone it forwards would count as local.
    pub local: bool,
}

impl TrustedProxies {
    /// A list of addresses (`10.0.0.5`, `::1`) and networks (`10.0.0.0/8`, `fd00::/8`),
    /// separated by commas or given one by one.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut networks = Vec::new();
        for entry in entries.into_iter().flat_map(|e| e.split(',')).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let bad = || {
                format!(
                    "\"{}\" is not an IP address or network; write it like 10.0.0.5 or 10.0.0.0/8",
                    entry.chars().take(60).collect::<String>()
                )
            };
            let (address, bits) = match entry.split_once('/') {
                Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| bad())?)),
                None => (entry, None),
            };
            let address: IpAddr = address.parse().map_err(|_| bad())?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(bad());
            }
            networks.push((address, bits));
        }
        Ok(Self(networks))
    }

    /// The networks as written in the settings (`10.0.0.0/8`, a single address without `/`).
    pub fn to_strings(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(a, bits)| match (a, bits) {
                (std::net::IpAddr::V4(_), 32) | (std::net::IpAddr::V6(_), 128) => a.to_string(),
                _ => format!("{a}/{bits}"),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0
            .iter()
            .any(|(network, bits)| within(address, canonical(*network), *bits))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` and
    /// `X-Forwarded-Proto` header values (in the order received).
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
        forwarded_proto: Option<&str>,
    ) -> Client {
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let peer = canonical(peer);
        let trusted = self.contains(peer);
        let direct = Client {
            address: peer,
            peer,
            forwarded: false,
            https: false,
            local: !trusted
                && hops.is_empty()
                && (peer == IpAddr::from([127, 0, 0, 1]) || peer == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
        };
        if !trusted || hops.is_empty() {
            return direct;
        }
        let mut address = direct.address;
        for hop in hops.iter().rev() {
            let Some(hop) = parse_hop(hop) else { break };
            address = hop;
            if !self.contains(hop) {
                break;
            }
        }
        let https = forwarded_proto
            .and_then(|p| p.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        Client {
            address,
            peer,
            forwarded: true,
            https,
            local: false,
        }
    }
}

/// An `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(a) = hop.parse::<IpAddr>() {
        return Some(canonical(a));
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:10.0.0.1`) as plain IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

fn within(address: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let c = none.client(ip("203.0.113.9"), ["10.1.1.1"], Some("https"));
        assert_eq!((c.address, c.forwarded, c.https), (ip("203.0.113.9"), false, false));

        let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.168.1.5"]).unwrap();
        let c = proxies.client(ip("192.168.1.5"), ["198.51.100.7, 10.2.3.4"], Some("https"));
        assert_eq!((c.address, c.forwarded, c.https), (ip("198.51.100.7"), true, true));
        let spoofed = proxies.client(ip("10.0.0.1"), ["1.1.1.1", "198.51.100.7"], None);
        assert_eq!(
            spoofed.address,
            ip("198.51.100.7"),
            "what the client wrote itself is skipped"
        );
        let untrusted = proxies.client(ip("192.168.1.6"), ["1.1.1.1"], Some("https"));
        assert_eq!((untrusted.address, untrusted.https), (ip("192.168.1.6"), false));
        let garbage = proxies.client(ip("10.0.0.1"), ["nonsense"], None);
        assert_eq!(garbage.address, ip("10.0.0.1"));
    }

    #[test]
    fn only_127_0_0_1_itself_without_forwarding_is_local() {
        let none = TrustedProxies::default();
        assert!(none.client(ip("127.0.0.1"), [], None).local);
        assert!(none.client(ip("::1"), [], None).local);
        assert!(none.client(ip("::ffff:127.0.0.1"), [], None).local);
        assert!(
            !none.client(ip("127.0.0.2"), [], None).local,
            "another loopback address"
        );
        assert!(
            !none.client(ip("127.0.0.1"), ["203.0.113.1"], None).local,
            "a proxy on this host"
        );
        let local_proxy = TrustedProxies::parse(["127.0.0.1"]).unwrap();
        assert!(!local_proxy.client(ip("127.0.0.1"), [], None).local);
    }

    #[test]
    fn networks_parse_and_bad_entries_say_how_to_write_them() {
        let p = TrustedProxies::parse(["127.0.0.1, ::1", "fd00::/8"]).unwrap();
        assert!(p.contains(ip("127.0.0.1")) && p.contains(ip("::1")) && p.contains(ip("fd12::1")));
        assert!(p.contains(ip("::ffff:127.0.0.1")));
        assert!(!p.contains(ip("127.0.0.2")));
        assert!(TrustedProxies::parse(["0.0.0.0/0"]).unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.1/x"] {
            assert!(
                TrustedProxies::parse([bad]).unwrap_err().contains("10.0.0.0/8"),
                "{bad}"
            );
        }
        assert!(TrustedProxies::parse([""]).unwrap().is_empty());
    }
}
