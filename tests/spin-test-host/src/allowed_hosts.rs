//! `allowed_outbound_hosts` matching for Redis addresses, after Spin's outbound-networking rules:
//! an entry is `scheme://host[:port]`; scheme may be `*`; host may be `*` or `*.suffix`; port may be
//! `*`, a range `a..b` (end exclusive), or omitted for the scheme's default port. Spin checks a Redis
//! address with `check_url(address, "redis")` (crates/factor-outbound-redis/src/allowed_hosts.rs).

use anyhow::{anyhow, bail, Result};

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Suffix(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
    Exact(u16),
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "redis" => Some(6379),
        "rediss" => Some(6380),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The parts of a URL this matching needs: scheme, host, port (userinfo and path dropped).
fn split_url(url: &str) -> Result<(String, String, Option<String>)> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| anyhow!("{url:?} has no scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| anyhow!("bad IPv6 host in {url:?}"))?;
        (host.to_owned(), after.strip_prefix(':').map(str::to_owned))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.to_owned())),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        bail!("{url:?} has no host");
    }
    Ok((scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), port))
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<AllowedHost> {
        let (scheme, host, port) = split_url(entry)?;
        let scheme = (scheme != "*").then_some(scheme);
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostPattern::Suffix(suffix.to_owned())
        } else {
            HostPattern::Exact(host)
        };
        let port = match port.as_deref() {
            Some("*") => PortPattern::Any,
            Some(p) if p.contains("..") => {
                let (a, b) = p.split_once("..").unwrap();
                PortPattern::Range(a.parse()?, b.parse()?)
            }
            Some(p) => PortPattern::Exact(p.parse().map_err(|_| anyhow!("bad port {p:?} in {entry:?}"))?),
            None => match scheme.as_deref().and_then(default_port) {
                Some(p) => PortPattern::Exact(p),
                None => bail!("{entry:?} must name a port: its scheme has no default"),
            },
        };
        Ok(AllowedHost { scheme, host, port })
    }

    /// Whether a URL the component wants to reach is covered by this entry.
    pub fn allows(&self, url: &str) -> bool {
        let Ok((scheme, host, port)) = split_url(url) else { return false };
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(p) => p,
                Err(_) => return false,
            },
            None => match default_port(&scheme) {
                Some(p) => p,
                None => return false,
            },
        };
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == scheme);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Suffix(suffix) => host.ends_with(&format!(".{suffix}")),
            HostPattern::Exact(h) => *h == host,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(a, b) => (a..b).contains(&port),
            PortPattern::Exact(p) => p == port,
        };
        scheme_ok && host_ok && port_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entry: &str, url: &str) -> bool {
        AllowedHost::parse(entry).unwrap().allows(url)
    }

    #[test]
    fn exact_entries() {
        assert!(allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"));
        assert!(allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0"));
        assert!(allowed("redis://127.0.0.1:6379", "redis://:secret@127.0.0.1:6379"));
        assert!(allowed("redis://127.0.0.1", "redis://127.0.0.1:6379"), "default port");
        assert!(!allowed("redis://127.0.0.1:6379", "redis://127.0.0.1:6380"), "wrong port");
        assert!(!allowed("redis://127.0.0.1:6379", "redis://127.0.0.2:6379"), "wrong host");
        assert!(!allowed("redis://127.0.0.1:6379", "rediss://127.0.0.1:6379"), "wrong scheme");
        assert!(!allowed("redis://127.0.0.1:6379", "not a url"));
    }

    #[test]
    fn wildcards() {
        assert!(allowed("redis://*:6379", "redis://example.com:6379"));
        assert!(allowed("*://127.0.0.1:6379", "rediss://127.0.0.1:6379"));
        assert!(allowed("redis://*.example.com:*", "redis://db.example.com:1"));
        assert!(!allowed("redis://*.example.com:*", "redis://example.com:1"));
        assert!(allowed("redis://localhost:6000..7000", "redis://localhost:6999"));
        assert!(!allowed("redis://localhost:6000..7000", "redis://localhost:7000"));
    }
}
