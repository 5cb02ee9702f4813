//! Whose word the client address is taken on. `X-Forwarded-For` is a list
//! anyone can start: only the entries our own proxies appended are true. So
//! the address is read from the right, skipping our proxies, and only when
//! the connection itself comes from one of them.
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl Default for TrustedProxies {
    /// A proxy on the same machine (the usual nginx or Caddy in front).
    fn default() -> Self {
        TrustedProxies(vec![
            "127.0.0.0/8".parse().expect("valid"),
            "::1/128".parse().expect("valid"),
        ])
    }
}

impl TrustedProxies {
    /// Addresses (`10.0.0.7`) or networks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|s| {
                let s = s.as_ref().trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an IP address or network (CIDR)"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy;
    /// then the first hop, from the right of `X-Forwarded-For`, that is not
    /// one. A hop that is not an address ends the walk at the hop before it.
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_forged_leftmost_entry_is_not_the_client() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "127.0.0.1"]).unwrap();
        let via = |peer: &str, xff: &[&str]| t.client(ip(peer), xff.iter().copied()).to_string();
        // The attacker wrote 1.2.3.4; our proxy appended the real address.
        assert_eq!(via("127.0.0.1", &["1.2.3.4, 203.0.113.9"]), "203.0.113.9");
        // Two proxies of ours, in two headers.
        assert_eq!(
            via("127.0.0.1", &["1.2.3.4, 203.0.113.9", "10.1.1.1"]),
            "203.0.113.9"
        );
        // A connection straight from outside: its header is ignored.
        assert_eq!(via("198.51.100.2", &["127.0.0.1"]), "198.51.100.2");
        // Garbage stops the walk at the last proxy.
        assert_eq!(via("127.0.0.1", &["1.2.3.4, junk, 10.0.0.5"]), "10.0.0.5");
        assert_eq!(via("::ffff:127.0.0.1", &["203.0.113.9"]), "203.0.113.9");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::default().contains(ip("::1")));
    }
}
