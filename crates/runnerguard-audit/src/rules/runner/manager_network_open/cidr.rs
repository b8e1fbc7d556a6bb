//! IPv4 CIDR arithmetic for NetworkPolicy `ipBlock`s: which blocks contain an address, and
//! which may hold pod addresses.

use std::net::Ipv4Addr;

/// Address space pod networks are usually drawn from: RFC 1918 and RFC 6598.
const POD_SPACE: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

/// An IPv4 network: address and prefix length, host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct V4Net {
    base: u32,
    prefix: u8,
}

impl V4Net {
    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// `a.b.c.d/n`, or a bare address as `/32`. `None` for anything else (IPv6 included).
    fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().ok().filter(|p| *p <= 32)?),
            None => (text.trim(), 32),
        };
        let addr: Ipv4Addr = addr.parse().ok()?;
        Some(Self {
            base: u32::from(addr) & Self::mask(prefix),
            prefix,
        })
    }

    fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask(self.prefix) == self.base
    }

    /// Whether every address of `other` is in `self`.
    fn covers(self, other: V4Net) -> bool {
        other.prefix >= self.prefix && other.base & Self::mask(self.prefix) == self.base
    }

    /// The addresses both hold, if any (CIDR blocks nest or are disjoint).
    fn intersect(self, other: V4Net) -> Option<V4Net> {
        if self.covers(other) {
            Some(other)
        } else if other.covers(self) {
            Some(self)
        } else {
            None
        }
    }
}

/// Whether an IPv6 CIDR is the whole IPv6 space.
fn is_all_v6(cidr: &str) -> bool {
    cidr.split_once('/')
        .is_some_and(|(a, p)| p == "0" && a.parse::<std::net::Ipv6Addr>().is_ok())
}

/// Whether an `ipBlock` lets `ip` through: its CIDR contains it and no `except` does.
pub(super) fn block_allows(cidr: &str, except: &[String], ip: Ipv4Addr) -> bool {
    V4Net::parse(cidr).is_some_and(|net| net.contains(ip))
        && !except
            .iter()
            .filter_map(|e| V4Net::parse(e))
            .any(|e| e.contains(ip))
}

/// Whether an ingress `ipBlock` may hold pod addresses: `::/0`, or an IPv4 block overlapping
/// the usual pod address space where no `except` entry removes the overlap.
pub(super) fn block_may_hold_pods(cidr: &str, except: &[String]) -> bool {
    if is_all_v6(cidr) {
        return true;
    }
    let Some(net) = V4Net::parse(cidr) else {
        return false;
    };
    let excepts: Vec<V4Net> = except.iter().filter_map(|e| V4Net::parse(e)).collect();
    POD_SPACE
        .iter()
        .filter_map(|s| V4Net::parse(s))
        .filter_map(|space| net.intersect(space))
        .any(|overlap| !excepts.iter().any(|e| e.covers(overlap)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cloud metadata address, as the rule asks about it.
    const METADATA: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

    fn net(s: &str) -> V4Net {
        V4Net::parse(s).unwrap()
    }

    #[test]
    fn cidrs_parse_and_normalise() {
        assert_eq!(net("10.1.2.3/8"), net("10.0.0.0/8"));
        assert_eq!(net("169.254.169.254"), net("169.254.169.254/32"));
        assert_eq!(net("0.0.0.0/0").prefix, 0);
        assert!(V4Net::parse("10.0.0.0/33").is_none());
        assert!(V4Net::parse("::/0").is_none());
        assert!(V4Net::parse("nonsense").is_none());
    }

    #[test]
    fn containment() {
        assert!(net("0.0.0.0/0").contains(METADATA));
        assert!(net("169.254.0.0/16").contains(METADATA));
        assert!(!net("169.254.169.0/32").contains(METADATA));
        assert!(net("10.0.0.0/8").covers(net("10.20.0.0/16")));
        assert!(!net("10.20.0.0/16").covers(net("10.0.0.0/8")));
        assert!(!net("10.0.0.0/8").covers(net("11.0.0.0/16")));
        assert_eq!(
            net("0.0.0.0/0").intersect(net("10.0.0.0/8")),
            Some(net("10.0.0.0/8"))
        );
        assert_eq!(net("10.0.0.0/8").intersect(net("192.168.0.0/16")), None);
    }

    #[test]
    fn metadata_exclusions() {
        let all = "0.0.0.0/0";
        assert!(block_allows(all, &[], METADATA));
        assert!(!block_allows(all, &["169.254.169.254/32".into()], METADATA));
        assert!(!block_allows(all, &["169.254.0.0/16".into()], METADATA));
        assert!(block_allows(all, &["169.254.170.0/24".into()], METADATA));
        assert!(!block_allows("10.0.0.0/8", &[], METADATA));
        assert!(!block_allows("::/0", &[], METADATA));
    }

    #[test]
    fn ingress_blocks_and_pod_addresses() {
        assert!(block_may_hold_pods("0.0.0.0/0", &[]));
        assert!(block_may_hold_pods("10.42.0.0/16", &[]));
        assert!(block_may_hold_pods("::/0", &[]));
        assert!(!block_may_hold_pods("203.0.113.0/24", &[]));
        assert!(!block_may_hold_pods("2001:db8::/32", &[]));
        let private: Vec<String> = POD_SPACE.iter().map(|s| (*s).to_owned()).collect();
        assert!(!block_may_hold_pods("0.0.0.0/0", &private));
        assert!(block_may_hold_pods("0.0.0.0/0", &private[..3]));
    }
}
