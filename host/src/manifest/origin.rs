//! Allowlisted origins: `https://host[:port]`, with a subdomain wildcard
//! only as a leading `*.` (`https://*.partner.example` matches
//! `api.partner.example`, not `partner.example`). Scheme, host and port
//! must match exactly; no path, query or user info.

use std::fmt;

use serde::Serialize;

/// One allowlisted origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// `https` (or `http`, which only a test-only host policy accepts).
    pub scheme: String,
    /// Lowercase host name, possibly starting with `*.`.
    pub host: String,
    /// Port (default 443 / 80).
    pub port: u16,
}

impl Origin {
    /// Parses `https://host[:port]` as written in a manifest.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let text = text.trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("`{text}` is not an origin: write it as https://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => return Err(format!("`{text}`: scheme `{other}` is not allowed, use https")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "`{text}`: give only scheme, host and port (no path, query or user)"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(']') || p.chars().all(|c| c.is_ascii_digit()) => {
                let port: u16 = p.parse().map_err(|_| format!("`{text}`: port `{p}` is not a number"))?;
                (h, port)
            }
            _ => (rest, default_port),
        };
        let host = host.to_ascii_lowercase();
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return Err(format!("`{text}`: give a host name, not an IP address"));
        }
        let name = host.strip_prefix("*.").unwrap_or(&host);
        if name.contains('*') {
            return Err(format!("`{text}`: a wildcard is only allowed as a leading `*.`"));
        }
        let labels: Vec<&str> = name.split('.').collect();
        let valid = labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !valid || name.len() > 253 {
            return Err(format!("`{text}`: `{host}` is not a valid host name"));
        }
        if host.starts_with("*.") && labels.len() < 2 {
            return Err(format!(
                "`{text}`: a wildcard must cover a subdomain of a registered domain (*.example.com)"
            ));
        }
        Ok(Origin { scheme, host, port })
    }

    /// True when a request to `scheme://host:port` is covered.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if !self.scheme.eq_ignore_ascii_case(scheme) || self.port != port {
            return false;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self.host.strip_prefix("*.") {
            Some(domain) => {
                host.len() > domain.len() + 1
                    && host.ends_with(domain)
                    && host[..host.len() - domain.len()].ends_with('.')
            }
            None => host == self.host,
        }
    }

    /// True for a wildcard origin.
    pub fn is_wildcard(&self) -> bool {
        self.host.starts_with("*.")
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let o = Origin::parse("https://API.Partner.example").unwrap();
        assert_eq!(
            (o.scheme.as_str(), o.host.as_str(), o.port),
            ("https", "api.partner.example", 443)
        );
        assert_eq!(Origin::parse("https://api.partner.example:8443/").unwrap().port, 8443);
        for bad in [
            "api.partner.example",
            "ftp://x.example",
            "https://x.example/path",
            "https://user@x.example",
            "https://10.0.0.1",
            "https://[::1]",
            "https://a.*.example",
            "https://*.com",
            "https://x.example:99999",
            "https://-bad.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn matching_is_exact() {
        let o = Origin::parse("https://api.partner.example").unwrap();
        assert!(o.matches("https", "api.partner.example", 443));
        assert!(o.matches("HTTPS", "API.partner.example.", 443));
        assert!(!o.matches("http", "api.partner.example", 443));
        assert!(!o.matches("https", "api.partner.example", 8443));
        assert!(!o.matches("https", "evil.partner.example", 443));
        assert!(!o.matches("https", "api.partner.example.evil.com", 443));
        let w = Origin::parse("https://*.partner.example").unwrap();
        assert!(w.matches("https", "eu.api.partner.example", 443));
        assert!(!w.matches("https", "partner.example", 443));
        assert!(!w.matches("https", "evilpartner.example", 443));
    }
}
