//! Which IP addresses a plugin may reach: only globally routable ones.
//! Loopback, private, link-local (169.254.169.254, the cloud metadata
//! service), CGNAT, multicast, unspecified, documentation and benchmark
//! ranges are refused, and so are IPv6 addresses embedding one of those
//! (IPv4-compatible, NAT64, 6to4, Teredo), every IPv4-mapped address
//! (::ffff:0:0/96) and local-use NAT64 (64:ff9b:1::/48), whose translation
//! is up to the local network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not global, or `None` when it is.
pub fn non_global_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified or \"this network\" (0.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local, e.g. cloud metadata (169.254.0.0/16)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation (TEST-NET)",
        (192, 88, 99) => "6to4 relay anycast (192.88.99.0/24)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved or broadcast (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback (::1)");
    }
    let s = ip.segments();
    // Addresses that embed an IPv4 address: judge the embedded one.
    let embedded = |a: u16, b: u16| Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        let v4 = embedded(s[6], s[7]);
        // An IPv4-mapped destination is refused whatever it embeds: a socket
        // treats it as the IPv4 address, outside the IPv6 checks.
        return Some(match v4_reason(v4) {
            Some(_) if s[5] == 0xffff => "IPv4-mapped address of a non-global IPv4 address",
            None if s[5] == 0xffff => "IPv4-mapped address (::ffff:0:0/96)",
            Some(_) => "IPv4-compatible address of a non-global IPv4 address",
            None => "IPv4-compatible address (deprecated)",
        });
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return Some("local-use NAT64 (64:ff9b:1::/48)");
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return v4_reason(embedded(s[6], s[7])).map(|_| "NAT64 address of a non-global IPv4 address");
    }
    if s[0] == 0x2002 {
        return v4_reason(embedded(s[1], s[2])).map(|_| "6to4 address of a non-global IPv4 address");
    }
    Some(match s[0] {
        0x2001 if s[1] == 0 => "Teredo tunnel (2001::/32)",
        0x2001 if s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        0xfc00..=0xfdff => "unique local (fc00::/7)",
        0xfe80..=0xfebf => "link-local (fe80::/10)",
        0xfec0..=0xfeff => "site-local (fec0::/10)",
        0xff00..=0xffff => "multicast (ff00::/8)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        non_global_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn non_global_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn every_ipv4_mapped_and_local_use_nat64_address_is_refused() {
        for ip in [
            "::ffff:8.8.8.8",
            "::ffff:93.184.216.34",
            "::ffff:0:0",
            "::ffff:ffff:ffff",
            "64:ff9b:1::808:808",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b:1::",
        ] {
            let reason = non_global_reason(ip.parse().unwrap());
            assert!(reason.is_some(), "{ip} must be refused");
        }
        assert_eq!(
            non_global_reason("::ffff:8.8.8.8".parse().unwrap()),
            Some("IPv4-mapped address (::ffff:0:0/96)")
        );
        assert_eq!(
            non_global_reason("64:ff9b:1::808:808".parse().unwrap()),
            Some("local-use NAT64 (64:ff9b:1::/48)")
        );
    }

    #[test]
    fn global_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(ip), "{ip} is global");
        }
    }
}
