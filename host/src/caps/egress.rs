//! Where plugins' outbound HTTP may connect. A granted host *name* may lead only to
//! public addresses: the HTTP client's resolver looks the name up once, refuses it if
//! any address is loopback, private, link-local, CGNAT, multicast, unspecified,
//! broadcast, reserved or a cloud metadata endpoint (also when hidden in an IPv4-mapped,
//! NAT64 or 6to4 IPv6 address), and hands the client exactly the checked addresses, so
//! the connection goes where the check looked (no second lookup to rebind).
//!
//! Loopback is reachable only when the grant names it: an IP literal (the URL's host
//! must then equal a granted literal, so it is explicit) or `localhost`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;

/// A name that resolves to an address plugins may not reach by name.
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} resolves to {addr}, a {kind} address; plugins reach only public addresses by name (grant the IP literal or \"localhost\" to reach a local service)"
)]
pub struct Refused {
    /// The name looked up.
    pub host: String,
    /// The first refused address.
    pub addr: IpAddr,
    /// What kind of address it is.
    pub kind: &'static str,
}

/// `None` for a public address, else what kind of non-public address `ip` is.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        _ if ip.is_broadcast() => "broadcast",
        (0, ..) => "unspecified",
        (127, ..) => "loopback",
        (10, ..) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (100, 64..=127, _) => "shared (CGNAT)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "IETF protocol",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("cloud metadata");
    }
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => Some("unspecified"),
        [0, 0, 0, 0, 0, 0, 0, 1] => Some("loopback"),
        // IPv4-mapped and IPv4-compatible: judge the IPv4 address inside.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => non_public_v4(embedded(hi, lo)),
        // NAT64 (well-known prefix): the IPv4 address inside.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => non_public_v4(embedded(hi, lo)),
        [0x64, 0xff9b, 1, ..] => Some("private"),
        // 6to4: the IPv4 address in bits 16..48.
        [0x2002, hi, lo, ..] => non_public_v4(embedded(hi, lo)),
        [0x2001, 0, ..] => Some("Teredo tunnel"),
        [0x2001, 0xdb8, ..] => Some("documentation"),
        [0x100, 0, 0, 0, ..] => Some("reserved"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("private"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("link-local"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("private"),
        [first, ..] if first & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
}

/// Whether `host` is `localhost` (with or without the root's trailing dot).
fn is_localhost(host: &str) -> bool {
    host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

/// The addresses of `host` a plugin may connect to: all of them, or the first refusal.
pub fn check(host: &str, addrs: Vec<IpAddr>) -> Result<Vec<IpAddr>, Refused> {
    let local = is_localhost(host);
    for &addr in &addrs {
        match non_public(addr) {
            None => {}
            Some("loopback") if local => {}
            Some(kind) => return Err(Refused { host: host.to_owned(), addr, kind }),
        }
    }
    Ok(addrs)
}

/// The plugins' HTTP client's resolver: `overrides` first (names fixed to addresses,
/// for tests; still checked), then the system's resolver; then [`check`].
#[derive(Debug, Default)]
pub struct GuardedResolver {
    overrides: HashMap<String, Vec<IpAddr>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let fixed = self.overrides.get(host.trim_end_matches('.')).cloned();
        Box::pin(async move {
            let addrs: Vec<IpAddr> = match fixed {
                Some(addrs) => addrs,
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect(),
            };
            let addrs = check(&host, addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The client plugins' requests go through: no redirects (a redirect could leave the
/// granted hosts), no proxy (the address check must see the real destination), the
/// guarded resolver.
pub fn client(overrides: HashMap<String, Vec<IpAddr>>) -> anyhow::Result<reqwest::Client> {
    let overrides = overrides.into_iter().map(|(k, v)| (k.trim_end_matches('.').to_ascii_lowercase(), v)).collect();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { overrides }))
        .build()
        .context("building the HTTP client")
}

/// The refusal inside a failed request, if that is why it failed.
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        let refused = [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.255", "shared (CGNAT)"),
            ("169.254.1.1", "link-local"),
            ("169.254.169.254", "cloud metadata"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("2002:7f00:1::", "loopback"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
        ];
        for (ip, kind) in refused {
            assert_eq!(non_public(ip.parse().unwrap()), Some(kind), "{ip}");
        }
        for ip in ["1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(non_public(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn names_may_lead_to_loopback_only_when_they_are_localhost() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let public: IpAddr = "1.1.1.1".parse().unwrap();
        assert!(check("localhost", vec![lo]).is_ok());
        assert!(check("LOCALHOST.", vec![lo, "::1".parse().unwrap()]).is_ok());
        assert!(check("localhost", vec!["10.0.0.1".parse().unwrap()]).is_err());
        let e = check("rebind.example", vec![public, lo]).unwrap_err();
        assert_eq!(e.addr, lo);
        assert!(e.to_string().contains("rebind.example resolves to 127.0.0.1, a loopback address"), "{e}");
        assert!(check("foo.localhost", vec![lo]).is_err());
        assert_eq!(check("example.com", vec![public]).unwrap(), [public]);
    }
}
