//! IPv4 CIDR arithmetic for NetworkPolicy `ipBlock`s: which blocks contain an address, and
//! which may hold pod addresses.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Address space pod networks are usually drawn from: RFC 1918 and RFC 6598.
/// (`new_assert` checks the prefix length when the constant is evaluated, at compile time.)
const POD_SPACE: [Ipv4Net; 4] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10),
];

/// `a.b.c.d/n` (host bits cleared, as the API server accepts them set), or a bare address
/// as `/32`. `None` for anything else (IPv6 included).
fn parse(text: &str) -> Option<Ipv4Net> {
    let text = text.trim();
    if text.contains('/') {
        text.parse::<Ipv4Net>().ok().map(|n| n.trunc())
    } else {
        text.parse::<Ipv4Addr>().ok().map(Ipv4Net::from)
    }
}

/// The addresses both hold, if any (CIDR blocks nest or are disjoint).
fn intersect(a: Ipv4Net, b: Ipv4Net) -> Option<Ipv4Net> {
    if a.contains(&b) {
        Some(b)
    } else if b.contains(&a) {
        Some(a)
    } else {
        None
    }
}

/// Whether an IPv6 CIDR is the whole IPv6 space.
fn is_all_v6(cidr: &str) -> bool {
    cidr.split_once('/')
        .is_some_and(|(a, p)| p == "0" && a.parse::<std::net::Ipv6Addr>().is_ok())
}

/// Whether an `ipBlock` lets `ip` through: its CIDR contains it and no `except` does.
pub(super) fn block_allows(cidr: &str, except: &[String], ip: Ipv4Addr) -> bool {
    parse(cidr).is_some_and(|net| net.contains(&ip))
        && !except
            .iter()
            .filter_map(|e| parse(e))
            .any(|e| e.contains(&ip))
}

/// Whether an ingress `ipBlock` may hold pod addresses: `::/0`, or an IPv4 block overlapping
/// the usual pod address space where no `except` entry removes the overlap.
pub(super) fn block_may_hold_pods(cidr: &str, except: &[String]) -> bool {
    if is_all_v6(cidr) {
        return true;
    }
    let Some(net) = parse(cidr) else {
        return false;
    };
    let excepts: Vec<Ipv4Net> = except.iter().filter_map(|e| parse(e)).collect();
    POD_SPACE
        .iter()
        .filter_map(|space| intersect(net, *space))
        .any(|overlap| !excepts.iter().any(|e| e.contains(&overlap)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cloud metadata address, as the rule asks about it.
    const METADATA: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

    fn net(s: &str) -> Ipv4Net {
        parse(s).unwrap()
    }

    #[test]
    fn cidrs_parse_and_normalise() {
        assert_eq!(net("10.1.2.3/8"), net("10.0.0.0/8"));
        assert_eq!(net("169.254.169.254"), net("169.254.169.254/32"));
        assert_eq!(net("0.0.0.0/0").prefix_len(), 0);
        assert!(parse("10.0.0.0/33").is_none());
        assert!(parse("::/0").is_none());
        assert!(parse("nonsense").is_none());
    }

    #[test]
    fn containment() {
        assert!(net("0.0.0.0/0").contains(&METADATA));
        assert!(net("169.254.0.0/16").contains(&METADATA));
        assert!(!net("169.254.169.0/32").contains(&METADATA));
        assert!(net("10.0.0.0/8").contains(&net("10.20.0.0/16")));
        assert!(!net("10.20.0.0/16").contains(&net("10.0.0.0/8")));
        assert!(!net("10.0.0.0/8").contains(&net("11.0.0.0/16")));
        assert_eq!(
            intersect(net("0.0.0.0/0"), net("10.0.0.0/8")),
            Some(net("10.0.0.0/8"))
        );
        assert_eq!(intersect(net("10.0.0.0/8"), net("192.168.0.0/16")), None);
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
        let private: Vec<String> = POD_SPACE.iter().map(ToString::to_string).collect();
        assert!(!block_may_hold_pods("0.0.0.0/0", &private));
        assert!(block_may_hold_pods("0.0.0.0/0", &private[..3]));
    }
}
